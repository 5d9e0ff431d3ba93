/* The per-dtype entry points of the loss template (losses_impl.h), for REAL / SFX: included
 * by losses.c once per dtype, to dispatch to them, and by the template, whose definitions
 * must match. Arguments and results are those of the fl_* functions of losses.h, with the
 * arrays typed; no include guard: one inclusion per dtype. */
#include "losses.h"

double FL_NAME(fl_elementwise_loss)(enum fl_elementwise_loss loss, fl_index n, const REAL *x,
                                    const REAL *y, const REAL *w, const REAL *a, double param,
                                    double gscale, REAL *g, REAL *hs, REAL *ga, REAL *ha,
                                    REAL *e, int want, int n_threads);
double FL_NAME(fl_cross_entropy_index)(fl_index n, fl_index c, fl_index inner, const REAL *X,
                                       const int64_t *Y, const REAL *cw, const REAL *sw,
                                       int64_t ignore, double q, double gscale, REAL *G,
                                       REAL *H, REAL *E, int want, int n_threads,
                                       fl_index *bad);
double FL_NAME(fl_cross_entropy_prob)(fl_index n, fl_index c, fl_index inner, const REAL *X,
                                      const REAL *T, const REAL *cw, const REAL *sw, double q,
                                      double gscale, REAL *G, REAL *H, REAL *E, int want,
                                      int n_threads);
double FL_NAME(fl_rowwise_loss)(enum fl_rowwise_loss loss, fl_index n, fl_index c,
                                fl_index inner, const REAL *X, const int64_t *Y, const REAL *T,
                                const REAL *cw, const REAL *sw, int64_t ignore, double param,
                                double gscale,
                                REAL *G, REAL *H, REAL *E, int want, int n_threads,
                                fl_index *bad);
double FL_NAME(fl_rowwise_inputs_loss)(enum fl_rowwise_loss loss, fl_index n, fl_index c,
                                       const REAL *const *X, const int64_t *Y, const REAL *sw,
                                       double param, const double *q, double gscale,
                                       REAL *const *G, REAL *E, int want, int n_threads);
double FL_NAME(fl_label_weight_total)(fl_index n, fl_index c, const int64_t *Y, const REAL *cw,
                                      const REAL *sw, int64_t ignore, fl_index *bad);
fl_index FL_NAME(fl_count_outside)(fl_index n, const REAL *x, REAL lo, REAL hi, fl_index *first);
fl_index FL_NAME(fl_count_not_either)(fl_index n, const REAL *x, REAL a, REAL b,
                                      fl_index *first);
