/* Per-sample SGD epoch: dtype dispatch around the template in linear_impl.h. */
#include "linear.h"

/* Up to this many bytes of coefficients, plain SGD runs the latency-hiding schedule
 * of epoch1_sgd_small() (see linear_impl.h): measured with the AVX2 clone, float64
 * d = 10: 10.8 vs 20.1 ns/sample, float32: 12.4 vs 23.3. With longer rows the epoch is
 * bound by arithmetic throughput or memory bandwidth, and the extra dot product per
 * sample only adds work. */
#define FL_SGD_SMALL_BYTES 512

/* Per sample the vectors are short (d features), so 512-bit vectors spend their time
 * in remainder loops and horizontal sums: the AVX-512 clone measured 2x slower than the
 * AVX2 one at d = 10 and no faster at d = 100. This family dispatches AVX2 / baseline. */
#if defined(FL_USE_TARGET_CLONES)
#undef FL_HOT
#define FL_HOT __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif

/* The row that visit k of an epoch reads: order[k], loaded once and checked (order is the
 * caller's array), or k without an order; -1 if order[k] is not in [0, n). */
static inline fl_index fl_visit(const int64_t *order, fl_index k, fl_index n) {
    if (!order) return k;
    const int64_t i = fl_load_index(order + k);
    return (uint64_t)i < (uint64_t)n ? (fl_index)i : -1;
}

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
