/* nn-render projector: a folder that TensorFlow's Embedding Projector opens: the vectors as a
 * TSV (one a line), their ids, labels and groups as a metadata TSV with a header row, the
 * images in one square sprite PNG (record order, row by row), and projector_config.json naming
 * the three. The folder is built under a temporary name beside DIR and renamed into place. */
#define _GNU_SOURCE
#include "scatter.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char USAGE[] = "nn-render projector [OPTION]... -o DIR VECTORS [IMAGES]";
static const char SUMMARY[] =
    "Write the vectors of VECTORS (any stream: latents, 2-D points, images; - for standard\n"
    "input) as a folder DIR for TensorFlow's Embedding Projector: tensors.tsv (a vector a\n"
    "line), metadata.tsv (id, label, group, with a header row) and projector_config.json;\n"
    "with IMAGES (an image stream, matched by id), also sprite.png: every vector's image in a\n"
    "square grid in record order. The projector takes sprites up to 8192x8192 pixels, so the\n"
    "thumbnails shrink to fit (said on standard error). DIR is replaced whole or not at all;\n"
    "an existing DIR may hold nothing but an earlier export.";

enum { O_OUTPUT, O_NAME, O_THUMB, O_SPRITE_MAX };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "DIR", "the folder to write (required)"},
    [O_NAME] = {"name", 0, 1, "TEXT", "the tensor's name in the projector (default: VECTORS' file name)"},
    [O_THUMB] = {"thumb", 0, 1, "PX", "sprite images at most PX a side (default: theirs, at most 64)"},
    [O_SPRITE_MAX] = {"sprite-max", 0, 1, "PX", "the sprite at most PX a side (default 8192, the projector's)"},
    {0},
};

/* The projector's limit on a sprite's side, and the smallest thumbnail worth making. */
#define SPRITE_MAX 8192
#define THUMB_MIN 4

enum { F_TENSORS, F_METADATA, F_SPRITE, F_CONFIG, NFILES };
static const char *const FILES[NFILES] = {"tensors.tsv", "metadata.tsv", "sprite.png",
                                          "projector_config.json"};

/* ---------------------------------------------------------------- the folder */

typedef struct {
    const char *dir;             /* DIR as given */
    char *tmp;                   /* the folder being written, beside DIR */
    char *path[NFILES];          /* the files inside tmp */
} folder;

/* A failure's cleanup (also on a signal, so unlink and rmdir only): the temporary folder. */
static void remove_tmp(void *arg)
{
    folder *f = arg;
    for (int k = 0; k < NFILES; k++) unlink(f->path[k]);
    rmdir(f->tmp);
}

static int export_file(const char *name)
{
    for (int k = 0; k < NFILES; k++)
        if (strcmp(name, FILES[k]) == 0) return 1;
    return 0;
}

/* Dies unless dir is absent, or a folder holding only an export's files. */
static void check_target(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT) return;
        nn_die("%s: %s", dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) nn_die("%s: exists and is not a folder", dir);
    DIR *d = opendir(dir);
    if (!d) nn_die("%s: cannot read: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (!export_file(e->d_name)) {
            char name[300];
            snprintf(name, sizeof name, "%s", e->d_name);
            closedir(d);
            nn_die("%s: holds '%s', not an earlier export's; choose another folder", dir, name);
        }
    }
    closedir(d);
}

static void folder_open(folder *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    f->dir = dir;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t base = len;
    while (base > 0 && dir[base - 1] != '/') base--;
    size_t n = len + 32;
    f->tmp = nn_xmalloc(n);
    snprintf(f->tmp, n, "%.*s.%.*s.tmp.XXXXXX", (int)base, dir, (int)(len - base), dir + base);
    if (!mkdtemp(f->tmp)) nn_die("%s: cannot create a folder beside it: %s", dir, strerror(errno));
    for (int k = 0; k < NFILES; k++) {
        size_t m = strlen(f->tmp) + strlen(FILES[k]) + 2;
        f->path[k] = nn_xmalloc(m);
        snprintf(f->path[k], m, "%s/%s", f->tmp, FILES[k]);
    }
    nn_at_fail(remove_tmp, f);
}

static FILE *folder_file(folder *f, int k)
{
    int fd = open(f->path[k], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    FILE *fp = fd < 0 ? NULL : fdopen(fd, "w");
    if (!fp) nn_die("%s: cannot create %s: %s", f->dir, FILES[k], strerror(errno));
    return fp;
}

static void folder_close_file(folder *f, int k, FILE *fp)
{
    int bad = ferror(fp), e = errno;
    if (fclose(fp) != 0 && !bad) bad = 1, e = errno;
    if (bad) nn_die("%s: cannot write %s: %s", f->dir, FILES[k], strerror(e ? e : EIO));
}

/* Puts the folder in DIR's place: swapped with an existing DIR (whose old files then go), or
 * renamed to DIR. */
static void folder_commit(folder *f)
{
    mode_t mask = umask(0);
    umask(mask);
    if (chmod(f->tmp, 0777 & ~mask) != 0) nn_die("%s: cannot set its mode: %s", f->dir, strerror(errno));
    check_target(f->dir);
    struct stat st;
    if (lstat(f->dir, &st) == 0) {
        if (renameat2(AT_FDCWD, f->tmp, AT_FDCWD, f->dir, RENAME_EXCHANGE) != 0) {
            if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
                nn_die("%s: cannot replace: %s", f->dir, strerror(errno));
            /* No atomic swap here: the old export goes first, then the new one moves in. */
            for (int k = 0; k < NFILES; k++) {
                size_t m = strlen(f->dir) + strlen(FILES[k]) + 2;
                char *old = nn_xmalloc(m);
                snprintf(old, m, "%s/%s", f->dir, FILES[k]);
                if (unlink(old) != 0 && errno != ENOENT)
                    nn_die("%s: cannot remove %s: %s", f->dir, FILES[k], strerror(errno));
                free(old);
            }
            if (rmdir(f->dir) != 0) nn_die("%s: cannot replace: %s", f->dir, strerror(errno));
            if (rename(f->tmp, f->dir) != 0) nn_die("%s: cannot create: %s", f->dir, strerror(errno));
        }
        /* tmp now holds the old export (or nothing): remove it. */
    } else if (rename(f->tmp, f->dir) != 0) {
        nn_die("%s: cannot create: %s", f->dir, strerror(errno));
    }
    remove_tmp(f);
    nn_cancel_at_fail(remove_tmp, f);
}

static void folder_free(folder *f)
{
    for (int k = 0; k < NFILES; k++) free(f->path[k]);
    free(f->tmp);
}

/* ---------------------------------------------------------------- text */

/* A metadata field: tabs, line ends and other control characters as spaces (the TSV has no
 * quoting). */
static void put_field(FILE *fp, const char *s)
{
    for (; *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, fp);
}

/* A JSON string: quotes, backslashes and control characters escaped; bytes of invalid UTF-8
 * as U+FFFD. */
static void put_json(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', fp);
    while (*p) {
        int len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
        for (int k = 1; k < len; k++)
            if ((p[k] & 0xc0) != 0x80) len = 0;
        if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) len = 0;
        if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) len = 0;
        if (len == 0) fputs("\\ufffd", fp), len = 1;
        else if (*p == '"' || *p == '\\') fprintf(fp, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f) fprintf(fp, "\\u%04x", *p);
        else fwrite(p, 1, (size_t)len, fp);
        p += len;
    }
    fputc('"', fp);
}

/* ---------------------------------------------------------------- the parts */

typedef struct {
    size_t n, d;
    char **id;
} vectors;

/* Streams VECTORS into tensors.tsv and metadata.tsv, keeping the ids for the sprite. */
static void write_vectors(folder *f, const char *spec, vectors *V)
{
    nn_header h = {0};
    nn_reader *r = nn_open_stream(spec, &h);
    memset(V, 0, sizeof *V);
    V->d = h.count;
    FILE *t = folder_file(f, F_TENSORS), *m = folder_file(f, F_METADATA);
    fputs("id\tlabel\tgroup\n", m);
    size_t cap = 0;
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        for (size_t j = 0; j < V->d; j++) {
            float v = h.dtype == NN_F32 ? rec.f32[j] : (float)rec.u8[j];
            if (!isfinite(v))
                nn_die("%s: record %zu (%s): value %zu is %s", spec, V->n + 1, rec.id, j + 1,
                       isnan(v) ? "NaN" : "infinite");
            fprintf(t, j ? "\t%.9g" : "%.9g", (double)v);
        }
        fputc('\n', t);
        put_field(m, rec.id);
        fputc('\t', m);
        put_field(m, rec.label);
        fputc('\t', m);
        put_field(m, rec.group);
        fputc('\n', m);
        if (V->n == cap) {
            cap = cap ? 2 * cap : 1024;
            V->id = nn_xrealloc(V->id, cap * sizeof *V->id);
        }
        V->id[V->n++] = nn_xstrdup(rec.id);
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
    nn_header_free(&h);
    if (V->n == 0) nn_die("%s: no records to export", spec);
    folder_close_file(f, F_TENSORS, t);
    folder_close_file(f, F_METADATA, m);
}

static cairo_status_t write_file(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* The sprite of IMAGES: vector i's image in cell i of a cols x cols grid (cols = ceil(sqrt
 * n)), row by row. Every vector needs an image with its id; other images are skipped; of an
 * id given twice, the first image counts. Sets the cell's size in tw, th. */
static void write_sprite(folder *f, const char *spec, const vectors *V, int thumb, int max, int *tw,
                         int *th)
{
    nn_header h = {0};
    nn_reader *r = nn_open_stream(spec, &h);
    int W, H, C;
    render_image_shape(&h, spec, &W, &H, &C);
    size_t cols = 1;
    while (cols * cols < V->n) cols++;
    int big = W > H ? W : H;
    int px = thumb > 0 ? thumb : 64;
    if (px > big) px = big;
    if ((size_t)px * cols > (size_t)max) {
        int fit = (int)((size_t)max / cols);
        if (fit < THUMB_MIN)
            nn_die("%s: %zu images in a %dx%d sprite leave less than %d pixels an image; export "
                   "fewer records (nn-cat --head) or leave IMAGES out", spec, V->n, max, max, THUMB_MIN);
        nn_warn("sprite: %zu images in a %zux%zu grid: thumbnails of %d pixels, not %d, to stay "
                "within %dx%d", V->n, cols, cols, fit, px, max, max);
        px = fit;
    }
    *tw = W >= H ? px : (int)lround((double)W * px / H);
    *th = H >= W ? px : (int)lround((double)H * px / W);
    if (*tw < 1) *tw = 1;
    if (*th < 1) *th = 1;

    int sw = (int)cols * *tw, sh = (int)cols * *th;
    cairo_surface_t *s = cairo_image_surface_create(C == 1 ? CAIRO_FORMAT_A8 : CAIRO_FORMAT_RGB24, sw, sh);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        nn_die("cannot make a %dx%d sprite: %s", sw, sh, cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    size_t stride = (size_t)cairo_image_surface_get_stride(s);

    /* id -> its first vector + 1; next: the following vector with the same id. */
    nn_strcount ids = {0};
    size_t *next = nn_xmalloc(V->n * sizeof *next);
    for (size_t i = V->n; i-- > 0;) {
        uint64_t first = nn_strcount_get(&ids, V->id[i]);
        next[i] = first ? (size_t)first - 1 : SIZE_MAX;
        nn_strcount_set(&ids, V->id[i], i + 1);
    }
    unsigned char *found = nn_xcalloc(V->n, 1);
    uint8_t *t = nn_xmalloc((size_t)*tw * (size_t)*th * (size_t)C);
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        uint64_t first = nn_strcount_get(&ids, rec.id);
        if (!first || found[first - 1]) continue;
        render_thumb(&h, &rec, *tw, *th, t);
        for (size_t i = (size_t)first - 1; i != SIZE_MAX; i = next[i]) {
            found[i] = 1;
            size_t x0 = (i % cols) * (size_t)*tw, y0 = (i / cols) * (size_t)*th;
            for (int y = 0; y < *th; y++) {
                unsigned char *row = data + (y0 + (size_t)y) * stride;
                const uint8_t *src = t + (size_t)y * (size_t)*tw * (size_t)C;
                if (C == 1) {
                    memcpy(row + x0, src, (size_t)*tw);
                    continue;
                }
                uint32_t *p = (uint32_t *)(void *)row + x0;
                for (int x = 0; x < *tw; x++, src += 3)
                    p[x] = 0xff000000u | (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
            }
        }
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    for (size_t i = 0; i < V->n; i++)
        if (!found[i]) nn_die("%s: no image with id '%s' (vector %zu)", spec, V->id[i], i + 1);
    cairo_surface_mark_dirty(s);
    FILE *fp = folder_file(f, F_SPRITE);
    cairo_status_t st = cairo_surface_write_to_png_stream(s, write_file, fp);
    if (st != CAIRO_STATUS_SUCCESS && !ferror(fp))
        nn_die("cannot make the sprite's PNG: %s", cairo_status_to_string(st));
    folder_close_file(f, F_SPRITE, fp);
    cairo_surface_destroy(s);
    nn_reader_close(r);
    nn_header_free(&h);
    nn_strcount_free(&ids);
    free(next);
    free(found);
    free(t);
}

static void write_config(folder *f, const char *name, const vectors *V, int sprite, int tw, int th)
{
    FILE *fp = folder_file(f, F_CONFIG);
    fputs("{\n  \"embeddings\": [\n    {\n      \"tensorName\": ", fp);
    put_json(fp, name);
    fprintf(fp, ",\n      \"tensorShape\": [%zu, %zu],\n", V->n, V->d);
    fprintf(fp, "      \"tensorPath\": \"%s\",\n      \"metadataPath\": \"%s\"", FILES[F_TENSORS],
            FILES[F_METADATA]);
    if (sprite)
        fprintf(fp, ",\n      \"sprite\": {\n        \"imagePath\": \"%s\",\n"
                    "        \"singleImageDim\": [%d, %d]\n      }", FILES[F_SPRITE], tw, th);
    fputs("\n    }\n  ]\n}\n", fp);
    folder_close_file(f, F_CONFIG, fp);
}

/* ---------------------------------------------------------------- the subcommand */

int render_projector(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL, *images = NULL;
    int thumb = 0, sprite_max = SPRITE_MAX;
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: dir = p.arg[0]; break;
        case O_NAME: name = p.arg[0]; break;
        case O_THUMB: thumb = (int)nn_parse_int("--thumb", p.arg[0], 1, SPRITE_MAX); break;
        case O_SPRITE_MAX:
            sprite_max = (int)nn_parse_int("--sprite-max", p.arg[0], THUMB_MIN, 32767);
            break;
        }
    }
    if (!dir) nn_usage_error(USAGE, "no output folder given (-o DIR)");
    if (!*dir || strcmp(dir, "-") == 0) nn_usage_error(USAGE, "-o: '%s' is not a folder's name", dir);
    if (p.npos < 1) nn_usage_error(USAGE, "no VECTORS given");
    if (p.npos > 2) nn_usage_error(USAGE, "VECTORS and IMAGES at most");
    const char *input = p.pos[0];
    if (p.npos == 2) images = p.pos[1];
    if (images && strcmp(input, "-") == 0 && strcmp(images, "-") == 0)
        nn_usage_error(USAGE, "standard input (-) can be read only once");
    if (!name) name = map_title_of(input);

    check_target(dir);
    folder f;
    folder_open(&f, dir);
    vectors V;
    write_vectors(&f, input, &V);
    int tw = 0, th = 0;
    if (images) write_sprite(&f, images, &V, thumb, sprite_max, &tw, &th);
    write_config(&f, name, &V, images != NULL, tw, th);
    folder_commit(&f);

    folder_free(&f);
    for (size_t i = 0; i < V.n; i++) free(V.id[i]);
    free(V.id);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
