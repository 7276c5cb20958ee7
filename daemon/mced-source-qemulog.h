/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Following the QEMU logs libvirt keeps per domain (<dir>/<name>.log: the
 * QEMU command line and everything QEMU wrote to stderr, with "-msg
 * timestamp=on" ISO prefixes). QEMU's machine-check exit handler writes
 * there what it could not do ("FWNMI: Unable to deliver machine check to
 * guest: ...", "Guest MCE Memory Error at QEMU addr ... and GUEST addr
 * ..."), the only place the guest physical address appears.
 *
 * The directory is watched (inotify through GIO). A file that exists when
 * following starts is read from its end; a file created later from its
 * start; a file that shrank or was replaced (rotation) from its start
 * again. Lines are bounded; a longer one is cut and counted.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCED_QEMU_LOG_MAX_LINE (16 * 1024)
#define MCED_QEMU_LOG_MAX_FILES 4096

/* One complete line of domain @name's log; @cursor identifies it
 * ("qemulog:<inode>:<offset>"). */
typedef void (*McedQemuLogLineFunc)(const char *name, const char *line, gsize len,
                                    const char *cursor, gpointer user_data);

typedef struct McedQemuLog McedQemuLog;

McedQemuLog *mced_qemu_log_new(const char *directory, McedQemuLogLineFunc func,
                               gpointer user_data, GError **error);
void mced_qemu_log_free(McedQemuLog *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedQemuLog, mced_qemu_log_free)

/* Read whatever is new in every followed file now (also done on every
 * change the monitor reports). */
void mced_qemu_log_poll(McedQemuLog *q);
guint64 mced_qemu_log_lines_cut(const McedQemuLog *q);

G_END_DECLS
