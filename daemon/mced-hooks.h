/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hooks: site executables in a directory (by default /etc/kvm-mced/hooks.d)
 * that run on incident and action events (docs/hooks.md is the contract).
 *
 * On each event every eligible file in the directory runs, in name order,
 * with argv = { path, event } and a clean environment: PATH, LANG and the
 * KVM_MCED_* variables given, nothing inherited from the daemon. Nothing
 * goes through a shell. Values that would carry a control character or a
 * backslash are escaped (\\, \xNN; printf '%b' undoes it).
 *
 * Eligible: a regular file (lstat: a symlink is refused, not followed),
 * executable, owned by root, neither group- nor world-writable, in a
 * directory that is owned by root and neither group- nor world-writable.
 * Names starting with '.' or ending in '~', ".swp", ".dpkg-*" or ".rpm*"
 * (editor and package leftovers) and files without any execute bit are
 * skipped silently; everything else that is not eligible is refused and
 * reported through the callback once per change of the file (inode,
 * mtime, mode, owner), not on every event.
 *
 * Everything is asynchronous and bounded: at most @max_concurrent hooks
 * run at once; the others wait in a queue of at most
 * MCED_HOOKS_DEFAULT_MAX_QUEUED runs (past it, the oldest queued run is
 * dropped and reported). A hook runs in a process group of its own, with
 * stdin on /dev/null and the other descriptors closed; its stdout and
 * stderr are kept (the last MCED_HOOKS_OUTPUT_TAIL bytes of each) for the
 * report. When it overruns the timeout its whole group gets SIGTERM, then
 * SIGKILL MCED_HOOKS_KILL_GRACE_US later. When it exits, whatever it left
 * behind in its process group is killed.
 *
 * Single-threaded: everything runs on the global default main context
 * (child watches, output and timeouts are attached there). The callback
 * may call mced_hooks_run(), not mced_hooks_free().
 */
#pragma once

#include <glib.h>

#include "mced-incident.h"

G_BEGIN_DECLS

#define MCED_HOOKS_DEFAULT_DIRECTORY      "/etc/kvm-mced/hooks.d"
#define MCED_HOOKS_DEFAULT_MAX_CONCURRENT 4
#define MCED_HOOKS_DEFAULT_TIMEOUT_US     (30 * G_USEC_PER_SEC)
#define MCED_HOOKS_DEFAULT_MAX_QUEUED     256
#define MCED_HOOKS_KILL_GRACE_US          (2 * G_USEC_PER_SEC) /* SIGTERM -> SIGKILL */
#define MCED_HOOKS_OUTPUT_TAIL            4096  /* bytes of stdout, of stderr kept */
#define MCED_HOOKS_MAX_FILES              64    /* hooks run per event; more are refused */
#define MCED_HOOKS_MAX_VALUE              4096  /* bytes of one escaped value; longer is cut */

/* Status of a finished run, as the callback gets it: the exit status
 * (0..255), 128 + the signal when something else killed it, or: */
#define MCED_HOOK_STATUS_TIMEOUT (-1) /* killed by us after the timeout */
#define MCED_HOOK_STATUS_NOT_RUN (-2) /* refused, dropped from the queue, spawn failed */

typedef struct McedHooks McedHooks;

/* @path: the hook (or the directory, when the directory is refused).
 * @event: the event the run was for (for a refusal found while scanning,
 *         the event whose scan found it: reported once per change).
 * @reason: NULL for status 0; else what went wrong, with the tail of the
 *          hook's stderr and stdout when there is any (control characters
 *          escaped), e.g. "world-writable: refused", "exit status 3;
 *          stderr: ...", "timed out after 30 s: killed", "queue full:
 *          dropped". */
typedef void (*McedHookDone)(const char *path, const char *event, int status,
                             const char *reason, gpointer user_data);

/* @directory NULL: MCED_HOOKS_DEFAULT_DIRECTORY. @max_concurrent 0: the
 * default. @timeout_us <= 0: the default. A directory that does not exist
 * means no hooks, and is not an error; it is looked at on every event. */
McedHooks *mced_hooks_new(const char *directory, guint max_concurrent, gint64 timeout_us);
/* Kills running hooks (SIGKILL to their groups, and reaps them) and drops
 * queued runs, without calling the callback. */
void mced_hooks_free(McedHooks *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedHooks, mced_hooks_free)

void mced_hooks_set_callback(McedHooks *h, McedHookDone func, gpointer user_data);
/* Queue bound, at least 1 (default MCED_HOOKS_DEFAULT_MAX_QUEUED). */
void mced_hooks_set_max_queued(McedHooks *h, guint max_queued);
/* Settings from a reload; running hooks keep the timeout they started with. */
void mced_hooks_set_limits(McedHooks *h, guint max_concurrent, gint64 timeout_us);

/* Run every eligible hook for one event, asynchronously (never blocks on a
 * hook; reads the directory). @event is argv[1] and KVM_MCED_EVENT: 1 to 64
 * of [a-z0-9-]. @env: NULL-terminated "KEY=value" entries, as built by the
 * helpers below; only KVM_MCED_* keys are passed, and an entry with a
 * control character in its value or a KVM_MCED_EVENT entry is ignored
 * (use the helpers, which escape). Returns the number of runs started or
 * queued. */
guint mced_hooks_run(McedHooks *h, const char *event, const char *const *env);

/* Environments for the documented events. @event: "opened", "updated",
 * "closed" or "merged" (KVM_MCED_EVENT=incident-@event); @result:
 * "started", "succeeded", "failed" or "dry-run" (KVM_MCED_EVENT=action-
 * @result). Values are escaped. */
GStrv mced_hooks_env_for_incident(const char *event, const McedIncident *inc);
GStrv mced_hooks_env_for_action(const char *incident_id, gboolean synthetic, const char *domain,
                                const char *uuid, const char *action, const char *result,
                                const char *detail);

/* The same with the event name: what the daemon calls. */
guint mced_hooks_run_incident(McedHooks *h, McedIncidentEvent event, const McedIncident *inc);
guint mced_hooks_run_action(McedHooks *h, const char *incident_id, gboolean synthetic,
                            const char *domain, const char *uuid, const char *action,
                            const char *result, const char *detail);

/* "incident-opened" etc. for @event; NULL for a value out of range. */
const char *mced_hooks_incident_event_name(McedIncidentEvent event);

/* Escapes one value: '\\' as "\\\\", bytes below 0x20 and 0x7f as "\\xNN",
 * cut to MCED_HOOKS_MAX_VALUE bytes (never inside an escape). NULL: "". */
char *mced_hooks_escape_value(const char *value);

/* Runs going on and waiting (for tests and status). */
guint mced_hooks_get_n_running(const McedHooks *h);
guint mced_hooks_get_n_queued(const McedHooks *h);

G_END_DECLS
