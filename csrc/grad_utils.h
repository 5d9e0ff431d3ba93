/* Fused passes over lists of arrays for gradient clipping and parameter averaging
 * (fastloss.optim.clip_grad, fastloss.optim.swa_utils): one call reads (and writes) every
 * array once.
 *
 * An array is given as one strided run: n elements of `dtype` from `data`, `stride`
 * elements apart (1 for a contiguous array in any order; negative for a reversed view).
 * These trust their inputs: validation lives in the Python layer, which passes runs of
 * float32/float64 arrays, writeable where written, that do not overlap where written.
 * Sums accumulate in double in the runs' order, each run's in 32 lanes added in lane order:
 * the same runs give the same bits, on every ISA clone (norm orders 1, 2 and inf; other
 * orders call libm's pow).
 */
#ifndef FASTLOSS_GRAD_UTILS_H
#define FASTLOSS_GRAD_UTILS_H

#include "fl_config.h"

typedef struct {
    void *data;
    fl_index n, stride;
    int dtype; /* enum fl_dtype */
} fl_run;

/* What fl_runs_norm accumulates: the sum of |x| (ONE), of x^2 (TWO), of |x|^p (POW), or the
 * largest |x| (MAX, NaN if an element is NaN, as torch's inf-norm). */
enum fl_norm_kind { FL_NORM_ONE = 0, FL_NORM_TWO = 1, FL_NORM_POW = 2, FL_NORM_MAX = 3 };

/* The sum (or max) of kind over every element of the n_runs runs, in double. */
double fl_runs_norm(fl_index n_runs, const fl_run *runs, int kind, double p);

/* x *= coef (coef rounded to the run's dtype first, as torch multiplies by a scalar). */
void fl_runs_scale(fl_index n_runs, const fl_run *runs, double coef);

/* x = min(max(x, lo), hi), NaN kept (torch's clamp_min_ then clamp_max_). */
void fl_runs_clamp(fl_index n_runs, const fl_run *runs, double lo, double hi);

/* The averaging rules of torch.optim.swa_utils, avg updated in place from param (two runs of
 * one dtype and length per pair), w the rule's scalar:
 *   LERP  avg = lerp(avg, param, w)            (at::lerp: _foreach_lerp_ of the multi fns)
 *   EMA   avg = w * avg + (1 - w) * param       (get_ema_avg_fn, w = decay)
 *   MEAN  avg = avg + (param - avg) / w         (get_swa_avg_fn, w = n_averaged + 1) */
enum fl_average_kind { FL_AVERAGE_LERP = 0, FL_AVERAGE_EMA = 1, FL_AVERAGE_MEAN = 2 };
void fl_runs_average(fl_index n_runs, const fl_run *avg, const fl_run *param, int kind,
                     double w);

#endif
