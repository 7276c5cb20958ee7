/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The libvirt glue against libvirt's in-process test:/// driver: every
 * connection to test:///default in one process shares one fake host, so
 * the test acts on domains through its own connection and watches what
 * McedLibvirt sees through its own.
 */
#include "config.h"

#include <libvirt/libvirt.h>
#include <string.h>

#include "mced-libvirt.h"

typedef struct {
    McedLibvirt *lv;
    virConnectPtr conn; /* the test's own connection */
    GPtrArray *changed; /* char* "name uuid id" per domain_changed */
    GPtrArray *removed; /* char* name */
    GPtrArray *observations; /* McedObservation* */
    gboolean up;
    guint metadata_done;
    GError *metadata_error;
} Fixture;

static void
on_changed(const McedDomainInfo *d, gpointer user_data)
{
    Fixture *f = user_data;
    g_ptr_array_add(f->changed, g_strdup_printf("%s %s %d", d->name, d->uuid, d->id));
}

static void
on_removed(const char *name, const char *uuid, gpointer user_data)
{
    Fixture *f = user_data;
    g_ptr_array_add(f->removed, g_strdup(name));
}

static void
on_observation(McedObservation *obs, const McedDomainInfo *d, gpointer user_data)
{
    Fixture *f = user_data;
    g_ptr_array_add(f->observations, obs);
}

static void
on_connection(gboolean up, const char *detail, gpointer user_data)
{
    Fixture *f = user_data;
    f->up = up;
}

/* Runs the main loop until @cond holds or 5 s pass (then fails). */
static void
iterate_until(gboolean (*cond)(Fixture *), Fixture *f, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    while (!cond(f)) {
        if (g_get_monotonic_time() > deadline)
            g_error("timed out waiting for %s", what); /* a test: abort with a reason */
        g_main_context_iteration(NULL, FALSE);
        g_usleep(1000);
    }
}

static gboolean
is_up(Fixture *f)
{
    return f->up;
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    static const McedLibvirtCallbacks cb = {
        .domain_changed = on_changed,
        .domain_removed = on_removed,
        .observation = on_observation,
        .connection = on_connection,
    };
    const char *const events[] = { "GUEST_PANICKED", "MEMORY_FAILURE", NULL };

    mced_libvirt_init_event_loop();
    f->changed = g_ptr_array_new_with_free_func(g_free);
    f->removed = g_ptr_array_new_with_free_func(g_free);
    f->observations = g_ptr_array_new_with_free_func((GDestroyNotify)mced_observation_unref);
    f->conn = virConnectOpen("test:///default");
    g_assert_nonnull(f->conn);
    f->lv = mced_libvirt_new("test:///default", events, G_USEC_PER_SEC, &cb, f);
    mced_libvirt_start(f->lv);
    iterate_until(is_up, f, "the connection");
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    virDomainPtr *list = NULL;
    int n;

    mced_libvirt_free(f->lv);
    /* Leave the shared fake host as the next test expects it. */
    n = virConnectListAllDomains(f->conn, &list, 0);
    for (int i = 0; i < n; i++) {
        if (g_strcmp0(virDomainGetName(list[i]), "test") != 0) {
            (void)virDomainDestroy(list[i]);
            (void)virDomainUndefine(list[i]);
        }
        virDomainFree(list[i]);
    }
    free(list);
    virConnectClose(f->conn);
    g_ptr_array_unref(f->changed);
    g_ptr_array_unref(f->removed);
    g_ptr_array_unref(f->observations);
    g_clear_error(&f->metadata_error);
}

static char *
domain_xml(const char *name, const char *uuid)
{
    g_autofree char *escaped = g_markup_escape_text(name, -1);

    return g_strdup_printf("<domain type='test'><name>%s</name><uuid>%s</uuid>"
                           "<memory>8192</memory><vcpu>1</vcpu>"
                           "<os><type>hvm</type></os></domain>",
                           escaped, uuid);
}

static void
test_connect_lists_domains(Fixture *f, gconstpointer data)
{
    const McedDomainInfo *d;

    g_assert_true(mced_libvirt_is_connected(f->lv));
    /* The test driver passes no raw QMP: typed events stand in. */
    g_assert_false(mced_libvirt_has_qmp(f->lv));
    d = mced_libvirt_lookup_name(f->lv, "test");
    g_assert_nonnull(d);
    g_assert_cmpstr(d->uuid, ==, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    g_assert_cmpint(d->id, >=, 0);
    g_assert_true(d->persistent);
}

static gboolean
has_hostile(Fixture *f)
{
    return mced_libvirt_lookup_name(f->lv, "a\"b'c$(reboot)`x`;&|<>") != NULL;
}

static void
test_lifecycle_and_hostile_names(Fixture *f, gconstpointer data)
{
    static const char *const names[] = {
        "a\"b'c$(reboot)`x`;&|<>",
        "tab\tand blank",
        /* 200 bytes of UTF-8 (100 two-byte characters) */
        "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
    };
    g_autofree char *uuid = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *u = g_strdup_printf("11111111-2222-4333-8444-5555555555%02zu", i);
        g_autofree char *xml = domain_xml(names[i], u);
        virDomainPtr dom = virDomainDefineXML(f->conn, xml);

        g_test_message("%s", names[i]);
        g_assert_nonnull(dom);
        g_assert_cmpint(virDomainCreate(dom), ==, 0);
        virDomainFree(dom);
    }
    /* libvirt itself refuses a newline in a name (names with one can only
     * come from a QEMU command line: the registry's tests cover those). */
    {
        g_autofree char *xml = domain_xml("new\nline", "11111111-2222-4333-8444-555555555599");
        virDomainPtr dom = virDomainDefineXML(f->conn, xml);
        g_assert_null(dom);
    }
    iterate_until(has_hostile, f, "the defined domains");
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        const McedDomainInfo *d = NULL;
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

        while ((d = mced_libvirt_lookup_name(f->lv, names[i])) == NULL || d->id < 0) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_main_context_iteration(NULL, FALSE);
        }
        /* names arrive byte for byte, never interpreted */
        g_assert_cmpstr(d->name, ==, names[i]);
        g_assert_cmpuint(strlen(d->name), ==, strlen(names[i]));
    }

    /* Undefining a stopped domain removes it. */
    {
        virDomainPtr dom = virDomainLookupByName(f->conn, names[0]);
        uuid = g_strdup("11111111-2222-4333-8444-555555555500");
        g_assert_cmpint(virDomainDestroy(dom), ==, 0);
        g_assert_cmpint(virDomainUndefine(dom), ==, 0);
        virDomainFree(dom);
    }
    {
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (g_hash_table_contains(mced_libvirt_get_domains(f->lv), uuid)) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_main_context_iteration(NULL, FALSE);
        }
    }
    g_assert_cmpuint(f->removed->len, >=, 1);
    g_assert_cmpstr(g_ptr_array_index(f->removed, f->removed->len - 1), ==, names[0]);
}

static void
on_metadata(const char *uuid, const GError *error, gpointer user_data)
{
    Fixture *f = user_data;

    f->metadata_done++;
    if (error != NULL && f->metadata_error == NULL)
        f->metadata_error = g_error_copy(error);
}

static gboolean
one_metadata_done(Fixture *f)
{
    return f->metadata_done >= 1;
}

static gboolean
two_metadata_done(Fixture *f)
{
    return f->metadata_done >= 2;
}

static void
test_metadata(Fixture *f, gconstpointer data)
{
    static const char uuid[] = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    static const char xml1[] = "<health state=\"degraded\" incidents=\"1\">"
                               "<counts corrected=\"0\" guest=\"1\" fatal=\"0\"/></health>";
    static const char xml2[] = "<health state=\"fatal\" incidents=\"2\">"
                               "<counts corrected=\"0\" guest=\"1\" fatal=\"1\"/></health>";
    virDomainPtr dom = virDomainLookupByUUIDString(f->conn, uuid);
    char *back;

    g_assert_nonnull(dom);
    mced_libvirt_set_health(f->lv, uuid, xml1, on_metadata, f);
    iterate_until(one_metadata_done, f, "the first metadata write");
    g_assert_no_error(f->metadata_error);
    back = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, MCED_METADATA_HEALTH_NS,
                                VIR_DOMAIN_AFFECT_LIVE);
    g_assert_nonnull(back);
    g_assert_nonnull(strstr(back, "state=\"degraded\""));
    free(back);

    /* The same health again writes nothing: no callback comes. */
    mced_libvirt_set_health(f->lv, uuid, xml1, on_metadata, f);
    for (int i = 0; i < 50; i++)
        g_main_context_iteration(NULL, FALSE);
    g_assert_cmpuint(f->metadata_done, ==, 1);

    /* A change is written, and an operator's policy element beside it in
     * its own namespace is left alone. */
    g_assert_cmpint(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                         "<policy guest=\"migrate\"/>", "mcedpolicy",
                                         MCED_METADATA_POLICY_NS, VIR_DOMAIN_AFFECT_LIVE),
                    ==, 0);
    mced_libvirt_set_health(f->lv, uuid, xml2, on_metadata, f);
    iterate_until(two_metadata_done, f, "the second metadata write");
    g_assert_no_error(f->metadata_error);
    back = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, MCED_METADATA_HEALTH_NS,
                                VIR_DOMAIN_AFFECT_LIVE);
    g_assert_nonnull(strstr(back, "state=\"fatal\""));
    free(back);
    back = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, MCED_METADATA_POLICY_NS,
                                VIR_DOMAIN_AFFECT_LIVE);
    g_assert_nonnull(back);
    g_assert_nonnull(strstr(back, "migrate"));
    free(back);

    /* An unknown domain is an error reported back, not a crash. */
    mced_libvirt_set_health(f->lv, "00000000-0000-4000-8000-000000000000", xml1, on_metadata, f);
    {
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (f->metadata_done < 3) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_main_context_iteration(NULL, FALSE);
        }
    }
    g_assert_nonnull(f->metadata_error);
    virDomainFree(dom);
}

static gboolean
has_policy(Fixture *f)
{
    const McedDomainInfo *d = mced_libvirt_lookup_name(f->lv, "test");
    return d != NULL && d->policy_xml != NULL && strstr(d->policy_xml, "restart") != NULL;
}

static void
test_policy_override_followed(Fixture *f, gconstpointer data)
{
    virDomainPtr dom = virDomainLookupByName(f->conn, "test");

    g_assert_nonnull(dom);
    g_assert_null(mced_libvirt_lookup_name(f->lv, "test")->policy_xml);
    /* an operator sets a policy: METADATA_CHANGE makes it known */
    g_assert_cmpint(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
                                         "<policy fatal=\"restart\"/>", "mcedpolicy",
                                         MCED_METADATA_POLICY_NS, VIR_DOMAIN_AFFECT_LIVE),
                    ==, 0);
    iterate_until(has_policy, f, "the domain's policy");
    /* and removing it forgets it */
    g_assert_cmpint(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, NULL, NULL,
                                         MCED_METADATA_POLICY_NS, VIR_DOMAIN_AFFECT_LIVE),
                    ==, 0);
    {
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (mced_libvirt_lookup_name(f->lv, "test")->policy_xml != NULL) {
            g_assert_cmpint(g_get_monotonic_time(), <, deadline);
            g_main_context_iteration(NULL, FALSE);
        }
    }
    virDomainFree(dom);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/libvirt/connect", test_connect_lists_domains);
    ADD("/libvirt/lifecycle-hostile-names", test_lifecycle_and_hostile_names);
    ADD("/libvirt/metadata", test_metadata);
    ADD("/libvirt/policy-override", test_policy_override_followed);
#undef ADD
    return g_test_run();
}
