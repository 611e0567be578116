/* libFuzzer target for the nn-stream reader (common/stream.c), built and run by `make fuzz`.
 *
 * The input bytes are the stream itself, fed through nn_reader_mem, so every file made by
 * tests/bin/nn-mkstream (see fuzz/seed-corpus) is a meaningful seed as it is. The input's last
 * byte also picks how the reader is driven, so the same corpus covers every mode:
 *   last % 3       each source read limited to: 0 unlimited, 1 one byte, 2 seven bytes
 *                  (nn_reader_max_read: fuzzes the buffer refill logic in fill())
 *   (last / 3) % 2 0: a multi-stream consumer (loop nn_read_header until it returns 0)
 *                  1: a single-stream consumer (one stream, then nn_read_end)
 *
 * Only the nn_read_* functions that return codes are called: nn_open_stream/nn_next_record
 * (and anything else that calls nn_die) exit the process, which libFuzzer would report as a
 * crash. Every byte the reader hands out is touched so AddressSanitizer sees a bad pointer or
 * length, and the reader's documented contract is checked; a broken contract abort()s. */
#include "nn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Make UndefinedBehaviorSanitizer findings fatal (the fuzz build does not pass
 * -fno-sanitize-recover), so libFuzzer records them as crashes with a reproducer. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "halt_on_error=1:print_stacktrace=1"; }

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;
static volatile unsigned sink;     /* keeps the byte sums from being optimised away */

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_reader: contract broken: %s: ", #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull) {
        perror("fuzz_reader: /dev/null");
        exit(1);
    }
    return 0;
}

static unsigned touch(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++) s += b[i];
    return s;
}

/* After a -1: the message must be set and say which input it is about. */
static void check_error(const nn_reader *r)
{
    const char *e = nn_reader_error(r);
    CHECK(e != NULL, "nn_reader_error returned NULL");
    size_t n = strlen(e);
    CHECK(n > 0, "error set but the message is empty");
    CHECK(strncmp(e, "fuzz: ", 6) == 0, "message '%s' does not start with 'fuzz: '", e);
    CHECK(n > 6, "message '%s' says nothing after the name", e);
}

static void check_header(const nn_header *h)
{
    CHECK(h->version == NN_STREAM_VERSION, "version %d", h->version);
    size_t klen = strnlen(h->kind, sizeof h->kind);
    CHECK(klen > 0 && klen <= NN_KIND_MAX, "kind length %zu", klen);
    CHECK(h->dtype == NN_U8 || h->dtype == NN_F32, "dtype %d", (int)h->dtype);
    CHECK(h->ndim >= 1 && h->ndim <= NN_MAX_DIMS, "ndim %d", h->ndim);
    size_t count = 1;
    for (int i = 0; i < h->ndim; i++) {
        CHECK(h->shape[i] > 0, "shape[%d] is 0", i);
        count *= h->shape[i];
        CHECK(count <= NN_MAX_RECORD_BYTES, "count overflows at dim %d", i);
    }
    CHECK(h->count == count, "count %zu, shape says %zu", h->count, count);
    CHECK(h->nbytes == count * nn_dtype_size(h->dtype) && h->nbytes <= NN_MAX_RECORD_BYTES,
          "nbytes %zu for %zu %s values", h->nbytes, count, nn_dtype_name(h->dtype));
    CHECK((h->meta == NULL) == (h->meta_len == 0), "meta %p with meta_len %zu",
          (void *)h->meta, h->meta_len);
    char shape[128];
    nn_shape_str(h, shape, sizeof shape);
    sink += touch(shape, strlen(shape));
    if (h->meta) {
        sink += touch(h->meta, h->meta_len);
        /* The reader re-packs meta with msgpack-c, so it must be valid MessagePack. */
        CHECK(nn_json_packed(devnull, h->meta, h->meta_len) == 0, "stored meta is not valid "
              "MessagePack (%zu bytes)", h->meta_len);
    } else {
        CHECK(nn_json_packed(devnull, NULL, 0) == 0, "empty meta");
    }
}

static void check_record(const nn_header *h, const nn_record *rec)
{
    CHECK(rec->id && rec->label && rec->group, "a NULL name");
    CHECK(strlen(rec->id) == rec->id_len, "id_len %zu", rec->id_len);
    CHECK(strlen(rec->label) == rec->label_len, "label_len %zu", rec->label_len);
    CHECK(strlen(rec->group) == rec->group_len, "group_len %zu", rec->group_len);
    CHECK(rec->id_len <= NN_MAX_NAME_BYTES && rec->label_len <= NN_MAX_NAME_BYTES &&
              rec->group_len <= NN_MAX_NAME_BYTES, "a name longer than the limit");
    sink += touch(rec->id, rec->id_len + 1);
    sink += touch(rec->label, rec->label_len + 1);
    sink += touch(rec->group, rec->group_len + 1);
    CHECK(rec->nbytes == h->nbytes, "record has %zu bytes, header %zu", rec->nbytes, h->nbytes);
    CHECK(rec->data != NULL, "NULL tensor");
    CHECK((uintptr_t)rec->data % _Alignof(max_align_t) == 0, "tensor at %p is not aligned",
          rec->data);
    sink += touch(rec->data, rec->nbytes);
    if (h->dtype == NN_F32) {   /* read it as the stages do: floats in place */
        float s = 0;
        for (size_t i = 0; i < h->count; i++) s += rec->f32[i];
        sink += (s != s);
    } else {
        sink += rec->u8[h->count - 1];
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t read_sizes[3] = {0, 1, 7};
    unsigned mode = size ? data[size - 1] : 0;
    int single = (mode / 3) % 2;

    nn_reader *r = nn_reader_mem(data, size, "fuzz");
    nn_reader_max_read(r, read_sizes[mode % 3]);
    CHECK(strcmp(nn_reader_name(r), "fuzz") == 0, "name '%s'", nn_reader_name(r));
    nn_header h;
    memset(&h, 0, sizeof h);
    uint64_t streams = 0;

    for (;;) {
        int rc = nn_read_header(r, &h);
        if (rc < 0) {
            check_error(r);
            break;
        }
        if (rc == 0) {
            /* A clean end: only after at least one stream (empty input is an error). */
            CHECK(streams > 0, "nn_read_header returned 0 on an input with no stream");
            CHECK(nn_read_end(r) == 0, "input ended but nn_read_end says: %s",
                  nn_reader_error(r));
            break;
        }
        CHECK(rc == 1, "nn_read_header returned %d", rc);
        streams++;
        CHECK(nn_reader_streams(r) == streams, "streams %llu, read %llu",
              (unsigned long long)nn_reader_streams(r), (unsigned long long)streams);
        CHECK(nn_reader_records(r) == 0, "a new stream starts at record %llu",
              (unsigned long long)nn_reader_records(r));
        check_header(&h);

        nn_record rec;
        uint64_t n = 0;
        while ((rc = nn_read_record(r, &rec)) == 1) {
            n++;
            check_record(&h, &rec);
            CHECK(nn_reader_records(r) == n, "records %llu, read %llu",
                  (unsigned long long)nn_reader_records(r), (unsigned long long)n);
        }
        if (rc < 0) {
            check_error(r);
            break;
        }
        CHECK(rc == 0, "nn_read_record returned %d", rc);
        CHECK(nn_reader_records(r) == n, "after the trailer: records %llu, read %llu",
              (unsigned long long)nn_reader_records(r), (unsigned long long)n);
        /* Past the trailer the reader keeps saying so. */
        CHECK(nn_read_record(r, &rec) == 0, "a record read after the trailer");
        if (single) {
            /* A single-stream consumer: nothing may follow the trailer. */
            if (nn_read_end(r) < 0) check_error(r);
            break;
        }
    }

    nn_header_free(&h);
    nn_reader_close(r);
    return 0;
}
