/* Loss kernels: value, gradient, or both from one pass over memory.
 *
 * These trust their inputs: C-contiguous arrays of the stated dtype, sizes as
 * given. Labels are checked by the caller and again as the kernels read them (another
 * thread may change them meanwhile): see fl_cross_entropy_index. Validation lives in
 * src/fastloss/losses/.
 * `dtype` is FL_FLOAT32 or FL_FLOAT64 and applies to every `void *` array.
 */
#ifndef FASTLOSS_LOSSES_H
#define FASTLOSS_LOSSES_H

#include "fl_config.h"

/* FL_ELEMENTWISE_LOSSES, the list of elementwise losses, stands in loss_rules.h next to
 * their rules (a new loss is one rule and one row there). */
#define FL_LOSS_LIST_ONLY
#include "loss_rules.h"
#include "row_rules.h"
#undef FL_LOSS_LIST_ONLY

/* A real enum type: a switch over it that misses a row is a compile error (-Wswitch-enum;
 * the switches have no default). (Not a typedef: fl_elementwise_loss is the function.) */
#define FL_ELEMENTWISE_ENUM_ROW(NAME, stem, reads_aux) FL_##NAME,
enum fl_elementwise_loss { FL_ELEMENTWISE_LOSSES(FL_ELEMENTWISE_ENUM_ROW) };
#undef FL_ELEMENTWISE_ENUM_ROW

/* The number of rows (its own enum, so that a switch need not name it). */
#define FL_ELEMENTWISE_COUNT_ROW(NAME, stem, reads_aux) +1
enum { FL_ELEMENTWISE_LOSS_COUNT = 0 FL_ELEMENTWISE_LOSSES(FL_ELEMENTWISE_COUNT_ROW) };
#undef FL_ELEMENTWISE_COUNT_ROW

/* fl_elementwise_loss_names[code] is the row's stem ("mse", ...): Python's codes come from it. */
extern const char *const fl_elementwise_loss_names[FL_ELEMENTWISE_LOSS_COUNT];

/* What a call computes; any combination of these bits. */
enum fl_want {
    FL_WANT_SUM = 1,      /* return sum_i w_i * l_i                    */
    FL_WANT_GRAD = 2,     /* grad[i]  = grad_scale * w_i * dl_i/dx_i   */
    FL_WANT_ELEMENTS = 4, /* elems[i] = w_i * l_i   (reduction="none") */
    FL_WANT_HESS = 8      /* hess[i]  = grad_scale * w_i * d2l_i/dx_i2 */
};

/* The `want` of fl_elementwise_loss: each has its own compiled loop (SUM with ELEMENTS is
 * not one of them: reduction="none" sums nothing; HESS comes with GRAD alone, the
 * NAME_grad_hess functions). */
#define FL_ELEMENTWISE_WANT_OK(want)                                                        \
    ((want) == FL_WANT_SUM || (want) == FL_WANT_GRAD || (want) == (FL_WANT_SUM | FL_WANT_GRAD) \
     || (want) == FL_WANT_ELEMENTS || (want) == (FL_WANT_ELEMENTS | FL_WANT_GRAD)          \
     || (want) == (FL_WANT_GRAD | FL_WANT_HESS))

/* Each row's reads_aux column (loss_rules.h): 0, 1, or 2 (aux is a differentiated input). */
extern const unsigned char fl_elementwise_loss_aux[FL_ELEMENTWISE_LOSS_COUNT];

/* Returns the (weighted) sum of the losses, accumulated in double, when
 * FL_WANT_SUM is set; 0 otherwise. w and aux may be NULL; when present they
 * have n elements like x and y; so do grad, hess and elems, each written when its bit of
 * `want` is set (NULL otherwise). A row whose aux is a differentiated input (reads_aux 2)
 * needs aux, and writes grad_scale * w_i * dl_i/daux_i to aux_grad with grad and
 * grad_scale * w_i * d2l_i/daux_i2 to aux_hess with hess (NULL otherwise: ignored).
 * Results do not depend on n_threads except in the rounding of the sum, and are
 * deterministic for a given n_threads. A `loss` that is no row of FL_ELEMENTWISE_LOSSES,
 * a `want` outside FL_ELEMENTWISE_WANT_OK, or a reads_aux 2 row without aux or without
 * the aux_grad / aux_hess its want writes computes nothing, writes nothing and returns NaN
 * (the binding raises before it calls with one). */
double fl_elementwise_loss(enum fl_elementwise_loss loss, int dtype, fl_index n, const void *x,
                           const void *y, const void *w, const void *aux, double param,
                           double grad_scale, void *grad, void *hess, void *aux_grad,
                           void *aux_hess, void *elems, int want, int n_threads);

/* The losses of rows: an input x of shape (n, c, d1, ..., dk) (k >= 0; inner = d1 ... dk, 1
 * for (n, c)) is n * inner rows of c classes, row i = (j, s), i = j inner + s, its class k at
 * x[(j c + k) inner + s] (PyTorch's layout: the class axis second). Labels, sample weights
 * and elems have one entry per row, in that order; grad and hess the input's layout.
 * sample_weight (may be NULL: all 1) multiplies a row's loss, gradient and Hessian.
 * hess (may be NULL; only with FL_WANT_GRAD) receives the diagonal of the Hessian of the
 * loss with respect to x, times grad_scale. With inner > 1, c must be at most
 * FL_STRIDED_MAX_CLASSES (the rows are gathered into blocks of that many values, on the
 * stack); a larger c computes nothing and returns NaN (the caller transposes first).
 * cross_entropy with labels, no hess and at most 64 classes reads the input in place
 * instead, along s (losses_impl.h, ce_index_planes). */
enum { FL_STRIDED_MAX_CLASSES = 2048 };
/* A loss whose target is a row of class indices (LABELS in row_rules.h) counts each class's
 * repeats in a row on the stack (16-bit counts): at most this many classes; a larger c
 * computes nothing and returns NaN (the Python layer refuses it first). */
enum { FL_LABEL_ROW_MAX_CLASSES = 16384 };

/* Softmax cross-entropy over rows of logits with integer class labels.
 * Row i's loss, with q = label_smoothing and W = sum_k cw_k:
 *   (1 - q) cw[y_i] (lse_i - x_iy) + (q / c) sum_k cw_k (lse_i - x_ik)
 * computed as (max_i - x_ik) + log(sum_k exp(x_ik - max_i)), which keeps the digits of
 * the loss at any magnitude of the logits. Its Hessian diagonal is
 * ((1 - q) cw[y_i] + q W / c) p_ik (1 - p_ik), p = softmax(x).
 * Rows whose label equals ignore_index contribute 0 loss, 0 gradient and 0 Hessian.
 * class_weight may be NULL (all ones). Labels should be in [0, c) or ignore_index (the
 * caller checks); each is loaded once and checked again before it indexes anything: a row
 * whose label is out of range (changed by another thread) counts as ignored, and its index
 * is stored in *bad, which the caller sets to -1 first. */
double fl_cross_entropy_index(int dtype, fl_index n, fl_index c, fl_index inner,
                              const void *logits, const int64_t *labels,
                              const void *class_weight, const void *sample_weight,
                              int64_t ignore_index, double label_smoothing, double grad_scale,
                              void *grad, void *hess, void *elems, int want, int n_threads,
                              fl_index *bad);

/* Softmax cross-entropy with class-probability targets of the logits' shape:
 *   row loss = sum_k cw_k t'_ik (lse_i - x_ik),  t' = (1 - q) t + q / c
 * Hessian diagonal (sum_k cw_k t'_ik) p_ik (1 - p_ik). */
double fl_cross_entropy_prob(int dtype, fl_index n, fl_index c, fl_index inner,
                             const void *logits, const void *target, const void *class_weight,
                             const void *sample_weight, double label_smoothing,
                             double grad_scale, void *grad, void *hess, void *elems, int want,
                             int n_threads);

/* The row-wise losses of FL_ROWWISE_LOSSES (row_rules.h): codes, count and names, as for
 * the elementwise losses. */
#define FL_ROWWISE_ENUM_ROW(NAME, stem, target) FL_ROW_##NAME,
enum fl_rowwise_loss { FL_ROWWISE_LOSSES(FL_ROWWISE_ENUM_ROW) };
#undef FL_ROWWISE_ENUM_ROW
#define FL_ROWWISE_COUNT_ROW(NAME, stem, target) +1
enum { FL_ROWWISE_LOSS_COUNT = 0 FL_ROWWISE_LOSSES(FL_ROWWISE_COUNT_ROW) };
#undef FL_ROWWISE_COUNT_ROW
extern const char *const fl_rowwise_loss_names[FL_ROWWISE_LOSS_COUNT];

/* Row-wise loss `loss` of the rows of x (n, c, d1, ..., dk) and their labels (a loss whose
 * target is a row: `target`, of x's shape, and labels NULL): returns the
 * sum of the row losses (FL_WANT_SUM), writes them to elems (FL_WANT_ELEMENTS), the gradient
 * times grad_scale to grad (FL_WANT_GRAD) and its Hessian diagonal to hess (not NULL). Rows
 * whose label is ignore_index contribute 0; labels are checked as they are read, as in
 * fl_cross_entropy_index (*bad: a row with a bad label). param is the loss's scalar
 * parameter. A `loss` that is no row of the list returns NaN and writes nothing. */
double fl_rowwise_loss(enum fl_rowwise_loss loss, int dtype, fl_index n, fl_index c,
                       fl_index inner, const void *x, const int64_t *labels,
                       const void *target, const void *class_weight, const void *sample_weight,
                       int64_t ignore_index, double param, double grad_scale, void *grad,
                       void *hess, void *elems, int want, int n_threads, fl_index *bad);

/* Row-wise loss `loss` of n rows of c values of each of its n_inputs float inputs (x[j],
 * one shape; a row of FL_ROWWISE_LOSSES whose target is INPUTS2 / INPUTS3) and an int64 code
 * per row (codes, or NULL: 0; cosine_embedding_loss's target y, 1 or -1), param and params
 * (FL_ROW_MAX_PARAMS values) its parameters: returns the sum of the row losses, writes them
 * to elems (FL_WANT_ELEMENTS) and each input's gradient times grad_scale to grads[j]
 * (FL_WANT_GRAD). Another loss or count of inputs returns NaN and writes nothing. */
double fl_rowwise_inputs_loss(enum fl_rowwise_loss loss, int dtype, fl_index n, fl_index c,
                              int n_inputs, const void *const *x, const int64_t *codes,
                              const void *sample_weight, double param, const double *params,
                              double grad_scale, void *const *grads, void *elems, int want,
                              int n_threads);
/* the number of float inputs of each row of FL_ROWWISE_LOSSES */
extern const unsigned char fl_rowwise_loss_inputs[FL_ROWWISE_LOSS_COUNT];

/* Checks the n labels and returns the sum over non-ignored rows of sw[i] cw[y_i] (cw, sw
 * NULL: 1). On a label outside [0, c) that is not ignore_index, returns -1 and stores its
 * position in *bad. */
double fl_label_weight_total(int dtype, fl_index n, fl_index c, const int64_t *labels,
                             const void *class_weight, const void *sample_weight,
                             int64_t ignore_index, fl_index *bad);

/* Number of x[i] outside [lo, hi]; NaN is not counted (NaN in, NaN out). Stores the
 * index of the first such element in *first (-1 when there is none). */
fl_index fl_count_outside(int dtype, fl_index n, const void *x, double lo, double hi,
                          fl_index *first);

/* Number of x[i] that are neither a nor b (NaN not counted): targets that must be -1 or 1.
 * Stores the index of the first in *first (-1 when there is none). */
fl_index fl_count_not_either(int dtype, fl_index n, const void *x, double a, double b,
                             fl_index *first);

#endif
