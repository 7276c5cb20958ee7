/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mced-error.h"
#include "mced-json.h"
#include "mced-observation-json.h"
#include "mced-state.h"
#include "test-util.h"

#define FIXED_NOW_S G_GINT64_CONSTANT(1700000000)

typedef struct {
    char *dir;        /* a fresh state directory per test */
    char *state_path; /* <dir>/state.json */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;

    f->dir = g_dir_make_tmp("test-state-XXXXXX", &error);
    g_assert_no_error(error);
    f->state_path = g_build_filename(f->dir, "state.json", NULL);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    test_remove_tree(f->dir);
    g_free(f->dir);
    g_free(f->state_path);
}

static gint64
fixed_clock(gpointer user_data)
{
    return FIXED_NOW_S * G_USEC_PER_SEC + 123456;
}

static McedStore *
store_new(Fixture *f, gsize cap)
{
    McedStore *s = mced_store_new(f->dir, cap);

    mced_store_set_clock(s, fixed_clock, NULL);
    return s;
}

static char *
read_text(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    return text;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

/* Names in @dir, sorted, joined with spaces. */
static char *
list_dir(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)) != NULL)
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, compare_names);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **)names->pdata);
}

/* ---- building incidents ------------------------------------------------ */

static McedObservation *
make_obs(McedObsKind kind, gint64 t_us, const char *cursor, guint64 cpu, guint64 pa)
{
    McedObservation *o = mced_observation_new(kind);
    g_autofree char *line = g_strdup_printf("MCE: CPU%" G_GUINT64_FORMAT ": machine check", cpu);

    o->realtime_us = t_us;
    o->cursor = g_strdup(cursor);
    o->severity = MCED_SEVERITY_SEVERE;
    o->disposition = MCED_DISPOSITION_NOT_RECOVERED;
    mced_observation_set_num(o, MCED_NUM_HOST_CPU, cpu);
    mced_observation_set_num(o, MCED_NUM_PA, pa);
    mced_observation_set_num(o, MCED_NUM_VCPU, 3);
    mced_observation_set_str(o, MCED_STR_ERROR_TYPE, "UE", -1);
    mced_observation_add_line(o, line, strlen(line));
    mced_observation_freeze(o);
    return o;
}

static McedIncident *
make_vm_incident(const char *id, const char *name, const char *uuid, gint64 t0_us, guint n_obs)
{
    g_autoptr(McedVmRef) vm = mced_vm_ref_new(name, uuid, 4242);
    McedIncident *inc = mced_incident_new(id, vm);

    for (guint i = 0; i < n_obs; i++) {
        g_autofree char *cursor = g_strdup_printf("%s:%u", id, i);
        g_autoptr(McedObservation) o = make_obs(i % 2 ? MCED_OBS_MEMORY_FAILURE
                                                      : MCED_OBS_PPC64_MCE,
                                                t0_us + i * 1000, cursor, 12 + i,
                                                G_GUINT64_CONSTANT(0x201f3a3c1000) + i * 4096);
        mced_incident_add_observation(inc, o, MCED_CLASS_GUEST);
    }
    return inc;
}

static McedIncident *
make_host_incident(const char *id, gint64 t_us)
{
    McedIncident *inc = mced_incident_new(id, NULL);
    g_autoptr(McedObservation) o = make_obs(MCED_OBS_X86_MCE, t_us, id, 7,
                                            G_GUINT64_CONSTANT(0xffffffffffffffff));

    mced_incident_add_observation(inc, o, MCED_CLASS_HOST);
    return inc;
}

static void
assert_incident_equal(const McedIncident *a, const McedIncident *b)
{
    g_assert_cmpstr(a->id, ==, b->id);
    g_assert_true((a->vm == NULL) == (b->vm == NULL));
    if (a->vm != NULL) {
        g_assert_cmpstr(a->vm->name, ==, b->vm->name);
        g_assert_cmpstr(a->vm->uuid, ==, b->vm->uuid);
        g_assert_cmpint(a->vm->pid, ==, b->vm->pid);
    }
    g_assert_cmpint(a->klass, ==, b->klass);
    g_assert_cmpint(a->state, ==, b->state);
    g_assert_cmpint(a->severity, ==, b->severity);
    g_assert_cmpint(a->disposition, ==, b->disposition);
    g_assert_cmpstr(a->error_type, ==, b->error_type);
    g_assert_cmpint(a->first_us, ==, b->first_us);
    g_assert_cmpint(a->last_us, ==, b->last_us);
    g_assert_cmpuint(a->host_cpus->len, ==, b->host_cpus->len);
    g_assert_cmpmem(a->host_cpus->data, a->host_cpus->len * 8, b->host_cpus->data,
                    b->host_cpus->len * 8);
    g_assert_cmpmem(a->vcpus->data, a->vcpus->len * 8, b->vcpus->data, b->vcpus->len * 8);
    g_assert_cmpmem(a->addresses->data, a->addresses->len * 8, b->addresses->data,
                    b->addresses->len * 8);
    g_assert_cmpuint(a->kinds, ==, b->kinds);
    g_assert_cmpuint(a->n_observations, ==, b->n_observations);
    g_assert_cmpint(a->synthetic, ==, b->synthetic);
}

/* ---- in-memory state --------------------------------------------------- */

static void
test_count_incident(void)
{
    g_autoptr(McedState) st = mced_state_new();
    g_autoptr(McedIncident) a = make_vm_incident("i-a", "web1", "AAAA-1111", 1000000, 2);
    g_autoptr(McedIncident) b = make_vm_incident("i-b", "web1-renamed", "aaaa-1111", 5000000, 1);
    g_autoptr(McedIncident) older = make_vm_incident("i-old", "web1", "aaaa-1111", 10, 1);
    g_autoptr(McedIncident) named = make_vm_incident("i-n", "db", NULL, 2000000, 1);
    g_autoptr(McedIncident) host = make_host_incident("i-h", 3000000);
    McedDomainCounters *dc;

    g_assert_cmpuint(mced_state_n_domains(st), ==, 0);
    b->klass = MCED_CLASS_FATAL;
    dc = mced_state_count_incident(st, a);
    g_assert_cmpstr(dc->key, ==, "aaaa-1111"); /* the UUID, lower case */
    g_assert_cmpstr(dc->name, ==, "web1");
    g_assert_cmpuint(dc->incidents[MCED_CLASS_GUEST], ==, 1);
    g_assert_cmpint(dc->last_incident_us, ==, 1001000);
    g_assert_cmpstr(dc->last_incident_id, ==, "i-a");

    g_assert_true(mced_state_count_incident(st, b) == dc);
    g_assert_cmpstr(dc->name, ==, "web1-renamed"); /* the latest name */
    g_assert_cmpuint(dc->incidents[MCED_CLASS_FATAL], ==, 1);
    g_assert_cmpstr(dc->last_incident_id, ==, "i-b");

    /* An older incident counts but does not become the latest. */
    mced_state_count_incident(st, older);
    g_assert_cmpuint(dc->incidents[MCED_CLASS_GUEST], ==, 2);
    g_assert_cmpstr(dc->last_incident_id, ==, "i-b");
    g_assert_cmpint(dc->last_incident_us, ==, 5000000);

    dc = mced_state_count_incident(st, named);
    g_assert_cmpstr(dc->key, ==, "db");
    g_assert_null(dc->uuid);
    dc = mced_state_count_incident(st, host);
    g_assert_cmpstr(dc->key, ==, "host");
    g_assert_null(dc->name);
    g_assert_cmpuint(dc->incidents[MCED_CLASS_HOST], ==, 1);
    g_assert_cmpuint(g_hash_table_size(st->domains), ==, 3);
    g_assert_cmpuint(mced_state_n_domains(st), ==, 2); /* web1 and db, not the host */
}

static void
test_remember_id(void)
{
    g_autoptr(McedState) st = mced_state_new();

    mced_state_remember_id(st, "i-first");
    mced_state_remember_id(st, "i-first");
    mced_state_remember_id(st, NULL);
    mced_state_remember_id(st, "");
    g_assert_cmpuint(st->recent_ids->len, ==, 1);

    for (guint i = 0; i < MCED_STATE_MAX_RECENT_IDS + 10; i++) {
        g_autofree char *id = g_strdup_printf("i-%05u", i);
        mced_state_remember_id(st, id);
    }
    g_assert_cmpuint(st->recent_ids->len, ==, MCED_STATE_MAX_RECENT_IDS);
    /* The oldest went first: "i-first" and i-00000 .. i-00009. */
    g_assert_cmpstr(st->recent_ids->pdata[0], ==, "i-00010");
    g_assert_cmpstr(st->recent_ids->pdata[MCED_STATE_MAX_RECENT_IDS - 1], ==, "i-04105");
}

/* ---- incident JSON ----------------------------------------------------- */

static void
test_incident_json_roundtrip(void)
{
    g_autoptr(McedIncident) vm_inc = make_vm_incident("i-0123456789abcdef", "web1",
                                                      "0b5e7f3a-0000-4000-8000-000000000001",
                                                      1700000000000000, 3);
    g_autoptr(McedIncident) host_inc = make_host_incident("i-host", 1700000001000000);
    McedIncident *cases[] = { vm_inc, host_inc };

    vm_inc->synthetic = TRUE;
    host_inc->state = MCED_INCIDENT_CLOSED;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_object) with = mced_incident_to_json(cases[i], TRUE);
        g_autoptr(json_object) without = mced_incident_to_json(cases[i], FALSE);
        g_autoptr(json_object) reparsed = NULL;
        g_autoptr(McedIncident) back = NULL;
        g_autoptr(GError) error = NULL;
        json_object *obs = NULL;

        g_assert_true(json_object_object_get_ex(with, "observations", &obs));
        g_assert_cmpuint(json_object_array_length(obs), ==, cases[i]->observations->len);
        g_assert_false(json_object_object_get_ex(without, "observations", NULL));

        /* Through text, as it goes to disk. */
        reparsed = json_tokener_parse(json_object_to_json_string(with));
        back = mced_incident_from_json(reparsed, &error);
        g_assert_no_error(error);
        assert_incident_equal(cases[i], back);
        /* Kept observations come back whole: an incident open across a
         * restart must reach the history as it would have without one. */
        g_assert_cmpuint(back->observations->len, ==, cases[i]->observations->len);
        for (guint j = 0; j < back->observations->len; j++) {
            g_autofree char *a = mced_observation_to_json_string(cases[i]->observations->pdata[j]);
            g_autofree char *b = mced_observation_to_json_string(back->observations->pdata[j]);
            g_assert_cmpstr(a, ==, b);
        }
        /* and without them, only the summary */
        {
            g_autoptr(McedIncident) summary = mced_incident_from_json(without, &error);
            g_assert_no_error(error);
            g_assert_cmpuint(summary->observations->len, ==, 0);
        }
    }
}

/* The exact text of a known incident, so that the format is pinned. */
static void
test_incident_json_format(void)
{
    g_autoptr(McedIncident) inc = make_vm_incident("i-1", "web1", NULL, 1000, 2);
    g_autoptr(McedIncident) host = make_host_incident("i-2", 5);
    g_autoptr(json_object) obj = mced_incident_to_json(inc, FALSE);
    g_autoptr(json_object) hobj = mced_incident_to_json(host, FALSE);

    g_assert_cmpstr(json_object_to_json_string_ext(obj, MCED_JSON_PRINT_FLAGS), ==,
                    "{\"id\":\"i-1\",\"domain\":\"web1\",\"domain_uuid\":null,\"pid\":4242,"
                    "\"class\":\"guest\",\"state\":\"open\",\"severity\":\"severe\","
                    "\"disposition\":\"not-recovered\",\"error_type\":\"UE\",\"first_us\":1000,"
                    "\"last_us\":2000,\"host_cpus\":[12,13],\"vcpus\":[3],"
                    "\"addresses\":[\"0x201f3a3c1000\",\"0x201f3a3c2000\"],"
                    "\"kinds\":[\"ppc64-mce\",\"memory-failure\"],\"n_observations\":2,"
                    "\"synthetic\":false}");
    g_assert_cmpstr(json_object_to_json_string_ext(hobj, MCED_JSON_PRINT_FLAGS), ==,
                    "{\"id\":\"i-2\",\"domain\":null,\"domain_uuid\":null,\"pid\":null,"
                    "\"class\":\"host\",\"state\":\"open\",\"severity\":\"severe\","
                    "\"disposition\":\"not-recovered\",\"error_type\":\"UE\",\"first_us\":5,"
                    "\"last_us\":5,\"host_cpus\":[7],\"vcpus\":[3],"
                    "\"addresses\":[\"0xffffffffffffffff\"],\"kinds\":[\"x86-mce\"],"
                    "\"n_observations\":1,\"synthetic\":false}");
}

static void
test_incident_json_invalid(void)
{
    static const struct {
        const char *key;
        const char *value; /* JSON text; NULL removes the key */
        const char *expected;
    } cases[] = {
        { "id", NULL, "id: missing" },
        { "id", "7", "id: expected a string, got an integer" },
        { "id", "\"\"", "id: expected 1 to 256 bytes of text" },
        { "domain", "[]", "domain: expected a string or null, got an array" },
        { "pid", "0", "pid: 0 is out of range (1 .. 2147483647)" },
        { "pid", "\"42\"", "pid: expected an integer, got a string" },
        { "class", "\"bogus\"", "class: unknown value \"bogus\"" },
        { "class", "null", "class: expected a string, got null" },
        { "state", "\"half-open\"", "state: unknown value \"half-open\"" },
        { "severity", "\"unknown\"", "severity: unknown value \"unknown\"" },
        { "disposition", "1", "disposition: expected a string or null, got an integer" },
        { "first_us", "\"soon\"", "first_us: expected an integer, got a string" },
        { "first_us", "-1", "first_us: -1 is out of range (0 .. 9223372036854775807)" },
        { "first_us", "1.5", "first_us: expected an integer, got a fraction" },
        { "last_us", "999", "last_us: 999 is before first_us 1000" },
        { "last_us", "18446744073709551615",
          "last_us: 18446744073709551615 is out of range (0 .. 9223372036854775807)" },
        { "host_cpus", "{}", "host_cpus: expected an array, got an object" },
        { "host_cpus", "[1,-2]", "host_cpus[1]: -2 is negative" },
        { "host_cpus", "[1,1]", "host_cpus[1]: repeats an earlier value" },
        { "vcpus", "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]", "vcpus: 17 values, at most 16" },
        { "addresses", "[4096]", "addresses[0]: expected a \"0x...\" string, got an integer" },
        { "addresses", "[\"0xzz\"]", "addresses[0]: bad hex value \"0xzz\"" },
        { "addresses", "[\"0x\"]", "addresses[0]: bad hex value \"0x\"" },
        { "addresses", "[\"0x10000000000000000\"]",
          "addresses[0]: bad hex value \"0x10000000000000000\"" },
        { "addresses", "[\"4096\"]", "addresses[0]: bad hex value \"4096\"" },
        { "kinds", "[\"ppc64-mce\",\"nope\"]", "kinds[1]: unknown kind \"nope\"" },
        { "kinds", NULL, "kinds: missing" },
        { "n_observations", "-3", "n_observations: -3 is out of range (0 .. 4294967295)" },
        { "synthetic", "1", "synthetic: expected true or false, got an integer" },
    };
    g_autoptr(McedIncident) inc = make_vm_incident("i-1", "web1", NULL, 1000, 2);
    g_autoptr(GError) error = NULL;
    g_autoptr(McedIncident) none = mced_incident_from_json(NULL, &error);

    g_assert_null(none);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
    g_clear_error(&error);

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_object) obj = mced_incident_to_json(inc, FALSE);
        g_autoptr(McedIncident) back = NULL;

        if (cases[i].value == NULL)
            json_object_object_del(obj, cases[i].key);
        else
            json_object_object_add(obj, cases[i].key, json_tokener_parse(cases[i].value));
        back = mced_incident_from_json(obj, &error);
        g_test_message("case %s = %s", cases[i].key, cases[i].value);
        g_assert_null(back);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_cmpstr(error->message, ==, cases[i].expected);
        g_clear_error(&error);
    }
}

/* ---- state file -------------------------------------------------------- */

static McedState *
make_state(void)
{
    McedState *st = mced_state_new();
    McedIncident *open1 = make_vm_incident("i-open1", "web1", "aaaa-1111", 1700000000000000, 3);
    McedIncident *open2 = make_host_incident("i-open2", 1700000002000000);
    g_autoptr(McedIncident) closed = make_vm_incident("i-closed", "db", NULL, 1600000000000000, 1);
    McedDomainCounters *dc;

    st->journal_cursor = g_strdup("s=abc;i=42;b=def;m=1f;t=5f;x=0");
    g_ptr_array_add(st->open_incidents, open1);
    g_ptr_array_add(st->open_incidents, open2);
    closed->state = MCED_INCIDENT_CLOSED;
    mced_state_count_incident(st, closed);
    dc = mced_state_count_incident(st, open1);
    dc->incidents[MCED_CLASS_CORRECTED] = G_GUINT64_CONSTANT(18446744073709551615);
    mced_state_count_incident(st, open2);
    mced_state_remember_id(st, "i-closed");
    mced_state_remember_id(st, "i-open1");
    mced_state_remember_id(st, "i-open2");
    return st;
}

static void
assert_state_equal(const McedState *a, const McedState *b)
{
    GHashTableIter iter;
    gpointer key, value;

    g_assert_cmpstr(a->journal_cursor, ==, b->journal_cursor);
    g_assert_cmpuint(a->open_incidents->len, ==, b->open_incidents->len);
    for (guint i = 0; i < a->open_incidents->len; i++)
        assert_incident_equal(a->open_incidents->pdata[i], b->open_incidents->pdata[i]);
    g_assert_cmpuint(g_hash_table_size(a->domains), ==, g_hash_table_size(b->domains));
    g_hash_table_iter_init(&iter, a->domains);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        McedDomainCounters *da = value;
        McedDomainCounters *db = g_hash_table_lookup(b->domains, key);

        g_assert_nonnull(db);
        g_assert_cmpstr(da->key, ==, db->key);
        g_assert_cmpstr(da->name, ==, db->name);
        g_assert_cmpstr(da->uuid, ==, db->uuid);
        g_assert_cmpmem(da->incidents, sizeof(da->incidents), db->incidents,
                        sizeof(db->incidents));
        g_assert_cmpint(da->last_incident_us, ==, db->last_incident_us);
        g_assert_cmpstr(da->last_incident_id, ==, db->last_incident_id);
    }
    g_assert_cmpuint(a->recent_ids->len, ==, b->recent_ids->len);
    for (guint i = 0; i < a->recent_ids->len; i++)
        g_assert_cmpstr(a->recent_ids->pdata[i], ==, b->recent_ids->pdata[i]);
}

static void
test_load_missing(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    g_autoptr(McedState) st = mced_store_load(s, &warning, &error);

    g_assert_no_error(error);
    g_assert_null(warning);
    g_assert_nonnull(st);
    g_assert_null(st->journal_cursor);
    g_assert_cmpuint(st->open_incidents->len, ==, 0);
    g_assert_cmpuint(g_hash_table_size(st->domains), ==, 0);
    g_assert_cmpuint(st->recent_ids->len, ==, 0);
}

static void
test_save_load_roundtrip(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(McedState) st = make_state();
    g_autoptr(McedState) back = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    g_autofree char *first = NULL;
    g_autofree char *second = NULL;
    g_autofree char *listing = NULL;
    g_autoptr(json_object) root = NULL;
    json_object *v;
    struct stat sb;

    g_assert_true(mced_store_save(s, st, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_stat(f->state_path, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    listing = list_dir(f->dir);
    g_assert_cmpstr(listing, ==, "state.json"); /* no temporary file left */

    first = read_text(f->state_path);
    root = json_tokener_parse(first);
    g_assert_nonnull(root);
    g_assert_true(json_object_object_get_ex(root, "version", &v));
    g_assert_cmpint(json_object_get_int(v), ==, MCED_STATE_VERSION);
    g_assert_true(json_object_object_get_ex(root, "producer", &v));
    g_assert_cmpstr(json_object_get_string(v), ==, "kvm-mced " PACKAGE_VERSION);
    g_assert_true(json_object_object_get_ex(root, "domains", &v));
    g_assert_true(json_object_object_get_ex(v, "host", NULL));
    g_assert_true(json_object_object_get_ex(v, "aaaa-1111", NULL));
    g_assert_true(json_object_object_get_ex(v, "db", NULL));

    back = mced_store_load(s, &warning, &error);
    g_assert_no_error(error);
    g_assert_null(warning);
    assert_state_equal(st, back);

    /* Saving what was loaded gives the same bytes. */
    g_assert_true(mced_store_save(s, back, &error));
    second = read_text(f->state_path);
    g_assert_cmpstr(first, ==, second);
}

/* ---- failed saves leave the old file alone ----------------------------- */

static void
assert_no_temp_files(const char *dir)
{
    g_autofree char *listing = list_dir(dir);

    g_assert_null(strstr(listing, ".tmp-"));
}

/* The state directory is a regular file: nothing can be created in it,
 * even by root. */
static void
test_save_dir_is_file(Fixture *f, gconstpointer data)
{
    g_autofree char *file = g_build_filename(f->dir, "not-a-dir", NULL);
    g_autoptr(McedStore) s = NULL;
    g_autoptr(McedState) st = make_state();
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = NULL;

    test_write_file(file, "x", -1);
    s = mced_store_new(file, 0);
    g_assert_false(mced_store_save(s, st, &error));
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
    expected = g_strdup_printf("cannot write state file %s/state.json: cannot create temporary "
                               "file %s/state.json.tmp-XXXXXX: %s",
                               file, file, g_strerror(ENOTDIR));
    g_assert_cmpstr(error->message, ==, expected);
    g_clear_error(&error);

    /* Loading from it is the one hard failure. */
    {
        g_autofree char *warning = NULL;
        g_autoptr(McedState) back = mced_store_load(s, &warning, &error);

        g_assert_null(back);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
        g_assert_nonnull(strstr(error->message, g_strerror(ENOTDIR)));
    }
}

/* The rename fails (state.json is a non-empty directory): the temporary
 * file, already written, is removed again. */
static void
test_save_rename_fails(Fixture *f, gconstpointer data)
{
    g_autofree char *inside = g_build_filename(f->state_path, "keep", NULL);
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(McedState) st = make_state();
    g_autoptr(GError) error = NULL;
    g_autofree char *listing = NULL;

    g_assert_cmpint(g_mkdir(f->state_path, 0700), ==, 0);
    test_write_file(inside, "x", -1);
    g_assert_false(mced_store_save(s, st, &error));
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
    g_assert_true(g_str_has_prefix(error->message, "cannot write state file "));
    g_assert_nonnull(strstr(error->message, "cannot rename "));
    g_assert_nonnull(strstr(error->message, f->state_path));
    listing = list_dir(f->dir);
    g_assert_cmpstr(listing, ==, "state.json");
    g_assert_true(g_file_test(inside, G_FILE_TEST_IS_REGULAR));
}

/* A write that runs out of room (here RLIMIT_FSIZE, which binds root too,
 * standing in for a full disk) leaves the previous state.json intact. */
static void
test_save_write_fails(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(McedState) small = mced_state_new();
    g_autoptr(McedState) big = make_state();
    g_autoptr(McedState) back = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    struct rlimit old_limit, limit;
    void (*old_handler)(int);
    gboolean ok;

    small->journal_cursor = g_strdup("s=old");
    g_assert_true(mced_store_save(s, small, &error));
    g_assert_no_error(error);
    before = read_text(f->state_path);

    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
    limit = old_limit;
    limit.rlim_cur = 256;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &limit), ==, 0);
    ok = mced_store_save(s, big, &error);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old_limit), ==, 0);
    signal(SIGXFSZ, old_handler);

    g_assert_false(ok);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
    g_assert_nonnull(strstr(error->message, g_strerror(EFBIG)));
    g_assert_nonnull(strstr(error->message, f->state_path));
    after = read_text(f->state_path);
    g_assert_cmpstr(before, ==, after);
    assert_no_temp_files(f->dir);
    g_clear_error(&error);

    back = mced_store_load(s, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(back->journal_cursor, ==, "s=old");
}

static gboolean
save_refused_eacces(McedStore *s, const McedState *st)
{
    g_autoptr(GError) error = NULL;

    if (mced_store_save(s, st, &error))
        return FALSE;
    return g_error_matches(error, MCED_ERROR, MCED_ERROR_IO)
           && strstr(error->message, g_strerror(EACCES)) != NULL;
}

/* A directory without write permission. Root ignores the mode, so as root
 * the save runs in a child that has dropped to nobody. */
static void
test_save_read_only_dir(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(McedState) st = make_state();
    g_autoptr(McedState) small = mced_state_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    g_assert_true(mced_store_save(s, small, &error));
    before = read_text(f->state_path);
    g_assert_cmpint(g_chmod(f->dir, 0555), ==, 0);
    if (geteuid() == 0) {
        int status = 0;
        pid_t pid = fork();

        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
            gboolean refused;

            /* _exit() runs no cleanups: free here what valgrind would
             * otherwise count as lost in the child. */
            g_clear_pointer(&before, g_free);
            if (setgid(65534) < 0 || setuid(65534) < 0)
                _exit(3);
            refused = save_refused_eacces(s, st);
            g_clear_pointer(&st, mced_state_free);
            g_clear_pointer(&s, mced_store_free);
            g_clear_pointer(&small, mced_state_free);
            _exit(refused ? 0 : 1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    } else {
        g_assert_true(save_refused_eacces(s, st));
    }
    g_assert_cmpint(g_chmod(f->dir, 0700), ==, 0);
    after = read_text(f->state_path);
    g_assert_cmpstr(before, ==, after);
    assert_no_temp_files(f->dir);
}

/* ---- unusable state files are moved aside ------------------------------ */

static void
assert_moved_aside(Fixture *f, const char *content, gsize len, const char *reason,
                   const char *what, const char *suffix)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    g_autoptr(McedState) st = NULL;
    g_autofree char *moved = g_strdup_printf("%s.bad-%" G_GINT64_FORMAT "%s", f->state_path,
                                             FIXED_NOW_S, suffix);
    g_autofree char *expected = NULL;
    g_autofree char *kept = NULL;
    gsize kept_len = 0;

    test_write_file(f->state_path, content, (gssize)len);
    st = mced_store_load(s, &warning, &error);
    g_assert_no_error(error);
    g_assert_nonnull(st);
    g_assert_null(st->journal_cursor);
    g_assert_cmpuint(st->open_incidents->len, ==, 0);
    g_assert_cmpuint(g_hash_table_size(st->domains), ==, 0);
    g_assert_cmpuint(st->recent_ids->len, ==, 0);

    expected = g_strdup_printf("state file %s %s (%s); moved aside to %s, starting from "
                               "empty state",
                               f->state_path, what, reason, moved);
    g_assert_cmpstr(warning, ==, expected);
    g_assert_false(g_file_test(f->state_path, G_FILE_TEST_EXISTS));
    g_file_get_contents(moved, &kept, &kept_len, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(kept, kept_len, content, len);
}

static void
test_corrupt_fixtures(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *file;
        const char *reason;
    } cases[] = {
        { "garbage.json", "not valid JSON: boolean expected" },
        { "truncated.json", "truncated JSON" },
        { "empty.json", "truncated JSON" },
        { "trailing.json", "data after the JSON value at byte 138" },
        { "array.json", "top level: expected an object, got an array" },
        { "no-version.json", "version: missing" },
        { "version-zero.json", "version: 0 is out of range (1 .. 2147483647)" },
        { "wrong-type-cursor.json", "journal_cursor: expected a string or null, got an integer" },
        { "wrong-type-counter.json",
          "domains[\"web1\"].incidents.guest: expected an integer, got a string" },
        { "negative-counter.json", "domains[\"web1\"].incidents.fatal: -1 is negative" },
        { "bad-incident.json", "open_incidents[1].first_us: expected an integer, got a string" },
        { "bad-recent-id.json", "recent_ids[1]: expected an incident id" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "state",
                                                      cases[i].file, NULL);
        g_autofree char *content = NULL;
        g_autofree char *moved = g_strdup_printf("%s.bad-%" G_GINT64_FORMAT, f->state_path,
                                                 FIXED_NOW_S);
        gsize len = 0;
        g_autoptr(GError) error = NULL;

        g_test_message("fixture %s", cases[i].file);
        g_file_get_contents(path, &content, &len, &error);
        g_assert_no_error(error);
        assert_moved_aside(f, content, len, cases[i].reason, "is corrupt", "");
        g_assert_cmpint(g_unlink(moved), ==, 0);
    }
}

static void
test_newer_version(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "state", "v2.json", NULL);
    g_autofree char *content = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;

    g_file_get_contents(path, &content, &len, &error);
    g_assert_no_error(error);
    assert_moved_aside(f, content, len, "version 2 is newer than 1, the newest this one reads",
                       "is from a newer kvm-mced", "");
}

/* The name is taken: -1, then -2. */
static void
test_moved_aside_suffix(Fixture *f, gconstpointer data)
{
    g_autofree char *taken = g_strdup_printf("%s.bad-%" G_GINT64_FORMAT, f->state_path,
                                             FIXED_NOW_S);
    g_autofree char *listing = NULL;

    test_write_file(taken, "older", -1);
    assert_moved_aside(f, "{", 1, "truncated JSON", "is corrupt", "-1");
    assert_moved_aside(f, "[1]", 3, "top level: expected an object, got an array",
                       "is corrupt", "-2");
    listing = list_dir(f->dir);
    g_assert_cmpstr(listing, ==,
                    "state.json.bad-1700000000 state.json.bad-1700000000-1 "
                    "state.json.bad-1700000000-2");
}

/* Larger than MCED_STATE_MAX_BYTES: refused before it is read. */
static void
test_huge(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    g_autoptr(McedState) st = NULL;
    g_autofree char *moved = g_strdup_printf("%s.bad-%" G_GINT64_FORMAT, f->state_path,
                                             FIXED_NOW_S);
    g_autofree char *expected = NULL;
    struct stat sb;
    int fd;

    /* Sparse: "{" and then zeros, one byte over the cap. */
    fd = open(f->state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "{", 1), ==, 1);
    g_assert_cmpint(ftruncate(fd, MCED_STATE_MAX_BYTES + 1), ==, 0);
    close(fd);

    st = mced_store_load(s, &warning, &error);
    g_assert_no_error(error);
    g_assert_nonnull(st);
    expected = g_strdup_printf("state file %s is corrupt (larger than %d bytes); moved "
                               "aside to %s, starting from empty state",
                               f->state_path, MCED_STATE_MAX_BYTES, moved);
    g_assert_cmpstr(warning, ==, expected);
    g_assert_cmpint(g_stat(moved, &sb), ==, 0);
    g_assert_cmpint(sb.st_size, ==, MCED_STATE_MAX_BYTES + 1);
}

/* A state file written by version 1, as committed: it loads as written.
 * When version 2 comes, this fixture stays and checks the migration. */
static void
test_load_v1_fixture(Fixture *f, gconstpointer data)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "state", "v1.json", NULL);
    g_autofree char *content = NULL;
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    g_autoptr(McedState) st = NULL;
    McedIncident *inc;
    McedDomainCounters *dc;

    content = read_text(path);
    test_write_file(f->state_path, content, -1);
    st = mced_store_load(s, &warning, &error);
    g_assert_no_error(error);
    g_assert_null(warning);

    g_assert_cmpstr(st->journal_cursor, ==, "s=0f3c;i=1a2b;b=77aa;m=3e8;t=5f1;x=9c");
    g_assert_cmpuint(st->open_incidents->len, ==, 1);
    inc = st->open_incidents->pdata[0];
    g_assert_cmpstr(inc->id, ==, "i-5d41402abc4b2a76");
    g_assert_cmpstr(inc->vm->name, ==, "web1");
    g_assert_cmpstr(inc->vm->uuid, ==, "0b5e7f3a-0000-4000-8000-000000000001");
    g_assert_cmpint(inc->vm->pid, ==, 4242);
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_GUEST);
    g_assert_cmpint(inc->severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(inc->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_cmpuint(inc->addresses->len, ==, 1);
    g_assert_cmpuint(g_array_index(inc->addresses, guint64, 0), ==, 0x201f3a3c1000);
    g_assert_cmpuint(inc->kinds, ==, 1u << MCED_OBS_PPC64_MCE);
    g_assert_cmpuint(inc->n_observations, ==, 2);

    g_assert_cmpuint(g_hash_table_size(st->domains), ==, 2);
    dc = g_hash_table_lookup(st->domains, "0b5e7f3a-0000-4000-8000-000000000001");
    g_assert_nonnull(dc);
    g_assert_cmpuint(dc->incidents[MCED_CLASS_CORRECTED], ==, 5);
    g_assert_cmpuint(dc->incidents[MCED_CLASS_GUEST], ==, 2);
    g_assert_cmpstr(dc->last_incident_id, ==, "i-0123456789abcdef");
    dc = g_hash_table_lookup(st->domains, "host");
    g_assert_nonnull(dc);
    g_assert_null(dc->name);
    g_assert_cmpuint(dc->incidents[MCED_CLASS_HOST], ==, 1);
    g_assert_cmpuint(st->recent_ids->len, ==, 3);
}

/* ---- history ----------------------------------------------------------- */

static char *
line_id(const char *line)
{
    g_autoptr(json_object) obj = json_tokener_parse(line);
    json_object *id = NULL;

    g_assert_nonnull(obj);
    g_assert_true(json_object_object_get_ex(obj, "id", &id));
    return g_strdup(json_object_get_string(id));
}

static char *
history_ids(McedStore *s, guint *ret_skipped)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = mced_store_read_history_full(s, ret_skipped, &error);
    g_autoptr(GString) out = g_string_new(NULL);

    g_assert_no_error(error);
    for (guint i = 0; i < lines->len; i++) {
        g_autofree char *id = line_id(lines->pdata[i]);
        g_string_append_printf(out, "%s%s", i > 0 ? " " : "", id);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
append(McedStore *s, const char *id)
{
    g_autoptr(McedIncident) inc = make_vm_incident(id, "web1", NULL, 1000, 2);
    g_autoptr(GError) error = NULL;

    inc->state = MCED_INCIDENT_CLOSED;
    g_assert_true(mced_store_append_history(s, inc, &error));
    g_assert_no_error(error);
}

static void
test_history_append_read(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autofree char *history = g_build_filename(f->dir, "history.jsonl", NULL);
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) obj = NULL;
    g_autofree char *ids = NULL;
    json_object *obs = NULL;
    guint skipped = 99;
    struct stat sb;

    /* Nothing yet: empty, not an error. */
    lines = mced_store_read_history(s, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(lines->len, ==, 0);
    g_clear_pointer(&lines, g_ptr_array_unref);

    append(s, "i-1");
    append(s, "i-2");
    append(s, "i-3");
    g_assert_cmpint(g_stat(history, &sb), ==, 0);
    g_assert_cmpint(sb.st_mode & 0777, ==, 0600);
    ids = history_ids(s, &skipped);
    g_assert_cmpstr(ids, ==, "i-1 i-2 i-3");
    g_assert_cmpuint(skipped, ==, 0);

    /* Closed incidents keep their observations in the history. */
    lines = mced_store_read_history(s, &error);
    obj = json_tokener_parse(lines->pdata[0]);
    g_assert_true(json_object_object_get_ex(obj, "observations", &obs));
    g_assert_cmpuint(json_object_array_length(obs), ==, 2);
    g_assert_true(json_object_object_get_ex(obj, "state", NULL));
}

static const char *
obj_str(json_object *o, const char *key)
{
    json_object *v = NULL;

    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* What the D-Bus API lists: the history, then what is not written yet; a
 * later copy of an id takes the earlier one's place; no observations. */
static void
test_list_incidents(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autofree char *history = g_build_filename(f->dir, "history.jsonl", NULL);
    g_autoptr(McedIncident) open = make_vm_incident("i-3", "db1", NULL, 5000, 3);
    g_autoptr(McedIncident) again = make_vm_incident("i-1", "web1", NULL, 1000, 4);
    g_autoptr(GPtrArray) newer = g_ptr_array_new();
    g_autoptr(json_object) none = NULL;
    g_autoptr(json_object) all = NULL;
    g_autoptr(json_object) one = NULL;
    g_autoptr(json_object) old = NULL;
    json_object *obs = NULL;
    FILE *fp;

    none = mced_store_list_incidents(s, NULL);
    g_assert_cmpuint(json_object_array_length(none), ==, 0);

    append(s, "i-1");
    append(s, "i-2");
    fp = fopen(history, "a"); /* a torn line, as after a crash */
    g_assert_nonnull(fp);
    fputs("{\"id\": \"i-torn\", \"cla", fp);
    fclose(fp);
    g_ptr_array_add(newer, again);
    g_ptr_array_add(newer, open);
    all = mced_store_list_incidents(s, newer);
    g_assert_cmpuint(json_object_array_length(all), ==, 3);
    g_assert_cmpstr(obj_str(json_object_array_get_idx(all, 0), "id"), ==, "i-1");
    g_assert_cmpstr(obj_str(json_object_array_get_idx(all, 1), "id"), ==, "i-2");
    g_assert_cmpstr(obj_str(json_object_array_get_idx(all, 2), "id"), ==, "i-3");
    g_assert_cmpstr(obj_str(json_object_array_get_idx(all, 2), "domain"), ==, "db1");
    /* i-1's newer copy (4 observations) replaced the history's (2) */
    g_assert_cmpstr(obj_str(json_object_array_get_idx(all, 0), "n_observations"), ==, "4");
    for (gsize i = 0; i < 3; i++)
        g_assert_false(json_object_object_get_ex(json_object_array_get_idx(all, i),
                                                 "observations", NULL));

    one = mced_store_get_incident(s, newer, "i-3");
    g_assert_nonnull(one);
    g_assert_true(json_object_object_get_ex(one, "observations", &obs));
    g_assert_cmpuint(json_object_array_length(obs), ==, 3);
    old = mced_store_get_incident(s, newer, "i-2");
    g_assert_nonnull(old);
    g_assert_true(json_object_object_get_ex(old, "observations", &obs));
    g_assert_cmpuint(json_object_array_length(obs), ==, 2);
    g_assert_null(mced_store_get_incident(s, newer, "i-torn"));
    g_assert_null(mced_store_get_incident(s, newer, "i-0000000000000000"));
}

static gsize
one_line_len(Fixture *f)
{
    g_autofree char *history = g_build_filename(f->dir, "history.jsonl", NULL);
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autofree char *text = NULL;
    gsize len;

    append(s, "i-0");
    text = read_text(history);
    len = strlen(text);
    g_unlink(history);
    return len;
}

static void
test_history_rotate(Fixture *f, gconstpointer data)
{
    gsize line = one_line_len(f);
    /* Room for three lines (ids are the same length) but not four. */
    g_autoptr(McedStore) s = store_new(f, 3 * line + line / 2);
    g_autofree char *ids = NULL;
    g_autofree char *listing = NULL;
    guint skipped = 0;

    for (guint i = 1; i <= 3; i++) {
        g_autofree char *id = g_strdup_printf("i-%u", i);
        append(s, id);
    }
    listing = list_dir(f->dir);
    g_assert_cmpstr(listing, ==, "history.jsonl");

    append(s, "i-4"); /* rotates: 1..3 become the old generation */
    g_clear_pointer(&listing, g_free);
    listing = list_dir(f->dir);
    g_assert_cmpstr(listing, ==, "history.jsonl history.jsonl.1");
    ids = history_ids(s, &skipped);
    g_assert_cmpstr(ids, ==, "i-1 i-2 i-3 i-4");

    for (guint i = 5; i <= 7; i++) {
        g_autofree char *id = g_strdup_printf("i-%u", i);
        append(s, id);
    }
    /* Only one old generation: 1..3 are gone. */
    g_clear_pointer(&ids, g_free);
    ids = history_ids(s, &skipped);
    g_assert_cmpstr(ids, ==, "i-4 i-5 i-6 i-7");
    g_assert_cmpuint(skipped, ==, 0);
}

/* A crash mid-write leaves a torn last line: the reader skips it and
 * counts it, and the next append starts on a line of its own. */
static void
test_history_torn_line(Fixture *f, gconstpointer data)
{
    gsize line = one_line_len(f);
    g_autoptr(McedStore) s = store_new(f, 3 * line + line / 2);
    g_autofree char *history = g_build_filename(f->dir, "history.jsonl", NULL);
    g_autofree char *old = g_build_filename(f->dir, "history.jsonl.1", NULL);
    g_autofree char *ids = NULL;
    g_autofree char *text = NULL;
    guint skipped = 0;
    FILE *fp;

    append(s, "i-1");
    append(s, "i-2");
    append(s, "i-3");
    append(s, "i-4"); /* i-1..3 in the old generation */

    /* Tear the old generation's last line, then the current one's. */
    text = read_text(old);
    test_write_file(old, text, (gssize)strlen(text) - 20);
    fp = fopen(history, "a");
    g_assert_nonnull(fp);
    fputs("{\"id\":\"i-torn\",\"domain\":\"we", fp);
    fclose(fp);

    ids = history_ids(s, &skipped);
    g_assert_cmpstr(ids, ==, "i-1 i-2 i-4");
    g_assert_cmpuint(skipped, ==, 2);

    append(s, "i-5");
    g_clear_pointer(&ids, g_free);
    ids = history_ids(s, &skipped);
    g_assert_cmpstr(ids, ==, "i-1 i-2 i-4 i-5");
    g_assert_cmpuint(skipped, ==, 2);
}

/* A line that alone would not fit under the cap goes without its
 * observations, and says so. */
static void
test_history_oversized_line(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 1024);
    g_autoptr(McedIncident) inc = make_vm_incident("i-big", "web1", NULL, 1000, 8);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = NULL;
    g_autoptr(json_object) obj = NULL;
    json_object *v = NULL;

    g_assert_true(mced_store_append_history(s, inc, &error));
    g_assert_no_error(error);
    lines = mced_store_read_history(s, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(lines->len, ==, 1);
    g_assert_cmpuint(strlen(lines->pdata[0]), <, 1024);
    obj = json_tokener_parse(lines->pdata[0]);
    g_assert_false(json_object_object_get_ex(obj, "observations", NULL));
    g_assert_true(json_object_object_get_ex(obj, "observations_dropped", &v));
    g_assert_true(json_object_get_boolean(v));
    g_assert_true(json_object_object_get_ex(obj, "n_observations", &v));
    g_assert_cmpint(json_object_get_int(v), ==, 8);
}

static void
test_history_unwritable(Fixture *f, gconstpointer data)
{
    g_autofree char *file = g_build_filename(f->dir, "not-a-dir", NULL);
    g_autoptr(McedStore) s = NULL;
    g_autoptr(McedIncident) inc = make_host_incident("i-h", 5);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) lines = NULL;

    test_write_file(file, "x", -1);
    s = mced_store_new(file, 0);
    g_assert_false(mced_store_append_history(s, inc, &error));
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "history.jsonl"));
    g_assert_nonnull(strstr(error->message, g_strerror(ENOTDIR)));
    g_clear_error(&error);
    lines = mced_store_read_history(s, &error);
    g_assert_null(lines);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_IO);
}

/* The policy's threshold counters survive a restart; a state file from
 * before they existed (the v1 fixture) loads with none. */
static void
test_times_roundtrip(Fixture *f, gconstpointer data)
{
    g_autoptr(McedStore) s = store_new(f, 0);
    g_autoptr(McedState) st = mced_state_new();
    g_autoptr(McedState) back = NULL;
    g_autoptr(McedVmRef) vm = mced_vm_ref_new("web1", "11111111-2222-4333-8444-555555555501", -1);
    g_autoptr(GError) error = NULL;
    g_autofree char *warning = NULL;
    McedDomainCounters *dc;

    for (gint64 i = 0; i < MCED_STATE_MAX_TIMES + 5; i++)
        mced_state_note_incident_time(st, vm, MCED_CLASS_GUEST, 1000 + i);
    dc = mced_state_note_incident_time(st, vm, MCED_CLASS_FATAL, 5000);
    dc->last_action_us = 7000;
    g_assert_cmpuint(dc->times[MCED_CLASS_GUEST]->len, ==, MCED_STATE_MAX_TIMES);
    g_assert_cmpint(g_array_index(dc->times[MCED_CLASS_GUEST], gint64, 0), ==, 1005);

    g_assert_true(mced_store_save(s, st, &error));
    g_assert_no_error(error);
    back = mced_store_load(s, &warning, &error);
    g_assert_no_error(error);
    g_assert_null(warning);
    dc = g_hash_table_lookup(back->domains, "11111111-2222-4333-8444-555555555501");
    g_assert_nonnull(dc);
    g_assert_cmpuint(dc->times[MCED_CLASS_GUEST]->len, ==, MCED_STATE_MAX_TIMES);
    g_assert_cmpint(g_array_index(dc->times[MCED_CLASS_GUEST], gint64, 0), ==, 1005);
    g_assert_cmpuint(dc->times[MCED_CLASS_FATAL]->len, ==, 1);
    g_assert_cmpint(g_array_index(dc->times[MCED_CLASS_FATAL], gint64, 0), ==, 5000);
    g_assert_cmpuint(dc->times[MCED_CLASS_CORRECTED]->len, ==, 0);
    g_assert_cmpint(dc->last_action_us, ==, 7000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
    g_test_add_func("/state/count-incident", test_count_incident);
    g_test_add_func("/state/remember-id", test_remember_id);
    g_test_add_func("/state/incident-json/roundtrip", test_incident_json_roundtrip);
    g_test_add_func("/state/incident-json/format", test_incident_json_format);
    g_test_add_func("/state/incident-json/invalid", test_incident_json_invalid);
    ADD("/state/load/missing", test_load_missing);
    ADD("/state/history/list-incidents", test_list_incidents);
    ADD("/state/load/v1-fixture", test_load_v1_fixture);
    ADD("/state/save/roundtrip", test_save_load_roundtrip);
    ADD("/state/save/times", test_times_roundtrip);
    ADD("/state/save/dir-is-file", test_save_dir_is_file);
    ADD("/state/save/rename-fails", test_save_rename_fails);
    ADD("/state/save/write-fails", test_save_write_fails);
    ADD("/state/save/read-only-dir", test_save_read_only_dir);
    ADD("/state/corrupt/fixtures", test_corrupt_fixtures);
    ADD("/state/corrupt/newer-version", test_newer_version);
    ADD("/state/corrupt/suffix", test_moved_aside_suffix);
    ADD("/state/corrupt/huge", test_huge);
    ADD("/state/history/append-read", test_history_append_read);
    ADD("/state/history/rotate", test_history_rotate);
    ADD("/state/history/torn-line", test_history_torn_line);
    ADD("/state/history/oversized-line", test_history_oversized_line);
    ADD("/state/history/unwritable", test_history_unwritable);
#undef ADD

    return g_test_run();
}
