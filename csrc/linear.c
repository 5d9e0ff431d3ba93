/* Per-sample SGD epoch: the public entry point, a dtype dispatch to its instantiation in
 * linear_f64.c / linear_f32.c (linear_impl.h). */
#include "linear.h"

#define FL_DTYPE_HEADER "linear_dtype.h"
#include "fl_each_dtype.h"

double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data) {
    return FL_DTYPE_DISPATCH(dtype, fl_sgd_epoch, cfg, data);
}
