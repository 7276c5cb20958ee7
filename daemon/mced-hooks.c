/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mced-hooks.h"

#define BASE_PATH      "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#define BASE_LANG      "LANG=C.UTF-8"
#define MAX_EVENT      64
#define MAX_ENV        64   /* caller's entries passed on */
#define MAX_DIR_ENTRIES 1024 /* directory entries looked at per scan */

/* What a file looked like when it was refused: a change reports again. */
typedef struct {
    guint64 inode;
    gint64 mtime_s;
    gint64 mtime_ns;
    guint32 mode;
    guint32 uid;
} Stamp;

typedef struct {
    char *path;
    char *event;
    GStrv envp; /* complete: PATH, LANG, KVM_MCED_* */
} Run;

typedef struct {
    McedHooks *h;
    Run *run;
    GPid pid;
    guint child_watch;
    guint timeout_id;
    guint kill_id;
    int out_fd;
    int err_fd;
    guint out_src;
    guint err_src;
    GByteArray *out; /* tails, at most MCED_HOOKS_OUTPUT_TAIL bytes each */
    GByteArray *err;
    gint64 timeout_us;
    gboolean timed_out;
} Running;

struct McedHooks {
    char *directory;
    guint max_concurrent;
    gint64 timeout_us;
    guint max_queued;
    GQueue queue;      /* Run*, oldest first */
    GList *running;    /* Running* */
    guint n_running;
    GHashTable *refused; /* path -> Stamp*: refusals already reported */
    McedHookDone func;
    gpointer user_data;
};

/* ---- values and environments ---- */

static void
run_free(Run *run)
{
    g_free(run->path);
    g_free(run->event);
    g_strfreev(run->envp);
    g_free(run);
}

char *
mced_hooks_escape_value(const char *value)
{
    GString *s = g_string_new(NULL);

    for (const char *p = value != NULL ? value : ""; *p != '\0'; p++) {
        guchar c = (guchar)*p;
        char piece[8];

        if (c == '\\')
            g_strlcpy(piece, "\\\\", sizeof(piece));
        else if (c < 0x20 || c == 0x7f)
            g_snprintf(piece, sizeof(piece), "\\x%02x", c);
        else {
            piece[0] = (char)c;
            piece[1] = '\0';
        }
        if (s->len + strlen(piece) > MCED_HOOKS_MAX_VALUE)
            break;
        g_string_append(s, piece);
    }
    return g_string_free(s, FALSE);
}

static gboolean
valid_event(const char *event)
{
    gsize n;

    if (event == NULL)
        return FALSE;
    n = strlen(event);
    if (n == 0 || n > MAX_EVENT)
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        char c = event[i];
        if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && c != '-')
            return FALSE;
    }
    return TRUE;
}

/* "KVM_MCED_NAME=value" with a name of [A-Z0-9_] and a value without
 * control characters. */
static gboolean
valid_entry(const char *entry)
{
    const char *eq;

    if (!g_str_has_prefix(entry, "KVM_MCED_"))
        return FALSE;
    eq = strchr(entry, '=');
    if (eq == NULL || eq == entry + strlen("KVM_MCED_"))
        return FALSE;
    for (const char *p = entry; p < eq; p++) {
        if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p) && *p != '_')
            return FALSE;
    }
    if (strlen(eq + 1) > MCED_HOOKS_MAX_VALUE)
        return FALSE;
    for (const char *p = eq + 1; *p != '\0'; p++) {
        if ((guchar)*p < 0x20 || (guchar)*p == 0x7f)
            return FALSE;
    }
    return TRUE;
}

static gboolean
has_key(GPtrArray *entries, const char *entry)
{
    gsize klen = (gsize)(strchr(entry, '=') - entry) + 1; /* with '=' */

    for (guint i = 0; i < entries->len; i++) {
        if (strncmp(g_ptr_array_index(entries, i), entry, klen) == 0)
            return TRUE;
    }
    return FALSE;
}

static GStrv
build_envp(const char *event, const char *const *env)
{
    GPtrArray *entries = g_ptr_array_new();
    guint taken = 0;

    g_ptr_array_add(entries, g_strdup(BASE_PATH));
    g_ptr_array_add(entries, g_strdup(BASE_LANG));
    g_ptr_array_add(entries, g_strconcat("KVM_MCED_EVENT=", event, NULL));
    for (gsize i = 0; env != NULL && env[i] != NULL && taken < MAX_ENV; i++) {
        if (!valid_entry(env[i]) || has_key(entries, env[i]))
            continue; /* includes KVM_MCED_EVENT: @event is the one */
        g_ptr_array_add(entries, g_strdup(env[i]));
        taken++;
    }
    g_ptr_array_add(entries, NULL);
    return (GStrv)g_ptr_array_free(entries, FALSE);
}

static void
add_var(GPtrArray *entries, const char *key, const char *value)
{
    g_autofree char *escaped = mced_hooks_escape_value(value);

    g_ptr_array_add(entries, g_strconcat(key, "=", escaped, NULL));
}

const char *
mced_hooks_incident_event_name(McedIncidentEvent event)
{
    switch (event) {
    case MCED_INCIDENT_EVENT_OPENED:
        return "incident-opened";
    case MCED_INCIDENT_EVENT_UPDATED:
        return "incident-updated";
    case MCED_INCIDENT_EVENT_CLOSED:
        return "incident-closed";
    case MCED_INCIDENT_EVENT_MERGED:
        return "incident-merged";
    }
    return NULL;
}

GStrv
mced_hooks_env_for_incident(const char *event, const McedIncident *inc)
{
    GPtrArray *entries;
    g_autofree char *full = NULL;
    g_autofree char *cpus = NULL;
    g_autofree char *vcpus = NULL;
    g_autofree char *addresses = NULL;
    g_autofree char *count = NULL;

    g_return_val_if_fail(valid_event(event), NULL);
    g_return_val_if_fail(inc != NULL, NULL);

    full = g_strconcat("incident-", event, NULL);
    cpus = mced_incident_join_values(inc->host_cpus, FALSE);
    vcpus = mced_incident_join_values(inc->vcpus, FALSE);
    addresses = mced_incident_join_values(inc->addresses, TRUE);
    count = g_strdup_printf("%u", inc->n_observations);

    entries = g_ptr_array_new();
    add_var(entries, "KVM_MCED_EVENT", full);
    add_var(entries, "KVM_MCED_INCIDENT", inc->id);
    add_var(entries, "KVM_MCED_DOMAIN", inc->vm != NULL ? inc->vm->name : NULL);
    add_var(entries, "KVM_MCED_DOMAIN_UUID", inc->vm != NULL ? inc->vm->uuid : NULL);
    add_var(entries, "KVM_MCED_CLASS", mced_incident_class_to_string(inc->klass));
    add_var(entries, "KVM_MCED_SEVERITY", mced_severity_to_string(inc->severity));
    add_var(entries, "KVM_MCED_DISPOSITION", mced_disposition_to_string(inc->disposition));
    add_var(entries, "KVM_MCED_ERROR_TYPE", inc->error_type);
    add_var(entries, "KVM_MCED_HOST_CPU", cpus);
    add_var(entries, "KVM_MCED_VCPU", vcpus);
    add_var(entries, "KVM_MCED_ADDRESS", addresses);
    add_var(entries, "KVM_MCED_OBSERVATIONS", count);
    add_var(entries, "KVM_MCED_SYNTHETIC", inc->synthetic ? "1" : "0");
    add_var(entries, "KVM_MCED_MERGED_INTO", inc->merged_into);
    g_ptr_array_add(entries, NULL);
    return (GStrv)g_ptr_array_free(entries, FALSE);
}

GStrv
mced_hooks_env_for_action(const char *incident_id, gboolean synthetic, const char *domain,
                          const char *uuid, const char *action, const char *result,
                          const char *detail)
{
    GPtrArray *entries;
    g_autofree char *full = NULL;

    g_return_val_if_fail(valid_event(result), NULL);

    full = g_strconcat("action-", result, NULL);
    entries = g_ptr_array_new();
    add_var(entries, "KVM_MCED_EVENT", full);
    add_var(entries, "KVM_MCED_INCIDENT", incident_id);
    add_var(entries, "KVM_MCED_DOMAIN", domain);
    add_var(entries, "KVM_MCED_DOMAIN_UUID", uuid);
    add_var(entries, "KVM_MCED_ACTION", action);
    add_var(entries, "KVM_MCED_RESULT", result);
    add_var(entries, "KVM_MCED_DETAIL", detail);
    add_var(entries, "KVM_MCED_SYNTHETIC", synthetic ? "1" : "0");
    g_ptr_array_add(entries, NULL);
    return (GStrv)g_ptr_array_free(entries, FALSE);
}

/* ---- which files run ---- */

static void
report(McedHooks *h, const char *path, const char *event, int status, const char *reason)
{
    if (h->func != NULL)
        h->func(path, event, status, reason, h->user_data);
}

/* Leftovers of editors and package managers, skipped without a word. */
static gboolean
ignored_name(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (name[0] == '.' || g_str_has_suffix(name, "~") || g_str_has_suffix(name, ".swp"))
        return TRUE;
    return dot != NULL && (g_str_has_prefix(dot, ".dpkg-") || g_str_has_prefix(dot, ".rpm"));
}

typedef enum {
    CHECK_RUN,
    CHECK_SKIP,   /* silently: not a hook (directory, no execute bit, gone) */
    CHECK_REFUSE, /* reported */
} Check;

static Check
check_stat(const struct stat *st, const char **reason)
{
    if (S_ISLNK(st->st_mode)) {
        *reason = "symlink: refused";
        return CHECK_REFUSE;
    }
    if (S_ISDIR(st->st_mode))
        return CHECK_SKIP;
    if (!S_ISREG(st->st_mode)) {
        *reason = "not a regular file: refused";
        return CHECK_REFUSE;
    }
    if ((st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
        return CHECK_SKIP; /* chmod -x is how a hook is switched off */
    if (st->st_mode & S_IWOTH) {
        *reason = "world-writable: refused";
        return CHECK_REFUSE;
    }
    if (st->st_mode & S_IWGRP) {
        *reason = "group-writable: refused";
        return CHECK_REFUSE;
    }
    if (st->st_uid != 0) {
        *reason = "not owned by root: refused";
        return CHECK_REFUSE;
    }
    return CHECK_RUN;
}

static Check
check_dir_stat(const struct stat *st, const char **reason)
{
    if (!S_ISDIR(st->st_mode)) {
        *reason = "hooks directory is not a directory: refused";
        return CHECK_REFUSE;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        *reason = "hooks directory is group- or world-writable: refused";
        return CHECK_REFUSE;
    }
    if (st->st_uid != 0) {
        *reason = "hooks directory is not owned by root: refused";
        return CHECK_REFUSE;
    }
    return CHECK_RUN;
}

static void
stamp_of(const struct stat *st, Stamp *s)
{
    memset(s, 0, sizeof(*s)); /* compared with memcmp */
    s->inode = (guint64)st->st_ino;
    s->mtime_s = (gint64)st->st_mtim.tv_sec;
    s->mtime_ns = (gint64)st->st_mtim.tv_nsec;
    s->mode = (guint32)st->st_mode;
    s->uid = (guint32)st->st_uid;
}

/* Reports a refusal unless this very version of the file was reported
 * already; @seen collects what this scan refused. */
static void
refuse(McedHooks *h, GHashTable *seen, const char *path, const struct stat *st,
       const char *event, const char *reason)
{
    Stamp now, *old = g_hash_table_lookup(h->refused, path);

    stamp_of(st, &now);
    if (old == NULL || memcmp(old, &now, sizeof(now)) != 0)
        report(h, path, event, MCED_HOOK_STATUS_NOT_RUN, reason);
    g_hash_table_replace(seen, g_strdup(path), g_memdup2(&now, sizeof(now)));
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static GHashTable *
new_refused_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* The hooks to run, sorted by name (full paths). Refusals are reported. */
static GPtrArray *
scan(McedHooks *h, const char *event)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GHashTable *seen = new_refused_table();
    struct stat st;
    struct dirent *ent;
    DIR *dir = NULL;
    const char *reason = NULL;
    guint looked = 0;
    int dfd;

    dfd = open(h->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
    if (dfd < 0) {
        /* No directory, no hooks. Anything else (not a directory, no
         * permission) is refused once. */
        if (errno != ENOENT && stat(h->directory, &st) == 0) {
            if (check_dir_stat(&st, &reason) == CHECK_REFUSE)
                refuse(h, seen, h->directory, &st, event, reason);
        }
        goto out;
    }
    if (fstat(dfd, &st) < 0) {
        close(dfd);
        goto out;
    }
    if (check_dir_stat(&st, &reason) != CHECK_RUN) {
        refuse(h, seen, h->directory, &st, event, reason);
        close(dfd);
        goto out;
    }
    dir = fdopendir(dfd);
    if (dir == NULL) {
        close(dfd);
        goto out;
    }
    while ((ent = readdir(dir)) != NULL && looked < MAX_DIR_ENTRIES) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        looked++;
        if (!ignored_name(ent->d_name))
            g_ptr_array_add(names, g_strdup(ent->d_name));
    }
    /* In name order, as they run (and are reported). */
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = NULL;

        if (fstatat(dirfd(dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* went away meanwhile */
        path = g_build_filename(h->directory, name, NULL);
        switch (check_stat(&st, &reason)) {
        case CHECK_RUN:
            if (paths->len < MCED_HOOKS_MAX_FILES)
                g_ptr_array_add(paths, g_steal_pointer(&path));
            else
                refuse(h, seen, path, &st, event, "too many hooks in the directory: refused");
            break;
        case CHECK_SKIP:
            break;
        case CHECK_REFUSE:
            refuse(h, seen, path, &st, event, reason);
            break;
        }
    }
    closedir(dir);
out:
    /* Only what is still refused stays remembered. */
    g_hash_table_unref(h->refused);
    h->refused = seen;
    return paths;
}

/* ---- running ---- */

static void pump(McedHooks *h);

static void
tail_append(GByteArray *tail, const guint8 *data, gsize n)
{
    if (n >= MCED_HOOKS_OUTPUT_TAIL) {
        g_byte_array_set_size(tail, 0);
        g_byte_array_append(tail, data + n - MCED_HOOKS_OUTPUT_TAIL, MCED_HOOKS_OUTPUT_TAIL);
        return;
    }
    g_byte_array_append(tail, data, (guint)n);
    if (tail->len > MCED_HOOKS_OUTPUT_TAIL)
        g_byte_array_remove_range(tail, 0, tail->len - MCED_HOOKS_OUTPUT_TAIL);
}

/* Reads what is there; FALSE at end of file or on an error. */
static gboolean
drain(int fd, GByteArray *tail)
{
    guint8 buf[MCED_HOOKS_OUTPUT_TAIL];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return TRUE;
        if (n <= 0)
            return FALSE;
        tail_append(tail, buf, (gsize)n);
    }
}

static void
close_output(int *fd, guint *src)
{
    if (*src != 0) {
        g_source_remove(*src);
        *src = 0;
    }
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static gboolean
on_output(int fd, GIOCondition condition, gpointer user_data)
{
    Running *r = user_data;
    gboolean is_out = (fd == r->out_fd);

    if (drain(fd, is_out ? r->out : r->err))
        return G_SOURCE_CONTINUE;
    /* End of file: the source goes away with G_SOURCE_REMOVE. */
    if (is_out) {
        r->out_src = 0;
        close(r->out_fd);
        r->out_fd = -1;
    } else {
        r->err_src = 0;
        close(r->err_fd);
        r->err_fd = -1;
    }
    return G_SOURCE_REMOVE;
}

static void
running_free(Running *r)
{
    close_output(&r->out_fd, &r->out_src);
    close_output(&r->err_fd, &r->err_src);
    if (r->timeout_id != 0)
        g_source_remove(r->timeout_id);
    if (r->kill_id != 0)
        g_source_remove(r->kill_id);
    if (r->child_watch != 0)
        g_source_remove(r->child_watch);
    g_byte_array_unref(r->out);
    g_byte_array_unref(r->err);
    run_free(r->run);
    g_free(r);
}

/* Output for a log line: control characters but newline and tab escaped,
 * a trailing newline dropped, valid UTF-8. */
static char *
printable(const GByteArray *tail)
{
    GString *s = g_string_new(NULL);
    guint n = tail->len;

    while (n > 0 && (tail->data[n - 1] == '\n' || tail->data[n - 1] == '\r'))
        n--;
    for (guint i = 0; i < n; i++) {
        guint8 c = tail->data[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            g_string_append_printf(s, "\\x%02x", c);
        else
            g_string_append_c(s, (char)c);
    }
    {
        char *valid = g_utf8_make_valid(s->str, (gssize)s->len);
        g_string_free(s, TRUE);
        return valid;
    }
}

static char *
describe(const Running *r, int status, int wait_status)
{
    GString *s = g_string_new(NULL);
    g_autofree char *err = printable(r->err);
    g_autofree char *out = printable(r->out);

    if (status == MCED_HOOK_STATUS_TIMEOUT) {
        g_string_append_printf(s, "timed out after %g s: killed",
                               (double)r->timeout_us / G_USEC_PER_SEC);
    } else if (WIFSIGNALED(wait_status)) {
        g_string_append_printf(s, "killed by signal %d (%s)", WTERMSIG(wait_status),
                               g_strsignal(WTERMSIG(wait_status)));
    } else if (status != 0) {
        g_string_append_printf(s, "exit status %d", status);
    } else {
        g_string_free(s, TRUE);
        return NULL;
    }
    if (*err != '\0')
        g_string_append_printf(s, "; stderr: %s", err);
    if (*out != '\0')
        g_string_append_printf(s, "; stdout: %s", out);
    return g_string_free(s, FALSE);
}

static void
on_child_exit(GPid pid, int wait_status, gpointer user_data)
{
    Running *r = user_data;
    McedHooks *h = r->h;
    g_autofree char *reason = NULL;
    g_autofree char *path = NULL;
    g_autofree char *event = NULL;
    int status;

    r->child_watch = 0; /* the source is done after this callback */
    /* Whatever it left behind in its group ends with it. The group id
     * stays taken while any member lives, so this cannot hit a stranger
     * unless the group is empty and its id was reused in between. */
    (void)kill(-pid, SIGKILL);
    g_spawn_close_pid(pid);
    if (r->out_fd >= 0)
        drain(r->out_fd, r->out);
    if (r->err_fd >= 0)
        drain(r->err_fd, r->err);

    if (r->timed_out)
        status = MCED_HOOK_STATUS_TIMEOUT;
    else if (WIFEXITED(wait_status))
        status = WEXITSTATUS(wait_status);
    else if (WIFSIGNALED(wait_status))
        status = 128 + WTERMSIG(wait_status);
    else
        status = 255;
    reason = describe(r, status, wait_status);

    path = g_strdup(r->run->path);
    event = g_strdup(r->run->event);
    h->running = g_list_remove(h->running, r);
    h->n_running--;
    running_free(r);

    report(h, path, event, status, reason);
    pump(h);
}

static gboolean
on_kill(gpointer user_data)
{
    Running *r = user_data;

    r->kill_id = 0;
    (void)kill(-r->pid, SIGKILL);
    return G_SOURCE_REMOVE;
}

static gboolean
on_timeout(gpointer user_data)
{
    Running *r = user_data;

    r->timeout_id = 0;
    r->timed_out = TRUE;
    /* Not reaped yet (the child watch has not run), so the group is ours. */
    (void)kill(-r->pid, SIGTERM);
    r->kill_id = g_timeout_add((guint)(MCED_HOOKS_KILL_GRACE_US / 1000), on_kill, r);
    return G_SOURCE_REMOVE;
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
child_setup(gpointer user_data)
{
    sigset_t none;
    struct sigaction dfl;

    (void)setpgid(0, 0);
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    (void)sigaction(SIGPIPE, &dfl, NULL);
    (void)sigaction(SIGTERM, &dfl, NULL);
    (void)sigaction(SIGINT, &dfl, NULL);
    (void)sigaction(SIGHUP, &dfl, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static guint
timeout_ms(gint64 us)
{
    gint64 ms = (us + 999) / 1000;

    return (guint)CLAMP(ms, 1, G_MAXUINT);
}

static void
start(McedHooks *h, Run *run)
{
    g_autoptr(GError) error = NULL;
    const char *argv[] = { run->path, run->event, NULL };
    const char *reason = NULL;
    struct stat st;
    Running *r;
    GPid pid = 0;
    int out_fd = -1, err_fd = -1;

    /* It may have changed while it waited. */
    if (lstat(run->path, &st) < 0 || check_stat(&st, &reason) != CHECK_RUN) {
        report(h, run->path, run->event, MCED_HOOK_STATUS_NOT_RUN,
               reason != NULL ? reason : "gone or no longer executable: not run");
        run_free(run);
        return;
    }
    if (!g_spawn_async_with_pipes_and_fds("/", argv, (const char *const *)run->envp,
                                          G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                          child_setup, NULL, -1, -1, -1, NULL, NULL, 0, &pid,
                                          NULL, &out_fd, &err_fd, &error)) {
        g_autofree char *why = g_strdup_printf("spawn failed: %s", error->message);
        report(h, run->path, run->event, MCED_HOOK_STATUS_NOT_RUN, why);
        run_free(run);
        return;
    }
    /* Also here, so the group exists before any kill(-pid) of ours. */
    (void)setpgid(pid, pid);

    r = g_new0(Running, 1);
    r->h = h;
    r->run = run;
    r->pid = pid;
    r->out_fd = out_fd;
    r->err_fd = err_fd;
    r->out = g_byte_array_new();
    r->err = g_byte_array_new();
    r->timeout_us = h->timeout_us;
    (void)g_unix_set_fd_nonblocking(out_fd, TRUE, NULL);
    (void)g_unix_set_fd_nonblocking(err_fd, TRUE, NULL);
    r->out_src = g_unix_fd_add(out_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_output, r);
    r->err_src = g_unix_fd_add(err_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_output, r);
    r->child_watch = g_child_watch_add(pid, on_child_exit, r);
    r->timeout_id = g_timeout_add(timeout_ms(h->timeout_us), on_timeout, r);
    h->running = g_list_append(h->running, r);
    h->n_running++;
}

static void
pump(McedHooks *h)
{
    while (h->n_running < h->max_concurrent && !g_queue_is_empty(&h->queue))
        start(h, g_queue_pop_head(&h->queue));
}

/* ---- public ---- */

McedHooks *
mced_hooks_new(const char *directory, guint max_concurrent, gint64 timeout_us)
{
    McedHooks *h = g_new0(McedHooks, 1);

    h->directory = g_strdup(directory != NULL ? directory : MCED_HOOKS_DEFAULT_DIRECTORY);
    h->max_queued = MCED_HOOKS_DEFAULT_MAX_QUEUED;
    g_queue_init(&h->queue);
    h->refused = new_refused_table();
    mced_hooks_set_limits(h, max_concurrent, timeout_us);
    return h;
}

void
mced_hooks_free(McedHooks *h)
{
    if (h == NULL)
        return;
    while (h->running != NULL) {
        Running *r = h->running->data;

        h->running = g_list_delete_link(h->running, h->running);
        /* Not reaped yet: the group is still ours to kill. */
        g_source_remove(r->child_watch);
        r->child_watch = 0;
        (void)kill(-r->pid, SIGKILL);
        while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        g_spawn_close_pid(r->pid);
        running_free(r);
    }
    g_queue_clear_full(&h->queue, (GDestroyNotify)run_free);
    g_hash_table_unref(h->refused);
    g_free(h->directory);
    g_free(h);
}

void
mced_hooks_set_callback(McedHooks *h, McedHookDone func, gpointer user_data)
{
    g_return_if_fail(h != NULL);

    h->func = func;
    h->user_data = user_data;
}

void
mced_hooks_set_max_queued(McedHooks *h, guint max_queued)
{
    g_return_if_fail(h != NULL);

    h->max_queued = MAX(max_queued, 1);
}

void
mced_hooks_set_limits(McedHooks *h, guint max_concurrent, gint64 timeout_us)
{
    g_return_if_fail(h != NULL);

    h->max_concurrent = max_concurrent > 0 ? max_concurrent : MCED_HOOKS_DEFAULT_MAX_CONCURRENT;
    h->timeout_us = timeout_us > 0 ? timeout_us : MCED_HOOKS_DEFAULT_TIMEOUT_US;
    pump(h);
}

guint
mced_hooks_run(McedHooks *h, const char *event, const char *const *env)
{
    g_autoptr(GPtrArray) paths = NULL;

    g_return_val_if_fail(h != NULL, 0);
    g_return_val_if_fail(valid_event(event), 0);

    paths = scan(h, event);
    for (guint i = 0; i < paths->len; i++) {
        Run *run = g_new0(Run, 1);

        run->path = g_strdup(g_ptr_array_index(paths, i));
        run->event = g_strdup(event);
        run->envp = build_envp(event, env);
        if (g_queue_get_length(&h->queue) >= h->max_queued) {
            Run *oldest = g_queue_pop_head(&h->queue);
            report(h, oldest->path, oldest->event, MCED_HOOK_STATUS_NOT_RUN,
                   "queue full: dropped");
            run_free(oldest);
        }
        g_queue_push_tail(&h->queue, run);
        pump(h);
    }
    return paths->len;
}

guint
mced_hooks_run_incident(McedHooks *h, McedIncidentEvent event, const McedIncident *inc)
{
    const char *name = mced_hooks_incident_event_name(event);
    g_auto(GStrv) env = NULL;

    g_return_val_if_fail(name != NULL, 0);

    env = mced_hooks_env_for_incident(name + strlen("incident-"), inc);
    return mced_hooks_run(h, name, (const char *const *)env);
}

guint
mced_hooks_run_action(McedHooks *h, const char *incident_id, gboolean synthetic,
                      const char *domain, const char *uuid, const char *action,
                      const char *result, const char *detail)
{
    g_auto(GStrv) env = NULL;
    g_autofree char *name = NULL;

    g_return_val_if_fail(valid_event(result), 0);

    env = mced_hooks_env_for_action(incident_id, synthetic, domain, uuid, action, result,
                                    detail);
    name = g_strconcat("action-", result, NULL);
    return mced_hooks_run(h, name, (const char *const *)env);
}

guint
mced_hooks_get_n_running(const McedHooks *h)
{
    return h->n_running;
}

guint
mced_hooks_get_n_queued(const McedHooks *h)
{
    return g_queue_get_length((GQueue *)&h->queue);
}
