/* Registration of images by integer translation: the shift that best matches a reference, and
 * the shifted image. Used by nn-align (faces onto a person's base photo, persons onto a common
 * frame) and nn-score (the real photo onto the base photo before scoring). */
#include "nn.h"

#include <math.h>
#include <stdlib.h>

static double inner_mse(const nn_image_geom *g, const float *ref, const float *img, int R, int dy, int dx)
{
    int h = g->h - 2 * R, w = g->w - 2 * R;
    double s = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < g->c; c++) {
                double d = (double)ref[((size_t)(R + y) * g->w + R + x) * g->c + c] -
                           img[((size_t)(R + y + dy) * g->w + R + x + dx) * g->c + c];
                s += d * d;
            }
    return s / ((double)h * w * g->c);
}

void nn_register_shift(const nn_image_geom *g, const float *ref, const float *img, int R, int *dy, int *dx)
{
    double best = INFINITY;
    *dy = *dx = 0;
    /* rings of growing radius, so that ties go to the smaller shift and a still head keeps (0, 0) */
    for (int r = 0; r <= R; r++)
        for (int y = -r; y <= r; y++)
            for (int x = -r; x <= r; x++) {
                if (abs(y) != r && abs(x) != r) continue;
                double e = inner_mse(g, ref, img, R, y, x);
                if (e < best) best = e, *dy = y, *dx = x;
            }
}

void nn_shift_image(const nn_image_geom *g, const float *src, int dy, int dx, float *dst)
{
    for (int y = 0; y < g->h; y++) {
        int sy = y + dy < 0 ? 0 : y + dy >= g->h ? g->h - 1 : y + dy;
        for (int x = 0; x < g->w; x++) {
            int sx = x + dx < 0 ? 0 : x + dx >= g->w ? g->w - 1 : x + dx;
            for (int c = 0; c < g->c; c++)
                dst[((size_t)y * g->w + x) * g->c + c] = src[((size_t)sy * g->w + sx) * g->c + c];
        }
    }
}

nn_image_geom nn_image_geom_of(const nn_header *h, const char *name)
{
    if (h->ndim < 2) nn_die("%s: header: records are not images (shape needs height and width)", name);
    return (nn_image_geom){(int)h->shape[0], (int)h->shape[1], h->ndim > 2 ? (int)h->shape[2] : 1};
}

void nn_header_f32_like(nn_header *dst, const nn_header *src)
{
    *dst = *src;
    dst->meta = NULL;
    dst->meta_len = 0;
    dst->dtype = NN_F32;
    dst->nbytes = dst->count * sizeof(float);
}
