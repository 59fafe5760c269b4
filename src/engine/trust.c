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
    memset(s->acc_sum, 0, sizeof *s->acc_sum * (size_t)m->n_acc);
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

/* Live beliefs: their trust, summed per (trustor, partner organisation) for TO and over all
 * for the metrics; then all evidence fades at once through the store's common unit.
 *
 * This runs over every belief every tick, so it is written for the vector unit (GCC/Clang
 * vector extensions, one block of eight beliefs at a time): aligned loads, no branches (a retired
 * belief has zero counts and prior, so its pillar means and trust are exactly 0), sums in
 * float lanes over blocks of BLOCK beliefs folded into doubles after each block, and each
 * belief's trust added to its accumulator in the order of the store (at once, or after its
 * block when the accumulators do not fit in the caches).
 * The summation order is fixed by the code, so results are the same on every x86-64 or other
 * machine with IEEE single precision. */
typedef double v8df __attribute__((vector_size(64)));
enum { BLOCK = 256, LANES = TS_BELIEF_LANES, FAR_BYTES = 1 << 20 };

/* Built twice, for AVX2 and for any x86-64, and chosen at load time; the code fixes the
 * order of every operation, so both give the same bits. The store's blocks are whole: the
 * lanes past its last record are zero, with accumulator 0, and add exactly nothing. */
__attribute__((target_clones("avx2", "default"))) static void pass_beliefs(ts_sim *s,
                                                                           ts_tick_sums *ts)
{
    const ts_belief_store *st = &s->beliefs;
    const belief_consts c = belief_constants(s);
    const int32_t *acc = st->acc;
    double *restrict acc_sum = s->acc_sum;
    double sum[5] = {0}; /* four pillars, trust */
    size_t n = (st->count + LANES - 1) / LANES * LANES;
    /* Accumulators that fit in the caches take each trust at once; others are fetched while
     * a block's trusts are computed, and take them in a loop of their own. */
    const bool far = st->n_acc * sizeof *acc_sum > FAR_BYTES;
    for (size_t start = 0; start < n; start += BLOCK) {
        size_t end = start + BLOCK < n ? start + BLOCK : n;
        v8sf lane[5] = {{0}};
        double block_trust[BLOCK];
        for (size_t i = start; i < end; i += LANES) {
            double t[LANES];
            v8sf v[TS_PILLARS], trust;
            belief_means8(&st->blocks[i / LANES], &c.u, &c.m0, c.w, v, &trust);
            for (int p = 0; p < TS_PILLARS; p++)
                lane[p] += v[p];
            lane[4] += trust;
            v8df td = __builtin_convertvector(trust, v8df); /* exactly the floats' values */
            memcpy(t, &td, sizeof td);
            if (far) { /* ask for the block's accumulators now, to add to them below */
                memcpy(block_trust + (i - start), t, sizeof t);
                for (size_t l = 0; l < LANES; l++)
                    __builtin_prefetch(&acc_sum[acc[i + l]], 1);
            } else {
                for (size_t l = 0; l < LANES; l++)
                    acc_sum[acc[i + l]] += t[l];
            }
        }
        for (size_t i = start; far && i < end; i++) /* the same order as above */
            acc_sum[acc[i]] += block_trust[i - start];
        for (int q = 0; q < 5; q++)
            for (int l = 0; l < LANES; l++)
                sum[q] += lane[q][l];
    }
    for (int p = 0; p < TS_PILLARS; p++)
        ts->pillar[p] = sum[p];
    ts->trust = sum[4];
    ts->known = (long)st->n_live;
    ts_beliefs_fade(&s->beliefs, s->p->beliefs.forget);
}

/* The trust each group image implies, into gt[pair]. */
__attribute__((target_clones("avx2", "default"))) static void
group_trusts(const double *restrict g_pos, const double *restrict g_neg,
             const double *restrict g_prior, const double w[TS_PILLARS], double gm0, double u,
             size_t n_pairs, double *restrict gt)
{
    for (size_t k = 0; k < n_pairs; k++) {
        v4df v;
        group_means4(g_pos + k * TS_PILLARS, g_neg + k * TS_PILLARS, g_prior[k], gm0, u, &v);
        gt[k] = group_trust(&v, w);
    }
}

/* TO_op is the mean over o's leaders of their mean trust in the leaders of p they know, or of
 * the group image's trust when they know none (docs/model.md 7.6). The accumulators are
 * emptied as they are read; group images fade through their common unit, as beliefs do. */
static void pass_pairs(ts_sim *s, ts_tick_sums *ts)
{
    const ts_model *m = s->m;
    const double gm0 = s->p->reciprocity.group_m0, u = s->g_unit;
    double *restrict acc_sum = s->acc_sum;
    const int32_t *acc_n = s->beliefs.acc_live;
    group_trusts(s->g_pos, s->g_neg, s->g_prior, m->weights, gm0, u, (size_t)m->n_pairs,
                 s->group_t);
    /* TO of every pair, walking the accumulators in their order (by trustees' organisation) */
    for (int q = 0; q < m->n_orgs; q++)
        for (int r = m->pair_begin[q]; r < m->pair_begin[q + 1]; r++) {
            int k = m->pair_reverse[r], o = m->pair_partner[r];
            double gt = s->group_t[k];
            int n = m->org_n_leaders[o], a0 = m->pair_rev_acc_begin[r];
            double sum = 0;
            for (int j = a0; j < a0 + n; j++) {
                sum += acc_n[j] > 0 ? acc_sum[j] / acc_n[j] : gt;
                acc_sum[j] = 0;
            }
            if (s->active[o] && s->active[q])
                s->to[k] = sum / n;
        }
    double to = 0, group = 0, confidence = 0; /* the metrics' sums, in pair order */
    long pairs = 0;
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
            if (s->active[o] && s->active[m->pair_partner[k]]) {
                to += s->to[k];
                group += s->group_t[k];
                confidence += ts_confidence(s, m->pair_collab[k]);
                pairs++;
            }
    ts->to = to;
    ts->group = group;
    ts->confidence = confidence;
    ts->pairs = pairs;
    if (ts_fading_step(&s->g_unit, s->p->beliefs.forget)) {
        for (size_t i = 0; i < (size_t)m->n_pairs * TS_PILLARS; i++) {
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
