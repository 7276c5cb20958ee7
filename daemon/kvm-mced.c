/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "mced-daemon.h"
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
static char *arg_qemu_log_directory;
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
     "Configuration file (default /etc/kvm-mced/kvm-mced.conf, drop-ins in conf.d/ beside it)",
     "FILE"},
    {"state-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_state_directory,
     "Where state and history are kept (default $STATE_DIRECTORY or /var/lib/kvm-mced)", "DIR"},
    {"journal-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_journal_directory,
     "Follow the journal files in DIR instead of the system journal", "DIR"},
    {"journal-file", 0, 0, G_OPTION_ARG_FILENAME, &arg_journal_file,
     "Follow one journal file instead of the system journal", "FILE"},
    {"kmsg", 0, 0, G_OPTION_ARG_FILENAME, &arg_kmsg,
     "Read kernel records from PATH (default /dev/kmsg when the host has no journal)", "PATH"},
    {"libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &arg_libvirt_uri,
     "Connect to this libvirt URI (default from the configuration: qemu:///system)", "URI"},
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
        .qemu_log_directory = arg_qemu_log_directory,
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
    g_clear_pointer(&arg_qemu_log_directory, g_free);
    return status;
}
