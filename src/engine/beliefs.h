/* Sparse store of leader-to-leader beliefs (docs/model.md 7.2): only pairs that met or observed
 * each other hold one, so memory grows with relationships, not with leaders squared.
 *
 * The index is by accumulator: the pair (trustor x, organisation p of the trustee), which the
 * engine already numbers for the end-of-tick pass. The first time x comes to know someone in
 * p, the accumulator gets one slot per leader slot of p, taken from a growing pool, each
 * holding a record index or -1; finding a belief is two array reads, and the index costs
 * 4 bytes per leader of the organisations each trustor knows someone in. With organisations
 * of a few dozen leaders that stays near the number of beliefs; only organisations of
 * thousands of leaders, each known a little by many, would make it grow faster.
 *
 * Records keep what the acts read besides the counts in `meta`, the lists a retirement walks
 * in `links`, and their evidence counts and priors in blocks of eight beliefs, one row of
 * eight floats per pillar and kind (an array of structures of arrays): the end-of-tick pass
 * over every belief reads whole blocks with aligned vector loads, and a single belief's twelve
 * floats lie in six cache lines, not twelve. Records are never removed: a record whose trustor
 * or trustee slot has changed hands, or whose organisation left, is retired (marked not live,
 * its counts and prior set to zero, so that it adds exactly nothing to the pass's sums without
 * being tested), and is re-formed in place when next touched. Internal to the engine. */
#ifndef TS_BELIEFS_H
#define TS_BELIEFS_H

#include <stddef.h>
#include <stdint.h>

#include "trustsim/params.h"

/* What the acts read of a belief besides its counts: 4 bytes, sixteen to a cache line. A
 * belief is current while it is live: it is retired whenever either slot changes hands, so no
 * record of who held the slots is needed. */
enum { TS_ACT_SEQ_BITS = 30 }; /* a leader's judged acts are numbered modulo 2^30, from 1 */
typedef struct ts_belief_meta {
    uint32_t last_act : TS_ACT_SEQ_BITS; /* number of y's latest judged act x saw (0: none) */
    uint32_t last_good : 1;              /* x's judgement of that act: 1 good, 0 bad */
    uint32_t live : 1;                   /* 1 from formation until retired */
} ts_belief_meta;

/* The lists by trustor and by trustee slot, read only when a leader's beliefs are retired. */
typedef struct ts_belief_links {
    int32_t next_x, next_y; /* next record with the same trustor / trustee slot, or -1 */
} ts_belief_links;

enum { TS_BELIEF_LANES = 8 };

/* Eight records' evidence counts (in units of the store's `unit`) and priors: 384 bytes, on a
 * cache-line boundary, so that each row of eight is one aligned vector. */
typedef struct ts_belief_block {
    _Alignas(64) float pos[TS_PILLARS][TS_BELIEF_LANES];
    float neg[TS_PILLARS][TS_BELIEF_LANES];
    float prior[TS_PILLARS][TS_BELIEF_LANES];
} ts_belief_block;
_Static_assert(sizeof(ts_belief_block) % 64 == 0, "blocks fill whole cache lines");

typedef struct ts_belief_store {
    int32_t *acc_base; /* per accumulator: its first slot, or -1 [n_acc] */
    int32_t *slots;    /* record index per (accumulator, leader of p), or -1 */
    size_t slot_count, slot_cap;
    ts_belief_meta *meta;
    ts_belief_links *links;
    /* counts and priors of records 8b..8b+7 in blocks[b], 64-byte aligned inside the
     * allocation blocks_raw; a block is zeroed (and its records' accumulators set to 0) when
     * its first record is added, so the lanes past `count` in the last block are zero */
    ts_belief_block *blocks;
    unsigned char *blocks_raw;
    int32_t *acc; /* accumulator of (x, organisation of y); 0 for the last block's lanes
                   * past count */
    float *trust; /* each record's trust, kept by an end-of-tick pass on several threads
                   * (allocated by the first such pass: [trust_cap]) */
    size_t trust_cap;
    int32_t *acc_live; /* per accumulator: how many live beliefs it has, [n_acc] */
    size_t n_acc;
    int32_t *head_x, *head_y; /* per leader slot: first record held by / about it */
    size_t n_leaders;
    size_t count, pool_cap;
    size_t max_count; /* records at most: INT32_MAX (indices are 32-bit); tests lower it to
                         reach the path of a store that cannot grow */
    size_t n_live;    /* live records */
    uint64_t grows;
    /* Forgetting multiplies every count by the same factor each tick; instead of touching
     * every record, the store keeps that common factor here (true = stored * unit) and new
     * evidence is added divided by it. Renormalised when it gets small. */
    double unit;
} ts_belief_store;

/* Bytes a belief occupies in the pool (the index adds 4 bytes per slot). */
#define TS_BELIEF_BYTES                                                                            \
    (sizeof(ts_belief_meta) + sizeof(ts_belief_links) + 3 * TS_PILLARS * sizeof(float) +           \
     sizeof(int32_t))

/* Record r's positive and negative evidence and prior for pillar p. */
static inline float *ts_belief_pos(const ts_belief_store *b, int p, size_t r)
{
    return &b->blocks[r / TS_BELIEF_LANES].pos[p][r % TS_BELIEF_LANES];
}
static inline float *ts_belief_neg(const ts_belief_store *b, int p, size_t r)
{
    return &b->blocks[r / TS_BELIEF_LANES].neg[p][r % TS_BELIEF_LANES];
}
static inline float *ts_belief_prior(const ts_belief_store *b, int p, size_t r)
{
    return &b->blocks[r / TS_BELIEF_LANES].prior[p][r % TS_BELIEF_LANES];
}

/* Room for `expected` records and index slots to start with (both grow when needed). */
int ts_beliefs_init(ts_belief_store *b, size_t expected, size_t n_leaders, size_t n_acc);
void ts_beliefs_destroy(ts_belief_store *b);
/* Forget every belief, keeping the memory. */
void ts_beliefs_clear(ts_belief_store *b);
/* One tick of forgetting of every evidence count (engine/fading.h), in O(1) but for rare
 * renormalisation. */
void ts_beliefs_fade(ts_belief_store *b, double forget);
/* Where a belief of x about y is indexed: x's accumulator for y's organisation, the number of
 * leader slots of that organisation, and y's place among them. */
typedef struct ts_belief_key {
    int32_t acc;
    uint32_t n, j;
} ts_belief_key;

/* Index of the record at key k, or -1. */
static inline long ts_beliefs_find(const ts_belief_store *b, ts_belief_key k)
{
    int32_t base = b->acc_base[k.acc];
    return base < 0 ? -1 : (long)b->slots[(size_t)base + k.j];
}
/* Index of the record at key k for trustor x and trustee y, adding one (on their lists, its
 * accumulator k.acc, the rest zero, not live) if absent; -1 when out of memory. */
long ts_beliefs_insert(ts_belief_store *b, ts_belief_key k, uint32_t x, uint32_t y, int *added);
/* Bytes allocated: records, index and lists. */
size_t ts_beliefs_bytes(const ts_belief_store *b);
/* Room for every record's trust (see `trust`); NULL when out of memory. */
float *ts_beliefs_trust_room(ts_belief_store *b);
/* Make record r live, counted in its accumulator (when it is formed or re-formed). */
void ts_beliefs_set_live(ts_belief_store *b, long r);
/* Retire every belief held by or about leader slot x (its holder changed, or its organisation
 * left): not live, counts and prior zero. Costs the number of beliefs that ever involved the
 * slot. */
void ts_beliefs_retire_leader(ts_belief_store *b, uint32_t x);

#endif
