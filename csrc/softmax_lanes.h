/* The exponentials of a softmax over class-major data, for lanes of several rows at once: the
 * step cross_entropy along s (losses_impl.h, ce_index_planes) and the fused objective's
 * softmax (objective_impl.h) share.
 *
 * A template, like loss_rules.h: include it once per dtype, in a translation unit that
 * defines REAL, SFX and R_EXP and has included fl_config.h.
 */
#ifndef FL_SOFTMAX_LANES_H
#define FL_SOFTMAX_LANES_H

/* For lanes j in [0, nb) of c classes (class k of lane j at x[k ldx + j]):
 *   mx[j]  = max_k x_kj                (from -inf: an all -inf lane has no finite max, and
 *                                       x - m is NaN there, as in PyTorch)
 *   e_kj   = exp(x_kj - mx[j])         (at e[k lde + j]; e may be x itself, ldx = lde)
 *   sum[j] = sum_k e_kj                (summed in class order)
 * Vector loops along the lanes, one class after another. */
FL_INLINE void FL_NAME(softmax_exp_lanes)(fl_index nb, fl_index c, const REAL *x, fl_index ldx,
                                          REAL *e, fl_index lde, REAL *FL_RESTRICT mx,
                                          REAL *FL_RESTRICT sum) {
    for (fl_index j = 0; j < nb; j++) mx[j] = -INFINITY;
    for (fl_index k = 0; k < c; k++) {
        const REAL *xk = x + k * ldx;
        FL_SIMD
        for (fl_index j = 0; j < nb; j++) mx[j] = xk[j] > mx[j] ? xk[j] : mx[j];
    }
    for (fl_index j = 0; j < nb; j++) sum[j] = 0;
    for (fl_index k = 0; k < c; k++) {
        const REAL *xk = x + k * ldx;
        REAL *ek = e + k * lde;
        /* omp simd: e_kj may overwrite x_kj, the element this iteration read (no dependence
         * between iterations) */
        FL_SIMD
        for (fl_index j = 0; j < nb; j++) {
            const REAL v = R_EXP(xk[j] - mx[j]);
            ek[j] = v;
            sum[j] += v;
        }
    }
}

#endif /* FL_SOFTMAX_LANES_H */
