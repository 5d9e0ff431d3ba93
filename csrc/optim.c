/* Optimizer update kernels: the rule table, the field tables and the dtype dispatch around
 * update_rules.h's fused passes (included once per dtype, with FL_UPDATE_LOOPS).
 *
 * CMake compiles this file with -ffp-contract=off: the updates are memory-bound,
 * so fused multiply-adds buy no speed, and without them every ISA clone rounds
 * like the NumPy reference (and like the scalar formulas in the docstrings), so a
 * trajectory does not depend on the machine it runs on. */
#include "optim.h"

#include <stddef.h> /* offsetof */

#include "fl_parallel.h"

/* The updates are memory-bound: a thread needs more work than a loss's to pay for itself.
 * Elementwise updates give identical results for every thread count. */
#define FL_OPTIM_MIN_WORK_PER_THREAD 16384
#define FL_OPTIM_THREADS(n, requested) fl_threads_for((n), (requested), FL_OPTIM_MIN_WORK_PER_THREAD)

#define REAL double
#define SFX f64
#define R_SQRT sqrt
#define FL_UPDATE_LOOPS
#include "update_rules.h"
#undef FL_UPDATE_LOOPS
#undef REAL
#undef SFX
#undef R_SQRT

#define REAL float
#define SFX f32
#define R_SQRT sqrtf
#define FL_UPDATE_LOOPS
#include "update_rules.h"
#undef FL_UPDATE_LOOPS
#undef REAL
#undef SFX
#undef R_SQRT

#define FL_RULE_NAME(NAME, name, N_STATE) #name,
const char *const fl_update_rule_names[FL_UPDATE_RULE_COUNT] = {FL_UPDATE_RULES(FL_RULE_NAME)};
#undef FL_RULE_NAME

#define FL_RULE_STATES(NAME, name, N_STATE) N_STATE,
const int fl_update_rule_states[FL_UPDATE_RULE_COUNT] = {FL_UPDATE_RULES(FL_RULE_STATES)};
#undef FL_RULE_STATES

/* The field tables: fl_<name>_fields[] from FL_<NAME>_FIELDS. */
#define FL_FIELD_IS_int 1
#define FL_FIELD_IS_double 0
#define FL_FIELD_ENTRY(S, TYPE, FIELD) {#FIELD, (int)offsetof(S, FIELD), FL_FIELD_IS_##TYPE},
#define FL_RULE_FIELDS(NAME, name, N_STATE) \
    static const fl_hyper_field fl_##name##_fields[] = { \
        FL_##NAME##_FIELDS(FL_FIELD_ENTRY, fl_##name##_hyper)};
FL_UPDATE_RULES(FL_RULE_FIELDS)
#undef FL_RULE_FIELDS
#undef FL_FIELD_ENTRY
#undef FL_FIELD_IS_int
#undef FL_FIELD_IS_double

#define FL_RULE_FIELD_TABLE(NAME, name, N_STATE) fl_##name##_fields,
const fl_hyper_field *const fl_update_rule_fields[FL_UPDATE_RULE_COUNT] = {
    FL_UPDATE_RULES(FL_RULE_FIELD_TABLE)};
#undef FL_RULE_FIELD_TABLE

#define FL_RULE_FIELD_COUNT(NAME, name, N_STATE) \
    (int)(sizeof fl_##name##_fields / sizeof fl_##name##_fields[0]),
const int fl_update_rule_field_counts[FL_UPDATE_RULE_COUNT] = {
    FL_UPDATE_RULES(FL_RULE_FIELD_COUNT)};
#undef FL_RULE_FIELD_COUNT

/* The state tables from FL_<NAME>_STATE: the names, the scalar slots, and the count
 * (== N_STATE). */
#define FL_STATE_NAME(NAME_, WHEN, SHAPE) #NAME_,
#define FL_STATE_ONE(NAME_, WHEN, SHAPE) +1
#define FL_RULE_STATE_NAMES(NAME, name, N_STATE)                                            \
    static const char *const fl_##name##_state_names[] = {FL_##NAME##_STATE(FL_STATE_NAME, 0)}; \
    _Static_assert(0 FL_##NAME##_STATE(FL_STATE_ONE, 0) == N_STATE,                            \
                   #name ": FL_" #NAME "_STATE lists other than N_STATE arrays");
FL_UPDATE_RULES(FL_RULE_STATE_NAMES)
#undef FL_RULE_STATE_NAMES
#undef FL_STATE_ONE
#undef FL_STATE_NAME

#define FL_RULE_STATE_TABLE(NAME, name, N_STATE) fl_##name##_state_names,
const char *const *const fl_update_rule_state_names[FL_UPDATE_RULE_COUNT] = {
    FL_UPDATE_RULES(FL_RULE_STATE_TABLE)};
#undef FL_RULE_STATE_TABLE

#define FL_STATE_SHAPE(NAME_, WHEN, SHAPE) SHAPE,
#define FL_RULE_STATE_SHAPES(NAME, name, N_STATE) \
    static const int fl_##name##_state_shapes[] = {FL_##NAME##_STATE(FL_STATE_SHAPE, 0)};
FL_UPDATE_RULES(FL_RULE_STATE_SHAPES)
#undef FL_RULE_STATE_SHAPES
#undef FL_STATE_SHAPE

#define FL_RULE_SHAPE_TABLE(NAME, name, N_STATE) fl_##name##_state_shapes,
const int *const fl_update_rule_state_shapes[FL_UPDATE_RULE_COUNT] = {
    FL_UPDATE_RULES(FL_RULE_SHAPE_TABLE)};
#undef FL_RULE_SHAPE_TABLE

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
