/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one chokepoint through which kvm-mced does anything to a domain.
 * Every request is validated, logged when it starts and when it ends
 * (journal entries with their own MESSAGE_IDs), honours dry-run, runs at
 * most one action per domain at a time, has a time limit, and on failure
 * runs the policy's fallback once. The libvirt calls themselves run in
 * worker threads (mced_libvirt_run_op()).
 *
 * Actions by name (the policy's closed vocabulary): ignore, log, notify
 * change nothing; pause, migrate, restart, reset, reboot, destroy, dump,
 * nmi act on the domain.
 */
#pragma once

#include <glib.h>

#include "mced-libvirt.h"
#include "mced-log.h"

G_BEGIN_DECLS

typedef struct {
    GStrv migrate_peers;       /* destination libvirt URIs, tried in order */
    char *migrate_uri;         /* optional data-channel URI (tcp://host) */
    char *listen_address;      /* optional listen address on the destination */
    gint64 migrate_timeout_us;
    gint64 action_timeout_us;
    char *dump_directory;
} McedActionSettings;

typedef struct {
    const char *incident_id;
    const char *domain;    /* name */
    const char *uuid;
    const char *action;    /* from the vocabulary */
    const char *fallback;  /* or NULL */
    const char *reason;    /* why the policy chose it, for the log */
    gboolean dry_run;
    gboolean synthetic;    /* for a drill: always with @dry_run, marked in the log */
    gboolean dump_first;   /* a reached 'dump' step below @action: dump the
                            * memory, then run @action whatever the dump's
                            * result (the ladder continues) */
} McedActionRequest;

typedef enum {
    MCED_ACTION_RESULT_DONE,     /* nothing to run (log, notify, ignore) */
    MCED_ACTION_RESULT_STARTED,
    MCED_ACTION_RESULT_DRY_RUN,
    MCED_ACTION_RESULT_SKIPPED,
    MCED_ACTION_RESULT_SUCCEEDED,
    MCED_ACTION_RESULT_FAILED,
} McedActionResult;

/* Every outcome, for hooks, metadata and tests. */
typedef void (*McedActionFunc)(const McedActionRequest *req, McedActionResult result,
                               const char *detail, gpointer user_data);

typedef struct McedActions McedActions;

McedActions *mced_actions_new(McedLibvirt *libvirt, McedLog *log, McedActionFunc func,
                              gpointer user_data);
void mced_actions_free(McedActions *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedActions, mced_actions_free)

/* Takes a copy. */
void mced_actions_set_settings(McedActions *a, const McedActionSettings *settings);

gboolean mced_action_is_known(const char *action);
gboolean mced_action_changes_domain(const char *action);

/* Validates and starts (or logs, or records the dry run). */
McedActionResult mced_actions_request(McedActions *a, const McedActionRequest *req);

/* For the policy's guards. */
guint mced_actions_migrations_in_flight(const McedActions *a);
guint mced_actions_in_last_hour(McedActions *a, gint64 now_us);
gboolean mced_actions_busy(const McedActions *a, const char *uuid);
/* Whether an action for incident @incident_id is running. */
gboolean mced_actions_incident_busy(const McedActions *a, const char *incident_id);

G_END_DECLS
