/* Optimizer update kernels: dtype dispatch around the template in optim_impl.h.
 *
 * CMake compiles this file with -ffp-contract=off: the updates are memory-bound,
 * so fused multiply-adds buy no speed, and without them every ISA clone rounds
 * like the NumPy reference (and like the scalar formulas in the docstrings), so a
 * trajectory does not depend on the machine it runs on. */
#include "optim.h"

#if defined(_OPENMP)
#include <omp.h>
#define FL_PARALLEL_FOR(nt) FL_PRAGMA(omp parallel for schedule(static) num_threads(nt))
#else
#define FL_PARALLEL_FOR(nt)
#endif

/* Same split as losses.c: threads only with enough work each, equal chunks
 * rounded up to 16 items so boundaries fall on cache lines. Elementwise updates
 * give identical results for every thread count. */
static int fl_optim_threads(fl_index n, int requested) {
    const fl_index min_work_per_thread = 16384;
    fl_index cap = n / min_work_per_thread;
    int nt = requested < FL_MAX_THREADS ? requested : FL_MAX_THREADS;
    if (nt > cap) nt = (int)cap;
    return nt < 1 ? 1 : nt;
}

static fl_index fl_optim_chunk(fl_index n, int nt) {
    fl_index chunk = (n + nt - 1) / nt;
    return (chunk + 15) & ~(fl_index)15;
}

/* Run CALL (which reads lo, hi) over [0, n), split among threads. */
#define FL_FOR_CHUNKS(n, n_threads, CALL)                                                   \
    do {                                                                                    \
        const int nt_ = fl_optim_threads((n), (n_threads));                                 \
        if (nt_ <= 1) {                                                                     \
            const fl_index lo = 0, hi = (n);                                                \
            CALL;                                                                           \
        } else {                                                                            \
            const fl_index chunk_ = fl_optim_chunk((n), nt_);                               \
            FL_PARALLEL_FOR(nt_)                                                            \
            for (int t_ = 0; t_ < nt_; t_++) {                                              \
                const fl_index lo = (fl_index)t_ * chunk_ < (n) ? (fl_index)t_ * chunk_ : (n); \
                const fl_index hi = lo + chunk_ < (n) ? lo + chunk_ : (n);                  \
                if (lo < hi) CALL;                                                          \
            }                                                                               \
        }                                                                                   \
    } while (0)

#define REAL double
#define SFX f64
#define R_SQRT sqrt
#include "optim_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

#define REAL float
#define SFX f32
#define R_SQRT sqrtf
#include "optim_impl.h"
#undef REAL
#undef SFX
#undef R_SQRT

void fl_sgd_update(int dtype, fl_index n, void *param, const void *grad,
                   void *momentum_buffer, double lr, double momentum, double dampening,
                   double weight_decay, int nesterov, int maximize, int first_step,
                   int n_threads) {
    if (dtype == FL_FLOAT64)
        sgd_f64(n, param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                nesterov, maximize, first_step, n_threads);
    else
        sgd_f32(n, param, grad, momentum_buffer, lr, momentum, dampening, weight_decay,
                nesterov, maximize, first_step, n_threads);
}

void fl_adagrad_update(int dtype, fl_index n, void *param, const void *grad, void *state_sum,
                       double step, double lr, double lr_decay, double weight_decay,
                       double eps, int maximize, int n_threads) {
    if (dtype == FL_FLOAT64)
        adagrad_f64(n, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize,
                    n_threads);
    else
        adagrad_f32(n, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize,
                    n_threads);
}

void fl_rmsprop_update(int dtype, fl_index n, void *param, const void *grad, void *square_avg,
                       void *grad_avg, void *momentum_buffer, double lr, double alpha,
                       double eps, double weight_decay, double momentum, int maximize,
                       int n_threads) {
    if (dtype == FL_FLOAT64)
        rmsprop_f64(n, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                    weight_decay, momentum, maximize, n_threads);
    else
        rmsprop_f32(n, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                    weight_decay, momentum, maximize, n_threads);
}

void fl_adam_update(int dtype, fl_index n, void *param, const void *grad, void *exp_avg,
                    void *exp_avg_sq, void *max_exp_avg_sq, double step, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int decoupled,
                    int maximize, int n_threads) {
    if (dtype == FL_FLOAT64)
        adam_f64(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                 eps, weight_decay, decoupled, maximize, n_threads);
    else
        adam_f32(n, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2,
                 eps, weight_decay, decoupled, maximize, n_threads);
}
