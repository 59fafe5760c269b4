/* Trust (docs/model.md 7.2-7.6): what beliefs and group images mean. Priors, the Beta means of
 * beliefs and group images, interpersonal trust, confidence and effective trust, and the
 * end-of-tick pass that turns every belief into inter-organisational trust. The only module
 * that reads or writes evidence counts (through the belief store of engine/beliefs.h). */
#ifndef TS_ENGINE_TRUST_H
#define TS_ENGINE_TRUST_H

#include <stdbool.h>

#include "engine/stages.h"
#include "engine/state.h"

/* Group images empty, their priors from reputation and history; no beliefs. */
void ts_trust_reset(ts_sim *s);

/* ---- leaders' beliefs ------------------------------------------------------------------- */

/* Index of x's belief about y if current (formed from evidence, neither slot has changed
 * hands since), else -1. pair is (organisation of x, organisation of y). */
long ts_trust_current_belief_at(const ts_sim *s, int x, int y, int pair);
long ts_trust_current_belief(const ts_sim *s, int x, int y);
/* x's belief about y, formed now from the priors if x has none (or a stale one); -1 when out
 * of memory (the run has then failed). */
long ts_trust_form_belief(ts_sim *s, int x, int y, int pair);
/* The same, with the belief's place in the store already known (as observation knows it). */
long ts_trust_form_belief_at(ts_sim *s, ts_belief_key key, int x, int y, int pair);
/* Evidence ev[pillar] (positive or negative) into belief i. */
void ts_trust_add_evidence(ts_sim *s, long i, const double ev[TS_PILLARS]);
/* Take back half of the negative evidence neg (faded to now) from belief i. */
void ts_trust_take_back(ts_sim *s, long i, const float neg[TS_PILLARS]);

/* Priors of x about a leader of pair's partner, one per pillar (docs/model.md 7.3). */
void ts_trust_priors(const ts_sim *s, int x, int pair, double prior[TS_PILLARS]);
/* Trust implied by belief i (docs/model.md 7.4). */
double ts_trust_belief(const ts_sim *s, long i);
/* Trust of x in y: the belief if x holds a current one, else the prior for y's organisation. */
double ts_trust_of(const ts_sim *s, int x, int y, int pair);

/* ---- group images ----------------------------------------------------------------------- */

/* Group images are stored by the pair (p, o) for o's image of p, the trustees' organisation
 * first (as accumulators are): the images an act touches, its observers' images of the actor's
 * organisation, sit together. */

/* Evidence ev about a member of p into o's image of p, stored at image = the pair (p, o)
 * (weight group_weight, negative evidence times group_negativity); the negative part as it
 * entered, for a later take-back, into neg_out. */
void ts_trust_group_evidence(ts_sim *s, int image, const double ev[TS_PILLARS],
                             float neg_out[TS_PILLARS]);
/* Take back half of the negative evidence neg (faded to now) from the image. */
void ts_trust_group_take_back(ts_sim *s, int image, const float neg[TS_PILLARS]);

/* ---- agreements ------------------------------------------------------------------------- */

/* C of docs/model.md 7.4 for collaboration c: phi * e while an agreement holds, else 0. */
static inline double ts_confidence(const ts_sim *s, int c)
{
    return c >= 0 && s->phi[c] > 0 ? s->phi[c] * s->enforcement[c] : 0.0;
}

/* Effective trust for a decision (docs/model.md 7.4): the agreement stands in for trust as
 * far as the stage lets it. */
static inline double ts_effective_trust(double trust, ts_stage st, double confidence)
{
    return ts_max(trust, ts_stage_agreement_weight(st) * confidence);
}

/* ---- end of tick ------------------------------------------------------------------------ */

/* Every live belief's trust, summed for the metrics and per (trustor, partner organisation)
 * into TO of every ordered pair (docs/model.md 7.6); then beliefs and group images fade. */
void ts_trust_update(ts_sim *s, ts_tick_sums *sums);

#endif
