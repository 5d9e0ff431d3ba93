/* Per-sample SGD epoch: the public entry point, a dtype dispatch to its instantiation in
 * linear_f64.c / linear_f32.c (linear_impl.h). */
#include "linear.h"

#define REAL double
#define SFX f64
#include "linear_dtype.h"
#undef REAL
#undef SFX
#define REAL float
#define SFX f32
#include "linear_dtype.h"
#undef REAL
#undef SFX

double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data) {
    return FL_DTYPE_DISPATCH(dtype, fl_sgd_epoch, cfg, data);
}
