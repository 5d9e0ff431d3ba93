/* The floating type of a template instantiation: a kernel family's per-dtype translation unit
 * (e.g. losses_f64.c) defines FL_REAL_F64 or FL_REAL_F32 and includes this before its
 * _impl.h template, which then reads
 *   REAL            double | float
 *   SFX             f64 | f32 (FL_NAME(f) is f_f64 | f_f32)
 *   R_EXP, R_LOG    vector-capable exp / log of a REAL (fl_exp_log.h)
 *   R_SQRT          sqrt | sqrtf
 * One dtype per translation unit: the dtypes compile in parallel.
 */
#ifndef FASTLOSS_FL_REAL_H
#define FASTLOSS_FL_REAL_H

#include "fl_exp_log.h"

#if defined(FL_REAL_F64) == defined(FL_REAL_F32)
#error "define exactly one of FL_REAL_F64, FL_REAL_F32 before including fl_real.h"
#elif defined(FL_REAL_F64)
#define REAL double
#define SFX f64
#define R_EXP FL_EXP64
#define R_LOG FL_LOG64
#define R_SQRT sqrt
#define R_FMA fma
#else
#define REAL float
#define SFX f32
#define R_EXP FL_EXP32
#define R_LOG FL_LOG32
#define R_SQRT sqrtf
#define R_FMA fmaf
#endif

#endif
