/* Adafactor (torch.optim.Adafactor): one step on one parameter, in a few fused passes and
 * no temporary of the parameter's size (src/fastloss/optim/adafactor.py has the formulas,
 * src/fastloss/reference/adafactor.py the NumPy specification).
 *
 * Trusts its inputs (the caller validates): param and grad C-contiguous arrays of
 * batch * rows * cols elements of `dtype` (FL_FLOAT32 or FL_FLOAT64), at least one; when
 * `factored` (a parameter of two or more dimensions, viewed as batch matrices of rows x cols)
 * row_var has batch * rows and col_var batch * cols elements, scratch cols doubles, and
 * variance is unused; else variance has the parameter's elements and the factors are
 * unused. Nothing overlaps. Sums are accumulated in double and rounded to the dtype where
 * torch's reductions return a tensor; the rest is torch's operation order, with its fused
 * lerp and add(alpha=) (update_rules.h's lerp and muladd).
 */
#ifndef FASTLOSS_ADAFACTOR_H
#define FASTLOSS_ADAFACTOR_H

#include "fl_config.h"

/* torch's hyper-parameters; eps1 resolved (torch: the dtype's machine epsilon if None). */
typedef struct {
    double lr, beta2_decay, eps1, eps2, d, weight_decay;
    int maximize;
} fl_adafactor_hyper;

/* step: the 1-based step count after increment. */
void fl_adafactor_update(int dtype, const fl_adafactor_hyper *h, double step, int factored,
                         fl_index batch, fl_index rows, fl_index cols, void *param,
                         const void *grad, void *row_var, void *col_var, void *variance,
                         double *scratch);

#endif
