/* The batch runner (see include/trustsim/ensemble.h): which tasks are left, who runs them,
 * saving finished runs in blocks, checking the blocks it finds, and merging blocks into the
 * final file.
 *
 * A block that fails its checks (damaged, truncated, of another job: src/io/blocks.h) is never
 * merged and never deleted: it is renamed into OUT.h5.damaged/, named in a warning, and its
 * runs run again, so the final file is the one an undisturbed run writes. The scenario of an
 * unfinished run is stored in the part directory with a checksum; if that is what is damaged,
 * nothing can be checked or continued and the run stops with an error. */
#include "trustsim/ensemble.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>

#include "io/blocks.h"
#include "trustsim/design.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/output.h"
#include "trustsim/reader.h"
#include "trustsim/replicates.h"
#include "trustsim/rng.h"
#include "util/textfile.h"

#define PART_SUFFIX ".parts"
#define DAMAGED_SUFFIX ".damaged"
#define SCENARIO_FILE "scenario.yaml"
#define RESOLVED_FILE "resolved.yaml"
/* the last line of a scenario file in the part directory: "# trustsim: N bytes above, crc32 X" */
#define CHECK_LINE "# trustsim: "

/* Rounds of merging: a block found damaged while merging is set aside and its runs run again,
 * then the merge starts over; more rounds than this mean the disk keeps damaging blocks. */
enum { MAX_MERGE_ROUNDS = 3 };

/* What every task of one output shares. */
typedef struct job {
    ts_scenario base; /* the resolved scenario, loaded back from its YAML */
    char *given;      /* the scenario text as the user gave it */
    ts_points pts;
    ts_model *model; /* of the base parameters: organisation names */
    size_t n_points, n_reps, n_tasks;
    int n_metrics, n_times, n_orgs, n_pairs;
    char out[4096];
    char part[4200];
    ts_block_origin origin; /* what its blocks must say they belong to */
    uint8_t *done;          /* [n_tasks] */
    size_t n_done;
    size_t set_aside;               /* blocks set aside by this call */
    const ts_ensemble_options *opt; /* for warnings (NULL: none) */
} job;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void warn(const job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(const job *j, const char *fmt, ...)
{
    if (!j->opt || !j->opt->warn)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    j->opt->warn(j->opt->warn_ctx, msg);
}

/* ---- files of the part directory -------------------------------------------------------- */

static bool path_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Write text to dir/name through a temporary file and a rename, followed by a line giving its
 * length and CRC-32 (a YAML comment, which loading ignores). */
static ts_status write_text(const char *dir, const char *name, const char *text, ts_error *err)
{
    char path[4300], tmp[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    size_t len = strlen(text);
    FILE *f = fopen(tmp, "wb");
    int why = f ? 0 : errno;
    if (f && (fputs(text, f) < 0 || (len && text[len - 1] != '\n' && fputc('\n', f) == EOF) ||
              fprintf(f, CHECK_LINE "%zu bytes above, crc32 %08lx\n", len,
                      (unsigned long)libdeflate_crc32(0, text, len)) < 0))
        why = errno ? errno : EIO;
    if (f && fclose(f) != 0 && !why)
        why = errno;
    if (!why && rename(tmp, path) != 0)
        why = errno;
    if (why) {
        remove(tmp);
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot write: %s", path, strerror(why));
    }
    return TS_OK;
}

/* The text write_text wrote (its check line removed and checked), into *text. A file without
 * a check line (a part directory of an older trustsim) is taken as it is. TS_EINPUT when the
 * file is missing (*text NULL, no message) or damaged; TS_ERUNTIME when it cannot be read. */
static ts_status read_text(const char *path, char **text, ts_error *err)
{
    int error;
    *text = ts_read_file(path, &error);
    if (!*text)
        return error == ENOENT
                   ? TS_EINPUT
                   : ts_error_set(err, TS_ERUNTIME, "%s: cannot read: %s", path, strerror(error));
    char *s = *text;
    size_t n = strlen(s), end = n > 0 && s[n - 1] == '\n' ? n - 1 : n, at = end;
    while (at > 0 && s[at - 1] != '\n')
        at--;
    const char *line = s + at; /* the last line */
    if (strncmp(line, CHECK_LINE, strlen(CHECK_LINE)) != 0)
        return TS_OK;
    size_t len;
    unsigned long crc;
    bool ok = sscanf(line + strlen(CHECK_LINE), "%zu bytes above, crc32 %lx", &len, &crc) == 2 &&
              (len == at || (len + 1 == at && s[len] == '\n')) &&
              libdeflate_crc32(0, s, len) == (uint32_t)crc;
    if (!ok) {
        free(*text);
        *text = NULL;
        return ts_error_set(err, TS_EINPUT,
                            "%s: damaged (it fails its checksum): the runs saved with it cannot be "
                            "checked or continued; start again with --force",
                            path);
    }
    s[len] = '\0';
    return TS_OK;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        remove(path);
    }
    closedir(d);
    rmdir(dir);
}

/* Remove a part directory whose runs are in the final file. It is first renamed away in one
 * step, so that a kill at any moment leaves it whole or gone, never half removed; what a kill
 * leaves under the other name is removed next time. */
static void remove_part(const char *part)
{
    char old[4416];
    snprintf(old, sizeof old, "%s.old", part);
    remove_dir(old);
    if (rename(part, old) == 0)
        remove_dir(old);
    else
        remove_dir(part);
}

static bool is_block_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "block-", 6) == 0 && n > 9 && strcmp(name + n - 3, ".h5") == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_list(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* The block files of the part directory, sorted by name, into *names (NULL when there are
 * none); an error names the directory and the reason it cannot be listed. */
static ts_status list_blocks(const char *part, char ***names, size_t *n, ts_error *err)
{
    *n = 0;
    *names = NULL;
    DIR *d = opendir(part);
    if (!d)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot list: %s", part, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    int why = 0;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!is_block_name(e->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char **more = realloc(*names, cap * sizeof *more);
            if (!more) {
                why = ENOMEM;
                break;
            }
            *names = more;
        }
        if (!((*names)[*n] = strdup(e->d_name))) {
            why = ENOMEM;
            break;
        }
        (*n)++;
        errno = 0;
    }
    if (!why && errno)
        why = errno; /* readdir failed */
    closedir(d);
    if (why) {
        free_list(*names, *n);
        *names = NULL;
        *n = 0;
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot list: %s", part, strerror(why));
    }
    if (*names)
        qsort(*names, *n, sizeof **names, cmp_str);
    return TS_OK;
}

static bool has_blocks(const char *part)
{
    char **names;
    size_t n;
    ts_error ignored;
    list_blocks(part, &names, &n, &ignored);
    free_list(names, n);
    return n > 0;
}

/* Set block `name` of the part directory aside into OUT.h5.damaged/, saying why (the reader's
 * message) in a warning. A block another process has set aside already is no error. */
static ts_status set_aside(job *j, const char *name, const char *why, ts_error *err)
{
    char from[4400], dir[4200], to[4500];
    snprintf(from, sizeof from, "%s/%s", j->part, name);
    snprintf(dir, sizeof dir, "%s%s", j->out, DAMAGED_SUFFIX);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create, to set a damaged block aside: %s",
                            dir, strerror(errno));
    snprintf(to, sizeof to, "%s/%s", dir, name);
    for (int k = 1; path_exists(to) && k < 1000; k++)
        snprintf(to, sizeof to, "%s/%s.%d", dir, name, k);
    if (rename(from, to) != 0) {
        if (errno == ENOENT)
            return TS_OK;
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot set the damaged block aside as %s: %s",
                            from, to, strerror(errno));
    }
    j->set_aside++;
    warn(j, "%s; set aside as %s: its runs run again", why, to);
    return TS_OK;
}

/* ---- the job ---------------------------------------------------------------------------- */

static void job_destroy(job *j)
{
    if (j->base.text)
        ts_scenario_destroy(&j->base);
    free(j->given);
    ts_points_destroy(&j->pts);
    ts_model_free(j->model);
    free(j->done);
    memset(j, 0, sizeof *j);
}

static void job_init(job *j, const char *out_path, const ts_ensemble_options *opt)
{
    memset(j, 0, sizeof *j);
    snprintf(j->out, sizeof j->out, "%s", out_path);
    snprintf(j->part, sizeof j->part, "%s%s", out_path, PART_SUFFIX);
    j->opt = opt;
}

/* Load the job from the resolved YAML (so a fresh run, a resumed one and every shard run
 * exactly the same parameters) and size everything. */
static ts_status job_load(job *j, const char *resolved, const char *given, ts_error *err)
{
    char name[4300];
    snprintf(name, sizeof name, "%s/%s", j->part, RESOLVED_FILE);
    ts_status st = ts_scenario_load_string(&j->base, resolved, name, err);
    if (st != TS_OK)
        return st;
    j->given = strdup(given);
    if (!j->given)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", j->part, strerror(ENOMEM));
    const ts_params *p = &j->base.params;
    if ((st = ts_points_build(p, &j->pts, err)) != TS_OK)
        return st;
    if ((st = ts_model_build(&j->model, p, err)) != TS_OK)
        return st;
    j->n_points = (size_t)j->pts.n_points;
    j->n_reps = (size_t)p->replicates;
    j->n_tasks = j->n_points * j->n_reps;
    j->n_metrics = ts_metric_count(p->mode);
    j->n_times = p->ticks + 1;
    j->n_orgs = j->model->n_orgs;
    j->n_pairs = j->model->n_pairs;
    ts_block_origin_init(&j->origin, resolved, j->n_tasks, j->n_metrics, j->n_times, j->n_orgs,
                         j->n_pairs);
    j->done = calloc(j->n_tasks, 1);
    if (!j->done)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for %zu runs (%s)", j->part,
                            j->n_tasks, strerror(ENOMEM));
    return TS_OK;
}

static ts_status job_load_part(job *j, ts_error *err)
{
    char path[4300];
    char *resolved = NULL, *given = NULL;
    snprintf(path, sizeof path, "%s/%s", j->part, RESOLVED_FILE);
    ts_status st = read_text(path, &resolved, err);
    if (st == TS_OK) {
        snprintf(path, sizeof path, "%s/%s", j->part, SCENARIO_FILE);
        st = read_text(path, &given, err);
    }
    if (st == TS_EINPUT && (!resolved || !given) && !path_exists(path))
        st = ts_error_set(err, TS_EINPUT,
                          "%s: no unfinished run to resume or merge (%s is missing)", j->out, path);
    if (st == TS_OK)
        st = job_load(j, resolved, given, err);
    free(resolved);
    free(given);
    return st;
}

/* Mark the tasks saved in the blocks of the part directory. verify: read every block whole
 * (every checksum); else only its task ids. A block that fails is set aside. */
static ts_status job_scan(job *j, bool verify, ts_error *err)
{
    memset(j->done, 0, j->n_tasks);
    j->n_done = 0;
    char **names;
    size_t n_files;
    ts_status st = list_blocks(j->part, &names, &n_files, err);
    ts_block b;
    memset(&b, 0, sizeof b);
    for (size_t i = 0; i < n_files && st == TS_OK; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", j->part, names[i]);
        uint64_t *tasks = NULL;
        size_t n = 0;
        ts_error why;
        ts_status rd = verify ? ts_block_read(path, &j->origin, &b, &why)
                              : ts_block_read_tasks(path, &j->origin, &tasks, &n, &why);
        if (rd == TS_EINPUT) {
            st = set_aside(j, names[i], why.msg, err);
            continue;
        }
        if (rd != TS_OK) {
            *err = why;
            st = rd;
            break;
        }
        const uint64_t *t = verify ? b.task : tasks;
        n = verify ? (size_t)b.n : n;
        for (size_t k = 0; k < n; k++) /* task ids are checked: below n_tasks */
            if (!j->done[t[k]]) {
                j->done[t[k]] = 1;
                j->n_done++;
            }
        free(tasks);
    }
    ts_block_destroy(&b);
    free_list(names, n_files);
    return st;
}

/* Create the part directory with its scenario files in one step: they are written into a
 * private directory that is then renamed into place, so another process (a shard starting at
 * the same moment) sees either no part directory or a complete one. Returns TS_OK also when
 * another process won the race; the caller then checks what it holds. */
static ts_status create_part(const char *part, const char *given, const char *resolved,
                             ts_error *err)
{
    char tmp[4400], host[256] = "host";
    gethostname(host, sizeof host - 1);
    snprintf(tmp, sizeof tmp, "%s.%s.%ld.tmp", part, host, (long)getpid());
    remove_part(tmp);
    if (mkdir(tmp, 0777) != 0)
        return ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", tmp, strerror(errno));
    ts_status st = write_text(tmp, SCENARIO_FILE, given, err);
    if (st == TS_OK)
        st = write_text(tmp, RESOLVED_FILE, resolved, err);
    if (st == TS_OK && rename(tmp, part) != 0 && errno != EEXIST && errno != ENOTEMPTY)
        st = ts_error_set(err, TS_ERUNTIME, "%s: cannot create: %s", part, strerror(errno));
    remove_part(tmp); /* left only when another process created the part directory first */
    return st;
}

/* Start a fresh run, or join one under way in the part directory (shards of one job, or a
 * replacement with --force). */
static ts_status job_start(job *j, const ts_scenario *sc, const ts_ensemble_options *opt,
                           ts_error *err)
{
    if (path_exists(j->out) && !opt->force)
        return ts_error_set(err, TS_EINPUT, "%s: exists (use --force to replace it)", j->out);
    char *resolved = ts_params_to_yaml(&sc->params);
    if (!resolved)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", j->out, strerror(ENOMEM));
    bool sharded = opt->shard_count > 1 || opt->join;
    if (opt->force && !sharded)
        remove_part(j->part);
    ts_status st = path_exists(j->part) ? TS_OK : create_part(j->part, sc->text, resolved, err);
    if (st == TS_OK) {
        char path[4300], *theirs = NULL;
        snprintf(path, sizeof path, "%s/%s", j->part, RESOLVED_FILE);
        st = read_text(path, &theirs, err);
        bool got = theirs != NULL, same = got && strcmp(theirs, resolved) == 0;
        free(theirs);
        if (st == TS_EINPUT && !got && !path_exists(path))
            st = TS_OK; /* no scenario: the part directory of no run, refused below */
        if (st == TS_OK && !same)
            st = ts_error_set(err, TS_EINPUT,
                              "%s: holds an unfinished run of another scenario: continue it with "
                              "--resume, or start again with --force",
                              j->part);
        else if (st == TS_OK && !sharded && !opt->force && has_blocks(j->part))
            st = ts_error_set(err, TS_EINPUT,
                              "%s: holds an unfinished run: continue it with --resume, or start "
                              "again with --force",
                              j->part);
    }
    if (st == TS_OK)
        st = job_load(j, resolved, sc->text, err);
    free(resolved);
    return st;
}

/* ---- running ---------------------------------------------------------------------------- */

/* The single writer's state, touched only inside the writer critical section. Two buffers of
 * runs: while a full one is written to its block file (outside the section, so that the other
 * threads go on filing runs), runs go into the other. */
typedef struct writer {
    ts_block block; /* runs being gathered */
    ts_block full;  /* the block written last, or being written (full_free false) */
    bool full_free, last_in_full;
    double block_started;
    char prefix[64];
    int seq;
    size_t saved, finished;
    double seconds;
    ts_status st;
    ts_error err;
    char last[128]; /* the block saved last, still in `block` (its runs: last_n) until reused */
    int last_n;
    bool unsaved; /* after the runs: `block` holds runs saved in no block file */
} writer;

static void writer_save(writer *w, const job *j)
{
    if (w->block.n == 0 || w->st != TS_OK)
        return;
    double t0 = now_seconds();
    char name[128];
    snprintf(name, sizeof name, "block-%s-%06d.h5", w->prefix, w->seq++);
#pragma omp critical(ts_hdf5) /* HDF5 is used by one thread at a time */
    w->st = ts_block_write(&w->block, &j->origin, j->part, name, &w->err);
    if (w->st == TS_OK) {
        w->saved += (size_t)w->block.n;
        snprintf(w->last, sizeof w->last, "%s", name);
        w->last_n = w->block.n;
        w->last_in_full = false;
    }
    w->block.n = 0;
    w->block_started = now_seconds();
    w->seconds += w->block_started - t0;
}

/* Ready for another round of runs (after a merge found a damaged block): the blocks saved so
 * far stay counted. */
static void writer_next_round(writer *w)
{
    ts_block_destroy(&w->block);
    ts_block_destroy(&w->full);
    w->full_free = w->last_in_full = false;
    w->last[0] = '\0';
    w->last_n = 0;
    w->unsaved = false;
    w->st = TS_OK;
}

/* Save the runs in `block` and keep them there, as the block saved last, for the merge to take
 * from memory instead of reading them back. */
static void writer_save_kept(writer *w, const job *j)
{
    writer_save(w, j);
    if (w->last_in_full) { /* nothing was left to save: the last block is the other buffer */
        ts_block swap = w->block;
        w->block = w->full;
        w->full = swap;
        w->last_in_full = false;
    }
    w->block.n = w->last_n;
    w->unsaved = false;
}

static void show_progress(size_t done, size_t total, size_t now, double started)
{
    double el = now_seconds() - started;
    double rate = el > 0 ? (double)now / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%zu/%zu runs  %.1f runs/s  %.0f s left   ", done, total, rate, left);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int default_block_runs(const job *j)
{
    size_t per_run =
        (size_t)j->n_metrics * j->n_times * 8 + (size_t)j->n_pairs * 9 + (size_t)j->n_orgs * 9;
    size_t runs = ((size_t)64 << 20) / (per_run > 0 ? per_run : 1);
    return runs < 1 ? 1 : runs > 256 ? 256 : (int)runs;
}

/* What the callbacks of this process's runs share (ts_replicates_run). */
typedef struct task_list {
    job *j;
    const ts_ensemble_options *opt;
    writer *wr;
    const uint64_t *todo; /* the tasks left, of which this process runs its share */
    size_t n_todo;
    long next_local; /* without a task source: the next index into todo */
    double block_seconds, started;
} task_list;

/* The next task from the source (or in order), unless asked to stop. */
static bool next_task(void *ctx, ts_replicate_task *task)
{
    task_list *t = ctx;
    const ts_ensemble_options *opt = t->opt;
    long k = opt->source ? opt->source->next(opt->source->ctx, (long)t->n_todo) : t->next_local++;
    if (k >= (long)t->n_todo || (opt->stop && *opt->stop))
        return false;
    uint64_t id = t->todo[k];
    *task = (ts_replicate_task){
        .index = id, .point = (long)(id / t->j->n_reps), .replicate = id % t->j->n_reps};
    return true;
}

static ts_status point_params(void *ctx, long point, ts_params *out, ts_error *err)
{
    const job *j = ((const task_list *)ctx)->j;
    return ts_points_apply(&j->pts, (int)point, &j->base.params, out, err);
}

/* A finished run goes into the writer's block, saved when full or old enough: written outside
 * the writer's section when the other buffer is free, so that other threads can file their
 * runs meanwhile, else at once. Called by every thread. */
static ts_status take_run(void *ctx, const ts_replicate_task *task, const ts_run_result *res,
                          ts_error *err)
{
    task_list *t = ctx;
    writer *wr = t->wr;
    const job *j = t->j;
    bool write_full = false;
    char name[128];
    ts_status st;
#pragma omp critical(ts_writer)
    {
        if (wr->st == TS_OK) {
            ts_block_add(&wr->block, task->index, res);
            wr->finished++;
            if (wr->block.n == wr->block.cap ||
                now_seconds() - wr->block_started >= t->block_seconds) {
                if (wr->full_free) {
                    ts_block swap = wr->full;
                    wr->full = wr->block;
                    wr->block = swap;
                    wr->block.n = 0;
                    wr->full_free = false;
                    snprintf(name, sizeof name, "block-%s-%06d.h5", wr->prefix, wr->seq++);
                    write_full = true;
                    wr->block_started = now_seconds();
                } else {
                    writer_save(wr, j);
                }
            }
            if (t->opt->progress)
                show_progress(j->n_done + wr->finished, j->n_tasks, wr->finished, t->started);
        }
        st = wr->st;
        if (st != TS_OK)
            *err = wr->err;
    }
    if (!write_full)
        return st;
    double t0 = now_seconds();
    ts_error why;
    ts_status written;
#pragma omp critical(ts_hdf5)
    written = ts_block_write(&wr->full, &j->origin, j->part, name, &why);
#pragma omp critical(ts_writer)
    {
        if (written == TS_OK) {
            wr->saved += (size_t)wr->full.n;
            snprintf(wr->last, sizeof wr->last, "%s", name);
            wr->last_n = wr->full.n;
            wr->last_in_full = true;
        } else if (wr->st == TS_OK) {
            wr->st = written;
            wr->err = why;
        }
        wr->seconds += now_seconds() - t0;
        wr->full_free = true;
        st = wr->st;
        if (st != TS_OK)
            *err = wr->err;
    }
    return st;
}

/* Run this process's tasks. The last block is saved unless keep_last (the caller merges at
 * once, from memory, and saves it only if the merge fails) and the run was not stopped. */
static ts_status run_tasks(job *j, const ts_ensemble_options *opt, writer *wr, bool keep_last,
                           ts_error *err)
{
    int shards = opt->shard_count > 1 ? opt->shard_count : 1;
    size_t n_todo = 0;
    uint64_t *todo = malloc((j->n_tasks > 0 ? j->n_tasks : 1) * sizeof *todo);
    if (!todo)
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for %zu runs (%s)", j->out,
                            j->n_tasks, strerror(ENOMEM));
    for (size_t t = 0; t < j->n_tasks; t++)
        if (!j->done[t] && (int)(t % (size_t)shards) == opt->shard_index)
            todo[n_todo++] = t;
    int block_runs = opt->block_runs > 0 ? opt->block_runs : default_block_runs(j);
    ts_block_destroy(&wr->full);
    wr->full_free = wr->last_in_full = false;
    /* a second buffer only where another thread can go on filing runs while one is written */
    int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    bool two = threads > 1 && n_todo > 1;
    if (ts_block_init(&wr->block, block_runs, j->n_metrics, j->n_times, j->n_orgs, j->n_pairs) !=
            0 ||
        (two && ts_block_init(&wr->full, block_runs, j->n_metrics, j->n_times, j->n_orgs,
                              j->n_pairs) != 0)) {
        free(todo);
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory for a block of %d runs (%s)",
                            j->out, block_runs, strerror(ENOMEM));
    }
    wr->full_free = two;
    task_list tl = {.j = j,
                    .opt = opt,
                    .wr = wr,
                    .todo = todo,
                    .n_todo = n_todo,
                    .block_seconds = opt->block_seconds > 0 ? opt->block_seconds : 30.0,
                    .started = now_seconds()};
    wr->block_started = tl.started;
    const ts_replicates plan = {.threads = opt->threads,
                                .n_tasks = (long)n_todo,
                                .seed = j->base.params.seed,
                                .until = -1,
                                .ctx = &tl,
                                .next = next_task,
                                .params = point_params,
                                .take = take_run,
                                .take_in_turn = false, /* take_run has its own section */
                                .spare_threads_in_runs = !opt->source,
                                .name = j->out};
    if (opt->source && opt->source->ready)
        opt->source->ready(opt->source->ctx);
    ts_error run_err;
    ts_status st = ts_replicates_run(&plan, &run_err);
    if (st != TS_OK && wr->st == TS_OK) { /* a run failed: what finished is not saved */
        wr->st = st;
        wr->err = run_err;
    }
    /* only for a job whose runs all fitted in one block and one block_seconds: a merge of more
     * could outlast the grace Slurm gives after SIGTERM */
    wr->unsaved = keep_last && wr->saved == 0 && !(opt->stop && *opt->stop) && wr->st == TS_OK &&
                  wr->block.n > 0;
    if (!wr->unsaved)
        writer_save_kept(wr, j); /* whatever finished, even when stopped; the caller frees it */
    free(todo);
    if (wr->st != TS_OK) {
        *err = wr->err;
        return wr->st;
    }
    if (opt->progress && wr->finished > 0 && j->n_done + wr->finished < j->n_tasks)
        fputc('\n', stderr);
    return TS_OK;
}

/* ---- merging ---------------------------------------------------------------------------- */

/* threads: computing the summaries (0: every core). mem: a block still in memory (or NULL),
 * saved as block file mem_name, used instead of reading that file back, or not saved at all
 * (mem_name NULL): runs in no block file. A block that fails its checks is set aside and the
 * merge given up with *damaged set: its runs must run again first. */
static ts_status merge_job(job *j, bool force, int threads, const ts_block *mem,
                           const char *mem_name, bool *damaged, ts_error *err)
{
    const char *out_path = j->out;
    *damaged = false;
    const bool unsaved = mem && !mem_name;
    for (int r = 0; unsaved && r < mem->n; r++)
        if (mem->task[r] < j->n_tasks && !j->done[mem->task[r]]) {
            j->done[mem->task[r]] = 1;
            j->n_done++;
        }
    if (j->n_done < j->n_tasks)
        return ts_error_set(err, TS_EINPUT,
                            "%s: %zu of %zu runs are not done yet (run the remaining shards, or "
                            "trustsim run --resume %s)",
                            j->part, j->n_tasks - j->n_done, j->n_tasks, out_path);
    const char **metric_names = calloc((size_t)j->n_metrics, sizeof *metric_names);
    const char **metric_text = calloc((size_t)j->n_metrics, sizeof *metric_text);
    const char **org_names = calloc((size_t)j->n_orgs + 1, sizeof *org_names);
    const char **param_names = calloc((size_t)j->pts.n_params + 1, sizeof *param_names);
    if (!metric_names || !metric_text || !org_names || !param_names) {
        free(metric_names), free(metric_text), free(org_names), free(param_names);
        return ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", out_path, strerror(ENOMEM));
    }
    for (int i = 0; i < j->n_metrics; i++) {
        metric_names[i] = ts_metric_name(i);
        metric_text[i] = ts_metric_description(i);
    }
    for (int o = 0; o < j->n_orgs; o++)
        org_names[o] = j->model->org_name[o];
    for (int c = 0; c < j->pts.n_params; c++)
        param_names[c] = j->pts.names[c];
    const ts_params *p = &j->base.params;
    char *resolved = ts_params_to_yaml(p);
    ts_output_spec spec = {
        .scenario_name = p->name,
        .master_seed = p->seed,
        .rng_type = ts_rng_name(),
        .tick_unit = ts_tick_unit_name(p->tick_unit),
        .scenario_text = j->given,
        .resolved_text = resolved,
        .n_points = j->n_points,
        .n_replicates = j->n_reps,
        .n_times = j->n_times,
        .metric_names = metric_names,
        .metric_descriptions = metric_text,
        .n_metrics = j->n_metrics,
        .org_names = org_names,
        .n_orgs = j->n_orgs,
        .n_pairs = j->n_pairs,
        .pair_org = j->model->pair_org,
        .pair_partner = j->model->pair_partner,
        .n_point_params = j->pts.n_params,
        .point_param_names = param_names,
        .point_values = j->pts.values,
        .force = force,
        .threads = threads,
    };
    ts_output *out = NULL;
    ts_status st = resolved ? ts_output_create(&out, out_path, &spec, err)
                            : ts_error_set(err, TS_ERUNTIME, "%s: out of memory (%s)", out_path,
                                           strerror(ENOMEM));
    size_t n_files = 0;
    char **names = NULL;
    if (st == TS_OK)
        st = list_blocks(j->part, &names, &n_files, err);
    ts_block b;
    memset(&b, 0, sizeof b);
    ts_error why;
    for (size_t i = 0; i < n_files + unsaved && st == TS_OK; i++) {
        char path[4400] = "the runs in memory";
        const ts_block *src = &b;
        if (i == n_files) {
            src = mem; /* not saved: the caller merges at once */
        } else {
            snprintf(path, sizeof path, "%s/%s", j->part, names[i]);
            if (mem && mem_name && strcmp(names[i], mem_name) == 0)
                src = mem; /* just saved: the same runs */
            else if ((st = ts_block_read(path, &j->origin, &b, &why)) == TS_EINPUT) {
                if ((st = set_aside(j, names[i], why.msg, err)) == TS_OK) {
                    *damaged = true;
                    st = ts_error_set(err, TS_EINPUT, "%s: set aside", path);
                }
                break;
            } else if (st != TS_OK) {
                *err = why;
                break;
            }
        }
        for (int r = 0; st == TS_OK && r < src->n; r++) {
            ts_run_result res;
            ts_block_run(src, r, &res);
            st = ts_output_write_run(out, src->task[r] / j->n_reps, src->task[r] % j->n_reps, &res,
                                     err);
        }
    }
    ts_block_destroy(&b);
    free_list(names, n_files);
    if (out && st == TS_OK)
        st = ts_output_close(out, err);
    else if (out)
        ts_output_abort(out);
    if (st == TS_OK)
        remove_part(j->part);
    free(resolved);
    free(metric_names), free(metric_text), free(org_names), free(param_names);
    return st;
}

/* Whether the output at path opens, flags every run done (and, unless n_tasks is 0, that
 * many) and, unless resolved is NULL, holds that resolved scenario. */
static bool file_complete(const char *path, size_t n_tasks, const char *resolved)
{
    ts_reader *r;
    ts_error ignored;
    if (ts_reader_open(&r, path, &ignored) != TS_OK)
        return false;
    const ts_file_info *in = ts_reader_info(r);
    const size_t runs = in->n_points * in->n_replicates;
    bool complete = in->n_done == runs && (n_tasks == 0 || runs == n_tasks) &&
                    (!resolved || strcmp(ts_reader_scenario_resolved(r), resolved) == 0);
    ts_reader_close(r);
    return complete;
}

/* Whether a resume or merge at out_path has nothing left to do: no part directory (a kill after
 * the merge removed it, or a second resume), and the file is there with every run done. Then
 * what a kill left of the part directory under its other name is removed. */
static bool nothing_left(const char *out_path)
{
    char part[4200];
    snprintf(part, sizeof part, "%s%s", out_path, PART_SUFFIX);
    if (!path_exists(out_path) || path_exists(part))
        return false;
    bool complete = file_complete(out_path, 0, NULL);
    if (complete)
        remove_part(part);
    return complete;
}

/* Whether out_path already holds this job, merged: the file has the resolved scenario a merge
 * would write and every run flagged done. Then the part directory is removed. A kill after a
 * merge has renamed its file into place, while it removes the part directory, leaves exactly
 * this (the part directory need not hold every run: the last block of a run may have gone to
 * the merge from memory); the runs being deterministic, the file is what merging again would
 * write. */
static bool finish_if_merged(const job *j)
{
    char *ours = ts_params_to_yaml(&j->base.params);
    bool same = ours && file_complete(j->out, j->n_tasks, ours);
    free(ours);
    if (same)
        remove_part(j->part);
    return same;
}

/* Run what is left of the job (run: this process's share of the tasks not done), then, when
 * this process merges, merge. A block found damaged on the way is set aside and the round
 * starts again: its runs run, and the merge begins anew. */
static ts_status run_and_merge(job *j, const ts_ensemble_options *opt, writer *wr, bool run,
                               bool merge, bool *merged, double *merge_seconds, ts_error *err)
{
    ts_status st = TS_OK;
    for (int round = 0; st == TS_OK; round++) {
        if (round > 0) {
            writer_next_round(wr);
            if ((st = job_scan(j, false, err)) != TS_OK)
                break;
        }
        if (run) {
            size_t saved = wr->saved;
            if ((st = run_tasks(j, opt, wr, merge, err)) != TS_OK)
                break;
            j->n_done += wr->saved - saved;
            size_t in_memory = wr->unsaved ? (size_t)wr->block.n : 0;
            if (opt->stop && *opt->stop && j->n_done + in_memory < j->n_tasks)
                return ts_error_set(err, TS_EINTERRUPTED,
                                    "interrupted: %zu of %zu runs are saved in %s; continue with "
                                    "trustsim run --resume %s",
                                    j->n_done, j->n_tasks, j->part, j->out);
        }
        if (!merge)
            break;
        /* every task is done (a task this process could not finish would have failed) */
        double m0 = now_seconds();
        size_t aside = j->set_aside;
        st = job_scan(j, false, err);
        if (st == TS_OK && wr->unsaved && opt->stop && *opt->stop) { /* stopped since */
            writer_save_kept(wr, j);
            if ((st = wr->st) != TS_OK)
                *err = wr->err;
        }
        bool damaged = st == TS_OK && j->set_aside > aside;
        const ts_block *mem = wr->unsaved || wr->last[0] ? &wr->block : NULL;
        if (st == TS_OK && !damaged)
            st = merge_job(j, opt->force, opt->threads, mem, wr->unsaved ? NULL : wr->last,
                           &damaged, err);
        if ((st != TS_OK || damaged) && wr->unsaved) { /* keep its runs */
            wr->st = TS_OK;
            writer_save(wr, j);
            wr->unsaved = false;
        }
        *merge_seconds += now_seconds() - m0;
        if (damaged && round + 1 < MAX_MERGE_ROUNDS) {
            st = TS_OK;
            run = true;
            continue;
        }
        if (damaged && st == TS_OK)
            st = ts_error_set(err, TS_ERUNTIME,
                              "%s: blocks were damaged in %d rounds of merging: the disk may be "
                              "failing",
                              j->part, MAX_MERGE_ROUNDS);
        *merged = st == TS_OK;
        break;
    }
    return st;
}

/* A name unique to this process for its block files, so shards and resumed runs never
 * collide. */
static void name_blocks(writer *wr, const ts_ensemble_options *opt, const char *kind)
{
    uint64_t tag = ts_seed_hash((uint64_t)time(NULL), (uint64_t)getpid(), (uint64_t)clock());
    if (opt->block_tag)
        snprintf(wr->prefix, sizeof wr->prefix, "%.40s-%08llx", opt->block_tag,
                 (unsigned long long)(tag & 0xffffffffULL));
    else
        snprintf(wr->prefix, sizeof wr->prefix, "%s%d-%08llx", kind, opt->shard_index,
                 (unsigned long long)(tag & 0xffffffffULL));
}

static void fill_stats(ts_ensemble_stats *stats, const job *j, const writer *wr, size_t before,
                       bool merged, bool complete, double t0, double merge_seconds)
{
    if (!stats)
        return;
    memset(stats, 0, sizeof *stats);
    stats->runs_total = j->n_tasks;
    stats->runs_before = before;
    stats->runs_now = wr->saved + (merged && wr->unsaved ? (size_t)wr->block.n : 0);
    stats->seconds = now_seconds() - t0;
    stats->seconds_saving = wr->seconds + merge_seconds;
    stats->merged = merged;
    stats->complete = complete;
    stats->blocks_set_aside = j->set_aside;
}

ts_status ts_ensemble_merge(const char *out_path, const ts_ensemble_options *opt,
                            ts_ensemble_stats *stats, ts_error *err)
{
    double t0 = now_seconds();
    /* a merge is one process finishing the whole job */
    ts_ensemble_options o = *opt;
    o.shard_index = 0;
    o.shard_count = 1;
    o.source = NULL;
    o.resume = o.no_merge = o.join = false;
    job j;
    job_init(&j, out_path, &o);
    writer wr;
    memset(&wr, 0, sizeof wr);
    bool complete = nothing_left(out_path), merged = complete;
    double merge_seconds = 0;
    ts_status st = complete ? TS_OK : job_load_part(&j, err);
    if (st == TS_OK && !complete)
        st = job_scan(&j, true, err);
    if (st == TS_OK && !complete && !o.force && path_exists(out_path))
        complete = merged = finish_if_merged(&j);
    size_t before = j.n_done;
    if (st == TS_OK && !complete) {
        /* the runs of a block set aside run again here (and, since a damaged block may not
         * say which runs it held, every run not done) */
        name_blocks(&wr, &o, "m");
        st = run_and_merge(&j, &o, &wr, j.set_aside > 0, true, &merged, &merge_seconds, err);
    }
    fill_stats(stats, &j, &wr, before, merged, complete, t0, merge_seconds);
    ts_block_destroy(&wr.block);
    ts_block_destroy(&wr.full);
    job_destroy(&j);
    return st;
}

ts_status ts_ensemble_run(const ts_scenario *sc, const char *out_path,
                          const ts_ensemble_options *opt, ts_ensemble_stats *stats, ts_error *err)
{
    double t0 = now_seconds();
    job j;
    job_init(&j, out_path, opt);
    writer wr;
    memset(&wr, 0, sizeof wr);
    ts_status st;
    if (opt->shard_count > 1 && (opt->shard_index < 0 || opt->shard_index >= opt->shard_count))
        return ts_error_set(err, TS_EINPUT, "shard %d/%d does not exist", opt->shard_index,
                            opt->shard_count);
    /* complete: a resume with nothing left to do, the part directory gone or left behind */
    bool complete = opt->resume && nothing_left(out_path);
    if (complete) {
        st = TS_OK;
    } else if (opt->resume) {
        st = job_load_part(&j, err);
        if (st == TS_OK && path_exists(out_path) && !opt->force) {
            complete = finish_if_merged(&j);
            if (!complete)
                st = ts_error_set(err, TS_EINPUT, "%s: exists (use --force to replace it)",
                                  out_path);
        }
    } else if (!sc) {
        st = ts_error_set(err, TS_EINPUT, "no scenario to run");
    } else {
        st = job_start(&j, sc, opt, err);
    }
    /* the blocks already there are read whole: any damage is found before the runs begin */
    if (st == TS_OK && !complete)
        st = job_scan(&j, true, err);
    size_t before = j.n_done;
    bool merged = complete;
    double merge_seconds = 0;
    if (st == TS_OK && !complete) {
        name_blocks(&wr, opt, "s");
        /* A short job this process merges at once keeps its block in memory for the merge,
         * and saves it only if the merge fails: a kill during the merge loses at most that
         * block, as a kill during the runs would. */
        bool merge_now = opt->shard_count <= 1 && !opt->no_merge;
        st = run_and_merge(&j, opt, &wr, true, merge_now, &merged, &merge_seconds, err);
    }
    fill_stats(stats, &j, &wr, before, merged, complete, t0, merge_seconds);
    ts_block_destroy(&wr.block);
    ts_block_destroy(&wr.full);
    job_destroy(&j);
    return st;
}
