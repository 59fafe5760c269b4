/* Building the model from parameters (see include/trustsim/model.h): resolve trait means,
 * lay out leader slots, index collaborations and the sparse table of organisation pairs.
 * Nothing here is random and nothing here runs; runs live in src/engine/sim.c. */
#include "trustsim/model.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEW(ptr, n) ((ptr) = calloc((n) > 0 ? (size_t)(n) : 1, sizeof *(ptr)))

void ts_traits_overlay(ts_traits *base, const ts_traits *over)
{
#define OVERLAY(field)                                                                             \
    do {                                                                                           \
        if (!isnan(over->field))                                                                   \
            base->field = over->field;                                                             \
    } while (0)
    OVERLAY(ability);
    OVERLAY(benevolence);
    OVERLAY(integrity);
    OVERLAY(predictability);
    OVERLAY(propensity);
    OVERLAY(orientation);
    OVERLAY(capacity);
    OVERLAY(concentration);
#undef OVERLAY
    if (over->strategy >= 0)
        base->strategy = over->strategy;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Donation-game mode (docs/model.md 7.19): one single-leader organisation per player, all in one
 * collaboration; the scenario's organisations are ignored. */
static int setup_donation_orgs(ts_model *m, const ts_params *p)
{
    int n = 0;
    for (int s = 0; s < TS_STRATEGY_COUNT; s++)
        n += p->donation_game.strategies[s];
    m->n_orgs = n;
    if (!NEW(m->org_name, n) || !NEW(m->org_traits, n) || !NEW(m->org_n_leaders, n) ||
        !NEW(m->org_size, n) || !NEW(m->org_internal_trust, n) || !NEW(m->org_reputation, n) ||
        !NEW(m->org_culture, n))
        return -1;
    int o = 0;
    for (int s = 0; s < TS_STRATEGY_COUNT; s++)
        for (int k = 0; k < p->donation_game.strategies[s]; k++, o++) {
            snprintf(m->org_name[o], TS_NAME_MAX, "%s_%d", ts_strategy_name((ts_strategy)s), k);
            m->org_traits[o] = p->leader_defaults;
            m->org_traits[o].strategy = s;
            m->org_n_leaders[o] = 1;
            m->org_size[o] = 1.0;
            m->org_internal_trust[o] = 1.0;
            m->org_reputation[o] = 0.5;
            for (int c = 0; c < 3; c++)
                m->org_culture[o][c] = 0.5;
        }
    m->n_collabs = 1;
    if (!NEW(m->collab_org_begin, 2) || !NEW(m->collab_orgs, n))
        return -1;
    m->collab_org_begin[1] = n;
    for (int i = 0; i < n; i++)
        m->collab_orgs[i] = i;
    return 0;
}

static int setup_orgs(ts_model *m, const ts_params *p)
{
    int n = p->n_orgs;
    m->n_orgs = n;
    if (!NEW(m->org_name, n) || !NEW(m->org_traits, n) || !NEW(m->org_n_leaders, n) ||
        !NEW(m->org_size, n) || !NEW(m->org_internal_trust, n) || !NEW(m->org_reputation, n) ||
        !NEW(m->org_culture, n))
        return -1;
    for (int o = 0; o < n; o++) {
        const ts_org_spec *os = &p->orgs[o];
        memcpy(m->org_name[o], os->id, TS_NAME_MAX);
        m->org_traits[o] = p->leader_defaults;
        if (os->archetype >= 0)
            ts_traits_overlay(&m->org_traits[o], &p->archetypes[os->archetype].traits);
        ts_traits_overlay(&m->org_traits[o], &os->traits);
        m->org_n_leaders[o] = os->leaders;
        m->org_size[o] = os->size;
        m->org_internal_trust[o] = os->internal_trust;
        m->org_reputation[o] = os->reputation;
        memcpy(m->org_culture[o], os->culture, sizeof os->culture);
    }
    int total = 0;
    for (int c = 0; c < p->n_collabs; c++)
        total += p->collabs[c].n_members;
    m->n_collabs = p->n_collabs;
    if (!NEW(m->collab_org_begin, p->n_collabs + 1) || !NEW(m->collab_orgs, total))
        return -1;
    for (int c = 0, k = 0; c < p->n_collabs; c++) {
        m->collab_org_begin[c] = k;
        for (int i = 0; i < p->collabs[c].n_members; i++)
            m->collab_orgs[k++] = p->collabs[c].members[i];
        m->collab_org_begin[c + 1] = k;
    }
    return 0;
}

static int setup_leaders(ts_model *m)
{
    if (!NEW(m->org_leader_begin, m->n_orgs + 1) || !NEW(m->org_collab, m->n_orgs))
        return -1;
    int n = 0;
    for (int o = 0; o < m->n_orgs; o++) {
        m->org_leader_begin[o] = n;
        n += m->org_n_leaders[o];
        m->org_collab[o] = -1;
    }
    m->org_leader_begin[m->n_orgs] = n;
    m->n_leaders = n;
    if (!NEW(m->leader_org, n))
        return -1;
    for (int o = 0; o < m->n_orgs; o++)
        for (int j = 0; j < m->org_n_leaders[o]; j++)
            m->leader_org[m->org_leader_begin[o] + j] = o;

    int nl = 0;
    for (int c = 0; c < m->n_collabs; c++)
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
            int o = m->collab_orgs[k];
            nl += m->org_n_leaders[o];
            if (m->org_collab[o] < 0)
                m->org_collab[o] = c;
        }
    if (!NEW(m->collab_leader_begin, m->n_collabs + 1) || !NEW(m->collab_leaders, nl))
        return -1;
    nl = 0;
    for (int c = 0; c < m->n_collabs; c++) {
        m->collab_leader_begin[c] = nl;
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
            int o = m->collab_orgs[k];
            for (int j = 0; j < m->org_n_leaders[o]; j++)
                m->collab_leaders[nl++] = m->org_leader_begin[o] + j;
        }
    }
    m->collab_leader_begin[m->n_collabs] = nl;
    return 0;
}

/* Partners of every organisation: the union over its collaborations, sorted and unique. */
static int setup_pairs(ts_model *m)
{
    int n = m->n_orgs;
    if (!NEW(m->pair_begin, n + 1))
        return -1;
    /* count with duplicates, fill, then sort and compact each row */
    int *deg = calloc((size_t)n + 1, sizeof *deg);
    if (!deg)
        return -1;
    for (int c = 0; c < m->n_collabs; c++) {
        int size = m->collab_org_begin[c + 1] - m->collab_org_begin[c];
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++)
            deg[m->collab_orgs[k]] += size - 1;
    }
    size_t cap = 0;
    for (int o = 0; o < n; o++)
        cap += (size_t)deg[o];
    int *start = calloc((size_t)n + 1, sizeof *start);
    int *tmp = calloc(cap > 0 ? cap : 1, sizeof *tmp);
    if (!start || !tmp) {
        free(deg), free(start), free(tmp);
        return -1;
    }
    for (int o = 0; o < n; o++)
        start[o + 1] = start[o] + deg[o];
    memset(deg, 0, sizeof *deg * ((size_t)n + 1));
    for (int c = 0; c < m->n_collabs; c++)
        for (int a = m->collab_org_begin[c]; a < m->collab_org_begin[c + 1]; a++)
            for (int b = m->collab_org_begin[c]; b < m->collab_org_begin[c + 1]; b++) {
                int o = m->collab_orgs[a], q = m->collab_orgs[b];
                if (o != q)
                    tmp[start[o] + deg[o]++] = q;
            }
    int np = 0;
    for (int o = 0; o < n; o++) {
        int *row = tmp + start[o];
        bool sorted = true; /* one collaboration with its members in order: nothing to do */
        for (int i = 1; i < deg[o] && sorted; i++)
            sorted = row[i - 1] < row[i];
        if (!sorted)
            qsort(row, (size_t)deg[o], sizeof *row, cmp_int);
        int u = 0;
        for (int i = 0; i < deg[o]; i++)
            if (i == 0 || row[i] != row[i - 1])
                row[u++] = row[i];
        deg[o] = u;
        np += u;
    }
    m->n_pairs = np;
    if (!NEW(m->pair_partner, np) || !NEW(m->pair_org, np)) {
        free(deg), free(start), free(tmp);
        return -1;
    }
    for (int o = 0, k = 0; o < n; o++) {
        m->pair_begin[o] = k;
        memcpy(m->pair_partner + k, tmp + start[o], sizeof(int) * (size_t)deg[o]);
        for (int i = 0; i < deg[o]; i++)
            m->pair_org[k + i] = o;
        k += deg[o];
        m->pair_begin[o + 1] = k;
    }
    free(deg), free(start), free(tmp);
    return 0;
}

int ts_model_pair(const ts_model *m, int o, int p)
{
    if (m->pair_dense)
        return m->pair_dense[(size_t)o * m->n_orgs + p];
    int lo = m->pair_begin[o], hi = m->pair_begin[o + 1] - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int q = m->pair_partner[mid];
        if (q == p)
            return mid;
        if (q < p)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int setup_pair_attributes(ts_model *m, const ts_params *p)
{
    int np = m->n_pairs;
    int *cursor = NULL;
    if (!NEW(m->pair_reverse, np) || !NEW(m->pair_collab, np) || !NEW(m->pair_upair, np) ||
        !NEW(m->pair_relation, np) || !NEW(m->pair_cultural_distance, np) ||
        !NEW(m->pair_acc_begin, np) || !NEW(m->pair_rev_acc_begin, np) ||
        !NEW(m->upair_pair, np / 2 + 1) || !NEW(cursor, m->n_orgs))
        return free(cursor), -1;
    /* (q, o) for every (o, q) in one pass: rows are sorted, so the pairs (q, o) of row q come
     * up in the order of o */
    memcpy(cursor, m->pair_begin, sizeof *cursor * (size_t)m->n_orgs);
    int nu = 0, acc = 0;
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            int q = m->pair_partner[k];
            m->pair_reverse[k] = cursor[q]++;
            m->pair_relation[k] = p->relation_default;
            double d = 0;
            for (int c = 0; c < 3; c++)
                d += fabs(m->org_culture[o][c] - m->org_culture[q][c]);
            m->pair_cultural_distance[k] = d / 3.0;
            m->pair_collab[k] = -1;
            if (o < q) {
                m->pair_upair[k] = nu;
                m->upair_pair[nu++] = k;
            }
        }
    free(cursor);
    /* Accumulators numbered by the trustees' organisation first: the beliefs an act touches,
     * its observers' beliefs about the actor, sit together. */
    for (int q = 0; q < m->n_orgs; q++)
        for (int r = m->pair_begin[q]; r < m->pair_begin[q + 1]; r++) {
            int k = m->pair_reverse[r], o = m->pair_partner[r];
            m->pair_acc_begin[k] = m->pair_rev_acc_begin[r] = acc;
            acc += m->org_n_leaders[o];
        }
    m->n_acc = acc;
    m->n_upairs = nu;
    if (m->n_orgs <= TS_DENSE_PAIRS_MAX) {
        size_t n = (size_t)m->n_orgs;
        int *dense = malloc((n * n > 0 ? n * n : 1) * sizeof *dense);
        if (!dense)
            return -1;
        for (size_t i = 0; i < n * n; i++)
            dense[i] = -1;
        for (int o = 0; o < m->n_orgs; o++)
            for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
                dense[(size_t)o * n + m->pair_partner[k]] = k;
        m->pair_dense = dense;
    }
    /* unordered index of (q, o) for q > o, and the first collaboration holding both */
    for (int o = 0; o < m->n_orgs; o++)
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
            if (m->pair_partner[k] < o)
                m->pair_upair[k] = m->pair_upair[m->pair_reverse[k]];
    for (int c = m->n_collabs - 1; c >= 0; c--)
        for (int a = m->collab_org_begin[c]; a < m->collab_org_begin[c + 1]; a++)
            for (int b = m->collab_org_begin[c]; b < m->collab_org_begin[c + 1]; b++) {
                int k = ts_model_pair(m, m->collab_orgs[a], m->collab_orgs[b]);
                if (k >= 0)
                    m->pair_collab[k] = c;
            }
    if (m->mode == TS_MODE_DONATION_GAME)
        return 0;
    for (int i = 0; i < p->n_pairs; i++) {
        const ts_pair_spec *ps = &p->pairs[i];
        for (int dir = 0; dir < (ps->symmetric ? 2 : 1); dir++) {
            int k =
                dir == 0 ? ts_model_pair(m, ps->from, ps->to) : ts_model_pair(m, ps->to, ps->from);
            if (k < 0)
                continue; /* the two never meet: the relation has no effect */
            ts_relation *r = &m->pair_relation[k];
            if (!isnan(ps->rel.competition))
                r->competition = clampd(ps->rel.competition, 0, 1);
            if (!isnan(ps->rel.history))
                r->history = clampd(ps->rel.history, -1, 1);
            if (!isnan(ps->rel.proximity))
                r->proximity = clampd(ps->rel.proximity, 0, 1);
        }
    }
    return 0;
}

/* The run mode turned into what the tick reads (docs/model.md 7.19): the donation game draws
 * donors instead of meetings, judges images by the latest act, lets nobody leave, shows every
 * act to everyone with probability q, and its one collaboration has no agreement, no
 * information sharing, a neutral purpose and a constant target. */
static int setup_mode(ts_model *m, const ts_params *p)
{
    bool dg = m->mode == TS_MODE_DONATION_GAME;
    m->schedule = dg ? TS_SCHEDULE_DONATION_ROUNDS : TS_SCHEDULE_MEETINGS;
    m->image_rule = dg ? TS_IMAGE_BY_LATEST_ACT : TS_IMAGE_BY_TRUST;
    m->exits = !dg;
    m->observe_everyone = dg;
    m->observe_q = dg ? p->donation_game.q : 0;
    if (!NEW(m->collab, m->n_collabs))
        return -1;
    for (int c = 0; c < m->n_collabs; c++) {
        ts_collab_model *cm = &m->collab[c];
        if (dg) {
            *cm = (ts_collab_model){.mandated = false,
                                    .shared_purpose = 0.5,
                                    .target_final = 1.0,
                                    .quick_win_floor = 1.0};
            continue;
        }
        const ts_collab_spec *cs = &p->collabs[c];
        *cm = (ts_collab_model){cs->mandated,      cs->shared_purpose,  cs->info_sharing,
                                cs->formalisation, cs->enforcement,     cs->attribution,
                                cs->target_final,  cs->quick_win_floor, cs->ramp};
    }
    return 0;
}

static int setup_events(ts_model *m, const ts_params *p)
{
    if (!NEW(m->event_order, p->n_events) || !NEW(m->rate_events, p->n_events))
        return -1;
    for (int i = 0; i < p->n_events; i++) {
        ts_event_type t = p->events[i].type;
        if (t == TS_EVENT_REGULATOR_VISITS || t == TS_EVENT_TURNOVER)
            m->rate_events[m->n_rate_events++] = i;
        else
            m->event_order[m->n_scheduled++] = i;
    }
    size_t n_orgs = (size_t)m->n_orgs;
    if (!NEW(m->rate_event_orgs, (size_t)m->n_rate_events * n_orgs))
        return -1;
    for (int r = 0; r < m->n_rate_events; r++) {
        const ts_event *e = &p->events[m->rate_events[r]];
        uint8_t *touched = m->rate_event_orgs + (size_t)r * n_orgs;
        memset(touched, e->n_orgs == 0, n_orgs); /* no list: every organisation */
        for (int i = 0; i < e->n_orgs; i++)
            touched[e->orgs[i]] = 1;
    }
    /* stable insertion sort by tick: events at one tick apply in file order */
    for (int i = 1; i < m->n_scheduled; i++) {
        int e = m->event_order[i], j = i;
        while (j > 0 && p->events[m->event_order[j - 1]].at > p->events[e].at) {
            m->event_order[j] = m->event_order[j - 1];
            j--;
        }
        m->event_order[j] = e;
    }
    return 0;
}

ts_status ts_model_build(ts_model **out, const ts_params *p, ts_error *err)
{
    *out = NULL;
    ts_model *m = calloc(1, sizeof *m);
    if (!m)
        return ts_error_set(err, TS_ERUNTIME, "out of memory building the model");
    m->params = p;
    m->mode = p->mode;
    m->ticks = p->ticks;
    double wsum = 0;
    for (int i = 0; i < TS_PILLARS; i++)
        wsum += p->beliefs.weights[i];
    if (!(wsum > 0)) {
        free(m);
        return ts_error_set(err, TS_EINPUT, "key 'beliefs.weights': weights must not all be 0");
    }
    for (int i = 0; i < TS_PILLARS; i++)
        m->weights[i] = p->beliefs.weights[i] / wsum;

    int fail = m->mode == TS_MODE_DONATION_GAME ? setup_donation_orgs(m, p) : setup_orgs(m, p);
    if (!fail)
        fail = setup_leaders(m);
    if (!fail)
        fail = setup_pairs(m);
    if (!fail)
        fail = setup_pair_attributes(m, p);
    if (!fail)
        fail = setup_mode(m, p);
    if (!fail)
        fail = setup_events(m, p);
    if (fail) {
        ts_model_free(m);
        return ts_error_set(err, TS_ERUNTIME, "out of memory building the model");
    }
    size_t bound = 0;
    for (int o = 0; o < m->n_orgs; o++) {
        size_t partners = 0;
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++)
            partners += (size_t)m->org_n_leaders[m->pair_partner[k]];
        bound += partners * (size_t)m->org_n_leaders[o];
    }
    m->belief_bound = bound;
    *out = m;
    return TS_OK;
}

void ts_model_free(ts_model *m)
{
    if (!m)
        return;
    free(m->org_name), free(m->org_leader_begin), free(m->org_n_leaders), free(m->org_size);
    free(m->org_internal_trust), free(m->org_reputation), free(m->org_culture);
    free(m->org_traits), free(m->org_collab), free(m->leader_org);
    free(m->collab), free(m->collab_org_begin), free(m->collab_orgs), free(m->collab_leader_begin);
    free(m->collab_leaders), free(m->pair_begin), free(m->pair_partner), free(m->pair_org),
        free(m->pair_reverse);
    free(m->pair_collab), free(m->pair_upair), free(m->pair_relation);
    free(m->pair_cultural_distance), free(m->pair_acc_begin), free(m->pair_rev_acc_begin),
        free(m->upair_pair);
    free(m->event_order), free(m->rate_events), free(m->rate_event_orgs), free(m->pair_dense);
    free(m);
}
