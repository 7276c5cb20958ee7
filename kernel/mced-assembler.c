/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-assembler.h"

/* How a pending record is keyed and when it ends. */
typedef enum {
    RECORD_COMPACT, /* ppc64 "MCE: CPU<n>:", keyed by host CPU, ends at the class line */
    RECORD_LEGACY,  /* ppc64 pre-2019 block, adjacency, ends by timeout/next head */
    RECORD_X86,     /* x86 "[Hardware Error]:" block, adjacency, ends after PROCESSOR */
} RecordType;

typedef struct {
    RecordType type;
    McedObservation *obs;
    guint64 seq;       /* creation order, for deterministic flushing */
    gint64 last_us;    /* monotonic time of the latest line, 0 if unknown */
    gint host_cpu;
    guint64 seen;      /* bit per McedKlineKind merged into this record */
    gboolean tail;     /* x86: PROCESSOR seen, only trailer lines may follow */
} Pending;

struct McedAssembler {
    gint64 idle_us;
    McedObservationFunc emit;
    gpointer user_data;
    GHashTable *compact; /* host CPU -> Pending* (owned) */
    Pending *legacy;
    Pending *x86;
    guint64 next_seq;
    gint64 deadline_floor; /* no record expires before this (a lower bound) */
    McedAssemblerStats stats;
};

#define KIND_BIT(k) (G_GUINT64_CONSTANT(1) << (k))
G_STATIC_ASSERT(_MCED_KLINE_KIND_MAX <= 64);

static void
pending_free(Pending *p)
{
    if (p == NULL)
        return;
    mced_observation_unref(p->obs);
    g_free(p);
}

McedAssembler *
mced_assembler_new(gint64 idle_timeout_us, McedObservationFunc emit, gpointer user_data)
{
    McedAssembler *a;

    g_return_val_if_fail(emit != NULL, NULL);

    a = g_new0(McedAssembler, 1);
    a->idle_us = idle_timeout_us > 0 ? idle_timeout_us : MCED_ASSEMBLER_DEFAULT_IDLE_US;
    a->emit = emit;
    a->user_data = user_data;
    a->compact = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify)pending_free);
    return a;
}

void
mced_assembler_free(McedAssembler *a)
{
    if (a == NULL)
        return;
    g_hash_table_unref(a->compact);
    pending_free(a->legacy);
    pending_free(a->x86);
    g_free(a->stats.first_malformed);
    g_free(a->stats.first_malformed_reason);
    g_free(a->stats.first_malformed_cursor);
    g_free(a);
}

void
mced_assembler_set_idle_timeout(McedAssembler *a, gint64 idle_timeout_us)
{
    g_return_if_fail(a != NULL);
    a->idle_us = idle_timeout_us > 0 ? idle_timeout_us : MCED_ASSEMBLER_DEFAULT_IDLE_US;
    a->deadline_floor = 0; /* recompute on the next expire() */
}

static McedObsKind
obs_kind_for(McedKlineKind k)
{
    switch (k) {
    case MCED_KLINE_X86_HEADER:
    case MCED_KLINE_X86_RIP:
    case MCED_KLINE_X86_TSC:
    case MCED_KLINE_X86_PROCESSOR:
    case MCED_KLINE_X86_TAIL:
    case MCED_KLINE_X86_PANIC:
    case MCED_KLINE_X86_EVENT:
        return MCED_OBS_X86_MCE;
    case MCED_KLINE_MEMORY_FAILURE:
        return MCED_OBS_MEMORY_FAILURE;
    case MCED_KLINE_QEMU_MEMORY_ERROR:
        return MCED_OBS_QEMU_MEMORY_ERROR;
    case MCED_KLINE_QEMU_FWNMI:
        return MCED_OBS_QEMU_FWNMI;
    case MCED_KLINE_NONE:
    case MCED_KLINE_MALFORMED:
    case MCED_KLINE_INFO:
    case MCED_KLINE_PPC_SUMMARY:
    case MCED_KLINE_PPC_TASK:
    case MCED_KLINE_PPC_KNIP:
    case MCED_KLINE_PPC_INITIATOR:
    case MCED_KLINE_PPC_CLASS:
    case MCED_KLINE_PPC_LEGACY_HEAD:
    case MCED_KLINE_PPC_LEGACY_GUEST_NIP:
    case MCED_KLINE_PPC_LEGACY_USER_NIP:
    case MCED_KLINE_PPC_LEGACY_KERNEL_NIP:
    case MCED_KLINE_PPC_LEGACY_INITIATOR:
    case MCED_KLINE_PPC_LEGACY_ERROR_TYPE:
    case MCED_KLINE_PPC_LEGACY_EA:
    case MCED_KLINE_PPC_LEGACY_PA:
    case MCED_KLINE_PPC_NOTICE:
    case _MCED_KLINE_KIND_MAX:
    case _MCED_KLINE_KIND_INVALID:
        break;
    }
    return MCED_OBS_PPC64_MCE;
}

/* Fold one parsed line into an observation: later lines add fields;
 * severity and disposition keep the worst seen. */
static void
merge_line(McedObservation *obs, const McedKline *k, const McedLineInfo *info, const char *msg,
           gsize len)
{
    if (obs->lines->len == 0) {
        obs->realtime_us = info->realtime_us;
        obs->monotonic_us = info->monotonic_us;
        obs->cursor = g_strdup(info->cursor);
    }
    if (k->severity > obs->severity)
        obs->severity = k->severity;
    if (k->disposition > obs->disposition)
        obs->disposition = k->disposition;
    /* Walk only the slots the line set. */
    for (guint64 bits = k->num_present; bits != 0; bits &= bits - 1) {
        int n = __builtin_ctzll(bits);
        mced_observation_set_num(obs, (McedNum)n, k->num[n]);
    }
    for (guint32 bits = k->str_present; bits != 0; bits &= bits - 1) {
        int n = __builtin_ctz(bits);
        mced_observation_set_str(obs, (McedStr)n, k->str[n].ptr, (gssize)k->str[n].len);
    }
    for (guint32 bits = k->bool_present; bits != 0; bits &= bits - 1) {
        int n = __builtin_ctz(bits);
        mced_observation_set_bool(obs, (McedBool)n, (k->bool_value & (1u << n)) != 0);
    }
    if (info->raw != NULL)
        mced_observation_add_line(obs, info->raw, info->raw_len);
    else
        mced_observation_add_line(obs, msg, len);
}

static void
emit_observation(McedAssembler *a, McedObservation *obs)
{
    mced_observation_freeze(obs);
    a->stats.observations++;
    a->emit(obs, a->user_data);
}

/* Hand a pending record on, then forget it. @complete says whether its
 * last line arrived (FALSE: timeout, flush, eviction, or interruption). */
static void
finish(McedAssembler *a, Pending *p, gboolean complete)
{
    McedObservation *obs = g_steal_pointer(&p->obs);

    if (!complete)
        a->stats.records_incomplete++;
    emit_observation(a, obs);
    if (p->type == RECORD_COMPACT)
        g_hash_table_remove(a->compact, GINT_TO_POINTER(p->host_cpu));
    else if (p->type == RECORD_LEGACY) {
        g_assert(a->legacy == p);
        a->legacy = NULL;
        pending_free(p);
    } else {
        g_assert(a->x86 == p);
        a->x86 = NULL;
        pending_free(p);
    }
}

/* A legacy block has no final line and an x86 block ends with optional
 * trailer lines, so reaching their end by timeout is their normal end. */
static gboolean
ended_normally(const Pending *p)
{
    switch (p->type) {
    case RECORD_LEGACY:
        return (p->seen & KIND_BIT(MCED_KLINE_PPC_LEGACY_ERROR_TYPE)) != 0;
    case RECORD_X86:
        return p->tail;
    case RECORD_COMPACT:
        break;
    }
    return FALSE;
}

static gint
compare_seq(gconstpointer x, gconstpointer y)
{
    const Pending *p = *(Pending *const *)x;
    const Pending *q = *(Pending *const *)y;

    return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Finish every pending record for which @pred holds, oldest first. */
static void
finish_matching(McedAssembler *a, gboolean (*pred)(const McedAssembler *, const Pending *, gint64),
                gint64 now_us)
{
    g_autoptr(GPtrArray) victims = g_ptr_array_new();
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, a->compact);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (pred(a, value, now_us))
            g_ptr_array_add(victims, value);
    if (a->legacy != NULL && pred(a, a->legacy, now_us))
        g_ptr_array_add(victims, a->legacy);
    if (a->x86 != NULL && pred(a, a->x86, now_us))
        g_ptr_array_add(victims, a->x86);

    g_ptr_array_sort(victims, compare_seq);
    for (guint i = 0; i < victims->len; i++) {
        Pending *p = victims->pdata[i];
        finish(a, p, ended_normally(p));
    }
}

static gboolean
pred_all(const McedAssembler *a, const Pending *p, gint64 now_us)
{
    return TRUE;
}

static gboolean
pred_idle(const McedAssembler *a, const Pending *p, gint64 now_us)
{
    return p->last_us > 0 && now_us - p->last_us >= a->idle_us;
}

void
mced_assembler_expire(McedAssembler *a, gint64 now_us)
{
    gint64 deadline;

    g_return_if_fail(a != NULL);
    /* The common case costs one comparison: lines only ever push
     * deadlines later, so the floor stays a valid lower bound. */
    if (now_us < a->deadline_floor)
        return;
    deadline = mced_assembler_next_deadline(a);
    if (deadline >= 0 && now_us >= deadline) {
        finish_matching(a, pred_idle, now_us);
        deadline = mced_assembler_next_deadline(a);
    }
    a->deadline_floor = deadline < 0 ? G_MAXINT64 : deadline;
}

void
mced_assembler_flush(McedAssembler *a)
{
    g_return_if_fail(a != NULL);
    finish_matching(a, pred_all, 0);
}

gint64
mced_assembler_next_deadline(const McedAssembler *a)
{
    gint64 first = -1;
    GHashTableIter it;
    gpointer value;
    const Pending *singles[] = { a->legacy, a->x86 };

    g_hash_table_iter_init(&it, a->compact);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const Pending *p = value;
        if (p->last_us > 0 && (first < 0 || p->last_us + a->idle_us < first))
            first = p->last_us + a->idle_us;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(singles); i++) {
        const Pending *p = singles[i];
        if (p != NULL && p->last_us > 0 && (first < 0 || p->last_us + a->idle_us < first))
            first = p->last_us + a->idle_us;
    }
    return first;
}

guint
mced_assembler_n_pending(const McedAssembler *a)
{
    return g_hash_table_size(a->compact) + (a->legacy != NULL) + (a->x86 != NULL);
}

const McedAssemblerStats *
mced_assembler_get_stats(const McedAssembler *a)
{
    return &a->stats;
}

static void
note_malformed(McedAssembler *a, const McedKline *k, const McedLineInfo *info, const char *msg,
               gsize len)
{
    a->stats.lines_malformed++;
    if (a->stats.first_malformed != NULL)
        return;
    a->stats.first_malformed = mced_escape_line(msg, len, 256);
    a->stats.first_malformed_reason = g_strdup(k->malformed_reason);
    a->stats.first_malformed_cursor = g_strdup(info->cursor);
}

static Pending *
pending_new(McedAssembler *a, RecordType type, gint host_cpu)
{
    Pending *p = g_new0(Pending, 1);

    p->type = type;
    p->seq = a->next_seq++;
    p->host_cpu = host_cpu;
    p->obs = mced_observation_new(type == RECORD_X86 ? MCED_OBS_X86_MCE : MCED_OBS_PPC64_MCE);
    if (type == RECORD_COMPACT)
        mced_observation_set_str(p->obs, MCED_STR_FORMAT, "compact", -1);
    else if (type == RECORD_LEGACY)
        mced_observation_set_str(p->obs, MCED_STR_FORMAT, "legacy", -1);
    return p;
}

static void
add_to(McedAssembler *a, Pending *p, const McedKline *k, const McedLineInfo *info, const char *msg, gsize len)
{
    merge_line(p->obs, k, info, msg, len);
    p->seen |= KIND_BIT(k->kind);
    if (info->monotonic_us > 0) {
        p->last_us = info->monotonic_us;
        if (p->last_us + a->idle_us < a->deadline_floor)
            a->deadline_floor = p->last_us + a->idle_us;
    }
}

static void
evict_oldest_compact(McedAssembler *a)
{
    Pending *oldest = NULL;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, a->compact);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        Pending *p = value;
        if (oldest == NULL || p->seq < oldest->seq)
            oldest = p;
    }
    if (oldest != NULL) {
        a->stats.records_evicted++;
        finish(a, oldest, FALSE);
    }
}

static void
feed_compact(McedAssembler *a, const McedKline *k, const McedLineInfo *info, const char *msg,
             gsize len)
{
    Pending *p = g_hash_table_lookup(a->compact, GINT_TO_POINTER(k->host_cpu));

    if (k->kind == MCED_KLINE_PPC_SUMMARY) {
        /* The same CPU starting over means its previous record is done,
         * even though its last line never came. */
        if (p != NULL)
            finish(a, p, FALSE);
        if (g_hash_table_size(a->compact) >= MCED_ASSEMBLER_MAX_PENDING)
            evict_oldest_compact(a);
        p = pending_new(a, RECORD_COMPACT, k->host_cpu);
        g_hash_table_insert(a->compact, GINT_TO_POINTER(k->host_cpu), p);
        add_to(a, p, k, info, msg, len);
        return;
    }

    if (p == NULL || (p->seen & KIND_BIT(k->kind)) != 0) {
        /* A continuation with no summary before it (the log started
         * mid-record, or the summary was lost), or a second copy of a
         * line the record already has. */
        a->stats.lines_orphaned++;
        return;
    }
    add_to(a, p, k, info, msg, len);
    if (k->kind == MCED_KLINE_PPC_CLASS)
        finish(a, p, TRUE);
}

static void
feed_legacy(McedAssembler *a, const McedKline *k, const McedLineInfo *info, const char *msg,
            gsize len)
{
    Pending *p = a->legacy;

    if (k->kind == MCED_KLINE_PPC_LEGACY_HEAD) {
        if (p != NULL)
            finish(a, p, ended_normally(p));
        p = a->legacy = pending_new(a, RECORD_LEGACY, -1);
        add_to(a, p, k, info, msg, len);
        return;
    }
    if (p == NULL) {
        a->stats.lines_orphaned++;
        return;
    }
    if ((p->seen & KIND_BIT(k->kind)) != 0) {
        /* A block never repeats a line: this one belongs to a block whose
         * head we did not see. */
        finish(a, p, ended_normally(p));
        a->stats.lines_orphaned++;
        return;
    }
    add_to(a, p, k, info, msg, len);
}

static void
feed_x86(McedAssembler *a, const McedKline *k, const McedLineInfo *info, const char *msg,
         gsize len)
{
    Pending *p = a->x86;

    switch (k->kind) {
    case MCED_KLINE_X86_HEADER:
        if (p != NULL)
            finish(a, p, p->tail);
        p = a->x86 = pending_new(a, RECORD_X86, k->host_cpu);
        add_to(a, p, k, info, msg, len);
        return;
    case MCED_KLINE_X86_RIP:
    case MCED_KLINE_X86_TSC:
    case MCED_KLINE_X86_PROCESSOR:
        if (p == NULL || p->tail || (p->seen & KIND_BIT(k->kind)) != 0) {
            if (p != NULL)
                finish(a, p, p->tail);
            a->stats.lines_orphaned++;
            return;
        }
        add_to(a, p, k, info, msg, len);
        if (k->kind == MCED_KLINE_X86_PROCESSOR)
            p->tail = TRUE;
        return;
    case MCED_KLINE_X86_TAIL:
        if (p != NULL)
            add_to(a, p, k, info, msg, len);
        return;
    case MCED_KLINE_X86_PANIC:
        if (p != NULL) {
            add_to(a, p, k, info, msg, len);
            finish(a, p, TRUE);
            return;
        }
        break;
    case MCED_KLINE_NONE:
    case MCED_KLINE_MALFORMED:
    case MCED_KLINE_INFO:
    case MCED_KLINE_PPC_SUMMARY:
    case MCED_KLINE_PPC_TASK:
    case MCED_KLINE_PPC_KNIP:
    case MCED_KLINE_PPC_INITIATOR:
    case MCED_KLINE_PPC_CLASS:
    case MCED_KLINE_PPC_LEGACY_HEAD:
    case MCED_KLINE_PPC_LEGACY_GUEST_NIP:
    case MCED_KLINE_PPC_LEGACY_USER_NIP:
    case MCED_KLINE_PPC_LEGACY_KERNEL_NIP:
    case MCED_KLINE_PPC_LEGACY_INITIATOR:
    case MCED_KLINE_PPC_LEGACY_ERROR_TYPE:
    case MCED_KLINE_PPC_LEGACY_EA:
    case MCED_KLINE_PPC_LEGACY_PA:
    case MCED_KLINE_PPC_NOTICE:
    case MCED_KLINE_X86_EVENT:
    case MCED_KLINE_MEMORY_FAILURE:
    case MCED_KLINE_QEMU_MEMORY_ERROR:
    case MCED_KLINE_QEMU_FWNMI:
    case _MCED_KLINE_KIND_MAX:
    case _MCED_KLINE_KIND_INVALID:
        break;
    }
    /* A panic reason with no block before it stands alone. */
    {
        g_autoptr(McedObservation) obs = mced_observation_new(MCED_OBS_X86_MCE);
        merge_line(obs, k, info, msg, len);
        emit_observation(a, g_steal_pointer(&obs));
    }
}

static void
feed_single(McedAssembler *a, const McedKline *k, const McedLineInfo *info, const char *msg,
            gsize len)
{
    g_autoptr(McedObservation) obs = mced_observation_new(obs_kind_for(k->kind));

    merge_line(obs, k, info, msg, len);
    emit_observation(a, g_steal_pointer(&obs));
}

void
mced_assembler_feed(McedAssembler *a, const McedLineInfo *info, const char *msg, gsize len)
{
    McedKline k;

    a->stats.lines++;
    mced_kline_parse(msg, len, &k);

    if (k.kind == MCED_KLINE_NONE) {
        /* The cheap path. An x86 block that already has its PROCESSOR line
         * ends at the first line that is not one of its trailers. */
        if (G_UNLIKELY(a->x86 != NULL && a->x86->tail))
            finish(a, a->x86, TRUE);
        return;
    }

    a->stats.lines_matched++;
    if (info->monotonic_us > 0)
        mced_assembler_expire(a, info->monotonic_us);

    /* Trailers and notices ("Machine check events logged") may sit between
     * an x86 block and its panic reason; any other line ends the block. */
    if (a->x86 != NULL && a->x86->tail && k.kind != MCED_KLINE_X86_TAIL
        && k.kind != MCED_KLINE_X86_PANIC && k.kind != MCED_KLINE_INFO)
        finish(a, a->x86, TRUE);

    switch (k.kind) {
    case MCED_KLINE_MALFORMED:
        note_malformed(a, &k, info, msg, len);
        return;
    case MCED_KLINE_INFO:
        return;
    case MCED_KLINE_PPC_SUMMARY:
    case MCED_KLINE_PPC_TASK:
    case MCED_KLINE_PPC_KNIP:
    case MCED_KLINE_PPC_INITIATOR:
    case MCED_KLINE_PPC_CLASS:
        feed_compact(a, &k, info, msg, len);
        return;
    case MCED_KLINE_PPC_LEGACY_HEAD:
    case MCED_KLINE_PPC_LEGACY_GUEST_NIP:
    case MCED_KLINE_PPC_LEGACY_USER_NIP:
    case MCED_KLINE_PPC_LEGACY_KERNEL_NIP:
    case MCED_KLINE_PPC_LEGACY_INITIATOR:
    case MCED_KLINE_PPC_LEGACY_ERROR_TYPE:
    case MCED_KLINE_PPC_LEGACY_EA:
    case MCED_KLINE_PPC_LEGACY_PA:
        feed_legacy(a, &k, info, msg, len);
        return;
    case MCED_KLINE_X86_HEADER:
    case MCED_KLINE_X86_RIP:
    case MCED_KLINE_X86_TSC:
    case MCED_KLINE_X86_PROCESSOR:
    case MCED_KLINE_X86_TAIL:
    case MCED_KLINE_X86_PANIC:
        feed_x86(a, &k, info, msg, len);
        return;
    case MCED_KLINE_PPC_NOTICE:
    case MCED_KLINE_X86_EVENT:
    case MCED_KLINE_MEMORY_FAILURE:
    case MCED_KLINE_QEMU_MEMORY_ERROR:
    case MCED_KLINE_QEMU_FWNMI:
        feed_single(a, &k, info, msg, len);
        return;
    case MCED_KLINE_NONE:
    case _MCED_KLINE_KIND_MAX:
    case _MCED_KLINE_KIND_INVALID:
        break;
    }
    g_return_if_reached();
}
