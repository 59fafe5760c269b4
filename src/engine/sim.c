/* The life cycle of a run and the order of a tick (see include/trustsim/sim.h):
 * workspace allocation, drawing leaders, the timeline of events, and the tick sequence
 *   events -> promises due -> conflict resolutions due -> meetings and acts -> end of tick.
 * What happens inside each step lives in acts.c, observe.c and update.c. */
#include "engine/sim_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "trustsim/rng.h"

#define ALLOC(ptr, n) (((ptr) = calloc((n) > 0 ? (size_t)(n) : 1, sizeof *(ptr))) == NULL)

ts_sim *ts_sim_alloc(const ts_model *m)
{
    ts_sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->p = m->params;
    s->n_metrics = ts_metric_count(m->mode);
    int nl = m->n_leaders, no = m->n_orgs, np = m->n_pairs, nu = m->n_upairs;
    int nc = m->n_collabs, w = s->p->stages.window;
    int max_collab = 1, max_org_leaders = 1;
    for (int o = 0; o < no; o++)
        max_org_leaders =
            m->org_n_leaders[o] > max_org_leaders ? m->org_n_leaders[o] : max_org_leaders;
    for (int c = 0; c < nc; c++) {
        int k = m->collab_leader_begin[c + 1] - m->collab_leader_begin[c];
        max_collab = k > max_collab ? k : max_collab;
    }
    bool fail = !(s->rng = ts_rng_alloc());
    fail = fail || ALLOC(s->ability, nl) || ALLOC(s->benevolence, nl) || ALLOC(s->integrity, nl) ||
           ALLOC(s->predictability, nl) || ALLOC(s->propensity, nl) || ALLOC(s->orientation, nl) ||
           ALLOC(s->capacity, nl) || ALLOC(s->strategy, nl) || ALLOC(s->gen, nl) ||
           ALLOC(s->act_seq, nl) || ALLOC(s->stamp, nl);
    fail = fail || ALLOC(s->active, no) || ALLOC(s->faith, no) || ALLOC(s->faith0, no) ||
           ALLOC(s->faith_pos, no) || ALLOC(s->faith_neg, no) || ALLOC(s->low_faith_ticks, no) ||
           ALLOC(s->visit_until, no) || ALLOC(s->shock_until, no) || ALLOC(s->received, no) ||
           ALLOC(s->deliveries_seen, no) || ALLOC(s->mean_proximity, no) ||
           ALLOC(s->partner_total, no) || ALLOC(s->org_scratch, no) ||
           ALLOC(s->org_scratch_int, 2 * max_org_leaders);
    fail = fail || ALLOC(s->rel, np) || ALLOC(s->partner_cum, np) ||
           ALLOC(s->g_pos, (size_t)np * TS_PILLARS) || ALLOC(s->g_neg, (size_t)np * TS_PILLARS) ||
           ALLOC(s->g_prior, np) || ALLOC(s->to, np) || ALLOC(s->group_t, np) ||
           ALLOC(s->acc_sum, m->n_acc);
    fail = fail || ALLOC(s->stage, nu) || ALLOC(s->trust_ticks, nu) ||
           ALLOC(s->win_coop, (size_t)nu * w) || ALLOC(s->win_all, (size_t)nu * w) ||
           ALLOC(s->sum_coop, nu) || ALLOC(s->sum_all, nu);
    fail = fail || ALLOC(s->phi, nc) || ALLOC(s->enforcement, nc) || ALLOC(s->resolution_p, nc) ||
           ALLOC(s->resolution_delay, nc) || ALLOC(s->active_leaders, nc) ||
           ALLOC(s->complexity, nc) || ALLOC(s->attention_factor, nc);
    fail = fail || ALLOC(s->win_c, w) || ALLOC(s->win_n, w) || ALLOC(s->candidates, max_collab);
    fail = fail || ALLOC(s->series, (size_t)s->n_metrics * (m->ticks + 1)) ||
           ALLOC(s->final_to, (size_t)no * no) || ALLOC(s->final_stage, (size_t)no * no);
    size_t expected = m->belief_bound < (size_t)nl * 64 ? m->belief_bound : (size_t)nl * 64;
    fail = fail || ts_beliefs_init(&s->beliefs, expected, (size_t)nl, (size_t)m->n_acc) != 0;
    s->cap_promises = 1024;
    s->cap_resolutions = 1024;
    fail = fail || ALLOC(s->promises, s->cap_promises) || ALLOC(s->resolutions, s->cap_resolutions);
    if (fail) {
        ts_sim_free(s);
        return NULL;
    }
    return s;
}

void ts_sim_free(ts_sim *s)
{
    if (!s)
        return;
    gsl_rng_free(s->rng);
    free(s->ability), free(s->benevolence), free(s->integrity), free(s->predictability);
    free(s->propensity), free(s->orientation), free(s->capacity), free(s->strategy);
    free(s->gen), free(s->act_seq), free(s->stamp);
    free(s->active), free(s->faith), free(s->faith0), free(s->faith_pos), free(s->faith_neg);
    free(s->low_faith_ticks), free(s->visit_until), free(s->shock_until), free(s->received);
    free(s->deliveries_seen), free(s->mean_proximity), free(s->partner_total);
    free(s->org_scratch), free(s->org_scratch_int);
    free(s->rel), free(s->partner_cum), free(s->g_pos), free(s->g_neg), free(s->g_prior);
    free(s->to), free(s->group_t), free(s->acc_sum);
    free(s->stage), free(s->trust_ticks), free(s->win_coop), free(s->win_all);
    free(s->sum_coop), free(s->sum_all);
    free(s->phi), free(s->enforcement), free(s->resolution_p), free(s->resolution_delay);
    free(s->active_leaders), free(s->complexity), free(s->attention_factor);
    free(s->win_c), free(s->win_n), free(s->candidates);
    free(s->series), free(s->final_to), free(s->final_stage);
    free(s->promises), free(s->resolutions);
    ts_beliefs_destroy(&s->beliefs);
    free(s);
}

/* ---- leaders ---------------------------------------------------------------------------- */

/* A trait drawn from Beta(mean * conc, (1 - mean) * conc); a mean of 0 or 1 is a point mass. */
static double draw_trait(gsl_rng *r, double mean, double conc)
{
    if (mean <= 0 || mean >= 1)
        return ts_clamp01(mean);
    return gsl_ran_beta(r, mean * conc, (1 - mean) * conc);
}

static void draw_leader(ts_sim *s, int x, const ts_traits *tr)
{
    double c = tr->concentration;
    s->ability[x] = draw_trait(s->rng, tr->ability, c);
    s->benevolence[x] = draw_trait(s->rng, tr->benevolence, c);
    s->integrity[x] = draw_trait(s->rng, tr->integrity, c);
    s->predictability[x] = draw_trait(s->rng, tr->predictability, c);
    s->propensity[x] = draw_trait(s->rng, tr->propensity, c);
    s->orientation[x] = draw_trait(s->rng, tr->orientation, c);
    s->capacity[x] = tr->capacity;
    s->strategy[x] = (int8_t)(tr->strategy >= 0 ? tr->strategy : TS_STRATEGY_TRUST);
    s->strategy_count[s->strategy[x]]++;
}

/* A new person takes slot x: new traits, and every belief by or about the slot goes stale
 * (the generation changes), so partners meet a stranger again. */
void ts_sim_replace_leader(ts_sim *s, int x, const ts_traits *means)
{
    s->strategy_count[s->strategy[x]]--;
    s->gen[x]++;
    ts_beliefs_retire_leader(&s->beliefs, (uint32_t)x);
    s->act_seq[x] = 0;
    draw_leader(s, x, means);
}

/* ---- derived state refreshed when organisations leave or proximity changes ------------- */

void ts_sim_refresh_topology(ts_sim *s)
{
    const ts_model *m = s->m;
    for (int o = 0; o < m->n_orgs; o++) {
        double cum = 0, prox = 0;
        int partners = 0;
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            int q = m->pair_partner[k];
            if (s->active[q]) {
                cum += s->rel[k].proximity * m->org_n_leaders[q];
                prox += s->rel[k].proximity;
                partners++;
            }
            s->partner_cum[k] = cum;
        }
        s->partner_total[o] = cum;
        s->mean_proximity[o] = partners > 0 ? prox / partners : 0;
    }
    double *sizes = s->org_scratch;
    for (int c = 0; c < m->n_collabs; c++) {
        int n = 0, leaders = 0;
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
            int o = m->collab_orgs[k];
            if (s->active[o]) {
                sizes[n++] = m->org_size[o];
                leaders += m->org_n_leaders[o];
            }
        }
        double cv = 0;
        if (n >= 2) {
            double mean = gsl_stats_mean(sizes, 1, (size_t)n);
            cv = mean > 0 ? gsl_stats_sd_m(sizes, 1, (size_t)n, mean) / mean : 0;
        }
        s->complexity[c] = log(1.0 + n) * (1.0 + cv);
        s->active_leaders[c] = leaders;
        double att = s->p->reciprocity.attention;
        s->attention_factor[c] = leaders > 2 ? fmin(1.0, att / (leaders - 2)) : 1.0;
    }
}

/* ---- events ----------------------------------------------------------------------------- */

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

static void org_traits_with(const ts_sim *s, int o, const ts_traits *over, ts_traits *out)
{
    *out = s->m->org_traits[o];
#define OVER(field)                                                                                \
    do {                                                                                           \
        if (!isnan(over->field))                                                                   \
            out->field = over->field;                                                              \
    } while (0)
    OVER(ability);
    OVER(benevolence);
    OVER(integrity);
    OVER(predictability);
    OVER(propensity);
    OVER(orientation);
    OVER(capacity);
    OVER(concentration);
#undef OVER
    if (over->strategy >= 0)
        out->strategy = over->strategy;
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
            s->faith_neg[o] += p->faith.shock_weight * e->faith;
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
        ts_sim_refresh_topology(s);
        break;
    case TS_EVENT_NEW_LEADER:
        for (int o = 0; o < m->n_orgs; o++)
            if (event_touches(e, o) && e->leader < m->org_n_leaders[o]) {
                ts_traits means;
                org_traits_with(s, o, &e->traits, &means);
                ts_sim_replace_leader(s, m->org_leader_begin[o] + e->leader, &means);
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
                ts_sim_replace_leader(s, slots[i], &m->org_traits[o]);
        }
    }
}

static void apply_events(ts_sim *s)
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

/* ---- run -------------------------------------------------------------------------------- */

static void init_orgs(ts_sim *s)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    for (int o = 0; o < m->n_orgs; o++) {
        s->active[o] = 1;
        double threat = 0;
        for (int c = 0; c < m->n_collabs; c++) {
            if (m->mode == TS_MODE_DONATION_GAME || !p->collabs[c].mandated)
                continue;
            double max_size = 0;
            bool member = false;
            for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
                max_size = fmax(max_size, m->org_size[m->collab_orgs[k]]);
                member = member || m->collab_orgs[k] == o;
            }
            if (member)
                threat = fmax(threat, p->faith.threat * fmax(0, 1 - m->org_size[o] / max_size));
        }
        s->faith0[o] = ts_clamp01(p->faith.initial - threat);
        s->faith[o] = s->faith0[o];
        s->faith_pos[o] = s->faith_neg[o] = 0;
        s->low_faith_ticks[o] = 0;
        s->visit_until[o] = s->shock_until[o] = -1;
        s->received[o] = s->deliveries_seen[o] = 0;
    }
    for (int c = 0; c < m->n_collabs; c++) {
        bool dg = m->mode == TS_MODE_DONATION_GAME;
        s->phi[c] = dg ? 0 : p->collabs[c].formalisation;
        s->enforcement[c] = dg ? 0 : p->collabs[c].enforcement;
        s->resolution_p[c] = 0;
        s->resolution_delay[c] = 1;
    }
}

static void init_pairs(ts_sim *s)
{
    const ts_model *m = s->m;
    memcpy(s->rel, m->pair_relation, sizeof *s->rel * (size_t)m->n_pairs);
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            double r = m->org_reputation[m->pair_partner[k]];
            s->g_prior[k] = ts_clamp01(r + 0.3 * s->rel[k].history);
        }
    size_t n4 = (size_t)m->n_pairs * TS_PILLARS;
    s->g_unit = 1.0;
    memset(s->g_pos, 0, n4 * sizeof *s->g_pos);
    memset(s->g_neg, 0, n4 * sizeof *s->g_neg);
    memset(s->acc_sum, 0, sizeof *s->acc_sum * (size_t)m->n_acc);
    int w = s->p->stages.window;
    memset(s->stage, 0, (size_t)m->n_upairs);
    memset(s->trust_ticks, 0, sizeof *s->trust_ticks * (size_t)m->n_upairs);
    memset(s->win_coop, 0, sizeof *s->win_coop * (size_t)m->n_upairs * w);
    memset(s->win_all, 0, sizeof *s->win_all * (size_t)m->n_upairs * w);
    memset(s->sum_coop, 0, sizeof *s->sum_coop * (size_t)m->n_upairs);
    memset(s->sum_all, 0, sizeof *s->sum_all * (size_t)m->n_upairs);
    memset(s->win_c, 0, sizeof *s->win_c * w);
    memset(s->win_n, 0, sizeof *s->win_n * w);
}

ts_status ts_sim_start(ts_sim *s, uint64_t seed, ts_error *err)
{
    (void)err;
    const ts_model *m = s->m;
    ts_rng_seed(s->rng, seed);
    s->t = 0;
    s->next_event = 0;
    s->sum_c = s->sum_n = 0;
    s->collab_value = 0;
    s->n_promises = s->n_resolutions = 0;
    memset(&s->counters, 0, sizeof s->counters);
    memset(s->acts_tick, 0, sizeof s->acts_tick);
    memset(s->strategy_count, 0, sizeof s->strategy_count);
    memset(s->strategy_payoff, 0, sizeof s->strategy_payoff);
    ts_beliefs_clear(&s->beliefs);
    s->queue_grows = 0;
    for (int x = 0; x < m->n_leaders; x++) {
        s->gen[x] = 0;
        s->act_seq[x] = 0;
        s->stamp[x] = 0;
        draw_leader(s, x, &m->org_traits[m->leader_org[x]]);
    }
    s->stamp_gen = 0;
    init_orgs(s);
    init_pairs(s);
    apply_events(s); /* events at tick 0 shape the initial state */
    ts_sim_refresh_topology(s);
    ts_update_end_of_tick(s);
    return TS_OK;
}

bool ts_sim_step(ts_sim *s)
{
    if (s->t >= s->m->ticks)
        return false;
    s->t++;
    memset(s->acts_tick, 0, sizeof s->acts_tick);
    memset(s->strategy_payoff, 0, sizeof s->strategy_payoff);
    apply_events(s);
    if (s->m->mode == TS_MODE_DONATION_GAME) {
        ts_acts_donation_round(s);
    } else {
        ts_acts_resolve_promises(s);
        ts_observe_resolve_conflicts(s);
        ts_acts_meetings(s);
    }
    ts_update_end_of_tick(s);
    return true;
}

void ts_sim_result(ts_sim *s, ts_run_result *res)
{
    const ts_model *m = s->m;
    int n = m->n_orgs;
    for (int i = 0; i < n * n; i++) {
        s->final_to[i] = NAN;
        s->final_stage[i] = -1;
    }
    for (int o = 0; o < n; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            int q = m->pair_partner[k];
            s->final_to[o * n + q] = s->to[k];
            s->final_stage[o * n + q] = s->stage[m->pair_upair[k]];
        }
    res->n_metrics = s->n_metrics;
    res->n_times = m->ticks + 1;
    res->series = s->series;
    res->n_orgs = n;
    res->trust_interorg = s->final_to;
    res->stage = s->final_stage;
    res->faith = s->faith;
    res->active = s->active;
}

ts_status ts_sim_run(ts_sim *s, uint64_t seed, ts_run_result *res, ts_error *err)
{
    ts_status st = ts_sim_start(s, seed, err);
    if (st != TS_OK)
        return st;
    while (ts_sim_step(s)) {
    }
    ts_sim_result(s, res);
    return TS_OK;
}

/* ---- growable queues (grow rarely; the workspace keeps the memory across runs) ---------- */

int ts_sim_push_promise(ts_sim *s, const ts_promise *pr)
{
    if (s->n_promises == s->cap_promises) {
        ts_promise *q = realloc(s->promises, 2 * s->cap_promises * sizeof *q);
        if (!q)
            return -1;
        s->promises = q;
        s->cap_promises *= 2;
        s->queue_grows++;
    }
    s->promises[s->n_promises++] = *pr;
    return 0;
}

int ts_sim_push_resolution(ts_sim *s, const ts_resolution *r)
{
    if (s->n_resolutions == s->cap_resolutions) {
        ts_resolution *q = realloc(s->resolutions, 2 * s->cap_resolutions * sizeof *q);
        if (!q)
            return -1;
        s->resolutions = q;
        s->cap_resolutions *= 2;
        s->queue_grows++;
    }
    s->resolutions[s->n_resolutions++] = *r;
    return 0;
}

/* ---- read-only views -------------------------------------------------------------------- */

int ts_sim_tick(const ts_sim *s)
{
    return s->t;
}

double ts_sim_trust(const ts_sim *s, int x, int y)
{
    int k = ts_model_pair(s->m, s->m->leader_org[x], s->m->leader_org[y]);
    return k < 0 ? NAN : ts_trust_of(s, x, y, k);
}

bool ts_sim_knows(const ts_sim *s, int x, int y)
{
    return ts_current_belief(s, x, y) >= 0;
}

double ts_sim_interorg(const ts_sim *s, int o, int p)
{
    int k = ts_model_pair(s->m, o, p);
    return k < 0 ? NAN : s->to[k];
}

int ts_sim_stage(const ts_sim *s, int o, int p)
{
    int k = ts_model_pair(s->m, o, p);
    return k < 0 ? -1 : s->stage[s->m->pair_upair[k]];
}

double ts_sim_faith(const ts_sim *s, int o)
{
    return s->faith[o];
}

bool ts_sim_active(const ts_sim *s, int o)
{
    return s->active[o] != 0;
}

double ts_sim_metric(const ts_sim *s, int metric)
{
    if (metric < 0 || metric >= s->n_metrics)
        return NAN;
    return s->series[(size_t)metric * (s->m->ticks + 1) + s->t];
}

ts_sim_counters ts_sim_get_counters(const ts_sim *s)
{
    ts_sim_counters c = s->counters;
    c.beliefs = s->beliefs.count;
    c.belief_bytes = ts_beliefs_bytes(&s->beliefs);
    c.grows = s->beliefs.grows + s->queue_grows;
    return c;
}
