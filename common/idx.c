/* IDX files (MNIST, Fashion-MNIST): plain or gzip-compressed, read through zlib one item at a
 * time. Only unsigned-byte data (type 0x08) is supported, the type both data sets use. */
#include "nn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char *idx_type_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0b: return "short";
    case 0x0c: return "int";
    case 0x0d: return "float";
    case 0x0e: return "double";
    default: return "unknown";
    }
}

int nn_idx_open(nn_idx *x, const char *path, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno ? errno : ENOMEM));
        return -1;
    }
    gzbuffer(f, 1u << 18);
    unsigned char head[4];
    if (gzread(f, head, 4) != 4 || head[0] != 0 || head[1] != 0 || head[3] < 1 || head[3] > 4) {
        snprintf(err, errlen, "%s: not an IDX file (bad magic)", path);
        gzclose(f);
        return -1;
    }
    if (head[2] != 0x08) {
        snprintf(err, errlen, "%s: IDX data type 0x%02x (%s) is not supported, only 0x08 "
                 "(unsigned byte)", path, head[2], idx_type_name(head[2]));
        gzclose(f);
        return -1;
    }
    x->ndim = head[3];
    x->item_bytes = 1;
    for (int i = 0; i < x->ndim; i++) {
        unsigned char d[4];
        if (gzread(f, d, 4) != 4) {
            snprintf(err, errlen, "%s: truncated IDX header", path);
            gzclose(f);
            return -1;
        }
        x->dims[i] = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
        if (i > 0) x->item_bytes *= x->dims[i];
    }
    if (x->item_bytes > NN_MAX_RECORD_BYTES) {
        snprintf(err, errlen, "%s: IDX items are too large", path);
        gzclose(f);
        return -1;
    }
    x->count = x->dims[0];
    x->file = f;
    x->path = nn_xstrdup(path);
    return 0;
}

int nn_idx_read(nn_idx *x, void *item, char *err, size_t errlen)
{
    int n = gzread((gzFile)x->file, item, (unsigned)x->item_bytes);
    if (n != (int)x->item_bytes) {
        int zerr;
        const char *why = gzerror((gzFile)x->file, &zerr);
        snprintf(err, errlen, "%s: item %llu of %llu: %s", x->path,
                 (unsigned long long)x->next + 1, (unsigned long long)x->count,
                 zerr != Z_OK && zerr != Z_BUF_ERROR ? why : "truncated file");
        return -1;
    }
    x->next++;
    return 0;
}

void nn_idx_close(nn_idx *x)
{
    if (x->file) gzclose((gzFile)x->file);
    free(x->path);
    memset(x, 0, sizeof *x);
}
