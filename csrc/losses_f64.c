/* The loss kernels of losses_impl.h, float64 instantiation. */
#define FL_REAL_F64
#include "fl_real.h"
#include "losses_impl.h"
