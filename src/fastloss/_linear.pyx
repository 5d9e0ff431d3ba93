# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the SGD epoch (per sample or mini-batch, csrc/linear.c) and of the fused
linear-model objective (csrc/objective.c).

No validation here: fastloss.linear passes X of float32/float64 with strides that are
multiples of its itemsize, and C-contiguous coef/intercept/state/work/y/sample_weight
of X's dtype, int64 labels and order, matching sizes (work: 2 d + 2 c elements, plus
(d + 1) c when batch_size > 1), batch_size >= 1 and no overlap between written and read
arrays. The kernel runs with the GIL released; it checks each label and order entry as
it reads it, and stops (reporting where) rather than index out of bounds.

The scaled epoch (``scaled=True``: plain SGD as scikit-learn's, csrc/linear_scaled_impl.h)
also takes X as CSR: ``csr = (data, indices, indptr, n, d, max_row)`` with data of the
epoch's dtype, indices and indptr both int32 or both int64 (all C-contiguous), max_row the
longest row's length; its entries are checked by the kernel as it reads them (X is then ignored).
"""
cimport numpy as cnp
from libc.stdint cimport int64_t

import numpy as np

from fastloss._kernels cimport *

cnp.import_array()

LOSSES = {"squared_error": FL_LIN_SQUARED, "absolute": FL_LIN_ABSOLUTE,
          "huber": FL_LIN_HUBER, "logistic": FL_LIN_LOGISTIC, "softmax": FL_LIN_SOFTMAX,
          "hinge": FL_LIN_HINGE, "squared_hinge": FL_LIN_SQUARED_HINGE,
          "modified_huber": FL_LIN_MODIFIED_HUBER,
          "epsilon_insensitive": FL_LIN_EPSILON_INSENSITIVE,
          "squared_epsilon_insensitive": FL_LIN_SQUARED_EPSILON_INSENSITIVE,
          "poisson": FL_LIN_POISSON, "gamma": FL_LIN_GAMMA, "tweedie": FL_LIN_TWEEDIE,
          "pinball": FL_LIN_PINBALL}
OPTIMIZERS = {"sgd": FL_OPT_SGD, "momentum": FL_OPT_MOMENTUM, "adagrad": FL_OPT_ADAGRAD,
              "rmsprop": FL_OPT_RMSPROP, "adam": FL_OPT_ADAM, "adamw": FL_OPT_ADAMW,
              "nadam": FL_OPT_NADAM, "radam": FL_OPT_RADAM, "adamax": FL_OPT_ADAMAX,
              "lion": FL_OPT_LION}
SCHEDULES = {"constant": FL_LR_CONSTANT, "invscaling": FL_LR_INVSCALING,
             "optimal": FL_LR_OPTIMAL}
PENALTIES = {"l2": FL_PENALTY_L2, "l1": FL_PENALTY_L1, "elasticnet": FL_PENALTY_ELASTICNET}


cdef inline void *data_or_null(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline void fill_samples(fl_samples *s, cnp.ndarray X, cnp.ndarray coef, object y,
                              object labels, object sample_weight):
    """The samples of a linear model's call: sizes, X's data and strides in elements, the
    targets or labels, the weights."""
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(X)
    s.n = cnp.PyArray_DIM(X, 0)
    s.d = cnp.PyArray_DIM(X, 1)
    s.c = cnp.PyArray_DIM(coef, 1) if cnp.PyArray_NDIM(coef) == 2 else 1
    s.row_stride = cnp.PyArray_STRIDE(X, 0) // item
    s.col_stride = cnp.PyArray_STRIDE(X, 1) // item
    s.X = cnp.PyArray_DATA(X)
    s.y = data_or_null(y)
    s.labels = <const int64_t *>data_or_null(labels)
    s.sample_weight = data_or_null(sample_weight)


def sgd_epoch(cnp.ndarray X, object y, object labels, cnp.ndarray coef, object intercept,
              object s1_coef, object s1_intercept, object s2_coef, object s2_intercept,
              object order, object sample_weight, cnp.ndarray work, int64_t t, str loss,
              str optimizer, str learning_rate, double lr, double power_t, double alpha,
              double epsilon, double momentum, bint nesterov, double beta1, double beta2,
              double eps, double rho, object state, double weight_sum,
              fl_index batch_size=1, bint scaled=False, object csr=None,
              str penalty="l2", double l1_ratio=0.0, double intercept_decay=1.0,
              double optimal_init=0.0, int64_t average_start=0, object avg_coef=None,
              object avg_intercept=None, object l1_q=None, object row_index=None,
              double momentum_decay=0.0, bint decoupled=False):
    """Runs one epoch and records it in ``state`` (an EpochState), in this one call: no
    Python bytecode runs between the kernel and the record, so a KeyboardInterrupt lands
    before or after both. Returns ``(mean loss, bad)``: bad is -1, or the visit at which the
    kernel stopped on an out-of-range order entry, label or CSR entry (then only ``state.t``
    and ``state.l1_u`` record the updates done).

    ``scaled``: the scaled epoch (``fl_sgd_epoch_scaled``) with ``penalty``, ``l1_ratio``,
    ``intercept_decay``, ``optimal_init``, ``average_start``, the state arrays ``avg_coef``,
    ``avg_intercept``, ``l1_q`` (None where unused) and, with ``csr``, the int64 scratch
    ``row_index`` of ``max_row`` entries. NAdam's ``momentum_decay`` and mu_product
    (``state.mu_product``, advanced here); ``decoupled``: NAdam's and RAdam's
    decoupled_weight_decay."""
    cdef fl_sgd_config cfg
    cdef fl_sgd_data D
    cdef fl_csr M
    cdef cnp.ndarray data = csr[0] if csr is not None else X
    cdef int dt = FL_FLOAT64 if cnp.PyArray_TYPE(data) == cnp.NPY_DOUBLE else FL_FLOAT32
    cdef double total
    cfg.loss = LOSSES[loss]
    cfg.optimizer = OPTIMIZERS[optimizer]
    cfg.schedule = SCHEDULES[learning_rate]
    cfg.nesterov = nesterov
    cfg.batch_size = batch_size
    cfg.lr = lr
    cfg.power_t = power_t
    cfg.alpha = alpha
    cfg.epsilon = epsilon
    cfg.momentum = momentum
    cfg.beta1 = beta1
    cfg.beta2 = beta2
    cfg.eps = eps
    cfg.rho = rho
    cfg.momentum_decay = momentum_decay
    cfg.decoupled = decoupled
    cfg.penalty = PENALTIES[penalty]
    cfg.l1_ratio = l1_ratio
    cfg.intercept_decay = intercept_decay
    cfg.optimal_init = optimal_init
    cfg.average_start = average_start
    D.csr = NULL
    if csr is None:
        fill_samples(&D.s, X, coef, y, labels, sample_weight)
    else:
        M.data = cnp.PyArray_DATA(<cnp.ndarray>csr[0])
        M.indices = cnp.PyArray_DATA(<cnp.ndarray>csr[1])
        M.index64 = cnp.PyArray_ITEMSIZE(<cnp.ndarray>csr[1]) == 8
        M.indptr = cnp.PyArray_DATA(<cnp.ndarray>csr[2])
        M.nnz = cnp.PyArray_DIM(<cnp.ndarray>csr[0], 0)
        M.max_row = csr[5]
        D.csr = &M
        D.s.n = csr[3]
        D.s.d = csr[4]
        D.s.c = 1
        D.s.X = NULL
        D.s.row_stride = 0
        D.s.col_stride = 0
        D.s.y = data_or_null(y)
        D.s.labels = NULL
        D.s.sample_weight = data_or_null(sample_weight)
    D.row_index = <int64_t *>data_or_null(row_index)
    D.avg_coef = data_or_null(avg_coef)
    D.avg_intercept = data_or_null(avg_intercept)
    D.l1_q = <double *>data_or_null(l1_q)
    D.l1_u = state.l1_u
    D.order = <const int64_t *>data_or_null(order)
    D.coef = cnp.PyArray_DATA(coef)
    D.intercept = data_or_null(intercept)
    D.s1_coef = data_or_null(s1_coef)
    D.s1_intercept = data_or_null(s1_intercept)
    D.s2_coef = data_or_null(s2_coef)
    D.s2_intercept = data_or_null(s2_intercept)
    D.mu_product = state.mu_product
    D.work = cnp.PyArray_DATA(work)
    D.t = t
    D.bad = -1
    with nogil:
        if scaled:
            total = fl_sgd_epoch_scaled(dt, &cfg, &D)
        else:
            total = fl_sgd_epoch(dt, &cfg, &D)
    state.t = D.t
    state.l1_u = D.l1_u
    state.mu_product = D.mu_product
    if D.bad >= 0:
        return float("nan"), D.bad
    mean = total / weight_sum if weight_sum != 0 else float("nan")
    state.epochs += 1
    (<list>state.losses).append(mean)
    return mean, -1


def objective(cnp.ndarray X, object y, object labels, cnp.ndarray coef, object intercept,
              object vec_coef, object vec_intercept, object sample_weight, str loss,
              bint hessp, double scale, double alpha, double epsilon, cnp.ndarray out_coef,
              object out_intercept, int n_threads):
    """One fused pass (csrc/objective.h) writing ``out_coef`` / ``out_intercept``; X has a
    unit column or row stride. Returns ``(sum_i w_i l_i, bad)``: bad is -1, or a row whose
    label was outside [0, c) when the kernel read it (that row then counted with weight 0).
    The pass computes in coef's dtype (that of every other float array); float64 X with
    float32 coef is the float32 pass on X rounded block by block (``x_float64``)."""
    cdef fl_objective P
    cdef int dt = FL_FLOAT64 if cnp.PyArray_TYPE(coef) == cnp.NPY_DOUBLE else FL_FLOAT32
    cdef double total
    P.loss = LOSSES[loss]
    P.hessp = hessp
    fill_samples(&P.s, X, coef, y, labels, sample_weight)
    P.x_float64 = dt == FL_FLOAT32 and cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE
    P.coef = cnp.PyArray_DATA(coef)
    P.intercept = data_or_null(intercept)
    P.vec_coef = data_or_null(vec_coef)
    P.vec_intercept = data_or_null(vec_intercept)
    P.scale = scale
    P.alpha = alpha
    P.epsilon = epsilon
    P.out_coef = cnp.PyArray_DATA(out_coef)
    P.out_intercept = data_or_null(out_intercept)
    P.n_threads = n_threads
    P.bad = -1
    cdef cnp.ndarray work = np.empty(fl_objective_work_bytes(dt, P.s.d, P.s.c, n_threads), np.uint8)
    P.work = cnp.PyArray_DATA(work)
    with nogil:
        total = fl_objective_run(dt, &P)
    return total, P.bad
