/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Following the journal live: kernel-transport entries only, handed to a
 * McedReplay one at a time. The journal fd is a GSource on the default main
 * context; every wakeup runs sd_journal_process() and then drains entries
 * in bounded batches (so the loop stays responsive during a storm) until
 * sd_journal_next() returns 0, including after SD_JOURNAL_INVALIDATE
 * (rotation, vacuuming, new files).
 */
#pragma once

#include <glib.h>

#include "mced-replay.h"

G_BEGIN_DECLS

typedef enum {
    MCED_JOURNAL_SYSTEM,    /* the local system journal */
    MCED_JOURNAL_DIRECTORY, /* a directory of journal files (another host, tests) */
    MCED_JOURNAL_FILE,      /* one journal file */
} McedJournalKind;

typedef struct McedJournalSource McedJournalSource;

/* Called after each batch; @caught_up says whether the journal is drained,
 * @error is NULL or why the journal could not be read this time. */
typedef void (*McedJournalBatchFunc)(McedJournalSource *src, gboolean caught_up,
                                     const GError *error, gpointer user_data);

McedJournalSource *mced_journal_source_new(McedJournalKind kind, const char *path,
                                           McedReplay *replay, McedJournalBatchFunc batch_func,
                                           gpointer user_data, GError **error);
void mced_journal_source_free(McedJournalSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedJournalSource, mced_journal_source_free)

/* Start after @cursor (a saved position), or, with none, at the start of
 * the current boot (system journal) or of the files (directory/file). */
gboolean mced_journal_source_start(McedJournalSource *src, const char *cursor, GError **error);
/* Cursor of the last entry read, or NULL before the first. */
char *mced_journal_source_get_cursor(McedJournalSource *src);
gboolean mced_journal_source_caught_up(const McedJournalSource *src);
/* Read what is there now (one batch), woken or not. */
void mced_journal_source_poll(McedJournalSource *src);
const char *mced_journal_source_describe(const McedJournalSource *src);

G_END_DECLS
