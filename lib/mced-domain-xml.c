/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What kvm-mced reads out of libvirt's domain XML (virDomainGetXMLDesc, or
 * what libvirt hands a hook on stdin): whether the guest has FWNMI, and the
 * domain's UUID. GMarkup only; hostile XML gives an answer, never a crash.
 */
#include "config.h"

#include <string.h>

#include "mced-domain-xml.h"

/* ---- FWNMI from the domain XML -------------------------------------------- */

#define QEMU_XMLNS        "http://libvirt.org/schemas/domain/qemu/1.0"
#define FWNMI_MAX_DEPTH   128 /* libvirt's own XML nests about 8 deep */
#define FWNMI_MAX_PREFIXES 8  /* xmlns:X bound to QEMU_XMLNS that we track */

/* Where an element sits, as far as FWNMI cares. */
typedef enum {
    NODE_OTHER,
    NODE_DOMAIN,       /* <domain> */
    NODE_OS,           /* <domain><os> */
    NODE_OS_TYPE,      /* <domain><os><type> */
    NODE_COMMANDLINE,  /* <domain><qemu:commandline> */
    NODE_ARG,          /* ... <qemu:arg> */
    NODE_OVERRIDE,     /* <domain><qemu:override> */
    NODE_DEVICE,       /* ... <qemu:device> */
    NODE_FRONTEND,     /* ... <qemu:frontend> */
    NODE_PROPERTY,     /* ... <qemu:property> */
} FwnmiNode;

typedef struct {
    guint8 stack[FWNMI_MAX_DEPTH];
    guint depth;
    guint roots;
    char *qemu_prefixes[FWNMI_MAX_PREFIXES];
    guint n_prefixes;
    gboolean seen_type;
    char *arch;
    char *machine;
    char *prev_arg;      /* the previous <qemu:arg> value */
    int explicit_fwnmi;  /* -1 not set, else the last value set */
    char *explicit_how;  /* "cap-fwnmi=off on the QEMU command line", ... */
    char *bad_value;     /* a cap-fwnmi value that is not a boolean */
} FwnmiParse;

static void
fwnmi_parse_clear(FwnmiParse *p)
{
    for (guint i = 0; i < p->n_prefixes; i++)
        g_free(p->qemu_prefixes[i]);
    g_free(p->arch);
    g_free(p->machine);
    g_free(p->prev_arg);
    g_free(p->explicit_how);
    g_free(p->bad_value);
}

/* QEMU's boolean spellings (qapi_bool_parse): 1 on, 0 off, -1 neither. */
static int
qemu_bool(const char *v)
{
    static const char *const on[] = { "on", "yes", "true", "y" };
    static const char *const off[] = { "off", "no", "false", "n" };

    for (size_t i = 0; i < G_N_ELEMENTS(on); i++) {
        if (strcmp(v, on[i]) == 0)
            return 1;
        if (strcmp(v, off[i]) == 0)
            return 0;
    }
    return -1;
}

static void
fwnmi_set(FwnmiParse *p, const char *key, const char *value, const char *where)
{
    int b = qemu_bool(value);

    g_clear_pointer(&p->explicit_how, g_free);
    g_clear_pointer(&p->bad_value, g_free);
    if (b < 0) {
        p->explicit_fwnmi = -1;
        p->bad_value = g_strdup_printf("%s=%s %s", key, value, where);
        return;
    }
    p->explicit_fwnmi = b;
    p->explicit_how = g_strdup_printf("%s=%s %s", key, value, where);
}

/*
 * One <qemu:arg> value. cap-fwnmi is a machine property, so it counts in
 * the argument after -machine/-M ("pseries,cap-fwnmi=off") or after
 * -global ("spapr-machine.cap-fwnmi=off"). QEMU escapes a comma as ",,",
 * which splitting on ',' cannot mistake for a cap-fwnmi key.
 */
static void
fwnmi_arg(FwnmiParse *p, const char *value)
{
    const char *prev = p->prev_arg != NULL ? p->prev_arg : "";
    gboolean machine = strcmp(prev, "-machine") == 0 || strcmp(prev, "--machine") == 0
                       || strcmp(prev, "-M") == 0;
    gboolean global = strcmp(prev, "-global") == 0 || strcmp(prev, "--global") == 0;

    if (machine || global) {
        g_auto(GStrv) items = g_strsplit(value, ",", -1);

        for (guint i = 0; items[i] != NULL; i++) {
            char *eq = strchr(items[i], '=');
            const char *key = items[i];

            if (eq == NULL)
                continue;
            *eq = '\0';
            if (global) {
                const char *dot = strrchr(key, '.');

                if (dot == NULL || strcmp(dot + 1, "cap-fwnmi") != 0
                    || (!g_str_has_prefix(key, "spapr-machine.")
                        && !(g_str_has_prefix(key, "pseries")
                             && g_str_has_suffix(key, "-machine.cap-fwnmi"))))
                    continue;
            } else if (strcmp(key, "cap-fwnmi") != 0) {
                continue;
            }
            fwnmi_set(p, key, eq + 1, "on the QEMU command line");
        }
    }
    g_free(p->prev_arg);
    p->prev_arg = g_strdup(value);
}

static const char *
attr(const char **names, const char **values, const char *name)
{
    for (guint i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], name) == 0)
            return values[i];
    return NULL;
}

/* Is @element "<prefix>:@local" with a prefix bound to QEMU_XMLNS? */
static gboolean
is_qemu(const FwnmiParse *p, const char *element, const char *local)
{
    const char *colon = strchr(element, ':');

    if (colon == NULL || strcmp(colon + 1, local) != 0)
        return FALSE;
    for (guint i = 0; i < p->n_prefixes; i++)
        if (strncmp(element, p->qemu_prefixes[i], (size_t)(colon - element)) == 0
            && p->qemu_prefixes[i][colon - element] == '\0')
            return TRUE;
    return FALSE;
}

static FwnmiNode
node_of(const FwnmiParse *p, FwnmiNode parent, const char *element)
{
    switch (parent) {
    case NODE_DOMAIN:
        if (strcmp(element, "os") == 0)
            return NODE_OS;
        if (is_qemu(p, element, "commandline"))
            return NODE_COMMANDLINE;
        if (is_qemu(p, element, "override"))
            return NODE_OVERRIDE;
        return NODE_OTHER;
    case NODE_OS:
        return strcmp(element, "type") == 0 ? NODE_OS_TYPE : NODE_OTHER;
    case NODE_COMMANDLINE:
        return is_qemu(p, element, "arg") ? NODE_ARG : NODE_OTHER;
    case NODE_OVERRIDE:
        return is_qemu(p, element, "device") ? NODE_DEVICE : NODE_OTHER;
    case NODE_DEVICE:
        return is_qemu(p, element, "frontend") ? NODE_FRONTEND : NODE_OTHER;
    case NODE_FRONTEND:
        return is_qemu(p, element, "property") ? NODE_PROPERTY : NODE_OTHER;
    case NODE_OTHER:
    case NODE_OS_TYPE:
    case NODE_ARG:
    case NODE_PROPERTY:
        return NODE_OTHER;
    }
    return NODE_OTHER;
}

static void
fwnmi_start(GMarkupParseContext *ctx, const char *element, const char **names,
            const char **values, gpointer user_data, GError **error)
{
    FwnmiParse *p = user_data;
    FwnmiNode node;
    const char *v;

    if (p->depth >= FWNMI_MAX_DEPTH) {
        g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                    "elements nest deeper than %d", FWNMI_MAX_DEPTH);
        return;
    }
    for (guint i = 0; names[i] != NULL; i++)
        if (g_str_has_prefix(names[i], "xmlns:") && strcmp(values[i], QEMU_XMLNS) == 0
            && p->n_prefixes < FWNMI_MAX_PREFIXES)
            p->qemu_prefixes[p->n_prefixes++] = g_strdup(names[i] + strlen("xmlns:"));

    if (p->depth == 0) {
        if (++p->roots > 1 || strcmp(element, "domain") != 0) {
            g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                        "expected one <domain> element, found <%s>", element);
            return;
        }
        node = NODE_DOMAIN;
    } else {
        node = node_of(p, p->stack[p->depth - 1], element);
    }
    p->stack[p->depth++] = node;

    switch (node) {
    case NODE_OS_TYPE:
        if (p->seen_type)
            break; /* libvirt writes one; the first one counts */
        p->seen_type = TRUE;
        p->arch = g_strdup(attr(names, values, "arch"));
        p->machine = g_strdup(attr(names, values, "machine"));
        break;
    case NODE_ARG:
        if ((v = attr(names, values, "value")) != NULL)
            fwnmi_arg(p, v);
        break;
    case NODE_PROPERTY:
        v = attr(names, values, "type");
        if (g_strcmp0(attr(names, values, "name"), "cap-fwnmi") == 0
            && g_strcmp0(v, "remove") != 0 && (v = attr(names, values, "value")) != NULL)
            fwnmi_set(p, "cap-fwnmi", v, "in <qemu:override>");
        break;
    case NODE_OTHER:
    case NODE_DOMAIN:
    case NODE_OS:
    case NODE_COMMANDLINE:
    case NODE_OVERRIDE:
    case NODE_DEVICE:
    case NODE_FRONTEND:
        break;
    }
}

static void
fwnmi_end(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
    FwnmiParse *p = user_data;

    p->depth--;
}

/* "pseries-X.Y" as (X, Y); FALSE for anything else ("pseries-rhel9.4.0"). */
static gboolean
pseries_version(const char *machine, guint64 *major, guint64 *minor)
{
    g_auto(GStrv) parts = NULL;

    if (!g_str_has_prefix(machine, "pseries-"))
        return FALSE;
    parts = g_strsplit(machine + strlen("pseries-"), ".", -1);
    return g_strv_length(parts) == 2
           && g_ascii_string_to_unsigned(parts[0], 10, 0, 1000, major, NULL)
           && g_ascii_string_to_unsigned(parts[1], 10, 0, 1000, minor, NULL);
}

static McedFwnmi
fwnmi_classify(const FwnmiParse *p, char **why)
{
    const char *m = p->machine;
    guint64 major, minor;

    if (p->arch == NULL) {
        *why = g_strdup("no <os><type arch=...> in the domain XML");
        return MCED_FWNMI_NOT_PPC;
    }
    if (strcmp(p->arch, "ppc64") != 0 && strcmp(p->arch, "ppc64le") != 0) {
        *why = g_strdup_printf("architecture %s", p->arch);
        return MCED_FWNMI_NOT_PPC;
    }
    if (m == NULL) {
        *why = g_strdup_printf("%s, but no machine type in the domain XML", p->arch);
        return MCED_FWNMI_UNKNOWN;
    }
    if (strcmp(m, "pseries") != 0 && !g_str_has_prefix(m, "pseries-")) {
        *why = g_strdup_printf("machine %s is not pseries; FWNMI is a pseries feature", m);
        return MCED_FWNMI_NOT_PSERIES;
    }
    /* Set explicitly: the last setting wins, as in QEMU. */
    if (p->bad_value != NULL) {
        *why = g_strdup_printf("%s is not a boolean (machine %s)", p->bad_value, m);
        return MCED_FWNMI_UNKNOWN;
    }
    if (p->explicit_fwnmi >= 0) {
        *why = g_strdup_printf("%s (machine %s)", p->explicit_how, m);
        return p->explicit_fwnmi ? MCED_FWNMI_ON : MCED_FWNMI_OFF;
    }
    /* The machine type's default: on since pseries-5.0 (QEMU 5.0). */
    if (strcmp(m, "pseries") == 0) {
        *why = g_strdup("machine pseries, the newest pseries type");
        return MCED_FWNMI_ON;
    }
    if (!pseries_version(m, &major, &minor)) {
        *why = g_strdup_printf("machine %s: its cap-fwnmi default is not known here", m);
        return MCED_FWNMI_UNKNOWN;
    }
    if (major >= 5) {
        *why = g_strdup_printf("machine %s", m);
        return MCED_FWNMI_ON;
    }
    *why = g_strdup_printf("machine %s, older than pseries-5.0", m);
    return MCED_FWNMI_OFF;
}

static McedFwnmi
fwnmi_parse(FwnmiParse *p, const char *xml, char **why)
{
    static const GMarkupParser parser = {
        .start_element = fwnmi_start,
        .end_element = fwnmi_end,
    };
    g_autoptr(GMarkupParseContext) ctx = NULL;
    g_autoptr(GError) error = NULL;
    gsize len;

    if (xml == NULL) {
        *why = g_strdup("no domain XML");
        return MCED_FWNMI_ERROR;
    }
    len = strnlen(xml, MCED_DOMAIN_XML_MAX + 1);
    if (len > MCED_DOMAIN_XML_MAX) {
        *why = g_strdup_printf("domain XML larger than %d bytes, not read",
                               MCED_DOMAIN_XML_MAX);
        return MCED_FWNMI_ERROR;
    }
    ctx = g_markup_parse_context_new(&parser, 0, p, NULL);
    if (!g_markup_parse_context_parse(ctx, xml, (gssize)len, &error)
        || !g_markup_parse_context_end_parse(ctx, &error)) {
        /* GMarkup quotes the offending bytes, which need not be UTF-8:
         * the explanation goes into JSON and onto terminals. */
        g_autofree char *valid = g_utf8_make_valid(error->message, -1);

        *why = g_strdup_printf("domain XML: %s", valid);
        return MCED_FWNMI_ERROR;
    }
    return fwnmi_classify(p, why);
}

McedFwnmi
mced_domain_xml_fwnmi(const char *xml, char **ret_machine, char **ret_why)
{
    FwnmiParse p = { .explicit_fwnmi = -1 };
    g_autofree char *why = NULL;
    McedFwnmi r = fwnmi_parse(&p, xml, &why);

    if (ret_machine != NULL)
        *ret_machine = r == MCED_FWNMI_ERROR ? NULL : g_strdup(p.machine);
    if (ret_why != NULL)
        *ret_why = g_steal_pointer(&why);
    fwnmi_parse_clear(&p);
    return r;
}

/* ---- the domain's UUID ---------------------------------------------------- */

typedef struct {
    int depth;
    gboolean in_uuid;
    gboolean done;
    GString *uuid;
} UuidParse;

static void
uuid_start(GMarkupParseContext *ctx, const char *element, const char **names,
           const char **values, gpointer user_data, GError **error)
{
    UuidParse *u = user_data;

    if (++u->depth > 64) {
        g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "nested too deep");
        return;
    }
    u->in_uuid = !u->done && u->depth == 2 && strcmp(element, "uuid") == 0;
}

static void
uuid_end(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
    UuidParse *u = user_data;

    if (u->in_uuid)
        u->done = TRUE;
    u->in_uuid = FALSE;
    u->depth--;
}

static void
uuid_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
          GError **error)
{
    UuidParse *u = user_data;

    if (u->in_uuid && u->uuid->len + len <= 64)
        g_string_append_len(u->uuid, text, (gssize)len);
}

char *
mced_domain_xml_uuid(const char *xml, gsize len)
{
    static const GMarkupParser parser = {
        .start_element = uuid_start,
        .end_element = uuid_end,
        .text = uuid_text,
    };
    UuidParse u = { .uuid = g_string_new(NULL) };
    GMarkupParseContext *ctx;
    char *found;

    if (xml == NULL || len > MCED_DOMAIN_XML_MAX) {
        g_string_free(u.uuid, TRUE);
        return NULL;
    }
    ctx = g_markup_parse_context_new(&parser, 0, &u, NULL);
    /* What was read before an error still counts: the <uuid> comes early. */
    (void)g_markup_parse_context_parse(ctx, xml, (gssize)len, NULL);
    g_markup_parse_context_free(ctx);
    found = g_strstrip(u.uuid->str);
    found = u.done && mced_uuid_is_valid(found) ? g_ascii_strdown(found, -1) : NULL;
    g_string_free(u.uuid, TRUE);
    return found;
}

gboolean
mced_uuid_is_valid(const char *s)
{
    static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (s == NULL || strlen(s) != sizeof(form) - 1)
        return FALSE;
    for (gsize i = 0; form[i] != '\0'; i++)
        if (form[i] == '-' ? s[i] != '-' : !g_ascii_isxdigit(s[i]))
            return FALSE;
    return TRUE;
}
