/* Pomponi stages of an unordered pair of organisations (docs/model.md 7.17): how a pair moves
 * between them, and what each stage changes elsewhere in the tick (how far an agreement stands
 * in for trust, the stakes of an act, the acts a meeting yields, whether information is shared
 * without an agreement to require it). Also the sliding windows over which stage progress and
 * the cooperation rate are judged. */
#ifndef TS_ENGINE_STAGES_H
#define TS_ENGINE_STAGES_H

#include <stdbool.h>

#include "engine/state.h"

typedef enum ts_stage {
    TS_STAGE_ARMS_LENGTH = 0,  /* no trust relationship yet */
    TS_STAGE_AGREEMENT = 1,    /* agreement-driven trust */
    TS_STAGE_KNOWLEDGE = 2,    /* knowledge-based trust */
    TS_STAGE_COLLABORATION = 3 /* collaboration-driven trust */
} ts_stage;

enum { TS_STAGE_COUNT = 4 };

/* The stage of ordered pair k (the stage of its unordered pair). */
static inline ts_stage ts_stage_of(const ts_sim *s, int pair)
{
    return (ts_stage)s->stage[s->m->pair_upair[pair]];
}

/* lambda_s (docs/model.md 7.4): how much an agreement stands in for trust at stage st. */
static inline double ts_stage_agreement_weight(ts_stage st)
{
    return st <= TS_STAGE_AGREEMENT ? 1.0 : st == TS_STAGE_KNOWLEDGE ? 0.5 : 0.0;
}

/* Payoffs of cooperative acts are doubled once assets are shared (docs/model.md 7.11). */
static inline double ts_stage_stakes(ts_stage st)
{
    return st == TS_STAGE_COLLABORATION ? 2.0 : 1.0;
}

/* Acts a meeting yields on average: 1 + (s - 1) / 2, faster decisions in later stages
 * (docs/model.md 7.7). */
static inline double ts_stage_acts_per_meeting(ts_stage st)
{
    return 1.0 + ((int)st - 1) * 0.5;
}

/* From knowledge-based trust on, information is shared whatever the agreement says
 * (docs/model.md 7.8). */
static inline bool ts_stage_shares_freely(ts_stage st)
{
    return st >= TS_STAGE_KNOWLEDGE;
}

/* Every pair at arm's length, the windows empty. */
void ts_stages_reset(ts_sim *s);
/* An act on ordered pair k enters the windows: the cooperation rate, and the pair's
 * cooperation extent (share_info and help count double). */
void ts_stages_record_act(ts_sim *s, int pair, ts_act act);
/* Move every pair of active organisations by the rules of docs/model.md 7.17 (TO of the last
 * trust pass, cooperation extent over the window) and count the pairs at each stage. */
void ts_stages_update(ts_sim *s, ts_tick_sums *sums);
/* The cooperation rate over the window (0 before any act). */
double ts_stages_coop_rate(const ts_sim *s);
/* Open the next tick's slot of every window. */
void ts_stages_advance_windows(ts_sim *s);

#endif
