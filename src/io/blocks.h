/* Blocks of finished runs: the unit in which an ensemble saves its work while it runs.
 *
 * Runs finish in any order on any thread; the single writer copies each into a block buffer
 * and, when the block is full or old enough, writes it as one small HDF5 file in the output's
 * part directory (OUT.h5.parts/), under a temporary name renamed when complete. A block on
 * disk is therefore either whole or absent: a crash loses at most the block in flight, and a
 * resumed or sharded run finds exactly which runs are done by listing blocks. Merging the
 * blocks into the final file is ensemble.c's job. Internal to the library. */
#ifndef TS_BLOCKS_H
#define TS_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/result.h"

typedef struct ts_block {
    int cap, n;
    int n_metrics, n_times, n_orgs;
    uint64_t *task;  /* point * replicates + replicate, per run */
    double *series;  /* [cap][n_metrics][n_times] */
    double *trust;   /* [cap][n_orgs][n_orgs] */
    int8_t *stage;   /* [cap][n_orgs][n_orgs] */
    double *faith;   /* [cap][n_orgs] */
    uint8_t *active; /* [cap][n_orgs] */
} ts_block;

int ts_block_init(ts_block *b, int cap, int n_metrics, int n_times, int n_orgs);
void ts_block_destroy(ts_block *b);
/* Copy a finished run into the block (which must not be full). */
void ts_block_add(ts_block *b, uint64_t task, const ts_run_result *res);
/* View run i of the block as a result. */
void ts_block_run(const ts_block *b, int i, ts_run_result *res);
/* Write the block's runs to dir/name, atomically. */
ts_status ts_block_write(const ts_block *b, const char *dir, const char *name, ts_error *err);
/* Read a block file; b is (re)initialised to hold exactly its runs. */
ts_status ts_block_read(const char *path, ts_block *b, ts_error *err);
/* Read only the task ids of a block file into a malloc'd array. */
ts_status ts_block_read_tasks(const char *path, uint64_t **tasks, size_t *n, ts_error *err);

#endif
