/* The work the scenario targets share (see fuzz/fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "trustsim/design.h"
#include "trustsim/model.h"
#include "trustsim/scenario.h"

size_t fuzz_design_points(const ts_params *p)
{
    const ts_sweep *sw = &p->sweep;
    if (sw->n_params == 0)
        return 1;
    size_t n = 1;
    switch (sw->design) {
    case TS_DESIGN_GRID:
        for (int k = 0; k < sw->n_params; k++) {
            size_t levels = sw->params[k].n_values > 0 ? (size_t)sw->params[k].n_values
                                                       : (size_t)sw->params[k].n;
            if (levels == 0 || n > FUZZ_MAX_POINTS / levels)
                return SIZE_MAX;
            n *= levels;
        }
        return n;
    case TS_DESIGN_LIST:
        return sw->params[0].n_values <= FUZZ_MAX_POINTS ? (size_t)sw->params[0].n_values
                                                         : SIZE_MAX;
    case TS_DESIGN_SALTELLI:
        return sw->n <= FUZZ_MAX_POINTS / (sw->n_params + 2) ? (size_t)sw->n * (sw->n_params + 2)
                                                             : SIZE_MAX;
    default:
        return sw->n <= FUZZ_MAX_POINTS ? (size_t)sw->n : SIZE_MAX;
    }
}

int fuzz_model_small(const ts_params *p)
{
    long leaders = 0;
    if (p->mode == TS_MODE_DONATION_GAME) { /* one player per organisation */
        for (int s = 0; s < TS_STRATEGY_COUNT; s++)
            leaders += p->donation_game.strategies[s];
        return leaders <= FUZZ_MAX_LEADERS;
    }
    for (int o = 0; o < p->n_orgs; o++) {
        if (p->orgs[o].leaders > FUZZ_MAX_LEADERS)
            return 0;
        leaders += p->orgs[o].leaders;
    }
    return leaders <= FUZZ_MAX_LEADERS;
}

/* The written form of a scenario loads back to the same written form: what the part
 * directory of a run and /scenario/resolved rely on to run the same parameters again. */
static void check_written_form(const ts_params *p)
{
    char *yaml = ts_params_to_yaml(p);
    if (!yaml)
        return;
    ts_scenario again;
    ts_error err;
    if (ts_scenario_load_string(&again, yaml, "resolved.yaml", &err) != TS_OK) {
        fprintf(stderr, "the written form of a valid scenario does not load: %s\n%s\n", err.msg,
                yaml);
        abort();
    }
    char *yaml2 = ts_params_to_yaml(&again.params);
    if (yaml2 && strcmp(yaml, yaml2) != 0) {
        fprintf(stderr, "the written form changes when loaded again:\n%s\n---\n%s\n", yaml, yaml2);
        abort();
    }
    free(yaml2);
    ts_scenario_destroy(&again);
    free(yaml);
}

void fuzz_exercise(const ts_params *p)
{
    check_written_form(p);
    if (fuzz_design_points(p) == SIZE_MAX)
        return;
    ts_points pts;
    ts_error err;
    if (ts_points_build(p, &pts, &err) != TS_OK)
        return;
    /* the first points and the last, applied and built */
    for (int i = 0; i < pts.n_points; i++) {
        if (i >= 3 && i < pts.n_points - 1)
            continue;
        ts_params at;
        if (ts_points_apply(&pts, i, p, &at, &err) != TS_OK)
            continue;
        ts_model *m = NULL;
        if (fuzz_model_small(&at) && ts_model_build(&m, &at, &err) == TS_OK)
            ts_model_free(m);
        ts_params_destroy(&at);
    }
    ts_points_destroy(&pts);
}

void fuzz_check_closed(void)
{
    ssize_t open = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open != 0) {
        fprintf(stderr, "%zd HDF5 objects left open\n", open);
        abort();
    }
}
