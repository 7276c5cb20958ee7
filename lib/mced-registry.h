/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The QEMU process registry: which VM a host thread belongs to.
 *
 * A kernel line names a thread id (the vCPU thread that took the machine
 * check, or the task that got SIGBUS). The registry maps it to its QEMU
 * process (Tgid in <procfs>/<tid>/status) and that process to its VM (the
 * QEMU command line: "-name guest=NAME,..." or a bare leading "-name NAME",
 * and "-uuid UUID"). It remembers every QEMU process it has seen, with its
 * thread ids, so that a line about a VM that has died since still finds
 * it; process start times (field 22 of <procfs>/<pid>/stat) tell a reused
 * pid from the process that had it before.
 *
 * Reads only files under an injectable procfs root; never libvirt. The
 * daemon (and, later, libvirt) may also add processes it learns of.
 */
#pragma once

#include <glib.h>

#include "mced-incident.h"

G_BEGIN_DECLS

#define MCED_REGISTRY_MAX_PROCESSES 4096 /* remembered QEMU processes; LRU beyond */
#define MCED_REGISTRY_MAX_THREADS   1024 /* thread ids remembered per process */

typedef struct {
    gint64 pid;
    guint64 start_time;  /* clock ticks since boot, from stat; 0 if unknown */
    char *name;          /* domain name or NULL */
    char *uuid;          /* lower-case UUID or NULL */
    gboolean alive;      /* seen at the last scan */
    GArray *tids;        /* gint64 thread ids seen */
} McedQemuProcess;

typedef struct McedRegistry McedRegistry;

McedRegistry *mced_registry_new(const char *procfs_root);
void mced_registry_free(McedRegistry *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedRegistry, mced_registry_free)

/* Scan <procfs> for QEMU processes (a cmdline whose argv[0] basename starts
 * with "qemu", or is "kvm" as Proxmox starts it, and that has -name or
 * -uuid) and their threads. Processes no longer present are kept, marked
 * dead. Returns the number found alive. */
guint mced_registry_scan(McedRegistry *r, GError **error);

/* The VM of thread @tid: the live QEMU process that holds it now
 * (<procfs>/<tid>/status Tgid, then that process's cmdline; registering
 * it), else what is remembered of it, so a dead VM's threads still
 * resolve. The live answer comes first because a remembered tid may have
 * been reused by another VM's thread. NULL when the thread is unknown and
 * not (or no longer) a QEMU thread. The result is owned by the caller. */
McedVmRef *mced_registry_lookup_tid(McedRegistry *r, gint64 tid);

/* The VM of process @pid (QEMU -name/-uuid), same rules. */
McedVmRef *mced_registry_lookup_pid(McedRegistry *r, gint64 pid);

/* The VM of a QEMU process alive at the last scan whose name or UUID
 * (any case) is @name_or_uuid, or NULL. */
McedVmRef *mced_registry_lookup_vm(McedRegistry *r, const char *name_or_uuid);

/* Add what another source knows (libvirt, later). */
void mced_registry_add(McedRegistry *r, gint64 pid, const char *name, const char *uuid);

/* Remembered processes, dead and superseded ones included. */
guint mced_registry_size(const McedRegistry *r);
/* Borrowed; NULL if unknown. */
const McedQemuProcess *mced_registry_get(const McedRegistry *r, gint64 pid);

/* Parsing helpers, exposed for tests and fuzzing. */
/* @cmdline is /proc/<pid>/cmdline: NUL-separated argv. Sets name/uuid when
 * present (either may be NULL); FALSE if argv[0] is not a QEMU binary. */
gboolean mced_qemu_cmdline_parse(const char *cmdline, gsize len, char **ret_name,
                                 char **ret_uuid);
/* "Tgid:\t1234" from a status file. */
gboolean mced_proc_status_tgid(const char *status, gsize len, gint64 *ret_tgid);
/* Start time (field 22) from a stat file; comm may hold ')' and blanks. */
gboolean mced_proc_stat_start_time(const char *stat, gsize len, guint64 *ret_start);

G_END_DECLS
