/* nn-tsne: a stream of vectors to a 2-D (or 3-D) map with t-SNE; or new points placed on an
 * existing map without moving it. */
#include "nn.h"
#include "tsne.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-tsne [OPTION]... [INPUT]";
static const char SUMMARY[] =
    "Map the vectors of INPUT (default -) to 2-D points with t-SNE; with --add-to, place them\n"
    "on an existing map.";

enum { O_OUTPUT, O_DIMS, O_PERPLEXITY, O_ITERATIONS, O_EXAG, O_EXAG_ITERS, O_LR, O_INIT, O_SEED,
       O_METHOD, O_THETA, O_THREADS, O_ADD_TO, O_REFERENCE, O_PROGRESS };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the points to FILE (default -)"},
    [O_DIMS] = {"dims", 'd', 1, "2|3", "dimensions of the map (default 2)"},
    [O_PERPLEXITY] = {"perplexity", 'p', 1, "P", "perplexity (default 30; 5 with --add-to)"},
    [O_ITERATIONS] = {"iterations", 'n', 1, "N", "iterations (default 1000; 250 with --add-to)"},
    [O_EXAG] = {"early-exaggeration", 0, 1, "E", "exaggeration of P at first (default 12)"},
    [O_EXAG_ITERS] = {"exaggeration-iterations", 0, 1, "N", "iterations exaggerated (default 250)"},
    [O_LR] = {"learning-rate", 0, 1, "auto|R", "step size (default auto: max(N/E/4, 50))"},
    [O_INIT] = {"init", 0, 1, "pca|random", "initial map (default pca)"},
    [O_SEED] = {"seed", 0, 1, "N", "seed of --init random (default 0)"},
    [O_METHOD] = {"method", 'm', 1, "auto|exact|bh|fft", "repulsion (default auto: by N)"},
    [O_THETA] = {"theta", 0, 1, "T", "Barnes-Hut accuracy, 0 exact (default 0.5)"},
    [O_THREADS] = {"threads", 't', 1, "N", "threads (default: the number of cores)"},
    [O_ADD_TO] = {"add-to", 0, 1, "MAP", "place INPUT on MAP (nn-tsne's points for --reference)"},
    [O_REFERENCE] = {"reference", 0, 1, "FILE", "the vectors MAP was made from"},
    [O_PROGRESS] = {"progress", 0, 0, NULL, "progress and KL on stderr even if not a terminal"},
    {0},
};

static const char *const METHOD_NAMES[3] = {"exact", "bh", "fft"};

typedef struct {
    const char *input, *output, *add_to, *reference, *init;
    int dims, iterations, exag_iters, threads, method;   /* method: -1 auto */
    double perplexity, exag, lr, theta;                  /* lr: 0 auto */
    uint64_t seed;
    int perplexity_given, iterations_given;
} options;

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->dims = 2;
    o->perplexity = 30;
    o->iterations = 1000;
    o->exag = 12;
    o->exag_iters = 250;
    o->theta = 0.5;
    o->method = -1;
    o->init = "pca";
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_OUTPUT: o->output = a; break;
        case O_DIMS: o->dims = (int)nn_parse_int("--dims", a, 2, 3); break;
        case O_PERPLEXITY:
            o->perplexity = nn_parse_double("--perplexity", a, 1, 1e5);
            o->perplexity_given = 1;
            break;
        case O_ITERATIONS:
            o->iterations = (int)nn_parse_int("--iterations", a, 0, 1 << 24);
            o->iterations_given = 1;
            break;
        case O_EXAG: o->exag = nn_parse_double("--early-exaggeration", a, 1, 1e4); break;
        case O_EXAG_ITERS: o->exag_iters = (int)nn_parse_int("--exaggeration-iterations", a, 0, 1 << 24); break;
        case O_LR: o->lr = strcmp(a, "auto") == 0 ? 0 : nn_parse_double("--learning-rate", a, 1e-6, 1e9); break;
        case O_INIT:
            if (strcmp(a, "pca") && strcmp(a, "random"))
                nn_usage_error(USAGE, "--init: '%s' is not pca or random", a);
            o->init = a;
            break;
        case O_SEED: o->seed = (uint64_t)nn_parse_int("--seed", a, 0, INT64_MAX); break;
        case O_METHOD:
            o->method = strcmp(a, "auto") == 0 ? -1 : strcmp(a, "exact") == 0 ? NN_TSNE_EXACT
                      : strcmp(a, "bh") == 0 ? NN_TSNE_BH : strcmp(a, "fft") == 0 ? NN_TSNE_FFT : -2;
            if (o->method == -2) nn_usage_error(USAGE, "--method: '%s' is not auto, exact, bh or fft", a);
            break;
        case O_THETA: o->theta = nn_parse_double("--theta", a, 0, 10); break;
        case O_THREADS: o->threads = (int)nn_parse_int("--threads", a, 1, 64); break;
        case O_ADD_TO: o->add_to = a; break;
        case O_REFERENCE: o->reference = a; break;
        case O_PROGRESS: nn_progress_forced = 1; break;
        }
    }
    if (p->npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    o->input = p->npos ? p->pos[0] : "-";
    if (!o->add_to != !o->reference) nn_usage_error(USAGE, "--add-to and --reference go together");
    if (o->method == NN_TSNE_FFT && o->dims == 3)
        nn_usage_error(USAGE, "--method fft is 2-D only: use bh or exact with --dims 3");
    if (o->add_to) {
        if (!o->perplexity_given) o->perplexity = 5;
        if (!o->iterations_given) o->iterations = 250;
    }
    if (!o->threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o->threads = cores < 1 ? 1 : cores > 64 ? 64 : (int)cores;
    }
    nn_refuse_terminal(o->output, USAGE, "a binary stream");
}

static int neighbours(const options *o, size_t n_ref, const char *what)
{
    int k = (int)(3 * o->perplexity);
    if (k < 1) k = 1;
    size_t others = n_ref - (o->add_to ? 0 : 1);
    if (others < 3)
        nn_die("%s: %zu points are too few for t-SNE (at least %d are needed)", what, n_ref,
               o->add_to ? 3 : 4);
    if ((size_t)k > others)
        nn_die("%s: %zu points are too few for perplexity %g, which needs %d neighbours of each: "
               "use --perplexity %g or less", what, n_ref, o->perplexity, k,
               floor((double)(n_ref - (o->add_to ? 0 : 1)) / 3));
    return k;
}

/* Conditional P rows of every query over its k nearest reference points. */
static void conditional(const options *o, const nn_matrix *ref, const nn_matrix *q, int same,
                        int k, uint32_t *idx, double *pcond)
{
    float *d2 = nn_xmalloc(q->n * (size_t)k * sizeof(float));
    nn_knn(ref->x, ref->n, q->x, q->n, q->d, k, same, idx, d2, o->threads);
    nn_perplexity_rows(d2, q->n, k, o->perplexity, pcond, o->threads);
    free(d2);
}

static void report(nn_progress *prog, int it, double kl)
{
    if (!prog->active) return;
    snprintf(prog->note, sizeof prog->note, "KL %.4f", kl);
    prog->last = 0;              /* draw now */
    nn_progress_update(prog, (uint64_t)it);
}

/* The full t-SNE of x; returns the final KL. */
static double embed(const options *o, const nn_matrix *x, int method, double *y)
{
    size_t n = x->n, len = n * (size_t)o->dims;
    /* NN_TSNE_TIMES=1: the seconds of each phase on stderr (for profiling). */
    const char *times_env = getenv("NN_TSNE_TIMES");
    int times = times_env && *times_env && strcmp(times_env, "0") != 0;
    double t0 = nn_now(), t_forces = 0, t_upd = 0, t_kl = 0, t_p, t_init;
    int k = neighbours(o, n, o->input);
    uint32_t *idx = nn_xmalloc(n * (size_t)k * sizeof(uint32_t));
    double *pcond = nn_xmalloc(n * (size_t)k * sizeof(double));
    conditional(o, x, x, 1, k, idx, pcond);
    nn_sparse P;
    nn_tsne_joint(idx, pcond, n, k, &P);
    free(idx);
    free(pcond);
    t_p = nn_now();
    if (strcmp(o->init, "pca") == 0) nn_tsne_init_pca(x->x, n, x->d, o->dims, y);
    else {
        nn_rng rng;
        nn_rng_seed(&rng, o->seed);
        for (size_t i = 0; i < len; i++) y[i] = 1e-4 * nn_rng_normal(&rng);
    }
    t_init = nn_now();
    double lr = o->lr > 0 ? o->lr : fmax((double)n / o->exag / 4, 50);
    double *update = nn_xcalloc(len, sizeof(double)), *gains = nn_xmalloc(len * sizeof(double));
    double *attr = nn_xmalloc(len * sizeof(double)), *rep = nn_xmalloc(len * sizeof(double));
    double *sumw = nn_xmalloc(n * sizeof(double)), *grad = nn_xmalloc(len * sizeof(double));
    for (size_t i = 0; i < len; i++) gains[i] = 1;
    nn_progress prog;
    nn_progress_start(&prog, "iterations", (uint64_t)o->iterations);
    double z = 1, kl = 0;
    for (int it = 0; it < o->iterations; it++) {
        int early = it < o->exag_iters;
        double exag = early ? o->exag : 1, momentum = early ? 0.5 : 0.8;
        double tb = nn_now();
        z = nn_tsne_forces(&P, (nn_tsne_method)method, y, o->dims, o->theta, attr, rep, sumw,
                           o->threads);
        double tc = nn_now();
        for (size_t i = 0; i < len; i++) grad[i] = 4 * (exag * attr[i] - rep[i] / z);
        nn_tsne_update(y, update, gains, grad, len, momentum, lr);
        double td = nn_now();
        /* KL costs a log per entry of P: only when it is shown, and at the end. */
        if ((prog.active && (it + 1) % 50 == 0) || it + 1 == o->iterations) {
            kl = nn_tsne_kl(&P, y, o->dims, z);
            report(&prog, it + 1, kl);
        }
        t_forces += tc - tb, t_upd += td - tc, t_kl += nn_now() - td;
    }
    if (o->iterations == 0) {
        z = nn_tsne_repulsion((nn_tsne_method)method, y, n, o->dims, o->theta, rep, sumw, o->threads);
        kl = nn_tsne_kl(&P, y, o->dims, z);
    }
    nn_progress_end(&prog, (uint64_t)o->iterations);
    if (times)
        nn_warn("times: knn+P %.2f s, init %.2f s, forces %.2f s, update %.2f s, KL %.2f s, "
                "total %.2f s", t_p - t0, t_init - t_p, t_forces, t_upd, t_kl, nn_now() - t0);
    nn_sparse_free(&P);
    free(update);
    free(gains);
    free(attr);
    free(rep);
    free(sumw);
    free(grad);
    return kl;
}

/* New points on a fixed map: P from each new point to its nearest reference points, started at
 * their P-weighted mean, moved by the gradient of each point's own KL (conditional Q over the
 * map), the map's repulsion from a Barnes-Hut tree built once. Returns the mean KL. */
static double add_points(const options *o, const nn_matrix *ref, const nn_matrix *map,
                         const nn_matrix *x, double *y)
{
    size_t m = x->n, len = m * (size_t)o->dims;
    int k = neighbours(o, ref->n, o->reference), dims = o->dims;
    uint32_t *idx = nn_xmalloc(m * (size_t)k * sizeof(uint32_t));
    double *p = nn_xmalloc(m * (size_t)k * sizeof(double));
    conditional(o, ref, x, 0, k, idx, p);
    double *mp = nn_xmalloc(map->n * (size_t)dims * sizeof(double));
    for (size_t i = 0; i < map->n * (size_t)dims; i++) mp[i] = map->x[i];
    for (size_t i = 0; i < m; i++)
        for (int c = 0; c < dims; c++) {
            double s = 0;
            for (int a = 0; a < k; a++) s += p[i * (size_t)k + (size_t)a] * mp[(size_t)idx[i * (size_t)k + (size_t)a] * (size_t)dims + (size_t)c];
            y[i * (size_t)dims + (size_t)c] = s;
        }
    nn_bhtree *tree = nn_bhtree_build(mp, map->n, dims);
    if (!tree) nn_die("out of memory building the Barnes-Hut tree of %zu points", map->n);
    double theta = o->method == NN_TSNE_EXACT ? 0 : o->theta, lr = o->lr > 0 ? o->lr : 1;
    double *update = nn_xcalloc(len, sizeof(double)), *gains = nn_xmalloc(len * sizeof(double));
    double *rep = nn_xmalloc(len * sizeof(double)), *sumw = nn_xmalloc(m * sizeof(double));
    double *grad = nn_xmalloc(len * sizeof(double)), kl = 0;
    for (size_t i = 0; i < len; i++) gains[i] = 1;
    for (int it = 0; it <= o->iterations; it++) {
        nn_bhtree_repulsion(tree, y, m, theta, rep, sumw, o->threads);
        kl = 0;
        for (size_t i = 0; i < m; i++) {
            double *yi = y + i * (size_t)dims, attr[3] = {0, 0, 0};
            for (int a = 0; a < k; a++) {
                size_t e = i * (size_t)k + (size_t)a;
                const double *mj = mp + (size_t)idx[e] * (size_t)dims;
                double diff[3], d2 = 0;
                for (int c = 0; c < dims; c++) diff[c] = yi[c] - mj[c], d2 += diff[c] * diff[c];
                for (int c = 0; c < dims; c++) attr[c] += p[e] * diff[c] / (1 + d2);
                if (p[e] > 0) kl += p[e] * (log(p[e]) + log1p(d2) + log(sumw[i]));
            }
            for (int c = 0; c < dims; c++)
                grad[i * (size_t)dims + (size_t)c] = 4 * (attr[c] - rep[i * (size_t)dims + (size_t)c] / sumw[i]);
        }
        if (it < o->iterations) nn_tsne_update(y, update, gains, grad, len, 0.8, lr);
    }
    nn_bhtree_free(tree);
    free(idx);
    free(p);
    free(mp);
    free(update);
    free(gains);
    free(rep);
    free(sumw);
    free(grad);
    return m ? kl / (double)m : 0;
}

static void load_vectors(const char *path, nn_header *h, nn_matrix *x)
{
    nn_matrix_load_named(path, h, x, -INFINITY, INFINITY);
}

/* The neighbour search's distances are |a|^2 + |b|^2 - 2 a.b in single precision: a record
 * whose squared length is near the float range would give infinite distances and no
 * neighbours. */
static void check_lengths(const char *path, const nn_matrix *x)
{
    for (size_t i = 0; i < x->n; i++) {
        double s = 0;
        for (size_t j = 0; j < x->d; j++) s += (double)x->x[i * x->d + j] * x->x[i * x->d + j];
        if (s > 1e36)
            nn_die("%s: record %zu (%s): squared length %g is too large for single-precision "
                   "distances (at most 1e36): scale the vectors down", path, i + 1, x->id[i], s);
    }
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    openblas_set_num_threads(1);          /* our threads split the neighbour search */
    nn_header h = {0}, rh = {0}, mh = {0};
    nn_matrix x, ref = {0}, map = {0};
    load_vectors(o.input, &h, &x);
    if (x.n == 0) nn_die("%s: no records to map", o.input);
    check_lengths(o.input, &x);
    int method = o.method;
    /* Measured on 2 cores: Barnes-Hut beats the FFT grid up to Fashion-MNIST's 70,000 points. */
    if (method < 0) method = x.n <= 1000 ? NN_TSNE_EXACT : x.n <= 100000 || o.dims == 3 ? NN_TSNE_BH : NN_TSNE_FFT;
    double *y = nn_xmalloc(x.n * (size_t)o.dims * sizeof(double)), kl;
    char why[300];
    if (o.add_to) {
        load_vectors(o.reference, &rh, &ref);
        check_lengths(o.reference, &ref);
        load_vectors(o.add_to, &mh, &map);
        if (rh.count != h.count) {
            char a[128], b[128];
            nn_shape_str(&h, a, sizeof a);
            nn_shape_str(&rh, b, sizeof b);
            nn_die("%s: header: records are %s, those of %s are %s", o.input, a, o.reference, b);
        }
        if (map.n != ref.n || mh.ndim != 1 || (int)mh.shape[0] != o.dims)
            nn_die("%s: expected %zu points of %d dimensions, one for each record of %s", o.add_to,
                   ref.n, o.dims, o.reference);
        for (size_t i = 0; i < ref.n; i++)
            if (strcmp(ref.id[i], map.id[i]) != 0)
                nn_die("%s: record %zu is '%s', but record %zu of %s is '%s': the map must be the "
                       "reference's, in order", o.add_to, i + 1, map.id[i], i + 1, o.reference, ref.id[i]);
        kl = add_points(&o, &ref, &map, &x, y);
    } else
        kl = embed(&o, &x, method, y);

    nn_header out = {0};
    uint32_t shape[1] = {(uint32_t)o.dims};
    if (nn_header_set(&out, "points", NN_F32, 1, shape, why, sizeof why) != 0) nn_die("%s", why);
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, &h);
    nn_meta_str(meta, "method", o.add_to ? "add-to" : METHOD_NAMES[method]);
    nn_meta_double(meta, "perplexity", o.perplexity);
    nn_meta_int(meta, "iterations", o.iterations);
    nn_meta_double(meta, "theta", o.theta);
    nn_meta_int(meta, "threads", o.threads);
    nn_meta_double(meta, "kl", kl);
    nn_meta_finish(meta, &out);
    nn_writer *w = nn_create_stream(o.output, &out);
    float pt[3];
    for (size_t i = 0; i < x.n; i++) {
        for (int c = 0; c < o.dims; c++) pt[c] = (float)y[i * (size_t)o.dims + (size_t)c];
        nn_put_record(w, x.id[i], x.label[i], x.group[i], pt);
    }
    nn_finish_stream(w);
    if (nn_progress_forced || isatty(STDERR_FILENO)) nn_warn("final KL %.4f", kl);

    free(y);
    nn_matrix_free(&x);
    nn_matrix_free(&ref);
    nn_matrix_free(&map);
    nn_header_free(&h);
    nn_header_free(&rh);
    nn_header_free(&mh);
    nn_header_free(&out);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
