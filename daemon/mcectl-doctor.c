/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvm-mcectl doctor: checks the host the way an operator would before
 * trusting kvm-mced with it. Each finding is ok, warn, fail or info, with a
 * fix for every problem; printed as a table or as one JSON array.
 *
 * libvirt is only ever opened read-only, and only to list domains and read
 * their XML: doctor changes nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "mced-bus.h"
#include "mced-json.h"
#include "mced-kvm-uapi.h"
#include "mced-domain-xml.h"
#include "mcectl-doctor.h"

typedef enum { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_INFO } CheckLevel;

static const char *const level_names[] = { "ok", "warn", "fail", "info" };

typedef struct {
    json_object *list;
    guint failed, warned;
} Doctor;

static void
finding(Doctor *doc, const char *check, CheckLevel level, const char *hint, const char *fmt, ...)
    G_GNUC_PRINTF(5, 6);

static void
finding(Doctor *doc, const char *check, CheckLevel level, const char *hint, const char *fmt, ...)
{
    g_autofree char *text = NULL;
    json_object *o = json_object_new_object();
    va_list ap;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    json_object_object_add(o, "check", json_object_new_string(check));
    json_object_object_add(o, "result", json_object_new_string(level_names[level]));
    json_object_object_add(o, "detail", json_object_new_string(text));
    json_object_object_add(o, "fix", level == CHECK_OK || level == CHECK_INFO || hint == NULL
                                         ? NULL
                                         : json_object_new_string(hint));
    json_object_array_add(doc->list, o);
    if (level == CHECK_FAIL)
        doc->failed++;
    else if (level == CHECK_WARN)
        doc->warned++;
}

static void
check_kvm(Doctor *doc, const char *dev)
{
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    int api, r;

    if (fd < 0) {
        finding(doc, "kvm", CHECK_FAIL,
                "load the KVM module (modprobe kvm_intel, kvm_amd or kvm_hv) or enable "
                "virtualization in the firmware",
                "cannot open %s: %s", dev, g_strerror(errno));
        return;
    }
    api = ioctl(fd, _IO(KVMIO, 0x00), 0); /* KVM_GET_API_VERSION */
    finding(doc, "kvm", api == 12 ? CHECK_OK : CHECK_FAIL, "a kernel with KVM API version 12",
            "%s opens, KVM API version %d", dev, api);
#if defined(__powerpc64__)
    r = ioctl(fd, _IO(KVMIO, 0x03), KVM_CAP_PPC_FWNMI); /* KVM_CHECK_EXTENSION */
    finding(doc, "kvm-fwnmi", r > 0 ? CHECK_OK : CHECK_FAIL,
            "a host kernel with KVM_CAP_PPC_FWNMI (Linux 5.2+, KVM-HV) so that guests get "
            "their machine checks through FWNMI",
            "KVM_CAP_PPC_FWNMI is %s", r > 0 ? "available" : "not available");
#elif defined(__x86_64__) || defined(__i386__)
    r = ioctl(fd, _IO(KVMIO, 0x03), KVM_CAP_MCE); /* KVM_CHECK_EXTENSION */
    finding(doc, "kvm-mce", r > 0 ? CHECK_OK : CHECK_FAIL,
            "a host kernel with KVM_CAP_MCE, so that QEMU can inject machine checks",
            "KVM_CAP_MCE: %d MCE banks", r > 0 ? r : 0);
#else
    r = 0;
    finding(doc, "kvm-mce", CHECK_INFO, NULL, "no machine-check capability to check on this "
            "architecture (%d)", r);
#endif
    close(fd);
}

static void
check_sysctl(Doctor *doc, const char *procfs, const char *name, const char *want,
             CheckLevel otherwise, const char *hint)
{
    g_autofree char *path = g_strdup_printf("%s/sys/vm/%s", procfs, name);
    g_autofree char *value = NULL;
    g_autoptr(GError) error = NULL;

    if (!g_file_get_contents(path, &value, NULL, &error)) {
        finding(doc, name, CHECK_INFO, NULL, "%s cannot be read (%s): not on this kernel", path,
                error->message);
        return;
    }
    g_strstrip(value);
    finding(doc, name, strcmp(value, want) == 0 ? CHECK_OK : otherwise, hint, "vm.%s = %s", name,
            value);
}

static void
check_journal(Doctor *doc)
{
    sd_journal *j = NULL;
    int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);

    if (r < 0) {
        finding(doc, "journal", CHECK_FAIL, "run as root, or in group systemd-journal",
                "cannot open the system journal: %s", g_strerror(-r));
        return;
    }
    r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
    if (r >= 0)
        r = sd_journal_seek_tail(j);
    if (r >= 0)
        r = sd_journal_previous(j);
    if (r > 0)
        finding(doc, "journal", CHECK_OK, NULL, "the system journal has kernel messages");
    else
        finding(doc, "journal", CHECK_WARN,
                "check that systemd-journald reads the kernel log (ReadKMsg=yes) and that "
                "this user may read the system journal (root or group systemd-journal); "
                "without a journal kvm-mced reads /dev/kmsg",
                "no kernel messages in the system journal%s%s", r < 0 ? ": " : "",
                r < 0 ? g_strerror(-r) : "");
    sd_journal_close(j);
}

static void
check_state_directory(Doctor *doc, const char *dir)
{
    if (access(dir, W_OK | X_OK) == 0)
        finding(doc, "state-directory", CHECK_OK, NULL, "%s is writable", dir);
    else
        finding(doc, "state-directory", errno == ENOENT ? CHECK_WARN : CHECK_FAIL,
                "systemd creates it for the service (StateDirectory=kvm-mced); otherwise "
                "create it, owned by root, mode 0700",
                "%s is not writable: %s", dir, g_strerror(errno));
}

/* ---- libvirt and its guests ----------------------------------------------- */

/* libvirt prints every error on stderr by default; doctor reports them. */
static void
quiet_errors(void *opaque, virErrorPtr error)
{
}

static int
compare_domain_names(const void *a, const void *b)
{
    return strcmp(virDomainGetName(*(virDomainPtr const *)a),
                  virDomainGetName(*(virDomainPtr const *)b));
}

/* The fix for a connection that failed with the last libvirt error. */
static const char *
libvirt_fix(void)
{
    virErrorPtr e = virGetLastError();

    if (e != NULL
        && ((e->code == VIR_ERR_SYSTEM_ERROR && (e->int1 == EACCES || e->int1 == EPERM))
            || e->code == VIR_ERR_AUTH_FAILED || e->code == VIR_ERR_AUTH_CANCELLED
            || e->code == VIR_ERR_AUTH_UNAVAILABLE || e->code == VIR_ERR_OPERATION_DENIED))
        return "this user may not use libvirt's read-only socket: run as root, or check "
               "unix_sock_ro_perms in libvirtd.conf or virtqemud.conf and the polkit rules";
    return "systemctl start libvirtd (or virtqemud.socket on a host with modular daemons), "
           "and check --libvirt-uri";
}

static void
check_fwnmi(Doctor *doc, virDomainPtr dom)
{
    const char *name = virDomainGetName(dom);
    g_autofree char *check = g_strdup_printf("fwnmi:%s", name);
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autofree char *why = NULL;
    McedFwnmi r;

    if (xml == NULL) {
        finding(doc, check, CHECK_WARN, "check that libvirt can read the domain (virsh dumpxml)",
                "cannot read the domain XML: %s", virGetLastErrorMessage());
        return;
    }
    r = mced_domain_xml_fwnmi(xml, NULL, &why);
    switch (r) {
    case MCED_FWNMI_ON:
        finding(doc, check, CHECK_OK, NULL, "FWNMI on: %s", why);
        break;
    case MCED_FWNMI_OFF:
        finding(doc, check, CHECK_FAIL,
                "give the guest machine type pseries-5.0 or newer and take out any "
                "cap-fwnmi=off (the new machine type takes effect when the guest restarts); "
                "without FWNMI a machine check enters the guest at its 0x200 vector, not "
                "through its FWNMI handler, and the guest usually goes down",
                "FWNMI off: %s", why);
        break;
    case MCED_FWNMI_UNKNOWN:
        finding(doc, check, CHECK_WARN,
                "set it explicitly with the <qemu:commandline> arguments '-machine' "
                "'cap-fwnmi=on' (QEMU refuses to start the guest if the host's KVM lacks "
                "FWNMI), or move the guest to an upstream pseries-5.0 or newer machine type",
                "FWNMI unknown: %s", why);
        break;
    case MCED_FWNMI_NOT_PSERIES:
        finding(doc, check, CHECK_INFO, NULL, "%s", why);
        break;
    case MCED_FWNMI_NOT_PPC:
        break;
    case MCED_FWNMI_ERROR:
        finding(doc, check, CHECK_WARN,
                "look at the domain's XML with virsh dumpxml; doctor could not read it",
                "%s", why);
        break;
    case _MCED_FWNMI_MAX:
        g_return_if_reached();
    }
}

/* "libvirt", then one "fwnmi:NAME" per ppc64 domain (or one "fwnmi"). */
static void
check_libvirt(Doctor *doc, const char *uri)
{
    virConnectPtr conn;
    virDomainPtr *doms = NULL;
    int n;
    guint before, running = 0;

    virSetErrorFunc(NULL, quiet_errors);
    conn = virConnectOpenReadOnly(uri);
    if (conn == NULL) {
        finding(doc, "libvirt", CHECK_FAIL, libvirt_fix(), "cannot connect to %s: %s", uri,
                virGetLastErrorMessage());
        finding(doc, "fwnmi", CHECK_INFO, NULL, "guests not checked: no libvirt connection");
        return;
    }
    n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0) {
        finding(doc, "libvirt", CHECK_FAIL, libvirt_fix(), "%s: cannot list the domains: %s",
                uri, virGetLastErrorMessage());
        finding(doc, "fwnmi", CHECK_INFO, NULL, "guests not checked: cannot list them");
        virConnectClose(conn);
        return;
    }
    for (int i = 0; i < n; i++)
        running += virDomainIsActive(doms[i]) == 1;
    finding(doc, "libvirt", CHECK_OK, NULL, "%s: %d domain%s, %u running (read-only)", uri, n,
            n == 1 ? "" : "s", running);

    qsort(doms, (size_t)n, sizeof(*doms), compare_domain_names);
    before = json_object_array_length(doc->list);
    for (int i = 0; i < n; i++)
        check_fwnmi(doc, doms[i]);
    if (json_object_array_length(doc->list) == before)
        finding(doc, "fwnmi", CHECK_INFO, NULL, "no ppc64 domains: FWNMI does not apply");
    for (int i = 0; i < n; i++)
        virDomainFree(doms[i]);
    free(doms);
    virConnectClose(conn);
}
static void
check_daemon(Doctor *doc, sd_bus *bus)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    g_autofree char *health = NULL;

    if (bus != NULL
        && sd_bus_get_property_string(bus, MCED_BUS_NAME, MCED_BUS_PATH, MCED_BUS_INTERFACE,
                                      "Health", &error, &health) >= 0)
        finding(doc, "daemon", CHECK_OK, NULL, "kvm-mced answers on D-Bus, host health %s",
                health);
    else
        finding(doc, "daemon", CHECK_WARN, "systemctl enable --now kvm-mced",
                "kvm-mced does not answer on D-Bus%s%s", error.message != NULL ? ": " : "",
                error.message != NULL ? error.message : "");
    sd_bus_error_free(&error);
}

int
mcectl_doctor(const McectlDoctorOptions *opts)
{
    Doctor doc = { .list = json_object_new_array() };
    const char *procfs = opts->procfs_root != NULL ? opts->procfs_root : "/proc";
    g_autoptr(json_object) list = NULL;

    check_kvm(&doc, opts->kvm_device != NULL ? opts->kvm_device : "/dev/kvm");
    check_sysctl(&doc, procfs, "memory_failure_recovery", "1", CHECK_FAIL,
                 "sysctl -w vm.memory_failure_recovery=1: without it a memory error panics "
                 "the host instead of reaching the guest");
    check_sysctl(&doc, procfs, "memory_failure_early_kill", "1", CHECK_INFO, NULL);
    check_journal(&doc);
    check_state_directory(&doc, opts->state_directory != NULL ? opts->state_directory
                                                              : "/var/lib/kvm-mced");
    check_libvirt(&doc, opts->libvirt_uri != NULL ? opts->libvirt_uri : "qemu:///system");
    check_daemon(&doc, opts->bus);
    list = doc.list;
    if (opts->json) {
        puts(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PRETTY
                                                      | JSON_C_TO_STRING_SPACED
                                                      | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *o = json_object_array_get_idx(list, i);
            json_object *v;

#define S(k) (json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : NULL)
            printf("%-4s  %-26s  %s\n", S("result"), S("check"), S("detail"));
            if (S("fix") != NULL)
                printf("      %-26s  fix: %s\n", "", S("fix"));
#undef S
        }
        printf("%u failed, %u warnings\n", doc.failed, doc.warned);
    }
    return doc.failed > 0 ? 1 : 0;
}
