/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-assembler.h"

typedef struct {
    McedAssembler *a;
    GPtrArray *out; /* McedObservation* */
    guint line_no;
} Fixture;

static void
collect(McedObservation *obs, gpointer user_data)
{
    Fixture *f = user_data;
    g_ptr_array_add(f->out, obs);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    f->out = g_ptr_array_new_with_free_func((GDestroyNotify)mced_observation_unref);
    f->a = mced_assembler_new(500 * G_TIME_SPAN_MILLISECOND, collect, f);
    f->line_no = 0;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    mced_assembler_free(f->a);
    g_ptr_array_unref(f->out);
}

/* Feed a line at monotonic time t_ms (0: unknown). */
static void
feed_at(Fixture *f, gint64 t_ms, const char *line)
{
    g_autofree char *cursor = g_strdup_printf("test:%u", ++f->line_no);
    McedLineInfo info = { .monotonic_us = t_ms * 1000, .cursor = cursor };

    mced_assembler_feed(f->a, &info, line, strlen(line));
}

static McedObservation *
nth(Fixture *f, guint i)
{
    g_assert_cmpuint(i, <, f->out->len);
    return f->out->pdata[i];
}

static void
test_compact_record(Fixture *f, gconstpointer data)
{
    McedObservation *o;

    feed_at(f, 1000, "MCE: CPU12: machine check (Severe) Guest UE Load/Store DAR: "
                     "00007fff8a3c1000 paddr: 0000201f3a3c1000 [Not recovered]");
    feed_at(f, 1000, "MCE: CPU12: PID: 48213 Comm: CPU 3/KVM Guest NIP: [c000000000a1b2c4]");
    feed_at(f, 1000, "MCE: CPU12: Initiator CPU");
    g_assert_cmpuint(f->out->len, ==, 0);
    g_assert_cmpuint(mced_assembler_n_pending(f->a), ==, 1);
    feed_at(f, 1000, "MCE: CPU12: Hardware error");
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmpuint(mced_assembler_n_pending(f->a), ==, 0);

    o = nth(f, 0);
    g_assert_cmpint(o->kind, ==, MCED_OBS_PPC64_MCE);
    g_assert_true(o->frozen);
    g_assert_cmpuint(o->num[MCED_NUM_HOST_CPU], ==, 12);
    g_assert_cmpuint(o->num[MCED_NUM_TID], ==, 48213);
    g_assert_cmpuint(o->num[MCED_NUM_VCPU], ==, 3);
    g_assert_cmphex(o->num[MCED_NUM_EA], ==, 0x7fff8a3c1000);
    g_assert_cmphex(o->num[MCED_NUM_PA], ==, 0x201f3a3c1000);
    g_assert_cmpstr(o->str[MCED_STR_COMM], ==, "CPU 3/KVM");
    g_assert_cmpstr(o->str[MCED_STR_INITIATOR], ==, "CPU");
    g_assert_cmpstr(o->str[MCED_STR_ERROR_CLASS], ==, "Hardware error");
    g_assert_cmpstr(o->str[MCED_STR_FORMAT], ==, "compact");
    g_assert_cmpstr(o->cursor, ==, "test:1");
    g_assert_cmpint(o->monotonic_us, ==, 1000000);
    g_assert_true(mced_observation_get_bool(o, MCED_BOOL_IN_GUEST));
    g_assert_cmpint(o->severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(o->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_cmpuint(o->lines->len, ==, 4);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->records_incomplete, ==, 0);
}

static void
test_interleaved_cpus(Fixture *f, gconstpointer data)
{
    feed_at(f, 1, "MCE: CPU1: machine check (Severe) Guest UE Load/Store [Not recovered]");
    feed_at(f, 1, "MCE: CPU2: machine check (Warning) Guest SLB Multihit [Recovered]");
    feed_at(f, 1, "MCE: CPU2: PID: 200 Comm: CPU 0/KVM Guest NIP: [0]");
    feed_at(f, 1, "MCE: CPU1: PID: 100 Comm: CPU 1/KVM Guest NIP: [0]");
    feed_at(f, 1, "MCE: CPU2: Initiator CPU");
    feed_at(f, 1, "MCE: CPU2: Probable Software error (some chance of hardware cause)");
    feed_at(f, 1, "MCE: CPU1: Initiator CPU");
    feed_at(f, 1, "MCE: CPU1: Hardware error");

    g_assert_cmpuint(f->out->len, ==, 2);
    g_assert_cmpuint(nth(f, 0)->num[MCED_NUM_HOST_CPU], ==, 2);
    g_assert_cmpuint(nth(f, 0)->num[MCED_NUM_TID], ==, 200);
    g_assert_cmpuint(nth(f, 1)->num[MCED_NUM_HOST_CPU], ==, 1);
    g_assert_cmpuint(nth(f, 1)->num[MCED_NUM_TID], ==, 100);
    g_assert_cmpuint(nth(f, 1)->lines->len, ==, 4);
}

static void
test_same_cpu_restarts(Fixture *f, gconstpointer data)
{
    /* seen in a real log: a summary right after another on the same CPU */
    feed_at(f, 0, "MCE: CPU0: machine check (Severe) Host SLB Multihit DAR: 00000000deadbeef "
                  "[Recovered]");
    feed_at(f, 0, "MCE: CPU0: machine check (Severe) Host SLB Multihit [Recovered]");
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmphex(nth(f, 0)->num[MCED_NUM_EA], ==, 0xdeadbeef);
    feed_at(f, 0, "MCE: CPU0: PID: 495 Comm: a NIP: [0000000130ee07c8]");
    feed_at(f, 0, "MCE: CPU0: Initiator CPU");
    feed_at(f, 0, "MCE: CPU0: Unknown");
    g_assert_cmpuint(f->out->len, ==, 2);
    g_assert_false(mced_observation_has_num(nth(f, 1), MCED_NUM_EA));
    g_assert_cmpuint(nth(f, 1)->num[MCED_NUM_TID], ==, 495);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->records_incomplete, ==, 1);
}

static void
test_idle_timeout(Fixture *f, gconstpointer data)
{
    feed_at(f, 1000, "MCE: CPU4: machine check (Severe) Guest UE Load/Store [Not recovered]");
    feed_at(f, 1100, "MCE: CPU4: PID: 7 Comm: CPU 0/KVM Guest NIP: [0]");
    g_assert_cmpint(mced_assembler_next_deadline(f->a), ==, (1100 + 500) * 1000);
    mced_assembler_expire(f->a, (1100 + 499) * 1000);
    g_assert_cmpuint(f->out->len, ==, 0);
    mced_assembler_expire(f->a, (1100 + 500) * 1000);
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmpuint(nth(f, 0)->lines->len, ==, 2);
    g_assert_cmpint(mced_assembler_next_deadline(f->a), ==, -1);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->records_incomplete, ==, 1);

    /* a late line of the expired record is an orphan */
    feed_at(f, 1700, "MCE: CPU4: Hardware error");
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->lines_orphaned, ==, 1);
    g_assert_cmpuint(f->out->len, ==, 1);
}

static void
test_expiry_by_later_line(Fixture *f, gconstpointer data)
{
    /* In a replay nobody calls expire(): a later machine-check line does. */
    feed_at(f, 1000, "MCE: CPU4: machine check (Severe) Guest UE Load/Store [Not recovered]");
    feed_at(f, 9000, "Memory failure: 0x3f79: recovery action for clean LRU page: Recovered");
    g_assert_cmpuint(f->out->len, ==, 2);
    g_assert_cmpint(nth(f, 0)->kind, ==, MCED_OBS_PPC64_MCE);
    g_assert_cmpint(nth(f, 1)->kind, ==, MCED_OBS_MEMORY_FAILURE);
}

static void
test_orphans(Fixture *f, gconstpointer data)
{
    feed_at(f, 0, "MCE: CPU0: Initiator CPU");
    feed_at(f, 0, "MCE: CPU0: Unknown");
    feed_at(f, 0, "  Guest NIP: c000000000288384");
    feed_at(f, 0, "  Initiator: CPU");
    mced_assembler_flush(f->a);
    g_assert_cmpuint(f->out->len, ==, 0);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->lines_orphaned, ==, 4);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->lines_matched, ==, 4);
}

static void
test_legacy_block(Fixture *f, gconstpointer data)
{
    McedObservation *o;

    /* a real sample: hypervisor maintenance lines interleave with the block */
    feed_at(f, 0, "Severe Machine check interrupt [Recovered]");
    feed_at(f, 0, "Harmless Hypervisor Maintenance interrupt [Recovered]");
    feed_at(f, 0, "  Guest NIP: c00000000024a7dc");
    feed_at(f, 0, " Error detail: Processor Recovery done");
    feed_at(f, 0, "        HMER: 2040000000000000");
    feed_at(f, 0, "  Initiator: CPU");
    feed_at(f, 0, "  Error type: SLB [Multihit]");
    feed_at(f, 0, "    Effective address: d00000000316c400");
    g_assert_cmpuint(f->out->len, ==, 0);
    mced_assembler_flush(f->a);
    g_assert_cmpuint(f->out->len, ==, 1);
    o = nth(f, 0);
    g_assert_cmpstr(o->str[MCED_STR_FORMAT], ==, "legacy");
    g_assert_cmpstr(o->str[MCED_STR_ERROR_TYPE], ==, "SLB");
    g_assert_cmpstr(o->str[MCED_STR_ERROR_SUBTYPE], ==, "Multihit");
    g_assert_cmphex(o->num[MCED_NUM_EA], ==, 0xd00000000316c400);
    g_assert_true(mced_observation_get_bool(o, MCED_BOOL_IN_GUEST));
    g_assert_false(mced_observation_has_num(o, MCED_NUM_HOST_CPU));
    g_assert_cmpuint(o->lines->len, ==, 5);
    /* a legacy block ends by timeout or flush: that is its normal end */
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->records_incomplete, ==, 0);

    /* the next head ends the previous block */
    feed_at(f, 0, "Warning Machine check interrupt [Recovered]");
    feed_at(f, 0, "  Error type: ERAT [Parity]");
    feed_at(f, 0, "Fatal Machine check interrupt [Not recovered]");
    g_assert_cmpuint(f->out->len, ==, 2);
    g_assert_cmpstr(nth(f, 1)->str[MCED_STR_ERROR_TYPE], ==, "ERAT");
}

static void
test_x86_block(Fixture *f, gconstpointer data)
{
    /* The x86 parser may not be present in every build of this test's
     * history; the assembler's part is the adjacency rule. */
    feed_at(f, 0, "mce: [Hardware Error]: CPU 2: Machine Check: 0 Bank 6: cc59dec000041152");
    feed_at(f, 0, "mce: [Hardware Error]: TSC 0 ADDR 1422ff800 MISC 13020004086 ");
    feed_at(f, 0, "mce: [Hardware Error]: PROCESSOR 0:406e3 TIME 1702475168 SOCKET 0 APIC 1 "
                  "microcode d6");
    g_assert_cmpuint(f->out->len, ==, 0);
    /* trailer lines keep it open, the next unrelated line ends it */
    feed_at(f, 0, "mce: [Hardware Error]: Run the above through 'mcelog --ascii'");
    g_assert_cmpuint(f->out->len, ==, 0);
    feed_at(f, 0, "EDAC MC0: something else");
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmpint(nth(f, 0)->kind, ==, MCED_OBS_X86_MCE);
    g_assert_cmpuint(nth(f, 0)->lines->len, ==, 4);
    g_assert_cmpuint(nth(f, 0)->num[MCED_NUM_HOST_CPU], ==, 2);

    /* a real panic sequence: the notice between trailer and reason does
     * not split the block, the reason completes it */
    feed_at(f, 0, "mce: [Hardware Error]: CPU 178: Machine Check Exception: f Bank 1: "
                  "bd80000000100134");
    feed_at(f, 0, "mce: [Hardware Error]: TSC 49a1e6001c1 ADDR 80f7ada400 MISC 86");
    feed_at(f, 0, "mce: [Hardware Error]: PROCESSOR 0:806f4 TIME 1741091252 SOCKET 1 APIC c5 "
                  "microcode 2b000571");
    feed_at(f, 0, "mce: [Hardware Error]: Run the above through 'mcelog --ascii'");
    feed_at(f, 0, "mce: [Hardware Error]: Machine check events logged");
    g_assert_cmpuint(f->out->len, ==, 1);
    feed_at(f, 0, "mce: [Hardware Error]: Machine check: Data load in unrecoverable area of kernel");
    g_assert_cmpuint(f->out->len, ==, 2);
    g_assert_cmpint(nth(f, 1)->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpstr(nth(f, 1)->str[MCED_STR_MESSAGE], ==, "Data load in unrecoverable area of kernel");
    g_assert_cmpuint(nth(f, 1)->lines->len, ==, 5); /* the notice is not part of it */
}

static void
test_bounded_pending(Fixture *f, gconstpointer data)
{
    /* more open records than allowed: the oldest go, nothing grows without bound */
    for (guint cpu = 0; cpu < MCED_ASSEMBLER_MAX_PENDING + 10; cpu++) {
        g_autofree char *line = g_strdup_printf(
            "MCE: CPU%u: machine check (Severe) Guest UE Load/Store [Not recovered]", cpu);
        feed_at(f, 0, line);
    }
    g_assert_cmpuint(mced_assembler_n_pending(f->a), ==, MCED_ASSEMBLER_MAX_PENDING);
    g_assert_cmpuint(f->out->len, ==, 10);
    g_assert_cmpuint(mced_assembler_get_stats(f->a)->records_evicted, ==, 10);
    g_assert_cmpuint(nth(f, 0)->num[MCED_NUM_HOST_CPU], ==, 0);
    mced_assembler_flush(f->a);
    g_assert_cmpuint(f->out->len, ==, MCED_ASSEMBLER_MAX_PENDING + 10);
    /* flushed in the order the records were opened */
    for (guint i = 0; i < f->out->len; i++)
        g_assert_cmpuint(nth(f, i)->num[MCED_NUM_HOST_CPU], ==, i);
}

static void
test_malformed_counted(Fixture *f, gconstpointer data)
{
    const McedAssemblerStats *st = mced_assembler_get_stats(f->a);

    feed_at(f, 0, "Modules linked in:");
    feed_at(f, 0, "MCE: CPU1: machine check (Dire) Guest UE Load/Store [Recovered]");
    feed_at(f, 0, "MCE: CPU1: something new");
    g_assert_cmpuint(st->lines, ==, 3);
    g_assert_cmpuint(st->lines_matched, ==, 2);
    g_assert_cmpuint(st->lines_malformed, ==, 2);
    g_assert_cmpstr(st->first_malformed, ==,
                    "MCE: CPU1: machine check (Dire) Guest UE Load/Store [Recovered]");
    g_assert_cmpstr(st->first_malformed_reason, ==, "unknown machine check severity");
    g_assert_cmpstr(st->first_malformed_cursor, ==, "test:2");
    g_assert_cmpuint(f->out->len, ==, 0);
}

static void
test_nul_bytes_kept(Fixture *f, gconstpointer data)
{
    /* a NUL inside a line neither shortens the example nor the kept line */
    static const char bad[] = "MCE: CPU1: PID: 12 Comm: a\0b Guest NIP: [0]";
    static const char good[] = "MCE: CPU1: machine check (Severe) Guest UE Load/Store [Recovered]";
    static const char cls[] = "MCE: CPU1: Hardware error\0trailing";
    McedLineInfo info = { .cursor = "nul" };
    const McedAssemblerStats *st = mced_assembler_get_stats(f->a);

    mced_assembler_feed(f->a, &info, bad, sizeof(bad) - 1);
    g_assert_cmpuint(st->lines_malformed, ==, 1);
    g_assert_cmpstr(st->first_malformed, ==, "MCE: CPU1: PID: 12 Comm: a\\x00b Guest NIP: [0]");

    mced_assembler_feed(f->a, &info, good, sizeof(good) - 1);
    mced_assembler_feed(f->a, &info, cls, sizeof(cls) - 1);
    mced_assembler_flush(f->a);
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmpuint(nth(f, 0)->lines->len, ==, 1);
    g_assert_cmpuint(st->lines_malformed, ==, 2);
}

static void
test_line_cap(Fixture *f, gconstpointer data)
{
    /* a record never holds more than MCED_OBS_MAX_LINES lines */
    feed_at(f, 0, "mce: [Hardware Error]: CPU 2: Machine Check: 0 Bank 6: cc59dec000041152");
    feed_at(f, 0, "mce: [Hardware Error]: TSC 0");
    feed_at(f, 0, "mce: [Hardware Error]: PROCESSOR 0:406e3 TIME 1 SOCKET 0 APIC 1 microcode d6");
    for (int i = 0; i < 100; i++)
        feed_at(f, 0, "mce: [Hardware Error]: Run the above through 'mcelog --ascii'");
    mced_assembler_flush(f->a);
    g_assert_cmpuint(f->out->len, ==, 1);
    g_assert_cmpuint(nth(f, 0)->lines->len, ==, MCED_OBS_MAX_LINES);
    g_assert_true(nth(f, 0)->lines_truncated);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/assembler/compact", test_compact_record);
    ADD("/assembler/interleaved", test_interleaved_cpus);
    ADD("/assembler/same-cpu-restarts", test_same_cpu_restarts);
    ADD("/assembler/idle-timeout", test_idle_timeout);
    ADD("/assembler/expiry-by-later-line", test_expiry_by_later_line);
    ADD("/assembler/orphans", test_orphans);
    ADD("/assembler/legacy", test_legacy_block);
    ADD("/assembler/x86", test_x86_block);
    ADD("/assembler/bounded", test_bounded_pending);
    ADD("/assembler/malformed", test_malformed_counted);
    ADD("/assembler/line-cap", test_line_cap);
    ADD("/assembler/nul-bytes", test_nul_bytes_kept);
#undef ADD
    return g_test_run();
}
