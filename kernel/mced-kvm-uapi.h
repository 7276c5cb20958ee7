/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * KVM UAPI constants kvm-mced relies on, taken from the system's
 * <linux/kvm.h> when it has them and defined here when it does not (old
 * headers, or headers of another architecture: the ppc64 kvm_run flags live
 * in arch/powerpc's <asm/kvm.h>). The values are kernel ABI and never change.
 */
#pragma once

/* MCED_KVM_UAPI_FALLBACK_ONLY: tests build the fallbacks alone. */
#if !defined(MCED_KVM_UAPI_FALLBACK_ONLY) && defined(__has_include)
#if __has_include(<linux/kvm.h>)
#include <linux/kvm.h>
#endif
#endif

/* exit reason of KVM_RUN */
#ifndef KVM_EXIT_NMI
#define KVM_EXIT_NMI 16
#endif

/* capabilities (KVM_CHECK_EXTENSION) */
#ifndef KVM_CAP_MCE
#define KVM_CAP_MCE 31
#endif
#ifndef KVM_CAP_PPC_FWNMI
#define KVM_CAP_PPC_FWNMI 146
#endif

/* ppc64: machine-check disposition KVM leaves in kvm_run.flags with
 * KVM_EXIT_NMI. KVM itself only ever sets FULLY_RECOV or NOT_RECOV. */
#ifndef KVM_RUN_PPC_NMI_DISP_MASK
#define KVM_RUN_PPC_NMI_DISP_MASK (3 << 0)
#endif
#ifndef KVM_RUN_PPC_NMI_DISP_FULLY_RECOV
#define KVM_RUN_PPC_NMI_DISP_FULLY_RECOV (1 << 0)
#endif
#ifndef KVM_RUN_PPC_NMI_DISP_LIMITED_RECOV
#define KVM_RUN_PPC_NMI_DISP_LIMITED_RECOV (2 << 0)
#endif
#ifndef KVM_RUN_PPC_NMI_DISP_NOT_RECOV
#define KVM_RUN_PPC_NMI_DISP_NOT_RECOV (3 << 0)
#endif

/* ioctl group of /dev/kvm */
#ifndef KVMIO
#define KVMIO 0xAE
#endif
