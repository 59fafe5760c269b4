/* The schema as sweeps and users see it: dotted paths resolve to the parameter they name
 * (through ids, indexes and fixed lists), values outside a parameter's range are refused with
 * a reason, and the Markdown reference documents every section and key with its default. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "trustsim/scenario.h"
#include "trustsim/schema.h"

static const char *const scenario_text = "name: schema\n"
                                         "ticks: 52\n"
                                         "archetypes:\n"
                                         "  visionary: {orientation: 0.9}\n"
                                         "organisations:\n"
                                         "  - {id: trust_a, kind: acute_trust, size: 2}\n"
                                         "  - {id: council_b, kind: council, leaders: 4}\n"
                                         "events:\n"
                                         "  - {at: 12, type: shock, faith: 0.4}\n"
                                         "  - {type: turnover, rate: 0.01}\n";

static int setup(void **state)
{
    ts_scenario *sc = malloc(sizeof *sc);
    ts_error err;
    if (!sc || ts_scenario_load_string(sc, scenario_text, "schema.yaml", &err) != TS_OK) {
        free(sc);
        return -1;
    }
    *state = sc;
    return 0;
}

static int teardown(void **state)
{
    ts_scenario_destroy(*state);
    free(*state);
    return 0;
}

static ts_param_ref resolve_ok(ts_params *p, const char *path)
{
    ts_param_ref ref;
    ts_error err = {{0}};
    if (ts_schema_resolve(p, path, &ref, &err) != TS_OK)
        fail_msg("resolving %s failed: %s", path, err.msg);
    return ref;
}

static void set_ok(const ts_param_ref *ref, double v)
{
    ts_error err = {{0}};
    if (ts_param_ref_set(ref, v, &err) != TS_OK)
        fail_msg("setting %g failed: %s", v, err.msg);
}

static void resolves_sections_ids_indexes_and_fixed_lists(void **state)
{
    ts_params *p = &((ts_scenario *)*state)->params;

    ts_param_ref r = resolve_ok(p, "faith.initial");
    assert_int_equal(r.type, TS_VALUE_DOUBLE);
    assert_float_equal(ts_param_ref_get(&r), 0.6, 0);
    set_ok(&r, 0.45);
    assert_float_equal(p->faith.initial, 0.45, 0);

    r = resolve_ok(p, "organisations.council_b.leaders");
    assert_int_equal(r.type, TS_VALUE_INT);
    assert_float_equal(ts_param_ref_get(&r), 4, 0);
    set_ok(&r, 6);
    assert_int_equal(p->orgs[1].leaders, 6);
    assert_int_equal(p->orgs[0].leaders, 3);

    r = resolve_ok(p, "events.0.faith");
    assert_float_equal(ts_param_ref_get(&r), 0.4, 0);
    set_ok(&r, 0.1);
    assert_float_equal(p->events[0].faith, 0.1, 0);

    r = resolve_ok(p, "stages.theta_down.2");
    assert_float_equal(ts_param_ref_get(&r), 0.55, 0);
    set_ok(&r, 0.6);
    assert_float_equal(p->stages.theta_down[2], 0.6, 0);
    assert_float_equal(p->stages.theta_down[1], 0.40, 0);

    r = resolve_ok(p, "collaborations.all.mandated");
    assert_int_equal(r.type, TS_VALUE_BOOL);
    assert_float_equal(ts_param_ref_get(&r), 0, 0);
    set_ok(&r, 1);
    assert_true(p->collabs[0].mandated);

    r = resolve_ok(p, "collaborations.all.agreement.formalisation");
    set_ok(&r, 0.8);
    assert_float_equal(p->collabs[0].formalisation, 0.8, 0);

    r = resolve_ok(p, "donation_game.strategies.defector");
    set_ok(&r, 7);
    assert_int_equal(p->donation_game.strategies[TS_STRATEGY_DEFECTOR], 7);
}

static void unset_overrides_resolve_and_can_be_set(void **state)
{
    ts_params *p = &((ts_scenario *)*state)->params;
    ts_param_ref r = resolve_ok(p, "archetypes.visionary.integrity");
    assert_true(isnan(ts_param_ref_get(&r)));
    set_ok(&r, 0.3);
    assert_float_equal(p->archetypes[0].traits.integrity, 0.3, 0);
    r = resolve_ok(p, "organisations.trust_a.traits.ability");
    set_ok(&r, 0.9);
    assert_float_equal(p->orgs[0].traits.ability, 0.9, 0);
}

static void assert_set_refused(ts_params *p, const char *path, double v, const char *expected)
{
    ts_param_ref r = resolve_ok(p, path);
    double before = ts_param_ref_get(&r);
    ts_error err = {{0}};
    assert_int_equal(ts_param_ref_set(&r, v, &err), TS_EINPUT);
    assert_string_equal(err.msg, expected);
    assert_float_equal(ts_param_ref_get(&r), before, 0);
}

static void values_outside_the_range_are_refused(void **state)
{
    ts_params *p = &((ts_scenario *)*state)->params;
    assert_set_refused(p, "reciprocity.q0", 1.5,
                       "key 'reciprocity.q0': must be in [0, 1], got 1.5");
    assert_set_refused(p, "relations.default.history", -1.25,
                       "key 'relations.default.history': must be in [-1, 1], got -1.25");
    assert_set_refused(p, "decision.tau0", 0, "key 'decision.tau0': must be > 0, got 0");
    assert_set_refused(p, "beliefs.forget", 1, "key 'beliefs.forget': must be in [0, 1), got 1");
    assert_set_refused(p, "faith.exit_ticks", 0, "key 'faith.exit_ticks': must be >= 1, got 0");
    assert_set_refused(p, "faith.exit_ticks", 2.5,
                       "key 'faith.exit_ticks': expected an integer, got 2.5");
    assert_set_refused(p, "collaborations.all.mandated", 2,
                       "key 'collaborations.all.mandated': must be in [0, 1], got 2");
    assert_set_refused(p, "stages.theta_up.0", -0.1,
                       "key 'stages.theta_up.0': must be in [0, 1], got -0.1");
}

static void assert_resolve_error(ts_params *p, const char *path, const char *expected)
{
    ts_param_ref r;
    ts_error err = {{0}};
    assert_int_equal(ts_schema_resolve(p, path, &r, &err), TS_EINPUT);
    assert_string_equal(err.msg, expected);
}

static void paths_that_name_no_number_are_refused(void **state)
{
    ts_params *p = &((ts_scenario *)*state)->params;
    assert_resolve_error(p, "faith.initail", "key 'faith.initail': unknown key");
    assert_resolve_error(p, "faith", "key 'faith': not a scalar parameter");
    assert_resolve_error(p, "faith.initial.x", "key 'faith.initial.x': unknown key");
    assert_resolve_error(p, "reciprocity.norm", "key 'reciprocity.norm': not a numeric parameter");
    assert_resolve_error(p, "organisations.trust_b.size",
                         "key 'organisations.trust_b.size': organisation 'trust_b' is not defined");
    assert_resolve_error(p, "events.2.at", "key 'events.2.at': event 2 is not defined (2 in all)");
    assert_resolve_error(p, "events.first.at",
                         "key 'events.first.at': event first is not defined (2 in all)");
    assert_resolve_error(p, "events.0.rate", "key 'events.0.rate': unknown key");
    assert_resolve_error(p, "stages.theta_up.5",
                         "key 'stages.theta_up.5': expected an index below 2, got '5'");
    assert_resolve_error(p, "collaborations.all.members",
                         "key 'collaborations.all.members': not a scalar parameter");
}

/* The reference, written through a temporary file (not open_memstream, whose out-pointer
 * confuses GCC's dangling-pointer analysis at -O3). */
static char *markdown(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    ts_schema_write_markdown(f);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The table row of a key: from its backquoted path to the end of the line. */
static char *row_of(char *md, const char *path, char *buf, size_t n)
{
    char needle[256];
    snprintf(needle, sizeof needle, "| `%s` |", path);
    const char *start = strstr(md, needle);
    if (!start) {
        fail_msg("the reference has no row for %s", path);
        buf[0] = '\0';
        return buf;
    }
    size_t len = strcspn(start, "\n");
    snprintf(buf, n, "%.*s", (int)len, start);
    return buf;
}

static void markdown_documents_every_section_and_key(void **state)
{
    (void)state;
    char *md = markdown();
    static const char *const sections[] = {
        "leader_defaults", "archetypes",  "organisations", "collaborations",
        "relations",       "reciprocity", "beliefs",       "decision",
        "situations",      "payoffs",     "promises",      "faith",
        "stages",          "events",      "donation_game", "sweep"};
    char heading[64], row[512];
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        snprintf(heading, sizeof heading, "## `%s`", sections[i]);
        if (!strstr(md, heading))
            fail_msg("the reference has no section %s", sections[i]);
    }
    static const char *const top[] = {"name",      "description", "seed", "ticks",
                                      "tick_unit", "replicates",  "mode"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        row_of(md, top[i], row, sizeof row);
    row_of(md, "faith.exit_ticks", row, sizeof row);
    assert_non_null(strstr(row, "| 26 |"));
    assert_non_null(strstr(row, ">= 1"));
    row_of(md, "beliefs.forget", row, sizeof row);
    assert_non_null(strstr(row, "| 0.005 | [0, 1) |"));
    row_of(md, "stages.theta_down", row, sizeof row);
    assert_non_null(strstr(row, "[0.25, 0.4, 0.55]"));
    row_of(md, "reciprocity.norm", row, sizeof row);
    assert_non_null(strstr(row, "image_scoring, standing, stern_judging"));
    row_of(md, "organisations.<id>.culture", row, sizeof row);
    row_of(md, "collaborations.<id>.agreement.formalisation", row, sizeof row);
    row_of(md, "sweep.parameters.<path>.values", row, sizeof row);
    assert_non_null(strstr(md, "### `type: new_leader`"));
    assert_non_null(strstr(md, "### `type: conflict_resolution`"));
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(resolves_sections_ids_indexes_and_fixed_lists, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unset_overrides_resolve_and_can_be_set, setup, teardown),
        cmocka_unit_test_setup_teardown(values_outside_the_range_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(paths_that_name_no_number_are_refused, setup, teardown),
        cmocka_unit_test(markdown_documents_every_section_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
