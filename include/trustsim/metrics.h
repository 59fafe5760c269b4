/* The metrics a run records at every tick (docs/model.md section 7.20): their order, names and
 * meanings. The order is the row order of ts_run_result.series and of /series in the output. */
#ifndef TRUSTSIM_METRICS_H
#define TRUSTSIM_METRICS_H

#include "trustsim/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Kinds of act (docs/model.md section 7.7-7.10), in output order. */
typedef enum ts_act {
    TS_ACT_COORDINATE = 0,
    TS_ACT_SHARE_INFO,
    TS_ACT_HELP,
    TS_ACT_PROMISE,
    TS_ACT_DELIVER,
    TS_ACT_FAIL,
    TS_ACT_BREAK,
    TS_ACT_DECEIVE,
    TS_ACT_COMPETE,
    TS_ACT_WITHHOLD,
    TS_ACT_COUNT
} ts_act;

typedef enum ts_metric {
    TS_M_COOP_RATE = 0,
    TS_M_TRUST_INTERPERSONAL,
    TS_M_TRUST_INTERORG,
    TS_M_TRUST_GROUP,
    TS_M_CONFIDENCE,
    TS_M_FAITH,
    TS_M_STAGE0_SHARE,
    TS_M_STAGE1_SHARE,
    TS_M_STAGE2_SHARE,
    TS_M_STAGE3_SHARE,
    TS_M_ACTIVE_ORGS,
    TS_M_COLLAB_VALUE,
    TS_M_ACTS_FIRST,                                       /* acts_<kind>, TS_ACT_COUNT of them */
    TS_M_PERCEIVED_FIRST = TS_M_ACTS_FIRST + TS_ACT_COUNT, /* perceived_<pillar>, 4 */
    TS_M_SURVEY_INTERINDIVIDUAL = TS_M_PERCEIVED_FIRST + TS_PILLARS,
    TS_M_SURVEY_INTERORG,
    TS_M_SURVEY_PILLAR_FIRST, /* survey_<pillar> = 1 + 4 * perceived_<pillar>, 4 */
    TS_M_STANDARD_COUNT = TS_M_SURVEY_PILLAR_FIRST + TS_PILLARS,
    /* donation_game mode only: mean payoff per tick of each strategy's leaders */
    TS_M_PAYOFF_FIRST = TS_M_STANDARD_COUNT,
    TS_M_DONATION_COUNT = TS_M_PAYOFF_FIRST + TS_STRATEGY_COUNT
} ts_metric;

/* Number of metrics recorded in a mode. */
int ts_metric_count(ts_mode mode);
/* Output name ("trust_interorg", "acts_help", "payoff_defector", ...) and one-line meaning. */
const char *ts_metric_name(int metric);
const char *ts_metric_description(int metric);
/* Index of a metric by name, or -1. */
int ts_metric_find(const char *name);

const char *ts_act_name(ts_act act);
/* Cooperative acts count towards coop_rate and cooperation extent. */
int ts_act_is_cooperative(ts_act act);

#ifdef __cplusplus
}
#endif
#endif
