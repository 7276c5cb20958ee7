/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-observation-json.h"

/* json-c copies the string and checks nothing: make it valid UTF-8 first,
 * or one bad byte in a kernel line turns the whole output into invalid JSON. */
static json_object *
json_string_new_utf8(const char *s)
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
    json_object_object_add(obj, "kind", json_string_new_utf8(mced_obs_kind_to_string(obs->kind)));
    json_object_object_add(obj, "cursor", json_string_new_utf8(obs->cursor));
    if (obs->realtime_us != 0)
        json_object_object_add(obj, "realtime_us", json_object_new_int64(obs->realtime_us));
    if (obs->monotonic_us != 0)
        json_object_object_add(obj, "monotonic_us", json_object_new_int64(obs->monotonic_us));
    json_object_object_add(
        obj, "severity", json_string_new_utf8(mced_severity_to_string(obs->severity)));
    json_object_object_add(
        obj, "disposition", json_string_new_utf8(mced_disposition_to_string(obs->disposition)));

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
            json_object_object_add(obj, mced_str_key(s), json_string_new_utf8(obs->str[s]));
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
        json_object_array_add(lines, json_string_new_utf8(g_ptr_array_index(obs->lines, i)));
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
