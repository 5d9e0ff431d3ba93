/* The CTC loss (ctc.h): the dtype dispatch around ctc_impl.h, included once per dtype. */
#include "ctc.h"

#include "fl_exp_log.h"
#include "fl_parallel.h"

fl_index fl_ctc_work_items(fl_index t, fl_index s_max) {
    return (t + 4) * (FL_CTC_ROUND_UP(2 * s_max + 1) + 2);
}

fl_index fl_ctc_index_items(fl_index s_max) { return FL_CTC_ROUND_UP(2 * s_max + 1); }

#define REAL double
#define SFX f64
#define R_EXP FL_EXP64
#define R_LOG FL_LOG64
#include "ctc_impl.h"
#undef REAL
#undef SFX
#undef R_EXP
#undef R_LOG

#define REAL float
#define SFX f32
#define R_EXP FL_EXP32
#define R_LOG FL_LOG32
#include "ctc_impl.h"
#undef REAL
#undef SFX
#undef R_EXP
#undef R_LOG

void fl_ctc_loss(int dtype, fl_index t, fl_index n, fl_index c, const void *log_probs,
                 const int64_t *targets, const int64_t *target_offsets,
                 const int64_t *input_lengths, const int64_t *target_lengths, fl_index s_max,
                 int64_t blank, int zero_infinity, const double *grad_scale, void *nll,
                 void *grad, void *work, int32_t *iwork, int n_threads, fl_index *bad) {
    FL_DTYPE_DISPATCH(dtype, ctc_kernel, t, n, c, log_probs, targets, target_offsets,
                      input_lengths, target_lengths, s_max, blank, zero_infinity, grad_scale,
                      nll, grad, work, iwork, n_threads, bad);
}
