/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recognising and parsing single kernel console lines (and QEMU's own log
 * lines) about machine checks.
 *
 * mced_kline_parse() takes one message as the kernel printed it (no printk
 * timestamp, no syslog prefix: see mced-text.h for stripping those) and
 * fills a McedKline. It never allocates: strings are slices of the input.
 * Lines that are not about machine checks (nearly all of them) are turned
 * away after looking at a few bytes.
 */
#pragma once

#include <glib.h>
#include <string.h>

#include "mced-observation.h"

G_BEGIN_DECLS

/* Longest message the parsers look at; longer ones that pass the prefilter
 * are reported as malformed ("line too long"). Real lines are < 200 bytes. */
#define MCED_KLINE_MAX_LEN 1024

typedef enum {
    MCED_KLINE_NONE,      /* not about machine checks */
    MCED_KLINE_MALFORMED, /* starts like a machine-check line, does not parse */
    MCED_KLINE_INFO,      /* recognised, carries nothing worth recording */

    /* ppc64 compact format (2019+): "MCE: CPU<n>: ..." keyed by host CPU */
    MCED_KLINE_PPC_SUMMARY,   /* L1: machine check (<sev>) <Guest|Host|> type subtype ... */
    MCED_KLINE_PPC_TASK,      /* L2: PID: <tid> Comm: <comm> [Guest ]NIP: [...] */
    MCED_KLINE_PPC_KNIP,      /* L2: NIP: [...] <symbol> (kernel mode) */
    MCED_KLINE_PPC_INITIATOR, /* L3: Initiator <x> */
    MCED_KLINE_PPC_CLASS,     /* L4: error class, the last line of a record */

    /* ppc64 legacy multi-line format (before 2019), assembled by adjacency */
    MCED_KLINE_PPC_LEGACY_HEAD,       /* "<Sev> Machine check interrupt [<disp>]" */
    MCED_KLINE_PPC_LEGACY_GUEST_NIP,  /* "Guest NIP: <nip>" */
    MCED_KLINE_PPC_LEGACY_USER_NIP,   /* "NIP: [<nip>] PID: <tid> Comm: <comm>" */
    MCED_KLINE_PPC_LEGACY_KERNEL_NIP, /* "NIP [<nip>]: <symbol>" */
    MCED_KLINE_PPC_LEGACY_INITIATOR,  /* "Initiator: <x>" */
    MCED_KLINE_PPC_LEGACY_ERROR_TYPE, /* "Error type: <type> [<subtype>]" */
    MCED_KLINE_PPC_LEGACY_EA,         /* "Effective address: <ea>" */
    MCED_KLINE_PPC_LEGACY_PA,         /* "Physical address:  <pa>" */

    /* ppc64 "mce: " pr_* notices: a single-line event */
    MCED_KLINE_PPC_NOTICE,

    /* x86 "mce: [Hardware Error]: " block, assembled by adjacency */
    MCED_KLINE_X86_HEADER,    /* CPU <n>: Machine Check[ Exception]: <mcgstatus> Bank <b>: <status> */
    MCED_KLINE_X86_RIP,       /* RIP[ !INEXACT!] <cs>:<ip> [{sym}] */
    MCED_KLINE_X86_TSC,       /* TSC <x> [ADDR ..] [MISC ..] [PPIN ..] [SYND ..] [IPID ..] ... */
    MCED_KLINE_X86_PROCESSOR, /* PROCESSOR <v>:<cpuid> TIME <t> SOCKET <s> APIC <a> microcode <m> */
    MCED_KLINE_X86_TAIL,      /* "Run the above through 'mcelog --ascii'" */
    MCED_KLINE_X86_PANIC,     /* "Machine check: <reason>" */
    /* x86 single-line events */
    MCED_KLINE_X86_EVENT,     /* "mce: Uncorrected hardware memory error in user-access at <pa>",
                               * "mce: Memory error not recovered", ... */

    /* "Memory failure: <pfn>: ..." and the old "MCE: Killing <comm>:<pid> ..." */
    MCED_KLINE_MEMORY_FAILURE,

    /* QEMU's own stderr lines (domain log, or mixed into a text log) */
    MCED_KLINE_QEMU_MEMORY_ERROR,
    MCED_KLINE_QEMU_FWNMI,

    _MCED_KLINE_KIND_MAX,
    _MCED_KLINE_KIND_INVALID = -1,
} McedKlineKind;

/* A slice of the input message. */
typedef struct {
    const char *ptr;
    gsize len;
} McedSlice;

typedef struct {
    McedKlineKind kind;
    gint host_cpu;               /* compact ppc64 lines: the key; else -1 */
    McedSeverity severity;
    McedDisposition disposition;
    guint64 num[_MCED_NUM_MAX];
    guint64 num_present;
    McedSlice str[_MCED_STR_MAX];
    guint32 str_present;
    guint32 bool_present;
    guint32 bool_value;
    const char *malformed_reason; /* static string, for MCED_KLINE_MALFORMED */
} McedKline;

McedKlineKind mced_kline_parse(const char *msg, gsize len, McedKline *out);

const char *mced_kline_kind_to_string(McedKlineKind k);

/* Per-family parsers, called by mced_kline_parse() after its prefilter.
 * Each returns the kind it set in @out (MCED_KLINE_NONE if the line is not
 * its business). Exposed for unit tests. */
McedKlineKind mced_kline_parse_ppc64(const char *msg, gsize len, McedKline *out);
McedKlineKind mced_kline_parse_x86(const char *msg, gsize len, McedKline *out);
McedKlineKind mced_kline_parse_memory_failure(const char *msg, gsize len, McedKline *out);
McedKlineKind mced_kline_parse_qemu(const char *msg, gsize len, McedKline *out);

/* Helpers shared by the per-family parsers (mced-kline.c). */
void mced_kline_reset(McedKline *k);
McedKlineKind mced_kline_malformed(McedKline *k, const char *reason);
void mced_kline_set_num(McedKline *k, McedNum n, guint64 v);
void mced_kline_set_str(McedKline *k, McedStr s, const char *ptr, gsize len);
void mced_kline_set_bool(McedKline *k, McedBool b, gboolean v);
/* vCPU index from a QEMU thread name "CPU <n>/KVM" (also /TCG, /HVF...). */
gboolean mced_comm_vcpu(const char *comm, gsize len, guint64 *ret_vcpu);

/* Strict number scanning over a bounded buffer. Each consumes from *p up to
 * end, rejects overflow, and returns FALSE with *p unchanged on failure. */
gboolean mced_scan_dec(const char **p, const char *end, guint64 max, guint64 *ret);
gboolean mced_scan_hex(const char **p, const char *end, guint min_digits, guint max_digits,
                       guint64 *ret);
/* "0x" followed by hex digits */
gboolean mced_scan_0xhex(const char **p, const char *end, guint64 *ret);
/* mced_scan_lit() for a literal ending in blanks that also matches when the
 * line was cut right after its words (trailing blanks already trimmed), so
 * that the caller reports the cut line as malformed instead of missing it. */
gboolean mced_scan_head(const char **p, const char *end, const char *lit);
/* End of [msg, end) without trailing blanks and CR/LF. */
const char *mced_trim_end(const char *msg, const char *end);
/* Text worth keeping as a slice: non-empty, no NUL or control bytes. */
gboolean mced_text_ok(const char *p, const char *end);
/* Set a string slot to a static string. */
void mced_kline_set_text(McedKline *k, McedStr s, const char *text);

/* Inline so that strlen() of a literal folds to a constant. */
static inline gboolean
mced_scan_lit(const char **p, const char *end, const char *lit)
{
    gsize n = strlen(lit);

    if ((gsize)(end - *p) < n || memcmp(*p, lit, n) != 0)
        return FALSE;
    *p += n;
    return TRUE;
}

G_END_DECLS
