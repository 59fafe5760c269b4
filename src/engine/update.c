/* The end-of-tick pass: one sweep over beliefs (trust, forgetting), over organisation pairs
 * (group images, inter-organisational trust, Pomponi stages) and over organisations (faith,
 * exits), recording the metrics of docs/model.md section 7.20 for this tick. Its cost grows with
 * relationships that exist, never with leaders squared. */
#include "engine/sim_internal.h"

#include <math.h>
#include <string.h>

typedef struct tick_sums {
    double trust, pillar[TS_PILLARS];
    long known;
    double to, group, confidence;
    long pairs;
    long stage[4], upairs;
    double faith;
    int active;
} tick_sums;

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
typedef float v8sf __attribute__((vector_size(32)));
typedef double v8df __attribute__((vector_size(64)));
enum { BLOCK = 256, LANES = TS_BELIEF_LANES, FAR_BYTES = 1 << 20 };

/* Eight beliefs' pillar means, added to the lanes, and their trust, into t[0..7] (as doubles,
 * converted together: exactly the floats' values).
 * v_p = A_p / B_p for the four pillars with one division, multiplying through by the product
 * of the denominators. */
static inline void group8(const ts_belief_block *blk, const v8sf *vu, const v8sf *vm0,
                          const float w[TS_PILLARS], v8sf lane[5], double *t)
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
    v8sf v[TS_PILLARS] = {a[0] * b[1] * b23 * inv, a[1] * b[0] * b23 * inv, a[2] * b[3] * b01 * inv,
                          a[3] * b[2] * b01 * inv};
    v8sf trust = w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
    for (int p = 0; p < TS_PILLARS; p++)
        lane[p] += v[p];
    lane[4] += trust;
    v8df td = __builtin_convertvector(trust, v8df);
    memcpy(t, &td, sizeof td);
}

/* Built twice, for AVX2 and for any x86-64, and chosen at load time; the code fixes the
 * order of every operation, so both give the same bits. The store's blocks are whole: the
 * lanes past its last record are zero, with accumulator 0, and add exactly nothing. */
__attribute__((target_clones("avx2", "default"))) static void pass_beliefs(ts_sim *s, tick_sums *ts)
{
    const ts_belief_store *st = &s->beliefs;
    const float u = (float)st->unit, m0 = (float)s->p->beliefs.m0;
    float w[TS_PILLARS];
    for (int p = 0; p < TS_PILLARS; p++)
        w[p] = (float)s->m->weights[p];
    const v8sf vu = {u, u, u, u, u, u, u, u}, vm0 = {m0, m0, m0, m0, m0, m0, m0, m0};
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
            group8(&st->blocks[i / LANES], &vu, &vm0, w, lane, t);
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
    ts_beliefs_fade(&s->beliefs, 1.0 - s->p->beliefs.forget);
}

/* Each accumulator's sum becomes the mean trust of its live beliefs (the sum itself, 0, when
 * it has none), four at a time: the divisions are IEEE's, so the bits are those of dividing
 * one by one. */
typedef double v4df __attribute__((vector_size(32)));
typedef int32_t v4si __attribute__((vector_size(16)));
__attribute__((target_clones("avx2", "default"))) static void
acc_means(double *restrict acc_sum, const int32_t *acc_n, size_t n)
{
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        v4si c;
        v4df sum;
        memcpy(&c, acc_n + j, sizeof c);
        memcpy(&sum, acc_sum + j, sizeof sum);
        c += (c <= 0) & (1 - c); /* c > 0 ? c : 1: an empty accumulator (sum 0) by 1 */
        v4df d = {(double)c[0], (double)c[1], (double)c[2], (double)c[3]};
        sum /= d;
        memcpy(acc_sum + j, &sum, sizeof sum);
    }
    for (; j < n; j++)
        acc_sum[j] /= acc_n[j] > 0 ? acc_n[j] : 1;
}

/* The trust each group image implies, into gt[pair]: its four weighted pillar means in one
 * vector division per pair (IEEE divisions, the bits of dividing one by one). */
__attribute__((target_clones("avx2", "default"))) static void
group_trusts(const double *restrict g_pos, const double *restrict g_neg,
             const double *restrict g_prior, const double w[TS_PILLARS], double gm0, double u,
             size_t n_pairs, double *restrict gt)
{
    const v4df vw = {w[0], w[1], w[2], w[3]};
    for (size_t k = 0; k < n_pairs; k++) {
        v4df gp, gn;
        memcpy(&gp, g_pos + k * TS_PILLARS, sizeof gp);
        memcpy(&gn, g_neg + k * TS_PILLARS, sizeof gn);
        double c = gm0 * g_prior[k];
        v4df t = vw * (gp * u + c) / ((gp + gn) * u + gm0);
        gt[k] = t[0] + t[1] + t[2] + t[3];
    }
}

/* TO_op is the mean over o's leaders of their mean trust in the leaders of p they know, or of
 * the group image's trust when they know none (docs/model.md 7.6). The accumulators are emptied as
 * they are read; group images fade through their common unit, as beliefs do. */
static void pass_pairs(ts_sim *s, tick_sums *ts)
{
    const ts_model *m = s->m;
    const double gm0 = s->p->reciprocity.group_m0, u = s->g_unit;
    double *restrict acc_mean = s->acc_sum;
    const int32_t *acc_n = s->beliefs.acc_live;
    acc_means(acc_mean, acc_n, (size_t)m->n_acc);
    group_trusts(s->g_pos, s->g_neg, s->g_prior, m->weights, gm0, u, (size_t)m->n_pairs,
                 s->group_t);
    double to = 0, group = 0, confidence = 0; /* the sums, in registers: in pair order */
    long pairs = 0;
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            double gt = s->group_t[k];
            int n = m->org_n_leaders[o], a0 = m->pair_acc_begin[k];
            double sum = 0;
            for (int j = a0; j < a0 + n; j++) {
                sum += acc_n[j] > 0 ? acc_mean[j] : gt;
                acc_mean[j] = 0;
            }
            if (s->active[o] && s->active[m->pair_partner[k]]) {
                double to_k = sum / n;
                s->to[k] = to_k;
                to += to_k;
                group += gt;
                confidence += ts_confidence(s, m->pair_collab[k]);
                pairs++;
            }
        }
    ts->to = to;
    ts->group = group;
    ts->confidence = confidence;
    ts->pairs = pairs;
    s->g_unit *= 1.0 - s->p->beliefs.forget;
    if (s->g_unit < 1e-6) { /* fold the common factor into the counts before they grow large */
        for (size_t i = 0; i < (size_t)m->n_pairs * TS_PILLARS; i++) {
            s->g_pos[i] *= s->g_unit;
            s->g_neg[i] *= s->g_unit;
        }
        s->g_unit = 1.0;
    }
}

/* Pomponi stages with hysteresis (docs/model.md 7.17). An agreement holds a pair at stage 1 or
 * above: agreement-driven trust is what the agreement provides. */
static void pass_stages(ts_sim *s, tick_sums *ts)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    long counts[4] = {0};
    for (int u = 0; u < m->n_upairs; u++) {
        int k = m->upair_pair[u], r = m->pair_reverse[k];
        int o = m->pair_partner[r], q = m->pair_partner[k];
        if (!s->active[o] || !s->active[q])
            continue;
        int c = m->pair_collab[k];
        bool agreement = c >= 0 && s->phi[c] > 0;
        double trust = ts_min(s->to[k], s->to[r]);
        double extent = s->sum_all[u] > 0 ? s->sum_coop[u] / s->sum_all[u] : 0;
        int st = s->stage[u];
        if (st == 0) {
            if (agreement || trust >= p->stages.theta_1)
                st = 1;
        } else if (trust < p->stages.theta_down[st - 1] && !(st == 1 && agreement)) {
            st--;
            s->trust_ticks[u] = 0;
        } else if (st < 3) {
            s->trust_ticks[u] = trust >= p->stages.theta_up[st - 1] ? s->trust_ticks[u] + 1 : 0;
            if (s->trust_ticks[u] >= p->stages.window && extent >= p->stages.chi_up[st - 1]) {
                st++;
                s->trust_ticks[u] = 0;
            }
        }
        s->stage[u] = (int8_t)st;
        counts[st]++;
    }
    for (int st = 0; st < 4; st++) {
        ts->stage[st] = counts[st];
        ts->upairs += counts[st];
    }
}

static double target_at(const ts_sim *s, int c)
{
    if (c < 0 || s->m->mode != TS_MODE_STANDARD)
        return 1.0;
    const ts_collab_spec *cs = &s->p->collabs[c];
    double ramp = cs->ramp > 0 ? s->t / cs->ramp : 1.0;
    return cs->target_final * fmin(1.0, cs->quick_win_floor + ramp);
}

/* Faith as a fading Beta posterior over progress (docs/model.md 7.16); organisations whose faith
 * stays below exit_faith for exit_ticks leave. Returns whether anyone left. */
static bool pass_faith(ts_sim *s, tick_sums *ts)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    double keep = 1.0 - p->faith.forget;
    bool left = false;
    for (int o = 0; o < m->n_orgs; o++) {
        if (!s->active[o])
            continue;
        int c = m->org_collab[o], n = m->org_n_leaders[o];
        if (s->t > 0) {
            double target = target_at(s, c);
            double ratio = target > 0 ? s->received[o] / (n * p->faith.v_ref) / target : 1.0;
            s->faith_pos[o] = s->faith_pos[o] * keep + fmin(1.0, ratio) +
                              p->faith.eta_shared * s->deliveries_seen[o] / n;
            s->faith_neg[o] = s->faith_neg[o] * keep + fmax(0.0, 1.0 - ratio) +
                              p->faith.eta_complexity * (c >= 0 ? s->complexity[c] : 0);
        }
        double mf = p->faith.m0;
        s->faith[o] =
            (s->faith_pos[o] + mf * s->faith0[o]) / (s->faith_pos[o] + s->faith_neg[o] + mf);
        if (m->mode == TS_MODE_STANDARD && s->faith[o] < p->faith.exit_faith) {
            if (++s->low_faith_ticks[o] >= p->faith.exit_ticks) {
                s->active[o] = 0;
                for (int j = 0; j < n; j++) /* its people's beliefs no longer count */
                    ts_beliefs_retire_leader(&s->beliefs, (uint32_t)(m->org_leader_begin[o] + j));
                left = true;
                continue;
            }
        } else {
            s->low_faith_ticks[o] = 0;
        }
        ts->faith += s->faith[o];
        ts->active++;
    }
    return left;
}

static void record(ts_sim *s, const tick_sums *ts)
{
    int stride = s->m->ticks + 1;
    double *v = s->series + s->t;
#define PUT(metric, value) v[(size_t)(metric)*stride] = (value)
    double ti = ts->known > 0 ? ts->trust / ts->known : NAN;
    double tg = ts->pairs > 0 ? ts->group / ts->pairs : NAN;
    PUT(TS_M_COOP_RATE, s->sum_n > 0 ? s->sum_c / s->sum_n : 0);
    PUT(TS_M_TRUST_INTERPERSONAL, ti);
    PUT(TS_M_TRUST_INTERORG, ts->pairs > 0 ? ts->to / ts->pairs : NAN);
    PUT(TS_M_TRUST_GROUP, tg);
    PUT(TS_M_CONFIDENCE, ts->pairs > 0 ? ts->confidence / ts->pairs : NAN);
    PUT(TS_M_FAITH, ts->active > 0 ? ts->faith / ts->active : NAN);
    for (int st = 0; st < 4; st++)
        PUT(TS_M_STAGE0_SHARE + st, ts->upairs > 0 ? (double)ts->stage[st] / ts->upairs : NAN);
    PUT(TS_M_ACTIVE_ORGS, ts->active);
    PUT(TS_M_COLLAB_VALUE, s->collab_value);
    for (int a = 0; a < TS_ACT_COUNT; a++)
        PUT(TS_M_ACTS_FIRST + a, s->acts_tick[a]);
    for (int p = 0; p < TS_PILLARS; p++) {
        double pv = ts->known > 0 ? ts->pillar[p] / ts->known : NAN;
        PUT(TS_M_PERCEIVED_FIRST + p, pv);
        PUT(TS_M_SURVEY_PILLAR_FIRST + p, 1 + 4 * pv);
    }
    PUT(TS_M_SURVEY_INTERINDIVIDUAL, 1 + 4 * ti);
    PUT(TS_M_SURVEY_INTERORG, 1 + 4 * tg);
    if (s->m->mode == TS_MODE_DONATION_GAME)
        for (int g = 0; g < TS_STRATEGY_COUNT; g++)
            PUT(TS_M_PAYOFF_FIRST + g,
                s->strategy_count[g] > 0 ? s->strategy_payoff[g] / s->strategy_count[g] : NAN);
#undef PUT
}

/* Open the next tick's slot of every sliding window. */
static void advance_windows(ts_sim *s)
{
    int w = s->p->stages.window, next = (s->t + 1) % w;
    s->sum_c -= s->win_c[next];
    s->sum_n -= s->win_n[next];
    s->win_c[next] = s->win_n[next] = 0;
    float *coop = s->win_coop + (size_t)next * (size_t)s->m->n_upairs,
          *all = s->win_all + (size_t)next * (size_t)s->m->n_upairs;
    for (int u = 0; u < s->m->n_upairs; u++) {
        s->sum_coop[u] -= coop[u];
        s->sum_all[u] -= all[u];
        coop[u] = all[u] = 0;
    }
}

void ts_update_end_of_tick(ts_sim *s)
{
    tick_sums ts;
    memset(&ts, 0, sizeof ts);
    pass_beliefs(s, &ts);
    pass_pairs(s, &ts);
    pass_stages(s, &ts);
    bool left = pass_faith(s, &ts);
    record(s, &ts);
    if (left)
        ts_sim_refresh_topology(s);
    memset(s->received, 0, sizeof *s->received * (size_t)s->m->n_orgs);
    memset(s->deliveries_seen, 0, sizeof *s->deliveries_seen * (size_t)s->m->n_orgs);
    advance_windows(s);
}
