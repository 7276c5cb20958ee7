/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz mced_kline_parse(): the whole input as one message, then each line of
 * it; each line also as a /dev/kmsg record (mced_kmsg_record_parse()). Checks that the result is a valid kind, that every string slice it
 * returns is readable, and that a malformed line says why.
 */
#include "config.h"

#include "fuzz-common.h"
#include "mced-kline.h"
#include "mced-kmsg.h"

static volatile guint sink;

static void
check_parse(const char *msg, gsize len)
{
    McedKline k;
    McedKlineKind kind = mced_kline_parse(msg, len, &k);

    g_assert_cmpint(kind, ==, k.kind);
    g_assert_cmpint(kind, >=, 0);
    g_assert_cmpint(kind, <, _MCED_KLINE_KIND_MAX);
    g_assert_nonnull(mced_kline_kind_to_string(kind));
    if (kind == MCED_KLINE_MALFORMED)
        g_assert_nonnull(k.malformed_reason);
    if (kind == MCED_KLINE_NONE || kind == MCED_KLINE_MALFORMED)
        return;
    g_assert_cmpint(k.severity, >=, 0);
    g_assert_cmpint(k.severity, <, _MCED_SEVERITY_MAX);
    g_assert_cmpint(k.disposition, >=, 0);
    g_assert_cmpint(k.disposition, <, _MCED_DISPOSITION_MAX);
    for (guint s = 0; s < _MCED_STR_MAX; s++) {
        if (k.str[s].ptr != NULL)
            sink += fuzz_touch(k.str[s].ptr, k.str[s].len);
    }
}

static void
check_kmsg(const char *rec, gsize len)
{
    McedKmsgRecord r;

    if (!mced_kmsg_record_parse(rec, len, &r))
        return;
    g_assert_true(r.msg >= rec && r.msg + r.msg_len <= rec + len);
    g_assert_cmpuint(r.level, <, 8);
    sink += fuzz_touch(r.msg, r.msg_len);
    check_parse(r.msg, r.msg_len);
}

static void
on_line(const char *line, gsize len, gpointer user_data)
{
    check_parse(line, len);
    check_kmsg(line, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: data may be a pointer into a larger buffer. */
    char *msg = g_malloc(size > 0 ? size : 1);

    memcpy(msg, data, size);
    check_parse(msg, size);
    g_free(msg);

    fuzz_each_line(data, size, on_line, NULL);
    return 0;
}
