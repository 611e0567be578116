/* nn-ingest: image files (PNG, JPEG) and IDX files to an image stream, with labels, groups
 * and preprocessing (channels, crop, resize, dtype). */
#include "nn.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zlib.h>

static const char USAGE[] = "nn-ingest [OPTION]... INPUT...";
static const char SUMMARY[] =
    "Read images into an nn-stream on stdout. An INPUT is a directory (walked recursively,\n"
    "files sorted by path), an image file (PNG or JPEG), or an IDX images file (plain or\n"
    "gzip-compressed, with its labels file found beside it).";

enum { O_OUTPUT, O_LIST, O_MANIFEST, O_PATTERN, O_LABEL_CAPTURE, O_GROUP_CAPTURE,
       O_LABEL_FROM_DIR, O_IDX_LABELS, O_LABEL_NAMES, O_CHANNELS, O_CROP, O_SIZE, O_DTYPE,
       O_SKIP_BAD, O_PROGRESS };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the stream to FILE (default -, stdout)"},
    [O_LIST] = {"list", 0, 1, "FILE", "also read input paths from FILE, one a line (- : stdin)"},
    [O_MANIFEST] = {"manifest", 0, 1, "TSV", "inputs, labels and groups from TSV lines: path, "
                                             "label, group (paths relative to the TSV)"},
    [O_PATTERN] = {"pattern", 'p', 1, "ERE", "match each file name with a POSIX extended regex"},
    [O_LABEL_CAPTURE] = {"label-capture", 0, 1, "N", "the label is capture N of --pattern"},
    [O_GROUP_CAPTURE] = {"group-capture", 0, 1, "N", "the group is capture N of --pattern"},
    [O_LABEL_FROM_DIR] = {"label-from-dir", 0, 0, NULL, "the label is the parent folder's name"},
    [O_IDX_LABELS] = {"idx-labels", 0, 1, "FILE", "the labels file of the (one) IDX input"},
    [O_LABEL_NAMES] = {"label-names", 0, 1, "LIST", "names of IDX labels 0, 1, ...: "
                                                    "comma-separated, or @FILE (one a line)"},
    [O_CHANNELS] = {"channels", 'c', 1, "gray|rgb", "output channels (default gray)"},
    [O_CROP] = {"crop", 0, 1, "center|WxH+X+Y", "crop a centred square or a box first"},
    [O_SIZE] = {"size", 's', 1, "WxH", "resize to WxH (area when shrinking, bilinear growing)"},
    [O_DTYPE] = {"dtype", 0, 1, "f32|u8", "f32 in [0,1] (default) or u8 in [0,255]"},
    [O_SKIP_BAD] = {"skip-bad", 0, 0, NULL, "skip unreadable images with a warning"},
    [O_PROGRESS] = {"progress", 0, 0, NULL, "show progress on stderr even if not a terminal"},
    {0},
};

typedef struct {
    const char *output, *list, *manifest, *idx_labels, *label_names;
    const char *crop_arg, *size_arg;
    int label_capture, group_capture, label_from_dir, channels, skip_bad;
    int crop;                       /* 0 none, 1 centre, 2 box */
    int box_x, box_y, box_w, box_h;
    int out_w, out_h;               /* 0: keep */
    nn_dtype dtype;
    regex_t pattern;
    const char *pattern_arg;
    char **names;                   /* label names */
    int nnames;
} options;

/* One input file: an image, or an IDX images file. */
typedef struct {
    char *path, *id, *label, *group;
    int walked;                     /* found in a directory walk: id is relative to it */
} source;

typedef struct {
    source *v;
    size_t n, cap;
} sources;

static void add_source(sources *s, const char *path, const char *id, const char *label,
                       const char *group)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = nn_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    source *x = &s->v[s->n++];
    x->path = nn_xstrdup(path);
    x->id = nn_xstrdup(id);
    x->label = label ? nn_xstrdup(label) : NULL;
    x->group = group ? nn_xstrdup(group) : NULL;
    x->walked = 0;
}

static int parse_wxh(const char *s, int *w, int *h)
{
    char tail;
    return sscanf(s, "%dx%d%c", w, h, &tail) == 2 && *w > 0 && *h > 0 && *w <= 65535 &&
           *h <= 65535;
}

static void read_label_names(options *o)
{
    const char *arg = o->label_names;
    char *text;
    if (arg[0] == '@') {
        FILE *f = fopen(arg + 1, "r");
        if (!f) nn_die("%s: cannot open: %s", arg + 1, strerror(errno));
        size_t cap = 0;
        text = NULL;
        ssize_t n = getdelim(&text, &cap, '\0', f);
        fclose(f);
        if (n < 0) text = nn_xstrdup("");
    } else
        text = nn_xstrdup(arg);
    const char *sep = arg[0] == '@' ? "\n" : ",";
    size_t len = strlen(text);
    if (arg[0] == '@' && len && text[len - 1] == '\n') text[len - 1] = 0;   /* last newline */
    char *rest = text;
    for (char *tok; (tok = strsep(&rest, sep));) {
        tok[strcspn(tok, "\r")] = 0;
        o->names = nn_xrealloc(o->names, (size_t)(o->nnames + 1) * sizeof *o->names);
        o->names[o->nnames++] = nn_xstrdup(tok);
    }
    free(text);
}

static void parse_options(options *o, nn_opt_parser *p, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->output = "-";
    o->channels = 1;
    o->dtype = NN_F32;
    nn_opt_init(p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(p)) >= 0) {
        const char *a = p->arg[0];
        switch (k) {
        case O_OUTPUT: o->output = a; break;
        case O_LIST: o->list = a; break;
        case O_MANIFEST: o->manifest = a; break;
        case O_PATTERN: o->pattern_arg = a; break;
        case O_LABEL_CAPTURE: o->label_capture = (int)nn_parse_int("--label-capture", a, 0, 9); break;
        case O_GROUP_CAPTURE: o->group_capture = (int)nn_parse_int("--group-capture", a, 0, 9); break;
        case O_LABEL_FROM_DIR: o->label_from_dir = 1; break;
        case O_IDX_LABELS: o->idx_labels = a; break;
        case O_LABEL_NAMES: o->label_names = a; break;
        case O_CHANNELS:
            if (strcmp(a, "gray") == 0) o->channels = 1;
            else if (strcmp(a, "rgb") == 0) o->channels = 3;
            else nn_usage_error(USAGE, "--channels: '%s' is not gray or rgb", a);
            break;
        case O_CROP:
            o->crop_arg = a;
            if (strcmp(a, "center") == 0 || strcmp(a, "centre") == 0) o->crop = 1;
            else {
                char tail;
                if (sscanf(a, "%dx%d+%d+%d%c", &o->box_w, &o->box_h, &o->box_x, &o->box_y,
                           &tail) != 4 || o->box_w <= 0 || o->box_h <= 0 || o->box_x < 0 ||
                    o->box_y < 0 || o->box_w > 65535 || o->box_h > 65535 ||
                    o->box_x > 65535 || o->box_y > 65535)
                    nn_usage_error(USAGE, "--crop: '%s' is not center or WxH+X+Y", a);
                o->crop = 2;
            }
            break;
        case O_SIZE:
            o->size_arg = a;
            if (!parse_wxh(a, &o->out_w, &o->out_h))
                nn_usage_error(USAGE, "--size: '%s' is not WxH (e.g. 64x64)", a);
            break;
        case O_DTYPE:
            if (strcmp(a, "f32") == 0) o->dtype = NN_F32;
            else if (strcmp(a, "u8") == 0) o->dtype = NN_U8;
            else nn_usage_error(USAGE, "--dtype: '%s' is not f32 or u8", a);
            break;
        case O_SKIP_BAD: o->skip_bad = 1; break;
        case O_PROGRESS: nn_progress_forced = 1; break;
        }
    }
    if (o->pattern_arg) {
        int rc = regcomp(&o->pattern, o->pattern_arg, REG_EXTENDED);
        if (rc != 0) {
            char why[200];
            regerror(rc, &o->pattern, why, sizeof why);
            nn_usage_error(USAGE, "--pattern: %s", why);
        }
        if ((size_t)o->label_capture > o->pattern.re_nsub ||
            (size_t)o->group_capture > o->pattern.re_nsub)
            nn_usage_error(USAGE, "--pattern has %zu capture%s: --label-capture and "
                                  "--group-capture must be at most that", o->pattern.re_nsub,
                           o->pattern.re_nsub == 1 ? "" : "s");
    } else if (o->label_capture || o->group_capture)
        nn_usage_error(USAGE, "--label-capture and --group-capture need --pattern");
    if (o->pattern_arg && o->label_from_dir)
        nn_usage_error(USAGE, "--pattern and --label-from-dir both give labels: choose one");
    if (o->manifest && (o->pattern_arg || o->label_from_dir))
        nn_usage_error(USAGE, "--manifest gives the labels: no --pattern or --label-from-dir");
    if (o->manifest && (p->npos || o->list))
        nn_usage_error(USAGE, "--manifest lists the inputs: no INPUT or --list beside it");
    if (!o->manifest && !o->list && p->npos == 0) nn_usage_error(USAGE, "no INPUT given");
    if (o->label_names) read_label_names(o);
    if (o->out_w && (uint64_t)o->out_w * (uint64_t)o->out_h * (uint64_t)o->channels *
                            nn_dtype_size(o->dtype) > NN_MAX_RECORD_BYTES)
        nn_usage_error(USAGE, "--size %s makes records larger than %u bytes", o->size_arg,
                       NN_MAX_RECORD_BYTES);
    nn_refuse_terminal(o->output, USAGE, "a binary stream");
}

/* ---------------------------------------------------------------- finding the inputs */

static int wanted_in_walk(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                strcasecmp(dot, ".jpeg") == 0))
        return 1;
    return strstr(name, "idx3-ubyte") != NULL;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const source *)a)->id, ((const source *)b)->id);
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = nn_xmalloc(na + nb + 2);
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + (na ? 1 : 0), b, nb + 1);
    return p;
}

/* Collects the images under root/rel (ids relative to root); hidden entries are skipped.
 * Symbolic links are followed, to a depth that stops a loop. */
static void walk(sources *s, const char *root, const char *rel, int depth)
{
    char *dir = *rel ? join(root, rel) : nn_xstrdup(root);
    if (depth > 64) nn_die("%s: directories nested too deep (a symbolic link loop?)", dir);
    DIR *d = opendir(dir);
    if (!d) nn_die("%s: cannot open directory: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *path = join(dir, e->d_name), *sub = join(rel, e->d_name);
        struct stat st;
        int found = stat(path, &st) == 0;
        if (found && S_ISDIR(st.st_mode)) walk(s, root, sub, depth + 1);
        else if ((!found || S_ISREG(st.st_mode)) && wanted_in_walk(e->d_name)) {
            /* a broken link is taken, to fail as a bad input when it is read; FIFOs and
             * devices are not (reading one could block forever) */
            add_source(s, path, sub, NULL, NULL);
            s->v[s->n - 1].walked = 1;
        }
        free(path);
        free(sub);
    }
    closedir(d);
    free(dir);
}

static void add_input(sources *s, const char *arg)
{
    struct stat st;
    if (stat(arg, &st) != 0) nn_die("%s: cannot open: %s", arg, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        char *path = nn_xstrdup(arg);
        for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--) path[n - 1] = 0;
        size_t first = s->n;
        walk(s, path, "", 0);
        if (s->n == first)
            nn_die("%s: no images found (looked for .png, .jpg, .jpeg and IDX files)", path);
        qsort(s->v + first, s->n - first, sizeof *s->v, by_path);
        free(path);
        return;
    }
    add_source(s, arg, arg, NULL, NULL);
}

static char *trim_newline(char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    return line;
}

static void read_list(sources *s, const char *list)
{
    FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
    if (!f) nn_die("%s: cannot open: %s", list, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0)
        if (*trim_newline(line)) add_input(s, line);
    free(line);
    if (f != stdin) fclose(f);
}

static void read_manifest(sources *s, const char *manifest)
{
    FILE *f = fopen(manifest, "r");
    if (!f) nn_die("%s: cannot open: %s", manifest, strerror(errno));
    const char *slash = strrchr(manifest, '/');
    int dirlen = slash ? (int)(slash - manifest) + 1 : 0;
    char *line = NULL;
    size_t cap = 0;
    for (long lineno = 1; getline(&line, &cap, f) > 0; lineno++) {
        trim_newline(line);
        if (!*line || *line == '#') continue;
        char *label = strchr(line, '\t'), *group = label ? strchr(label + 1, '\t') : NULL;
        if (!group) nn_die("%s: line %ld: expected path, label and group separated by tabs",
                           manifest, lineno);
        *label++ = 0;
        *group++ = 0;
        char path[4096];
        snprintf(path, sizeof path, "%.*s%s", line[0] == '/' ? 0 : dirlen, manifest, line);
        add_source(s, path, line, label, group);
    }
    free(line);
    fclose(f);
    if (s->n == 0) nn_die("%s: the manifest lists no files", manifest);
}

/* ---------------------------------------------------------------- labels and groups */

static char *capture(const char *s, const regmatch_t *m)
{
    if (m->rm_so < 0) return nn_xstrdup("");
    size_t n = (size_t)(m->rm_eo - m->rm_so);
    char *out = nn_xmalloc(n + 1);
    memcpy(out, s + m->rm_so, n);
    out[n] = 0;
    return out;
}

/* Fills in label and group from the file name or folder; -1 if --pattern does not match. */
static int name_source(const options *o, source *x)
{
    if (x->label) return 0;                         /* from the manifest */
    const char *base = strrchr(x->path, '/');
    base = base ? base + 1 : x->path;
    if (o->pattern_arg) {
        regmatch_t m[10];
        if (regexec(&o->pattern, base, 10, m, 0) != 0) return -1;
        x->label = o->label_capture ? capture(base, &m[o->label_capture]) : nn_xstrdup("");
        x->group = o->group_capture ? capture(base, &m[o->group_capture]) : nn_xstrdup("");
        return 0;
    }
    /* The parent folder: within the walked tree for a walked file, else in the path given. */
    const char *name = x->walked ? x->id : x->path, *slash = strrchr(name, '/');
    if (o->label_from_dir && slash) {
        const char *start = slash;
        while (start > name && start[-1] != '/') start--;
        x->label = nn_xmalloc((size_t)(slash - start) + 1);
        memcpy(x->label, start, (size_t)(slash - start));
        x->label[slash - start] = 0;
    } else
        x->label = nn_xstrdup("");
    x->group = nn_xstrdup("");
    return 0;
}

/* ---------------------------------------------------------------- preprocessing and output */

typedef struct {
    const options *o;
    int argc;
    char **argv;
    nn_writer *out;
    int w, h;                       /* record size, fixed by the first image */
    void *record;
    uint64_t written, skipped;
    int idx_files;
    nn_progress progress;
} ingest;

static void open_output(ingest *g, int w, int h)
{
    const options *o = g->o;
    nn_header hdr = {0};
    uint32_t shape[3] = {(uint32_t)h, (uint32_t)w, (uint32_t)o->channels};
    char why[200];
    if (nn_header_set(&hdr, "image", o->dtype, 3, shape, why, sizeof why) != 0) nn_die("%s", why);
    nn_meta *m = nn_meta_new();
    nn_meta_provenance(m, g->argc, g->argv, NULL);
    nn_meta_str(m, "channels", o->channels == 1 ? "gray (Rec. 601 luma)" : "rgb");
    nn_meta_str(m, "crop", o->crop_arg ? o->crop_arg : "none");
    nn_meta_str(m, "size", o->size_arg ? o->size_arg : "as read");
    nn_meta_str(m, "resize", "area average when shrinking, bilinear when growing");
    nn_meta_str(m, "range", o->dtype == NN_F32 ? "[0,1]" : "[0,255]");
    nn_meta_finish(m, &hdr);
    g->out = nn_create_stream(o->output, &hdr);
    g->w = w;
    g->h = h;
    g->record = nn_xmalloc(hdr.nbytes);
    nn_header_free(&hdr);
}

/* Crops, resizes and writes one image; -1 with a reason if it cannot fit the stream. */
static int emit(ingest *g, nn_image *img, const char *id, const char *label, const char *group,
                char *err, size_t errlen)
{
    const options *o = g->o;
    if (o->crop == 1) {
        int side = img->w < img->h ? img->w : img->h;
        nn_image_crop(img, (img->w - side) / 2, (img->h - side) / 2, side, side);
    } else if (o->crop == 2 && nn_image_crop(img, o->box_x, o->box_y, o->box_w, o->box_h) != 0) {
        snprintf(err, errlen, "crop box %s does not fit in the %dx%d image", o->crop_arg,
                 img->w, img->h);
        return -1;
    }
    if (o->out_w) nn_image_resize(img, o->out_w, o->out_h);
    if (!g->out) open_output(g, img->w, img->h);
    if (img->w != g->w || img->h != g->h) {
        snprintf(err, errlen, "image is %dx%d%s, the stream's records are %dx%d (use --size)",
                 img->w, img->h, o->crop ? " after cropping" : "", g->w, g->h);
        return -1;
    }
    /* Resampling weights sum to 1 only up to rounding: clamp, so [0, 1] holds. */
    size_t n = (size_t)img->w * (size_t)img->h * (size_t)img->c;
    if (o->dtype == NN_F32)
        for (size_t i = 0; i < n; i++) {
            float v = img->px[i];
            ((float *)g->record)[i] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
    else
        for (size_t i = 0; i < n; i++) {
            double v = (double)img->px[i] * 255.0;
            ((uint8_t *)g->record)[i] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrint(v));
        }
    nn_put_record(g->out, id, label, group, g->record);
    g->written++;
    return 0;
}

static void bad_input(ingest *g, const char *path, const char *why)
{
    if (!g->o->skip_bad) nn_die("%s: %s", path, why);
    nn_warn("%s: skipped: %s", path, why);
    g->skipped++;
}

/* IDX: the labels file beside the images: the file name with images-idx3-ubyte replaced by
 * labels-idx1-ubyte, compressed or not. */
static char *find_idx_labels(const char *images)
{
    const char *base = strrchr(images, '/');
    base = base ? base + 1 : images;
    const char *at = strstr(base, "images-idx3-ubyte");
    if (!at) return NULL;
    size_t prefix = (size_t)(at - images);
    char *p = nn_xmalloc(prefix + 17 + 4);
    memcpy(p, images, prefix);
    static const char *const tails[2] = {"", ".gz"};
    struct stat st;
    for (int i = 0; i < 2; i++) {
        snprintf(p + prefix, 17 + 4, "labels-idx1-ubyte%s", tails[i]);
        if (stat(p, &st) == 0) return p;
    }
    free(p);
    return NULL;
}

static uint8_t *read_idx_labels(const char *path, uint64_t count)
{
    nn_idx lx;
    char err[600];
    if (nn_idx_open(&lx, path, err, sizeof err) != 0) nn_die("%s", err);
    if (lx.ndim != 1 || lx.count != count)
        nn_die("%s: expected %llu labels in a 1-D IDX file, found %llu (%d-D)", path,
               (unsigned long long)count, (unsigned long long)lx.count, lx.ndim);
    uint8_t *labels = nn_xmalloc(count ? count : 1);
    for (uint64_t i = 0; i < count; i++)
        if (nn_idx_read(&lx, &labels[i], err, sizeof err) != 0) nn_die("%s", err);
    nn_idx_close(&lx);
    return labels;
}

static void ingest_idx(ingest *g, nn_idx *x)
{
    const options *o = g->o;
    if (x->ndim != 3) nn_die("%s: an IDX images file has 3 dimensions, this one %d", x->path, x->ndim);
    if (o->idx_labels && g->idx_files++ > 0)
        nn_die("%s: --idx-labels names the labels of one IDX input, and this is a second",
               x->path);
    char *labels_path = o->idx_labels ? nn_xstrdup(o->idx_labels) : find_idx_labels(x->path);
    uint8_t *labels = labels_path ? read_idx_labels(labels_path, x->count) : NULL;
    if (!labels && o->nnames)
        nn_die("%s: no labels file beside it (...labels-idx1-ubyte...) for --label-names; "
               "name one with --idx-labels", x->path);
    if (!labels) nn_warn("%s: no labels file beside it: labels are empty", x->path);
    /* The group is the file's set: "train" or "t10k" for MNIST's names. */
    const char *base = strrchr(x->path, '/');
    base = base ? base + 1 : x->path;
    char group[64];
    snprintf(group, sizeof group, "%.*s", (int)strcspn(base, "-."), base);
    unsigned char *item = nn_xmalloc(x->item_bytes);
    nn_image img = {.w = (int)x->dims[2], .h = (int)x->dims[1], .c = o->channels};
    char err[600], id[100], label[16];
    for (uint64_t i = 0; i < x->count; i++) {
        if (nn_idx_read(x, item, err, sizeof err) != 0) nn_die("%s", err);
        img.w = (int)x->dims[2];
        img.h = (int)x->dims[1];
        img.px = nn_xmalloc((size_t)img.w * (size_t)img.h * (size_t)img.c * sizeof(float));
        for (size_t p = 0; p < x->item_bytes; p++)
            for (int ch = 0; ch < img.c; ch++) img.px[p * (size_t)img.c + (size_t)ch] = item[p] / 255.0f;
        const char *name = "";
        if (labels) {
            if (o->nnames && labels[i] >= o->nnames)
                nn_die("%s: item %llu: label %d has no name in --label-names (%d name%s)",
                       labels_path, (unsigned long long)i + 1, labels[i], o->nnames,
                       o->nnames == 1 ? "" : "s");
            snprintf(label, sizeof label, "%d", labels[i]);
            name = o->nnames ? o->names[labels[i]] : label;
        }
        snprintf(id, sizeof id, "idx:%s:%llu", group, (unsigned long long)i);
        if (emit(g, &img, id, name, group, err, sizeof err) != 0)
            nn_die("%s: item %llu: %s", x->path, (unsigned long long)i + 1, err);
        nn_image_free(&img);
        nn_progress_update(&g->progress, g->written);
    }
    free(item);
    free(labels);
    free(labels_path);
}

static int is_idx(const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return 0;
    unsigned char head[4];
    int yes = gzread(f, head, 4) == 4 && head[0] == 0 && head[1] == 0 && head[3] >= 1 && head[3] <= 4;
    gzclose(f);
    return yes;
}

static void ingest_source(ingest *g, source *x)
{
    char err[600];
    if (is_idx(x->path)) {
        if (x->label) nn_die("%s: an IDX file has its own labels: list it as an INPUT, not in "
                             "--manifest", x->path);
        nn_idx idx;
        if (nn_idx_open(&idx, x->path, err, sizeof err) != 0) nn_die("%s", err);
        ingest_idx(g, &idx);
        nn_idx_close(&idx);
        return;
    }
    if (name_source(g->o, x) != 0) {
        bad_input(g, x->path, "file name does not match --pattern");
        return;
    }
    nn_image img;
    if (nn_image_load(x->path, g->o->channels, &img, err, sizeof err) != 0 ||
        emit(g, &img, x->id, x->label, x->group, err, sizeof err) != 0)
        bad_input(g, x->path, err);
    nn_image_free(&img);
    nn_progress_update(&g->progress, g->written);
}

int main(int argc, char **argv)
{
    nn_init(argv[0]);
    options o;
    nn_opt_parser p;
    parse_options(&o, &p, argc, argv);
    sources src = {0};
    if (o.manifest) read_manifest(&src, o.manifest);
    for (int i = 0; i < p.npos; i++) add_input(&src, p.pos[i]);
    if (o.list) read_list(&src, o.list);
    if (src.n == 0) nn_die("no inputs: the list is empty");

    ingest g = {.o = &o, .argc = argc, .argv = argv};
    nn_progress_start(&g.progress, "images", 0);
    for (size_t i = 0; i < src.n; i++) ingest_source(&g, &src.v[i]);
    nn_progress_end(&g.progress, g.written);
    if (g.skipped) nn_warn("skipped %llu bad input%s", (unsigned long long)g.skipped, g.skipped == 1 ? "" : "s");
    if (!g.out) nn_die("no image could be read (%llu skipped)", (unsigned long long)g.skipped);
    nn_finish_stream(g.out);

    for (size_t i = 0; i < src.n; i++) {
        free(src.v[i].path);
        free(src.v[i].id);
        free(src.v[i].label);
        free(src.v[i].group);
    }
    free(src.v);
    free(g.record);
    for (int i = 0; i < o.nnames; i++) free(o.names[i]);
    free(o.names);
    if (o.pattern_arg) regfree(&o.pattern);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
