/* Names and meanings of the recorded metrics and act kinds. Computing them is the job of the
 * end-of-tick pass (src/engine/trust.c, stages.c, faith.c, recorded by sim.c); this file only
 * names them. */
#include "trustsim/metrics.h"

#include <string.h>

static const char *const act_names[TS_ACT_COUNT] = {
    "coordinate", "share_info", "help",    "promise", "deliver",
    "fail",       "break",      "deceive", "compete", "withhold",
};

typedef struct {
    const char *name;
    const char *description;
} metric_info;

static const metric_info metrics[TS_M_DONATION_COUNT] = {
    [TS_M_COOP_RATE] = {"coop_rate", "share of cooperative acts over the last stage window"},
    [TS_M_TRUST_INTERPERSONAL] = {"trust_interpersonal",
                                  "mean trust between leaders of different organisations "
                                  "who know each other"},
    [TS_M_TRUST_INTERORG] = {"trust_interorg",
                             "mean inter-organisational trust over ordered organisation pairs"},
    [TS_M_TRUST_GROUP] = {"trust_group", "mean trust implied by organisations' group images"},
    [TS_M_CONFIDENCE] = {"confidence", "mean confidence from agreements (formalisation x "
                                       "enforcement)"},
    [TS_M_FAITH] = {"faith", "mean faith in the collaboration over active organisations"},
    [TS_M_STAGE0_SHARE] = {"stage0_share", "share of organisation pairs at arm's length"},
    [TS_M_STAGE1_SHARE] = {"stage1_share", "share of pairs in agreement-driven trust"},
    [TS_M_STAGE2_SHARE] = {"stage2_share", "share of pairs in knowledge-based trust"},
    [TS_M_STAGE3_SHARE] = {"stage3_share", "share of pairs in collaboration-driven trust"},
    [TS_M_ACTIVE_ORGS] = {"active_orgs", "organisations still engaged"},
    [TS_M_COLLAB_VALUE] = {"collab_value", "cumulative value of cooperative acts"},
    [TS_M_ACTS_FIRST + TS_ACT_COORDINATE] = {"acts_coordinate", "coordinate acts this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_SHARE_INFO] = {"acts_share_info", "share_info acts this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_HELP] = {"acts_help", "help acts this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_PROMISE] = {"acts_promise", "promises made this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_DELIVER] = {"acts_deliver", "promises delivered this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_FAIL] = {"acts_fail", "promises failed in good faith this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_BREAK] = {"acts_break", "promises broken this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_DECEIVE] = {"acts_deceive", "deceptions this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_COMPETE] = {"acts_compete", "competitive acts this tick"},
    [TS_M_ACTS_FIRST + TS_ACT_WITHHOLD] = {"acts_withhold", "withholdings this tick"},
    [TS_M_PERCEIVED_FIRST +
        TS_ABILITY] = {"perceived_ability", "mean perceived ability over known leader pairs"},
    [TS_M_PERCEIVED_FIRST +
        TS_BENEVOLENCE] = {"perceived_benevolence", "mean perceived benevolence over known pairs"},
    [TS_M_PERCEIVED_FIRST +
        TS_INTEGRITY] = {"perceived_integrity", "mean perceived integrity over known pairs"},
    [TS_M_PERCEIVED_FIRST + TS_PREDICTABILITY] = {"perceived_predictability",
                                                  "mean perceived predictability over known "
                                                  "pairs"},
    [TS_M_SURVEY_INTERINDIVIDUAL] = {"survey_interindividual",
                                     "1 + 4 x trust_interpersonal (Likert 1-5)"},
    [TS_M_SURVEY_INTERORG] = {"survey_interorg", "1 + 4 x trust_group (Likert 1-5)"},
    [TS_M_SURVEY_PILLAR_FIRST + TS_ABILITY] = {"survey_ability", "1 + 4 x perceived_ability"},
    [TS_M_SURVEY_PILLAR_FIRST +
        TS_BENEVOLENCE] = {"survey_benevolence", "1 + 4 x perceived_benevolence"},
    [TS_M_SURVEY_PILLAR_FIRST + TS_INTEGRITY] = {"survey_integrity", "1 + 4 x perceived_integrity"},
    [TS_M_SURVEY_PILLAR_FIRST +
        TS_PREDICTABILITY] = {"survey_predictability", "1 + 4 x perceived_predictability"},
    [TS_M_PAYOFF_FIRST +
        TS_STRATEGY_TRUST] = {"payoff_trust", "mean payoff per tick of trust-rule leaders"},
    [TS_M_PAYOFF_FIRST + TS_STRATEGY_DISCRIMINATOR] = {"payoff_discriminator",
                                                       "mean payoff per tick of discriminators"},
    [TS_M_PAYOFF_FIRST +
        TS_STRATEGY_COOPERATOR] = {"payoff_cooperator", "mean payoff per tick of cooperators"},
    [TS_M_PAYOFF_FIRST +
        TS_STRATEGY_DEFECTOR] = {"payoff_defector", "mean payoff per tick of defectors"},
};

int ts_metric_count(ts_mode mode)
{
    return mode == TS_MODE_DONATION_GAME ? TS_M_DONATION_COUNT : TS_M_STANDARD_COUNT;
}

const char *ts_metric_name(int metric)
{
    return metric >= 0 && metric < TS_M_DONATION_COUNT ? metrics[metric].name : NULL;
}

const char *ts_metric_description(int metric)
{
    return metric >= 0 && metric < TS_M_DONATION_COUNT ? metrics[metric].description : NULL;
}

int ts_metric_find(const char *name)
{
    for (int i = 0; i < TS_M_DONATION_COUNT; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return i;
    return -1;
}

const char *ts_act_name(ts_act act)
{
    return act < TS_ACT_COUNT ? act_names[act] : NULL;
}

int ts_act_is_cooperative(ts_act act)
{
    switch (act) {
    case TS_ACT_COORDINATE:
    case TS_ACT_SHARE_INFO:
    case TS_ACT_HELP:
    case TS_ACT_PROMISE:
    case TS_ACT_DELIVER:
    case TS_ACT_FAIL: /* a promise failed in good faith was a cooperative attempt */
        return 1;
    default:
        return 0;
    }
}
