/* The engine as a whole: determinism, and the reductions of docs/model.md section 7.19 that the
 * engine must reproduce (no interaction leaves beliefs at their priors; Vanneste's group-image
 * channel under leader turnover; the donation game's q > c/b threshold). Statistical claims are
 * tested over replicates with fixed seeds and 95% intervals from the replicate spread. */
#include "support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

#include "engine/state.h" /* the belief store, to cap it */

static const char *const four_orgs =
    "name: four\n"
    "ticks: 60\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 4, size: 3}\n"
    "  - {id: b, kind: community_trust, leaders: 3}\n"
    "  - {id: c, kind: gp_federation, leaders: 3, reputation: 0.3}\n"
    "  - {id: d, kind: council, leaders: 2}\n"
    "relations:\n"
    "  default: {competition: 0.3, proximity: 0.6}\n"
    "  pairs:\n"
    "    - {between: [a, b], competition: 0.6, history: -0.4}\n"
    "events:\n"
    "  - {at: 20, type: regulator_visit, organisation: b}\n"
    "  - {type: turnover, rate: 0.01}\n"
    "  - {at: 30, type: agreement, formalisation: 0.4}\n"
    "  - {at: 5, type: conflict_resolution, probability: 0.5, delay: 3}\n";

/* A run's end-of-tick passes on three threads give the bits of one thread: a world with many
 * chunks of each pass (160 organisations in one collaboration: 25,440 ordered pairs, 12,720
 * unordered, tens of thousands of beliefs), with turnover and exits, every metric at every
 * tick and the final state. */
static void a_run_gives_the_same_bits_on_any_number_of_threads(void **state)
{
    (void)state;
    size_t cap = 16384, n = 0;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    n += (size_t)snprintf(yaml + n, cap - n,
                          "name: wide\nticks: 20\nleader_defaults: {capacity: 4}\n"
                          "organisations:\n");
    for (int o = 0; o < 160; o++)
        n += (size_t)snprintf(yaml + n, cap - n, "  - {id: o%d, kind: k, leaders: %d}\n", o,
                              2 + o % 4);
    n += (size_t)snprintf(yaml + n, cap - n,
                          "relations: {default: {competition: 0.2, proximity: 0.7}}\n"
                          "faith: {exit_faith: 0.5, exit_ticks: 5}\n"
                          "events:\n  - {type: turnover, rate: 0.02}\n");
    assert_true(n < cap);
    world w;
    world_open(&w, yaml, "wide.yaml", NULL);
    free(yaml);
    assert_true(w.m->n_pairs > 8 * 2048);
    ts_run_result r;
    ts_error err;
    size_t n_series = (size_t)ts_metric_count(TS_MODE_STANDARD) * 21;
    size_t n_final = (size_t)w.m->n_pairs;
    assert_int_equal(ts_sim_run(w.s, 21, &r, &err), TS_OK);
    assert_true(ts_sim_get_counters(w.s).beliefs > 3 * 8192);
    double *series = malloc(n_series * sizeof *series), *to = malloc(n_final * sizeof *to);
    int8_t *stage = malloc(n_final);
    memcpy(series, r.series, n_series * sizeof *series);
    memcpy(to, r.trust_interorg, n_final * sizeof *to);
    memcpy(stage, r.stage, n_final);
    ts_sim_set_threads(w.s, 3);
    assert_int_equal(ts_sim_run(w.s, 21, &r, &err), TS_OK);
    assert_memory_equal(series, r.series, n_series * sizeof *series);
    assert_memory_equal(to, r.trust_interorg, n_final * sizeof *to);
    assert_memory_equal(stage, r.stage, n_final);
    free(series), free(to), free(stage);
    world_close(&w);
}

/* ---- failure ---------------------------------------------------------------------------- */

/* A run whose belief store cannot grow (here: a store capped at 10 records, as a store is when
 * memory runs out) stops with an error naming the tick and the store, and hands back no
 * result; the workspace then runs again normally. */
static void a_run_out_of_memory_fails_and_gives_no_result(void **state)
{
    (void)state;
    world w;
    world_open(&w, four_orgs, "test.yaml", NULL);
    ts_run_result r = {0};
    ts_error err = {{0}};
    w.s->beliefs.max_count = 10;
    assert_int_equal(ts_sim_run(w.s, 11, &r, &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, "out of memory at tick "));
    assert_non_null(strstr(err.msg, "belief store"));
    assert_null(r.series);          /* no result was handed back */
    assert_false(ts_sim_step(w.s)); /* a failed run does not go on */
    assert_int_equal(ts_sim_status(w.s, NULL), TS_ERUNTIME);
    w.s->beliefs.max_count = INT32_MAX;
    assert_int_equal(ts_sim_run(w.s, 11, &r, &err), TS_OK);
    assert_int_equal(ts_sim_status(w.s, NULL), TS_OK);
    assert_non_null(r.series);
    world_close(&w);
}

/* ---- determinism ------------------------------------------------------------------------ */

static void same_seed_gives_identical_runs_and_another_seed_does_not(void **state)
{
    (void)state;
    world w;
    world_open(&w, four_orgs, "test.yaml", NULL);
    ts_run_result r;
    ts_error err;
    size_t n = (size_t)ts_metric_count(TS_MODE_STANDARD) * 61;
    double *first = malloc(n * sizeof *first);
    assert_int_equal(ts_sim_run(w.s, 11, &r, &err), TS_OK);
    memcpy(first, r.series, n * sizeof *first);
    ts_sim_counters c1 = ts_sim_get_counters(w.s);
    assert_true(c1.acts > 100);
    /* the same seed through the same (reused) workspace and through a fresh one */
    assert_int_equal(ts_sim_run(w.s, 11, &r, &err), TS_OK);
    assert_memory_equal(first, r.series, n * sizeof *first);
    ts_sim *fresh = ts_sim_alloc(w.m);
    assert_int_equal(ts_sim_run(fresh, 11, &r, &err), TS_OK);
    assert_memory_equal(first, r.series, n * sizeof *first);
    ts_sim_free(fresh);
    assert_int_equal(ts_sim_run(w.s, 12, &r, &err), TS_OK);
    assert_true(memcmp(first, r.series, n * sizeof *first) != 0);
    free(first);
    world_close(&w);
}

/* ---- inter-organisational trust --------------------------------------------------------- */

/* After `ticks` ticks without forgetting (so that the trust read now is the trust the pass
 * read), TO_op must be the mean over o's leaders of their mean trust in the leaders of p they
 * know, for every pair whose leaders all know someone in p; returns how many pairs that was. */
static int check_interorg_is_mean_known_trust(const char *yaml, int ticks)
{
    const char *const sets[] = {"beliefs.forget=0", NULL};
    world w;
    world_open(&w, yaml, "test.yaml", sets);
    ts_error err;
    assert_int_equal(ts_sim_start(w.s, 5, &err), TS_OK);
    for (int t = 0; t < ticks; t++)
        assert_true(ts_sim_step(w.s));
    const ts_model *m = w.m;
    int checked = 0;
    for (int o = 0; o < m->n_orgs; o++)
        for (int p = 0; p < m->n_orgs; p++) {
            if (p == o || isnan(ts_sim_interorg(w.s, o, p)))
                continue;
            double sum = 0;
            bool all_know = true;
            for (int i = 0; i < m->org_n_leaders[o] && all_know; i++) {
                int x = m->org_leader_begin[o] + i, known = 0;
                double t = 0;
                for (int j = 0; j < m->org_n_leaders[p]; j++) {
                    int y = m->org_leader_begin[p] + j;
                    if (ts_sim_knows(w.s, x, y)) {
                        t += ts_sim_trust(w.s, x, y);
                        known++;
                    }
                }
                all_know = known > 0;
                sum += known > 0 ? t / known : 0;
            }
            if (!all_know)
                continue;
            /* the pass sums single-precision trusts */
            assert_float_equal(ts_sim_interorg(w.s, o, p), sum / m->org_n_leaders[o], 1e-5);
            checked++;
        }
    world_close(&w);
    return checked;
}

static void interorg_trust_is_the_mean_trust_in_known_leaders(void **state)
{
    (void)state;
    /* a few organisations of several leaders */
    int small = check_interorg_is_mean_known_trust(four_orgs, 40);
    assert_true(small >= 3);
    /* 400 organisations of one leader: 159,600 (trustor, organisation) accumulators, more
     * than the pass keeps in the caches, so it adds the trusts to them block by block */
    size_t cap = 64 * 1024;
    char *yaml = malloc(cap);
    assert_non_null(yaml);
    int len = snprintf(yaml, cap,
                       "name: many\nticks: 10\nleader_defaults: {capacity: 4}\n"
                       "relations:\n  default: {proximity: 1}\norganisations:\n");
    for (int o = 0; o < 400; o++) {
        len += snprintf(yaml + len, cap - (size_t)len, "  - {id: o%d, kind: council, leaders: 1}\n",
                        o);
        assert_true((size_t)len < cap);
    }
    int many = check_interorg_is_mean_known_trust(yaml, 3);
    assert_true(many >= 1000);
    free(yaml);
}

/* A leader who knows nobody in p gives TO_op the trust implied by o's group image of p
 * (docs/model.md 7.6). Without meetings the images hold only their priors, clamp(r_p + 0.3 h_op),
 * whose four pillars imply that same trust; so TO_op is that prior for every leader, and the
 * trust_group and trust_interorg metrics are its mean over the six ordered pairs. */
static void interorg_trust_of_strangers_is_the_group_image(void **state)
{
    (void)state;
    static const char *const strangers = "name: strangers\n"
                                         "ticks: 5\n"
                                         "leader_defaults: {capacity: 0}\n"
                                         "faith: {exit_faith: 0}\n"
                                         "organisations:\n"
                                         "  - {id: a, kind: council, leaders: 1, reputation: 0.2}\n"
                                         "  - {id: b, kind: council, leaders: 2, reputation: 0.6}\n"
                                         "  - {id: c, kind: council, leaders: 3, reputation: 0.9}\n"
                                         "relations:\n"
                                         "  pairs:\n"
                                         "    - {between: [a, c], history: 0.25}\n";
    /* prior[o][p] = clamp(r_p + 0.3 h_op): history 0.25 between a and c adds 0.075 */
    static const double prior[3][3] = {{0, 0.6, 0.975}, {0.2, 0, 0.9}, {0.275, 0.6, 0}};
    world w;
    world_open(&w, strangers, "test.yaml", NULL);
    ts_error err;
    assert_int_equal(ts_sim_start(w.s, 3, &err), TS_OK);
    double mean = 0;
    for (int o = 0; o < 3; o++)
        for (int p = 0; p < 3; p++)
            mean += o != p ? prior[o][p] / 6 : 0;
    int steps = 0;
    do {
        for (int o = 0; o < 3; o++)
            for (int p = 0; p < 3; p++)
                if (o != p)
                    assert_float_equal(ts_sim_interorg(w.s, o, p), prior[o][p], 1e-12);
        assert_float_equal(ts_sim_metric(w.s, TS_M_TRUST_GROUP), mean, 1e-12);
        assert_float_equal(ts_sim_metric(w.s, TS_M_TRUST_INTERORG), mean, 1e-12);
        steps++;
    } while (ts_sim_step(w.s));
    assert_int_equal(steps, 6);
    assert_true(ts_sim_get_counters(w.s).acts == 0);
    world_close(&w);
}

/* ---- reduction 3: no interaction, no change --------------------------------------------- */

static void without_meetings_beliefs_stay_at_priors_and_stages_never_move(void **state)
{
    (void)state;
    /* no meetings; the agreement of tick 30 emptied so that nothing moves stages either */
    const char *const sets[] = {"leader_defaults.capacity=0", "faith.exit_faith=0",
                                "events.2.formalisation=0", NULL};
    world w;
    world_open(&w, four_orgs, "test.yaml", sets);
    ts_error err;
    assert_int_equal(ts_sim_start(w.s, 5, &err), TS_OK);
    int n = w.m->n_orgs, nl = w.m->n_leaders;
    int stage0[16];
    double trust0[16], group0 = ts_sim_metric(w.s, TS_M_TRUST_GROUP);
    for (int o = 0; o < n; o++)
        for (int p = 0; p < n; p++) {
            stage0[o * n + p] = ts_sim_stage(w.s, o, p);
            trust0[o * n + p] = ts_sim_interorg(w.s, o, p);
        }
    while (ts_sim_step(w.s)) {
        assert_true(ts_sim_get_counters(w.s).acts == 0);
        assert_true(ts_sim_get_counters(w.s).beliefs == 0);
        assert_true(ts_sim_metric(w.s, TS_M_TRUST_GROUP) == group0);
        for (int o = 0; o < n; o++)
            for (int p = 0; p < n; p++) {
                if (o == p || !ts_sim_active(w.s, o) || !ts_sim_active(w.s, p))
                    continue;
                assert_int_equal(ts_sim_stage(w.s, o, p), stage0[o * n + p]);
                assert_true(ts_sim_interorg(w.s, o, p) == trust0[o * n + p]);
            }
    }
    for (int x = 0; x < nl; x++)
        for (int y = 0; y < nl; y++)
            assert_false(ts_sim_knows(w.s, x, y));
    world_close(&w);
}

/* ---- reduction 2: Vanneste's channel ---------------------------------------------------- */

/* Two organisations that come to trust each other; at tick 80 every leader of b is replaced
 * and, for that one tick, nobody meets (capacity drops to 0), so what a thinks of b then is
 * what survives the replacement. Over replicates: how far a's trust in b had risen above its
 * tick-0 level just before the replacement (built) and how much of that is left (kept). */
static const char *const two_orgs =
    "name: turnover\n"
    "ticks: 81\n"
    "leader_defaults: {benevolence: 0.8, integrity: 0.85, capacity: 1}\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 3}\n"
    "  - {id: b, kind: community_trust, leaders: 3}\n"
    "relations: {default: {proximity: 1.0}}\n"
    "events:\n"
    "  - {at: 80, type: new_leader, organisation: b, leader: 0}\n"
    "  - {at: 80, type: new_leader, organisation: b, leader: 1}\n"
    "  - {at: 80, type: new_leader, organisation: b, leader: 2}\n"
    "  - {at: 80, type: leadership_programme, capacity: -1}\n";

typedef struct interval {
    double mean, half; /* mean and half-width of its 95% confidence interval */
} interval;

static interval interval_of(const double *v, int n)
{
    interval i = {gsl_stats_mean(v, 1, (size_t)n), 0};
    i.half = 1.96 * gsl_stats_sd_m(v, 1, (size_t)n, i.mean) / sqrt(n);
    return i;
}

static void trust_through_turnover(const char *const *sets, int reps, interval *built,
                                   interval *kept)
{
    world w;
    world_open(&w, two_orgs, "test.yaml", sets);
    double *b = malloc((size_t)reps * sizeof *b), *k = malloc((size_t)reps * sizeof *k);
    ts_error err;
    for (int r = 0; r < reps; r++) {
        assert_int_equal(ts_sim_start(w.s, ts_seed_hash(99, 0, (uint64_t)r), &err), TS_OK);
        double t0 = ts_sim_interorg(w.s, 0, 1);
        /* the prior of a stranger from b, per leader of a, before anyone has met */
        double prior0[3];
        for (int x = 0; x < 3; x++)
            prior0[x] = ts_sim_trust(w.s, x, 3);
        while (ts_sim_tick(w.s) < 79)
            ts_sim_step(w.s);
        b[r] = ts_sim_interorg(w.s, 0, 1) - t0;
        ts_sim_step(w.s);
        k[r] = ts_sim_interorg(w.s, 0, 1) - t0;
        /* with the channel off, a new leader of b whom x has not met yet is trusted exactly
         * as a stranger from b was at tick 0 */
        if (sets)
            for (int x = 0; x < 3; x++)
                for (int y = 3; y < 6; y++)
                    if (!ts_sim_knows(w.s, x, y))
                        assert_true(fabs(ts_sim_trust(w.s, x, y) - prior0[x]) < 1e-12);
    }
    *built = interval_of(b, reps);
    *kept = interval_of(k, reps);
    free(b);
    free(k);
    world_close(&w);
}

static void group_images_carry_trust_across_leader_turnover(void **state)
{
    (void)state;
    const char *const off[] = {"reciprocity.group_weight=0", "reciprocity.group_prior_weight=0",
                               NULL};
    interval on_built, on_kept, off_built, off_kept;
    trust_through_turnover(NULL, 60, &on_built, &on_kept);
    trust_through_turnover(off, 60, &off_built, &off_kept);
    printf("# trust above tick 0 before / after replacing b's leaders: channel on %.3f / "
           "%.3f +- %.3f, off %.3f / %.3f +- %.3f\n",
           on_built.mean, on_kept.mean, on_kept.half, off_built.mean, off_kept.mean, off_kept.half);
    /* trust was built in both */
    assert_true(on_built.mean - on_built.half > 0.1);
    assert_true(off_built.mean - off_built.half > 0.1);
    /* off: exactly back to the priors */
    assert_true(off_kept.mean == 0 && off_kept.half == 0);
    /* on: most of it survives, and clearly more than off */
    assert_true(on_kept.mean - on_kept.half > 0.5 * on_built.mean);
    assert_true(on_kept.mean - on_kept.half > off_kept.mean + off_kept.half);
}

/* ---- reduction 1: the donation game ----------------------------------------------------- */

static const char *const donation =
    "name: donation\n"
    "ticks: 200\n"
    "mode: donation_game\n"
    "organisations: [{id: unused, kind: none}]\n"
    "donation_game: {q: 0.5, benefit: 1.0, cost: 0.3,\n"
    "                strategies: {discriminator: 45, defector: 5, cooperator: 0}}\n";

/* Mean over replicates of (discriminator - defector) payoff per tick after a burn-in. */
static void discriminator_advantage(double q, double cost, int reps, double *mean, double *half)
{
    char set_q[64], set_c[64];
    snprintf(set_q, sizeof set_q, "donation_game.q=%g", q);
    snprintf(set_c, sizeof set_c, "donation_game.cost=%g", cost);
    const char *const sets[] = {set_q, set_c, NULL};
    world w;
    world_open(&w, donation, "test.yaml", sets);
    double *diff = malloc((size_t)reps * sizeof *diff);
    ts_error err;
    ts_run_result r;
    int stride = w.m->ticks + 1;
    for (int k = 0; k < reps; k++) {
        assert_int_equal(ts_sim_run(w.s, ts_seed_hash(2024, 0, (uint64_t)k), &r, &err), TS_OK);
        const double *disc =
            r.series + (size_t)(TS_M_PAYOFF_FIRST + TS_STRATEGY_DISCRIMINATOR) * stride;
        const double *def = r.series + (size_t)(TS_M_PAYOFF_FIRST + TS_STRATEGY_DEFECTOR) * stride;
        double d = 0;
        for (int t = 50; t < stride; t++)
            d += disc[t] - def[t];
        diff[k] = d / (stride - 50);
    }
    *mean = gsl_stats_mean(diff, 1, (size_t)reps);
    *half = 1.96 * gsl_stats_sd(diff, 1, (size_t)reps) / sqrt(reps);
    free(diff);
    world_close(&w);
}

static void discriminators_out_earn_defectors_exactly_when_q_exceeds_c_over_b(void **state)
{
    (void)state;
    const double ratios[] = {0.2, 0.4, 0.6};
    for (int i = 0; i < 3; i++) {
        double cb = ratios[i], m_hi, h_hi, m_lo, h_lo;
        discriminator_advantage(cb + 0.2, cb, 30, &m_hi, &h_hi);
        discriminator_advantage(cb - 0.15, cb, 30, &m_lo, &h_lo);
        printf("# c/b = %.1f: q = %.2f advantage %+.3f +- %.3f; q = %.2f advantage %+.3f +- "
               "%.3f\n",
               cb, cb + 0.2, m_hi, h_hi, cb - 0.15, m_lo, h_lo);
        assert_true(m_hi - h_hi > 0);
        assert_true(m_lo + h_lo < 0);
    }
}

static void donation_payoffs_match_the_mean_field_rates(void **state)
{
    (void)state;
    /* 45 discriminators, 5 defectors, q = 0.5, b = 1, c = 0.3. Each leader receives one
     * donation per tick on average, from a discriminator with chance 44/49 (for a
     * discriminator) or 45/49 (for a defector). A discriminator refuses whoever it saw last
     * act badly; under image scoring its refusal is itself bad, so the share of
     * discriminators whose latest act was bad solves
     *   p = (5/49) q + (44/49) q p.
     * Then per tick a discriminator earns b (44/49)(1 - q p) - c [(44/49)(1 - q p) + (5/49)(1 - q)]
     * and a defector b (45/49)(1 - q): the "b - c" and "b (1 - q)" of docs/model.md 7.19 with the
     * corrections for defectors being few but not absent. */
    const double q = 0.5, b = 1.0, c = 0.3;
    double p = (5.0 / 49 * q) / (1 - 44.0 / 49 * q);
    double helped = 44.0 / 49 * (1 - q * p);
    double disc_expected = b * helped - c * (helped + 5.0 / 49 * (1 - q));
    double def_expected = b * 45.0 / 49 * (1 - q);

    const char *const sets[] = {"donation_game.q=0.5", NULL};
    world w;
    world_open(&w, donation, "test.yaml", sets);
    ts_error err;
    ts_run_result r;
    int stride = w.m->ticks + 1, reps = 20;
    double disc[20], def[20];
    for (int k = 0; k < reps; k++) {
        assert_int_equal(ts_sim_run(w.s, ts_seed_hash(7, 0, (uint64_t)k), &r, &err), TS_OK);
        disc[k] = def[k] = 0;
        for (int t = 50; t < stride; t++) {
            disc[k] +=
                r.series[(size_t)(TS_M_PAYOFF_FIRST + TS_STRATEGY_DISCRIMINATOR) * stride + t];
            def[k] += r.series[(size_t)(TS_M_PAYOFF_FIRST + TS_STRATEGY_DEFECTOR) * stride + t];
        }
        disc[k] /= stride - 50;
        def[k] /= stride - 50;
    }
    interval di = interval_of(disc, reps), fi = interval_of(def, reps);
    printf("# discriminators %.4f +- %.4f per tick (mean field %.4f), defectors %.4f +- %.4f "
           "(mean field %.4f)\n",
           di.mean, di.half, disc_expected, fi.mean, fi.half, def_expected);
    /* the mean field ignores correlations; allow 0.02 beyond the sampling interval */
    assert_true(fabs(di.mean - disc_expected) < di.half + 0.02);
    assert_true(fabs(fi.mean - def_expected) < fi.half + 0.02);
    world_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_gives_identical_runs_and_another_seed_does_not),
        cmocka_unit_test(a_run_out_of_memory_fails_and_gives_no_result),
        cmocka_unit_test(a_run_gives_the_same_bits_on_any_number_of_threads),
        cmocka_unit_test(without_meetings_beliefs_stay_at_priors_and_stages_never_move),
        cmocka_unit_test(interorg_trust_is_the_mean_trust_in_known_leaders),
        cmocka_unit_test(interorg_trust_of_strangers_is_the_group_image),
        cmocka_unit_test(group_images_carry_trust_across_leader_turnover),
        cmocka_unit_test(discriminators_out_earn_defectors_exactly_when_q_exceeds_c_over_b),
        cmocka_unit_test(donation_payoffs_match_the_mean_field_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
