/* A variational autoencoder of multilayer perceptrons (Kingma and Welling, 2014):
 *   encoder x (D) -> h1 -> ... -> hk -> [mu | logvar] (2L), ReLU between linear layers;
 *   z = mu + exp(logvar / 2) eps;
 *   decoder z (L) -> hk -> ... -> h1 -> logits (D), ReLU between; the image is sigmoid(logits).
 * All parameters live in one array; the layout gives each layer's offsets, so the same layout
 * indexes parameters, gradients and Adam's moments. Weights are O x I, as in PyTorch. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t layer(size_t at, int in, int out, size_t *w, size_t *b)
{
    *w = at;
    *b = at + (size_t)in * (size_t)out;
    return *b + (size_t)out;
}

void nn_vae_layout_init(nn_vae_layout *l, const nn_vae_arch *a)
{
    memset(l, 0, sizeof *l);
    l->a = *a;
    int k = a->nhidden;
    l->nlayers = k + 1;
    size_t at = 0;
    for (int i = 0; i <= k; i++) {     /* encoder: D, h1, ..., hk, 2L */
        l->enc_in[i] = i == 0 ? a->D : a->hidden[i - 1];
        l->enc_out[i] = i == k ? 2 * a->L : a->hidden[i];
        at = layer(at, l->enc_in[i], l->enc_out[i], &l->enc_w[i], &l->enc_b[i]);
    }
    for (int i = 0; i <= k; i++) {     /* decoder: L, hk, ..., h1, D */
        l->dec_in[i] = i == 0 ? a->L : a->hidden[k - i];
        l->dec_out[i] = i == k ? a->D : a->hidden[k - 1 - i];
        at = layer(at, l->dec_in[i], l->dec_out[i], &l->dec_w[i], &l->dec_b[i]);
    }
    l->nparams = at;
}

/* PyTorch's default for nn.Linear: weights and biases uniform in +-1/sqrt(fan_in). */
void nn_vae_init_params(const nn_vae_layout *l, float *p, nn_rng *rng)
{
    for (int i = 0; i < l->nlayers; i++)
        for (int part = 0; part < 2; part++) {
            int in = part ? l->dec_in[i] : l->enc_in[i], out = part ? l->dec_out[i] : l->enc_out[i];
            size_t w = part ? l->dec_w[i] : l->enc_w[i], b = part ? l->dec_b[i] : l->enc_b[i];
            float bound = 1.0f / sqrtf((float)in);
            for (size_t j = 0; j < (size_t)in * (size_t)out; j++)
                p[w + j] = (float)((2 * nn_rng_uniform(rng) - 1) * bound);
            for (int j = 0; j < out; j++) p[b + (size_t)j] = (float)((2 * nn_rng_uniform(rng) - 1) * bound);
        }
}

void nn_vae_work_init(nn_vae_work *w, const nn_vae_layout *l, int B)
{
    memset(w, 0, sizeof *w);
    w->B = B;
    int widest = l->a.D;
    for (int i = 0; i < l->nlayers; i++) {
        w->enc[i + 1] = nn_xmalloc((size_t)B * (size_t)l->enc_out[i] * sizeof(float));
        w->dec[i + 1] = nn_xmalloc((size_t)B * (size_t)l->dec_out[i] * sizeof(float));
        if (l->enc_out[i] > widest) widest = l->enc_out[i];
    }
    w->z = nn_xmalloc((size_t)B * (size_t)l->a.L * sizeof(float));
    w->eps = nn_xmalloc((size_t)B * (size_t)l->a.L * sizeof(float));
    w->d1 = nn_xmalloc((size_t)B * (size_t)widest * sizeof(float));
    w->d2 = nn_xmalloc((size_t)B * (size_t)widest * sizeof(float));
}

void nn_vae_work_free(nn_vae_work *w)
{
    for (int i = 1; i <= NN_MAX_HIDDEN + 1; i++) {
        free(w->enc[i]);
        free(w->dec[i]);
    }
    free(w->z);
    free(w->eps);
    free(w->d1);
    free(w->d2);
    memset(w, 0, sizeof *w);
}

/* Encoder: x (B,D) -> w->enc[nlayers] (B,2L) = [mu | logvar]. */
const float *nn_vae_encode(const nn_vae_layout *l, const float *p, nn_vae_work *w, const float *x, int B)
{
    w->enc[0] = (float *)x;
    for (int i = 0; i < l->nlayers; i++) {
        float *y = w->enc[i + 1];
        nn_linear_forward(y, w->enc[i], p + l->enc_w[i], p + l->enc_b[i], B, l->enc_in[i], l->enc_out[i]);
        if (i + 1 < l->nlayers) nn_relu_forward(y, y, (size_t)B * (size_t)l->enc_out[i]);
    }
    return w->enc[l->nlayers];
}

/* Decoder: z (B,L) -> logits w->dec[nlayers] (B,D). */
const float *nn_vae_decode_logits(const nn_vae_layout *l, const float *p, nn_vae_work *w,
                                  const float *z, int B)
{
    w->dec[0] = (float *)z;
    for (int i = 0; i < l->nlayers; i++) {
        float *y = w->dec[i + 1];
        nn_linear_forward(y, w->dec[i], p + l->dec_w[i], p + l->dec_b[i], B, l->dec_in[i], l->dec_out[i]);
        if (i + 1 < l->nlayers) nn_relu_forward(y, y, (size_t)B * (size_t)l->dec_out[i]);
    }
    return w->dec[l->nlayers];
}

/* One batch: forward with the noise in w->eps, the loss terms summed over the batch, and, when
 * g is not NULL, the gradients of (recon + beta KL) * scale into g (scale = 1 / B for the
 * batch mean; 1 / B of the whole batch when this is a slice of it). */
void nn_vae_step(const nn_vae_layout *l, const float *p, float *g, nn_vae_work *w,
                 const float *x, int B, float beta, float scale, double *recon, double *kl)
{
    const nn_vae_arch *a = &l->a;
    int L = a->L, k = l->nlayers;
    const float *h = nn_vae_encode(l, p, w, x, B);
    nn_reparam_forward(w->z, h, w->eps, B, L);
    const float *logits = nn_vae_decode_logits(l, p, w, w->z, B);
    /* d1 holds the gradient flowing down; d2 is scratch. */
    *recon = nn_recon_loss(g ? w->d1 : NULL, logits, x, (size_t)B * (size_t)a->D, a->gaussian,
                           a->sigma, scale);
    if (!g) {
        *kl = nn_reparam_kl_backward(NULL, NULL, h, w->eps, B, L, beta, scale);
        return;
    }
    for (int i = k - 1; i >= 0; i--) {
        if (i + 1 < k) nn_relu_backward(w->d1, w->d1, w->dec[i + 1], (size_t)B * (size_t)l->dec_out[i]);
        nn_linear_backward(w->d2, g + l->dec_w[i], g + l->dec_b[i], w->d1, w->dec[i],
                           p + l->dec_w[i], B, l->dec_in[i], l->dec_out[i]);
        float *t = w->d1; w->d1 = w->d2; w->d2 = t;
    }
    /* d1 is now d z (B,L). */
    *kl = nn_reparam_kl_backward(w->d2, w->d1, h, w->eps, B, L, beta, scale);
    float *t = w->d1; w->d1 = w->d2; w->d2 = t;
    for (int i = k - 1; i >= 0; i--) {
        if (i + 1 < k) nn_relu_backward(w->d1, w->d1, w->enc[i + 1], (size_t)B * (size_t)l->enc_out[i]);
        nn_linear_backward(i ? w->d2 : NULL, g + l->enc_w[i], g + l->enc_b[i], w->d1, w->enc[i],
                           p + l->enc_w[i], B, l->enc_in[i], l->enc_out[i]);
        t = w->d1; w->d1 = w->d2; w->d2 = t;
    }
}

/* Adam (Kingma and Ba) with PyTorch's L2 weight decay (added to the gradient); t counts steps
 * from 1. The gradient is g, plus g2 when it is not NULL (two workers' halves, summed here so
 * that the memory-bound update reads each array once). Cloned for AVX2 where the CPU has it. */
NN_HOT void nn_adam_step(float *restrict p, const float *restrict g, const float *restrict g2,
                         float *restrict m, float *restrict v, size_t n, const nn_adam *o, long t)
{
    if (g2) {
        float c1 = 1.0f / (1.0f - (float)pow(o->beta1, (double)t));
        float c2 = 1.0f / (1.0f - (float)pow(o->beta2, (double)t));
        float b1 = o->beta1, b2 = o->beta2, lr = o->lr, eps = o->eps, wd = o->weight_decay;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + g2[i] + wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            p[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
        }
        return;
    }
    float c1 = 1.0f / (1.0f - (float)pow(o->beta1, (double)t));
    float c2 = 1.0f / (1.0f - (float)pow(o->beta2, (double)t));
    float b1 = o->beta1, b2 = o->beta2, lr = o->lr, eps = o->eps, wd = o->weight_decay;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}
