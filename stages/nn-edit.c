/* nn-edit: latent arithmetic on labelled faces.
 *   nn-edit vectors: an encoded stream in, the mean latent of each label and the offset of each
 *     label from a base label out ("emotion vectors").
 *   nn-edit apply: every base-label record in, one record per target label (and strength) out:
 *     z + s*offset as a latent, or with -m MODEL decoded to an image, plainly, decode(z + s*o),
 *     or as a residual, x + decode(z + s*o) - decode(z), which keeps the person's own detail.
 *   nn-edit transfer: faces in, each with every example person's change to a target label added,
 *     the change first moved onto the face by a shift per pixel (nn_flow_field), then averaged. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-edit vectors|apply|transfer [OPTION]... [INPUT]";
static const char VEC_USAGE[] = "nn-edit vectors [OPTION]... [LATENTS]";
static const char VEC_SUMMARY[] =
    "Write the mean latent of each label of LATENTS (default -) and each label's offset from the\n"
    "base label: the emotion vectors.";
static const char APPLY_USAGE[] = "nn-edit apply --vectors FILE [OPTION]... [INPUT]";
static const char APPLY_SUMMARY[] =
    "Move every base-label record of INPUT (default -) along the offset of each target label:\n"
    "edited latents, or with -m MODEL, edited images.";
static const char TRANSFER_USAGE[] = "nn-edit transfer --examples FILE [OPTION]... [INPUT]";
static const char TRANSFER_SUMMARY[] =
    "Give every base-label face of INPUT (default -) the change to each target label that the\n"
    "example persons of FILE show, each person's change first moved pixel by pixel onto the face.";

enum { V_OUTPUT, V_BASE, V_SHRINK };
static const nn_opt VEC_OPTS[] = {
    [V_OUTPUT] = {"output", 'o', 1, "FILE", "write the vectors to FILE (default -)"},
    [V_BASE] = {"base", 0, 1, "LABEL", "the label offsets start from (default normal)"},
    [V_SHRINK] = {"shrink", 0, 0, NULL, "shrink each offset value by how much the pairs agree (James-Stein)"},
    {0},
};

enum { A_VECTORS, A_OUTPUT, A_BASE, A_TARGET, A_STRENGTH, A_STEPS, A_MAX, A_MODEL, A_MODE,
       A_CLIP, A_THREADS };
static const nn_opt APPLY_OPTS[] = {
    [A_VECTORS] = {"vectors", 'v', 1, "FILE", "the emotion vectors (nn-edit vectors)"},
    [A_OUTPUT] = {"output", 'o', 1, "FILE", "write the edited stream to FILE (default -)"},
    [A_BASE] = {"base", 0, 1, "LABEL", "edit the records with this label (default: the vectors' base)"},
    [A_TARGET] = {"target", 0, 1, "L,L,...", "target labels, or all (default all)"},
    [A_STRENGTH] = {"strength", 's', 1, "S", "the offset's factor (default 1)"},
    [A_STEPS] = {"steps", 0, 1, "N", "a traversal: N strengths from 0 to --max instead"},
    [A_MAX] = {"max", 0, 1, "S", "the traversal's last strength (default 1.5)"},
    [A_MODEL] = {"model", 'm', 1, "MODEL", "INPUT is images: encode with MODEL, decode the edits"},
    [A_MODE] = {"mode", 0, 1, "plain|residual", "with -m: decode(z+s*o), or x + decode(z+s*o) - decode(z)"},
    [A_CLIP] = {"clip", 0, 0, NULL, "clip the output to [0, 1] (for images edited without a model)"},
    [A_THREADS] = {"threads", 't', 1, "N", "OpenBLAS threads (default: OpenBLAS's own)"},
    {0},
};

/* ---- nn-edit vectors ---- */

static int index_of(char **names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The labels of m, sorted, and each row's label index. */
static int label_table(const nn_matrix *m, char ***names, int **row_label)
{
    char **sorted = nn_xmalloc(m->n * sizeof(char *));
    for (size_t i = 0; i < m->n; i++) sorted[i] = m->label[i];
    qsort(sorted, m->n, sizeof(char *), cmp_str);
    int n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (n == 0 || strcmp(sorted[n - 1], sorted[i]) != 0) sorted[n++] = sorted[i];
    *row_label = nn_xmalloc(m->n * sizeof(int));
    for (size_t i = 0; i < m->n; i++) (*row_label)[i] = index_of(sorted, n, m->label[i]);
    *names = sorted;
    return n;
}

/* The offset of label t from the base b: the mean of z_t - z_b over the pairs of records of
 * the same group (a paired difference cancels each person's identity), or the difference of
 * the label means when no group has both. With shrink, each value is scaled by
 * max(0, 1 - var / (n mean^2)), the James-Stein factor of a mean of n noisy differences: a
 * change the persons do not agree on is not added. The pairs are summed per group, from each
 * group's sums and sums of squares, so the cost is one pass over the records. */
static void label_offset(const nn_matrix *m, const int *lab, const int *grp, int ng, int b, int t,
                         const double *means, int shrink, float *off, uint64_t *pairs)
{
    size_t d = m->d;
    double *st = nn_xcalloc((size_t)ng * d, sizeof(double)), *qt = nn_xcalloc((size_t)ng * d, sizeof(double));
    double *sb = nn_xcalloc((size_t)ng * d, sizeof(double)), *qb = nn_xcalloc((size_t)ng * d, sizeof(double));
    double *nt = nn_xcalloc((size_t)ng, sizeof(double)), *nb = nn_xcalloc((size_t)ng, sizeof(double));
    for (size_t i = 0; i < m->n; i++) {
        if (lab[i] != t && lab[i] != b) continue;
        int to_t = lab[i] == t;
        double *sum = (to_t ? st : sb) + (size_t)grp[i] * d, *sq = (to_t ? qt : qb) + (size_t)grp[i] * d;
        (to_t ? nt : nb)[grp[i]]++;
        for (size_t c = 0; c < d; c++) {
            double v = m->x[i * d + c];
            sum[c] += v;
            sq[c] += v * v;
        }
    }
    double n = 0;
    for (int g = 0; g < ng; g++) n += nt[g] * nb[g];
    *pairs = (uint64_t)n;
    for (size_t c = 0; c < d; c++) {
        if (!*pairs) {
            off[c] = (float)(means[(size_t)t * d + c] - means[(size_t)b * d + c]);
            continue;
        }
        /* over the pairs of group g: sum (a - z) = nb sa - nt sz, sum (a - z)^2 = nb qa - 2 sa sz + nt qz */
        double s1 = 0, s2 = 0;
        for (int g = 0; g < ng; g++) {
            size_t k = (size_t)g * d + c;
            s1 += nb[g] * st[k] - nt[g] * sb[k];
            s2 += nb[g] * qt[k] - 2 * st[k] * sb[k] + nt[g] * qb[k];
        }
        double mean = s1 / n, factor = 1;
        if (shrink && *pairs > 1) {
            double var = (s2 - n * mean * mean) / (n - 1);
            factor = mean == 0 ? 0 : 1 - var / (n * mean * mean);
            factor = factor < 0 ? 0 : factor;
        }
        off[c] = (float)(mean * factor);
    }
    free(st), free(qt), free(sb), free(qb), free(nt), free(nb);
}

/* Each record's group as a number 0 .. ng-1. */
static int group_ids(const nn_matrix *m, int **grp)
{
    nn_strcount ids = {0};
    int ng = 0;
    *grp = nn_xmalloc((m->n + 1) * sizeof(int));
    for (size_t i = 0; i < m->n; i++) {
        uint64_t k = nn_strcount_get(&ids, m->group[i]);
        if (!k) nn_strcount_set(&ids, m->group[i], k = (uint64_t)++ng);
        (*grp)[i] = (int)k - 1;
    }
    nn_strcount_free(&ids);
    return ng;
}

static int run_vectors(int argc, char **argv)
{
    nn_opt_parser p;
    nn_opt_init(&p, VEC_OPTS, VEC_USAGE, VEC_SUMMARY, argc, argv);
    const char *output = "-", *base = "normal";
    int k, shrink = 0;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case V_OUTPUT: output = p.arg[0]; break;
        case V_BASE: base = p.arg[0]; break;
        case V_SHRINK: shrink = 1; break;
        }
    }
    if (p.npos > 1) nn_usage_error(VEC_USAGE, "one LATENTS input at most");
    nn_refuse_terminal(output, VEC_USAGE, "a binary stream");
    const char *input = p.npos ? p.pos[0] : "-";
    nn_header in = {0};
    nn_matrix m;
    nn_matrix_load_named(input, &in, &m, -INFINITY, INFINITY);
    if (in.dtype != NN_F32) nn_die("%s: header: latent vectors must be f32, not %s", input, nn_dtype_name(in.dtype));
    if (m.n == 0) nn_die("%s: no records: the vectors need encoded faces", input);
    char **names;
    int *lab;
    int nl = label_table(&m, &names, &lab);
    int b = index_of(names, nl, base);
    if (b < 0) nn_die("%s: no record has the base label '%s' (see --base)", input, base);

    int *grp;
    int ng = group_ids(&m, &grp);
    double *means = nn_xcalloc((size_t)nl * m.d, sizeof(double));
    uint64_t *count = nn_xcalloc((size_t)nl, sizeof(uint64_t));
    for (size_t i = 0; i < m.n; i++) {
        count[lab[i]]++;
        for (size_t c = 0; c < m.d; c++) means[(size_t)lab[i] * m.d + c] += m.x[i * m.d + c];
    }
    for (int l = 0; l < nl; l++)
        for (size_t c = 0; c < m.d; c++) means[(size_t)l * m.d + c] /= (double)count[l];

    nn_header h = {0};
    nn_header_copy(&h, &in);
    snprintf(h.kind, sizeof h.kind, "vectors");
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, &in);
    nn_meta_str(meta, "base", base);
    nn_meta_str(meta, "offsets", shrink ? "paired mean, shrunk" : "paired mean");
    nn_meta_finish(meta, &h);
    nn_writer *out = nn_create_stream(output, &h);
    float *v = nn_xmalloc(m.d * sizeof(float));
    char id[1024];
    for (int l = 0; l < nl; l++) {
        for (size_t c = 0; c < m.d; c++) v[c] = (float)means[(size_t)l * m.d + c];
        snprintf(id, sizeof id, "mean:%s", names[l]);
        nn_put_record(out, id, names[l], "mean", v);
    }
    for (int l = 0; l < nl; l++) {
        if (l == b) continue;
        uint64_t pairs;
        label_offset(&m, lab, grp, ng, b, l, means, shrink, v, &pairs);
        snprintf(id, sizeof id, "offset:%s>%s", base, names[l]);
        nn_put_record(out, id, names[l], "offset", v);
        nn_warn("%s: %llu records, offset from %s over %llu pairs%s", names[l],
                (unsigned long long)count[l], base, (unsigned long long)pairs,
                pairs ? "" : " (no group has both: difference of the means)");
    }
    nn_finish_stream(out);
    free(v);
    free(means);
    free(count);
    free(names);
    free(lab);
    free(grp);
    nn_matrix_free(&m);
    nn_header_free(&in);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}

/* ---- nn-edit apply ---- */

enum { MODE_LATENT, MODE_PLAIN, MODE_RESIDUAL };

typedef struct {
    const char *vectors, *output, *base, *target, *model, *input;
    int mode, steps, clip;
    double strength, max;
} apply_options;

typedef struct {
    int n;               /* target labels */
    char **label;
    float *offset;       /* n x L */
    char base[256];
} offsets;

static void parse_apply(apply_options *o, nn_opt_parser *p, int argc, char **argv)
{
    *o = (apply_options){.output = "-", .target = "all", .strength = 1, .max = 1.5, .mode = -1};
    nn_opt_init(p, APPLY_OPTS, APPLY_USAGE, APPLY_SUMMARY, argc, argv);
    int k, strength_given = 0;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case A_VECTORS: o->vectors = a; break;
        case A_OUTPUT: o->output = a; break;
        case A_BASE: o->base = a; break;
        case A_TARGET: o->target = a; break;
        case A_STRENGTH: o->strength = nn_parse_double("--strength", a, -100, 100); strength_given = 1; break;
        case A_STEPS: o->steps = (int)nn_parse_int("--steps", a, 2, 1000); break;
        case A_MAX: o->max = nn_parse_double("--max", a, -100, 100); break;
        case A_MODEL: o->model = a; break;
        case A_CLIP: o->clip = 1; break;
        case A_MODE:
            if (strcmp(a, "plain") == 0) o->mode = MODE_PLAIN;
            else if (strcmp(a, "residual") == 0) o->mode = MODE_RESIDUAL;
            else nn_usage_error(APPLY_USAGE, "--mode: '%s' is not plain or residual", a);
            break;
        case A_THREADS: openblas_set_num_threads((int)nn_parse_int("--threads", a, 1, 1024)); break;
        }
    }
    if (!o->vectors) nn_usage_error(APPLY_USAGE, "no vectors: give --vectors FILE");
    if (p->npos > 1) nn_usage_error(APPLY_USAGE, "one INPUT at most");
    if (o->steps && strength_given) nn_usage_error(APPLY_USAGE, "--strength and --steps exclude each other");
    if (o->mode >= 0 && !o->model) nn_usage_error(APPLY_USAGE, "--mode needs -m MODEL (it decodes)");
    if (o->mode < 0) o->mode = o->model ? MODE_PLAIN : MODE_LATENT;
    nn_refuse_terminal(o->output, APPLY_USAGE, "a binary stream");
    o->input = p->npos ? p->pos[0] : "-";
}

static int wanted(const char *list, const char *label)
{
    if (strcmp(list, "all") == 0) return 1;
    size_t n = strlen(label);
    for (const char *s = list; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == n && memcmp(s, label, n) == 0) return 1;
        if (!e) break;
        s = e + 1;
    }
    return 0;
}

/* Every target in list must have an offset: a typo must not silently drop an emotion. */
static void check_targets(const apply_options *o, const offsets *off)
{
    if (strcmp(o->target, "all") == 0) return;
    char *copy = nn_xstrdup(o->target);
    for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int found = 0;
        for (int i = 0; i < off->n; i++) found |= strcmp(off->label[i], t) == 0;
        if (!found) nn_die("%s: no offset from '%s' to '%s' (--target)", o->vectors, off->base, t);
    }
    free(copy);
}

static void load_offsets(const apply_options *o, offsets *off, size_t *L)
{
    nn_header h = {0};
    nn_reader *r = nn_open_stream(o->vectors, &h);
    if (strcmp(h.kind, "vectors") != 0 || h.dtype != NN_F32)
        nn_die("%s: header: not emotion vectors (kind %s, dtype %s; make them with nn-edit vectors)",
               o->vectors, h.kind, nn_dtype_name(h.dtype));
    char base[256] = "";
    if (nn_meta_get_str(h.meta, h.meta_len, "base", base, sizeof base) != 0)
        nn_die("%s: header: the meta names no base label", o->vectors);
    if (o->base && strcmp(o->base, base) != 0)
        nn_die("%s: the offsets start from '%s', not from --base '%s'", o->vectors, base, o->base);
    snprintf(off->base, sizeof off->base, "%s", base);
    *L = h.count;
    off->n = 0;
    off->label = NULL;
    off->offset = NULL;
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        if (strcmp(rec.group, "offset") != 0 || !wanted(o->target, rec.label)) continue;
        off->label = nn_xrealloc(off->label, (size_t)(off->n + 1) * sizeof(char *));
        off->offset = nn_xrealloc(off->offset, (size_t)(off->n + 1) * h.count * sizeof(float));
        off->label[off->n] = nn_xstrdup(rec.label);
        memcpy(off->offset + (size_t)off->n * h.count, rec.f32, h.count * sizeof(float));
        off->n++;
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
    nn_header_free(&h);
    check_targets(o, off);
    if (off->n == 0) nn_die("%s: no offsets from '%s' to edit with", o->vectors, base);
}

/* ID>TARGET, or ID>TARGET@S in a traversal (strength not NULL); ids are not cut short. */
static char *edit_id(const char *id, const char *target, const double *strength)
{
    char s[64] = "";
    if (strength) snprintf(s, sizeof s, "@%g", *strength);
    size_t len = strlen(id) + 1 + strlen(target) + strlen(s) + 1;
    char *out = nn_xmalloc(len);
    snprintf(out, len, "%s>%s%s", id, target, s);
    return out;
}

static void put_edit(nn_writer *w, const apply_options *o, const nn_record *rec, const char *target,
                     double s, const float *v)
{
    char *id = edit_id(rec->id, target, o->steps ? &s : NULL);
    nn_put_record(w, id, target, rec->group, v);
    free(id);
}

static int run_apply(int argc, char **argv)
{
    apply_options o;
    nn_opt_parser p;
    parse_apply(&o, &p, argc, argv);
    offsets off;
    size_t L;
    load_offsets(&o, &off, &L);
    nn_model m = {0};
    char err[700];
    if (o.model) {
        if (nn_model_load(o.model, &m, err, sizeof err) != 0) nn_die("%s", err);
        if (nn_model_latent(&m) != L)
            nn_die("%s: the vectors have %zu values, the model %s has %zu latents", o.vectors, L,
                   o.model, nn_model_latent(&m));
    }
    nn_header in = {0};
    nn_reader *r = nn_open_stream(o.input, &in);
    size_t want = o.model ? m.D : L;
    if (in.count != want || (!o.model && in.dtype != NN_F32))
        nn_die("%s: header: records are %zu %s values, expected %zu %s", o.input, in.count,
               nn_dtype_name(in.dtype), want, o.model ? "image values (the model's input)" : "f32 latents");

    int ns = o.steps ? o.steps : 1;
    double *strengths = nn_xmalloc((size_t)ns * sizeof(double));
    for (int i = 0; i < ns; i++) strengths[i] = o.steps ? o.max * i / (ns - 1) : o.strength;
    int rows = 1 + off.n * ns;   /* the unedited z first, then every target and strength */

    nn_header h = {0};
    if (o.model) {
        if (nn_header_set(&h, "image", NN_F32, m.ndim, m.shape, err, sizeof err) != 0) nn_die("%s", err);
    } else {
        nn_header_copy(&h, &in);
        free(h.meta);
        h.meta = NULL;
        h.meta_len = 0;
    }
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, &in);
    static const char *const MODE_NAMES[] = {"latent", "plain", "residual"};
    nn_meta_str(meta, "mode", MODE_NAMES[o.mode]);
    nn_meta_str(meta, "base", off.base);
    nn_meta_strv(meta, "targets", off.n, off.label);
    if (o.steps) nn_meta_double(meta, "max_strength", o.max), nn_meta_int(meta, "steps", o.steps);
    else nn_meta_double(meta, "strength", o.strength);
    if (o.model) nn_meta_str(meta, "model_file", o.model);
    nn_meta_finish(meta, &h);
    nn_writer *out = nn_create_stream(o.output, &h);

    nn_vae_work w;
    if (o.model && m.type == NN_MODEL_VAE) nn_vae_work_init(&w, &m.vae, rows);
    float *x = nn_xmalloc(want * sizeof(float));
    float *z = nn_xmalloc((size_t)rows * L * sizeof(float));
    float *dec = o.model ? nn_xmalloc((size_t)rows * m.D * sizeof(float)) : NULL;
    float *res = o.model ? nn_xmalloc(m.D * sizeof(float)) : NULL;
    nn_record rec;
    uint64_t edited = 0;
    while (nn_next_record(r, &rec) > 0) {
        if (strcmp(rec.label, off.base) != 0) continue;
        for (size_t j = 0; j < want; j++) {
            x[j] = in.dtype == NN_F32 ? rec.f32[j] : rec.u8[j] / 255.0f;
            if (!isfinite(x[j]))
                nn_die("%s: record %llu (%s): value %zu is not finite", o.input,
                       (unsigned long long)nn_reader_records(r), rec.id, j + 1);
        }
        if (o.model) nn_model_encode(&m, &w, x, 1, z);
        else memcpy(z, x, L * sizeof(float));
        for (int t = 0; t < off.n; t++)
            for (int s = 0; s < ns; s++) {
                float *e = z + (size_t)(1 + t * ns + s) * L;
                for (size_t c = 0; c < L; c++) e[c] = z[c] + (float)strengths[s] * off.offset[(size_t)t * L + c];
            }
        if (o.model) nn_model_decode(&m, &w, z, rows, dec);
        for (int t = 0; t < off.n; t++)
            for (int s = 0; s < ns; s++) {
                int row = 1 + t * ns + s;
                float *v = o.model ? dec + (size_t)row * m.D : z + (size_t)row * L;
                if (o.clip)
                    for (size_t j = 0; j < (o.model ? m.D : L); j++) v[j] = v[j] < 0 ? 0 : v[j] > 1 ? 1 : v[j];
                if (o.mode == MODE_RESIDUAL) {
                    for (size_t j = 0; j < m.D; j++) {
                        float y = x[j] + (dec[(size_t)row * m.D + j] - dec[j]);
                        res[j] = y < 0 ? 0 : y > 1 ? 1 : y;
                    }
                    v = res;
                }
                put_edit(out, &o, &rec, off.label[t], strengths[s], v);
            }
        edited++;
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    if (edited == 0) nn_die("%s: no record has the base label '%s'", o.input, off.base);
    nn_finish_stream(out);

    free(x), free(z), free(dec), free(res), free(strengths);
    if (o.model && m.type == NN_MODEL_VAE) nn_vae_work_free(&w);
    if (o.model) nn_model_free(&m);
    for (int i = 0; i < off.n; i++) free(off.label[i]);
    free(off.label);
    free(off.offset);
    nn_reader_close(r);
    nn_header_free(&in);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}

/* ---- nn-edit transfer ---- */

enum { T_EXAMPLES, T_OUTPUT, T_BASE, T_TARGET, T_STRENGTH, T_RADIUS, T_WINDOW, T_SHRINK };
static const nn_opt TRANSFER_OPTS[] = {
    [T_EXAMPLES] = {"examples", 'e', 1, "FILE", "the example persons' photos (images with labels and groups)"},
    [T_OUTPUT] = {"output", 'o', 1, "FILE", "write the edited images to FILE (default -)"},
    [T_BASE] = {"base", 0, 1, "LABEL", "edit the records with this label (default normal)"},
    [T_TARGET] = {"target", 0, 1, "L,L,...", "target labels, or all (default all)"},
    [T_STRENGTH] = {"strength", 's', 1, "S", "the change's factor (default 1)"},
    [T_RADIUS] = {"radius", 'r', 1, "R", "pixels a pixel of a change may move (default 2; 0: the plain mean change)"},
    [T_WINDOW] = {"window", 'w', 1, "W", "odd side of the window matched around a pixel (default 9)"},
    [T_SHRINK] = {"shrink", 0, 0, NULL, "shrink each pixel's mean change by how much the persons agree (James-Stein)"},
    {0},
};

typedef struct {
    const char *examples, *output, *base, *target, *input;
    double strength;
    int radius, window, shrink;
} transfer_options;

typedef struct {
    char *label;
    size_t *base_row, *target_row; /* the example persons with both photos */
    char **group;
    size_t n;
} example_pairs;

static void parse_transfer(transfer_options *o, nn_opt_parser *p, int argc, char **argv)
{
    *o = (transfer_options){.output = "-", .base = "normal", .target = "all", .strength = 1,
                            .radius = 2, .window = 9};
    nn_opt_init(p, TRANSFER_OPTS, TRANSFER_USAGE, TRANSFER_SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case T_EXAMPLES: o->examples = a; break;
        case T_OUTPUT: o->output = a; break;
        case T_BASE: o->base = a; break;
        case T_TARGET: o->target = a; break;
        case T_STRENGTH: o->strength = nn_parse_double("--strength", a, -100, 100); break;
        case T_RADIUS: o->radius = (int)nn_parse_int("--radius", a, 0, 16); break;
        case T_WINDOW:
            o->window = (int)nn_parse_int("--window", a, 1, 255);
            if (o->window % 2 == 0) nn_usage_error(TRANSFER_USAGE, "--window: %d is even: give an odd side", o->window);
            break;
        case T_SHRINK: o->shrink = 1; break;
        }
    }
    if (!o->examples) nn_usage_error(TRANSFER_USAGE, "no examples: give --examples FILE");
    if (p->npos > 1) nn_usage_error(TRANSFER_USAGE, "one INPUT at most");
    nn_refuse_terminal(o->output, TRANSFER_USAGE, "a binary stream");
    o->input = p->npos ? p->pos[0] : "-";
}

/* Per target label, the example persons that have both a base and a target photo; a second
 * photo of one (person, label) is an error, since which one to use would be a guess. */
static int example_targets(const transfer_options *o, const nn_matrix *ex, example_pairs **out)
{
    nn_row_index ix = {0};
    for (size_t i = 0; i < ex->n; i++) {
        long prev = nn_row_index_add(&ix, ex->group[i], ex->label[i], i);
        if (prev >= 0)
            nn_die("%s: record %zu (%s): a second '%s' photo of group '%s' (the first is %s)",
                   o->examples, i + 1, ex->id[i], ex->label[i], ex->group[i], ex->id[prev]);
    }
    char **names;
    int *lab;
    int nl = label_table(ex, &names, &lab);
    example_pairs *t = nn_xcalloc((size_t)nl, sizeof *t);
    int n = 0;
    for (int l = 0; l < nl; l++) {
        if (strcmp(names[l], o->base) == 0 || !wanted(o->target, names[l])) continue;
        example_pairs *e = &t[n];
        e->label = names[l];
        for (size_t i = 0; i < ex->n; i++) {
            if (lab[i] != l) continue;
            long b = nn_row_index_find(&ix, ex->group[i], o->base);
            if (b < 0) continue;
            e->base_row = nn_xrealloc(e->base_row, (e->n + 1) * sizeof(size_t));
            e->target_row = nn_xrealloc(e->target_row, (e->n + 1) * sizeof(size_t));
            e->group = nn_xrealloc(e->group, (e->n + 1) * sizeof(char *));
            e->base_row[e->n] = (size_t)b, e->target_row[e->n] = i, e->group[e->n++] = ex->group[i];
        }
        if (e->n) n++;
        else if (strcmp(o->target, "all") == 0)
            nn_warn("%s: no person has both a '%s' and a '%s' photo: '%s' is left out", o->examples,
                    o->base, names[l], names[l]);
        else nn_die("%s: no person has both a '%s' and a '%s' photo (--target)", o->examples, o->base, names[l]);
    }
    if (strcmp(o->target, "all") != 0) {   /* a typo must not silently drop an emotion */
        char *copy = nn_xstrdup(o->target);
        for (char *save, *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
            if (strcmp(w, o->base) == 0) nn_die("'%s' is the base label, not a target (--target)", w);
            if (index_of(names, nl, w) < 0) nn_die("%s: no photo has the label '%s' (--target)", o->examples, w);
        }
        free(copy);
    }
    if (n == 0) nn_die("%s: no person has both a '%s' photo and a target photo", o->examples, o->base);
    free(lab);
    nn_row_index_free(&ix);
    *out = t;
    free(names); /* the labels themselves are the matrix's */
    return n;
}

/* y = x + s * the mean over the example persons (other than x's own) of their change from base
 * to target, each warped onto x by the flow of their base photo onto x; clipped to [0, 1]. */
static size_t transfer_one(const transfer_options *o, const nn_matrix *ex, const nn_image_geom *g,
                           const example_pairs *e, const char *group, const float *x,
                           const int8_t *fy, const int8_t *fx, const long *flow_of, double *sum,
                           double *sq, float *delta, float *warped, float *y)
{
    size_t d = ex->d, n = 0;
    memset(sum, 0, d * sizeof(double));
    memset(sq, 0, d * sizeof(double));
    for (size_t k = 0; k < e->n; k++) {
        if (strcmp(e->group[k], group) == 0) continue;   /* never the person's own photos */
        const float *b = ex->x + e->base_row[k] * d, *t = ex->x + e->target_row[k] * d;
        for (size_t j = 0; j < d; j++) delta[j] = t[j] - b[j];
        size_t at = (size_t)flow_of[e->base_row[k]] * (size_t)g->h * (size_t)g->w;
        nn_warp_image(g, delta, fy + at, fx + at, warped);
        for (size_t j = 0; j < d; j++) sum[j] += warped[j], sq[j] += (double)warped[j] * warped[j];
        n++;
    }
    for (size_t j = 0; j < d; j++) {
        double mean = n ? sum[j] / (double)n : 0, factor = 1;
        if (o->shrink && n > 1) {
            double var = (sq[j] - (double)n * mean * mean) / (double)(n - 1);
            factor = mean == 0 ? 0 : 1 - var / ((double)n * mean * mean);
            factor = factor < 0 ? 0 : factor;
        }
        double v = x[j] + o->strength * mean * factor;
        y[j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
    return n;
}

static int run_transfer(int argc, char **argv)
{
    transfer_options o;
    nn_opt_parser p;
    parse_transfer(&o, &p, argc, argv);
    nn_header eh = {0};
    nn_matrix ex;
    nn_matrix_load_named(o.examples, &eh, &ex, 0, 1);
    nn_image_geom g = nn_image_geom_of(&eh, o.examples);
    example_pairs *tg;
    int nt = example_targets(&o, &ex, &tg);

    nn_header in = {0};
    nn_reader *r = nn_open_stream(o.input, &in);
    nn_image_geom gi = nn_image_geom_of(&in, o.input);
    if (gi.h != g.h || gi.w != g.w || gi.c != g.c)
        nn_die("%s: header: images are %dx%dx%d, the examples %s %dx%dx%d", o.input, gi.h, gi.w, gi.c,
               o.examples, g.h, g.w, g.c);
    nn_header h = {0};
    nn_header_f32_like(&h, &in);
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, &in);
    nn_meta_str(meta, "mode", "transfer");
    nn_meta_str(meta, "base", o.base);
    char **labels = nn_xmalloc((size_t)nt * sizeof(char *));
    for (int t = 0; t < nt; t++) labels[t] = tg[t].label;
    nn_meta_strv(meta, "targets", nt, labels);
    free(labels);
    nn_meta_double(meta, "strength", o.strength);
    nn_meta_int(meta, "radius", o.radius);
    nn_meta_int(meta, "window", o.window);
    nn_meta_str(meta, "offsets", o.shrink ? "warped mean, shrunk" : "warped mean");
    nn_meta_str(meta, "examples_file", o.examples);
    nn_meta_finish(meta, &h);
    nn_writer *out = nn_create_stream(o.output, &h);

    /* One flow per example base photo and input face, shared by the targets. */
    size_t d = ex.d, npix = (size_t)g.h * (size_t)g.w, nflows = 0;
    long *flow_of = nn_xmalloc(ex.n * sizeof(long));
    for (size_t i = 0; i < ex.n; i++) flow_of[i] = -1;
    for (int t = 0; t < nt; t++)
        for (size_t k = 0; k < tg[t].n; k++)
            if (flow_of[tg[t].base_row[k]] < 0) flow_of[tg[t].base_row[k]] = (long)nflows++;
    int8_t *fy = nn_xmalloc((nflows ? nflows : 1) * npix), *fx = nn_xmalloc((nflows ? nflows : 1) * npix);
    double *sum = nn_xmalloc(d * sizeof(double)), *sq = nn_xmalloc(d * sizeof(double));
    float *x = nn_xmalloc(d * sizeof(float)), *y = nn_xmalloc(d * sizeof(float));
    float *delta = nn_xmalloc(d * sizeof(float)), *warped = nn_xmalloc(d * sizeof(float));
    nn_record rec;
    uint64_t edited = 0;
    while (nn_next_record(r, &rec) > 0) {
        if (strcmp(rec.label, o.base) != 0) continue;
        for (size_t j = 0; j < d; j++) {
            x[j] = in.dtype == NN_F32 ? rec.f32[j] : rec.u8[j] / 255.0f;
            if (!(x[j] >= 0 && x[j] <= 1))
                nn_die("%s: record %llu (%s): value %zu is %g, not an intensity in [0, 1]", o.input,
                       (unsigned long long)nn_reader_records(r), rec.id, j + 1, x[j]);
        }
        for (size_t i = 0; i < ex.n; i++)
            if (flow_of[i] >= 0 && strcmp(ex.group[i], rec.group) != 0)
                nn_flow_field(&g, x, ex.x + i * d, o.radius, o.window, fy + (size_t)flow_of[i] * npix,
                              fx + (size_t)flow_of[i] * npix);
        for (int t = 0; t < nt; t++) {
            if (!transfer_one(&o, &ex, &g, &tg[t], rec.group, x, fy, fx, flow_of, sum, sq, delta, warped, y))
                nn_die("%s: record %llu (%s): no example person other than its own group '%s' has "
                       "both a '%s' and a '%s' photo", o.input, (unsigned long long)nn_reader_records(r),
                       rec.id, rec.group, o.base, tg[t].label);
            char *id = edit_id(rec.id, tg[t].label, NULL);
            nn_put_record(out, id, tg[t].label, rec.group, y);
            free(id);
        }
        edited++;
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    if (edited == 0) nn_die("%s: no record has the base label '%s'", o.input, o.base);
    nn_finish_stream(out);

    for (int t = 0; t < nt; t++) free(tg[t].base_row), free(tg[t].target_row), free(tg[t].group);
    free(tg);
    free(flow_of), free(fy), free(fx), free(sum), free(sq), free(x), free(y), free(delta), free(warped);
    nn_reader_close(r);
    nn_matrix_free(&ex);
    nn_header_free(&eh);
    nn_header_free(&in);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    if (argc < 2) nn_usage_error(USAGE, "no command: give vectors, apply or transfer");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        printf("usage: %s\n%s\n\nusage: %s\n%s\n\nusage: %s\n%s\n\n"
               "See nn-edit vectors --help, nn-edit apply --help, nn-edit transfer --help.\n",
               VEC_USAGE, VEC_SUMMARY, APPLY_USAGE, APPLY_SUMMARY, TRANSFER_USAGE, TRANSFER_SUMMARY);
        nn_close_stdout();
        return NN_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) nn_print_version();
    if (strcmp(argv[1], "vectors") == 0) return run_vectors(argc - 1, argv + 1);
    if (strcmp(argv[1], "apply") == 0) return run_apply(argc - 1, argv + 1);
    if (strcmp(argv[1], "transfer") == 0) return run_transfer(argc - 1, argv + 1);
    nn_usage_error(USAGE, "unknown command '%s': give vectors, apply or transfer", argv[1]);
}
