/* The L-BFGS two-loop recursion (lbfgs.h). Vector form: 2k dot products and 2k updates of
 * length n, each a simple loop, in one clone per x86-64 level (a dot product's dependent
 * adds are its cost at the lengths of a model's coefficients, and wider vectors cut them). */
#include "lbfgs.h"

FL_INLINE double fl_lbfgs_dot(fl_index n, const double *FL_RESTRICT a,
                           const double *FL_RESTRICT b) {
    double t = 0;
    FL_SIMD_REDUCE_SUM(t)
    for (fl_index j = 0; j < n; j++) t += a[j] * b[j];
    return t;
}

FL_INLINE void fl_lbfgs_axpy(fl_index n, double a, const double *FL_RESTRICT x,
                          double *FL_RESTRICT y) {
    FL_SIMD
    for (fl_index j = 0; j < n; j++) y[j] += a * x[j];
}

FL_HOT void fl_lbfgs_direction(fl_index n, fl_index k, const int64_t *rows, const double *S,
                               const double *Y, const double *rho, double gamma,
                               const double *g, double *out, double *alpha) {
    for (fl_index j = 0; j < n; j++) out[j] = g[j];
    for (fl_index i = k - 1; i >= 0; i--) {
        const int64_t row = rows[i];
        alpha[i] = rho[row] * fl_lbfgs_dot(n, S + row * n, out);
        fl_lbfgs_axpy(n, -alpha[i], Y + row * n, out);
    }
    for (fl_index j = 0; j < n; j++) out[j] *= gamma;
    for (fl_index i = 0; i < k; i++) {
        const int64_t row = rows[i];
        const double beta = rho[row] * fl_lbfgs_dot(n, Y + row * n, out);
        fl_lbfgs_axpy(n, alpha[i] - beta, S + row * n, out);
    }
    for (fl_index j = 0; j < n; j++) out[j] = -out[j];
}
