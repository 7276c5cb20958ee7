/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Incidents: the observations of one domain (or of the host) that belong
 * together in time, with what they add up to.
 *
 * The correlator owns open incidents. Observations arrive with the VM they
 * were attributed to (or none); an observation joins the open incident of
 * its domain if it falls within the correlation window of that incident's
 * latest observation, otherwise it opens a new one. An incident closes once
 * its window has passed with nothing new. Host-level observations (no PID,
 * no domain) open a host incident, unless a domain-scoped observation
 * arrives within the window: then they move into that domain's incident.
 *
 * Time is the observations' own (realtime_us, else monotonic_us), and
 * "now" is passed in; the correlator never reads a clock. Everything is
 * bounded: observations kept per incident, open incidents, remembered ids.
 */
#pragma once

#include <glib.h>

#include "mced-observation.h"

G_BEGIN_DECLS

typedef enum {
    MCED_CLASS_CORRECTED, /* recovered, the guest is unaffected */
    MCED_CLASS_GUEST,     /* not recovered, delivered to the guest, guest alive */
    MCED_CLASS_FATAL,     /* guest panicked, QEMU died, or hypervisor-fatal */
    MCED_CLASS_HOST,      /* host hardware, no VM involved */
    _MCED_CLASS_MAX,
    _MCED_CLASS_INVALID = -1,
} McedIncidentClass;

const char *mced_incident_class_to_string(McedIncidentClass c);
McedIncidentClass mced_incident_class_from_string(const char *s);

/* The VM an observation was attributed to. */
typedef struct {
    char *name;     /* libvirt domain name (QEMU -name guest=) or NULL */
    char *uuid;     /* QEMU -uuid, lower case, or NULL */
    gint64 pid;     /* QEMU process id, or -1 */
} McedVmRef;

McedVmRef *mced_vm_ref_new(const char *name, const char *uuid, gint64 pid);
McedVmRef *mced_vm_ref_copy(const McedVmRef *ref);
void mced_vm_ref_free(McedVmRef *ref);
/* The key incidents are grouped by: the UUID, else the name; NULL for none. */
const char *mced_vm_ref_key(const McedVmRef *ref);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedVmRef, mced_vm_ref_free)

#define MCED_INCIDENT_MAX_OBSERVATIONS 32 /* kept; more are only counted */
#define MCED_INCIDENT_MAX_VALUES       16 /* host CPUs, vCPUs, addresses each */

typedef enum {
    MCED_INCIDENT_OPEN,
    MCED_INCIDENT_CLOSED,
    _MCED_INCIDENT_STATE_MAX,
} McedIncidentState;

/* What was done about an incident: one entry per action result. */
typedef struct {
    char *action;             /* from the policy's vocabulary */
    char *result;             /* "started", "succeeded", "failed", "skipped", "dry-run", "done" */
    char *detail;             /* may be NULL */
    gint64 time_us;           /* wall clock */
} McedIncidentAction;

#define MCED_INCIDENT_MAX_ACTIONS 16 /* per incident; later ones are dropped */

typedef struct {
    char *id;                 /* stable: derived from the first observation's cursor */
    McedVmRef *vm;            /* NULL for a host incident */
    McedIncidentClass klass;
    McedIncidentState state;
    McedSeverity severity;    /* worst seen */
    McedDisposition disposition; /* worst seen */
    char *error_type;         /* of the first observation that had one */
    gint64 first_us;          /* time of the first observation */
    gint64 last_us;           /* time of the latest observation */
    GArray *host_cpus;        /* guint64, distinct, at most MCED_INCIDENT_MAX_VALUES */
    GArray *vcpus;            /* guint64, distinct */
    GArray *addresses;        /* guint64 (pa, else ea, else pfn << 12), distinct */
    guint32 kinds;            /* bit per McedObsKind seen */
    GPtrArray *observations;  /* McedObservation*, at most MCED_INCIDENT_MAX_OBSERVATIONS */
    guint n_observations;     /* all observations, kept or not */
    gboolean synthetic;       /* a drill: marked as such in every output */
    char *merged_into;        /* host incident absorbed by this domain incident's id */
    GPtrArray *actions;       /* McedIncidentAction*, oldest first; NULL: none yet */
} McedIncident;

McedIncident *mced_incident_ref(McedIncident *inc);
void mced_incident_unref(McedIncident *inc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedIncident, mced_incident_unref)

/* Record an action result on @inc (at most MCED_INCIDENT_MAX_ACTIONS). */
void mced_incident_add_action(McedIncident *inc, const char *action, const char *result,
                              const char *detail, gint64 time_us);

/* Host CPUs, vCPUs or addresses of an incident as one field: "3,17" or,
 * with @hex, "0x12345000,0xdead000"; NULL for none. */
char *mced_incident_join_values(const GArray *values, gboolean hex);

/* Incident id for an observation cursor: "i-" and 16 hex digits of its
 * SHA-256. The same input always yields the same id. */
char *mced_incident_id_for_cursor(const char *cursor);

/* The class an observation alone implies, given whether it was attributed
 * to a VM: HOST without a VM; FATAL for fatal severity or a QEMU line that
 * says the guest or QEMU could not go on; GUEST when not recovered; else
 * CORRECTED. An incident's class is the worst of its observations'. */
McedIncidentClass mced_observation_class(const McedObservation *obs, gboolean attributed);

/* The observation of a drill: synthetic, of kind MCED_OBS_DRILL, at
 * @time_us, rated so that mced_observation_class() gives @klass (HOST when
 * it is added without a VM). @cursor must be unique (it makes the id);
 * @message says who asked. The correlator gives it an incident of its own:
 * a drill never joins a real incident and nothing real joins a drill. */
McedObservation *mced_observation_new_drill(McedIncidentClass klass, gint64 time_us,
                                            const char *cursor, const char *message);

typedef enum {
    MCED_INCIDENT_EVENT_OPENED,
    MCED_INCIDENT_EVENT_UPDATED,
    MCED_INCIDENT_EVENT_CLOSED,
    /* A host incident turned out to be a domain's: its observations moved
     * into the incident @inc->merged_into names, and it is gone (it never
     * closes and is not written to the history). */
    MCED_INCIDENT_EVENT_MERGED,
} McedIncidentEvent;

typedef void (*McedIncidentFunc)(McedIncidentEvent event, McedIncident *inc, gpointer user_data);

typedef struct McedCorrelator McedCorrelator;

#define MCED_CORRELATOR_DEFAULT_WINDOW_US (5 * G_USEC_PER_SEC)
#define MCED_CORRELATOR_MAX_OPEN          4096  /* open incidents; the oldest close early */
#define MCED_CORRELATOR_MAX_KNOWN_IDS     65536 /* ids remembered to refuse duplicates */

McedCorrelator *mced_correlator_new(gint64 window_us, McedIncidentFunc func, gpointer user_data);
void mced_correlator_free(McedCorrelator *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedCorrelator, mced_correlator_free)

void mced_correlator_set_window(McedCorrelator *c, gint64 window_us);
/* Ids of incidents already recorded (from the state file): an observation
 * whose incident id is known opens nothing. */
void mced_correlator_add_known_id(McedCorrelator *c, const char *id);
gboolean mced_correlator_is_known_id(const McedCorrelator *c, const char *id);

/* Add one observation; @vm is NULL when it could not be attributed.
 * Returns the incident it joined or opened (borrowed), or NULL when it was
 * dropped as a duplicate (same cursor seen, or its incident id known). */
McedIncident *mced_correlator_add(McedCorrelator *c, McedObservation *obs, const McedVmRef *vm);
/* Close incidents whose window has passed at @now_us (observation time base). */
void mced_correlator_expire(McedCorrelator *c, gint64 now_us);
/* Close everything (shutdown, end of replay). */
void mced_correlator_close_all(McedCorrelator *c);
/* Earliest time at which an open incident would close, or -1. */
gint64 mced_correlator_next_deadline(const McedCorrelator *c);
/* The open incident of @vm (NULL: the host) whose window covers time @t,
 * or NULL. Observations that must not open incidents of their own (a guest
 * panic, a reset) ask this first: they only join an incident that is
 * already there. Replayed (silent) incidents are not returned. */
McedIncident *mced_correlator_lookup(const McedCorrelator *c, const McedVmRef *vm, gint64 t);
/* How many incidents are open (those get_open() returns), in constant time. */
guint mced_correlator_n_open(const McedCorrelator *c);
/* Open incidents, oldest first (borrowed). */
GPtrArray *mced_correlator_get_open(const McedCorrelator *c);
/* Put back an incident that was open when the daemon last stopped. */
void mced_correlator_restore(McedCorrelator *c, McedIncident *inc);

/* Construction for lib/ internals and the state loader. */
McedIncident *mced_incident_new(const char *id, const McedVmRef *vm);
void mced_incident_add_observation(McedIncident *inc, McedObservation *obs, McedIncidentClass klass);

G_END_DECLS
