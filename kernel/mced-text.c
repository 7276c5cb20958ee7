/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-text.h"

void
mced_text_strip(const char *line, gsize len, McedTextLine *out)
{
    *out = (McedTextLine){ .origin = MCED_TEXT_KERNEL, .msg = line, .msg_len = len };
}
