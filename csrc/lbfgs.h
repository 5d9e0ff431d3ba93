/* The L-BFGS two-loop recursion: the quasi-Newton direction of fastloss.optim.minimize_lbfgs
 * from the pairs its history keeps (src/fastloss/optim/lbfgs.py). Float64, as the solver's
 * iterates are. Trusts its inputs (the caller validates): sizes as given, every rows[i] a row
 * of S and Y, out overlapping nothing.
 */
#ifndef FASTLOSS_LBFGS_H
#define FASTLOSS_LBFGS_H

#include "fl_config.h"

/* out = -H g, Nocedal & Wright's algorithm 7.4, with q = g:
 *     for i = k-1 down to 0:  alpha_i = rho_i s_i.q;   q -= alpha_i y_i
 *     r = gamma q
 *     for i = 0 up to k-1:    beta_i = rho_i y_i.r;    r += (alpha_i - beta_i) s_i
 *     out = -r
 * where pair i (oldest first) is s_i = S[rows[i]], y_i = Y[rows[i]] (rows of n values, n
 * apart), rho_i = rho[rows[i]] = 1 / (s_i.y_i) and gamma scales the initial inverse Hessian.
 * alpha: k doubles of scratch. */
void fl_lbfgs_direction(fl_index n, fl_index k, const int64_t *rows, const double *S,
                        const double *Y, const double *rho, double gamma, const double *g,
                        double *out, double *alpha);

#endif
