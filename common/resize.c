/* Cropping and resizing float images. Resizing is separable: along each axis, area averaging
 * when shrinking (each output pixel is the mean of the source area it covers, so no aliasing),
 * bilinear with pixel centres at +0.5 when growing, a copy when the size is kept. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int nn_image_crop(nn_image *img, int x, int y, int w, int h)
{
    if (x < 0 || y < 0 || w <= 0 || h <= 0 || (long long)x + w > img->w ||
        (long long)y + h > img->h)
        return -1;
    float *out = nn_xmalloc((size_t)w * (size_t)h * (size_t)img->c * sizeof(float));
    size_t row = (size_t)w * (size_t)img->c;
    for (int r = 0; r < h; r++)
        memcpy(out + (size_t)r * row,
               img->px + ((size_t)(y + r) * (size_t)img->w + (size_t)x) * (size_t)img->c,
               row * sizeof(float));
    free(img->px);
    img->px = out;
    img->w = w;
    img->h = h;
    return 0;
}

/* Taps of one axis: output i reads first[i] .. first[i] + count[i] - 1 with weights
 * w[i * max + k]. */
typedef struct {
    int *first, *count, max;
    float *w;
} taps;

static void make_taps(taps *t, int src, int dst)
{
    double scale = (double)src / dst;
    t->max = dst < src ? (int)ceil(scale) + 1 : 2;
    t->first = nn_xmalloc((size_t)dst * sizeof(int));
    t->count = nn_xmalloc((size_t)dst * sizeof(int));
    t->w = nn_xcalloc((size_t)dst * (size_t)t->max, sizeof(float));
    for (int i = 0; i < dst; i++) {
        float *w = t->w + (size_t)i * (size_t)t->max;
        if (dst < src) {
            double a = i * scale, b = (i + 1) * scale;
            int j0 = (int)floor(a), j1 = (int)ceil(b);
            if (j1 > src) j1 = src;
            t->first[i] = j0;
            t->count[i] = j1 - j0;
            for (int j = j0; j < j1; j++) {
                double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
                w[j - j0] = (float)((hi - lo) / scale);
            }
        } else if (dst > src) {
            double x = (i + 0.5) * scale - 0.5;
            if (x < 0) x = 0;
            if (x > src - 1) x = src - 1;
            int j0 = (int)floor(x);
            double frac = x - j0;
            t->first[i] = j0;
            t->count[i] = j0 + 1 < src ? 2 : 1;
            w[0] = (float)(1 - frac);
            if (t->count[i] == 2) w[1] = (float)frac;
        } else {
            t->first[i] = i;
            t->count[i] = 1;
            w[0] = 1;
        }
    }
}

static void free_taps(taps *t)
{
    free(t->first);
    free(t->count);
    free(t->w);
}

void nn_image_resize(nn_image *img, int w, int h)
{
    if (w == img->w && h == img->h) return;
    int c = img->c;
    taps tx, ty;
    make_taps(&tx, img->w, w);
    make_taps(&ty, img->h, h);
    /* Columns first, over whole rows (contiguous, so the compiler vectorises it):
     * (img->h, img->w, c) -> (h, img->w, c); then rows: -> (h, w, c). */
    size_t in_row = (size_t)img->w * (size_t)c, out_row = (size_t)w * (size_t)c;
    float *mid = nn_xcalloc((size_t)h * in_row, sizeof(float));
    for (int y = 0; y < h; y++) {
        const float *wt = ty.w + (size_t)y * (size_t)ty.max;
        float *restrict dst = mid + (size_t)y * in_row;
        for (int k = 0; k < ty.count[y]; k++) {
            const float *restrict src = img->px + (size_t)(ty.first[y] + k) * in_row;
            const float weight = wt[k];
            for (size_t i = 0; i < in_row; i++) dst[i] += weight * src[i];
        }
    }
    float *out = nn_xcalloc((size_t)h * out_row, sizeof(float));
    for (int y = 0; y < h; y++) {
        const float *src = mid + (size_t)y * in_row;
        float *dst = out + (size_t)y * out_row;
        for (int x = 0; x < w; x++, dst += c) {
            const float *wt = tx.w + (size_t)x * (size_t)tx.max;
            const float *s = src + (size_t)tx.first[x] * (size_t)c;
            if (c == 1) {
                float acc = 0;
                for (int k = 0; k < tx.count[x]; k++) acc += wt[k] * s[k];
                dst[0] = acc;
                continue;
            }
            for (int k = 0; k < tx.count[x]; k++)
                for (int ch = 0; ch < c; ch++) dst[ch] += wt[k] * s[k * c + ch];
        }
    }
    free(mid);
    free_taps(&tx);
    free_taps(&ty);
    free(img->px);
    img->px = out;
    img->w = w;
    img->h = h;
}
