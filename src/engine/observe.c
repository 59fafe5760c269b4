/* Observation and indirect reciprocity (docs/model.md section 7.12), and what beliefs mean
 * (2.3, 3.1, 3.2): who sees an act, how they judge it under the assessment norm, and the evidence
 * it adds to their beliefs and to their organisation's group image. Also the conflict-resolution
 * body that later takes back half of some negative evidence.
 *
 * Observers are sampled, never scanned: a binomial count at the highest observation
 * probability in the collaboration, distinct draws, then thinning to each observer's own
 * probability, so an act costs O(expected observers) however large the collaboration. */
#include "engine/sim_internal.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

/* ---- beliefs and trust ------------------------------------------------------------------ */

static double group_mean(const ts_sim *s, int pair, int pillar)
{
    double gp = s->g_pos[(size_t)pair * TS_PILLARS + pillar];
    double gn = s->g_neg[(size_t)pair * TS_PILLARS + pillar];
    double m0 = s->p->reciprocity.group_m0, u = s->g_unit;
    return (gp * u + m0 * s->g_prior[pair]) / ((gp + gn) * u + m0);
}

double ts_prior_pillar(const ts_sim *s, int x, int pair, int pillar)
{
    const ts_model *m = s->m;
    int q = m->pair_partner[pair];
    double rho = ts_clamp01(s->propensity[x] + 0.5 * (m->org_reputation[q] - 0.5) +
                            0.3 * s->rel[pair].history);
    double g = s->p->reciprocity.group_prior_weight;
    return (1 - g) * rho + g * group_mean(s, pair, pillar);
}

double ts_belief_trust(const ts_sim *s, long i)
{
    const ts_belief_store *st = &s->beliefs;
    double m0 = s->p->beliefs.m0, u = st->unit, t = 0;
    for (int p = 0; p < TS_PILLARS; p++) {
        float pos = *ts_belief_pos(st, p, (size_t)i), neg = *ts_belief_neg(st, p, (size_t)i);
        t += s->m->weights[p] * (pos * u + m0 * *ts_belief_prior(st, p, (size_t)i)) /
             ((pos + neg) * u + m0);
    }
    return t;
}

/* Where x's belief about y is indexed; pair is (organisation of x, organisation of y). */
static ts_belief_key belief_key(const ts_sim *s, int x, int y, int pair)
{
    const ts_model *m = s->m;
    int q = m->pair_partner[pair];
    ts_belief_key k = {m->pair_acc_begin[pair] + (x - m->org_leader_begin[m->leader_org[x]]),
                       (uint32_t)m->org_n_leaders[q], (uint32_t)(y - m->org_leader_begin[q])};
    return k;
}

static long current_belief_at(const ts_sim *s, int x, int y, int pair)
{
    long i = ts_beliefs_find(&s->beliefs, belief_key(s, x, y, pair));
    if (i < 0)
        return -1;
    const ts_belief_meta *b = &s->beliefs.meta[i];
    return b->live && b->gen_x == s->gen[x] && b->gen_y == s->gen[y] ? i : -1;
}

long ts_current_belief(const ts_sim *s, int x, int y)
{
    const ts_model *m = s->m;
    int pair = ts_model_pair(m, m->leader_org[x], m->leader_org[y]);
    return pair < 0 ? -1 : current_belief_at(s, x, y, pair);
}

double ts_trust_of(const ts_sim *s, int x, int y, int pair)
{
    long i = current_belief_at(s, x, y, pair);
    if (i >= 0)
        return ts_belief_trust(s, i);
    double t = 0;
    for (int p = 0; p < TS_PILLARS; p++)
        t += s->m->weights[p] * ts_prior_pillar(s, x, pair, p);
    return t;
}

bool ts_image_good(const ts_sim *s, int z, int y)
{
    const ts_model *m = s->m;
    if (m->mode == TS_MODE_DONATION_GAME) {
        long i = ts_current_belief(s, z, y);
        return i < 0 || s->beliefs.meta[i].last_act == 0 || s->beliefs.meta[i].last_good;
    }
    int k = ts_model_pair(m, m->leader_org[z], m->leader_org[y]);
    return k < 0 || ts_trust_of(s, z, y, k) >= 0.5;
}

bool ts_saw_bad_latest(const ts_sim *s, int x, int y)
{
    long i = ts_current_belief(s, x, y);
    if (i < 0 || s->act_seq[y] == 0)
        return false;
    const ts_belief_meta *b = &s->beliefs.meta[i];
    return b->last_act == s->act_seq[y] && !b->last_good;
}

/* x's belief about y, formed now from the priors if x has none (or a stale one); -1 when out
 * of memory. */
static long belief_for_update(ts_sim *s, int x, int y, int pair)
{
    int added = 0;
    ts_belief_store *st = &s->beliefs;
    ts_belief_key key = belief_key(s, x, y, pair);
    long i = ts_beliefs_find(st, key);
    if (i < 0 && (i = ts_beliefs_insert(st, key, (uint32_t)x, (uint32_t)y, &added)) < 0)
        return -1;
    ts_belief_meta *b = &st->meta[i];
    if (added || !b->live || b->gen_x != s->gen[x] || b->gen_y != s->gen[y]) {
        b->gen_x = s->gen[x];
        b->gen_y = s->gen[y];
        b->last_act = 0;
        b->last_good = 1;
        for (int p = 0; p < TS_PILLARS; p++) {
            *ts_belief_pos(st, p, (size_t)i) = *ts_belief_neg(st, p, (size_t)i) = 0;
            *ts_belief_prior(st, p, (size_t)i) = (float)ts_prior_pillar(s, x, pair, p);
        }
        ts_beliefs_set_live(st, i);
    }
    return i;
}

/* ---- judging an act --------------------------------------------------------------------- */

/* Signed evidence an act gives about its actor's pillars (docs/model.md 7.12, table). */
static void act_evidence(const ts_sim *s, ts_act act, int pair, double ev[TS_PILLARS])
{
    const ts_params *p = s->p;
    memset(ev, 0, sizeof(double) * TS_PILLARS);
    switch (act) {
    case TS_ACT_COORDINATE:
        ev[TS_PREDICTABILITY] = 1;
        break;
    case TS_ACT_SHARE_INFO:
        ev[TS_INTEGRITY] = 1;
        ev[TS_BENEVOLENCE] = 0.5;
        break;
    case TS_ACT_HELP:
        ev[TS_BENEVOLENCE] = 2;
        break;
    case TS_ACT_WITHHOLD: /* only ever judged when the partner was in need */
        ev[TS_BENEVOLENCE] = -1;
        break;
    case TS_ACT_DELIVER:
        ev[TS_ABILITY] = 1;
        ev[TS_PREDICTABILITY] = 1;
        break;
    case TS_ACT_FAIL:
        ev[TS_ABILITY] = -1;
        break;
    case TS_ACT_BREAK:
        ev[TS_INTEGRITY] = -p->beliefs.lambda_bad;
        ev[TS_PREDICTABILITY] = -p->beliefs.lambda_bad;
        break;
    case TS_ACT_DECEIVE:
        ev[TS_INTEGRITY] = -p->beliefs.lambda_deceive;
        break;
    case TS_ACT_COMPETE:
        ev[TS_BENEVOLENCE] = -s->rel[pair].competition;
        break;
    default:
        break;
    }
}

/* Acts that help or hurt the recipient are judged by the norm; deliveries, failures, breaks
 * and deceptions speak about competence and honesty whoever the recipient is. */
static bool norm_applies(ts_act act)
{
    return act == TS_ACT_COORDINATE || act == TS_ACT_SHARE_INFO || act == TS_ACT_HELP ||
           act == TS_ACT_WITHHOLD || act == TS_ACT_COMPETE;
}

/* Judge the act for observer z: turns ev into the evidence z takes and returns whether z
 * judges the act good. */
static bool judge(const ts_sim *s, int z, int y, ts_act act, double ev[TS_PILLARS])
{
    bool coop = ts_act_is_cooperative(act);
    if (act == TS_ACT_FAIL)
        return false; /* a good-faith failure still reads as a failure */
    if (!norm_applies(act) || s->p->reciprocity.norm == TS_NORM_IMAGE_SCORING)
        return coop;
    bool recipient_good = z == y || ts_image_good(s, z, y);
    if (recipient_good)
        return coop;
    if (s->p->reciprocity.norm == TS_NORM_STANDING) {
        if (!coop) /* refusing a bad partner is not bad: no evidence */
            memset(ev, 0, sizeof(double) * TS_PILLARS);
        return true;
    }
    /* stern judging: helping the bad is bad, refusing them is good */
    for (int i = 0; i < TS_PILLARS; i++)
        ev[i] = -ev[i];
    return !coop;
}

/* ---- observers -------------------------------------------------------------------------- */

/* Fill s->candidates with n distinct leaders of collaboration c drawn uniformly. */
static int draw_candidates(ts_sim *s, int c, unsigned n)
{
    const ts_model *m = s->m;
    const int *list = m->collab_leaders + m->collab_leader_begin[c];
    size_t len = (size_t)(m->collab_leader_begin[c + 1] - m->collab_leader_begin[c]);
    if (n == 0)
        return 0;
    if ((size_t)n * 4 >= len) { /* dense: GSL's ordered selection */
        gsl_ran_choose(s->rng, s->candidates, n, (void *)list, len, sizeof *list);
        return (int)n;
    }
    if (++s->stamp_gen == 0) { /* wrapped: forget every mark */
        memset(s->stamp, 0, sizeof *s->stamp * (size_t)m->n_leaders);
        s->stamp_gen = 1;
    }
    int got = 0;
    while (got < (int)n) {
        int z = list[gsl_rng_uniform_int(s->rng, len)];
        if (s->stamp[z] == s->stamp_gen)
            continue;
        s->stamp[z] = s->stamp_gen;
        s->candidates[got++] = z;
    }
    return got;
}

static double fade(const ts_sim *s, int ticks)
{
    return pow(1.0 - s->p->beliefs.forget, ticks);
}

/* Observer z takes evidence ev about actor x. */
static void take_evidence(ts_sim *s, int z, int x, const double ev_in[TS_PILLARS], bool good,
                          int collab, bool resolve)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    int zo = m->leader_org[z], xo = m->leader_org[x];
    int pair = ts_model_pair(m, zo, xo);
    if (pair < 0)
        return;
    double ev[TS_PILLARS];
    memcpy(ev, ev_in, sizeof ev);
    /* contract crowding-out: kindness under a heavy agreement reads as obligation */
    if (collab >= 0 && m->mode == TS_MODE_STANDARD) {
        double crowd = 1.0 - s->phi[collab] * p->collabs[collab].attribution;
        if (ev[TS_BENEVOLENCE] > 0)
            ev[TS_BENEVOLENCE] *= crowd;
        if (ev[TS_INTEGRITY] > 0)
            ev[TS_INTEGRITY] *= crowd;
    }
    long bi = belief_for_update(s, z, x, pair);
    if (bi < 0)
        return;
    ts_belief_store *st = &s->beliefs;
    st->meta[bi].last_act = s->act_seq[x];
    st->meta[bi].last_good = good;
    double gw = p->reciprocity.group_weight, gneg = p->reciprocity.group_negativity;
    double *gpos = s->g_pos + (size_t)pair * TS_PILLARS;
    double *gneg_counts = s->g_neg + (size_t)pair * TS_PILLARS;
    ts_resolution rb = {0}, rg = {0};
    bool negative = false;
    double in_units = 1.0 / s->beliefs.unit, in_group_units = 1.0 / s->g_unit;
    for (int i = 0; i < TS_PILLARS; i++) {
        if (ev[i] > 0) {
            *ts_belief_pos(st, i, (size_t)bi) += (float)(ev[i] * in_units);
            gpos[i] += gw * ev[i] * in_group_units;
        } else if (ev[i] < 0) {
            *ts_belief_neg(st, i, (size_t)bi) += (float)(-ev[i] * in_units);
            gneg_counts[i] += gw * gneg * -ev[i] * in_group_units;
            rb.neg[i] = (float)-ev[i];
            rg.neg[i] = (float)(gw * gneg * -ev[i]);
            negative = true;
        }
    }
    if (resolve && negative) {
        int delay = s->resolution_delay[collab];
        double f = fade(s, delay);
        for (int i = 0; i < TS_PILLARS; i++) {
            rb.neg[i] = (float)(rb.neg[i] * f);
            rg.neg[i] = (float)(rg.neg[i] * f);
        }
        rb.due = rg.due = s->t + delay;
        rb.group = 0;
        rb.a = (uint32_t)z;
        rb.b = (uint32_t)x;
        rb.gen_a = s->gen[z];
        rb.gen_b = s->gen[x];
        rg.group = 1;
        rg.a = (uint32_t)pair;
        (void)ts_sim_push_resolution(s, &rb); /* out of memory: the conflict stays */
        if (gw > 0)
            (void)ts_sim_push_resolution(s, &rg);
    }
}

/* Observer z sees x's act on y. */
static void witness(ts_sim *s, int z, int x, int y, ts_act act, int pair, int collab, bool resolve)
{
    const ts_model *m = s->m;
    int zo = m->leader_org[z];
    if (act == TS_ACT_DELIVER)
        s->deliveries_seen[zo] += 1;
    if (zo == m->leader_org[x])
        return; /* colleagues: no inter-organisational belief */
    if (act == TS_ACT_DECEIVE && gsl_rng_uniform(s->rng) >= s->p->reciprocity.detect)
        return; /* undetected: nothing seen */
    s->counters.observations += z != y;
    double ev[TS_PILLARS];
    act_evidence(s, act, pair, ev);
    bool good = judge(s, z, y, act, ev);
    take_evidence(s, z, x, ev, good, collab, resolve);
}

static bool is_negative(ts_act act)
{
    return act == TS_ACT_WITHHOLD || act == TS_ACT_FAIL || act == TS_ACT_BREAK ||
           act == TS_ACT_DECEIVE || act == TS_ACT_COMPETE;
}

void ts_observe_act(ts_sim *s, int x, int y, int pair, ts_act act, bool need)
{
    (void)need;
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    int c = m->pair_collab[pair];
    s->act_seq[x]++;
    if (m->mode == TS_MODE_DONATION_GAME) {
        /* flat observation by everyone but the donor, the recipient included */
        unsigned n = gsl_ran_binomial(s->rng, p->donation_game.q, (unsigned)m->n_leaders);
        int got = draw_candidates(s, 0, n);
        for (int i = 0; i < got; i++)
            if (s->candidates[i] != x)
                witness(s, s->candidates[i], x, y, act, pair, c, false);
        return;
    }
    bool resolve = is_negative(act) && c >= 0 && s->resolution_p[c] > 0 &&
                   gsl_rng_uniform(s->rng) < s->resolution_p[c];
    witness(s, y, x, y, act, pair, c, resolve); /* the recipient always sees */
    if (c < 0)
        return;
    bool flat = p->reciprocity.observation == TS_OBSERVATION_FLAT;
    double base =
        flat ? p->reciprocity.q0
             : p->reciprocity.q0 * (1 + p->collabs[c].info_sharing) * s->attention_factor[c];
    double q_max = ts_min(1.0, base);
    int len = m->collab_leader_begin[c + 1] - m->collab_leader_begin[c];
    unsigned n = q_max > 0 ? gsl_ran_binomial(s->rng, q_max, (unsigned)len) : 0;
    int got = draw_candidates(s, c, n);
    int xo = m->leader_org[x];
    for (int i = 0; i < got; i++) {
        int z = s->candidates[i], zo = m->leader_org[z];
        if (z == x || z == y || !s->active[zo])
            continue;
        if (!flat) { /* thin to z's own probability: q0 (0.5 + 0.5 d) (1 + info) attention */
            double d = 1.0;
            if (zo != xo) {
                int k = ts_model_pair(m, xo, zo);
                d = k >= 0 ? s->rel[k].proximity : 0.0;
            }
            double q = ts_min(1.0, base * (0.5 + 0.5 * d));
            if (q < q_max && gsl_rng_uniform(s->rng) * q_max >= q)
                continue;
        }
        witness(s, z, x, y, act, pair, c, resolve);
    }
}

/* ---- conflict resolution ---------------------------------------------------------------- */

void ts_observe_resolve_conflicts(ts_sim *s)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->n_resolutions; i++) {
        ts_resolution r = s->resolutions[i];
        if (r.due > s->t) {
            s->resolutions[keep++] = r;
            continue;
        }
        if (r.group) {
            double *neg = s->g_neg + (size_t)r.a * TS_PILLARS;
            for (int k = 0; k < TS_PILLARS; k++)
                neg[k] = fmax(0, neg[k] - 0.5 * r.neg[k] / s->g_unit);
            continue;
        }
        if (s->gen[r.a] != r.gen_a || s->gen[r.b] != r.gen_b)
            continue;
        long bi = ts_current_belief(s, (int)r.a, (int)r.b);
        if (bi < 0)
            continue;
        const ts_belief_meta *b = &s->beliefs.meta[bi];
        if (b->gen_x != r.gen_a || b->gen_y != r.gen_b)
            continue;
        float in_units = (float)(1.0 / s->beliefs.unit);
        for (int k = 0; k < TS_PILLARS; k++) {
            float *neg = ts_belief_neg(&s->beliefs, k, (size_t)bi);
            *neg = fmaxf(0.0f, *neg - 0.5f * r.neg[k] * in_units);
        }
    }
    s->n_resolutions = keep;
}
