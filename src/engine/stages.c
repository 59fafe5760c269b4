/* Pomponi stages with hysteresis, and the windows they are judged over (src/engine/stages.h,
 * docs/model.md 7.17). */
#include "engine/stages.h"

#include <stdlib.h>
#include <string.h>

static int window_slot(const ts_sim *s)
{
    return s->t % s->p->stages.window;
}

void ts_stages_reset(ts_sim *s)
{
    const ts_model *m = s->m;
    int w = s->p->stages.window;
    memset(s->stage, 0, (size_t)m->n_upairs);
    memset(s->trust_ticks, 0, sizeof *s->trust_ticks * (size_t)m->n_upairs);
    for (int i = 0; i < w; i++)
        s->window[i].n = 0;
    memset(s->sum_coop, 0, sizeof *s->sum_coop * (size_t)m->n_upairs);
    memset(s->sum_all, 0, sizeof *s->sum_all * (size_t)m->n_upairs);
    memset(s->win_c, 0, sizeof *s->win_c * w);
    memset(s->win_n, 0, sizeof *s->win_n * w);
    s->sum_c = s->sum_n = 0;
}

void ts_stages_record_act(ts_sim *s, int pair, ts_act act)
{
    bool coop = ts_act_is_cooperative(act);
    int slot = window_slot(s);
    s->win_n[slot] += 1;
    s->sum_n += 1;
    if (coop) {
        s->win_c[slot] += 1;
        s->sum_c += 1;
    }
    float weight = (act == TS_ACT_SHARE_INFO || act == TS_ACT_HELP) ? 2.0f : 1.0f;
    int u = s->m->pair_upair[pair];
    ts_window_slot *w = &s->window[slot];
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        ts_window_act *q = realloc(w->acts, cap * sizeof *q);
        if (!q) {
            ts_state_fail(s, "stage window");
            return;
        }
        w->acts = q;
        w->cap = cap;
        s->queue_grows++;
    }
    w->acts[w->n++] = (ts_window_act){u, weight, coop ? weight : 0.0f};
    /* the weights are whole numbers: the sums are exact in any order */
    s->sum_all[u] += weight;
    if (coop)
        s->sum_coop[u] += weight;
}

/* Unordered pairs [start, end): an agreement holds a pair at stage 1 or above (agreement-driven
 * trust is what the agreement provides); counts[st] += pairs now at stage st. */
static void stages_chunk(ts_sim *s, int start, int end, long counts[TS_STAGE_COUNT])
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    for (int u = start; u < end; u++) {
        int k = m->upair_pair[u], r = m->pair_reverse[k];
        int o = m->pair_partner[r], q = m->pair_partner[k];
        if (!s->active[o] || !s->active[q])
            continue;
        int c = m->pair_collab[k];
        bool agreement = c >= 0 && s->phi[c] > 0;
        double trust = ts_min(s->to[r], s->to[k]); /* TO of o in q is at (q, o), r */
        double extent = s->sum_all[u] > 0 ? s->sum_coop[u] / s->sum_all[u] : 0;
        int st = s->stage[u];
        if (st == TS_STAGE_ARMS_LENGTH) {
            if (agreement || trust >= p->stages.theta_1)
                st = TS_STAGE_AGREEMENT;
        } else if (trust < p->stages.theta_down[st - 1] &&
                   !(st == TS_STAGE_AGREEMENT && agreement)) {
            st--;
            s->trust_ticks[u] = 0;
        } else if (st < TS_STAGE_COLLABORATION) {
            s->trust_ticks[u] = trust >= p->stages.theta_up[st - 1] ? s->trust_ticks[u] + 1 : 0;
            if (s->trust_ticks[u] >= p->stages.window && extent >= p->stages.chi_up[st - 1]) {
                st++;
                s->trust_ticks[u] = 0;
            }
        }
        s->stage[u] = (int8_t)st;
        counts[st]++;
    }
}

enum { UPAIR_CHUNK = 4096 }; /* unordered pairs per chunk of a pass */

typedef struct stage_pass {
    ts_sim *s;
    int n;
    double *part;
} stage_pass;

static void stages_k(void *ctx, size_t k)
{
    const stage_pass *p = ctx;
    long counts[TS_STAGE_COUNT] = {0};
    int start = (int)k * UPAIR_CHUNK, end = start + UPAIR_CHUNK < p->n ? start + UPAIR_CHUNK : p->n;
    stages_chunk(p->s, start, end, counts);
    for (int st = 0; st < TS_STAGE_COUNT; st++)
        p->part[k * TS_CHUNK_SUMS + (size_t)st] = (double)counts[st];
}

void ts_stages_update(ts_sim *s, ts_tick_sums *sums)
{
    int nu = s->m->n_upairs;
    size_t n_chunks = ((size_t)nu + UPAIR_CHUNK - 1) / UPAIR_CHUNK;
    double *part = ts_state_chunk_sums(s, n_chunks);
    if (!part)
        return;
    stage_pass ctx = {s, nu, part};
    ts_state_for_chunks(s, n_chunks, stages_k, &ctx);
    for (size_t k = 0; k < n_chunks; k++) /* whole numbers: exact in any order */
        for (int st = 0; st < TS_STAGE_COUNT; st++)
            sums->stage[st] += (long)part[k * TS_CHUNK_SUMS + (size_t)st];
    for (int st = 0; st < TS_STAGE_COUNT; st++)
        sums->upairs += sums->stage[st];
}

double ts_stages_coop_rate(const ts_sim *s)
{
    return s->sum_n > 0 ? s->sum_c / s->sum_n : 0;
}

void ts_stages_advance_windows(ts_sim *s)
{
    int w = s->p->stages.window, next = (s->t + 1) % w;
    s->sum_c -= s->win_c[next];
    s->sum_n -= s->win_n[next];
    s->win_c[next] = s->win_n[next] = 0;
    ts_window_slot *ending = &s->window[next];
    for (size_t i = 0; i < ending->n; i++) {
        s->sum_all[ending->acts[i].upair] -= ending->acts[i].all;
        s->sum_coop[ending->acts[i].upair] -= ending->acts[i].coop;
    }
    ending->n = 0;
}
