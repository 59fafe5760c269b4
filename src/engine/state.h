/* The state of one run (docs/model.md 2.2-2.8), the bottom of the engine: the workspace
 * struct behind the public ts_sim, its allocation, the queues of pending work, the derived
 * topology that meetings and observation read, and the leaders who hold the slots.
 *
 * The modules of a tick sit above it, each with one job (src/README.md, ENGINE_ORDER of
 * scripts/check-layers.py): stages.c (Pomponi stages and their windows), trust.c (priors,
 * Beta means, group images, inter-organisational trust), faith.c, observe.c (observation and
 * judgement), acts.c (meetings, decisions, promises), events.c, and sim.c on top, which
 * orders a tick. A module changes only the state its job names, through its own functions.
 * Internal: not installed, not for users of the library. */
#ifndef TS_ENGINE_STATE_H
#define TS_ENGINE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "engine/beliefs.h"
#include "trustsim/error.h"
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
    int group;     /* 0: belief of leader a about leader b; 1: a group image */
    uint32_t a, b; /* leaders (belief), or in a the image's pair (p, o) (group) */
    uint32_t gen_a, gen_b;
    float neg[TS_PILLARS]; /* already faded to `due` */
} ts_resolution;

/* The acts of one tick on unordered pairs, kept while the tick is in the stage window: a
 * window costs the acts it holds, not the pairs that exist. */
typedef struct ts_window_act {
    int32_t upair;
    float all, coop; /* weights added to the pair's sums */
} ts_window_act;

typedef struct ts_window_slot {
    ts_window_act *acts;
    size_t n, cap;
} ts_window_slot;

/* What the end-of-tick passes add up for the metrics of one tick (docs/model.md 7.20). */
typedef struct ts_tick_sums {
    double trust, pillar[TS_PILLARS]; /* over live beliefs */
    long known;
    double to, group, confidence; /* over pairs of active organisations */
    long pairs;
    long stage[4], upairs;
    double faith; /* over active organisations */
    int active;
} ts_tick_sums;

struct ts_sim {
    const ts_model *m;
    const ts_params *p; /* m->params: scalar coefficients only */
    gsl_rng *rng;
    int t;
    int n_metrics;
    ts_status failed; /* TS_OK, or why the run cannot go on (in `failure`) */
    ts_error failure;
    int threads;        /* for the end-of-tick passes: the bits never depend on it */
    double *chunk_sums; /* the passes' partial sums, one row per fixed chunk */
    size_t chunk_rows;  /* rows of chunk_sums allocated */

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
    double *g_pos, *g_neg; /* group images, [(p, o)][pillar] for o's image of p, in units of
                              g_unit */
    double g_unit;         /* common fading factor of group-image counts (as beliefs.unit) */
    double *g_prior;       /* [(p, o)] */
    double *to;            /* [(p, o)]: TO of o in p, as of the last end-of-tick pass (by the
                              trustees' organisation first, as group images and accumulators) */
    double *group_t;       /* [(p, o)]: the trust o's image of p implies, end-of-tick scratch */
    double *acc_sum;       /* per (leader of o, partner p): sum of trust in the p leaders o knows,
                              end-of-tick scratch (0 between passes) */

    /* unordered pairs: stage, and the window of cooperation extent */
    int8_t *stage;
    int *trust_ticks;           /* consecutive ticks at or above the next stage's trust threshold */
    ts_window_slot *window;     /* [window]: each tick's acts, to leave the sums when it ends */
    double *sum_coop, *sum_all; /* over the window: weights of cooperative and of all acts */

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

/* Set every per-run field that no module of a tick owns to its state before tick 0: the
 * counters, queues, organisations' visits and tallies, the collaborations' agreements. */
void ts_state_reset(ts_sim *s);
/* The run cannot go on (out of memory inside the tick loop). The first failure is kept; the
 * run stops at the end of the tick and reports it, and it is never written as a result. */
void ts_state_fail(ts_sim *s, const char *what);

/* Draw slot x's traits from the trait means tr (docs/model.md 7.1). */
void ts_state_draw_leader(ts_sim *s, int x, const ts_traits *tr);
/* A new person takes slot x (docs/model.md 7.18): new traits, and every belief by or about
 * the slot goes stale (the generation changes), so partners meet a stranger again. */
void ts_state_replace_leader(ts_sim *s, int x, const ts_traits *means);
/* Recompute what meetings and observation read of the active organisations and their
 * proximity (meeting weights, mean proximity, collaboration complexity and attention). */
void ts_state_refresh_topology(ts_sim *s);

/* fn(ctx, k) for every chunk k < n of a pass: on the workspace's threads when it has several
 * (in any order: a chunk writes only what is its own), else in a plain loop. */
void ts_state_for_chunks(const ts_sim *s, size_t n, void (*fn)(void *ctx, size_t k), void *ctx);

/* Room for `rows` rows of partial sums of TS_CHUNK_SUMS doubles in s->chunk_sums; NULL (and
 * the run failed) when it cannot grow. */
enum { TS_CHUNK_SUMS = 8 };
double *ts_state_chunk_sums(ts_sim *s, size_t rows);

/* Pending work; a queue that cannot grow fails the run. */
void ts_state_push_promise(ts_sim *s, const ts_promise *pr);
void ts_state_push_resolution(ts_sim *s, const ts_resolution *r);

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

#endif
