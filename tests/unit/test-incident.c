/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-incident.h"

/* A frozen observation of @kind at wall clock @t_us with a cursor. */
static McedObservation *
make_obs(McedObsKind kind, McedSeverity sev, McedDisposition disp, gint64 t_us,
         const char *cursor)
{
    McedObservation *obs = mced_observation_new(kind);

    obs->severity = sev;
    obs->disposition = disp;
    obs->realtime_us = t_us;
    obs->cursor = g_strdup(cursor);
    return obs;
}

static void
test_class_strings(void)
{
    static const struct {
        McedIncidentClass c;
        const char *s;
    } table[] = {
        { MCED_CLASS_CORRECTED, "corrected" },
        { MCED_CLASS_GUEST, "guest" },
        { MCED_CLASS_FATAL, "fatal" },
        { MCED_CLASS_HOST, "host" },
    };

    G_STATIC_ASSERT(G_N_ELEMENTS(table) == _MCED_CLASS_MAX);
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        g_assert_cmpstr(mced_incident_class_to_string(table[i].c), ==, table[i].s);
        g_assert_cmpint(mced_incident_class_from_string(table[i].s), ==, table[i].c);
    }
    g_assert_null(mced_incident_class_to_string(_MCED_CLASS_MAX));
    g_assert_null(mced_incident_class_to_string(_MCED_CLASS_INVALID));
    g_assert_cmpint(mced_incident_class_from_string(NULL), ==, _MCED_CLASS_INVALID);
    g_assert_cmpint(mced_incident_class_from_string("Guest"), ==, _MCED_CLASS_INVALID);
    g_assert_cmpint(mced_incident_class_from_string(""), ==, _MCED_CLASS_INVALID);
}

static void
test_id_for_cursor(void)
{
    g_autofree char *abc = mced_incident_id_for_cursor("abc");
    g_autofree char *again = mced_incident_id_for_cursor("abc");
    g_autofree char *other = mced_incident_id_for_cursor("abd");
    g_autofree char *empty = mced_incident_id_for_cursor("");

    /* SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223... */
    g_assert_cmpstr(abc, ==, "i-ba7816bf8f01cfea");
    g_assert_cmpstr(again, ==, abc);
    g_assert_cmpstr(other, !=, abc);
    /* SHA-256("") = e3b0c44298fc1c14... */
    g_assert_cmpstr(empty, ==, "i-e3b0c44298fc1c14");
    g_assert_cmpuint(strlen(other), ==, 18);
}

static void
test_vm_ref(void)
{
    g_autoptr(McedVmRef) both = mced_vm_ref_new("web1", "1B4E28BA-2FA1-11D2-883F-0016D3CCA427", 42);
    g_autoptr(McedVmRef) name = mced_vm_ref_new("web2", NULL, -1);
    g_autoptr(McedVmRef) empty = mced_vm_ref_new("", "", 7);
    g_autoptr(McedVmRef) copy = mced_vm_ref_copy(both);

    g_assert_cmpstr(both->uuid, ==, "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    g_assert_cmpstr(mced_vm_ref_key(both), ==, both->uuid);
    g_assert_cmpint(both->pid, ==, 42);
    g_assert_cmpstr(mced_vm_ref_key(name), ==, "web2");
    g_assert_cmpint(name->pid, ==, -1);
    g_assert_null(mced_vm_ref_key(empty));
    g_assert_null(mced_vm_ref_key(NULL));
    g_assert_cmpstr(copy->name, ==, "web1");
    g_assert_cmpstr(copy->uuid, ==, both->uuid);
    g_assert_true(copy->uuid != both->uuid);
    g_assert_cmpint(copy->pid, ==, 42);
    g_assert_null(mced_vm_ref_copy(NULL));
    mced_vm_ref_free(NULL);
}

static void
test_observation_class(void)
{
    g_autoptr(McedObservation) corrected =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED, 1, NULL);
    g_autoptr(McedObservation) unknown =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_UNKNOWN, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) fatal_sev =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) fwnmi_lost =
        make_obs(MCED_OBS_QEMU_FWNMI, MCED_SEVERITY_UNKNOWN, MCED_DISPOSITION_NOT_RECOVERED, 1,
                 NULL);
    g_autoptr(McedObservation) fwnmi_other =
        make_obs(MCED_OBS_QEMU_FWNMI, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) qemu_host =
        make_obs(MCED_OBS_QEMU_MEMORY_ERROR, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, 1,
                 NULL);
    g_autoptr(McedObservation) qemu_guest =
        make_obs(MCED_OBS_QEMU_MEMORY_ERROR, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN, 1,
                 NULL);
    g_autoptr(McedObservation) panic =
        make_obs(MCED_OBS_QMP, MCED_SEVERITY_UNKNOWN, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) qmp_mf =
        make_obs(MCED_OBS_QMP, MCED_SEVERITY_UNKNOWN, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) not_recovered =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED, 1,
                 NULL);
    g_autoptr(McedObservation) severe_host_ctx =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_UNKNOWN, 1, NULL);
    g_autoptr(McedObservation) severe_recovered =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_RECOVERED, 1, NULL);

    mced_observation_set_bool(qemu_host, MCED_BOOL_IN_GUEST, FALSE);
    mced_observation_set_bool(qemu_guest, MCED_BOOL_IN_GUEST, TRUE);
    mced_observation_set_str(panic, MCED_STR_EVENT, "GUEST_PANICKED", -1);
    mced_observation_set_str(qmp_mf, MCED_STR_EVENT, "MEMORY_FAILURE", -1);
    mced_observation_set_bool(severe_host_ctx, MCED_BOOL_IN_GUEST, FALSE);
    mced_observation_set_bool(severe_recovered, MCED_BOOL_IN_GUEST, TRUE);

    /* Without a VM everything is a host matter, however bad. */
    g_assert_cmpint(mced_observation_class(fatal_sev, FALSE), ==, MCED_CLASS_HOST);
    g_assert_cmpint(mced_observation_class(corrected, FALSE), ==, MCED_CLASS_HOST);

    g_assert_cmpint(mced_observation_class(corrected, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(mced_observation_class(unknown, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(mced_observation_class(fatal_sev, TRUE), ==, MCED_CLASS_FATAL);
    g_assert_cmpint(mced_observation_class(fwnmi_lost, TRUE), ==, MCED_CLASS_FATAL);
    g_assert_cmpint(mced_observation_class(fwnmi_other, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(mced_observation_class(qemu_host, TRUE), ==, MCED_CLASS_FATAL);
    /* Severe, disposition unknown, in guest: delivered to the guest. */
    g_assert_cmpint(mced_observation_class(qemu_guest, TRUE), ==, MCED_CLASS_GUEST);
    g_assert_cmpint(mced_observation_class(panic, TRUE), ==, MCED_CLASS_FATAL);
    g_assert_cmpint(mced_observation_class(qmp_mf, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(mced_observation_class(not_recovered, TRUE), ==, MCED_CLASS_GUEST);
    g_assert_cmpint(mced_observation_class(severe_host_ctx, TRUE), ==, MCED_CLASS_CORRECTED);
    g_assert_cmpint(mced_observation_class(severe_recovered, TRUE), ==, MCED_CLASS_CORRECTED);
}

static void
test_incident_aggregate(void)
{
    g_autoptr(McedVmRef) vm = mced_vm_ref_new("web1", NULL, 100);
    g_autoptr(McedIncident) inc = mced_incident_new("i-0000000000000001", vm);
    g_autoptr(McedObservation) a =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
                 2000, "c:1");
    g_autoptr(McedObservation) b =
        make_obs(MCED_OBS_MEMORY_FAILURE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED,
                 0, "c:2");
    g_autoptr(McedObservation) c =
        make_obs(MCED_OBS_PPC64_MCE, MCED_SEVERITY_HARMLESS, MCED_DISPOSITION_RECOVERED,
                 1000, "c:3");
    g_autoptr(McedObservation) d =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_UNKNOWN, 0, "c:4");

    g_assert_cmpstr(inc->id, ==, "i-0000000000000001");
    g_assert_true(inc->vm != vm);
    g_assert_cmpstr(inc->vm->name, ==, "web1");
    g_assert_cmpint(inc->state, ==, MCED_INCIDENT_OPEN);
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_CORRECTED);

    /* a: no error type yet, PA wins over EA. */
    mced_observation_set_num(a, MCED_NUM_EA, 0x7fff0000);
    mced_observation_set_num(a, MCED_NUM_PA, 0x201f3a3c1000);
    mced_observation_set_num(a, MCED_NUM_HOST_CPU, 12);
    mced_observation_set_num(a, MCED_NUM_VCPU, 3);
    /* b: the first with an error type; only monotonic time; a PFN. */
    b->monotonic_us = 1500;
    mced_observation_set_str(b, MCED_STR_ERROR_TYPE, "UE", -1);
    mced_observation_set_num(b, MCED_NUM_PFN, 0x201f3a3c1);
    mced_observation_set_num(b, MCED_NUM_VCPU, 3);
    /* c: earlier in time, another error type, EA only. */
    mced_observation_set_str(c, MCED_STR_ERROR_TYPE, "SLB", -1);
    mced_observation_set_num(c, MCED_NUM_EA, 0x7fff0000);
    mced_observation_set_num(c, MCED_NUM_HOST_CPU, 8);

    mced_incident_add_observation(inc, a, mced_observation_class(a, TRUE));
    g_assert_cmpint(inc->first_us, ==, 2000);
    g_assert_cmpint(inc->last_us, ==, 2000);
    g_assert_null(inc->error_type);
    mced_incident_add_observation(inc, b, mced_observation_class(b, TRUE));
    mced_incident_add_observation(inc, c, mced_observation_class(c, TRUE));
    /* d has no time at all: the span stays as it was. */
    mced_incident_add_observation(inc, d, mced_observation_class(d, TRUE));

    g_assert_cmpuint(inc->n_observations, ==, 4);
    g_assert_cmpuint(inc->observations->len, ==, 4);
    g_assert_true(inc->observations->pdata[1] == b);
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_GUEST);
    g_assert_cmpint(inc->severity, ==, MCED_SEVERITY_SEVERE);
    g_assert_cmpint(inc->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);
    g_assert_cmpstr(inc->error_type, ==, "UE");
    g_assert_cmpint(inc->first_us, ==, 1000);
    g_assert_cmpint(inc->last_us, ==, 2000);
    g_assert_cmphex(inc->kinds, ==, (1u << MCED_OBS_PPC64_MCE) | (1u << MCED_OBS_MEMORY_FAILURE)
                                        | (1u << MCED_OBS_X86_MCE));
    g_assert_cmpuint(inc->host_cpus->len, ==, 2);
    g_assert_cmpuint(g_array_index(inc->host_cpus, guint64, 0), ==, 12);
    g_assert_cmpuint(g_array_index(inc->host_cpus, guint64, 1), ==, 8);
    g_assert_cmpuint(inc->vcpus->len, ==, 1);
    g_assert_cmpuint(g_array_index(inc->vcpus, guint64, 0), ==, 3);
    /* a's PA and b's PFN << 12 are the same page: one address; c's EA. */
    g_assert_cmpuint(inc->addresses->len, ==, 2);
    g_assert_cmphex(g_array_index(inc->addresses, guint64, 0), ==, 0x201f3a3c1000);
    g_assert_cmphex(g_array_index(inc->addresses, guint64, 1), ==, 0x7fff0000);
}

static void
test_incident_class_worst(void)
{
    g_autoptr(McedVmRef) vm = mced_vm_ref_new(NULL, "u-1", -1);
    g_autoptr(McedIncident) inc = mced_incident_new("i-1", vm);
    g_autoptr(McedIncident) host = mced_incident_new("i-2", NULL);
    g_autoptr(McedObservation) fatal =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_FATAL, MCED_DISPOSITION_UNKNOWN, 5, "f");
    g_autoptr(McedObservation) guest =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_SEVERE, MCED_DISPOSITION_NOT_RECOVERED, 6, "g");
    g_autoptr(McedObservation) corr =
        make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_HARMLESS, MCED_DISPOSITION_RECOVERED, 7, "c");

    mced_incident_add_observation(inc, guest, mced_observation_class(guest, TRUE));
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_GUEST);
    mced_incident_add_observation(inc, fatal, mced_observation_class(fatal, TRUE));
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_FATAL);
    mced_incident_add_observation(inc, corr, mced_observation_class(corr, TRUE));
    g_assert_cmpint(inc->klass, ==, MCED_CLASS_FATAL);
    /* Worst severity was FATAL from the second, and stays. */
    g_assert_cmpint(inc->severity, ==, MCED_SEVERITY_FATAL);
    g_assert_cmpint(inc->disposition, ==, MCED_DISPOSITION_NOT_RECOVERED);

    g_assert_cmpint(host->klass, ==, MCED_CLASS_HOST);
    g_assert_null(host->vm);
    mced_incident_add_observation(host, fatal, mced_observation_class(fatal, FALSE));
    g_assert_cmpint(host->klass, ==, MCED_CLASS_HOST);
    g_assert_cmpint(host->severity, ==, MCED_SEVERITY_FATAL);
}

static void
test_incident_bounds(void)
{
    g_autoptr(McedIncident) inc = mced_incident_new("i-bounds", NULL);
    McedObservation *first = NULL;

    for (guint i = 0; i < MCED_INCIDENT_MAX_OBSERVATIONS + 8; i++) {
        g_autofree char *cursor = g_strdup_printf("c:%u", i);
        g_autoptr(McedObservation) o =
            make_obs(MCED_OBS_X86_MCE, MCED_SEVERITY_WARNING, MCED_DISPOSITION_RECOVERED,
                     1000 + i, cursor);

        mced_observation_set_num(o, MCED_NUM_VCPU, i);
        mced_observation_set_num(o, MCED_NUM_HOST_CPU, i % 4);
        mced_observation_set_num(o, MCED_NUM_PA, 0x1000 * (guint64)i);
        if (i == 0)
            first = o;
        mced_incident_add_observation(inc, o, MCED_CLASS_HOST);
    }
    g_assert_cmpuint(inc->n_observations, ==, MCED_INCIDENT_MAX_OBSERVATIONS + 8);
    g_assert_cmpuint(inc->observations->len, ==, MCED_INCIDENT_MAX_OBSERVATIONS);
    /* The first ones are kept, and kept alive by the incident. */
    g_assert_true(inc->observations->pdata[0] == first);
    g_assert_cmpstr(((McedObservation *)inc->observations->pdata[31])->cursor, ==, "c:31");
    g_assert_cmpint(inc->last_us, ==, 1000 + MCED_INCIDENT_MAX_OBSERVATIONS + 7);
    g_assert_cmpuint(inc->vcpus->len, ==, MCED_INCIDENT_MAX_VALUES);
    g_assert_cmpuint(g_array_index(inc->vcpus, guint64, 15), ==, 15);
    g_assert_cmpuint(inc->addresses->len, ==, MCED_INCIDENT_MAX_VALUES);
    g_assert_cmpuint(inc->host_cpus->len, ==, 4);
}

static void
test_incident_ref(void)
{
    McedIncident *inc = mced_incident_new("i-ref", NULL);
    McedIncident *again = mced_incident_ref(inc);

    g_assert_true(again == inc);
    mced_incident_unref(inc);
    g_assert_cmpstr(again->id, ==, "i-ref");
    mced_incident_unref(again);
    mced_incident_unref(NULL);
}

static void
test_join_values(void)
{
    g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(guint64));
    g_autofree char *dec = NULL;
    g_autofree char *hex = NULL;
    guint64 a = 3, b = 0x12345000;

    g_assert_null(mced_incident_join_values(NULL, FALSE));
    g_assert_null(mced_incident_join_values(v, TRUE));
    g_array_append_val(v, a);
    g_array_append_val(v, b);
    dec = mced_incident_join_values(v, FALSE);
    hex = mced_incident_join_values(v, TRUE);
    g_assert_cmpstr(dec, ==, "3,305418240");
    g_assert_cmpstr(hex, ==, "0x3,0x12345000");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/incident/class-strings", test_class_strings);
    g_test_add_func("/incident/id-for-cursor", test_id_for_cursor);
    g_test_add_func("/incident/vm-ref", test_vm_ref);
    g_test_add_func("/incident/observation-class", test_observation_class);
    g_test_add_func("/incident/aggregate", test_incident_aggregate);
    g_test_add_func("/incident/class-worst", test_incident_class_worst);
    g_test_add_func("/incident/bounds", test_incident_bounds);
    g_test_add_func("/incident/ref", test_incident_ref);
    g_test_add_func("/incident/join-values", test_join_values);
    return g_test_run();
}
