/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-kline.h"
#include "mced-kmsg.h"

gboolean
mced_kmsg_record_parse(const char *rec, gsize len, McedKmsgRecord *out)
{
    const char *p = rec, *end, *semi, *nl;
    guint64 prio, seq, usec;

    nl = memchr(rec, '\n', len);
    end = nl != NULL ? nl : rec + len;
    semi = memchr(rec, ';', (gsize)(end - rec));
    if (semi == NULL)
        return FALSE;

    /* prio: facility is at most 23 (local7) in syslog terms, but the
     * kernel stores whatever a writer asked for: accept the full range. */
    if (!mced_scan_dec(&p, semi, 0x7ff, &prio) || !mced_scan_lit(&p, semi, ","))
        return FALSE;
    if (!mced_scan_dec(&p, semi, G_MAXUINT64, &seq) || !mced_scan_lit(&p, semi, ","))
        return FALSE;
    if (!mced_scan_dec(&p, semi, G_MAXUINT64, &usec) || !mced_scan_lit(&p, semi, ","))
        return FALSE;
    if (p >= semi)
        return FALSE;

    *out = (McedKmsgRecord){
        .facility = (guint)(prio >> 3),
        .level = (guint)(prio & 7),
        .seq = seq,
        .usec = usec,
        .continued = *p == 'c',
        .msg = semi + 1,
        .msg_len = (gsize)(end - (semi + 1)),
    };
    /* flags is one character, optionally followed by ",caller=..." etc. */
    p++;
    if (p < semi && *p != ',')
        return FALSE;
    return TRUE;
}
