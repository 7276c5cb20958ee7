/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "mced-log.h"
#include "mced-names.h"

struct McedLog {
    gboolean to_journal;
    gboolean to_stderr;
};

McedLog *
mced_log_new(gboolean to_journal, gboolean to_stderr)
{
    McedLog *log = g_new0(McedLog, 1);

    log->to_journal = to_journal;
    log->to_stderr = to_stderr;
    return log;
}

void
mced_log_free(McedLog *log)
{
    g_free(log);
}

typedef struct {
    GPtrArray *fields; /* char* "KEY=value" */
} Fields;

static void
add_field(Fields *f, const char *key, const char *value)
{
    if (value == NULL)
        return;
    g_ptr_array_add(f->fields, g_strdup_printf("%s=%s", key, value));
}

static void G_GNUC_PRINTF(3, 4)
add_fieldf(Fields *f, const char *key, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *value = NULL;

    va_start(ap, fmt);
    value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    add_field(f, key, value);
}

static void
send_fields(McedLog *log, Fields *f)
{
    g_autofree struct iovec *iov = NULL;

    if (!log->to_journal)
        return;
    iov = g_new(struct iovec, f->fields->len);
    for (guint i = 0; i < f->fields->len; i++) {
        iov[i].iov_base = f->fields->pdata[i];
        iov[i].iov_len = strlen(f->fields->pdata[i]);
    }
    /* Nothing to do if the journal is away: the stderr line still says it. */
    (void)sd_journal_sendv(iov, (int)f->fields->len);
}

static int
incident_priority(McedIncidentEvent event, const McedIncident *inc)
{
    switch (event) {
    case MCED_INCIDENT_EVENT_UPDATED:
        return LOG_INFO;
    case MCED_INCIDENT_EVENT_CLOSED:
    case MCED_INCIDENT_EVENT_MERGED:
        return LOG_NOTICE;
    case MCED_INCIDENT_EVENT_OPENED:
        break;
    }
    switch (inc->klass) {
    case MCED_CLASS_FATAL:
        return LOG_CRIT;
    case MCED_CLASS_GUEST:
    case MCED_CLASS_HOST:
        return LOG_ERR;
    case MCED_CLASS_CORRECTED:
    case _MCED_CLASS_MAX:
    case _MCED_CLASS_INVALID:
        break;
    }
    return LOG_WARNING;
}

static const char *
event_verb(McedIncidentEvent event)
{
    switch (event) {
    case MCED_INCIDENT_EVENT_OPENED:
        return "opened";
    case MCED_INCIDENT_EVENT_UPDATED:
        return "updated";
    case MCED_INCIDENT_EVENT_CLOSED:
        return "closed";
    case MCED_INCIDENT_EVENT_MERGED:
        return "merged";
    }
    return "changed";
}

static const char *
event_message_id(McedIncidentEvent event)
{
    switch (event) {
    case MCED_INCIDENT_EVENT_OPENED:
        return MCED_MSGID_INCIDENT_OPENED;
    case MCED_INCIDENT_EVENT_UPDATED:
        return MCED_MSGID_INCIDENT_UPDATED;
    case MCED_INCIDENT_EVENT_CLOSED:
        return MCED_MSGID_INCIDENT_CLOSED;
    case MCED_INCIDENT_EVENT_MERGED:
        return MCED_MSGID_INCIDENT_MERGED;
    }
    return NULL;
}

void
mced_log_incident(McedLog *log, McedIncidentEvent event, const McedIncident *inc)
{
    Fields f = { g_ptr_array_new_with_free_func(g_free) };
    g_autofree char *cpus = mced_incident_join_values(inc->host_cpus, FALSE);
    g_autofree char *vcpus = mced_incident_join_values(inc->vcpus, FALSE);
    g_autofree char *addresses = mced_incident_join_values(inc->addresses, TRUE);
    g_autofree char *who = NULL;
    g_autofree char *message = NULL;
    const char *klass = mced_incident_class_to_string(inc->klass);
    const char *severity = mced_severity_to_string(inc->severity);
    const char *disposition = mced_disposition_to_string(inc->disposition);
    int priority = incident_priority(event, inc);

    /* Domain names come from QEMU command lines: quote them, and let the
     * journal field carry the exact bytes. */
    if (inc->vm != NULL && inc->vm->name != NULL)
        who = g_strdup_printf("domain '%s'", inc->vm->name);
    else if (inc->vm != NULL && inc->vm->uuid != NULL)
        who = g_strdup_printf("domain %s", inc->vm->uuid);
    else
        who = g_strdup("the host");
    if (event == MCED_INCIDENT_EVENT_MERGED)
        message = g_strdup_printf("%sMachine-check incident %s for the host merged into incident %s: "
                                  "an error attributed to a domain followed within the window",
                                  inc->synthetic ? "[drill] " : "", inc->id, inc->merged_into);
    else
        message = g_strdup_printf("%sMachine-check incident %s %s for %s: %s, %s%s%s, %u observation%s%s%s",
                              inc->synthetic ? "[drill] " : "", inc->id, event_verb(event), who,
                              klass, severity != NULL ? severity : "unknown severity",
                              disposition != NULL ? ", " : "", disposition != NULL ? disposition : "",
                              inc->n_observations, inc->n_observations == 1 ? "" : "s",
                              cpus != NULL ? ", host CPU " : "", cpus != NULL ? cpus : "");

    add_field(&f, "MESSAGE_ID", event_message_id(event));
    add_field(&f, "MESSAGE", message);
    add_fieldf(&f, "PRIORITY", "%d", priority);
    add_field(&f, "KVM_MCED_EVENT", event_verb(event));
    add_field(&f, "KVM_MCED_INCIDENT", inc->id);
    add_field(&f, "KVM_MCED_MERGED_INTO", inc->merged_into);
    if (inc->vm != NULL) {
        add_field(&f, "KVM_MCED_DOMAIN", inc->vm->name);
        add_field(&f, "KVM_MCED_DOMAIN_UUID", inc->vm->uuid);
        if (inc->vm->pid > 0)
            add_fieldf(&f, "KVM_MCED_QEMU_PID", "%" G_GINT64_FORMAT, inc->vm->pid);
    }
    add_field(&f, "KVM_MCED_CLASS", klass);
    add_field(&f, "KVM_MCED_SEVERITY", severity);
    add_field(&f, "KVM_MCED_DISPOSITION", disposition);
    add_field(&f, "KVM_MCED_ERROR_TYPE", inc->error_type);
    add_field(&f, "KVM_MCED_HOST_CPU", cpus);
    add_field(&f, "KVM_MCED_VCPU", vcpus);
    add_field(&f, "KVM_MCED_ADDRESS", addresses);
    add_fieldf(&f, "KVM_MCED_OBSERVATIONS", "%u", inc->n_observations);
    if (inc->synthetic)
        add_field(&f, "KVM_MCED_SYNTHETIC", "1");
    send_fields(log, &f);
    g_ptr_array_unref(f.fields);

    if (log->to_stderr)
        fprintf(stderr, "kvm-mced: %s\n", message);
}

void
mced_log_event(McedLog *log, int priority, const char *message_id, const char *fmt, ...)
{
    Fields f = { g_ptr_array_new_with_free_func(g_free) };
    g_autofree char *message = NULL;
    va_list ap;

    va_start(ap, fmt);
    message = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    add_field(&f, "MESSAGE_ID", message_id);
    add_field(&f, "MESSAGE", message);
    add_fieldf(&f, "PRIORITY", "%d", priority);
    send_fields(log, &f);
    g_ptr_array_unref(f.fields);

    if (log->to_stderr)
        fprintf(stderr, "kvm-mced: %s\n", message);
}

void
mced_log_action(McedLog *log, int priority, const char *message_id, const char *incident,
                gboolean synthetic, const char *domain, const char *uuid, const char *action,
                const char *result, const char *detail, const char *fmt, ...)
{
    Fields f = { g_ptr_array_new_with_free_func(g_free) };
    g_autofree char *message = NULL;
    va_list ap;

    va_start(ap, fmt);
    message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (synthetic) {
        char *marked = g_strconcat("[drill] ", message, NULL);

        g_free(message);
        message = marked;
    }

    add_field(&f, "MESSAGE_ID", message_id);
    add_field(&f, "MESSAGE", message);
    add_fieldf(&f, "PRIORITY", "%d", priority);
    add_field(&f, "KVM_MCED_INCIDENT", incident);
    if (synthetic)
        add_field(&f, "KVM_MCED_SYNTHETIC", "1");
    add_field(&f, "KVM_MCED_DOMAIN", domain);
    add_field(&f, "KVM_MCED_DOMAIN_UUID", uuid);
    add_field(&f, "KVM_MCED_ACTION", action);
    add_field(&f, "KVM_MCED_RESULT", result);
    add_field(&f, "KVM_MCED_DETAIL", detail);
    send_fields(log, &f);
    g_ptr_array_unref(f.fields);

    if (log->to_stderr)
        fprintf(stderr, "kvm-mced: %s\n", message);
}
