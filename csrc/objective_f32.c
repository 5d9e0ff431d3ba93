/* The fused linear-model objective of objective_impl.h, float32 instantiation. */
#define FL_REAL_F32
#include "fl_real.h"
#include "objective_dtype.h"
#include "objective_impl.h"
FL_DEFINE_OBJECTIVE
