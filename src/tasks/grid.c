/*
 * grid.c — operating scenarios of a real grid case (see grid.h).
 *
 * Nominal grid (case.h): loads i with Pd_i > 0, generators j with Pmax_j,
 * marginal cost mc_j at Pmax_j / 2, fuel f(j) (pglib's `% NG` etc.),
 * electrical distance dist_ij (p.u.).
 *
 * A task (scenario) draws, in this order from its task stream:
 *   h0 ~ U{0..23}; load level L ~ U[0.7, 1.0];
 *   daily profile parameters as the region family (region.h, region_profile:
 *     night, morning and evening peaks, commercial hours) and mix_i ~ U[0,1];
 *   fuel-price multipliers F_f = exp(0.25 N(0,1)) per fuel type, and per
 *     generator G_j = exp(0.1 N(0,1));
 *   outages: generator j is out for the task with probability outage_rate
 *     (at least one generator always stays in);
 *   renewables: R = round(renewable_frac * m) generators (at most all but
 *     one of those in, chosen uniformly) become renewable, each solar or wind with
 *     probability 1/2, with zero marginal cost;
 *   sunrise 6 + U[-1, 1], sunset 18 + U[-1, 1].
 * Unit costs, fixed for the task:
 *   c_ij = mc_j F_f(j) G_j + transmission_cost * dist_ij   (thermal j)
 *   c_ij =                   transmission_cost * dist_ij   (renewable j)
 *
 * Instance k is hour H = h0 + k, day D = H / 24, h = H mod 24:
 *   d_i = Pd_i * L * profile_i(h) / P * dayload_D * max(0, 1 + noise N(0,1))
 * with profile_i = region_profile(mix_i), P the daily peak of the
 * Pd-weighted mean profile, dayload_D = max(0.5, 1 + noise N(0,1)).
 *   s_j = Pmax_j                                        thermal, in service
 *   s_j = Pmax_j * sun(h) * cloud_D * e_jH              solar
 *   s_j = Pmax_j * wind_D * e_jH                        wind
 *   s_j = 0                                             out
 * with sun(h) = sin(pi (h - sunrise) / (sunset - sunrise))^+, cloud_D ~
 * U[0.2, 1], wind_D ~ U[0.1, 0.9] per day, e_jH = min(1.2, max(0, 1 +
 * noise N(0,1))) per generator and hour. Every hour is feasible: if
 * sum(s) < rho * sum(d), the demands of that hour are scaled down to
 * sum(d) = sum(s) / rho (load shedding, as an operator would).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metagrid/common.h"
#include "metagrid/grid.h"

static const double grid_pi = 3.14159265358979323846;

static void draw_profile(RegionTask *p, RngStream *rng)
{
    p->night = rng_uniform_range(rng, 0.4, 0.6);
    p->morn_h = 7.5 + rng_uniform_range(rng, -1.0, 1.0);
    p->morn_a = rng_uniform_range(rng, 0.15, 0.4);
    p->eve_h = 19.0 + rng_uniform_range(rng, -1.5, 1.5);
    p->eve_a = rng_uniform_range(rng, 0.3, 0.7);
    p->open_h = rng_uniform_range(rng, 7.0, 9.0);
    p->close_h = rng_uniform_range(rng, 17.0, 19.0);
    p->com_a = rng_uniform_range(rng, 0.4, 0.8);
}

/* Outages, then renewables among the generators still in. */
static void draw_fleet(GridTask *gt, RngStream *rng)
{
    const GridModel *gm = gt->gm;
    int m = gt->m, in = 0;
    for (int j = 0; j < m; j++) {
        int out = rng_uniform(rng) < gt->k.outage_rate;
        gt->cap[j] = out ? 0.0 : gm->pmax[j];
        in += !out;
    }
    if (in == 0) {
        int j = (int)rng_below(rng, (uint64_t)m);
        gt->cap[j] = gm->pmax[j];
        in = 1;
    }
    int R = (int)floor(gt->k.renewable_frac * m + 0.5);
    if (R > in - 1) R = in - 1; /* at least one thermal generator: sum(s) > 0 */
    /* choose R of the in-service generators (partial Fisher-Yates) */
    int *idx = mg_calloc((size_t)in, sizeof(int));
    for (int j = 0, q = 0; j < m; j++)
        if (gt->cap[j] > 0.0) idx[q++] = j;
    for (int r = 0; r < R; r++) {
        int t = r + (int)rng_below(rng, (uint64_t)(in - r));
        int tmp = idx[r];
        idx[r] = idx[t];
        idx[t] = tmp;
        gt->kind[idx[r]] = rng_uniform(rng) < 0.5 ? GRID_SOLAR : GRID_WIND;
    }
    free(idx);
}

void grid_task_draw(GridTask *gt, const GridModel *gm, const GridKnobs *knobs, RngStream *rng)
{
    memset(gt, 0, sizeof *gt);
    int n = gm->n, m = gm->m;
    gt->gm = gm;
    gt->n = n;
    gt->m = m;
    gt->k = *knobs;
    if (gt->k.rho < 1.0) gt->k.rho = 1.0;
    gt->c = mg_calloc((size_t)n * m, sizeof(double));
    gt->mix = mg_calloc((size_t)n, sizeof(double));
    gt->cap = mg_calloc((size_t)m, sizeof(double));
    gt->kind = mg_calloc((size_t)m, sizeof(int));
    gt->fuel_mult = mg_calloc((size_t)MG_MAX(gm->n_fuel, 1), sizeof(double));

    gt->h0 = (int)rng_below(rng, 24);
    gt->level = rng_uniform_range(rng, 0.7, 1.0);
    draw_profile(&gt->prof, rng);
    for (int i = 0; i < n; i++) gt->mix[i] = rng_uniform(rng);
    for (int f = 0; f < gm->n_fuel; f++) gt->fuel_mult[f] = exp(0.25 * rng_normal(rng));
    double *gmult = mg_calloc((size_t)m, sizeof(double));
    for (int j = 0; j < m; j++) gmult[j] = exp(0.1 * rng_normal(rng));
    draw_fleet(gt, rng);
    gt->prof.sunrise = 6.0 + rng_uniform_range(rng, -1.0, 1.0);
    gt->prof.sunset = 18.0 + rng_uniform_range(rng, -1.0, 1.0);

    /* the daily peak of the Pd-weighted mean profile, on a 10-minute grid */
    double total = 0.0;
    for (int i = 0; i < n; i++) total += gm->pd[i];
    for (int q = 0; q < 24 * 6; q++) {
        double h = q / 6.0, load = 0.0;
        for (int i = 0; i < n; i++) load += gm->pd[i] * region_profile(&gt->prof, gt->mix[i], h);
        gt->peak = fmax(gt->peak, load / total);
    }
    for (int j = 0; j < m; j++) {
        double g = gt->kind[j] == GRID_THERMAL ? gm->mc[j] * gt->fuel_mult[gm->fuel[j]] * gmult[j]
                                               : 0.0;
        for (int i = 0; i < n; i++)
            gt->c[(size_t)i * m + j] = g + gt->k.transmission_cost * gm->dist[(size_t)i * m + j];
    }
    free(gmult);
}

void grid_task_free(GridTask *gt)
{
    if (!gt) return;
    free(gt->c);
    free(gt->mix);
    free(gt->cap);
    free(gt->kind);
    free(gt->fuel_mult);
    memset(gt, 0, sizeof *gt);
}

void grid_instance(const GridTask *gt, uint64_t seed, RngPurpose purpose, uint64_t iter,
                   uint64_t task, uint64_t k, double *d, double *s)
{
    const GridModel *gm = gt->gm;
    int n = gt->n, m = gt->m;
    double noise = gt->k.noise;
    uint64_t H = (uint64_t)gt->h0 + k, day = H / 24;
    double h = (double)(H % 24);
    RngStream ds, hs;
    rng_stream_init(&ds, seed, purpose, iter, task, REGION_DAY_BASE + day);
    double cloud = rng_uniform_range(&ds, 0.2, 1.0);
    double wind = rng_uniform_range(&ds, 0.1, 0.9);
    double dayload = fmax(0.5, 1.0 + noise * rng_normal(&ds));
    double sun = 0.0;
    if (h > gt->prof.sunrise && h < gt->prof.sunset)
        sun = sin(grid_pi * (h - gt->prof.sunrise) / (gt->prof.sunset - gt->prof.sunrise));
    rng_stream_init(&hs, seed, purpose, iter, task, k);
    double sd = 0.0, ss = 0.0;
    double scale = gt->level / gt->peak * dayload;
    for (int i = 0; i < n; i++) {
        double eps = fmax(0.0, 1.0 + noise * rng_normal(&hs));
        d[i] = gm->pd[i] * scale * region_profile(&gt->prof, gt->mix[i], h) * eps;
        sd += d[i];
    }
    for (int j = 0; j < m; j++) {
        double eps = fmin(1.2, fmax(0.0, 1.0 + noise * rng_normal(&hs)));
        switch (gt->kind[j]) {
        case GRID_SOLAR: s[j] = gt->cap[j] * sun * cloud * eps; break;
        case GRID_WIND: s[j] = gt->cap[j] * wind * eps; break;
        default: s[j] = gt->cap[j]; break;
        }
        ss += s[j];
    }
    if (ss < gt->k.rho * sd) {
        double f = ss / (gt->k.rho * sd) * (1.0 - 1e-12);
        for (int i = 0; i < n; i++) d[i] *= f;
    }
}
