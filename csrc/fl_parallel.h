/* Splitting a loop over [0, n) among OpenMP threads; shared by the kernel families.
 *
 * The caller decides the thread count (Python resolves the defaults); these helpers only cap
 * it so each thread gets enough work, and split [0, n) into equal chunks rounded up to 16
 * items, so chunk boundaries fall on cache lines. The split depends only on (n, threads),
 * which makes results reproducible for a given thread count. Without OpenMP everything runs
 * on the calling thread.
 */
#ifndef FASTLOSS_FL_PARALLEL_H
#define FASTLOSS_FL_PARALLEL_H

#include "fl_config.h"

#if defined(_OPENMP)
#include <omp.h>
#define FL_PARALLEL_FOR(nt) FL_PRAGMA(omp parallel for schedule(static) num_threads(nt))
#else
#define FL_PARALLEL_FOR(nt)
#endif

/* Threads to use for `work` items when `requested`, at least `min_work_per_thread` each. */
static inline int fl_threads_for(fl_index work, int requested, fl_index min_work_per_thread) {
    fl_index cap = work / min_work_per_thread;
    int nt = requested < FL_MAX_THREADS ? requested : FL_MAX_THREADS;
    if (nt > cap) nt = (int)cap;
    return nt < 1 ? 1 : nt;
}

static inline fl_index fl_chunk_size(fl_index n, int nt) {
    fl_index chunk = (n + nt - 1) / nt;
    return (chunk + 15) & ~(fl_index)15;
}

/* Declares the chunk [lo, hi) of thread t: chunk items from t * chunk, cut at n. */
#define FL_CHUNK_BOUNDS(t, chunk, n)                                                        \
    const fl_index lo = (fl_index)(t) * (chunk) < (n) ? (fl_index)(t) * (chunk) : (n);      \
    const fl_index hi = lo + (chunk) < (n) ? lo + (chunk) : (n)

/* Run CALL (which reads lo, hi) on each chunk [lo, hi) of [0, n), on nt threads. */
#define FL_FOR_CHUNKS(n, nt, CALL)                                                          \
    do {                                                                                    \
        const int nt_ = (nt);                                                               \
        if (nt_ <= 1) {                                                                     \
            const fl_index lo = 0, hi = (n);                                                \
            CALL;                                                                           \
        } else {                                                                            \
            const fl_index chunk_ = fl_chunk_size((n), nt_);                                \
            FL_PARALLEL_FOR(nt_)                                                            \
            for (int t_ = 0; t_ < nt_; t_++) {                                              \
                FL_CHUNK_BOUNDS(t_, chunk_, (n));                                           \
                if (lo < hi) CALL;                                                          \
            }                                                                               \
        }                                                                                   \
    } while (0)

/* result = the sum over the chunks [lo, hi) of [0, n) of EXPR (a double, which reads lo and
 * hi), on nt threads; the partial sums are added in chunk order, so a given nt always rounds
 * alike. */
#define FL_PARALLEL_SUM(result, n, nt, EXPR)                                                \
    do {                                                                                    \
        const int nt_ = (nt);                                                               \
        if (nt_ <= 1) {                                                                     \
            const fl_index lo = 0, hi = (n);                                                \
            (result) = (EXPR);                                                              \
        } else {                                                                            \
            double partial_[FL_MAX_THREADS];                                                \
            const fl_index chunk_ = fl_chunk_size((n), nt_);                                \
            FL_PARALLEL_FOR(nt_)                                                            \
            for (int t_ = 0; t_ < nt_; t_++) {                                              \
                FL_CHUNK_BOUNDS(t_, chunk_, (n));                                           \
                partial_[t_] = lo < hi ? (EXPR) : 0.0;                                      \
            }                                                                               \
            (result) = 0;                                                                   \
            for (int t_ = 0; t_ < nt_; t_++) (result) += partial_[t_];                      \
        }                                                                                   \
    } while (0)

#endif
