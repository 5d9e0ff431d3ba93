/* Loss kernels for one floating type: a template, included once by each of losses_f64.c and
 * losses_f32.c (one translation unit per dtype, so they compile in parallel) after
 * fl_real.h has defined REAL, SFX, R_EXP and R_LOG for it. Every kernel is written once
 * here; the two dtypes are instantiations, whose entry points losses_dtype.h declares.
 *
 * Shape of an elementwise kernel: OP_elem2() (loss_rules.h) computes loss and first and
 * second derivative of one element; OP_loop() applies it over [lo, hi) with the flags (weights present, what to
 * compute) as compile-time constants, so each combination is its own branch-free,
 * vectorized loop; OP_run() picks the instantiation once per call.
 */
#include "losses_dtype.h"

#include "fl_parallel.h"

#include <string.h> /* memset */

/* Below this many items per thread, starting threads costs more than it saves. */
#define FL_LOSS_MIN_WORK_PER_THREAD 4096

#include "loss_rules.h"
#include "row_rules.h"
#include "softmax_lanes.h"
#include "fl_vec8.h" /* the 8 x 8 transpose of gather_rows */
#if defined(FL_REAL_F32)
/* the float rules again, 8 lanes a loop, for rows of fewer than FL_ROW_NARROW_BELOW classes
 * (row_rules.h's FL_RULE) */
#define FL_ROW_NARROW
#include "row_rules.h"
#undef FL_ROW_NARROW
#define FL_ROW_NARROW_BELOW 16
#endif
/* The name of a narrow rule, or of a rows_fn calling narrow rules. */
#define FL_NARROW(name) FL_CAT(FL_NAME(name), narrow)

/* One loop per (op, weights?, aux?, want): the constants fold, dead outputs
 * (and the exp/log feeding only them) vanish, and the loop vectorizes. OP_run() takes the
 * aux array only if READS_AUX (its row's column in FL_ELEMENTWISE_LOSSES); with READS_AUX 2
 * the aux is a differentiated input, always present, whose gradient (ga) and Hessian (ha)
 * the loop writes next to the input's. */
#define FL_DEFINE_ELEMENTWISE(NAME, OP, READS_AUX)                                          \
    FL_INLINE double FL_NAME(OP##_loop)(                                                    \
        fl_index n, const REAL *FL_RESTRICT x, const REAL *FL_RESTRICT y,                   \
        const REAL *FL_RESTRICT w, const REAL *FL_RESTRICT a, REAL p, REAL gs,              \
        REAL *FL_RESTRICT g, REAL *FL_RESTRICT hs, REAL *FL_RESTRICT ga,                    \
        REAL *FL_RESTRICT ha, REAL *FL_RESTRICT e, const int has_w, const int has_a,        \
        const int want) {                                                                   \
        double s = 0;                                                                       \
        FL_SIMD_REDUCE_SUM(s)                                                               \
        for (fl_index i = 0; i < n; i++) {                                                  \
            REAL l, d, dd, da, dda;                                                         \
            FL_NAME(OP##_elem2a)(x[i], y[i], has_a ? a[i] : (REAL)1, p, &l, &d, &dd, &da,   \
                                 &dda);                                                     \
            REAL wi = has_w ? w[i] : (REAL)1;                                               \
            if (want & FL_WANT_SUM) s += (double)(wi * l);                                  \
            if (want & FL_WANT_ELEMENTS) e[i] = wi * l;                                     \
            if (want & FL_WANT_GRAD) g[i] = gs * wi * d;                                    \
            if (want & FL_WANT_HESS) hs[i] = gs * wi * dd;                                  \
            if ((READS_AUX) == 2 && (want & FL_WANT_GRAD)) ga[i] = gs * wi * da;            \
            if ((READS_AUX) == 2 && (want & FL_WANT_HESS)) ha[i] = gs * wi * dda;           \
        }                                                                                   \
        return s;                                                                           \
    }                                                                                       \
    static FL_HOT double FL_NAME(OP##_run)(                                                 \
        fl_index n, const REAL *x, const REAL *y, const REAL *w, const REAL *a, REAL p,     \
        REAL gs, REAL *g, REAL *hs, REAL *ga, REAL *ha, REAL *e, int want) {                \
        const int W = w != NULL, A = a != NULL;                                             \
        switch (want + 16 * W + 32 * A) {                                                   \
        FL_ELEMENTWISE_CASES_AUX_##READS_AUX(OP)                                            \
        default: return NAN; /* a want outside FL_ELEMENTWISE_WANT_OK: the caller checks */ \
        }                                                                                   \
    }

#define FL_ELEMENTWISE_CASE(OP, W, A, WANT)                                                 \
    case (WANT) + 16 * (W) + 32 * (A):                                                      \
        return FL_NAME(OP##_loop)(n, x, y, w, a, p, gs, g, hs, ga, ha, e, W, A, WANT);
/* The wants of FL_ELEMENTWISE_WANT_OK. */
#define FL_ELEMENTWISE_CASES(OP, W, A)                                                      \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_SUM)                                              \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_GRAD)                                             \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_SUM | FL_WANT_GRAD)                               \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_ELEMENTS)                                         \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_ELEMENTS | FL_WANT_GRAD)                          \
    FL_ELEMENTWISE_CASE(OP, W, A, FL_WANT_GRAD | FL_WANT_HESS)
/* the (weights?, aux?) a row's loops are compiled for: without aux, both, aux always */
#define FL_ELEMENTWISE_CASES_AUX_0(OP) FL_ELEMENTWISE_CASES(OP, 0, 0) FL_ELEMENTWISE_CASES(OP, 1, 0)
#define FL_ELEMENTWISE_CASES_AUX_1(OP)                                                      \
    FL_ELEMENTWISE_CASES_AUX_0(OP) FL_ELEMENTWISE_CASES_AUX_2(OP)
#define FL_ELEMENTWISE_CASES_AUX_2(OP) FL_ELEMENTWISE_CASES(OP, 0, 1) FL_ELEMENTWISE_CASES(OP, 1, 1)

FL_ELEMENTWISE_LOSSES(FL_DEFINE_ELEMENTWISE)

/* No default: a row of FL_ELEMENTWISE_LOSSES without its case does not compile. */
static double FL_NAME(elementwise_run)(enum fl_elementwise_loss loss, fl_index n,
                                       const REAL *x, const REAL *y, const REAL *w,
                                       const REAL *a, REAL p, REAL gs, REAL *g, REAL *hs,
                                       REAL *ga, REAL *ha, REAL *e, int want) {
#define FL_ELEMENTWISE_DISPATCH_ROW(NAME, OP, READS_AUX)                                    \
    case FL_##NAME:                                                                         \
        return FL_NAME(OP##_run)(n, x, y, w, (READS_AUX) ? a : NULL, p, gs, g, hs, ga, ha,  \
                                 e, want);
    switch (loss) { FL_ELEMENTWISE_LOSSES(FL_ELEMENTWISE_DISPATCH_ROW) }
#undef FL_ELEMENTWISE_DISPATCH_ROW
    return NAN; /* not a row: fl_elementwise_loss checks first */
}

double FL_NAME(fl_elementwise_loss)(enum fl_elementwise_loss loss, fl_index n, const REAL *x,
                                    const REAL *y, const REAL *w, const REAL *a, double param,
                                    double gscale, REAL *g, REAL *hs, REAL *ga, REAL *ha,
                                    REAL *e, int want, int n_threads) {
    const REAL p = (REAL)param, gs = (REAL)gscale;
    double s;
    FL_PARALLEL_SUM(s, n, fl_threads_for(n, n_threads, FL_LOSS_MIN_WORK_PER_THREAD),
                    FL_NAME(elementwise_run)(loss, hi - lo, x + lo, y + lo, w ? w + lo : NULL,
                                             a ? a + lo : NULL, p, gs, g ? g + lo : NULL,
                                             hs ? hs + lo : NULL, ga ? ga + lo : NULL,
                                             ha ? ha + lo : NULL, e ? e + lo : NULL, want));
    return s;
}

/* ---- softmax cross-entropy over rows ------------------------------------- */

/* Rows are processed in blocks of about FL_BLOCK elements so that exp() runs as
 * one flat, fully vectorized loop over the whole block even when a row is
 * short (c = 10 would otherwise leave most of each vector idle). */
#define FL_BLOCK 2048

/* Rows shorter than FL_SHORT_ROW run their per-row loops without `omp simd`: an `omp simd
 * reduction` over so few elements hardly fills a vector and pays a horizontal step per row;
 * plain loops let the core overlap consecutive rows (sums in order k = 0..c-1; exp and log
 * still run as flat vector loops over the block). Short rows go in blocks of FL_SHORT_BYTES
 * of logits. The measurements behind both numbers: docs/kernels.md. */
#define FL_SHORT_ROW 16
#define FL_SHORT_BYTES 4096
/* At most this many rows per block (block_rows): 1024 float32 rows of c = 1 */
#define FL_BLOCK_ROWS (FL_SHORT_BYTES / 4)

FL_INLINE fl_index FL_NAME(block_rows)(fl_index c, const int short_rows) {
    if (short_rows) return (fl_index)(FL_SHORT_BYTES / sizeof(REAL)) / c;
    return c >= FL_BLOCK ? 1 : FL_BLOCK / c;
}

/* The row statistics every softmax loss needs, for rows [0, nr) of x (nr * c <= FL_BLOCK,
 * or nr == 1): buf = exp(x - m) with m the row's max, mx[r] = m, sum[r] = the row sum of buf,
 * lsum[r] = log(sum[r]). A row's losses are then (m - x_k) + lsum: forming
 * lse = m + log(sum) first would round away the loss's digits when |m| is large. An all
 * -inf row has no finite max; x - m is NaN there, as in PyTorch. */

/* buf = exp(buf) and lsum = log(sum): flat vector loops over a whole block. */
FL_INLINE void FL_NAME(exp_in_place)(fl_index n, REAL *FL_RESTRICT buf) {
    FL_SIMD
    for (fl_index j = 0; j < n; j++) buf[j] = R_EXP(buf[j]);
}

FL_INLINE void FL_NAME(log_of)(fl_index n, const REAL *FL_RESTRICT sum, REAL *FL_RESTRICT lsum) {
    FL_SIMD
    for (fl_index r = 0; r < n; r++) lsum[r] = R_LOG(sum[r]);
}

/* block_softmax for rows of c < FL_SHORT_ROW: the same steps with plain row
 * loops. */
FL_INLINE void FL_NAME(block_softmax_short)(fl_index nr, fl_index c, const REAL *FL_RESTRICT x,
                                            REAL *FL_RESTRICT buf, REAL *FL_RESTRICT mx,
                                            REAL *FL_RESTRICT sum, REAL *FL_RESTRICT lsum) {
    for (fl_index r = 0; r < nr; r++) {
        const REAL *xr = x + r * c;
        REAL *br = buf + r * c;
        REAL m = -INFINITY;
        for (fl_index k = 0; k < c; k++) m = xr[k] > m ? xr[k] : m;
        mx[r] = m;
        for (fl_index k = 0; k < c; k++) br[k] = xr[k] - m;
    }
    FL_NAME(exp_in_place)(nr * c, buf);
    for (fl_index r = 0; r < nr; r++) {
        const REAL *br = buf + r * c;
        REAL s = 0;
        for (fl_index k = 0; k < c; k++) s += br[k];
        sum[r] = s;
    }
    FL_NAME(log_of)(nr, sum, lsum);
}

FL_INLINE void FL_NAME(block_softmax)(fl_index nr, fl_index c, const REAL *FL_RESTRICT x,
                                      REAL *FL_RESTRICT buf, REAL *FL_RESTRICT mx,
                                      REAL *FL_RESTRICT sum, REAL *FL_RESTRICT lsum,
                                      const int short_rows) {
    if (short_rows) {
        FL_NAME(block_softmax_short)(nr, c, x, buf, mx, sum, lsum);
        return;
    }
    for (fl_index r = 0; r < nr; r++) {
        const REAL *xr = x + r * c;
        REAL *br = buf + r * c;
        REAL m = -INFINITY;
        FL_SIMD_REDUCE_MAX(m)
        for (fl_index k = 0; k < c; k++) m = xr[k] > m ? xr[k] : m;
        mx[r] = m;
        FL_SIMD
        for (fl_index k = 0; k < c; k++) br[k] = xr[k] - m;
    }
    FL_NAME(exp_in_place)(nr * c, buf);
    for (fl_index r = 0; r < nr; r++) {
        const REAL *br = buf + r * c;
        REAL s = 0;
        FL_SIMD_REDUCE_SUM(s)
        for (fl_index k = 0; k < c; k++) s += br[k];
        sum[r] = s;
    }
    FL_NAME(log_of)(nr, sum, lsum);
}

/* exp(x_k - m) given e = exp(d), d = x_k - m as rounded: d's rounding error (exact, by
 * TwoSum) corrects e to first order, exp(d + err) = e (1 + err). Without it a loss that is
 * a sum of tiny terms exp(-gap) carries the rounding of each gap, times the gap. */
FL_INLINE REAL FL_NAME(exp_shift_exact)(REAL xk, REAL m, REAL e) {
    const REAL d = xk - m;
    const REAL bv = d - xk;
    const REAL err = (xk - (d - bv)) + (-m - bv);
    return e == 0 ? e : e + e * err; /* x_k = -inf: err is NaN, the term 0 */
}

/* log(sum) of a row whose label y holds the max (x_y == m, its own term exactly 1) and whose
 * loss log(sum) is small (sum < 2): log(1 + s)
 * would keep only the digits of 1 + s. This is s, the sum of the other terms, each exact to
 * first order (see above), for log1p(s); class k of the row at x[k ldx], its exp(x - m) at
 * e[k lde] (e NULL: recompute it). Rows like this are common: a confident, correct
 * prediction. */
FL_INLINE REAL FL_NAME(others_sum)(fl_index c, fl_index y, const REAL *FL_RESTRICT x,
                                   fl_index ldx, const REAL *FL_RESTRICT e, fl_index lde,
                                   REAL m) {
    if (e && c < FL_SHORT_ROW) { /* a few positive terms: a plain sum is within c/2 ulp */
        REAL s = 0;
        for (fl_index k = 0; k < c; k++)
            s += k == y ? (REAL)0 : FL_NAME(exp_shift_exact)(x[k * ldx], m, e[k * lde]);
        return s;
    }
    REAL s = 0, lost = 0; /* compensated (Neumaier) sum: c can be large */
    for (fl_index k = 0; k < c; k++) {
        const REAL ek = e ? e[k * lde] : R_EXP(x[k * ldx] - m);
        const REAL t = k == y ? (REAL)0 : FL_NAME(exp_shift_exact)(x[k * ldx], m, ek);
        const REAL u = s + t;
        lost += s >= t ? (s - u) + t : (t - u) + s;
        s = u;
    }
    return s + lost;
}

/* lsum of the rows of a block whose label holds the row's max and whose sum is below 2,
 * from others_sum: their loss is lsum itself, and small. (lsum does not depend on the label,
 * which only picks the rows worth it; it is read once, checked, and used for nothing else.)
 * Its own pass, without branches until the rows are picked: with c = 3, a quarter of random
 * rows qualify, and a test per row inside ce_index_rows' loop made it 1.8x slower
 * (measured). */
static FL_HOT FL_NOINLINE void FL_NAME(small_lsums)(fl_index nr, fl_index c, const REAL *x,
                                                    const int64_t *Y, const REAL *buf,
                                                    const REAL *mx, const REAL *sum,
                                                    REAL *lsum) {
    fl_index pick[FL_BLOCK_ROWS], label[FL_BLOCK_ROWS], n_pick = 0, n_sum = 0; /* n_pick <= j */
    REAL others[FL_BLOCK_ROWS];
    for (fl_index r = 0; r < nr; r++) { /* rows with sum < 2, compacted without branches */
        pick[n_sum] = r;
        n_sum += sum[r] < (REAL)2;
    }
    for (fl_index j = 0; j < n_sum; j++) { /* of those, the ones whose label is the max */
        const fl_index r = pick[j];
        const int64_t y = fl_load_index(Y + r);
        const fl_index k = (uint64_t)y < (uint64_t)c ? (fl_index)y : 0;
        pick[n_pick] = r;
        label[n_pick] = k;
        n_pick += ((uint64_t)y < (uint64_t)c) & (x[r * c + k] == mx[r]);
    }
    for (fl_index j = 0; j < n_pick; j++) {
        const fl_index r = pick[j];
        others[j] = FL_NAME(others_sum)(c, label[j], x + r * c, 1, buf ? buf + r * c : NULL, 1,
                                        mx[r]);
    }
    FL_SIMD
    for (fl_index j = 0; j < n_pick; j++) others[j] = FL_NAME(log1p_fast)(others[j]);
    for (fl_index j = 0; j < n_pick; j++) lsum[pick[j]] = others[j];
}

/* mx and lsum of one long row without a buffer (value-only calls, c > FL_BLOCK). */
FL_INLINE void FL_NAME(row_logsumexp)(fl_index c, const REAL *FL_RESTRICT x, REAL *mx,
                                      REAL *lsum) {
    REAL m = -INFINITY, s = 0;
    FL_SIMD_REDUCE_MAX(m)
    for (fl_index k = 0; k < c; k++) m = x[k] > m ? x[k] : m;
    FL_SIMD_REDUCE_SUM(s)
    for (fl_index k = 0; k < c; k++) s += R_EXP(x[k] - m);
    *mx = m;
    *lsum = R_LOG(s);
}

/* sum_k w_k (lse - x_k), the label-smoothing term of one row (lse = m + lsum). */
FL_INLINE REAL FL_NAME(row_smooth)(fl_index c, const REAL *FL_RESTRICT x,
                                   const REAL *FL_RESTRICT cw, REAL m, REAL lsum) {
    REAL s = 0;
    if (cw) {
        FL_SIMD_REDUCE_SUM(s)
        for (fl_index k = 0; k < c; k++) s += cw[k] * ((m - x[k]) + lsum);
    } else {
        FL_SIMD_REDUCE_SUM(s)
        for (fl_index k = 0; k < c; k++) s += (m - x[k]) + lsum;
    }
    return s;
}

/* sum_k w_k, the class weights' total (c without weights), in order k = 0..c-1. */
FL_INLINE REAL FL_NAME(class_weight_sum)(fl_index c, const REAL *cw) {
    if (!cw) return (REAL)c;
    REAL wsum = 0;
    for (fl_index k = 0; k < c; k++) wsum += cw[k];
    return wsum;
}

/* ---- the rows of one call: contiguous or gathered ------------------------------------ */

/* A call over rows, all but the rows themselves. A call's rows are numbered 0 .. rows - 1 in
 * the order of its labels (row i of an (N, C, d1, ..., dk) input is (n, s) with
 * i = n S + s, S = d1 ... dk); Y and SW are indexed by that number. */
typedef struct {
    fl_index c;
    const int64_t *Y; /* class labels of every row, or NULL (probability targets) */
    const REAL *SW;   /* sample weights of every row, or NULL (all 1) */
    const REAL *cw;   /* class weights (c), or NULL (all 1) */
    int64_t ignore;
    REAL p;           /* label smoothing (cross-entropy), or the row loss's parameter */
    REAL gs;
    int want;
    fl_index *bad;
    /* rows of several float inputs (INPUTS2, INPUTS3): each input's rows and gradient rows
     * (X, G are the first's), the loss's further parameters */
    const REAL *const *XS;
    REAL *const *GS;
    REAL q[FL_ROW_MAX_PARAMS];
} FL_NAME(rows_args);

/* The loss of rows [row0, row0 + n) of a call, whose inputs x (and targets t, gradient g,
 * Hessian diagonal h) are contiguous rows of c at X (T, G, H); E is the call's elems + row0.
 * Returns the sum of the row losses; writes G (FL_WANT_GRAD), H (when not NULL: only with
 * FL_WANT_GRAD) and E (FL_WANT_ELEMENTS). */
typedef double (*FL_NAME(rows_fn))(const FL_NAME(rows_args) *a, fl_index row0, fl_index n,
                                   const REAL *X, const REAL *T, REAL *G, REAL *H, REAL *E);

/* Short and other rows are separate functions (ce_*_range and ce_*_range_short, both
 * instantiating ce_*_rows): a `c < FL_SHORT_ROW` test inside one function tells gcc
 * that c >= 16 on the other branch, and with that bound it compiled the SSE2 clone's
 * float64 loops 1.25x slower at c = 100..1000 (measured). The short version asserts
 * its own bound instead: the plain loops are vectorized for c < 16.
 *
 * Labels are loaded once each and checked before they index anything: a label outside
 * [0, c) that is not ignore_index (another thread changed it after the caller's check)
 * makes its row count as ignored, and its position (row0 + row) goes to *bad.
 *
 * A row's loss sums a_k (lse - x_k) with a_k = (1 - q) wy [k == y] + (q / c) w_k (labels)
 * or a_k = w_k t'_k (probabilities), A = sum_k a_k: its gradient is A p_k - a_k and the
 * diagonal of its Hessian A p_k (1 - p_k) (p = softmax(x)); a sample weight si scales all
 * three. */
FL_INLINE double FL_NAME(ce_index_rows)(const FL_NAME(rows_args) *a, fl_index row0, fl_index n,
                                        const REAL *X, REAL *G, REAL *H, REAL *E,
                                        const int short_rows) {
    const fl_index c = a->c;
    FL_ASSUME(!short_rows || c < FL_SHORT_ROW);
    REAL scratch[FL_BLOCK], mx[FL_BLOCK_ROWS], sum[FL_BLOCK_ROWS], lsum[FL_BLOCK_ROWS];
    const int64_t *Y = a->Y + row0;
    const REAL *SW = a->SW ? a->SW + row0 : NULL, *cw = a->cw, q = a->p, gs = a->gs;
    const int64_t ignore = a->ignore;
    const int want = a->want;
    const fl_index rows = FL_NAME(block_rows)(c, short_rows);
    const int grad = (want & FL_WANT_GRAD) != 0;
    const int value = (want & (FL_WANT_SUM | FL_WANT_ELEMENTS)) != 0;
    const REAL qc = q / (REAL)c, keep = (REAL)1 - q;
    const REAL wsum = FL_NAME(class_weight_sum)(c, cw);
    double total = 0;
    for (fl_index r0 = 0; r0 < n; r0 += rows) {
        const fl_index nr = r0 + rows < n ? rows : n - r0;
        const REAL *x = X + r0 * c;
        REAL *buf = grad ? G + r0 * c : scratch;
        const int buffered = grad || c <= FL_BLOCK;
        if (buffered) {
            FL_NAME(block_softmax)(nr, c, x, buf, mx, sum, lsum, short_rows);
        } else {
            FL_NAME(row_logsumexp)(c, x, &mx[0], &lsum[0]);
            sum[0] = (REAL)0; /* no buffer, no sum: let small_lsums recompute the row */
        }
        if (value) FL_NAME(small_lsums)(nr, c, x, Y + r0, buffered ? buf : NULL, mx, sum, lsum);
        for (fl_index r = 0; r < nr; r++) {
            const int64_t y = fl_load_index(Y + r0 + r);
            const REAL *xr = x + r * c;
            REAL loss = 0;
            if (y == ignore || (uint64_t)y >= (uint64_t)c) {
                if (y != ignore) FL_NOTE_BAD(a->bad, row0 + r0 + r);
                if (grad) {
                    REAL *gr = buf + r * c;
                    for (fl_index k = 0; k < c; k++) gr[k] = 0;
                }
                if (H) {
                    REAL *hr = H + (r0 + r) * c;
                    for (fl_index k = 0; k < c; k++) hr[k] = 0;
                }
            } else {
                const REAL wy = cw ? cw[y] : (REAL)1;
                const REAL si = SW ? SW[r0 + r] : (REAL)1, gsr = gs * si;
                loss = keep * wy * ((mx[r] - xr[y]) + lsum[r]);
                if (q != 0 && value) loss += qc * FL_NAME(row_smooth)(c, xr, cw, mx[r], lsum[r]);
                if (SW) loss *= si;
                if (grad) {
                    /* d/dx_k = (keep wy + q W / c) p_k - keep wy [k == y] - (q / c) w_k */
                    REAL *gr = buf + r * c;
                    const REAL A = gsr * (keep * wy + qc * wsum), a_ = A / sum[r];
                    const REAL b = gsr * qc;
                    if (H) { /* A p_k (1 - p_k), from exp(x_k - m) before it becomes g */
                        REAL *hr = H + (r0 + r) * c;
                        const REAL inv = (REAL)1 / sum[r];
                        FL_SIMD
                        for (fl_index k = 0; k < c; k++) {
                            const REAL pk = gr[k] * inv;
                            hr[k] = A * (pk * ((REAL)1 - pk));
                        }
                    }
                    if (q == 0) {
                        /* g_y taken before the loop and stored after it: read back after
                         * the loop's vector stores, it stalled every short row (a scalar
                         * load is not forwarded from a vector store) */
                        const REAL gy = a_ * gr[y];
                        FL_SIMD
                        for (fl_index k = 0; k < c; k++) gr[k] *= a_;
                        gr[y] = R_FMA(-(gsr * keep), wy, gy);
                    } else {
                        if (cw) {
                            FL_SIMD
                            for (fl_index k = 0; k < c; k++) gr[k] = a_ * gr[k] - b * cw[k];
                        } else {
                            FL_SIMD
                            for (fl_index k = 0; k < c; k++) gr[k] = a_ * gr[k] - b;
                        }
                        gr[y] -= gsr * keep * wy;
                    }
                }
            }
            if (want & FL_WANT_ELEMENTS) E[r0 + r] = loss;
            total += (double)loss;
        }
    }
    return total;
}

static FL_HOT double FL_NAME(ce_index_range)(const FL_NAME(rows_args) *a, fl_index row0,
                                              fl_index n, const REAL *X, const REAL *T,
                                              REAL *G, REAL *H, REAL *E) {
    (void)T;
    return FL_NAME(ce_index_rows)(a, row0, n, X, G, H, E, 0);
}

static FL_HOT double FL_NAME(ce_index_range_short)(const FL_NAME(rows_args) *a, fl_index row0,
                                                    fl_index n, const REAL *X, const REAL *T,
                                                    REAL *G, REAL *H, REAL *E) {
    (void)T;
    return FL_NAME(ce_index_rows)(a, row0, n, X, G, H, E, 1);
}

FL_INLINE double FL_NAME(ce_prob_rows)(const FL_NAME(rows_args) *a, fl_index row0, fl_index n,
                                       const REAL *X, const REAL *T, REAL *G, REAL *H, REAL *E,
                                       const int short_rows) {
    const fl_index c = a->c;
    FL_ASSUME(!short_rows || c < FL_SHORT_ROW);
    REAL scratch[FL_BLOCK], mx[FL_BLOCK_ROWS], sum[FL_BLOCK_ROWS], lsum[FL_BLOCK_ROWS];
    const REAL *SW = a->SW ? a->SW + row0 : NULL, *cw = a->cw, q = a->p, gs = a->gs;
    const int want = a->want;
    const fl_index rows = FL_NAME(block_rows)(c, short_rows);
    const int grad = (want & FL_WANT_GRAD) != 0;
    const REAL qc = q / (REAL)c, keep = (REAL)1 - q;
    double total = 0;
    for (fl_index r0 = 0; r0 < n; r0 += rows) {
        const fl_index nr = r0 + rows < n ? rows : n - r0;
        const REAL *x = X + r0 * c;
        REAL *buf = grad ? G + r0 * c : scratch;
        if (grad || c <= FL_BLOCK) {
            FL_NAME(block_softmax)(nr, c, x, buf, mx, sum, lsum, short_rows);
        } else {
            FL_NAME(row_logsumexp)(c, x, &mx[0], &lsum[0]);
        }
        for (fl_index r = 0; r < nr; r++) {
            const REAL *xr = x + r * c, *tr = T + (r0 + r) * c;
            const REAL m = mx[r], ls = lsum[r];
            const REAL si = SW ? SW[r0 + r] : (REAL)1, gsr = gs * si;
            REAL loss = 0, tw = 0;
            /* t'_k = keep t_k + q/c;  loss = sum_k w_k t'_k (lse - x_k);  tw = sum_k w_k t'_k */
            if (short_rows) { /* no omp simd: see FL_SHORT_ROW */
                for (fl_index k = 0; k < c; k++) {
                    REAL wt = (cw ? cw[k] : (REAL)1) * (keep * tr[k] + qc); /* w = 1 is exact */
                    loss += wt * ((m - xr[k]) + ls);
                    tw += wt;
                }
            } else if (cw) {
                FL_PRAGMA(omp simd reduction(+ : loss, tw))
                for (fl_index k = 0; k < c; k++) {
                    REAL wt = cw[k] * (keep * tr[k] + qc);
                    loss += wt * ((m - xr[k]) + ls);
                    tw += wt;
                }
            } else {
                FL_PRAGMA(omp simd reduction(+ : loss, tw))
                for (fl_index k = 0; k < c; k++) {
                    REAL wt = keep * tr[k] + qc;
                    loss += wt * ((m - xr[k]) + ls);
                    tw += wt;
                }
            }
            if (SW) loss *= si;
            if (grad) {
                REAL *gr = buf + r * c;
                const REAL a_ = gsr * tw / sum[r];
                if (H) { /* A p_k (1 - p_k) with A = tw */
                    REAL *hr = H + (r0 + r) * c;
                    const REAL A = gsr * tw, inv = (REAL)1 / sum[r];
                    FL_SIMD
                    for (fl_index k = 0; k < c; k++) {
                        const REAL pk = gr[k] * inv;
                        hr[k] = A * (pk * ((REAL)1 - pk));
                    }
                }
                if (cw) {
                    FL_SIMD
                    for (fl_index k = 0; k < c; k++)
                        gr[k] = a_ * gr[k] - gsr * cw[k] * (keep * tr[k] + qc);
                } else {
                    FL_SIMD
                    for (fl_index k = 0; k < c; k++) gr[k] = a_ * gr[k] - gsr * (keep * tr[k] + qc);
                }
            }
            if (want & FL_WANT_ELEMENTS) E[r0 + r] = loss;
            total += (double)loss;
        }
    }
    return total;
}

static FL_HOT double FL_NAME(ce_prob_range)(const FL_NAME(rows_args) *a, fl_index row0,
                                             fl_index n, const REAL *X, const REAL *T, REAL *G,
                                             REAL *H, REAL *E) {
    return FL_NAME(ce_prob_rows)(a, row0, n, X, T, G, H, E, 0);
}

static FL_HOT double FL_NAME(ce_prob_range_short)(const FL_NAME(rows_args) *a, fl_index row0,
                                                   fl_index n, const REAL *X, const REAL *T,
                                                   REAL *G, REAL *H, REAL *E) {
    return FL_NAME(ce_prob_rows)(a, row0, n, X, T, G, H, E, 1);
}

/* ---- row-wise losses of row_rules.h ------------------------------------------------- */

/* One loop per row of FL_ROWWISE_LOSSES, a rows_fn, its rule called with the row's target:
 * a label (loaded once and checked, as in ce_index_rows) or a row of T. RULE names the rule:
 * FL_NAME, or FL_NARROW for the float rules of short rows. */
#define FL_ROW_TARGET_LABEL(RULE, stem, i)                                                 \
    const int64_t y = fl_load_index(a->Y + row0 + i);                                      \
    if (y == a->ignore || (uint64_t)y >= (uint64_t)c) {                                    \
        if (y != a->ignore) FL_NOTE_BAD(a->bad, row0 + i);                                 \
    } else {                                                                               \
        const REAL wy = a->cw ? a->cw[y] : (REAL)1;                                        \
        loss = RULE(stem##_row)(c, X + i * c, (fl_index)y, wy, a->p, a->gs * si, g, h);    \
    }
#define FL_ROW_TARGET_ROW(RULE, stem, i)                                                   \
    loss = RULE(stem##_trow)(c, X + i * c, T + i * c, a->cw, a->p, a->gs * si, g, h);
/* A row of class indices (LABELS): each loaded once, up to the first negative one (the end of
 * the list), and checked; m counts each class's repeats. A row with an index >= c is noted
 * in a->bad (the Python layer checked them all before: another thread changed them). */
#define FL_ROW_TARGET_LABELS(RULE, stem, i)                                                \
    uint16_t m[FL_LABEL_ROW_MAX_CLASSES];                                                  \
    const int64_t *yr = a->Y + (row0 + i) * c;                                             \
    int ok = 1;                                                                            \
    for (fl_index k = 0; k < c; k++) m[k] = 0;                                             \
    for (fl_index j = 0; j < c; j++) {                                                     \
        const int64_t y = fl_load_index(yr + j);                                           \
        if (y < 0) break;                                                                  \
        if (y >= c) {                                                                      \
            ok = 0;                                                                        \
            break;                                                                         \
        }                                                                                  \
        m[y]++;                                                                            \
    }                                                                                      \
    if (ok) loss = RULE(stem##_lrow)(c, X + i * c, m, a->p, a->gs * si, g, h);             \
    else FL_NOTE_BAD(a->bad, row0 + i);
/* Rows of several float inputs: the i-th row of each (X, G: the first input's), its code. */
#define FL_ROW_TARGET_INPUTS(RULE, stem, i)                                                \
    const REAL *xs[FL_ROW_MAX_INPUTS];                                                     \
    REAL *gr[FL_ROW_MAX_INPUTS];                                                           \
    for (int j = 0; j < FL_ROW_MAX_INPUTS; j++) {                                          \
        xs[j] = j ? a->XS[j] + (row0 + i) * c : X + i * c;                                 \
        gr[j] = g ? (j ? a->GS[j] + (row0 + i) * c : g) : NULL;                            \
    }                                                                                      \
    const int64_t y = a->Y ? fl_load_index(a->Y + row0 + i) : 0;                           \
    (void)h; /* no Hessian */                                                              \
    loss = RULE(stem##_irow)(c, xs, y, a->p, a->q, a->gs * si, gr);
#define FL_ROW_TARGET_INPUTS2 FL_ROW_TARGET_INPUTS
#define FL_ROW_TARGET_INPUTS3 FL_ROW_TARGET_INPUTS
#define FL_DEFINE_ROWS_FN(RULE, stem, TARGET)                                              \
    static FL_HOT double RULE(stem##_rows)(const FL_NAME(rows_args) *a, fl_index row0,     \
                                       fl_index n, const REAL *X, const REAL *T, REAL *G,  \
                                       REAL *H, REAL *E) {                                 \
        const fl_index c = a->c;                                                           \
        const REAL *SW = a->SW ? a->SW + row0 : NULL;                                      \
        const int want = a->want;                                                          \
        double total = 0;                                                                  \
        (void)T;                                                                           \
        if (want & FL_WANT_GRAD) {                                                         \
            FL_SIMD                                                                        \
            for (fl_index j = 0; j < n * c; j++) G[j] = 0;                                 \
        }                                                                                  \
        if (H) {                                                                           \
            FL_SIMD                                                                        \
            for (fl_index j = 0; j < n * c; j++) H[j] = 0;                                 \
        }                                                                                  \
        for (fl_index i = 0; i < n; i++) {                                                 \
            REAL *g = (want & FL_WANT_GRAD) ? G + i * c : NULL;                            \
            REAL *h = H ? H + i * c : NULL;                                                \
            const REAL si = SW ? SW[i] : (REAL)1;                                          \
            REAL loss = 0;                                                                 \
            FL_ROW_TARGET_##TARGET(RULE, stem, i)                                          \
            if (SW) loss *= si;                                                            \
            if (want & FL_WANT_ELEMENTS) E[i] = loss;                                      \
            total += (double)loss;                                                         \
        }                                                                                  \
        return total;                                                                      \
    }
#define FL_DEFINE_ROWWISE(NAME, stem, TARGET) FL_DEFINE_ROWS_FN(FL_NAME, stem, TARGET)
FL_ROWWISE_LOSSES(FL_DEFINE_ROWWISE)
#undef FL_DEFINE_ROWWISE
#if defined(FL_REAL_F32)
#define FL_DEFINE_ROWWISE(NAME, stem, TARGET) FL_DEFINE_ROWS_FN(FL_NARROW, stem, TARGET)
FL_ROWWISE_LOSSES(FL_DEFINE_ROWWISE)
#undef FL_DEFINE_ROWWISE
#endif
#undef FL_DEFINE_ROWS_FN
#undef FL_ROW_TARGET_LABEL
#undef FL_ROW_TARGET_ROW
#undef FL_ROW_TARGET_LABELS
#undef FL_ROW_TARGET_INPUTS
#undef FL_ROW_TARGET_INPUTS2
#undef FL_ROW_TARGET_INPUTS3

/* ---- the driver: threads, and the class stride of K-dimensional inputs --------------- */

/* dst[j ldd + k] = src[k lds + j] for k < rows, j < cols: 8 x 8 tiles transposed in
 * registers (fl_vec8.h), a last partial group of either dimension the last 8 (overlapping
 * the one before, writing the same values), a dimension under 8 by value. */
FL_INLINE void FL_NAME(transpose_tiles)(fl_index rows, fl_index cols,
                                        const REAL *FL_RESTRICT src, fl_index lds,
                                        REAL *FL_RESTRICT dst, fl_index ldd) {
    if (rows < 8 || cols < 8) {
        for (fl_index k = 0; k < rows; k++)
            for (fl_index j = 0; j < cols; j++) dst[j * ldd + k] = src[k * lds + j];
        return;
    }
    for (fl_index j0 = 0; j0 < cols; j0 += 8) {
        const fl_index j = j0 + 8 <= cols ? j0 : cols - 8;
        for (fl_index k0 = 0; k0 < rows; k0 += 8) {
            const fl_index k = k0 + 8 <= rows ? k0 : rows - 8;
            FL_NAME(transpose8)(src + k * lds + j, lds, dst + j * ldd + k, ldd);
        }
    }
}

/* dst[r c + k] = src row (row0 + r)'s class k, for nr rows of an input whose class axis has
 * stride `inner` (S): row i = (n, s) starts at n c S + s. A segment of rows within one n is
 * a (c, len) matrix of row stride S, transposed by transpose_tiles. The block stays in L1. */
FL_INLINE void FL_NAME(gather_rows)(fl_index row0, fl_index nr, fl_index c, fl_index inner,
                                    const REAL *FL_RESTRICT src, REAL *FL_RESTRICT dst) {
    for (fl_index r = 0; r < nr;) {
        const fl_index i = row0 + r, n = i / inner, s = i - n * inner;
        const fl_index len = inner - s < nr - r ? inner - s : nr - r;
        FL_NAME(transpose_tiles)(c, len, src + n * c * inner + s, inner, dst + r * c, c);
        r += len;
    }
}

/* The inverse of gather_rows. */
FL_INLINE void FL_NAME(scatter_rows)(fl_index row0, fl_index nr, fl_index c, fl_index inner,
                                     const REAL *FL_RESTRICT src, REAL *FL_RESTRICT dst) {
    for (fl_index r = 0; r < nr;) {
        const fl_index i = row0 + r, n = i / inner, s = i - n * inner;
        const fl_index len = inner - s < nr - r ? inner - s : nr - r;
        FL_NAME(transpose_tiles)(len, c, src + r * c, c, dst + n * c * inner + s, inner);
        r += len;
    }
}

/* rows [lo, hi) of an input with class stride `inner` > 1 (c <= FL_STRIDED_MAX_CLASSES):
 * blocks of rows gathered into contiguous buffers, run by `range`, their gradient and
 * Hessian scattered back. No copy of the whole input: a block lives in L1/L2. */
static FL_HOT double FL_NAME(strided_range)(FL_NAME(rows_fn) range, const FL_NAME(rows_args) *a,
                                     fl_index lo, fl_index hi, fl_index inner, const REAL *X,
                                     const REAL *T, REAL *G, REAL *H, REAL *E) {
    REAL xb[FL_STRIDED_MAX_CLASSES], tb[FL_STRIDED_MAX_CLASSES];
    REAL gb[FL_STRIDED_MAX_CLASSES], hb[FL_STRIDED_MAX_CLASSES];
    const fl_index c = a->c, per = FL_STRIDED_MAX_CLASSES / c;
    double total = 0;
    for (fl_index i = lo; i < hi; i += per) {
        const fl_index nr = hi - i < per ? hi - i : per;
        FL_NAME(gather_rows)(i, nr, c, inner, X, xb);
        if (T) FL_NAME(gather_rows)(i, nr, c, inner, T, tb);
        total += range(a, i, nr, xb, T ? tb : NULL, G ? gb : NULL, H ? hb : NULL,
                       E ? E + i : NULL);
        if (G) FL_NAME(scatter_rows)(i, nr, c, inner, gb, G);
        if (H) FL_NAME(scatter_rows)(i, nr, c, inner, hb, H);
    }
    return total;
}

/* nll_loss over rows [lo, hi) of an input with class stride `inner` > 1, in place: a row's
 * loss and gradient touch its label's entry alone (nll_row), so instead of gathering whole
 * rows the gradient (and the Hessian, 0) is zero-filled along s and set at those entries.
 * The label, class and sample weights as in nll_row's loop (FL_ROW_TARGET_LABEL). */
static FL_HOT double FL_NAME(nll_strided_range)(const FL_NAME(rows_args) *a, fl_index lo,
                                         fl_index hi, fl_index inner, const REAL *X, REAL *G,
                                         REAL *H, REAL *E) {
    const fl_index c = a->c;
    double total = 0;
    for (fl_index i = lo; i < hi;) {
        const fl_index n = i / inner, s0 = i - n * inner;
        const fl_index len = inner - s0 < hi - i ? inner - s0 : hi - i;
        const fl_index base = n * c * inner + s0;
        for (fl_index k = 0; k < c; k++) {
            if (G) memset(G + base + k * inner, 0, sizeof(REAL) * (size_t)len);
            if (H) memset(H + base + k * inner, 0, sizeof(REAL) * (size_t)len);
        }
        for (fl_index j = 0; j < len; j++) {
            const fl_index row = i + j;
            const int64_t y = fl_load_index(a->Y + row);
            REAL loss = 0;
            if (y == a->ignore || (uint64_t)y >= (uint64_t)c) {
                if (y != a->ignore) FL_NOTE_BAD(a->bad, row);
            } else {
                const REAL wy = a->cw ? a->cw[y] : (REAL)1, si = a->SW ? a->SW[row] : (REAL)1;
                const fl_index at = base + (fl_index)y * inner + j;
                if (G) G[at] = -(a->gs * si) * wy;
                loss = -wy * X[at];
                if (a->SW) loss *= si;
            }
            if (E) E[row] = loss;
            total += (double)loss;
        }
        i += len;
    }
    return total;
}

/* cross_entropy with class labels over rows [lo, hi) of an input with class stride `inner`
 * > 1 and few classes (c <= FL_PLANE_MAX_CLASSES), in the input's own layout: for each n,
 * its (c, S) plane is taken FL_PLANE_LANES positions s at a time, every step a vector loop
 * along s (the max, exp and sums over the c classes one class after another, as the short
 * rows' plain loops sum them), and the label's entries by value. The same arithmetic as
 * ce_index_rows, row by row: the same losses and gradients (the sums of c >= FL_SHORT_ROW
 * classes in another order), without gathering rows of c and scattering them back. */
#define FL_PLANE_MAX_CLASSES 64
#define FL_PLANE_LANES 64

static FL_HOT double FL_NAME(ce_index_planes)(const FL_NAME(rows_args) *a, fl_index lo,
                                              fl_index hi, fl_index inner, const REAL *X,
                                              REAL *G, REAL *E) {
    const fl_index c = a->c, B = FL_PLANE_LANES;
    FL_ASSUME(c <= FL_PLANE_MAX_CLASSES);
    REAL scratch[FL_PLANE_MAX_CLASSES * FL_PLANE_LANES];
    REAL mx[FL_PLANE_LANES], sum[FL_PLANE_LANES], lsum[FL_PLANE_LANES], coef[FL_PLANE_LANES];
    REAL shift[FL_PLANE_LANES], smooth[FL_PLANE_LANES], ey[FL_PLANE_LANES];
    fl_index lab[FL_PLANE_LANES];
    const REAL *SW = a->SW, *cw = a->cw, q = a->p, gs = a->gs;
    const int64_t ignore = a->ignore;
    const int grad = (a->want & FL_WANT_GRAD) != 0 && G != NULL;
    const int value = (a->want & (FL_WANT_SUM | FL_WANT_ELEMENTS)) != 0;
    const REAL qc = q / (REAL)c, keep = (REAL)1 - q;
    const REAL wsum = FL_NAME(class_weight_sum)(c, cw);
    double total = 0;
    for (fl_index i = lo; i < hi;) {
        const fl_index n = i / inner, s0 = i - n * inner;
        const fl_index len = inner - s0 < hi - i ? inner - s0 : hi - i;
        for (fl_index j0 = 0; j0 < len; j0 += B) {
            const fl_index nb = len - j0 < B ? len - j0 : B, row0 = i + j0;
            const REAL *x = X + n * c * inner + s0 + j0; /* class k of lane j: x[k inner + j] */
            /* exp(x - m) goes to the gradient's place (then scaled there), else scratch */
            REAL *e = grad ? G + n * c * inner + s0 + j0 : scratch;
            const fl_index lde = grad ? inner : B;
            FL_NAME(softmax_exp_lanes)(nb, c, x, inner, e, lde, mx, sum);
            FL_NAME(log_of)(nb, sum, lsum);
            /* the labels, each loaded once and checked; an ignored or bad row gets lab -1 */
            for (fl_index j = 0; j < nb; j++) {
                const int64_t y = fl_load_index(a->Y + row0 + j);
                const int ok = y != ignore && (uint64_t)y < (uint64_t)c;
                if (!ok && y != ignore) FL_NOTE_BAD(a->bad, row0 + j);
                lab[j] = ok ? (fl_index)y : -1;
            }
            if (value) /* small_lsums: a label holding its row's max, a sum below 2 */
                for (fl_index j = 0; j < nb; j++) {
                    const fl_index y = lab[j];
                    if (y >= 0 && sum[j] < (REAL)2 && x[y * inner + j] == mx[j])
                        lsum[j] = FL_NAME(log1p_fast)(
                            FL_NAME(others_sum)(c, y, x + j, inner, e + j, lde, mx[j]));
                }
            if (q != 0 && value) { /* row_smooth along s: sum_k w_k ((m - x_k) + lsum) */
                for (fl_index j = 0; j < nb; j++) smooth[j] = 0;
                for (fl_index k = 0; k < c; k++) {
                    const REAL *xk = x + k * inner, wk = cw ? cw[k] : (REAL)1;
                    if (cw) {
                        FL_SIMD
                        for (fl_index j = 0; j < nb; j++)
                            smooth[j] += wk * ((mx[j] - xk[j]) + lsum[j]);
                    } else {
                        FL_SIMD
                        for (fl_index j = 0; j < nb; j++) smooth[j] += (mx[j] - xk[j]) + lsum[j];
                    }
                }
            }
            for (fl_index j = 0; j < nb; j++) {
                const fl_index y = lab[j];
                REAL loss = 0;
                coef[j] = 0;
                shift[j] = 0;
                if (y >= 0) {
                    const REAL wy = cw ? cw[y] : (REAL)1;
                    const REAL si = SW ? SW[row0 + j] : (REAL)1, gsr = gs * si;
                    loss = keep * wy * ((mx[j] - x[y * inner + j]) + lsum[j]);
                    if (q != 0 && value) loss += qc * smooth[j];
                    if (SW) loss *= si;
                    coef[j] = gsr * (keep * wy + qc * wsum) / sum[j];
                    shift[j] = gsr * qc;
                    ey[j] = e[y * lde + j];
                }
                if (a->want & FL_WANT_ELEMENTS) E[row0 + j] = loss;
                total += (double)loss;
            }
            if (!grad) continue;
            /* g_k = A p_k - (q / c) w_k, then the label's -keep wy; ignored rows 0 */
            for (fl_index k = 0; k < c; k++) {
                REAL *gk = e + k * lde;
                const REAL wk = cw ? cw[k] : (REAL)1;
                if (q == 0) {
                    FL_SIMD
                    for (fl_index j = 0; j < nb; j++)
                        gk[j] = lab[j] >= 0 ? gk[j] * coef[j] : (REAL)0;
                } else {
                    FL_SIMD
                    for (fl_index j = 0; j < nb; j++)
                        gk[j] = lab[j] >= 0 ? coef[j] * gk[j] - shift[j] * wk : (REAL)0;
                }
            }
            for (fl_index j = 0; j < nb; j++) {
                const fl_index y = lab[j];
                if (y < 0) continue;
                const REAL wy = cw ? cw[y] : (REAL)1;
                const REAL gsr = gs * (SW ? SW[row0 + j] : (REAL)1);
                REAL *gy = e + y * lde + j;
                if (q == 0)
                    *gy = R_FMA(-(gsr * keep), wy, coef[j] * ey[j]);
                else
                    *gy = (coef[j] * ey[j] - shift[j] * wy) - gsr * keep * wy;
            }
        }
        i += len;
    }
    return total;
}

/* `range` over the call's `rows` rows (rows = N S), split among threads. */
static double FL_NAME(rows_run)(FL_NAME(rows_fn) range, const FL_NAME(rows_args) *a,
                                fl_index rows, fl_index inner, const REAL *X, const REAL *T,
                                REAL *G, REAL *H, REAL *E, int n_threads) {
    const fl_index c = a->c;
    const int nt = fl_threads_for(rows * c, n_threads, FL_LOSS_MIN_WORK_PER_THREAD);
    double s;
    if (inner == 1) {
        FL_PARALLEL_SUM(s, rows, nt,
                        range(a, lo, hi - lo, X + lo * c, T ? T + lo * c : NULL,
                              G ? G + lo * c : NULL, H ? H + lo * c : NULL, E ? E + lo : NULL));
    } else {
        FL_PARALLEL_SUM(s, rows, nt,
                        FL_NAME(strided_range)(range, a, lo, hi, inner, X, T, G, H, E));
    }
    return s;
}

double FL_NAME(fl_cross_entropy_index)(fl_index n, fl_index c, fl_index inner, const REAL *X,
                                       const int64_t *Y, const REAL *cw, const REAL *sw,
                                       int64_t ignore, double q, double gscale, REAL *G,
                                       REAL *H, REAL *E, int want, int n_threads,
                                       fl_index *bad) {
    const FL_NAME(rows_args) a = {c, Y, sw, cw, ignore, (REAL)q, (REAL)gscale, want, bad,
                                  NULL, NULL, {0}};
    if (inner > 1 && H == NULL && c <= FL_PLANE_MAX_CLASSES) {
        const fl_index rows = n * inner;
        const int nt = fl_threads_for(rows * c, n_threads, FL_LOSS_MIN_WORK_PER_THREAD);
        double s;
        FL_PARALLEL_SUM(s, rows, nt, FL_NAME(ce_index_planes)(&a, lo, hi, inner, X, G, E));
        return s;
    }
    return FL_NAME(rows_run)(c < FL_SHORT_ROW ? FL_NAME(ce_index_range_short)
                                              : FL_NAME(ce_index_range),
                             &a, n * inner, inner, X, NULL, G, H, E, n_threads);
}

double FL_NAME(fl_cross_entropy_prob)(fl_index n, fl_index c, fl_index inner, const REAL *X,
                                      const REAL *T, const REAL *cw, const REAL *sw, double q,
                                      double gscale, REAL *G, REAL *H, REAL *E, int want,
                                      int n_threads) {
    const FL_NAME(rows_args) a = {c, NULL, sw, cw, 0, (REAL)q, (REAL)gscale, want, NULL,
                                  NULL, NULL, {0}};
    return FL_NAME(rows_run)(c < FL_SHORT_ROW ? FL_NAME(ce_prob_range_short)
                                              : FL_NAME(ce_prob_range),
                             &a, n * inner, inner, X, T, G, H, E, n_threads);
}

/* No default: a row of FL_ROWWISE_LOSSES without its case does not compile. */
#define FL_ROWWISE_DISPATCH_ROW(NAME, stem, target)                                        \
    case FL_ROW_##NAME:                                                                    \
        range = FL_NAME(stem##_rows);                                                      \
        break;
#define FL_ROWWISE_DISPATCH_NARROW(NAME, stem, target)                                     \
    case FL_ROW_##NAME:                                                                    \
        range = FL_NARROW(stem##_rows);                                                    \
        break;

/* The loop of `loss` for rows of c classes. */
static FL_NAME(rows_fn) FL_NAME(rows_range)(enum fl_rowwise_loss loss, fl_index c) {
    FL_NAME(rows_fn) range = NULL;
#if defined(FL_REAL_F32)
    if (c < FL_ROW_NARROW_BELOW) {
        switch (loss) { FL_ROWWISE_LOSSES(FL_ROWWISE_DISPATCH_NARROW) }
        return range;
    }
#endif
    (void)c;
    switch (loss) { FL_ROWWISE_LOSSES(FL_ROWWISE_DISPATCH_ROW) }
    return range;
}

double FL_NAME(fl_rowwise_loss)(enum fl_rowwise_loss loss, fl_index n, fl_index c,
                                fl_index inner, const REAL *X, const int64_t *Y, const REAL *T,
                                const REAL *cw, const REAL *sw, int64_t ignore, double param,
                                double gscale, REAL *G, REAL *H, REAL *E, int want,
                                int n_threads, fl_index *bad) {
    const FL_NAME(rows_args) a = {c, Y, sw, cw, ignore, (REAL)param, (REAL)gscale, want, bad,
                                  NULL, NULL, {0}};
    FL_NAME(rows_fn) range = FL_NAME(rows_range)(loss, c);
    if (!range) return NAN; /* not a row of the list (the public entry point checks first) */
    if (loss == FL_ROW_NLL && inner > 1) {
        const int nt = fl_threads_for(n * inner * c, n_threads, FL_LOSS_MIN_WORK_PER_THREAD);
        double s;
        FL_PARALLEL_SUM(s, n * inner, nt,
                        FL_NAME(nll_strided_range)(&a, lo, hi, inner, X,
                                                   (want & FL_WANT_GRAD) ? G : NULL, H,
                                                   (want & FL_WANT_ELEMENTS) ? E : NULL));
        return s;
    }
    return FL_NAME(rows_run)(range, &a, n * inner, inner, X, T, G, H, E, n_threads);
}

double FL_NAME(fl_rowwise_inputs_loss)(enum fl_rowwise_loss loss, fl_index n, fl_index c,
                                       const REAL *const *X, const int64_t *Y, const REAL *sw,
                                       double param, const double *q, double gscale,
                                       REAL *const *G, REAL *E, int want, int n_threads) {
    FL_NAME(rows_args) a = {c, Y, sw, NULL, 0, (REAL)param, (REAL)gscale, want, NULL,
                            X, G, {0}};
    for (int j = 0; j < FL_ROW_MAX_PARAMS; j++) a.q[j] = (REAL)q[j];
    FL_NAME(rows_fn) range = FL_NAME(rows_range)(loss, c);
    if (!range) return NAN;
    return FL_NAME(rows_run)(range, &a, n, 1, X[0], NULL, (want & FL_WANT_GRAD) ? G[0] : NULL,
                             NULL, E, n_threads);
}
#undef FL_ROWWISE_DISPATCH_ROW
#undef FL_ROWWISE_DISPATCH_NARROW

double FL_NAME(fl_label_weight_total)(fl_index n, fl_index c, const int64_t *Y, const REAL *cw,
                                      const REAL *sw, int64_t ignore, fl_index *bad) {
    double total = 0;
    for (fl_index i = 0; i < n; i++) {
        const int64_t y = fl_load_index(Y + i);
        if (y == ignore) continue;
        if ((uint64_t)y >= (uint64_t)c) {
            *bad = i;
            return -1;
        }
        const double wy = cw ? (double)cw[y] : 1.0;
        total += sw ? (double)sw[i] * wy : wy;
    }
    return total;
}

FL_HOT fl_index FL_NAME(fl_count_not_either)(fl_index n, const REAL *x, REAL a, REAL b,
                                             fl_index *first) {
    fl_index count = 0;
    /* x == x: NaN is not counted (NaN in, NaN out) */
    FL_SIMD_REDUCE_SUM(count)
    for (fl_index i = 0; i < n; i++) count += (x[i] != a) & (x[i] != b) & (x[i] == x[i]);
    *first = -1; /* as fl_count_outside: an early-exit pass only when there is one */
    if (count)
        for (fl_index i = 0; i < n; i++)
            if ((x[i] != a) & (x[i] != b) & (x[i] == x[i])) {
                *first = i;
                break;
            }
    return count;
}

FL_HOT fl_index FL_NAME(fl_count_outside)(fl_index n, const REAL *x, REAL lo, REAL hi,
                                          fl_index *first) {
    fl_index count = 0;
    FL_SIMD_REDUCE_SUM(count)
    for (fl_index i = 0; i < n; i++) count += (x[i] < lo) | (x[i] > hi);
    /* The branch-free count is the whole cost of a valid call; only when it found an
     * offender does a second, early-exit pass look for the first one. */
    *first = -1;
    if (count)
        for (fl_index i = 0; i < n; i++)
            if ((x[i] < lo) | (x[i] > hi)) {
                *first = i;
                break;
            }
    return count;
}
