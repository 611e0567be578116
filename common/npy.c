/* NumPy .npy (format 1.0) output. The record count is not known until the end, so the header
 * is written with room for the largest count and rewritten, same length, when closing. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nn_npy {
    nn_atomic file;
    nn_header hdr;
    size_t header_len;
    uint64_t count;
    unsigned char *buf;
    size_t len, cap;
    int failed;
    int saved_errno;
};

/* The header: magic, version 1.0, little-endian length, then the dict padded with spaces and a
 * newline so that the data starts at a multiple of 64 bytes. */
static size_t npy_header(const nn_header *h, uint64_t count, size_t fixed_len, char *out)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu,",
                     h->dtype == NN_F32 ? "<f4" : "|u1", (unsigned long long)count);
    for (int i = 0; i < h->ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, " %u%s", h->shape[i],
                      i + 1 < h->ndim ? "," : "");
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t total = fixed_len ? fixed_len : ((10 + (size_t)n + 1 + 20 + 63) / 64) * 64;
    size_t dict_len = total - 10;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)(dict_len & 0xff);
    out[9] = (char)(dict_len >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', dict_len - (size_t)n - 1);
    out[total - 1] = '\n';
    return total;
}

nn_npy *nn_npy_create(const char *path, const nn_header *h, char *err, size_t errlen)
{
    nn_npy *n = nn_xcalloc(1, sizeof *n);
    if (nn_atomic_open(&n->file, path, err, errlen) != 0) {
        free(n);
        return NULL;
    }
    if (!n->file.tmp) {
        snprintf(err, errlen, "%s: .npy output needs a regular file (its header is rewritten "
                 "at the end)", path);
        nn_atomic_abort(&n->file);
        free(n);
        return NULL;
    }
    nn_header_copy(&n->hdr, h);
    n->cap = 1u << 18;
    n->buf = nn_xmalloc(n->cap);
    /* Reserve the header at its largest: a count of 20 digits. */
    char head[1024];
    n->header_len = npy_header(h, UINT64_MAX, 0, head);
    if (nn_write_all(n->file.fd, head, n->header_len) != 0) n->failed = 1, n->saved_errno = errno;
    return n;
}

static int npy_flush(nn_npy *n)
{
    if (!n->failed && n->len && nn_write_all(n->file.fd, n->buf, n->len) != 0)
        n->failed = 1, n->saved_errno = errno;
    n->len = 0;
    return n->failed ? -1 : 0;
}

int nn_npy_append(nn_npy *n, const void *data)
{
    if (n->len + n->hdr.nbytes > n->cap && npy_flush(n) != 0) return -1;
    if (n->hdr.nbytes > n->cap) {
        if (!n->failed && nn_write_all(n->file.fd, data, n->hdr.nbytes) != 0)
            n->failed = 1, n->saved_errno = errno;
    } else {
        memcpy(n->buf + n->len, data, n->hdr.nbytes);
        n->len += n->hdr.nbytes;
    }
    n->count++;
    return n->failed ? -1 : 0;
}

static void npy_free(nn_npy *n)
{
    nn_header_free(&n->hdr);
    free(n->buf);
    free(n);
}

int nn_npy_close(nn_npy *n, char *err, size_t errlen)
{
    char head[1024];
    npy_header(&n->hdr, n->count, n->header_len, head);
    if (npy_flush(n) == 0 && pwrite(n->file.fd, head, n->header_len, 0) != (ssize_t)n->header_len)
        n->failed = 1, n->saved_errno = errno;
    if (n->failed) {
        snprintf(err, errlen, "%s: write error: %s", n->file.path, strerror(n->saved_errno));
        nn_atomic_abort(&n->file);
        npy_free(n);
        return -1;
    }
    int rc = nn_atomic_commit(&n->file, err, errlen);
    npy_free(n);
    return rc;
}

void nn_npy_abort(nn_npy *n)
{
    nn_atomic_abort(&n->file);
    npy_free(n);
}
