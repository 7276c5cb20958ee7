/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mced-error.h"
#include "mced-registry.h"

#define CMDLINE_MAX   (128 * 1024) /* bytes of <pid>/cmdline read; the rest is cut */
#define PROCFILE_MAX  (16 * 1024)  /* bytes of <pid>/status and <pid>/stat read */
#define NAME_MAX_LEN  1024         /* a longer -name is refused */
#define UUID_LEN      36
#define TASK_DIR_MAX  65536        /* entries of <pid>/task looked at */
#define PID_LIMIT     G_MAXINT32   /* pid_t is an int */
#define STAT_START_FIELD 22

/* One remembered QEMU process. A pid that is reused by a new process gets a
 * new entry; the old one stays (dead) so that its thread ids still resolve. */
typedef struct {
    McedQemuProcess pub;
    GList lru_link;    /* in McedRegistry.lru; data points back here */
    guint64 seen_scan; /* the scan generation that last found it */
} Process;

struct McedRegistry {
    char *root;
    GQueue lru;         /* Process*, least recently used first; owns them */
    GHashTable *by_pid; /* pid -> Process* that holds it now (or last held it) */
    GHashTable *by_tid; /* tid -> Process* that last held it */
    guint64 scan_gen;
};

#define ID_KEY(id) GINT_TO_POINTER((gint)(id))

/* ---- bounded reads under the root ---- */

/* Read at most @max bytes of a regular file. FALSE when it cannot be read
 * (gone, not a regular file, a symlink, no permission): a process that has
 * exited is not an error, so callers treat all of these as "absent". */
static gboolean
read_bounded(const char *path, gsize max, char **ret_buf, gsize *ret_len)
{
    g_autofree char *buf = NULL;
    gsize len = 0;
    gsize alloc = MIN(max, 4096);
    struct stat st;
    int fd;

    /* O_NONBLOCK: a FIFO planted in a fake tree must not hang the daemon;
     * O_NOFOLLOW: the last component must not lead out of the root. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return FALSE;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return FALSE;
    }

    buf = g_malloc(alloc + 1);
    while (len < max) {
        ssize_t n;

        if (len == alloc) {
            alloc = MIN(alloc * 2, max);
            buf = g_realloc(buf, alloc + 1);
        }
        n = read(fd, buf + len, alloc - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return FALSE;
        }
        if (n == 0)
            break;
        len += (gsize)n;
    }
    close(fd);
    buf[len] = '\0'; /* for convenience only; parsers use @len */
    *ret_buf = g_steal_pointer(&buf);
    *ret_len = len;
    return TRUE;
}

static char *
proc_path(const McedRegistry *r, gint64 pid, const char *file)
{
    char pid_str[24];

    g_snprintf(pid_str, sizeof(pid_str), "%" G_GINT64_FORMAT, pid);
    return g_build_filename(r->root, pid_str, file, NULL);
}

static gboolean
read_proc_file(const McedRegistry *r, gint64 pid, const char *file, gsize max, char **ret_buf,
               gsize *ret_len)
{
    g_autofree char *path = proc_path(r, pid, file);

    return read_bounded(path, max, ret_buf, ret_len);
}

/* ---- parsing helpers ---- */

/* Decimal digits from @p up to a non-digit, at most @max. */
static gboolean
parse_decimal(const char *p, const char *end, guint64 max, const char **ret_end, guint64 *ret)
{
    guint64 v = 0;
    const char *q = p;

    while (q < end && g_ascii_isdigit(*q)) {
        guint d = (guint)(*q - '0');

        if (v > (max - d) / 10)
            return FALSE;
        v = v * 10 + d;
        q++;
    }
    if (q == p)
        return FALSE;
    *ret_end = q;
    *ret = v;
    return TRUE;
}

/* A directory entry that is a pid: canonical decimal, no sign, no leading
 * zero, within pid_t. */
static gboolean
parse_pid_name(const char *s, gint64 *ret)
{
    const char *end = s + strlen(s);
    const char *q;
    guint64 v;

    if (*s == '0')
        return FALSE;
    if (!parse_decimal(s, end, PID_LIMIT, &q, &v) || q != end)
        return FALSE;
    *ret = (gint64)v;
    return TRUE;
}

static gboolean
pid_is_valid(gint64 pid)
{
    return pid > 0 && pid <= PID_LIMIT;
}

gboolean
mced_proc_status_tgid(const char *status, gsize len, gint64 *ret_tgid)
{
    const char *p = status;
    const char *end = status + len;

    g_return_val_if_fail(status != NULL || len == 0, FALSE);

    while (p < end) {
        const char *eol = memchr(p, '\n', (gsize)(end - p));
        const char *q;
        guint64 v;

        if (eol == NULL)
            eol = end;
        if (eol - p >= 5 && memcmp(p, "Tgid:", 5) == 0) {
            /* The first Tgid line decides; a malformed one is not skipped. */
            q = p + 5;
            while (q < eol && (*q == ' ' || *q == '\t'))
                q++;
            if (!parse_decimal(q, eol, PID_LIMIT, &q, &v) || v == 0)
                return FALSE;
            while (q < eol && (*q == ' ' || *q == '\t'))
                q++;
            if (q != eol)
                return FALSE;
            if (ret_tgid != NULL)
                *ret_tgid = (gint64)v;
            return TRUE;
        }
        p = eol + 1;
    }
    return FALSE;
}

gboolean
mced_proc_stat_start_time(const char *stat, gsize len, guint64 *ret_start)
{
    const char *end = stat + len;
    const char *p;
    guint field = 2; /* the last ')' closes field 2, comm */

    g_return_val_if_fail(stat != NULL || len == 0, FALSE);

    p = len > 0 ? memrchr(stat, ')', len) : NULL;
    if (p == NULL)
        return FALSE;
    p++;

    while (p < end) {
        const char *tok;
        guint64 v;

        while (p < end && *p == ' ')
            p++;
        if (p == end || *p == '\n')
            return FALSE;
        field++;
        tok = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        if (field != STAT_START_FIELD)
            continue;
        if (!parse_decimal(tok, p, G_MAXUINT64, &tok, &v) || tok != p)
            return FALSE;
        if (ret_start != NULL)
            *ret_start = v;
        return TRUE;
    }
    return FALSE;
}

/* A name fit to carry into logs, JSON and incident keys. */
static gboolean
name_is_acceptable(const char *s, gsize len)
{
    if (len == 0 || len > NAME_MAX_LEN)
        return FALSE;
    if (!g_utf8_validate_len(s, len, NULL))
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        guchar c = (guchar)s[i];

        if (c < 0x20 || c == 0x7f)
            return FALSE;
    }
    return TRUE;
}

/* 8-4-4-4-12 hex digits, returned in lower case; NULL otherwise. */
static char *
uuid_normalize(const char *s, gsize len)
{
    g_autofree char *out = NULL;

    if (len != UUID_LEN)
        return NULL;
    out = g_malloc(UUID_LEN + 1);
    for (gsize i = 0; i < UUID_LEN; i++) {
        gboolean hyphen = i == 8 || i == 13 || i == 18 || i == 23;

        if (hyphen ? s[i] != '-' : !g_ascii_isxdigit(s[i]))
            return NULL;
        out[i] = g_ascii_tolower(s[i]);
    }
    out[UUID_LEN] = '\0';
    return g_steal_pointer(&out);
}

/* QEMU's get_opt_value(): the value runs to the next single ',', and ",,"
 * stands for a literal ','. Returns where the value ended. */
static const char *
opt_value(const char *p, const char *end, GString *out)
{
    while (p < end) {
        if (*p == ',') {
            if (p + 1 < end && p[1] == ',') {
                g_string_append_c(out, ',');
                p += 2;
                continue;
            }
            break;
        }
        g_string_append_c(out, *p++);
    }
    return p;
}

/* The guest name from a -name value, parsed as QEMU's option parser does
 * with the implied first key "guest": "guest=N,...", or a bare leading "N"
 * (an element without '='). The last guest= wins. */
static char *
name_option_parse(const char *v, gsize len)
{
    g_autoptr(GString) guest = NULL;
    const char *p = v;
    const char *end = v + len;
    gboolean first = TRUE;

    while (p < end) {
        const char *key = p;
        gsize klen = 0;

        while (p + klen < end && p[klen] != '=' && p[klen] != ',')
            klen++;
        if (p + klen == end || p[klen] == ',') {
            if (first) {
                if (guest != NULL)
                    g_string_truncate(guest, 0);
                else
                    guest = g_string_new(NULL);
                p = opt_value(p, end, guest);
            } else {
                p += klen; /* a flag without a value */
            }
        } else if (klen == 5 && memcmp(key, "guest", 5) == 0) {
            if (guest != NULL)
                g_string_truncate(guest, 0);
            else
                guest = g_string_new(NULL);
            p = opt_value(p + klen + 1, end, guest);
        } else {
            g_autoptr(GString) ignored = g_string_new(NULL);

            p = opt_value(p + klen + 1, end, ignored);
        }
        if (p < end)
            p++; /* the ',' */
        first = FALSE;
    }

    if (guest == NULL || !name_is_acceptable(guest->str, guest->len))
        return NULL;
    return g_string_free(g_steal_pointer(&guest), FALSE);
}

/* argv[0] of a QEMU: a basename that starts with "qemu" (qemu-system-*,
 * qemu-kvm), or is "kvm" (Proxmox starts /usr/bin/kvm, a link to QEMU). */
static gboolean
argv0_is_qemu(const char *arg, gsize len)
{
    const char *slash = memrchr(arg, '/', len);
    const char *base = slash != NULL ? slash + 1 : arg;
    gsize blen = len - (gsize)(base - arg);

    if (blen >= 4 && memcmp(base, "qemu", 4) == 0)
        return TRUE;
    return blen == 3 && memcmp(base, "kvm", 3) == 0;
}

static gboolean
arg_is(const char *arg, gsize len, const char *opt)
{
    gsize olen = strlen(opt);

    /* QEMU takes "--opt" as "-opt" */
    if (len == olen + 1 && arg[0] == '-' && memcmp(arg + 1, opt, olen) == 0)
        return TRUE;
    return len == olen && memcmp(arg, opt, olen) == 0;
}

gboolean
mced_qemu_cmdline_parse(const char *cmdline, gsize len, char **ret_name, char **ret_uuid)
{
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    const char *end, *p;
    const char *want = NULL; /* the option whose value comes next */
    gboolean first = TRUE;

    g_return_val_if_fail(cmdline != NULL || len == 0, FALSE);

    /* An empty cmdline may come as NULL: no arithmetic on it before this. */
    if (len == 0)
        return FALSE;
    end = cmdline + len;
    p = cmdline;

    while (p < end) {
        const char *nul = memchr(p, '\0', (gsize)(end - p));
        gsize alen;

        /* An element without its NUL was cut short (a cmdline longer than
         * we read, or a process that rewrote its own): it may only decide
         * argv[0], never give a value. */
        if (nul == NULL) {
            if (first && !argv0_is_qemu(p, (gsize)(end - p)))
                return FALSE;
            break;
        }
        alen = (gsize)(nul - p);

        if (first) {
            if (alen == 0 || !argv0_is_qemu(p, alen))
                return FALSE;
            first = FALSE;
        } else if (want != NULL) {
            if (strcmp(want, "name") == 0) {
                g_free(name);
                name = name_option_parse(p, alen);
            } else {
                g_free(uuid);
                uuid = uuid_normalize(p, alen);
            }
            want = NULL;
        } else if (arg_is(p, alen, "-name")) {
            want = "name";
        } else if (arg_is(p, alen, "-uuid")) {
            want = "uuid";
        }
        p = nul + 1;
    }

    if (ret_name != NULL)
        *ret_name = g_steal_pointer(&name);
    if (ret_uuid != NULL)
        *ret_uuid = g_steal_pointer(&uuid);
    return TRUE;
}

/* ---- reading one process ---- */

/* The thread-group leader of @tid (from <tid>/status), or 0 when the
 * thread is gone or its status unreadable. */
static gint64
read_tgid(const McedRegistry *r, gint64 tid)
{
    g_autofree char *buf = NULL;
    gsize len;
    gint64 tgid;

    if (!read_proc_file(r, tid, "status", PROCFILE_MAX, &buf, &len))
        return 0;
    if (!mced_proc_status_tgid(buf, len, &tgid))
        return 0;
    return tgid;
}

/* Start time of @pid in clock ticks since boot, 0 when unknown. */
static guint64
read_start_time(const McedRegistry *r, gint64 pid)
{
    g_autofree char *buf = NULL;
    gsize len;
    guint64 start;

    if (!read_proc_file(r, pid, "stat", PROCFILE_MAX, &buf, &len))
        return 0;
    if (!mced_proc_stat_start_time(buf, len, &start))
        return 0;
    return start;
}

/* Whether @pid runs QEMU with a -name or -uuid. */
static gboolean
read_qemu_identity(const McedRegistry *r, gint64 pid, char **ret_name, char **ret_uuid)
{
    g_autofree char *buf = NULL;
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    gsize len;

    if (!read_proc_file(r, pid, "cmdline", CMDLINE_MAX, &buf, &len))
        return FALSE;
    if (!mced_qemu_cmdline_parse(buf, len, &name, &uuid))
        return FALSE;
    if (name == NULL && uuid == NULL)
        return FALSE;
    *ret_name = g_steal_pointer(&name);
    *ret_uuid = g_steal_pointer(&uuid);
    return TRUE;
}

static gint
compare_tid(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a;
    gint64 y = *(const gint64 *)b;

    return x < y ? -1 : x > y;
}

/* The threads of @pid now: the leader first (its tid is the pid), then
 * those in <pid>/task in ascending order, at most
 * MCED_REGISTRY_MAX_THREADS in all. */
static GArray *
read_task_tids(const McedRegistry *r, gint64 pid)
{
    g_autofree char *path = proc_path(r, pid, "task");
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    GArray *tids = g_array_new(FALSE, FALSE, sizeof(gint64));
    const char *e;
    guint looked = 0;

    if (dir != NULL) {
        while ((e = g_dir_read_name(dir)) != NULL && looked++ < TASK_DIR_MAX) {
            gint64 tid;

            if (parse_pid_name(e, &tid) && tid != pid)
                g_array_append_val(tids, tid);
        }
    }
    g_array_sort(tids, compare_tid);
    if (tids->len > MCED_REGISTRY_MAX_THREADS - 1)
        g_array_set_size(tids, MCED_REGISTRY_MAX_THREADS - 1);
    g_array_prepend_val(tids, pid);
    return tids;
}

/* ---- the registry ---- */

static void
process_free(Process *p)
{
    if (p == NULL)
        return;
    g_free(p->pub.name);
    g_free(p->pub.uuid);
    g_array_unref(p->pub.tids);
    g_free(p);
}

McedRegistry *
mced_registry_new(const char *procfs_root)
{
    McedRegistry *r;

    g_return_val_if_fail(procfs_root != NULL, NULL);

    r = g_new0(McedRegistry, 1);
    r->root = g_strdup(procfs_root);
    g_queue_init(&r->lru);
    r->by_pid = g_hash_table_new(g_direct_hash, g_direct_equal);
    r->by_tid = g_hash_table_new(g_direct_hash, g_direct_equal);
    return r;
}

void
mced_registry_free(McedRegistry *r)
{
    GList *l;

    if (r == NULL)
        return;
    g_hash_table_unref(r->by_pid);
    g_hash_table_unref(r->by_tid);
    while ((l = g_queue_pop_head_link(&r->lru)) != NULL)
        process_free(l->data);
    g_free(r->root);
    g_free(r);
}

static void
registry_touch(McedRegistry *r, Process *p)
{
    g_queue_unlink(&r->lru, &p->lru_link);
    g_queue_push_tail_link(&r->lru, &p->lru_link);
}

static void
registry_release_tid(McedRegistry *r, Process *p, gint64 tid)
{
    if (g_hash_table_lookup(r->by_tid, ID_KEY(tid)) == p)
        g_hash_table_remove(r->by_tid, ID_KEY(tid));
}

static void
registry_forget(McedRegistry *r, Process *p)
{
    g_queue_unlink(&r->lru, &p->lru_link);
    if (g_hash_table_lookup(r->by_pid, ID_KEY(p->pub.pid)) == p)
        g_hash_table_remove(r->by_pid, ID_KEY(p->pub.pid));
    for (guint i = 0; i < p->pub.tids->len; i++)
        registry_release_tid(r, p, g_array_index(p->pub.tids, gint64, i));
    process_free(p);
}

/* Room for one more process: the least recently used dead one goes first,
 * else the least recently used of all. */
static void
registry_make_room(McedRegistry *r)
{
    while (r->lru.length >= MCED_REGISTRY_MAX_PROCESSES) {
        Process *victim = r->lru.head->data;

        for (GList *l = r->lru.head; l != NULL; l = l->next) {
            Process *p = l->data;

            if (!p->pub.alive) {
                victim = p;
                break;
            }
        }
        registry_forget(r, victim);
    }
}

static gboolean
tids_contain(const GArray *tids, gint64 tid)
{
    for (guint i = 0; i < tids->len; i++) {
        if (g_array_index(tids, gint64, i) == tid)
            return TRUE;
    }
    return FALSE;
}

/* Thread @tid is @p's from now on. When @p's list is full, the last entry
 * (never the leader, which is first) makes way. */
static void
registry_claim_tid(McedRegistry *r, Process *p, gint64 tid)
{
    GArray *tids = p->pub.tids;

    if (!tids_contain(tids, tid)) {
        if (tids->len >= MCED_REGISTRY_MAX_THREADS) {
            registry_release_tid(r, p, g_array_index(tids, gint64, tids->len - 1));
            g_array_set_size(tids, tids->len - 1);
        }
        g_array_append_val(tids, tid);
    }
    g_hash_table_insert(r->by_tid, ID_KEY(tid), p);
}

/* @p's threads: those alive now, then as many remembered ones as still
 * fit, so that a thread which has exited keeps resolving while there is
 * room. */
static void
registry_refresh_tids(McedRegistry *r, Process *p)
{
    g_autoptr(GArray) old = p->pub.tids;
    g_autoptr(GHashTable) now_set = g_hash_table_new(g_direct_hash, g_direct_equal);
    GArray *now = read_task_tids(r, p->pub.pid);

    p->pub.tids = now;
    for (guint i = 0; i < now->len; i++) {
        gint64 tid = g_array_index(now, gint64, i);

        g_hash_table_add(now_set, ID_KEY(tid));
        g_hash_table_insert(r->by_tid, ID_KEY(tid), p);
    }
    for (guint i = 0; i < old->len; i++) {
        gint64 tid = g_array_index(old, gint64, i);

        if (g_hash_table_contains(now_set, ID_KEY(tid)))
            continue;
        if (now->len < MCED_REGISTRY_MAX_THREADS)
            g_array_append_val(now, tid);
        else
            registry_release_tid(r, p, tid);
    }
}

static gboolean
identity_conflicts(const Process *p, const char *name, const char *uuid)
{
    if (p->pub.uuid != NULL && uuid != NULL && strcmp(p->pub.uuid, uuid) != 0)
        return TRUE;
    return p->pub.name != NULL && name != NULL && strcmp(p->pub.name, name) != 0;
}

static gboolean
start_matches(const Process *p, guint64 start)
{
    return p->pub.start_time == 0 || start == 0 || p->pub.start_time == start;
}

/* Process @pid, started at @start (0: unknown), is VM @name/@uuid. The
 * same process (pid, start time and identity agree) is updated: unknown
 * fields are filled in. Anything else is a new process that took the pid
 * over; the old entry stays, dead, and keeps the threads no one else has
 * claimed. */
static Process *
registry_record(McedRegistry *r, gint64 pid, guint64 start, const char *name, const char *uuid)
{
    Process *p = g_hash_table_lookup(r->by_pid, ID_KEY(pid));

    if (p != NULL && start_matches(p, start) && !identity_conflicts(p, name, uuid)) {
        if (p->pub.start_time == 0)
            p->pub.start_time = start;
        if (p->pub.name == NULL)
            p->pub.name = g_strdup(name);
        if (p->pub.uuid == NULL)
            p->pub.uuid = g_strdup(uuid);
        p->pub.alive = TRUE;
        registry_touch(r, p);
        return p;
    }
    if (p != NULL)
        p->pub.alive = FALSE;

    registry_make_room(r);
    p = g_new0(Process, 1);
    p->pub.pid = pid;
    p->pub.start_time = start;
    p->pub.name = g_strdup(name);
    p->pub.uuid = g_strdup(uuid);
    p->pub.alive = TRUE;
    p->pub.tids = g_array_new(FALSE, FALSE, sizeof(gint64));
    p->lru_link.data = p;
    g_queue_push_tail_link(&r->lru, &p->lru_link);
    g_hash_table_insert(r->by_pid, ID_KEY(pid), p);
    registry_claim_tid(r, p, pid);
    return p;
}

/* Look at live process @pid: record it, with its threads, when it runs
 * QEMU with a VM identity, or when it is the very process another source
 * told us about. With @check_leader, @pid must be a thread-group leader
 * (a procfs view may list threads too). NULL when it is none of these or
 * is gone. */
static Process *
registry_learn(McedRegistry *r, gint64 pid, gboolean check_leader)
{
    g_autofree char *name = NULL;
    g_autofree char *uuid = NULL;
    gboolean qemu = read_qemu_identity(r, pid, &name, &uuid);
    Process *p = NULL;
    guint64 start;

    if (!qemu && !g_hash_table_contains(r->by_pid, ID_KEY(pid)))
        return NULL;
    if (check_leader && read_tgid(r, pid) != pid)
        return NULL;

    start = read_start_time(r, pid);
    if (qemu) {
        p = registry_record(r, pid, start, name, uuid);
    } else {
        /* Known from another source; this cmdline does not say otherwise
         * unless the start time does. */
        p = g_hash_table_lookup(r->by_pid, ID_KEY(pid));
        if (!start_matches(p, start))
            return NULL;
        if (p->pub.start_time == 0)
            p->pub.start_time = start;
        p->pub.alive = TRUE;
        registry_touch(r, p);
    }
    registry_refresh_tids(r, p);
    return p;
}

static McedVmRef *
vm_ref_for(const Process *p)
{
    return mced_vm_ref_new(p->pub.name, p->pub.uuid, p->pub.pid);
}

guint
mced_registry_scan(McedRegistry *r, GError **error)
{
    g_autoptr(GError) local_error = NULL;
    g_autoptr(GDir) dir = NULL;
    const char *e;
    guint n_alive = 0;

    g_return_val_if_fail(r != NULL, 0);
    g_return_val_if_fail(error == NULL || *error == NULL, 0);

    dir = g_dir_open(r->root, 0, &local_error);
    if (dir == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "Cannot list procfs root '%s': %s",
                    r->root, local_error->message);
        return 0;
    }

    r->scan_gen++;
    while ((e = g_dir_read_name(dir)) != NULL) {
        gint64 pid;
        Process *p;

        if (!parse_pid_name(e, &pid))
            continue;
        p = registry_learn(r, pid, TRUE);
        if (p != NULL)
            p->seen_scan = r->scan_gen;
    }

    for (GList *l = r->lru.head; l != NULL; l = l->next) {
        Process *p = l->data;

        p->pub.alive = p->seen_scan == r->scan_gen;
        if (p->pub.alive)
            n_alive++;
    }
    return n_alive;
}

McedVmRef *
mced_registry_lookup_tid(McedRegistry *r, gint64 tid)
{
    Process *p = NULL;
    gint64 tgid;

    g_return_val_if_fail(r != NULL, NULL);

    if (!pid_is_valid(tid))
        return NULL;

    /* What procfs says now comes first: a remembered thread id may have
     * been reused since, by a thread of another VM. Nothing negative is
     * cached: a process can exec into QEMU under the same pid and start
     * time (libvirt forks, then execs QEMU). */
    tgid = read_tgid(r, tid);
    if (tgid > 0) {
        p = registry_learn(r, tgid, FALSE);
        if (p != NULL)
            registry_claim_tid(r, p, tid);
    }
    if (p == NULL) {
        p = g_hash_table_lookup(r->by_tid, ID_KEY(tid));
        if (p != NULL)
            registry_touch(r, p);
    }
    return p != NULL ? vm_ref_for(p) : NULL;
}

McedVmRef *
mced_registry_lookup_pid(McedRegistry *r, gint64 pid)
{
    Process *p;

    g_return_val_if_fail(r != NULL, NULL);

    if (!pid_is_valid(pid))
        return NULL;

    p = registry_learn(r, pid, TRUE);
    if (p == NULL) {
        p = g_hash_table_lookup(r->by_pid, ID_KEY(pid));
        if (p != NULL)
            registry_touch(r, p);
    }
    return p != NULL ? vm_ref_for(p) : NULL;
}

McedVmRef *
mced_registry_lookup_vm(McedRegistry *r, const char *name_or_uuid)
{
    const Process *found = NULL;

    g_return_val_if_fail(r != NULL && name_or_uuid != NULL, NULL);

    /* Most recently used last: the newest process of that VM wins. */
    for (GList *l = r->lru.head; l != NULL; l = l->next) {
        const Process *p = l->data;

        if (!p->pub.alive)
            continue;
        if (g_strcmp0(p->pub.name, name_or_uuid) == 0
            || (p->pub.uuid != NULL && g_ascii_strcasecmp(p->pub.uuid, name_or_uuid) == 0))
            found = p;
    }
    return found != NULL ? vm_ref_for(found) : NULL;
}

void
mced_registry_add(McedRegistry *r, gint64 pid, const char *name, const char *uuid)
{
    g_autofree char *norm_uuid = NULL;
    Process *p;

    g_return_if_fail(r != NULL);

    if (!pid_is_valid(pid))
        return;
    if (name != NULL && !name_is_acceptable(name, strnlen(name, NAME_MAX_LEN + 1)))
        name = NULL;
    if (uuid != NULL)
        norm_uuid = uuid_normalize(uuid, strnlen(uuid, UUID_LEN + 1));
    if (name == NULL && norm_uuid == NULL)
        return;

    p = registry_record(r, pid, read_start_time(r, pid), name, norm_uuid);
    registry_refresh_tids(r, p);
}

guint
mced_registry_size(const McedRegistry *r)
{
    g_return_val_if_fail(r != NULL, 0);
    return r->lru.length;
}

const McedQemuProcess *
mced_registry_get(const McedRegistry *r, gint64 pid)
{
    const Process *p;

    g_return_val_if_fail(r != NULL, NULL);

    if (!pid_is_valid(pid))
        return NULL;
    p = g_hash_table_lookup(r->by_pid, ID_KEY(pid));
    return p != NULL ? &p->pub : NULL;
}
