/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "mced-paths.h"

/* systemd passes lists separated by ':' for StateDirectory= with several
 * entries; the first is ours. An empty value counts as unset. */
static char *
first_entry(const char *v)
{
    g_auto(GStrv) parts = NULL;

    if (v == NULL || *v == '\0')
        return NULL;
    parts = g_strsplit(v, ":", 2);
    if (parts[0] == NULL || *parts[0] == '\0' || !g_path_is_absolute(parts[0]))
        return NULL;
    return g_strdup(parts[0]);
}

McedPaths *
mced_paths_new_from_envp(const char *const *envp)
{
    McedPaths *p = g_new0(McedPaths, 1);
    g_autofree char *conf_dir = NULL;
    const char *v;
    char **env = (char **)envp;

    p->state_directory = first_entry(g_environ_getenv(env, "STATE_DIRECTORY"));
    p->state_directory_from_env = p->state_directory != NULL;
    if (p->state_directory == NULL)
        p->state_directory = g_strdup("/var/lib/kvm-mced");

    conf_dir = first_entry(g_environ_getenv(env, "CONFIGURATION_DIRECTORY"));
    p->config_file = g_build_filename(conf_dir != NULL ? conf_dir : MCED_CONFDIR,
                                      "kvm-mced.conf", NULL);

    p->runtime_directory = first_entry(g_environ_getenv(env, "RUNTIME_DIRECTORY"));
    if (p->runtime_directory == NULL)
        p->runtime_directory = g_strdup("/run/kvm-mced");

    p->procfs_root = first_entry(g_environ_getenv(env, "MCED_PROCFS_ROOT"));
    if (p->procfs_root == NULL)
        p->procfs_root = g_strdup("/proc");
    p->sysfs_root = first_entry(g_environ_getenv(env, "MCED_SYSFS_ROOT"));
    if (p->sysfs_root == NULL)
        p->sysfs_root = g_strdup("/sys");

    v = g_environ_getenv(env, "JOURNAL_STREAM");
    p->journal_stream = v != NULL && *v != '\0' ? g_strdup(v) : NULL;
    return p;
}

McedPaths *
mced_paths_new_from_environment(void)
{
    g_auto(GStrv) env = g_get_environ();

    return mced_paths_new_from_envp((const char *const *)env);
}

void
mced_paths_free(McedPaths *p)
{
    if (p == NULL)
        return;
    g_free(p->state_directory);
    g_free(p->config_file);
    g_free(p->runtime_directory);
    g_free(p->procfs_root);
    g_free(p->sysfs_root);
    g_free(p->journal_stream);
    g_free(p);
}
