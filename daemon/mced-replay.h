/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Feeding saved or live kernel messages into the kernel/ assembler.
 *
 * A McedReplay owns one McedAssembler and the counters of what went in.
 * Every source ends in mced_replay_feed(): the text reader (any prefixes,
 * stripped by mced_text_strip()), and the journal (one entry at a time,
 * through mced_replay_feed_journal_entry(), which the daemon's live journal
 * source reuses). Completed observations go to the sink given at creation:
 * the printer for `kvm-mced --replay`, the incident pipeline later.
 *
 * Every input is bounded: a line or MESSAGE longer than MCED_REPLAY_MAX_LINE
 * is cut to that length for parsing and counted.
 */
#pragma once

#include <glib.h>
#include <systemd/sd-journal.h>

#include "mced-assembler.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_journal, sd_journal_close)

#define MCED_REPLAY_MAX_LINE (64 * 1024)

typedef struct {
    guint64 lines_read;       /* text lines, or journal entries with _TRANSPORT=kernel */
    guint64 kernel_lines;     /* fed to the assembler as kernel messages */
    guint64 qemu_lines;       /* QEMU's own lines, fed too */
    guint64 process_lines;    /* another process's syslog lines: skipped */
    guint64 injected_entries; /* journal entries with SYSLOG_FACILITY != 0: skipped */
    guint64 lines_truncated;  /* longer than MCED_REPLAY_MAX_LINE, cut for parsing */
} McedReplayCounters;

typedef struct McedReplay McedReplay;

/* @sink receives each completed observation (transfer full). */
McedReplay *mced_replay_new(McedObservationFunc sink, gpointer user_data);
void mced_replay_free(McedReplay *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedReplay, mced_replay_free)

/* One kernel (or QEMU) message, prefixes already removed. */
void mced_replay_feed(McedReplay *r, const McedLineInfo *info, const char *msg, gsize len);
/* The entry @j is positioned on (already matched on _TRANSPORT=kernel). */
gboolean mced_replay_feed_journal_entry(McedReplay *r, sd_journal *j, GError **error);

/* One /dev/kmsg record. @boot_id names the boot for the cursor
 * ("kmsg:<boot id>:<seq>"). Records a process wrote (facility != 0) are
 * counted and skipped, as in the journal. Returns FALSE for a malformed
 * record (counted too). */
gboolean mced_replay_feed_kmsg_record(McedReplay *r, const char *rec, gsize len,
                                      const char *boot_id, guint64 *ret_seq);

/* Read a whole text log, journal file or journal directory (detected by the
 * journal file magic and by being a directory). Does not flush. */
gboolean mced_replay_read_path(McedReplay *r, const char *path, GError **error);

/* End of input: complete every open record. */
void mced_replay_flush(McedReplay *r);

/* For a live source: the assembler's idle timeout, its clock, and whether
 * anything is half assembled (a saved position is exact only when not). */
void mced_replay_set_idle_timeout(McedReplay *r, gint64 idle_us);
void mced_replay_expire(McedReplay *r, gint64 now_monotonic_us);
gint64 mced_replay_next_deadline(const McedReplay *r);
gboolean mced_replay_quiescent(const McedReplay *r);

const McedReplayCounters *mced_replay_get_counters(const McedReplay *r);
const McedAssemblerStats *mced_replay_get_assembler_stats(const McedReplay *r);
/* One line (no newline) saying what was read, matched and skipped. */
char *mced_replay_format_summary(const McedReplay *r);

typedef enum {
    MCED_REPLAY_OUTPUT_TABLE,
    MCED_REPLAY_OUTPUT_JSON,
    _MCED_REPLAY_OUTPUT_MAX,
} McedReplayOutput;

typedef struct {
    const char *path;
    McedReplayOutput output;
    /* NULL: a kernel log or journal. Otherwise opts->path is a captured QMP
     * event stream of this domain: one event per line as QEMU sends them,
     * '#' comments and blank lines allowed. */
    const char *domain;
} McedReplayOptions;

/* Problems reported one by one per QMP capture; the rest are only counted. */
#define MCED_REPLAY_MAX_QMP_REPORTS 100

/* `kvm-mced --replay`: read opts->path, print the observations on stdout
 * and the summary on stderr. Fails with MCED_ERROR_NOT_FOUND or
 * MCED_ERROR_IO when the input cannot be read; a QMP capture's unknown
 * events and malformed lines are reported on stderr, counted, and
 * skipped. */
gboolean mced_replay_run(const McedReplayOptions *opts, GError **error);

G_END_DECLS
