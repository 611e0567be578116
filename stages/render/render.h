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

/* A colour-blind-safe palette: Okabe and Ito's 8 colours, then Paul Tol's muted 9 for more
 * classes; beyond 17 the colours repeat. */
void render_colour(size_t i, double rgb[3]);
/* Text in DejaVu Sans (fonts-dejavu-core) through cairo's toy API. */
void render_font(cairo_t *cr, double size, int bold);
/* Writes the surface as a PNG to path ("-": stdout) atomically; dies with a message on error. */
void render_save_png(cairo_surface_t *s, const char *path);

#endif
