/* nn-align: faces aligned by integer translation, so that the change between two photos is the
 * expression and not the head's movement, and so that every person's mouth and eyes fall on the
 * same pixels. Within a group (person), every photo is shifted onto the group's base-label
 * photo; across groups, every group is shifted as a whole so that its base photo matches a
 * reference face: the mean of the base photos (aligned again onto their own mean), or a given
 * one, so that a test set joins the training set's frame. */
#include "nn.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-align [OPTION]... [INPUT]";
static const char SUMMARY[] =
    "Align the faces of INPUT (default -): each photo onto its person's base photo, and each\n"
    "person onto a reference face, by integer translation.";

enum { O_OUTPUT, O_BASE, O_WITHIN, O_ACROSS, O_REFERENCE, O_SAVE_REFERENCE };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the aligned stream to FILE (default -)"},
    [O_BASE] = {"base", 0, 1, "LABEL", "each person's reference photo (default normal)"},
    [O_WITHIN] = {"within", 0, 1, "R", "shift each photo up to R pixels onto its base photo (default 4; 0: off)"},
    [O_ACROSS] = {"across", 0, 1, "R", "shift each person up to R pixels onto the reference (default 8; 0: off)"},
    [O_REFERENCE] = {"reference", 0, 1, "FILE", "the reference face (default: the mean base photo)"},
    [O_SAVE_REFERENCE] = {"save-reference", 0, 1, "FILE", "write the reference face used to FILE"},
    {0},
};

typedef struct {
    const char *output, *base, *reference, *save_reference, *input;
    int within, across;
} options;

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    *o = (options){.output = "-", .base = "normal", .within = 4, .across = 8};
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_OUTPUT: o->output = a; break;
        case O_BASE: o->base = a; break;
        case O_WITHIN: o->within = (int)nn_parse_int("--within", a, 0, 64); break;
        case O_ACROSS: o->across = (int)nn_parse_int("--across", a, 0, 64); break;
        case O_REFERENCE: o->reference = a; break;
        case O_SAVE_REFERENCE: o->save_reference = a; break;
        }
    }
    if (p->npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    nn_refuse_terminal(o->output, USAGE, "a binary stream");
    o->input = p->npos ? p->pos[0] : "-";
}

/* The mean of the rows in base_rows (nb of them) into ref. */
static void mean_face(const nn_matrix *m, const long *base_rows, size_t nb, float *ref)
{
    double *acc = nn_xcalloc(m->d, sizeof(double));
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < m->d; j++) acc[j] += m->x[(size_t)base_rows[i] * m->d + j];
    for (size_t j = 0; j < m->d; j++) ref[j] = (float)(acc[j] / (double)nb);
    free(acc);
}

static void load_reference(const options *o, const nn_header *h, float *ref)
{
    nn_header rh = {0};
    nn_matrix r;
    nn_matrix_load(o->reference, &rh, &r, 0, 1, "");
    if (rh.count != h->count || r.n != 1)
        nn_die("%s: the reference must be one image of %zu values (nn-align --save-reference writes it)",
               o->reference, h->count);
    memcpy(ref, r.x, h->count * sizeof(float));
    nn_matrix_free(&r);
    nn_header_free(&rh);
}

static void save_reference(const options *o, const nn_header *in, const float *ref)
{
    nn_header h;
    nn_header_f32_like(&h, in);
    nn_writer *w = nn_create_stream(o->save_reference, &h);
    nn_put_record(w, "reference", o->base, "", ref);
    nn_finish_stream(w);
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    nn_header in = {0};
    nn_matrix m;
    nn_matrix_load_named(o.input, &in, &m, 0, 1);
    nn_image_geom g = nn_image_geom_of(&in, o.input);
    int R = o.within > o.across ? o.within : o.across;
    if (2 * R >= g.h || 2 * R >= g.w)
        nn_die("%s: images of %dx%d are too small for shifts of %d pixels", o.input, g.h, g.w, R);

    long *base_row = nn_xmalloc((m.n + 1) * sizeof(long));
    long *bases = nn_xmalloc((m.n + 1) * sizeof(long));
    size_t nb = 0, lone = 0;
    nn_row_index ix;
    nn_row_index_build(&ix, &m);
    for (size_t i = 0; i < m.n; i++) {
        base_row[i] = nn_row_index_find(&ix, m.group[i], o.base);
        if (base_row[i] < 0) lone++;
        if (base_row[i] == (long)i) bases[nb++] = (long)i;
    }
    if (nb == 0) nn_die("%s: no photo has the base label '%s' (see --base)", o.input, o.base);
    if (lone) nn_warn("%s: %zu photos have no '%s' photo of their group: not aligned", o.input, lone, o.base);

    float *tmp = nn_xmalloc(m.d * sizeof(float)), *ref = nn_xmalloc(m.d * sizeof(float));
    int *gy = nn_xcalloc(m.n + 1, sizeof(int)), *gx = nn_xcalloc(m.n + 1, sizeof(int));
    if (o.across) {
        /* each base photo's shift onto the reference: the mean base photo, then the mean of
         * the bases so aligned, which is sharper */
        if (o.reference) load_reference(&o, &in, ref);
        else mean_face(&m, bases, nb, ref);
        for (int pass = 0; pass < (o.reference ? 1 : 2); pass++) {
            double *acc = nn_xcalloc(m.d, sizeof(double));
            for (size_t i = 0; i < nb; i++) {
                const float *b = m.x + (size_t)bases[i] * m.d;
                nn_register_shift(&g, ref, b, o.across, &gy[bases[i]], &gx[bases[i]]);
                nn_shift_image(&g, b, gy[bases[i]], gx[bases[i]], tmp);
                for (size_t j = 0; j < m.d; j++) acc[j] += tmp[j];
            }
            if (!o.reference && pass == 0)
                for (size_t j = 0; j < m.d; j++) ref[j] = (float)(acc[j] / (double)nb);
            free(acc);
        }
    } else mean_face(&m, bases, nb, ref);

    nn_header h;
    nn_header_f32_like(&h, &in);
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, &in);
    nn_meta_str(meta, "base", o.base);
    nn_meta_int(meta, "within", o.within);
    nn_meta_int(meta, "across", o.across);
    nn_meta_str(meta, "range", "[0,1]");
    nn_meta_finish(meta, &h);
    nn_writer *w = nn_create_stream(o.output, &h);
    float *shifted = nn_xmalloc(m.d * sizeof(float));
    for (size_t i = 0; i < m.n; i++) {
        const float *x = m.x + i * m.d;
        long b = base_row[i];
        if (b < 0) {
            nn_put_record(w, m.id[i], m.label[i], m.group[i], x);
            continue;
        }
        int dy = 0, dx = 0;
        if (o.within && b != (long)i) nn_register_shift(&g, m.x + (size_t)b * m.d, x, o.within, &dy, &dx);
        /* the photo onto its base photo, then with its person onto the reference: one shift by
         * the sum, so the border is repeated once */
        nn_shift_image(&g, x, dy + gy[b], dx + gx[b], shifted);
        nn_put_record(w, m.id[i], m.label[i], m.group[i], shifted);
    }
    nn_finish_stream(w);
    if (o.save_reference) save_reference(&o, &in, ref);

    nn_row_index_free(&ix);
    free(shifted), free(tmp), free(ref), free(gy), free(gx), free(base_row), free(bases);
    nn_matrix_free(&m);
    nn_header_free(&in);
    nn_header_free(&h);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
