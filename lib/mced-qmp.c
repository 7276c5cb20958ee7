/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "mced-error.h"
#include "mced-json.h"
#include "mced-qmp.h"

/* Longest event name quoted in an "unknown event" message. */
#define DISPLAY_NAME_MAX 64
/* Longest panic action, reset reason or panic info type kept. */
#define TOKEN_MAX 32
/* hyper-v panic information carries arg1..arg5. */
#define HYPERV_ARGS 5

static const char *const event_str[_MCED_QMP_EVENT_MAX] = {
    [MCED_QMP_EVENT_MEMORY_FAILURE] = "MEMORY_FAILURE",
    [MCED_QMP_EVENT_GUEST_PANICKED] = "GUEST_PANICKED",
    [MCED_QMP_EVENT_GUEST_CRASHLOADED] = "GUEST_CRASHLOADED",
    [MCED_QMP_EVENT_RESET] = "RESET",
};

/* qapi/run-state.json MemoryFailureRecipient and MemoryFailureAction. */
typedef enum {
    RECIPIENT_HYPERVISOR,
    RECIPIENT_GUEST,
    _RECIPIENT_MAX,
} Recipient;

static const char *const recipient_str[_RECIPIENT_MAX] = {
    [RECIPIENT_HYPERVISOR] = "hypervisor",
    [RECIPIENT_GUEST] = "guest",
};

typedef enum {
    MF_ACTION_IGNORE,
    MF_ACTION_INJECT,
    MF_ACTION_FATAL,
    MF_ACTION_RESET,
    _MF_ACTION_MAX,
} MfAction;

static const char *const mf_action_str[_MF_ACTION_MAX] = {
    [MF_ACTION_IGNORE] = "ignore",
    [MF_ACTION_INJECT] = "inject",
    [MF_ACTION_FATAL] = "fatal",
    [MF_ACTION_RESET] = "reset",
};

const char *
mced_qmp_event_to_string(McedQmpEvent e)
{
    if (e < 0 || e >= _MCED_QMP_EVENT_MAX)
        return NULL;
    return event_str[e];
}

/* Index of [s, s+len) in @table, or -1: a name with a NUL inside, or a
 * prefix of a name, matches nothing. */
static int
lookup_name(const char *const *table, int n, const char *s, gsize len)
{
    for (int i = 0; i < n; i++)
        if (strlen(table[i]) == len && memcmp(table[i], s, len) == 0)
            return i;
    return -1;
}

McedQmpEvent
mced_qmp_event_from_string(const char *s)
{
    if (s == NULL)
        return _MCED_QMP_EVENT_INVALID;
    return (McedQmpEvent)lookup_name(event_str, _MCED_QMP_EVENT_MAX, s, strlen(s));
}

gboolean
mced_qmp_is_panic(const McedObservation *obs)
{
    McedQmpEvent e;

    g_return_val_if_fail(obs != NULL, FALSE);

    if (obs->kind != MCED_OBS_QMP)
        return FALSE;
    e = mced_qmp_event_from_string(obs->str[MCED_STR_EVENT]);
    switch (e) {
    case MCED_QMP_EVENT_GUEST_PANICKED:
    case MCED_QMP_EVENT_GUEST_CRASHLOADED:
        return TRUE;
    case MCED_QMP_EVENT_MEMORY_FAILURE:
    case MCED_QMP_EVENT_RESET:
    case _MCED_QMP_EVENT_MAX:
    case _MCED_QMP_EVENT_INVALID:
        break;
    }
    return FALSE;
}

/* ---- errors and strings ------------------------------------------------ */

static gboolean
bad_field(GError **error, const char *field, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* "<field>: <what>", MCED_ERROR_INVALID_DATA. */
static gboolean
bad_field(GError **error, const char *field, const char *fmt, ...)
{
    g_autofree char *what = NULL;
    va_list ap;

    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: %s", field, what);
    return FALSE;
}

/* Valid UTF-8 cut to at most @max bytes on a character boundary. */
static char *
utf8_cut(const char *s, gsize len, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(s, (gssize)len);
    gsize n = strlen(valid);

    if (n > max) {
        const char *end = valid + max;

        /* Back up to the first byte of the character that straddles @max. */
        while (end > valid && ((guchar)*end & 0xc0) == 0x80)
            end--;
        n = (gsize)(end - valid);
    }
    return g_strndup(valid, n);
}

/* A free-text string as kept: a NUL inside (from \u0000) is written as
 * "\x00" rather than cutting the string short, and the result is valid
 * UTF-8 of at most MCED_QMP_MAX_STRING bytes. */
static char *
kept_string(const char *s, gsize len)
{
    /* Escaping grows a byte to four at most; more input cannot show. */
    gsize n = MIN(len, 4 * MCED_QMP_MAX_STRING);
    g_autofree char *escaped = NULL;

    if (memchr(s, '\0', n) == NULL)
        return utf8_cut(s, n, MCED_QMP_MAX_STRING);
    escaped = mced_escape_line(s, n, n);
    return utf8_cut(escaped, strlen(escaped), MCED_QMP_MAX_STRING);
}

/* A name from the input for an error message: short, one line. */
static char *
display_name(const char *s, gsize len)
{
    g_autofree char *escaped = mced_escape_line(s, len, DISPLAY_NAME_MAX);
    g_autofree char *cut = utf8_cut(escaped, strlen(escaped), DISPLAY_NAME_MAX);

    if (len > DISPLAY_NAME_MAX)
        return g_strconcat(cut, "...", NULL);
    return g_steal_pointer(&cut);
}

/* A lower-case QAPI enum name: [a-z0-9-], 1..TOKEN_MAX bytes. */
static gboolean
is_token(const char *s, gsize len)
{
    if (len == 0 || len > TOKEN_MAX)
        return FALSE;
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '-')
            return FALSE;
    return TRUE;
}

gboolean
mced_qmp_check_domain(const char *domain, GError **error)
{
    gsize len;

    if (domain == NULL || *domain == '\0') {
        g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT, "domain: missing");
        return FALSE;
    }
    len = strlen(domain);
    if (len > MCED_QMP_MAX_DOMAIN) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT,
                    "domain: longer than %d bytes", MCED_QMP_MAX_DOMAIN);
        return FALSE;
    }
    if (!g_utf8_validate(domain, (gssize)len, NULL)) {
        g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT,
                            "domain: not valid UTF-8");
        return FALSE;
    }
    for (gsize i = 0; i < len; i++) {
        if ((guchar)domain[i] < 0x20 || domain[i] == 0x7f) {
            g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT,
                                "domain: contains a control character");
            return FALSE;
        }
    }
    return TRUE;
}

/* ---- JSON access ------------------------------------------------------- */

/* An error about JSON text: "<what>: <message>", or just the message for
 * a whole line (@what NULL). */
static gboolean
bad_json(GError **error, const char *what, const char *message)
{
    if (what != NULL)
        return bad_field(error, what, "%s", message);
    g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, message);
    return FALSE;
}

/* Parse @len bytes of JSON text into *ret (NULL for JSON null). */
static gboolean
parse_json(const char *text, gsize len, const char *what, json_object **ret, GError **error)
{
    g_autofree char *message = NULL;
    json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    gsize end;

    *ret = NULL;
    if (len > MCED_QMP_MAX_JSON) {
        message = g_strdup_printf("longer than %d bytes", MCED_QMP_MAX_JSON);
        return bad_json(error, what, message);
    }
    if (memchr(text, '\0', len) != NULL)
        return bad_json(error, what, "not valid JSON: contains a NUL byte");

    tok = json_tokener_new_ex(MCED_QMP_MAX_DEPTH);
    if (tok == NULL)
        return bad_json(error, what, "cannot allocate a JSON parser");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* Everything was read, but a bare literal or number ("null", "5")
         * only ends at a delimiter: the terminating NUL is one. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        end = len;
    }
    json_tokener_free(tok);

    if (jerr == json_tokener_continue) {
        json_object_put(obj);
        return bad_json(error, what, "not valid JSON: unexpected end of data");
    }
    if (jerr != json_tokener_success) {
        json_object_put(obj);
        message = g_strdup_printf("not valid JSON: %s at offset %zu",
                                  json_tokener_error_desc(jerr), MIN(end, len));
        return bad_json(error, what, message);
    }
    for (gsize i = MIN(end, len); i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
            json_object_put(obj);
            message = g_strdup_printf("not valid JSON: trailing characters at offset %zu", i);
            return bad_json(error, what, message);
        }
    }
    *ret = obj;
    return TRUE;
}

static const char *
type_word(json_type type)
{
    switch (type) {
    case json_type_boolean:
        return "a boolean";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_string:
        return "a string";
    case json_type_null:
    case json_type_double:
    case json_type_array:
        break;
    }
    return "a value";
}

/* Member @key of @obj into *ret, which stays NULL when it is absent (an
 * error if @required). Present with another type (null included) is an
 * error naming @field. */
static gboolean
get_member(json_object *obj, const char *key, const char *field, json_type type,
           gboolean required, json_object **ret, GError **error)
{
    json_object *v = NULL;

    *ret = NULL;
    if (!json_object_object_get_ex(obj, key, &v)) {
        if (required)
            return bad_field(error, field, "missing");
        return TRUE;
    }
    if (v == NULL || !json_object_is_type(v, type))
        return bad_field(error, field, "not %s", type_word(type));
    *ret = v;
    return TRUE;
}

static gboolean
get_string(json_object *obj, const char *key, const char *field, gboolean required,
           const char **ret, gsize *ret_len, GError **error)
{
    json_object *v;

    *ret = NULL;
    *ret_len = 0;
    if (!get_member(obj, key, field, json_type_string, required, &v, error))
        return FALSE;
    if (v != NULL) {
        *ret = json_object_get_string(v);
        *ret_len = (gsize)json_object_get_string_len(v);
    }
    return TRUE;
}

static gboolean
get_bool(json_object *obj, const char *key, const char *field, gboolean required,
         gboolean *ret_present, gboolean *ret, GError **error)
{
    json_object *v;

    *ret_present = FALSE;
    *ret = FALSE;
    if (!get_member(obj, key, field, json_type_boolean, required, &v, error))
        return FALSE;
    if (v != NULL) {
        *ret_present = TRUE;
        *ret = json_object_get_boolean(v) ? TRUE : FALSE;
    }
    return TRUE;
}

/* An unsigned integer member no larger than @max. json-c keeps integers
 * above G_MAXINT64 as unsigned and clamps the signed view, so the sign is
 * read from the signed view and the value from the unsigned one. */
static gboolean
get_unsigned(json_object *obj, const char *key, const char *field, guint64 max,
             gboolean *ret_present, guint64 *ret, GError **error)
{
    json_object *v;
    guint64 value;

    *ret_present = FALSE;
    *ret = 0;
    if (!get_member(obj, key, field, json_type_int, FALSE, &v, error))
        return FALSE;
    if (v == NULL)
        return TRUE;
    if (json_object_get_int64(v) < 0)
        return bad_field(error, field, "out of range");
    value = json_object_get_uint64(v);
    if (value > max)
        return bad_field(error, field, "out of range");
    *ret_present = TRUE;
    *ret = value;
    return TRUE;
}

/* A member that must be one of @table's names. */
static gboolean
get_enum(json_object *obj, const char *key, const char *field, const char *const *table, int n,
         int *ret, GError **error)
{
    const char *s;
    gsize len;
    int i;

    if (!get_string(obj, key, field, TRUE, &s, &len, error))
        return FALSE;
    i = lookup_name(table, n, s, len);
    if (i < 0) {
        g_autofree char *shown = display_name(s, len);
        return bad_field(error, field, "unknown value '%s'", shown);
    }
    *ret = i;
    return TRUE;
}

/* A member that must be a lower-case name (any): kept in *ret. */
static gboolean
get_token(json_object *obj, const char *key, const char *field, gboolean required,
          const char **ret, gsize *ret_len, GError **error)
{
    if (!get_string(obj, key, field, required, ret, ret_len, error))
        return FALSE;
    if (*ret != NULL && !is_token(*ret, *ret_len)) {
        g_autofree char *shown = display_name(*ret, *ret_len);
        return bad_field(error, field, "not a valid name: '%s'", shown);
    }
    return TRUE;
}

/* ---- events ------------------------------------------------------------ */

static gboolean
require_data(json_object *data, GError **error)
{
    if (data == NULL)
        return bad_field(error, "data", "missing");
    return TRUE;
}

static gboolean
decode_memory_failure(McedObservation *obs, json_object *data, GError **error)
{
    json_object *flags;
    int recipient;
    int action;
    gboolean present;
    gboolean action_required;
    gboolean recursive;

    if (!require_data(data, error))
        return FALSE;
    if (!get_enum(data, "recipient", "data.recipient", recipient_str, _RECIPIENT_MAX, &recipient,
                  error))
        return FALSE;
    if (!get_enum(data, "action", "data.action", mf_action_str, _MF_ACTION_MAX, &action, error))
        return FALSE;
    if (!get_member(data, "flags", "data.flags", json_type_object, TRUE, &flags, error))
        return FALSE;
    if (!get_bool(flags, "action-required", "data.flags.action-required", TRUE, &present,
                  &action_required, error))
        return FALSE;
    if (!get_bool(flags, "recursive", "data.flags.recursive", TRUE, &present, &recursive, error))
        return FALSE;

    mced_observation_set_str(obs, MCED_STR_RECIPIENT, recipient_str[recipient], -1);
    mced_observation_set_str(obs, MCED_STR_ACTION, mf_action_str[action], -1);
    mced_observation_set_bool(obs, MCED_BOOL_ACTION_REQUIRED, action_required);
    mced_observation_set_bool(obs, MCED_BOOL_RECURSIVE, recursive);
    mced_observation_set_bool(obs, MCED_BOOL_IN_GUEST, recipient == RECIPIENT_GUEST);

    /* The action is what QEMU did about it, and so what it means for the
     * guest. "inject" with recipient hypervisor is not something QEMU
     * sends; libvirt passes it on, and so do we, as a guest hit. */
    switch ((MfAction)action) {
    case MF_ACTION_IGNORE:
        obs->severity = MCED_SEVERITY_WARNING;
        obs->disposition = MCED_DISPOSITION_RECOVERED;
        break;
    case MF_ACTION_INJECT:
        obs->severity = MCED_SEVERITY_SEVERE;
        obs->disposition = MCED_DISPOSITION_NOT_RECOVERED;
        break;
    case MF_ACTION_FATAL:
    case MF_ACTION_RESET:
        obs->severity = MCED_SEVERITY_FATAL;
        obs->disposition = MCED_DISPOSITION_NOT_RECOVERED;
        break;
    case _MF_ACTION_MAX:
        g_assert_not_reached();
    }
    return TRUE;
}

/* hyper-v: "hyper-v: 0x<arg1> 0x<arg2> ..." (the guest's bugcheck code
 * and parameters). */
static gboolean
panic_info_hyperv(json_object *info, GString *msg, GError **error)
{
    for (guint i = 1; i <= HYPERV_ARGS; i++) {
        g_autofree char *key = g_strdup_printf("arg%u", i);
        g_autofree char *field = g_strdup_printf("data.info.%s", key);
        gboolean present;
        guint64 v;

        if (!get_unsigned(info, key, field, G_MAXUINT64, &present, &v, error))
            return FALSE;
        if (present)
            g_string_append_printf(msg, " 0x%" G_GINT64_MODIFIER "x", v);
    }
    return TRUE;
}

/* s390: "s390: <reason>, core <n>". */
static gboolean
panic_info_s390(json_object *info, GString *msg, GError **error)
{
    const char *reason;
    gsize reason_len;
    gboolean present;
    guint64 core;

    if (!get_token(info, "reason", "data.info.reason", FALSE, &reason, &reason_len, error))
        return FALSE;
    if (!get_unsigned(info, "core", "data.info.core", G_MAXUINT32, &present, &core, error))
        return FALSE;
    if (reason != NULL)
        g_string_append_printf(msg, " %.*s", (int)reason_len, reason);
    if (present)
        g_string_append_printf(msg, "%score %" G_GUINT64_FORMAT, reason != NULL ? ", " : " ",
                               core);
    return TRUE;
}

/* tdx: "tdx: <the TD's own message>". */
static gboolean
panic_info_tdx(json_object *info, GString *msg, GError **error)
{
    const char *text;
    gsize text_len;

    if (!get_string(info, "message", "data.info.message", FALSE, &text, &text_len, error))
        return FALSE;
    if (text != NULL) {
        g_autofree char *kept = kept_string(text, text_len);

        g_string_append_printf(msg, " %s", kept);
    }
    return TRUE;
}

/* data.info, when there is one: its type and a short message. */
static gboolean
decode_panic_info(McedObservation *obs, json_object *data, GError **error)
{
    g_autoptr(GString) msg = g_string_new(NULL);
    g_autofree char *kept = NULL;
    json_object *info;
    const char *type;
    gsize type_len;
    gboolean ok = TRUE;

    if (!get_member(data, "info", "data.info", json_type_object, FALSE, &info, error))
        return FALSE;
    if (info == NULL)
        return TRUE;
    if (!get_token(info, "type", "data.info.type", TRUE, &type, &type_len, error))
        return FALSE;

    g_string_append_len(msg, type, (gssize)type_len);
    g_string_append_c(msg, ':');
    if (g_str_equal(type, "hyper-v"))
        ok = panic_info_hyperv(info, msg, error);
    else if (g_str_equal(type, "s390"))
        ok = panic_info_s390(info, msg, error);
    else if (g_str_equal(type, "tdx"))
        ok = panic_info_tdx(info, msg, error);
    if (!ok)
        return FALSE;
    if (msg->str[msg->len - 1] == ':')
        g_string_truncate(msg, msg->len - 1);

    kept = kept_string(msg->str, msg->len);
    mced_observation_set_str(obs, MCED_STR_MESSAGE, kept, -1);
    return TRUE;
}

static gboolean
decode_panic(McedObservation *obs, json_object *data, GError **error)
{
    const char *action;
    gsize action_len;

    if (!require_data(data, error))
        return FALSE;
    if (!get_token(data, "action", "data.action", TRUE, &action, &action_len, error))
        return FALSE;
    if (!decode_panic_info(obs, data, error))
        return FALSE;

    mced_observation_set_str(obs, MCED_STR_ACTION, action, (gssize)action_len);
    mced_observation_set_bool(obs, MCED_BOOL_IN_GUEST, TRUE);
    obs->severity = MCED_SEVERITY_FATAL;
    obs->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    return TRUE;
}

/* Before QEMU 4.0 RESET had no reason, and before that no data at all: both
 * members are optional. in_guest holds data.guest (the guest asked for it). */
static gboolean
decode_reset(McedObservation *obs, json_object *data, GError **error)
{
    const char *reason;
    gsize reason_len;
    gboolean present;
    gboolean guest;

    if (data == NULL)
        return TRUE;
    if (!get_bool(data, "guest", "data.guest", FALSE, &present, &guest, error))
        return FALSE;
    if (!get_token(data, "reason", "data.reason", FALSE, &reason, &reason_len, error))
        return FALSE;
    if (present)
        mced_observation_set_bool(obs, MCED_BOOL_IN_GUEST, guest);
    if (reason != NULL)
        mced_observation_set_str(obs, MCED_STR_MESSAGE, reason, (gssize)reason_len);
    return TRUE;
}

/* ---- observations ------------------------------------------------------ */

typedef struct {
    McedQmpEvent event;
    gint64 seconds; /* -1: no timestamp */
    guint micros;
    json_object *data; /* NULL: the event had none */
    const char *line;  /* kept as the observation's line */
    gsize line_len;
} Event;

static McedObservation *
build_observation(const Event *ev, const char *domain, const char *fallback_cursor,
                  GError **error)
{
    g_autoptr(McedObservation) obs = mced_observation_new(MCED_OBS_QMP);
    const char *name = event_str[ev->event];
    gboolean ok = FALSE;

    mced_observation_set_str(obs, MCED_STR_EVENT, name, -1);
    mced_observation_set_str(obs, MCED_STR_DOMAIN, domain, -1);
    if (ev->seconds >= 0) {
        obs->realtime_us = ev->seconds * G_USEC_PER_SEC + ev->micros;
        obs->cursor = g_strdup_printf("qmp:%s:%s:%" G_GINT64_FORMAT ".%06u", domain, name,
                                      ev->seconds, ev->micros);
    } else {
        obs->cursor = g_strdup(fallback_cursor);
    }

    switch (ev->event) {
    case MCED_QMP_EVENT_MEMORY_FAILURE:
        ok = decode_memory_failure(obs, ev->data, error);
        break;
    case MCED_QMP_EVENT_GUEST_PANICKED:
    case MCED_QMP_EVENT_GUEST_CRASHLOADED:
        ok = decode_panic(obs, ev->data, error);
        break;
    case MCED_QMP_EVENT_RESET:
        ok = decode_reset(obs, ev->data, error);
        break;
    case _MCED_QMP_EVENT_MAX:
    case _MCED_QMP_EVENT_INVALID:
        g_assert_not_reached();
    }
    if (!ok) {
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }

    mced_observation_add_line(obs, ev->line, ev->line_len);
    mced_observation_freeze(obs);
    return g_steal_pointer(&obs);
}

/* The event name: known, else MCED_ERROR_NOT_FOUND. */
static gboolean
lookup_event(const char *name, gsize len, McedQmpEvent *ret, GError **error)
{
    int i = lookup_name(event_str, _MCED_QMP_EVENT_MAX, name, len);

    if (i < 0) {
        g_autofree char *shown = display_name(name, len);

        g_set_error(error, MCED_ERROR, MCED_ERROR_NOT_FOUND, "unknown event '%s'", shown);
        return FALSE;
    }
    *ret = (McedQmpEvent)i;
    return TRUE;
}

static gboolean
check_seconds(gint64 seconds, GError **error)
{
    if (seconds < -1 || seconds > MCED_QMP_MAX_SECONDS)
        return bad_field(error, "timestamp.seconds", "out of range");
    return TRUE;
}

McedObservation *
mced_qmp_decode(const char *event, gint64 seconds, guint micros, const char *details_json,
                gsize details_len, const char *domain, const char *fallback_cursor,
                GError **error)
{
    json_object *data = NULL;
    g_autoptr(GString) line = NULL;
    McedObservation *obs;
    Event ev = {0};

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!mced_qmp_check_domain(domain, error))
        return NULL;
    if (event == NULL) {
        bad_field(error, "event", "missing");
        return NULL;
    }
    if (!lookup_event(event, strlen(event), &ev.event, error))
        return NULL;
    if (!check_seconds(seconds, error))
        return NULL;
    if (seconds >= 0 && micros >= G_USEC_PER_SEC) {
        bad_field(error, "timestamp.microseconds", "out of range");
        return NULL;
    }
    if (details_json != NULL) {
        if (!parse_json(details_json, details_len, "data", &data, error))
            return NULL;
        if (data == NULL || !json_object_is_type(data, json_type_object)) {
            json_object_put(data);
            bad_field(error, "data", "not an object");
            return NULL;
        }
    }

    /* The event in its wire shape, "data" as it came. */
    line = g_string_new(NULL);
    g_string_append_printf(line, "{\"event\": \"%s\", ", event_str[ev.event]);
    if (details_json != NULL) {
        g_string_append(line, "\"data\": ");
        g_string_append_len(line, details_json, (gssize)details_len);
        g_string_append(line, ", ");
    }
    if (seconds >= 0)
        g_string_append_printf(line,
                               "\"timestamp\": {\"seconds\": %" G_GINT64_FORMAT
                               ", \"microseconds\": %u}}",
                               seconds, micros);
    else
        g_string_append(line, "\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}");

    ev.seconds = seconds;
    ev.micros = seconds >= 0 ? micros : 0;
    ev.data = data;
    ev.line = line->str;
    ev.line_len = line->len;
    obs = build_observation(&ev, domain, fallback_cursor, error);
    json_object_put(data);
    return obs;
}

/* "timestamp": {"seconds": S, "microseconds": M}, or both -1. */
static gboolean
decode_timestamp(json_object *ts, gint64 *ret_seconds, guint *ret_micros, GError **error)
{
    json_object *v;
    gint64 seconds;
    gint64 micros;

    if (!get_member(ts, "seconds", "timestamp.seconds", json_type_int, TRUE, &v, error))
        return FALSE;
    seconds = json_object_get_int64(v);
    /* A value beyond gint64 comes back clamped, and so out of range here. */
    if (!check_seconds(seconds, error))
        return FALSE;
    if (!get_member(ts, "microseconds", "timestamp.microseconds", json_type_int, TRUE, &v, error))
        return FALSE;
    micros = json_object_get_int64(v);
    if (micros < (seconds < 0 ? -1 : 0) || micros >= G_USEC_PER_SEC)
        return bad_field(error, "timestamp.microseconds", "out of range");

    *ret_seconds = seconds;
    *ret_micros = seconds >= 0 ? (guint)micros : 0;
    return TRUE;
}

McedObservation *
mced_qmp_decode_line(const char *line, gsize len, const char *domain,
                     const char *fallback_cursor, GError **error)
{
    g_autoptr(json_object) root = NULL;
    json_object *ts;
    const char *name;
    gsize name_len;
    Event ev = {.seconds = -1};

    g_return_val_if_fail(line != NULL || len == 0, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!mced_qmp_check_domain(domain, error))
        return NULL;
    if (!parse_json(line != NULL ? line : "", len, NULL, &root, error))
        return NULL;
    if (root == NULL || !json_object_is_type(root, json_type_object)) {
        bad_json(error, NULL, "not a JSON object");
        return NULL;
    }
    if (!get_string(root, "event", "event", TRUE, &name, &name_len, error))
        return NULL;
    if (!lookup_event(name, name_len, &ev.event, error))
        return NULL;
    if (!get_member(root, "timestamp", "timestamp", json_type_object, FALSE, &ts, error))
        return NULL;
    if (ts != NULL && !decode_timestamp(ts, &ev.seconds, &ev.micros, error))
        return NULL;
    if (!get_member(root, "data", "data", json_type_object, FALSE, &ev.data, error))
        return NULL;

    ev.line = line;
    ev.line_len = len;
    return build_observation(&ev, domain, fallback_cursor, error);
}
