/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "mced-error.h"
#include "mced-source-kmsg.h"

/* The kernel's records are at most about 8 KiB (PRINTK_MESSAGE_MAX and
 * the dictionary); a stream line longer than the buffer is dropped. */
#define RECORD_MAX (16 * 1024)
#define BATCH      512

struct McedKmsgSource {
    char *path;
    int fd;
    gboolean is_device;
    char boot_id[33];
    McedReplay *replay; /* borrowed */
    McedKmsgBatchFunc batch_func;
    gpointer user_data;
    guint watch;
    guint retry; /* after a read error: re-arm the watch later, not spin */
    guint64 skip_until; /* records with seq <= this were handled before a restart */
    gboolean skipping;
    guint64 last_seq;
    gboolean have_seq;
    GByteArray *pending; /* stream mode: bytes of an unfinished line */
    gboolean discarding; /* stream mode: inside an overlong line */
    guint64 lost;        /* records overwritten before we read them */
};

static void
handle_record(McedKmsgSource *src, const char *rec, gsize len)
{
    guint64 seq = 0;

    if (len == 0 || rec[0] == ' ')
        return; /* dictionary line */
    if (src->skipping) {
        /* Peek at the sequence number without feeding. */
        const char *p = memchr(rec, ',', len);
        guint64 v = 0;
        if (p != NULL) {
            for (p++; p < rec + len && g_ascii_isdigit(*p); p++)
                v = v * 10 + (guint64)(*p - '0');
        }
        if (v <= src->skip_until)
            return;
        src->skipping = FALSE;
    }
    if (mced_replay_feed_kmsg_record(src->replay, rec, len, src->boot_id, &seq)) {
        src->last_seq = seq;
        src->have_seq = TRUE;
    }
}

static void
split_stream(McedKmsgSource *src, const char *buf, gsize n)
{
    const char *p = buf, *end = buf + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        gsize chunk = (gsize)((nl != NULL ? nl : end) - p);

        if (!src->discarding) {
            if (src->pending->len + chunk > RECORD_MAX) {
                src->discarding = TRUE;
                g_byte_array_set_size(src->pending, 0);
            } else {
                g_byte_array_append(src->pending, (const guint8 *)p, (guint)chunk);
            }
        }
        if (nl == NULL)
            break;
        if (!src->discarding)
            handle_record(src, (const char *)src->pending->data, src->pending->len);
        g_byte_array_set_size(src->pending, 0);
        src->discarding = FALSE;
        p = nl + 1;
    }
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer user_data);

static gboolean
on_retry(gpointer user_data)
{
    McedKmsgSource *src = user_data;

    src->retry = 0;
    src->watch = g_unix_fd_add(src->fd, G_IO_IN, on_readable, src);
    return G_SOURCE_REMOVE;
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer user_data)
{
    McedKmsgSource *src = user_data;
    char buf[RECORD_MAX];
    guint n_read = 0;
    guint64 lost_before = src->lost;
    g_autoptr(GError) error = NULL;

    while (n_read < BATCH) {
        ssize_t n = read(src->fd, buf, sizeof(buf));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EPIPE) {
            /* The ring buffer wrapped past us: records were lost. */
            src->lost++;
            continue;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            g_set_error(&error, MCED_ERROR, MCED_ERROR_IO, "read failed: %s", g_strerror(errno));
            break;
        }
        if (n == 0) {
            if (!src->is_device) {
                /* A test file or FIFO writer went away. */
                src->watch = 0;
                if (src->batch_func != NULL)
                    src->batch_func(src, TRUE, NULL, src->user_data);
                return G_SOURCE_REMOVE;
            }
            break;
        }
        n_read++;
        if (src->is_device)
            handle_record(src, buf, (gsize)n);
        else
            split_stream(src, buf, (gsize)n);
    }
    if (error == NULL && src->lost > lost_before)
        g_set_error(&error, MCED_ERROR, MCED_ERROR_IO,
                    "the kernel's ring buffer overwrote %" G_GUINT64_FORMAT
                    " record(s) before they were read",
                    src->lost - lost_before);
    if (src->batch_func != NULL)
        src->batch_func(src, n_read < BATCH, error, src->user_data);
    if (error != NULL && src->lost == lost_before) {
        /* A hard read error: the fd stays "readable", so wait a second
         * instead of spinning, then try again (and report recovery). */
        src->watch = 0;
        src->retry = g_timeout_add_seconds(1, on_retry, src);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

McedKmsgSource *
mced_kmsg_source_new(const char *path, McedReplay *replay, McedKmsgBatchFunc batch_func,
                     gpointer user_data, GError **error)
{
    g_autoptr(McedKmsgSource) src = g_new0(McedKmsgSource, 1);
    struct stat st;
    sd_id128_t boot;

    src->fd = -1;
    src->path = g_strdup(path != NULL ? path : "/dev/kmsg");
    src->replay = replay;
    src->batch_func = batch_func;
    src->user_data = user_data;
    src->pending = g_byte_array_new();
    src->fd = open(src->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (src->fd < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot open %s: %s", src->path,
                    g_strerror(errno));
        return NULL;
    }
    src->is_device = fstat(src->fd, &st) == 0 && S_ISCHR(st.st_mode);
    if (sd_id128_get_boot(&boot) >= 0)
        sd_id128_to_string(boot, src->boot_id);
    else
        g_strlcpy(src->boot_id, "unknown", sizeof(src->boot_id));
    return g_steal_pointer(&src);
}

void
mced_kmsg_source_free(McedKmsgSource *src)
{
    if (src == NULL)
        return;
    if (src->watch != 0)
        g_source_remove(src->watch);
    if (src->retry != 0)
        g_source_remove(src->retry);
    if (src->fd >= 0)
        close(src->fd);
    g_byte_array_unref(src->pending);
    g_free(src->path);
    g_free(src);
}

gboolean
mced_kmsg_source_start(McedKmsgSource *src, const char *cursor, GError **error)
{
    g_autofree char *prefix = g_strdup_printf("kmsg:%s:", src->boot_id);

    /* A position of another boot (or of the journal) means nothing here:
     * the ring buffer starts over with every boot. */
    if (cursor != NULL && g_str_has_prefix(cursor, prefix)) {
        guint64 seq;
        if (g_ascii_string_to_unsigned(cursor + strlen(prefix), 10, 0, G_MAXUINT64, &seq, NULL)) {
            src->skip_until = seq;
            src->skipping = TRUE;
        }
    }
    src->watch = g_unix_fd_add(src->fd, G_IO_IN, on_readable, src);
    return TRUE;
}

char *
mced_kmsg_source_get_cursor(const McedKmsgSource *src)
{
    if (!src->have_seq)
        return NULL;
    return g_strdup_printf("kmsg:%s:%" G_GUINT64_FORMAT, src->boot_id, src->last_seq);
}

const char *
mced_kmsg_source_describe(const McedKmsgSource *src)
{
    return src->path;
}
