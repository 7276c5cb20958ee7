/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <gio/gio.h>
#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "mced-error.h"
#include "mced-libvirt.h"
#include "mced-qmp.h"

/* libvirt's keepalive: a probe every 5 s, the connection dropped after 3
 * unanswered ones. */
#define KEEPALIVE_INTERVAL 5
#define KEEPALIVE_COUNT    3
#define MAX_DOMAINS        65536

struct McedLibvirt {
    gboolean closed;      /* mced_libvirt_free() was called; tasks may still hold refs */
    char *uri;
    GStrv qmp_events;
    gint64 reconnect_max_us;
    McedLibvirtCallbacks cb;
    gpointer user_data;

    virConnectPtr conn;   /* main thread only */
    GArray *callback_ids; /* int: domain event callbacks on conn */
    GArray *qmp_ids;      /* int: QEMU monitor event callbacks on conn */
    gboolean qmp;         /* raw QMP events are coming */
    gboolean connecting;
    guint reconnect_timer;
    gint64 backoff_us;

    GHashTable *domains;  /* uuid -> McedDomainInfo* */
    GHashTable *written;  /* uuid -> last health XML written */
    guint64 seq;          /* for cursors of events QEMU gave no time */
    guint64 events;       /* domain events seen: a refresh older than one keeps its state */
};

static void connect_async(McedLibvirt *lv);
static void libvirt_clear(McedLibvirt *lv);

/* libvirt prints every error to stderr by default; kvm-mced reports the
 * ones that matter itself, with context. */
static void
quiet_errors(void *opaque, virErrorPtr error)
{
}

void
mced_libvirt_init_event_loop(void)
{
    static gsize once;

    if (g_once_init_enter(&once)) {
        virSetErrorFunc(NULL, quiet_errors);
        gvir_event_register();
        g_once_init_leave(&once, 1);
    }
}

/* ---- domains ----------------------------------------------------------- */

static void
domain_info_free(McedDomainInfo *d)
{
    if (d == NULL)
        return;
    g_free(d->name);
    g_free(d->uuid);
    g_free(d->policy_xml);
    g_free(d);
}

/* Reads what a callback needs from @dom (valid only during the callback). */
static McedDomainInfo *
domain_info_from(virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    McedDomainInfo *d;
    int state = VIR_DOMAIN_NOSTATE, reason;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    d = g_new0(McedDomainInfo, 1);
    d->name = g_strdup(virDomainGetName(dom));
    d->uuid = g_ascii_strdown(uuid, -1);
    d->id = (int)virDomainGetID(dom);
    if (d->id == (int)(unsigned int)-1)
        d->id = -1;
    if (virDomainGetState(dom, &state, &reason, 0) == 0)
        d->state = state;
    d->persistent = virDomainIsPersistent(dom) == 1;
    /* The operator's per-domain policy, if any (read, never written). */
    {
        char *xml = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                         MCED_METADATA_POLICY_NS, 0);
        if (xml != NULL && strlen(xml) <= 4096)
            d->policy_xml = g_strdup(xml);
        free(xml);
        virResetLastError();
    }
    return d;
}

/* Records @d (taking it) and tells the daemon; returns the stored entry. */
static const McedDomainInfo *
domain_update(McedLibvirt *lv, McedDomainInfo *d)
{
    if (g_hash_table_size(lv->domains) >= MAX_DOMAINS
        && !g_hash_table_contains(lv->domains, d->uuid)) {
        domain_info_free(d);
        return NULL;
    }
    g_hash_table_replace(lv->domains, d->uuid, d);
    if (lv->cb.domain_changed != NULL)
        lv->cb.domain_changed(d, lv->user_data);
    return d;
}

static void
domain_remove(McedLibvirt *lv, const char *name, const char *uuid)
{
    /* @name and @uuid may point into the entry removed below: copy first,
     * use only the copies after. */
    g_autofree char *n = g_strdup(name);
    g_autofree char *u = g_strdup(uuid);

    g_hash_table_remove(lv->domains, u);
    g_hash_table_remove(lv->written, u);
    if (lv->cb.domain_removed != NULL)
        lv->cb.domain_removed(n, u, lv->user_data);
}

/* Every domain of @conn with what domain_info_from() reads; in a worker. */
static GPtrArray *
list_domains(virConnectPtr conn)
{
    virDomainPtr *list = NULL;
    int n = virConnectListAllDomains(conn, &list, 0);
    GPtrArray *all;

    if (n < 0)
        return NULL;
    all = g_ptr_array_new_with_free_func((GDestroyNotify)domain_info_free);
    for (int i = 0; i < n; i++) {
        McedDomainInfo *d = domain_info_from(list[i]);

        if (d != NULL)
            g_ptr_array_add(all, d);
        virDomainFree(list[i]);
    }
    free(list);
    return all;
}

/* Takes the domain list read by a worker: updates the table and drops
 * the domains that went away while the connection was down. */
static void
resync_apply(McedLibvirt *lv, GPtrArray *all)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer key;

    for (guint i = 0; i < all->len; i++) {
        McedDomainInfo *d = g_ptr_array_steal_index_fast(all, i--);

        g_hash_table_add(seen, g_strdup(d->uuid));
        domain_update(lv, d);
    }
    g_hash_table_iter_init(&it, lv->domains);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(seen, key))
            g_ptr_array_add(gone, g_strdup(key));
    for (guint i = 0; i < gone->len; i++) {
        const McedDomainInfo *d = g_hash_table_lookup(lv->domains, gone->pdata[i]);
        domain_remove(lv, d->name, d->uuid);
    }
}

/* ---- reading domains off the main loop --------------------------------- */

/* Reading a domain's state, persistence or metadata waits for libvirtd's
 * lock on that domain, which it holds while it runs its hooks, and
 * kvm-mced's own hook waits for the daemon's answer on D-Bus. So the main
 * loop never reads a domain: events update the table with what they say,
 * and a worker reads the rest. */
typedef struct {
    McedLibvirt *lv;     /* a reference */
    virConnectPtr conn;  /* a reference: the connection asked */
    char *uuid;          /* one domain; NULL: all of them (a resync) */
    guint64 events;      /* lv->events when asked */
} ReadJob;

static void
read_job_free(ReadJob *job)
{
    g_rc_box_release_full(job->lv, (GDestroyNotify)libvirt_clear);
    virConnectClose(job->conn);
    g_free(job->uuid);
    g_free(job);
}

static void
free_list(gpointer p)
{
    g_ptr_array_unref(p);
}

static void
read_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    ReadJob *job = task_data;
    GPtrArray *all;
    virDomainPtr dom;

    if (job->uuid == NULL) {
        all = list_domains(job->conn);
        if (all == NULL)
            g_task_return_new_error(task, MCED_ERROR, MCED_ERROR_IO, "cannot list domains: %s",
                                    virGetLastErrorMessage());
        else
            g_task_return_pointer(task, all, free_list);
        return;
    }
    all = g_ptr_array_new_with_free_func((GDestroyNotify)domain_info_free);
    dom = virDomainLookupByUUIDString(job->conn, job->uuid);
    if (dom != NULL) {
        McedDomainInfo *d = domain_info_from(dom);

        if (d != NULL)
            g_ptr_array_add(all, d);
        virDomainFree(dom);
    }
    virResetLastError();
    g_task_return_pointer(task, all, free_list);
}

static void
on_read_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    ReadJob *job = g_task_get_task_data(G_TASK(res));
    McedLibvirt *lv = job->lv;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = g_task_propagate_pointer(G_TASK(res), &error);

    if (lv->closed || lv->conn != job->conn)
        return; /* gone, or a connection since replaced */
    if (job->uuid == NULL) {
        if (all != NULL)
            resync_apply(lv, all);
        else
            g_message("libvirt: %s", error->message);
        if (lv->cb.connection != NULL)
            lv->cb.connection(TRUE, lv->uri, lv->user_data);
        return;
    }
    for (guint i = 0; all != NULL && i < all->len; i++) {
        McedDomainInfo *d = g_ptr_array_steal_index_fast(all, i--);
        const McedDomainInfo *known = g_hash_table_lookup(lv->domains, d->uuid);

        /* An event came since the read: it knows the state better. */
        if (known != NULL && lv->events != job->events) {
            d->state = known->state;
            d->id = known->id;
        }
        domain_update(lv, d);
    }
}

/* Reads one domain (@uuid) or all (NULL) in a worker, then updates the
 * table; a resync ends with the connection callback. */
static void
read_async(McedLibvirt *lv, const char *uuid)
{
    g_autoptr(GTask) task = NULL;
    ReadJob *job = g_new0(ReadJob, 1);

    job->lv = g_rc_box_acquire(lv);
    job->conn = lv->conn;
    virConnectRef(lv->conn);
    job->uuid = g_strdup(uuid);
    job->events = lv->events;
    task = g_task_new(NULL, NULL, on_read_done, NULL);
    g_task_set_task_data(task, job, (GDestroyNotify)read_job_free);
    g_task_run_in_thread(task, read_thread);
}

/* ---- events ------------------------------------------------------------ */

static void
emit_observation(McedLibvirt *lv, const McedDomainInfo *d, const char *event, long long seconds,
                 unsigned int micros, const char *details)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *fallback = NULL;
    McedObservation *obs;

    /* libvirt's own events (and QEMU when its clock failed) carry no time:
     * they happened now, which also makes their cursor. */
    if (seconds < 0) {
        gint64 now = g_get_real_time();
        seconds = now / G_USEC_PER_SEC;
        micros = (unsigned int)(now % G_USEC_PER_SEC);
    }
    fallback = g_strdup_printf("libvirt:%s:%s:%lld.%06u:%" G_GUINT64_FORMAT, d->uuid, event,
                               seconds, micros, ++lv->seq);
    obs = mced_qmp_decode(event, seconds, micros, details, details != NULL ? strlen(details) : 0,
                          d->name, fallback, &error);
    if (obs == NULL) {
        /* Unknown events were not asked for; malformed ones are QEMU's or
         * libvirt's problem: say so and go on. */
        g_message("libvirt: event %s for domain '%s' not understood: %s, ignoring", event,
                  d->name, error->message);
        return;
    }
    if (lv->cb.observation != NULL)
        lv->cb.observation(obs, d, lv->user_data);
    else
        mced_observation_unref(obs);
}

/* The domain of an event, from what the event itself carries (name,
 * UUID, id) and what the table knew; @state and @persistent (-1: as
 * known) when the event says. A domain not known yet is read in a
 * worker. Never asks libvirtd anything (see read_async()). */
static const McedDomainInfo *
event_domain(McedLibvirt *lv, virDomainPtr dom, int state, int persistent)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    const McedDomainInfo *known;
    McedDomainInfo *d;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    lv->events++;
    d = g_new0(McedDomainInfo, 1);
    d->name = g_strdup(virDomainGetName(dom));
    d->uuid = g_ascii_strdown(uuid, -1);
    d->id = (int)virDomainGetID(dom);
    if (d->id == (int)(unsigned int)-1)
        d->id = -1;
    known = g_hash_table_lookup(lv->domains, d->uuid);
    d->state = state >= 0 ? state : known != NULL ? known->state : VIR_DOMAIN_NOSTATE;
    d->persistent = persistent >= 0 ? persistent == 1 : known != NULL && known->persistent;
    d->policy_xml = known != NULL ? g_strdup(known->policy_xml) : NULL;
    if (known == NULL)
        read_async(lv, d->uuid);
    return domain_update(lv, d);
}

/* The state a lifecycle event leaves the domain in, or -1 for "as it was". */
static int
state_after(int event)
{
    switch (event) {
    case VIR_DOMAIN_EVENT_STARTED:
    case VIR_DOMAIN_EVENT_RESUMED:
        return VIR_DOMAIN_RUNNING;
    case VIR_DOMAIN_EVENT_SUSPENDED:
        return VIR_DOMAIN_PAUSED;
    case VIR_DOMAIN_EVENT_STOPPED:
        return VIR_DOMAIN_SHUTOFF;
    case VIR_DOMAIN_EVENT_PMSUSPENDED:
        return VIR_DOMAIN_PMSUSPENDED;
    case VIR_DOMAIN_EVENT_CRASHED:
        return VIR_DOMAIN_CRASHED;
    default:
        return -1;
    }
}

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    McedLibvirt *lv = opaque;
    char uuid[VIR_UUID_STRING_BUFLEN];
    const McedDomainInfo *d;

    if (event == VIR_DOMAIN_EVENT_UNDEFINED) {
        if (virDomainGetUUIDString(dom, uuid) == 0) {
            g_autofree char *lower = g_ascii_strdown(uuid, -1);
            domain_remove(lv, virDomainGetName(dom), lower);
        }
        return 0;
    }
    d = event_domain(lv, dom, state_after(event),
                     event == VIR_DOMAIN_EVENT_DEFINED ? 1 : -1);
    if (d == NULL)
        return 0;
    if (event == VIR_DOMAIN_EVENT_STOPPED && !d->persistent) {
        domain_remove(lv, d->name, d->uuid);
        return 0;
    }
    /* Without raw QMP the crash itself stands in for GUEST_PANICKED. */
    if (!lv->qmp && event == VIR_DOMAIN_EVENT_CRASHED
        && (detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED
            || detail == VIR_DOMAIN_EVENT_CRASHED_CRASHLOADED))
        emit_observation(lv, d,
                         detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED ? "GUEST_PANICKED"
                                                                    : "GUEST_CRASHLOADED",
                         -1, 0, detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED ? "{\"action\":\"pause\"}"
                                                                            : "{\"action\":\"run\"}");
    return 0;
}

static void
on_reboot(virConnectPtr conn, virDomainPtr dom, void *opaque)
{
    McedLibvirt *lv = opaque;
    const McedDomainInfo *d;

    if (lv->qmp)
        return; /* the raw RESET carries more */
    d = event_domain(lv, dom, -1, -1);
    if (d != NULL)
        emit_observation(lv, d, "RESET", -1, 0, "{\"guest\":true,\"reason\":\"guest-reset\"}");
}

static void
on_memory_failure(virConnectPtr conn, virDomainPtr dom, int recipient, int action,
                  unsigned int flags, void *opaque)
{
    static const char *const recipients[] = { "hypervisor", "guest" };
    static const char *const actions[] = { "ignore", "inject", "fatal", "reset" };
    McedLibvirt *lv = opaque;
    const McedDomainInfo *d;
    g_autofree char *details = NULL;

    if (lv->qmp)
        return; /* the same event arrives raw, with QEMU's timestamp */
    if (recipient < 0 || recipient >= (int)G_N_ELEMENTS(recipients) || action < 0
        || action >= (int)G_N_ELEMENTS(actions))
        return;
    d = event_domain(lv, dom, -1, -1);
    if (d == NULL)
        return;
    details = g_strdup_printf(
        "{\"recipient\":\"%s\",\"action\":\"%s\",\"flags\":{\"action-required\":%s,"
        "\"recursive\":%s}}",
        recipients[recipient], actions[action],
        (flags & VIR_DOMAIN_MEMORY_FAILURE_ACTION_REQUIRED) ? "true" : "false",
        (flags & VIR_DOMAIN_MEMORY_FAILURE_RECURSIVE) ? "true" : "false");
    emit_observation(lv, d, "MEMORY_FAILURE", -1, 0, details);
}

static void
on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration, void *opaque)
{
    McedLibvirt *lv = opaque;
    char uuid[VIR_UUID_STRING_BUFLEN];
    g_autofree char *lower = NULL;
    const McedDomainInfo *d;

    /* Only a lookup: re-reading the domain mid-migration would take a job. */
    if (lv->cb.migration_pass == NULL || virDomainGetUUIDString(dom, uuid) < 0)
        return;
    lower = g_ascii_strdown(uuid, -1);
    d = g_hash_table_lookup(lv->domains, lower);
    if (d != NULL)
        lv->cb.migration_pass(d, iteration, lv->user_data);
}

/* An operator changed a domain's metadata: read its policy again. */
static void
on_metadata_change(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri,
                   void *opaque)
{
    McedLibvirt *lv = opaque;

    char uuid[VIR_UUID_STRING_BUFLEN];

    if (type == VIR_DOMAIN_METADATA_ELEMENT && g_strcmp0(nsuri, MCED_METADATA_POLICY_NS) == 0
        && virDomainGetUUIDString(dom, uuid) == 0) {
        g_autofree char *lower = g_ascii_strdown(uuid, -1);

        read_async(lv, lower);
    }
}

static void
on_qmp(virConnectPtr conn, virDomainPtr dom, const char *event, long long seconds,
       unsigned int micros, const char *details, void *opaque)
{
    McedLibvirt *lv = opaque;
    const McedDomainInfo *d = event_domain(lv, dom, -1, -1);

    if (d != NULL)
        emit_observation(lv, d, event, seconds, micros, details);
}

/* ---- connection -------------------------------------------------------- */

static void
deregister_all(McedLibvirt *lv)
{
    if (lv->conn == NULL)
        return;
    for (guint i = 0; i < lv->callback_ids->len; i++)
        (void)virConnectDomainEventDeregisterAny(lv->conn, g_array_index(lv->callback_ids, int, i));
    for (guint i = 0; i < lv->qmp_ids->len; i++)
        (void)virConnectDomainQemuMonitorEventDeregister(lv->conn,
                                                         g_array_index(lv->qmp_ids, int, i));
    g_array_set_size(lv->callback_ids, 0);
    g_array_set_size(lv->qmp_ids, 0);
}

static void
register_domain_event(McedLibvirt *lv, int id, virConnectDomainEventGenericCallback cb)
{
    int r = virConnectDomainEventRegisterAny(lv->conn, NULL, id, cb, lv, NULL);

    if (r >= 0)
        g_array_append_val(lv->callback_ids, r);
}

static void
register_all(McedLibvirt *lv)
{
    register_domain_event(lv, VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle));
    register_domain_event(lv, VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK(on_reboot));
    register_domain_event(lv, VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE,
                          VIR_DOMAIN_EVENT_CALLBACK(on_memory_failure));
    register_domain_event(lv, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                          VIR_DOMAIN_EVENT_CALLBACK(on_metadata_change));
    register_domain_event(lv, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                          VIR_DOMAIN_EVENT_CALLBACK(on_migration_iteration));

    /* Raw QMP: all configured names or none, so that no event is counted
     * on both paths. The test driver (and read-only connections) refuse. */
    lv->qmp = TRUE;
    for (guint i = 0; lv->qmp_events != NULL && lv->qmp_events[i] != NULL; i++) {
        int r = virConnectDomainQemuMonitorEventRegister(lv->conn, NULL, lv->qmp_events[i],
                                                         on_qmp, lv, NULL, 0);
        if (r < 0) {
            lv->qmp = FALSE;
            break;
        }
        g_array_append_val(lv->qmp_ids, r);
    }
    if (!lv->qmp) {
        for (guint i = 0; i < lv->qmp_ids->len; i++)
            (void)virConnectDomainQemuMonitorEventDeregister(lv->conn,
                                                             g_array_index(lv->qmp_ids, int, i));
        g_array_set_size(lv->qmp_ids, 0);
        virResetLastError(); /* the connection callback says "without raw QMP" */
    }
}

static gboolean
on_reconnect_timer(gpointer user_data)
{
    McedLibvirt *lv = user_data;

    lv->reconnect_timer = 0;
    connect_async(lv);
    return G_SOURCE_REMOVE;
}

static void
schedule_reconnect(McedLibvirt *lv)
{
    if (lv->reconnect_timer != 0 || lv->connecting)
        return;
    lv->backoff_us = lv->backoff_us == 0 ? G_USEC_PER_SEC
                                         : MIN(lv->backoff_us * 2, lv->reconnect_max_us);
    lv->reconnect_timer = g_timeout_add((guint)(lv->backoff_us / 1000), on_reconnect_timer, lv);
}

static gboolean
drop_connection(gpointer user_data)
{
    McedLibvirt *lv = user_data;

    if (lv->conn != NULL) {
        deregister_all(lv);
        (void)virConnectUnregisterCloseCallback(lv->conn, NULL);
        virConnectClose(lv->conn);
        lv->conn = NULL;
    }
    schedule_reconnect(lv);
    return G_SOURCE_REMOVE;
}

static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
    McedLibvirt *lv = opaque;
    static const char *const reasons[] = { "error", "end of file", "keepalive timeout", "client" };
    const char *why = reason >= 0 && reason < (int)G_N_ELEMENTS(reasons) ? reasons[reason] : "?";

    if (lv->cb.connection != NULL)
        lv->cb.connection(FALSE, why, lv->user_data);
    /* Not from inside libvirt's own callback: close on the next turn. */
    g_idle_add(drop_connection, lv);
}

static void
conn_close(gpointer conn)
{
    (void)virConnectClose(conn);
}

static void
connect_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    const char *uri = task_data;
    virConnectPtr conn = virConnectOpen(uri);

    if (conn == NULL) {
        g_task_return_new_error(task, MCED_ERROR, MCED_ERROR_IO, "cannot connect to %s: %s", uri,
                                virGetLastErrorMessage());
        return;
    }
    g_task_return_pointer(task, conn, conn_close);
}

static void
on_connected(GObject *source, GAsyncResult *res, gpointer user_data)
{
    McedLibvirt *lv = user_data;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = g_task_propagate_pointer(G_TASK(res), &error);

    lv->connecting = FALSE;
    if (lv->closed) {
        if (conn != NULL)
            virConnectClose(conn);
        g_rc_box_release_full(lv, (GDestroyNotify)libvirt_clear);
        return;
    }
    g_rc_box_release_full(lv, (GDestroyNotify)libvirt_clear);
    if (conn == NULL) {
        if (lv->cb.connection != NULL)
            lv->cb.connection(FALSE, error->message, lv->user_data);
        schedule_reconnect(lv);
        return;
    }
    lv->conn = conn;
    lv->backoff_us = 0;
    (void)virConnectSetKeepAlive(conn, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT);
    (void)virConnectRegisterCloseCallback(conn, on_close, lv, NULL);
    register_all(lv);
    read_async(lv, NULL); /* says the connection is up once the domains are read */
}

static void
connect_async(McedLibvirt *lv)
{
    g_autoptr(GTask) task = NULL;

    if (lv->connecting || lv->conn != NULL)
        return;
    lv->connecting = TRUE;
    task = g_task_new(NULL, NULL, on_connected, g_rc_box_acquire(lv));
    g_task_set_task_data(task, g_strdup(lv->uri), g_free);
    g_task_run_in_thread(task, connect_thread);
}

/* ---- metadata ---------------------------------------------------------- */

typedef struct {
    virConnectPtr conn; /* a reference for the thread */
    char *uuid;
    char *xml;
    McedMetadataDone done;
    gpointer user_data;
    McedLibvirt *lv;
} MetadataJob;

static void
metadata_job_free(MetadataJob *job)
{
    g_rc_box_release_full(job->lv, (GDestroyNotify)libvirt_clear);
    virConnectClose(job->conn);
    g_free(job->uuid);
    g_free(job->xml);
    g_free(job);
}

static void
metadata_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    MetadataJob *job = task_data;
    virDomainPtr dom = virDomainLookupByUUIDString(job->conn, job->uuid);
    unsigned int flags = VIR_DOMAIN_AFFECT_LIVE;
    int r;

    if (dom == NULL) {
        g_task_return_new_error(task, MCED_ERROR, MCED_ERROR_NOT_FOUND, "no domain %s: %s",
                                job->uuid, virGetLastErrorMessage());
        return;
    }
    if (virDomainIsPersistent(dom) == 1)
        flags |= VIR_DOMAIN_AFFECT_CONFIG;
    if (virDomainIsActive(dom) != 1)
        flags = VIR_DOMAIN_AFFECT_CONFIG;
    r = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, job->xml, MCED_METADATA_KEY,
                             MCED_METADATA_HEALTH_NS, flags);
    if (r < 0) {
        g_task_return_new_error(task, MCED_ERROR, MCED_ERROR_IO,
                                "cannot write metadata of domain %s: %s", job->uuid,
                                virGetLastErrorMessage());
        virDomainFree(dom);
        return;
    }
    virDomainFree(dom);
    g_task_return_boolean(task, TRUE);
}

static void
on_metadata_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    MetadataJob *job = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);

    if (!job->lv->closed) {
        if (!ok)
            g_hash_table_remove(job->lv->written, job->uuid); /* try again next time */
        if (job->done != NULL)
            job->done(job->uuid, error, job->user_data);
    }
}

void
mced_libvirt_set_health(McedLibvirt *lv, const char *uuid, const char *xml,
                        McedMetadataDone done, gpointer user_data)
{
    g_autoptr(GTask) task = NULL;
    MetadataJob *job;
    const char *last = g_hash_table_lookup(lv->written, uuid);

    if (lv->conn == NULL || uuid == NULL || xml == NULL)
        return;
    if (last != NULL && g_str_equal(last, xml))
        return;
    g_hash_table_replace(lv->written, g_strdup(uuid), g_strdup(xml));

    job = g_new0(MetadataJob, 1);
    job->conn = lv->conn;
    virConnectRef(job->conn);
    job->uuid = g_strdup(uuid);
    job->xml = g_strdup(xml);
    job->done = done;
    job->user_data = user_data;
    job->lv = g_rc_box_acquire(lv);
    task = g_task_new(NULL, NULL, on_metadata_done, NULL);
    g_task_set_task_data(task, job, (GDestroyNotify)metadata_job_free);
    g_task_run_in_thread(task, metadata_thread);
}

/* ---- operations -------------------------------------------------------- */

static const char *const op_str[_MCED_DOMAIN_OP_MAX] = {
    [MCED_DOMAIN_OP_PAUSE] = "pause",
    [MCED_DOMAIN_OP_RESET] = "reset",
    [MCED_DOMAIN_OP_REBOOT] = "reboot",
    [MCED_DOMAIN_OP_DESTROY] = "destroy",
    [MCED_DOMAIN_OP_RESTART] = "restart",
    [MCED_DOMAIN_OP_NMI] = "nmi",
    [MCED_DOMAIN_OP_DUMP] = "dump",
    [MCED_DOMAIN_OP_MIGRATE] = "migrate",
};

const char *
mced_domain_op_to_string(McedDomainOp op)
{
    return op < _MCED_DOMAIN_OP_MAX ? op_str[op] : NULL;
}

/* A request copied for the worker thread, plus what comes back. */
typedef struct {
    McedLibvirt *lv;      /* a reference */
    virConnectPtr conn;   /* a reference for the thread */
    McedDomainOpRequest req;
    char *uuid;
    char *dump_path;
    GStrv peers;
    char *migrate_uri;
    char *listen_address;
    McedDomainOpDone done;
    gpointer user_data;
    guint timer;
    gint finished;        /* atomic: 1 once the caller has been told */
    char *detail;         /* set by the thread */
    virDomainPtr dom;     /* for aborting a migration from the main thread */
    GMutex lock;
} OpJob;

static void
op_job_free(OpJob *job)
{
    if (job->dom != NULL)
        virDomainFree(job->dom);
    virConnectClose(job->conn);
    g_rc_box_release_full(job->lv, (GDestroyNotify)libvirt_clear);
    g_free(job->uuid);
    g_free(job->dump_path);
    g_strfreev(job->peers);
    g_free(job->migrate_uri);
    g_free(job->listen_address);
    g_free(job->detail);
    g_mutex_clear(&job->lock);
    g_free(job);
}

static gboolean
op_migrate(OpJob *job, virDomainPtr dom, GError **error)
{
    g_autoptr(GString) tried = g_string_new(NULL);

    for (guint i = 0; job->peers != NULL && job->peers[i] != NULL; i++) {
        virTypedParameterPtr params = NULL;
        int nparams = 0, maxparams = 0;
        unsigned int flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST
                             | VIR_MIGRATE_UNDEFINE_SOURCE;
        int r;

        if (job->migrate_uri != NULL)
            virTypedParamsAddString(&params, &nparams, &maxparams, VIR_MIGRATE_PARAM_URI,
                                    job->migrate_uri);
        if (job->listen_address != NULL)
            virTypedParamsAddString(&params, &nparams, &maxparams,
                                    VIR_MIGRATE_PARAM_LISTEN_ADDRESS, job->listen_address);
        r = virDomainMigrateToURI3(dom, job->peers[i], params, (unsigned int)nparams, flags);
        virTypedParamsFree(params, nparams);
        if (r == 0) {
            job->detail = g_strdup_printf("migrated to %s", job->peers[i]);
            return TRUE;
        }
        g_string_append_printf(tried, "%s%s: %s", tried->len > 0 ? "; " : "", job->peers[i],
                               virGetLastErrorMessage());
    }
    g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "no peer took the domain (%s)",
                tried->len > 0 ? tried->str : "no peers configured");
    return FALSE;
}

static gboolean
op_restart(OpJob *job, virDomainPtr dom, GError **error)
{
    g_autofree char *xml = NULL;
    gboolean persistent = virDomainIsPersistent(dom) == 1;

    /* A transient domain is gone once destroyed: start it again from the
     * definition it had. */
    if (!persistent) {
        char *x = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_SECURE);
        xml = g_strdup(x);
        free(x);
    }
    if (virDomainIsActive(dom) == 1 && virDomainDestroy(dom) < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "destroy failed: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    if (persistent ? virDomainCreate(dom) < 0 : virDomainCreateXML(job->conn, xml, 0) == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "start after destroy failed: %s",
                    virGetLastErrorMessage());
        return FALSE;
    }
    job->detail = g_strdup("destroyed and started again");
    return TRUE;
}

static void
op_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    OpJob *job = task_data;
    virDomainPtr dom = virDomainLookupByUUIDString(job->conn, job->uuid);
    g_autoptr(GError) error = NULL;
    gboolean ok = FALSE;
    int r = 0;

    if (dom == NULL) {
        g_task_return_new_error(task, MCED_ERROR, MCED_ERROR_NOT_FOUND, "no domain %s: %s",
                                job->uuid, virGetLastErrorMessage());
        return;
    }
    g_mutex_lock(&job->lock);
    job->dom = dom;
    g_mutex_unlock(&job->lock);

    switch (job->req.op) {
    case MCED_DOMAIN_OP_PAUSE:
        r = virDomainSuspend(dom);
        break;
    case MCED_DOMAIN_OP_RESET:
        r = virDomainReset(dom, 0);
        break;
    case MCED_DOMAIN_OP_REBOOT:
        r = virDomainReboot(dom, 0);
        break;
    case MCED_DOMAIN_OP_DESTROY:
        r = virDomainDestroy(dom);
        break;
    case MCED_DOMAIN_OP_NMI:
        r = virDomainInjectNMI(dom, 0);
        break;
    case MCED_DOMAIN_OP_DUMP:
        /* A guest-memory (ELF) dump; drivers without memory-only dumps
         * (libxl, test) refuse the flag, and get their own format. The
         * domain keeps running afterwards either way. */
        r = virDomainCoreDumpWithFormat(dom, job->dump_path, VIR_DOMAIN_CORE_DUMP_FORMAT_RAW,
                                        VIR_DUMP_MEMORY_ONLY);
        if (r < 0 && virGetLastErrorCode() == VIR_ERR_INVALID_ARG)
            r = virDomainCoreDumpWithFormat(dom, job->dump_path,
                                            VIR_DOMAIN_CORE_DUMP_FORMAT_RAW, 0);
        if (r == 0)
            job->detail = g_strdup_printf("memory dumped to %s", job->dump_path);
        break;
    case MCED_DOMAIN_OP_RESTART:
        ok = op_restart(job, dom, &error);
        break;
    case MCED_DOMAIN_OP_MIGRATE:
        ok = op_migrate(job, dom, &error);
        break;
    case _MCED_DOMAIN_OP_MAX:
        r = -1;
        break;
    }
    if (job->req.op != MCED_DOMAIN_OP_RESTART && job->req.op != MCED_DOMAIN_OP_MIGRATE) {
        ok = r == 0;
        if (!ok)
            g_set_error(&error, MCED_ERROR, MCED_ERROR_FAILED, "%s failed: %s",
                        op_str[job->req.op], virGetLastErrorMessage());
    }
    if (!ok) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void
op_finish(OpJob *job, const GError *error)
{
    if (!g_atomic_int_compare_and_exchange(&job->finished, 0, 1))
        return;
    if (job->timer != 0) {
        g_source_remove(job->timer);
        job->timer = 0;
    }
    if (!job->lv->closed && job->done != NULL)
        job->done(&job->req, error, error != NULL ? error->message : job->detail,
                  job->user_data);
}

static gboolean
op_timeout(gpointer user_data)
{
    OpJob *job = user_data;
    g_autoptr(GError) error = g_error_new(MCED_ERROR, MCED_ERROR_FAILED, "%s timed out",
                                          op_str[job->req.op]);

    job->timer = 0;
    /* A migration can be aborted: libvirt then leaves the domain running
     * here. Other operations are left to finish; their result is ignored. */
    g_mutex_lock(&job->lock);
    if (job->req.op == MCED_DOMAIN_OP_MIGRATE && job->dom != NULL)
        (void)virDomainAbortJob(job->dom);
    g_mutex_unlock(&job->lock);
    op_finish(job, error);
    return G_SOURCE_REMOVE;
}

static void
on_op_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    OpJob *job = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;

    (void)g_task_propagate_boolean(G_TASK(res), &error);
    op_finish(job, error);
}

gboolean
mced_libvirt_run_op(McedLibvirt *lv, const McedDomainOpRequest *req, McedDomainOpDone done,
                    gpointer user_data, GError **error)
{
    g_autoptr(GTask) task = NULL;
    OpJob *job;

    if (lv->conn == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "not connected to libvirt");
        return FALSE;
    }
    job = g_new0(OpJob, 1);
    g_mutex_init(&job->lock);
    job->lv = g_rc_box_acquire(lv);
    job->conn = lv->conn;
    virConnectRef(job->conn);
    job->uuid = g_strdup(req->uuid);
    job->dump_path = g_strdup(req->dump_path);
    job->peers = g_strdupv((char **)req->peers);
    job->migrate_uri = g_strdup(req->migrate_uri);
    job->listen_address = g_strdup(req->listen_address);
    job->req = *req;
    job->req.uuid = job->uuid;
    job->req.dump_path = job->dump_path;
    job->req.peers = (const char *const *)job->peers;
    job->req.migrate_uri = job->migrate_uri;
    job->req.listen_address = job->listen_address;
    job->done = done;
    job->user_data = user_data;
    if (req->timeout_us > 0)
        job->timer = g_timeout_add((guint)MIN(req->timeout_us / 1000, G_MAXUINT), op_timeout, job);
    task = g_task_new(NULL, NULL, on_op_done, NULL);
    g_task_set_task_data(task, job, (GDestroyNotify)op_job_free);
    g_task_run_in_thread(task, op_thread);
    return TRUE;
}

/* ---- public ------------------------------------------------------------ */

McedLibvirt *
mced_libvirt_new(const char *uri, const char *const *qmp_events, gint64 reconnect_max_us,
                 const McedLibvirtCallbacks *callbacks, gpointer user_data)
{
    McedLibvirt *lv = g_rc_box_new0(McedLibvirt);

    lv->uri = g_strdup(uri);
    lv->qmp_events = g_strdupv((char **)qmp_events);
    lv->reconnect_max_us = reconnect_max_us > 0 ? reconnect_max_us : 30 * G_USEC_PER_SEC;
    if (callbacks != NULL)
        lv->cb = *callbacks;
    lv->user_data = user_data;
    lv->callback_ids = g_array_new(FALSE, FALSE, sizeof(int));
    lv->qmp_ids = g_array_new(FALSE, FALSE, sizeof(int));
    lv->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify)domain_info_free);
    lv->written = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return lv;
}

/* What is left once the last task has let go. */
static void
libvirt_clear(McedLibvirt *lv)
{
    g_array_unref(lv->callback_ids);
    g_array_unref(lv->qmp_ids);
    g_hash_table_unref(lv->domains);
    g_hash_table_unref(lv->written);
    g_strfreev(lv->qmp_events);
    g_free(lv->uri);
}

void
mced_libvirt_free(McedLibvirt *lv)
{
    if (lv == NULL)
        return;
    /* Worker threads may still be running: they hold references and find
     * the object closed when they come back. */
    lv->closed = TRUE;
    if (lv->reconnect_timer != 0)
        g_source_remove(lv->reconnect_timer);
    while (g_idle_remove_by_data(lv))
        ;
    if (lv->conn != NULL) {
        deregister_all(lv);
        (void)virConnectUnregisterCloseCallback(lv->conn, on_close);
        virConnectClose(lv->conn);
        lv->conn = NULL;
    }
    g_rc_box_release_full(lv, (GDestroyNotify)libvirt_clear);
}

void
mced_libvirt_start(McedLibvirt *lv)
{
    connect_async(lv);
}

gboolean
mced_libvirt_is_connected(const McedLibvirt *lv)
{
    return lv->conn != NULL;
}

gboolean
mced_libvirt_has_qmp(const McedLibvirt *lv)
{
    return lv->conn != NULL && lv->qmp;
}

GHashTable *
mced_libvirt_get_domains(const McedLibvirt *lv)
{
    return lv->domains;
}

const McedDomainInfo *
mced_libvirt_lookup_uuid(const McedLibvirt *lv, const char *uuid)
{
    return uuid != NULL ? g_hash_table_lookup(lv->domains, uuid) : NULL;
}

const McedDomainInfo *
mced_libvirt_lookup_name(const McedLibvirt *lv, const char *name)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, lv->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const McedDomainInfo *d = value;
        if (g_strcmp0(d->name, name) == 0)
            return d;
    }
    return NULL;
}
