/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every environment variable kvm-mced reads, read once at startup into one
 * table (docs/env.md lists them). Nothing else calls getenv().
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    char *state_directory;  /* $STATE_DIRECTORY (first entry), else /var/lib/kvm-mced */
    char *config_file;      /* $CONFIGURATION_DIRECTORY/kvm-mced.conf, else /etc/kvm-mced/kvm-mced.conf */
    char *runtime_directory; /* $RUNTIME_DIRECTORY, else /run/kvm-mced */
    char *procfs_root;      /* $MCED_PROCFS_ROOT, else /proc */
    char *sysfs_root;       /* $MCED_SYSFS_ROOT, else /sys */
    char *journal_stream;   /* $JOURNAL_STREAM ("dev:ino" of the journal stream) or NULL */
    gboolean state_directory_from_env;
} McedPaths;

/* Reads the process environment. */
McedPaths *mced_paths_new_from_environment(void);
/* The same from an explicit environment (g_get_environ() form), for tests. */
McedPaths *mced_paths_new_from_envp(const char *const *envp);
void mced_paths_free(McedPaths *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedPaths, mced_paths_free)

G_END_DECLS
