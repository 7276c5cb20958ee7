/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The project's GError domain. Codes say what kind of failure it was, so a
 * front end can pick an exit status (or, later, a D-Bus error name) from
 * the code alone.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MCED_ERROR (mced_error_quark())

typedef enum {
    MCED_ERROR_FAILED,           /* anything without a better code */
    MCED_ERROR_INVALID_ARGUMENT, /* bad option or argument from the caller */
    MCED_ERROR_NOT_FOUND,        /* a named file or object does not exist */
    MCED_ERROR_IO,               /* reading or writing failed */
    MCED_ERROR_INVALID_DATA,     /* input that does not have the expected shape */
    _MCED_ERROR_MAX,
} McedError;

GQuark mced_error_quark(void);

G_END_DECLS
