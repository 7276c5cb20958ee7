/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * json-c glue shared by lib/ and daemon/: the one place where cleanups for
 * json-c types are defined.
 */
#pragma once

#include <glib.h>
#include <json.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* Flags for every JSON line kvm-mced prints: one line, '/' left alone. */
#define MCED_JSON_PRINT_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A JSON string for @s, or JSON null for NULL. json-c checks nothing, so
 * invalid UTF-8 (task names, kernel text) is made valid first. */
json_object *mced_json_string_new(const char *s);

G_END_DECLS
