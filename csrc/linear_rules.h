/* The per-sample rules of a linear model: the losses (enum fl_linear_loss, linear.h) from
 * the shared per-element rules of loss_rules.h: what sgd_epoch (linear_impl.h) and the fused
 * objective (objective_impl.h) both compute per sample. A template like loss_rules.h, included after
 * it (REAL, SFX, R_EXP, R_LOG defined; one inclusion per translation unit); and the row
 * access and dot product of the per-sample epochs (linear_impl.h, linear_scaled_impl.h). */
#include "linear.h"

/* Loss and dl/dz of one single-output sample, in REAL, from loss_rules.h (scalar work,
 * once per sample): squared = half of mse (exact in binary), absolute = l1, huber with
 * delta = epsilon, logistic = bce_logits with pos_weight 1; the margin and
 * epsilon-insensitive losses as scikit-learn's SGD (sklearn/linear_model/_sgd_fast.pyx),
 * hinge etc. being loss_rules.h's (NaN or inf in z gives a NaN loss and dl/dz, as there);
 * poisson, gamma, tweedie = poisson_log, gamma_log, tweedie_log (power = epsilon, never 1
 * or 2: the caller passes those as poisson and gamma), pinball with quantile = epsilon.
 * epsilon is the loss's one scalar parameter. */
FL_INLINE REAL FL_NAME(loss1)(const int loss, REAL z, REAL y, REAL epsilon, REAL *dz) {
    REAL l, g;
    switch (loss) {
    case FL_LIN_SQUARED:
        FL_NAME(mse_elem)(z, y, 1, 0, &l, &g);
        *dz = (REAL)0.5 * g;
        return (REAL)0.5 * l;
    case FL_LIN_ABSOLUTE: FL_NAME(l1_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_HUBER: FL_NAME(huber_elem)(z, y, 1, epsilon, &l, &g); break;
    case FL_LIN_HINGE: FL_NAME(hinge_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_SQUARED_HINGE: FL_NAME(squared_hinge_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_MODIFIED_HUBER: FL_NAME(modified_huber_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_EPSILON_INSENSITIVE:
        FL_NAME(epsilon_insensitive_elem)(z, y, 1, epsilon, &l, &g);
        break;
    case FL_LIN_SQUARED_EPSILON_INSENSITIVE: { /* no elementwise loss of its own */
        const REAL r = z - y, a = (r < 0 ? -r : r) - epsilon, nan = FL_NAME(nan_of)(r);
        *dz = (r > epsilon ? 2 * (r - epsilon) : r < -epsilon ? 2 * (r + epsilon) : (REAL)0) + nan;
        return (a > 0 ? a * a : (REAL)0) + nan;
    }
    case FL_LIN_POISSON: FL_NAME(poisson_log_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_GAMMA: FL_NAME(gamma_log_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_TWEEDIE: FL_NAME(tweedie_log_elem)(z, y, 1, epsilon, &l, &g); break;
    case FL_LIN_PINBALL: FL_NAME(pinball_elem)(z, y, 1, epsilon, &l, &g); break;
    default: FL_NAME(bce_logits_elem)(z, y, 1, 0, &l, &g); break; /* FL_LIN_LOGISTIC */
    }
    *dz = g;
    return l;
}

/* d2l/dz2 of one single-output sample, the Hessian's diagonal in z (the losses with a useful
 * one: linear.py's HESSP_LOSSES), from the same loss_rules.h rules as loss1: squared 1,
 * logistic sigmoid(z) sigmoid(-z), poisson exp(z), gamma y exp(-z), tweedie (2-p) exp((2-p)
 * z) - (1-p) y exp((1-p) z) (power = epsilon, never 1 or 2, as in loss1). The loss and dl/dz
 * the rules also store are dropped by the compiler. */
FL_INLINE REAL FL_NAME(hess1)(const int loss, REAL z, REAL y, REAL epsilon) {
    REAL l, g, h;
    switch (loss) {
    case FL_LIN_SQUARED: return (REAL)1;
    case FL_LIN_POISSON: FL_NAME(poisson_log_elem2)(z, y, 1, 0, &l, &g, &h); break;
    case FL_LIN_GAMMA: FL_NAME(gamma_log_elem2)(z, y, 1, 0, &l, &g, &h); break;
    case FL_LIN_TWEEDIE: FL_NAME(tweedie_log_elem2)(z, y, 1, epsilon, &l, &g, &h); break;
    default: FL_NAME(bce_logits_elem2)(z, y, 1, 0, &l, &g, &h); break; /* FL_LIN_LOGISTIC */
    }
    return h;
}

/* Row i of X as a unit-stride vector: X itself when columns are contiguous,
 * else gathered into buf (F-ordered or sliced X: one strided read per value). */
FL_INLINE const REAL *FL_NAME(row)(const REAL *X, fl_index i, fl_index rs, fl_index cs,
                                  fl_index d, REAL *FL_RESTRICT buf) {
    const REAL *x = X + i * rs;
    if (cs == 1) return x;
    for (fl_index j = 0; j < d; j++) buf[j] = x[j * cs];
    return buf;
}

FL_INLINE REAL FL_NAME(dot)(fl_index d, const REAL *FL_RESTRICT a, const REAL *FL_RESTRICT b) {
    REAL s = 0;
    FL_SIMD_REDUCE_SUM(s)
    for (fl_index j = 0; j < d; j++) s += a[j] * b[j];
    return s;
}
