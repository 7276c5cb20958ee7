/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 machine-check console lines (arch/x86/kernel/cpu/mce/core.c).
 *
 * __print_mce() prints a block of up to five "[Hardware Error]: " lines
 * with pr_fmt "mce: " (older kernels: "core: "); the assembler joins them by
 * adjacency. kill_me_maybe() and the !CONFIG_MEMORY_FAILURE path print
 * single-line "mce: " events. Every other "mce: " line (bank counts, CMCI
 * storms, injector chatter) is not ours.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

#define MCI_STATUS_UC  (G_GUINT64_CONSTANT(1) << 61)
#define MCI_STATUS_PCC (G_GUINT64_CONSTANT(1) << 57)

typedef McedKlineKind (*LineParser)(const char *p, const char *end, McedKline *out);

/* The architectural MCA error code (SDM vol. 3B, "Interpreting the MCA Error
 * Codes"): simple codes first, then the compound classes by their leading
 * bits. Bit 12 is the corrected-error filtering bit and is ignored. */
static const char *
error_code_class(guint64 status)
{
    static const struct {
        guint16 mask;
        guint16 value;
        const char *name;
    } classes[] = {
        { 0xffff, 0x0000, "none" },
        { 0xffff, 0x0001, "unclassified" },
        { 0xffff, 0x0002, "microcode-rom-parity" },
        { 0xffff, 0x0003, "external" },
        { 0xffff, 0x0004, "frc" },
        { 0xffff, 0x0005, "internal-parity" },
        { 0xffff, 0x0400, "internal-timer" },
        { 0xfc00, 0x0400, "internal" }, /* 0000 01xx xxxx xxxx */
        { 0xfff0, 0x0010, "tlb" },      /* 0000 0000 0001 TTLL */
        { 0xff80, 0x0080, "memory" },   /* 0000 0000 1MMM CCCC */
        { 0xff00, 0x0100, "cache" },    /* 0000 0001 RRRR TTLL */
        { 0xf800, 0x0800, "bus" },      /* 0000 1PPT RRRR IILL */
    };
    guint16 code = (guint16)(status & 0xefff);

    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++)
        if ((code & classes[i].mask) == classes[i].value)
            return classes[i].name;
    return "other";
}

/* "CPU %d: Machine Check%s: %Lx Bank %d: %016Lx" */
static McedKlineKind
parse_header(const char *p, const char *end, McedKline *out)
{
    guint64 cpu, mcgstatus, bank, status;
    gboolean exception;

    if (!mced_scan_dec(&p, end, G_MAXINT32, &cpu))
        return mced_kline_malformed(out, "bad CPU number");
    if (!mced_scan_lit(&p, end, ": Machine Check"))
        return mced_kline_malformed(out, "bad x86 header line");
    exception = mced_scan_lit(&p, end, " Exception");
    if (!mced_scan_lit(&p, end, ": ") || !mced_scan_hex(&p, end, 1, 16, &mcgstatus))
        return mced_kline_malformed(out, "bad MCG_STATUS");
    if (!mced_scan_lit(&p, end, " Bank ") || !mced_scan_dec(&p, end, G_MAXUINT8, &bank))
        return mced_kline_malformed(out, "bad bank number");
    if (!mced_scan_lit(&p, end, ": ") || !mced_scan_hex(&p, end, 16, 16, &status))
        return mced_kline_malformed(out, "bad MCi_STATUS");
    if (p != end)
        return mced_kline_malformed(out, "trailing junk after MCi_STATUS");

    out->host_cpu = (gint)cpu;
    mced_kline_set_num(out, MCED_NUM_HOST_CPU, cpu);
    mced_kline_set_bool(out, MCED_BOOL_EXCEPTION, exception);
    mced_kline_set_num(out, MCED_NUM_MCGSTATUS, mcgstatus);
    mced_kline_set_num(out, MCED_NUM_BANK, bank);
    mced_kline_set_num(out, MCED_NUM_STATUS, status);
    mced_kline_set_text(out, MCED_STR_ERROR_TYPE, error_code_class(status));
    if ((status & MCI_STATUS_UC) == 0) {
        out->severity = MCED_SEVERITY_WARNING;
        out->disposition = MCED_DISPOSITION_RECOVERED;
    } else if ((status & MCI_STATUS_PCC) != 0) {
        out->severity = MCED_SEVERITY_FATAL;
        out->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    } else {
        out->severity = MCED_SEVERITY_SEVERE;
    }
    out->kind = MCED_KLINE_X86_HEADER;
    return out->kind;
}

/* "RIP%s %02x:<%016Lx> " and, for kernel CS, "{%pS}" */
static McedKlineKind
parse_rip(const char *p, const char *end, McedKline *out)
{
    guint64 cs, ip;
    gboolean inexact;
    const char *sym = NULL;

    inexact = mced_scan_lit(&p, end, " !INEXACT!");
    if (!mced_scan_lit(&p, end, " ") || !mced_scan_hex(&p, end, 2, 4, &cs))
        return mced_kline_malformed(out, "bad RIP code segment");
    if (!mced_scan_lit(&p, end, ":<") || !mced_scan_hex(&p, end, 16, 16, &ip) ||
        !mced_scan_lit(&p, end, ">"))
        return mced_kline_malformed(out, "bad RIP address");
    if (p != end) {
        if (!mced_scan_lit(&p, end, " {") || end[-1] != '}' || !mced_text_ok(p, end - 1))
            return mced_kline_malformed(out, "bad RIP symbol");
        sym = p;
    }

    mced_kline_set_bool(out, MCED_BOOL_IP_INEXACT, inexact);
    mced_kline_set_num(out, MCED_NUM_CS, cs);
    mced_kline_set_num(out, MCED_NUM_IP, ip);
    if (sym != NULL)
        mced_kline_set_str(out, MCED_STR_SYMBOL, sym, (gsize)(end - 1 - sym));
    out->kind = MCED_KLINE_X86_RIP;
    return out->kind;
}

/* "TSC %llx " then the optional fields, each printed only when non-zero,
 * always in this order. The line normally ends with a space (trimmed). */
static McedKlineKind
parse_tsc(const char *p, const char *end, McedKline *out)
{
    static const struct {
        const char *lit;
        McedNum num;
    } fields[] = {
        { "ADDR ", MCED_NUM_PA },     { "MISC ", MCED_NUM_MISC },
        { "PPIN ", MCED_NUM_PPIN },   { "SYND ", MCED_NUM_SYND },
        { "SYND1 ", MCED_NUM_SYND1 }, { "SYND2 ", MCED_NUM_SYND2 },
        { "IPID ", MCED_NUM_IPID },   { "CONFIG ", MCED_NUM_CONFIG },
    };
    guint64 v;
    gsize next = 0;

    if (!mced_scan_hex(&p, end, 1, 16, &v))
        return mced_kline_malformed(out, "bad TSC");
    mced_kline_set_num(out, MCED_NUM_TSC, v);

    while (p != end) {
        gsize i;

        if (!mced_scan_lit(&p, end, " "))
            return mced_kline_malformed(out, "trailing junk in TSC line");
        for (i = next; i < G_N_ELEMENTS(fields); i++)
            if (mced_scan_lit(&p, end, fields[i].lit))
                break;
        if (i == G_N_ELEMENTS(fields))
            return mced_kline_malformed(out, "unknown or repeated field in TSC line");
        if (!mced_scan_hex(&p, end, 1, 16, &v))
            return mced_kline_malformed(out, "bad number in TSC line");
        mced_kline_set_num(out, fields[i].num, v);
        next = i + 1;
    }
    out->kind = MCED_KLINE_X86_TSC;
    return out->kind;
}

/* "PROCESSOR %u:%x TIME %llu SOCKET %u APIC %x microcode %x" */
static McedKlineKind
parse_processor(const char *p, const char *end, McedKline *out)
{
    guint64 vendor, cpuid, time, socket, apic, microcode;

    if (!mced_scan_dec(&p, end, G_MAXUINT32, &vendor) || !mced_scan_lit(&p, end, ":") ||
        !mced_scan_hex(&p, end, 1, 8, &cpuid) || !mced_scan_lit(&p, end, " TIME ") ||
        !mced_scan_dec(&p, end, G_MAXUINT64, &time) || !mced_scan_lit(&p, end, " SOCKET ") ||
        !mced_scan_dec(&p, end, G_MAXUINT32, &socket) || !mced_scan_lit(&p, end, " APIC ") ||
        !mced_scan_hex(&p, end, 1, 8, &apic) || !mced_scan_lit(&p, end, " microcode ") ||
        !mced_scan_hex(&p, end, 1, 8, &microcode))
        return mced_kline_malformed(out, "bad PROCESSOR line");
    if (p != end)
        return mced_kline_malformed(out, "trailing junk in PROCESSOR line");

    mced_kline_set_num(out, MCED_NUM_CPUVENDOR, vendor);
    mced_kline_set_num(out, MCED_NUM_CPUID, cpuid);
    mced_kline_set_num(out, MCED_NUM_TIME, time);
    mced_kline_set_num(out, MCED_NUM_SOCKET, socket);
    mced_kline_set_num(out, MCED_NUM_APIC, apic);
    mced_kline_set_num(out, MCED_NUM_MICROCODE, microcode);
    out->kind = MCED_KLINE_X86_PROCESSOR;
    return out->kind;
}

static McedKlineKind
parse_tail(const char *p, const char *end, McedKline *out)
{
    if (p != end)
        return mced_kline_malformed(out, "trailing junk after mcelog hint");
    out->kind = MCED_KLINE_X86_TAIL;
    return out->kind;
}

/* "Machine check: %s": the reason mce_panic() or mce_severity() gave */
static McedKlineKind
parse_panic(const char *p, const char *end, McedKline *out)
{
    if (!mced_text_ok(p, end))
        return mced_kline_malformed(out, "bad machine check panic reason");
    mced_kline_set_str(out, MCED_STR_MESSAGE, p, (gsize)(end - p));
    out->severity = MCED_SEVERITY_FATAL;
    out->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    out->kind = MCED_KLINE_X86_PANIC;
    return out->kind;
}

/* A fixed sentence: nothing may follow it. */
static McedKlineKind
parse_info_exact(const char *p, const char *end, McedKline *out)
{
    if (p != end)
        return mced_kline_malformed(out, "unknown [Hardware Error] line");
    out->kind = MCED_KLINE_INFO;
    return out->kind;
}

static McedKlineKind
parse_info_text(const char *p, const char *end, McedKline *out)
{
    out->kind = MCED_KLINE_INFO;
    return out->kind;
}

static McedKlineKind
parse_hw_error(const char *p, const char *end, McedKline *out)
{
    static const struct {
        const char *lit;
        LineParser parse;
    } lines[] = {
        { "CPU ", parse_header },
        { "RIP", parse_rip },
        { "TSC ", parse_tsc },
        { "PROCESSOR ", parse_processor },
        { "Run the above through 'mcelog --ascii'", parse_tail },
        { "Machine check: ", parse_panic },
        { "Machine check events logged", parse_info_exact },
        { "Some CPUs didn't answer in synchronization", parse_info_exact },
        { "Fake kernel panic: ", parse_info_text },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++)
        if (mced_scan_head(&p, end, lines[i].lit))
            return lines[i].parse(p, end, out);
    return mced_kline_malformed(out, "unknown [Hardware Error] line");
}

static void
set_memory_event(McedKline *out, const char *action)
{
    mced_kline_set_text(out, MCED_STR_ERROR_TYPE, "memory");
    mced_kline_set_text(out, MCED_STR_ACTION, action);
    out->severity = MCED_SEVERITY_SEVERE;
    out->kind = MCED_KLINE_X86_EVENT;
}

/* kill_me_maybe(): "Uncorrected hardware memory error in user-access at %llx" */
static McedKlineKind
parse_user_access(const char *p, const char *end, McedKline *out)
{
    guint64 pa;

    if (!mced_scan_hex(&p, end, 1, 16, &pa) || p != end)
        return mced_kline_malformed(out, "bad user-access address");
    mced_kline_set_num(out, MCED_NUM_PA, pa);
    set_memory_event(out, "user-access");
    return out->kind;
}

/* kill_me_maybe() when memory_failure() failed */
static McedKlineKind
parse_not_recovered(const char *p, const char *end, McedKline *out)
{
    if (p != end)
        return mced_kline_malformed(out, "trailing junk after memory error notice");
    set_memory_event(out, "not-recovered");
    out->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    return out->kind;
}

/* !CONFIG_MEMORY_FAILURE: "Uncorrected memory error in page 0x%lx ignored" */
static McedKlineKind
parse_page_ignored(const char *p, const char *end, McedKline *out)
{
    guint64 pfn;

    if (!mced_scan_0xhex(&p, end, &pfn) || !mced_scan_lit(&p, end, " ignored") || p != end)
        return mced_kline_malformed(out, "bad ignored memory error page");
    mced_kline_set_num(out, MCED_NUM_PFN, pfn);
    set_memory_event(out, "ignored");
    return out->kind;
}

static McedKlineKind
parse_mce_event(const char *p, const char *end, McedKline *out)
{
    static const struct {
        const char *lit;
        LineParser parse;
    } events[] = {
        { "Uncorrected hardware memory error in user-access at ", parse_user_access },
        { "Memory error not recovered", parse_not_recovered },
        { "Uncorrected memory error in page ", parse_page_ignored },
    };

    /* Cheap rejection of the many unrelated "mce: " lines. */
    if (p == end || (*p != 'U' && *p != 'M'))
        return MCED_KLINE_NONE;
    for (gsize i = 0; i < G_N_ELEMENTS(events); i++)
        if (mced_scan_head(&p, end, events[i].lit))
            return events[i].parse(p, end, out);
    return MCED_KLINE_NONE;
}

McedKlineKind
mced_kline_parse_x86(const char *msg, gsize len, McedKline *out)
{
    const char *p = msg;
    const char *end = msg + len;
    gboolean core;

    mced_kline_reset(out);
    if (mced_scan_lit(&p, end, "mce: "))
        core = FALSE;
    else if (mced_scan_lit(&p, end, "core: "))
        core = TRUE;
    else
        return MCED_KLINE_NONE;
    end = mced_trim_end(p, end);

    if (mced_scan_lit(&p, end, "[Hardware Error]:")) {
        if (!mced_scan_lit(&p, end, " "))
            return mced_kline_malformed(out, "unknown [Hardware Error] line");
        return parse_hw_error(p, end, out);
    }
    if (core)
        return MCED_KLINE_NONE;
    return parse_mce_event(p, end, out);
}
