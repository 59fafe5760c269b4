/* `trustsim export` and `trustsim info` as a user meets them: the CSV tables hold exactly the
 * numbers of the file (bit for bit, NaN as an empty field) for the runs marked done and no
 * others, existing tables are never replaced without --force, and `info` describes the file
 * and reports the replicate mean that the file's own values give. */
#include "support.h"

#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trustsim/metrics.h"

enum { N_POINTS = 2, N_REPS = 3, TICKS = 120, N_TIMES = TICKS + 1, N_ORGS = 3, N_PAIRS = 2 };

static char h5[256], dir[256];

/* A two-point sweep of three organisations, two of which share a collaboration (so the third
 * has no pair), run for 120 weekly ticks. */
static int setup(void **state)
{
    (void)state;
    char yaml[256], out[8192], args[1024];
    snprintf(yaml, sizeof yaml, "export-%ld.yaml", (long)getpid());
    snprintf(h5, sizeof h5, "export-%ld.h5", (long)getpid());
    snprintf(dir, sizeof dir, "export-%ld-csv", (long)getpid());
    FILE *f = fopen(yaml, "w");
    if (!f)
        return -1;
    fprintf(f,
            "name: export_test\n"
            "description: Three organisations, two of them collaborating.\n"
            "seed: 5\nticks: %d\ntick_unit: week\nreplicates: %d\n"
            "organisations:\n  - {id: acute, kind: acute_trust}\n"
            "  - {id: council, kind: council}\n  - {id: \"gp,north\", kind: gp_federation}\n"
            "collaborations:\n  - {id: pair, members: [acute, council]}\n"
            "sweep:\n  design: list\n  parameters:\n"
            "    reciprocity.q0: {values: [0.1, 0.3]}\n"
            "    faith.initial: {values: [0.6, 0.4]}\n",
            TICKS, N_REPS);
    fclose(f);
    snprintf(args, sizeof args, "run %s -o %s -q --force -j 2", yaml, h5);
    int rc = ts_test_cli(args, out, sizeof out);
    remove(yaml);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, h5);
    return system(cmd) == 0 ? 0 : -1;
}

static char *table(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return ts_test_read_file(path);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static void read_doubles(hid_t file, const char *name, double *buf)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    assert_true(d >= 0);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Dclose(d);
}

/* A field of CSV text as a double: empty is NaN. */
static double field_value(const char *s)
{
    if (*s == '\0' || *s == '\n')
        return NAN;
    return strtod(s, NULL);
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Checks every row of series.csv against /series, and returns how many rows there were. */
static size_t check_series_rows(hid_t file, char *csv)
{
    static double values[N_POINTS * N_REPS * N_TIMES];
    char *save = NULL, *line = strtok_r(csv, "\n", &save);
    assert_string_equal(line, "point,replicate,tick,metric,value");
    char last_metric[64] = "";
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        unsigned p, r;
        int tick, used = 0;
        char metric[64];
        assert_int_equal(sscanf(line, "%u,%u,%d,%63[^,],%n", &p, &r, &tick, metric, &used), 4);
        if (strcmp(metric, last_metric) != 0) { /* rows come metric by metric */
            char name[128];
            snprintf(name, sizeof name, "/series/%s", metric);
            read_doubles(file, name, values);
            snprintf(last_metric, sizeof last_metric, "%s", metric);
        }
        assert_true(p < N_POINTS && r < N_REPS && tick >= 0 && tick <= TICKS);
        double want = values[((size_t)p * N_REPS + r) * N_TIMES + (size_t)tick];
        assert_true(same(field_value(line + used), want));
        rows++;
    }
    return rows;
}

static void export_writes_the_numbers_of_the_file_exactly(void **state)
{
    (void)state;
    char out[8192], args[1024];
    snprintf(args, sizeof args, "export %s --csv %s", h5, dir);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    const size_t runs = N_POINTS * N_REPS, metrics = (size_t)ts_metric_count(TS_MODE_STANDARD);

    hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    char *series = table("series.csv");
    assert_non_null(series);
    assert_int_equal(check_series_rows(file, series), runs * N_TIMES * metrics);
    free(series);

    /* swept values in the sweep's order, and read back exactly */
    char *points = table("points.csv");
    assert_non_null(points);
    assert_int_equal(count_lines(points), N_POINTS + 1);
    assert_non_null(strstr(points, "point,reciprocity.q0,faith.initial\n"));
    assert_non_null(strstr(points, "\n1,0.29999999999999999,0.40000000000000002\n"));
    assert_true(strtod("0.29999999999999999", NULL) == 0.3);
    free(points);

    /* final trust: one row per run and ordered pair that shares a collaboration (acute and
     * council, both ways: pairs 0 and 1); the third organisation, in none, has no row */
    double trust[N_POINTS * N_REPS * N_PAIRS];
    read_doubles(file, "/final/trust_interorg", trust);
    char *ft = table("final_trust.csv");
    assert_non_null(ft);
    assert_int_equal(count_lines(ft), runs * N_PAIRS + 1);
    assert_null(strstr(ft, "gp,north"));
    char want[256];
    snprintf(want, sizeof want, "\n1,2,council,acute,%.17g\n",
             trust[(1 * N_REPS + 2) * N_PAIRS + 1]);
    assert_non_null(strstr(ft, want));
    snprintf(want, sizeof want, "\n0,1,acute,council,%.17g\n",
             trust[(0 * N_REPS + 1) * N_PAIRS + 0]);
    assert_non_null(strstr(ft, want));
    free(ft);
    char *fs = table("final_stage.csv");
    assert_non_null(fs);
    assert_int_equal(count_lines(fs), runs * N_PAIRS + 1);
    assert_null(strstr(fs, "acute,acute"));
    free(fs);
    double faith[N_POINTS * N_REPS * N_ORGS];
    read_doubles(file, "/final/faith", faith);
    char *ff = table("final_faith.csv");
    assert_non_null(ff);
    assert_int_equal(count_lines(ff), runs * N_ORGS + 1);
    snprintf(want, sizeof want, "\n0,1,council,%.17g,1\n", faith[(0 * N_REPS + 1) * N_ORGS + 1]);
    assert_non_null(strstr(ff, want));
    assert_non_null(strstr(ff, "\n0,0,\"gp,north\",")); /* a name with a comma is quoted */
    free(ff);
    H5Fclose(file);
}

static void export_never_replaces_tables_without_force(void **state)
{
    (void)state;
    char out[8192], args[1024], path[600];
    snprintf(path, sizeof path, "%s/points.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("mine\n", f);
    fclose(f);
    snprintf(args, sizeof args, "export %s --csv %s", h5, dir);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "exists (use --force to replace it)"));
    char *kept = ts_test_read_file(path);
    assert_string_equal(kept, "mine\n");
    free(kept);
    snprintf(args, sizeof args, "export %s --csv %s --force", h5, dir);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    kept = ts_test_read_file(path);
    assert_string_not_equal(kept, "mine\n");
    free(kept);

    assert_int_equal(ts_test_cli("export", out, sizeof out), 2);
    snprintf(args, sizeof args, "export %s", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "missing --csv DIR"));
    assert_int_equal(ts_test_cli("export no-such-file.h5 --csv x", out, sizeof out), 2);
    assert_non_null(strstr(out, "no-such-file.h5: cannot read"));
    snprintf(args, sizeof args, "export %s --csv %s", path, dir); /* a CSV is not HDF5 */
    assert_int_equal(ts_test_cli(args, out, sizeof out), 2);
    assert_non_null(strstr(out, "not an HDF5 file"));
}

static void export_leaves_out_runs_not_done(void **state)
{
    (void)state;
    char out[8192], args[1024], copy[300];
    snprintf(copy, sizeof copy, "%s.partial.h5", h5);
    snprintf(args, sizeof args, "cp '%s' '%s'", h5, copy);
    assert_int_equal(system(args), 0);
    hid_t file = H5Fopen(copy, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    uint8_t done[N_POINTS * N_REPS];
    hid_t d = H5Dopen2(file, "/done", H5P_DEFAULT);
    assert_true(H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0);
    done[1 * N_REPS + 1] = 0; /* point 1, replicate 1 */
    assert_true(H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, done) >= 0);
    H5Dclose(d);
    H5Fclose(file);

    snprintf(args, sizeof args, "export %s --csv %s --force", copy, dir);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    const size_t runs = N_POINTS * N_REPS - 1, metrics = (size_t)ts_metric_count(TS_MODE_STANDARD);
    char *series = table("series.csv");
    assert_int_equal(count_lines(series), runs * N_TIMES * metrics + 1);
    assert_null(strstr(series, "\n1,1,"));
    assert_non_null(strstr(series, "\n1,2,"));
    free(series);
    char *ff = table("final_faith.csv");
    assert_int_equal(count_lines(ff), runs * N_ORGS + 1);
    free(ff);

    snprintf(args, sizeof args, "info %s", copy);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "5 of 6 runs done"));
    remove(copy);
}

/* Mean of /series/<metric>[0, :, last] over the replicates, straight from the file. */
static double last_tick_mean(const char *metric)
{
    static double values[N_POINTS * N_REPS * N_TIMES];
    char name[128];
    snprintf(name, sizeof name, "/series/%s", metric);
    hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    read_doubles(file, name, values);
    H5Fclose(file);
    double sum = 0;
    for (int r = 0; r < N_REPS; r++)
        sum += values[(size_t)r * N_TIMES + TICKS];
    return sum / N_REPS;
}

static void info_describes_the_file(void **state)
{
    (void)state;
    char out[16384], args[1024], want[256];
    snprintf(args, sizeof args, "info %s", h5);
    assert_int_equal(ts_test_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "export_test: Three organisations, two of them collaborating."));
    assert_non_null(strstr(out, "design        list: 2 points"));
    assert_non_null(strstr(out, "reciprocity.q0: 2 values from 0.1 to 0.3; point 0: 0.1"));
    assert_non_null(strstr(out, "3 per point; 6 of 6 runs done"));
    snprintf(want, sizeof want, "metrics       %d", ts_metric_count(TS_MODE_STANDARD));
    assert_non_null(strstr(out, want));
    /* 120 weeks = 840 days = 2.3 years */
    assert_non_null(strstr(out, "120 ticks = 120 weeks (2.3 years)"));
    assert_non_null(strstr(out, "organisations 3: acute, council, gp,north"));
    assert_non_null(strstr(out, "point 0 at tick 120"));
    snprintf(want, sizeof want, "trust_interorg   %8.3f", last_tick_mean("trust_interorg"));
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof want, "faith            %8.3f", last_tick_mean("faith"));
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "active_orgs"));
    assert_non_null(strstr(out, "stage3_share"));

    assert_int_equal(ts_test_cli("info", out, sizeof out), 2);
    assert_int_equal(ts_test_cli("info no-such-file.h5", out, sizeof out), 2);
    assert_non_null(strstr(out, "no-such-file.h5: cannot read"));
    assert_int_equal(ts_test_cli("info --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: trustsim info"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(export_writes_the_numbers_of_the_file_exactly),
        cmocka_unit_test(export_never_replaces_tables_without_force),
        cmocka_unit_test(export_leaves_out_runs_not_done),
        cmocka_unit_test(info_describes_the_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
