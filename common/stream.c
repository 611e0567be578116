/* The nn-stream reader and writer (format: man/man5/nn-stream.5).
 *
 * The reader keeps one buffer that holds at most one frame plus one read's worth of bytes, so
 * memory stays constant however long the stream. Frame sizes are found by scanning MessagePack
 * type bytes before anything is decoded: a frame is only decoded once it is wholly in the
 * buffer, and a declared length can never make us allocate more than the input provides. */
#include "nn.h"

#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tensors are little-endian in the stream and used in place: port nn_read_record first"
#endif

#define IO_CHUNK (256u << 10)
#define MAX_TRAILER_BYTES 4096u
/* A stream starts with a fixmap whose first key is this fixstr: 11 bytes to recognise it by. */
static const char MAGIC_KEY[] = "\xa9nn-stream";
#define MAGIC_LEN (1 + sizeof MAGIC_KEY - 1)

enum { EXPECT_HEADER, IN_RECORDS, AFTER_TRAILER };

struct nn_reader {
    char *name;
    int fd, own_fd;
    nn_zpipe *zp;                     /* ZeroMQ source, or NULL */
    int timed_out;                    /* the ZeroMQ source went quiet: taken as the end */
    const unsigned char *mem;         /* memory source when fd < 0 and zp is NULL */
    size_t memlen, mempos;
    unsigned char *buf;
    size_t cap, beg, end;             /* unread bytes are buf[beg, end) */
    size_t max_read;                  /* 0, or a limit on each read (tests) */
    int eof;
    int state;
    uint64_t nrec, nstreams;
    nn_header hdr;
    char *names;                      /* id, label and group of the current record */
    size_t names_cap;
    void *data;                       /* aligned copy of the current tensor */
    size_t data_cap;
    char err[640];
};

const char *nn_dtype_name(nn_dtype d) { return d == NN_F32 ? "f32" : "u8"; }
size_t nn_dtype_size(nn_dtype d) { return d == NN_F32 ? 4 : 1; }

int nn_header_set(nn_header *h, const char *kind, nn_dtype dtype, int ndim,
                  const uint32_t *shape, char *err, size_t errlen)
{
    size_t klen = strlen(kind);
    if (klen == 0 || klen > NN_KIND_MAX) {
        snprintf(err, errlen, "kind must be 1 to %d bytes", NN_KIND_MAX);
        return -1;
    }
    if (ndim < 1 || ndim > NN_MAX_DIMS) {
        snprintf(err, errlen, "shape must have 1 to %d dimensions, not %d", NN_MAX_DIMS, ndim);
        return -1;
    }
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            snprintf(err, errlen, "shape dimension %d is zero", i + 1);
            return -1;
        }
        if (count > NN_MAX_RECORD_BYTES / shape[i]) count = (size_t)NN_MAX_RECORD_BYTES + 1;
        else count *= shape[i];
    }
    if (count > NN_MAX_RECORD_BYTES / nn_dtype_size(dtype)) {
        snprintf(err, errlen, "a record would exceed %u bytes", NN_MAX_RECORD_BYTES);
        return -1;
    }
    memcpy(h->kind, kind, klen + 1);
    h->dtype = dtype;
    h->ndim = ndim;
    memcpy(h->shape, shape, (size_t)ndim * sizeof *shape);
    h->count = count;
    h->nbytes = count * nn_dtype_size(dtype);
    if (!h->version) h->version = NN_STREAM_VERSION;
    return 0;
}

void nn_header_copy(nn_header *dst, const nn_header *src)
{
    *dst = *src;
    if (src->meta) dst->meta = memcpy(nn_xmalloc(src->meta_len), src->meta, src->meta_len);
}

void nn_header_free(nn_header *h)
{
    free(h->meta);
    h->meta = NULL;
    h->meta_len = 0;
}

void nn_shape_str(const nn_header *h, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < h->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? "x%u" : "%u", h->shape[i]);
}

int nn_header_compatible(const nn_header *a, const nn_header *b, char *err, size_t errlen)
{
    char sa[128], sb[128];
    nn_shape_str(a, sa, sizeof sa);
    nn_shape_str(b, sb, sizeof sb);
    if (strcmp(a->kind, b->kind) != 0)
        snprintf(err, errlen, "kind '%s' differs from '%s'", b->kind, a->kind);
    else if (a->dtype != b->dtype)
        snprintf(err, errlen, "dtype %s differs from %s", nn_dtype_name(b->dtype),
                 nn_dtype_name(a->dtype));
    else if (strcmp(sa, sb) != 0)
        snprintf(err, errlen, "shape %s differs from %s", sb, sa);
    else
        return 0;
    return -1;
}

/* ---------------------------------------------------------------- reader: input buffer */

static nn_reader *reader_new(const char *name)
{
    nn_reader *r = nn_xcalloc(1, sizeof *r);
    r->name = nn_xstrdup(name);
    r->fd = -1;
    r->cap = IO_CHUNK;
    r->buf = nn_xmalloc(r->cap);
    return r;
}

nn_reader *nn_reader_fd(int fd, const char *name)
{
    nn_reader *r = reader_new(name);
    r->fd = fd;
    return r;
}

nn_reader *nn_reader_mem(const void *data, size_t size, const char *name)
{
    nn_reader *r = reader_new(name);
    r->mem = data;
    r->memlen = size;
    return r;
}

nn_reader *nn_reader_open(const char *spec, char *err, size_t errlen)
{
    if (strcmp(spec, "-") == 0) return nn_reader_fd(STDIN_FILENO, "-");
    if (nn_is_zmq(spec)) {
        nn_zpipe *zp = nn_zpipe_open(spec, 0, err, errlen);
        if (!zp) return NULL;
        nn_reader *r = reader_new(spec);
        r->zp = zp;
        return r;
    }
    int fd = open(spec, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", spec, strerror(errno));
        return NULL;
    }
    nn_reader *r = nn_reader_fd(fd, spec);
    r->own_fd = 1;
    return r;
}

void nn_reader_close(nn_reader *r)
{
    if (!r) return;
    if (r->own_fd) close(r->fd);
    nn_zpipe_close(r->zp, 0);
    nn_header_free(&r->hdr);
    free(r->name);
    free(r->buf);
    free(r->names);
    free(r->data);
    free(r);
}

void nn_reader_max_read(nn_reader *r, size_t n) { r->max_read = n; }
const char *nn_reader_error(const nn_reader *r) { return r->err; }
const char *nn_reader_name(const nn_reader *r) { return r->name; }
uint64_t nn_reader_records(const nn_reader *r) { return r->nrec; }
uint64_t nn_reader_streams(const nn_reader *r) { return r->nstreams; }

/* The stream being read, counting from 1, when the input holds several. */
static uint64_t current_stream(const nn_reader *r)
{
    return r->state == IN_RECORDS ? r->nstreams : r->nstreams + 1;
}

__attribute__((format(printf, 2, 3))) static int fail(nn_reader *r, const char *fmt, ...)
{
    int n = snprintf(r->err, sizeof r->err, "%s: ", r->name);
    if (current_stream(r) > 1)
        n += snprintf(r->err + n, sizeof r->err - (size_t)n, "stream %llu: ",
                      (unsigned long long)current_stream(r));
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
    va_end(ap);
    if (r->timed_out && (size_t)n < sizeof r->err)
        snprintf(r->err + n, sizeof r->err - (size_t)n,
                 " (nothing received for %g s: the sender stopped or vanished; NN_ZMQ_TIMEOUT)",
                 nn_zmq_timeout());
    return -1;
}

static ssize_t source_read(nn_reader *r, void *dst, size_t n)
{
    if (r->zp) return nn_zpipe_read(r->zp, dst, n);
    if (r->fd >= 0) return read(r->fd, dst, n);
    size_t k = r->memlen - r->mempos < n ? r->memlen - r->mempos : n;
    memcpy(dst, r->mem + r->mempos, k);
    r->mempos += k;
    return (ssize_t)k;
}

/* Makes at least `need` unread bytes available: 1, or 0 if the input ends first, or -1 on a
 * read error (message set). */
static int fill(nn_reader *r, size_t need)
{
    while (r->end - r->beg < need) {
        if (r->eof) return 0;
        if (r->cap - r->beg < need || r->end == r->cap) {
            memmove(r->buf, r->buf + r->beg, r->end - r->beg);
            r->end -= r->beg;
            r->beg = 0;
        }
        if (r->cap < need) {
            r->cap = need > 2 * r->cap ? need : 2 * r->cap;
            r->buf = nn_xrealloc(r->buf, r->cap);
        }
        size_t want = r->cap - r->end;
        if (r->max_read && want > r->max_read) want = r->max_read;
        ssize_t k = source_read(r, r->buf + r->end, want);
        if (k < 0 && r->zp && errno == ETIMEDOUT) {
            r->timed_out = 1;       /* the messages then name the timeout */
            k = 0;
        }
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail(r, "read error: %s", strerror(errno));
        }
        if (k == 0) r->eof = 1;
        r->end += (size_t)k;
    }
    return 1;
}

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* Size in bytes of the MessagePack object at offset off of the unread bytes, without decoding
 * it: 1 and *size set; 0 truncated; -1 read error; -2 invalid; -3 larger than limit. */
static int scan_object(nn_reader *r, size_t off, size_t limit, size_t *size)
{
    static const unsigned char fixed[32] = {
        /* 0xc0.. */ 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 5, 9, 2, 3, 5, 9,
        /* 0xd0.. */ 2, 3, 5, 9, 3, 4, 6, 10, 18, 0, 0, 0, 0, 0, 0, 0};
    size_t pos = off;
    uint64_t pending = 1;          /* objects still to skip */
    while (pending > 0) {
        pending--;
        int rc;
        if (pos + 1 > off + limit) return -3;
        if ((rc = fill(r, pos + 1)) <= 0) return rc;
        unsigned b = r->buf[r->beg + pos];
        size_t head = 1, body = 0;
        uint64_t children = 0;
        int lenbytes = 0;
        if (b <= 0x7f || b >= 0xe0) head = 1;
        else if (b <= 0x8f) children = 2 * (b & 0x0f);
        else if (b <= 0x9f) children = b & 0x0f;
        else if (b <= 0xbf) body = b & 0x1f;
        else if (b == 0xc4 || b == 0xd9) lenbytes = 1;
        else if (b == 0xc5 || b == 0xda) lenbytes = 2;
        else if (b == 0xc6 || b == 0xdb) lenbytes = 4;
        else if (b >= 0xc7 && b <= 0xc9) lenbytes = 1 << (b - 0xc7);   /* ext: length, type */
        else if (b == 0xdc || b == 0xde) lenbytes = 2;
        else if (b == 0xdd || b == 0xdf) lenbytes = 4;
        else if (fixed[b - 0xc0]) head = fixed[b - 0xc0];
        else return -2;                                                /* 0xc1 */
        if (lenbytes) {
            if (pos + 1 + (size_t)lenbytes > off + limit) return -3;
            if ((rc = fill(r, pos + 1 + (size_t)lenbytes)) <= 0) return rc;
            uint64_t n = be(r->buf + r->beg + pos + 1, lenbytes);
            head = 1 + (size_t)lenbytes;
            if (b >= 0xc7 && b <= 0xc9) head++, body = n;
            else if (b == 0xdc || b == 0xdd) children = n;
            else if (b == 0xde || b == 0xdf) children = 2 * n;
            else body = n;
            if (body > limit) return -3;
        }
        pending += children;
        pos += head + body;
        if (pos > off + limit) return -3;
    }
    int rc = fill(r, pos);          /* the last object's body */
    if (rc <= 0) return rc;
    *size = pos - off;
    return 1;
}

/* ---------------------------------------------------------------- reader: frames */

static const char *type_name(unsigned b)
{
    if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return "an integer";
    if (b <= 0x8f || b == 0xde || b == 0xdf) return "a map";
    if (b <= 0x9f || b == 0xdc || b == 0xdd) return "an array";
    if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) return "a string";
    if (b == 0xc0) return "nil";
    if (b == 0xc2 || b == 0xc3) return "a boolean";
    if (b >= 0xc4 && b <= 0xc6) return "a bin";
    if (b == 0xca || b == 0xcb) return "a float";
    if (b == 0xc1) return "the never-used byte 0xc1";
    return "an ext";
}

static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
            memcmp(k->via.str.ptr, key, klen) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static int str_is(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* Scans a whole map frame and decodes it with msgpack-c: 1, 0 truncated, -1 error set. */
static int decode_frame(nn_reader *r, size_t limit, const char *what, msgpack_unpacked *out,
                        size_t *size)
{
    int rc = scan_object(r, 0, limit, size);
    if (rc == 0) return 0;
    if (rc == -1) return -1;
    if (rc == -2) return fail(r, "%s: not valid MessagePack", what);
    if (rc == -3) return fail(r, "%s: larger than %zu bytes", what, limit);
    size_t off = 0;
    msgpack_unpacked_init(out);
    if (msgpack_unpack_next(out, (const char *)r->buf + r->beg, *size, &off) !=
            MSGPACK_UNPACK_SUCCESS ||
        out->data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(out);
        return fail(r, "%s: not valid MessagePack", what);
    }
    return 1;
}

static int parse_header(nn_reader *r, const msgpack_object *m, nn_header *h)
{
    const msgpack_object *v = map_get(m, "nn-stream");
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 == 0)
        return fail(r, "header: 'nn-stream' is not a positive version number");
    if (v->via.u64 > NN_STREAM_VERSION)
        return fail(r, "header: stream version %llu is newer than this program supports (%d)",
                    (unsigned long long)v->via.u64, NN_STREAM_VERSION);
    const msgpack_object *kind = map_get(m, "kind"), *dtype = map_get(m, "dtype"),
                         *shape = map_get(m, "shape"), *meta = map_get(m, "meta");
    if (!kind || kind->type != MSGPACK_OBJECT_STR)
        return fail(r, "header: 'kind' is missing or not a string");
    if (!dtype || dtype->type != MSGPACK_OBJECT_STR)
        return fail(r, "header: 'dtype' is missing or not a string");
    if (!shape || shape->type != MSGPACK_OBJECT_ARRAY)
        return fail(r, "header: 'shape' is missing or not an array");
    if (meta && meta->type != MSGPACK_OBJECT_MAP)
        return fail(r, "header: 'meta' is not a map");
    nn_dtype dt;
    if (str_is(dtype, "f32")) dt = NN_F32;
    else if (str_is(dtype, "u8")) dt = NN_U8;
    else
        return fail(r, "header: unknown dtype '%.*s' (expected f32 or u8)",
                    (int)(dtype->via.str.size > 32 ? 32 : dtype->via.str.size),
                    dtype->via.str.ptr);
    if (kind->via.str.size == 0 || kind->via.str.size > NN_KIND_MAX ||
        memchr(kind->via.str.ptr, 0, kind->via.str.size))
        return fail(r, "header: 'kind' must be 1 to %d bytes without NUL", NN_KIND_MAX);
    uint32_t dims[NN_MAX_DIMS];
    uint32_t ndim = shape->via.array.size;
    if (ndim < 1 || ndim > NN_MAX_DIMS)
        return fail(r, "header: shape must have 1 to %d dimensions, not %u", NN_MAX_DIMS, ndim);
    for (uint32_t i = 0; i < ndim; i++) {
        const msgpack_object *d = &shape->via.array.ptr[i];
        if (d->type != MSGPACK_OBJECT_POSITIVE_INTEGER || d->via.u64 > UINT32_MAX)
            return fail(r, "header: shape dimension %u is not a positive integer", i + 1);
        dims[i] = (uint32_t)d->via.u64;
    }
    char kindz[NN_KIND_MAX + 1], why[128];
    memcpy(kindz, kind->via.str.ptr, kind->via.str.size);
    kindz[kind->via.str.size] = 0;
    nn_header_free(h);
    memset(h, 0, sizeof *h);
    h->version = (int)v->via.u64;
    if (nn_header_set(h, kindz, dt, (int)ndim, dims, why, sizeof why) != 0)
        return fail(r, "header: %s", why);
    if (meta && meta->via.map.size > 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_object(&pk, *meta);
        h->meta = nn_xmalloc(sb.size);
        memcpy(h->meta, sb.data, sb.size);
        h->meta_len = sb.size;
        msgpack_sbuffer_destroy(&sb);
    }
    return 1;
}

int nn_read_header(nn_reader *r, nn_header *h)
{
    if (r->state == IN_RECORDS) return fail(r, "internal error: header read inside a stream");
    int rc = fill(r, 1);
    if (rc < 0) return -1;
    if (rc == 0) {
        if (r->nstreams == 0 && r->timed_out) {
            snprintf(r->err, sizeof r->err, "%s: nothing received within %g s: is the sender "
                     "running? (NN_ZMQ_TIMEOUT)", r->name, nn_zmq_timeout());
            return -1;
        }
        if (r->nstreams == 0) return fail(r, "empty input: not an nn-stream");
        return 0;
    }
    rc = fill(r, MAGIC_LEN);
    if (rc < 0) return -1;
    const unsigned char *p = r->buf + r->beg;
    size_t have = r->end - r->beg < MAGIC_LEN ? r->end - r->beg : MAGIC_LEN;
    int magic_ok = (p[0] & 0xf0) == 0x80 && (p[0] & 0x0f) > 0 &&
                   memcmp(p + 1, MAGIC_KEY, have - 1) == 0;
    if (!magic_ok)
        return fail(r, "not an nn-stream (bad magic: no header map starting with key "
                       "'nn-stream')");
    if (rc == 0) return fail(r, "header: truncated");
    msgpack_unpacked up;
    size_t size;
    rc = decode_frame(r, NN_MAX_HEADER_BYTES, "header", &up, &size);
    if (rc == 0) return fail(r, "header: truncated");
    if (rc < 0) return -1;
    rc = parse_header(r, &up.data, &r->hdr);
    msgpack_unpacked_destroy(&up);
    if (rc < 0) return -1;
    r->beg += size;
    r->state = IN_RECORDS;
    r->nrec = 0;
    r->nstreams++;
    nn_header_free(h);
    nn_header_copy(h, &r->hdr);
    return 1;
}

static int read_trailer(nn_reader *r)
{
    msgpack_unpacked up;
    size_t size;
    int rc = decode_frame(r, MAX_TRAILER_BYTES, "trailer", &up, &size);
    if (rc == 0) return fail(r, "trailer: truncated");
    if (rc < 0) return -1;
    const msgpack_object *n = map_get(&up.data, "records");
    rc = 0;
    if (!n || n->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        rc = fail(r, "trailer: 'records' is missing or not a count");
    else if (n->via.u64 != r->nrec)
        rc = fail(r, "trailer: says %llu records, the stream has %llu",
                  (unsigned long long)n->via.u64, (unsigned long long)r->nrec);
    msgpack_unpacked_destroy(&up);
    if (rc < 0) return -1;
    r->beg += size;
    r->state = AFTER_TRAILER;
    return 0;
}

/* Reads the header of a str or bin at *off (either family, per `bin`): length in *len. */
static int field_at(nn_reader *r, size_t *off, int bin, size_t *len, const char *what)
{
    unsigned long long recno = (unsigned long long)r->nrec + 1;
    int rc = fill(r, *off + 1);
    if (rc <= 0) return rc;
    unsigned b = r->buf[r->beg + *off];
    int lenbytes;
    if (!bin && b >= 0xa0 && b <= 0xbf) {
        *len = b & 0x1f;
        *off += 1;
        return 1;
    }
    if (!bin && b >= 0xd9 && b <= 0xdb) lenbytes = 1 << (b - 0xd9);
    else if (bin && b >= 0xc4 && b <= 0xc6) lenbytes = 1 << (b - 0xc4);
    else
        return fail(r, "record %llu: %s is %s, not %s", recno, what, type_name(b),
                    bin ? "a bin (raw bytes)" : "a string");
    if ((rc = fill(r, *off + 1 + (size_t)lenbytes)) <= 0) return rc;
    *len = (size_t)be(r->buf + r->beg + *off + 1, lenbytes);
    *off += 1 + (size_t)lenbytes;
    return 1;
}

static void *grow(void *p, size_t *cap, size_t need)
{
    if (need <= *cap) return p;
    *cap = need > 2 * *cap ? need : 2 * *cap;
    free(p);
    return nn_xmalloc(*cap);
}

int nn_read_record(nn_reader *r, nn_record *rec)
{
    if (r->state == AFTER_TRAILER) return 0;
    if (r->state != IN_RECORDS) return fail(r, "internal error: record read before a header");
    unsigned long long recno = (unsigned long long)r->nrec + 1;
    int rc = fill(r, 1);
    if (rc < 0) return -1;
    if (rc == 0)
        return fail(r, "record %llu: truncated stream: input ends after %llu records with no "
                       "trailer", recno, recno - 1);
    unsigned b = r->buf[r->beg];
    if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf) return read_trailer(r);
    size_t off = 1, count;
    if ((b & 0xf0) == 0x90) count = b & 0x0f;
    else if (b == 0xdc || b == 0xdd) {
        int lenbytes = b == 0xdc ? 2 : 4;
        if ((rc = fill(r, 1 + (size_t)lenbytes)) <= 0) goto short_read;
        count = (size_t)be(r->buf + r->beg + 1, lenbytes);
        off += (size_t)lenbytes;
    } else
        return fail(r, "record %llu: expected a record (array) or the trailer (map), got %s",
                    recno, type_name(b));
    if (count != 4)
        return fail(r, "record %llu: a record is an array of 4 (id, label, group, tensor), "
                       "not of %zu", recno, count);
    static const char *names[3] = {"id", "label", "group"};
    size_t stroff[3], strlen_[3], total = 0, nbytes;
    for (int i = 0; i < 3; i++) {
        if ((rc = field_at(r, &off, 0, &strlen_[i], names[i])) <= 0) goto short_read;
        if (strlen_[i] > NN_MAX_NAME_BYTES)
            return fail(r, "record %llu: %s is longer than %u bytes", recno, names[i],
                        NN_MAX_NAME_BYTES);
        stroff[i] = off;
        off += strlen_[i];
        total += strlen_[i] + 1;
    }
    if ((rc = field_at(r, &off, 1, &nbytes, "tensor")) <= 0) goto short_read;
    if (nbytes != r->hdr.nbytes) {
        char shape[128];
        nn_shape_str(&r->hdr, shape, sizeof shape);
        return fail(r, "record %llu: tensor has %zu bytes, the header says %zu (%s %s)", recno,
                    nbytes, r->hdr.nbytes, shape, nn_dtype_name(r->hdr.dtype));
    }
    if ((rc = fill(r, off + nbytes)) <= 0) goto short_read;
    const unsigned char *p = r->buf + r->beg;
    r->names = grow(r->names, &r->names_cap, total);
    char *dst = r->names;
    const char **out[3] = {&rec->id, &rec->label, &rec->group};
    size_t *outlen[3] = {&rec->id_len, &rec->label_len, &rec->group_len};
    for (int i = 0; i < 3; i++) {
        if (memchr(p + stroff[i], 0, strlen_[i]))
            return fail(r, "record %llu: %s contains a NUL byte", recno, names[i]);
        memcpy(dst, p + stroff[i], strlen_[i]);
        dst[strlen_[i]] = 0;
        *out[i] = dst;
        *outlen[i] = strlen_[i];
        dst += strlen_[i] + 1;
    }
    r->data = grow(r->data, &r->data_cap, nbytes);
    memcpy(r->data, p + off, nbytes);
    rec->data = r->data;
    rec->nbytes = nbytes;
    r->beg += off + nbytes;
    r->nrec++;
    return 1;
short_read:
    if (rc < 0) return -1;
    return fail(r, "record %llu: truncated in the middle of the record", recno);
}

int nn_read_end(nn_reader *r)
{
    int rc = fill(r, 1);
    if (rc < 0) return -1;
    if (rc > 0) {
        /* Not fail(): the data does not belong to a next stream of ours. */
        snprintf(r->err, sizeof r->err, "%s: unexpected data after the trailer", r->name);
        return -1;
    }
    return 0;
}

nn_reader *nn_open_stream(const char *spec, nn_header *h)
{
    char err[640];
    nn_reader *r = nn_reader_open(spec, err, sizeof err);
    if (!r) nn_die("%s", err);
    if (nn_read_header(r, h) <= 0) nn_die("%s", nn_reader_error(r));
    return r;
}

int nn_next_record(nn_reader *r, nn_record *rec)
{
    int rc = nn_read_record(r, rec);
    if (rc < 0) nn_die("%s", nn_reader_error(r));
    return rc;
}

/* ---------------------------------------------------------------- writer */

struct nn_writer {
    char *name;
    int fd;
    nn_atomic file;
    int is_file;
    nn_zpipe *zp;                     /* a ZeroMQ endpoint instead of fd */
    int to_mem;                       /* into out (nn_writer_mem) instead of fd */
    unsigned char *out;
    size_t out_len, out_cap;
    unsigned char *buf;
    size_t cap, len;
    nn_header hdr;
    int state;
    int failed;
    uint64_t nrec;
    char err[640];
};

static nn_writer *writer_new(int fd, const char *name)
{
    nn_writer *w = nn_xcalloc(1, sizeof *w);
    w->name = nn_xstrdup(name);
    w->fd = fd;
    w->cap = IO_CHUNK;
    w->buf = nn_xmalloc(w->cap);
    w->file.fd = -1;
    return w;
}

nn_writer *nn_writer_fd(int fd, const char *name) { return writer_new(fd, name); }

/* A stage that dies sends the end mark: its reader learns at once that the stream is cut. */
static void zmq_writer_died(void *arg, const char *message)
{
    (void)message;
    nn_writer *w = arg;
    nn_zpipe_close(w->zp, 1);
    w->zp = NULL;
}

nn_writer *nn_writer_open(const char *spec, char *err, size_t errlen)
{
    if (strcmp(spec, "-") == 0) return writer_new(STDOUT_FILENO, "stdout");
    if (nn_is_zmq(spec)) {
        nn_zpipe *zp = nn_zpipe_open(spec, 1, err, errlen);
        if (!zp) return NULL;
        nn_writer *w = writer_new(-1, spec);
        w->zp = zp;
        nn_on_die(zmq_writer_died, w);
        return w;
    }
    nn_writer *w = writer_new(-1, spec);
    if (nn_atomic_open(&w->file, spec, err, errlen) != 0) {
        free(w->name);
        free(w->buf);
        free(w);
        return NULL;
    }
    w->fd = w->file.fd;
    w->is_file = 1;
    return w;
}

const char *nn_writer_error(const nn_writer *w) { return w->err; }
uint64_t nn_writer_records(const nn_writer *w) { return w->nrec; }

__attribute__((format(printf, 2, 3))) static int wfail(nn_writer *w, const char *fmt, ...)
{
    int n = snprintf(w->err, sizeof w->err, "%s: ", w->name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, sizeof w->err - (size_t)n, fmt, ap);
    va_end(ap);
    w->failed = 1;
    return -1;
}

static int write_out(nn_writer *w, const void *p, size_t n)
{
    if (w->to_mem) {
        if (w->out_cap - w->out_len < n) {
            w->out_cap = w->out_len + n > 2 * w->out_cap ? w->out_len + n : 2 * w->out_cap;
            w->out = nn_xrealloc(w->out, w->out_cap);
        }
        memcpy(w->out + w->out_len, p, n);
        w->out_len += n;
        return 0;
    }
    if (w->zp) {
        if (nn_zpipe_write(w->zp, p, n) == 0) return 0;
        if (errno == ETIMEDOUT)
            return wfail(w, "no reader took data for %g s: is it running? (NN_ZMQ_TIMEOUT)",
                         nn_zmq_timeout());
        return wfail(w, "send error: %s", strerror(errno));
    }
    if (nn_write_all(w->fd, p, n) != 0) return wfail(w, "write error: %s", strerror(errno));
    return 0;
}

static int flush(nn_writer *w)
{
    if (w->len && write_out(w, w->buf, w->len) != 0) return -1;
    w->len = 0;
    return 0;
}

static int put(nn_writer *w, const void *p, size_t n)
{
    if (w->len + n > w->cap && flush(w) != 0) return -1;
    if (n >= w->cap) return write_out(w, p, n);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return 0;
}

/* Type byte and big-endian length for a str (bin = 0) or bin (bin = 1) of n bytes. */
static size_t pack_len(unsigned char *out, int bin, size_t n)
{
    if (!bin && n < 32) {
        out[0] = (unsigned char)(0xa0 | n);
        return 1;
    }
    int lenbytes = n < 256 ? 1 : n < 65536 ? 2 : 4;
    out[0] = (unsigned char)((bin ? 0xc4 : 0xd9) + (lenbytes == 4 ? 2 : lenbytes - 1));
    for (int i = 0; i < lenbytes; i++) out[1 + i] = (unsigned char)(n >> (8 * (lenbytes - 1 - i)));
    return 1 + (size_t)lenbytes;
}

int nn_write_header(nn_writer *w, const nn_header *h)
{
    if (w->failed) return -1;
    if (w->state != EXPECT_HEADER) return wfail(w, "internal error: second header");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "nn-stream", 9);
    msgpack_pack_unsigned_int(&pk, NN_STREAM_VERSION);
    msgpack_pack_str_with_body(&pk, "kind", 4);
    msgpack_pack_str_with_body(&pk, h->kind, strlen(h->kind));
    msgpack_pack_str_with_body(&pk, "dtype", 5);
    const char *dt = nn_dtype_name(h->dtype);
    msgpack_pack_str_with_body(&pk, dt, strlen(dt));
    msgpack_pack_str_with_body(&pk, "shape", 5);
    msgpack_pack_array(&pk, (size_t)h->ndim);
    for (int i = 0; i < h->ndim; i++) msgpack_pack_unsigned_int(&pk, h->shape[i]);
    msgpack_pack_str_with_body(&pk, "meta", 4);
    if (h->meta_len) msgpack_sbuffer_write(&sb, (const char *)h->meta, h->meta_len);
    else msgpack_pack_map(&pk, 0);
    int rc = sb.size > NN_MAX_HEADER_BYTES ? wfail(w, "header: larger than %u bytes",
                                                   NN_MAX_HEADER_BYTES)
                                           : put(w, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    if (rc != 0) return -1;
    nn_header_copy(&w->hdr, h);
    w->state = IN_RECORDS;
    return 0;
}

int nn_write_record(nn_writer *w, const char *id, const char *label, const char *group,
                    const void *data)
{
    if (w->failed) return -1;
    if (w->state != IN_RECORDS) return wfail(w, "internal error: record outside a stream");
    unsigned char head[64];
    const char *s[3] = {id, label, group};
    size_t n = 0, len[3];
    head[n++] = 0x94;
    for (int i = 0; i < 3; i++) {
        len[i] = strlen(s[i]);
        if (len[i] > NN_MAX_NAME_BYTES)
            return wfail(w, "record %llu: '%.40s...' is longer than %u bytes",
                         (unsigned long long)w->nrec + 1, s[i], NN_MAX_NAME_BYTES);
    }
    n += pack_len(head + n, 0, len[0]);
    if (put(w, head, n) || put(w, id, len[0])) return -1;
    n = pack_len(head, 0, len[1]);
    if (put(w, head, n) || put(w, label, len[1])) return -1;
    n = pack_len(head, 0, len[2]);
    if (put(w, head, n) || put(w, group, len[2])) return -1;
    n = pack_len(head, 1, w->hdr.nbytes);
    if (put(w, head, n) || put(w, data, w->hdr.nbytes)) return -1;
    w->nrec++;
    return 0;
}

static void writer_free(nn_writer *w)
{
    free(w->out);
    nn_header_free(&w->hdr);
    free(w->name);
    free(w->buf);
    free(w);
}

static int put_trailer(nn_writer *w)
{
    unsigned char t[32] = {0x81, 0xa7, 'r', 'e', 'c', 'o', 'r', 'd', 's', 0xcf};
    for (int i = 0; i < 8; i++) t[10 + i] = (unsigned char)(w->nrec >> (56 - 8 * i));
    return put(w, t, 18);
}

int nn_writer_close(nn_writer *w)
{
    int rc = w->failed ? -1 : 0;
    if (rc == 0 && w->state != IN_RECORDS) rc = wfail(w, "internal error: no header written");
    if (rc == 0) rc = put_trailer(w);
    if (rc == 0) rc = flush(w);
    if (w->zp) {
        nn_cancel_on_die(zmq_writer_died, w);
        if (rc == 0 && nn_zpipe_close(w->zp, 0) != 0)
            rc = wfail(w, "the reader did not confirm the end of the stream within %g s "
                          "(NN_ZMQ_TIMEOUT)", nn_zmq_timeout());
        else if (rc != 0)
            nn_zpipe_close(w->zp, 1);
        w->zp = NULL;
    }
    if (w->is_file) {
        if (rc == 0) rc = nn_atomic_commit(&w->file, w->err, sizeof w->err);
        else nn_atomic_abort(&w->file);
    }
    if (rc != 0) return -1;   /* the caller reads the message, then frees with nn_writer_abort */
    writer_free(w);
    return 0;
}

void nn_writer_abort(nn_writer *w)
{
    if (!w) return;
    if (w->is_file && w->file.fd >= 0) nn_atomic_abort(&w->file);
    if (w->zp) {
        nn_cancel_on_die(zmq_writer_died, w);
        nn_zpipe_close(w->zp, 1);
    }
    writer_free(w);
}

nn_writer *nn_create_stream(const char *spec, const nn_header *h)
{
    char err[640];
    nn_writer *w = nn_writer_open(spec, err, sizeof err);
    if (!w) nn_die("%s", err);
    if (nn_write_header(w, h) != 0) nn_die("%s", nn_writer_error(w));
    return w;
}

void nn_put_record(nn_writer *w, const char *id, const char *label, const char *group,
                   const void *data)
{
    if (nn_write_record(w, id, label, group, data) != 0) nn_die("%s", nn_writer_error(w));
}

void nn_finish_stream(nn_writer *w)
{
    if (nn_writer_close(w) != 0) {
        char err[640];
        snprintf(err, sizeof err, "%s", nn_writer_error(w));
        nn_writer_abort(w);
        nn_die("%s", err);
    }
}

nn_writer *nn_writer_mem(const char *name)
{
    nn_writer *w = writer_new(-1, name);
    w->to_mem = 1;
    return w;
}

int nn_writer_close_mem(nn_writer *w, unsigned char **data, size_t *len)
{
    if (!w->to_mem) return wfail(w, "internal error: not a memory writer");
    unsigned char *out = NULL;
    size_t n = 0;
    int rc = w->failed ? -1 : 0;
    if (rc == 0 && w->state != IN_RECORDS) rc = wfail(w, "internal error: no header written");
    if (rc == 0) rc = put_trailer(w);
    if (rc == 0) rc = flush(w);
    if (rc != 0) return -1;
    out = w->out, n = w->out_len;
    w->out = NULL;
    writer_free(w);
    *data = out;
    *len = n;
    return 0;
}
