/* The output of a calibration (see include/trustsim/calibrate.h): the fitted scenario (the
 * scenario's YAML with the fitted values, after a comment header recording the fit), and the
 * report, DIR/report.md for people and DIR/fit.json for programs. Not for the fit itself
 * (calibrate.c) or for printing to the terminal (the command line). */
#include "trustsim/calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trustsim/metrics.h"
#include "trustsim/scenario.h"
#include "util/json.h"
#include "util/strbuf.h"
#include "util/textfile.h"

static const char *yesno(bool b)
{
    return b ? "yes" : "no";
}

static void format_range(const ts_free_param *f, char *buf, size_t n)
{
    if (isfinite(f->min) && isfinite(f->max))
        snprintf(buf, n, "%c%g, %g%c", f->min_open ? '(' : '[', f->min, f->max,
                 f->max_open ? ')' : ']');
    else if (isfinite(f->min))
        snprintf(buf, n, "%s %g", f->min_open ? ">" : ">=", f->min);
    else if (isfinite(f->max))
        snprintf(buf, n, "%s %g", f->max_open ? "<" : "<=", f->max);
    else
        snprintf(buf, n, "any");
}

char *ts_calibration_fitted_yaml(const ts_calibration *c, const ts_calib_report_info *info)
{
    const ts_calib_fit *fit = &c->fit;
    ts_params p;
    ts_error err;
    if (ts_calibration_params(c, fit->value, &p, &err) != TS_OK)
        return NULL;
    char name[sizeof p.name], fitted[sizeof p.name + sizeof "_fitted"];
    snprintf(name, sizeof name, "%s", p.name);
    snprintf(fitted, sizeof fitted, "%s_fitted", name);
    if (strlen(fitted) < sizeof p.name) /* a name too long to take the suffix keeps its own */
        memcpy(p.name, fitted, strlen(fitted) + 1);
    char *yaml = ts_params_to_yaml(&p);
    ts_params_destroy(&p);
    if (!yaml)
        return NULL;
    ts_strbuf b = {0};
    ts_strbuf_printf(&b, "# Fitted by `trustsim calibrate` (trustsim %s): scenario '%s'",
                     TRUSTSIM_VERSION, name);
    if (info && info->scenario_path)
        ts_strbuf_printf(&b, " (%s)", info->scenario_path);
    ts_strbuf_printf(&b, "\n# to the targets in %s",
                     info && info->targets_path ? info->targets_path
                     : c->targets->path         ? c->targets->path
                                                : "(memory)");
    ts_strbuf_printf(&b,
                     ", by the method of simulated moments:\n# %d replicates, master seed %llu "
                     "(replicate r runs with seed ts_seed_hash(master, 0, r)).\n",
                     c->opt.replicates, (unsigned long long)c->opt.seed);
    for (int i = 0; info && i < info->n_sets; i++)
        ts_strbuf_printf(&b, "# Override given: --set %s\n", info->sets[i]);
    ts_strbuf_printf(&b, "# Free parameters (schema range): start -> fitted\n");
    for (int j = 0; j < c->n_free; j++) {
        char range[96];
        format_range(&c->free[j], range, sizeof range);
        ts_strbuf_printf(&b, "#   %s %s: %.6g%s -> %.6g", c->free[j].path, range, c->free[j].start,
                         c->free[j].start_differs ? " (mean of differing values)" : "",
                         fit->value[j]);
        if (c->free[j].n_tied > 1)
            ts_strbuf_printf(&b, " (the same value in all %d)", c->free[j].n_tied);
        ts_strbuf_printf(&b, "\n");
    }
    ts_strbuf_printf(
        &b, "# Distance %.6g -> %.6g after %d iterations (%d evaluations); converged: %s\n",
        fit->start_distance, fit->best.distance, fit->iterations, fit->evaluations,
        yesno(fit->converged));
    ts_strbuf_printf(&b, "# Moments at their tick: target / simulated mean (standard error)\n");
    for (int k = 0; k < c->n_moments; k++)
        ts_strbuf_printf(&b, "#   %s (tick %d): %.4g / %.4g (%.2g)\n",
                         ts_metric_name(c->targets->moments[k].metric), c->at[k],
                         c->targets->moments[k].mean, fit->best.sim_mean[k], fit->best.sim_se[k]);
    ts_strbuf_printf(&b, "%s", yaml);
    free(yaml);
    return ts_strbuf_take(&b);
}

/* fit.json's numbers carry 12 significant digits: enough for any use of a fit, short enough
 * to read. Members after an object's first are written ", \"key\": value". */
enum { DIGITS = 12 };

static void num(ts_strbuf *b, const char *key, double v)
{
    ts_strbuf_printf(b, ", \"%s\": ", key);
    ts_json_number(b, v, DIGITS);
}

static void nums(ts_strbuf *b, const char *key, const double *v, int n)
{
    ts_strbuf_printf(b, ", \"%s\": ", key);
    ts_json_numbers(b, v, (size_t)n, 1, DIGITS);
}

static void str(ts_strbuf *b, const char *key, const char *s)
{
    ts_strbuf_printf(b, ", \"%s\": ", key);
    ts_json_string(b, s);
}

static void strs(ts_strbuf *b, const char *key, const char *const *s, int n)
{
    ts_strbuf_printf(b, ", \"%s\": [", key);
    for (int i = 0; i < n; i++) {
        ts_strbuf_printf(b, i ? ", " : "");
        ts_json_string(b, s[i]);
    }
    ts_strbuf_printf(b, "]");
}

static void flag(ts_strbuf *b, const char *key, bool x)
{
    ts_strbuf_printf(b, ", \"%s\": ", key);
    ts_json_bool(b, x);
}

static void json_parameter(const ts_calibration *c, int j, ts_strbuf *b)
{
    const ts_free_param *f = &c->free[j];
    ts_strbuf_printf(b, "    {\"path\": ");
    ts_json_string(b, f->path);
    num(b, "min", f->min);
    num(b, "max", f->max);
    ts_strbuf_printf(b, ", \"tied\": [");
    for (int i = c->tied_begin[j]; i < c->tied_begin[j + 1]; i++) {
        ts_strbuf_printf(b, i > c->tied_begin[j] ? ", " : "");
        ts_json_string(b, c->tied[i]);
    }
    ts_strbuf_printf(b, "]");
    flag(b, "start_differs", f->start_differs);
    flag(b, "min_open", f->min_open);
    flag(b, "max_open", f->max_open);
    str(b, "transform", ts_transform_name(f->transform));
    num(b, "start", f->start);
    num(b, "fitted", c->fit.value[j]);
    num(b, "se_simulation", c->fit.se_sim[j]);
    num(b, "se", c->fit.se[j]);
    flag(b, "at_bound", ts_calibration_at_bound(c, j));
    ts_strbuf_printf(b, "}%s\n", j + 1 < c->n_free ? "," : "");
}

static void json_moment(const ts_calibration *c, int k, ts_strbuf *b)
{
    const ts_calib_fit *fit = &c->fit;
    const ts_moment *m = &c->targets->moments[k];
    ts_strbuf_printf(b, "    {\"metric\": ");
    ts_json_string(b, ts_metric_name(m->metric));
    str(b, "label", m->label);
    ts_strbuf_printf(b, ", \"tick\": %d", c->at[k]);
    num(b, "target", m->mean);
    num(b, "target_sd", m->sd);
    num(b, "weight", m->weight);
    num(b, "start_mean", fit->start_eval.sim_mean[k]);
    num(b, "start_se", fit->start_eval.sim_se[k]);
    num(b, "fitted_mean", fit->best.sim_mean[k]);
    num(b, "fitted_se", fit->best.sim_se[k]);
    ts_strbuf_printf(b, ", \"replicates_with_value\": %d", fit->best.n_valid[k]);
    nums(b, "jacobian", fit->jacobian + (size_t)k * c->n_free, c->n_free);
    ts_strbuf_printf(b, "}%s\n", k + 1 < c->n_moments ? "," : "");
}

static void write_json(const ts_calibration *c, const ts_calib_report_info *info, ts_strbuf *b)
{
    const ts_calib_fit *fit = &c->fit;
    const ts_targets *t = c->targets;
    ts_strbuf_printf(b, "{\n  \"trustsim_version\": ");
    ts_json_string(b, TRUSTSIM_VERSION);
    ts_strbuf_printf(b, ",\n  \"scenario\": {\"name\": ");
    ts_json_string(b, c->base.name);
    str(b, "path", info ? info->scenario_path : NULL);
    ts_strbuf_printf(b, ", \"ticks\": %d", c->base.ticks);
    strs(b, "sets", info ? info->sets : NULL, info ? info->n_sets : 0);
    ts_strbuf_printf(b, "},\n  \"targets\": {\"path\": ");
    ts_json_string(b, info && info->targets_path ? info->targets_path : t->path);
    str(b, "source", t->source);
    ts_strbuf_printf(b, "},\n  \"command\": ");
    ts_json_string(b, info ? info->command : NULL);
    ts_strbuf_printf(b, ",\n  \"method\": {\"objective\": ");
    ts_json_string(b, "sum_k weight_k (target_k - simulated_mean_k)^2");
    str(b, "minimiser", "gsl_multimin_fminimizer_nmsimplex2");
    num(b, "tolerance", c->opt.tol);
    num(b, "initial_step", c->opt.step);
    ts_strbuf_printf(b, ", \"max_iter\": %d, \"restarts\": %d},\n", c->opt.max_iter,
                     c->opt.restarts);
    ts_strbuf_printf(b,
                     "  \"seeds\": {\"master\": %llu, \"replicate_seed\": \"ts_seed_hash(master, "
                     "0, r), r = 0 .. replicates-1, the same at every parameter point\"},\n",
                     (unsigned long long)c->opt.seed);
    ts_strbuf_printf(b, "  \"replicates\": %d,\n  \"parameters\": [\n", c->opt.replicates);
    for (int j = 0; j < c->n_free; j++)
        json_parameter(c, j, b);
    ts_strbuf_printf(b, "  ],\n  \"moments\": [\n");
    for (int k = 0; k < c->n_moments; k++)
        json_moment(c, k, b);
    ts_strbuf_printf(b, "  ],\n  \"identification\": {\"singular_values\": ");
    ts_json_numbers(b, fit->singular, (size_t)c->n_free, 1, DIGITS);
    nums(b, "weakest_direction", fit->weakest, c->n_free);
    ts_strbuf_printf(b, "},\n  \"distance\": {\"start\": ");
    ts_json_number(b, fit->start_distance, DIGITS);
    num(b, "fitted", fit->best.distance);
    ts_strbuf_printf(b, "},\n  \"iterations\": %d,\n  \"evaluations\": %d,\n  \"runs\": %d,\n",
                     fit->iterations, fit->evaluations, fit->runs);
    ts_strbuf_printf(b, "  \"converged\": ");
    ts_json_bool(b, fit->converged);
    ts_strbuf_printf(b, ",\n  \"simplex_size\": ");
    ts_json_number(b, fit->size, DIGITS);
    ts_strbuf_printf(b, ",\n  \"penalised_evaluations\": %d,\n  \"seconds\": ", fit->penalised);
    ts_json_number(b, fit->seconds, DIGITS);
    ts_strbuf_printf(b, ",\n  \"trace\": ");
    ts_json_numbers(b, fit->trace, (size_t)fit->iterations, 1, DIGITS);
    ts_strbuf_printf(b, "\n}\n");
}

static void write_markdown(const ts_calibration *c, const ts_calib_report_info *info, ts_strbuf *b)
{
    const ts_calib_fit *fit = &c->fit;
    const ts_targets *t = c->targets;
    const int J = c->n_free;
    ts_strbuf_printf(b, "# Calibration of scenario `%s`\n\n", c->base.name);
    ts_strbuf_printf(
        b,
        "Written by `trustsim calibrate` (trustsim %s). Generated: edit the inputs and "
        "rerun, not this file.\n\n",
        TRUSTSIM_VERSION);
    if (info && info->command)
        ts_strbuf_printf(b, "```sh\n%s\n```\n\n", info->command);
    ts_strbuf_printf(b, "- Scenario: `%s`, %d ticks",
                     info && info->scenario_path ? info->scenario_path : c->base.name,
                     c->base.ticks);
    for (int i = 0; info && i < info->n_sets; i++)
        ts_strbuf_printf(b, "%s`--set %s`", i ? ", " : "; overrides ", info->sets[i]);
    ts_strbuf_printf(b, "\n- Targets: `%s`",
                     info && info->targets_path ? info->targets_path : t->path);
    if (t->source)
        ts_strbuf_printf(b, ": %s", t->source);
    ts_strbuf_printf(
        b,
        "\n- Method: simulated moments. Distance = sum over moments of weight x (target "
        "- simulated mean)^2, each simulated mean over %d replicates; common random "
        "numbers: replicate r runs with seed `ts_seed_hash(%llu, 0, r)` at every "
        "parameter point. Minimised by Nelder-Mead (`gsl_multimin_fminimizer_nmsimplex2`) "
        "on logit / log transforms of the parameters, tolerance %g on the simplex size, "
        "initial step %g, up to %d iterations and %d restart(s).\n",
        c->opt.replicates, (unsigned long long)c->opt.seed, c->opt.tol, c->opt.step,
        c->opt.max_iter, c->opt.restarts);
    ts_strbuf_printf(b,
                     "- Result: distance %.4g at the start, **%.4g** fitted; %d iterations in %d "
                     "simplex run(s), %d evaluations (%d runs of the model), converged: %s "
                     "(simplex size %.2g); %.1f s.\n",
                     fit->start_distance, fit->best.distance, fit->iterations, fit->runs,
                     fit->evaluations, fit->evaluations * c->opt.replicates, yesno(fit->converged),
                     fit->size, fit->seconds);
    if (fit->penalised)
        ts_strbuf_printf(b,
                         "- %d evaluation(s) fell on points the schema refuses and were penalised; "
                         "the first: %s\n",
                         fit->penalised, fit->penalty_reason);
    ts_strbuf_printf(b, "\n## Moments\n\n");
    ts_strbuf_printf(b,
                     "Simulated means with their standard errors over the replicates; the residual "
                     "is simulated minus target.\n\n");
    ts_strbuf_printf(b,
                     "| metric | measure | tick | target | weight | start | fitted (se) | residual "
                     "|\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int k = 0; k < c->n_moments; k++) {
        const ts_moment *m = &t->moments[k];
        ts_strbuf_printf(b, "| `%s` | %s | %d | %.3g", ts_metric_name(m->metric), m->label,
                         c->at[k], m->mean);
        if (isfinite(m->sd))
            ts_strbuf_printf(b, " (sd %.2g)", m->sd);
        ts_strbuf_printf(b, " | %.3g | %.3f | %.3f (%.3f) | %+.3f |\n", m->weight,
                         fit->start_eval.sim_mean[k], fit->best.sim_mean[k], fit->best.sim_se[k],
                         fit->best.sim_mean[k] - m->mean);
    }
    ts_strbuf_printf(b, "\n## Parameters\n\n");
    ts_strbuf_printf(
        b, "The standard error from simulation is how far the fitted value would move with "
           "another set of seeds (linearised); the total adds the targets' own "
           "uncertainty and needs an `sd` on every moment.\n\n");
    ts_strbuf_printf(
        b, "| parameter | range | transform | start | fitted | se (simulation) | se (total) "
           "|\n| --- | --- | --- | ---: | ---: | ---: | ---: |\n");
    for (int j = 0; j < J; j++) {
        char range[96];
        format_range(&c->free[j], range, sizeof range);
        ts_strbuf_printf(b, "| `%s`", c->free[j].path);
        if (c->free[j].n_tied > 1)
            ts_strbuf_printf(b, " (one value for all %d)", c->free[j].n_tied);
        ts_strbuf_printf(b, " | %s | %s | %.4g%s | **%.4g** | %.2g | ", range,
                         ts_transform_name(c->free[j].transform), c->free[j].start,
                         c->free[j].start_differs ? " (mean)" : "", fit->value[j], fit->se_sim[j]);
        if (isfinite(fit->se[j]))
            ts_strbuf_printf(b, "%.2g |\n", fit->se[j]);
        else
            ts_strbuf_printf(b, "n/a |\n");
    }
    for (int j = 0; j < J; j++)
        if (ts_calibration_at_bound(c, j))
            ts_strbuf_printf(b,
                             "\n`%s` ended within 1%% of a bound of its range: the targets push it "
                             "as far as it goes, and its standard errors (a linearisation) mean "
                             "little.\n",
                             c->free[j].path);
    if (c->opt.sensitivity) {
        ts_strbuf_printf(b,
                         "\n## Sensitivity at the fit\n\nChange of each simulated mean per unit of "
                         "each parameter (central differences over 2%% of the range): which "
                         "targets each parameter can move.\n\n| metric |");
        for (int j = 0; j < J; j++)
            ts_strbuf_printf(b, " `%s` |", c->free[j].path);
        ts_strbuf_printf(b, "\n| --- |");
        for (int j = 0; j < J; j++)
            ts_strbuf_printf(b, " ---: |");
        ts_strbuf_printf(b, "\n");
        for (int k = 0; k < c->n_moments; k++) {
            ts_strbuf_printf(b, "| `%s` |", ts_metric_name(t->moments[k].metric));
            for (int j = 0; j < J; j++)
                ts_strbuf_printf(b, " %+.3f |", fit->jacobian[(size_t)k * J + j]);
            ts_strbuf_printf(b, "\n");
        }
        if (isfinite(fit->singular[J - 1])) {
            ts_strbuf_printf(
                b, "\nIdentification: the singular values of W^(1/2) G (G the table above, W "
                   "the weights) are");
            for (int j = 0; j < J; j++)
                ts_strbuf_printf(b, "%s%.3g", j ? ", " : " ", fit->singular[j]);
            ts_strbuf_printf(b, ". The weakest direction, the unit change of the parameters");
            for (int j = 0; j < J; j++)
                ts_strbuf_printf(b, "%s%+.2f `%s`", j ? ", " : " ", fit->weakest[j],
                                 c->free[j].path);
            ts_strbuf_printf(
                b,
                ", moves the weighted moments by %.3g only: that combination is known to "
                "within about sigma / %.3g, with sigma the standard error of the targets "
                "in the units of the weighted moments (1 when the weights are 1/sd^2).\n",
                fit->singular[J - 1], fit->singular[J - 1]);
        }
    }
    ts_strbuf_printf(b,
                     "\n## Convergence\n\nBest distance after iteration:\n\n| iteration | distance "
                     "|\n| ---: | ---: |\n");
    int every = fit->iterations > 20 ? (fit->iterations + 19) / 20 : 1;
    for (int i = 0; i < fit->iterations; i++)
        if (i % every == 0 || i + 1 == fit->iterations)
            ts_strbuf_printf(b, "| %d | %.5g |\n", i + 1, fit->trace[i]);
    ts_strbuf_printf(
        b, "\nThe full trace, the sensitivities and every number above are in `fit.json`.\n");
}

static ts_status write_text(const char *dir, const char *name, const ts_strbuf *b, ts_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int why = ts_write_file(path, b->s, b->len);
    return why ? ts_error_set(err, TS_ERUNTIME, "%s: cannot write: %s", path, strerror(why)) : TS_OK;
}

ts_status ts_calibration_write_report(const ts_calibration *c, const ts_calib_report_info *info,
                                      const char *dir, ts_error *err)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", dir, strerror(errno));
    ts_strbuf md = {0}, js = {0};
    write_markdown(c, info, &md);
    write_json(c, info, &js);
    ts_status st = TS_OK;
    if (md.failed || js.failed)
        st = ts_error_set(err, TS_ERUNTIME, "%s: out of memory for the report (%s)", dir,
                          strerror(ENOMEM));
    if (st == TS_OK)
        st = write_text(dir, "report.md", &md, err);
    if (st == TS_OK)
        st = write_text(dir, "fit.json", &js, err);
    ts_strbuf_free(&md);
    ts_strbuf_free(&js);
    return st;
}
