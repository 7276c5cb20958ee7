/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File helpers shared by the unit tests that work in a scratch directory. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>

/* Remove @path and everything below it, directories a test made
 * unreadable included. */
static inline void
test_remove_tree(const char *path)
{
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
        g_chmod(path, 0700);
    d = g_dir_open(path, 0, NULL);
    if (d != NULL) {
        while ((name = g_dir_read_name(d)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            test_remove_tree(child);
        }
    }
    g_remove(path);
}

/* Write @len bytes of @text (-1: up to its NUL) to @path, or fail the test. */
static inline void
test_write_file(const char *path, const char *text, gssize len)
{
    g_autoptr(GError) error = NULL;

    g_file_set_contents(path, text, len, &error);
    g_assert_no_error(error);
}
