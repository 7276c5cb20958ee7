/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-kline.h"

McedKlineKind
mced_kline_parse_qemu(const char *msg, gsize len, McedKline *out)
{
    return MCED_KLINE_NONE;
}
