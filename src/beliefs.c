/* Sparse belief store (see src/beliefs.h). A hash table and a pool; nothing about what a
 * belief means (that is src/observe.c). */
#include "beliefs.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY UINT64_MAX

static uint64_t key_of(uint32_t x, uint32_t y)
{
    return ((uint64_t)x << 32) | y;
}

static size_t hash_of(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (size_t)k;
}

static int alloc_table(ts_belief_store *b, size_t cap)
{
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *index = malloc(cap * sizeof *index);
    if (!keys || !index) {
        free(keys), free(index);
        return -1;
    }
    memset(keys, 0xff, cap * sizeof *keys);
    free(b->keys), free(b->index);
    b->keys = keys;
    b->index = index;
    b->table_cap = cap;
    return 0;
}

int ts_beliefs_init(ts_belief_store *b, size_t expected)
{
    memset(b, 0, sizeof *b);
    b->unit = 1.0;
    size_t cap = 64;
    while (cap < 2 * expected)
        cap *= 2;
    b->pool_cap = cap / 2;
    b->pool = malloc(b->pool_cap * sizeof *b->pool);
    if (!b->pool || alloc_table(b, cap) != 0) {
        ts_beliefs_destroy(b);
        return -1;
    }
    return 0;
}

void ts_beliefs_destroy(ts_belief_store *b)
{
    free(b->keys), free(b->index), free(b->pool);
    memset(b, 0, sizeof *b);
}

void ts_beliefs_clear(ts_belief_store *b)
{
    memset(b->keys, 0xff, b->table_cap * sizeof *b->keys);
    b->count = 0;
    b->grows = 0;
    b->unit = 1.0;
}

void ts_beliefs_fade(ts_belief_store *b, double keep)
{
    b->unit *= keep;
    if (b->unit >= 1e-6)
        return;
    /* fold the factor into the records before stored counts grow large */
    float u = (float)b->unit;
    for (size_t r = 0; r < b->count; r++)
        for (int p = 0; p < TS_PILLARS; p++) {
            b->pool[r].pos[p] *= u;
            b->pool[r].neg[p] *= u;
        }
    b->unit = 1.0;
}

long ts_beliefs_find(const ts_belief_store *b, uint32_t x, uint32_t y)
{
    uint64_t k = key_of(x, y);
    size_t mask = b->table_cap - 1;
    for (size_t i = hash_of(k) & mask;; i = (i + 1) & mask) {
        if (b->keys[i] == k)
            return (long)b->index[i];
        if (b->keys[i] == EMPTY)
            return -1;
    }
}

/* Double the table and the pool (keeps the load factor at most one half). */
static int grow(ts_belief_store *b)
{
    size_t cap = b->table_cap * 2;
    ts_belief *pool = realloc(b->pool, (cap / 2) * sizeof *pool);
    if (!pool)
        return -1;
    b->pool = pool;
    b->pool_cap = cap / 2;
    if (alloc_table(b, cap) != 0)
        return -1;
    size_t mask = cap - 1;
    for (size_t r = 0; r < b->count; r++) {
        uint64_t k = key_of(b->pool[r].x, b->pool[r].y);
        size_t i = hash_of(k) & mask;
        while (b->keys[i] != EMPTY)
            i = (i + 1) & mask;
        b->keys[i] = k;
        b->index[i] = (uint32_t)r;
    }
    b->grows++;
    return 0;
}

long ts_beliefs_insert(ts_belief_store *b, uint32_t x, uint32_t y, int *added)
{
    *added = 0;
    long found = ts_beliefs_find(b, x, y);
    if (found >= 0)
        return found;
    if (b->count + 1 > b->pool_cap && grow(b) != 0)
        return -1;
    uint64_t k = key_of(x, y);
    size_t mask = b->table_cap - 1;
    size_t i = hash_of(k) & mask;
    while (b->keys[i] != EMPTY)
        i = (i + 1) & mask;
    size_t r = b->count++;
    b->keys[i] = k;
    b->index[i] = (uint32_t)r;
    memset(&b->pool[r], 0, sizeof b->pool[r]);
    b->pool[r].x = x;
    b->pool[r].y = y;
    *added = 1;
    return (long)r;
}
