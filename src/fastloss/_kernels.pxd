# Declarations of the plain C kernels in csrc/ (see the headers for contracts).
from libc.stdint cimport int64_t

cdef extern from "fl_config.h" nogil:
    ctypedef Py_ssize_t fl_index
    enum:
        FL_FLOAT32
        FL_FLOAT64

cdef extern from "losses.h" nogil:
    enum:
        FL_WANT_SUM
        FL_WANT_GRAD
        FL_WANT_ELEMENTS

    double fl_elementwise_loss(int loss, int dtype, fl_index n, const void *x, const void *y,
                               const void *w, const void *aux, double param, double grad_scale,
                               void *grad, void *elems, int want, int n_threads)
    double fl_cross_entropy_index(int dtype, fl_index n, fl_index c, const void *logits,
                                  const int64_t *labels, const void *class_weight,
                                  int64_t ignore_index, double label_smoothing,
                                  double grad_scale, void *grad, void *elems, int want,
                                  int n_threads, fl_index *bad)
    double fl_cross_entropy_prob(int dtype, fl_index n, fl_index c, const void *logits,
                                 const void *target, const void *class_weight,
                                 double label_smoothing, double grad_scale, void *grad,
                                 void *elems, int want, int n_threads)
    double fl_nll_loss(int dtype, fl_index n, fl_index c, const void *log_probs,
                       const int64_t *labels, const void *class_weight, int64_t ignore_index,
                       double grad_scale, void *grad, void *elems, int want, fl_index *bad)
    double fl_label_weight_total(int dtype, fl_index n, fl_index c, const int64_t *labels,
                                 const void *class_weight, int64_t ignore_index, fl_index *bad)
    fl_index fl_count_outside(int dtype, fl_index n, const void *x, double lo, double hi,
                              fl_index *first)
    const char *fl_simd_paths()
    const char *fl_active_isa()
    int fl_openmp_enabled()
    int fl_openmp_max_threads()
