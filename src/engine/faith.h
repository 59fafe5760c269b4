/* Faith in the collaboration (docs/model.md 7.16): each organisation's fading Beta posterior
 * over progress against the collaboration's target, its start (lowered for the small members
 * of a mandated collaboration), shocks, and exit when it stays low. */
#ifndef TS_ENGINE_FAITH_H
#define TS_ENGINE_FAITH_H

#include <stdbool.h>

#include "engine/state.h"

/* Every organisation at its initial faith F0, no evidence yet. */
void ts_faith_reset(ts_sim *s);
/* A shock of the given magnitude to organisation o: negative faith evidence. */
void ts_faith_shock(ts_sim *s, int o, double magnitude);
/* The tick's progress (value received, deliveries seen, complexity) into every active
 * organisation's faith; those below exit_faith for exit_ticks leave (when the model lets
 * them). Adds to the tick's sums; returns whether anyone left. */
bool ts_faith_update(ts_sim *s, ts_tick_sums *sums);

#endif
