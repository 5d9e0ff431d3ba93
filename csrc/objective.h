/* The fused linear-model objective: value and gradient, or a Hessian-vector product, of
 *   f(W, b) = scale sum_i w_i l(x_i W + b, y_i) + alpha/2 ||W||^2
 * in ONE pass over X (n, d): per block of rows that stays in L1/L2, z_b = X_b W + b, the
 * per-sample loss and dl/dz (loss_rules.h's per-element rules; softmax with vector exp/log),
 * then g += X_b^T dz_b while the block is hot (objective_impl.h). scale is 1 / sum_i w_i.
 *
 * These trust their inputs (validation lives in src/fastloss/linear.py): arrays of the stated
 * dtype (FL_FLOAT32 | FL_FLOAT64, every `void *` array), sizes as given, X with unit column
 * stride (C-ordered rows) or unit row stride (F-ordered columns), outputs not overlapping the
 * inputs, `work` of fl_objective_work_bytes(...) bytes. Labels are loaded once each and
 * checked before they index anything (see `bad`).
 */
#ifndef FASTLOSS_OBJECTIVE_H
#define FASTLOSS_OBJECTIVE_H

#include "fl_config.h"
#include "linear.h" /* enum fl_linear_loss, fl_samples */

typedef struct {
    int loss;                /* enum fl_linear_loss                                          */
    int hessp;               /* 0: value and gradient; 1: H v (not absolute, huber, pinball) */
    fl_samples s;            /* X (n, d) with one unit stride, targets or labels, weights    */
    int x_float64;           /* a float32 call on float64 X: each block is rounded to float  */
                             /* as it is gathered (0 otherwise; float32 calls only)          */
    const void *coef;        /* (d, c) C-contiguous                                          */
    const void *intercept;   /* (c), or NULL: no intercept                                   */
    const void *vec_coef;    /* hessp: the vector (d, c) and (c) or NULL; else unused        */
    const void *vec_intercept;
    double scale;            /* 1 / sum_i w_i (0 when that sum is 0)                         */
    double alpha, epsilon;   /* L2 penalty on coef; the loss's parameter (linear.h's)        */
    void *out_coef;          /* (d, c): alpha coef + X^T dz, or alpha v + X^T D (X v + v_b)  */
    void *out_intercept;     /* (c): sum_i dz_i (or of D (X v + v_b)); NULL: not computed    */
    void *work;              /* fl_objective_work_bytes(dtype, d, c, n_threads) bytes        */
    int n_threads;           /* the most threads to use (what `work` was sized for)          */
    /* Set by the caller to -1; a label outside [0, c) (changed by another thread after the
     * caller's check) stores its row here and that row counts with weight 0. */
    fl_index bad;
} fl_objective;

/* Bytes of scratch for a call on d features, c outputs and up to n_threads threads: per
 * thread a float64 gradient accumulator and the block buffers (allocated once per call by
 * the caller; nothing is allocated inside). */
size_t fl_objective_work_bytes(int dtype, fl_index d, fl_index c, int n_threads);

/* Runs the pass; writes out_coef / out_intercept. Returns sum_i w_i l_i (accumulated in
 * double; 0 for hessp). For a given n_threads the result is bitwise reproducible: the rows
 * are split by (n, threads) alone and the per-thread sums are added in thread order. */
double fl_objective_run(int dtype, fl_objective *P);

#endif
