/* Optimizer update kernels: the rule table and dtype dispatch around the template in
 * optim_impl.h.
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

#define FL_RULE_NAME(NAME, name, N_STATE) #name,
const char *const fl_update_rule_names[FL_UPDATE_RULE_COUNT] = {FL_UPDATE_RULES(FL_RULE_NAME)};
#undef FL_RULE_NAME

#define FL_RULE_STATES(NAME, name, N_STATE) N_STATE,
const int fl_update_rule_states[FL_UPDATE_RULE_COUNT] = {FL_UPDATE_RULES(FL_RULE_STATES)};
#undef FL_RULE_STATES

#define FL_RULE_STATE_FITS(NAME, name, N_STATE)                                             \
    _Static_assert(N_STATE <= FL_UPDATE_MAX_STATE, #name " keeps more state arrays than "   \
                   "fl_update_call.state holds");
FL_UPDATE_RULES(FL_RULE_STATE_FITS)
#undef FL_RULE_STATE_FITS

/* fl_<rule>_update: the <rule>_kernel instantiation for the call's dtype. */
#define FL_RULE_ENTRY(NAME, name, N_STATE)                                                  \
    void fl_##name##_update(const fl_##name##_hyper *h, const fl_update_call *c) {          \
        FL_DTYPE_DISPATCH(c->dtype, name##_kernel, h, c);                                   \
    }
FL_UPDATE_RULES(FL_RULE_ENTRY)
#undef FL_RULE_ENTRY

void fl_update(fl_update_rule rule, const fl_update_hyper *h, const fl_update_call *c) {
    switch (rule) { /* no default: a rule without a case is a -Wswitch-enum error */
#define FL_RULE_CASE(NAME, name, N_STATE) \
    case FL_RULE_##NAME:                  \
        fl_##name##_update(&h->name, c);  \
        return;
        FL_UPDATE_RULES(FL_RULE_CASE)
#undef FL_RULE_CASE
    }
}
