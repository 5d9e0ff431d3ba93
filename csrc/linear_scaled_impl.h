/* The scaled-weight SGD epoch (fl_sgd_epoch_scaled, linear.h) for one floating type: plain
 * per-sample SGD as scikit-learn's _plain_sgd (sklearn/linear_model/_sgd_fast.pyx.tp, its
 * WeightVector), on dense rows or CSR rows. Included by linear_scaled_f64.c / _f32.c after
 * fl_real.h.
 *
 * Why a scaled vector: the L2 shrink coef *= f touches every weight; kept as coef = scale * v
 * it is one multiplication of `scale`, so a sample costs O(nnz of its row). The average
 * (averaged SGD) is kept the same way, avg = (aw + a v) / b (Bottou, "Stochastic gradient
 * descent tricks", 2012), and the L1 penalty lazily per feature (Tsuruoka et al. 2009). The
 * scalars are doubles; the vectors are REAL.
 *
 * Shape: csr_row_dot() loads and checks one CSR row and takes its dot product; the row_*
 * helpers are the loops over a row's stored entries, with `sparse` a constant at every call
 * site (dense rows: every feature, no index array); epoch_scaled() is the sample loop,
 * instantiated for dense rows and for CSR rows with int32 or int64 indices and indptr
 * (the loss is read at run time: per sample it is a few scalar operations next to a loop
 * over the row).
 */
#include "loss_rules.h"
#include "linear_rules.h" /* loss1(): one sample's loss and dl/dz */

/* scikit-learn's thresholds: below this the scale is multiplied into v (O(d), rarely) */
#define FL_SCALE_MIN (sizeof(REAL) == 8 ? 1e-9 : 1e-6)

/* Entry k of an int64 (`wide`) or int32 index array (indptr, indices), loaded once:
 * atomically (relaxed) in GNU C, so that a concurrent write gives an old or a new value,
 * never a torn one, and the value checked is the value used. */
FL_INLINE int64_t FL_NAME(csr_load)(const int wide, const void *a, int64_t k) {
#if defined(__GNUC__)
    return wide ? __atomic_load_n((const int64_t *)a + k, __ATOMIC_RELAXED)
                : __atomic_load_n((const int32_t *)a + k, __ATOMIC_RELAXED);
#else
    return wide ? ((const volatile int64_t *)a)[k] : ((const volatile int32_t *)a)[k];
#endif
}

/* The CSR arrays, read once, are hinted into L2 (T1) FL_CSR_AHEAD entries (about ten rows
 * of 50) ahead. Not non-temporal: on Intel an NTA line skips L2, and one evicted from L1
 * before its use is a miss to memory (docs/kernels.md has the figures). */
#define FL_CSR_AHEAD 512
#define FL_CSR_PREFETCH(p, size) FL_HINT_AHEAD(p, FL_CSR_AHEAD * (size), 0, 2)

/* Index k of a CSR row, loaded once; returns -1 from the enclosing row reader if it is out
 * of [0, d) (one compare and a branch that is never taken on valid input). */
#define FL_CSR_INDEX(j, k)                                                                  \
    const int64_t j = FL_NAME(csr_load)(wide, m->indices, start + (k));                    \
    if ((uint64_t)j >= (uint64_t)d) return -1;                                              \
    idx[k] = j

/* Row i of a CSR matrix with d columns, read in one pass: its values in *val, its column
 * indices (each loaded once and checked) into idx, and its dot product with w into *dot.
 * Returns the row's length, or -1 if its extent or an index is out of range (nothing is
 * indexed with it). `wide`: int64 indices and indptr, else int32 (a constant at each call
 * site). Four partial sums, unrolled by hand
 * so that they stay in registers: the loads of w, scattered over d, overlap instead of
 * waiting on one chain of additions (measured: 1.5-2x faster than one sum, and faster than
 * vector gathers, which are slow on many x86 cores). */
FL_INLINE fl_index FL_NAME(csr_row_dot)(const int wide, const fl_csr *m, fl_index i,
                                        fl_index d, int64_t *FL_RESTRICT idx,
                                        const REAL **val, const REAL *FL_RESTRICT w,
                                        REAL *dot) {
    const int64_t start = FL_NAME(csr_load)(wide, m->indptr, i);
    const int64_t end = FL_NAME(csr_load)(wide, m->indptr, i + 1);
    if (start < 0 || end < start || end > m->nnz || end - start > m->max_row) return -1;
    const fl_index len = (fl_index)(end - start);
    const REAL *FL_RESTRICT x = (const REAL *)m->data + start;
    REAL s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    fl_index k = 0;
    for (; k + 4 <= len; k += 4) {
        if ((k & 7) == 0) {
            FL_CSR_PREFETCH(x + k, sizeof(REAL));
            FL_CSR_PREFETCH((const char *)m->indices + (start + k) * (wide ? 8 : 4),
                            wide ? 8 : 4);
        }
        FL_CSR_INDEX(j0, k);
        FL_CSR_INDEX(j1, k + 1);
        FL_CSR_INDEX(j2, k + 2);
        FL_CSR_INDEX(j3, k + 3);
        s0 += w[j0] * x[k];
        s1 += w[j1] * x[k + 1];
        s2 += w[j2] * x[k + 2];
        s3 += w[j3] * x[k + 3];
    }
    for (; k < len; k++) {
        FL_CSR_INDEX(j, k);
        s0 += w[j] * x[k];
    }
    *val = x;
    *dot = (s0 + s1) + (s2 + s3);
    return len;
}
#undef FL_CSR_INDEX

/* The stored entries of CSR row i, to hint (csr_update_hint): its first index in *first
 * and its length; 0 for no row (i < 0) or a bad extent (the row's reader reports it). */
FL_INLINE fl_index FL_NAME(csr_extent)(const int wide, const fl_csr *m, fl_index i,
                                       int64_t *first) {
    *first = 0;
    if (i < 0) return 0;
    const int64_t start = FL_NAME(csr_load)(wide, m->indptr, i);
    const int64_t end = FL_NAME(csr_load)(wide, m->indptr, i + 1);
    if (start < 0 || end < start || end > m->nnz) return 0;
    *first = start;
    return (fl_index)(end - start);
}

/* w[j_k] += c x_k over the m entries of a CSR row (m = 0: none), and the entries of w
 * that the next row reads (its `next` indices from `first`) hinted into L1 for writing,
 * one per update, interleaved: the next row's loads of w, scattered over d, then overlap
 * with this row's update instead of starting after it (the same hints as a burst before
 * the update gain a third as much: docs/kernels.md). An index out of [0, d) is not hinted
 * (the next row's reader reports it). GNU C; elsewhere the update alone. */
FL_INLINE void FL_NAME(csr_update_hint)(const int wide, fl_index m, const REAL *FL_RESTRICT x,
                                        const int64_t *FL_RESTRICT idx, REAL *FL_RESTRICT w,
                                        REAL c, const fl_csr *M, int64_t first, fl_index next,
                                        fl_index d) {
    fl_index k = 0;
#if defined(__GNUC__)
#define FL_HINT_NEXT(k)                                                                     \
    do {                                                                                    \
        const int64_t jn = FL_NAME(csr_load)(wide, M->indices, first + (k));               \
        if ((uint64_t)jn < (uint64_t)d) __builtin_prefetch(w + jn, 1, 3);                   \
    } while (0)
    const fl_index both = m < next ? m : next;
    for (; k < both; k++) {
        w[idx[k]] += c * x[k];
        FL_HINT_NEXT(k);
    }
    for (fl_index q = both; q < next; q++) FL_HINT_NEXT(q);
#undef FL_HINT_NEXT
#else
    (void)wide, (void)M, (void)first, (void)next, (void)d;
#endif
    for (; k < m; k++) w[idx[k]] += c * x[k];
}

/* w[j_k] += c x_k */
FL_INLINE void FL_NAME(row_add)(const int sparse, fl_index m, const REAL *FL_RESTRICT x,
                                const int64_t *FL_RESTRICT idx, REAL *FL_RESTRICT w, REAL c) {
    if (sparse) {
        for (fl_index k = 0; k < m; k++) w[idx[k]] += c * x[k];
    } else {
        FL_SIMD
        for (fl_index k = 0; k < m; k++) w[k] += c * x[k];
    }
}

/* coef = scale * v; with averaging, avg = (aw + a v) / b (aw NULL: none). */
typedef struct {
    REAL *v, *aw;
    double scale, a, b;
    fl_index d;
} FL_NAME(scaled_vector);

/* Multiplies the scale into v and folds a, b into aw: afterwards v is coef, aw the average,
 * scale 1, a 0, b 1 (O(d)). */
static void FL_NAME(sv_reset)(FL_NAME(scaled_vector) *sv) {
    REAL *FL_RESTRICT v = sv->v;
    if (sv->aw) {
        REAL *FL_RESTRICT aw = sv->aw;
        const double a = sv->a, inv_b = 1.0 / sv->b;
        for (fl_index j = 0; j < sv->d; j++) aw[j] = (REAL)((aw[j] + a * v[j]) * inv_b);
        sv->a = 0;
        sv->b = 1;
    }
    const REAL s = (REAL)sv->scale;
    FL_SIMD
    for (fl_index j = 0; j < sv->d; j++) v[j] *= s;
    sv->scale = 1;
}

/* Tsuruoka et al.'s cumulative L1 step on the row's features (scikit-learn's l1penalty):
 * each weight moves towards 0 by at most u - q_j (the penalty it could have received so far
 * less what it did receive), never across 0; q_j records what it received.
 * q is float64 whatever REAL is: u - q_j is a small difference of two growing sums. With
 * averaging the move is taken out of aw as well (weight a_prev, the a before this update), so that the
 * average is the mean of the iterates after their L1 step. */
FL_INLINE void FL_NAME(row_l1)(const int sparse, fl_index m, const int64_t *FL_RESTRICT idx,
                               FL_NAME(scaled_vector) *sv, double *FL_RESTRICT q, double u,
                               double a_prev) {
    REAL *FL_RESTRICT v = sv->v;
    REAL *FL_RESTRICT aw = sv->aw;
    const double s = sv->scale;
    for (fl_index k = 0; k < m; k++) {
        const fl_index j = sparse ? (fl_index)idx[k] : k;
        const REAL z = v[j];
        if (s * z > 0) {
            const double nv = (double)z - (u + q[j]) / s;
            v[j] = (REAL)(nv > 0 ? nv : 0);
        } else if (s * z < 0) {
            const double nv = (double)z + (u - q[j]) / s;
            v[j] = (REAL)(nv < 0 ? nv : 0);
        }
        const REAL moved = v[j] - z;
        q[j] += s * (double)moved;
        if (aw) aw[j] -= (REAL)(a_prev * moved);
    }
}

/* The epoch. `sparse`: 0 dense rows (D->s.X, its strides), 1 CSR rows with int32
 * indices and indptr, 2 with int64 ones (D->csr). */
FL_INLINE double FL_NAME(epoch_scaled)(const int sparse, const fl_sgd_config *cfg,
                                       fl_sgd_data *D) {
    const fl_index n = D->s.n, d = D->s.d, rs = D->s.row_stride, cs = D->s.col_stride;
    const REAL *X = (const REAL *)D->s.X, *y = (const REAL *)D->s.y;
    const REAL *sw = (const REAL *)D->s.sample_weight;
    REAL *b = (REAL *)D->intercept, *ab = (REAL *)D->avg_intercept;
    double *q = (double *)D->l1_q;
    REAL *xbuf = (REAL *)D->work;
    int64_t *idx = D->row_index;
    FL_NAME(scaled_vector) sv = {(REAL *)D->coef, (REAL *)D->avg_coef, 1.0, 0.0, 1.0, d};
    const int loss = cfg->loss, schedule = cfg->schedule;
    const double l1_ratio = cfg->penalty == FL_PENALTY_L2   ? 0.0
                            : cfg->penalty == FL_PENALTY_L1 ? 1.0
                                                            : cfg->l1_ratio;
    const int l1 = cfg->penalty != FL_PENALTY_L2 && cfg->alpha != 0;
    const int shrink = cfg->alpha != 0 && l1_ratio < 1;
    const double lr = cfg->lr, power_t = cfg->power_t, alpha = cfg->alpha;
    const double decay = cfg->intercept_decay, init = cfg->optimal_init;
    const int64_t start = cfg->average_start;
    const REAL epsilon = (REAL)cfg->epsilon;
    double u = D->l1_u, total = 0;
    int64_t t = D->t;

    for (fl_index k = 0; k < n; k++) {
        const fl_index i = fl_visit(D->order, k, n);
        const REAL *x = NULL;
        REAL dot = 0;
        fl_index m = d;
        if (i >= 0 && sparse)
            m = FL_NAME(csr_row_dot)(sparse == 2, D->csr, i, d, idx, &x, sv.v, &dot);
        if (i < 0 || m < 0) {
            D->bad = k;
            break;
        }
        if (!sparse) {
            x = FL_NAME(row)(X, i, rs, cs, d, xbuf);
            dot = FL_NAME(dot)(d, x, sv.v);
        }

        const REAL bias = b ? b[0] : (REAL)0;
        const REAL z = (REAL)(sv.scale * (double)dot) + bias;
        t += 1;
        const double eta = schedule == FL_LR_CONSTANT     ? lr
                           : schedule == FL_LR_INVSCALING ? lr / pow((double)t, power_t)
                                                          : 1.0 / (alpha * (init + (t - 1)));
        REAL dz;
        const REAL l = FL_NAME(loss1)(loss, z, y[i], epsilon, &dz);
        const double wi = sw ? (double)sw[i] : 1.0;
        total += wi * (double)l;
        const double update = -eta * (double)dz * wi;

        if (shrink) { /* clamped at 0, as scikit-learn: a too large step zeroes the weights */
            const double f = 1.0 - (1.0 - l1_ratio) * eta * alpha;
            sv.scale *= f > 0 ? f : 0.0;
            if (sv.scale < FL_SCALE_MIN) FL_NAME(sv_reset)(&sv);
        }
        if (sparse) {
            int64_t first;
            const fl_index next = k + 1 < n ? FL_NAME(csr_extent)(
                                                  sparse == 2, D->csr,
                                                  fl_visit(D->order, k + 1, n), &first)
                                            : 0;
            FL_NAME(csr_update_hint)(sparse == 2, update != 0 ? m : 0, x, idx, sv.v,
                                     (REAL)(update / sv.scale), D->csr, first, next, d);
        } else if (update != 0) {
            FL_NAME(row_add)(0, m, x, idx, sv.v, (REAL)(update / sv.scale));
        }
        if (b) b[0] += (REAL)(update * decay);

        const double a_prev = sv.a;
        if (sv.aw && t >= start) { /* averaging: step t - start + 1 of the mean */
            const int64_t steps = t - start + 1;
            const double mu = 1.0 / (double)steps;
            if (steps == 1) { /* the mean starts here: avg = coef (aw = 0, a = scale) */
                for (fl_index j = 0; j < d; j++) sv.aw[j] = 0;
                sv.a = 0;
                sv.b = 1;
            }
            /* the entries of v this update moved are taken out of a v's share */
            if (update != 0 && sv.a != 0)
                FL_NAME(row_add)(sparse, m, x, idx, sv.aw, (REAL)(-sv.a * update / sv.scale));
            if (steps > 1) sv.b /= 1.0 - mu;
            sv.a += mu * sv.b * sv.scale;
            if (ab) ab[0] += (REAL)(((double)b[0] - (double)ab[0]) * mu);
        }
        if (l1) {
            u += l1_ratio * eta * alpha;
            FL_NAME(row_l1)(sparse, m, idx, &sv, q, u, sv.aw && t >= start ? a_prev : 0.0);
        }
    }
    FL_NAME(sv_reset)(&sv);
    D->t = t;
    D->l1_u = u;
    return total;
}

static FL_HOT_NO_AVX512 double FL_NAME(sgd_epoch_scaled)(const fl_sgd_config *cfg,
                                                         fl_sgd_data *D) {
    if (!D->csr) return FL_NAME(epoch_scaled)(0, cfg, D);
    if (D->csr->index64) return FL_NAME(epoch_scaled)(2, cfg, D);
    return FL_NAME(epoch_scaled)(1, cfg, D);
}
