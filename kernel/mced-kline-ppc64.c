/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ppc64 host console lines from arch/powerpc/kernel/mce.c.
 *
 * Compact format (2019 and later), four printks per event, all starting
 * "MCE: CPU<n>: " with no "mce: " prefix:
 *   machine check (<sev>) <Guest|Host|> <type> <subtype> [DAR: <ea> [paddr: <pa>] ][<disp>]
 *   PID: <tid> Comm: <comm> [Guest ]NIP: [<nip>][ paddr: <pa>]   (guest or user mode)
 *   NIP: [<nip>] <symbol>[ paddr: <pa>]                          (kernel mode)
 *   Initiator <initiator>                                        (v5.4 and later)
 *   <error class>
 * v5.4..v5.10 print "Host" for host events; later kernels print an empty
 * slot, hence two blanks. <comm> may hold blanks and '/' ("CPU 3/KVM"), so
 * the task line is anchored on its " NIP: [" suffix.
 *
 * Legacy format (before 2019), no CPU number and no PID for guests:
 *   <Sev> Machine check interrupt [<disp>]
 *     Guest NIP: <nip> | NIP: [<nip>] PID: <tid> Comm: <comm> | NIP [<nip>]: <symbol>
 *     Initiator: <initiator>
 *     Error type: <type> [<subtype>]
 *       Effective address: <ea>
 *       Physical address:  <pa>
 *
 * Subtype strings changed between kernels ("scv invalid" and "Instruction
 * fetch (foreign)" are new, "Load/Store (foreign/control memory)" appears
 * in recent logs), so subtypes are kept as printed, not checked against a
 * table. Error types are matched against the table because "Real address"
 * contains a blank.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

typedef struct {
    const char *str;
    gsize len;
} Str;

#define S(x) { x, sizeof(x) - 1 }

static const Str error_types[] = {
    S("UE"),   S("SLB"),     S("ERAT"),    S("TLB"),     S("User"),
    S("Real address"), S("Link"), S("D-Cache"), S("I-Cache"), S("Unknown"),
};

static const Str error_classes[] = {
    S("Unknown"),
    S("Hardware error"),
    S("Probable Hardware error (some chance of software cause)"),
    S("Software error"),
    S("Probable Software error (some chance of hardware cause)"),
};

typedef struct {
    Str word;
    McedSeverity severity;
} SeverityWord;

static const SeverityWord severities[] = {
    { S("Harmless"), MCED_SEVERITY_HARMLESS },
    { S("Warning"), MCED_SEVERITY_WARNING },
    { S("Severe"), MCED_SEVERITY_SEVERE },
    { S("Fatal"), MCED_SEVERITY_FATAL },
};

#undef S

static gboolean
has_prefix(const char *p, const char *end, const char *lit, gsize n)
{
    return (gsize)(end - p) >= n && memcmp(p, lit, n) == 0;
}

#define LIT(p, end, lit) has_prefix((p), (end), (lit), sizeof(lit) - 1)

static gboolean
has_suffix(const char *p, const char *end, const char *lit, gsize n)
{
    return (gsize)(end - p) >= n && memcmp(end - n, lit, n) == 0;
}

/* A blank-free hex field of 1..16 digits ending exactly at @end. */
static gboolean
hex_field(const char *p, const char *end, guint64 *ret)
{
    return mced_scan_hex(&p, end, 1, 16, ret) && p == end;
}

/* Matches "<sev>" at p for one of the table's words; returns its length. */
static gsize
match_severity(const char *p, const char *end, McedSeverity *ret)
{
    for (gsize i = 0; i < G_N_ELEMENTS(severities); i++) {
        if (has_prefix(p, end, severities[i].word.str, severities[i].word.len)) {
            *ret = severities[i].severity;
            return severities[i].word.len;
        }
    }
    return 0;
}

static McedDisposition
disposition_of(const char *p, const char *end)
{
    gsize n = (gsize)(end - p);

    if (n == 9 && memcmp(p, "Recovered", 9) == 0)
        return MCED_DISPOSITION_RECOVERED;
    if (n == 13 && memcmp(p, "Not recovered", 13) == 0)
        return MCED_DISPOSITION_NOT_RECOVERED;
    return MCED_DISPOSITION_UNKNOWN;
}

/* Strips a trailing " paddr: <hex>" off [p, *end), storing it in @k.
 * Returns 1 if found, 0 if absent, -1 if present but not a valid field. */
static int
take_paddr_suffix(McedKline *k, const char *p, const char **end)
{
    const char *e = *end, *s;
    guint64 pa;

    for (s = e; s > p && g_ascii_isxdigit(s[-1]); s--)
        ;
    if (s == e || !has_suffix(p, s, " paddr: ", 8))
        return 0;
    if (!hex_field(s, e, &pa))
        return -1;
    mced_kline_set_num(k, MCED_NUM_PA, pa);
    *end = s - 8;
    return 1;
}

/* Strips a trailing "DAR: <ea>[ paddr: <pa>]" (and the blank before it)
 * off [p, *end). Returns 1 if found, 0 if absent, -1 if malformed. */
static int
take_dar_suffix(McedKline *k, const char *p, const char **end)
{
    const char *e = *end, *s;
    int has_pa = take_paddr_suffix(k, p, &e);
    guint64 ea;

    if (has_pa < 0)
        return -1;
    for (s = e; s > p && g_ascii_isxdigit(s[-1]); s--)
        ;
    if (s == e || !has_suffix(p, s, "DAR: ", 5))
        return has_pa > 0 ? -1 : 0;
    if (!hex_field(s, e, &ea))
        return -1;
    mced_kline_set_num(k, MCED_NUM_EA, ea);
    e = s - 5;
    if (e > p) {
        if (e[-1] != ' ')
            return -1;
        e--;
    }
    *end = e;
    return 1;
}

static void
set_comm(McedKline *k, const char *comm, gsize len)
{
    guint64 vcpu;

    mced_kline_set_str(k, MCED_STR_COMM, comm, len);
    if (mced_comm_vcpu(comm, len, &vcpu))
        mced_kline_set_num(k, MCED_NUM_VCPU, vcpu);
}

/* L1: "machine check (<sev>) <slot> <type> <subtype> <dar>[<disp>]" */
static McedKlineKind
parse_summary(McedKline *k, const char *p, const char *end)
{
    const char *q, *t_end;
    gsize n;

    n = match_severity(p, end, &k->severity);
    if (n == 0)
        return mced_kline_malformed(k, "unknown machine check severity");
    p += n;
    if (!mced_scan_lit(&p, end, ") "))
        return mced_kline_malformed(k, "bad machine check summary");

    if (mced_scan_lit(&p, end, "Guest ")) {
        mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, TRUE);
    } else if (mced_scan_lit(&p, end, "Host ")) {
        mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, FALSE);
    } else if (mced_scan_lit(&p, end, " ")) {
        mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, FALSE); /* empty slot, 5.11+ */
    } else {
        return mced_kline_malformed(k, "bad machine check context");
    }

    /* The disposition closes the line. */
    if (end - p < 2 || end[-1] != ']')
        return mced_kline_malformed(k, "machine check summary without disposition");
    for (q = end - 1; q > p && q[-1] != '['; q--)
        ;
    if (q == p)
        return mced_kline_malformed(k, "machine check summary without disposition");
    k->disposition = disposition_of(q, end - 1);
    if (k->disposition == MCED_DISPOSITION_UNKNOWN)
        return mced_kline_malformed(k, "unknown machine check disposition");
    t_end = q - 1; /* at the '[' */

    /* Error type: from the table, followed by one blank. */
    for (n = 0; n < G_N_ELEMENTS(error_types); n++) {
        const Str *t = &error_types[n];
        if (has_prefix(p, t_end, t->str, t->len) && p + t->len < t_end && p[t->len] == ' ')
            break;
    }
    if (n < G_N_ELEMENTS(error_types)) {
        mced_kline_set_str(k, MCED_STR_ERROR_TYPE, p, error_types[n].len);
        p += error_types[n].len + 1;
    } else {
        /* A type this table does not know (a newer kernel): its first word. */
        for (q = p; q < t_end && *q != ' '; q++)
            ;
        if (q == p || q >= t_end)
            return mced_kline_malformed(k, "bad machine check error type");
        mced_kline_set_str(k, MCED_STR_ERROR_TYPE, p, (gsize)(q - p));
        p = q + 1;
    }

    /* What is left is "<subtype> <dar_str>" where the blank after the
     * subtype is always there and dar_str is empty or "DAR: <ea> [paddr:
     * <pa> ]", so the text ends with a blank either way. */
    if (t_end == p || t_end[-1] != ' ')
        return mced_kline_malformed(k, "bad machine check subtype");
    t_end--;
    if (take_dar_suffix(k, p, &t_end) < 0)
        return mced_kline_malformed(k, "bad DAR");
    /* Whatever DAR or paddr text is left did not parse as a field. */
    if (g_strstr_len(p, t_end - p, "DAR:") != NULL || g_strstr_len(p, t_end - p, "paddr:") != NULL)
        return mced_kline_malformed(k, "bad DAR");
    if (t_end > p && !mced_text_ok(p, t_end))
        return mced_kline_malformed(k, "control characters in subtype");
    if (t_end > p)
        mced_kline_set_str(k, MCED_STR_ERROR_SUBTYPE, p, (gsize)(t_end - p));
    return k->kind = MCED_KLINE_PPC_SUMMARY;
}

/* L2, guest or user mode: "PID: <tid> Comm: <comm> [Guest ]NIP: [<nip>][ paddr: <pa>]" */
static McedKlineKind
parse_task(McedKline *k, const char *p, const char *end)
{
    const char *e = end, *nip_open, *comm_end;
    guint64 tid, nip;
    gboolean guest;

    if (!mced_scan_dec(&p, end, G_MAXINT32, &tid) || !mced_scan_lit(&p, end, " Comm: "))
        return mced_kline_malformed(k, "bad PID line");
    if (take_paddr_suffix(k, p, &e) < 0)
        return mced_kline_malformed(k, "bad paddr");
    if (e - p < 3 || e[-1] != ']')
        return mced_kline_malformed(k, "bad PID line NIP");
    for (nip_open = e - 1; nip_open > p && nip_open[-1] != '['; nip_open--)
        ;
    if (!hex_field(nip_open, e - 1, &nip))
        return mced_kline_malformed(k, "bad PID line NIP");
    /* nip_open is just past "[": the line reads "... NIP: [" before it */
    if (!has_suffix(p, nip_open, "NIP: [", 6))
        return mced_kline_malformed(k, "bad PID line NIP");
    comm_end = nip_open - 6;
    guest = has_suffix(p, comm_end, " Guest ", 7);
    if (guest)
        comm_end -= 7;
    else if (has_suffix(p, comm_end, " ", 1))
        comm_end -= 1;
    else
        return mced_kline_malformed(k, "bad PID line");
    if ((comm_end > p && !mced_text_ok(p, comm_end)) || comm_end - p > 64)
        return mced_kline_malformed(k, "bad task name");

    mced_kline_set_num(k, MCED_NUM_TID, tid);
    set_comm(k, p, (gsize)(comm_end - p));
    mced_kline_set_num(k, MCED_NUM_NIP, nip);
    mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, guest);
    return k->kind = MCED_KLINE_PPC_TASK;
}

/* L2, kernel mode: "NIP: [<nip>] <symbol>[ paddr: <pa>]" */
static McedKlineKind
parse_kernel_nip(McedKline *k, const char *p, const char *end)
{
    const char *e = end;
    guint64 nip;

    if (!mced_scan_hex(&p, end, 1, 16, &nip) || !mced_scan_lit(&p, end, "] "))
        return mced_kline_malformed(k, "bad NIP line");
    if (take_paddr_suffix(k, p, &e) < 0)
        return mced_kline_malformed(k, "bad paddr");
    if (!mced_text_ok(p, e))
        return mced_kline_malformed(k, "bad NIP symbol");
    mced_kline_set_num(k, MCED_NUM_NIP, nip);
    mced_kline_set_str(k, MCED_STR_SYMBOL, p, (gsize)(e - p));
    mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, FALSE);
    return k->kind = MCED_KLINE_PPC_KNIP;
}

static gboolean
match_class(const char *p, const char *end)
{
    gsize n = (gsize)(end - p);

    for (gsize i = 0; i < G_N_ELEMENTS(error_classes); i++) {
        /* 2019 kernels spelled "software" in lower case. */
        if (error_classes[i].len == n
            && (memcmp(p, error_classes[i].str, n) == 0
                || g_ascii_strncasecmp(p, error_classes[i].str, n) == 0))
            return TRUE;
    }
    return FALSE;
}

static McedKlineKind
parse_compact(McedKline *k, const char *p, const char *end)
{
    guint64 cpu;

    if (!mced_scan_dec(&p, end, G_MAXINT32, &cpu) || !mced_scan_lit(&p, end, ": "))
        return mced_kline_malformed(k, "bad MCE CPU number");
    k->host_cpu = (gint)cpu;
    mced_kline_set_num(k, MCED_NUM_HOST_CPU, cpu);

    if (mced_scan_lit(&p, end, "machine check ("))
        return parse_summary(k, p, end);
    if (mced_scan_lit(&p, end, "PID: "))
        return parse_task(k, p, end);
    if (mced_scan_lit(&p, end, "NIP: ["))
        return parse_kernel_nip(k, p, end);
    if (mced_scan_lit(&p, end, "Initiator ")) {
        if (!mced_text_ok(p, end) || end - p > 32)
            return mced_kline_malformed(k, "bad initiator");
        mced_kline_set_str(k, MCED_STR_INITIATOR, p, (gsize)(end - p));
        return k->kind = MCED_KLINE_PPC_INITIATOR;
    }
    if (match_class(p, end)) {
        mced_kline_set_str(k, MCED_STR_ERROR_CLASS, p, (gsize)(end - p));
        return k->kind = MCED_KLINE_PPC_CLASS;
    }
    return mced_kline_malformed(k, "unknown MCE line");
}

/* "<Sev> Machine check interrupt [<disp>]"; very old kernels print no
 * word for warnings and one "[" too many for "Not recovered". */
static McedKlineKind
parse_legacy_head(McedKline *k, const char *p, const char *end)
{
    McedSeverity sev = MCED_SEVERITY_WARNING;
    gsize n = match_severity(p, end, &sev);
    const char *q;

    if (n > 0) {
        p += n;
        if (!mced_scan_lit(&p, end, " "))
            return MCED_KLINE_NONE;
    }
    if (!mced_scan_lit(&p, end, "Machine check interrupt ["))
        return MCED_KLINE_NONE; /* "Harmless Hypervisor Maintenance interrupt", ... */
    mced_scan_lit(&p, end, "[");
    if (p >= end || end[-1] != ']')
        return mced_kline_malformed(k, "bad machine check interrupt line");
    q = end - 1;
    k->severity = sev;
    k->disposition = disposition_of(p, q);
    if (k->disposition == MCED_DISPOSITION_UNKNOWN)
        return mced_kline_malformed(k, "unknown machine check disposition");
    return k->kind = MCED_KLINE_PPC_LEGACY_HEAD;
}

/* "Error type: <type> [<subtype>]" or "Error type: Unknown" */
static McedKlineKind
parse_legacy_error_type(McedKline *k, const char *p, const char *end)
{
    const char *open;

    if (!mced_text_ok(p, end))
        return mced_kline_malformed(k, "bad error type");
    if (end[-1] == ']') {
        for (open = p; open < end && *open != '['; open++)
            ;
        if (open == end || open == p || open[-1] != ' ' || open + 1 >= end - 1)
            return mced_kline_malformed(k, "bad error type");
        mced_kline_set_str(k, MCED_STR_ERROR_TYPE, p, (gsize)(open - 1 - p));
        mced_kline_set_str(k, MCED_STR_ERROR_SUBTYPE, open + 1, (gsize)(end - 1 - (open + 1)));
    } else {
        mced_kline_set_str(k, MCED_STR_ERROR_TYPE, p, (gsize)(end - p));
    }
    return k->kind = MCED_KLINE_PPC_LEGACY_ERROR_TYPE;
}

static McedKlineKind
parse_legacy_address(McedKline *k, const char *p, const char *end, McedNum which,
                     McedKlineKind kind)
{
    guint64 v;

    while (p < end && *p == ' ')
        p++;
    if (!hex_field(p, end, &v))
        return mced_kline_malformed(k, "bad address");
    mced_kline_set_num(k, which, v);
    return k->kind = kind;
}

static McedKlineKind
parse_legacy_nip(McedKline *k, const char *p, const char *end)
{
    guint64 nip, tid;

    if (mced_scan_lit(&p, end, "NIP: [")) {
        /* user mode: "NIP: [<nip>] PID: <tid> Comm: <comm>" */
        if (!mced_scan_hex(&p, end, 1, 16, &nip) || !mced_scan_lit(&p, end, "] PID: ")
            || !mced_scan_dec(&p, end, G_MAXINT32, &tid) || !mced_scan_lit(&p, end, " Comm: ")
            || (end > p && !mced_text_ok(p, end)) || end - p > 64)
            return mced_kline_malformed(k, "bad NIP line");
        mced_kline_set_num(k, MCED_NUM_NIP, nip);
        mced_kline_set_num(k, MCED_NUM_TID, tid);
        set_comm(k, p, (gsize)(end - p));
        mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, FALSE);
        return k->kind = MCED_KLINE_PPC_LEGACY_USER_NIP;
    }
    if (mced_scan_lit(&p, end, "NIP [")) {
        /* kernel mode "NIP [<nip>]: <symbol>"; an oops prints "NIP [<nip>] <symbol>" */
        if (!mced_scan_hex(&p, end, 1, 16, &nip) || !mced_scan_lit(&p, end, "]: "))
            return MCED_KLINE_NONE;
        if (!mced_text_ok(p, end))
            return mced_kline_malformed(k, "bad NIP symbol");
        mced_kline_set_num(k, MCED_NUM_NIP, nip);
        mced_kline_set_str(k, MCED_STR_SYMBOL, p, (gsize)(end - p));
        mced_kline_set_bool(k, MCED_BOOL_IN_GUEST, FALSE);
        return k->kind = MCED_KLINE_PPC_LEGACY_KERNEL_NIP;
    }
    return MCED_KLINE_NONE; /* "NIP:  c000... LR: ..." register dumps and the like */
}

static McedKlineKind
parse_notice(McedKline *k, const char *p, const char *end)
{
    static const char unknown_version[] = "Machine Check Exception, Unknown event version ";
    static const char no_address[] =
        "Failed to identify bad address from where the uncorrectable error (UE) was generated";

    if (LIT(p, end, unknown_version)) {
        mced_kline_set_str(k, MCED_STR_MESSAGE, p, (gsize)(end - p));
        return k->kind = MCED_KLINE_PPC_NOTICE;
    }
    if (LIT(p, end, no_address)) {
        mced_kline_set_str(k, MCED_STR_MESSAGE, p, (gsize)(end - p));
        mced_kline_set_str(k, MCED_STR_ERROR_TYPE, "UE", 2);
        return k->kind = MCED_KLINE_PPC_NOTICE;
    }
    return MCED_KLINE_NONE;
}

McedKlineKind
mced_kline_parse_ppc64(const char *msg, gsize len, McedKline *out)
{
    const char *p = msg, *end = msg + len;

    while (p < end && (*p == ' ' || *p == '\t'))
        p++;

    switch (p < end ? *p : '\0') {
    case 'M':
        if (mced_scan_lit(&p, end, "MCE: CPU"))
            return parse_compact(out, p, end);
        return parse_legacy_head(out, p, end);
    case 'm':
        if (mced_scan_lit(&p, end, "mce: "))
            return parse_notice(out, p, end);
        return MCED_KLINE_NONE;
    case 'S':
    case 'F':
    case 'W':
    case 'H':
        return parse_legacy_head(out, p, end);
    case 'G':
        if (!mced_scan_lit(&p, end, "Guest NIP: "))
            return MCED_KLINE_NONE;
        {
            McedKlineKind kind = parse_legacy_address(out, p, end, MCED_NUM_NIP,
                                                      MCED_KLINE_PPC_LEGACY_GUEST_NIP);
            if (kind == MCED_KLINE_PPC_LEGACY_GUEST_NIP)
                mced_kline_set_bool(out, MCED_BOOL_IN_GUEST, TRUE);
            return kind;
        }
    case 'N':
        return parse_legacy_nip(out, p, end);
    case 'I':
        if (!mced_scan_lit(&p, end, "Initiator: "))
            return MCED_KLINE_NONE;
        if (!mced_text_ok(p, end) || end - p > 32)
            return mced_kline_malformed(out, "bad initiator");
        mced_kline_set_str(out, MCED_STR_INITIATOR, p, (gsize)(end - p));
        return out->kind = MCED_KLINE_PPC_LEGACY_INITIATOR;
    case 'E':
        if (mced_scan_lit(&p, end, "Error type: "))
            return parse_legacy_error_type(out, p, end);
        if (mced_scan_lit(&p, end, "Effective address: "))
            return parse_legacy_address(out, p, end, MCED_NUM_EA, MCED_KLINE_PPC_LEGACY_EA);
        return MCED_KLINE_NONE;
    case 'P':
        if (mced_scan_lit(&p, end, "Physical address: "))
            return parse_legacy_address(out, p, end, MCED_NUM_PA, MCED_KLINE_PPC_LEGACY_PA);
        return MCED_KLINE_NONE;
    default:
        return MCED_KLINE_NONE;
    }
}
