/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mced-config.h"
#include "mced-error.h"
#include "mced-policy.h"
#include "mced-state.h"

/* Bounds on what configuration input may be, whatever the files hold. */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)
#define CONFIG_MAX_DROP_INS   256
#define CONFIG_MAX_PATH_LEN   4095

#define DEFAULT_CORRELATION_WINDOW_US (5 * G_USEC_PER_SEC)
#define DEFAULT_RECORD_TIMEOUT_US     (500 * G_TIME_SPAN_MILLISECOND)
#define DEFAULT_STATE_DIRECTORY       "/var/lib/kvm-mced"

typedef enum {
    VALUE_DURATION,
    VALUE_SIZE,
    VALUE_TRISTATE,
    VALUE_ABSOLUTE_PATH,
    VALUE_URI,         /* printable, no blanks */
    VALUE_EVENT_LIST,  /* ';'-separated QMP event names: A-Z, 0-9, '_' */
} ValueType;

/* Every key kvm-mced knows, with its type, range and where it lands. */
typedef struct {
    const char *group;
    const char *key;
    ValueType type;
    guint64 min;
    guint64 max;
    gsize offset; /* into McedConfig */
} KeyInfo;

static const KeyInfo known_keys[] = {
    { "daemon", "correlation-window", VALUE_DURATION,
      100 * G_TIME_SPAN_MILLISECOND, G_TIME_SPAN_HOUR,
      G_STRUCT_OFFSET(McedConfig, correlation_window_us) },
    { "daemon", "record-timeout", VALUE_DURATION,
      10 * G_TIME_SPAN_MILLISECOND, 60 * G_TIME_SPAN_SECOND,
      G_STRUCT_OFFSET(McedConfig, record_timeout_us) },
    { "daemon", "state-directory", VALUE_ABSOLUTE_PATH, 0, 0,
      G_STRUCT_OFFSET(McedConfig, state_directory) },
    { "daemon", "history-max-size", VALUE_SIZE,
      64 * 1024, 1024 * 1024 * 1024,
      G_STRUCT_OFFSET(McedConfig, history_max_size) },
    { "sources", "journal", VALUE_TRISTATE, 0, 0,
      G_STRUCT_OFFSET(McedConfig, journal) },
    { "sources", "kmsg", VALUE_TRISTATE, 0, 0,
      G_STRUCT_OFFSET(McedConfig, kmsg) },
    { "libvirt", "enabled", VALUE_TRISTATE, 0, 0,
      G_STRUCT_OFFSET(McedConfig, libvirt) },
    { "libvirt", "uri", VALUE_URI, 1, 1024,
      G_STRUCT_OFFSET(McedConfig, libvirt_uri) },
    { "libvirt", "qmp-events", VALUE_EVENT_LIST, 0, 64,
      G_STRUCT_OFFSET(McedConfig, qmp_events) },
    { "libvirt", "qemu-log-directory", VALUE_ABSOLUTE_PATH, 0, 0,
      G_STRUCT_OFFSET(McedConfig, qemu_log_directory) },
    { "libvirt", "reconnect-max", VALUE_DURATION,
      G_TIME_SPAN_SECOND, 10 * G_TIME_SPAN_MINUTE,
      G_STRUCT_OFFSET(McedConfig, reconnect_max_us) },
};

static const char *const known_groups[] = { "daemon", "sources", "libvirt" };

McedConfig *
mced_config_new_default(void)
{
    McedConfig *cfg = g_new0(McedConfig, 1);

    cfg->correlation_window_us = DEFAULT_CORRELATION_WINDOW_US;
    cfg->record_timeout_us = DEFAULT_RECORD_TIMEOUT_US;
    cfg->state_directory = g_strdup(DEFAULT_STATE_DIRECTORY);
    cfg->history_max_size = MCED_HISTORY_DEFAULT_CAP;
    cfg->journal = MCED_TRISTATE_AUTO;
    cfg->kmsg = MCED_TRISTATE_AUTO;
    cfg->libvirt = MCED_TRISTATE_AUTO;
    cfg->libvirt_uri = g_strdup("qemu:///system");
    cfg->qmp_events = g_strsplit("GUEST_PANICKED;GUEST_CRASHLOADED;MEMORY_FAILURE;RESET", ";", -1);
    cfg->qemu_log_directory = g_strdup("/var/log/libvirt/qemu");
    cfg->reconnect_max_us = 30 * G_TIME_SPAN_SECOND;
    cfg->files = g_ptr_array_new_with_free_func(g_free);
    return cfg;
}

void
mced_config_free(McedConfig *cfg)
{
    if (cfg == NULL)
        return;
    g_free(cfg->state_directory);
    g_free(cfg->libvirt_uri);
    g_strfreev(cfg->qmp_events);
    g_free(cfg->qemu_log_directory);
    if (cfg->files != NULL)
        g_ptr_array_unref(cfg->files);
    g_free(cfg);
}

/* ---- value parsers ---------------------------------------------------- */

/* Leading decimal digits of @s into @ret, overflow-checked. Returns the
 * first byte after them, or NULL when there are none or they overflow. */
static const char *
parse_digits(const char *s, guint64 *ret)
{
    guint64 v = 0;
    const char *p = s;

    while (g_ascii_isdigit(*p)) {
        guint d = (guint)(*p - '0');

        if (v > (G_MAXUINT64 - d) / 10)
            return NULL;
        v = v * 10 + d;
        p++;
    }
    if (p == s)
        return NULL;
    *ret = v;
    return p;
}

gboolean
mced_parse_duration(const char *s, gint64 *ret_us)
{
    static const struct {
        const char *suffix;
        guint64 us;
    } units[] = {
        { "", G_TIME_SPAN_SECOND },
        { "ms", G_TIME_SPAN_MILLISECOND },
        { "s", G_TIME_SPAN_SECOND },
        { "m", G_TIME_SPAN_MINUTE },
        { "h", G_TIME_SPAN_HOUR },
        { "d", G_TIME_SPAN_DAY },
    };
    const char *rest;
    guint64 n = 0;

    if (s == NULL)
        return FALSE;
    rest = parse_digits(s, &n);
    if (rest == NULL)
        return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(units); i++) {
        if (strcmp(rest, units[i].suffix) != 0)
            continue;
        if (n > (guint64)G_MAXINT64 / units[i].us)
            return FALSE;
        if (ret_us != NULL)
            *ret_us = (gint64)(n * units[i].us);
        return TRUE;
    }
    return FALSE;
}

gboolean
mced_parse_size(const char *s, guint64 *ret)
{
    const char *rest;
    guint64 n = 0;
    guint shift;

    if (s == NULL)
        return FALSE;
    rest = parse_digits(s, &n);
    if (rest == NULL)
        return FALSE;
    if (rest[0] == '\0')
        shift = 0;
    else if (strcmp(rest, "K") == 0)
        shift = 10;
    else if (strcmp(rest, "M") == 0)
        shift = 20;
    else if (strcmp(rest, "G") == 0)
        shift = 30;
    else
        return FALSE;
    if (shift > 0 && n > (G_MAXUINT64 >> shift))
        return FALSE;
    if (ret != NULL)
        *ret = n << shift;
    return TRUE;
}

/* The largest exact unit; a single day stays "24h", the way thresholds
 * are usually written. */
char *
mced_format_duration(gint64 us)
{
    if (us < 0)
        us = 0;
    if (us > G_TIME_SPAN_DAY && us % G_TIME_SPAN_DAY == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "d", us / G_TIME_SPAN_DAY);
    if (us != 0 && us % G_TIME_SPAN_HOUR == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "h", us / G_TIME_SPAN_HOUR);
    if (us != 0 && us % G_TIME_SPAN_MINUTE == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "m", us / G_TIME_SPAN_MINUTE);
    if (us != 0 && us % G_TIME_SPAN_SECOND == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "s", us / G_TIME_SPAN_SECOND);
    if (us % G_TIME_SPAN_MILLISECOND == 0)
        return g_strdup_printf("%" G_GINT64_FORMAT "ms", us / G_TIME_SPAN_MILLISECOND);
    return g_strdup_printf("%" G_GINT64_FORMAT "us", us);
}

static char *
format_size(guint64 n)
{
    if (n != 0 && n % (1024 * 1024 * 1024) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "G", n >> 30);
    if (n != 0 && n % (1024 * 1024) == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "M", n >> 20);
    if (n != 0 && n % 1024 == 0)
        return g_strdup_printf("%" G_GUINT64_FORMAT "K", n >> 10);
    return g_strdup_printf("%" G_GUINT64_FORMAT, n);
}

/* ---- raw text scan ---------------------------------------------------- */

/* GKeyFile keeps no line numbers, and it quietly lets a later duplicate
 * key win. So every file is also scanned by hand with GKeyFile's own line
 * rules (strip, '#' comment, "[group]" up to the first ']', "key = value"):
 * this finds the line of each group and key for messages, and rejects
 * duplicates and lines GKeyFile would refuse, naming their line. */
typedef struct {
    char *group;
    char *key;   /* NULL for a group header */
    guint line;
} ScanEntry;

static void
scan_entry_free(ScanEntry *e)
{
    g_free(e->group);
    g_free(e->key);
    g_free(e);
}

static void
scan_add(GPtrArray *entries, const char *group, const char *key, guint line)
{
    ScanEntry *e = g_new0(ScanEntry, 1);

    e->group = g_strdup(group);
    e->key = g_strdup(key);
    e->line = line;
    g_ptr_array_add(entries, e);
}

/* The line number of byte @offset in @data. */
static guint
line_of_offset(const char *data, gsize offset)
{
    guint line = 1;

    for (gsize i = 0; i < offset; i++) {
        if (data[i] == '\n')
            line++;
    }
    return line;
}

static gboolean
scan_group_header(const char *path, guint line_no, const char *line, char **ret_group,
                  GError **error)
{
    const char *close = strchr(line, ']');

    if (close == NULL || close == line + 1 || close[1] != '\0') {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s:%u: bad group header '%s'", path, line_no, line);
        return FALSE;
    }
    *ret_group = g_strndup(line + 1, (gsize)(close - line - 1));
    return TRUE;
}

static gboolean
scan_text(const char *path, const char *data, gsize len, GPtrArray *entries, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *group = NULL;
    const char *nul = memchr(data, '\0', len);
    const char *p = data;
    const char *end = data + len;
    guint line_no = 0;

    if (nul != NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s:%u: NUL byte in the file", path, line_of_offset(data, (gsize)(nul - data)));
        return FALSE;
    }

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        g_autofree char *line = g_strstrip(g_strndup(p, (gsize)(line_end - p)));
        g_autofree char *key = NULL;
        g_autofree char *id = NULL;
        const char *eq;
        gpointer first;

        line_no++;
        p = nl != NULL ? nl + 1 : end;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        if (line[0] == '[') {
            g_clear_pointer(&group, g_free);
            if (!scan_group_header(path, line_no, line, &group, error))
                return FALSE;
            scan_add(entries, group, NULL, line_no);
            continue;
        }
        eq = strchr(line, '=');
        if (eq == NULL) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: '%s' is not a group header, a key = value line or a comment",
                        path, line_no, line);
            return FALSE;
        }
        key = g_strstrip(g_strndup(line, (gsize)(eq - line)));
        if (key[0] == '\0') {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: a value without a key", path, line_no);
            return FALSE;
        }
        if (group == NULL) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: %s: key before the first [group]", path, line_no, key);
            return FALSE;
        }
        id = g_strdup_printf("%s\n%s", group, key);
        first = g_hash_table_lookup(seen, id);
        if (first != NULL) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s] %s: duplicate key (first set on line %u)", path, line_no,
                        group, key, GPOINTER_TO_UINT(first));
            return FALSE;
        }
        g_hash_table_insert(seen, g_steal_pointer(&id), GUINT_TO_POINTER(line_no));
        scan_add(entries, group, key, line_no);
    }
    return TRUE;
}

/* GKeyFile refused a file the scan accepted (a group or key name with
 * characters it does not allow, say) and its message carries no line.
 * Find the first line it refuses on its own, under a group of its own
 * when it is not a header: that is the line the message is about. */
static guint
line_of_keyfile_error(const char *data, gsize len)
{
    const char *p = data;
    const char *end = data + len;
    guint line_no = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (gsize)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        g_autofree char *line = g_strstrip(g_strndup(p, (gsize)(line_end - p)));
        g_autofree char *alone = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();

        line_no++;
        p = nl != NULL ? nl + 1 : end;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        alone = line[0] == '[' ? g_strdup(line) : g_strconcat("[g]\n", line, NULL);
        if (!g_key_file_load_from_data(kf, alone, (gsize)-1, G_KEY_FILE_NONE, NULL))
            return line_no;
    }
    return 0;
}

/* ---- applying one file ------------------------------------------------ */

static const KeyInfo *
find_key(const char *group, const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known_keys); i++) {
        if (strcmp(known_keys[i].group, group) == 0 && strcmp(known_keys[i].key, key) == 0)
            return &known_keys[i];
    }
    return NULL;
}

static gboolean
is_known_group(const char *group)
{
    for (gsize i = 0; i < G_N_ELEMENTS(known_groups); i++) {
        if (strcmp(known_groups[i], group) == 0)
            return TRUE;
    }
    return FALSE;
}

/* Parses @value for @info into @cfg; on failure returns the reason (no
 * location: the caller adds file, line, group and key). */
static char *
apply_value(McedConfig *cfg, const KeyInfo *info, const char *value)
{
    gpointer field = G_STRUCT_MEMBER_P(cfg, info->offset);

    switch (info->type) {
    case VALUE_DURATION: {
        gint64 us;

        if (!mced_parse_duration(value, &us))
            return g_strdup_printf("bad duration '%s' (expected e.g. 500ms, 5s, 2m)", value);
        if ((guint64)us < info->min || (guint64)us > info->max) {
            g_autofree char *lo = mced_format_duration((gint64)info->min);
            g_autofree char *hi = mced_format_duration((gint64)info->max);
            return g_strdup_printf("duration '%s' is out of range (%s .. %s)", value, lo, hi);
        }
        *(gint64 *)field = us;
        return NULL;
    }
    case VALUE_SIZE: {
        guint64 n;

        if (!mced_parse_size(value, &n))
            return g_strdup_printf("bad size '%s' (expected e.g. 64K, 8M, 1G)", value);
        if (n < info->min || n > info->max) {
            g_autofree char *lo = format_size(info->min);
            g_autofree char *hi = format_size(info->max);
            return g_strdup_printf("size '%s' is out of range (%s .. %s)", value, lo, hi);
        }
        *(guint64 *)field = n;
        return NULL;
    }
    case VALUE_TRISTATE:
        if (strcmp(value, "auto") == 0)
            *(McedTristate *)field = MCED_TRISTATE_AUTO;
        else if (strcmp(value, "yes") == 0)
            *(McedTristate *)field = MCED_TRISTATE_YES;
        else if (strcmp(value, "no") == 0)
            *(McedTristate *)field = MCED_TRISTATE_NO;
        else
            return g_strdup_printf("bad value '%s' (expected auto, yes or no)", value);
        return NULL;
    case VALUE_ABSOLUTE_PATH:
        if (!g_path_is_absolute(value))
            return g_strdup_printf("'%s' is not an absolute path", value);
        if (strlen(value) > CONFIG_MAX_PATH_LEN)
            return g_strdup_printf("path is longer than %d bytes", CONFIG_MAX_PATH_LEN);
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        return NULL;
    case VALUE_URI:
        if (strlen(value) < info->min || strlen(value) > info->max)
            return g_strdup_printf("URI is longer than %" G_GUINT64_FORMAT " bytes", info->max);
        for (const char *c = value; *c != '\0'; c++)
            if ((guchar)*c <= ' ' || (guchar)*c == 0x7f)
                return g_strdup_printf("'%s' is not a URI (blank or control character)", value);
        if (strstr(value, ":") == NULL)
            return g_strdup_printf("'%s' is not a URI (no scheme)", value);
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        return NULL;
    case VALUE_EVENT_LIST: {
        g_auto(GStrv) names = g_strsplit(value, ";", -1);
        g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

        for (guint i = 0; names[i] != NULL; i++) {
            char *name = g_strstrip(names[i]);
            if (*name == '\0')
                continue;
            if (strlen(name) > 64)
                return g_strdup_printf("event name '%.16s...' is too long", name);
            for (const char *c = name; *c != '\0'; c++)
                if (!(g_ascii_isupper(*c) || g_ascii_isdigit(*c) || *c == '_'))
                    return g_strdup_printf("'%s' is not a QMP event name (A-Z, 0-9, _)", name);
            g_ptr_array_add(out, g_strdup(name));
        }
        if (out->len > info->max)
            return g_strdup_printf("more than %" G_GUINT64_FORMAT " events", info->max);
        g_ptr_array_add(out, NULL);
        g_strfreev(*(GStrv *)field);
        *(GStrv *)field = (GStrv)g_ptr_array_free(g_steal_pointer(&out), FALSE);
        return NULL;
    }
    }
    return g_strdup("unhandled value type");
}

static gboolean
apply_entry(McedConfig *cfg, GKeyFile *kf, const char *path, const ScanEntry *e, GError **error)
{
    const KeyInfo *info;
    g_autoptr(GError) local_error = NULL;
    g_autofree char *value = NULL;
    g_autofree char *reason = NULL;

    /* [policy], [policy.*] and [rule *] are read by mced_policy_load(). */
    if (mced_policy_owns_group(e->group))
        return TRUE;
    if (e->key == NULL) {
        if (!is_known_group(e->group)) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s:%u: [%s]: unknown group", path, e->line, e->group);
            return FALSE;
        }
        return TRUE;
    }
    info = find_key(e->group, e->key);
    if (info == NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s:%u: [%s] %s: unknown key", path, e->line, e->group, e->key);
        return FALSE;
    }
    /* GKeyFile may return a value and set an error (a bad escape). */
    value = g_key_file_get_string(kf, e->group, e->key, &local_error);
    if (value == NULL || local_error != NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s:%u: [%s] %s: %s",
                    path, e->line, e->group, e->key,
                    local_error != NULL ? local_error->message : "no value");
        return FALSE;
    }
    g_strstrip(value);
    if (value[0] == '\0') {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s:%u: [%s] %s: empty value", path, e->line, e->group, e->key);
        return FALSE;
    }
    reason = apply_value(cfg, info, value);
    if (reason != NULL) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s:%u: [%s] %s: %s",
                    path, e->line, e->group, e->key, reason);
        return FALSE;
    }
    return TRUE;
}

/* Reads @path into @ret_data. A missing file is FALSE with no error when
 * @missing_ok. */
static gboolean
read_config_file(const char *path, gboolean missing_ok, char **ret_data, gsize *ret_len,
                 GError **error)
{
    GStatBuf st;
    g_autoptr(GError) local_error = NULL;

    if (g_stat(path, &st) < 0) {
        int errsv = errno;

        if (errsv == ENOENT && missing_ok)
            return FALSE;
        g_set_error(error, MCED_ERROR,
                    errsv == ENOENT ? MCED_ERROR_NOT_FOUND : MCED_ERROR_IO,
                    "%s: %s", path, g_strerror(errsv));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: not a regular file", path);
        return FALSE;
    }
    if (st.st_size > CONFIG_MAX_FILE_BYTES) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: larger than %d bytes", path, CONFIG_MAX_FILE_BYTES);
        return FALSE;
    }
    if (!g_file_get_contents(path, ret_data, ret_len, &local_error)) {
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "%s", local_error->message);
        return FALSE;
    }
    if (*ret_len > CONFIG_MAX_FILE_BYTES) {
        g_clear_pointer(ret_data, g_free);
        g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                    "%s: larger than %d bytes", path, CONFIG_MAX_FILE_BYTES);
        return FALSE;
    }
    return TRUE;
}

static gboolean
config_apply_file(McedConfig *cfg, const char *path, gboolean missing_ok, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify)scan_entry_free);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local_error = NULL;

    if (!read_config_file(path, missing_ok, &data, &len, &local_error)) {
        if (local_error == NULL)
            return TRUE; /* missing, and that is fine */
        g_propagate_error(error, g_steal_pointer(&local_error));
        return FALSE;
    }
    if (!scan_text(path, data, len, entries, error))
        return FALSE;
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &local_error)) {
        guint line = line_of_keyfile_error(data, len);

        if (line > 0)
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s:%u: %s", path, line,
                        local_error->message);
        else
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA, "%s: %s", path,
                        local_error->message);
        return FALSE;
    }
    for (guint i = 0; i < entries->len; i++) {
        if (!apply_entry(cfg, kf, path, entries->pdata[i], error))
            return FALSE;
    }
    g_ptr_array_add(cfg->files, g_strdup(path));
    return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* The *.conf names in @dir, sorted; NULL with no error when @dir is missing. */
static GPtrArray *
list_drop_ins(const char *dir, GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) local_error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &local_error);
    const char *name;

    if (d == NULL) {
        if (g_error_matches(local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return NULL;
        g_set_error(error, MCED_ERROR, MCED_ERROR_IO, "%s", local_error->message);
        return NULL;
    }
    while ((name = g_dir_read_name(d)) != NULL) {
        if (name[0] == '.' || !g_str_has_suffix(name, ".conf"))
            continue;
        if (names->len >= CONFIG_MAX_DROP_INS) {
            g_set_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA,
                        "%s: more than %d drop-in files", dir, CONFIG_MAX_DROP_INS);
            return NULL;
        }
        g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, compare_names);
    return g_steal_pointer(&names);
}

McedConfig *
mced_config_load(const char *main_file, GError **error)
{
    g_autoptr(McedConfig) cfg = mced_config_new_default();
    g_autofree char *base = NULL;
    g_autofree char *dropin_dir = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GError) local_error = NULL;

    g_return_val_if_fail(main_file != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);

    if (!config_apply_file(cfg, main_file, TRUE, error))
        return NULL;

    base = g_path_get_dirname(main_file);
    dropin_dir = g_build_filename(base, "conf.d", NULL);
    names = list_drop_ins(dropin_dir, &local_error);
    if (local_error != NULL) {
        g_propagate_error(error, g_steal_pointer(&local_error));
        return NULL;
    }
    for (guint i = 0; names != NULL && i < names->len; i++) {
        g_autofree char *path = g_build_filename(dropin_dir, names->pdata[i], NULL);

        if (!config_apply_file(cfg, path, FALSE, error))
            return NULL;
    }
    return g_steal_pointer(&cfg);
}
