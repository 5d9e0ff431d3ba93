/* Optimizer update kernels for one floating type. Included twice by optim.c, with
 *   REAL = double | float,   SFX = f64 | f32,   R_SQRT = sqrt | sqrtf.
 *
 * Shape of each kernel: OPT_loop() is the single fused pass over [0, n) with the
 * options (maximize, weight decay, momentum, ...) as compile-time constants, so
 * every combination is its own branch-free loop; OPT_run() picks the instantiation
 * once per call (FL_HOT: one clone per ISA); OPT() computes the per-call scalars in
 * double and splits the array among threads.
 *
 * The expressions follow torch.optim's _single_tensor_* functions term by term
 * (add(alpha=a) is x + a*y, addcmul(value=v) is x + (v*y)*z, addcdiv(value=v) is
 * x + (v*y)/z, lerp as at::lerp), so the results agree with PyTorch and with
 * fastloss.reference.optim to rounding.
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

/* ---- SGD ------------------------------------------------------------------ */

FL_INLINE void FL_NAME(sgd_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                 REAL *FL_RESTRICT buf, REAL neg_lr, REAL mom, REAL keep,
                                 REAL wd, const int MAX, const int WD, const int MOM,
                                 const int NEST, const int FIRST) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) {
        REAL d = MAX ? -g[i] : g[i];
        if (WD) d = d + wd * p[i];
        if (MOM) {
            REAL b = FIRST ? d : buf[i] * mom + keep * d;
            buf[i] = b;
            d = NEST ? d + mom * b : b;
        }
        p[i] = p[i] + neg_lr * d;
    }
}

#define FL_SGD_CASE(MAX, WD, MOM, NEST, FIRST)                                              \
    case (MAX) | (WD) << 1 | (MOM) << 2 | (NEST) << 3 | (FIRST) << 4:                       \
        FL_NAME(sgd_loop)(n, p, g, buf, neg_lr, mom, keep, wd, MAX, WD, MOM, NEST, FIRST);  \
        return;
#define FL_SGD_CASES4(MOM, NEST, FIRST)                                                     \
    FL_SGD_CASE(0, 0, MOM, NEST, FIRST) FL_SGD_CASE(1, 0, MOM, NEST, FIRST)                 \
    FL_SGD_CASE(0, 1, MOM, NEST, FIRST) FL_SGD_CASE(1, 1, MOM, NEST, FIRST)

static FL_HOT void FL_NAME(sgd_run)(fl_index n, REAL *p, const REAL *g, REAL *buf,
                                    REAL neg_lr, REAL mom, REAL keep, REAL wd, int flags) {
    switch (flags) {
    FL_SGD_CASES4(0, 0, 0)
    FL_SGD_CASES4(1, 0, 0)
    FL_SGD_CASES4(1, 1, 0)
    FL_SGD_CASES4(1, 0, 1)
    FL_SGD_CASES4(1, 1, 1)
    default: return;
    }
}

static void FL_NAME(sgd)(fl_index n, REAL *p, const REAL *g, REAL *buf, double lr,
                         double momentum, double dampening, double weight_decay, int nesterov,
                         int maximize, int first_step, int n_threads) {
    const int mom = momentum != 0;
    const int flags = (maximize != 0) | (weight_decay != 0) << 1 | mom << 2 |
                      (mom && nesterov) << 3 | (mom && first_step) << 4;
    const REAL neg_lr = (REAL)-lr, m = (REAL)momentum, keep = (REAL)(1 - dampening);
    const REAL wd = (REAL)weight_decay;
    FL_FOR_CHUNKS(n, FL_OPTIM_THREADS(n, n_threads),
                  FL_NAME(sgd_run)(hi - lo, p + lo, g + lo, mom ? buf + lo : NULL, neg_lr, m,
                                   keep, wd, flags));
}

/* ---- Adagrad ---------------------------------------------------------------- */

FL_INLINE void FL_NAME(adagrad_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sum, REAL neg_clr, REAL wd, REAL eps,
                                     const int MAX, const int WD) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) {
        REAL d = MAX ? -g[i] : g[i];
        if (WD) d = d + wd * p[i];
        REAL s = sum[i] + d * d;
        sum[i] = s;
        p[i] = p[i] + (neg_clr * d) / (R_SQRT(s) + eps);
    }
}

static FL_HOT void FL_NAME(adagrad_run)(fl_index n, REAL *p, const REAL *g, REAL *sum,
                                        REAL neg_clr, REAL wd, REAL eps, int flags) {
    switch (flags) {
    case 0: FL_NAME(adagrad_loop)(n, p, g, sum, neg_clr, wd, eps, 0, 0); return;
    case 1: FL_NAME(adagrad_loop)(n, p, g, sum, neg_clr, wd, eps, 1, 0); return;
    case 2: FL_NAME(adagrad_loop)(n, p, g, sum, neg_clr, wd, eps, 0, 1); return;
    case 3: FL_NAME(adagrad_loop)(n, p, g, sum, neg_clr, wd, eps, 1, 1); return;
    default: return;
    }
}

static void FL_NAME(adagrad)(fl_index n, REAL *p, const REAL *g, REAL *sum, double step,
                             double lr, double lr_decay, double weight_decay, double eps,
                             int maximize, int n_threads) {
    const double clr = lr / (1 + (step - 1) * lr_decay);
    const int flags = (maximize != 0) | (weight_decay != 0) << 1;
    const REAL neg_clr = (REAL)-clr, wd = (REAL)weight_decay, e = (REAL)eps;
    FL_FOR_CHUNKS(n, FL_OPTIM_THREADS(n, n_threads),
                  FL_NAME(adagrad_run)(hi - lo, p + lo, g + lo, sum + lo, neg_clr, wd, e,
                                       flags));
}

/* ---- RMSprop ---------------------------------------------------------------- */

FL_INLINE void FL_NAME(rmsprop_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                     REAL *FL_RESTRICT sq, REAL *FL_RESTRICT ga,
                                     REAL *FL_RESTRICT buf, REAL neg_lr, REAL alpha,
                                     REAL one_m_alpha, REAL lerp_coeff, int lerp_small,
                                     REAL eps, REAL wd, REAL mom, const int MAX, const int WD,
                                     const int CEN, const int MOM) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) {
        REAL d = MAX ? -g[i] : g[i];
        if (WD) d = d + wd * p[i];
        REAL s = sq[i] * alpha + (one_m_alpha * d) * d;
        sq[i] = s;
        REAL avg;
        if (CEN) {
            REAL a = FL_NAME(lerp)(ga[i], d, lerp_coeff, lerp_small);
            ga[i] = a;
            avg = R_SQRT(s + ((REAL)-1 * a) * a);
        } else {
            avg = R_SQRT(s);
        }
        avg = avg + eps;
        if (MOM) {
            REAL b = buf[i] * mom + d / avg;
            buf[i] = b;
            p[i] = p[i] + neg_lr * b;
        } else {
            p[i] = p[i] + (neg_lr * d) / avg;
        }
    }
}

#define FL_RMSPROP_CASE(MAX, WD, CEN, MOM)                                                  \
    case (MAX) | (WD) << 1 | (CEN) << 2 | (MOM) << 3:                                       \
        FL_NAME(rmsprop_loop)(n, p, g, sq, ga, buf, neg_lr, alpha, one_m_alpha, lerp_coeff, \
                              lerp_small, eps, wd, mom, MAX, WD, CEN, MOM);                 \
        return;
#define FL_RMSPROP_CASES4(CEN, MOM)                                                         \
    FL_RMSPROP_CASE(0, 0, CEN, MOM) FL_RMSPROP_CASE(1, 0, CEN, MOM)                         \
    FL_RMSPROP_CASE(0, 1, CEN, MOM) FL_RMSPROP_CASE(1, 1, CEN, MOM)

static FL_HOT void FL_NAME(rmsprop_run)(fl_index n, REAL *p, const REAL *g, REAL *sq, REAL *ga,
                                        REAL *buf, REAL neg_lr, REAL alpha, REAL one_m_alpha,
                                        REAL lerp_coeff, int lerp_small, REAL eps, REAL wd,
                                        REAL mom, int flags) {
    switch (flags) {
    FL_RMSPROP_CASES4(0, 0)
    FL_RMSPROP_CASES4(1, 0)
    FL_RMSPROP_CASES4(0, 1)
    FL_RMSPROP_CASES4(1, 1)
    default: return;
    }
}

static void FL_NAME(rmsprop)(fl_index n, REAL *p, const REAL *g, REAL *sq, REAL *ga, REAL *buf,
                             double lr, double alpha, double eps, double weight_decay,
                             double momentum, int maximize, int n_threads) {
    const int cen = ga != NULL, mom = momentum > 0;
    const int flags = (maximize != 0) | (weight_decay != 0) << 1 | cen << 2 | mom << 3;
    /* grad_avg.lerp_(grad, 1 - alpha), the weight rounded to REAL as at::lerp does */
    const REAL w = (REAL)(1 - alpha);
    REAL lerp_coeff;
    const int lerp_small = FL_NAME(lerp_split)(w, &lerp_coeff);
    const REAL neg_lr = (REAL)-lr, a = (REAL)alpha, e = (REAL)eps, wd = (REAL)weight_decay;
    const REAL m = (REAL)momentum;
    FL_FOR_CHUNKS(n, FL_OPTIM_THREADS(n, n_threads),
                  FL_NAME(rmsprop_run)(hi - lo, p + lo, g + lo, sq + lo, cen ? ga + lo : NULL,
                                       mom ? buf + lo : NULL, neg_lr, a, w, lerp_coeff,
                                       lerp_small, e, wd, m, flags));
}

/* ---- Adam / AdamW ------------------------------------------------------------ */

/* DECAY: 0 none, 1 L2 (Adam: grad += wd * param), 2 decoupled (AdamW: param *= 1 - lr wd). */
FL_INLINE void FL_NAME(adam_loop)(fl_index n, REAL *FL_RESTRICT p, const REAL *FL_RESTRICT g,
                                  REAL *FL_RESTRICT m, REAL *FL_RESTRICT v,
                                  REAL *FL_RESTRICT vmax, REAL lerp_coeff, int lerp_small,
                                  REAL beta2, REAL one_m_beta2, REAL bc2_sqrt, REAL neg_step,
                                  REAL eps, REAL wd, REAL shrink, const int MAX,
                                  const int DECAY, const int AMS) {
    FL_SIMD
    for (fl_index i = 0; i < n; i++) {
        REAL x = p[i];
        if (DECAY == 2) x = x * shrink;
        REAL d = MAX ? -g[i] : g[i];
        if (DECAY == 1) d = d + wd * x;
        REAL mi = FL_NAME(lerp)(m[i], d, lerp_coeff, lerp_small);
        m[i] = mi;
        REAL vi = v[i] * beta2 + (one_m_beta2 * d) * d;
        v[i] = vi;
        if (AMS) {
            vi = FL_NAME(nan_max)(vmax[i], vi);
            vmax[i] = vi;
        }
        REAL denom = R_SQRT(vi) / bc2_sqrt + eps;
        p[i] = x + (neg_step * mi) / denom;
    }
}

#define FL_ADAM_CASE(MAX, DECAY, AMS)                                                       \
    case (MAX) | (AMS) << 1 | (DECAY) << 2:                                                 \
        FL_NAME(adam_loop)(n, p, g, m, v, vmax, lerp_coeff, lerp_small, beta2, one_m_beta2, \
                           bc2_sqrt, neg_step, eps, wd, shrink, MAX, DECAY, AMS);           \
        return;
#define FL_ADAM_CASES4(DECAY)                                                               \
    FL_ADAM_CASE(0, DECAY, 0) FL_ADAM_CASE(1, DECAY, 0)                                     \
    FL_ADAM_CASE(0, DECAY, 1) FL_ADAM_CASE(1, DECAY, 1)

static FL_HOT void FL_NAME(adam_run)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v,
                                     REAL *vmax, REAL lerp_coeff, int lerp_small, REAL beta2,
                                     REAL one_m_beta2, REAL bc2_sqrt, REAL neg_step, REAL eps,
                                     REAL wd, REAL shrink, int flags) {
    switch (flags) {
    FL_ADAM_CASES4(0)
    FL_ADAM_CASES4(1)
    FL_ADAM_CASES4(2)
    default: return;
    }
}

static void FL_NAME(adam)(fl_index n, REAL *p, const REAL *g, REAL *m, REAL *v, REAL *vmax,
                          double step, double lr, double beta1, double beta2, double eps,
                          double weight_decay, int decoupled, int maximize, int n_threads) {
    const int ams = vmax != NULL;
    /* AdamW's param *= 1 - lr * 0 would be an exact no-op: skip it */
    const int decay = weight_decay == 0 ? 0 : (decoupled ? 2 : 1);
    const int flags = (maximize != 0) | ams << 1 | decay << 2;
    const double bias_correction1 = 1 - pow(beta1, step);
    const double bias_correction2 = 1 - pow(beta2, step);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = pow(bias_correction2, 0.5); /* torch: bc2 ** 0.5 */
    /* exp_avg.lerp_(grad, 1 - beta1) */
    REAL lerp_coeff;
    const int lerp_small = FL_NAME(lerp_split)((REAL)(1 - beta1), &lerp_coeff);
    const REAL b2 = (REAL)beta2, one_m_b2 = (REAL)(1 - beta2);
    const REAL bc2s = (REAL)bias_correction2_sqrt, neg_step = (REAL)-step_size;
    const REAL e = (REAL)eps, wd = (REAL)weight_decay, shrink = (REAL)(1 - lr * weight_decay);
    FL_FOR_CHUNKS(n, FL_OPTIM_THREADS(n, n_threads),
                  FL_NAME(adam_run)(hi - lo, p + lo, g + lo, m + lo, v + lo,
                                    ams ? vmax + lo : NULL, lerp_coeff, lerp_small, b2,
                                    one_m_b2, bc2s, neg_step, e, wd, shrink, flags));
}

#undef FL_SGD_CASE
#undef FL_SGD_CASES4
#undef FL_RMSPROP_CASE
#undef FL_RMSPROP_CASES4
#undef FL_ADAM_CASE
#undef FL_ADAM_CASES4
