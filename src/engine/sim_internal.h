/* The state of one run and the functions of the tick loop, shared by the engine's files:
 *   sim.c      life cycle, leaders, tick order, events
 *   acts.c     meetings, situations, decisions, promises, payoffs (docs/model.md 7.7-7.10, 7.11)
 *   observe.c  observation, judgement, evidence, conflict resolution
 * (docs/model.md 7.2, 7.3-7.6, 7.12) update.c   the end-of-tick pass: forgetting, trust, stages,
 * faith, metrics (3, 6, 8, 11) Internal: not installed, not for users of the library. */
#ifndef TS_SIM_INTERNAL_H
#define TS_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "engine/beliefs.h"
#include "trustsim/metrics.h"
#include "trustsim/model.h"
#include "trustsim/sim.h"

typedef struct ts_promise {
    int due, x, y, pair;
    uint32_t gen_x; /* who made it */
} ts_promise;

/* Half of some negative evidence to be taken back at `due` (conflict resolution). */
typedef struct ts_resolution {
    int due;
    int group;     /* 0: belief of leader a about leader b; 1: group image of ordered pair a */
    uint32_t a, b; /* leaders (belief) or pair index in a (group) */
    uint32_t gen_a, gen_b;
    float neg[TS_PILLARS]; /* already faded to `due` */
} ts_resolution;

typedef struct ts_situation {
    ts_act coop, defect;
    double cost; /* cost of cooperating */
    double gain; /* gain of defecting, before the competition factor */
    bool need;   /* a partner in need: withholding is visible */
} ts_situation;

struct ts_sim {
    const ts_model *m;
    const ts_params *p;
    gsl_rng *rng;
    int t;
    int n_metrics;

    /* leaders: true traits, who holds the slot, judged-act sequence */
    double *ability, *benevolence, *integrity, *predictability, *propensity, *orientation;
    double *capacity;
    int8_t *strategy;
    uint32_t *gen;
    uint32_t *act_seq;
    int strategy_count[TS_STRATEGY_COUNT];
    double strategy_payoff[TS_STRATEGY_COUNT]; /* this tick */

    /* organisations */
    uint8_t *active;
    double *faith, *faith0, *faith_pos, *faith_neg;
    int *low_faith_ticks;
    int *visit_until, *shock_until;
    double *received, *deliveries_seen; /* this tick */
    double *mean_proximity;
    double *partner_total; /* sum of meeting weights over active partners */
    double *org_scratch;
    int *org_scratch_int; /* room for twice the leaders of the largest organisation */

    /* ordered organisation pairs */
    ts_relation *rel;
    double *partner_cum;   /* cumulative meeting weight along each organisation's row */
    double *g_pos, *g_neg; /* group images, [pair][pillar], in units of g_unit */
    double g_unit;         /* common fading factor of group-image counts (as beliefs.unit) */
    double *g_prior;       /* [pair] */
    double *to;            /* inter-organisational trust, last end-of-tick pass */
    double *group_t;       /* [pair]: the trust its group image implies, end-of-tick scratch */
    double *acc_sum;       /* per (leader of o, partner p): sum of trust in the p leaders o knows */

    /* unordered pairs: stage, and the window of cooperation extent */
    int8_t *stage;
    int *trust_ticks;          /* consecutive ticks at or above the next stage's trust threshold */
    float *win_coop, *win_all; /* [window][upair]: a tick's slot is one row */
    double *sum_coop, *sum_all;

    /* collaborations */
    double *phi, *enforcement, *resolution_p;
    int *resolution_delay;
    int *active_leaders;
    double *complexity;
    double *attention_factor;

    /* whole-run tallies */
    double *win_c, *win_n; /* coop_rate window, [window] */
    double sum_c, sum_n;
    double collab_value;
    double acts_tick[TS_ACT_COUNT];
    int next_event;

    /* pending work */
    ts_promise *promises;
    size_t n_promises, cap_promises;
    ts_resolution *resolutions;
    size_t n_resolutions, cap_resolutions;

    /* scratch for sampling observers */
    int *candidates;
    uint32_t *stamp;
    uint32_t stamp_gen;

    ts_belief_store beliefs;
    ts_sim_counters counters;
    uint64_t queue_grows;

    /* outputs */
    double *series; /* [metric][tick] */
    double *final_to;
    int8_t *final_stage;
};

/* sim.c */
void ts_sim_refresh_topology(ts_sim *s);
void ts_sim_replace_leader(ts_sim *s, int x, const ts_traits *means);

/* acts.c */
void ts_acts_meetings(ts_sim *s);
void ts_acts_donation_round(ts_sim *s);
void ts_acts_resolve_promises(ts_sim *s);

/* observe.c */
double ts_prior_pillar(const ts_sim *s, int x, int pair, int pillar);
double ts_belief_trust(const ts_sim *s, long belief);
/* Trust of x in y: the belief if x holds a current one, else the prior for y's organisation. */
double ts_trust_of(const ts_sim *s, int x, int y, int pair);
/* Index of x's belief about y if current, else -1. */
long ts_current_belief(const ts_sim *s, int x, int y);
/* Whether observer z regards y as good (for norms and discriminators). */
bool ts_image_good(const ts_sim *s, int z, int y);
/* x's latest-seen judgement of y's most recent act was bad (discriminator rule). */
bool ts_saw_bad_latest(const ts_sim *s, int x, int y);
/* An act x did to y is seen by y and by sampled observers, judged and turned into evidence. */
void ts_observe_act(ts_sim *s, int x, int y, int pair, ts_act act, bool need);
void ts_observe_resolve_conflicts(ts_sim *s);

/* update.c */
void ts_update_end_of_tick(ts_sim *s);

/* growable queues: 0 on success */
int ts_sim_push_promise(ts_sim *s, const ts_promise *pr);
int ts_sim_push_resolution(ts_sim *s, const ts_resolution *r);

static inline double ts_clamp01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* The smaller and larger of a and b, for values that are never NaN: what fmin and fmax give
 * them (up to the sign of a zero), without a call into the maths library in the tick loop. */
static inline double ts_min(double a, double b)
{
    return a < b ? a : b;
}

static inline double ts_max(double a, double b)
{
    return a > b ? a : b;
}

/* C of docs/model.md 7.4 for collaboration c: phi * e while an agreement holds, else 0. */
static inline double ts_confidence(const ts_sim *s, int c)
{
    return c >= 0 && s->phi[c] > 0 ? s->phi[c] * s->enforcement[c] : 0.0;
}

static inline int ts_window_slot(const ts_sim *s)
{
    return s->t % s->p->stages.window;
}

#endif
