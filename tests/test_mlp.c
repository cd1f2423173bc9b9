/*
 * test_mlp.c — the fast MLP (mlp.c) against the naive reference (mlp_ref.c)
 * and against central finite differences: loss, gradient and Hessian-vector
 * products, for relu and tanh, linear and allocation heads (mse and xent),
 * several shapes.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/kernels.h"
#include "metagrid/mlp.h"
#include "metagrid/rng.h"
#include "mlp_ref.h"

static double fast_loss(const MlpLayout *lay, const double *th, const double *x,
                        const double *y, int k, MlpCache *c)
{
    mlp_forward(lay, th, x, k, c);
    return mlp_loss(lay, c, y);
}

/* The price head for the next run_case_loss: n demand points (0: not a
 * price head) and the soft-min temperature. */
static int price_n;
static double price_temp;

/* loss: MLP_LOSS_MSE or MLP_LOSS_XENT; ynorm: allocation targets rescaled so that
 * each group sums to 1 (the real targets; the formulas hold for any y >= 0) */
static void run_case_loss(int in, const int *hidden, int nh, int out, int act, int group, int k,
                          uint64_t seed, int loss, int ynorm)
{
    MgErr e = {0};
    MlpLayout lay;
    CHECK(mlp_layout_init(&lay, in, hidden, nh, out, act, group, &e) == MG_OK);
    CHECK(lay.loss == MLP_LOSS_MSE && lay.y_dim == out && !lay.prices);
    if (price_n > 0) {
        CHECK(mlp_layout_set_prices(&lay, price_n, price_temp, &e) == MG_OK);
        CHECK(lay.y_dim == 2 * out + 1 + price_n + price_n * out);
    }
    CHECK(mlp_layout_set_loss(&lay, loss, &e) == MG_OK);
    size_t n = lay.n_params;
    double *th = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double));
    double *g = calloc(n, sizeof(double)), *gref = calloc(n, sizeof(double));
    double *hv = calloc(n, sizeof(double)), *gp = calloc(n, sizeof(double));
    double *gm = calloc(n, sizeof(double)), *tp = malloc(n * sizeof(double));
    double *x = malloc((size_t)k * in * sizeof(double));
    double *y = malloc((size_t)k * lay.y_dim * sizeof(double));
    double *oref = malloc((size_t)k * out * sizeof(double));
    RngStream s;
    rng_stream_init(&s, seed, RNG_TEST, 0, 0, 0);
    mlp_init_params(&lay, th, seed, RNG_TEST, 1);
    for (size_t i = 0; i < n; i++) th[i] += 0.1 * rng_normal(&s); /* nonzero biases too */
    for (size_t i = 0; i < n; i++) v[i] = rng_normal(&s);
    for (int i = 0; i < k * in; i++) x[i] = rng_uniform_range(&s, -2, 2);
    for (int i = 0; i < k * lay.y_dim; i++) y[i] = group || lay.prices ? rng_uniform(&s) : rng_normal(&s);
    if (group && ynorm)
        for (int r = 0; r < k * out / group; r++) {
            double t = 0;
            for (int j = 0; j < group; j++) t += y[r * group + j];
            for (int j = 0; j < group; j++) y[r * group + j] /= t;
        }

    MlpCache c;
    mlp_cache_init(&c);
    mlp_cache_reserve(&c, &lay, 2);
    mlp_cache_reserve(&c, &lay, k); /* grows */
    mlp_forward(&lay, th, x, k, &c);
    double lf = mlp_loss(&lay, &c, y);
    mlp_backward(&lay, th, &c, y, 1.0, g);
    double lr = mlp_ref_loss_grad(&lay, th, x, y, k, oref, gref);
    CHECK_NEAR(lf, lr, 1e-12);
    const double *of = mlp_output(&lay, &c);
    double eo = 0, eg = 0;
    for (int i = 0; i < k * out; i++) eo = fmax(eo, fabs(of[i] - oref[i]));
    for (size_t i = 0; i < n; i++) eg = fmax(eg, fabs(g[i] - gref[i]));
    CHECK_MSG(eo < 1e-12, "forward vs ref %g", eo);
    CHECK_MSG(eg < 1e-12, "backward vs ref %g", eg);

    /* backward accumulates with scale */
    mlp_backward(&lay, th, &c, y, -0.5, g);
    eg = 0;
    for (size_t i = 0; i < n; i++) eg = fmax(eg, fabs(g[i] - 0.5 * gref[i]));
    CHECK_MSG(eg < 1e-12, "backward accumulate/scale %g", eg);

    /* gradient vs central differences of the loss */
    double h = 1e-6, emax = 0, gmax = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(tp, th, n * sizeof(double));
        tp[i] = th[i] + h;
        double fp = fast_loss(&lay, tp, x, y, k, &c);
        tp[i] = th[i] - h;
        double fm = fast_loss(&lay, tp, x, y, k, &c);
        emax = fmax(emax, fabs((fp - fm) / (2 * h) - gref[i]));
        gmax = fmax(gmax, fabs(gref[i]));
    }
    CHECK_MSG(emax <= 1e-7 * fmax(1, gmax), "grad vs FD %g (max |g| %g)", emax, gmax);

    /* HVP vs central differences of the gradient along v */
    mlp_forward(&lay, th, x, k, &c);
    memset(g, 0, n * sizeof(double));
    mlp_backward(&lay, th, &c, y, 1.0, g);
    mlp_hvp(&lay, th, &c, y, v, 1.0, hv);
    mlp_hvp(&lay, th, &c, y, v, 2.0, hv); /* accumulates: 3 H v */
    h = 1e-5;
    for (size_t i = 0; i < n; i++) tp[i] = th[i] + h * v[i];
    memset(gp, 0, n * sizeof(double));
    mlp_forward(&lay, tp, x, k, &c);
    mlp_backward(&lay, tp, &c, y, 1.0, gp);
    for (size_t i = 0; i < n; i++) tp[i] = th[i] - h * v[i];
    memset(gm, 0, n * sizeof(double));
    mlp_forward(&lay, tp, x, k, &c);
    mlp_backward(&lay, tp, &c, y, 1.0, gm);
    double hmax = 0;
    emax = 0;
    for (size_t i = 0; i < n; i++) {
        double fd = (gp[i] - gm[i]) / (2 * h);
        emax = fmax(emax, fabs(hv[i] / 3 - fd));
        hmax = fmax(hmax, fabs(fd));
    }
    CHECK_MSG(emax <= 1e-6 * fmax(1e-3, hmax), "HVP vs FD %g (max |Hv| %g) act %d group %d loss %d",
              emax, hmax, act, group, loss);
    CHECK(hmax > 0);

    /* HVP vs the naive reference: 4-point central differences of the
     * reference gradient along v */
    {
        double *gr[4], off[4] = {-2 * h, -h, h, 2 * h};
        for (int j = 0; j < 4; j++) {
            gr[j] = malloc(n * sizeof(double));
            for (size_t i = 0; i < n; i++) tp[i] = th[i] + off[j] * v[i];
            mlp_ref_loss_grad(&lay, tp, x, y, k, NULL, gr[j]);
        }
        emax = 0;
        for (size_t i = 0; i < n; i++) {
            double fd = (8 * (gr[2][i] - gr[1][i]) - (gr[3][i] - gr[0][i])) / (12 * h);
            emax = fmax(emax, fabs(hv[i] / 3 - fd));
        }
        CHECK_MSG(emax <= 1e-6 * fmax(1e-3, hmax), "HVP vs ref FD %g act %d group %d loss %d",
                  emax, act, group, loss);
        for (int j = 0; j < 4; j++) free(gr[j]);
    }

    /* symmetry: w^T H v = v^T H w */
    double *w = gp, *hw = gm;
    for (size_t i = 0; i < n; i++) w[i] = rng_normal(&s);
    memset(hw, 0, n * sizeof(double));
    memset(hv, 0, n * sizeof(double));
    mlp_forward(&lay, th, x, k, &c);
    memset(g, 0, n * sizeof(double));
    mlp_backward(&lay, th, &c, y, 1.0, g);
    mlp_hvp(&lay, th, &c, y, v, 1.0, hv);
    mlp_hvp(&lay, th, &c, y, w, 1.0, hw);
    double a = 0, b = 0;
    for (size_t i = 0; i < n; i++) a += w[i] * hv[i], b += v[i] * hw[i];
    CHECK_NEAR(a, b, 1e-10);

    /* in place (v == hv), after a backward pass with another scale:
     * tp = v + 0.5 H v, with H v = hv from above */
    mlp_forward(&lay, th, x, k, &c);
    mlp_backward(&lay, th, &c, y, 0.3, g);
    memcpy(tp, v, n * sizeof(double));
    mlp_hvp(&lay, th, &c, y, tp, 0.5, tp);
    emax = 0;
    for (size_t i = 0; i < n; i++) emax = fmax(emax, fabs(tp[i] - (v[i] + 0.5 * hv[i])));
    CHECK_MSG(emax <= 1e-12 * fmax(1, hmax), "in-place HVP %g", emax);

    /* mlp_grad overwrites */
    for (size_t i = 0; i < n; i++) g[i] = 1e300;
    mlp_grad(&lay, th, &c, y, 2.0, g);
    eg = 0;
    for (size_t i = 0; i < n; i++) eg = fmax(eg, fabs(g[i] - 2.0 * gref[i]));
    CHECK_MSG(eg < 1e-12, "mlp_grad %g", eg);

    mlp_cache_free(&c);
    free(th), free(v), free(g), free(gref), free(hv), free(gp), free(gm), free(tp);
    free(x), free(y), free(oref);
}

static void run_case(int in, const int *hidden, int nh, int out, int act, int group, int k,
                     uint64_t seed)
{
    run_case_loss(in, hidden, nh, out, act, group, k, seed, MLP_LOSS_MSE, 0);
}

int main(void)
{
    int h2[2] = {5, 4}, h1[1] = {7}, h3[3] = {6, 3, 5}, h40[2] = {40, 40}, h9[2] = {9, 13};
    /* both kernel implementations (kernels.h): SIMD when the CPU has it, portable */
    for (int portable = 0; portable < 2; portable++) {
        kern_force_portable(portable);
        for (int act = 0; act < 2; act++) {
            run_case(3, h2, 2, 4, act, 0, 7, 1);     /* linear head */
            run_case(1, h2, 2, 1, act, 0, 10, 2);    /* sinusoid shape */
            run_case(4, h1, 1, 6, act, 3, 5, 3);     /* allocation head, 2x3 */
            run_case(5, h3, 3, 8, act, 2, 9, 4);     /* allocation head, 4x2, deeper */
            run_case(2, NULL, 0, 3, act, 0, 4, 5);   /* no hidden layer */
            run_case(6, h9, 2, 6, act, 3, 11, 7);    /* odd widths: kernel remainders */
            /* the cross-entropy allocation loss */
            run_case_loss(4, h1, 1, 6, act, 3, 5, 8, MLP_LOSS_XENT, 1);
            run_case_loss(5, h3, 3, 8, act, 2, 9, 9, MLP_LOSS_XENT, 1);
            run_case_loss(6, h9, 2, 6, act, 3, 11, 10, MLP_LOSS_XENT, 0); /* rows not summing to 1 */
            run_case_loss(3, NULL, 0, 12, act, 4, 6, 11, MLP_LOSS_XENT, 1);
        }
        run_case(1, h40, 2, 1, MLP_ACT_RELU, 0, 10, 6);  /* the sinusoid benchmark's net */
        /* the price head (out = m prices; targets of width 2m+1+n+nm):
         * mse and lagrangian at several temperatures */
        for (int act = 0; act < 2; act++) {
            price_n = 4, price_temp = 0.1;
            run_case_loss(5, h1, 1, 3, act, 0, 6, 20, MLP_LOSS_MSE, 0);
            run_case_loss(5, h1, 1, 3, act, 0, 6, 21, MLP_LOSS_LAGRANGIAN, 0);
            price_n = 7, price_temp = 0.03;
            run_case_loss(4, h9, 2, 5, act, 0, 9, 22, MLP_LOSS_LAGRANGIAN, 0);
            price_n = 2, price_temp = 1.0;
            run_case_loss(3, NULL, 0, 4, act, 0, 3, 23, MLP_LOSS_LAGRANGIAN, 0);
            price_n = 3, price_temp = 0.0; /* exact min: piecewise linear in lam */
            run_case_loss(4, h1, 1, 3, act, 0, 5, 24, MLP_LOSS_LAGRANGIAN, 0);
            price_n = 0;
        }
    }
    kern_force_portable(0);
    /* layout */
    MgErr e = {0};
    MlpLayout lay;
    CHECK(mlp_layout_init(&lay, 1, h2, 2, 1, MLP_ACT_RELU, 0, &e) == MG_OK);
    CHECK(lay.n_params == 5 * 1 + 5 + 4 * 5 + 4 + 1 * 4 + 1);
    CHECK(lay.w_off[1] == 10 && lay.b_off[1] == 30 && lay.w_off[2] == 34);
    size_t off, sz;
    mlp_tensor(&lay, 3, &off, &sz);
    CHECK(off == 30 && sz == 4 && mlp_n_tensors(&lay) == 6);
    CHECK(mlp_layout_init(&lay, 1, h2, 2, 5, MLP_ACT_RELU, 2, &e) == MG_EUSAGE);
    /* xent needs the allocation head */
    CHECK(mlp_layout_init(&lay, 1, h2, 2, 1, MLP_ACT_RELU, 0, &e) == MG_OK);
    CHECK(mlp_layout_set_loss(&lay, MLP_LOSS_XENT, &e) == MG_EUSAGE && lay.loss == MLP_LOSS_MSE);
    CHECK(mlp_layout_set_loss(&lay, 7, &e) == MG_EUSAGE);
    CHECK(mlp_layout_init(&lay, 1, h2, 2, 6, MLP_ACT_RELU, 3, &e) == MG_OK);
    CHECK(mlp_layout_set_loss(&lay, MLP_LOSS_XENT, &e) == MG_OK && lay.loss == MLP_LOSS_XENT);
    /* the price head: no softmax groups; xent refused, lagrangian only with it */
    CHECK(mlp_layout_init(&lay, 3, h1, 1, 6, MLP_ACT_RELU, 3, &e) == MG_OK);
    CHECK(mlp_layout_set_prices(&lay, 2, 0.1, &e) == MG_EUSAGE);
    CHECK(mlp_layout_init(&lay, 3, h1, 1, 4, MLP_ACT_RELU, 0, &e) == MG_OK);
    CHECK(mlp_layout_set_loss(&lay, MLP_LOSS_LAGRANGIAN, &e) == MG_EUSAGE);
    CHECK(mlp_layout_set_prices(&lay, 0, 0.1, &e) == MG_EUSAGE);
    CHECK(mlp_layout_set_prices(&lay, 2, -1, &e) == MG_EUSAGE);
    CHECK(mlp_layout_set_prices(&lay, 2, 0.1, &e) == MG_OK && lay.y_dim == 8 + 1 + 2 + 8);
    memset(&e, 0, sizeof e);
    CHECK(mlp_layout_set_loss(&lay, MLP_LOSS_XENT, &e) == MG_EUSAGE && strstr(e.msg, "price"));
    CHECK(mlp_layout_set_loss(&lay, MLP_LOSS_LAGRANGIAN, &e) == MG_OK);
    /* lagrangian by hand: no hidden layer, W = 0, b = log(e - 1) so lam = 1
     * for both of m = 2 supplies; one demand row a = 1, ct = (0, 3), b = (0.5,
     * 0.25), opt/Z = 2, tau = 0: g = min(1, 4) - 0.75 = 0.25, L = 1.75,
     * dL/dlam = b - (1, 0) = (-0.5, 0.25), dz = dlam * sigma(b) = dlam (1 - 1/e) */
    {
        MlpLayout l0;
        CHECK(mlp_layout_init(&l0, 1, NULL, 0, 2, MLP_ACT_RELU, 0, &e) == MG_OK);
        CHECK(mlp_layout_set_prices(&l0, 1, 0.0, &e) == MG_OK);
        CHECK(mlp_layout_set_loss(&l0, MLP_LOSS_LAGRANGIAN, &e) == MG_OK);
        double b1 = log(exp(1.0) - 1), th0[4] = {0, 0, b1, b1}, x0 = 1, g0[4];
        double y0[8] = {0, 0, 2.0, 1.0, 0.5, 0.25, 0.0, 3.0};
        CHECK(l0.y_dim == 8);
        MlpCache c0;
        mlp_cache_init(&c0);
        mlp_cache_reserve(&c0, &l0, 1);
        mlp_forward(&l0, th0, &x0, 1, &c0);
        CHECK_NEAR(mlp_output(&l0, &c0)[0], 1.0, 1e-14);
        CHECK_NEAR(mlp_loss(&l0, &c0, y0), 1.75, 1e-14);
        mlp_grad(&l0, th0, &c0, y0, 1.0, g0);
        CHECK_NEAR(g0[2], -0.5 * (1 - exp(-1.0)), 1e-14);
        CHECK_NEAR(g0[3], 0.25 * (1 - exp(-1.0)), 1e-14);
        /* a soft-min bound is below the exact one: the loss is larger */
        l0.temp = 0.5;
        CHECK(mlp_loss(&l0, &c0, y0) > 1.75);
        mlp_cache_free(&c0);
    }
    /* xent by hand: one row, logits (0, log 3) -> p = (1/4, 3/4), y = (1/2, 1/2):
     * L = -(log(1/4) + log(3/4)) / 2; dL/dz = p - y = (-1/4, 1/4) */
    {
        MlpLayout l0;
        CHECK(mlp_layout_init(&l0, 1, NULL, 0, 2, MLP_ACT_RELU, 2, &e) == MG_OK);
        CHECK(mlp_layout_set_loss(&l0, MLP_LOSS_XENT, &e) == MG_OK);
        double th0[4] = {0, 0, 0, log(3.0)}, x0 = 1, y0[2] = {0.5, 0.5}, g0[4];
        MlpCache c0;
        mlp_cache_init(&c0);
        mlp_cache_reserve(&c0, &l0, 1);
        mlp_forward(&l0, th0, &x0, 1, &c0);
        CHECK_NEAR(mlp_loss(&l0, &c0, y0), -0.5 * (log(0.25) + log(0.75)), 1e-15);
        mlp_grad(&l0, th0, &c0, y0, 1.0, g0);
        CHECK_NEAR(g0[2], -0.25, 1e-15);
        CHECK_NEAR(g0[3], 0.25, 1e-15);
        mlp_cache_free(&c0);
    }
    return TEST_REPORT();
}
