/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mced-config.h"
#include "mced-error.h"
#include "mced-policy.h"
#include "mced-state.h"

#define POLICY_MAX_FILE_BYTES   (1024 * 1024)
#define POLICY_MAX_LADDER_BYTES 1024
#define POLICY_MAX_GLOB_BYTES   256
#define POLICY_MAX_RULE_NAME    64
#define POLICY_MAX_PATH_LEN     4095
#define POLICY_MAX_URI_LEN      1024

static const char *const action_names[] = {
    [MCED_ACTION_IGNORE] = "ignore",
    [MCED_ACTION_LOG] = "log",
    [MCED_ACTION_NOTIFY] = "notify",
    [MCED_ACTION_PAUSE] = "pause",
    [MCED_ACTION_MIGRATE] = "migrate",
    [MCED_ACTION_RESTART] = "restart",
    [MCED_ACTION_RESET] = "reset",
    [MCED_ACTION_REBOOT] = "reboot",
    [MCED_ACTION_DESTROY] = "destroy",
    [MCED_ACTION_DUMP] = "dump",
    [MCED_ACTION_NMI] = "nmi",
};
G_STATIC_ASSERT(G_N_ELEMENTS(action_names) == _MCED_ACTION_MAX);
/* The state keeps exactly what the thresholds may look at. */
G_STATIC_ASSERT(MCED_POLICY_MAX_TIMES == MCED_STATE_MAX_TIMES);

static const char *const evacuation_order_names[] = {
    [MCED_EVACUATE_FATAL_FIRST] = "fatal-first",
    [MCED_EVACUATE_NAME] = "name",
};

/* ---- actions ----------------------------------------------------------- */

const char *
mced_action_to_string(McedActionKind a)
{
    if (a < 0 || a >= _MCED_ACTION_MAX)
        return NULL;
    return action_names[a];
}

McedActionKind
mced_action_from_string(const char *s)
{
    if (s == NULL)
        return _MCED_ACTION_INVALID;
    for (gsize i = 0; i < G_N_ELEMENTS(action_names); i++) {
        if (strcmp(action_names[i], s) == 0)
            return (McedActionKind)i;
    }
    return _MCED_ACTION_INVALID;
}

gboolean
mced_action_changes_vm(McedActionKind a)
{
    switch (a) {
    case MCED_ACTION_IGNORE:
    case MCED_ACTION_LOG:
    case MCED_ACTION_NOTIFY:
        return FALSE;
    case MCED_ACTION_PAUSE:
    case MCED_ACTION_MIGRATE:
    case MCED_ACTION_RESTART:
    case MCED_ACTION_RESET:
    case MCED_ACTION_REBOOT:
    case MCED_ACTION_DESTROY:
    case MCED_ACTION_DUMP:
    case MCED_ACTION_NMI:
        return TRUE;
    case _MCED_ACTION_MAX:
    case _MCED_ACTION_INVALID:
        break;
    }
    return FALSE;
}

/* After these the domain is no longer here for a later step to act on. */
static gboolean
action_ends_presence(McedActionKind a)
{
    return a == MCED_ACTION_MIGRATE || a == MCED_ACTION_DESTROY;
}

static gboolean
action_allowed_as_fallback(McedActionKind a)
{
    switch (a) {
    case MCED_ACTION_LOG:
    case MCED_ACTION_NOTIFY:
    case MCED_ACTION_PAUSE:
    case MCED_ACTION_RESTART:
    case MCED_ACTION_RESET:
    case MCED_ACTION_REBOOT:
    case MCED_ACTION_DESTROY:
    case MCED_ACTION_NMI:
        return TRUE;
    case MCED_ACTION_IGNORE:
    case MCED_ACTION_MIGRATE:
    case MCED_ACTION_DUMP:
    case _MCED_ACTION_MAX:
    case _MCED_ACTION_INVALID:
        break;
    }
    return FALSE;
}

/* ---- formatting -------------------------------------------------------- */

/* A rounded-up whole second form for spans measured from a clock. */
static char *
format_span(gint64 us)
{
    gint64 s = (us + G_TIME_SPAN_SECOND - 1) / G_TIME_SPAN_SECOND;

    return mced_format_duration(s * G_TIME_SPAN_SECOND);
}

static void
append_step(GString *out, const McedLadderStep *s)
{
    g_string_append(out, mced_action_to_string(s->action));
    if (s->n > 0) {
        g_autofree char *period = mced_format_duration(s->period_us);
        g_string_append_printf(out, " after %u/%s", s->n, period);
    }
}

static char *
step_to_string(const McedLadderStep *s)
{
    GString *out = g_string_new(NULL);

    append_step(out, s);
    return g_string_free(out, FALSE);
}

char *
mced_ladder_to_string(const McedLadder *l)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < l->n_steps; i++) {
        if (i > 0)
            g_string_append(out, "; ");
        append_step(out, &l->steps[i]);
    }
    return g_string_free(out, FALSE);
}

/* ---- ladders ----------------------------------------------------------- */

static gboolean
all_digits(const char *s)
{
    if (*s == '\0')
        return FALSE;
    for (; *s != '\0'; s++) {
        if (!g_ascii_isdigit(*s))
            return FALSE;
    }
    return TRUE;
}

/* "3/24h" into @n and @period_us; the reason on failure. */
static char *
parse_threshold(const char *text, guint *n, gint64 *period_us)
{
    const char *slash = strchr(text, '/');
    g_autofree char *count = NULL;
    guint64 v;

    if (slash == NULL)
        return g_strdup_printf("bad threshold '%s' (expected N/PERIOD, e.g. 3/24h)", text);
    count = g_strndup(text, (gsize)(slash - text));
    if (!all_digits(count) || strlen(count) > 9)
        return g_strdup_printf("bad count in '%s' (expected N/PERIOD, e.g. 3/24h)", text);
    v = g_ascii_strtoull(count, NULL, 10);
    if (v < 1 || v > MCED_POLICY_MAX_N)
        return g_strdup_printf("count in '%s' is out of range (1 .. %d)", text,
                               MCED_POLICY_MAX_N);
    if (!mced_parse_duration(slash + 1, period_us))
        return g_strdup_printf("bad duration in '%s' (expected e.g. 1h, 24h, 7d)", text);
    if (*period_us < G_TIME_SPAN_SECOND || *period_us > MCED_POLICY_MAX_PERIOD_US)
        return g_strdup_printf("period in '%s' is out of range (1s .. 30d)", text);
    *n = (guint)v;
    return NULL;
}

static char *
unknown_action_reason(const char *name)
{
    g_autofree char *all = g_strjoinv(", ", (char **)action_names);

    return g_strdup_printf("unknown action '%s' (expected one of %s)", name, all);
}

/* Parses one "ACTION" or "ACTION after N/PERIOD". */
static char *
parse_step(const char *text, McedLadderStep *ret)
{
    g_auto(GStrv) raw = g_strsplit_set(text, " \t", -1);
    const char *tok[4];
    guint n_tok = 0;

    for (guint i = 0; raw[i] != NULL; i++) {
        if (raw[i][0] == '\0')
            continue;
        if (n_tok == G_N_ELEMENTS(tok))
            return g_strdup_printf("bad step '%s' (expected ACTION or ACTION after N/PERIOD)",
                                   text);
        tok[n_tok++] = raw[i];
    }
    if (n_tok != 1 && !(n_tok == 3 && strcmp(tok[1], "after") == 0))
        return g_strdup_printf("bad step '%s' (expected ACTION or ACTION after N/PERIOD)", text);
    ret->action = mced_action_from_string(tok[0]);
    if (ret->action == _MCED_ACTION_INVALID)
        return unknown_action_reason(tok[0]);
    ret->n = 0;
    ret->period_us = 0;
    if (n_tok == 3)
        return parse_threshold(tok[2], &ret->n, &ret->period_us);
    return NULL;
}

/* Whether @later is reached whenever @earlier is. */
static gboolean
step_implied_by(const McedLadderStep *later, const McedLadderStep *earlier)
{
    if (later->n == 0)
        return TRUE;
    return earlier->n != 0 && later->n <= earlier->n && later->period_us >= earlier->period_us;
}

static char *
check_ladder(const McedLadder *l)
{
    for (guint j = 0; j < l->n_steps; j++) {
        /* A reached dump runs even below the chosen step. */
        if (l->steps[j].action == MCED_ACTION_DUMP)
            continue;
        for (guint k = j + 1; k < l->n_steps; k++) {
            if (step_implied_by(&l->steps[k], &l->steps[j])) {
                g_autofree char *sj = step_to_string(&l->steps[j]);
                g_autofree char *sk = step_to_string(&l->steps[k]);
                return g_strdup_printf("impossible ladder: '%s' can never be chosen, '%s' "
                                       "later in the ladder is reached whenever it is", sj, sk);
            }
        }
    }
    return NULL;
}

gboolean
mced_ladder_parse(const char *text, gboolean host, McedLadder *ret, char **ret_reason)
{
    g_auto(GStrv) parts = NULL;
    McedLadder l = { 0 };
    char *reason = NULL;

    g_return_val_if_fail(text != NULL && ret != NULL, FALSE);

    if (strlen(text) > POLICY_MAX_LADDER_BYTES) {
        reason = g_strdup_printf("ladder is longer than %d bytes", POLICY_MAX_LADDER_BYTES);
        goto fail;
    }
    parts = g_strsplit(text, ";", -1);
    if (parts[0] == NULL) {
        reason = g_strdup("empty ladder");
        goto fail;
    }
    for (guint i = 0; parts[i] != NULL; i++) {
        char *part = g_strstrip(parts[i]);
        McedLadderStep step;

        if (part[0] == '\0') {
            reason = g_strdup("empty step (steps are separated by ';')");
            goto fail;
        }
        if (l.n_steps == MCED_POLICY_MAX_STEPS) {
            reason = g_strdup_printf("more than %d steps", MCED_POLICY_MAX_STEPS);
            goto fail;
        }
        reason = parse_step(part, &step);
        if (reason != NULL)
            goto fail;
        if (host && mced_action_changes_vm(step.action)) {
            reason = g_strdup_printf("'%s' acts on a domain; host incidents allow only ignore, "
                                     "log and notify", mced_action_to_string(step.action));
            goto fail;
        }
        for (guint j = 0; j < l.n_steps; j++) {
            if (l.steps[j].action == step.action) {
                reason = g_strdup_printf("impossible ladder: '%s' appears twice",
                                         mced_action_to_string(step.action));
                goto fail;
            }
        }
        if (l.n_steps > 0 && action_ends_presence(l.steps[l.n_steps - 1].action)) {
            reason = g_strdup_printf("impossible ladder: '%s' follows '%s', after which the "
                                     "domain is no longer on this host", part,
                                     mced_action_to_string(l.steps[l.n_steps - 1].action));
            goto fail;
        }
        l.steps[l.n_steps++] = step;
    }
    reason = check_ladder(&l);
    if (reason != NULL)
        goto fail;
    *ret = l;
    return TRUE;

fail:
    if (ret_reason != NULL)
        *ret_reason = reason;
    else
        g_free(reason);
    return FALSE;
}

static gboolean
ladder_has(const McedLadder *l, McedActionKind a)
{
    for (guint i = 0; i < l->n_steps; i++) {
        if (l->steps[i].action == a)
            return TRUE;
    }
    return FALSE;
}

/* ---- the policy object ------------------------------------------------- */

static void
rule_free(McedPolicyRule *r)
{
    g_free(r->name);
    g_free(r->match);
    g_free(r->uuid);
    g_free(r->origin);
    g_free(r);
}

McedPolicy *
mced_policy_new_default(void)
{
    McedPolicy *p = g_new0(McedPolicy, 1);

    p->dry_run = FALSE;
    p->cooldown_us = 10 * G_TIME_SPAN_MINUTE;
    p->max_concurrent_migrations = 2;
    p->max_actions_per_hour = 20;
    p->migrate_peers = g_new0(char *, 1);
    p->migrate_timeout_us = 5 * G_TIME_SPAN_MINUTE;
    p->action_timeout_us = 2 * G_TIME_SPAN_MINUTE;
    p->dump_directory = g_strdup("/var/lib/kvm-mced/dumps");
    p->degraded_n = 3;
    p->degraded_period_us = G_TIME_SPAN_HOUR;
    p->evacuate = FALSE;
    p->evacuation_order = MCED_EVACUATE_FATAL_FIRST;
    for (guint c = 0; c < _MCED_CLASS_MAX; c++) {
        p->ladders[c].n_steps = 1;
        p->ladders[c].steps[0] = (McedLadderStep){ .action = MCED_ACTION_LOG };
        p->fallback[c] = MCED_ACTION_NOTIFY;
    }
    p->rules = g_ptr_array_new_with_free_func((GDestroyNotify)rule_free);
    return p;
}

void
mced_policy_free(McedPolicy *p)
{
    if (p == NULL)
        return;
    g_strfreev(p->migrate_peers);
    g_free(p->dump_directory);
    g_free(p->migrate_uri);
    g_free(p->migrate_listen_address);
    for (guint c = 0; c < _MCED_CLASS_MAX; c++)
        g_free(p->class_origin[c]);
    if (p->rules != NULL)
        g_ptr_array_unref(p->rules);
    g_free(p);
}

gboolean
mced_policy_owns_group(const char *group)
{
    return strcmp(group, "policy") == 0 || g_str_has_prefix(group, "policy.") ||
           g_str_has_prefix(group, "rule ");
}

/* ---- reading the files ------------------------------------------------- */

/* A key's value after all files: the last file that set it wins. */
typedef struct {
    char *key;
    char *value;
    char *file;
    guint line;
} RawValue;

/* A group, where it first appeared, and its keys in first-set order. */
typedef struct {
    char *name;
    char *file;
    guint line;
    GPtrArray *values; /* RawValue* */
} RawGroup;

static void
raw_value_free(RawValue *v)
{
    g_free(v->key);
    g_free(v->value);
    g_free(v->file);
    g_free(v);
}

static void
raw_group_free(RawGroup *g)
{
    g_free(g->name);
    g_free(g->file);
    g_ptr_array_unref(g->values);
    g_free(g);
}

static RawGroup *
raw_group_get(GPtrArray *groups, const char *name, const char *file, guint line)
{
    RawGroup *g;

    for (guint i = 0; i < groups->len; i++) {
        g = groups->pdata[i];
        if (strcmp(g->name, name) == 0)
            return g;
    }
    g = g_new0(RawGroup, 1);
    g->name = g_strdup(name);
    g->file = g_strdup(file);
    g->line = line;
    g->values = g_ptr_array_new_with_free_func((GDestroyNotify)raw_value_free);
    g_ptr_array_add(groups, g);
    return g;
}

static void
raw_group_set(RawGroup *g, const char *key, const char *value, const char *file, guint line)
{
    RawValue *v = NULL;

    for (guint i = 0; i < g->values->len && v == NULL; i++) {
        RawValue *old = g->values->pdata[i];
        if (strcmp(old->key, key) == 0)
            v = old;
    }
    if (v == NULL) {
        v = g_new0(RawValue, 1);
        v->key = g_strdup(key);
        g_ptr_array_add(g->values, v);
    }
    g_free(v->value);
    g_free(v->file);
    v->value = g_strdup(value);
    v->file = g_strdup(file);
    v->line = line;
}

/* Collects the policy groups of one file into @groups. Lines follow
 * GKeyFile's rules (mced-config.c checks the rest of the file); values are
 * GKeyFile's, unescaped. */
static gboolean
read_policy_file(const char *path, GPtrArray *groups, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GError) local_error = NULL;
    g_autofree char *group = NULL;
    const char *p, *end;
    guint line_no = 0;

    if (!g_file_get_contents(path, &data, &len, &local_error)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "%s", local_error->message);
        return FALSE;
    }
    if (len > POLICY_MAX_FILE_BYTES || memchr(data, '\0', len) != NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: larger than %d bytes or not text", path, POLICY_MAX_FILE_BYTES);
        return FALSE;
    }
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local_error)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: %s", path,
                    local_error->message);
        return FALSE;
    }
    p = data;
    end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        g_autofree char *line = g_strstrip(g_strndup(p, (gsize)(line_end - p)));
        g_autofree char *key = NULL;
        g_autofree char *value = NULL;
        g_autofree char *id = NULL;
        const char *eq;

        line_no++;
        p = nl != NULL ? nl + 1 : end;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            const char *close = strchr(line, ']');

            g_clear_pointer(&group, g_free);
            if (close == NULL)
                continue; /* GKeyFile accepted it; it is not ours */
            group = g_strndup(line + 1, (gsize)(close - line - 1));
            if (mced_policy_owns_group(group))
                raw_group_get(groups, group, path, line_no);
            continue;
        }
        eq = strchr(line, '=');
        if (group == NULL || eq == NULL || !mced_policy_owns_group(group))
            continue;
        key = g_strstrip(g_strndup(line, (gsize)(eq - line)));
        id = g_strdup_printf("%s\n%s", group, key);
        if (g_hash_table_contains(seen, id)) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s] %s: duplicate key (first set on line %u)", path, line_no,
                        group, key, GPOINTER_TO_UINT(g_hash_table_lookup(seen, id)));
            return FALSE;
        }
        g_hash_table_insert(seen, g_steal_pointer(&id), GUINT_TO_POINTER(line_no));
        value = g_key_file_get_string(kf, group, key, &local_error);
        if (value == NULL || local_error != NULL) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s:%u: [%s] %s: %s", path,
                        line_no, group, key,
                        local_error != NULL ? local_error->message : "no value");
            return FALSE;
        }
        g_strstrip(value);
        raw_group_set(raw_group_get(groups, group, path, line_no), key, value, path, line_no);
    }
    return TRUE;
}

/* ---- applying the values ----------------------------------------------- */

static gboolean
set_value_error(GError **error, const RawGroup *g, const RawValue *v, char *reason)
{
    g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s:%u: [%s] %s: %s", v->file,
                v->line, g->name, v->key, reason);
    g_free(reason);
    return FALSE;
}

static char *
parse_bool(const char *value, gboolean *ret)
{
    if (strcmp(value, "yes") == 0)
        *ret = TRUE;
    else if (strcmp(value, "no") == 0)
        *ret = FALSE;
    else
        return g_strdup_printf("bad value '%s' (expected yes or no)", value);
    return NULL;
}

static char *
parse_duration_in(const char *value, gint64 min, gint64 max, gint64 *ret)
{
    gint64 us;

    if (!mced_parse_duration(value, &us))
        return g_strdup_printf("bad duration '%s' (expected e.g. 500ms, 5s, 2m)", value);
    if (us < min || us > max) {
        g_autofree char *lo = mced_format_duration(min);
        g_autofree char *hi = mced_format_duration(max);
        return g_strdup_printf("duration '%s' is out of range (%s .. %s)", value, lo, hi);
    }
    *ret = us;
    return NULL;
}

static char *
parse_uint_in(const char *value, guint min, guint max, guint *ret)
{
    guint64 v;

    if (!all_digits(value) || strlen(value) > 9)
        return g_strdup_printf("bad number '%s'", value);
    v = g_ascii_strtoull(value, NULL, 10);
    if (v < min || v > max)
        return g_strdup_printf("%s is out of range (%u .. %u)", value, min, max);
    *ret = (guint)v;
    return NULL;
}

static char *
parse_peers(const char *value, GStrv *ret)
{
    g_auto(GStrv) raw = g_strsplit_set(value, " \t", -1);
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; raw[i] != NULL; i++) {
        const char *uri = raw[i];

        if (uri[0] == '\0')
            continue;
        if (out->len == MCED_POLICY_MAX_PEERS)
            return g_strdup_printf("more than %d peers", MCED_POLICY_MAX_PEERS);
        if (strlen(uri) > POLICY_MAX_URI_LEN)
            return g_strdup_printf("URI is longer than %d bytes", POLICY_MAX_URI_LEN);
        for (const char *c = uri; *c != '\0'; c++) {
            if ((guchar)*c < ' ' || (guchar)*c == 0x7f)
                return g_strdup_printf("'%s' is not a URI (control character)", uri);
        }
        if (strstr(uri, "://") == NULL)
            return g_strdup_printf("'%s' is not a libvirt URI (e.g. qemu+ssh://peer/system)",
                                   uri);
        g_ptr_array_add(out, g_strdup(uri));
    }
    g_ptr_array_add(out, NULL);
    g_strfreev(*ret);
    *ret = (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
    return NULL;
}

static char *
apply_policy_key(McedPolicy *p, const char *key, const char *value)
{
    if (strcmp(key, "dry-run") == 0)
        return parse_bool(value, &p->dry_run);
    if (strcmp(key, "cooldown") == 0)
        return parse_duration_in(value, 0, 7 * G_TIME_SPAN_DAY, &p->cooldown_us);
    if (strcmp(key, "max-concurrent-migrations") == 0)
        return parse_uint_in(value, 1, 64, &p->max_concurrent_migrations);
    if (strcmp(key, "max-actions-per-hour") == 0)
        return parse_uint_in(value, 1, 1000, &p->max_actions_per_hour);
    if (strcmp(key, "migrate-peers") == 0)
        return parse_peers(value, &p->migrate_peers);
    if (strcmp(key, "migrate-timeout") == 0)
        return parse_duration_in(value, 10 * G_TIME_SPAN_SECOND, 6 * G_TIME_SPAN_HOUR,
                                 &p->migrate_timeout_us);
    if (strcmp(key, "migrate-uri") == 0 || strcmp(key, "migrate-listen-address") == 0) {
        char **field = key[8] == 'u' ? &p->migrate_uri : &p->migrate_listen_address;
        if (strlen(value) > POLICY_MAX_URI_LEN)
            return g_strdup_printf("value is longer than %d bytes", POLICY_MAX_URI_LEN);
        for (const char *c = value; *c != '\0'; c++)
            if ((guchar)*c <= ' ' || (guchar)*c == 0x7f)
                return g_strdup_printf("'%s' has a blank or control character", value);
        g_free(*field);
        *field = g_strdup(value);
        return NULL;
    }
    if (strcmp(key, "action-timeout") == 0)
        return parse_duration_in(value, G_TIME_SPAN_SECOND, G_TIME_SPAN_HOUR,
                                 &p->action_timeout_us);
    if (strcmp(key, "dump-directory") == 0) {
        if (!g_path_is_absolute(value))
            return g_strdup_printf("'%s' is not an absolute path", value);
        if (strlen(value) > POLICY_MAX_PATH_LEN)
            return g_strdup_printf("path is longer than %d bytes", POLICY_MAX_PATH_LEN);
        g_free(p->dump_directory);
        p->dump_directory = g_strdup(value);
        return NULL;
    }
    if (strcmp(key, "host-degraded-after") == 0)
        return parse_threshold(value, &p->degraded_n, &p->degraded_period_us);
    if (strcmp(key, "evacuate") == 0)
        return parse_bool(value, &p->evacuate);
    if (strcmp(key, "evacuation-order") == 0) {
        for (gsize i = 0; i < G_N_ELEMENTS(evacuation_order_names); i++) {
            if (strcmp(value, evacuation_order_names[i]) == 0) {
                p->evacuation_order = (McedEvacuationOrder)i;
                return NULL;
            }
        }
        return g_strdup_printf("bad value '%s' (expected fatal-first or name)", value);
    }
    return g_strdup("unknown key");
}

static char *
apply_class_key(McedPolicy *p, McedIncidentClass c, const char *key, const char *value,
                const char *origin)
{
    if (strcmp(key, "ladder") == 0) {
        char *reason = NULL;

        if (!mced_ladder_parse(value, c == MCED_CLASS_HOST, &p->ladders[c], &reason))
            return reason;
        g_free(p->class_origin[c]);
        p->class_origin[c] = g_strdup(origin);
        return NULL;
    }
    if (strcmp(key, "fallback") == 0 && c != MCED_CLASS_HOST) {
        McedActionKind a = mced_action_from_string(value);

        if (a == _MCED_ACTION_INVALID)
            return unknown_action_reason(value);
        if (!action_allowed_as_fallback(a))
            return g_strdup_printf("'%s' cannot be a fallback (expected log, notify, pause, "
                                   "restart, reset, reboot, destroy or nmi)", value);
        p->fallback[c] = a;
        return NULL;
    }
    return g_strdup("unknown key");
}

static gboolean
valid_rule_name(const char *name)
{
    gsize len = strlen(name);

    if (len == 0 || len > POLICY_MAX_RULE_NAME)
        return FALSE;
    for (const char *c = name; *c != '\0'; c++) {
        if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' && *c != '-')
            return FALSE;
    }
    return TRUE;
}

static char *
apply_rule_key(McedPolicyRule *r, const char *key, const char *value)
{
    McedIncidentClass c;

    if (strcmp(key, "match") == 0) {
        if (strlen(value) > POLICY_MAX_GLOB_BYTES)
            return g_strdup_printf("pattern is longer than %d bytes", POLICY_MAX_GLOB_BYTES);
        r->match = g_strdup(value);
        return NULL;
    }
    if (strcmp(key, "uuid") == 0) {
        if (!g_uuid_string_is_valid(value))
            return g_strdup_printf("'%s' is not a UUID", value);
        r->uuid = g_ascii_strdown(value, -1);
        return NULL;
    }
    if (strcmp(key, "dry-run") == 0) {
        gboolean b = FALSE;
        char *reason = parse_bool(value, &b);

        if (reason == NULL)
            r->dry_run = b;
        return reason;
    }
    c = mced_incident_class_from_string(key);
    if (c == MCED_CLASS_HOST)
        return g_strdup("host incidents concern no domain; set them in [policy.host]");
    if (c != _MCED_CLASS_INVALID) {
        char *reason = NULL;

        if (!mced_ladder_parse(value, FALSE, &r->ladders[c], &reason))
            return reason;
        r->has_ladder[c] = TRUE;
        return NULL;
    }
    return g_strdup("unknown key");
}

static gboolean
apply_group(McedPolicy *p, const RawGroup *g, GError **error)
{
    g_autofree char *origin = g_strdup_printf("%s:%u", g->file, g->line);
    McedPolicyRule *rule = NULL;
    McedIncidentClass klass = _MCED_CLASS_INVALID;
    const RawValue *match = NULL;
    const RawValue *uuid = NULL;

    if (g_str_has_prefix(g->name, "policy.")) {
        klass = mced_incident_class_from_string(g->name + strlen("policy."));
        if (klass == _MCED_CLASS_INVALID) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s]: unknown group (expected policy.corrected, policy.guest, "
                        "policy.fatal or policy.host)", g->file, g->line, g->name);
            return FALSE;
        }
    } else if (g_str_has_prefix(g->name, "rule ")) {
        const char *name = g->name + strlen("rule ");

        if (!valid_rule_name(name)) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s]: bad rule name (1 to %d of A-Z a-z 0-9 . _ -)", g->file,
                        g->line, g->name, POLICY_MAX_RULE_NAME);
            return FALSE;
        }
        if (p->rules->len == MCED_POLICY_MAX_RULES) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s]: more than %d rules", g->file, g->line, g->name,
                        MCED_POLICY_MAX_RULES);
            return FALSE;
        }
        rule = g_new0(McedPolicyRule, 1);
        rule->name = g_strdup(name);
        rule->origin = g_strdup(origin);
        rule->dry_run = -1;
        g_ptr_array_add(p->rules, rule);
    }

    for (guint i = 0; i < g->values->len; i++) {
        const RawValue *v = g->values->pdata[i];
        g_autofree char *value_origin = g_strdup_printf("%s:%u", v->file, v->line);
        char *reason;

        if (v->value[0] == '\0')
            return set_value_error(error, g, v, g_strdup("empty value"));
        if (rule != NULL)
            reason = apply_rule_key(rule, v->key, v->value);
        else if (klass != _MCED_CLASS_INVALID)
            reason = apply_class_key(p, klass, v->key, v->value, value_origin);
        else
            reason = apply_policy_key(p, v->key, v->value);
        if (reason != NULL)
            return set_value_error(error, g, v, reason);
        if (strcmp(v->key, "match") == 0)
            match = v;
        else if (strcmp(v->key, "uuid") == 0)
            uuid = v;
    }
    if (rule != NULL && match != NULL && uuid != NULL)
        return set_value_error(error, g, uuid, g_strdup("a rule has match or uuid, not both"));
    if (rule != NULL && match == NULL && uuid == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s:%u: [%s]: a rule needs match (a name pattern) or uuid", g->file,
                    g->line, g->name);
        return FALSE;
    }
    return TRUE;
}

/* A configured ladder with migrate and no peer to migrate to. */
static gboolean
check_migrate_peers(const McedPolicy *p, GPtrArray *groups, GError **error)
{
    if (p->migrate_peers[0] != NULL)
        return TRUE;
    for (guint i = 0; i < groups->len; i++) {
        const RawGroup *g = groups->pdata[i];

        for (guint j = 0; j < g->values->len; j++) {
            const RawValue *v = g->values->pdata[j];
            McedLadder l;

            if (strcmp(v->key, "ladder") != 0 &&
                mced_incident_class_from_string(v->key) == _MCED_CLASS_INVALID)
                continue;
            if (!mced_ladder_parse(v->value, FALSE, &l, NULL) ||
                !ladder_has(&l, MCED_ACTION_MIGRATE))
                continue;
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s] %s: migrate needs [policy] migrate-peers", v->file,
                        v->line, g->name, v->key);
            return FALSE;
        }
    }
    return TRUE;
}

McedPolicy *
mced_policy_load(const char *const *files, GError **error)
{
    g_autoptr(McedPolicy) p = mced_policy_new_default();
    g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func((GDestroyNotify)raw_group_free);

    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    for (guint i = 0; files != NULL && files[i] != NULL; i++) {
        if (!read_policy_file(files[i], groups, error))
            return NULL;
    }
    for (guint i = 0; i < groups->len; i++) {
        if (!apply_group(p, groups->pdata[i], error))
            return NULL;
    }
    if (!check_migrate_peers(p, groups, error))
        return NULL;
    return g_steal_pointer(&p);
}

/* ---- counters ---------------------------------------------------------- */

gint64
mced_policy_keep_us(const McedPolicy *p)
{
    gint64 keep = p->degraded_period_us;

    for (guint c = 0; c < _MCED_CLASS_MAX; c++) {
        for (guint s = 0; s < p->ladders[c].n_steps; s++)
            keep = MAX(keep, p->ladders[c].steps[s].period_us);
    }
    for (guint i = 0; i < p->rules->len; i++) {
        const McedPolicyRule *r = p->rules->pdata[i];

        for (guint c = 0; c < _MCED_CLASS_MAX; c++) {
            for (guint s = 0; r->has_ladder[c] && s < r->ladders[c].n_steps; s++)
                keep = MAX(keep, r->ladders[c].steps[s].period_us);
        }
    }
    return keep;
}

void
mced_policy_prune_times(GArray *times, gint64 now_us, gint64 keep_us)
{
    guint drop = 0;

    g_return_if_fail(times != NULL);
    while (drop < times->len && g_array_index(times, gint64, drop) <= now_us - keep_us)
        drop++;
    if (times->len - drop > MCED_POLICY_MAX_TIMES)
        drop = times->len - MCED_POLICY_MAX_TIMES;
    if (drop > 0)
        g_array_remove_range(times, 0, drop);
}

guint
mced_policy_count_in_window(const GArray *times, gint64 now_us, gint64 period_us)
{
    guint n = 0;

    if (times == NULL)
        return 0;
    for (guint i = times->len; i > 0; i--) {
        gint64 t = g_array_index(times, gint64, i - 1);

        if (t > now_us)
            continue;
        if (t <= now_us - period_us)
            break;
        n++;
    }
    return n;
}

/* ---- metadata override ------------------------------------------------- */

typedef struct {
    McedPolicyOverride *ovr;
    guint depth;
    guint roots;
} OverrideParse;

static void
override_start(GMarkupParseContext *ctx, const char *element, const char **names,
               const char **values, gpointer user_data, GError **error)
{
    OverrideParse *op = user_data;
    const char *colon = strchr(element, ':');
    const char *local = colon != NULL ? colon + 1 : element;

    if (op->depth++ > 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domain metadata: <policy> has no child elements (found <%s>)", element);
        return;
    }
    if (++op->roots > 1 || strcmp(local, "policy") != 0) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domain metadata: expected one <policy> element, found <%s>", element);
        return;
    }
    for (guint i = 0; names[i] != NULL; i++) {
        McedIncidentClass c;

        if (strcmp(names[i], "xmlns") == 0 || g_str_has_prefix(names[i], "xmlns:")) {
            if (strcmp(values[i], MCED_POLICY_XMLNS) != 0) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "domain metadata: namespace '%s' is not %s", values[i],
                            MCED_POLICY_XMLNS);
                return;
            }
            continue;
        }
        if (strcmp(names[i], "dry-run") == 0) {
            gboolean b = FALSE;
            g_autofree char *reason = parse_bool(values[i], &b);

            if (reason != NULL) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "domain metadata: dry-run: %s", reason);
                return;
            }
            op->ovr->dry_run = b;
            continue;
        }
        c = mced_incident_class_from_string(names[i]);
        if (c != _MCED_CLASS_INVALID && c != MCED_CLASS_HOST) {
            g_autofree char *reason = NULL;

            if (!mced_ladder_parse(values[i], FALSE, &op->ovr->ladders[c], &reason)) {
                g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                            "domain metadata: %s: %s", names[i], reason);
                return;
            }
            op->ovr->has_ladder[c] = TRUE;
            continue;
        }
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domain metadata: unknown attribute '%s' (expected corrected, guest, fatal "
                    "or dry-run)", names[i]);
        return;
    }
}

static void
override_end(GMarkupParseContext *ctx, const char *element, gpointer user_data, GError **error)
{
    OverrideParse *op = user_data;

    op->depth--;
}

static void
override_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
              GError **error)
{
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isspace(text[i])) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "domain metadata: text is not allowed in <policy>");
            return;
        }
    }
}

void
mced_policy_override_free(McedPolicyOverride *o)
{
    g_free(o);
}

gboolean
mced_policy_parse_override(const char *xml, McedPolicyOverride **ret, GError **error)
{
    static const GMarkupParser parser = {
        .start_element = override_start,
        .end_element = override_end,
        .text = override_text,
    };
    g_autoptr(McedPolicyOverride) ovr = g_new0(McedPolicyOverride, 1);
    OverrideParse op = { .ovr = ovr };
    g_autoptr(GMarkupParseContext) ctx = NULL;
    g_autoptr(GError) local_error = NULL;
    gsize len;

    g_return_val_if_fail(xml != NULL && ret != NULL, FALSE);

    ovr->dry_run = -1;
    len = strnlen(xml, MCED_POLICY_MAX_OVERRIDE + 1);
    if (len > MCED_POLICY_MAX_OVERRIDE) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domain metadata: larger than %d bytes", MCED_POLICY_MAX_OVERRIDE);
        return FALSE;
    }
    if (strspn(xml, " \t\r\n") == len) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "domain metadata: no <policy> element");
        return FALSE;
    }
    ctx = g_markup_parse_context_new(&parser, 0, &op, NULL);
    if (!g_markup_parse_context_parse(ctx, xml, (gssize)len, &local_error) ||
        !g_markup_parse_context_end_parse(ctx, &local_error)) {
        if (local_error->domain == MCED_ERROR)
            g_propagate_error(error, g_steal_pointer(&local_error));
        else
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "domain metadata: %s",
                        local_error->message);
        return FALSE;
    }
    *ret = g_steal_pointer(&ovr);
    return TRUE;
}

/* ---- decisions --------------------------------------------------------- */

void
mced_decision_free(McedDecision *d)
{
    if (d == NULL)
        return;
    g_free(d->source);
    g_free(d->step);
    g_free(d->reason);
    g_ptr_array_unref(d->guards);
    g_free(d);
}

static gboolean
rule_matches(const McedPolicyRule *r, const char *name, const char *uuid)
{
    if (r->uuid != NULL)
        return uuid != NULL && g_ascii_strcasecmp(r->uuid, uuid) == 0;
    return r->match != NULL && name != NULL && g_pattern_match_simple(r->match, name);
}

/* The ladder for @klass and where it comes from (a new string). */
static const McedLadder *
select_ladder(const McedPolicy *p, const McedPolicyInput *in, char **ret_source)
{
    McedIncidentClass c = in->klass;

    if (c != MCED_CLASS_HOST && in->override != NULL && in->override->has_ladder[c]) {
        *ret_source = g_strdup("override");
        return &in->override->ladders[c];
    }
    for (guint i = 0; c != MCED_CLASS_HOST && i < p->rules->len; i++) {
        const McedPolicyRule *r = p->rules->pdata[i];

        if (r->has_ladder[c] && rule_matches(r, in->name, in->uuid)) {
            *ret_source = g_strdup_printf("rule %s", r->name);
            return &r->ladders[c];
        }
    }
    if (p->class_origin[c] != NULL)
        *ret_source = g_strdup_printf("policy.%s", mced_incident_class_to_string(c));
    else
        *ret_source = g_strdup("built-in");
    return &p->ladders[c];
}

static gboolean
select_dry_run(const McedPolicy *p, const McedPolicyInput *in)
{
    if (p->dry_run)
        return TRUE;
    if (in->klass == MCED_CLASS_HOST)
        return FALSE;
    if (in->override != NULL && in->override->dry_run >= 0)
        return in->override->dry_run;
    for (guint i = 0; i < p->rules->len; i++) {
        const McedPolicyRule *r = p->rules->pdata[i];

        if (r->dry_run >= 0 && rule_matches(r, in->name, in->uuid))
            return r->dry_run;
    }
    return FALSE;
}

static char *
count_text(guint n, McedIncidentClass c, gint64 period_us)
{
    g_autofree char *period = mced_format_duration(period_us);

    return g_strdup_printf("%u %s incident%s in %s", n, mced_incident_class_to_string(c),
                           n == 1 ? "" : "s", period);
}

static gboolean
step_reached(const McedLadderStep *s, const McedPolicyInput *in)
{
    return s->n == 0
           || mced_policy_count_in_window(in->times, in->now_us, s->period_us) >= s->n;
}

/* Picks the last reached step of @l; fills action, step and reason. A
 * reached 'dump' below it does not end the climb: it runs first. */
static void
choose_step(McedDecision *d, const McedLadder *l, const McedPolicyInput *in)
{
    const McedLadderStep *next = NULL;
    guint next_count = 0;

    for (guint i = l->n_steps; i > 0; i--) {
        const McedLadderStep *s = &l->steps[i - 1];
        guint n = s->n > 0 ? mced_policy_count_in_window(in->times, in->now_us, s->period_us) : 0;

        if (s->n > 0 && n < s->n) {
            next = s;
            next_count = n;
            continue;
        }
        d->planned = s->action;
        d->step = step_to_string(s);
        for (guint j = 0; j + 1 < i; j++)
            if (l->steps[j].action == MCED_ACTION_DUMP && step_reached(&l->steps[j], in))
                d->dump_first = TRUE;
        if (s->n > 0) {
            g_autofree char *counted = count_text(n, in->klass, s->period_us);
            d->reason = g_strdup_printf("%s reached '%s'", counted, d->step);
        } else if (next != NULL) {
            g_autofree char *next_step = step_to_string(next);
            d->reason = g_strdup_printf("'%s' applies to every incident; '%s' not reached "
                                        "(%u so far)", d->step, next_step, next_count);
        } else {
            d->reason = g_strdup_printf("'%s' applies to every incident", d->step);
        }
        return;
    }
    d->planned = MCED_ACTION_LOG;
    if (next != NULL) {
        g_autofree char *next_step = step_to_string(next);
        d->reason = g_strdup_printf("no step reached ('%s' needs %u, %u so far): log",
                                    next_step, next->n, next_count);
    } else {
        d->reason = g_strdup("empty ladder: log");
    }
}

/* The first guard that blocks @d->planned, or NULL. */
static char *
blocking_guard(const McedPolicy *p, const McedPolicyInput *in, McedActionKind a)
{
    const char *name = mced_action_to_string(a);

    if (!mced_action_changes_vm(a))
        return NULL;
    if (p->cooldown_us > 0 && in->last_action_us > 0 &&
        in->now_us < in->last_action_us + p->cooldown_us) {
        g_autofree char *ago = format_span(in->now_us - in->last_action_us);
        g_autofree char *left = format_span(in->last_action_us + p->cooldown_us - in->now_us);
        return g_strdup_printf("cooldown: last action %s ago, next allowed in %s: notify "
                               "instead of %s", ago, left, name);
    }
    if (in->actions_last_hour >= p->max_actions_per_hour)
        return g_strdup_printf("max-actions-per-hour (%u) reached: notify instead of %s",
                               p->max_actions_per_hour, name);
    if (a == MCED_ACTION_MIGRATE && in->migrations_in_flight >= p->max_concurrent_migrations)
        return g_strdup_printf("max-concurrent-migrations (%u) reached: notify instead of "
                               "migrate", p->max_concurrent_migrations);
    if (a == MCED_ACTION_MIGRATE && p->migrate_peers[0] == NULL)
        return g_strdup("no migrate-peers configured: notify instead of migrate");
    return NULL;
}

McedDecision *
mced_policy_decide(const McedPolicy *p, const McedPolicyInput *in)
{
    McedDecision *d;
    const McedLadder *l;
    char *guard;

    g_return_val_if_fail(p != NULL && in != NULL, NULL);
    g_return_val_if_fail(in->klass >= 0 && in->klass < _MCED_CLASS_MAX, NULL);

    d = g_new0(McedDecision, 1);
    d->klass = in->klass;
    d->guards = g_ptr_array_new_with_free_func(g_free);
    l = select_ladder(p, in, &d->source);
    choose_step(d, l, in);
    d->action = d->planned;
    guard = blocking_guard(p, in, d->dump_first ? MCED_ACTION_DUMP : d->planned);
    if (guard == NULL && d->dump_first)
        guard = blocking_guard(p, in, d->planned);
    if (guard != NULL) {
        g_ptr_array_add(d->guards, guard);
        d->action = MCED_ACTION_NOTIFY;
        d->dump_first = FALSE;
    }
    if (mced_action_changes_vm(d->action))
        d->fallback = p->fallback[in->klass] != d->action ? p->fallback[in->klass]
                                                          : MCED_ACTION_NOTIFY;
    else if (d->action == MCED_ACTION_NOTIFY)
        d->fallback = MCED_ACTION_LOG;
    else
        d->fallback = _MCED_ACTION_INVALID;
    d->dry_run = select_dry_run(p, in);
    return d;
}

/* ---- host escalation --------------------------------------------------- */

gboolean
mced_policy_host_degraded(const McedPolicy *p, const GArray *host_times,
                          const gint64 *domain_latest_us, gsize n_domains, gint64 now_us,
                          char **ret_reason)
{
    g_autofree char *period = mced_format_duration(p->degraded_period_us);
    guint host = mced_policy_count_in_window(host_times, now_us, p->degraded_period_us);
    guint domains = 0;

    if (host >= p->degraded_n) {
        if (ret_reason != NULL)
            *ret_reason = g_strdup_printf("%u host incident%s in %s (host-degraded-after = "
                                          "%u/%s)", host, host == 1 ? "" : "s", period,
                                          p->degraded_n, period);
        return TRUE;
    }
    for (gsize i = 0; domain_latest_us != NULL && i < n_domains; i++) {
        gint64 t = domain_latest_us[i];

        if (t > now_us - p->degraded_period_us && t <= now_us)
            domains++;
    }
    if (domains >= p->degraded_n) {
        if (ret_reason != NULL)
            *ret_reason = g_strdup_printf("%u domains with incidents in %s "
                                          "(host-degraded-after = %u/%s)", domains, period,
                                          p->degraded_n, period);
        return TRUE;
    }
    return FALSE;
}

static int
class_rank(McedIncidentClass c)
{
    switch (c) {
    case MCED_CLASS_FATAL:
        return 0;
    case MCED_CLASS_GUEST:
        return 1;
    case MCED_CLASS_CORRECTED:
        return 2;
    case MCED_CLASS_HOST:
    case _MCED_CLASS_MAX:
    case _MCED_CLASS_INVALID:
        break;
    }
    return 3;
}

static int
compare_by_name(const void *a, const void *b)
{
    return g_strcmp0(((const McedEvacuee *)a)->name, ((const McedEvacuee *)b)->name);
}

static int
compare_fatal_first(const void *a, const void *b)
{
    int ra = class_rank(((const McedEvacuee *)a)->worst);
    int rb = class_rank(((const McedEvacuee *)b)->worst);

    if (ra != rb)
        return ra < rb ? -1 : 1;
    return compare_by_name(a, b);
}

void
mced_policy_sort_evacuees(const McedPolicy *p, McedEvacuee *v, gsize n)
{
    switch (p->evacuation_order) {
    case MCED_EVACUATE_FATAL_FIRST:
        qsort(v, n, sizeof(*v), compare_fatal_first);
        return;
    case MCED_EVACUATE_NAME:
        qsort(v, n, sizeof(*v), compare_by_name);
        return;
    }
}

/* ---- explain ----------------------------------------------------------- */

static void
explain_class(GString *out, const McedPolicy *p, const McedPolicyInput *in)
{
    g_autoptr(McedDecision) d = mced_policy_decide(p, in);
    const char *cname = mced_incident_class_to_string(in->klass);
    g_autofree char *ignored = NULL;
    const McedLadder *l = select_ladder(p, in, &ignored);
    g_autofree char *ladder = mced_ladder_to_string(l);

    g_string_append_printf(out, "%s: %s: %s\n", cname, d->source, ladder);
    for (guint i = 0; i < l->n_steps; i++) {
        const McedLadderStep *s = &l->steps[i];
        g_autofree char *step = step_to_string(s);

        if (s->n == 0) {
            g_string_append_printf(out, "  %-28s every incident\n", step);
        } else {
            g_autofree char *period = mced_format_duration(s->period_us);
            guint n = mced_policy_count_in_window(in->times, in->now_us, s->period_us);
            g_string_append_printf(out, "  %-28s %u of %u in the last %s\n", step, n, s->n,
                                   period);
        }
    }
    g_string_append_printf(out, "  now: %s%s (%s)", d->dump_first ? "dump, then " : "",
                           mced_action_to_string(d->action), d->reason);
    if (d->dry_run)
        g_string_append(out, ", dry run");
    g_string_append_c(out, '\n');
    for (guint i = 0; i < d->guards->len; i++)
        g_string_append_printf(out, "  guard: %s\n", (const char *)d->guards->pdata[i]);
    if (d->fallback != _MCED_ACTION_INVALID)
        g_string_append_printf(out, "  fallback: %s\n", mced_action_to_string(d->fallback));
}

char *
mced_policy_explain(const McedPolicy *p, const char *name, const char *uuid,
                    const McedPolicyOverride *ovr,
                    const GArray *const times_per_class[_MCED_CLASS_MAX],
                    gint64 last_action_us, gint64 now_us)
{
    GString *out = g_string_new(NULL);
    g_autoptr(GPtrArray) matched = g_ptr_array_new();
    g_autofree char *cooldown = mced_format_duration(p->cooldown_us);

    g_string_append_printf(out, "domain: %s\n", name != NULL ? name : "(none)");
    if (uuid != NULL)
        g_string_append_printf(out, "uuid: %s\n", uuid);
    for (guint i = 0; i < p->rules->len; i++) {
        const McedPolicyRule *r = p->rules->pdata[i];

        if (rule_matches(r, name, uuid))
            g_ptr_array_add(matched, r->name);
    }
    if (matched->len == 0) {
        g_string_append(out, "rules: none match\n");
    } else {
        g_ptr_array_add(matched, NULL);
        g_autofree char *names = g_strjoinv(", ", (char **)matched->pdata);
        g_string_append_printf(out, "rules: %s (in this order)\n", names);
    }
    g_string_append_printf(out, "override: %s\n", ovr != NULL ? "domain metadata" : "none");
    if (last_action_us <= 0) {
        g_string_append_printf(out, "cooldown: %s, no action taken yet\n", cooldown);
    } else if (now_us < last_action_us + p->cooldown_us) {
        g_autofree char *left = format_span(last_action_us + p->cooldown_us - now_us);
        g_string_append_printf(out, "cooldown: %s, next VM-changing action allowed in %s\n",
                               cooldown, left);
    } else {
        g_string_append_printf(out, "cooldown: %s, over\n", cooldown);
    }
    for (guint c = 0; c < _MCED_CLASS_MAX; c++) {
        McedPolicyInput in = {
            .name = name,
            .uuid = uuid,
            .klass = (McedIncidentClass)c,
            .now_us = now_us,
            .times = times_per_class != NULL ? times_per_class[c] : NULL,
            .last_action_us = last_action_us,
            .override = ovr,
        };

        explain_class(out, p, &in);
    }
    g_string_append(out, "(host-wide limits are applied when an incident is handled)\n");
    return g_string_free(out, FALSE);
}
