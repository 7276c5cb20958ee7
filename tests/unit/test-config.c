/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "mced-config.h"
#include "mced-error.h"
#include "mced-state.h"
#include "test-util.h"

typedef struct {
    char *dir;  /* a fresh directory per test */
    char *main; /* <dir>/kvm-mced.conf (not created) */
    char *dropins;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("test-config-XXXXXX", &error);
    g_assert_no_error(error);
    f->main = g_build_filename(f->dir, "kvm-mced.conf", NULL);
    f->dropins = g_build_filename(f->dir, "conf.d", NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    test_remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->main);
    g_free(f->dropins);
}

static void
write_text(const char *path, const char *text)
{
    test_write_file(path, text, -1);
}

static void
write_dropin(Fixture *f, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(f->dropins, name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(f->dropins, 0755), ==, 0);
    write_text(path, text);
}

/* Loads @text as the main file and returns the error message (the load
 * must fail). */
static char *
load_error(Fixture *f, const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;

    write_text(f->main, text);
    cfg = mced_config_load(f->main, &error);
    g_assert_null(cfg);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    return g_strdup(error->message);
}

/* The message with "<dir>/" removed, so expectations read as file names. */
static char *
relative(Fixture *f, const char *message)
{
    g_autofree char *prefix = g_strconcat(f->dir, "/", NULL);
    g_auto(GStrv) parts = g_strsplit(message, prefix, -1);

    return g_strjoinv("", parts);
}

static void
assert_load_error(Fixture *f, const char *text, const char *expected)
{
    g_autofree char *message = load_error(f, text);
    g_autofree char *rel = relative(f, message);

    g_assert_cmpstr(rel, ==, expected);
}

static McedConfig *
load_ok(Fixture *f, const char *text)
{
    g_autoptr(GError) error = NULL;
    McedConfig *cfg;

    write_text(f->main, text);
    cfg = mced_config_load(f->main, &error);
    g_assert_no_error(error);
    g_assert_nonnull(cfg);
    return cfg;
}

static void
assert_defaults(const McedConfig *cfg)
{
    g_assert_cmpint(cfg->correlation_window_us, ==, 5 * G_USEC_PER_SEC);
    g_assert_cmpint(cfg->record_timeout_us, ==, 500 * 1000);
    g_assert_cmpstr(cfg->state_directory, ==, "/var/lib/kvm-mced");
    g_assert_cmpuint(cfg->history_max_size, ==, 8 * 1024 * 1024);
    g_assert_cmpuint(cfg->history_max_size, ==, MCED_HISTORY_DEFAULT_CAP);
    g_assert_cmpint(cfg->journal, ==, MCED_TRISTATE_AUTO);
    g_assert_cmpint(cfg->kmsg, ==, MCED_TRISTATE_AUTO);
    g_assert_cmpint(cfg->libvirt, ==, MCED_TRISTATE_AUTO);
    g_assert_cmpstr(cfg->libvirt_uri, ==, "qemu:///system");
    g_assert_cmpuint(g_strv_length(cfg->qmp_events), ==, 4);
    g_assert_cmpstr(cfg->qmp_events[0], ==, "GUEST_PANICKED");
    g_assert_cmpstr(cfg->qmp_events[3], ==, "RESET");
    g_assert_cmpstr(cfg->qemu_log_directory, ==, "/var/log/libvirt/qemu");
    g_assert_cmpint(cfg->reconnect_max_us, ==, 30 * G_USEC_PER_SEC);
}

/* ---- parsers ----------------------------------------------------------- */

static void
test_parse_duration(void)
{
    static const struct {
        const char *s;
        gboolean ok;
        gint64 us;
    } cases[] = {
        { "500ms", TRUE, 500 * 1000 },
        { "5s", TRUE, 5 * G_USEC_PER_SEC },
        { "5", TRUE, 5 * G_USEC_PER_SEC },
        { "0", TRUE, 0 },
        { "2m", TRUE, 120 * G_USEC_PER_SEC },
        { "1h", TRUE, G_TIME_SPAN_HOUR },
        { "24h", TRUE, 24 * G_TIME_SPAN_HOUR },
        { "7d", TRUE, 7 * G_TIME_SPAN_DAY },
        { "007s", TRUE, 7 * G_USEC_PER_SEC },
        { "9223372036854775807ms", FALSE, 0 },  /* overflows in microseconds */
        { "9223372036854ms", TRUE, G_GINT64_CONSTANT(9223372036854000) },
        { "106751991d", TRUE, G_GINT64_CONSTANT(106751991) * G_TIME_SPAN_DAY },
        { "106751992d", FALSE, 0 },
        { "99999999999999999999", FALSE, 0 },  /* overflows guint64 */
        { "", FALSE, 0 },
        { "s", FALSE, 0 },
        { "soon", FALSE, 0 },
        { "-5s", FALSE, 0 },
        { "+5s", FALSE, 0 },
        { "1.5s", FALSE, 0 },
        { "5 s", FALSE, 0 },
        { " 5s", FALSE, 0 },
        { "5S", FALSE, 0 },
        { "5sec", FALSE, 0 },
        { "5us", FALSE, 0 },
        { "0x10", FALSE, 0 },
    };

    g_assert_false(mced_parse_duration(NULL, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gint64 us = -1;
        gboolean ok = mced_parse_duration(cases[i].s, &us);

        g_test_message("duration '%s'", cases[i].s);
        g_assert_cmpint(ok, ==, cases[i].ok);
        if (ok)
            g_assert_cmpint(us, ==, cases[i].us);
        else
            g_assert_cmpint(us, ==, -1);
    }
}

static void
test_parse_size(void)
{
    static const struct {
        const char *s;
        gboolean ok;
        guint64 n;
    } cases[] = {
        { "65536", TRUE, 65536 },
        { "0", TRUE, 0 },
        { "64K", TRUE, 64 * 1024 },
        { "8M", TRUE, 8 * 1024 * 1024 },
        { "1G", TRUE, 1024 * 1024 * 1024 },
        { "17179869183G", TRUE, G_GUINT64_CONSTANT(17179869183) << 30 },
        { "17179869184G", FALSE, 0 },
        { "18446744073709551615", TRUE, G_MAXUINT64 },
        { "18446744073709551616", FALSE, 0 },
        { "", FALSE, 0 },
        { "K", FALSE, 0 },
        { "8m", FALSE, 0 },
        { "8MB", FALSE, 0 },
        { "8 M", FALSE, 0 },
        { "-1", FALSE, 0 },
        { "1.5M", FALSE, 0 },
        { "1T", FALSE, 0 },
    };

    g_assert_false(mced_parse_size(NULL, NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 n = 12345;
        gboolean ok = mced_parse_size(cases[i].s, &n);

        g_test_message("size '%s'", cases[i].s);
        g_assert_cmpint(ok, ==, cases[i].ok);
        g_assert_cmpuint(n, ==, ok ? cases[i].n : 12345);
    }
}

/* ---- whole files ------------------------------------------------------- */

static void
test_defaults(Fixture *f, gconstpointer data)
{
    g_autoptr(McedConfig) def = mced_config_new_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) missing = NULL;
    g_autoptr(McedConfig) empty = NULL;

    assert_defaults(def);
    g_assert_cmpuint(def->files->len, ==, 0);

    /* A missing main file (and no conf.d) means all defaults. */
    missing = mced_config_load(f->main, &error);
    g_assert_no_error(error);
    assert_defaults(missing);
    g_assert_cmpuint(missing->files->len, ==, 0);

    empty = load_ok(f, "# nothing here\n\n[daemon]\n[sources]\n");
    assert_defaults(empty);
    g_assert_cmpuint(empty->files->len, ==, 1);
    g_assert_cmpstr(empty->files->pdata[0], ==, f->main);
}

/* The shipped file loads to the defaults as it is, and again with every
 * key uncommented: its documented defaults are the real ones. */
static void
test_shipped_file(Fixture *f, gconstpointer data)
{
    g_autofree char *shipped = g_test_build_filename(G_TEST_DIST, "..", "conf",
                                                     "kvm-mced.conf", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) as_is = NULL;
    g_autoptr(McedConfig) enabled = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    guint n_keys = 0;

    g_assert_true(g_file_test(shipped, G_FILE_TEST_IS_REGULAR));
    as_is = mced_config_load(shipped, &error);
    g_assert_no_error(error);
    assert_defaults(as_is);

    g_file_get_contents(shipped, &text, NULL, &error);
    g_assert_no_error(error);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        const char *l = lines[i];

        /* "#key = value" (no space after '#') is a commented-out key. */
        if (l[0] == '#' && g_ascii_isalpha(l[1]) && strchr(l, '=') != NULL) {
            l++;
            n_keys++;
        }
        g_string_append_printf(out, "%s\n", l);
    }
    g_assert_cmpuint(n_keys, ==, 11);
    enabled = load_ok(f, out->str);
    assert_defaults(enabled);
}

static void
test_libvirt_keys(Fixture *f, gconstpointer data)
{
    g_autoptr(McedConfig) cfg = load_ok(f,
                                        "[libvirt]\n"
                                        "enabled = yes\n"
                                        "uri = qemu+unix:///system?socket=/tmp/x/libvirt-sock\n"
                                        "qmp-events = GUEST_PANICKED; MEMORY_FAILURE;;\n"
                                        "qemu-log-directory = /tmp/x/log/qemu\n"
                                        "reconnect-max = 2m\n");
    static const char *const bad[][2] = {
        { "[libvirt]\nuri = qemu :///system\n", "blank or control character" },
        { "[libvirt]\nuri = nothing\n", "no scheme" },
        { "[libvirt]\nqmp-events = guest_panicked\n", "not a QMP event name" },
        { "[libvirt]\nqemu-log-directory = log\n", "not an absolute path" },
        { "[libvirt]\nreconnect-max = 100ms\n", "out of range" },
        { "[libvirt]\nenabled = sometimes\n", "expected auto, yes or no" },
    };

    g_assert_cmpint(cfg->libvirt, ==, MCED_TRISTATE_YES);
    g_assert_cmpstr(cfg->libvirt_uri, ==, "qemu+unix:///system?socket=/tmp/x/libvirt-sock");
    g_assert_cmpuint(g_strv_length(cfg->qmp_events), ==, 2);
    g_assert_cmpstr(cfg->qmp_events[0], ==, "GUEST_PANICKED");
    g_assert_cmpstr(cfg->qmp_events[1], ==, "MEMORY_FAILURE");
    g_assert_cmpstr(cfg->qemu_log_directory, ==, "/tmp/x/log/qemu");
    g_assert_cmpint(cfg->reconnect_max_us, ==, 120 * G_USEC_PER_SEC);

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *path = g_build_filename(f->dir, "bad.conf", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(McedConfig) none = NULL;

        g_assert_true(g_file_set_contents(path, bad[i][0], -1, NULL));
        none = mced_config_load(path, &error);
        g_assert_null(none);
        g_assert_nonnull(error);
        g_test_message("%s", error->message);
        g_assert_nonnull(strstr(error->message, ":2: [libvirt] "));
        g_assert_nonnull(strstr(error->message, bad[i][1]));
    }
}

static void
test_every_key_valid(Fixture *f, gconstpointer data)
{
    g_autoptr(McedConfig) cfg = load_ok(f,
                                        "[daemon]\n"
                                        "correlation-window = 2m\n"
                                        "  record-timeout=20ms  \n"
                                        "state-directory = /srv/mced state\n"
                                        "history-max-size = 64K\n"
                                        "\n"
                                        "[sources]\n"
                                        "# a comment\n"
                                        "journal = no\n"
                                        "kmsg = yes\n");

    g_assert_cmpint(cfg->correlation_window_us, ==, 120 * G_USEC_PER_SEC);
    g_assert_cmpint(cfg->record_timeout_us, ==, 20 * 1000);
    g_assert_cmpstr(cfg->state_directory, ==, "/srv/mced state");
    g_assert_cmpuint(cfg->history_max_size, ==, 64 * 1024);
    g_assert_cmpint(cfg->journal, ==, MCED_TRISTATE_NO);
    g_assert_cmpint(cfg->kmsg, ==, MCED_TRISTATE_YES);
}

static void
test_range_limits(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *text;
        gint64 window_us;
        gint64 timeout_us;
        guint64 size;
    } ok[] = {
        { "[daemon]\ncorrelation-window=100ms\nrecord-timeout=10ms\nhistory-max-size=65536\n",
          100 * 1000, 10 * 1000, 65536 },
        { "[daemon]\ncorrelation-window=1h\nrecord-timeout=60s\nhistory-max-size=1G\n",
          G_TIME_SPAN_HOUR, 60 * G_USEC_PER_SEC, 1024 * 1024 * 1024 },
        { "[daemon]\ncorrelation-window=3600\nrecord-timeout=1m\nhistory-max-size=1024M\n",
          G_TIME_SPAN_HOUR, 60 * G_USEC_PER_SEC, 1024 * 1024 * 1024 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autoptr(McedConfig) cfg = load_ok(f, ok[i].text);

        g_assert_cmpint(cfg->correlation_window_us, ==, ok[i].window_us);
        g_assert_cmpint(cfg->record_timeout_us, ==, ok[i].timeout_us);
        g_assert_cmpuint(cfg->history_max_size, ==, ok[i].size);
    }
}

static void
test_bad_values(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *text;
        const char *expected;
    } cases[] = {
        { "[daemon]\ncorrelation-window = soon\n",
          "kvm-mced.conf:2: [daemon] correlation-window: bad duration 'soon' "
          "(expected e.g. 500ms, 5s, 2m)" },
        { "[daemon]\ncorrelation-window = -5s\n",
          "kvm-mced.conf:2: [daemon] correlation-window: bad duration '-5s' "
          "(expected e.g. 500ms, 5s, 2m)" },
        { "[daemon]\ncorrelation-window = 1.5s\n",
          "kvm-mced.conf:2: [daemon] correlation-window: bad duration '1.5s' "
          "(expected e.g. 500ms, 5s, 2m)" },
        { "[daemon]\ncorrelation-window = 99ms\n",
          "kvm-mced.conf:2: [daemon] correlation-window: duration '99ms' is out of range "
          "(100ms .. 1h)" },
        { "[daemon]\ncorrelation-window = 61m\n",
          "kvm-mced.conf:2: [daemon] correlation-window: duration '61m' is out of range "
          "(100ms .. 1h)" },
        { "[daemon]\ncorrelation-window = 99999999999999d\n",
          "kvm-mced.conf:2: [daemon] correlation-window: bad duration '99999999999999d' "
          "(expected e.g. 500ms, 5s, 2m)" },
        { "[daemon]\nrecord-timeout = 9ms\n",
          "kvm-mced.conf:2: [daemon] record-timeout: duration '9ms' is out of range "
          "(10ms .. 1m)" },
        { "[daemon]\nrecord-timeout = 61s\n",
          "kvm-mced.conf:2: [daemon] record-timeout: duration '61s' is out of range "
          "(10ms .. 1m)" },
        { "[daemon]\nrecord-timeout = 0\n",
          "kvm-mced.conf:2: [daemon] record-timeout: duration '0' is out of range "
          "(10ms .. 1m)" },
        { "[daemon]\nhistory-max-size = 63K\n",
          "kvm-mced.conf:2: [daemon] history-max-size: size '63K' is out of range "
          "(64K .. 1G)" },
        { "[daemon]\nhistory-max-size = 1025M\n",
          "kvm-mced.conf:2: [daemon] history-max-size: size '1025M' is out of range "
          "(64K .. 1G)" },
        { "[daemon]\nhistory-max-size = 8MB\n",
          "kvm-mced.conf:2: [daemon] history-max-size: bad size '8MB' "
          "(expected e.g. 64K, 8M, 1G)" },
        { "[daemon]\nstate-directory = var/lib/kvm-mced\n",
          "kvm-mced.conf:2: [daemon] state-directory: 'var/lib/kvm-mced' is not an "
          "absolute path" },
        { "[daemon]\nstate-directory = ./state\n",
          "kvm-mced.conf:2: [daemon] state-directory: './state' is not an absolute path" },
        { "[sources]\njournal = maybe\n",
          "kvm-mced.conf:2: [sources] journal: bad value 'maybe' (expected auto, yes or no)" },
        { "[sources]\nkmsg = true\n",
          "kvm-mced.conf:2: [sources] kmsg: bad value 'true' (expected auto, yes or no)" },
        /* empty values */
        { "[sources]\nkmsg =\n", "kvm-mced.conf:2: [sources] kmsg: empty value" },
        { "[daemon]\ncorrelation-window =   \n",
          "kvm-mced.conf:2: [daemon] correlation-window: empty value" },
        { "[daemon]\nstate-directory=\n",
          "kvm-mced.conf:2: [daemon] state-directory: empty value" },
        /* unknown keys and groups */
        { "[daemon]\ncorrelation-window = 5s\nwindow = 5s\n",
          "kvm-mced.conf:3: [daemon] window: unknown key" },
        { "[sources]\nCorrelation-Window = 5s\n",
          "kvm-mced.conf:2: [sources] Correlation-Window: unknown key" },
        { "[daemon]\njournal = yes\n", "kvm-mced.conf:2: [daemon] journal: unknown key" },
        { "[sources]\njournal[de] = yes\n",
          "kvm-mced.conf:2: [sources] journal[de]: unknown key" },
        { "[daemon]\n\n[polcy]\nfoo = bar\n", "kvm-mced.conf:3: [polcy]: unknown group" },
        { "[Daemon]\n", "kvm-mced.conf:1: [Daemon]: unknown group" },
        /* duplicates, also across a repeated group */
        { "[sources]\njournal = yes\nkmsg = no\njournal = no\n",
          "kvm-mced.conf:4: [sources] journal: duplicate key (first set on line 2)" },
        { "[sources]\njournal = yes\n[daemon]\n[sources]\njournal = yes\n",
          "kvm-mced.conf:5: [sources] journal: duplicate key (first set on line 2)" },
        /* syntax */
        { "journal = yes\n", "kvm-mced.conf:1: journal: key before the first [group]" },
        { "[sources]\njournal yes\n",
          "kvm-mced.conf:2: 'journal yes' is not a group header, a key = value line or a "
          "comment" },
        { "[sources\n", "kvm-mced.conf:1: bad group header '[sources'" },
        { "[sources] x\n", "kvm-mced.conf:1: bad group header '[sources] x'" },
        { "[]\n", "kvm-mced.conf:1: bad group header '[]'" },
        { "[sources]\n= yes\n", "kvm-mced.conf:2: a value without a key" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].text);
        assert_load_error(f, cases[i].text, cases[i].expected);
    }
}

/* Errors GKeyFile finds itself still name the file, and the line when its
 * message quotes the offending text. */
static void
test_keyfile_errors(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *text;
        const char *expected;
    } rejected[] = {
        { "[sources]\njournal = yes\n\n[a[b]\n",
          "kvm-mced.conf:4: Invalid group name: a[b" },
        { "[sources]\n# x\njour]nal = yes\n", "kvm-mced.conf:3: Invalid key name: jour]nal" },
        { "[sources]\nEncoding = latin1\n",
          "kvm-mced.conf:2: Key file contains unsupported encoding \xe2\x80\x9clatin1\xe2\x80\x9d" },
        { "[sources]\njournal = \xff\n",
          "kvm-mced.conf:2: [sources] journal: Key file contains key \xe2\x80\x9cjournal\xe2\x80\x9d "
          "with value \xe2\x80\x9c\xef\xbf\xbd\xe2\x80\x9d which is not UTF-8" },
    };
    static const char with_nul[] = "[sources]\njournal = yes\n\0kmsg = no\n";
    g_autofree char *escape = load_error(f, "[sources]\n\njournal = y\\qes\n");
    g_autofree char *escape_rel = relative(f, escape);
    g_autofree char *nul = NULL;
    g_autofree char *nul_rel = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;

    g_assert_cmpstr(escape_rel, ==,
                    "kvm-mced.conf:3: [sources] journal: Key file contains key \xe2\x80\x9cjournal"
                    "\xe2\x80\x9d which has a value that cannot be interpreted.");

    for (gsize i = 0; i < G_N_ELEMENTS(rejected); i++) {
        g_autofree char *message = load_error(f, rejected[i].text);
        g_autofree char *rel = relative(f, message);

        g_assert_cmpstr(rel, ==, rejected[i].expected);
    }

    /* A NUL byte: GKeyFile would stop reading there. */
    g_file_set_contents(f->main, with_nul, sizeof(with_nul) - 1, &error);
    g_assert_no_error(error);
    cfg = mced_config_load(f->main, &error);
    g_assert_null(cfg);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    nul = g_strdup(error->message);
    nul_rel = relative(f, nul);
    g_assert_cmpstr(nul_rel, ==, "kvm-mced.conf:3: NUL byte in the file");
}

static void
test_unreadable(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;
    g_autofree char *rel = NULL;

    /* The main file is a directory. */
    g_assert_cmpint(g_mkdir(f->main, 0755), ==, 0);
    cfg = mced_config_load(f->main, &error);
    g_assert_null(cfg);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    rel = relative(f, error->message);
    g_assert_cmpstr(rel, ==, "kvm-mced.conf: not a regular file");
    g_clear_error(&error);
    g_remove(f->main);

    /* Far too large. */
    {
        g_autofree char *big = g_strnfill(2 * 1024 * 1024, '#');

        write_text(f->main, big);
        cfg = mced_config_load(f->main, &error);
        g_assert_null(cfg);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_nonnull(strstr(error->message, "larger than"));
    }
}

static void
test_dropins(Fixture *f, gconstpointer data)
{
    g_autoptr(McedConfig) cfg = NULL;
    g_autofree char *a = g_build_filename(f->dropins, "10-a.conf", NULL);
    g_autofree char *b = g_build_filename(f->dropins, "20-b.conf", NULL);
    g_autofree char *b2 = g_build_filename(f->dropins, "20-b.conf.d", NULL);

    write_dropin(f, "20-b.conf", "[daemon]\ncorrelation-window = 30s\n");
    write_dropin(f, "10-a.conf",
                 "[daemon]\ncorrelation-window = 10s\nrecord-timeout = 1s\n"
                 "[sources]\nkmsg = no\n");
    /* Not *.conf, hidden, or a directory: ignored. */
    write_dropin(f, "30-c.conf.disabled", "[bogus]\n");
    write_dropin(f, ".40-hidden.conf", "[bogus]\n");
    g_assert_cmpint(g_mkdir(b2, 0755), ==, 0);

    cfg = load_ok(f, "[daemon]\ncorrelation-window = 2s\nhistory-max-size = 1M\n"
                     "[sources]\nkmsg = yes\njournal = no\n");
    g_assert_cmpint(cfg->correlation_window_us, ==, 30 * G_USEC_PER_SEC); /* 20-b wins */
    g_assert_cmpint(cfg->record_timeout_us, ==, G_USEC_PER_SEC);          /* 10-a */
    g_assert_cmpuint(cfg->history_max_size, ==, 1024 * 1024);             /* main */
    g_assert_cmpint(cfg->kmsg, ==, MCED_TRISTATE_NO);                     /* 10-a */
    g_assert_cmpint(cfg->journal, ==, MCED_TRISTATE_NO);                  /* main */

    g_assert_cmpuint(cfg->files->len, ==, 3);
    g_assert_cmpstr(cfg->files->pdata[0], ==, f->main);
    g_assert_cmpstr(cfg->files->pdata[1], ==, a);
    g_assert_cmpstr(cfg->files->pdata[2], ==, b);
}

/* Drop-ins apply even when the main file is missing. */
static void
test_dropins_without_main(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;

    write_dropin(f, "50-local.conf", "[sources]\njournal = yes\n");
    cfg = mced_config_load(f->main, &error);
    g_assert_no_error(error);
    g_assert_cmpint(cfg->journal, ==, MCED_TRISTATE_YES);
    g_assert_cmpuint(cfg->files->len, ==, 1);
}

/* The order is byte order (g_strcmp0), not the order of the directory. */
static void
test_dropin_order(Fixture *f, gconstpointer data)
{
    static const char *const names[] = { "b.conf", "B.conf", "a.conf", "10.conf", "9.conf" };
    g_autoptr(McedConfig) cfg = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *text = g_strdup_printf("[daemon]\nstate-directory = /%s\n", names[i]);
        write_dropin(f, names[i], text);
    }
    cfg = load_ok(f, "");
    g_assert_cmpstr(cfg->state_directory, ==, "/b.conf"); /* "10" < "9" < "B" < "a" < "b" */
    g_assert_cmpuint(cfg->files->len, ==, 6);
    g_assert_true(g_str_has_suffix(cfg->files->pdata[1], "/10.conf"));
    g_assert_true(g_str_has_suffix(cfg->files->pdata[2], "/9.conf"));
    g_assert_true(g_str_has_suffix(cfg->files->pdata[3], "/B.conf"));
    g_assert_true(g_str_has_suffix(cfg->files->pdata[4], "/a.conf"));
    g_assert_true(g_str_has_suffix(cfg->files->pdata[5], "/b.conf"));
}

/* An error in a drop-in names the drop-in and its own line. A key set in
 * the main file and again in a drop-in is an override, not a duplicate. */
static void
test_dropin_error(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = NULL;
    g_autofree char *rel = NULL;

    write_dropin(f, "10-ok.conf", "[sources]\njournal = no\n");
    write_dropin(f, "20-bad.conf", "# local\n\n[sources]\n\njournal = yes\nkmsg = sometimes\n");
    write_text(f->main, "[sources]\njournal = yes\n");
    cfg = mced_config_load(f->main, &error);
    g_assert_null(cfg);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    rel = relative(f, error->message);
    g_assert_cmpstr(rel, ==,
                    "conf.d/20-bad.conf:6: [sources] kmsg: bad value 'sometimes' "
                    "(expected auto, yes or no)");
}

/* The committed fixture: a main file with comments and blank lines, and
 * drop-ins that override it. Line numbers are counted in the raw text. */
static void
test_fixture_tree(void)
{
    g_autofree char *main_file = g_test_build_filename(G_TEST_DIST, "data", "config", "tree",
                                                       "kvm-mced.conf", NULL);
    g_autofree char *bad = g_test_build_filename(G_TEST_DIST, "data", "config", "bad-line",
                                                 "kvm-mced.conf", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(McedConfig) cfg = mced_config_load(main_file, &error);
    g_autofree char *expected = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(cfg->correlation_window_us, ==, 10 * G_USEC_PER_SEC);
    g_assert_cmpint(cfg->record_timeout_us, ==, 250 * 1000);
    g_assert_cmpstr(cfg->state_directory, ==, "/var/lib/kvm-mced-test");
    g_assert_cmpuint(cfg->history_max_size, ==, 16 * 1024 * 1024);
    g_assert_cmpint(cfg->journal, ==, MCED_TRISTATE_YES);
    g_assert_cmpint(cfg->kmsg, ==, MCED_TRISTATE_NO);
    g_assert_cmpuint(cfg->files->len, ==, 3);

    g_clear_pointer(&cfg, mced_config_free);
    cfg = mced_config_load(bad, &error);
    g_assert_null(cfg);
    expected = g_strdup_printf("%s:12: [daemon] correlation-window: bad duration 'soon' "
                               "(expected e.g. 500ms, 5s, 2m)", bad);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    g_assert_cmpstr(error->message, ==, expected);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/config/parse-duration", test_parse_duration);
    g_test_add_func("/config/parse-size", test_parse_size);
    g_test_add("/config/defaults", Fixture, NULL, fixture_setup, test_defaults, fixture_teardown);
    g_test_add("/config/libvirt-keys", Fixture, NULL, fixture_setup, test_libvirt_keys,
               fixture_teardown);
    g_test_add("/config/shipped-file", Fixture, NULL, fixture_setup, test_shipped_file,
               fixture_teardown);
    g_test_add("/config/every-key-valid", Fixture, NULL, fixture_setup, test_every_key_valid,
               fixture_teardown);
    g_test_add("/config/range-limits", Fixture, NULL, fixture_setup, test_range_limits,
               fixture_teardown);
    g_test_add("/config/bad-values", Fixture, NULL, fixture_setup, test_bad_values,
               fixture_teardown);
    g_test_add("/config/keyfile-errors", Fixture, NULL, fixture_setup, test_keyfile_errors,
               fixture_teardown);
    g_test_add("/config/unreadable", Fixture, NULL, fixture_setup, test_unreadable,
               fixture_teardown);
    g_test_add("/config/dropins", Fixture, NULL, fixture_setup, test_dropins, fixture_teardown);
    g_test_add("/config/dropins-without-main", Fixture, NULL, fixture_setup,
               test_dropins_without_main, fixture_teardown);
    g_test_add("/config/dropin-order", Fixture, NULL, fixture_setup, test_dropin_order,
               fixture_teardown);
    g_test_add("/config/dropin-error", Fixture, NULL, fixture_setup, test_dropin_error,
               fixture_teardown);
    g_test_add_func("/config/fixture-tree", test_fixture_tree);

    return g_test_run();
}
