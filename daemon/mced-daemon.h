/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon: one GLib main loop that owns all state.
 *
 *   source (journal | kmsg) -> McedReplay (assembler) -> attribution
 *     (McedRegistry) -> McedCorrelator -> journal log, state, history
 *
 * Exactly once across restarts: state (cursor, open incidents, counters)
 * is written atomically only when no kernel record is half assembled, so
 * the saved cursor always matches what has been applied; closed incidents
 * are appended to the history just before, and ids already in the history
 * are refused on start, so a crash between the two writes cannot count an
 * incident twice. While a source is catching up on a backlog all time is
 * the data's own, so where a restart falls does not change the result.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *config_file;       /* default /etc/kvm-mced/kvm-mced.conf */
    const char *state_directory;   /* overrides the configuration */
    const char *journal_directory; /* follow this directory instead of the system journal */
    const char *journal_file;      /* follow this file instead of the system journal */
    const char *kmsg_path;         /* read this instead of /dev/kmsg */
    const char *procfs_root;       /* default / ... /proc */
    const char *libvirt_uri;       /* overrides the configuration */
    const char *qemu_log_directory; /* overrides the configuration */
    const char *hooks_directory;   /* default: hooks.d beside the configuration file */
    gboolean no_journal_log;       /* never write to the journal (tests) */
    const char *bus_address;       /* D-Bus: NULL/"system", an address, or "none" */
} McedDaemonOptions;

typedef struct McedDaemon McedDaemon;

McedDaemon *mced_daemon_new(const McedDaemonOptions *opts, GError **error);
void mced_daemon_free(McedDaemon *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedDaemon, mced_daemon_free)

/* Runs until SIGTERM/SIGINT (clean stop, state flushed) or a fatal error. */
gboolean mced_daemon_run(McedDaemon *d, GError **error);

G_END_DECLS
