/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prefix stripping for kernel lines read from text. The order in which the
 * pieces can appear, each optional:
 *
 *   <pri>  date  [host]  tag:  [printk time][caller id]  message
 *
 * where date is ISO-8601 ("2026-02-13T12:47:34.505714+01:00") or BSD syslog
 * ("Sep 16 19:51:15"), and "[printk time]" may also be a "dmesg -T" date
 * ("[Tue Apr 21 16:02:26 2020]"). Everything is bounded by the line length;
 * nothing here allocates except turning an ISO date into a timestamp.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"
#include "mced-text.h"

static gboolean
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void
skip_blanks(const char **p, const char *end)
{
    while (*p < end && is_blank(**p))
        (*p)++;
}

static gboolean
scan_digits(const char **p, const char *end, guint n)
{
    const char *s = *p;

    for (guint i = 0; i < n; i++, s++)
        if (s >= end || !g_ascii_isdigit(*s))
            return FALSE;
    *p = s;
    return TRUE;
}

/* "hh:mm:ss" */
static gboolean
scan_clock(const char **p, const char *end)
{
    const char *s = *p;

    if (!scan_digits(&s, end, 2) || !mced_scan_lit(&s, end, ":") || !scan_digits(&s, end, 2)
        || !mced_scan_lit(&s, end, ":") || !scan_digits(&s, end, 2))
        return FALSE;
    *p = s;
    return TRUE;
}

/* Three letters, any case: "Sep", "jan", "Tue". */
static gboolean
scan_word3(const char **p, const char *end)
{
    const char *s = *p;

    if (end - s < 3 || !g_ascii_isalpha(s[0]) || !g_ascii_isalpha(s[1]) || !g_ascii_isalpha(s[2]))
        return FALSE;
    *p = s + 3;
    return TRUE;
}

/* BSD syslog: "Sep 16 19:51:15" ("Nov  7" has two blanks). */
static gboolean
scan_bsd_date(const char **p, const char *end)
{
    const char *s = *p;

    if (!scan_word3(&s, end) || s >= end || !is_blank(*s))
        return FALSE;
    skip_blanks(&s, end);
    if (!scan_digits(&s, end, 1))
        return FALSE;
    if (s < end && g_ascii_isdigit(*s))
        s++;
    if (s >= end || !is_blank(*s))
        return FALSE;
    s++;
    if (!scan_clock(&s, end))
        return FALSE;
    *p = s;
    return TRUE;
}

/* ISO-8601 as rsyslog and "-msg timestamp=on" write it:
 * "2026-02-13T12:47:34.505714+01:00", "2019-08-02T05:00:11.940270Z". */
static gboolean
scan_iso_date(const char **p, const char *end, gint64 *ret_realtime_us)
{
    const char *s = *p;
    char buf[48];
    gsize n;

    if (!scan_digits(&s, end, 4) || !mced_scan_lit(&s, end, "-") || !scan_digits(&s, end, 2)
        || !mced_scan_lit(&s, end, "-") || !scan_digits(&s, end, 2))
        return FALSE;
    if (s >= end || (*s != 'T' && *s != ' '))
        return FALSE;
    s++;
    if (!scan_clock(&s, end))
        return FALSE;
    if (s < end && (*s == '.' || *s == ',')) {
        s++;
        if (s >= end || !g_ascii_isdigit(*s))
            return FALSE;
        for (guint i = 0; s < end && g_ascii_isdigit(*s); s++, i++)
            if (i >= 9)
                return FALSE;
    }
    *ret_realtime_us = 0;
    if (s < end && *s == 'Z')
        s++;
    else if (s < end && (*s == '+' || *s == '-')) {
        s++;
        if (!scan_digits(&s, end, 2))
            return FALSE;
        if (s < end && *s == ':')
            s++;
        if (!scan_digits(&s, end, 2))
            return FALSE;
    } else {
        *p = s; /* local time, zone unknown: no timestamp */
        return TRUE;
    }
    n = (gsize)(s - *p);
    if (n < sizeof(buf)) {
        g_autoptr(GDateTime) dt = NULL;

        memcpy(buf, *p, n);
        buf[n] = '\0';
        if (buf[10] == ' ')
            buf[10] = 'T';
        dt = g_date_time_new_from_iso8601(buf, NULL);
        if (dt != NULL)
            *ret_realtime_us = g_date_time_to_unix(dt) * G_USEC_PER_SEC
                               + g_date_time_get_microsecond(dt);
    }
    *p = s;
    return TRUE;
}

/* "[ 1234.567890]" -> microseconds. The hot path of text input: every
 * dmesg line starts with one, so it is scanned by hand. */
static gboolean
scan_printk_time(const char **p, const char *end, gint64 *ret_us)
{
    const char *s = *p;
    guint64 sec, usec;
    const char *frac;

    if (s >= end || *s != '[')
        return FALSE;
    s++;
    while (s < end && *s == ' ')
        s++;
    if (!mced_scan_dec(&s, end, G_MAXINT64 / G_USEC_PER_SEC - 1, &sec))
        return FALSE;
    if (s >= end || *s != '.')
        return FALSE;
    frac = ++s;
    if (!mced_scan_dec(&s, end, G_MAXUINT32, &usec) || s - frac > 9)
        return FALSE;
    /* Normalise the fraction to microseconds (OPAL prints 9 digits). */
    for (gssize digits = s - frac; digits < 6; digits++)
        usec *= 10;
    for (gssize digits = s - frac; digits > 6; digits--)
        usec /= 10;
    /* OPAL firmware adds ",<level>" inside the brackets. */
    if (s < end && *s == ',') {
        s++;
        if (!scan_digits(&s, end, 1))
            return FALSE;
    }
    if (s >= end || *s != ']')
        return FALSE;
    *ret_us = (gint64)(sec * G_USEC_PER_SEC + usec);
    *p = s + 1;
    return TRUE;
}

/* printk caller id: "[    C3]", "[ T449218]". */
static gboolean
scan_caller_id(const char **p, const char *end)
{
    const char *s = *p;
    guint64 v;

    if (!mced_scan_lit(&s, end, "["))
        return FALSE;
    skip_blanks(&s, end);
    if (s >= end || (*s != 'C' && *s != 'T'))
        return FALSE;
    s++;
    if (!mced_scan_dec(&s, end, G_MAXUINT32, &v) || !mced_scan_lit(&s, end, "]"))
        return FALSE;
    *p = s;
    return TRUE;
}

/* dmesg -T: "[Tue Apr 21 16:02:26 2020]" */
static gboolean
scan_dmesg_date(const char **p, const char *end)
{
    const char *s = *p;

    if (!mced_scan_lit(&s, end, "[") || !scan_word3(&s, end) || !mced_scan_lit(&s, end, " "))
        return FALSE;
    if (!scan_bsd_date(&s, end) || !mced_scan_lit(&s, end, " ") || !scan_digits(&s, end, 4)
        || !mced_scan_lit(&s, end, "]"))
        return FALSE;
    *p = s;
    return TRUE;
}

/* A syslog tag: "kernel:", "mcelog[987]:", "qemu-system-x86_64:". Returns
 * the tag's name length (without "[pid]:") and moves *p past the colon. */
static gsize
scan_tag(const char **p, const char *end, gboolean *ret_has_pid)
{
    const char *s = *p;
    gsize name_len;

    while (s < end && !is_blank(*s) && *s != ':' && *s != '[')
        s++;
    name_len = (gsize)(s - *p);
    if (name_len == 0 || name_len > 64)
        return 0;
    *ret_has_pid = FALSE;
    if (s < end && *s == '[') {
        guint64 pid;
        s++;
        if (!mced_scan_dec(&s, end, G_MAXUINT32, &pid) || !mced_scan_lit(&s, end, "]"))
            return 0;
        *ret_has_pid = TRUE;
    }
    if (s >= end || *s != ':')
        return 0;
    s++;
    /* "kernel:[Hardware Error]" has no blank after the colon; everything
     * else does. */
    if (s < end && !is_blank(*s) && !(name_len == 6 && memcmp(*p, "kernel", 6) == 0))
        return 0;
    *p = s;
    return name_len;
}

static gboolean
is_qemu_tag(const char *tag, gsize len)
{
    return len >= 4 && memcmp(tag, "qemu", 4) == 0;
}

typedef enum {
    TAG_NONE,
    TAG_KERNEL,
    TAG_QEMU,
    TAG_OTHER,
} TagKind;

/* Looks for "[host ]tag:" at *p. With @after_date, a lone "tag:" counts;
 * without a date only forms that cannot be a kernel message do: "host
 * kernel:", "kernel:", "host name[pid]:" and QEMU's "qemu-...: ". */
static TagKind
scan_origin(const char **p, const char *end, gboolean after_date, const char **ret_tag)
{
    const char *s = *p, *tag;
    gsize n;
    gboolean has_pid;

    /* "tag:" right here */
    tag = s;
    n = scan_tag(&s, end, &has_pid);
    if (n > 0) {
        if (n == 6 && memcmp(tag, "kernel", 6) == 0) {
            *p = s;
            return TAG_KERNEL;
        }
        if (is_qemu_tag(tag, n)) {
            *ret_tag = tag;
            return TAG_QEMU;
        }
        if (after_date || has_pid) {
            *p = s;
            return TAG_OTHER;
        }
        return TAG_NONE; /* "mce: ...", "MCE: ...": the kernel's own prefixes */
    }

    /* "host tag:" - a host name never starts with '[' or '{'. */
    s = *p;
    if (s >= end || *s == '[' || *s == '{')
        return TAG_NONE;
    while (s < end && !is_blank(*s))
        s++;
    if (s >= end || s - *p > 253)
        return TAG_NONE;
    skip_blanks(&s, end);
    tag = s;
    n = scan_tag(&s, end, &has_pid);
    if (n == 0)
        return TAG_NONE;
    if (n == 6 && memcmp(tag, "kernel", 6) == 0) {
        *p = s;
        return TAG_KERNEL;
    }
    if (is_qemu_tag(tag, n)) {
        *ret_tag = tag;
        return TAG_QEMU;
    }
    if (after_date || has_pid) {
        *p = s;
        return TAG_OTHER;
    }
    return TAG_NONE;
}

void
mced_text_strip(const char *line, gsize len, McedTextLine *out)
{
    const char *p = line, *end = line + len, *tag = NULL;
    gboolean have_date = FALSE;
    gint64 realtime_us = 0;
    const char *q, *start;
    TagKind origin;

    *out = (McedTextLine){ .origin = MCED_TEXT_KERNEL, .msg = "" };
    if (line == NULL || len == 0)
        return;

    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || is_blank(end[-1])))
        end--;
    skip_blanks(&p, end);

    /* Fast path: "[ 1234.567890] message", the dmesg shape. */
    if (p < end && *p == '[')
        goto printk;

    /* syslog priority "<3>" */
    if (p < end && *p == '<') {
        q = p + 1;
        guint64 pri;
        if (mced_scan_dec(&q, end, 191, &pri) && mced_scan_lit(&q, end, ">"))
            p = q;
    }

    q = p;
    if (p < end && g_ascii_isdigit(*p) && scan_iso_date(&q, end, &realtime_us)) {
        have_date = TRUE;
        p = q;
    } else if (p < end && g_ascii_isalpha(*p) && scan_bsd_date(&q, end)) {
        have_date = TRUE;
        p = q;
    }
    skip_blanks(&p, end);

    start = p;
    origin = scan_origin(&p, end, have_date, &tag);
    if (origin == TAG_OTHER && have_date) {
        /* "dmesg --time-format=iso" puts the bare message right after the
         * date, and "Guest NIP: ..." or "mce: ..." then look like "host
         * tag:". Real syslog lines always carry a host name, so a remainder
         * that parses as a machine-check line is the kernel's. */
        McedKline k;
        if (mced_kline_parse(start, (gsize)(end - start), &k) != MCED_KLINE_NONE) {
            p = start;
            origin = TAG_NONE;
        }
    }

    switch (origin) {
    case TAG_KERNEL:
    case TAG_NONE:
        break;
    case TAG_QEMU:
        out->origin = MCED_TEXT_QEMU;
        out->msg = tag;
        out->msg_len = (gsize)(end - tag);
        out->realtime_us = realtime_us;
        return;
    case TAG_OTHER:
        out->origin = MCED_TEXT_PROCESS;
        skip_blanks(&p, end);
        out->msg = p;
        out->msg_len = (gsize)(end - p);
        out->realtime_us = realtime_us;
        return;
    }
    skip_blanks(&p, end);

printk:
    q = p;
    if (p < end && *p == '[') {
        if (scan_printk_time(&q, end, &out->printk_time_us)) {
            out->has_printk_time = TRUE;
            p = q;
            if (q < end && *q == '[' && scan_caller_id(&q, end))
                p = q;
        } else if (scan_caller_id(&q, end)) {
            p = q;
        } else if (scan_dmesg_date(&q, end)) {
            p = q;
        }
    }
    skip_blanks(&p, end);

    out->msg = p;
    out->msg_len = (gsize)(end - p);
    out->realtime_us = realtime_us;
}
