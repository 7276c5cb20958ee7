/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * McedAssembler: turns a stream of kernel messages into complete
 * observations.
 *
 * - Compact ppc64 records (four lines "MCE: CPU<n>: ...") are keyed by host
 *   CPU, so records of different CPUs may interleave. A record is complete
 *   when its error-class line arrives, when the same CPU starts a new record,
 *   or when it has been idle for longer than the idle timeout.
 * - Legacy ppc64 blocks and x86 "[Hardware Error]" blocks carry no key and
 *   assemble by adjacency.
 * - Single-line events (memory failure, QEMU lines, notices) complete at once.
 *
 * Time is whatever the caller says it is (McedLineInfo.monotonic_us and
 * mced_assembler_expire()); the assembler never reads a clock. Every queue
 * is bounded.
 */
#pragma once

#include <glib.h>

#include "mced-kline.h"
#include "mced-observation.h"

G_BEGIN_DECLS

/* Longest a record may wait for more lines by default. */
#define MCED_ASSEMBLER_DEFAULT_IDLE_US (500 * G_TIME_SPAN_MILLISECOND)
/* Most records that may be open at once (one per host CPU in practice). */
#define MCED_ASSEMBLER_MAX_PENDING 4096

typedef struct {
    gint64 realtime_us;   /* wall clock of the line, 0 if unknown */
    gint64 monotonic_us;  /* drives idle timeouts, 0 if unknown (no timeouts) */
    const char *cursor;   /* identity of the line (journal cursor, file:line), or NULL */
    const char *raw;      /* the line as read, kept in the observation; NULL: msg */
    gsize raw_len;
} McedLineInfo;

typedef struct {
    guint64 lines;            /* messages fed */
    guint64 lines_matched;    /* recognised as machine-check related */
    guint64 lines_malformed;  /* looked like machine-check lines, did not parse */
    guint64 lines_orphaned;   /* continuation lines with no record to join */
    guint64 observations;     /* emitted */
    guint64 records_incomplete; /* emitted by timeout/flush/eviction before their last line */
    guint64 records_evicted;  /* forced out because too many were open */
    char *first_malformed;    /* first malformed line (truncated), or NULL */
    char *first_malformed_reason;
    char *first_malformed_cursor;
} McedAssemblerStats;

typedef struct McedAssembler McedAssembler;

/* @obs is owned by the callee (transfer full). */
typedef void (*McedObservationFunc)(McedObservation *obs, gpointer user_data);

McedAssembler *mced_assembler_new(gint64 idle_timeout_us, McedObservationFunc emit,
                                  gpointer user_data);
void mced_assembler_free(McedAssembler *a);
void mced_assembler_set_idle_timeout(McedAssembler *a, gint64 idle_timeout_us);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedAssembler, mced_assembler_free)

/* Feed one kernel message (already stripped of any text prefix). */
void mced_assembler_feed(McedAssembler *a, const McedLineInfo *info, const char *msg, gsize len);
/* Complete every record idle since before now_us - idle timeout. */
void mced_assembler_expire(McedAssembler *a, gint64 now_us);
/* Complete every open record (end of input). */
void mced_assembler_flush(McedAssembler *a);
/* Monotonic time at which the next record would expire, or -1 if none. */
gint64 mced_assembler_next_deadline(const McedAssembler *a);
guint mced_assembler_n_pending(const McedAssembler *a);
const McedAssemblerStats *mced_assembler_get_stats(const McedAssembler *a);

G_END_DECLS
