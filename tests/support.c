/* Test helpers (see support.h). */
#include "support.h"

#include <hdf5.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *ts_test_source_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", TS_SOURCE_DIR, rel);
    return buf;
}

const char *ts_test_temp_path(const char *stem, const char *suffix)
{
    static char buf[4096];
    static int counter;
    snprintf(buf, sizeof buf, "%s-%ld-%d%s", stem, (long)getpid(), counter++, suffix);
    return buf;
}

char *ts_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

typedef struct compare_ctx {
    hid_t other;
    int datasets, differing;
} compare_ctx;

/* Every numeric dataset of the visited file has an identical twin in ctx->other. */
static herr_t compare_dataset(hid_t obj, const char *name, const H5O_info_t *info, void *op)
{
    compare_ctx *ctx = op;
    if (info->type != H5O_TYPE_DATASET)
        return 0;
    hid_t a = H5Dopen2(obj, name, H5P_DEFAULT), b = H5Dopen2(ctx->other, name, H5P_DEFAULT);
    if (a < 0 || b < 0) {
        ctx->differing++;
        fprintf(stderr, "# %s: missing\n", name);
        if (a >= 0)
            H5Dclose(a);
        return 0;
    }
    hid_t ta = H5Dget_type(a);
    if (H5Tget_class(ta) != H5T_STRING) {
        hid_t native = H5Tget_native_type(ta, H5T_DIR_ASCEND);
        hid_t sa = H5Dget_space(a), sb = H5Dget_space(b);
        hssize_t n = H5Sget_simple_extent_npoints(sa);
        size_t bytes = (size_t)n * H5Tget_size(native);
        char *x = malloc(bytes + 1), *y = malloc(bytes + 1);
        bool same = n == H5Sget_simple_extent_npoints(sb) &&
                    H5Dread(a, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0 &&
                    H5Dread(b, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, y) >= 0 &&
                    memcmp(x, y, bytes) == 0;
        ctx->datasets++;
        if (!same) {
            ctx->differing++;
            fprintf(stderr, "# %s: differs\n", name);
        }
        free(x), free(y);
        H5Sclose(sa), H5Sclose(sb), H5Tclose(native);
    }
    H5Tclose(ta);
    H5Dclose(a), H5Dclose(b);
    return 0;
}

void ts_test_assert_same_datasets(const char *p1, const char *p2)
{
    hid_t f1 = H5Fopen(p1, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t f2 = H5Fopen(p2, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f1 >= 0 && f2 >= 0);
    compare_ctx ctx = {f2, 0, 0};
    H5Ovisit(f1, H5_INDEX_NAME, H5_ITER_NATIVE, compare_dataset, &ctx);
    H5Fclose(f1), H5Fclose(f2);
    assert_true(ctx.datasets > 40); /* series, summaries, finals, scales */
    assert_int_equal(ctx.differing, 0);
}

int ts_test_cli(const char *args, char *out, size_t cap)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", TS_CLI, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void world_open(world *w, const char *yaml, const char *name, const char *const *sets)
{
    ts_error err;
    if (ts_scenario_load_string(&w->sc, yaml, name, &err) != TS_OK)
        fail_msg("%s", err.msg);
    for (int i = 0; sets && sets[i]; i++)
        if (ts_scenario_set(&w->sc, sets[i], &err) != TS_OK)
            fail_msg("%s", err.msg);
    if (ts_model_build(&w->m, &w->sc.params, &err) != TS_OK)
        fail_msg("%s", err.msg);
    w->s = ts_sim_alloc(w->m);
    assert_non_null(w->s);
}

void world_close(world *w)
{
    ts_sim_free(w->s);
    ts_model_free(w->m);
    ts_scenario_destroy(&w->sc);
}

int ts_test_run(const char *fmt, ...)
{
    char args[4096], cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", TS_CLI, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool ts_test_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

void ts_test_remove_output(const char *out)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s.parts' '%s.part'", out, out, out);
    assert_int_equal(system(cmd), 0);
}

void ts_test_h5_read(int64_t file, const char *path, int64_t mem_type, void *buf)
{
    hid_t d = H5Dopen2((hid_t)file, path, H5P_DEFAULT);
    if (d < 0)
        fail_msg("cannot open %s", path);
    herr_t rc = H5Dread(d, (hid_t)mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    if (rc < 0)
        fail_msg("cannot read %s", path);
}
