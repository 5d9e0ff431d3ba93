/* Gradient clipping and parameter averaging over lists of arrays (grad_utils.h): the dtype
 * dispatch around grad_utils_impl.h's loops, included once per dtype.
 *
 * CMake compiles this file with -ffp-contract=off, as optim.c: without fused multiply-adds
 * every ISA clone rounds the elementwise passes alike (the averages equal torch's to the
 * last bit where torch writes the same operations). */
#include "grad_utils.h"

#include "optim.h" /* the fl_*_hyper structs that update_rules.h's scalars take */

/* update_rules.h's scalars want a square root; the passes here take none */
#define R_SQRT sqrt
#define FL_DTYPE_HEADER "grad_utils_impl.h"
#include "fl_each_dtype.h"
#undef R_SQRT

double fl_runs_norm(fl_index n_runs, const fl_run *runs, int kind, double p) {
    double total = 0;
    int nan = 0;
    for (fl_index r = 0; r < n_runs; r++) {
        const double s = runs[r].dtype == FL_FLOAT64 ? norm_run_f64(runs + r, kind, p)
                                                     : norm_run_f32(runs + r, kind, p);
        if (kind == FL_NORM_MAX) {
            total = s > total ? s : total;
            nan |= s != s;
        } else {
            total += s;
        }
    }
    return nan ? (double)NAN : total;
}

void fl_runs_scale(fl_index n_runs, const fl_run *runs, double coef) {
    /* last run first: after fl_runs_norm over the same runs (clip_grad_norm_), the last
     * ones read are still in cache */
    for (fl_index r = n_runs - 1; r >= 0; r--) {
        if (runs[r].dtype == FL_FLOAT64) scale_run_f64(runs + r, coef);
        else scale_run_f32(runs + r, coef);
    }
}

void fl_runs_clamp(fl_index n_runs, const fl_run *runs, double lo, double hi) {
    for (fl_index r = 0; r < n_runs; r++) {
        if (runs[r].dtype == FL_FLOAT64) clamp_run_f64(runs + r, lo, hi);
        else clamp_run_f32(runs + r, lo, hi);
    }
}

void fl_runs_average(fl_index n_runs, const fl_run *avg, const fl_run *param, int kind,
                     double w) {
    const average_scalars_f64 k64 = average_scalars_of_f64(kind, w);
    const average_scalars_f32 k32 = average_scalars_of_f32(kind, w);
    for (fl_index r = 0; r < n_runs; r++) {
        const fl_run *a = avg + r, *p = param + r;
        if (a->dtype == FL_FLOAT64)
            average_run_f64((double *)a->data, a->stride, (const double *)p->data, p->stride,
                            a->n, kind, k64);
        else
            average_run_f32((float *)a->data, a->stride, (const float *)p->data, p->stride,
                            a->n, kind, k32);
    }
}
