/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * McedObservation: one machine-check event as seen by one source (a
 * multi-line kernel record, one memory-failure line, one QEMU log line, or
 * later one QMP event). It is built once, then frozen and shared by
 * reference count; nobody modifies a frozen observation.
 *
 * Values are kept in small tables indexed by enums (numbers, strings,
 * booleans) with a bit per slot saying whether the value is known, so that
 * "unknown" is never confused with 0 and every consumer (JSON, journal
 * fields, D-Bus) walks one table instead of a long list of members.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    MCED_OBS_PPC64_MCE,         /* ppc64 host console record (compact or legacy) */
    MCED_OBS_X86_MCE,           /* x86 "mce: [Hardware Error]:" record and mce: notices */
    MCED_OBS_MEMORY_FAILURE,    /* "Memory failure: <pfn>: ..." and "MCE: Killing ..." */
    MCED_OBS_QEMU_MEMORY_ERROR, /* QEMU's own x86 SIGBUS handling lines */
    MCED_OBS_QEMU_FWNMI,        /* QEMU's own ppc64 FWNMI delivery failures */
    MCED_OBS_QMP,               /* a QMP event relayed by libvirt (lib/) */
    MCED_OBS_DRILL,             /* made up on an operator's request (lib/): synthetic */
    _MCED_OBS_KIND_MAX,
    _MCED_OBS_KIND_INVALID = -1,
} McedObsKind;

typedef enum {
    MCED_SEVERITY_UNKNOWN,
    MCED_SEVERITY_HARMLESS,
    MCED_SEVERITY_WARNING,
    MCED_SEVERITY_SEVERE,
    MCED_SEVERITY_FATAL,
    _MCED_SEVERITY_MAX,
    _MCED_SEVERITY_INVALID = -1,
} McedSeverity;

typedef enum {
    MCED_DISPOSITION_UNKNOWN,
    MCED_DISPOSITION_RECOVERED,
    MCED_DISPOSITION_NOT_RECOVERED,
    _MCED_DISPOSITION_MAX,
    _MCED_DISPOSITION_INVALID = -1,
} McedDisposition;

/* Numeric values. Each has a JSON key and a presentation (decimal or hex). */
typedef enum {
    MCED_NUM_HOST_CPU,  /* host CPU the kernel reported (ppc paca index, x86 extcpu) */
    MCED_NUM_TID,       /* kernel pid of the task named on the line: a thread id */
    MCED_NUM_PID,       /* process (thread group) id, when known */
    MCED_NUM_VCPU,      /* guest vCPU index, from a "CPU <n>/KVM" thread name */
    MCED_NUM_EA,        /* effective (virtual) address */
    MCED_NUM_PA,        /* physical address (guest physical for QEMU lines) */
    MCED_NUM_PFN,       /* page frame number (memory failure) */
    MCED_NUM_NIP,       /* ppc next instruction pointer (srr0) */
    MCED_NUM_BANK,      /* x86 MCA bank */
    MCED_NUM_STATUS,    /* x86 MCi_STATUS */
    MCED_NUM_MCGSTATUS, /* x86 MCG_STATUS */
    MCED_NUM_CS,        /* x86 code segment of RIP */
    MCED_NUM_IP,        /* x86 RIP */
    MCED_NUM_TSC,
    MCED_NUM_MISC,
    MCED_NUM_PPIN,
    MCED_NUM_SYND,
    MCED_NUM_SYND1,
    MCED_NUM_SYND2,
    MCED_NUM_IPID,
    MCED_NUM_CONFIG,
    MCED_NUM_CPUVENDOR,
    MCED_NUM_CPUID,
    MCED_NUM_TIME,      /* x86 m->time: wall clock seconds at logging */
    MCED_NUM_SOCKET,
    MCED_NUM_APIC,
    MCED_NUM_MICROCODE,
    MCED_NUM_QEMU_ADDR, /* host virtual address inside QEMU */
    MCED_NUM_USERS,     /* memory failure: "still referenced by N users" */
    _MCED_NUM_MAX,
    _MCED_NUM_INVALID = -1,
} McedNum;

typedef enum {
    MCED_STR_ERROR_TYPE,    /* ppc err_type ("UE", "SLB", ...); x86 "memory", ... */
    MCED_STR_ERROR_SUBTYPE, /* ppc subtype ("Load/Store", "Multihit", ...) */
    MCED_STR_COMM,          /* task name, may contain spaces and '/' */
    MCED_STR_FORMAT,        /* which kernel print format the record came in */
    MCED_STR_SYMBOL,        /* kernel symbol of NIP/RIP ("memcpy+0x40/0x90") */
    MCED_STR_INITIATOR,     /* ppc initiator */
    MCED_STR_ERROR_CLASS,   /* ppc error class line */
    MCED_STR_PAGE_TYPE,     /* memory failure page type */
    MCED_STR_RESULT,        /* memory failure result ("Recovered", ...) */
    MCED_STR_ACTION,        /* what the line reports: "sigbus", "recovery", ... */
    MCED_STR_MESSAGE,       /* free text the line carries (panic reason, QEMU text) */
    MCED_STR_SIGNAL_CODE,   /* BUS_MCEERR_AR / BUS_MCEERR_AO */
    MCED_STR_PROGRAM,       /* QEMU program name prefix ("qemu-system-x86_64") */
    MCED_STR_GUEST_NAME,    /* QEMU "-msg guest-name=on" prefix */
    MCED_STR_EVENT,         /* QMP event name (lib/) */
    MCED_STR_DOMAIN,        /* libvirt domain name (lib/) */
    MCED_STR_RECIPIENT,     /* QMP MEMORY_FAILURE recipient (lib/) */
    _MCED_STR_MAX,
    _MCED_STR_INVALID = -1,
} McedStr;

typedef enum {
    MCED_BOOL_IN_GUEST,        /* event hit guest context */
    MCED_BOOL_EXCEPTION,       /* x86: MCG_STATUS.MCIP ("Machine Check Exception") */
    MCED_BOOL_IP_INEXACT,      /* x86: RIP !INEXACT! */
    MCED_BOOL_ACTION_REQUIRED, /* QMP flags */
    MCED_BOOL_RECURSIVE,       /* QMP flags */
    MCED_BOOL_MIGRATION,       /* QEMU: MCE arrived during migration */
    MCED_BOOL_SYNTHETIC,       /* a drill, not a real machine check */
    _MCED_BOOL_MAX,
    _MCED_BOOL_INVALID = -1,
} McedBool;

typedef struct McedObservation McedObservation;

struct McedObservation {
    /*< read-only once frozen >*/
    McedObsKind kind;
    McedSeverity severity;
    McedDisposition disposition;
    gint64 realtime_us;  /* wall clock of the first line, 0 when unknown */
    gint64 monotonic_us; /* monotonic time of the first line, 0 when unknown */
    char *cursor;        /* identity of the first line: journal cursor, file:line */
    guint64 num[_MCED_NUM_MAX];
    guint64 num_present;
    char *str[_MCED_STR_MAX];
    guint32 bool_present;
    guint32 bool_value;
    GPtrArray *lines;    /* raw lines (char *), at most MCED_OBS_MAX_LINES */
    gboolean lines_truncated;
    gboolean frozen;
};

/* Bounds on what one observation can hold, whatever the input. */
#define MCED_OBS_MAX_LINES    16
#define MCED_OBS_MAX_LINE_LEN 1024

McedObservation *mced_observation_new(McedObsKind kind);
McedObservation *mced_observation_ref(McedObservation *obs);
void mced_observation_unref(McedObservation *obs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedObservation, mced_observation_unref)

/* Builders: only valid before mced_observation_freeze(). */
void mced_observation_set_num(McedObservation *obs, McedNum n, guint64 v);
void mced_observation_set_str(McedObservation *obs, McedStr s, const char *v, gssize len);
void mced_observation_set_bool(McedObservation *obs, McedBool b, gboolean v);
void mced_observation_add_line(McedObservation *obs, const char *line, gsize len);
void mced_observation_freeze(McedObservation *obs);

static inline gboolean
mced_observation_has_num(const McedObservation *obs, McedNum n)
{
    return (obs->num_present & (G_GUINT64_CONSTANT(1) << n)) != 0;
}

static inline gboolean
mced_observation_has_bool(const McedObservation *obs, McedBool b)
{
    return (obs->bool_present & (1u << b)) != 0;
}

static inline gboolean
mced_observation_get_bool(const McedObservation *obs, McedBool b)
{
    return (obs->bool_value & (1u << b)) != 0;
}

/* A drill's observation (MCED_BOOL_SYNTHETIC set and true). */
static inline gboolean
mced_observation_is_synthetic(const McedObservation *obs)
{
    return mced_observation_has_bool(obs, MCED_BOOL_SYNTHETIC)
           && mced_observation_get_bool(obs, MCED_BOOL_SYNTHETIC);
}

/* A copy of [s, s+len) cut to at most @max bytes of input, with NUL and
 * other control bytes written as "\xNN" so that nothing is shortened
 * silently and the result is one printable line (safe on a terminal). */
char *mced_escape_line(const char *s, gsize len, gsize max);

/* String tables. Each returns NULL for an out-of-range value. */
const char *mced_obs_kind_to_string(McedObsKind k);
McedObsKind mced_obs_kind_from_string(const char *s);
const char *mced_severity_to_string(McedSeverity s); /* NULL for UNKNOWN */
McedSeverity mced_severity_from_string(const char *s);
const char *mced_disposition_to_string(McedDisposition d); /* NULL for UNKNOWN */
McedDisposition mced_disposition_from_string(const char *s);
const char *mced_num_key(McedNum n);
gboolean mced_num_is_hex(McedNum n);
gboolean mced_num_is_required(McedNum n); /* always printed, null when unknown */
const char *mced_str_key(McedStr s);
gboolean mced_str_is_required(McedStr s);
const char *mced_bool_key(McedBool b);
gboolean mced_bool_is_required(McedBool b);

G_END_DECLS
