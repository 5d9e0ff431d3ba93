/* Loss kernels: dtype dispatch around the template in losses_impl.h. */
#include "losses.h"

#include "fl_parallel.h"

/* Below this many items per thread, starting threads costs more than it saves. */
#define FL_LOSS_MIN_WORK_PER_THREAD 4096

/* result = sum over chunks [lo, hi) of EXPR, chunks summed in a fixed order. */
#define FL_PARALLEL_SUM(result, n, work, n_threads, EXPR)                                   \
    do {                                                                                    \
        const int nt_ = fl_threads_for((work), (n_threads), FL_LOSS_MIN_WORK_PER_THREAD);  \
        if (nt_ <= 1) {                                                                     \
            const fl_index lo = 0, hi = (n);                                                \
            (result) = (EXPR);                                                              \
        } else {                                                                            \
            double partial_[FL_MAX_THREADS];                                                \
            const fl_index chunk_ = fl_chunk_size((n), nt_);                                \
            FL_PARALLEL_FOR(nt_)                                                            \
            for (int t_ = 0; t_ < nt_; t_++) {                                              \
                const fl_index lo = (fl_index)t_ * chunk_ < (n) ? (fl_index)t_ * chunk_ : (n); \
                const fl_index hi = lo + chunk_ < (n) ? lo + chunk_ : (n);                  \
                partial_[t_] = lo < hi ? (EXPR) : 0.0;                                      \
            }                                                                               \
            (result) = 0;                                                                   \
            for (int t_ = 0; t_ < nt_; t_++) (result) += partial_[t_];                      \
        }                                                                                   \
    } while (0)

/* Tells the optimizer a bound it cannot see (used to let it vectorize short loops for
 * the lengths they really have); no code is generated. */
#if defined(__GNUC__)
#define FL_ASSUME(cond) do { if (!(cond)) __builtin_unreachable(); } while (0)
#else
#define FL_ASSUME(cond) ((void)0)
#endif

/* exp/log: glibc's libmvec where the build found it (the compiler then vectorizes calls to
 * exp/log), else mathvec.h's table-free polynomials, which vectorize everywhere; scalar libm
 * calls would make the transcendental losses slower than NumPy. */
#if defined(FL_USE_LIBMVEC)
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

#define REAL double
#define SFX f64
#define R_EXP FL_EXP64
#define R_LOG FL_LOG64
#include "losses_impl.h"
#undef REAL
#undef SFX
#undef R_EXP
#undef R_LOG

#define REAL float
#define SFX f32
#define R_EXP FL_EXP32
#define R_LOG FL_LOG32
#include "losses_impl.h"
#undef REAL
#undef SFX
#undef R_EXP
#undef R_LOG

double fl_elementwise_loss(int loss, int dtype, fl_index n, const void *x, const void *y,
                           const void *w, const void *aux, double param, double grad_scale,
                           void *grad, void *elems, int want, int n_threads) {
    if (dtype == FL_FLOAT64)
        return elementwise_f64(loss, n, x, y, w, aux, param, grad_scale, grad, elems, want,
                               n_threads);
    return elementwise_f32(loss, n, x, y, w, aux, param, grad_scale, grad, elems, want,
                           n_threads);
}

double fl_cross_entropy_index(int dtype, fl_index n, fl_index c, const void *logits,
                              const int64_t *labels, const void *class_weight,
                              int64_t ignore_index, double label_smoothing, double grad_scale,
                              void *grad, void *elems, int want, int n_threads,
                              fl_index *bad) {
    if (dtype == FL_FLOAT64)
        return ce_index_f64(n, c, logits, labels, class_weight, ignore_index, label_smoothing,
                            grad_scale, grad, elems, want, n_threads, bad);
    return ce_index_f32(n, c, logits, labels, class_weight, ignore_index, label_smoothing,
                        grad_scale, grad, elems, want, n_threads, bad);
}

double fl_cross_entropy_prob(int dtype, fl_index n, fl_index c, const void *logits,
                             const void *target, const void *class_weight,
                             double label_smoothing, double grad_scale, void *grad,
                             void *elems, int want, int n_threads) {
    if (dtype == FL_FLOAT64)
        return ce_prob_f64(n, c, logits, target, class_weight, label_smoothing, grad_scale,
                           grad, elems, want, n_threads);
    return ce_prob_f32(n, c, logits, target, class_weight, label_smoothing, grad_scale, grad,
                       elems, want, n_threads);
}

double fl_nll_loss(int dtype, fl_index n, fl_index c, const void *log_probs,
                   const int64_t *labels, const void *class_weight, int64_t ignore_index,
                   double grad_scale, void *grad, void *elems, int want, fl_index *bad) {
    if (dtype == FL_FLOAT64)
        return nll_f64(n, c, log_probs, labels, class_weight, ignore_index, grad_scale, grad,
                       elems, want, bad);
    return nll_f32(n, c, log_probs, labels, class_weight, ignore_index, grad_scale, grad,
                   elems, want, bad);
}

double fl_label_weight_total(int dtype, fl_index n, fl_index c, const int64_t *labels,
                             const void *class_weight, int64_t ignore_index, fl_index *bad) {
    if (dtype == FL_FLOAT64)
        return label_weight_total_f64(n, c, labels, class_weight, ignore_index, bad);
    return label_weight_total_f32(n, c, labels, class_weight, ignore_index, bad);
}

fl_index fl_count_outside(int dtype, fl_index n, const void *x, double lo, double hi,
                          fl_index *first) {
    if (dtype == FL_FLOAT64) return count_outside_f64(n, x, lo, hi, first);
    return count_outside_f32(n, x, (float)lo, (float)hi, first);
}

/* ---- build facts ---------------------------------------------------------- */

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
