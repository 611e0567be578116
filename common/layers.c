/* The layers of the networks, one forward and one backward function each, on whole batches.
 * Shapes in comments: B batch, I inputs, O outputs (In, Out in code: complex.h owns I). Matrices are row-major; a linear layer's
 * weight is O x I (as in PyTorch), so y = x W^T + b. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* y (B,O) = x (B,I) W^T (O,I) + b (O) */
void nn_linear_forward(float *y, const float *x, const float *w, const float *b, int B, int In, int Out)
{
    for (int n = 0; n < B; n++) memcpy(y + (size_t)n * Out, b, (size_t)Out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, Out, In, 1.0f, x, In, w, In, 1.0f, y, Out);
}

/* dx (B,I) = dy (B,O) W (O,I), skipped when dx is NULL; dW (O,I) = dy^T x; db (O) = sum_n dy.
 * The parameter gradients are overwritten, not accumulated. */
void nn_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int B, int In, int Out)
{
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, In, Out, 1.0f, dy, Out, w, In, 0.0f, dx, In);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Out, In, B, 1.0f, dy, Out, x, In, 0.0f, dw, In);
    memset(db, 0, (size_t)Out * sizeof(float));
    for (int n = 0; n < B; n++) {
        const float *row = dy + (size_t)n * Out;
        for (int o = 0; o < Out; o++) db[o] += row[o];
    }
}

/* y = max(x, 0), in place allowed; (N) */
NN_HOT void nn_relu_forward(float *y, const float *x, size_t N)
{
    for (size_t i = 0; i < N; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

/* dx = dy where the output was positive; y is the forward output; in place allowed. (N) */
NN_HOT void nn_relu_backward(float *dx, const float *dy, const float *y, size_t N)
{
    for (size_t i = 0; i < N; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

/* glibc's libmvec has vector versions of these; declaring them so lets the loops below run
 * 4 or 8 values at a time (math.h declares them only under -ffast-math, which we avoid: it
 * would also break the NaN checks). */
extern float expf(float) __attribute__((simd("notinbranch")));
extern float log1pf(float) __attribute__((simd("notinbranch")));

/* Reconstruction loss summed over (B,D) and its gradient d logits, scaled by `scale`.
 * Bernoulli: binary cross-entropy of x against sigmoid(logits), computed from the logits
 * (softplus(l) - x l) so that it never takes the log of 0. Gaussian with fixed sigma:
 * (sigmoid(l) - x)^2 / (2 sigma^2). Returns the sum in double. One exp(-|l|) serves both
 * the sigmoid and the softplus. */
NN_HOT double nn_recon_loss(float *restrict dlogits, const float *restrict logits, const float *restrict x,
                     size_t N, int gaussian, float sigma, float scale)
{
    /* Sums in float over blocks of 256 (so the loops vectorise), blocks added in double. */
    double total = 0;
    float inv = 1.0f / (sigma * sigma);
    for (size_t start = 0; start < N; start += 256) {
        size_t end = N - start < 256 ? N : start + 256;
        float sum = 0;
        if (!gaussian && dlogits) {
#pragma omp simd reduction(+ : sum)
            for (size_t i = start; i < end; i++) {
                float l = logits[i], e = expf(l < 0 ? l : -l), r = 1.0f / (1.0f + e);
                float y = l >= 0 ? r : e * r;                   /* sigmoid(l) */
                sum += (l > 0 ? l : 0) + log1pf(e) - x[i] * l;  /* softplus(l) - x l */
                dlogits[i] = (y - x[i]) * scale;
            }
        } else if (!gaussian) {
#pragma omp simd reduction(+ : sum)
            for (size_t i = start; i < end; i++) {
                float l = logits[i];
                sum += (l > 0 ? l : 0) + log1pf(expf(l < 0 ? l : -l)) - x[i] * l;
            }
        } else {
#pragma omp simd reduction(+ : sum)
            for (size_t i = start; i < end; i++) {
                float l = logits[i], e = expf(l < 0 ? l : -l), r = 1.0f / (1.0f + e);
                float y = l >= 0 ? r : e * r, diff = y - x[i];
                sum += 0.5f * diff * diff * inv;
                if (dlogits) dlogits[i] = diff * inv * y * (1 - y) * scale;
            }
        }
        total += sum;
    }
    return total;
}

/* z (B,L) = mu + exp(logvar / 2) eps, with h (B,2L) holding [mu | logvar] per row. */
void nn_reparam_forward(float *z, const float *h, const float *eps, int B, int L)
{
    for (int n = 0; n < B; n++) {
        const float *mu = h + (size_t)n * 2 * L, *lv = mu + L;
        for (int j = 0; j < L; j++)
            z[(size_t)n * L + j] = mu[j] + expf(0.5f * lv[j]) * eps[(size_t)n * L + j];
    }
}

/* KL(q(z|x) || N(0, I)) = -1/2 sum (1 + logvar - mu^2 - exp(logvar)), summed over (B,L);
 * dh (B,2L) = d/d[mu|logvar] of (dz-weighted z) + beta * KL, both scaled by `scale`. */
double nn_reparam_kl_backward(float *dh, const float *dz, const float *h, const float *eps,
                              int B, int L, float beta, float scale)
{
    double kl = 0;
    for (int n = 0; n < B; n++) {
        const float *mu = h + (size_t)n * 2 * L, *lv = mu + L;
        float *dmu = dh ? dh + (size_t)n * 2 * L : NULL, *dlv = dh ? dmu + L : NULL;
        for (int j = 0; j < L; j++) {
            float e = expf(lv[j]), s = expf(0.5f * lv[j]);
            kl += -0.5 * (double)(1 + lv[j] - mu[j] * mu[j] - e);
            if (!dh) continue;
            float g = dz ? dz[(size_t)n * L + j] : 0;
            dmu[j] = g + beta * mu[j] * scale;
            dlv[j] = g * eps[(size_t)n * L + j] * 0.5f * s + beta * 0.5f * (e - 1) * scale;
        }
    }
    return kl;
}
