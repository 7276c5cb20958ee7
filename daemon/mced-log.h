/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging for the daemon: structured journal entries for what operators act
 * on (with a MESSAGE_ID from mced-names.h and KVM_MCED_* fields), and a
 * readable line on stderr when stderr is not the journal already (running
 * in the foreground, in tests). lib/ and kernel/ never log; the daemon logs
 * each problem once, where it handles it.
 */
#pragma once

#include <glib.h>
#include <syslog.h>

#include "mced-incident.h"

G_BEGIN_DECLS

typedef struct McedLog McedLog;

/* @to_journal FALSE: never write to the journal (tests without one).
 * @to_stderr FALSE: stderr is the journal already (JOURNAL_STREAM). */
McedLog *mced_log_new(gboolean to_journal, gboolean to_stderr);
void mced_log_free(McedLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedLog, mced_log_free)

/* One entry per incident change. */
void mced_log_incident(McedLog *log, McedIncidentEvent event, const McedIncident *inc);

/* A plain event with a MESSAGE_ID (NULL for none) and a priority. */
void mced_log_event(McedLog *log, int priority, const char *message_id, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* One entry per action started, finished, skipped or dry-run, with
 * KVM_MCED_ACTION, KVM_MCED_RESULT and KVM_MCED_DETAIL; @synthetic (a
 * drill's) adds KVM_MCED_SYNTHETIC=1 and "[drill] " before the message. */
void mced_log_action(McedLog *log, int priority, const char *message_id, const char *incident,
                     gboolean synthetic, const char *domain, const char *uuid, const char *action,
                     const char *result, const char *detail, const char *fmt, ...)
    G_GNUC_PRINTF(11, 12);

G_END_DECLS
