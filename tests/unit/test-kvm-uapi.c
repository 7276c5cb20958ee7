/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fallback values must equal the kernel's ABI. This file is built
 * twice: against the system header (when present) and against the
 * fallbacks alone, and both must agree with the values the kernel defines.
 */
#include "config.h"

#include <glib.h>

#include "mced-kvm-uapi.h"

G_STATIC_ASSERT(KVM_EXIT_NMI == 16);
G_STATIC_ASSERT(KVM_CAP_MCE == 31);
G_STATIC_ASSERT(KVM_CAP_PPC_FWNMI == 146);
G_STATIC_ASSERT(KVM_RUN_PPC_NMI_DISP_MASK == 3);
G_STATIC_ASSERT(KVM_RUN_PPC_NMI_DISP_FULLY_RECOV == 1);
G_STATIC_ASSERT(KVM_RUN_PPC_NMI_DISP_LIMITED_RECOV == 2);
G_STATIC_ASSERT(KVM_RUN_PPC_NMI_DISP_NOT_RECOV == 3);
G_STATIC_ASSERT(KVMIO == 0xAE);

static void
test_disposition_mask(void)
{
    /* every disposition lies inside the mask, and they are distinct */
    guint v[] = { KVM_RUN_PPC_NMI_DISP_FULLY_RECOV, KVM_RUN_PPC_NMI_DISP_LIMITED_RECOV,
                  KVM_RUN_PPC_NMI_DISP_NOT_RECOV };
    for (gsize i = 0; i < G_N_ELEMENTS(v); i++) {
        g_assert_cmpuint(v[i] & ~(guint)KVM_RUN_PPC_NMI_DISP_MASK, ==, 0);
        for (gsize j = i + 1; j < G_N_ELEMENTS(v); j++)
            g_assert_cmpuint(v[i], !=, v[j]);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm-uapi/disposition-mask", test_disposition_mask);
    return g_test_run();
}
