/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * /dev/kmsg records: "<prio>,<seq>,<usec>,<flags>[,<more>];<message>\n",
 * optionally followed by dictionary lines that start with a blank
 * (" SUBSYSTEM=pci"). prio is facility << 3 | level: facility 0 is the
 * kernel itself, anything else was written into /dev/kmsg by a process and
 * is not a kernel message. The kernel escapes unprintable bytes in the
 * message as \xNN.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint facility;
    guint level;
    guint64 seq;
    guint64 usec;      /* CLOCK_MONOTONIC microseconds */
    gboolean continued; /* flags 'c': a continuation fragment */
    const char *msg;   /* inside the record, up to the first newline */
    gsize msg_len;
} McedKmsgRecord;

/* Parses the first line of a record. FALSE for anything malformed. */
gboolean mced_kmsg_record_parse(const char *rec, gsize len, McedKmsgRecord *out);

G_END_DECLS
