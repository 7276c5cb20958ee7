/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mced-error.h"
#include "mced-source-qemulog.h"

typedef struct {
    char *name;        /* domain name: the file name without ".log" */
    char *path;
    guint64 inode;
    guint64 offset;    /* bytes consumed */
    guint64 line_start; /* offset where the line in progress began */
    GByteArray *partial; /* an unfinished last line */
    gboolean cutting;  /* inside an overlong line */
} LogFile;

struct McedQemuLog {
    char *directory;
    GFileMonitor *monitor;
    GHashTable *files; /* path -> LogFile* */
    McedQemuLogLineFunc func;
    gpointer user_data;
    guint64 lines_cut;
};

static void
log_file_free(LogFile *f)
{
    g_free(f->name);
    g_free(f->path);
    g_byte_array_unref(f->partial);
    g_free(f);
}

static char *
domain_of(const char *basename)
{
    if (!g_str_has_suffix(basename, ".log") || strlen(basename) <= 4 || basename[0] == '.')
        return NULL;
    return g_strndup(basename, strlen(basename) - 4);
}

static void
emit_line(McedQemuLog *q, LogFile *f, guint64 line_start)
{
    g_autofree char *cursor = g_strdup_printf("qemulog:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                              f->inode, line_start);

    q->func(f->name, (const char *)f->partial->data, f->partial->len, cursor, q->user_data);
}

/* Splits what was read into lines, keeping an unfinished one for later. */
static void
consume(McedQemuLog *q, LogFile *f, const char *buf, gsize n)
{
    const char *p = buf, *end = buf + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        gsize chunk = (gsize)((nl != NULL ? nl : end) - p);

        if (!f->cutting) {
            gsize room = MCED_QEMU_LOG_MAX_LINE - f->partial->len;
            if (chunk > room) {
                g_byte_array_append(f->partial, (const guint8 *)p, (guint)room);
                f->cutting = TRUE;
                q->lines_cut++;
            } else {
                g_byte_array_append(f->partial, (const guint8 *)p, (guint)chunk);
            }
        }
        f->offset += chunk;
        if (nl == NULL)
            break;
        f->offset++; /* the newline */
        emit_line(q, f, f->line_start);
        g_byte_array_set_size(f->partial, 0);
        f->cutting = FALSE;
        f->line_start = f->offset;
        p = nl + 1;
    }
}

static void
read_new(McedQemuLog *q, LogFile *f)
{
    struct stat st;
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    char buf[8192];

    if (fd < 0)
        return; /* gone (rotated away, domain undefined): nothing to read */
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return;
    }
    /* Rotated (a new file) or truncated: start over. */
    if ((guint64)st.st_ino != f->inode || (guint64)st.st_size < f->offset) {
        f->inode = (guint64)st.st_ino;
        f->offset = 0;
        f->line_start = 0;
        g_byte_array_set_size(f->partial, 0);
        f->cutting = FALSE;
    }
    if (lseek(fd, (off_t)f->offset, SEEK_SET) < 0) {
        close(fd);
        return;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        consume(q, f, buf, (gsize)n);
    }
    close(fd);
}

static LogFile *
track(McedQemuLog *q, const char *path, gboolean from_end)
{
    g_autofree char *base = g_path_get_basename(path);
    g_autofree char *name = domain_of(base);
    LogFile *f;
    struct stat st;

    if (name == NULL)
        return NULL;
    f = g_hash_table_lookup(q->files, path);
    if (f != NULL)
        return f;
    if (g_hash_table_size(q->files) >= MCED_QEMU_LOG_MAX_FILES)
        return NULL;
    f = g_new0(LogFile, 1);
    f->name = g_steal_pointer(&name);
    f->path = g_strdup(path);
    f->partial = g_byte_array_new();
    if (stat(path, &st) == 0) {
        f->inode = (guint64)st.st_ino;
        /* What QEMU wrote before we started was somebody else's business. */
        f->offset = from_end ? (guint64)st.st_size : 0;
        f->line_start = f->offset;
    }
    g_hash_table_insert(q->files, f->path, f);
    return f;
}

static void
on_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
           gpointer user_data)
{
    McedQemuLog *q = user_data;
    g_autofree char *path = g_file_get_path(file);
    LogFile *f;

    if (path == NULL)
        return;
    switch (event) {
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_CHANGED:
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED:
        f = track(q, path, FALSE);
        if (f != NULL)
            read_new(q, f);
        return;
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_OUT:
        /* Keep its state: a rotated file comes back under the same name
         * with a new inode, and is then read from its start. */
        return;
    case G_FILE_MONITOR_EVENT_PRE_UNMOUNT:
    case G_FILE_MONITOR_EVENT_UNMOUNTED:
    case G_FILE_MONITOR_EVENT_MOVED:
    case G_FILE_MONITOR_EVENT_RENAMED:
        return;
    }
}

McedQemuLog *
mced_qemu_log_new(const char *directory, McedQemuLogLineFunc func, gpointer user_data,
                  GError **error)
{
    g_autoptr(GFile) dir = NULL;
    g_autoptr(GDir) listing = NULL;
    McedQemuLog *q;
    const char *entry;

    g_return_val_if_fail(func != NULL, NULL);

    q = g_new0(McedQemuLog, 1);
    /* The monitor reports absolute paths: track files under those too. */
    q->directory = g_canonicalize_filename(directory, NULL);
    directory = q->directory;
    dir = g_file_new_for_path(directory);
    q->func = func;
    q->user_data = user_data;
    q->files = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)log_file_free);
    q->monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
    if (q->monitor == NULL) {
        g_prefix_error(error, "cannot watch %s: ", directory);
        mced_qemu_log_free(q);
        return NULL;
    }
    /* Changes are coalesced by GIO at 800 ms by default: QEMU's lines are
     * rare and matter when they come. */
    g_file_monitor_set_rate_limit(q->monitor, 50);
    g_signal_connect(q->monitor, "changed", G_CALLBACK(on_changed), q);

    listing = g_dir_open(directory, 0, NULL);
    while (listing != NULL && (entry = g_dir_read_name(listing)) != NULL) {
        g_autofree char *path = g_build_filename(directory, entry, NULL);
        (void)track(q, path, TRUE);
    }
    return q;
}

void
mced_qemu_log_free(McedQemuLog *q)
{
    if (q == NULL)
        return;
    if (q->monitor != NULL) {
        g_signal_handlers_disconnect_by_data(q->monitor, q);
        g_file_monitor_cancel(q->monitor);
        g_object_unref(q->monitor);
    }
    g_hash_table_unref(q->files);
    g_free(q->directory);
    g_free(q);
}

void
mced_qemu_log_poll(McedQemuLog *q)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, q->files);
    while (g_hash_table_iter_next(&it, NULL, &value))
        read_new(q, value);
}

guint64
mced_qemu_log_lines_cut(const McedQemuLog *q)
{
    return q->lines_cut;
}
