/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz lib/mced-qmp.c: the whole input, then each line of it, as one QMP
 * event line (mced_qmp_decode_line()), and each line as libvirt's details
 * for every decoded event name (mced_qmp_decode()). Checks that a result
 * is a frozen QMP observation with bounded strings and a valid class, and
 * that a failure is an MCED_ERROR of the documented codes.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mced-error.h"
#include "mced-incident.h"
#include "mced-qmp.h"

#define DOMAIN "fuzz-vm"

static volatile guint sink;

static void
check_result(McedObservation *obs, GError *error, gboolean unknown_allowed)
{
    if (obs == NULL) {
        g_assert_nonnull(error);
        g_assert_true(error->domain == MCED_ERROR);
        g_assert_true(error->code == MCED_ERROR_INVALID_DATA
                      || (unknown_allowed && error->code == MCED_ERROR_NOT_FOUND));
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        return;
    }
    g_assert_null(error);
    g_assert_true(obs->frozen);
    g_assert_cmpint(obs->kind, ==, MCED_OBS_QMP);
    g_assert_cmpint(mced_qmp_event_from_string(obs->str[MCED_STR_EVENT]), !=,
                    _MCED_QMP_EVENT_INVALID);
    g_assert_cmpstr(obs->str[MCED_STR_DOMAIN], ==, DOMAIN);
    g_assert_cmpint(obs->severity, >=, 0);
    g_assert_cmpint(obs->severity, <, _MCED_SEVERITY_MAX);
    g_assert_cmpint(obs->disposition, >=, 0);
    g_assert_cmpint(obs->disposition, <, _MCED_DISPOSITION_MAX);
    g_assert_cmpint(obs->realtime_us, >=, 0);
    for (guint s = 0; s < _MCED_STR_MAX; s++) {
        if (obs->str[s] == NULL || s == MCED_STR_DOMAIN)
            continue;
        g_assert_cmpuint(strlen(obs->str[s]), <=, MCED_QMP_MAX_STRING);
        g_assert_true(g_utf8_validate(obs->str[s], -1, NULL));
    }
    g_assert_cmpuint(obs->lines->len, ==, 1);
    sink += (guint)strlen(g_ptr_array_index(obs->lines, 0));
    g_assert_cmpint(mced_observation_class(obs, TRUE), >=, 0);
    g_assert_cmpint(mced_observation_class(obs, TRUE), <, _MCED_CLASS_MAX);
    sink += mced_qmp_is_panic(obs);
}

static void
check_line(const char *line, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedObservation) obs =
        mced_qmp_decode_line(line, len, DOMAIN, "fuzz:1", &error);

    check_result(obs, error, TRUE);
}

static void
check_details(const char *details, gsize len)
{
    for (int e = 0; e < _MCED_QMP_EVENT_MAX; e++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(McedObservation) obs = mced_qmp_decode(
            mced_qmp_event_to_string((McedQmpEvent)e), (gint64)len - 1, (guint)len, details, len,
            DOMAIN, NULL, &error);

        /* -1 (no time) for an empty input; micros may be out of range. */
        check_result(obs, error, FALSE);
    }
}

static void
on_line(const char *line, gsize len, gpointer user_data)
{
    check_line(line, len);
    check_details(line, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: data may be a pointer into a larger buffer. */
    char *msg = g_malloc(size > 0 ? size : 1);

    memcpy(msg, data, size);
    check_line(msg, size);
    g_free(msg);

    fuzz_each_line(data, size, on_line, NULL);
    return 0;
}
