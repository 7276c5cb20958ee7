/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QMP events, as libvirt relays them (virConnectDomainQemuMonitorEventRegister)
 * or as QEMU writes them on its monitor, decoded into MCED_OBS_QMP
 * observations.
 *
 * Only the events that matter to machine checks are decoded:
 *
 *   MEMORY_FAILURE     recipient, action and flags; the class follows the
 *                      action: ignore -> corrected (warning, recovered),
 *                      inject -> guest (severe, not recovered), fatal and
 *                      reset -> fatal. in_guest is recipient == guest.
 *   GUEST_PANICKED     fatal, not recovered, in guest; the panic action and
 *   GUEST_CRASHLOADED  a short message from data.info ("tdx: <text>", ...).
 *                      Whether a panic is a machine-check incident depends on
 *                      what came before it on that domain: that is the
 *                      correlator's decision (mced_qmp_is_panic()).
 *   RESET              informational (severity unknown): the reason goes to
 *                      message, data.guest to in_guest.
 *
 * Any other event name fails with MCED_ERROR_NOT_FOUND, so that a caller
 * can count "unknown" apart from malformed input (MCED_ERROR_INVALID_DATA,
 * with a message naming the field: "MEMORY_FAILURE: data.action: unknown
 * value 'x'"). Unknown MEMORY_FAILURE recipients and actions are errors,
 * as they are for libvirt, because the class depends on them; a panic's
 * action or a reset's reason may be any short lower-case name, so that a
 * word a later QEMU adds never loses a panic.
 *
 * Identity. An event with a QEMU timestamp gets the cursor
 * "qmp:<domain>:<event>:<seconds>.<micros, 6 digits>": QEMU stamps each
 * event once, in microseconds, so the same event seen twice (relayed raw
 * and replayed from a capture, or delivered again after a reconnect) gets
 * the same cursor and hence the same incident id. QEMU sends seconds -1
 * when it could not read the clock (libvirt passes -1 when there was no
 * timestamp at all); such an event has no identity of its own, so the
 * caller's @fallback_cursor is used ("FILE:LINE" for a replay, or whatever
 * the live source can make unique). With neither, the observation has no
 * cursor: the correlator then gives it an id of its own and never drops
 * it as a duplicate, which is the safe side for an event with no identity.
 *
 * Hostile input is bounded: JSON text longer than MCED_QMP_MAX_JSON or
 * nested deeper than MCED_QMP_MAX_DEPTH is refused, as are NUL bytes and
 * invalid UTF-8 outside strings' escapes; every kept string is cut to
 * MCED_QMP_MAX_STRING bytes (on a character boundary), and a NUL inside a
 * JSON string (\u0000) is kept as "\x00" in free text and never matches a
 * name.
 */
#pragma once

#include <glib.h>

#include "mced-observation.h"

G_BEGIN_DECLS

typedef enum {
    MCED_QMP_EVENT_MEMORY_FAILURE,
    MCED_QMP_EVENT_GUEST_PANICKED,
    MCED_QMP_EVENT_GUEST_CRASHLOADED,
    MCED_QMP_EVENT_RESET,
    _MCED_QMP_EVENT_MAX,
    _MCED_QMP_EVENT_INVALID = -1,
} McedQmpEvent;

#define MCED_QMP_MAX_JSON   (64 * 1024) /* details, or one whole event line */
#define MCED_QMP_MAX_DEPTH  16          /* JSON nesting, envelope included */
#define MCED_QMP_MAX_STRING 256         /* bytes of any string kept */
#define MCED_QMP_MAX_DOMAIN 256         /* bytes of a domain name */
/* Latest timestamp accepted: 9999-12-31T23:59:59Z. */
#define MCED_QMP_MAX_SECONDS G_GINT64_CONSTANT(253402300799)

const char *mced_qmp_event_to_string(McedQmpEvent e);
/* Exact, case-sensitive; _MCED_QMP_EVENT_INVALID for anything else. */
McedQmpEvent mced_qmp_event_from_string(const char *s);

/* Whether @domain is acceptable as a domain name below; an
 * MCED_ERROR_INVALID_ARGUMENT naming what is wrong if not. */
gboolean mced_qmp_check_domain(const char *domain, GError **error);

/* One event in the shape of libvirt's qemu monitor event callback: @seconds
 * -1 when there was no timestamp (@micros is then ignored), @details_json
 * the event's "data" member as JSON text of @details_len bytes, or NULL
 * when the event had none. @domain is the libvirt domain name (required,
 * at most MCED_QMP_MAX_DOMAIN bytes of UTF-8 without control characters).
 * Returns a frozen observation whose one line is the event rebuilt in its
 * wire shape, or NULL with an MCED_ERROR. */
McedObservation *mced_qmp_decode(const char *event, gint64 seconds, guint micros,
                                 const char *details_json, gsize details_len,
                                 const char *domain, const char *fallback_cursor,
                                 GError **error);

/* One event as QEMU sends it: {"event": ..., "data": ..., "timestamp":
 * {"seconds": ..., "microseconds": ...}}, members in any order, "data" and
 * "timestamp" optional, trailing whitespace (QEMU's CRLF) allowed. The line
 * itself is kept as the observation's line. */
McedObservation *mced_qmp_decode_line(const char *line, gsize len, const char *domain,
                                      const char *fallback_cursor, GError **error);

/* TRUE for a GUEST_PANICKED or GUEST_CRASHLOADED observation: a machine
 * check only if the correlator finds a host MCE on that domain before it. */
gboolean mced_qmp_is_panic(const McedObservation *obs);

G_END_DECLS
