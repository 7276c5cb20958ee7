/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kvm-mcectl: ask the running kvm-mced over its D-Bus API.
 *
 * Exit status: 0 done; 1 the daemon refused or failed; 2 usage; 3 the
 * daemon cannot be reached; 4 no such incident.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <glib.h>

#include "mced-bus.h"
#include "mced-domain-xml.h"
#include "mced-json.h"
#include "mcectl-doctor.h"

enum {
    EXIT_OK = 0,
    EXIT_REFUSED = 1,
    EXIT_USAGE = 2,
    EXIT_UNREACHABLE = 3,
    EXIT_NOT_FOUND = 4,
};

static gboolean arg_json;
static char *arg_bus_address;
static char *arg_domain;
static char *arg_class;
static char *arg_since;
static char *arg_ack_domain; /* ack --domain=D */
static char *arg_drill_domain; /* drill --domain=D */
static char *arg_drill_class;  /* drill --class=C */
static char *arg_state_directory; /* doctor */
static char *arg_procfs_root;     /* doctor */
static char *arg_kvm_device;      /* doctor */
static char *arg_libvirt_uri;     /* doctor */

static const char usage_text[] =
    "Usage: kvm-mcectl [--json] [--bus-address=ADDRESS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status                      host health, open incidents, source, version\n"
    "  incidents [--domain=D] [--class=C] [--since=T]\n"
    "                              incidents, oldest first (T: 2h, 30m, 7d or an ISO 8601 time)\n"
    "  show ID                     one incident with its observations and actions\n"
    "  domains                     domains that had incidents, with their health and counts\n"
    "  policy explain DOMAIN       which rules apply to DOMAIN and what each class would do\n"
    "  ack ID | ack --domain=D     reset the counters and health of a domain (root)\n"
    "  drill --domain=D --class=C  rehearse: a synthetic incident of class C for domain D,\n"
    "                              handled as a real one but with dry-run actions (root)\n"
    "  reload                      re-read the configuration (root)\n"
    "  doctor [--state-directory=DIR] [--procfs-root=DIR] [--kvm-device=PATH]\n"
    "         [--libvirt-uri=URI]\n"
    "                              check the host: KVM and its MCE/FWNMI capability, memory\n"
    "                              failure sysctls, the journal, the state directory, libvirt\n"
    "                              (read-only, default qemu:///system), FWNMI in each ppc64\n"
    "                              guest, the daemon\n"
    "\n"
    "Options:\n"
    "  --json                      one JSON document on stdout, for scripts\n"
    "  --bus-address=ADDRESS       talk to the daemon on this bus (default: the system bus)\n"
    "\n"
    "Exit status: 0 done, 1 refused or failed, 2 usage, 3 daemon not reachable, 4 not found.\n";

static int
usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "kvm-mcectl: %s\nTry 'kvm-mcectl --help'.\n", msg);
    return EXIT_USAGE;
}

/* @quiet: no message when it fails (doctor reports it its own way). */
static int
open_bus(sd_bus **ret, gboolean quiet)
{
    int r;

    if (arg_bus_address == NULL) {
        r = sd_bus_open_system(ret);
    } else {
        r = sd_bus_new(ret);
        if (r >= 0)
            r = sd_bus_set_address(*ret, arg_bus_address);
        if (r >= 0)
            r = sd_bus_set_bus_client(*ret, 1);
        if (r >= 0)
            r = sd_bus_start(*ret);
    }
    if (r < 0 && quiet) {
        *ret = sd_bus_flush_close_unref(*ret);
        return EXIT_UNREACHABLE;
    }
    if (r < 0) {
        fprintf(stderr, "kvm-mcectl: cannot connect to the %s bus: %s\n",
                arg_bus_address != NULL ? arg_bus_address : "system", g_strerror(-r));
        return EXIT_UNREACHABLE;
    }
    return EXIT_OK;
}

/* Maps a failed call to a message and an exit status. */
static int
call_failed(const char *what, const sd_bus_error *error, int r)
{
    const char *name = error != NULL && error->name != NULL ? error->name : "";
    const char *msg = error != NULL && error->message != NULL ? error->message : g_strerror(-r);

    if (strcmp(name, SD_BUS_ERROR_ACCESS_DENIED) == 0) {
        fprintf(stderr, "kvm-mcectl: %s: access denied, this needs root (%s)\n", what, msg);
        return EXIT_REFUSED;
    }
    fprintf(stderr, "kvm-mcectl: %s: %s\n", what, msg);
    if (strcmp(name, SD_BUS_ERROR_SERVICE_UNKNOWN) == 0 || strcmp(name, SD_BUS_ERROR_NO_REPLY) == 0
        || strcmp(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) == 0) {
        fprintf(stderr, "kvm-mcectl: is kvm-mced running? (systemctl status kvm-mced)\n");
        return EXIT_UNREACHABLE;
    }
    if (strcmp(name, MCED_BUS_ERROR_NOT_FOUND) == 0)
        return EXIT_NOT_FOUND;
    if (strcmp(name, MCED_BUS_ERROR_INVALID) == 0)
        return EXIT_USAGE;
    return EXIT_REFUSED;
}

/* Calls @member on the manager; on failure reports "@what: ..." and
 * returns the exit status (> 0). */
static int
call(sd_bus *bus, const char *member, const char *what, sd_bus_message **reply,
     const char *types, ...)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    va_list ap;
    int r;

    va_start(ap, types);
    r = sd_bus_call_methodv(bus, MCED_BUS_NAME, MCED_BUS_PATH, MCED_BUS_INTERFACE, member, &error,
                            reply, types, ap);
    va_end(ap);
    if (r >= 0)
        return EXIT_OK;
    r = call_failed(what, &error, r);
    sd_bus_error_free(&error);
    return r;
}

static char *
format_time(guint64 usec)
{
    g_autoptr(GDateTime) t = NULL;

    if (usec == 0)
        return g_strdup("-");
    t = g_date_time_new_from_unix_utc((gint64)(usec / G_USEC_PER_SEC));
    return t != NULL ? g_date_time_format(t, "%Y-%m-%d %H:%M:%S UTC") : g_strdup("-");
}

static void
print_json(json_object *obj)
{
    puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                 | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The end of a listing read into @list (@r: how reading the reply went):
 * a malformed reply, --json, or nothing to show end here with their exit
 * status; -1 when the table is to be printed. */
static int
list_done(int r, json_object *list, const char *empty)
{
    if (r < 0) {
        fprintf(stderr, "kvm-mcectl: malformed reply from the daemon: %s\n", g_strerror(-r));
        return EXIT_REFUSED;
    }
    if (arg_json) {
        print_json(list);
        return EXIT_OK;
    }
    if (json_object_array_length(list) == 0) {
        puts(empty);
        return EXIT_OK;
    }
    return -1;
}

/* ---- status ------------------------------------------------------------------ */

static int
get_string(sd_bus *bus, const char *prop, char **ret, sd_bus_error *error)
{
    return sd_bus_get_property_string(bus, MCED_BUS_NAME, MCED_BUS_PATH, MCED_BUS_INTERFACE, prop,
                                      error, ret);
}

static int
get_basic(sd_bus *bus, const char *prop, char type, void *ret, sd_bus_error *error)
{
    return sd_bus_get_property_trivial(bus, MCED_BUS_NAME, MCED_BUS_PATH, MCED_BUS_INTERFACE,
                                       prop, error, type, ret);
}

static int
cmd_status(sd_bus *bus)
{
    sd_bus_error error = SD_BUS_ERROR_NULL;
    g_autofree char *version = NULL, *health = NULL, *source = NULL, *source_state = NULL;
    uint32_t open = 0, domains = 0;
    int dry_run = 0;
    int r;

    r = get_string(bus, "Version", &version, &error);
    if (r >= 0)
        r = get_string(bus, "Health", &health, &error);
    if (r >= 0)
        r = get_string(bus, "Source", &source, &error);
    if (r >= 0)
        r = get_string(bus, "SourceState", &source_state, &error);
    if (r >= 0)
        r = get_basic(bus, "OpenIncidents", 'u', &open, &error);
    if (r >= 0)
        r = get_basic(bus, "DomainsAffected", 'u', &domains, &error);
    if (r >= 0)
        r = get_basic(bus, "DryRun", 'b', &dry_run, &error);
    if (r < 0) {
        int ret = call_failed("cannot read the daemon's status", &error, r);
        sd_bus_error_free(&error);
        return ret;
    }
    if (arg_json) {
        g_autoptr(json_object) o = json_object_new_object();

        json_object_object_add(o, "version", json_object_new_string(version));
        json_object_object_add(o, "health", json_object_new_string(health));
        json_object_object_add(o, "open_incidents", json_object_new_int64(open));
        json_object_object_add(o, "domains_affected", json_object_new_int64(domains));
        json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
        json_object_object_add(o, "source", json_object_new_string(source));
        json_object_object_add(o, "source_state", json_object_new_string(source_state));
        print_json(o);
    } else {
        printf("Health:           %s\n", health);
        printf("Open incidents:   %u\n", open);
        printf("Domains affected: %u\n", domains);
        printf("Dry run:          %s\n", dry_run ? "yes (decisions are logged, nothing is done)"
                                                  : "no");
        printf("Source:           %s (%s)\n", source, source_state);
        printf("Version:          %s\n", version);
    }
    return EXIT_OK;
}

/* ---- incidents -------------------------------------------------------------- */

static gboolean
parse_since(const char *text, guint64 *ret)
{
    g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(text, NULL);
    char *end = NULL;
    guint64 n;
    gint64 unit;

    if (t != NULL) {
        *ret = (guint64)g_date_time_to_unix(t) * G_USEC_PER_SEC;
        return TRUE;
    }
    if (!g_ascii_isdigit(text[0]))
        return FALSE;
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
    if (errno != 0 || end == text)
        return FALSE;
    if (strcmp(end, "s") == 0)
        unit = G_USEC_PER_SEC;
    else if (strcmp(end, "m") == 0)
        unit = G_GINT64_CONSTANT(60) * G_USEC_PER_SEC;
    else if (strcmp(end, "h") == 0)
        unit = G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC;
    else if (strcmp(end, "d") == 0)
        unit = G_GINT64_CONSTANT(86400) * G_USEC_PER_SEC;
    else
        return FALSE;
    if (n > (guint64)(g_get_real_time() / unit))
        return FALSE;
    *ret = (guint64)(g_get_real_time() - (gint64)n * unit);
    return TRUE;
}

static int
cmd_incidents(sd_bus *bus)
{
    sd_bus_message *reply = NULL;
    g_autoptr(json_object) list = json_object_new_array();
    guint64 since = 0;
    int r;

    if (arg_since != NULL && !parse_since(arg_since, &since))
        return usage_error("--since: '%s' is not a duration (30m, 2h, 7d) or an ISO 8601 time",
                           arg_since);
    r = call(bus, "ListIncidents", "cannot list incidents", &reply, "sst",
             arg_domain != NULL ? arg_domain : "", arg_class != NULL ? arg_class : "",
             (uint64_t)since);
    if (r != EXIT_OK)
        return r;
    r = sd_bus_message_enter_container(reply, 'a', "(sssssttub)");
    while (r > 0) {
        const char *id, *domain, *klass, *state, *severity;
        uint64_t first, last;
        uint32_t n;
        int synthetic;
        json_object *o;

        r = sd_bus_message_read(reply, "(sssssttub)", &id, &domain, &klass, &state, &severity,
                                &first, &last, &n, &synthetic);
        if (r <= 0)
            break;
        o = json_object_new_object();
        json_object_object_add(o, "id", json_object_new_string(id));
        json_object_object_add(o, "domain", *domain != '\0' ? json_object_new_string(domain)
                                                            : NULL);
        json_object_object_add(o, "class", json_object_new_string(klass));
        json_object_object_add(o, "state", json_object_new_string(state));
        json_object_object_add(o, "severity", json_object_new_string(severity));
        json_object_object_add(o, "first_us", json_object_new_int64((int64_t)first));
        json_object_object_add(o, "last_us", json_object_new_int64((int64_t)last));
        json_object_object_add(o, "n_observations", json_object_new_int64(n));
        json_object_object_add(o, "synthetic", json_object_new_boolean(synthetic));
        json_object_array_add(list, o);
    }
    sd_bus_message_unref(reply);
    if ((r = list_done(r, list, "No incidents.")) >= 0)
        return r;
    printf("%-18s  %-20s  %-9s  %-6s  %-9s  %-23s  %s\n", "ID", "DOMAIN", "CLASS", "STATE",
           "SEVERITY", "LAST SEEN", "OBS");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i);
        json_object *v;
        g_autofree char *when = NULL;
        const char *dom;

        json_object_object_get_ex(o, "domain", &v);
        dom = v != NULL ? json_object_get_string(v) : "(host)";
        json_object_object_get_ex(o, "last_us", &v);
        when = format_time((guint64)json_object_get_int64(v));
#define S(k) (json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "")
        printf("%-18s  %-20s  %-9s  %-6s  %-9s  %-23s  %s%s\n", S("id"), dom, S("class"),
               S("state"), S("severity"), when, S("n_observations"),
               json_object_object_get_ex(o, "synthetic", &v) && json_object_get_boolean(v)
                   ? "  (drill)"
                   : "");
#undef S
    }
    return EXIT_OK;
}

/* ---- show -------------------------------------------------------------------- */

static int
cmd_show(sd_bus *bus, const char *id)
{
    sd_bus_message *reply = NULL;
    g_autoptr(json_object) inc = NULL;
    const char *text = NULL;
    json_object *v, *arr;
    int r;

    r = call(bus, "GetIncident", "cannot show the incident", &reply, "s", id);
    if (r != EXIT_OK)
        return r;
    if (sd_bus_message_read(reply, "s", &text) > 0)
        inc = json_tokener_parse(text);
    sd_bus_message_unref(reply);
    if (inc == NULL) {
        fprintf(stderr, "kvm-mcectl: malformed reply from the daemon\n");
        return EXIT_REFUSED;
    }
    if (arg_json) {
        print_json(inc);
        return EXIT_OK;
    }
#define S(k) (json_object_object_get_ex(inc, k, &v) && v != NULL ? json_object_get_string(v) : "-")
    printf("Incident:     %s\n", S("id"));
    printf("Domain:       %s", S("domain"));
    if (json_object_object_get_ex(inc, "domain_uuid", &v) && v != NULL)
        printf(" (%s)", json_object_get_string(v));
    printf("\nClass:        %s\nState:        %s\nSeverity:     %s\nDisposition:  %s\n",
           S("class"), S("state"), S("severity"), S("disposition"));
    printf("Error type:   %s\n", S("error_type"));
    {
        g_autofree char *first = NULL, *last = NULL;

        json_object_object_get_ex(inc, "first_us", &v);
        first = format_time((guint64)json_object_get_int64(v));
        json_object_object_get_ex(inc, "last_us", &v);
        last = format_time((guint64)json_object_get_int64(v));
        printf("First seen:   %s\nLast seen:    %s\n", first, last);
    }
    printf("Host CPUs:    %s\nvCPUs:        %s\nAddresses:    %s\n", S("host_cpus"), S("vcpus"),
           S("addresses"));
    printf("Observations: %s\n", S("n_observations"));
#undef S
    if (json_object_object_get_ex(inc, "observations", &arr)) {
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *o = json_object_array_get_idx(arr, i);
            json_object *kind = NULL, *lines = NULL;

            json_object_object_get_ex(o, "kind", &kind);
            printf("  [%s]\n", kind != NULL ? json_object_get_string(kind) : "?");
            if (json_object_object_get_ex(o, "lines", &lines)
                && json_object_is_type(lines, json_type_array))
                for (size_t k = 0; k < json_object_array_length(lines); k++)
                    printf("    %s\n", json_object_get_string(json_object_array_get_idx(lines, k)));
        }
    }
    if (json_object_object_get_ex(inc, "actions", &arr)) {
        printf("Actions:\n");
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *a = json_object_array_get_idx(arr, i);
            json_object *act = NULL, *res = NULL, *det = NULL, *t = NULL;
            g_autofree char *when = NULL;

            json_object_object_get_ex(a, "action", &act);
            json_object_object_get_ex(a, "result", &res);
            json_object_object_get_ex(a, "detail", &det);
            json_object_object_get_ex(a, "time_us", &t);
            when = format_time((guint64)json_object_get_int64(t));
            printf("  %s  %s %s%s%s\n", when, json_object_get_string(act),
                   json_object_get_string(res), det != NULL ? ": " : "",
                   det != NULL ? json_object_get_string(det) : "");
        }
    }
    return EXIT_OK;
}

/* ---- domains, ack --------------------------------------------------------------- */

static int
cmd_domains(sd_bus *bus)
{
    sd_bus_message *reply = NULL;
    g_autoptr(json_object) list = json_object_new_array();
    int r;

    r = call(bus, "ListDomains", "cannot list domains", &reply, "");
    if (r != EXIT_OK)
        return r;
    r = sd_bus_message_enter_container(reply, 'a', "(ssstttt)");
    while (r > 0) {
        const char *name, *uuid, *health;
        uint64_t last, corrected, guest, fatal;
        json_object *o;

        r = sd_bus_message_read(reply, "(ssstttt)", &name, &uuid, &health, &last, &corrected,
                                &guest, &fatal);
        if (r <= 0)
            break;
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(name));
        json_object_object_add(o, "uuid", json_object_new_string(uuid));
        json_object_object_add(o, "health", json_object_new_string(health));
        json_object_object_add(o, "last_incident_us", json_object_new_int64((int64_t)last));
        json_object_object_add(o, "corrected", json_object_new_int64((int64_t)corrected));
        json_object_object_add(o, "guest", json_object_new_int64((int64_t)guest));
        json_object_object_add(o, "fatal", json_object_new_int64((int64_t)fatal));
        json_object_array_add(list, o);
    }
    sd_bus_message_unref(reply);
    if ((r = list_done(r, list, "No domain has had an incident.")) >= 0)
        return r;
    printf("%-20s  %-36s  %-8s  %-23s  %9s  %5s  %5s\n", "DOMAIN", "UUID", "HEALTH",
           "LAST INCIDENT", "CORRECTED", "GUEST", "FATAL");
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i);
        json_object *v;
        g_autofree char *when = NULL;

        json_object_object_get_ex(o, "last_incident_us", &v);
        when = format_time((guint64)json_object_get_int64(v));
#define S(k) (json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "")
        printf("%-20s  %-36s  %-8s  %-23s  %9s  %5s  %5s\n", S("name"), S("uuid"), S("health"),
               when, S("corrected"), S("guest"), S("fatal"));
#undef S
    }
    return EXIT_OK;
}

static int
cmd_ack(sd_bus *bus, const char *what)
{
    sd_bus_message *reply = NULL;
    const char *domain = NULL;
    int r;

    r = call(bus, "Acknowledge", "cannot acknowledge", &reply, "s", what);
    if (r != EXIT_OK)
        return r;
    if (sd_bus_message_read(reply, "s", &domain) <= 0)
        domain = what;
    if (arg_json) {
        g_autoptr(json_object) o = json_object_new_object();

        json_object_object_add(o, "acknowledged", json_object_new_string(domain));
        print_json(o);
    } else
        printf("Domain '%s' acknowledged: its counters start again from zero.\n", domain);
    sd_bus_message_unref(reply);
    return EXIT_OK;
}

/* ---- drill, libvirt hook -------------------------------------------------- */

static int
cmd_drill(sd_bus *bus, const char *domain, const char *klass)
{
    sd_bus_message *reply = NULL;
    const char *id = NULL;
    int r;

    r = call(bus, "Drill", "drill refused", &reply, "ss", domain != NULL ? domain : "", klass);
    if (r != EXIT_OK)
        return r;
    if (sd_bus_message_read(reply, "s", &id) <= 0)
        id = "";
    if (arg_json) {
        g_autoptr(json_object) o = json_object_new_object();

        json_object_object_add(o, "incident", json_object_new_string(id));
        json_object_object_add(o, "domain", mced_json_string_new(domain));
        json_object_object_add(o, "class", json_object_new_string(klass));
        json_object_object_add(o, "synthetic", json_object_new_boolean(TRUE));
        print_json(o);
    } else {
        printf("Drill %s opened for %s%s%s (class %s): its actions are dry runs; "
               "'kvm-mcectl show %s' follows it.\n",
               id, domain != NULL ? "domain '" : "the host", domain != NULL ? domain : "",
               domain != NULL ? "'" : "", klass, id);
    }
    sd_bus_message_unref(reply);
    return EXIT_OK;
}

/* libvirt writes the whole document; all of it is read, so that libvirt
 * never blocks on a full pipe, and the start of it is kept. */
static char *
hook_uuid_from_stdin(void)
{
    g_autoptr(GString) xml = g_string_new(NULL);
    char buf[8192];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        if (xml->len <= MCED_DOMAIN_XML_MAX)
            g_string_append_len(xml, buf, (gssize)n);
    return mced_domain_xml_uuid(xml->str, MIN(xml->len, (gsize)MCED_DOMAIN_XML_MAX));
}

/* What libvirt runs (through the qemu.d/kvm-mced script) on every domain
 * operation, with the domain XML on stdin. It must never fail libvirt's
 * operation and never write to stdout (for migrate and restore, stdout
 * would become the domain's XML): whatever happens it exits 0, and what
 * went wrong goes to the journal. */
static int
cmd_libvirt_hook(const char *name, const char *operation, const char *sub)
{
    static const char *const noted[] = { "started", "stopped", "migrate", "restore" };
    g_autofree char *uuid = hook_uuid_from_stdin();
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    sd_bus *bus = NULL;
    gboolean wanted = FALSE;
    int r;

    for (gsize i = 0; i < G_N_ELEMENTS(noted); i++)
        wanted = wanted || strcmp(operation, noted[i]) == 0;
    if (!wanted)
        return EXIT_OK;
    r = open_bus(&bus, TRUE) == EXIT_OK ? 0 : -ENOTCONN;
    if (r >= 0)
        r = sd_bus_message_new_method_call(bus, &m, MCED_BUS_NAME, MCED_BUS_PATH,
                                           MCED_BUS_INTERFACE, "NoteDomainEvent");
    if (r >= 0)
        r = sd_bus_message_append(m, "ssss", name, uuid != NULL ? uuid : "", operation, sub);
    if (r >= 0) /* libvirt waits for us: a daemon that hangs must not hold it up */
        r = sd_bus_call(bus, m, 2 * G_USEC_PER_SEC, &error, NULL);
    if (r < 0)
        fprintf(stderr, "kvm-mcectl: libvirt-hook %s %s: %s\n", operation, sub,
                error.message != NULL ? error.message : g_strerror(-r));
    if (r < 0 && !sd_bus_error_has_name(&error, SD_BUS_ERROR_SERVICE_UNKNOWN)
        && !sd_bus_error_has_name(&error, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
        sd_journal_send("MESSAGE=kvm-mced libvirt hook: cannot tell kvm-mced that domain '%s' "
                        "went through '%s %s': %s",
                        name, operation, sub, error.message != NULL ? error.message
                                                                   : g_strerror(-r),
                        "PRIORITY=4", "SYSLOG_IDENTIFIER=kvm-mcectl", NULL);
    sd_bus_error_free(&error);
    sd_bus_message_unref(m);
    sd_bus_flush_close_unref(bus);
    return EXIT_OK;
}

/* ---- policy explain, reload ----------------------------------------------- */

static int
cmd_explain(sd_bus *bus, const char *domain)
{
    sd_bus_message *reply = NULL;
    const char *text = NULL;
    int r;

    r = call(bus, "Explain", "cannot explain the policy", &reply, "s", domain);
    if (r != EXIT_OK)
        return r;
    if (sd_bus_message_read(reply, "s", &text) <= 0)
        text = "";
    if (arg_json) {
        g_autoptr(json_object) o = json_object_new_object();

        json_object_object_add(o, "domain", json_object_new_string(domain));
        json_object_object_add(o, "explanation", json_object_new_string(text));
        print_json(o);
    } else {
        fputs(text, stdout);
    }
    sd_bus_message_unref(reply);
    return EXIT_OK;
}

static int
cmd_reload(sd_bus *bus)
{
    int r;

    r = call(bus, "Reload", "reload refused", NULL, "");
    if (r != EXIT_OK)
        return r;
    if (arg_json)
        puts("{ \"reloaded\": true }");
    return EXIT_OK;
}

/* ---- main ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
    static const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &arg_json, NULL, NULL },
        { "bus-address", 0, 0, G_OPTION_ARG_STRING, &arg_bus_address, NULL, NULL },
        { "domain", 0, 0, G_OPTION_ARG_STRING, &arg_domain, NULL, NULL },
        { "class", 0, 0, G_OPTION_ARG_STRING, &arg_class, NULL, NULL },
        { "since", 0, 0, G_OPTION_ARG_STRING, &arg_since, NULL, NULL },
        { "state-directory", 0, 0, G_OPTION_ARG_FILENAME, &arg_state_directory, NULL, NULL },
        { "procfs-root", 0, 0, G_OPTION_ARG_FILENAME, &arg_procfs_root, NULL, NULL },
        { "kvm-device", 0, 0, G_OPTION_ARG_FILENAME, &arg_kvm_device, NULL, NULL },
        { "libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &arg_libvirt_uri, NULL, NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    sd_bus *bus = NULL;
    const char *cmd;
    int ret;

    g_option_context_set_help_enabled(ctx, FALSE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("kvm-mcectl %s\n", PACKAGE_VERSION);
            return EXIT_OK;
        }
    }
    if (!g_option_context_parse(ctx, &argc, &argv, &error))
        return usage_error("%s", error->message);
    if (argc < 2)
        return usage_error("name a command");
    cmd = argv[1];
    if (strcmp(cmd, "ack") == 0) {
        arg_ack_domain = arg_domain;
        arg_domain = NULL;
    }
    if (strcmp(cmd, "drill") == 0) {
        arg_drill_domain = g_steal_pointer(&arg_domain);
        arg_drill_class = g_steal_pointer(&arg_class);
    }
    if ((arg_domain != NULL || arg_class != NULL || arg_since != NULL)
        && strcmp(cmd, "incidents") != 0)
        return usage_error("--domain, --class and --since go with 'incidents'");

    if ((arg_state_directory != NULL || arg_procfs_root != NULL || arg_kvm_device != NULL
         || arg_libvirt_uri != NULL)
        && strcmp(cmd, "doctor") != 0)
        return usage_error("--state-directory, --procfs-root, --kvm-device and --libvirt-uri "
                           "go with 'doctor'");
    if (strcmp(cmd, "drill") == 0 && (argc != 2 || arg_drill_class == NULL)) {
        ret = usage_error("drill takes --domain=D and --class=C (for the host: --class=host)");
    } else if (strcmp(cmd, "drill") == 0) {
        ret = (ret = open_bus(&bus, FALSE)) != EXIT_OK
                  ? ret
                  : cmd_drill(bus, arg_drill_domain, arg_drill_class);
    } else if (strcmp(cmd, "libvirt-hook") == 0) {
        /* libvirt passes NAME OPERATION SUB-OPERATION EXTRA */
        ret = argc == 5 || argc == 6 ? cmd_libvirt_hook(argv[2], argv[3], argv[4])
                                     : usage_error("libvirt-hook takes libvirt's hook arguments");
    } else if (strcmp(cmd, "doctor") == 0 && argc != 2) {
        ret = usage_error("doctor takes no arguments");
    } else if (strcmp(cmd, "doctor") == 0) {
        McectlDoctorOptions opts = {
            .state_directory = arg_state_directory,
            .procfs_root = arg_procfs_root,
            .kvm_device = arg_kvm_device,
            .libvirt_uri = arg_libvirt_uri,
            .json = arg_json,
        };

        if (open_bus(&bus, TRUE) == EXIT_OK)
            opts.bus = bus;
        ret = mcectl_doctor(&opts);
    }
    else if (strcmp(cmd, "status") != 0 && strcmp(cmd, "incidents") != 0
             && strcmp(cmd, "show") != 0 && strcmp(cmd, "policy") != 0
             && strcmp(cmd, "reload") != 0 && strcmp(cmd, "domains") != 0
             && strcmp(cmd, "ack") != 0)
        ret = usage_error("unknown command '%s'", cmd);
    else if (strcmp(cmd, "ack") == 0 && (argc == 3) == (arg_ack_domain != NULL))
        ret = usage_error("ack takes an incident ID or --domain=D");
    else if (strcmp(cmd, "ack") == 0)
        ret = (ret = open_bus(&bus, FALSE)) != EXIT_OK
                  ? ret
                  : cmd_ack(bus, arg_ack_domain != NULL ? arg_ack_domain : argv[2]);
    else if ((strcmp(cmd, "show") == 0 && argc != 3)
             || (strcmp(cmd, "policy") == 0 && (argc != 4 || strcmp(argv[2], "explain") != 0))
             || (strcmp(cmd, "show") != 0 && strcmp(cmd, "policy") != 0 && argc != 2))
        ret = usage_error("wrong arguments for '%s'", cmd);
    else if ((ret = open_bus(&bus, FALSE)) != EXIT_OK)
        ;
    else if (strcmp(cmd, "status") == 0)
        ret = cmd_status(bus);
    else if (strcmp(cmd, "incidents") == 0)
        ret = cmd_incidents(bus);
    else if (strcmp(cmd, "show") == 0)
        ret = cmd_show(bus, argv[2]);
    else if (strcmp(cmd, "policy") == 0)
        ret = cmd_explain(bus, argv[3]);
    else if (strcmp(cmd, "domains") == 0)
        ret = cmd_domains(bus);
    else
        ret = cmd_reload(bus);
    sd_bus_flush_close_unref(bus);
    g_free(arg_bus_address);
    g_free(arg_domain);
    g_free(arg_class);
    g_free(arg_since);
    g_free(arg_ack_domain);
    g_free(arg_drill_domain);
    g_free(arg_drill_class);
    g_free(arg_state_directory);
    g_free(arg_procfs_root);
    g_free(arg_kvm_device);
    g_free(arg_libvirt_uri);
    return ret;
}
