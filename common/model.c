/* Model files: an nn-stream of kind "model" (man/man5/nn-stream.5, nn-vae-train(1)). The
 * header's meta describes the model ("model": type, input shape, architecture), the options
 * that trained it and the training input's meta; every record is a flat f32 vector of all the
 * parameters: "params" (the model), and for a VAE checkpoint "current", "adam_m" and "adam_v"
 * with "state" in the meta, so that training can resume exactly. */
#include "nn.h"

#include <cblas.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static const char *const RECORD_IDS[4] = {"params", "current", "adam_m", "adam_v"};

void nn_model_free(nn_model *m)
{
    free(m->params);
    free(m->current);
    free(m->adam_m);
    free(m->adam_v);
    free(m->options);
    free(m->input_meta);
    memset(m, 0, sizeof *m);
}

size_t nn_model_latent(const nn_model *m)
{
    return m->type == NN_MODEL_VAE ? (size_t)m->vae.a.L : (size_t)m->k;
}

void nn_model_encode(const nn_model *m, nn_vae_work *w, const float *x, int n, float *z)
{
    size_t L = nn_model_latent(m);
    if (m->type == NN_MODEL_PCA) {
        /* z = (x - mean) C^T, with C the k x D components */
        const float *mean = m->params, *comps = m->params + m->D;
        float *xc = nn_xmalloc((size_t)n * m->D * sizeof(float));
        for (int i = 0; i < n; i++)
            for (size_t j = 0; j < m->D; j++) xc[(size_t)i * m->D + j] = x[(size_t)i * m->D + j] - mean[j];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, m->k, (int)m->D, 1.0f, xc,
                    (int)m->D, comps, (int)m->D, 0.0f, z, m->k);
        free(xc);
        return;
    }
    const float *h = nn_vae_encode(&m->vae, m->params, w, x, n);
    for (int i = 0; i < n; i++) memcpy(z + (size_t)i * L, h + (size_t)i * 2 * L, L * sizeof(float));
}

void nn_model_decode(const nn_model *m, nn_vae_work *w, const float *z, int n, float *x)
{
    if (m->type == NN_MODEL_PCA) {
        for (int i = 0; i < n; i++) memcpy(x + (size_t)i * m->D, m->params, m->D * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, (int)m->D, m->k, 1.0f, z,
                    m->k, m->params + m->D, (int)m->D, 1.0f, x, (int)m->D);
        for (size_t i = 0; i < (size_t)n * m->D; i++) x[i] = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
        return;
    }
    const float *logits = nn_vae_decode_logits(&m->vae, m->params, w, z, n);
    for (size_t i = 0; i < (size_t)n * m->D; i++) x[i] = 1.0f / (1.0f + expf(-logits[i]));
}

static void pack_model(nn_meta *meta, const nn_model *m)
{
    nn_meta *d = nn_meta_new();
    int shape[NN_MAX_DIMS];
    for (int i = 0; i < m->ndim; i++) shape[i] = (int)m->shape[i];
    nn_meta_str(d, "type", m->type == NN_MODEL_VAE ? "vae" : "pca");
    nn_meta_intv(d, "input_shape", m->ndim, shape);
    if (m->type == NN_MODEL_VAE) {
        nn_meta_intv(d, "hidden", m->vae.a.nhidden, m->vae.a.hidden);
        nn_meta_int(d, "latent", m->vae.a.L);
        nn_meta_str(d, "likelihood", m->vae.a.gaussian ? "gaussian" : "bernoulli");
        nn_meta_double(d, "sigma", m->vae.a.sigma);
    } else {
        nn_meta_int(d, "components", m->k);
        nn_meta_str(d, "layout", "mean (D), components (k rows of D), variances (k)");
    }
    nn_meta_int(d, "params", (long long)m->nparams);
    unsigned char *bytes;
    size_t len;
    nn_meta_take(d, &bytes, &len);
    nn_meta_packed(meta, "model", bytes, len);
    free(bytes);
}

static void pack_state(nn_meta *meta, const nn_train_state *s)
{
    nn_meta *d = nn_meta_new();
    nn_meta_int(d, "epoch", s->epoch);
    nn_meta_int(d, "step", s->step);
    nn_meta_int(d, "best_epoch", s->best_epoch);
    nn_meta_int(d, "bad_epochs", s->bad_epochs);
    nn_meta_double(d, "best_val", s->best_val);
    nn_meta_u64v(d, "rng", 4, s->rng.s);
    nn_meta_double(d, "rng_spare", s->rng.spare);
    nn_meta_int(d, "rng_has_spare", s->rng.has_spare);
    unsigned char *bytes;
    size_t len;
    nn_meta_take(d, &bytes, &len);
    nn_meta_packed(meta, "state", bytes, len);
    free(bytes);
}

void nn_model_save(const char *path, const nn_model *m, const char *program)
{
    nn_header h = {0};
    uint32_t shape[1] = {(uint32_t)m->nparams};
    char why[200];
    if (nn_header_set(&h, "model", NN_F32, 1, shape, why, sizeof why) != 0) nn_die("%s", why);
    nn_meta *meta = nn_meta_new();
    nn_meta_str(meta, "program", program);
    nn_meta_str(meta, "version", NN_VERSION);
    pack_model(meta, m);
    nn_meta_packed(meta, "options", m->options, m->options_len);
    nn_meta_packed(meta, "input", m->input_meta, m->input_meta_len);
    if (m->has_state) pack_state(meta, &m->state);
    nn_meta_finish(meta, &h);
    nn_writer *w = nn_create_stream(path, &h);
    const float *recs[4] = {m->params, m->current, m->adam_m, m->adam_v};
    for (int i = 0; i < (m->has_state ? 4 : 1); i++) nn_put_record(w, RECORD_IDS[i], "", "", recs[i]);
    nn_finish_stream(w);
    nn_header_free(&h);
}

/* ---- loading ---- */

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, key, n))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int get_long(const msgpack_object *map, const char *key, long long *out)
{
    const msgpack_object *o = get(map, key);
    if (!o) return -1;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) *out = (long long)o->via.u64;
    else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) *out = o->via.i64;
    else return -1;
    return 0;
}

static int get_double(const msgpack_object *map, const char *key, double *out)
{
    const msgpack_object *o = get(map, key);
    long long v;
    if (o && (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)) {
        *out = o->via.f64;
        return 0;
    }
    if (get_long(map, key, &v) == 0) {
        *out = (double)v;
        return 0;
    }
    return -1;
}

static int str_eq(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           !memcmp(o->via.str.ptr, s, o->via.str.size);
}

static int int_array(const msgpack_object *o, int *out, int max, int *n)
{
    if (!o || o->type != MSGPACK_OBJECT_ARRAY || (int)o->via.array.size > max) return -1;
    *n = (int)o->via.array.size;
    for (int i = 0; i < *n; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        if (e->type != MSGPACK_OBJECT_POSITIVE_INTEGER || e->via.u64 > 1u << 30) return -1;
        out[i] = (int)e->via.u64;
    }
    return 0;
}

static unsigned char *repack(const msgpack_object *o, size_t *len)
{
    *len = 0;
    if (!o) return NULL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *o);
    unsigned char *b = nn_xmalloc(sb.size);
    memcpy(b, sb.data, sb.size);
    *len = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return b;
}

static int parse_state(const msgpack_object *s, nn_train_state *st)
{
    long long v[5];
    const char *keys[5] = {"epoch", "step", "best_epoch", "bad_epochs", "rng_has_spare"};
    for (int i = 0; i < 5; i++)
        if (get_long(s, keys[i], &v[i]) != 0) return -1;
    st->epoch = (long)v[0];
    st->step = (long)v[1];
    st->best_epoch = (long)v[2];
    st->bad_epochs = (long)v[3];
    st->rng.has_spare = (int)v[4];
    const msgpack_object *rng = get(s, "rng");
    if (get_double(s, "best_val", &st->best_val) != 0 || get_double(s, "rng_spare", &st->rng.spare) != 0 ||
        !rng || rng->type != MSGPACK_OBJECT_ARRAY || rng->via.array.size != 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        if (rng->via.array.ptr[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER) return -1;
        st->rng.s[i] = rng->via.array.ptr[i].via.u64;
    }
    return 0;
}

/* Reads the model description from the meta; -1 with a reason. */
static int parse_meta(nn_model *m, const msgpack_object *meta, char *err, size_t errlen)
{
    const msgpack_object *d = get(meta, "model");
    int shape[NN_MAX_DIMS], n;
    if (!d || int_array(get(d, "input_shape"), shape, NN_MAX_DIMS, &n) != 0 || n < 1) {
        snprintf(err, errlen, "header: meta has no model description");
        return -1;
    }
    m->ndim = n;
    m->D = 1;
    for (int i = 0; i < n; i++) m->D *= (size_t)(m->shape[i] = (uint32_t)shape[i]);
    if (str_eq(get(d, "type"), "vae")) {
        nn_vae_arch a = {.D = (int)m->D};
        long long latent;
        double sigma = 0;
        const msgpack_object *lik = get(d, "likelihood");
        if (int_array(get(d, "hidden"), a.hidden, NN_MAX_HIDDEN, &a.nhidden) != 0 ||
            get_long(d, "latent", &latent) != 0 || latent < 1 || latent > 1 << 20 ||
            get_double(d, "sigma", &sigma) != 0 || !(str_eq(lik, "bernoulli") || str_eq(lik, "gaussian"))) {
            snprintf(err, errlen, "header: the VAE description is incomplete");
            return -1;
        }
        a.L = (int)latent;
        a.gaussian = str_eq(lik, "gaussian");
        a.sigma = (float)sigma;
        m->type = NN_MODEL_VAE;
        nn_vae_layout_init(&m->vae, &a);
        m->nparams = m->vae.nparams;
    } else if (str_eq(get(d, "type"), "pca")) {
        long long k;
        if (get_long(d, "components", &k) != 0 || k < 1 || k > 1 << 20) {
            snprintf(err, errlen, "header: the PCA description is incomplete");
            return -1;
        }
        m->type = NN_MODEL_PCA;
        m->k = (int)k;
        m->nparams = m->D + (size_t)m->k * m->D + (size_t)m->k;
    } else {
        snprintf(err, errlen, "header: unknown model type (expected vae or pca)");
        return -1;
    }
    const msgpack_object *state = get(meta, "state");
    if (state) {
        if (parse_state(state, &m->state) != 0) {
            snprintf(err, errlen, "header: the training state is incomplete");
            return -1;
        }
        m->has_state = 1;
    }
    m->options = repack(get(meta, "options"), &m->options_len);
    m->input_meta = repack(get(meta, "input"), &m->input_meta_len);
    return 0;
}

int nn_model_load(const char *path, nn_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char why[640];
    nn_reader *r = nn_reader_open(path, why, sizeof why);
    nn_header h = {0};
    int rc = -1;
    if (!r) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    if (nn_read_header(r, &h) <= 0) {
        snprintf(err, errlen, "%s", nn_reader_error(r));
        goto done;
    }
    if (strcmp(h.kind, "model") != 0) {
        snprintf(err, errlen, "%s: not a model file (kind '%s')", path, h.kind);
        goto done;
    }
    if (h.dtype != NN_F32 || h.ndim != 1) {
        snprintf(err, errlen, "%s: a model file holds f32 vectors, this one %s of %d dimensions",
                 path, nn_dtype_name(h.dtype), h.ndim);
        goto done;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int ok = h.meta_len && msgpack_unpack_next(&up, (const char *)h.meta, h.meta_len, &off) ==
                               MSGPACK_UNPACK_SUCCESS;
    if (!ok || parse_meta(m, &up.data, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, ok ? why : "header: meta has no model description");
        msgpack_unpacked_destroy(&up);
        goto done;
    }
    msgpack_unpacked_destroy(&up);
    if (h.shape[0] != m->nparams) {
        snprintf(err, errlen, "%s: records hold %u values, the model needs %zu", path, h.shape[0],
                 m->nparams);
        goto done;
    }
    float **dst[4] = {&m->params, &m->current, &m->adam_m, &m->adam_v};
    nn_record rec;
    int got;
    while ((got = nn_read_record(r, &rec)) == 1)
        for (int i = 0; i < 4; i++)
            if (strcmp(rec.id, RECORD_IDS[i]) == 0 && !*dst[i]) {
                *dst[i] = nn_xmalloc(rec.nbytes);
                memcpy(*dst[i], rec.data, rec.nbytes);
            }
    if (got < 0 || nn_read_end(r) != 0) {
        snprintf(err, errlen, "%s", nn_reader_error(r));
        goto done;
    }
    if (!m->params) {
        snprintf(err, errlen, "%s: no 'params' record", path);
        goto done;
    }
    if (m->has_state && (!m->current || !m->adam_m || !m->adam_v)) m->has_state = 0;
    rc = 0;
done:
    if (rc != 0) nn_model_free(m);
    nn_header_free(&h);
    nn_reader_close(r);
    return rc;
}
