/* The scaled-weight SGD epoch of linear_scaled_impl.h, float64 instantiation. */
#define FL_REAL_F64
#include "fl_real.h"
#include "linear_dtype.h"
#include "linear_scaled_impl.h"
FL_DEFINE_SGD_EPOCH_SCALED
