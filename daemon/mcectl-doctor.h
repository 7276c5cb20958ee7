/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kvm-mcectl doctor: the host checks (see mcectl-doctor.c). */
#pragma once

#include <glib.h>
#include <systemd/sd-bus.h>

G_BEGIN_DECLS

typedef struct {
    sd_bus *bus;                 /* connected to the daemon's bus, or NULL */
    const char *state_directory; /* NULL: /var/lib/kvm-mced */
    const char *procfs_root;     /* NULL: /proc */
    const char *kvm_device;      /* NULL: /dev/kvm */
    const char *libvirt_uri;     /* NULL: qemu:///system, opened read-only */
    gboolean json;
} McectlDoctorOptions;

/* What a domain's XML says about FWNMI (QEMU's spapr cap-fwnmi). */
typedef enum {
    MCECTL_FWNMI_ON,
    MCECTL_FWNMI_OFF,
    MCECTL_FWNMI_UNKNOWN,     /* pseries, but nothing tells which way */
    MCECTL_FWNMI_NOT_PSERIES, /* ppc64 with another machine (powernv, ...) */
    MCECTL_FWNMI_NOT_PPC,     /* not ppc64/ppc64le: FWNMI does not apply */
    MCECTL_FWNMI_ERROR,       /* the XML cannot be read */
    _MCECTL_FWNMI_MAX,
} McectlFwnmi;

/* Larger domain XML is refused (MCECTL_FWNMI_ERROR) without parsing it. */
#define MCECTL_DOCTOR_MAX_DOMAIN_XML (4 * 1024 * 1024)

/*
 * Classifies one domain from its XML (virDomainGetXMLDesc): the <os><type>
 * arch and machine, and any cap-fwnmi set in <qemu:commandline> or
 * <qemu:override>. @ret_machine (the machine type, or NULL) and @ret_why (a
 * short explanation, always set) may be NULL; free both with g_free().
 * Never fails: unreadable XML is MCECTL_FWNMI_ERROR with the reason in
 * @ret_why.
 */
McectlFwnmi mcectl_fwnmi_from_domain_xml(const char *xml, char **ret_machine, char **ret_why);

/* Runs every check and prints the findings: 0 when none failed, else 1. */
int mcectl_doctor(const McectlDoctorOptions *opts);

G_END_DECLS
