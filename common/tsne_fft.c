/* t-SNE repulsion in 2-D by FFT-accelerated interpolation (Linderman, Rachh, Hoskins,
 * Steinerberger, Kluger, "Fast interpolation-based t-SNE", Nature Methods 2019).
 *
 * With w = 1 / (1 + d^2) and the kernel K(d) = w^2 = 1 / (1 + d^2)^2, four potentials
 *   phi_c(y_i) = sum_j K(|y_i - y_j|) q_c(y_j),   q = [1, y_x, y_y, |y|^2]
 * give both sums:
 *   sum_j w_ij^2 (y_i - y_j) = y_i phi_1 - (phi_2, phi_3)
 *   sum_j w_ij = sum_j w_ij^2 (1 + |y_i - y_j|^2)
 *              = (1 + |y_i|^2) phi_1 - 2 y_i . (phi_2, phi_3) + phi_4
 * Coordinates are taken relative to the centre of the bounding box, which keeps the
 * cancellation in the last line small.
 *
 * The potentials come from an equispaced square grid of N x N nodes over the bounding box:
 * each point's charges are spread to the NODES x NODES nodes nearest it with Lagrange weights,
 * the grid is convolved with K sampled on the node offsets (a circulant embedding of size
 * 2N x 2N, by FFT), and the potentials are interpolated back with the same weights. So the
 * result is sum_j K~(y_i, y_j) q(y_j) with one interpolated kernel K~ for all four charges, the
 * formulas above hold for K~ exactly, and the only error is K~ - K. A point's own term
 * cancels exactly in rep; in sumw it is K~(y_i, y_i) instead of 1, so that is computed (from
 * the kernel on the offsets inside the point's stencil) and replaced by the exact 1.
 *
 * FIt-SNE cuts the box into boxes of NODES nodes each, and a point uses the nodes of its box,
 * out to half a node spacing beyond the outermost; here a point uses the NODES nodes centred on
 * it (within half a spacing of the middle one), whose interpolation error bound is five times
 * smaller for NODES = 3. Measured, at the same node spacing the force error is 2 to 2.5 times
 * smaller than with FIt-SNE's boxes, so the same error takes about half the nodes.
 *
 * Accuracy parameters:
 *   NODES = 3         Lagrange nodes per dimension for each point (quadratic interpolation,
 *                     as FIt-SNE);
 *   SPACING = 0.25    the widest node spacing, in map units (FIt-SNE's box width 1 with 3
 *                     nodes gives 1/3);
 *   MIN_NODES = 150   nodes per dimension at least (FIt-SNE's 50 boxes of 3), so that small
 *                     maps get a finer grid;
 * N = max(MIN_NODES, ceil(span / SPACING) + NODES) rounded up to a number whose prime factors
 * are at most 7 (for FFTW), at most MAX_NODES = 2048: wider maps (span above 511) get a coarser
 * spacing rather than more than the ~300 MB the grid then takes. The error grows as the
 * spacing cubed. Against direct summation (tests/unit/test_tsne_fft.c), the force vector's
 * relative error for clustered maps is below 1e-4 at span 10, about 2e-3 at span 50 and 3e-3
 * to 5e-3 at span 100; 7e-3 for a uniform square of side 100 or a Gaussian blob of span 150
 * (where the far forces cancel and the near ones dominate); Z's is below 3e-4. (FIt-SNE's
 * settings give 2.5e-2 for the forces at span 100.)
 *
 * Cost: O(n) to sort, spread and interpolate; O(N^2 log N) for the FFTs, which work in 1-D
 * passes that skip the zero padding: the rows that hold data are transformed (real to
 * complex, in place), then the columns in chunks small enough for the cache (transposed into
 * a buffer, transformed, multiplied by the kernel's transform, transformed back), then the
 * same rows back. The kernel is real and even in both coordinates, so its transform is real
 * and comes from (N+1)-point DCT-I's. Plans are made on every call with FFTW_ESTIMATE (no
 * timing, so the same plan and the same bytes every time) under a lock, since FFTW's planner
 * is not thread-safe; executing plans is.
 *
 * Threads: points are sorted by the first row of their stencils (a stable counting sort) and
 * cut into bands of BAND rows; each thread takes a run of bands, spreads the points of its even
 * bands, waits for all, then those of its odd bands: bands of one parity touch disjoint rows,
 * so nodes are never written by two threads at once, and each node adds its points in an order
 * that does not depend on the number of threads. The four convolutions run one per thread (up
 * to four); the interpolation writes only each point's own outputs. The result is the same
 * bytes for any number of threads. */
#include "tsne.h"
#include "nn.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifndef NODES
#define NODES 3
#endif
#ifndef SPACING
#define SPACING 0.25
#endif
enum { MIN_NODES = 150, MAX_NODES = 2048, CHUNK = 8, BAND = 8 };
_Static_assert(BAND >= NODES - 1, "bands of one parity must not share rows");

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    size_t N, H, M;           /* nodes per dimension; N + 1; the FFT size 2N */
    double lo_x, lo_y;        /* the position of node 0 */
    double inv_s;             /* 1 / node spacing */
    double cx, cy;            /* the centre: charges use coordinates relative to it */
    const double *ys;         /* the points sorted by the first row of their stencil */
    const size_t *perm;       /* their indices in y */
    const size_t *row_start;  /* ys[row_start[r] .. row_start[r + 1]) have stencils from row r */
    double *grid[4];          /* N rows of 2H doubles (N used): charges, then potentials */
    double *khat;             /* H x H: the kernel's transform divided by M^2 */
    double knear[NODES][NODES];   /* the kernel on node offsets inside a stencil */
    fftw_plan rows_r2c, rows_c2r, cols_fwd, cols_bwd;
    fftw_complex *colbuf[4];  /* CHUNK x M per convolution thread */
    double *out;              /* 3 per point, sorted: rep, then sumw */
    double *rep, *sumw;
} ctx;

typedef struct {
    ctx *c;
    int id, nworkers;
    int band_first, band_last;   /* bands of BAND stencil rows */
    int phase;                   /* spreading: 0 zeroes, 1 even bands, 2 odd bands */
} job;

/* The Lagrange weights of the nodes at 0, 1, ..., NODES - 1 for the position u. */
static inline void lagrange(double u, double *w)
{
    for (int j = 0; j < NODES; j++) {
        double num = 1, den = 1;
        for (int m = 0; m < NODES; m++)
            if (m != j) num *= u - m, den *= j - m;
        w[j] = num / den;
    }
}

/* The first node of a coordinate's stencil (the NODES nodes nearest it), and their weights. */
static inline int locate(const ctx *c, double v, double lo, double *w)
{
    double t = (v - lo) * c->inv_s, f = floor(t - 0.5 * (NODES - 1) + 0.5);
    if (!(f >= 0)) f = 0;   /* NaN too */
    if (f > (double)(c->N - NODES)) f = (double)(c->N - NODES);
    lagrange(t - f, w);
    return (int)f;
}

/* The first stencil row of a band (N - NODES + 1 for the end). */
static size_t band_start(const ctx *c, int band)
{
    size_t r = (size_t)band * BAND, nrows = c->N - NODES + 1;
    return r < nrows ? r : nrows;
}

static void *spread(void *arg)
{
    job *jb = arg;
    ctx *c = jb->c;
    size_t stride = 2 * c->H;
    if (jb->phase == 0) {   /* zero a share of the rows */
        size_t first = c->N * (size_t)jb->id / (size_t)jb->nworkers;
        size_t last = c->N * (size_t)(jb->id + 1) / (size_t)jb->nworkers;
        for (int q = 0; q < 4; q++)
            memset(c->grid[q] + first * stride, 0, (last - first) * stride * sizeof(double));
        return NULL;
    }
    double *g0 = c->grid[0], *g1 = c->grid[1], *g2 = c->grid[2], *g3 = c->grid[3];
    for (int band = jb->band_first; band < jb->band_last; band++) {
        if ((band & 1) != jb->phase - 1) continue;
        size_t k0 = c->row_start[band_start(c, band)], k1 = c->row_start[band_start(c, band + 1)];
        for (size_t k = k0; k < k1; k++) {
            double x = c->ys[2 * k], y = c->ys[2 * k + 1], wx[NODES], wy[NODES];
            size_t fx = (size_t)locate(c, x, c->lo_x, wx), fy = (size_t)locate(c, y, c->lo_y, wy);
            double sx = x - c->cx, sy = y - c->cy, s2 = sx * sx + sy * sy;
            for (int a = 0; a < NODES; a++) {
                size_t at = (fy + (size_t)a) * stride + fx;
                for (int b = 0; b < NODES; b++) {
                    double w = wy[a] * wx[b];
                    g0[at + (size_t)b] += w;
                    g1[at + (size_t)b] += w * sx;
                    g2[at + (size_t)b] += w * sy;
                    g3[at + (size_t)b] += w * s2;
                }
            }
        }
    }
    return NULL;
}

/* Convolves one grid with the kernel, in place. */
static void convolve_grid(const ctx *c, double *g, fftw_complex *buf)
{
    size_t N = c->N, H = c->H, M = c->M;
    fftw_complex *a = (fftw_complex *)g;   /* row r: H complex values after the r2c */
    fftw_execute_dft_r2c(c->rows_r2c, g, a);
    for (size_t c0 = 0; c0 < H; c0 += CHUNK) {
        size_t cn = H - c0 < CHUNK ? H - c0 : CHUNK;
        double *b = (double *)buf;
        for (size_t r = 0; r < N; r++) {
            const double *src = (const double *)(a + r * H + c0);
            for (size_t j = 0; j < cn; j++) {
                b[2 * (j * M + r)] = src[2 * j];
                b[2 * (j * M + r) + 1] = src[2 * j + 1];
            }
        }
        for (size_t j = 0; j < CHUNK; j++) {
            size_t from = j < cn ? N : 0;
            memset(buf + j * M + from, 0, (M - from) * sizeof(fftw_complex));
        }
        fftw_execute_dft(c->cols_fwd, buf, buf);
        for (size_t j = 0; j < cn; j++) {
            const double *kh = c->khat + (c0 + j) * H;
            double *col = b + 2 * j * M;
            for (size_t ky = 0; ky <= N; ky++) col[2 * ky] *= kh[ky], col[2 * ky + 1] *= kh[ky];
            for (size_t ky = N + 1; ky < M; ky++)
                col[2 * ky] *= kh[M - ky], col[2 * ky + 1] *= kh[M - ky];
        }
        fftw_execute_dft(c->cols_bwd, buf, buf);
        for (size_t r = 0; r < N; r++) {
            double *dst = (double *)(a + r * H + c0);
            for (size_t j = 0; j < cn; j++) {
                dst[2 * j] = b[2 * (j * M + r)];
                dst[2 * j + 1] = b[2 * (j * M + r) + 1];
            }
        }
    }
    fftw_execute_dft_c2r(c->rows_c2r, a, g);
}

static void *convolve(void *arg)
{
    job *jb = arg;
    for (int q = jb->id; q < 4; q += jb->nworkers)
        convolve_grid(jb->c, jb->c->grid[q], jb->c->colbuf[jb->id]);
    return NULL;
}

static void *interpolate(void *arg)
{
    job *jb = arg;
    ctx *c = jb->c;
    size_t stride = 2 * c->H;
    const double *g0 = c->grid[0], *g1 = c->grid[1], *g2 = c->grid[2], *g3 = c->grid[3];
    size_t k0 = c->row_start[band_start(c, jb->band_first)];
    size_t k1 = c->row_start[band_start(c, jb->band_last)];
    for (size_t k = k0; k < k1; k++) {
        double x = c->ys[2 * k], y = c->ys[2 * k + 1], wx[NODES], wy[NODES];
        size_t fx = (size_t)locate(c, x, c->lo_x, wx), fy = (size_t)locate(c, y, c->lo_y, wy);
        double p0 = 0, p1 = 0, p2 = 0, p3 = 0;
        for (int a = 0; a < NODES; a++) {
            size_t at = (fy + (size_t)a) * stride + fx;
            for (int b = 0; b < NODES; b++) {
                double w = wy[a] * wx[b];
                p0 += w * g0[at + (size_t)b];
                p1 += w * g1[at + (size_t)b];
                p2 += w * g2[at + (size_t)b];
                p3 += w * g3[at + (size_t)b];
            }
        }
        /* The point's own term in the grid's sumw: the sum over pairs of nodes of its stencil
         * of weight times weight times kernel. ex[d], ey[d]: the sums of the products of the
         * weights of nodes d apart (both orders). */
        double ex[NODES], ey[NODES], self = 0;
        for (int d = 0; d < NODES; d++) {
            ex[d] = ey[d] = 0;
            for (int a = 0; a + d < NODES; a++) ex[d] += wx[a] * wx[a + d], ey[d] += wy[a] * wy[a + d];
            if (d) ex[d] *= 2, ey[d] *= 2;
        }
        for (int a = 0; a < NODES; a++)
            for (int b = 0; b < NODES; b++) self += ey[a] * ex[b] * c->knear[a][b];
        double sx = x - c->cx, sy = y - c->cy;
        double *o = c->out + 3 * k;
        o[0] = sx * p0 - p1;
        o[1] = sy * p0 - p2;
        o[2] = (1 + sx * sx + sy * sy) * p0 - 2 * (sx * p1 + sy * p2) + p3 - self + 1;
    }
    /* Scattered stores in a loop of their own, where many cache misses can be in flight. */
    for (size_t k = k0; k < k1; k++) {
        size_t i = c->perm[k];
        c->rep[2 * i] = c->out[3 * k], c->rep[2 * i + 1] = c->out[3 * k + 1];
        c->sumw[i] = c->out[3 * k + 2];
    }
    return NULL;
}

static int smooth(int v)
{
    for (int p = 2; p <= 7; p++)
        while (v % p == 0) v /= p;
    return v == 1;
}

static void *xfftw_malloc(size_t bytes)
{
    void *p = fftw_malloc(bytes);
    if (!p) nn_die("out of memory (%zu bytes for the t-SNE FFT grid)", bytes);
    return p;
}

/* The kernel on node offsets 0 .. N in each coordinate (offset N stands for -N too: the even
 * extension of period 2N = M), then its 2-D DFT, real: DCT-I's along the rows, a transpose
 * and again (the result is symmetric), divided by M^2 for the unnormalised inverse. */
static void kernel_transform(ctx *c, double spacing, fftw_plan dct)
{
    size_t H = c->H;
    double *k = c->khat, scale = 1.0 / ((double)c->M * (double)c->M);
    for (size_t a = 0; a < H; a++)
        for (size_t b = a; b < H; b++) {
            double d2 = (double)(a * a + b * b) * spacing * spacing;
            k[a * H + b] = k[b * H + a] = scale / ((1 + d2) * (1 + d2));
        }
    for (int a = 0; a < NODES; a++)
        for (int b = 0; b < NODES; b++) c->knear[a][b] = k[(size_t)a * H + (size_t)b] / scale;
    fftw_execute(dct);
    enum { TILE = 32 };
    for (size_t a0 = 0; a0 < H; a0 += TILE)
        for (size_t b0 = a0; b0 < H; b0 += TILE) {
            size_t a1 = a0 + TILE < H ? a0 + TILE : H, b1 = b0 + TILE < H ? b0 + TILE : H;
            for (size_t a = a0; a < a1; a++)
                for (size_t b = b0 == a0 ? a + 1 : b0; b < b1; b++) {
                    double t = k[a * H + b];
                    k[a * H + b] = k[b * H + a];
                    k[b * H + a] = t;
                }
        }
    fftw_execute(dct);
}

void nn_tsne_repulsion_fft(const double *y, size_t n, double *rep, double *sumw, int nthreads)
{
    if (n == 0) return;
    nthreads = nn_threads(nthreads);

    double xmin = y[0], xmax = y[0], ymin = y[1], ymax = y[1];
    for (size_t i = 1; i < n; i++) {
        double a = y[2 * i], b = y[2 * i + 1];
        xmin = a < xmin ? a : xmin, xmax = a > xmax ? a : xmax;
        ymin = b < ymin ? b : ymin, ymax = b > ymax ? b : ymax;
    }
    ctx c = {.rep = rep, .sumw = sumw};
    c.cx = 0.5 * (xmin + xmax), c.cy = 0.5 * (ymin + ymax);
    double span = fmax(xmax - xmin, ymax - ymin);
    if (!(span > 0) || !isfinite(span)) span = 1;   /* one point, all equal, or overflow */
    if (!isfinite(c.cx) || !isfinite(c.cy)) c.cx = c.cy = 0;
    double want = ceil(span / SPACING);
    size_t intervals = want < MIN_NODES - NODES ? MIN_NODES - NODES
                       : want > MAX_NODES - NODES ? MAX_NODES - NODES : (size_t)want;
    c.N = intervals + NODES;
    while (!smooth(c.N)) c.N++;
    c.H = c.N + 1, c.M = 2 * c.N;
    double spacing = span / (double)intervals;
    c.inv_s = 1 / spacing;
    c.lo_x = c.cx - 0.5 * (double)(c.N - 1) * spacing;   /* centred: margins on all sides */
    c.lo_y = c.cy - 0.5 * (double)(c.N - 1) * spacing;
    size_t N = c.N, H = c.H, M = c.M, nrows = N - NODES + 1;

    /* Sort the points by the first row of their stencils (stable). */
    size_t *perm = nn_xmalloc(n * sizeof(size_t)), *next = nn_xmalloc(nrows * sizeof(size_t));
    size_t *row_start = nn_xcalloc(nrows + 1, sizeof(size_t));
    double *ys = nn_xmalloc(2 * n * sizeof(double));
    c.out = nn_xmalloc(3 * n * sizeof(double));
    int *row = nn_xmalloc(n * sizeof(int));
    for (size_t i = 0; i < n; i++) {
        double w[NODES];
        row[i] = locate(&c, y[2 * i + 1], c.lo_y, w);
        row_start[row[i] + 1]++;
    }
    for (size_t r = 0; r < nrows; r++) row_start[r + 1] += row_start[r];
    memcpy(next, row_start, nrows * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        size_t k = next[row[i]]++;
        perm[k] = i;
        ys[2 * k] = y[2 * i], ys[2 * k + 1] = y[2 * i + 1];
    }
    free(row);
    free(next);
    c.perm = perm, c.ys = ys, c.row_start = row_start;

    /* Each thread takes a run of bands with about n / nthreads points. */
    int nbands = (int)((nrows + BAND - 1) / BAND), nt = nthreads < nbands ? nthreads : nbands;
    job jobs[NN_MAX_THREADS];
    for (int k = 0, b = 0; k < nt; k++) {
        int first = b;
        size_t goal = n * (size_t)(k + 1) / (size_t)nt;
        if (k == nt - 1) b = nbands;
        else
            while (b < nbands && row_start[band_start(&c, b + 1)] <= goal) b++;
        jobs[k] = (job){&c, k, nt, first, b, 0};
    }

    int nw = nthreads < 4 ? nthreads : 4;
    for (int q = 0; q < 4; q++) c.grid[q] = xfftw_malloc(N * 2 * H * sizeof(double));
    for (int k = 0; k < nw; k++) c.colbuf[k] = xfftw_malloc(CHUNK * M * sizeof(fftw_complex));
    c.khat = xfftw_malloc(H * H * sizeof(double));

    pthread_mutex_lock(&planner_lock);
    int m = (int)M, h = (int)H;
    fftw_complex *g0 = (fftw_complex *)c.grid[0];
    c.rows_r2c = fftw_plan_many_dft_r2c(1, &m, (int)N, c.grid[0], NULL, 1, 2 * h, g0, NULL, 1, h,
                                        FFTW_ESTIMATE);
    c.rows_c2r = fftw_plan_many_dft_c2r(1, &m, (int)N, g0, NULL, 1, h, c.grid[0], NULL, 1, 2 * h,
                                        FFTW_ESTIMATE);
    c.cols_fwd = fftw_plan_many_dft(1, &m, CHUNK, c.colbuf[0], NULL, 1, m, c.colbuf[0], NULL, 1, m,
                                    FFTW_FORWARD, FFTW_ESTIMATE);
    c.cols_bwd = fftw_plan_many_dft(1, &m, CHUNK, c.colbuf[0], NULL, 1, m, c.colbuf[0], NULL, 1, m,
                                    FFTW_BACKWARD, FFTW_ESTIMATE);
    fftw_r2r_kind dct1 = FFTW_REDFT00;
    fftw_plan dct = fftw_plan_many_r2r(1, &h, h, c.khat, NULL, 1, h, c.khat, NULL, 1, h, &dct1,
                                       FFTW_ESTIMATE);
    pthread_mutex_unlock(&planner_lock);
    if (!c.rows_r2c || !c.rows_c2r || !c.cols_fwd || !c.cols_bwd || !dct)
        nn_die("FFTW could not plan transforms of size %zu", M);

    kernel_transform(&c, spacing, dct);
    /* Zero the grids, then spread the points of the even bands, then the odd: bands of the
     * same parity touch disjoint rows (BAND >= NODES - 1), so no two threads ever add to the
     * same node at once, and each node adds its points in an order that does not depend on
     * the number of threads. */
    for (int phase = 0; phase < 3; phase++) {
        for (int k = 0; k < nt; k++) jobs[k].phase = phase;
        nn_run_jobs(spread, jobs, sizeof jobs[0], nt);
    }
    job workers[4];
    for (int k = 0; k < nw; k++) workers[k] = (job){&c, k, nw, 0, 0, 0};
    nn_run_jobs(convolve, workers, sizeof workers[0], nw);
    nn_run_jobs(interpolate, jobs, sizeof jobs[0], nt);

    pthread_mutex_lock(&planner_lock);
    fftw_destroy_plan(c.rows_r2c);
    fftw_destroy_plan(c.rows_c2r);
    fftw_destroy_plan(c.cols_fwd);
    fftw_destroy_plan(c.cols_bwd);
    fftw_destroy_plan(dct);
    pthread_mutex_unlock(&planner_lock);
    for (int q = 0; q < 4; q++) fftw_free(c.grid[q]);
    for (int k = 0; k < nw; k++) fftw_free(c.colbuf[k]);
    fftw_free(c.khat);
    free(perm);
    free(ys);
    free(c.out);
    free(row_start);
}
