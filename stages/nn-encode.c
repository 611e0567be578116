/* nn-encode: a model (VAE or PCA) and an image stream in, a latent stream out; streaming, in
 * batches through sgemm. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-encode [OPTION]... -m MODEL [INPUT]\n"
                            "       nn-encode [OPTION]... -m MODEL --worker ENDPOINT";
static const char SUMMARY[] =
    "Encode every record of the image stream INPUT (default -) to its latent vector.";

enum { O_MODEL, O_OUTPUT, O_EMIT, O_SEED, O_BATCH, O_THREADS, O_WORKER, O_PROGRESS };
static const nn_opt OPTS[] = {
    [O_MODEL] = {"model", 'm', 1, "MODEL", "the model file (nn-vae-train or nn-pca)"},
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the latent stream to FILE (default -)"},
    [O_EMIT] = {"emit", 0, 1, "mu|logvar|sample", "for a VAE: the mean (default), the log "
                                                  "variance, or a sample z"},
    [O_SEED] = {"seed", 0, 1, "N", "seed of --emit sample (default 0)"},
    [O_BATCH] = {"batch", 'b', 1, "N", "records encoded together (default 256)"},
    [O_THREADS] = {"threads", 't', 1, "N", "OpenBLAS threads (default: OpenBLAS's own)"},
    [O_WORKER] = {"worker", 0, 1, "ENDPOINT", "work for the nn-farm at ENDPOINT (tcp://HOST:PORT"
                                             " or ipc://PATH) until it has no more tasks"},
    [O_PROGRESS] = {"progress", 0, 0, NULL, "show progress on stderr even if not a terminal"},
    {0},
};

enum emit { EMIT_MU, EMIT_LOGVAR, EMIT_SAMPLE };
static const char *const EMIT_NAMES[3] = {"mu", "logvar", "sample"};

typedef struct {
    const char *model, *output, *input, *worker;
    enum emit emit;
    uint64_t seed;
    int batch;
} options;

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->batch = 256;
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_MODEL: o->model = a; break;
        case O_OUTPUT: o->output = a; break;
        case O_EMIT: {
            int found = 0;
            for (int e = 0; e < 3; e++)
                if (strcmp(a, EMIT_NAMES[e]) == 0) o->emit = (enum emit)e, found = 1;
            if (!found) nn_usage_error(USAGE, "--emit: '%s' is not mu, logvar or sample", a);
            break;
        }
        case O_SEED: o->seed = (uint64_t)nn_parse_int("--seed", a, 0, INT64_MAX); break;
        case O_BATCH: o->batch = (int)nn_parse_int("--batch", a, 1, 1 << 16); break;
        case O_THREADS: openblas_set_num_threads((int)nn_parse_int("--threads", a, 1, 1024)); break;
        case O_WORKER: o->worker = a; break;
        case O_PROGRESS: nn_progress_forced = 1; break;
        }
    }
    if (!o->model) nn_usage_error(USAGE, "no model: give -m MODEL");
    if (p->npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    if (o->worker && (p->npos || strcmp(o->output, "-") != 0))
        nn_usage_error(USAGE, "--worker: the farm sends the input and takes the output; give "
                              "no INPUT and no --output");
    o->input = p->npos ? p->pos[0] : "-";
    if (o->worker) return;
    nn_refuse_terminal(o->output, USAGE, "a binary stream");
}

/* A batch of records waiting to be encoded: their values and identities. */
typedef struct {
    int n, cap;
    float *x;                  /* cap x D */
    char **id, **label, **group;
} batch;

static void batch_init(batch *b, int cap, size_t d)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
    b->x = nn_xmalloc((size_t)cap * d * sizeof(float));
    b->id = nn_xcalloc((size_t)cap, sizeof(char *));
    b->label = nn_xcalloc((size_t)cap, sizeof(char *));
    b->group = nn_xcalloc((size_t)cap, sizeof(char *));
}

static void set_str(char **slot, const char *s, size_t len)
{
    *slot = nn_xrealloc(*slot, len + 1);
    memcpy(*slot, s, len + 1);
}

static void batch_free(batch *b)
{
    for (int i = 0; i < b->cap; i++) {
        free(b->id[i]);
        free(b->label[i]);
        free(b->group[i]);
    }
    free(b->id);
    free(b->label);
    free(b->group);
    free(b->x);
}

typedef struct {
    const options *o;
    nn_model m;
    nn_vae_work work;
    nn_rng rng;
    float *z;                  /* cap x latent */
    nn_writer *out;
} encoder;

/* The batch's latent vectors into e->z. */
static void encode(encoder *e, const batch *b)
{
    const nn_model *m = &e->m;
    size_t L = nn_model_latent(m);
    if (m->type == NN_MODEL_PCA) {
        /* z = (x - mean) C^T, with C the k x D components */
        const float *mean = m->params, *comps = m->params + m->D;
        for (int i = 0; i < b->n; i++)
            for (size_t j = 0; j < m->D; j++) b->x[(size_t)i * m->D + j] -= mean[j];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b->n, m->k, (int)m->D, 1.0f, b->x,
                    (int)m->D, comps, (int)m->D, 0.0f, e->z, m->k);
        return;
    }
    const float *h = nn_vae_encode(&m->vae, m->params, &e->work, b->x, b->n);
    for (int i = 0; i < b->n; i++) {
        const float *mu = h + (size_t)i * 2 * L, *lv = mu + L;
        float *z = e->z + (size_t)i * L;
        if (e->o->emit == EMIT_MU) memcpy(z, mu, L * sizeof(float));
        else if (e->o->emit == EMIT_LOGVAR) memcpy(z, lv, L * sizeof(float));
        else
            for (size_t j = 0; j < L; j++) z[j] = mu[j] + expf(0.5f * lv[j]) * (float)nn_rng_normal(&e->rng);
    }
}

static void flush(encoder *e, batch *b)
{
    if (!b->n) return;
    encode(e, b);
    size_t L = nn_model_latent(&e->m);
    for (int i = 0; i < b->n; i++) nn_put_record(e->out, b->id[i], b->label[i], b->group[i], e->z + (size_t)i * L);
    b->n = 0;
}

static void output_header(encoder *e, const nn_header *in, int argc, char **argv, nn_header *h)
{
    memset(h, 0, sizeof *h);
    uint32_t shape[1] = {(uint32_t)nn_model_latent(&e->m)};
    char why[200];
    if (nn_header_set(h, "latent", NN_F32, 1, shape, why, sizeof why) != 0) nn_die("%s", why);
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, in);
    nn_meta_str(meta, "model_file", e->o->model);
    nn_meta_str(meta, "model_type", e->m.type == NN_MODEL_VAE ? "vae" : "pca");
    nn_meta_str(meta, "emit", e->m.type == NN_MODEL_VAE ? EMIT_NAMES[e->o->emit] : "projection");
    nn_meta_finish(meta, h);
}

static void check_fit(const encoder *e, const char *name, const nn_header *in)
{
    nn_header want = {0};
    char err[300];
    if (nn_header_set(&want, in->kind, in->dtype, e->m.ndim, e->m.shape, err, sizeof err) != 0 ||
        nn_header_compatible(&want, in, err, sizeof err) != 0) {
        char shape[128];
        nn_shape_str(&want, shape, sizeof shape);
        nn_die("%s: header: records do not fit the model %s, which takes %s", name, e->o->model,
               shape);
    }
    nn_header_free(&want);
}

/* Every record of r through the model into e->out; the count. */
static uint64_t encode_records(encoder *e, batch *b, nn_reader *r, const nn_header *in,
                               nn_progress *prog)
{
    nn_record rec;
    uint64_t done = 0;
    while (nn_next_record(r, &rec) > 0) {
        float *x = b->x + (size_t)b->n * e->m.D;
        if (in->dtype == NN_F32) {
            memcpy(x, rec.f32, e->m.D * sizeof(float));
            for (size_t j = 0; j < e->m.D; j++)
                if (!isfinite(x[j]))
                    nn_die("%s: record %llu (%s): value %zu is %s", nn_reader_name(r),
                           (unsigned long long)done + 1, rec.id, j + 1,
                           isnan(x[j]) ? "NaN" : "infinite");
        } else
            for (size_t j = 0; j < e->m.D; j++) x[j] = (float)rec.u8[j] / 255.0f;
        set_str(&b->id[b->n], rec.id, rec.id_len);
        set_str(&b->label[b->n], rec.label, rec.label_len);
        set_str(&b->group[b->n], rec.group, rec.group_len);
        if (++b->n == b->cap) flush(e, b);
        if (prog) nn_progress_update(prog, ++done);
        else done++;
    }
    flush(e, b);
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    return done;
}

/* Tasks from the farm until it has no more: each is a stream, encoded as a whole. */
static void work(encoder *e, batch *b, int argc, char **argv)
{
    char **wargv = nn_xcalloc((size_t)argc + 1, sizeof *wargv);
    int wargc = nn_worker_argv(argc, argv, wargv);
    nn_worker *wk = nn_worker_connect(e->o->worker);
    nn_reader *r;
    while (nn_worker_next(wk, &r)) {
        nn_header in = {0}, h;
        if (nn_read_header(r, &in) <= 0) nn_die("%s", nn_reader_error(r));
        check_fit(e, nn_reader_name(r), &in);
        /* --emit sample: a seed per task, so the run does not depend on who did which task */
        nn_rng_seed(&e->rng, e->o->seed + nn_worker_task(wk));
        output_header(e, &in, wargc, wargv, &h);
        e->out = nn_worker_output(wk);
        if (nn_write_header(e->out, &h) != 0) nn_die("%s", nn_writer_error(e->out));
        encode_records(e, b, r, &in, NULL);
        nn_worker_done(wk, e->out);
        nn_reader_close(r);
        nn_header_free(&in);
        nn_header_free(&h);
    }
    nn_worker_close(wk);
    free(wargv);
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    encoder e = {.o = &o};
    char err[700];
    if (nn_model_load(o.model, &e.m, err, sizeof err) != 0) nn_die("%s", err);
    if (e.m.type == NN_MODEL_PCA && o.emit != EMIT_MU)
        nn_usage_error(USAGE, "--emit %s needs a VAE; %s is a PCA model", EMIT_NAMES[o.emit], o.model);
    if (e.m.type == NN_MODEL_VAE) nn_vae_work_init(&e.work, &e.m.vae, o.batch);
    e.z = nn_xmalloc((size_t)o.batch * nn_model_latent(&e.m) * sizeof(float));
    batch b;
    batch_init(&b, o.batch, e.m.D);
    if (o.worker)
        work(&e, &b, argc, argv);
    else {
        nn_header in = {0}, h;
        nn_reader *r = nn_open_stream(o.input, &in);
        check_fit(&e, o.input, &in);
        nn_rng_seed(&e.rng, o.seed);
        output_header(&e, &in, argc, argv, &h);
        e.out = nn_create_stream(o.output, &h);
        nn_progress prog;
        nn_progress_start(&prog, "records", 0);
        uint64_t done = encode_records(&e, &b, r, &in, &prog);
        nn_finish_stream(e.out);
        nn_progress_end(&prog, done);
        nn_reader_close(r);
        nn_header_free(&in);
        nn_header_free(&h);
    }

    batch_free(&b);
    free(e.z);
    if (e.m.type == NN_MODEL_VAE) nn_vae_work_free(&e.work);
    nn_model_free(&e.m);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
