/* nn-render html: an interactive map of 2-D points in one self-contained HTML file. The page
 * draws the points on a <canvas> (pan, zoom, a tooltip with each point's id, label, group and
 * thumbnail, a legend that hides labels, a search over ids and groups); everything it needs is
 * inside it: the data as JSON, the coordinates as base64 float32, the thumbnails as PNG
 * sprite sheets in data: URIs, and the script. A Content-Security-Policy forbids the page any
 * network access. */
#include "scatter.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char USAGE[] = "nn-render html [OPTION]... POINTS [IMAGES]";
static const char SUMMARY[] =
    "Write an interactive map of the 2-D points POINTS (e.g. nn-tsne's output; - for standard\n"
    "input) as one self-contained HTML file: pan (drag), zoom (wheel), a tooltip with each\n"
    "point's id, label and group, a legend whose labels hide and show, a search over ids and\n"
    "groups. With IMAGES (an image stream: f32 in [0,1] or u8, 1 or 3 channels), the tooltip\n"
    "also shows the point's image, found by id: images larger than --thumb are shrunk (area\n"
    "average), smaller ones kept as they are and enlarged by the page (nearest), all packed in\n"
    "PNG sprite sheets. The page uses no network.";

enum { O_OUTPUT, O_TITLE, O_THUMB, O_MAX_THUMBS };
static const nn_opt OPTS[] = {
    [O_OUTPUT] = {"output", 'o', 1, "FILE", "write the page to FILE (default -, stdout)"},
    [O_TITLE] = {"title", 0, 1, "TEXT", "the page's title (default: POINTS' file name)"},
    [O_THUMB] = {"thumb", 0, 1, "PX",
                 "thumbnails at most PX pixels wide and high (default 48; 4 to 512)"},
    [O_MAX_THUMBS] = {"max-thumbs", 0, 1, "N",
                      "embed at most N thumbnails, evenly spread over the points (default 20000)"},
    {0},
};

/* Sprite sheets are at most this many pixels wide and high. */
#define SHEET_MAX 2048

/* ---------------------------------------------------------------- a growing byte buffer */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n) cap *= 2;
        b->p = nn_xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) nn_die("internal error: formatting failed");
    if ((size_t)n < sizeof tmp) {
        put(b, tmp, (size_t)n);
        return;
    }
    char *big = nn_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    put(b, big, (size_t)n);
    free(big);
}

/* Text for HTML content and attribute values. */
static void put_html(buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&#39;"); break;
        default: put(b, s, 1);
        }
    }
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 : (*p & 0xf0) == 0xe0 ? 3
               : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
    if (len > n) return 0;
    for (size_t k = 1; k < len; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    if (len == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0))) return 0;
    if (len == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))) return 0;
    return len;
}

/* A JSON string that is safe inside a <script> element: '<', '>' and '&' as \u escapes (so
 * no "</script>" or "<!--" can occur), control characters escaped, invalid UTF-8 as U+FFFD,
 * U+2028 and U+2029 escaped. */
static void put_json_str(buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            size_t k = utf8_len(p + i, n - i);
            if (!k) puts_(b, "\\ufffd"), k = 1;
            else if (k == 3 && c == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
                printf_(b, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
            else put(b, p + i, k);
            i += k;
            continue;
        }
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
        } else if (c == '\n') puts_(b, "\\n");
        else if (c == '\t') puts_(b, "\\t");
        else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') printf_(b, "\\u%04x", c);
        else put(b, &c, 1);
        i++;
    }
    put(b, "\"", 1);
}

static void put_base64(buf *b, const unsigned char *d, size_t n)
{
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char out[4096];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        out[o++] = A[v >> 18];
        out[o++] = A[(v >> 12) & 63];
        out[o++] = i + 1 < n ? A[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? A[v & 63] : '=';
        if (o == sizeof out) put(b, out, o), o = 0;
    }
    put(b, out, o);
}

/* 1234567 as "1,234,567". */
static void put_count(buf *b, uint64_t v)
{
    char num[32];
    map_count_str(v, num, sizeof num);
    puts_(b, num);
}

/* ---------------------------------------------------------------- thumbnails */

typedef struct {
    int w, h, c;               /* the images */
    int tw, th;                /* a cell of the sprite sheets: the stored thumbnail */
    int dw, dh;                /* the thumbnail as shown (at most --thumb; bigger: enlarged) */
    size_t ncells, cols, per_sheet, nsheets;
    cairo_surface_t **sheet;   /* A8 (gray; written as a gray PNG) or RGB24 */
    long *cell;                /* per point: its cell, or -1 */
} thumbs;

/* Chooses the points that get a thumbnail: all, or max of them evenly spread (point
 * floor(j n / max) for j = 0 .. max - 1), and lays out the sheets. */
static void thumbs_init(thumbs *T, const nn_header *h, const char *spec, size_t n, int px,
                        size_t max)
{
    memset(T, 0, sizeof *T);
    render_image_shape(h, spec, &T->w, &T->h, &T->c);
    int big = T->w > T->h ? T->w : T->h;
    double s = (double)px / big;
    if (big <= px) {
        /* Stored as they are, enlarged (nearest) by the page. */
        T->tw = T->w;
        T->th = T->h;
    } else {
        /* Shrunk here, by area averaging. */
        T->tw = (int)lround(T->w * s);
        T->th = (int)lround(T->h * s);
    }
    T->dw = (int)lround(T->w * s);
    T->dh = (int)lround(T->h * s);
    if (T->tw < 1) T->tw = 1;
    if (T->th < 1) T->th = 1;
    if (T->dw < 1) T->dw = 1;
    if (T->dh < 1) T->dh = 1;

    T->cell = nn_xmalloc(n * sizeof *T->cell);
    T->ncells = n < max ? n : max;
    if (T->ncells == n) {
        for (size_t i = 0; i < n; i++) T->cell[i] = (long)i;
    } else {
        for (size_t i = 0; i < n; i++) T->cell[i] = -1;
        for (size_t j = 0; j < T->ncells; j++)
            T->cell[(size_t)((uint64_t)j * n / T->ncells)] = (long)j;
    }
    if (T->ncells == 0) return;
    size_t cols = SHEET_MAX / (size_t)T->tw, rows = SHEET_MAX / (size_t)T->th;
    T->cols = cols < T->ncells ? cols : T->ncells;
    T->per_sheet = T->cols * rows;
    T->nsheets = (T->ncells + T->per_sheet - 1) / T->per_sheet;
    T->sheet = nn_xcalloc(T->nsheets, sizeof *T->sheet);
    for (size_t k = 0; k < T->nsheets; k++) {
        size_t cells = T->ncells - k * T->per_sheet;
        if (cells > T->per_sheet) cells = T->per_sheet;
        int width = (int)(T->cols * (size_t)T->tw);
        int height = (int)((cells + T->cols - 1) / T->cols * (size_t)T->th);
        T->sheet[k] = cairo_image_surface_create(T->c == 1 ? CAIRO_FORMAT_A8 : CAIRO_FORMAT_RGB24,
                                                 width, height);
        if (cairo_surface_status(T->sheet[k]) != CAIRO_STATUS_SUCCESS)
            nn_die("cannot make a %dx%d sprite sheet: %s", width, height,
                   cairo_status_to_string(cairo_surface_status(T->sheet[k])));
        cairo_surface_flush(T->sheet[k]);
    }
}

static void put_cell(thumbs *T, size_t cell, const uint8_t *t)
{
    cairo_surface_t *s = T->sheet[cell / T->per_sheet];
    size_t k = cell % T->per_sheet;
    unsigned char *data = cairo_image_surface_get_data(s);
    size_t stride = (size_t)cairo_image_surface_get_stride(s);
    size_t x0 = (k % T->cols) * (size_t)T->tw, y0 = (k / T->cols) * (size_t)T->th;
    for (int y = 0; y < T->th; y++) {
        unsigned char *row = data + (y0 + (size_t)y) * stride;
        const uint8_t *src = t + (size_t)y * (size_t)T->tw * (size_t)T->c;
        if (T->c == 1) {
            memcpy(row + x0, src, (size_t)T->tw);
            continue;
        }
        uint32_t *px = (uint32_t *)(void *)row + x0;
        for (int x = 0; x < T->tw; x++, src += 3)
            px[x] = 0xff000000u | (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
    }
}

/* Reads IMAGES once, putting each chosen point's image in its cell; dies if a point has no
 * image. Images of ids that are not points are skipped; of an id given twice, the first
 * counts. */
static void thumbs_read(thumbs *T, const char *spec, const nn_matrix *P, int px, size_t max)
{
    nn_header h = {0};
    nn_reader *r = nn_open_stream(spec, &h);
    thumbs_init(T, &h, spec, P->n, px, max);

    /* id -> its first point + 1; next: the following point with the same id. */
    nn_strcount ids = {0};
    size_t *next = nn_xmalloc(P->n * sizeof *next);
    for (size_t i = P->n; i-- > 0;) {
        uint64_t first = nn_strcount_get(&ids, P->id[i]);
        next[i] = first ? (size_t)first - 1 : SIZE_MAX;
        nn_strcount_set(&ids, P->id[i], i + 1);
    }
    unsigned char *found = nn_xcalloc(P->n, 1);
    uint8_t *t = nn_xmalloc((size_t)T->w * (size_t)T->h * (size_t)T->c);
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        uint64_t first = nn_strcount_get(&ids, rec.id);
        if (!first || found[first - 1]) continue;
        int made = 0;
        for (size_t i = (size_t)first - 1; i != SIZE_MAX; i = next[i]) {
            found[i] = 1;
            if (T->cell[i] < 0) continue;
            if (!made) render_thumb(&h, &rec, T->tw, T->th, t), made = 1;
            put_cell(T, (size_t)T->cell[i], t);
        }
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    for (size_t i = 0; i < P->n; i++)
        if (!found[i]) nn_die("%s: no image with id '%s' (point %zu)", spec, P->id[i], i + 1);
    for (size_t k = 0; k < T->nsheets; k++) cairo_surface_mark_dirty(T->sheet[k]);
    nn_reader_close(r);
    nn_header_free(&h);
    nn_strcount_free(&ids);
    free(next);
    free(found);
    free(t);
}

static cairo_status_t write_buf(void *closure, const unsigned char *data, unsigned int len)
{
    put(closure, data, len);
    return CAIRO_STATUS_SUCCESS;
}

static void thumbs_free(thumbs *T)
{
    for (size_t k = 0; k < T->nsheets; k++) cairo_surface_destroy(T->sheet[k]);
    free(T->sheet);
    free(T->cell);
}

/* ---------------------------------------------------------------- the page */

static const char CSS[] =
    "*{box-sizing:border-box}\n"
    "html,body{margin:0;height:100%}\n"
    "body{display:flex;flex-direction:column;font:14px/1.35 system-ui,-apple-system,\"Segoe UI\",\"DejaVu Sans\",sans-serif;color:#222;background:#fff}\n"
    "header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 16px;padding:8px 14px;border-bottom:1px solid #ddd}\n"
    "h1{margin:0;font-size:18px;font-weight:600;overflow-wrap:anywhere}\n"
    ".info{color:#666;font-size:13px}\n"
    ".tools{margin-left:auto;display:flex;align-items:center;gap:8px}\n"
    "#search{font:inherit;padding:3px 6px;width:16em;border:1px solid #bbb;border-radius:4px}\n"
    "#status{color:#555;font-size:13px;min-width:6em}\n"
    "button{font:inherit;cursor:pointer}\n"
    "#reset{padding:2px 8px}\n"
    "main{flex:1;display:flex;min-height:0}\n"
    "#plot{position:relative;flex:1;min-width:0;overflow:hidden}\n"
    "#map{position:absolute;left:0;top:0;display:block;touch-action:none;cursor:crosshair}\n"
    "#map.dragging{cursor:grabbing}\n"
    "#tip{position:absolute;pointer-events:none;z-index:2;max-width:280px;padding:6px 8px;background:rgba(255,255,255,.97);border:1px solid #999;border-radius:4px;box-shadow:0 2px 6px rgba(0,0,0,.25);font-size:12px}\n"
    "#tip[hidden]{display:none}\n"
    "#tip-thumb{display:block;margin-bottom:4px;image-rendering:pixelated;border:1px solid #ccc}\n"
    "#tip-thumb[hidden]{display:none}\n"
    "#tip dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:1px 8px}\n"
    "#tip dt{color:#666}\n"
    "#tip dd{margin:0;overflow-wrap:anywhere}\n"
    "aside{width:250px;flex:none;overflow:auto;border-left:1px solid #ddd;padding:8px 10px}\n"
    "aside h2{margin:0 0 6px;font-size:14px;font-weight:600}\n"
    ".legend-tools{display:flex;gap:6px;margin-bottom:6px}\n"
    ".legend-tools button{padding:1px 8px;font-size:12px}\n"
    "#labels{list-style:none;margin:0;padding:0}\n"
    "#labels button{display:flex;align-items:center;gap:8px;width:100%;padding:3px 4px;border:0;background:none;text-align:left;border-radius:3px}\n"
    "#labels button:hover{background:#f0f0f0}\n"
    "#labels button.off{opacity:.35}\n"
    "#labels button.off .swatch{background:#fff!important;border:1px solid #888}\n"
    ".swatch{display:inline-block;flex:none;width:12px;height:12px;border-radius:50%}\n"
    ".name{flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}\n"
    ".count{color:#666;font-variant-numeric:tabular-nums}\n"
    ".hint{margin-top:10px;color:#777;font-size:12px}\n";

static const char SCRIPT[] =
    "\"use strict\";\n"
    "/* The map's logic, free of the page (node can load it: module.exports). */\n"
    "function nnLib() {\n"
    "  function b64(s) {\n"
    "    const bin = atob(s), u = new Uint8Array(bin.length);\n"
    "    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);\n"
    "    return u;\n"
    "  }\n"
    "  /* n pairs of little-endian float32 */\n"
    "  function decodeXY(bytes, n) {\n"
    "    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);\n"
    "    const xs = new Float64Array(n), ys = new Float64Array(n);\n"
    "    for (let i = 0; i < n; i++) {\n"
    "      xs[i] = dv.getFloat32(8 * i, true);\n"
    "      ys[i] = dv.getFloat32(8 * i + 4, true);\n"
    "    }\n"
    "    return { xs: xs, ys: ys };\n"
    "  }\n"
    "  /* The bounding box, never empty along an axis. */\n"
    "  function bounds(xs, ys) {\n"
    "    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;\n"
    "    for (let i = 0; i < xs.length; i++) {\n"
    "      if (xs[i] < x0) x0 = xs[i];\n"
    "      if (xs[i] > x1) x1 = xs[i];\n"
    "      if (ys[i] < y0) y0 = ys[i];\n"
    "      if (ys[i] > y1) y1 = ys[i];\n"
    "    }\n"
    "    if (!(x0 <= x1)) { x0 = -1; x1 = 1; y0 = -1; y1 = 1; }\n"
    "    if (x1 - x0 <= 0) { const d = Math.abs(x0) * 0.5 || 1; x0 -= d; x1 += d; }\n"
    "    if (y1 - y0 <= 0) { const d = Math.abs(y0) * 0.5 || 1; y0 -= d; y1 += d; }\n"
    "    return { x0: x0, x1: x1, y0: y0, y1: y1 };\n"
    "  }\n"
    "  /* A view: data (cx, cy) at the centre of a W x H area, s pixels a unit, y up. */\n"
    "  function fitView(b, W, H, pad) {\n"
    "    const w = Math.max(1, W - 2 * pad), h = Math.max(1, H - 2 * pad);\n"
    "    return { cx: (b.x0 + b.x1) / 2, cy: (b.y0 + b.y1) / 2,\n"
    "             s: Math.min(w / (b.x1 - b.x0), h / (b.y1 - b.y0)) };\n"
    "  }\n"
    "  function toData(v, W, H, sx, sy) {\n"
    "    return { x: (sx - W / 2) / v.s + v.cx, y: v.cy - (sy - H / 2) / v.s };\n"
    "  }\n"
    "  function toScreen(v, W, H, x, y) {\n"
    "    return { x: (x - v.cx) * v.s + W / 2, y: H / 2 - (y - v.cy) * v.s };\n"
    "  }\n"
    "  /* Zooms by f keeping the data point under (mx, my) in place; s stays in [smin, smax]. */\n"
    "  function zoomAt(v, W, H, mx, my, f, smin, smax) {\n"
    "    const p = toData(v, W, H, mx, my);\n"
    "    const s = Math.min(smax, Math.max(smin, v.s * f));\n"
    "    return { cx: p.x - (mx - W / 2) / s, cy: p.y + (my - H / 2) / s, s: s };\n"
    "  }\n"
    "  /* A uniform grid over the box, about 2 points a cell: items[start[c] .. start[c + 1]) are\n"
    "   * the points of cell c (row-major, g x g). */\n"
    "  function buildGrid(xs, ys, b) {\n"
    "    const n = xs.length, g = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 2))));\n"
    "    const cw = (b.x1 - b.x0) / g, ch = (b.y1 - b.y0) / g;\n"
    "    const cell = new Uint32Array(n), start = new Uint32Array(g * g + 1);\n"
    "    for (let i = 0; i < n; i++) {\n"
    "      const cx = Math.min(g - 1, Math.max(0, Math.floor((xs[i] - b.x0) / cw)));\n"
    "      const cy = Math.min(g - 1, Math.max(0, Math.floor((ys[i] - b.y0) / ch)));\n"
    "      cell[i] = cy * g + cx;\n"
    "      start[cell[i] + 1]++;\n"
    "    }\n"
    "    for (let c = 0; c < g * g; c++) start[c + 1] += start[c];\n"
    "    const fill = start.slice(0, g * g), items = new Uint32Array(n);\n"
    "    for (let i = 0; i < n; i++) items[fill[cell[i]]++] = i;\n"
    "    return { g: g, x0: b.x0, y0: b.y0, cw: cw, ch: ch, start: start, items: items };\n"
    "  }\n"
    "  /* The nearest point to (qx, qy) within r whose class is on; -1 if none. Ties: lowest index. */\n"
    "  function nearest(G, xs, ys, cls, on, qx, qy, r) {\n"
    "    const g = G.g;\n"
    "    let i0 = Math.floor((qx - r - G.x0) / G.cw), i1 = Math.floor((qx + r - G.x0) / G.cw);\n"
    "    let j0 = Math.floor((qy - r - G.y0) / G.ch), j1 = Math.floor((qy + r - G.y0) / G.ch);\n"
    "    if (i1 < 0 || j1 < 0 || i0 > g - 1 || j0 > g - 1) return -1;\n"
    "    i0 = Math.max(0, i0); j0 = Math.max(0, j0);\n"
    "    i1 = Math.min(g - 1, i1); j1 = Math.min(g - 1, j1);\n"
    "    let best = -1, bd = r * r;\n"
    "    for (let j = j0; j <= j1; j++)\n"
    "      for (let i = i0; i <= i1; i++) {\n"
    "        const c = j * g + i;\n"
    "        for (let k = G.start[c]; k < G.start[c + 1]; k++) {\n"
    "          const p = G.items[k];\n"
    "          if (!on[cls[p]]) continue;\n"
    "          const dx = xs[p] - qx, dy = ys[p] - qy, d = dx * dx + dy * dy;\n"
    "          if (d < bd || (d === bd && (best < 0 || p < best))) { bd = d; best = p; }\n"
    "        }\n"
    "      }\n"
    "    return best;\n"
    "  }\n"
    "  /* Points whose id or group contains q (case-insensitive); null for an empty query. */\n"
    "  function matchMask(q, idsLower, groupsLower) {\n"
    "    q = q.trim().toLowerCase();\n"
    "    if (!q) return null;\n"
    "    const n = idsLower.length, mask = new Uint8Array(n);\n"
    "    let count = 0;\n"
    "    for (let i = 0; i < n; i++)\n"
    "      if (idsLower[i].indexOf(q) >= 0 || groupsLower[i].indexOf(q) >= 0) { mask[i] = 1; count++; }\n"
    "    return { mask: mask, count: count };\n"
    "  }\n"
    "  /* A fixed shuffled drawing order (xorshift32), so no class is always on top. */\n"
    "  function drawOrder(n) {\n"
    "    const o = new Uint32Array(n);\n"
    "    for (let i = 0; i < n; i++) o[i] = i;\n"
    "    let s = 2463534242;\n"
    "    for (let i = n - 1; i > 0; i--) {\n"
    "      s = (s ^ (s << 13)) >>> 0; s = (s ^ (s >>> 17)) >>> 0; s = (s ^ (s << 5)) >>> 0;\n"
    "      const j = s % (i + 1), t = o[i];\n"
    "      o[i] = o[j]; o[j] = t;\n"
    "    }\n"
    "    return o;\n"
    "  }\n"
    "  /* The pixels of a disc of radius r: offsets (dx, dy pairs) and each one's coverage in\n"
    "   * (0, 1], so that the edge is smooth (anti-aliased over a pixel), not stair-stepped. */\n"
    "  function disc(r) {\n"
    "    const off = [], cov = [], R = Math.ceil(r + 0.5);\n"
    "    for (let dy = -R; dy <= R; dy++)\n"
    "      for (let dx = -R; dx <= R; dx++) {\n"
    "        const c = Math.min(1, r + 0.5 - Math.sqrt(dx * dx + dy * dy));\n"
    "        if (c > 0.02) { off.push(dx, dy); cov.push(c); }\n"
    "      }\n"
    "    if (!off.length) { off.push(0, 0); cov.push(1); }\n"
    "    return { off: Int32Array.from(off), cov: Float32Array.from(cov) };\n"
    "  }\n"
    "  function parseColour(hex) {\n"
    "    return [parseInt(hex.substr(1, 2), 16), parseInt(hex.substr(3, 2), 16),\n"
    "            parseInt(hex.substr(5, 2), 16)];\n"
    "  }\n"
    "  /* Blends the visible points into img (RGBA, w x h, already cleared) as discs of radius r\n"
    "   * pixels with opacity a, in the view v (pixels here are the image's). With match, the\n"
    "   * others are faint and the matches opaque, larger, with a dark rim, on top. */\n"
    "  function renderPoints(img, v, xs, ys, cls, on, order, rgb, a, r, match) {\n"
    "    const w = img.width, h = img.height, hw = w / 2, hh = h / 2, n = order.length;\n"
    "    const d = new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.length);\n"
    "    /* One pass: the points whose match flag is sel (all, without match), in colour or black. */\n"
    "    function pass(rad, sel, al, black) {\n"
    "      const dk = disc(rad), off = dk.off, m = off.length >> 1, R = Math.ceil(rad + 0.5) + 1;\n"
    "      const ai = new Int32Array(m), lin = new Int32Array(m);\n"
    "      for (let k = 0; k < m; k++) {\n"
    "        lin[k] = (off[2 * k + 1] * w + off[2 * k]) * 4;\n"
    "        ai[k] = Math.round(al * dk.cov[k] * 256);\n"
    "      }\n"
    "      for (let t = 0; t < n; t++) {\n"
    "        const i = order[t], c = cls[i];\n"
    "        if (!on[c] || (match && match[i] !== sel)) continue;\n"
    "        const px = Math.round((xs[i] - v.cx) * v.s + hw), py = Math.round(hh - (ys[i] - v.cy) * v.s);\n"
    "        if (px < -R || py < -R || px >= w + R || py >= h + R) continue;\n"
    "        const cr = black ? 0 : rgb[3 * c], cg = black ? 0 : rgb[3 * c + 1];\n"
    "        const cb = black ? 0 : rgb[3 * c + 2];\n"
    "        if (px >= R && py >= R && px < w - R && py < h - R) {\n"
    "          const base = (py * w + px) * 4;\n"
    "          for (let k = 0; k < m; k++) {\n"
    "            const q = base + lin[k];\n"
    "            d[q] += ((cr - d[q]) * ai[k]) >> 8;\n"
    "            d[q + 1] += ((cg - d[q + 1]) * ai[k]) >> 8;\n"
    "            d[q + 2] += ((cb - d[q + 2]) * ai[k]) >> 8;\n"
    "          }\n"
    "          continue;\n"
    "        }\n"
    "        for (let k = 0; k < m; k++) {\n"
    "          const x = px + off[2 * k], y = py + off[2 * k + 1];\n"
    "          if (x < 0 || y < 0 || x >= w || y >= h) continue;\n"
    "          const q = (y * w + x) * 4;\n"
    "          d[q] += ((cr - d[q]) * ai[k]) >> 8;\n"
    "          d[q + 1] += ((cg - d[q + 1]) * ai[k]) >> 8;\n"
    "          d[q + 2] += ((cb - d[q + 2]) * ai[k]) >> 8;\n"
    "        }\n"
    "      }\n"
    "    }\n"
    "    if (!match) {\n"
    "      pass(r, 0, a, false);\n"
    "      return;\n"
    "    }\n"
    "    /* The matches at least 3.5 pixels across their fill, so that one match among\n"
    "     * thousands of 1-pixel dots stands out, inside a 1.5-pixel black rim. */\n"
    "    const rm = Math.max(r * 1.5, 3.5);\n"
    "    pass(r, 0, a * 0.3, false);\n"
    "    pass(rm + 1.5, 1, 1, true);\n"
    "    pass(rm, 1, 1, false);\n"
    "  }\n"
    "  return { b64: b64, decodeXY: decodeXY, bounds: bounds, fitView: fitView, toData: toData,\n"
    "           toScreen: toScreen, zoomAt: zoomAt, buildGrid: buildGrid, nearest: nearest,\n"
    "           matchMask: matchMask, drawOrder: drawOrder, disc: disc, parseColour: parseColour,\n"
    "           renderPoints: renderPoints };\n"
    "}\n"
    "\n"
    "/* The page. */\n"
    "function nnMain(L) {\n"
    "  const D = JSON.parse(document.getElementById(\"nn-data\").textContent);\n"
    "  const n = D.n, K = D.labels.length, T = D.thumb;\n"
    "  const xy = L.decodeXY(L.b64(D.xy), n), xs = xy.xs, ys = xy.ys;\n"
    "  const cls = Uint32Array.from(D.label), on = new Uint8Array(K).fill(1);\n"
    "  const rgb = new Uint8Array(3 * K);\n"
    "  D.colours.forEach(function (c, k) { rgb.set(L.parseColour(c), 3 * k); });\n"
    "  const order = L.drawOrder(n), box = L.bounds(xs, ys), grid = L.buildGrid(xs, ys, box);\n"
    "  const idsLower = D.id.map(function (s) { return s.toLowerCase(); });\n"
    "  const groupsLower = D.group.map(function (s) { return s.toLowerCase(); });\n"
    "  const $ = function (id) { return document.getElementById(id); };\n"
    "  const plotBox = $(\"plot\"), canvas = $(\"map\"), ctx = canvas.getContext(\"2d\");\n"
    "  const tip = $(\"tip\"), tipThumb = $(\"tip-thumb\"), search = $(\"search\"), status = $(\"status\");\n"
    "  const off = document.createElement(\"canvas\"), offCtx = off.getContext(\"2d\");\n"
    "  const sheets = T ? T.sheets.map(function (src) {\n"
    "    const im = new Image();\n"
    "    im.onload = function () { if (hover >= 0) showTip(hover); };\n"
    "    im.src = src;\n"
    "    return im;\n"
    "  }) : [];\n"
    "  let W = 1, H = 1, dpr = 1, img = null, view = null, s0 = 1, match = null, hover = -1;\n"
    "  let dirty = true, frame = 0, drag = null, last = null, rv = null, drawn = 0, cost = 0;\n"
    "\n"
    "  function pointRadius() { return Math.min(9, D.radius * Math.pow(view.s / s0, 0.45)); }\n"
    "  function pointAlpha() { return Math.min(0.9, D.alpha * Math.pow(view.s / s0, 0.35)); }\n"
    "  function fit() { return L.fitView(box, W, H, 16 + 2 * D.radius); }\n"
    "\n"
    "  function resize() {\n"
    "    const r = plotBox.getBoundingClientRect();\n"
    "    W = Math.max(1, Math.floor(r.width));\n"
    "    H = Math.max(1, Math.floor(r.height));\n"
    "    dpr = window.devicePixelRatio || 1;\n"
    "    const cw = Math.max(1, Math.round(W * dpr)), ch = Math.max(1, Math.round(H * dpr));\n"
    "    canvas.width = off.width = cw;\n"
    "    canvas.height = off.height = ch;\n"
    "    canvas.style.width = W + \"px\";\n"
    "    canvas.style.height = H + \"px\";\n"
    "    img = offCtx.createImageData(cw, ch);\n"
    "    rv = null;\n"
    "    const f = fit();\n"
    "    if (!view) view = f;\n"
    "    else view = { cx: view.cx, cy: view.cy, s: view.s * f.s / s0 };\n"
    "    s0 = f.s;\n"
    "    schedule(true);\n"
    "  }\n"
    "  function schedule(changed) {\n"
    "    if (changed) dirty = true;\n"
    "    if (!frame) frame = requestAnimationFrame(draw);\n"
    "  }\n"
    "  /* The points are drawn to the offscreen canvas for the view rv; while that costs more than\n"
    "   * a frame, the page redraws them at most every other 2 x cost ms and, in between, shows the\n"
    "   * last drawing moved and scaled to the current view. */\n"
    "  function draw() {\n"
    "    frame = 0;\n"
    "    const now = performance.now();\n"
    "    if (dirty && (!rv || now - drawn >= 2 * cost)) {\n"
    "      new Uint32Array(img.data.buffer).fill(0xffffffff);\n"
    "      L.renderPoints(img, { cx: view.cx, cy: view.cy, s: view.s * img.width / W }, xs, ys, cls,\n"
    "                     on, order, rgb, pointAlpha(), pointRadius() * dpr, match && match.mask);\n"
    "      offCtx.putImageData(img, 0, 0);\n"
    "      dirty = false;\n"
    "      rv = view;\n"
    "      drawn = performance.now();\n"
    "      cost = drawn - now;\n"
    "    }\n"
    "    ctx.setTransform(1, 0, 0, 1, 0, 0);\n"
    "    if (rv === view) ctx.drawImage(off, 0, 0);\n"
    "    else {\n"
    "      const k = view.s / rv.s, sx = img.width / W, sy = img.height / H;\n"
    "      ctx.fillStyle = \"#fff\";\n"
    "      ctx.fillRect(0, 0, canvas.width, canvas.height);\n"
    "      ctx.drawImage(off, (W / 2 * (1 - k) + (rv.cx - view.cx) * view.s) * sx,\n"
    "                    (H / 2 * (1 - k) + (view.cy - rv.cy) * view.s) * sy,\n"
    "                    off.width * k, off.height * k);\n"
    "    }\n"
    "    if (hover >= 0) {\n"
    "      const p = L.toScreen(view, W, H, xs[hover], ys[hover]);\n"
    "      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);\n"
    "      ctx.beginPath();\n"
    "      ctx.arc(p.x, p.y, pointRadius() + 4, 0, 2 * Math.PI);\n"
    "      ctx.lineWidth = 2;\n"
    "      ctx.strokeStyle = \"#000\";\n"
    "      ctx.stroke();\n"
    "      ctx.beginPath();\n"
    "      ctx.arc(p.x, p.y, pointRadius() + 2, 0, 2 * Math.PI);\n"
    "      ctx.fillStyle = D.colours[cls[hover]];\n"
    "      ctx.fill();\n"
    "    }\n"
    "    if (dirty) schedule(false);\n"
    "  }\n"
    "\n"
    "  function labelName(s) { return s === \"\" ? \"(none)\" : s; }\n"
    "  function showTip(i) {\n"
    "    $(\"tip-id\").textContent = D.id[i];\n"
    "    $(\"tip-label\").textContent = labelName(D.labels[cls[i]]);\n"
    "    $(\"tip-swatch\").style.background = D.colours[cls[i]];\n"
    "    $(\"tip-group\").textContent = D.group[i];\n"
    "    const cell = T ? T.cell[i] : -1;\n"
    "    tipThumb.hidden = cell < 0;\n"
    "    if (cell >= 0) {\n"
    "      const im = sheets[Math.floor(cell / T.perSheet)], k = cell % T.perSheet;\n"
    "      tipThumb.width = Math.round(T.dw * dpr);\n"
    "      tipThumb.height = Math.round(T.dh * dpr);\n"
    "      tipThumb.style.width = T.dw + \"px\";\n"
    "      tipThumb.style.height = T.dh + \"px\";\n"
    "      const tc = tipThumb.getContext(\"2d\");\n"
    "      tc.imageSmoothingEnabled = false;\n"
    "      tc.fillStyle = \"#eee\";\n"
    "      tc.fillRect(0, 0, tipThumb.width, tipThumb.height);\n"
    "      if (im.complete && im.naturalWidth)\n"
    "        tc.drawImage(im, (k % T.cols) * T.w, Math.floor(k / T.cols) * T.h, T.w, T.h,\n"
    "                     0, 0, tipThumb.width, tipThumb.height);\n"
    "    }\n"
    "    tip.hidden = false;\n"
    "    placeTip();\n"
    "  }\n"
    "  function placeTip() {\n"
    "    if (tip.hidden || !last) return;\n"
    "    const tw = tip.offsetWidth, th = tip.offsetHeight;\n"
    "    let x = last.x + 14, y = last.y + 14;\n"
    "    if (x + tw > W) x = Math.max(0, last.x - 14 - tw);\n"
    "    if (y + th > H) y = Math.max(0, last.y - 14 - th);\n"
    "    tip.style.left = x + \"px\";\n"
    "    tip.style.top = y + \"px\";\n"
    "  }\n"
    "  function setHover(i) {\n"
    "    if (i === hover) { placeTip(); return; }\n"
    "    hover = i;\n"
    "    if (i >= 0) showTip(i);\n"
    "    else tip.hidden = true;\n"
    "    schedule(false);\n"
    "  }\n"
    "  function local(e) {\n"
    "    const r = canvas.getBoundingClientRect();\n"
    "    return { x: e.clientX - r.left, y: e.clientY - r.top };\n"
    "  }\n"
    "  function hoverAt(p) {\n"
    "    last = p;\n"
    "    const q = L.toData(view, W, H, p.x, p.y);\n"
    "    setHover(L.nearest(grid, xs, ys, cls, on, q.x, q.y, Math.max(8, pointRadius() + 5) / view.s));\n"
    "  }\n"
    "\n"
    "  canvas.addEventListener(\"pointerdown\", function (e) {\n"
    "    if (e.button !== 0) return;\n"
    "    canvas.setPointerCapture(e.pointerId);\n"
    "    drag = { x: e.clientX, y: e.clientY, cx: view.cx, cy: view.cy };\n"
    "    canvas.classList.add(\"dragging\");\n"
    "    setHover(-1);\n"
    "  });\n"
    "  canvas.addEventListener(\"pointermove\", function (e) {\n"
    "    if (drag) {\n"
    "      view = { cx: drag.cx - (e.clientX - drag.x) / view.s,\n"
    "               cy: drag.cy + (e.clientY - drag.y) / view.s, s: view.s };\n"
    "      schedule(true);\n"
    "    } else hoverAt(local(e));\n"
    "  });\n"
    "  function endDrag(e) {\n"
    "    if (!drag) return;\n"
    "    drag = null;\n"
    "    canvas.classList.remove(\"dragging\");\n"
    "    hoverAt(local(e));\n"
    "  }\n"
    "  canvas.addEventListener(\"pointerup\", endDrag);\n"
    "  canvas.addEventListener(\"pointercancel\", endDrag);\n"
    "  canvas.addEventListener(\"pointerleave\", function () { if (!drag) { last = null; setHover(-1); } });\n"
    "  canvas.addEventListener(\"wheel\", function (e) {\n"
    "    e.preventDefault();\n"
    "    const p = local(e);\n"
    "    const dy = e.deltaY * (e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? H : 1);\n"
    "    view = L.zoomAt(view, W, H, p.x, p.y, Math.exp(-dy * 0.002), s0 / 10, s0 * 10000);\n"
    "    schedule(true);\n"
    "    hoverAt(p);\n"
    "  }, { passive: false });\n"
    "  canvas.addEventListener(\"dblclick\", function (e) {\n"
    "    const p = local(e);\n"
    "    view = L.zoomAt(view, W, H, p.x, p.y, e.shiftKey ? 0.5 : 2, s0 / 10, s0 * 10000);\n"
    "    schedule(true);\n"
    "    hoverAt(p);\n"
    "  });\n"
    "  $(\"reset\").addEventListener(\"click\", function () { view = fit(); schedule(true); });\n"
    "\n"
    "  /* The legend: a button a label; click hides or shows it, shift-click shows it alone. */\n"
    "  const buttons = [];\n"
    "  function updateLegend() {\n"
    "    buttons.forEach(function (b, k) {\n"
    "      b.classList.toggle(\"off\", !on[k]);\n"
    "      b.setAttribute(\"aria-pressed\", on[k] ? \"true\" : \"false\");\n"
    "    });\n"
    "    if (hover >= 0 && !on[cls[hover]]) setHover(-1);\n"
    "    schedule(true);\n"
    "  }\n"
    "  D.labels.forEach(function (name, k) {\n"
    "    const li = document.createElement(\"li\"), b = document.createElement(\"button\");\n"
    "    const sw = document.createElement(\"span\"), nm = document.createElement(\"span\");\n"
    "    const ct = document.createElement(\"span\");\n"
    "    sw.className = \"swatch\";\n"
    "    sw.style.background = D.colours[k];\n"
    "    nm.className = \"name\";\n"
    "    nm.textContent = labelName(name);\n"
    "    nm.title = labelName(name);\n"
    "    ct.className = \"count\";\n"
    "    ct.textContent = D.counts[k].toLocaleString(\"en-US\");\n"
    "    b.type = \"button\";\n"
    "    b.append(sw, nm, ct);\n"
    "    b.addEventListener(\"click\", function (e) {\n"
    "      if (e.shiftKey) {\n"
    "        const alone = on[k] && on.reduce(function (s, v) { return s + v; }, 0) === 1;\n"
    "        on.fill(alone ? 1 : 0);\n"
    "        on[k] = 1;\n"
    "      } else on[k] = on[k] ? 0 : 1;\n"
    "      updateLegend();\n"
    "    });\n"
    "    buttons.push(b);\n"
    "    li.append(b);\n"
    "    $(\"labels\").append(li);\n"
    "  });\n"
    "  $(\"all\").addEventListener(\"click\", function () { on.fill(1); updateLegend(); });\n"
    "  $(\"none\").addEventListener(\"click\", function () { on.fill(0); updateLegend(); });\n"
    "  updateLegend();\n"
    "\n"
    "  function runSearch() {\n"
    "    match = L.matchMask(search.value, idsLower, groupsLower);\n"
    "    status.textContent = match ? match.count.toLocaleString(\"en-US\") + \" matching\" : \"\";\n"
    "    schedule(true);\n"
    "  }\n"
    "  search.addEventListener(\"input\", runSearch);\n"
    "  search.addEventListener(\"keydown\", function (e) {\n"
    "    if (e.key === \"Escape\") { search.value = \"\"; runSearch(); }\n"
    "  });\n"
    "  if (search.value) runSearch();\n"
    "\n"
    "  if (typeof ResizeObserver !== \"undefined\") new ResizeObserver(resize).observe(plotBox);\n"
    "  else window.addEventListener(\"resize\", resize);\n"
    "  resize();\n"
    "}\n"
    "\n"
    "if (typeof module !== \"undefined\" && module.exports) module.exports = nnLib();\n"
    "else nnMain(nnLib());\n";

/* Scatter's dots, in a 900-pixel picture: radius 3 at 100 points to 1 at 100,000, opacity
 * 0.9 up to 100 points to 0.35 at 70,000. The page grows both as one zooms in. */
static double default_radius(size_t n)
{
    return fmin(3, fmax(1, 3 - 2 * (log10((double)n) - 2) / 3));
}

static double default_alpha(size_t n)
{
    return fmin(0.9, fmax(0.35, 0.9 - 0.55 * (log10((double)n) - 2) / (log10(70000.0) - 2)));
}

static void put_data(buf *b, const nn_matrix *P, const map_classes *C, const thumbs *T)
{
    printf_(b, "{\"n\":%zu,\"radius\":%.4f,\"alpha\":%.4f,\"xy\":\"", P->n, default_radius(P->n),
            default_alpha(P->n));
    unsigned char *xy = nn_xmalloc(P->n * 8);
    for (size_t i = 0; i < 2 * P->n; i++) {
        uint32_t u;
        memcpy(&u, &P->x[i], 4);
        for (int k = 0; k < 4; k++) xy[4 * i + (size_t)k] = (unsigned char)(u >> (8 * k));
    }
    put_base64(b, xy, P->n * 8);
    free(xy);
    puts_(b, "\",\n\"labels\":[");
    for (size_t k = 0; k < C->k; k++) {
        if (k) put(b, ",", 1);
        put_json_str(b, C->name[k]);
    }
    puts_(b, "],\n\"counts\":[");
    for (size_t k = 0; k < C->k; k++) printf_(b, k ? ",%llu" : "%llu", (unsigned long long)C->count[k]);
    puts_(b, "],\n\"colours\":[");
    for (size_t k = 0; k < C->k; k++) {
        double rgb[3];
        render_colour(k, rgb);
        printf_(b, "%s\"#%02x%02x%02x\"", k ? "," : "", (int)lround(rgb[0] * 255),
                (int)lround(rgb[1] * 255), (int)lround(rgb[2] * 255));
    }
    puts_(b, "],\n\"label\":[");
    for (size_t i = 0; i < P->n; i++) printf_(b, i ? ",%zu" : "%zu", C->of[i]);
    puts_(b, "],\n\"id\":[");
    for (size_t i = 0; i < P->n; i++) {
        if (i) put(b, ",", 1);
        put_json_str(b, P->id[i]);
    }
    puts_(b, "],\n\"group\":[");
    for (size_t i = 0; i < P->n; i++) {
        if (i) put(b, ",", 1);
        put_json_str(b, P->group[i]);
    }
    puts_(b, "],\n\"thumb\":");
    if (!T || T->ncells == 0) {
        puts_(b, "null}");
        return;
    }
    printf_(b, "{\"w\":%d,\"h\":%d,\"dw\":%d,\"dh\":%d,\"cols\":%zu,\"perSheet\":%zu,\"cell\":[",
            T->tw, T->th, T->dw, T->dh, T->cols, T->per_sheet);
    for (size_t i = 0; i < P->n; i++) printf_(b, i ? ",%ld" : "%ld", T->cell[i]);
    puts_(b, "],\n\"sheets\":[");
    buf png = {0};
    for (size_t k = 0; k < T->nsheets; k++) {
        png.n = 0;
        cairo_status_t st = cairo_surface_write_to_png_stream(T->sheet[k], write_buf, &png);
        if (st != CAIRO_STATUS_SUCCESS)
            nn_die("cannot make a sprite sheet's PNG: %s", cairo_status_to_string(st));
        puts_(b, k ? ",\n\"data:image/png;base64," : "\"data:image/png;base64,");
        put_base64(b, (const unsigned char *)png.p, png.n);
        put(b, "\"", 1);
    }
    free(png.p);
    puts_(b, "]}}");
}

static void put_page(buf *b, const char *title, const nn_matrix *P, const map_classes *C,
                     const thumbs *T)
{
    puts_(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
             "<meta name=\"generator\" content=\"nn-render html (neuro-noodle " NN_VERSION ")\">\n"
             "<title>");
    put_html(b, title);
    puts_(b, "</title>\n<style>\n");
    puts_(b, CSS);
    puts_(b, "</style>\n</head>\n<body>\n<header>\n<h1>");
    put_html(b, title);
    puts_(b, "</h1>\n<span class=\"info\">");
    put_count(b, P->n);
    printf_(b, " point%s, ", P->n == 1 ? "" : "s");
    put_count(b, C->k);
    printf_(b, " label%s", C->k == 1 ? "" : "s");
    if (T && T->ncells) {
        puts_(b, ", ");
        put_count(b, T->ncells);
        printf_(b, " thumbnail%s", T->ncells == 1 ? "" : "s");
    }
    puts_(b, "</span>\n<div class=\"tools\"><input type=\"search\" id=\"search\" "
             "placeholder=\"Search ids and groups\" aria-label=\"Search ids and groups\" "
             "autocomplete=\"off\"><span id=\"status\" aria-live=\"polite\"></span>"
             "<button type=\"button\" id=\"reset\">Reset view</button></div>\n</header>\n"
             "<main>\n<div id=\"plot\"><canvas id=\"map\" aria-label=\"map of the points\"></canvas>\n"
             "<div id=\"tip\" hidden><canvas id=\"tip-thumb\" hidden></canvas><dl>"
             "<dt>id</dt><dd id=\"tip-id\"></dd><dt>label</dt><dd><span class=\"swatch\" "
             "id=\"tip-swatch\"></span> <span id=\"tip-label\"></span></dd>"
             "<dt>group</dt><dd id=\"tip-group\"></dd></dl></div>\n</div>\n"
             "<aside><h2>Labels</h2><div class=\"legend-tools\"><button type=\"button\" "
             "id=\"all\">All</button><button type=\"button\" id=\"none\">None</button></div>\n"
             "<ul id=\"labels\"></ul>\n<p class=\"hint\">Drag to pan; wheel or double-click to "
             "zoom (shift-double-click: out). Click a label to hide or show it, shift-click to "
             "show it alone.</p></aside>\n</main>\n"
             "<noscript><p>This map needs JavaScript.</p></noscript>\n"
             "<script type=\"application/json\" id=\"nn-data\">");
    put_data(b, P, C, T);
    puts_(b, "</script>\n<script>\n");
    puts_(b, SCRIPT);
    puts_(b, "</script>\n</body>\n</html>\n");
}

int render_html(int argc, char **argv)
{
    const char *output = "-", *title = NULL, *images = NULL;
    int px = 48;
    size_t max_thumbs = 20000;
    nn_opt_parser p;
    nn_opt_init(&p, OPTS, USAGE, SUMMARY, argc, argv);
    int k;
    while ((k = nn_opt_next(&p)) >= 0) {
        switch (k) {
        case O_OUTPUT: output = p.arg[0]; break;
        case O_TITLE: title = p.arg[0]; break;
        case O_THUMB: px = (int)nn_parse_int("--thumb", p.arg[0], 4, 512); break;
        case O_MAX_THUMBS:
            max_thumbs = (size_t)nn_parse_int("--max-thumbs", p.arg[0], 0, 100000000);
            break;
        }
    }
    if (p.npos < 1) nn_usage_error(USAGE, "no POINTS given");
    if (p.npos > 2) nn_usage_error(USAGE, "POINTS and IMAGES at most");
    const char *input = p.pos[0];
    if (p.npos == 2) images = p.pos[1];
    if (images && strcmp(input, "-") == 0 && strcmp(images, "-") == 0)
        nn_usage_error(USAGE, "standard input (-) can be read only once");
    int to_stdout = strcmp(output, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        nn_usage_error(USAGE, "refusing to write HTML to a terminal (use -o FILE)");
    if (!title) title = map_title_of(input);

    char err[700];
    nn_atomic out = {0};
    if (!to_stdout && nn_atomic_open(&out, output, err, sizeof err) != 0) nn_die("%s", err);

    nn_matrix P;
    map_points_load(input, "an html map", &P);
    map_classes C;
    map_classes_init(&C, &P, 0);
    thumbs T;
    int with_thumbs = images != NULL;
    if (with_thumbs) thumbs_read(&T, images, &P, px, max_thumbs);

    buf page = {0};
    put_page(&page, title, &P, &C, with_thumbs ? &T : NULL);
    if (to_stdout) {
        if (nn_write_all(STDOUT_FILENO, page.p, page.n) != 0)
            nn_die("stdout: write error: %s", strerror(errno));
    } else {
        if (nn_write_all(out.fd, page.p, page.n) != 0) {
            int e = errno;
            nn_atomic_abort(&out);
            nn_die("%s: write error: %s", output, strerror(e));
        }
        if (nn_atomic_commit(&out, err, sizeof err) != 0) nn_die("%s", err);
    }
    free(page.p);
    if (with_thumbs) thumbs_free(&T);
    map_classes_free(&C);
    nn_matrix_free(&P);
    nn_opt_free(&p);
    return NN_EXIT_OK;
}
