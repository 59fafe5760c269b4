/* Faith and exit (src/engine/faith.h, docs/model.md 7.16). */
#include "engine/faith.h"

#include <math.h>

/* Initial faith of o: F0, less the threat a mandated collaboration poses to its small members. */
static double initial_faith(const ts_sim *s, int o)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    double threat = 0;
    for (int c = 0; c < m->n_collabs; c++) {
        if (!m->collab[c].mandated)
            continue;
        double max_size = 0;
        bool member = false;
        for (int k = m->collab_org_begin[c]; k < m->collab_org_begin[c + 1]; k++) {
            max_size = fmax(max_size, m->org_size[m->collab_orgs[k]]);
            member = member || m->collab_orgs[k] == o;
        }
        if (member)
            threat = fmax(threat, p->faith.threat * fmax(0, 1 - m->org_size[o] / max_size));
    }
    return ts_clamp01(p->faith.initial - threat);
}

void ts_faith_reset(ts_sim *s)
{
    for (int o = 0; o < s->m->n_orgs; o++) {
        s->faith0[o] = initial_faith(s, o);
        s->faith[o] = s->faith0[o];
        s->faith_pos[o] = s->faith_neg[o] = 0;
        s->low_faith_ticks[o] = 0;
    }
}

void ts_faith_shock(ts_sim *s, int o, double magnitude)
{
    s->faith_neg[o] += s->p->faith.shock_weight * magnitude;
}

/* The progress collaboration c expects at tick t: its final target, ramped up from the quick
 * win floor (no collaboration: a target of 1). */
static double target_at(const ts_sim *s, int c)
{
    if (c < 0)
        return 1.0;
    const ts_collab_model *cm = &s->m->collab[c];
    double ramp = cm->ramp > 0 ? s->t / cm->ramp : 1.0;
    return cm->target_final * fmin(1.0, cm->quick_win_floor + ramp);
}

bool ts_faith_update(ts_sim *s, ts_tick_sums *sums)
{
    const ts_model *m = s->m;
    const ts_params *p = s->p;
    double keep = 1.0 - p->faith.forget;
    bool left = false;
    for (int o = 0; o < m->n_orgs; o++) {
        if (!s->active[o])
            continue;
        int c = m->org_collab[o], n = m->org_n_leaders[o];
        if (s->t > 0) {
            double target = target_at(s, c);
            double ratio = target > 0 ? s->received[o] / (n * p->faith.v_ref) / target : 1.0;
            s->faith_pos[o] = s->faith_pos[o] * keep + fmin(1.0, ratio) +
                              p->faith.eta_shared * s->deliveries_seen[o] / n;
            s->faith_neg[o] = s->faith_neg[o] * keep + fmax(0.0, 1.0 - ratio) +
                              p->faith.eta_complexity * (c >= 0 ? s->complexity[c] : 0);
        }
        double mf = p->faith.m0;
        s->faith[o] =
            (s->faith_pos[o] + mf * s->faith0[o]) / (s->faith_pos[o] + s->faith_neg[o] + mf);
        if (m->exits && s->faith[o] < p->faith.exit_faith) {
            if (++s->low_faith_ticks[o] >= p->faith.exit_ticks) {
                s->active[o] = 0;
                for (int j = 0; j < n; j++) /* its people's beliefs no longer count */
                    ts_beliefs_retire_leader(&s->beliefs, (uint32_t)(m->org_leader_begin[o] + j));
                left = true;
                continue;
            }
        } else {
            s->low_faith_ticks[o] = 0;
        }
        sums->faith += s->faith[o];
        sums->active++;
    }
    return left;
}
