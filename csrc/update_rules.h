/* The update rules: everything C about each rule, next to each other.
 *
 * For each rule, one section below holds
 *   - its hyper-parameters, FL_<NAME>_FIELDS(F, S): F(S, type, field) per field of the
 *     struct fl_<name>_hyper (S), in the registry row's order (src/fastloss/optim/_registry.py);
 *     optim.h generates the struct from it, optim.c the field table the bindings fill it by;
 *   - its state arrays, FL_<NAME>_STATE(S, h): S(name, read when, shape) per array in
 *     fl_update_call.state order, "read when" an expression on the struct *h (the caller
 *     must pass the array exactly then), shape FL_ELEMENTWISE (one element per parameter)
 *     or FL_SCALAR (one element per array, read and written once per call by the
 *     kernel, outside the loop: NAdam's mu_product, as torch keeps it in a 0-d tensor),
 *     and FL_<NAME>_HYPER_OK(h): the constraint across
 *     fields that the caller checks (1: none); optim.c makes tables of both;
 *   - FL_NAME(<rule>_scalars_of)(const fl_<rule>_hyper *h, ...) -> <rule>_scalars_SFX: the
 *     per-call scalars, computed once in double and rounded to REAL (as PyTorch rounds
 *     Python-float hyper-parameters to the tensor's dtype), and the flags saying which
 *     terms apply;
 *   - FL_NAME(<rule>_rule)(x, g, state pointers, &scalars, FLAGS...) -> the new parameter
 *     value, writing the element's state through the pointers. The FLAGS are the
 *     scalars' flags again, passed as compile-time constants so that each combination
 *     is its own branch-free (vectorizable) loop; a state pointer is read only when its
 *     flag is on (NULL otherwise);
 *   - its fused pass (optim.c only): <rule>_loop() applies <rule>_rule() to each element of
 *     [0, n) with the options as compile-time constants; <rule>_run() picks the
 *     instantiation once per call (FL_HOT: one clone per ISA) by an if/else tree over the
 *     flags, so every combination reaches a loop (no switch with a default that could do
 *     nothing); <rule>_kernel() computes the per-call scalars and splits the array among
 *     threads.
 *
 * Three ways to include this file:
 *   - with FL_UPDATE_LIST_ONLY defined (optim.h, once): the list of rules and their field
 *     lists alone, no REAL needed;
 *   - once per dtype after optim.h, in a template that defines
 *       REAL = double | float,   SFX = f64 | f32,   R_SQRT = sqrt | sqrtf
 *     (names get the suffix through FL_NAME): the scalars and the per-element rules (the
 *     per-sample epochs, linear_impl.h);
 *   - the same with FL_UPDATE_LOOPS defined too (optim.c): also the fused passes, which
 *     are static functions that only optim.c calls (elsewhere they would be unused).
 *
 * The expressions follow torch.optim's _single_tensor_* functions term by term
 * (add(alpha=a) is x + a*y, addcmul(value=v) is x + (v*y)*z, addcdiv(value=v) is
 * x + (v*y)/z, lerp as at::lerp), so the results agree with PyTorch and, compiled
 * without FMA contraction (-ffp-contract=off), with fastloss.reference.optim bit for bit
 * where the reference writes the same operations.
 */

#ifdef FL_UPDATE_LIST_ONLY
/* ---- the update rules: one row each -------------------------------------------------
 * X(NAME, name, N_STATE): FL_RULE_NAME in fl_update_rule, "name" in fl_update_rule_names
 * (what the Python registry, src/fastloss/optim/_registry.py, looks its rows up by), the
 * hyper-parameters fl_name_hyper (from FL_NAME_FIELDS, in the rule's section below), the
 * entry point fl_name_update, and N_STATE state arrays in fl_update_call.state (their
 * order is given with each field list). A forgotten case in a switch over fl_update_rule
 * is a compile error under -Wswitch-enum (no switch on it has a default). */
/* A state array's shape (the third item of an FL_<NAME>_STATE entry). */
#define FL_ELEMENTWISE 0 /* the parameter's: one element per parameter element */
#define FL_SCALAR 1      /* one element, read and written once per call */

#define FL_UPDATE_RULES(X)   \
    X(SGD, sgd, 1)           \
    X(ADAGRAD, adagrad, 1)   \
    X(RMSPROP, rmsprop, 3)   \
    X(ADAM, adam, 3)         \
    X(ADAMAX, adamax, 2)     \
    X(RADAM, radam, 2)       \
    X(ADADELTA, adadelta, 2) \
    X(LION, lion, 1)         \
    X(RPROP, rprop, 2)       \
    X(NADAM, nadam, 3)       \
    X(ASGD, asgd, 3)
#else

/* a * b + c rounded as torch's vectorized CPU kernels round add(alpha=), addcmul and lerp:
 * they compute it with one fused multiply-add (Vectorized fmadd), which in float32 moves a
 * 100-step trajectory by ~1e-6 relative against two roundings. So float32 fuses it here
 * (explicitly: the file is compiled without contraction, and fmaf rounds alike in every ISA
 * clone; the reference emulates it exactly; only the clone for x86-64 without FMA calls
 * libm for it); float64 keeps two roundings, which differ from torch's by a float64 rounding
 * (1e-16), and NumPy, the float64 reference, has no fma. */
FL_INLINE REAL FL_NAME(muladd)(REAL a, REAL b, REAL c) {
    return sizeof(REAL) == sizeof(float) ? (REAL)fmaf((float)a, (float)b, (float)c) : a * b + c;
}

/* at::lerp(start, end, w) with w's smallness decided once per call:
 *   |w| < 0.5: start + w (end - start),   else: end - (end - start)(1 - w),
 * written as base + coeff (end - start), the form of PyTorch's vectorized lerp (muladd). */
FL_INLINE REAL FL_NAME(lerp)(REAL start, REAL end, REAL coeff, int small) {
    return FL_NAME(muladd)(coeff, end - start, small ? start : end);
}

/* Splits lerp's weight w (already rounded to REAL, as at::lerp takes it) into the
 * (coeff, small) that lerp() wants; returns small. */
FL_INLINE int FL_NAME(lerp_split)(REAL w, REAL *coeff) {
    const int small = (w < 0 ? -w : w) < (REAL)0.5;
    *coeff = small ? w : w - (REAL)1;
    return small;
}

/* torch.maximum: NaN in either argument gives NaN. */
FL_INLINE REAL FL_NAME(nan_max)(REAL a, REAL b) {
    REAL m = b > a ? b : a;
    return b != b ? b : m;
}

/* Adam's first steps, shared by Adam, RAdam and NAdam (torch's order): the decay (DECAY 2:
 * x *= shrink, decoupled; 1: the L2 term in g), the sign flip (MAX), exp_avg's lerp and
 * exp_avg_sq's average. Updates *x and both moments; returns g as the moments took it.
 * FL_ADAM_MOMENTS passes a rule's scalars k, whose fields have these names. */
FL_INLINE REAL FL_NAME(adam_moments)(REAL *x, REAL g, REAL *exp_avg, REAL *exp_avg_sq,
                                     REAL shrink, REAL weight_decay, REAL lerp_coeff,
                                     int lerp_small, REAL beta2, REAL one_m_beta2,
                                     const int MAX, const int DECAY) {
    if (DECAY == 2) *x = *x * shrink;
    REAL d = MAX ? -g : g;
    if (DECAY == 1) d = FL_NAME(muladd)(weight_decay, *x, d);
    *exp_avg = FL_NAME(lerp)(*exp_avg, d, lerp_coeff, lerp_small);
    *exp_avg_sq = FL_NAME(muladd)(one_m_beta2 * d, d, *exp_avg_sq * beta2);
    return d;
}
#define FL_ADAM_MOMENTS(x, g, exp_avg, exp_avg_sq, k, MAX, DECAY)                            \
    FL_NAME(adam_moments)(&(x), g, exp_avg, exp_avg_sq, (k)->shrink, (k)->weight_decay,     \
                          (k)->lerp_coeff, (k)->lerp_small, (k)->beta2, (k)->one_m_beta2, MAX, \
                          DECAY)

#ifdef FL_UPDATE_LOOPS
/* LOOP(1, 1, ...) ... LOOP(0, 0, ...) as the flags A and B say (the two leading flag
 * arguments of LOOP), the remaining arguments passed on. */
#define FL_BY_2_FLAGS(LOOP, A, B, ...)                                                      \
    do {                                                                                    \
        if (A) {                                                                            \
            if (B) LOOP(1, 1, __VA_ARGS__); else LOOP(1, 0, __VA_ARGS__);                   \
        } else {                                                                            \
            if (B) LOOP(0, 1, __VA_ARGS__); else LOOP(0, 0, __VA_ARGS__);                   \
        }                                                                                   \
    } while (0)
#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== SGD --------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* Flags are 0 or 1. state: {momentum_buffer}, read only when momentum != 0. nesterov
 * requires momentum > 0 and dampening == 0 (checked by the caller). */
#define FL_SGD_FIELDS(F, S) \
    F(S, double, lr) F(S, double, momentum) F(S, double, dampening) \
    F(S, double, weight_decay) F(S, int, nesterov) F(S, int, maximize)
/* The state arrays, S(name, read when) on the struct *h. */
#define FL_SGD_STATE(S, h) S(momentum_buffer, (h)->momentum != 0, FL_ELEMENTWISE)
/* The constraint across fields (the registry row's check; the fast path declines
 * otherwise): Nesterov momentum needs momentum > 0 and no dampening. */
#define FL_SGD_HYPER_OK(h) (!(h)->nesterov || ((h)->momentum > 0 && (h)->dampening == 0))
#else

typedef struct {
    REAL neg_lr, momentum, keep, weight_decay; /* -lr, momentum, 1 - dampening */
    int maximize, decay, momentum_on, nesterov, first_step;
} FL_NAME(sgd_scalars);

/* first_step: the momentum buffer holds nothing yet (it is set to g, PyTorch's clone). */
FL_INLINE FL_NAME(sgd_scalars) FL_NAME(sgd_scalars_of)(const fl_sgd_hyper *h, int first_step) {
    FL_NAME(sgd_scalars) k;
    k.neg_lr = (REAL)-h->lr;
    k.momentum = (REAL)h->momentum;
    k.keep = (REAL)(1 - h->dampening);
    k.weight_decay = (REAL)h->weight_decay;
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    k.momentum_on = h->momentum != 0;
    k.nesterov = k.momentum_on && h->nesterov;
    k.first_step = k.momentum_on && first_step;
    return k;
}

/* FLAGS: MAX, WD, MOM, NEST, FIRST (the scalars' maximize ... first_step). */
FL_INLINE REAL FL_NAME(sgd_rule)(REAL x, REAL g, REAL *buf, const FL_NAME(sgd_scalars) *k,
                                 const int MAX, const int WD, const int MOM, const int NEST,
                                 const int FIRST) {
    REAL d = MAX ? -g : g;
    if (WD) d = FL_NAME(muladd)(k->weight_decay, x, d);
    if (MOM) {
        REAL b = FIRST ? d : FL_NAME(muladd)(k->keep, d, *buf * k->momentum);
        *buf = b;
        d = NEST ? FL_NAME(muladd)(k->momentum, b, d) : b;
    }
    return FL_NAME(muladd)(k->neg_lr, d, x);
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(sgd_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                 REAL *FL_RESTRICT buf, const FL_NAME(sgd_scalars) *k,
                                 const int MAX, const int WD, const int MOM, const int NEST,
                                 const int FIRST) {
    const FL_NAME(sgd_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(sgd_rule)(p[i], g[i], MOM ? &buf[i] : NULL, &s, MAX, WD, MOM, NEST,
                                 FIRST);
}

#define FL_SGD_LOOP(MAX, WD, MOM, NEST, FIRST) \
    FL_NAME(sgd_loop)(n, p, g, buf, k, MAX, WD, MOM, NEST, FIRST)

static FL_HOT void FL_NAME(sgd_run)(fl_index n, REAL *p, const REAL *g, REAL *buf,
                                    const FL_NAME(sgd_scalars) *k) {
    /* nesterov and first_step only with momentum (sgd_scalars_of) */
    if (!k->momentum_on)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 0, 0, 0);
    else if (!k->nesterov && !k->first_step)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 0, 0);
    else if (!k->nesterov)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 0, 1);
    else if (!k->first_step)
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 1, 0);
    else
        FL_BY_2_FLAGS(FL_SGD_LOOP, k->maximize, k->decay, 1, 1, 1);
}

static void FL_NAME(sgd_kernel)(const fl_sgd_hyper *h, const fl_update_call *c) {
    const FL_NAME(sgd_scalars) k = FL_NAME(sgd_scalars_of)(h, c->first_step);
    REAL *p = c->param, *buf = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(sgd_run)(hi - lo, p + lo, g + lo, k.momentum_on ? buf + lo : NULL,
                                   &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Adagrad ----------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {sum}. */
#define FL_ADAGRAD_FIELDS(F, S) \
    F(S, double, lr) F(S, double, lr_decay) F(S, double, weight_decay) \
    F(S, double, eps) F(S, int, maximize)
#define FL_ADAGRAD_STATE(S, h) S(sum, 1, FL_ELEMENTWISE)
#define FL_ADAGRAD_HYPER_OK(h) 1
#else

typedef struct {
    REAL neg_clr, weight_decay, eps; /* -lr / (1 + (step - 1) lr_decay) */
    int maximize, decay;
} FL_NAME(adagrad_scalars);

/* step: the 1-based step count after increment. */
FL_INLINE FL_NAME(adagrad_scalars) FL_NAME(adagrad_scalars_of)(const fl_adagrad_hyper *h,
                                                               double step) {
    FL_NAME(adagrad_scalars) k;
    const double clr = h->lr / (1 + (step - 1) * h->lr_decay);
    k.neg_clr = (REAL)-clr;
    k.weight_decay = (REAL)h->weight_decay;
    k.eps = (REAL)h->eps;
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    return k;
}

/* FLAGS: MAX, WD. */
FL_INLINE REAL FL_NAME(adagrad_rule)(REAL x, REAL g, REAL *sum,
                                     const FL_NAME(adagrad_scalars) *k, const int MAX,
                                     const int WD) {
    REAL d = MAX ? -g : g;
    if (WD) d = d + k->weight_decay * x;
    REAL s = *sum + d * d;
    *sum = s;
    return x + (k->neg_clr * d) / (R_SQRT(s) + k->eps);
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(adagrad_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sum, const FL_NAME(adagrad_scalars) *k,
                                     const int MAX, const int WD) {
    const FL_NAME(adagrad_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adagrad_rule)(p[i], g[i], &sum[i], &s, MAX, WD);
}

#define FL_ADAGRAD_LOOP(MAX, WD, _) FL_NAME(adagrad_loop)(n, p, g, sum, k, MAX, WD)

static FL_HOT void FL_NAME(adagrad_run)(fl_index n, REAL *p, const REAL *g, REAL *sum,
                                        const FL_NAME(adagrad_scalars) *k) {
    FL_BY_2_FLAGS(FL_ADAGRAD_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(adagrad_kernel)(const fl_adagrad_hyper *h, const fl_update_call *c) {
    const FL_NAME(adagrad_scalars) k = FL_NAME(adagrad_scalars_of)(h, c->step);
    REAL *p = c->param, *sum = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adagrad_run)(hi - lo, p + lo, g + lo, sum + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== RMSprop ----------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {square_avg, grad_avg (read only when centered), momentum_buffer (only when
 * momentum > 0)}. */
#define FL_RMSPROP_FIELDS(F, S) \
    F(S, double, lr) F(S, double, alpha) F(S, double, eps) \
    F(S, double, weight_decay) F(S, double, momentum) F(S, int, centered) \
    F(S, int, maximize)
#define FL_RMSPROP_STATE(S, h)                            \
    S(square_avg, 1, FL_ELEMENTWISE)                      \
    S(grad_avg, (h)->centered != 0, FL_ELEMENTWISE)       \
    S(momentum_buffer, (h)->momentum > 0, FL_ELEMENTWISE)
#define FL_RMSPROP_HYPER_OK(h) 1
#else

typedef struct {
    REAL neg_lr, alpha, one_m_alpha, lerp_coeff, eps, weight_decay, momentum;
    int lerp_small; /* grad_avg.lerp_(g, 1 - alpha), split by lerp_split */
    int maximize, decay, centered, momentum_on;
} FL_NAME(rmsprop_scalars);

FL_INLINE FL_NAME(rmsprop_scalars) FL_NAME(rmsprop_scalars_of)(const fl_rmsprop_hyper *h) {
    FL_NAME(rmsprop_scalars) k;
    /* the weight rounded to REAL, as at::lerp takes it */
    k.one_m_alpha = (REAL)(1 - h->alpha);
    k.lerp_small = FL_NAME(lerp_split)(k.one_m_alpha, &k.lerp_coeff);
    k.neg_lr = (REAL)-h->lr;
    k.alpha = (REAL)h->alpha;
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.momentum = (REAL)h->momentum;
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    k.centered = h->centered != 0;
    k.momentum_on = h->momentum > 0;
    return k;
}

/* FLAGS: MAX, WD, CEN, MOM. */
FL_INLINE REAL FL_NAME(rmsprop_rule)(REAL x, REAL g, REAL *square_avg, REAL *grad_avg,
                                     REAL *buf, const FL_NAME(rmsprop_scalars) *k,
                                     const int MAX, const int WD, const int CEN,
                                     const int MOM) {
    REAL d = MAX ? -g : g;
    if (WD) d = FL_NAME(muladd)(k->weight_decay, x, d);
    REAL s = FL_NAME(muladd)(k->one_m_alpha * d, d, *square_avg * k->alpha);
    *square_avg = s;
    REAL avg;
    if (CEN) {
        REAL a = FL_NAME(lerp)(*grad_avg, d, k->lerp_coeff, k->lerp_small);
        *grad_avg = a;
        avg = R_SQRT(FL_NAME(muladd)((REAL)-1 * a, a, s));
    } else {
        avg = R_SQRT(s);
    }
    avg = avg + k->eps;
    if (MOM) {
        REAL b = *buf * k->momentum + d / avg;
        *buf = b;
        return FL_NAME(muladd)(k->neg_lr, b, x);
    }
    return x + (k->neg_lr * d) / avg;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(rmsprop_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sq, REAL *FL_RESTRICT ga,
                                     REAL *FL_RESTRICT buf, const FL_NAME(rmsprop_scalars) *k,
                                     const int MAX, const int WD, const int CEN,
                                     const int MOM) {
    const FL_NAME(rmsprop_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(rmsprop_rule)(p[i], g[i], &sq[i], CEN ? &ga[i] : NULL,
                                     MOM ? &buf[i] : NULL, &s, MAX, WD, CEN, MOM);
}

#define FL_RMSPROP_LOOP(MAX, WD, CEN, MOM) \
    FL_NAME(rmsprop_loop)(n, p, g, sq, ga, buf, k, MAX, WD, CEN, MOM)

static FL_HOT void FL_NAME(rmsprop_run)(fl_index n, REAL *p, const REAL *g, REAL *sq, REAL *ga,
                                        REAL *buf, const FL_NAME(rmsprop_scalars) *k) {
    if (!k->centered && !k->momentum_on)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 0, 0);
    else if (!k->momentum_on)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 1, 0);
    else if (!k->centered)
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 0, 1);
    else
        FL_BY_2_FLAGS(FL_RMSPROP_LOOP, k->maximize, k->decay, 1, 1);
}

static void FL_NAME(rmsprop_kernel)(const fl_rmsprop_hyper *h, const fl_update_call *c) {
    const FL_NAME(rmsprop_scalars) k = FL_NAME(rmsprop_scalars_of)(h);
    REAL *p = c->param, *sq = c->state[0], *ga = c->state[1], *buf = c->state[2];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(rmsprop_run)(hi - lo, p + lo, g + lo, sq + lo,
                                       k.centered ? ga + lo : NULL,
                                       k.momentum_on ? buf + lo : NULL, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Adam / AdamW ------------------------------------------------------------------ */

#ifdef FL_UPDATE_LIST_ONLY
/* AdamW when `decoupled` (param *= 1 - lr * weight_decay first, no L2 term in the
 * gradient). state: {exp_avg, exp_avg_sq, max_exp_avg_sq (read only when amsgrad)}. */
#define FL_ADAM_FIELDS(F, S) \
    F(S, double, lr) F(S, double, beta1) F(S, double, beta2) \
    F(S, double, eps) F(S, double, weight_decay) F(S, int, amsgrad) \
    F(S, int, maximize) F(S, int, decoupled)
#define FL_ADAM_STATE(S, h)                              \
    S(exp_avg, 1, FL_ELEMENTWISE)                        \
    S(exp_avg_sq, 1, FL_ELEMENTWISE)                     \
    S(max_exp_avg_sq, (h)->amsgrad != 0, FL_ELEMENTWISE)
#define FL_ADAM_HYPER_OK(h) 1
#else

typedef struct {
    REAL lerp_coeff, beta2, one_m_beta2, bc2_sqrt, neg_step, eps, weight_decay, shrink;
    int lerp_small; /* exp_avg.lerp_(g, 1 - beta1), split by lerp_split */
    int maximize, decay, amsgrad; /* decay: 0 none, 1 L2 (Adam), 2 decoupled (AdamW) */
} FL_NAME(adam_scalars);

/* From the bias corrections 1 - beta1^step and sqrt(1 - beta2^step), however computed (a
 * caller stepping every sample keeps running powers rather than two pow() per step). */
FL_INLINE FL_NAME(adam_scalars) FL_NAME(adam_scalars_of_corrections)(
    const fl_adam_hyper *h, double bias_correction1, double bias_correction2_sqrt) {
    FL_NAME(adam_scalars) k;
    const double step_size = h->lr / bias_correction1;
    k.lerp_small = FL_NAME(lerp_split)((REAL)(1 - h->beta1), &k.lerp_coeff);
    k.beta2 = (REAL)h->beta2;
    k.one_m_beta2 = (REAL)(1 - h->beta2);
    k.bc2_sqrt = (REAL)bias_correction2_sqrt;
    k.neg_step = (REAL)-step_size;
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.shrink = (REAL)(1 - h->lr * h->weight_decay);
    k.maximize = h->maximize != 0;
    /* AdamW's param *= 1 - lr * 0 would be an exact no-op: skip it */
    k.decay = h->weight_decay == 0 ? 0 : (h->decoupled ? 2 : 1);
    k.amsgrad = h->amsgrad != 0;
    return k;
}

/* step: the 1-based step count after increment (the bias corrections use it). */
FL_INLINE FL_NAME(adam_scalars) FL_NAME(adam_scalars_of)(const fl_adam_hyper *h, double step) {
    const double bias_correction2 = 1 - pow(h->beta2, step);
    /* torch: bias_correction2 ** 0.5 */
    return FL_NAME(adam_scalars_of_corrections)(h, 1 - pow(h->beta1, step),
                                                pow(bias_correction2, 0.5));
}

/* FLAGS: MAX, DECAY (0, 1, 2 as the scalars' decay), AMS. */
FL_INLINE REAL FL_NAME(adam_rule)(REAL x, REAL g, REAL *exp_avg, REAL *exp_avg_sq,
                                  REAL *max_exp_avg_sq, const FL_NAME(adam_scalars) *k,
                                  const int MAX, const int DECAY, const int AMS) {
    FL_ADAM_MOMENTS(x, g, exp_avg, exp_avg_sq, k, MAX, DECAY);
    const REAL m = *exp_avg;
    REAL v = *exp_avg_sq;
    if (AMS) {
        v = FL_NAME(nan_max)(*max_exp_avg_sq, v);
        *max_exp_avg_sq = v;
    }
    REAL denom = R_SQRT(v) / k->bc2_sqrt + k->eps;
    return x + (k->neg_step * m) / denom;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(adam_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                  REAL *FL_RESTRICT m, REAL *FL_RESTRICT v,
                                  REAL *FL_RESTRICT vmax, const FL_NAME(adam_scalars) *k,
                                  const int MAX, const int DECAY, const int AMS) {
    const FL_NAME(adam_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adam_rule)(p[i], g[i], &m[i], &v[i], AMS ? &vmax[i] : NULL, &s, MAX,
                                  DECAY, AMS);
}

#define FL_ADAM_LOOP(MAX, AMS, DECAY) FL_NAME(adam_loop)(n, p, g, m, v, vmax, k, MAX, DECAY, AMS)

static FL_HOT void FL_NAME(adam_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v,
                                     REAL *vmax, const FL_NAME(adam_scalars) *k) {
    if (k->decay == 0)
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 0);
    else if (k->decay == 1)
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 1);
    else
        FL_BY_2_FLAGS(FL_ADAM_LOOP, k->maximize, k->amsgrad, 2);
}

static void FL_NAME(adam_kernel)(const fl_adam_hyper *h, const fl_update_call *c) {
    const FL_NAME(adam_scalars) k = FL_NAME(adam_scalars_of)(h, c->step);
    REAL *p = c->param, *m = c->state[0], *v = c->state[1], *vmax = c->state[2];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adam_run)(hi - lo, p + lo, g + lo, m + lo, v + lo,
                                    k.amsgrad ? vmax + lo : NULL, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Adamax ------------------------------------------------------------------------ */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {exp_avg, exp_inf}, both always read. */
#define FL_ADAMAX_FIELDS(F, S) \
    F(S, double, lr) F(S, double, beta1) F(S, double, beta2) \
    F(S, double, eps) F(S, double, weight_decay) F(S, int, maximize)
#define FL_ADAMAX_STATE(S, h)     \
    S(exp_avg, 1, FL_ELEMENTWISE) \
    S(exp_inf, 1, FL_ELEMENTWISE)
#define FL_ADAMAX_HYPER_OK(h) 1
#else

typedef struct {
    REAL lerp_coeff, beta2, eps, weight_decay, neg_clr; /* -lr / (1 - beta1^step) */
    int lerp_small; /* exp_avg.lerp_(g, 1 - beta1), split by lerp_split */
    int maximize, decay;
} FL_NAME(adamax_scalars);

/* step: the 1-based step count after increment (the bias correction uses it). */
FL_INLINE FL_NAME(adamax_scalars) FL_NAME(adamax_scalars_of)(const fl_adamax_hyper *h,
                                                             double step) {
    FL_NAME(adamax_scalars) k;
    const double clr = h->lr / (1 - pow(h->beta1, step));
    k.lerp_small = FL_NAME(lerp_split)((REAL)(1 - h->beta1), &k.lerp_coeff);
    k.beta2 = (REAL)h->beta2;
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.neg_clr = (REAL)-clr; /* torch: addcdiv_(value=-clr) */
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    return k;
}

/* FLAGS: MAX, WD. */
FL_INLINE REAL FL_NAME(adamax_rule)(REAL x, REAL g, REAL *exp_avg, REAL *exp_inf,
                                    const FL_NAME(adamax_scalars) *k, const int MAX,
                                    const int WD) {
    REAL d = MAX ? -g : g;
    if (WD) d = FL_NAME(muladd)(k->weight_decay, x, d);
    REAL m = FL_NAME(lerp)(*exp_avg, d, k->lerp_coeff, k->lerp_small);
    *exp_avg = m;
    /* torch.maximum(exp_inf * beta2, |g| + eps), NaN-propagating. |d| as a select (no
     * fabs/fabsf per dtype): it keeps -0's sign, but -0 + eps == +0 + eps for eps >= 0 */
    REAL u = FL_NAME(nan_max)(*exp_inf * k->beta2, (d < 0 ? -d : d) + k->eps);
    *exp_inf = u;
    return x + (k->neg_clr * m) / u;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(adamax_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                    REAL *FL_RESTRICT m, REAL *FL_RESTRICT u,
                                    const FL_NAME(adamax_scalars) *k, const int MAX,
                                    const int WD) {
    const FL_NAME(adamax_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adamax_rule)(p[i], g[i], &m[i], &u[i], &s, MAX, WD);
}

#define FL_ADAMAX_LOOP(MAX, WD, _) FL_NAME(adamax_loop)(n, p, g, m, u, k, MAX, WD)

static FL_HOT void FL_NAME(adamax_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *u,
                                       const FL_NAME(adamax_scalars) *k) {
    FL_BY_2_FLAGS(FL_ADAMAX_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(adamax_kernel)(const fl_adamax_hyper *h, const fl_update_call *c) {
    const FL_NAME(adamax_scalars) k = FL_NAME(adamax_scalars_of)(h, c->step);
    REAL *p = c->param, *m = c->state[0], *u = c->state[1];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adamax_run)(hi - lo, p + lo, g + lo, m + lo, u + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== RAdam ------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* `decoupled`: param *= 1 - lr * weight_decay first, no L2 term in the gradient (torch's
 * decoupled_weight_decay). state: {exp_avg, exp_avg_sq}, both always read. */
#define FL_RADAM_FIELDS(F, S) \
    F(S, double, lr) F(S, double, beta1) F(S, double, beta2) \
    F(S, double, eps) F(S, double, weight_decay) F(S, int, decoupled) \
    F(S, int, maximize)
#define FL_RADAM_STATE(S, h)         \
    S(exp_avg, 1, FL_ELEMENTWISE)    \
    S(exp_avg_sq, 1, FL_ELEMENTWISE)
#define FL_RADAM_HYPER_OK(h) 1
#else

typedef struct {
    REAL lerp_coeff, beta2, one_m_beta2, bc1, lr, bc2_sqrt, rect, eps, weight_decay, shrink;
    int lerp_small; /* exp_avg.lerp_(g, 1 - beta1), split by lerp_split */
    int maximize, decay; /* decay: 0 none, 1 L2, 2 decoupled */
    int rectified;       /* rho_t > 5: the adaptive, rectified step (else SGD with momentum) */
} FL_NAME(radam_scalars);

/* step: the 1-based step count after increment. rho_t and the rectification term are
 * torch's Python-float expressions, in the same order. */
FL_INLINE FL_NAME(radam_scalars) FL_NAME(radam_scalars_of)(const fl_radam_hyper *h,
                                                           double step) {
    FL_NAME(radam_scalars) k;
    const double beta2_t = pow(h->beta2, step);
    const double bias_correction1 = 1 - pow(h->beta1, step);
    const double bias_correction2 = 1 - beta2_t;
    const double rho_inf = 2 / (1 - h->beta2) - 1;
    const double rho_t = rho_inf - 2 * step * beta2_t / bias_correction2;
    k.rectified = rho_t > 5.0;
    k.rect = k.rectified ? (REAL)pow((rho_t - 4) * (rho_t - 2) * rho_inf /
                                         ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5)
                         : (REAL)0;
    k.lerp_small = FL_NAME(lerp_split)((REAL)(1 - h->beta1), &k.lerp_coeff);
    k.beta2 = (REAL)h->beta2;
    k.one_m_beta2 = (REAL)(1 - h->beta2);
    k.bc1 = (REAL)bias_correction1;
    k.lr = (REAL)h->lr;
    k.bc2_sqrt = (REAL)pow(bias_correction2, 0.5);
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.shrink = (REAL)(1 - h->lr * h->weight_decay);
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay == 0 ? 0 : (h->decoupled ? 2 : 1);
    return k;
}

/* FLAGS: MAX, DECAY (0, 1, 2 as the scalars' decay), RECT (the scalars' rectified). torch:
 * p.add_(exp_avg / bc1 * lr * (sqrt(bc2) / (sqrt(v) + eps)) * rect, alpha=-1), where a
 * Python float over a tensor is the tensor's reciprocal times the float. */
FL_INLINE REAL FL_NAME(radam_rule)(REAL x, REAL g, REAL *exp_avg, REAL *exp_avg_sq,
                                   const FL_NAME(radam_scalars) *k, const int MAX,
                                   const int DECAY, const int RECT) {
    FL_ADAM_MOMENTS(x, g, exp_avg, exp_avg_sq, k, MAX, DECAY);
    const REAL m = *exp_avg;
    const REAL v = *exp_avg_sq;
    REAL u = (m / k->bc1) * k->lr;
    if (RECT) u = (u * (((REAL)1 / (R_SQRT(v) + k->eps)) * k->bc2_sqrt)) * k->rect;
    return x - u;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(radam_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                   REAL *FL_RESTRICT m, REAL *FL_RESTRICT v,
                                   const FL_NAME(radam_scalars) *k, const int MAX,
                                   const int DECAY, const int RECT) {
    const FL_NAME(radam_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(radam_rule)(p[i], g[i], &m[i], &v[i], &s, MAX, DECAY, RECT);
}

#define FL_RADAM_LOOP(MAX, RECT, DECAY) FL_NAME(radam_loop)(n, p, g, m, v, k, MAX, DECAY, RECT)

static FL_HOT void FL_NAME(radam_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v,
                                      const FL_NAME(radam_scalars) *k) {
    if (k->decay == 0)
        FL_BY_2_FLAGS(FL_RADAM_LOOP, k->maximize, k->rectified, 0);
    else if (k->decay == 1)
        FL_BY_2_FLAGS(FL_RADAM_LOOP, k->maximize, k->rectified, 1);
    else
        FL_BY_2_FLAGS(FL_RADAM_LOOP, k->maximize, k->rectified, 2);
}

static void FL_NAME(radam_kernel)(const fl_radam_hyper *h, const fl_update_call *c) {
    const FL_NAME(radam_scalars) k = FL_NAME(radam_scalars_of)(h, c->step);
    REAL *p = c->param, *m = c->state[0], *v = c->state[1];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(radam_run)(hi - lo, p + lo, g + lo, m + lo, v + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Adadelta ---------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {square_avg, acc_delta}, both always read. */
#define FL_ADADELTA_FIELDS(F, S) \
    F(S, double, lr) F(S, double, rho) F(S, double, eps) \
    F(S, double, weight_decay) F(S, int, maximize)
#define FL_ADADELTA_STATE(S, h)      \
    S(square_avg, 1, FL_ELEMENTWISE) \
    S(acc_delta, 1, FL_ELEMENTWISE)
#define FL_ADADELTA_HYPER_OK(h) 1
#else

typedef struct {
    REAL neg_lr, rho, one_m_rho, eps, weight_decay;
    int maximize, decay;
} FL_NAME(adadelta_scalars);

FL_INLINE FL_NAME(adadelta_scalars) FL_NAME(adadelta_scalars_of)(const fl_adadelta_hyper *h) {
    FL_NAME(adadelta_scalars) k;
    k.neg_lr = (REAL)-h->lr;
    k.rho = (REAL)h->rho;
    k.one_m_rho = (REAL)(1 - h->rho);
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    return k;
}

/* FLAGS: MAX, WD. torch: delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g; its
 * add(alpha=) and addcmul as muladd. (torch's float32 sqrt is MKL's, within an ulp but not
 * always correctly rounded: float32 trajectories still differ by ~2e-7 relative.) */
FL_INLINE REAL FL_NAME(adadelta_rule)(REAL x, REAL g, REAL *square_avg, REAL *acc_delta,
                                      const FL_NAME(adadelta_scalars) *k, const int MAX,
                                      const int WD) {
    REAL d = MAX ? -g : g;
    if (WD) d = FL_NAME(muladd)(k->weight_decay, x, d);
    REAL s = FL_NAME(muladd)(k->one_m_rho * d, d, *square_avg * k->rho);
    *square_avg = s;
    REAL delta = (R_SQRT(*acc_delta + k->eps) / R_SQRT(s + k->eps)) * d;
    *acc_delta = FL_NAME(muladd)(k->one_m_rho * delta, delta, *acc_delta * k->rho);
    return FL_NAME(muladd)(k->neg_lr, delta, x);
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(adadelta_loop)(fl_index n, REAL *FL_RESTRICT p,
                                      const REAL *FL_RESTRICT g, REAL *FL_RESTRICT sq,
                                      REAL *FL_RESTRICT acc,
                                      const FL_NAME(adadelta_scalars) *k, const int MAX,
                                      const int WD) {
    const FL_NAME(adadelta_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(adadelta_rule)(p[i], g[i], &sq[i], &acc[i], &s, MAX, WD);
}

#define FL_ADADELTA_LOOP(MAX, WD, _) FL_NAME(adadelta_loop)(n, p, g, sq, acc, k, MAX, WD)

static FL_HOT void FL_NAME(adadelta_run)(fl_index n, REAL *p, const REAL *g, REAL *sq,
                                         REAL *acc, const FL_NAME(adadelta_scalars) *k) {
    FL_BY_2_FLAGS(FL_ADADELTA_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(adadelta_kernel)(const fl_adadelta_hyper *h, const fl_update_call *c) {
    const FL_NAME(adadelta_scalars) k = FL_NAME(adadelta_scalars_of)(h);
    REAL *p = c->param, *sq = c->state[0], *acc = c->state[1];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(adadelta_run)(hi - lo, p + lo, g + lo, sq + lo, acc + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Lion -------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {exp_avg}, always read. */
#define FL_LION_FIELDS(F, S) \
    F(S, double, lr) F(S, double, beta1) F(S, double, beta2) \
    F(S, double, weight_decay) F(S, int, maximize)
#define FL_LION_STATE(S, h) S(exp_avg, 1, FL_ELEMENTWISE)
#define FL_LION_HYPER_OK(h) 1
#else

typedef struct {
    REAL neg_lr, beta1, one_m_beta1, beta2, one_m_beta2, weight_decay;
    int maximize, decay;
} FL_NAME(lion_scalars);

FL_INLINE FL_NAME(lion_scalars) FL_NAME(lion_scalars_of)(const fl_lion_hyper *h) {
    FL_NAME(lion_scalars) k;
    k.neg_lr = (REAL)-h->lr;
    k.beta1 = (REAL)h->beta1;
    k.one_m_beta1 = (REAL)(1 - h->beta1);
    k.beta2 = (REAL)h->beta2;
    k.one_m_beta2 = (REAL)(1 - h->beta2);
    k.weight_decay = (REAL)h->weight_decay;
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    return k;
}

/* sign(c), NaN-propagating, zero kept (jnp.sign, torch.sign): a select, vectorizable. */
FL_INLINE REAL FL_NAME(sign)(REAL c) {
    return c > 0 ? (REAL)1 : (c < 0 ? (REAL)-1 : c);
}

/* FLAGS: MAX, WD. optax.lion: u = sign((1 - b1) g + b1 m) (+ wd p), p = p + (-lr) u,
 * m = (1 - b2) g + b2 m (tree_update_moment's order). */
FL_INLINE REAL FL_NAME(lion_rule)(REAL x, REAL g, REAL *exp_avg, const FL_NAME(lion_scalars) *k,
                                  const int MAX, const int WD) {
    REAL d = MAX ? -g : g;
    REAL m = *exp_avg;
    REAL u = FL_NAME(sign)(k->one_m_beta1 * d + k->beta1 * m);
    if (WD) u = u + k->weight_decay * x;
    *exp_avg = k->one_m_beta2 * d + k->beta2 * m;
    return x + k->neg_lr * u;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(lion_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                  REAL *FL_RESTRICT m, const FL_NAME(lion_scalars) *k,
                                  const int MAX, const int WD) {
    const FL_NAME(lion_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(lion_rule)(p[i], g[i], &m[i], &s, MAX, WD);
}

#define FL_LION_LOOP(MAX, WD, _) FL_NAME(lion_loop)(n, p, g, m, k, MAX, WD)

static FL_HOT void FL_NAME(lion_run)(fl_index n, REAL *p, const REAL *g, REAL *m,
                                     const FL_NAME(lion_scalars) *k) {
    FL_BY_2_FLAGS(FL_LION_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(lion_kernel)(const fl_lion_hyper *h, const fl_update_call *c) {
    const FL_NAME(lion_scalars) k = FL_NAME(lion_scalars_of)(h);
    REAL *p = c->param, *m = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(lion_run)(hi - lo, p + lo, g + lo, m + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== Rprop ------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {prev, step_size}, both always read (step_size starts at lr). etaminus < 1 <
 * etaplus, as torch requires (its sign masks rely on it), and step_size_min <=
 * step_size_max. */
#define FL_RPROP_FIELDS(F, S) \
    F(S, double, etaminus) F(S, double, etaplus) \
    F(S, double, step_size_min) F(S, double, step_size_max) F(S, int, maximize)
#define FL_RPROP_STATE(S, h)        \
    S(prev, 1, FL_ELEMENTWISE)      \
    S(step_size, 1, FL_ELEMENTWISE)
#define FL_RPROP_HYPER_OK(h)                                                   \
    ((h)->etaminus > 0 && (h)->etaminus < 1 && (h)->etaplus > 1 &&             \
     (h)->step_size_min <= (h)->step_size_max)
#else

typedef struct {
    REAL etaminus, etaplus, step_size_min, step_size_max;
    int maximize;
} FL_NAME(rprop_scalars);

FL_INLINE FL_NAME(rprop_scalars) FL_NAME(rprop_scalars_of)(const fl_rprop_hyper *h) {
    FL_NAME(rprop_scalars) k;
    k.etaminus = (REAL)h->etaminus;
    k.etaplus = (REAL)h->etaplus;
    k.step_size_min = (REAL)h->step_size_min;
    k.step_size_max = (REAL)h->step_size_max;
    k.maximize = h->maximize != 0;
    return k;
}

/* FLAGS: MAX. torch: f = sign(g * prev) mapped >0 -> etaplus, <0 -> etaminus, 0 -> 1 (NaN
 * stays NaN); step_size = clamp(step_size * f, min, max) (NaN propagates); g = 0 where
 * f == etaminus; p = p + (-1 * sign(g)) * step_size; prev = g. */
FL_INLINE REAL FL_NAME(rprop_rule)(REAL x, REAL g, REAL *prev, REAL *step_size,
                                   const FL_NAME(rprop_scalars) *k, const int MAX) {
    REAL d = MAX ? -g : g;
    const REAL c = d * *prev;
    /* flat selects (vectorizable); a NaN c fails every comparison and stays */
    REAL f = c > 0 ? k->etaplus : (REAL)1;
    f = c < 0 ? k->etaminus : f;
    f = c != c ? c : f;
    REAL s = *step_size * f;
    /* torch.clamp_(min, max): a NaN fails both comparisons and propagates */
    s = s < k->step_size_min ? k->step_size_min : s;
    s = s > k->step_size_max ? k->step_size_max : s;
    *step_size = s;
    /* f == etaminus exactly where c < 0 (etaminus < 1 < etaplus: the cross check) */
    d = c < 0 ? (REAL)0 : d;
    *prev = d;
    return x + ((REAL)-1 * FL_NAME(sign)(d)) * s;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(rprop_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                   REAL *FL_RESTRICT prev, REAL *FL_RESTRICT step_size,
                                   const FL_NAME(rprop_scalars) *k, const int MAX) {
    const FL_NAME(rprop_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(rprop_rule)(p[i], g[i], &prev[i], &step_size[i], &s, MAX);
}

static FL_HOT void FL_NAME(rprop_run)(fl_index n, REAL *p, const REAL *g, REAL *prev,
                                      REAL *step_size, const FL_NAME(rprop_scalars) *k) {
    if (k->maximize)
        FL_NAME(rprop_loop)(n, p, g, prev, step_size, k, 1);
    else
        FL_NAME(rprop_loop)(n, p, g, prev, step_size, k, 0);
}

static void FL_NAME(rprop_kernel)(const fl_rprop_hyper *h, const fl_update_call *c) {
    const FL_NAME(rprop_scalars) k = FL_NAME(rprop_scalars_of)(h);
    REAL *p = c->param, *prev = c->state[0], *step_size = c->state[1];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(rprop_run)(hi - lo, p + lo, g + lo, prev + lo, step_size + lo, &k));
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== NAdam ------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* `decoupled`: param *= 1 - lr * weight_decay first, no L2 term in the gradient (torch's
 * decoupled_weight_decay). state: {exp_avg, exp_avg_sq, mu_product}, all always read;
 * mu_product is one element (torch: a 0-d tensor), the product of the momentum cache
 * mu over the steps so far, multiplied by this step's mu and written back by the kernel. */
#define FL_NADAM_FIELDS(F, S) \
    F(S, double, lr) F(S, double, beta1) F(S, double, beta2) \
    F(S, double, eps) F(S, double, weight_decay) F(S, double, momentum_decay) \
    F(S, int, decoupled) F(S, int, maximize)
#define FL_NADAM_STATE(S, h)         \
    S(exp_avg, 1, FL_ELEMENTWISE)    \
    S(exp_avg_sq, 1, FL_ELEMENTWISE) \
    S(mu_product, 1, FL_SCALAR)
#define FL_NADAM_HYPER_OK(h) 1
#else

typedef struct {
    REAL lerp_coeff, beta2, one_m_beta2, bc2, eps, weight_decay, shrink;
    REAL grad_coeff, avg_coeff; /* torch's two addcdiv values */
    REAL mu_product;            /* after this step: what the kernel writes back */
    int lerp_small;             /* exp_avg.lerp_(g, 1 - beta1), split by lerp_split */
    int maximize, decay;        /* decay: 0 none, 1 L2, 2 decoupled */
} FL_NAME(nadam_scalars);

/* step: the 1-based step count after increment; mu_product: the state's value before the
 * step (in the arrays' dtype, as torch keeps it in its default dtype). torch:
 *   mu = beta1 (1 - 0.5 * 0.96^(step momentum_decay)), mu_next likewise at step + 1,
 *   mu_product *= mu (in the state's dtype),
 *   p += (-lr (1 - mu) / (1 - mu_product)) g / denom
 *   p += (-lr mu_next / (1 - mu_product mu_next)) exp_avg / denom   (Python floats) */
FL_INLINE FL_NAME(nadam_scalars) FL_NAME(nadam_scalars_of)(const fl_nadam_hyper *h, double step,
                                                           REAL mu_product) {
    FL_NAME(nadam_scalars) k;
    const double mu = h->beta1 * (1.0 - 0.5 * pow(0.96, step * h->momentum_decay));
    const double mu_next = h->beta1 * (1.0 - 0.5 * pow(0.96, (step + 1) * h->momentum_decay));
    k.mu_product = mu_product * (REAL)mu;
    const double mu_product_next = (double)k.mu_product * mu_next;
    k.grad_coeff = (REAL)(-h->lr * (1.0 - mu) / (1.0 - (double)k.mu_product));
    k.avg_coeff = (REAL)((-h->lr * mu_next) / (1.0 - mu_product_next));
    k.lerp_small = FL_NAME(lerp_split)((REAL)(1 - h->beta1), &k.lerp_coeff);
    k.beta2 = (REAL)h->beta2;
    k.one_m_beta2 = (REAL)(1 - h->beta2);
    k.bc2 = (REAL)(1 - pow(h->beta2, step));
    k.eps = (REAL)h->eps;
    k.weight_decay = (REAL)h->weight_decay;
    k.shrink = (REAL)(1 - h->lr * h->weight_decay);
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay == 0 ? 0 : (h->decoupled ? 2 : 1);
    return k;
}

/* FLAGS: MAX, DECAY (0, 1, 2 as the scalars' decay). */
FL_INLINE REAL FL_NAME(nadam_rule)(REAL x, REAL g, REAL *exp_avg, REAL *exp_avg_sq,
                                   const FL_NAME(nadam_scalars) *k, const int MAX,
                                   const int DECAY) {
    const REAL d = FL_ADAM_MOMENTS(x, g, exp_avg, exp_avg_sq, k, MAX, DECAY);
    const REAL m = *exp_avg;
    const REAL v = *exp_avg_sq;
    REAL denom = R_SQRT(v / k->bc2) + k->eps;
    x = x + (k->grad_coeff * d) / denom;
    return x + (k->avg_coeff * m) / denom;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(nadam_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                   REAL *FL_RESTRICT m, REAL *FL_RESTRICT v,
                                   const FL_NAME(nadam_scalars) *k, const int MAX,
                                   const int DECAY) {
    const FL_NAME(nadam_scalars) s = *k;
    FL_SIMD
    for (fl_index i = 0; i < n; i++)
        p[i] = FL_NAME(nadam_rule)(p[i], g[i], &m[i], &v[i], &s, MAX, DECAY);
}

/* DECAY over its three values, then MAX (the loops' two compile-time flags) */
#define FL_NADAM_LOOP(MAX, DECAY) FL_NAME(nadam_loop)(n, p, g, m, v, k, MAX, DECAY)
#define FL_NADAM_BY_DECAY(MAX)                       \
    do {                                             \
        if (k->decay == 0) FL_NADAM_LOOP(MAX, 0);    \
        else if (k->decay == 1) FL_NADAM_LOOP(MAX, 1); \
        else FL_NADAM_LOOP(MAX, 2);                  \
    } while (0)

static FL_HOT void FL_NAME(nadam_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v,
                                      const FL_NAME(nadam_scalars) *k) {
    if (k->maximize)
        FL_NADAM_BY_DECAY(1);
    else
        FL_NADAM_BY_DECAY(0);
}

static void FL_NAME(nadam_kernel)(const fl_nadam_hyper *h, const fl_update_call *c) {
    REAL *mu_product = c->state[2];
    const FL_NAME(nadam_scalars) k = FL_NAME(nadam_scalars_of)(h, c->step, *mu_product);
    REAL *p = c->param, *m = c->state[0], *v = c->state[1];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(nadam_run)(hi - lo, p + lo, g + lo, m + lo, v + lo, &k));
    *mu_product = k.mu_product;
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

/* ==== ASGD -------------------------------------------------------------------------- */

#ifdef FL_UPDATE_LIST_ONLY
/* state: {ax, mu, eta}, all always read; mu and eta are one element each (torch: 0-d
 * tensors): the step uses them as they are, then the kernel writes the next step's. */
#define FL_ASGD_FIELDS(F, S) \
    F(S, double, lr) F(S, double, lambd) F(S, double, alpha) F(S, double, t0) \
    F(S, double, weight_decay) F(S, int, maximize)
#define FL_ASGD_STATE(S, h)     \
    S(ax, 1, FL_ELEMENTWISE)    \
    S(mu, 1, FL_SCALAR)         \
    S(eta, 1, FL_SCALAR)
#define FL_ASGD_HYPER_OK(h) 1
#else

typedef struct {
    REAL shrink, neg_eta, mu, weight_decay; /* 1 - lambd eta, -eta */
    REAL next_eta, next_mu;                 /* what the kernel writes back */
    int maximize, decay, average;           /* average: mu != 1 (else ax = p) */
} FL_NAME(asgd_scalars);

/* step: the 1-based step count after increment; eta, mu: the state's values before the
 * step. torch: p *= 1 - lambd eta; p += -eta g; ax += (p - ax) mu if mu != 1 else ax = p;
 * then eta = lr / (1 + lambd lr step)^alpha, mu = 1 / max(1, step - t0) (Python floats,
 * stored in the state's dtype). */
FL_INLINE FL_NAME(asgd_scalars) FL_NAME(asgd_scalars_of)(const fl_asgd_hyper *h, double step,
                                                         REAL eta, REAL mu) {
    FL_NAME(asgd_scalars) k;
    const double eta_value = (double)eta;
    const double since = step - h->t0;
    k.shrink = (REAL)(1 - h->lambd * eta_value);
    k.neg_eta = (REAL)-eta_value;
    k.mu = mu;
    k.average = mu != 1;
    k.weight_decay = (REAL)h->weight_decay;
    k.next_eta = (REAL)(h->lr / pow(1 + h->lambd * h->lr * step, h->alpha));
    k.next_mu = (REAL)(1 / (since > 1 ? since : 1.0));
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    return k;
}

/* FLAGS: MAX, WD, AVG (the scalars' average). Returns the new parameter; ax through the
 * pointer. */
FL_INLINE REAL FL_NAME(asgd_rule)(REAL x, REAL g, REAL *ax, const FL_NAME(asgd_scalars) *k,
                                  const int MAX, const int WD, const int AVG) {
    REAL d = MAX ? -g : g;
    if (WD) d = FL_NAME(muladd)(k->weight_decay, x, d);
    x = x * k->shrink;
    x = FL_NAME(muladd)(k->neg_eta, d, x);
    *ax = AVG ? *ax + (x - *ax) * k->mu : x;
    return x;
}

#ifdef FL_UPDATE_LOOPS

FL_INLINE void FL_NAME(asgd_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                  REAL *FL_RESTRICT ax, const FL_NAME(asgd_scalars) *k,
                                  const int MAX, const int WD, const int AVG) {
    const FL_NAME(asgd_scalars) s = *k;
    if (AVG) {
        FL_SIMD
        for (fl_index i = 0; i < n; i++)
            p[i] = FL_NAME(asgd_rule)(p[i], g[i], &ax[i], &s, MAX, WD, AVG);
        return;
    }
    /* ax = p: ax is written, not read, and its lines are hinted ahead a line's worth of
     * elements at a time (an omp simd loop would drop the hint; docs/kernels.md) */
    const fl_index line = 64 / (fl_index)sizeof(REAL);
    for (fl_index lo = 0; lo < n; lo += line) {
        FL_HINT_WRITE(ax + lo, FL_WRITE_AHEAD);
        const fl_index hi = n - lo < line ? n : lo + line;
        FL_SIMD
        for (fl_index i = lo; i < hi; i++)
            p[i] = FL_NAME(asgd_rule)(p[i], g[i], &ax[i], &s, MAX, WD, AVG);
    }
}

#define FL_ASGD_LOOP(MAX, WD, AVG) FL_NAME(asgd_loop)(n, p, g, ax, k, MAX, WD, AVG)

static FL_HOT void FL_NAME(asgd_run)(fl_index n, REAL *p, const REAL *g, REAL *ax,
                                     const FL_NAME(asgd_scalars) *k) {
    if (k->average)
        FL_BY_2_FLAGS(FL_ASGD_LOOP, k->maximize, k->decay, 1);
    else
        FL_BY_2_FLAGS(FL_ASGD_LOOP, k->maximize, k->decay, 0);
}

static void FL_NAME(asgd_kernel)(const fl_asgd_hyper *h, const fl_update_call *c) {
    REAL *mu = c->state[1], *eta = c->state[2];
    const FL_NAME(asgd_scalars) k = FL_NAME(asgd_scalars_of)(h, c->step, *eta, *mu);
    REAL *p = c->param, *ax = c->state[0];
    const REAL *g = c->grad;
    FL_FOR_CHUNKS(c->n, FL_OPTIM_THREADS(c->n, c->n_threads),
                  FL_NAME(asgd_run)(hi - lo, p + lo, g + lo, ax + lo, &k));
    *eta = k.next_eta;
    *mu = k.next_mu;
}

#endif /* FL_UPDATE_LOOPS */
#endif /* FL_UPDATE_LIST_ONLY */

#if defined(FL_UPDATE_LOOPS) && !defined(FL_UPDATE_LIST_ONLY)
#undef FL_BY_2_FLAGS
#undef FL_SGD_LOOP
#undef FL_ADAGRAD_LOOP
#undef FL_RMSPROP_LOOP
#undef FL_ADAM_LOOP
#undef FL_ADAMAX_LOOP
#undef FL_RADAM_LOOP
#undef FL_ADADELTA_LOOP
#undef FL_LION_LOOP
#undef FL_NADAM_LOOP
#undef FL_NADAM_BY_DECAY
#undef FL_ASGD_LOOP
#endif
