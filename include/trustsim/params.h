/* The validated parameters of one scenario: what a scenario file means, with every default of the
 * model (docs/model.md) filled in.
 *
 * This is plain data. It is produced by the scenario loader (scenario.h), changed by `--set`
 * and by sweep designs through the schema (schema.h), and read by the model builder
 * (model.h). It holds no derived state and nothing random. Names follow the scenario file. */
#ifndef TRUSTSIM_PARAMS_H
#define TRUSTSIM_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_NAME_MAX 64

typedef enum ts_strategy {
    TS_STRATEGY_TRUST = 0, /* the full decision rule of docs/model.md 7.9 */
    TS_STRATEGY_DISCRIMINATOR,
    TS_STRATEGY_COOPERATOR,
    TS_STRATEGY_DEFECTOR,
    TS_STRATEGY_COUNT
} ts_strategy;

typedef enum ts_norm { TS_NORM_IMAGE_SCORING = 0, TS_NORM_STANDING, TS_NORM_STERN_JUDGING } ts_norm;
typedef enum ts_observation { TS_OBSERVATION_PROXIMITY = 0, TS_OBSERVATION_FLAT } ts_observation;
typedef enum ts_mode { TS_MODE_STANDARD = 0, TS_MODE_DONATION_GAME } ts_mode;
typedef enum ts_tick_unit { TS_TICK_WEEK = 0, TS_TICK_MONTH, TS_TICK_DAY } ts_tick_unit;

/* Pillars of trustworthiness, in this order everywhere (beliefs, weights, outputs). */
enum { TS_ABILITY = 0, TS_BENEVOLENCE, TS_INTEGRITY, TS_PREDICTABILITY, TS_PILLARS };

/* Means of the Beta distributions leaders' true traits are drawn from (docs/model.md 7.1).
 * In leader_defaults every field is set. In archetypes, organisation `traits` and events,
 * a field is an override only when set: doubles are NaN and strategy is -1 when unset. */
typedef struct ts_traits {
    double ability;
    double benevolence;
    double integrity;
    double predictability;
    double propensity;
    double orientation;
    double capacity;      /* mean meetings per tick: used as given, not drawn */
    double concentration; /* Beta concentration a+b */
    int strategy;         /* ts_strategy, or -1 when unset */
} ts_traits;

typedef struct ts_archetype {
    char id[TS_NAME_MAX];
    ts_traits traits; /* overrides of leader_defaults */
} ts_archetype;

typedef struct ts_org_spec {
    char id[TS_NAME_MAX];
    char kind[TS_NAME_MAX];
    double size;
    int leaders;
    double culture[3]; /* pace, hierarchy, risk appetite */
    double internal_trust;
    double reputation;
    int archetype;    /* index into ts_params.archetypes, or -1 */
    ts_traits traits; /* overrides applied after the archetype */
} ts_org_spec;

typedef struct ts_collab_spec {
    char id[TS_NAME_MAX];
    int *members; /* organisation indices */
    int n_members;
    bool mandated;
    double shared_purpose;
    double info_sharing;
    double formalisation; /* agreement.formalisation: 0 = no agreement */
    double enforcement;   /* agreement.enforcement */
    double attribution;   /* agreement.attribution (crowding-out) */
    double target_final;  /* target.final */
    double quick_win_floor;
    double ramp; /* ticks */
} ts_collab_spec;

typedef struct ts_relation {
    double competition; /* [0,1] */
    double history;     /* [-1,1] */
    double proximity;   /* [0,1] */
} ts_relation;

/* One entry of relations.pairs: `between: [a, b]` (symmetric) or `from: a, to: b`.
 * Unset fields are NaN and keep the default. Later entries override earlier ones. */
typedef struct ts_pair_spec {
    int from, to;
    bool symmetric;
    ts_relation rel;
} ts_pair_spec;

typedef enum ts_event_type {
    TS_EVENT_AGREEMENT = 0,    /* collaboration signs an agreement */
    TS_EVENT_REGULATOR_VISIT,  /* scheduled visit to organisations */
    TS_EVENT_REGULATOR_VISITS, /* random visits, `rate` per organisation per tick */
    TS_EVENT_SHOCK,            /* funding cut, reorganisation, third party pulling the rug */
    TS_EVENT_LEADERSHIP_PROGRAMME,
    TS_EVENT_CONFLICT_RESOLUTION,
    TS_EVENT_SHARED_HUB,
    TS_EVENT_NEW_LEADER,
    TS_EVENT_TURNOVER, /* random replacement, `rate` per leader per tick */
    TS_EVENT_COUNT
} ts_event_type;

typedef struct ts_event {
    ts_event_type type;
    int at;     /* tick; rate events start at `at` (default 0) */
    int until;  /* rate events stop after this tick (default: horizon) */
    int collab; /* collaboration index (agreement, conflict_resolution); -1 = all */
    int *orgs;  /* organisation indices; NULL/0 = all organisations */
    int n_orgs;
    int leader; /* new_leader: which leader slot of the organisation (default 0) */
    double formalisation, enforcement; /* agreement */
    double rate;                       /* regulator_visits, turnover */
    double faith;                      /* shock: magnitude of the faith loss */
    double competition;                /* shock: added to competition of the pairs touched */
    double probability;                /* conflict_resolution */
    int delay;                         /* conflict_resolution: ticks */
    double proximity;                  /* shared_hub: added to proximity among the orgs */
    ts_traits traits; /* leadership_programme: additive deltas; new_leader: trait means */
} ts_event;

typedef enum ts_design {
    TS_DESIGN_NONE = 0, /* no sweep block: one point */
    TS_DESIGN_GRID,
    TS_DESIGN_LIST,
    TS_DESIGN_LHS,
    TS_DESIGN_SOBOL,
    TS_DESIGN_SALTELLI
} ts_design;

/* One swept parameter: a scalar path as `--set` takes it, with explicit values (grid, list) or
 * a range (min, max, and for grid the number of levels n). */
typedef struct ts_sweep_param {
    char path[256];
    double *values; /* grid `values`, or list: one value per point */
    int n_values;
    double min, max; /* NaN when values are given */
    int n;           /* grid levels for min/max; 0 otherwise */
} ts_sweep_param;

typedef struct ts_sweep {
    ts_design design;
    int n; /* lhs, sobol, saltelli: number of base samples */
    ts_sweep_param *params;
    int n_params;
} ts_sweep;

typedef struct ts_params {
    /* identity and run control */
    char name[TS_NAME_MAX];
    char *description; /* may be NULL */
    uint64_t seed;
    int ticks;
    ts_tick_unit tick_unit;
    int replicates;
    ts_mode mode;

    ts_traits leader_defaults;
    ts_archetype *archetypes;
    int n_archetypes;
    ts_org_spec *orgs;
    int n_orgs;
    ts_collab_spec *collabs;
    int n_collabs;

    ts_relation relation_default;
    ts_pair_spec *pairs;
    int n_pairs;

    struct {
        ts_norm norm;
        ts_observation observation;
        double q0, attention, detect;
        double group_weight, group_prior_weight, group_m0, group_negativity;
    } reciprocity;

    struct {
        double m0, forget, lambda_bad, lambda_deceive;
        double weights[TS_PILLARS]; /* ability, benevolence, integrity, predictability */
    } beliefs;

    struct {
        double beta_trust, beta_faith, beta_benevolence, beta_purpose;
        double tau0, penalty, reputation_cost, blame;
    } decision;

    struct {
        double need_base, need_visit;
        int visit_length;
        double w_coordinate, w_share_info, w_promise, w_temptation; /* situations.weights.* */
    } situations;

    struct {
        double help_benefit, help_cost, deceive_gain, compete_gain;
    } payoffs;

    struct {
        int delay;
    } promises;

    struct {
        double initial, forget, m0, v_ref, eta_shared, eta_complexity, shock_weight, threat;
        double exit_faith;
        int exit_ticks;
    } faith;

    struct {
        double theta_1;
        double theta_up[2];   /* 1->2, 2->3 */
        double chi_up[2];     /* 1->2, 2->3 */
        double theta_down[3]; /* 1->0, 2->1, 3->2 */
        int window;
    } stages;

    ts_event *events;
    int n_events;

    struct {
        double q, benefit, cost;
        int strategies[TS_STRATEGY_COUNT]; /* leaders per strategy, indexed by ts_strategy */
    } donation_game;

    ts_sweep sweep;
} ts_params;

/* Names of enumerations as written in scenario files and outputs. */
const char *ts_strategy_name(ts_strategy s);
const char *ts_norm_name(ts_norm n);
const char *ts_event_type_name(ts_event_type t);
const char *ts_tick_unit_name(ts_tick_unit u);
const char *ts_pillar_name(int pillar);

#ifdef __cplusplus
}
#endif
#endif
