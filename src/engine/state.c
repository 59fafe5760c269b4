/* The state of one run (see src/engine/state.h): the workspace's allocation, the queues of
 * pending work, leaders drawn and replaced, and the topology derived from which organisations
 * are active and how close they are. Nothing here decides what anyone does. */
#include "engine/state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "trustsim/rng.h"

#define ALLOC(ptr, n) (((ptr) = calloc((n) > 0 ? (size_t)(n) : 1, sizeof *(ptr))) == NULL)

ts_sim *ts_sim_alloc(const ts_model *m)
{
    ts_sim *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    s->p = m->params;
    s->threads = 1;
    s->n_metrics = ts_metric_count(m->mode);
    int nl = m->n_leaders, no = m->n_orgs, np = m->n_pairs, nu = m->n_upairs;
    int nc = m->n_collabs, w = s->p->stages.window;
    int max_collab = 1, max_org_leaders = 1;
    for (int o = 0; o < no; o++)
        max_org_leaders =
            m->org_n_leaders[o] > max_org_leaders ? m->org_n_leaders[o] : max_org_leaders;
    for (int c = 0; c < nc; c++) {
        int k = m->collab_leader_begin[c + 1] - m->collab_leader_begin[c];
        max_collab = k > max_collab ? k : max_collab;
    }
    bool fail = !(s->rng = ts_rng_alloc());
    fail = fail || ALLOC(s->ability, nl) || ALLOC(s->benevolence, nl) || ALLOC(s->integrity, nl) ||
           ALLOC(s->predictability, nl) || ALLOC(s->propensity, nl) || ALLOC(s->orientation, nl) ||
           ALLOC(s->capacity, nl) || ALLOC(s->strategy, nl) || ALLOC(s->gen, nl) ||
           ALLOC(s->act_seq, nl) || ALLOC(s->stamp, nl);
    fail = fail || ALLOC(s->active, no) || ALLOC(s->faith, no) || ALLOC(s->faith0, no) ||
           ALLOC(s->faith_pos, no) || ALLOC(s->faith_neg, no) || ALLOC(s->low_faith_ticks, no) ||
           ALLOC(s->visit_until, no) || ALLOC(s->shock_until, no) || ALLOC(s->received, no) ||
           ALLOC(s->deliveries_seen, no) || ALLOC(s->mean_proximity, no) ||
           ALLOC(s->partner_total, no) || ALLOC(s->org_scratch, no) ||
           ALLOC(s->org_scratch_int, 2 * max_org_leaders);
    fail = fail || ALLOC(s->rel, np) || ALLOC(s->partner_cum, np) ||
           ALLOC(s->g_pos, (size_t)np * TS_PILLARS) || ALLOC(s->g_neg, (size_t)np * TS_PILLARS) ||
           ALLOC(s->g_prior, np) || ALLOC(s->to, np) || ALLOC(s->group_t, np) ||
           ALLOC(s->acc_sum, m->n_acc);
    fail = fail || ALLOC(s->stage, nu) || ALLOC(s->trust_ticks, nu) || ALLOC(s->window, w) ||
           ALLOC(s->sum_coop, nu) || ALLOC(s->sum_all, nu);
    fail = fail || ALLOC(s->phi, nc) || ALLOC(s->enforcement, nc) || ALLOC(s->resolution_p, nc) ||
           ALLOC(s->resolution_delay, nc) || ALLOC(s->active_leaders, nc) ||
           ALLOC(s->complexity, nc) || ALLOC(s->attention_factor, nc);
    fail = fail || ALLOC(s->win_c, w) || ALLOC(s->win_n, w) || ALLOC(s->candidates, max_collab);
    s->chunk_rows = 64;
    fail = fail || ALLOC(s->chunk_sums, s->chunk_rows * TS_CHUNK_SUMS);
    fail = fail || ALLOC(s->series, (size_t)s->n_metrics * (m->ticks + 1)) ||
           ALLOC(s->final_to, np) || ALLOC(s->final_stage, np);
    size_t expected = m->belief_bound < (size_t)nl * 64 ? m->belief_bound : (size_t)nl * 64;
    fail = fail || ts_beliefs_init(&s->beliefs, expected, (size_t)nl, (size_t)m->n_acc) != 0;
    s->cap_promises = 1024;
    s->cap_resolutions = 1024;
    fail = fail || ALLOC(s->promises, s->cap_promises) || ALLOC(s->resolutions, s->cap_resolutions);
    if (fail) {
        ts_sim_free(s);
        return NULL;
    }
    return s;
}

void ts_sim_free(ts_sim *s)
{
    if (!s)
        return;
    gsl_rng_free(s->rng);
    free(s->ability), free(s->benevolence), free(s->integrity), free(s->predictability);
    free(s->propensity), free(s->orientation), free(s->capacity), free(s->strategy);
    free(s->gen), free(s->act_seq), free(s->stamp);
    free(s->active), free(s->faith), free(s->faith0), free(s->faith_pos), free(s->faith_neg);
    free(s->low_faith_ticks), free(s->visit_until), free(s->shock_until), free(s->received);
    free(s->deliveries_seen), free(s->mean_proximity), free(s->partner_total);
    free(s->org_scratch), free(s->org_scratch_int);
    free(s->rel), free(s->partner_cum), free(s->g_pos), free(s->g_neg), free(s->g_prior);
    free(s->to), free(s->group_t), free(s->acc_sum), free(s->chunk_sums);
    for (int i = 0; s->window && i < s->p->stages.window; i++)
        free(s->window[i].acts);
    free(s->stage), free(s->trust_ticks), free(s->window);
    free(s->sum_coop), free(s->sum_all);
    free(s->phi), free(s->enforcement), free(s->resolution_p), free(s->resolution_delay);
    free(s->active_leaders), free(s->complexity), free(s->attention_factor);
    free(s->win_c), free(s->win_n), free(s->candidates);
    free(s->series), free(s->final_to), free(s->final_stage);
    free(s->promises), free(s->resolutions);
    ts_beliefs_destroy(&s->beliefs);
    free(s);
}

void ts_sim_set_threads(ts_sim *s, int threads)
{
    s->threads = threads > 1 ? threads : 1;
}

void ts_state_reset(ts_sim *s)
{
    const ts_model *m = s->m;
    s->t = 0;
    s->failed = TS_OK;
    s->failure.msg[0] = '\0';
    s->next_event = 0;
    s->collab_value = 0;
    s->n_promises = s->n_resolutions = 0;
    memset(&s->counters, 0, sizeof s->counters);
    memset(s->acts_tick, 0, sizeof s->acts_tick);
    memset(s->strategy_count, 0, sizeof s->strategy_count);
    memset(s->strategy_payoff, 0, sizeof s->strategy_payoff);
    ts_beliefs_clear(&s->beliefs);
    s->queue_grows = 0;
    for (int x = 0; x < m->n_leaders; x++) {
        s->gen[x] = 0;
        s->act_seq[x] = 0;
        s->stamp[x] = 0;
    }
    s->stamp_gen = 0;
    for (int o = 0; o < m->n_orgs; o++) {
        s->active[o] = 1;
        s->visit_until[o] = s->shock_until[o] = -1;
        s->received[o] = s->deliveries_seen[o] = 0;
    }
    for (int c = 0; c < m->n_collabs; c++) {
        s->phi[c] = m->collab[c].formalisation;
        s->enforcement[c] = m->collab[c].enforcement;
        s->resolution_p[c] = 0;
        s->resolution_delay[c] = 1;
    }
    memcpy(s->rel, m->pair_relation, sizeof *s->rel * (size_t)m->n_pairs);
}

void ts_state_fail(ts_sim *s, const char *what)
{
    if (s->failed != TS_OK)
        return;
    s->failed = TS_ERUNTIME;
    snprintf(s->failure.msg, sizeof s->failure.msg, "out of memory at tick %d (%s)", s->t, what);
}

/* ---- leaders ---------------------------------------------------------------------------- */

/* A trait drawn from Beta(mean * conc, (1 - mean) * conc); a mean of 0 or 1 is a point mass. */
static double draw_trait(gsl_rng *r, double mean, double conc)
{
    if (mean <= 0 || mean >= 1)
        return ts_clamp01(mean);
    return gsl_ran_beta(r, mean * conc, (1 - mean) * conc);
}

void ts_state_draw_leader(ts_sim *s, int x, const ts_traits *tr)
{
    double c = tr->concentration;
    s->ability[x] = draw_trait(s->rng, tr->ability, c);
    s->benevolence[x] = draw_trait(s->rng, tr->benevolence, c);
    s->integrity[x] = draw_trait(s->rng, tr->integrity, c);
    s->predictability[x] = draw_trait(s->rng, tr->predictability, c);
    s->propensity[x] = draw_trait(s->rng, tr->propensity, c);
    s->orientation[x] = draw_trait(s->rng, tr->orientation, c);
    s->capacity[x] = tr->capacity;
    s->strategy[x] = (int8_t)(tr->strategy >= 0 ? tr->strategy : TS_STRATEGY_TRUST);
    s->strategy_count[s->strategy[x]]++;
}

void ts_state_replace_leader(ts_sim *s, int x, const ts_traits *means)
{
    s->strategy_count[s->strategy[x]]--;
    s->gen[x]++;
    ts_beliefs_retire_leader(&s->beliefs, (uint32_t)x);
    s->act_seq[x] = 0;
    ts_state_draw_leader(s, x, means);
}

/* ---- derived state refreshed when organisations leave or proximity changes ------------- */

void ts_state_refresh_topology(ts_sim *s)
{
    const ts_model *m = s->m;
    for (int o = 0; o < m->n_orgs; o++) {
        double cum = 0, prox = 0;
        int partners = 0;
        for (int k = m->pair_begin[o]; k < m->pair_begin[o + 1]; k++) {
            int q = m->pair_partner[k];
            if (s->active[q]) {
                cum += s->rel[k].proximity * m->org_n_leaders[q];
                prox += s->rel[k].proximity;
                partners++;
            }
            s->partner_cum[k] = cum;
        }
        s->partner_total[o] = cum;
        s->mean_proximity[o] = partners > 0 ? prox / partners : 0;
    }
    double *sizes = s->org_scratch;
    for (int c = 0; c < m->n_collabs; c++) {
        int n = 0, leaders = 0;
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
            int o = m->collab_orgs[k];
            if (s->active[o]) {
                sizes[n++] = m->org_size[o];
                leaders += m->org_n_leaders[o];
            }
        }
        double cv = 0;
        if (n >= 2) {
            double mean = gsl_stats_mean(sizes, 1, (size_t)n);
            cv = mean > 0 ? gsl_stats_sd_m(sizes, 1, (size_t)n, mean) / mean : 0;
        }
        s->complexity[c] = log(1.0 + n) * (1.0 + cv);
        s->active_leaders[c] = leaders;
        double att = s->p->reciprocity.attention;
        s->attention_factor[c] = leaders > 2 ? fmin(1.0, att / (leaders - 2)) : 1.0;
    }
}

/* ---- growable queues (grow rarely; the workspace keeps the memory across runs) ---------- */

/* A queue of *cap elements of `size` bytes, doubled; NULL (and the run failed) when it cannot
 * grow. */
static void *grow_queue(ts_sim *s, void *queue, size_t *cap, size_t size, const char *what)
{
    void *q = realloc(queue, 2 * *cap * size);
    if (!q) {
        ts_state_fail(s, what);
        return NULL;
    }
    *cap *= 2;
    s->queue_grows++;
    return q;
}

void ts_state_for_chunks(const ts_sim *s, size_t n, void (*fn)(void *ctx, size_t k), void *ctx)
{
    if (s->threads <= 1 || n <= 1) { /* a parallel region costs more than a small pass */
        for (size_t k = 0; k < n; k++)
            fn(ctx, k);
        return;
    }
#pragma omp parallel for num_threads(s->threads) schedule(static)
    for (size_t k = 0; k < n; k++)
        fn(ctx, k);
}

double *ts_state_chunk_sums(ts_sim *s, size_t rows)
{
    if (rows > s->chunk_rows) {
        size_t cap = rows > 2 * s->chunk_rows ? rows : 2 * s->chunk_rows;
        double *q = realloc(s->chunk_sums, cap * TS_CHUNK_SUMS * sizeof *q);
        if (!q) {
            ts_state_fail(s, "partial sums of the end-of-tick pass");
            return NULL;
        }
        s->chunk_sums = q;
        s->chunk_rows = cap;
        s->queue_grows++;
    }
    return s->chunk_sums;
}

void ts_state_push_promise(ts_sim *s, const ts_promise *pr)
{
    if (s->n_promises == s->cap_promises) {
        void *q = grow_queue(s, s->promises, &s->cap_promises, sizeof *pr, "queue of promises");
        if (!q)
            return;
        s->promises = q;
    }
    s->promises[s->n_promises++] = *pr;
}

void ts_state_push_resolution(ts_sim *s, const ts_resolution *r)
{
    if (s->n_resolutions == s->cap_resolutions) {
        void *q = grow_queue(s, s->resolutions, &s->cap_resolutions, sizeof *r,
                             "queue of conflict resolutions");
        if (!q)
            return;
        s->resolutions = q;
    }
    s->resolutions[s->n_resolutions++] = *r;
}
