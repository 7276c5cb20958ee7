/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-incident.h"

#define W   (5 * G_USEC_PER_SEC)                   /* the window under test */
#define T0  (G_GINT64_CONSTANT(1700000000) * G_USEC_PER_SEC) /* a wall clock */
#define SEC G_USEC_PER_SEC

/* What the callback saw, at the time it saw it. */
typedef struct {
    McedIncidentEvent event;
    McedIncident *inc; /* ref taken in the callback */
    guint n_observations;
    McedIncidentClass klass;
} Seen;

typedef struct {
    McedCorrelator *c;
    GArray *events; /* Seen */
    McedVmRef *vm_a;
    McedVmRef *vm_b;
} Fixture;

static void
seen_clear(gpointer p)
{
    Seen *s = p;
    mced_incident_unref(s->inc);
}

static void
on_incident(McedIncidentEvent event, McedIncident *inc, gpointer user_data)
{
    Fixture *f = user_data;
    Seen s = {
        .event = event,
        .inc = mced_incident_ref(inc),
        .n_observations = inc->n_observations,
        .klass = inc->klass,
    };

    g_array_append_val(f->events, s);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    f->c = mced_correlator_new(W, on_incident, f);
    f->events = g_array_new(FALSE, TRUE, sizeof(Seen));
    g_array_set_clear_func(f->events, seen_clear);
    f->vm_a = mced_vm_ref_new("vm-a", "aaaaaaaa-0000-0000-0000-000000000001", 1001);
    f->vm_b = mced_vm_ref_new("vm-b", NULL, 1002);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    mced_correlator_free(f->c);
    g_array_unref(f->events);
    mced_vm_ref_free(f->vm_a);
    mced_vm_ref_free(f->vm_b);
}

static McedObservation *
make_obs(McedObsKind kind, McedSeverity sev, McedDisposition disp, gint64 t_us,
         const char *cursor)
{
    McedObservation *obs = mced_observation_new(kind);

    obs->severity = sev;
    obs->disposition = disp;
    obs->realtime_us = t_us;
    obs->cursor = g_strdup(cursor);
    return obs;
}

/* A corrected ppc64 machine check at @t_us. */
static McedIncident *
add_plain(Fixture *f, const McedVmRef *vm, gint64 t_us, const char *cursor)
{
    g_autoptr(McedObservation) obs =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED, t_us,
                 cursor);

    mced_observation_freeze(obs);
    return mced_correlator_add(f->c, obs, vm);
}

static const Seen *
nth(Fixture *f, guint i)
{
    g_assert_cmpuint(i, <, f->events->len);
    return &g_array_index(f->events, Seen, i);
}

static void
assert_event(Fixture *f, guint i, McedIncidentEvent event, const McedIncident *inc)
{
    const Seen *s = nth(f, i);

    g_assert_cmpint(s->event, ==, event);
    g_assert_true(s->inc == inc);
}

static guint
n_open(Fixture *f)
{
    g_autoptr(GPtrArray) open = mced_correlator_get_open(f->c);

    /* the count agrees with the list, silent (replayed) entries left out */
    g_assert_cmpuint(mced_correlator_n_open(f->c), ==, open->len);
    return open->len;
}

static void
test_window_join(Fixture *f, gconstpointer data)
{
    McedIncident *first, *same, *next;
    g_autofree char *id1 = mced_incident_id_for_cursor("c:1");
    g_autofree char *id3 = mced_incident_id_for_cursor("c:3");

    first = add_plain(f, f->vm_a, T0, "c:1");
    g_assert_nonnull(first);
    g_assert_cmpstr(first->id, ==, id1);
    g_assert_cmpstr(mced_vm_ref_key(first->vm), ==, "aaaaaaaa-0000-0000-0000-000000000001");
    /* Exactly at the end of the window still joins. */
    same = add_plain(f, f->vm_a, T0 + W, "c:2");
    g_assert_true(same == first);
    g_assert_cmpint(first->first_us, ==, T0);
    g_assert_cmpint(first->last_us, ==, T0 + W);
    /* One microsecond past the window of the latest observation opens anew. */
    next = add_plain(f, f->vm_a, T0 + 2 * W + 1, "c:3");
    g_assert_nonnull(next);
    g_assert_true(next != first);
    g_assert_cmpstr(next->id, ==, id3);

    g_assert_cmpuint(f->events->len, ==, 4);
    assert_event(f, 0, MCED_INCIDENT_EVENT_OPENED, first);
    g_assert_cmpuint(nth(f, 0)->n_observations, ==, 1);
    assert_event(f, 1, MCED_INCIDENT_EVENT_UPDATED, first);
    g_assert_cmpuint(nth(f, 1)->n_observations, ==, 2);
    assert_event(f, 2, MCED_INCIDENT_EVENT_CLOSED, first);
    assert_event(f, 3, MCED_INCIDENT_EVENT_OPENED, next);
    /* The callback's ref outlives the correlator's. */
    g_assert_cmpint(first->state, ==, MCED_INCIDENT_CLOSED);
    g_assert_cmpint(next->state, ==, MCED_INCIDENT_OPEN);
    g_assert_cmpuint(n_open(f), ==, 1);
}

static void
test_separate_vms(Fixture *f, gconstpointer data)
{
    g_autoptr(McedVmRef) a_renamed =
        mced_vm_ref_new("vm-a-new", "AAAAAAAA-0000-0000-0000-000000000001", 2001);
    McedIncident *a = add_plain(f, f->vm_a, T0, "c:1");
    McedIncident *b = add_plain(f, f->vm_b, T0, "c:2");

    g_assert_true(a != b);
    g_assert_cmpstr(b->vm->name, ==, "vm-b");
    /* Grouped by UUID: a new name and pid are the same VM. */
    g_assert_true(add_plain(f, a_renamed, T0 + SEC, "c:3") == a);
    g_assert_cmpuint(a->n_observations, ==, 2);
    g_assert_cmpuint(b->n_observations, ==, 1);
    g_assert_cmpuint(n_open(f), ==, 2);
}

static void
test_expire_boundary(Fixture *f, gconstpointer data)
{
    McedIncident *inc = add_plain(f, f->vm_a, T0, "c:1");

    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + W + 1);
    mced_correlator_expire(f->c, T0 + W);
    g_assert_cmpuint(f->events->len, ==, 1);
    g_assert_cmpuint(n_open(f), ==, 1);
    g_assert_cmpint(inc->state, ==, MCED_INCIDENT_OPEN);

    mced_correlator_expire(f->c, T0 + W + 1);
    g_assert_cmpuint(f->events->len, ==, 2);
    assert_event(f, 1, MCED_INCIDENT_EVENT_CLOSED, inc);
    g_assert_cmpint(inc->state, ==, MCED_INCIDENT_CLOSED);
    g_assert_cmpuint(n_open(f), ==, 0);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, -1);
}

static void
test_expire_order(Fixture *f, gconstpointer data)
{
    McedIncident *a = add_plain(f, f->vm_a, T0 + 2 * SEC, "c:1");
    McedIncident *b = add_plain(f, f->vm_b, T0, "c:2");

    /* b's window ends first, but creation order decides the event order. */
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + W + 1);
    mced_correlator_expire(f->c, T0 + W + 1);
    g_assert_cmpuint(f->events->len, ==, 3);
    assert_event(f, 2, MCED_INCIDENT_EVENT_CLOSED, b);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + 2 * SEC + W + 1);
    mced_correlator_expire(f->c, T0 + 100 * SEC);
    assert_event(f, 3, MCED_INCIDENT_EVENT_CLOSED, a);

    add_plain(f, f->vm_a, T0 + 200 * SEC, "c:3");
    add_plain(f, f->vm_b, T0 + 201 * SEC, "c:4");
    mced_correlator_expire(f->c, T0 + 300 * SEC);
    g_assert_cmpuint(f->events->len, ==, 8);
    g_assert_cmpstr(mced_vm_ref_key(nth(f, 6)->inc->vm), ==, mced_vm_ref_key(f->vm_a));
    g_assert_cmpstr(mced_vm_ref_key(nth(f, 7)->inc->vm), ==, "vm-b");
}

/* Host-level lines (x86 mce: records carry no PID) first, then the domain
 * event within the window: they become the domain's. */
static void
test_host_merge_into_new(Fixture *f, gconstpointer data)
{
    g_autoptr(McedObservation) h1 =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED, T0,
                 "h:1");
    g_autoptr(McedObservation) h2 =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN, T0 + SEC,
                 "h:2");
    g_autoptr(McedObservation) d =
        make_obs(MCED_OBS_MEMORY_FAILURE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
                 T0 + 2 * SEC, "d:1");
    g_autofree char *d_id = mced_incident_id_for_cursor("d:1");
    McedIncident *host, *dom;

    host = mced_correlator_add(f->c, h1, NULL);
    g_assert_nonnull(host);
    g_assert_null(host->vm);
    g_assert_cmpint(host->klass, ==, MCED_CLASS_HOST);
    g_assert_true(mced_correlator_add(f->c, h2, NULL) == host);
    g_assert_cmpuint(host->n_observations, ==, 2);

    dom = mced_correlator_add(f->c, d, f->vm_a);
    g_assert_nonnull(dom);
    g_assert_true(dom != host);
    g_assert_cmpstr(dom->id, ==, d_id);
    g_assert_cmpuint(dom->n_observations, ==, 3);
    g_assert_true(dom->observations->pdata[0] == h1);
    g_assert_true(dom->observations->pdata[2] == d);
    /* h1 was not recovered: attributed now, the guest took it. */
    g_assert_cmpint(dom->klass, ==, MCED_CLASS_GUEST);
    g_assert_cmpint(dom->severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(dom->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_cmpint(dom->first_us, ==, T0);
    g_assert_cmpint(dom->last_us, ==, T0 + 2 * SEC);
    g_assert_cmphex(dom->kinds, ==, (1u << MCED_OBS_X86_MCE) | (1u << MCED_OBS_MEMORY_FAILURE));
    g_assert_cmpuint(n_open(f), ==, 1);

    /* The host incident never closes: it says where it went, after the
     * domain incident that took it opened. */
    g_assert_cmpuint(f->events->len, ==, 4);
    assert_event(f, 0, MCED_INCIDENT_EVENT_OPENED, host);
    assert_event(f, 1, MCED_INCIDENT_EVENT_UPDATED, host);
    assert_event(f, 2, MCED_INCIDENT_EVENT_OPENED, dom);
    assert_event(f, 3, MCED_INCIDENT_EVENT_MERGED, host);
    g_assert_cmpstr(host->merged_into, ==, dom->id);
    g_assert_cmpuint(nth(f, 2)->n_observations, ==, 3);
    g_assert_cmpint(nth(f, 2)->klass, ==, MCED_CLASS_GUEST);
    g_assert_cmpint(host->state, ==, MCED_INCIDENT_OPEN);

    mced_correlator_close_all(f->c);
    g_assert_cmpuint(f->events->len, ==, 5);
    assert_event(f, 4, MCED_INCIDENT_EVENT_CLOSED, dom);
}

static void
test_host_merge_into_open(Fixture *f, gconstpointer data)
{
    g_autoptr(McedObservation) h =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, T0 + SEC,
                 "h:1");
    McedIncident *a = add_plain(f, f->vm_a, T0, "a:1");
    McedIncident *b = add_plain(f, f->vm_b, T0, "b:1");
    McedIncident *host;

    /* Two domains are near: the host line stays host-level for now. */
    host = mced_correlator_add(f->c, h, NULL);
    g_assert_true(host != a && host != b);
    g_assert_cmpint(host->klass, ==, MCED_CLASS_HOST);
    g_assert_cmpuint(n_open(f), ==, 3);

    /* a's next event is near the host incident: it takes it over. */
    g_assert_true(add_plain(f, f->vm_a, T0 + 2 * SEC, "a:2") == a);
    g_assert_cmpuint(a->n_observations, ==, 3);
    g_assert_cmpint(a->klass, ==, MCED_CLASS_FATAL);
    g_assert_cmpuint(b->n_observations, ==, 1);
    g_assert_cmpint(b->klass, ==, MCED_CLASS_CORRECTED);
    g_assert_cmpuint(n_open(f), ==, 2);

    g_assert_cmpuint(f->events->len, ==, 5);
    assert_event(f, 2, MCED_INCIDENT_EVENT_OPENED, host);
    assert_event(f, 3, MCED_INCIDENT_EVENT_UPDATED, a);
    g_assert_cmpint(nth(f, 3)->klass, ==, MCED_CLASS_FATAL);
    assert_event(f, 4, MCED_INCIDENT_EVENT_MERGED, host);
    g_assert_cmpstr(host->merged_into, ==, a->id);
}

static void
test_host_joins_sole_domain(Fixture *f, gconstpointer data)
{
    g_autoptr(McedObservation) h =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, T0 + SEC,
                 "h:1");
    McedIncident *a = add_plain(f, f->vm_a, T0, "a:1");

    g_assert_true(mced_correlator_add(f->c, h, NULL) == a);
    g_assert_cmpint(a->klass, ==, MCED_CLASS_FATAL);
    g_assert_cmpuint(a->n_observations, ==, 2);
    g_assert_cmpuint(f->events->len, ==, 2);
    assert_event(f, 1, MCED_INCIDENT_EVENT_UPDATED, a);
    g_assert_cmpuint(n_open(f), ==, 1);
}

static void
test_host_far(Fixture *f, gconstpointer data)
{
    McedIncident *host = add_plain(f, NULL, T0, "h:1");
    McedIncident *a, *host2;

    /* Past the host incident's window: no merge either way. */
    a = add_plain(f, f->vm_a, T0 + W + 1, "a:1");
    g_assert_true(a != host);
    g_assert_cmpuint(a->n_observations, ==, 1);
    g_assert_cmpint(host->klass, ==, MCED_CLASS_HOST);
    g_assert_cmpuint(n_open(f), ==, 2);

    /* A host line long after a's window: a host incident, the old one
     * closes first. */
    host2 = add_plain(f, NULL, T0 + 10 * W, "h:2");
    g_assert_true(host2 != host && host2 != a);
    g_assert_cmpuint(f->events->len, ==, 4);
    assert_event(f, 2, MCED_INCIDENT_EVENT_CLOSED, host);
    assert_event(f, 3, MCED_INCIDENT_EVENT_OPENED, host2);
    g_assert_cmpint(nth(f, 2)->klass, ==, MCED_CLASS_HOST);

    mced_correlator_expire(f->c, T0 + 20 * W);
    g_assert_cmpuint(f->events->len, ==, 6);
    assert_event(f, 4, MCED_INCIDENT_EVENT_CLOSED, a);
    assert_event(f, 5, MCED_INCIDENT_EVENT_CLOSED, host2);
}

static void
test_duplicate_cursor(Fixture *f, gconstpointer data)
{
    McedIncident *a = add_plain(f, f->vm_a, T0, "c:1");

    /* The same line again, even as another object, in the same incident. */
    g_assert_null(add_plain(f, f->vm_a, T0 + SEC, "c:1"));
    g_assert_cmpuint(a->n_observations, ==, 1);
    g_assert_cmpuint(f->events->len, ==, 1);
    /* Or after its incident closed, or attributed differently. */
    mced_correlator_close_all(f->c);
    g_assert_null(add_plain(f, f->vm_a, T0 + 100 * SEC, "c:1"));
    g_assert_null(add_plain(f, NULL, T0, "c:1"));
    g_assert_cmpuint(f->events->len, ==, 2);
    g_assert_cmpuint(n_open(f), ==, 0);
}

static void
test_known_id(Fixture *f, gconstpointer data)
{
    g_autofree char *id = mced_incident_id_for_cursor("c:1");
    McedIncident *inc;

    g_assert_false(mced_correlator_is_known_id(f->c, id));
    mced_correlator_add_known_id(f->c, id);
    g_assert_true(mced_correlator_is_known_id(f->c, id));
    g_assert_null(add_plain(f, f->vm_a, T0, "c:1"));
    g_assert_null(add_plain(f, NULL, T0 + 3 * W, "c:1"));
    g_assert_cmpuint(f->events->len, ==, 0);
    g_assert_cmpuint(n_open(f), ==, 0);

    /* Incidents the correlator opens become known themselves. */
    inc = add_plain(f, f->vm_b, T0, "c:2");
    g_assert_nonnull(inc);
    g_assert_true(mced_correlator_is_known_id(f->c, inc->id));
    /* A known id only refuses opening: a line joining an open incident
     * is not judged by the id its own cursor would give. */
    {
        g_autofree char *id3 = mced_incident_id_for_cursor("c:3");
        mced_correlator_add_known_id(f->c, id3);
    }
    g_assert_true(add_plain(f, f->vm_b, T0 + SEC, "c:3") == inc);
    g_assert_cmpuint(f->events->len, ==, 2);
}

static void
test_known_ids_bounded(Fixture *f, gconstpointer data)
{
    for (guint i = 0; i < MCED_CORRELATOR_MAX_KNOWN_IDS + 2; i++) {
        char id[32];
        g_snprintf(id, sizeof(id), "i-%u", i);
        mced_correlator_add_known_id(f->c, id);
        if (i == 10) /* again: no second slot, no refresh */
            mced_correlator_add_known_id(f->c, "i-0");
    }
    g_assert_false(mced_correlator_is_known_id(f->c, "i-0"));
    g_assert_false(mced_correlator_is_known_id(f->c, "i-1"));
    g_assert_true(mced_correlator_is_known_id(f->c, "i-2"));
    g_assert_true(mced_correlator_is_known_id(f->c, "i-65537"));
}

/* The same input twice, the second time with the ids the first recorded:
 * nothing opens. */
static void
feed_sequence(Fixture *f)
{
    g_assert_nonnull(add_plain(f, NULL, T0, "j:1"));
    g_assert_nonnull(add_plain(f, f->vm_a, T0 + SEC, "j:2"));
    g_assert_nonnull(add_plain(f, f->vm_b, T0 + 10 * W, "j:3"));
    g_assert_nonnull(add_plain(f, f->vm_b, T0 + 10 * W + SEC, "j:4"));
    g_assert_nonnull(add_plain(f, f->vm_a, T0 + 20 * W, "j:5"));
    g_assert_nonnull(add_plain(f, NULL, T0 + 20 * W + SEC, "j:6")); /* joins a's */
    g_assert_nonnull(add_plain(f, f->vm_a, T0 + 20 * W + 2 * SEC, "j:7"));
    mced_correlator_close_all(f->c);
}

static void
test_replay_twice(Fixture *f, gconstpointer data)
{
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

    feed_sequence(f);
    for (guint i = 0; i < f->events->len; i++)
        if (nth(f, i)->event == MCED_INCIDENT_EVENT_OPENED)
            g_ptr_array_add(ids, g_strdup(nth(f, i)->inc->id));
    /* j:1's host incident (a's took it over), a's, b's, a's again. */
    g_assert_cmpuint(ids->len, ==, 4);

    mced_correlator_free(f->c);
    g_array_set_size(f->events, 0);
    f->c = mced_correlator_new(W, on_incident, f);
    for (guint i = 0; i < ids->len; i++)
        mced_correlator_add_known_id(f->c, ids->pdata[i]);

    g_assert_null(add_plain(f, NULL, T0, "j:1"));
    g_assert_null(add_plain(f, f->vm_a, T0 + SEC, "j:2"));
    g_assert_null(add_plain(f, f->vm_b, T0 + 10 * W, "j:3"));
    g_assert_null(add_plain(f, f->vm_b, T0 + 10 * W + SEC, "j:4"));
    g_assert_null(add_plain(f, f->vm_a, T0 + 20 * W, "j:5"));
    g_assert_null(add_plain(f, NULL, T0 + 20 * W + SEC, "j:6"));
    g_assert_null(add_plain(f, f->vm_a, T0 + 20 * W + 2 * SEC, "j:7"));
    /* Replayed incidents are not listed and set no deadline. */
    g_assert_cmpuint(n_open(f), ==, 0);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, -1);
    mced_correlator_close_all(f->c);
    g_assert_cmpuint(f->events->len, ==, 0);
}

/* A known incident swallows what falls in its window, and only that. */
static void
test_replay_window(Fixture *f, gconstpointer data)
{
    g_autofree char *id = mced_incident_id_for_cursor("k:1");
    McedIncident *fresh;

    mced_correlator_add_known_id(f->c, id);
    g_assert_null(add_plain(f, f->vm_a, T0, "k:1"));
    g_assert_null(add_plain(f, f->vm_a, T0 + W, "k:2"));
    g_assert_null(add_plain(f, f->vm_a, T0 + 2 * W, "k:3"));
    /* A host line near it only would have joined it. */
    g_assert_null(add_plain(f, NULL, T0 + 2 * W + 1, "k:4"));
    g_assert_cmpuint(f->events->len, ==, 0);

    /* Past its window: a real incident opens. */
    fresh = add_plain(f, f->vm_a, T0 + 3 * W + 2, "k:5");
    g_assert_nonnull(fresh);
    g_assert_cmpuint(fresh->n_observations, ==, 1);
    g_assert_cmpuint(f->events->len, ==, 1);
    assert_event(f, 0, MCED_INCIDENT_EVENT_OPENED, fresh);

    /* Another VM is not affected by it either. */
    g_assert_nonnull(add_plain(f, f->vm_b, T0, "k:6"));
    mced_correlator_expire(f->c, T0 + 100 * W);
    g_assert_cmpuint(f->events->len, ==, 4);
    assert_event(f, 2, MCED_INCIDENT_EVENT_CLOSED, fresh);
    g_assert_cmpint(nth(f, 3)->event, ==, MCED_INCIDENT_EVENT_CLOSED);
}

static void
test_timeless(Fixture *f, gconstpointer data)
{
    g_autoptr(McedObservation) mono =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED, 0, "m:1");
    McedIncident *inc, *other;

    mced_correlator_expire(f->c, T0);
    /* No time of its own: the last "now". */
    inc = add_plain(f, f->vm_a, 0, "t:1");
    g_assert_cmpint(inc->first_us, ==, T0);
    g_assert_cmpint(inc->last_us, ==, T0);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + W + 1);

    /* Monotonic time when there is no wall clock. */
    mono->monotonic_us = 50 * SEC;
    other = mced_correlator_add(f->c, mono, f->vm_b);
    g_assert_cmpint(other->first_us, ==, 50 * SEC);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, 50 * SEC + W + 1);

    /* No cursor either: an id all the same, a different one each time. */
    {
        g_autoptr(McedVmRef) vm_c = mced_vm_ref_new("vm-c", NULL, -1);
        McedIncident *x = add_plain(f, vm_c, T0, NULL);
        McedIncident *y = add_plain(f, vm_c, T0 + 10 * W, NULL);

        g_assert_nonnull(x);
        g_assert_nonnull(y);
        g_assert_true(x != y);
        g_assert_true(g_str_has_prefix(x->id, "i-"));
        g_assert_cmpuint(strlen(x->id), ==, 18);
        g_assert_cmpstr(x->id, !=, y->id);
    }
}

static void
test_worst(Fixture *f, gconstpointer data)
{
    g_autoptr(McedObservation) warn =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED, T0, "w:1");
    g_autoptr(McedObservation) fatal =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, T0 + SEC,
                 "w:2");
    g_autoptr(McedObservation) harmless =
        make_obs(MCED_OBS_MEMORY_FAILURE, MCED_SEVERITY_HARMLESS, MCED_DISPOSITION_RECOVERED,
                 T0 + 2 * SEC, "w:3");
    McedIncident *inc;

    mced_observation_set_str(fatal, MCED_STR_ERROR_TYPE, "UE", -1);
    mced_observation_set_str(harmless, MCED_STR_ERROR_TYPE, "SLB", -1);
    inc = mced_correlator_add(f->c, warn, f->vm_a);
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_CORRECTED);
    g_assert_true(mced_correlator_add(f->c, fatal, f->vm_a) == inc);
    g_assert_true(mced_correlator_add(f->c, harmless, f->vm_a) == inc);
    g_assert_cmpint(inc->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpint(inc->disposition, ==, MCED_DISPOSITION_RECOVERED);
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_FATAL);
    g_assert_cmpstr(inc->error_type, ==, "UE");
    g_assert_cmpint(nth(f, 0)->klass, ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(nth(f, 1)->klass, ==, MCED_CLASS_FATAL);
}

static void
test_observation_bounds(Fixture *f, gconstpointer data)
{
    const guint n = MCED_INCIDENT_MAX_OBSERVATIONS + 8;
    McedIncident *inc = NULL;

    for (guint i = 0; i < n; i++) {
        g_autofree char *cursor = g_strdup_printf("b:%u", i);
        g_autoptr(McedObservation) o = mced_observation_new(MCED_OBS_PPC64_MCE);
        McedIncident *got;

        o->realtime_us = T0 + i * SEC; /* each within the window of the last */
        o->cursor = g_strdup(cursor);
        mced_observation_set_num(o, MCED_NUM_VCPU, i);
        mced_observation_set_num(o, MCED_NUM_EA, 0x10000 + i);
        got = mced_correlator_add(f->c, o, f->vm_a);
        if (inc == NULL)
            inc = got;
        g_assert_true(got == inc);
    }
    g_assert_cmpuint(inc->n_observations, ==, n);
    g_assert_cmpuint(inc->observations->len, ==, MCED_INCIDENT_MAX_OBSERVATIONS);
    g_assert_cmpuint(inc->vcpus->len, ==, MCED_INCIDENT_MAX_VALUES);
    g_assert_cmpuint(inc->addresses->len, ==, MCED_INCIDENT_MAX_VALUES);
    g_assert_cmpint(inc->last_us, ==, T0 + (n - 1) * SEC);
    g_assert_cmpuint(f->events->len, ==, n);
    g_assert_cmpint(nth(f, 0)->event, ==, MCED_INCIDENT_EVENT_OPENED);
    for (guint i = 1; i < n; i++)
        g_assert_cmpint(nth(f, i)->event, ==, MCED_INCIDENT_EVENT_UPDATED);
    g_assert_cmpuint(nth(f, n - 1)->n_observations, ==, n);
    /* An unkept observation is still remembered as seen. */
    g_assert_null(add_plain(f, f->vm_a, T0 + n * SEC, "b:35"));
}

static void
test_max_open(Fixture *f, gconstpointer data)
{
    const guint extra = 3;
    g_autoptr(GPtrArray) open = NULL;
    guint base;

    for (guint i = 0; i < MCED_CORRELATOR_MAX_OPEN + extra; i++) {
        g_autofree char *name = g_strdup_printf("vm%u", i);
        g_autofree char *cursor = g_strdup_printf("o:%u", i);
        g_autoptr(McedVmRef) vm = mced_vm_ref_new(name, NULL, -1);

        g_assert_nonnull(add_plain(f, vm, T0, cursor));
    }
    g_assert_cmpuint(n_open(f), ==, MCED_CORRELATOR_MAX_OPEN);
    g_assert_cmpuint(f->events->len, ==, MCED_CORRELATOR_MAX_OPEN + 2 * extra);

    /* The oldest close, one per newcomer, before it opens. */
    base = MCED_CORRELATOR_MAX_OPEN;
    for (guint i = 0; i < extra; i++) {
        g_autofree char *closed = g_strdup_printf("vm%u", i);
        g_autofree char *opened = g_strdup_printf("vm%u", MCED_CORRELATOR_MAX_OPEN + i);

        g_assert_cmpint(nth(f, base + 2 * i)->event, ==, MCED_INCIDENT_EVENT_CLOSED);
        g_assert_cmpstr(nth(f, base + 2 * i)->inc->vm->name, ==, closed);
        g_assert_cmpint(nth(f, base + 2 * i + 1)->event, ==, MCED_INCIDENT_EVENT_OPENED);
        g_assert_cmpstr(nth(f, base + 2 * i + 1)->inc->vm->name, ==, opened);
    }

    open = mced_correlator_get_open(f->c);
    g_assert_cmpstr(((McedIncident *)open->pdata[0])->vm->name, ==, "vm3");
    g_assert_cmpstr(((McedIncident *)open->pdata[open->len - 1])->vm->name, ==, "vm4098");
}

static void
test_close_all_order(Fixture *f, gconstpointer data)
{
    g_autoptr(McedVmRef) vm_c = mced_vm_ref_new("vm-c", NULL, -1);
    McedIncident *expect[4];
    g_autoptr(GPtrArray) open = NULL;

    expect[0] = add_plain(f, f->vm_b, T0, "c:1");
    expect[1] = add_plain(f, f->vm_a, T0 + 1, "c:2");
    expect[2] = add_plain(f, NULL, T0 + 2, "c:3"); /* two domains near: host */
    expect[3] = add_plain(f, vm_c, T0 + 10 * W, "c:4");
    g_assert_null(expect[2]->vm);

    open = mced_correlator_get_open(f->c);
    g_assert_cmpuint(open->len, ==, 4);
    for (guint i = 0; i < 4; i++)
        g_assert_true(open->pdata[i] == expect[i]);
    g_clear_pointer(&open, g_ptr_array_unref); /* borrowed: do not keep */

    /* Updating one does not move it. */
    g_assert_true(add_plain(f, vm_c, T0 + 10 * W + SEC, "c:5") == expect[3]);
    g_assert_true(add_plain(f, f->vm_b, T0 - SEC, "c:6") == expect[0]);
    /* b's took the host incident over: the host line was near it. */
    expect[2] = expect[3];
    g_assert_cmpuint(expect[0]->n_observations, ==, 3);
    g_array_set_size(f->events, 0);
    mced_correlator_close_all(f->c);
    g_assert_cmpuint(f->events->len, ==, 3);
    for (guint i = 0; i < 3; i++)
        assert_event(f, i, MCED_INCIDENT_EVENT_CLOSED, expect[i]);
    g_assert_cmpuint(n_open(f), ==, 0);
    g_assert_cmpint(expect[0]->state, ==, MCED_INCIDENT_CLOSED);
}

static McedIncident *
make_restored(const char *id, const McedVmRef *vm, gint64 t, const char *cursor)
{
    McedIncident *inc = mced_incident_new(id, vm);
    g_autoptr(McedObservation) o =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED, t,
                 cursor);

    mced_incident_add_observation(inc, o, mced_observation_class(o, vm != NULL));
    return inc;
}

static void
test_restore(Fixture *f, gconstpointer data)
{
    g_autoptr(McedIncident) r = make_restored("i-restored", f->vm_a, T0, "r:1");
    g_autoptr(McedIncident) clash = make_restored("i-clash", f->vm_a, T0, "r:2");
    g_autoptr(McedIncident) host = make_restored("i-host", NULL, T0, "r:3");
    g_autoptr(GPtrArray) open = NULL;

    mced_correlator_restore(f->c, r);
    g_assert_cmpuint(f->events->len, ==, 0);
    g_assert_true(mced_correlator_is_known_id(f->c, "i-restored"));
    open = mced_correlator_get_open(f->c);
    g_assert_cmpuint(open->len, ==, 1);
    g_assert_true(open->pdata[0] == r);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + W + 1);

    /* Its lines replayed are duplicates; new ones join it. */
    g_assert_null(add_plain(f, f->vm_a, T0, "r:1"));
    g_assert_true(add_plain(f, f->vm_a, T0 + SEC, "r:4") == r);
    g_assert_cmpuint(r->n_observations, ==, 2);
    g_assert_cmpint(r->klass, ==, MCED_CLASS_GUEST);
    assert_event(f, 0, MCED_INCIDENT_EVENT_UPDATED, r);

    /* A second open incident for the same VM cannot be: it closes. */
    mced_correlator_restore(f->c, clash);
    g_assert_cmpuint(f->events->len, ==, 2);
    assert_event(f, 1, MCED_INCIDENT_EVENT_CLOSED, clash);
    g_assert_cmpint(clash->state, ==, MCED_INCIDENT_CLOSED);
    g_assert_true(mced_correlator_is_known_id(f->c, "i-clash"));

    /* A restored host incident is taken over like any other. */
    mced_correlator_restore(f->c, host);
    g_assert_cmpuint(n_open(f), ==, 2);
    g_assert_true(add_plain(f, f->vm_b, T0 + 2 * SEC, "b:1") != NULL);
    g_assert_cmpuint(n_open(f), ==, 2);
    assert_event(f, f->events->len - 1, MCED_INCIDENT_EVENT_MERGED, host);
    {
        const Seen *s = nth(f, f->events->len - 2);
        g_assert_cmpint(s->event, ==, MCED_INCIDENT_EVENT_OPENED);
        g_assert_cmpstr(host->merged_into, ==, s->inc->id);
        g_assert_cmpuint(s->n_observations, ==, 2);
        /* r:3 was not recovered: attributed, the guest took it. */
        g_assert_cmpint(s->klass, ==, MCED_CLASS_GUEST);
    }

    mced_correlator_close_all(f->c);
    assert_event(f, f->events->len - 2, MCED_INCIDENT_EVENT_CLOSED, r);
    g_assert_cmpint(r->state, ==, MCED_INCIDENT_CLOSED);
}

static void
test_set_window(Fixture *f, gconstpointer data)
{
    McedIncident *a = add_plain(f, f->vm_a, T0, "c:1");

    mced_correlator_set_window(f->c, 20 * SEC);
    g_assert_true(add_plain(f, f->vm_a, T0 + 20 * SEC, "c:2") == a);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==, T0 + 40 * SEC + 1);
    /* Non-positive: the default. */
    mced_correlator_set_window(f->c, 0);
    g_assert_cmpint(mced_correlator_next_deadline(f->c), ==,
                    T0 + 20 * SEC + MCED_CORRELATOR_DEFAULT_WINDOW_US + 1);
}

static void
test_free_open(void)
{
    g_autoptr(McedCorrelator) c = mced_correlator_new(0, NULL, NULL);
    g_autoptr(McedObservation) o =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED, T0, "x");

    /* No callback at all is fine; freeing with incidents open too. */
    g_assert_nonnull(mced_correlator_add(c, o, NULL));
    g_assert_cmpint(mced_correlator_next_deadline(c), ==,
                    T0 + MCED_CORRELATOR_DEFAULT_WINDOW_US + 1);
}

#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

static void
test_lookup(Fixture *f, gconstpointer data)
{
    McedIncident *a = add_plain(f, f->vm_a, T0, "a:1");

    g_assert_true(mced_correlator_lookup(f->c, f->vm_a, T0) == a);
    g_assert_true(mced_correlator_lookup(f->c, f->vm_a, T0 + W) == a);
    g_assert_null(mced_correlator_lookup(f->c, f->vm_a, T0 + W + 1));
    g_assert_null(mced_correlator_lookup(f->c, f->vm_b, T0));
    g_assert_null(mced_correlator_lookup(f->c, NULL, T0));
    /* a lookup changes nothing */
    g_assert_cmpuint(f->events->len, ==, 1);
    g_assert_cmpuint(a->n_observations, ==, 1);
}

static McedIncident *
add_drill(Fixture *f, const McedVmRef *vm, McedIncidentClass klass, gint64 t_us,
          const char *cursor)
{
    g_autoptr(McedObservation) obs = mced_observation_new_drill(klass, t_us, cursor, "by test");

    return mced_correlator_add(f->c, obs, vm);
}

/* A drill has an incident of its own: it joins no real incident, nothing
 * real joins it, it takes no host incident in, and it says it is a drill. */
static void
test_drill(Fixture *f, gconstpointer data)
{
    McedIncident *real = add_plain(f, f->vm_a, T0, "c:1");
    McedIncident *drill = add_drill(f, f->vm_a, MCED_CLASS_FATAL, T0 + SEC, "drill:1");
    McedIncident *host, *host_drill, *guest;
    const McedObservation *obs;

    g_assert_nonnull(drill);
    g_assert_true(drill != real);
    g_assert_true(drill->synthetic);
    g_assert_false(real->synthetic);
    g_assert_cmpint(drill->klass, ==, MCED_CLASS_FATAL);
    g_assert_cmpint(real->klass, ==, MCED_CLASS_CORRECTED);
    g_assert_cmpstr(drill->vm->name, ==, "vm-a");
    obs = drill->observations->pdata[0];
    g_assert_cmpint(obs->kind, ==, MCED_OBS_DRILL);
    g_assert_true(mced_observation_is_synthetic(obs));
    g_assert_cmpstr(obs->str[MCED_STR_MESSAGE], ==, "by test");
    /* the real VM's next observation still joins the real incident */
    g_assert_true(add_plain(f, f->vm_a, T0 + 2 * SEC, "c:2") == real);
    g_assert_cmpuint(drill->n_observations, ==, 1);
    /* and lookups (a guest panic looking for its incident) find the real one */
    g_assert_true(mced_correlator_lookup(f->c, f->vm_a, T0 + 2 * SEC) == real);
    /* the same drill twice opens nothing */
    g_assert_null(add_drill(f, f->vm_a, MCED_CLASS_FATAL, T0 + SEC, "drill:1"));
    /* a second drill is a second incident */
    guest = add_drill(f, f->vm_a, MCED_CLASS_GUEST, T0 + 3 * SEC, "drill:2");
    g_assert_true(guest != drill && guest->klass == MCED_CLASS_GUEST);
    g_assert_cmpint(add_drill(f, f->vm_b, MCED_CLASS_CORRECTED, T0, "drill:3")->klass, ==,
                    MCED_CLASS_CORRECTED);

    /* a host drill is a host incident, and a domain does not absorb it */
    host_drill = add_drill(f, NULL, MCED_CLASS_HOST, T0 + 3 * SEC, "drill:4");
    g_assert_nonnull(host_drill);
    g_assert_null(host_drill->vm);
    g_assert_cmpint(host_drill->klass, ==, MCED_CLASS_HOST);
    g_assert_true(add_plain(f, f->vm_a, T0 + 4 * SEC, "c:3") == real);
    g_assert_cmpint(host_drill->state, ==, MCED_INCIDENT_OPEN);
    /* a real host line does not join the host drill either, nor a drill as
     * the sole domain incident near in time */
    host = add_plain(f, NULL, T0 + 4 * SEC, "c:4");
    g_assert_true(host == real);
    mced_correlator_expire(f->c, T0 + 100 * SEC);
    g_assert_cmpuint(n_open(f), ==, 0);
    g_assert_cmpuint(real->n_observations, ==, 4);
    g_assert_cmpuint(host_drill->n_observations, ==, 1);
    for (guint i = 0; i < f->events->len; i++)
        g_assert_cmpint(nth(f, i)->event, !=, MCED_INCIDENT_EVENT_MERGED);
}

/* Without a domain incident near, a real host line opens a real host
 * incident, not the drill's. */
static void
test_drill_host_apart(Fixture *f, gconstpointer data)
{
    McedIncident *drill = add_drill(f, f->vm_a, MCED_CLASS_GUEST, T0, "drill:1");
    McedIncident *host = add_plain(f, NULL, T0, "c:1");

    g_assert_nonnull(host);
    g_assert_true(host != drill);
    g_assert_null(host->vm);
    g_assert_false(host->synthetic);
    g_assert_cmpuint(drill->n_observations, ==, 1);
}

/* An open drill restored from the state stays a drill of its own. */
static void
test_drill_restore(Fixture *f, gconstpointer data)
{
    g_autoptr(McedCorrelator) c2 = NULL;
    McedIncident *drill = add_drill(f, f->vm_a, MCED_CLASS_GUEST, T0, "drill:1");
    McedIncident *real;
    g_autoptr(GPtrArray) open = NULL;

    c2 = mced_correlator_new(W, NULL, NULL);
    mced_correlator_restore(c2, drill);
    open = mced_correlator_get_open(c2);
    g_assert_cmpuint(open->len, ==, 1);
    g_assert_true(open->pdata[0] == drill);
    g_assert_cmpint(drill->state, ==, MCED_INCIDENT_OPEN);
    {
        g_autoptr(McedObservation) obs =
            make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
                     T0 + SEC, "c:1");

        mced_observation_freeze(obs);
        real = mced_correlator_add(c2, obs, f->vm_a);
    }
    g_assert_true(real != drill);
    g_assert_false(real->synthetic);
    g_assert_null(mced_correlator_lookup(c2, NULL, T0));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("/correlator/window-join", test_window_join);
    ADD("/correlator/separate-vms", test_separate_vms);
    ADD("/correlator/expire-boundary", test_expire_boundary);
    ADD("/correlator/expire-order", test_expire_order);
    ADD("/correlator/host-merge-into-new", test_host_merge_into_new);
    ADD("/correlator/host-merge-into-open", test_host_merge_into_open);
    ADD("/correlator/host-joins-sole-domain", test_host_joins_sole_domain);
    ADD("/correlator/host-far", test_host_far);
    ADD("/correlator/duplicate-cursor", test_duplicate_cursor);
    ADD("/correlator/known-id", test_known_id);
    ADD("/correlator/known-ids-bounded", test_known_ids_bounded);
    ADD("/correlator/replay-twice", test_replay_twice);
    ADD("/correlator/replay-window", test_replay_window);
    ADD("/correlator/timeless", test_timeless);
    ADD("/correlator/worst", test_worst);
    ADD("/correlator/observation-bounds", test_observation_bounds);
    ADD("/correlator/max-open", test_max_open);
    ADD("/correlator/close-all-order", test_close_all_order);
    ADD("/correlator/restore", test_restore);
    ADD("/correlator/set-window", test_set_window);
    ADD("/correlator/lookup", test_lookup);
    ADD("/correlator/drill", test_drill);
    ADD("/correlator/drill-host-apart", test_drill_host_apart);
    ADD("/correlator/drill-restore", test_drill_restore);
    g_test_add_func("/correlator/free-open", test_free_open);
    return g_test_run();
}
