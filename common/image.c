/* Image files to float pixels: PNG (libpng, every colour type and bit depth) and JPEG
 * (libjpeg-turbo), detected by their first bytes. Values are scaled to [0, 1]; alpha is
 * dropped; colour becomes gray by the Rec. 601 luma weights (as PIL and libjpeg do). */
#include "nn.h"

#include <errno.h>
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS (1u << 27)   /* 134 M pixels: beyond this an image is refused */

void nn_image_free(nn_image *img)
{
    free(img->px);
    img->px = NULL;
}

/* Converts rows of 8- or 16-bit samples with src_c channels to img (img->c channels). Values
 * are divided by the maximum, not multiplied by its inverse: 51/255 is exactly 0.2f. */
static void to_float(nn_image *img, const unsigned char *raw, size_t stride, int src_c, int bits)
{
    static float lut[256];
    if (lut[255] == 0)
        for (int i = 0; i < 256; i++) lut[i] = (float)i / 255.0f;
    img->px = nn_xmalloc((size_t)img->w * (size_t)img->h * (size_t)img->c * sizeof(float));
    float *out = img->px;
    size_t w = (size_t)img->w;
    for (int y = 0; y < img->h; y++) {
        const unsigned char *row = raw + (size_t)y * stride;
        if (bits == 8 && src_c == 1 && img->c == 1) {    /* the common case: 8-bit gray */
            for (size_t x = 0; x < w; x++) *out++ = lut[row[x]];
            continue;
        }
        for (size_t x = 0; x < w; x++) {
            float v[3];
            for (int k = 0; k < src_c; k++) {
                size_t i = x * (size_t)src_c + (size_t)k;
                v[k] = bits == 16 ? (float)((const uint16_t *)row)[i] / 65535.0f : lut[row[i]];
            }
            if (img->c == 1) *out++ = src_c == 1 ? v[0] : 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
            else
                for (int k = 0; k < 3; k++) *out++ = src_c == 1 ? v[0] : v[k];
        }
    }
}

/* ---- PNG ---- */

typedef struct {
    jmp_buf jmp;
    char msg[200];
} png_failure;

static void png_error_fn(png_structp png, png_const_charp msg)
{
    png_failure *f = png_get_error_ptr(png);
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    longjmp(f->jmp, 1);
}

static void png_warning_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int load_png(FILE *fp, nn_image *img, char *err, size_t errlen)
{
    png_failure failure = {.msg = ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &failure, png_error_fn,
                                             png_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile raw = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        snprintf(err, errlen, "out of memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return -1;
    }
    if (setjmp(failure.jmp)) {
        snprintf(err, errlen, "PNG: %s", failure.msg);
        png_destroy_read_struct(&png, &info, NULL);
        free(raw);
        free(rows);
        nn_image_free(img);
        return -1;
    }
    png_init_io(png, fp);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((uint64_t)w * h > MAX_PIXELS) png_error(png, "image too large");
    int type = png_get_color_type(png, info), bits = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && bits < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_alpha(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png), png_set_strip_alpha(png);
    if (bits == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int src_c = png_get_channels(png, info), out_bits = png_get_bit_depth(png, info);
    size_t stride = png_get_rowbytes(png, info);
    raw = nn_xmalloc(stride * h);
    rows = nn_xmalloc(h * sizeof *rows);
    for (png_uint_32 y = 0; y < h; y++) rows[y] = raw + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    img->w = (int)w;
    img->h = (int)h;
    to_float(img, raw, stride, src_c, out_bits);
    png_destroy_read_struct(&png, &info, NULL);
    free(raw);
    free(rows);
    return 0;
}

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
} jpeg_failure;

static void jpeg_error_fn(j_common_ptr cinfo)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    cinfo->err->format_message(cinfo, f->msg);
    longjmp(f->jmp, 1);
}

/* A corrupt or truncated JPEG only raises warnings in libjpeg (it fills in gray): keep the
 * first so that it can be reported as the error it is. */
static void jpeg_message_fn(j_common_ptr cinfo, int level)
{
    jpeg_failure *f = (jpeg_failure *)cinfo->err;
    if (level < 0 && !f->msg[0]) cinfo->err->format_message(cinfo, f->msg);
    if (level < 0) cinfo->err->num_warnings++;
}

static int load_jpeg(FILE *fp, nn_image *img, char *err, size_t errlen)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    cinfo.err = jpeg_std_error(&failure.mgr);
    failure.mgr.error_exit = jpeg_error_fn;
    failure.mgr.emit_message = jpeg_message_fn;
    failure.msg[0] = 0;
    unsigned char *volatile raw = NULL;
    if (setjmp(failure.jmp)) {
        snprintf(err, errlen, "JPEG: %s", failure.msg);
        jpeg_destroy_decompress(&cinfo);
        free(raw);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, fp);
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * cinfo.image_height > MAX_PIXELS) {
        snprintf(failure.msg, sizeof failure.msg, "image too large");
        longjmp(failure.jmp, 1);
    }
    cinfo.out_color_space = img->c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    raw = nn_xmalloc(stride * cinfo.output_height);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = raw + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (failure.mgr.num_warnings > 0) longjmp(failure.jmp, 1);
    img->w = (int)cinfo.output_width;
    img->h = (int)cinfo.output_height;
    to_float(img, raw, stride, cinfo.output_components, 8);
    jpeg_destroy_decompress(&cinfo);
    free(raw);
    return 0;
}

int nn_image_load(const char *path, int channels, nn_image *img, char *err, size_t errlen)
{
    memset(img, 0, sizeof *img);
    img->c = channels;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    unsigned char magic[8] = {0};
    size_t n = fread(magic, 1, sizeof magic, fp);
    rewind(fp);
    int rc;
    if (n == 8 && png_sig_cmp(magic, 0, 8) == 0) rc = load_png(fp, img, err, errlen);
    else if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
        rc = load_jpeg(fp, img, err, errlen);
    else {
        snprintf(err, errlen, "not a PNG or JPEG image");
        rc = -1;
    }
    fclose(fp);
    return rc;
}
