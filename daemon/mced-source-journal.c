/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "mced-error.h"
#include "mced-source-journal.h"

/* Entries read per main-loop dispatch while catching up. */
#define BATCH 512

struct McedJournalSource {
    McedJournalKind kind;
    char *path;
    char *description;
    sd_journal *j;
    McedReplay *replay; /* borrowed */
    McedJournalBatchFunc batch_func;
    gpointer user_data;
    guint fd_watch;
    guint drain_idle;
    gboolean have_entry; /* positioned on an entry that was read */
    gboolean caught_up;
};

static gboolean drain(gpointer user_data);

static void
schedule_drain(McedJournalSource *src)
{
    if (src->drain_idle == 0)
        src->drain_idle = g_idle_add_full(G_PRIORITY_DEFAULT, drain, src, NULL);
}

/* Whether the current entry came in through the kernel transport. The
 * live journal is read unfiltered and tested here: with a match on
 * _TRANSPORT=kernel, systemd 252's sd_journal_next() now and then never
 * returns an entry appended right after the previous one (about 1 in 1000
 * four-line records in the latency benchmark lost its last line). */
static gboolean
is_kernel_entry(sd_journal *j)
{
    static const char want[] = "_TRANSPORT=kernel";
    const void *data;
    size_t len;

    return sd_journal_get_data(j, "_TRANSPORT", &data, &len) >= 0 && len == sizeof(want) - 1
           && memcmp(data, want, len) == 0;
}

static gboolean
drain(gpointer user_data)
{
    McedJournalSource *src = user_data;
    g_autoptr(GError) read_error = NULL;
    guint n = 0;
    int r = 0;

    src->drain_idle = 0;
    while (n < BATCH && (r = sd_journal_next(src->j)) > 0) {
        g_autoptr(GError) error = NULL;

        src->have_entry = TRUE;
        n++;
        if (!is_kernel_entry(src->j))
            continue;
        /* A broken entry is reported by the replay counters and skipped:
         * it must not stop the source. */
        (void)mced_replay_feed_journal_entry(src->replay, src->j, &error);
    }
    if (r < 0)
        g_set_error(&read_error, MCED_ERROR, MCED_ERROR_IO, "cannot read the next entry: %s",
                    g_strerror(-r));
    src->caught_up = (n < BATCH);
    if (!src->caught_up)
        schedule_drain(src);
    if (src->batch_func != NULL)
        src->batch_func(src, src->caught_up, read_error, src->user_data);
    return G_SOURCE_REMOVE;
}

static gboolean
on_journal_fd(gint fd, GIOCondition cond, gpointer user_data)
{
    McedJournalSource *src = user_data;
    int r = sd_journal_process(src->j);

    /* NOP, APPEND and INVALIDATE all end the same way: read until next()
     * says there is nothing more. */
    if (r < 0 && src->batch_func != NULL) {
        g_autoptr(GError) error = g_error_new(MCED_ERROR, MCED_ERROR_IO,
                                              "cannot process changes: %s", g_strerror(-r));
        src->batch_func(src, FALSE, error, src->user_data);
    }
    schedule_drain(src);
    return G_SOURCE_CONTINUE;
}

void
mced_journal_source_poll(McedJournalSource *src)
{
    g_return_if_fail(src != NULL);
    if (src->fd_watch == 0)
        return; /* not started */
    (void)sd_journal_process(src->j);
    if (src->drain_idle != 0)
        g_clear_handle_id(&src->drain_idle, g_source_remove);
    (void)drain(src);
}

McedJournalSource *
mced_journal_source_new(McedJournalKind kind, const char *path, McedReplay *replay,
                        McedJournalBatchFunc batch_func, gpointer user_data, GError **error)
{
    g_autoptr(sd_journal) j = NULL;
    McedJournalSource *src;
    int r = 0;

    switch (kind) {
    case MCED_JOURNAL_SYSTEM:
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        break;
    case MCED_JOURNAL_DIRECTORY:
        r = sd_journal_open_directory(&j, path, 0);
        break;
    case MCED_JOURNAL_FILE: {
        const char *files[] = { path, NULL };
        r = sd_journal_open_files(&j, files, 0);
        break;
    }
    }
    if (r < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "cannot open the journal%s%s: %s",
                    path != NULL ? " at " : "", path != NULL ? path : "", g_strerror(-r));
        return NULL;
    }
    src = g_new0(McedJournalSource, 1);
    src->kind = kind;
    src->path = g_strdup(path);
    src->description = path != NULL ? g_strdup(path) : g_strdup("system journal");
    src->j = g_steal_pointer(&j);
    src->replay = replay;
    src->batch_func = batch_func;
    src->user_data = user_data;
    return src;
}

void
mced_journal_source_free(McedJournalSource *src)
{
    if (src == NULL)
        return;
    if (src->fd_watch != 0)
        g_source_remove(src->fd_watch);
    if (src->drain_idle != 0)
        g_source_remove(src->drain_idle);
    sd_journal_close(src->j);
    g_free(src->path);
    g_free(src->description);
    g_free(src);
}

static int
seek_start(McedJournalSource *src, const char *cursor)
{
    int r;

    if (cursor != NULL) {
        r = sd_journal_seek_cursor(src->j, cursor);
        if (r >= 0) {
            /* The saved entry itself was processed: skip it if it is still
             * there; if it was vacuumed, next() lands on the first entry
             * after it anyway. */
            r = sd_journal_next(src->j);
            if (r > 0 && sd_journal_test_cursor(src->j, cursor) <= 0)
                (void)sd_journal_previous(src->j);
            src->have_entry = r > 0;
            return 0;
        }
        g_warning("journal %s: saved position is unusable (%s), starting over",
                  src->description, g_strerror(-r));
    }
    if (src->kind == MCED_JOURNAL_SYSTEM) {
        sd_id128_t boot;
        /* First start on a host: what this boot logged still matters. */
        if (sd_id128_get_boot(&boot) >= 0)
            return sd_journal_seek_monotonic_usec(src->j, boot, 0);
    }
    return sd_journal_seek_head(src->j);
}

gboolean
mced_journal_source_start(McedJournalSource *src, const char *cursor, GError **error)
{
    int fd, r;

    r = seek_start(src, cursor);
    if (r < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "journal %s: cannot seek: %s",
                    src->description, g_strerror(-r));
        return FALSE;
    }
    fd = sd_journal_get_fd(src->j);
    if (fd < 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "journal %s: cannot watch: %s",
                    src->description, g_strerror(-fd));
        return FALSE;
    }
    src->fd_watch = g_unix_fd_add(fd, G_IO_IN, on_journal_fd, src);
    schedule_drain(src);
    return TRUE;
}

char *
mced_journal_source_get_cursor(McedJournalSource *src)
{
    char *cursor = NULL;

    if (!src->have_entry || sd_journal_get_cursor(src->j, &cursor) < 0)
        return NULL;
    return cursor;
}

gboolean
mced_journal_source_caught_up(const McedJournalSource *src)
{
    return src->caught_up;
}

const char *
mced_journal_source_describe(const McedJournalSource *src)
{
    return src->description;
}
