/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "mced-bus.h"
#include "mced-domain-xml.h"
#include "mced-error.h"
#include "mced-json.h"

#define RECONNECT_FIRST_MS 500
#define RECONNECT_MAX_MS   30000

struct McedBus {
    char *address;          /* NULL: the system bus */
    sd_bus *bus;            /* NULL while the connection is lost */
    sd_bus_slot *slot;
    GSource *source;
    McedBusHandlers handlers;
    gpointer user_data;
    guint lost_idle;        /* the connection broke: tear down on the next turn */
    guint reconnect_timer;
    guint backoff_ms;
};

static void bus_lost(McedBus *b, int error);

/* ---- sd-bus on the GLib main loop ---------------------------------------- */

typedef struct {
    GSource source;
    sd_bus *bus;
    McedBus *owner;
    gpointer tag;
    GIOCondition cond; /* what the fd is polled for now */
} BusSource;

static gboolean
bus_source_prepare(GSource *s, gint *timeout)
{
    BusSource *bs = (BusSource *)s;
    int events = sd_bus_get_events(bs->bus);
    GIOCondition cond = G_IO_ERR | G_IO_HUP;
    uint64_t until = UINT64_MAX;

    if (events > 0 && (events & POLLIN) != 0)
        cond |= G_IO_IN;
    if (events > 0 && (events & POLLOUT) != 0)
        cond |= G_IO_OUT;
    /* Changing the poll set wakes the loop up: only when it changes, or
     * the loop would spin. */
    if (cond != bs->cond) {
        g_source_modify_unix_fd(s, bs->tag, cond);
        bs->cond = cond;
    }
    *timeout = -1;
    if (sd_bus_get_timeout(bs->bus, &until) >= 0 && until != UINT64_MAX) {
        /* Absolute CLOCK_MONOTONIC µs, as g_get_monotonic_time(); 0 when
         * messages are already queued. */
        guint64 now = (guint64)g_get_monotonic_time();

        if (until <= now)
            return TRUE;
        *timeout = (gint)MIN((until - now + 999) / 1000, (guint64)G_MAXINT);
    }
    return FALSE;
}

static gboolean
bus_source_check(GSource *s)
{
    BusSource *bs = (BusSource *)s;
    uint64_t until = UINT64_MAX;

    if (g_source_query_unix_fd(s, bs->tag) != 0)
        return TRUE;
    return sd_bus_get_timeout(bs->bus, &until) >= 0 && until != UINT64_MAX
           && until <= (guint64)g_get_monotonic_time();
}

static gboolean
bus_source_dispatch(GSource *s, GSourceFunc callback, gpointer user_data)
{
    BusSource *bs = (BusSource *)s;
    int r;

    /* Each call handles at most one message. */
    while ((r = sd_bus_process(bs->bus, NULL)) > 0)
        ;
    if (r < 0) {
        bus_lost(bs->owner, -r);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs bus_source_funcs = {
    .prepare = bus_source_prepare,
    .check = bus_source_check,
    .dispatch = bus_source_dispatch,
};

/* ---- helpers ----------------------------------------------------------- */

/* Root only: the policy file says so too, this holds even without it. */
static int
require_root(sd_bus_message *m, sd_bus_error *error)
{
    sd_bus_creds *creds = NULL;
    uid_t uid = (uid_t)-1;
    int r;

    r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
    if (r >= 0 && sd_bus_creds_get_euid(creds, &uid) < 0 && sd_bus_creds_get_uid(creds, &uid) < 0)
        uid = (uid_t)-1;
    sd_bus_creds_unref(creds);
    if (r < 0)
        return sd_bus_error_set_errnof(error, -r, "Cannot tell who is calling: %s",
                                       g_strerror(-r));
    if (uid != 0)
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "%s changes the daemon's state: root only",
                                 sd_bus_message_get_member(m));
    return 0;
}

static const char *
str_or_empty(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return "";
    return json_object_get_string(v);
}

static guint64
u64_of(json_object *obj, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(obj, key, &v))
        return 0;
    return (guint64)json_object_get_int64(v);
}

/* Closes the array @reply was filled with and sends it (@r: how filling
 * it went); the reply is freed either way. */
static int
close_and_send(sd_bus_message *reply, int r)
{
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(NULL, reply, NULL);
    sd_bus_message_unref(reply);
    return r;
}

/* ---- methods --------------------------------------------------------- */

static int
method_list_incidents(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    const char *domain, *klass;
    uint64_t since;
    g_autoptr(json_object) all = NULL;
    g_autoptr(GPtrArray) picked = g_ptr_array_new();
    sd_bus_message *reply = NULL;
    size_t n;
    int r;

    r = sd_bus_message_read(m, "sst", &domain, &klass, &since);
    if (r < 0)
        return r;
    /* Empty: any class. */
    if (*klass != '\0' && mced_incident_class_from_string(klass) == _MCED_CLASS_INVALID)
        return sd_bus_error_setf(error, MCED_BUS_ERROR_INVALID,
                                 "Unknown class '%s' (corrected, guest, fatal, host or empty)",
                                 klass);
    all = b->handlers.incidents(b->user_data);
    n = all != NULL ? json_object_array_length(all) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(all, i);

        if (*domain != '\0' && strcmp(str_or_empty(o, "domain"), domain) != 0
            && g_ascii_strcasecmp(str_or_empty(o, "domain_uuid"), domain) != 0)
            continue;
        if (*klass != '\0' && strcmp(str_or_empty(o, "class"), klass) != 0)
            continue;
        if (since > 0 && u64_of(o, "last_us") < since)
            continue;
        g_ptr_array_add(picked, o);
    }
    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "(sssssttub)");
    /* The newest MCED_BUS_MAX_LISTED, oldest first. */
    for (guint i = picked->len > MCED_BUS_MAX_LISTED ? picked->len - MCED_BUS_MAX_LISTED : 0;
         r >= 0 && i < picked->len; i++) {
        json_object *o = picked->pdata[i];

        json_object *syn = NULL;

        r = sd_bus_message_append(reply, "(sssssttub)", str_or_empty(o, "id"),
                                  str_or_empty(o, "domain"), str_or_empty(o, "class"),
                                  str_or_empty(o, "state"), str_or_empty(o, "severity"),
                                  (uint64_t)u64_of(o, "first_us"), (uint64_t)u64_of(o, "last_us"),
                                  (uint32_t)u64_of(o, "n_observations"),
                                  (int)(json_object_object_get_ex(o, "synthetic", &syn)
                                        && json_object_get_boolean(syn)));
    }
    return close_and_send(reply, r);
}

static int
method_get_incident(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    const char *id;
    g_autoptr(json_object) inc = NULL;
    int r;

    r = sd_bus_message_read(m, "s", &id);
    if (r < 0)
        return r;
    inc = b->handlers.incident(b->user_data, id);
    if (inc == NULL)
        return sd_bus_error_setf(error, MCED_BUS_ERROR_NOT_FOUND, "No incident '%s'", id);
    return sd_bus_reply_method_return(m, "s",
                                      json_object_to_json_string_ext(inc, MCED_JSON_PRINT_FLAGS));
}

static int
method_explain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    const char *domain;
    g_autofree char *text = NULL;
    int r;

    r = sd_bus_message_read(m, "s", &domain);
    if (r < 0)
        return r;
    if (*domain == '\0' || !g_utf8_validate(domain, -1, NULL))
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID, "Name a domain (name or UUID)");
    text = b->handlers.explain(b->user_data, domain);
    return sd_bus_reply_method_return(m, "s", text);
}

static int
method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    g_autoptr(GError) gerror = NULL;
    int r = require_root(m, error);

    if (r < 0)
        return r;
    if (!b->handlers.reload(b->user_data, &gerror))
        return sd_bus_error_setf(error, MCED_BUS_ERROR_RELOAD_FAILED,
                                 "Reload failed, the running configuration is kept: %s",
                                 gerror->message);
    return sd_bus_reply_method_return(m, NULL);
}

static int
method_list_domains(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    g_autoptr(json_object) all = b->handlers.domains(b->user_data);
    sd_bus_message *reply = NULL;
    size_t n = all != NULL ? json_object_array_length(all) : 0;
    int r;

    r = sd_bus_message_new_method_return(m, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "(ssstttt)");
    for (size_t i = 0; r >= 0 && i < n; i++) {
        json_object *o = json_object_array_get_idx(all, i);

        r = sd_bus_message_append(reply, "(ssstttt)", str_or_empty(o, "name"),
                                  str_or_empty(o, "uuid"), str_or_empty(o, "health"),
                                  (uint64_t)u64_of(o, "last_us"), (uint64_t)u64_of(o, "corrected"),
                                  (uint64_t)u64_of(o, "guest"), (uint64_t)u64_of(o, "fatal"));
    }
    return close_and_send(reply, r);
}

static int
method_acknowledge(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    g_autofree char *domain = NULL;
    const char *what;
    int r = require_root(m, error);

    if (r < 0)
        return r;
    r = sd_bus_message_read(m, "s", &what);
    if (r < 0)
        return r;
    if (*what == '\0' || !g_utf8_validate(what, -1, NULL))
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID,
                                "Name an incident id, a domain name or a UUID");
    if (!b->handlers.acknowledge(b->user_data, what, &domain))
        return sd_bus_error_setf(error, MCED_BUS_ERROR_NOT_FOUND,
                                 "No incident or domain with counters named '%s'", what);
    mced_bus_status_changed(b);
    return sd_bus_reply_method_return(m, "s", domain);
}

static int
method_drill(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    g_autoptr(GError) gerror = NULL;
    g_autofree char *id = NULL;
    g_autofree char *who = NULL;
    const char *domain, *klass_name;
    McedIncidentClass klass;
    int r = require_root(m, error);

    if (r < 0)
        return r;
    r = sd_bus_message_read(m, "ss", &domain, &klass_name);
    if (r < 0)
        return r;
    klass = mced_incident_class_from_string(klass_name);
    if (klass == _MCED_CLASS_INVALID)
        return sd_bus_error_setf(error, MCED_BUS_ERROR_INVALID,
                                 "Unknown class '%s': corrected, guest, fatal or host",
                                 klass_name);
    if (klass == MCED_CLASS_HOST && *domain != '\0')
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID,
                                "A host drill is about the host: name no domain");
    if (klass != MCED_CLASS_HOST && *domain == '\0')
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID, "Name the domain to drill");
    who = g_strdup_printf("drill asked for on D-Bus by %s",
                          sd_bus_message_get_sender(m) != NULL ? sd_bus_message_get_sender(m)
                                                               : "a direct connection");
    id = b->handlers.drill(b->user_data, klass == MCED_CLASS_HOST ? NULL : domain, klass, who,
                           &gerror);
    if (id == NULL)
        return sd_bus_error_set(error,
                                g_error_matches(gerror, MCED_ERROR, MCED_ERROR_NOT_FOUND)
                                    ? MCED_BUS_ERROR_NOT_FOUND
                                    : SD_BUS_ERROR_FAILED,
                                gerror->message);
    return sd_bus_reply_method_return(m, "s", id);
}

static int
method_note_domain_event(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
    static const char *const operations[] = {
        "prepare", "start", "started", "stopped", "release",
        "migrate", "restore", "reconnect", "attach",
    };
    McedBus *b = userdata;
    const char *name, *uuid, *operation, *sub;
    gboolean known = FALSE;
    int r = require_root(m, error);

    if (r < 0)
        return r;
    r = sd_bus_message_read(m, "ssss", &name, &uuid, &operation, &sub);
    if (r < 0)
        return r;
    for (gsize i = 0; i < G_N_ELEMENTS(operations); i++)
        known = known || strcmp(operation, operations[i]) == 0;
    if (*name == '\0' || strlen(name) > 1024)
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID,
                                "Name the domain (at most 1024 bytes)");
    if (*uuid != '\0' && !mced_uuid_is_valid(uuid))
        return sd_bus_error_set(error, MCED_BUS_ERROR_INVALID,
                                "The UUID must look like 6695eb01-f6a4-8304-79aa-97f2502e193f");
    if (!known)
        return sd_bus_error_setf(error, MCED_BUS_ERROR_INVALID,
                                 "Unknown libvirt hook operation '%s'", operation);
    if (strcmp(sub, "begin") != 0 && strcmp(sub, "end") != 0 && strcmp(sub, "-") != 0)
        return sd_bus_error_setf(error, MCED_BUS_ERROR_INVALID,
                                 "Unknown libvirt hook sub-operation '%s'", sub);
    b->handlers.domain_event(b->user_data, name, *uuid != '\0' ? uuid : NULL, operation, sub);
    return sd_bus_reply_method_return(m, NULL);
}

/* ---- properties --------------------------------------------------------- */

static int
property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
             sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
    McedBus *b = userdata;
    McedBusStatus st = { 0 };

    if (strcmp(property, "Version") == 0)
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
    b->handlers.status(b->user_data, &st);
    if (strcmp(property, "Health") == 0)
        return sd_bus_message_append(reply, "s", st.health != NULL ? st.health : "ok");
    if (strcmp(property, "OpenIncidents") == 0)
        return sd_bus_message_append(reply, "u", (uint32_t)st.open_incidents);
    if (strcmp(property, "DomainsAffected") == 0)
        return sd_bus_message_append(reply, "u", (uint32_t)st.domains_affected);
    if (strcmp(property, "DryRun") == 0)
        return sd_bus_message_append(reply, "b", (int)st.dry_run);
    if (strcmp(property, "Source") == 0)
        return sd_bus_message_append(reply, "s", st.source != NULL ? st.source : "");
    if (strcmp(property, "SourceState") == 0)
        return sd_bus_message_append(reply, "s", st.source_state != NULL ? st.source_state : "");
    return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_PROPERTY, "Unknown property %s",
                             property);
}

#define CHANGES SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
#define OPEN    SD_BUS_VTABLE_UNPRIVILEGED

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Health", "s", property_get, 0, CHANGES),
    SD_BUS_PROPERTY("OpenIncidents", "u", property_get, 0, CHANGES),
    SD_BUS_PROPERTY("DomainsAffected", "u", property_get, 0, CHANGES),
    SD_BUS_PROPERTY("DryRun", "b", property_get, 0, CHANGES),
    SD_BUS_PROPERTY("Source", "s", property_get, 0, CHANGES),
    SD_BUS_PROPERTY("SourceState", "s", property_get, 0, CHANGES),
    SD_BUS_METHOD_WITH_ARGS("ListIncidents",
                            SD_BUS_ARGS("s", domain, "s", class, "t", since_usec),
                            SD_BUS_RESULT("a(sssssttub)", incidents), method_list_incidents,
                            OPEN),
    SD_BUS_METHOD_WITH_ARGS("GetIncident", SD_BUS_ARGS("s", id), SD_BUS_RESULT("s", json),
                            method_get_incident, OPEN),
    SD_BUS_METHOD_WITH_ARGS("Explain", SD_BUS_ARGS("s", domain), SD_BUS_RESULT("s", text),
                            method_explain, OPEN),
    SD_BUS_METHOD_WITH_ARGS("ListDomains", SD_BUS_NO_ARGS,
                            SD_BUS_RESULT("a(ssstttt)", domains), method_list_domains, OPEN),
    SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_reload, OPEN),
    SD_BUS_METHOD_WITH_ARGS("Acknowledge", SD_BUS_ARGS("s", what), SD_BUS_RESULT("s", domain),
                            method_acknowledge, OPEN),
    SD_BUS_METHOD_WITH_ARGS("Drill", SD_BUS_ARGS("s", domain, "s", class),
                            SD_BUS_RESULT("s", id), method_drill, OPEN),
    SD_BUS_METHOD_WITH_ARGS("NoteDomainEvent",
                            SD_BUS_ARGS("s", name, "s", uuid, "s", operation, "s",
                                        sub_operation),
                            SD_BUS_NO_RESULT, method_note_domain_event, OPEN),
    SD_BUS_SIGNAL_WITH_ARGS("IncidentChanged",
                            SD_BUS_ARGS("s", id, "s", event, "s", domain, "s", class, "b",
                                        synthetic),
                            0),
    SD_BUS_SIGNAL_WITH_ARGS("ActionChanged",
                            SD_BUS_ARGS("s", incident, "s", domain, "s", action, "s", result,
                                        "s", detail, "b", synthetic),
                            0),
    SD_BUS_VTABLE_END,
};

/* ---- lifecycle ------------------------------------------------------------ */

/* Connects, exports the manager, owns the name and hooks the connection
 * into the main loop. */
static gboolean
bus_connect(McedBus *b, GError **error)
{
    BusSource *bs;
    int r;

    if (b->address == NULL) {
        r = sd_bus_open_system(&b->bus);
    } else {
        r = sd_bus_new(&b->bus);
        if (r >= 0)
            r = sd_bus_set_address(b->bus, b->address);
        if (r >= 0)
            r = sd_bus_set_bus_client(b->bus, 1);
        if (r >= 0)
            r = sd_bus_start(b->bus);
    }
    if (r < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot connect to the %s bus: %s",
                    b->address != NULL ? b->address : "system", g_strerror(-r));
        b->bus = sd_bus_unref(b->bus);
        return FALSE;
    }
    r = sd_bus_add_object_vtable(b->bus, &b->slot, MCED_BUS_PATH, MCED_BUS_INTERFACE,
                                 manager_vtable, b);
    if (r >= 0)
        r = sd_bus_request_name(b->bus, MCED_BUS_NAME, 0);
    if (r < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot own %s on the bus: %s",
                    MCED_BUS_NAME, g_strerror(-r));
        b->slot = sd_bus_slot_unref(b->slot);
        b->bus = sd_bus_flush_close_unref(b->bus);
        return FALSE;
    }
    bs = (BusSource *)g_source_new(&bus_source_funcs, sizeof(BusSource));
    bs->bus = b->bus;
    bs->owner = b;
    bs->tag = g_source_add_unix_fd(&bs->source, sd_bus_get_fd(b->bus), G_IO_IN);
    bs->cond = G_IO_IN;
    g_source_set_name(&bs->source, "sd-bus");
    g_source_attach(&bs->source, NULL);
    b->source = &bs->source;
    return TRUE;
}

static void
bus_disconnect(McedBus *b)
{
    if (b->source != NULL) {
        g_source_destroy(b->source);
        g_clear_pointer(&b->source, g_source_unref);
    }
    b->slot = sd_bus_slot_unref(b->slot);
    if (b->bus != NULL)
        b->bus = sd_bus_flush_close_unref(b->bus);
}

static gboolean
on_reconnect(gpointer user_data)
{
    McedBus *b = user_data;
    g_autoptr(GError) error = NULL;

    b->reconnect_timer = 0;
    if (!bus_connect(b, &error)) {
        /* Quietly: the loss was reported, the return will be. */
        b->backoff_ms = MIN(b->backoff_ms * 2, RECONNECT_MAX_MS);
        b->reconnect_timer = g_timeout_add(b->backoff_ms, on_reconnect, b);
        return G_SOURCE_REMOVE;
    }
    b->backoff_ms = 0;
    if (b->handlers.connection != NULL)
        b->handlers.connection(b->user_data, TRUE,
                               b->address != NULL ? b->address : "the system bus");
    mced_bus_status_changed(b);
    return G_SOURCE_REMOVE;
}

static gboolean
on_lost_idle(gpointer user_data)
{
    McedBus *b = user_data;

    b->lost_idle = 0;
    bus_disconnect(b);
    b->backoff_ms = RECONNECT_FIRST_MS;
    b->reconnect_timer = g_timeout_add(b->backoff_ms, on_reconnect, b);
    return G_SOURCE_REMOVE;
}

/* The bus went away (dbus-daemon restarted, say): say so, drop the
 * connection on the next turn (not from inside its own dispatch), and
 * connect again with a doubling wait. */
static void
bus_lost(McedBus *b, int error)
{
    g_autofree char *why = g_strdup_printf("connection lost: %s", g_strerror(error));

    if (b->lost_idle != 0 || b->reconnect_timer != 0)
        return;
    if (b->handlers.connection != NULL)
        b->handlers.connection(b->user_data, FALSE, why);
    b->lost_idle = g_idle_add(on_lost_idle, b);
}

McedBus *
mced_bus_new(const char *address, const McedBusHandlers *handlers, gpointer user_data,
             GError **error)
{
    g_autoptr(McedBus) b = g_new0(McedBus, 1);

    g_return_val_if_fail(handlers != NULL, NULL);
    b->handlers = *handlers;
    b->user_data = user_data;
    b->address = address == NULL || strcmp(address, "system") == 0 ? NULL : g_strdup(address);
    if (!bus_connect(b, error)) {
        /* No bus yet (kvm-mced started first, or it restarts): keep trying. */
        b->backoff_ms = RECONNECT_FIRST_MS;
        b->reconnect_timer = g_timeout_add(b->backoff_ms, on_reconnect, b);
    }
    return g_steal_pointer(&b);
}

void
mced_bus_free(McedBus *b)
{
    if (b == NULL)
        return;
    g_clear_handle_id(&b->lost_idle, g_source_remove);
    g_clear_handle_id(&b->reconnect_timer, g_source_remove);
    bus_disconnect(b);
    g_free(b->address);
    g_free(b);
}

/* ---- notifications -------------------------------------------------------- */

static const char *const event_names[] = {
    [MCED_INCIDENT_EVENT_OPENED] = "opened",
    [MCED_INCIDENT_EVENT_UPDATED] = "updated",
    [MCED_INCIDENT_EVENT_CLOSED] = "closed",
    [MCED_INCIDENT_EVENT_MERGED] = "merged",
};

void
mced_bus_incident_changed(McedBus *b, McedIncidentEvent event, const McedIncident *inc)
{
    if (b == NULL || b->bus == NULL || inc == NULL || event < 0
        || (gsize)event >= G_N_ELEMENTS(event_names))
        return;
    (void)sd_bus_emit_signal(b->bus, MCED_BUS_PATH, MCED_BUS_INTERFACE, "IncidentChanged",
                             "ssssb", inc->id, event_names[event],
                             inc->vm != NULL && inc->vm->name != NULL ? inc->vm->name : "",
                             mced_incident_class_to_string(inc->klass), (int)inc->synthetic);
    mced_bus_status_changed(b);
}

void
mced_bus_action_changed(McedBus *b, const char *incident_id, gboolean synthetic,
                        const char *domain, const char *action, const char *result,
                        const char *detail)
{
    if (b == NULL || b->bus == NULL)
        return;
    (void)sd_bus_emit_signal(b->bus, MCED_BUS_PATH, MCED_BUS_INTERFACE, "ActionChanged",
                             "sssssb", incident_id != NULL ? incident_id : "",
                             domain != NULL ? domain : "", action != NULL ? action : "",
                             result != NULL ? result : "", detail != NULL ? detail : "",
                             (int)synthetic);
}

void
mced_bus_status_changed(McedBus *b)
{
    if (b == NULL || b->bus == NULL)
        return;
    (void)sd_bus_emit_properties_changed(b->bus, MCED_BUS_PATH, MCED_BUS_INTERFACE, "Health",
                                         "OpenIncidents", "DomainsAffected", "DryRun", "Source",
                                         "SourceState", NULL);
}
