/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-error.h"

GQuark
mced_error_quark(void)
{
    return g_quark_from_static_string("mced-error-quark");
}
