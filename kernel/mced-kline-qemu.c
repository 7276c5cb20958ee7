/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU's own stderr lines about machine checks, as they appear in a libvirt
 * domain log or a mixed text log: "<prgname>: [warning: |info: ]<message>"
 * (util/qemu-error.c vreport()). The text stripper has already removed the
 * "-msg timestamp=on" date and guest name.
 *
 * x86: kvm_arch_on_sigbus_vcpu() and hardware_memory_error()
 * (target/i386/kvm/kvm.c). ppc64: spapr_mce_req_event() and
 * spapr_mce_dispatch_elog() (hw/ppc/spapr_events.c).
 *
 * QEMU prints plenty of unrelated lines; those are turned away as NONE.
 * Only a line whose message starts like one of ours and then does not
 * parse is malformed.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

typedef McedKlineKind (*MessageParser)(const char *p, const char *end, McedKline *out);

/* glibc %p: "0x" and lower-case hex; QEMU never prints these for NULL */
static gboolean
scan_pointer(const char **p, const char *end, guint64 *ret)
{
    return mced_scan_0xhex(p, end, ret);
}

/* "BUS_MCEERR_AR" or "BUS_MCEERR_AO"; sets the signal code and severity */
static gboolean
scan_signal_code(const char **p, const char *end, McedKline *out)
{
    static const struct {
        const char *code;
        McedSeverity severity;
    } codes[] = {
        /* action required: the vCPU consumed the poison */
        { "BUS_MCEERR_AR", MCED_SEVERITY_SEVERE },
        /* action optional: found by a scrubber, not consumed yet */
        { "BUS_MCEERR_AO", MCED_SEVERITY_WARNING },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(codes); i++) {
        const char *s = *p;

        if (mced_scan_lit(&s, end, codes[i].code)) {
            mced_kline_set_str(out, MCED_STR_SIGNAL_CODE, *p, (gsize)(s - *p));
            out->severity = codes[i].severity;
            *p = s;
            return TRUE;
        }
    }
    return FALSE;
}

/* "Guest MCE Memory Error at QEMU addr %p and GUEST addr 0x%" HWADDR_PRIx
 * "[ on lost large page <size>@<addr>] of type %s injected"; QEMU before
 * 2020 printed "and GUEST 0x%" HWADDR_PRIx " addr of type %s injected". */
static McedKlineKind
parse_guest_mce(const char *p, const char *end, McedKline *out)
{
    guint64 qemu_addr, paddr, size, base;

    if (!scan_pointer(&p, end, &qemu_addr) || !mced_scan_lit(&p, end, " and GUEST "))
        return mced_kline_malformed(out, "bad QEMU address in guest MCE line");
    if (mced_scan_lit(&p, end, "addr ")) {
        if (!mced_scan_0xhex(&p, end, &paddr))
            return mced_kline_malformed(out, "bad guest address in guest MCE line");
        if (mced_scan_lit(&p, end, " on lost large page ") &&
            (!mced_scan_hex(&p, end, 1, 16, &size) || !mced_scan_lit(&p, end, "@") ||
             !mced_scan_hex(&p, end, 1, 16, &base)))
            return mced_kline_malformed(out, "bad lost large page in guest MCE line");
    } else if (!mced_scan_0xhex(&p, end, &paddr) || !mced_scan_lit(&p, end, " addr")) {
        return mced_kline_malformed(out, "bad guest address in guest MCE line");
    }
    if (!mced_scan_lit(&p, end, " of type ") || !scan_signal_code(&p, end, out))
        return mced_kline_malformed(out, "bad signal code in guest MCE line");
    if (!mced_scan_lit(&p, end, " injected") || p != end)
        return mced_kline_malformed(out, "trailing junk in guest MCE line");

    mced_kline_set_num(out, MCED_NUM_QEMU_ADDR, qemu_addr);
    mced_kline_set_num(out, MCED_NUM_PA, paddr);
    mced_kline_set_bool(out, MCED_BOOL_IN_GUEST, TRUE);
    out->kind = MCED_KLINE_QEMU_MEMORY_ERROR;
    return out->kind;
}

/* "Hardware memory error at addr %p of type %s for memory used by QEMU
 * itself instead of guest system!": an AO hit on QEMU's own memory */
static McedKlineKind
parse_qemu_itself(const char *p, const char *end, McedKline *out)
{
    guint64 qemu_addr;

    if (!scan_pointer(&p, end, &qemu_addr) || !mced_scan_lit(&p, end, " of type ") ||
        !scan_signal_code(&p, end, out) ||
        !mced_scan_lit(&p, end, " for memory used by QEMU itself instead of guest system!") ||
        p != end)
        return mced_kline_malformed(out, "bad QEMU memory error line");
    mced_kline_set_num(out, MCED_NUM_QEMU_ADDR, qemu_addr);
    mced_kline_set_bool(out, MCED_BOOL_IN_GUEST, FALSE);
    out->severity = MCED_SEVERITY_WARNING;
    out->kind = MCED_KLINE_QEMU_MEMORY_ERROR;
    return out->kind;
}

/* hardware_memory_error(): "QEMU got Hardware memory error at addr %p",
 * then exit(1) */
static McedKlineKind
parse_qemu_fatal(const char *p, const char *end, McedKline *out)
{
    guint64 qemu_addr;

    if (!scan_pointer(&p, end, &qemu_addr) || p != end)
        return mced_kline_malformed(out, "bad QEMU fatal memory error line");
    mced_kline_set_num(out, MCED_NUM_QEMU_ADDR, qemu_addr);
    mced_kline_set_bool(out, MCED_BOOL_IN_GUEST, FALSE);
    out->severity = MCED_SEVERITY_FATAL;
    out->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    out->kind = MCED_KLINE_QEMU_MEMORY_ERROR;
    return out->kind;
}

/* "FWNMI: Unable to deliver machine check to guest: <reason>." and, when the
 * error was recovered, " Machine check recovered." (warn_report); otherwise
 * QEMU reports the guest panicked. */
static McedKlineKind
parse_fwnmi_failure(const char *p, const char *end, McedKline *out)
{
    static const char *const reasons[] = {
        "nested machine check",
        "rtas_addr not found",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(reasons); i++) {
        const char *reason = p;

        if (!mced_scan_lit(&p, end, reasons[i]))
            continue;
        mced_kline_set_str(out, MCED_STR_MESSAGE, reason, (gsize)(p - reason));
        if (!mced_scan_lit(&p, end, "."))
            break;
        if (p == end) {
            out->severity = MCED_SEVERITY_FATAL;
            out->disposition = MCED_DISPOSITION_NOT_RECOVERED;
        } else if (mced_scan_lit(&p, end, " Machine check recovered.") && p == end) {
            out->severity = MCED_SEVERITY_WARNING;
            out->disposition = MCED_DISPOSITION_RECOVERED;
        } else {
            break;
        }
        mced_kline_set_bool(out, MCED_BOOL_IN_GUEST, TRUE);
        out->kind = MCED_KLINE_QEMU_FWNMI;
        return out->kind;
    }
    return mced_kline_malformed(out, "bad FWNMI delivery failure line");
}

/* migrate_add_blocker() returned -EBUSY */
static McedKlineKind
parse_fwnmi_migration(const char *p, const char *end, McedKline *out)
{
    if (p != end)
        return mced_kline_malformed(out, "trailing junk in FWNMI migration line");
    mced_kline_set_bool(out, MCED_BOOL_MIGRATION, TRUE);
    out->severity = MCED_SEVERITY_WARNING;
    out->kind = MCED_KLINE_QEMU_FWNMI;
    return out->kind;
}

static const struct {
    const char *lit;
    MessageParser parse;
} messages[] = {
    { "Guest MCE Memory Error at QEMU addr ", parse_guest_mce },
    { "Hardware memory error at addr ", parse_qemu_itself },
    { "QEMU got Hardware memory error at addr ", parse_qemu_fatal },
    { "FWNMI: Unable to deliver machine check to guest: ", parse_fwnmi_failure },
    { "Received a fwnmi while migration was in progress", parse_fwnmi_migration },
};

McedKlineKind
mced_kline_parse_qemu(const char *msg, gsize len, McedKline *out)
{
    const char *end = msg + len;
    const char *p = msg;
    const char *program;
    gsize program_len;

    mced_kline_reset(out);
    /* g_get_prgname(): argv[0]'s basename, "qemu-system-<arch>" or "qemu-kvm" */
    if (!mced_scan_lit(&p, end, "qemu"))
        return MCED_KLINE_NONE;
    while (p < end && g_ascii_isgraph(*p) && !(*p == ':' && p + 1 < end && p[1] == ' '))
        p++;
    program = msg;
    program_len = (gsize)(p - msg);
    if (!mced_scan_lit(&p, end, ": "))
        return MCED_KLINE_NONE;
    end = mced_trim_end(p, end);

    if (!mced_scan_lit(&p, end, "warning: "))
        (void)mced_scan_lit(&p, end, "info: ");
    /* Every message of ours starts with one of these capitals. */
    if (p == end || (*p != 'G' && *p != 'H' && *p != 'Q' && *p != 'F' && *p != 'R'))
        return MCED_KLINE_NONE;

    for (gsize i = 0; i < G_N_ELEMENTS(messages); i++) {
        if (mced_scan_head(&p, end, messages[i].lit)) {
            McedKlineKind k = messages[i].parse(p, end, out);

            if (k != MCED_KLINE_MALFORMED)
                mced_kline_set_str(out, MCED_STR_PROGRAM, program, program_len);
            return k;
        }
    }
    return MCED_KLINE_NONE;
}
