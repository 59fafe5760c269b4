/* Fuzz target: blocks of finished runs, as resume and merge read them from OUT.h5.parts/. Any
 * bytes as a block file (an HDF5 file image in memory) must be read, or refused as damaged or
 * foreign, without a crash: HDF5's errors become ours. The block is read twice: against the
 * job its own attributes name (so that a block that passes every check reaches the data), and
 * against a job it cannot belong to. Seeds: blocks of small runs, made by scripts/fuzz.sh. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "io/blocks.h"

/* The job the block's root attributes name, if they name one small enough to read. */
static int origin_of(const uint8_t *data, size_t size, ts_block_origin *o)
{
    if (size < 8)
        return 0;
    H5E_auto2_t func;
    void *client;
    H5Eget_auto2(H5E_DEFAULT, &func, &client);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5LTopen_file_image((void *)data, size, 0);
    uint64_t v[7] = {0};
    static const char *const names[7] = {"scenario_crc32", "scenario_bytes", "n_tasks", "n_metrics",
                                         "n_times",        "n_orgs",         "n_pairs"};
    int ok = f >= 0;
    for (int i = 0; ok && i < 7; i++) {
        hid_t a = H5Aexists(f, names[i]) > 0 ? H5Aopen(f, names[i], H5P_DEFAULT) : -1;
        ok = a >= 0 && H5Aread(a, H5T_NATIVE_UINT64, &v[i]) >= 0;
        if (a >= 0)
            H5Aclose(a);
    }
    if (f >= 0)
        H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, func, client);
    /* a run's values, times the runs, within what one read may take */
    if (!ok || v[2] == 0 || v[2] > 4096 || v[3] == 0 || v[3] > 256 || v[4] == 0 || v[4] > 4096 ||
        v[5] == 0 || v[5] > 64 || v[6] > v[5] * v[5] ||
        v[2] * (v[3] * v[4] + v[6] + v[5]) > FUZZ_MAX_VALUES)
        return 0;
    *o = (ts_block_origin){(uint32_t)v[0], v[1], v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6]};
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_block b;
    memset(&b, 0, sizeof b);
    ts_error err;
    ts_block_origin own;
    if (origin_of(data, size, &own))
        ts_block_read_image(data, size, "fuzz-block.h5", &own, &b, &err);
    const ts_block_origin other = {0x12345678u, 100, 7, 3, 5, 2, 2};
    ts_block_read_image(data, size, "fuzz-block.h5", &other, &b, &err);
    ts_block_destroy(&b);
    fuzz_check_closed();
    return 0;
}
