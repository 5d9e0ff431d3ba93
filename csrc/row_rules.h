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
 *          checks it; c <= FL_LABEL_ROW_MAX_CLASSES, losses.h: m lives on the stack);
 *   INPUTS2, INPUTS3  rows of 2 or 3 float inputs of one shape (x[j], each c values) and
 *          an int64 code per row (a->Y, or 0 without): <stem>_irow(c, x, y, p, q, gs, g),
 *          q the loss's further parameters (FL_ROW_MAX_PARAMS), g[j] each input's gradient
 *          row (all NULL without FL_WANT_GRAD), every entry written. No Hessian. */
#define FL_ROWWISE_LOSSES(X)                                                                \
    X(NLL, nll, LABEL) /* -wy x_y: negative log-likelihood of log-probabilities x */      \
    X(MULTI_MARGIN, multi_margin, LABEL) /* (wy / c) sum_{k != y} max(0, p - x_y + x_k) */ \
    X(MULTI_MARGIN_SQ, multi_margin_sq, LABEL) /* the same, squared */                    \
    X(MULTILABEL_SOFT_MARGIN, multilabel_soft_margin, ROW) /* mean_k w_k bce_logits(x, t) */ \
    X(MULTILABEL_MARGIN, multilabel_margin, LABELS) /* sum_{j in y, k not} hinge / c */ \
    X(COSINE_EMBEDDING, cosine_embedding, INPUTS2) /* 1 - cos or max(0, cos - p) */        \
    X(TRIPLET_MARGIN, triplet_margin, INPUTS3) /* max(0, p + d(a, b) - d(a, n)) */
#endif
/* the most float inputs (INPUTS3) and further parameters of a row loss */
#define FL_ROW_MAX_INPUTS 3
#define FL_ROW_MAX_PARAMS 3

#ifndef FL_LOSS_LIST_ONLY

/* FL_RULE(name): a rule's name. losses_impl.h compiles the float rules twice: as they are,
 * and with FL_ROW_NARROW defined, named FL_NAME(name)_narrow, for rows of fewer than 16 classes:
 * those vector loops take 8 lanes at a time, not 16, so that such rows get a vector step
 * instead of running all scalar (gcc 12 has no masked epilogues); longer rows keep 16. */
#undef FL_RULE
#undef FL_ROW_SIMD
#if defined(FL_ROW_NARROW)
#define FL_RULE(name) FL_CAT(FL_NAME(name), narrow)
#define FL_ROW_SIMD(...) FL_PRAGMA(omp simd simdlen(8) __VA_ARGS__)
#else
#define FL_RULE(name) FL_NAME(name)
#define FL_ROW_SIMD(...) FL_PRAGMA(omp simd __VA_ARGS__)
#endif

/* linear in x: its Hessian is 0 (h stays zeroed) */
FL_INLINE REAL FL_RULE(nll_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y, REAL wy,
                                REAL p, REAL gs, REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)c; (void)p; (void)h;
    if (g) g[y] = -gs * wy;
    return -wy * x[y];
}

/* PyTorch's multi_margin_loss, p = 1 or 2 (SQ: 1 + sq), margin m = p: with z_k = m - x_y +
 * x_k, the row loss is (wy / c) sum_{k != y, z_k > 0} z_k^(1 + sq). Gradient (wy / c) (1 + sq)
 * z_k^sq at k, minus their sum at y (z_k = 0 is inactive, as PyTorch's backward); Hessian
 * diagonal 0 (p = 1), (wy / c) 2 per active k and 2 times their count at y (p = 2). */
FL_INLINE REAL FL_RULE(margin_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y, REAL wy,
                                   REAL m, REAL gs, REAL *FL_RESTRICT g, REAL *FL_RESTRICT h,
                                   const int sq) {
    const REAL xy = x[y], wc = wy / (REAL)c, gw = gs * wc;
    double s = 0, gy = 0, hy = 0; /* sums of up to c terms: float32 rows would lose digits */
    FL_ROW_SIMD(reduction(+ : s, gy, hy))
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

FL_INLINE REAL FL_RULE(multi_margin_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y,
                                         REAL wy, REAL p, REAL gs, REAL *FL_RESTRICT g,
                                         REAL *FL_RESTRICT h) {
    return FL_RULE(margin_row)(c, x, y, wy, p, gs, g, h, 0);
}

FL_INLINE REAL FL_RULE(multi_margin_sq_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y,
                                            REAL wy, REAL p, REAL gs, REAL *FL_RESTRICT g,
                                            REAL *FL_RESTRICT h) {
    return FL_RULE(margin_row)(c, x, y, wy, p, gs, g, h, 1);
}

/* PyTorch's multilabel_soft_margin_loss: the row's mean over its c classes of
 * w_k (-(t_k log sigmoid(x_k) + (1 - t_k) log sigmoid(-x_k))), each term the rule of
 * binary_cross_entropy_with_logits (bce_logits_elem, loss_rules.h); Hessian diagonal
 * w_k sigmoid(x_k) sigmoid(-x_k) / c, as e / (1 + e)^2 with e = exp(-|x_k|) (no cancellation
 * in 1 - sigmoid). The sum is in double: c terms of one sign. */

/* One vector loop (vector exp/log) per (weights?, gradient?): HAS_W and GRAD are constants
 * where it is inlined; a test of cw or g per element kept the loop scalar (6x slower). */
FL_INLINE double FL_RULE(multilabel_soft_margin_sum)(fl_index c, const REAL *FL_RESTRICT x,
                                                     const REAL *FL_RESTRICT t,
                                                     const REAL *FL_RESTRICT cw, REAL gc,
                                                     REAL *FL_RESTRICT g, const int has_w,
                                                     const int grad) {
    double s = 0;
    FL_ROW_SIMD(reduction(+ : s))
    for (fl_index k = 0; k < c; k++) {
        REAL l, d;
        FL_NAME(bce_logits_elem)(x[k], t[k], (REAL)1, (REAL)0, &l, &d);
        const REAL wk = has_w ? cw[k] : (REAL)1;
        s += (double)(wk * l);
        if (grad) g[k] = gc * wk * d;
    }
    return s;
}

FL_INLINE void FL_RULE(multilabel_soft_margin_hess)(fl_index c, const REAL *FL_RESTRICT x,
                                                    const REAL *FL_RESTRICT cw, REAL gc,
                                                    REAL *FL_RESTRICT h, const int has_w) {
    FL_ROW_SIMD()
    for (fl_index k = 0; k < c; k++) {
        const REAL ax = x[k] < 0 ? -x[k] : x[k], e = R_EXP(-ax), u = (REAL)1 + e;
        h[k] = gc * (has_w ? cw[k] : (REAL)1) * (e / (u * u));
    }
}

FL_INLINE REAL FL_RULE(multilabel_soft_margin_trow)(fl_index c, const REAL *FL_RESTRICT x,
                                                    const REAL *FL_RESTRICT t,
                                                    const REAL *FL_RESTRICT cw, REAL p, REAL gs,
                                                    REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)p;
    const REAL gc = gs / (REAL)c;
    double s;
    if (cw) {
        s = g ? FL_RULE(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 1, 1)
              : FL_RULE(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 1, 0);
        if (h) FL_RULE(multilabel_soft_margin_hess)(c, x, cw, gc, h, 1);
    } else {
        s = g ? FL_RULE(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 0, 1)
              : FL_RULE(multilabel_soft_margin_sum)(c, x, t, cw, gc, g, 0, 0);
        if (h) FL_RULE(multilabel_soft_margin_hess)(c, x, cw, gc, h, 0);
    }
    return (REAL)(s / (double)c);
}

/* PyTorch's multilabel_margin_loss: with the row's target classes y_1 .. y_J (its list up to
 * the first -1, repeats counted: m[k] times class k), the row loss is
 *   (1 / c) sum_j sum_{k: m[k] = 0} max(0, 1 - x_{y_j} + x_k)
 * Gradient gs / c per active (z > 0, as PyTorch's backward) pair: + at k, - at y_j, times
 * m[y_j]. Piecewise linear: the Hessian is 0 (h stays zeroed). One branch-free vector loop
 * over the classes per distinct target class; the sum in double (c J terms). */
FL_INLINE double FL_RULE(multilabel_margin_target)(fl_index c, const REAL *FL_RESTRICT x,
                                                   const uint16_t *FL_RESTRICT m, REAL xt,
                                                   REAL gm, REAL *FL_RESTRICT g, REAL *gt,
                                                   const int grad) {
    double s = 0;
    REAL d = 0;
    FL_ROW_SIMD(reduction(+ : s, d))
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

FL_INLINE REAL FL_RULE(multilabel_margin_lrow)(fl_index c, const REAL *FL_RESTRICT x,
                                               const uint16_t *FL_RESTRICT m, REAL p, REAL gs,
                                               REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)p; (void)h;
    const REAL gc = gs / (REAL)c;
    double s = 0;
    for (fl_index t = 0; t < c; t++) {
        if (m[t] == 0) continue;
        const REAL gm = gc * (REAL)m[t];
        REAL gt = 0;
        const double st = g ? FL_RULE(multilabel_margin_target)(c, x, m, x[t], gm, g, &gt, 1)
                            : FL_RULE(multilabel_margin_target)(c, x, m, x[t], gm, g, &gt, 0);
        s += (double)m[t] * st;
        if (g) g[t] -= gt; /* g[t] gets no + term: class t is a target (m[t] != 0) */
    }
    return (REAL)(s / (double)c);
}

/* PyTorch's cosine_embedding_loss: with torch's EPSILON = 1e-12f added to each squared norm,
 * cos = a.b / sqrt((|a|^2 + e)(|b|^2 + e)); the loss is 1 - cos for y = 1, max(0, cos - m)
 * for y = -1 (m = p, the margin), 0 for any other y (as torch's where()). With
 * m1 = |a|^2 + e, m2 = |b|^2 + e: dcos/da = b / sqrt(m1 m2) - cos a / m1 (and b's alike);
 * the hinge passes the gradient at cos = m (torch's clamp_min). Zero vectors: cos = 0. */
FL_INLINE REAL FL_RULE(cosine_embedding_irow)(fl_index c, const REAL *const *x, int64_t y,
                                              REAL m, const REAL *q, REAL gs,
                                              REAL *const *g) {
    const REAL *FL_RESTRICT a = x[0], *FL_RESTRICT b = x[1];
    (void)q;
    double ab = 0, aa = 0, bb = 0; /* c terms each: float32 rows would lose digits */
    FL_ROW_SIMD(reduction(+ : ab, aa, bb))
    for (fl_index k = 0; k < c; k++) {
        ab += (double)a[k] * (double)b[k];
        aa += (double)a[k] * (double)a[k];
        bb += (double)b[k] * (double)b[k];
    }
    /* torch's EPSILON is the float 1e-12f (9.99999996e-13), for float64 too */
    const REAL m1 = (REAL)aa + (REAL)1e-12f, m2 = (REAL)bb + (REAL)1e-12f;
    const REAL denom = R_SQRT(m1 * m2), cs = (REAL)ab / denom;
    REAL loss = 0, d = 0;
    if (y == 1) {
        loss = (REAL)1 - cs;
        d = -1;
    } else if (y == -1) {
        const REAL z = cs - m;
        if (!(z < 0)) { /* z >= 0 or NaN (NaN in, NaN out) */
            loss = z;
            d = 1;
        }
    }
    if (g[0]) {
        REAL *FL_RESTRICT ga = g[0], *FL_RESTRICT gb = g[1];
        const REAL s = gs * d, inv = (REAL)1 / denom, ca = cs / m1, cb = cs / m2;
        FL_ROW_SIMD()
        for (fl_index k = 0; k < c; k++) {
            ga[k] = s * (b[k] * inv - ca * a[k]);
            gb[k] = s * (a[k] * inv - cb * b[k]);
        }
    }
    return loss;
}

/* torch's pairwise_distance(x1, x2, p, eps): the p-norm of v = x1 - x2 + eps (p >= 1; the
 * sum in double). */
FL_INLINE REAL FL_RULE(pair_distance)(fl_index c, const REAL *FL_RESTRICT x1,
                                      const REAL *FL_RESTRICT x2, REAL eps, REAL p) {
    double s = 0;
    if (p == 2) {
        FL_ROW_SIMD(reduction(+ : s))
        for (fl_index k = 0; k < c; k++) {
            const double v = (double)(x1[k] - x2[k] + eps);
            s += v * v;
        }
        return (REAL)sqrt(s);
    }
    if (p == 1) {
        FL_ROW_SIMD(reduction(+ : s))
        for (fl_index k = 0; k < c; k++) s += fabs((double)(x1[k] - x2[k] + eps));
        return (REAL)s;
    }
    for (fl_index k = 0; k < c; k++) s += pow(fabs((double)(x1[k] - x2[k] + eps)), (double)p);
    return (REAL)pow(s, 1.0 / (double)p);
}

/* g1 += w dN/dv and g2 -= w dN/dv, N = pair_distance(x1, x2), v = x1 - x2 + eps: v / N
 * (p = 2), sign(v) (p = 1), sign(v) |v|^(p-1) / N^(p-1); 0 where N = 0 (torch's norm
 * backward). */
FL_INLINE void FL_RULE(pair_distance_grad)(fl_index c, const REAL *FL_RESTRICT x1,
                                           const REAL *FL_RESTRICT x2, REAL eps, REAL p,
                                           REAL norm, REAL w, REAL *FL_RESTRICT g1,
                                           REAL *FL_RESTRICT g2) {
    if (w == 0 || norm == 0) return;
    if (p == 2) {
        const REAL s = w / norm;
        FL_ROW_SIMD()
        for (fl_index k = 0; k < c; k++) {
            const REAL u = s * (x1[k] - x2[k] + eps);
            g1[k] += u;
            g2[k] -= u;
        }
        return;
    }
    const double np1 = p == 1 ? 1.0 : pow((double)norm, (double)p - 1.0);
    for (fl_index k = 0; k < c; k++) {
        const double v = (double)(x1[k] - x2[k] + eps);
        const double sg = (double)((v > 0) - (v < 0));
        const REAL u = (REAL)((double)w * sg * (p == 1 ? 1.0 : pow(fabs(v), (double)p - 1.0))
                              / np1);
        g1[k] += u;
        g2[k] -= u;
    }
}

/* PyTorch's triplet_margin_loss: d(x1, x2) = pairwise_distance(x1, x2, p, eps) (q[0] = p,
 * q[1] = eps, q[2] = swap), the negative's distance min(d(a, n), d(b, n)) with swap (a tie
 * splits its gradient in halves, as torch's min), loss max(0, m + d(a, b) - d_neg) (m = p,
 * the margin), the gradient passing at 0 (torch's clamp_min). */
FL_INLINE REAL FL_RULE(triplet_margin_irow)(fl_index c, const REAL *const *x, int64_t y,
                                            REAL m, const REAL *q, REAL gs, REAL *const *g) {
    const REAL *a = x[0], *b = x[1], *n = x[2], p = q[0], eps = q[1];
    (void)y;
    const REAL dab = FL_RULE(pair_distance)(c, a, b, eps, p);
    const REAL dan = FL_RULE(pair_distance)(c, a, n, eps, p);
    REAL wan = 1, wbn = 0, dneg = dan, dbn = 0;
    if (q[2] != 0) {
        dbn = FL_RULE(pair_distance)(c, b, n, eps, p);
        if (dbn < dan) {
            wan = 0, wbn = 1, dneg = dbn;
        } else if (dbn == dan) {
            wan = wbn = (REAL)0.5;
        }
    }
    const REAL z = m + dab - dneg;
    const int on = !(z < 0); /* z >= 0 or NaN */
    if (g[0]) {
        for (int j = 0; j < 3; j++) {
            FL_ROW_SIMD()
            for (fl_index k = 0; k < c; k++) g[j][k] = 0;
        }
        if (on) {
            FL_RULE(pair_distance_grad)(c, a, b, eps, p, dab, gs, g[0], g[1]);
            FL_RULE(pair_distance_grad)(c, a, n, eps, p, dan, -gs * wan, g[0], g[2]);
            FL_RULE(pair_distance_grad)(c, b, n, eps, p, dbn, -gs * wbn, g[1], g[2]);
        }
    }
    return on ? z : 0;
}

#endif /* FL_LOSS_LIST_ONLY */
