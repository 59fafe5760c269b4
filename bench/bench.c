/* Benchmarks of the engine: prints figures, asserts nothing. Run with `cmake --build build/release
 * --target bench`.
 *
 *   small: 20 organisations x 5 leaders, one collaboration, 520 ticks (weekly, ten years)
 *   large: 2,000 organisations x 5 leaders in twenty 100-organisation collaborations
 *   scale: the command as a whole process on worlds of 2,000 and 10,000 organisations and on
 *          the donation-game reduction (1,000 leaders), with the memory's bandwidth
 *
 * Each reports acts per second and nanoseconds per act on one core (observation, evidence
 * and the end-of-tick pass included), beliefs held, memory per belief, and how often a
 * sparse store had to grow inside the tick loop. */
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <unistd.h>

#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>

#include "engine/beliefs.h"
#include "trustsim/ensemble.h"
#include "trustsim/model.h"
#include "trustsim/rng.h"
#include "trustsim/scenario.h"
#include "trustsim/sim.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A scenario of n_orgs organisations of 5 leaders in collaborations of collab_size, with the
 * model's defaults (about 0.4 meetings per leader per tick) or, engaged, leaders who meet about
 * once a tick (capacity 1.5, proximity 1). */
static char *make_scenario_with(int n_orgs, int collab_size, int ticks, int engaged)
{
    size_t cap = (size_t)n_orgs * 160 + 4096;
    char *y = malloc(cap);
    if (!y)
        return NULL;
    size_t n = (size_t)snprintf(y, cap,
                                "name: bench\nticks: %d\n"
                                "leader_defaults: {capacity: %g}\n"
                                "relations: {default: {competition: 0.2, proximity: %g}}\n"
                                "collaborations:\n",
                                ticks, engaged ? 1.5 : 1.0, engaged ? 1.0 : 0.5);
    for (int c = 0; c < n_orgs / collab_size; c++) {
        n += (size_t)snprintf(y + n, cap - n, "  - id: c%d\n    info_sharing: 0.2\n    members: [",
                              c);
        for (int k = 0; k < collab_size; k++)
            n += (size_t)snprintf(y + n, cap - n, "%so%d", k ? ", " : "", c * collab_size + k);
        n += (size_t)snprintf(y + n, cap - n, "]\n");
    }
    n += (size_t)snprintf(y + n, cap - n, "organisations:\n");
    for (int o = 0; o < n_orgs; o++)
        n += (size_t)snprintf(y + n, cap - n, "  - {id: o%d, kind: acute_trust, leaders: 5}\n", o);
    return y;
}

static char *make_scenario(int n_orgs, int collab_size, int ticks)
{
    return make_scenario_with(n_orgs, collab_size, ticks, 0);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int bench(const char *label, int n_orgs, int collab_size, int ticks, int runs, int engaged)
{
    char *text = make_scenario_with(n_orgs, collab_size, ticks, engaged);
    ts_scenario sc;
    ts_error err;
    if (!text || ts_scenario_load_string(&sc, text, label, &err) != TS_OK) {
        fprintf(stderr, "bench: %s\n", text ? err.msg : "out of memory");
        free(text);
        return 1;
    }
    free(text);
    ts_model *m = NULL;
    if (ts_model_build(&m, &sc.params, &err) != TS_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        ts_scenario_destroy(&sc);
        return 1;
    }
    ts_sim *s = ts_sim_alloc(m);
    long rss_before = max_rss_kb();
    uint64_t acts = 0, meetings = 0, obs = 0, beliefs = 0, grows = 0, store_bytes = 0;
    ts_run_result res;
    /* one warm-up run: the workspace's stores reach their size, as for every later replicate */
    ts_sim_run(s, ts_seed_hash(1, 0, 999), &res, &err);
    double *rate = malloc((size_t)runs * sizeof *rate); /* each run's acts per second */
    if (!rate) {
        ts_sim_free(s);
        ts_model_free(m);
        ts_scenario_destroy(&sc);
        return 1;
    }
    double t0 = now();
    for (int r = 0; r < runs; r++) {
        double r0 = now();
        ts_sim_run(s, ts_seed_hash(1, 0, (uint64_t)r), &res, &err);
        double r1 = now();
        ts_sim_counters c = ts_sim_get_counters(s);
        rate[r] = (double)c.acts / (r1 - r0);
        acts += c.acts;
        meetings += c.meetings;
        obs += c.observations;
        beliefs += c.beliefs;
        grows += c.grows;
        store_bytes = c.belief_bytes;
    }
    double el = now() - t0;
    printf("%s: %d organisations x 5 leaders (%d leaders), collaborations of %d, %d ticks, "
           "%d runs%s\n",
           label, n_orgs, m->n_leaders, collab_size, ticks, runs,
           engaged ? ", leaders meeting about once a tick" : ", model defaults");
    printf("  %.2f meetings per leader per tick\n", (double)meetings / runs / ticks / m->n_leaders);
    printf("  %.3f s per run, %.0f acts per run, %.0f observations per act\n", el / runs,
           (double)acts / runs, acts ? (double)obs / (double)acts : 0.0);
    printf("  %.2f million acts per second, %.1f ns per act (one core, everything included)\n",
           (double)acts / el / 1e6, el * 1e9 / (double)acts);
    /* a machine shared with other work slows some runs down: the median run says more
     * about the engine than the total does */
    gsl_sort(rate, 1, (size_t)runs);
    printf("  per run: median %.2f, slowest %.2f, fastest %.2f million acts per second\n",
           gsl_stats_median_from_sorted_data(rate, 1, (size_t)runs) / 1e6, rate[0] / 1e6,
           rate[runs - 1] / 1e6);
    free(rate);
    printf("  beliefs held at the end of a run: %.0f of %zu possible (%.1f%%), %zu bytes each;\n"
           "  the store with its index: %.1f MB, %.0f bytes per belief held\n",
           (double)beliefs / runs, m->belief_bound,
           100.0 * (double)beliefs / runs / (double)m->belief_bound, TS_BELIEF_BYTES,
           (double)store_bytes / 1e6, (double)store_bytes / ((double)beliefs / runs));
    printf("  store growth inside the tick loop after warm-up: %llu times\n",
           (unsigned long long)grows);
    printf("  peak resident memory grew by %.1f MB during the timed runs (max RSS %.1f MB)\n",
           (double)(max_rss_kb() - rss_before) / 1024.0, (double)max_rss_kb() / 1024.0);
    ts_sim_free(s);
    ts_model_free(m);
    ts_scenario_destroy(&sc);
    return 0;
}

/* Ensembles: 200 replicates of the small system over 260 ticks on 1 and 2 threads, through
 * the whole pipeline (runs, blocks saved as they go, merge into the final file). */
static int bench_ensemble(int reps)
{
    char *text = make_scenario(20, 20, 260);
    ts_scenario sc;
    ts_error err;
    if (!text || ts_scenario_load_string(&sc, text, "ensemble", &err) != TS_OK) {
        fprintf(stderr, "bench: %s\n", text ? err.msg : "out of memory");
        free(text);
        return 1;
    }
    free(text);
    sc.params.replicates = reps;
    char dir[] = "/tmp/trustsim-bench-XXXXXX", out[64];
    if (!mkdtemp(dir)) {
        ts_scenario_destroy(&sc);
        return 1;
    }
    snprintf(out, sizeof out, "%s/out.h5", dir);
    /* Each thread count is timed REPEAT times, alternating, and the median is shown: on a
     * machine shared with other work a single timing can be off by a fifth. */
    enum { REPEAT = 3 };
    double rate[3][REPEAT] = {{0}}, share[3][REPEAT] = {{0}}, secs[3][REPEAT] = {{0}};
    printf("ensemble: 20 organisations x 5 leaders, 260 ticks, %d replicates (median of %d)\n",
           reps, REPEAT);
    for (int k = 0; k < REPEAT; k++)
        for (int threads = 1; threads <= 2; threads++) {
            ts_ensemble_options opt = {.threads = threads, .force = true, .shard_count = 1};
            ts_ensemble_stats st;
            if (ts_ensemble_run(&sc, out, &opt, &st, &err) != TS_OK) {
                fprintf(stderr, "bench: %s\n", err.msg);
                remove(out);
                rmdir(dir);
                ts_scenario_destroy(&sc);
                return 1;
            }
            rate[threads][k] = (double)st.runs_total / st.seconds;
            share[threads][k] = 100.0 * st.seconds_saving / st.seconds;
            secs[threads][k] = st.seconds;
        }
    double median_rate[3] = {0};
    for (int threads = 1; threads <= 2; threads++) {
        gsl_sort(rate[threads], 1, REPEAT);
        gsl_sort(share[threads], 1, REPEAT);
        gsl_sort(secs[threads], 1, REPEAT);
        median_rate[threads] = gsl_stats_median_from_sorted_data(rate[threads], 1, REPEAT);
        printf("  %d thread%s: %.1f runs per second (%.2f s), %.1f%% of the time saving output "
               "(%.1f-%.1f%%)\n",
               threads, threads > 1 ? "s" : "", median_rate[threads],
               gsl_stats_median_from_sorted_data(secs[threads], 1, REPEAT),
               gsl_stats_median_from_sorted_data(share[threads], 1, REPEAT), share[threads][0],
               share[threads][REPEAT - 1]);
    }
    printf("  parallel efficiency on 2 threads: %.0f%%\n",
           100.0 * median_rate[2] / (2 * median_rate[1]));
    remove(out);
    rmdir(dir);
    ts_scenario_destroy(&sc);
    return 0;
}

/* ---- scale: whole processes of the command --------------------------------------------- */

/* The memory's bandwidth as a STREAM-style triad a = b + 3 c over three arrays of 128 MB,
 * much larger than any cache (24 bytes moved per element); the best of three. */
static double triad_gbs(void)
{
    size_t n = (size_t)16 << 20;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    double best = 0;
    if (a && b && c) {
        for (size_t i = 0; i < n; i++)
            a[i] = 0, b[i] = (double)i, c[i] = 1.0;
        for (int k = 0; k < 3; k++) {
            double t0 = now();
            for (size_t i = 0; i < n; i++)
                a[i] = b[i] + 3.0 * c[i];
            double gbs = 24.0 * (double)n / (now() - t0) / 1e9;
            best = gbs > best ? gbs : best;
        }
        if (a[n / 2] != b[n / 2] + 3.0) /* keep the loop */
            best = 0;
    }
    free(a), free(b), free(c);
    return best;
}

/* What `trustsim run PATH -o OUT -j 1 -q` costs as a whole process: wall and CPU seconds and
 * peak resident memory, from the kernel's accounting of the child. */
static int run_command(const char *path, const char *out, double *wall, double *cpu,
                       double *peak_mb)
{
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execl(TS_CLI, "trustsim", "run", path, "-o", out, "-j", "1", "-q", "--force", (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    *wall = now() - t0;
    *cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    *peak_mb = (double)ru.ru_maxrss / 1024.0;
    return 0;
}

/* One scale case: the command on the scenario text as a whole process, then the same run
 * (point 0, replicate 0, the command's seed) in this process for the engine's counters. */
static int bench_scale(const char *label, const char *text, double stream, double *wall_out)
{
    char dir[] = "/tmp/trustsim-bench-XXXXXX", path[96], out[96];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    FILE *f = fopen(path, "w");
    int rc = !f || fputs(text, f) < 0;
    if (f)
        rc |= fclose(f) != 0;
    double wall = 0, cpu = 0, peak = 0;
    if (!rc && run_command(path, out, &wall, &cpu, &peak) != 0) {
        fprintf(stderr, "bench: %s: the command failed\n", label);
        rc = 1;
    }
    remove(out);
    remove(path);
    rmdir(dir);
    ts_scenario sc;
    ts_error err;
    if (rc || ts_scenario_load_string(&sc, text, label, &err) != TS_OK)
        return 1;
    ts_model *m = NULL;
    ts_sim *s = NULL;
    ts_run_result res;
    if (ts_model_build(&m, &sc.params, &err) != TS_OK || !(s = ts_sim_alloc(m)) ||
        ts_sim_run(s, ts_seed_hash(sc.params.seed, 0, 0), &res, &err) != TS_OK) {
        fprintf(stderr, "bench: %s: %s\n", label, err.msg);
        ts_sim_free(s);
        ts_model_free(m);
        ts_scenario_destroy(&sc);
        return 1;
    }
    ts_sim_counters c = ts_sim_get_counters(s);
    printf("%s\n", label);
    printf("  whole process, one thread: %.2f s wall, %.2f s CPU, peak %.0f MB\n", wall, cpu, peak);
    printf("  %llu acts (%.0f per CPU second), %llu observations (%.0f per CPU second, %.1f ns "
           "each, everything included)\n",
           (unsigned long long)c.acts, (double)c.acts / cpu, (unsigned long long)c.observations,
           (double)c.observations / cpu, c.observations ? cpu * 1e9 / (double)c.observations : 0);
    printf("  %llu beliefs, %.0f bytes each with the index; %d organisation pairs\n",
           (unsigned long long)c.beliefs,
           c.beliefs ? (double)c.belief_bytes / (double)c.beliefs : 0, m->n_pairs);
    printf("  end-of-tick passes: %.2f s, %.1f GB/s at the least (the memory's triad: %.1f GB/s)\n",
           c.pass_seconds, (double)c.pass_bytes / c.pass_seconds / 1e9, stream);
    ts_sim_free(s);
    ts_model_free(m);
    ts_scenario_destroy(&sc);
    if (wall_out)
        *wall_out = wall;
    return 0;
}

static char *donation_scenario(void)
{
    const char *text = "name: donation\nticks: 50\nmode: donation_game\n"
                       "organisations: [{id: a, kind: k}]\n"
                       "donation_game: {q: 0.5, benefit: 1.0, cost: 0.3,\n"
                       "  strategies: {discriminator: 900, defector: 100, cooperator: 0}}\n";
    char *y = malloc(strlen(text) + 1);
    return y ? strcpy(y, text) : NULL;
}

/* Large worlds and the donation reduction, each as a whole process of the command. */
static int bench_worlds(int quick)
{
    double stream = triad_gbs(), wall_2k = 0, wall_10k = 0;
    printf("scale: the command as a whole process on one thread; memory triad %.1f GB/s\n", stream);
    int rc = 0;
    struct {
        const char *label;
        int orgs, ticks;
        double *wall;
    } worlds[] = {
        {"world of 2,000 organisations x 5 leaders in collaborations of 100, 104 ticks", 2000, 104,
         &wall_2k},
        {"world of 10,000 organisations x 5 leaders in collaborations of 100, 2 ticks", 10000, 2,
         NULL},
        {"world of 10,000 organisations x 5 leaders in collaborations of 100, 104 ticks", 10000,
         104, &wall_10k},
    };
    for (size_t i = 0; i < sizeof worlds / sizeof *worlds; i++) {
        if (quick && worlds[i].ticks > 2)
            continue;
        char *text = make_scenario(worlds[i].orgs, 100, worlds[i].ticks);
        rc |= !text || bench_scale(worlds[i].label, text, stream, worlds[i].wall);
        free(text);
    }
    if (wall_2k > 0 && wall_10k > 0)
        printf("  10,000 organisations take %.1f times as long as 2,000 (104 ticks, wall)\n",
               wall_10k / wall_2k);
    char *text = donation_scenario();
    rc |= !text || bench_scale("donation-game reduction: 1,000 leaders (900 discriminators, 100 "
                               "defectors), q 0.5, 50 ticks",
                               text, stream, NULL);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* the command's memory policy (src/cli/main.c), so the in-process benches measure it too */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
    /* options: --quick (fewer runs and ticks); small, engaged, large, ensemble or scale (only
     * those) */
    int quick = 0, small = 0, engaged = 0, large = 0, ensemble = 0, scale = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "small") == 0)
            small = 1;
        else if (strcmp(argv[i], "engaged") == 0)
            engaged = 1;
        else if (strcmp(argv[i], "large") == 0)
            large = 1;
        else if (strcmp(argv[i], "ensemble") == 0)
            ensemble = 1;
        else if (strcmp(argv[i], "scale") == 0)
            scale = 1;
    }
    if (!small && !engaged && !large && !ensemble && !scale)
        small = engaged = large = ensemble = scale = 1;
    int rc = 0;
    if (ensemble)
        rc |= bench_ensemble(quick ? 20 : 200);
    if (small)
        rc |= bench("small", 20, 20, 520, quick ? 2 : 20, 0);
    if (engaged)
        rc |= bench("small, engaged", 20, 20, 520, quick ? 2 : 20, 1);
    if (large)
        rc |= bench("large", 2000, 100, quick ? 52 : 260, 1, 0);
    if (scale)
        rc |= bench_worlds(quick);
    return rc;
}
