/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy: what kvm-mced does about an incident. Pure logic: no libvirt, no
 * clock of its own (every "now" is passed in), no I/O beyond reading the
 * configuration files it is given. docs/policy.md is the operator's guide.
 *
 * Configuration (the same files as mced-config.c: kvm-mced.conf, then
 * conf.d/ *.conf in order; a key in a later file replaces the same key of
 * an earlier one; a [rule NAME] keeps the place where it first appeared):
 *
 *   [policy]
 *   dry-run = no                   yes | no: decide and log, change nothing
 *   cooldown = 10m                 0 .. 7d, per domain, between two actions
 *                                  that change a VM
 *   max-concurrent-migrations = 2  1 .. 64
 *   max-actions-per-hour = 20      1 .. 1000, host-wide, VM-changing actions
 *   migrate-peers = URI URI        blank-separated libvirt URIs, tried in order
 *   migrate-timeout = 5m           10s .. 6h
 *   action-timeout = 2m            1s .. 1h
 *   dump-directory = /var/lib/kvm-mced/dumps   absolute path
 *   host-degraded-after = 3/1h     N/PERIOD
 *   evacuate = no                  yes | no
 *   evacuation-order = fatal-first fatal-first | name
 *   [policy.corrected] [policy.guest] [policy.fatal]
 *   ladder = log; migrate after 3/24h
 *   fallback = notify              log | notify | pause | restart | reset |
 *                                  reboot | destroy | nmi
 *   [policy.host]
 *   ladder = log                   ignore, log and notify only
 *   [rule NAME]                    NAME: 1..64 of A-Z a-z 0-9 . _ -
 *   match = web-*                  glob on the domain name (g_pattern_match_simple)
 *   uuid = 5f1c...                 or one domain by UUID (exactly one of the two)
 *   corrected = LADDER  guest = LADDER  fatal = LADDER   (each optional)
 *   dry-run = yes | no             optional
 *
 * Ladders. Steps separated by ';', each "ACTION" (always reached) or
 * "ACTION after N/PERIOD" (reached when at least N incidents of the class
 * opened within PERIOD up to now: the window is (now - PERIOD, now], so an
 * incident exactly PERIOD old no longer counts). N is 1..1000, PERIOD 1s..30d.
 * The chosen step is the LAST reached one; no step reached means log.
 * A ladder is impossible, and an error, when it is empty or longer than
 * MCED_POLICY_MAX_STEPS, names an action twice, has a step after migrate
 * or destroy (the domain is no longer here to escalate), or has a step that
 * can never be chosen because a later one is reached whenever it is (a
 * later step with N' <= N and PERIOD' >= PERIOD, which includes any
 * unconditional step but the first). A ladder with migrate needs
 * [policy] migrate-peers.
 *
 * Precedence, per class: the domain's metadata override, then the first
 * [rule] in file order that matches the domain and sets the class, then
 * [policy.<class>], then the built-in default. Built-in: every class is
 * "log", fallback notify, dry-run no: kvm-mced changes no VM unless the
 * operator says so. dry-run: [policy] dry-run = yes is global and wins;
 * otherwise the override, then the first matching rule that sets it.
 *
 * Guards, applied in this order to a step that changes the VM (pause,
 * migrate, restart, reset, reboot, destroy, dump, nmi): the per-domain
 * cooldown, max-actions-per-hour, and for migrate max-concurrent-migrations
 * and the presence of peers. A blocked action is replaced by notify, never
 * by another VM-changing action, and the decision says which guard did it.
 * The fallback (used by the action chokepoint when the action fails) is
 * the class fallback when it differs from the action, else notify; log and
 * notify fall back to nothing. dump is a step like any other.
 *
 * Errors name the place: "FILE:LINE: [group] key: reason".
 */
#pragma once

#include <glib.h>

#include "mced-incident.h"

G_BEGIN_DECLS

typedef enum {
    MCED_ACTION_IGNORE,
    MCED_ACTION_LOG,
    MCED_ACTION_NOTIFY,
    MCED_ACTION_PAUSE,
    MCED_ACTION_MIGRATE,
    MCED_ACTION_RESTART,
    MCED_ACTION_RESET,
    MCED_ACTION_REBOOT,
    MCED_ACTION_DESTROY,
    MCED_ACTION_DUMP,
    MCED_ACTION_NMI,
    _MCED_ACTION_MAX,
    _MCED_ACTION_INVALID = -1,
} McedActionKind;

const char *mced_action_to_string(McedActionKind a);
McedActionKind mced_action_from_string(const char *s);
/* pause, migrate, restart, reset, reboot, destroy, dump (it pauses), nmi. */
gboolean mced_action_changes_vm(McedActionKind a);

#define MCED_POLICY_MAX_STEPS     8
#define MCED_POLICY_MAX_N         1000
#define MCED_POLICY_MAX_PERIOD_US (30 * G_TIME_SPAN_DAY)
#define MCED_POLICY_MAX_RULES     256
#define MCED_POLICY_MAX_TIMES     1024 /* incident times kept per domain per class */
#define MCED_POLICY_MAX_PEERS     16
#define MCED_POLICY_MAX_OVERRIDE  4096 /* bytes of metadata XML */

typedef struct {
    McedActionKind action;
    guint n;          /* 0: always reached */
    gint64 period_us; /* 0 when n == 0 */
} McedLadderStep;

typedef struct {
    guint n_steps;
    McedLadderStep steps[MCED_POLICY_MAX_STEPS];
} McedLadder;

/* Parses "log; migrate after 3/24h"; @host allows only ignore/log/notify.
 * On failure returns FALSE and *ret_reason (no location). */
gboolean mced_ladder_parse(const char *text, gboolean host, McedLadder *ret, char **ret_reason);
char *mced_ladder_to_string(const McedLadder *l);

typedef enum {
    MCED_EVACUATE_FATAL_FIRST, /* worst class first (fatal, guest, corrected, none), then name */
    MCED_EVACUATE_NAME,        /* by name */
} McedEvacuationOrder;

typedef struct {
    char *name;
    char *match;  /* glob, or NULL */
    char *uuid;   /* or NULL */
    char *origin; /* "FILE:LINE" of its first header */
    gboolean has_ladder[_MCED_CLASS_MAX];
    McedLadder ladders[_MCED_CLASS_MAX];
    int dry_run;  /* -1: not set */
} McedPolicyRule;

typedef struct {
    gboolean dry_run;
    gint64 cooldown_us;
    guint max_concurrent_migrations;
    guint max_actions_per_hour;
    GStrv migrate_peers; /* never NULL */
    char *migrate_uri;   /* optional data URI for migrations (tcp://host), or NULL */
    char *migrate_listen_address; /* optional listen address on the destination, or NULL */
    gint64 migrate_timeout_us;
    gint64 action_timeout_us;
    char *dump_directory;
    guint degraded_n;
    gint64 degraded_period_us;
    gboolean evacuate;
    McedEvacuationOrder evacuation_order;
    char *class_origin[_MCED_CLASS_MAX]; /* "FILE:LINE" of the ladder, NULL: built-in */
    McedLadder ladders[_MCED_CLASS_MAX];
    McedActionKind fallback[_MCED_CLASS_MAX];
    GPtrArray *rules; /* McedPolicyRule*, in file order */
} McedPolicy;

McedPolicy *mced_policy_new_default(void);
void mced_policy_free(McedPolicy *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedPolicy, mced_policy_free)

/* The groups this module reads ("policy", "policy.*", "rule *"); the
 * configuration loader skips them. */
gboolean mced_policy_owns_group(const char *group);

/* Reads the policy groups of @files (NULL-terminated, in order; each must
 * exist: pass McedConfig.files). */
McedPolicy *mced_policy_load(const char *const *files, GError **error);

/* The longest period any threshold of @p looks back (what to keep). */
gint64 mced_policy_keep_us(const McedPolicy *p);
/* Drops times at or before now - keep, then the oldest beyond
 * MCED_POLICY_MAX_TIMES. @times is gint64, oldest first. */
void mced_policy_prune_times(GArray *times, gint64 now_us, gint64 keep_us);
/* Incidents in (now - period, now]. */
guint mced_policy_count_in_window(const GArray *times, gint64 now_us, gint64 period_us);

/* A domain's <policy xmlns="https://kvm-mced.org/xmlns/policy/1"
 * corrected="LADDER" guest="LADDER" fatal="LADDER" dry-run="yes|no"/>. */
#define MCED_POLICY_XMLNS "https://kvm-mced.org/xmlns/policy/1"

typedef struct {
    gboolean has_ladder[_MCED_CLASS_MAX];
    McedLadder ladders[_MCED_CLASS_MAX];
    int dry_run; /* -1: not set */
} McedPolicyOverride;

/* Strict: one <policy> element (attributes as above, xmlns allowed), no
 * children, at most MCED_POLICY_MAX_OVERRIDE bytes. Migrate in an override
 * is accepted; without peers the guard turns it into notify. */
gboolean mced_policy_parse_override(const char *xml, McedPolicyOverride **ret, GError **error);
void mced_policy_override_free(McedPolicyOverride *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedPolicyOverride, mced_policy_override_free)

typedef struct {
    const char *name;             /* NULL for the host */
    const char *uuid;             /* may be NULL */
    McedIncidentClass klass;
    gint64 now_us;
    const GArray *times;          /* gint64, oldest first, this class, the
                                   * current incident included; may be NULL */
    gint64 last_action_us;        /* last VM-changing action; <= 0: never */
    guint actions_last_hour;      /* host-wide VM-changing actions */
    guint migrations_in_flight;
    const McedPolicyOverride *override; /* may be NULL */
} McedPolicyInput;

typedef struct {
    McedIncidentClass klass;
    McedActionKind action;   /* what to do, after the guards */
    McedActionKind planned;  /* the ladder's choice, before the guards */
    McedActionKind fallback; /* when @action fails; _MCED_ACTION_INVALID: none */
    gboolean dry_run;
    gboolean dump_first;     /* a 'dump' step below the chosen one is reached:
                              * dump the memory, then do @action */
    char *source;            /* "override", "rule NAME", "policy.guest", "built-in" */
    char *step;              /* "migrate after 3/24h", NULL when no step was reached */
    char *reason;            /* "3 guest incidents in 24h reached 'migrate after 3/24h'" */
    GPtrArray *guards;       /* char*: each guard that changed the action */
} McedDecision;

McedDecision *mced_policy_decide(const McedPolicy *p, const McedPolicyInput *in);
void mced_decision_free(McedDecision *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedDecision, mced_decision_free)

/* Degraded when host incidents within the period reach N, or when the
 * number of domains whose latest incident lies within the period reaches
 * N. *ret_reason (optional) says which. */
gboolean mced_policy_host_degraded(const McedPolicy *p, const GArray *host_times,
                                   const gint64 *domain_latest_us, gsize n_domains,
                                   gint64 now_us, char **ret_reason);

typedef struct {
    const char *name;
    McedIncidentClass worst; /* _MCED_CLASS_INVALID: no incident */
} McedEvacuee;

/* Sorts @v into the order domains are evacuated in. */
void mced_policy_sort_evacuees(const McedPolicy *p, McedEvacuee *v, gsize n);

/* What kvm-mced --explain prints: per class, the rule that applies, the
 * ladder with current counts per threshold, and what would happen now.
 * @times_per_class entries may be NULL. */
char *mced_policy_explain(const McedPolicy *p, const char *name, const char *uuid,
                          const McedPolicyOverride *ovr,
                          const GArray *const times_per_class[_MCED_CLASS_MAX],
                          gint64 last_action_us, gint64 now_us);

G_END_DECLS
