/* The fused linear-model objective: the public entry points, a dtype dispatch to their
 * instantiations in objective_f64.c / objective_f32.c (objective_impl.h). */
#include "objective.h"

#define FL_DTYPE_HEADER "objective_dtype.h"
#include "fl_each_dtype.h"

size_t fl_objective_work_bytes(int dtype, fl_index d, fl_index c, int n_threads) {
    return FL_DTYPE_DISPATCH(dtype, fl_objective_work_bytes, d, c, n_threads);
}

double fl_objective_run(int dtype, fl_objective *P) {
    return FL_DTYPE_DISPATCH(dtype, fl_objective_run, P);
}
