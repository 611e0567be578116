/* nn-mkimage: writes test images with exact sample values.
 *   nn-mkimage png OUT WxH TYPE DEPTH V,V,...  TYPE gray|graya|rgb|rgba|palette; samples
 *        row-major with channels interleaved (palette: indices; entries from NN_PALETTE as
 *        "r,g,b;r,g,b;...")
 *   nn-mkimage jpeg OUT WxH gray|rgb V,V,...  (quality 100)
 *   nn-mkimage idx IMAGES LABELS N WxH         item i pixel p = (i + p) % 256, label i % 10;
 *        gzip-compressed when a name ends in .gz */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>
#include <png.h>
#include <string.h>
#include <zlib.h>

static void die(const char *msg)
{
    fprintf(stderr, "nn-mkimage: %s\n", msg);
    exit(2);
}

static long *parse_values(const char *s, size_t *n)
{
    long *v = malloc((strlen(s) + 1) * sizeof *v);
    *n = 0;
    for (char *end; *s; s = *end ? end + 1 : end) v[(*n)++] = strtol(s, &end, 10);
    return v;
}

static void write_png(const char *out, int w, int h, const char *type, int depth, const char *vals)
{
    int ctype, ch;
    if (!strcmp(type, "gray")) ctype = PNG_COLOR_TYPE_GRAY, ch = 1;
    else if (!strcmp(type, "graya")) ctype = PNG_COLOR_TYPE_GRAY_ALPHA, ch = 2;
    else if (!strcmp(type, "rgb")) ctype = PNG_COLOR_TYPE_RGB, ch = 3;
    else if (!strcmp(type, "rgba")) ctype = PNG_COLOR_TYPE_RGB_ALPHA, ch = 4;
    else if (!strcmp(type, "palette")) ctype = PNG_COLOR_TYPE_PALETTE, ch = 1;
    else die("unknown PNG type");
    size_t n;
    long *v = parse_values(vals, &n);
    if (n != (size_t)w * h * ch) die("wrong number of values");
    FILE *f = fopen(out, "wb");
    if (!f) die("cannot create output");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, ctype, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        int np = 0;
        const char *p = getenv("NN_PALETTE");
        if (!p) die("palette needs NN_PALETTE");
        while (*p && np < 256) {
            int r, g, b, used;
            if (sscanf(p, "%d,%d,%d%n", &r, &g, &b, &used) != 3) die("bad NN_PALETTE");
            pal[np++] = (png_color){(png_byte)r, (png_byte)g, (png_byte)b};
            p += used;
            if (*p == ';') p++;
        }
        png_set_PLTE(png, info, pal, np);
    }
    png_write_info(png, info);
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    unsigned char *row = calloc(rowbytes, 1);
    for (int y = 0; y < h; y++) {
        memset(row, 0, rowbytes);
        for (int i = 0; i < w * ch; i++) {
            long s = v[(size_t)y * w * ch + i];
            if (depth == 16) row[2 * i] = (unsigned char)(s >> 8), row[2 * i + 1] = (unsigned char)s;
            else if (depth == 8) row[i] = (unsigned char)s;
            else row[i * depth / 8] |= (unsigned char)(s << (8 - depth - (i * depth) % 8));
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
    free(row);
    free(v);
}

static void write_jpeg(const char *out, int w, int h, const char *type, const char *vals)
{
    int ch = strcmp(type, "rgb") == 0 ? 3 : 1;
    size_t n;
    long *v = parse_values(vals, &n);
    if (n != (size_t)w * h * ch) die("wrong number of values");
    FILE *f = fopen(out, "wb");
    if (!f) die("cannot create output");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w;
    c.image_height = h;
    c.input_components = ch;
    c.in_color_space = ch == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    jpeg_start_compress(&c, TRUE);
    unsigned char *row = malloc((size_t)w * ch);
    for (int y = 0; y < h; y++) {
        for (int i = 0; i < w * ch; i++) row[i] = (unsigned char)v[(size_t)y * w * ch + i];
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(row);
    free(v);
}

static void put_be32(gzFile f, unsigned v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    gzwrite(f, b, 4);
}

static void write_idx(const char *images, const char *labels, int count, int w, int h)
{
    const char *mode[2] = {"wbT", "wb6"};   /* T: plain, no gzip wrapping */
    size_t ni = strlen(images), nl = strlen(labels);
    gzFile fi = gzopen(images, mode[ni > 3 && !strcmp(images + ni - 3, ".gz")]);
    gzFile fl = gzopen(labels, mode[nl > 3 && !strcmp(labels + nl - 3, ".gz")]);
    if (!fi || !fl) die("cannot create output");
    unsigned char head[4] = {0, 0, 8, 3}, lhead[4] = {0, 0, 8, 1};
    gzwrite(fi, head, 4);
    put_be32(fi, count);
    put_be32(fi, h);
    put_be32(fi, w);
    gzwrite(fl, lhead, 4);
    put_be32(fl, count);
    for (int i = 0; i < count; i++) {
        for (int p = 0; p < w * h; p++) {
            unsigned char b = (unsigned char)((i + p) % 256);
            gzwrite(fi, &b, 1);
        }
        unsigned char l = (unsigned char)(i % 10);
        gzwrite(fl, &l, 1);
    }
    gzclose(fi);
    gzclose(fl);
}

int main(int argc, char **argv)
{
    int w, h;
    if (argc >= 7 && !strcmp(argv[1], "png") && sscanf(argv[3], "%dx%d", &w, &h) == 2)
        write_png(argv[2], w, h, argv[4], atoi(argv[5]), argv[6]);
    else if (argc >= 6 && !strcmp(argv[1], "jpeg") && sscanf(argv[3], "%dx%d", &w, &h) == 2)
        write_jpeg(argv[2], w, h, argv[4], argv[5]);
    else if (argc >= 6 && !strcmp(argv[1], "idx") && sscanf(argv[5], "%dx%d", &w, &h) == 2)
        write_idx(argv[2], argv[3], atoi(argv[4]), w, h);
    else
        die("usage: see the comment at the top of tests/tools/nn-mkimage.c");
    return 0;
}
