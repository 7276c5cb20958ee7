/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mced-error.h"
#include "mced-json.h"
#include "mced-observation-json.h"
#include "mced-state.h"

#define STATE_FILE       "state.json"
#define HISTORY_FILE     "history.jsonl"
#define HISTORY_OLD_FILE "history.jsonl.1"

/* Bounds on what a state file may hold, whatever is on disk. */
#define STATE_MAX_DOMAINS    16384 /* per-domain counters kept; the stalest go first */
#define STATE_MAX_STRING     4096  /* journal cursor, names, keys */
#define STATE_MAX_ID         256   /* incident ids */
#define STATE_MAX_BAD_SUFFIX 1000  /* state.json.bad-<t>-<N> tried before giving up */

/* ---- in-memory state --------------------------------------------------- */

static void
domain_counters_free(McedDomainCounters *dc)
{
    if (dc == NULL)
        return;
    g_free(dc->key);
    g_free(dc->name);
    g_free(dc->uuid);
    g_free(dc->last_incident_id);
    for (int c = 0; c < _MCED_CLASS_MAX; c++)
        if (dc->times[c] != NULL)
            g_array_unref(dc->times[c]);
    g_free(dc);
}

static McedDomainCounters *
domain_counters_new(const char *key)
{
    McedDomainCounters *dc = g_new0(McedDomainCounters, 1);

    dc->key = g_strdup(key);
    for (int c = 0; c < _MCED_CLASS_MAX; c++)
        dc->times[c] = g_array_new(FALSE, FALSE, sizeof(gint64));
    return dc;
}

static void
action_record_free(McedActionRecord *a)
{
    if (a == NULL)
        return;
    g_free(a->incident_id);
    g_free(a->domain);
    g_free(a->uuid);
    g_free(a->action);
    g_free(a);
}

McedState *
mced_state_new(void)
{
    McedState *st = g_new0(McedState, 1);

    st->actions = g_ptr_array_new_with_free_func((GDestroyNotify)action_record_free);
    st->open_incidents = g_ptr_array_new_with_free_func((GDestroyNotify)mced_incident_unref);
    /* The key is owned by the counters it maps to. */
    st->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify)domain_counters_free);
    st->recent_ids = g_ptr_array_new_with_free_func(g_free);
    return st;
}

void
mced_state_free(McedState *st)
{
    if (st == NULL)
        return;
    g_free(st->journal_cursor);
    g_clear_pointer(&st->open_incidents, g_ptr_array_unref);
    g_clear_pointer(&st->domains, g_hash_table_unref);
    g_clear_pointer(&st->recent_ids, g_ptr_array_unref);
    if (st->actions != NULL)
        g_ptr_array_unref(st->actions);
    g_free(st);
}

/* At the cap, the domain whose latest incident is oldest makes room. */
static void
state_evict_stalest_domain(McedState *st)
{
    GHashTableIter iter;
    gpointer value;
    McedDomainCounters *stalest = NULL;

    g_hash_table_iter_init(&iter, st->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        McedDomainCounters *dc = value;

        if (stalest == NULL || dc->last_incident_us < stalest->last_incident_us)
            stalest = dc;
    }
    if (stalest != NULL)
        g_hash_table_remove(st->domains, stalest->key);
}

static McedDomainCounters *
state_get_domain(McedState *st, const char *key)
{
    McedDomainCounters *dc = g_hash_table_lookup(st->domains, key);

    if (dc != NULL)
        return dc;
    if (g_hash_table_size(st->domains) >= STATE_MAX_DOMAINS)
        state_evict_stalest_domain(st);
    dc = domain_counters_new(key);
    g_hash_table_insert(st->domains, dc->key, dc);
    return dc;
}

static void
replace_string(char **field, const char *value)
{
    if (value == NULL || g_strcmp0(*field, value) == 0)
        return;
    g_free(*field);
    *field = g_strdup(value);
}

McedDomainCounters *
mced_state_find_domain(const McedState *st, const char *name_or_uuid)
{
    GHashTableIter it;
    gpointer value;
    McedDomainCounters *found = NULL;

    g_return_val_if_fail(st != NULL && name_or_uuid != NULL, NULL);
    g_hash_table_iter_init(&it, st->domains);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        McedDomainCounters *c = value;

        if ((c->name != NULL && strcmp(c->name, name_or_uuid) == 0)
            || (c->uuid != NULL && g_ascii_strcasecmp(c->uuid, name_or_uuid) == 0))
            found = c;
    }
    return found;
}

McedDomainCounters *
mced_state_count_incident(McedState *st, const McedIncident *inc)
{
    const char *key;
    McedDomainCounters *dc;

    g_return_val_if_fail(st != NULL, NULL);
    g_return_val_if_fail(inc != NULL, NULL);

    key = mced_vm_ref_key(inc->vm);
    if (key == NULL)
        key = "host";
    dc = state_get_domain(st, key);
    if (inc->vm != NULL) {
        replace_string(&dc->name, inc->vm->name);
        replace_string(&dc->uuid, inc->vm->uuid);
    }
    if (inc->klass >= 0 && inc->klass < _MCED_CLASS_MAX)
        dc->incidents[inc->klass]++;
    if (dc->last_incident_id == NULL || inc->last_us >= dc->last_incident_us) {
        dc->last_incident_us = inc->last_us;
        replace_string(&dc->last_incident_id, inc->id);
    }
    return dc;
}

guint
mced_state_n_domains(const McedState *st)
{
    const McedDomainCounters *host;

    g_return_val_if_fail(st != NULL, 0);
    host = g_hash_table_lookup(st->domains, "host");
    return g_hash_table_size(st->domains)
           - (host != NULL && host->name == NULL && host->uuid == NULL ? 1 : 0);
}

McedDomainCounters *
mced_state_note_incident_time(McedState *st, const McedVmRef *vm, McedIncidentClass klass,
                              gint64 when)
{
    const char *key = mced_vm_ref_key(vm);
    McedDomainCounters *dc;
    GArray *t;

    g_return_val_if_fail(st != NULL, NULL);
    g_return_val_if_fail(klass >= 0 && klass < _MCED_CLASS_MAX, NULL);

    dc = state_get_domain(st, key != NULL ? key : "host");
    if (vm != NULL) {
        replace_string(&dc->name, vm->name);
        replace_string(&dc->uuid, vm->uuid);
    }
    t = dc->times[klass];
    if (t->len >= MCED_STATE_MAX_TIMES)
        g_array_remove_index(t, 0);
    g_array_append_val(t, when);
    return dc;
}

void
mced_state_action_started(McedState *st, const char *incident_id, const char *domain,
                          const char *uuid, const char *action, gint64 started_us)
{
    McedActionRecord *a;

    g_return_if_fail(st != NULL && uuid != NULL && action != NULL);
    mced_state_action_ended(st, uuid); /* one action per domain */
    if (st->actions->len >= MCED_STATE_MAX_ACTIONS)
        g_ptr_array_remove_index(st->actions, 0);
    a = g_new0(McedActionRecord, 1);
    a->incident_id = g_strdup(incident_id);
    a->domain = g_strdup(domain);
    a->uuid = g_strdup(uuid);
    a->action = g_strdup(action);
    a->started_us = started_us;
    g_ptr_array_add(st->actions, a);
}

void
mced_state_action_ended(McedState *st, const char *uuid)
{
    g_return_if_fail(st != NULL);
    for (guint i = 0; i < st->actions->len; i++) {
        McedActionRecord *a = st->actions->pdata[i];
        if (g_strcmp0(a->uuid, uuid) == 0) {
            g_ptr_array_remove_index(st->actions, i);
            return;
        }
    }
}

void
mced_state_remember_id(McedState *st, const char *id)
{
    g_return_if_fail(st != NULL);

    if (id == NULL || id[0] == '\0')
        return;
    /* Newest last: a repeat is most likely near the end. */
    for (guint i = st->recent_ids->len; i > 0; i--) {
        if (strcmp(st->recent_ids->pdata[i - 1], id) == 0)
            return;
    }
    while (st->recent_ids->len >= MCED_STATE_MAX_RECENT_IDS)
        g_ptr_array_remove_index(st->recent_ids, 0);
    g_ptr_array_add(st->recent_ids, g_strdup(id));
}

/* ---- JSON helpers ------------------------------------------------------ */

static json_object *
json_u64_array(const GArray *values, gboolean hex)
{
    json_object *arr = json_object_new_array();

    for (guint i = 0; values != NULL && i < values->len; i++) {
        guint64 v = g_array_index(values, guint64, i);

        if (hex) {
            g_autofree char *s = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);
            json_object_array_add(arr, json_object_new_string(s));
        } else {
            json_object_array_add(arr, json_object_new_uint64(v));
        }
    }
    return arr;
}

static const char *
json_type_label(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a fraction";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "something else";
}

/* Every reader below names the field in its error, so a message points
 * straight at the bad value ("first_us: expected an integer, got a string"). */
static gboolean
field_get(json_object *obj, const char *key, json_object **ret, GError **error)
{
    if (!json_object_object_get_ex(obj, key, ret)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: missing", key);
        return FALSE;
    }
    return TRUE;
}

static gboolean
field_type_error(const char *key, const char *expected, json_object *v, GError **error)
{
    g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: expected %s, got %s",
                key, expected, json_type_label(v));
    return FALSE;
}

/* A string of 1..@max_len bytes, or NULL when @nullable and the value is
 * null. Borrowed from @obj. */
static gboolean
field_string(json_object *obj, const char *key, gboolean nullable, gsize max_len,
             const char **ret, GError **error)
{
    json_object *v;
    const char *s;
    gsize len;

    if (!field_get(obj, key, &v, error))
        return FALSE;
    if (v == NULL && nullable) {
        *ret = NULL;
        return TRUE;
    }
    if (!json_object_is_type(v, json_type_string))
        return field_type_error(key, nullable ? "a string or null" : "a string", v, error);
    s = json_object_get_string(v);
    len = (gsize)json_object_get_string_len(v);
    if (len == 0 || len > max_len || memchr(s, '\0', len) != NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: expected 1 to %" G_GSIZE_FORMAT " bytes of text", key, max_len);
        return FALSE;
    }
    *ret = s;
    return TRUE;
}

/* An integer in [min, max]. */
static gboolean
value_int(const char *key, json_object *v, gint64 min, gint64 max, gint64 *ret, GError **error)
{
    gint64 n;

    if (!json_object_is_type(v, json_type_int))
        return field_type_error(key, "an integer", v, error);
    errno = 0;
    n = json_object_get_int64(v);
    /* json-c clamps past the int64 range and says so in errno; an integer
     * above G_MAXINT64 is kept as uint64 and clamps to G_MAXINT64 too. */
    if (errno != 0 || n < min || n > max
        || (n == G_MAXINT64 && json_object_get_uint64(v) != (guint64)G_MAXINT64)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: %s is out of range (%" G_GINT64_FORMAT " .. %" G_GINT64_FORMAT ")",
                    key, json_object_to_json_string(v), min, max);
        return FALSE;
    }
    *ret = n;
    return TRUE;
}

static gboolean
field_int(json_object *obj, const char *key, gint64 min, gint64 max, gint64 *ret, GError **error)
{
    json_object *v;

    if (!field_get(obj, key, &v, error))
        return FALSE;
    return value_int(key, v, min, max, ret, error);
}

/* A non-negative integer up to G_MAXUINT64. */
static gboolean
value_uint(const char *key, json_object *v, guint64 *ret, GError **error)
{
    if (!json_object_is_type(v, json_type_int))
        return field_type_error(key, "an integer", v, error);
    if (json_object_get_int64(v) < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: %s is negative", key, json_object_to_json_string(v));
        return FALSE;
    }
    *ret = json_object_get_uint64(v);
    return TRUE;
}

static gboolean
field_bool(json_object *obj, const char *key, gboolean *ret, GError **error)
{
    json_object *v;

    if (!field_get(obj, key, &v, error))
        return FALSE;
    if (!json_object_is_type(v, json_type_boolean))
        return field_type_error(key, "true or false", v, error);
    *ret = json_object_get_boolean(v);
    return TRUE;
}

/* "0x" and 1 to 16 hex digits. */
static gboolean
parse_hex_u64(const char *s, guint64 *ret)
{
    guint64 v = 0;
    gsize n = 0;

    if (s[0] != '0' || s[1] != 'x')
        return FALSE;
    for (s += 2; *s != '\0'; s++, n++) {
        int d = g_ascii_xdigit_value(*s);

        if (d < 0 || n >= 16)
            return FALSE;
        v = (v << 4) | (guint64)d;
    }
    if (n == 0)
        return FALSE;
    *ret = v;
    return TRUE;
}

/* An array of at most MCED_INCIDENT_MAX_VALUES distinct values, integers
 * or (@hex) "0x..." strings, into @values. */
static gboolean
field_u64_array(json_object *obj, const char *key, gboolean hex, GArray *values, GError **error)
{
    json_object *arr;
    gsize n;

    if (!field_get(obj, key, &arr, error))
        return FALSE;
    if (!json_object_is_type(arr, json_type_array))
        return field_type_error(key, "an array", arr, error);
    n = json_object_array_length(arr);
    if (n > MCED_INCIDENT_MAX_VALUES) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: %" G_GSIZE_FORMAT " values, at most %d", key, n,
                    MCED_INCIDENT_MAX_VALUES);
        return FALSE;
    }
    g_array_set_size(values, 0);
    for (gsize i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        g_autofree char *elem = g_strdup_printf("%s[%" G_GSIZE_FORMAT "]", key, i);
        guint64 u;

        if (hex) {
            if (!json_object_is_type(v, json_type_string))
                return field_type_error(elem, "a \"0x...\" string", v, error);
            if (!parse_hex_u64(json_object_get_string(v), &u)) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "%s: bad hex value %s", elem, json_object_to_json_string(v));
                return FALSE;
            }
        } else if (!value_uint(elem, v, &u, error)) {
            return FALSE;
        }
        for (guint j = 0; j < values->len; j++) {
            if (g_array_index(values, guint64, j) == u) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "%s: repeats an earlier value", elem);
                return FALSE;
            }
        }
        g_array_append_val(values, u);
    }
    return TRUE;
}

static gboolean
field_kinds(json_object *obj, guint32 *ret, GError **error)
{
    json_object *arr;
    guint32 kinds = 0;
    gsize n;

    if (!field_get(obj, "kinds", &arr, error))
        return FALSE;
    if (!json_object_is_type(arr, json_type_array))
        return field_type_error("kinds", "an array", arr, error);
    n = json_object_array_length(arr);
    for (gsize i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        McedObsKind k = _MCED_OBS_KIND_INVALID;

        if (json_object_is_type(v, json_type_string))
            k = mced_obs_kind_from_string(json_object_get_string(v));
        if (k == _MCED_OBS_KIND_INVALID) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "kinds[%" G_GSIZE_FORMAT "]: unknown kind %s", i,
                        json_object_to_json_string(v));
            return FALSE;
        }
        kinds |= 1u << k;
    }
    *ret = kinds;
    return TRUE;
}

/* ---- incidents as JSON ------------------------------------------------- */

static const char *const incident_state_str[_MCED_INCIDENT_STATE_MAX] = {
    [MCED_INCIDENT_OPEN] = "open",
    [MCED_INCIDENT_CLOSED] = "closed",
};

json_object *
mced_incident_to_json(const McedIncident *inc, gboolean with_observations)
{
    g_autoptr(json_object) obj = NULL;
    json_object *kinds;

    g_return_val_if_fail(inc != NULL, NULL);

    obj = json_object_new_object();
    json_object_object_add(obj, "id", mced_json_string_new(inc->id));
    json_object_object_add(obj, "domain", mced_json_string_new(inc->vm ? inc->vm->name : NULL));
    json_object_object_add(obj, "domain_uuid",
                           mced_json_string_new(inc->vm ? inc->vm->uuid : NULL));
    json_object_object_add(obj, "pid", inc->vm != NULL && inc->vm->pid > 0
                                           ? json_object_new_int64(inc->vm->pid)
                                           : NULL);
    json_object_object_add(obj, "class",
                           mced_json_string_new(mced_incident_class_to_string(inc->klass)));
    json_object_object_add(obj, "state",
                           mced_json_string_new(inc->state >= 0
                                                       && inc->state < _MCED_INCIDENT_STATE_MAX
                                                   ? incident_state_str[inc->state]
                                                   : NULL));
    json_object_object_add(obj, "severity",
                           mced_json_string_new(mced_severity_to_string(inc->severity)));
    json_object_object_add(obj, "disposition",
                           mced_json_string_new(mced_disposition_to_string(inc->disposition)));
    json_object_object_add(obj, "error_type", mced_json_string_new(inc->error_type));
    json_object_object_add(obj, "first_us", json_object_new_int64(inc->first_us));
    json_object_object_add(obj, "last_us", json_object_new_int64(inc->last_us));
    json_object_object_add(obj, "host_cpus", json_u64_array(inc->host_cpus, FALSE));
    json_object_object_add(obj, "vcpus", json_u64_array(inc->vcpus, FALSE));
    json_object_object_add(obj, "addresses", json_u64_array(inc->addresses, TRUE));

    kinds = json_object_new_array();
    for (int k = 0; k < _MCED_OBS_KIND_MAX; k++) {
        if ((inc->kinds & (1u << k)) != 0)
            json_object_array_add(kinds,
                                  mced_json_string_new(mced_obs_kind_to_string((McedObsKind)k)));
    }
    json_object_object_add(obj, "kinds", kinds);
    json_object_object_add(obj, "n_observations", json_object_new_int64(inc->n_observations));
    json_object_object_add(obj, "synthetic", json_object_new_boolean(inc->synthetic));
    if (inc->actions != NULL && inc->actions->len > 0) {
        json_object *arr = json_object_new_array();

        for (guint i = 0; i < inc->actions->len; i++) {
            const McedIncidentAction *a = inc->actions->pdata[i];
            json_object *o = json_object_new_object();

            json_object_object_add(o, "action", mced_json_string_new(a->action));
            json_object_object_add(o, "result", mced_json_string_new(a->result));
            json_object_object_add(o, "detail", mced_json_string_new(a->detail));
            json_object_object_add(o, "time_us", json_object_new_int64(a->time_us));
            json_object_array_add(arr, o);
        }
        json_object_object_add(obj, "actions", arr);
    }

    if (with_observations) {
        json_object *arr = json_object_new_array();

        for (guint i = 0; inc->observations != NULL && i < inc->observations->len; i++)
            json_object_array_add(arr, mced_observation_to_json(inc->observations->pdata[i]));
        json_object_object_add(obj, "observations", arr);
    }
    return g_steal_pointer(&obj);
}

/* An enum field held as a string: @parse returns a negative value for an
 * unknown one. Null means the UNKNOWN value (0) when @nullable. */
static gboolean
field_enum(json_object *obj, const char *key, gboolean nullable, int (*parse)(const char *s),
           int *ret, GError **error)
{
    const char *s;
    int v;

    if (!field_string(obj, key, nullable, 64, &s, error))
        return FALSE;
    if (s == NULL) {
        *ret = 0;
        return TRUE;
    }
    v = parse(s);
    if (v < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: unknown value \"%s\"",
                    key, s);
        return FALSE;
    }
    *ret = v;
    return TRUE;
}

static int
parse_class(const char *s)
{
    return mced_incident_class_from_string(s);
}

static int
parse_incident_state(const char *s)
{
    for (int i = 0; i < _MCED_INCIDENT_STATE_MAX; i++) {
        if (strcmp(incident_state_str[i], s) == 0)
            return i;
    }
    return -1;
}

/* UNKNOWN is written as null, never by name. */
static int
parse_severity(const char *s)
{
    McedSeverity v = mced_severity_from_string(s);

    return v == MCED_SEVERITY_UNKNOWN ? -1 : (int)v;
}

static int
parse_disposition(const char *s)
{
    McedDisposition v = mced_disposition_from_string(s);

    return v == MCED_DISPOSITION_UNKNOWN ? -1 : (int)v;
}

/* An incident read back carries its summary (class, worst severity, CPUs,
 * addresses, counts) and, when the JSON has them, its kept observations:
 * open incidents are saved with theirs, so an incident that was open when
 * the daemon stopped reaches the history whole once it closes. The summary
 * is taken as saved, not recomputed from the observations. */
static gboolean
restore_observations(json_object *obj, McedIncident *inc, GError **error)
{
    json_object *arr = NULL;
    size_t n;

    if (!json_object_object_get_ex(obj, "observations", &arr) || arr == NULL)
        return TRUE;
    if (!json_object_is_type(arr, json_type_array)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "observations: not an array");
        return FALSE;
    }
    n = json_object_array_length(arr);
    if (n > MCED_INCIDENT_MAX_OBSERVATIONS || n > inc->n_observations) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "observations: %zu is more than the incident can hold", n);
        return FALSE;
    }
    for (size_t i = 0; i < n; i++) {
        McedObservation *o = mced_observation_from_json(json_object_array_get_idx(arr, i), error);
        if (o == NULL) {
            g_prefix_error(error, "observations[%zu]: ", i);
            return FALSE;
        }
        g_ptr_array_add(inc->observations, o);
    }
    return TRUE;
}

McedIncident *
mced_incident_from_json(json_object *obj, GError **error)
{
    g_autoptr(McedIncident) inc = NULL;
    g_autoptr(McedVmRef) vm = NULL;
    const char *id, *name, *uuid, *error_type;
    json_object *pid_v;
    gint64 pid = -1, first_us, last_us, n_obs;
    int klass, state, severity, disposition;

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
        field_type_error("incident", "an object", obj, error);
        return NULL;
    }
    if (!field_string(obj, "id", FALSE, STATE_MAX_ID, &id, error)
        || !field_string(obj, "domain", TRUE, STATE_MAX_STRING, &name, error)
        || !field_string(obj, "domain_uuid", TRUE, STATE_MAX_STRING, &uuid, error)
        || !field_get(obj, "pid", &pid_v, error)
        || (pid_v != NULL && !value_int("pid", pid_v, 1, G_MAXINT32, &pid, error))
        || !field_enum(obj, "class", FALSE, parse_class, &klass, error)
        || !field_enum(obj, "state", FALSE, parse_incident_state, &state, error)
        || !field_enum(obj, "severity", TRUE, parse_severity, &severity, error)
        || !field_enum(obj, "disposition", TRUE, parse_disposition, &disposition, error)
        || !field_string(obj, "error_type", TRUE, STATE_MAX_STRING, &error_type, error)
        || !field_int(obj, "first_us", 0, G_MAXINT64, &first_us, error)
        || !field_int(obj, "last_us", 0, G_MAXINT64, &last_us, error)
        || !field_int(obj, "n_observations", 0, G_MAXUINT, &n_obs, error))
        return NULL;
    if (last_us < first_us) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "last_us: %" G_GINT64_FORMAT " is before first_us %" G_GINT64_FORMAT,
                    last_us, first_us);
        return NULL;
    }

    if (name != NULL || uuid != NULL || pid > 0)
        vm = mced_vm_ref_new(name, uuid, pid);
    inc = mced_incident_new(id, vm);
    inc->klass = (McedIncidentClass)klass;
    inc->state = (McedIncidentState)state;
    inc->severity = (McedSeverity)severity;
    inc->disposition = (McedDisposition)disposition;
    inc->error_type = g_strdup(error_type);
    inc->first_us = first_us;
    inc->last_us = last_us;
    inc->n_observations = (guint)n_obs;
    if (!field_u64_array(obj, "host_cpus", FALSE, inc->host_cpus, error)
        || !field_u64_array(obj, "vcpus", FALSE, inc->vcpus, error)
        || !field_u64_array(obj, "addresses", TRUE, inc->addresses, error)
        || !field_kinds(obj, &inc->kinds, error)
        || !field_bool(obj, "synthetic", &inc->synthetic, error))
        return NULL;
    if (!restore_observations(obj, inc, error))
        return NULL;
    return g_steal_pointer(&inc);
}

/* Parses exactly one JSON value filling [data, data+len) (whitespace may
 * follow). Returns NULL with a reason when it does not. */
static json_object *
parse_json_exact(const char *data, gsize len, GError **error)
{
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    gsize end;

    if (len > G_MAXINT) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "too large");
        return NULL;
    }
    tok = json_tokener_new();
    obj = json_tokener_parse_ex(tok, data, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        json_object_put(obj);
        if (jerr == json_tokener_continue || len == 0)
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "truncated JSON");
        else
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "not valid JSON: %s",
                        json_tokener_error_desc(jerr));
        return NULL;
    }
    for (gsize i = end; i < len; i++) {
        if (!g_ascii_isspace(data[i])) {
            json_object_put(obj);
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "data after the JSON value at byte %" G_GSIZE_FORMAT, i);
            return NULL;
        }
    }
    return obj;
}

/* ---- state as JSON ----------------------------------------------------- */

static gint
compare_keys(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static json_object *
domain_counters_to_json(const McedDomainCounters *dc)
{
    json_object *obj = json_object_new_object();
    json_object *counts = json_object_new_object();

    json_object_object_add(obj, "name", mced_json_string_new(dc->name));
    json_object_object_add(obj, "uuid", mced_json_string_new(dc->uuid));
    for (int c = 0; c < _MCED_CLASS_MAX; c++)
        json_object_object_add(counts, mced_incident_class_to_string((McedIncidentClass)c),
                               json_object_new_uint64(dc->incidents[c]));
    json_object_object_add(obj, "incidents", counts);
    json_object_object_add(obj, "last_incident_us", json_object_new_int64(dc->last_incident_us));
    json_object_object_add(obj, "last_incident_id", mced_json_string_new(dc->last_incident_id));
    {
        json_object *times = json_object_new_object();
        for (int c = 0; c < _MCED_CLASS_MAX; c++) {
            json_object *arr = json_object_new_array();
            for (guint i = 0; i < dc->times[c]->len; i++)
                json_object_array_add(arr, json_object_new_int64(
                                               g_array_index(dc->times[c], gint64, i)));
            json_object_object_add(times, mced_incident_class_to_string((McedIncidentClass)c),
                                   arr);
        }
        json_object_object_add(obj, "times", times);
    }
    json_object_object_add(obj, "last_action_us", json_object_new_int64(dc->last_action_us));
    return obj;
}

static json_object *
state_to_json(const McedState *st)
{
    g_autoptr(json_object) root = json_object_new_object();
    g_autofree gpointer *keys = NULL;
    json_object *arr;
    json_object *domains;
    guint n_keys = 0;

    json_object_object_add(root, "version", json_object_new_int(MCED_STATE_VERSION));
    json_object_object_add(root, "producer", json_object_new_string(PACKAGE_NAME " "
                                                                    PACKAGE_VERSION));
    json_object_object_add(root, "journal_cursor", mced_json_string_new(st->journal_cursor));

    arr = json_object_new_array();
    for (guint i = 0; i < st->open_incidents->len; i++)
        json_object_array_add(arr, mced_incident_to_json(st->open_incidents->pdata[i], TRUE));
    json_object_object_add(root, "open_incidents", arr);

    /* Sorted, so that the same state always gives the same bytes. */
    domains = json_object_new_object();
    keys = g_hash_table_get_keys_as_array(st->domains, &n_keys);
    qsort(keys, n_keys, sizeof(gpointer), compare_keys);
    for (guint i = 0; i < n_keys; i++)
        json_object_object_add(domains, keys[i],
                               domain_counters_to_json(g_hash_table_lookup(st->domains, keys[i])));
    json_object_object_add(root, "domains", domains);

    arr = json_object_new_array();
    for (guint i = 0; i < st->recent_ids->len; i++)
        json_object_array_add(arr, mced_json_string_new(st->recent_ids->pdata[i]));
    json_object_object_add(root, "recent_ids", arr);

    arr = json_object_new_array();
    for (guint i = 0; i < st->actions->len; i++) {
        const McedActionRecord *a = st->actions->pdata[i];
        json_object *o = json_object_new_object();

        json_object_object_add(o, "incident", mced_json_string_new(a->incident_id));
        json_object_object_add(o, "domain", mced_json_string_new(a->domain));
        json_object_object_add(o, "uuid", mced_json_string_new(a->uuid));
        json_object_object_add(o, "action", mced_json_string_new(a->action));
        json_object_object_add(o, "started_us", json_object_new_int64(a->started_us));
        json_object_array_add(arr, o);
    }
    json_object_object_add(root, "actions_in_flight", arr);
    return g_steal_pointer(&root);
}

/* "times" and "last_action_us" came with the policy; a state file written
 * before has neither, which means none. */
static gboolean
times_from_json(McedDomainCounters *dc, json_object *obj, GError **error)
{
    json_object *times = NULL, *last = NULL;

    if (json_object_object_get_ex(obj, "last_action_us", &last) && last != NULL) {
        if (!json_object_is_type(last, json_type_int) || json_object_get_int64(last) < 0) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "last_action_us: not a non-negative integer");
            return FALSE;
        }
        dc->last_action_us = json_object_get_int64(last);
    }
    if (!json_object_object_get_ex(obj, "times", &times) || times == NULL)
        return TRUE;
    if (!json_object_is_type(times, json_type_object)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "times: not an object");
        return FALSE;
    }
    for (int c = 0; c < _MCED_CLASS_MAX; c++) {
        const char *cname = mced_incident_class_to_string((McedIncidentClass)c);
        json_object *arr = NULL;
        size_t n;

        if (!json_object_object_get_ex(times, cname, &arr) || arr == NULL)
            continue;
        if (!json_object_is_type(arr, json_type_array)
            || (n = json_object_array_length(arr)) > MCED_STATE_MAX_TIMES) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "times.%s: not an array of at most %d times", cname, MCED_STATE_MAX_TIMES);
            return FALSE;
        }
        g_array_set_size(dc->times[c], 0);
        for (size_t i = 0; i < n; i++) {
            json_object *v = json_object_array_get_idx(arr, i);
            gint64 t;
            if (!json_object_is_type(v, json_type_int) || (t = json_object_get_int64(v)) < 0) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "times.%s[%zu]: not a non-negative integer", cname, i);
                return FALSE;
            }
            g_array_append_val(dc->times[c], t);
        }
    }
    return TRUE;
}

static gboolean
domain_counters_from_json(McedState *st, const char *key, json_object *obj, GError **error)
{
    McedDomainCounters *dc;
    const char *name, *uuid, *last_id;
    json_object *counts;
    gint64 last_us;

    if (strlen(key) == 0 || strlen(key) > STATE_MAX_STRING) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "bad key");
        return FALSE;
    }
    if (!json_object_is_type(obj, json_type_object))
        return field_type_error("value", "an object", obj, error);
    if (!field_string(obj, "name", TRUE, STATE_MAX_STRING, &name, error)
        || !field_string(obj, "uuid", TRUE, STATE_MAX_STRING, &uuid, error)
        || !field_int(obj, "last_incident_us", 0, G_MAXINT64, &last_us, error)
        || !field_string(obj, "last_incident_id", TRUE, STATE_MAX_ID, &last_id, error)
        || !field_get(obj, "incidents", &counts, error))
        return FALSE;
    if (!json_object_is_type(counts, json_type_object))
        return field_type_error("incidents", "an object", counts, error);

    dc = state_get_domain(st, key);
    replace_string(&dc->name, name);
    replace_string(&dc->uuid, uuid);
    dc->last_incident_us = last_us;
    replace_string(&dc->last_incident_id, last_id);
    for (int c = 0; c < _MCED_CLASS_MAX; c++) {
        const char *cname = mced_incident_class_to_string((McedIncidentClass)c);
        g_autofree char *label = g_strdup_printf("incidents.%s", cname);
        json_object *v;

        if (!json_object_object_get_ex(counts, cname, &v)) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: missing", label);
            return FALSE;
        }
        if (!value_uint(label, v, &dc->incidents[c], error))
            return FALSE;
    }
    return times_from_json(dc, obj, error);
}

/* The one place a future format change is handled. Each case brings a
 * file of that version to the next, in place, and falls through; version
 * 1 is the first format, so there is nothing to migrate yet. A file from
 * a newer kvm-mced never gets here (the caller moves it aside). */
static gboolean
state_migrate(json_object *root, gint64 version, GError **error)
{
    switch (version) {
    case 1:
        /* current: nothing to do */
        return TRUE;
    default:
        break;
    }
    g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                "version: no migration from version %" G_GINT64_FORMAT, version);
    return FALSE;
}

/* Optional: state files from before actions existed have none. */
static gboolean
actions_from_json(McedState *st, json_object *root, GError **error)
{
    json_object *arr = NULL;
    size_t n;

    if (!json_object_object_get_ex(root, "actions_in_flight", &arr) || arr == NULL)
        return TRUE;
    if (!json_object_is_type(arr, json_type_array)
        || (n = json_object_array_length(arr)) > MCED_STATE_MAX_ACTIONS)
        return field_type_error("actions_in_flight", "an array", arr, error);
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        const char *incident, *domain, *uuid, *action;
        gint64 started;

        if (!json_object_is_type(o, json_type_object)
            || !field_string(o, "incident", TRUE, STATE_MAX_ID, &incident, error)
            || !field_string(o, "domain", TRUE, STATE_MAX_STRING, &domain, error)
            || !field_string(o, "uuid", FALSE, STATE_MAX_STRING, &uuid, error)
            || !field_string(o, "action", FALSE, STATE_MAX_STRING, &action, error)
            || !field_int(o, "started_us", 0, G_MAXINT64, &started, error)) {
            if (error != NULL && *error == NULL)
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "not an object");
            g_prefix_error(error, "actions_in_flight[%zu].", i);
            return FALSE;
        }
        mced_state_action_started(st, incident, domain, uuid, action, started);
    }
    return TRUE;
}

static gboolean
state_from_json(McedState *st, json_object *root, GError **error)
{
    const char *cursor;
    json_object *arr;
    json_object *domains;
    gsize n;

    if (!field_get(root, "open_incidents", &arr, error))
        return FALSE;
    if (!json_object_is_type(arr, json_type_array))
        return field_type_error("open_incidents", "an array", arr, error);
    n = json_object_array_length(arr);
    if (n > MCED_CORRELATOR_MAX_OPEN) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "open_incidents: %" G_GSIZE_FORMAT " entries, at most %d", n,
                    MCED_CORRELATOR_MAX_OPEN);
        return FALSE;
    }
    for (gsize i = 0; i < n; i++) {
        McedIncident *inc = mced_incident_from_json(json_object_array_get_idx(arr, i), error);

        if (inc == NULL) {
            g_prefix_error(error, "open_incidents[%" G_GSIZE_FORMAT "].", i);
            return FALSE;
        }
        g_ptr_array_add(st->open_incidents, inc);
    }

    if (!field_string(root, "journal_cursor", TRUE, STATE_MAX_STRING, &cursor, error))
        return FALSE;
    st->journal_cursor = g_strdup(cursor);

    if (!field_get(root, "domains", &domains, error))
        return FALSE;
    if (!json_object_is_type(domains, json_type_object))
        return field_type_error("domains", "an object", domains, error);
    if (json_object_object_length(domains) > STATE_MAX_DOMAINS) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domains: %d entries, at most %d", json_object_object_length(domains),
                    STATE_MAX_DOMAINS);
        return FALSE;
    }
    json_object_object_foreach(domains, key, value) {
        if (!domain_counters_from_json(st, key, value, error)) {
            g_prefix_error(error, "domains[\"%s\"].", key);
            return FALSE;
        }
    }

    if (!field_get(root, "recent_ids", &arr, error))
        return FALSE;
    if (!json_object_is_type(arr, json_type_array))
        return field_type_error("recent_ids", "an array", arr, error);
    n = json_object_array_length(arr);
    /* A FIFO: should the limit ever shrink, the newest ids are kept. */
    for (gsize i = n > MCED_STATE_MAX_RECENT_IDS ? n - MCED_STATE_MAX_RECENT_IDS : 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        gsize len = (gsize)json_object_get_string_len(v);

        if (!json_object_is_type(v, json_type_string) || len == 0 || len > STATE_MAX_ID) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "recent_ids[%" G_GSIZE_FORMAT "]: expected an incident id", i);
            return FALSE;
        }
        mced_state_remember_id(st, json_object_get_string(v));
    }
    return actions_from_json(st, root, error);
}

/* What is wrong with a state file, when it is unusable. */
typedef enum {
    STATE_OK,
    STATE_CORRUPT,
    STATE_NEWER,
} StateVerdict;

static StateVerdict
state_parse(const char *data, gsize len, McedState **ret, GError **error)
{
    g_autoptr(json_object) root = NULL;
    g_autoptr(McedState) st = mced_state_new();
    gint64 version;

    root = parse_json_exact(data, len, error);
    if (root == NULL)
        return STATE_CORRUPT;
    if (!json_object_is_type(root, json_type_object)) {
        field_type_error("top level", "an object", root, error);
        return STATE_CORRUPT;
    }
    if (!field_int(root, "version", 1, G_MAXINT32, &version, error))
        return STATE_CORRUPT;
    if (version > MCED_STATE_VERSION) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "version %" G_GINT64_FORMAT " is newer than %d, the newest this one reads",
                    version, MCED_STATE_VERSION);
        return STATE_NEWER;
    }
    if (!state_migrate(root, version, error) || !state_from_json(st, root, error))
        return STATE_CORRUPT;
    *ret = g_steal_pointer(&st);
    return STATE_OK;
}

/* ---- the store --------------------------------------------------------- */

struct McedStore {
    char *dir;
    char *state_path;
    char *history_path;
    char *history_old_path;
    gsize history_cap;
    McedStoreClockFunc clock;
    gpointer clock_data;
};

McedStore *
mced_store_new(const char *state_dir, gsize history_cap)
{
    McedStore *s;

    g_return_val_if_fail(state_dir != NULL, NULL);

    s = g_new0(McedStore, 1);
    s->dir = g_strdup(state_dir);
    s->state_path = g_build_filename(state_dir, STATE_FILE, NULL);
    s->history_path = g_build_filename(state_dir, HISTORY_FILE, NULL);
    s->history_old_path = g_build_filename(state_dir, HISTORY_OLD_FILE, NULL);
    s->history_cap = history_cap > 0 ? history_cap : MCED_HISTORY_DEFAULT_CAP;
    return s;
}

void
mced_store_free(McedStore *s)
{
    if (s == NULL)
        return;
    g_free(s->dir);
    g_free(s->state_path);
    g_free(s->history_path);
    g_free(s->history_old_path);
    g_free(s);
}

void
mced_store_set_clock(McedStore *s, McedStoreClockFunc func, gpointer user_data)
{
    g_return_if_fail(s != NULL);
    s->clock = func;
    s->clock_data = user_data;
}

static gint64
store_now_us(McedStore *s)
{
    return s->clock != NULL ? s->clock(s->clock_data) : g_get_real_time();
}

static gboolean
set_errno_error(GError **error, int errsv, const char *what, const char *path)
{
    g_set_error(error, MCED_ERROR, errsv == ENOENT ? MCED_ERROR_NOT_FOUND : MCED_ERROR_IO,
                "%s %s: %s", what, path, g_strerror(errsv));
    return FALSE;
}

/* Reads all of @fd (at most @max bytes; *ret_too_large when it holds more). */
static gboolean
read_fd_bounded(int fd, gsize max, GByteArray *out, gboolean *ret_too_large, int *ret_errno)
{
    guint8 buf[65536];

    *ret_too_large = FALSE;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0) {
            if (errno == EINTR)
                continue;
            *ret_errno = errno;
            return FALSE;
        }
        if (n == 0)
            return TRUE;
        if (out->len + (gsize)n > max) {
            *ret_too_large = TRUE;
            return TRUE;
        }
        g_byte_array_append(out, buf, (guint)n);
    }
}

static gboolean
write_all(int fd, const char *data, gsize len, int *ret_errno)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            *ret_errno = errno;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

/* Moves a bad state file to state.json.bad-<unix seconds>, adding -N when
 * that name is taken. Returns the new path, or NULL with errno set. */
static char *
store_move_aside(McedStore *s)
{
    gint64 secs = store_now_us(s) / G_USEC_PER_SEC;
    g_autofree char *base = g_strdup_printf("%s.bad-%" G_GINT64_FORMAT, s->state_path, secs);

    for (guint n = 0; n < STATE_MAX_BAD_SUFFIX; n++) {
        g_autofree char *path = n == 0 ? g_strdup(base) : g_strdup_printf("%s-%u", base, n);
        GStatBuf st;

        if (g_lstat(path, &st) == 0)
            continue;
        if (errno != ENOENT)
            return NULL;
        if (g_rename(s->state_path, path) < 0)
            return NULL;
        return g_steal_pointer(&path);
    }
    errno = EEXIST;
    return NULL;
}

static McedState *
store_load(McedStore *s, gboolean move_aside, char **ret_warning, GError **error)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autoptr(GError) reason = NULL;
    g_autofree char *moved = NULL;
    McedState *st = NULL;
    StateVerdict verdict;
    gboolean too_large = FALSE;
    struct stat sb;
    int errsv = 0;
    int fd;

    g_return_val_if_fail(s != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (ret_warning != NULL)
        *ret_warning = NULL;

    fd = open(s->state_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return mced_state_new();
        set_errno_error(error, errno, "cannot open state file", s->state_path);
        return NULL;
    }
    if (fstat(fd, &sb) < 0) {
        errsv = errno;
        close(fd);
        set_errno_error(error, errsv, "cannot read state file", s->state_path);
        return NULL;
    }
    if (!S_ISREG(sb.st_mode)) {
        g_set_error(&reason, MCED_ERROR, MCED_ERROR_INVALID_DATA, "not a regular file");
    } else if (sb.st_size > MCED_STATE_MAX_BYTES) {
        too_large = TRUE;
    } else if (!read_fd_bounded(fd, MCED_STATE_MAX_BYTES, buf, &too_large, &errsv)) {
        close(fd);
        set_errno_error(error, errsv, "cannot read state file", s->state_path);
        return NULL;
    }
    close(fd);

    if (reason != NULL)
        verdict = STATE_CORRUPT;
    else if (too_large) {
        g_set_error(&reason, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "larger than %d bytes", MCED_STATE_MAX_BYTES);
        verdict = STATE_CORRUPT;
    } else {
        verdict = state_parse((const char *)buf->data, buf->len, &st, &reason);
    }
    if (verdict == STATE_OK)
        return st;
    if (!move_aside) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "state file %s: %s",
                    s->state_path, reason->message);
        return NULL;
    }

    moved = store_move_aside(s);
    errsv = errno;
    if (ret_warning != NULL) {
        const char *what = verdict == STATE_NEWER ? "is from a newer kvm-mced" : "is corrupt";

        if (moved != NULL)
            *ret_warning = g_strdup_printf("state file %s %s (%s); moved aside to %s, starting "
                                           "from empty state",
                                           s->state_path, what, reason->message, moved);
        else
            *ret_warning = g_strdup_printf("state file %s %s (%s); could not move it aside "
                                           "(%s), starting from empty state",
                                           s->state_path, what, reason->message,
                                           g_strerror(errsv));
    }
    return mced_state_new();
}

McedState *
mced_store_load(McedStore *s, char **ret_warning, GError **error)
{
    return store_load(s, TRUE, ret_warning, error);
}

McedState *
mced_store_load_readonly(McedStore *s, char **ret_warning, GError **error)
{
    return store_load(s, FALSE, ret_warning, error);
}

/* Writes @data to a new file beside @path and renames it over @path, with
 * an fsync of the file before and of the directory after. */
static gboolean
store_write_atomic(McedStore *s, const char *path, const char *data, gsize len, GError **error)
{
    g_autofree char *tmpl = g_strconcat(path, ".tmp-XXXXXX", NULL);
    g_autofree char *tmp = g_strdup(tmpl); /* g_mkstemp_full() fills in the X's */
    int fd;
    int errsv = 0;
    int dfd;

    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return set_errno_error(error, errno, "cannot create temporary file", tmpl);
    if (!write_all(fd, data, len, &errsv)) {
        close(fd);
        g_unlink(tmp);
        return set_errno_error(error, errsv, "cannot write", tmp);
    }
    if (fsync(fd) < 0) {
        errsv = errno;
        close(fd);
        g_unlink(tmp);
        return set_errno_error(error, errsv, "cannot sync", tmp);
    }
    if (close(fd) < 0) {
        errsv = errno;
        g_unlink(tmp);
        return set_errno_error(error, errsv, "cannot close", tmp);
    }
    if (g_rename(tmp, path) < 0) {
        errsv = errno;
        g_unlink(tmp);
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot rename %s to %s: %s", tmp, path,
                    g_strerror(errsv));
        return FALSE;
    }
    /* The rename is only durable once the directory is. */
    dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return set_errno_error(error, errno, "cannot open directory", s->dir);
    if (fsync(dfd) < 0) {
        errsv = errno;
        close(dfd);
        return set_errno_error(error, errsv, "cannot sync directory", s->dir);
    }
    close(dfd);
    return TRUE;
}

char *
mced_state_to_text(const McedState *st)
{
    g_autoptr(json_object) root = NULL;

    g_return_val_if_fail(st != NULL, NULL);
    root = state_to_json(st);
    return g_strconcat(json_object_to_json_string_ext(root, MCED_JSON_PRINT_FLAGS), "\n", NULL);
}

gboolean
mced_store_write_state(McedStore *s, const char *text, GError **error)
{
    gsize len;

    g_return_val_if_fail(s != NULL && text != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    len = strlen(text);
    /* Never write what the next start would refuse to read. */
    if (len > MCED_STATE_MAX_BYTES) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "cannot write state file %s: %" G_GSIZE_FORMAT " bytes, at most %d",
                    s->state_path, len, MCED_STATE_MAX_BYTES);
        return FALSE;
    }
    if (!store_write_atomic(s, s->state_path, text, len, error)) {
        g_prefix_error(error, "cannot write state file %s: ", s->state_path);
        return FALSE;
    }
    return TRUE;
}

gboolean
mced_store_save(McedStore *s, const McedState *st, GError **error)
{
    g_autofree char *text = NULL;

    g_return_val_if_fail(s != NULL && st != NULL, FALSE);
    text = mced_state_to_text(st);
    return mced_store_write_state(s, text, error);
}

/* ---- history ----------------------------------------------------------- */

/* One line of history: the incident with its observations, or without
 * them when that alone would not fit under the cap. */
char *
mced_store_history_line(McedStore *s, const McedIncident *inc)
{
    g_autoptr(json_object) full = mced_incident_to_json(inc, TRUE);
    const char *text = json_object_to_json_string_ext(full, MCED_JSON_PRINT_FLAGS);
    g_autoptr(json_object) summary = NULL;

    if (strlen(text) + 1 <= s->history_cap)
        return g_strconcat(text, "\n", NULL);
    summary = mced_incident_to_json(inc, FALSE);
    json_object_object_add(summary, "observations_dropped", json_object_new_boolean(TRUE));
    return g_strconcat(json_object_to_json_string_ext(summary, MCED_JSON_PRINT_FLAGS), "\n",
                       NULL);
}

static int
history_open(McedStore *s, struct stat *sb, GError **error)
{
    int fd = open(s->history_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

    if (fd < 0) {
        set_errno_error(error, errno, "cannot open history", s->history_path);
        return -1;
    }
    if (fstat(fd, sb) < 0) {
        int errsv = errno;

        close(fd);
        set_errno_error(error, errsv, "cannot read history", s->history_path);
        return -1;
    }
    return fd;
}

/* Each line goes out in one write(), so a crash leaves at most a torn last
 * line. Should one be there, the new line starts with a newline of its own,
 * which keeps the torn one a line apart for the reader to skip. */
gboolean
mced_store_append_history(McedStore *s, const McedIncident *inc, GError **error)
{
    g_autofree char *line = NULL;

    g_return_val_if_fail(s != NULL && inc != NULL, FALSE);
    line = mced_store_history_line(s, inc);
    return mced_store_append_history_line(s, line, error);
}

gboolean
mced_store_append_history_line(McedStore *s, const char *text, GError **error)
{
    g_autofree char *line = NULL;
    gsize len;
    struct stat sb;
    ssize_t n;
    int fd;

    g_return_val_if_fail(s != NULL && text != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    line = g_strdup(text);
    len = strlen(line);
    fd = history_open(s, &sb, error);
    if (fd < 0)
        return FALSE;

    if (sb.st_size > 0 && (guint64)sb.st_size + len > s->history_cap) {
        close(fd);
        if (g_rename(s->history_path, s->history_old_path) < 0) {
            int errsv = errno;

            g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot rotate %s to %s: %s",
                        s->history_path, s->history_old_path, g_strerror(errsv));
            return FALSE;
        }
        fd = history_open(s, &sb, error);
        if (fd < 0)
            return FALSE;
    } else if (sb.st_size > 0) {
        char last = '\n';

        if (pread(fd, &last, 1, sb.st_size - 1) == 1 && last != '\n') {
            char *joined = g_strconcat("\n", line, NULL);

            g_free(line);
            line = joined;
            len++;
        }
    }

    n = write(fd, line, len);
    if (n < 0 || (gsize)n != len) {
        int errsv = n < 0 ? errno : ENOSPC;

        /* Take back a partial line rather than leave it for the next one. */
        if (n > 0 && ftruncate(fd, sb.st_size) < 0) {
            /* nothing more to do: the reader skips it */
        }
        close(fd);
        return set_errno_error(error, errsv, "cannot append to history", s->history_path);
    }
    if (fdatasync(fd) < 0) {
        int errsv = errno;

        close(fd);
        return set_errno_error(error, errsv, "cannot sync history", s->history_path);
    }
    close(fd);
    return TRUE;
}

static gboolean
history_line_is_whole(const char *line, gsize len)
{
    g_autoptr(json_object) obj = parse_json_exact(line, len, NULL);

    return obj != NULL && json_object_is_type(obj, json_type_object);
}

/* Adds the whole lines of one history file to @lines. At most @max bytes
 * are read, from the end: older lines past that are left out. */
static gboolean
history_read_file(const char *path, gsize max, GPtrArray *lines, guint *skipped,
                  GError **error)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    gboolean too_large;
    gboolean cut = FALSE;
    struct stat sb;
    const char *p, *end;
    int errsv = 0;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return TRUE;
        return set_errno_error(error, errno, "cannot open history", path);
    }
    if (fstat(fd, &sb) == 0 && (guint64)sb.st_size > max) {
        if (lseek(fd, sb.st_size - (off_t)max, SEEK_SET) < 0) {
            errsv = errno;
            close(fd);
            return set_errno_error(error, errsv, "cannot read history", path);
        }
        cut = TRUE;
    }
    if (!read_fd_bounded(fd, max, buf, &too_large, &errsv)) {
        close(fd);
        return set_errno_error(error, errsv, "cannot read history", path);
    }
    close(fd);

    p = (const char *)buf->data;
    end = p + buf->len;
    if (cut) {
        const char *nl = memchr(p, '\n', buf->len);

        p = nl != NULL ? nl + 1 : end;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        gsize len = (gsize)(line_end - p);

        if (len > 0) {
            if (history_line_is_whole(p, len))
                g_ptr_array_add(lines, g_strndup(p, len));
            else
                (*skipped)++;
        }
        p = nl != NULL ? nl + 1 : end;
    }
    return TRUE;
}

GPtrArray *
mced_store_read_history_full(McedStore *s, guint *ret_skipped, GError **error)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    /* A lowered cap leaves older, larger files: read no more than twice
     * the cap of either, which is all a file can hold under the cap. */
    gsize max = 2 * MAX(s->history_cap, (gsize)MCED_HISTORY_DEFAULT_CAP);
    guint skipped = 0;

    g_return_val_if_fail(s != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!history_read_file(s->history_old_path, max, lines, &skipped, error)
        || !history_read_file(s->history_path, max, lines, &skipped, error))
        return NULL;
    if (ret_skipped != NULL)
        *ret_skipped = skipped;
    return g_steal_pointer(&lines);
}

GPtrArray *
mced_store_read_history(McedStore *s, GError **error)
{
    return mced_store_read_history_full(s, NULL, error);
}

/* Adds @obj to @arr (taking it), or puts it in place of the entry with the
 * same id; @index maps ids to positions. Objects without an id are dropped. */
static void
list_add(json_object *arr, GHashTable *index, json_object *obj)
{
    json_object *id = NULL;
    gpointer at;

    if (!json_object_object_get_ex(obj, "id", &id) || !json_object_is_type(id, json_type_string)) {
        json_object_put(obj);
        return;
    }
    if (g_hash_table_lookup_extended(index, json_object_get_string(id), NULL, &at)) {
        json_object_array_put_idx(arr, GPOINTER_TO_SIZE(at), obj);
        return;
    }
    g_hash_table_insert(index, g_strdup(json_object_get_string(id)),
                        GSIZE_TO_POINTER(json_object_array_length(arr)));
    json_object_array_add(arr, obj);
}

json_object *
mced_store_list_incidents(McedStore *s, const GPtrArray *newer)
{
    g_autoptr(GHashTable) index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) lines = NULL;
    json_object *arr = json_object_new_array();

    g_return_val_if_fail(s != NULL, arr);

    lines = mced_store_read_history(s, NULL);
    for (guint i = 0; lines != NULL && i < lines->len; i++) {
        json_object *o = json_tokener_parse(lines->pdata[i]);

        if (o != NULL && json_object_is_type(o, json_type_object)) {
            json_object_object_del(o, "observations");
            list_add(arr, index, o);
        } else {
            json_object_put(o);
        }
    }
    for (guint i = 0; newer != NULL && i < newer->len; i++)
        list_add(arr, index, mced_incident_to_json(newer->pdata[i], FALSE));
    return arr;
}

json_object *
mced_store_get_incident(McedStore *s, const GPtrArray *newer, const char *id)
{
    g_autoptr(GPtrArray) lines = NULL;
    json_object *found = NULL;

    g_return_val_if_fail(s != NULL && id != NULL, NULL);

    for (guint i = newer != NULL ? newer->len : 0; i > 0; i--) {
        const McedIncident *inc = newer->pdata[i - 1];

        if (g_strcmp0(inc->id, id) == 0)
            return mced_incident_to_json(inc, TRUE);
    }
    lines = mced_store_read_history(s, NULL);
    for (guint i = 0; lines != NULL && i < lines->len; i++) {
        json_object *o = json_tokener_parse(lines->pdata[i]);
        json_object *v = NULL;

        if (o != NULL && json_object_is_type(o, json_type_object)
            && json_object_object_get_ex(o, "id", &v) && g_strcmp0(json_object_get_string(v), id) == 0) {
            json_object_put(found);
            found = o; /* the last generation wins */
        } else {
            json_object_put(o);
        }
    }
    return found;
}
