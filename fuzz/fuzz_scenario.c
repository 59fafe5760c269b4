/* Fuzz target: scenario files. Any bytes as a scenario's text go through the YAML reader and
 * the schema's validation; a scenario that loads must write itself out in a form that loads
 * back to the same form, and its sweep design and the models of its points must build or fail
 * with an error (fuzz/fuzz.h). Seeds: scenarios/ and tests/data/. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "trustsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ts_scenario sc;
    ts_error err;
    if (ts_scenario_load_string(&sc, text, "fuzz.yaml", &err) == TS_OK) {
        fuzz_exercise(&sc.params);
        ts_scenario_destroy(&sc);
    }
    free(text);
    return 0;
}
