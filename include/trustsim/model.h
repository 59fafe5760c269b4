/* The model: what a scenario fixes before any random draw. Organisations with their resolved
 * trait distributions, leader slots, collaborations, and the sparse table of organisation
 * pairs that share a collaboration (the only pairs that ever interact).
 *
 * Built once per scenario (or sweep point) and shared read-only by every run, so runs in
 * parallel threads never write to it. Holds nothing random and no per-run state (sim.h). */
#ifndef TRUSTSIM_MODEL_H
#define TRUSTSIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trustsim/error.h"
#include "trustsim/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Up to this many organisations, pair lookups use a dense n x n index (4 MB at the limit). */
#define TS_DENSE_PAIRS_MAX 1024

/* What the run mode (docs/model.md 7.19) makes of a tick, decided here once: the engine's steps
 * read these, never the mode. */
typedef enum ts_schedule {
    TS_SCHEDULE_MEETINGS = 0,   /* promises due, conflicts resolved, meetings and their acts */
    TS_SCHEDULE_DONATION_ROUNDS /* every leader donates once to a uniformly drawn other leader */
} ts_schedule;

typedef enum ts_image_rule {
    TS_IMAGE_BY_TRUST = 0, /* z regards y as good when z's trust in y is at least 0.5 */
    TS_IMAGE_BY_LATEST_ACT /* ... unless z saw y's latest act and judged it bad */
} ts_image_rule;

/* A collaboration as the tick reads it: the scenario's values, or in the donation game the
 * neutral ones (no agreement, no information sharing, purpose 0.5, a constant target). */
typedef struct ts_collab_model {
    bool mandated;
    double shared_purpose, info_sharing;
    double formalisation, enforcement, attribution; /* the agreement in force at tick 0 */
    double target_final, quick_win_floor, ramp;
} ts_collab_model;

typedef struct ts_model {
    const ts_params *params; /* borrowed: must outlive the model; the tick reads its scalar
                                coefficients as given, and everything else from the model */
    ts_mode mode;
    int ticks;
    double weights[TS_PILLARS]; /* pillar weights normalised to sum 1 */

    /* the run mode, resolved */
    ts_schedule schedule;
    ts_image_rule image_rule;
    bool exits;            /* organisations leave when their faith stays low */
    bool observe_everyone; /* every leader sees every act with probability observe_q (the
                              recipient included, no conflict resolution), instead of the
                              recipient and sampled members of the collaboration */
    double observe_q;

    /* organisations */
    int n_orgs;
    char (*org_name)[TS_NAME_MAX];
    int *org_leader_begin; /* leaders of o are org_leader_begin[o] .. + org_n_leaders[o] - 1 */
    int *org_n_leaders;
    double *org_size;
    double *org_internal_trust;
    double *org_reputation;
    double (*org_culture)[3];
    ts_traits *org_traits; /* defaults <- archetype <- organisation overrides, all set */
    int *org_collab;       /* first collaboration o belongs to, or -1 */

    /* leader slots (a slot keeps its index when its holder is replaced) */
    int n_leaders;
    int *leader_org;

    /* collaborations: members and their leaders, as compressed rows */
    int n_collabs;
    ts_collab_model *collab;
    int *collab_org_begin, *collab_orgs;
    int *collab_leader_begin, *collab_leaders;

    /* ordered organisation pairs sharing a collaboration, compressed rows by first
     * organisation, partners sorted: the pairs of o are pair_begin[o] .. pair_begin[o+1]-1 */
    int n_pairs;
    int *pair_begin;
    int *pair_partner;
    int *pair_org;              /* o of pair (o, p) */
    int *pair_reverse;          /* index of (p, o) */
    int *pair_collab;           /* first collaboration holding both */
    int *pair_upair;            /* unordered pair index */
    ts_relation *pair_relation; /* competition, history, proximity at tick 0 */
    double *pair_cultural_distance;
    int *pair_acc_begin;     /* per-(leader of o, partner p) accumulators: n_leaders of o each,
                                numbered by p first (the trustees' organisation) */
    int *pair_rev_acc_begin; /* [(p, o)]: pair_acc_begin of (o, p), for walking the
                                observers of an actor in p */
    int n_acc;
    int n_upairs;
    int *upair_pair; /* the ordered pair (o, p) with o < p */
    int *pair_dense; /* [o * n_orgs + p] -> pair or -1, kept only for up to
                        TS_DENSE_PAIRS_MAX organisations (else NULL: binary search) */

    /* scheduled events sorted by tick (stable), and rate events */
    int *event_order;
    int n_scheduled;
    int *rate_events;
    int n_rate_events;
    uint8_t *rate_event_orgs; /* [n_rate_events][n_orgs]: 1 for each organisation it touches */

    size_t belief_bound; /* most beliefs a run can hold: sum over leaders of partner leaders */
} ts_model;

/* Build from validated parameters; p must outlive the model. */
ts_status ts_model_build(ts_model **out, const ts_params *p, ts_error *err);
void ts_model_free(ts_model *m);

/* Overlay the set fields of `over` (NaN doubles and a strategy of -1 are unset) on `base`. */
void ts_traits_overlay(ts_traits *base, const ts_traits *over);

/* Index of the ordered pair (o, p), or -1 when they share no collaboration. */
int ts_model_pair(const ts_model *m, int o, int p);

#ifdef __cplusplus
}
#endif
#endif
