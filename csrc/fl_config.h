/* Portability and speed macros shared by every kernel family.
 *
 * Plain C99 + GNU attributes; no Python headers. Nothing here allocates.
 */
#ifndef FASTLOSS_FL_CONFIG_H
#define FASTLOSS_FL_CONFIG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

typedef ptrdiff_t fl_index;

enum fl_dtype { FL_FLOAT32 = 0, FL_FLOAT64 = 1 };

/* Upper bound on threads a kernel splits into; partial sums live on the stack. */
#define FL_MAX_THREADS 64

#if defined(__GNUC__)
#define FL_INLINE static inline __attribute__((always_inline))
#define FL_NOINLINE __attribute__((noinline))
#define FL_RESTRICT __restrict__
#else
#define FL_INLINE static inline
#define FL_NOINLINE
#define FL_RESTRICT
#endif

/* Runtime ISA dispatch: one clone of each hot loop per x86-64 level, picked by
 * the loader (ifunc). Never -march=native: the wheel must run on any x86-64.
 * FL_USE_TARGET_CLONES is set by CMake only where gcc and glibc support it. */
#if defined(FL_USE_TARGET_CLONES)
#define FL_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
/* For loops over short vectors (the per-sample epoch: d features per sample), where 512-bit
 * vectors spend their time in remainder loops and horizontal sums: AVX2 / baseline only. */
#define FL_HOT_NO_AVX512 __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FL_HOT
#define FL_HOT_NO_AVX512
#endif

/* Tells the optimizer a bound it cannot see (used to let it vectorize short loops for
 * the lengths they really have); no code is generated. */
#if defined(__GNUC__)
#define FL_ASSUME(cond) do { if (!(cond)) __builtin_unreachable(); } while (0)
#else
#define FL_ASSUME(cond) ((void)0)
#endif

/* The per-core L2 cache's size in bytes as the C library reports it (glibc: from cpuid,
 * read once at start-up, so a call costs a few ns), or 1 MiB where it does not. */
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif
FL_INLINE size_t fl_l2_cache_bytes(void) {
#if defined(_SC_LEVEL2_CACHE_SIZE)
    const long bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (bytes > 0) return (size_t)bytes;
#endif
    return (size_t)1 << 20;
}

/* FL_NAME(f) is f_f64 or f_f32: the _impl.h templates, included once per dtype with SFX
 * defined, name their functions with it. */
#define FL_CAT_(a, b) a##_##b
#define FL_CAT(a, b) FL_CAT_(a, b)
#define FL_NAME(name) FL_CAT(name, SFX)

/* The public entry points take `int dtype` and `void *` arrays; each calls the template
 * instantiation for its dtype: FL_DTYPE_DISPATCH(dtype, f, args...) is f_f64(args...) for
 * FL_FLOAT64, else f_f32(args...) (the arguments convert to the instantiation's types). */
#define FL_DTYPE_DISPATCH(dtype, name, ...) \
    ((dtype) == FL_FLOAT64 ? name##_f64(__VA_ARGS__) : name##_f32(__VA_ARGS__))

#define FL_STR_(x) #x
#define FL_PRAGMA(x) _Pragma(FL_STR_(x))
/* `omp simd` needs only -fopenmp-simd (no libgomp); compilers without it ignore the pragma. */
#define FL_SIMD_REDUCE_SUM(var) FL_PRAGMA(omp simd reduction(+ : var))
#define FL_SIMD_REDUCE_MAX(var) FL_PRAGMA(omp simd reduction(max : var))
#define FL_SIMD FL_PRAGMA(omp simd)

/* A cache hint for the line `bytes` after p: rw 0 (read) or 1 (write), locality 3 (into L1)
 * down to 0 (non-temporal); GNU C, nothing elsewhere. The address is formed as an integer (no
 * pointer past the array), and a hint never faults. */
#if defined(__GNUC__)
#define FL_HINT_AHEAD(p, bytes, rw, locality)                                               \
    __builtin_prefetch((const void *)((uintptr_t)(p) + (bytes)), rw, locality)
#else
#define FL_HINT_AHEAD(p, bytes, rw, locality) ((void)0)
#endif
/* For an output that a loop writes without reading it: on the Xeon VM of docs/kernels.md
 * the hardware streams did not fetch ahead for such stores, each one waited for its line. */
#define FL_HINT_WRITE(p, bytes) FL_HINT_AHEAD(p, bytes, 1, 3)
/* how far ahead FL_HINT_WRITE looks: four lines (256 to 4096 bytes measured alike) */
#define FL_WRITE_AHEAD 256

/* Index arrays (class labels, sample orders) belong to the caller, and another thread may
 * change them while a kernel runs with the GIL released. A kernel indexes only with a value
 * it loaded once and checked: the atomic (or volatile) load stops the compiler from reading
 * the element again after the check. */
#if defined(__GNUC__)
static inline int64_t fl_load_index(const int64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
#else
static inline int64_t fl_load_index(const int64_t *p) { return *(const volatile int64_t *)p; }
#endif

/* Records where a kernel met an index out of range (any one such place: threads may race;
 * without GNU atomics a plain store, whose torn value the caller only reports). */
#if defined(__GNUC__)
#define FL_NOTE_BAD(slot, where) __atomic_store_n((slot), (where), __ATOMIC_RELAXED)
#else
#define FL_NOTE_BAD(slot, where) (*(slot) = (where))
#endif

/* The row that visit k of an epoch reads: order[k], loaded once and checked (order is the
 * caller's array), or k without an order; -1 if order[k] is not in [0, n). */
static inline fl_index fl_visit(const int64_t *order, fl_index k, fl_index n) {
    if (!order) return k;
    const int64_t i = fl_load_index(order + k);
    return (uint64_t)i < (uint64_t)n ? (fl_index)i : -1;
}

#endif
