/* nn_tsne_repulsion_fft against direct summation (nn_tsne_repulsion_exact) on clustered 2-D maps
 * like t-SNE's, the degenerate cases (one point, two, all equal) and determinism. TAP. */
#include "nn.h"
#include "tsne.h"

#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

/* n points in k Gaussian clusters (sd `sd`) with centres uniform in a w x h rectangle around
 * (ox, oy); with sd 0, n points uniform in the rectangle. */
static double *make_map(size_t n, int k, double w, double h, double sd, double ox, double oy,
                        uint64_t seed)
{
    nn_rng r;
    nn_rng_seed(&r, seed);
    double cx[64], cy[64];
    for (int c = 0; c < k; c++) {
        cx[c] = ox + (nn_rng_uniform(&r) - 0.5) * w;
        cy[c] = oy + (nn_rng_uniform(&r) - 0.5) * h;
    }
    double *y = nn_xmalloc(2 * n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        if (sd == 0) {
            y[2 * i] = ox + (nn_rng_uniform(&r) - 0.5) * w;
            y[2 * i + 1] = oy + (nn_rng_uniform(&r) - 0.5) * h;
            continue;
        }
        int c = (int)nn_rng_below(&r, (uint64_t)k);
        y[2 * i] = cx[c] + sd * nn_rng_normal(&r);
        y[2 * i + 1] = cy[c] + sd * nn_rng_normal(&r);
    }
    return y;
}

/* Relative errors of the forces (as one vector) and of Z = sum(sumw) - n. */
static void compare(const double *y, size_t n, int nthreads, double *force_err, double *z_err)
{
    double *re = nn_xmalloc(2 * n * sizeof(double)), *se = nn_xmalloc(n * sizeof(double));
    double *rf = nn_xmalloc(2 * n * sizeof(double)), *sf = nn_xmalloc(n * sizeof(double));
    nn_tsne_repulsion_exact(y, n, 2, re, se, 4);
    nn_tsne_repulsion_fft(y, n, rf, sf, nthreads);
    double dd = 0, ee = 0, ze = 0, zf = 0;
    for (size_t i = 0; i < 2 * n; i++) dd += (rf[i] - re[i]) * (rf[i] - re[i]), ee += re[i] * re[i];
    for (size_t i = 0; i < n; i++) ze += se[i], zf += sf[i];
    ze -= (double)n, zf -= (double)n;
    *force_err = sqrt(dd / ee);
    *z_err = fabs(zf - ze) / ze;
    free(re), free(se), free(rf), free(sf);
}

static void check_map(size_t n, int k, double w, double h, double sd, double ox, double oy,
                      uint64_t seed, int nthreads)
{
    double *y = make_map(n, k, w, h, sd, ox, oy, seed);
    double fe, ze;
    compare(y, n, nthreads, &fe, &ze);
    if (sd == 0)
        printf("# n %zu, uniform in %g x %g: force error %.2e, Z error %.2e\n", n, w, h, fe, ze);
    else
        printf("# n %zu, %d clusters in %g x %g at (%g, %g), sd %g: force error %.2e, Z error "
               "%.2e\n", n, k, w, h, ox, oy, sd, fe, ze);
    CHECK(fe < 1e-2);
    CHECK(ze < 1e-3);
    free(y);
}

static void test_small_map(void) { check_map(500, 5, 8, 8, 0.5, 0, 0, 1, 1); }
static void test_medium_map(void) { check_map(2000, 10, 40, 40, 1.5, 0, 0, 2, 2); }
static void test_large_map(void) { check_map(3000, 20, 90, 90, 2.5, 0, 0, 3, 3); }
static void test_elongated_map(void) { check_map(1500, 8, 100, 6, 1, 0, 0, 4, 2); }
static void test_offset_map(void) { check_map(1000, 6, 30, 30, 1, 500, -300, 5, 1); }
static void test_tight_map(void) { check_map(800, 3, 1, 1, 0.05, 0, 0, 6, 1); }
static void test_blob(void) { check_map(2500, 1, 0, 0, 20, 0, 0, 8, 2); }
static void test_uniform(void) { check_map(2500, 1, 100, 100, 0, 0, 0, 9, 2); }
static void test_sparse(void) { check_map(200, 4, 80, 80, 3, 0, 0, 10, 1); }

static void test_one_point(void)
{
    double y[2] = {3.5, -2}, rep[2] = {9, 9}, sumw[1] = {9};
    nn_tsne_repulsion_fft(y, 1, rep, sumw, 4);
    CHECK(fabs(sumw[0] - 1) < 1e-9);
    CHECK(fabs(rep[0]) < 1e-9 && fabs(rep[1]) < 1e-9);
    nn_tsne_repulsion_fft(y, 0, rep, sumw, 1);   /* nothing to do, nothing touched */
    CHECK(fabs(sumw[0] - 1) < 1e-9);
}

static void test_two_points(void)
{
    const double dist[] = {1e-6, 0.3, 1, 5, 40};
    for (size_t k = 0; k < sizeof dist / sizeof *dist; k++) {
        double y[4] = {1, 2, 1 + dist[k] * 0.6, 2 - dist[k] * 0.8}, rep[4], sumw[2];
        nn_tsne_repulsion_fft(y, 2, rep, sumw, 2);
        double w = 1 / (1 + dist[k] * dist[k]), f = w * w * dist[k];
        /* exact: rep_0 = w^2 (y_0 - y_1), rep_1 = -rep_0, sumw = 1 + w */
        double ex[4] = {-f * 0.6, f * 0.8, f * 0.6, -f * 0.8};
        double err = 0, nrm = 0;
        for (int i = 0; i < 4; i++) err += (rep[i] - ex[i]) * (rep[i] - ex[i]), nrm += ex[i] * ex[i];
        printf("# distance %g: force error %.2e, Z %.10g (exact %.10g)\n", dist[k],
               sqrt(err / nrm), sumw[0] + sumw[1] - 2, 2 * w);
        CHECK(sqrt(err) <= 1e-2 * sqrt(nrm) + 1e-12);
        CHECK(fabs(sumw[0] + sumw[1] - 2 - 2 * w) <= 1e-3 * 2 * w);
        CHECK(fabs(sumw[0] - 1 - w) < 1e-3 && fabs(sumw[1] - 1 - w) < 1e-3);
    }
}

static void test_all_equal(void)
{
    size_t n = 300;
    double *y = nn_xmalloc(2 * n * sizeof(double)), *rep = nn_xmalloc(2 * n * sizeof(double));
    double *sumw = nn_xmalloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) y[2 * i] = -7.25, y[2 * i + 1] = 1e3;
    nn_tsne_repulsion_fft(y, n, rep, sumw, 3);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= isfinite(rep[2 * i]) && fabs(rep[2 * i]) < 1e-9 && fabs(rep[2 * i + 1]) < 1e-9 &&
              fabs(sumw[i] - (double)n) < 1e-6 * n;
    CHECK(ok);
    free(y), free(rep), free(sumw);
}

static void test_deterministic(void)
{
    size_t n = 5000;
    double *y = make_map(n, 12, 60, 60, 2, 1, 2, 7);
    double *r[4], *s[4];
    const int threads[4] = {3, 3, 1, 8};
    for (int k = 0; k < 4; k++) {
        r[k] = nn_xmalloc(2 * n * sizeof(double));
        s[k] = nn_xmalloc(n * sizeof(double));
        nn_tsne_repulsion_fft(y, n, r[k], s[k], threads[k]);
    }
    for (int k = 1; k < 4; k++) {   /* the same bytes again, and for any thread count */
        CHECK(memcmp(r[0], r[k], 2 * n * sizeof(double)) == 0);
        CHECK(memcmp(s[0], s[k], n * sizeof(double)) == 0);
    }
    for (int k = 0; k < 4; k++) free(r[k]), free(s[k]);
    free(y);
}

int main(int argc, char **argv)
{
    (void)argc;
    nn_init(argv[0]);
    run("500 points, span ~10, against direct summation", test_small_map);
    run("2000 points, span ~45, 2 threads, against direct summation", test_medium_map);
    run("3000 points, span ~100, 3 threads, against direct summation", test_large_map);
    run("elongated map (100 x 6) against direct summation", test_elongated_map);
    run("map centred far from the origin against direct summation", test_offset_map);
    run("map of span ~1 against direct summation", test_tight_map);
    run("one Gaussian blob of span ~150 against direct summation", test_blob);
    run("uniform square of side 100 (near forces dominate) against direct summation", test_uniform);
    run("200 points in a span of ~90 against direct summation", test_sparse);
    run("one point", test_one_point);
    run("two points at distances 1e-6 to 40", test_two_points);
    run("all points equal (zero span)", test_all_equal);
    run("same bytes twice and for 1, 3 and 8 threads", test_deterministic);
    fftw_cleanup();
    return tap_done();
}
