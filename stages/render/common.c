/* What nn-render's pictures share: colours, text, PNG output. */
#include "render.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void render_colour(size_t i, double rgb[3])
{
    static const unsigned char palette[17][3] = {
        {0, 114, 178},   {230, 159, 0},   {0, 158, 115},   {204, 121, 167}, {86, 180, 233},
        {213, 94, 0},    {240, 228, 66},  {0, 0, 0},       {51, 34, 136},   {136, 204, 238},
        {68, 170, 153},  {17, 119, 51},   {153, 153, 51},  {221, 204, 119}, {204, 102, 119},
        {136, 34, 85},   {170, 68, 153}};
    const unsigned char *c = palette[i % 17];
    for (int k = 0; k < 3; k++) rgb[k] = c[k] / 255.0;
}

void render_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

static cairo_status_t write_fd(void *closure, const unsigned char *data, unsigned int len)
{
    return nn_write_all(*(int *)closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

void render_save_png(cairo_surface_t *s, const char *path)
{
    char err[700];
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO)) nn_die("refusing to write a PNG to a terminal (use -o FILE)");
        int fd = STDOUT_FILENO;
        if (cairo_surface_write_to_png_stream(s, write_fd, &fd) != CAIRO_STATUS_SUCCESS)
            nn_die("stdout: write error: %s", strerror(errno ? errno : EIO));
        return;
    }
    nn_atomic a;
    if (nn_atomic_open(&a, path, err, sizeof err) != 0) nn_die("%s", err);
    if (cairo_surface_write_to_png_stream(s, write_fd, &a.fd) != CAIRO_STATUS_SUCCESS) {
        int e = errno;
        nn_atomic_abort(&a);
        nn_die("%s: write error: %s", path, strerror(e ? e : EIO));
    }
    if (nn_atomic_commit(&a, err, sizeof err) != 0) nn_die("%s", err);
}

/* fontconfig (under cairo's text) leaks a few hundred bytes of its configuration when it
 * loads it, which LeakSanitizer (SANITIZE=1) would report as our leak. Weak, so that a
 * program linking nn-render's parts with its own suppression list keeps its own. */
__attribute__((weak, used)) const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
