/* Barnes-Hut t-SNE repulsion (common/tsne_bh.c) against direct summation: theta = 0 exact,
 * theta = 0.5 close, queries outside the set, determinism across thread counts, degenerate
 * sets (n = 0, n = 1, 100k duplicates). TAP. */
#include "nn.h"
#include "tsne.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static double *alloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) abort();
    return p;
}

/* A t-SNE-like set: a broad Gaussian, a few tight clusters, and exact duplicates (single copies
 * of earlier points, and one point repeated 20 times). */
static double *make_points(size_t n, int dims, uint64_t seed)
{
    nn_rng r;
    nn_rng_seed(&r, seed);
    double *y = alloc(n * (size_t)dims), centre[4][3];
    for (int c = 0; c < 4; c++)
        for (int d = 0; d < dims; d++) centre[c][d] = nn_rng_normal(&r) * 8;
    for (size_t i = 0; i < n; i++) {
        double *p = y + i * (size_t)dims;
        size_t kind = i % 10;
        if (i >= 20 && kind == 9) { /* a duplicate of an earlier point */
            memcpy(p, y + nn_rng_below(&r, i) * (size_t)dims, (size_t)dims * sizeof(double));
        } else if (kind >= 5) { /* a tight cluster */
            int c = (int)nn_rng_below(&r, 4);
            for (int d = 0; d < dims; d++) p[d] = centre[c][d] + nn_rng_normal(&r) * 0.05;
        } else {
            for (int d = 0; d < dims; d++) p[d] = nn_rng_normal(&r) * 5;
        }
    }
    for (size_t i = n / 2; i < n / 2 + 20 && i < n; i++)
        memcpy(y + i * (size_t)dims, y, (size_t)dims * sizeof(double));
    return y;
}

/* Direct sums for arbitrary queries, and the sum of the terms' magnitudes (the scale of
 * rounding errors in rep). */
static void by_hand(const double *y, size_t n, const double *q, size_t m, int dims, double *rep,
                    double *sumw, double *mag)
{
    for (size_t i = 0; i < m; i++) {
        double r[3] = {0, 0, 0}, sw = 0, mg = 0;
        for (size_t j = 0; j < n; j++) {
            double e[3], d2 = 0;
            for (int d = 0; d < dims; d++) {
                e[d] = q[i * (size_t)dims + d] - y[j * (size_t)dims + d];
                d2 += e[d] * e[d];
            }
            double w = 1 / (1 + d2);
            sw += w;
            for (int d = 0; d < dims; d++) r[d] += w * w * e[d];
            mg += w * w * sqrt(d2);
        }
        memcpy(rep + i * (size_t)dims, r, (size_t)dims * sizeof(double));
        sumw[i] = sw;
        mag[i] = mg;
    }
}

/* Every query within tol of the reference: sumw relative, rep relative to the terms' size. */
static int matches_closely(const double *rep, const double *sumw, const double *rrep,
                           const double *rsumw, const double *mag, size_t m, int dims, double tol)
{
    int ok = 1;
    for (size_t i = 0; i < m; i++) {
        if (!(fabs(sumw[i] - rsumw[i]) <= tol * rsumw[i])) ok = 0;
        double e2 = 0;
        for (int d = 0; d < dims; d++) {
            double e = rep[i * (size_t)dims + d] - rrep[i * (size_t)dims + d];
            e2 += e * e;
        }
        if (!(sqrt(e2) <= tol * mag[i] + 1e-300)) ok = 0;
    }
    return ok;
}

/* The approximation's errors: of the force field as a whole (|rep - ref| / |ref| over all
 * queries' vectors), of each query's sumw (worst relative), and of Z = sum of sumw. */
static void errors(const double *rep, const double *sumw, const double *rrep, const double *rsumw,
                   size_t m, int dims, double *force, double *sw_worst, double *z)
{
    double num = 0, den = 0, worst = 0, zb = 0, zr = 0;
    for (size_t i = 0; i < m * (size_t)dims; i++) {
        num += (rep[i] - rrep[i]) * (rep[i] - rrep[i]);
        den += rrep[i] * rrep[i];
    }
    for (size_t i = 0; i < m; i++) {
        worst = fmax(worst, fabs(sumw[i] - rsumw[i]) / rsumw[i]);
        zb += sumw[i];
        zr += rsumw[i];
    }
    *force = sqrt(num / den);
    *sw_worst = worst;
    *z = fabs(zb - zr) / zr;
}

/* ---- the set's own points as queries, against nn_tsne_repulsion_exact ---- */

static void own_points(int dims, double theta, size_t n, uint64_t seed, int exact)
{
    double *y = make_points(n, dims, seed), *rep = alloc(n * (size_t)dims), *sumw = alloc(n);
    double *xrep = alloc(n * (size_t)dims), *xsumw = alloc(n), *hrep = alloc(n * (size_t)dims);
    double *hsumw = alloc(n), *mag = alloc(n);
    nn_tsne_repulsion_exact(y, n, dims, xrep, xsumw, 2);
    by_hand(y, n, y, n, dims, hrep, hsumw, mag);
    nn_bhtree *t = nn_bhtree_build(y, n, dims);
    CHECK(t != NULL);
    if (t) {
        nn_bhtree_repulsion(t, y, n, theta, rep, sumw, 2);
        if (exact) {
            CHECK(matches_closely(rep, sumw, xrep, xsumw, mag, n, dims, 1e-9));
        } else {
            double force, sw, z;
            errors(rep, sumw, xrep, xsumw, n, dims, &force, &sw, &z);
            printf("#   n %zu, %d-D, theta %g: force error %.2e, worst sumw error %.2e, "
                   "Z error %.2e\n", n, dims, theta, force, sw, z);
            /* Summarising a cell by its centre of mass underestimates sum_j w_ij (w is convex in
             * the offset), by up to a few percent for a cell at the criterion's limit: sumw is
             * the looser of the two. */
            CHECK(force < 1e-2);
            CHECK(sw < 5e-2);
            CHECK(z < 5e-3);
        }
    }
    nn_bhtree_free(t);
    free(y), free(rep), free(sumw), free(xrep), free(xsumw), free(hrep), free(hsumw), free(mag);
}

static void test_exact_2d(void)
{
    own_points(2, 0, 300, 1, 1);
    own_points(2, 0, 777, 2, 1);
}
static void test_exact_3d(void)
{
    own_points(3, 0, 300, 3, 1);
    own_points(3, 0, 777, 4, 1);
}
static void test_approx_2d(void)
{
    own_points(2, 0.5, 300, 5, 0);
    own_points(2, 0.5, 800, 6, 0);
}
static void test_approx_3d(void)
{
    own_points(3, 0.5, 300, 7, 0);
    own_points(3, 0.5, 800, 8, 0);
}

/* ---- queries that are not the set ---- */

static void other_queries(int dims)
{
    size_t n = 500, m = 97;
    double *y = make_points(n, dims, 10 + (uint64_t)dims), *q = alloc(m * (size_t)dims);
    nn_rng r;
    nn_rng_seed(&r, 20);
    for (size_t i = 0; i < m; i++) {
        double *p = q + i * (size_t)dims;
        if (i % 7 == 0) /* one of the set's points */
            memcpy(p, y + nn_rng_below(&r, n) * (size_t)dims, (size_t)dims * sizeof(double));
        else if (i % 7 == 1) /* far outside the root cell */
            for (int d = 0; d < dims; d++) p[d] = nn_rng_normal(&r) * 500;
        else if (i % 7 == 2 && i > 7) /* a repeated query */
            memcpy(p, q + (i - 7) * (size_t)dims, (size_t)dims * sizeof(double));
        else
            for (int d = 0; d < dims; d++) p[d] = nn_rng_normal(&r) * 6;
    }
    double *rep = alloc(m * (size_t)dims), *sumw = alloc(m), *hrep = alloc(m * (size_t)dims);
    double *hsumw = alloc(m), *mag = alloc(m);
    by_hand(y, n, q, m, dims, hrep, hsumw, mag);
    nn_bhtree *t = nn_bhtree_build(y, n, dims);
    CHECK(t != NULL);
    if (t) {
        nn_bhtree_repulsion(t, q, m, 0, rep, sumw, 3);
        CHECK(matches_closely(rep, sumw, hrep, hsumw, mag, m, dims, 1e-9));
        nn_bhtree_repulsion(t, q, m, 0.5, rep, sumw, 3);
        double force, sw, z;
        errors(rep, sumw, hrep, hsumw, m, dims, &force, &sw, &z);
        printf("#   %d-D queries off the set, theta 0.5: force error %.2e, worst sumw error %.2e\n",
               dims, force, sw);
        CHECK(force < 1e-2);
        CHECK(sw < 5e-2);
        /* A query far outside sees the whole set as nearly one point. */
        double far[3] = {1e6, -1e6, 1e6}, frep[3], fsw;
        nn_bhtree_repulsion(t, far, 1, 0.5, frep, &fsw, 1);
        double w = 1 / (1 + 2e12 + (dims == 3 ? 1e12 : 0));
        CHECK(fabs(fsw - (double)n * w) <= 1e-4 * (double)n * w);
    }
    nn_bhtree_free(t);
    free(y), free(q), free(rep), free(sumw), free(hrep), free(hsumw), free(mag);
}

static void test_other_queries_2d(void) { other_queries(2); }
static void test_other_queries_3d(void) { other_queries(3); }

/* ---- determinism ---- */

static void determinism(int dims)
{
    size_t n = 3000;
    double *y = make_points(n, dims, 30 + (uint64_t)dims);
    size_t bytes = n * (size_t)dims * sizeof(double);
    double *rep1 = alloc(n * (size_t)dims), *sw1 = alloc(n);
    double *rep2 = alloc(n * (size_t)dims), *sw2 = alloc(n);
    nn_bhtree *t = nn_bhtree_build(y, n, dims);
    CHECK(t != NULL);
    if (!t) return;
    nn_bhtree_repulsion(t, y, n, 0.5, rep1, sw1, 1);
    int threads[] = {1, 2, 3, 8, 64, 1000, 0, -5};
    for (size_t k = 0; k < sizeof threads / sizeof *threads; k++) {
        memset(rep2, 0xff, bytes);
        memset(sw2, 0xff, n * sizeof(double));
        nn_bhtree_repulsion(t, y, n, 0.5, rep2, sw2, threads[k]);
        CHECK(memcmp(rep1, rep2, bytes) == 0 && memcmp(sw1, sw2, n * sizeof(double)) == 0);
    }
    /* The tree's own points, in the tree's order: the same bits, in y's order. */
    memset(rep2, 0xff, bytes);
    memset(sw2, 0xff, n * sizeof(double));
    nn_bhtree_repulsion_own(t, 0.5, rep2, sw2, 2);
    CHECK(memcmp(rep1, rep2, bytes) == 0 && memcmp(sw1, sw2, n * sizeof(double)) == 0);
    double *rep0 = alloc(n * (size_t)dims), *sw0 = alloc(n);
    nn_bhtree_repulsion(t, y, n, 0, rep0, sw0, 3);
    nn_bhtree_repulsion_own(t, 0, rep2, sw2, 2);
    CHECK(memcmp(rep0, rep2, bytes) == 0 && memcmp(sw0, sw2, n * sizeof(double)) == 0);
    free(rep0), free(sw0);
    /* A second tree of the same points. */
    nn_bhtree *t2 = nn_bhtree_build(y, n, dims);
    CHECK(t2 != NULL);
    if (t2) {
        nn_bhtree_repulsion(t2, y, n, 0.5, rep2, sw2, 4);
        CHECK(memcmp(rep1, rep2, bytes) == 0 && memcmp(sw1, sw2, n * sizeof(double)) == 0);
    }
    nn_bhtree_free(t2);
    /* Each query alone, and the queries in another order: the same bits (a query's result does
     * not depend on the others in the call). */
    int alone = 1;
    for (size_t i = 0; i < n; i += 37) {
        double r[3], s;
        nn_bhtree_repulsion(t, y + i * (size_t)dims, 1, 0.5, r, &s, 1);
        alone &= memcmp(r, rep1 + i * (size_t)dims, (size_t)dims * sizeof(double)) == 0 &&
                 memcmp(&s, sw1 + i, sizeof s) == 0;
    }
    CHECK(alone);
    double *rev = alloc(n * (size_t)dims);
    for (size_t i = 0; i < n; i++)
        memcpy(rev + i * (size_t)dims, y + (n - 1 - i) * (size_t)dims,
               (size_t)dims * sizeof(double));
    nn_bhtree_repulsion(t, rev, n, 0.5, rep2, sw2, 2);
    int reversed = 1;
    for (size_t i = 0; i < n; i++)
        reversed &= memcmp(rep2 + (n - 1 - i) * (size_t)dims, rep1 + i * (size_t)dims,
                           (size_t)dims * sizeof(double)) == 0 &&
                    sw2[n - 1 - i] == sw1[i];
    CHECK(reversed);
    /* A query that is not finite gives no numbers but leaves the others' bits alone. */
    rev[5 * (size_t)dims] = NAN;
    rev[9 * (size_t)dims + 1] = INFINITY;
    nn_bhtree_repulsion(t, rev, n, 0.5, rep2, sw2, 2);
    int others = 1;
    for (size_t i = 0; i < n; i++)
        if (n - 1 - i != 5 && n - 1 - i != 9)
            others &= memcmp(rep2 + (n - 1 - i) * (size_t)dims, rep1 + i * (size_t)dims,
                             (size_t)dims * sizeof(double)) == 0 &&
                      sw2[n - 1 - i] == sw1[i];
    CHECK(others);
    CHECK(isnan(sw2[5]));
    nn_bhtree_free(t);
    free(y), free(rep1), free(sw1), free(rep2), free(sw2), free(rev);
}

static void test_determinism_2d(void) { determinism(2); }
static void test_determinism_3d(void) { determinism(3); }

/* ---- degenerate sets ---- */

static void test_small(void)
{
    for (int dims = 2; dims <= 3; dims++) {
        /* n = 0: a tree all the same; every query sees nothing. */
        nn_bhtree *t = nn_bhtree_build(NULL, 0, dims);
        CHECK(t != NULL);
        double q[6] = {1, 2, 3, 4, 5, 6}, rep[6], sumw[2];
        memset(rep, 0xff, sizeof rep);
        memset(sumw, 0xff, sizeof sumw);
        if (t) nn_bhtree_repulsion(t, q, 2, 0.5, rep, sumw, 2);
        CHECK(rep[0] == 0 && rep[dims * 2 - 1] == 0 && sumw[0] == 0 && sumw[1] == 0);
        /* m = 0 writes nothing. */
        sumw[0] = 7;
        if (t) nn_bhtree_repulsion(t, q, 0, 0.5, rep, sumw, 2);
        CHECK(sumw[0] == 7);
        nn_bhtree_free(t);

        /* n = 1: itself, and another point. */
        double y[3] = {0.5, -1.5, 2};
        t = nn_bhtree_build(y, 1, dims);
        CHECK(t != NULL);
        if (!t) continue;
        double qq[6] = {0.5, -1.5, 2, 0, 0, 0};
        if (dims == 2) qq[2] = 0, qq[3] = 0; /* 2-D: (0.5, -1.5), (0, 0) */
        for (double theta = 0; theta <= 1; theta += 0.5) {
            nn_bhtree_repulsion(t, qq, 2, theta, rep, sumw, 1);
            CHECK(sumw[0] == 1 && rep[0] == 0 && rep[1] == 0 && rep[dims - 1] == 0);
            double e[3], d2 = 0;
            for (int d = 0; d < dims; d++) e[d] = qq[dims + d] - y[d], d2 += e[d] * e[d];
            double w = 1 / (1 + d2);
            /* theta = 0 sums in double, theta > 0 in single precision */
            double tol = theta == 0 ? 1e-15 : 1e-6;
            CHECK(fabs(sumw[1] - w) <= tol * w);
            for (int d = 0; d < dims; d++) CHECK(fabs(rep[dims + d] - w * w * e[d]) <= tol * w);
        }
        nn_bhtree_free(t);
    }
    double y[3] = {0};
    CHECK(nn_bhtree_build(y, 1, 1) == NULL);
    CHECK(nn_bhtree_build(y, 1, 4) == NULL);
    nn_bhtree_free(NULL);
}

static void test_duplicates(void)
{
    for (int dims = 2; dims <= 3; dims++) {
        size_t n = 100000;
        double *y = alloc(n * (size_t)dims), at[3] = {1.5, -2.25, 0.125};
        for (size_t i = 0; i < n; i++)
            memcpy(y + i * (size_t)dims, at, (size_t)dims * sizeof(double));
        /* All the same point. */
        nn_bhtree *t = nn_bhtree_build(y, n, dims);
        CHECK(t != NULL);
        double q[6] = {1.5, -2.25, 0.125, 3.5, -2.25, 0.125}, rep[6], sumw[2];
        if (dims == 2) q[2] = 3.5, q[3] = -2.25; /* 2-D: (1.5, -2.25), (3.5, -2.25) */
        if (t) {
            nn_bhtree_repulsion(t, q, 2, 0.5, rep, sumw, 2);
            CHECK(sumw[0] == (double)n && rep[0] == 0 && rep[1] == 0 && rep[dims - 1] == 0);
            /* the other query is 2 away along x: w = 1/5 */
            CHECK(fabs(sumw[1] - (double)n / 5) <= 1e-9 * (double)n);
            CHECK(fabs(rep[dims] - (double)n * 2 / 25) <= 1e-9 * (double)n);
        }
        nn_bhtree_free(t);
        /* The same with a few other points, so that the duplicates sit deep in a wide root. */
        nn_rng r;
        nn_rng_seed(&r, 40);
        for (size_t i = 0; i < 10; i++)
            for (int d = 0; d < dims; d++) y[i * 9973 * (size_t)dims + d] = nn_rng_normal(&r) * 100;
        t = nn_bhtree_build(y, n, dims);
        CHECK(t != NULL);
        if (t) {
            nn_bhtree_repulsion(t, q, 2, 0.5, rep, sumw, 1);
            CHECK(sumw[0] >= (double)(n - 10) && sumw[0] < (double)n);
            double xr[6], xs[2], mag[2];
            by_hand(y, n, q, 2, dims, xr, xs, mag);
            CHECK(fabs(sumw[0] - xs[0]) <= 1e-3 * xs[0] && fabs(sumw[1] - xs[1]) <= 1e-3 * xs[1]);
        }
        nn_bhtree_free(t);
        /* Points at the origin and one a denormal-scale step away: the depth cap stops it. */
        memset(y, 0, 1001 * (size_t)dims * sizeof(double));
        for (int d = 0; d < dims; d++) y[1000 * (size_t)dims + d] = 1e-300;
        t = nn_bhtree_build(y, 1001, dims);
        CHECK(t != NULL);
        if (t) {
            double o[3] = {0, 0, 0};
            nn_bhtree_repulsion(t, o, 1, 0, rep, sumw, 1);
            CHECK(sumw[0] == 1001); /* the far point is at w = 1 too */
            CHECK(fabs(rep[0] + 1e-300) <= 1e-315 && fabs(rep[1] + 1e-300) <= 1e-315);
            /* In single precision the step is below the smallest float: no force, but no
             * NaN either. */
            nn_bhtree_repulsion(t, o, 1, 0.5, rep, sumw, 1);
            CHECK(sumw[0] == 1001 && rep[0] == 0 && rep[1] == 0);
        }
        nn_bhtree_free(t);
        free(y);
    }
}

/* ---- beyond single precision's range ---- */

static void far_queries(int dims)
{
    size_t n = 500;
    double *y = make_points(n, dims, 50 + (uint64_t)dims);
    nn_bhtree *t = nn_bhtree_build(y, n, dims);
    CHECK(t != NULL);
    if (t) {
        /* Finite queries too far for float offsets, among ordinary ones: summed in double. */
        double q[3 * 3] = {0}, rep[3 * 3], sumw[3], xrep[3 * 3], xsumw[3];
        q[0] = 1e39, q[dims] = -1e300, q[dims + 1] = 5, q[2 * dims] = 1, q[2 * dims + 1] = -2;
        nn_bhtree_repulsion(t, q, 3, 0.5, rep, sumw, 1);
        nn_bhtree_repulsion(t, q, 3, 0, xrep, xsumw, 1);
        int close = 1;
        for (int k = 0; k < 3; k++) {
            close &= isfinite(sumw[k]) && fabs(sumw[k] - xsumw[k]) <= 5e-2 * xsumw[k];
            for (int d = 0; d < dims; d++) close &= isfinite(rep[k * dims + d]);
        }
        CHECK(close);
    }
    nn_bhtree_free(t);
    /* A map wider than float offsets allow: every query summed in double. */
    for (size_t i = 0; i < n * (size_t)dims; i++) y[i] *= 1e20;
    t = nn_bhtree_build(y, n, dims);
    CHECK(t != NULL);
    if (t) {
        double *rep = alloc(n * (size_t)dims), *sumw = alloc(n);
        nn_bhtree_repulsion_own(t, 0.5, rep, sumw, 2);
        int finite = 1;
        for (size_t i = 0; i < n; i++) finite &= isfinite(sumw[i]) && sumw[i] >= 1;
        for (size_t i = 0; i < n * (size_t)dims; i++) finite &= isfinite(rep[i]);
        CHECK(finite);
        free(rep), free(sumw);
    }
    nn_bhtree_free(t);
    free(y);
}

static void test_far_2d(void) { far_queries(2); }
static void test_far_3d(void) { far_queries(3); }

/* Every vector code this processor runs gives the same bits. */
static void test_codes_agree(void)
{
    static const char *codes[] = {"avx512", "avx2", "sse2", "generic"};
    for (int dims = 2; dims <= 3; dims++) {
        size_t n = 3000, len = n * (size_t)dims;
        double *y = make_points(n, dims, 60 + (uint64_t)dims);
        double *rep0 = alloc(len), *sw0 = alloc(n), *rep = alloc(len), *sw = alloc(n);
        nn_bhtree *t = nn_bhtree_build(y, n, dims);
        CHECK(t != NULL);
        int first = 1, ran = 0;
        for (size_t k = 0; t && k < sizeof codes / sizeof *codes; k++) {
            if (!nn_bhtree_simd(codes[k])) continue;
            ran++;
            nn_bhtree_repulsion_own(t, 0.5, first ? rep0 : rep, first ? sw0 : sw, 2);
            if (!first) {
                int same = memcmp(rep0, rep, len * sizeof(double)) == 0 &&
                           memcmp(sw0, sw, n * sizeof(double)) == 0;
                if (!same) printf("#   %s differs from the first code, %d-D\n", codes[k], dims);
                CHECK(same);
            }
            first = 0;
        }
        CHECK(ran >= 1);
        nn_bhtree_simd(NULL);
        nn_bhtree_free(t);
        free(y), free(rep0), free(sw0), free(rep), free(sw);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    nn_init(argv[0]);
    run("theta 0 equals direct summation, 2-D (clusters, duplicates)", test_exact_2d);
    run("theta 0 equals direct summation, 3-D (clusters, duplicates)", test_exact_3d);
    /* Each vector code this processor runs: they differ only in width. */
    static const char *codes[] = {"avx512", "avx2", "sse2", "generic"};
    for (size_t k = 0; k < sizeof codes / sizeof *codes; k++) {
        if (!nn_bhtree_simd(codes[k])) continue;
        printf("# vector code %s\n", codes[k]);
        run("theta 0.5 close to direct summation, 2-D", test_approx_2d);
        run("theta 0.5 close to direct summation, 3-D", test_approx_3d);
        run("queries off the set, 2-D", test_other_queries_2d);
        run("queries off the set, 3-D", test_other_queries_3d);
        run("same bits for any thread count, tree, query order, 2-D", test_determinism_2d);
        run("same bits for any thread count, tree, query order, 3-D", test_determinism_3d);
        run("n = 0, n = 1, m = 0, bad dims", test_small);
        run("100k duplicate points, and a denormal-sized cluster: build and query", test_duplicates);
        run("queries and maps beyond single precision's range, 2-D", test_far_2d);
        run("queries and maps beyond single precision's range, 3-D", test_far_3d);
    }
    run("every vector code gives the same bits", test_codes_agree);
    CHECK(!nn_bhtree_simd("mmx"));
    CHECK(nn_bhtree_simd(NULL));
    return tap_done();
}
