/* The ten behaviours of docs/model.md section 1.2, each tested as a claim about distributions over
 * replicates. A scenario and its counterfactual differ only in the lever; each runs REPS
 * replicates (200; more where the outcome is a rare event; a few, not judged, in the sanitizer
 * build) with the fixed seeds
 * ts_seed_hash(master, variant, replicate); a test passes only when the 95% Welch interval of
 * the difference of means of its outcome lies on the side of zero the behaviour states. Every
 * comparison prints one line, "# behaviour N: <outcome>: diff = x [lo, hi] (means a vs b)",
 * where diff is the mean of the variant with the lever minus that of the counterfactual, as
 * the line names them.
 *
 * Scenarios are small (two to nine organisations) and horizons short where that suffices.
 * Two tests (3 and 10) need exactly one act of a given kind at a given moment, which no
 * scenario lever can produce (acts come from Poisson meetings and logit choices); they perform
 * that one act through the engine's own observation step (ts_observe_act,
 * src/engine/observe.h), the call the engine makes for every act a leader takes, and let the
 * model run on from there. That act is judged and turned into evidence like any other; it is not
 * booked as a payoff nor counted in the act tallies. */
#include "support.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

#include "engine/observe.h" /* ts_observe_act: one act, for behaviours 3 and 10 */

/* Replicates per variant: 200 at full power, in the optimised build. The sanitizer build
 * (TS_BEHAVIOUR_QUICK) runs every scenario on a few replicates for its memory and
 * undefined-behaviour checks alone: too few for the statistics, which it prints but does not
 * judge. */
#ifdef TS_BEHAVIOUR_QUICK
enum { REPS = 4, REPS_EXITS = 4 };
static const bool judged = false;
#else
/* Exits are rare events (a quarter to a half of an organisation per run, standard deviation
 * up to about 0.9), so 200 replicates would leave an interval of about +-0.18 around a
 * difference of about 0.25; 600 make it about +-0.1. */
enum { REPS = 200, REPS_EXITS = 600 };
static const bool judged = true;
#endif

#define TS_STR_(x) #x
#define TS_STR(x) TS_STR_(x)

/* ---- worlds and replicates -------------------------------------------------------------- */

/* One replicate: run the world from `seed` and write the outcomes into out[0 .. n_out-1]. */
typedef void (*outcome_fn)(world *w, uint64_t seed, double *out);

/* The outcomes of `reps` replicates of one variant: out[k * reps + r] is outcome k of
 * replicate r, seeded by ts_seed_hash(master, variant, r). */
static double *run_variant(const char *yaml, const char *const *sets, uint64_t master,
                           uint64_t variant, int reps, int n_out, outcome_fn fn)
{
    world w;
    world_open(&w, yaml, "behaviour.yaml", sets);
    double *out = malloc((size_t)n_out * reps * sizeof *out);
    double *one = malloc((size_t)n_out * sizeof *one);
    assert_non_null(out);
    assert_non_null(one);
    for (int r = 0; r < reps; r++) {
        fn(&w, ts_seed_hash(master, variant, (uint64_t)r), one);
        for (int k = 0; k < n_out; k++) {
            if (isnan(one[k]))
                fail_msg("outcome %d of replicate %d is undefined", k, r);
            out[(size_t)k * reps + r] = one[k];
        }
    }
    free(one);
    world_close(&w);
    return out;
}

static void start(world *w, uint64_t seed)
{
    ts_error err;
    assert_int_equal(ts_sim_start(w->s, seed, &err), TS_OK);
}

/* Step until the end of tick t. */
static void step_to(world *w, int t)
{
    while (ts_sim_tick(w->s) < t)
        assert_true(ts_sim_step(w->s));
}

static const double *series(const ts_run_result *r, int metric)
{
    return r->series + (size_t)metric * r->n_times;
}

static void run_all(world *w, uint64_t seed, ts_run_result *r)
{
    ts_error err;
    assert_int_equal(ts_sim_run(w->s, seed, r, &err), TS_OK);
}

/* First tick at which the share of pairs at stage 2 or above is positive, censored at the
 * horizon + 1 (so its mean over replicates is a restricted mean). */
static double first_stage2(const ts_run_result *r)
{
    const double *s2 = series(r, TS_M_STAGE2_SHARE), *s3 = series(r, TS_M_STAGE3_SHARE);
    for (int t = 0; t < r->n_times; t++)
        if (s2[t] + s3[t] > 0)
            return t;
    return r->n_times;
}

static int org_index(const world *w, const char *id)
{
    for (int o = 0; o < w->sc.params.n_orgs; o++)
        if (strcmp(w->sc.params.orgs[o].id, id) == 0)
            return o;
    fail_msg("no organisation %s", id);
    return -1;
}

/* ---- statistics ------------------------------------------------------------------------- */

typedef struct interval {
    double diff, lo, hi;   /* difference of means and its 95% Welch interval */
    double mean_a, mean_b; /* the two means */
} interval;

/* mean(a) - mean(b) with Welch's 95% interval (Welch-Satterthwaite degrees of freedom). */
static interval welch(const double *a, int na, const double *b, int nb)
{
    interval c;
    c.mean_a = gsl_stats_mean(a, 1, (size_t)na);
    c.mean_b = gsl_stats_mean(b, 1, (size_t)nb);
    double va = gsl_stats_variance_m(a, 1, (size_t)na, c.mean_a) / na;
    double vb = gsl_stats_variance_m(b, 1, (size_t)nb, c.mean_b) / nb;
    double se = sqrt(va + vb);
    c.diff = c.lo = c.hi = c.mean_a - c.mean_b;
    if (se > 0) {
        double df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
        double t = gsl_cdf_tdist_Pinv(0.975, df);
        c.lo = c.diff - t * se;
        c.hi = c.diff + t * se;
    }
    return c;
}

static interval compare(int behaviour, const char *what, const double *a, const double *b, int reps)
{
    interval c = welch(a, reps, b, reps);
    printf("# behaviour %d: %s: diff = %.4f [%.4f, %.4f] (means %.4f vs %.4f)\n", behaviour, what,
           c.diff, c.lo, c.hi, c.mean_a, c.mean_b);
    fflush(stdout);
    return c;
}

static void expect_positive(interval c)
{
    if (judged)
        assert_true(c.lo > 0);
}

static void expect_negative(interval c)
{
    if (judged)
        assert_true(c.hi < 0);
}

/* Both outcomes of every run (first and second, each reps values) of a variant against a
 * reference, each with the sign expected of the difference (+1 or -1). */
static void expect_both(int behaviour, const double *variant, const double *reference, int reps,
                        int sign_first, const char *first, int sign_second, const char *second)
{
    interval a = compare(behaviour, first, variant, reference, reps);
    interval b = compare(behaviour, second, variant + reps, reference + reps, reps);
    if (sign_first > 0)
        expect_positive(a);
    else
        expect_negative(a);
    if (sign_second > 0)
        expect_positive(b);
    else
        expect_negative(b);
}

/* ---- 1: competition delays stage 2 and lowers inter-organisational trust ---------------- */

/* Two organisations of three leaders, nothing else special; the lever is their competition
 * k_op (0.5 against 0). */
static const char *const pair_yaml = "name: pair\n"
                                     "ticks: 260\n"
                                     "organisations:\n"
                                     "  - {id: a, kind: acute_trust, leaders: 3}\n"
                                     "  - {id: b, kind: community_trust, leaders: 3}\n";

static const int trust_horizons[] = {13, 52, 104, 260};
enum { N_HORIZONS = sizeof trust_horizons / sizeof *trust_horizons };

static void stage2_and_trust(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    out[0] = first_stage2(&r);
    for (int h = 0; h < N_HORIZONS; h++)
        out[1 + h] = series(&r, TS_M_TRUST_INTERORG)[trust_horizons[h]];
}

static void competition_delays_stage_2_and_lowers_trust_at_every_horizon(void **state)
{
    (void)state;
    const char *const rivals[] = {"relations.default.competition=0.5", NULL};
    int n = 1 + N_HORIZONS;
    double *with = run_variant(pair_yaml, rivals, 1, 1, REPS, n, stage2_and_trust);
    double *without = run_variant(pair_yaml, NULL, 1, 0, REPS, n, stage2_and_trust);
    interval delay = compare(1, "ticks to first reach stage 2 (censored at 261), rivals - none",
                             with, without, REPS);
    expect_positive(delay);
    for (int h = 0; h < N_HORIZONS; h++) {
        char what[96];
        snprintf(what, sizeof what, "trust_interorg at tick %d, rivals - none", trust_horizons[h]);
        expect_negative(compare(1, what, with + (size_t)(1 + h) * REPS,
                                without + (size_t)(1 + h) * REPS, REPS));
    }
    free(with);
    free(without);
}

/* ---- 2: help during a partner's regulator visit beats routine coordination ------------- */

/* The helper's leaders are cooperators (docs/model.md 7.1), so in both variants every act is the
 * cooperative option of its situation; the visited organisation's leaders initiate no
 * meetings (capacity 0), so every belief formed in the run is the visited organisation's view
 * of the helper. The helper's leaders meet twice as often as by default (capacity 2), so that
 * the visited organisation has seen something of them by the end of the visit in every
 * replicate (perceived benevolence is a mean over beliefs formed from evidence, undefined
 * before any). The lever is one regulator visit to the partner at tick 1 (ticks 1-4), which
 * turns half of the situations into a partner in need (help) instead of routine coordination,
 * promises and the like. */
#define VISIT_BASE                                                                                 \
    "name: visit\n"                                                                                \
    "ticks: 8\n"                                                                                   \
    "organisations:\n"                                                                             \
    "  - {id: helper, kind: acute_trust, leaders: 4,\n"                                            \
    "     traits: {strategy: cooperator, capacity: 2}}\n"                                          \
    "  - {id: visited, kind: community_trust, leaders: 3, traits: {capacity: 0}}\n"                \
    "relations: {default: {proximity: 1.0}}\n"
static const char *const routine_yaml = VISIT_BASE;
static const char *const visit_yaml =
    VISIT_BASE "events:\n  - {at: 1, type: regulator_visit, organisations: [visited]}\n";

static void benevolence_and_trust(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    out[0] = series(&r, TS_M_PERCEIVED_FIRST + TS_BENEVOLENCE)[4];
    out[1] = series(&r, TS_M_TRUST_INTERORG)[4];
    out[2] = series(&r, TS_M_PERCEIVED_FIRST + TS_BENEVOLENCE)[8];
    out[3] = series(&r, TS_M_TRUST_INTERORG)[8];
}

static void
help_during_a_regulator_visit_raises_benevolence_and_trust_more_than_routine(void **state)
{
    (void)state;
    double *help = run_variant(visit_yaml, NULL, 2, 1, REPS, 4, benevolence_and_trust);
    double *routine = run_variant(routine_yaml, NULL, 2, 0, REPS, 4, benevolence_and_trust);
    const char *what[] = {
        "helper's perceived benevolence at the end of the visit (tick 4), visit - routine",
        "pair's trust_interorg at the end of the visit (tick 4), visit - routine",
        "helper's perceived benevolence four ticks later (tick 8), visit - routine",
        "pair's trust_interorg four ticks later (tick 8), visit - routine"};
    for (int k = 0; k < 4; k++)
        expect_positive(
            compare(2, what[k], help + (size_t)k * REPS, routine + (size_t)k * REPS, REPS));
    free(help);
    free(routine);
}

/* ---- one act at a chosen moment (behaviours 3 and 10) ----------------------------------- */

/* Two organisations of two leaders, close to each other, building trust for a year; then
 * leader x (the first of a) performs one act towards leader y (the first of b) and the model
 * runs on. Competition is 0, so no deception or broken promise happens on its own, and every
 * deception is detected (reciprocity.detect 1), so "one detected deception" is exactly one. */
#define ONE_ACT_AT 52
#define ONE_ACT_YAML(events)                                                                       \
    "name: one_act\n"                                                                              \
    "ticks: 156\n"                                                                                 \
    "organisations:\n"                                                                             \
    "  - {id: a, kind: acute_trust, leaders: 2}\n"                                                 \
    "  - {id: b, kind: community_trust, leaders: 2}\n"                                             \
    "relations: {default: {proximity: 1.0}}\n"                                                     \
    "reciprocity: {detect: 1.0}\n" events

/* The trust of the victim y in the actor x that the act costs at once, and the ticks until
 * y's trust in x is back at its level just before the act (censored at the horizon: 105 means
 * not within the 104 ticks left). */
static void one_act(world *w, uint64_t seed, ts_act act, double *out)
{
    const ts_model *m = w->m;
    int a = org_index(w, "a"), b = org_index(w, "b");
    int x = m->org_leader_begin[a], y = m->org_leader_begin[b];
    start(w, seed);
    step_to(w, ONE_ACT_AT);
    double before = ts_sim_trust(w->s, y, x);
    ts_observe_act(w->s, x, y, ts_model_pair(m, a, b), act, false);
    out[0] = before - ts_sim_trust(w->s, y, x);
    int back = m->ticks - ONE_ACT_AT + 1;
    while (ts_sim_step(w->s))
        if (ts_sim_trust(w->s, y, x) >= before) {
            back = ts_sim_tick(w->s) - ONE_ACT_AT;
            break;
        }
    out[1] = back;
}

static void one_deception(world *w, uint64_t seed, double *out)
{
    one_act(w, seed, TS_ACT_DECEIVE, out);
}

static void one_failure(world *w, uint64_t seed, double *out)
{
    one_act(w, seed, TS_ACT_FAIL, out);
}

static void one_break(world *w, uint64_t seed, double *out)
{
    one_act(w, seed, TS_ACT_BREAK, out);
}

/* ---- 3: a detected deception costs more trust, for longer, than a good-faith failure ---- */

static void one_deception_costs_more_trust_for_longer_than_one_good_faith_failure(void **state)
{
    (void)state;
    const char *yaml = ONE_ACT_YAML("");
    double *dec = run_variant(yaml, NULL, 3, 1, REPS, 2, one_deception);
    double *fail = run_variant(yaml, NULL, 3, 0, REPS, 2, one_failure);
    expect_positive(
        compare(3, "victim's trust lost at once, deception - failure", dec, fail, REPS));
    expect_positive(compare(3,
                            "ticks until the victim's trust is back (censored at 105), "
                            "deception - failure",
                            dec + REPS, fail + REPS, REPS));
    free(dec);
    free(fail);
}

/* ---- 4: formalisation raises cooperation and confidence more than trust ---------------- */

/* Four organisations of three leaders in one collaboration whose agreement has formalisation
 * 0 (none), 0.5 (moderate) or 1 (full), enforcement 0.5, from tick 0; outcomes after three
 * years. Crowding-out discounts positive benevolence and integrity evidence, which comes
 * mostly from sharing information, a stage-2 act: in the first year, before many pairs reach
 * stage 2, full and moderate formalisation give the same trust (at tick 52 their difference
 * is indistinguishable from zero), and the gap opens as pairs move up. */
static const char *const agreement_yaml =
    "name: agreement\n"
    "ticks: 156\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 3}\n"
    "  - {id: b, kind: community_trust, leaders: 3}\n"
    "  - {id: c, kind: gp_federation, leaders: 3}\n"
    "  - {id: d, kind: council, leaders: 3}\n"
    "collaborations:\n"
    "  - {id: all, members: [a, b, c, d], agreement: {formalisation: 0.0, enforcement: 0.5}}\n";

enum { F_COOP, F_CONF, F_TRUST, F_COOP_MINUS_TRUST, F_CONF_MINUS_TRUST, F_TRUST_PER_ACT, F_N };

static void formalisation_outcomes(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    int h = r.n_times - 1;
    double coop_acts = 0;
    for (int a = 0; a < TS_ACT_COUNT; a++)
        if (ts_act_is_cooperative((ts_act)a))
            for (int t = 1; t <= h; t++)
                coop_acts += series(&r, TS_M_ACTS_FIRST + a)[t];
    const double *trust = series(&r, TS_M_TRUST_INTERORG);
    out[F_COOP] = series(&r, TS_M_COOP_RATE)[h];
    out[F_CONF] = series(&r, TS_M_CONFIDENCE)[h];
    out[F_TRUST] = trust[h];
    out[F_COOP_MINUS_TRUST] = out[F_COOP] - out[F_TRUST];
    out[F_CONF_MINUS_TRUST] = out[F_CONF] - out[F_TRUST];
    out[F_TRUST_PER_ACT] = 1000 * (trust[h] - trust[0]) / coop_acts;
}

static void formalisation_raises_cooperation_more_than_trust_and_crowds_trust_out(void **state)
{
    (void)state;
    const char *const moderate_set[] = {"collaborations.all.agreement.formalisation=0.5", NULL};
    const char *const full_set[] = {"collaborations.all.agreement.formalisation=1", NULL};
    double *none = run_variant(agreement_yaml, NULL, 4, 0, REPS, F_N, formalisation_outcomes);
    double *moderate =
        run_variant(agreement_yaml, moderate_set, 4, 1, REPS, F_N, formalisation_outcomes);
    double *full = run_variant(agreement_yaml, full_set, 4, 2, REPS, F_N, formalisation_outcomes);
#define OUT(v, k) ((v) + (size_t)(k)*REPS)
    /* formalisation raises cooperation and confidence, and each by more than it raises trust */
    expect_positive(compare(4, "coop_rate at tick 156, moderate - none", OUT(moderate, F_COOP),
                            OUT(none, F_COOP), REPS));
    expect_positive(compare(4, "confidence at tick 156, moderate - none", OUT(moderate, F_CONF),
                            OUT(none, F_CONF), REPS));
    expect_positive(compare(4, "rise of coop_rate minus rise of trust_interorg, moderate - none",
                            OUT(moderate, F_COOP_MINUS_TRUST), OUT(none, F_COOP_MINUS_TRUST),
                            REPS));
    expect_positive(compare(4, "rise of confidence minus rise of trust_interorg, moderate - none",
                            OUT(moderate, F_CONF_MINUS_TRUST), OUT(none, F_CONF_MINUS_TRUST),
                            REPS));
    /* crowding-out: trust gained per cooperative act falls as formalisation rises */
    expect_negative(compare(4, "trust_interorg gained per 1000 cooperative acts, moderate - none",
                            OUT(moderate, F_TRUST_PER_ACT), OUT(none, F_TRUST_PER_ACT), REPS));
    expect_negative(compare(4, "trust_interorg gained per 1000 cooperative acts, full - moderate",
                            OUT(full, F_TRUST_PER_ACT), OUT(moderate, F_TRUST_PER_ACT), REPS));
    /* full formalisation yields no more trust than moderate */
    expect_negative(compare(4, "trust_interorg at tick 156, full - moderate", OUT(full, F_TRUST),
                            OUT(moderate, F_TRUST), REPS));
#undef OUT
    free(none);
    free(moderate);
    free(full);
}

/* ---- 5: quick wins raise faith and lower exits ------------------------------------------ */

/* Five organisations of three leaders whose collaboration's final target is four times the
 * default: even at full engagement they deliver a small fraction of it, so faith sinks and
 * some organisations leave (at the default target, or twice it, faith never falls to the exit
 * threshold in five years). The
 * lever is the early target: a quick-win floor of 0.2 rising to the full target over a year,
 * against the full target from day one. */
static const char *const target_yaml =
    "name: target\n"
    "ticks: 260\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 3}\n"
    "  - {id: b, kind: community_trust, leaders: 3}\n"
    "  - {id: c, kind: gp_federation, leaders: 3}\n"
    "  - {id: d, kind: council, leaders: 3}\n"
    "  - {id: e, kind: voluntary, leaders: 3}\n"
    "collaborations:\n"
    "  - {id: all, members: [a, b, c, d, e],\n"
    "     target: {final: 4.0, quick_win_floor: 1.0, ramp: 52}}\n";

static void faith_and_exits(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    const double *faith = series(&r, TS_M_FAITH);
    double sum = 0;
    for (int t = 1; t <= 52; t++)
        sum += faith[t];
    out[0] = sum / 52;
    out[1] = w->m->n_orgs - series(&r, TS_M_ACTIVE_ORGS)[r.n_times - 1];
}


static void quick_wins_raise_faith_and_lower_exits(void **state)
{
    (void)state;
    const char *const quick[] = {"collaborations.all.target.quick_win_floor=0.2", NULL};
    int n = REPS_EXITS;
    double *with = run_variant(target_yaml, quick, 5, 1, n, 2, faith_and_exits);
    double *without = run_variant(target_yaml, NULL, 5, 0, n, 2, faith_and_exits);
    expect_both(5, with, without, n, +1, "mean faith over the first year, quick wins - full target",
                -1, "organisations that left by tick 260, quick wins - full target");
    free(with);
    free(without);
}

/* ---- 6: more observation speeds trust among the trustworthy and distrust of a deceiver -- */

/* Five organisations of three leaders with default (mostly trustworthy) leaders; the lever is
 * the base observation probability q0 (docs/model.md 7.12): 0.4 against 0.1. */
#define ORGANISATIONS_ABC                                                                          \
    "  - {id: a, kind: acute_trust, leaders: 3}\n"                                                 \
    "  - {id: b, kind: community_trust, leaders: 3}\n"                                             \
    "  - {id: c, kind: gp_federation, leaders: 3}\n"
#define FOUR_ORGANISATIONS                                                                         \
    "ticks: 52\norganisations:\n" ORGANISATIONS_ABC "  - {id: d, kind: council, leaders: 3}\n"
static const char *const observed_yaml =
    "name: observed\n" FOUR_ORGANISATIONS "  - {id: e, kind: voluntary, leaders: 3}\n";

/* The same with rivalry (competition 0.3, so that there are temptations) and one organisation
 * of deceivers: leaders with the fixed `defector` strategy (docs/model.md 7.1), who take the
 * defecting option of every situation, deception in half of the temptations. (Leaders of low
 * integrity under the trust rule are not deceivers in this sense: they defect only when the
 * logit rule says so, and most of what others see of them is cooperation.) */
static const char *const deceiver_yaml =
    "name: deceiver\n" FOUR_ORGANISATIONS
    "  - {id: e, kind: voluntary, leaders: 3, traits: {strategy: defector}}\n"
    "relations: {default: {competition: 0.3}}\n";

static const int observe_horizons[] = {13, 26, 52};
enum { N_OBS = sizeof observe_horizons / sizeof *observe_horizons };

static void trust_at_observe_horizons(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    for (int h = 0; h < N_OBS; h++)
        out[h] = series(&r, TS_M_TRUST_INTERORG)[observe_horizons[h]];
}

/* Mean trust of the other organisations in the deceivers, at each horizon. */
static void trust_in_deceiver(world *w, uint64_t seed, double *out)
{
    int e = org_index(w, "e");
    start(w, seed);
    for (int h = 0; h < N_OBS; h++) {
        step_to(w, observe_horizons[h]);
        double sum = 0;
        int n = 0;
        for (int o = 0; o < w->m->n_orgs; o++)
            if (o != e) {
                sum += ts_sim_interorg(w->s, o, e);
                n++;
            }
        out[h] = sum / n;
    }
}

static void more_observation_speeds_trust_and_distrust_of_a_deceiver(void **state)
{
    (void)state;
    const char *const high[] = {"reciprocity.q0=0.4", NULL};
    const char *const low[] = {"reciprocity.q0=0.1", NULL};
    double *hi = run_variant(observed_yaml, high, 6, 1, REPS, N_OBS, trust_at_observe_horizons);
    double *lo = run_variant(observed_yaml, low, 6, 0, REPS, N_OBS, trust_at_observe_horizons);
    double *dhi = run_variant(deceiver_yaml, high, 6, 3, REPS, N_OBS, trust_in_deceiver);
    double *dlo = run_variant(deceiver_yaml, low, 6, 2, REPS, N_OBS, trust_in_deceiver);
    for (int h = 0; h < N_OBS; h++) {
        char what[128];
        snprintf(what, sizeof what, "trust_interorg at tick %d, q0 0.4 - 0.1", observe_horizons[h]);
        expect_positive(compare(6, what, hi + (size_t)h * REPS, lo + (size_t)h * REPS, REPS));
    }
    for (int h = 0; h < N_OBS; h++) {
        char what[128];
        snprintf(what, sizeof what, "others' trust in the deceivers at tick %d, q0 0.4 - 0.1",
                 observe_horizons[h]);
        expect_negative(compare(6, what, dhi + (size_t)h * REPS, dlo + (size_t)h * REPS, REPS));
    }
    free(hi);
    free(lo);
    free(dhi);
    free(dlo);
}

/* ---- 7: mandated and unequal: small members start with less faith and leave more -------- */

/* One organisation eight times the size of four others, in a collaboration with a target
 * twice the default; the lever is whether the collaboration is mandated. */
static const char *const mandated_yaml =
    "name: mandated\n"
    "ticks: 260\n"
    "organisations:\n"
    "  - {id: big, kind: acute_trust, leaders: 3, size: 8}\n"
    "  - {id: s1, kind: gp_federation, leaders: 3}\n"
    "  - {id: s2, kind: voluntary, leaders: 3}\n"
    "  - {id: s3, kind: council, leaders: 3}\n"
    "  - {id: s4, kind: community_trust, leaders: 3}\n"
    "collaborations:\n"
    "  - {id: all, members: [big, s1, s2, s3, s4], mandated: false, target: {final: 2.0}}\n";

/* Mean faith of the small organisations over the first quarter (ticks 0-12), and how many of
 * them have left by the horizon. */
static void small_members(world *w, uint64_t seed, double *out)
{
    int big = org_index(w, "big"), n = w->m->n_orgs;
    start(w, seed);
    double sum = 0;
    for (int t = 0; t <= 12; t++) {
        if (t > 0)
            step_to(w, t);
        for (int o = 0; o < n; o++)
            if (o != big)
                sum += ts_sim_faith(w->s, o);
    }
    out[0] = sum / (13.0 * (n - 1));
    step_to(w, w->m->ticks);
    out[1] = 0;
    for (int o = 0; o < n; o++)
        out[1] += o != big && !ts_sim_active(w->s, o);
}

static void mandated_asymmetric_collaborations_lose_small_members(void **state)
{
    (void)state;
    const char *const mandate[] = {"collaborations.all.mandated=true", NULL};
    double *with = run_variant(mandated_yaml, mandate, 7, 1, REPS, 2, small_members);
    double *without = run_variant(mandated_yaml, NULL, 7, 0, REPS, 2, small_members);
    expect_both(7, with, without, REPS, -1,
                "small members' mean faith over ticks 0-12, mandated - voluntary", +1,
                "small members that left by tick 260, mandated - voluntary");
    free(with);
    free(without);
}

/* ---- 8: more and larger organisations lower faith --------------------------------------- */

/* Task complexity (docs/model.md 7.16) grows with the number of organisations and with the spread
 * of their sizes. Three organisations of equal size against nine, and nine of equal size against
 * nine of which three are four times the size of the others; three leaders each, default
 * target. */
#define COMPLEX_HEAD "name: complexity\nticks: 104\norganisations:\n" ORGANISATIONS_ABC
#define COMPLEX_MORE                                                                               \
    "  - {id: d, kind: council, leaders: 3}\n"                                                     \
    "  - {id: e, kind: voluntary, leaders: 3}\n"                                                   \
    "  - {id: f, kind: mental_health, leaders: 3}\n"                                               \
    "  - {id: g, kind: ccg, leaders: 3}\n"                                                         \
    "  - {id: h, kind: gp_federation, leaders: 3}\n"                                               \
    "  - {id: i, kind: voluntary, leaders: 3}\n"
static const char *const three_yaml = COMPLEX_HEAD;
static const char *const nine_yaml = COMPLEX_HEAD COMPLEX_MORE;

static void mean_faith(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    const double *faith = series(&r, TS_M_FAITH);
    double sum = 0;
    for (int t = 1; t < r.n_times; t++)
        sum += faith[t];
    out[0] = sum / (r.n_times - 1);
    out[1] = faith[r.n_times - 1];
}

static void more_and_larger_organisations_lower_faith(void **state)
{
    (void)state;
    const char *const larger[] = {"organisations.a.size=4", "organisations.b.size=4",
                                  "organisations.c.size=4", NULL};
    double *three = run_variant(three_yaml, NULL, 8, 0, REPS, 2, mean_faith);
    double *nine = run_variant(nine_yaml, NULL, 8, 1, REPS, 2, mean_faith);
    double *nine_large = run_variant(nine_yaml, larger, 8, 2, REPS, 2, mean_faith);
    expect_both(8, nine, three, REPS, -1, "mean faith over ticks 1-104, nine - three organisations",
                -1, "faith at tick 104, nine - three organisations");
    expect_both(8, nine_large, nine, REPS, -1,
                "mean faith over ticks 1-104, three of nine larger - all equal", -1,
                "faith at tick 104, three of nine larger - all equal");
    free(three);
    free(nine);
    free(nine_large);
}

/* ---- 9: collaborative leaders reach stage 2 sooner than pacesetters --------------------- */

/* The pair of behaviour 1 without rivalry; the lever is the mean orientation of every leader:
 * 0.8 (collaborative) against 0.2 (pacesetter). */
static void first_stage2_only(world *w, uint64_t seed, double *out)
{
    ts_run_result r;
    run_all(w, seed, &r);
    out[0] = first_stage2(&r);
}

static void collaborative_leaders_reach_stage_2_sooner_than_pacesetters(void **state)
{
    (void)state;
    const char *const collaborative[] = {"leader_defaults.orientation=0.8", NULL};
    const char *const pacesetter[] = {"leader_defaults.orientation=0.2", NULL};
    double *c = run_variant(pair_yaml, collaborative, 9, 1, REPS, 1, first_stage2_only);
    double *p = run_variant(pair_yaml, pacesetter, 9, 0, REPS, 1, first_stage2_only);
    expect_negative(compare(9,
                            "ticks to first reach stage 2 (censored at 261), "
                            "collaborative - pacesetter",
                            c, p, REPS));
    free(c);
    free(p);
}

/* ---- 10: a conflict resolution body shortens recovery after a betrayal ------------------ */

/* The betrayal is one deliberately broken promise; the lever is a conflict resolution body
 * (docs/model.md 7.12, its default probability 0.5 and delay 4) in place from the tick of the
 * betrayal. */
static void a_conflict_resolution_body_shortens_recovery_after_a_betrayal(void **state)
{
    (void)state;
    const char *with_body =
        ONE_ACT_YAML("events:\n  - {at: " TS_STR(ONE_ACT_AT) ", type: conflict_resolution}\n");
    double *body = run_variant(with_body, NULL, 10, 1, REPS, 2, one_break);
    double *none = run_variant(ONE_ACT_YAML(""), NULL, 10, 0, REPS, 2, one_break);
    expect_negative(compare(10,
                            "ticks until the victim's trust is back (censored at 105), "
                            "body - none",
                            body + REPS, none + REPS, REPS));
    free(body);
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(competition_delays_stage_2_and_lowers_trust_at_every_horizon),
        cmocka_unit_test(
            help_during_a_regulator_visit_raises_benevolence_and_trust_more_than_routine),
        cmocka_unit_test(one_deception_costs_more_trust_for_longer_than_one_good_faith_failure),
        cmocka_unit_test(formalisation_raises_cooperation_more_than_trust_and_crowds_trust_out),
        cmocka_unit_test(quick_wins_raise_faith_and_lower_exits),
        cmocka_unit_test(more_observation_speeds_trust_and_distrust_of_a_deceiver),
        cmocka_unit_test(mandated_asymmetric_collaborations_lose_small_members),
        cmocka_unit_test(more_and_larger_organisations_lower_faith),
        cmocka_unit_test(collaborative_leaders_reach_stage_2_sooner_than_pacesetters),
        cmocka_unit_test(a_conflict_resolution_body_shortens_recovery_after_a_betrayal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
