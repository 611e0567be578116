/* t-SNE: nearest neighbours against brute force, the perplexity of every row, the symmetric P,
 * and the exact gradient against finite differences of the KL divergence. TAP. */
#include "nn.h"
#include "tsne.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static float *random_points(size_t n, size_t d, uint64_t seed)
{
    nn_rng r;
    nn_rng_seed(&r, seed);
    float *x = nn_xmalloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++) x[i] = (float)nn_rng_normal(&r);
    return x;
}

static void test_knn(void)
{
    size_t n = 300, d = 7;
    int k = 12;
    float *x = random_points(n, d, 1);
    memcpy(x + 5 * d, x + 9 * d, d * sizeof(float));        /* a duplicate */
    uint32_t *idx = nn_xmalloc(n * (size_t)k * sizeof(uint32_t));
    float *d2 = nn_xmalloc(n * (size_t)k * sizeof(float));
    for (int threads = 1; threads <= 3; threads += 2) {
        nn_knn(x, n, x, n, d, k, 1, idx, d2, threads);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            /* brute force: the k-th smallest distance, and every listed one correct */
            double all[300];
            for (size_t j = 0; j < n; j++) {
                double s = 0;
                for (size_t t = 0; t < d; t++) s += ((double)x[i * d + t] - x[j * d + t]) * ((double)x[i * d + t] - x[j * d + t]);
                all[j] = j == i ? INFINITY : s;
            }
            for (int a = 0; a < k; a++) {
                uint32_t j = idx[i * (size_t)k + (size_t)a];
                bad += j == i || fabs(all[j] - d2[i * (size_t)k + (size_t)a]) > 1e-3 * (1 + all[j]);
                bad += a > 0 && d2[i * (size_t)k + (size_t)a] < d2[i * (size_t)k + (size_t)a - 1];
                int smaller = 0;                        /* exactly a others are strictly closer */
                for (size_t jj = 0; jj < n; jj++) smaller += all[jj] < all[j] - 1e-3 * (1 + all[j]);
                bad += smaller > a;
            }
        }
        CHECK(bad == 0);
        CHECK(idx[5 * (size_t)k] == 9 && d2[5 * (size_t)k] < 1e-4);
    }
    free(x);
    free(idx);
    free(d2);
}

static void test_perplexity(void)
{
    nn_rng r;
    nn_rng_seed(&r, 2);
    float d2[90];
    double p[90];
    int bad = 0;
    for (int row = 0; row < 50; row++) {
        for (int j = 0; j < 90; j++) d2[j] = (float)(nn_rng_uniform(&r) * 50);
        double h = nn_perplexity_row(d2, 90, 30, p), entropy = 0, sum = 0;
        for (int j = 0; j < 90; j++) {
            sum += p[j];
            if (p[j] > 0) entropy -= p[j] * log(p[j]);
        }
        bad += fabs(entropy - log(30)) > 1e-4 || fabs(sum - 1) > 1e-9 || fabs(h - entropy) > 1e-6;
    }
    CHECK(bad == 0);
    /* All distances equal (duplicates): a uniform row, no NaN. */
    for (int j = 0; j < 90; j++) d2[j] = 0;
    nn_perplexity_row(d2, 90, 30, p);
    for (int j = 0; j < 90; j++) CHECK(fabs(p[j] - 1.0 / 90) < 1e-12);
}

static void test_joint(void)
{
    /* 4 points, 2 neighbours each: P_ij = (p_j|i + p_i|j) / 2N, symmetric, sums to 1. */
    uint32_t idx[8] = {1, 2, 0, 3, 3, 0, 2, 1};
    double pc[8] = {0.6, 0.4, 0.7, 0.3, 0.5, 0.5, 0.9, 0.1};
    nn_sparse P;
    nn_tsne_joint(idx, pc, 4, 2, &P);
    double dense[4][4] = {{0}}, sum = 0;
    for (size_t i = 0; i < 4; i++)
        for (size_t e = P.row[i]; e < P.row[i + 1]; e++) {
            dense[i][P.col[e]] = P.val[e], sum += P.val[e];
            if (e > P.row[i]) CHECK(P.col[e] > P.col[e - 1]);
        }
    CHECK(fabs(sum - 1) < 1e-12);
    CHECK(fabs(dense[0][1] - (0.6 + 0.7) / 8) < 1e-12 && fabs(dense[1][0] - dense[0][1]) < 1e-15);
    CHECK(fabs(dense[0][2] - (0.4 + 0.5) / 8) < 1e-12 && fabs(dense[1][2]) == 0);
    CHECK(fabs(dense[3][1] - (0.1 + 0.3) / 8) < 1e-12 && fabs(dense[2][3] - (0.5 + 0.9) / 8) < 1e-12);
    nn_sparse_free(&P);
}

/* KL(P || Q) with Q from y, directly. */
static double kl_direct(const nn_sparse *P, const double *y, size_t n, int dims)
{
    double z = 0, kl = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j) continue;
            double d2 = 0;
            for (int c = 0; c < dims; c++) d2 += (y[i * dims + c] - y[j * dims + c]) * (y[i * dims + c] - y[j * dims + c]);
            z += 1 / (1 + d2);
        }
    for (size_t i = 0; i < n; i++)
        for (size_t e = P->row[i]; e < P->row[i + 1]; e++) {
            size_t j = P->col[e];
            double d2 = 0;
            for (int c = 0; c < dims; c++) d2 += (y[i * dims + c] - y[j * dims + c]) * (y[i * dims + c] - y[j * dims + c]);
            kl += P->val[e] * log(P->val[e] / (1 / (1 + d2) / z));
        }
    return kl;
}

static void check_gradient(int dims)
{
    size_t n = 40, d = 5;
    int k = 9;
    float *x = random_points(n, d, 3);
    uint32_t *idx = nn_xmalloc(n * (size_t)k * sizeof(uint32_t));
    float *d2 = nn_xmalloc(n * (size_t)k * sizeof(float));
    double *pc = nn_xmalloc(n * (size_t)k * sizeof(double));
    nn_knn(x, n, x, n, d, k, 1, idx, d2, 2);
    for (size_t i = 0; i < n; i++) nn_perplexity_row(d2 + i * (size_t)k, k, 3, pc + i * (size_t)k);
    nn_sparse P;
    nn_tsne_joint(idx, pc, n, k, &P);
    nn_rng r;
    nn_rng_seed(&r, 4);
    size_t len = n * (size_t)dims;
    double *y = nn_xmalloc(len * sizeof(double)), *attr = nn_xmalloc(len * sizeof(double));
    double *rep = nn_xmalloc(len * sizeof(double)), *sumw = nn_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < len; i++) y[i] = nn_rng_normal(&r) * 3;
    nn_tsne_attraction(&P, y, dims, attr, 2);
    double z = nn_tsne_repulsion(NN_TSNE_EXACT, y, n, dims, 0, rep, sumw, 2);
    CHECK(fabs(nn_tsne_kl(&P, y, dims, z) - kl_direct(&P, y, n, dims)) < 1e-10);
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        double g = 4 * (attr[i] - rep[i] / z), h = 1e-6, keep = y[i];
        y[i] = keep + h;
        double kp = kl_direct(&P, y, n, dims);
        y[i] = keep - h;
        double km = kl_direct(&P, y, n, dims);
        y[i] = keep;
        double fd = (kp - km) / (2 * h);
        if (fabs(g - fd) > 1e-6 + 1e-5 * fabs(fd)) {
            if (bad++ < 3) printf("#   coordinate %zu: analytic %g numeric %g\n", i, g, fd);
        }
    }
    CHECK(bad == 0);
    nn_sparse_free(&P);
    free(x), free(idx), free(d2), free(pc), free(y), free(attr), free(rep), free(sumw);
}

static void test_gradient_2d(void) { check_gradient(2); }
static void test_gradient_3d(void) { check_gradient(3); }

static void test_methods_agree(void)
{
    size_t n = 600;
    nn_rng r;
    nn_rng_seed(&r, 5);
    double *y = nn_xmalloc(n * 2 * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        double cx = (double)(i % 5) * 12, cy = (double)(i % 3) * 9;
        y[2 * i] = cx + nn_rng_normal(&r) * 2, y[2 * i + 1] = cy + nn_rng_normal(&r) * 2;
    }
    double *re = nn_xmalloc(n * 2 * sizeof(double)), *rm = nn_xmalloc(n * 2 * sizeof(double));
    double *se = nn_xmalloc(n * sizeof(double)), *sm = nn_xmalloc(n * sizeof(double));
    double ze = nn_tsne_repulsion(NN_TSNE_EXACT, y, n, 2, 0, re, se, 1);
    for (int m = NN_TSNE_BH; m <= NN_TSNE_FFT; m++) {
        double zm = nn_tsne_repulsion((nn_tsne_method)m, y, n, 2, 0.5, rm, sm, 2);
        double num = 0, den = 0;
        for (size_t i = 0; i < 2 * n; i++) num += (rm[i] - re[i]) * (rm[i] - re[i]), den += re[i] * re[i];
        printf("#   %s: force error %.2e, Z error %.2e\n", m == NN_TSNE_BH ? "Barnes-Hut" : "FFT",
               sqrt(num / den), fabs(zm - ze) / ze);
        /* Barnes-Hut at theta 0.5 summarises Z more coarsely than the forces. */
        CHECK(sqrt(num / den) < (m == NN_TSNE_BH ? 2e-2 : 1e-2));
        CHECK(fabs(zm - ze) / ze < (m == NN_TSNE_BH ? 1e-2 : 1e-3));
    }
    free(y), free(re), free(rm), free(se), free(sm);
}

int main(int argc, char **argv)
{
    (void)argc;
    nn_init(argv[0]);
    run("exact nearest neighbours, any thread count, duplicates", test_knn);
    run("every row of P has the target perplexity; equal distances stay finite", test_perplexity);
    run("symmetric joint P", test_joint);
    run("exact gradient against finite differences of KL, 2-D", test_gradient_2d);
    run("exact gradient against finite differences of KL, 3-D", test_gradient_3d);
    run("Barnes-Hut and FFT repulsion close to exact on 600 points", test_methods_agree);
    return tap_done();
}
