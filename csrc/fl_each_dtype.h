/* Includes the header named by FL_DTYPE_HEADER once per dtype, with REAL and SFX defined as
 * for that dtype (double/f64, float/f32): how a family's dispatch source declares the
 * per-dtype entry points it calls, e.g.
 *   #define FL_DTYPE_HEADER "losses_dtype.h"
 *   #include "fl_each_dtype.h"
 * No include guard: one inclusion per FL_DTYPE_HEADER. */
#define REAL double
#define SFX f64
#include FL_DTYPE_HEADER
#undef REAL
#undef SFX

#define REAL float
#define SFX f32
#include FL_DTYPE_HEADER
#undef REAL
#undef SFX

#undef FL_DTYPE_HEADER
