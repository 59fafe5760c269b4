/* What one run (one sweep point, one replicate) hands to the output writer: a time series per
 * metric and the final state. Buffers are owned by whoever allocated the result. */
#ifndef TRUSTSIM_RESULT_H
#define TRUSTSIM_RESULT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_run_result {
    int n_metrics;
    int n_times;    /* ticks + 1: tick 0 is the initial state */
    double *series; /* [n_metrics][n_times], row-major */
    int n_orgs;
    /* Ordered pairs of organisations that share a collaboration, in the model's order (by the
     * first organisation, then its partner): the only pairs that have a state. */
    int n_pairs;
    double *trust_interorg; /* [n_pairs]: TO of the pair's first organisation in the second */
    int8_t *stage;          /* [n_pairs]: the pair's Pomponi stage 0..3 (the same both ways) */
    double *faith;          /* [n_orgs] */
    uint8_t *active;        /* [n_orgs] */
} ts_run_result;

#ifdef __cplusplus
}
#endif
#endif
