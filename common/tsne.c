/* t-SNE (van der Maaten and Hinton, 2008): input similarities from exact nearest neighbours,
 * and the gradient descent of openTSNE and scikit-learn (early exaggeration, momentum, gains),
 * with the repulsion computed exactly, by Barnes-Hut or by FFT interpolation (tsne_*.c). */
#include "nn.h"
#include "tsne.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- nearest neighbours */

typedef struct {
    const float *ref, *q;
    const float *ref_norm;
    size_t nref, nq, d, first, last;
    int k, same;               /* same: queries are the reference points (skip i == j) */
    uint32_t *idx;
    float *dist2;
} knn_job;

/* Keeps the k smallest (distance, index) pairs in a max-heap. */
static void heap_push(float *hd, uint32_t *hi, int *n, int k, float d, uint32_t j)
{
    int at;
    if (*n < k) {
        at = (*n)++;
        while (at > 0) {
            int up = (at - 1) / 2;
            if (hd[up] > d || (hd[up] == d && hi[up] > j)) break;
            hd[at] = hd[up], hi[at] = hi[up], at = up;
        }
        hd[at] = d, hi[at] = j;
        return;
    }
    if (d > hd[0] || (d == hd[0] && j > hi[0])) return;
    at = 0;
    for (;;) {                                        /* sift the new root down */
        int c = 2 * at + 1;
        if (c >= k) break;
        if (c + 1 < k && (hd[c + 1] > hd[c] || (hd[c + 1] == hd[c] && hi[c + 1] > hi[c]))) c++;
        if (hd[c] < d || (hd[c] == d && hi[c] < j)) break;
        hd[at] = hd[c], hi[at] = hi[c], at = c;
    }
    hd[at] = d, hi[at] = j;
}

/* Offers the row's distances (columns c0 ..) to the heap. Sixteen at a time are compared with
 * the heap's largest at once; a group with no candidate, by far the usual case, costs one
 * vector compare. */
NN_HOT static void scan_row(const float *row, int nc, size_t c0, float *h, uint32_t *hidx, int *hn, int k)
{
    float limit = *hn == k ? h[0] : INFINITY;
    int c = 0;
    for (; c + 16 <= nc; c += 16) {
        int hit = 0;
        for (int t = 0; t < 16; t++) hit |= row[c + t] < limit;
        if (!hit && limit != INFINITY) continue;
        for (int t = c; t < c + 16; t++) {
            if (row[t] > limit || row[t] == INFINITY) continue;
            heap_push(h, hidx, hn, k, row[t], (uint32_t)(c0 + (size_t)t));
            if (*hn == k) limit = h[0];
        }
    }
    for (; c < nc; c++) {
        if (row[c] > limit || row[c] == INFINITY) continue;
        heap_push(h, hidx, hn, k, row[c], (uint32_t)(c0 + (size_t)c));
        if (*hn == k) limit = h[0];
    }
}

static void *knn_run(void *arg)
{
    knn_job *j = arg;
    enum { BLOCK = 256, COLS = 4096 };
    float *dots = nn_xmalloc((size_t)BLOCK * COLS * sizeof(float));
    float *hd = nn_xmalloc((size_t)BLOCK * (size_t)j->k * sizeof(float));
    uint32_t *hi = nn_xmalloc((size_t)BLOCK * (size_t)j->k * sizeof(uint32_t));
    int *hn = nn_xmalloc(BLOCK * sizeof(int));
    for (size_t q0 = j->first; q0 < j->last; q0 += BLOCK) {
        int nb = (int)(j->last - q0 < BLOCK ? j->last - q0 : BLOCK);
        memset(hn, 0, BLOCK * sizeof(int));
        float qn[BLOCK];
        for (int a = 0; a < nb; a++) {
            const float *v = j->q + (q0 + (size_t)a) * j->d;
            double s = 0;
            for (size_t t = 0; t < j->d; t++) s += (double)v[t] * v[t];
            qn[a] = (float)s;
        }
        for (size_t c0 = 0; c0 < j->nref; c0 += COLS) {
            int nc = (int)(j->nref - c0 < COLS ? j->nref - c0 : COLS);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, nc, (int)j->d, 1.0f,
                        j->q + q0 * j->d, (int)j->d, j->ref + c0 * j->d, (int)j->d, 0.0f, dots, nc);
            const float *rn = j->ref_norm + c0;
            for (int a = 0; a < nb; a++) {
                float *row = dots + (size_t)a * (size_t)nc, *h = hd + (size_t)a * (size_t)j->k;
                uint32_t *hidx = hi + (size_t)a * (size_t)j->k;
                /* |q|^2 + |r|^2 - 2 q.r in one vectorised pass, then a scan against the heap's
                 * largest, which after the first few columns rarely lets anything through. */
                for (int c = 0; c < nc; c++) {
                    float d2 = qn[a] + rn[c] - 2 * row[c];
                    row[c] = d2 > 0 ? d2 : 0;
                }
                size_t self = q0 + (size_t)a;
                if (j->same && self >= c0 && self < c0 + (size_t)nc) row[self - c0] = INFINITY;
                scan_row(row, nc, c0, h, hidx, &hn[a], j->k);
            }
        }
        /* Heap order out: sorted by distance, then index. */
        for (int a = 0; a < nb; a++) {
            float *h = hd + (size_t)a * (size_t)j->k;
            uint32_t *hidx = hi + (size_t)a * (size_t)j->k;
            size_t row = q0 + (size_t)a;
            for (int n = hn[a]; n > 0; n--) {
                j->dist2[row * (size_t)j->k + (size_t)n - 1] = h[0];
                j->idx[row * (size_t)j->k + (size_t)n - 1] = hidx[0];
                float ld = h[n - 1];
                uint32_t li = hidx[n - 1];
                int m = n - 1, at = 0;
                for (;;) {
                    int c = 2 * at + 1;
                    if (c >= m) break;
                    if (c + 1 < m && (h[c + 1] > h[c] || (h[c + 1] == h[c] && hidx[c + 1] > hidx[c]))) c++;
                    if (h[c] < ld || (h[c] == ld && hidx[c] < li)) break;
                    h[at] = h[c], hidx[at] = hidx[c], at = c;
                }
                h[at] = ld, hidx[at] = li;
            }
        }
    }
    free(dots);
    free(hd);
    free(hi);
    free(hn);
    return NULL;
}

void nn_knn(const float *ref, size_t nref, const float *q, size_t nq, size_t d, int k,
            int same, uint32_t *idx, float *dist2, int nthreads)
{
    float *norm = nn_xmalloc((nref ? nref : 1) * sizeof(float));
    for (size_t i = 0; i < nref; i++) {
        double s = 0;
        for (size_t t = 0; t < d; t++) s += (double)ref[i * d + t] * ref[i * d + t];
        norm[i] = (float)s;
    }
    nthreads = nn_threads(nthreads);
    knn_job jobs[NN_MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        size_t first, last;
        nn_share(nq, t, nthreads, &first, &last);
        jobs[t] = (knn_job){ref, q, norm, nref, nq, d, first, last, k, same, idx, dist2};
    }
    nn_run_jobs(knn_run, jobs, sizeof jobs[0], nthreads);
    free(norm);
}

/* ---------------------------------------------------------------- perplexity */

/* p[0..k) proportional to exp(-beta (d2 - d2[0])) with entropy log(perplexity), by bisection
 * on beta. Equal distances (duplicates) give a uniform row, never a division by zero.
 * Returns the entropy reached. */
double nn_perplexity_row(const float *d2, int k, double perplexity, double *p)
{
    double target = log(perplexity), beta = 1, lo = 0, hi = INFINITY, h = 0;
    double dmin = d2[0];
    for (int j = 1; j < k; j++) dmin = d2[j] < dmin ? d2[j] : dmin;
    for (int it = 0; it < 200; it++) {
        double sum = 0, dot = 0;
        for (int j = 0; j < k; j++) {
            p[j] = exp(-beta * (d2[j] - dmin));
            sum += p[j];
            dot += p[j] * (d2[j] - dmin);
        }
        h = log(sum) + beta * dot / sum;
        for (int j = 0; j < k; j++) p[j] /= sum;
        if (fabs(h - target) < 1e-5) break;
        if (h > target) {
            lo = beta;
            beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
        } else {
            hi = beta;
            beta = (beta + lo) / 2;
        }
    }
    return h;
}

typedef struct {
    const float *d2;
    double *p;
    size_t first, last;
    int k;
    double perplexity;
} perplexity_job;

static void *perplexity_run(void *arg)
{
    perplexity_job *j = arg;
    for (size_t i = j->first; i < j->last; i++)
        nn_perplexity_row(j->d2 + i * (size_t)j->k, j->k, j->perplexity, j->p + i * (size_t)j->k);
    return NULL;
}

/* nn_perplexity_row for n rows of k, shared among threads (each row on its own: the same bytes
 * for any thread count). */
void nn_perplexity_rows(const float *d2, size_t n, int k, double perplexity, double *p, int nthreads)
{
    nthreads = nn_threads(nthreads);
    perplexity_job jobs[NN_MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        size_t first, last;
        nn_share(n, t, nthreads, &first, &last);
        jobs[t] = (perplexity_job){d2, p, first, last, k, perplexity};
    }
    nn_run_jobs(perplexity_run, jobs, sizeof jobs[0], nthreads);
}

/* The transpose of the n x n sparse matrix with rows (row, col) by counting: row j of the
 * result lists, in increasing i, each i with an entry (i, j), and in tpos that entry's place in
 * col (or pos[place] if pos is given). */
static void transpose(size_t n, const size_t *row, const uint32_t *col, const uint32_t *pos,
                      size_t *trow, uint32_t *tcol, uint32_t *tpos)
{
    memset(trow, 0, (n + 1) * sizeof(size_t));
    for (size_t e = 0; e < row[n]; e++) trow[col[e] + 1]++;
    for (size_t i = 0; i < n; i++) trow[i + 1] += trow[i];
    size_t *fill = nn_xmalloc((n ? n : 1) * sizeof(size_t));
    memcpy(fill, trow, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        for (size_t e = row[i]; e < row[i + 1]; e++) {
            size_t at = fill[col[e]]++;
            if (tcol) tcol[at] = (uint32_t)i;
            tpos[at] = pos ? pos[e] : (uint32_t)e;
        }
    free(fill);
}

/* Symmetric P = (P_j|i + P_i|j) / 2N as a sparse matrix (CSR, columns sorted in each row). */
void nn_tsne_joint(const uint32_t *idx, const double *pcond, size_t n, int k, nn_sparse *P)
{
    /* T = K^T, then K's rows in order of column as T^T, both by counting, no sort; T and the
     * sorted K hold places in idx and pcond rather than copies. */
    size_t nnz_k = n * (size_t)k;
    if (nnz_k > UINT32_MAX) nn_die("t-SNE: %zu neighbour entries are too many (at most 2^32 - 1)", nnz_k);
    size_t *krow = nn_xmalloc((n + 1) * sizeof(size_t)), *trow = nn_xmalloc((n + 1) * sizeof(size_t));
    size_t *srow = nn_xmalloc((n + 1) * sizeof(size_t));
    for (size_t i = 0; i <= n; i++) krow[i] = i * (size_t)k;
    uint32_t *tcol = nn_xmalloc((nnz_k ? nnz_k : 1) * sizeof(uint32_t));
    uint32_t *tpos = nn_xmalloc((nnz_k ? nnz_k : 1) * sizeof(uint32_t));
    uint32_t *spos = nn_xmalloc((nnz_k ? nnz_k : 1) * sizeof(uint32_t));
    transpose(n, krow, idx, NULL, trow, tcol, tpos);
    transpose(n, trow, tcol, tpos, srow, NULL, spos);
    /* Row i of P: K's row i merged with T's row i, both in increasing column. */
    P->n = n;
    P->row = nn_xmalloc((n + 1) * sizeof(size_t));
    P->col = nn_xmalloc(2 * (nnz_k ? nnz_k : 1) * sizeof(uint32_t));
    P->val = nn_xmalloc(2 * (nnz_k ? nnz_k : 1) * sizeof(double));
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        P->row[i] = nnz;
        size_t a = srow[i], aend = srow[i + 1], t = trow[i], tend = trow[i + 1];
        while (a < aend || t < tend) {
            uint32_t c;
            double v = 0;
            if (t >= tend || (a < aend && idx[spos[a]] < tcol[t])) c = idx[spos[a]], v = pcond[spos[a++]];
            else if (a >= aend || tcol[t] < idx[spos[a]]) c = tcol[t], v = pcond[tpos[t++]];
            else c = tcol[t], v = pcond[spos[a++]] + pcond[tpos[t++]];
            P->col[nnz] = c;
            P->val[nnz++] = v / (2.0 * (double)n);
        }
    }
    P->row[n] = nnz;
    P->fval = nn_xmalloc((nnz ? nnz : 1) * sizeof(float));
    for (size_t e = 0; e < nnz; e++) P->fval[e] = (float)P->val[e];
    free(krow);
    free(trow);
    free(srow);
    free(tcol);
    free(tpos);
    free(spos);
}

void nn_sparse_free(nn_sparse *P)
{
    free(P->row);
    free(P->col);
    free(P->val);
    free(P->fval);
    memset(P, 0, sizeof *P);
}

/* ---------------------------------------------------------------- initialisation */

/* The top `dims` principal components of x by power iteration with deflation (in double),
 * projected and scaled so that the first coordinate's standard deviation is 1e-4 (openTSNE). */
void nn_tsne_init_pca(const float *x, size_t n, size_t d, int dims, double *y)
{
    double *mean = nn_xcalloc(d, sizeof(double)), *comp = nn_xcalloc((size_t)dims * d, sizeof(double));
    double *tmp = nn_xmalloc((n > d ? n : d ? d : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++) mean[t] += x[i * d + t];
    for (size_t t = 0; t < d; t++) mean[t] /= (double)(n ? n : 1);
    /* Up to COV_MAX dimensions, the power iteration runs on the covariance C = Xc^T Xc (its
     * upper triangle, by dsyrk on blocks of centred rows): n d^2 once instead of 4 n d a step. */
    enum { COV_MAX = 2048, BLOCK = 256 };
    double *cov = d <= COV_MAX ? nn_xcalloc(d * d, sizeof(double)) : NULL;
    if (cov) {
        double *blk = nn_xmalloc(BLOCK * d * sizeof(double));
        for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
            size_t rows = n - i0 < BLOCK ? n - i0 : BLOCK;
            for (size_t i = 0; i < rows; i++)
                for (size_t t = 0; t < d; t++) blk[i * d + t] = (double)x[(i0 + i) * d + t] - mean[t];
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)rows, 1.0, blk, (int)d,
                        1.0, cov, (int)d);
        }
        free(blk);
    }
    for (int c = 0; c < dims; c++) {
        double *v = comp + (size_t)c * d;
        for (size_t t = 0; t < d; t++) v[t] = 1.0 + (double)((t * 7919 + (size_t)c * 104729) % 1000) / 1000;
        for (int it = 0; it < 100; it++) {
            double norm = 0;
            if (cov) {                                  /* v = C v */
                for (size_t t = 0; t < d; t++) tmp[t] = v[t];
                cblas_dsymv(CblasRowMajor, CblasUpper, (int)d, 1.0, cov, (int)d, tmp, 1, 0.0, v, 1);
            } else {
                for (size_t i = 0; i < n; i++) {        /* tmp = Xc v */
                    double s = 0;
                    for (size_t t = 0; t < d; t++) s += ((double)x[i * d + t] - mean[t]) * v[t];
                    tmp[i] = s;
                }
                for (size_t t = 0; t < d; t++) v[t] = 0;
                for (size_t i = 0; i < n; i++)          /* v = Xc^T tmp */
                    for (size_t t = 0; t < d; t++) v[t] += ((double)x[i * d + t] - mean[t]) * tmp[i];
            }
            for (int e = 0; e < c; e++) {               /* deflate: orthogonal to earlier ones */
                double *u = comp + (size_t)e * d, dot = 0;
                for (size_t t = 0; t < d; t++) dot += u[t] * v[t];
                for (size_t t = 0; t < d; t++) v[t] -= dot * u[t];
            }
            for (size_t t = 0; t < d; t++) norm += v[t] * v[t];
            norm = sqrt(norm);
            if (norm == 0) break;
            for (size_t t = 0; t < d; t++) v[t] /= norm;
        }
        size_t big = 0;                                 /* sign: largest entry positive */
        for (size_t t = 1; t < d; t++)
            if (fabs(v[t]) > fabs(v[big])) big = t;
        if (v[big] < 0)
            for (size_t t = 0; t < d; t++) v[t] = -v[t];
    }
    double sum = 0, sumsq = 0;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < dims; c++) {
            double s = 0;
            for (size_t t = 0; t < d; t++) s += ((double)x[i * d + t] - mean[t]) * comp[(size_t)c * d + t];
            y[i * (size_t)dims + (size_t)c] = s;
            if (c == 0) sum += s, sumsq += s * s;
        }
    double sd = n > 1 ? sqrt(fmax(sumsq / (double)n - (sum / (double)n) * (sum / (double)n), 0)) : 0;
    double scale = sd > 0 ? 1e-4 / sd : 0;
    for (size_t i = 0; i < n * (size_t)dims; i++) y[i] *= scale;
    free(mean);
    free(comp);
    free(tmp);
    free(cov);
}

/* ---------------------------------------------------------------- the gradient */

typedef struct {
    const nn_sparse *P;
    const float *y;            /* the positions in float: half the bytes to gather */
    int dims;
    size_t first, last;
    double *attr;
} attr_job;

/* Eight entries of a row at once, summed in eight lanes that are added up in a fixed order at
 * the end. Each row is summed on its own, so the result does not depend on the threads. */
typedef float v8f __attribute__((vector_size(32)));
#define HSUM8(f) (((f)[0] + (f)[4]) + ((f)[1] + (f)[5])) + (((f)[2] + (f)[6]) + ((f)[3] + (f)[7]))

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_GATHER_ROWS 1
/* 2-D rows with AVX2's gathers: the neighbours' x and y are gathered eight at a time, the
 * row's tail under a mask (masked lanes load nothing and add a zero term). Measured at N =
 * 10,000 on 2 threads: 0.59 s against 1.07 s for each pair once with the neighbours loaded one
 * by one (medians of 4 alternating runs); GCC's generic tuning emits no gathers for the plain
 * loop. */
__attribute__((target("avx2"))) static void attr_rows_gather(const attr_job *j)
{
    const size_t *row = j->P->row;
    const uint32_t *col = j->P->col;
    const float *val = j->P->fval, *yv = j->y;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t i = j->first; i < j->last; i++) {
        v8f x = _mm256_set1_ps(yv[2 * i]), y = _mm256_set1_ps(yv[2 * i + 1]);
        v8f fx = _mm256_setzero_ps(), fy = _mm256_setzero_ps(), one = _mm256_set1_ps(1);
        for (size_t e = row[i], end = row[i + 1]; e < end; e += 8) {
            __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(end - e < 8 ? (int)(end - e) : 8), lane);
            __m256i c = _mm256_maskload_epi32((const int *)(col + e), m);
            c = _mm256_add_epi32(c, c);
            v8f xj = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), yv, c, _mm256_castsi256_ps(m), 4);
            v8f yj = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), yv + 1, c, _mm256_castsi256_ps(m), 4);
            v8f v = _mm256_maskload_ps(val + e, m);
            v8f dx = x - xj, dy = y - yj, pw = v / (one + dx * dx + dy * dy);
            fx += pw * dx;
            fy += pw * dy;
        }
        j->attr[2 * i] = HSUM8(fx), j->attr[2 * i + 1] = HSUM8(fy);
    }
}
#endif

NN_HOT static void *attr_run(void *arg)
{
    attr_job *j = arg;
    int dims = j->dims;
#ifdef HAVE_GATHER_ROWS
    if (dims == 2 && j->P->n < (size_t)1 << 30 && __builtin_cpu_supports("avx2")) {
        attr_rows_gather(j);
        return NULL;
    }
#endif
    const size_t *row = j->P->row;
    const uint32_t *col = j->P->col;
    const float *val = j->P->fval;
    for (size_t i = j->first; i < j->last; i++) {
        const float *yi = j->y + i * (size_t)dims;
        if (dims == 2) {
            float x = yi[0], y = yi[1];
            v8f fx = {0}, fy = {0}, one = {1, 1, 1, 1, 1, 1, 1, 1};
            size_t e = row[i], end = row[i + 1];
            for (; e < end; e += 8) {
                v8f xj, yj, v;
                for (int t = 0; t < 8; t++) {
                    /* past the row's end: the point itself with weight 0, a zero term */
                    int in = e + (size_t)t < end;
                    const float *p = in ? j->y + 2 * (size_t)col[e + (size_t)t] : yi;
                    xj[t] = p[0], yj[t] = p[1], v[t] = in ? val[e + (size_t)t] : 0;
                }
                v8f dx = x - xj, dy = y - yj, pw = v / (one + dx * dx + dy * dy);
                fx += pw * dx;
                fy += pw * dy;
            }
            j->attr[2 * i] = HSUM8(fx), j->attr[2 * i + 1] = HSUM8(fy);
            continue;
        }
        float f[3] = {0, 0, 0};
        for (size_t e = row[i]; e < row[i + 1]; e++) {
            const float *yj = j->y + (size_t)col[e] * (size_t)dims;
            float diff[3], d2 = 0;
            for (int c = 0; c < dims; c++) diff[c] = yi[c] - yj[c], d2 += diff[c] * diff[c];
            float pw = val[e] / (1 + d2);
            for (int c = 0; c < dims; c++) f[c] += pw * diff[c];
        }
        for (int c = 0; c < dims; c++) j->attr[i * (size_t)dims + (size_t)c] = f[c];
    }
    return NULL;
}

typedef struct {
    const nn_sparse *P;
    const float *y;
    int dims;
    double *attr;
    size_t *next_row;   /* shared: the first row of the next chunk */
    const double *ytree;
    nn_bhtree **tree;   /* when set, this job builds the tree of ytree first */
} forces_job;

enum { ROW_CHUNK = 256 };

/* Rows in chunks, to whichever thread is free: each row is summed on its own, so the result
 * does not depend on who sums it. */
static void *attr_chunks(void *arg)
{
    forces_job *f = arg;
    if (f->tree) *f->tree = nn_bhtree_build(f->ytree, f->P->n, f->dims);   /* NULL: checked after */
    for (;;) {
        size_t first = __atomic_fetch_add(f->next_row, ROW_CHUNK, __ATOMIC_RELAXED);
        if (first >= f->P->n) break;
        size_t last = f->P->n - first < ROW_CHUNK ? f->P->n : first + ROW_CHUNK;
        attr_job j = {f->P, f->y, f->dims, first, last, f->attr};
        attr_run(&j);
    }
    return NULL;
}

/* The attraction, and the Barnes-Hut tree of y if tree is set, built by one thread while the
 * others start on the attraction. */
static void attraction(const nn_sparse *P, const double *y, int dims, double *attr, nn_bhtree **tree,
                       int nthreads)
{
    nthreads = nn_threads(nthreads);
    size_t len = P->n * (size_t)dims, next_row = 0;
    float *yf = nn_xmalloc((len ? len : 1) * sizeof(float));
    for (size_t i = 0; i < len; i++) yf[i] = (float)y[i];
    forces_job jobs[NN_MAX_THREADS];
    for (int t = 0; t < nthreads; t++)
        jobs[t] = (forces_job){P, yf, dims, attr, &next_row, y, t == nthreads - 1 ? tree : NULL};
    nn_run_jobs(attr_chunks, jobs, sizeof jobs[0], nthreads);
    free(yf);
}

/* attr[i] = sum_j P_ij w_ij (y_i - y_j), over the sparse P, in float (each row's sum is over
 * a few hundred terms; the map's positions, centred, are tens of units). */
void nn_tsne_attraction(const nn_sparse *P, const double *y, int dims, double *attr, int nthreads)
{
    attraction(P, y, dims, attr, NULL, nthreads);
}

static double z_of(const double *sumw, size_t n)
{
    double z = 0;
    for (size_t i = 0; i < n; i++) z += sumw[i];
    return z - (double)n;
}

/* One iteration's attraction and repulsion; returns Z. The Barnes-Hut tree is built beside
 * the attraction instead of after it: measured at N = 10,000 on 2 threads, a whole run took
 * 2.56 s against 2.70 s (medians of 3 alternating runs). */
double nn_tsne_forces(const nn_sparse *P, nn_tsne_method method, const double *y, int dims,
                      double theta, double *attr, double *rep, double *sumw, int nthreads)
{
    if (method == NN_TSNE_EXACT || (method == NN_TSNE_FFT && dims == 2)) {
        nn_tsne_attraction(P, y, dims, attr, nthreads);
        return nn_tsne_repulsion(method, y, P->n, dims, theta, rep, sumw, nthreads);
    }
    nn_bhtree *t = NULL;
    attraction(P, y, dims, attr, &t, nthreads);
    if (!t) nn_die("could not build the Barnes-Hut tree of %zu points (out of memory?)", P->n);
    nn_bhtree_repulsion_own(t, theta, rep, sumw, nthreads);
    nn_bhtree_free(t);
    return z_of(sumw, P->n);
}

/* The repulsion by the chosen method; returns Z = sum_{i != j} w_ij. */
double nn_tsne_repulsion(nn_tsne_method method, const double *y, size_t n, int dims,
                         double theta, double *rep, double *sumw, int nthreads)
{
    if (method == NN_TSNE_FFT && dims == 2) nn_tsne_repulsion_fft(y, n, rep, sumw, nthreads);
    else if (method == NN_TSNE_EXACT) nn_tsne_repulsion_exact(y, n, dims, rep, sumw, nthreads);
    else {
        nn_bhtree *t = nn_bhtree_build(y, n, dims);
        if (!t) nn_die("out of memory building the Barnes-Hut tree of %zu points", n);
        nn_bhtree_repulsion_own(t, theta, rep, sumw, nthreads);
        nn_bhtree_free(t);
    }
    return z_of(sumw, n);
}

/* KL(P || Q) = sum P log P - sum P log w + log Z, with Z from the last repulsion pass. */
double nn_tsne_kl(const nn_sparse *P, const double *y, int dims, double z)
{
    double kl = 0;
    for (size_t i = 0; i < P->n; i++)
        for (size_t e = P->row[i]; e < P->row[i + 1]; e++) {
            double p = P->val[e], d2 = 0;
            if (p <= 0) continue;
            for (int c = 0; c < dims; c++) {
                double diff = y[i * (size_t)dims + (size_t)c] - y[(size_t)P->col[e] * (size_t)dims + (size_t)c];
                d2 += diff * diff;
            }
            kl += p * (log(p) + log1p(d2) + log(z));
        }
    return kl;
}

/* One step of gradient descent with momentum and gains (Jacobs 1988, as in t-SNE's code). */
void nn_tsne_update(double *y, double *update, double *gains, const double *grad, size_t len,
                    double momentum, double lr)
{
    for (size_t i = 0; i < len; i++) {
        int same_sign = (grad[i] > 0) == (update[i] > 0);
        gains[i] = same_sign ? gains[i] * 0.8 : gains[i] + 0.2;
        if (gains[i] < 0.01) gains[i] = 0.01;
        update[i] = momentum * update[i] - lr * gains[i] * grad[i];
        y[i] += update[i];
    }
}
