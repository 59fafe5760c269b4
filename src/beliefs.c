/* Sparse belief store (see src/beliefs.h). A hash table and a structure of arrays; nothing
 * about what a belief means (that is src/observe.c). */
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

static int resize_float(float **a, size_t n)
{
    float *p = realloc(*a, n * sizeof *p);
    if (!p)
        return -1;
    *a = p;
    return 0;
}

/* Make room for n records in every array of the pool. */
static int alloc_pool(ts_belief_store *b, size_t n)
{
    ts_belief_meta *meta = realloc(b->meta, n * sizeof *meta);
    if (!meta)
        return -1;
    b->meta = meta;
    for (int p = 0; p < TS_PILLARS; p++)
        if (resize_float(&b->pos[p], n) || resize_float(&b->neg[p], n) ||
            resize_float(&b->prior[p], n))
            return -1;
    int32_t *acc = realloc(b->acc, n * sizeof *acc);
    if (!acc)
        return -1;
    b->acc = acc;
    b->pool_cap = n;
    return 0;
}

int ts_beliefs_init(ts_belief_store *b, size_t expected, size_t n_leaders, size_t n_acc)
{
    memset(b, 0, sizeof *b);
    b->unit = 1.0;
    b->n_leaders = n_leaders;
    b->n_acc = n_acc;
    b->acc_live = calloc(n_acc ? n_acc : 1, sizeof *b->acc_live);
    b->head_x = malloc((n_leaders ? n_leaders : 1) * sizeof *b->head_x);
    b->head_y = malloc((n_leaders ? n_leaders : 1) * sizeof *b->head_y);
    if (!b->head_x || !b->head_y || !b->acc_live) {
        ts_beliefs_destroy(b);
        return -1;
    }
    size_t cap = 64;
    while (cap < 2 * expected)
        cap *= 2;
    if (alloc_pool(b, cap / 2) != 0 || alloc_table(b, cap) != 0) {
        ts_beliefs_destroy(b);
        return -1;
    }
    return 0;
}

void ts_beliefs_destroy(ts_belief_store *b)
{
    free(b->keys), free(b->index), free(b->meta);
    for (int p = 0; p < TS_PILLARS; p++)
        free(b->pos[p]), free(b->neg[p]), free(b->prior[p]);
    free(b->acc), free(b->head_x), free(b->head_y);
    free(b->acc_live);
    memset(b, 0, sizeof *b);
}

void ts_beliefs_clear(ts_belief_store *b)
{
    memset(b->keys, 0xff, b->table_cap * sizeof *b->keys);
    memset(b->head_x, 0xff, b->n_leaders * sizeof *b->head_x);
    memset(b->head_y, 0xff, b->n_leaders * sizeof *b->head_y);
    memset(b->acc_live, 0, b->n_acc * sizeof *b->acc_live);
    b->count = 0;
    b->n_live = 0;
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
    for (int p = 0; p < TS_PILLARS; p++)
        for (size_t r = 0; r < b->count; r++) {
            b->pos[p][r] *= u;
            b->neg[p][r] *= u;
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
    if (alloc_pool(b, cap / 2) != 0 || alloc_table(b, cap) != 0)
        return -1;
    size_t mask = cap - 1;
    for (size_t r = 0; r < b->count; r++) {
        uint64_t k = key_of(b->meta[r].x, b->meta[r].y);
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
    memset(&b->meta[r], 0, sizeof b->meta[r]);
    b->meta[r].x = x;
    b->meta[r].y = y;
    b->meta[r].next_x = b->head_x[x];
    b->meta[r].next_y = b->head_y[y];
    b->head_x[x] = (int32_t)r;
    b->head_y[y] = (int32_t)r;
    for (int p = 0; p < TS_PILLARS; p++)
        b->pos[p][r] = b->neg[p][r] = b->prior[p][r] = 0;
    b->acc[r] = 0;
    *added = 1;
    return (long)r;
}

void ts_beliefs_set_live(ts_belief_store *b, long r, int32_t acc)
{
    if (b->meta[r].live)
        b->acc_live[b->acc[r]]--;
    else
        b->n_live++;
    b->acc[r] = acc;
    b->meta[r].live = 1;
    b->acc_live[acc]++;
}

static void retire(ts_belief_store *b, int32_t r)
{
    if (b->meta[r].live) {
        b->meta[r].live = 0;
        b->acc_live[b->acc[r]]--;
        b->n_live--;
    }
    for (int p = 0; p < TS_PILLARS; p++)
        b->pos[p][r] = b->neg[p][r] = b->prior[p][r] = 0;
}

void ts_beliefs_retire_leader(ts_belief_store *b, uint32_t x)
{
    for (int32_t r = b->head_x[x]; r >= 0; r = b->meta[r].next_x)
        retire(b, r);
    for (int32_t r = b->head_y[x]; r >= 0; r = b->meta[r].next_y)
        retire(b, r);
}
