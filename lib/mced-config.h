/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration: /etc/kvm-mced/kvm-mced.conf, then /etc/kvm-mced/conf.d/
 * *.conf in lexical order, each overriding keys of the ones before. GKeyFile
 * syntax. Every key is known and validated: an unknown group or key, or a
 * bad value, is an error that names the file, the line and the key
 * ("kvm-mced.conf:12: [daemon] correlation-window: bad duration 'soon'").
 * A missing main file means all defaults.
 *
 * Keys of this module ([policy], [policy.*] and [rule NAME] groups are
 * skipped here and read by mced_policy_load(), see mced-policy.h):
 *   [daemon]
 *   correlation-window = 5s       duration: 100ms .. 1h
 *   record-timeout = 500ms        duration: 10ms .. 60s   (assembler idle timeout)
 *   state-directory = /var/lib/kvm-mced    absolute path
 *   history-max-size = 8M         size: 64K .. 1G
 *   [sources]
 *   journal = auto                auto | yes | no
 *   kmsg = auto                   auto | yes | no  (auto: only when no journal is readable)
 *   [libvirt]
 *   enabled = auto                auto | yes | no  (auto: connect, keep retrying if away)
 *   uri = qemu:///system          a libvirt URI
 *   qmp-events = GUEST_PANICKED;GUEST_CRASHLOADED;MEMORY_FAILURE;RESET
 *   qemu-log-directory = /var/log/libvirt/qemu   absolute path
 *   reconnect-max = 30s           duration: 1s .. 10m  (longest wait between attempts)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    MCED_TRISTATE_AUTO,
    MCED_TRISTATE_YES,
    MCED_TRISTATE_NO,
} McedTristate;

typedef struct {
    gint64 correlation_window_us;
    gint64 record_timeout_us;
    char *state_directory;
    guint64 history_max_size;
    McedTristate journal;
    McedTristate kmsg;
    McedTristate libvirt;
    char *libvirt_uri;
    GStrv qmp_events;        /* QMP event names to subscribe to */
    char *qemu_log_directory;
    gint64 reconnect_max_us;
    GPtrArray *files; /* char*: files read, in order */
} McedConfig;

McedConfig *mced_config_new_default(void);
void mced_config_free(McedConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedConfig, mced_config_free)

/* Load @main_file (may be missing) and the .conf files of conf.d/ beside it.
 * Returns NULL with an error naming file:line:key on the first problem. */
McedConfig *mced_config_load(const char *main_file, GError **error);

/* "500ms", "5s", "2m", "1h", "24h", "7d"; a bare number is seconds. */
gboolean mced_parse_duration(const char *s, gint64 *ret_us);
/* The other way: "500ms", "5s", "24h", "7d" (the largest exact unit). */
char *mced_format_duration(gint64 us);
/* "65536", "64K", "8M", "1G" (powers of 1024). */
gboolean mced_parse_size(const char *s, guint64 *ret);

G_END_DECLS
