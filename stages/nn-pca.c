/* nn-pca: principal components of a stream, saved as a model file that nn-encode takes like a
 * VAE's. Exact: the covariance (D x D), or when there are fewer records than values the Gram
 * matrix (N x N), is formed with sgemm and diagonalised with LAPACK's dsyevd in double. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-pca [OPTION]... -o MODEL [INPUT]";
static const char SUMMARY[] =
    "Fit the top principal components of the stream INPUT (default -) and write them to MODEL.";

enum { O_OUTPUT, O_COMPONENTS, O_THREADS, O_QUIET };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "MODEL", "the model file"},
    [O_COMPONENTS] = {"components", 'k', 1, "K", "components to keep (default 32)"},
    [O_THREADS] = {"threads", 't', 1, "N", "OpenBLAS threads (default: OpenBLAS's own)"},
    [O_QUIET] = {"quiet", 'q', 0, NULL, "do not report the explained variance"},
    {0},
};

extern void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
                    double *w, double *work, const int *lwork, int *iwork, const int *liwork,
                    int *info);

/* Eigenvalues (ascending) into w and eigenvectors into a. LAPACK is column-major: vector c
 * is a[c * n .. c * n + n - 1] (the input, being symmetric, reads the same either way). */
static void eigen(double *a, int n, double *w)
{
    int lwork = -1, liwork = -1, info, iwork_size;
    double work_size;
    dsyevd_("V", "U", &n, a, &n, w, &work_size, &lwork, &iwork_size, &liwork, &info);
    lwork = (int)work_size;
    liwork = iwork_size;
    double *work = nn_xmalloc((size_t)lwork * sizeof(double));
    int *iwork = nn_xmalloc((size_t)liwork * sizeof(int));
    dsyevd_("V", "U", &n, a, &n, w, work, &lwork, iwork, &liwork, &info);
    free(work);
    free(iwork);
    if (info != 0) nn_die("the eigendecomposition failed (LAPACK dsyevd info %d)", info);
}

/* x x^T (n x n) or x^T x when transposed, for x (rows x cols), in double. */
static double *gram(const float *x, int rows, int cols, int transposed)
{
    int n = transposed ? cols : rows;
    float *g = nn_xmalloc((size_t)n * (size_t)n * sizeof(float));
    if (transposed)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, n, rows, 1.0f, x, cols, x, cols, 0.0f, g, n);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, cols, 1.0f, x, cols, x, cols, 0.0f, g, n);
    double *d = nn_xmalloc((size_t)n * (size_t)n * sizeof(double));
    for (size_t i = 0; i < (size_t)n * (size_t)n; i++) d[i] = g[i];
    free(g);
    return d;
}

/* Fills comps (k x D) and var (k) from the centred data xc (N x D). */
static const char *fit(const float *xc, size_t N, size_t D, int k, float *comps, float *var)
{
    int by_gram = N < D, n = (int)(by_gram ? N : D);
    double *a = gram(xc, (int)N, (int)D, !by_gram), *w = nn_xmalloc((size_t)n * sizeof(double));
    eigen(a, n, w);
    for (int c = 0; c < k; c++) {
        int col = n - 1 - c;                 /* the largest eigenvalues come last */
        float *out = comps + (size_t)c * D;
        var[c] = (float)(w[col] > 0 ? w[col] / (double)(N - 1) : 0);   /* rounding can make 0 < 0 */
        if (!by_gram)
            for (size_t j = 0; j < D; j++) out[j] = (float)a[(size_t)col * (size_t)n + j];
        else {
            /* A component is X^T u, normalised. */
            double norm = 0;
            for (size_t j = 0; j < D; j++) {
                double s = 0;
                for (size_t i = 0; i < N; i++) s += (double)xc[i * D + j] * a[(size_t)col * (size_t)n + i];
                out[j] = (float)s;
                norm += s * s;
            }
            if (!(norm > 0))
                nn_die("component %d has no variance: the records span fewer dimensions; ask for "
                       "fewer --components", c + 1);
            for (size_t j = 0; j < D; j++) out[j] = (float)(out[j] / sqrt(norm));
        }
        /* Signs are arbitrary: make the largest entry positive, so results are reproducible. */
        size_t big = 0;
        for (size_t j = 1; j < D; j++)
            if (fabsf(out[j]) > fabsf(out[big])) big = j;
        if (out[big] < 0)
            for (size_t j = 0; j < D; j++) out[j] = -out[j];
    }
    free(a);
    free(w);
    return by_gram ? "exact: eigendecomposition of the Gram matrix (LAPACK dsyevd)"
                   : "exact: eigendecomposition of the covariance (LAPACK dsyevd)";
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    const char *output = NULL;
    int k = 32, quiet = 0, opt;
    while ((opt = nn_opt_next(&p)) >= 0) {
        const char *a = p.arg[0];
        switch (opt) {
        case O_OUTPUT: output = a; break;
        case O_COMPONENTS: k = (int)nn_parse_int("--components", a, 1, 1 << 16); break;
        case O_THREADS: openblas_set_num_threads((int)nn_parse_int("--threads", a, 1, 1024)); break;
        case O_QUIET: quiet = 1; break;
        }
    }
    if (!output) nn_usage_error(USAGE, "no model file: give -o MODEL");
    nn_refuse_terminal(output, USAGE, "a binary stream");
    if (p.npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    const char *input = p.npos ? p.pos[0] : "-";

    nn_header h = {0};
    nn_matrix x;
    nn_matrix_load(input, &h, &x, -INFINITY, INFINITY, "");
    size_t N = x.n, D = x.d;
    if (N < 2) nn_die("%s: PCA needs at least 2 records, not %zu", input, N);
    size_t rank = N - 1 < D ? N - 1 : D;
    if ((size_t)k > rank)
        nn_die("%s: --components %d is more than %zu records of %zu values can give (%zu)", input,
               k, N, D, rank);
    if ((N < D ? N : D) > 20000)
        nn_die("%s: an exact PCA of %zu records of %zu values needs a %zu x %zu matrix: too large",
               input, N, D, N < D ? N : D, N < D ? N : D);

    nn_model m = {.type = NN_MODEL_PCA, .ndim = h.ndim, .D = D, .k = k};
    memcpy(m.shape, h.shape, sizeof m.shape);
    m.nparams = D + (size_t)k * D + (size_t)k;
    m.params = nn_xcalloc(m.nparams, sizeof(float));
    float *mean = m.params;
    double total_var = 0;
    for (size_t j = 0; j < D; j++) {
        double s = 0;
        for (size_t i = 0; i < N; i++) s += x.x[i * D + j];
        mean[j] = (float)(s / (double)N);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < D; j++) {
            float v = x.x[i * D + j] -= mean[j];
            total_var += (double)v * v;
        }
    total_var /= (double)(N - 1);
    const char *method = fit(x.x, N, D, k, m.params + D, m.params + D + (size_t)k * D);

    nn_meta *opts = nn_meta_new();
    nn_meta_int(opts, "components", k);
    nn_meta_str(opts, "method", method);
    nn_meta_double(opts, "total_variance", total_var);
    nn_meta_take(opts, &m.options, &m.options_len);
    if (h.meta_len) m.input_meta = memcpy(nn_xmalloc(h.meta_len), h.meta, m.input_meta_len = h.meta_len);
    nn_model_save(output, &m, "nn-pca");
    if (!quiet) {
        double kept = 0;
        for (int c = 0; c < k; c++) kept += m.params[D + (size_t)k * D + (size_t)c];
        nn_warn("%d components of %zu records explain %.1f%% of the variance",
                k, N, total_var > 0 ? 100 * kept / total_var : 100.0);
    }
    nn_model_free(&m);
    nn_matrix_free(&x);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
