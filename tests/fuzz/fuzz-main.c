/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A plain main() for the fuzz targets, used when they are not linked with
 * libFuzzer: runs LLVMFuzzerTestOneInput() once over every file named on the
 * command line, recursing into directories (in name order). This is how the
 * seed corpora and saved crashers run as ordinary tests (suite fuzz-replay).
 * Fails if a path cannot be read or if no input was found at all.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz-common.h"

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(const char *const *)a, *(const char *const *)b);
}

static gboolean
run_path(const char *path, guint *n_inputs)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *contents = NULL;
    gsize len = 0;

    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, &error);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        const char *name;

        if (dir == NULL) {
            g_printerr("%s\n", error->message);
            return FALSE;
        }
        while ((name = g_dir_read_name(dir)) != NULL)
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        g_ptr_array_sort(names, compare_names);
        for (guint i = 0; i < names->len; i++) {
            if (!run_path(names->pdata[i], n_inputs))
                return FALSE;
        }
        return TRUE;
    }

    if (!g_file_get_contents(path, &contents, &len, &error)) {
        g_printerr("%s\n", error->message);
        return FALSE;
    }
    g_print("%s (%" G_GSIZE_FORMAT " bytes)\n", path, len);
    /* Hand over an exact-size buffer so that overreads are caught. */
    {
        g_autofree uint8_t *data = g_malloc(len > 0 ? len : 1);

        memcpy(data, contents, len);
        LLVMFuzzerTestOneInput(data, len);
    }
    (*n_inputs)++;
    return TRUE;
}

int
main(int argc, char **argv)
{
    guint n_inputs = 0;

    if (argc < 2) {
        g_printerr("usage: %s FILE|DIR...\n", argv[0]);
        return EXIT_FAILURE;
    }
    for (int i = 1; i < argc; i++) {
        if (!run_path(argv[i], &n_inputs))
            return EXIT_FAILURE;
    }
    if (n_inputs == 0) {
        g_printerr("no inputs found\n");
        return EXIT_FAILURE;
    }
    g_print("%u inputs ran\n", n_inputs);
    return EXIT_SUCCESS;
}
