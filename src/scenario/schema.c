/* The scenario schema: the one table of every key a scenario file may hold (type, place in
 * ts_params, default, range, meaning with its docs/model.md section), and what is read straight off
 * it: defaults, scalar parsing and range checks, dotted paths (`--set`, sweeps), the cross-field
 * rules, and the Markdown reference.
 *
 * Not for YAML: reading and writing files is scenario.c, which walks this same table. To add a
 * parameter, add a field to params.h and one row below. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/schema_internal.h"
#include "trustsim/schema.h"

/* The table below is laid out by hand, one row per key, so that it reads as a table;
 * clang-format would fold rows together. */
/* clang-format off */

/* ------------------------------------------------------------------------------------------ */
/* Row builders. A row reads: key name, where it lives, default, range, meaning.               */

#define RANGE(lo, hi, lo_open, hi_open) {(lo), (hi), (lo_open), (hi_open)}
#define ANY RANGE(-INFINITY, INFINITY, false, false)
#define UNIT RANGE(0, 1, false, false)
#define SIGNED_UNIT RANGE(-1, 1, false, false)
#define RATE RANGE(0, 1, false, true) /* [0, 1): a forgetting rate of 1 would erase everything */
#define POSITIVE RANGE(0, INFINITY, true, false)
#define NONNEG RANGE(0, INFINITY, false, false)
#define AT_LEAST(x) RANGE((x), INFINITY, false, false)

#define NUM(key, T, field, d, rng, text)                                                          \
    {.name = (key), .kind = TS_K_DOUBLE, .off = offsetof(T, field), .def = (d), .range = rng,    \
     .doc = (text)}
#define OPT_NUM(key, T, field, rng, text)                                                         \
    {.name = (key), .kind = TS_K_DOUBLE, .flags = TS_F_UNSET, .off = offsetof(T, field),          \
     .def = NAN, .def_text = "unset", .range = rng, .doc = (text)}
#define REQ_NUM(key, T, field, rng, text)                                                         \
    {.name = (key), .kind = TS_K_DOUBLE, .flags = TS_F_REQUIRED, .off = offsetof(T, field),       \
     .def = NAN, .range = rng, .doc = (text)}
#define INT(key, T, field, d, rng, text)                                                          \
    {.name = (key), .kind = TS_K_INT, .off = offsetof(T, field), .def = (d), .range = rng,       \
     .doc = (text)}
#define BOOL(key, T, field, d, text)                                                              \
    {.name = (key), .kind = TS_K_BOOL, .off = offsetof(T, field), .def = (d), .doc = (text)}
#define ENUM(key, T, field, d, names_, text)                                                      \
    {.name = (key), .kind = TS_K_ENUM, .off = offsetof(T, field), .def = (d), .names = (names_), \
     .n_names = (int)(sizeof(names_) / sizeof(names_)[0]), .doc = (text)}
#define OPT_ENUM(key, T, field, names_, text)                                                     \
    {.name = (key), .kind = TS_K_ENUM, .flags = TS_F_UNSET, .off = offsetof(T, field),            \
     .def = -1, .def_text = "unset", .names = (names_),                                          \
     .n_names = (int)(sizeof(names_) / sizeof(names_)[0]), .doc = (text)}
#define NAME(key, T, field, flags_, text)                                                         \
    {.name = (key), .kind = TS_K_NAME, .flags = (flags_), .off = offsetof(T, field),              \
     .len = (int)sizeof(((T *)0)->field), .doc = (text)}
#define DOUBLES(key, T, field, defaults, rng, text)                                               \
    {.name = (key), .kind = TS_K_DOUBLES, .off = offsetof(T, field), .defs = (defaults),         \
     .len = (int)(sizeof(((T *)0)->field) / sizeof(double)), .range = rng, .doc = (text)}
#define REF(key, T, field, target_, dtext, text)                                                  \
    {.name = (key), .kind = TS_K_REF, .flags = TS_F_UNSET, .off = offsetof(T, field), .def = -1, \
     .def_text = (dtext), .target = (target_), .doc = (text)}
#define MAP(key, offset, keys_, text)                                                             \
    {.name = (key), .kind = TS_K_MAP, .off = (offset), .keys = (keys_), .doc = (text)}
#define MAP_CHECK(key, offset, keys_, check_, text)                                               \
    {.name = (key), .kind = TS_K_MAP, .off = (offset), .keys = (keys_), .check = (check_),        \
     .doc = (text)}
#define END {.name = NULL}

/* clang-format on */

/* ------------------------------------------------------------------------------------------ */
/* Cross-field rules, element set-up and output predicates used by the rows below.             */

static bool fail_check(ts_check_result *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_check(ts_check_result *r, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->key = key;
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
    return false;
}

/* The engine normalises the pillar weights, which needs a positive sum. */
static bool check_weights(const void *base, const ts_params *p, ts_check_result *r)
{
    (void)base;
    double sum = 0;
    for (int i = 0; i < TS_PILLARS; i++)
        sum += p->beliefs.weights[i];
    char s[32];
    ts_schema_format_double(sum, s, sizeof s);
    return sum > 0 || fail_check(r, NULL, "must have a sum > 0, got %s", s);
}

/* A donation game needs a donor and a recipient; its players are counted in an int. */
static bool check_strategies(const void *base, const ts_params *p, ts_check_result *r)
{
    (void)base;
    long long total = 0;
    for (int i = 0; i < TS_STRATEGY_COUNT; i++)
        total += p->donation_game.strategies[i];
    if (total > INT_MAX)
        return fail_check(r, NULL, "must total at most %d, got %lld", INT_MAX, total);
    if (p->mode != TS_MODE_DONATION_GAME || total >= 2)
        return true;
    return fail_check(r, NULL, "must total at least 2 in mode donation_game, got %lld", total);
}

static bool check_pair(const void *base, const ts_params *p, ts_check_result *r)
{
    (void)p;
    const ts_pair_spec *ps = base;
    if (!ps->symmetric && ps->from < 0)
        return fail_check(r, ps->to < 0 ? "between" : "from", "required key missing");
    if (!ps->symmetric && ps->to < 0)
        return fail_check(r, "to", "required key missing");
    if (ps->from == ps->to)
        return fail_check(r, ps->symmetric ? "between" : "to",
                          "an organisation cannot be paired with itself");
    return true;
}

static void event_init(void *elem)
{
    ts_event *e = elem;
    e->until = -1;
    e->collab = -1;
    e->formalisation = e->enforcement = e->rate = e->faith = NAN;
    e->competition = e->probability = e->proximity = NAN;
    e->traits = (ts_traits){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, -1};
}

static bool check_event(const void *base, const ts_params *p, ts_check_result *r)
{
    const ts_event *e = base;
    if (e->until >= 0 && e->until < e->at)
        return fail_check(r, "until", "must be >= at (%d), got %d", e->at, e->until);
    if (e->type == TS_EVENT_NEW_LEADER && e->n_orgs == 1) {
        const ts_org_spec *o = &p->orgs[e->orgs[0]];
        if (e->leader >= o->leaders)
            return fail_check(r, "leader",
                              "must be < %d (organisation '%s' has %d leaders), got %d", o->leaders,
                              o->id, o->leaders, e->leader);
    }
    return true;
}

static bool pair_symmetric(const void *base)
{
    return ((const ts_pair_spec *)base)->symmetric;
}

static bool pair_directed(const void *base)
{
    return !((const ts_pair_spec *)base)->symmetric;
}

static bool sweep_active(const void *base)
{
    return ((const ts_params *)base)->sweep.design != TS_DESIGN_NONE;
}

static bool sweep_n_given(const void *base)
{
    return ((const ts_params *)base)->sweep.n > 0;
}

static bool sweep_param_n_given(const void *base)
{
    return ((const ts_sweep_param *)base)->n > 0;
}

static bool check_sweep(const void *base, const ts_params *p, ts_check_result *r)
{
    (void)base;
    ts_design d = p->sweep.design;
    bool sampled = d == TS_DESIGN_LHS || d == TS_DESIGN_SOBOL || d == TS_DESIGN_SALTELLI;
    if (sampled && p->sweep.n <= 0)
        return fail_check(r, "n", "required key missing");
    if (!sampled && d != TS_DESIGN_NONE && p->sweep.n > 0)
        return fail_check(r, "n", "is used only by designs lhs, sobol and saltelli");
    if (d != TS_DESIGN_NONE && p->sweep.n_params == 0) /* a design set with --set alone */
        return fail_check(r, "parameters", "required key missing");
    return true;
}

static bool check_in_range(const ts_schema_leaf *leaf, const char *key, double v,
                           ts_check_result *r)
{
    static const ts_range bool_range = UNIT;
    const ts_range *rg = leaf->key->kind == TS_K_BOOL ? &bool_range : &leaf->key->range;
    r->key = key;
    if (!ts_schema_check_range(rg, v, r->reason, sizeof r->reason))
        return false;
    if (leaf->key->kind != TS_K_DOUBLE && !leaf->element && v != floor(v)) {
        char s[32];
        ts_schema_format_double(v, s, sizeof s);
        return fail_check(r, key, "expected an integer, got '%s'", s);
    }
    return true;
}

/* Which of values / min / max / n a design needs, and that every value fits the parameter. */
static bool check_sweep_shape(const ts_sweep_param *sp, const ts_params *p, ts_check_result *r)
{
    ts_design d = p->sweep.design;
    bool values = sp->n_values > 0, lo = !isnan(sp->min), hi = !isnan(sp->max), n = sp->n > 0;
    const char *dname = ts_design_names[d];
    if (d == TS_DESIGN_GRID && values && (lo || hi || n))
        return fail_check(r, lo ? "min" : hi ? "max" : "n", "cannot be combined with 'values'");
    if (d == TS_DESIGN_LIST && (lo || hi || n))
        return fail_check(r, lo ? "min" : hi ? "max" : "n", "is not used by design list");
    if (d == TS_DESIGN_LIST && !values)
        return fail_check(r, "values", "required key missing");
    if (d == TS_DESIGN_LIST && sp->n_values != p->sweep.params[0].n_values)
        return fail_check(r, "values", "expected %d values, got %d", p->sweep.params[0].n_values,
                          sp->n_values);
    if (d != TS_DESIGN_GRID && d != TS_DESIGN_LIST && (values || n))
        return fail_check(r, values ? "values" : "n", "is not used by design %s", dname);
    if (!values && !lo)
        return fail_check(r, "min", "required key missing");
    if (!values && !hi)
        return fail_check(r, "max", "required key missing");
    if (d == TS_DESIGN_GRID && !values && !n)
        return fail_check(r, "n", "required key missing");
    if (!values && !(sp->max > sp->min || (d == TS_DESIGN_GRID && sp->max == sp->min))) {
        char a[32], b[32];
        ts_schema_format_double(sp->min, a, sizeof a);
        ts_schema_format_double(sp->max, b, sizeof b);
        return fail_check(r, "max", "must be > min (%s), got %s", a, b);
    }
    return true;
}

static bool check_sweep_param(const void *base, const ts_params *p, ts_check_result *r)
{
    const ts_sweep_param *sp = base;
    ts_schema_leaf leaf;
    r->key = NULL;
    if (strncmp(sp->path, "sweep.", 6) == 0 || strcmp(sp->path, "sweep") == 0)
        return fail_check(r, NULL, "a sweep cannot vary its own settings");
    if (!ts_schema_lookup(p, sp->path, &leaf, r->reason, sizeof r->reason))
        return false;
    ts_kind kind = leaf.element ? TS_K_DOUBLE : leaf.key->kind;
    if (kind != TS_K_DOUBLE && kind != TS_K_INT && kind != TS_K_BOOL)
        return fail_check(r, NULL, "not a numeric parameter");
    if (!check_sweep_shape(sp, p, r))
        return false;
    for (int i = 0; i < sp->n_values; i++)
        if (!check_in_range(&leaf, "values", sp->values[i], r))
            return false;
    return (isnan(sp->min) || check_in_range(&leaf, "min", sp->min, r)) &&
           (isnan(sp->max) || check_in_range(&leaf, "max", sp->max, r));
}

/* clang-format off */

/* ------------------------------------------------------------------------------------------ */
/* Leader traits (docs/model.md 7.1): one list, four tables. name, default mean, range, meaning. */
/* (The ranges are passed as names and expanded late, so their commas survive the X-macro.)   */

#define R_UNIT() UNIT
#define R_NONNEG() NONNEG
#define R_POSITIVE() POSITIVE

/* Traits a leader carries (a programme can shift them); TS_TRAITS adds the distribution's
 * concentration, which only trait means have. */
#define TS_LEADER_TRAITS(X)                                                                       \
    X(ability, 0.7, R_UNIT, "competence to deliver what is promised")                            \
    X(benevolence, 0.6, R_UNIT, "concern for partners' interests")                               \
    X(integrity, 0.7, R_UNIT, "honesty: resistance to deceiving and breaking promises")          \
    X(predictability, 0.8, R_UNIT, "probability an act follows the decision rule, not noise")    \
    X(propensity, 0.5, R_UNIT, "propensity to trust strangers")                                  \
    X(orientation, 0.5, R_UNIT, "0 pacesetter (task-focused) to 1 collaborative (relational)")   \
    X(capacity, 1.0, R_NONNEG, "meetings per tick across the boundary (used as given)")
#define TS_TRAITS(X)                                                                              \
    TS_LEADER_TRAITS(X)                                                                           \
    X(concentration, 20, R_POSITIVE, "concentration a+b of the Beta distributions of traits")

#define TRAIT_DEFAULT(f, d, rng, text) NUM(#f, ts_traits, f, d, rng(), text " (model.md 7.1)"),
#define TRAIT_OVERRIDE(f, d, rng, text)                                                           \
    OPT_NUM(#f, ts_traits, f, rng(), "overrides leader_defaults." #f ": " text " (model.md 7.1)"),
#define TRAIT_DELTA(f, d, rng, text)                                                              \
    OPT_NUM(#f, ts_event, traits.f, SIGNED_UNIT,                                                 \
            "added to the " #f " of the organisations' current leaders, clamped to its range "  \
            "(model.md 7.1)"),

static const ts_key leader_default_keys[] = {
    TS_TRAITS(TRAIT_DEFAULT)
    ENUM("strategy", ts_traits, strategy, TS_STRATEGY_TRUST, ts_strategy_names,
         "decision rule: trust (model.md 7.9) or a donation-game strategy (model.md 7.19)"),
    END};

static const ts_key trait_override_keys[] = {
    TS_TRAITS(TRAIT_OVERRIDE)
    OPT_ENUM("strategy", ts_traits, strategy, ts_strategy_names,
             "overrides leader_defaults.strategy (model.md 7.9, 7.19)"),
    END};

static const ts_list_spec archetype_list = {
    .keys = trait_override_keys,
    .size = sizeof(ts_archetype),
    .keys_off = offsetof(ts_archetype, traits),
    .has_id = true,
    .id_off = offsetof(ts_archetype, id),
    .id_cap = TS_NAME_MAX,
    .element = "<name>",
    .noun = "archetype",
};

/* ------------------------------------------------------------------------------------------ */
/* Organisations (docs/model.md 2.2).                                                            */

static const double culture_defaults[3] = {0.5, 0.5, 0.5};

static const ts_key org_keys[] = {
    NAME("id", ts_org_spec, id, TS_F_REQUIRED | TS_F_ID,
         "unique name, used in paths, references and outputs"),
    NAME("kind", ts_org_spec, kind, TS_F_REQUIRED,
         "label: acute_trust, gp_federation, council, ccg, community_trust, ... (model.md 2.2)"),
    NUM("size", ts_org_spec, size, 1, POSITIVE, "relative size and power (model.md 2.2)"),
    INT("leaders", ts_org_spec, leaders, 3, AT_LEAST(1),
        "number of boundary-spanning leaders (model.md 2.2)"),
    REF("archetype", ts_org_spec, archetype, TS_TARGET_ARCHETYPE, "none",
        "archetype the leaders' trait means start from (model.md 7.1)"),
    DOUBLES("culture", ts_org_spec, culture, culture_defaults, UNIT,
            "position on the culture axes pace, hierarchy, risk appetite (model.md 2.2)"),
    NUM("internal_trust", ts_org_spec, internal_trust, 0.7, UNIT,
        "probability the organisation carries out what its leaders commit to (model.md 2.2)"),
    NUM("reputation", ts_org_spec, reputation, 0.5, UNIT,
        "the prior others hold of it from history (model.md 2.2)"),
    MAP("traits", offsetof(ts_org_spec, traits), trait_override_keys,
        "trait overrides, applied after the archetype (model.md 7.1)"),
    END};

static const ts_list_spec org_list = {
    .keys = org_keys,
    .size = sizeof(ts_org_spec),
    .has_id = true,
    .target = TS_TARGET_ORG,
    .id_off = offsetof(ts_org_spec, id),
    .id_cap = TS_NAME_MAX,
    .min_count = 1,
    .element = "<id>",
    .noun = "organisation",
};

/* ------------------------------------------------------------------------------------------ */
/* Collaborations (docs/model.md 2.7, 7.4, 7.12, 7.16).                                          */

static const ts_key agreement_keys[] = {
    NUM("formalisation", ts_collab_spec, formalisation, 0.0, UNIT,
        "how much is written into an enforceable agreement; 0 = none (model.md 2.7)"),
    NUM("enforcement", ts_collab_spec, enforcement, 0.5, UNIT,
        "probability a breach is penalised (model.md 2.7)"),
    NUM("attribution", ts_collab_spec, attribution, 0.7, UNIT,
        "share of cooperation read as obligation under a full agreement (model.md 7.14)"),
    END};

static const ts_key target_keys[] = {
    NUM("final", ts_collab_spec, target_final, 1.0, POSITIVE,
        "progress expected at full ramp, relative to v_ref (model.md 7.16)"),
    NUM("quick_win_floor", ts_collab_spec, quick_win_floor, 1.0, UNIT,
        "share of the final target expected at tick 0; 1 = no ramp (model.md 7.16)"),
    NUM("ramp", ts_collab_spec, ramp, 52, POSITIVE,
        "ticks over which the target rises to final (model.md 7.16)"),
    END};

static const ts_key collab_keys[] = {
    NAME("id", ts_collab_spec, id, TS_F_REQUIRED | TS_F_ID, "unique name, used in paths"),
    {.name = "members", .kind = TS_K_REFS, .flags = TS_F_REQUIRED,
     .off = offsetof(ts_collab_spec, members), .off2 = offsetof(ts_collab_spec, n_members),
     .target = TS_TARGET_ORG, .doc = "the organisations in it; only they meet (model.md 2.7)"},
    BOOL("mandated", ts_collab_spec, mandated, 0,
         "imposed rather than voluntary: small members fear domination (model.md 7.16)"),
    NUM("shared_purpose", ts_collab_spec, shared_purpose, 0.5, UNIT,
        "shared purpose sp in the decision rule (model.md 2.7, 7.9)"),
    NUM("info_sharing", ts_collab_spec, info_sharing, 0.0, UNIT,
        "open books: raises observation and share_info (model.md 2.7, 7.12)"),
    MAP("agreement", 0, agreement_keys, "the formal agreement in force from tick 0 (model.md 7.4)"),
    MAP("target", 0, target_keys, "the progress it is expected to deliver (model.md 7.16)"),
    END};

static bool default_collaboration(ts_params *p);

static const ts_list_spec collab_list = {
    .keys = collab_keys,
    .size = sizeof(ts_collab_spec),
    .has_id = true,
    .target = TS_TARGET_COLLAB,
    .id_off = offsetof(ts_collab_spec, id),
    .id_cap = TS_NAME_MAX,
    .min_count = 1,
    .element = "<id>",
    .noun = "collaboration",
    .absent = default_collaboration,
};

/* No collaborations block: one collaboration `all` of every organisation, with defaults. */
static bool default_collaboration(ts_params *p)
{
    ts_collab_spec *c = calloc(1, sizeof *c);
    int *members = calloc((size_t)(p->n_orgs > 0 ? p->n_orgs : 1), sizeof *members);
    if (!c || !members) {
        free(c);
        free(members);
        return false;
    }
    ts_schema_init_element(&collab_list, c, collab_keys);
    strcpy(c->id, "all");
    for (int i = 0; i < p->n_orgs; i++)
        members[i] = i;
    c->members = members;
    c->n_members = p->n_orgs;
    p->collabs = c;
    p->n_collabs = 1;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Relations between organisations (docs/model.md 2.5).                                          */

static const ts_key relation_default_keys[] = {
    NUM("competition", ts_relation, competition, 0.0, UNIT,
        "past and ongoing rivalry k between a pair (model.md 2.5)"),
    NUM("history", ts_relation, history, 0.0, SIGNED_UNIT,
        "history h: -1 antagonistic to 1 warm (model.md 2.5)"),
    NUM("proximity", ts_relation, proximity, 0.5, UNIT,
        "geography, shared sites: raises meetings and observation (model.md 2.5)"),
    END};

static const ts_key pair_keys[] = {
    {.name = "between", .kind = TS_K_REF_PAIR, .off = offsetof(ts_pair_spec, from),
     .off2 = offsetof(ts_pair_spec, to), .off3 = offsetof(ts_pair_spec, symmetric), .def = -1,
     .target = TS_TARGET_ORG, .shown = pair_symmetric,
     .doc = "two organisations: the entry applies in both directions"},
    {.name = "from", .kind = TS_K_REF, .flags = TS_F_UNSET, .off = offsetof(ts_pair_spec, from),
     .def = -1, .target = TS_TARGET_ORG, .excl = "between", .shown = pair_directed,
     .doc = "with `to`: the entry applies in this direction only"},
    {.name = "to", .kind = TS_K_REF, .flags = TS_F_UNSET, .off = offsetof(ts_pair_spec, to),
     .def = -1, .target = TS_TARGET_ORG, .excl = "between", .shown = pair_directed,
     .doc = "with `from`: the organisation the relation points to"},
    OPT_NUM("competition", ts_pair_spec, rel.competition, UNIT,
            "overrides relations.default.competition for this pair (model.md 2.5)"),
    OPT_NUM("history", ts_pair_spec, rel.history, SIGNED_UNIT,
            "overrides relations.default.history for this pair (model.md 2.5)"),
    OPT_NUM("proximity", ts_pair_spec, rel.proximity, UNIT,
            "overrides relations.default.proximity for this pair (model.md 2.5)"),
    END};

static const ts_list_spec pair_list = {
    .keys = pair_keys,
    .size = sizeof(ts_pair_spec),
    .element = "<index>",
    .noun = "pair",
    .check = check_pair,
};

static const ts_key relation_keys[] = {
    MAP("default", offsetof(ts_params, relation_default), relation_default_keys,
        "relation of every ordered pair not listed in pairs (model.md 2.5)"),
    {.name = "pairs", .kind = TS_K_LIST, .off = offsetof(ts_params, pairs),
     .off2 = offsetof(ts_params, n_pairs), .list = &pair_list, .def_text = "none",
     .doc = "`between: [a, b]` or `from: a` + `to: b`; later entries override earlier ones"},
    END};

/* ------------------------------------------------------------------------------------------ */
/* Observation, beliefs, decisions, situations, payoffs (docs/model.md 7.2, 7.12, 7.11).         */

static const ts_key reciprocity_keys[] = {
    ENUM("norm", ts_params, reciprocity.norm, TS_NORM_IMAGE_SCORING, ts_norm_names,
         "assessment norm observers judge acts by (model.md 7.12)"),
    ENUM("observation", ts_params, reciprocity.observation, TS_OBSERVATION_PROXIMITY,
         ts_observation_names, "observation probability: by proximity or flat q0 (model.md 7.12)"),
    NUM("q0", ts_params, reciprocity.q0, 0.2, UNIT, "base observation probability (model.md 7.12)"),
    NUM("attention", ts_params, reciprocity.attention, 20, POSITIVE,
        "number of colleagues whose acts a leader follows (model.md 7.12)"),
    NUM("detect", ts_params, reciprocity.detect, 0.3, UNIT,
        "probability an observer detects a deception (model.md 7.12)"),
    NUM("group_weight", ts_params, reciprocity.group_weight, 0.5, UNIT,
        "weight of observed acts in the organisation's group image (model.md 7.5)"),
    NUM("group_prior_weight", ts_params, reciprocity.group_prior_weight, 0.5, UNIT,
        "weight g of the group image in a newcomer's prior (model.md 7.3)"),
    NUM("group_m0", ts_params, reciprocity.group_m0, 10, POSITIVE,
        "prior strength of a group image (model.md 7.5)"),
    NUM("group_negativity", ts_params, reciprocity.group_negativity, 2, NONNEG,
        "multiplier of negative evidence entering a group image (model.md 7.5)"),
    END};

static const ts_key belief_weight_keys[] = {
    NUM("ability", ts_params, beliefs.weights[TS_ABILITY], 0.25, NONNEG,
        "weight of ability in interpersonal trust (model.md 7.4)"),
    NUM("benevolence", ts_params, beliefs.weights[TS_BENEVOLENCE], 0.25, NONNEG,
        "weight of benevolence in interpersonal trust (model.md 7.4)"),
    NUM("integrity", ts_params, beliefs.weights[TS_INTEGRITY], 0.30, NONNEG,
        "weight of integrity in interpersonal trust (model.md 7.4)"),
    NUM("predictability", ts_params, beliefs.weights[TS_PREDICTABILITY], 0.20, NONNEG,
        "weight of predictability in interpersonal trust (model.md 7.4)"),
    END};

static const ts_key belief_keys[] = {
    NUM("m0", ts_params, beliefs.m0, 2, POSITIVE,
        "prior strength of a leader's belief about a person (model.md 7.2)"),
    NUM("forget", ts_params, beliefs.forget, 0.005, RATE,
        "share of evidence forgotten per tick (model.md 7.2)"),
    NUM("lambda_bad", ts_params, beliefs.lambda_bad, 3, NONNEG,
        "weight of the negative evidence of a broken promise (model.md 7.14)"),
    NUM("lambda_deceive", ts_params, beliefs.lambda_deceive, 5, NONNEG,
        "weight of the negative evidence of a detected deception (model.md 7.14)"),
    MAP_CHECK("weights", 0, belief_weight_keys, check_weights,
              "pillar weights of interpersonal trust; the sum must be > 0 (model.md 7.4)"),
    END};

static const ts_key decision_keys[] = {
    NUM("beta_trust", ts_params, decision.beta_trust, 3, ANY,
        "weight of effective trust in the utility of cooperating (model.md 7.9)"),
    NUM("beta_faith", ts_params, decision.beta_faith, 1, ANY,
        "weight of faith in the utility of cooperating (model.md 7.9)"),
    NUM("beta_benevolence", ts_params, decision.beta_benevolence, 1, ANY,
        "weight of the actor's benevolence in the utility of cooperating (model.md 7.9)"),
    NUM("beta_purpose", ts_params, decision.beta_purpose, 1, ANY,
        "weight of shared purpose in the utility of cooperating (model.md 7.9)"),
    NUM("tau0", ts_params, decision.tau0, 0.5, POSITIVE,
        "base behavioural noise of the logit choice (model.md 7.9)"),
    NUM("penalty", ts_params, decision.penalty, 1, ANY,
        "penalty of a breach under an agreement (model.md 7.9)"),
    NUM("reputation_cost", ts_params, decision.reputation_cost, 1, ANY,
        "reputational cost of an observed defection (model.md 7.9)"),
    NUM("blame", ts_params, decision.blame, 0.3, ANY,
        "added to the utility of defecting under a regulator visit (model.md 7.9)"),
    END};

static const ts_key situation_weight_keys[] = {
    NUM("coordinate", ts_params, situations.w_coordinate, 0.4, NONNEG,
        "weight of routine coordination situations (model.md 7.8)"),
    NUM("share_info", ts_params, situations.w_share_info, 0.25, NONNEG,
        "weight of information-sharing situations (model.md 7.8)"),
    NUM("promise", ts_params, situations.w_promise, 0.25, NONNEG,
        "weight of promise situations (model.md 7.8)"),
    NUM("temptation", ts_params, situations.w_temptation, 0.3, NONNEG,
        "weight of temptations, times the pair's competition (model.md 7.8)"),
    END};

static const ts_key situation_keys[] = {
    NUM("need_base", ts_params, situations.need_base, 0.05, UNIT,
        "probability the recipient is in need (model.md 7.8)"),
    NUM("need_visit", ts_params, situations.need_visit, 0.5, UNIT,
        "probability of need under a regulator visit or a shock (model.md 7.8)"),
    INT("visit_length", ts_params, situations.visit_length, 4, AT_LEAST(1),
        "ticks a regulator visit lasts (model.md 7.8)"),
    MAP("weights", 0, situation_weight_keys, "weights of the situations a meeting presents"),
    END};

static const ts_key payoff_keys[] = {
    NUM("help_benefit", ts_params, payoffs.help_benefit, 1.0, NONNEG,
        "value b of help to its recipient (model.md 7.11)"),
    NUM("help_cost", ts_params, payoffs.help_cost, 0.3, NONNEG,
        "cost c of help to the helper (model.md 7.11)"),
    NUM("deceive_gain", ts_params, payoffs.deceive_gain, 0.5, NONNEG,
        "gain g_d of a deception (model.md 7.11)"),
    NUM("compete_gain", ts_params, payoffs.compete_gain, 0.5, NONNEG,
        "gain g_c of competing, times the pair's competition (model.md 7.11)"),
    END};

static const ts_key promise_keys[] = {
    INT("delay", ts_params, promises.delay, 4, AT_LEAST(1),
        "ticks until a promise resolves (model.md 7.10)"),
    END};

/* ------------------------------------------------------------------------------------------ */
/* Faith and stages (docs/model.md 7.16, 7.17).                                                  */

static const ts_key faith_keys[] = {
    NUM("initial", ts_params, faith.initial, 0.6, UNIT, "initial faith F0 (model.md 7.16)"),
    NUM("forget", ts_params, faith.forget, 0.02, RATE,
        "share of faith evidence forgotten per tick (model.md 7.16)"),
    NUM("m0", ts_params, faith.m0, 10, POSITIVE, "prior strength m_F of faith (model.md 7.16)"),
    NUM("v_ref", ts_params, faith.v_ref, 0.15, POSITIVE,
        "value per leader per tick that counts as full progress (model.md 7.16)"),
    NUM("eta_shared", ts_params, faith.eta_shared, 0.2, NONNEG,
        "faith gained per observed delivery per leader (model.md 7.16)"),
    NUM("eta_complexity", ts_params, faith.eta_complexity, 0.05, NONNEG,
        "faith lost per tick per unit of task complexity (model.md 7.16)"),
    NUM("shock_weight", ts_params, faith.shock_weight, 20, NONNEG,
        "negative faith evidence per unit of shock (model.md 7.16)"),
    NUM("threat", ts_params, faith.threat, 0.3, UNIT,
        "initial faith lost by the smallest member of a mandated collaboration (model.md 7.16)"),
    NUM("exit_faith", ts_params, faith.exit_faith, 0.15, UNIT,
        "faith below which an organisation starts to leave (model.md 7.16)"),
    INT("exit_ticks", ts_params, faith.exit_ticks, 26, AT_LEAST(1),
        "ticks below exit_faith after which an organisation leaves (model.md 7.16)"),
    END};

static const double theta_up_defaults[2] = {0.55, 0.70};
static const double chi_up_defaults[2] = {0.60, 0.75};
static const double theta_down_defaults[3] = {0.25, 0.40, 0.55};

static const ts_key stage_keys[] = {
    NUM("theta_1", ts_params, stages.theta_1, 0.45, UNIT,
        "trust that moves a pair from stage 0 to 1 (model.md 7.17)"),
    DOUBLES("theta_up", ts_params, stages.theta_up, theta_up_defaults, UNIT,
            "trust held over the window to move from stage 1 to 2 and 2 to 3 (model.md 7.17)"),
    DOUBLES("chi_up", ts_params, stages.chi_up, chi_up_defaults, UNIT,
            "cooperation extent needed to move from stage 1 to 2 and 2 to 3 (model.md 7.17)"),
    DOUBLES("theta_down", ts_params, stages.theta_down, theta_down_defaults, UNIT,
            "trust below which a pair falls from stage 1, 2, 3 (model.md 7.17)"),
    INT("window", ts_params, stages.window, 12, AT_LEAST(1),
        "ticks over which stage progress is judged (model.md 7.17, 7.20)"),
    END};

/* ------------------------------------------------------------------------------------------ */
/* Events: a timeline. The keys an event takes depend on its type.                             */

#define EV_AT_REQUIRED                                                                            \
    {.name = "at", .kind = TS_K_INT, .flags = TS_F_REQUIRED, .off = offsetof(ts_event, at),      \
     .range = AT_LEAST(0), .doc = "tick it happens"}
#define EV_AT_FROM INT("at", ts_event, at, 0, AT_LEAST(0), "first tick it applies")
#define EV_UNTIL                                                                                  \
    {.name = "until", .kind = TS_K_INT, .flags = TS_F_UNSET, .off = offsetof(ts_event, until),   \
     .def = -1, .def_text = "the horizon", .range = AT_LEAST(0), .doc = "last tick it applies"}
#define EV_RATE(text) REQ_NUM("rate", ts_event, rate, UNIT, text)
#define EV_COLLAB                                                                                 \
    REF("collaboration", ts_event, collab, TS_TARGET_COLLAB, "all", "the collaboration concerned")
/* `organisations: [a, b]`, or `organisation: a` for one; absent means all organisations. */
#define EV_ORGS                                                                                   \
    {.name = "organisations", .kind = TS_K_REFS, .off = offsetof(ts_event, orgs),                \
     .off2 = offsetof(ts_event, n_orgs), .target = TS_TARGET_ORG, .def_text = "all",             \
     .excl = "organisation", .doc = "the organisations concerned"},                              \
    {.name = "organisation", .kind = TS_K_REF_ONE, .flags = TS_F_ALIAS,                           \
     .off = offsetof(ts_event, orgs), .off2 = offsetof(ts_event, n_orgs),                        \
     .target = TS_TARGET_ORG, .excl = "organisations",                                           \
     .doc = "one organisation: the same as `organisations: [id]`"}

static const ts_key agreement_event_keys[] = {
    EV_AT_REQUIRED,
    EV_COLLAB,
    REQ_NUM("formalisation", ts_event, formalisation, UNIT,
            "formalisation of the agreement signed (model.md 2.7)"),
    NUM("enforcement", ts_event, enforcement, 0.5, UNIT,
        "probability a breach is penalised (model.md 2.7)"),
    END};

static const ts_key regulator_visit_keys[] = {EV_AT_REQUIRED, EV_ORGS, END};

static const ts_key regulator_visits_keys[] = {
    EV_RATE("probability of a visit per organisation per tick (model.md 7.8)"),
    EV_AT_FROM,
    EV_UNTIL,
    EV_ORGS,
    END};

static const ts_key shock_keys[] = {
    EV_AT_REQUIRED,
    NUM("faith", ts_event, faith, 0.2, UNIT,
        "magnitude: negative faith evidence is shock_weight times this (model.md 7.16)"),
    NUM("competition", ts_event, competition, 0.0, UNIT,
        "added to the competition of the pairs touched (model.md 2.5)"),
    EV_ORGS,
    END};

static const ts_key leadership_programme_keys[] = {
    EV_AT_REQUIRED,
    EV_ORGS,
    TS_LEADER_TRAITS(TRAIT_DELTA) END};

static const ts_key conflict_resolution_keys[] = {
    EV_AT_FROM,
    EV_COLLAB,
    NUM("probability", ts_event, probability, 0.5, UNIT,
        "probability negative evidence is halved after a conflict (model.md 7.15)"),
    INT("delay", ts_event, delay, 4, AT_LEAST(1),
        "ticks until a conflict is resolved (model.md 7.15)"),
    END};

static const ts_key shared_hub_keys[] = {
    EV_AT_REQUIRED,
    EV_ORGS,
    NUM("proximity", ts_event, proximity, 0.3, UNIT,
        "added to the proximity among the organisations (model.md 2.5)"),
    END};

static const ts_key new_leader_keys[] = {
    EV_AT_REQUIRED,
    {.name = "organisation", .kind = TS_K_REF_ONE, .flags = TS_F_REQUIRED,
     .off = offsetof(ts_event, orgs), .off2 = offsetof(ts_event, n_orgs), .target = TS_TARGET_ORG,
     .doc = "the organisation whose leader is replaced"},
    INT("leader", ts_event, leader, 0, AT_LEAST(0),
        "which leader slot, below the organisation's leaders"),
    MAP("traits", offsetof(ts_event, traits), trait_override_keys,
        "trait means of the newcomer, over the organisation's (model.md 7.1)"),
    END};

static const ts_key turnover_keys[] = {
    EV_RATE("probability a leader is replaced per tick (model.md 7.18)"),
    EV_AT_FROM,
    EV_UNTIL,
    EV_ORGS,
    END};

static const ts_key *const event_variants[TS_EVENT_COUNT] = {
    [TS_EVENT_AGREEMENT] = agreement_event_keys,
    [TS_EVENT_REGULATOR_VISIT] = regulator_visit_keys,
    [TS_EVENT_REGULATOR_VISITS] = regulator_visits_keys,
    [TS_EVENT_SHOCK] = shock_keys,
    [TS_EVENT_LEADERSHIP_PROGRAMME] = leadership_programme_keys,
    [TS_EVENT_CONFLICT_RESOLUTION] = conflict_resolution_keys,
    [TS_EVENT_SHARED_HUB] = shared_hub_keys,
    [TS_EVENT_NEW_LEADER] = new_leader_keys,
    [TS_EVENT_TURNOVER] = turnover_keys,
};

static const char *const event_docs[TS_EVENT_COUNT] = {
    [TS_EVENT_AGREEMENT] = "A collaboration signs an agreement (model.md 7.4).",
    [TS_EVENT_REGULATOR_VISIT] = "A scheduled regulator visit (model.md 7.8).",
    [TS_EVENT_REGULATOR_VISITS] = "Random regulator visits (model.md 7.8).",
    [TS_EVENT_SHOCK] = ("A funding cut, reorganisation or third party pulling the rug "
                        "(model.md 7.16)."),
    [TS_EVENT_LEADERSHIP_PROGRAMME] = "Training that shifts the traits of the leaders in post.",
    [TS_EVENT_CONFLICT_RESOLUTION] = "A conflict resolution body (model.md 7.15).",
    [TS_EVENT_SHARED_HUB] = "Shared sites that bring organisations closer (model.md 2.5).",
    [TS_EVENT_NEW_LEADER] = "One leader is replaced by a newcomer (model.md 7.18).",
    [TS_EVENT_TURNOVER] = "Random replacement of leaders (model.md 7.18).",
};

static const ts_list_spec event_list = {
    .size = sizeof(ts_event),
    .element = "<index>",
    .noun = "event",
    .init = event_init,
    .check = check_event,
    .variant_key = "type",
    .variant_off = offsetof(ts_event, type),
    .variants = event_variants,
    .variant_names = ts_event_type_names,
    .variant_docs = event_docs,
    .n_variants = TS_EVENT_COUNT,
};

/* ------------------------------------------------------------------------------------------ */
/* The donation game (docs/model.md 7.19) and sweeps.                                            */

static const ts_key strategy_count_keys[] = {
    {.name = "trust", .kind = TS_K_INT,
     .off = offsetof(ts_params, donation_game.strategies[TS_STRATEGY_TRUST]), .def = 0,
     .range = AT_LEAST(0), .doc = "number of leaders using the full decision rule"},
    {.name = "discriminator", .kind = TS_K_INT,
     .off = offsetof(ts_params, donation_game.strategies[TS_STRATEGY_DISCRIMINATOR]), .def = 45,
     .range = AT_LEAST(0), .doc = "number of discriminators: help unless the recipient is bad"},
    {.name = "cooperator", .kind = TS_K_INT,
     .off = offsetof(ts_params, donation_game.strategies[TS_STRATEGY_COOPERATOR]), .def = 0,
     .range = AT_LEAST(0), .doc = "number of unconditional cooperators"},
    {.name = "defector", .kind = TS_K_INT,
     .off = offsetof(ts_params, donation_game.strategies[TS_STRATEGY_DEFECTOR]), .def = 5,
     .range = AT_LEAST(0), .doc = "number of unconditional defectors"},
    END};

static const ts_key donation_keys[] = {
    NUM("q", ts_params, donation_game.q, 0.5, UNIT, "flat observation probability (model.md 7.19)"),
    NUM("benefit", ts_params, donation_game.benefit, 1.0, NONNEG,
        "benefit b of a donation (model.md 7.19)"),
    NUM("cost", ts_params, donation_game.cost, 0.3, NONNEG, "cost c of a donation (model.md 7.19)"),
    MAP_CHECK("strategies", 0, strategy_count_keys, check_strategies,
              "leaders per strategy; at least 2 in all in mode donation_game (model.md 7.19)"),
    END};

static const ts_key sweep_param_keys[] = {
    {.name = "values", .kind = TS_K_VALUES, .off = offsetof(ts_sweep_param, values),
     .off2 = offsetof(ts_sweep_param, n_values), .range = ANY, .def_text = "none",
     .doc = "grid levels, or (list) one value per point"},
    OPT_NUM("min", ts_sweep_param, min, ANY, "lower end of the range (grid, lhs, sobol, saltelli)"),
    OPT_NUM("max", ts_sweep_param, max, ANY, "upper end of the range (grid, lhs, sobol, saltelli)"),
    {.name = "n", .kind = TS_K_INT, .off = offsetof(ts_sweep_param, n), .range = AT_LEAST(1),
     .def_text = "none", .shown = sweep_param_n_given,
     .doc = "grid: number of evenly spaced levels from min to max"},
    END};

static const ts_list_spec sweep_param_list = {
    .keys = sweep_param_keys,
    .size = sizeof(ts_sweep_param),
    .has_id = true,
    .id_off = offsetof(ts_sweep_param, path),
    .id_cap = (int)sizeof(((ts_sweep_param *)0)->path),
    .id_is_path = true,
    .min_count = 1,
    .element = "<path>",
    .noun = "sweep parameter",
    .check = check_sweep_param,
};

static const ts_key sweep_keys[] = {
    {.name = "design", .kind = TS_K_ENUM, .flags = TS_F_REQUIRED,
     .off = offsetof(ts_params, sweep.design), .def = TS_DESIGN_NONE, .names = ts_design_names + 1,
     .n_names = 5, .first = 1, .doc = "how points are chosen: grid, list or a sampled design"},
    {.name = "n", .kind = TS_K_INT, .off = offsetof(ts_params, sweep.n), .range = AT_LEAST(1),
     .def_text = "none", .shown = sweep_n_given,
     .doc = "base samples: required by lhs, sobol and saltelli, not used otherwise"},
    {.name = "parameters", .kind = TS_K_NAMED, .flags = TS_F_REQUIRED,
     .off = offsetof(ts_params, sweep.params), .off2 = offsetof(ts_params, sweep.n_params),
     .list = &sweep_param_list,
     .doc = "parameter path (as for --set) -> {values} or {min, max, n} (grid) or {min, max}"},
    END};

/* ------------------------------------------------------------------------------------------ */
/* The top level of a scenario file.                                                           */

const ts_key ts_schema_root[] = {
    NAME("name", ts_params, name, TS_F_REQUIRED, "name of the scenario, used in outputs"),
    {.name = "description", .kind = TS_K_TEXT, .off = offsetof(ts_params, description),
     .def_text = "none", .doc = "free text describing the scenario"},
    {.name = "seed", .kind = TS_K_SEED, .off = offsetof(ts_params, seed), .def = 1,
     .range = RANGE(0, 18446744073709551615.0, false, false),
     .doc = "master seed of the random streams; --seed overrides"},
    {.name = "ticks", .kind = TS_K_INT, .flags = TS_F_REQUIRED, .off = offsetof(ts_params, ticks),
     .range = AT_LEAST(1), .doc = "horizon in ticks (model.md 2.9)"},
    ENUM("tick_unit", ts_params, tick_unit, TS_TICK_WEEK, ts_tick_unit_names,
         "what a tick stands for, in labels and plots only (model.md 2.9)"),
    INT("replicates", ts_params, replicates, 1, AT_LEAST(1),
        "Monte Carlo replicates per point"),
    ENUM("mode", ts_params, mode, TS_MODE_STANDARD, ts_mode_names,
         "standard model, or the donation-game reduction (model.md 7.19)"),
    MAP("leader_defaults", offsetof(ts_params, leader_defaults), leader_default_keys,
        "trait means of leaders' Beta distributions (model.md 7.1)"),
    {.name = "archetypes", .kind = TS_K_NAMED, .off = offsetof(ts_params, archetypes),
     .off2 = offsetof(ts_params, n_archetypes), .list = &archetype_list, .def_text = "none",
     .doc = "named overrides of leader_defaults (model.md 7.1)"},
    {.name = "organisations", .kind = TS_K_LIST, .flags = TS_F_REQUIRED,
     .off = offsetof(ts_params, orgs), .off2 = offsetof(ts_params, n_orgs), .list = &org_list,
     .doc = "the organisations, at least one (model.md 2.2)"},
    {.name = "collaborations", .kind = TS_K_LIST, .off = offsetof(ts_params, collabs),
     .off2 = offsetof(ts_params, n_collabs), .list = &collab_list,
     .def_text = "one collaboration `all` of every organisation",
     .doc = "sets of organisations that meet (model.md 2.7)"},
    MAP("relations", 0, relation_keys, "relations between organisations (model.md 2.5)"),
    MAP("reciprocity", 0, reciprocity_keys, "observation and indirect reciprocity (model.md 7.12)"),
    MAP("beliefs", 0, belief_keys, "beliefs and trust (model.md 7.2, 7.3-7.6)"),
    MAP("decision", 0, decision_keys, "the decision rule (model.md 7.9)"),
    MAP("situations", 0, situation_keys, "situations a meeting presents (model.md 7.8)"),
    MAP("payoffs", 0, payoff_keys, "payoffs of acts (model.md 7.11)"),
    MAP("promises", 0, promise_keys, "promises (model.md 7.10)"),
    MAP("faith", 0, faith_keys, "faith in the collaboration (model.md 7.16)"),
    MAP("stages", 0, stage_keys, "Pomponi stages (model.md 7.17)"),
    {.name = "events", .kind = TS_K_LIST, .off = offsetof(ts_params, events),
     .off2 = offsetof(ts_params, n_events), .list = &event_list, .def_text = "none",
     .doc = "the timeline; each event has a `type` and the keys of that type"},
    MAP("donation_game", 0, donation_keys,
        "the donation-game reduction, used in mode donation_game (model.md 7.19)"),
    {.name = "sweep", .kind = TS_K_MAP, .keys = sweep_keys, .check = check_sweep,
     .shown = sweep_active, .def_text = "none: one point",
     .doc = "a parameter sweep: every point runs the replicates"},
    END};

/* clang-format on */

/* ------------------------------------------------------------------------------------------ */
/* Walking rows: raw access, defaults.                                                         */

void *ts_get_ptr(const void *base, size_t off)
{
    void *ptr;
    memcpy(&ptr, ts_field(base, off), sizeof ptr); /* the field is some T *, not a void * */
    return ptr;
}

void ts_set_ptr(void *base, size_t off, void *ptr)
{
    memcpy(ts_field(base, off), &ptr, sizeof ptr);
}

int ts_get_int(const void *base, size_t off)
{
    return *(const int *)ts_field(base, off);
}

const ts_key *ts_schema_find_key(const ts_key *keys, const char *name)
{
    for (const ts_key *k = keys; k && k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

const ts_key *ts_schema_element_keys(const ts_list_spec *ls, const void *elem)
{
    if (!ls->variants)
        return ls->keys;
    int v = ts_get_int(elem, ls->variant_off);
    return v >= 0 && v < ls->n_variants ? ls->variants[v] : NULL;
}

void ts_schema_apply_defaults(const ts_key *keys, void *base)
{
    for (const ts_key *k = keys; k->name; k++) {
        void *f = ts_field(base, k->off);
        switch (k->kind) {
        case TS_K_DOUBLE:
            *(double *)f = k->def;
            break;
        case TS_K_INT:
        case TS_K_ENUM:
        case TS_K_REF:
            *(int *)f = (int)k->def;
            break;
        case TS_K_BOOL:
            *(bool *)f = k->def != 0;
            break;
        case TS_K_SEED:
            *(uint64_t *)f = (uint64_t)k->def;
            break;
        case TS_K_DOUBLES:
            memcpy(f, k->defs, (size_t)k->len * sizeof(double));
            break;
        case TS_K_REF_PAIR:
            *(int *)f = -1;
            *(int *)ts_field(base, k->off2) = -1;
            break;
        case TS_K_MAP:
            ts_schema_apply_defaults(k->keys, f);
            break;
        default: /* names, texts and lists start empty */
            break;
        }
    }
}

void ts_schema_init_element(const ts_list_spec *ls, void *elem, const ts_key *keys)
{
    memset(elem, 0, ls->size);
    if (ls->init)
        ls->init(elem);
    if (keys)
        ts_schema_apply_defaults(keys, ts_field(elem, ls->keys_off));
}

/* ------------------------------------------------------------------------------------------ */
/* Scalars: parsing, ranges, messages.                                                         */

static bool fail_reason(char *reason, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail_reason(char *reason, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, n, fmt, ap);
    va_end(ap);
    return false;
}

static void join_names(const char *const *names, int count, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", names[i]);
}

void ts_schema_expected(const ts_key *k, char *buf, size_t n)
{
    switch (k->kind) {
    case TS_K_DOUBLE:
    case TS_K_DOUBLES: /* the lists' elements: "expected a list" is the loader's own */
    case TS_K_VALUES:
        snprintf(buf, n, "a number");
        break;
    case TS_K_INT:
    case TS_K_SEED:
        snprintf(buf, n, "an integer");
        break;
    case TS_K_BOOL:
        snprintf(buf, n, "true or false");
        break;
    case TS_K_ENUM: {
        char names[256];
        join_names(k->names, k->n_names, names, sizeof names);
        snprintf(buf, n, "one of %s", names);
        break;
    }
    case TS_K_NAME:
    case TS_K_TEXT:
        snprintf(buf, n, "%s", k->flags & TS_F_ID ? "an id" : "a text");
        break;
    case TS_K_REF:
    case TS_K_REF_ONE:
        snprintf(buf, n, "an id");
        break;
    case TS_K_MAP:
    case TS_K_NAMED:
        snprintf(buf, n, "a mapping");
        break;
    default:
        snprintf(buf, n, "a list");
        break;
    }
}

void ts_schema_format_double(double v, char *buf, size_t n)
{
    /* The shortest text that reads back as the same double: exact round trips, short files.
     * Plain decimals where people write them (20, not 2e+01); exponents for the rest. */
    if (v == 0 || (fabs(v) >= 1e-5 && fabs(v) < 1e16)) {
        for (int decimals = 0; decimals <= 21; decimals++) {
            snprintf(buf, n, "%.*f", decimals, v);
            if (strtod(buf, NULL) == v)
                return;
        }
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void ts_schema_format_range(const ts_range *r, char *buf, size_t n)
{
    char lo[32], hi[32];
    ts_schema_format_double(r->min, lo, sizeof lo);
    ts_schema_format_double(r->max, hi, sizeof hi);
    bool has_lo = isfinite(r->min), has_hi = isfinite(r->max);
    if (has_lo && has_hi)
        snprintf(buf, n, "%c%s, %s%c", r->min_open ? '(' : '[', lo, hi, r->max_open ? ')' : ']');
    else if (has_lo)
        snprintf(buf, n, "%s %s", r->min_open ? ">" : ">=", lo);
    else if (has_hi)
        snprintf(buf, n, "%s %s", r->max_open ? "<" : "<=", hi);
    else
        buf[0] = '\0';
}

bool ts_schema_check_range(const ts_range *r, double v, char *reason, size_t n)
{
    bool ok = !isnan(v);
    if (isfinite(r->min))
        ok = ok && (r->min_open ? v > r->min : v >= r->min);
    if (isfinite(r->max))
        ok = ok && (r->max_open ? v < r->max : v <= r->max);
    if (ok)
        return true;
    char range[80], got[32];
    ts_schema_format_range(r, range, sizeof range);
    ts_schema_format_double(v, got, sizeof got);
    bool interval = isfinite(r->min) && isfinite(r->max);
    return fail_reason(reason, n, "must be %s%s, got %s", interval ? "in " : "", range, got);
}

static bool parse_double(const char *text, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(text, &end);
    return *text && *end == '\0' && end != text && isfinite(*v) && errno != ERANGE;
}

static bool parse_long(const char *text, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(text, &end, 10);
    return *text && *end == '\0' && end != text && errno != ERANGE;
}

static bool parse_seed(const char *text, uint64_t *v, char *reason, size_t n)
{
    long long neg;
    if (text[0] == '-' && parse_long(text, &neg))
        return fail_reason(reason, n, "must be >= 0, got %s", text);
    char *end;
    errno = 0;
    unsigned long long u = strtoull(text, &end, 10);
    if (!*text || *end != '\0' || errno == ERANGE || text[0] == '-')
        return fail_reason(reason, n, "expected an integer, got '%s'", text);
    *v = (uint64_t)u;
    return true;
}

bool ts_schema_valid_id(const char *s, int cap, char *reason, size_t n)
{
    size_t len = strlen(s);
    if (len >= (size_t)cap)
        return fail_reason(reason, n, "must be at most %d characters, got %zu", cap - 1, len);
    if (len == 0 || strpbrk(s, ". \t\n=") != NULL)
        return fail_reason(reason, n, "expected an id (no spaces, dots or '='), got '%s'", s);
    return true;
}

static bool parse_name(const ts_key *k, const char *text, char *field, char *reason, size_t n)
{
    size_t len = strlen(text);
    if (k->flags & TS_F_ID) {
        if (!ts_schema_valid_id(text, k->len, reason, n))
            return false;
    } else if (len >= (size_t)k->len) {
        return fail_reason(reason, n, "must be at most %d characters, got %zu", k->len - 1, len);
    }
    memcpy(field, text, len + 1);
    return true;
}

static bool parse_enum(const ts_key *k, const char *text, int *field, char *reason, size_t n)
{
    for (int i = 0; i < k->n_names; i++) {
        if (strcmp(k->names[i], text) == 0) {
            *field = k->first + i;
            return true;
        }
    }
    char expected[300];
    ts_schema_expected(k, expected, sizeof expected);
    return fail_reason(reason, n, "expected %s, got '%s'", expected, text);
}

static bool parse_int(const ts_key *k, const char *text, int *field, char *reason, size_t n)
{
    long long v;
    if (!parse_long(text, &v))
        return fail_reason(reason, n, "expected an integer, got '%s'", text);
    if (!ts_schema_check_range(&k->range, (double)v, reason, n))
        return false;
    if (v < INT_MIN || v > INT_MAX) /* the C field is an int */
        return fail_reason(reason, n, "must be in [%d, %d], got %lld", INT_MIN, INT_MAX, v);
    *field = (int)v;
    return true;
}

bool ts_schema_parse_scalar(const ts_key *k, const char *text, void *field, const ts_params *p,
                            char *reason, size_t n)
{
    switch (k->kind) {
    case TS_K_DOUBLE:
    case TS_K_DOUBLES:
    case TS_K_VALUES: {
        double v;
        if (!parse_double(text, &v))
            return fail_reason(reason, n, "expected a number, got '%s'", text);
        if (!ts_schema_check_range(&k->range, v, reason, n))
            return false;
        *(double *)field = v;
        return true;
    }
    case TS_K_INT:
        return parse_int(k, text, field, reason, n);
    case TS_K_BOOL:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            return fail_reason(reason, n, "expected true or false, got '%s'", text);
        *(bool *)field = text[0] == 't';
        return true;
    case TS_K_SEED:
        return parse_seed(text, field, reason, n);
    case TS_K_NAME:
        return parse_name(k, text, field, reason, n);
    case TS_K_TEXT: {
        char *copy = strdup(text);
        if (!copy)
            return fail_reason(reason, n, "out of memory");
        *(char **)field = copy;
        return true;
    }
    case TS_K_ENUM:
        return parse_enum(k, text, field, reason, n);
    case TS_K_REF: {
        int i = ts_schema_lookup_ref(p, k->target, text);
        if (i < 0)
            return fail_reason(reason, n, "%s '%s' is not defined",
                               ts_schema_target_noun(k->target), text);
        *(int *)field = i;
        return true;
    }
    default:
        return fail_reason(reason, n, "not a scalar parameter");
    }
}

/* ------------------------------------------------------------------------------------------ */
/* References between lists.                                                                   */

static const char *target_id(const ts_params *p, ts_target t, int i)
{
    switch (t) {
    case TS_TARGET_ORG:
        return p->orgs[i].id;
    case TS_TARGET_COLLAB:
        return p->collabs[i].id;
    default:
        return p->archetypes[i].id;
    }
}

static int target_count(const ts_params *p, ts_target t)
{
    return t == TS_TARGET_ORG ? p->n_orgs : t == TS_TARGET_COLLAB ? p->n_collabs : p->n_archetypes;
}

int ts_schema_lookup_ref(const ts_params *p, ts_target t, const char *id)
{
    int n = target_count(p, t);
    for (int i = 0; i < n; i++)
        if (strcmp(target_id(p, t, i), id) == 0)
            return i;
    return -1;
}

const char *ts_schema_ref_id(const ts_params *p, ts_target t, int index)
{
    return index >= 0 && index < target_count(p, t) ? target_id(p, t, index) : "?";
}

const char *ts_schema_target_noun(ts_target t)
{
    return t == TS_TARGET_ORG      ? "organisation"
           : t == TS_TARGET_COLLAB ? "collaboration"
                                   : "archetype";
}

/* ------------------------------------------------------------------------------------------ */
/* Dotted paths: organisations.<id>.size, events.<index>.at, stages.theta_up.<index>.          */

static bool parse_index(const char *s, int count, int *i)
{
    long long v;
    if (!(s[0] >= '0' && s[0] <= '9') || !parse_long(s, &v) || v >= count)
        return false;
    *i = (int)v;
    return true;
}

/* The element of list row k at base that `sel` names (its id, or its index). */
static const void *select_element(const ts_key *k, const void *base, const char *sel, char *reason,
                                  size_t n)
{
    const ts_list_spec *ls = k->list;
    const char *arr = ts_get_ptr(base, k->off);
    int count = ts_get_int(base, k->off2), i;
    if (ls->has_id) {
        for (i = 0; i < count; i++)
            if (strcmp(arr + (size_t)i * ls->size + ls->id_off, sel) == 0)
                return arr + (size_t)i * ls->size;
        fail_reason(reason, n, "%s '%s' is not defined", ls->noun, sel);
        return NULL;
    }
    if (parse_index(sel, count, &i))
        return arr + (size_t)i * ls->size;
    fail_reason(reason, n, "%s %s is not defined (%d in all)", ls->noun, sel, count);
    return NULL;
}

static char *split(char *seg)
{
    char *dot = seg ? strchr(seg, '.') : NULL;
    if (dot)
        *dot = '\0';
    return dot ? dot + 1 : NULL;
}

static bool leaf_of(const ts_key *k, const void *base, const char *next, ts_schema_leaf *leaf,
                    char *reason, size_t n)
{
    int i;
    if (k->kind == TS_K_DOUBLES) {
        if (!next)
            return fail_reason(reason, n, "not a scalar parameter");
        if (strchr(next, '.') || !parse_index(next, k->len, &i))
            return fail_reason(reason, n, "expected an index below %d, got '%s'", k->len, next);
        *leaf = (ts_schema_leaf){k, (double *)ts_field(base, k->off) + i, true};
        return true;
    }
    if (k->kind > TS_K_REF || k->kind == TS_K_VALUES)
        return fail_reason(reason, n, "not a scalar parameter");
    if (next)
        return fail_reason(reason, n, "unknown key");
    if (k->flags & TS_F_ID)
        return fail_reason(reason, n, "an id cannot be changed");
    *leaf = (ts_schema_leaf){k, ts_field(base, k->off), false};
    return true;
}

bool ts_schema_lookup(const ts_params *p, const char *path, ts_schema_leaf *leaf, char *reason,
                      size_t n)
{
    char buf[TS_PATH_MAX];
    if (strlen(path) >= sizeof buf)
        return fail_reason(reason, n, "unknown key");
    strcpy(buf, path);
    const ts_key *keys = ts_schema_root;
    const ts_list_spec *in = NULL; /* the list whose element we are in */
    const void *base = p;
    for (char *seg = buf, *next; seg; seg = next) {
        next = split(seg);
        const ts_key *k = ts_schema_find_key(keys, seg);
        if (!k && in && in->variant_key && strcmp(seg, in->variant_key) == 0)
            return fail_reason(reason, n, "the %s of an %s cannot be changed", seg, in->noun);
        if (!k)
            return fail_reason(reason, n, "unknown key");
        if (k->kind == TS_K_MAP) {
            if (!next)
                return fail_reason(reason, n, "not a scalar parameter");
            keys = k->keys;
            base = ts_field(base, k->off);
            continue;
        }
        if (k->kind != TS_K_LIST && k->kind != TS_K_NAMED)
            return leaf_of(k, base, next, leaf, reason, n);
        if (!next || k->list->id_is_path)
            return fail_reason(reason, n, "not a scalar parameter");
        char *after = split(next);
        const void *elem = select_element(k, base, next, reason, n);
        if (!elem)
            return false;
        if (!after)
            return fail_reason(reason, n, "not a scalar parameter");
        in = k->list;
        keys = ts_schema_element_keys(in, elem);
        base = ts_field(elem, in->keys_off);
        next = after;
    }
    return fail_reason(reason, n, "unknown key");
}

/* ------------------------------------------------------------------------------------------ */
/* The public scalar references of schema.h (sweeps).                                          */

ts_status ts_schema_resolve(ts_params *p, const char *path, ts_param_ref *ref, ts_error *err)
{
    ts_schema_leaf leaf;
    char reason[TS_REASON_MAX];
    if (!ts_schema_lookup(p, path, &leaf, reason, sizeof reason))
        return ts_error_set(err, TS_EINPUT, "key '%s': %s", path, reason);
    ts_kind kind = leaf.element ? TS_K_DOUBLE : leaf.key->kind;
    memset(ref, 0, sizeof *ref);
    ref->ptr = leaf.field;
    ref->min = leaf.key->range.min;
    ref->max = leaf.key->range.max;
    ref->min_open = leaf.key->range.min_open;
    ref->max_open = leaf.key->range.max_open;
    snprintf(ref->path, sizeof ref->path, "%s", path);
    switch (kind) {
    case TS_K_DOUBLE:
        ref->type = TS_VALUE_DOUBLE;
        return TS_OK;
    case TS_K_INT:
        ref->type = TS_VALUE_INT;
        return TS_OK;
    case TS_K_BOOL:
        ref->type = TS_VALUE_BOOL;
        ref->min = 0;
        ref->max = 1;
        return TS_OK;
    default:
        return ts_error_set(err, TS_EINPUT, "key '%s': not a numeric parameter", path);
    }
}

static ts_status ref_error(const ts_param_ref *ref, ts_error *err, const char *reason)
{
    if (ref->path[0])
        return ts_error_set(err, TS_EINPUT, "key '%s': %s", ref->path, reason);
    return ts_error_set(err, TS_EINPUT, "%s", reason);
}

ts_status ts_param_ref_set(const ts_param_ref *ref, double v, ts_error *err)
{
    ts_range r = {ref->min, ref->max, ref->min_open, ref->max_open};
    char reason[TS_REASON_MAX], got[32];
    ts_schema_format_double(v, got, sizeof got);
    if (!isfinite(v))
        return ref_error(ref, err, "expected a number");
    if (ref->type != TS_VALUE_DOUBLE && v != floor(v)) {
        snprintf(reason, sizeof reason, "expected %s, got %s",
                 ref->type == TS_VALUE_BOOL ? "0 or 1" : "an integer", got);
        return ref_error(ref, err, reason);
    }
    if (!ts_schema_check_range(&r, v, reason, sizeof reason))
        return ref_error(ref, err, reason);
    if (ref->type == TS_VALUE_INT && (v < INT_MIN || v > INT_MAX)) { /* the C field is an int */
        snprintf(reason, sizeof reason, "must be in [%d, %d], got %s", INT_MIN, INT_MAX, got);
        return ref_error(ref, err, reason);
    }
    if (ref->type == TS_VALUE_DOUBLE)
        *(double *)ref->ptr = v;
    else if (ref->type == TS_VALUE_INT)
        *(int *)ref->ptr = (int)v;
    else
        *(bool *)ref->ptr = v != 0;
    return TS_OK;
}

double ts_param_ref_get(const ts_param_ref *ref)
{
    if (ref->type == TS_VALUE_DOUBLE)
        return *(const double *)ref->ptr;
    if (ref->type == TS_VALUE_INT)
        return *(const int *)ref->ptr;
    return *(const bool *)ref->ptr ? 1.0 : 0.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Cross-field rules over a whole ts_params (after --set).                                     */

typedef struct walk {
    const ts_params *p;
    char *path;
    size_t cap;
    char *reason;
    size_t n;
} walk;

/* Append ".seg" (or "seg" at the start) to the path at len; returns the new length. */
static size_t path_append(walk *w, size_t len, const char *seg)
{
    int k = snprintf(w->path + len, w->cap - len, "%s%s", len ? "." : "", seg);
    size_t next = len + (k > 0 ? (size_t)k : 0);
    return next < w->cap ? next : w->cap - 1;
}

static bool report(walk *w, size_t len, const ts_check_result *r)
{
    if (r->key)
        path_append(w, len, r->key);
    snprintf(w->reason, w->n, "%s", r->reason);
    return false;
}

static bool validate_keys(walk *w, const ts_key *keys, const void *base, size_t len);

static bool validate_list(walk *w, const ts_key *k, const void *base, size_t len)
{
    const ts_list_spec *ls = k->list;
    const char *arr = ts_get_ptr(base, k->off);
    int count = ts_get_int(base, k->off2);
    for (int i = 0; i < count; i++) {
        const char *elem = arr + (size_t)i * ls->size;
        char index[16];
        snprintf(index, sizeof index, "%d", i);
        size_t l = path_append(w, len, ls->has_id ? elem + ls->id_off : index);
        const ts_key *keys = ts_schema_element_keys(ls, elem);
        ts_check_result r = {0};
        if (keys && !validate_keys(w, keys, elem + ls->keys_off, l))
            return false;
        if (ls->check && !ls->check(elem, w->p, &r))
            return report(w, l, &r);
    }
    return true;
}

static bool validate_keys(walk *w, const ts_key *keys, const void *base, size_t len)
{
    for (const ts_key *k = keys; k->name; k++) {
        size_t l = path_append(w, len, k->name);
        ts_check_result r = {0};
        if (k->kind == TS_K_MAP) {
            const void *sub = ts_field(base, k->off);
            if (!validate_keys(w, k->keys, sub, l))
                return false;
            if (k->check && !k->check(sub, w->p, &r))
                return report(w, l, &r);
        } else if (k->kind == TS_K_LIST || k->kind == TS_K_NAMED) {
            if (!validate_list(w, k, base, l))
                return false;
        }
        w->path[len] = '\0';
    }
    return true;
}

bool ts_schema_validate(const ts_params *p, char *path, size_t path_n, char *reason, size_t n)
{
    walk w = {p, path, path_n, reason, n};
    path[0] = '\0';
    return validate_keys(&w, ts_schema_root, p, 0);
}

/* ------------------------------------------------------------------------------------------ */
/* The Markdown reference.                                                                     */

static void md_type(const ts_key *k, char *buf, size_t n)
{
    const char *noun = ts_schema_target_noun(k->target);
    switch (k->kind) {
    case TS_K_DOUBLE:
        snprintf(buf, n, "number");
        break;
    case TS_K_INT:
        snprintf(buf, n, "integer");
        break;
    case TS_K_SEED:
        snprintf(buf, n, "integer (64-bit, unsigned)");
        break;
    case TS_K_DOUBLES:
        snprintf(buf, n, "list of %d numbers", k->len);
        break;
    case TS_K_VALUES:
        snprintf(buf, n, "list of numbers");
        break;
    case TS_K_REF:
    case TS_K_REF_ONE:
        snprintf(buf, n, "%s id", noun);
        break;
    case TS_K_REFS:
        snprintf(buf, n, "list of %s ids", noun);
        break;
    case TS_K_REF_PAIR:
        snprintf(buf, n, "list of 2 %s ids", noun);
        break;
    case TS_K_MAP:
        snprintf(buf, n, "mapping");
        break;
    case TS_K_LIST:
        snprintf(buf, n, "list of mappings%s", k->list->has_id ? " with `id`" : "");
        break;
    case TS_K_NAMED:
        snprintf(buf, n, "mapping %s -> mapping", k->list->element);
        break;
    case TS_K_NAME:
        snprintf(buf, n, "%s", k->flags & TS_F_ID ? "id" : "text");
        break;
    case TS_K_TEXT:
        snprintf(buf, n, "text");
        break;
    default: /* booleans and enumerations: "true or false", "one of a, b" */
        ts_schema_expected(k, buf, n);
        break;
    }
}

static void md_default(const ts_key *k, char *buf, size_t n)
{
    if (k->flags & TS_F_REQUIRED) {
        snprintf(buf, n, "required");
    } else if (k->def_text) {
        snprintf(buf, n, "%s", k->def_text);
    } else if (k->kind == TS_K_DOUBLE || k->kind == TS_K_INT || k->kind == TS_K_SEED) {
        ts_schema_format_double(k->def, buf, n);
    } else if (k->kind == TS_K_BOOL) {
        snprintf(buf, n, "%s", k->def != 0 ? "true" : "false");
    } else if (k->kind == TS_K_ENUM) {
        snprintf(buf, n, "%s", k->names[(int)k->def - k->first]);
    } else if (k->kind == TS_K_DOUBLES) {
        size_t len = (size_t)snprintf(buf, n, "[");
        for (int i = 0; i < k->len && len < n; i++) {
            char v[32];
            ts_schema_format_double(k->defs[i], v, sizeof v);
            len += (size_t)snprintf(buf + len, n - len, "%s%s", i ? ", " : "", v);
        }
        if (len < n)
            snprintf(buf + len, n - len, "]");
    } else {
        buf[0] = '\0';
    }
}

static void md_range(const ts_key *k, char *buf, size_t n)
{
    buf[0] = '\0';
    if (k->kind == TS_K_NAME)
        snprintf(buf, n, "at most %d characters", k->len - 1);
    else if (k->kind == TS_K_DOUBLE || k->kind == TS_K_INT || k->kind == TS_K_DOUBLES)
        ts_schema_format_range(&k->range, buf, n);
    else if ((k->kind == TS_K_LIST || k->kind == TS_K_NAMED) && k->list->min_count > 0)
        snprintf(buf, n, "at least %d", k->list->min_count);
}

static void md_rows(FILE *f, const ts_key *keys, const char *prefix)
{
    for (const ts_key *k = keys; k->name; k++) {
        char path[TS_PATH_MAX], type[300], def[200], range[80];
        snprintf(path, sizeof path, "%s%s", prefix, k->name);
        md_type(k, type, sizeof type);
        md_default(k, def, sizeof def);
        md_range(k, range, sizeof range);
        fprintf(f, "| `%s` | %s | %s | %s | %s |\n", path, type, def, range, k->doc);
        char sub[TS_PATH_MAX + 80]; /* room for ".<index>." after any path */
        if (k->kind == TS_K_MAP) {
            snprintf(sub, sizeof sub, "%s.", path);
            md_rows(f, k->keys, sub);
        } else if ((k->kind == TS_K_LIST || k->kind == TS_K_NAMED) && k->list->keys) {
            snprintf(sub, sizeof sub, "%s.%s.", path, k->list->element);
            md_rows(f, k->list->keys, sub);
        }
    }
}

static void md_table(FILE *f, const ts_key *keys, const char *prefix)
{
    fprintf(f, "| key | type | default | range | meaning |\n| --- | --- | --- | --- | --- |\n");
    md_rows(f, keys, prefix);
}

static void md_variants(FILE *f, const ts_key *k)
{
    const ts_list_spec *ls = k->list;
    for (int v = 0; v < ls->n_variants; v++) {
        char prefix[TS_PATH_MAX];
        fprintf(f, "\n### `%s: %s`\n\n%s\n\n", ls->variant_key, ls->variant_names[v],
                ls->variant_docs[v]);
        snprintf(prefix, sizeof prefix, "%s.%s.", k->name, ls->element);
        md_table(f, ls->variants[v], prefix);
    }
}

void ts_schema_write_markdown(FILE *f)
{
    fprintf(
        f, "# Scenario file reference\n\n"
           "Generated from the schema table (src/scenario/schema.c): every key of a scenario file, "
           "its type, default, range and meaning. Paths are spelled as `--set` and sweeps "
           "take them: a list element by its `id` (`organisations.<id>.size`) or, where it "
           "has none, by its index (`events.<index>.at`). A range in [ ] includes its ends, "
           "one in ( ) excludes them. \"unset\" keys fall back to the value they override. "
           "\"model.md 7.9\" is a section of [the model description](model.md).\n\n"
           "## Top level\n\n");
    fprintf(f, "| key | type | default | range | meaning |\n| --- | --- | --- | --- | --- |\n");
    for (const ts_key *k = ts_schema_root; k->name; k++) {
        ts_key one[2] = {*k, END};
        if (k->kind != TS_K_MAP && k->kind != TS_K_LIST && k->kind != TS_K_NAMED)
            md_rows(f, one, "");
    }
    for (const ts_key *k = ts_schema_root; k->name; k++) {
        if (k->kind != TS_K_MAP && k->kind != TS_K_LIST && k->kind != TS_K_NAMED)
            continue;
        ts_key one[2] = {*k, END};
        fprintf(f, "\n## `%s`\n\n%c%s.\n\n", k->name, toupper((unsigned char)k->doc[0]),
                k->doc + 1);
        md_table(f, one, "");
        if (k->kind == TS_K_LIST && k->list->variants)
            md_variants(f, k);
    }
}
