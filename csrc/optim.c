/* Optimizer update kernels: dtype dispatch around the template in optim_impl.h.
 *
 * CMake compiles this file with -ffp-contract=off: the updates are memory-bound,
 * so fused multiply-adds buy no speed, and without them every ISA clone rounds
 * like the NumPy reference (and like the scalar formulas in the docstrings), so a
 * trajectory does not depend on the machine it runs on. */
#include "optim.h"

#include "fl_parallel.h"

/* The updates are memory-bound: a thread needs more work than a loss's to pay for itself.
 * Elementwise updates give identical results for every thread count. */
#define FL_OPTIM_MIN_WORK_PER_THREAD 16384
#define FL_OPTIM_THREADS(n, requested) fl_threads_for((n), (requested), FL_OPTIM_MIN_WORK_PER_THREAD)

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
