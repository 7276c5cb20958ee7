/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-incident.h"

/*
 * Open incidents sit in one queue in creation order (that order is what
 * every event sequence and listing follows; hash tables only find things),
 * domain incidents are also found by VM key, and there is at most one open
 * host incident.
 *
 * An observation that would open an incident whose id is already known
 * (recorded by an earlier run) opens a silent one instead: it is grouped
 * like any other, so that the rest of a replayed incident joins it, but it
 * emits nothing, is not listed, and everything that joins it is dropped.
 * Replaying the same input twice thus opens no duplicate, not even from
 * the second observation of a known incident.
 *
 * Callbacks run synchronously from add, expire, close_all and restore; they
 * may ref the incident but must not call back into the correlator.
 */

#define MAX_SEEN_CURSORS 4096 /* recent cursors remembered to drop duplicates */

typedef struct {
    McedIncident *inc;             /* owned ref */
    char *key;                     /* VM key; NULL for the host incident */
    McedIncidentClass attributed;  /* host incident: its class were it a domain's */
    gboolean silent;               /* id known: a replay, swallow what joins it */
    gboolean hostwide;             /* a host drill: keyed, but its class is HOST */
    GList link;                    /* in McedCorrelator.order, data = this */
} Entry;

/* A bounded set of strings, forgetting the oldest first. */
typedef struct {
    GHashTable *set; /* char* (owned) */
    GQueue fifo;     /* the same strings, oldest first */
    guint max;
} BoundedSet;

struct McedCorrelator {
    gint64 window_us;
    McedIncidentFunc func;
    gpointer user_data;
    GQueue order;       /* Entry*, in creation order */
    GHashTable *by_key; /* VM key -> Entry* (borrowed; the queue owns) */
    Entry *host;        /* open host incident, also in order */
    guint n_silent;     /* entries in order that are silent */
    guint64 fallback_seq;
    gint64 now_us;      /* latest "now" given to expire() */
    BoundedSet known;   /* incident ids */
    BoundedSet seen;    /* observation cursors */
};

/* ---- bounded sets ------------------------------------------------------ */

static void
bounded_set_init(BoundedSet *s, guint max)
{
    s->set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_queue_init(&s->fifo);
    s->max = max;
}

static void
bounded_set_clear(BoundedSet *s)
{
    g_queue_clear(&s->fifo);
    g_clear_pointer(&s->set, g_hash_table_unref);
}

static gboolean
bounded_set_contains(const BoundedSet *s, const char *v)
{
    return g_hash_table_contains(s->set, v);
}

static void
bounded_set_add(BoundedSet *s, const char *v)
{
    char *copy;

    if (g_hash_table_contains(s->set, v))
        return;
    while (g_queue_get_length(&s->fifo) >= s->max)
        g_hash_table_remove(s->set, g_queue_pop_head(&s->fifo));
    copy = g_strdup(v);
    g_hash_table_add(s->set, copy);
    g_queue_push_tail(&s->fifo, copy);
}

/* ---- time -------------------------------------------------------------- */

static gint64
observation_time(const McedCorrelator *c, const McedObservation *obs)
{
    if (obs->realtime_us != 0)
        return obs->realtime_us;
    if (obs->monotonic_us != 0)
        return obs->monotonic_us;
    return c->now_us;
}

/* The last time an observation still joins @inc. */
static gint64
window_end(const McedCorrelator *c, const McedIncident *inc)
{
    if (inc->last_us > G_MAXINT64 - c->window_us)
        return G_MAXINT64;
    return inc->last_us + c->window_us;
}

static gint64
window_start(const McedCorrelator *c, const McedIncident *inc)
{
    if (inc->first_us < G_MININT64 + c->window_us)
        return G_MININT64;
    return inc->first_us - c->window_us;
}

/* Whether @t is close enough to @inc, on either side, to be the same
 * event: the test for moving observations across the host/domain line. */
static gboolean
near(const McedCorrelator *c, const McedIncident *inc, gint64 t)
{
    return t >= window_start(c, inc) && t <= window_end(c, inc);
}

/* ---- entries ----------------------------------------------------------- */

static void
entry_free(Entry *e)
{
    if (e == NULL)
        return;
    mced_incident_unref(e->inc);
    g_free(e->key);
    g_free(e);
}

static void
emit(McedCorrelator *c, McedIncidentEvent event, McedIncident *inc)
{
    if (c->func != NULL)
        c->func(event, inc, c->user_data);
}

/* Take @e out of the open set without a word. */
static void
detach(McedCorrelator *c, Entry *e)
{
    g_queue_unlink(&c->order, &e->link);
    if (e->silent)
        c->n_silent--;
    if (e->key != NULL)
        g_hash_table_remove(c->by_key, e->key);
    else if (c->host == e)
        c->host = NULL;
}

static void
close_entry(McedCorrelator *c, Entry *e)
{
    detach(c, e);
    e->inc->state = MCED_INCIDENT_CLOSED;
    if (!e->silent)
        emit(c, MCED_INCIDENT_EVENT_CLOSED, e->inc);
    entry_free(e);
}

/* Close the oldest open incidents (silent ones count) until one more fits. */
static void
make_room(McedCorrelator *c)
{
    while (g_queue_get_length(&c->order) >= MCED_CORRELATOR_MAX_OPEN)
        close_entry(c, g_queue_peek_head(&c->order));
}

/* Register @inc (a reference is taken over) as open; the caller has made
 * room and checked that its slot is free. */
static Entry *
attach(McedCorrelator *c, McedIncident *inc, const char *key, gboolean silent)
{
    Entry *e = g_new0(Entry, 1);

    e->inc = inc;
    e->key = g_strdup(key);
    e->silent = silent;
    if (silent)
        c->n_silent++;
    e->attributed = MCED_CLASS_CORRECTED;
    e->link.data = e;
    g_queue_push_tail_link(&c->order, &e->link);
    if (key != NULL)
        g_hash_table_insert(c->by_key, e->key, e);
    else
        c->host = e;
    bounded_set_add(&c->known, inc->id);
    return e;
}

static gboolean
incident_has_cursor(const McedIncident *inc, const char *cursor)
{
    if (cursor == NULL)
        return FALSE;
    for (guint i = 0; i < inc->observations->len; i++) {
        const McedObservation *o = inc->observations->pdata[i];
        if (o->cursor != NULL && g_str_equal(o->cursor, cursor))
            return TRUE;
    }
    return FALSE;
}

static McedIncidentClass
worse_class(McedIncidentClass a, McedIncidentClass b)
{
    return b > a ? b : a; /* only ever used on CORRECTED < GUEST < FATAL */
}

/* Add @obs at time @t: an observation without a time of its own takes
 * the correlator's "now". */
static void
entry_add(McedCorrelator *c, Entry *e, McedObservation *obs, gint64 t)
{
    McedIncident *inc = e->inc;
    gboolean timeless = obs->realtime_us == 0 && obs->monotonic_us == 0;

    if (e->key != NULL && !e->hostwide) {
        mced_incident_add_observation(inc, obs, mced_observation_class(obs, TRUE));
    } else {
        mced_incident_add_observation(inc, obs, MCED_CLASS_HOST);
        e->attributed = worse_class(e->attributed, mced_observation_class(obs, TRUE));
    }
    if (timeless) {
        if (inc->first_us == 0 && inc->last_us == 0) {
            inc->first_us = t;
            inc->last_us = t;
        } else {
            inc->first_us = MIN(inc->first_us, t);
            inc->last_us = MAX(inc->last_us, t);
        }
    }
    if (obs->cursor != NULL)
        bounded_set_add(&c->seen, obs->cursor);
}

static void
merge_values(GArray *to, const GArray *from)
{
    for (guint i = 0; i < from->len; i++) {
        guint64 v = g_array_index(from, guint64, i);
        gboolean have = FALSE;

        for (guint j = 0; j < to->len && !have; j++)
            have = g_array_index(to, guint64, j) == v;
        if (!have && to->len < MCED_INCIDENT_MAX_VALUES)
            g_array_append_val(to, v);
    }
}

/* Move what a host incident holds into a domain incident. Its kept
 * observations are added again (their class re-derived as attributed);
 * the summary of those it only counted is folded in from its totals. */
static void
absorb_host(Entry *to_e, const Entry *host)
{
    McedIncident *to = to_e->inc;
    const McedIncident *from = host->inc;

    for (guint i = 0; i < from->observations->len; i++) {
        McedObservation *o = from->observations->pdata[i];
        mced_incident_add_observation(to, o, mced_observation_class(o, TRUE));
    }
    to->n_observations += from->n_observations - from->observations->len;
    to->klass = worse_class(to->klass, host->attributed); /* counts the unkept too */
    if (from->severity > to->severity)
        to->severity = from->severity;
    if (from->disposition > to->disposition)
        to->disposition = from->disposition;
    if (to->error_type == NULL)
        to->error_type = g_strdup(from->error_type);
    to->kinds |= from->kinds;
    if (to->first_us == 0 && to->last_us == 0) {
        to->first_us = from->first_us;
        to->last_us = from->last_us;
    } else if (from->first_us != 0 || from->last_us != 0) {
        to->first_us = MIN(to->first_us, from->first_us);
        to->last_us = MAX(to->last_us, from->last_us);
    }
    merge_values(to->host_cpus, from->host_cpus);
    merge_values(to->vcpus, from->vcpus);
    merge_values(to->addresses, from->addresses);
}

/* The id a new incident opened by @obs gets: from its cursor, or for an
 * observation without one, from its kind, time and a counter. */
static char *
new_incident_id(McedCorrelator *c, const McedObservation *obs, gint64 t)
{
    g_autofree char *fallback = NULL;

    if (obs->cursor != NULL)
        return mced_incident_id_for_cursor(obs->cursor);
    fallback = g_strdup_printf("\x01no-cursor:%s:%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT,
                               mced_obs_kind_to_string(obs->kind), t, ++c->fallback_seq);
    return mced_incident_id_for_cursor(fallback);
}

/* ---- public ------------------------------------------------------------ */

McedCorrelator *
mced_correlator_new(gint64 window_us, McedIncidentFunc func, gpointer user_data)
{
    McedCorrelator *c = g_new0(McedCorrelator, 1);

    c->window_us = window_us > 0 ? window_us : MCED_CORRELATOR_DEFAULT_WINDOW_US;
    c->func = func;
    c->user_data = user_data;
    g_queue_init(&c->order);
    c->by_key = g_hash_table_new(g_str_hash, g_str_equal);
    bounded_set_init(&c->known, MCED_CORRELATOR_MAX_KNOWN_IDS);
    bounded_set_init(&c->seen, MAX_SEEN_CURSORS);
    return c;
}

/* Freeing emits nothing: call close_all() first to have the incidents. */
void
mced_correlator_free(McedCorrelator *c)
{
    Entry *e;

    if (c == NULL)
        return;
    while ((e = g_queue_peek_head(&c->order)) != NULL) {
        detach(c, e);
        entry_free(e);
    }
    g_hash_table_unref(c->by_key);
    bounded_set_clear(&c->known);
    bounded_set_clear(&c->seen);
    g_free(c);
}

void
mced_correlator_set_window(McedCorrelator *c, gint64 window_us)
{
    g_return_if_fail(c != NULL);
    c->window_us = window_us > 0 ? window_us : MCED_CORRELATOR_DEFAULT_WINDOW_US;
}

void
mced_correlator_add_known_id(McedCorrelator *c, const char *id)
{
    g_return_if_fail(c != NULL && id != NULL);
    bounded_set_add(&c->known, id);
}

gboolean
mced_correlator_is_known_id(const McedCorrelator *c, const char *id)
{
    g_return_val_if_fail(c != NULL && id != NULL, FALSE);
    return bounded_set_contains(&c->known, id);
}

/* The one open domain incident near @t, or NULL if none or several.
 * Linear in open incidents, which are bounded. */
static Entry *
sole_domain_near(McedCorrelator *c, gint64 t)
{
    Entry *found = NULL;

    for (GList *l = c->order.head; l != NULL; l = l->next) {
        Entry *e = l->data;
        if (e->key == NULL || e->inc->synthetic || !near(c, e->inc, t))
            continue;
        if (found != NULL)
            return NULL;
        found = e;
    }
    return found;
}

static McedIncident *
add_host(McedCorrelator *c, McedObservation *obs, gint64 t)
{
    Entry *e = sole_domain_near(c, t);
    McedIncidentEvent event = MCED_INCIDENT_EVENT_UPDATED;

    if (e == NULL) {
        e = c->host;
        if (e != NULL && t > window_end(c, e->inc)) {
            close_entry(c, e);
            e = NULL;
        }
    }
    if (e != NULL && incident_has_cursor(e->inc, obs->cursor))
        return NULL;
    if (e == NULL) {
        g_autofree char *id = new_incident_id(c, obs, t);
        gboolean silent = bounded_set_contains(&c->known, id);

        make_room(c);
        e = attach(c, mced_incident_new(id, NULL), NULL, silent);
        event = MCED_INCIDENT_EVENT_OPENED;
    }
    entry_add(c, e, obs, t);
    if (e->silent)
        return NULL;
    emit(c, event, e->inc);
    return e->inc;
}

static McedIncident *
add_domain(McedCorrelator *c, McedObservation *obs, const McedVmRef *vm, const char *key,
           gint64 t)
{
    Entry *e = g_hash_table_lookup(c->by_key, key);
    Entry *host = c->host;
    g_autofree char *id = NULL;
    gboolean silent;
    McedIncidentEvent event = MCED_INCIDENT_EVENT_UPDATED;

    if (e != NULL && t > window_end(c, e->inc)) {
        close_entry(c, e);
        e = NULL;
    }
    if (e != NULL && incident_has_cursor(e->inc, obs->cursor))
        return NULL;
    if (e == NULL) {
        id = new_incident_id(c, obs, t);
        silent = bounded_set_contains(&c->known, id);
    } else {
        silent = e->silent;
    }
    /* A host incident near in time was this domain's all along; a replayed
     * one only goes with a replayed domain incident. */
    if (host != NULL && host->silent == silent && near(c, host->inc, t))
        detach(c, host);
    else
        host = NULL;
    if (e == NULL) {
        make_room(c);
        e = attach(c, mced_incident_new(id, vm), key, silent);
        event = MCED_INCIDENT_EVENT_OPENED;
    }
    if (host != NULL)
        absorb_host(e, host);
    entry_add(c, e, obs, t);
    if (!e->silent)
        emit(c, event, e->inc);
    if (host != NULL) {
        /* Say where the host incident went, after its new home exists. */
        if (!host->silent) {
            host->inc->merged_into = g_strdup(e->inc->id);
            emit(c, MCED_INCIDENT_EVENT_MERGED, host->inc);
        }
        entry_free(host);
    }
    return e->silent ? NULL : e->inc;
}

/* A drill gets an incident of its own, keyed by its id so that no VM's
 * observations find it, and it takes no host incident in. */
static McedIncident *
add_drill(McedCorrelator *c, McedObservation *obs, const McedVmRef *vm, gint64 t)
{
    g_autofree char *id = new_incident_id(c, obs, t);
    g_autofree char *key = g_strconcat("\x01drill:", id, NULL);
    Entry *e;

    if (bounded_set_contains(&c->known, id) || g_hash_table_contains(c->by_key, key))
        return NULL;
    make_room(c);
    e = attach(c, mced_incident_new(id, mced_vm_ref_key(vm) != NULL ? vm : NULL), key, FALSE);
    e->hostwide = e->inc->vm == NULL;
    entry_add(c, e, obs, t);
    emit(c, MCED_INCIDENT_EVENT_OPENED, e->inc);
    return e->inc;
}

McedIncident *
mced_correlator_lookup(const McedCorrelator *c, const McedVmRef *vm, gint64 t)
{
    const char *key = mced_vm_ref_key(vm);
    Entry *e;

    g_return_val_if_fail(c != NULL, NULL);
    e = key != NULL ? g_hash_table_lookup(c->by_key, key) : c->host;
    if (e == NULL || e->silent)
        return NULL;
    if (t < window_start(c, e->inc) || t > window_end(c, e->inc))
        return NULL;
    return e->inc;
}

McedIncident *
mced_correlator_add(McedCorrelator *c, McedObservation *obs, const McedVmRef *vm)
{
    const char *key = mced_vm_ref_key(vm);
    gint64 t;

    g_return_val_if_fail(c != NULL && obs != NULL, NULL);

    if (obs->cursor != NULL && bounded_set_contains(&c->seen, obs->cursor))
        return NULL;
    t = observation_time(c, obs);
    if (mced_observation_is_synthetic(obs))
        return add_drill(c, obs, vm, t);
    /* A VM known by neither UUID nor name cannot group anything. */
    if (key == NULL)
        return add_host(c, obs, t);
    return add_domain(c, obs, vm, key, t);
}

void
mced_correlator_expire(McedCorrelator *c, gint64 now_us)
{
    g_autoptr(GPtrArray) due = g_ptr_array_new();

    g_return_if_fail(c != NULL);

    c->now_us = now_us;
    for (GList *l = c->order.head; l != NULL; l = l->next) {
        Entry *e = l->data;
        if (now_us > window_end(c, e->inc))
            g_ptr_array_add(due, e);
    }
    for (guint i = 0; i < due->len; i++)
        close_entry(c, due->pdata[i]);
}

void
mced_correlator_close_all(McedCorrelator *c)
{
    Entry *e;

    g_return_if_fail(c != NULL);
    while ((e = g_queue_peek_head(&c->order)) != NULL)
        close_entry(c, e);
}

/* An incident closes at the first time past its window end. */
gint64
mced_correlator_next_deadline(const McedCorrelator *c)
{
    gint64 next = -1;

    g_return_val_if_fail(c != NULL, -1);

    for (GList *l = c->order.head; l != NULL; l = l->next) {
        const Entry *e = l->data;
        gint64 end = window_end(c, e->inc);
        gint64 deadline = end < G_MAXINT64 ? end + 1 : G_MAXINT64;

        if (e->silent)
            continue;
        if (next < 0 || deadline < next)
            next = deadline;
    }
    return next;
}

guint
mced_correlator_n_open(const McedCorrelator *c)
{
    g_return_val_if_fail(c != NULL, 0);
    return g_queue_get_length((GQueue *)&c->order) - c->n_silent;
}

GPtrArray *
mced_correlator_get_open(const McedCorrelator *c)
{
    GPtrArray *open;

    g_return_val_if_fail(c != NULL, NULL);

    open = g_ptr_array_sized_new(c->order.length);
    for (GList *l = c->order.head; l != NULL; l = l->next) {
        const Entry *e = l->data;
        if (!e->silent)
            g_ptr_array_add(open, e->inc);
    }
    return open;
}

/* The correlator takes its own reference. The incident goes after those
 * already open. If its VM (or the host) already has an open incident, the
 * restored one is closed at once (CLOSED), so that it still reaches the
 * history; otherwise restoring emits nothing. */
void
mced_correlator_restore(McedCorrelator *c, McedIncident *inc)
{
    const char *key;
    Entry *taken, *e;

    g_return_if_fail(c != NULL && inc != NULL && inc->id != NULL);

    if (inc->synthetic) {
        g_autofree char *drill_key = g_strconcat("\x01drill:", inc->id, NULL);

        bounded_set_add(&c->known, inc->id);
        if (g_hash_table_contains(c->by_key, drill_key))
            return;
        inc->state = MCED_INCIDENT_OPEN;
        make_room(c);
        e = attach(c, mced_incident_ref(inc), drill_key, FALSE);
        e->hostwide = inc->vm == NULL;
        return;
    }
    key = mced_vm_ref_key(inc->vm);
    bounded_set_add(&c->known, inc->id);
    for (guint i = 0; i < inc->observations->len; i++) {
        const McedObservation *o = inc->observations->pdata[i];
        if (o->cursor != NULL)
            bounded_set_add(&c->seen, o->cursor);
    }
    taken = key != NULL ? g_hash_table_lookup(c->by_key, key) : c->host;
    if (taken != NULL && taken->silent) {
        close_entry(c, taken); /* a replay's shadow gives way to the real one */
        taken = NULL;
    }
    if (taken != NULL) {
        inc->state = MCED_INCIDENT_CLOSED;
        emit(c, MCED_INCIDENT_EVENT_CLOSED, inc);
        return;
    }
    inc->state = MCED_INCIDENT_OPEN;
    make_room(c);
    e = attach(c, mced_incident_ref(inc), key, FALSE);
    for (guint i = 0; i < inc->observations->len && key == NULL; i++) {
        const McedObservation *o = inc->observations->pdata[i];
        e->attributed = worse_class(e->attributed, mced_observation_class(o, TRUE));
    }
}
