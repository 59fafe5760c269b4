/* Fuzz target: output files, as info, export, compare and sensitivity read them. Any bytes as
 * an output (an HDF5 file image in memory) must open through the reader or be refused with an
 * error, every slice of a file that opens must read or fail with an error, and the file's
 * verification must report, without a crash: HDF5's errors become ours. Slices are read while
 * the file's axes keep one read within FUZZ_MAX_VALUES. Seeds: outputs of small runs, made by
 * scripts/fuzz.sh. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "trustsim/reader.h"

static void read_slices(const ts_reader *r)
{
    const ts_file_info *in = ts_reader_info(r);
    const size_t P = in->n_points, R = in->n_replicates, T = in->n_times;
    if (R * T > FUZZ_MAX_VALUES || P * R > FUZZ_MAX_VALUES || P * T > FUZZ_MAX_VALUES ||
        R * in->n_pairs > FUZZ_MAX_VALUES || R * in->n_orgs > FUZZ_MAX_VALUES)
        return;
    size_t most = R * T;
    const size_t others[] = {P * R, P * T, R * in->n_pairs, R * in->n_orgs, P};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        most = others[i] > most ? others[i] : most;
    double *buf = malloc((most + 1) * sizeof *buf);
    if (!buf)
        return;
    ts_error err;
    static const char *const stats[] = {"mean", "sd", "q05", "q50", "q95", "max"};
    for (int m = 0; m < in->n_metrics && m < 8; m++) {
        ts_reader_series(r, m, 0, buf, &err);
        ts_reader_series(r, m, P - 1, buf, &err);
        ts_reader_series_at(r, m, 0, P, T - 1, buf, &err);
        ts_reader_series_at(r, m, P, 1, 0, buf, &err); /* out of range: an error */
        for (size_t s = 0; s < sizeof stats / sizeof stats[0]; s++)
            ts_reader_summary(r, m, stats[s], buf, &err);
    }
    for (int k = 0; k < in->n_params; k++)
        ts_reader_points(r, k, buf, &err);
    for (size_t p = 0; p < P && p < 2; p++) {
        ts_reader_final_trust(r, p, buf, &err);
        ts_reader_final_stage(r, p, (int8_t *)buf, &err);
        ts_reader_final_faith(r, p, buf, &err);
        ts_reader_final_active(r, p, (uint8_t *)buf, &err);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_reader *r;
    ts_error err;
    if (ts_reader_open_image(&r, data, size, "fuzz.h5", &err) == TS_OK) {
        read_slices(r);
        ts_reader_close(r);
    }
    ts_verify_report rep;
    ts_reader_verify_image(data, size, "fuzz.h5", NULL, NULL, &rep, &err);
    fuzz_check_closed();
    return 0;
}
