/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prefilter and the helpers every per-family parser shares.
 *
 * The prefilter is the hot path: it sees every kernel line on the host, and
 * all but a handful are not about machine checks. It looks at the first
 * byte, then compares at most one or two short prefixes.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

static const char *const kline_kind_str[_MCED_KLINE_KIND_MAX] = {
    [MCED_KLINE_NONE] = "none",
    [MCED_KLINE_MALFORMED] = "malformed",
    [MCED_KLINE_INFO] = "info",
    [MCED_KLINE_PPC_SUMMARY] = "ppc-summary",
    [MCED_KLINE_PPC_TASK] = "ppc-task",
    [MCED_KLINE_PPC_KNIP] = "ppc-kernel-nip",
    [MCED_KLINE_PPC_INITIATOR] = "ppc-initiator",
    [MCED_KLINE_PPC_CLASS] = "ppc-class",
    [MCED_KLINE_PPC_LEGACY_HEAD] = "ppc-legacy-head",
    [MCED_KLINE_PPC_LEGACY_GUEST_NIP] = "ppc-legacy-guest-nip",
    [MCED_KLINE_PPC_LEGACY_USER_NIP] = "ppc-legacy-user-nip",
    [MCED_KLINE_PPC_LEGACY_KERNEL_NIP] = "ppc-legacy-kernel-nip",
    [MCED_KLINE_PPC_LEGACY_INITIATOR] = "ppc-legacy-initiator",
    [MCED_KLINE_PPC_LEGACY_ERROR_TYPE] = "ppc-legacy-error-type",
    [MCED_KLINE_PPC_LEGACY_EA] = "ppc-legacy-ea",
    [MCED_KLINE_PPC_LEGACY_PA] = "ppc-legacy-pa",
    [MCED_KLINE_PPC_NOTICE] = "ppc-notice",
    [MCED_KLINE_X86_HEADER] = "x86-header",
    [MCED_KLINE_X86_RIP] = "x86-rip",
    [MCED_KLINE_X86_TSC] = "x86-tsc",
    [MCED_KLINE_X86_PROCESSOR] = "x86-processor",
    [MCED_KLINE_X86_TAIL] = "x86-tail",
    [MCED_KLINE_X86_PANIC] = "x86-panic",
    [MCED_KLINE_X86_EVENT] = "x86-event",
    [MCED_KLINE_MEMORY_FAILURE] = "memory-failure",
    [MCED_KLINE_QEMU_MEMORY_ERROR] = "qemu-memory-error",
    [MCED_KLINE_QEMU_FWNMI] = "qemu-fwnmi",
};

const char *
mced_kline_kind_to_string(McedKlineKind k)
{
    if (k < 0 || k >= _MCED_KLINE_KIND_MAX)
        return NULL;
    return kline_kind_str[k];
}

void
mced_kline_reset(McedKline *k)
{
    k->kind = MCED_KLINE_NONE;
    k->host_cpu = -1;
    k->severity = MCED_SEVERITY_UNKNOWN;
    k->disposition = MCED_DISPOSITION_UNKNOWN;
    k->num_present = 0;
    k->str_present = 0;
    k->bool_present = 0;
    k->bool_value = 0;
    memset(k->str, 0, sizeof(k->str));
    k->malformed_reason = NULL;
}

McedKlineKind
mced_kline_malformed(McedKline *k, const char *reason)
{
    mced_kline_reset(k);
    k->kind = MCED_KLINE_MALFORMED;
    k->malformed_reason = reason;
    return k->kind;
}

void
mced_kline_set_num(McedKline *k, McedNum n, guint64 v)
{
    k->num[n] = v;
    k->num_present |= G_GUINT64_CONSTANT(1) << n;
}

void
mced_kline_set_str(McedKline *k, McedStr s, const char *ptr, gsize len)
{
    k->str[s].ptr = ptr;
    k->str[s].len = len;
    if (ptr != NULL && len > 0)
        k->str_present |= 1u << s;
    else
        k->str_present &= ~(1u << s);
}

void
mced_kline_set_bool(McedKline *k, McedBool b, gboolean v)
{
    k->bool_present |= 1u << b;
    if (v)
        k->bool_value |= 1u << b;
    else
        k->bool_value &= ~(1u << b);
}

gboolean
mced_scan_head(const char **p, const char *end, const char *lit)
{
    gsize n = strlen(lit);
    gsize words = n;
    gsize avail = (gsize)(end - *p);

    while (words > 0 && lit[words - 1] == ' ')
        words--;
    if (avail < words || memcmp(*p, lit, words) != 0)
        return FALSE;
    if (avail >= n && memcmp(*p + words, lit + words, n - words) == 0) {
        *p += n;
        return TRUE;
    }
    if (avail == words) {
        *p += words;
        return TRUE;
    }
    return FALSE;
}

const char *
mced_trim_end(const char *msg, const char *end)
{
    while (end > msg && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
        end--;
    return end;
}

gboolean
mced_text_ok(const char *p, const char *end)
{
    if (p >= end)
        return FALSE;
    for (; p < end; p++) {
        guchar c = (guchar)*p;
        if (c < 0x20 || c == 0x7f)
            return FALSE;
    }
    return TRUE;
}

void
mced_kline_set_text(McedKline *k, McedStr s, const char *text)
{
    mced_kline_set_str(k, s, text, strlen(text));
}

gboolean
mced_scan_dec(const char **p, const char *end, guint64 max, guint64 *ret)
{
    const char *s = *p;
    guint64 v = 0;
    guint n = 0;

    /* Up to 19 decimal digits always fit in 64 bits, so only a 20th digit
     * needs the overflow check; the bound is applied once at the end. */
    for (; s < end && (guchar)(*s - '0') < 10; s++, n++) {
        guint d = (guint)(*s - '0');
        if (G_UNLIKELY(n >= 19) && (n > 19 || v > (G_MAXUINT64 - d) / 10))
            return FALSE;
        v = v * 10 + d;
    }
    if (n == 0 || v > max)
        return FALSE;
    *p = s;
    *ret = v;
    return TRUE;
}

/* Value of a hex digit, or 0xff. */
static inline guint8
hex_value(guchar c)
{
    if ((guchar)(c - '0') < 10)
        return (guint8)(c - '0');
    c |= 0x20; /* lower case */
    if ((guchar)(c - 'a') < 6)
        return (guint8)(c - 'a' + 10);
    return 0xff;
}

gboolean
mced_scan_hex(const char **p, const char *end, guint min_digits, guint max_digits, guint64 *ret)
{
    const char *s = *p;
    guint64 v = 0;
    guint n = 0;
    guint8 d;

    for (; s < end && (d = hex_value((guchar)*s)) != 0xff; s++, n++) {
        if (n >= max_digits || n >= 16)
            return FALSE;
        v = (v << 4) | d;
    }
    if (n == 0 || n < min_digits)
        return FALSE;
    *p = s;
    *ret = v;
    return TRUE;
}

gboolean
mced_scan_0xhex(const char **p, const char *end, guint64 *ret)
{
    const char *s = *p;

    if (!mced_scan_lit(&s, end, "0x"))
        return FALSE;
    if (!mced_scan_hex(&s, end, 1, 16, ret))
        return FALSE;
    *p = s;
    return TRUE;
}

gboolean
mced_comm_vcpu(const char *comm, gsize len, guint64 *ret_vcpu)
{
    const char *p = comm, *end = comm + len;
    guint64 v;

    /* QEMU names vCPU threads "CPU <index>/<accel>" (KVM, TCG, HVF, ...);
     * the kernel keeps at most 15 bytes of it. */
    if (!mced_scan_lit(&p, end, "CPU "))
        return FALSE;
    if (!mced_scan_dec(&p, end, G_MAXINT32, &v))
        return FALSE;
    if (p >= end || *p != '/')
        return FALSE;
    p++;
    if (p >= end)
        return FALSE;
    for (; p < end; p++)
        if (!g_ascii_isalnum(*p))
            return FALSE;
    *ret_vcpu = v;
    return TRUE;
}

/* First bytes of every line any parser may claim. */
static const gboolean prefilter_first[256] = {
    ['M'] = TRUE, ['m'] = TRUE, ['c'] = TRUE, ['q'] = TRUE, ['S'] = TRUE, ['F'] = TRUE,
    ['W'] = TRUE, ['H'] = TRUE, ['G'] = TRUE, ['N'] = TRUE, ['I'] = TRUE, ['E'] = TRUE,
    ['P'] = TRUE,
};

#define HAS_PREFIX(m, len, lit) ((len) >= sizeof(lit) - 1 && memcmp((m), (lit), sizeof(lit) - 1) == 0)

static McedKlineKind
parse_mce_prefixed(const char *msg, gsize len, McedKline *out)
{
    /* "mce: " is the pr_fmt of both arch/powerpc/kernel/mce.c and the x86
     * MCE core; the ppc64 notices are two fixed sentences. */
    McedKlineKind k = mced_kline_parse_ppc64(msg, len, out);
    if (k != MCED_KLINE_NONE)
        return k;
    return mced_kline_parse_x86(msg, len, out);
}

McedKlineKind
mced_kline_parse(const char *msg, gsize len, McedKline *out)
{
    /* Nothing is cleared until the prefilter has said "maybe": the slot
     * table is large and most lines never get that far. */
    out->kind = MCED_KLINE_NONE;
    out->malformed_reason = NULL;

    /* Old-format ppc64 continuation lines are indented; nothing else we
     * match starts with blanks. */
    while (len > 0 && (*msg == ' ' || *msg == '\t')) {
        msg++;
        len--;
    }
    if (len < 4 || !prefilter_first[(guchar)msg[0]])
        return MCED_KLINE_NONE;
    mced_kline_reset(out);

    switch (msg[0]) {
    case 'M':
        if (HAS_PREFIX(msg, len, "MCE: CPU") || HAS_PREFIX(msg, len, "Machine check interrupt"))
            break;
        if (HAS_PREFIX(msg, len, "Memory failure: ") || HAS_PREFIX(msg, len, "MCE: Killing "))
            goto memory_failure;
        return MCED_KLINE_NONE;
    case 'm':
        if (!HAS_PREFIX(msg, len, "mce: "))
            return MCED_KLINE_NONE;
        if (len > MCED_KLINE_MAX_LEN)
            return mced_kline_malformed(out, "line too long");
        return parse_mce_prefixed(msg, len, out);
    case 'c':
        if (!HAS_PREFIX(msg, len, "core: [Hardware Error]: "))
            return MCED_KLINE_NONE;
        if (len > MCED_KLINE_MAX_LEN)
            return mced_kline_malformed(out, "line too long");
        return mced_kline_parse_x86(msg, len, out);
    case 'q':
        if (!HAS_PREFIX(msg, len, "qemu"))
            return MCED_KLINE_NONE;
        if (len > MCED_KLINE_MAX_LEN)
            return MCED_KLINE_NONE; /* QEMU prints plenty of long lines */
        return mced_kline_parse_qemu(msg, len, out);
    case 'S': /* "Severe Machine check interrupt" */
    case 'F': /* "Fatal ..." */
    case 'W': /* "Warning ..." */
    case 'H': /* "Harmless ..." */
    case 'G': /* "Guest NIP: " */
    case 'N': /* "NIP: [" / "NIP [" */
    case 'I': /* "Initiator: " */
    case 'E': /* "Error type: " / "Effective address: " */
    case 'P': /* "Physical address: " */
        break;
    default:
        return MCED_KLINE_NONE;
    }

    if (len > MCED_KLINE_MAX_LEN) {
        /* Only claim an overlong line if it really starts like ours. */
        if (mced_kline_parse_ppc64(msg, MCED_KLINE_MAX_LEN, out) == MCED_KLINE_NONE)
            return MCED_KLINE_NONE;
        return mced_kline_malformed(out, "line too long");
    }
    return mced_kline_parse_ppc64(msg, len, out);

memory_failure:
    if (len > MCED_KLINE_MAX_LEN)
        return mced_kline_malformed(out, "line too long");
    return mced_kline_parse_memory_failure(msg, len, out);
}
