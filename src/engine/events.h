/* Events (docs/model.md 6.2): what the scenario's timeline and its rate events change in a
 * run. A step of the tick like the others: it changes state through the modules below it. */
#ifndef TS_ENGINE_EVENTS_H
#define TS_ENGINE_EVENTS_H

#include "engine/state.h"

/* Apply every scheduled event due by the current tick not yet applied (in tick order, then
 * file order), then, from tick 1 on, draw the rate events for this tick. */
void ts_events_apply(ts_sim *s);

#endif
