/* t-SNE repulsion by Barnes-Hut: a quadtree (2-D) or octree (3-D) over the points; a cell is
 * summarised by its centre of mass when side^2 < theta^2 * d^2, d the distance from the query
 * to the cell's centre of mass (theta = 0: every term exact).
 *
 * Layout. Nodes live in one growable array in depth-first preorder: a node's children follow
 * it, and `next` is the index just past its subtree, so a walk goes forwards through the array
 * (descend: i + 1; skip or finish a subtree: next). A node is a leaf when next == i + 1. The
 * points are copied and reordered so that every cell's points are contiguous (first .. first +
 * count - 1); a leaf sums over them exactly. A node is com[dims] then four 32-bit words (count,
 * next, first, depth): 32 bytes in 2-D, 40 in 3-D. A cell's side is the root's halved `depth`
 * times (a table by depth); its lower corner is kept in a separate array, out of the walks' way.
 *
 * Build. Top-down: the root is the bounding box made square (cubic) with a small margin; a cell
 * with more than LEAF_SIZE points is split at its centre by a counting sort into the other of
 * two point buffers. A cell is a leaf whatever its count at depth MAX_DEPTH or when halving it
 * would no longer move its centre (the side has underflowed relative to the coordinates), so
 * duplicate points end up together in one leaf. The build recurses at most MAX_DEPTH + 1 deep,
 * and is a deterministic function of the input. */
#include "tsne.h"
#include "nn.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#ifndef LEAF_SIZE
#define LEAF_SIZE 16 /* points a cell may keep before it is split */
#endif

typedef struct {
    uint32_t count; /* points in the cell */
    uint32_t next;  /* index of the node after this subtree */
    uint32_t first; /* the cell's first point in the reordered points */
    uint32_t depth; /* 0 at the root */
} meta;

struct nn_bhtree {
    int dims;
    size_t n, nnodes;
    unsigned char *nodes;           /* nnodes records of node_bytes(dims) */
    double *lo;                     /* per node: the cell's lower corner, dims values */
    double *pts;                    /* the points, reordered, n * dims */
    uint32_t *index;                /* the input index of each of them */
    double side[MAX_DEPTH + 1];     /* cell side by depth */
    double side2[MAX_DEPTH + 1];    /* its square */
    double centre[3];               /* the root cell's centre */
};

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE size_t node_bytes(int D) { return 8 * (size_t)D + sizeof(meta); }
ALWAYS_INLINE double *node_com(unsigned char *nodes, size_t i, int D)
{
    return (double *)(nodes + i * node_bytes(D));
}
ALWAYS_INLINE meta *node_meta(unsigned char *nodes, size_t i, int D)
{
    return (meta *)(nodes + i * node_bytes(D) + 8 * (size_t)D);
}

/* ---- build ---- */

typedef struct {
    nn_bhtree *t;
    double *a, *b;         /* a = t->pts (final), b = scratch; the root reads the input */
    uint32_t *ia, *ib;     /* the input index of each point of a and of b */
    unsigned char *code;   /* child index per point, scratch */
    size_t cap;            /* allocated nodes */
    int failed;
} builder;

static int grow(builder *B, int D)
{
    size_t cap = B->cap ? B->cap * 2 : 64;
    if (cap > UINT32_MAX) cap = UINT32_MAX; /* node indices are 32-bit */
    if (cap <= B->cap) return 0;
    unsigned char *nodes = realloc(B->t->nodes, cap * node_bytes(D));
    if (!nodes) return 0;
    B->t->nodes = nodes;
    double *lo = realloc(B->t->lo, cap * (size_t)D * sizeof(double));
    if (!lo) return 0;
    B->t->lo = lo;
    B->cap = cap;
    return 1;
}

/* The recursion goes through these, which give build_node_d a constant D. */
static void build_node2(builder *B, const double *src, size_t first, size_t count,
                        const double *lo, int depth, double *sum);
static void build_node3(builder *B, const double *src, size_t first, size_t count,
                        const double *lo, int depth, double *sum);

/* Builds the subtree of the cell [lo, lo + side) holding points first .. first + count - 1 of
 * src (one of y, a, b); adds the coordinate sums of its points to sum. */
ALWAYS_INLINE void build_node_d(builder *B, const double *src, size_t first, size_t count,
                                const double *lo, int depth, double *sum, int D)
{
    nn_bhtree *t = B->t;
    if (t->nnodes == B->cap && !grow(B, D)) {
        B->failed = 1;
        return;
    }
    size_t idx = t->nnodes++;
    memcpy(t->lo + idx * (size_t)D, lo, (size_t)D * sizeof(double));
    double half = t->side[depth] / 2, ctr[3], s[3] = {0, 0, 0};
    int split = count > LEAF_SIZE && depth < MAX_DEPTH;
    for (int d = 0; d < D; d++) {
        ctr[d] = lo[d] + half;
        if (ctr[d] == lo[d] || ctr[d] == lo[d] + t->side[depth]) split = 0;
    }

    /* the input index of each point of src: the identity for the input itself */
    const uint32_t *isrc = src == B->a ? B->ia : src == B->b ? B->ib : NULL;
    if (!split) {
        double *p = B->a + first * (size_t)D;
        if (src != B->a) memcpy(p, src + first * (size_t)D, count * (size_t)D * sizeof(double));
        if (isrc == B->ib) memcpy(B->ia + first, B->ib + first, count * sizeof(uint32_t));
        if (!isrc)
            for (size_t j = 0; j < count; j++) B->ia[first + j] = (uint32_t)(first + j);
        for (size_t j = 0; j < count; j++)
            for (int d = 0; d < D; d++) s[d] += p[j * (size_t)D + d];
    } else {
        enum { NC = 1 << 3 };
        size_t cnt[NC] = {0};
        const double *p = src + first * (size_t)D;
        unsigned char *code = B->code + first;
        for (size_t j = 0; j < count; j++) {
            unsigned k = 0;
            for (int d = 0; d < D; d++) k |= (unsigned)(p[j * (size_t)D + d] >= ctr[d]) << d;
            code[j] = (unsigned char)k;
            cnt[k]++;
        }
        int nc = 1 << D;
        const double *csrc = src;
        for (int k = 0; k < nc; k++)
            if (cnt[k] == count) goto single; /* all in one child: no need to move them */
        {
            double *dst = src == B->b ? B->a : B->b;
            uint32_t *idst = dst == B->a ? B->ia : B->ib;
            size_t pos[NC], acc = first;
            for (int k = 0; k < nc; k++) pos[k] = acc, acc += cnt[k];
            for (size_t j = 0; j < count; j++) {
                size_t at = pos[code[j]]++;
                double *o = dst + at * (size_t)D;
                for (int d = 0; d < D; d++) o[d] = p[j * (size_t)D + d];
                idst[at] = isrc ? isrc[first + j] : (uint32_t)(first + j);
            }
            csrc = dst;
        }
    single:;
        size_t at = first;
        for (int k = 0; k < nc; k++) {
            if (!cnt[k]) continue;
            double clo[3];
            for (int d = 0; d < D; d++) clo[d] = k >> d & 1 ? ctr[d] : lo[d];
            if (D == 2) build_node2(B, csrc, at, cnt[k], clo, depth + 1, s);
            else build_node3(B, csrc, at, cnt[k], clo, depth + 1, s);
            if (B->failed) return;
            at += cnt[k];
        }
    }

    double *com = node_com(t->nodes, idx, D);
    for (int d = 0; d < D; d++) {
        com[d] = s[d] / (double)count;
        sum[d] += s[d];
    }
    *node_meta(t->nodes, idx, D) = (meta){(uint32_t)count, (uint32_t)t->nnodes, (uint32_t)first,
                                          (uint32_t)depth};
}

static void build_node2(builder *B, const double *src, size_t first, size_t count,
                        const double *lo, int depth, double *sum)
{
    build_node_d(B, src, first, count, lo, depth, sum, 2);
}

static void build_node3(builder *B, const double *src, size_t first, size_t count,
                        const double *lo, int depth, double *sum)
{
    build_node_d(B, src, first, count, lo, depth, sum, 3);
}

nn_bhtree *nn_bhtree_build(const double *y, size_t n, int dims)
{
    if ((dims != 2 && dims != 3) || n >= UINT32_MAX / 2) return NULL;
    nn_bhtree *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->dims = dims;
    t->n = n;
    if (n == 0) return t;

    /* The root: the bounding box made square, with a margin so that no point is on its upper
     * faces. */
    double mn[3], mx[3], ext = 0, lo[3];
    for (int d = 0; d < dims; d++) mn[d] = mx[d] = y[d];
    for (size_t i = 1; i < n; i++)
        for (int d = 0; d < dims; d++) {
            double v = y[i * (size_t)dims + d];
            mn[d] = v < mn[d] ? v : mn[d];
            mx[d] = v > mx[d] ? v : mx[d];
        }
    double mag = 0;
    for (int d = 0; d < dims; d++) {
        ext = fmax(ext, mx[d] - mn[d]);
        mag = fmax(mag, fmax(fabs(mn[d]), fabs(mx[d])));
    }
    double side = ext * (1 + 1e-6) + mag * 1e-12;
    if (!(side > 0) || !isfinite(side)) side = 1; /* one distinct point (or non-finite input) */
    for (int d = 0; d < dims; d++) {
        lo[d] = (mn[d] + mx[d]) / 2 - side / 2;
        t->centre[d] = lo[d] + side / 2;
    }
    for (int k = 0; k <= MAX_DEPTH; k++) {
        t->side[k] = ldexp(side, -k);
        t->side2[k] = t->side[k] * t->side[k];
    }

    builder B = {t, NULL, NULL, NULL, NULL, NULL, 0, 0};
    size_t bytes = n * (size_t)dims * sizeof(double);
    t->pts = B.a = malloc(bytes);
    B.b = malloc(bytes);
    t->index = B.ia = malloc(n * sizeof(uint32_t));
    B.ib = malloc(n * sizeof(uint32_t));
    B.code = malloc(n);
    /* Usually about n / 8 nodes; the arrays grow if need be. */
    size_t want = n / 4 + 64;
    t->nodes = malloc(want * node_bytes(dims));
    t->lo = malloc(want * (size_t)dims * sizeof(double));
    if (t->nodes && t->lo) B.cap = want;
    if (!B.a || !B.b || !B.ia || !B.ib || !B.code || !B.cap) B.failed = 1;
    double sum[3] = {0, 0, 0};
    if (!B.failed) {
        if (dims == 2) build_node2(&B, y, 0, n, lo, 0, sum);
        else build_node3(&B, y, 0, n, lo, 0, sum);
    }
    free(B.b);
    free(B.ib);
    free(B.code);
    if (B.failed) {
        nn_bhtree_free(t);
        return NULL;
    }
    return t;
}

void nn_bhtree_free(nn_bhtree *t)
{
    if (!t) return;
    free(t->nodes);
    free(t->lo);
    free(t->pts);
    free(t->index);
    free(t);
}

/* ---- queries ----
 *
 * Queries go through the tree in packets of GROUP neighbours (Morton order of the queries within
 * the root cell), one walk per packet with a mask of the queries still descending. At each cell
 * the packet's bounding box decides for all of them at once when it can: summarised for every
 * point of the box, or opened for every point of it (a relative margin far above rounding keeps
 * these box tests exact); otherwise each query applies the criterion itself, in double. The
 * walk lists the terms (a cell's centre of mass and count, or a leaf's point with count 1) with
 * the mask of the queries they apply to; the list is then summed in single precision, a vector
 * of queries at a time, masked, in the order of the walk, with positions relative to the
 * tree's centre. So each query gets the terms of its own walk, in its order, with its own
 * arithmetic: its result depends neither on the other queries of its packet nor on the threads.
 *
 * Single precision: the sums are over a few hundred terms each and their error (about 1e-6)
 * is far below the approximation's (about 1e-2 at theta 0.5); measured at N = 10,000 on 2
 * threads with AVX-512, the repulsion took 2.25 s against 2.65 s in double, both with the
 * packets of 32 there were then (medians of 3 alternating runs). theta = 0, the exact sum that
 * the tests compare against, is summed in double by each query's own walk; so are queries that
 * are not finite or lie more than FLOAT_SPAN from the tree's centre, and every query of a tree
 * wider than that (squared distances would overflow single precision). Whatever a non-finite
 * query gets, the others' results do not change. The Makefile builds this file without fused
 * multiply-adds, so that every vector code gives the same bits. */

#define GROUP 64 /* queries per packet: the bits of an lmask */
typedef uint64_t lmask;
#define MARGIN 1e-9
#define FLOAT_SPAN 1e18 /* offsets from the centre summed in single precision: at most this */
#define CHUNK 1024 /* terms listed before they are summed */
_Static_assert(CHUNK <= 65536, "term numbers are 16-bit");

/* Adds the terms of the subtree of nodes [i, end) for query q: the plain walk of one query, in
 * double. */
ALWAYS_INLINE void walk_d(const nn_bhtree *t, uint32_t i, uint32_t end, const double *q,
                          double th2, double *r, double *sw, int D)
{
    const unsigned char *nodes = t->nodes;
    const size_t stride = node_bytes(D);
    while (i < end) {
        const double *com = (const double *)(nodes + i * stride);
        const meta *mt = (const meta *)(com + D);
        double diff[3], d2 = 0;
        for (int d = 0; d < D; d++) diff[d] = q[d] - com[d], d2 += diff[d] * diff[d];
        if (t->side2[mt->depth] < th2 * d2) {
            /* far enough: the cell as count points at its centre of mass */
            double w = 1 / (1 + d2), cw = (double)mt->count * w;
            *sw += cw;
            cw *= w;
            for (int d = 0; d < D; d++) r[d] += cw * diff[d];
            i = mt->next;
        } else if (mt->next == i + 1) {
            /* a leaf: its points exactly */
            const double *p = t->pts + (size_t)mt->first * (size_t)D;
            for (uint32_t j = 0; j < mt->count; j++, p += D) {
                double e[3], e2 = 0;
                for (int d = 0; d < D; d++) e[d] = q[d] - p[d], e2 += e[d] * e[d];
                double w = 1 / (1 + e2);
                *sw += w;
                for (int d = 0; d < D; d++) r[d] += w * w * e[d];
            }
            i = mt->next;
        } else {
            i++; /* into the children */
        }
    }
}

typedef struct {
    const nn_bhtree *t;
    const double *q;
    const uint64_t *order; /* (Morton key << 32 | query index), sorted; NULL: the given order */
    const uint32_t *out;   /* where query i's results go: out[i]; NULL: at i */
    size_t m, ngroups;     /* queries, packets */
    size_t *next_packet;   /* shared by the threads */
    double th2;
    double *rep, *sumw;
    float *buf;            /* this thread's scratch: SCRATCH_BYTES */
} slice;

/* The largest packet scratch: the terms (4 floats and a mask each) and the flush's lists for
 * the narrowest vectors (4 floats). */
#define SCRATCH_BYTES (CHUNK * (4 * sizeof(float) + sizeof(lmask) + GROUP / 4 * sizeof(uint16_t)))

/* Packets go to whichever thread is free: a packet's cost varies with the density of its
 * region, and its results do not depend on the thread that computes them. */
static size_t take_packet(slice *s)
{
    return __atomic_fetch_add(s->next_packet, 1, __ATOMIC_RELAXED);
}

static inline size_t out_of(const slice *s, size_t i)
{
    return s->out ? s->out[i] : i;
}

/* Queries idx[0 .. n) each on its own walk. */
static void walk_each(slice *s, const size_t *idx, size_t n)
{
    int D = s->t->dims;
    for (size_t k = 0; k < n; k++) {
        double r[3] = {0, 0, 0}, sw = 0;
        const double *q = s->q + idx[k] * (size_t)D;
        if (D == 2) walk_d(s->t, 0, (uint32_t)s->t->nnodes, q, s->th2, r, &sw, 2);
        else walk_d(s->t, 0, (uint32_t)s->t->nnodes, q, s->th2, r, &sw, 3);
        size_t o = out_of(s, idx[k]);
        for (int d = 0; d < D; d++) s->rep[o * (size_t)D + d] = r[d];
        s->sumw[o] = sw;
    }
}

static void *run_slice_alone(void *arg)
{
    slice *s = arg;
    for (size_t g = take_packet(s); g < s->ngroups; g = take_packet(s)) {
        size_t a = g * GROUP, n = a + GROUP < s->m ? GROUP : s->m - a, idx[GROUP];
        for (size_t k = 0; k < n; k++) idx[k] = s->order ? (size_t)(s->order[a + k] & 0xffffffffu) : a + k;
        walk_each(s, idx, n);
    }
    return NULL;
}

/* The packet code, once per vector width. The masks of a comparison come from the instruction
 * set's own mask or movemask where there is one: extracting the lanes one by one took the
 * repulsion to 2.01 s from 1.74 s (N = 10,000, AVX-512). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SUFFIX avx512
#define TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,bmi,bmi2")))
#define LANES 8
#define FLANES 16
#define LT_BITS(bits, a, b) ((bits) = _mm512_cmp_pd_mask((__m512d)(a), (__m512d)(b), _CMP_LT_OQ))
#include "tsne_bh_packets.h"
#undef SUFFIX
#undef TARGET
#undef LANES
#undef FLANES
#undef LT_BITS

#define SUFFIX avx2
#define TARGET __attribute__((target("avx2,fma")))
#define LANES 4
#define FLANES 8
#define LT_BITS(bits, a, b) \
    ((bits) = (lmask)_mm256_movemask_pd(_mm256_cmp_pd((__m256d)(a), (__m256d)(b), _CMP_LT_OQ)))
#include "tsne_bh_packets.h"
#undef SUFFIX
#undef TARGET
#undef LANES
#undef FLANES
#undef LT_BITS

#define SUFFIX sse2
#define TARGET
#define LANES 2
#define FLANES 4
#define LT_BITS(bits, a, b) ((bits) = (lmask)_mm_movemask_pd(_mm_cmplt_pd((__m128d)(a), (__m128d)(b))))
#include "tsne_bh_packets.h"
#undef SUFFIX
#undef TARGET
#undef LANES
#undef FLANES
#undef LT_BITS
#else
#define SUFFIX generic
#define TARGET
#define LANES 2
#define FLANES 4
#define LT_BITS(bits, a, b) do { \
        vd a_ = (a), b_ = (b); \
        (bits) = 0; \
        for (int l_ = 0; l_ < LANES; l_++) (bits) |= (lmask)(a_[l_] < b_[l_]) << l_; \
    } while (0)
#include "tsne_bh_packets.h"
#undef SUFFIX
#undef TARGET
#undef LANES
#undef FLANES
#undef LT_BITS
#endif

static const struct {
    const char *name;
    void *(*run)(void *);
} packet_codes[] = {
#if defined(__x86_64__) && defined(__GNUC__)
    {"avx512", run_slice_avx512}, {"avx2", run_slice_avx2}, {"sse2", run_slice_sse2},
#else
    {"generic", run_slice_generic},
#endif
};
enum { NCODES = sizeof packet_codes / sizeof packet_codes[0] };

static int code_runs_here(int k)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const char *name = packet_codes[k].name;
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    (void)k;
    return 1;
}

static int chosen_code = -1;   /* index into packet_codes; -1: the widest that runs here */

int nn_bhtree_simd(const char *name)
{
    if (!name) {
        chosen_code = -1;
        return 1;
    }
    for (int k = 0; k < NCODES; k++)
        if (strcmp(packet_codes[k].name, name) == 0 && code_runs_here(k)) {
            chosen_code = k;
            return 1;
        }
    return 0;
}

static void *(*packet_code(void))(void *)
{
    static int widest = -1;   /* found once: t-SNE asks every iteration */
    if (chosen_code >= 0) return packet_codes[chosen_code].run;
    if (widest < 0) {
        widest = NCODES - 1;
        for (int k = NCODES - 1; k >= 0; k--)
            if (code_runs_here(k)) widest = k;
    }
    return packet_codes[widest].run;
}

/* Spreads the low bits of v: bit k goes to bit k * step. */
static uint32_t spread(uint32_t v, int bits, int step)
{
    uint32_t out = 0;
    for (int k = 0; k < bits; k++) out |= (v >> k & 1u) << (k * step);
    return out;
}

/* The queries in Morton order of their cells in the root (clamped to it): each entry is
 * key << 32 | index, sorted by key, ties by index. NULL if m is too large or out of memory. */
static uint64_t *morton_order(const nn_bhtree *t, const double *q, size_t m)
{
    int D = t->dims, bits = D == 2 ? 16 : 10;
    if (m > UINT32_MAX) return NULL;
    uint64_t *v = malloc(m * sizeof *v), *tmp = malloc(m * sizeof *v);
    if (!v || !tmp) {
        free(v);
        free(tmp);
        return NULL;
    }
    /* Tables: 8 bits at a time. */
    uint32_t tab[256];
    for (uint32_t k = 0; k < 256; k++) tab[k] = spread(k, 8, D);
    double scale = ldexp(1, bits) / t->side[0], top = ldexp(1, bits) - 1;
    for (size_t i = 0; i < m; i++) {
        uint32_t key = 0;
        for (int d = 0; d < D; d++) {
            double u = (q[i * (size_t)D + d] - t->lo[d]) * scale;
            uint32_t c = u >= 0 ? (u <= top ? (uint32_t)u : (uint32_t)top) : 0; /* NaN: 0 */
            key |= (tab[c & 255] | tab[c >> 8] << (8 * D)) << d;
        }
        v[i] = (uint64_t)key << 32 | i;
    }
    /* LSD radix sort on the key, 8 bits a pass (stable, so ties stay in index order). */
    for (int shift = 32; shift < 32 + bits * D; shift += 8) {
        size_t cnt[256] = {0};
        for (size_t i = 0; i < m; i++) cnt[v[i] >> shift & 255]++;
        size_t acc = 0;
        for (int k = 0; k < 256; k++) {
            size_t c = cnt[k];
            cnt[k] = acc;
            acc += c;
        }
        for (size_t i = 0; i < m; i++) tmp[cnt[v[i] >> shift & 255]++] = v[i];
        uint64_t *sw = v;
        v = tmp;
        tmp = sw;
    }
    free(tmp);
    return v;
}

static void repulsion(const nn_bhtree *t, const double *q, size_t m, const uint64_t *order,
                      const uint32_t *out, double theta, double *rep, double *sumw, int nthreads)
{
    size_t ngroups = (m + GROUP - 1) / GROUP;
    nthreads = nn_threads(nthreads);
    if ((size_t)nthreads > ngroups) nthreads = (int)ngroups;
    slice s[NN_MAX_THREADS];
    size_t next_packet = 0;
    int packets = theta > 0 && t->side[0] <= FLOAT_SPAN;
    float *buf = packets ? nn_xmalloc((size_t)nthreads * SCRATCH_BYTES) : NULL;
    for (int k = 0; k < nthreads; k++)
        s[k] = (slice){t, q, order, out, m, ngroups, &next_packet, theta * theta, rep, sumw,
                       packets ? buf + (size_t)k * SCRATCH_BYTES / sizeof(float) : NULL};
    nn_run_jobs(packets ? packet_code() : run_slice_alone, s, sizeof s[0], nthreads);
    free(buf);
}

void nn_bhtree_repulsion(const nn_bhtree *t, const double *q, size_t m, double theta,
                         double *rep, double *sumw, int nthreads)
{
    if (!t || m == 0) return;
    if (t->nnodes == 0) {
        memset(rep, 0, m * (size_t)t->dims * sizeof(double));
        memset(sumw, 0, m * sizeof(double));
        return;
    }
    uint64_t *order = m > GROUP ? morton_order(t, q, m) : NULL;
    repulsion(t, q, m, order, NULL, theta, rep, sumw, nthreads);
    free(order);
}

void nn_bhtree_repulsion_own(const nn_bhtree *t, double theta, double *rep, double *sumw,
                             int nthreads)
{
    /* The tree's order is already a quadtree (octree) order: the packets are its runs. */
    if (t && t->n) repulsion(t, t->pts, t->n, NULL, t->index, theta, rep, sumw, nthreads);
}
