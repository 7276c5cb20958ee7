/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-assembler.h"

struct McedAssembler {
    McedAssemblerStats stats;
};

McedAssembler *
mced_assembler_new(gint64 idle_timeout_us, McedObservationFunc emit, gpointer user_data)
{
    return g_new0(McedAssembler, 1);
}

void
mced_assembler_free(McedAssembler *a)
{
    g_free(a);
}

void
mced_assembler_feed(McedAssembler *a, const McedLineInfo *info, const char *msg, gsize len)
{
}

void
mced_assembler_expire(McedAssembler *a, gint64 now_us)
{
}

void
mced_assembler_flush(McedAssembler *a)
{
}

gint64
mced_assembler_next_deadline(const McedAssembler *a)
{
    return -1;
}

guint
mced_assembler_n_pending(const McedAssembler *a)
{
    return 0;
}

const McedAssemblerStats *
mced_assembler_get_stats(const McedAssembler *a)
{
    return &a->stats;
}
