/* Gradient checks: every layer, then every parameter of a small VAE, against central finite
 * differences of a double-precision reference; and the loss of a tiny net by hand. TAP. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* |a - b| small relative to the larger, with an absolute floor for values near 0. */
static int close_to(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(5e-2, fmax(fabs(a), fabs(b)));
}

static void fill(float *v, size_t n, nn_rng *r, double scale)
{
    for (size_t i = 0; i < n; i++) v[i] = (float)(nn_rng_normal(r) * scale);
}

/* ---- the reference: the same network in double precision, written plainly ---- */

static double softplus(double l) { return l > 0 ? l + log1p(exp(-l)) : log1p(exp(l)); }
static double sig(double l) { return 1 / (1 + exp(-l)); }

static void ref_linear(double *y, const double *x, const double *p, size_t w, size_t b, int in, int out)
{
    for (int o = 0; o < out; o++) {
        double s = p[b + (size_t)o];
        for (int i = 0; i < in; i++) s += p[w + (size_t)o * in + i] * x[i];
        y[o] = s;
    }
}

/* (recon + beta KL) / B of the batch, in double. */
static double ref_loss(const nn_vae_layout *l, const double *p, const float *x, const float *eps,
                       int B, double beta)
{
    const nn_vae_arch *a = &l->a;
    double total = 0, cur[256], nxt[256];
    for (int n = 0; n < B; n++) {
        for (int i = 0; i < a->D; i++) cur[i] = x[(size_t)n * a->D + i];
        for (int i = 0; i < l->nlayers; i++) {
            ref_linear(nxt, cur, p, l->enc_w[i], l->enc_b[i], l->enc_in[i], l->enc_out[i]);
            for (int j = 0; j < l->enc_out[i]; j++)
                cur[j] = i + 1 < l->nlayers && nxt[j] < 0 ? 0 : nxt[j];
        }
        double z[64], kl = 0;
        for (int j = 0; j < a->L; j++) {
            double mu = cur[j], lv = cur[a->L + j];
            z[j] = mu + exp(lv / 2) * eps[(size_t)n * a->L + j];
            kl += -0.5 * (1 + lv - mu * mu - exp(lv));
        }
        memcpy(cur, z, sizeof(double) * (size_t)a->L);
        for (int i = 0; i < l->nlayers; i++) {
            ref_linear(nxt, cur, p, l->dec_w[i], l->dec_b[i], l->dec_in[i], l->dec_out[i]);
            for (int j = 0; j < l->dec_out[i]; j++)
                cur[j] = i + 1 < l->nlayers && nxt[j] < 0 ? 0 : nxt[j];
        }
        double recon = 0;
        for (int i = 0; i < a->D; i++) {
            double xi = x[(size_t)n * a->D + i], li = cur[i];
            if (a->gaussian) {
                double d = sig(li) - xi;
                recon += d * d / (2.0 * a->sigma * a->sigma);
            } else
                recon += softplus(li) - xi * li;
        }
        total += recon + beta * kl;
    }
    return total / B;
}

/* ---- layer checks ---- */

static void test_linear(void)
{
    nn_rng r;
    nn_rng_seed(&r, 1);
    enum { B = 3, IN = 5, OUT = 4 };
    float x[B * IN], w[OUT * IN], b[OUT], y[B * OUT], dy[B * OUT], dx[B * IN], dw[OUT * IN], db[OUT];
    fill(x, B * IN, &r, 1);
    fill(w, OUT * IN, &r, 1);
    fill(b, OUT, &r, 1);
    fill(dy, B * OUT, &r, 1);
    nn_linear_forward(y, x, w, b, B, IN, OUT);
    for (int n = 0; n < B; n++)
        for (int o = 0; o < OUT; o++) {
            double s = b[o];
            for (int i = 0; i < IN; i++) s += (double)w[o * IN + i] * x[n * IN + i];
            CHECK(close_to(y[n * OUT + o], s, 1e-5));
        }
    /* L = sum dy . y: its gradients are the backward pass's outputs. */
    nn_linear_backward(dx, dw, db, dy, x, w, B, IN, OUT);
    const double h = 1e-3;
    float *vars[3] = {x, w, b}, *grads[3] = {dx, dw, db};
    int sizes[3] = {B * IN, OUT * IN, OUT};
    for (int v = 0; v < 3; v++)
        for (int i = 0; i < sizes[v]; i++) {
            float keep = vars[v][i];
            double lp = 0, lm = 0;
            vars[v][i] = keep + (float)h;
            nn_linear_forward(y, x, w, b, B, IN, OUT);
            for (int j = 0; j < B * OUT; j++) lp += (double)dy[j] * y[j];
            vars[v][i] = keep - (float)h;
            nn_linear_forward(y, x, w, b, B, IN, OUT);
            for (int j = 0; j < B * OUT; j++) lm += (double)dy[j] * y[j];
            vars[v][i] = keep;
            CHECK(close_to(grads[v][i], (lp - lm) / (2 * h), 2e-3));
        }
}

static void test_relu(void)
{
    float x[6] = {-2, -0.5f, 0.25f, 1, 3, -1}, y[6], dy[6] = {1, 2, 3, 4, 5, 6}, dx[6];
    nn_relu_forward(y, x, 6);
    nn_relu_backward(dx, dy, y, 6);
    float want_y[6] = {0, 0, 0.25f, 1, 3, 0}, want_dx[6] = {0, 0, 3, 4, 5, 0};
    CHECK(memcmp(y, want_y, sizeof y) == 0);
    CHECK(memcmp(dx, want_dx, sizeof dx) == 0);
}

static void test_recon_losses(void)
{
    float l[5] = {-30, -1.5f, 0, 2, 40}, x[5] = {0, 0.2f, 0.5f, 1, 1}, d[5];
    for (int gaussian = 0; gaussian < 2; gaussian++) {
        double total = nn_recon_loss(d, l, x, 5, gaussian, 0.5f, 1);
        double want = 0;
        for (int i = 0; i < 5; i++) {
            double s = sig(l[i]);
            want += gaussian ? (s - x[i]) * (s - x[i]) / (2 * 0.25) : softplus(l[i]) - x[i] * (double)l[i];
            double h = 1e-3, lp, lm;
            float li = l[i];
            l[i] = li + (float)h;
            lp = nn_recon_loss(NULL, l, x, 5, gaussian, 0.5f, 1);
            l[i] = li - (float)h;
            lm = nn_recon_loss(NULL, l, x, 5, gaussian, 0.5f, 1);
            l[i] = li;
            CHECK(close_to(d[i], (lp - lm) / (2 * h), 2e-3));
            if (!close_to(d[i], (lp - lm) / (2 * h), 2e-3))
                printf("#   %s, logit %g: analytic %g, numeric %g\n", gaussian ? "gaussian" : "bernoulli",
                       li, d[i], (lp - lm) / (2 * h));
        }
        CHECK(close_to(total, want, 1e-5));
        CHECK(isfinite(total));
    }
}

static void test_reparam_kl(void)
{
    nn_rng r;
    nn_rng_seed(&r, 2);
    enum { B = 2, L = 3 };
    float hbuf[B * 2 * L], eps[B * L], dz[B * L], z[B * L], dh[B * 2 * L];
    fill(hbuf, B * 2 * L, &r, 0.7);
    fill(eps, B * L, &r, 1);
    fill(dz, B * L, &r, 1);
    const float beta = 0.7f;
    /* The objective: sum dz . z + beta * KL. */
    nn_reparam_kl_backward(dh, dz, hbuf, eps, B, L, beta, 1);
    for (int i = 0; i < B * 2 * L; i++) {
        double h = 1e-3, f[2];
        float keep = hbuf[i];
        for (int s = 0; s < 2; s++) {
            hbuf[i] = keep + (float)(s ? -h : h);
            nn_reparam_forward(z, hbuf, eps, B, L);
            double kl = nn_reparam_kl_backward(NULL, NULL, hbuf, eps, B, L, beta, 1), dot = 0;
            for (int j = 0; j < B * L; j++) dot += (double)dz[j] * z[j];
            f[s] = dot + beta * kl;
        }
        hbuf[i] = keep;
        CHECK(close_to(dh[i], (f[0] - f[1]) / (2 * h), 2e-3));
    }
}

/* ---- the whole network ---- */

static void check_network(int gaussian)
{
    nn_vae_arch a = {.D = 7, .L = 3, .nhidden = 2, .hidden = {6, 5}, .gaussian = gaussian, .sigma = 0.3f};
    nn_vae_layout l;
    nn_vae_layout_init(&l, &a);
    nn_rng r;
    nn_rng_seed(&r, 3 + (uint64_t)gaussian);
    enum { B = 4 };
    float *p = nn_xmalloc(l.nparams * sizeof(float)), *g = nn_xmalloc(l.nparams * sizeof(float));
    nn_vae_init_params(&l, p, &r);
    float x[B * 7];
    for (int i = 0; i < B * 7; i++) x[i] = (float)nn_rng_uniform(&r);
    nn_vae_work w;
    nn_vae_work_init(&w, &l, B);
    fill(w.eps, B * 3, &r, 1);
    double recon, kl;
    const float beta = 0.8f;
    nn_vae_step(&l, p, g, &w, x, B, beta, 1.0f / B, &recon, &kl);
    double *pd = nn_xmalloc(l.nparams * sizeof(double));
    for (size_t i = 0; i < l.nparams; i++) pd[i] = p[i];
    CHECK(close_to((recon + beta * kl) / B, ref_loss(&l, pd, x, w.eps, B, beta), 1e-4));
    int bad = 0;
    for (size_t i = 0; i < l.nparams; i++) {
        double h = 1e-5, keep = pd[i];
        pd[i] = keep + h;
        double lp = ref_loss(&l, pd, x, w.eps, B, beta);
        pd[i] = keep - h;
        double lm = ref_loss(&l, pd, x, w.eps, B, beta);
        pd[i] = keep;
        double fd = (lp - lm) / (2 * h);
        if (!close_to(g[i], fd, 2e-3)) {
            if (bad++ < 5) printf("#   parameter %zu: analytic %g, numeric %g\n", i, g[i], fd);
        }
    }
    CHECK(bad == 0);
    printf("#   %zu parameters checked\n", l.nparams);
    nn_vae_work_free(&w);
    free(p);
    free(g);
    free(pd);
}

static void test_network_bernoulli(void) { check_network(0); }
static void test_network_gaussian(void) { check_network(1); }

/* D = 1, L = 1, no hidden layer: encoder [mu, logvar] = [0.5 x + 0.1, -0.2 x - 0.3],
 * decoder logit = 2 z - 1, eps = 0, x = 1, beta = 1:
 *   mu = 0.6, logvar = -0.5, z = 0.6, logit = 0.2
 *   BCE = softplus(0.2) - 1 * 0.2 = log(1 + e^0.2) - 0.2 = 0.598138869...
 *   KL = -0.5 (1 - 0.5 - 0.36 - e^-0.5) = 0.233265319...  */
static void test_tiny_by_hand(void)
{
    nn_vae_arch a = {.D = 1, .L = 1, .nhidden = 0};
    nn_vae_layout l;
    nn_vae_layout_init(&l, &a);
    CHECK(l.nparams == 2 * 1 + 2 + 1 + 1);
    float p[6];
    p[l.enc_w[0]] = 0.5f;
    p[l.enc_w[0] + 1] = -0.2f;
    p[l.enc_b[0]] = 0.1f;
    p[l.enc_b[0] + 1] = -0.3f;
    p[l.dec_w[0]] = 2;
    p[l.dec_b[0]] = -1;
    nn_vae_work w;
    nn_vae_work_init(&w, &l, 1);
    w.eps[0] = 0;
    float x = 1;
    double recon, kl;
    nn_vae_step(&l, p, NULL, &w, &x, 1, 1, 1, &recon, &kl);
    CHECK(fabs(recon - 0.598138869) < 1e-6);
    CHECK(fabs(kl - 0.233265319) < 1e-6);
    if (cur_failed) printf("#   recon %.9f kl %.9f\n", recon, kl);
    nn_vae_work_free(&w);
}

static void test_adam(void)
{
    /* One step from zero moments moves each parameter by lr against the gradient's sign. */
    float p[3] = {1, -1, 0.5f}, g[3] = {0.3f, -2, 0}, m[3] = {0}, v[3] = {0};
    nn_adam o = {.lr = 0.01f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    nn_adam_step(p, g, NULL, m, v, 3, &o, 1);
    CHECK(fabsf(p[0] - 0.99f) < 1e-6f && fabsf(p[1] + 0.99f) < 1e-6f && p[2] == 0.5f);
    o.weight_decay = 0.1f;
    float q[1] = {2}, gq[1] = {0}, mq[1] = {0}, vq[1] = {0};
    nn_adam_step(q, gq, NULL, mq, vq, 1, &o, 1);
    /* Two halves of a gradient step like their sum. */
    float a[2] = {1, 1}, h1[2] = {0.1f, -0.3f}, h2[2] = {0.2f, 0.1f}, ma[2] = {0}, va[2] = {0};
    float b[2] = {1, 1}, whole[2] = {0.3f, -0.2f}, mb[2] = {0}, vb[2] = {0};
    nn_adam_step(a, h1, h2, ma, va, 2, &o, 1);
    nn_adam_step(b, whole, NULL, mb, vb, 2, &o, 1);
    CHECK(fabsf(a[0] - b[0]) < 1e-7f && fabsf(a[1] - b[1]) < 1e-7f);
    CHECK(fabsf(q[0] - 1.99f) < 1e-6f);   /* decay acts like a gradient of 0.2 */
}

int main(int argc, char **argv)
{
    (void)argc;
    nn_init(argv[0]);
    run("linear layer: output and every gradient", test_linear);
    run("relu layer", test_relu);
    run("reconstruction losses (Bernoulli, Gaussian) and their gradients", test_recon_losses);
    run("reparameterisation and KL gradients", test_reparam_kl);
    run("VAE, Bernoulli: every parameter's gradient against finite differences", test_network_bernoulli);
    run("VAE, Gaussian: every parameter's gradient against finite differences", test_network_gaussian);
    run("tiny VAE loss by hand", test_tiny_by_hand);
    run("Adam step", test_adam);
    return tap_done();
}
