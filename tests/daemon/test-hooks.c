/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hooks with real processes: shell scripts written into a temporary
 * directory record what they were given; the test waits for outcomes
 * through the callback and FIFOs, under deadlines, never by sleeping.
 * Hooks must be owned by root, so this runs as root (CI does) and is
 * skipped (77) otherwise.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mced-hooks.h"

#define DEADLINE_US (20 * G_USEC_PER_SEC)

typedef struct {
    char *name; /* basename of the hook */
    char *event;
    int status;
    char *reason;
} Result;

typedef struct {
    char *tmp;   /* scratch: outputs, FIFOs */
    char *dir;   /* the hooks directory */
    McedHooks *h;
    GPtrArray *results; /* Result* */
    /* concurrency */
    int notify_fd;
    GString *notify_buf;
    GPtrArray *started; /* char* names in start order */
    guint released;
    guint max_overlap;
    guint max_conc;
    guint total;
} Fixture;

static void
result_free(Result *r)
{
    g_free(r->name);
    g_free(r->event);
    g_free(r->reason);
    g_free(r);
}

static void
on_done(const char *path, const char *event, int status, const char *reason, gpointer user_data)
{
    Fixture *f = user_data;
    Result *r = g_new0(Result, 1);

    r->name = g_path_get_basename(path);
    r->event = g_strdup(event);
    r->status = status;
    r->reason = g_strdup(reason);
    g_test_message("hook %s %s: %d %s", r->name, event, status, reason ? reason : "");
    g_ptr_array_add(f->results, r);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->tmp = g_dir_make_tmp("mced-hooks-XXXXXX", &error);
    g_assert_no_error(error);
    f->dir = g_build_filename(f->tmp, "hooks.d", NULL);
    g_assert_cmpint(g_mkdir(f->dir, 0755), ==, 0);
    g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
    f->results = g_ptr_array_new_with_free_func((GDestroyNotify)result_free);
    f->started = g_ptr_array_new_with_free_func(g_free);
    f->notify_buf = g_string_new(NULL);
    f->notify_fd = -1;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->tmp);

    mced_hooks_free(f->h);
    if (f->notify_fd >= 0)
        close(f->notify_fd);
    g_ptr_array_unref(f->results);
    g_ptr_array_unref(f->started);
    g_string_free(f->notify_buf, TRUE);
    g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
    g_free(f->dir);
    g_free(f->tmp);
}

static void
new_hooks(Fixture *f, guint max_concurrent, gint64 timeout_us)
{
    f->h = mced_hooks_new(f->dir, max_concurrent, timeout_us);
    mced_hooks_set_callback(f->h, on_done, f);
}

static char *
write_hook(Fixture *f, const char *name, const char *body, mode_t mode)
{
    g_autoptr(GError) error = NULL;
    char *path = g_build_filename(f->dir, name, NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);

    g_file_set_contents(path, text, -1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(chmod(path, mode), ==, 0);
    return path;
}

static gboolean
on_deadline(gpointer user_data)
{
    *(gboolean *)user_data = TRUE;
    return G_SOURCE_REMOVE;
}

typedef gboolean (*Cond)(Fixture *f, gconstpointer arg);

static void
wait_for(Fixture *f, Cond cond, gconstpointer arg)
{
    gboolean expired = FALSE;
    guint id = g_timeout_add((guint)(DEADLINE_US / 1000), on_deadline, &expired);

    while (!cond(f, arg) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (!expired)
        g_source_remove(id);
    g_assert_true(cond(f, arg));
}

static gboolean
have_results(Fixture *f, gconstpointer n)
{
    return f->results->len >= GPOINTER_TO_UINT(n);
}

static void
wait_results(Fixture *f, guint n)
{
    wait_for(f, have_results, GUINT_TO_POINTER(n));
}

static Result *
result(Fixture *f, guint i)
{
    g_assert_cmpuint(i, <, f->results->len);
    return g_ptr_array_index(f->results, i);
}

static Result *
find_result(Fixture *f, const char *name)
{
    for (guint i = 0; i < f->results->len; i++) {
        Result *r = g_ptr_array_index(f->results, i);
        if (g_str_equal(r->name, name))
            return r;
    }
    return NULL;
}

static char *
tmp_path(Fixture *f, const char *name)
{
    return g_build_filename(f->tmp, name, NULL);
}

/* ---- the environment, and no shell ---- */

#define NASTY_SUFFIX "\" 'q' spa ce `touch %s/pwned2` a\\b\nline2;|&*"

static GPtrArray *
read_record(Fixture *f)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = tmp_path(f, "record");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++) {
        if (lines[i][0] != '\0')
            g_ptr_array_add(out, g_strdup(lines[i]));
    }
    g_assert_cmpint(g_unlink(path), ==, 0);
    return out;
}

static gboolean
has_line(GPtrArray *lines, const char *line)
{
    for (guint i = 0; i < lines->len; i++) {
        if (g_str_equal(g_ptr_array_index(lines, i), line))
            return TRUE;
    }
    return FALSE;
}

/* The KVM_MCED_* lines of the record are exactly @expected; the rest is
 * PATH, LANG, argv, and what a shell adds on its own. */
static void
assert_record(GPtrArray *lines, const char *event, const char *const *expected)
{
    static const char *const shell_own[] = { "PWD=", "OLDPWD=", "SHLVL=", "_=", NULL };
    g_autofree char *arg1 = g_strconcat("argv1=", event, NULL);
    guint n_mced = 0;

    g_assert_true(has_line(lines, "argc=1"));
    g_assert_true(has_line(lines, arg1));
    g_assert_true(has_line(lines, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
    g_assert_true(has_line(lines, "LANG=C.UTF-8"));
    for (guint i = 0; expected[i] != NULL; i++) {
        if (!has_line(lines, expected[i]))
            g_error("missing from the hook's environment: %s", expected[i]);
    }
    for (guint i = 0; i < lines->len; i++) {
        const char *l = g_ptr_array_index(lines, i);
        gboolean known = g_str_has_prefix(l, "argc=") || g_str_has_prefix(l, "argv0=") ||
                         g_str_has_prefix(l, "argv1=") || g_str_has_prefix(l, "PATH=") ||
                         g_str_has_prefix(l, "LANG=");

        if (g_str_has_prefix(l, "KVM_MCED_")) {
            n_mced++;
            continue;
        }
        for (guint j = 0; shell_own[j] != NULL && !known; j++)
            known = g_str_has_prefix(l, shell_own[j]);
        if (!known)
            g_error("unexpected line in the hook's record: %s", l);
    }
    g_assert_cmpuint(n_mced, ==, g_strv_length((GStrv)expected));
}

static void
test_environment(Fixture *f, gconstpointer data)
{
    g_autofree char *body = NULL;
    g_autofree char *suffix = g_strdup_printf(NASTY_SUFFIX, f->tmp);
    g_autofree char *pwned = tmp_path(f, "pwned");
    g_autofree char *pwned2 = tmp_path(f, "pwned2");
    g_autofree char *name = g_strdup_printf("we\"ird $(touch %s)%s", pwned, suffix);
    g_autofree char *escaped_name = NULL;
    g_autofree char *domain_line = NULL;
    g_autoptr(McedVmRef) vm = mced_vm_ref_new(name, "6695eb01-f6a4-8304-79aa-97f2502e193f", 42);
    g_autoptr(McedIncident) inc = mced_incident_new("i-0123456789abcdef", vm);
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GPtrArray) lines2 = NULL;
    guint64 v;

    body = g_strdup_printf("out=%s/record\n"
                           "{ printf 'argc=%%s\\n' \"$#\"; printf 'argv0=%%s\\n' \"$0\";\n"
                           "  printf 'argv1=%%s\\n' \"$1\"; env; } > \"$out.tmp\"\n"
                           "mv \"$out.tmp\" \"$out\"",
                           f->tmp);
    g_free(write_hook(f, "10-record", body, 0755));
    new_hooks(f, 2, 10 * G_USEC_PER_SEC);

    inc->klass = MCED_CLASS_GUEST;
    inc->severity = MCED_SEVERITY_SEVERE;
    inc->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    inc->error_type = g_strdup("UE");
    v = 3;
    g_array_append_val(inc->host_cpus, v);
    v = 17;
    g_array_append_val(inc->host_cpus, v);
    v = 1;
    g_array_append_val(inc->vcpus, v);
    v = 0x12345000;
    g_array_append_val(inc->addresses, v);
    v = 0xdead000;
    g_array_append_val(inc->addresses, v);
    inc->n_observations = 2;
    inc->synthetic = TRUE;

    /* What the value looks like escaped: backslash doubled, newline \x0a. */
    escaped_name = mced_hooks_escape_value(name);
    g_assert_null(strchr(escaped_name, '\n'));
    g_assert_nonnull(strstr(escaped_name, "a\\\\b\\x0aline2;|&*"));
    domain_line = g_strconcat("KVM_MCED_DOMAIN=", escaped_name, NULL);

    g_assert_cmpuint(mced_hooks_run_incident(f->h, MCED_INCIDENT_EVENT_OPENED, inc), ==, 1);
    wait_results(f, 1);
    g_assert_cmpint(result(f, 0)->status, ==, 0);
    g_assert_null(result(f, 0)->reason);
    g_assert_cmpstr(result(f, 0)->event, ==, "incident-opened");
    lines = read_record(f);
    {
        const char *const expected[] = {
            "KVM_MCED_EVENT=incident-opened",
            "KVM_MCED_INCIDENT=i-0123456789abcdef",
            domain_line,
            "KVM_MCED_DOMAIN_UUID=6695eb01-f6a4-8304-79aa-97f2502e193f",
            "KVM_MCED_CLASS=guest",
            "KVM_MCED_SEVERITY=severe",
            "KVM_MCED_DISPOSITION=not-recovered",
            "KVM_MCED_ERROR_TYPE=UE",
            "KVM_MCED_HOST_CPU=3,17",
            "KVM_MCED_VCPU=1",
            "KVM_MCED_ADDRESS=0x12345000,0xdead000",
            "KVM_MCED_OBSERVATIONS=2",
            "KVM_MCED_SYNTHETIC=1",
            "KVM_MCED_MERGED_INTO=",
            NULL,
        };
        assert_record(lines, "incident-opened", expected);
    }

    /* An action, with a detail that tries the same tricks. */
    g_assert_cmpuint(mced_hooks_run_action(f->h, "i-0123456789abcdef", TRUE, name,
                                           "6695eb01-f6a4-8304-79aa-97f2502e193f", "reset",
                                           "failed", "it said: $(id)\n\tno"),
                     ==, 1);
    wait_results(f, 2);
    g_assert_cmpint(result(f, 1)->status, ==, 0);
    g_assert_cmpstr(result(f, 1)->event, ==, "action-failed");
    lines2 = read_record(f);
    {
        const char *const expected[] = {
            "KVM_MCED_EVENT=action-failed",
            "KVM_MCED_INCIDENT=i-0123456789abcdef",
            domain_line,
            "KVM_MCED_DOMAIN_UUID=6695eb01-f6a4-8304-79aa-97f2502e193f",
            "KVM_MCED_ACTION=reset",
            "KVM_MCED_RESULT=failed",
            "KVM_MCED_DETAIL=it said: $(id)\\x0a\\x09no",
            "KVM_MCED_SYNTHETIC=1",
            NULL,
        };
        assert_record(lines2, "action-failed", expected);
    }

    /* Nothing was interpreted by a shell, and nothing inherited. */
    g_assert_false(g_file_test(pwned, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(pwned2, G_FILE_TEST_EXISTS));
    for (guint i = 0; i < lines->len; i++)
        g_assert_false(g_str_has_prefix(g_ptr_array_index(lines, i), "MCED_TEST_CANARY="));
}

static void
test_run_filters_env(Fixture *f, gconstpointer data)
{
    g_autofree char *body = g_strdup_printf("out=%s/record\n"
                                            "{ printf 'argc=%%s\\n' \"$#\"; "
                                            "printf 'argv1=%%s\\n' \"$1\"; env; } > \"$out\"",
                                            f->tmp);
    const char *const env[] = {
        "KVM_MCED_EVENT=forged",     /* the event argument wins */
        "KVM_MCED_DETAIL=ok",
        "KVM_MCED_DETAIL=second",    /* first wins */
        "KVM_MCED_ACTION=a\nb",      /* raw newline: dropped */
        "LD_PRELOAD=/tmp/evil.so",   /* not ours: dropped */
        "PATH=/tmp",                 /* nor this */
        "KVM_MCED_=x",               /* no name */
        "KVM_MCED_lower=x",          /* bad name */
        NULL,
    };
    const char *const expected[] = { "KVM_MCED_EVENT=custom-1", "KVM_MCED_DETAIL=ok", NULL };
    g_autoptr(GPtrArray) lines = NULL;

    g_free(write_hook(f, "10-record", body, 0755));
    new_hooks(f, 0, 0);
    g_assert_cmpuint(mced_hooks_run(f->h, "custom-1", env), ==, 1);
    wait_results(f, 1);
    g_assert_cmpint(result(f, 0)->status, ==, 0);
    lines = read_record(f);
    assert_record(lines, "custom-1", expected);
}

/* ---- what runs, what is refused ---- */

static void
test_refused(Fixture *f, gconstpointer data)
{
    const char *const ignored[] = { ".hidden", "x~", "y.dpkg-old", "z.rpmnew", "w.swp", NULL };
    g_autofree char *body = g_strdup_printf("touch \"%s/ran.${0##*/}\"", f->tmp);
    g_autofree char *ok = write_hook(f, "10-ok", body, 0755);
    g_autofree char *world = write_hook(f, "20-world", body, 0757);
    g_autofree char *group = write_hook(f, "30-group", body, 0775);
    g_autofree char *link = g_build_filename(f->dir, "40-link", NULL);
    g_autofree char *subdir = g_build_filename(f->dir, "50-dir", NULL);
    g_autofree char *ran_ok = tmp_path(f, "ran.10-ok");
    g_autofree char *ran_group = tmp_path(f, "ran.30-group");
    g_autoptr(GDir) listing = NULL;
    const char *entry;
    Result *r;
    guint n;

    g_assert_cmpint(symlink(ok, link), ==, 0);
    g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
    g_free(write_hook(f, "60-noexec", body, 0644));
    for (guint i = 0; ignored[i] != NULL; i++)
        g_free(write_hook(f, ignored[i], body, 0755));
    new_hooks(f, 4, 10 * G_USEC_PER_SEC);

    /* Refusals are reported at once, while scanning; 10-ok runs. */
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, 1);
    g_assert_cmpuint(f->results->len, ==, 3);
    g_assert_cmpstr(result(f, 0)->name, ==, "20-world");
    g_assert_cmpstr(result(f, 1)->name, ==, "30-group");
    g_assert_cmpstr(result(f, 2)->name, ==, "40-link");
    g_assert_cmpstr(result(f, 0)->reason, ==, "world-writable: refused");
    g_assert_cmpstr(result(f, 1)->reason, ==, "group-writable: refused");
    g_assert_cmpstr(result(f, 2)->reason, ==, "symlink: refused");
    for (guint i = 0; i < 3; i++)
        g_assert_cmpint(result(f, i)->status, ==, MCED_HOOK_STATUS_NOT_RUN);
    wait_results(f, 4);
    g_assert_cmpstr(result(f, 3)->name, ==, "10-ok");
    g_assert_cmpint(result(f, 3)->status, ==, 0);

    /* Only 10-ok ran. */
    listing = g_dir_open(f->tmp, 0, NULL);
    n = 0;
    while ((entry = g_dir_read_name(listing)) != NULL) {
        if (g_str_has_prefix(entry, "ran."))
            n++;
    }
    g_assert_cmpuint(n, ==, 1);
    g_assert_true(g_file_test(ran_ok, G_FILE_TEST_EXISTS));

    /* The same files again: no new reports, 10-ok runs again. */
    g_ptr_array_set_size(f->results, 0);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-closed", NULL), ==, 1);
    wait_results(f, 1);
    g_assert_cmpstr(result(f, 0)->name, ==, "10-ok");
    g_assert_cmpuint(f->results->len, ==, 1);

    /* A change to a file is news: 20-world is reported again, 30-group
     * is now fine and runs. */
    g_ptr_array_set_size(f->results, 0);
    g_assert_cmpint(chmod(world, 0777), ==, 0);
    g_assert_cmpint(chmod(group, 0755), ==, 0);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-closed", NULL), ==, 2);
    g_assert_cmpuint(f->results->len, ==, 1);
    g_assert_cmpstr(result(f, 0)->name, ==, "20-world");
    g_assert_cmpstr(result(f, 0)->reason, ==, "world-writable: refused");
    wait_results(f, 3);
    g_assert_nonnull(find_result(f, "10-ok"));
    r = find_result(f, "30-group");
    g_assert_cmpint(r != NULL ? r->status : -100, ==, 0);
    g_assert_true(g_file_test(ran_group, G_FILE_TEST_EXISTS));
}

static void
test_directory_refused(Fixture *f, gconstpointer data)
{
    g_free(write_hook(f, "10-ok", "exit 0", 0755));
    g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
    new_hooks(f, 0, 0);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, 0);
    g_assert_cmpuint(f->results->len, ==, 1);
    g_assert_cmpstr(result(f, 0)->name, ==, "hooks.d");
    g_assert_cmpstr(result(f, 0)->reason, ==,
                    "hooks directory is group- or world-writable: refused");
    /* Once. */
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, 0);
    g_assert_cmpuint(f->results->len, ==, 1);
    g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, 1);
    wait_results(f, 2);
    g_assert_cmpint(result(f, 1)->status, ==, 0);
}

static void
test_missing_directory(Fixture *f, gconstpointer data)
{
    g_autofree char *none = tmp_path(f, "nope");

    f->h = mced_hooks_new(none, 0, 0);
    mced_hooks_set_callback(f->h, on_done, f);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, 0);
    g_assert_cmpuint(f->results->len, ==, 0);
}

/* ---- outcomes ---- */

static void
test_failure_output(Fixture *f, gconstpointer data)
{
    Result *r;

    g_free(write_hook(f, "10-fail",
                      "echo to-stdout\n"
                      "i=0; while [ $i -lt 600 ]; do printf 'xxxxxxxxxx'; i=$((i+1)); done >&2\n"
                      "printf '\\033[1mbad\\tthing\\n' >&2\n"
                      "exit 3",
                      0755));
    new_hooks(f, 0, 0);
    mced_hooks_run(f->h, "action-failed", NULL);
    wait_results(f, 1);
    r = result(f, 0);
    g_assert_cmpint(r->status, ==, 3);
    g_assert_true(g_str_has_prefix(r->reason, "exit status 3; stderr: "));
    g_assert_true(g_str_has_suffix(r->reason, "\\x1b[1mbad\tthing; stdout: to-stdout"));
    /* The 6000 bytes of stderr were cut to their last 4 KiB (before
     * escaping: the escape adds three bytes). */
    g_assert_cmpuint(strlen(r->reason), <=, strlen("exit status 3; stderr: ") +
                                                MCED_HOOKS_OUTPUT_TAIL + 3 +
                                                strlen("; stdout: to-stdout"));
    g_assert_cmpuint(strlen(r->reason), >, MCED_HOOKS_OUTPUT_TAIL);
}

static gboolean
pid_dead(Fixture *f, gconstpointer data)
{
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", GPOINTER_TO_INT(data));
    g_autofree char *text = NULL;
    const char *paren;

    if (!g_file_get_contents(stat_path, &text, NULL, NULL))
        return TRUE;
    paren = strrchr(text, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'Z'; /* a zombie is dead */
}

static gboolean
tick(gpointer user_data)
{
    return G_SOURCE_CONTINUE; /* wakes the loop so wait_for looks again */
}

static void
test_timeout(Fixture *f, gconstpointer data)
{
    g_autofree char *pid_file = tmp_path(f, "child.pid");
    g_autofree char *body = g_strdup_printf("trap '' TERM\n"
                                            "sleep 1000 &\n"
                                            "echo $! > %s\n"
                                            "echo about to wait >&2\n"
                                            "wait",
                                            pid_file);
    g_autofree char *text = NULL;
    gint64 t0, child = 0;
    guint tick_id;

    g_free(write_hook(f, "10-slow", body, 0755));
    /* Long enough for the shell to reach its trap and write the pid file
     * even on a loaded machine. */
    new_hooks(f, 0, G_USEC_PER_SEC);
    t0 = g_get_monotonic_time();
    mced_hooks_run(f->h, "incident-opened", NULL);
    wait_results(f, 1);
    g_assert_cmpint(result(f, 0)->status, ==, MCED_HOOK_STATUS_TIMEOUT);
    g_assert_cmpstr(result(f, 0)->reason, ==,
                    "timed out after 1 s: killed; stderr: about to wait");
    /* It ignored SIGTERM, so SIGKILL ended it, after the grace. */
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, MCED_HOOKS_KILL_GRACE_US);
    g_assert_cmpuint(mced_hooks_get_n_running(f->h), ==, 0);

    /* Its child went with it. */
    g_assert_true(g_file_get_contents(pid_file, &text, NULL, NULL));
    g_strstrip(text);
    g_assert_true(g_ascii_string_to_signed(text, 10, 2, G_MAXINT, &child, NULL));
    tick_id = g_timeout_add(10, tick, NULL);
    wait_for(f, pid_dead, GINT_TO_POINTER((int)child));
    g_source_remove(tick_id);
}

/* ---- the cap on concurrency, and the queue ---- */

static int
open_fifo(Fixture *f, const char *name)
{
    g_autofree char *path = tmp_path(f, name);
    int fd;

    g_assert_cmpint(mkfifo(path, 0600), ==, 0);
    /* Held open for both ends: a hook's open never blocks, and data
     * written waits in the pipe for it. */
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

static void
release(int fd)
{
    g_assert_cmpint(write(fd, "go\n", 3), ==, 3);
}

static void
check_cap(Fixture *f)
{
    guint running = f->started->len - f->results->len;

    f->max_overlap = MAX(f->max_overlap, running);
    g_assert_cmpuint(running, <=, f->max_conc);
}

static gboolean
on_notify(int fd, GIOCondition condition, gpointer user_data)
{
    Fixture *f = user_data;
    char buf[256];
    ssize_t n;
    char *nl;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        g_string_append_len(f->notify_buf, buf, n);
    while ((nl = strchr(f->notify_buf->str, '\n')) != NULL) {
        g_autofree char *line = g_strndup(f->notify_buf->str, (gsize)(nl - f->notify_buf->str));

        g_string_erase(f->notify_buf, 0, nl - f->notify_buf->str + 1);
        g_assert_true(g_str_has_prefix(line, "start "));
        g_ptr_array_add(f->started, g_strdup(line + strlen("start ")));
        check_cap(f);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean
all_done(Fixture *f, gconstpointer data)
{
    return f->results->len >= f->total;
}

static gboolean
n_started(Fixture *f, gconstpointer n)
{
    return f->started->len >= GPOINTER_TO_UINT(n);
}

static int
compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_concurrency(Fixture *f, gconstpointer data)
{
    g_autofree int *gates = NULL;
    guint watch;

    f->max_conc = 2;
    f->total = 5;
    gates = g_new0(int, f->total);
    f->notify_fd = open_fifo(f, "notify");
    for (guint i = 0; i < f->total; i++) {
        g_autofree char *name = g_strdup_printf("h%u", i + 1);
        g_autofree char *gate = g_strdup_printf("gate.%s", name);
        g_autofree char *body = g_strdup_printf("printf 'start %%s\\n' %s > %s/notify\n"
                                                "read line < %s/%s",
                                                name, f->tmp, f->tmp, gate);
        gates[i] = open_fifo(f, gate);
        g_free(write_hook(f, name, body, 0755));
    }
    watch = g_unix_fd_add(f->notify_fd, G_IO_IN, on_notify, f);
    new_hooks(f, f->max_conc, 10 * G_USEC_PER_SEC);
    g_assert_cmpuint(mced_hooks_run(f->h, "incident-opened", NULL), ==, f->total);
    g_assert_cmpuint(mced_hooks_get_n_running(f->h), ==, 2);
    g_assert_cmpuint(mced_hooks_get_n_queued(f->h), ==, 3);

    /* Release the oldest running hook only once the cap is full, so each
     * start can be checked against it: started - finished <= cap. */
    while (f->released < f->total) {
        guint want = MIN(f->released + f->max_conc, f->total);

        wait_for(f, n_started, GUINT_TO_POINTER(want));
        g_assert_cmpuint(mced_hooks_get_n_running(f->h), ==, want - f->released);
        check_cap(f);
        release(gates[f->released]);
        f->released++;
        /* The next one starts only after this one finished. */
        wait_results(f, f->released);
    }
    wait_for(f, all_done, NULL);
    g_assert_cmpuint(f->max_overlap, ==, f->max_conc);
    /* Hooks spawned together may report their start in either order;
     * each started once. Finishing order is the release order. */
    g_assert_cmpuint(f->started->len, ==, f->total);
    g_ptr_array_sort(f->started, (GCompareFunc)compare_strings);
    for (guint i = 0; i < f->total; i++) {
        g_autofree char *name = g_strdup_printf("h%u", i + 1);
        g_assert_cmpstr(g_ptr_array_index(f->started, i), ==, name);
        g_assert_cmpstr(result(f, i)->name, ==, name);
        g_assert_cmpint(result(f, i)->status, ==, 0);
        close(gates[i]);
    }
    g_source_remove(watch);
}

static void
test_queue_bound(Fixture *f, gconstpointer data)
{
    g_autofree char *body = g_strdup_printf("read line < %s/gate", f->tmp);
    int gate = open_fifo(f, "gate");
    const char *const events[] = { "e0", "e3", "e4", "e5" };

    g_free(write_hook(f, "10-gate", body, 0755));
    new_hooks(f, 1, 10 * G_USEC_PER_SEC);
    mced_hooks_set_max_queued(f->h, 3);
    for (guint i = 0; i < 6; i++) {
        g_autofree char *event = g_strdup_printf("e%u", i);
        mced_hooks_run(f->h, event, NULL);
    }
    /* e0 runs, e1..e3 waited; e4 and e5 pushed out the oldest. */
    g_assert_cmpuint(mced_hooks_get_n_running(f->h), ==, 1);
    g_assert_cmpuint(mced_hooks_get_n_queued(f->h), ==, 3);
    g_assert_cmpuint(f->results->len, ==, 2);
    g_assert_cmpstr(result(f, 0)->event, ==, "e1");
    g_assert_cmpstr(result(f, 1)->event, ==, "e2");
    for (guint i = 0; i < 2; i++) {
        g_assert_cmpint(result(f, i)->status, ==, MCED_HOOK_STATUS_NOT_RUN);
        g_assert_cmpstr(result(f, i)->reason, ==, "queue full: dropped");
    }
    for (guint i = 0; i < 4; i++)
        release(gate);
    wait_results(f, 6);
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpstr(result(f, 2 + i)->event, ==, events[i]);
        g_assert_cmpint(result(f, 2 + i)->status, ==, 0);
    }
    close(gate);
}

static void
test_free_kills(Fixture *f, gconstpointer data)
{
    g_autofree char *pid_file = tmp_path(f, "pid");
    g_autofree char *body = g_strdup_printf("echo $$ > %s.tmp; mv %s.tmp %s\n"
                                            "printf 'start x\\n' > %s/notify\n"
                                            "exec sleep 1000",
                                            pid_file, pid_file, pid_file, f->tmp);
    g_autofree char *text = NULL;
    g_autofree char *proc = NULL;
    gint64 pid = 0;
    guint watch;

    f->notify_fd = open_fifo(f, "notify");
    watch = g_unix_fd_add(f->notify_fd, G_IO_IN, on_notify, f);
    g_free(write_hook(f, "10-sleep", body, 0755));
    new_hooks(f, 0, 0);
    f->max_conc = MCED_HOOKS_DEFAULT_MAX_CONCURRENT;
    mced_hooks_run(f->h, "incident-opened", NULL);
    mced_hooks_run(f->h, "incident-closed", NULL);
    wait_for(f, n_started, GUINT_TO_POINTER(2));
    g_assert_true(g_file_get_contents(pid_file, &text, NULL, NULL));
    g_strstrip(text);
    g_assert_true(g_ascii_string_to_signed(text, 10, 2, G_MAXINT, &pid, NULL));
    g_clear_pointer(&f->h, mced_hooks_free);
    /* Killed and reaped: no process is left. */
    proc = g_strdup_printf("/proc/%d", (int)pid);
    g_assert_false(g_file_test(proc, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(f->results->len, ==, 0);
    g_source_remove(watch);
}

static void
test_escape(void)
{
    g_autofree char *a = mced_hooks_escape_value("plain name-1.2");
    g_autofree char *b = mced_hooks_escape_value("a\\b\nc\x01\x7f\"$`'");
    g_autofree char *c = mced_hooks_escape_value(NULL);
    g_autofree char *long_in = g_strnfill(MCED_HOOKS_MAX_VALUE + 10, '\n');
    g_autofree char *d = mced_hooks_escape_value(long_in);

    g_assert_cmpstr(a, ==, "plain name-1.2");
    g_assert_cmpstr(b, ==, "a\\\\b\\x0ac\\x01\\x7f\"$`'");
    g_assert_cmpstr(c, ==, "");
    /* Cut between escapes, within the bound. */
    g_assert_cmpuint(strlen(d), ==, (MCED_HOOKS_MAX_VALUE / 4) * 4);
    g_assert_true(g_str_has_suffix(d, "\\x0a"));
    g_assert_cmpstr(mced_hooks_incident_event_name(MCED_INCIDENT_EVENT_MERGED), ==,
                    "incident-merged");
}

#define ADD(name, fn) \
    g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (geteuid() != 0) {
        g_printerr("test-hooks: hooks must be owned by root; run as root (skipped)\n");
        return 77;
    }
    /* Must not reach a hook. */
    g_setenv("MCED_TEST_CANARY", "1", TRUE);

    g_test_add_func("/hooks/escape", test_escape);
    ADD("/hooks/environment", test_environment);
    ADD("/hooks/run-filters-env", test_run_filters_env);
    ADD("/hooks/refused", test_refused);
    ADD("/hooks/directory-refused", test_directory_refused);
    ADD("/hooks/missing-directory", test_missing_directory);
    ADD("/hooks/failure-output", test_failure_output);
    ADD("/hooks/timeout", test_timeout);
    ADD("/hooks/concurrency", test_concurrency);
    ADD("/hooks/queue-bound", test_queue_bound);
    ADD("/hooks/free-kills", test_free_kills);
    return g_test_run();
}
