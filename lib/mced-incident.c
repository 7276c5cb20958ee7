/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <string.h>

#include "mced-incident.h"

static const char *const class_str[_MCED_CLASS_MAX] = {
    [MCED_CLASS_CORRECTED] = "corrected",
    [MCED_CLASS_GUEST] = "guest",
    [MCED_CLASS_FATAL] = "fatal",
    [MCED_CLASS_HOST] = "host",
};

G_STATIC_ASSERT(_MCED_OBS_KIND_MAX <= 32);

const char *
mced_incident_class_to_string(McedIncidentClass c)
{
    if (c < 0 || c >= _MCED_CLASS_MAX)
        return NULL;
    return class_str[c];
}

McedIncidentClass
mced_incident_class_from_string(const char *s)
{
    if (s == NULL)
        return _MCED_CLASS_INVALID;
    for (int i = 0; i < _MCED_CLASS_MAX; i++)
        if (g_str_equal(class_str[i], s))
            return (McedIncidentClass)i;
    return _MCED_CLASS_INVALID;
}

/* ---- VM references ----------------------------------------------------- */

/* Empty strings carry no identity: keep them as NULL. */
static char *
dup_nonempty(const char *s)
{
    return (s != NULL && *s != '\0') ? g_strdup(s) : NULL;
}

McedVmRef *
mced_vm_ref_new(const char *name, const char *uuid, gint64 pid)
{
    McedVmRef *ref = g_new0(McedVmRef, 1);

    ref->name = dup_nonempty(name);
    ref->uuid = (uuid != NULL && *uuid != '\0') ? g_ascii_strdown(uuid, -1) : NULL;
    ref->pid = pid > 0 ? pid : -1;
    return ref;
}

McedVmRef *
mced_vm_ref_copy(const McedVmRef *ref)
{
    McedVmRef *copy;

    if (ref == NULL)
        return NULL;
    copy = g_new0(McedVmRef, 1);
    copy->name = g_strdup(ref->name);
    copy->uuid = g_strdup(ref->uuid);
    copy->pid = ref->pid;
    return copy;
}

void
mced_vm_ref_free(McedVmRef *ref)
{
    if (ref == NULL)
        return;
    g_free(ref->name);
    g_free(ref->uuid);
    g_free(ref);
}

const char *
mced_vm_ref_key(const McedVmRef *ref)
{
    if (ref == NULL)
        return NULL;
    if (ref->uuid != NULL && *ref->uuid != '\0')
        return ref->uuid;
    if (ref->name != NULL && *ref->name != '\0')
        return ref->name;
    return NULL;
}

/* ---- ids and classes --------------------------------------------------- */

char *
mced_incident_id_for_cursor(const char *cursor)
{
    g_autoptr(GChecksum) sum = NULL;
    const char *hex;

    g_return_val_if_fail(cursor != NULL, NULL);

    sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)cursor, (gssize)strlen(cursor));
    hex = g_checksum_get_string(sum);
    return g_strdup_printf("i-%.16s", hex);
}

static gboolean
is_fatal(const McedObservation *obs)
{
    const char *event = obs->str[MCED_STR_EVENT];

    if (obs->severity == MCED_SEVERITY_FATAL)
        return TRUE;
    switch (obs->kind) {
    case MCED_OBS_QEMU_FWNMI:
        /* QEMU could not deliver the machine check: it stops the guest. */
        return obs->disposition == MCED_DISPOSITION_NOT_RECOVERED;
    case MCED_OBS_QEMU_MEMORY_ERROR:
        /* Hit outside guest context, QEMU itself exits. The parser rates
         * that fatal, so the severity test above already caught it; the
         * case stays to document where such lines land. */
        return mced_observation_has_bool(obs, MCED_BOOL_IN_GUEST)
               && !mced_observation_get_bool(obs, MCED_BOOL_IN_GUEST)
               && obs->severity == MCED_SEVERITY_FATAL;
    case MCED_OBS_QMP:
        return event != NULL && g_str_equal(event, "GUEST_PANICKED");
    case MCED_OBS_PPC64_MCE:
    case MCED_OBS_X86_MCE:
    case MCED_OBS_DRILL:
    case MCED_OBS_MEMORY_FAILURE:
    case _MCED_OBS_KIND_MAX:
    case _MCED_OBS_KIND_INVALID:
        break;
    }
    return FALSE;
}

static gboolean
is_guest_hit(const McedObservation *obs)
{
    if (obs->disposition == MCED_DISPOSITION_NOT_RECOVERED)
        return TRUE;
    return obs->severity == MCED_SEVERITY_SEVERE
           && obs->disposition == MCED_DISPOSITION_UNKNOWN
           && mced_observation_has_bool(obs, MCED_BOOL_IN_GUEST)
           && mced_observation_get_bool(obs, MCED_BOOL_IN_GUEST);
}

McedIncidentClass
mced_observation_class(const McedObservation *obs, gboolean attributed)
{
    g_return_val_if_fail(obs != NULL, _MCED_CLASS_INVALID);

    if (!attributed)
        return MCED_CLASS_HOST;
    if (is_fatal(obs))
        return MCED_CLASS_FATAL;
    if (is_guest_hit(obs))
        return MCED_CLASS_GUEST;
    return MCED_CLASS_CORRECTED;
}

McedObservation *
mced_observation_new_drill(McedIncidentClass klass, gint64 time_us, const char *cursor,
                           const char *message)
{
    McedObservation *obs;

    g_return_val_if_fail(klass >= 0 && klass < _MCED_CLASS_MAX, NULL);
    g_return_val_if_fail(cursor != NULL, NULL);

    obs = mced_observation_new(MCED_OBS_DRILL);
    switch (klass) {
    case MCED_CLASS_CORRECTED:
        obs->severity = MCED_SEVERITY_WARNING;
        obs->disposition = MCED_DISPOSITION_RECOVERED;
        break;
    case MCED_CLASS_GUEST:
    case MCED_CLASS_HOST:
        obs->severity = MCED_SEVERITY_SEVERE;
        obs->disposition = MCED_DISPOSITION_NOT_RECOVERED;
        break;
    case MCED_CLASS_FATAL:
        obs->severity = MCED_SEVERITY_FATAL;
        obs->disposition = MCED_DISPOSITION_NOT_RECOVERED;
        break;
    case _MCED_CLASS_MAX:
    case _MCED_CLASS_INVALID:
        break;
    }
    obs->realtime_us = time_us;
    obs->cursor = g_strdup(cursor);
    mced_observation_set_bool(obs, MCED_BOOL_SYNTHETIC, TRUE);
    mced_observation_set_bool(obs, MCED_BOOL_IN_GUEST, klass != MCED_CLASS_HOST);
    mced_observation_set_str(obs, MCED_STR_ERROR_TYPE, "drill", -1);
    if (message != NULL)
        mced_observation_set_str(obs, MCED_STR_MESSAGE, message, -1);
    mced_observation_freeze(obs);
    return obs;
}

char *
mced_incident_join_values(const GArray *values, gboolean hex)
{
    GString *s;

    if (values == NULL || values->len == 0)
        return NULL;
    s = g_string_new(NULL);
    for (guint i = 0; i < values->len; i++) {
        guint64 v = g_array_index(values, guint64, i);

        if (i > 0)
            g_string_append_c(s, ',');
        if (hex)
            g_string_append_printf(s, "0x%" G_GINT64_MODIFIER "x", v);
        else
            g_string_append_printf(s, "%" G_GUINT64_FORMAT, v);
    }
    return g_string_free(s, FALSE);
}

/* How bad a class is: HOST sits below the domain classes, so a host
 * incident stays HOST and a domain incident never becomes HOST. */
static int
class_rank(McedIncidentClass c)
{
    switch (c) {
    case MCED_CLASS_HOST:
        return 0;
    case MCED_CLASS_CORRECTED:
        return 1;
    case MCED_CLASS_GUEST:
        return 2;
    case MCED_CLASS_FATAL:
        return 3;
    case _MCED_CLASS_MAX:
    case _MCED_CLASS_INVALID:
        break;
    }
    return -1;
}

/* ---- incidents --------------------------------------------------------- */

McedIncident *
mced_incident_new(const char *id, const McedVmRef *vm)
{
    McedIncident *inc;

    g_return_val_if_fail(id != NULL, NULL);

    inc = g_atomic_rc_box_new0(McedIncident);
    inc->id = g_strdup(id);
    inc->vm = mced_vm_ref_copy(vm);
    inc->klass = vm != NULL ? MCED_CLASS_CORRECTED : MCED_CLASS_HOST;
    inc->state = MCED_INCIDENT_OPEN;
    inc->host_cpus = g_array_new(FALSE, FALSE, sizeof(guint64));
    inc->vcpus = g_array_new(FALSE, FALSE, sizeof(guint64));
    inc->addresses = g_array_new(FALSE, FALSE, sizeof(guint64));
    inc->observations = g_ptr_array_new_with_free_func((GDestroyNotify)mced_observation_unref);
    return inc;
}

McedIncident *
mced_incident_ref(McedIncident *inc)
{
    g_return_val_if_fail(inc != NULL, NULL);
    return g_atomic_rc_box_acquire(inc);
}

static void
incident_clear(McedIncident *inc)
{
    g_free(inc->id);
    mced_vm_ref_free(inc->vm);
    g_free(inc->error_type);
    g_free(inc->merged_into);
    g_clear_pointer(&inc->host_cpus, g_array_unref);
    g_clear_pointer(&inc->vcpus, g_array_unref);
    g_clear_pointer(&inc->addresses, g_array_unref);
    g_clear_pointer(&inc->observations, g_ptr_array_unref);
    g_clear_pointer(&inc->actions, g_ptr_array_unref);
}

static void
incident_action_free(McedIncidentAction *a)
{
    g_free(a->action);
    g_free(a->result);
    g_free(a->detail);
    g_free(a);
}

void
mced_incident_add_action(McedIncident *inc, const char *action, const char *result,
                         const char *detail, gint64 time_us)
{
    McedIncidentAction *a;

    g_return_if_fail(inc != NULL && action != NULL && result != NULL);
    if (inc->actions == NULL)
        inc->actions = g_ptr_array_new_with_free_func((GDestroyNotify)incident_action_free);
    if (inc->actions->len >= MCED_INCIDENT_MAX_ACTIONS)
        return;
    a = g_new0(McedIncidentAction, 1);
    a->action = g_strdup(action);
    a->result = g_strdup(result);
    a->detail = g_strdup(detail);
    a->time_us = time_us;
    g_ptr_array_add(inc->actions, a);
}

void
mced_incident_unref(McedIncident *inc)
{
    if (inc == NULL)
        return;
    g_atomic_rc_box_release_full(inc, (GDestroyNotify)incident_clear);
}

/* Add @v to a set of at most MCED_INCIDENT_MAX_VALUES values; once full,
 * new values are dropped (the first ones seen are the telling ones). */
static void
add_value(GArray *values, guint64 v)
{
    for (guint i = 0; i < values->len; i++)
        if (g_array_index(values, guint64, i) == v)
            return;
    if (values->len < MCED_INCIDENT_MAX_VALUES)
        g_array_append_val(values, v);
}

static gboolean
address_of(const McedObservation *obs, guint64 *ret)
{
    if (mced_observation_has_num(obs, MCED_NUM_PA))
        *ret = obs->num[MCED_NUM_PA];
    else if (mced_observation_has_num(obs, MCED_NUM_EA))
        *ret = obs->num[MCED_NUM_EA];
    else if (mced_observation_has_num(obs, MCED_NUM_PFN))
        *ret = obs->num[MCED_NUM_PFN] << 12;
    else
        return FALSE;
    return TRUE;
}

/* Time is the observation's own; one without any leaves first_us and
 * last_us alone (the correlator stretches them with its own "now"). */
void
mced_incident_add_observation(McedIncident *inc, McedObservation *obs, McedIncidentClass klass)
{
    gint64 t;
    guint64 addr;

    g_return_if_fail(inc != NULL && obs != NULL);
    g_return_if_fail(klass >= 0 && klass < _MCED_CLASS_MAX);

    if (inc->observations->len < MCED_INCIDENT_MAX_OBSERVATIONS)
        g_ptr_array_add(inc->observations, mced_observation_ref(obs));
    inc->n_observations++;
    if (mced_observation_is_synthetic(obs))
        inc->synthetic = TRUE;

    if (class_rank(klass) > class_rank(inc->klass))
        inc->klass = klass;
    if (obs->severity > inc->severity)
        inc->severity = obs->severity;
    if (obs->disposition > inc->disposition)
        inc->disposition = obs->disposition;
    if (inc->error_type == NULL && obs->str[MCED_STR_ERROR_TYPE] != NULL)
        inc->error_type = g_strdup(obs->str[MCED_STR_ERROR_TYPE]);
    if (obs->kind >= 0 && obs->kind < _MCED_OBS_KIND_MAX)
        inc->kinds |= 1u << obs->kind;

    t = obs->realtime_us != 0 ? obs->realtime_us : obs->monotonic_us;
    if (t != 0) {
        if (inc->first_us == 0 && inc->last_us == 0) {
            inc->first_us = t;
            inc->last_us = t;
        } else {
            inc->first_us = MIN(inc->first_us, t);
            inc->last_us = MAX(inc->last_us, t);
        }
    }

    if (mced_observation_has_num(obs, MCED_NUM_HOST_CPU))
        add_value(inc->host_cpus, obs->num[MCED_NUM_HOST_CPU]);
    if (mced_observation_has_num(obs, MCED_NUM_VCPU))
        add_value(inc->vcpus, obs->num[MCED_NUM_VCPU]);
    if (address_of(obs, &addr))
        add_value(inc->addresses, addr);
}
