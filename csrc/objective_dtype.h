/* The per-dtype entry points of the objective template (objective_impl.h), for REAL / SFX:
 * included by objective.c once per dtype, to dispatch to them, and by objective_f64.c /
 * objective_f32.c, which define them (FL_DEFINE_OBJECTIVE after the template). No include
 * guard: one inclusion per dtype. */
#include "objective.h"

size_t FL_NAME(fl_objective_work_bytes)(fl_index d, fl_index c, int n_threads);
double FL_NAME(fl_objective_run)(fl_objective *P);

/* The template's functions are static (their ISA clones stay in their translation unit). */
#define FL_DEFINE_OBJECTIVE                                                                 \
    size_t FL_NAME(fl_objective_work_bytes)(fl_index d, fl_index c, int n_threads) {       \
        return FL_NAME(obj_work_bytes)(d, c, n_threads);                                    \
    }                                                                                       \
    double FL_NAME(fl_objective_run)(fl_objective *P) { return FL_NAME(obj_run)(P); }
