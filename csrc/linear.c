/* Per-sample SGD epoch: dtype dispatch around the template in linear_impl.h. */
#include "linear.h"

#define REAL double
#define SFX f64
#define R_SQRT sqrt
#include "linear_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

#define REAL float
#define SFX f32
#define R_SQRT sqrtf
#include "linear_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data) {
    if (dtype == FL_FLOAT64) return sgd_epoch_f64(cfg, data);
    return sgd_epoch_f32(cfg, data);
}
