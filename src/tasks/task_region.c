/*
 * task_region.c — the `region` task family (see region.h).
 *
 * Geography. The region is the unit square. 1-3 towns with centres in
 * [0.15, 0.85]^2 and spreads U[0.04, 0.12]; demand site i belongs to town
 * i mod T and sits at centre + spread * N(0, I) (clipped to the square).
 * Generators sit uniformly in the square.
 *
 * Costs. A task cost level L ~ U[20, 60] (currency per MWh). Thermal
 * generators have marginal cost g_j = L * U[0.5, 2] (a merit order from
 * base-load to peakers); solar ones g_j = L * U[0, 0.05]. Unit costs
 *   c_ij = g_j + transmission_cost * L * euclidean distance(site i, generator j)
 * (transmission_cost is per unit distance in units of the cost level, so
 * 0.5 makes crossing the whole region cost half a typical generation cost)
 * are fixed for the task (so a task's previous optimal basis stays dual
 * feasible from hour to hour: warm starts pay off).
 *
 * Load. Site i has base load U[20, 80] and residential share mix_i ~ U[0,1]:
 *   residential(h) = night + morn_a * bump(h, morn_h, 1.5) + eve_a * bump(h, eve_h, 2)
 *   commercial(h)  = 0.5 + com_a * sig((h - open_h)/0.7) * sig((close_h - h)/0.7)
 *   profile_i(h)   = mix_i * residential(h) + (1 - mix_i) * commercial(h)
 * with bump a circular Gaussian in the hour of day and task-level profile
 * parameters night U[0.4,0.6], morn_h 7.5+U[-1,1], morn_a U[0.15,0.4],
 * eve_h 19+U[-1.5,1.5], eve_a U[0.3,0.7], open_h U[7,9], close_h U[17,19],
 * com_a U[0.4,0.8]. Hour H = h0 + k (h0 ~ U{0..23}), day D = H / 24:
 *   d_i = base_i * profile_i(H mod 24) * dayload_D * max(0, 1 + noise * N(0,1))
 * with dayload_D = 1 + noise * N(0,1) drawn once per day.
 *
 * Supply. R = round(renewable_frac * m) generators (at most m - 1; they are
 * generators 0..R-1) are solar; the others thermal. With P the expected peak
 * of the summed profile, thermal nominal capacities (weights U[0.5, 1.5])
 * add up to rho * P * (1 + 2 noise) and solar ones to U[0.3, 1] * P. Solar
 * availability at hour h is sin(pi (h - sunrise) / (sunset - sunrise))^+
 * (sunrise 6+U[-1,1], sunset 18+U[-1,1]) times a per-day cloud factor
 * U[0.2, 1] times min(1.2, max(0, 1 + noise N(0,1))) per generator and hour.
 * Finally, if an hour has sum(s) < rho * sum(d), the thermal capacities of
 * that hour are scaled up to meet it exactly: sum(s) >= rho * sum(d) always.
 */
#include <math.h>
#include <stdlib.h>

#include "metagrid/common.h"
#include "metagrid/region.h"

static const double region_pi = 3.14159265358979323846;

static double clip01(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }

/* Gaussian bump in the hour of day, distance taken around the clock. */
static double bump(double h, double centre, double width)
{
    double dh = fmod(fabs(h - centre), 24.0);
    if (dh > 12.0) dh = 24.0 - dh;
    return exp(-0.5 * (dh / width) * (dh / width));
}

static double sig(double z) { return 1.0 / (1.0 + exp(-z)); }

double region_profile(const RegionTask *rt, double mix, double h)
{
    double res = rt->night + rt->morn_a * bump(h, rt->morn_h, 1.5) +
                 rt->eve_a * bump(h, rt->eve_h, 2.0);
    double com = 0.5 + rt->com_a * sig((h - rt->open_h) / 0.7) * sig((rt->close_h - h) / 0.7);
    return mix * res + (1.0 - mix) * com;
}

static double solar_avail(const RegionTask *rt, double h)
{
    if (h <= rt->sunrise || h >= rt->sunset) return 0.0;
    return sin(region_pi * (h - rt->sunrise) / (rt->sunset - rt->sunrise));
}

/* Every draw happens in a fixed order from the one task stream. */
void region_task_draw(RegionTask *rt, int n, int m, double rho, double renewable_frac,
                      double transmission_cost, double noise, RngStream *rng)
{
    rt->n = n;
    rt->m = m;
    rt->rho = rho < 1.0 ? 1.0 : rho;
    rt->noise = noise < 0.0 ? 0.0 : noise;
    int R = (int)floor(clip01(renewable_frac) * m + 0.5);
    rt->n_renew = R > m - 1 ? m - 1 : R;
    rt->c = mg_calloc((size_t)n * m, sizeof(double));
    rt->base = mg_calloc((size_t)n, sizeof(double));
    rt->mix = mg_calloc((size_t)n, sizeof(double));
    rt->dsite = mg_calloc((size_t)n * 2, sizeof(double));
    rt->cap = mg_calloc((size_t)m, sizeof(double));
    rt->gpos = mg_calloc((size_t)m * 2, sizeof(double));
    rt->gcost = mg_calloc((size_t)m, sizeof(double));

    rt->h0 = (int)rng_below(rng, 24);
    /* geography */
    int T = 1 + (int)rng_below(rng, 3);
    double town[3][3];
    for (int t = 0; t < T; t++) {
        town[t][0] = rng_uniform_range(rng, 0.15, 0.85);
        town[t][1] = rng_uniform_range(rng, 0.15, 0.85);
        town[t][2] = rng_uniform_range(rng, 0.04, 0.12);
    }
    for (int i = 0; i < n; i++) {
        const double *tw = town[i % T];
        rt->dsite[2 * i] = clip01(tw[0] + tw[2] * rng_normal(rng));
        rt->dsite[2 * i + 1] = clip01(tw[1] + tw[2] * rng_normal(rng));
        rt->base[i] = rng_uniform_range(rng, 20.0, 80.0);
        rt->mix[i] = rng_uniform(rng);
    }
    /* profiles */
    rt->night = rng_uniform_range(rng, 0.4, 0.6);
    rt->morn_h = 7.5 + rng_uniform_range(rng, -1.0, 1.0);
    rt->morn_a = rng_uniform_range(rng, 0.15, 0.4);
    rt->eve_h = 19.0 + rng_uniform_range(rng, -1.5, 1.5);
    rt->eve_a = rng_uniform_range(rng, 0.3, 0.7);
    rt->open_h = rng_uniform_range(rng, 7.0, 9.0);
    rt->close_h = rng_uniform_range(rng, 17.0, 19.0);
    rt->com_a = rng_uniform_range(rng, 0.4, 0.8);
    rt->sunrise = 6.0 + rng_uniform_range(rng, -1.0, 1.0);
    rt->sunset = 18.0 + rng_uniform_range(rng, -1.0, 1.0);
    /* generators */
    double L = rng_uniform_range(rng, 20.0, 60.0);
    rt->cost_level = L;
    double wt = 0.0, wr = 0.0;
    for (int j = 0; j < m; j++) {
        rt->gpos[2 * j] = rng_uniform(rng);
        rt->gpos[2 * j + 1] = rng_uniform(rng);
        int solar = j < rt->n_renew;
        rt->gcost[j] = solar ? L * rng_uniform_range(rng, 0.0, 0.05)
                             : L * rng_uniform_range(rng, 0.5, 2.0);
        rt->cap[j] = rng_uniform_range(rng, 0.5, 1.5);
        if (solar) wr += rt->cap[j];
        else wt += rt->cap[j];
    }
    double solar_share = rng_uniform_range(rng, 0.3, 1.0);
    /* expected peak of the summed profile, on a 10-minute grid */
    double peak = 0.0;
    for (int q = 0; q < 24 * 6; q++) {
        double h = q / 6.0, load = 0.0;
        for (int i = 0; i < n; i++) load += rt->base[i] * region_profile(rt, rt->mix[i], h);
        if (load > peak) peak = load;
    }
    for (int j = 0; j < m; j++) {
        if (j < rt->n_renew) rt->cap[j] *= solar_share * peak / wr;
        else rt->cap[j] *= rt->rho * peak * (1.0 + 2.0 * rt->noise) / wt;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double dx = rt->dsite[2 * i] - rt->gpos[2 * j];
            double dy = rt->dsite[2 * i + 1] - rt->gpos[2 * j + 1];
            rt->c[(size_t)i * m + j] =
                rt->gcost[j] + transmission_cost * L * sqrt(dx * dx + dy * dy);
        }
}

void region_task_free(RegionTask *rt)
{
    free(rt->c);
    free(rt->base);
    free(rt->mix);
    free(rt->dsite);
    free(rt->cap);
    free(rt->gpos);
    free(rt->gcost);
    rt->c = rt->base = rt->mix = rt->dsite = rt->cap = rt->gpos = rt->gcost = NULL;
}

void region_instance(const RegionTask *rt, uint64_t seed, RngPurpose purpose, uint64_t iter,
                     uint64_t task, uint64_t k, double *d, double *s)
{
    int n = rt->n, m = rt->m;
    uint64_t H = (uint64_t)rt->h0 + k;
    uint64_t day = H / 24;
    double h = (double)(H % 24);
    RngStream ds, hs;
    rng_stream_init(&ds, seed, purpose, iter, task, REGION_DAY_BASE + day);
    double cloud = rng_uniform_range(&ds, 0.2, 1.0);
    double dayload = fmax(0.5, 1.0 + rt->noise * rng_normal(&ds));
    rng_stream_init(&hs, seed, purpose, iter, task, k);
    double sd = 0.0, ssol = 0.0, sth = 0.0;
    for (int i = 0; i < n; i++) {
        double eps = fmax(0.0, 1.0 + rt->noise * rng_normal(&hs));
        d[i] = rt->base[i] * region_profile(rt, rt->mix[i], h) * dayload * eps;
        sd += d[i];
    }
    double sun = solar_avail(rt, h) * cloud;
    for (int j = 0; j < m; j++) {
        double eps = fmin(1.2, fmax(0.0, 1.0 + rt->noise * rng_normal(&hs)));
        if (j < rt->n_renew) {
            s[j] = rt->cap[j] * sun * eps;
            ssol += s[j];
        } else {
            s[j] = rt->cap[j];
            sth += s[j];
        }
    }
    /* the hard margin guarantee: sum(s) >= rho * sum(d) */
    double need = rt->rho * sd;
    if (ssol + sth < need && sth > 0.0) {
        double f = (need - ssol) / sth * (1.0 + 1e-12);
        for (int j = rt->n_renew; j < m; j++) s[j] *= f;
    }
}
