/* Meetings, situations, decisions and their consequences (src/engine/acts.h, docs/model.md
 * 7.7-7.11), and the donation-game round of the reduction in docs/model.md 7.19. */
#include "engine/acts.h"

#include <math.h>

#include <gsl/gsl_randist.h>

#include "engine/observe.h"
#include "engine/stages.h"
#include "engine/trust.h"

/* The situation of one act (docs/model.md 7.8): its cooperative and defecting options. */
typedef struct ts_situation {
    ts_act coop, defect;
    double cost; /* cost of cooperating */
    double gain; /* gain of defecting, before the competition factor */
    bool need;   /* a partner in need: withholding is visible */
} ts_situation;

/* Costs of cooperating in routine situations (docs/model.md 7.9); help costs payoffs.help_cost. */
#define COST_SHARE_INFO 0.1
#define COST_PROMISE 0.1
/* Payoffs of docs/model.md 7.11 that are not scenario parameters. */
#define PAY_COORDINATE 0.2
#define PAY_SHARE_EXPOSURE (-0.1)
#define PAY_SHARE_RECIPIENT 0.5
#define PAY_DELIVER_ACTOR 0.5
#define PAY_DELIVER_RECIPIENT 1.0
#define PAY_BREAK_ACTOR 0.3
#define PAY_BREAK_RECIPIENT (-0.5)

/* ---- payoffs and tallies ---------------------------------------------------------------- */

static void payoffs(const ts_sim *s, ts_act act, int pair, ts_stage stage, double *a, double *r)
{
    const ts_params *p = s->p;
    double k = s->rel[pair].competition;
    double strategic = ts_stage_stakes(stage);
    *a = *r = 0;
    switch (act) {
    case TS_ACT_COORDINATE:
        *a = *r = PAY_COORDINATE * strategic;
        break;
    case TS_ACT_SHARE_INFO:
        *a = PAY_SHARE_EXPOSURE * strategic;
        *r = PAY_SHARE_RECIPIENT * strategic;
        break;
    case TS_ACT_HELP:
        *a = -p->payoffs.help_cost * strategic;
        *r = p->payoffs.help_benefit * strategic;
        break;
    case TS_ACT_DELIVER:
        *a = PAY_DELIVER_ACTOR * strategic;
        *r = PAY_DELIVER_RECIPIENT * strategic;
        break;
    case TS_ACT_BREAK:
        *a = PAY_BREAK_ACTOR;
        *r = PAY_BREAK_RECIPIENT;
        break;
    case TS_ACT_DECEIVE:
        *a = p->payoffs.deceive_gain;
        *r = -p->payoffs.deceive_gain;
        break;
    case TS_ACT_COMPETE:
        *a = p->payoffs.compete_gain * k;
        *r = -p->payoffs.compete_gain * k;
        break;
    default: /* promise (resolved later), fail, withhold */
        break;
    }
}

/* Count an act: per-kind counts, and the windows of the stages (docs/model.md 7.17). */
static void count_act(ts_sim *s, int pair, ts_act act)
{
    s->acts_tick[act] += 1;
    s->counters.acts++;
    ts_stages_record_act(s, pair, act);
}

/* Book the payoffs a (actor x) and r (recipient y) of an act. */
static void book(ts_sim *s, int x, int y, ts_act act, double a, double r)
{
    const ts_model *m = s->m;
    s->received[m->leader_org[x]] += ts_max(0, a);
    s->received[m->leader_org[y]] += ts_max(0, r);
    s->strategy_payoff[s->strategy[x]] += a;
    s->strategy_payoff[s->strategy[y]] += r;
    if (ts_act_is_cooperative(act))
        s->collab_value += ts_max(0, a) + ts_max(0, r);
}

static void tally(ts_sim *s, int x, int y, int pair, ts_act act)
{
    double a, r;
    payoffs(s, act, pair, ts_stage_of(s, pair), &a, &r);
    book(s, x, y, act, a, r);
    count_act(s, pair, act);
}

/* ---- situations and decisions ----------------------------------------------------------- */

static bool in_need(const ts_sim *s, int org)
{
    return s->visit_until[org] >= s->t || s->shock_until[org] >= s->t;
}

static void draw_situation(ts_sim *s, int y, int pair, ts_stage stage, ts_situation *sit)
{
    const ts_params *p = s->p;
    int c = s->m->pair_collab[pair];
    double need =
        in_need(s, s->m->leader_org[y]) ? p->situations.need_visit : p->situations.need_base;
    sit->need = false;
    sit->defect = TS_ACT_WITHHOLD;
    if (gsl_rng_uniform(s->rng) < need) {
        sit->need = true;
        sit->coop = TS_ACT_HELP;
        sit->cost = sit->gain = p->payoffs.help_cost; /* withholding saves the cost */
        return;
    }
    double k = s->rel[pair].competition;
    double info = c >= 0 ? s->m->collab[c].info_sharing : 0;
    double w[4] = {p->situations.w_coordinate,
                   p->situations.w_share_info * (ts_stage_shares_freely(stage) ? 1.0 : info),
                   p->situations.w_promise, p->situations.w_temptation * k};
    double total = w[0] + w[1] + w[2] + w[3];
    double u = gsl_rng_uniform(s->rng) * total;
    if (total <= 0 || u < w[0]) {
        sit->coop = TS_ACT_COORDINATE;
        sit->cost = sit->gain = 0;
    } else if (u < w[0] + w[1]) {
        sit->coop = TS_ACT_SHARE_INFO;
        sit->cost = sit->gain = COST_SHARE_INFO;
    } else if (u < w[0] + w[1] + w[2]) {
        sit->coop = TS_ACT_PROMISE;
        sit->cost = sit->gain = COST_PROMISE;
    } else {
        sit->coop = TS_ACT_COORDINATE; /* the fair option of a temptation */
        sit->cost = 0;
        if (gsl_rng_uniform(s->rng) < 0.5) {
            sit->defect = TS_ACT_COMPETE;
            sit->gain = p->payoffs.compete_gain * k;
        } else {
            sit->defect = TS_ACT_DECEIVE;
            sit->gain = p->payoffs.deceive_gain;
        }
    }
}

/* Probability that leader x takes the cooperative option (docs/model.md 7.9). */
static double p_cooperate(const ts_sim *s, int x, int pair, ts_stage stage, double trust,
                          double cost, double gain)
{
    const ts_params *p = s->p;
    const ts_model *m = s->m;
    int o = m->leader_org[x], c = m->pair_collab[pair];
    double k = s->rel[pair].competition;
    double conf = ts_confidence(s, c);
    double t_eff = ts_effective_trust(trust, stage, conf);
    double purpose = c >= 0 ? m->collab[c].shared_purpose : 0.5;
    double u_c = p->decision.beta_trust * (t_eff - 0.5) +
                 p->decision.beta_faith * (s->faith[o] - 0.5) +
                 p->decision.beta_benevolence * (s->benevolence[x] - 0.5) +
                 p->decision.beta_purpose * (purpose - 0.5) - cost;
    double blame = s->visit_until[o] >= s->t ? p->decision.blame : 0;
    double u_d = gain * (1 + k) + blame - conf * p->decision.penalty -
                 p->reciprocity.q0 * p->decision.reputation_cost;
    double tau = p->decision.tau0 * (1 + k + m->pair_cultural_distance[pair]);
    return 1.0 / (1.0 + exp(-(u_c - u_d) / tau));
}

/* Deception and deliberate breaking need uniform() > integrity (docs/model.md 7.9). */
static bool passes_integrity_gate(ts_sim *s, int x)
{
    return gsl_rng_uniform(s->rng) > s->integrity[x];
}

static ts_act decide(ts_sim *s, int x, int y, int pair, ts_stage stage, double trust,
                     const ts_situation *sit)
{
    ts_act choice;
    switch ((ts_strategy)s->strategy[x]) {
    case TS_STRATEGY_COOPERATOR:
        return sit->coop;
    case TS_STRATEGY_DEFECTOR:
        return sit->defect;
    case TS_STRATEGY_DISCRIMINATOR:
        return ts_observe_saw_bad_latest(s, x, y) ? sit->defect : sit->coop;
    default:
        break;
    }
    if (gsl_rng_uniform(s->rng) >= s->predictability[x]) /* unpredictability: a coin */
        choice = gsl_rng_uniform(s->rng) < 0.5 ? sit->coop : sit->defect;
    else
        choice =
            gsl_rng_uniform(s->rng) < p_cooperate(s, x, pair, stage, trust, sit->cost, sit->gain)
                ? sit->coop
                : sit->defect;
    if (choice == TS_ACT_DECEIVE && !passes_integrity_gate(s, x))
        choice = sit->coop;
    return choice;
}

static void perform(ts_sim *s, int x, int y, int pair, ts_act act, bool need)
{
    tally(s, x, y, pair, act);
    if (act == TS_ACT_PROMISE) {
        ts_promise pr = {s->t + s->p->promises.delay, x, y, pair, s->gen[x]};
        ts_state_push_promise(s, &pr);
        return;
    }
    if (act == TS_ACT_WITHHOLD && !need)
        return; /* nothing visible happened */
    ts_observe_act(s, x, y, pair, act, need);
}

static void one_act(ts_sim *s, int x, int y, int pair, double trust)
{
    ts_stage stage = ts_stage_of(s, pair);
    ts_situation sit;
    draw_situation(s, y, pair, stage, &sit);
    ts_act act = decide(s, x, y, pair, stage, trust, &sit);
    perform(s, x, y, pair, act, sit.need);
}

/* ---- meetings --------------------------------------------------------------------------- */

/* First k in [lo, hi] with cum[k] > u, for non-decreasing cum with cum[hi] > u: a binary
 * search whose steps are conditional moves, not branches the processor cannot predict. */
static int search_cum(const double *cum, int lo, int hi, double u)
{
    int len = hi - lo + 1;
    while (len > 1) {
        int half = len / 2;
        lo = cum[lo + half - 1] <= u ? lo + half : lo;
        len -= half;
    }
    return lo;
}

/* A partner for x: organisation p with weight proximity * leaders, a leader of p uniformly,
 * accepted with probability (0.1 + T_xy) / 1.1. The accepted pair has the probability
 * d_op * (0.1 + T_xy) of docs/model.md 7.7 without visiting every leader. */
static int choose_partner(ts_sim *s, int x, int *pair_out, double *trust_out)
{
    const ts_model *m = s->m;
    int o = m->leader_org[x];
    int lo = m->pair_begin[o], hi = m->pair_begin[o + 1] - 1;
    for (int tries = 0; tries < 1000; tries++) {
        double u = gsl_rng_uniform(s->rng) * s->partner_total[o];
        int a = search_cum(s->partner_cum, lo, hi, u);
        int q = m->pair_partner[a];
        int y = m->org_leader_begin[q] +
                (int)gsl_rng_uniform_int(s->rng, (unsigned long)m->org_n_leaders[q]);
        double trust = ts_trust_of(s, x, y, a);
        if (gsl_rng_uniform(s->rng) * 1.1 < 0.1 + trust) {
            *pair_out = a;
            *trust_out = trust;
            return y;
        }
    }
    return -1;
}

void ts_acts_meetings(ts_sim *s)
{
    const ts_model *m = s->m;
    for (int x = 0; x < m->n_leaders; x++) {
        int o = m->leader_org[x];
        if (!s->active[o] || s->partner_total[o] <= 0)
            continue;
        double mu = s->capacity[x] * (0.25 + 0.75 * s->faith[o]) * (0.5 + s->orientation[x]) *
                    s->mean_proximity[o];
        unsigned n = mu > 0 ? gsl_ran_poisson(s->rng, mu) : 0;
        for (unsigned i = 0; i < n; i++) {
            int pair;
            double trust;
            int y = choose_partner(s, x, &pair, &trust);
            if (y < 0)
                break;
            s->counters.meetings++;
            double yield = ts_stage_acts_per_meeting(ts_stage_of(s, pair));
            int acts = (int)yield;
            if (gsl_rng_uniform(s->rng) < yield - acts)
                acts++;
            for (int j = 0; j < acts; j++)
                one_act(s, x, y, pair, j == 0 ? trust : ts_trust_of(s, x, y, pair));
        }
    }
}

/* ---- promises --------------------------------------------------------------------------- */

/* A promise due now: delivered with probability ability * internal trust, failed otherwise,
 * unless the leader, tempted by competition (probability k_op), breaks it deliberately. */
static void resolve_promise(ts_sim *s, const ts_promise *pr)
{
    const ts_model *m = s->m;
    int x = pr->x, y = pr->y, pair = pr->pair;
    if (s->gen[x] != pr->gen_x || !s->active[m->leader_org[x]] || !s->active[m->leader_org[y]])
        return; /* the promiser or an organisation has gone: the promise lapses (a recipient's
                   successor in the slot receives what was promised to the post) */
    ts_stage stage = ts_stage_of(s, pair);
    bool brk = false;
    if (s->strategy[x] == TS_STRATEGY_TRUST && gsl_rng_uniform(s->rng) < s->rel[pair].competition) {
        double trust = ts_trust_of(s, x, y, pair);
        bool want;
        if (gsl_rng_uniform(s->rng) >= s->predictability[x])
            want = gsl_rng_uniform(s->rng) < 0.5;
        else
            want = gsl_rng_uniform(s->rng) >=
                   p_cooperate(s, x, pair, stage, trust, 0.0, PAY_BREAK_ACTOR);
        brk = want && passes_integrity_gate(s, x);
    } else if (s->strategy[x] == TS_STRATEGY_DEFECTOR) {
        brk = true;
    }
    ts_act act;
    if (brk)
        act = TS_ACT_BREAK;
    else if (gsl_rng_uniform(s->rng) < s->ability[x] * m->org_internal_trust[m->leader_org[x]])
        act = TS_ACT_DELIVER;
    else
        act = TS_ACT_FAIL;
    perform(s, x, y, pair, act, false);
}

void ts_acts_resolve_promises(ts_sim *s)
{
    size_t keep = 0;
    for (size_t i = 0; i < s->n_promises; i++) {
        ts_promise pr = s->promises[i];
        if (pr.due <= s->t)
            resolve_promise(s, &pr);
        else
            s->promises[keep++] = pr;
    }
    s->n_promises = keep;
}

/* ---- donation game (docs/model.md 7.19) -------------------------------------------------------
 */

void ts_acts_donation_round(ts_sim *s)
{
    const ts_model *m = s->m;
    int n = m->n_leaders;
    if (n < 2)
        return;
    for (int x = 0; x < n; x++) {
        int y = (int)gsl_rng_uniform_int(s->rng, (unsigned long)(n - 1));
        if (y >= x)
            y++;
        int pair = ts_model_pair(m, m->leader_org[x], m->leader_org[y]);
        ts_situation sit = {TS_ACT_HELP, TS_ACT_WITHHOLD, s->p->donation_game.cost,
                            s->p->donation_game.cost, true};
        ts_act act = decide(s, x, y, pair, ts_stage_of(s, pair), ts_trust_of(s, x, y, pair), &sit);
        /* payoffs are the game's b and c, not the collaboration's */
        bool helped = act == TS_ACT_HELP;
        book(s, x, y, act, helped ? -s->p->donation_game.cost : 0,
             helped ? s->p->donation_game.benefit : 0);
        count_act(s, pair, act);
        ts_observe_act(s, x, y, pair, act, true);
    }
}
