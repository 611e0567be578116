/* nn-vae-train: train a variational autoencoder on an image stream. The model file is written
 * atomically after every epoch, with Adam's moments and the RNG, so --resume continues a
 * killed run to the same bytes an uninterrupted run ends with. */
#include "nn.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] = "nn-vae-train [OPTION]... -o MODEL [TRAIN]";
static const char SUMMARY[] =
    "Train a VAE on the image stream TRAIN (default -) and write the model to MODEL.";

enum { O_MODEL, O_VAL, O_METRICS, O_HIDDEN, O_LATENT, O_LIKELIHOOD, O_SIGMA, O_BETA, O_WARMUP,
       O_EPOCHS, O_BATCH, O_LR, O_BETAS, O_WD, O_PATIENCE, O_SEED, O_RESUME, O_THREADS,
       O_PROGRESS };
static const nn_opt OPTS[] = {
    [O_MODEL] = {"output", 'o', 1, "MODEL", "the model file (written after every epoch)"},
    [O_VAL] = {"val", 0, 1, "FILE", "validation stream: scored each epoch, keeps the best model"},
    [O_METRICS] = {"metrics", 'm', 1, "FILE", "metrics log: one JSON object per epoch"},
    [O_HIDDEN] = {"hidden", 0, 1, "N,N,...", "hidden layer sizes (default 400)"},
    [O_LATENT] = {"latent", 0, 1, "N", "latent size (default 20)"},
    [O_LIKELIHOOD] = {"likelihood", 0, 1, "bernoulli|gaussian", "pixel likelihood (default bernoulli)"},
    [O_SIGMA] = {"sigma", 0, 1, "S", "the Gaussian likelihood's standard deviation (default 0.1)"},
    [O_BETA] = {"beta", 0, 1, "B", "weight of the KL term (default 1)"},
    [O_WARMUP] = {"warmup", 0, 1, "E", "raise the KL weight from 0 to beta over E epochs (default 0)"},
    [O_EPOCHS] = {"epochs", 'e', 1, "N", "epochs (default 10)"},
    [O_BATCH] = {"batch", 'b', 1, "N", "minibatch size (default 128)"},
    [O_LR] = {"lr", 0, 1, "R", "Adam's learning rate (default 0.001)"},
    [O_BETAS] = {"betas", 0, 1, "B1,B2", "Adam's betas (default 0.9,0.999)"},
    [O_WD] = {"weight-decay", 0, 1, "W", "L2 weight decay (default 0)"},
    [O_PATIENCE] = {"patience", 0, 1, "N", "stop after N epochs without a better validation loss"},
    [O_SEED] = {"seed", 0, 1, "N", "seed of initialisation, shuffling and sampling (default 0)"},
    [O_RESUME] = {"resume", 0, 0, NULL, "continue from the checkpoint in MODEL"},
    [O_THREADS] = {"threads", 't', 1, "N", "worker threads, each with a slice of every batch "
                                          "(default: the number of cores, at most 8)"},
    [O_PROGRESS] = {"progress", 0, 0, NULL, "show progress on stderr even if not a terminal"},
    {0},
};

/* What the checkpoint keeps: the run's settings; --resume restores them. */
typedef struct {
    nn_vae_arch arch;
    int epochs, batch, warmup, patience;
    double beta;
    nn_adam adam;
    uint64_t seed;
} settings;

typedef struct {
    settings s;
    const char *model, *train, *val, *metrics;
    int resume, threads, epochs_given;
} options;

static void parse_hidden(nn_vae_arch *a, const char *arg)
{
    char *copy = nn_xstrdup(arg), *rest = copy;
    a->nhidden = 0;
    for (char *tok; (tok = strsep(&rest, ","));) {
        if (!*tok && !rest && a->nhidden == 0) break;     /* "" means no hidden layer */
        if (a->nhidden == NN_MAX_HIDDEN)
            nn_usage_error(USAGE, "--hidden: at most %d layers", NN_MAX_HIDDEN);
        a->hidden[a->nhidden++] = (int)nn_parse_int("--hidden", tok, 1, 1 << 16);
    }
    free(copy);
}

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    settings *s = &o->s;
    s->arch = (nn_vae_arch){.L = 20, .nhidden = 1, .hidden = {400}, .sigma = 0.1f};
    s->epochs = 10;
    s->batch = 128;
    s->beta = 1;
    s->adam = (nn_adam){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_MODEL: o->model = a; break;
        case O_VAL: o->val = a; break;
        case O_METRICS: o->metrics = a; break;
        case O_HIDDEN: parse_hidden(&s->arch, a); break;
        case O_LATENT: s->arch.L = (int)nn_parse_int("--latent", a, 1, 1 << 16); break;
        case O_LIKELIHOOD:
            if (strcmp(a, "bernoulli") == 0) s->arch.gaussian = 0;
            else if (strcmp(a, "gaussian") == 0) s->arch.gaussian = 1;
            else nn_usage_error(USAGE, "--likelihood: '%s' is not bernoulli or gaussian", a);
            break;
        case O_SIGMA: s->arch.sigma = (float)nn_parse_double("--sigma", a, 1e-6, 1e6); break;
        case O_BETA: s->beta = nn_parse_double("--beta", a, 0, 1e6); break;
        case O_WARMUP: s->warmup = (int)nn_parse_int("--warmup", a, 0, 1 << 20); break;
        case O_EPOCHS:
            s->epochs = (int)nn_parse_int("--epochs", a, 1, 1 << 20);
            o->epochs_given = 1;
            break;
        case O_BATCH: s->batch = (int)nn_parse_int("--batch", a, 1, 1 << 16); break;
        case O_LR: s->adam.lr = (float)nn_parse_double("--lr", a, 1e-12, 10); break;
        case O_BETAS: {
            double b1, b2;
            char tail;
            if (sscanf(a, "%lf,%lf%c", &b1, &b2, &tail) != 2 || !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1))
                nn_usage_error(USAGE, "--betas: '%s' is not B1,B2 in [0, 1)", a);
            s->adam.beta1 = (float)b1;
            s->adam.beta2 = (float)b2;
            break;
        }
        case O_WD: s->adam.weight_decay = (float)nn_parse_double("--weight-decay", a, 0, 10); break;
        case O_PATIENCE: s->patience = (int)nn_parse_int("--patience", a, 0, 1 << 20); break;
        case O_SEED: s->seed = (uint64_t)nn_parse_int("--seed", a, 0, INT64_MAX); break;
        case O_RESUME: o->resume = 1; break;
        case O_THREADS: o->threads = (int)nn_parse_int("--threads", a, 1, 1024); break;
        case O_PROGRESS: nn_progress_forced = 1; break;
        }
    }
    if (!o->model) nn_usage_error(USAGE, "no model file: give -o MODEL");
    if (strcmp(o->model, "-") == 0)
        nn_usage_error(USAGE, "the model must be a file: it is rewritten after every epoch");
    if (p->npos > 1) nn_usage_error(USAGE, "one TRAIN stream at most");
    o->train = p->npos ? p->pos[0] : "-";
    if (o->s.patience && !o->val && !o->resume) nn_usage_error(USAGE, "--patience needs --val");
}

/* ---------------------------------------------------------------- settings in the model */

static void pack_settings(const settings *s, nn_model *m)
{
    nn_meta *d = nn_meta_new();
    nn_meta_int(d, "epochs", s->epochs);
    nn_meta_int(d, "batch", s->batch);
    nn_meta_double(d, "beta", s->beta);
    nn_meta_int(d, "warmup", s->warmup);
    nn_meta_double(d, "lr", s->adam.lr);
    nn_meta_double(d, "beta1", s->adam.beta1);
    nn_meta_double(d, "beta2", s->adam.beta2);
    nn_meta_double(d, "adam_eps", s->adam.eps);
    nn_meta_double(d, "weight_decay", s->adam.weight_decay);
    nn_meta_int(d, "patience", s->patience);
    nn_meta_u64(d, "seed", s->seed);
    free(m->options);
    nn_meta_take(d, &m->options, &m->options_len);
}

static void unpack_settings(const nn_model *m, settings *s, const char *path)
{
    double v[10];
    static const char *keys[10] = {"epochs", "batch", "beta", "warmup", "lr", "beta1", "beta2",
                                   "adam_eps", "weight_decay", "patience"};
    for (int i = 0; i < 10; i++)
        if (nn_meta_get_double(m->options, m->options_len, keys[i], &v[i]) != 0)
            nn_die("%s: the checkpoint has no '%s' setting", path, keys[i]);
    if (nn_meta_get_u64(m->options, m->options_len, "seed", &s->seed) != 0)
        nn_die("%s: the checkpoint has no 'seed' setting", path);
    s->arch = m->vae.a;
    s->epochs = (int)v[0];
    s->batch = (int)v[1];
    s->beta = v[2];
    s->warmup = (int)v[3];
    s->adam = (nn_adam){(float)v[4], (float)v[5], (float)v[6], (float)v[7], (float)v[8]};
    s->patience = (int)v[9];
}

/* ---------------------------------------------------------------- the run */

typedef struct run run;

/* Data-parallel training: every batch is cut into one slice per worker; each computes its
 * slice's gradient with single-threaded OpenBLAS (at batch 128 OpenBLAS's own threads gain
 * little: measured 2.0 s alone against 1.8 s for an epoch's products), then each sums one
 * range of the parameters' gradients, in worker order, and takes the Adam step on it. The
 * results depend on the number of workers, not on their timing. */
typedef struct {
    run *r;
    int id;
    pthread_t thread;
    nn_vae_work work;
    float *grad;
    double recon, kl;
} worker;

struct run {
    const options *o;
    settings s;
    nn_model m;
    nn_matrix train, val;
    nn_header train_hdr;
    float *batch, *eps;
    size_t *order;
    FILE *metrics;
    nn_progress progress;
    int nworkers;
    worker *workers;
    pthread_barrier_t start, sliced, stepped;
    int B, stop;                       /* the current batch's size; workers exit when set */
    size_t batch_first;                /* the batch's first record, in r->order */
    float beta;
    int evaluating;                    /* the phase: 0 a training step, 1 scoring a data set */
    const nn_matrix *eval_x;
    float *eval_eps;
};

/* Forward and backward of this worker's slice of the batch. */
static void slice_step(worker *w)
{
    run *r = w->r;
    int per = (r->B + r->nworkers - 1) / r->nworkers, first = w->id * per;
    int B = r->B - first < per ? r->B - first : per;
    w->recon = w->kl = 0;
    if (B <= 0) {
        memset(w->grad, 0, r->m.nparams * sizeof(float));
        return;
    }
    int L = r->s.arch.L;
    size_t d = r->train.d;
    for (int i = first; i < first + B; i++)   /* each worker gathers its own rows */
        memcpy(r->batch + (size_t)i * d, r->train.x + r->order[r->batch_first + (size_t)i] * d,
               d * sizeof(float));
    memcpy(w->work.eps, r->eps + (size_t)first * (size_t)L, (size_t)B * (size_t)L * sizeof(float));
    nn_vae_step(&r->m.vae, r->m.current, w->grad, &w->work, r->batch + (size_t)first * d, B,
                r->beta, 1.0f / (float)r->B, &w->recon, &w->kl);
}

/* The loss of this worker's share of the rows of r->eval_x, with the kept noise. */
static void slice_score(worker *w)
{
    run *r = w->r;
    const nn_matrix *x = r->eval_x;
    size_t per = (x->n + (size_t)r->nworkers - 1) / (size_t)r->nworkers, first = (size_t)w->id * per;
    size_t end = first + per < x->n ? first + per : x->n;
    int L = r->s.arch.L;
    w->recon = w->kl = 0;
    for (size_t at = first; at < end; at += (size_t)w->work.B) {
        int B = (int)(end - at < (size_t)w->work.B ? end - at : (size_t)w->work.B);
        memcpy(w->work.eps, r->eval_eps + at * (size_t)L, (size_t)B * (size_t)L * sizeof(float));
        double a, k;
        nn_vae_step(&r->m.vae, r->m.current, NULL, &w->work, x->x + at * x->d, B, 1, 1, &a, &k);
        w->recon += a;
        w->kl += k;
    }
}

/* Sums the workers' gradients over this worker's range of parameters and steps Adam there. */
static void range_update(worker *w)
{
    run *r = w->r;
    nn_model *m = &r->m;
    size_t per = (m->nparams + (size_t)r->nworkers - 1) / (size_t)r->nworkers;
    size_t first = (size_t)w->id * per, n = first >= m->nparams ? 0 : m->nparams - first;
    if (n > per) n = per;
    float *g = r->workers[0].grad + first;
    const float *g2 = r->nworkers > 1 ? r->workers[1].grad + first : NULL;
    for (int k = 2; k < r->nworkers; k++) {      /* beyond two, fold the rest into the first */
        const float *other = r->workers[k].grad + first;
        for (size_t i = 0; i < n; i++) g[i] += other[i];
    }
    nn_adam_step(m->current + first, g, g2, m->adam_m + first, m->adam_v + first, n, &r->s.adam,
                 m->state.step);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    for (;;) {
        pthread_barrier_wait(&r->start);
        if (r->stop) return NULL;
        if (r->evaluating) slice_score(w);
        else slice_step(w);
        pthread_barrier_wait(&r->sliced);
        if (!r->evaluating) range_update(w);
        pthread_barrier_wait(&r->stepped);
    }
}

static void start_workers(run *r)
{
    r->workers = nn_xcalloc((size_t)r->nworkers, sizeof *r->workers);
    pthread_barrier_init(&r->start, NULL, (unsigned)r->nworkers);
    pthread_barrier_init(&r->sliced, NULL, (unsigned)r->nworkers);
    pthread_barrier_init(&r->stepped, NULL, (unsigned)r->nworkers);
    int per = (r->s.batch + r->nworkers - 1) / r->nworkers;
    for (int k = 0; k < r->nworkers; k++) {
        worker *w = &r->workers[k];
        w->r = r;
        w->id = k;
        nn_vae_work_init(&w->work, &r->m.vae, per);
        w->grad = nn_xmalloc(r->m.nparams * sizeof(float));
        if (k > 0 && pthread_create(&w->thread, NULL, worker_main, w) != 0)
            nn_die("cannot start worker thread %d", k);
    }
}

static void stop_workers(run *r)
{
    r->stop = 1;
    pthread_barrier_wait(&r->start);
    for (int k = 0; k < r->nworkers; k++) {
        if (k > 0) pthread_join(r->workers[k].thread, NULL);
        nn_vae_work_free(&r->workers[k].work);
        free(r->workers[k].grad);
    }
    pthread_barrier_destroy(&r->start);
    pthread_barrier_destroy(&r->sliced);
    pthread_barrier_destroy(&r->stepped);
    free(r->workers);
}

/* One Adam step on the batch in r->batch and r->eps; the main thread is worker 0. */
static void parallel_step(run *r, int B, float beta, double *recon, double *kl)
{
    r->B = B;
    r->beta = beta;
    r->m.state.step++;
    pthread_barrier_wait(&r->start);
    slice_step(&r->workers[0]);
    pthread_barrier_wait(&r->sliced);
    range_update(&r->workers[0]);
    pthread_barrier_wait(&r->stepped);
    *recon = *kl = 0;
    for (int k = 0; k < r->nworkers; k++) {
        *recon += r->workers[k].recon;
        *kl += r->workers[k].kl;
    }
}

static void start_fresh(run *r)
{
    nn_model *m = &r->m;
    memset(m, 0, sizeof *m);
    m->type = NN_MODEL_VAE;
    m->ndim = r->train_hdr.ndim;
    memcpy(m->shape, r->train_hdr.shape, sizeof m->shape);
    m->D = r->train.d;
    r->s.arch.D = (int)r->train.d;
    nn_vae_layout_init(&m->vae, &r->s.arch);
    m->nparams = m->vae.nparams;
    m->params = nn_xmalloc(m->nparams * sizeof(float));
    m->current = nn_xmalloc(m->nparams * sizeof(float));
    m->adam_m = nn_xcalloc(m->nparams, sizeof(float));
    m->adam_v = nn_xcalloc(m->nparams, sizeof(float));
    nn_rng_seed(&m->state.rng, r->s.seed);
    nn_vae_init_params(&m->vae, m->current, &m->state.rng);
    memcpy(m->params, m->current, m->nparams * sizeof(float));
    m->state.best_val = INFINITY;
    m->has_state = 1;
    m->input_meta = r->train_hdr.meta_len ? memcpy(nn_xmalloc(r->train_hdr.meta_len), r->train_hdr.meta,
                                                   r->train_hdr.meta_len) : NULL;
    m->input_meta_len = r->train_hdr.meta_len;
}

static void resume(run *r)
{
    char err[700];
    if (nn_model_load(r->o->model, &r->m, err, sizeof err) != 0) nn_die("%s", err);
    if (r->m.type != NN_MODEL_VAE || !r->m.has_state)
        nn_die("%s: not a VAE checkpoint that can be resumed", r->o->model);
    int epochs = r->s.epochs;
    unpack_settings(&r->m, &r->s, r->o->model);
    if (r->o->epochs_given) r->s.epochs = epochs;
}

/* The metrics log: on resume, the lines of epochs after the checkpoint are dropped. */
static void open_metrics(run *r)
{
    const char *path = r->o->metrics;
    if (!path) return;
    char *kept = NULL;
    size_t kept_len = 0;
    if (r->o->resume && r->m.state.epoch > 0) {
        FILE *old = fopen(path, "r");
        FILE *mem = open_memstream(&kept, &kept_len);
        char *line = NULL;
        size_t cap = 0;
        long epoch;
        while (old && getline(&line, &cap, old) > 0)
            if (sscanf(line, "{\"epoch\":%ld", &epoch) != 1 || epoch <= r->m.state.epoch) fputs(line, mem);
        free(line);
        if (old) fclose(old);
        fclose(mem);
    }
    r->metrics = fopen(path, "w");
    if (!r->metrics) nn_die("%s: cannot create: %s", path, strerror(errno));
    if (kept_len) fwrite(kept, 1, kept_len, r->metrics);
    free(kept);
    if (kept_len) return;
    /* First line: every setting, the input's header, the versions. */
    const settings *s = &r->s;
    fprintf(r->metrics, "{\"program\":\"nn-vae-train\",\"version\":\"%s\",\"openblas\":", NN_VERSION);
    nn_json_string(r->metrics, openblas_get_config(), strlen(openblas_get_config()));
    fprintf(r->metrics, ",\"threads\":%d,\"openblas_threads\":%d,\"options\":", r->nworkers,
            openblas_get_num_threads());
    nn_json_packed(r->metrics, r->m.options, r->m.options_len);
    fprintf(r->metrics, ",\"model\":{\"input_shape\":[");
    for (int i = 0; i < r->m.ndim; i++) fprintf(r->metrics, i ? ",%u" : "%u", r->m.shape[i]);
    fprintf(r->metrics, "],\"hidden\":[");
    for (int i = 0; i < s->arch.nhidden; i++) fprintf(r->metrics, i ? ",%d" : "%d", s->arch.hidden[i]);
    fprintf(r->metrics, "],\"latent\":%d,\"likelihood\":\"%s\",\"sigma\":%g,\"params\":%zu},\"train\":",
            s->arch.L, s->arch.gaussian ? "gaussian" : "bernoulli", s->arch.sigma, r->m.nparams);
    nn_json_string(r->metrics, r->o->train, strlen(r->o->train));
    fprintf(r->metrics, ",\"train_records\":%zu,\"val_records\":%zu,\"input\":", r->train.n, r->val.n);
    nn_json_packed(r->metrics, r->train_hdr.meta, r->train_hdr.meta_len);
    fprintf(r->metrics, "}\n");
    fflush(r->metrics);
}

static double kl_weight(const settings *s, long epoch)
{
    if (s->warmup <= 0 || epoch >= s->warmup) return s->beta;
    return s->beta * (double)epoch / s->warmup;
}

/* The loss of a data set with the kept sampling noise of its own seed: (recon, kl) per record. */
static void evaluate(run *r, const nn_matrix *x, long epoch, double *recon, double *kl)
{
    nn_rng noise;
    nn_rng_seed(&noise, r->s.seed ^ (0x5bd1e995ULL * (uint64_t)(epoch + 1)));
    size_t L = (size_t)r->s.arch.L;
    for (size_t i = 0; i < x->n * L; i++) r->eval_eps[i] = (float)nn_rng_normal(&noise);
    r->eval_x = x;
    r->evaluating = 1;
    pthread_barrier_wait(&r->start);
    slice_score(&r->workers[0]);
    pthread_barrier_wait(&r->sliced);
    pthread_barrier_wait(&r->stepped);
    r->evaluating = 0;
    double rs = 0, ks = 0;
    for (int k = 0; k < r->nworkers; k++) {
        rs += r->workers[k].recon;
        ks += r->workers[k].kl;
    }
    *recon = rs / (double)x->n;
    *kl = ks / (double)x->n;
}

/* One epoch of minibatch Adam on the current parameters; returns the mean loss terms. */
static void train_epoch(run *r, long epoch, float beta, double *recon, double *kl)
{
    nn_model *m = &r->m;
    size_t n = r->train.n;
    int L = r->s.arch.L;
    for (size_t i = 0; i < n; i++) r->order[i] = i;
    nn_rng_shuffle(&m->state.rng, r->order, n);
    double rs = 0, ks = 0;
    size_t nbatches = (n + (size_t)r->s.batch - 1) / (size_t)r->s.batch;
    for (size_t b = 0; b < nbatches; b++) {
        size_t first = b * (size_t)r->s.batch;
        int B = (int)(n - first < (size_t)r->s.batch ? n - first : (size_t)r->s.batch);
        r->batch_first = first;
        for (int i = 0; i < B * L; i++) r->eps[i] = (float)nn_rng_normal(&m->state.rng);
        double a, k;
        parallel_step(r, B, beta, &a, &k);
        if (!isfinite(a) || !isfinite(k)) {
            char kept[300] = "no model was written";
            if (m->state.epoch > 0)
                snprintf(kept, sizeof kept, "%s keeps epoch %ld", r->o->model, m->state.epoch);
            nn_die("epoch %ld, batch %zu: the loss became %s (try a smaller --lr); %s", epoch,
                   b + 1, isnan(a + k) ? "NaN" : "infinite", kept);
        }
        rs += a;
        ks += k;
        if (r->progress.active)
            snprintf(r->progress.note, sizeof r->progress.note, "epoch %ld loss %.2f", epoch,
                     (rs + beta * ks) / (double)(first + (size_t)B));
        nn_progress_update(&r->progress, (uint64_t)(epoch - 1) * nbatches + b + 1);
    }
    *recon = rs / (double)n;
    *kl = ks / (double)n;
}

static void train(run *r)
{
    nn_model *m = &r->m;
    const settings *s = &r->s;
    size_t nbatches = (r->train.n + (size_t)s->batch - 1) / (size_t)s->batch;
    nn_progress_start(&r->progress, "batches", (uint64_t)s->epochs * nbatches);
    for (long epoch = m->state.epoch + 1; epoch <= s->epochs; epoch++) {
        double t0 = nn_now(), recon, kl, vrecon = NAN, vkl = NAN, val = NAN;
        float beta = (float)kl_weight(s, epoch);
        train_epoch(r, epoch, beta, &recon, &kl);
        if (r->val.n) {
            evaluate(r, &r->val, epoch, &vrecon, &vkl);
            val = vrecon + s->beta * vkl;
        }
        m->state.epoch = epoch;
        int better = !r->val.n || val < m->state.best_val;
        if (better) {
            memcpy(m->params, m->current, m->nparams * sizeof(float));
            m->state.best_val = r->val.n ? val : INFINITY;
            m->state.best_epoch = epoch;
            m->state.bad_epochs = 0;
        } else
            m->state.bad_epochs++;
        /* The log line first: if a kill comes between the two, --resume drops the line of the
         * epoch the checkpoint does not have, and writes it again. */
        if (r->metrics) {
            fprintf(r->metrics, "{\"epoch\":%ld,\"train_loss\":", epoch);
            nn_json_number(r->metrics, recon + beta * kl);
            fprintf(r->metrics, ",\"recon\":");
            nn_json_number(r->metrics, recon);
            fprintf(r->metrics, ",\"kl\":");
            nn_json_number(r->metrics, kl);
            fprintf(r->metrics, ",\"val_loss\":");
            nn_json_number(r->metrics, val);
            fprintf(r->metrics, ",\"val_recon\":");
            nn_json_number(r->metrics, vrecon);
            fprintf(r->metrics, ",\"val_kl\":");
            nn_json_number(r->metrics, vkl);
            fprintf(r->metrics, ",\"beta\":%g,\"lr\":%g,\"seconds\":%.3f,\"best_epoch\":%ld}\n", beta,
                    s->adam.lr, nn_now() - t0, m->state.best_epoch);
            if (fflush(r->metrics) != 0) nn_die("%s: write error: %s", r->o->metrics, strerror(errno));
        }
        nn_model_save(r->o->model, m, "nn-vae-train");
        if (s->patience && m->state.bad_epochs >= s->patience) {
            nn_warn("no better validation loss for %d epochs: stopping after epoch %ld, keeping "
                    "epoch %ld", s->patience, epoch, m->state.best_epoch);
            break;
        }
    }
    nn_progress_end(&r->progress, (uint64_t)m->state.epoch * nbatches);
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    run r = {0};
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    r.o = &o;
    r.s = o.s;
    /* Our workers share the cores; OpenBLAS works single-threaded inside each. */
    openblas_set_num_threads(1);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.nworkers = o.threads ? o.threads : cores < 1 ? 1 : cores > 8 ? 8 : (int)cores;
    struct stat st;
    int resuming = o.resume && stat(o.model, &st) == 0;
    if (o.resume && !resuming) nn_warn("%s does not exist yet: starting from scratch", o.model);

    if (!resuming) {
        /* A model path that cannot be written fails now, not after the first epoch. */
        char err[700];
        nn_atomic probe;
        if (nn_atomic_open(&probe, o.model, err, sizeof err) != 0) nn_die("%s", err);
        nn_atomic_abort(&probe);
    }
    if (resuming) resume(&r);
    /* The decoder's mean is a sigmoid, so pixels must be in [0, 1] for either likelihood. */
    const char *hint = " (the decoder's output is a sigmoid: images must be in [0, 1], as "
                       "nn-ingest writes them)";
    nn_matrix_load(o.train, &r.train_hdr, &r.train, 0, 1, hint);
    if (r.train.n == 0) nn_die("%s: the training stream has no records", o.train);
    if (!resuming) start_fresh(&r);
    else if (r.m.D != r.train.d || r.m.ndim != r.train_hdr.ndim ||
             memcmp(r.m.shape, r.train_hdr.shape, sizeof(uint32_t) * (size_t)r.m.ndim) != 0) {
        char shape[128];
        nn_shape_str(&r.train_hdr, shape, sizeof shape);
        nn_die("%s: records are %s, the checkpoint's model takes %zu values", o.train, shape, r.m.D);
    }
    pack_settings(&r.s, &r.m);
    if (o.val) {
        nn_header vh = {0};
        nn_matrix_load(o.val, &vh, &r.val, 0, 1, hint);
        if (r.val.n == 0) nn_die("%s: the validation stream has no records", o.val);
        char why[300];
        vh.dtype = r.train_hdr.dtype;   /* both are f32 in memory */
        if (nn_header_compatible(&r.train_hdr, &vh, why, sizeof why) != 0)
            nn_die("%s: header: %s of %s", o.val, why, o.train);
        nn_header_free(&vh);
    }
    r.eval_eps = nn_xmalloc((r.val.n ? r.val.n : 1) * (size_t)r.s.arch.L * sizeof(float));
    r.batch = nn_xmalloc((size_t)r.s.batch * r.train.d * sizeof(float));
    r.eps = nn_xmalloc((size_t)r.s.batch * (size_t)r.s.arch.L * sizeof(float));
    start_workers(&r);
    r.order = nn_xmalloc(r.train.n * sizeof(size_t));
    open_metrics(&r);
    if (r.m.state.epoch >= r.s.epochs)
        nn_warn("%s already has %ld epoch%s (--epochs %d): nothing to do", o.model, r.m.state.epoch,
                r.m.state.epoch == 1 ? "" : "s", r.s.epochs);
    else if (r.s.patience && r.m.state.bad_epochs >= r.s.patience)
        nn_warn("%s stopped early after epoch %ld (no better validation loss for %d epochs): "
                "nothing to do", o.model, r.m.state.epoch, r.s.patience);
    else
        train(&r);
    if (r.metrics && fclose(r.metrics) != 0) nn_die("%s: write error: %s", o.metrics, strerror(errno));

    stop_workers(&r);
    free(r.eval_eps);
    free(r.eps);
    free(r.batch);
    free(r.order);
    nn_matrix_free(&r.train);
    nn_matrix_free(&r.val);
    nn_header_free(&r.train_hdr);
    nn_model_free(&r.m);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
