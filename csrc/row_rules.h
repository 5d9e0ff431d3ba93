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
/* One row each: X(NAME, stem). NAME gives the code FL_ROW_<NAME> (losses.h; the row's
 * position: append new rows at the end), stem the rule <stem>_row below and the name Python
 * reads (fl_rowwise_loss_names). */
#define FL_ROWWISE_LOSSES(X) \
    X(NLL, nll) /* -wy x_y: negative log-likelihood of log-probabilities x */
#endif

#ifndef FL_LOSS_LIST_ONLY

/* linear in x: its Hessian is 0 (h stays zeroed) */
FL_INLINE REAL FL_NAME(nll_row)(fl_index c, const REAL *FL_RESTRICT x, fl_index y, REAL wy,
                                REAL p, REAL gs, REAL *FL_RESTRICT g, REAL *FL_RESTRICT h) {
    (void)c; (void)p; (void)h;
    if (g) g[y] = -gs * wy;
    return -wy * x[y];
}

#endif /* FL_LOSS_LIST_ONLY */
