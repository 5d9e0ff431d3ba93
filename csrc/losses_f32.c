/* The loss kernels of losses_impl.h, float32 instantiation. */
#define FL_REAL_F32
#include "fl_real.h"
#include "losses_impl.h"
