/* Header metadata: a MessagePack map built key by key, and MessagePack printed as JSON. */
#include "nn.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

struct nn_meta {
    msgpack_sbuffer body;
    msgpack_packer pk;
    uint32_t n;
};

nn_meta *nn_meta_new(void)
{
    nn_meta *m = nn_xcalloc(1, sizeof *m);
    msgpack_sbuffer_init(&m->body);
    msgpack_packer_init(&m->pk, &m->body, msgpack_sbuffer_write);
    return m;
}

static void key(nn_meta *m, const char *k)
{
    msgpack_pack_str_with_body(&m->pk, k, strlen(k));
    m->n++;
}

void nn_meta_str(nn_meta *m, const char *k, const char *v)
{
    key(m, k);
    msgpack_pack_str_with_body(&m->pk, v, strlen(v));
}

void nn_meta_int(nn_meta *m, const char *k, long long v)
{
    key(m, k);
    msgpack_pack_long_long(&m->pk, v);
}

void nn_meta_double(nn_meta *m, const char *k, double v)
{
    key(m, k);
    msgpack_pack_double(&m->pk, v);
}

void nn_meta_strv(nn_meta *m, const char *k, int n, char *const *v)
{
    key(m, k);
    msgpack_pack_array(&m->pk, (size_t)n);
    for (int i = 0; i < n; i++) msgpack_pack_str_with_body(&m->pk, v[i], strlen(v[i]));
}

void nn_meta_packed(nn_meta *m, const char *k, const void *packed, size_t len)
{
    key(m, k);
    if (len) msgpack_sbuffer_write(&m->body, packed, len);
    else msgpack_pack_map(&m->pk, 0);
}

void nn_meta_provenance(nn_meta *m, int argc, char **argv, const nn_header *input)
{
    nn_meta_str(m, "program", nn_prog);
    nn_meta_str(m, "version", NN_VERSION);
    nn_meta_strv(m, "argv", argc, argv);
    if (input) nn_meta_packed(m, "input", input->meta, input->meta_len);
}

void nn_meta_take(nn_meta *m, unsigned char **bytes, size_t *len)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init(&out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, m->n);
    msgpack_sbuffer_write(&out, m->body.data ? m->body.data : "", m->body.size);
    *bytes = nn_xmalloc(out.size);
    memcpy(*bytes, out.data, out.size);
    *len = out.size;
    msgpack_sbuffer_destroy(&out);
    msgpack_sbuffer_destroy(&m->body);
    free(m);
}

void nn_meta_finish(nn_meta *m, nn_header *h)
{
    free(h->meta);
    nn_meta_take(m, &h->meta, &h->meta_len);
}

void nn_meta_u64(nn_meta *m, const char *k, uint64_t v)
{
    key(m, k);
    msgpack_pack_uint64(&m->pk, v);
}

void nn_meta_u64v(nn_meta *m, const char *k, int n, const uint64_t *v)
{
    key(m, k);
    msgpack_pack_array(&m->pk, (size_t)n);
    for (int i = 0; i < n; i++) msgpack_pack_uint64(&m->pk, v[i]);
}

void nn_meta_intv(nn_meta *m, const char *k, int n, const int *v)
{
    key(m, k);
    msgpack_pack_array(&m->pk, (size_t)n);
    for (int i = 0; i < n; i++) msgpack_pack_int(&m->pk, v[i]);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not valid. */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    uint32_t cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) cp = cp << 6 | (s[i] & 0x3f);
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Invalid UTF-8 becomes U+FFFD, so the output is always valid JSON. */
void nn_json_string(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = utf8_length((const unsigned char *)s + i, len - i);
            if (k) fwrite(s + i, 1, k, out), i += k - 1;
            else fputs("\\ufffd", out);
        } else if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

/* JSON has no NaN or infinity: they print as null. */
void nn_json_number(FILE *out, double v)
{
    if (isfinite(v)) fprintf(out, "%.9g", v);
    else fputs("null", out);
}

/* in_key: inside a non-string map key, which is already being printed as one JSON string:
 * nested keys are written as they are, so nothing is escaped twice (which would make the
 * output grow exponentially with the nesting). */
static void json_object(FILE *out, const msgpack_object *o, int in_key)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: fputs("null", out); break;
    case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", out); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(out, "%llu", (unsigned long long)o->via.u64); break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(out, "%lld", (long long)o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        if (isfinite(o->via.f64)) fprintf(out, "%.17g", o->via.f64);
        else fputs("null", out);
        break;
    case MSGPACK_OBJECT_STR: nn_json_string(out, o->via.str.ptr, o->via.str.size); break;
    case MSGPACK_OBJECT_BIN: fprintf(out, "{\"bin\":%u}", o->via.bin.size); break;
    case MSGPACK_OBJECT_EXT: fprintf(out, "{\"ext\":%d,\"size\":%u}", o->via.ext.type, o->via.ext.size); break;
    case MSGPACK_OBJECT_ARRAY:
        fputc('[', out);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            if (i) fputc(',', out);
            json_object(out, &o->via.array.ptr[i], in_key);
        }
        fputc(']', out);
        break;
    case MSGPACK_OBJECT_MAP:
        fputc('{', out);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (i) fputc(',', out);
            if (k->type == MSGPACK_OBJECT_STR || in_key) json_object(out, k, in_key);
            else {
                /* JSON keys are strings: print a non-string key as the JSON of it, quoted. */
                char *text = NULL;
                size_t len = 0;
                FILE *mem = open_memstream(&text, &len);
                json_object(mem, k, 1);
                fclose(mem);
                nn_json_string(out, text, len);
                free(text);
            }
            fputc(':', out);
            json_object(out, &o->via.map.ptr[i].val, in_key);
        }
        fputc('}', out);
        break;
    }
}

int nn_json_packed(FILE *out, const void *packed, size_t len)
{
    if (!len) {
        fputs("{}", out);
        return 0;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = msgpack_unpack_next(&up, packed, len, &off) == MSGPACK_UNPACK_SUCCESS ? 0 : -1;
    if (rc == 0) json_object(out, &up.data, 0);
    msgpack_unpacked_destroy(&up);
    return rc;
}

static int lookup(const void *packed, size_t len, const char *key, msgpack_unpacked *up,
                  const msgpack_object **out)
{
    size_t off = 0, n = strlen(key);
    msgpack_unpacked_init(up);
    if (!packed || msgpack_unpack_next(up, packed, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        up->data.type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < up->data.via.map.size; i++) {
        const msgpack_object *k = &up->data.via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, key, n)) {
            *out = &up->data.via.map.ptr[i].val;
            return 0;
        }
    }
    return -1;
}

int nn_meta_get_double(const void *packed, size_t len, const char *key, double *out)
{
    msgpack_unpacked up;
    const msgpack_object *o;
    int rc = lookup(packed, len, key, &up, &o);
    if (rc == 0) {
        if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) *out = o->via.f64;
        else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) *out = (double)o->via.u64;
        else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) *out = (double)o->via.i64;
        else rc = -1;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

int nn_meta_get_u64(const void *packed, size_t len, const char *key, uint64_t *out)
{
    msgpack_unpacked up;
    const msgpack_object *o;
    int rc = lookup(packed, len, key, &up, &o);
    if (rc == 0 && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) *out = o->via.u64;
    else rc = -1;
    msgpack_unpacked_destroy(&up);
    return rc;
}

int nn_meta_get_str(const void *packed, size_t len, const char *key, char *out, size_t outlen)
{
    msgpack_unpacked up;
    const msgpack_object *o;
    int rc = lookup(packed, len, key, &up, &o);
    if (rc == 0 && o->type == MSGPACK_OBJECT_STR && o->via.str.size < outlen) {
        memcpy(out, o->via.str.ptr, o->via.str.size);
        out[o->via.str.size] = 0;
    } else
        rc = -1;
    msgpack_unpacked_destroy(&up);
    return rc;
}
