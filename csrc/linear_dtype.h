/* The per-dtype entry points of the per-sample epoch templates (linear_impl.h,
 * linear_scaled_impl.h), for REAL / SFX:
 * included by linear.c once per dtype, to dispatch to it, and by linear_f64.c / linear_f32.c,
 * which define it (FL_DEFINE_SGD_EPOCH after the template). No include guard: one inclusion
 * per dtype. */
#include "linear.h"

double FL_NAME(fl_sgd_epoch)(const fl_sgd_config *cfg, fl_sgd_data *data);
double FL_NAME(fl_sgd_epoch_scaled)(const fl_sgd_config *cfg, fl_sgd_data *data);

/* The template's sgd_epoch is static (its ISA clones stay in its translation unit). */
#define FL_DEFINE_SGD_EPOCH                                                                 \
    double FL_NAME(fl_sgd_epoch)(const fl_sgd_config *cfg, fl_sgd_data *data) {            \
        return FL_NAME(sgd_epoch)(cfg, data);                                               \
    }

/* The scaled epoch's, defined by linear_scaled_f64.c / _f32.c after linear_scaled_impl.h. */
#define FL_DEFINE_SGD_EPOCH_SCALED                                                          \
    double FL_NAME(fl_sgd_epoch_scaled)(const fl_sgd_config *cfg, fl_sgd_data *data) {     \
        return FL_NAME(sgd_epoch_scaled)(cfg, data);                                        \
    }

/* Up to this many bytes of coefficients, plain SGD runs the latency-hiding schedule
 * of epoch1_sgd_small() (see linear_impl.h): measured with the AVX2 clone, float64
 * d = 10: 10.8 vs 20.1 ns/sample, float32: 12.4 vs 23.3. With longer rows the epoch is
 * bound by arithmetic throughput or memory bandwidth, and the extra dot product per
 * sample only adds work. */
#define FL_SGD_SMALL_BYTES 512
