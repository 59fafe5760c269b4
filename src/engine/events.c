/* Events (docs/model.md 6.2): the scenario's timeline (agreements, regulator visits, shocks,
 * leadership programmes, conflict-resolution bodies, shared hubs, new leaders) and the rate
 * events drawn every tick (random visits, turnover). */
#include "engine/events.h"

#include <math.h>

#include <gsl/gsl_randist.h>

#include "engine/faith.h"

static bool event_touches(const ts_event *e, int o)
{
    if (e->n_orgs == 0)
        return true;
    for (int i = 0; i < e->n_orgs; i++)
        if (e->orgs[i] == o)
            return true;
    return false;
}

static void add_trait_deltas(ts_sim *s, int x, const ts_traits *d)
{
#define SHIFT(field)                                                                               \
    do {                                                                                           \
        if (!isnan(d->field))                                                                      \
            s->field[x] = ts_clamp01(s->field[x] + d->field);                                      \
    } while (0)
    SHIFT(ability);
    SHIFT(benevolence);
    SHIFT(integrity);
    SHIFT(predictability);
    SHIFT(propensity);
    SHIFT(orientation);
#undef SHIFT
    if (!isnan(d->capacity))
        s->capacity[x] = fmax(0, s->capacity[x] + d->capacity);
}

static void apply_event(ts_sim *s, const ts_event *e)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    switch (e->type) {
    case TS_EVENT_AGREEMENT:
        for (int c = 0; c < m->n_collabs; c++)
            if (e->collab < 0 || e->collab == c) {
                s->phi[c] = e->formalisation;
                s->enforcement[c] = e->enforcement;
            }
        break;
    case TS_EVENT_REGULATOR_VISIT:
        for (int o = 0; o < m->n_orgs; o++)
            if (event_touches(e, o))
                s->visit_until[o] = s->t + p->situations.visit_length - 1;
        break;
    case TS_EVENT_SHOCK:
        for (int o = 0; o < m->n_orgs; o++) {
            if (!event_touches(e, o))
                continue;
            ts_faith_shock(s, o, e->faith);
            s->shock_until[o] = s->t + p->situations.visit_length - 1;
            for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
                s->rel[k].competition = ts_clamp01(s->rel[k].competition + e->competition);
                int r = m->pair_reverse[k];
                if (!event_touches(e, m->pair_partner[k])) /* else done from the other side */
                    s->rel[r].competition = ts_clamp01(s->rel[r].competition + e->competition);
            }
        }
        break;
    case TS_EVENT_LEADERSHIP_PROGRAMME:
        for (int o = 0; o < m->n_orgs; o++)
            if (event_touches(e, o))
                for (int j = 0; j < m->org_n_leaders[o]; j++)
                    add_trait_deltas(s, m->org_leader_begin[o] + j, &e->traits);
        break;
    case TS_EVENT_CONFLICT_RESOLUTION:
        for (int c = 0; c < m->n_collabs; c++)
            if (e->collab < 0 || e->collab == c) {
                s->resolution_p[c] = e->probability;
                s->resolution_delay[c] = e->delay;
            }
        break;
    case TS_EVENT_SHARED_HUB:
        for (int o = 0; o < m->n_orgs; o++)
            if (event_touches(e, o))
                for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
                    if (event_touches(e, m->pair_partner[k]))
                        s->rel[k].proximity = ts_clamp01(s->rel[k].proximity + e->proximity);
        ts_state_refresh_topology(s);
        break;
    case TS_EVENT_NEW_LEADER:
        for (int o = 0; o < m->n_orgs; o++)
            if (event_touches(e, o) && e->leader < m->org_n_leaders[o]) {
                ts_traits means;
                means = m->org_traits[o];
                ts_traits_overlay(&means, &e->traits);
                ts_state_replace_leader(s, m->org_leader_begin[o] + e->leader, &means);
            }
        break;
    default:
        break;
    }
}

/* Rate event r (of the model's list), for the organisations it touches, in index order. */
static void apply_rate_event(ts_sim *s, int r)
{
    const ts_model *m = s->m;
    const ts_event *e = &s->p->events[m->rate_events[r]];
    const uint8_t *touched = m->rate_event_orgs + (size_t)r * (size_t)m->n_orgs;
    if (s->t < e->at || (e->until >= 0 && s->t > e->until))
        return;
    for (int o = 0; o < m->n_orgs; o++) {
        if (!touched[o] || !s->active[o])
            continue;
        if (e->type == TS_EVENT_REGULATOR_VISITS) {
            if (gsl_rng_uniform(s->rng) < e->rate)
                s->visit_until[o] = s->t + s->p->situations.visit_length - 1;
        } else { /* turnover: each leader is replaced with probability rate */
            int n = m->org_n_leaders[o];
            unsigned k = gsl_ran_binomial(s->rng, e->rate, (unsigned)n);
            if (k == 0)
                continue;
            /* k distinct slots, in slot order (GSL's selection sampling) */
            int *all = s->org_scratch_int, *slots = all + n;
            for (int j = 0; j < n; j++)
                all[j] = m->org_leader_begin[o] + j;
            gsl_ran_choose(s->rng, slots, k, all, (size_t)n, sizeof *slots);
            for (unsigned i = 0; i < k; i++)
                ts_state_replace_leader(s, slots[i], &m->org_traits[o]);
        }
    }
}

void ts_events_apply(ts_sim *s)
{
    const ts_model *m = s->m;
    while (s->next_event < m->n_scheduled) {
        const ts_event *e = &s->p->events[m->event_order[s->next_event]];
        if (e->at > s->t)
            break;
        apply_event(s, e);
        s->next_event++;
    }
    if (s->t > 0)
        for (int r = 0; r < m->n_rate_events; r++)
            apply_rate_event(s, r);
}
