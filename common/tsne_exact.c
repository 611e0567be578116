/* t-SNE repulsion by direct summation: O(N^2), the correctness reference. */
#include "tsne.h"
#include "nn.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const double *y;
    size_t n, first, last;
    int dims;
    double *rep, *sumw;
} slice;

static void *run_slice(void *arg)
{
    slice *s = arg;
    int dims = s->dims;
    for (size_t i = s->first; i < s->last; i++) {
        const double *yi = s->y + i * (size_t)dims;
        double r[3] = {0, 0, 0}, sw = 0;
        for (size_t j = 0; j < s->n; j++) {
            const double *yj = s->y + j * (size_t)dims;
            double diff[3], d2 = 0;
            for (int d = 0; d < dims; d++) diff[d] = yi[d] - yj[d], d2 += diff[d] * diff[d];
            double w = 1 / (1 + d2);
            sw += w;
            for (int d = 0; d < dims; d++) r[d] += w * w * diff[d];
        }
        memcpy(s->rep + i * (size_t)dims, r, (size_t)dims * sizeof(double));
        s->sumw[i] = sw;
    }
    return NULL;
}

void nn_tsne_repulsion_exact(const double *y, size_t n, int dims, double *rep, double *sumw,
                             int nthreads)
{
    nthreads = nn_threads(nthreads);
    slice s[NN_MAX_THREADS];
    for (int k = 0; k < nthreads; k++) {
        size_t first, last;
        nn_share(n, k, nthreads, &first, &last);
        s[k] = (slice){y, n, first, last, dims, rep, sumw};
    }
    nn_run_jobs(run_slice, s, sizeof s[0], nthreads);
}
