/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz the McedAssembler: each line of the input is stripped
 * (mced_text_strip) and fed as one message. The clock advances between
 * lines by an amount taken from the line's first and last bytes (0 to
 * 750 ms in 50 ms steps, around the 500 ms idle timeout), mced_assembler_expire()
 * runs after every line whose first byte has its low three bits clear, and
 * mced_assembler_flush() ends the input. Every observation emitted must be
 * frozen, of a valid kind and within the documented bounds; after the flush
 * nothing may stay pending and the stats must agree with what was emitted.
 */
#include "config.h"

#include "fuzz-common.h"
#include "mced-assembler.h"
#include "mced-text.h"

/* Inputs larger than this are ignored, so that fuzzing stays fast. */
#define FUZZ_ASSEMBLER_MAX_INPUT (64 * 1024)

typedef struct {
    McedAssembler *assembler;
    gint64 now_us;
    guint line_no;
    guint64 emitted;
} Fuzz;

static void
on_observation(McedObservation *obs, gpointer user_data)
{
    Fuzz *f = user_data;

    g_assert_nonnull(obs);
    g_assert_true(obs->frozen);
    g_assert_cmpint(obs->kind, >=, 0);
    g_assert_cmpint(obs->kind, <, _MCED_OBS_KIND_MAX);
    g_assert_cmpint(obs->severity, >=, 0);
    g_assert_cmpint(obs->severity, <, _MCED_SEVERITY_MAX);
    g_assert_cmpint(obs->disposition, >=, 0);
    g_assert_cmpint(obs->disposition, <, _MCED_DISPOSITION_MAX);
    g_assert_nonnull(obs->lines);
    g_assert_cmpuint(obs->lines->len, <=, MCED_OBS_MAX_LINES);
    g_assert_nonnull(mced_obs_kind_to_string(obs->kind));
    f->emitted++;
    mced_observation_unref(obs);
}

static void
on_line(const char *line, gsize len, gpointer user_data)
{
    Fuzz *f = user_data;
    McedTextLine t;
    McedLineInfo info = { 0 };
    char cursor[32];
    guint first = len > 0 ? (guchar)line[0] : 0;
    guint last = len > 0 ? (guchar)line[len - 1] : 0;

    f->now_us += (gint64)((first ^ last) & 0x0f) * 50 * G_TIME_SPAN_MILLISECOND;
    f->line_no++;

    mced_text_strip(line, len, &t);
    if (t.origin == MCED_TEXT_PROCESS)
        return;

    g_snprintf(cursor, sizeof(cursor), "fuzz:%u", f->line_no);
    info.realtime_us = 1700000000 * G_TIME_SPAN_SECOND + f->now_us;
    info.monotonic_us = f->now_us;
    info.cursor = cursor;
    info.raw = line;
    info.raw_len = len;
    mced_assembler_feed(f->assembler, &info, t.msg, t.msg_len);

    if ((first & 0x07) == 0)
        mced_assembler_expire(f->assembler, f->now_us);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Fuzz f = { .now_us = G_TIME_SPAN_SECOND };
    const McedAssemblerStats *stats;

    if (size > FUZZ_ASSEMBLER_MAX_INPUT)
        return 0;

    f.assembler = mced_assembler_new(MCED_ASSEMBLER_DEFAULT_IDLE_US, on_observation, &f);
    g_assert_nonnull(f.assembler);
    fuzz_each_line(data, size, on_line, &f);
    mced_assembler_flush(f.assembler);

    g_assert_cmpuint(mced_assembler_n_pending(f.assembler), ==, 0);
    g_assert_cmpint(mced_assembler_next_deadline(f.assembler), ==, -1);
    stats = mced_assembler_get_stats(f.assembler);
    g_assert_nonnull(stats);
    g_assert_cmpuint(stats->observations, ==, f.emitted);
    g_assert_cmpuint(stats->lines_matched, <=, stats->lines);

    mced_assembler_free(f.assembler);
    return 0;
}
