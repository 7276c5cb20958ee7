/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-observation.h"

static const char *const kind_str[_MCED_OBS_KIND_MAX] = {
    [MCED_OBS_PPC64_MCE] = "ppc64-mce",
    [MCED_OBS_X86_MCE] = "x86-mce",
    [MCED_OBS_MEMORY_FAILURE] = "memory-failure",
    [MCED_OBS_QEMU_MEMORY_ERROR] = "qemu-memory-error",
    [MCED_OBS_QEMU_FWNMI] = "qemu-fwnmi",
    [MCED_OBS_QMP] = "qmp",
    [MCED_OBS_DRILL] = "drill",
};

static const char *const severity_str[_MCED_SEVERITY_MAX] = {
    [MCED_SEVERITY_UNKNOWN] = NULL,
    [MCED_SEVERITY_HARMLESS] = "harmless",
    [MCED_SEVERITY_WARNING] = "warning",
    [MCED_SEVERITY_SEVERE] = "severe",
    [MCED_SEVERITY_FATAL] = "fatal",
};

static const char *const disposition_str[_MCED_DISPOSITION_MAX] = {
    [MCED_DISPOSITION_UNKNOWN] = NULL,
    [MCED_DISPOSITION_RECOVERED] = "recovered",
    [MCED_DISPOSITION_NOT_RECOVERED] = "not-recovered",
};

typedef struct {
    const char *key;
    gboolean hex;
    gboolean required;
} NumInfo;

static const NumInfo num_info[_MCED_NUM_MAX] = {
    [MCED_NUM_HOST_CPU] = { "host_cpu", FALSE, TRUE },
    [MCED_NUM_TID] = { "tid", FALSE, TRUE },
    [MCED_NUM_PID] = { "pid", FALSE, TRUE },
    [MCED_NUM_VCPU] = { "vcpu", FALSE, TRUE },
    [MCED_NUM_EA] = { "ea", TRUE, TRUE },
    [MCED_NUM_PA] = { "pa", TRUE, TRUE },
    [MCED_NUM_PFN] = { "pfn", TRUE, TRUE },
    [MCED_NUM_NIP] = { "nip", TRUE, FALSE },
    [MCED_NUM_BANK] = { "bank", FALSE, FALSE },
    [MCED_NUM_STATUS] = { "status", TRUE, FALSE },
    [MCED_NUM_MCGSTATUS] = { "mcgstatus", TRUE, FALSE },
    [MCED_NUM_CS] = { "cs", TRUE, FALSE },
    [MCED_NUM_IP] = { "ip", TRUE, FALSE },
    [MCED_NUM_TSC] = { "tsc", TRUE, FALSE },
    [MCED_NUM_MISC] = { "misc", TRUE, FALSE },
    [MCED_NUM_PPIN] = { "ppin", TRUE, FALSE },
    [MCED_NUM_SYND] = { "synd", TRUE, FALSE },
    [MCED_NUM_SYND1] = { "synd1", TRUE, FALSE },
    [MCED_NUM_SYND2] = { "synd2", TRUE, FALSE },
    [MCED_NUM_IPID] = { "ipid", TRUE, FALSE },
    [MCED_NUM_CONFIG] = { "config", TRUE, FALSE },
    [MCED_NUM_CPUVENDOR] = { "cpuvendor", FALSE, FALSE },
    [MCED_NUM_CPUID] = { "cpuid", TRUE, FALSE },
    [MCED_NUM_TIME] = { "time", FALSE, FALSE },
    [MCED_NUM_SOCKET] = { "socket", FALSE, FALSE },
    [MCED_NUM_APIC] = { "apic", TRUE, FALSE },
    [MCED_NUM_MICROCODE] = { "microcode", TRUE, FALSE },
    [MCED_NUM_QEMU_ADDR] = { "qemu_addr", TRUE, FALSE },
    [MCED_NUM_USERS] = { "users", FALSE, FALSE },
};

typedef struct {
    const char *key;
    gboolean required;
} KeyInfo;

static const KeyInfo str_info[_MCED_STR_MAX] = {
    [MCED_STR_ERROR_TYPE] = { "error_type", TRUE },
    [MCED_STR_ERROR_SUBTYPE] = { "error_subtype", TRUE },
    [MCED_STR_COMM] = { "comm", TRUE },
    [MCED_STR_FORMAT] = { "format", FALSE },
    [MCED_STR_SYMBOL] = { "symbol", FALSE },
    [MCED_STR_INITIATOR] = { "initiator", FALSE },
    [MCED_STR_ERROR_CLASS] = { "error_class", FALSE },
    [MCED_STR_PAGE_TYPE] = { "page_type", FALSE },
    [MCED_STR_RESULT] = { "result", FALSE },
    [MCED_STR_ACTION] = { "action", FALSE },
    [MCED_STR_MESSAGE] = { "message", FALSE },
    [MCED_STR_SIGNAL_CODE] = { "signal_code", FALSE },
    [MCED_STR_PROGRAM] = { "program", FALSE },
    [MCED_STR_GUEST_NAME] = { "guest_name", FALSE },
    [MCED_STR_EVENT] = { "event", FALSE },
    [MCED_STR_DOMAIN] = { "domain", FALSE },
    [MCED_STR_RECIPIENT] = { "recipient", FALSE },
};

static const KeyInfo bool_info[_MCED_BOOL_MAX] = {
    [MCED_BOOL_IN_GUEST] = { "in_guest", TRUE },
    [MCED_BOOL_EXCEPTION] = { "exception", FALSE },
    [MCED_BOOL_IP_INEXACT] = { "ip_inexact", FALSE },
    [MCED_BOOL_ACTION_REQUIRED] = { "action_required", FALSE },
    [MCED_BOOL_RECURSIVE] = { "recursive", FALSE },
    [MCED_BOOL_MIGRATION] = { "migration", FALSE },
    [MCED_BOOL_SYNTHETIC] = { "synthetic", FALSE },
};

G_STATIC_ASSERT(_MCED_NUM_MAX <= 64);
G_STATIC_ASSERT(_MCED_BOOL_MAX <= 32);

const char *
mced_obs_kind_to_string(McedObsKind k)
{
    if (k < 0 || k >= _MCED_OBS_KIND_MAX)
        return NULL;
    return kind_str[k];
}

McedObsKind
mced_obs_kind_from_string(const char *s)
{
    if (s == NULL)
        return _MCED_OBS_KIND_INVALID;
    for (int i = 0; i < _MCED_OBS_KIND_MAX; i++)
        if (g_str_equal(kind_str[i], s))
            return (McedObsKind)i;
    return _MCED_OBS_KIND_INVALID;
}

const char *
mced_severity_to_string(McedSeverity s)
{
    if (s < 0 || s >= _MCED_SEVERITY_MAX)
        return NULL;
    return severity_str[s];
}

McedSeverity
mced_severity_from_string(const char *s)
{
    if (s == NULL)
        return MCED_SEVERITY_UNKNOWN;
    for (int i = 0; i < _MCED_SEVERITY_MAX; i++)
        if (severity_str[i] != NULL && g_str_equal(severity_str[i], s))
            return (McedSeverity)i;
    return _MCED_SEVERITY_INVALID;
}

const char *
mced_disposition_to_string(McedDisposition d)
{
    if (d < 0 || d >= _MCED_DISPOSITION_MAX)
        return NULL;
    return disposition_str[d];
}

McedDisposition
mced_disposition_from_string(const char *s)
{
    if (s == NULL)
        return MCED_DISPOSITION_UNKNOWN;
    for (int i = 0; i < _MCED_DISPOSITION_MAX; i++)
        if (disposition_str[i] != NULL && g_str_equal(disposition_str[i], s))
            return (McedDisposition)i;
    return _MCED_DISPOSITION_INVALID;
}

const char *
mced_num_key(McedNum n)
{
    return (n >= 0 && n < _MCED_NUM_MAX) ? num_info[n].key : NULL;
}

gboolean
mced_num_is_hex(McedNum n)
{
    return (n >= 0 && n < _MCED_NUM_MAX) ? num_info[n].hex : FALSE;
}

gboolean
mced_num_is_required(McedNum n)
{
    return (n >= 0 && n < _MCED_NUM_MAX) ? num_info[n].required : FALSE;
}

const char *
mced_str_key(McedStr s)
{
    return (s >= 0 && s < _MCED_STR_MAX) ? str_info[s].key : NULL;
}

gboolean
mced_str_is_required(McedStr s)
{
    return (s >= 0 && s < _MCED_STR_MAX) ? str_info[s].required : FALSE;
}

const char *
mced_bool_key(McedBool b)
{
    return (b >= 0 && b < _MCED_BOOL_MAX) ? bool_info[b].key : NULL;
}

gboolean
mced_bool_is_required(McedBool b)
{
    return (b >= 0 && b < _MCED_BOOL_MAX) ? bool_info[b].required : FALSE;
}

McedObservation *
mced_observation_new(McedObsKind kind)
{
    McedObservation *obs;

    g_return_val_if_fail(kind >= 0 && kind < _MCED_OBS_KIND_MAX, NULL);

    obs = g_atomic_rc_box_new0(McedObservation);
    obs->kind = kind;
    obs->lines = g_ptr_array_new_with_free_func(g_free);
    return obs;
}

McedObservation *
mced_observation_ref(McedObservation *obs)
{
    g_return_val_if_fail(obs != NULL, NULL);
    return g_atomic_rc_box_acquire(obs);
}

static void
observation_clear(McedObservation *obs)
{
    g_free(obs->cursor);
    for (int i = 0; i < _MCED_STR_MAX; i++)
        g_free(obs->str[i]);
    g_clear_pointer(&obs->lines, g_ptr_array_unref);
}

void
mced_observation_unref(McedObservation *obs)
{
    if (obs == NULL)
        return;
    g_atomic_rc_box_release_full(obs, (GDestroyNotify)observation_clear);
}

void
mced_observation_set_num(McedObservation *obs, McedNum n, guint64 v)
{
    g_return_if_fail(obs != NULL && !obs->frozen);
    g_return_if_fail(n >= 0 && n < _MCED_NUM_MAX);
    obs->num[n] = v;
    obs->num_present |= G_GUINT64_CONSTANT(1) << n;
}

void
mced_observation_set_str(McedObservation *obs, McedStr s, const char *v, gssize len)
{
    g_return_if_fail(obs != NULL && !obs->frozen);
    g_return_if_fail(s >= 0 && s < _MCED_STR_MAX);
    g_free(obs->str[s]);
    if (v == NULL)
        obs->str[s] = NULL;
    else
        obs->str[s] = len < 0 ? g_strdup(v) : g_strndup(v, (gsize)len);
}

void
mced_observation_set_bool(McedObservation *obs, McedBool b, gboolean v)
{
    g_return_if_fail(obs != NULL && !obs->frozen);
    g_return_if_fail(b >= 0 && b < _MCED_BOOL_MAX);
    obs->bool_present |= 1u << b;
    if (v)
        obs->bool_value |= 1u << b;
    else
        obs->bool_value &= ~(1u << b);
}

char *
mced_escape_line(const char *s, gsize len, gsize max)
{
    GString *out;
    gsize n = MIN(len, max);

    out = g_string_sized_new(n + 16);
    for (gsize i = 0; i < n; i++) {
        guchar c = (guchar)s[i];
        if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
    return g_string_free(out, FALSE);
}

void
mced_observation_add_line(McedObservation *obs, const char *line, gsize len)
{
    g_return_if_fail(obs != NULL && !obs->frozen);
    if (obs->lines->len >= MCED_OBS_MAX_LINES) {
        obs->lines_truncated = TRUE;
        return;
    }
    len = MIN(len, MCED_OBS_MAX_LINE_LEN);
    /* Kept lines are C strings: only a NUL would shorten one. Other control
     * bytes are escaped by whatever prints the line (JSON, the journal). */
    if (memchr(line, '\0', len) == NULL)
        g_ptr_array_add(obs->lines, g_strndup(line, len));
    else
        g_ptr_array_add(obs->lines, mced_escape_line(line, len, len));
}

void
mced_observation_freeze(McedObservation *obs)
{
    g_return_if_fail(obs != NULL);
    obs->frozen = TRUE;
}
