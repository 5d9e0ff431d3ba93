/* Optimizer update kernels: one fused, in-place pass over a parameter array
 * updates the parameter and its state, following torch.optim's single-tensor
 * algorithms operation for operation (see the functional updates in
 * src/fastloss/optim/<rule>.py for the formulas, csrc/update_rules.h for the arithmetic
 * of one element).
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

/* FL_UPDATE_RULES, the list of update rules, and each rule's hyper-parameter fields
 * (FL_<NAME>_FIELDS) stand in update_rules.h next to their rules (a new rule is one
 * section there). */
#define FL_UPDATE_LIST_ONLY
#include "update_rules.h"
#undef FL_UPDATE_LIST_ONLY

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
 * fl_<name>_hyper has the fields of FL_<NAME>_FIELDS, in its order (flags are int, 0 or 1).
 * fl_update_rule_fields[rule] lists them, fl_update_rule_field_counts[rule] long: what the
 * bindings fill a struct by, from the Python registry's values, by field name. */
#define FL_HYPER_MEMBER(S, TYPE, FIELD) TYPE FIELD;
#define FL_RULE_STRUCT(NAME, name, N_STATE) \
    typedef struct { FL_##NAME##_FIELDS(FL_HYPER_MEMBER, fl_##name##_hyper) } fl_##name##_hyper;
FL_UPDATE_RULES(FL_RULE_STRUCT)
#undef FL_RULE_STRUCT
#undef FL_HYPER_MEMBER

/* One field of a hyper-parameter struct: its name, its byte offset, and whether it is an
 * int (a flag) rather than a double. */
typedef struct {
    const char *name;
    int offset;
    int is_int;
} fl_hyper_field;

extern const fl_hyper_field *const fl_update_rule_fields[FL_UPDATE_RULE_COUNT];
extern const int fl_update_rule_field_counts[FL_UPDATE_RULE_COUNT];

/* fl_update_rule_state_names[rule][k]: the name of state array k (FL_<NAME>_STATE);
 * fl_update_rule_state_shapes[rule][k]: its shape, FL_ELEMENTWISE (the parameter's) or
 * FL_SCALAR (one element). */
extern const char *const *const fl_update_rule_state_names[FL_UPDATE_RULE_COUNT];
extern const int *const fl_update_rule_state_shapes[FL_UPDATE_RULE_COUNT];

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
    void *state[FL_UPDATE_MAX_STATE]; /* the rule's state arrays (FL_SCALAR ones: one
                                         element); NULL where unused */
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

/* Bit k set: the rule's kernel reads state array k with these hyper-parameters (the caller
 * passes an array exactly then; FL_<NAME>_STATE). Inline: the bindings' fast path calls it
 * on every small update. */
static inline unsigned fl_update_state_mask(fl_update_rule rule, const fl_update_hyper *h) {
    unsigned mask = 0, bit = 1;
    switch (rule) { /* no default, as fl_update */
#define FL_STATE_BIT(NAME_, WHEN, SHAPE) \
    if (WHEN) mask |= bit;               \
    bit <<= 1;
#define FL_RULE_MASK_CASE(NAME, name, N_STATE)                 \
    case FL_RULE_##NAME: {                                     \
        const fl_##name##_hyper *hh = &h->name;                \
        (void)hh; /* unread when every array is always read */ \
        FL_##NAME##_STATE(FL_STATE_BIT, hh)                    \
        break;                                                 \
    }
        FL_UPDATE_RULES(FL_RULE_MASK_CASE)
#undef FL_RULE_MASK_CASE
#undef FL_STATE_BIT
    }
    return mask;
}

/* Whether h meets the rule's constraint across fields (FL_<NAME>_HYPER_OK); each field's
 * own bounds are the caller's. */
static inline int fl_update_hyper_ok(fl_update_rule rule, const fl_update_hyper *h) {
    switch (rule) { /* no default, as fl_update */
#define FL_RULE_OK_CASE(NAME, name, N_STATE) \
    case FL_RULE_##NAME:                     \
        return FL_##NAME##_HYPER_OK(&h->name);
        FL_UPDATE_RULES(FL_RULE_OK_CASE)
#undef FL_RULE_OK_CASE
    }
    return 0;
}

#endif
