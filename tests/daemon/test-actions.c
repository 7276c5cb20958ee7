/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The action chokepoint against libvirt's in-process test:///default
 * driver: what it does to a domain is checked through a second connection
 * to the same fake host.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <string.h>

#include "mced-actions.h"

#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f" /* the driver's "test" domain */

typedef struct {
    McedLibvirt *lv;
    McedLog *log;
    McedActions *a;
    virConnectPtr conn;
    GPtrArray *results; /* char* "action result" */
    gboolean up;
    guint stopped, started; /* lifecycle events of the test domain */
    int lifecycle_id;
} Fixture;

static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    Fixture *f = opaque;

    if (event == VIR_DOMAIN_EVENT_STOPPED)
        f->stopped++;
    else if (event == VIR_DOMAIN_EVENT_STARTED)
        f->started++;
    return 0;
}

static void
on_connection(gboolean up, const char *detail, gpointer user_data)
{
    ((Fixture *)user_data)->up = up;
}

static void
on_result(const McedActionRequest *req, McedActionResult result, const char *detail,
          gpointer user_data)
{
    static const char *const names[] = { "done", "started", "dry-run", "skipped", "succeeded",
                                         "failed" };
    Fixture *f = user_data;

    g_ptr_array_add(f->results, g_strdup_printf("%s %s", req->action, names[result]));
}

static void
iterate_until_results(Fixture *f, guint n)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (f->results->len < n) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
    }
}

static int
domain_state(Fixture *f)
{
    virDomainPtr dom = virDomainLookupByUUIDString(f->conn, TEST_UUID);
    int state = -1, reason;

    g_assert_nonnull(dom);
    g_assert_cmpint(virDomainGetState(dom, &state, &reason, 0), ==, 0);
    virDomainFree(dom);
    return state;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    static const McedLibvirtCallbacks cb = { .connection = on_connection };
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    mced_libvirt_init_event_loop();
    f->results = g_ptr_array_new_with_free_func(g_free);
    f->conn = virConnectOpen("test:///default");
    f->lv = mced_libvirt_new("test:///default", NULL, G_USEC_PER_SEC, &cb, f);
    mced_libvirt_start(f->lv);
    while (!f->up) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
    }
    f->lifecycle_id = virConnectDomainEventRegisterAny(f->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                       VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                                       f, NULL);
    g_assert_cmpint(f->lifecycle_id, >=, 0);
    f->log = mced_log_new(FALSE, FALSE);
    f->a = mced_actions_new(f->lv, f->log, on_result, f);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    virDomainPtr dom = virDomainLookupByUUIDString(f->conn, TEST_UUID);

    /* Leave the shared fake host as the next test expects it: running. */
    if (dom != NULL) {
        int state = domain_state(f);
        if (state == VIR_DOMAIN_PAUSED)
            (void)virDomainResume(dom);
        else if (state != VIR_DOMAIN_RUNNING)
            (void)virDomainCreate(dom);
        virDomainFree(dom);
    }
    (void)virConnectDomainEventDeregisterAny(f->conn, f->lifecycle_id);
    mced_actions_free(f->a);
    mced_log_free(f->log);
    mced_libvirt_free(f->lv);
    virConnectClose(f->conn);
    g_ptr_array_unref(f->results);
}

static McedActionRequest
request(const char *action)
{
    return (McedActionRequest){
        .incident_id = "i-0123456789abcdef",
        .domain = "test",
        .uuid = TEST_UUID,
        .action = action,
        .reason = "unit test",
    };
}

static void
test_no_change(Fixture *f, gconstpointer data)
{
    McedActionRequest log = request("log");
    McedActionRequest notify = request("notify");
    McedActionRequest bogus = request("format-disk");

    g_assert_cmpint(mced_actions_request(f->a, &log), ==, MCED_ACTION_RESULT_DONE);
    g_assert_cmpint(mced_actions_request(f->a, &notify), ==, MCED_ACTION_RESULT_DONE);
    g_assert_cmpint(mced_actions_request(f->a, &bogus), ==, MCED_ACTION_RESULT_SKIPPED);
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_RUNNING);
    g_assert_cmpuint(mced_actions_in_last_hour(f->a, g_get_real_time()), ==, 0);
}

static void
test_dry_run(Fixture *f, gconstpointer data)
{
    McedActionRequest req = request("pause");

    req.dry_run = TRUE;
    g_assert_cmpint(mced_actions_request(f->a, &req), ==, MCED_ACTION_RESULT_DRY_RUN);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_RUNNING);
    g_assert_false(mced_actions_busy(f->a, TEST_UUID));
}

/* A drill's action is a dry run whatever the request says. */
static void
test_drill_is_dry_run(Fixture *f, gconstpointer data)
{
    McedActionRequest req = request("pause");

    req.synthetic = TRUE;
    g_assert_cmpint(mced_actions_request(f->a, &req), ==, MCED_ACTION_RESULT_DRY_RUN);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_RUNNING);
    g_assert_false(mced_actions_busy(f->a, TEST_UUID));
    g_assert_cmpuint(mced_actions_in_last_hour(f->a, g_get_real_time()), ==, 0);
}

static void
test_pause_and_busy(Fixture *f, gconstpointer data)
{
    McedActionRequest pause = request("pause");
    McedActionRequest again = request("destroy");

    g_assert_cmpint(mced_actions_request(f->a, &pause), ==, MCED_ACTION_RESULT_STARTED);
    /* one action per domain at a time */
    g_assert_true(mced_actions_busy(f->a, TEST_UUID));
    g_assert_cmpint(mced_actions_request(f->a, &again), ==, MCED_ACTION_RESULT_SKIPPED);
    iterate_until_results(f, 3); /* started, skipped, succeeded */
    g_assert_cmpstr(f->results->pdata[0], ==, "pause started");
    g_assert_cmpstr(f->results->pdata[1], ==, "destroy skipped");
    g_assert_cmpstr(f->results->pdata[2], ==, "pause succeeded");
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_PAUSED);
    g_assert_false(mced_actions_busy(f->a, TEST_UUID));
    g_assert_cmpuint(mced_actions_in_last_hour(f->a, g_get_real_time()), ==, 1);
}

static void
test_migrate_fails_then_fallback(Fixture *f, gconstpointer data)
{
    const char *const peers[] = { "test:///nonexistent-peer.xml", NULL };
    McedActionSettings s = { .migrate_peers = (GStrv)peers,
                             .migrate_timeout_us = 5 * G_USEC_PER_SEC,
                             .action_timeout_us = 5 * G_USEC_PER_SEC };
    McedActionRequest req = request("migrate");
    gint64 deadline;

    mced_actions_set_settings(f->a, &s);
    req.fallback = "restart";
    g_assert_cmpint(mced_actions_request(f->a, &req), ==, MCED_ACTION_RESULT_STARTED);
    g_assert_cmpuint(mced_actions_migrations_in_flight(f->a), ==, 1);
    iterate_until_results(f, 4);
    g_assert_cmpstr(f->results->pdata[0], ==, "migrate started");
    g_assert_cmpstr(f->results->pdata[1], ==, "migrate failed");
    g_assert_cmpstr(f->results->pdata[2], ==, "restart started");
    g_assert_cmpstr(f->results->pdata[3], ==, "restart succeeded");
    g_assert_cmpuint(mced_actions_migrations_in_flight(f->a), ==, 0);
    /* a cold restart: stopped, started, running again */
    deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (f->stopped < 1 || f->started < 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_main_context_iteration(NULL, FALSE);
    }
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_RUNNING);
}

/* A reached 'dump' step below the chosen one: the memory is dumped into
 * the dump directory, then the ladder's own step (pause) runs. */
static void
test_dump_then_continue(Fixture *f, gconstpointer data)
{
    g_autofree char *dir = g_dir_make_tmp("mced-dump-XXXXXX", NULL);
    McedActionSettings s = { .dump_directory = dir,
                             .migrate_timeout_us = 5 * G_USEC_PER_SEC,
                             .action_timeout_us = 5 * G_USEC_PER_SEC };
    McedActionRequest req = request("pause");
    g_autoptr(GDir) d = NULL;
    const char *entry;
    guint n_dumps = 0;

    g_assert_nonnull(dir);
    mced_actions_set_settings(f->a, &s);
    req.dump_first = TRUE;
    g_assert_cmpint(mced_actions_request(f->a, &req), ==, MCED_ACTION_RESULT_STARTED);
    iterate_until_results(f, 4);
    g_assert_cmpstr(f->results->pdata[0], ==, "dump started");
    g_assert_cmpstr(f->results->pdata[1], ==, "dump succeeded");
    g_assert_cmpstr(f->results->pdata[2], ==, "pause started");
    g_assert_cmpstr(f->results->pdata[3], ==, "pause succeeded");
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_PAUSED);
    d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    while ((entry = g_dir_read_name(d)) != NULL) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);

        g_assert_true(g_str_has_prefix(entry, TEST_UUID "-"));
        g_assert_true(g_str_has_suffix(entry, ".dump"));
        n_dumps++;
        g_assert_cmpint(g_unlink(path), ==, 0);
    }
    g_assert_cmpuint(n_dumps, ==, 1);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    g_assert_cmpuint(mced_actions_in_last_hour(f->a, g_get_real_time()), ==, 2);
}

/* Dry-run logs both steps and changes nothing. */
static void
test_dump_then_continue_dry_run(Fixture *f, gconstpointer data)
{
    McedActionRequest req = request("restart");

    req.dump_first = TRUE;
    req.dry_run = TRUE;
    g_assert_cmpint(mced_actions_request(f->a, &req), ==, MCED_ACTION_RESULT_DRY_RUN);
    g_assert_cmpuint(f->results->len, ==, 2);
    g_assert_cmpstr(f->results->pdata[0], ==, "dump dry-run");
    g_assert_cmpstr(f->results->pdata[1], ==, "restart dry-run");
    g_assert_cmpint(domain_state(f), ==, VIR_DOMAIN_RUNNING);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/actions/no-change", test_no_change);
    ADD("/actions/dry-run", test_dry_run);
    ADD("/actions/drill-is-dry-run", test_drill_is_dry_run);
    ADD("/actions/pause-and-busy", test_pause_and_busy);
    ADD("/actions/migrate-fallback", test_migrate_fails_then_fallback);
    ADD("/actions/dump-then-continue", test_dump_then_continue);
    ADD("/actions/dump-then-continue-dry-run", test_dump_then_continue_dry_run);
#undef ADD
    return g_test_run();
}
