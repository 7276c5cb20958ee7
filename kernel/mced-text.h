/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stripping the prefixes a kernel line picks up on its way into a text file:
 * printk timestamps ("[ 1234.567890] "), caller ids ("[    C3] ", "[  T42] "),
 * syslog priorities ("<3>"), BSD syslog and ISO-8601 dates with host name and
 * tag ("Sep 16 19:51:15 host kernel: "), and "dmesg -T" dates
 * ("[Tue Apr 21 16:02:26 2020] ").
 *
 * A syslog tag other than "kernel" means the line was written by a process:
 * such lines are not kernel messages. QEMU's own lines ("qemu-system-x86_64:
 * ...") are recognised by their program tag so that a domain log or a mixed
 * text log can be read with the same stripper.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    MCED_TEXT_KERNEL,  /* a kernel message (or a line with no recognisable origin) */
    MCED_TEXT_QEMU,    /* a QEMU stderr line; msg starts at the program name */
    MCED_TEXT_PROCESS, /* another process's syslog line: not a kernel message */
    _MCED_TEXT_ORIGIN_MAX,
} McedTextOrigin;

typedef struct {
    McedTextOrigin origin;
    const char *msg;          /* start of the message inside the line */
    gsize msg_len;            /* without trailing whitespace and CR/LF */
    gboolean has_printk_time;
    gint64 printk_time_us;    /* "[ 1234.567890]" as microseconds since boot */
    gint64 realtime_us;       /* from an ISO-8601 date with zone, 0 otherwise */
} McedTextLine;

/* Never fails: a line with nothing recognisable is returned as a kernel
 * message with leading/trailing blanks removed. */
void mced_text_strip(const char *line, gsize len, McedTextLine *out);

G_END_DECLS
