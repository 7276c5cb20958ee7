/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libvirt: the domains of this host, QEMU's events about them, and where
 * kvm-mced writes each domain's health.
 *
 * libvirt's event loop is the daemon's GLib main loop (libvirt-glib). The
 * connection is opened in a worker thread; once up it has a keepalive and
 * a close callback, and when it is lost it is opened again with a doubling
 * wait (capped), every callback registered again and the domain list read
 * again. Raw QMP events are taken through libvirt-qemu for the configured
 * names where the driver passes them through; otherwise (the test:///
 * driver, a read-only connection) libvirt's own lifecycle, reboot and
 * memory-failure events stand in, so one underlying event is seen once.
 * Calls that can block run in worker threads and hand their result back
 * to the main loop: metadata writes (they take a domain job), and every
 * read of a domain's state, persistence or metadata (libvirtd holds the
 * domain's lock while it runs its hooks, and kvm-mced's own hook waits
 * for the daemon). Events update the domain table with what they carry.
 */
#pragma once

#include <glib.h>

#include "mced-observation.h"

G_BEGIN_DECLS

/* The namespace of the health element kvm-mced writes into a domain's
 * <metadata>, and the one reserved for per-domain policy (written by
 * operators, only read by kvm-mced). docs/libvirt-metadata.md. */
#define MCED_METADATA_HEALTH_NS  "https://kvm-mced.org/xmlns/health/1"
#define MCED_METADATA_POLICY_NS  "https://kvm-mced.org/xmlns/policy/1"
#define MCED_METADATA_KEY        "mced"

typedef struct {
    char *name;
    char *uuid;   /* lower case */
    int id;       /* -1 when not running */
    int state;    /* virDomainState */
    gboolean persistent;
    char *policy_xml; /* the domain's own policy element (MCED_METADATA_POLICY_NS), or NULL */
} McedDomainInfo;

typedef struct {
    /* A domain appeared, started, changed, or was read at a resync. */
    void (*domain_changed)(const McedDomainInfo *dom, gpointer user_data);
    /* A domain went away (undefined, or stopped and transient). */
    void (*domain_removed)(const char *name, const char *uuid, gpointer user_data);
    /* QEMU said something about a domain (transfer full: frozen, kind QMP). */
    void (*observation)(McedObservation *obs, const McedDomainInfo *dom, gpointer user_data);
    /* A live migration of @dom made another pass over its dirty memory. */
    void (*migration_pass)(const McedDomainInfo *dom, int iteration, gpointer user_data);
    /* The connection came up (@detail: the URI) or was lost (@detail: why). */
    void (*connection)(gboolean up, const char *detail, gpointer user_data);
} McedLibvirtCallbacks;

typedef struct McedLibvirt McedLibvirt;

/* Call once, before the first connection: libvirt's events on GLib. */
void mced_libvirt_init_event_loop(void);

McedLibvirt *mced_libvirt_new(const char *uri, const char *const *qmp_events,
                              gint64 reconnect_max_us, const McedLibvirtCallbacks *callbacks,
                              gpointer user_data);
void mced_libvirt_free(McedLibvirt *lv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedLibvirt, mced_libvirt_free)

/* Starts connecting (asynchronously); reconnects on its own afterwards. */
void mced_libvirt_start(McedLibvirt *lv);
gboolean mced_libvirt_is_connected(const McedLibvirt *lv);
/* Whether raw QMP events are being received (FALSE: typed events stand in). */
gboolean mced_libvirt_has_qmp(const McedLibvirt *lv);
/* Known domains (borrowed), by UUID. */
GHashTable *mced_libvirt_get_domains(const McedLibvirt *lv);
const McedDomainInfo *mced_libvirt_lookup_name(const McedLibvirt *lv, const char *name);
const McedDomainInfo *mced_libvirt_lookup_uuid(const McedLibvirt *lv, const char *uuid);

/* Write @xml (an element in MCED_METADATA_HEALTH_NS) as the domain's
 * health, in a worker thread; nothing is written when it is the same as
 * the last write for that domain. @done (may be NULL) runs on the main
 * loop with the outcome. */
typedef void (*McedMetadataDone)(const char *uuid, const GError *error, gpointer user_data);
void mced_libvirt_set_health(McedLibvirt *lv, const char *uuid, const char *xml,
                             McedMetadataDone done, gpointer user_data);

/* Operations on a domain, each run in a worker thread with a timeout. */
typedef enum {
    MCED_DOMAIN_OP_PAUSE,
    MCED_DOMAIN_OP_RESET,
    MCED_DOMAIN_OP_REBOOT,
    MCED_DOMAIN_OP_DESTROY,
    MCED_DOMAIN_OP_RESTART, /* destroy, then start again: a cold boot */
    MCED_DOMAIN_OP_NMI,
    MCED_DOMAIN_OP_DUMP,    /* memory-only dump into a file, the domain goes on */
    MCED_DOMAIN_OP_MIGRATE, /* live, peer to peer, persistent there, undefined here */
    _MCED_DOMAIN_OP_MAX,
} McedDomainOp;

const char *mced_domain_op_to_string(McedDomainOp op);

typedef struct {
    McedDomainOp op;
    const char *uuid;
    gint64 timeout_us;
    const char *dump_path;          /* DUMP */
    const char *const *peers;       /* MIGRATE: destination libvirt URIs, tried in order */
    const char *migrate_uri;        /* MIGRATE: optional VIR_MIGRATE_PARAM_URI (tcp://host) */
    const char *listen_address;     /* MIGRATE: optional VIR_MIGRATE_PARAM_LISTEN_ADDRESS */
} McedDomainOpRequest;

/* @detail says what was done ("migrated to URI") or why it failed; a
 * timeout is MCED_ERROR_FAILED with "timed out" (a migration's job is
 * aborted then, and libvirt leaves the domain running here). */
typedef void (*McedDomainOpDone)(const McedDomainOpRequest *req, const GError *error,
                                 const char *detail, gpointer user_data);

/* FALSE (and @error) when it cannot even start: not connected. */
gboolean mced_libvirt_run_op(McedLibvirt *lv, const McedDomainOpRequest *req,
                             McedDomainOpDone done, gpointer user_data, GError **error);

G_END_DECLS
