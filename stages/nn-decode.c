/* nn-decode: a model (VAE or PCA) and a latent stream in, an image stream out: the VAE
 * decoder's mean, sigmoid(logits), or the PCA back-projection mean + z C. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-decode [OPTION]... -m MODEL [INPUT]\n"
                            "       nn-decode [OPTION]... -m MODEL --worker ENDPOINT";
static const char SUMMARY[] =
    "Decode every latent vector of INPUT (default -) to an image with the model MODEL.";

enum { O_MODEL, O_OUTPUT, O_SAMPLE, O_SEED, O_BATCH, O_THREADS, O_WORKER };
static const nn_opt OPTS[] = {
    [O_MODEL] = {"model", 'm', 1, "MODEL", "the model file (nn-vae-train or nn-pca)"},
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the image stream to FILE (default -)"},
    [O_SAMPLE] = {"sample", 0, 1, "N", "decode N latents drawn from the prior N(0, I) instead of INPUT"},
    [O_SEED] = {"seed", 0, 1, "S", "seed of --sample (default 0)"},
    [O_BATCH] = {"batch", 'b', 1, "N", "records decoded together (default 256)"},
    [O_THREADS] = {"threads", 't', 1, "N", "OpenBLAS threads (default: OpenBLAS's own)"},
    [O_WORKER] = {"worker", 0, 1, "ENDPOINT", "work for the nn-farm at ENDPOINT (tcp://HOST:PORT"
                                             " or ipc://PATH) until it has no more tasks"},
    {0},
};

typedef struct {
    int n, cap;
    float *z;
    char **id, **label, **group;
} batch;

static void keep(char **slot, const char *s, size_t len)
{
    *slot = nn_xrealloc(*slot, len + 1);
    memcpy(*slot, s, len + 1);
}

typedef struct {
    const char *model;
    nn_model *m;
    nn_vae_work *w;
    batch *b;
    float *x;
    long long sample, seed;
    nn_rng *rng;
} decoder;

static void output_header(const decoder *d, const nn_header *in, int argc, char **argv,
                          nn_header *h)
{
    char err[300];
    memset(h, 0, sizeof *h);
    if (nn_header_set(h, "image", NN_F32, d->m->ndim, d->m->shape, err, sizeof err) != 0)
        nn_die("%s", err);
    nn_meta *meta = nn_meta_new();
    nn_meta_provenance(meta, argc, argv, in);
    nn_meta_str(meta, "model_file", d->model);
    nn_meta_str(meta, "range", "[0,1]");
    if (d->sample) nn_meta_int(meta, "prior_samples", d->sample), nn_meta_int(meta, "seed", d->seed);
    nn_meta_finish(meta, h);
}

/* Every record of r (or the prior's samples when r is NULL) through the decoder into out. */
static void decode_stream(decoder *d, nn_reader *r, const char *input, nn_writer *out)
{
    nn_model m = *d->m;
    batch b = *d->b;
    int cap = b.cap;
    float *x = d->x;
    long long sample = d->sample;
    size_t L = nn_model_latent(&m);
    nn_record rec;
    int more = 1;
    long long drawn = 0;
    char sample_id[32];
    float *prior = sample ? nn_xmalloc(L * sizeof(float)) : NULL;
    while (more) {
        if (sample) {
            more = drawn < sample;
            if (more) {
                for (size_t j = 0; j < L; j++) prior[j] = (float)nn_rng_normal(d->rng);
                snprintf(sample_id, sizeof sample_id, "sample%06lld", ++drawn);
                rec = (nn_record){.id = sample_id, .label = "prior", .group = "", .id_len = strlen(sample_id),
                                  .label_len = 5, .group_len = 0, .f32 = prior, .nbytes = L * sizeof(float)};
            }
        } else more = nn_next_record(r, &rec) > 0;
        if (more) {
            for (size_t j = 0; j < L; j++)
                if (!isfinite(rec.f32[j]))
                    nn_die("%s: record %llu (%s): value %zu is not finite", input,
                           (unsigned long long)nn_reader_records(r), rec.id, j + 1);
            memcpy(b.z + (size_t)b.n * L, rec.f32, L * sizeof(float));
            keep(&b.id[b.n], rec.id, rec.id_len);
            keep(&b.label[b.n], rec.label, rec.label_len);
            keep(&b.group[b.n], rec.group, rec.group_len);
            b.n++;
        }
        if (b.n == cap || (!more && b.n)) {
            nn_model_decode(&m, d->w, b.z, b.n, x);
            for (int i = 0; i < b.n; i++) nn_put_record(out, b.id[i], b.label[i], b.group[i], x + (size_t)i * m.D);
            b.n = 0;
        }
    }
    *d->b = b;        /* the names' buffers may have grown */
    if (r && nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    free(prior);
}

/* Tasks from the farm until it has no more: each is a stream, decoded as a whole. */
static void work(decoder *d, const char *endpoint, int argc, char **argv)
{
    char **wargv = nn_xcalloc((size_t)argc + 1, sizeof *wargv);
    int wargc = nn_worker_argv(argc, argv, wargv);
    nn_worker *wk = nn_worker_connect(endpoint);
    nn_reader *r;
    size_t L = nn_model_latent(d->m);
    while (nn_worker_next(wk, &r)) {
        nn_header in = {0}, h;
        if (nn_read_header(r, &in) <= 0) nn_die("%s", nn_reader_error(r));
        if (in.dtype != NN_F32 || in.count != L)
            nn_die("%s: header: records are %zu %s values, the model %s decodes %zu f32 values",
                   nn_reader_name(r), in.count, nn_dtype_name(in.dtype), d->model, L);
        output_header(d, &in, wargc, wargv, &h);
        nn_writer *out = nn_worker_output(wk);
        if (nn_write_header(out, &h) != 0) nn_die("%s", nn_writer_error(out));
        decode_stream(d, r, nn_reader_name(r), out);
        nn_worker_done(wk, out);
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
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    const char *model = NULL, *output = "-", *worker = NULL;
    int cap = 256, k;
    long long sample = 0, seed = 0;
    while ((k = nn_opt_next(&p)) >= 0) {
        const char *a = p.arg[0];
        switch (k) {
        case O_MODEL: model = a; break;
        case O_OUTPUT: output = a; break;
        case O_SAMPLE: sample = nn_parse_int("--sample", a, 1, 1LL << 40); break;
        case O_SEED: seed = nn_parse_int("--seed", a, 0, INT64_MAX); break;
        case O_BATCH: cap = (int)nn_parse_int("--batch", a, 1, 1 << 16); break;
        case O_THREADS: openblas_set_num_threads((int)nn_parse_int("--threads", a, 1, 1024)); break;
        case O_WORKER: worker = a; break;
        }
    }
    if (!model) nn_usage_error(USAGE, "no model: give -m MODEL");
    if (p.npos > 1) nn_usage_error(USAGE, "one INPUT at most");
    if (sample && p.npos) nn_usage_error(USAGE, "--sample replaces INPUT: give one or the other");
    if (worker && (p.npos || sample || strcmp(output, "-") != 0))
        nn_usage_error(USAGE, "--worker: the farm sends the input and takes the output; give "
                              "no INPUT, no --sample and no --output");
    if (!worker) nn_refuse_terminal(output, USAGE, "a binary stream");
    const char *input = p.npos ? p.pos[0] : "-";
    nn_model m;
    char err[700];
    if (nn_model_load(model, &m, err, sizeof err) != 0) nn_die("%s", err);
    size_t L = nn_model_latent(&m);
    nn_header in = {0};
    nn_reader *r = NULL;
    nn_rng rng;
    nn_rng_seed(&rng, (uint64_t)seed);
    uint32_t lshape[1] = {(uint32_t)L};
    if (sample) {
        if (m.type != NN_MODEL_VAE) nn_die("%s: --sample needs a VAE (a PCA model has no prior)", model);
        if (nn_header_set(&in, "latent", NN_F32, 1, lshape, err, sizeof err) != 0) nn_die("%s", err);
    } else if (!worker)
        r = nn_open_stream(input, &in);
    if (!worker && (in.dtype != NN_F32 || in.count != L))
        nn_die("%s: header: records are %zu %s values, the model %s decodes %zu f32 values",
               input, in.count, nn_dtype_name(in.dtype), model, L);

    nn_vae_work w;
    if (m.type == NN_MODEL_VAE) nn_vae_work_init(&w, &m.vae, cap);
    batch b = {.cap = cap};
    b.z = nn_xmalloc((size_t)cap * L * sizeof(float));
    b.id = nn_xcalloc((size_t)cap, sizeof(char *));
    b.label = nn_xcalloc((size_t)cap, sizeof(char *));
    b.group = nn_xcalloc((size_t)cap, sizeof(char *));
    float *x = nn_xmalloc((size_t)cap * m.D * sizeof(float));
    decoder d = {model, &m, &w, &b, x, sample, seed, &rng};
    if (worker)
        work(&d, worker, argc, argv);
    else {
        nn_header h;
        output_header(&d, &in, argc, argv, &h);
        nn_writer *out = nn_create_stream(output, &h);
        decode_stream(&d, r, input, out);
        nn_finish_stream(out);
        nn_header_free(&h);
    }

    for (int i = 0; i < cap; i++) free(b.id[i]), free(b.label[i]), free(b.group[i]);
    free(b.id);
    free(b.label);
    free(b.group);
    free(b.z);
    free(x);
    if (m.type == NN_MODEL_VAE) nn_vae_work_free(&w);
    nn_model_free(&m);
    nn_reader_close(r);
    nn_header_free(&in);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
