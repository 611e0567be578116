/* Registration of images by integer translation: the shift that best matches a reference, and
 * the shifted image. Used by nn-align (faces onto a person's base photo, persons onto a common
 * frame) and nn-score (the real photo onto the base photo before scoring). */
#include "nn.h"

#include <math.h>
#include <stdlib.h>

double nn_region_mse(const nn_image_geom *g, nn_image_view a, nn_image_view b, int h, int w)
{
    double s = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < g->c; c++) {
                double d = (double)a.img[((size_t)(a.y0 + y) * g->w + a.x0 + x) * g->c + c] -
                           b.img[((size_t)(b.y0 + y) * g->w + b.x0 + x) * g->c + c];
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
                double e = nn_region_mse(g, (nn_image_view){ref, R, R}, (nn_image_view){img, R + y, R + x},
                                         g->h - 2 * R, g->w - 2 * R);
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
    if (h->ndim > 3)
        nn_die("%s: header: records are not images (shape has %d dimensions, not HxW or HxWxC)", name, h->ndim);
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

/* ---- local registration: a shift per pixel ---- */

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* out = the sums of in over the (2r+1)-wide window along one axis, the edge values repeated
 * beyond the edges; n values at stride s, `lines` lines at stride ls. Each sum is added up
 * afresh, in the same order for every shift: a running sum would carry rounding from one end
 * of the line to the other, and equal windows must give equal costs for the ties to go to the
 * smaller shift. */
static void box_sums(const double *in, double *out, int n, size_t s, int lines, size_t ls, int r)
{
    for (int l = 0; l < lines; l++) {
        const double *a = in + (size_t)l * ls;
        double *b = out + (size_t)l * ls;
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int k = i - r; k <= i + r; k++) sum += a[(size_t)clampi(k, 0, n - 1) * s];
            b[(size_t)i * s] = sum;
        }
    }
}

void nn_flow_field(const nn_image_geom *g, const float *ref, const float *img, int R, int W,
                   int8_t *fy, int8_t *fx)
{
    size_t n = (size_t)g->h * (size_t)g->w;
    double *cost = nn_xmalloc(n * sizeof(double)), *tmp = nn_xmalloc(n * sizeof(double));
    double *best = nn_xmalloc(n * sizeof(double));
    for (size_t p = 0; p < n; p++) best[p] = INFINITY, fy[p] = fx[p] = 0;
    /* rings of growing radius, and a strict improvement to move: ties keep the smaller shift */
    for (int r = 0; r <= R; r++)
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++) {
                if (dy != -r && dy != r && dx != -r && dx != r) continue;
                for (int y = 0; y < g->h; y++)
                    for (int x = 0; x < g->w; x++) {
                        const float *a = ref + ((size_t)y * g->w + x) * g->c;
                        const float *b = img + ((size_t)clampi(y + dy, 0, g->h - 1) * g->w +
                                                clampi(x + dx, 0, g->w - 1)) * g->c;
                        double s = 0;
                        for (int c = 0; c < g->c; c++) s += ((double)a[c] - b[c]) * ((double)a[c] - b[c]);
                        tmp[(size_t)y * g->w + x] = s;
                    }
                box_sums(tmp, cost, g->w, 1, g->h, (size_t)g->w, W / 2);
                box_sums(cost, tmp, g->h, (size_t)g->w, g->w, 1, W / 2);
                for (size_t p = 0; p < n; p++)
                    if (tmp[p] < best[p]) best[p] = tmp[p], fy[p] = (int8_t)dy, fx[p] = (int8_t)dx;
            }
    free(cost);
    free(tmp);
    free(best);
}

void nn_warp_image(const nn_image_geom *g, const float *src, const int8_t *fy, const int8_t *fx, float *dst)
{
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            size_t p = (size_t)y * g->w + x;
            const float *s = src + ((size_t)clampi(y + fy[p], 0, g->h - 1) * g->w +
                                    clampi(x + fx[p], 0, g->w - 1)) * g->c;
            for (int c = 0; c < g->c; c++) dst[p * g->c + c] = s[c];
        }
}
