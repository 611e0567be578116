/* A whole stream in memory as a matrix of f32 rows, for the stages that cannot stream
 * (training, PCA). u8 values are divided by 255, as nn-ingest's f32 output is. */
#include "nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void load(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi,
                 const char *range_hint, int names)
{
    nn_reader *r = nn_open_stream(spec, h);
    memset(m, 0, sizeof *m);
    m->d = h->count;
    size_t cap = 1024;
    m->x = nn_xmalloc(cap * m->d * sizeof(float));
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        if (names && (m->n & (m->n - 1)) == 0) {   /* at 0, 1, 2, 4, ... records: grow */
            size_t c = m->n ? 2 * m->n : 1;
            m->id = nn_xrealloc(m->id, c * sizeof(char *));
            m->label = nn_xrealloc(m->label, c * sizeof(char *));
            m->group = nn_xrealloc(m->group, c * sizeof(char *));
        }
        if (m->n == cap) {
            cap *= 2;
            m->x = nn_xrealloc(m->x, cap * m->d * sizeof(float));
        }
        if (names) {
            m->id[m->n] = nn_xstrdup(rec.id);
            m->label[m->n] = nn_xstrdup(rec.label);
            m->group[m->n] = nn_xstrdup(rec.group);
        }
        float *row = m->x + m->n * m->d;
        for (size_t j = 0; j < m->d; j++) {
            float v = h->dtype == NN_F32 ? rec.f32[j] : (float)rec.u8[j] / 255.0f;
            if (!isfinite(v))
                nn_die("%s: record %zu (%s): value %zu is %s", spec, m->n + 1, rec.id, j + 1,
                       isnan(v) ? "NaN" : "infinite");
            if (v < lo || v > hi)
                nn_die("%s: record %zu (%s): value %zu is %g, outside [%g, %g]%s", spec, m->n + 1,
                       rec.id, j + 1, v, lo, hi, range_hint ? range_hint : "");
            row[j] = v;
        }
        m->n++;
    }
    if (nn_read_end(r) != 0) nn_die("%s", nn_reader_error(r));
    nn_reader_close(r);
}

void nn_matrix_load(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi,
                    const char *range_hint)
{
    load(spec, h, m, lo, hi, range_hint, 0);
}

void nn_matrix_load_named(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi)
{
    load(spec, h, m, lo, hi, "", 1);
}

void nn_matrix_free(nn_matrix *m)
{
    for (size_t i = 0; m->id && i < m->n; i++) {
        free(m->id[i]);
        free(m->label[i]);
        free(m->group[i]);
    }
    free(m->id);
    free(m->label);
    free(m->group);
    free(m->x);
    memset(m, 0, sizeof *m);
}

/* The key: the group's length first, so that no group and label pair reads as another. */
static char *row_key(const char *group, const char *label)
{
    size_t n = strlen(group) + strlen(label) + 24;
    char *k = nn_xmalloc(n);
    snprintf(k, n, "%zu:%s%s", strlen(group), group, label);
    return k;
}

long nn_row_index_add(nn_row_index *ix, const char *group, const char *label, size_t row)
{
    char *k = row_key(group, label);
    uint64_t had = nn_strcount_get(&ix->map, k);
    if (!had) nn_strcount_set(&ix->map, k, (uint64_t)row + 1);
    free(k);
    return had ? (long)had - 1 : -1;
}

void nn_row_index_build(nn_row_index *ix, const nn_matrix *m)
{
    memset(ix, 0, sizeof *ix);
    for (size_t i = 0; i < m->n; i++) nn_row_index_add(ix, m->group[i], m->label[i], i);
}

long nn_row_index_find(const nn_row_index *ix, const char *group, const char *label)
{
    char *k = row_key(group, label);
    uint64_t v = nn_strcount_get(&ix->map, k);
    free(k);
    return (long)v - 1;
}

void nn_row_index_free(nn_row_index *ix) { nn_strcount_free(&ix->map); }
