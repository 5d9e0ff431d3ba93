/* Build facts for fastloss.show_config(): which ISA clones and exp/log the kernels were
 * compiled with, which clone this CPU runs, and OpenMP. */
#include "build_facts.h"

#include "fl_parallel.h"

const char *fl_simd_paths(void) {
#if defined(FL_USE_TARGET_CLONES) && defined(FL_USE_LIBMVEC)
    return "target_clones(x86-64-v4, x86-64-v3, default) + libmvec exp/log";
#elif defined(FL_USE_TARGET_CLONES)
    return "target_clones(x86-64-v4, x86-64-v3, default) + mathvec.h exp/log";
#elif defined(FL_USE_LIBMVEC)
    return "baseline ISA + libmvec exp/log";
#else
    return "baseline ISA + mathvec.h exp/log";
#endif
}

const char *fl_active_isa(void) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return "x86-64-v4 (AVX-512)";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "x86-64-v3 (AVX2)";
    return "x86-64 baseline (SSE2)";
#else
    return "portable C";
#endif
}

int fl_openmp_enabled(void) {
#if defined(_OPENMP)
    return 1;
#else
    return 0;
#endif
}

int fl_openmp_max_threads(void) {
#if defined(_OPENMP)
    return omp_get_max_threads();
#else
    return 1;
#endif
}
