/* nn-mkstream: writes test streams with msgpack-c directly (not through common/'s writer), so
 * the reader is tested against an independent encoder. Options also make broken streams. */
#include "nn.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-mkstream [OPTION]...";
enum { O_KIND, O_DTYPE, O_SHAPE, O_COUNT, O_LABELS, O_GROUPS, O_VALUES, O_SEED, O_META,
       O_VERSION_FIELD, O_TRAILER_COUNT, O_NO_TRAILER, O_TENSOR_BYTES, O_ARRAY_LEN, O_CLUSTERS,
       N_OPTS };
static const nn_opt OPTS[] = {
    [O_KIND] = {"kind", 0, 1, "KIND", "header kind (default image)"},
    [O_DTYPE] = {"dtype", 0, 1, "f32|u8", "element type (default f32)"},
    [O_SHAPE] = {"shape", 0, 1, "AxBxC", "per-record shape (default 2x2)"},
    [O_COUNT] = {"count", 'n', 1, "N", "records (default 3)"},
    [O_LABELS] = {"labels", 0, 1, "A,B,..", "labels, cycled (default a,b)"},
    [O_GROUPS] = {"groups", 0, 1, "G,H,..", "groups, cycled per round of labels (default g)"},
    [O_VALUES] = {"values", 0, 1, "index|random|nan|clusters|stdin",
                  "value j of record i: i+j/1000 (u8: (i+j)%256), seeded random, NaN at j=0, "
                  "read from stdin (numbers, whitespace-separated), or "
                  "clusters: label cK (K = i % --clusters), a centre N(0, 10^2) + N(0, 1)"},
    [O_CLUSTERS] = {"clusters", 0, 1, "K", "clusters for --values clusters (default 5)"},
    [O_SEED] = {"seed", 0, 1, "S", "seed for --values random"},
    [O_META] = {"meta", 0, 1, "KEY=VALUE", "a string in the header's meta (repeatable)"},
    [O_VERSION_FIELD] = {"stream-version", 0, 1, "V", "the header's version number"},
    [O_TRAILER_COUNT] = {"trailer-count", 0, 1, "N", "the count the trailer claims"},
    [O_NO_TRAILER] = {"no-trailer", 0, 0, NULL, "end without a trailer"},
    [O_TENSOR_BYTES] = {"tensor-bytes", 0, 1, "N", "bytes in each record's bin"},
    [O_ARRAY_LEN] = {"array-len", 0, 1, "N", "elements in each record's array"},
    [N_OPTS] = {0},
};

static int split(char *s, const char *sep, char **out, int max)
{
    int n = 0;
    for (char *tok = strtok(s, sep); tok && n < max; tok = strtok(NULL, sep)) out[n++] = tok;
    return n;
}

static int write_out(void *data, const char *buf, size_t len)
{
    (void)data;
    if (nn_write_all(STDOUT_FILENO, buf, len) != 0) nn_die("write error");
    return 0;
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body(pk, s, strlen(s));
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    const char *kind = "image", *dtype = "f32", *values = "index";
    char shape_arg[256] = "2x2", labels_arg[4096] = "a,b", groups_arg[4096] = "g";
    char *meta[32];
    int nmeta = 0, no_trailer = 0;
    long long count = 3, version = NN_STREAM_VERSION, trailer = -1, tensor_bytes = -1,
              array_len = 4, seed = 1, clusters = 5;
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, "Write a test nn-stream to stdout.", argc, argv);
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        const char *a = p.arg[0];
        switch (k) {
        case O_KIND: kind = a; break;
        case O_DTYPE: dtype = a; break;
        case O_SHAPE: snprintf(shape_arg, sizeof shape_arg, "%s", a); break;
        case O_COUNT: count = nn_parse_int("--count", a, 0, 1LL << 40); break;
        case O_LABELS: snprintf(labels_arg, sizeof labels_arg, "%s", a); break;
        case O_GROUPS: snprintf(groups_arg, sizeof groups_arg, "%s", a); break;
        case O_VALUES: values = a; break;
        case O_SEED: seed = nn_parse_int("--seed", a, 0, 1LL << 62); break;
        case O_META: if (nmeta < 32) meta[nmeta++] = (char *)a; break;
        case O_VERSION_FIELD: version = nn_parse_int("--stream-version", a, 0, 1000); break;
        case O_TRAILER_COUNT: trailer = nn_parse_int("--trailer-count", a, 0, 1LL << 40); break;
        case O_NO_TRAILER: no_trailer = 1; break;
        case O_TENSOR_BYTES: tensor_bytes = nn_parse_int("--tensor-bytes", a, 0, 1 << 30); break;
        case O_ARRAY_LEN: array_len = nn_parse_int("--array-len", a, 0, 100); break;
        case O_CLUSTERS: clusters = nn_parse_int("--clusters", a, 1, 1000); break;
        }
    }
    nn_opt_free(&p);
    char *dims_s[NN_MAX_DIMS + 1], *labels[256], *groups[256];
    int ndim = split(shape_arg, "x", dims_s, NN_MAX_DIMS + 1);
    int nl = split(labels_arg, ",", labels, 256), ng = split(groups_arg, ",", groups, 256);
    if (!nl) labels[nl++] = "";
    if (!ng) groups[ng++] = "";
    uint64_t dims[NN_MAX_DIMS + 1], elems = 1;
    for (int i = 0; i < ndim; i++) elems *= dims[i] = strtoull(dims_s[i], NULL, 10);
    int is_f32 = strcmp(dtype, "u8") != 0;
    size_t nbytes = tensor_bytes >= 0 ? (size_t)tensor_bytes : elems * (is_f32 ? 4 : 1);

    msgpack_packer pk;
    msgpack_packer_init(&pk, NULL, write_out);
    msgpack_pack_map(&pk, 5);
    pack_str(&pk, "nn-stream");
    msgpack_pack_int64(&pk, version);
    pack_str(&pk, "kind");
    pack_str(&pk, kind);
    pack_str(&pk, "dtype");
    pack_str(&pk, dtype);
    pack_str(&pk, "shape");
    msgpack_pack_array(&pk, (size_t)ndim);
    for (int i = 0; i < ndim; i++) msgpack_pack_uint64(&pk, dims[i]);
    pack_str(&pk, "meta");
    msgpack_pack_map(&pk, (size_t)nmeta);
    for (int i = 0; i < nmeta; i++) {
        char *eq = strchr(meta[i], '=');
        if (!eq) nn_die("--meta needs KEY=VALUE");
        msgpack_pack_str_with_body(&pk, meta[i], (size_t)(eq - meta[i]));
        pack_str(&pk, eq + 1);
    }

    unsigned char *data = nn_xcalloc(nbytes + 4, 1);
    nn_rng rng;
    nn_rng_seed(&rng, (uint64_t)seed);
    int clustered = strcmp(values, "clusters") == 0;
    size_t nvals = nbytes / 4 + 1;
    float *centres = nn_xmalloc((size_t)clusters * nvals * sizeof(float));
    for (size_t i = 0; i < (size_t)clusters * nvals; i++) centres[i] = (float)(10 * nn_rng_normal(&rng));
    char cluster_label[32];
    for (long long i = 0; i < count; i++) {
        for (size_t j = 0; j * (is_f32 ? 4 : 1) < nbytes; j++) {
            if (!is_f32) data[j] = strcmp(values, "random") == 0 ? (uint8_t)nn_rng_u64(&rng)
                                                                 : (uint8_t)((i + (long long)j) % 256);
            else {
                float v;
                if (strcmp(values, "stdin") == 0) {
                    if (scanf("%f", &v) != 1) nn_die("--values stdin: record %lld: value %zu missing", i + 1, j + 1);
                } else v = strcmp(values, "random") == 0 ? (float)nn_rng_normal(&rng)
                          : clustered ? centres[(size_t)(i % clusters) * nvals + j] + (float)nn_rng_normal(&rng)
                                      : (float)i + (float)j / 1000.0f;
                if (strcmp(values, "nan") == 0 && j == 0) v = __builtin_nanf("");
                memcpy(data + 4 * j, &v, 4);
            }
        }
        char id[32];
        snprintf(id, sizeof id, "r%04lld", i);
        msgpack_pack_array(&pk, (size_t)array_len);
        snprintf(cluster_label, sizeof cluster_label, "c%lld", i % clusters);
        const char *fields[3] = {id, clustered ? cluster_label : labels[i % nl], groups[(i / nl) % ng]};
        for (int f = 0; f < 3 && f < array_len; f++) pack_str(&pk, fields[f]);
        if (array_len >= 4) {
            msgpack_pack_bin(&pk, nbytes);
            msgpack_pack_bin_body(&pk, data, nbytes);
        }
        for (long long f = 4; f < array_len; f++) msgpack_pack_nil(&pk);
    }
    free(data);
    free(centres);
    if (!no_trailer) {
        msgpack_pack_map(&pk, 1);
        pack_str(&pk, "records");
        msgpack_pack_uint64(&pk, (uint64_t)(trailer >= 0 ? trailer : count));
    }
    return 0;
}
