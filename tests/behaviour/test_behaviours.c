/* The ten behaviours of MODEL.md section 10, each tested as a claim about distributions over
 * replicates: a scenario and its counterfactual differ only in the lever, each runs REPS
 * replicates with the fixed seeds ts_seed_hash(master, variant, replicate), and a test passes
 * only when the 95% Welch interval of the difference of means of its outcome lies on the side
 * of zero the behaviour states. Every comparison prints one line
 *   # behaviour N: <outcome>: diff = x [lo, hi]
 * with diff = mean(variant with the lever) - mean(counterfactual) unless the line says
 * otherwise.
 *
 * Scenarios are small (two to eight organisations) and horizons short where that suffices.
 * Two tests (3 and 10) need exactly one act of a given kind at a given moment, which no
 * scenario lever can produce (acts come from Poisson meetings and logit choices); they perform
 * that one act through the engine's own observation step (ts_observe_act, src/sim_internal.h),
 * the call the engine makes for every act a leader takes, and let the model run on from there. */
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

#include "../../src/sim_internal.h" /* ts_observe_act: one act, for behaviours 3 and 10 */

enum { REPS = 200 };

#define TS_STR_(x) #x
#define TS_STR(x) TS_STR_(x)

/* ---- worlds and replicates -------------------------------------------------------------- */

typedef struct world {
    ts_scenario sc;
    ts_model *m;
    ts_sim *s;
} world;

/* Load YAML text, apply "path=value" overrides (NULL-terminated), build model and workspace. */
static void world_open(world *w, const char *yaml, const char *const *sets)
{
    ts_error err;
    if (ts_scenario_load_string(&w->sc, yaml, "behaviour.yaml", &err) != TS_OK)
        fail_msg("%s", err.msg);
    for (int i = 0; sets && sets[i]; i++)
        if (ts_scenario_set(&w->sc, sets[i], &err) != TS_OK)
            fail_msg("%s", err.msg);
    if (ts_model_build(&w->m, &w->sc.params, &err) != TS_OK)
        fail_msg("%s", err.msg);
    w->s = ts_sim_alloc(w->m);
    assert_non_null(w->s);
}

static void world_close(world *w)
{
    ts_sim_free(w->s);
    ts_model_free(w->m);
    ts_scenario_destroy(&w->sc);
}

/* One replicate: run the world from `seed` and write the outcomes into out[0 .. n_out-1]. */
typedef void (*outcome_fn)(world *w, uint64_t seed, double *out);

/* The outcomes of `reps` replicates of one variant: out[k * reps + r] is outcome k of
 * replicate r, seeded by ts_seed_hash(master, variant, r). */
static double *run_variant(const char *yaml, const char *const *sets, uint64_t master,
                           uint64_t variant, int reps, int n_out, outcome_fn fn)
{
    world w;
    world_open(&w, yaml, sets);
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
    double diff, lo, hi;      /* difference of means and its 95% Welch interval */
    double mean_a, mean_b;    /* the two means */
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

static interval compare(int behaviour, const char *what, const double *a, const double *b,
                        int reps)
{
    interval c = welch(a, reps, b, reps);
    printf("# behaviour %d: %s: diff = %.4f [%.4f, %.4f] (means %.4f vs %.4f)\n", behaviour, what,
           c.diff, c.lo, c.hi, c.mean_a, c.mean_b);
    fflush(stdout);
    return c;
}

static void expect_positive(interval c)
{
    assert_true(c.lo > 0);
}

static void expect_negative(interval c)
{
    assert_true(c.hi < 0);
}

/* ---- 1: competition delays stage 2 and lowers inter-organisational trust ---------------- */

/* Two organisations of three leaders, nothing else special; the lever is their competition
 * k_op (0.5 against 0). */
static const char *const pair_yaml =
    "name: pair\n"
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

/* The helper's leaders are cooperators (MODEL.md 2.2), so in both variants every act is the
 * cooperative option of its situation; the visited organisation's leaders initiate no
 * meetings (capacity 0), so every belief formed in the run is the visited organisation's view
 * of the helper. The helper's leaders meet twice as often as by default (capacity 2), so that
 * the visited organisation has seen something of them by the end of the visit in every
 * replicate (perceived benevolence is a mean over beliefs formed from evidence, undefined
 * before any). The lever is one regulator visit to the partner at tick 1 (ticks 1-4), which
 * turns half of the situations into a partner in need (help) instead of routine coordination,
 * promises and the like. */
#define VISIT_BASE                                                                             \
    "name: visit\n"                                                                            \
    "ticks: 8\n"                                                                               \
    "organisations:\n"                                                                         \
    "  - {id: helper, kind: acute_trust, leaders: 4,\n"                                         \
    "     traits: {strategy: cooperator, capacity: 2}}\n"                                        \
    "  - {id: visited, kind: community_trust, leaders: 3, traits: {capacity: 0}}\n"            \
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

static void help_during_a_regulator_visit_raises_benevolence_and_trust_more_than_routine(
    void **state)
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
        expect_positive(compare(2, what[k], help + (size_t)k * REPS, routine + (size_t)k * REPS, REPS));
    free(help);
    free(routine);
}

/* ---- one act at a chosen moment (behaviours 3 and 10) ----------------------------------- */

/* Two organisations of two leaders, close to each other, building trust for a year; then
 * leader x (the first of a) performs one act towards leader y (the first of b) and the model
 * runs on. Competition is 0, so no deception or broken promise happens on its own, and every
 * deception is detected (reciprocity.detect 1), so "one detected deception" is exactly one. */
#define ONE_ACT_AT 52
#define ONE_ACT_YAML(events)                                                                   \
    "name: one_act\n"                                                                          \
    "ticks: 156\n"                                                                             \
    "organisations:\n"                                                                         \
    "  - {id: a, kind: acute_trust, leaders: 2}\n"                                             \
    "  - {id: b, kind: community_trust, leaders: 2}\n"                                         \
    "relations: {default: {proximity: 1.0}}\n"                                                 \
    "reciprocity: {detect: 1.0}\n" events

/* Trust of the victim y in the actor x just before the act, the drop the act causes at once,
 * and the ticks until y's trust in x is back at its level before the act (censored at the
 * horizon: 105 means not within the 104 ticks left). */
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
    expect_positive(compare(3, "victim's trust lost at once, deception - failure", dec, fail, REPS));
    expect_positive(compare(3, "ticks until the victim's trust is back (censored at 105), "
                               "deception - failure",
                            dec + REPS, fail + REPS, REPS));
    free(dec);
    free(fail);
}

/* ---- 10: a conflict resolution body shortens recovery after a betrayal ------------------ */

/* The betrayal is one deliberately broken promise; the lever is a conflict resolution body
 * (MODEL.md 5, its default probability 0.5 and delay 4) in place from the tick of the
 * betrayal. */
static void a_conflict_resolution_body_shortens_recovery_after_a_betrayal(void **state)
{
    (void)state;
    const char *with_body = ONE_ACT_YAML(
        "events:\n  - {at: " TS_STR(ONE_ACT_AT) ", type: conflict_resolution}\n");
    double *body = run_variant(with_body, NULL, 10, 1, REPS, 2, one_break);
    double *none = run_variant(ONE_ACT_YAML(""), NULL, 10, 0, REPS, 2, one_break);
    compare(10, "victim's trust lost at once, body - none", body, none, REPS);
    expect_negative(compare(10, "ticks until the victim's trust is back (censored at 105), "
                                "body - none",
                            body + REPS, none + REPS, REPS));
    free(body);
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(competition_delays_stage_2_and_lowers_trust_at_every_horizon),
        cmocka_unit_test(help_during_a_regulator_visit_raises_benevolence_and_trust_more_than_routine),
        cmocka_unit_test(one_deception_costs_more_trust_for_longer_than_one_good_faith_failure),
        cmocka_unit_test(a_conflict_resolution_body_shortens_recovery_after_a_betrayal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
