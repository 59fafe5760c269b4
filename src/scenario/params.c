/* ts_params as plain data: names of its enumerations, the model's defaults (docs/model.md) (read
 * from the schema table), deep copy and release.
 *
 * Not for reading or validating scenario files (scenario.c) nor for describing keys
 * (schema.c). */
#include <stdlib.h>
#include <string.h>

#include "scenario/schema_internal.h"
#include "trustsim/scenario.h"

const char *const ts_strategy_names[TS_STRATEGY_COUNT] = {"trust", "discriminator", "cooperator",
                                                          "defector"};
const char *const ts_norm_names[3] = {"image_scoring", "standing", "stern_judging"};
const char *const ts_observation_names[2] = {"proximity", "flat"};
const char *const ts_mode_names[2] = {"standard", "donation_game"};
const char *const ts_tick_unit_names[3] = {"week", "month", "day"};
const char *const ts_event_type_names[TS_EVENT_COUNT] = {
    "agreement",           "regulator_visit", "regulator_visits", "shock",   "leadership_programme",
    "conflict_resolution", "shared_hub",      "new_leader",       "turnover"};
const char *const ts_design_names[6] = {"none", "grid", "list", "lhs", "sobol", "saltelli"};
const char *const ts_pillar_names[TS_PILLARS] = {"ability", "benevolence", "integrity",
                                                 "predictability"};

/* Out-of-range values give "?" rather than a crash: these names end up in outputs. */
static const char *name_of(const char *const *names, int n, int i)
{
    return i >= 0 && i < n ? names[i] : "?";
}

const char *ts_strategy_name(ts_strategy s)
{
    return name_of(ts_strategy_names, TS_STRATEGY_COUNT, (int)s);
}

const char *ts_norm_name(ts_norm n)
{
    return name_of(ts_norm_names, 3, (int)n);
}

const char *ts_event_type_name(ts_event_type t)
{
    return name_of(ts_event_type_names, TS_EVENT_COUNT, (int)t);
}

const char *ts_tick_unit_name(ts_tick_unit u)
{
    return name_of(ts_tick_unit_names, 3, (int)u);
}

const char *ts_pillar_name(int pillar)
{
    return name_of(ts_pillar_names, TS_PILLARS, pillar);
}

void ts_params_init_defaults(ts_params *p)
{
    memset(p, 0, sizeof *p);
    ts_schema_apply_defaults(ts_schema_root, p);
}

void ts_params_destroy(ts_params *p)
{
    if (!p)
        return;
    free(p->description);
    free(p->archetypes);
    free(p->orgs);
    for (int i = 0; i < p->n_collabs; i++)
        free(p->collabs[i].members);
    free(p->collabs);
    free(p->pairs);
    for (int i = 0; i < p->n_events; i++)
        free(p->events[i].orgs);
    free(p->events);
    for (int i = 0; i < p->sweep.n_params; i++)
        free(p->sweep.params[i].values);
    free(p->sweep.params);
    /* Leave an empty, destroyable value behind so a second destroy is harmless. */
    memset(p, 0, sizeof *p);
}

/* A copy of n elements of `size` bytes; NULL stays NULL. */
static bool dup_array(void **dst, const void *src, int n, size_t size)
{
    *dst = NULL;
    if (!src || n <= 0)
        return true;
    *dst = malloc((size_t)n * size);
    if (!*dst)
        return false;
    memcpy(*dst, src, (size_t)n * size);
    return true;
}

/* The arrays owned by elements of the top-level arrays. Pointers in dst still alias src on
 * entry; each is replaced by its own copy (or NULL, so a failed copy can be destroyed). */
static bool copy_nested(ts_params *dst, const ts_params *src)
{
    bool ok = true;
    for (int i = 0; i < dst->n_collabs; i++) {
        void *m = NULL;
        ok = dup_array(&m, src->collabs[i].members, src->collabs[i].n_members, sizeof(int)) && ok;
        dst->collabs[i].members = m;
    }
    for (int i = 0; i < dst->n_events; i++) {
        void *o = NULL;
        ok = dup_array(&o, src->events[i].orgs, src->events[i].n_orgs, sizeof(int)) && ok;
        dst->events[i].orgs = o;
    }
    for (int i = 0; i < dst->sweep.n_params; i++) {
        void *v = NULL;
        const ts_sweep_param *sp = &src->sweep.params[i];
        ok = dup_array(&v, sp->values, sp->n_values, sizeof(double)) && ok;
        dst->sweep.params[i].values = v;
    }
    return ok;
}

ts_status ts_params_copy(ts_params *dst, const ts_params *src, ts_error *err)
{
    *dst = *src;
    void *arch, *orgs, *collabs, *pairs, *events, *sweep;
    bool ok = dup_array(&arch, src->archetypes, src->n_archetypes, sizeof(ts_archetype));
    ok = dup_array(&orgs, src->orgs, src->n_orgs, sizeof(ts_org_spec)) && ok;
    ok = dup_array(&collabs, src->collabs, src->n_collabs, sizeof(ts_collab_spec)) && ok;
    ok = dup_array(&pairs, src->pairs, src->n_pairs, sizeof(ts_pair_spec)) && ok;
    ok = dup_array(&events, src->events, src->n_events, sizeof(ts_event)) && ok;
    ok = dup_array(&sweep, src->sweep.params, src->sweep.n_params, sizeof(ts_sweep_param)) && ok;
    dst->archetypes = arch;
    dst->orgs = orgs;
    dst->collabs = collabs;
    dst->pairs = pairs;
    dst->events = events;
    dst->sweep.params = sweep;
    /* Counts must match what was allocated before nested arrays are copied or freed. */
    dst->n_collabs = collabs ? src->n_collabs : 0;
    dst->n_events = events ? src->n_events : 0;
    dst->sweep.n_params = sweep ? src->sweep.n_params : 0;
    dst->description = NULL;
    ok = copy_nested(dst, src) && ok;
    if (src->description) {
        dst->description = strdup(src->description);
        ok = dst->description && ok;
    }
    if (!ok) {
        ts_params_destroy(dst);
        return ts_error_set(err, TS_ERUNTIME, "out of memory copying parameters");
    }
    return TS_OK;
}
