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
 *
 * A row whose aux array is a second differentiated input (reads_aux 2: margin_ranking's
 * input2, gaussian_nll's var) has the rule <stem>_elem2a(x, y, a, p, &l, &g, &h, &ga, &ha),
 * which also stores dl/da in ga and d2l/da2 in ha; its aux array is always present. The
 * loops call <stem>_elem2a for every row (generated below for the others: ga = ha = 0, never
 * stored) and <stem>_elem2 is generated for the reads_aux 2 rows.
 */

#ifndef FL_ELEMENTWISE_LOSSES
/* The elementwise losses l(x, y) of prediction x and target y, one row each:
 *   X(NAME, stem, reads_aux)
 * NAME gives the code FL_<NAME> (losses.h; the row's position: append new rows at the end,
 * the codes are the bindings' ABI), stem the rule <stem>_elem below and the name Python reads
 * (fl_elementwise_loss_names), reads_aux whether the loss reads the aux array: 0 no, 1 yes
 * (it may be NULL: 1), 2 it is a second input the loss is differentiated by (never NULL; the
 * loops then also write its gradient and Hessian). Each use of the list generates one
 * thing: the enum, the names, the kernels, the dispatch. */
#define FL_ELEMENTWISE_LOSSES(X)                                                            \
    X(MSE, mse, 0)                /* (x - y)^2                                        */    \
    X(L1, l1, 0)                  /* |x - y|                                          */    \
    X(HUBER, huber, 0)            /* param = delta                                    */    \
    X(SMOOTH_L1, smooth_l1, 0)    /* param = beta (> 0; beta == 0 is FL_L1)           */    \
    X(BCE, bce, 0)                /* x = probability, logs clamped at -100 (PyTorch)  */    \
    X(BCE_LOGITS, bce_logits, 1)  /* x = logit; aux = pos_weight (may be NULL)        */    \
    X(KL_DIV, kl_div, 0)          /* x = log-probability, y = probability             */    \
    X(KL_DIV_LOG, kl_div_log, 0)  /* x = log-probability, y = log-probability         */    \
    X(SOFT_MARGIN, soft_margin, 0) /* log(1 + exp(-y x)), y = +-1                     */    \
    X(POISSON_LOG, poisson_log, 0) /* exp(x) - y x, x = log-rate                      */    \
    X(POISSON, poisson, 0)        /* x - y log(x + eps), param = eps                  */    \
    X(POISSON_LOG_FULL, poisson_log_full, 0) /* + Stirling's term of y (PyTorch's full) */  \
    X(POISSON_FULL, poisson_full, 0) /* + Stirling's term of y, param = eps            */   \
    X(HINGE_EMBEDDING, hinge_embedding, 0) /* param = margin                           */   \
    X(LOG_COSH, log_cosh, 0)      /* log cosh(x - y)                                  */    \
    X(HINGE, hinge, 0)            /* max(0, 1 - y x), y = +-1 (scikit-learn's SGD)    */    \
    X(SQUARED_HINGE, squared_hinge, 0) /* max(0, 1 - y x)^2                            */   \
    X(MODIFIED_HUBER, modified_huber, 0) /* scikit-learn's SGD, y = +-1                */   \
    X(EPSILON_INSENSITIVE, epsilon_insensitive, 0) /* max(0, |x - y| - eps), p = eps   */   \
    X(PINBALL, pinball, 0)        /* quantile loss, param = quantile                  */    \
    X(GAMMA_LOG, gamma_log, 0)    /* x + y exp(-x), x = log-mean (scikit-learn half)  */    \
    X(GAMMA, gamma, 0)            /* log x + y / x, x = mean                          */    \
    X(TWEEDIE_LOG, tweedie_log, 0) /* scikit-learn's HalfTweedieLoss, param = power   */    \
    X(TWEEDIE, tweedie, 0)        /* the same of the mean x, param = power            */    \
    X(MARGIN_RANKING, margin_ranking, 2) /* max(0, -y (x - a) + margin), a = input2    */   \
    X(GAUSSIAN_NLL, gaussian_nll, 2) /* (log v + (x - y)^2 / v) / 2, v = max(a, eps)    */   \
    X(SIGMOID_FOCAL, sigmoid_focal, 0) /* bce_logits (1 - p_t)^gamma, param = gamma     */
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

/* 0, or NaN when v is NaN or infinite: added to a derivative chosen by a comparison of v
 * (which a NaN fails), it keeps "NaN in, NaN out". */
FL_INLINE REAL FL_NAME(nan_of)(REAL v) { return v - v; }

/* softplus(m), m = -y x: max(m, 0) + log1p(exp(-|m|)); dl/dx = -y sigmoid(m);
 * d2l/dx2 = y^2 sigmoid(m) sigmoid(-m). PyTorch's soft_margin_loss. */
FL_INLINE void FL_NAME(soft_margin_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                          REAL *h) {
    (void)a; (void)p;
    const REAL m = -y * x, am = m < 0 ? -m : m;
    const REAL e = R_EXP(-am), inv = (REAL)1 / ((REAL)1 + e);
    /* + (m - m): 0, or NaN at m = +-inf as the log-sum-exp form gives */
    *l = (m > 0 ? m : (REAL)0) + FL_NAME(log1p_fast)(e);
    *g = -y * (m >= 0 ? inv : e * inv);
    *h = y * y * (e * inv * inv);
}

/* PyTorch's poisson_nll_loss, log_input: exp(x) - y x; dl/dx = exp(x) - y; d2 = exp(x)
 * (scikit-learn's HalfPoissonLoss). */
FL_INLINE void FL_NAME(poisson_log_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                          REAL *h) {
    (void)a; (void)p;
    const REAL ex = R_EXP(x);
    *l = ex - y * x;
    *g = ex - y;
    *h = ex;
}

/* log_input=False: x - y log(x + eps); dl/dx = 1 - y / (x + eps); d2 = y / (x + eps)^2. */
FL_INLINE void FL_NAME(poisson_elem2)(REAL x, REAL y, REAL a, REAL eps, REAL *l, REAL *g,
                                      REAL *h) {
    (void)a;
    const REAL u = x + eps, inv = (REAL)1 / u;
    *l = x - y * R_LOG(u);
    *g = (REAL)1 - y * inv;
    *h = y * (inv * inv);
}

/* PyTorch's full=True term, y log y - y + log(2 pi y) / 2 where y > 1, 0 elsewhere (NaN
 * stays NaN): Stirling's approximation of log(y!). It does not depend on x. */
FL_INLINE REAL FL_NAME(stirling)(REAL y) {
    const REAL t = y * R_LOG(y) - y + (REAL)0.5 * R_LOG((REAL)6.283185307179586 * y);
    return y > 1 ? t : FL_NAME(nan_of)(y) * 0;
}

FL_INLINE void FL_NAME(poisson_log_full_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l,
                                               REAL *g, REAL *h) {
    FL_NAME(poisson_log_elem2)(x, y, a, p, l, g, h);
    *l += FL_NAME(stirling)(y);
}

FL_INLINE void FL_NAME(poisson_full_elem2)(REAL x, REAL y, REAL a, REAL eps, REAL *l, REAL *g,
                                           REAL *h) {
    FL_NAME(poisson_elem2)(x, y, a, eps, l, g, h);
    *l += FL_NAME(stirling)(y);
}

/* PyTorch's hinge_embedding_loss: (y != 1) max(0, margin - x) + (y != -1) x (a target of
 * neither sign takes both terms, as in PyTorch); dl/dx = (y != -1) - (y != 1)
 * [margin - x >= 0] (clamp_min's gradient passes at 0). Piecewise linear: no Hessian. A NaN
 * target gives NaN (PyTorch's masks would take both terms). */
FL_INLINE void FL_NAME(hinge_embedding_elem2)(REAL x, REAL y, REAL a, REAL margin, REAL *l,
                                              REAL *g, REAL *h) {
    (void)a;
    const REAL r = margin - x, nan = FL_NAME(nan_of)(y);
    const REAL hinge = r < 0 ? (REAL)0 : r; /* NaN stays NaN */
    *l = (y != 1 ? hinge : (REAL)0) + (y != -1 ? x : (REAL)0) + nan;
    *g = (y != -1 ? (REAL)1 : (REAL)0) - (y != 1 && r >= 0 ? (REAL)1 : (REAL)0)
         + FL_NAME(nan_of)(r) + nan;
    *h = (REAL)0 + FL_NAME(nan_of)(r) + nan;
}

/* log cosh(d), d = x - y, as |d| + log1p(exp(-2 |d|)) - log 2 (no overflow);
 * dl/dx = tanh(d) = sign(d) (1 - e) / (1 + e), e = exp(-2 |d|);
 * d2l/dx2 = 1 - tanh(d)^2 = 4 e / (1 + e)^2 (no cancellation for large |d|).
 * Below |d| = 1/32, where 1 - e and the loss's sum cancel, their Taylor series
 * (to d^7 and d^8: truncated below 1e-14 relative). */
FL_INLINE void FL_NAME(log_cosh_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                       REAL *h) {
    (void)a; (void)p;
    const REAL d = x - y, ad = d < 0 ? -d : d, d2 = d * d;
    const REAL e = R_EXP((REAL)-2 * ad), inv = (REAL)1 / ((REAL)1 + e);
    const int small = ad < (REAL)0.03125;
    const REAL series_l = d2 * ((REAL)0.5 - d2 * ((REAL)1 / 12 - d2 * ((REAL)1 / 45
                                                  - d2 * ((REAL)17 / 2520))));
    const REAL series_t = ad * ((REAL)1 - d2 * ((REAL)1 / 3 - d2 * ((REAL)2 / 15
                                                - d2 * ((REAL)17 / 315))));
    *l = small ? series_l : (ad - (REAL)0.6931471805599453) + FL_NAME(log1p_fast)(e);
    const REAL t = small ? series_t : ((REAL)1 - e) * inv;
    *g = d < 0 ? -t : t;
    *h = (REAL)4 * e * (inv * inv);
}

/* scikit-learn's SGD Hinge(1): z = y x; l = max(0, 1 - z), dl/dx = -y where z <= 1
 * (the kink included), 0 elsewhere. Piecewise linear: no Hessian. */
FL_INLINE void FL_NAME(hinge_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                    REAL *h) {
    (void)a; (void)p;
    const REAL z = y * x, nan = FL_NAME(nan_of)(z);
    *l = (z <= 1 ? (REAL)1 - z : (REAL)0) + nan;
    *g = (z <= 1 ? -y : (REAL)0) + nan;
    *h = nan;
}

/* scikit-learn's SGD SquaredHinge(1): r = 1 - y x; l = r^2 where r > 0; dl/dx = -2 y r;
 * d2l/dx2 = 2 y^2 where r > 0, 0 elsewhere (the kink r = 0 included: its one-sided
 * second derivatives are 2 y^2 and 0). */
FL_INLINE void FL_NAME(squared_hinge_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                            REAL *h) {
    (void)a; (void)p;
    const REAL r = (REAL)1 - y * x, nan = FL_NAME(nan_of)(r);
    const int on = r > 0;
    *l = (on ? r * r : (REAL)0) + nan;
    *g = (on ? (REAL)-2 * y * r : (REAL)0) + nan;
    *h = (on ? (REAL)2 * y * y : (REAL)0) + nan;
}

/* scikit-learn's SGD ModifiedHuber: z = y x; l = 0 (z >= 1), (1 - z)^2 (-1 <= z < 1),
 * -4 z (z < -1); dl/dx = 0, -2 y (1 - z), -4 y; d2l/dx2 = 2 y^2 on [-1, 1), 0 elsewhere. */
FL_INLINE void FL_NAME(modified_huber_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l,
                                             REAL *g, REAL *h) {
    (void)a; (void)p;
    const REAL z = y * x, r = (REAL)1 - z, nan = FL_NAME(nan_of)(z);
    const int quadratic = z >= -1;
    *l = (z >= 1 ? (REAL)0 : (quadratic ? r * r : (REAL)-4 * z)) + nan;
    *g = (z >= 1 ? (REAL)0 : (quadratic ? (REAL)-2 * y * r : (REAL)-4 * y)) + nan;
    *h = (z < 1 && quadratic ? (REAL)2 * y * y : (REAL)0) + nan;
}

/* scikit-learn's SGD EpsilonInsensitive(epsilon): l = max(0, |x - y| - epsilon);
 * dl/dx = sign(x - y) outside the tube |x - y| <= epsilon, 0 inside. No Hessian. */
FL_INLINE void FL_NAME(epsilon_insensitive_elem2)(REAL x, REAL y, REAL a, REAL eps, REAL *l,
                                                  REAL *g, REAL *h) {
    (void)a;
    const REAL d = x - y, ad = d < 0 ? -d : d, nan = FL_NAME(nan_of)(d);
    const REAL r = ad - eps;
    *l = (r > 0 ? r : (REAL)0) + nan;
    *g = (d > eps ? (REAL)1 : (d < -eps ? (REAL)-1 : (REAL)0)) + nan;
    *h = nan;
}

/* scikit-learn's PinballLoss(quantile q): with d = y - x, l = q d (d >= 0), (q - 1) d
 * (d < 0); dl/dx = -q (y >= x), 1 - q (y < x). No Hessian (scikit-learn stores 1). */
FL_INLINE void FL_NAME(pinball_elem2)(REAL x, REAL y, REAL a, REAL q, REAL *l, REAL *g,
                                      REAL *h) {
    (void)a;
    const REAL d = y - x, nan = FL_NAME(nan_of)(d);
    *l = (d >= 0 ? q * d : (q - (REAL)1) * d) + nan;
    *g = (d >= 0 ? -q : (REAL)1 - q) + nan;
    *h = nan;
}

/* scikit-learn's HalfGammaLoss on the log link (constant terms dropped): x + y exp(-x);
 * dl/dx = 1 - y exp(-x); d2l/dx2 = y exp(-x). */
FL_INLINE void FL_NAME(gamma_log_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                        REAL *h) {
    (void)a; (void)p;
    const REAL t = y * R_EXP(-x);
    *l = x + t;
    *g = (REAL)1 - t;
    *h = t;
}

/* The same of the mean mu = x (identity link): log mu + y / mu; dl/dmu = (1 - y / mu) / mu;
 * d2l/dmu2 = (2 y / mu - 1) / mu^2. */
FL_INLINE void FL_NAME(gamma_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,
                                    REAL *h) {
    (void)a; (void)p;
    const REAL inv = (REAL)1 / x, t = y * inv;
    *l = R_LOG(x) + t;
    *g = ((REAL)1 - t) * inv;
    *h = ((REAL)2 * t - (REAL)1) * (inv * inv);
}

/* scikit-learn's HalfTweedieLoss(power) on the log link, constant terms dropped: with
 * e1 = exp((1 - p) x), e2 = exp((2 - p) x),
 *   l = e2 / (2 - p) - y e1 / (1 - p),  dl/dx = e2 - y e1,  d2l/dx2 = (2 - p) e2 - (1 - p) y e1
 * for p other than 1 and 2, whose losses are poisson_log's and gamma_log's (the caller runs
 * those rules: a select between the three forms here kept gcc from vectorizing the loop,
 * 8x slower). The quotients are products with loop-invariant reciprocals (hoisted), within
 * an ulp of scikit-learn's. */
FL_INLINE void FL_NAME(tweedie_log_elem2)(REAL x, REAL y, REAL a, REAL power, REAL *l,
                                          REAL *g, REAL *h) {
    (void)a;
    const REAL e1 = R_EXP(((REAL)1 - power) * x), e2 = R_EXP(((REAL)2 - power) * x);
    *l = e2 * ((REAL)1 / ((REAL)2 - power)) - y * e1 * ((REAL)1 / ((REAL)1 - power));
    *g = e2 - y * e1;
    *h = ((REAL)2 - power) * e2 - ((REAL)1 - power) * y * e1;
}

/* The same of the mean mu = x, p other than 1 and 2 (poisson with eps = 0, and gamma):
 * with a = mu^(1 - p),
 *   l = mu a / (2 - p) - y a / (1 - p),  dl/dmu = a (1 - y / mu),
 *   d2l/dmu2 = ((1 - p) + p y / mu) a / mu */
FL_INLINE void FL_NAME(tweedie_elem2)(REAL x, REAL y, REAL a, REAL power, REAL *l, REAL *g,
                                      REAL *h) {
    (void)a;
    const REAL am = R_EXP(((REAL)1 - power) * R_LOG(x)), inv = (REAL)1 / x;
    const REAL t = y * inv;
    *l = x * am * ((REAL)1 / ((REAL)2 - power)) - y * am * ((REAL)1 / ((REAL)1 - power));
    *g = am * ((REAL)1 - t);
    *h = (((REAL)1 - power) + power * t) * am * inv;
}

/* PyTorch's margin_ranking_loss of x1 = x and x2 = a: z = -y (x1 - x2) + margin, max(0, z);
 * dl/dx1 = -y, dl/dx2 = y where z >= 0 (clamp_min passes the gradient at 0), 0 elsewhere
 * (z = +-inf as well: torch's values), NaN where z is NaN. Piecewise linear: no Hessian. */
FL_INLINE void FL_NAME(margin_ranking_elem2a)(REAL x, REAL y, REAL a, REAL margin, REAL *l,
                                              REAL *g, REAL *h, REAL *ga, REAL *ha) {
    const REAL z = -y * (x - a) + margin, nan = z == z ? (REAL)0 : z;
    const int on = !(z < 0); /* z >= 0 or NaN */
    *l = on ? z : (REAL)0;
    *g = (on ? -y : (REAL)0) + nan;
    *ga = (on ? y : (REAL)0) + nan;
    *h = *ha = nan;
}

/* PyTorch's gaussian_nll_loss of the mean x, target y and variance a, without full's
 * constant (the caller adds it): with v = max(a, eps) (NaN stays NaN) and d = x - y,
 *   l = (log v + d^2 / v) / 2,  dl/dx = d / v,  d2l/dx2 = 1 / v,
 *   dl/da = (1 - d^2 / v) / (2 v),  d2l/da2 = (d^2 / v - 1/2) / v^2,
 * the derivatives in a those in v, below eps too: torch clamps a clone of var under no_grad,
 * so its autograd passes the gradient through the clamp unchanged. */
FL_INLINE void FL_NAME(gaussian_nll_elem2a)(REAL x, REAL y, REAL a, REAL eps, REAL *l,
                                            REAL *g, REAL *h, REAL *ga, REAL *ha) {
    const REAL v = a < eps ? eps : a, inv = (REAL)1 / v, d = x - y, r = d * d * inv;
    *l = (REAL)0.5 * (R_LOG(v) + r);
    *g = d * inv;
    *h = inv;
    *ga = (REAL)0.5 * inv * ((REAL)1 - r);
    *ha = (r - (REAL)0.5) * (inv * inv);
}

/* torchvision's sigmoid_focal_loss without its alpha weighting (a weight of each element,
 * alpha y + (1 - alpha) (1 - y), which the caller passes as w): with ce the loss of
 * binary_cross_entropy_with_logits (its rule, pos_weight 1) and
 *   q = 1 - p_t = y sigmoid(-x) + (1 - y) sigmoid(x)   (two terms of one sign: no
 *                                                        cancellation where p_t is near 1)
 *   l = ce Q,  Q = q^gamma (0^0 = 1, as torch's pow),
 * with q' = (1 - 2 y) s, s = sigmoid(x) sigmoid(-x), and r = q' / q (0 where q = 0: then
 * Q = 0, or gamma = 0 and its term vanishes),
 *   dl/dx = Q (ce' + gamma ce r)
 *   d2l/dx2 = Q (ce'' + 2 gamma ce' r + gamma ce r ((gamma - 1) r + sigmoid(-x) - sigmoid(x)))
 * (q'' / q = r (sigmoid(-x) - sigmoid(x))). */
FL_INLINE void FL_NAME(sigmoid_focal_elem2)(REAL x, REAL y, REAL a, REAL gamma, REAL *l,
                                            REAL *g, REAL *h) {
    (void)a;
    REAL ce, dce, hce;
    FL_NAME(bce_logits_elem2)(x, y, (REAL)1, (REAL)0, &ce, &dce, &hce);
    const REAL ax = x < 0 ? -x : x, e = R_EXP(-ax), inv = (REAL)1 / ((REAL)1 + e);
    const REAL sp = x >= 0 ? inv : e * inv, sn = x >= 0 ? e * inv : inv;
    const REAL q = y * sn + ((REAL)1 - y) * sp;
    const REAL r = q > 0 ? ((REAL)1 - (REAL)2 * y) * (sp * sn) / q : (REAL)0;
    const REAL Q = gamma == 0 ? (REAL)1 + FL_NAME(nan_of)(q) : R_EXP(gamma * R_LOG(q));
    *l = ce * Q;
    *g = Q * (dce + gamma * ce * r);
    *h = Q * (hce + (REAL)2 * gamma * dce * r
              + gamma * ce * r * ((gamma - (REAL)1) * r + (sn - sp)));
}

/* <stem>_elem2a of the rows whose aux is no differentiated input (ga = ha = 0: the loops
 * store them only for reads_aux 2), and <stem>_elem2 of those whose aux is. */
#define FL_DEFINE_ELEM2A_0(stem)                                                            \
    FL_INLINE void FL_NAME(stem##_elem2a)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g, \
                                          REAL *h, REAL *ga, REAL *ha) {                    \
        FL_NAME(stem##_elem2)(x, y, a, p, l, g, h);                                         \
        *ga = *ha = 0;                                                                      \
    }
#define FL_DEFINE_ELEM2A_1 FL_DEFINE_ELEM2A_0
#define FL_DEFINE_ELEM2A_2(stem)                                                            \
    FL_INLINE void FL_NAME(stem##_elem2)(REAL x, REAL y, REAL a, REAL p, REAL *l, REAL *g,  \
                                         REAL *h) {                                         \
        REAL ga, ha;                                                                        \
        FL_NAME(stem##_elem2a)(x, y, a, p, l, g, h, &ga, &ha);                              \
    }
#define FL_DEFINE_ELEM2A(NAME, stem, reads_aux) FL_DEFINE_ELEM2A_##reads_aux(stem)
FL_ELEMENTWISE_LOSSES(FL_DEFINE_ELEM2A)
#undef FL_DEFINE_ELEM2A

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
