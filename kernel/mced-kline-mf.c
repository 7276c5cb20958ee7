/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mm/memory-failure.c console lines ("Memory failure: " pr_fmt) and the
 * x86 "MCE: Killing <comm>:<pid> due to hardware memory corruption fault at
 * <addr>" line some kernels print from the #MC handler.
 *
 * Almost every line is "<pfn>: <text>" with the pfn printed by %#lx ("0"
 * for zero, "0x..." otherwise). Task names (comm) may contain ':' and
 * spaces, so a "<comm>:<pid>" pair is found from the right: the fixed text
 * after it is anchored at the end of the line, and the pid follows the last
 * ':' before that.
 */
#include "config.h"

#include <string.h>

#include "mced-kline.h"

typedef enum {
    MF_SHAPE_EXACT,      /* the whole text is the head */
    MF_SHAPE_TASK,       /* head <comm>:<pid> tail */
    MF_SHAPE_RECOVERY,   /* head <page type>: <result> */
    MF_SHAPE_REFERENCED, /* <page type> still referenced by <n> tail */
} MfShape;

/* What may follow "<pfn>: ", most frequent first. */
static const struct {
    MfShape shape;
    const char *head;
    const char *tail;
    const char *action;
    McedDisposition disposition;
} pfn_texts[] = {
    { MF_SHAPE_RECOVERY, "recovery action for ", "", "recovery", MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_TASK, "Sending SIGBUS to ", " due to hardware memory corruption", "sigbus",
      MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_EXACT, "already hardware poisoned", "", "already-poisoned",
      MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_EXACT, "corrupted page was clean: dropped without side effects", "",
      "clean-dropped", MCED_DISPOSITION_RECOVERED },
    { MF_SHAPE_TASK, "Killing ", " due to hardware memory corruption", "kill",
      MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_TASK, "forcibly killing ", " because of failure to unmap corrupted page",
      "forced-kill", MCED_DISPOSITION_NOT_RECOVERED },
    { MF_SHAPE_TASK, "Cannot send advisory machine check signal to ", "", "signal-failed",
      MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_EXACT, "Unknown page state", "", "unknown-page-state", MCED_DISPOSITION_UNKNOWN },
    { MF_SHAPE_REFERENCED, "", " users", "still-referenced", MCED_DISPOSITION_UNKNOWN },
};

/* action_name[] in mm/memory-failure.c; action_result() returns 0 (the page
 * was dealt with) for Recovered and Delayed only. */
static const struct {
    const char *name;
    McedDisposition disposition;
} results[] = {
    { "Recovered", MCED_DISPOSITION_RECOVERED },
    { "Delayed", MCED_DISPOSITION_RECOVERED },
    { "Ignored", MCED_DISPOSITION_NOT_RECOVERED },
    { "Failed", MCED_DISPOSITION_NOT_RECOVERED },
};

static gboolean
is_exactly(const char *p, const char *end, const char *lit)
{
    return mced_scan_lit(&p, end, lit) && p == end;
}

/* Start of @lit if [p, end) ends with it, else NULL. */
static const char *
find_tail(const char *p, const char *end, const char *lit)
{
    gsize n = strlen(lit);

    if ((gsize)(end - p) < n || memcmp(end - n, lit, n) != 0)
        return NULL;
    return end - n;
}

/* Last occurrence of @lit inside [p, end), or NULL. */
static const char *
find_last(const char *p, const char *end, const char *lit)
{
    gsize n = strlen(lit);

    if ((gsize)(end - p) < n)
        return NULL;
    for (const char *s = end - n; s >= p; s--) {
        if (memcmp(s, lit, n) == 0)
            return s;
        if (s == p)
            break;
    }
    return NULL;
}

static McedKlineKind
memory_failure(McedKline *out, const char *action, McedDisposition disposition)
{
    mced_kline_set_text(out, MCED_STR_ACTION, action);
    out->severity = MCED_SEVERITY_SEVERE;
    out->disposition = disposition;
    out->kind = MCED_KLINE_MEMORY_FAILURE;
    return out->kind;
}

/* "<comm>:<pid>" filling the whole of [p, end) */
static gboolean
parse_task(const char *p, const char *end, McedKline *out)
{
    const char *colon = find_last(p, end, ":");
    const char *s;
    guint64 tid, vcpu;

    if (colon == NULL || !mced_text_ok(p, colon))
        return FALSE;
    s = colon + 1;
    if (!mced_scan_dec(&s, end, G_MAXINT32, &tid) || s != end)
        return FALSE;
    mced_kline_set_str(out, MCED_STR_COMM, p, (gsize)(colon - p));
    mced_kline_set_num(out, MCED_NUM_TID, tid);
    if (mced_comm_vcpu(p, (gsize)(colon - p), &vcpu))
        mced_kline_set_num(out, MCED_NUM_VCPU, vcpu);
    return TRUE;
}

/* "<page type>: <result>", the page type being everything up to the last
 * ": ". Returns NULL or why the line is malformed. */
static const char *
parse_recovery(const char *p, const char *end, McedKline *out, McedDisposition *disposition)
{
    const char *sep = find_last(p, end, ": ");

    if (sep == NULL || !mced_text_ok(p, sep))
        return "bad memory failure recovery line";
    for (gsize i = 0; i < G_N_ELEMENTS(results); i++) {
        if (is_exactly(sep + 2, end, results[i].name)) {
            mced_kline_set_str(out, MCED_STR_PAGE_TYPE, p, (gsize)(sep - p));
            mced_kline_set_str(out, MCED_STR_RESULT, sep + 2, (gsize)(end - sep - 2));
            *disposition = results[i].disposition;
            return NULL;
        }
    }
    return "unknown memory failure recovery result";
}

/* "<page type> still referenced by <n>" (the " users" tail already cut) */
static const char *
parse_referenced(const char *p, const char *end, McedKline *out)
{
    static const char mid_lit[] = " still referenced by ";
    const char *mid = find_last(p, end, mid_lit);
    const char *s;
    guint64 users;

    if (mid == NULL || !mced_text_ok(p, mid))
        return "bad still-referenced line";
    s = mid + strlen(mid_lit);
    if (!mced_scan_dec(&s, end, G_MAXINT32, &users) || s != end)
        return "bad still-referenced user count";
    mced_kline_set_str(out, MCED_STR_PAGE_TYPE, p, (gsize)(mid - p));
    mced_kline_set_num(out, MCED_NUM_USERS, users);
    return NULL;
}

/* The text after "<pfn>: " */
static McedKlineKind
parse_pfn_text(const char *p, const char *end, McedKline *out)
{
    for (gsize i = 0; i < G_N_ELEMENTS(pfn_texts); i++) {
        McedDisposition disposition = pfn_texts[i].disposition;
        const char *reason = NULL;
        const char *s = p;
        const char *tail;

        if (!mced_scan_head(&s, end, pfn_texts[i].head))
            continue;
        tail = find_tail(s, end, pfn_texts[i].tail);
        /* An empty head claims the line only through its tail. */
        if (pfn_texts[i].head[0] == '\0' &&
            (tail == NULL || find_last(s, tail, " still referenced by ") == NULL))
            continue;
        if (tail == NULL)
            return mced_kline_malformed(out, "bad memory failure line ending");

        switch (pfn_texts[i].shape) {
        case MF_SHAPE_EXACT:
            if (s != tail)
                reason = "trailing junk in memory failure line";
            break;
        case MF_SHAPE_TASK:
            if (!parse_task(s, tail, out))
                reason = "bad task in memory failure line";
            break;
        case MF_SHAPE_RECOVERY:
            reason = parse_recovery(s, tail, out, &disposition);
            break;
        case MF_SHAPE_REFERENCED:
            reason = parse_referenced(s, tail, out);
            break;
        }
        if (reason != NULL)
            return mced_kline_malformed(out, reason);
        return memory_failure(out, pfn_texts[i].action, disposition);
    }

    /* Any other message about a valid pfn is still worth recording. */
    if (!mced_text_ok(p, end))
        return mced_kline_malformed(out, "missing text after pfn");
    mced_kline_set_str(out, MCED_STR_MESSAGE, p, (gsize)(end - p));
    return memory_failure(out, "other", MCED_DISPOSITION_UNKNOWN);
}

/* "%#lx: ": "0" for zero, "0x<hex>" otherwise */
static gboolean
scan_pfn(const char **p, const char *end, guint64 *ret)
{
    const char *s = *p;
    guint64 v = 0;

    if (!mced_scan_0xhex(&s, end, &v)) {
        if (!mced_scan_lit(&s, end, "0"))
            return FALSE;
    }
    if (!mced_scan_lit(&s, end, ": "))
        return FALSE;
    *p = s;
    *ret = v;
    return TRUE;
}

/* kill_proc(): "Error sending signal to <comm>:<pid>: <errno>" */
static McedKlineKind
parse_signal_error(const char *p, const char *end, McedKline *out)
{
    const char *sep = find_last(p, end, ": ");
    const char *s;
    guint64 err;

    if (sep == NULL)
        return mced_kline_malformed(out, "bad signal error line");
    s = sep + 2;
    (void)mced_scan_lit(&s, end, "-");
    if (!mced_scan_dec(&s, end, G_MAXINT32, &err) || s != end)
        return mced_kline_malformed(out, "bad signal error number");
    if (!parse_task(p, sep, out))
        return mced_kline_malformed(out, "bad task in signal error line");
    return memory_failure(out, "signal-failed", MCED_DISPOSITION_UNKNOWN);
}

/* "Unable to find user space address %lx in <comm>" */
static McedKlineKind
parse_no_user_address(const char *p, const char *end, McedKline *out)
{
    guint64 ea;

    if (!mced_scan_hex(&p, end, 1, 16, &ea) || !mced_scan_lit(&p, end, " in ") ||
        !mced_text_ok(p, end))
        return mced_kline_malformed(out, "bad user space address line");
    mced_kline_set_num(out, MCED_NUM_EA, ea);
    mced_kline_set_str(out, MCED_STR_COMM, p, (gsize)(end - p));
    return memory_failure(out, "no-user-address", MCED_DISPOSITION_UNKNOWN);
}

static McedKlineKind
parse_without_pfn(const char *p, const char *end, McedKline *out)
{
    if (mced_scan_head(&p, end, "Error sending signal to "))
        return parse_signal_error(p, end, out);
    if (mced_scan_head(&p, end, "Unable to find user space address "))
        return parse_no_user_address(p, end, out);
    /* unpoison_pr_info(): a test/debug action (hwpoison-inject), not an error */
    if (mced_scan_head(&p, end, "Unpoison: ")) {
        out->kind = MCED_KLINE_INFO;
        return out->kind;
    }
    return mced_kline_malformed(out, "memory failure line without a valid pfn");
}

/* "MCE: Killing <comm>:<pid> due to hardware memory corruption fault at %lx" */
static McedKlineKind
parse_mce_killing(const char *p, const char *end, McedKline *out)
{
    static const char mid_lit[] = " due to hardware memory corruption fault at ";
    const char *mid = find_last(p, end, mid_lit);
    const char *s;
    guint64 ea;

    if (mid == NULL)
        return mced_kline_malformed(out, "bad MCE kill line");
    s = mid + strlen(mid_lit);
    if (!mced_scan_hex(&s, end, 1, 16, &ea) || s != end)
        return mced_kline_malformed(out, "bad MCE kill fault address");
    if (!parse_task(p, mid, out))
        return mced_kline_malformed(out, "bad task in MCE kill line");
    mced_kline_set_num(out, MCED_NUM_EA, ea);
    return memory_failure(out, "kill", MCED_DISPOSITION_UNKNOWN);
}

McedKlineKind
mced_kline_parse_memory_failure(const char *msg, gsize len, McedKline *out)
{
    const char *p = msg;
    const char *end = msg + len;
    guint64 pfn;

    mced_kline_reset(out);
    if (mced_scan_lit(&p, end, "MCE: Killing "))
        return parse_mce_killing(p, mced_trim_end(p, end), out);
    if (!mced_scan_lit(&p, end, "Memory failure: "))
        return MCED_KLINE_NONE;
    end = mced_trim_end(p, end);

    if (p < end && g_ascii_isdigit(*p)) {
        if (!scan_pfn(&p, end, &pfn))
            return mced_kline_malformed(out, "bad pfn");
        mced_kline_set_num(out, MCED_NUM_PFN, pfn);
        return parse_pfn_text(p, end, out);
    }
    return parse_without_pfn(p, end, out);
}
