/* The base scenario of the targets that change one (fuzz_set, fuzz_sweep):
 * scenarios/example.yaml, which shows every key, read once when the target starts. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/textfile.h"

#ifndef TS_SOURCE_DIR
#error "TS_SOURCE_DIR must be defined by the build"
#endif

const char *fuzz_base_text(void)
{
    static char *text;
    if (!text) {
        int error;
        text = ts_read_file(TS_SOURCE_DIR "/scenarios/example.yaml", &error);
        if (!text) {
            fprintf(stderr, "cannot read " TS_SOURCE_DIR "/scenarios/example.yaml\n");
            abort();
        }
    }
    return text;
}
