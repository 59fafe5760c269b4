/* Trust: priors, Beta means, group images, inter-organisational trust (src/engine/trust.h,
 * docs/model.md 7.2-7.6). Who sees what and how it is judged is observe.c's job; this file
 * says what the evidence, once taken, means. */
#include "engine/trust.h"

#include <math.h>
#include <string.h>

#include "engine/fading.h"

void ts_trust_reset(ts_sim *s)
{
    const ts_model *m = s->m;
    /* o's image of p lives at (p, o): its prior from p's reputation and their history */
    for (int r = 0; r < m->n_pairs; r++) {
        double rep = m->org_reputation[m->pair_org[r]];
        s->g_prior[r] = ts_clamp01(rep + 0.3 * s->rel[m->pair_reverse[r]].history);
    }
    size_t n4 = (size_t)m->n_pairs * TS_PILLARS;
    s->g_unit = 1.0;
    memset(s->g_pos, 0, n4 * sizeof *s->g_pos);
    memset(s->g_neg, 0, n4 * sizeof *s->g_neg);
    memset(s->acc_sum, 0, sizeof *s->acc_sum * (size_t)m->n_acc);
}

/* ---- Beta means ------------------------------------------------------------------------- */

/* Every Beta mean of the engine is computed here, once for a belief and once for a group
 * image, in one precision each (docs/model.md 7.2, 7.5): a belief's four pillar means and its
 * trust in single precision, as its counts are stored, by one formula whether the end of tick
 * wants eight of them (in vector lanes) or a decision wants one (in scalars); a group image's
 * four pillar means in double precision, by one vector division. The order of every operation
 * is fixed by the code, so the bits are the same in a lane and in a scalar, and on every
 * machine with IEEE arithmetic. */
typedef float v8sf __attribute__((vector_size(32)));
typedef double v4df __attribute__((vector_size(32)));

/* The pillar means v[p] = (pos u + m0 prior) / ((pos + neg) u + m0) of beliefs with counts
 * pos[p], neg[p] and priors prior[p], with one division (multiplying through by the product of
 * the denominators), and their trust, the weighted sum of the four. u, m0: the store's unit
 * and the prior strength; T: float for one belief, v8sf for the eight of a block. */
#define BELIEF_MEANS(T, pos, neg, prior, u, m0, w, v, trust)                                       \
    do {                                                                                           \
        T a_[TS_PILLARS], b_[TS_PILLARS];                                                          \
        for (int p_ = 0; p_ < TS_PILLARS; p_++) {                                                  \
            a_[p_] = (pos)[p_] * (u) + (m0) * (prior)[p_];                                         \
            b_[p_] = ((pos)[p_] + (neg)[p_]) * (u) + (m0);                                         \
        }                                                                                          \
        T b01_ = b_[0] * b_[1], b23_ = b_[2] * b_[3];                                              \
        T inv_ = 1.0f / (b01_ * b23_);                                                             \
        (v)[0] = a_[0] * b_[1] * b23_ * inv_;                                                      \
        (v)[1] = a_[1] * b_[0] * b23_ * inv_;                                                      \
        (v)[2] = a_[2] * b_[3] * b01_ * inv_;                                                      \
        (v)[3] = a_[3] * b_[2] * b01_ * inv_;                                                      \
        (trust) = (w)[0] * (v)[0] + (w)[1] * (v)[1] + (w)[2] * (v)[2] + (w)[3] * (v)[3];           \
    } while (0)

/* The eight beliefs of a block. */
static inline void belief_means8(const ts_belief_block *blk, const v8sf *vu, const v8sf *vm0,
                                 const float w[TS_PILLARS], v8sf v[TS_PILLARS], v8sf *trust)
{
    const v8sf u = *vu, m0 = *vm0; /* by address: vectors passed by value change the ABI */
    v8sf pos[TS_PILLARS], neg[TS_PILLARS], prior[TS_PILLARS];
    for (int p = 0; p < TS_PILLARS; p++) {
        pos[p] = *(const v8sf *)blk->pos[p];
        neg[p] = *(const v8sf *)blk->neg[p];
        prior[p] = *(const v8sf *)blk->prior[p];
    }
    BELIEF_MEANS(v8sf, pos, neg, prior, u, m0, w, v, *trust);
}

/* The constants belief_means8 takes, for the store as it stands. */
typedef struct belief_consts {
    v8sf u, m0;
    float w[TS_PILLARS];
} belief_consts;

static belief_consts belief_constants(const ts_sim *s)
{
    const float u = (float)s->beliefs.unit, m0 = (float)s->p->beliefs.m0;
    belief_consts c = {{u, u, u, u, u, u, u, u}, {m0, m0, m0, m0, m0, m0, m0, m0}, {0}};
    for (int p = 0; p < TS_PILLARS; p++)
        c.w[p] = (float)s->m->weights[p];
    return c;
}

/* The four pillar means of a group image: (g+ u + m0 gamma) / ((g+ + g-) u + m0). */
static inline void group_means4(const double *g_pos, const double *g_neg, double prior, double m0,
                                double u, v4df *v)
{
    v4df gp, gn;
    memcpy(&gp, g_pos, sizeof gp);
    memcpy(&gn, g_neg, sizeof gn);
    double c = m0 * prior;
    *v = (gp * u + c) / ((gp + gn) * u + m0); /* by address: see belief_means8 */
}

/* The trust a group image implies: its pillar means weighted, summed in pillar order. */
static inline double group_trust(const v4df *v, const double w[TS_PILLARS])
{
    return w[0] * (*v)[0] + w[1] * (*v)[1] + w[2] * (*v)[2] + w[3] * (*v)[3];
}

/* x's prior about a leader of pair's partner, pillar by pillar (docs/model.md 7.3): its own
 * propensity, the partner's reputation and their history, mixed with o's group image. */
void ts_trust_priors(const ts_sim *s, int x, int pair, double prior[TS_PILLARS])
{
    const ts_model *m = s->m;
    int q = m->pair_partner[pair];
    double rho = ts_clamp01(s->propensity[x] + 0.5 * (m->org_reputation[q] - 0.5) +
                            0.3 * s->rel[pair].history);
    double g = s->p->reciprocity.group_prior_weight;
    v4df v;
    size_t image = (size_t)m->pair_reverse[pair];
    group_means4(s->g_pos + image * TS_PILLARS, s->g_neg + image * TS_PILLARS, s->g_prior[image],
                 s->p->reciprocity.group_m0, s->g_unit, &v);
    for (int p = 0; p < TS_PILLARS; p++)
        prior[p] = (1 - g) * rho + g * v[p];
}

double ts_trust_belief(const ts_sim *s, long i)
{
    const ts_belief_store *st = &s->beliefs;
    const float u = (float)st->unit, m0 = (float)s->p->beliefs.m0;
    float w[TS_PILLARS], pos[TS_PILLARS], neg[TS_PILLARS], prior[TS_PILLARS], v[TS_PILLARS], t;
    for (int p = 0; p < TS_PILLARS; p++) {
        w[p] = (float)s->m->weights[p];
        pos[p] = *ts_belief_pos(st, p, (size_t)i);
        neg[p] = *ts_belief_neg(st, p, (size_t)i);
        prior[p] = *ts_belief_prior(st, p, (size_t)i);
    }
    BELIEF_MEANS(float, pos, neg, prior, u, m0, w, v, t);
    return t;
}

/* ---- beliefs ---------------------------------------------------------------------------- */

/* Where x's belief about y is indexed; pair is (organisation of x, organisation of y). */
static ts_belief_key belief_key(const ts_sim *s, int x, int y, int pair)
{
    const ts_model *m = s->m;
    int q = m->pair_partner[pair];
    ts_belief_key k = {m->pair_acc_begin[pair] + (x - m->org_leader_begin[m->leader_org[x]]),
                       (uint32_t)m->org_n_leaders[q], (uint32_t)(y - m->org_leader_begin[q])};
    return k;
}

long ts_trust_current_belief_at(const ts_sim *s, int x, int y, int pair)
{
    long i = ts_beliefs_find(&s->beliefs, belief_key(s, x, y, pair));
    if (i < 0)
        return -1;
    return s->beliefs.meta[i].live ? i : -1; /* retired when a slot changed hands */
}

long ts_trust_current_belief(const ts_sim *s, int x, int y)
{
    const ts_model *m = s->m;
    int pair = ts_model_pair(m, m->leader_org[x], m->leader_org[y]);
    return pair < 0 ? -1 : ts_trust_current_belief_at(s, x, y, pair);
}

double ts_trust_of(const ts_sim *s, int x, int y, int pair)
{
    long i = ts_trust_current_belief_at(s, x, y, pair);
    if (i >= 0)
        return ts_trust_belief(s, i);
    double prior[TS_PILLARS], t = 0;
    ts_trust_priors(s, x, pair, prior);
    for (int p = 0; p < TS_PILLARS; p++)
        t += s->m->weights[p] * prior[p];
    return t;
}

long ts_trust_form_belief(ts_sim *s, int x, int y, int pair)
{
    return ts_trust_form_belief_at(s, belief_key(s, x, y, pair), x, y, pair);
}

long ts_trust_form_belief_at(ts_sim *s, ts_belief_key key, int x, int y, int pair)
{
    int added = 0;
    ts_belief_store *st = &s->beliefs;
    long i = ts_beliefs_find(st, key);
    if (i < 0 && (i = ts_beliefs_insert(st, key, (uint32_t)x, (uint32_t)y, &added)) < 0) {
        ts_state_fail(s, "belief store");
        return -1;
    }
    ts_belief_meta *b = &st->meta[i];
    if (added || !b->live) {
        b->last_act = 0;
        b->last_good = 1;
        double prior[TS_PILLARS];
        ts_trust_priors(s, x, pair, prior);
        for (int p = 0; p < TS_PILLARS; p++) {
            *ts_belief_pos(st, p, (size_t)i) = *ts_belief_neg(st, p, (size_t)i) = 0;
            *ts_belief_prior(st, p, (size_t)i) = (float)prior[p];
        }
        ts_beliefs_set_live(st, i);
    }
    return i;
}

void ts_trust_add_evidence(ts_sim *s, long i, const double ev[TS_PILLARS])
{
    ts_belief_store *st = &s->beliefs;
    double in_units = 1.0 / st->unit;
    for (int p = 0; p < TS_PILLARS; p++) {
        if (ev[p] > 0)
            *ts_belief_pos(st, p, (size_t)i) += (float)(ev[p] * in_units);
        else if (ev[p] < 0)
            *ts_belief_neg(st, p, (size_t)i) += (float)(-ev[p] * in_units);
    }
}

void ts_trust_take_back(ts_sim *s, long i, const float neg[TS_PILLARS])
{
    float in_units = (float)(1.0 / s->beliefs.unit);
    for (int p = 0; p < TS_PILLARS; p++) {
        float *n = ts_belief_neg(&s->beliefs, p, (size_t)i);
        *n = fmaxf(0.0f, *n - 0.5f * neg[p] * in_units);
    }
}

/* ---- group images ----------------------------------------------------------------------- */

void ts_trust_group_evidence(ts_sim *s, int image, const double ev[TS_PILLARS],
                             float neg_out[TS_PILLARS])
{
    double gw = s->p->reciprocity.group_weight, gneg = s->p->reciprocity.group_negativity;
    double *pos = s->g_pos + (size_t)image * TS_PILLARS;
    double *neg = s->g_neg + (size_t)image * TS_PILLARS;
    double in_units = 1.0 / s->g_unit;
    for (int p = 0; p < TS_PILLARS; p++) {
        neg_out[p] = 0;
        if (ev[p] > 0) {
            pos[p] += gw * ev[p] * in_units;
        } else if (ev[p] < 0) {
            neg[p] += gw * gneg * -ev[p] * in_units;
            neg_out[p] = (float)(gw * gneg * -ev[p]);
        }
    }
}

void ts_trust_group_take_back(ts_sim *s, int image, const float neg_in[TS_PILLARS])
{
    double *neg = s->g_neg + (size_t)image * TS_PILLARS;
    for (int p = 0; p < TS_PILLARS; p++)
        neg[p] = fmax(0, neg[p] - 0.5 * neg_in[p] / s->g_unit);
}

/* ---- the end-of-tick pass --------------------------------------------------------------- */

/* Every belief every tick, then every pair: written for the vector unit and for threads.
 * The work is cut into chunks of a fixed size, whatever the number of threads; each chunk
 * adds up its own part in a fixed order, and the parts are added in chunk order. So the bits
 * of every sum are the same on one thread or many, and on every machine with IEEE arithmetic
 * (the kernels are built twice, for AVX2 and for any x86-64, and give the same bits). */
typedef double v8df __attribute__((vector_size(64)));
enum {
    LANES = TS_BELIEF_LANES,
    FOLD = 256,          /* beliefs whose sums are kept in float lanes, then folded into doubles */
    BELIEF_CHUNK = 8192, /* beliefs per chunk (a multiple of FOLD) */
    PAIR_CHUNK = 2048,   /* organisation pairs per chunk */
    FAR_BYTES = 1 << 20  /* accumulators beyond the caches */
};

static size_t chunks(size_t n, size_t size)
{
    return (n + size - 1) / size;
}

/* One fold of beliefs [f, f_end): how a trust reaches its accumulator is fixed for the whole
 * loop (mode), so the compiler writes one loop for each. */
enum { KEEP_TRUST, ADD_NEAR, ADD_FAR };
static inline __attribute__((always_inline)) void
beliefs_fold(const ts_belief_store *st, const belief_consts *c, size_t f, size_t f_end,
             double sum[5], double *restrict acc_sum, const int mode)
{
    const int32_t *acc = st->acc;
    v8sf lane[5] = {{0}};
    double fold_trust[FOLD];
    for (size_t i = f; i < f_end; i += LANES) {
        v8sf v[TS_PILLARS], trust;
        belief_means8(&st->blocks[i / LANES], &c->u, &c->m0, c->w, v, &trust);
        for (int p = 0; p < TS_PILLARS; p++)
            lane[p] += v[p];
        lane[4] += trust;
        if (mode == KEEP_TRUST) { /* several threads: kept for pass_beliefs to add in order */
            memcpy(st->trust + i, &trust, sizeof trust);
            continue;
        }
        double t[LANES];
        v8df td = __builtin_convertvector(trust, v8df); /* exactly the floats' values */
        memcpy(t, &td, sizeof td);
        if (mode == ADD_FAR) { /* fetched now, added below */
            memcpy(fold_trust + (i - f), t, sizeof t);
            for (size_t l = 0; l < LANES; l++)
                __builtin_prefetch(&acc_sum[acc[i + l]], 1);
        } else {
            for (size_t l = 0; l < LANES; l++)
                acc_sum[acc[i + l]] += t[l];
        }
    }
    if (mode == ADD_FAR) /* the same order as above */
        for (size_t i = f; i < f_end; i++)
            acc_sum[acc[i]] += fold_trust[i - f];
    for (int q = 0; q < 5; q++)
        for (int l = 0; l < LANES; l++)
            sum[q] += lane[q][l];
}

/* Beliefs [start, end) of the store: their pillar means and trust added to sum[0..4] (in float
 * lanes over FOLD beliefs, folded into doubles in order), and each trust added to its
 * accumulator in the order of the store (acc_sum) or kept in st->trust (acc_sum NULL). On one
 * thread, accumulators that fit in the caches take each trust at once; others are fetched
 * while a fold's trusts are computed, and take them in a loop of their own. The lanes past the
 * last record are zero (so are a retired record's counts and prior): their means and trust
 * are exactly 0 and add nothing. */
__attribute__((target_clones("avx2", "default"))) static void
beliefs_chunk(const ts_belief_store *st, const belief_consts *c, size_t start, size_t end,
              double sum[5], double *restrict acc_sum)
{
    const int mode = !acc_sum                                  ? KEEP_TRUST
                     : st->n_acc * sizeof *acc_sum > FAR_BYTES ? ADD_FAR
                                                               : ADD_NEAR;
    for (size_t f = start; f < end; f += FOLD) {
        size_t f_end = f + FOLD < end ? f + FOLD : end;
        if (mode == KEEP_TRUST)
            beliefs_fold(st, c, f, f_end, sum, acc_sum, KEEP_TRUST);
        else if (mode == ADD_FAR)
            beliefs_fold(st, c, f, f_end, sum, acc_sum, ADD_FAR);
        else
            beliefs_fold(st, c, f, f_end, sum, acc_sum, ADD_NEAR);
    }
}

typedef struct belief_pass {
    const ts_belief_store *st;
    const belief_consts *c;
    size_t n;
    double *part;
    double *acc_sum; /* NULL when the chunks run on several threads */
} belief_pass;

static void beliefs_chunk_k(void *ctx, size_t k)
{
    const belief_pass *b = ctx;
    double *sum = b->part + k * TS_CHUNK_SUMS;
    memset(sum, 0, 5 * sizeof *sum);
    size_t end = (k + 1) * BELIEF_CHUNK < b->n ? (k + 1) * BELIEF_CHUNK : b->n;
    beliefs_chunk(b->st, b->c, k * BELIEF_CHUNK, end, sum, b->acc_sum);
}

/* Every belief's trust (docs/model.md 7.4), for the metrics and for TO; then all evidence
 * fades at once through the store's common unit. */
static void pass_beliefs(ts_sim *s, ts_tick_sums *ts)
{
    ts_belief_store *st = &s->beliefs;
    const belief_consts c = belief_constants(s);
    size_t n = (st->count + LANES - 1) / LANES * LANES, n_chunks = chunks(n, BELIEF_CHUNK);
    double *part = ts_state_chunk_sums(s, n_chunks);
    if (!part)
        return;
    if (s->threads > 1 && !ts_beliefs_trust_room(st)) {
        ts_state_fail(s, "belief store");
        return;
    }
    belief_pass ctx = {st, &c, n, part, s->threads > 1 ? NULL : s->acc_sum};
    ts_state_for_chunks(s, n_chunks, beliefs_chunk_k, &ctx);
    double sum[5] = {0}; /* four pillars, trust */
    for (size_t k = 0; k < n_chunks; k++)
        for (int q = 0; q < 5; q++)
            sum[q] += part[k * TS_CHUNK_SUMS + q];
    for (int p = 0; p < TS_PILLARS; p++)
        ts->pillar[p] = sum[p];
    ts->trust = sum[4];
    ts->known = (long)st->n_live;
    /* Each belief's trust goes into its accumulator in the order of the store, the order one
     * thread adds them in (the lanes past the last record add 0 to accumulator 0). */
    if (!ctx.acc_sum) {
        const int32_t *acc = st->acc;
        double *restrict acc_sum = s->acc_sum;
        for (size_t r = 0; r < n; r++)
            acc_sum[acc[r]] += st->trust[r];
    }
    ts_beliefs_fade(st, s->p->beliefs.forget);
}

/* The trust group images imply, for pairs [start, end), into gt. */
__attribute__((target_clones("avx2", "default"))) static void
group_trusts(const double *restrict g_pos, const double *restrict g_neg,
             const double *restrict g_prior, const double w[TS_PILLARS], double gm0, double u,
             size_t start, size_t end, double *restrict gt)
{
    for (size_t k = start; k < end; k++) {
        v4df v;
        group_means4(g_pos + k * TS_PILLARS, g_neg + k * TS_PILLARS, g_prior[k], gm0, u, &v);
        gt[k] = group_trust(&v, w);
    }
}

typedef struct pair_pass {
    ts_sim *s;
    size_t n;
    double *part;
} pair_pass;

static size_t pair_chunk_end(const pair_pass *p, size_t k)
{
    return (k + 1) * PAIR_CHUNK < p->n ? (k + 1) * PAIR_CHUNK : p->n;
}

static void group_trusts_k(void *ctx, size_t k)
{
    const pair_pass *p = ctx;
    ts_sim *s = p->s;
    group_trusts(s->g_pos, s->g_neg, s->g_prior, s->m->weights, s->p->reciprocity.group_m0,
                 s->g_unit, k * PAIR_CHUNK, pair_chunk_end(p, k), s->group_t);
}

/* Accumulators [start, end): each sum becomes the mean trust of its live beliefs (the sum
 * itself, 0, when it has none), four at a time: the divisions are IEEE's, so the bits are
 * those of dividing one by one. */
typedef int32_t v4si __attribute__((vector_size(16)));
__attribute__((target_clones("avx2", "default"))) static void
acc_means(double *restrict acc_sum, const int32_t *acc_n, size_t start, size_t end)
{
    size_t j = start;
    for (; j + 4 <= end; j += 4) {
        v4si c;
        v4df sum;
        memcpy(&c, acc_n + j, sizeof c);
        memcpy(&sum, acc_sum + j, sizeof sum);
        c += (c <= 0) & (1 - c); /* c > 0 ? c : 1: an empty accumulator (sum 0) by 1 */
        v4df d = {(double)c[0], (double)c[1], (double)c[2], (double)c[3]};
        sum /= d;
        memcpy(acc_sum + j, &sum, sizeof sum);
    }
    for (; j < end; j++)
        acc_sum[j] /= acc_n[j] > 0 ? acc_n[j] : 1;
}

/* A chunk of pairs in the order of their accumulators (r = (p, o) for TO_op): TO_op is the
 * mean over o's leaders of their mean trust in the leaders of p they know, or of the trust
 * o's group image of p implies when they know none (docs/model.md 7.6). Accumulators are
 * emptied as they are read. */
static void to_k(void *ctx, size_t chunk)
{
    const pair_pass *p = ctx;
    ts_sim *s = p->s;
    const ts_model *m = s->m;
    const int32_t *live = s->beliefs.acc_live;
    double *acc_mean = s->acc_sum;
    size_t start = chunk * PAIR_CHUNK, end = pair_chunk_end(p, chunk);
    /* the chunk's accumulators are one range: their means first, so the divisions overlap */
    size_t a_end = end < (size_t)m->n_pairs ? (size_t)m->pair_rev_acc_begin[end] : (size_t)m->n_acc;
    acc_means(acc_mean, live, (size_t)m->pair_rev_acc_begin[start], a_end);
    double to = 0, group = 0, confidence = 0, pairs = 0; /* the pair metrics' sums */
    for (size_t r = start; r < end; r++) {
        int q = m->pair_org[r], o = m->pair_partner[r];
        int n = m->org_n_leaders[o], a0 = m->pair_rev_acc_begin[r];
        double gt = s->group_t[r], sum = 0;
        for (int a = a0; a < a0 + n; a++) {
            sum += live[a] > 0 ? acc_mean[a] : gt;
            acc_mean[a] = 0;
        }
        if (s->active[o] && s->active[q]) {
            s->to[r] = sum / n;
            to += s->to[r];
            group += gt;
            confidence += ts_confidence(s, m->pair_collab[r]); /* the same both ways */
            pairs += 1;
        }
    }
    double *row = p->part + chunk * TS_CHUNK_SUMS;
    row[0] = to, row[1] = group, row[2] = confidence, row[3] = pairs;
}

/* Group images' trust, TO of every pair, the pair metrics; then group images fade through
 * their common unit, as beliefs do. */
static void pass_pairs(ts_sim *s, ts_tick_sums *ts)
{
    size_t np = (size_t)s->m->n_pairs, n_chunks = chunks(np, PAIR_CHUNK);
    double *part = ts_state_chunk_sums(s, n_chunks);
    if (!part)
        return;
    pair_pass ctx = {s, np, part};
    ts_state_for_chunks(s, n_chunks, group_trusts_k, &ctx); /* each step reads the last's */
    ts_state_for_chunks(s, n_chunks, to_k, &ctx);
    double sum[4] = {0};
    for (size_t k = 0; k < n_chunks; k++)
        for (int q = 0; q < 4; q++)
            sum[q] += part[k * TS_CHUNK_SUMS + q];
    ts->to = sum[0];
    ts->group = sum[1];
    ts->confidence = sum[2];
    ts->pairs = (long)sum[3];
    if (ts_fading_step(&s->g_unit, s->p->beliefs.forget)) {
        for (size_t i = 0; i < np * TS_PILLARS; i++) {
            s->g_pos[i] *= s->g_unit;
            s->g_neg[i] *= s->g_unit;
        }
        s->g_unit = 1.0;
    }
}

void ts_trust_update(ts_sim *s, ts_tick_sums *sums)
{
    pass_beliefs(s, sums);
    pass_pairs(s, sums);
}
