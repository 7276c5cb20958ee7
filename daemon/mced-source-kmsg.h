/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading /dev/kmsg on hosts without a readable journal. Every read()
 * of the device returns one record; a plain file or FIFO given for tests
 * is split into records at newlines instead (dictionary lines, which start
 * with a blank, are skipped either way). Records are fed to a McedReplay;
 * the position is "kmsg:<boot id>:<seq>", and after a restart in the same
 * boot records up to the saved sequence number are skipped.
 */
#pragma once

#include <glib.h>

#include "mced-replay.h"

G_BEGIN_DECLS

typedef struct McedKmsgSource McedKmsgSource;

/* @error: NULL, or why reading failed this time (records lost count too). */
typedef void (*McedKmsgBatchFunc)(McedKmsgSource *src, gboolean caught_up, const GError *error,
                                  gpointer user_data);

McedKmsgSource *mced_kmsg_source_new(const char *path, McedReplay *replay,
                                     McedKmsgBatchFunc batch_func, gpointer user_data,
                                     GError **error);
void mced_kmsg_source_free(McedKmsgSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedKmsgSource, mced_kmsg_source_free)

/* Skip records up to the one @cursor names, when it is of this boot. */
gboolean mced_kmsg_source_start(McedKmsgSource *src, const char *cursor, GError **error);
char *mced_kmsg_source_get_cursor(const McedKmsgSource *src);
const char *mced_kmsg_source_describe(const McedKmsgSource *src);

G_END_DECLS
