/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the fuzz targets: the libFuzzer entry point's prototype and a
 * splitter that hands each line of the input to a callback as its own heap
 * copy of exactly the line's size, so that ASan and valgrind catch a parser
 * reading one byte past the end of its line.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef void (*FuzzLineFunc)(const char *line, gsize len, gpointer user_data);

static inline void
fuzz_each_line(const uint8_t *data, size_t size, FuzzLineFunc func, gpointer user_data)
{
    const char *p = (const char *)data;
    const char *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        gsize len = (gsize)((nl != NULL ? nl : end) - p);
        /* g_malloc(0) returns NULL: keep a real (1-byte) allocation but pass len 0 */
        char *copy = g_malloc(len > 0 ? len : 1);

        memcpy(copy, p, len);
        func(copy, len, user_data);
        g_free(copy);
        p += len + 1;
    }
}

/* Read every byte of a slice, so that a slice pointing outside live memory
 * is reported by the sanitizer (or valgrind) here. */
static inline guint
fuzz_touch(const char *ptr, gsize len)
{
    guint sum = 0;

    for (gsize i = 0; i < len; i++)
        sum += (guchar)ptr[i];
    return sum;
}
