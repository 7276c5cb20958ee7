/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "mced-config.h"
#include "mced-daemon.h"
#include "mced-error.h"
#include "mced-actions.h"
#include "mced-bus.h"
#include "mced-hooks.h"
#include "mced-incident.h"
#include "mced-json.h"
#include "mced-policy.h"
#include "mced-libvirt.h"
#include "mced-qmp.h"
#include "mced-log.h"
#include "mced-names.h"
#include "mced-paths.h"
#include "mced-registry.h"
#include "mced-replay.h"
#include "mced-source-journal.h"
#include "mced-source-kmsg.h"
#include "mced-source-qemulog.h"
#include "mced-text.h"
#include "mced-state.h"

/* Longest time closed incidents and a changed cursor may wait in memory
 * before they are written, while the input is quiet enough to write. */
#define SAVE_DELAY_MS 1000
/* Closed incidents kept for the history while the state directory is not
 * writable; beyond this the oldest are dropped (and counted). */
#define MAX_UNWRITTEN_HISTORY 1024

struct McedDaemon {
    McedDaemonOptions opts;
    McedPaths *paths;
    McedConfig *config;
    char *config_file;
    char *state_directory;

    McedLog *log;
    McedStore *store;
    McedState *state;
    McedRegistry *registry;
    McedCorrelator *correlator;
    McedReplay *replay;
    McedJournalSource *journal;
    McedKmsgSource *kmsg;
    McedLibvirt *libvirt;
    McedPolicy *policy;
    McedActions *actions;
    McedHooks *hooks;
    GHashTable *acted;        /* incident id -> class last decided on (GINT) */
    GHashTable *health_inc;   /* uuid -> McedIncident* last written to its metadata */
    GHashTable *health_act;   /* uuid -> char* last action element */
    McedQemuLog *qemu_log;
    McedReplay *qemu_replay;  /* QEMU log lines: single-line observations */
    const char *qemu_log_domain; /* the domain of the line being fed */
    gboolean libvirt_away;    /* reported once until it comes back */
    gboolean reconciled;      /* actions in flight at the last stop checked */
    gboolean host_degraded;
    GQueue evacuation;        /* char* uuids still to migrate away */
    guint rescan_idle;        /* a registry scan is due (a domain started) */
    GQueue held;              /* Held*: panics/resets waiting for an incident */
    guint held_timer;

    GMainLoop *loop;
    GError *fatal;            /* set to stop the loop with an error */
    guint sigterm, sigint, sighup;
    guint watchdog_timer;
    McedBus *bus;             /* NULL: no D-Bus API */
    gboolean ready;           /* READY=1 sent to the service manager */
    guint live_timer;         /* assembler / correlator deadlines, once caught up */
    guint save_timer;

    gint64 data_now_us;       /* latest observation time seen (catch-up clock) */
    gboolean caught_up;
    gboolean dirty;           /* state differs from what is on disk */
    gboolean storage_degraded;
    gboolean source_degraded;
    GQueue unwritten;         /* McedIncident* closed, not yet in the history */
    GHashTable *awaiting;     /* id -> McedIncident*: closed, its action still
                               * running; to the history when it ends */
    guint64 history_dropped;
    guint64 drills;           /* drills asked for since the start */
    struct SaveJob *save_job; /* a save running in a worker, or NULL */
};

static void schedule_save(McedDaemon *d);
static void save_settle(McedDaemon *d);
static void arm_live_timer(McedDaemon *d);
static void write_health(McedDaemon *d, const McedIncident *inc);
static void apply_policy(McedDaemon *d, McedIncidentEvent event, const McedIncident *inc);


/* QEMU events that never open an incident themselves (a guest panic, a
 * reset): they join an open incident of their VM, or wait one window for
 * one to open (the kernel's line may arrive after libvirt's event). */
typedef struct {
    McedObservation *obs;
    McedVmRef *vm;
    gint64 until_us; /* wall clock */
} Held;

#define MAX_HELD 256

static void
held_free(Held *h)
{
    mced_observation_unref(h->obs);
    mced_vm_ref_free(h->vm);
    g_free(h);
}

/* ---- incidents ------------------------------------------------------- */

static void
queue_history(McedDaemon *d, McedIncident *inc)
{
    if (g_queue_get_length(&d->unwritten) >= MAX_UNWRITTEN_HISTORY) {
        mced_incident_unref(g_queue_pop_head(&d->unwritten));
        d->history_dropped++;
    }
    g_queue_push_tail(&d->unwritten, mced_incident_ref(inc));
}

/* Incidents whose actions have ended (all of them with @all) go on to the
 * history. */
static void
release_awaiting(McedDaemon *d, gboolean all)
{
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, d->awaiting);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        McedIncident *inc = value;

        if (!all && d->actions != NULL && mced_actions_incident_busy(d->actions, inc->id))
            continue;
        queue_history(d, inc);
        g_hash_table_iter_remove(&iter);
    }
}

/* The incident @id, open, awaiting its action or not yet written; or NULL. */
static McedIncident *
find_incident(McedDaemon *d, const char *id)
{
    g_autoptr(GPtrArray) open = NULL;
    McedIncident *inc;

    if (id == NULL)
        return NULL;
    inc = g_hash_table_lookup(d->awaiting, id);
    if (inc != NULL)
        return inc;
    open = mced_correlator_get_open(d->correlator);
    for (guint i = 0; i < open->len; i++)
        if (strcmp(((McedIncident *)open->pdata[i])->id, id) == 0)
            return open->pdata[i];
    for (GList *l = d->unwritten.tail; l != NULL; l = l->prev)
        if (strcmp(((McedIncident *)l->data)->id, id) == 0)
            return l->data;
    return NULL;
}

static void
on_incident(McedIncidentEvent event, McedIncident *inc, gpointer user_data)
{
    McedDaemon *d = user_data;

    mced_log_incident(d->log, event, inc);
    mced_bus_incident_changed(d->bus, event, inc);
    if (inc->vm != NULL && event != MCED_INCIDENT_EVENT_MERGED)
        write_health(d, inc);
    if (d->hooks != NULL)
        mced_hooks_run_incident(d->hooks, event, inc);
    apply_policy(d, event, inc);
    switch (event) {
    case MCED_INCIDENT_EVENT_OPENED:
        mced_state_remember_id(d->state, inc->id);
        break;
    case MCED_INCIDENT_EVENT_UPDATED:
    case MCED_INCIDENT_EVENT_MERGED:
        break;
    case MCED_INCIDENT_EVENT_CLOSED:
        if (!inc->synthetic) /* a drill leaves no trace in the counters */
            mced_state_count_incident(d->state, inc);
        /* The history holds what was done too: wait for the action. */
        if (d->actions != NULL && mced_actions_incident_busy(d->actions, inc->id))
            g_hash_table_replace(d->awaiting, inc->id, mced_incident_ref(inc));
        else
            queue_history(d, inc);
        break;
    }
    d->dirty = TRUE;
    schedule_save(d);
}

static gint64
observation_time(const McedObservation *obs)
{
    return obs->realtime_us != 0 ? obs->realtime_us : obs->monotonic_us;
}

static McedVmRef *
attribute(McedDaemon *d, const McedObservation *obs)
{
    if (mced_observation_has_num(obs, MCED_NUM_TID)) {
        McedVmRef *vm = mced_registry_lookup_tid(d->registry, (gint64)obs->num[MCED_NUM_TID]);
        if (vm != NULL)
            return vm;
    }
    if (mced_observation_has_num(obs, MCED_NUM_PID))
        return mced_registry_lookup_pid(d->registry, (gint64)obs->num[MCED_NUM_PID]);
    return NULL;
}

/* Every completed observation, from any source, ends here. */
static void
on_observation(McedObservation *obs, gpointer user_data)
{
    McedDaemon *d = user_data;
    g_autoptr(McedVmRef) vm = attribute(d, obs);
    gint64 t = observation_time(obs);

    /* While catching up, time is the data's: incidents close when the
     * input says their window has passed, not when a batch ended. */
    if (t > d->data_now_us)
        d->data_now_us = t;
    if (!d->caught_up && d->data_now_us > 0)
        mced_correlator_expire(d->correlator, d->data_now_us);
    (void)mced_correlator_add(d->correlator, obs, vm); /* takes its own reference */
    d->dirty = TRUE;
    mced_observation_unref(obs); /* ours: the sink is handed ownership */
}

/* ---- state ----------------------------------------------------------- */

static gboolean
write_history(McedDaemon *d, GError **error)
{
    while (!g_queue_is_empty(&d->unwritten)) {
        McedIncident *inc = g_queue_peek_head(&d->unwritten);
        if (!mced_store_append_history(d->store, inc, error))
            return FALSE;
        mced_incident_unref(g_queue_pop_head(&d->unwritten));
    }
    return TRUE;
}

static void
refresh_state_snapshot(McedDaemon *d)
{
    g_autoptr(GPtrArray) open = mced_correlator_get_open(d->correlator);

    g_ptr_array_set_size(d->state->open_incidents, 0);
    for (guint i = 0; i < open->len; i++)
        g_ptr_array_add(d->state->open_incidents, mced_incident_ref(open->pdata[i]));
    if (d->journal != NULL) {
        char *cursor = mced_journal_source_get_cursor(d->journal);
        if (cursor != NULL) {
            g_free(d->state->journal_cursor);
            d->state->journal_cursor = g_strdup(cursor);
            free(cursor); /* from sd-journal: malloc() */
        }
    } else if (d->kmsg != NULL) {
        char *cursor = mced_kmsg_source_get_cursor(d->kmsg);
        if (cursor != NULL) {
            g_free(d->state->journal_cursor);
            d->state->journal_cursor = cursor;
        }
    }
}

/* Writes history and state if nothing is half assembled: only then does
 * the cursor match exactly what has been applied. */
static gboolean
try_save(McedDaemon *d, gboolean final)
{
    g_autoptr(GError) error = NULL;

    save_settle(d); /* one writer at a time, and nothing written twice */
    if (!d->dirty)
        return TRUE;
    if (!final && !mced_replay_quiescent(d->replay))
        return FALSE;

    release_awaiting(d, final);
    refresh_state_snapshot(d);
    if (!write_history(d, &error) || !mced_store_save(d->store, d->state, &error)) {
        if (!d->storage_degraded)
            mced_log_event(d->log, LOG_ERR, MCED_MSGID_STATE_PROBLEM,
                           "Cannot write state to %s: %s; keeping it in memory and retrying",
                           d->state_directory, error->message);
        d->storage_degraded = TRUE;
        return FALSE;
    }
    if (d->storage_degraded) {
        mced_log_event(d->log, LOG_NOTICE, MCED_MSGID_STATE_PROBLEM,
                       "State directory %s is writable again; state saved%s",
                       d->state_directory,
                       d->history_dropped > 0 ? " (some history entries were lost)" : "");
        d->storage_degraded = FALSE;
    }
    d->dirty = FALSE;
    return TRUE;
}

/* Saving while running: the history lines and state.json are made on the
 * main loop and written (with their fsyncs) by a worker, so that reading
 * the journal goes on meanwhile. One save at a time; history first, then
 * the state, as in try_save(). */
typedef struct SaveJob {
    McedStore *store;      /* borrowed: the daemon waits for the job before freeing it */
    GPtrArray *incidents;  /* McedIncident* (refs) whose history lines these are */
    GPtrArray *lines;      /* char*: their history lines, in order */
    char *state_text;
    GMutex lock;
    GCond cond;
    gboolean done;         /* under lock; then n_written and error are the worker's */
    guint n_written;
    GError *error;
    gboolean taken;        /* the final save took the result: nothing left to do */
} SaveJob;

static void
save_job_free(gpointer p)
{
    SaveJob *job = p;

    g_ptr_array_unref(job->incidents);
    g_ptr_array_unref(job->lines);
    g_free(job->state_text);
    g_clear_error(&job->error);
    g_mutex_clear(&job->lock);
    g_cond_clear(&job->cond);
    g_free(job);
}

static void
save_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
    SaveJob *job = task_data;
    GError *error = NULL;
    guint n = 0;

    while (n < job->lines->len
           && mced_store_append_history_line(job->store, job->lines->pdata[n], &error))
        n++;
    if (error == NULL)
        (void)mced_store_write_state(job->store, job->state_text, &error);
    g_mutex_lock(&job->lock);
    job->n_written = n;
    job->error = error;
    job->done = TRUE;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
    g_task_return_boolean(task, TRUE);
}

static void
save_wait(SaveJob *job)
{
    g_mutex_lock(&job->lock);
    while (!job->done)
        g_cond_wait(&job->cond, &job->lock);
    g_mutex_unlock(&job->lock);
}

/* What a finished save means: its incidents are in the history now; a
 * failure is reported once and the save tried again. */
static void
save_finish(McedDaemon *d, SaveJob *job)
{
    for (guint i = 0; i < job->n_written; i++)
        if (g_queue_remove(&d->unwritten, job->incidents->pdata[i]))
            mced_incident_unref(job->incidents->pdata[i]);
    if (job->error != NULL) {
        if (!d->storage_degraded)
            mced_log_event(d->log, LOG_ERR, MCED_MSGID_STATE_PROBLEM,
                           "Cannot write state to %s: %s; keeping it in memory and retrying",
                           d->state_directory, job->error->message);
        d->storage_degraded = TRUE;
        d->dirty = TRUE;
    } else if (d->storage_degraded) {
        mced_log_event(d->log, LOG_NOTICE, MCED_MSGID_STATE_PROBLEM,
                       "State directory %s is writable again; state saved%s",
                       d->state_directory,
                       d->history_dropped > 0 ? " (some history entries were lost)" : "");
        d->storage_degraded = FALSE;
    }
}

static void
on_save_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
    SaveJob *job = g_task_get_task_data(G_TASK(res));
    McedDaemon *d = user_data;

    if (job->taken)
        return; /* the final save dealt with it (the daemon may be gone) */
    d->save_job = NULL;
    save_finish(d, job);
    if (d->dirty)
        schedule_save(d);
}

/* Starts a save in a worker; FALSE when it has to wait (a save is
 * running, or a record is half assembled). */
static gboolean
save_begin(McedDaemon *d)
{
    g_autoptr(GTask) task = NULL;
    SaveJob *job;

    if (d->save_job != NULL)
        return FALSE;
    if (!d->dirty)
        return TRUE;
    if (!mced_replay_quiescent(d->replay))
        return FALSE;
    release_awaiting(d, FALSE);
    refresh_state_snapshot(d);
    job = g_new0(SaveJob, 1);
    g_mutex_init(&job->lock);
    g_cond_init(&job->cond);
    job->store = d->store;
    job->incidents = g_ptr_array_new_with_free_func((GDestroyNotify)mced_incident_unref);
    job->lines = g_ptr_array_new_with_free_func(g_free);
    for (GList *l = d->unwritten.head; l != NULL; l = l->next) {
        g_ptr_array_add(job->incidents, mced_incident_ref(l->data));
        g_ptr_array_add(job->lines, mced_store_history_line(d->store, l->data));
    }
    job->state_text = mced_state_to_text(d->state);
    d->dirty = FALSE;
    d->save_job = job;
    task = g_task_new(NULL, NULL, on_save_done, d);
    g_task_set_task_data(task, job, save_job_free);
    g_task_run_in_thread(task, save_thread);
    return TRUE;
}

/* The save in flight, if any, is over and its result applied. */
static void
save_settle(McedDaemon *d)
{
    SaveJob *job = d->save_job;

    if (job == NULL)
        return;
    save_wait(job);
    job->taken = TRUE;
    d->save_job = NULL;
    save_finish(d, job);
}

static gboolean
on_save_timer(gpointer user_data)
{
    McedDaemon *d = user_data;

    d->save_timer = 0;
    if (!save_begin(d))
        schedule_save(d);
    return G_SOURCE_REMOVE;
}

static void
schedule_save(McedDaemon *d)
{
    if (d->save_timer == 0)
        d->save_timer = g_timeout_add(SAVE_DELAY_MS, on_save_timer, d);
}

/* ---- live time --------------------------------------------------------- */

static gboolean
on_live_timer(gpointer user_data)
{
    McedDaemon *d = user_data;

    d->live_timer = 0;
    /* A record is about to be closed incomplete: read what the journal
     * has first, in case its last line is there and we were not woken. */
    if (d->journal != NULL)
        mced_journal_source_poll(d->journal);
    /* Behind on a burst, the rest of a record may be in what is unread:
     * a record times out only once everything there was has been read. */
    if (d->journal == NULL || mced_journal_source_caught_up(d->journal))
        mced_replay_expire(d->replay, g_get_monotonic_time());
    mced_correlator_expire(d->correlator, g_get_real_time());
    arm_live_timer(d);
    if (d->dirty)
        schedule_save(d);
    return G_SOURCE_REMOVE;
}

/* Once caught up, records and incidents end by the clock. */
static void
arm_live_timer(McedDaemon *d)
{
    gint64 next_mono = mced_replay_next_deadline(d->replay);
    gint64 next_real = mced_correlator_next_deadline(d->correlator);
    gint64 wait_us = G_MAXINT64;

    if (!d->caught_up)
        return;
    if (next_mono >= 0)
        wait_us = MIN(wait_us, next_mono - g_get_monotonic_time());
    if (next_real >= 0)
        wait_us = MIN(wait_us, next_real - g_get_real_time());
    if (wait_us == G_MAXINT64)
        return;
    if (d->live_timer != 0)
        g_source_remove(d->live_timer);
    wait_us = CLAMP(wait_us, 0, G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC);
    d->live_timer = g_timeout_add((guint)((wait_us + 999) / 1000), on_live_timer, d);
}

/* ---- service manager -------------------------------------------------- */

static const char *
source_description(McedDaemon *d)
{
    if (d->journal != NULL)
        return mced_journal_source_describe(d->journal);
    if (d->kmsg != NULL)
        return mced_kmsg_source_describe(d->kmsg);
    return "no source";
}

/* STATUS= for systemctl status; a no-op outside a notify service. */
static void
notify_status(McedDaemon *d, const char *prefix)
{
    guint n_open = mced_correlator_n_open(d->correlator);

    mced_bus_status_changed(d->bus);
    (void)sd_notifyf(0, "%sSTATUS=%s %s; %u incident%s open%s", prefix != NULL ? prefix : "",
                     d->source_degraded ? "Degraded: cannot read" : "Following",
                     source_description(d), n_open, n_open == 1 ? "" : "s",
                     d->libvirt != NULL && !mced_libvirt_is_connected(d->libvirt)
                         ? "; libvirt is away"
                         : "");
}

static gboolean
on_watchdog(gpointer user_data)
{
    (void)sd_notify(0, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

/* READY=1 once the source has caught up with what was already there: from
 * then on machine checks are seen as they happen. */
static void
notify_ready(McedDaemon *d)
{
    guint64 usec = 0;

    if (d->ready)
        return;
    d->ready = TRUE;
    notify_status(d, "READY=1\n");
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        d->watchdog_timer = g_timeout_add(MAX(usec / 2000, 1), on_watchdog, d);
}

/* A source that fails is reported once, and again once it reads. */
static void
note_source_state(McedDaemon *d, const char *source, const GError *error)
{
    if (error != NULL && !d->source_degraded) {
        d->source_degraded = TRUE;
        mced_log_event(d->log, LOG_ERR, MCED_MSGID_SOURCE_DEGRADED,
                       "Source %s is degraded: %s; machine checks it reports may be missed until "
                       "it recovers",
                       source, error->message);
        notify_status(d, NULL);
    } else if (error == NULL && d->source_degraded) {
        d->source_degraded = FALSE;
        mced_log_event(d->log, LOG_NOTICE, MCED_MSGID_SOURCE_RECOVERED,
                       "Source %s recovered", source);
        notify_status(d, NULL);
    }
}

static void
on_batch(McedDaemon *d, gboolean caught_up)
{
    /* Only the backlog at startup is history: once live, a burst bigger
     * than one read batch is still happening now. */
    d->caught_up = caught_up || d->ready;
    if (caught_up) {
        arm_live_timer(d);
        notify_ready(d);
    }
    if (d->dirty)
        schedule_save(d);
}

static void
on_journal_batch(McedJournalSource *src, gboolean caught_up, const GError *error,
                 gpointer user_data)
{
    note_source_state(user_data, mced_journal_source_describe(src), error);
    on_batch(user_data, caught_up);
}

static void
on_kmsg_batch(McedKmsgSource *src, gboolean caught_up, const GError *error, gpointer user_data)
{
    note_source_state(user_data, mced_kmsg_source_describe(src), error);
    on_batch(user_data, caught_up);
}

/* ---- libvirt ----------------------------------------------------------- */

static gboolean
opens_incidents(const McedObservation *obs)
{
    const char *event = obs->str[MCED_STR_EVENT];

    return obs->kind != MCED_OBS_QMP
           || (!mced_qmp_is_panic(obs) && g_strcmp0(event, "RESET") != 0);
}

/* Held observations whose VM now has an incident join it; expired ones
 * are reported (a panic) or dropped (a reset). */
static void
flush_held(McedDaemon *d, gint64 now_us)
{
    GList *l = d->held.head;

    while (l != NULL) {
        GList *next = l->next;
        Held *h = l->data;
        gint64 t = h->obs->realtime_us;

        if (mced_correlator_lookup(d->correlator, h->vm, t) != NULL) {
            (void)mced_correlator_add(d->correlator, h->obs, h->vm);
            d->dirty = TRUE;
        } else if (now_us >= h->until_us) {
            if (mced_qmp_is_panic(h->obs))
                mced_log_event(d->log, LOG_WARNING, MCED_MSGID_GUEST_PANIC,
                               "Guest of domain '%s' panicked (%s) with no machine check around "
                               "it: a guest crash, not hardware",
                               h->vm->name != NULL ? h->vm->name : h->vm->uuid,
                               h->obs->str[MCED_STR_EVENT]);
        } else {
            l = next;
            continue;
        }
        g_queue_delete_link(&d->held, l);
        held_free(h);
        l = next;
    }
}

static gboolean
on_held_timer(gpointer user_data)
{
    McedDaemon *d = user_data;

    d->held_timer = 0;
    flush_held(d, g_get_real_time());
    if (!g_queue_is_empty(&d->held))
        d->held_timer = g_timeout_add(250, on_held_timer, d);
    return G_SOURCE_REMOVE;
}

static void
on_libvirt_observation(McedObservation *obs, const McedDomainInfo *dom, gpointer user_data)
{
    McedDaemon *d = user_data;
    g_autoptr(McedVmRef) vm = mced_vm_ref_new(dom->name, dom->uuid, -1);

    if (opens_incidents(obs)) {
        (void)mced_correlator_add(d->correlator, obs, vm);
        d->dirty = TRUE;
        mced_observation_unref(obs);
    } else if (mced_correlator_lookup(d->correlator, vm, obs->realtime_us) != NULL) {
        (void)mced_correlator_add(d->correlator, obs, vm);
        d->dirty = TRUE;
        mced_observation_unref(obs);
    } else {
        Held *h = g_new0(Held, 1);

        if (g_queue_get_length(&d->held) >= MAX_HELD)
            held_free(g_queue_pop_head(&d->held));
        h->obs = obs;
        h->vm = g_steal_pointer(&vm);
        h->until_us = g_get_real_time() + d->config->correlation_window_us;
        g_queue_push_tail(&d->held, h);
        if (d->held_timer == 0)
            d->held_timer = g_timeout_add(250, on_held_timer, d);
    }
    flush_held(d, g_get_real_time());
    arm_live_timer(d);
    schedule_save(d);
}

static gboolean
on_rescan(gpointer user_data)
{
    McedDaemon *d = user_data;
    g_autoptr(GError) error = NULL;

    d->rescan_idle = 0;
    (void)mced_registry_scan(d->registry, &error);
    return G_SOURCE_REMOVE;
}

static void
on_libvirt_domain(const McedDomainInfo *dom, gpointer user_data)
{
    McedDaemon *d = user_data;

    /* A domain that runs has a QEMU process now: find it and its threads
     * while they are there, so later lines attribute even after it dies. */
    if (dom->id >= 0 && d->rescan_idle == 0)
        d->rescan_idle = g_idle_add(on_rescan, d);
}

/* Actions that were running when kvm-mced stopped: what became of them is
 * read off the domains' real state now, once. */
static void
reconcile_actions(McedDaemon *d)
{
    while (d->state->actions->len > 0) {
        McedActionRecord *a = d->state->actions->pdata[0];
        const McedDomainInfo *dom = mced_libvirt_lookup_uuid(d->libvirt, a->uuid);
        gboolean here = dom != NULL && dom->id >= 0;
        gboolean done;
        const char *detail;

        if (g_str_equal(a->action, "migrate")) {
            done = !here;
            detail = done ? "reconciled after a restart: the domain left this host"
                          : "reconciled after a restart: the domain still runs here";
        } else if (g_str_equal(a->action, "destroy")) {
            done = !here;
            detail = done ? "reconciled after a restart: the domain is off"
                          : "reconciled after a restart: the domain still runs";
        } else if (g_str_equal(a->action, "pause")) {
            done = here && dom->state == VIR_DOMAIN_PAUSED;
            detail = done ? "reconciled after a restart: the domain is paused"
                          : "reconciled after a restart: the domain is not paused";
        } else if (g_str_equal(a->action, "restart") || g_str_equal(a->action, "reset")
                   || g_str_equal(a->action, "reboot")) {
            done = here;
            detail = done ? "reconciled after a restart: the domain runs"
                          : "reconciled after a restart: the domain does not run";
        } else {
            done = FALSE;
            detail = "reconciled after a restart: its outcome cannot be told";
        }
        mced_log_action(d->log, done ? LOG_NOTICE : LOG_WARNING,
                        done ? MCED_MSGID_ACTION_SUCCEEDED : MCED_MSGID_ACTION_FAILED,
                        a->incident_id, FALSE, a->domain, a->uuid, a->action,
                        done ? "succeeded" : "failed", detail,
                        "Action %s for domain '%s' (incident %s) %s: %s", a->action,
                        a->domain != NULL ? a->domain : a->uuid,
                        a->incident_id != NULL ? a->incident_id : "-",
                        done ? "succeeded" : "failed", detail);
        g_ptr_array_remove_index(d->state->actions, 0);
        d->dirty = TRUE;
    }
    schedule_save(d);
}

static void
on_migration_pass(const McedDomainInfo *dom, int iteration, gpointer user_data)
{
    McedDaemon *d = user_data;

    mced_log_action(d->log, LOG_INFO, NULL, NULL, FALSE, dom->name, dom->uuid, "migrate",
                    "progress", NULL, "Migration of domain '%s': pass %d over its memory", dom->name,
                    iteration);
}

static void
on_libvirt_connection(gboolean up, const char *detail, gpointer user_data)
{
    McedDaemon *d = user_data;

    if (up && !d->reconciled) {
        d->reconciled = TRUE;
        reconcile_actions(d);
    }
    if (up) {
        mced_log_event(d->log, LOG_INFO, MCED_MSGID_SOURCE_RECOVERED,
                       "Connected to libvirt at %s (%s QMP events)", detail,
                       mced_libvirt_has_qmp(d->libvirt) ? "with raw" : "without raw");
        d->libvirt_away = FALSE;
    } else if (!d->libvirt_away) {
        mced_log_event(d->log, LOG_WARNING, MCED_MSGID_SOURCE_DEGRADED,
                       "libvirt is away (%s); attributing from /proc meanwhile and reconnecting",
                       detail);
        d->libvirt_away = TRUE;
    }
}

/* The health element of a domain's libvirt metadata: docs/libvirt-metadata.md. */
static char *
health_xml(McedDaemon *d, const McedIncident *inc, const char *action_xml)
{
    const McedDomainCounters *c = g_hash_table_lookup(d->state->domains,
                                                      mced_vm_ref_key(inc->vm));
    guint64 counts[_MCED_CLASS_MAX] = { 0 };
    g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(inc->first_us / G_USEC_PER_SEC);
    g_autofree char *when = t != NULL ? g_date_time_format_iso8601(t) : g_strdup("");
    g_autofree char *head = NULL;
    const char *state;
    guint64 total = 0;

    if (c != NULL)
        memcpy(counts, c->incidents, sizeof(counts));
    if (inc->state == MCED_INCIDENT_OPEN)
        counts[inc->klass]++;
    for (int i = 0; i < _MCED_CLASS_MAX; i++)
        total += counts[i];
    state = counts[MCED_CLASS_FATAL] > 0 ? "fatal" : total > 0 ? "degraded" : "healthy";
    head = g_markup_printf_escaped(
        "<health state=\"%s\" incidents=\"%" G_GUINT64_FORMAT "\">"
        "<last-incident id=\"%s\" class=\"%s\" time=\"%s\" open=\"%s\"/>"
        "<counts corrected=\"%" G_GUINT64_FORMAT "\" guest=\"%" G_GUINT64_FORMAT
        "\" fatal=\"%" G_GUINT64_FORMAT "\"/>",
        state, total, inc->id, mced_incident_class_to_string(inc->klass), when,
        inc->state == MCED_INCIDENT_OPEN ? "yes" : "no", counts[MCED_CLASS_CORRECTED],
        counts[MCED_CLASS_GUEST], counts[MCED_CLASS_FATAL]);
    return g_strconcat(head, action_xml != NULL ? action_xml : "", "</health>", NULL);
}

static void
on_health_written(const char *uuid, const GError *error, gpointer user_data)
{
    McedDaemon *d = user_data;

    if (error != NULL)
        mced_log_event(d->log, LOG_WARNING, NULL,
                       "Cannot record health in the metadata of domain %s: %s", uuid,
                       error->message);
}

/* The outcome of an action goes into the domain's health too. */
static void
record_action_health(McedDaemon *d, const McedActionRequest *req, gboolean ok)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *when = g_date_time_format_iso8601(now);
    const McedIncident *inc;
    g_autofree char *xml = NULL;

    if (req->uuid == NULL || d->libvirt == NULL)
        return;
    g_hash_table_replace(d->health_act, g_strdup(req->uuid),
                         g_markup_printf_escaped("<last-action name=\"%s\" result=\"%s\" "
                                                 "time=\"%s\" incident=\"%s\"/>",
                                                 req->action, ok ? "succeeded" : "failed", when,
                                                 req->incident_id != NULL ? req->incident_id : ""));
    inc = g_hash_table_lookup(d->health_inc, req->uuid);
    if (inc == NULL || g_str_equal(req->action, "migrate"))
        return; /* a migrated domain's metadata went with it */
    xml = health_xml(d, inc, g_hash_table_lookup(d->health_act, req->uuid));
    mced_libvirt_set_health(d->libvirt, req->uuid, xml, on_health_written, d);
}

static void
write_health(McedDaemon *d, const McedIncident *inc)
{
    g_autofree char *xml = NULL;

    if (d->libvirt == NULL || inc->vm->uuid == NULL || inc->synthetic)
        return;
    g_hash_table_replace(d->health_inc, g_strdup(inc->vm->uuid),
                         mced_incident_ref((McedIncident *)inc));
    xml = health_xml(d, inc, g_hash_table_lookup(d->health_act, inc->vm->uuid));
    mced_libvirt_set_health(d->libvirt, inc->vm->uuid, xml, on_health_written, d);
}

/* Observations from a domain's own QEMU log belong to that domain. */
static void
on_qemu_observation(McedObservation *obs, gpointer user_data)
{
    McedDaemon *d = user_data;
    const char *name = d->qemu_log_domain;
    const McedDomainInfo *dom = d->libvirt != NULL && name != NULL
                                    ? mced_libvirt_lookup_name(d->libvirt, name)
                                    : NULL;
    g_autoptr(McedVmRef) vm = mced_vm_ref_new(name, dom != NULL ? dom->uuid : NULL, -1);

    (void)mced_correlator_add(d->correlator, obs, vm);
    mced_observation_unref(obs);
    d->dirty = TRUE;
    flush_held(d, g_get_real_time());
    arm_live_timer(d);
    schedule_save(d);
}

static void
on_qemu_log_line(const char *name, const char *line, gsize len, const char *cursor,
                 gpointer user_data)
{
    McedDaemon *d = user_data;
    McedTextLine t;
    McedLineInfo info;

    mced_text_strip(line, len, &t);
    info = (McedLineInfo){
        /* QEMU's -msg timestamp=on puts the wall clock on each line. */
        .realtime_us = t.realtime_us != 0 ? t.realtime_us : g_get_real_time(),
        .cursor = cursor,
        .raw = line,
        .raw_len = len,
    };
    d->qemu_log_domain = name;
    mced_replay_feed(d->qemu_replay, &info, t.msg, t.msg_len);
    d->qemu_log_domain = NULL;
}

static void
start_qemu_logs(McedDaemon *d)
{
    const char *dir = d->opts.qemu_log_directory != NULL ? d->opts.qemu_log_directory
                                                         : d->config->qemu_log_directory;
    g_autoptr(GError) error = NULL;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        mced_log_event(d->log, LOG_INFO, NULL, "No QEMU log directory at %s: not following QEMU logs",
                       dir);
        return;
    }
    d->qemu_replay = mced_replay_new(on_qemu_observation, d);
    d->qemu_log = mced_qemu_log_new(dir, on_qemu_log_line, d, &error);
    if (d->qemu_log == NULL)
        mced_log_event(d->log, LOG_WARNING, MCED_MSGID_SOURCE_DEGRADED,
                       "Cannot follow the QEMU logs: %s", error->message);
}

static void
start_libvirt(McedDaemon *d)
{
    static const McedLibvirtCallbacks callbacks = {
        .domain_changed = on_libvirt_domain,
        .observation = on_libvirt_observation,
        .migration_pass = on_migration_pass,
        .connection = on_libvirt_connection,
    };
    const char *uri = d->opts.libvirt_uri != NULL ? d->opts.libvirt_uri : d->config->libvirt_uri;

    if (d->config->libvirt == MCED_TRISTATE_NO && d->opts.libvirt_uri == NULL)
        return;
    mced_libvirt_init_event_loop();
    d->libvirt = mced_libvirt_new(uri, (const char *const *)d->config->qmp_events,
                                  d->config->reconnect_max_us, &callbacks, d);
    mced_libvirt_start(d->libvirt);
}

/* ---- policy and actions ------------------------------------------------ */

static void pump_evacuation(McedDaemon *d);
static void record_action_health(McedDaemon *d, const McedActionRequest *req, gboolean ok);
static void check_host(McedDaemon *d);

static const char *const result_names[] = {
    [MCED_ACTION_RESULT_DONE] = NULL,
    [MCED_ACTION_RESULT_STARTED] = "started",
    [MCED_ACTION_RESULT_DRY_RUN] = "dry-run",
    [MCED_ACTION_RESULT_SKIPPED] = NULL,
    [MCED_ACTION_RESULT_SUCCEEDED] = "succeeded",
    [MCED_ACTION_RESULT_FAILED] = "failed",
};

static void
on_action_result(const McedActionRequest *req, McedActionResult result, const char *detail,
                 gpointer user_data)
{
    McedDaemon *d = user_data;
    McedIncident *inc = find_incident(d, req->incident_id);

    if (inc != NULL)
        mced_incident_add_action(inc, req->action,
                                 result_names[result] != NULL ? result_names[result]
                                 : result == MCED_ACTION_RESULT_SKIPPED ? "skipped"
                                                                        : "done",
                                 detail, g_get_real_time());
    /* What is in flight survives a restart, to be checked afterwards. */
    if (result == MCED_ACTION_RESULT_STARTED) {
        mced_state_action_started(d->state, req->incident_id, req->domain, req->uuid,
                                  req->action, g_get_real_time());
        d->dirty = TRUE;
        schedule_save(d);
    } else if (result == MCED_ACTION_RESULT_SUCCEEDED || result == MCED_ACTION_RESULT_FAILED) {
        mced_state_action_ended(d->state, req->uuid);
        d->dirty = TRUE;
        schedule_save(d);
        record_action_health(d, req, result == MCED_ACTION_RESULT_SUCCEEDED);
        pump_evacuation(d);
    }
    mced_bus_action_changed(d->bus, req->incident_id, req->synthetic, req->domain, req->action,
                            result_names[result] != NULL ? result_names[result]
                            : result == MCED_ACTION_RESULT_SKIPPED ? "skipped"
                                                                   : "done",
                            detail);
    if (d->hooks != NULL && result_names[result] != NULL)
        mced_hooks_run_action(d->hooks, req->incident_id, req->synthetic, req->domain, req->uuid,
                              req->action,
                              result_names[result], detail);
}

static void
on_hook_done(const char *path, const char *event, int status, const char *reason,
             gpointer user_data)
{
    McedDaemon *d = user_data;

    if (status != 0)
        mced_log_event(d->log, LOG_WARNING, NULL, "Hook %s (%s): %s", path, event,
                       reason != NULL ? reason : "failed");
}

static void
apply_settings(McedDaemon *d)
{
    McedActionSettings s = {
        .migrate_peers = d->policy->migrate_peers,
        .migrate_uri = d->policy->migrate_uri,
        .listen_address = d->policy->migrate_listen_address,
        .migrate_timeout_us = d->policy->migrate_timeout_us,
        .action_timeout_us = d->policy->action_timeout_us,
        .dump_directory = d->policy->dump_directory,
    };

    if (d->actions != NULL)
        mced_actions_set_settings(d->actions, &s);
}

/* The policy decides when a domain incident opens, and again when it gets
 * worse (a panic makes a guest incident fatal). Never for incidents read
 * from a backlog: what happened while kvm-mced was down is recorded, not
 * acted on hours later. */
static void
apply_policy(McedDaemon *d, McedIncidentEvent event, const McedIncident *inc)
{
    McedDomainCounters *dc = NULL;
    gpointer seen;
    gint64 now = g_get_real_time();
    g_autoptr(McedDecision) dec = NULL;
    g_autoptr(McedPolicyOverride) override = NULL;
    g_autoptr(GString) reason = NULL;
    g_autoptr(GArray) drill_times = NULL;
    McedPolicyInput in;
    McedActionRequest req;

    if (event == MCED_INCIDENT_EVENT_CLOSED || event == MCED_INCIDENT_EVENT_MERGED) {
        g_hash_table_remove(d->acted, inc->id);
        return;
    }
    if (d->policy == NULL)
        return;
    if (inc->vm == NULL || inc->klass == MCED_CLASS_HOST) {
        /* A drill of the host rehearses the log and the hooks only: it must
         * not count towards declaring the host degraded. */
        if (event == MCED_INCIDENT_EVENT_OPENED && !inc->synthetic) {
            McedDomainCounters *host = mced_state_note_incident_time(d->state, NULL,
                                                                     MCED_CLASS_HOST,
                                                                     inc->first_us);
            mced_policy_prune_times(host->times[MCED_CLASS_HOST], g_get_real_time(),
                                    mced_policy_keep_us(d->policy));
            check_host(d);
        }
        return;
    }
    if (g_hash_table_lookup_extended(d->acted, inc->id, NULL, &seen)
        && GPOINTER_TO_INT(seen) >= (int)inc->klass)
        return;
    g_hash_table_replace(d->acted, g_strdup(inc->id), GINT_TO_POINTER((int)inc->klass));
    in = (McedPolicyInput){
        .name = inc->vm->name,
        .uuid = inc->vm->uuid,
        .klass = inc->klass,
        .now_us = now,
        .actions_last_hour = d->actions != NULL ? mced_actions_in_last_hour(d->actions, now) : 0,
        .migrations_in_flight = d->actions != NULL ? mced_actions_migrations_in_flight(d->actions)
                                                   : 0,
    };
    if (inc->synthetic) {
        /* A drill is decided as if it were real, on the domain's real
         * counters plus itself, and changes none of them. */
        const McedDomainCounters *real = mced_state_find_domain(
            d->state, inc->vm->uuid != NULL ? inc->vm->uuid : inc->vm->name);

        drill_times = g_array_new(FALSE, FALSE, sizeof(gint64));
        if (real != NULL && real->times[inc->klass] != NULL)
            g_array_append_vals(drill_times, real->times[inc->klass]->data,
                                real->times[inc->klass]->len);
        g_array_append_val(drill_times, inc->first_us);
        mced_policy_prune_times(drill_times, now, mced_policy_keep_us(d->policy));
        in.times = drill_times;
        in.last_action_us = real != NULL ? real->last_action_us : 0;
    } else {
        dc = mced_state_note_incident_time(d->state, inc->vm, inc->klass, inc->first_us);
        mced_policy_prune_times(dc->times[inc->klass], now, mced_policy_keep_us(d->policy));
        if (!d->caught_up && d->journal != NULL) {
            mced_log_event(d->log, LOG_INFO, NULL,
                           "Incident %s is from the backlog: recorded, no action taken", inc->id);
            return;
        }
        in.times = dc->times[inc->klass];
        in.last_action_us = dc->last_action_us;
    }
    {
        const McedDomainInfo *dom = d->libvirt != NULL
                                        ? mced_libvirt_lookup_uuid(d->libvirt, inc->vm->uuid)
                                        : NULL;
        g_autoptr(GError) ovr_error = NULL;

        if (dom != NULL && dom->policy_xml != NULL
            && !mced_policy_parse_override(dom->policy_xml, &override, &ovr_error))
            mced_log_event(d->log, LOG_WARNING, NULL,
                           "Policy in the metadata of domain '%s' is not valid (%s), ignoring",
                           inc->vm->name != NULL ? inc->vm->name : inc->vm->uuid,
                           ovr_error->message);
        in.override = override;
    }
    dec = mced_policy_decide(d->policy, &in);
    reason = g_string_new(dec->reason != NULL ? dec->reason : dec->source);
    for (guint i = 0; dec->guards != NULL && i < dec->guards->len; i++)
        g_string_append_printf(reason, "; %s", (const char *)dec->guards->pdata[i]);
    req = (McedActionRequest){
        .incident_id = inc->id,
        .domain = inc->vm->name,
        .uuid = inc->vm->uuid,
        .action = mced_action_to_string(dec->action),
        .fallback = dec->fallback != _MCED_ACTION_INVALID ? mced_action_to_string(dec->fallback)
                                                          : NULL,
        .reason = reason->str,
        .dry_run = dec->dry_run, /* a drill is made one by the action chokepoint */
        .synthetic = inc->synthetic,
        .dump_first = dec->dump_first,
    };
    if (d->actions != NULL
        && mced_actions_request(d->actions, &req) == MCED_ACTION_RESULT_STARTED && dc != NULL)
        dc->last_action_us = now;
    d->dirty = TRUE;
    if (!inc->synthetic)
        check_host(d);
}

/* Migrates queued domains away while the limits allow; the rest wait for
 * an action to finish. */
static void
pump_evacuation(McedDaemon *d)
{
    gint64 now = g_get_real_time();

    while (!g_queue_is_empty(&d->evacuation) && d->actions != NULL
           && mced_actions_migrations_in_flight(d->actions)
                  < d->policy->max_concurrent_migrations
           && mced_actions_in_last_hour(d->actions, now) < d->policy->max_actions_per_hour) {
        g_autofree char *uuid = g_queue_pop_head(&d->evacuation);
        const McedDomainInfo *dom = mced_libvirt_lookup_uuid(d->libvirt, uuid);
        McedActionRequest req;

        if (dom == NULL || dom->id < 0 || mced_actions_busy(d->actions, uuid))
            continue;
        req = (McedActionRequest){
            .domain = dom->name,
            .uuid = dom->uuid,
            .action = "migrate",
            .reason = "evacuation: the host is degraded",
            .dry_run = d->policy->dry_run,
        };
        (void)mced_actions_request(d->actions, &req);
    }
}

static McedIncidentClass
worst_class(const McedDomainCounters *dc)
{
    for (int k = MCED_CLASS_FATAL; k >= MCED_CLASS_CORRECTED; k--)
        if (dc != NULL && (dc->incidents[k] > 0 || dc->times[k]->len > 0))
            return (McedIncidentClass)k;
    return _MCED_CLASS_INVALID;
}

static void
start_evacuation(McedDaemon *d)
{
    g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(McedEvacuee));
    g_autoptr(GPtrArray) uuids = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    if (d->libvirt == NULL)
        return;
    g_hash_table_iter_init(&it, mced_libvirt_get_domains(d->libvirt));
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const McedDomainInfo *dom = value;
        McedEvacuee e = { .name = dom->name,
                          .worst = worst_class(g_hash_table_lookup(d->state->domains,
                                                                   dom->uuid)) };
        if (dom->id < 0)
            continue;
        g_array_append_val(v, e);
        g_ptr_array_add(uuids, dom->uuid);
    }
    if (v->len > 0)
        mced_policy_sort_evacuees(d->policy, &g_array_index(v, McedEvacuee, 0), v->len);
    for (guint i = 0; i < v->len; i++) {
        const McedDomainInfo *dom =
            mced_libvirt_lookup_name(d->libvirt, g_array_index(v, McedEvacuee, i).name);
        if (dom != NULL)
            g_queue_push_tail(&d->evacuation, g_strdup(dom->uuid));
    }
    mced_log_event(d->log, LOG_WARNING, NULL, "Evacuating %u running domain%s in %s order",
                   v->len, v->len == 1 ? "" : "s",
                   d->policy->evacuation_order == MCED_EVACUATE_FATAL_FIRST ? "fatal-first" : "name");
    pump_evacuation(d);
}

/* Host escalation: many host errors, or incidents on several domains,
 * within the policy's period make the host degraded. */
static void
check_host(McedDaemon *d)
{
    const McedDomainCounters *host = g_hash_table_lookup(d->state->domains, "host");
    g_autoptr(GArray) latest = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autofree char *reason = NULL;
    GHashTableIter it;
    gpointer key, value;
    const gint64 *latest_v;
    gboolean degraded;

    g_hash_table_iter_init(&it, d->state->domains);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const McedDomainCounters *dc = value;
        gint64 t = 0;
        if (g_str_equal(key, "host"))
            continue;
        for (int k = 0; k < _MCED_CLASS_MAX; k++)
            if (dc->times[k]->len > 0)
                t = MAX(t, g_array_index(dc->times[k], gint64, dc->times[k]->len - 1));
        if (t > 0)
            g_array_append_val(latest, t);
    }
    /* An empty GArray has no data: no pointer arithmetic on it. */
    latest_v = latest->len > 0 ? &g_array_index(latest, gint64, 0) : NULL;
    degraded = mced_policy_host_degraded(d->policy, host != NULL ? host->times[MCED_CLASS_HOST]
                                                                 : NULL,
                                         latest_v, latest->len, g_get_real_time(), &reason);
    if (degraded && !d->host_degraded) {
        d->host_degraded = TRUE;
        mced_log_event(d->log, LOG_CRIT, MCED_MSGID_HOST_DEGRADED, "This host is degraded: %s",
                       reason != NULL ? reason : "machine checks keep coming");
        if (d->policy->evacuate)
            start_evacuation(d);
    } else if (!degraded && d->host_degraded) {
        d->host_degraded = FALSE;
        mced_log_event(d->log, LOG_NOTICE, MCED_MSGID_HOST_RECOVERED,
                       "This host is no longer degraded");
    }
}

static void
start_actions(McedDaemon *d)
{
    g_autofree char *dir = NULL;

    d->actions = mced_actions_new(d->libvirt, d->log, on_action_result, d);
    apply_settings(d);
    if (d->opts.hooks_directory != NULL)
        dir = g_strdup(d->opts.hooks_directory);
    else {
        g_autofree char *conf_dir = g_path_get_dirname(d->config_file);
        dir = g_build_filename(conf_dir, "hooks.d", NULL);
    }
    d->hooks = mced_hooks_new(dir, 0, 0);
    mced_hooks_set_callback(d->hooks, on_hook_done, d);
}

/* ---- signals ----------------------------------------------------------- */

static gboolean
on_stop_signal(gpointer user_data)
{
    McedDaemon *d = user_data;

    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static McedPolicy *
load_policy(const McedConfig *cfg, GError **error)
{
    g_autoptr(GPtrArray) files = g_ptr_array_new();

    for (guint i = 0; i < cfg->files->len; i++)
        g_ptr_array_add(files, cfg->files->pdata[i]);
    g_ptr_array_add(files, NULL);
    return mced_policy_load((const char *const *)files->pdata, error);
}

/* SIGHUP, systemctl reload and the D-Bus Reload method. */
static gboolean
reload_config(McedDaemon *d, GError **ret_error)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;
    g_autoptr(McedPolicy) policy = NULL;

    (void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" G_GINT64_FORMAT "\nSTATUS=Reloading %s",
                     g_get_monotonic_time(), d->config_file);
    cfg = mced_config_load(d->config_file, &error);
    policy = cfg != NULL ? load_policy(cfg, &error) : NULL;
    if (cfg == NULL || policy == NULL) {
        mced_log_event(d->log, LOG_ERR, NULL,
                       "Reload failed, keeping the running configuration: %s", error->message);
        notify_status(d, "READY=1\n");
        g_propagate_error(ret_error, g_steal_pointer(&error));
        return FALSE;
    }
    mced_config_free(d->config);
    d->config = g_steal_pointer(&cfg);
    mced_policy_free(d->policy);
    d->policy = g_steal_pointer(&policy);
    apply_settings(d);
    mced_correlator_set_window(d->correlator, d->config->correlation_window_us);
    mced_log_event(d->log, LOG_INFO, NULL, "Configuration reloaded from %s", d->config_file);
    notify_status(d, "READY=1\n");
    return TRUE;
}

static gboolean
on_sighup(gpointer user_data)
{
    (void)reload_config(user_data, NULL);
    return G_SOURCE_CONTINUE;
}

/* ---- D-Bus ------------------------------------------------------------- */

static void
bus_status(gpointer user_data, McedBusStatus *ret)
{
    McedDaemon *d = user_data;

    ret->health = d->host_degraded ? "degraded" : "ok";
    ret->open_incidents = mced_correlator_n_open(d->correlator);
    ret->domains_affected = mced_state_n_domains(d->state);
    ret->dry_run = d->policy->dry_run;
    ret->source = source_description(d);
    ret->source_state = d->source_degraded ? "degraded" : d->caught_up ? "live" : "catching-up";
}

/* Incidents not in the history yet, oldest first: closed ones waiting to
 * be written or for their action to end, then the open ones. */
static GPtrArray *
newer_incidents(McedDaemon *d)
{
    g_autoptr(GPtrArray) open = mced_correlator_get_open(d->correlator);
    GPtrArray *newer = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    for (GList *l = d->unwritten.head; l != NULL; l = l->next)
        g_ptr_array_add(newer, l->data);
    g_hash_table_iter_init(&iter, d->awaiting);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(newer, value);
    g_ptr_array_extend(newer, open, NULL, NULL);
    return newer;
}

static json_object *
bus_incidents(gpointer user_data)
{
    McedDaemon *d = user_data;
    g_autoptr(GPtrArray) newer = newer_incidents(d);

    return mced_store_list_incidents(d->store, newer);
}

static json_object *
bus_incident(gpointer user_data, const char *id)
{
    McedDaemon *d = user_data;
    g_autoptr(GPtrArray) newer = newer_incidents(d);

    return mced_store_get_incident(d->store, newer, id);
}

static char *
bus_explain(gpointer user_data, const char *domain)
{
    McedDaemon *d = user_data;
    const McedDomainCounters *dc = mced_state_find_domain(d->state, domain);
    const GArray *times[_MCED_CLASS_MAX] = { NULL };
    g_autoptr(McedPolicyOverride) override = NULL;
    const McedDomainInfo *dom = NULL;
    for (int k = 0; dc != NULL && k < _MCED_CLASS_MAX; k++)
        times[k] = dc->times[k];
    if (d->libvirt != NULL)
        dom = mced_libvirt_lookup_uuid(d->libvirt,
                                       dc != NULL && dc->uuid != NULL ? dc->uuid : domain);
    if (dom != NULL && dom->policy_xml != NULL)
        (void)mced_policy_parse_override(dom->policy_xml, &override, NULL);
    return mced_policy_explain(d->policy, dc != NULL && dc->name != NULL ? dc->name : domain,
                               dc != NULL ? dc->uuid : NULL, override, times,
                               dc != NULL ? dc->last_action_us : 0, g_get_real_time());
}

static const char *
counters_health(const McedDomainCounters *c)
{
    guint64 total = 0;

    for (int i = 0; i < _MCED_CLASS_MAX; i++)
        total += c->incidents[i];
    return c->incidents[MCED_CLASS_FATAL] > 0 ? "fatal" : total > 0 ? "degraded" : "healthy";
}

static json_object *
bus_domains(gpointer user_data)
{
    McedDaemon *d = user_data;
    json_object *arr = json_object_new_array();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, d->state->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const McedDomainCounters *c = value;
        json_object *o;

        if (c->name == NULL && c->uuid == NULL)
            continue; /* the host's own counters */
        o = json_object_new_object();
        json_object_object_add(o, "name", mced_json_string_new(c->name));
        json_object_object_add(o, "uuid", mced_json_string_new(c->uuid));
        json_object_object_add(o, "health", json_object_new_string(counters_health(c)));
        json_object_object_add(o, "last_us", json_object_new_int64(c->last_incident_us));
        json_object_object_add(o, "corrected",
                               json_object_new_int64((gint64)c->incidents[MCED_CLASS_CORRECTED]));
        json_object_object_add(o, "guest",
                               json_object_new_int64((gint64)c->incidents[MCED_CLASS_GUEST]));
        json_object_object_add(o, "fatal",
                               json_object_new_int64((gint64)c->incidents[MCED_CLASS_FATAL]));
        json_object_array_add(arr, o);
    }
    return arr;
}

/* The operator has dealt with a domain: its counters start again from
 * zero and its metadata says healthy. */
static gboolean
bus_acknowledge(gpointer user_data, const char *what, char **ret_domain)
{
    McedDaemon *d = user_data;
    McedIncident *inc = g_str_has_prefix(what, "i-") ? find_incident(d, what) : NULL;
    McedDomainCounters *found = NULL;
    g_autofree char *label = NULL;
    g_autofree char *uuid = NULL;

    if (inc != NULL && inc->vm != NULL)
        found = mced_state_find_domain(d->state,
                                       inc->vm->uuid != NULL ? inc->vm->uuid : inc->vm->name);
    else if (g_str_has_prefix(what, "i-")) {
        GHashTableIter it;
        gpointer value;

        /* An incident already in the history: its domain's last one. */
        g_hash_table_iter_init(&it, d->state->domains);
        while (found == NULL && g_hash_table_iter_next(&it, NULL, &value))
            if (g_strcmp0(((McedDomainCounters *)value)->last_incident_id, what) == 0)
                found = value;
    } else {
        found = mced_state_find_domain(d->state, what);
    }
    if (found == NULL || (found->name == NULL && found->uuid == NULL))
        return FALSE;
    label = g_strdup(found->name != NULL ? found->name : found->uuid);
    uuid = g_strdup(found->uuid);
    g_hash_table_remove(d->state->domains, found->key);
    if (uuid != NULL) {
        g_hash_table_remove(d->health_inc, uuid);
        g_hash_table_remove(d->health_act, uuid);
        if (d->libvirt != NULL)
            mced_libvirt_set_health(d->libvirt, uuid,
                                    "<health state=\"healthy\" incidents=\"0\"/>",
                                    on_health_written, d);
    }
    mced_log_event(d->log, LOG_NOTICE, NULL,
                   "Domain '%s' acknowledged by the operator: its counters start again from "
                   "zero", label);
    d->dirty = TRUE;
    schedule_save(d);
    *ret_domain = g_steal_pointer(&label);
    return TRUE;
}

/* The VM an operator names: libvirt's domain, else a running QEMU
 * process with that name or UUID (hosts or tests without libvirt). */
static McedVmRef *
resolve_domain(McedDaemon *d, const char *name_or_uuid)
{
    const McedDomainInfo *dom = NULL;
    McedVmRef *vm;

    if (d->libvirt != NULL) {
        g_autofree char *lower = g_ascii_strdown(name_or_uuid, -1);

        dom = mced_libvirt_lookup_name(d->libvirt, name_or_uuid);
        if (dom == NULL)
            dom = mced_libvirt_lookup_uuid(d->libvirt, lower);
        if (dom != NULL)
            return mced_vm_ref_new(dom->name, dom->uuid, -1);
    }
    vm = mced_registry_lookup_vm(d->registry, name_or_uuid);
    if (vm == NULL && mced_registry_scan(d->registry, NULL) > 0)
        vm = mced_registry_lookup_vm(d->registry, name_or_uuid);
    return vm;
}

/* A drill goes the way of a real observation, marked synthetic: its own
 * incident, the journal, D-Bus, hooks, the policy's decision (as a dry
 * run), the history; never the counters or the domain's metadata. */
static char *
bus_drill(gpointer user_data, const char *domain, McedIncidentClass klass, const char *who,
          GError **error)
{
    McedDaemon *d = user_data;
    g_autoptr(McedVmRef) vm = NULL;
    g_autoptr(McedObservation) obs = NULL;
    g_autofree char *cursor = NULL;
    gint64 now = g_get_real_time();
    McedIncident *inc;

    if (domain != NULL) {
        vm = resolve_domain(d, domain);
        if (vm == NULL) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_NOT_FOUND,
                        "No domain '%s': neither libvirt nor a running QEMU process knows it",
                        domain);
            return NULL;
        }
    }
    cursor = g_strdup_printf("drill:%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT, now, ++d->drills);
    obs = mced_observation_new_drill(klass, now, cursor, who);
    inc = mced_correlator_add(d->correlator, obs, vm);
    if (inc == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "The drill %s was refused as a "
                    "duplicate; ask again", cursor);
        return NULL;
    }
    d->dirty = TRUE;
    arm_live_timer(d);
    schedule_save(d);
    return g_strdup(inc->id);
}

/* libvirt started, stopped or migrated a domain, and its hook told us.
 * When it was not kvm-mced's own doing and the domain has an open
 * incident or counters, it is written down (journal, incident, D-Bus) and
 * the domain's cooldown starts: no automatic action right after an
 * operator's. */
static void
bus_domain_event(gpointer user_data, const char *name, const char *uuid, const char *operation,
                 const char *sub_operation)
{
    McedDaemon *d = user_data;
    g_autofree char *lower = uuid != NULL ? g_ascii_strdown(uuid, -1) : NULL;
    g_autoptr(GPtrArray) open = NULL;
    g_autofree char *detail = NULL;
    GString *ids = g_string_new(NULL);
    McedDomainCounters *dc;
    const char *first = NULL;
    gint64 now = g_get_real_time();

    /* Starting, stopping, an incoming migration, a restore: a change of
     * the domain's life. Preparing, releasing, reconnecting are not. */
    if (strcmp(operation, "started") != 0 && strcmp(operation, "stopped") != 0
        && strcmp(operation, "migrate") != 0 && strcmp(operation, "restore") != 0)
        goto out;
    if (d->actions != NULL && mced_actions_busy(d->actions, lower))
        goto out; /* kvm-mced's own action */
    dc = mced_state_find_domain(d->state, lower != NULL ? lower : name);
    if (dc == NULL && lower != NULL)
        dc = mced_state_find_domain(d->state, name);
    detail = g_strdup_printf("libvirt hook: %s %s", operation, sub_operation);
    open = mced_correlator_get_open(d->correlator);
    for (guint i = 0; i < open->len; i++) {
        McedIncident *inc = open->pdata[i];

        if (inc->vm == NULL || inc->synthetic
            || !(lower != NULL ? g_strcmp0(inc->vm->uuid, lower) == 0
                               : g_strcmp0(inc->vm->name, name) == 0))
            continue;
        mced_incident_add_action(inc, operation, "external", detail, now);
        g_string_append_printf(ids, "%s%s", ids->len > 0 ? ", " : "", inc->id);
        if (first == NULL)
            first = inc->id;
    }
    if (dc == NULL && first == NULL)
        goto out; /* a domain kvm-mced has nothing on: routine */
    if (dc != NULL)
        dc->last_action_us = now;
    mced_log_action(d->log, LOG_NOTICE, MCED_MSGID_EXTERNAL_CHANGE, first, FALSE, name, lower,
                    operation, "external", detail,
                    "Domain '%s' %s outside kvm-mced (%s)%s%s; its cooldown starts now", name,
                    strcmp(operation, "started") == 0   ? "was started"
                    : strcmp(operation, "stopped") == 0 ? "was stopped"
                    : strcmp(operation, "migrate") == 0 ? "is migrating in"
                                                        : "was restored",
                    detail, ids->len > 0 ? "; open incident " : "", ids->str);
    mced_bus_action_changed(d->bus, first != NULL ? first : "", FALSE, name, operation,
                            "external", detail);
    d->dirty = TRUE;
    schedule_save(d);
out:
    g_string_free(ids, TRUE);
}

static void
bus_connection(gpointer user_data, gboolean up, const char *detail)
{
    McedDaemon *d = user_data;

    if (up)
        mced_log_event(d->log, LOG_INFO, NULL, "D-Bus API on %s as %s", detail, MCED_BUS_NAME);
    else
        mced_log_event(d->log, LOG_WARNING, NULL,
                       "D-Bus API unavailable (%s); connecting again, everything else runs",
                       detail);
}

static gboolean
bus_reload(gpointer user_data, GError **error)
{
    return reload_config(user_data, error);
}

static void
start_bus(McedDaemon *d)
{
    static const McedBusHandlers handlers = {
        .status = bus_status,
        .incidents = bus_incidents,
        .incident = bus_incident,
        .explain = bus_explain,
        .domains = bus_domains,
        .acknowledge = bus_acknowledge,
        .reload = bus_reload,
        .drill = bus_drill,
        .domain_event = bus_domain_event,
        .connection = bus_connection,
    };
    g_autoptr(GError) error = NULL;

    if (g_strcmp0(d->opts.bus_address, "none") == 0)
        return;
    d->bus = mced_bus_new(d->opts.bus_address, &handlers, d, &error);
    if (error != NULL)
        mced_log_event(d->log, LOG_WARNING, NULL,
                       "D-Bus API unavailable (%s); connecting again, everything else runs",
                       error->message);
    else
        mced_log_event(d->log, LOG_INFO, NULL, "D-Bus API on %s as %s",
                       d->opts.bus_address != NULL ? d->opts.bus_address : "the system bus",
                       MCED_BUS_NAME);
}

/* ---- setup ------------------------------------------------------------- */

static gboolean
stderr_is_journal(const McedPaths *paths)
{
    struct stat st;
    guint64 dev, ino;

    if (paths->journal_stream == NULL || fstat(STDERR_FILENO, &st) < 0)
        return FALSE;
    if (sscanf(paths->journal_stream, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, &dev, &ino) != 2)
        return FALSE;
    return (guint64)st.st_dev == dev && (guint64)st.st_ino == ino;
}

static void
load_known_ids(McedDaemon *d)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = mced_store_read_history(d->store, &error);

    for (guint i = 0; i < d->state->recent_ids->len; i++)
        mced_correlator_add_known_id(d->correlator, d->state->recent_ids->pdata[i]);
    if (lines == NULL)
        return;
    for (guint i = 0; i < lines->len; i++) {
        json_object *obj = json_tokener_parse(lines->pdata[i]);
        json_object *id = NULL;

        if (obj != NULL && json_object_object_get_ex(obj, "id", &id)
            && json_object_is_type(id, json_type_string))
            mced_correlator_add_known_id(d->correlator, json_object_get_string(id));
        json_object_put(obj);
    }
}

McedDaemon *
mced_daemon_new(const McedDaemonOptions *opts, GError **error)
{
    g_autoptr(McedDaemon) d = g_new0(McedDaemon, 1);
    g_autofree char *warning = NULL;

    d->opts = *opts;
    g_queue_init(&d->unwritten);
    d->awaiting = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify)mced_incident_unref);
    g_queue_init(&d->held);
    g_queue_init(&d->evacuation);
    d->paths = mced_paths_new_from_environment();
    d->config_file = g_strdup(opts->config_file != NULL ? opts->config_file
                                                         : d->paths->config_file);
    d->config = mced_config_load(d->config_file, error);
    if (d->config == NULL)
        return NULL;
    d->policy = load_policy(d->config, error);
    if (d->policy == NULL)
        return NULL;
    d->acted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d->health_inc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)mced_incident_unref);
    d->health_act = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    if (opts->state_directory != NULL)
        d->state_directory = g_strdup(opts->state_directory);
    else if (d->paths->state_directory_from_env)
        d->state_directory = g_strdup(d->paths->state_directory);
    else
        d->state_directory = g_strdup(d->config->state_directory);

    d->log = mced_log_new(!opts->no_journal_log, !stderr_is_journal(d->paths));
    d->store = mced_store_new(d->state_directory, d->config->history_max_size);
    d->state = mced_store_load(d->store, &warning, error);
    if (d->state == NULL)
        return NULL;
    if (warning != NULL)
        mced_log_event(d->log, LOG_ERR, MCED_MSGID_STATE_PROBLEM, "%s", warning);

    d->registry = mced_registry_new(opts->procfs_root != NULL ? opts->procfs_root
                                                              : d->paths->procfs_root);
    d->correlator = mced_correlator_new(d->config->correlation_window_us, on_incident, d);
    load_known_ids(d);
    for (guint i = 0; i < d->state->open_incidents->len; i++)
        mced_correlator_restore(d->correlator, d->state->open_incidents->pdata[i]);

    d->replay = mced_replay_new(on_observation, d);
    mced_replay_set_idle_timeout(d->replay, d->config->record_timeout_us);
    d->loop = g_main_loop_new(NULL, FALSE);
    return g_steal_pointer(&d);
}

void
mced_daemon_free(McedDaemon *d)
{
    if (d == NULL)
        return;
    if (d->save_job != NULL) {
        /* A worker still writes through the store: let it end first. */
        save_wait(d->save_job);
        d->save_job->taken = TRUE;
        d->save_job = NULL;
    }
    if (d->save_timer != 0)
        g_source_remove(d->save_timer);
    if (d->live_timer != 0)
        g_source_remove(d->live_timer);
    if (d->sigterm != 0)
        g_source_remove(d->sigterm);
    if (d->sigint != 0)
        g_source_remove(d->sigint);
    if (d->sighup != 0)
        g_source_remove(d->sighup);
    if (d->watchdog_timer != 0)
        g_source_remove(d->watchdog_timer);
    mced_bus_free(d->bus);
    mced_journal_source_free(d->journal);
    mced_kmsg_source_free(d->kmsg);
    mced_hooks_free(d->hooks);
    mced_actions_free(d->actions);
    mced_policy_free(d->policy);
    if (d->acted != NULL)
        g_hash_table_unref(d->acted);
    if (d->health_inc != NULL)
        g_hash_table_unref(d->health_inc);
    if (d->health_act != NULL)
        g_hash_table_unref(d->health_act);
    mced_qemu_log_free(d->qemu_log);
    mced_replay_free(d->qemu_replay);
    mced_libvirt_free(d->libvirt);
    if (d->rescan_idle != 0)
        g_source_remove(d->rescan_idle);
    if (d->held_timer != 0)
        g_source_remove(d->held_timer);
    g_queue_clear_full(&d->held, (GDestroyNotify)held_free);
    g_queue_clear_full(&d->evacuation, g_free);
    mced_replay_free(d->replay);
    mced_correlator_free(d->correlator);
    mced_registry_free(d->registry);
    mced_state_free(d->state);
    mced_store_free(d->store);
    mced_log_free(d->log);
    mced_config_free(d->config);
    mced_paths_free(d->paths);
    g_queue_clear_full(&d->unwritten, (GDestroyNotify)mced_incident_unref);
    g_clear_pointer(&d->awaiting, g_hash_table_unref);
    g_clear_pointer(&d->loop, g_main_loop_unref);
    g_clear_error(&d->fatal);
    g_free(d->config_file);
    g_free(d->state_directory);
    g_free(d);
}

static gboolean
host_has_journal(void)
{
    return g_file_test("/run/log/journal", G_FILE_TEST_IS_DIR)
           || g_file_test("/var/log/journal", G_FILE_TEST_IS_DIR);
}

static const char *
cursor_for(const McedDaemon *d, gboolean kmsg)
{
    const char *c = d->state->journal_cursor;

    /* A position belongs to the kind of source that wrote it. */
    if (c == NULL || g_str_has_prefix(c, "kmsg:") != kmsg)
        return NULL;
    return c;
}

static gboolean
start_kmsg(McedDaemon *d, GError **error)
{
    d->kmsg = mced_kmsg_source_new(d->opts.kmsg_path, d->replay, on_kmsg_batch, d, error);
    if (d->kmsg == NULL || !mced_kmsg_source_start(d->kmsg, cursor_for(d, TRUE), error))
        return FALSE;
    mced_log_event(d->log, LOG_INFO, MCED_MSGID_STARTED, "kvm-mced %s following %s",
                   PACKAGE_VERSION, mced_kmsg_source_describe(d->kmsg));
    return TRUE;
}

static gboolean
start_journal(McedDaemon *d, McedJournalKind kind, const char *path, GError **error)
{
    const char *cursor = cursor_for(d, FALSE);

    d->journal = mced_journal_source_new(kind, path, d->replay, on_journal_batch, d, error);
    if (d->journal == NULL || !mced_journal_source_start(d->journal, cursor, error))
        return FALSE;
    mced_log_event(d->log, LOG_INFO, MCED_MSGID_STARTED, "kvm-mced %s following %s%s",
                   PACKAGE_VERSION, mced_journal_source_describe(d->journal),
                   cursor != NULL ? " from its saved position" : "");
    return TRUE;
}

static gboolean
start_sources(McedDaemon *d, GError **error)
{
    g_autoptr(GError) scan_error = NULL;

    if (mced_registry_scan(d->registry, &scan_error) == 0 && scan_error != NULL)
        mced_log_event(d->log, LOG_WARNING, NULL, "Cannot scan for QEMU processes: %s",
                       scan_error->message);

    /* Explicit sources (tests, another host's journal) first. */
    if (d->opts.journal_directory != NULL)
        return start_journal(d, MCED_JOURNAL_DIRECTORY, d->opts.journal_directory, error);
    if (d->opts.journal_file != NULL)
        return start_journal(d, MCED_JOURNAL_FILE, d->opts.journal_file, error);
    if (d->opts.kmsg_path != NULL)
        return start_kmsg(d, error);

    switch (d->config->journal) {
    case MCED_TRISTATE_YES:
        return start_journal(d, MCED_JOURNAL_SYSTEM, NULL, error);
    case MCED_TRISTATE_AUTO:
        if (host_has_journal() || d->config->kmsg == MCED_TRISTATE_NO)
            return start_journal(d, MCED_JOURNAL_SYSTEM, NULL, error);
        mced_log_event(d->log, LOG_NOTICE, MCED_MSGID_SOURCE_DEGRADED,
                       "No journal on this host, reading /dev/kmsg instead");
        return start_kmsg(d, error);
    case MCED_TRISTATE_NO:
        break;
    }
    if (d->config->kmsg == MCED_TRISTATE_NO) {
        g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT,
                            "no source: both the journal and /dev/kmsg are disabled in the "
                            "configuration");
        return FALSE;
    }
    return start_kmsg(d, error);
}

gboolean
mced_daemon_run(McedDaemon *d, GError **error)
{
    /* Signals first: once the startup line is out, a SIGHUP must reload
     * and a SIGTERM must save, not kill. */
    d->sigterm = g_unix_signal_add(SIGTERM, on_stop_signal, d);
    d->sigint = g_unix_signal_add(SIGINT, on_stop_signal, d);
    d->sighup = g_unix_signal_add(SIGHUP, on_sighup, d);
    start_libvirt(d);
    start_actions(d);
    start_qemu_logs(d);
    if (!start_sources(d, error))
        return FALSE;
    start_bus(d);

    g_main_loop_run(d->loop);
    (void)sd_notify(0, "STOPPING=1\nSTATUS=Saving state and stopping");

    /* A clean stop completes what is half assembled and keeps the open
     * incidents open: they go on after the restart. */
    mced_replay_flush(d->replay);
    d->dirty = TRUE;
    if (!try_save(d, TRUE))
        mced_log_event(d->log, LOG_ERR, MCED_MSGID_STATE_PROBLEM,
                       "Stopping with state not saved to %s", d->state_directory);
    mced_log_event(d->log, LOG_INFO, MCED_MSGID_STOPPED, "kvm-mced stopped");
    if (d->fatal != NULL) {
        g_propagate_error(error, g_steal_pointer(&d->fatal));
        return FALSE;
    }
    return TRUE;
}
