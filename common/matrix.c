/* A whole stream in memory as a matrix of f32 rows, for the stages that cannot stream
 * (training, PCA). u8 values are divided by 255, as nn-ingest's f32 output is. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nn_matrix_load(const char *spec, nn_header *h, nn_matrix *m, float lo, float hi,
                    const char *range_hint)
{
    nn_reader *r = nn_open_stream(spec, h);
    memset(m, 0, sizeof *m);
    m->d = h->count;
    size_t cap = 1024;
    m->x = nn_xmalloc(cap * m->d * sizeof(float));
    nn_record rec;
    while (nn_next_record(r, &rec) > 0) {
        if (m->n == cap) {
            cap *= 2;
            m->x = nn_xrealloc(m->x, cap * m->d * sizeof(float));
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

void nn_matrix_free(nn_matrix *m)
{
    free(m->x);
    memset(m, 0, sizeof *m);
}
