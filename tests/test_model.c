/* The model (model.h): what a scenario fixes before any random draw. Organisation pairs are
 * exactly those that share a collaboration, each with its reverse and one unordered number;
 * collaborations list their members and leaders; trait means, relations and cultural distances
 * come from the scenario as its keys say; scheduled events are ordered by tick (file order at
 * one tick) and rate events kept apart; the donation game builds its own players; the run mode
 * is resolved once. Expected values are worked out here from the scenario text, not read back
 * from the code under test. */
#include "support.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trustsim/model.h"
#include "trustsim/scenario.h"

/* Five organisations, three collaborations that overlap (b and c are in x and z), and e in
 * none: the pairs are a-b, a-c, b-c (x) and c-d (y), both ways. */
static const char *const network =
    "name: network\n"
    "ticks: 10\n"
    "leader_defaults: {ability: 0.6, benevolence: 0.55, integrity: 0.65}\n"
    "archetypes:\n"
    "  sharp: {ability: 0.9, integrity: 0.4}\n"
    "organisations:\n"
    "  - {id: a, kind: acute_trust, leaders: 2, archetype: sharp, traits: {integrity: 0.8},\n"
    "     culture: [0, 0, 0]}\n"
    "  - {id: b, kind: council, leaders: 3, culture: [1, 0.5, 0.2]}\n"
    "  - {id: c, kind: gp_federation, leaders: 1, archetype: sharp}\n"
    "  - {id: d, kind: ccg, leaders: 2, culture: [0.5, 0.5, 0.9]}\n"
    "  - {id: e, kind: voluntary, leaders: 4}\n"
    "collaborations:\n"
    "  - {id: x, members: [a, b, c], shared_purpose: 0.8, info_sharing: 0.3,\n"
    "     agreement: {formalisation: 0.6, enforcement: 0.9}}\n"
    "  - {id: y, members: [c, d], mandated: true, target: {final: 1.5, ramp: 26}}\n"
    "  - {id: z, members: [b, c]}\n"
    "relations:\n"
    "  default: {competition: 0.2, history: 0.1, proximity: 0.6}\n"
    "  pairs:\n"
    "    - {from: a, to: b, competition: 0.9}\n"
    "    - {between: [c, d], history: -0.5}\n"
    "    - {between: [a, c], proximity: 0.1}\n"
    "    - {from: c, to: a, proximity: 0.3}\n"
    "    - {between: [a, e], competition: 1}\n"
    "beliefs:\n"
    "  weights: {ability: 2, benevolence: 1, integrity: 1, predictability: 0}\n";

enum { A, B, C, D, E, N_ORGS };
static const int leaders[N_ORGS] = {2, 3, 1, 2, 4};
/* members[c][o]: whether organisation o is in collaboration c (x, y, z) */
static const bool members[3][N_ORGS] = {
    {true, true, true, false, false}, {false, false, true, true, false}, {false, true, true}};

static bool share(int o, int p)
{
    for (int c = 0; c < 3; c++)
        if (o != p && members[c][o] && members[c][p])
            return true;
    return false;
}

typedef struct built {
    ts_scenario sc;
    ts_model *m;
} built;

static void build(built *b, const char *yaml)
{
    ts_error err;
    if (ts_scenario_load_string(&b->sc, yaml, "model.yaml", &err) != TS_OK)
        fail_msg("%s", err.msg);
    if (ts_model_build(&b->m, &b->sc.params, &err) != TS_OK)
        fail_msg("%s", err.msg);
}

static void unbuild(built *b)
{
    ts_model_free(b->m);
    ts_scenario_destroy(&b->sc);
}

static int org_index(const ts_model *m, const char *name)
{
    for (int o = 0; o < m->n_orgs; o++)
        if (strcmp(m->org_name[o], name) == 0)
            return o;
    fail_msg("no organisation %s", name);
    return -1;
}

static void pairs_are_exactly_the_organisations_that_share_a_collaboration(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    assert_int_equal(m->n_orgs, N_ORGS);
    int expected = 0;
    for (int o = 0; o < N_ORGS; o++)
        for (int p = 0; p < N_ORGS; p++) {
            int k = ts_model_pair(m, o, p);
            expected += share(o, p);
            if (!share(o, p)) {
                assert_int_equal(k, -1);
                continue;
            }
            assert_true(k >= m->pair_begin[o] && k < m->pair_begin[o + 1]);
            assert_int_equal(m->pair_partner[k], p);
        }
    assert_int_equal(expected, 8);
    assert_int_equal(m->n_pairs, expected);
    /* each row lists its partners in increasing order; e has none */
    for (int o = 0; o < N_ORGS; o++)
        for (int k = m->pair_begin[o] + 1; k < m->pair_begin[o + 1]; k++)
            assert_true(m->pair_partner[k - 1] < m->pair_partner[k]);
    assert_int_equal(m->pair_begin[E], m->pair_begin[E + 1]);
    unbuild(&b);
}

static void every_pair_has_its_reverse_and_one_unordered_number(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    assert_int_equal(m->n_upairs, 4);
    int seen[4] = {0};
    for (int o = 0; o < N_ORGS; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            int p = m->pair_partner[k], r = m->pair_reverse[k];
            assert_int_equal(r, ts_model_pair(m, p, o));
            assert_int_equal(m->pair_reverse[r], k);
            int u = m->pair_upair[k];
            assert_true(u >= 0 && u < m->n_upairs);
            assert_int_equal(m->pair_upair[r], u);
            /* the unordered pair points at its ordered pair with the lower organisation first */
            int first = m->upair_pair[u];
            assert_true(first == k || first == r);
            assert_int_equal(first, o < p ? k : r);
            seen[u] += 1;
        }
    for (int u = 0; u < 4; u++)
        assert_int_equal(seen[u], 2); /* (o, p) and (p, o), nothing else */
    unbuild(&b);
}

static void collaborations_list_their_members_and_their_leaders(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    assert_int_equal(m->n_collabs, 3);
    assert_int_equal(m->n_leaders, 2 + 3 + 1 + 2 + 4);
    /* leader slots: contiguous per organisation, in file order */
    for (int o = 0, first = 0; o < N_ORGS; first += leaders[o], o++) {
        assert_int_equal(m->org_leader_begin[o], first);
        assert_int_equal(m->org_n_leaders[o], leaders[o]);
        for (int j = 0; j < leaders[o]; j++)
            assert_int_equal(m->leader_org[first + j], o);
    }
    for (int c = 0; c < 3; c++) {
        /* members in file order, and every leader of every member */
        int k = m->collab_org_begin[c], l = m->collab_leader_begin[c];
        for (int o = 0; o < N_ORGS; o++) {
            if (!members[c][o])
                continue;
            assert_int_equal(m->collab_orgs[k++], o);
            for (int j = 0; j < leaders[o]; j++)
                assert_int_equal(m->collab_leaders[l++], m->org_leader_begin[o] + j);
        }
        assert_int_equal(k, m->collab_org_begin[c + 1]);
        assert_int_equal(l, m->collab_leader_begin[c + 1]);
    }
    /* an organisation's first collaboration, and a pair's first shared one */
    const int first_collab[N_ORGS] = {0, 0, 0, 1, -1};
    for (int o = 0; o < N_ORGS; o++)
        assert_int_equal(m->org_collab[o], first_collab[o]);
    assert_int_equal(m->pair_collab[ts_model_pair(m, B, C)], 0); /* in x and z */
    assert_int_equal(m->pair_collab[ts_model_pair(m, C, B)], 0);
    assert_int_equal(m->pair_collab[ts_model_pair(m, D, C)], 1);
    /* what each collaboration is, as the tick reads it */
    assert_true(m->collab[0].shared_purpose == 0.8 && m->collab[0].info_sharing == 0.3);
    assert_true(m->collab[0].formalisation == 0.6 && m->collab[0].enforcement == 0.9);
    assert_false(m->collab[0].mandated);
    assert_true(m->collab[1].mandated);
    assert_true(m->collab[1].target_final == 1.5 && m->collab[1].ramp == 26);
    assert_true(m->collab[2].formalisation == 0); /* no agreement */
    unbuild(&b);
}

static void accumulators_and_the_belief_bound_count_leaders_of_partners(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    /* a belief is held by a leader of o about a leader of a partner p */
    size_t bound = 0;
    int acc = 0;
    for (int o = 0; o < N_ORGS; o++)
        for (int p = 0; p < N_ORGS; p++)
            if (share(o, p)) {
                bound += (size_t)leaders[o] * (size_t)leaders[p];
                acc += leaders[o];
            }
    assert_int_equal(bound, 26);
    assert_int_equal(m->belief_bound, bound);
    /* one accumulator per (leader of o, partner p): the pairs' ranges tile 0 .. n_acc */
    assert_int_equal(m->n_acc, acc);
    char *used = calloc((size_t)acc, 1);
    assert_non_null(used);
    for (int o = 0; o < N_ORGS; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
            for (int j = 0; j < leaders[o]; j++) {
                int a = m->pair_acc_begin[k] + j;
                assert_true(a >= 0 && a < acc);
                assert_int_equal(used[a]++, 0);
            }
    free(used);
    unbuild(&b);
}

static void relation_overrides_apply_in_their_directions_and_later_ones_win(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    const ts_relation *ab = &m->pair_relation[ts_model_pair(m, A, B)];
    const ts_relation *ba = &m->pair_relation[ts_model_pair(m, B, A)];
    const ts_relation *cd = &m->pair_relation[ts_model_pair(m, C, D)];
    const ts_relation *dc = &m->pair_relation[ts_model_pair(m, D, C)];
    const ts_relation *ac = &m->pair_relation[ts_model_pair(m, A, C)];
    const ts_relation *ca = &m->pair_relation[ts_model_pair(m, C, A)];
    const ts_relation *bc = &m->pair_relation[ts_model_pair(m, B, C)];
    /* from/to: one direction; the other keeps the default */
    assert_true(ab->competition == 0.9 && ab->history == 0.1 && ab->proximity == 0.6);
    assert_true(ba->competition == 0.2);
    /* between: both directions, only the keys given */
    assert_true(cd->history == -0.5 && dc->history == -0.5);
    assert_true(cd->competition == 0.2 && dc->proximity == 0.6);
    /* a later entry overrides an earlier one, here in one direction */
    assert_true(ac->proximity == 0.1 && ca->proximity == 0.3);
    /* no entry: the default */
    assert_true(bc->competition == 0.2 && bc->history == 0.1 && bc->proximity == 0.6);
    unbuild(&b);
}

static void traits_cultures_and_weights_come_from_the_scenario_keys(void **state)
{
    (void)state;
    built b;
    build(&b, network);
    const ts_model *m = b.m;
    /* leader_defaults <- archetype <- the organisation's own traits */
    assert_true(m->org_traits[A].ability == 0.9);      /* archetype */
    assert_true(m->org_traits[A].integrity == 0.8);    /* organisation over archetype */
    assert_true(m->org_traits[A].benevolence == 0.55); /* defaults */
    assert_true(m->org_traits[C].integrity == 0.4);    /* archetype alone */
    assert_true(m->org_traits[B].ability == 0.6 && m->org_traits[B].integrity == 0.65);
    /* cultural distance: mean absolute difference over the three axes, symmetric */
    double ab = (1.0 + 0.5 + 0.2) / 3, cd = (0.0 + 0.0 + 0.4) / 3; /* c has the default 0.5s */
    assert_true(fabs(m->pair_cultural_distance[ts_model_pair(m, A, B)] - ab) < 1e-15);
    assert_true(fabs(m->pair_cultural_distance[ts_model_pair(m, B, A)] - ab) < 1e-15);
    assert_true(fabs(m->pair_cultural_distance[ts_model_pair(m, C, D)] - cd) < 1e-15);
    /* pillar weights normalised to sum 1: 2, 1, 1, 0 of 4 */
    const double w[TS_PILLARS] = {0.5, 0.25, 0.25, 0};
    for (int i = 0; i < TS_PILLARS; i++)
        assert_true(m->weights[i] == w[i]);
    /* the standard mode, resolved */
    assert_int_equal(m->schedule, TS_SCHEDULE_MEETINGS);
    assert_int_equal(m->image_rule, TS_IMAGE_BY_TRUST);
    assert_true(m->exits && !m->observe_everyone);
    unbuild(&b);
}

static void weights_that_are_all_zero_are_refused(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err;
    /* the scenario reader refuses them ... */
    const char *zero = "name: w\nticks: 5\norganisations:\n  - {id: a, kind: k}\n"
                       "beliefs:\n  weights: {ability: 0, benevolence: 0, integrity: 0, "
                       "predictability: 0}\n";
    assert_int_equal(ts_scenario_load_string(&sc, zero, "w.yaml", &err), TS_EINPUT);
    assert_string_equal(err.msg, "w.yaml:6:12: key 'beliefs.weights': must have a sum > 0, got 0");
    /* ... and so does the model, given parameters that did not come from a file */
    const char *fine = "name: w\nticks: 5\norganisations:\n  - {id: a, kind: k}\n";
    assert_int_equal(ts_scenario_load_string(&sc, fine, "w.yaml", &err), TS_OK);
    for (int i = 0; i < TS_PILLARS; i++)
        sc.params.beliefs.weights[i] = 0;
    ts_model *m = NULL;
    assert_int_equal(ts_model_build(&m, &sc.params, &err), TS_EINPUT);
    assert_null(m);
    assert_string_equal(err.msg, "key 'beliefs.weights': weights must not all be 0");
    ts_scenario_destroy(&sc);
}

static void scheduled_events_run_in_tick_order_and_file_order_within_a_tick(void **state)
{
    (void)state;
    built b;
    build(&b, "name: events\nticks: 60\n"
              "organisations:\n  - {id: a, kind: k}\n  - {id: b, kind: k}\n  - {id: c, kind: k}\n"
              "events:\n"
              "  - {at: 30, type: shock}\n"                                      /* 0 */
              "  - {type: regulator_visits, rate: 0.1, organisations: [a, c]}\n" /* 1 */
              "  - {at: 10, type: shared_hub}\n"                                 /* 2 */
              "  - {at: 30, type: regulator_visit, organisation: b}\n"           /* 3 */
              "  - {type: turnover, rate: 0.01}\n"                               /* 4 */
              "  - {at: 10, type: leadership_programme, ability: 0.1}\n"         /* 5 */
              "  - {at: 0, type: shock, organisation: a}\n");                    /* 6 */
    const ts_model *m = b.m;
    const int order[] = {6, 2, 5, 0, 3};
    assert_int_equal(m->n_scheduled, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(m->event_order[i], order[i]);
    /* rate events apart, in file order, each with the organisations it touches */
    assert_int_equal(m->n_rate_events, 2);
    assert_int_equal(m->rate_events[0], 1);
    assert_int_equal(m->rate_events[1], 4);
    const uint8_t touched[2][3] = {{1, 0, 1}, {1, 1, 1}}; /* no list: every organisation */
    assert_memory_equal(m->rate_event_orgs, touched, sizeof touched);
    unbuild(&b);
}

static void the_donation_game_builds_one_single_leader_player_per_strategy_count(void **state)
{
    (void)state;
    built b;
    build(&b, "name: dg\nmode: donation_game\nticks: 5\n"
              "organisations:\n  - {id: ignored, kind: k, leaders: 7}\n"
              "donation_game:\n  q: 0.35\n"
              "  strategies: {trust: 1, discriminator: 3, cooperator: 0, defector: 2}\n");
    const ts_model *m = b.m;
    const char *const names[] = {"trust_0",         "discriminator_0", "discriminator_1",
                                 "discriminator_2", "defector_0",      "defector_1"};
    const int strategy[] = {TS_STRATEGY_TRUST,         TS_STRATEGY_DISCRIMINATOR,
                            TS_STRATEGY_DISCRIMINATOR, TS_STRATEGY_DISCRIMINATOR,
                            TS_STRATEGY_DEFECTOR,      TS_STRATEGY_DEFECTOR};
    enum { N = 6 };
    assert_int_equal(m->n_orgs, N);
    assert_int_equal(m->n_leaders, N);
    for (int o = 0; o < N; o++) {
        assert_string_equal(m->org_name[o], names[o]);
        assert_int_equal(m->org_traits[o].strategy, strategy[o]);
        assert_int_equal(m->org_n_leaders[o], 1);
    }
    /* one collaboration of everyone: every ordered pair of distinct players */
    assert_int_equal(m->n_collabs, 1);
    assert_int_equal(m->n_pairs, N * (N - 1));
    assert_int_equal(m->n_upairs, N * (N - 1) / 2);
    assert_int_equal(org_index(m, "defector_1"), 5);
    /* the mode, resolved: donation rounds, images by the latest act, nobody leaves, everyone
     * observes with probability q, a neutral collaboration */
    assert_int_equal(m->schedule, TS_SCHEDULE_DONATION_ROUNDS);
    assert_int_equal(m->image_rule, TS_IMAGE_BY_LATEST_ACT);
    assert_false(m->exits);
    assert_true(m->observe_everyone && m->observe_q == 0.35);
    assert_false(m->collab[0].mandated);
    assert_true(m->collab[0].shared_purpose == 0.5 && m->collab[0].info_sharing == 0);
    assert_true(m->collab[0].formalisation == 0 && m->collab[0].target_final == 1);
    unbuild(&b);
}

/* A chain of organisations, each in a collaboration with the next: o and p are partners
 * exactly when |o - p| = 1. */
static char *chain(int n)
{
    size_t cap = (size_t)n * 96 + 256, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s + len, cap - len, "name: chain\nticks: 2\norganisations:\n");
    for (int o = 0; o < n; o++)
        len += (size_t)snprintf(s + len, cap - len, "  - {id: o%d, kind: k, leaders: 1}\n", o);
    len += (size_t)snprintf(s + len, cap - len, "collaborations:\n");
    for (int o = 0; o + 1 < n; o++)
        len += (size_t)snprintf(s + len, cap - len, "  - {id: c%d, members: [o%d, o%d]}\n", o, o,
                                o + 1);
    return s;
}

static void pair_lookups_agree_with_and_without_the_dense_index(void **state)
{
    (void)state;
    const int sizes[2] = {40, TS_DENSE_PAIRS_MAX + 6};
    for (int i = 0; i < 2; i++) {
        int n = sizes[i];
        char *yaml = chain(n);
        built b;
        build(&b, yaml);
        const ts_model *m = b.m;
        /* the dense index is kept only up to TS_DENSE_PAIRS_MAX organisations */
        assert_true((m->pair_dense != NULL) == (n <= TS_DENSE_PAIRS_MAX));
        assert_int_equal(m->n_pairs, 2 * (n - 1));
        for (int o = 0; o < n; o += (o < 8 || o > n - 8) ? 1 : 37)
            for (int p = 0; p < n; p++) {
                int k = ts_model_pair(m, o, p);
                if (abs(o - p) != 1) {
                    assert_int_equal(k, -1);
                } else {
                    assert_true(k >= 0);
                    assert_int_equal(m->pair_partner[k], p);
                }
            }
        unbuild(&b);
        free(yaml);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pairs_are_exactly_the_organisations_that_share_a_collaboration),
        cmocka_unit_test(every_pair_has_its_reverse_and_one_unordered_number),
        cmocka_unit_test(collaborations_list_their_members_and_their_leaders),
        cmocka_unit_test(accumulators_and_the_belief_bound_count_leaders_of_partners),
        cmocka_unit_test(relation_overrides_apply_in_their_directions_and_later_ones_win),
        cmocka_unit_test(traits_cultures_and_weights_come_from_the_scenario_keys),
        cmocka_unit_test(weights_that_are_all_zero_are_refused),
        cmocka_unit_test(scheduled_events_run_in_tick_order_and_file_order_within_a_tick),
        cmocka_unit_test(the_donation_game_builds_one_single_leader_player_per_strategy_count),
        cmocka_unit_test(pair_lookups_agree_with_and_without_the_dense_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
