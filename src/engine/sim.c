/* The life cycle of a run and the order of a tick (see include/trustsim/sim.h), the top of the
 * engine:
 *   start: seed, draw leaders, reset every module's state, events of tick 0, end of tick 0
 *   tick:  events -> promises due -> conflicts resolved -> meetings and acts -> end of tick
 *          (or, in the donation game: events -> one donation round -> end of tick)
 *   end of tick: trust (beliefs, inter-organisational trust) -> stages -> faith -> metrics
 * What happens inside each step lives in its module (src/engine/state.h lists them); this file
 * only orders them and records what they add up. */
#include "engine/state.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "engine/acts.h"
#include "engine/events.h"
#include "engine/faith.h"
#include "engine/observe.h"
#include "engine/stages.h"
#include "engine/trust.h"
#include "trustsim/rng.h"

/* ---- the end of a tick ------------------------------------------------------------------ */

/* The metrics of docs/model.md 7.20 for this tick, from what the passes added up. */
static void record(ts_sim *s, const ts_tick_sums *ts)
{
    int stride = s->m->ticks + 1;
    double *v = s->series + s->t;
#define PUT(metric, value) v[(size_t)(metric)*stride] = (value)
    double ti = ts->known > 0 ? ts->trust / ts->known : NAN;
    double tg = ts->pairs > 0 ? ts->group / ts->pairs : NAN;
    PUT(TS_M_COOP_RATE, ts_stages_coop_rate(s));
    PUT(TS_M_TRUST_INTERPERSONAL, ti);
    PUT(TS_M_TRUST_INTERORG, ts->pairs > 0 ? ts->to / ts->pairs : NAN);
    PUT(TS_M_TRUST_GROUP, tg);
    PUT(TS_M_CONFIDENCE, ts->pairs > 0 ? ts->confidence / ts->pairs : NAN);
    PUT(TS_M_FAITH, ts->active > 0 ? ts->faith / ts->active : NAN);
    for (int st = 0; st < TS_STAGE_COUNT; st++)
        PUT(TS_M_STAGE0_SHARE + st, ts->upairs > 0 ? (double)ts->stage[st] / ts->upairs : NAN);
    PUT(TS_M_ACTIVE_ORGS, ts->active);
    PUT(TS_M_COLLAB_VALUE, s->collab_value);
    for (int a = 0; a < TS_ACT_COUNT; a++)
        PUT(TS_M_ACTS_FIRST + a, s->acts_tick[a]);
    for (int p = 0; p < TS_PILLARS; p++) {
        double pv = ts->known > 0 ? ts->pillar[p] / ts->known : NAN;
        PUT(TS_M_PERCEIVED_FIRST + p, pv);
        PUT(TS_M_SURVEY_PILLAR_FIRST + p, 1 + 4 * pv);
    }
    PUT(TS_M_SURVEY_INTERINDIVIDUAL, 1 + 4 * ti);
    PUT(TS_M_SURVEY_INTERORG, 1 + 4 * tg);
    if (s->n_metrics > TS_M_PAYOFF_FIRST) /* recorded in the donation game */
        for (int g = 0; g < TS_STRATEGY_COUNT; g++)
            PUT(TS_M_PAYOFF_FIRST + g,
                s->strategy_count[g] > 0 ? s->strategy_payoff[g] / s->strategy_count[g] : NAN);
#undef PUT
}

/* One sweep over beliefs and pairs (trust), unordered pairs (stages) and organisations
 * (faith, exits), recording the metrics; its cost grows with relationships that exist,
 * never with leaders squared. */
/* The least the passes below must move through memory this tick: each belief's counts and
 * prior (48 bytes) and trust (4); each pair's group image, prior and trust, its TO, its
 * indices and accumulators (about 140 bytes, and 8 per accumulator slot); each unordered
 * pair's stage state and window (about 100). */
static uint64_t pass_bytes(const ts_sim *s)
{
    const ts_model *m = s->m;
    uint64_t records = (s->beliefs.count + TS_BELIEF_LANES - 1) / TS_BELIEF_LANES * TS_BELIEF_LANES;
    return 52 * records + 140 * (uint64_t)m->n_pairs + 4 * (uint64_t)m->n_acc +
           8 * (uint64_t)s->beliefs.slot_count + 100 * (uint64_t)m->n_upairs;
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void end_of_tick(ts_sim *s)
{
    double started = seconds_now();
    s->counters.pass_bytes += pass_bytes(s);
    ts_tick_sums sums;
    memset(&sums, 0, sizeof sums);
    ts_trust_update(s, &sums);
    ts_stages_update(s, &sums);
    bool left = ts_faith_update(s, &sums);
    record(s, &sums);
    if (left)
        ts_state_refresh_topology(s);
    memset(s->received, 0, sizeof *s->received * (size_t)s->m->n_orgs);
    memset(s->deliveries_seen, 0, sizeof *s->deliveries_seen * (size_t)s->m->n_orgs);
    ts_stages_advance_windows(s);
    s->counters.pass_seconds += seconds_now() - started;
}

/* ---- run -------------------------------------------------------------------------------- */

ts_status ts_sim_start(ts_sim *s, uint64_t seed, ts_error *err)
{
    const ts_model *m = s->m;
    ts_rng_seed(s->rng, seed);
    ts_state_reset(s);
    for (int x = 0; x < m->n_leaders; x++)
        ts_state_draw_leader(s, x, &m->org_traits[m->leader_org[x]]);
    ts_faith_reset(s);
    ts_trust_reset(s);
    ts_stages_reset(s);
    ts_events_apply(s); /* events at tick 0 shape the initial state */
    ts_state_refresh_topology(s);
    end_of_tick(s);
    return ts_sim_status(s, err);
}

bool ts_sim_step(ts_sim *s)
{
    if (s->t >= s->m->ticks || s->failed != TS_OK)
        return false;
    s->t++;
    memset(s->acts_tick, 0, sizeof s->acts_tick);
    memset(s->strategy_payoff, 0, sizeof s->strategy_payoff);
    ts_events_apply(s);
    switch (s->m->schedule) {
    case TS_SCHEDULE_DONATION_ROUNDS:
        ts_acts_donation_round(s);
        break;
    case TS_SCHEDULE_MEETINGS:
        ts_acts_resolve_promises(s);
        ts_observe_resolve_conflicts(s);
        ts_acts_meetings(s);
        break;
    }
    end_of_tick(s);
    return s->failed == TS_OK;
}

ts_status ts_sim_status(const ts_sim *s, ts_error *err)
{
    if (s->failed == TS_OK)
        return TS_OK;
    return ts_error_set(err, s->failed, "%s", s->failure.msg);
}

void ts_sim_result(ts_sim *s, ts_run_result *res)
{
    const ts_model *m = s->m;
    for (int k = 0; k < m->n_pairs; k++) {
        s->final_to[k] = s->to[m->pair_reverse[k]];
        s->final_stage[k] = s->stage[m->pair_upair[k]];
    }
    res->n_metrics = s->n_metrics;
    res->n_times = m->ticks + 1;
    res->series = s->series;
    res->n_orgs = m->n_orgs;
    res->n_pairs = m->n_pairs;
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
    if ((st = ts_sim_status(s, err)) != TS_OK)
        return st;
    ts_sim_result(s, res);
    return TS_OK;
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
    return ts_trust_current_belief(s, x, y) >= 0;
}

double ts_sim_interorg(const ts_sim *s, int o, int p)
{
    int k = ts_model_pair(s->m, o, p);
    return k < 0 ? NAN : s->to[s->m->pair_reverse[k]];
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
