/* Fuzz target: `--set PATH=VALUE` overrides. Each line of the input is one override applied to
 * scenarios/example.yaml, as the command line applies them; the scenario that results must
 * validate or be refused with an error, and then goes through what fuzz_scenario does with a
 * scenario (fuzz/fuzz.h). Seeds: fuzz/seeds/set/. */
#include "fuzz.h"
#include "base.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "trustsim/scenario.h"

enum { MAX_SETS = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ts_scenario sc;
    ts_error err;
    if (ts_scenario_load_string(&sc, fuzz_base_text(), "example.yaml", &err) != TS_OK)
        abort(); /* the base must load */
    char *text = malloc(size + 1);
    if (!text) {
        ts_scenario_destroy(&sc);
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    bool ok = true;
    char *line = text;
    for (int n = 0; ok && line && n < MAX_SETS; n++) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ok = ts_scenario_set(&sc, line, &err) == TS_OK;
        line = next;
    }
    if (ok)
        fuzz_exercise(&sc.params);
    ts_scenario_destroy(&sc);
    free(text);
    return 0;
}
