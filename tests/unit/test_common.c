/* Unit tests for common/: the stream reader and writer (round trips, truncation, corruption,
 * errors), the RNG, option parsing, the string counter, .npy output and JSON. Prints TAP. */
#include "nn.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static char tmpdir[] = "/tmp/nn-test-XXXXXX";

static char *path_in_tmp(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static unsigned char *slurp(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = nn_xmalloc(*n);
    if (fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return b;
}

/* ---- a random stream, kept in memory to compare against ---- */
typedef struct {
    nn_header h;
    size_t n;
    char **id, **label, **group;
    unsigned char **data;
} fixture;

static char *random_name(nn_rng *r)
{
    static const char *pieces[] = {"a", "Z", "0", "_", "-", ".", " ", "\t", "\xc3\xa9", "\xe2\x98\xba", "/"};
    size_t len = nn_rng_below(r, 4) == 0 ? 0 : nn_rng_below(r, 8) == 0 ? 200 + nn_rng_below(r, 200)
                                                                        : nn_rng_below(r, 40);
    char *s = nn_xmalloc(len * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *p = pieces[nn_rng_below(r, sizeof pieces / sizeof *pieces)];
        memcpy(s + n, p, strlen(p));
        n += strlen(p);
    }
    s[n] = 0;
    return s;
}

static void fixture_make(fixture *f, nn_rng *r)
{
    memset(f, 0, sizeof *f);
    static const char *kinds[] = {"image", "latent", "points", "x"};
    uint32_t shape[NN_MAX_DIMS];
    int ndim = 1 + (int)nn_rng_below(r, 4);
    for (int i = 0; i < ndim; i++) shape[i] = 1 + (uint32_t)nn_rng_below(r, 5);
    if (nn_rng_below(r, 5) == 0) ndim = 1, shape[0] = 784;
    char err[256];
    if (nn_header_set(&f->h, kinds[nn_rng_below(r, 4)], nn_rng_below(r, 2) ? NN_F32 : NN_U8,
                      ndim, shape, err, sizeof err) != 0)
        abort();
    if (nn_rng_below(r, 2)) {
        nn_meta *m = nn_meta_new();
        char *v = random_name(r);
        nn_meta_str(m, "note", v);
        nn_meta_int(m, "seed", (long long)nn_rng_below(r, 1000) - 500);
        nn_meta_double(m, "ratio", nn_rng_uniform(r));
        nn_meta_finish(m, &f->h);
        free(v);
    }
    f->n = nn_rng_below(r, 4) == 0 ? 0 : nn_rng_below(r, 40);
    f->id = nn_xcalloc(f->n + 1, sizeof(char *));
    f->label = nn_xcalloc(f->n + 1, sizeof(char *));
    f->group = nn_xcalloc(f->n + 1, sizeof(char *));
    f->data = nn_xcalloc(f->n + 1, sizeof(unsigned char *));
    for (size_t i = 0; i < f->n; i++) {
        f->id[i] = random_name(r);
        f->label[i] = random_name(r);
        f->group[i] = random_name(r);
        f->data[i] = nn_xmalloc(f->h.nbytes);
        for (size_t j = 0; j < f->h.nbytes; j++) f->data[i][j] = (unsigned char)nn_rng_u64(r);
    }
}

static void fixture_free(fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->id[i]);
        free(f->label[i]);
        free(f->group[i]);
        free(f->data[i]);
    }
    free(f->id);
    free(f->label);
    free(f->group);
    free(f->data);
    nn_header_free(&f->h);
}

static int fixture_write(const fixture *f, const char *path)
{
    char err[640];
    nn_writer *w = nn_writer_open(path, err, sizeof err);
    if (!w || nn_write_header(w, &f->h) != 0) return -1;
    for (size_t i = 0; i < f->n; i++)
        if (nn_write_record(w, f->id[i], f->label[i], f->group[i], f->data[i]) != 0) return -1;
    return nn_writer_close(w);
}

/* Reads one stream from r and compares it with f; 0 if equal. */
static int fixture_compare(const fixture *f, nn_reader *r)
{
    nn_header h = {0};
    nn_record rec;
    int bad = nn_read_header(r, &h) != 1;
    if (!bad) {
        bad |= strcmp(h.kind, f->h.kind) != 0 || h.dtype != f->h.dtype || h.ndim != f->h.ndim ||
               memcmp(h.shape, f->h.shape, sizeof h.shape[0] * (size_t)h.ndim) != 0 ||
               h.meta_len != f->h.meta_len ||
               (h.meta_len && memcmp(h.meta, f->h.meta, h.meta_len) != 0);
    }
    size_t i = 0;
    int rc;
    while (!bad && (rc = nn_read_record(r, &rec)) == 1) {
        bad |= i >= f->n || strcmp(rec.id, f->id[i]) != 0 || strcmp(rec.label, f->label[i]) != 0 ||
               strcmp(rec.group, f->group[i]) != 0 || rec.nbytes != f->h.nbytes ||
               memcmp(rec.data, f->data[i], rec.nbytes) != 0 ||
               ((uintptr_t)rec.data % sizeof(float)) != 0;
        i++;
    }
    if (!bad) bad |= rc != 0 || i != f->n || nn_read_end(r) != 0;
    if (bad && *nn_reader_error(r)) printf("#   reader: %s\n", nn_reader_error(r));
    nn_header_free(&h);
    return bad ? -1 : 0;
}

/* Copies the stream in `src` to `dst` through the library: reader into writer. */
static int copy_stream(const char *src, const char *dst)
{
    char err[640];
    nn_reader *r = nn_reader_open(src, err, sizeof err);
    nn_header h = {0};
    if (!r || nn_read_header(r, &h) != 1) return -1;
    nn_writer *w = nn_writer_open(dst, err, sizeof err);
    nn_write_header(w, &h);
    nn_record rec;
    while (nn_read_record(r, &rec) == 1) nn_write_record(w, rec.id, rec.label, rec.group, rec.data);
    int rc = nn_writer_close(w);
    nn_reader_close(r);
    nn_header_free(&h);
    return rc;
}

static void test_round_trip_files(void)
{
    nn_rng r;
    nn_rng_seed(&r, 7);
    for (int t = 0; t < 200; t++) {
        fixture f;
        fixture_make(&f, &r);
        char *a = path_in_tmp("rt.nns"), *b = path_in_tmp("rt2.nns");
        CHECK(fixture_write(&f, a) == 0);
        char err[640];
        nn_reader *rd = nn_reader_open(a, err, sizeof err);
        CHECK(rd && fixture_compare(&f, rd) == 0);
        nn_reader_close(rd);
        /* Written again from what was read: the same bytes. */
        CHECK(copy_stream(a, b) == 0);
        size_t na, nb;
        unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
        CHECK(ba && bb && na == nb && memcmp(ba, bb, na) == 0);
        free(ba);
        free(bb);
        fixture_free(&f);
    }
}

/* The same streams through a real pipe, written and read one byte at a time. */
static void test_round_trip_pipe_bytewise(void)
{
    nn_rng r;
    nn_rng_seed(&r, 8);
    for (int t = 0; t < 30; t++) {
        fixture f;
        fixture_make(&f, &r);
        char *a = path_in_tmp("pipe.nns");
        CHECK(fixture_write(&f, a) == 0);
        size_t n;
        unsigned char *bytes = slurp(a, &n);
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            int ok = 1;
            for (size_t i = 0; i < n && ok; i++) ok = write(fds[1], bytes + i, 1) == 1;
            free(bytes);               /* valgrind checks the child too */
            fixture_free(&f);
            _exit(ok ? 0 : 1);
        }
        close(fds[1]);
        nn_reader *rd = nn_reader_fd(fds[0], "pipe");
        nn_reader_max_read(rd, 1);
        CHECK(fixture_compare(&f, rd) == 0);
        nn_reader_close(rd);
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(bytes);
        fixture_free(&f);
    }
}

/* Reads everything in buf as streams; returns 1 if it all reads cleanly, 0 on an error. */
static int read_all(const unsigned char *buf, size_t n, size_t max_read, char *err, size_t errlen)
{
    nn_reader *r = nn_reader_mem(buf, n, "mem");
    nn_reader_max_read(r, max_read);
    nn_header h = {0};
    nn_record rec;
    int rc, ok = 1;
    while (ok && (rc = nn_read_header(r, &h)) != 0) {
        if (rc < 0) { ok = 0; break; }
        while ((rc = nn_read_record(r, &rec)) == 1) {}
        if (rc < 0) ok = 0;
    }
    snprintf(err, errlen, "%s", nn_reader_error(r));
    nn_header_free(&h);
    nn_reader_close(r);
    return ok;
}

static unsigned char *small_stream(size_t *n, int count)
{
    fixture f;
    nn_rng r;
    nn_rng_seed(&r, 3);
    fixture_make(&f, &r);
    while (f.n < (size_t)count) {      /* enough records to cut inside and between */
        fixture_free(&f);
        fixture_make(&f, &r);
    }
    char *a = path_in_tmp("small.nns");
    fixture_write(&f, a);
    fixture_free(&f);
    return slurp(a, n);
}

static void test_every_truncation_is_an_error(void)
{
    size_t n;
    unsigned char *s = small_stream(&n, 3);
    char err[640];
    CHECK(read_all(s, n, 0, err, sizeof err) == 1);
    for (size_t len = 0; len < n; len++) {
        int ok = read_all(s, len, len % 3 == 0 ? 1 : 0, err, sizeof err);
        CHECK(!ok);
        CHECK(strncmp(err, "mem: ", 5) == 0);
        if (len == 0) CHECK(strstr(err, "empty input") != NULL);
        else CHECK(strstr(err, "truncated") != NULL);
        if (ok || (len && !strstr(err, "truncated"))) printf("#   at %zu: %s\n", len, err);
    }
    free(s);
}

/* Every single-byte corruption must end in a clean success or a clean error (no crash, and
 * under the sanitizers no bad access). */
static void test_corruption_never_crashes(void)
{
    size_t n;
    unsigned char *s = small_stream(&n, 3);
    unsigned char *c = nn_xmalloc(n);
    static const unsigned char patterns[] = {0xff, 0x01, 0x80, 0x00};
    char err[640];
    int errors = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < sizeof patterns; p++) {
            memcpy(c, s, n);
            c[i] = p == 3 ? 0 : c[i] ^ patterns[p];
            if (!read_all(c, n, 0, err, sizeof err)) {
                errors++;
                CHECK(strncmp(err, "mem: ", 5) == 0 && strlen(err) > 5);
            }
        }
    CHECK(errors > 0);
    free(c);
    free(s);
}

static void test_concatenated_streams_and_trailing_garbage(void)
{
    size_t n;
    unsigned char *s = small_stream(&n, 2);
    unsigned char *two = nn_xmalloc(2 * n + 3);
    memcpy(two, s, n);
    memcpy(two + n, s, n);
    char err[640];
    CHECK(read_all(two, 2 * n, 0, err, sizeof err) == 1);
    memcpy(two + n, "xyz", 3);
    CHECK(read_all(two, n + 3, 0, err, sizeof err) == 0);
    CHECK(strstr(err, "stream 2: not an nn-stream (bad magic") != NULL);
    nn_reader *r = nn_reader_mem(two, n + 3, "mem");
    nn_header h = {0};
    nn_record rec;
    CHECK(nn_read_header(r, &h) == 1);
    while (nn_read_record(r, &rec) == 1) {}
    CHECK(nn_read_end(r) == -1);
    CHECK(strcmp(nn_reader_error(r), "mem: unexpected data after the trailer") == 0);
    nn_reader_close(r);
    nn_header_free(&h);
    free(two);
    free(s);
}

static void test_header_errors(void)
{
    char err[640];
    static const unsigned char not_map[] = {0x93, 1, 2, 3};
    CHECK(read_all(not_map, sizeof not_map, 0, err, sizeof err) == 0);
    CHECK(strcmp(err, "mem: not an nn-stream (bad magic: no header map starting with key "
                      "'nn-stream')") == 0);
    /* {"nn-stream": 1, "kind": "x", "dtype": "f64", "shape": [1]} */
    static const unsigned char f64[] = "\x84\xa9nn-stream\x01\xa4kind\xa1x\xa5" "dtype\xa3" "f64"
                                       "\xa5shape\x91\x01";
    CHECK(read_all(f64, sizeof f64 - 1, 0, err, sizeof err) == 0);
    CHECK(strcmp(err, "mem: header: unknown dtype 'f64' (expected f32 or u8)") == 0);
    static const unsigned char zero_dim[] = "\x84\xa9nn-stream\x01\xa4kind\xa1x\xa5" "dtype\xa2u8"
                                            "\xa5shape\x92\x01\x00";
    CHECK(read_all(zero_dim, sizeof zero_dim - 1, 0, err, sizeof err) == 0);
    CHECK(strcmp(err, "mem: header: shape dimension 2 is zero") == 0);
    static const unsigned char no_kind[] = "\x83\xa9nn-stream\x01\xa5" "dtype\xa2u8"
                                           "\xa5shape\x91\x01";
    CHECK(read_all(no_kind, sizeof no_kind - 1, 0, err, sizeof err) == 0);
    CHECK(strcmp(err, "mem: header: 'kind' is missing or not a string") == 0);
    /* A declared length far beyond the header limit is refused before any allocation. */
    static const unsigned char huge[] = "\x82\xa9nn-stream\x01\xa4kind\xdb\x7f\xff\xff\xff";
    CHECK(read_all(huge, sizeof huge - 1, 0, err, sizeof err) == 0);
    CHECK(strcmp(err, "mem: header: larger than 1048576 bytes") == 0);
}

static void test_writer_errors_and_atomicity(void)
{
    char err[640];
    nn_header h = {0};
    uint32_t shape[1] = {3};
    CHECK(nn_header_set(&h, "latent", NN_F32, 1, shape, err, sizeof err) == 0);
    float v[3] = {1, 2, 3};
    char *path = path_in_tmp("atomic.nns");
    nn_writer *w = nn_writer_open(path, err, sizeof err);
    CHECK(w && nn_write_header(w, &h) == 0 && nn_write_record(w, "a", "b", "c", v) == 0);
    struct stat st;
    CHECK(stat(path, &st) != 0);       /* not there until the close commits it */
    nn_writer_abort(w);
    CHECK(stat(path, &st) != 0);
    w = nn_writer_open(path, err, sizeof err);
    CHECK(w && nn_write_header(w, &h) == 0 && nn_write_record(w, "a", "b", "c", v) == 0);
    CHECK(nn_writer_close(w) == 0);
    CHECK(stat(path, &st) == 0 && st.st_size > 0);

    int fd = open("/dev/full", O_WRONLY);
    CHECK(fd >= 0);
    w = nn_writer_fd(fd, "/dev/full");
    nn_write_header(w, &h);
    nn_write_record(w, "a", "b", "c", v);
    CHECK(nn_writer_close(w) == -1);
    CHECK(strcmp(nn_writer_error(w), "/dev/full: write error: No space left on device") == 0);
    nn_writer_abort(w);
    close(fd);

    CHECK(nn_writer_open("/nonexistent-dir/x.nns", err, sizeof err) == NULL);
    CHECK(strcmp(err, "/nonexistent-dir/x.nns: cannot create: No such file or directory") == 0);
    nn_header_free(&h);
}

static void test_header_set_and_compatible(void)
{
    char err[256];
    nn_header a = {0}, b = {0};
    uint32_t s1[3] = {28, 28, 1}, s2[3] = {64, 64, 1}, big[2] = {65536, 65536};
    CHECK(nn_header_set(&a, "image", NN_F32, 3, s1, err, sizeof err) == 0);
    CHECK(a.count == 784 && a.nbytes == 3136);
    CHECK(nn_header_set(&b, "image", NN_F32, 3, s2, err, sizeof err) == 0);
    CHECK(nn_header_compatible(&a, &b, err, sizeof err) == -1);
    CHECK(strcmp(err, "shape 64x64x1 differs from 28x28x1") == 0);
    CHECK(nn_header_set(&b, "image", NN_U8, 3, s1, err, sizeof err) == 0);
    CHECK(nn_header_compatible(&a, &b, err, sizeof err) == -1);
    CHECK(strcmp(err, "dtype u8 differs from f32") == 0);
    CHECK(nn_header_set(&b, "image", NN_F32, 2, big, err, sizeof err) == -1);
    CHECK(strcmp(err, "a record would exceed 1073741824 bytes") == 0);
    CHECK(nn_header_set(&b, "", NN_F32, 3, s1, err, sizeof err) == -1);
}

static void test_rng(void)
{
    nn_rng r, r2;
    nn_rng_seed(&r, 42);
    /* xoshiro256** after splitmix64(42), from an independent Python implementation. */
    static const uint64_t expect[4] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                       0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
    for (int i = 0; i < 4; i++) CHECK(nn_rng_u64(&r) == expect[i]);
    nn_rng_seed(&r, 5);
    nn_rng_seed(&r2, 5);
    double sum = 0, sumsq = 0;
    int hist[7] = {0}, n = 200000;
    for (int i = 0; i < n; i++) {
        double x = nn_rng_normal(&r);
        CHECK(x == nn_rng_normal(&r2));
        sum += x;
        sumsq += x * x;
        uint64_t k = nn_rng_below(&r, 7);
        if (k < 7) hist[k]++;
        else CHECK(k < 7);
        double u = nn_rng_uniform(&r);
        if (!(u >= 0 && u < 1)) CHECK(u >= 0 && u < 1);
        nn_rng_below(&r2, 7);
        nn_rng_uniform(&r2);
    }
    CHECK(fabs(sum / n) < 0.01);
    CHECK(fabs(sumsq / n - 1) < 0.02);
    for (int k = 0; k < 7; k++) CHECK(abs(hist[k] - n / 7) < n / 7 / 20);
    size_t v[100], seen[100] = {0};
    for (size_t i = 0; i < 100; i++) v[i] = i;
    nn_rng_shuffle(&r, v, 100);
    int moved = 0;
    for (size_t i = 0; i < 100; i++) seen[v[i]]++, moved += v[i] != i;
    for (size_t i = 0; i < 100; i++) CHECK(seen[i] == 1);
    CHECK(moved > 50);
}

static void test_options(void)
{
    static const nn_opt opts[] = {
        {"head", 'n', 1, "N", ""}, {"to", 0, 2, "F P", ""}, {"json", 'j', 0, NULL, ""}, {0}};
    char *argv[] = {"prog", "a", "--head=5", "-n", "3", "-n7", "--to", "npy", "out",
                    "-", "-j", "--", "--json", NULL};
    nn_opt_parser p;
    nn_opt_init(&p, opts, "prog", "", 13, argv);
    int k, heads = 0, json = 0;
    const char *head_vals[3] = {0}, *to[2] = {0};
    while ((k = nn_opt_next(&p)) >= 0) {
        if (k == 0 && heads < 3) head_vals[heads++] = p.arg[0];
        if (k == 1) to[0] = p.arg[0], to[1] = p.arg[1];
        if (k == 2) json++;
    }
    CHECK(heads == 3 && strcmp(head_vals[0], "5") == 0 && strcmp(head_vals[1], "3") == 0 &&
          strcmp(head_vals[2], "7") == 0);
    CHECK(to[0] && strcmp(to[0], "npy") == 0 && strcmp(to[1], "out") == 0);
    CHECK(json == 1);
    CHECK(p.npos == 3 && strcmp(p.pos[0], "a") == 0 && strcmp(p.pos[1], "-") == 0 &&
          strcmp(p.pos[2], "--json") == 0);
    nn_opt_free(&p);
    CHECK(nn_parse_int("--n", "42", 0, 100) == 42);
    CHECK(nn_parse_double("--x", "0.25", 0, 1) == 0.25);
}

static void test_strcount(void)
{
    nn_strcount c = {0};
    char key[32];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf(key, sizeof key, "k%d", i);
            nn_strcount_add(&c, key, (uint64_t)i);
        }
    CHECK(c.n == 1000);
    CHECK(nn_strcount_get(&c, "k999") == 2997 && nn_strcount_get(&c, "k0") == 0);
    CHECK(nn_strcount_get(&c, "nope") == 0);
    CHECK(strcmp(c.keys[c.order[0]], "k0") == 0 && strcmp(c.keys[c.order[999]], "k999") == 0);
    nn_strcount_free(&c);
}

static void test_npy(void)
{
    char err[640];
    nn_header h = {0};
    uint32_t shape[2] = {2, 3};
    nn_header_set(&h, "image", NN_F32, 2, shape, err, sizeof err);
    char *path = path_in_tmp("x.npy");
    nn_npy *n = nn_npy_create(path, &h, err, sizeof err);
    CHECK(n != NULL);
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {-1, -2, -3, -4, -5, -6};
    CHECK(nn_npy_append(n, a) == 0 && nn_npy_append(n, b) == 0);
    CHECK(nn_npy_close(n, err, sizeof err) == 0);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    CHECK(bytes && memcmp(bytes, "\x93NUMPY\x01\x00", 8) == 0);
    size_t hlen = bytes[8] | (size_t)bytes[9] << 8;
    CHECK((10 + hlen) % 64 == 0 && bytes[10 + hlen - 1] == '\n');
    CHECK(strncmp((char *)bytes + 10,
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", 62) == 0);
    CHECK(len == 10 + hlen + 48);
    CHECK(memcmp(bytes + 10 + hlen, a, 24) == 0 && memcmp(bytes + 10 + hlen + 24, b, 24) == 0);
    free(bytes);
    nn_header_free(&h);
}

static void test_meta_json(void)
{
    nn_header h = {0};
    nn_meta *m = nn_meta_new();
    nn_meta_str(m, "program", "nn-\"x\"\n");
    nn_meta_int(m, "n", -3);
    nn_meta_double(m, "r", 0.5);
    char *argv[] = {"a", "b"};
    nn_meta_strv(m, "argv", 2, argv);
    nn_meta_packed(m, "input", NULL, 0);
    nn_meta_finish(m, &h);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(nn_json_packed(f, h.meta, h.meta_len) == 0);
    nn_json_number(f, NAN);
    fclose(f);
    CHECK(strcmp(text, "{\"program\":\"nn-\\\"x\\\"\\n\",\"n\":-3,\"r\":0.5,\"argv\":[\"a\",\"b\"],"
                       "\"input\":{}}null") == 0);
    if (cur_failed) printf("#   got %s\n", text);
    free(text);
    nn_header_free(&h);
}

int main(int argc, char **argv)
{
    (void)argc;
    nn_init(argv[0]);
    if (!mkdtemp(tmpdir)) return 1;
    run("round trip through files, rewritten byte for byte", test_round_trip_files);
    run("round trip through a pipe one byte at a time", test_round_trip_pipe_bytewise);
    run("every truncation is an error naming the cause", test_every_truncation_is_an_error);
    run("single-byte corruptions never crash", test_corruption_never_crashes);
    run("concatenated streams; data after the trailer", test_concatenated_streams_and_trailing_garbage);
    run("header errors", test_header_errors);
    run("writer: atomic files and write errors", test_writer_errors_and_atomicity);
    run("header shapes and compatibility", test_header_set_and_compatible);
    run("rng: reference values, determinism, distribution", test_rng);
    run("option parsing", test_options);
    run("string counter", test_strcount);
    run("npy output", test_npy);
    run("metadata and JSON", test_meta_json);
    int status = tap_done();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) return 1;
    return status;
}
