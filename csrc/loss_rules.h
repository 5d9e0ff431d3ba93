/* The elementwise losses: their list and their per-element rules.
 *
 * Per-element loss rules: the loss l and its derivative dl/dx of one element, for any kernel
 * family's template (the elementwise loss loops of losses_impl.h; the per-sample epochs can
 * take theirs from here too). A template, like the _impl.h files: include it once per dtype,
 * in a translation unit that defines
 *   REAL   the floating type (double | float)
 *   SFX    the name suffix (f64 | f32), used by FL_NAME
 *   R_EXP, R_LOG   exp and log of a REAL (fl_exp_log.h's FL_EXP64 / FL_LOG64, ...)
 * and has included fl_config.h (FL_INLINE, FL_NAME). losses.h includes this file with
 * FL_LOSS_LIST_ONLY defined, for the list alone (no REAL needed).
 *
 * Every rule is <stem>_elem2(x, y, a, p, &l, &g, &h): x the prediction, y the target, a the
 * element of the aux array (1 when there is none), p the loss's scalar parameter; it stores
 * the loss l, dl/dx in g and d2l/dx2 in h (0 where the loss is piecewise linear; a loss whose
 * Hessian is 0 almost everywhere offers no grad_hess in Python: the registry's `hessian`).
 * The rows of FL_ELEMENTWISE_LOSSES (below) name them by stem. A loop that does not store h
 * lets the compiler drop its arithmetic; <stem>_elem(x, y, a, p, &l, &g), generated at the
 * end of this file from each row, is the rule without h for the templates that need loss
 * and gradient only (linear_rules.h). The logistic loss of a linear model,
 * softplus(z) - y z, is bce_logits_elem with pos_weight a = 1.
 */

#ifndef FL_ELEMENTWISE_LOSSES
/* The elementwise losses l(x, y) of prediction x and target y, one row each:
 *   X(NAME, stem, reads_aux)
 * NAME gives the code FL_<NAME> (losses.h; the row's position: append new rows at the end,
 * the codes are the bindings' ABI), stem the rule <stem>_elem below and the name Python reads
 * (fl_elementwise_loss_names), reads_aux whether the loss reads the aux array. Each use of
 * the list generates one thing: the enum, the names, the kernels, the dispatch. */
#define FL_ELEMENTWISE_LOSSES(X)                                                            \
    X(MSE, mse, 0)                /* (x - y)^2                                        */    \
    X(L1, l1, 0)                  /* |x - y|                                          */    \
    X(HUBER, huber, 0)            /* param = delta                                    */    \
    X(SMOOTH_L1, smooth_l1, 0)    /* param = beta (> 0; beta == 0 is FL_L1)           */    \
    X(BCE, bce, 0)                /* x = probability, logs clamped at -100 (PyTorch)  */    \
    X(BCE_LOGITS, bce_logits, 1)  /* x = logit; aux = pos_weight (may be NULL)        */    \
    X(KL_DIV, kl_div, 0)          /* x = log-probability, y = probability             */    \
    X(KL_DIV_LOG, kl_div_log, 0)  /* x = log-probability, y = log-probability         */
#endif

#ifndef FL_LOSS_LIST_ONLY

/* log1p(v) for v in [-1, inf] from a vector log: u = 1 + v rounds, and the
 * first-order correction (v - (u - 1)) / u restores what the rounding lost.
 * libmvec's own log1p would need glibc 2.35. v = -1 gives -inf, NaN stays NaN. */
FL_INLINE REAL FL_NAME(log1p_fast)(REAL v) {
    REAL u = (REAL)1 + v;
    REAL r = R_LOG(u);
    REAL corr = (v - (u - (REAL)1)) / u;
    return (u == (REAL)1) ? v : ((u == (REAL)0) ? r : r + corr);
}

FL_INLINE void FL_NAME(mse_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a; (void)p;
    REAL d = x - y;
    *l = d * d;
    *g = (REAL)2 * d;
    *h = (REAL)2;
}

FL_INLINE void FL_NAME(l1_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a; (void)p;
    REAL d = x - y;
    *l = d < 0 ? -d : d;
    /* sign(d); +-0 and NaN pass through as themselves, like torch.sign */
    *g = d > 0 ? (REAL)1 : (d < 0 ? (REAL)-1 : d);
    /* 0 a.e. (NaN stays NaN); l1_loss offers no grad_hess (scikit-learn stores 1 for
     * its gradient boosting), smooth_l1_loss with beta = 0 returns this */
    *h = d - d;
}

FL_INLINE void FL_NAME(huber_elem2)(REAL x, REAL y, REAL a, REAL delta, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a;
    REAL d = x - y;
    REAL z = d < 0 ? -d : d;
    *l = z < delta ? (REAL)0.5 * d * d : delta * (z - (REAL)0.5 * delta);
    *g = d < -delta ? -delta : (d > delta ? delta : d);
    /* the derivative of the clipped gradient, 1 on the closed [-delta, delta] as
     * scikit-learn's HuberLoss; + d - d keeps NaN */
    *h = (z <= delta ? (REAL)1 : (REAL)0) + (d - d);
}

FL_INLINE void FL_NAME(smooth_l1_elem2)(REAL x, REAL y, REAL a, REAL beta, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a;
    REAL d = x - y;
    REAL z = d < 0 ? -d : d;
    /* times 1/beta (loop-invariant, hoisted) rather than two divisions per element: the
     * dividers were the bottleneck (smooth_l1 ran 15% slower than huber); differs from
     * torch's division by at most an ulp. beta == 0 never gets here (it is l1_loss). */
    const REAL inv_beta = (REAL)1 / beta;
    *l = z < beta ? (REAL)0.5 * d * d * inv_beta : z - (REAL)0.5 * beta;
    *g = d < -beta ? (REAL)-1 : (d > beta ? (REAL)1 : d * inv_beta);
    *h = (z <= beta ? inv_beta : (REAL)0) + (d - d); /* as huber's, on [-beta, beta] */
}

/* PyTorch: (y - 1) max(log1p(-p), -100) - y max(log p, -100);
 * dl/dp = (p - y) / max((1 - p) p, 1e-12). `v < c ? c : v` keeps NaN.
 * d2l/dp2 = y / p^2 + (1 - y) / (1 - p)^2 = (p^2 - 2 p y + y) / ((1 - p) p)^2, with the
 * gradient's clamp (PyTorch's double backward adds its 1e-12 to p and 1 - p instead: the
 * same to 1e-12 / min(p, 1 - p) relative). */
FL_INLINE void FL_NAME(bce_elem2)(REAL p, REAL y, REAL a, REAL unused, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a; (void)unused;
    REAL lp = R_LOG(p);
    REAL lq = FL_NAME(log1p_fast)(-p);
    lp = lp < (REAL)-100 ? (REAL)-100 : lp;
    lq = lq < (REAL)-100 ? (REAL)-100 : lq;
    *l = (y - (REAL)1) * lq - y * lp;
    REAL den = ((REAL)1 - p) * p;
    den = den < (REAL)1e-12 ? (REAL)1e-12 : den;
    const REAL inv = (REAL)1 / den;
    *g = (p - y) * inv;
    *h = (p * p - (REAL)2 * p * y + y) * (inv * inv);
}

/* With lw = 1 + (pos_weight - 1) y:
 *   l = (1 - y) x + lw softplus(-x),  softplus(-x) = max(-x, 0) + log1p(exp(-|x|))
 *   dl/dx = lw sigmoid(x) - pos_weight y = (1 - y) sigmoid(x) - pos_weight y sigmoid(-x)
 *   d2l/dx2 = lw sigmoid(x) sigmoid(-x)
 * The linear part (1 - y) x + lw max(-x, 0) is (1 - y) x for x >= 0 and -pos_weight y x
 * for x < 0, formed directly; the small log1p term is added last, so a small loss keeps
 * its digits (added to |x| first, it cancelled away). The gradient's two terms have
 * fixed signs for y in [0, 1]: no cancellation either. One exp per element; stable for
 * every finite x. */
FL_INLINE void FL_NAME(bce_logits_elem2)(REAL x, REAL y, REAL pw, REAL unused, REAL *l, REAL *g,
                                  REAL *h) {
    (void)unused;
    const REAL ax = x < 0 ? -x : x;
    const REAL e = R_EXP(-ax);
    const REAL lw = (REAL)1 + (pw - (REAL)1) * y;
    /* + (x - x): 0, or NaN at x = -inf, where PyTorch's form gives NaN too */
    const REAL linear = x >= 0 ? ((REAL)1 - y) * x : -(pw * y) * x + (x - x);
    *l = linear + lw * FL_NAME(log1p_fast)(e);
    const REAL inv = (REAL)1 / ((REAL)1 + e);
    const REAL sig_pos = x >= 0 ? inv : e * inv; /* sigmoid(x)  */
    const REAL sig_neg = x >= 0 ? e * inv : inv; /* sigmoid(-x) */
    *g = ((REAL)1 - y) * sig_pos - pw * y * sig_neg;
    *h = lw * sig_pos * sig_neg;
}

/* PyTorch: xlogy(y, y) - y x, with 0 log 0 = 0; dl/dx = -y; linear in x: d2l/dx2 = 0. */
FL_INLINE void FL_NAME(kl_div_elem2)(REAL x, REAL y, REAL a, REAL unused, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a; (void)unused;
    REAL ylogy = y * R_LOG(y);
    *l = (y == 0 ? (REAL)0 : ylogy) - y * x;
    *g = -y;
    *h = (REAL)0;
}

/* log_target: exp(y) (y - x); dl/dx = -exp(y); d2l/dx2 = 0. */
FL_INLINE void FL_NAME(kl_div_log_elem2)(REAL x, REAL y, REAL a, REAL unused, REAL *l, REAL *g,
                                  REAL *h) {
    (void)a; (void)unused;
    REAL ey = R_EXP(y);
    *l = ey * (y - x);
    *g = -ey;
    *h = (REAL)0;
}

/* <stem>_elem: loss and gradient of each row's rule, for the templates that need no
 * Hessian (linear_rules.h); the unused h costs nothing once inlined. */
#define FL_DEFINE_ELEM(NAME, stem, reads_aux)                                               \
    FL_INLINE void FL_NAME(stem##_elem)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g) { \
        REAL h;                                                                             \
        FL_NAME(stem##_elem2)(x, y, a, p, l, g, &h);                                        \
    }
FL_ELEMENTWISE_LOSSES(FL_DEFINE_ELEM)
#undef FL_DEFINE_ELEM

#endif /* FL_LOSS_LIST_ONLY */
