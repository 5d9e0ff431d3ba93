# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the optimizer update kernels in csrc/optim.c.

No validation here (except StepPlan, which checks and declines): callers
(fastloss.optim.functional) pass C-contiguous,
non-overlapping arrays of one float dtype (float32 or float64) and param's size,
writeable where the kernel writes, state arrays as None exactly when their option
is off. Every call releases the GIL while the kernel runs.
"""
cimport numpy as cnp
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject
from libc.stdlib cimport free, realloc

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


# ---- Optimizer.step's fast path ---------------------------------------------------------
# One call checks every array of every group (exact ndarray, native float dtype, C order,
# writeable where written, matching shapes, no overlaps) without touching anything, then
# runs all kernels under one GIL release. Anything unusual returns RUN_CHECKED: the caller
# then takes the fully checked Python path, which raises the proper error or handles the
# case (first step, non-contiguous or aliased gradient, subclass arrays).

cdef enum:
    MAX_STATE = 3
    MAX_HYPER = 6
    MAX_FLAGS = 2

cdef enum:
    _SGD = 0
    _ADAGRAD = 1
    _RMSPROP = 2
    _ADAM = 3

KIND_SGD = _SGD
KIND_ADAGRAD = _ADAGRAD
KIND_RMSPROP = _RMSPROP
KIND_ADAM = _ADAM

RAN = 0
RUN_CHECKED = 1
REFRESH_HYPER = 2

ctypedef struct StepEntry:
    int dtype
    fl_index n
    int n_threads
    void *param
    const void *grad
    void *state[MAX_STATE]
    double step
    double hyper[MAX_HYPER]
    int flags[MAX_FLAGS]


cdef inline bint _is_float_array(object a):
    """An exact ndarray of native float32/float64 in C order (what the kernels read)."""
    if type(a) is not cnp.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int t = cnp.PyArray_TYPE(arr)
    return ((t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT) and cnp.PyArray_ISNOTSWAPPED(arr)
            and cnp.PyArray_IS_C_CONTIGUOUS(arr))


cdef inline bint _matches(cnp.ndarray a, cnp.ndarray p):
    """Same dtype and shape as p."""
    cdef int nd = cnp.PyArray_NDIM(p), i
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(p) or cnp.PyArray_NDIM(a) != nd:
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *dp = cnp.PyArray_DIMS(p)
    for i in range(nd):
        if da[i] != dp[i]:
            return False
    return True


cdef inline bint _overlap(const void *a, const void *b, Py_ssize_t nbytes) noexcept nogil:
    cdef const char *ca = <const char *>a
    cdef const char *cb = <const char *>b
    return nbytes != 0 and ca < cb + nbytes and cb < ca + nbytes


cdef class StepPlan:
    """The fast path of ``Optimizer.step`` for one optimizer kind (``KIND_*``).

    ``run(groups, specs, grads, state, threshold, get_threads, fresh)`` returns ``RAN``
    (every update done, ``state[i]["step"]`` incremented in place), ``REFRESH_HYPER`` (a
    group's hyper-parameters are not the ones ``specs`` was checked for) or ``RUN_CHECKED``
    (some input needs the checked path); nothing has changed unless it returns ``RAN``.

    ``specs[i]`` is ``(group, keys, values, hyper, flags, names)`` for ``groups[i]``:
    the group dict and the objects ``values`` its ``keys`` held when they were checked
    (``values`` None: valid only for a ``fresh`` call), the kernel's hyper-parameters and
    flags, and the state entry names of the kernel's state arrays (None: not used).
    """
    cdef int kind
    cdef StepEntry *entries
    cdef Py_ssize_t capacity

    def __cinit__(self, int kind):
        self.kind = kind
        self.entries = NULL
        self.capacity = 0

    def __dealloc__(self):
        free(self.entries)

    cdef int _reserve(self, Py_ssize_t n) except -1:
        cdef StepEntry *grown
        if n > self.capacity:
            grown = <StepEntry *>realloc(self.entries, n * sizeof(StepEntry))
            if grown == NULL:
                raise MemoryError()
            self.entries = grown
            self.capacity = n
        return 0

    def run(self, list groups, list specs, object grads, dict state, Py_ssize_t threshold,
            object get_threads, bint fresh=False):
        cdef Py_ssize_t n_groups = len(groups), total = 0, gi, i, j, k, m = 0, index = 0
        cdef Py_ssize_t nbytes, n_hyper, n_flags
        cdef object group, params, spec, g, p, st, a, name, step_obj
        cdef tuple keys, values, hyper, flags, names
        cdef cnp.ndarray pa
        cdef PyObject *found
        cdef StepEntry *e
        cdef bint uses_step = self.kind != _SGD
        cdef int n_threads = -1, kind = self.kind
        if type(grads) is not list and type(grads) is not tuple:
            return RUN_CHECKED
        if len(specs) != n_groups:
            return REFRESH_HYPER
        for gi in range(n_groups):
            group = groups[gi]
            if type(group) is not dict:
                return RUN_CHECKED
            spec = specs[gi]
            if (<tuple>spec)[0] is not group:
                return REFRESH_HYPER
            if not fresh:
                values = (<tuple>spec)[2]
                if values is None:
                    return REFRESH_HYPER
                keys = (<tuple>spec)[1]
                for k in range(len(keys)):
                    found = PyDict_GetItem(<dict>group, keys[k])
                    if found == NULL or <object>found is not values[k]:
                        return REFRESH_HYPER
            found = PyDict_GetItem(<dict>group, "params")
            if found == NULL or type(<object>found) is not list:
                return RUN_CHECKED
            total += len(<list>found)
        if len(grads) != total:
            return RUN_CHECKED
        self._reserve(total)
        keep = []  # owns every array below while the GIL is released
        bumps = []  # state dict, its new step count; written once every kernel has run
        for gi in range(n_groups):
            spec = specs[gi]
            hyper = (<tuple>spec)[3]
            flags = (<tuple>spec)[4]
            names = (<tuple>spec)[5]
            n_hyper = len(hyper)
            n_flags = len(flags)
            if n_hyper > MAX_HYPER or n_flags > MAX_FLAGS or len(names) > MAX_STATE:
                return RUN_CHECKED
            params = (<dict>groups[gi])["params"]
            for j in range(len(<list>params)):
                g = grads[index]
                if g is None:
                    index += 1
                    continue
                p = (<list>params)[j]
                if not _is_float_array(p) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>p):
                    return RUN_CHECKED
                pa = <cnp.ndarray>p
                if not _is_float_array(g) or not _matches(<cnp.ndarray>g, pa):
                    return RUN_CHECKED
                found = PyDict_GetItem(state, index)
                if found == NULL or type(<object>found) is not dict:
                    return RUN_CHECKED
                st = <object>found
                e = &self.entries[m]
                e.dtype = FL_FLOAT64 if cnp.PyArray_TYPE(pa) == cnp.NPY_DOUBLE else FL_FLOAT32
                e.n = cnp.PyArray_SIZE(pa)
                nbytes = cnp.PyArray_NBYTES(pa)
                e.param = cnp.PyArray_DATA(pa)
                e.grad = cnp.PyArray_DATA(<cnp.ndarray>g)
                if _overlap(e.grad, e.param, nbytes):
                    return RUN_CHECKED
                for k in range(MAX_STATE):
                    e.state[k] = NULL
                    if k >= len(names):
                        continue
                    name = names[k]
                    if name is None:
                        continue
                    found = PyDict_GetItem(<dict>st, name)
                    if found == NULL:
                        return RUN_CHECKED
                    a = <object>found
                    if (not _is_float_array(a) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)
                            or not _matches(<cnp.ndarray>a, pa)):
                        return RUN_CHECKED
                    e.state[k] = cnp.PyArray_DATA(<cnp.ndarray>a)
                    if _overlap(e.state[k], e.param, nbytes) or _overlap(e.state[k], e.grad,
                                                                         nbytes):
                        return RUN_CHECKED
                    for i in range(k):
                        if e.state[i] != NULL and _overlap(e.state[k], e.state[i], nbytes):
                            return RUN_CHECKED
                    keep.append(a)
                if uses_step:
                    found = PyDict_GetItem(<dict>st, "step")
                    if found == NULL or type(<object>found) is not int:
                        return RUN_CHECKED
                    step_obj = <object>found + 1
                    e.step = <double>step_obj
                    bumps.append(st)
                    bumps.append(step_obj)
                else:
                    e.step = 0.0
                for k in range(n_hyper):
                    e.hyper[k] = hyper[k]
                for k in range(n_flags):
                    e.flags[k] = flags[k]
                if e.n < threshold:
                    e.n_threads = 1
                else:
                    if n_threads < 0:
                        n_threads = get_threads()
                    e.n_threads = n_threads
                keep.append(p)
                keep.append(g)
                m += 1
                index += 1
        with nogil:
            for i in range(m):
                e = &self.entries[i]
                if kind == _SGD:
                    fl_sgd_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.hyper[0],
                                  e.hyper[1], e.hyper[2], e.hyper[3], e.flags[0], e.flags[1],
                                  0, e.n_threads)
                elif kind == _ADAGRAD:
                    fl_adagrad_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.step,
                                      e.hyper[0], e.hyper[1], e.hyper[2], e.hyper[3],
                                      e.flags[0], e.n_threads)
                elif kind == _RMSPROP:
                    fl_rmsprop_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.state[1],
                                      e.state[2], e.hyper[0], e.hyper[1], e.hyper[2],
                                      e.hyper[3], e.hyper[4], e.flags[0], e.n_threads)
                else:
                    fl_adam_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.state[1],
                                   e.state[2], e.step, e.hyper[0], e.hyper[1], e.hyper[2],
                                   e.hyper[3], e.hyper[4], e.flags[0], e.flags[1],
                                   e.n_threads)
        for i in range(0, len(bumps), 2):
            (<dict>bumps[i])["step"] = bumps[i + 1]
        return RAN
