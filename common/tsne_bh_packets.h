/* Barnes-Hut queries in packets, one instance per vector width: common/tsne_bh.c includes this
 * file once for each instruction set, after defining
 *   SUFFIX      the instance's name suffix (the functions are X_SUFFIX);
 *   TARGET      the function attribute that selects the instruction set (may be empty);
 *   LANES       doubles to a vector, for the queries' criterion;
 *   FLANES      floats to a vector, for the sums;
 *   LT_BITS(bits, a, b)  bits = the mask of lanes l with a[l] < b[l], for vd a and b.
 * It defines run_slice_SUFFIX, a thread's share of nn_bhtree_repulsion. The per-lane arithmetic
 * is the same in every instance; only the vectors' width differs. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define NAME(x) CAT(x, SUFFIX)
#define NB (GROUP / LANES)    /* blocks of queries for the criterion */
#define NBF (GROUP / FLANES)  /* blocks of queries for the sums */
#define LANE_BITS (((lmask)1 << LANES) - 1)
#define FLANE_BITS (((lmask)1 << FLANES) - 1)

typedef double NAME(vd) __attribute__((vector_size(8 * LANES)));
typedef int64_t NAME(vi) __attribute__((vector_size(8 * LANES)));
typedef float NAME(vf) __attribute__((vector_size(4 * FLANES)));
typedef int32_t NAME(vfi) __attribute__((vector_size(4 * FLANES)));
#define vd NAME(vd)
#define vi NAME(vi)
#define vf NAME(vf)
#define vfi NAME(vfi)
#define packet NAME(packet)

typedef struct {
    vd q[3][NB];          /* lane l of block b: query LANES b + l, for the criterion */
    vf qf[3][NBF];        /* the same, relative to the tree's centre, in float, for the sums */
    vf s[NBF], r[3][NBF]; /* their sumw and rep */
    float *x[3], *c;      /* the listed terms: position relative to the tree's centre, count */
    lmask *lanes;         /* and the queries they apply to */
    uint16_t *sel;        /* scratch for the flush: the terms of each block */
    size_t n;
} packet;

/* Sums the listed terms into the queries' totals and empties the list. */
TARGET ALWAYS_INLINE void NAME(flush)(packet *P, int D)
{
    const float *x0 = P->x[0], *x1 = P->x[1], *x2 = P->x[D - 1], *c = P->c;
    const lmask *lanes = P->lanes;
    /* Each block's terms listed first, all blocks in one pass and without a branch: a branch
     * per term and block was mispredicted often enough to cost more than the lists. */
    uint16_t *sel = P->sel;   /* NBF lists of up to CHUNK term numbers */
    size_t cnt[NBF] = {0};
    for (size_t j = 0; j < P->n; j++) {
        lmask lj = lanes[j];
        for (int b = 0; b < NBF; b++) {
            sel[b * CHUNK + cnt[b]] = (uint16_t)j;
            cnt[b] += (lj >> (FLANES * b) & FLANE_BITS) != 0;
        }
    }
    vfi bit;
    for (int l = 0; l < FLANES; l++) bit[l] = 1 << l;
    for (int b = 0; b < NBF; b++) {
        vf q0 = P->qf[0][b], q1 = P->qf[1][b], q2 = P->qf[D - 1][b];
        vf s = P->s[b], r0 = P->r[0][b], r1 = P->r[1][b], r2 = P->r[D - 1][b];
        const uint16_t *sb = sel + b * CHUNK;
        for (size_t t = 0; t < cnt[b]; t++) {
            size_t j = sb[t];
            vfi m = (bit & (int32_t)(lanes[j] >> (FLANES * b) & FLANE_BITS)) != 0;
            vf e0 = q0 - x0[j], e1 = q1 - x1[j], e2 = q2 - x2[j];
            vf d2 = e0 * e0 + e1 * e1;
            if (D == 3) d2 += e2 * e2;
            vf w = 1 / (1 + d2), cw = c[j] * w;
            s += (vf)((vfi)cw & m);
            cw *= w;
            r0 += (vf)((vfi)(cw * e0) & m);
            r1 += (vf)((vfi)(cw * e1) & m);
            if (D == 3) r2 += (vf)((vfi)(cw * e2) & m);
        }
        P->s[b] = s;
        P->r[0][b] = r0;
        P->r[1][b] = r1;
        if (D == 3) P->r[2][b] = r2;
    }
    P->n = 0;
}

TARGET ALWAYS_INLINE void NAME(list)(const nn_bhtree *t, packet *P, const double *x, double count,
                                     lmask lanes, int D)
{
    if (P->n == CHUNK) NAME(flush)(P, D);
    for (int d = 0; d < D; d++) P->x[d][P->n] = (float)(x[d] - t->centre[d]);
    P->c[P->n] = (float)count;
    P->lanes[P->n++] = lanes;
}

TARGET ALWAYS_INLINE void NAME(list_leaf)(const nn_bhtree *t, packet *P, const meta *mt,
                                          lmask lanes, int D)
{
    const double *p = t->pts + (size_t)mt->first * (size_t)D;
    for (uint32_t j = 0; j < mt->count; j++, p += D) NAME(list)(t, P, p, 1, lanes, D);
}

TARGET ALWAYS_INLINE void NAME(walk)(const nn_bhtree *t, packet *P, lmask all, const double *bmin,
                                     const double *bmax, double th2, int D)
{
    const unsigned char *nodes = t->nodes;
    const size_t stride = node_bytes(D);
    const double far = th2 * (1 - MARGIN), near = th2 * (1 + MARGIN);
    const uint32_t nnodes = (uint32_t)t->nnodes;
    /* (end of subtree, queries descending in it); a new entry only where the queries change */
    uint32_t st_end[MAX_DEPTH + 2];
    lmask st_lanes[MAX_DEPTH + 2];
    int sp = 1;
    st_end[0] = nnodes;
    st_lanes[0] = all;
    uint32_t i = 0;
    while (i < nnodes) {
        while (i >= st_end[sp - 1]) sp--;
        lmask M = st_lanes[sp - 1];
        const double *com = (const double *)(nodes + i * stride);
        const meta *mt = (const meta *)(com + D);
        double s2 = t->side2[mt->depth], dmin2 = 0, dmax2 = 0;
        for (int d = 0; d < D; d++) {
            double a = bmin[d] - com[d], b = com[d] - bmax[d];
            double gap = a > 0 ? a : b > 0 ? b : 0, span = -a > -b ? -a : -b;
            dmin2 += gap * gap;
            dmax2 += span * span;
        }
        int leaf = mt->next == i + 1;
        if (s2 < far * dmin2) { /* summarised for the whole box */
            NAME(list)(t, P, com, (double)mt->count, M, D);
            i = mt->next;
        } else if (s2 >= near * dmax2) { /* opened for the whole box */
            if (leaf) NAME(list_leaf)(t, P, mt, M, D);
            i = leaf ? mt->next : i + 1;
        } else { /* each query decides */
            lmask summ = 0;
            for (int b = 0; b < NB; b++) {
                if (!(M >> (LANES * b) & LANE_BITS)) continue;
                vd d2 = {0};
                for (int d = 0; d < D; d++) {
                    vd e = P->q[d][b] - com[d];
                    d2 += e * e;
                }
                lmask bits;
                LT_BITS(bits, s2 + (vd){0}, th2 * d2);
                summ |= bits << (LANES * b);
            }
            summ &= M;
            lmask open = M & ~summ;
            if (summ) NAME(list)(t, P, com, (double)mt->count, summ, D);
            if (leaf) {
                if (open) NAME(list_leaf)(t, P, mt, open, D);
                i = mt->next;
            } else if (!open) {
                i = mt->next;
            } else {
                if (open != M) {
                    st_end[sp] = mt->next;
                    st_lanes[sp++] = open;
                }
                i++;
            }
        }
    }
    NAME(flush)(P, D);
}

TARGET ALWAYS_INLINE void NAME(run_packets)(slice *s, packet *P, int D)
{
    const nn_bhtree *t = s->t;
    for (size_t g = take_packet(s); g < s->ngroups; g = take_packet(s)) {
        size_t a = g * GROUP, n = a + GROUP < s->m ? GROUP : s->m - a, idx[GROUP];
        double bmin[3] = {INFINITY, INFINITY, INFINITY}, bmax[3] = {-INFINITY, -INFINITY, -INFINITY};
        lmask all = 0;   /* the queries inside: the others (NaN too) walk on their own */
        size_t lost[GROUP], nlost = 0;
        for (size_t k = 0; k < GROUP; k++) {
            idx[k] = k < n ? s->order ? (size_t)(s->order[a + k] & 0xffffffffu) : a + k : idx[0];
            const double *q = s->q + idx[k] * (size_t)D;
            int inside = 1;   /* finite, and within FLOAT_SPAN of the centre */
            for (int d = 0; d < D; d++) inside &= fabs(q[d] - t->centre[d]) <= FLOAT_SPAN;
            for (int d = 0; d < D; d++) {
                double v = inside ? q[d] : 0;
                if (inside && k < n) bmin[d] = v < bmin[d] ? v : bmin[d], bmax[d] = v > bmax[d] ? v : bmax[d];
                P->q[d][k / LANES][k % LANES] = v;
                P->qf[d][k / FLANES][k % FLANES] = (float)(v - t->centre[d]);
            }
            if (k < n && inside) all |= (lmask)1 << k;
            else if (k < n) lost[nlost++] = idx[k];
        }
        if (nlost) walk_each(s, lost, nlost);
        if (!all) continue;
        for (int b = 0; b < NBF; b++) {
            P->s[b] = (vf){0};
            for (int d = 0; d < D; d++) P->r[d][b] = (vf){0};
        }
        NAME(walk)(t, P, all, bmin, bmax, s->th2, D);
        for (size_t k = 0; k < n; k++) {
            if (!(all >> k & 1)) continue;
            size_t o = out_of(s, idx[k]);
            for (int d = 0; d < D; d++) s->rep[o * (size_t)D + d] = P->r[d][k / FLANES][k % FLANES];
            s->sumw[o] = P->s[k / FLANES][k % FLANES];
        }
    }
}

TARGET static void *NAME(run_slice)(void *arg)
{
    slice *s = arg;
    packet P;
    float *buf = s->buf;
    for (int d = 0; d < 3; d++) P.x[d] = buf + d * CHUNK;
    P.c = buf + 3 * CHUNK;
    P.lanes = (lmask *)(buf + 4 * CHUNK);
    P.sel = (uint16_t *)(P.lanes + CHUNK);
    P.n = 0;
    if (s->t->dims == 2) NAME(run_packets)(s, &P, 2);
    else NAME(run_packets)(s, &P, 3);
    return NULL;
}

#undef vd
#undef vi
#undef vf
#undef vfi
#undef packet
#undef NB
#undef NBF
#undef LANE_BITS
#undef FLANE_BITS
#undef NAME
#undef CAT
#undef CAT_
