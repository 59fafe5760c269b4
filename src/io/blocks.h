/* Blocks of finished runs: the unit in which an ensemble saves its work while it runs.
 *
 * Runs finish in any order on any thread; the single writer copies each into a block buffer
 * and, when the block is full or old enough, writes it as one small HDF5 file in the output's
 * part directory (OUT.h5.parts/), under a temporary name renamed when complete. A block on
 * disk is therefore either whole or absent: a crash loses at most the block in flight, and a
 * resumed or sharded run finds exactly which runs are done by listing blocks.
 *
 * A block is also checked when it is read back: every dataset carries HDF5's Fletcher-32
 * checksum and the file's metadata its own, and the block names the job it belongs to (the
 * resolved scenario's CRC-32 and length, the number of runs of the job and their shape). A
 * block that fails any check is reported as damaged (TS_EINPUT), so that the ensemble can set
 * it aside and run its runs again. Merging the blocks into the final file is ensemble.c's job.
 * Internal to the library. */
#ifndef TS_BLOCKS_H
#define TS_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/result.h"

typedef struct ts_block {
    int cap, n;
    int n_metrics, n_times, n_orgs, n_pairs;
    uint64_t *task;  /* point * replicates + replicate, per run */
    double *series;  /* [cap][n_metrics][n_times] */
    double *trust;   /* [cap][n_pairs] */
    int8_t *stage;   /* [cap][n_pairs] */
    double *faith;   /* [cap][n_orgs] */
    uint8_t *active; /* [cap][n_orgs] */
} ts_block;

/* The job a block belongs to: written into every block, checked when one is read. */
typedef struct ts_block_origin {
    uint32_t scenario_crc32; /* of the resolved scenario's text */
    uint64_t scenario_bytes; /* its length */
    uint64_t n_tasks;        /* runs of the job: every task id is below it */
    int n_metrics, n_times, n_orgs, n_pairs;
} ts_block_origin;

void ts_block_origin_init(ts_block_origin *o, const char *resolved, uint64_t n_tasks, int n_metrics,
                          int n_times, int n_orgs, int n_pairs);

int ts_block_init(ts_block *b, int cap, int n_metrics, int n_times, int n_orgs, int n_pairs);
void ts_block_destroy(ts_block *b);
/* Copy a finished run into the block (which must not be full). */
void ts_block_add(ts_block *b, uint64_t task, const ts_run_result *res);
/* View run i of the block as a result. */
void ts_block_run(const ts_block *b, int i, ts_run_result *res);
/* Write the block's runs to dir/name, atomically. Errors name the file and the operating
 * system's reason ("No space left on device"). */
ts_status ts_block_write(const ts_block *b, const ts_block_origin *origin, const char *dir,
                         const char *name, ts_error *err);
/* Read and check a block file; b is (re)initialised to hold exactly its runs. TS_EINPUT: the
 * file is damaged, truncated, of an older format without checksums, or of another job (the
 * message says which); TS_ERUNTIME: it could not be read for another reason (permissions,
 * memory), which setting it aside would not cure. */
ts_status ts_block_read(const char *path, const ts_block_origin *origin, ts_block *b,
                        ts_error *err);
/* The same from a file image in memory; name stands for the path in messages. */
ts_status ts_block_read_image(const void *image, size_t size, const char *name,
                              const ts_block_origin *origin, ts_block *b, ts_error *err);
/* Check a block file as ts_block_read does, but read only its task ids into a malloc'd array
 * (the data's checksums are not read). */
ts_status ts_block_read_tasks(const char *path, const ts_block_origin *origin, uint64_t **tasks,
                              size_t *n, ts_error *err);

#endif
