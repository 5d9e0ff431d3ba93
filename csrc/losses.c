/* Loss kernels: the names of the elementwise losses, and the public entry points, each a
 * dtype dispatch to its instantiation in losses_f64.c / losses_f32.c (losses_impl.h). */
#include "losses.h"

#define FL_DTYPE_HEADER "losses_dtype.h"
#include "fl_each_dtype.h"

#define FL_ELEMENTWISE_NAME_ROW(NAME, stem, reads_aux) #stem,
const char *const fl_elementwise_loss_names[FL_ELEMENTWISE_LOSS_COUNT] = {
    FL_ELEMENTWISE_LOSSES(FL_ELEMENTWISE_NAME_ROW)};
#undef FL_ELEMENTWISE_NAME_ROW

#define FL_ROWWISE_NAME_ROW(NAME, stem, target) #stem,
const char *const fl_rowwise_loss_names[FL_ROWWISE_LOSS_COUNT] = {
    FL_ROWWISE_LOSSES(FL_ROWWISE_NAME_ROW)};
#undef FL_ROWWISE_NAME_ROW
/* whether a row's target is a row of class indices (LABELS): its c is bounded */
#define FL_ROWWISE_IS_LABELS_LABEL 0
#define FL_ROWWISE_IS_LABELS_ROW 0
#define FL_ROWWISE_IS_LABELS_LABELS 1
#define FL_ROWWISE_IS_LABELS_INPUTS2 0
#define FL_ROWWISE_IS_LABELS_INPUTS3 0
#define FL_ROWWISE_IS_LABELS_ROW_OF(NAME, stem, target) FL_ROWWISE_IS_LABELS_##target,
static const unsigned char fl_rowwise_target_is_labels[FL_ROWWISE_LOSS_COUNT] = {
    FL_ROWWISE_LOSSES(FL_ROWWISE_IS_LABELS_ROW_OF)};
#undef FL_ROWWISE_IS_LABELS_ROW_OF
/* the number of float inputs of a row (fl_rowwise_loss runs those of 1 alone) */
#define FL_ROWWISE_INPUTS_LABEL 1
#define FL_ROWWISE_INPUTS_ROW 1
#define FL_ROWWISE_INPUTS_LABELS 1
#define FL_ROWWISE_INPUTS_INPUTS2 2
#define FL_ROWWISE_INPUTS_INPUTS3 3
#define FL_ROWWISE_INPUTS_ROW_OF(NAME, stem, target) FL_ROWWISE_INPUTS_##target,
const unsigned char fl_rowwise_loss_inputs[FL_ROWWISE_LOSS_COUNT] = {
    FL_ROWWISE_LOSSES(FL_ROWWISE_INPUTS_ROW_OF)};
#undef FL_ROWWISE_INPUTS_ROW_OF

#define FL_ELEMENTWISE_AUX_ROW(NAME, stem, reads_aux) reads_aux,
const unsigned char fl_elementwise_loss_aux[FL_ELEMENTWISE_LOSS_COUNT] = {
    FL_ELEMENTWISE_LOSSES(FL_ELEMENTWISE_AUX_ROW)};
#undef FL_ELEMENTWISE_AUX_ROW

double fl_elementwise_loss(enum fl_elementwise_loss loss, int dtype, fl_index n, const void *x,
                           const void *y, const void *w, const void *aux, double param,
                           double grad_scale, void *grad, void *hess, void *aux_grad,
                           void *aux_hess, void *elems, int want, int n_threads) {
    /* unsigned: gcc gives this enum an unsigned type, and a negative int wraps above */
    if ((unsigned)loss >= FL_ELEMENTWISE_LOSS_COUNT || !FL_ELEMENTWISE_WANT_OK(want)) return NAN;
    if (fl_elementwise_loss_aux[loss] == 2
        && (!aux || ((want & FL_WANT_GRAD) && !aux_grad) || ((want & FL_WANT_HESS) && !aux_hess)))
        return NAN;
    return FL_DTYPE_DISPATCH(dtype, fl_elementwise_loss, loss, n, x, y, w, aux, param,
                             grad_scale, grad, hess, aux_grad, aux_hess, elems, want,
                             n_threads);
}

/* inner > 1 gathers rows into blocks of FL_STRIDED_MAX_CLASSES values: a longer row has no
 * room (losses.h) */
#define FL_ROWS_FIT(c, inner) ((inner) <= 1 || (c) <= FL_STRIDED_MAX_CLASSES)

double fl_cross_entropy_index(int dtype, fl_index n, fl_index c, fl_index inner,
                              const void *logits, const int64_t *labels,
                              const void *class_weight, const void *sample_weight,
                              int64_t ignore_index, double label_smoothing, double grad_scale,
                              void *grad, void *hess, void *elems, int want, int n_threads,
                              fl_index *bad) {
    if (!FL_ROWS_FIT(c, inner)) return NAN;
    return FL_DTYPE_DISPATCH(dtype, fl_cross_entropy_index, n, c, inner, logits, labels,
                             class_weight, sample_weight, ignore_index, label_smoothing,
                             grad_scale, grad, hess, elems, want, n_threads, bad);
}

double fl_cross_entropy_prob(int dtype, fl_index n, fl_index c, fl_index inner,
                             const void *logits, const void *target, const void *class_weight,
                             const void *sample_weight, double label_smoothing,
                             double grad_scale, void *grad, void *hess, void *elems, int want,
                             int n_threads) {
    if (!FL_ROWS_FIT(c, inner)) return NAN;
    return FL_DTYPE_DISPATCH(dtype, fl_cross_entropy_prob, n, c, inner, logits, target,
                             class_weight, sample_weight, label_smoothing, grad_scale, grad,
                             hess, elems, want, n_threads);
}

double fl_rowwise_loss(enum fl_rowwise_loss loss, int dtype, fl_index n, fl_index c,
                       fl_index inner, const void *x, const int64_t *labels,
                       const void *target, const void *class_weight, const void *sample_weight,
                       int64_t ignore_index, double param, double grad_scale, void *grad,
                       void *hess, void *elems, int want, int n_threads, fl_index *bad) {
    if ((unsigned)loss >= FL_ROWWISE_LOSS_COUNT || !FL_ROWS_FIT(c, inner)) return NAN;
    if (fl_rowwise_target_is_labels[loss] && (c > FL_LABEL_ROW_MAX_CLASSES || !labels))
        return NAN;
    if (fl_rowwise_loss_inputs[loss] != 1) return NAN; /* fl_rowwise_inputs_loss's */
    return FL_DTYPE_DISPATCH(dtype, fl_rowwise_loss, loss, n, c, inner, x, labels, target,
                             class_weight, sample_weight, ignore_index, param, grad_scale,
                             grad, hess, elems, want, n_threads, bad);
}

double fl_rowwise_inputs_loss(enum fl_rowwise_loss loss, int dtype, fl_index n, fl_index c,
                              int n_inputs, const void *const *x, const int64_t *codes,
                              const void *sample_weight, double param, const double *params,
                              double grad_scale, void *const *grads, void *elems, int want,
                              int n_threads) {
    if ((unsigned)loss >= FL_ROWWISE_LOSS_COUNT || n_inputs < 2 ||
        fl_rowwise_loss_inputs[loss] != n_inputs || ((want & FL_WANT_GRAD) && !grads))
        return NAN;
    if (dtype == FL_FLOAT64)
        return fl_rowwise_inputs_loss_f64(loss, n, c, (const double *const *)x, codes,
                                          (const double *)sample_weight, param, params,
                                          grad_scale, (double *const *)grads, (double *)elems,
                                          want, n_threads);
    return fl_rowwise_inputs_loss_f32(loss, n, c, (const float *const *)x, codes,
                                      (const float *)sample_weight, param, params, grad_scale,
                                      (float *const *)grads, (float *)elems, want, n_threads);
}

double fl_label_weight_total(int dtype, fl_index n, fl_index c, const int64_t *labels,
                             const void *class_weight, const void *sample_weight,
                             int64_t ignore_index, fl_index *bad) {
    return FL_DTYPE_DISPATCH(dtype, fl_label_weight_total, n, c, labels, class_weight,
                             sample_weight, ignore_index, bad);
}

/* lo and hi convert to the dtype (float32: rounded to the nearest float) */
fl_index fl_count_outside(int dtype, fl_index n, const void *x, double lo, double hi,
                          fl_index *first) {
    return FL_DTYPE_DISPATCH(dtype, fl_count_outside, n, x, lo, hi, first);
}

fl_index fl_count_not_either(int dtype, fl_index n, const void *x, double a, double b,
                             fl_index *first) {
    return FL_DTYPE_DISPATCH(dtype, fl_count_not_either, n, x, a, b, first);
}
