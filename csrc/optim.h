/* Optimizer update kernels: one fused, in-place pass over a parameter array
 * updates the parameter and its state, following torch.optim's single-tensor
 * algorithms operation for operation (see src/fastloss/optim/functional.py for
 * the formulas).
 *
 * These trust their inputs: C-contiguous, non-overlapping arrays of n elements
 * of `dtype` (FL_FLOAT32 or FL_FLOAT64; it applies to every `void *`), state
 * arrays present exactly when their option needs them, hyper-parameters already
 * checked. Validation lives in src/fastloss/optim/functional.py.
 *
 * Per-call scalars (bias corrections, step sizes, 1 - beta) are computed once in
 * double at the top of each kernel, then rounded to the array's dtype, as
 * PyTorch does with Python-float hyper-parameters. Results do not depend on
 * n_threads, nor (where CMake can pass -ffp-contract=off, i.e. gcc and clang) on the
 * ISA clone the loader picks.
 */
#ifndef FASTLOSS_OPTIM_H
#define FASTLOSS_OPTIM_H

#include "fl_config.h"

/* SGD. momentum_buffer may be NULL when momentum == 0. first_step: the buffer
 * holds nothing yet and is set to the gradient (torch's clone on the first step).
 * nesterov requires momentum > 0 (checked by the caller). */
void fl_sgd_update(int dtype, fl_index n, void *param, const void *grad,
                   void *momentum_buffer, double lr, double momentum, double dampening,
                   double weight_decay, int nesterov, int maximize, int first_step,
                   int n_threads);

/* Adagrad; `step` is the 1-based step count after increment. */
void fl_adagrad_update(int dtype, fl_index n, void *param, const void *grad, void *state_sum,
                       double step, double lr, double lr_decay, double weight_decay,
                       double eps, int maximize, int n_threads);

/* RMSprop. grad_avg is read only when non-NULL (centered); momentum_buffer only
 * when momentum > 0. */
void fl_rmsprop_update(int dtype, fl_index n, void *param, const void *grad, void *square_avg,
                       void *grad_avg, void *momentum_buffer, double lr, double alpha,
                       double eps, double weight_decay, double momentum, int maximize,
                       int n_threads);

/* Adam, and AdamW when `decoupled` (param *= 1 - lr * weight_decay first, no L2
 * term in the gradient). max_exp_avg_sq non-NULL means amsgrad. `step` is the
 * 1-based step count after increment. */
void fl_adam_update(int dtype, fl_index n, void *param, const void *grad, void *exp_avg,
                    void *exp_avg_sq, void *max_exp_avg_sq, double step, double lr,
                    double beta1, double beta2, double eps, double weight_decay, int decoupled,
                    int maximize, int n_threads);

#endif
