/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz mced_text_strip() on each line of the input, then mced_kline_parse()
 * on the message it found. The message must be a slice of the line.
 */
#include "config.h"

#include "fuzz-common.h"
#include "mced-kline.h"
#include "mced-text.h"

static volatile guint sink;

static void
on_line(const char *line, gsize len, gpointer user_data)
{
    McedTextLine t;
    McedKline k;
    McedKlineKind kind;

    mced_text_strip(line, len, &t);
    g_assert_cmpint(t.origin, >=, 0);
    g_assert_cmpint(t.origin, <, _MCED_TEXT_ORIGIN_MAX);
    g_assert_true(t.msg_len <= len);
    if (t.msg_len > 0) {
        g_assert_true(t.msg >= line);
        g_assert_true(t.msg + t.msg_len <= line + len);
    }
    sink += fuzz_touch(t.msg, t.msg_len);

    kind = mced_kline_parse(t.msg, t.msg_len, &k);
    g_assert_cmpint(kind, >=, 0);
    g_assert_cmpint(kind, <, _MCED_KLINE_KIND_MAX);
    for (guint s = 0; s < _MCED_STR_MAX; s++) {
        if (kind != MCED_KLINE_NONE && kind != MCED_KLINE_MALFORMED && k.str[s].ptr != NULL)
            sink += fuzz_touch(k.str[s].ptr, k.str[s].len);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_each_line(data, size, on_line, NULL);
    return 0;
}
