/* Optimizer update kernels: one fused, in-place pass over a parameter array
 * updates the parameter and its state, following torch.optim's single-tensor
 * algorithms operation for operation (see src/fastloss/optim/functional.py for
 * the formulas, csrc/update_rules.h for the arithmetic of one element).
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

/* ---- the update rules: one row each -------------------------------------------------
 * X(NAME, name, N_STATE): FL_RULE_NAME in fl_update_rule, "name" in fl_update_rule_names
 * (what the Python registry, src/fastloss/optim/_registry.py, looks its rows up by), the
 * hyper-parameters fl_name_hyper (declared below), the entry point fl_name_update, and
 * N_STATE state arrays in fl_update_call.state (their order is given with each struct).
 * Adding a rule: a row here, its struct below, its per-element rule in update_rules.h and
 * its loop in optim_impl.h; a forgotten case in a switch over fl_update_rule is a compile
 * error under -Wswitch-enum (no switch on it has a default). */
#define FL_UPDATE_RULES(X) \
    X(SGD, sgd, 1)         \
    X(ADAGRAD, adagrad, 1) \
    X(RMSPROP, rmsprop, 3) \
    X(ADAM, adam, 3)

typedef enum {
#define FL_RULE_ENUMERATOR(NAME, name, N_STATE) FL_RULE_##NAME,
    FL_UPDATE_RULES(FL_RULE_ENUMERATOR)
#undef FL_RULE_ENUMERATOR
} fl_update_rule;

/* The number of rules (outside the enum type, so that switches over fl_update_rule need
 * no case for it), and the most state arrays a rule keeps (optim.c asserts each row's
 * N_STATE fits). */
#define FL_RULE_PLUS_ONE(NAME, name, N_STATE) +1
enum { FL_UPDATE_RULE_COUNT = 0 FL_UPDATE_RULES(FL_RULE_PLUS_ONE) };
#undef FL_RULE_PLUS_ONE
#define FL_UPDATE_MAX_STATE 3

/* fl_update_rule_names[rule]: the rule's name ("sgd", ...); fl_update_rule_states[rule]:
 * how many state arrays it keeps. */
extern const char *const fl_update_rule_names[FL_UPDATE_RULE_COUNT];
extern const int fl_update_rule_states[FL_UPDATE_RULE_COUNT];

/* ---- hyper-parameters: one struct per rule, torch.optim's names -------------------------
 * Flags are 0 or 1. The state arrays, in fl_update_call.state order, follow each struct. */

/* SGD. state: {momentum_buffer}, read only when momentum != 0. nesterov requires
 * momentum > 0 (checked by the caller). */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    int nesterov, maximize;
} fl_sgd_hyper;

/* Adagrad. state: {sum}. */
typedef struct {
    double lr, lr_decay, weight_decay, eps;
    int maximize;
} fl_adagrad_hyper;

/* RMSprop. state: {square_avg, grad_avg (read only when centered), momentum_buffer (only
 * when momentum > 0)}. */
typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int centered, maximize;
} fl_rmsprop_hyper;

/* Adam, and AdamW when `decoupled` (param *= 1 - lr * weight_decay first, no L2 term in the
 * gradient). state: {exp_avg, exp_avg_sq, max_exp_avg_sq (read only when amsgrad)}. */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    int amsgrad, maximize, decoupled;
} fl_adam_hyper;

/* Any rule's hyper-parameters: the member named after the rule. */
typedef union {
#define FL_RULE_MEMBER(NAME, name, N_STATE) fl_##name##_hyper name;
    FL_UPDATE_RULES(FL_RULE_MEMBER)
#undef FL_RULE_MEMBER
} fl_update_hyper;

/* ---- one call: the arrays and where the parameter stands -------------------------------- */
typedef struct {
    int dtype;
    fl_index n;
    void *param;
    const void *grad;
    void *state[FL_UPDATE_MAX_STATE]; /* the rule's state arrays; NULL where unused */
    double step;    /* the 1-based step count after increment (Adagrad, Adam) */
    int first_step; /* SGD: the momentum buffer holds nothing yet (PyTorch's clone of g) */
    int n_threads;
} fl_update_call;

/* One update per rule, and the generic entry point: fl_update(rule, h, c) runs
 * fl_<rule>_update(&h-><rule>, c). */
#define FL_RULE_PROTOTYPE(NAME, name, N_STATE) \
    void fl_##name##_update(const fl_##name##_hyper *h, const fl_update_call *c);
FL_UPDATE_RULES(FL_RULE_PROTOTYPE)
#undef FL_RULE_PROTOTYPE

void fl_update(fl_update_rule rule, const fl_update_hyper *h, const fl_update_call *c);

#endif
