/* nn-render's parts: one file per picture, sharing the palette, text and PNG output here. */
#ifndef NN_RENDER_H
#define NN_RENDER_H

#include "nn.h"

#include <cairo.h>

/* Each subcommand: its own options after the subcommand's name; returns the exit status. */
int render_scatter(int argc, char **argv);
int render_thumbs(int argc, char **argv);
int render_grid(int argc, char **argv);
int render_curves(int argc, char **argv);
int render_html(int argc, char **argv);
int render_projector(int argc, char **argv);

/* A colour-blind-safe palette: Okabe and Ito's 8 colours, then Paul Tol's muted 9 for more
 * classes; beyond 17 the colours repeat. */
void render_colour(size_t i, double rgb[3]);
/* Text in DejaVu Sans (fonts-dejavu-core) through cairo's toy API. */
void render_font(cairo_t *cr, double size, int bold);
/* The images' size and channels from an image stream's header; dies naming spec unless the
 * records are HxW, HxWx1 or HxWx3 (of at most 2^20 pixels a side). */
void render_image_shape(const nn_header *h, const char *spec, int *w, int *ht, int *c);
/* A record's image (its stream's header h: HxW, HxWx1 or HxWx3, u8 or f32 with values clamped
 * to [0, 1], NaN as 0) at tw x th, area-averaged when smaller, as tw * th * C bytes in out. */
void render_thumb(const nn_header *h, const nn_record *rec, int tw, int th, uint8_t *out);
/* Writes the surface as a PNG to path ("-": stdout) atomically; dies with a message on error. */
void render_save_png(cairo_surface_t *s, const char *path);

#endif
