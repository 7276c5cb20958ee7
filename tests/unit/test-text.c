/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-text.h"

typedef struct {
    const char *line;
    McedTextOrigin origin;
    const char *msg;
    gint64 printk_us; /* -1: none */
} Case;

static const Case cases[] = {
    /* bare, as the journal gives it */
    { "MCE: CPU3: Initiator CPU", MCED_TEXT_KERNEL, "MCE: CPU3: Initiator CPU", -1 },
    /* dmesg */
    { "[  512.971365] MCE: CPU1: machine check (Severe)  UE Load/Store [Recovered]",
      MCED_TEXT_KERNEL, "MCE: CPU1: machine check (Severe)  UE Load/Store [Recovered]",
      512971365 },
    /* legacy continuation keeps nothing of its indentation */
    { "[295216.837374]   Guest NIP: c00000000024a7dc", MCED_TEXT_KERNEL,
      "Guest NIP: c00000000024a7dc", 295216837374 },
    /* caller ids, after a timestamp and alone */
    { "[  195.280891][    C0] MCE: CPU0: Initiator CPU", MCED_TEXT_KERNEL,
      "MCE: CPU0: Initiator CPU", 195280891 },
    { "[  220.711577][   T90] MCE: CPU0: PID: 90 Comm: yes NIP: [00007fff7fdac2e0]",
      MCED_TEXT_KERNEL, "MCE: CPU0: PID: 90 Comm: yes NIP: [00007fff7fdac2e0]", 220711577 },
    /* quoted in mail: leading blanks */
    { "    [    3.591547] Harmless Hypervisor Maintenance interrupt [Recovered]", MCED_TEXT_KERNEL,
      "Harmless Hypervisor Maintenance interrupt [Recovered]", 3591547 },
    /* OPAL's 9-digit fraction with a level */
    { "[   34.443113577,5] XIVE: reset", MCED_TEXT_KERNEL, "XIVE: reset", 34443113 },
    /* BSD syslog with and without host; two blanks in the day */
    { "Dec 13 13:46:08 homeassistant kernel: mce: [Hardware Error]: TSC 0 ADDR 1422ff800 ",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: TSC 0 ADDR 1422ff800", -1 },
    { "Sep 16 19:51:15 kernel: [    0.064261] mce: [Hardware Error]: Machine check events logged",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: Machine check events logged", 64261 },
    { "Feb 23 03:28:16  kernel: EDAC MC1: ok", MCED_TEXT_KERNEL, "EDAC MC1: ok", -1 },
    { "jan 20 12:40:57 beelink kernel: EDAC igen6: v2.5.1", MCED_TEXT_KERNEL, "EDAC igen6: v2.5.1",
      -1 },
    { "Nov  7 21:00:02 heracles kernel:[Hardware Error]: Northbridge Error", MCED_TEXT_KERNEL,
      "[Hardware Error]: Northbridge Error", -1 },
    /* other processes are not the kernel */
    { "Sep 16 19:51:15 mcelog[987]: mcelog: Family 6 Model 122", MCED_TEXT_PROCESS,
      "mcelog: Family 6 Model 122", -1 },
    { "localhost.localdomain mcelog[2226]: MCE 0", MCED_TEXT_PROCESS, "MCE 0", -1 },
    { "Sep 16 19:51:15 host MCE: CPU3: machine check (Severe) Guest UE Load/Store [Recovered]",
      MCED_TEXT_PROCESS, "CPU3: machine check (Severe) Guest UE Load/Store [Recovered]", -1 },
    /* host and tag without a date */
    { "localhost.localdomain kernel: mce: [Hardware Error]: Machine check events logged",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: Machine check events logged", -1 },
    /* ISO dates (rsyslog, dmesg --time-format=iso), caller id only */
    { "2026-02-10T16:15:01.001815+01:00 lisa kernel: [T45426] mce: [Hardware Error]: Machine "
      "check events logged",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: Machine check events logged", -1 },
    { "2026-02-13T12:47:34.505714+01:00 [T449218] mce: [Hardware Error]: Machine check events "
      "logged",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: Machine check events logged", -1 },
    { "2019-08-19T04:18:38.274652-04:00 linux-dgwd kernel: [ 261.273226] {1}[Hardware Error]: x",
      MCED_TEXT_KERNEL, "{1}[Hardware Error]: x", 261273226 },
    { "2024-01-01T10:00:00,123456+00:00   Guest NIP: c00000000024a7dc", MCED_TEXT_KERNEL,
      "Guest NIP: c00000000024a7dc", -1 },
    /* dmesg -T */
    { "[Sat May  1 08:56:53 2021] mce: [Hardware Error]: Machine check events logged",
      MCED_TEXT_KERNEL, "mce: [Hardware Error]: Machine check events logged", -1 },
    /* syslog priority */
    { "<4>[   12.5] MCE: CPU1: Unknown", MCED_TEXT_KERNEL, "MCE: CPU1: Unknown", 12500000 },
    /* QEMU's own lines, bare and with -msg timestamp=on */
    { "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr "
      "0x10b5ce000 of type BUS_MCEERR_AR injected",
      MCED_TEXT_QEMU,
      "qemu-system-x86_64: Guest MCE Memory Error at QEMU addr 0x7f89573ce000 and GUEST addr "
      "0x10b5ce000 of type BUS_MCEERR_AR injected",
      -1 },
    { "2025-01-01T10:00:00.123456Z qemu-system-ppc64: warning: FWNMI: Unable to deliver machine "
      "check to guest: nested machine check. Machine check recovered.",
      MCED_TEXT_QEMU,
      "qemu-system-ppc64: warning: FWNMI: Unable to deliver machine check to guest: nested "
      "machine check. Machine check recovered.",
      -1 },
    /* the kernel's own prefixes are not tags */
    { "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011b", MCED_TEXT_KERNEL,
      "mce: [Hardware Error]: CPU 0: Machine Check: 0 Bank 4: 9c2041000000011b", -1 },
    { "Memory failure: 0x3f79: recovery action for clean LRU page: Recovered", MCED_TEXT_KERNEL,
      "Memory failure: 0x3f79: recovery action for clean LRU page: Recovered", -1 },
    /* broken prefixes are left alone */
    { "[ 12.x] MCE: CPU1: Unknown", MCED_TEXT_KERNEL, "[ 12.x] MCE: CPU1: Unknown", -1 },
    { "[99999999999999999999.000000] x", MCED_TEXT_KERNEL, "[99999999999999999999.000000] x",
      -1 },
    { "", MCED_TEXT_KERNEL, "", -1 },
    { "   \r\n", MCED_TEXT_KERNEL, "", -1 },
};

static void
test_cases(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        McedTextLine t;
        g_autofree char *msg = NULL;

        g_test_message("case %zu: %s", i, cases[i].line);
        mced_text_strip(cases[i].line, strlen(cases[i].line), &t);
        msg = g_strndup(t.msg, t.msg_len);
        g_assert_cmpint(t.origin, ==, cases[i].origin);
        g_assert_cmpstr(msg, ==, cases[i].msg);
        if (cases[i].printk_us < 0) {
            g_assert_false(t.has_printk_time);
        } else {
            g_assert_true(t.has_printk_time);
            g_assert_cmpint(t.printk_time_us, ==, cases[i].printk_us);
        }
    }
}

static void
test_iso_realtime(void)
{
    static const char line[] = "2026-02-13T12:47:34.505714+01:00 [T449218] mce: x";
    static const char local[] = "2026-02-13T12:47:34 myhost kernel: mce: x";
    McedTextLine t;

    mced_text_strip(line, sizeof(line) - 1, &t);
    /* 2026-02-13T11:47:34.505714Z */
    g_assert_cmpint(t.realtime_us, ==, G_GINT64_CONSTANT(1770983254505714));
    /* no zone, no guess */
    mced_text_strip(local, sizeof(local) - 1, &t);
    g_assert_cmpint(t.realtime_us, ==, 0);
    g_assert_cmpint(t.origin, ==, MCED_TEXT_KERNEL);
}

static void
test_bounded(void)
{
    /* Every prefix of a complicated line, not NUL-terminated: no overreads
     * (run under ASan/valgrind), and the message always lies in the line. */
    static const char line[] = "<4>2026-02-10T16:15:01.001815+01:00 lisa kernel: [  195.279885]"
                               "[    C0] MCE: CPU0: Initiator CPU";
    for (gsize n = 0; n <= sizeof(line) - 1; n++) {
        g_autofree char *copy = g_malloc(n + 1); /* never NULL, even for n == 0 */
        McedTextLine t;

        memcpy(copy, line, n);

        mced_text_strip(copy, n, &t);
        g_assert_nonnull(t.msg);
        if (t.msg_len > 0)
            g_assert_true(t.msg >= copy && t.msg + t.msg_len <= copy + n);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/text/cases", test_cases);
    g_test_add_func("/text/iso-realtime", test_iso_realtime);
    g_test_add_func("/text/bounded", test_bounded);
    return g_test_run();
}
