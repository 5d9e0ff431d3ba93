/* Per-sample SGD epochs: the public entry points, dtype dispatches to their instantiations in
 * linear_f64.c / linear_f32.c (linear_impl.h) and linear_scaled_f64.c / _f32.c
 * (linear_scaled_impl.h). */
#include "linear.h"

#define FL_DTYPE_HEADER "linear_dtype.h"
#include "fl_each_dtype.h"

double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data) {
    return FL_DTYPE_DISPATCH(dtype, fl_sgd_epoch, cfg, data);
}

double fl_sgd_epoch_scaled(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data) {
    return FL_DTYPE_DISPATCH(dtype, fl_sgd_epoch_scaled, cfg, data);
}
