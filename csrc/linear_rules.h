/* The per-sample losses of a linear model (enum fl_linear_loss, linear.h) from the shared
 * per-element rules of loss_rules.h: what sgd_epoch (linear_impl.h) and the fused objective
 * (objective_impl.h) both compute per sample. A template like loss_rules.h, included after
 * it (REAL, SFX, R_EXP, R_LOG defined; one inclusion per translation unit). */
#include "linear.h"

/* Loss and dl/dz of one single-output sample, in REAL, from loss_rules.h (scalar work,
 * once per sample): squared = half of mse (exact in binary), absolute = l1, huber with
 * delta = epsilon, logistic = bce_logits with pos_weight 1. */
FL_INLINE REAL FL_NAME(loss1)(const int loss, REAL z, REAL y, REAL epsilon, REAL *dz) {
    REAL l, g;
    switch (loss) {
    case FL_LIN_SQUARED:
        FL_NAME(mse_elem)(z, y, 1, 0, &l, &g);
        *dz = (REAL)0.5 * g;
        return (REAL)0.5 * l;
    case FL_LIN_ABSOLUTE: FL_NAME(l1_elem)(z, y, 1, 0, &l, &g); break;
    case FL_LIN_HUBER: FL_NAME(huber_elem)(z, y, 1, epsilon, &l, &g); break;
    default: FL_NAME(bce_logits_elem)(z, y, 1, 0, &l, &g); break; /* FL_LIN_LOGISTIC */
    }
    *dz = g;
    return l;
}

