/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domain XML: doctor's FWNMI classifier (on/off/unknown/not applicable/
 * error) and the UUID the libvirt hook reports. The XML here has the shape virDomainGetXMLDesc
 * gives, cut down to what matters.
 */
#include "config.h"

#include <string.h>

#include "mced-domain-xml.h"

#define QEMU_NS "xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"

/* A domain with @arch/@machine (either may be NULL) and @extra inside. */
static char *
domain_xml(const char *arch, const char *machine, const char *extra)
{
    g_autofree char *a = arch != NULL ? g_strdup_printf(" arch='%s'", arch) : g_strdup("");
    g_autofree char *m = machine != NULL ? g_strdup_printf(" machine='%s'", machine)
                                         : g_strdup("");

    return g_strdup_printf("<domain type='kvm' " QEMU_NS ">\n"
                           "  <name>guest</name>\n"
                           "  <memory unit='KiB'>1048576</memory>\n"
                           "  <os>\n"
                           "    <type%s%s>hvm</type>\n"
                           "    <boot dev='hd'/>\n"
                           "  </os>\n"
                           "  <devices><emulator>/usr/bin/qemu-system-ppc64</emulator></devices>\n"
                           "%s"
                           "</domain>\n",
                           a, m, extra != NULL ? extra : "");
}

/* Classifies @xml and checks the result and that @why_part is in the why. */
static void
assert_fwnmi(const char *xml, McedFwnmi want, const char *want_machine, const char *why_part)
{
    g_autofree char *machine = NULL;
    g_autofree char *why = NULL;
    McedFwnmi got = mced_domain_xml_fwnmi(xml, &machine, &why);

    if (got != want)
        g_test_message("why: %s", why);
    g_assert_cmpint(got, ==, want);
    g_assert_cmpstr(machine, ==, want_machine);
    g_assert_nonnull(why);
    g_assert_cmpuint(strlen(why), >, 0);
    if (why_part != NULL && strstr(why, why_part) == NULL) {
        g_test_message("'%s' not in why '%s'", why_part, why);
        g_test_fail();
    }
}

static void
test_default_on(void)
{
    const char *const machines[] = { "pseries-5.0", "pseries-8.2", "pseries-10.1", "pseries" };

    for (size_t i = 0; i < G_N_ELEMENTS(machines); i++) {
        g_autofree char *le = domain_xml("ppc64le", machines[i], NULL);
        g_autofree char *be = domain_xml("ppc64", machines[i], NULL);

        assert_fwnmi(le, MCED_FWNMI_ON, machines[i], machines[i]);
        assert_fwnmi(be, MCED_FWNMI_ON, machines[i], machines[i]);
    }
}

static void
test_default_off(void)
{
    const char *const machines[] = { "pseries-4.2", "pseries-4.0", "pseries-3.1", "pseries-2.12" };

    for (size_t i = 0; i < G_N_ELEMENTS(machines); i++) {
        g_autofree char *xml = domain_xml("ppc64le", machines[i], NULL);

        assert_fwnmi(xml, MCED_FWNMI_OFF, machines[i], "older than pseries-5.0");
    }
}

static void
test_commandline_off(void)
{
    g_autofree char *xml =
        domain_xml("ppc64le", "pseries-8.2",
                   "  <qemu:commandline>\n"
                   "    <qemu:arg value='-machine'/>\n"
                   "    <qemu:arg value='pseries,cap-fwnmi=off'/>\n"
                   "  </qemu:commandline>\n");

    assert_fwnmi(xml, MCED_FWNMI_OFF, "pseries-8.2", "cap-fwnmi=off on the QEMU command line");
}

static void
test_commandline_on_old_machine(void)
{
    g_autofree char *xml = domain_xml("ppc64", "pseries-4.2",
                                      "  <qemu:commandline>\n"
                                      "    <qemu:arg value='-M'/>\n"
                                      "    <qemu:arg value='cap-fwnmi=on'/>\n"
                                      "  </qemu:commandline>\n");

    assert_fwnmi(xml, MCED_FWNMI_ON, "pseries-4.2", "cap-fwnmi=on");
}

/* QEMU applies -machine options in order, so the last one counts. */
static void
test_commandline_last_wins(void)
{
    g_autofree char *off_then_on = domain_xml("ppc64le", "pseries-8.2",
                                              "  <qemu:commandline>\n"
                                              "    <qemu:arg value='-machine'/>\n"
                                              "    <qemu:arg value='cap-fwnmi=off'/>\n"
                                              "    <qemu:arg value='-machine'/>\n"
                                              "    <qemu:arg value='cap-fwnmi=true'/>\n"
                                              "  </qemu:commandline>\n");
    g_autofree char *on_then_off = domain_xml("ppc64le", "pseries-8.2",
                                              "  <qemu:commandline>\n"
                                              "    <qemu:arg value='-machine'/>\n"
                                              "    <qemu:arg value='cap-fwnmi=on'/>\n"
                                              "    <qemu:arg value='-machine'/>\n"
                                              "    <qemu:arg value='cap-fwnmi=no'/>\n"
                                              "  </qemu:commandline>\n");

    assert_fwnmi(off_then_on, MCED_FWNMI_ON, "pseries-8.2", "cap-fwnmi=true");
    assert_fwnmi(on_then_off, MCED_FWNMI_OFF, "pseries-8.2", "cap-fwnmi=no");
}

static void
test_commandline_global(void)
{
    g_autofree char *xml = domain_xml("ppc64le", "pseries-8.2",
                                      "  <qemu:commandline>\n"
                                      "    <qemu:arg value='-global'/>\n"
                                      "    <qemu:arg value='spapr-machine.cap-fwnmi=off'/>\n"
                                      "  </qemu:commandline>\n");

    assert_fwnmi(xml, MCED_FWNMI_OFF, "pseries-8.2", "spapr-machine.cap-fwnmi=off");
}

/* cap-fwnmi=off that is not a machine option, or not in libvirt's QEMU
 * namespace, changes nothing. */
static void
test_commandline_ignored(void)
{
    g_autofree char *append = domain_xml("ppc64le", "pseries-8.2",
                                         "  <qemu:commandline>\n"
                                         "    <qemu:arg value='-append'/>\n"
                                         "    <qemu:arg value='cap-fwnmi=off'/>\n"
                                         "    <qemu:env name='X' value='cap-fwnmi=off'/>\n"
                                         "  </qemu:commandline>\n");
    g_autofree char *other_ns =
        domain_xml("ppc64le", "pseries-8.2",
                   "  <other:commandline xmlns:other='http://example.com/not-qemu'>\n"
                   "    <other:arg value='-machine'/>\n"
                   "    <other:arg value='cap-fwnmi=off'/>\n"
                   "  </other:commandline>\n");
    g_autofree char *nested = domain_xml("ppc64le", "pseries-8.2",
                                         "  <metadata><qemu:commandline>\n"
                                         "    <qemu:arg value='-machine'/>\n"
                                         "    <qemu:arg value='cap-fwnmi=off'/>\n"
                                         "  </qemu:commandline></metadata>\n");

    assert_fwnmi(append, MCED_FWNMI_ON, "pseries-8.2", NULL);
    assert_fwnmi(other_ns, MCED_FWNMI_ON, "pseries-8.2", NULL);
    assert_fwnmi(nested, MCED_FWNMI_ON, "pseries-8.2", NULL);
}

/* The namespace decides, not the prefix libvirt happens to use. */
static void
test_commandline_other_prefix(void)
{
    const char *xml =
        "<domain type='kvm' xmlns:q='http://libvirt.org/schemas/domain/qemu/1.0'>"
        "<name>g</name><os><type arch='ppc64le' machine='pseries-9.0'>hvm</type></os>"
        "<q:commandline><q:arg value='-machine'/><q:arg value='pseries,cap-fwnmi=off'/>"
        "</q:commandline></domain>";

    assert_fwnmi(xml, MCED_FWNMI_OFF, "pseries-9.0", "cap-fwnmi=off");
}

static void
test_override(void)
{
    g_autofree char *off = domain_xml("ppc64le", "pseries-8.2",
                                      "  <qemu:override>\n"
                                      "    <qemu:device alias='machine'>\n"
                                      "      <qemu:frontend>\n"
                                      "        <qemu:property name='cap-fwnmi' type='bool' "
                                      "value='false'/>\n"
                                      "      </qemu:frontend>\n"
                                      "    </qemu:device>\n"
                                      "  </qemu:override>\n");
    g_autofree char *removed = domain_xml("ppc64le", "pseries-4.2",
                                          "  <qemu:override><qemu:device alias='m'>"
                                          "<qemu:frontend>"
                                          "<qemu:property name='cap-fwnmi' type='remove'/>"
                                          "</qemu:frontend></qemu:device></qemu:override>\n");

    assert_fwnmi(off, MCED_FWNMI_OFF, "pseries-8.2", "<qemu:override>");
    assert_fwnmi(removed, MCED_FWNMI_OFF, "pseries-4.2", "older than pseries-5.0");
}

static void
test_not_ppc(void)
{
    g_autofree char *q35 = domain_xml("x86_64", "pc-q35-8.2", NULL);
    g_autofree char *aarch64 = domain_xml("aarch64", "virt-8.2", NULL);
    g_autofree char *no_arch = domain_xml(NULL, NULL, NULL);

    assert_fwnmi(q35, MCED_FWNMI_NOT_PPC, "pc-q35-8.2", "x86_64");
    assert_fwnmi(aarch64, MCED_FWNMI_NOT_PPC, "virt-8.2", "aarch64");
    assert_fwnmi(no_arch, MCED_FWNMI_NOT_PPC, NULL, NULL);
}

static void
test_ppc_other(void)
{
    g_autofree char *powernv = domain_xml("ppc64", "powernv9", NULL);
    g_autofree char *rhel = domain_xml("ppc64le", "pseries-rhel9.4.0", NULL);
    g_autofree char *no_machine = domain_xml("ppc64le", NULL, NULL);
    g_autofree char *bad_value = domain_xml("ppc64le", "pseries-8.2",
                                            "  <qemu:commandline>\n"
                                            "    <qemu:arg value='-machine'/>\n"
                                            "    <qemu:arg value='cap-fwnmi=maybe'/>\n"
                                            "  </qemu:commandline>\n");

    assert_fwnmi(powernv, MCED_FWNMI_NOT_PSERIES, "powernv9", "not pseries");
    assert_fwnmi(rhel, MCED_FWNMI_UNKNOWN, "pseries-rhel9.4.0", "not known");
    assert_fwnmi(no_machine, MCED_FWNMI_UNKNOWN, NULL, "no machine type");
    assert_fwnmi(bad_value, MCED_FWNMI_UNKNOWN, "pseries-8.2", "not a boolean");
}

static void
test_bad_xml(void)
{
    const char *const bad[] = {
        "",
        "   \n",
        "<domain>",
        "<domain><os><type arch='ppc64le' machine='pseries-8.2'>hvm</os></domain>",
        "<domain attr=unquoted/>",
        "<domain/><domain/>",
        "<notadomain/>",
        "not xml at all",
        "<domain>&undefined;</domain>",
        "<domain><name>\xff\xfe</name></domain>",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        assert_fwnmi(bad[i], MCED_FWNMI_ERROR, NULL, "domain XML");
    assert_fwnmi(NULL, MCED_FWNMI_ERROR, NULL, "no domain XML");
    /* outputs are optional */
    g_assert_cmpint(mced_domain_xml_fwnmi("<", NULL, NULL), ==, MCED_FWNMI_ERROR);
}

static void
test_hostile_xml(void)
{
    GString *deep = g_string_new("<domain>");
    GString *many = g_string_new("<domain " QEMU_NS "><os><type arch='ppc64le' "
                                 "machine='pseries-8.2'>hvm</type></os><qemu:commandline>");
    GString *prefixes = g_string_new("<domain");
    g_autofree char *huge = NULL;
    g_autofree char *s = NULL;
    gsize n;

    /* nesting far deeper than any domain */
    for (int i = 0; i < 100000; i++)
        g_string_append(deep, "<a>");
    s = g_string_free(deep, FALSE);
    assert_fwnmi(s, MCED_FWNMI_ERROR, NULL, "nest deeper");
    g_clear_pointer(&s, g_free);

    /* many arguments, still under the size limit: parsed, not refused */
    for (int i = 0; i < 20000; i++)
        g_string_append(many, "<qemu:arg value='-machine'/><qemu:arg value='cap-fwnmi=off'/>");
    g_string_append(many, "</qemu:commandline></domain>");
    s = g_string_free(many, FALSE);
    assert_fwnmi(s, MCED_FWNMI_OFF, "pseries-8.2", "cap-fwnmi=off");
    g_clear_pointer(&s, g_free);

    /* more qemu prefixes than are tracked: the first ones still work */
    for (int i = 0; i < 100; i++)
        g_string_append_printf(prefixes, " xmlns:q%d='http://libvirt.org/schemas/domain/qemu/1.0'",
                               i);
    g_string_append(prefixes, "><os><type arch='ppc64' machine='pseries-6.0'>hvm</type></os>"
                              "<q0:commandline><q0:arg value='-machine'/>"
                              "<q0:arg value='cap-fwnmi=off'/></q0:commandline>"
                              "<q99:commandline><q99:arg value='-machine'/>"
                              "<q99:arg value='cap-fwnmi=on'/></q99:commandline></domain>");
    s = g_string_free(prefixes, FALSE);
    assert_fwnmi(s, MCED_FWNMI_OFF, "pseries-6.0", "cap-fwnmi=off");

    /* over the size limit: refused before parsing */
    n = MCED_DOMAIN_XML_MAX + 1;
    huge = g_malloc(n + 1);
    memset(huge, ' ', n);
    memcpy(huge, "<domain>", strlen("<domain>"));
    huge[n] = '\0';
    assert_fwnmi(huge, MCED_FWNMI_ERROR, NULL, "larger than");
}

/* The hook's UUID: the root's own <uuid>, checked, lower case. */
static void
test_uuid(void)
{
    static const char good[] = "<domain type='kvm'>\n  <name>web1</name>\n"
                               "  <uuid> 6695EB01-F6A4-8304-79AA-97F2502E193F </uuid>\n"
                               "  <devices><disk><uuid>not-this</uuid></disk></devices>\n"
                               "</domain>\n";
    static const char nested[] = "<domain><devices><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f"
                                 "</uuid></devices></domain>";
    static const char truncated[] = "<domain><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>"
                                    "<devices><disk <<<";
    static const char *const bad[] = {
        "",
        "<domain/>",
        "<domain><uuid>$(reboot)</uuid></domain>",
        "<domain><uuid>6695eb01-f6a4-8304-79aa-97f2502e193</uuid></domain>",
        "<domain><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f0</uuid></domain>",
        "<domain><uuid>6695eb01f6a4-8304-79aa-97f2502e193f-</uuid></domain>",
        "<domain><uuid>6695eb01-f6a4-8304-79aa-97f2502e193f",
        "\x00garbage",
    };
    g_autofree char *u1 = mced_domain_xml_uuid(good, strlen(good));
    g_autofree char *u2 = mced_domain_xml_uuid(truncated, strlen(truncated));
    g_autofree char *u3 = mced_domain_xml_uuid(nested, strlen(nested));
    g_autoptr(GString) deep = g_string_new("<domain>");

    g_assert_cmpstr(u1, ==, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    g_assert_cmpstr(u2, ==, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    g_assert_null(u3);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *u = mced_domain_xml_uuid(bad[i], strlen(bad[i]));

        g_assert_null(u);
    }
    for (int i = 0; i < 100000; i++)
        g_string_append(deep, "<a>");
    g_assert_null(mced_domain_xml_uuid(deep->str, deep->len));
    g_assert_null(mced_domain_xml_uuid(good, MCED_DOMAIN_XML_MAX + 1));
    g_assert_true(mced_uuid_is_valid("6695eb01-F6A4-8304-79aa-97f2502e193f"));
    g_assert_false(mced_uuid_is_valid("6695eb01-f6a4-8304-79aa-97f2502e193g"));
    g_assert_false(mced_uuid_is_valid(NULL));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-xml/fwnmi/default-on", test_default_on);
    g_test_add_func("/domain-xml/fwnmi/default-off", test_default_off);
    g_test_add_func("/domain-xml/fwnmi/commandline-off", test_commandline_off);
    g_test_add_func("/domain-xml/fwnmi/commandline-on-old-machine", test_commandline_on_old_machine);
    g_test_add_func("/domain-xml/fwnmi/commandline-last-wins", test_commandline_last_wins);
    g_test_add_func("/domain-xml/fwnmi/commandline-global", test_commandline_global);
    g_test_add_func("/domain-xml/fwnmi/commandline-ignored", test_commandline_ignored);
    g_test_add_func("/domain-xml/fwnmi/commandline-other-prefix", test_commandline_other_prefix);
    g_test_add_func("/domain-xml/fwnmi/override", test_override);
    g_test_add_func("/domain-xml/fwnmi/not-ppc", test_not_ppc);
    g_test_add_func("/domain-xml/fwnmi/ppc-other", test_ppc_other);
    g_test_add_func("/domain-xml/fwnmi/bad-xml", test_bad_xml);
    g_test_add_func("/domain-xml/fwnmi/hostile-xml", test_hostile_xml);
    g_test_add_func("/domain-xml/uuid", test_uuid);
    return g_test_run();
}
