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
    double *trust_interorg; /* [n_orgs][n_orgs]: TO_op, NaN where o and p share no collaboration */
    int8_t *stage;          /* [n_orgs][n_orgs]: Pomponi stage 0..3, -1 where no pair */
    double *faith;          /* [n_orgs] */
    uint8_t *active;        /* [n_orgs] */
} ts_run_result;

#ifdef __cplusplus
}
#endif
#endif
