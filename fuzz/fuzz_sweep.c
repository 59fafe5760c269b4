/* Fuzz target: sweep designs. The input is the body of a `sweep:` block (indented YAML)
 * appended to scenarios/example.yaml; a design that validates must build, and its points
 * apply to the scenario and build their models, or fail with an error (fuzz/fuzz.h). Seeds:
 * the sweep blocks of scenarios/ and tests/data/. */
#include "fuzz.h"
#include "base.h"

#include <stdlib.h>
#include <string.h>

#include "trustsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "\nsweep:\n";
    const char *base = fuzz_base_text();
    size_t n = strlen(base);
    char *text = malloc(n + sizeof head + size);
    if (!text)
        return 0;
    memcpy(text, base, n);
    memcpy(text + n, head, sizeof head - 1);
    memcpy(text + n + sizeof head - 1, data, size);
    text[n + sizeof head - 1 + size] = '\0';
    ts_scenario sc;
    ts_error err;
    if (ts_scenario_load_string(&sc, text, "example.yaml", &err) == TS_OK) {
        fuzz_exercise(&sc.params);
        ts_scenario_destroy(&sc);
    }
    free(text);
    return 0;
}
