/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What kvm-mced reads out of libvirt's domain XML (see mced-domain-xml.c). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a domain's XML says about FWNMI (QEMU's spapr cap-fwnmi). */
typedef enum {
    MCED_FWNMI_ON,
    MCED_FWNMI_OFF,
    MCED_FWNMI_UNKNOWN,     /* pseries, but nothing tells which way */
    MCED_FWNMI_NOT_PSERIES, /* ppc64 with another machine (powernv, ...) */
    MCED_FWNMI_NOT_PPC,     /* not ppc64/ppc64le: FWNMI does not apply */
    MCED_FWNMI_ERROR,       /* the XML cannot be read */
    _MCED_FWNMI_MAX,
} McedFwnmi;

/* Larger domain XML is refused (MCED_FWNMI_ERROR) without parsing it. */
#define MCED_DOMAIN_XML_MAX (4 * 1024 * 1024)

/*
 * Classifies one domain from its XML (virDomainGetXMLDesc): the <os><type>
 * arch and machine, and any cap-fwnmi set in <qemu:commandline> or
 * <qemu:override>. @ret_machine (the machine type, or NULL) and @ret_why (a
 * short explanation, always set) may be NULL; free both with g_free().
 * Never fails: unreadable XML is MCED_FWNMI_ERROR with the reason in
 * @ret_why.
 */
McedFwnmi mced_domain_xml_fwnmi(const char *xml, char **ret_machine, char **ret_why);

/* The domain's own UUID (the <uuid> child of the root element), lower
 * case, or NULL when there is none or it is not a UUID. Reads at most
 * MCED_DOMAIN_XML_MAX bytes; a document broken after the <uuid> still
 * gives it. */
char *mced_domain_xml_uuid(const char *xml, gsize len);

/* "6695eb01-f6a4-8304-79aa-97f2502e193f" in either case. */
gboolean mced_uuid_is_valid(const char *s);

G_END_DECLS
