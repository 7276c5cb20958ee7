/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-error.h"
#include "mced-incident.h"
#include "mced-qmp.h"

#define DOMAIN "web1"

/* decode_line() over a C string that must decode. */
static McedObservation *
decode_ok(const char *line)
{
    g_autoptr(GError) error = NULL;
    McedObservation *obs = mced_qmp_decode_line(line, strlen(line), DOMAIN, "test:1", &error);

    g_assert_no_error(error);
    g_assert_nonnull(obs);
    g_assert_true(obs->frozen);
    g_assert_cmpint(obs->kind, ==, MCED_OBS_QMP);
    g_assert_cmpstr(obs->str[MCED_STR_DOMAIN], ==, DOMAIN);
    return obs;
}

/* decode_line() over @len bytes that must fail with @code and a message
 * containing @what. */
static void
decode_fails_len(const char *line, gsize len, int code, const char *what)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedObservation) obs = mced_qmp_decode_line(line, len, DOMAIN, NULL, &error);

    g_assert_null(obs);
    g_assert_error(error, MCED_ERROR, code);
    if (strstr(error->message, what) == NULL)
        g_error("'%s' does not contain '%s'", error->message, what);
}

static void
decode_fails(const char *line, int code, const char *what)
{
    decode_fails_len(line, strlen(line), code, what);
}

static void
test_event_strings(void)
{
    for (int i = 0; i < _MCED_QMP_EVENT_MAX; i++) {
        const char *s = mced_qmp_event_to_string((McedQmpEvent)i);

        g_assert_nonnull(s);
        g_assert_cmpint(mced_qmp_event_from_string(s), ==, i);
    }
    g_assert_cmpstr(mced_qmp_event_to_string(MCED_QMP_EVENT_MEMORY_FAILURE), ==,
                    "MEMORY_FAILURE");
    g_assert_null(mced_qmp_event_to_string(_MCED_QMP_EVENT_MAX));
    g_assert_null(mced_qmp_event_to_string(_MCED_QMP_EVENT_INVALID));
    g_assert_cmpint(mced_qmp_event_from_string(NULL), ==, _MCED_QMP_EVENT_INVALID);
    g_assert_cmpint(mced_qmp_event_from_string("memory_failure"), ==, _MCED_QMP_EVENT_INVALID);
    g_assert_cmpint(mced_qmp_event_from_string("RESE"), ==, _MCED_QMP_EVENT_INVALID);
    g_assert_cmpint(mced_qmp_event_from_string("STOP"), ==, _MCED_QMP_EVENT_INVALID);
}

/* Every recipient x action x flags combination, through both entry
 * points, with the class mced_observation_class() gives it. */
static void
test_memory_failure_matrix(void)
{
    static const struct {
        const char *recipient;
        const char *action;
        McedSeverity severity;
        McedDisposition disposition;
        McedIncidentClass klass;
    } table[] = {
        { "guest", "ignore", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
          MCED_CLASS_CORRECTED },
        { "guest", "inject", MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_GUEST },
        { "guest", "fatal", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_FATAL },
        { "guest", "reset", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_FATAL },
        { "hypervisor", "ignore", MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
          MCED_CLASS_CORRECTED },
        /* Not sent by QEMU; passed on as libvirt does. */
        { "hypervisor", "inject", MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_GUEST },
        { "hypervisor", "fatal", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_FATAL },
        { "hypervisor", "reset", MCED_SEVERITY_FATAL, MCED_DISPOSITION_NOT_RECOVERED,
          MCED_CLASS_FATAL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        for (guint flags = 0; flags < 4; flags++) {
            gboolean ar = (flags & 1) != 0;
            gboolean rec = (flags & 2) != 0;
            g_autofree char *details = g_strdup_printf(
                "{\"recipient\": \"%s\", \"action\": \"%s\", \"flags\": "
                "{\"action-required\": %s, \"recursive\": %s}}",
                table[i].recipient, table[i].action, ar ? "true" : "false",
                rec ? "true" : "false");
            g_autofree char *line = g_strdup_printf(
                "{\"event\": \"MEMORY_FAILURE\", \"data\": %s, \"timestamp\": "
                "{\"seconds\": 1700000000, \"microseconds\": 123456}}",
                details);
            g_autoptr(GError) error = NULL;
            g_autoptr(McedObservation) a = decode_ok(line);
            g_autoptr(McedObservation) b = mced_qmp_decode(
                "MEMORY_FAILURE", 1700000000, 123456, details, strlen(details), DOMAIN, NULL,
                &error);
            McedObservation *both[] = { a, b };

            g_assert_no_error(error);
            for (guint j = 0; j < G_N_ELEMENTS(both); j++) {
                McedObservation *obs = both[j];

                g_assert_cmpstr(obs->str[MCED_STR_EVENT], ==, "MEMORY_FAILURE");
                g_assert_cmpstr(obs->str[MCED_STR_RECIPIENT], ==, table[i].recipient);
                g_assert_cmpstr(obs->str[MCED_STR_ACTION], ==, table[i].action);
                g_assert_true(mced_observation_has_bool(obs, MCED_BOOL_ACTION_REQUIRED));
                g_assert_cmpint(mced_observation_get_bool(obs, MCED_BOOL_ACTION_REQUIRED), ==,
                                ar);
                g_assert_true(mced_observation_has_bool(obs, MCED_BOOL_RECURSIVE));
                g_assert_cmpint(mced_observation_get_bool(obs, MCED_BOOL_RECURSIVE), ==, rec);
                g_assert_true(mced_observation_has_bool(obs, MCED_BOOL_IN_GUEST));
                g_assert_cmpint(mced_observation_get_bool(obs, MCED_BOOL_IN_GUEST), ==,
                                g_str_equal(table[i].recipient, "guest"));
                g_assert_cmpint(obs->severity, ==, table[i].severity);
                g_assert_cmpint(obs->disposition, ==, table[i].disposition);
                g_assert_cmpint(mced_observation_class(obs, TRUE), ==, table[i].klass);
                g_assert_cmpint(mced_observation_class(obs, FALSE), ==, MCED_CLASS_HOST);
                g_assert_false(mced_qmp_is_panic(obs));
                g_assert_cmpint(obs->realtime_us, ==, G_GINT64_CONSTANT(1700000000123456));
                g_assert_cmpstr(obs->cursor, ==, "qmp:web1:MEMORY_FAILURE:1700000000.123456");
                g_assert_cmpuint(obs->lines->len, ==, 1);
            }
            /* decode_line keeps the line as it came. */
            g_assert_cmpstr(g_ptr_array_index(a->lines, 0), ==, line);
        }
    }
}

static void
test_memory_failure_shapes(void)
{
    g_autoptr(McedObservation) reordered = NULL;
    g_autoptr(McedObservation) crlf = NULL;
    g_autoptr(McedObservation) no_time = NULL;
    g_autoptr(McedObservation) clock_failed = NULL;
    g_autoptr(GError) error = NULL;
    static const char clock_failed_line[] =
        "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}";

    /* Member order is not guaranteed, at any level. */
    reordered = decode_ok("{\"timestamp\": {\"microseconds\": 5, \"seconds\": 7}, "
                          "\"data\": {\"flags\": {\"recursive\": true, \"action-required\": "
                          "false}, \"action\": \"inject\", \"recipient\": \"guest\"}, "
                          "\"event\": \"MEMORY_FAILURE\"}");
    g_assert_cmpstr(reordered->str[MCED_STR_ACTION], ==, "inject");
    g_assert_true(mced_observation_get_bool(reordered, MCED_BOOL_RECURSIVE));
    g_assert_false(mced_observation_get_bool(reordered, MCED_BOOL_ACTION_REQUIRED));
    g_assert_cmpint(reordered->realtime_us, ==, 7000005);
    g_assert_cmpstr(reordered->cursor, ==, "qmp:web1:MEMORY_FAILURE:7.000005");

    /* QEMU ends every message with CRLF; blanks after the object are fine. */
    crlf = decode_ok("{\"event\":\"MEMORY_FAILURE\",\"data\":{\"recipient\":\"hypervisor\","
                     "\"action\":\"fatal\",\"flags\":{\"action-required\":true,"
                     "\"recursive\":false}},\"timestamp\":{\"seconds\":1,\"microseconds\":0}}"
                     " \t\r\n");
    g_assert_cmpint(crlf->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpstr(crlf->cursor, ==, "qmp:web1:MEMORY_FAILURE:1.000000");

    /* No timestamp: the caller's cursor, or none. */
    no_time = decode_ok("{\"event\": \"MEMORY_FAILURE\", \"data\": {\"recipient\": \"guest\", "
                        "\"action\": \"ignore\", \"flags\": {\"action-required\": false, "
                        "\"recursive\": false}}}");
    g_assert_cmpstr(no_time->cursor, ==, "test:1");
    g_assert_cmpint(no_time->realtime_us, ==, 0);
    clock_failed = mced_qmp_decode_line(clock_failed_line, strlen(clock_failed_line), DOMAIN,
                                        NULL, &error);
    g_assert_no_error(error);
    g_assert_nonnull(clock_failed);
    g_assert_null(clock_failed->cursor);
    g_assert_cmpint(clock_failed->realtime_us, ==, 0);
}

static void
test_memory_failure_errors(void)
{
    static const struct {
        const char *data;
        const char *what;
    } table[] = {
        { "{\"recipient\": \"host\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "true, \"recursive\": false}}",
          "MEMORY_FAILURE: data.recipient: unknown value 'host'" },
        { "{\"recipient\": \"guest\", \"action\": \"explode\", \"flags\": {\"action-required\": "
          "true, \"recursive\": false}}",
          "MEMORY_FAILURE: data.action: unknown value 'explode'" },
        { "{\"recipient\": \"Guest\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "true, \"recursive\": false}}",
          "data.recipient: unknown value 'Guest'" },
        /* A NUL inside the string matches no name, and is shown escaped. */
        { "{\"recipient\": \"guest\\u0000x\", \"action\": \"inject\", \"flags\": "
          "{\"action-required\": true, \"recursive\": false}}",
          "data.recipient: unknown value 'guest\\x00x'" },
        { "{\"recipient\": \"gues\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "true, \"recursive\": false}}",
          "data.recipient: unknown value 'gues'" },
        { "{\"action\": \"inject\", \"flags\": {\"action-required\": true, \"recursive\": "
          "false}}",
          "data.recipient: missing" },
        { "{\"recipient\": 1, \"action\": \"inject\", \"flags\": {\"action-required\": true, "
          "\"recursive\": false}}",
          "data.recipient: not a string" },
        { "{\"recipient\": \"guest\", \"action\": null, \"flags\": {\"action-required\": true, "
          "\"recursive\": false}}",
          "data.action: not a string" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\"}", "data.flags: missing" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\", \"flags\": []}",
          "data.flags: not an object" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\", \"flags\": {\"recursive\": "
          "false}}",
          "data.flags.action-required: missing" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "1, \"recursive\": false}}",
          "data.flags.action-required: not a boolean" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "true, \"recursive\": \"no\"}}",
          "data.flags.recursive: not a boolean" },
        { "{\"recipient\": \"guest\", \"action\": \"inject\", \"flags\": {\"action-required\": "
          "true}}",
          "data.flags.recursive: missing" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        g_autofree char *line =
            g_strdup_printf("{\"event\": \"MEMORY_FAILURE\", \"data\": %s}", table[i].data);
        g_autoptr(GError) error = NULL;
        g_autoptr(McedObservation) obs = NULL;

        decode_fails(line, MCED_ERROR_INVALID_DATA, table[i].what);
        obs = mced_qmp_decode("MEMORY_FAILURE", 1, 0, table[i].data, strlen(table[i].data),
                              DOMAIN, NULL, &error);
        g_assert_null(obs);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_nonnull(strstr(error->message, table[i].what));
    }
    decode_fails("{\"event\": \"MEMORY_FAILURE\"}", MCED_ERROR_INVALID_DATA,
                 "MEMORY_FAILURE: data: missing");
    decode_fails("{\"event\": \"MEMORY_FAILURE\", \"data\": null}", MCED_ERROR_INVALID_DATA,
                 "data: not an object");
    decode_fails("{\"event\": \"MEMORY_FAILURE\", \"data\": \"guest\"}", MCED_ERROR_INVALID_DATA,
                 "data: not an object");
}

static void
test_guest_panicked(void)
{
    g_autoptr(McedObservation) plain = decode_ok(
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}, \"timestamp\": "
        "{\"seconds\": 1648245231, \"microseconds\": 900001}}");
    g_autoptr(McedObservation) tdx = decode_ok(
        "{\"timestamp\": {\"seconds\": 1752156518, \"microseconds\": 809325}, \"event\": "
        "\"GUEST_PANICKED\", \"data\": {\"action\": \"pause\", \"info\": { \"error-code\": 0, "
        "\"message\": \"TD misconfiguration: SEPT #VE has to be disabled\", \"type\": "
        "\"tdx\"}}}");
    g_autoptr(McedObservation) hyperv = decode_ok(
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"poweroff\", \"info\": "
        "{\"type\": \"hyper-v\", \"arg1\": 30, \"arg2\": 18446744073709551615, \"arg3\": 0, "
        "\"arg4\": 1, \"arg5\": 2}}}");
    g_autoptr(McedObservation) s390 = decode_ok(
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\", \"info\": "
        "{\"type\": \"s390\", \"core\": 3, \"psw-mask\": 1, \"psw-addr\": 2, "
        "\"reason\": \"disabled-wait\"}}}");
    g_autoptr(McedObservation) future = decode_ok(
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"exit-failure\", \"info\": "
        "{\"type\": \"riscv-sbi\", \"code\": [1, 2]}}}");
    g_autoptr(McedObservation) tdx_bare = decode_ok(
        "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"run\", \"info\": "
        "{\"type\": \"tdx\", \"error-code\": 0}}}");

    g_assert_cmpstr(plain->str[MCED_STR_EVENT], ==, "GUEST_PANICKED");
    g_assert_cmpstr(plain->str[MCED_STR_ACTION], ==, "pause");
    g_assert_null(plain->str[MCED_STR_MESSAGE]);
    g_assert_null(plain->str[MCED_STR_RECIPIENT]);
    g_assert_cmpint(plain->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpint(plain->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_true(mced_observation_get_bool(plain, MCED_BOOL_IN_GUEST));
    g_assert_false(mced_observation_has_bool(plain, MCED_BOOL_ACTION_REQUIRED));
    g_assert_true(mced_qmp_is_panic(plain));
    g_assert_cmpint(mced_observation_class(plain, TRUE), ==, MCED_CLASS_FATAL);
    g_assert_cmpstr(plain->cursor, ==, "qmp:web1:GUEST_PANICKED:1648245231.900001");

    g_assert_cmpstr(tdx->str[MCED_STR_MESSAGE], ==,
                    "tdx: TD misconfiguration: SEPT #VE has to be disabled");
    g_assert_cmpstr(hyperv->str[MCED_STR_ACTION], ==, "poweroff");
    g_assert_cmpstr(hyperv->str[MCED_STR_MESSAGE], ==,
                    "hyper-v: 0x1e 0xffffffffffffffff 0x0 0x1 0x2");
    g_assert_cmpstr(s390->str[MCED_STR_MESSAGE], ==, "s390: disabled-wait, core 3");
    /* An action or info type QEMU adds later still records the panic. */
    g_assert_cmpstr(future->str[MCED_STR_ACTION], ==, "exit-failure");
    g_assert_cmpstr(future->str[MCED_STR_MESSAGE], ==, "riscv-sbi");
    g_assert_true(mced_qmp_is_panic(future));
    g_assert_cmpstr(tdx_bare->str[MCED_STR_MESSAGE], ==, "tdx");
}

static void
test_guest_panicked_errors(void)
{
    static const struct {
        const char *data;
        const char *what;
    } table[] = {
        { "{}", "GUEST_PANICKED: data.action: missing" },
        { "{\"action\": 1}", "data.action: not a string" },
        { "{\"action\": \"\"}", "data.action: not a valid name: ''" },
        { "{\"action\": \"Pause\"}", "data.action: not a valid name: 'Pause'" },
        { "{\"action\": \"pause now\"}", "data.action: not a valid name" },
        { "{\"action\": \"pa\\u0000use\"}", "data.action: not a valid name: 'pa\\x00use'" },
        { "{\"action\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "data.action: not a valid name" },
        { "{\"action\": \"pause\", \"info\": 1}", "data.info: not an object" },
        { "{\"action\": \"pause\", \"info\": {}}", "data.info.type: missing" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"TDX\"}}",
          "data.info.type: not a valid name" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"tdx\", \"message\": 5}}",
          "data.info.message: not a string" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", \"arg1\": -1}}",
          "data.info.arg1: out of range" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"hyper-v\", \"arg3\": 1.5}}",
          "data.info.arg3: not an integer" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"s390\", \"core\": 4294967296}}",
          "data.info.core: out of range" },
        { "{\"action\": \"pause\", \"info\": {\"type\": \"s390\", \"reason\": 2}}",
          "data.info.reason: not a string" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        g_autofree char *line =
            g_strdup_printf("{\"event\": \"GUEST_PANICKED\", \"data\": %s}", table[i].data);

        decode_fails(line, MCED_ERROR_INVALID_DATA, table[i].what);
    }
    decode_fails("{\"event\": \"GUEST_PANICKED\"}", MCED_ERROR_INVALID_DATA,
                 "GUEST_PANICKED: data: missing");
    decode_fails("{\"event\": \"GUEST_CRASHLOADED\", \"data\": {}}", MCED_ERROR_INVALID_DATA,
                 "GUEST_CRASHLOADED: data.action: missing");
}

static void
test_guest_crashloaded(void)
{
    g_autoptr(McedObservation) obs = decode_ok(
        "{\"event\": \"GUEST_CRASHLOADED\", \"data\": {\"action\": \"run\"}, \"timestamp\": "
        "{\"seconds\": 1648245259, \"microseconds\": 893771}}");

    g_assert_cmpstr(obs->str[MCED_STR_EVENT], ==, "GUEST_CRASHLOADED");
    g_assert_cmpstr(obs->str[MCED_STR_ACTION], ==, "run");
    g_assert_cmpint(obs->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpint(obs->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_true(mced_observation_get_bool(obs, MCED_BOOL_IN_GUEST));
    g_assert_true(mced_qmp_is_panic(obs));
    g_assert_cmpint(mced_observation_class(obs, TRUE), ==, MCED_CLASS_FATAL);
}

static void
test_reset(void)
{
    g_autoptr(McedObservation) guest = decode_ok(
        "{\"event\": \"RESET\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}, "
        "\"timestamp\": {\"seconds\": 1584435980, \"microseconds\": 579256}}");
    g_autoptr(McedObservation) host = decode_ok(
        "{\"event\": \"RESET\", \"data\": {\"guest\": false, \"reason\": "
        "\"host-qmp-system-reset\"}}");
    g_autoptr(McedObservation) old = decode_ok("{\"event\": \"RESET\", \"data\": {\"guest\": "
                                               "true}}");
    g_autoptr(McedObservation) older = decode_ok("{\"event\": \"RESET\"}");

    g_assert_cmpstr(guest->str[MCED_STR_MESSAGE], ==, "guest-reset");
    g_assert_true(mced_observation_get_bool(guest, MCED_BOOL_IN_GUEST));
    g_assert_cmpint(guest->severity, ==, MCED_SEVERITY_UNKNOWN);
    g_assert_cmpint(guest->disposition, ==, MCED_DISPOSITION_UNKNOWN);
    g_assert_false(mced_qmp_is_panic(guest));
    g_assert_cmpint(mced_observation_class(guest, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpstr(guest->cursor, ==, "qmp:web1:RESET:1584435980.579256");

    g_assert_cmpstr(host->str[MCED_STR_MESSAGE], ==, "host-qmp-system-reset");
    g_assert_false(mced_observation_get_bool(host, MCED_BOOL_IN_GUEST));
    g_assert_true(mced_observation_has_bool(host, MCED_BOOL_IN_GUEST));
    g_assert_null(old->str[MCED_STR_MESSAGE]);
    g_assert_false(mced_observation_has_bool(older, MCED_BOOL_IN_GUEST));

    decode_fails("{\"event\": \"RESET\", \"data\": {\"guest\": \"yes\"}}",
                 MCED_ERROR_INVALID_DATA, "RESET: data.guest: not a boolean");
    decode_fails("{\"event\": \"RESET\", \"data\": {\"reason\": 3}}", MCED_ERROR_INVALID_DATA,
                 "RESET: data.reason: not a string");
    decode_fails("{\"event\": \"RESET\", \"data\": {\"reason\": \"guest reset\\n\"}}",
                 MCED_ERROR_INVALID_DATA, "RESET: data.reason: not a valid name: 'guest reset\\x0a'");
}

static void
test_unknown_events(void)
{
    decode_fails("{\"event\": \"STOP\"}", MCED_ERROR_NOT_FOUND, "unknown event 'STOP'");
    decode_fails("{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}", MCED_ERROR_NOT_FOUND,
                 "unknown event 'SHUTDOWN'");
    decode_fails("{\"event\": \"memory_failure\"}", MCED_ERROR_NOT_FOUND,
                 "unknown event 'memory_failure'");
    decode_fails("{\"event\": \"\"}", MCED_ERROR_NOT_FOUND, "unknown event ''");
    decode_fails("{\"event\": \"RESET\\u0000\"}", MCED_ERROR_NOT_FOUND,
                 "unknown event 'RESET\\x00'");
    /* Unknown wins over whatever else is wrong: it was not asked for. */
    decode_fails("{\"event\": \"WATCHDOG\", \"data\": 5, \"timestamp\": 7}", MCED_ERROR_NOT_FOUND,
                 "unknown event 'WATCHDOG'");
    /* A long name is cut in the message. */
    {
        g_autofree char *name = g_strnfill(500, 'X');
        g_autofree char *line = g_strdup_printf("{\"event\": \"%s\"}", name);
        g_autoptr(GError) error = NULL;
        g_autoptr(McedObservation) obs =
            mced_qmp_decode_line(line, strlen(line), DOMAIN, NULL, &error);

        g_assert_null(obs);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_NOT_FOUND);
        g_assert_cmpuint(strlen(error->message), <, 100);
        g_assert_true(g_str_has_suffix(error->message, "...'"));
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(McedObservation) obs =
            mced_qmp_decode("MIGRATION", 1, 0, "{\"status\": \"active\"}", 20, DOMAIN, NULL,
                            &error);

        g_assert_null(obs);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_NOT_FOUND);
        g_assert_cmpstr(error->message, ==, "unknown event 'MIGRATION'");
    }
}

static void
test_envelope_errors(void)
{
    static const struct {
        const char *line;
        const char *what;
    } table[] = {
        { "", "not valid JSON: unexpected end of data" },
        { "   ", "not valid JSON: unexpected end of data" },
        { "{\"event\": \"RESET\"", "not valid JSON: unexpected end of data" },
        { "{\"event\": \"RESET\",}", "not valid JSON" },
        { "{'event': 'RESET'}", "not valid JSON" },
        { "{\"event\": \"RESET\"} x", "not valid JSON" },
        { "{\"event\": \"RESET\"}{\"event\": \"RESET\"}", "not valid JSON" },
        { "[\"RESET\"]", "not a JSON object" },
        { "null ", "not a JSON object" },
        { "\"RESET\"", "not a JSON object" },
        { "{}", "event: missing" },
        { "{\"event\": null}", "event: not a string" },
        { "{\"event\": [\"RESET\"]}", "event: not a string" },
        { "{\"event\": \"RESET\", \"data\": []}", "data: not an object" },
        { "{\"event\": \"RESET\", \"timestamp\": 5}", "timestamp: not an object" },
        { "{\"event\": \"RESET\", \"timestamp\": {}}", "timestamp.seconds: missing" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1}}",
          "timestamp.microseconds: missing" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": \"1\", \"microseconds\": 0}}",
          "timestamp.seconds: not an integer" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1.5, \"microseconds\": 0}}",
          "timestamp.seconds: not an integer" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": -2, \"microseconds\": 0}}",
          "timestamp.seconds: out of range" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 253402300800, "
          "\"microseconds\": 0}}",
          "timestamp.seconds: out of range" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 99999999999999999999, "
          "\"microseconds\": 0}}",
          "timestamp.seconds" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1e30, \"microseconds\": 0}}",
          "timestamp.seconds: not an integer" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 1000000}}",
          "timestamp.microseconds: out of range" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1, \"microseconds\": -1}}",
          "timestamp.microseconds: out of range" },
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1, \"microseconds\": true}}",
          "timestamp.microseconds: not an integer" },
        /* json-c takes NaN even when strict; it is no integer either. */
        { "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": NaN, \"microseconds\": 0}}",
          "timestamp.seconds: not an integer" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++)
        decode_fails(table[i].line, MCED_ERROR_INVALID_DATA, table[i].what);
    /* json-c takes a raw control character inside a string even when
     * strict: it never matches a name, and is shown escaped. */
    decode_fails("{\"event\": \"RES\tET\"}", MCED_ERROR_NOT_FOUND, "unknown event 'RES\\x09ET'");

    /* The boundaries themselves are fine. */
    {
        g_autoptr(McedObservation) last = decode_ok(
            "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 253402300799, "
            "\"microseconds\": 999999}}");
        g_autoptr(McedObservation) epoch = decode_ok(
            "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 0, \"microseconds\": 0}}");

        g_assert_cmpint(last->realtime_us, ==, G_GINT64_CONSTANT(253402300799999999));
        g_assert_cmpstr(epoch->cursor, ==, "qmp:web1:RESET:0.000000");
        g_assert_cmpint(epoch->realtime_us, ==, 0);
    }
}

static void
test_hostile(void)
{
    /* Raw NUL bytes and invalid UTF-8 outside escapes. */
    decode_fails_len("{\"event\": \"RESET\"}\0", 20, MCED_ERROR_INVALID_DATA,
                     "not valid JSON: contains a NUL byte");
    decode_fails_len("{\"event\": \"RE\0SET\"}", 20, MCED_ERROR_INVALID_DATA,
                     "contains a NUL byte");
    decode_fails("{\"event\": \"RESET\", \"data\": {\"reason\": \"\xff\xfe\"}}",
                 MCED_ERROR_INVALID_DATA, "not valid JSON");

    /* Nesting: MCED_QMP_MAX_DEPTH levels parse, one more does not. */
    {
        g_autoptr(GString) ok = g_string_new("{\"event\": \"RESET\", \"x\": ");
        g_autoptr(GString) deep = NULL;
        g_autoptr(McedObservation) obs = NULL;

        for (int i = 0; i < MCED_QMP_MAX_DEPTH - 1; i++)
            g_string_append_c(ok, '[');
        for (int i = 0; i < MCED_QMP_MAX_DEPTH - 1; i++)
            g_string_append_c(ok, ']');
        g_string_append_c(ok, '}');
        obs = decode_ok(ok->str);

        deep = g_string_new("{\"event\": \"RESET\", \"x\": ");
        for (int i = 0; i < 10000; i++)
            g_string_append_c(deep, '[');
        decode_fails(deep->str, MCED_ERROR_INVALID_DATA, "not valid JSON: nesting too deep");
    }

    /* Size: a line or details over 64 KiB is refused before parsing. */
    {
        g_autoptr(GString) big = g_string_new("{\"event\": \"GUEST_PANICKED\", \"data\": "
                                              "{\"action\": \"pause\", \"info\": {\"type\": "
                                              "\"tdx\", \"message\": \"");
        g_autoptr(GError) error = NULL;
        g_autoptr(McedObservation) obs = NULL;
        g_autofree char *details = NULL;

        while (big->len < MCED_QMP_MAX_JSON)
            g_string_append(big, "0123456789");
        g_string_append(big, "\"}}}");
        decode_fails(big->str, MCED_ERROR_INVALID_DATA, "longer than 65536 bytes");

        details = g_strnfill(MCED_QMP_MAX_JSON + 1, ' ');
        memcpy(details, "{\"action\": \"pause\"}", 19);
        obs = mced_qmp_decode("GUEST_PANICKED", 1, 0, details, MCED_QMP_MAX_JSON + 1, DOMAIN,
                              NULL, &error);
        g_assert_null(obs);
        g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_DATA);
        g_assert_cmpstr(error->message, ==, "data: longer than 65536 bytes");
        g_clear_error(&error);
        /* The same within the limit (trailing blanks) is fine. */
        obs = mced_qmp_decode("GUEST_PANICKED", 1, 0, details, MCED_QMP_MAX_JSON, DOMAIN, NULL,
                              &error);
        g_assert_no_error(error);
        g_assert_nonnull(obs);
        g_assert_cmpuint(strlen(g_ptr_array_index(obs->lines, 0)), <=, MCED_OBS_MAX_LINE_LEN);
    }

    /* Kept strings are cut at 256 bytes on a character boundary. */
    {
        g_autoptr(GString) line = g_string_new("{\"event\": \"GUEST_PANICKED\", \"data\": "
                                               "{\"action\": \"pause\", \"info\": {\"type\": "
                                               "\"tdx\", \"message\": \"");
        g_autoptr(McedObservation) obs = NULL;
        const char *msg;

        for (int i = 0; i < 5000; i++)
            g_string_append(line, "\xc3\xa9"); /* é */
        g_string_append(line, "\"}}}");
        obs = decode_ok(line->str);
        msg = obs->str[MCED_STR_MESSAGE];
        g_assert_cmpuint(strlen(msg), <=, MCED_QMP_MAX_STRING);
        g_assert_cmpuint(strlen(msg), >=, MCED_QMP_MAX_STRING - 1);
        g_assert_true(g_utf8_validate(msg, -1, NULL));
        g_assert_true(g_str_has_prefix(msg, "tdx: \xc3\xa9"));
    }

    /* A NUL inside free text is kept escaped, not cut short. */
    {
        g_autoptr(McedObservation) obs = decode_ok(
            "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\", \"info\": "
            "{\"type\": \"tdx\", \"message\": \"bad\\u0000tail\\nnext\"}}}");

        g_assert_cmpstr(obs->str[MCED_STR_MESSAGE], ==, "tdx: bad\\x00tail\\x0anext");
    }

    /* Lone surrogates in escapes come out as valid UTF-8. */
    {
        g_autoptr(McedObservation) obs = decode_ok(
            "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\", \"info\": "
            "{\"type\": \"tdx\", \"message\": \"\\ud800x\\udfff\"}}}");

        g_assert_true(g_utf8_validate(obs->str[MCED_STR_MESSAGE], -1, NULL));
    }

    /* Duplicate members: json-c keeps the last; still one valid decode. */
    {
        g_autoptr(McedObservation) obs = decode_ok(
            "{\"event\": \"STOP\", \"event\": \"GUEST_PANICKED\", \"data\": "
            "{\"action\": \"pause\"}}");

        g_assert_cmpstr(obs->str[MCED_STR_EVENT], ==, "GUEST_PANICKED");
    }
}

static void
test_decode_api(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(McedObservation) reset = NULL;
    g_autoptr(McedObservation) panic = NULL;
    g_autoptr(McedObservation) no_clock = NULL;
    g_autoptr(McedObservation) obs = NULL;
    static const char panic_details[] = "{\"action\": \"pause\"}";
    g_autofree char *long_domain = g_strnfill(MCED_QMP_MAX_DOMAIN + 1, 'd');

    /* libvirt hands NULL details for an event without data. */
    reset = mced_qmp_decode("RESET", 1584435980, 579256, NULL, 0, DOMAIN, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(reset->cursor, ==, "qmp:web1:RESET:1584435980.579256");
    g_assert_cmpstr(g_ptr_array_index(reset->lines, 0), ==,
                    "{\"event\": \"RESET\", \"timestamp\": {\"seconds\": 1584435980, "
                    "\"microseconds\": 579256}}");

    panic = mced_qmp_decode("GUEST_PANICKED", 1648245231, 900001, panic_details,
                            strlen(panic_details), DOMAIN, "ignored", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(panic->cursor, ==, "qmp:web1:GUEST_PANICKED:1648245231.900001");
    g_assert_cmpstr(g_ptr_array_index(panic->lines, 0), ==,
                    "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}, "
                    "\"timestamp\": {\"seconds\": 1648245231, \"microseconds\": 900001}}");

    /* No timestamp: micros is ignored (libvirt may pass anything). */
    no_clock = mced_qmp_decode("GUEST_PANICKED", -1, G_MAXUINT, panic_details,
                               strlen(panic_details), DOMAIN, "libvirt:7", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(no_clock->cursor, ==, "libvirt:7");
    g_assert_cmpint(no_clock->realtime_us, ==, 0);
    g_assert_cmpstr(g_ptr_array_index(no_clock->lines, 0), ==,
                    "{\"event\": \"GUEST_PANICKED\", \"data\": {\"action\": \"pause\"}, "
                    "\"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}");

    /* The details are length-delimited: what follows is not read. */
    obs = mced_qmp_decode("GUEST_PANICKED", 1, 0, "{\"action\": \"run\"}GARBAGE", 17, DOMAIN,
                          NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(obs->str[MCED_STR_ACTION], ==, "run");
    g_clear_pointer(&obs, mced_observation_unref);

    const struct {
        const char *event;
        gint64 seconds;
        guint micros;
        const char *details;
        const char *domain;
        int code;
        const char *message;
    } table[] = {
        { NULL, 1, 0, NULL, DOMAIN, MCED_ERROR_INVALID_DATA, "event: missing" },
        { "RESET", -2, 0, NULL, DOMAIN, MCED_ERROR_INVALID_DATA,
          "timestamp.seconds: out of range" },
        { "RESET", G_MAXINT64, 0, NULL, DOMAIN, MCED_ERROR_INVALID_DATA,
          "timestamp.seconds: out of range" },
        { "RESET", 1, 1000000, NULL, DOMAIN, MCED_ERROR_INVALID_DATA,
          "timestamp.microseconds: out of range" },
        { "RESET", 1, 0, "", DOMAIN, MCED_ERROR_INVALID_DATA,
          "data: not valid JSON: unexpected end of data at offset 0" },
        { "RESET", 1, 0, "null", DOMAIN, MCED_ERROR_INVALID_DATA, "data: not an object" },
        { "RESET", 1, 0, "[]", DOMAIN, MCED_ERROR_INVALID_DATA, "data: not an object" },
        { "RESET", 1, 0, "{\"guest\": true} }", DOMAIN, MCED_ERROR_INVALID_DATA,
          "data: not valid JSON: unexpected character at offset 16" },
        { "MEMORY_FAILURE", 1, 0, NULL, DOMAIN, MCED_ERROR_INVALID_DATA,
          "MEMORY_FAILURE: data: missing" },
        { "RESET", 1, 0, NULL, NULL, MCED_ERROR_INVALID_ARGUMENT, "domain: missing" },
        { "RESET", 1, 0, NULL, "", MCED_ERROR_INVALID_ARGUMENT, "domain: missing" },
        { "RESET", 1, 0, NULL, "web\n1", MCED_ERROR_INVALID_ARGUMENT,
          "domain: contains a control character" },
        { "RESET", 1, 0, NULL, "web\xff", MCED_ERROR_INVALID_ARGUMENT,
          "domain: not valid UTF-8" },
        { "RESET", 1, 0, NULL, long_domain, MCED_ERROR_INVALID_ARGUMENT,
          "domain: longer than 256 bytes" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        const char *d = table[i].details;

        obs = mced_qmp_decode(table[i].event, table[i].seconds, table[i].micros, d,
                              d != NULL ? strlen(d) : 0, table[i].domain, NULL, &error);
        g_assert_null(obs);
        g_assert_error(error, MCED_ERROR, table[i].code);
        g_assert_cmpstr(error->message, ==, table[i].message);
        g_clear_error(&error);
    }

    /* The same check, alone, for front ends that take a domain name. */
    g_assert_true(mced_qmp_check_domain("web1", NULL));
    g_assert_false(mced_qmp_check_domain(long_domain, &error));
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);

    /* decode_line checks the domain too, before anything else. */
    obs = mced_qmp_decode_line("{\"event\": \"RESET\"}", 18, NULL, NULL, &error);
    g_assert_null(obs);
    g_assert_error(error, MCED_ERROR, MCED_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    /* A name exactly at the limit is fine. */
    long_domain[MCED_QMP_MAX_DOMAIN] = '\0';
    obs = mced_qmp_decode("RESET", 1, 0, NULL, 0, long_domain, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(obs->str[MCED_STR_DOMAIN], ==, long_domain);
}

/* Every line of the real-world corpus: the events kvm-mced decodes decode,
 * every other one is reported unknown, none is malformed. */
static void
test_corpus(void)
{
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "data", "corpus", "qmp-events.jsonl", NULL);
    g_autofree char *contents = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    guint counts[_MCED_QMP_EVENT_MAX] = { 0 };
    guint unknown = 0;
    guint lineno = 0;

    g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
    g_assert_no_error(error);
    lines = g_strsplit(contents, "\n", -1);
    for (char **l = lines; *l != NULL; l++) {
        g_autofree char *cursor = NULL;
        g_autoptr(McedObservation) obs = NULL;

        lineno++;
        if (**l == '\0' || **l == '#')
            continue;
        cursor = g_strdup_printf("qmp-events.jsonl:%u", lineno);
        obs = mced_qmp_decode_line(*l, strlen(*l), "corpus-vm", cursor, &error);
        if (obs == NULL) {
            g_assert_error(error, MCED_ERROR, MCED_ERROR_NOT_FOUND);
            g_clear_error(&error);
            unknown++;
            continue;
        }
        counts[mced_qmp_event_from_string(obs->str[MCED_STR_EVENT])]++;
        g_assert_cmpstr(g_ptr_array_index(obs->lines, 0), ==, *l);
        if (obs->realtime_us == 0)
            g_assert_cmpstr(obs->cursor, ==, cursor);
        else
            g_assert_true(g_str_has_prefix(obs->cursor, "qmp:corpus-vm:"));
        if (mced_qmp_is_panic(obs))
            g_assert_cmpint(mced_observation_class(obs, TRUE), ==, MCED_CLASS_FATAL);
    }
    g_assert_cmpuint(counts[MCED_QMP_EVENT_MEMORY_FAILURE], ==, 1);
    g_assert_cmpuint(counts[MCED_QMP_EVENT_GUEST_PANICKED], ==, 4);
    g_assert_cmpuint(counts[MCED_QMP_EVENT_GUEST_CRASHLOADED], ==, 0);
    g_assert_cmpuint(counts[MCED_QMP_EVENT_RESET], ==, 2);
    g_assert_cmpuint(unknown, ==, 14);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/event-strings", test_event_strings);
    g_test_add_func("/qmp/memory-failure/matrix", test_memory_failure_matrix);
    g_test_add_func("/qmp/memory-failure/shapes", test_memory_failure_shapes);
    g_test_add_func("/qmp/memory-failure/errors", test_memory_failure_errors);
    g_test_add_func("/qmp/guest-panicked", test_guest_panicked);
    g_test_add_func("/qmp/guest-panicked/errors", test_guest_panicked_errors);
    g_test_add_func("/qmp/guest-crashloaded", test_guest_crashloaded);
    g_test_add_func("/qmp/reset", test_reset);
    g_test_add_func("/qmp/unknown-events", test_unknown_events);
    g_test_add_func("/qmp/envelope-errors", test_envelope_errors);
    g_test_add_func("/qmp/hostile", test_hostile);
    g_test_add_func("/qmp/decode", test_decode_api);
    g_test_add_func("/qmp/corpus", test_corpus);
    return g_test_run();
}
