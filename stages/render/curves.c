/* nn-render curves: nn-vae-train's metrics log as three panels (the loss, its reconstruction
 * term and its KL term per epoch), training against validation. */
#include "render.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE[] = "nn-render curves [OPTION]... [METRICS]";

enum { O_OUTPUT, O_TITLE };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "the PNG (default -, stdout)"},
    [O_TITLE] = {"title", 't', 1, "TEXT", "a title (default: the log's file name)"},
    {0},
};

enum { TRAIN_LOSS, VAL_LOSS, RECON, VAL_RECON, KL, VAL_KL, NSERIES };
static const char *const KEYS[NSERIES] = {"train_loss", "val_loss", "recon", "val_recon", "kl", "val_kl"};

/* The number after "key": in a flat JSON object line; NaN for null or when absent. */
static double field(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(line, pat);
    if (!at) return NAN;
    at += strlen(pat);
    if (strncmp(at, "null", 4) == 0) return NAN;
    char *end;
    double v = strtod(at, &end);
    return end == at ? NAN : v;
}

typedef struct {
    int n;
    double *epoch, *v[NSERIES];
} metrics;

static void read_metrics(const char *path, metrics *m)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f) nn_die("%s: cannot open: %s", path, strerror(errno));
    memset(m, 0, sizeof *m);
    int cap = 0;
    char *line = NULL;
    size_t len = 0;
    for (long lineno = 1; getline(&line, &len, f) > 0; lineno++) {
        if (strncmp(line, "{\"epoch\":", 9) != 0) continue;
        if (m->n == cap) {
            cap = cap ? 2 * cap : 64;
            m->epoch = nn_xrealloc(m->epoch, (size_t)cap * sizeof(double));
            for (int s = 0; s < NSERIES; s++) m->v[s] = nn_xrealloc(m->v[s], (size_t)cap * sizeof(double));
        }
        m->epoch[m->n] = field(line, "epoch");
        for (int s = 0; s < NSERIES; s++) m->v[s][m->n] = field(line, KEYS[s]);
        if (isnan(m->epoch[m->n]) || isnan(m->v[TRAIN_LOSS][m->n]))
            nn_die("%s: line %ld: an epoch line without a number for epoch or train_loss", path, lineno);
        m->n++;
    }
    free(line);
    if (f != stdin) fclose(f);
    if (m->n == 0) nn_die("%s: no epoch lines (is it nn-vae-train's --metrics log?)", path);
}

/* One panel: axes with a few ticks, the training series solid, the validation one dashed. */
static void panel(cairo_t *cr, const metrics *m, int train, int val, const char *name, double x0,
                  double y0, double w, double h)
{
    double lo = INFINITY, hi = -INFINITY, e0 = m->epoch[0], e1 = m->epoch[m->n - 1];
    for (int i = 0; i < m->n; i++)
        for (int s = 0; s < 2; s++) {
            double v = m->v[s ? val : train][i];
            if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
        }
    if (!(hi > lo)) hi = lo + 1;
    double span = hi - lo;
    lo -= 0.05 * span, hi += 0.05 * span;
    if (e1 <= e0) e1 = e0 + 1;
    double left = x0 + 60, right = x0 + w - 10, top = y0 + 28, bottom = y0 + h - 36;
    cairo_set_source_rgb(cr, 0, 0, 0);
    render_font(cr, 13, 1);
    cairo_move_to(cr, left, y0 + 18);
    cairo_show_text(cr, name);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, left, top, right - left, bottom - top);
    cairo_stroke(cr);
    render_font(cr, 10, 0);
    for (int t = 0; t <= 4; t++) {
        char text[32];
        double v = lo + (hi - lo) * t / 4, y = bottom - (bottom - top) * t / 4;
        snprintf(text, sizeof text, "%.4g", v);
        cairo_move_to(cr, x0 + 4, y + 4);
        cairo_show_text(cr, text);
    }
    /* Epoch ticks at whole epochs, about five of them. */
    double step = fmax(1, ceil((e1 - e0) / 4));
    for (double e = e0; e <= e1 + 1e-9; e += step) {
        char text[32];
        double x = left + (right - left) * (e - e0) / (e1 - e0);
        snprintf(text, sizeof text, "%.0f", e);
        cairo_move_to(cr, x - 3 * (double)strlen(text), bottom + 14);
        cairo_show_text(cr, text);
    }
    cairo_move_to(cr, (left + right) / 2 - 15, bottom + 28);
    cairo_show_text(cr, "epoch");
    for (int s = 0; s < 2; s++) {
        double rgb[3];
        render_colour((size_t)s, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2);
        double dash = 6;
        cairo_set_dash(cr, &dash, s, 0);
        int started = 0;
        for (int i = 0; i < m->n; i++) {
            double v = m->v[s ? val : train][i];
            if (!isfinite(v)) continue;
            double x = left + (right - left) * (m->epoch[i] - e0) / (e1 - e0);
            double y = bottom - (bottom - top) * (v - lo) / (hi - lo);
            if (started) cairo_line_to(cr, x, y);
            else cairo_move_to(cr, x, y), started = 1;
            if (m->n == 1) cairo_arc(cr, x, y, 2.5, 0, 2 * M_PI);
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
    }
}

int render_curves(int argc, char **argv)
{
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, "Draw nn-vae-train's metrics log (METRICS, default -) as a PNG.", argc, argv);
    const char *output = "-", *title = NULL;
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: output = p.arg[0]; break;
        case O_TITLE: title = p.arg[0]; break;
        }
    }
    if (p.npos > 1) nn_usage_error(USAGE, "one METRICS log at most");
    const char *path = p.npos ? p.pos[0] : "-";
    metrics m;
    read_metrics(path, &m);
    int width = 1200, height = 420;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_t *cr = cairo_create(surf);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    render_font(cr, 16, 1);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_move_to(cr, 12, 24);
    cairo_show_text(cr, title ? title : path);
    static const char *names[3] = {"loss (nats per image)", "reconstruction", "KL"};
    for (int i = 0; i < 3; i++) panel(cr, &m, 2 * i, 2 * i + 1, names[i], 10 + i * 395.0, 40, 385, 350);
    /* The legend: training solid, validation dashed. */
    render_font(cr, 12, 0);
    for (int s = 0; s < 2; s++) {
        double rgb[3], dash = 6, x = width - 330 + s * 160;
        render_colour((size_t)s, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2);
        cairo_set_dash(cr, &dash, s, 0);
        cairo_move_to(cr, x, 20);
        cairo_line_to(cr, x + 30, 20);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x + 36, 24);
        cairo_show_text(cr, s ? "validation" : "training");
    }
    cairo_destroy(cr);
    render_save_png(surf, output);
    cairo_surface_destroy(surf);
    free(m.epoch);
    for (int s = 0; s < NSERIES; s++) free(m.v[s]);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
