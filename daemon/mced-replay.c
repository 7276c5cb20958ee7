/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mced-error.h"
#include "mced-incident.h"
#include "mced-observation-json.h"
#include "mced-kmsg.h"
#include "mced-qmp.h"
#include "mced-replay.h"
#include "mced-text.h"

/* First 8 bytes of every journal file (systemd journal-def.h). */
#define JOURNAL_MAGIC     "LPKSHHRH"
#define JOURNAL_MAGIC_LEN 8

/* Size of one read() from a text log. */
#define TEXT_READ_CHUNK (64 * 1024)

/* Longest malformed example quoted in the summary line. */
#define SUMMARY_EXAMPLE_MAX 160

struct McedReplay {
    McedAssembler *assembler;
    McedReplayCounters counters;
    gint64 last_monotonic_us;
    gboolean have_boot_id;
    sd_id128_t boot_id;
};

McedReplay *
mced_replay_new(McedObservationFunc sink, gpointer user_data)
{
    McedReplay *r;

    g_return_val_if_fail(sink != NULL, NULL);

    r = g_new0(McedReplay, 1);
    r->assembler = mced_assembler_new(MCED_ASSEMBLER_DEFAULT_IDLE_US, sink, user_data);
    return r;
}

void
mced_replay_set_idle_timeout(McedReplay *r, gint64 idle_us)
{
    mced_assembler_set_idle_timeout(r->assembler, idle_us);
}

void
mced_replay_expire(McedReplay *r, gint64 now_monotonic_us)
{
    mced_assembler_expire(r->assembler, now_monotonic_us);
}

gint64
mced_replay_next_deadline(const McedReplay *r)
{
    return mced_assembler_next_deadline(r->assembler);
}

gboolean
mced_replay_quiescent(const McedReplay *r)
{
    return mced_assembler_n_pending(r->assembler) == 0;
}

void
mced_replay_free(McedReplay *r)
{
    if (r == NULL)
        return;
    g_clear_pointer(&r->assembler, mced_assembler_free);
    g_free(r);
}

void
mced_replay_feed(McedReplay *r, const McedLineInfo *info, const char *msg, gsize len)
{
    g_return_if_fail(r != NULL && info != NULL);
    g_return_if_fail(msg != NULL || len == 0);

    /* Saved input replays the clock it carries: every line with a time
     * completes the records that were idle for longer than the timeout, as
     * the daemon's timer would have. Time going back by more than that is
     * a reboot (or the next log in a concatenation): no record spans it. */
    if (info->monotonic_us > 0) {
        if (r->last_monotonic_us > 0 &&
            info->monotonic_us + MCED_ASSEMBLER_DEFAULT_IDLE_US < r->last_monotonic_us)
            mced_assembler_flush(r->assembler);
        else
            mced_assembler_expire(r->assembler, info->monotonic_us);
        r->last_monotonic_us = info->monotonic_us;
    }
    mced_assembler_feed(r->assembler, info, msg != NULL ? msg : "", len);
}

void
mced_replay_flush(McedReplay *r)
{
    g_return_if_fail(r != NULL);
    mced_assembler_flush(r->assembler);
}

const McedReplayCounters *
mced_replay_get_counters(const McedReplay *r)
{
    g_return_val_if_fail(r != NULL, NULL);
    return &r->counters;
}

const McedAssemblerStats *
mced_replay_get_assembler_stats(const McedReplay *r)
{
    g_return_val_if_fail(r != NULL, NULL);
    return mced_assembler_get_stats(r->assembler);
}

/* ---- text logs ---------------------------------------------------------- */

/* A line reader with bounded memory: a line longer than MCED_REPLAY_MAX_LINE
 * keeps its first MCED_REPLAY_MAX_LINE bytes and the rest is skipped up to
 * the newline. Lines are (ptr, len): NUL bytes are data like any other. */
typedef struct {
    int fd;
    char *buf;
    gsize pos;
    gsize end;
    gboolean eof;
    char *line;
    gsize line_len;
} TextReader;

static void
text_reader_clear(TextReader *tr)
{
    if (tr->fd >= 0)
        (void)close(tr->fd);
    tr->fd = -1;
    g_clear_pointer(&tr->buf, g_free);
    g_clear_pointer(&tr->line, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TextReader, text_reader_clear)

static gboolean
set_read_error(GError **error, int errsv, const char *path)
{
    g_set_error(error,
                MCED_ERROR,
                errsv == ENOENT ? MCED_ERROR_NOT_FOUND : MCED_ERROR_IO,
                "cannot read %s: %s",
                path,
                g_strerror(errsv));
    return FALSE;
}

/* Appends at most one read() worth of bytes after the buffered ones. */
static gboolean
text_reader_fill(TextReader *tr, const char *path, GError **error)
{
    gssize n;

    if (tr->pos == tr->end)
        tr->pos = tr->end = 0;
    g_assert(tr->end < TEXT_READ_CHUNK);

    do
        n = read(tr->fd, tr->buf + tr->end, TEXT_READ_CHUNK - tr->end);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return set_read_error(error, errno, path);
    if (n == 0)
        tr->eof = TRUE;
    tr->end += (gsize)n;
    return TRUE;
}

static gboolean
text_reader_open(TextReader *tr, const char *path, GError **error)
{
    *tr = (TextReader){.fd = -1};
    tr->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (tr->fd < 0)
        return set_read_error(error, errno, path);
    tr->buf = g_malloc(TEXT_READ_CHUNK);
    tr->line = g_malloc(MCED_REPLAY_MAX_LINE);
    return TRUE;
}

/* Reads until at least @n bytes are buffered or the input ends. */
static gboolean
text_reader_peek(TextReader *tr, gsize n, const char *path, GError **error)
{
    while (tr->end - tr->pos < n && !tr->eof)
        if (!text_reader_fill(tr, path, error))
            return FALSE;
    return TRUE;
}

/* Sets *ret_eof when there is no further line; otherwise the line, without
 * its newline, is tr->line[0..tr->line_len). */
static gboolean
text_reader_next(TextReader *tr, gboolean *ret_truncated, gboolean *ret_eof, const char *path,
                 GError **error)
{
    gboolean truncated = FALSE;
    gboolean any = FALSE;

    tr->line_len = 0;
    for (;;) {
        const char *start;
        const char *nl;
        gsize n;
        gsize room;

        if (tr->pos == tr->end) {
            if (tr->eof)
                break;
            if (!text_reader_fill(tr, path, error))
                return FALSE;
            continue;
        }

        start = tr->buf + tr->pos;
        nl = memchr(start, '\n', tr->end - tr->pos);
        n = nl != NULL ? (gsize)(nl - start) : tr->end - tr->pos;
        room = MCED_REPLAY_MAX_LINE - tr->line_len;
        memcpy(tr->line + tr->line_len, start, MIN(n, room));
        tr->line_len += MIN(n, room);
        if (n > room)
            truncated = TRUE;
        tr->pos += n;
        any = TRUE;
        if (nl != NULL) {
            tr->pos++;
            break;
        }
    }

    *ret_truncated = truncated;
    *ret_eof = !any;
    return TRUE;
}

static void
replay_text_line(McedReplay *r, const char *line, gsize len, const char *cursor)
{
    McedTextLine tl;
    McedLineInfo info;

    mced_text_strip(line, len, &tl);
    switch (tl.origin) {
    case MCED_TEXT_PROCESS:
        r->counters.process_lines++;
        return;
    case MCED_TEXT_QEMU:
        r->counters.qemu_lines++;
        break;
    case MCED_TEXT_KERNEL:
        r->counters.kernel_lines++;
        break;
    case _MCED_TEXT_ORIGIN_MAX:
        g_return_if_reached();
    }

    info = (McedLineInfo){
        .realtime_us = tl.realtime_us,
        .monotonic_us = tl.has_printk_time ? tl.printk_time_us : 0,
        .cursor = cursor,
        .raw = line,
        .raw_len = len,
    };
    mced_replay_feed(r, &info, tl.msg, tl.msg_len);
}

/* @tr has been opened and peeked at: read it to the end. */
static gboolean
replay_text(McedReplay *r, TextReader *tr, const char *path, GError **error)
{
    g_autoptr(GString) cursor = g_string_new(NULL);
    guint64 lineno = 0;

    for (;;) {
        gboolean truncated;
        gboolean eof;
        gsize len;

        if (!text_reader_next(tr, &truncated, &eof, path, error))
            return FALSE;
        if (eof)
            break;

        lineno++;
        r->counters.lines_read++;
        if (truncated)
            r->counters.lines_truncated++;

        len = tr->line_len;
        if (len > 0 && tr->line[len - 1] == '\r')
            len--;
        g_string_printf(cursor, "%s:%" G_GUINT64_FORMAT, path, lineno);
        replay_text_line(r, tr->line, len, cursor->str);
    }
    return TRUE;
}

/* ---- journal ------------------------------------------------------------ */

/* The value of @field in the current entry, binary-safe. */
static gboolean
journal_get_field(sd_journal *j, const char *field, const char **ret, gsize *ret_len)
{
    const void *data;
    size_t len;
    size_t flen = strlen(field);

    if (sd_journal_get_data(j, field, &data, &len) < 0)
        return FALSE;
    if (len <= flen || memcmp(data, field, flen) != 0 || ((const char *)data)[flen] != '=')
        return FALSE;
    *ret = (const char *)data + flen + 1;
    *ret_len = len - flen - 1;
    return TRUE;
}

gboolean
mced_replay_feed_kmsg_record(McedReplay *r, const char *rec, gsize len, const char *boot_id,
                             guint64 *ret_seq)
{
    McedKmsgRecord k;
    g_autofree char *cursor = NULL;
    McedLineInfo info;
    gint64 realtime;

    r->counters.lines_read++;
    if (!mced_kmsg_record_parse(rec, len, &k)) {
        r->counters.process_lines++;
        return FALSE;
    }
    *ret_seq = k.seq;
    if (k.facility != 0) {
        r->counters.injected_entries++;
        return TRUE;
    }
    r->counters.kernel_lines++;
    if (k.msg_len > MCED_REPLAY_MAX_LINE) {
        k.msg_len = MCED_REPLAY_MAX_LINE;
        r->counters.lines_truncated++;
    }
    cursor = g_strdup_printf("kmsg:%s:%" G_GUINT64_FORMAT, boot_id, k.seq);
    /* A record only has CLOCK_MONOTONIC time; /dev/kmsg holds this boot's
     * records, so the clocks' current offset puts it on the wall clock that
     * incidents are kept on. */
    realtime = g_get_real_time() - (g_get_monotonic_time() - (gint64)MIN(k.usec, (guint64)G_MAXINT64));
    info = (McedLineInfo){
        .realtime_us = realtime > 0 ? realtime : 0,
        .monotonic_us = (gint64)MIN(k.usec, (guint64)G_MAXINT64),
        .cursor = cursor,
        .raw = k.msg,
        .raw_len = k.msg_len,
    };
    mced_replay_feed(r, &info, k.msg, k.msg_len);
    return TRUE;
}

gboolean
mced_replay_feed_journal_entry(McedReplay *r, sd_journal *j, GError **error)
{
    g_autofree char *cursor = NULL;
    const char *facility;
    gsize facility_len;
    const char *msg;
    gsize msg_len;
    guint64 realtime = 0;
    guint64 monotonic = 0;
    sd_id128_t boot_id;
    McedLineInfo info;
    int ret;

    g_return_val_if_fail(r != NULL && j != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    r->counters.lines_read++;

    /* Only the kernel logs with facility 0. A process writing into
     * /dev/kmsg gets facility 1 (and journald splits its "MCE:" off into
     * SYSLOG_IDENTIFIER): never a kernel event, whatever it says. */
    if (!journal_get_field(j, "SYSLOG_FACILITY", &facility, &facility_len) || facility_len != 1 ||
        facility[0] != '0') {
        r->counters.injected_entries++;
        return TRUE;
    }
    r->counters.kernel_lines++;

    if (!journal_get_field(j, "MESSAGE", &msg, &msg_len)) {
        msg = "";
        msg_len = 0;
    }
    if (msg_len > MCED_REPLAY_MAX_LINE) {
        msg_len = MCED_REPLAY_MAX_LINE;
        r->counters.lines_truncated++;
    }

    ret = sd_journal_get_cursor(j, &cursor);
    if (ret < 0) {
        g_set_error(
            error, MCED_ERROR, MCED_ERROR_IO, "cannot read journal cursor: %s", g_strerror(-ret));
        return FALSE;
    }
    (void)sd_journal_get_realtime_usec(j, &realtime);
    if (sd_journal_get_monotonic_usec(j, &monotonic, &boot_id) >= 0) {
        /* Monotonic time restarts with each boot, and no record spans a
         * reboot: complete whatever the previous boot left open. */
        if (r->have_boot_id && !sd_id128_equal(boot_id, r->boot_id)) {
            mced_assembler_flush(r->assembler);
            r->last_monotonic_us = 0;
        }
        r->boot_id = boot_id;
        r->have_boot_id = TRUE;
    } else {
        monotonic = 0;
    }

    info = (McedLineInfo){
        .realtime_us = (gint64)MIN(realtime, (guint64)G_MAXINT64),
        .monotonic_us = (gint64)MIN(monotonic, (guint64)G_MAXINT64),
        .cursor = cursor,
        .raw = msg,
        .raw_len = msg_len,
    };
    mced_replay_feed(r, &info, msg, msg_len);
    return TRUE;
}

static gboolean
replay_journal(McedReplay *r, const char *path, gboolean directory, GError **error)
{
    g_autoptr(sd_journal) j = NULL;
    int ret;

    if (directory) {
        ret = sd_journal_open_directory(&j, path, 0);
    } else {
        const char *paths[] = {path, NULL};

        ret = sd_journal_open_files(&j, paths, 0);
    }
    if (ret < 0)
        return set_read_error(error, -ret, path);

    /* Uncompressed fields come back whole whatever the threshold; for
     * compressed ones, one byte over the limit is enough to tell that the
     * message was too long. */
    ret = sd_journal_set_data_threshold(j, MCED_REPLAY_MAX_LINE + 1);
    if (ret >= 0)
        ret = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
    if (ret >= 0)
        ret = sd_journal_seek_head(j);
    if (ret < 0)
        return set_read_error(error, -ret, path);

    for (;;) {
        ret = sd_journal_next(j);
        if (ret < 0)
            return set_read_error(error, -ret, path);
        if (ret == 0)
            break;
        if (!mced_replay_feed_journal_entry(r, j, error)) {
            g_prefix_error(error, "%s: ", path);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
mced_replay_read_path(McedReplay *r, const char *path, GError **error)
{
    g_auto(TextReader) tr = {.fd = -1};

    g_return_val_if_fail(r != NULL && path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        return replay_journal(r, path, TRUE, error);

    if (!text_reader_open(&tr, path, error))
        return FALSE;
    if (!text_reader_peek(&tr, JOURNAL_MAGIC_LEN, path, error))
        return FALSE;
    if (tr.end - tr.pos >= JOURNAL_MAGIC_LEN &&
        memcmp(tr.buf + tr.pos, JOURNAL_MAGIC, JOURNAL_MAGIC_LEN) == 0) {
        text_reader_clear(&tr);
        return replay_journal(r, path, FALSE, error);
    }
    return replay_text(r, &tr, path, error);
}

/* ---- summary ------------------------------------------------------------ */

/* Valid UTF-8 without control characters, at most @max bytes, for quoting
 * untrusted text in a one-line message. */
static char *
sanitize_for_display(const char *s, gsize max)
{
    g_autofree char *valid = g_utf8_make_valid(s, -1);
    g_autoptr(GString) out = g_string_new(NULL);

    for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);

        if (out->len >= max) {
            g_string_append(out, "...");
            break;
        }
        if (c < 0x20 || c == 0x7f)
            g_string_append_printf(out, "\\x%02x", c);
        else if (c == '"' || c == '\\')
            g_string_append_printf(out, "\\%c", (char)c);
        else
            g_string_append_unichar(out, c);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
mced_replay_format_summary(const McedReplay *r)
{
    const McedReplayCounters *c;
    const McedAssemblerStats *s;
    g_autoptr(GString) out = g_string_new(NULL);

    g_return_val_if_fail(r != NULL, NULL);

    c = &r->counters;
    s = mced_assembler_get_stats(r->assembler);
    g_string_append_printf(out,
                           "%" G_GUINT64_FORMAT " lines read (%" G_GUINT64_FORMAT
                           " kernel, %" G_GUINT64_FORMAT " QEMU, %" G_GUINT64_FORMAT
                           " from other processes ignored, %" G_GUINT64_FORMAT
                           " injected ignored, %" G_GUINT64_FORMAT " truncated)",
                           c->lines_read,
                           c->kernel_lines,
                           c->qemu_lines,
                           c->process_lines,
                           c->injected_entries,
                           c->lines_truncated);
    g_string_append_printf(out,
                           ", %" G_GUINT64_FORMAT " machine-check lines matched, %" G_GUINT64_FORMAT
                           " observations, %" G_GUINT64_FORMAT
                           " incomplete records, %" G_GUINT64_FORMAT
                           " orphaned lines, %" G_GUINT64_FORMAT " malformed",
                           s->lines_matched,
                           s->observations,
                           s->records_incomplete,
                           s->lines_orphaned,
                           s->lines_malformed);
    if (s->lines_malformed > 0 && s->first_malformed != NULL) {
        g_autofree char *line = sanitize_for_display(s->first_malformed, SUMMARY_EXAMPLE_MAX);
        g_autofree char *reason = sanitize_for_display(
            s->first_malformed_reason != NULL ? s->first_malformed_reason : "?",
            SUMMARY_EXAMPLE_MAX);
        g_autofree char *where = sanitize_for_display(
            s->first_malformed_cursor != NULL ? s->first_malformed_cursor : "?",
            SUMMARY_EXAMPLE_MAX);

        g_string_append_printf(out, " (first at %s: %s: \"%s\")", where, reason, line);
    }
    if (s->records_evicted > 0)
        g_string_append_printf(out, ", %" G_GUINT64_FORMAT " records evicted", s->records_evicted);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- the --replay front end --------------------------------------------- */

typedef struct {
    McedReplayOutput output;
    FILE *out;
    gboolean header_done;
} Printer;

static void
table_row(FILE *out, const char *time, const char *kind, const char *cpu, const char *severity,
          const char *disposition, const char *guest, const char *type, const char *subtype,
          const char *tid, const char *comm, const char *vcpu, const char *address,
          const char *cursor)
{
    fprintf(out,
            "%-26s %-17s %4s %-8s %-13s %-5s %-12s %-20s %8s %-16s %4s %-21s %s\n",
            time,
            kind,
            cpu,
            severity,
            disposition,
            guest,
            type,
            subtype,
            tid,
            comm,
            vcpu,
            address,
            cursor);
}

static char *
table_num(const McedObservation *obs, McedNum n)
{
    if (!mced_observation_has_num(obs, n))
        return g_strdup("-");
    if (mced_num_is_hex(n))
        return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", obs->num[n]);
    return g_strdup_printf("%" G_GUINT64_FORMAT, obs->num[n]);
}

static char *
table_str(const char *s)
{
    if (s == NULL || *s == '\0')
        return g_strdup("-");
    return sanitize_for_display(s, 64);
}

static char *
table_time(const McedObservation *obs)
{
    if (obs->realtime_us > 0) {
        g_autoptr(GDateTime) dt =
            g_date_time_new_from_unix_local(obs->realtime_us / G_USEC_PER_SEC);

        if (dt != NULL)
            return g_date_time_format(dt, "%Y-%m-%d %H:%M:%S");
    }
    if (obs->monotonic_us > 0)
        return g_strdup_printf("[%5" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT "]",
                               obs->monotonic_us / G_USEC_PER_SEC,
                               obs->monotonic_us % G_USEC_PER_SEC);
    return g_strdup("-");
}

static char *
table_address(const McedObservation *obs)
{
    static const struct {
        McedNum num;
        const char *label;
    } pref[] = {
        {MCED_NUM_PA, "pa"},
        {MCED_NUM_EA, "ea"},
        {MCED_NUM_PFN, "pfn"},
        {MCED_NUM_QEMU_ADDR, "hva"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(pref); i++)
        if (mced_observation_has_num(obs, pref[i].num))
            return g_strdup_printf(
                "%s 0x%" G_GINT64_MODIFIER "x", pref[i].label, obs->num[pref[i].num]);
    return g_strdup("-");
}

static void
print_table(Printer *p, const McedObservation *obs)
{
    g_autofree char *time = table_time(obs);
    g_autofree char *cpu = table_num(obs, MCED_NUM_HOST_CPU);
    g_autofree char *type = table_str(obs->str[MCED_STR_ERROR_TYPE]);
    g_autofree char *subtype = table_str(obs->str[MCED_STR_ERROR_SUBTYPE]);
    g_autofree char *tid = table_num(obs, MCED_NUM_TID);
    g_autofree char *comm = table_str(obs->str[MCED_STR_COMM]);
    g_autofree char *vcpu = table_num(obs, MCED_NUM_VCPU);
    g_autofree char *address = table_address(obs);
    g_autofree char *cursor = table_str(obs->cursor);
    const char *severity = mced_severity_to_string(obs->severity);
    const char *disposition = mced_disposition_to_string(obs->disposition);
    const char *guest = "-";

    if (mced_observation_has_bool(obs, MCED_BOOL_IN_GUEST))
        guest = mced_observation_get_bool(obs, MCED_BOOL_IN_GUEST) ? "yes" : "no";

    if (!p->header_done) {
        table_row(p->out,
                  "TIME",
                  "KIND",
                  "CPU",
                  "SEVERITY",
                  "DISPOSITION",
                  "GUEST",
                  "TYPE",
                  "SUBTYPE",
                  "TID",
                  "COMM",
                  "VCPU",
                  "ADDRESS",
                  "CURSOR");
        p->header_done = TRUE;
    }
    table_row(p->out,
              time,
              mced_obs_kind_to_string(obs->kind),
              cpu,
              severity != NULL ? severity : "-",
              disposition != NULL ? disposition : "-",
              guest,
              type,
              subtype,
              tid,
              comm,
              vcpu,
              address,
              cursor);
}

static void
printer_emit(McedObservation *obs, gpointer user_data)
{
    g_autoptr(McedObservation) owned = obs;
    Printer *p = user_data;

    switch (p->output) {
    case MCED_REPLAY_OUTPUT_JSON: {
        g_autofree char *json = mced_observation_to_json_string(owned);

        fputs(json, p->out);
        fputc('\n', p->out);
        break;
    }
    case MCED_REPLAY_OUTPUT_TABLE:
        print_table(p, owned);
        break;
    case _MCED_REPLAY_OUTPUT_MAX:
        g_return_if_reached();
    }
}

/* ---- QMP captures ------------------------------------------------------- */

typedef struct {
    guint64 lines_read;
    guint64 skipped;   /* comments and blank lines */
    guint64 decoded;
    guint64 unknown;   /* events kvm-mced does not decode */
    guint64 malformed; /* not JSON, not an event, or a field that is wrong */
    guint64 reported;
} QmpCounters;

static void
qmp_report(QmpCounters *c, const char *path, guint64 lineno, const char *message)
{
    if (c->reported < MCED_REPLAY_MAX_QMP_REPORTS)
        fprintf(stderr, "%s:%" G_GUINT64_FORMAT ": %s, skipped\n", path, lineno, message);
    else if (c->reported == MCED_REPLAY_MAX_QMP_REPORTS)
        fprintf(stderr, "kvm-mced: replay: further problems are only counted\n");
    c->reported++;
}

static void
qmp_table_row(FILE *out, const char *time, const char *domain, const char *event,
              const char *klass, const char *severity, const char *recipient, const char *action,
              const char *ar, const char *recursive, const char *cursor, const char *message)
{
    fprintf(out,
            "%-19s %-16s %-17s %-9s %-8s %-10s %-8s %-3s %-3s %-40s %s\n",
            time,
            domain,
            event,
            klass,
            severity,
            recipient,
            action,
            ar,
            recursive,
            cursor,
            message);
}

static const char *
table_bool(const McedObservation *obs, McedBool b)
{
    if (!mced_observation_has_bool(obs, b))
        return "-";
    return mced_observation_get_bool(obs, b) ? "yes" : "no";
}

static void
print_qmp(Printer *p, const McedObservation *obs)
{
    /* A captured stream is one domain's: the event is attributed. */
    const char *klass = mced_incident_class_to_string(mced_observation_class(obs, TRUE));

    switch (p->output) {
    case MCED_REPLAY_OUTPUT_JSON: {
        g_autoptr(json_object) obj = mced_observation_to_json(obs);

        json_object_object_add(obj, "class", mced_json_string_new(klass));
        fputs(json_object_to_json_string_ext(obj, MCED_JSON_PRINT_FLAGS), p->out);
        fputc('\n', p->out);
        break;
    }
    case MCED_REPLAY_OUTPUT_TABLE: {
        g_autofree char *time = table_time(obs);
        g_autofree char *domain = table_str(obs->str[MCED_STR_DOMAIN]);
        g_autofree char *recipient = table_str(obs->str[MCED_STR_RECIPIENT]);
        g_autofree char *action = table_str(obs->str[MCED_STR_ACTION]);
        g_autofree char *cursor = table_str(obs->cursor);
        g_autofree char *message = table_str(obs->str[MCED_STR_MESSAGE]);
        const char *severity = mced_severity_to_string(obs->severity);

        if (!p->header_done) {
            qmp_table_row(p->out, "TIME", "DOMAIN", "EVENT", "CLASS", "SEVERITY", "RECIPIENT",
                          "ACTION", "AR", "REC", "CURSOR", "MESSAGE");
            p->header_done = TRUE;
        }
        qmp_table_row(p->out, time, domain, obs->str[MCED_STR_EVENT], klass,
                      severity != NULL ? severity : "-", recipient, action,
                      table_bool(obs, MCED_BOOL_ACTION_REQUIRED),
                      table_bool(obs, MCED_BOOL_RECURSIVE), cursor, message);
        break;
    }
    case _MCED_REPLAY_OUTPUT_MAX:
        g_return_if_reached();
    }
}

/* A comment or a blank line. */
static gboolean
qmp_line_is_skipped(const char *line, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        if (line[i] == '#')
            return TRUE;
        if (line[i] != ' ' && line[i] != '\t')
            return FALSE;
    }
    return TRUE;
}

/* One event per line. Unknown events and malformed lines are reported,
 * counted and skipped; only failing to read the file is an error. */
static gboolean
replay_qmp(const McedReplayOptions *opts, Printer *p, QmpCounters *c, GError **error)
{
    g_auto(TextReader) tr = {.fd = -1};
    g_autoptr(GString) cursor = g_string_new(NULL);
    guint64 lineno = 0;

    if (!mced_qmp_check_domain(opts->domain, error)) {
        g_prefix_error(error, "--domain: ");
        return FALSE;
    }
    if (!text_reader_open(&tr, opts->path, error))
        return FALSE;

    for (;;) {
        g_autoptr(GError) local = NULL;
        g_autoptr(McedObservation) obs = NULL;
        gboolean truncated;
        gboolean eof;
        gsize len;

        if (!text_reader_next(&tr, &truncated, &eof, opts->path, error))
            return FALSE;
        if (eof)
            break;

        lineno++;
        c->lines_read++;
        len = tr.line_len;
        if (len > 0 && tr.line[len - 1] == '\r')
            len--;
        if (qmp_line_is_skipped(tr.line, len)) {
            c->skipped++;
            continue;
        }
        if (truncated) {
            g_autofree char *message =
                g_strdup_printf("longer than %d bytes", MCED_REPLAY_MAX_LINE);

            c->malformed++;
            qmp_report(c, opts->path, lineno, message);
            continue;
        }

        /* QEMU's timestamp is the event's identity; without one, its
         * place in the file is. */
        g_string_printf(cursor, "%s:%" G_GUINT64_FORMAT, opts->path, lineno);
        obs = mced_qmp_decode_line(tr.line, len, opts->domain, cursor->str, &local);
        if (obs == NULL) {
            if (g_error_matches(local, MCED_ERROR, MCED_ERROR_NOT_FOUND))
                c->unknown++;
            else
                c->malformed++;
            qmp_report(c, opts->path, lineno, local->message);
            continue;
        }
        c->decoded++;
        print_qmp(p, obs);
    }
    return TRUE;
}

gboolean
mced_replay_run(const McedReplayOptions *opts, GError **error)
{
    Printer printer = {.out = stdout};
    g_autoptr(McedReplay) r = NULL;
    g_autofree char *summary = NULL;

    g_return_val_if_fail(opts != NULL && opts->path != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

    printer.output = opts->output;
    if (opts->domain != NULL) {
        QmpCounters counters = {0};

        if (!replay_qmp(opts, &printer, &counters, error))
            return FALSE;
        if (fflush(printer.out) != 0 || ferror(printer.out)) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_FAILED, "cannot write output: %s",
                        g_strerror(errno));
            return FALSE;
        }
        fprintf(stderr,
                "kvm-mced: replay: %" G_GUINT64_FORMAT " lines read (%" G_GUINT64_FORMAT
                " comments or blank), %" G_GUINT64_FORMAT " QMP events decoded, %" G_GUINT64_FORMAT
                " unknown events skipped, %" G_GUINT64_FORMAT " malformed lines skipped\n",
                counters.lines_read,
                counters.skipped,
                counters.decoded,
                counters.unknown,
                counters.malformed);
        return TRUE;
    }
    r = mced_replay_new(printer_emit, &printer);
    if (!mced_replay_read_path(r, opts->path, error))
        return FALSE;
    mced_replay_flush(r);

    if (fflush(printer.out) != 0 || ferror(printer.out)) {
        g_set_error(
            error, MCED_ERROR, MCED_ERROR_FAILED, "cannot write output: %s", g_strerror(errno));
        return FALSE;
    }

    summary = mced_replay_format_summary(r);
    fprintf(stderr, "kvm-mced: replay: %s\n", summary);
    return TRUE;
}
