/* nn-render thumbs: the images drawn small at their points on the 2-D map. The plot is cut
 * into cells of the thumbnail's size; each cell shows one image, that of the point nearest
 * the cell's centre (ties by id), so the picture does not depend on the input's order. */
#include "scatter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-render thumbs [OPTION]... POINTS IMAGES";
static const char SUMMARY[] =
    "Draw the images of IMAGES (an image stream) as thumbnails at their points in POINTS\n"
    "(nn-tsne's output), matched by id, one a grid cell, to a PNG.";

enum { O_OUTPUT, O_BY, O_TITLE, O_SIZE, O_THUMB };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the PNG to FILE (default -, stdout)"},
    [O_BY] = {"by", 0, 1, "label|group", "colour the points by label or group (default label)"},
    [O_TITLE] = {"title", 0, 1, "TEXT", "the title (default: the file name of POINTS)"},
    [O_SIZE] = {"size", 0, 1, "PX", "the square picture's side (default 1200)"},
    [O_THUMB] = {"thumb", 0, 1, "PX", "the thumbnails' (and the grid cells') side (default 28)"},
    {0},
};

/* Points ordered by id, to find an image's points by binary search. */
static char *const *sort_ids;

static int by_id(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_ids[i], sort_ids[j]);
    return c ? c : (i > j) - (i < j);
}

/* The first position in order (sorted by id) whose id is not less than id. */
static size_t lower_bound(const size_t *order, size_t n, char *const *ids, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ids[order[mid]], id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* A record's image as a cairo surface; values already checked. */
static cairo_surface_t *thumb_surface(const nn_header *h, const nn_record *rec, int w, int ht, int c)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, ht);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        nn_die("cannot make a %dx%d thumbnail: %s", w, ht,
               cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < ht; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)y * (size_t)stride);
        for (int x = 0; x < w; x++) {
            uint32_t v[3];
            for (int k = 0; k < 3; k++) {
                size_t j = ((size_t)y * (size_t)w + (size_t)x) * (size_t)c + (size_t)(c == 3 ? k : 0);
                v[k] = h->dtype == NN_U8 ? rec->u8[j] : (uint32_t)lrintf(rec->f32[j] * 255.0f);
            }
            row[x] = v[0] << 16 | v[1] << 8 | v[2];
        }
    }
    cairo_surface_mark_dirty(s);
    return s;
}

int render_thumbs(int argc, char **argv)
{
    const char *output = "-", *title = NULL;
    int by_group = 0, size = 1200, thumb = 28;
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: output = p.arg[0]; break;
        case O_BY: by_group = map_parse_by(p.arg[0], USAGE); break;
        case O_TITLE: title = p.arg[0]; break;
        case O_SIZE: size = (int)nn_parse_int("--size", p.arg[0], 200, 8000); break;
        case O_THUMB: thumb = (int)nn_parse_int("--thumb", p.arg[0], 4, 512); break;
        }
    }
    if (p.npos != 2) nn_usage_error(USAGE, "give POINTS and IMAGES");
    const char *points = p.pos[0], *images = p.pos[1];
    if (strcmp(points, "-") == 0 && strcmp(images, "-") == 0)
        nn_usage_error(USAGE, "standard input (-) can be read only once");
    if (thumb * 4 > size) nn_usage_error(USAGE, "--thumb %d: more than a quarter of --size %d", thumb, size);
    nn_refuse_terminal(output, USAGE, "a PNG");
    if (!title) title = map_title_of(points);

    nn_matrix m;
    map_points_load(points, "a thumbnail map", &m);
    map_classes c;
    map_classes_init(&c, &m, by_group);
    const char *by = by_group ? "group" : "label";
    double fs = map_font_scale(size);

    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, size, size);
    cairo_t *cr = cairo_create(s);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        nn_die("cannot draw a %dx%d picture: %s", size, size, cairo_status_to_string(cairo_status(cr)));
    map_layout L;
    map_layout_init(&L, cr, size, fs, &c, thumb);
    map_layout_fit(&L, &m, thumb / 2.0);

    /* Each point's cell, and each cell's point: the nearest to its centre, ties by id. */
    int ncell = (int)(L.side / thumb);
    size_t cells = (size_t)ncell * (size_t)ncell;
    size_t *cell_of = nn_xmalloc(m.n * sizeof *cell_of), *winner = nn_xmalloc(cells * sizeof *winner);
    double *best = nn_xmalloc(cells * sizeof *best);
    for (size_t q = 0; q < cells; q++) winner[q] = SIZE_MAX, best[q] = INFINITY;
    for (size_t i = 0; i < m.n; i++) {
        double x, y;
        map_xy(&L, m.x + 2 * i, &x, &y);
        int cx = (int)floor((x - L.px) / thumb), cy = (int)floor((y - L.py) / thumb);
        cx = cx < 0 ? 0 : cx >= ncell ? ncell - 1 : cx;
        cy = cy < 0 ? 0 : cy >= ncell ? ncell - 1 : cy;
        size_t q = (size_t)cy * (size_t)ncell + (size_t)cx;
        double dx = x - (L.px + (cx + 0.5) * thumb), dy = y - (L.py + (cy + 0.5) * thumb);
        double d2 = dx * dx + dy * dy;
        cell_of[i] = q;
        int better = winner[q] == SIZE_MAX || d2 < best[q];
        if (!better && d2 == best[q]) {
            int o = strcmp(m.id[i], m.id[winner[q]]);
            better = o < 0 || (o == 0 && i < winner[q]);
        }
        if (better) winner[q] = i, best[q] = d2;
    }

    /* The images: each point's found by id, the winners' kept as surfaces. */
    size_t *order = nn_xmalloc(m.n * sizeof *order);
    for (size_t i = 0; i < m.n; i++) order[i] = i;
    sort_ids = m.id;
    qsort(order, m.n, sizeof *order, by_id);
    unsigned char *seen = nn_xcalloc(m.n, 1);
    cairo_surface_t **tile = nn_xcalloc(cells, sizeof *tile);
    nn_header h = {0};
    nn_reader *r = nn_open_stream(images, &h);
    int iw, ih, ic;
    if (h.ndim == 3 && (h.shape[2] == 1 || h.shape[2] == 3))
        ih = (int)h.shape[0], iw = (int)h.shape[1], ic = (int)h.shape[2];
    else if (h.ndim == 2)
        ih = (int)h.shape[0], iw = (int)h.shape[1], ic = 1;
    else {
        char shape[128];
        nn_shape_str(&h, shape, sizeof shape);
        nn_die("%s: header: records are %s, thumbnails need HxWxC images with C 1 or 3", images, shape);
    }
    nn_record rec;
    uint64_t nrec = 0;
    size_t shown = 0;
    while (nn_next_record(r, &rec) > 0) {
        nrec++;
        if (h.dtype == NN_F32)
            for (size_t j = 0; j < h.count; j++) {
                float v = rec.f32[j];
                if (!(v >= 0 && v <= 1))   /* NaN too */
                    nn_die("%s: record %llu (%s): value %zu is %s%g, outside [0, 1]", images,
                           (unsigned long long)nrec, rec.id, j + 1, isnan(v) ? "NaN" : "", isnan(v) ? 0.0 : v);
            }
        for (size_t t = lower_bound(order, m.n, m.id, rec.id); t < m.n && strcmp(m.id[order[t]], rec.id) == 0; t++) {
            size_t i = order[t];
            if (seen[i]) continue;          /* a repeated id: the first image is the one */
            seen[i] = 1;
            size_t q = cell_of[i];
            if (winner[q] == i) tile[q] = thumb_surface(&h, &rec, iw, ih, ic), shown++;
        }
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
    for (size_t i = 0; i < m.n; i++)
        if (!seen[i]) nn_die("%s: no image has the id '%s' (record %zu of %s)", images, m.id[i], i + 1, points);

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    char caption[300], num[32], kn[32], sn[32];
    map_count_str(m.n, num, sizeof num);
    map_count_str(c.k, kn, sizeof kn);
    map_count_str(shown, sn, sizeof sn);
    snprintf(caption, sizeof caption,
             "%s point%s coloured by %s (%s %s%s); %s image%s shown, one per %d px cell: that of "
             "the point nearest its centre", num, m.n == 1 ? "" : "s", by, kn, by, c.k == 1 ? "" : "s", sn,
             shown == 1 ? "" : "s", thumb);
    map_draw_page(cr, &L, &c, by, title, caption);
    map_draw_points(cr, &L, &m, &c, fmax(1, 1.6 * fs), 0.45);
    /* Each thumbnail fills its cell (keeping its aspect, on black), framed in its point's
     * colour when the cell is large enough to spare the frame's pixels. */
    double scale = (double)thumb / (iw > ih ? iw : ih), dw = iw * scale, dh = ih * scale;
    for (size_t q = 0; q < cells; q++) {
        if (!tile[q]) continue;
        double x = L.px + (double)(q % (size_t)ncell) * thumb, y = L.py + (double)(q / (size_t)ncell) * thumb;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_rectangle(cr, x, y, thumb, thumb);
        cairo_fill(cr);
        cairo_save(cr);
        cairo_translate(cr, x + round((thumb - dw) / 2), y + round((thumb - dh) / 2));
        cairo_scale(cr, scale, scale);
        cairo_set_source_surface(cr, tile[q], 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), scale >= 1 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_GOOD);
        cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
        cairo_rectangle(cr, 0, 0, iw, ih);
        cairo_fill(cr);
        cairo_restore(cr);
        cairo_surface_destroy(tile[q]);
        if (thumb >= 16) {
            double rgb[3];
            render_colour(c.of[winner[q]], rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_set_line_width(cr, 1);
            cairo_rectangle(cr, x + 0.5, y + 0.5, thumb - 1, thumb - 1);
            cairo_stroke(cr);
        }
    }
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        nn_die("drawing failed: %s", cairo_status_to_string(cairo_status(cr)));
    cairo_destroy(cr);
    cairo_surface_flush(s);
    render_save_png(s, output);
    cairo_surface_destroy(s);

    free(tile);
    free(seen);
    free(order);
    free(cell_of);
    free(winner);
    free(best);
    nn_header_free(&h);
    map_classes_free(&c);
    nn_matrix_free(&m);
    nn_opt_free(&p);
    cairo_debug_reset_static_data();   /* the font caches: a clean exit under LeakSanitizer */
    return NN_EXIT_OK;
}
