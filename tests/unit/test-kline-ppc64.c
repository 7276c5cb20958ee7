/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

static McedKlineKind
parse(const char *line, McedKline *k)
{
    return mced_kline_parse(line, strlen(line), k);
}

static char *
str_of(const McedKline *k, McedStr s)
{
    if (k->str[s].ptr == NULL)
        return NULL;
    return g_strndup(k->str[s].ptr, k->str[s].len);
}

static gboolean
has_num(const McedKline *k, McedNum n)
{
    return (k->num_present & (G_GUINT64_CONSTANT(1) << n)) != 0;
}

static void
assert_str(const McedKline *k, McedStr s, const char *expected)
{
    g_autofree char *v = str_of(k, s);
    g_assert_cmpstr(v, ==, expected);
}

static void
assert_num(const McedKline *k, McedNum n, guint64 expected)
{
    g_assert_true(has_num(k, n));
    g_assert_cmphex(k->num[n], ==, expected);
}

static void
assert_guest(const McedKline *k, gboolean expected)
{
    g_assert_true(k->bool_present & (1u << MCED_BOOL_IN_GUEST));
    g_assert_cmpint((k->bool_value >> MCED_BOOL_IN_GUEST) & 1, ==, expected);
}

static void
test_summary_guest_ue(void)
{
    McedKline k;

    g_assert_cmpint(parse("MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: "
                          "00007fff8a3c1000 paddr: 0000201f3a3c1000 [Not recovered]",
                          &k),
                    ==, MCED_KLINE_PPC_SUMMARY);
    g_assert_cmpint(k.host_cpu, ==, 12);
    g_assert_cmpint(k.severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(k.disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    assert_guest(&k, TRUE);
    assert_str(&k, MCED_STR_ERROR_TYPE, "UE");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Load/Store");
    assert_num(&k, MCED_NUM_EA, 0x7fff8a3c1000);
    assert_num(&k, MCED_NUM_PA, 0x201f3a3c1000);
}

static void
test_summary_host_slots(void)
{
    McedKline k;

    /* 5.11+: empty slot, two blanks */
    g_assert_cmpint(parse("MCE: CPU80: machine check (Warning)  SLB Multihit [Recovered]", &k), ==,
                    MCED_KLINE_PPC_SUMMARY);
    assert_guest(&k, FALSE);
    assert_str(&k, MCED_STR_ERROR_TYPE, "SLB");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Multihit");
    g_assert_false(has_num(&k, MCED_NUM_EA));

    /* v5.4..v5.10: "Host" */
    g_assert_cmpint(parse("MCE: CPU80: machine check (Warning) Host SLB Multihit [Recovered]", &k),
                    ==, MCED_KLINE_PPC_SUMMARY);
    assert_guest(&k, FALSE);
    g_assert_cmpint(k.disposition, ==, MCED_DISPOSITION_RECOVERED);

    /* Unknown type: empty subtype, two blanks before '[' */
    g_assert_cmpint(parse("MCE: CPU3: machine check (Fatal) Guest Unknown  [Not recovered]", &k), ==,
                    MCED_KLINE_PPC_SUMMARY);
    g_assert_cmpint(k.severity, ==, MCED_SEVERITY_FATAL);
    assert_str(&k, MCED_STR_ERROR_TYPE, "Unknown");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, NULL);

    /* a type with a blank in it, and a subtype newer than the tables */
    g_assert_cmpint(parse("MCE: CPU24: machine check (Severe)  Real address Load/Store "
                          "(foreign/control memory) [Not recovered]",
                          &k),
                    ==, MCED_KLINE_PPC_SUMMARY);
    assert_str(&k, MCED_STR_ERROR_TYPE, "Real address");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Load/Store (foreign/control memory)");
    g_assert_cmpint(parse("MCE: CPU9: machine check (Severe) Guest Real address Load (bad) DAR: "
                          "0000000012340000 [Not recovered]",
                          &k),
                    ==, MCED_KLINE_PPC_SUMMARY);
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Load (bad)");
    assert_num(&k, MCED_NUM_EA, 0x12340000);
}

/* Every entry of the kernel's string tables, through the summary line. */
static void
test_summary_tables(void)
{
    static const struct {
        const char *type, *subtype;
    } cases[] = {
        { "UE", "Indeterminate" },
        { "UE", "Instruction fetch" },
        { "UE", "Page table walk ifetch" },
        { "UE", "Load/Store" },
        { "UE", "Page table walk Load/Store" },
        { "SLB", "Indeterminate" },
        { "SLB", "Parity" },
        { "SLB", "Multihit" },
        { "ERAT", "Indeterminate" },
        { "ERAT", "Parity" },
        { "ERAT", "Multihit" },
        { "TLB", "Indeterminate" },
        { "TLB", "Parity" },
        { "TLB", "Multihit" },
        { "User", "Indeterminate" },
        { "User", "tlbie(l) invalid" },
        { "User", "scv invalid" },
        { "Real address", "Indeterminate" },
        { "Real address", "Instruction fetch (bad)" },
        { "Real address", "Instruction fetch (foreign)" },
        { "Real address", "Page table walk ifetch (bad)" },
        { "Real address", "Page table walk ifetch (foreign)" },
        { "Real address", "Load (bad)" },
        { "Real address", "Store (bad)" },
        { "Real address", "Page table walk Load/Store (bad)" },
        { "Real address", "Page table walk Load/Store (foreign)" },
        { "Real address", "Load/Store (foreign)" },
        { "Link", "Indeterminate" },
        { "Link", "Instruction fetch (timeout)" },
        { "Link", "Page table walk ifetch (timeout)" },
        { "Link", "Load (timeout)" },
        { "Link", "Store (timeout)" },
        { "Link", "Page table walk Load/Store (timeout)" },
        { "D-Cache", "Unknown" },
        { "I-Cache", "Unknown" },
    };
    static const char *const sev[] = { "Harmless", "Warning", "Severe", "Fatal" };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        for (gsize j = 0; j < G_N_ELEMENTS(sev); j++) {
            g_autofree char *line = g_strdup_printf(
                "MCE: CPU%zu: machine check (%s) Guest %s %s DAR: 00000000000%05zx [Recovered]", i,
                sev[j], cases[i].type, cases[i].subtype, i + 1);
            McedKline k;

            g_assert_cmpint(parse(line, &k), ==, MCED_KLINE_PPC_SUMMARY);
            g_assert_cmpint(k.host_cpu, ==, (gint)i);
            g_assert_cmpint(k.severity, ==, MCED_SEVERITY_HARMLESS + (gint)j);
            assert_str(&k, MCED_STR_ERROR_TYPE, cases[i].type);
            assert_str(&k, MCED_STR_ERROR_SUBTYPE, cases[i].subtype);
            assert_num(&k, MCED_NUM_EA, i + 1);
        }
    }
}

static void
test_task_lines(void)
{
    McedKline k;

    g_assert_cmpint(
        parse("MCE: CPU12: PID: 48213 Comm: CPU 3/KVM Guest NIP: [c000000000a1b2c4]", &k), ==,
        MCED_KLINE_PPC_TASK);
    g_assert_cmpint(k.host_cpu, ==, 12);
    assert_num(&k, MCED_NUM_TID, 48213);
    assert_str(&k, MCED_STR_COMM, "CPU 3/KVM");
    assert_num(&k, MCED_NUM_VCPU, 3);
    assert_num(&k, MCED_NUM_NIP, 0xc000000000a1b2c4);
    assert_guest(&k, TRUE);
    g_assert_false(has_num(&k, MCED_NUM_PA));

    /* paddr moves to the task line when the address is the NIP */
    g_assert_cmpint(parse("MCE: CPU7: PID: 3310 Comm: CPU 1/KVM Guest NIP: [c000000000123450] "
                          "paddr: 00000009f0123450",
                          &k),
                    ==, MCED_KLINE_PPC_TASK);
    assert_num(&k, MCED_NUM_PA, 0x9f0123450);
    assert_num(&k, MCED_NUM_VCPU, 1);

    /* user mode, no "Guest " */
    g_assert_cmpint(parse("MCE: CPU48: PID: 4584 Comm: find NIP: [0000000010023368]", &k), ==,
                    MCED_KLINE_PPC_TASK);
    assert_guest(&k, FALSE);
    assert_str(&k, MCED_STR_COMM, "find");
    g_assert_false(has_num(&k, MCED_NUM_VCPU));

    /* TCG threads give a vCPU too; a comm that only looks like one does not */
    g_assert_cmpint(parse("MCE: CPU1: PID: 9 Comm: CPU 12/TCG Guest NIP: [0]", &k), ==,
                    MCED_KLINE_PPC_TASK);
    assert_num(&k, MCED_NUM_VCPU, 12);
    g_assert_cmpint(parse("MCE: CPU1: PID: 9 Comm: CPU 12/ Guest NIP: [0]", &k), ==,
                    MCED_KLINE_PPC_TASK);
    g_assert_false(has_num(&k, MCED_NUM_VCPU));

    /* kernel mode */
    g_assert_cmpint(parse("MCE: CPU0: NIP: [c000000000088978] memcpy_power7+0x418/0x7e0", &k), ==,
                    MCED_KLINE_PPC_KNIP);
    assert_str(&k, MCED_STR_SYMBOL, "memcpy_power7+0x418/0x7e0");
    assert_guest(&k, FALSE);
    g_assert_cmpint(parse("MCE: CPU80: NIP: [d00000000b550280] insert_slb_entry.constprop.0+0x278/"
                          "0x2c0 [mcetest_slb] paddr: 0000000f8e260000",
                          &k),
                    ==, MCED_KLINE_PPC_KNIP);
    assert_str(&k, MCED_STR_SYMBOL, "insert_slb_entry.constprop.0+0x278/0x2c0 [mcetest_slb]");
    assert_num(&k, MCED_NUM_PA, 0xf8e260000);
}

static void
test_initiator_and_class(void)
{
    static const char *const initiators[] = { "CPU", "PCI", "ISA", "Memory", "Power Management",
                                              "Unknown" };
    static const char *const classes[] = {
        "Unknown",
        "Hardware error",
        "Probable Hardware error (some chance of software cause)",
        "Software error",
        "Probable Software error (some chance of hardware cause)",
        "Probable software error (some chance of hardware cause)",
    };
    McedKline k;

    for (gsize i = 0; i < G_N_ELEMENTS(initiators); i++) {
        g_autofree char *line = g_strdup_printf("MCE: CPU5: Initiator %s", initiators[i]);
        g_assert_cmpint(parse(line, &k), ==, MCED_KLINE_PPC_INITIATOR);
        assert_str(&k, MCED_STR_INITIATOR, initiators[i]);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(classes); i++) {
        g_autofree char *line = g_strdup_printf("MCE: CPU5: %s", classes[i]);
        g_assert_cmpint(parse(line, &k), ==, MCED_KLINE_PPC_CLASS);
        assert_str(&k, MCED_STR_ERROR_CLASS, classes[i]);
    }
}

static void
test_legacy(void)
{
    McedKline k;

    g_assert_cmpint(parse("Severe Machine check interrupt [Recovered]", &k), ==,
                    MCED_KLINE_PPC_LEGACY_HEAD);
    g_assert_cmpint(k.severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(k.disposition, ==, MCED_DISPOSITION_RECOVERED);
    /* very old kernels: no word for warnings, and "[[Not recovered]" */
    g_assert_cmpint(parse(" Machine check interrupt [[Not recovered]", &k), ==,
                    MCED_KLINE_PPC_LEGACY_HEAD);
    g_assert_cmpint(k.severity, ==, MCED_SEVERITY_WARNING);
    g_assert_cmpint(k.disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);

    g_assert_cmpint(parse("  Guest NIP: c00000000024a7dc", &k), ==, MCED_KLINE_PPC_LEGACY_GUEST_NIP);
    assert_num(&k, MCED_NUM_NIP, 0xc00000000024a7dc);
    assert_guest(&k, TRUE);
    g_assert_cmpint(parse("  NIP: [0000000010023368] PID: 4584 Comm: find", &k), ==,
                    MCED_KLINE_PPC_LEGACY_USER_NIP);
    assert_num(&k, MCED_NUM_TID, 4584);
    assert_str(&k, MCED_STR_COMM, "find");
    g_assert_cmpint(parse("  NIP [d00000000ba80280]: insert_slb_entry.constprop.0+0x278/0x2c0 "
                          "[mcetest_slb]",
                          &k),
                    ==, MCED_KLINE_PPC_LEGACY_KERNEL_NIP);
    g_assert_cmpint(parse("  Initiator: CPU", &k), ==, MCED_KLINE_PPC_LEGACY_INITIATOR);
    g_assert_cmpint(parse("  Error type: SLB [Multihit]", &k), ==, MCED_KLINE_PPC_LEGACY_ERROR_TYPE);
    assert_str(&k, MCED_STR_ERROR_TYPE, "SLB");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Multihit");
    g_assert_cmpint(parse("  Error type: Real address [Load (bad)]", &k), ==,
                    MCED_KLINE_PPC_LEGACY_ERROR_TYPE);
    assert_str(&k, MCED_STR_ERROR_TYPE, "Real address");
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, "Load (bad)");
    g_assert_cmpint(parse("  Error type: Unknown", &k), ==, MCED_KLINE_PPC_LEGACY_ERROR_TYPE);
    assert_str(&k, MCED_STR_ERROR_SUBTYPE, NULL);
    g_assert_cmpint(parse("    Effective address: d00000000316c400", &k), ==,
                    MCED_KLINE_PPC_LEGACY_EA);
    assert_num(&k, MCED_NUM_EA, 0xd00000000316c400);
    g_assert_cmpint(parse("    Physical address:  0000000f8e260000", &k), ==,
                    MCED_KLINE_PPC_LEGACY_PA);
    assert_num(&k, MCED_NUM_PA, 0xf8e260000);
}

static void
test_notices(void)
{
    McedKline k;

    g_assert_cmpint(parse("mce: Machine Check Exception, Unknown event version 3 !", &k), ==,
                    MCED_KLINE_PPC_NOTICE);
    g_assert_cmpint(parse("mce: Failed to identify bad address from where the uncorrectable error "
                          "(UE) was generated",
                          &k),
                    ==, MCED_KLINE_PPC_NOTICE);
    assert_str(&k, MCED_STR_ERROR_TYPE, "UE");
}

/* Lines that share a first letter or a word with ours but are not ours. */
static void
test_unrelated(void)
{
    static const char *const lines[] = {
        "Harmless Hypervisor Maintenance interrupt [Recovered]",
        "NIP:  c000000000088978 LR: c0000000008e16f8 CTR: 00000000000001de",
        "NIP [c000000000088978] memcpy_power7+0x418/0x7e0",
        "Modules linked in:",
        "Severe weather ahead",
        "Warning: unable to open an initial console.",
        "Error detail: Processor Recovery done",
        "Freeing unused kernel memory: 2048K",
        "PCI: Using configuration type 1",
        "GPR00: 000000000e000000 c0000000f0b8b1e0",
        "mce: CPU supports 9 MCE banks",
        "MCE",
        "",
    };
    McedKline k;

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_test_message("%s", lines[i]);
        g_assert_cmpint(parse(lines[i], &k), ==, MCED_KLINE_NONE);
    }
}

static void
test_malformed(void)
{
    static const char *const lines[] = {
        "MCE: CPU99999999999999999999: machine check (Severe) Guest UE Load/Store [Recovered]",
        "MCE: CPU1: machine check (Dire) Guest UE Load/Store [Recovered]",
        "MCE: CPU1: machine check (Severe) Guest UE Load/Store [Maybe]",
        "MCE: CPU1: machine check (Severe) Guest UE Load/Store",
        "MCE: CPU1: machine check (Severe)Guest UE Load/Store [Recovered]",
        ("MCE: CPU1: machine check (Severe) Guest UE Load/Store DAR: 00007fff8a3c1000 paddr: "
         "00000000000000000000000001 [Recovered]"),
        "MCE: CPU1: machine check (Severe) Guest UE Load/Store paddr: 0000201f3a3c1000 [Recovered]",
        "MCE: CPU1: PID: 99999999999 Comm: x Guest NIP: [0]",
        "MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: zzzzzzzz [Not recovered]",
        "MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: 1234 paddr: [Not recovered]",
        "MCE: CPU1: PID: 12 Comm: x Guest NIP: [zz]",
        "MCE: CPU1: PID: 12 Comm: x",
        "MCE: CPU1: NIP: [c000] ",
        "MCE: CPU1: something new",
        "MCE: CPU1: Initiator ",
        "MCE: CPUx: machine check",
        "Severe Machine check interrupt [Whatever]",
        "  Guest NIP: not-hex",
        "  NIP: [0000000010023368] PID: x Comm: find",
        "  Error type: SLB []",
        "    Effective address: 12345678901234567",
    };
    McedKline k;

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_test_message("%s", lines[i]);
        g_assert_cmpint(parse(lines[i], &k), ==, MCED_KLINE_MALFORMED);
        g_assert_nonnull(k.malformed_reason);
    }
}

static void
test_hostile(void)
{
    McedKline k;
    /* NUL and control bytes inside a task name: the parser sees the length */
    static const char nul_comm[] = "MCE: CPU1: PID: 12 Comm: a\0b Guest NIP: [0]";
    g_autoptr(GString) huge = g_string_new("MCE: CPU1: machine check (Severe) Guest UE ");
    g_autofree char *junk = g_strnfill(1024 * 1024, 'A');

    g_assert_cmpint(mced_kline_parse(nul_comm, sizeof(nul_comm) - 1, &k), ==, MCED_KLINE_MALFORMED);

    g_string_append(huge, junk);
    g_string_append(huge, " [Recovered]");
    g_assert_cmpint(mced_kline_parse(huge->str, huge->len, &k), ==, MCED_KLINE_MALFORMED);
    g_assert_cmpstr(k.malformed_reason, ==, "line too long");

    /* a non-matching huge line costs nothing and claims nothing */
    g_assert_cmpint(mced_kline_parse(junk, 1024 * 1024, &k), ==, MCED_KLINE_NONE);

    /* truncated at every byte: never crashes, never claims a full record */
    {
        static const char line[] = "MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: "
                                   "00007fff8a3c1000 paddr: 0000201f3a3c1000 [Not recovered]";
        for (gsize n = 0; n < sizeof(line) - 1; n++) {
            g_autofree char *copy = g_malloc(n + 1); /* never NULL, even for n == 0 */
            McedKlineKind kind;

            memcpy(copy, line, n);
            copy[n] = 'X'; /* not NUL-terminated at n */
            kind = mced_kline_parse(copy, n, &k);
            g_assert_cmpint(kind, !=, MCED_KLINE_PPC_SUMMARY);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kline/ppc64/summary/guest-ue", test_summary_guest_ue);
    g_test_add_func("/kline/ppc64/summary/host-slots", test_summary_host_slots);
    g_test_add_func("/kline/ppc64/summary/tables", test_summary_tables);
    g_test_add_func("/kline/ppc64/task", test_task_lines);
    g_test_add_func("/kline/ppc64/initiator-class", test_initiator_and_class);
    g_test_add_func("/kline/ppc64/legacy", test_legacy);
    g_test_add_func("/kline/ppc64/notices", test_notices);
    g_test_add_func("/kline/ppc64/unrelated", test_unrelated);
    g_test_add_func("/kline/ppc64/malformed", test_malformed);
    g_test_add_func("/kline/ppc64/hostile", test_hostile);
    return g_test_run();
}
