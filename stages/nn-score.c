/* nn-score: the error function of emotion transfer. Every predicted face is matched to the real
 * photo of the same person (group) with the same emotion (label) and scored by MSE, PSNR and
 * SSIM, raw and registered: the real photo shifted by the integer translation that best matches
 * the person's base-label photo, so that head movement between shots does not swamp the emotion.
 * Baseline rows come from the same run: identity (the base photo itself) and, given the training
 * images, the pixel-space mean offset. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-score --real FILE [OPTION]... [[NAME=]PREDICTIONS]...";
static const char SUMMARY[] =
    "Score predicted faces against the real photos of REAL, per label and overall, next to the\n"
    "identity and pixel-offset baselines.";

enum { O_REAL, O_TRAIN, O_BASE, O_SHIFT, O_WINDOW, O_JSON, O_PANEL };
static const nn_opt OPTS[] = {
    [O_REAL] = {"real", 'r', 1, "FILE", "the real photos: every person's base and target labels"},
    [O_TRAIN] = {"train", 0, 1, "FILE", "training photos: adds the pixel-offset baseline"},
    [O_BASE] = {"base", 0, 1, "LABEL", "the label the predictions start from (default normal)"},
    [O_SHIFT] = {"shift", 0, 1, "R", "registration: translations up to R pixels (default 4)"},
    [O_WINDOW] = {"window", 0, 1, "W", "SSIM's square window, odd (default 7)"},
    [O_JSON] = {"json", 0, 0, NULL, "print JSON instead of the table"},
    [O_PANEL] = {"panel", 0, 1, "FILE", "write the picture's images: per person, base, then real and predicted per label"},
    {0},
};

typedef struct {
    const char *real, *train, *base, *panel;
    int shift, window, json;
    int npred;
    char **pred_name, **pred_file;
} options;

typedef nn_image_geom geometry;

/* Values in an image (an image stream's records have at most three dimensions). */
static size_t values_of(const geometry *g) { return (size_t)g->h * (size_t)g->w * (size_t)g->c; }

/* One row of the table: a method's mean scores over the pairs of one label. */
typedef struct {
    double mse, psnr, ssim, reg_mse, reg_psnr, reg_ssim;
    uint64_t n;
} scores;

typedef struct {
    char *name;
    nn_matrix m;          /* predictions (baselines: built here, one row per pair) */
    size_t *pair;         /* the pair each row scores */
    scores *by_label;     /* per label of the pair table, then the overall row */
} method;

typedef struct {
    size_t n, cap;
    size_t *real, *base;  /* rows of the real matrix */
    int *dy, *dx;         /* the registration of real onto base */
    nn_row_index real_ix; /* the real photos by (group, label) */
    long *pair_of;        /* per real photo: its pair, or -1 */
} pairs;

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    *o = (options){.base = "normal", .shift = 4, .window = 7};
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_REAL: o->real = a; break;
        case O_TRAIN: o->train = a; break;
        case O_BASE: o->base = a; break;
        case O_SHIFT: o->shift = (int)nn_parse_int("--shift", a, 0, 64); break;
        case O_WINDOW:
            o->window = (int)nn_parse_int("--window", a, 1, 63);
            if (o->window % 2 == 0) nn_usage_error(USAGE, "--window: %d is not odd", o->window);
            break;
        case O_JSON: o->json = 1; break;
        case O_PANEL: o->panel = a; break;
        }
    }
    if (!o->real) nn_usage_error(USAGE, "no real photos: give --real FILE");
    if (o->panel && strcmp(o->panel, "-") == 0)
        nn_usage_error(USAGE, "--panel: give a file; stdout carries the table");
    o->npred = p->npos;
    o->pred_name = nn_xcalloc((size_t)p->npos + 1, sizeof(char *));
    o->pred_file = nn_xcalloc((size_t)p->npos + 1, sizeof(char *));
    for (int i = 0; i < p->npos; i++) {
        const char *s = p->pos[i], *eq = strchr(s, '=');
        if (eq && eq > s) {
            o->pred_name[i] = strndup(s, (size_t)(eq - s));
            o->pred_file[i] = nn_xstrdup(eq + 1);
        } else {
            const char *slash = strrchr(s, '/');
            char *name = nn_xstrdup(slash ? slash + 1 : s);
            char *dot = strrchr(name, '.');
            if (dot && dot != name) *dot = 0;
            o->pred_name[i] = name;
            o->pred_file[i] = nn_xstrdup(s);
        }
    }
}

/* ---- metrics on images of geometry g; a region is [y0, y0+h) x [x0, x0+w) ---- */

typedef nn_image_view view;

/* Mean SSIM over every full win x win window of the region and every channel: uniform window,
 * sample covariance, data range 1, K1 = 0.01, K2 = 0.03 (Wang et al. 2004; scikit-image's
 * structural_similarity with gaussian_weights=False computes the same). */
static double region_ssim(const geometry *g, view a, view b, int h, int w, int win)
{
    const double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03, np = (double)win * win;
    double total = 0;
    long count = 0;
    for (int c = 0; c < g->c; c++)
        for (int y = 0; y + win <= h; y++)
            for (int x = 0; x + win <= w; x++) {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (int i = 0; i < win; i++)
                    for (int j = 0; j < win; j++) {
                        double u = a.img[((size_t)(a.y0 + y + i) * g->w + a.x0 + x + j) * g->c + c];
                        double v = b.img[((size_t)(b.y0 + y + i) * g->w + b.x0 + x + j) * g->c + c];
                        sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v;
                    }
                double ma = sa / np, mb = sb / np;
                double va = (saa - np * ma * ma) / (np - 1), vb = (sbb - np * mb * mb) / (np - 1);
                double cov = (sab - np * ma * mb) / (np - 1);
                total += ((2 * ma * mb + C1) * (2 * cov + C2)) /
                         ((ma * ma + mb * mb + C1) * (va + vb + C2));
                count++;
            }
    return count ? total / (double)count : 1.0;
}

/* PSNR for data range 1, capped at 100 dB so that a perfect prediction stays a number. */
static double psnr(double mse) { return mse <= 1e-10 ? 100.0 : -10.0 * log10(mse); }

/* ---- matching ---- */

static void pairs_init(pairs *P, const nn_matrix *real)
{
    *P = (pairs){0};
    nn_row_index_build(&P->real_ix, real);
    P->pair_of = nn_xmalloc((real->n + 1) * sizeof(long));
    for (size_t i = 0; i < real->n; i++) P->pair_of[i] = -1;
}

static void pairs_free(pairs *P)
{
    free(P->real), free(P->base), free(P->dy), free(P->dx), free(P->pair_of);
    nn_row_index_free(&P->real_ix);
}

static size_t add_pair(pairs *P, const options *o, const geometry *g, const nn_matrix *real, size_t r, size_t b)
{
    if (P->pair_of[r] >= 0) return (size_t)P->pair_of[r];
    if (P->n == P->cap) {
        P->cap = P->cap ? 2 * P->cap : 64;
        P->real = nn_xrealloc(P->real, P->cap * sizeof(size_t));
        P->base = nn_xrealloc(P->base, P->cap * sizeof(size_t));
        P->dy = nn_xrealloc(P->dy, P->cap * sizeof(int));
        P->dx = nn_xrealloc(P->dx, P->cap * sizeof(int));
    }
    P->real[P->n] = r;
    P->base[P->n] = b;
    nn_register_shift(g, real->x + b * values_of(g), real->x + r * values_of(g), o->shift, &P->dy[P->n], &P->dx[P->n]);
    P->pair_of[r] = (long)P->n;
    return P->n++;
}

/* Each prediction's pair; dies naming the record when the real photo or the base is missing. */
static void match_predictions(method *M, const char *file, const options *o, const geometry *g,
                              const nn_matrix *real, pairs *P)
{
    M->pair = nn_xmalloc((M->m.n + 1) * sizeof(size_t));
    nn_row_index seen = {0};
    for (size_t i = 0; i < M->m.n; i++) {
        const char *grp = M->m.group[i], *lab = M->m.label[i];
        long r = nn_row_index_find(&P->real_ix, grp, lab), b = nn_row_index_find(&P->real_ix, grp, o->base);
        if (r < 0)
            nn_die("%s: record %zu (%s): no real photo of group '%s' with label '%s' in %s", file,
                   i + 1, M->m.id[i], grp, lab, o->real);
        if (b < 0)
            nn_die("%s: record %zu (%s): no '%s' photo of group '%s' in %s", file, i + 1, M->m.id[i],
                   o->base, grp, o->real);
        if (nn_row_index_add(&seen, grp, lab, i) >= 0)
            nn_die("%s: record %zu (%s): a second prediction for group '%s', label '%s' "
                   "(score one strength at a time)", file, i + 1, M->m.id[i], grp, lab);
        M->pair[i] = add_pair(P, o, g, real, (size_t)r, (size_t)b);
    }
    nn_row_index_free(&seen);
}

static void names_alloc(nn_matrix *m, size_t n, size_t d)
{
    m->n = n;
    m->d = d;
    m->x = nn_xmalloc((n + 1) * d * sizeof(float));
    m->id = nn_xcalloc(n + 1, sizeof(char *));
    m->label = nn_xcalloc(n + 1, sizeof(char *));
    m->group = nn_xcalloc(n + 1, sizeof(char *));
}

static void baseline_identity(method *M, const nn_matrix *real, const pairs *P, const geometry *g)
{
    M->name = nn_xstrdup("identity");
    names_alloc(&M->m, P->n, values_of(g));
    M->pair = nn_xmalloc((P->n + 1) * sizeof(size_t));
    for (size_t i = 0; i < P->n; i++) {
        memcpy(M->m.x + i * values_of(g), real->x + P->base[i] * values_of(g), values_of(g) * sizeof(float));
        M->m.label[i] = nn_xstrdup(real->label[P->real[i]]);
        M->m.group[i] = nn_xstrdup(real->group[P->real[i]]);
        M->m.id[i] = nn_xstrdup(real->id[P->base[i]]);
        M->pair[i] = i;
    }
}

/* The mean over training persons of (their label photo - their base photo), into off. */
static void train_offset(const nn_matrix *train, const nn_row_index *tix, const options *o,
                         const char *label, size_t d, double *off)
{
    memset(off, 0, d * sizeof(double));
    size_t npairs = 0;
    for (size_t t = 0; t < train->n; t++) {
        if (strcmp(train->label[t], label) != 0) continue;
        long b = nn_row_index_find(tix, train->group[t], o->base);
        if (b < 0) continue;
        for (size_t j = 0; j < d; j++) off[j] += (double)train->x[t * d + j] - train->x[(size_t)b * d + j];
        npairs++;
    }
    if (!npairs) nn_die("%s: no person has both a '%s' and a '%s' photo: no pixel offset", o->train, o->base, label);
    for (size_t j = 0; j < d; j++) off[j] /= (double)npairs;
}

/* base + the training persons' mean change to the label, clipped; each label's change once. */
static void baseline_offset(method *M, const options *o, const nn_matrix *real, const pairs *P, const geometry *g)
{
    nn_header th = {0};
    nn_matrix train;
    nn_matrix_load_named(o->train, &th, &train, 0, 1);
    if (th.count != values_of(g)) nn_die("%s: header: records are %zu values, the real photos %zu", o->train, th.count, values_of(g));
    nn_row_index tix;
    nn_row_index_build(&tix, &train);
    M->name = nn_xstrdup("pixel-offset");
    names_alloc(&M->m, P->n, values_of(g));
    M->pair = nn_xmalloc((P->n + 1) * sizeof(size_t));
    nn_strcount slot = {0};                          /* label -> its offset's slot + 1 */
    double *offs = NULL;
    size_t nslots = 0;
    for (size_t i = 0; i < P->n; i++) {
        const char *lab = real->label[P->real[i]];
        uint64_t k = nn_strcount_get(&slot, lab);
        if (!k) {
            offs = nn_xrealloc(offs, (nslots + 1) * values_of(g) * sizeof(double));
            train_offset(&train, &tix, o, lab, values_of(g), offs + nslots * values_of(g));
            nn_strcount_set(&slot, lab, k = ++nslots);
        }
        const double *off = offs + (k - 1) * values_of(g);
        const float *base = real->x + P->base[i] * values_of(g);
        float *y = M->m.x + i * values_of(g);
        for (size_t j = 0; j < values_of(g); j++) {
            double v = base[j] + off[j];
            y[j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
        M->m.label[i] = nn_xstrdup(lab);
        M->m.group[i] = nn_xstrdup(real->group[P->real[i]]);
        M->m.id[i] = nn_xstrdup(real->id[P->base[i]]);
        M->pair[i] = i;
    }
    free(offs);
    nn_strcount_free(&slot);
    nn_row_index_free(&tix);
    nn_matrix_free(&train);
    nn_header_free(&th);
}

/* ---- the table ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The target labels of the pairs, sorted and unique. */
static int pair_labels(const pairs *P, const nn_matrix *real, char ***out)
{
    char **v = nn_xmalloc((P->n + 1) * sizeof(char *));
    for (size_t i = 0; i < P->n; i++) v[i] = real->label[P->real[i]];
    qsort(v, P->n, sizeof(char *), cmp_str);
    int n = 0;
    for (size_t i = 0; i < P->n; i++)
        if (n == 0 || strcmp(v[n - 1], v[i]) != 0) v[n++] = v[i];
    *out = v;
    return n;
}

static void add_scores(scores *s, const geometry *g, const options *o, const float *pred,
                       const float *real, int dy, int dx)
{
    int R = o->shift, h = g->h - 2 * R, w = g->w - 2 * R;
    double e = nn_region_mse(g, (view){pred, 0, 0}, (view){real, 0, 0}, g->h, g->w);
    s->mse += e;
    s->psnr += psnr(e);
    s->ssim += region_ssim(g, (view){pred, 0, 0}, (view){real, 0, 0}, g->h, g->w, o->window);
    e = nn_region_mse(g, (view){pred, R, R}, (view){real, R + dy, R + dx}, h, w);
    s->reg_mse += e;
    s->reg_psnr += psnr(e);
    s->reg_ssim += region_ssim(g, (view){pred, R, R}, (view){real, R + dy, R + dx}, h, w, o->window);
    s->n++;
}

static void score_method(method *M, const options *o, const geometry *g, const nn_matrix *real,
                         const pairs *P, char **labels, int nl)
{
    M->by_label = nn_xcalloc((size_t)nl + 1, sizeof(scores));
    for (size_t i = 0; i < M->m.n; i++) {
        size_t k = M->pair[i];
        int l = 0;
        while (strcmp(labels[l], real->label[P->real[k]]) != 0) l++;
        add_scores(&M->by_label[l], g, o, M->m.x + i * values_of(g), real->x + P->real[k] * values_of(g), P->dy[k], P->dx[k]);
    }
    scores *all = &M->by_label[nl];
    int present = 0;
    for (int l = 0; l < nl; l++) {
        scores *s = &M->by_label[l];
        if (!s->n) continue;
        double n = (double)s->n;
        s->mse /= n, s->psnr /= n, s->ssim /= n, s->reg_mse /= n, s->reg_psnr /= n, s->reg_ssim /= n;
        all->mse += s->mse, all->psnr += s->psnr, all->ssim += s->ssim;
        all->reg_mse += s->reg_mse, all->reg_psnr += s->reg_psnr, all->reg_ssim += s->reg_ssim;
        all->n += s->n;
        present++;
    }
    if (present) {
        all->mse /= present, all->psnr /= present, all->ssim /= present;
        all->reg_mse /= present, all->reg_psnr /= present, all->reg_ssim /= present;
    }
}

static void print_table(const options *o, method *M, int nm, char **labels, int nl)
{
    printf("# SSIM: %dx%d uniform window, sample covariance, data range 1; registered: the real photo "
           "shifted by up to %d pixels onto the '%s' photo, scored on the inner %d-pixel-trimmed region; "
           "'all' is the mean over labels\n", o->window, o->window, o->shift, o->base, o->shift);
    printf("%-16s %-12s %5s %8s %7s %6s %8s %8s %8s\n", "method", "label", "n", "mse", "psnr", "ssim",
           "reg_mse", "reg_psnr", "reg_ssim");
    for (int k = 0; k < nm; k++)
        for (int l = 0; l <= nl; l++) {
            const scores *s = &M[k].by_label[l];
            if (!s->n) continue;
            printf("%-16s %-12s %5llu %8.5f %7.3f %6.4f %8.5f %8.3f %8.4f\n", M[k].name,
                   l < nl ? labels[l] : "all", (unsigned long long)s->n, s->mse, s->psnr, s->ssim,
                   s->reg_mse, s->reg_psnr, s->reg_ssim);
        }
}

static void json_scores(const scores *s)
{
    printf("{\"n\":%llu,\"mse\":", (unsigned long long)s->n);
    nn_json_number(stdout, s->mse);
    printf(",\"psnr\":"), nn_json_number(stdout, s->psnr);
    printf(",\"ssim\":"), nn_json_number(stdout, s->ssim);
    printf(",\"reg_mse\":"), nn_json_number(stdout, s->reg_mse);
    printf(",\"reg_psnr\":"), nn_json_number(stdout, s->reg_psnr);
    printf(",\"reg_ssim\":"), nn_json_number(stdout, s->reg_ssim);
    printf("}");
}

static void print_json(const options *o, method *M, int nm, char **labels, int nl)
{
    printf("{\"base\":");
    nn_json_string(stdout, o->base, strlen(o->base));
    printf(",\"ssim_window\":%d,\"shift\":%d,\"methods\":[", o->window, o->shift);
    for (int k = 0; k < nm; k++) {
        printf("%s{\"name\":", k ? "," : "");
        nn_json_string(stdout, M[k].name, strlen(M[k].name));
        printf(",\"labels\":{");
        int first = 1;
        for (int l = 0; l < nl; l++) {
            if (!M[k].by_label[l].n) continue;
            printf("%s", first ? "" : ","), first = 0;
            nn_json_string(stdout, labels[l], strlen(labels[l]));
            printf(":");
            json_scores(&M[k].by_label[l]);
        }
        printf("},\"all\":");
        json_scores(&M[k].by_label[nl]);
        printf("}");
    }
    printf("]}\n");
}

/* The picture's images, one row per person: the base photo, then for each label the real photo
 * and every method's prediction (the baselines left out), captioned by their labels. */
static void write_panel(const options *o, const nn_header *rh, const nn_matrix *real, const pairs *P,
                        method *M, int nm, int first_pred, char **labels, int nl)
{
    nn_header h;
    nn_header_f32_like(&h, rh);
    nn_writer *w = nn_create_stream(o->panel, &h);
    char **groups = nn_xmalloc((P->n + 1) * sizeof(char *));
    for (size_t i = 0; i < P->n; i++) groups[i] = real->group[P->real[i]];
    qsort(groups, P->n, sizeof(char *), cmp_str);
    /* each method's row for each pair */
    long *row_of = nn_xmalloc(((size_t)nm * P->n + 1) * sizeof(long));
    for (size_t i = 0; i < (size_t)nm * P->n; i++) row_of[i] = -1;
    for (int k = first_pred; k < nm; k++)
        for (size_t j = 0; j < M[k].m.n; j++) row_of[(size_t)k * P->n + M[k].pair[j]] = (long)j;
    char caption[512];
    for (size_t i = 0; i < P->n; i++) {
        if (i && strcmp(groups[i], groups[i - 1]) == 0) continue;
        long b = nn_row_index_find(&P->real_ix, groups[i], o->base);
        nn_put_record(w, real->id[b], o->base, groups[i], real->x + (size_t)b * real->d);
        for (int l = 0; l < nl; l++) {
            long r = nn_row_index_find(&P->real_ix, groups[i], labels[l]);
            if (r < 0) continue;
            nn_put_record(w, real->id[r], labels[l], groups[i], real->x + (size_t)r * real->d);
            long p = P->pair_of[r];
            for (int k = first_pred; k < nm && p >= 0; k++) {
                long row = row_of[(size_t)k * P->n + (size_t)p];
                snprintf(caption, sizeof caption, "%s: %s", labels[l], M[k].name);
                if (row >= 0) nn_put_record(w, M[k].m.id[row], caption, groups[i], M[k].m.x + (size_t)row * real->d);
            }
        }
    }
    nn_finish_stream(w);
    free(groups);
    free(row_of);
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);

    nn_header rh = {0};
    nn_matrix real;
    nn_matrix_load_named(o.real, &rh, &real, 0, 1);
    geometry g = nn_image_geom_of(&rh, o.real);
    if (2 * o.shift + o.window > g.h || 2 * o.shift + o.window > g.w)
        nn_die("%s: images of %dx%d are too small for --shift %d and --window %d", o.real, g.h, g.w, o.shift, o.window);

    int nm = 0, first_pred;
    method *M = nn_xcalloc((size_t)o.npred + 2, sizeof(method));
    pairs P;
    pairs_init(&P, &real);
    for (int i = 0; i < o.npred; i++) {
        method *m = &M[2 + i];
        nn_header ph = {0};
        nn_matrix_load_named(o.pred_file[i], &ph, &m->m, -INFINITY, INFINITY);
        if (ph.count != values_of(&g)) nn_die("%s: header: records are %zu values, the real photos %zu", o.pred_file[i], ph.count, values_of(&g));
        m->name = nn_xstrdup(o.pred_name[i]);
        match_predictions(m, o.pred_file[i], &o, &g, &real, &P);
        nn_header_free(&ph);
    }
    if (o.npred == 0)   /* baselines alone: every target photo with a base photo */
        for (size_t r = 0; r < real.n; r++) {
            long b = nn_row_index_find(&P.real_ix, real.group[r], o.base);
            if (b >= 0 && strcmp(real.label[r], o.base) != 0) add_pair(&P, &o, &g, &real, r, (size_t)b);
        }
    if (P.n == 0) nn_die("%s: nothing to score: no photo has a '%s' photo of its group", o.real, o.base);

    baseline_identity(&M[0], &real, &P, &g);
    if (o.train) baseline_offset(&M[1], &o, &real, &P, &g);
    /* pack the methods: identity, [pixel-offset], predictions */
    method *packed = nn_xcalloc((size_t)o.npred + 2, sizeof(method));
    packed[nm++] = M[0];
    if (o.train) packed[nm++] = M[1];
    first_pred = nm;
    for (int i = 0; i < o.npred; i++) packed[nm++] = M[2 + i];
    free(M);

    char **labels;
    int nl = pair_labels(&P, &real, &labels);
    for (int k = 0; k < nm; k++) score_method(&packed[k], &o, &g, &real, &P, labels, nl);
    if (o.json) print_json(&o, packed, nm, labels, nl);
    else print_table(&o, packed, nm, labels, nl);
    if (o.panel) write_panel(&o, &rh, &real, &P, packed, nm, first_pred, labels, nl);
    nn_close_stdout();

    for (int k = 0; k < nm; k++) {
        free(packed[k].name);
        free(packed[k].pair);
        free(packed[k].by_label);
        nn_matrix_free(&packed[k].m);
    }
    free(packed);
    free(labels);
    pairs_free(&P);
    for (int i = 0; i < o.npred; i++) free(o.pred_name[i]), free(o.pred_file[i]);
    free(o.pred_name);
    free(o.pred_file);
    nn_matrix_free(&real);
    nn_header_free(&rh);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
