/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-parse: throughput of the kernel-line path (mced_text_strip, then
 * mced_assembler_feed, which calls mced_kline_parse) over a kernel log
 * generated in memory.
 *
 *   --mode mixed     realistic log, ~1% of lines in machine-check records
 *   --mode nonmatch  no machine-check lines at all (the prefilter's case)
 *   --mode mce       nothing but machine-check records
 *   --journal        strip the text prefixes before timing and feed bare
 *                    messages, as the journal gives them
 *
 * Every line carries a printk timestamp ("[ 1234.567890] "). The records
 * are ppc64 compact 4-line records (guest and host), x86 "[Hardware Error]"
 * blocks and memory-failure lines, copied from real logs.
 *
 * The timed work is bench_parse_loop() and nothing else, so that
 * contrib/bench.sh can count its instructions with
 * valgrind --tool=callgrind --toggle-collect='bench_parse_loop*'.
 * Not a test: meson builds it, contrib/bench.sh runs it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mced-assembler.h"
#include "mced-text.h"

typedef enum {
    BENCH_MIXED,
    BENCH_NONMATCH,
    BENCH_MCE,
} BenchMode;

typedef struct {
    GString *text;     /* all lines, each ending in '\n' */
    gsize *offsets;    /* start of each line in text */
    gsize *lengths;    /* length of each line, without '\n' */
    guint n_lines;
    guint n_mce_lines; /* lines that belong to machine-check records */
} BenchLog;

typedef struct {
    guint64 observations;
    guint64 lines_matched;
    guint64 lines_malformed;
} BenchResult;

/* Kernel messages seen on a busy KVM host, none about machine checks. Some
 * start with the same letters as machine-check lines on purpose. */
static const char *const noise[] = {
    "EXT4-fs (dm-0): mounted filesystem with ordered data mode. Quota mode: none.",
    "kvm: SMP vm created on host with unstable TSC; guest TSC will not be reliable",
    "Memory: 263842476K/268433408K available (14339K kernel code, 2430K rwdata)",
    "MDS: Mitigation: Clear CPU buffers",
    "mlx5_core 0000:3b:00.0: E-Switch: Total vports 10, per vport: max uc(128) max mc(2048)",
    "microcode: Microcode Update Driver: v2.2.",
    "IPv6: ADDRCONF(NETDEV_CHANGE): vnet12: link becomes ready",
    "br0: port 3(vnet12) entered forwarding state",
    "audit: type=1400 audit(1700000000.123:456): apparmor=\"STATUS\" operation=\"profile_load\"",
    "device vnet7 entered promiscuous mode",
    "perf: interrupt took too long (2506 > 2500), lowering kernel.perf_event_max_sample_rate",
    "nvme nvme0: 32/0/0 default/read/poll queues",
    "sd 2:0:0:0: [sdb] Synchronizing SCSI cache",
    "kauditd_printk_skb: 14 callbacks suppressed",
    "TCP: request_sock_TCP: Possible SYN flooding on port 22. Sending cookies.",
    "virbr0: port 1(virbr0-nic) entered blocking state",
    "Out of memory: Killed process 12345 (qemu-system-x86) total-vm:8392048kB",
    "hrtimer: interrupt took 12345 ns",
    "systemd-journald[512]: Data hash table of /var/log/journal/system.journal has a fill level at 75.0",
    "Mem-Info:",
    "MPTCP token hash table entries: 16384 (order: 6, 393216 bytes, linear)",
    "mce: CPU0: Thermal monitoring enabled (TM1)",
    "CPU 7/KVM[23456]: segfault at 0 ip 0000000000000000 sp 00007ffd2c3b0a18 error 14",
    "NFSD: Using nfsdcld client tracking operations.",
    "xfs filesystem being remounted at /var/lib/libvirt supports timestamps until 2038",
    "EDAC sbridge: Seeking for: PCI ID 8086:6fa0",
    "Bluetooth: hci0: unexpected event for opcode 0x0000",
    "tun: Universal TUN/TAP device driver, 1.6",
    "pcieport 0000:00:1c.0: AER: Corrected error received: 0000:00:1c.0",
    "watchdog: BUG: soft lockup - CPU#3 stuck for 22s! [CPU 2/KVM:4242]",
};

/* Machine-check records, a line each; a NULL ends a record. "%u" is the
 * host CPU or the thread id. */
static const char *const records[] = {
    "MCE: CPU%u: machine check (Severe) Guest UE Load/Store DAR: 00007fffc6079a80 paddr: 0000000f8e260000 [Not recovered]",
    "MCE: CPU%u: PID: 24765 Comm: CPU 3/KVM Guest NIP: [00007fffa309dc60]",
    "MCE: CPU%u: Initiator CPU",
    "MCE: CPU%u: Hardware error",
    NULL,
    "MCE: CPU%u: machine check (Warning) Host SLB Multihit DAR: 00000000deadbeef [Recovered]",
    "MCE: CPU%u: NIP: [c00000000003c2b4] isa300_idle_stop_mayloss+0x68/0x6c",
    "MCE: CPU%u: Initiator CPU",
    "MCE: CPU%u: Probable Software error (some chance of hardware cause)",
    NULL,
    "mce: [Hardware Error]: CPU %u: Machine Check Exception: 5 Bank 1: a000000000000000",
    "mce: [Hardware Error]: RIP !INEXACT! 10:<ffffffff81e8f6ff> {pv_native_safe_halt+0xf/0x20}",
    "mce: [Hardware Error]: TSC 3d39402bdc ADDR 114ae5000 MISC 8c",
    "mce: [Hardware Error]: PROCESSOR 2:800f12 TIME 1693515449 SOCKET 0 APIC 0 microcode 800126e",
    "mce: [Hardware Error]: Run the above through 'mcelog --ascii'",
    NULL,
    "Memory failure: 0x1a3b80: Sending SIGBUS to CPU 1/KVM:%u due to hardware memory corruption",
    "Memory failure: 0x1a3b80: recovery action for dirty LRU page: Recovered",
    NULL,
};

static void
append_line(BenchLog *log, guint64 *clock_us, const char *msg, gboolean mce)
{
    gsize start = log->text->len;

    g_string_append_printf(log->text, "[%5" G_GUINT64_FORMAT ".%06" G_GUINT64_FORMAT "] %s\n",
                           *clock_us / G_USEC_PER_SEC, *clock_us % G_USEC_PER_SEC, msg);
    log->offsets[log->n_lines] = start;
    log->lengths[log->n_lines] = log->text->len - start - 1;
    log->n_lines++;
    if (mce)
        log->n_mce_lines++;
}

/* Appends the next record (cycling through records[]); returns the index
 * after it. Stops early if the log is full. */
static guint
append_record(BenchLog *log, guint n_lines, guint64 *clock_us, guint rec, GRand *rand)
{
    guint cpu = (guint)g_rand_int_range(rand, 0, 192);

    if (records[rec] == NULL)
        rec = 0;
    for (; records[rec] != NULL && log->n_lines < n_lines; rec++) {
        char buf[256];

        /* The format strings come from the table above. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        g_snprintf(buf, sizeof(buf), records[rec], cpu);
#pragma GCC diagnostic pop
        append_line(log, clock_us, buf, TRUE);
        *clock_us += (guint64)g_rand_int_range(rand, 5, 60);
    }
    return rec + 1 < G_N_ELEMENTS(records) ? rec + 1 : 0;
}

static void
bench_log_init(BenchLog *log, BenchMode mode, guint n_lines)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(20240501);
    guint64 clock_us = 1234 * G_USEC_PER_SEC + 567890;
    guint rec = 0;

    memset(log, 0, sizeof(*log));
    log->text = g_string_sized_new((gsize)n_lines * 96);
    log->offsets = g_new(gsize, n_lines);
    log->lengths = g_new(gsize, n_lines);

    while (log->n_lines < n_lines) {
        gboolean want_mce;

        switch (mode) {
        case BENCH_MCE:
            want_mce = TRUE;
            break;
        case BENCH_NONMATCH:
            want_mce = FALSE;
            break;
        case BENCH_MIXED:
        default:
            /* One record (3.75 lines on average) every ~375 lines: ~1%. */
            want_mce = g_rand_int_range(rand, 0, 375) == 0;
            break;
        }
        if (want_mce) {
            rec = append_record(log, n_lines, &clock_us, rec, rand);
        } else {
            append_line(log, &clock_us,
                        noise[g_rand_int_range(rand, 0, G_N_ELEMENTS(noise))], FALSE);
        }
        /* Far enough apart that records never time out mid-way. */
        clock_us += (guint64)g_rand_int_range(rand, 1, 2000);
    }
}

static void
bench_log_clear(BenchLog *log)
{
    g_string_free(log->text, TRUE);
    g_free(log->offsets);
    g_free(log->lengths);
}

static void
on_observation(McedObservation *obs, gpointer user_data)
{
    guint64 *n = user_data;

    (*n)++;
    mced_observation_unref(obs);
}

/* The measured loop. Not inlined and not static, so that callgrind can
 * switch collection on and off at its boundaries. */
G_NO_INLINE void bench_parse_loop(const BenchLog *log, BenchResult *result);

G_NO_INLINE void
bench_parse_loop(const BenchLog *log, BenchResult *result)
{
    guint64 observations = 0;
    McedAssembler *a = mced_assembler_new(MCED_ASSEMBLER_DEFAULT_IDLE_US, on_observation,
                                          &observations);
    const McedAssemblerStats *stats;

    for (guint i = 0; i < log->n_lines; i++) {
        const char *line = log->text->str + log->offsets[i];
        gsize len = log->lengths[i];
        McedTextLine t;
        McedLineInfo info = { 0 };

        mced_text_strip(line, len, &t);
        if (t.origin == MCED_TEXT_PROCESS)
            continue;
        info.monotonic_us = t.has_printk_time ? t.printk_time_us : 0;
        info.raw = line;
        info.raw_len = len;
        mced_assembler_feed(a, &info, t.msg, t.msg_len);
    }
    mced_assembler_flush(a);

    stats = mced_assembler_get_stats(a);
    result->observations = observations;
    result->lines_matched = stats->lines_matched;
    result->lines_malformed = stats->lines_malformed;
    mced_assembler_free(a);
}

/* What the daemon does per journal entry: the journal hands over MESSAGE
 * without any text prefix and the timestamps as numbers, so the prefixes
 * are taken off before the timed loop. */
typedef struct {
    const char **msg;
    gsize *msg_len;
    gint64 *mono;
} BenchJournal;

G_NO_INLINE void bench_parse_loop_journal(const BenchLog *log, const BenchJournal *j,
                                          BenchResult *result);

G_NO_INLINE void
bench_parse_loop_journal(const BenchLog *log, const BenchJournal *j, BenchResult *result)
{
    guint64 observations = 0;
    McedAssembler *a = mced_assembler_new(MCED_ASSEMBLER_DEFAULT_IDLE_US, on_observation,
                                          &observations);
    const McedAssemblerStats *stats;

    for (guint i = 0; i < log->n_lines; i++) {
        McedLineInfo info = { .monotonic_us = j->mono[i] };

        mced_assembler_feed(a, &info, j->msg[i], j->msg_len[i]);
    }
    mced_assembler_flush(a);

    stats = mced_assembler_get_stats(a);
    result->observations = observations;
    result->lines_matched = stats->lines_matched;
    result->lines_malformed = stats->lines_malformed;
    mced_assembler_free(a);
}

static void
journal_prepare(const BenchLog *log, BenchJournal *j)
{
    j->msg = g_new(const char *, log->n_lines);
    j->msg_len = g_new(gsize, log->n_lines);
    j->mono = g_new(gint64, log->n_lines);
    for (guint i = 0; i < log->n_lines; i++) {
        McedTextLine t;

        mced_text_strip(log->text->str + log->offsets[i], log->lengths[i], &t);
        j->msg[i] = t.msg;
        j->msg_len[i] = t.msg_len;
        j->mono[i] = t.has_printk_time ? t.printk_time_us : 0;
    }
}

static int
compare_i64(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a;
    gint64 y = *(const gint64 *)b;

    return (x > y) - (x < y);
}

static void
print_rate(const char *label, gint64 us, const BenchLog *log)
{
    double s = (double)us / G_USEC_PER_SEC;

    if (s <= 0)
        s = 1e-9;
    g_print("%-7s %8.3f ms  %8.2f M lines/s  %8.1f MB/s  %7.1f ns/line\n", label, s * 1e3,
            log->n_lines / s / 1e6, log->text->len / s / 1e6, s * 1e9 / log->n_lines);
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *mode_name = NULL;
    gint64 n_lines = 1000000;
    gint reps = 5;
    gboolean journal = FALSE;
    BenchJournal j = { 0 };
    BenchMode mode;
    BenchLog log;
    BenchResult result = { 0 };
    g_autofree gint64 *times = NULL;
    const GOptionEntry entries[] = {
        { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode_name, "mixed (default), nonmatch or mce",
          "MODE" },
        { "lines", 'n', 0, G_OPTION_ARG_INT64, &n_lines, "lines to generate (default 1000000)",
          "N" },
        { "reps", 'r', 0, G_OPTION_ARG_INT, &reps, "repetitions (default 5)", "R" },
        { "journal", 'j', 0, G_OPTION_ARG_NONE, &journal,
          "feed bare messages, as the journal gives them (no text prefixes)", NULL },
        { NULL },
    };

    ctx = g_option_context_new("- kernel-line parsing throughput");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("%s\n", error->message);
        return EXIT_FAILURE;
    }
    if (mode_name == NULL || g_str_equal(mode_name, "mixed")) {
        mode = BENCH_MIXED;
    } else if (g_str_equal(mode_name, "nonmatch")) {
        mode = BENCH_NONMATCH;
    } else if (g_str_equal(mode_name, "mce")) {
        mode = BENCH_MCE;
    } else {
        g_printerr("unknown mode '%s' (mixed, nonmatch, mce)\n", mode_name);
        return EXIT_FAILURE;
    }
    if (n_lines < 1 || n_lines > 100000000 || reps < 1 || reps > 1000) {
        g_printerr("--lines must be 1..100000000 and --reps 1..1000\n");
        return EXIT_FAILURE;
    }

    bench_log_init(&log, mode, (guint)n_lines);
    g_print("mode %s: %u lines, %.1f MB, %u machine-check lines (%.2f%%)\n",
            mode_name != NULL ? mode_name : "mixed", log.n_lines, log.text->len / 1e6,
            log.n_mce_lines, 100.0 * log.n_mce_lines / log.n_lines);

    if (journal) {
        journal_prepare(&log, &j);
        g_print("input: bare messages (journal path)\n");
    } else {
        g_print("input: text lines with printk timestamps (text path)\n");
    }
    times = g_new(gint64, reps);
    for (gint r = 0; r < reps; r++) {
        gint64 start = g_get_monotonic_time();

        if (journal)
            bench_parse_loop_journal(&log, &j, &result);
        else
            bench_parse_loop(&log, &result);
        times[r] = g_get_monotonic_time() - start;
    }
    g_print("assembler: %" G_GUINT64_FORMAT " lines matched, %" G_GUINT64_FORMAT
            " malformed, %" G_GUINT64_FORMAT " observations\n",
            result.lines_matched, result.lines_malformed, result.observations);

    qsort(times, reps, sizeof(times[0]), compare_i64);
    print_rate("min", times[0], &log);
    print_rate("median", times[reps / 2], &log);

    g_free(j.msg);
    g_free(j.msg_len);
    g_free(j.mono);
    bench_log_clear(&log);
    return EXIT_SUCCESS;
}
