/* Blocks of finished runs (src/io/blocks.h) as resume and merge meet them: a block holds back
 * exactly the runs written into it; a block of another job, a damaged one (flipped bytes in
 * its data or its metadata), a truncated one, and one whose run ids cannot belong to its job
 * are all refused as damaged, with a message naming the file and why, so that the ensemble
 * can set them aside; a block that cannot be read or written for a reason of the system says
 * that reason. */
#include "support.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/blocks.h"

enum { M = 3, T = 7, O = 3, P = O * (O - 1), RUNS = 5, TASKS = 40 };

static const char *const resolved = "name: blocks\nticks: 6\n";

/* Run i's values: distinct in every field, with NaN where final trust has none. */
static void fill(int i, double *series, double *trust, int8_t *stage, double *faith,
                 uint8_t *active)
{
    for (int k = 0; k < M * T; k++)
        series[k] = 1000.0 * i + k + 0.25;
    for (int k = 0; k < P; k++) {
        trust[k] = k % (O + 1) == 0 ? NAN : 0.01 * (i + k);
        stage[k] = (int8_t)((i + k) % 4);
    }
    for (int k = 0; k < O; k++) {
        faith[k] = 0.1 * i + 0.01 * k;
        active[k] = (uint8_t)((i + k) % 2);
    }
}

static void origin(ts_block_origin *o)
{
    ts_block_origin_init(o, resolved, TASKS, M, T, O, P);
}

/* A block of RUNS runs with task ids 3, 10, 17, ... (or the ids given), written to dir/name. */
static void write_block(const char *dir, const char *name, const uint64_t *ids)
{
    ts_block b;
    assert_int_equal(ts_block_init(&b, RUNS, M, T, O, P), 0);
    for (int i = 0; i < RUNS; i++) {
        double series[M * T], trust[P], faith[O];
        int8_t stage[P];
        uint8_t active[O];
        fill(i, series, trust, stage, faith, active);
        ts_run_result res = {M, T, series, O, P, trust, stage, faith, active};
        ts_block_add(&b, ids ? ids[i] : (uint64_t)(3 + 7 * i), &res);
    }
    ts_block_origin o;
    origin(&o);
    ts_error err;
    if (ts_block_write(&b, &o, dir, name, &err) != TS_OK)
        fail_msg("%s", err.msg);
    ts_block_destroy(&b);
}

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "blocks-%ld", (long)getpid());
    return mkdir(dir, 0777);
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *path_of(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void a_block_holds_back_exactly_its_runs(void **state)
{
    (void)state;
    write_block(dir, "block-a.h5", NULL);
    assert_false(ts_test_exists(path_of("block-a.h5.tmp")));
    ts_block_origin o;
    origin(&o);
    ts_block b = {0};
    ts_error err;
    assert_int_equal(ts_block_read(path_of("block-a.h5"), &o, &b, &err), TS_OK);
    assert_int_equal(b.n, RUNS);
    for (int i = 0; i < RUNS; i++) {
        double series[M * T], trust[P], faith[O];
        int8_t stage[P];
        uint8_t active[O];
        fill(i, series, trust, stage, faith, active);
        ts_run_result r;
        ts_block_run(&b, i, &r);
        assert_int_equal(b.task[i], 3 + 7 * i);
        assert_int_equal(r.n_pairs, P);
        assert_memory_equal(r.series, series, sizeof series);
        assert_memory_equal(r.trust_interorg, trust, sizeof trust); /* NaN bits too */
        assert_memory_equal(r.stage, stage, sizeof stage);
        assert_memory_equal(r.faith, faith, sizeof faith);
        assert_memory_equal(r.active, active, sizeof active);
    }
    ts_block_destroy(&b);

    uint64_t *tasks;
    size_t n;
    assert_int_equal(ts_block_read_tasks(path_of("block-a.h5"), &o, &tasks, &n, &err), TS_OK);
    assert_int_equal(n, RUNS);
    for (int i = 0; i < RUNS; i++)
        assert_int_equal(tasks[i], 3 + 7 * i);
    free(tasks);
}

/* Read with origin o: TS_EINPUT, the message naming the file and containing `why`; and the
 * same when only the run ids are read, unless the damage is in the runs' values (only_values),
 * which that read does not look at. */
static void refused(const char *name, const ts_block_origin *o, const char *why, bool only_values)
{
    ts_block b = {0};
    ts_error err;
    ts_status st = ts_block_read(path_of(name), o, &b, &err);
    ts_block_destroy(&b);
    assert_int_equal(st, TS_EINPUT);
    if (!strstr(err.msg, path_of(name)) || !strstr(err.msg, why))
        fail_msg("expected '%s' about %s, got: %s", why, name, err.msg);
    uint64_t *tasks;
    size_t n;
    st = ts_block_read_tasks(path_of(name), o, &tasks, &n, &err);
    free(tasks);
    assert_int_equal(st, only_values ? TS_OK : TS_EINPUT);
}

static void assert_refused(const char *name, const ts_block_origin *o, const char *why)
{
    refused(name, o, why, false);
}

static void a_block_of_another_job_is_refused(void **state)
{
    (void)state;
    write_block(dir, "block-b.h5", NULL);
    ts_block_origin o;
    ts_block_origin_init(&o, "name: blocks\nticks: 7\n", TASKS, M, T, O, P); /* another scenario */
    assert_refused("block-b.h5", &o, "belongs to another scenario");
    ts_block_origin_init(&o, resolved, TASKS + 1, M, T, O, P); /* another number of runs */
    assert_refused("block-b.h5", &o, "belongs to another scenario");
    ts_block_origin_init(&o, resolved, TASKS, M, T + 1, O, P); /* runs of another length */
    assert_refused("block-b.h5", &o, "shaped for another scenario");
    ts_block_origin_init(&o, resolved, TASKS, M, T, O, P - 2); /* other pairs */
    assert_refused("block-b.h5", &o, "shaped for another scenario");
}

/* Flip n bytes of a file from byte `at` (at < 0: that many bytes before its end). */
static void flip_bytes(const char *path, long at, int n)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (at < 0)
        at += size;
    assert_true(at >= 0 && at + n <= size);
    unsigned char buf[256];
    fseek(f, at, SEEK_SET);
    assert_int_equal(fread(buf, 1, (size_t)n, f), n);
    for (int i = 0; i < n; i++)
        buf[i] ^= 0xff;
    fseek(f, at, SEEK_SET);
    assert_int_equal(fwrite(buf, 1, (size_t)n, f), n);
    fclose(f);
}

static long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

static void damaged_or_truncated_blocks_are_refused(void **state)
{
    (void)state;
    ts_block_origin o;
    origin(&o);
    /* 64 bytes in the middle: in the runs' values, which fail their checksum */
    write_block(dir, "block-c.h5", NULL);
    flip_bytes(path_of("block-c.h5"), file_size(path_of("block-c.h5")) / 2, 64);
    refused("block-c.h5", &o, "Fletcher32 checksum", true);
    /* the file's metadata: its superblock, at its start, and what is written last */
    write_block(dir, "block-d.h5", NULL);
    flip_bytes(path_of("block-d.h5"), 20, 4);
    assert_refused("block-d.h5", &o, "cannot open as HDF5");
    write_block(dir, "block-e.h5", NULL);
    flip_bytes(path_of("block-e.h5"), -40, 8);
    assert_refused("block-e.h5", &o, "damaged block");
    /* cut to half: a block a full disk or a crash left short */
    write_block(dir, "block-f.h5", NULL);
    assert_int_equal(truncate(path_of("block-f.h5"), file_size(path_of("block-f.h5")) / 2), 0);
    assert_refused("block-f.h5", &o, "cannot open as HDF5");
    /* not a block at all */
    FILE *f = fopen(path_of("block-g.h5"), "w");
    fputs("name: not a block\n", f);
    fclose(f);
    assert_refused("block-g.h5", &o, "cannot open as HDF5");
}

static void run_ids_that_cannot_belong_to_the_job_are_refused(void **state)
{
    (void)state;
    ts_block_origin o;
    origin(&o);
    const uint64_t outside[RUNS] = {0, 1, 2, TASKS, 4};
    write_block(dir, "block-h.h5", outside);
    assert_refused("block-h.h5", &o, "run 40 is outside this job's 40 runs");
    const uint64_t twice[RUNS] = {5, 6, 7, 6, 8};
    write_block(dir, "block-i.h5", twice);
    assert_refused("block-i.h5", &o, "run 6 appears twice");
}

static void the_system_s_reason_is_given(void **state)
{
    (void)state;
    ts_block_origin o;
    origin(&o);
    ts_block b = {0};
    ts_error err;
    /* a block that is not there cannot be read: not damage, an error of the run */
    assert_int_equal(ts_block_read(path_of("block-none.h5"), &o, &b, &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, "block-none.h5"));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
    /* nor written where there is no directory */
    assert_int_equal(ts_block_init(&b, 1, M, T, O, P), 0);
    char nowhere[300];
    snprintf(nowhere, sizeof nowhere, "%s/missing", dir);
    assert_int_equal(ts_block_write(&b, &o, nowhere, "block-x.h5", &err), TS_ERUNTIME);
    assert_non_null(strstr(err.msg, "block-x.h5"));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
    ts_block_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_block_holds_back_exactly_its_runs),
        cmocka_unit_test(a_block_of_another_job_is_refused),
        cmocka_unit_test(damaged_or_truncated_blocks_are_refused),
        cmocka_unit_test(run_ids_that_cannot_belong_to_the_job_are_refused),
        cmocka_unit_test(the_system_s_reason_is_given),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
