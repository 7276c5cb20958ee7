/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The D-Bus API (sd-bus, on the GLib main loop): one manager object.
 *
 *   bus name   org.kvm_mced.Manager1
 *   object     /org/kvm_mced/Manager1
 *   interface  org.kvm_mced.Manager1
 *
 * Reading (properties, List/Get/Explain) is open to every local user;
 * anything that changes state (Reload, Acknowledge, Drill, NoteDomainEvent)
 * is for root only, checked on the caller's credentials as well as by the
 * bus policy file. docs/dbus.md is the reference.
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "mced-incident.h"

G_BEGIN_DECLS

#define MCED_BUS_NAME      "org.kvm_mced.Manager1"
#define MCED_BUS_PATH      "/org/kvm_mced/Manager1"
#define MCED_BUS_INTERFACE "org.kvm_mced.Manager1"

/* D-Bus error names (documented in docs/dbus.md). */
#define MCED_BUS_ERROR_NOT_FOUND     "org.kvm_mced.Manager1.Error.NotFound"
#define MCED_BUS_ERROR_INVALID       "org.kvm_mced.Manager1.Error.InvalidArgument"
#define MCED_BUS_ERROR_RELOAD_FAILED "org.kvm_mced.Manager1.Error.ReloadFailed"

#define MCED_BUS_MAX_LISTED 1000 /* incidents in one ListIncidents reply, newest kept */

typedef struct {
    const char *health;         /* "ok" | "degraded" */
    guint open_incidents;
    guint domains_affected;     /* domains with incident counters in the state */
    gboolean dry_run;
    const char *source;         /* what is followed */
    const char *source_state;   /* "live" | "catching-up" | "degraded" */
} McedBusStatus;

/* What the daemon answers with. The bus owns nothing it is given here. */
typedef struct {
    void (*status)(gpointer user_data, McedBusStatus *ret);
    /* Every incident the daemon knows, oldest first, as JSON objects
     * without observations (a new array; the bus unrefs it). */
    json_object *(*incidents)(gpointer user_data);
    /* One incident with its observations and actions, or NULL. */
    json_object *(*incident)(gpointer user_data, const char *id);
    char *(*explain)(gpointer user_data, const char *domain);
    /* Domains with counters: JSON objects (name, uuid, health, last_us,
     * corrected, guest, fatal), a new array. */
    json_object *(*domains)(gpointer user_data);
    /* Reset the counters and health metadata of a domain (name or UUID),
     * or of the domain of incident @what ("i-..."). FALSE: not found. */
    gboolean (*acknowledge)(gpointer user_data, const char *what, char **ret_domain);
    gboolean (*reload)(gpointer user_data, GError **error);
    /* Open a drill: a synthetic incident of class @klass for @domain (name
     * or UUID; NULL for a host drill); @who says who asked. Returns its
     * id, or NULL and @error (MCED_ERROR_NOT_FOUND: no such domain). */
    char *(*drill)(gpointer user_data, const char *domain, McedIncidentClass klass,
                   const char *who, GError **error);
    /* libvirt's hook saw @operation (@sub_operation) on a domain (@uuid
     * lower or upper case, or NULL). */
    void (*domain_event)(gpointer user_data, const char *name, const char *uuid,
                         const char *operation, const char *sub_operation);
    /* The bus connection was lost (@detail: why; it is tried again with a
     * doubling wait, up to 30 s) or is back (@detail: the address). */
    void (*connection)(gpointer user_data, gboolean up, const char *detail);
} McedBusHandlers;

typedef struct McedBus McedBus;

/* Connects to @address ("system" or NULL: the system bus, honouring
 * DBUS_SYSTEM_BUS_ADDRESS), exports the manager and requests the name.
 * When that fails, @error says why and the bus returned keeps trying (as
 * after a lost connection); the connection handler says when it is up. */
McedBus *mced_bus_new(const char *address, const McedBusHandlers *handlers, gpointer user_data,
                      GError **error);
void mced_bus_free(McedBus *bus);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(McedBus, mced_bus_free)

/* IncidentChanged(s id, s event, s domain, s class, b synthetic) and
 * PropertiesChanged. */
void mced_bus_incident_changed(McedBus *bus, McedIncidentEvent event, const McedIncident *inc);
/* ActionChanged(s incident, s domain, s action, s result, s detail,
 * b synthetic). */
void mced_bus_action_changed(McedBus *bus, const char *incident_id, gboolean synthetic,
                             const char *domain, const char *action, const char *result,
                             const char *detail);
/* PropertiesChanged for the status properties. */
void mced_bus_status_changed(McedBus *bus);

G_END_DECLS
