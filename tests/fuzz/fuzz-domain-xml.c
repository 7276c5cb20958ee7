/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz lib/mced-domain-xml.c: the input as a whole domain XML document for
 * doctor's FWNMI classifier and for the libvirt hook's UUID. Checks that
 * the classifier answers within its enum with an explanation, that a
 * machine type comes only with a readable document, and that a UUID, when
 * one is found, is a valid lower-case UUID.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "mced-domain-xml.h"

static volatile gsize sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that reading past the end is caught; the
     * classifier takes a string, so it gets a NUL-terminated one. */
    char *copy = g_malloc(size > 0 ? size : 1);
    char *str = g_strndup((const char *)data, size);
    char *machine = NULL, *why = NULL, *uuid;
    McedFwnmi r;

    memcpy(copy, data, size);
    uuid = mced_domain_xml_uuid(copy, size);
    if (uuid != NULL) {
        g_assert_true(mced_uuid_is_valid(uuid));
        for (const char *p = uuid; *p != '\0'; p++)
            g_assert_false(g_ascii_isupper(*p));
    }

    r = mced_domain_xml_fwnmi(str, &machine, &why);
    g_assert_cmpint(r, >=, 0);
    g_assert_cmpint(r, <, _MCED_FWNMI_MAX);
    g_assert_nonnull(why);
    g_assert_true(g_utf8_validate(why, -1, NULL));
    if (r == MCED_FWNMI_ERROR)
        g_assert_null(machine);
    sink += strlen(why) + (machine != NULL ? strlen(machine) : 0);

    g_free(machine);
    g_free(why);
    g_free(uuid);
    g_free(str);
    g_free(copy);
    return 0;
}
