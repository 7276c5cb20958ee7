/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-actions.h"
#include "mced-error.h"
#include "mced-names.h"

#define MAX_RECENT 4096 /* timestamps of VM-changing actions kept for the hourly limit */

typedef struct {
    const char *name;
    gboolean changes_domain;
    int op; /* McedDomainOp, or -1 */
} ActionInfo;

static const ActionInfo actions[] = {
    { "ignore", FALSE, -1 },
    { "log", FALSE, -1 },
    { "notify", FALSE, -1 },
    { "pause", TRUE, MCED_DOMAIN_OP_PAUSE },
    { "migrate", TRUE, MCED_DOMAIN_OP_MIGRATE },
    { "restart", TRUE, MCED_DOMAIN_OP_RESTART },
    { "reset", TRUE, MCED_DOMAIN_OP_RESET },
    { "reboot", TRUE, MCED_DOMAIN_OP_REBOOT },
    { "destroy", TRUE, MCED_DOMAIN_OP_DESTROY },
    { "dump", TRUE, MCED_DOMAIN_OP_DUMP },
    { "nmi", TRUE, MCED_DOMAIN_OP_NMI },
};

struct McedActions {
    McedLibvirt *libvirt; /* borrowed */
    McedLog *log;         /* borrowed */
    McedActionFunc func;
    gpointer user_data;
    McedActionSettings settings;
    GHashTable *busy;     /* uuid -> Running* */
    GQueue recent;        /* gint64* times of VM-changing actions, oldest first */
    guint migrations;
};

/* One action in flight, owning copies of its request's strings. */
typedef struct {
    McedActions *a;
    char *incident_id, *domain, *uuid, *action, *fallback, *reason;
    gboolean dry_run;
    gboolean synthetic;
    gboolean is_fallback;
    char *dump_path;
    char *then, *then_fallback; /* after a dump: the ladder's own step */
} Running;

static const ActionInfo *
lookup(const char *name)
{
    for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(actions); i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

gboolean
mced_action_is_known(const char *action)
{
    return lookup(action) != NULL;
}

gboolean
mced_action_changes_domain(const char *action)
{
    const ActionInfo *info = lookup(action);
    return info != NULL && info->changes_domain;
}

static void
running_free(Running *r)
{
    g_free(r->incident_id);
    g_free(r->domain);
    g_free(r->uuid);
    g_free(r->action);
    g_free(r->fallback);
    g_free(r->reason);
    g_free(r->dump_path);
    g_free(r->then);
    g_free(r->then_fallback);
    g_free(r);
}

static void
settings_clear(McedActionSettings *s)
{
    g_strfreev(s->migrate_peers);
    g_free(s->migrate_uri);
    g_free(s->listen_address);
    g_free(s->dump_directory);
    memset(s, 0, sizeof(*s));
}

McedActions *
mced_actions_new(McedLibvirt *libvirt, McedLog *log, McedActionFunc func, gpointer user_data)
{
    McedActions *a = g_new0(McedActions, 1);

    a->libvirt = libvirt;
    a->log = log;
    a->func = func;
    a->user_data = user_data;
    a->busy = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)running_free);
    g_queue_init(&a->recent);
    a->settings.migrate_timeout_us = G_GINT64_CONSTANT(300) * G_USEC_PER_SEC;
    a->settings.action_timeout_us = G_GINT64_CONSTANT(120) * G_USEC_PER_SEC;
    return a;
}

void
mced_actions_free(McedActions *a)
{
    if (a == NULL)
        return;
    /* Operations still running in workers hold their own references to
     * libvirt; their results are dropped (the object they report to goes). */
    g_hash_table_unref(a->busy);
    g_queue_clear_full(&a->recent, g_free);
    settings_clear(&a->settings);
    g_free(a);
}

void
mced_actions_set_settings(McedActions *a, const McedActionSettings *s)
{
    settings_clear(&a->settings);
    a->settings.migrate_peers = g_strdupv(s->migrate_peers);
    a->settings.migrate_uri = g_strdup(s->migrate_uri);
    a->settings.listen_address = g_strdup(s->listen_address);
    a->settings.migrate_timeout_us = s->migrate_timeout_us;
    a->settings.action_timeout_us = s->action_timeout_us;
    a->settings.dump_directory = g_strdup(s->dump_directory);
}

/* Logs one outcome with its MESSAGE_ID and tells the caller. */
static void
report(McedActions *a, const McedActionRequest *req, McedActionResult result, int priority,
       const char *message_id, const char *detail)
{
    const char *who = req->domain != NULL ? req->domain : req->uuid;
    static const char *const verbs[] = {
        [MCED_ACTION_RESULT_DONE] = "done",
        [MCED_ACTION_RESULT_STARTED] = "started",
        [MCED_ACTION_RESULT_DRY_RUN] = "dry run: would",
        [MCED_ACTION_RESULT_SKIPPED] = "skipped",
        [MCED_ACTION_RESULT_SUCCEEDED] = "succeeded",
        [MCED_ACTION_RESULT_FAILED] = "failed",
    };

    /* KVM_MCED_RESULT: the names docs/hooks.md and docs/dbus.md list. */
    static const char *const results[] = {
        [MCED_ACTION_RESULT_DONE] = "done",
        [MCED_ACTION_RESULT_STARTED] = "started",
        [MCED_ACTION_RESULT_DRY_RUN] = "dry-run",
        [MCED_ACTION_RESULT_SKIPPED] = "skipped",
        [MCED_ACTION_RESULT_SUCCEEDED] = "succeeded",
        [MCED_ACTION_RESULT_FAILED] = "failed",
    };

    mced_log_action(a->log, priority, message_id, req->incident_id, req->synthetic, req->domain,
                    req->uuid, req->action, results[result], detail,
                    "Action %s for domain '%s' (incident %s) %s%s%s", req->action,
                    who != NULL ? who : "?", req->incident_id != NULL ? req->incident_id : "-",
                    verbs[result], detail != NULL ? ": " : "", detail != NULL ? detail : "");
    if (a->func != NULL)
        a->func(req, result, detail, a->user_data);
}

static McedActionResult start(McedActions *a, const McedActionRequest *req, gboolean is_fallback,
                              const char *then, const char *then_fallback);

static void
on_op_done(const McedDomainOpRequest *op, const GError *error, const char *detail,
           gpointer user_data)
{
    Running *r = user_data;
    McedActions *a = r->a;
    McedActionRequest req = {
        .incident_id = r->incident_id,
        .domain = r->domain,
        .uuid = r->uuid,
        .action = r->action,
        .fallback = r->fallback,
        .reason = r->reason,
        .dry_run = r->dry_run,
        .synthetic = r->synthetic,
    };

    if (op->op == MCED_DOMAIN_OP_MIGRATE && a->migrations > 0)
        a->migrations--;
    report(a, &req, error == NULL ? MCED_ACTION_RESULT_SUCCEEDED : MCED_ACTION_RESULT_FAILED,
           error == NULL ? LOG_NOTICE : LOG_ERR,
           error == NULL ? MCED_MSGID_ACTION_SUCCEEDED : MCED_MSGID_ACTION_FAILED, detail);

    /* The domain is free again; a dump continues with the ladder's step
     * whatever its result, and any other failure runs the fallback, once. */
    g_hash_table_steal(a->busy, r->uuid);
    if (r->then != NULL) {
        g_autofree char *why = g_strdup_printf("%s; after the memory dump", r->reason);
        McedActionRequest next = req;

        next.action = r->then;
        next.fallback = r->then_fallback;
        next.reason = why;
        (void)start(a, &next, FALSE, NULL, NULL);
    } else if (error != NULL && !r->is_fallback && r->fallback != NULL
        && strcmp(r->fallback, r->action) != 0) {
        g_autofree char *why = g_strdup_printf("fallback: %s failed (%s)", r->action,
                                               detail != NULL ? detail : "no detail");
        McedActionRequest fb = req;

        fb.action = r->fallback;
        fb.fallback = NULL;
        fb.reason = why;
        (void)start(a, &fb, TRUE, NULL, NULL);
    }
    running_free(r);
}

/* Starts @req. With @then, @req is a dump and @then (with @then_fallback)
 * runs when it ends. */
static McedActionResult
start(McedActions *a, const McedActionRequest *req, gboolean is_fallback, const char *then,
      const char *then_fallback)
{
    const ActionInfo *info = lookup(req->action);
    g_autoptr(GError) error = NULL;
    McedDomainOpRequest op = { 0 };
    Running *r;

    if (info == NULL) {
        report(a, req, MCED_ACTION_RESULT_SKIPPED, LOG_ERR, MCED_MSGID_ACTION_SKIPPED,
               "unknown action");
        return MCED_ACTION_RESULT_SKIPPED;
    }
    if (!info->changes_domain) {
        if (strcmp(req->action, "ignore") != 0)
            report(a, req, MCED_ACTION_RESULT_DONE,
                   strcmp(req->action, "notify") == 0 ? LOG_WARNING : LOG_INFO, NULL,
                   req->reason);
        return MCED_ACTION_RESULT_DONE;
    }
    if (req->dry_run) {
        report(a, req, MCED_ACTION_RESULT_DRY_RUN, LOG_NOTICE, MCED_MSGID_ACTION_DRY_RUN,
               req->reason);
        if (then != NULL) {
            McedActionRequest next = *req;

            next.action = then;
            next.fallback = then_fallback;
            (void)start(a, &next, FALSE, NULL, NULL);
        }
        return MCED_ACTION_RESULT_DRY_RUN;
    }
    if (req->uuid == NULL) {
        report(a, req, MCED_ACTION_RESULT_SKIPPED, LOG_WARNING, MCED_MSGID_ACTION_SKIPPED,
               "the domain is not known to libvirt");
        return MCED_ACTION_RESULT_SKIPPED;
    }
    if (g_hash_table_contains(a->busy, req->uuid)) {
        report(a, req, MCED_ACTION_RESULT_SKIPPED, LOG_WARNING, MCED_MSGID_ACTION_SKIPPED,
               "another action is still running on the domain");
        return MCED_ACTION_RESULT_SKIPPED;
    }

    r = g_new0(Running, 1);
    r->a = a;
    r->incident_id = g_strdup(req->incident_id);
    r->domain = g_strdup(req->domain);
    r->uuid = g_strdup(req->uuid);
    r->action = g_strdup(req->action);
    r->fallback = g_strdup(req->fallback);
    r->reason = g_strdup(req->reason);
    r->is_fallback = is_fallback;
    r->synthetic = req->synthetic;
    r->then = g_strdup(then);
    r->then_fallback = g_strdup(then_fallback);
    op.op = (McedDomainOp)info->op;
    op.uuid = r->uuid;
    op.timeout_us = op.op == MCED_DOMAIN_OP_MIGRATE ? a->settings.migrate_timeout_us
                                                    : a->settings.action_timeout_us;
    if (op.op == MCED_DOMAIN_OP_DUMP) {
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
        g_autofree char *base = g_strdup_printf("%s-%s.dump", r->uuid, stamp);
        r->dump_path = g_build_filename(a->settings.dump_directory != NULL
                                            ? a->settings.dump_directory
                                            : "/var/lib/kvm-mced/dumps",
                                        base, NULL);
        op.dump_path = r->dump_path;
    }
    op.peers = (const char *const *)a->settings.migrate_peers;
    op.migrate_uri = a->settings.migrate_uri;
    op.listen_address = a->settings.listen_address;

    g_hash_table_insert(a->busy, r->uuid, r);
    if (a->libvirt == NULL || !mced_libvirt_run_op(a->libvirt, &op, on_op_done, r, &error)) {
        g_hash_table_remove(a->busy, req->uuid);
        report(a, req, MCED_ACTION_RESULT_SKIPPED, LOG_WARNING, MCED_MSGID_ACTION_SKIPPED,
               error != NULL ? error->message : "libvirt is not in use");
        return MCED_ACTION_RESULT_SKIPPED;
    }
    if (op.op == MCED_DOMAIN_OP_MIGRATE)
        a->migrations++;
    if (g_queue_get_length(&a->recent) >= MAX_RECENT)
        g_free(g_queue_pop_head(&a->recent));
    g_queue_push_tail(&a->recent, g_memdup2(&(gint64){ g_get_real_time() }, sizeof(gint64)));
    report(a, req, MCED_ACTION_RESULT_STARTED, LOG_NOTICE, MCED_MSGID_ACTION_STARTED,
           req->reason);
    return MCED_ACTION_RESULT_STARTED;
}

McedActionResult
mced_actions_request(McedActions *a, const McedActionRequest *req)
{
    g_return_val_if_fail(a != NULL && req != NULL, MCED_ACTION_RESULT_SKIPPED);
    if (req->synthetic && !req->dry_run) {
        /* A drill rehearses: it never touches a domain, whoever asks. */
        McedActionRequest rehearsal = *req;

        rehearsal.dry_run = TRUE;
        return mced_actions_request(a, &rehearsal);
    }
    if (req->dump_first && lookup(req->action) != NULL && strcmp(req->action, "dump") != 0
        && strcmp(req->action, "ignore") != 0) {
        McedActionRequest dump = *req;
        McedActionResult r;

        dump.action = "dump";
        dump.fallback = NULL;
        r = start(a, &dump, FALSE, req->action, req->fallback);
        /* Not even started: the ladder's step still gets its chance. */
        return r == MCED_ACTION_RESULT_SKIPPED ? start(a, req, FALSE, NULL, NULL) : r;
    }
    return start(a, req, FALSE, NULL, NULL);
}

guint
mced_actions_migrations_in_flight(const McedActions *a)
{
    return a->migrations;
}

guint
mced_actions_in_last_hour(McedActions *a, gint64 now_us)
{
    while (!g_queue_is_empty(&a->recent)) {
        gint64 *t = g_queue_peek_head(&a->recent);
        if (now_us - *t < G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)
            break;
        g_free(g_queue_pop_head(&a->recent));
    }
    return g_queue_get_length(&a->recent);
}

gboolean
mced_actions_busy(const McedActions *a, const char *uuid)
{
    return uuid != NULL && g_hash_table_contains(a->busy, uuid);
}

gboolean
mced_actions_incident_busy(const McedActions *a, const char *incident_id)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, a->busy);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        if (g_strcmp0(((const Running *)value)->incident_id, incident_id) == 0)
            return TRUE;
    return FALSE;
}
