/*
 * anchor.c — the price head's anchor features (see anchor.h).
 */
#include "metagrid/anchor.h"

#include <math.h>
#include <string.h>

int anchor_nearest(const TaskData *sup, const double *f, int skip)
{
    int nf = sup->n + sup->m, best = -1;
    double bd = INFINITY;
    for (int r = 0; r < sup->k; r++) {
        if (r == skip) continue;
        const double *g = sup->x + (size_t)r * sup->in_dim;
        double dist = 0.0;
        for (int k = 0; k < nf; k++) dist += (g[k] - f[k]) * (g[k] - f[k]);
        if (best < 0 || dist < bd) bd = dist, best = r;
    }
    return best;
}

void anchor_of(const TaskData *sup, const double *f, const double *c, int skip, double *a)
{
    int m = sup->m, r = anchor_nearest(sup, f, skip);
    size_t nm = (size_t)sup->n * m;
    double cbar = 0.0;
    for (size_t k = 0; k < nm; k++) cbar += c[k];
    cbar /= (double)nm;
    if (!(cbar > 0.0)) cbar = 1.0;
    for (int j = 0; j < m; j++) a[j] = r < 0 ? 0.0 : sup->lambda[(size_t)r * m + j] / cbar;
}

void anchor_fill(TaskData *sup, TaskData *qry)
{
    int m = sup->m;
    size_t nm = (size_t)sup->n * m;
    for (int r = 0; r < sup->k; r++) {
        double *x = sup->x + (size_t)r * sup->in_dim;
        anchor_of(sup, x, sup->c + r * nm, r, x + sup->in_dim - m);
    }
    for (int q = 0; qry && q < qry->k; q++) {
        double *x = qry->x + (size_t)q * qry->in_dim;
        anchor_of(sup, x, qry->c + q * nm, -1, x + qry->in_dim - m);
    }
}

void anchor_clear(TaskData *td)
{
    for (int r = 0; td && r < td->k; r++)
        memset(td->x + (size_t)r * td->in_dim + td->in_dim - td->m, 0, sizeof(double) * td->m);
}
