/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-kmsg.h"

static void
test_kernel_record(void)
{
    static const char rec[] = "3,1234,5678901,-;MCE: CPU3: Initiator CPU\n"
                              " SUBSYSTEM=cpu\n";
    McedKmsgRecord r;
    g_autofree char *msg = NULL;

    g_assert_true(mced_kmsg_record_parse(rec, sizeof(rec) - 1, &r));
    g_assert_cmpuint(r.facility, ==, 0);
    g_assert_cmpuint(r.level, ==, 3);
    g_assert_cmpuint(r.seq, ==, 1234);
    g_assert_cmpuint(r.usec, ==, 5678901);
    g_assert_false(r.continued);
    msg = g_strndup(r.msg, r.msg_len);
    g_assert_cmpstr(msg, ==, "MCE: CPU3: Initiator CPU");
}

static void
test_user_record(void)
{
    /* what a process writing "MCE: CPU3: ..." into /dev/kmsg produces */
    static const char rec[] = "12,99,1,-,caller=T77;MCE: CPU3: machine check (Severe) Guest UE "
                              "Load/Store [Recovered]\n";
    McedKmsgRecord r;

    g_assert_true(mced_kmsg_record_parse(rec, sizeof(rec) - 1, &r));
    g_assert_cmpuint(r.facility, ==, 1);
    g_assert_cmpuint(r.level, ==, 4);
}

static void
test_continuation_and_no_newline(void)
{
    static const char rec[] = "6,7,8,c;tail";
    McedKmsgRecord r;

    g_assert_true(mced_kmsg_record_parse(rec, sizeof(rec) - 1, &r));
    g_assert_true(r.continued);
    g_assert_cmpuint(r.msg_len, ==, 4);
}

static void
test_malformed(void)
{
    static const char *const bad[] = {
        "",
        ";msg",
        "3,1,2;msg",
        "3,1,2,;msg",
        "x,1,2,-;msg",
        "3,1,2,-x;msg",
        "99999,1,2,-;msg",
        "3,99999999999999999999999,2,-;msg",
        "3,1,2,-\n;msg",
    };
    McedKmsgRecord r;

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_test_message("%s", bad[i]);
        g_assert_false(mced_kmsg_record_parse(bad[i], strlen(bad[i]), &r));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kmsg/kernel", test_kernel_record);
    g_test_add_func("/kmsg/user", test_user_record);
    g_test_add_func("/kmsg/continuation", test_continuation_and_no_newline);
    g_test_add_func("/kmsg/malformed", test_malformed);
    return g_test_run();
}
