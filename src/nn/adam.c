/*
 * adam.c — Adam for the meta-parameters (see adam.h).
 */
#include "metagrid/adam.h"

#include <math.h>

double adam_clip(double *g, size_t n, double max_norm)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += g[i] * g[i];
    double norm = sqrt(ss);
    if (max_norm > 0.0 && norm > max_norm) {
        double scale = max_norm / norm;
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    }
    return norm;
}

void adam_step(double *p, const double *g, double *m, double *v, size_t n,
               double lr, uint64_t *t)
{
    *t += 1;
    double bc1 = 1.0 - pow(ADAM_BETA1, (double)*t);
    double bc2 = 1.0 - pow(ADAM_BETA2, (double)*t);
    double step = lr * sqrt(bc2) / bc1;
    for (size_t i = 0; i < n; i++) {
        m[i] = ADAM_BETA1 * m[i] + (1.0 - ADAM_BETA1) * g[i];
        v[i] = ADAM_BETA2 * v[i] + (1.0 - ADAM_BETA2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrt(v[i]) + ADAM_EPS * sqrt(bc2));
    }
}
