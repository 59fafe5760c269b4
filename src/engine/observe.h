/* Observation and indirect reciprocity (docs/model.md 7.12-7.15): who sees an act, how they
 * judge it under the assessment norm, the evidence they take into their beliefs and their
 * organisation's group image, and the conflict-resolution body that later takes back half of
 * some negative evidence. */
#ifndef TS_ENGINE_OBSERVE_H
#define TS_ENGINE_OBSERVE_H

#include <stdbool.h>

#include "engine/state.h"

/* An act x did to y on ordered pair `pair` is seen by y and by sampled observers (or, when the
 * model says so, by everyone with probability observe_q), judged and turned into evidence.
 * need: the recipient was in need. */
void ts_observe_act(ts_sim *s, int x, int y, int pair, ts_act act, bool need);
/* Conflicts due now are resolved: half of the negative evidence taken back. */
void ts_observe_resolve_conflicts(ts_sim *s);
/* Whether observer z regards y as good (for norms), by the model's image rule. */
bool ts_observe_image_good(const ts_sim *s, int z, int y);
/* x saw y's most recent act and judged it bad (the discriminator's rule). */
bool ts_observe_saw_bad_latest(const ts_sim *s, int x, int y);

#endif
