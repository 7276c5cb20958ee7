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

/* Runs every check and prints the findings: 0 when none failed, else 1. */
int mcectl_doctor(const McectlDoctorOptions *opts);

G_END_DECLS
