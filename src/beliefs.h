/* Sparse store of leader-to-leader beliefs (MODEL.md 2.3): only pairs that met or observed
 * each other hold one, so memory grows with relationships, not with leaders squared.
 *
 * An open-addressing hash table maps (trustor, trustee) to a record in a pool. Records are
 * never removed: a record whose trustor or trustee slot has changed hands since it was formed
 * is stale and is re-formed in place when next touched. Internal to the engine. */
#ifndef TS_BELIEFS_H
#define TS_BELIEFS_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/params.h"

typedef struct ts_belief {
    uint32_t x, y;         /* trustor and trustee leader slots */
    uint32_t gen_x, gen_y; /* who held the slots when the belief formed */
    int32_t pair;          /* ordered organisation pair (o(x), o(y)) */
    int32_t acc;           /* accumulator of (x, organisation of y) in the end-of-tick pass */
    uint32_t last_act;     /* sequence number of y's latest judged act x saw (0: none) */
    int32_t last_good;     /* x's judgement of that act: 1 good, 0 bad */
    /* evidence counts in units of the store's `unit`: the true count is pos * unit */
    float pos[TS_PILLARS], neg[TS_PILLARS], prior[TS_PILLARS];
} ts_belief;

typedef struct ts_belief_store {
    uint64_t *keys; /* UINT64_MAX marks an empty slot */
    uint32_t *index;
    size_t table_cap; /* power of two */
    ts_belief *pool;
    size_t count, pool_cap;
    uint64_t grows;
    /* Forgetting multiplies every count by the same factor each tick; instead of touching
     * every record, the store keeps that common factor here (true = stored * unit) and new
     * evidence is added divided by it. Renormalised when it gets small. */
    double unit;
} ts_belief_store;

int ts_beliefs_init(ts_belief_store *b, size_t expected);
void ts_beliefs_destroy(ts_belief_store *b);
/* Forget every belief, keeping the memory. */
void ts_beliefs_clear(ts_belief_store *b);
/* Multiply every evidence count by keep (forgetting), in O(1) but for rare renormalisation. */
void ts_beliefs_fade(ts_belief_store *b, double keep);
/* Index of the record for (x, y), or -1. */
long ts_beliefs_find(const ts_belief_store *b, uint32_t x, uint32_t y);
/* Index of the record for (x, y), adding a zeroed one (x, y set) if absent; -1 when out of
 * memory. Adding may move the pool: do not hold record pointers across this call. */
long ts_beliefs_insert(ts_belief_store *b, uint32_t x, uint32_t y, int *added);

#endif
