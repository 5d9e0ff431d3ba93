# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the SGD epoch (per sample or mini-batch, csrc/linear.c) and of the fused
linear-model objective (csrc/objective.c).

No validation here: fastloss.linear passes X of float32/float64 with strides that are
multiples of its itemsize, and C-contiguous coef/intercept/state/work/y/sample_weight
of X's dtype, int64 labels and order, matching sizes (work: 2 d + 2 c elements, plus
(d + 1) c when batch_size > 1), batch_size >= 1 and no overlap between written and read
arrays. The kernel runs with the GIL released; it checks each label and order entry as
it reads it, and stops (reporting where) rather than index out of bounds.
"""
cimport numpy as cnp
from libc.stdint cimport int64_t

import numpy as np

from fastloss._kernels cimport *

cnp.import_array()

LOSSES = {"squared_error": FL_LIN_SQUARED, "absolute": FL_LIN_ABSOLUTE,
          "huber": FL_LIN_HUBER, "logistic": FL_LIN_LOGISTIC, "softmax": FL_LIN_SOFTMAX}
OPTIMIZERS = {"sgd": FL_OPT_SGD, "momentum": FL_OPT_MOMENTUM, "adagrad": FL_OPT_ADAGRAD,
              "rmsprop": FL_OPT_RMSPROP, "adam": FL_OPT_ADAM, "adamw": FL_OPT_ADAMW}
SCHEDULES = {"constant": FL_LR_CONSTANT, "invscaling": FL_LR_INVSCALING}


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
              fl_index batch_size=1):
    """Runs one epoch and records it in ``state`` (an EpochState), in this one call: no
    Python bytecode runs between the kernel and the record, so a KeyboardInterrupt lands
    before or after both. Returns ``(mean loss, bad)``: bad is -1, or the visit at which the
    kernel stopped on an out-of-range order entry or label (then only ``state.t`` records
    the updates done)."""
    cdef fl_sgd_config cfg
    cdef fl_sgd_data D
    cdef int dt = FL_FLOAT64 if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE else FL_FLOAT32
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
    fill_samples(&D.s, X, coef, y, labels, sample_weight)
    D.order = <const int64_t *>data_or_null(order)
    D.coef = cnp.PyArray_DATA(coef)
    D.intercept = data_or_null(intercept)
    D.s1_coef = data_or_null(s1_coef)
    D.s1_intercept = data_or_null(s1_intercept)
    D.s2_coef = data_or_null(s2_coef)
    D.s2_intercept = data_or_null(s2_intercept)
    D.work = cnp.PyArray_DATA(work)
    D.t = t
    D.bad = -1
    with nogil:
        total = fl_sgd_epoch(dt, &cfg, &D)
    state.t = D.t
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
    label was outside [0, c) when the kernel read it (that row then counted with weight 0)."""
    cdef fl_objective P
    cdef int dt = FL_FLOAT64 if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE else FL_FLOAT32
    cdef double total
    P.loss = LOSSES[loss]
    P.hessp = hessp
    fill_samples(&P.s, X, coef, y, labels, sample_weight)
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
