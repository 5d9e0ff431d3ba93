/* exp/log for the kernel templates: FL_EXP64/FL_LOG64 (double) and FL_EXP32/FL_LOG32 (float).
 *
 * glibc's libmvec where the build found it (the compiler then vectorizes calls to exp/log),
 * else mathvec.h's table-free polynomials, which vectorize everywhere; scalar libm calls would
 * make the transcendental losses slower than NumPy.
 */
#ifndef FASTLOSS_FL_EXP_LOG_H
#define FASTLOSS_FL_EXP_LOG_H

#include "fl_config.h"

#if defined(FL_USE_LIBMVEC)
/* math.h declares exp/log SIMD-capable only under -ffast-math, which must never ship (it
 * links crtfastmath and flips the whole process to flush-to-zero). Declaring them here lets
 * `omp simd` loops call _ZGV*_exp/_log with IEEE semantics intact. */
#pragma omp declare simd notinbranch
extern double exp(double);
#pragma omp declare simd notinbranch
extern double log(double);
#pragma omp declare simd notinbranch
extern float expf(float);
#pragma omp declare simd notinbranch
extern float logf(float);
#define FL_EXP64 exp
#define FL_LOG64 log
#define FL_EXP32 expf
#define FL_LOG32 logf
#else
#include "mathvec.h"
#define FL_EXP64 fl_exp_f64
#define FL_LOG64 fl_log_f64
#define FL_EXP32 fl_exp_f32
#define FL_LOG32 fl_log_f32
#endif

#endif
