/* What a map of 2-D points needs, shared by scatter.c (which defines it) and thumbs.c: the
 * points, their classes, the page's layout, the points, the legend and the text around. */
#ifndef NN_RENDER_SCATTER_H
#define NN_RENDER_SCATTER_H

#include "render.h"

#include <math.h>

/* Reads a stream of 2-value records into m (with ids, labels and groups). Dies naming the file
 * when the records are not 2 values ("a WHAT needs 2 values"), when there are none, and naming
 * the record when a coordinate is NaN or infinite. */
void map_points_load(const char *spec, const char *what, nn_matrix *m);

/* The classes the points are coloured by: the distinct labels (or groups), sorted by name. */
typedef struct {
    size_t k;
    const char **name;    /* borrowed from the points */
    uint64_t *count;
    size_t *of;           /* per point: its class, the index into render_colour */
} map_classes;
void map_classes_init(map_classes *c, const nn_matrix *m, int by_group);
/* --by label|group: 1 for group; a usage error otherwise. */
int map_parse_by(const char *arg, const char *usage);
void map_classes_free(map_classes *c);

/* The page: the title at the top, a square plot, the legend at its right, a caption below. */
typedef struct {
    int size;             /* the canvas' side */
    double fs;            /* font scale: 1 at the usual size */
    double title_y;       /* baselines */
    double caption_y;
    double px, py, side;  /* the plot square, at whole pixels */
    double lx, lw;        /* the legend's left edge and width */
    int rows;             /* legend rows for classes ("and K more" is one of them) */
    double cx, cy, scale; /* data to pixels: the data box's centre and pixels per unit */
} map_layout;

/* Lays out the page. The plot's side is a multiple of quantum pixels (1: any). */
void map_layout_init(map_layout *L, cairo_t *cr, int size, double fs, const map_classes *c,
                     int quantum);
/* Fits the points' bounding box in the plot, equal scale on both axes, pad pixels inside. */
void map_layout_fit(map_layout *L, const nn_matrix *m, double pad);
static inline void map_xy(const map_layout *L, const float *p, double *x, double *y)
{
    *x = L->px + L->side / 2 + ((double)p[0] - L->cx) * L->scale;
    *y = L->py + L->side / 2 - ((double)p[1] - L->cy) * L->scale;
}

/* White page, the plot's frame, title, caption and legend (by: "label" or "group"). */
void map_draw_page(cairo_t *cr, const map_layout *L, const map_classes *c, const char *by,
                   const char *title, const char *caption);
/* Filled circles in their class colours, in a seeded shuffled order (no class always on top). */
void map_draw_points(cairo_t *cr, const map_layout *L, const nn_matrix *m, const map_classes *c,
                     double radius, double alpha);

/* Text scale for a canvas of side size: 1 at 900 pixels, in proportion below, more slowly above
 * (a larger picture is for more detail, not larger letters). */
static inline double map_font_scale(int size)
{
    return size <= 900 ? size / 900.0 : sqrt(size / 900.0);
}

/* The default title: the file's name ("standard input" for -). */
const char *map_title_of(const char *spec);
/* 1234567 as "1,234,567". */
void map_count_str(uint64_t v, char *buf, size_t n);

#endif
