/* nn-render grid: images in rows and columns with captions. One stream: its records in rows of
 * --cols. Several streams (e.g. originals and their reconstructions): one row each, record k of
 * every stream in column k. Small images are enlarged by whole factors without blur. */
#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "nn-render grid [OPTION]... IMAGES...";

enum { O_OUTPUT, O_COLS, O_HEAD, O_SCALE, O_CAPTION, O_TITLE };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "the PNG (default -, stdout)"},
    [O_COLS] = {"cols", 'c', 1, "N", "columns for one stream (default: a square-ish grid)"},
    [O_HEAD] = {"head", 'n', 1, "N", "records a stream (default 100; 10 with several streams)"},
    [O_SCALE] = {"scale", 's', 1, "K", "enlarge each image K times (default: to 64 pixels or more)"},
    [O_CAPTION] = {"caption", 0, 1, "none|id|label|group", "text under each image (default label)"},
    [O_TITLE] = {"title", 't', 1, "TEXT", "a title above the grid"},
    {0},
};

typedef struct {
    nn_header h;
    int n;
    cairo_surface_t **img;
    char **caption;
} row;

/* One record's tensor as a cairo surface (gray or RGB, values clamped to [0, 1]). */
static cairo_surface_t *to_surface(const nn_header *h, const nn_record *r)
{
    int H = (int)h->shape[0], W = (int)h->shape[1], C = h->ndim == 3 ? (int)h->shape[2] : 1;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned v[3];
            for (int c = 0; c < 3; c++) {
                size_t i = ((size_t)y * (size_t)W + (size_t)x) * (size_t)C + (size_t)(C == 3 ? c : 0);
                float f = h->dtype == NN_F32 ? r->f32[i] : (float)r->u8[i] / 255.0f;
                f = isnan(f) ? 0 : f < 0 ? 0 : f > 1 ? 1 : f;
                v[c] = (unsigned)lrintf(f * 255);
            }
            ((uint32_t *)(px + (size_t)y * (size_t)stride))[x] = v[0] << 16 | v[1] << 8 | v[2];
        }
    cairo_surface_mark_dirty(s);
    return s;
}

static void read_row(const char *path, int head, int caption, row *out)
{
    memset(out, 0, sizeof *out);
    nn_reader *r = nn_open_stream(path, &out->h);
    if (out->h.ndim < 2 || out->h.ndim > 3 || (out->h.ndim == 3 && out->h.shape[2] != 1 && out->h.shape[2] != 3)) {
        char shape[128];
        nn_shape_str(&out->h, shape, sizeof shape);
        nn_die("%s: header: records are %s, not images (HxW, HxWx1 or HxWx3)", path, shape);
    }
    out->img = nn_xcalloc((size_t)head, sizeof *out->img);
    out->caption = nn_xcalloc((size_t)head, sizeof *out->caption);
    nn_record rec;
    while (out->n < head && nn_next_record(r, &rec) > 0) {
        out->img[out->n] = to_surface(&out->h, &rec);
        const char *text[4] = {"", rec.id, rec.label, rec.group};
        out->caption[out->n] = nn_xstrdup(text[caption]);
        out->n++;
    }
    nn_reader_close(r);
}

int render_grid(int argc, char **argv)
{
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, "Draw the images of one or more streams in a grid, as a PNG.", argc, argv);
    const char *output = "-", *title = NULL;
    int cols = 0, head = 0, scale = 0, caption = 2, k;
    while ((k = nn_opt_next(&p)) >= 0) {
        const char *a = p.arg[0];
        switch (k) {
        case O_OUTPUT: output = a; break;
        case O_COLS: cols = (int)nn_parse_int("--cols", a, 1, 1000); break;
        case O_HEAD: head = (int)nn_parse_int("--head", a, 1, 100000); break;
        case O_SCALE: scale = (int)nn_parse_int("--scale", a, 1, 64); break;
        case O_CAPTION:
            caption = !strcmp(a, "none") ? 0 : !strcmp(a, "id") ? 1 : !strcmp(a, "label") ? 2
                    : !strcmp(a, "group") ? 3 : -1;
            if (caption < 0) nn_usage_error(USAGE, "--caption: '%s' is not none, id, label or group", a);
            break;
        case O_TITLE: title = a; break;
        }
    }
    if (p.npos == 0) nn_usage_error(USAGE, "no IMAGES given");
    int nrows_in = p.npos;
    if (!head) head = nrows_in > 1 ? 10 : 100;
    row *rows = nn_xcalloc((size_t)nrows_in, sizeof *rows);
    int H = 0, W = 0, most = 0;
    for (int i = 0; i < nrows_in; i++) {
        read_row(p.pos[i], head, caption, &rows[i]);
        if (rows[i].n == 0) nn_die("%s: no records to draw", p.pos[i]);
        if ((int)rows[i].h.shape[0] > H) H = (int)rows[i].h.shape[0];
        if ((int)rows[i].h.shape[1] > W) W = (int)rows[i].h.shape[1];
        if (rows[i].n > most) most = rows[i].n;
    }
    if (!scale) scale = (64 + (H > W ? H : W) - 1) / (H > W ? H : W);
    if (scale < 1) scale = 1;
    /* The layout: cells of the enlarged image plus a caption line. */
    int ncols = nrows_in > 1 ? most : cols ? cols : (int)ceil(sqrt((double)rows[0].n));
    int nrows = nrows_in > 1 ? nrows_in : (rows[0].n + ncols - 1) / ncols;
    int pad = 6, cap_h = caption ? 14 : 0, title_h = title ? 30 : 0;
    int cell_w = W * scale + pad, cell_h = H * scale + cap_h + pad;
    int width = ncols * cell_w + pad, height = title_h + nrows * cell_h + pad;
    if ((double)width * height > 1.5e8) nn_die("the grid would be %dx%d pixels: use --head or --scale", width, height);
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    if (title) {
        render_font(cr, 16, 1);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, pad, 21);
        cairo_show_text(cr, title);
    }
    render_font(cr, 10, 0);
    for (int rr = 0; rr < nrows; rr++)
        for (int cc = 0; cc < ncols; cc++) {
            row *src = nrows_in > 1 ? &rows[rr] : &rows[0];
            int idx = nrows_in > 1 ? cc : rr * ncols + cc;
            if (idx >= src->n) continue;
            double x = pad + cc * cell_w, y = title_h + pad + rr * cell_h;
            cairo_save(cr);
            cairo_translate(cr, x, y);
            cairo_scale(cr, scale, scale);
            cairo_set_source_surface(cr, src->img[idx], 0, 0);
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
            cairo_paint(cr);
            cairo_restore(cr);
            if (caption) {
                cairo_save(cr);
                cairo_rectangle(cr, x, y + H * scale, W * scale, cap_h);
                cairo_clip(cr);
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                cairo_move_to(cr, x, y + H * scale + 11);
                cairo_show_text(cr, src->caption[idx]);
                cairo_restore(cr);
            }
        }
    cairo_destroy(cr);
    render_save_png(surf, output);
    cairo_surface_destroy(surf);
    for (int i = 0; i < nrows_in; i++) {
        for (int j = 0; j < rows[i].n; j++) {
            cairo_surface_destroy(rows[i].img[j]);
            free(rows[i].caption[j]);
        }
        free(rows[i].img);
        free(rows[i].caption);
        nn_header_free(&rows[i].h);
    }
    free(rows);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
