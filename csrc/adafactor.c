/* Adafactor's step (adafactor.h): the dtype dispatch around adafactor_impl.h, included once
 * per dtype after update_rules.h's helpers (at::lerp, the fused multiply-add torch's
 * kernels use). Compiled with -ffp-contract=off, as optim.c: every ISA clone rounds alike. */
#include "adafactor.h"

#include "optim.h" /* the fl_*_hyper structs that update_rules.h's scalars take */

#define REAL double
#define SFX f64
#define R_SQRT sqrt
#include "update_rules.h"
#include "adafactor_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

#define REAL float
#define SFX f32
#define R_SQRT sqrtf
#include "update_rules.h"
#include "adafactor_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

void fl_adafactor_update(int dtype, const fl_adafactor_hyper *h, double step, int factored,
                         fl_index batch, fl_index rows, fl_index cols, void *param,
                         const void *grad, void *row_var, void *col_var, void *variance,
                         double *scratch) {
    FL_DTYPE_DISPATCH(dtype, adafactor_kernel, h, step, factored, batch, rows, cols, param,
                      grad, row_var, col_var, variance, scratch);
}
