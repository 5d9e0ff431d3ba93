# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the optimizer update kernels in csrc/optim.c.

No validation here: callers (fastloss.optim.functional) pass C-contiguous,
non-overlapping arrays of one float dtype (float32 or float64) and param's size,
writeable where the kernel writes, state arrays as None exactly when their option
is off. Every call releases the GIL while the kernel runs.
"""
cimport numpy as cnp

cnp.import_array()

cdef extern from "fl_config.h" nogil:
    ctypedef Py_ssize_t fl_index
    enum:
        FL_FLOAT32
        FL_FLOAT64

cdef extern from "optim.h" nogil:
    void fl_sgd_update(int dtype, fl_index n, void *param, const void *grad,
                       void *momentum_buffer, double lr, double momentum, double dampening,
                       double weight_decay, int nesterov, int maximize, int first_step,
                       int n_threads)
    void fl_adagrad_update(int dtype, fl_index n, void *param, const void *grad,
                           void *state_sum, double step, double lr, double lr_decay,
                           double weight_decay, double eps, int maximize, int n_threads)
    void fl_rmsprop_update(int dtype, fl_index n, void *param, const void *grad,
                           void *square_avg, void *grad_avg, void *momentum_buffer, double lr,
                           double alpha, double eps, double weight_decay, double momentum,
                           int maximize, int n_threads)
    void fl_adam_update(int dtype, fl_index n, void *param, const void *grad, void *exp_avg,
                        void *exp_avg_sq, void *max_exp_avg_sq, double step, double lr,
                        double beta1, double beta2, double eps, double weight_decay,
                        int decoupled, int maximize, int n_threads)


cdef inline void *data_or_null(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline int dtype_code(cnp.ndarray a):
    return FL_FLOAT64 if cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE else FL_FLOAT32


def sgd(cnp.ndarray param, cnp.ndarray grad, object momentum_buffer, double lr,
        double momentum, double dampening, double weight_decay, bint nesterov, bint maximize,
        bint first_step, int n_threads):
    cdef int dt = dtype_code(param)
    cdef fl_index n = cnp.PyArray_SIZE(param)
    cdef void *pp = cnp.PyArray_DATA(param)
    cdef const void *pg = cnp.PyArray_DATA(grad)
    cdef void *pb = data_or_null(momentum_buffer)
    with nogil:
        fl_sgd_update(dt, n, pp, pg, pb, lr, momentum, dampening, weight_decay, nesterov,
                      maximize, first_step, n_threads)


def adagrad(cnp.ndarray param, cnp.ndarray grad, cnp.ndarray state_sum, double step,
            double lr, double lr_decay, double weight_decay, double eps, bint maximize,
            int n_threads):
    cdef int dt = dtype_code(param)
    cdef fl_index n = cnp.PyArray_SIZE(param)
    cdef void *pp = cnp.PyArray_DATA(param)
    cdef const void *pg = cnp.PyArray_DATA(grad)
    cdef void *ps = cnp.PyArray_DATA(state_sum)
    with nogil:
        fl_adagrad_update(dt, n, pp, pg, ps, step, lr, lr_decay, weight_decay, eps, maximize,
                          n_threads)


def rmsprop(cnp.ndarray param, cnp.ndarray grad, cnp.ndarray square_avg, object grad_avg,
            object momentum_buffer, double lr, double alpha, double eps, double weight_decay,
            double momentum, bint maximize, int n_threads):
    cdef int dt = dtype_code(param)
    cdef fl_index n = cnp.PyArray_SIZE(param)
    cdef void *pp = cnp.PyArray_DATA(param)
    cdef const void *pg = cnp.PyArray_DATA(grad)
    cdef void *ps = cnp.PyArray_DATA(square_avg)
    cdef void *pa = data_or_null(grad_avg)
    cdef void *pb = data_or_null(momentum_buffer)
    with nogil:
        fl_rmsprop_update(dt, n, pp, pg, ps, pa, pb, lr, alpha, eps, weight_decay, momentum,
                          maximize, n_threads)


def adam(cnp.ndarray param, cnp.ndarray grad, cnp.ndarray exp_avg, cnp.ndarray exp_avg_sq,
         object max_exp_avg_sq, double step, double lr, double beta1, double beta2, double eps,
         double weight_decay, bint decoupled, bint maximize, int n_threads):
    cdef int dt = dtype_code(param)
    cdef fl_index n = cnp.PyArray_SIZE(param)
    cdef void *pp = cnp.PyArray_DATA(param)
    cdef const void *pg = cnp.PyArray_DATA(grad)
    cdef void *pm = cnp.PyArray_DATA(exp_avg)
    cdef void *pv = cnp.PyArray_DATA(exp_avg_sq)
    cdef void *pvm = data_or_null(max_exp_avg_sq)
    with nogil:
        fl_adam_update(dt, n, pp, pg, pm, pv, pvm, step, lr, beta1, beta2, eps, weight_decay,
                       decoupled, maximize, n_threads)


def first_overlap(tuple arrays):
    """``(i, j)``, i < j, for the first two arrays whose memory intersects, else None.

    For C-contiguous arrays only (each spans exactly its ``nbytes`` from its data pointer):
    one call replaces a ``numpy.may_share_memory`` per pair on the small-call path.
    """
    cdef Py_ssize_t n = len(arrays), i, j, na, nb
    cdef char *pa
    cdef char *pb
    for j in range(n):
        pb = <char *>cnp.PyArray_DATA(<cnp.ndarray>arrays[j])
        nb = cnp.PyArray_NBYTES(<cnp.ndarray>arrays[j])
        if nb == 0:
            continue
        for i in range(j):
            pa = <char *>cnp.PyArray_DATA(<cnp.ndarray>arrays[i])
            na = cnp.PyArray_NBYTES(<cnp.ndarray>arrays[i])
            if na != 0 and pa < pb + nb and pb < pa + na:
                return (i, j)
    return None
