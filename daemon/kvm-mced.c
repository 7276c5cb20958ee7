/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "mced-config.h"
#include "mced-daemon.h"
#include "mced-paths.h"
#include "mced-policy.h"
#include "mced-state.h"
#include "mced-error.h"
#include "mced-replay.h"

/* Exit statuses: 0 success, 1 failure while running, 2 bad usage or an
 * input that cannot be read. */
#define EXIT_USAGE 2

static char *arg_replay;
static gboolean arg_json;
static char *arg_domain;
static gboolean arg_version;
static char *arg_config;
static char *arg_state_directory;
static char *arg_journal_directory;
static char *arg_journal_file;
static char *arg_procfs_root;
static char *arg_kmsg;
static char *arg_libvirt_uri;
static char *arg_hooks_directory;
static gboolean arg_check_config;
static char *arg_explain;
static char *arg_qemu_log_directory;
static char *arg_bus_address;
static gboolean arg_no_journal_log;

static const GOptionEntry option_entries[] = {
    {"replay",
     0,
     0,
     G_OPTION_ARG_FILENAME,
     &arg_replay,
     "Read kernel messages from FILE (text log, journal file or journal directory), "
     "print the machine-check observations and exit",
     "FILE"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &arg_json, "With --replay: one JSON object per line", NULL},
    {"domain", 0, 0, G_OPTION_ARG_STRING, &arg_domain,
     "With --replay: FILE is a captured QMP event stream of domain NAME, one event per line",
     "NAME"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &arg_version, "Print the version and exit", NULL},
    {"config", 'c', 0, G_OPTION_ARG_FILENAME, &arg_config,
     "Configuration file (default " MCED_CONFDIR "/kvm-mced.conf, drop-ins in conf.d/ beside it)",
     "FILE"},
    {"state-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_state_directory,
     "Where state and history are kept (default $STATE_DIRECTORY or /var/lib/kvm-mced)", "DIR"},
    {"journal-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_journal_directory,
     "Follow the journal files in DIR instead of the system journal", "DIR"},
    {"journal-file", 0, 0, G_OPTION_ARG_FILENAME, &arg_journal_file,
     "Follow one journal file instead of the system journal", "FILE"},
    {"kmsg", 0, 0, G_OPTION_ARG_FILENAME, &arg_kmsg,
     "Read kernel records from PATH (default /dev/kmsg when the host has no journal)", "PATH"},
    {"check-config", 0, 0, G_OPTION_ARG_NONE, &arg_check_config,
     "Validate the configuration and policy, then exit", NULL},
    {"explain", 0, 0, G_OPTION_ARG_STRING, &arg_explain,
     "Print which policy rules apply to DOMAIN and what each class would do now, then exit",
     "DOMAIN"},
    {"hooks-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_hooks_directory,
     "Run hook executables from DIR (default: hooks.d beside the configuration file)", "DIR"},
    {"libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &arg_libvirt_uri,
     "Connect to this libvirt URI (default from the configuration: qemu:///system)", "URI"},
    {"bus-address", 0, 0, G_OPTION_ARG_STRING, &arg_bus_address,
     "Serve the D-Bus API on this bus address instead of the system bus (\"none\": no D-Bus)",
     "ADDRESS"},
    {"qemu-log-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_qemu_log_directory,
     "Where libvirt keeps the QEMU logs (default /var/log/libvirt/qemu)", "DIR"},
    {"procfs-root", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &arg_procfs_root,
     "Read processes from this procfs tree (tests)", "DIR"},
    {"no-journal-log", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &arg_no_journal_log,
     "Log to stderr only (tests)", NULL},
    {NULL},
};

static gboolean
parse_options(int *argc, char ***argv, GError **error)
{
    g_autoptr(GOptionContext) ctx = NULL;

    ctx = g_option_context_new("- handle machine checks hitting KVM guests");

    g_option_context_add_main_entries(ctx, option_entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(
            error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT, "unexpected argument '%s'", (*argv)[1]);
        return FALSE;
    }
    if (arg_json && arg_replay == NULL) {
        g_set_error_literal(
            error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT, "--json needs --replay FILE");
        return FALSE;
    }
    if (arg_domain != NULL && arg_replay == NULL) {
        g_set_error_literal(
            error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT, "--domain needs --replay FILE");
        return FALSE;
    }
    if (arg_journal_directory != NULL && arg_journal_file != NULL) {
        g_set_error_literal(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT,
                            "--journal-directory and --journal-file exclude each other");
        return FALSE;
    }
    return TRUE;
}

static int
exit_status_for(const GError *error)
{
    if (error->domain == G_OPTION_ERROR)
        return EXIT_USAGE;
    if (error->domain == MCED_ERROR &&
        (error->code == MCED_ERROR_INVALID_ARGUMENT || error->code == MCED_ERROR_NOT_FOUND ||
         error->code == MCED_ERROR_IO))
        return EXIT_USAGE;
    return EXIT_FAILURE;
}

static McedPolicy *
load_config_and_policy(McedConfig **ret_cfg, GError **error)
{
    g_autoptr(McedPaths) paths = mced_paths_new_from_environment();
    const char *file = arg_config != NULL ? arg_config : paths->config_file;
    g_autoptr(McedConfig) cfg = mced_config_load(file, error);
    g_autoptr(GPtrArray) files = NULL;
    McedPolicy *policy;

    if (cfg == NULL)
        return NULL;
    files = g_ptr_array_new();
    for (guint i = 0; i < cfg->files->len; i++)
        g_ptr_array_add(files, cfg->files->pdata[i]);
    g_ptr_array_add(files, NULL);
    policy = mced_policy_load((const char *const *)files->pdata, error);
    if (policy != NULL && ret_cfg != NULL)
        *ret_cfg = g_steal_pointer(&cfg);
    return policy;
}

/* kvm-mced --check-config: exit 0 and say so, or 2 with file:line:key. */
static gboolean
run_check_config(GError **error)
{
    g_autoptr(McedConfig) cfg = NULL;
    g_autoptr(McedPolicy) policy = load_config_and_policy(&cfg, error);

    if (policy == NULL) {
        (*error)->code = MCED_ERROR_INVALID_ARGUMENT; /* exit 2 */
        return FALSE;
    }
    printf("configuration OK (%u file%s read, %u rule%s, dry-run %s)\n", cfg->files->len,
           cfg->files->len == 1 ? "" : "s", policy->rules->len, policy->rules->len == 1 ? "" : "s",
           policy->dry_run ? "on" : "off");
    return TRUE;
}

/* kvm-mced --explain DOMAIN: the policy for one domain, given the counts
 * in the state directory. */
static gboolean
run_explain(GError **error)
{
    g_autoptr(McedConfig) cfg = NULL;
    g_autoptr(McedPolicy) policy = load_config_and_policy(&cfg, error);
    g_autoptr(McedPaths) paths = mced_paths_new_from_environment();
    g_autoptr(McedStore) store = NULL;
    g_autoptr(McedState) state = NULL;
    g_autofree char *warning = NULL;
    g_autofree char *text = NULL;
    const McedDomainCounters *dc = NULL;
    const GArray *times[_MCED_CLASS_MAX] = { NULL };
    const char *dir;

    if (policy == NULL)
        return FALSE;
    dir = arg_state_directory != NULL ? arg_state_directory
          : paths->state_directory_from_env ? paths->state_directory
                                            : cfg->state_directory;
    store = mced_store_new(dir, cfg->history_max_size);
    state = mced_store_load_readonly(store, &warning, error);
    if (state == NULL)
        return FALSE;
    dc = mced_state_find_domain(state, arg_explain);
    for (int k = 0; dc != NULL && k < _MCED_CLASS_MAX; k++)
        times[k] = dc->times[k];
    text = mced_policy_explain(policy, dc != NULL && dc->name != NULL ? dc->name : arg_explain,
                               dc != NULL ? dc->uuid : NULL, NULL, times,
                               dc != NULL ? dc->last_action_us : 0, g_get_real_time());
    fputs(text, stdout);
    return TRUE;
}

static gboolean
run_daemon(GError **error)
{
    McedDaemonOptions opts = {
        .config_file = arg_config,
        .state_directory = arg_state_directory,
        .journal_directory = arg_journal_directory,
        .journal_file = arg_journal_file,
        .procfs_root = arg_procfs_root,
        .kmsg_path = arg_kmsg,
        .libvirt_uri = arg_libvirt_uri,
        .hooks_directory = arg_hooks_directory,
        .qemu_log_directory = arg_qemu_log_directory,
        .bus_address = arg_bus_address,
        .no_journal_log = arg_no_journal_log,
    };
    g_autoptr(McedDaemon) daemon = mced_daemon_new(&opts, error);

    if (daemon == NULL)
        return FALSE;
    return mced_daemon_run(daemon, error);
}

static gboolean
run(int *argc, char ***argv, GError **error)
{
    McedReplayOptions opts;

    if (!parse_options(argc, argv, error))
        return FALSE;
    if (arg_version) {
        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return TRUE;
    }
    if (arg_check_config)
        return run_check_config(error);
    if (arg_explain != NULL)
        return run_explain(error);
    if (arg_replay != NULL) {
        opts = (McedReplayOptions){
            .path = arg_replay,
            .output = arg_json ? MCED_REPLAY_OUTPUT_JSON : MCED_REPLAY_OUTPUT_TABLE,
            .domain = arg_domain,
        };
        return mced_replay_run(&opts, error);
    }
    return run_daemon(error);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int status = EXIT_SUCCESS;

    setlocale(LC_ALL, "");
    if (!run(&argc, &argv, &error)) {
        fprintf(stderr, "kvm-mced: %s\n", error->message);
        status = exit_status_for(error);
    }
    g_clear_pointer(&arg_replay, g_free);
    g_clear_pointer(&arg_domain, g_free);
    g_clear_pointer(&arg_config, g_free);
    g_clear_pointer(&arg_state_directory, g_free);
    g_clear_pointer(&arg_journal_directory, g_free);
    g_clear_pointer(&arg_journal_file, g_free);
    g_clear_pointer(&arg_procfs_root, g_free);
    g_clear_pointer(&arg_kmsg, g_free);
    g_clear_pointer(&arg_libvirt_uri, g_free);
    g_clear_pointer(&arg_hooks_directory, g_free);
    g_clear_pointer(&arg_explain, g_free);
    g_clear_pointer(&arg_qemu_log_directory, g_free);
    g_clear_pointer(&arg_bus_address, g_free);
    return status;
}
