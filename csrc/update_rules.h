/* The update rules, one element at a time, for one floating type: the arithmetic every
 * loop over parameters shares (optim_impl.h's fused passes; the per-sample epochs).
 *
 * Included once per dtype by a template that defines
 *   REAL = double | float,   SFX = f64 | f32,   R_SQRT = sqrt | sqrtf
 * (names get the suffix through FL_NAME), after optim.h (the fl_*_hyper structs).
 *
 * For each rule:
 *   FL_NAME(<rule>_scalars)(const fl_<rule>_hyper *h, ...) -> <rule>_scalars_SFX: the
 *       per-call scalars, computed once in double and rounded to REAL (as PyTorch rounds
 *       Python-float hyper-parameters to the tensor's dtype), and the flags saying which
 *       terms apply;
 *   FL_NAME(<rule>_rule)(x, g, state pointers, &scalars, FLAGS...) -> the new parameter
 *       value, writing the element's state through the pointers. The FLAGS are the
 *       scalars' flags again, passed as compile-time constants so that each combination
 *       is its own branch-free (vectorizable) loop; a state pointer is read only when its
 *       flag is on (NULL otherwise).
 *
 * The expressions follow torch.optim's _single_tensor_* functions term by term
 * (add(alpha=a) is x + a*y, addcmul(value=v) is x + (v*y)*z, addcdiv(value=v) is
 * x + (v*y)/z, lerp as at::lerp), so the results agree with PyTorch and, compiled
 * without FMA contraction (-ffp-contract=off), with fastloss.reference.optim bit for bit
 * where the reference writes the same operations.
 */

/* at::lerp(start, end, w) with w's smallness decided once per call:
 *   |w| < 0.5: start + w (end - start),   else: end - (end - start)(1 - w),
 * written as base + coeff (end - start), the form of PyTorch's vectorized lerp. */
FL_INLINE REAL FL_NAME(lerp)(REAL start, REAL end, REAL coeff, int small) {
    return (small ? start : end) + coeff * (end - start);
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

/* ---- SGD ------------------------------------------------------------------------------ */

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
    if (WD) d = d + k->weight_decay * x;
    if (MOM) {
        REAL b = FIRST ? d : *buf * k->momentum + k->keep * d;
        *buf = b;
        d = NEST ? d + k->momentum * b : b;
    }
    return x + k->neg_lr * d;
}

/* ---- Adagrad ---------------------------------------------------------------------------- */

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

/* ---- RMSprop ---------------------------------------------------------------------------- */

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
    if (WD) d = d + k->weight_decay * x;
    REAL s = *square_avg * k->alpha + (k->one_m_alpha * d) * d;
    *square_avg = s;
    REAL avg;
    if (CEN) {
        REAL a = FL_NAME(lerp)(*grad_avg, d, k->lerp_coeff, k->lerp_small);
        *grad_avg = a;
        avg = R_SQRT(s + ((REAL)-1 * a) * a);
    } else {
        avg = R_SQRT(s);
    }
    avg = avg + k->eps;
    if (MOM) {
        REAL b = *buf * k->momentum + d / avg;
        *buf = b;
        return x + k->neg_lr * b;
    }
    return x + (k->neg_lr * d) / avg;
}

/* ---- Adam / AdamW ------------------------------------------------------------------------ */

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
    if (DECAY == 2) x = x * k->shrink;
    REAL d = MAX ? -g : g;
    if (DECAY == 1) d = d + k->weight_decay * x;
    REAL m = FL_NAME(lerp)(*exp_avg, d, k->lerp_coeff, k->lerp_small);
    *exp_avg = m;
    REAL v = *exp_avg_sq * k->beta2 + (k->one_m_beta2 * d) * d;
    *exp_avg_sq = v;
    if (AMS) {
        v = FL_NAME(nan_max)(*max_exp_avg_sq, v);
        *max_exp_avg_sq = v;
    }
    REAL denom = R_SQRT(v) / k->bc2_sqrt + k->eps;
    return x + (k->neg_step * m) / denom;
}
