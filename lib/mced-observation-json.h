/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * JSON form of a McedObservation, used by `kvm-mced --replay --json`, the
 * golden tests and (later) the D-Bus and state layers.
 *
 * Keys that every consumer relies on are always present and null when the
 * value is unknown: kind, host_cpu, severity, disposition, in_guest,
 * error_type, error_subtype, tid, pid, comm, vcpu, ea, pa, pfn, cursor and
 * lines. Any other field is present only when known. Hex quantities
 * (addresses, registers) are strings "0x..." because JSON numbers lose
 * precision above 2^53; counts and ids are integers. Strings are always
 * valid UTF-8, whatever bytes the input carried.
 */
#pragma once

#include <glib.h>
#include <json.h>

#include "mced-json.h"
#include "mced-observation.h"

G_BEGIN_DECLS

/* Returns a new reference (never NULL for a non-NULL @obs). */
json_object *mced_observation_to_json(const McedObservation *obs);
/* The inverse of mced_observation_to_json(): a frozen observation, or NULL
 * with an error naming the field that is wrong. Unknown keys are ignored. */
McedObservation *mced_observation_from_json(json_object *obj, GError **error);
/* One line of JSON without a trailing newline; free with g_free(). */
char *mced_observation_to_json_string(const McedObservation *obs);

G_END_DECLS
