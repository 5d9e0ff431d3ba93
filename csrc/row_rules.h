/* The row-wise losses of (n, c) inputs and class labels: their list and their per-row rules.
 *
 * A template, like loss_rules.h: include it once per dtype, in a translation unit that
 * defines REAL, SFX, R_EXP and R_LOG and has included fl_config.h; losses.h includes it with
 * FL_LOSS_LIST_ONLY defined, for the list alone.
 *
 * Every rule is <stem>_row(c, x, y, wy, p, gs, g, h): the loss of one row x (c values) whose
 * label y is in [0, c) and whose class weight is wy; p the loss's scalar parameter. When g is
 * not NULL it also writes the row's gradient, times gs, and when h is not NULL the diagonal
 * of the row's Hessian (d^2 l / dx_k^2), times gs: g and h arrive zeroed (one flat pass over
 * the whole block), so a rule writes only its nonzero entries. The driver (losses_impl.h)
 * loads and checks each label, skips ignored rows (0 loss, 0 gradient), applies the
 * sample weight of the row (loss and gs times it), gathers the rows of a K-dimensional
 * input (N, C, d1, ..., dk) into contiguous blocks and splits the rows among threads. Softmax cross-entropy is not a row of this list: its blocked
 * kernel (losses_impl.h) shares the exp/log work of many rows.
 */

#ifndef FL_ROWWISE_LOSSES
/* One row each: X(NAME, stem, TARGET). NAME gives the code FL_ROW_<NAME> (losses.h; the row's
 * position: append new rows at the end), stem the rule below and the name Python reads
 * (fl_rowwise_loss_names), TARGET what a row's target is:
 *   LABEL  a class label y (int64, one per row): <stem>_row(c, x, y, wy, p, gs, g, h);
 *   ROW    a row t of c floats (the input's shape): <stem>_trow(c, x, t, cw, p, gs, g, h),
 *          cw the class weights (NULL: all 1);
 *   LABELS a row of c class indices (int64, the input's shape), the list ending at its first
 *          negative entry (PyTorch's -1 padding): <stem>_lrow(c, x, m, p, gs, g, h), m[k] the
 *          number of times class k is in the list (the driver loads every index once and
 *          checks it; c <= FL_LABEL_ROW_MAX_CLASSES, losses.h: m lives on the stack). */
#define FL_ROWWISE_LOSSES(X)                                                                \
    X(NLL, nll, LABEL) /* -wy x_y: negative log-likelihood of log-probabilities x */      \
    X(MULTI_MARGIN, multi_margin, LABEL) /* (wy / c) sum_{k != y} max(0, p - x_y + x_k) */ \
    X(MULTI_MARGIN_SQ, multi_margin_sq, LABEL) /* the same, squared */                    \
    X(MULTILABEL_SOFT_MARGIN, multilabel_soft_margin, ROW) /* mean_k w_k bce_logits(x, t) */ \
    X(MULTILABEL_MARGIN, multilabel_margin, LABELS) /* sum_{j in y, k not} hinge / c */
#endif

#ifndef FL_LOSS_LIST_ONLY

/* linear in x: its Hessian is 0 (h stays zeroed) */
FL_INLINE REAL FL_NAME(nll_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y, REAL wy,
                                REAL p, REAL gs, REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)c; (void)p; (void)h;
    if (g) g[y] = -gs * wy;
    return -wy * x[y];
}

/* PyTorch's multi_margin_loss, p = 1 or 2 (SQ: 1 + sq), margin m = p: with z_k = m - x_y +
 * x_k, the row loss is (wy / c) sum_{k != y, z_k > 0} z_k^(1 + sq). Gradient (wy / c) (1 + sq)
 * z_k^sq at k, minus their sum at y (z_k = 0 is inactive, as PyTorch's backward); Hessian
 * diagonal 0 (p = 1), (wy / c) 2 per active k and 2 times their count at y (p = 2). */
FL_INLINE REAL FL_NAME(margin_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y, REAL wy,
                                   REAL m, REAL gs, REAL *FL_RESTRICT g, REAL *FL_RESTRICT h,
                                   const int sq) {
    const REAL xy = x[y], wc = wy / (REAL)c, gw = gs * wc;
    double s = 0, gy = 0, hy = 0; /* sums of up to c terms: float32 rows would lose digits */
    for (fl_index k = 0; k < c; k++) {
        const REAL z = m - xy + x[k];
        if (k == y || !(z > 0)) continue;
        s += (double)(sq ? z * z : z);
        if (g) {
            const REAL gk = sq ? gw * 2 * z : gw;
            g[k] = gk;
            gy += gk;
        }
        if (h && sq) {
            h[k] = gw * 2;
            hy += gw * 2;
        }
    }
    if (g) g[y] = (REAL)-gy;
    if (h && sq) h[y] = (REAL)hy;
    return wc * (REAL)s;
}

FL_INLINE REAL FL_NAME(multi_margin_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y,
                                         REAL wy, REAL p, REAL gs, REAL *FL_RESTRICT g,
                                         REAL *FL_RESTRICT h) {
    return FL_NAME(margin_row)(c, x, y, wy, p, gs, g, h, 0);
}

FL_INLINE REAL FL_NAME(multi_margin_sq_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y,
                                            REAL wy, REAL p, REAL gs, REAL *FL_RESTRICT g,
                                            REAL *FL_RESTRICT h) {
    return FL_NAME(margin_row)(c, x, y, wy, p, gs, g, h, 1);
}

/* PyTorch's multilabel_soft_margin_loss: the row's mean over its c classes of
 * w_k (-(t_k log sigmoid(x_k) + (1 - t_k) log sigmoid(-x_k))), each term the rule of
 * binary_cross_entropy_with_logits (bce_logits_elem, loss_rules.h); Hessian diagonal
 * w_k sigmoid(x_k) sigmoid(-x_k) / c, as e / (1 + e)^2 with e = exp(-|x_k|) (no cancellation
 * in 1 - sigmoid). The sum is in double: c terms of one sign. */

/* One vector loop (vector exp/log) per (weights?, gradient?): HAS_W and GRAD are constants
 * where it is inlined; a test of cw or g per element kept the loop scalar (6x slower). */
FL_INLINE double FL_NAME(multilabel_soft_margin_sum)(fl_index c, const REAL *FL_RESTRICT x,
                                                     const REAL *FL_RESTRICT t,
                                                     const REAL *FL_RESTRICT cw, REAL gc,
                                                     REAL *FL_RESTRICT g, const int has_w,
                                                     const int grad) {
    double s = 0;
    FL_SIMD_REDUCE_SUM(s)
    for (fl_index k = 0; k < c; k++) {
        REAL l, d;
        FL_NAME(bce_logits_elem)(x[k], t[k], (REAL)1, (REAL)0, &l, &d);
        const REAL wk = has_w ? cw[k] : (REAL)1;
        s += (double)(wk * l);
        if (grad) g[k] = gc * wk * d;
    }
    return s;
}

FL_INLINE void FL_NAME(multilabel_soft_margin_hess)(fl_index c, const REAL *FL_RESTRICT x,
                                                    const REAL *FL_RESTRICT cw, REAL gc,
                                                    REAL *FL_RESTRICT h, const int has_w) {
    FL_SIMD
    for (fl_index k = 0; k < c; k++) {
        const REAL ax = x[k] < 0 ? -x[k] : x[k], e = R_EXP(-ax), u = (REAL)1 + e;
        h[k] = gc * (has_w ? cw[k] : (REAL)1) * (e / (u * u));
    }
}

FL_INLINE REAL FL_NAME(multilabel_soft_margin_trow)(fl_index c, const REAL *FL_RESTRICT x,
                                                    const REAL *FL_RESTRICT t,
                                                    const REAL *FL_RESTRICT cw, REAL p, REAL gs,
                                                    REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)p;
    const REAL gc = gs / (REAL)c;
    double s;
    if (cw) {
        s = g ? FL_NAME(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 1, 1)
              : FL_NAME(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 1, 0);
        if (h) FL_NAME(multilabel_soft_margin_hess)(c, x, cw, gc, h, 1);
    } else {
        s = g ? FL_NAME(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 0, 1)
              : FL_NAME(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 0, 0);
        if (h) FL_NAME(multilabel_soft_margin_hess)(c, x, cw, gc, h, 0);
    }
    return (REAL)(s / (double)c);
}

/* PyTorch's multilabel_margin_loss: with the row's target classes y_1 .. y_J (its list up to
 * the first -1, repeats counted: m[k] times class k), the row loss is
 *   (1 / c) sum_j sum_{k: m[k] = 0} max(0, 1 - x_{y_j} + x_k)
 * Gradient gs / c per active (z > 0, as PyTorch's backward) pair: + at k, - at y_j, times
 * m[y_j]. Piecewise linear: the Hessian is 0 (h stays zeroed). One branch-free vector loop
 * over the classes per distinct target class; the sum in double (c J terms). */
FL_INLINE double FL_NAME(multilabel_margin_target)(fl_index c, const REAL *FL_RESTRICT x,
                                                   const uint16_t *FL_RESTRICT m, REAL xt,
                                                   REAL gm, REAL *FL_RESTRICT g, REAL *gt,
                                                   const int grad) {
    double s = 0;
    REAL d = 0;
    FL_PRAGMA(omp simd reduction(+ : s, d))
    for (fl_index k = 0; k < c; k++) {
        const REAL z = (REAL)1 - xt + x[k];
        const REAL on = (m[k] == 0 && z > 0) ? (REAL)1 : (REAL)0;
        s += (double)(on * z);
        if (grad) {
            g[k] += on * gm;
            d += on;
        }
    }
    if (grad) *gt = d * gm;
    return s;
}

FL_INLINE REAL FL_NAME(multilabel_margin_lrow)(fl_index c, const REAL *FL_RESTRICT x,
                                               const uint16_t *FL_RESTRICT m, REAL p, REAL gs,
                                               REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)p; (void)h;
    const REAL gc = gs / (REAL)c;
    double s = 0;
    for (fl_index t = 0; t < c; t++) {
        if (m[t] == 0) continue;
        const REAL gm = gc * (REAL)m[t];
        REAL gt = 0;
        const double st = g ? FL_NAME(multilabel_margin_target)(c, x, m, x[t], gm, g, &gt, 1)
                            : FL_NAME(multilabel_margin_target)(c, x, m, x[t], gm, g, &gt, 0);
        s += (double)m[t] * st;
        if (g) g[t] -= gt; /* g[t] gets no + term: class t is a target (m[t] != 0) */
    }
    return (REAL)(s / (double)c);
}

#endif /* FL_LOSS_LIST_ONLY */
