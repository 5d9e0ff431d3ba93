/* adafactor.h's step for one dtype: included by adafactor.c with REAL, SFX and R_SQRT
 * defined (and update_rules.h's helpers: lerp, lerp_split, muladd, nan_max). */

/* The step's scalars, torch's Python-float expressions. */
typedef struct {
    REAL lerp_coeff, eps1, eps1_sq, shrink;
    int lerp_small; /* row/col_var.lerp_(mean, step**beta2_decay), split by lerp_split */
    int maximize, decay;
} FL_NAME(adafactor_scalars);

/* sum x[i]^2 in double (torch's norm(), rounded to REAL by the caller). */
static FL_HOT double FL_NAME(adafactor_sumsq)(fl_index n, const REAL *x) {
    double s = 0;
    FL_SIMD_REDUCE_SUM(s)
    for (fl_index i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

/* torch: norm(x, dim).square_().div_(count): the norm rounded to REAL, then squared. */
FL_INLINE REAL FL_NAME(adafactor_mean_sq)(double sumsq, REAL count) {
    const REAL norm = (REAL)sqrt(sumsq);
    return (norm * norm) / count;
}

/* torch: row_var.mean(dim=-2).clamp_(min=eps1), NaN kept. */
FL_INLINE REAL FL_NAME(adafactor_row_mean)(fl_index rows, const REAL *row_var, REAL eps1) {
    double s = 0;
    for (fl_index r = 0; r < rows; r++) s += (double)row_var[r];
    return FL_NAME(nan_max)((REAL)(s / (double)rows), eps1);
}

/* One matrix (rows x cols) of a factored parameter: its row and column means of g^2 lerped
 * into row_var and col_var, then sum u^2 over it for u = g / sqrt(max(v, eps1^2)),
 * v = row_var col_var / max(mean(row_var), eps1) (the caller's second pass writes p). */
static FL_HOT double FL_NAME(adafactor_factors)(fl_index rows, fl_index cols, const REAL *g,
                                         REAL *row_var, REAL *col_var, double *col_sum,
                                         const FL_NAME(adafactor_scalars) *k) {
    const REAL sign = k->maximize ? (REAL)-1 : (REAL)1;
    for (fl_index c = 0; c < cols; c++) col_sum[c] = 0;
    for (fl_index r = 0; r < rows; r++) {
        const REAL *gr = g + r * cols;
        double s = 0;
        FL_SIMD_REDUCE_SUM(s)
        for (fl_index c = 0; c < cols; c++) {
            const double sq = (double)gr[c] * (double)gr[c];
            s += sq;
            col_sum[c] += sq;
        }
        row_var[r] = FL_NAME(lerp)(row_var[r], FL_NAME(adafactor_mean_sq)(s, (REAL)cols),
                                   k->lerp_coeff, k->lerp_small);
    }
    for (fl_index c = 0; c < cols; c++)
        col_var[c] = FL_NAME(lerp)(col_var[c], FL_NAME(adafactor_mean_sq)(col_sum[c], (REAL)rows),
                                   k->lerp_coeff, k->lerp_small);
    const REAL m = FL_NAME(adafactor_row_mean)(rows, row_var, k->eps1);
    double total = 0;
    for (fl_index r = 0; r < rows; r++) {
        const REAL *gr = g + r * cols, rv = row_var[r];
        FL_SIMD_REDUCE_SUM(total)
        for (fl_index c = 0; c < cols; c++) {
            const REAL v = FL_NAME(nan_max)((rv * col_var[c]) / m, k->eps1_sq);
            const REAL u = ((REAL)1 / R_SQRT(v)) * (sign * gr[c]);
            total += (double)u * (double)u;
        }
    }
    return total;
}

/* p = p shrink (if decay); p = p + coef u, u recomputed as adafactor_factors() made it. */
static FL_HOT void FL_NAME(adafactor_apply_factored)(fl_index rows, fl_index cols, REAL *p,
                                                    const REAL *g, const REAL *row_var,
                                                    const REAL *col_var, REAL m, REAL coef,
                                                    const FL_NAME(adafactor_scalars) *k) {
    const REAL sign = k->maximize ? (REAL)-1 : (REAL)1, shrink = k->shrink, eps1_sq = k->eps1_sq;
    const int decay = k->decay;
    for (fl_index r = 0; r < rows; r++) {
        REAL *pr = p + r * cols;
        const REAL *gr = g + r * cols, rv = row_var[r];
        FL_SIMD
        for (fl_index c = 0; c < cols; c++) {
            const REAL v = FL_NAME(nan_max)((rv * col_var[c]) / m, eps1_sq);
            const REAL u = ((REAL)1 / R_SQRT(v)) * (sign * gr[c]);
            const REAL x = decay ? pr[c] * shrink : pr[c];
            pr[c] = FL_NAME(muladd)(coef, u, x);
        }
    }
}

/* An unfactored parameter: variance.lerp_(g * g, w), then sum u^2, u = g / sqrt(max(
 * variance, eps1^2)). */
static FL_HOT double FL_NAME(adafactor_variance)(fl_index n, const REAL *g, REAL *variance,
                                                 const FL_NAME(adafactor_scalars) *k) {
    const REAL sign = k->maximize ? (REAL)-1 : (REAL)1, eps1_sq = k->eps1_sq;
    const REAL coeff = k->lerp_coeff;
    const int small = k->lerp_small;
    double total = 0;
    FL_SIMD_REDUCE_SUM(total)
    for (fl_index i = 0; i < n; i++) {
        const REAL gi = sign * g[i];
        const REAL v = FL_NAME(lerp)(variance[i], gi * gi, coeff, small);
        variance[i] = v;
        const REAL u = ((REAL)1 / R_SQRT(FL_NAME(nan_max)(v, eps1_sq))) * gi;
        total += (double)u * (double)u;
    }
    return total;
}

static FL_HOT void FL_NAME(adafactor_apply_variance)(fl_index n, REAL *p, const REAL *g,
                                                    const REAL *variance, REAL coef,
                                                    const FL_NAME(adafactor_scalars) *k) {
    const REAL sign = k->maximize ? (REAL)-1 : (REAL)1, shrink = k->shrink, eps1_sq = k->eps1_sq;
    const int decay = k->decay;
    FL_SIMD
    for (fl_index i = 0; i < n; i++) {
        const REAL u = ((REAL)1 / R_SQRT(FL_NAME(nan_max)(variance[i], eps1_sq))) * (sign * g[i]);
        const REAL x = decay ? p[i] * shrink : p[i];
        p[i] = FL_NAME(muladd)(coef, u, x);
    }
}

static void FL_NAME(adafactor_kernel)(const fl_adafactor_hyper *h, double step, int factored,
                                      fl_index batch, fl_index rows, fl_index cols, REAL *p,
                                      const REAL *g, REAL *row_var, REAL *col_var,
                                      REAL *variance, double *scratch) {
    FL_NAME(adafactor_scalars) k;
    const fl_index n = batch * rows * cols;
    const double one_minus_beta2_t = pow(step, h->beta2_decay);
    const double inv_sqrt_step = 1 / pow(step, 0.5);
    const double rho_t = inv_sqrt_step < h->lr ? inv_sqrt_step : h->lr; /* Python's min */
    /* torch: max(eps2, param.norm(2).item() / numel**0.5) * rho_t, before the decay */
    const double rms = (double)(REAL)sqrt(FL_NAME(adafactor_sumsq)(n, p)) / pow((double)n, 0.5);
    const double alpha = (rms > h->eps2 ? rms : h->eps2) * rho_t; /* Python's max(eps2, rms) */
    k.lerp_small = FL_NAME(lerp_split)((REAL)one_minus_beta2_t, &k.lerp_coeff);
    k.eps1 = (REAL)h->eps1;
    k.eps1_sq = (REAL)(h->eps1 * h->eps1);
    k.shrink = (REAL)(1 - h->lr * h->weight_decay);
    k.maximize = h->maximize != 0;
    k.decay = h->weight_decay != 0;
    double total = 0;
    if (factored) {
        for (fl_index b = 0; b < batch; b++)
            total += FL_NAME(adafactor_factors)(rows, cols, g + b * rows * cols,
                                                row_var + b * rows, col_var + b * cols,
                                                scratch, &k);
    } else {
        total = FL_NAME(adafactor_variance)(n, g, variance, &k);
    }
    /* torch: max(1.0, update.norm(2).item() / (numel**0.5 * d)) */
    const double ratio = (double)(REAL)sqrt(total) / (pow((double)n, 0.5) * h->d);
    const double denom = ratio > 1.0 ? ratio : 1.0; /* Python's max(1.0, ratio) */
    const REAL coef = (REAL)(-alpha / denom);
    if (factored) {
        for (fl_index b = 0; b < batch; b++) {
            const REAL *rv = row_var + b * rows;
            const REAL m = FL_NAME(adafactor_row_mean)(rows, rv, k.eps1);
            FL_NAME(adafactor_apply_factored)(rows, cols, p + b * rows * cols,
                                              g + b * rows * cols, rv, col_var + b * cols, m,
                                              coef, &k);
        }
    } else {
        FL_NAME(adafactor_apply_variance)(n, p, g, variance, coef, &k);
    }
}
