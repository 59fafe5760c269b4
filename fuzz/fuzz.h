/* What the fuzz targets share: the bounds inside which a target goes on from a valid input to
 * the work that input asks for. A scenario may validly ask for millions of sweep points or
 * leaders, and an output file may validly declare billions of runs; a run refuses them only
 * when memory runs out, which a fuzzer reports as a finding. Beyond these bounds a target
 * checks the input and stops. */
#ifndef TS_FUZZ_H
#define TS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/params.h"

enum {
    FUZZ_MAX_POINTS = 4096,  /* sweep points a design may have to be built */
    FUZZ_MAX_LEADERS = 2000, /* leaders in all for the model to be built */
    FUZZ_MAX_VALUES = 1 << 18 /* values of one read of an output */
};

/* The points p's sweep would have, or SIZE_MAX when past FUZZ_MAX_POINTS. */
size_t fuzz_design_points(const ts_params *p);
/* Whether the model of p is small enough to build. */
int fuzz_model_small(const ts_params *p);
/* Load, check the written form, build the design (and the model of a few points) of a
 * scenario that loaded: what every scenario target does with one. Aborts when the written
 * form does not load back to itself. */
void fuzz_exercise(const ts_params *p);

/* Abort when the library left an HDF5 object (file, dataset, ...) open: a leak LeakSanitizer
 * cannot see, since HDF5 keeps every object it opened reachable. */
void fuzz_check_closed(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
