/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-error.h"
#include "mced-observation-json.h"

/* json-c copies the string and checks nothing: make it valid UTF-8 first,
 * or one bad byte in a kernel line turns the whole output into invalid JSON. */
json_object *
mced_json_string_new(const char *s)
{
    g_autofree char *valid = NULL;

    if (s == NULL)
        return NULL;
    if (g_utf8_validate(s, -1, NULL))
        return json_object_new_string(s);
    valid = g_utf8_make_valid(s, -1);
    return json_object_new_string(valid);
}

static json_object *
json_num_new(McedNum n, guint64 v)
{
    g_autofree char *hex = NULL;

    if (!mced_num_is_hex(n))
        return json_object_new_uint64(v);
    hex = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);
    return json_object_new_string(hex);
}

/* A NULL value added with json_object_object_add() is JSON null: that is
 * what an always-present key holds when the value is unknown. */
json_object *
mced_observation_to_json(const McedObservation *obs)
{
    g_autoptr(json_object) obj = NULL;
    json_object *lines;

    g_return_val_if_fail(obs != NULL, NULL);

    obj = json_object_new_object();
    json_object_object_add(obj, "kind", mced_json_string_new(mced_obs_kind_to_string(obs->kind)));
    json_object_object_add(obj, "cursor", mced_json_string_new(obs->cursor));
    if (obs->realtime_us != 0)
        json_object_object_add(obj, "realtime_us", json_object_new_int64(obs->realtime_us));
    if (obs->monotonic_us != 0)
        json_object_object_add(obj, "monotonic_us", json_object_new_int64(obs->monotonic_us));
    json_object_object_add(
        obj, "severity", mced_json_string_new(mced_severity_to_string(obs->severity)));
    json_object_object_add(
        obj, "disposition", mced_json_string_new(mced_disposition_to_string(obs->disposition)));

    for (int i = 0; i < _MCED_NUM_MAX; i++) {
        McedNum n = (McedNum)i;

        if (mced_observation_has_num(obs, n))
            json_object_object_add(obj, mced_num_key(n), json_num_new(n, obs->num[n]));
        else if (mced_num_is_required(n))
            json_object_object_add(obj, mced_num_key(n), NULL);
    }

    for (int i = 0; i < _MCED_STR_MAX; i++) {
        McedStr s = (McedStr)i;

        if (obs->str[s] != NULL)
            json_object_object_add(obj, mced_str_key(s), mced_json_string_new(obs->str[s]));
        else if (mced_str_is_required(s))
            json_object_object_add(obj, mced_str_key(s), NULL);
    }

    for (int i = 0; i < _MCED_BOOL_MAX; i++) {
        McedBool b = (McedBool)i;

        if (mced_observation_has_bool(obs, b))
            json_object_object_add(
                obj, mced_bool_key(b), json_object_new_boolean(mced_observation_get_bool(obs, b)));
        else if (mced_bool_is_required(b))
            json_object_object_add(obj, mced_bool_key(b), NULL);
    }

    if (obs->lines_truncated)
        json_object_object_add(obj, "lines_truncated", json_object_new_boolean(TRUE));
    lines = json_object_new_array();
    for (guint i = 0; obs->lines != NULL && i < obs->lines->len; i++)
        json_object_array_add(lines, mced_json_string_new(g_ptr_array_index(obs->lines, i)));
    json_object_object_add(obj, "lines", lines);

    return g_steal_pointer(&obj);
}

char *
mced_observation_to_json_string(const McedObservation *obs)
{
    g_autoptr(json_object) obj = NULL;

    g_return_val_if_fail(obs != NULL, NULL);

    obj = mced_observation_to_json(obs);
    return g_strdup(json_object_to_json_string_ext(obj, MCED_JSON_PRINT_FLAGS));
}

static gboolean
bad_field(GError **error, const char *key, const char *what)
{
    g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "observation field '%s': %s", key,
                what);
    return FALSE;
}

/* A string member, NULL when absent or null; FALSE if of another type. */
static gboolean
get_string(json_object *obj, const char *key, const char **ret, GError **error)
{
    json_object *v = NULL;

    *ret = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return TRUE;
    if (!json_object_is_type(v, json_type_string))
        return bad_field(error, key, "not a string");
    *ret = json_object_get_string(v);
    return TRUE;
}

static gboolean
get_num(json_object *obj, McedNum n, McedObservation *obs, GError **error)
{
    const char *key = mced_num_key(n);
    json_object *v = NULL;
    guint64 value;

    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return TRUE;
    if (mced_num_is_hex(n)) {
        const char *str;
        if (!json_object_is_type(v, json_type_string))
            return bad_field(error, key, "not a hex string");
        str = json_object_get_string(v);
        if (!g_str_has_prefix(str, "0x")
            || !g_ascii_string_to_unsigned(str + 2, 16, 0, G_MAXUINT64, &value, NULL))
            return bad_field(error, key, "not a hex string");
    } else {
        gint64 i;
        if (!json_object_is_type(v, json_type_int))
            return bad_field(error, key, "not an integer");
        i = json_object_get_int64(v);
        if (i < 0)
            return bad_field(error, key, "negative");
        value = (guint64)i;
    }
    mced_observation_set_num(obs, n, value);
    return TRUE;
}

static gboolean
get_time(json_object *obj, const char *key, gint64 *ret, GError **error)
{
    json_object *v = NULL;

    *ret = 0;
    if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
        return TRUE;
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return bad_field(error, key, "not a non-negative integer");
    *ret = json_object_get_int64(v);
    return TRUE;
}

McedObservation *
mced_observation_from_json(json_object *obj, GError **error)
{
    g_autoptr(McedObservation) obs = NULL;
    const char *kind_s, *cursor, *sev_s, *disp_s;
    McedObsKind kind;
    json_object *lines = NULL;

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
        bad_field(error, "(observation)", "not an object");
        return NULL;
    }
    if (!get_string(obj, "kind", &kind_s, error))
        return NULL;
    kind = mced_obs_kind_from_string(kind_s);
    if (kind == _MCED_OBS_KIND_INVALID) {
        bad_field(error, "kind", "unknown kind");
        return NULL;
    }
    obs = mced_observation_new(kind);
    if (!get_string(obj, "cursor", &cursor, error) || !get_time(obj, "realtime_us", &obs->realtime_us, error)
        || !get_time(obj, "monotonic_us", &obs->monotonic_us, error)
        || !get_string(obj, "severity", &sev_s, error) || !get_string(obj, "disposition", &disp_s, error))
        return NULL;
    obs->cursor = g_strdup(cursor);
    obs->severity = mced_severity_from_string(sev_s);
    obs->disposition = mced_disposition_from_string(disp_s);
    if (obs->severity == _MCED_SEVERITY_INVALID) {
        bad_field(error, "severity", "unknown severity");
        return NULL;
    }
    if (obs->disposition == _MCED_DISPOSITION_INVALID) {
        bad_field(error, "disposition", "unknown disposition");
        return NULL;
    }
    for (int i = 0; i < _MCED_NUM_MAX; i++)
        if (!get_num(obj, (McedNum)i, obs, error))
            return NULL;
    for (int i = 0; i < _MCED_STR_MAX; i++) {
        const char *v;
        if (!get_string(obj, mced_str_key((McedStr)i), &v, error))
            return NULL;
        if (v != NULL)
            mced_observation_set_str(obs, (McedStr)i, v, -1);
    }
    for (int i = 0; i < _MCED_BOOL_MAX; i++) {
        const char *key = mced_bool_key((McedBool)i);
        json_object *v = NULL;
        if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
            continue;
        if (!json_object_is_type(v, json_type_boolean)) {
            bad_field(error, key, "not a boolean");
            return NULL;
        }
        mced_observation_set_bool(obs, (McedBool)i, json_object_get_boolean(v));
    }
    if (json_object_object_get_ex(obj, "lines", &lines) && lines != NULL) {
        if (!json_object_is_type(lines, json_type_array)) {
            bad_field(error, "lines", "not an array");
            return NULL;
        }
        for (size_t i = 0; i < json_object_array_length(lines); i++) {
            json_object *l = json_object_array_get_idx(lines, i);
            if (!json_object_is_type(l, json_type_string)) {
                bad_field(error, "lines", "not an array of strings");
                return NULL;
            }
            mced_observation_add_line(obs, json_object_get_string(l),
                                      (gsize)json_object_get_string_len(l));
        }
    }
    mced_observation_freeze(obs);
    return g_steal_pointer(&obs);
}
