/* The floor for bench/vae.sh: the matrix products of one epoch of the 784-400-20 VAE (forward,
 * and backward without the input's gradient), timed alone with OpenBLAS. Arguments: records
 * (default 60000) and rows a product (default 128). Prints the FLOP count, the seconds and the
 * sustained GFLOP/s. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    enum { B = 128 };
    int N = argc > 1 ? atoi(argv[1]) : 60000, rows = argc > 2 ? atoi(argv[2]) : B;
    /* (in, out) of the linear layers: encoder 784-400-40, decoder 20-400-784 */
    int in[4] = {784, 400, 20, 400}, out[4] = {400, 40, 400, 784};
    float *x = calloc((size_t)B * 784, 4), *y = calloc((size_t)B * 784, 4), *w = calloc(784 * 400, 4),
          *g = calloc(784 * 400, 4);
    for (int i = 0; i < B * 784; i++) x[i] = (float)rand() / RAND_MAX, y[i] = x[i];
    for (int i = 0; i < 784 * 400; i++) w[i] = (float)rand() / RAND_MAX - 0.5f;
    double flop = 0, t0 = now();
    for (int done = 0; done < N; done += rows) {
        int b = N - done < rows ? N - done : rows;
        for (int l = 0; l < 4; l++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out[l], in[l], 1, x, in[l], w, in[l], 0, y, out[l]);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out[l], in[l], b, 1, y, out[l], x, in[l], 0, g, in[l]);
            flop += 4.0 * b * in[l] * out[l];
            if (l > 0) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in[l], out[l], 1, y, out[l], w, in[l], 0, x, in[l]);
                flop += 2.0 * b * in[l] * out[l];
            }
        }
    }
    double s = now() - t0;
    printf("%.1f %.3f %.1f\n", flop / 1e9, s, flop / s / 1e9);
    return 0;
}
