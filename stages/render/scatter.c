/* nn-render scatter: a map of 2-D points (nn-tsne's output) as coloured dots with a legend.
 * Also the map's parts that thumbs.c shares (scatter.h). */
#include "scatter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- the points */

void map_points_load(const char *spec, const char *what, nn_matrix *m)
{
    nn_header h = {0};
    nn_reader *r = nn_open_stream(spec, &h);
    if (h.count != 2) {
        char shape[128];
        nn_shape_str(&h, shape, sizeof shape);
        nn_die("%s: header: records are %s, %s needs 2 values", spec, shape, what);
    }
    memset(m, 0, sizeof *m);
    m->d = 2;
    size_t cap = 0;
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        if (m->n == cap) {
            cap = cap ? 2 * cap : 1024;
            m->x = nn_xrealloc(m->x, cap * 2 * sizeof(float));
            m->id = nn_xrealloc(m->id, cap * sizeof(char *));
            m->label = nn_xrealloc(m->label, cap * sizeof(char *));
            m->group = nn_xrealloc(m->group, cap * sizeof(char *));
        }
        float *p = m->x + 2 * m->n;
        for (int j = 0; j < 2; j++) {
            p[j] = h.dtype == NN_F32 ? rec.f32[j] : (float)rec.u8[j];
            if (!isfinite(p[j]))
                nn_die("%s: record %zu (%s): value %d is %s", spec, m->n + 1, rec.id, j + 1,
                       isnan(p[j]) ? "NaN" : "infinite");
        }
        m->id[m->n] = nn_xstrdup(rec.id);
        m->label[m->n] = nn_xstrdup(rec.label);
        m->group[m->n] = nn_xstrdup(rec.group);
        m->n++;
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
    nn_header_free(&h);
    if (m->n == 0) nn_die("%s: no records to draw", spec);
}

/* ---------------------------------------------------------------- classes */

static const char *const *sort_names;

static int by_name(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_names[i], sort_names[j]);
    return c ? c : (i > j) - (i < j);
}

int map_parse_by(const char *arg, const char *usage)
{
    if (strcmp(arg, "label") == 0) return 0;
    if (strcmp(arg, "group") == 0) return 1;
    nn_usage_error(usage, "--by: '%s' is not label or group", arg);
}

void map_classes_init(map_classes *c, const nn_matrix *m, int by_group)
{
    const char *const *names = (const char *const *)(by_group ? m->group : m->label);
    size_t *order = nn_xmalloc(m->n * sizeof *order);
    for (size_t i = 0; i < m->n; i++) order[i] = i;
    sort_names = names;
    qsort(order, m->n, sizeof *order, by_name);
    memset(c, 0, sizeof *c);
    c->name = nn_xmalloc(m->n * sizeof *c->name);
    c->count = nn_xcalloc(m->n, sizeof *c->count);
    c->of = nn_xmalloc(m->n * sizeof *c->of);
    for (size_t t = 0; t < m->n; t++) {
        size_t i = order[t];
        if (t == 0 || strcmp(names[i], c->name[c->k - 1]) != 0) c->name[c->k++] = names[i];
        c->of[i] = c->k - 1;
        c->count[c->k - 1]++;
    }
    free(order);
}

void map_classes_free(map_classes *c)
{
    free(c->name);
    free(c->count);
    free(c->of);
    memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- text */

/* Valid UTF-8 (cairo refuses anything else and stops drawing), control characters as spaces,
 * at most max bytes; owned by the caller. */
static char *clean_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    char *out = nn_xmalloc(n + 1), *o = out;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && (size_t)(o - out) < max) {
        int len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
        for (int k = 1; k < len; k++)
            if ((p[k] & 0xc0) != 0x80) len = 0;
        if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) len = 0;
        if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) len = 0;
        if (len == 0 || (size_t)(o - out) + (size_t)len > max) {
            *o++ = '?';
            p++;
            continue;
        }
        if (len == 1 && (*p < 0x20 || *p == 0x7f)) *o++ = ' ';
        else memcpy(o, p, (size_t)len), o += len;
        p += len;
    }
    *o = 0;
    return out;
}

static double text_width(cairo_t *cr, const char *s)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

/* s cleaned and shortened with an ellipsis to fit width (in the current font); owned. */
static char *fit_text(cairo_t *cr, const char *s, double width)
{
    char *t = clean_text(s, 400);
    if (text_width(cr, t) <= width) return t;
    size_t n = strlen(t);
    char *buf = nn_xmalloc(n + 4);
    while (n > 0) {
        do n--; while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80);
        memcpy(buf, t, n);
        memcpy(buf + n, "\xe2\x80\xa6", 4);   /* U+2026 */
        if (text_width(cr, buf) <= width) break;
    }
    if (n == 0) memcpy(buf, "\xe2\x80\xa6", 4);
    free(t);
    return buf;
}

static const char *class_name(const char *s) { return *s ? s : "(none)"; }

void map_count_str(uint64_t v, char *buf, size_t n)
{
    char d[32];
    int len = snprintf(d, sizeof d, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = d[i];
    }
    buf[o] = 0;
}

const char *map_title_of(const char *spec)
{
    if (strcmp(spec, "-") == 0) return "standard input";
    const char *slash = strrchr(spec, '/');
    return slash && slash[1] ? slash + 1 : spec;
}

/* ---------------------------------------------------------------- layout and drawing */

#define LEGEND_MAX_ROWS 30
#define GRAY(cr, v) cairo_set_source_rgb(cr, v, v, v)

static double legend_name_width(const map_layout *L) { return 0.22 * L->size; }

void map_layout_init(map_layout *L, cairo_t *cr, int size, double fs, const map_classes *c,
                     int quantum)
{
    memset(L, 0, sizeof *L);
    L->size = size;
    L->fs = fs;
    double margin = 24 * fs, gap = 22 * fs, top = 40 * fs, bottom = 30 * fs;
    /* The legend: marker, name, count; as wide as its widest row. */
    L->rows = c->k <= LEGEND_MAX_ROWS ? (int)c->k : LEGEND_MAX_ROWS;
    render_font(cr, 13 * fs, 0);
    double names = 0, counts = 0;
    for (int i = 0; i < L->rows; i++) {
        char *t = fit_text(cr, class_name(c->name[i]), legend_name_width(L)), num[32];
        names = fmax(names, text_width(cr, t));
        free(t);
        map_count_str(c->count[i], num, sizeof num);
        counts = fmax(counts, text_width(cr, num));
    }
    if ((size_t)L->rows < c->k) {
        char more[64], num[32];
        map_count_str(c->k - (size_t)L->rows + 1, num, sizeof num);
        snprintf(more, sizeof more, "and %s more", num);
        names = fmax(names, text_width(cr, more) - counts);
    }
    render_font(cr, 13 * fs, 1);
    names = fmax(names, text_width(cr, "label"));
    L->lw = ceil(18 * fs + names + 14 * fs + counts);

    double avail_w = size - 2 * margin - gap - L->lw, avail_h = size - 2 * margin - top - bottom;
    double side = floor(fmax(fmin(avail_w, avail_h), 4 * quantum) / quantum) * quantum;
    L->side = side;
    double x0 = fmax(margin, (size - (side + gap + L->lw)) / 2);
    double y0 = fmax(margin, (size - (top + side + bottom)) / 2);
    L->px = round(x0);
    L->py = round(y0 + top);
    L->lx = L->px + side + gap;
    L->title_y = L->py - 14 * fs;
    L->caption_y = L->py + side + 20 * fs;
    /* Rows that fit beside the plot, under the legend's heading. */
    int fit = (int)((side - 26 * fs) / (20 * fs));
    if (fit < 2) fit = 2;
    if (L->rows > fit) L->rows = fit;
    L->scale = 1;
}

void map_layout_fit(map_layout *L, const nn_matrix *m, double pad)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < m->n; i++) {
        x0 = fmin(x0, m->x[2 * i]), x1 = fmax(x1, m->x[2 * i]);
        y0 = fmin(y0, m->x[2 * i + 1]), y1 = fmax(y1, m->x[2 * i + 1]);
    }
    double range = fmax(x1 - x0, y1 - y0), inner = fmax(L->side - 2 * pad, 1);
    L->cx = (x0 + x1) / 2;
    L->cy = (y0 + y1) / 2;
    L->scale = range > 0 ? inner / range : 1;
    if (!isfinite(L->scale) || L->scale <= 0) L->scale = 1;
}

static void marker(cairo_t *cr, double x, double y, double r, size_t cls)
{
    double rgb[3];
    render_colour(cls, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_new_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    cairo_fill(cr);
}

static void draw_legend(cairo_t *cr, const map_layout *L, const map_classes *c, const char *by)
{
    double fs = L->fs, row = 20 * fs, y = L->py + 12 * fs, right = L->lx + L->lw;
    render_font(cr, 13 * fs, 1);
    GRAY(cr, 0.15);
    cairo_move_to(cr, L->lx, y);
    cairo_show_text(cr, by);
    render_font(cr, 13 * fs, 0);
    y += 8 * fs;
    size_t shown = (size_t)L->rows < c->k ? (size_t)L->rows - 1 : c->k;
    for (size_t i = 0; i < shown; i++) {
        double mid = y + row * ((double)i + 0.5);
        marker(cr, L->lx + 6 * fs, mid, 5.5 * fs, i);
        char *t = fit_text(cr, class_name(c->name[i]), legend_name_width(L)), num[32];
        GRAY(cr, 0.15);
        cairo_move_to(cr, L->lx + 18 * fs, mid + 4.5 * fs);
        cairo_show_text(cr, t);
        free(t);
        map_count_str(c->count[i], num, sizeof num);
        GRAY(cr, 0.45);
        cairo_move_to(cr, right - text_width(cr, num), mid + 4.5 * fs);
        cairo_show_text(cr, num);
    }
    if (shown < c->k) {
        char more[64], num[32];
        map_count_str(c->k - shown, num, sizeof num);
        snprintf(more, sizeof more, "and %s more", num);
        GRAY(cr, 0.45);
        cairo_move_to(cr, L->lx + 18 * fs, y + row * ((double)shown + 0.5) + 4.5 * fs);
        cairo_show_text(cr, more);
    }
}

void map_draw_page(cairo_t *cr, const map_layout *L, const map_classes *c, const char *by,
                   const char *title, const char *caption)
{
    double fs = L->fs, width = L->side + (L->lx - L->px - L->side) + L->lw;
    render_font(cr, 20 * fs, 1);
    GRAY(cr, 0.1);
    char *t = fit_text(cr, title, width);
    cairo_move_to(cr, L->px, L->title_y);
    cairo_show_text(cr, t);
    free(t);
    render_font(cr, 12 * fs, 0);
    GRAY(cr, 0.4);
    t = fit_text(cr, caption, width);
    cairo_move_to(cr, L->px, L->caption_y);
    cairo_show_text(cr, t);
    free(t);
    cairo_set_line_width(cr, 1);
    GRAY(cr, 0.8);
    cairo_rectangle(cr, L->px - 0.5, L->py - 0.5, L->side + 1, L->side + 1);
    cairo_stroke(cr);
    draw_legend(cr, L, c, by);
}

void map_draw_points(cairo_t *cr, const map_layout *L, const nn_matrix *m, const map_classes *c,
                     double radius, double alpha)
{
    size_t *order = nn_xmalloc(m->n * sizeof *order);
    for (size_t i = 0; i < m->n; i++) order[i] = i;
    nn_rng rng;
    nn_rng_seed(&rng, 0x5ca77e2);
    nn_rng_shuffle(&rng, order, m->n);
    cairo_save(cr);
    cairo_rectangle(cr, L->px, L->py, L->side, L->side);
    cairo_clip(cr);
    for (size_t t = 0; t < m->n; t++) {
        size_t i = order[t];
        double x, y, rgb[3];
        map_xy(L, m->x + 2 * i, &x, &y);
        render_colour(c->of[i], rgb);
        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
        cairo_new_path(cr);
        cairo_arc(cr, x, y, radius, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    cairo_restore(cr);
    free(order);
}

/* ---------------------------------------------------------------- the subcommand */

static const char USAGE[] = "nn-render scatter [OPTION]... [POINTS]";
static const char SUMMARY[] =
    "Draw the 2-D points of POINTS (nn-tsne's output; default -) as dots coloured by label or\n"
    "group, with a legend, to a PNG.";

enum { O_OUTPUT, O_BY, O_TITLE, O_SIZE, O_POINT_SIZE, O_ALPHA };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the PNG to FILE (default -, stdout)"},
    [O_BY] = {"by", 0, 1, "label|group", "colour the points by label or group (default label)"},
    [O_TITLE] = {"title", 0, 1, "TEXT", "the title (default: the input's file name)"},
    [O_SIZE] = {"size", 0, 1, "PX", "the square picture's side (default 900)"},
    [O_POINT_SIZE] = {"point-size", 0, 1, "R", "the dots' radius in pixels (default: by N)"},
    [O_ALPHA] = {"alpha", 0, 1, "A", "the dots' opacity, 0 to 1 (default: by N)"},
    {0},
};

/* Dots shrink and fade as they crowd: radius 3 at 100 points to 1 at 100,000, opacity 0.9 up
 * to 100 points to 0.35 at 70,000 (the size of Fashion-MNIST). */
static double default_radius(size_t n)
{
    return fmin(3, fmax(1, 3 - 2 * (log10((double)n) - 2) / 3));
}

static double default_alpha(size_t n)
{
    return fmin(0.9, fmax(0.35, 0.9 - 0.55 * (log10((double)n) - 2) / (log10(70000.0) - 2)));
}

int render_scatter(int argc, char **argv)
{
    const char *output = "-", *title = NULL, *input = "-";
    int by_group = 0, size = 900;
    double radius = -1, alpha = -1;
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: output = p.arg[0]; break;
        case O_BY: by_group = map_parse_by(p.arg[0], USAGE); break;
        case O_TITLE: title = p.arg[0]; break;
        case O_SIZE: size = (int)nn_parse_int("--size", p.arg[0], 200, 8000); break;
        case O_POINT_SIZE: radius = nn_parse_double("--point-size", p.arg[0], 0.1, 100); break;
        case O_ALPHA: alpha = nn_parse_double("--alpha", p.arg[0], 0.01, 1); break;
        }
    }
    if (p.npos > 1) nn_usage_error(USAGE, "one POINTS input at most");
    if (p.npos) input = p.pos[0];
    nn_refuse_terminal(output, USAGE, "a PNG");
    if (!title) title = map_title_of(input);

    nn_matrix m;
    map_points_load(input, "a scatter", &m);
    map_classes c;
    map_classes_init(&c, &m, by_group);
    const char *by = by_group ? "group" : "label";
    double fs = map_font_scale(size);
    if (radius < 0) radius = default_radius(m.n) * fs;
    if (alpha < 0) alpha = default_alpha(m.n);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
    cairo_t *cr = cairo_create(s);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        nn_die("cannot draw a %dx%d picture: %s", size, size, cairo_status_to_string(cairo_status(cr)));
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    map_layout L;
    map_layout_init(&L, cr, size, fs, &c, 1);
    map_layout_fit(&L, &m, 0.03 * L.side + radius);
    char caption[200], num[32], kn[32];
    map_count_str(m.n, num, sizeof num);
    map_count_str(c.k, kn, sizeof kn);
    snprintf(caption, sizeof caption, "%s point%s, coloured by %s (%s %s%s)", num, m.n == 1 ? "" : "s",
             by, kn, by, c.k == 1 ? "" : "s");
    map_draw_page(cr, &L, &c, by, title, caption);
    map_draw_points(cr, &L, &m, &c, radius, alpha);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        nn_die("drawing failed: %s", cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    cairo_surface_flush(s);
    render_save_png(s, output);
    cairo_surface_destroy(s);
    map_classes_free(&c);
    nn_matrix_free(&m);
    nn_opt_free(&p);
    cairo_debug_reset_static_data();   /* the font caches: a clean exit under LeakSanitizer */
    return NN_EXIT_OK;
}
