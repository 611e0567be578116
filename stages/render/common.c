/* What nn-render's pictures share: colours, text, PNG output. */
#include "render.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void render_colour(size_t i, double rgb[3])
{
    /* Tol's colours in an order that keeps the first ten apart: his pale cyan next to
     * Okabe and Ito's sky blue read as one colour, so wine and olive come before it. */
    static const unsigned char palette[17][3] = {
        {0, 114, 178},   {230, 159, 0},   {0, 158, 115},   {204, 121, 167}, {86, 180, 233},
        {213, 94, 0},    {240, 228, 66},  {0, 0, 0},       {51, 34, 136},   {136, 34, 85},
        {153, 153, 51},  {136, 204, 238}, {68, 170, 153},  {17, 119, 51},   {221, 204, 119},
        {204, 102, 119}, {170, 68, 153}};
    const unsigned char *c = palette[i % 17];
    for (int k = 0; k < 3; k++) rgb[k] = c[k] / 255.0;
}

void render_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

void render_image_shape(const nn_header *h, const char *spec, int *w, int *ht, int *c)
{
    if (!(h->ndim == 2 || (h->ndim == 3 && (h->shape[2] == 1 || h->shape[2] == 3)))) {
        char shape[128];
        nn_shape_str(h, shape, sizeof shape);
        nn_die("%s: header: records are %s, not images (HxW, HxWx1 or HxWx3)", spec, shape);
    }
    *ht = (int)h->shape[0];
    *w = (int)h->shape[1];
    *c = h->ndim == 3 ? (int)h->shape[2] : 1;
    if (*ht > 1 << 20 || *w > 1 << 20)
        nn_die("%s: header: images of %dx%d are too big for thumbnails", spec, *w, *ht);
}

void render_thumb(const nn_header *h, const nn_record *rec, int tw, int th, uint8_t *out)
{
    int H = (int)h->shape[0], W = (int)h->shape[1], C = h->ndim == 3 ? (int)h->shape[2] : 1;
    size_t count = (size_t)W * (size_t)H * (size_t)C;
    if (h->dtype == NN_U8 && tw == W && th == H) {
        memcpy(out, rec->u8, count);
        return;
    }
    nn_image img = {W, H, C, nn_xmalloc(count * sizeof(float))};
    for (size_t i = 0; i < count; i++) {
        float v = h->dtype == NN_U8 ? rec->u8[i] / 255.0f : rec->f32[i];
        img.px[i] = v > 0 ? (v < 1 ? v : 1) : 0;   /* NaN too becomes 0 */
    }
    nn_image_resize(&img, tw, th);
    size_t tcount = (size_t)tw * (size_t)th * (size_t)C;
    for (size_t i = 0; i < tcount; i++) {
        float v = img.px[i] * 255.0f + 0.5f;
        out[i] = (uint8_t)(v > 0 ? (v < 255 ? v : 255) : 0);
    }
    nn_image_free(&img);
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
