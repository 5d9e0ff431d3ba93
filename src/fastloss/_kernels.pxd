# Declarations of the plain C kernels in csrc/ (see the headers for contracts).
from libc.stdint cimport int32_t, int64_t

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
        FL_WANT_HESS
        FL_ELEMENTWISE_LOSS_COUNT
        FL_ROWWISE_LOSS_COUNT
        FL_STRIDED_MAX_CLASSES
        FL_LABEL_ROW_MAX_CLASSES
    # code -> stem ("mse", ...) of the rows of FL_ELEMENTWISE_LOSSES / FL_ROWWISE_LOSSES
    const char *const fl_elementwise_loss_names[]
    const char *const fl_rowwise_loss_names[]
    # each elementwise row's reads_aux: 0, 1, 2 (its aux is a differentiated input)
    const unsigned char fl_elementwise_loss_aux[]
    bint FL_ELEMENTWISE_WANT_OK(int want)

    double fl_elementwise_loss(int loss, int dtype, fl_index n, const void *x, const void *y,
                               const void *w, const void *aux, double param, double grad_scale,
                               void *grad, void *hess, void *aux_grad, void *aux_hess,
                               void *elems, int want, int n_threads)
    double fl_cross_entropy_index(int dtype, fl_index n, fl_index c, fl_index inner,
                                  const void *logits, const int64_t *labels,
                                  const void *class_weight, const void *sample_weight,
                                  int64_t ignore_index, double label_smoothing,
                                  double grad_scale, void *grad, void *hess, void *elems,
                                  int want, int n_threads, fl_index *bad)
    double fl_cross_entropy_prob(int dtype, fl_index n, fl_index c, fl_index inner,
                                 const void *logits, const void *target,
                                 const void *class_weight, const void *sample_weight,
                                 double label_smoothing, double grad_scale, void *grad,
                                 void *hess, void *elems, int want, int n_threads)
    double fl_rowwise_loss(int loss, int dtype, fl_index n, fl_index c, fl_index inner,
                           const void *x, const int64_t *labels, const void *target,
                           const void *class_weight,
                           const void *sample_weight, int64_t ignore_index, double param,
                           double grad_scale, void *grad, void *hess, void *elems, int want,
                           int n_threads, fl_index *bad)
    double fl_rowwise_inputs_loss(int loss, int dtype, fl_index n, fl_index c, int n_inputs,
                                  const void *const *x, const int64_t *codes,
                                  const void *sample_weight, double param,
                                  const double *params, double grad_scale, void *const *grads,
                                  void *elems, int want, int n_threads)
    const unsigned char fl_rowwise_loss_inputs[]
    double fl_label_weight_total(int dtype, fl_index n, fl_index c, const int64_t *labels,
                                 const void *class_weight, const void *sample_weight,
                                 int64_t ignore_index, fl_index *bad)
    fl_index fl_count_outside(int dtype, fl_index n, const void *x, double lo, double hi,
                              fl_index *first)
    fl_index fl_count_not_either(int dtype, fl_index n, const void *x, double a, double b,
                                 fl_index *first)

cdef extern from "ctc.h" nogil:
    fl_index fl_ctc_work_items(fl_index t, fl_index s_max)
    fl_index fl_ctc_index_items(fl_index s_max)
    void fl_ctc_loss(int dtype, fl_index t, fl_index n, fl_index c, const void *log_probs,
                     const int64_t *targets, const int64_t *target_offsets,
                     const int64_t *input_lengths, const int64_t *target_lengths,
                     fl_index s_max, int64_t blank, int zero_infinity, const double *grad_scale,
                     void *nll, void *grad, void *work, int32_t *iwork, int n_threads,
                     fl_index *bad)

cdef extern from "build_facts.h" nogil:
    const char *fl_simd_paths()
    const char *fl_active_isa()
    int fl_openmp_enabled()
    int fl_openmp_max_threads()

# ---- optimizer updates (optim.h) -----------------------------------------------------------
cdef extern from "optim.h" nogil:
    # the rule codes (FL_UPDATE_RULES' rows; the names are fl_update_rule_names)
    ctypedef int fl_update_rule
    enum:
        FL_UPDATE_RULE_COUNT
        FL_UPDATE_MAX_STATE
    const char *const fl_update_rule_names[]
    const int fl_update_rule_states[]
    const char *const *const fl_update_rule_state_names[]
    const int *const fl_update_rule_state_shapes[]
    enum:
        FL_SCALAR

    # the hyper-parameter structs' fields (update_rules.h's FL_<NAME>_FIELDS): what the
    # bindings fill the structs by, which stay opaque here
    ctypedef struct fl_hyper_field:
        const char *name
        int offset
        int is_int
    const fl_hyper_field *const fl_update_rule_fields[]
    const int fl_update_rule_field_counts[]
    ctypedef union fl_update_hyper:
        pass

    ctypedef struct fl_update_call:
        int dtype
        fl_index n
        void *param
        const void *grad
        void *state[FL_UPDATE_MAX_STATE]
        double step
        int first_step
        int n_threads

    void fl_update(fl_update_rule rule, const fl_update_hyper *h, const fl_update_call *c)
    unsigned fl_update_state_mask(fl_update_rule rule, const fl_update_hyper *h)
    int fl_update_hyper_ok(fl_update_rule rule, const fl_update_hyper *h)

# ---- SGD epochs, per sample and mini-batch (linear.h) -------------------------------------------------------
cdef extern from "linear.h" nogil:
    enum:
        FL_LIN_SQUARED
        FL_LIN_ABSOLUTE
        FL_LIN_HUBER
        FL_LIN_LOGISTIC
        FL_LIN_SOFTMAX
        FL_LIN_HINGE
        FL_LIN_SQUARED_HINGE
        FL_LIN_MODIFIED_HUBER
        FL_LIN_EPSILON_INSENSITIVE
        FL_LIN_SQUARED_EPSILON_INSENSITIVE
        FL_LIN_POISSON
        FL_LIN_GAMMA
        FL_LIN_TWEEDIE
        FL_LIN_PINBALL
        FL_OPT_SGD
        FL_OPT_MOMENTUM
        FL_OPT_ADAGRAD
        FL_OPT_RMSPROP
        FL_OPT_ADAM
        FL_OPT_ADAMW
        FL_OPT_NADAM
        FL_OPT_RADAM
        FL_OPT_ADAMAX
        FL_OPT_LION
        FL_LR_CONSTANT
        FL_LR_INVSCALING
        FL_LR_OPTIMAL
        FL_PENALTY_L2
        FL_PENALTY_L1
        FL_PENALTY_ELASTICNET

    ctypedef struct fl_sgd_config:
        int loss, optimizer, schedule, nesterov
        fl_index batch_size
        double lr, power_t, alpha, epsilon, momentum, beta1, beta2, eps, rho
        double momentum_decay
        int decoupled
        int penalty
        double l1_ratio, intercept_decay, optimal_init
        int64_t average_start

    ctypedef struct fl_csr:
        const void *data
        const void *indices
        const void *indptr
        fl_index nnz, max_row
        int index64

    ctypedef struct fl_samples:
        fl_index n, d, c
        const void *X
        fl_index row_stride, col_stride
        const void *y
        const int64_t *labels
        const void *sample_weight

    ctypedef struct fl_sgd_data:
        fl_samples s
        const int64_t *order
        void *coef
        void *intercept
        void *s1_coef
        void *s1_intercept
        void *s2_coef
        void *s2_intercept
        double mu_product
        void *work
        int64_t t
        fl_index bad
        const fl_csr *csr
        int64_t *row_index
        void *avg_coef
        void *avg_intercept
        double *l1_q
        double l1_u

    double fl_sgd_epoch(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data)
    double fl_sgd_epoch_scaled(int dtype, const fl_sgd_config *cfg, fl_sgd_data *data)

# ---- fused linear-model objective (objective.h) --------------------------------------------
cdef extern from "objective.h" nogil:
    ctypedef struct fl_objective:
        int loss, hessp
        fl_samples s
        int x_float64
        const void *coef
        const void *intercept
        const void *vec_coef
        const void *vec_intercept
        double scale, alpha, epsilon
        void *out_coef
        void *out_intercept
        void *work
        int n_threads
        fl_index bad

    size_t fl_objective_work_bytes(int dtype, fl_index d, fl_index c, int n_threads)
    double fl_objective_run(int dtype, fl_objective *P)

# ---- the L-BFGS two-loop recursion (lbfgs.h) ---------------------------------------------
cdef extern from "lbfgs.h" nogil:
    void fl_lbfgs_direction(fl_index n, fl_index k, const int64_t *rows, const double *S,
                            const double *Y, const double *rho, double gamma,
                            const double *g, double *out, double *alpha)
# ---- Adafactor's step (adafactor.h) -------------------------------------------------------
cdef extern from "adafactor.h" nogil:
    ctypedef struct fl_adafactor_hyper:
        double lr, beta2_decay, eps1, eps2, d, weight_decay
        int maximize
    void fl_adafactor_update(int dtype, const fl_adafactor_hyper *h, double step, int factored,
                             fl_index batch, fl_index rows, fl_index cols, void *param,
                             const void *grad, void *row_var, void *col_var, void *variance,
                             double *scratch)
# ---- gradient clipping and parameter averaging (grad_utils.h) ------------------------------
cdef extern from "grad_utils.h" nogil:
    ctypedef struct fl_run:
        void *data
        fl_index n, stride
        int dtype

    enum:
        FL_NORM_ONE
        FL_NORM_TWO
        FL_NORM_POW
        FL_NORM_MAX
        FL_AVERAGE_LERP
        FL_AVERAGE_EMA
        FL_AVERAGE_MEAN

    double fl_runs_norm(fl_index n_runs, const fl_run *runs, int kind, double p)
    void fl_runs_scale(fl_index n_runs, const fl_run *runs, double coef)
    void fl_runs_clamp(fl_index n_runs, const fl_run *runs, double lo, double hi)
    void fl_runs_average(fl_index n_runs, const fl_run *avg, const fl_run *param, int kind,
                         double w)
