/* The floor for bench/ingest.sh: decode each PNG named on the command line with libpng into
 * memory (8-bit gray or as stored), nothing else. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    unsigned long sum = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) return 1;
        png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png_create_info_struct(png);
        if (setjmp(png_jmpbuf(png))) return 1;
        png_init_io(png, f);
        png_read_info(png, info);
        png_set_expand(png);
        png_set_strip_16(png);
        png_read_update_info(png, info);
        png_uint_32 h = png_get_image_height(png, info);
        size_t stride = png_get_rowbytes(png, info);
        png_bytep buf = malloc(stride * h), *rows = malloc(h * sizeof *rows);
        for (png_uint_32 y = 0; y < h; y++) rows[y] = buf + y * stride;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        sum += buf[stride * h / 2];
        png_destroy_read_struct(&png, &info, NULL);
        free(buf);
        free(rows);
        fclose(f);
    }
    return sum == 12345678 ? 2 : 0;   /* keep the work observable */
}
