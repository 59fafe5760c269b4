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
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            double r = m->org_reputation[m->pair_partner[k]];
            s->g_prior[k] = ts_clamp01(r + 0.3 * s->rel[k].history);
        }
    size_t n4 = (size_t)m->n_pairs * TS_PILLARS;
    s->g_unit = 1.0;
    memset(s->g_pos, 0, n4 * sizeof *s->g_pos);
    memset(s->g_neg, 0, n4 * sizeof *s->g_neg);
}

/* ---- Beta means ------------------------------------------------------------------------- */

/* Every Beta mean of the engine is computed here, once for a belief and once for a group
 * image, in one precision each (docs/model.md 7.2, 7.5): a belief's four pillar means and its
 * trust in single precision, as its counts are stored, by the same vector code whether the end
 * of tick wants eight of them or a decision wants one; a group image's four pillar means in
 * double precision, by one vector division. The order of every operation is fixed by the
 * code, so the bits are the same on every machine with IEEE arithmetic. */
typedef float v8sf __attribute__((vector_size(32)));
typedef double v4df __attribute__((vector_size(32)));

/* The pillar means v[p] = (pos u + m0 prior) / ((pos + neg) u + m0) of the eight beliefs of a
 * block, with one division (multiplying through by the product of the denominators), and
 * their trust, the weighted sum of the four. u, m0: the store's unit and the prior strength. */
static inline void belief_means8(const ts_belief_block *blk, const v8sf *vu, const v8sf *vm0,
                                 const float w[TS_PILLARS], v8sf v[TS_PILLARS], v8sf *trust)
{
    const v8sf u = *vu, m0 = *vm0; /* by address: vectors passed by value change the ABI */
    v8sf a[TS_PILLARS], b[TS_PILLARS];
    for (int p = 0; p < TS_PILLARS; p++) {
        v8sf vp = *(const v8sf *)blk->pos[p], vn = *(const v8sf *)blk->neg[p],
             vr = *(const v8sf *)blk->prior[p];
        a[p] = vp * u + m0 * vr;
        b[p] = (vp + vn) * u + m0;
    }
    v8sf b01 = b[0] * b[1], b23 = b[2] * b[3];
    v8sf inv = 1.0f / (b01 * b23);
    v[0] = a[0] * b[1] * b23 * inv;
    v[1] = a[1] * b[0] * b23 * inv;
    v[2] = a[2] * b[3] * b01 * inv;
    v[3] = a[3] * b[2] * b01 * inv;
    *trust = w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
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

static double group_mean(const ts_sim *s, int pair, int pillar)
{
    v4df v;
    group_means4(s->g_pos + (size_t)pair * TS_PILLARS, s->g_neg + (size_t)pair * TS_PILLARS,
                 s->g_prior[pair], s->p->reciprocity.group_m0, s->g_unit, &v);
    return v[pillar];
}

double ts_trust_prior_pillar(const ts_sim *s, int x, int pair, int pillar)
{
    const ts_model *m = s->m;
    int q = m->pair_partner[pair];
    double rho = ts_clamp01(s->propensity[x] + 0.5 * (m->org_reputation[q] - 0.5) +
                            0.3 * s->rel[pair].history);
    double g = s->p->reciprocity.group_prior_weight;
    return (1 - g) * rho + g * group_mean(s, pair, pillar);
}

double ts_trust_belief(const ts_sim *s, long i)
{
    belief_consts c = belief_constants(s);
    v8sf v[TS_PILLARS], trust;
    belief_means8(&s->beliefs.blocks[i / TS_BELIEF_LANES], &c.u, &c.m0, c.w, v, &trust);
    return trust[i % TS_BELIEF_LANES];
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
    double t = 0;
    for (int p = 0; p < TS_PILLARS; p++)
        t += s->m->weights[p] * ts_trust_prior_pillar(s, x, pair, p);
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
        for (int p = 0; p < TS_PILLARS; p++) {
            *ts_belief_pos(st, p, (size_t)i) = *ts_belief_neg(st, p, (size_t)i) = 0;
            *ts_belief_prior(st, p, (size_t)i) = (float)ts_trust_prior_pillar(s, x, pair, p);
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

void ts_trust_group_evidence(ts_sim *s, int pair, const double ev[TS_PILLARS],
                             float neg_out[TS_PILLARS])
{
    double gw = s->p->reciprocity.group_weight, gneg = s->p->reciprocity.group_negativity;
    double *pos = s->g_pos + (size_t)pair * TS_PILLARS;
    double *neg = s->g_neg + (size_t)pair * TS_PILLARS;
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

void ts_trust_group_take_back(ts_sim *s, int pair, const float neg_in[TS_PILLARS])
{
    double *neg = s->g_neg + (size_t)pair * TS_PILLARS;
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
    PAIR_CHUNK = 2048    /* organisation pairs per chunk */
};

static size_t chunks(size_t n, size_t size)
{
    return (n + size - 1) / size;
}

/* Beliefs [start, end) of the store: each one's trust into st->trust, and their pillar means
 * and trust added to sum[0..4]. The lanes past the last record are zero (so are a retired
 * record's counts and prior): their means and trust are exactly 0 and add nothing. */
__attribute__((target_clones("avx2", "default"))) static void
beliefs_chunk(const ts_belief_store *st, const belief_consts *c, size_t start, size_t end,
              double sum[5])
{
    for (size_t f = start; f < end; f += FOLD) {
        size_t f_end = f + FOLD < end ? f + FOLD : end;
        v8sf lane[5] = {{0}};
        for (size_t i = f; i < f_end; i += LANES) {
            v8sf v[TS_PILLARS], trust;
            belief_means8(&st->blocks[i / LANES], &c->u, &c->m0, c->w, v, &trust);
            for (int p = 0; p < TS_PILLARS; p++)
                lane[p] += v[p];
            lane[4] += trust;
            memcpy(st->trust + i, &trust, sizeof trust);
        }
        for (int q = 0; q < 5; q++)
            for (int l = 0; l < LANES; l++)
                sum[q] += lane[q][l];
    }
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
#pragma omp parallel for num_threads(s->threads) schedule(static) if (s->threads > 1)
    for (size_t k = 0; k < n_chunks; k++) {
        double *sum = part + k * TS_CHUNK_SUMS;
        memset(sum, 0, 5 * sizeof *sum);
        size_t end = (k + 1) * BELIEF_CHUNK < n ? (k + 1) * BELIEF_CHUNK : n;
        beliefs_chunk(st, &c, k * BELIEF_CHUNK, end, sum);
    }
    double sum[5] = {0}; /* four pillars, trust */
    for (size_t k = 0; k < n_chunks; k++)
        for (int q = 0; q < 5; q++)
            sum[q] += part[k * TS_CHUNK_SUMS + q];
    for (int p = 0; p < TS_PILLARS; p++)
        ts->pillar[p] = sum[p];
    ts->trust = sum[4];
    ts->known = (long)st->n_live;
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

/* Mean trust of leader x in the leaders of p he knows: the accumulator a's live beliefs, by
 * their slots (a retired record's trust is 0). */
static double known_mean(const ts_sim *s, int a, int n_p)
{
    const ts_belief_store *st = &s->beliefs;
    const int32_t *slot = st->slots + st->acc_base[a];
    double sum = 0;
    for (int j = 0; j < n_p; j++)
        if (slot[j] >= 0)
            sum += st->trust[slot[j]];
    return sum / st->acc_live[a];
}

/* Pairs [start, end) in the order of their accumulators (r = (p, o) for TO_op): TO_op is the
 * mean over o's leaders of their mean trust in the leaders of p they know, or of the trust
 * o's group image of p implies when they know none (docs/model.md 7.6). */
static void to_chunk(ts_sim *s, size_t start, size_t end)
{
    const ts_model *m = s->m;
    const int32_t *live = s->beliefs.acc_live;
    for (size_t r = start; r < end; r++) {
        int q = m->pair_org[r], o = m->pair_partner[r], k = m->pair_reverse[r];
        if (!s->active[o] || !s->active[q])
            continue;
        double gt = s->group_t[k], sum = 0;
        int n = m->org_n_leaders[o], n_p = m->org_n_leaders[q], a0 = m->pair_rev_acc_begin[r];
        for (int a = a0; a < a0 + n; a++)
            sum += live[a] > 0 ? known_mean(s, a, n_p) : gt;
        s->to[k] = sum / n;
    }
}

/* The pair metrics' sums over pairs [start, end) of active organisations, into sum[0..3]. */
static void pair_sums_chunk(const ts_sim *s, size_t start, size_t end, double sum[4])
{
    const ts_model *m = s->m;
    for (size_t k = start; k < end; k++)
        if (s->active[m->pair_org[k]] && s->active[m->pair_partner[k]]) {
            sum[0] += s->to[k];
            sum[1] += s->group_t[k];
            sum[2] += ts_confidence(s, m->pair_collab[k]);
            sum[3] += 1;
        }
}

/* Group images' trust, TO of every pair, the pair metrics; then group images fade through
 * their common unit, as beliefs do. */
static void pass_pairs(ts_sim *s, ts_tick_sums *ts)
{
    const ts_model *m = s->m;
    const double gm0 = s->p->reciprocity.group_m0, u = s->g_unit;
    size_t np = (size_t)m->n_pairs, n_chunks = chunks(np, PAIR_CHUNK);
    double *part = ts_state_chunk_sums(s, n_chunks);
    if (!part)
        return;
#pragma omp parallel num_threads(s->threads) if (s->threads > 1)
    {
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_chunks; k++) {
            size_t end = (k + 1) * PAIR_CHUNK < np ? (k + 1) * PAIR_CHUNK : np;
            group_trusts(s->g_pos, s->g_neg, s->g_prior, m->weights, gm0, u, k * PAIR_CHUNK, end,
                         s->group_t);
        }
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_chunks; k++)
            to_chunk(s, k * PAIR_CHUNK, (k + 1) * PAIR_CHUNK < np ? (k + 1) * PAIR_CHUNK : np);
#pragma omp for schedule(static)
        for (size_t k = 0; k < n_chunks; k++) {
            double *sum = part + k * TS_CHUNK_SUMS;
            memset(sum, 0, 4 * sizeof *sum);
            pair_sums_chunk(s, k * PAIR_CHUNK,
                            (k + 1) * PAIR_CHUNK < np ? (k + 1) * PAIR_CHUNK : np, sum);
        }
    }
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
