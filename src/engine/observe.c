/* Observation and indirect reciprocity (src/engine/observe.h, docs/model.md 7.12-7.15): who
 * sees an act, how they judge it under the assessment norm, and the evidence they take. What
 * the evidence means for trust is trust.c's job.
 *
 * Observers are sampled, never scanned: a binomial count at the highest observation
 * probability in the collaboration, distinct draws, then thinning to each observer's own
 * probability, so an act costs O(expected observers) however large the collaboration. */
#include "engine/observe.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "engine/fading.h"
#include "engine/trust.h"

/* ---- images ----------------------------------------------------------------------------- */

bool ts_observe_image_good(const ts_sim *s, int z, int y)
{
    const ts_model *m = s->m;
    if (m->image_rule == TS_IMAGE_BY_LATEST_ACT) {
        long i = ts_trust_current_belief(s, z, y);
        return i < 0 || s->beliefs.meta[i].last_act == 0 || s->beliefs.meta[i].last_good;
    }
    int k = ts_model_pair(m, m->leader_org[z], m->leader_org[y]);
    return k < 0 || ts_trust_of(s, z, y, k) >= 0.5;
}

bool ts_observe_saw_bad_latest(const ts_sim *s, int x, int y)
{
    long i = ts_trust_current_belief(s, x, y);
    if (i < 0 || s->act_seq[y] == 0)
        return false;
    const ts_belief_meta *b = &s->beliefs.meta[i];
    return b->last_act == s->act_seq[y] && !b->last_good;
}

/* ---- judging an act --------------------------------------------------------------------- */

/* Signed evidence an act gives about its actor's pillars (docs/model.md 7.14, table). */
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
    bool recipient_good = z == y || ts_observe_image_good(s, z, y);
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

/* An act as its observers see it: what every observer shares, worked out once. */
typedef struct act_view {
    int x, y, xo, pair, collab;
    ts_act act;
    bool resolve;
    double ev[TS_PILLARS]; /* the evidence the act gives, before an observer's judgement */
    bool crowded;          /* kindness under this collaboration's agreement is discounted */
    double crowd;          /* ... by this factor */
    bool judged_once;      /* every observer judges alike (the norm ignores the recipient) */
    bool good;             /* ... and this is the judgement */
    uint32_t x_place;      /* the actor's place among its organisation's leaders */
} act_view;

static void view_act(const ts_sim *s, act_view *v, int x, int y, int pair, ts_act act, bool resolve)
{
    const ts_model *m = s->m;
    v->x = x;
    v->y = y;
    v->xo = m->leader_org[x];
    v->pair = pair;
    v->collab = m->pair_collab[pair];
    v->act = act;
    v->resolve = resolve;
    act_evidence(s, act, pair, v->ev);
    v->crowded = v->collab >= 0;
    v->crowd = v->crowded ? 1.0 - s->phi[v->collab] * m->collab[v->collab].attribution : 1.0;
    v->judged_once =
        act == TS_ACT_FAIL || !norm_applies(act) || s->p->reciprocity.norm == TS_NORM_IMAGE_SCORING;
    v->good = act != TS_ACT_FAIL && ts_act_is_cooperative(act);
    v->x_place = (uint32_t)(x - m->org_leader_begin[v->xo]);
}

/* Observer z takes evidence ev about the actor: into z's belief about the actor and into the
 * group image z's organisation holds of the actor's; with `resolve`, half of its negative
 * part is taken back later (docs/model.md 7.15). */
static void take_evidence(ts_sim *s, const act_view *v, int z, const double ev_in[TS_PILLARS],
                          bool good)
{
    const ts_model *m = s->m;
    int x = v->x, zo = m->leader_org[z];
    int seen = ts_model_pair(m, v->xo, zo); /* (actor's, observer's): a row walked in order */
    if (seen < 0)
        return;
    int pair = m->pair_reverse[seen];
    ts_belief_key key = {m->pair_rev_acc_begin[seen] + (z - m->org_leader_begin[zo]),
                         (uint32_t)m->org_n_leaders[v->xo], v->x_place};
    double ev[TS_PILLARS];
    memcpy(ev, ev_in, sizeof ev);
    /* contract crowding-out: kindness under a heavy agreement reads as obligation */
    if (v->crowded) {
        if (ev[TS_BENEVOLENCE] > 0)
            ev[TS_BENEVOLENCE] *= v->crowd;
        if (ev[TS_INTEGRITY] > 0)
            ev[TS_INTEGRITY] *= v->crowd;
    }
    long bi = ts_trust_form_belief_at(s, key, z, x, pair);
    if (bi < 0)
        return;
    s->beliefs.meta[bi].last_act = s->act_seq[x];
    s->beliefs.meta[bi].last_good = good ? 1u : 0u;
    ts_trust_add_evidence(s, bi, ev);
    ts_resolution rb = {0}, rg = {0};
    ts_trust_group_evidence(s, seen, ev, rg.neg);
    if (!v->resolve)
        return;
    bool negative = false;
    for (int i = 0; i < TS_PILLARS; i++)
        if (ev[i] < 0) {
            rb.neg[i] = (float)-ev[i];
            negative = true;
        }
    if (!negative)
        return;
    int delay = s->resolution_delay[v->collab];
    double f = ts_fading_over(s->p->beliefs.forget, delay);
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
    rg.a = (uint32_t)seen;
    ts_state_push_resolution(s, &rb);
    if (s->p->reciprocity.group_weight > 0)
        ts_state_push_resolution(s, &rg);
}

/* Observer z sees the act. */
static void witness(ts_sim *s, const act_view *v, int z)
{
    const ts_model *m = s->m;
    int zo = m->leader_org[z];
    if (v->act == TS_ACT_DELIVER)
        s->deliveries_seen[zo] += 1;
    if (zo == v->xo)
        return; /* colleagues: no inter-organisational belief */
    if (v->act == TS_ACT_DECEIVE && gsl_rng_uniform(s->rng) >= s->p->reciprocity.detect)
        return; /* undetected: nothing seen */
    s->counters.observations += z != v->y;
    if (v->judged_once) {
        take_evidence(s, v, z, v->ev, v->good);
        return;
    }
    double ev[TS_PILLARS];
    memcpy(ev, v->ev, sizeof ev);
    bool good = judge(s, z, v->y, v->act, ev);
    take_evidence(s, v, z, ev, good);
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
    /* numbered modulo 2^30 (what a belief keeps of it), from 1: 0 is "no act yet" */
    s->act_seq[x] = s->act_seq[x] + 1 < (1u << TS_ACT_SEQ_BITS) ? s->act_seq[x] + 1 : 1;
    if (m->observe_everyone) {
        /* flat observation by everyone in the collaboration but the donor, the recipient
         * included (the donation game's one collaboration holds every leader) */
        if (c < 0)
            return;
        int len = m->collab_leader_begin[c + 1] - m->collab_leader_begin[c];
        unsigned n = gsl_ran_binomial(s->rng, m->observe_q, (unsigned)len);
        int got = draw_candidates(s, c, n);
        act_view v;
        view_act(s, &v, x, y, pair, act, false);
        for (int i = 0; i < got; i++)
            if (s->candidates[i] != x)
                witness(s, &v, s->candidates[i]);
        return;
    }
    bool resolve = is_negative(act) && c >= 0 && s->resolution_p[c] > 0 &&
                   gsl_rng_uniform(s->rng) < s->resolution_p[c];
    act_view v;
    view_act(s, &v, x, y, pair, act, resolve);
    witness(s, &v, y); /* the recipient always sees */
    if (c < 0)
        return;
    bool flat = p->reciprocity.observation == TS_OBSERVATION_FLAT;
    double base =
        flat ? p->reciprocity.q0
             : p->reciprocity.q0 * (1 + m->collab[c].info_sharing) * s->attention_factor[c];
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
        witness(s, &v, z);
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
            ts_trust_group_take_back(s, (int)r.a, r.neg);
            continue;
        }
        if (s->gen[r.a] != r.gen_a || s->gen[r.b] != r.gen_b)
            continue;
        long bi = ts_trust_current_belief(s, (int)r.a, (int)r.b); /* the same people: the
                                                                     belief of then, if live */
        if (bi < 0)
            continue;
        ts_trust_take_back(s, bi, r.neg);
    }
    s->n_resolutions = keep;
}
