/* Speed of csrc/mathvec.h vs glibc libmvec vs scalar libm, per x86-64 level.
 *
 * Build (no -march: each loop picks its ISA with a target attribute, like the
 * target_clones in the kernels; see README.md):
 *   gcc -O3 -std=gnu11 -fno-math-errno -fno-trapping-math -fopenmp-simd \
 *       -I.. bench_mathvec.c -o bench -lm
 *   ./bench [n]        (default n = 1000000, as in BUILD-FACTS' NumPy numbers)
 *
 * Prints the best-of-R time in ns per element for
 *   out[i] = exp(x[i]), out[i] = log(x[i])              (f64 and f32)
 *   s += log(1 + exp(-|x[i]|))                          (softplus sum, f64 and f32)
 * for: mathvec, libmvec (exp/log redeclared `omp declare simd`, as fl_exp_log.h
 * does), and scalar libm (loop kept scalar, as on platforms without libmvec),
 * each compiled for AVX-512 (x86-64-v4), AVX2+FMA (x86-64-v3) and SSE2
 * (baseline), plus a target_clones build of the mathvec loops to show that the
 * dispatcher picks the fastest clone.
 */
#define _POSIX_C_SOURCE 199309L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mathvec.h"

/* fl_exp_log.h's declarations let `omp simd` loops call libmvec's _ZGV* variants. */
#define FL_USE_LIBMVEC
#include "fl_exp_log.h"

#define V4 __attribute__((noinline, target("arch=x86-64-v4")))
#define V3 __attribute__((noinline, target("arch=x86-64-v3")))
#define V1 __attribute__((noinline))
#define CLONES __attribute__((noinline, target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
/* libm baseline: keep the loop scalar, as without libmvec. */
#define SCALAR __attribute__((noinline, optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#define SIMD _Pragma("omp simd")
#define SIMD_SUM _Pragma("omp simd reduction(+ : s)")

/* One set of loops per (implementation, ISA). */
#define LOOPS(TAG, ATTR, PRAGMA, PRAGMA_SUM, EXP64, LOG64, EXP32, LOG32)                    \
    ATTR void exp64_##TAG(long n, const double *restrict x, double *restrict y) {             \
        PRAGMA for (long i = 0; i < n; i++) y[i] = EXP64(x[i]);                               \
    }                                                                                         \
    ATTR void log64_##TAG(long n, const double *restrict x, double *restrict y) {             \
        PRAGMA for (long i = 0; i < n; i++) y[i] = LOG64(x[i]);                               \
    }                                                                                         \
    ATTR void exp32_##TAG(long n, const float *restrict x, float *restrict y) {               \
        PRAGMA for (long i = 0; i < n; i++) y[i] = EXP32(x[i]);                               \
    }                                                                                         \
    ATTR void log32_##TAG(long n, const float *restrict x, float *restrict y) {               \
        PRAGMA for (long i = 0; i < n; i++) y[i] = LOG32(x[i]);                               \
    }                                                                                         \
    ATTR double sp64_##TAG(long n, const double *restrict x) {                                \
        double s = 0;                                                                         \
        PRAGMA_SUM for (long i = 0; i < n; i++) {                                             \
            double a = x[i] < 0 ? -x[i] : x[i];                                               \
            s += LOG64(1.0 + EXP64(-a));                                                      \
        }                                                                                     \
        return s;                                                                             \
    }                                                                                         \
    ATTR double sp32_##TAG(long n, const float *restrict x) {                                 \
        double s = 0;                                                                         \
        PRAGMA_SUM for (long i = 0; i < n; i++) {                                             \
            float a = x[i] < 0 ? -x[i] : x[i];                                                \
            s += (double)LOG32(1.0f + EXP32(-a));                                             \
        }                                                                                     \
        return s;                                                                             \
    }

LOOPS(mv_v4, V4, SIMD, SIMD_SUM, fl_exp_f64, fl_log_f64, fl_exp_f32, fl_log_f32)
LOOPS(mv_v3, V3, SIMD, SIMD_SUM, fl_exp_f64, fl_log_f64, fl_exp_f32, fl_log_f32)
LOOPS(mv_v1, V1, SIMD, SIMD_SUM, fl_exp_f64, fl_log_f64, fl_exp_f32, fl_log_f32)
LOOPS(mv_tc, CLONES, SIMD, SIMD_SUM, fl_exp_f64, fl_log_f64, fl_exp_f32, fl_log_f32)
LOOPS(mvec_v4, V4, SIMD, SIMD_SUM, exp, log, expf, logf)
LOOPS(mvec_v3, V3, SIMD, SIMD_SUM, exp, log, expf, logf)
LOOPS(mvec_v1, V1, SIMD, SIMD_SUM, exp, log, expf, logf)
LOOPS(libm, SCALAR, , , exp, log, expf, logf)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static long N;
static double *xe, *xl, *y64;
static float *xe32, *xl32, *y32;
static volatile double sink;

/* best of `reps` passes, ns per element */
#define TIME(call)                                                                            \
    ({                                                                                        \
        double best_ = 1e30;                                                                  \
        for (int r_ = 0; r_ < reps; r_++) {                                                   \
            double t0_ = now();                                                               \
            call;                                                                             \
            double t_ = now() - t0_;                                                          \
            if (t_ < best_) best_ = t_;                                                       \
        }                                                                                     \
        best_ * 1e9 / N;                                                                      \
    })

#define ROW(LABEL, TAG, reps)                                                                 \
    printf("%-26s %8.3f %8.3f %8.3f %8.3f %10.3f %10.3f\n", LABEL,                            \
           TIME(exp64_##TAG(N, xe, y64)), TIME(log64_##TAG(N, xl, y64)),                      \
           TIME(exp32_##TAG(N, xe32, y32)), TIME(log32_##TAG(N, xl32, y32)),                  \
           TIME(sink = sp64_##TAG(N, xe)), TIME(sink = sp32_##TAG(N, xe32)))

int main(int argc, char **argv) {
    N = argc > 1 ? atol(argv[1]) : 1000000;
    int reps = N >= 1000000 ? 30 : (int)(30000000 / N);
    xe = malloc(N * sizeof *xe); xl = malloc(N * sizeof *xl); y64 = malloc(N * sizeof *y64);
    xe32 = malloc(N * sizeof *xe32); xl32 = malloc(N * sizeof *xl32); y32 = malloc(N * sizeof *y32);
    uint64_t st = 12345;
    for (long i = 0; i < N; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = (double)(st >> 11) * 0x1p-53;
        xe[i] = -20.0 + 40.0 * u;                  /* exp / softplus: x in [-20, 20] */
        xl[i] = exp(-30.0 + 60.0 * u);             /* log: log-uniform in [1e-13, 1e13] */
        xe32[i] = (float)xe[i];
        xl32[i] = (float)xl[i];
    }
    printf("ns/element, n=%ld, best of %d (softplus: s += log(1+exp(-|x|)))\n", N, reps);
    printf("%-26s %8s %8s %8s %8s %10s %10s\n", "", "exp f64", "log f64", "exp f32", "log f32",
           "softp f64", "softp f32");
    ROW("mathvec  AVX-512 (v4)", mv_v4, reps);
    ROW("mathvec  AVX2+FMA (v3)", mv_v3, reps);
    ROW("mathvec  SSE2 (default)", mv_v1, reps);
    ROW("mathvec  target_clones", mv_tc, reps);
    ROW("libmvec  AVX-512 (v4)", mvec_v4, reps);
    ROW("libmvec  AVX2+FMA (v3)", mvec_v3, reps);
    ROW("libmvec  SSE2 (default)", mvec_v1, reps);
    ROW("libm     scalar", libm, reps);
    return 0;
}
