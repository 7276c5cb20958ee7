/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "mced-config.h"
#include "mced-error.h"
#include "mced-policy.h"
#include "test-util.h"

#define HOUR G_TIME_SPAN_HOUR
#define NOW  (1000 * G_TIME_SPAN_DAY) /* the injected clock */

#define UUID_A "5f1c2d3e-0000-4000-8000-00000000000a"
#define UUID_B "5f1c2d3e-0000-4000-8000-00000000000b"

#define PEERS "[policy]\nmigrate-peers = qemu+ssh://peer1/system qemu+ssh://peer2/system\n"

typedef struct {
    char *dir;
    char *main;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("test-policy-XXXXXX", &error);
    g_assert_no_error(error);
    f->main = g_build_filename(f->dir, "kvm-mced.conf", NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    test_remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->main);
}

static void
write_text(const char *path, const char *text)
{
    test_write_file(path, text, -1);
}

/* Loads @path the way the daemon does: the configuration loader first
 * (which must accept the policy groups), then the policy of its files. */
static McedPolicy *
load_path(const char *path, GError **error)
{
    g_autoptr(McedConfig) cfg = mced_config_load(path, error);

    if (cfg == NULL)
        return NULL;
    g_ptr_array_add(cfg->files, NULL);
    return mced_policy_load((const char *const *)cfg->files->pdata, error);
}

static McedPolicy *
load_ok(Fixture *f, const char *text)
{
    g_autoptr(GError) error = NULL;
    McedPolicy *p;

    write_text(f->main, text);
    p = load_path(f->main, &error);
    g_assert_no_error(error);
    g_assert_nonnull(p);
    return p;
}

static void
assert_load_error(Fixture *f, const char *text, const char *expected)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedPolicy) p = NULL;
    g_autofree char *prefix = g_strconcat(f->dir, "/", NULL);
    g_auto(GStrv) parts = NULL;
    g_autofree char *rel = NULL;

    write_text(f->main, text);
    p = load_path(f->main, &error);
    if (p != NULL)
        g_error("loaded, expected '%s' from:\n%s", expected, text);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    parts = g_strsplit(error->message, prefix, -1);
    rel = g_strjoinv("", parts);
    g_assert_cmpstr(rel, ==, expected);
}

static GArray *
times_new(const gint64 *ago, gsize n)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(gint64));

    /* @ago is newest-last: the largest age first. */
    for (gsize i = 0; i < n; i++) {
        gint64 t = NOW - ago[i];
        g_array_append_val(a, t);
    }
    return a;
}

static McedDecision *
decide(const McedPolicy *p, const char *name, const char *uuid, McedIncidentClass c,
       const GArray *times)
{
    McedPolicyInput in = {
        .name = name,
        .uuid = uuid,
        .klass = c,
        .now_us = NOW,
        .times = times,
    };

    return mced_policy_decide(p, &in);
}

/* ---- actions and ladders ---------------------------------------------- */

static void
test_actions(void)
{
    for (int a = 0; a < _MCED_ACTION_MAX; a++)
        g_assert_cmpint(mced_action_from_string(mced_action_to_string(a)), ==, a);
    g_assert_cmpint(mced_action_from_string("Migrate"), ==, _MCED_ACTION_INVALID);
    g_assert_cmpint(mced_action_from_string(""), ==, _MCED_ACTION_INVALID);
    g_assert_null(mced_action_to_string(_MCED_ACTION_MAX));
    g_assert_false(mced_action_changes_vm(MCED_ACTION_IGNORE));
    g_assert_false(mced_action_changes_vm(MCED_ACTION_LOG));
    g_assert_false(mced_action_changes_vm(MCED_ACTION_NOTIFY));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_PAUSE));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_MIGRATE));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_RESTART));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_RESET));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_REBOOT));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_DESTROY));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_DUMP));
    g_assert_true(mced_action_changes_vm(MCED_ACTION_NMI));
}

static void
test_ladder_parse(void)
{
    McedLadder l;
    g_autofree char *text = NULL;

    g_assert_true(mced_ladder_parse("log; migrate after 3/24h", FALSE, &l, NULL));
    g_assert_cmpuint(l.n_steps, ==, 2);
    g_assert_cmpint(l.steps[0].action, ==, MCED_ACTION_LOG);
    g_assert_cmpuint(l.steps[0].n, ==, 0);
    g_assert_cmpint(l.steps[1].action, ==, MCED_ACTION_MIGRATE);
    g_assert_cmpuint(l.steps[1].n, ==, 3);
    g_assert_cmpint(l.steps[1].period_us, ==, 24 * HOUR);

    g_assert_true(mced_ladder_parse("  notify ;dump after 2/1h;  restart\tafter 3/1h ", FALSE,
                                    &l, NULL));
    text = mced_ladder_to_string(&l);
    g_assert_cmpstr(text, ==, "notify; dump after 2/1h; restart after 3/1h");

    /* a larger count over a longer period is reachable after a smaller one */
    g_assert_true(mced_ladder_parse("log after 1/1h; pause after 5/7d", FALSE, &l, NULL));
    /* same count, shorter period: denser, reachable */
    g_assert_true(mced_ladder_parse("notify after 2/24h; reset after 2/1h", FALSE, &l, NULL));
    /* host ladders */
    g_assert_true(mced_ladder_parse("log; notify after 2/1h", TRUE, &l, NULL));
}

static void
test_ladder_invalid(void)
{
    static const struct {
        const char *text;
        gboolean host;
        const char *reason;
    } cases[] = {
        { "", FALSE, "empty ladder" },
        { " ", FALSE, "empty step (steps are separated by ';')" },
        { "log;", FALSE, "empty step (steps are separated by ';')" },
        { "log;; notify", FALSE, "empty step (steps are separated by ';')" },
        { "reboot-now", FALSE,
          "unknown action 'reboot-now' (expected one of ignore, log, notify, pause, migrate, "
          "restart, reset, reboot, destroy, dump, nmi)" },
        { "migrate after", FALSE,
          "bad step 'migrate after' (expected ACTION or ACTION after N/PERIOD)" },
        { "migrate when 3/24h", FALSE,
          "bad step 'migrate when 3/24h' (expected ACTION or ACTION after N/PERIOD)" },
        { "migrate after 3/24h now", FALSE,
          "bad step 'migrate after 3/24h now' (expected ACTION or ACTION after N/PERIOD)" },
        { "migrate after 3", FALSE, "bad threshold '3' (expected N/PERIOD, e.g. 3/24h)" },
        { "migrate after x/24h", FALSE,
          "bad count in 'x/24h' (expected N/PERIOD, e.g. 3/24h)" },
        { "migrate after -1/24h", FALSE,
          "bad count in '-1/24h' (expected N/PERIOD, e.g. 3/24h)" },
        { "migrate after 0/24h", FALSE, "count in '0/24h' is out of range (1 .. 1000)" },
        { "migrate after 1001/24h", FALSE, "count in '1001/24h' is out of range (1 .. 1000)" },
        { "migrate after 3/soon", FALSE,
          "bad duration in '3/soon' (expected e.g. 1h, 24h, 7d)" },
        { "migrate after 3/500ms", FALSE, "period in '3/500ms' is out of range (1s .. 30d)" },
        { "migrate after 3/31d", FALSE, "period in '3/31d' is out of range (1s .. 30d)" },
        { "log; log after 2/1h", FALSE, "impossible ladder: 'log' appears twice" },
        { "migrate; restart after 2/1h", FALSE,
          "impossible ladder: 'restart after 2/1h' follows 'migrate', after which the domain "
          "is no longer on this host" },
        { "destroy after 1/1h; dump after 2/1h", FALSE,
          "impossible ladder: 'dump after 2/1h' follows 'destroy', after which the domain is "
          "no longer on this host" },
        { "log; notify", FALSE,
          "impossible ladder: 'log' can never be chosen, 'notify' later in the ladder is "
          "reached whenever it is" },
        { "notify after 3/24h; restart after 3/24h", FALSE,
          "impossible ladder: 'notify after 3/24h' can never be chosen, 'restart after 3/24h' "
          "later in the ladder is reached whenever it is" },
        { "notify after 3/1h; restart after 2/24h", FALSE,
          "impossible ladder: 'notify after 3/1h' can never be chosen, 'restart after 2/24h' "
          "later in the ladder is reached whenever it is" },
        { "log after 2/1h; notify", FALSE,
          "impossible ladder: 'log after 2/1h' can never be chosen, 'notify' later in the "
          "ladder is reached whenever it is" },
        { "log; notify after 1/1h; pause after 2/1h; reset after 3/1h; reboot after 4/1h; "
          "nmi after 5/1h; dump after 6/1h; restart after 7/1h; destroy after 8/1h", FALSE,
          "more than 8 steps" },
        { "log; pause after 2/1h", TRUE,
          "'pause' acts on a domain; host incidents allow only ignore, log and notify" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        McedLadder l;
        g_autofree char *reason = NULL;

        if (mced_ladder_parse(cases[i].text, cases[i].host, &l, &reason))
            g_error("'%s' parsed", cases[i].text);
        g_assert_cmpstr(reason, ==, cases[i].reason);
    }
}

/* ---- loading ----------------------------------------------------------- */

static void
test_defaults(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, "[daemon]\n");

    g_assert_false(p->dry_run);
    g_assert_cmpint(p->cooldown_us, ==, 10 * G_TIME_SPAN_MINUTE);
    g_assert_cmpuint(p->max_concurrent_migrations, ==, 2);
    g_assert_cmpuint(p->max_actions_per_hour, ==, 20);
    g_assert_null(p->migrate_peers[0]);
    g_assert_cmpint(p->migrate_timeout_us, ==, 5 * G_TIME_SPAN_MINUTE);
    g_assert_cmpint(p->action_timeout_us, ==, 2 * G_TIME_SPAN_MINUTE);
    g_assert_cmpstr(p->dump_directory, ==, "/var/lib/kvm-mced/dumps");
    g_assert_cmpuint(p->degraded_n, ==, 3);
    g_assert_cmpint(p->degraded_period_us, ==, HOUR);
    g_assert_false(p->evacuate);
    g_assert_cmpint(p->evacuation_order, ==, MCED_EVACUATE_FATAL_FIRST);
    g_assert_cmpuint(p->rules->len, ==, 0);
    for (int c = 0; c < _MCED_CLASS_MAX; c++) {
        g_autoptr(McedDecision) d = decide(p, "vm", NULL, c, NULL);

        g_assert_null(p->class_origin[c]);
        g_assert_cmpuint(p->ladders[c].n_steps, ==, 1);
        g_assert_cmpint(p->ladders[c].steps[0].action, ==, MCED_ACTION_LOG);
        g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
        g_assert_cmpstr(d->source, ==, "built-in");
        g_assert_false(d->dry_run);
    }
}

static void
test_all_keys(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f,
        "[policy]\n"
        "dry-run = yes\n"
        "cooldown = 30m\n"
        "max-concurrent-migrations = 4\n"
        "max-actions-per-hour = 50\n"
        "migrate-peers = qemu+ssh://a/system  qemu+tls://b/system\n"
        "migrate-timeout = 10m\n"
        "action-timeout = 30s\n"
        "dump-directory = /srv/dumps\n"
        "host-degraded-after = 5/2h\n"
        "evacuate = yes\n"
        "evacuation-order = name\n"
        "[policy.corrected]\n"
        "ladder = log; notify after 10/1h; migrate after 50/24h\n"
        "fallback = log\n"
        "[policy.guest]\n"
        "ladder = notify; migrate after 2/24h\n"
        "fallback = restart\n"
        "[policy.fatal]\n"
        "ladder = dump; restart after 1/1h\n"
        "[policy.host]\n"
        "ladder = log; notify after 2/1h\n"
        "[rule db]\n"
        "match = db-*\n"
        "guest = pause\n"
        "dry-run = no\n"
        "[rule one]\n"
        "uuid = " UUID_A "\n"
        "fatal = nmi; destroy after 2/1h\n");
    const McedPolicyRule *r;

    g_assert_true(p->dry_run);
    g_assert_cmpint(p->cooldown_us, ==, 30 * G_TIME_SPAN_MINUTE);
    g_assert_cmpuint(p->max_concurrent_migrations, ==, 4);
    g_assert_cmpuint(p->max_actions_per_hour, ==, 50);
    g_assert_cmpuint(g_strv_length(p->migrate_peers), ==, 2);
    g_assert_cmpstr(p->migrate_peers[0], ==, "qemu+ssh://a/system");
    g_assert_cmpstr(p->migrate_peers[1], ==, "qemu+tls://b/system");
    g_assert_cmpint(p->migrate_timeout_us, ==, 10 * G_TIME_SPAN_MINUTE);
    g_assert_cmpint(p->action_timeout_us, ==, 30 * G_TIME_SPAN_SECOND);
    g_assert_cmpstr(p->dump_directory, ==, "/srv/dumps");
    g_assert_cmpuint(p->degraded_n, ==, 5);
    g_assert_cmpint(p->degraded_period_us, ==, 2 * HOUR);
    g_assert_true(p->evacuate);
    g_assert_cmpint(p->evacuation_order, ==, MCED_EVACUATE_NAME);
    g_assert_cmpuint(p->ladders[MCED_CLASS_CORRECTED].n_steps, ==, 3);
    g_assert_cmpint(p->fallback[MCED_CLASS_CORRECTED], ==, MCED_ACTION_LOG);
    g_assert_cmpint(p->fallback[MCED_CLASS_GUEST], ==, MCED_ACTION_RESTART);
    g_assert_cmpint(p->fallback[MCED_CLASS_FATAL], ==, MCED_ACTION_NOTIFY);
    g_assert_cmpint(p->ladders[MCED_CLASS_FATAL].steps[0].action, ==, MCED_ACTION_DUMP);
    g_assert_cmpuint(p->ladders[MCED_CLASS_HOST].n_steps, ==, 2);
    g_assert_nonnull(g_strrstr(p->class_origin[MCED_CLASS_GUEST], "kvm-mced.conf:17"));
    g_assert_cmpuint(p->rules->len, ==, 2);
    r = p->rules->pdata[0];
    g_assert_cmpstr(r->name, ==, "db");
    g_assert_cmpstr(r->match, ==, "db-*");
    g_assert_true(r->has_ladder[MCED_CLASS_GUEST]);
    g_assert_false(r->has_ladder[MCED_CLASS_FATAL]);
    g_assert_cmpint(r->dry_run, ==, 0);
    r = p->rules->pdata[1];
    g_assert_cmpstr(r->uuid, ==, UUID_A);
    g_assert_cmpint(r->dry_run, ==, -1);
    g_assert_cmpint(mced_policy_keep_us(p), ==, 24 * HOUR);
}

static void
test_invalid(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        { "[policy]\nfoo = 1\n", "kvm-mced.conf:2: [policy] foo: unknown key" },
        { "[policy.guest]\nmatch = x\n", "kvm-mced.conf:2: [policy.guest] match: unknown key" },
        { "[policy.host]\nfallback = log\n",
          "kvm-mced.conf:2: [policy.host] fallback: unknown key" },
        { "[policy.warm]\n",
          "kvm-mced.conf:1: [policy.warm]: unknown group (expected policy.corrected, "
          "policy.guest, policy.fatal or policy.host)" },
        { "[rule a b]\nmatch = x\n",
          "kvm-mced.conf:1: [rule a b]: bad rule name (1 to 64 of A-Z a-z 0-9 . _ -)" },
        { "[policy]\ndry-run = maybe\n",
          "kvm-mced.conf:2: [policy] dry-run: bad value 'maybe' (expected yes or no)" },
        { "[policy]\ndry-run =\n", "kvm-mced.conf:2: [policy] dry-run: empty value" },
        { "[policy]\ncooldown = soon\n",
          "kvm-mced.conf:2: [policy] cooldown: bad duration 'soon' (expected e.g. 500ms, 5s, "
          "2m)" },
        { "[policy]\ncooldown = 8d\n",
          "kvm-mced.conf:2: [policy] cooldown: duration '8d' is out of range (0ms .. 7d)" },
        { "[policy]\nmax-concurrent-migrations = 0\n",
          "kvm-mced.conf:2: [policy] max-concurrent-migrations: 0 is out of range (1 .. 64)" },
        { "[policy]\nmax-concurrent-migrations = two\n",
          "kvm-mced.conf:2: [policy] max-concurrent-migrations: bad number 'two'" },
        { "[policy]\nmax-actions-per-hour = 1001\n",
          "kvm-mced.conf:2: [policy] max-actions-per-hour: 1001 is out of range (1 .. 1000)" },
        { "[policy]\nmigrate-peers = peer1\n",
          "kvm-mced.conf:2: [policy] migrate-peers: 'peer1' is not a libvirt URI (e.g. "
          "qemu+ssh://peer/system)" },
        { "[policy]\nmigrate-timeout = 1s\n",
          "kvm-mced.conf:2: [policy] migrate-timeout: duration '1s' is out of range (10s .. "
          "6h)" },
        { "[policy]\naction-timeout = 2h\n",
          "kvm-mced.conf:2: [policy] action-timeout: duration '2h' is out of range (1s .. 1h)" },
        { "[policy]\ndump-directory = dumps\n",
          "kvm-mced.conf:2: [policy] dump-directory: 'dumps' is not an absolute path" },
        { "[policy]\nhost-degraded-after = 3\n",
          "kvm-mced.conf:2: [policy] host-degraded-after: bad threshold '3' (expected "
          "N/PERIOD, e.g. 3/24h)" },
        { "[policy]\nhost-degraded-after = 0/1h\n",
          "kvm-mced.conf:2: [policy] host-degraded-after: count in '0/1h' is out of range (1 "
          ".. 1000)" },
        { "[policy]\nevacuate = always\n",
          "kvm-mced.conf:2: [policy] evacuate: bad value 'always' (expected yes or no)" },
        { "[policy]\nevacuation-order = random\n",
          "kvm-mced.conf:2: [policy] evacuation-order: bad value 'random' (expected "
          "fatal-first or name)" },
        { "[policy.guest]\nladder = log; explode after 2/1h\n",
          "kvm-mced.conf:2: [policy.guest] ladder: unknown action 'explode' (expected one of "
          "ignore, log, notify, pause, migrate, restart, reset, reboot, destroy, dump, nmi)" },
        { "[policy.guest]\nladder = log; reset after 2/forever\n",
          "kvm-mced.conf:2: [policy.guest] ladder: bad duration in '2/forever' (expected e.g. "
          "1h, 24h, 7d)" },
        { "[policy.fatal]\nladder = destroy; restart after 1/1h\n",
          "kvm-mced.conf:2: [policy.fatal] ladder: impossible ladder: 'restart after 1/1h' "
          "follows 'destroy', after which the domain is no longer on this host" },
        { "[policy.host]\nladder = restart\n",
          "kvm-mced.conf:2: [policy.host] ladder: 'restart' acts on a domain; host incidents "
          "allow only ignore, log and notify" },
        { "[policy.guest]\nfallback = migrate\n",
          "kvm-mced.conf:2: [policy.guest] fallback: 'migrate' cannot be a fallback (expected "
          "log, notify, pause, restart, reset, reboot, destroy or nmi)" },
        { "[policy.guest]\nfallback = dump\n",
          "kvm-mced.conf:2: [policy.guest] fallback: 'dump' cannot be a fallback (expected "
          "log, notify, pause, restart, reset, reboot, destroy or nmi)" },
        { "[policy.guest]\nfallback = pray\n",
          "kvm-mced.conf:2: [policy.guest] fallback: unknown action 'pray' (expected one of "
          "ignore, log, notify, pause, migrate, restart, reset, reboot, destroy, dump, nmi)" },
        { "[policy.guest]\nladder = log; migrate after 3/24h\n",
          "kvm-mced.conf:2: [policy.guest] ladder: migrate needs [policy] migrate-peers" },
        { "[rule r]\nmatch = web-*\nguest = migrate\n",
          "kvm-mced.conf:3: [rule r] guest: migrate needs [policy] migrate-peers" },
        { "[rule r]\nguest = log\n",
          "kvm-mced.conf:1: [rule r]: a rule needs match (a name pattern) or uuid" },
        { "[rule r]\nmatch = a*\nuuid = " UUID_A "\n",
          "kvm-mced.conf:3: [rule r] uuid: a rule has match or uuid, not both" },
        { "[rule r]\nuuid = not-a-uuid\n",
          "kvm-mced.conf:2: [rule r] uuid: 'not-a-uuid' is not a UUID" },
        { "[rule r]\nmatch = a*\nhost = log\n",
          "kvm-mced.conf:3: [rule r] host: host incidents concern no domain; set them in "
          "[policy.host]" },
        { "[rule r]\nmatch = a*\nfallback = log\n",
          "kvm-mced.conf:3: [rule r] fallback: unknown key" },
        { "[rule r]\nmatch = a*\ndry-run = on\n",
          "kvm-mced.conf:3: [rule r] dry-run: bad value 'on' (expected yes or no)" },
        { "[rule r]\nmatch = a*\nguest = log; notify\n",
          "kvm-mced.conf:3: [rule r] guest: impossible ladder: 'log' can never be chosen, "
          "'notify' later in the ladder is reached whenever it is" },
        /* the configuration loader still checks the syntax of these groups */
        { "[policy]\ncooldown = 1m\ncooldown = 2m\n",
          "kvm-mced.conf:3: [policy] cooldown: duplicate key (first set on line 2)" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        assert_load_error(f, cases[i].text, cases[i].message);
}

static void
test_dropins(Fixture *f, gconstpointer data)
{
    g_autofree char *dir = g_build_filename(f->dir, "conf.d", NULL);
    g_autofree char *d1 = g_build_filename(dir, "10-a.conf", NULL);
    g_autofree char *d2 = g_build_filename(dir, "20-b.conf", NULL);
    g_autoptr(McedPolicy) p = NULL;
    g_autoptr(GError) error = NULL;
    const McedPolicyRule *r;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    write_text(d1, "[policy]\ncooldown = 1h\n[rule web]\nmatch = web-*\nguest = notify\n"
                   "[rule db]\nmatch = db-*\nguest = pause\n");
    write_text(d2, "[policy]\nmax-actions-per-hour = 5\n[rule web]\nguest = reset\n"
                   "[policy.guest]\nladder = nmi\n");
    p = load_ok(f, "[policy]\ncooldown = 5m\nmax-actions-per-hour = 7\n");
    g_assert_cmpint(p->cooldown_us, ==, HOUR);
    g_assert_cmpuint(p->max_actions_per_hour, ==, 5);
    g_assert_cmpuint(p->rules->len, ==, 2);
    r = p->rules->pdata[0];
    g_assert_cmpstr(r->name, ==, "web");
    g_assert_cmpstr(r->match, ==, "web-*");
    g_assert_cmpint(r->ladders[MCED_CLASS_GUEST].steps[0].action, ==, MCED_ACTION_RESET);
    g_assert_nonnull(g_strrstr(r->origin, "10-a.conf:3"));
    g_assert_nonnull(g_strrstr(p->class_origin[MCED_CLASS_GUEST], "20-b.conf:6"));

    /* an error in a drop-in names the drop-in */
    write_text(d2, "[policy]\n\nmax-actions-per-hour = lots\n");
    g_clear_pointer(&p, mced_policy_free);
    p = load_path(f->main, &error);
    g_assert_null(p);
    g_assert_nonnull(strstr(error->message, "conf.d/20-b.conf:3: [policy] max-actions-per-hour: "
                                            "bad number 'lots'"));
}

/* ---- decisions --------------------------------------------------------- */

static void
test_thresholds(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, PEERS "[policy.guest]\n"
                                             "ladder = log; migrate after 3/24h\n");
    static const gint64 two[] = { 30 * HOUR, 5 * HOUR, HOUR };
    static const gint64 three[] = { 20 * HOUR, 5 * HOUR, 0 };
    static const gint64 boundary[] = { 24 * HOUR, 5 * HOUR, 0 };
    static const gint64 inside[] = { 24 * HOUR - 1, 5 * HOUR, 0 };
    g_autoptr(GArray) t2 = times_new(two, G_N_ELEMENTS(two));
    g_autoptr(GArray) t3 = times_new(three, G_N_ELEMENTS(three));
    g_autoptr(GArray) tb = times_new(boundary, G_N_ELEMENTS(boundary));
    g_autoptr(GArray) ti = times_new(inside, G_N_ELEMENTS(inside));
    g_autoptr(McedDecision) d = NULL;

    /* 3 times, only 2 in the window: the first step */
    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, t2);
    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_assert_cmpstr(d->step, ==, "log");
    g_assert_cmpstr(d->source, ==, "policy.guest");
    g_assert_cmpstr(d->reason, ==,
                    "'log' applies to every incident; 'migrate after 3/24h' not reached (2 so "
                    "far)");
    g_assert_cmpint(d->fallback, ==, _MCED_ACTION_INVALID);
    g_clear_pointer(&d, mced_decision_free);

    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, t3);
    g_assert_cmpint(d->action, ==, MCED_ACTION_MIGRATE);
    g_assert_cmpint(d->planned, ==, MCED_ACTION_MIGRATE);
    g_assert_cmpstr(d->reason, ==, "3 guest incidents in 24h reached 'migrate after 3/24h'");
    g_assert_cmpint(d->fallback, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpuint(d->guards->len, ==, 0);
    g_clear_pointer(&d, mced_decision_free);

    /* exactly one period old no longer counts; a microsecond younger does */
    g_assert_cmpuint(mced_policy_count_in_window(tb, NOW, 24 * HOUR), ==, 2);
    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, tb);
    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_clear_pointer(&d, mced_decision_free);
    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, ti);
    g_assert_cmpint(d->action, ==, MCED_ACTION_MIGRATE);
    g_clear_pointer(&d, mced_decision_free);

    /* other classes are untouched */
    d = decide(p, "vm", NULL, MCED_CLASS_CORRECTED, t3);
    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_assert_cmpstr(d->source, ==, "built-in");
}

static void
test_no_step_reached(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, "[policy.corrected]\n"
                                         "ladder = notify after 2/1h; reset after 4/1h\n");
    static const gint64 one[] = { 0 };
    static const gint64 four[] = { 3000 * G_TIME_SPAN_SECOND, 2 * G_TIME_SPAN_SECOND,
                                   G_TIME_SPAN_SECOND, 0 };
    g_autoptr(GArray) t1 = times_new(one, 1);
    g_autoptr(GArray) t4 = times_new(four, 4);
    g_autoptr(McedDecision) d = decide(p, "vm", NULL, MCED_CLASS_CORRECTED, t1);

    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_assert_null(d->step);
    g_assert_cmpstr(d->reason, ==, "no step reached ('notify after 2/1h' needs 2, 1 so far): log");
    g_clear_pointer(&d, mced_decision_free);
    d = decide(p, "vm", NULL, MCED_CLASS_CORRECTED, t4);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESET);
    g_assert_cmpstr(d->reason, ==, "4 corrected incidents in 1h reached 'reset after 4/1h'");
}

static void
test_rules(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f,
        "[policy.guest]\nladder = notify\n"
        "[rule pinned]\nuuid = " UUID_A "\nguest = pause\n"
        "[rule web-first]\nmatch = web-*\nfatal = nmi\n"
        "[rule web-all]\nmatch = web-*\nguest = reboot\nfatal = reset\n"
        "[rule any-db]\nmatch = *db?\nguest = destroy\n");
    static const struct {
        const char *name;
        const char *uuid;
        McedIncidentClass klass;
        McedActionKind action;
        const char *source;
    } cases[] = {
        { "web-1", NULL, MCED_CLASS_GUEST, MCED_ACTION_REBOOT, "rule web-all" },
        { "web-1", NULL, MCED_CLASS_FATAL, MCED_ACTION_NMI, "rule web-first" },
        { "web-1", NULL, MCED_CLASS_CORRECTED, MCED_ACTION_LOG, "built-in" },
        /* the UUID rule comes first, and UUIDs compare without case */
        { "web-1", UUID_A, MCED_CLASS_GUEST, MCED_ACTION_PAUSE, "rule pinned" },
        { "other", "5F1C2D3E-0000-4000-8000-00000000000A", MCED_CLASS_GUEST, MCED_ACTION_PAUSE,
          "rule pinned" },
        { "other", UUID_B, MCED_CLASS_GUEST, MCED_ACTION_NOTIFY, "policy.guest" },
        { "mydb1", NULL, MCED_CLASS_GUEST, MCED_ACTION_DESTROY, "rule any-db" },
        { "mydb", NULL, MCED_CLASS_GUEST, MCED_ACTION_NOTIFY, "policy.guest" },
        { "Web-1", NULL, MCED_CLASS_GUEST, MCED_ACTION_NOTIFY, "policy.guest" },
        { NULL, UUID_B, MCED_CLASS_GUEST, MCED_ACTION_NOTIFY, "policy.guest" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(McedDecision) d = decide(p, cases[i].name, cases[i].uuid, cases[i].klass,
                                           NULL);

        g_assert_cmpint(d->action, ==, cases[i].action);
        g_assert_cmpstr(d->source, ==, cases[i].source);
    }
}

static void
test_override(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f,
        "[policy.guest]\nladder = notify\n"
        "[policy.fatal]\nladder = reset\n"
        "[rule web]\nmatch = web-*\nguest = pause\ncorrected = notify\ndry-run = yes\n");
    g_autoptr(McedPolicyOverride) o = NULL;
    g_autoptr(GError) error = NULL;
    McedPolicyInput in = { .name = "web-1", .now_us = NOW };
    g_autoptr(McedDecision) d = NULL;

    g_assert_true(mced_policy_parse_override(
        "<mced:policy xmlns:mced=\"" MCED_POLICY_XMLNS "\" guest=\"log; restart after 2/1h\" "
        "dry-run=\"no\"/>", &o, &error));
    g_assert_no_error(error);
    g_assert_true(o->has_ladder[MCED_CLASS_GUEST]);
    g_assert_false(o->has_ladder[MCED_CLASS_FATAL]);
    g_assert_cmpint(o->dry_run, ==, 0);
    in.override = o;

    /* override > rule */
    in.klass = MCED_CLASS_GUEST;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_assert_cmpstr(d->source, ==, "override");
    g_assert_false(d->dry_run); /* the override's dry-run beats the rule's */
    g_clear_pointer(&d, mced_decision_free);
    /* rule > policy.<class> when the override does not set the class */
    in.klass = MCED_CLASS_CORRECTED;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpstr(d->source, ==, "rule web");
    g_clear_pointer(&d, mced_decision_free);
    /* policy.<class> when neither sets it */
    in.klass = MCED_CLASS_FATAL;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESET);
    g_assert_cmpstr(d->source, ==, "policy.fatal");
    g_clear_pointer(&d, mced_decision_free);
    /* without the override, the rule's dry-run */
    in.override = NULL;
    in.klass = MCED_CLASS_GUEST;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_PAUSE);
    g_assert_true(d->dry_run);
    g_clear_pointer(&d, mced_decision_free);
    /* the host class ignores overrides and rules */
    in.override = o;
    in.klass = MCED_CLASS_HOST;
    in.name = NULL;
    d = mced_policy_decide(p, &in);
    g_assert_cmpstr(d->source, ==, "built-in");

    /* a plain default namespace works too */
    g_clear_pointer(&o, mced_policy_override_free);
    g_assert_true(mced_policy_parse_override("<policy xmlns=\"" MCED_POLICY_XMLNS "\" "
                                             "fatal=\"nmi\"> </policy>", &o, &error));
    g_assert_true(o->has_ladder[MCED_CLASS_FATAL]);
    g_assert_cmpint(o->dry_run, ==, -1);
}

static void
test_override_invalid(void)
{
    static const struct {
        const char *xml;
        const char *message;
    } cases[] = {
        { "<policy host=\"log\"/>",
          "domain metadata: unknown attribute 'host' (expected corrected, guest, fatal or "
          "dry-run)" },
        { "<policy guest=\"log\" color=\"red\"/>",
          "domain metadata: unknown attribute 'color' (expected corrected, guest, fatal or "
          "dry-run)" },
        { "<policy guest=\"log; log\"/>",
          "domain metadata: guest: impossible ladder: 'log' appears twice" },
        { "<policy fatal=\"boom\"/>",
          "domain metadata: fatal: unknown action 'boom' (expected one of ignore, log, notify, "
          "pause, migrate, restart, reset, reboot, destroy, dump, nmi)" },
        { "<policy dry-run=\"1\"/>",
          "domain metadata: dry-run: bad value '1' (expected yes or no)" },
        { "<policy xmlns=\"urn:other\"/>",
          "domain metadata: namespace 'urn:other' is not " MCED_POLICY_XMLNS },
        { "<rules/>", "domain metadata: expected one <policy> element, found <rules>" },
        { "<policy><x/></policy>",
          "domain metadata: <policy> has no child elements (found <x>)" },
        { "<policy>text</policy>", "domain metadata: text is not allowed in <policy>" },
        { "", "domain metadata: no <policy> element" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(McedPolicyOverride) o = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_false(mced_policy_parse_override(cases[i].xml, &o, &error));
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_cmpstr(error->message, ==, cases[i].message);
        g_assert_null(o);
    }
    /* not well-formed, and too large */
    {
        g_autoptr(McedPolicyOverride) o = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *big = NULL;
        GString *s = g_string_new("<policy guest=\"log\"");

        g_assert_false(mced_policy_parse_override("<policy guest=\"log\">", &o, &error));
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_true(g_str_has_prefix(error->message, "domain metadata: "));
        g_clear_error(&error);
        while (s->len <= MCED_POLICY_MAX_OVERRIDE)
            g_string_append(s, "         ");
        g_string_append(s, "/>");
        big = g_string_free(s, FALSE);
        g_assert_false(mced_policy_parse_override(big, &o, &error));
        g_assert_cmpstr(error->message, ==, "domain metadata: larger than 4096 bytes");
    }
}

static void
test_guards(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, PEERS
        "cooldown = 10m\nmax-actions-per-hour = 3\nmax-concurrent-migrations = 1\n"
        "[policy.guest]\nladder = migrate\nfallback = restart\n"
        "[policy.fatal]\nladder = restart\nfallback = restart\n"
        "[policy.corrected]\nladder = notify\n");
    McedPolicyInput in = { .name = "vm", .klass = MCED_CLASS_GUEST, .now_us = NOW };
    g_autoptr(McedDecision) d = mced_policy_decide(p, &in);

    g_assert_cmpint(d->action, ==, MCED_ACTION_MIGRATE);
    g_assert_cmpint(d->fallback, ==, MCED_ACTION_RESTART);
    g_clear_pointer(&d, mced_decision_free);

    /* cooldown: 4 minutes after the last action, 6 left */
    in.last_action_us = NOW - 4 * G_TIME_SPAN_MINUTE;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpint(d->planned, ==, MCED_ACTION_MIGRATE);
    g_assert_cmpint(d->fallback, ==, MCED_ACTION_LOG);
    g_assert_cmpuint(d->guards->len, ==, 1);
    g_assert_cmpstr(d->guards->pdata[0], ==,
                    "cooldown: last action 4m ago, next allowed in 6m: notify instead of "
                    "migrate");
    g_clear_pointer(&d, mced_decision_free);
    /* exactly at the end of the cooldown the action is allowed again */
    in.last_action_us = NOW - 10 * G_TIME_SPAN_MINUTE;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_MIGRATE);
    g_clear_pointer(&d, mced_decision_free);
    /* actions that do not change the VM ignore every guard */
    in.klass = MCED_CLASS_CORRECTED;
    in.last_action_us = NOW - 1;
    in.actions_last_hour = 100;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpuint(d->guards->len, ==, 0);
    g_clear_pointer(&d, mced_decision_free);

    /* max-actions-per-hour */
    in.klass = MCED_CLASS_FATAL;
    in.last_action_us = 0;
    in.actions_last_hour = 3;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpstr(d->guards->pdata[0], ==,
                    "max-actions-per-hour (3) reached: notify instead of restart");
    g_clear_pointer(&d, mced_decision_free);
    in.actions_last_hour = 2;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESTART);
    /* the fallback never repeats the action */
    g_assert_cmpint(d->fallback, ==, MCED_ACTION_NOTIFY);
    g_clear_pointer(&d, mced_decision_free);

    /* max-concurrent-migrations only concerns migrate */
    in.migrations_in_flight = 1;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESTART);
    g_clear_pointer(&d, mced_decision_free);
    in.klass = MCED_CLASS_GUEST;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpstr(d->guards->pdata[0], ==,
                    "max-concurrent-migrations (1) reached: notify instead of migrate");
}

/* A reached 'dump' does not end the climb: it runs before the chosen step;
 * it is itself a step only while nothing above it is reached. */
static void
test_dump_then_continue(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, "[policy]\ncooldown = 0\nmax-actions-per-hour = 10\n"
                                         "[policy.guest]\n"
                                         "ladder = log; dump after 2/1h; restart after 2/1h\n");
    static const gint64 one[] = { 0 };
    static const gint64 two[] = { HOUR / 2, 0 };
    g_autoptr(GArray) t1 = times_new(one, G_N_ELEMENTS(one));
    g_autoptr(GArray) t2 = times_new(two, G_N_ELEMENTS(two));
    g_autoptr(McedDecision) d = NULL;
    McedPolicyInput in = { .name = "vm", .klass = MCED_CLASS_GUEST, .now_us = NOW };

    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, t1);
    g_assert_cmpint(d->action, ==, MCED_ACTION_LOG);
    g_assert_false(d->dump_first);
    g_clear_pointer(&d, mced_decision_free);

    d = decide(p, "vm", NULL, MCED_CLASS_GUEST, t2);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESTART);
    g_assert_true(d->dump_first);
    g_clear_pointer(&d, mced_decision_free);

    /* a guard that blocks the step blocks the dump with it */
    in.times = t2;
    in.actions_last_hour = p->max_actions_per_hour;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_false(d->dump_first);
    g_assert_cmpstr(d->guards->pdata[0], ==,
                    "max-actions-per-hour (10) reached: notify instead of dump");
}

static void
test_migrate_without_peers(void)
{
    g_autoptr(McedPolicy) p = mced_policy_new_default();
    g_autoptr(McedPolicyOverride) o = NULL;
    McedPolicyInput in = { .name = "vm", .klass = MCED_CLASS_GUEST, .now_us = NOW };
    g_autoptr(McedDecision) d = NULL;

    g_assert_true(mced_policy_parse_override("<policy guest=\"migrate\"/>", &o, NULL));
    in.override = o;
    d = mced_policy_decide(p, &in);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpstr(d->guards->pdata[0], ==,
                    "no migrate-peers configured: notify instead of migrate");
}

static void
test_dry_run(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, "[policy]\ndry-run = yes\n"
                                         "[policy.fatal]\nladder = restart\n"
                                         "[rule live]\nmatch = *\ndry-run = no\n");
    g_autoptr(McedPolicyOverride) o = NULL;
    McedPolicyInput in = { .name = "vm", .klass = MCED_CLASS_FATAL, .now_us = NOW };
    g_autoptr(McedDecision) d = mced_policy_decide(p, &in);

    /* the global switch wins over rules and overrides; the action is still named */
    g_assert_true(d->dry_run);
    g_assert_cmpint(d->action, ==, MCED_ACTION_RESTART);
    g_clear_pointer(&d, mced_decision_free);
    g_assert_true(mced_policy_parse_override("<policy dry-run=\"no\"/>", &o, NULL));
    in.override = o;
    d = mced_policy_decide(p, &in);
    g_assert_true(d->dry_run);
    g_clear_pointer(&d, mced_decision_free);

    /* without it, an override can ask for a dry run */
    p->dry_run = FALSE;
    g_clear_pointer(&o, mced_policy_override_free);
    g_assert_true(mced_policy_parse_override("<policy dry-run=\"yes\"/>", &o, NULL));
    in.override = o;
    d = mced_policy_decide(p, &in);
    g_assert_true(d->dry_run);
    g_clear_pointer(&d, mced_decision_free);
    in.override = NULL;
    d = mced_policy_decide(p, &in);
    g_assert_false(d->dry_run);
}

static void
test_host_degraded(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, "[policy]\nhost-degraded-after = 3/1h\n");
    static const gint64 host2[] = { 2 * HOUR, 30 * G_TIME_SPAN_MINUTE, 0 };
    static const gint64 host3[] = { HOUR - 1, 30 * G_TIME_SPAN_MINUTE, 0 };
    g_autoptr(GArray) h2 = times_new(host2, 3);
    g_autoptr(GArray) h3 = times_new(host3, 3);
    gint64 domains[] = { NOW - 10, NOW - HOUR, NOW - 20 * G_TIME_SPAN_MINUTE, NOW - 5 * HOUR };
    g_autofree char *reason = NULL;

    g_assert_false(mced_policy_host_degraded(p, NULL, NULL, 0, NOW, &reason));
    g_assert_null(reason);
    g_assert_false(mced_policy_host_degraded(p, h2, NULL, 0, NOW, &reason));
    g_assert_true(mced_policy_host_degraded(p, h3, NULL, 0, NOW, &reason));
    g_assert_cmpstr(reason, ==, "3 host incidents in 1h (host-degraded-after = 3/1h)");
    g_clear_pointer(&reason, g_free);
    /* two domains within the hour (one exactly an hour ago is out) */
    g_assert_false(mced_policy_host_degraded(p, h2, domains, G_N_ELEMENTS(domains), NOW,
                                             &reason));
    domains[3] = NOW - 59 * G_TIME_SPAN_MINUTE;
    g_assert_true(mced_policy_host_degraded(p, h2, domains, G_N_ELEMENTS(domains), NOW,
                                            &reason));
    g_assert_cmpstr(reason, ==, "3 domains with incidents in 1h (host-degraded-after = 3/1h)");
}

static void
test_evacuation_order(void)
{
    g_autoptr(McedPolicy) p = mced_policy_new_default();
    McedEvacuee v[] = {
        { "d", _MCED_CLASS_INVALID },
        { "c", MCED_CLASS_CORRECTED },
        { "b", MCED_CLASS_FATAL },
        { "a", MCED_CLASS_GUEST },
        { "e", MCED_CLASS_FATAL },
    };

    mced_policy_sort_evacuees(p, v, G_N_ELEMENTS(v));
    g_assert_cmpstr(v[0].name, ==, "b");
    g_assert_cmpstr(v[1].name, ==, "e");
    g_assert_cmpstr(v[2].name, ==, "a");
    g_assert_cmpstr(v[3].name, ==, "c");
    g_assert_cmpstr(v[4].name, ==, "d");
    p->evacuation_order = MCED_EVACUATE_NAME;
    mced_policy_sort_evacuees(p, v, G_N_ELEMENTS(v));
    g_assert_cmpstr(v[0].name, ==, "a");
    g_assert_cmpstr(v[4].name, ==, "e");
}

static void
test_prune(void)
{
    g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(gint64));

    for (gint64 i = 0; i < 2000; i++) {
        gint64 t = NOW - (2000 - i) * G_TIME_SPAN_MINUTE;
        g_array_append_val(a, t);
    }
    /* keep 10h: 600 minutes, the one exactly 10h old goes */
    mced_policy_prune_times(a, NOW, 10 * HOUR);
    g_assert_cmpuint(a->len, ==, 599);
    g_assert_cmpint(g_array_index(a, gint64, 0), ==, NOW - 599 * G_TIME_SPAN_MINUTE);
    /* the bound */
    mced_policy_prune_times(a, NOW, 0);
    g_assert_cmpuint(a->len, ==, 0);
    for (gint64 i = 0; i < 1500; i++) {
        gint64 t = NOW - (1500 - i);
        g_array_append_val(a, t);
    }
    mced_policy_prune_times(a, NOW, HOUR);
    g_assert_cmpuint(a->len, ==, MCED_POLICY_MAX_TIMES);
    g_assert_cmpint(g_array_index(a, gint64, a->len - 1), ==, NOW - 1);
}

static void
test_explain(Fixture *f, gconstpointer data)
{
    g_autoptr(McedPolicy) p = load_ok(f, PEERS
        "[policy.guest]\nladder = log; migrate after 3/24h\n"
        "[rule web]\nmatch = web-*\nfatal = nmi; restart after 2/1h\n"
        "[rule other]\nuuid = " UUID_B "\n");
    static const gint64 guest[] = { 2 * HOUR, HOUR };
    static const gint64 fatal[] = { 10 * G_TIME_SPAN_MINUTE, 0 };
    g_autoptr(GArray) tg = times_new(guest, 2);
    g_autoptr(GArray) tf = times_new(fatal, 2);
    const GArray *times[_MCED_CLASS_MAX] = { NULL, tg, tf, NULL };
    g_autofree char *text = mced_policy_explain(p, "web-1", UUID_A, NULL, times,
                                                NOW - 2 * G_TIME_SPAN_MINUTE, NOW);
    static const char *const lines[] = {
        "domain: web-1\n",
        "uuid: " UUID_A "\n",
        "rules: web (in this order)\n",
        "override: none\n",
        "cooldown: 10m, next VM-changing action allowed in 8m\n",
        "corrected: built-in: log\n",
        "guest: policy.guest: log; migrate after 3/24h\n",
        "  migrate after 3/24h          2 of 3 in the last 24h\n",
        ("  now: log ('log' applies to every incident; 'migrate after 3/24h' not reached (2 so "
         "far))\n"),
        "fatal: rule web: nmi; restart after 2/1h\n",
        "  restart after 2/1h           2 of 2 in the last 1h\n",
        "  now: notify (2 fatal incidents in 1h reached 'restart after 2/1h')\n",
        "  guard: cooldown: last action 2m ago, next allowed in 8m: notify instead of restart\n",
        "host: built-in: log\n",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(lines); i++) {
        if (strstr(text, lines[i]) == NULL)
            g_error("missing line '%s' in:\n%s", lines[i], text);
    }
}

/* The shipped file loads as it is, and again with its policy groups and
 * keys uncommented ("#[group]", "#  key = value"): then it gives the
 * built-in defaults, plus its one example rule. */
static void
test_shipped(Fixture *f, gconstpointer data)
{
    g_autofree char *main_conf = g_test_build_filename(G_TEST_DIST, "..", "conf",
                                                       "kvm-mced.conf", NULL);
    g_autofree char *examples = g_test_build_filename(G_TEST_DIST, "..", "conf",
                                                      "policy-examples", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(McedPolicy) p = load_path(main_conf, &error);
    g_autoptr(McedPolicy) enabled = NULL;
    g_autoptr(McedPolicy) defaults = mced_policy_new_default();
    g_autoptr(McedDecision) d = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GDir) dir = NULL;
    const char *name;
    guint n = 0;

    g_assert_no_error(error);
    g_assert_nonnull(p);
    g_assert_cmpuint(p->rules->len, ==, 0);

    g_file_get_contents(main_conf, &text, NULL, &error);
    g_assert_no_error(error);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];

        if (g_str_has_prefix(l, "#[") ||
            (g_str_has_prefix(l, "#  ") && g_ascii_isalpha(l[3]) && strchr(l, '=') != NULL)) {
            l++;
            n++;
        }
        g_string_append_printf(out, "%s\n", l);
    }
    g_assert_cmpuint(n, >=, 15);
    enabled = load_ok(f, out->str);
    g_assert_cmpint(enabled->dry_run, ==, defaults->dry_run);
    g_assert_cmpint(enabled->cooldown_us, ==, defaults->cooldown_us);
    g_assert_cmpuint(enabled->max_concurrent_migrations, ==,
                     defaults->max_concurrent_migrations);
    g_assert_cmpuint(enabled->max_actions_per_hour, ==, defaults->max_actions_per_hour);
    g_assert_cmpint(enabled->migrate_timeout_us, ==, defaults->migrate_timeout_us);
    g_assert_cmpint(enabled->action_timeout_us, ==, defaults->action_timeout_us);
    g_assert_cmpstr(enabled->dump_directory, ==, defaults->dump_directory);
    g_assert_cmpuint(enabled->degraded_n, ==, defaults->degraded_n);
    g_assert_cmpint(enabled->degraded_period_us, ==, defaults->degraded_period_us);
    g_assert_cmpint(enabled->evacuate, ==, defaults->evacuate);
    g_assert_cmpint(enabled->evacuation_order, ==, defaults->evacuation_order);
    g_assert_cmpuint(enabled->ladders[MCED_CLASS_GUEST].n_steps, ==, 1);
    g_assert_cmpint(enabled->ladders[MCED_CLASS_GUEST].steps[0].action, ==, MCED_ACTION_LOG);
    g_assert_cmpint(enabled->fallback[MCED_CLASS_GUEST], ==, MCED_ACTION_NOTIFY);
    g_assert_cmpuint(enabled->rules->len, ==, 1);
    d = decide(enabled, "web-1", NULL, MCED_CLASS_GUEST, NULL);
    g_assert_cmpint(d->action, ==, MCED_ACTION_NOTIFY);
    g_assert_cmpstr(d->source, ==, "rule web");

    dir = g_dir_open(examples, 0, &error);
    g_assert_no_error(error);
    n = 0;
    while ((name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *path = g_build_filename(examples, name, NULL);
        g_autoptr(McedPolicy) ex = NULL;

        if (!g_str_has_suffix(name, ".conf"))
            continue;
        ex = load_path(path, &error);
        if (ex == NULL)
            g_error("%s: %s", name, error->message);
        n++;
    }
    g_assert_cmpuint(n, >=, 3);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/policy/actions", test_actions);
    g_test_add_func("/policy/ladder-parse", test_ladder_parse);
    g_test_add_func("/policy/ladder-invalid", test_ladder_invalid);
    g_test_add("/policy/defaults", Fixture, NULL, fixture_setup, test_defaults,
               fixture_teardown);
    g_test_add("/policy/all-keys", Fixture, NULL, fixture_setup, test_all_keys,
               fixture_teardown);
    g_test_add("/policy/invalid", Fixture, NULL, fixture_setup, test_invalid, fixture_teardown);
    g_test_add("/policy/dropins", Fixture, NULL, fixture_setup, test_dropins, fixture_teardown);
    g_test_add("/policy/thresholds", Fixture, NULL, fixture_setup, test_thresholds,
               fixture_teardown);
    g_test_add("/policy/no-step-reached", Fixture, NULL, fixture_setup, test_no_step_reached,
               fixture_teardown);
    g_test_add("/policy/rules", Fixture, NULL, fixture_setup, test_rules, fixture_teardown);
    g_test_add("/policy/override", Fixture, NULL, fixture_setup, test_override,
               fixture_teardown);
    g_test_add_func("/policy/override-invalid", test_override_invalid);
    g_test_add("/policy/guards", Fixture, NULL, fixture_setup, test_guards, fixture_teardown);
    g_test_add_func("/policy/migrate-without-peers", test_migrate_without_peers);
    g_test_add("/policy/dump-then-continue", Fixture, NULL, fixture_setup,
               test_dump_then_continue, fixture_teardown);
    g_test_add("/policy/dry-run", Fixture, NULL, fixture_setup, test_dry_run, fixture_teardown);
    g_test_add("/policy/host-degraded", Fixture, NULL, fixture_setup, test_host_degraded,
               fixture_teardown);
    g_test_add_func("/policy/evacuation-order", test_evacuation_order);
    g_test_add_func("/policy/prune", test_prune);
    g_test_add("/policy/explain", Fixture, NULL, fixture_setup, test_explain,
               fixture_teardown);
    g_test_add("/policy/shipped", Fixture, NULL, fixture_setup, test_shipped, fixture_teardown);

    return g_test_run();
}
