/* Scenario files: the example loads with the values it states and the model's defaults
 * (docs/model.md) for the rest, the resolved YAML reads back to the same parameters, `--set`
 * changes one scalar or refuses with a precise message, and every malformed file in tests/data/bad/
 * is rejected with the exact line a user would see. Expected numbers are typed from docs/model.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "trustsim/scenario.h"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static void load_ok(ts_scenario *sc, const char *rel)
{
    ts_error err = {{0}};
    if (ts_scenario_load(sc, ts_test_source_path(rel), &err) != TS_OK)
        fail_msg("loading %s failed: %s", rel, err.msg);
}

static void load_text_ok(ts_scenario *sc, const char *text)
{
    ts_error err = {{0}};
    if (ts_scenario_load_string(sc, text, "inline", &err) != TS_OK)
        fail_msg("loading failed: %s", err.msg);
}

static int org_index(const ts_params *p, const char *id)
{
    for (int i = 0; i < p->n_orgs; i++)
        if (strcmp(p->orgs[i].id, id) == 0)
            return i;
    fail_msg("no organisation %s", id);
    return -1;
}

#define assert_near(a, b) assert_float_equal((a), (b), 1e-12)

static void assert_unset_traits(const ts_traits *t)
{
    assert_true(isnan(t->ability) && isnan(t->benevolence) && isnan(t->integrity));
    assert_true(isnan(t->predictability) && isnan(t->propensity) && isnan(t->orientation));
    assert_true(isnan(t->capacity) && isnan(t->concentration));
    assert_int_equal(t->strategy, -1);
}

/* Doubles are equal when both are unset (NaN) or bit-for-bit the same value. */
static void eq_double(double a, double b, const char *what)
{
    if (!((isnan(a) && isnan(b)) || a == b))
        fail_msg("%s differs: %.17g vs %.17g", what, a, b);
}

#define EQ_D(field) eq_double(a->field, b->field, #field)
#define EQ_I(field) assert_int_equal(a->field, b->field)
#define EQ_S(field) assert_string_equal(a->field, b->field)

static void eq_ints(const int *a, int na, const int *b, int nb)
{
    assert_int_equal(na, nb);
    assert_true((a == NULL) == (b == NULL));
    for (int i = 0; i < na; i++)
        assert_int_equal(a[i], b[i]);
}

static void eq_traits(const ts_traits *a, const ts_traits *b)
{
    EQ_D(ability);
    EQ_D(benevolence);
    EQ_D(integrity);
    EQ_D(predictability);
    EQ_D(propensity);
    EQ_D(orientation);
    EQ_D(capacity);
    EQ_D(concentration);
    EQ_I(strategy);
}

static void eq_org(const ts_org_spec *a, const ts_org_spec *b)
{
    EQ_S(id);
    EQ_S(kind);
    EQ_D(size);
    EQ_I(leaders);
    for (int i = 0; i < 3; i++)
        EQ_D(culture[i]);
    EQ_D(internal_trust);
    EQ_D(reputation);
    EQ_I(archetype);
    eq_traits(&a->traits, &b->traits);
}

static void eq_collab(const ts_collab_spec *a, const ts_collab_spec *b)
{
    EQ_S(id);
    eq_ints(a->members, a->n_members, b->members, b->n_members);
    EQ_I(mandated);
    EQ_D(shared_purpose);
    EQ_D(info_sharing);
    EQ_D(formalisation);
    EQ_D(enforcement);
    EQ_D(attribution);
    EQ_D(target_final);
    EQ_D(quick_win_floor);
    EQ_D(ramp);
}

static void eq_pair(const ts_pair_spec *a, const ts_pair_spec *b)
{
    EQ_I(from);
    EQ_I(to);
    EQ_I(symmetric);
    EQ_D(rel.competition);
    EQ_D(rel.history);
    EQ_D(rel.proximity);
}

static void eq_event(const ts_event *a, const ts_event *b)
{
    EQ_I(type);
    EQ_I(at);
    EQ_I(until);
    EQ_I(collab);
    eq_ints(a->orgs, a->n_orgs, b->orgs, b->n_orgs);
    EQ_I(leader);
    EQ_D(formalisation);
    EQ_D(enforcement);
    EQ_D(rate);
    EQ_D(faith);
    EQ_D(competition);
    EQ_D(probability);
    EQ_I(delay);
    EQ_D(proximity);
    eq_traits(&a->traits, &b->traits);
}

static void eq_sweep(const ts_sweep *a, const ts_sweep *b)
{
    EQ_I(design);
    EQ_I(n);
    EQ_I(n_params);
    for (int i = 0; i < a->n_params; i++) {
        const ts_sweep_param *x = &a->params[i], *y = &b->params[i];
        assert_string_equal(x->path, y->path);
        assert_int_equal(x->n_values, y->n_values);
        for (int j = 0; j < x->n_values; j++)
            eq_double(x->values[j], y->values[j], "sweep value");
        eq_double(x->min, y->min, "sweep min");
        eq_double(x->max, y->max, "sweep max");
        assert_int_equal(x->n, y->n);
    }
}

static void eq_blocks(const ts_params *a, const ts_params *b)
{
    EQ_I(reciprocity.norm);
    EQ_I(reciprocity.observation);
    EQ_D(reciprocity.q0);
    EQ_D(reciprocity.attention);
    EQ_D(reciprocity.detect);
    EQ_D(reciprocity.group_weight);
    EQ_D(reciprocity.group_prior_weight);
    EQ_D(reciprocity.group_m0);
    EQ_D(reciprocity.group_negativity);
    EQ_D(beliefs.m0);
    EQ_D(beliefs.forget);
    EQ_D(beliefs.lambda_bad);
    EQ_D(beliefs.lambda_deceive);
    for (int i = 0; i < TS_PILLARS; i++)
        EQ_D(beliefs.weights[i]);
    EQ_D(decision.beta_trust);
    EQ_D(decision.beta_faith);
    EQ_D(decision.beta_benevolence);
    EQ_D(decision.beta_purpose);
    EQ_D(decision.tau0);
    EQ_D(decision.penalty);
    EQ_D(decision.reputation_cost);
    EQ_D(decision.blame);
    EQ_D(situations.need_base);
    EQ_D(situations.need_visit);
    EQ_I(situations.visit_length);
    EQ_D(situations.w_coordinate);
    EQ_D(situations.w_share_info);
    EQ_D(situations.w_promise);
    EQ_D(situations.w_temptation);
    EQ_D(payoffs.help_benefit);
    EQ_D(payoffs.help_cost);
    EQ_D(payoffs.deceive_gain);
    EQ_D(payoffs.compete_gain);
    EQ_I(promises.delay);
}

static void eq_dynamics(const ts_params *a, const ts_params *b)
{
    EQ_D(faith.initial);
    EQ_D(faith.forget);
    EQ_D(faith.m0);
    EQ_D(faith.v_ref);
    EQ_D(faith.eta_shared);
    EQ_D(faith.eta_complexity);
    EQ_D(faith.shock_weight);
    EQ_D(faith.threat);
    EQ_D(faith.exit_faith);
    EQ_I(faith.exit_ticks);
    EQ_D(stages.theta_1);
    for (int i = 0; i < 2; i++) {
        EQ_D(stages.theta_up[i]);
        EQ_D(stages.chi_up[i]);
    }
    for (int i = 0; i < 3; i++)
        EQ_D(stages.theta_down[i]);
    EQ_I(stages.window);
    EQ_D(donation_game.q);
    EQ_D(donation_game.benefit);
    EQ_D(donation_game.cost);
    for (int i = 0; i < TS_STRATEGY_COUNT; i++)
        EQ_I(donation_game.strategies[i]);
}

/* Every field of ts_params, arrays element by element. */
static void assert_params_equal(const ts_params *a, const ts_params *b)
{
    EQ_S(name);
    assert_true((a->description == NULL) == (b->description == NULL));
    if (a->description)
        EQ_S(description);
    assert_true(a->seed == b->seed);
    EQ_I(ticks);
    EQ_I(tick_unit);
    EQ_I(replicates);
    EQ_I(mode);
    eq_traits(&a->leader_defaults, &b->leader_defaults);
    EQ_I(n_archetypes);
    for (int i = 0; i < a->n_archetypes; i++) {
        EQ_S(archetypes[i].id);
        eq_traits(&a->archetypes[i].traits, &b->archetypes[i].traits);
    }
    EQ_I(n_orgs);
    for (int i = 0; i < a->n_orgs; i++)
        eq_org(&a->orgs[i], &b->orgs[i]);
    EQ_I(n_collabs);
    for (int i = 0; i < a->n_collabs; i++)
        eq_collab(&a->collabs[i], &b->collabs[i]);
    EQ_D(relation_default.competition);
    EQ_D(relation_default.history);
    EQ_D(relation_default.proximity);
    EQ_I(n_pairs);
    for (int i = 0; i < a->n_pairs; i++)
        eq_pair(&a->pairs[i], &b->pairs[i]);
    eq_blocks(a, b);
    eq_dynamics(a, b);
    EQ_I(n_events);
    for (int i = 0; i < a->n_events; i++)
        eq_event(&a->events[i], &b->events[i]);
    eq_sweep(&a->sweep, &b->sweep);
}

/* ------------------------------------------------------------------------------------------ */
/* The example scenario                                                                        */

static void example_loads_with_the_values_it_sets(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    const ts_params *p = &sc.params;
    assert_string_equal(p->name, "example");
    assert_true(p->seed == 20261122u);
    assert_int_equal(p->ticks, 260);
    assert_int_equal(p->tick_unit, TS_TICK_WEEK);
    assert_int_equal(p->mode, TS_MODE_STANDARD);
    assert_non_null(strstr(p->description, "Four health and care organisations"));

    assert_int_equal(p->n_archetypes, 3);
    assert_string_equal(p->archetypes[1].id, "collaborative");
    assert_near(p->archetypes[1].traits.integrity, 0.8);
    assert_true(isnan(p->archetypes[1].traits.ability));

    assert_int_equal(p->n_orgs, 4);
    const ts_org_spec *h = &p->orgs[org_index(p, "hospital")];
    assert_near(h->size, 3.0);
    assert_int_equal(h->leaders, 4);
    assert_string_equal(p->archetypes[h->archetype].id, "pacesetter");
    assert_near(h->culture[1], 0.8);
    assert_near(h->reputation, 0.4);
    const ts_org_spec *gp = &p->orgs[org_index(p, "gp_federation")];
    assert_near(gp->traits.ability, 0.65);
    assert_true(isnan(gp->traits.integrity));
    assert_int_equal(gp->archetype, -1);

    assert_int_equal(p->n_collabs, 1);
    assert_string_equal(p->collabs[0].id, "vanguard");
    assert_int_equal(p->collabs[0].n_members, 4);
    assert_int_equal(p->collabs[0].members[2], org_index(p, "gp_federation"));
    assert_near(p->collabs[0].shared_purpose, 0.6);
    assert_near(p->collabs[0].info_sharing, 0.1);

    assert_int_equal(p->n_pairs, 2);
    assert_true(p->pairs[0].symmetric);
    assert_int_equal(p->pairs[0].to, org_index(p, "community"));
    assert_near(p->pairs[0].rel.history, -0.3);
    assert_true(isnan(p->pairs[0].rel.proximity));
    assert_false(p->pairs[1].symmetric);
    assert_int_equal(p->pairs[1].from, org_index(p, "council"));
    assert_int_equal(p->pairs[1].to, org_index(p, "hospital"));
    ts_scenario_destroy(&sc);
}

static void example_events_load_by_type(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    const ts_params *p = &sc.params;
    static const ts_event_type order[] = {
        TS_EVENT_AGREEMENT,  TS_EVENT_REGULATOR_VISIT,      TS_EVENT_REGULATOR_VISITS,
        TS_EVENT_SHOCK,      TS_EVENT_LEADERSHIP_PROGRAMME, TS_EVENT_CONFLICT_RESOLUTION,
        TS_EVENT_SHARED_HUB, TS_EVENT_NEW_LEADER,           TS_EVENT_TURNOVER};
    assert_int_equal(p->n_events, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(p->events[i].type, order[i]);
    const ts_event *e = p->events;
    assert_int_equal(e[0].at, 26);
    assert_int_equal(e[0].collab, 0);
    assert_near(e[0].formalisation, 0.3);
    assert_int_equal(e[1].n_orgs, 1); /* `organisation: hospital` */
    assert_int_equal(e[1].orgs[0], org_index(p, "hospital"));
    assert_near(e[2].rate, 0.005);
    assert_null(e[2].orgs); /* absent: all organisations */
    assert_int_equal(e[3].n_orgs, 2);
    assert_near(e[3].competition, 0.1);
    assert_near(e[4].traits.orientation, 0.2);
    assert_true(isnan(e[4].traits.ability));
    assert_int_equal(e[5].delay, 4);
    assert_near(e[6].proximity, 0.3);
    assert_int_equal(e[7].orgs[0], org_index(p, "council"));
    assert_near(e[7].traits.benevolence, 0.8);
    assert_near(e[8].rate, 0.002);
    assert_int_equal(p->donation_game.strategies[TS_STRATEGY_DISCRIMINATOR], 45);
    ts_scenario_destroy(&sc);
}

static void example_leaves_the_rest_to_model_defaults(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    const ts_params *p = &sc.params;
    const ts_org_spec *c = &p->orgs[org_index(p, "community")];
    for (int i = 0; i < 3; i++)
        assert_near(c->culture[i], 0.5);
    assert_near(c->internal_trust, 0.7);
    assert_near(c->reputation, 0.5);
    assert_unset_traits(&c->traits);
    assert_int_equal(p->orgs[org_index(p, "council")].archetype, -1);
    assert_int_equal(p->events[2].at, 0);     /* rate events start at tick 0 */
    assert_int_equal(p->events[2].until, -1); /* ... and run to the horizon */
    assert_int_equal(p->events[7].leader, 0);
    assert_int_equal(p->sweep.design, TS_DESIGN_NONE);
    assert_int_equal(p->sweep.n_params, 0);
    ts_scenario_destroy(&sc);
}

/* ------------------------------------------------------------------------------------------ */
/* Defaults                                                                                    */

static void minimal_scenario_gets_identity_defaults(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "tests/data/minimal.yaml");
    const ts_params *p = &sc.params;
    assert_null(p->description);
    assert_true(p->seed == 1);
    assert_int_equal(p->tick_unit, TS_TICK_WEEK);
    assert_int_equal(p->replicates, 1);
    assert_int_equal(p->mode, TS_MODE_STANDARD);
    /* No collaborations block: one collaboration `all` of every organisation. */
    assert_int_equal(p->n_collabs, 1);
    assert_string_equal(p->collabs[0].id, "all");
    assert_int_equal(p->collabs[0].n_members, 2);
    assert_false(p->collabs[0].mandated);
    assert_near(p->collabs[0].shared_purpose, 0.5);
    assert_near(p->collabs[0].info_sharing, 0.0);
    assert_near(p->collabs[0].formalisation, 0.0);
    assert_near(p->collabs[0].enforcement, 0.5);
    assert_near(p->collabs[0].attribution, 0.7);
    assert_near(p->collabs[0].target_final, 1.0);
    assert_near(p->collabs[0].quick_win_floor, 1.0);
    assert_near(p->collabs[0].ramp, 52);
    const ts_org_spec *o = &p->orgs[0];
    assert_near(o->size, 1);
    assert_int_equal(o->leaders, 3);
    assert_near(o->internal_trust, 0.7);
    assert_near(o->reputation, 0.5);
    assert_int_equal(o->archetype, -1);
    assert_unset_traits(&o->traits);
    assert_int_equal(p->n_archetypes + p->n_pairs + p->n_events, 0);
    ts_scenario_destroy(&sc);
}

static void minimal_scenario_gets_model_defaults(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "tests/data/minimal.yaml");
    const ts_params *p = &sc.params;
    const ts_traits *t = &p->leader_defaults;
    assert_near(t->ability, 0.7);
    assert_near(t->benevolence, 0.6);
    assert_near(t->integrity, 0.7);
    assert_near(t->predictability, 0.8);
    assert_near(t->propensity, 0.5);
    assert_near(t->orientation, 0.5);
    assert_near(t->capacity, 1.0);
    assert_near(t->concentration, 20);
    assert_int_equal(t->strategy, TS_STRATEGY_TRUST);
    assert_near(p->relation_default.competition, 0);
    assert_near(p->relation_default.history, 0);
    assert_near(p->relation_default.proximity, 0.5);
    assert_int_equal(p->reciprocity.norm, TS_NORM_IMAGE_SCORING);
    assert_int_equal(p->reciprocity.observation, TS_OBSERVATION_PROXIMITY);
    assert_near(p->reciprocity.q0, 0.2);
    assert_near(p->reciprocity.attention, 20);
    assert_near(p->reciprocity.detect, 0.3);
    assert_near(p->reciprocity.group_weight, 0.5);
    assert_near(p->reciprocity.group_prior_weight, 0.5);
    assert_near(p->reciprocity.group_m0, 10);
    assert_near(p->reciprocity.group_negativity, 2);
    assert_near(p->beliefs.m0, 2);
    assert_near(p->beliefs.forget, 0.005);
    assert_near(p->beliefs.lambda_bad, 3);
    assert_near(p->beliefs.lambda_deceive, 5);
    assert_near(p->beliefs.weights[TS_ABILITY], 0.25);
    assert_near(p->beliefs.weights[TS_BENEVOLENCE], 0.25);
    assert_near(p->beliefs.weights[TS_INTEGRITY], 0.30);
    assert_near(p->beliefs.weights[TS_PREDICTABILITY], 0.20);
    assert_near(p->decision.beta_trust, 3);
    assert_near(p->decision.beta_faith, 1);
    assert_near(p->decision.beta_benevolence, 1);
    assert_near(p->decision.beta_purpose, 1);
    assert_near(p->decision.tau0, 0.5);
    assert_near(p->decision.penalty, 1);
    assert_near(p->decision.reputation_cost, 1);
    assert_near(p->decision.blame, 0.3);
    ts_scenario_destroy(&sc);
}

static void minimal_scenario_gets_dynamics_defaults(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "tests/data/minimal.yaml");
    const ts_params *p = &sc.params;
    assert_near(p->situations.need_base, 0.05);
    assert_near(p->situations.need_visit, 0.5);
    assert_int_equal(p->situations.visit_length, 4);
    assert_near(p->situations.w_coordinate, 0.4);
    assert_near(p->situations.w_share_info, 0.25);
    assert_near(p->situations.w_promise, 0.25);
    assert_near(p->situations.w_temptation, 0.3);
    assert_near(p->payoffs.help_benefit, 1.0);
    assert_near(p->payoffs.help_cost, 0.3);
    assert_near(p->payoffs.deceive_gain, 0.5);
    assert_near(p->payoffs.compete_gain, 0.5);
    assert_int_equal(p->promises.delay, 4);
    assert_near(p->faith.initial, 0.6);
    assert_near(p->faith.forget, 0.02);
    assert_near(p->faith.m0, 10);
    assert_near(p->faith.v_ref, 0.15);
    assert_near(p->faith.eta_shared, 0.2);
    assert_near(p->faith.eta_complexity, 0.05);
    assert_near(p->faith.shock_weight, 20);
    assert_near(p->faith.threat, 0.3);
    assert_near(p->faith.exit_faith, 0.15);
    assert_int_equal(p->faith.exit_ticks, 26);
    assert_near(p->stages.theta_1, 0.45);
    assert_near(p->stages.theta_up[0], 0.55);
    assert_near(p->stages.theta_up[1], 0.70);
    assert_near(p->stages.chi_up[0], 0.60);
    assert_near(p->stages.chi_up[1], 0.75);
    assert_near(p->stages.theta_down[0], 0.25);
    assert_near(p->stages.theta_down[1], 0.40);
    assert_near(p->stages.theta_down[2], 0.55);
    assert_int_equal(p->stages.window, 12);
    assert_near(p->donation_game.q, 0.5);
    assert_near(p->donation_game.benefit, 1.0);
    assert_near(p->donation_game.cost, 0.3);
    assert_int_equal(p->donation_game.strategies[TS_STRATEGY_DISCRIMINATOR], 45);
    assert_int_equal(p->donation_game.strategies[TS_STRATEGY_DEFECTOR], 5);
    assert_int_equal(p->donation_game.strategies[TS_STRATEGY_COOPERATOR], 0);
    ts_scenario_destroy(&sc);
}

static void event_defaults_depend_on_the_type(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "tests/data/features.yaml");
    const ts_event *e = sc.params.events;
    assert_int_equal(e[0].collab, 0); /* `collaboration: all` names the default collaboration */
    assert_int_equal(e[1].until, 50);
    assert_int_equal(e[2].leader, 4);
    assert_int_equal(e[2].traits.strategy, TS_STRATEGY_TRUST);
    assert_int_equal(e[3].at, 0); /* conflict_resolution: at 0, every collaboration */
    assert_int_equal(e[3].collab, -1);
    assert_near(e[3].probability, 0.5);
    assert_int_equal(e[3].delay, 4);
    assert_null(e[4].orgs);
    assert_near(e[4].traits.capacity, -1);
    assert_near(sc.params.pairs[0].rel.proximity, 0);
    assert_true(sc.params.seed == UINT64_MAX);
    ts_scenario_destroy(&sc);
}

static void init_defaults_has_no_organisations(void **state)
{
    (void)state;
    ts_params p;
    ts_params_init_defaults(&p);
    assert_int_equal(p.n_orgs + p.n_collabs + p.n_events + p.n_pairs + p.n_archetypes, 0);
    assert_near(p.faith.initial, 0.6);
    assert_int_equal(p.stages.window, 12);
    ts_params_destroy(&p);
}

/* ------------------------------------------------------------------------------------------ */
/* Round trip and copy                                                                         */

static void assert_round_trip(const char *rel)
{
    ts_scenario a, b;
    load_ok(&a, rel);
    char *yaml = ts_params_to_yaml(&a.params);
    assert_non_null(yaml);
    load_text_ok(&b, yaml);
    assert_params_equal(&a.params, &b.params);
    free(yaml);
    ts_scenario_destroy(&a);
    ts_scenario_destroy(&b);
}

static void resolved_yaml_reads_back_identically(void **state)
{
    (void)state;
    assert_round_trip("scenarios/example.yaml");
    assert_round_trip("tests/data/minimal.yaml");
    assert_round_trip("tests/data/features.yaml");
    assert_round_trip("tests/data/sweep_grid.yaml");
    assert_round_trip("tests/data/sweep_lhs.yaml");
    assert_round_trip("tests/data/sweep_list.yaml");
}

static void resolved_yaml_spells_out_defaults(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "tests/data/minimal.yaml");
    char *yaml = ts_params_to_yaml(&sc.params);
    assert_non_null(strstr(yaml, "exit_ticks: 26"));
    assert_non_null(strstr(yaml, "theta_down: [0.25, 0.4, 0.55]"));
    assert_non_null(strstr(yaml, "id: all"));
    assert_null(strstr(yaml, "sweep")); /* no sweep: nothing to write */
    free(yaml);
    ts_scenario_destroy(&sc);
}

static void copy_is_deep(void **state)
{
    (void)state;
    ts_scenario a, b;
    ts_params copy;
    ts_error err;
    load_ok(&a, "tests/data/sweep_list.yaml");
    assert_int_equal(ts_params_copy(&copy, &a.params, &err), TS_OK);
    copy.sweep.params[0].values[0] = 9;
    copy.collabs[0].members[0] = 1;
    assert_near(a.params.sweep.params[0].values[0], 2);
    assert_int_equal(a.params.collabs[0].members[0], 0);
    ts_params_destroy(&copy);

    load_ok(&b, "scenarios/example.yaml");
    assert_int_equal(ts_params_copy(&copy, &b.params, &err), TS_OK);
    ts_scenario_destroy(&b); /* the copy must not need the original */
    load_ok(&b, "scenarios/example.yaml");
    assert_params_equal(&copy, &b.params);
    ts_params_destroy(&copy);
    ts_params_destroy(&copy); /* a destroyed value can be destroyed again */
    ts_scenario_destroy(&a);
    ts_scenario_destroy(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* --set                                                                                       */

static void set_ok(ts_scenario *sc, const char *assignment)
{
    ts_error err = {{0}};
    if (ts_scenario_set(sc, assignment, &err) != TS_OK)
        fail_msg("--set %s failed: %s", assignment, err.msg);
}

static void set_changes_one_value(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    ts_params *p = &sc.params;
    set_ok(&sc, "organisations.community.size=2.5");
    set_ok(&sc, "collaborations.vanguard.agreement.formalisation=0.4");
    set_ok(&sc, "events.3.at=131");
    set_ok(&sc, "stages.theta_up.1=0.8");
    set_ok(&sc, "faith.exit_ticks=30");
    set_ok(&sc, "collaborations.vanguard.mandated=true");
    set_ok(&sc, "reciprocity.norm=stern_judging");
    set_ok(&sc, "archetypes.opportunist.integrity=0.25");
    assert_near(p->orgs[org_index(p, "community")].size, 2.5);
    assert_near(p->orgs[org_index(p, "hospital")].size, 3.0);
    assert_near(p->collabs[0].formalisation, 0.4);
    assert_int_equal(p->events[3].at, 131);
    assert_near(p->stages.theta_up[1], 0.8);
    assert_near(p->stages.theta_up[0], 0.55);
    assert_int_equal(p->faith.exit_ticks, 30);
    assert_true(p->collabs[0].mandated);
    assert_int_equal(p->reciprocity.norm, TS_NORM_STERN_JUDGING);
    assert_near(p->archetypes[2].traits.integrity, 0.25);
    /* The resolved YAML carries the overrides. */
    char *yaml = ts_params_to_yaml(p);
    assert_non_null(strstr(yaml, "theta_up: [0.55, 0.8]"));
    free(yaml);
    ts_scenario_destroy(&sc);
}

static void assert_set_error(ts_scenario *sc, const char *assignment, const char *expected)
{
    ts_error err = {{0}};
    assert_int_equal(ts_scenario_set(sc, assignment, &err), TS_EINPUT);
    assert_string_equal(err.msg, expected);
}

static void set_refuses_with_a_reason(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    assert_set_error(&sc, "faith.exit_ticks", "--set: expected path=value, got 'faith.exit_ticks'");
    assert_set_error(&sc, "=3", "--set: expected path=value, got '=3'");
    assert_set_error(&sc, "faith.exit_tick=3", "--set: key 'faith.exit_tick': unknown key");
    assert_set_error(&sc, "faith.initial=high",
                     "--set: key 'faith.initial': expected a number, got 'high'");
    assert_set_error(&sc, "faith.exit_ticks=2.5",
                     "--set: key 'faith.exit_ticks': expected an integer, got '2.5'");
    assert_set_error(&sc, "collaborations.vanguard.mandated=yes",
                     "--set: key 'collaborations.vanguard.mandated': expected true or false, got "
                     "'yes'");
    assert_set_error(&sc, "reciprocity.norm=kindness",
                     "--set: key 'reciprocity.norm': expected one of image_scoring, standing, "
                     "stern_judging, got 'kindness'");
    assert_set_error(&sc, "reciprocity.q0=1.5",
                     "--set: key 'reciprocity.q0': must be in [0, 1], got 1.5");
    assert_set_error(&sc, "decision.tau0=0", "--set: key 'decision.tau0': must be > 0, got 0");
    assert_set_error(&sc, "organisations.hospitl.size=2",
                     "--set: key 'organisations.hospitl.size': organisation 'hospitl' is not "
                     "defined");
    assert_set_error(&sc, "events.9.at=1",
                     "--set: key 'events.9.at': event 9 is not defined (9 in all)");
    assert_set_error(&sc, "stages.theta_up.2=0.5",
                     "--set: key 'stages.theta_up.2': expected an index below 2, got '2'");
    assert_set_error(&sc, "faith=1", "--set: key 'faith': not a scalar parameter");
    assert_set_error(&sc, "organisations.hospital.id=h",
                     "--set: key 'organisations.hospital.id': an id cannot be changed");
    assert_set_error(&sc, "organisations.hospital.archetype=visionary",
                     "--set: key 'organisations.hospital.archetype': archetype 'visionary' is "
                     "not defined");
    ts_scenario_destroy(&sc);
}

static void set_undoes_a_change_that_breaks_a_rule(void **state)
{
    (void)state;
    ts_scenario sc;
    load_ok(&sc, "scenarios/example.yaml");
    /* The new_leader event replaces leader slot 0 of the council, which has 2 leaders. */
    set_ok(&sc, "events.7.leader=1");
    assert_set_error(&sc, "organisations.council.leaders=1",
                     "--set: key 'events.7.leader': must be < 1 (organisation 'council' has 1 "
                     "leaders), got 1");
    assert_int_equal(sc.params.orgs[org_index(&sc.params, "council")].leaders, 2);
    set_ok(&sc, "beliefs.weights.ability=0");
    set_ok(&sc, "beliefs.weights.benevolence=0");
    set_ok(&sc, "beliefs.weights.integrity=0");
    assert_set_error(&sc, "beliefs.weights.predictability=0",
                     "--set: key 'beliefs.weights': must have a sum > 0, got 0");
    assert_near(sc.params.beliefs.weights[TS_PREDICTABILITY], 0.2);
    ts_scenario_destroy(&sc);
}

/* ------------------------------------------------------------------------------------------ */
/* Malformed scenarios: the exact line a user sees                                             */

typedef struct bad_case {
    const char *file;   /* under tests/data/bad/ */
    const char *expect; /* the message after "<path>:" */
} bad_case;

static const bad_case bad_cases[] = {
    {"unknown_top_key.yaml", "10:1: key 'replicate': unknown key"},
    {"unknown_nested_key.yaml", "11:3: key 'faith.exit_tick': unknown key"},
    {"archetype_unknown_trait.yaml", "4:34: key 'archetypes.pacesetter.charisma': unknown key"},
    {"wrong_type_number.yaml", "9:18: key 'faith.initial': expected a number, got 'abc'"},
    {"wrong_type_int.yaml", "10:15: key 'faith.exit_ticks': expected an integer, got '2.5'"},
    {"wrong_bool.yaml",
     "12:15: key 'collaborations.vanguard.mandated': expected true or false, got 'maybe'"},
    {"bad_enum.yaml", "10:9: key 'reciprocity.norm': expected one of image_scoring, standing, "
                      "stern_judging, got 'kindness'"},
    {"strategy_unknown.yaml", "10:13: key 'leader_defaults.strategy': expected one of trust, "
                              "discriminator, cooperator, defector, got 'tit_for_tat'"},
    {"out_of_range.yaml",
     "6:17: key 'organisations.hospital.reputation': must be in [0, 1], got 1.5"},
    {"forget_half_open.yaml", "10:11: key 'beliefs.forget': must be in [0, 1), got 1"},
    {"one_sided_range.yaml", "9:35: key 'decision.tau0': must be > 0, got -1"},
    {"one_sided_int.yaml", "6:14: key 'organisations.hospital.leaders': must be >= 1, got 0"},
    {"seed_negative.yaml", "2:7: key 'seed': must be >= 0, got -5"},
    {"theta_up_element.yaml", "10:20: key 'stages.theta_up.1': must be in [0, 1], got 1.7"},
    {"dangling_pair.yaml",
     "11:27: key 'relations.pairs.0.between': organisation 'hospitl' is not defined"},
    {"dangling_member.yaml",
     "11:25: key 'collaborations.vanguard.members': organisation 'comunity' is not defined"},
    {"dangling_event_collab.yaml",
     "10:46: key 'events.0.collaboration': collaboration 'vangard' is not defined"},
    {"event_dangling_org.yaml",
     "10:58: key 'events.0.organisations': organisation 'comunity' is not defined"},
    {"undefined_archetype.yaml",
     "8:16: key 'organisations.hospital.archetype': archetype 'collaborative' is not defined"},
    {"duplicate_org_id.yaml", "9:9: key 'organisations.hospital.id': duplicate id 'hospital'"},
    {"member_twice.yaml",
     "11:36: key 'collaborations.vanguard.members': organisation 'hospital' is listed twice"},
    {"duplicate_key.yaml", "5:1: key 'ticks': duplicate key"},
    {"missing_name.yaml", "2:1: key 'name': required key missing"},
    {"missing_ticks.yaml", "1:1: key 'ticks': required key missing"},
    {"missing_kind.yaml", "4:5: key 'organisations.hospital.kind': required key missing"},
    {"name_too_long.yaml", "1:7: key 'name': must be at most 63 characters, got 70"},
    {"id_with_dot.yaml",
     "4:9: key 'organisations.0.id': expected an id (no spaces, dots or '='), got 'st.marys'"},
    {"yaml_syntax.yaml", "5:6: YAML syntax error: did not find expected ',' or '}'"},
    {"invalid_utf8.yaml", "2:10: YAML syntax error: invalid leading UTF-8 octet"},
    {"complex_key.yaml", "5:3: expected a key, got a list"},
    {"culture_two_values.yaml",
     "6:14: key 'organisations.hospital.culture': expected 3 values, got 2"},
    {"section_not_mapping.yaml", "9:8: key 'faith': expected a mapping"},
    {"list_expected.yaml", "10:3: key 'collaborations': expected a list"},
    {"empty_organisations.yaml", "3:16: key 'organisations': expected at least 1 entry"},
    {"event_type_unknown.yaml",
     "10:19: key 'events.0.type': expected one of agreement, regulator_visit, regulator_visits, "
     "shock, leadership_programme, conflict_resolution, shared_hub, new_leader, turnover, got "
     "'merger'"},
    {"event_missing_type.yaml", "10:5: key 'events.0.type': required key missing"},
    {"event_key_not_allowed.yaml", "11:61: key 'events.1.rate': unknown key"},
    {"agreement_missing_formalisation.yaml",
     "10:5: key 'events.0.formalisation': required key missing"},
    {"organisation_and_organisations.yaml",
     "10:28: key 'events.0.organisation': cannot be combined with 'organisations'"},
    {"until_before_at.yaml", "10:50: key 'events.0.until': must be >= at (50), got 10"},
    {"new_leader_slot.yaml", "10:65: key 'events.0.leader': must be < 3 (organisation "
                             "'hospital' has 3 leaders), got 3"},
    {"pair_self.yaml",
     "11:17: key 'relations.pairs.0.between': an organisation cannot be paired with itself"},
    {"pair_missing_to.yaml", "11:7: key 'relations.pairs.0.to': required key missing"},
    {"pair_between_and_from.yaml",
     "11:40: key 'relations.pairs.0.from': cannot be combined with 'between'"},
    {"weights_zero.yaml", "10:12: key 'beliefs.weights': must have a sum > 0, got 0"},
    {"donation_too_few.yaml",
     "12:15: key 'donation_game.strategies': must total at least 2 in mode donation_game, got 1"},
    {"sweep_path.yaml", "13:5: key 'sweep.parameters.reciprocity.q9': unknown key"},
    {"sweep_value_out_of_range.yaml",
     "12:30: key 'sweep.parameters.reciprocity.q0.values': must be in [0, 1], got 1.5"},
    {"sweep_list_lengths.yaml",
     "13:29: key 'sweep.parameters.decision.tau0.values': expected 3 values, got 2"},
    {"sweep_lhs_missing_n.yaml", "10:3: key 'sweep.n': required key missing"},
    {"empty_file.yaml", "1:1: the scenario is empty"},
    {"top_level_list.yaml", "1:1: expected a mapping of keys, got a list"},
    {"two_documents.yaml", "6:1: expected one YAML document, found more"},
};

static void malformed_scenarios_name_file_line_and_key(void **state)
{
    (void)state;
    size_t n = sizeof bad_cases / sizeof bad_cases[0];
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        char rel[256], path[4096], expected[4400];
        snprintf(rel, sizeof rel, "tests/data/bad/%s", bad_cases[i].file);
        snprintf(path, sizeof path, "%s", ts_test_source_path(rel));
        snprintf(expected, sizeof expected, "%s:%s", path, bad_cases[i].expect);
        ts_scenario sc;
        ts_error err = {{0}};
        ts_status st = ts_scenario_load(&sc, path, &err);
        if (st != TS_EINPUT || strcmp(err.msg, expected) != 0)
            fail_msg("%s\n  expected: %s\n  got:      %s (status %d)", bad_cases[i].file, expected,
                     err.msg, (int)st);
        /* A failed load leaves nothing to free. */
        assert_null(sc.path);
        assert_null(sc.params.orgs);
    }
}

static void missing_file_names_the_system_error(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err = {{0}};
    assert_int_equal(ts_scenario_load(&sc, "no/such/scenario.yaml", &err), TS_EINPUT);
    assert_string_equal(err.msg, "no/such/scenario.yaml: cannot read: No such file or directory");
}

static void messages_use_the_name_given_for_text(void **state)
{
    (void)state;
    ts_scenario sc;
    ts_error err = {{0}};
    const char *text = "name: x\nticks: 0\norganisations: [{id: a, kind: b}]\n";
    assert_int_equal(ts_scenario_load_string(&sc, text, "<stdin>", &err), TS_EINPUT);
    assert_string_equal(err.msg, "<stdin>:2:8: key 'ticks': must be >= 1, got 0");
}

static void loaded_scenario_keeps_its_text_and_path(void **state)
{
    (void)state;
    ts_scenario sc;
    const char *path = "tests/data/minimal.yaml";
    load_ok(&sc, path);
    char *text = ts_test_read_file(ts_test_source_path(path));
    assert_string_equal(sc.text, text);
    assert_string_equal(sc.path, ts_test_source_path(path));
    free(text);
    ts_scenario_destroy(&sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_loads_with_the_values_it_sets),
        cmocka_unit_test(example_events_load_by_type),
        cmocka_unit_test(example_leaves_the_rest_to_model_defaults),
        cmocka_unit_test(minimal_scenario_gets_identity_defaults),
        cmocka_unit_test(minimal_scenario_gets_model_defaults),
        cmocka_unit_test(minimal_scenario_gets_dynamics_defaults),
        cmocka_unit_test(event_defaults_depend_on_the_type),
        cmocka_unit_test(init_defaults_has_no_organisations),
        cmocka_unit_test(resolved_yaml_reads_back_identically),
        cmocka_unit_test(resolved_yaml_spells_out_defaults),
        cmocka_unit_test(copy_is_deep),
        cmocka_unit_test(set_changes_one_value),
        cmocka_unit_test(set_refuses_with_a_reason),
        cmocka_unit_test(set_undoes_a_change_that_breaks_a_rule),
        cmocka_unit_test(malformed_scenarios_name_file_line_and_key),
        cmocka_unit_test(missing_file_names_the_system_error),
        cmocka_unit_test(messages_use_the_name_given_for_text),
        cmocka_unit_test(loaded_scenario_keeps_its_text_and_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
