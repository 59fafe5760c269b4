/* Acts (docs/model.md 7.7-7.11): meetings and the partners they bring, the situation of each
 * act, the decision rule and the strategies, promises and their resolution, payoffs and the
 * tallies they feed; and the donation-game round of the reduction (docs/model.md 7.19). What
 * others make of an act is observe.c's job; this module decides what is done and who gains. */
#ifndef TS_ENGINE_ACTS_H
#define TS_ENGINE_ACTS_H

#include "engine/state.h"

/* Every leader of an active organisation meets partners (a Poisson number) and acts. */
void ts_acts_meetings(ts_sim *s);
/* Promises due now are delivered, failed or broken. */
void ts_acts_resolve_promises(ts_sim *s);
/* Every leader donates once to a uniformly drawn other leader. */
void ts_acts_donation_round(ts_sim *s);

#endif
