/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Persistent state under the state directory (default /var/lib/kvm-mced,
 * systemd's StateDirectory=):
 *
 *  state.json    versioned, rewritten atomically (temp file, fsync, rename,
 *                fsync of the directory): the journal cursor, open incidents,
 *                per-domain counters, ids of recent incidents.
 *  history.jsonl append-only incident history, one JSON object per closed
 *                incident; when it grows past its cap it is rotated to
 *                history.jsonl.1 (one old generation kept).
 *
 * A state file that cannot be parsed, or that a newer version wrote, is
 * moved aside to state.json.bad-<unix time> with a clear error; the daemon
 * then starts from empty state rather than crash or guess.
 */
#pragma once

#include <glib.h>

#include "mced-incident.h"

G_BEGIN_DECLS

#define MCED_STATE_VERSION          1
#define MCED_STATE_MAX_BYTES        (64 * 1024 * 1024) /* refuse larger state files */
#define MCED_HISTORY_DEFAULT_CAP    (8 * 1024 * 1024)
#define MCED_STATE_MAX_RECENT_IDS   4096

/* Per-domain counters (by VM key: UUID, else name; "host" for the host). */
typedef struct {
    char *key;
    char *name;
    char *uuid;
    guint64 incidents[_MCED_CLASS_MAX]; /* per class, ever */
    gint64 last_incident_us;
    char *last_incident_id;
    /* For the policy's N/period thresholds: when each incident of a class
     * opened (gint64, oldest first, at most MCED_STATE_MAX_TIMES), and when
     * the last action that changed the domain started (cooldown). */
    GArray *times[_MCED_CLASS_MAX];
    gint64 last_action_us;
} McedDomainCounters;

#define MCED_STATE_MAX_TIMES 1024


/* An action that changes a domain, recorded when it starts and dropped
 * when it ends, so that one in flight when the daemon stopped can be
 * checked against the domain's real state after the restart. */
typedef struct {
    char *incident_id;
    char *domain;
    char *uuid;
    char *action;
    gint64 started_us;
} McedActionRecord;

#define MCED_STATE_MAX_ACTIONS 1024

typedef struct {
    char *journal_cursor;     /* NULL: none yet */
    GPtrArray *open_incidents; /* McedIncident* (owned refs) */
    GHashTable *domains;      /* key -> McedDomainCounters* (owned) */
    GPtrArray *recent_ids;    /* char*, oldest first, at most MCED_STATE_MAX_RECENT_IDS */
    GPtrArray *actions;       /* McedActionRecord*: actions in flight */
} McedState;

void mced_state_action_started(McedState *st, const char *incident_id, const char *domain,
                               const char *uuid, const char *action, gint64 started_us);
/* Drops the record of @uuid's action, if any. */
void mced_state_action_ended(McedState *st, const char *uuid);

McedState *mced_state_new(void);
void mced_state_free(McedState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedState, mced_state_free)

/* Count a closed (or newly opened, per caller) incident against its domain. */
McedDomainCounters *mced_state_count_incident(McedState *st, const McedIncident *inc);
void mced_state_remember_id(McedState *st, const char *id);
/* The counters of a domain by name or UUID (never the host's), or NULL. */
McedDomainCounters *mced_state_find_domain(const McedState *st, const char *name_or_uuid);
/* Domains with counters, the host's own left out; constant time. */
guint mced_state_n_domains(const McedState *st);
/* Record that an incident of @klass opened at @when for @vm (NULL: host). */
McedDomainCounters *mced_state_note_incident_time(McedState *st, const McedVmRef *vm,
                                                  McedIncidentClass klass, gint64 when);

typedef struct McedStore McedStore;

McedStore *mced_store_new(const char *state_dir, gsize history_cap);
void mced_store_free(McedStore *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedStore, mced_store_free)

/* Load state.json. A missing file gives empty state and TRUE. A corrupt or
 * newer file is moved aside: empty state is returned, TRUE, and
 * *ret_warning says what happened (caller logs it). FALSE only when the
 * directory cannot be read at all. */
McedState *mced_store_load(McedStore *s, char **ret_warning, GError **error);
/* The same for readers (kvm-mced --explain): a bad file is an error and is
 * left where it is. */
McedState *mced_store_load_readonly(McedStore *s, char **ret_warning, GError **error);
/* Write state.json atomically. On failure (read-only or full disk) the old
 * file is intact and the error says why. */
gboolean mced_store_save(McedStore *s, const McedState *st, GError **error);
/* Append one closed incident to the history (and rotate past the cap). */
gboolean mced_store_append_history(McedStore *s, const McedIncident *inc, GError **error);
/* The same in two steps, so that the writing can run in a worker thread
 * (one writer at a time; the serializing stays with the incident's
 * owner): the history line of @inc, newline included, then its append. */
char *mced_store_history_line(McedStore *s, const McedIncident *inc);
gboolean mced_store_append_history_line(McedStore *s, const char *line, GError **error);
/* mced_store_save() in two steps likewise: the text of state.json, then
 * writing it (refused above MCED_STATE_MAX_BYTES). */
char *mced_state_to_text(const McedState *st);
gboolean mced_store_write_state(McedStore *s, const char *text, GError **error);
/* Read the history back (both generations, oldest first) as JSON lines. */
GPtrArray *mced_store_read_history(McedStore *s, GError **error);
/* The same; *ret_skipped counts lines that were not a whole JSON object
 * (a torn last line after a crash) and were left out. */
GPtrArray *mced_store_read_history_full(McedStore *s, guint *ret_skipped, GError **error);

/* Every incident known, for listing: the history (both generations), then
 * @newer (McedIncident*, oldest first: closed but not written yet, or
 * still open), as JSON objects without observations, oldest first. An id
 * seen again replaces its earlier entry where that stood (a later copy is
 * newer). A history that cannot be read lists only @newer. */
struct json_object *mced_store_list_incidents(McedStore *s, const GPtrArray *newer);
/* One incident with its observations: from @newer, else the history's
 * latest copy; NULL when unknown. */
struct json_object *mced_store_get_incident(McedStore *s, const GPtrArray *newer,
                                            const char *id);

/* The realtime clock (microseconds) that names a moved-aside state file;
 * g_get_real_time() unless set. For tests. */
typedef gint64 (*McedStoreClockFunc)(gpointer user_data);
void mced_store_set_clock(McedStore *s, McedStoreClockFunc func, gpointer user_data);

/* JSON forms, shared with the D-Bus API and kvm-mcectl later. */
struct json_object;
struct json_object *mced_incident_to_json(const McedIncident *inc, gboolean with_observations);
McedIncident *mced_incident_from_json(struct json_object *obj, GError **error);

G_END_DECLS
