/*
 * test_learner.c — exact meta-gradients of every algorithm against central
 * finite differences of the meta-loss (double precision, tolerance 1e-6
 * relative), on small networks with several inner steps, both activations
 * and both heads (the allocation head with the mse and the xent loss), on
 * synthetic data built by hand. Plus: fomaml against its
 * own first-order definition, adaptation consistency, initialisation.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "metagrid/learner.h"
#include "metagrid/rng.h"

static void make_data(TaskData *td, int k, int in, int out, int group, RngStream *s)
{
    memset(td, 0, sizeof *td);
    td->k = k, td->in_dim = in, td->out_dim = out;
    td->x = malloc((size_t)k * in * sizeof(double));
    td->y = malloc((size_t)k * out * sizeof(double));
    for (int i = 0; i < k * in; i++) td->x[i] = rng_uniform_range(s, -2, 2);
    for (int i = 0; i < k * out; i++) td->y[i] = group ? rng_uniform(s) : 2 * rng_normal(s);
    if (group) /* target fractions: each group sums to 1 */
        for (int g = 0; g < k * out / group; g++) {
            double t = 0;
            for (int j = 0; j < group; j++) t += td->y[g * group + j];
            for (int j = 0; j < group; j++) td->y[g * group + j] /= t;
        }
}

static void free_data(TaskData *td)
{
    free(td->x);
    free(td->y);
}

static Config small_config(int algo, int act, int T, int base)
{
    Config c;
    memset(&c, 0, sizeof c);
    c.seed = 5;
    c.model.n_hidden = 2;
    c.model.hidden[0] = 6;
    c.model.hidden[1] = 5;
    c.model.activation = act;
    c.algo.name = algo;
    c.algo.inner_lr = 0.1;
    c.algo.inner_steps = T;
    c.algo.gate.base = base;
    c.algo.gate.hidden = 4;
    return c;
}

/* max over i of |g_i - fd_i| / max(|g_i|, |fd_i|, 1e-3 max_j |fd_j|, 1e-12);
 * fd: 4-point central differences (step h) of f along each meta-parameter.
 * A coordinate whose 2-point estimates with steps h and 2h disagree by more
 * than 1e-5 relative has a kink (relu) or a near-singular point (Adam's
 * g/sqrt(g^2+eps^2)) inside the stencil: finite differences cannot judge it,
 * so it is skipped; at most a tenth of the coordinates may be skipped. */
static double fd_check(Learner *L, double *meta, const TaskData *s, const TaskData *q,
                       const double *g, int first_order_theta, double h)
{
    size_t n = first_order_theta ? learner_n_theta(L) : learner_n_meta(L);
    double *fd = malloc(n * sizeof(double)), fmax_ = 0, err = 0;
    char *kink = calloc(n, 1);
    for (size_t i = 0; i < n; i++) {
        double keep = meta[i], f[4], off[4] = {-2 * h, -h, h, 2 * h};
        for (int j = 0; j < 4; j++) {
            meta[i] = keep + off[j];
            f[j] = first_order_theta ? learner_loss(L, meta, q) : learner_meta_loss(L, meta, s, q);
        }
        meta[i] = keep;
        fd[i] = (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * h);
        double d1 = (f[2] - f[1]) / (2 * h), d2 = (f[3] - f[0]) / (4 * h);
        kink[i] = fabs(d1 - d2) > 1e-5 * fmax(fmax(fabs(d1), fabs(d2)), 1e-6);
        fmax_ = fmax(fmax_, fabs(fd[i]));
    }
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (kink[i]) { skipped++; continue; }
        double den = fmax(fmax(fabs(g[i]), fabs(fd[i])), fmax(1e-3 * fmax_, 1e-12));
        err = fmax(err, fabs(g[i] - fd[i]) / den);
    }
    free(fd);
    free(kink);
    return skipped * 10 > n ? INFINITY : err;
}

/* loss: LOSS_MSE, or LOSS_XENT (allocation head only) */
static void check_algo_loss(int algo, int act, int group, int T, int base, uint64_t seed,
                            int loss_kind)
{
    int in = 2, out = group ? 6 : 3;
    Config cfg = small_config(algo, act, T, base);
    cfg.model.loss = loss_kind;
    /* xent's gradients are ~m times larger than the mse's on the same data
     * (no p (1 - p) factor, mean over rows rather than outputs): a smaller
     * step keeps the inner loop in the same regime (and relu kinks out of
     * most finite-difference stencils) */
    if (loss_kind == LOSS_XENT) cfg.algo.inner_lr = 0.03;
    /* finite-difference step: the xent loss is ~20x larger than the mse
     * (it includes the entropy of y), and so is the roundoff of its
     * differences; a larger step keeps them below 1e-6 relative (measured:
     * max_rel_err 2.4e-7 at 5e-5, up to 1.9e-6 at 1e-5, shrinking with h) */
    double h = loss_kind == LOSS_XENT ? 5e-5 : 1e-5;
    MgErr e = {0};
    Learner *L = NULL;
    LearnerSetup learner_setup = learner_setup_from(&cfg);
    CHECK(learner_new(&L, &learner_setup, in, out, group, &e) == MG_OK);
    if (!L) return;
    RngStream s;
    rng_stream_init(&s, seed, RNG_TEST, 0, 0, 0);
    TaskData sup, qry;
    make_data(&sup, 5, in, out, group, &s);
    make_data(&qry, 7, in, out, group, &s);
    size_t nm = learner_n_meta(L), nt = learner_n_theta(L);
    double *meta = malloc(nm * sizeof(double)), *g = malloc(nm * sizeof(double));
    learner_init_meta(L, meta, seed);
    /* move off the initialisation: nonzero biases, varied step sizes, and a
     * gate whose outputs depend strongly on its context */
    for (size_t i = 0; i < nt; i++) meta[i] += 0.1 * rng_normal(&s);
    if (algo == ALGO_METASGD)
        for (size_t i = nt; i < nm; i++) meta[i] *= rng_uniform_range(&s, 0.5, 1.5);
    if (algo == ALGO_GATED)
        for (size_t i = nt; i < nm; i++) meta[i] += 0.5 * rng_normal(&s);

    for (size_t i = 0; i < nm; i++) g[i] = 12345; /* must be overwritten */
    double loss = learner_task_grad(L, meta, &sup, &qry, g);
    CHECK_NEAR(loss, learner_meta_loss(L, meta, &sup, &qry), 1e-14);
    double gnorm = 0;
    for (size_t i = 0; i < nm; i++) gnorm += g[i] * g[i];
    CHECK(gnorm > 0 && isfinite(gnorm));
    double err;
    if (algo == ALGO_FOMAML) {
        /* its own definition: grad L_q at theta_T (theta_T from learner_adapt) */
        double *thT = malloc(nt * sizeof(double));
        learner_adapt(L, meta, NULL, &sup, T, thT, NULL, NULL);
        CHECK_NEAR(learner_loss(L, thT, &qry), loss, 1e-13);
        err = fd_check(L, thT, &sup, &qry, g, 1, h);
        free(thT);
    } else {
        err = fd_check(L, meta, &sup, &qry, g, 0, h);
    }
    CHECK_MSG(err < 1e-6, "%s act %d group %d T %d base %d loss %s: max_rel_err %g",
              config_algo_name(algo), act, group, T, base, config_loss_name(loss_kind), err);

    /* adaptation reproduces the inner loop: loss after T steps = meta-loss */
    if (algo != ALGO_PRETRAIN) {
        double *th = malloc(nt * sizeof(double)), lbs[8];
        learner_adapt(L, meta, NULL, &sup, T, th, &qry, lbs);
        CHECK_NEAR(lbs[T], loss, 1e-12);
        CHECK_NEAR(lbs[0], learner_loss(L, meta, &qry), 1e-14);
        free(th);
    }
    free(meta), free(g);
    free_data(&sup), free_data(&qry);
    learner_destroy(L);
}

static void check_algo(int algo, int act, int group, int T, int base, uint64_t seed)
{
    check_algo_loss(algo, act, group, T, base, seed, LOSS_MSE);
}

int main(void)
{
    const int algos[] = {ALGO_MAML, ALGO_FOMAML, ALGO_METASGD, ALGO_GATED, ALGO_PRETRAIN};
    uint64_t seed = 1;
    for (int a = 0; a < 5; a++)
        for (int act = 0; act < 2; act++)
            for (int group = 0; group <= 3; group += 3) {
                int nb = algos[a] == ALGO_GATED ? 2 : 1;
                for (int base = 0; base < nb; base++) {
                    check_algo(algos[a], act, group, 3, base, seed++);
                    if (algos[a] != ALGO_PRETRAIN && group == 0)
                        check_algo(algos[a], act, group, 1, base, seed++);
                }
            }
    /* the cross-entropy allocation loss, every algorithm, both activations */
    for (int a = 0; a < 5; a++)
        for (int act = 0; act < 2; act++)
            for (int base = 0; base < (algos[a] == ALGO_GATED ? 2 : 1); base++)
                check_algo_loss(algos[a], act, 3, 3, base, seed++, LOSS_XENT);

    /* xent is refused for the linear head; the loss reaches the layout */
    {
        Config c = small_config(ALGO_MAML, ACT_RELU, 1, 0);
        c.model.loss = LOSS_XENT;
        MgErr e = {0};
        Learner *L = NULL;
        LearnerSetup learner_setup1 = learner_setup_from(&c);
        CHECK(learner_new(&L, &learner_setup1, 2, 3, 0, &e) == MG_EUSAGE && L == NULL &&
              strstr(e.msg, "xent"));
        LearnerSetup learner_setup2 = learner_setup_from(&c);
        CHECK(learner_new(&L, &learner_setup2, 2, 6, 3, &e) == MG_OK &&
              learner_layout(L)->loss == LOSS_XENT);
        learner_destroy(L);
    }

    /* maml is not fomaml: the second-order part is present */
    {
        Config cm = small_config(ALGO_MAML, ACT_TANH, 2, 0), cf = cm;
        cf.algo.name = ALGO_FOMAML;
        MgErr e = {0};
        Learner *Lm, *Lf;
        LearnerSetup learner_setup3 = learner_setup_from(&cm);
        CHECK(learner_new(&Lm, &learner_setup3, 2, 3, 0, &e) == MG_OK);
        LearnerSetup learner_setup4 = learner_setup_from(&cf);
        CHECK(learner_new(&Lf, &learner_setup4, 2, 3, 0, &e) == MG_OK);
        RngStream s;
        rng_stream_init(&s, 99, RNG_TEST, 0, 0, 0);
        TaskData sup, qry;
        make_data(&sup, 5, 2, 3, 0, &s);
        make_data(&qry, 5, 2, 3, 0, &s);
        size_t n = learner_n_meta(Lm);
        CHECK(n == learner_n_meta(Lf) && n == learner_n_theta(Lm));
        double *meta = malloc(n * sizeof(double)), *gm = malloc(n * sizeof(double));
        double *gf = malloc(n * sizeof(double));
        learner_init_meta(Lm, meta, 3);
        double lm = learner_task_grad(Lm, meta, &sup, &qry, gm);
        double lf = learner_task_grad(Lf, meta, &sup, &qry, gf);
        CHECK(lm == lf);
        double d = 0;
        for (size_t i = 0; i < n; i++) d = fmax(d, fabs(gm[i] - gf[i]));
        CHECK_MSG(d > 1e-6, "maml == fomaml (%g)", d);
        free(meta), free(gm), free(gf);
        free_data(&sup), free_data(&qry);
        learner_destroy(Lm);
        learner_destroy(Lf);
    }

    /* init: deterministic, metasgd alpha = inner_lr, layout sizes */
    {
        Config c = small_config(ALGO_METASGD, ACT_RELU, 1, 0);
        MgErr e = {0};
        Learner *L;
        LearnerSetup learner_setup5 = learner_setup_from(&c);
        CHECK(learner_new(&L, &learner_setup5, 1, 1, 0, &e) == MG_OK);
        size_t nt = learner_n_theta(L), nm = learner_n_meta(L);
        CHECK(nt == 6 * 1 + 6 + 5 * 6 + 5 + 5 + 1 && nm == 2 * nt);
        double *a = malloc(nm * sizeof(double)), *b = malloc(nm * sizeof(double));
        learner_init_meta(L, a, 11);
        learner_init_meta(L, b, 11);
        CHECK(memcmp(a, b, nm * sizeof(double)) == 0);
        int ok = 1;
        for (size_t i = nt; i < nm; i++) ok &= a[i] == 0.1;
        CHECK(ok);
        learner_init_meta(L, b, 12);
        CHECK(memcmp(a, b, nt * sizeof(double)) != 0);
        free(a), free(b);
        learner_destroy(L);
        c.algo.inner_steps = 0;
        LearnerSetup learner_setup6 = learner_setup_from(&c);
        CHECK(learner_new(&L, &learner_setup6, 1, 1, 0, &e) == MG_EUSAGE && L == NULL);
    }
    return TEST_REPORT();
}
