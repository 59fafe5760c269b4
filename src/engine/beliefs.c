/* Sparse belief store (see src/engine/beliefs.h). An index by accumulator, and records whose
 * counts and priors lie in blocks of eight; nothing about what a belief means (that is
 * src/engine/trust.c). */
#include "engine/beliefs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fading.h"

/* Make room for n records (a multiple of TS_BELIEF_LANES) in every array of the pool. The
 * blocks grow by realloc, which can move large allocations without copying them or holding
 * both copies, and are kept 64-byte aligned inside it (moved by the change of offset when
 * realloc returns another alignment). */
static int alloc_pool(ts_belief_store *b, size_t n)
{
    ts_belief_meta *meta = realloc(b->meta, n * sizeof *meta);
    if (!meta)
        return -1;
    b->meta = meta;
    ts_belief_links *links = realloc(b->links, n * sizeof *links);
    if (!links)
        return -1;
    b->links = links;
    int32_t *acc = realloc(b->acc, n * sizeof *acc);
    if (!acc)
        return -1;
    b->acc = acc;
    size_t used = b->blocks ? (size_t)((unsigned char *)b->blocks - b->blocks_raw) : 0;
    size_t n_blocks = n / TS_BELIEF_LANES, old_blocks = b->pool_cap / TS_BELIEF_LANES;
    unsigned char *raw = realloc(b->blocks_raw, n_blocks * sizeof(ts_belief_block) + 64);
    if (!raw)
        return -1;
    size_t offset = (64 - (uintptr_t)raw % 64) % 64;
    if (offset != used && old_blocks > 0)
        memmove(raw + offset, raw + used, old_blocks * sizeof(ts_belief_block));
    b->blocks_raw = raw;
    b->blocks = (ts_belief_block *)(void *)(raw + offset);
    b->pool_cap = n;
    return 0;
}

int ts_beliefs_init(ts_belief_store *b, size_t expected, size_t n_leaders, size_t n_acc)
{
    memset(b, 0, sizeof *b);
    b->unit = 1.0;
    b->max_count = INT32_MAX;
    b->n_leaders = n_leaders;
    b->n_acc = n_acc;
    b->acc_live = calloc(n_acc ? n_acc : 1, sizeof *b->acc_live);
    b->acc_base = malloc((n_acc ? n_acc : 1) * sizeof *b->acc_base);
    b->head_x = malloc((n_leaders ? n_leaders : 1) * sizeof *b->head_x);
    b->head_y = malloc((n_leaders ? n_leaders : 1) * sizeof *b->head_y);
    size_t cap = expected > 64 ? expected : 64;
    cap = (cap + TS_BELIEF_LANES - 1) / TS_BELIEF_LANES * TS_BELIEF_LANES;
    b->slots = malloc(cap * sizeof *b->slots);
    b->slot_cap = cap;
    if (!b->head_x || !b->head_y || !b->acc_live || !b->acc_base || !b->slots ||
        alloc_pool(b, cap) != 0) {
        ts_beliefs_destroy(b);
        return -1;
    }
    ts_beliefs_clear(b);
    return 0;
}

void ts_beliefs_destroy(ts_belief_store *b)
{
    free(b->acc_base), free(b->slots), free(b->meta), free(b->links), free(b->blocks_raw);
    free(b->acc), free(b->trust), free(b->head_x), free(b->head_y);
    free(b->acc_live);
    memset(b, 0, sizeof *b);
}

void ts_beliefs_clear(ts_belief_store *b)
{
    memset(b->acc_base, 0xff, b->n_acc * sizeof *b->acc_base);
    b->slot_count = 0;
    memset(b->head_x, 0xff, b->n_leaders * sizeof *b->head_x);
    memset(b->head_y, 0xff, b->n_leaders * sizeof *b->head_y);
    memset(b->acc_live, 0, b->n_acc * sizeof *b->acc_live);
    b->count = 0; /* each block is zeroed again when its first record is added */
    b->n_live = 0;
    b->grows = 0;
    b->unit = 1.0;
}

void ts_beliefs_fade(ts_belief_store *b, double forget)
{
    if (!ts_fading_step(&b->unit, forget))
        return;
    /* fold the factor into the records before stored counts grow large */
    float u = (float)b->unit;
    size_t used_blocks = (b->count + TS_BELIEF_LANES - 1) / TS_BELIEF_LANES;
    for (size_t k = 0; k < used_blocks; k++)
        for (int p = 0; p < TS_PILLARS; p++)
            for (int l = 0; l < TS_BELIEF_LANES; l++) {
                b->blocks[k].pos[p][l] *= u;
                b->blocks[k].neg[p][l] *= u;
            }
    b->unit = 1.0;
}

/* Slots for accumulator k.acc, its first time: taken from the pool, which doubles when full. */
static int open_accumulator(ts_belief_store *b, ts_belief_key k)
{
    if (b->slot_count + k.n > (size_t)INT32_MAX) /* slot offsets are 32-bit */
        return -1;
    if (b->slot_count + k.n > b->slot_cap) {
        size_t grown = b->slot_cap + b->slot_cap / 2; /* by half: less room left unused */
        size_t cap = grown > b->slot_count + k.n ? grown : b->slot_count + k.n;
        int32_t *slots = realloc(b->slots, cap * sizeof *slots);
        if (!slots)
            return -1;
        b->slots = slots;
        b->slot_cap = cap;
        b->grows++;
    }
    b->acc_base[k.acc] = (int32_t)b->slot_count;
    memset(b->slots + b->slot_count, 0xff, k.n * sizeof *b->slots);
    b->slot_count += k.n;
    return 0;
}

long ts_beliefs_insert(ts_belief_store *b, ts_belief_key k, uint32_t x, uint32_t y, int *added)
{
    *added = 0;
    if (b->acc_base[k.acc] < 0 && open_accumulator(b, k) != 0)
        return -1;
    int32_t *slot = &b->slots[(size_t)b->acc_base[k.acc] + k.j];
    if (*slot >= 0)
        return *slot;
    if (b->count >= b->max_count)
        return -1;
    if (b->count + 1 > b->pool_cap) {
        size_t grown = 2 * b->pool_cap;
        if (alloc_pool(b, grown) != 0)
            return -1;
        b->grows++;
    }
    size_t r = b->count++;
    /* A block is zeroed when it begins, and nothing writes a lane before its record is added:
     * the new record's counts and prior are zero, and the lanes after it add nothing to the
     * pass. */
    if (r % TS_BELIEF_LANES == 0) {
        memset(&b->blocks[r / TS_BELIEF_LANES], 0, sizeof *b->blocks);
        memset(b->acc + r, 0, TS_BELIEF_LANES * sizeof *b->acc);
    }
    *slot = (int32_t)r;
    memset(&b->meta[r], 0, sizeof b->meta[r]);
    b->links[r].next_x = b->head_x[x];
    b->links[r].next_y = b->head_y[y];
    b->head_x[x] = (int32_t)r;
    b->head_y[y] = (int32_t)r;
    b->acc[r] = k.acc;
    *added = 1;
    return (long)r;
}

size_t ts_beliefs_bytes(const ts_belief_store *b)
{
    return b->pool_cap * TS_BELIEF_BYTES + b->trust_cap * sizeof *b->trust +
           b->slot_cap * sizeof *b->slots + b->n_acc * (sizeof *b->acc_base + sizeof *b->acc_live) +
           2 * b->n_leaders * sizeof *b->head_x;
}

float *ts_beliefs_trust_room(ts_belief_store *b)
{
    if (b->trust_cap < b->pool_cap) {
        float *t = realloc(b->trust, b->pool_cap * sizeof *t);
        if (!t)
            return NULL;
        b->trust = t;
        b->trust_cap = b->pool_cap;
    }
    return b->trust;
}

void ts_beliefs_set_live(ts_belief_store *b, long r)
{
    if (b->meta[r].live)
        return;
    b->meta[r].live = 1;
    b->acc_live[b->acc[r]]++;
    b->n_live++;
}

static void retire(ts_belief_store *b, int32_t r)
{
    if (b->meta[r].live) {
        b->meta[r].live = 0;
        b->acc_live[b->acc[r]]--;
        b->n_live--;
    }
    for (int p = 0; p < TS_PILLARS; p++)
        *ts_belief_pos(b, p, (size_t)r) = *ts_belief_neg(b, p, (size_t)r) =
            *ts_belief_prior(b, p, (size_t)r) = 0;
}

void ts_beliefs_retire_leader(ts_belief_store *b, uint32_t x)
{
    for (int32_t r = b->head_x[x]; r >= 0; r = b->links[r].next_x)
        retire(b, r);
    for (int32_t r = b->head_y[x]; r >= 0; r = b->links[r].next_y)
        retire(b, r);
}
