/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the x86 "mce: [Hardware Error]" parser, the memory-failure
 * parser and the QEMU stderr parser (kernel/mced-kline-{x86,mf,qemu}.c).
 *
 * Every line is copied into a buffer of exactly its length, without a NUL
 * terminator, so that a sanitizer or valgrind run catches any read past
 * the end.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

typedef McedKlineKind (*ParseFunc)(const char *msg, gsize len, McedKline *out);

typedef struct {
    McedKline k;
    char *buf;
} Parsed;

static void
parsed_clear(Parsed *p)
{
    g_clear_pointer(&p->buf, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Parsed, parsed_clear)

static McedKlineKind
parse_len(Parsed *p, ParseFunc func, const char *line, gsize len)
{
    g_free(p->buf);
    p->buf = g_malloc(len > 0 ? len : 1);
    memcpy(p->buf, line, len);
    /* Garbage where the parsers must not look. */
    memset(&p->k, 0xa5, sizeof(p->k));
    return func(p->buf, len, &p->k);
}

static McedKlineKind
parse_with(Parsed *p, ParseFunc func, const char *line)
{
    return parse_len(p, func, line, strlen(line));
}

static McedKlineKind
parse(Parsed *p, const char *line)
{
    return parse_with(p, mced_kline_parse, line);
}

static void
assert_kind(const McedKline *k, McedKlineKind want)
{
    g_assert_cmpstr(mced_kline_kind_to_string(k->kind), ==, mced_kline_kind_to_string(want));
    if (want == MCED_KLINE_MALFORMED)
        g_assert_nonnull(k->malformed_reason);
    else
        g_assert_null(k->malformed_reason);
}

static void
assert_str(const McedKline *k, McedStr s, const char *want)
{
    if (want == NULL) {
        g_assert_null(k->str[s].ptr);
        return;
    }
    g_assert_nonnull(k->str[s].ptr);
    g_assert_cmpmem(k->str[s].ptr, k->str[s].len, want, strlen(want));
}

static void
assert_num(const McedKline *k, McedNum n, guint64 want)
{
    g_assert_true((k->num_present & (G_GUINT64_CONSTANT(1) << n)) != 0);
    g_assert_cmphex(k->num[n], ==, want);
}

static void
assert_no_num(const McedKline *k, McedNum n)
{
    g_assert_false((k->num_present & (G_GUINT64_CONSTANT(1) << n)) != 0);
}

static void
assert_bool(const McedKline *k, McedBool b, gboolean want)
{
    g_assert_true((k->bool_present & (1u << b)) != 0);
    g_assert_cmpint((k->bool_value & (1u << b)) != 0, ==, want);
}

static void
assert_no_bool(const McedKline *k, McedBool b)
{
    g_assert_false((k->bool_present & (1u << b)) != 0);
}

static void
assert_outcome(const McedKline *k, McedSeverity severity, McedDisposition disposition)
{
    g_assert_cmpint(k->severity, ==, severity);
    g_assert_cmpint(k->disposition, ==, disposition);
}

/* Lines that must be reported malformed, whichever parser gets them. */
static void
assert_all_malformed(const char *const *lines, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        g_auto(Parsed) p = { 0 };

        g_test_message("line: %s", lines[i]);
        parse(&p, lines[i]);
        assert_kind(&p.k, MCED_KLINE_MALFORMED);
        g_assert_cmpint(p.k.host_cpu, ==, -1);
        g_assert_cmpuint(p.k.num_present, ==, 0);
    }
}

static void
assert_all_none(const char *const *lines, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        g_auto(Parsed) p = { 0 };

        g_test_message("line: %s", lines[i]);
        parse(&p, lines[i]);
        assert_kind(&p.k, MCED_KLINE_NONE);
    }
}

/* Every prefix of a valid line parses without reading past its end, and
 * is either turned away, malformed, or (for lines whose tail is optional)
 * still the same kind. */
static void
assert_truncations_safe(const char *line, McedKlineKind kind)
{
    gsize len = strlen(line);

    for (gsize n = 0; n < len; n++) {
        g_auto(Parsed) p = { 0 };
        McedKlineKind k = parse_len(&p, mced_kline_parse, line, n);

        g_assert_true(k == p.k.kind);
        g_assert_true(k == MCED_KLINE_NONE || k == MCED_KLINE_MALFORMED || k == MCED_KLINE_INFO ||
                      k == kind);
    }
}

/* ---- x86 [Hardware Error] block ---- */

static void
test_x86_header(void)
{
    g_auto(Parsed) p = { 0 };

    /* lore: Alibaba, futex_wait_setup, SRAR in kernel */
    parse(&p, "mce: [Hardware Error]: CPU 178: Machine Check Exception: f Bank 1: bd80000000100134");
    assert_kind(&p.k, MCED_KLINE_X86_HEADER);
    g_assert_cmpint(p.k.host_cpu, ==, 178);
    assert_num(&p.k, MCED_NUM_HOST_CPU, 178);
    assert_bool(&p.k, MCED_BOOL_EXCEPTION, TRUE);
    assert_num(&p.k, MCED_NUM_MCGSTATUS, 0xf);
    assert_num(&p.k, MCED_NUM_BANK, 1);
    assert_num(&p.k, MCED_NUM_STATUS, 0xbd80000000100134);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "cache");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);

    /* older kernels: "core: " prefix; PCC set */
    parse(&p, "core: [Hardware Error]: CPU 18: Machine Check Exception: 5 Bank 7: be00000001010090");
    assert_kind(&p.k, MCED_KLINE_X86_HEADER);
    g_assert_cmpint(p.k.host_cpu, ==, 18);
    assert_num(&p.k, MCED_NUM_BANK, 7);
    assert_num(&p.k, MCED_NUM_STATUS, 0xbe00000001010090);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "memory");
    assert_outcome(&p.k, MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED);

    /* corrected error polled (no " Exception") */
    parse(&p, "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011b");
    assert_kind(&p.k, MCED_KLINE_X86_HEADER);
    g_assert_cmpint(p.k.host_cpu, ==, 0);
    assert_bool(&p.k, MCED_BOOL_EXCEPTION, FALSE);
    assert_num(&p.k, MCED_NUM_MCGSTATUS, 0);
    assert_num(&p.k, MCED_NUM_STATUS, 0x9c2041000000011b);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "cache");
    assert_outcome(&p.k, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED);

    /* bounds: the biggest values that fit, trailing blanks */
    parse(&p, "mce: [Hardware Error]: CPU 2147483647: Machine Check: ffffffffffffffff Bank 255: "
              "ffffffffffffffff  ");
    assert_kind(&p.k, MCED_KLINE_X86_HEADER);
    g_assert_cmpint(p.k.host_cpu, ==, G_MAXINT32);
    assert_num(&p.k, MCED_NUM_MCGSTATUS, G_MAXUINT64);
    assert_num(&p.k, MCED_NUM_BANK, 255);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "other");

    /* the header without " Exception" but through the family parser */
    parse_with(&p, mced_kline_parse_x86,
               "mce: [Hardware Error]: CPU 2: Machine Check: 0 Bank 6: cc59dec000041152");
    assert_kind(&p.k, MCED_KLINE_X86_HEADER);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "cache");
    assert_outcome(&p.k, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED);
}

static void
test_x86_error_codes(void)
{
    static const struct {
        guint16 code;
        const char *name;
    } cases[] = {
        { 0x0000, "none" },
        { 0x1000, "none" }, /* filter bit only */
        { 0x0001, "unclassified" },
        { 0x0002, "microcode-rom-parity" },
        { 0x0003, "external" },
        { 0x0004, "frc" },
        { 0x0005, "internal-parity" },
        { 0x1005, "internal-parity" },
        { 0x0006, "other" },
        { 0x0400, "internal-timer" },
        { 0x0401, "internal" },
        { 0x0408, "internal" },
        { 0x07ff, "internal" },
        { 0x0010, "tlb" },
        { 0x001f, "tlb" },
        { 0x0020, "other" },
        { 0x0080, "memory" },
        { 0x0090, "memory" },
        { 0x009f, "memory" },
        { 0x10ff, "memory" },
        { 0x0100, "cache" },
        { 0x0134, "cache" },
        { 0x1152, "cache" },
        { 0x01ff, "cache" },
        { 0x0200, "other" },
        { 0x0800, "bus" },
        { 0x0c0f, "bus" },
        { 0x0fff, "bus" },
        { 0x2000, "other" },
        { 0x8000, "other" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Parsed) p = { 0 };
        g_autofree char *line = g_strdup_printf(
            "mce: [Hardware Error]: CPU 1: Machine Check: 0 Bank 3: %016" G_GINT64_MODIFIER "x",
            G_GUINT64_CONSTANT(0x8c00004f00000000) | cases[i].code);

        g_test_message("code %04x", cases[i].code);
        parse(&p, line);
        assert_kind(&p.k, MCED_KLINE_X86_HEADER);
        assert_str(&p.k, MCED_STR_ERROR_TYPE, cases[i].name);
    }
}

static void
test_x86_severity(void)
{
    static const struct {
        const char *status;
        McedSeverity severity;
        McedDisposition disposition;
    } cases[] = {
        { "9c00004001010090", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED },      /* CE */
        { "bd80000000100134", MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN },         /* SRAR */
        { "bc00000000000000", MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN },         /* SRAO */
        { "be00000001010090", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED },    /* PCC */
        { "fe000010000b0c0f", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED },
        { "8200000000000000", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED },      /* PCC, no UC */
        { "0000000000000000", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Parsed) p = { 0 };
        g_autofree char *line = g_strdup_printf(
            "mce: [Hardware Error]: CPU 7: Machine Check Exception: 5 Bank 9: %s", cases[i].status);

        parse(&p, line);
        assert_kind(&p.k, MCED_KLINE_X86_HEADER);
        assert_outcome(&p.k, cases[i].severity, cases[i].disposition);
    }
}

static void
test_x86_rip(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff81e8f6ff> {pv_native_safe_halt+0xf/0x20}");
    assert_kind(&p.k, MCED_KLINE_X86_RIP);
    assert_bool(&p.k, MCED_BOOL_IP_INEXACT, TRUE);
    assert_num(&p.k, MCED_NUM_CS, 0x10);
    assert_num(&p.k, MCED_NUM_IP, 0xffffffff81e8f6ff);
    assert_str(&p.k, MCED_STR_SYMBOL, "pv_native_safe_halt+0xf/0x20");
    g_assert_cmpint(p.k.host_cpu, ==, -1);

    parse(&p, "mce: [Hardware Error]: RIP 10:<ffffffff981d7af3> {futex_wait_setup+0x83/0xf0}");
    assert_kind(&p.k, MCED_KLINE_X86_RIP);
    assert_bool(&p.k, MCED_BOOL_IP_INEXACT, FALSE);
    assert_num(&p.k, MCED_NUM_IP, 0xffffffff981d7af3);
    assert_str(&p.k, MCED_STR_SYMBOL, "futex_wait_setup+0x83/0xf0");

    /* user CS: no symbol, and the trailing space may or may not survive */
    parse(&p, "core: [Hardware Error]: RIP 00:<00000000deadbabe>");
    assert_kind(&p.k, MCED_KLINE_X86_RIP);
    assert_num(&p.k, MCED_NUM_CS, 0);
    assert_num(&p.k, MCED_NUM_IP, 0xdeadbabe);
    assert_str(&p.k, MCED_STR_SYMBOL, NULL);

    parse(&p, "mce: [Hardware Error]: RIP 33:<00007f3589d7e000> ");
    assert_kind(&p.k, MCED_KLINE_X86_RIP);
    assert_num(&p.k, MCED_NUM_CS, 0x33);
    assert_str(&p.k, MCED_STR_SYMBOL, NULL);

    /* module symbols carry brackets and spaces */
    parse(&p, "mce: [Hardware Error]: RIP 10:<ffffffffc0a1b2c3> {vmx_vcpu_run+0x1c/0x90 [kvm_intel]}");
    assert_kind(&p.k, MCED_KLINE_X86_RIP);
    assert_str(&p.k, MCED_STR_SYMBOL, "vmx_vcpu_run+0x1c/0x90 [kvm_intel]");
}

static void
test_x86_tsc(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "mce: [Hardware Error]: TSC 3d39402bdc");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_num(&p.k, MCED_NUM_TSC, 0x3d39402bdc);
    assert_no_num(&p.k, MCED_NUM_PA);
    assert_no_num(&p.k, MCED_NUM_MISC);

    parse(&p, "mce: [Hardware Error]: TSC 0 ADDR 6d3d483b ");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_num(&p.k, MCED_NUM_TSC, 0);
    assert_num(&p.k, MCED_NUM_PA, 0x6d3d483b);
    assert_no_num(&p.k, MCED_NUM_MISC);

    parse(&p, "core: [Hardware Error]: TSC a806dc0f34 ADDR 5c7a4df000 MISC 200000c020002086 ");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_num(&p.k, MCED_NUM_TSC, 0xa806dc0f34);
    assert_num(&p.k, MCED_NUM_PA, 0x5c7a4df000);
    assert_num(&p.k, MCED_NUM_MISC, 0x200000c020002086);

    parse(&p, "mce: [Hardware Error]: TSC 49a1e6001c1 ADDR 80f7ada400 MISC 86 PPIN fc6b80e0ba9d616");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_num(&p.k, MCED_NUM_PA, 0x80f7ada400);
    assert_num(&p.k, MCED_NUM_MISC, 0x86);
    assert_num(&p.k, MCED_NUM_PPIN, 0xfc6b80e0ba9d616);
    assert_no_num(&p.k, MCED_NUM_SYND);

    /* SMCA, newest kernels: every field */
    parse(&p, "mce: [Hardware Error]: TSC 1 ADDR 2 MISC 3 PPIN 4 SYND 5 SYND1 6 SYND2 7 IPID 8 "
              "CONFIG ffffffffffffffff ");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_num(&p.k, MCED_NUM_TSC, 1);
    assert_num(&p.k, MCED_NUM_PA, 2);
    assert_num(&p.k, MCED_NUM_MISC, 3);
    assert_num(&p.k, MCED_NUM_PPIN, 4);
    assert_num(&p.k, MCED_NUM_SYND, 5);
    assert_num(&p.k, MCED_NUM_SYND1, 6);
    assert_num(&p.k, MCED_NUM_SYND2, 7);
    assert_num(&p.k, MCED_NUM_IPID, 8);
    assert_num(&p.k, MCED_NUM_CONFIG, G_MAXUINT64);

    /* SMCA, older kernels: fields skipped when zero */
    parse(&p, "mce: [Hardware Error]: TSC 0 ADDR 3bd7a800000020 SYND 5d00 IPID 700b040000000 ");
    assert_kind(&p.k, MCED_KLINE_X86_TSC);
    assert_no_num(&p.k, MCED_NUM_MISC);
    assert_no_num(&p.k, MCED_NUM_PPIN);
    assert_num(&p.k, MCED_NUM_SYND, 0x5d00);
    assert_no_num(&p.k, MCED_NUM_SYND1);
    assert_num(&p.k, MCED_NUM_IPID, 0x700b040000000);
    assert_no_num(&p.k, MCED_NUM_CONFIG);
}

static void
test_x86_processor(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5 microcode 2b000571");
    assert_kind(&p.k, MCED_KLINE_X86_PROCESSOR);
    assert_num(&p.k, MCED_NUM_CPUVENDOR, 0);
    assert_num(&p.k, MCED_NUM_CPUID, 0x806f4);
    assert_num(&p.k, MCED_NUM_TIME, 1741091252);
    assert_num(&p.k, MCED_NUM_SOCKET, 1);
    assert_num(&p.k, MCED_NUM_APIC, 0xc5);
    assert_num(&p.k, MCED_NUM_MICROCODE, 0x2b000571);

    parse(&p, "mce: [Hardware Error]: PROCESSOR 2:a00f11 TIME 1667244167 SOCKET 0 APIC 2 microcode 1000065");
    assert_kind(&p.k, MCED_KLINE_X86_PROCESSOR);
    assert_num(&p.k, MCED_NUM_CPUVENDOR, 2);
    assert_num(&p.k, MCED_NUM_CPUID, 0xa00f11);
    assert_num(&p.k, MCED_NUM_MICROCODE, 0x1000065);

    parse(&p, "mce: [Hardware Error]: PROCESSOR 4294967295:ffffffff TIME 18446744073709551615 "
              "SOCKET 4294967295 APIC ffffffff microcode ffffffff ");
    assert_kind(&p.k, MCED_KLINE_X86_PROCESSOR);
    assert_num(&p.k, MCED_NUM_CPUVENDOR, G_MAXUINT32);
    assert_num(&p.k, MCED_NUM_TIME, G_MAXUINT64);
    assert_num(&p.k, MCED_NUM_SOCKET, G_MAXUINT32);
}

static void
test_x86_tail_panic_info(void)
{
    static const char *const panics[] = {
        "Data load in unrecoverable area of kernel",
        "Processor context corrupt",
        "Processor Context Corrupt",
        "Uncorrected error without MCA Recovery",
        "Uncorrected unrecoverable error in kernel context",
        "In kernel and no restart IP",
        "Action required with lost events",
        "Fatal local machine check",
        "Local fatal machine check!",
        "Fatal machine check on current CPU",
        "Fatal machine check from unknown source",
        "Failed kernel mode recovery",
        "Panicing machine check CPU died",
    };
    static const char *const infos[] = {
        "mce: [Hardware Error]: Machine check events logged",
        "core: [Hardware Error]: Machine check events logged              ",
        "mce: [Hardware Error]: Some CPUs didn't answer in synchronization",
        "mce: [Hardware Error]: Fake kernel panic: Fatal machine check",
    };
    g_auto(Parsed) p = { 0 };

    parse(&p, "mce: [Hardware Error]: Run the above through 'mcelog --ascii'");
    assert_kind(&p.k, MCED_KLINE_X86_TAIL);
    parse(&p, "core: [Hardware Error]: Run the above through 'mcelog --ascii' ");
    assert_kind(&p.k, MCED_KLINE_X86_TAIL);

    for (gsize i = 0; i < G_N_ELEMENTS(panics); i++) {
        g_autofree char *line = g_strconcat("mce: [Hardware Error]: Machine check: ", panics[i], NULL);

        parse(&p, line);
        assert_kind(&p.k, MCED_KLINE_X86_PANIC);
        assert_str(&p.k, MCED_STR_MESSAGE, panics[i]);
        assert_outcome(&p.k, MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED);
    }
    parse(&p, "core: [Hardware Error]: Machine check: Processor context corrupt");
    assert_kind(&p.k, MCED_KLINE_X86_PANIC);
    assert_str(&p.k, MCED_STR_MESSAGE, "Processor context corrupt");

    for (gsize i = 0; i < G_N_ELEMENTS(infos); i++) {
        parse(&p, infos[i]);
        assert_kind(&p.k, MCED_KLINE_INFO);
        g_assert_cmpuint(p.k.num_present, ==, 0);
    }
}

static void
test_x86_events(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "mce: Uncorrected hardware memory error in user-access at 3710b3400");
    assert_kind(&p.k, MCED_KLINE_X86_EVENT);
    assert_num(&p.k, MCED_NUM_PA, 0x3710b3400);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "memory");
    assert_str(&p.k, MCED_STR_ACTION, "user-access");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "mce: Memory error not recovered");
    assert_kind(&p.k, MCED_KLINE_X86_EVENT);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "memory");
    assert_str(&p.k, MCED_STR_ACTION, "not-recovered");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED);
    assert_no_num(&p.k, MCED_NUM_PA);

    parse(&p, "mce: Uncorrected memory error in page 0x1a2b3c ignored");
    assert_kind(&p.k, MCED_KLINE_X86_EVENT);
    assert_num(&p.k, MCED_NUM_PFN, 0x1a2b3c);
    assert_str(&p.k, MCED_STR_ERROR_TYPE, "memory");
    assert_str(&p.k, MCED_STR_ACTION, "ignored");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);
}

static void
test_x86_malformed(void)
{
    static const char *const lines[] = {
        /* overflow */
        "mce: [Hardware Error]: CPU 99999999999999999999: Machine Check: 0 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 2147483648: Machine Check: 0 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 256: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 0: Machine Check: 10000000000000000 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: TSC 10000000000000000",
        "mce: [Hardware Error]: PROCESSOR 4294967296:806f4 TIME 1 SOCKET 1 APIC c5 microcode 1",
        "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 18446744073709551616 SOCKET 1 APIC c5 microcode 1",
        "mce: [Hardware Error]: PROCESSOR 0:106f40000 TIME 1 SOCKET 1 APIC c5 microcode 1",
        /* truncated */
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: ",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank",
        "mce: [Hardware Error]: CPU 0: Machine",
        "mce: [Hardware Error]: CPU ",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6f",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff> {pv_native_safe_halt+0xf/0x20",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff> {}",
        "mce: [Hardware Error]: RIP !INEXACT!",
        "mce: [Hardware Error]: TSC ",
        "mce: [Hardware Error]: TSC 0 ADDR ",
        "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5",
        "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5 microcode ",
        "mce: [Hardware Error]: Machine check: ",
        "mce: [Hardware Error]: ",
        "mce: [Hardware Error]:",
        /* junk after numbers */
        "mce: [Hardware Error]: CPU 0x1: Machine Check: 0 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011bz",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011b0",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011b trailing",
        "mce: [Hardware Error]: CPU 0: Machine Check: 0g Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 0: Machine Check: -1 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU -1: Machine Check: 0 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: CPU 0: Machine Check Event: 0 Bank 4: 9c2041000000011b",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff>x",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff> x",
        "mce: [Hardware Error]: RIP 1:<ffffffff81e8f6ff>",
        "mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff0>",
        "mce: [Hardware Error]: RIP INEXACT 10:<ffffffff81e8f6ff>",
        "mce: [Hardware Error]: TSC 3d39402bdcg",
        "mce: [Hardware Error]: TSC 0 ADDR 6d3d483bq",
        "mce: [Hardware Error]: TSC 0 BOGUS 1",
        "mce: [Hardware Error]: TSC 0 MISC 1 ADDR 2",
        "mce: [Hardware Error]: TSC 0 ADDR 1 ADDR 2",
        "mce: [Hardware Error]: TSC 0  ADDR 1",
        "mce: [Hardware Error]: TSC 0 ADDR 0x1",
        "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5 microcode 2b000571 x",
        "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 17410x1252 SOCKET 1 APIC c5 microcode 2b000571",
        "mce: [Hardware Error]: Run the above through 'mcelog --ascii' please",
        "mce: [Hardware Error]: Machine check events logged twice",
        /* unknown [Hardware Error] text */
        "mce: [Hardware Error]: Deferred error, no action required.",
        "mce: [Hardware Error]: cpu 0: machine check: 0 bank 4: 9c2041000000011b",
        "core: [Hardware Error]: MC4_STATUS[Over|CE|MiscV|-|AddrV|-|-|CECC]: 0xdc10410040080a13",
        /* single-line events */
        "mce: Uncorrected hardware memory error in user-access at ",
        "mce: Uncorrected hardware memory error in user-access at 0x3710b3400",
        "mce: Uncorrected hardware memory error in user-access at 3710b3400 again",
        "mce: Uncorrected hardware memory error in user-access at 13710b34001234567",
        "mce: Memory error not recovered!",
        "mce: Uncorrected memory error in page 1a2b3c ignored",
        "mce: Uncorrected memory error in page 0x1a2b3c",
        "mce: Uncorrected memory error in page 0x1a2b3c ignored.",
        "mce: Uncorrected memory error in page ",
    };

    assert_all_malformed(lines, G_N_ELEMENTS(lines));
}

static void
test_x86_nul_bytes(void)
{
    static const struct {
        const char *line;
        gsize len;
    } cases[] = {
#define C(s) { s, sizeof(s) - 1 }
        C("mce: [Hardware Error]: CPU 1\0: Machine Check: 0 Bank 4: 9c2041000000011b"),
        C("mce: [Hardware Error]: CPU 1: Machine Check: 0 Bank 4: 9c2041000000011b\0"),
        C("mce: [Hardware Error]: RIP 10:<ffffffff81e8f6ff> {pv_native\0_safe_halt}"),
        C("mce: [Hardware Error]: TSC 0 ADDR\0 1"),
        C("mce: [Hardware Error]: Machine check: Processor\0 context corrupt"),
        C("mce: [Hardware Error]: \0PROCESSOR 0:806f4 TIME 1 SOCKET 1 APIC c5 microcode 1"),
        C("mce: Uncorrected hardware memory error in user-access at 37\0"),
#undef C
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Parsed) p = { 0 };

        parse_len(&p, mced_kline_parse, cases[i].line, cases[i].len);
        assert_kind(&p.k, MCED_KLINE_MALFORMED);
        parse_len(&p, mced_kline_parse_x86, cases[i].line, cases[i].len);
        assert_kind(&p.k, MCED_KLINE_MALFORMED);
    }
}

static void
test_x86_unrelated(void)
{
    static const char *const lines[] = {
        "mce: CPU supports 9 MCE banks",
        "mce: CPU48 BANK7 CMCI storm detected",
        "mce: CPU48 BANK7 CMCI storm subsided",
        "mce: Using 22 MCE banks",
        "mce: Machine check injector initialized",
        "mce: do_inject: CPU0, toggling...",
        "mce: pte_entry: matched pfn - mark poison & zap pte",
        "mce: mce_register_decode_chain fn=mce_early_notifier+0x0/0x50 pri=6",
        "mce: mcheck_late_init: calling mce_schedule_work()",
        "mce: Uncorrected",
        "mce: ",
        "mce:",
        "core: ",
        "core: [Hardware Error]",
        "[Hardware Error]: Corrected error, no action required.",
        "{2}[Hardware Error]: Hardware error from APEI Generic Hardware Error Source: 2",
        "EDAC sbridge MC1: CPU 1: Machine Check Event: 0 Bank 11: 8c00004f000800c2",
        "Kernel panic - not syncing: Fatal local machine check",
        "CMCI storm detected: switching to poll mode",
        "mce_notify_irq: 22 callbacks suppressed",
    };

    assert_all_none(lines, G_N_ELEMENTS(lines));

    /* The family parser itself turns away other prefixes. */
    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_auto(Parsed) p = { 0 };

        parse_with(&p, mced_kline_parse_x86, lines[i]);
        assert_kind(&p.k, MCED_KLINE_NONE);
    }
}

static void
test_x86_truncations(void)
{
    assert_truncations_safe("mce: [Hardware Error]: CPU 178: Machine Check Exception: f Bank 1: bd80000000100134",
                            MCED_KLINE_X86_HEADER);
    assert_truncations_safe("mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff81e8f6ff> {pv_native_safe_halt+0xf/0x20}",
                            MCED_KLINE_X86_RIP);
    assert_truncations_safe("mce: [Hardware Error]: TSC 1 ADDR 2 MISC 3 PPIN 4 SYND 5 SYND1 6 SYND2 7 IPID 8 CONFIG 9 ",
                            MCED_KLINE_X86_TSC);
    assert_truncations_safe("mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5 microcode 2b000571",
                            MCED_KLINE_X86_PROCESSOR);
    assert_truncations_safe("mce: [Hardware Error]: Machine check: Processor context corrupt",
                            MCED_KLINE_X86_PANIC);
    assert_truncations_safe("mce: Uncorrected hardware memory error in user-access at 3710b3400",
                            MCED_KLINE_X86_EVENT);
    assert_truncations_safe("mce: Uncorrected memory error in page 0x1a2b3c ignored", MCED_KLINE_X86_EVENT);
}

/* ---- memory failure ---- */

static void
test_mf_recovery(void)
{
    /* action_page_types[], current and older kernels */
    static const char *const page_types[] = {
        "reserved kernel page", "high-order kernel page", "huge page", "free huge page",
        "get hwpoison page", "unmapping failed page", "dirty swapcache page",
        "clean swapcache page", "dirty mlocked LRU page", "clean mlocked LRU page",
        "dirty unevictable LRU page", "clean unevictable LRU page", "dirty LRU page",
        "clean LRU page", "already truncated LRU page", "free buddy page", "dax page",
        "unsplit thp", "already poisoned", "unknown page", "non struct page pfn",
        "kernel slab page", "different compound page after locking",
        "huge page already hardware poisoned", "non-pmd-sized huge page",
        "free buddy page (2nd try)",
    };
    static const struct {
        const char *name;
        McedDisposition disposition;
    } results[] = {
        { "Ignored", MCED_DISPOSITION_NOT_RECOVERED },
        { "Failed", MCED_DISPOSITION_NOT_RECOVERED },
        { "Delayed", MCED_DISPOSITION_RECOVERED },
        { "Recovered", MCED_DISPOSITION_RECOVERED },
    };
    g_auto(Parsed) p = { 0 };

    for (gsize i = 0; i < G_N_ELEMENTS(page_types); i++) {
        for (gsize j = 0; j < G_N_ELEMENTS(results); j++) {
            g_autofree char *line = g_strdup_printf("Memory failure: 0x%" G_GSIZE_MODIFIER "x: recovery "
                                                    "action for %s: %s",
                                                    0x1000 + i, page_types[i], results[j].name);

            parse(&p, line);
            assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
            assert_num(&p.k, MCED_NUM_PFN, 0x1000 + i);
            assert_str(&p.k, MCED_STR_PAGE_TYPE, page_types[i]);
            assert_str(&p.k, MCED_STR_RESULT, results[j].name);
            assert_str(&p.k, MCED_STR_ACTION, "recovery");
            assert_outcome(&p.k, MCED_SEVERITY_SEVERE, results[j].disposition);
            assert_no_bool(&p.k, MCED_BOOL_IN_GUEST);
        }
    }

    /* real: lore (dax page), zero pfn, trailing blanks */
    parse(&p, "Memory failure: 0x40a0602: recovery action for dax page: Recovered");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_num(&p.k, MCED_NUM_PFN, 0x40a0602);
    assert_str(&p.k, MCED_STR_PAGE_TYPE, "dax page");
    parse(&p, "Memory failure: 0: recovery action for reserved kernel page: Ignored  ");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_num(&p.k, MCED_NUM_PFN, 0);
    assert_str(&p.k, MCED_STR_RESULT, "Ignored");
    /* a page type containing ": " is cut at the last one */
    parse(&p, "Memory failure: 0x10: recovery action for odd: page: Failed");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_PAGE_TYPE, "odd: page");
    assert_str(&p.k, MCED_STR_RESULT, "Failed");
}

static void
test_mf_tasks(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "Memory failure: 0x1a2b3c: Sending SIGBUS to CPU 2/KVM:48213 due to hardware memory corruption");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_num(&p.k, MCED_NUM_PFN, 0x1a2b3c);
    assert_str(&p.k, MCED_STR_COMM, "CPU 2/KVM");
    assert_num(&p.k, MCED_NUM_TID, 48213);
    assert_num(&p.k, MCED_NUM_VCPU, 2);
    assert_str(&p.k, MCED_STR_ACTION, "sigbus");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);
    assert_no_num(&p.k, MCED_NUM_PID);

    parse(&p, "Memory failure: 0x3710b3: Sending SIGBUS to einj_mem_uc:361438 due to hardware memory corruption");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "einj_mem_uc");
    assert_num(&p.k, MCED_NUM_TID, 361438);
    assert_no_num(&p.k, MCED_NUM_VCPU);

    /* comm with ':' and spaces */
    parse(&p, "Memory failure: 0x10: Sending SIGBUS to a:b c:7:42 due to hardware memory corruption");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "a:b c:7");
    assert_num(&p.k, MCED_NUM_TID, 42);

    parse(&p, "Memory failure: 0x1a2b3c: Killing CPU 15/KVM:9 due to hardware memory corruption");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "CPU 15/KVM");
    assert_num(&p.k, MCED_NUM_TID, 9);
    assert_num(&p.k, MCED_NUM_VCPU, 15);
    assert_str(&p.k, MCED_STR_ACTION, "kill");

    parse(&p, "Memory failure: 0x1a2b3c: forcibly killing qemu-kvm:4242 because of failure to unmap corrupted page");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "qemu-kvm");
    assert_num(&p.k, MCED_NUM_TID, 4242);
    assert_str(&p.k, MCED_STR_ACTION, "forced-kill");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED);

    parse(&p, "Memory failure: 0x1a2b3c: Cannot send advisory machine check signal to qemu-system-x86:4242");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "qemu-system-x86");
    assert_num(&p.k, MCED_NUM_TID, 4242);
    assert_str(&p.k, MCED_STR_ACTION, "signal-failed");

    parse(&p, "Memory failure: Error sending signal to CPU 0/KVM:4243: -3");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_no_num(&p.k, MCED_NUM_PFN);
    assert_str(&p.k, MCED_STR_COMM, "CPU 0/KVM");
    assert_num(&p.k, MCED_NUM_TID, 4243);
    assert_num(&p.k, MCED_NUM_VCPU, 0);
    assert_str(&p.k, MCED_STR_ACTION, "signal-failed");

    parse(&p, "Memory failure: Unable to find user space address 7f3589d7e000 in qemu-kvm");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_num(&p.k, MCED_NUM_EA, 0x7f3589d7e000);
    assert_str(&p.k, MCED_STR_COMM, "qemu-kvm");
    assert_str(&p.k, MCED_STR_ACTION, "no-user-address");

    parse(&p, "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at 7fe64b33b400");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "einj_mem_uc");
    assert_num(&p.k, MCED_NUM_TID, 5555);
    assert_num(&p.k, MCED_NUM_EA, 0x7fe64b33b400);
    assert_str(&p.k, MCED_STR_ACTION, "kill");
    assert_no_num(&p.k, MCED_NUM_PFN);
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "MCE: Killing uffd-unit-tests:650 due to hardware memory corruption fault at 7f3589d7e000");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_COMM, "uffd-unit-tests");
    assert_num(&p.k, MCED_NUM_TID, 650);

    parse(&p, "MCE: Killing CPU 3/KVM:777 due to hardware memory corruption fault at 7f0000001000");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_num(&p.k, MCED_NUM_VCPU, 3);
}

static void
test_mf_notes(void)
{
    static const struct {
        const char *text;
        const char *action;
        McedDisposition disposition;
    } cases[] = {
        { "already hardware poisoned", "already-poisoned", MCED_DISPOSITION_UNKNOWN },
        { "Unknown page state", "unknown-page-state", MCED_DISPOSITION_UNKNOWN },
        { "corrupted page was clean: dropped without side effects", "clean-dropped",
          MCED_DISPOSITION_RECOVERED },
    };
    g_auto(Parsed) p = { 0 };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *line = g_strconcat("Memory failure: 0x827ca68: ", cases[i].text, NULL);

        parse(&p, line);
        assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
        assert_num(&p.k, MCED_NUM_PFN, 0x827ca68);
        assert_str(&p.k, MCED_STR_ACTION, cases[i].action);
        assert_str(&p.k, MCED_STR_MESSAGE, NULL);
        assert_outcome(&p.k, MCED_SEVERITY_SEVERE, cases[i].disposition);
    }

    parse(&p, "Memory failure: 0x121f08: already hardware poisoned              ");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_ACTION, "already-poisoned");

    parse(&p, "Memory failure: 0x1a2b3c: huge page still referenced by 2 users");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_PAGE_TYPE, "huge page");
    assert_num(&p.k, MCED_NUM_USERS, 2);
    assert_str(&p.k, MCED_STR_ACTION, "still-referenced");

    parse(&p, "Memory failure: 0x1a2b3c: dirty LRU page still referenced by 1 users");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_PAGE_TYPE, "dirty LRU page");
    assert_num(&p.k, MCED_NUM_USERS, 1);

    /* anything else about a valid pfn */
    parse(&p, "Memory failure: 0x1a2b3c: unable to unmap page");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_ACTION, "other");
    assert_str(&p.k, MCED_STR_MESSAGE, "unable to unmap page");
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "Memory failure: 0x1a2b3c: 2 users");
    assert_kind(&p.k, MCED_KLINE_MEMORY_FAILURE);
    assert_str(&p.k, MCED_STR_ACTION, "other");
    assert_str(&p.k, MCED_STR_MESSAGE, "2 users");

    /* hwpoison-inject unpoisoning: recognised, nothing to record */
    parse(&p, "Memory failure: Unpoison: Software-unpoisoned page 0x121f08");
    assert_kind(&p.k, MCED_KLINE_INFO);
}

static void
test_mf_malformed(void)
{
    static const char *const lines[] = {
        /* pfn */
        "Memory failure: 0x: recovery action for dirty LRU page: Recovered",
        "Memory failure: 0x10000000000000000: recovery action for dirty LRU page: Recovered",
        "Memory failure: 0x1a2b3cg: recovery action for dirty LRU page: Recovered",
        "Memory failure: 1a2b3c: recovery action for dirty LRU page: Recovered",
        "Memory failure: 00: Unknown page state",
        "Memory failure: 0x1a2b3c:recovery action for dirty LRU page: Recovered",
        "Memory failure: 0x1a2b3c",
        "Memory failure: 0x1a2b3c:",
        "Memory failure: 0x1a2b3c: ",
        /* recovery */
        "Memory failure: 0x1a2b3c: recovery action for dirty LRU page: Maybe",
        "Memory failure: 0x1a2b3c: recovery action for dirty LRU page: Recovered!",
        "Memory failure: 0x1a2b3c: recovery action for dirty LRU page",
        "Memory failure: 0x1a2b3c: recovery action for : Recovered",
        "Memory failure: 0x1a2b3c: recovery action for dirty LRU page: ",
        /* tasks */
        "Memory failure: 0x1a2b3c: Sending SIGBUS to CPU 2/KVM:48213 due to hardware",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to CPU 2/KVM due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to :48213 due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:99999999999999999999 due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:2147483648 due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:12x due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:-1 due to hardware memory corruption",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:12 due to hardware memory corruption.",
        "Memory failure: 0x1a2b3c: Killing qemu:12 due to hardware memory corruption fault at 1",
        "Memory failure: 0x1a2b3c: forcibly killing qemu:12",
        "Memory failure: 0x1a2b3c: Cannot send advisory machine check signal to qemu",
        "Memory failure: 0x1a2b3c: Cannot send advisory machine check signal to qemu:",
        "Memory failure: 0x1a2b3c: Sending SIGBUS to ",
        "Memory failure: 0x1a2b3c: recovery action for  ",
        /* notes with junk */
        "Memory failure: 0x1a2b3c: already hardware poisoned twice",
        "Memory failure: 0x1a2b3c: Unknown page state!",
        "Memory failure: 0x1a2b3c: huge page still referenced by many users",
        "Memory failure: 0x1a2b3c: huge page still referenced by 99999999999 users",
        "Memory failure: 0x1a2b3c:  still referenced by 2 users",
        /* without pfn */
        "Memory failure: something else",
        "Memory failure: ",
        "Memory failure: Error sending signal to CPU 0/KVM:4243",
        "Memory failure: Error sending signal to CPU 0/KVM:4243: EPERM",
        "Memory failure: Error sending signal to CPU 0/KVM: -3",
        "Memory failure: Unable to find user space address 0x7f3589d7e000 in qemu-kvm",
        "Memory failure: Unable to find user space address 7f3589d7e000 in ",
        "Memory failure: Unable to find user space address 7f3589d7e000",
        "Memory failure: Error sending signal to ",
        /* MCE: Killing */
        "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at ",
        "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at 7fe64b33b40z",
        "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at 7fe64b33b400 x",
        "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at 17fe64b33b4001234567",
        "MCE: Killing einj_mem_uc:5555 due to hardware memory corruption",
        "MCE: Killing einj_mem_uc due to hardware memory corruption fault at 7fe64b33b400",
        "MCE: Killing :5555 due to hardware memory corruption fault at 7fe64b33b400",
    };

    assert_all_malformed(lines, G_N_ELEMENTS(lines));
}

static void
test_mf_nul_bytes(void)
{
    static const struct {
        const char *line;
        gsize len;
    } cases[] = {
#define C(s) { s, sizeof(s) - 1 }
        C("Memory failure: 0x1a2b3c: Sending SIGBUS to qe\0mu:12 due to hardware memory corruption"),
        C("Memory failure: 0x1a2b3c: Sending SIGBUS to qemu:1\0 due to hardware memory corruption"),
        C("Memory failure: 0x1a\0b3c: Unknown page state"),
        C("Memory failure: 0x1a2b3c: recovery action for dirty\0LRU page: Recovered"),
        C("Memory failure: 0x1a2b3c: unable to \0unmap page"),
        C("Memory failure: 0x1a2b3c: huge\0page still referenced by 2 users"),
        C("Memory failure: Unable to find user space address 7f3589d7e000 in qemu\0"),
        C("MCE: Killing einj\0:5555 due to hardware memory corruption fault at 7fe64b33b400"),
#undef C
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(Parsed) p = { 0 };

        g_test_message("case %" G_GSIZE_FORMAT, i);
        parse_len(&p, mced_kline_parse, cases[i].line, cases[i].len);
        assert_kind(&p.k, MCED_KLINE_MALFORMED);
    }
}

static void
test_mf_unrelated(void)
{
    static const char *const lines[] = {
        "Memory failure:",
        "Memory failures: 0x1a2b3c: Unknown page state",
        "memory failure: 0x1a2b3c: Unknown page state",
        "MCE: Killed einj_mem_uc:5555",
        "MCE: CPU0: machine check (Severe) Host UE Load/Store [Not recovered]",
        "Unpoison: Software-unpoisoned page 0x121f08",
        "BUG: Bad page cache in process einj_mem_uc  pfn:408b6d6",
    };
    g_auto(Parsed) p = { 0 };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        parse_with(&p, mced_kline_parse_memory_failure, lines[i]);
        assert_kind(&p.k, MCED_KLINE_NONE);
    }
}

static void
test_mf_truncations(void)
{
    assert_truncations_safe("Memory failure: 0x1a2b3c: Sending SIGBUS to CPU 2/KVM:48213 due to hardware memory corruption",
                            MCED_KLINE_MEMORY_FAILURE);
    assert_truncations_safe("Memory failure: 0x3710b3: recovery action for dirty LRU page: Recovered",
                            MCED_KLINE_MEMORY_FAILURE);
    assert_truncations_safe("Memory failure: 0x1a2b3c: huge page still referenced by 2 users",
                            MCED_KLINE_MEMORY_FAILURE);
    assert_truncations_safe("Memory failure: Error sending signal to CPU 0/KVM:4243: -3",
                            MCED_KLINE_MEMORY_FAILURE);
    assert_truncations_safe("MCE: Killing einj_mem_uc:5555 due to hardware memory corruption fault at 7fe64b33b400",
                            MCED_KLINE_MEMORY_FAILURE);
}

/* ---- QEMU ---- */

static void
test_qemu_memory_error(void)
{
    g_auto(Parsed) p = { 0 };

    parse(&p, "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr "
              "0x10b5ce000 of type BUS_MCEERR_AR injected");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_str(&p.k, MCED_STR_PROGRAM, "qemu-system-x86_64");
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7f89573ce000);
    assert_num(&p.k, MCED_NUM_PA, 0x10b5ce000);
    assert_str(&p.k, MCED_STR_SIGNAL_CODE, "BUS_MCEERR_AR");
    assert_bool(&p.k, MCED_BOOL_IN_GUEST, TRUE);
    assert_outcome(&p.k, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "qemu-system-x86_64: warning: Guest MCE Memory Error at QEMU addr 0x7f1d108e5000 and "
              "GUEST addr 0x114ae5000 of type BUS_MCEERR_AO injected");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7f1d108e5000);
    assert_num(&p.k, MCED_NUM_PA, 0x114ae5000);
    assert_str(&p.k, MCED_STR_SIGNAL_CODE, "BUS_MCEERR_AO");
    assert_outcome(&p.k, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7fc1f5dd6000 and GUEST addr "
              "0x19fd6000 on lost large page 200000@19e00000 of type BUS_MCEERR_AR injected");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7fc1f5dd6000);
    assert_num(&p.k, MCED_NUM_PA, 0x19fd6000);
    assert_str(&p.k, MCED_STR_SIGNAL_CODE, "BUS_MCEERR_AR");

    /* 2019 wording */
    parse(&p, "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f3c7622f000 and GUEST "
              "0x78e42f000 addr of type BUS_MCEERR_AR injected");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7f3c7622f000);
    assert_num(&p.k, MCED_NUM_PA, 0x78e42f000);
    assert_bool(&p.k, MCED_BOOL_IN_GUEST, TRUE);

    parse(&p, "qemu-kvm: warning: Hardware memory error at addr 0x7f0011223000 of type BUS_MCEERR_AO "
              "for memory used by QEMU itself instead of guest system!");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_str(&p.k, MCED_STR_PROGRAM, "qemu-kvm");
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7f0011223000);
    assert_str(&p.k, MCED_STR_SIGNAL_CODE, "BUS_MCEERR_AO");
    assert_bool(&p.k, MCED_BOOL_IN_GUEST, FALSE);
    assert_no_num(&p.k, MCED_NUM_PA);
    assert_outcome(&p.k, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN);

    parse(&p, "qemu-kvm: QEMU got Hardware memory error at addr 0x7f0011223000");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x7f0011223000);
    assert_bool(&p.k, MCED_BOOL_IN_GUEST, FALSE);
    assert_str(&p.k, MCED_STR_SIGNAL_CODE, NULL);
    assert_outcome(&p.k, MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED);

    /* info: prefix and trailing CR/blank are tolerated */
    parse(&p, "qemu-system-i386: info: QEMU got Hardware memory error at addr 0x1000 \r");
    assert_kind(&p.k, MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_str(&p.k, MCED_STR_PROGRAM, "qemu-system-i386");
    assert_num(&p.k, MCED_NUM_QEMU_ADDR, 0x1000);
}

static void
test_qemu_fwnmi(void)
{
    static const struct {
        const char *line;
        const char *message;
        McedSeverity severity;
        McedDisposition disposition;
    } cases[] = {
        { "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: nested machine check.",
          "nested machine check", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED },
        { "qemu-system-ppc64: warning: FWNMI: Unable to deliver machine check to guest: nested "
          "machine check. Machine check recovered.",
          "nested machine check", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED },
        { "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: rtas_addr not found.",
          "rtas_addr not found", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED },
        { "qemu-kvm: warning: FWNMI: Unable to deliver machine check to guest: rtas_addr not "
          "found. Machine check recovered.",
          "rtas_addr not found", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED },
    };
    g_auto(Parsed) p = { 0 };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        parse(&p, cases[i].line);
        assert_kind(&p.k, MCED_KLINE_QEMU_FWNMI);
        assert_str(&p.k, MCED_STR_MESSAGE, cases[i].message);
        assert_bool(&p.k, MCED_BOOL_IN_GUEST, TRUE);
        assert_no_bool(&p.k, MCED_BOOL_MIGRATION);
        assert_outcome(&p.k, cases[i].severity, cases[i].disposition);
    }
    parse(&p, "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: nested machine check.");
    assert_str(&p.k, MCED_STR_PROGRAM, "qemu-system-ppc64");

    parse(&p, "qemu-system-ppc64: warning: Received a fwnmi while migration was in progress");
    assert_kind(&p.k, MCED_KLINE_QEMU_FWNMI);
    assert_bool(&p.k, MCED_BOOL_MIGRATION, TRUE);
    assert_no_bool(&p.k, MCED_BOOL_IN_GUEST);
    assert_outcome(&p.k, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN);
}

static void
test_qemu_malformed(void)
{
    static const char *const lines[] = {
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 10b5ce000 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x10000000000000000 and GUEST addr 0x1 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AX injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000 of type BUS_MCEERR_AR injected twice",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000z of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x19fd6000 on lost large page @19e00000 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x19fd6000 on lost large page 200000 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f3c7622f000 and GUEST 0x78e42f000 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr (nil) and GUEST addr 0x0 of type BUS_MCEERR_AR injected",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr ",
        "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr 0x10b5ce000 of type ",
        "qemu-kvm: warning: Hardware memory error at addr 0x7f0011223000 of type BUS_MCEERR_AO for memory used by QEMU itself",
        "qemu-kvm: warning: Hardware memory error at addr of type BUS_MCEERR_AO for memory used by QEMU itself instead of guest system!",
        "qemu-kvm: QEMU got Hardware memory error at addr 0x7f0011223000 again",
        "qemu-kvm: QEMU got Hardware memory error at addr ",
        "qemu-kvm: warning: FWNMI: Unable to deliver machine check to guest:  ",
        "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: nested machine check",
        "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: something else.",
        "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: nested machine check. Machine check recovered",
        "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: nested machine check. Whatever.",
        "qemu-system-ppc64: FWNMI: Unable to deliver machine check to guest: ",
        "qemu-system-ppc64: warning: Received a fwnmi while migration was in progress!",
    };

    assert_all_malformed(lines, G_N_ELEMENTS(lines));
}

static void
test_qemu_unrelated(void)
{
    static const char *const lines[] = {
        "qemu-system-x86_64: terminating on signal 15 from pid 1234 (/usr/sbin/libvirtd)",
        "qemu-system-x86_64: warning: host doesn't support requested feature: CPUID.07H:EBX.hle [bit 4]",
        "qemu-system-ppc64: info: Guest requested feature",
        "qemu-system-x86_64: Guest moved used index from 0 to 1",
        "qemu-system-x86_64: Failed to get \"write\" lock",
        "qemu-system-x86_64: Hardware",
        "qemu-system-x86_64: ",
        "qemu-system-x86_64:",
        "qemu-system-x86_64",
        "qemu system: Guest MCE Memory Error at QEMU addr 0x1 and GUEST addr 0x1 of type BUS_MCEERR_AR injected",
        "qemux Guest MCE Memory Error at QEMU addr 0x1 and GUEST addr 0x1 of type BUS_MCEERR_AR injected",
        "qemu-kvm: error: Guest MCE Memory Error at QEMU addr 0x1 and GUEST addr 0x1 of type BUS_MCEERR_AR injected",
        "2019-08-02T05:00:11.940270Z qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x1 and GUEST addr 0x1 of type BUS_MCEERR_AR injected",
        "char device redirected to /dev/pts/3 (label charserial0)",
    };
    g_auto(Parsed) p = { 0 };

    assert_all_none(lines, G_N_ELEMENTS(lines));
    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        parse_with(&p, mced_kline_parse_qemu, lines[i]);
        assert_kind(&p.k, MCED_KLINE_NONE);
    }

    /* a NUL inside the program name is not a QEMU line; inside our message it is malformed */
#define PARSE_LIT(s) parse_len(&p, mced_kline_parse, s, sizeof(s) - 1)
    PARSE_LIT("qemu\0kvm: QEMU got Hardware memory error at addr 0x1");
    assert_kind(&p.k, MCED_KLINE_NONE);
    PARSE_LIT("qemu-kvm\0: QEMU got Hardware memory error at addr 0x1");
    assert_kind(&p.k, MCED_KLINE_NONE);
    PARSE_LIT("qemu-kvm: QEMU got Hardware memory error at addr 0x1\0");
    assert_kind(&p.k, MCED_KLINE_MALFORMED);
    PARSE_LIT("qemu-kvm: QEMU got Hardware memory error at addr 0x\01");
    assert_kind(&p.k, MCED_KLINE_MALFORMED);
    PARSE_LIT("qemu-kvm: FWNMI: Unable to deliver machine check to guest: nested\0machine check.");
    assert_kind(&p.k, MCED_KLINE_MALFORMED);
#undef PARSE_LIT
}

static void
test_qemu_truncations(void)
{
    assert_truncations_safe("qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7fc1f5dd6000 and GUEST addr "
                            "0x19fd6000 on lost large page 200000@19e00000 of type BUS_MCEERR_AR injected",
                            MCED_KLINE_QEMU_MEMORY_ERROR);
    assert_truncations_safe("qemu-system-ppc64: warning: FWNMI: Unable to deliver machine check to guest: "
                            "nested machine check. Machine check recovered.",
                            MCED_KLINE_QEMU_FWNMI);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/kline/x86/header", test_x86_header);
    g_test_add_func("/kline/x86/error-codes", test_x86_error_codes);
    g_test_add_func("/kline/x86/severity", test_x86_severity);
    g_test_add_func("/kline/x86/rip", test_x86_rip);
    g_test_add_func("/kline/x86/tsc", test_x86_tsc);
    g_test_add_func("/kline/x86/processor", test_x86_processor);
    g_test_add_func("/kline/x86/tail-panic-info", test_x86_tail_panic_info);
    g_test_add_func("/kline/x86/events", test_x86_events);
    g_test_add_func("/kline/x86/malformed", test_x86_malformed);
    g_test_add_func("/kline/x86/nul-bytes", test_x86_nul_bytes);
    g_test_add_func("/kline/x86/unrelated", test_x86_unrelated);
    g_test_add_func("/kline/x86/truncations", test_x86_truncations);

    g_test_add_func("/kline/memory-failure/recovery", test_mf_recovery);
    g_test_add_func("/kline/memory-failure/tasks", test_mf_tasks);
    g_test_add_func("/kline/memory-failure/notes", test_mf_notes);
    g_test_add_func("/kline/memory-failure/malformed", test_mf_malformed);
    g_test_add_func("/kline/memory-failure/nul-bytes", test_mf_nul_bytes);
    g_test_add_func("/kline/memory-failure/unrelated", test_mf_unrelated);
    g_test_add_func("/kline/memory-failure/truncations", test_mf_truncations);

    g_test_add_func("/kline/qemu/memory-error", test_qemu_memory_error);
    g_test_add_func("/kline/qemu/fwnmi", test_qemu_fwnmi);
    g_test_add_func("/kline/qemu/malformed", test_qemu_malformed);
    g_test_add_func("/kline/qemu/unrelated", test_qemu_unrelated);
    g_test_add_func("/kline/qemu/truncations", test_qemu_truncations);

    return g_test_run();
}
