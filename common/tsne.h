/* t-SNE's repulsive forces, three ways (common/tsne_exact.c, tsne_bh.c, tsne_fft.c).
 *
 * Points are double precision, row-major, `dims` (2 or 3) values each. With the Student-t
 * kernel w_ij = 1 / (1 + |q_i - y_j|^2), each method computes for every query point i
 *   rep[i * dims + d] = sum_j w_ij^2 (q_i - y_j)[d]
 *   sumw[i]           = sum_j w_ij
 * over all points j of the set, the query point itself included when it is in the set (its
 * term is 1 in sumw and 0 in rep), so that Z = sum_i sumw[i] - N. Results are deterministic for
 * a given input and thread count. */
#ifndef NN_TSNE_H
#define NN_TSNE_H

#include <stddef.h>

/* O(N^2), the reference: the set's own points as queries. */
void nn_tsne_repulsion_exact(const double *y, size_t n, int dims, double *rep, double *sumw,
                             int nthreads);

/* Barnes-Hut: a 2^dims-ary space-partitioning tree on y; a cell is summarised by its centre of
 * mass when its side length / distance to the centre of mass < theta. Queries may be any points (for embedding new
 * points into a fixed map). */
typedef struct nn_bhtree nn_bhtree;
nn_bhtree *nn_bhtree_build(const double *y, size_t n, int dims);
void nn_bhtree_repulsion(const nn_bhtree *t, const double *q, size_t m, double theta,
                         double *rep, double *sumw, int nthreads);
/* The same for the tree's own points as queries (the y it was built from): the results in
 * y's order, bitwise those of nn_bhtree_repulsion(t, y, n, ...), without sorting the queries. */
void nn_bhtree_repulsion_own(const nn_bhtree *t, double theta, double *rep, double *sumw,
                             int nthreads);
void nn_bhtree_free(nn_bhtree *t);
/* The vector code for theta > 0: "avx512", "avx2" or "sse2" on x86-64, "generic" elsewhere;
 * NULL restores the default, the widest this processor runs. Returns 0, changing nothing, if
 * the build or the processor lacks it. Not thread-safe: for tests and benchmarks. */
int nn_bhtree_simd(const char *name);

/* FFT-accelerated interpolation (Linderman et al., Nature Methods 2019), 2-D only: the set's
 * own points as queries. */
void nn_tsne_repulsion_fft(const double *y, size_t n, double *rep, double *sumw, int nthreads);

#endif
