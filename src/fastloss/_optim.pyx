# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the optimizer update kernels in csrc/optim.c.

No validation in the plain bindings (sgd, adagrad, rmsprop, adam): callers
(fastloss.optim.functional) pass C-contiguous, non-overlapping arrays of one float dtype
(float32 or float64) and param's size, writeable where the kernel writes, state arrays
as None exactly when their option is off. The fast paths (StepPlan, *_fast) check their
arguments and decline anything else to the caller's checked path. Every call releases
the GIL while the kernels run.
"""
cimport numpy as cnp
from cpython.dict cimport PyDict_GetItem
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.object cimport PyObject
from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock,
                               PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_get_thread_ident, PyThread_release_lock,
                               PyThread_type_lock)
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


cdef inline bint _spans_meet(const void *a, Py_ssize_t na, const void *b,
                             Py_ssize_t nb) noexcept nogil:
    """Whether the byte ranges [a, a + na) and [b, b + nb) intersect (an empty one never does)."""
    cdef const char *ca = <const char *>a
    cdef const char *cb = <const char *>b
    return na != 0 and nb != 0 and ca < cb + nb and cb < ca + na


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
    cdef Py_ssize_t n = len(arrays), i, j
    cdef cnp.ndarray a, b
    for j in range(n):
        b = <cnp.ndarray>arrays[j]
        for i in range(j):
            a = <cnp.ndarray>arrays[i]
            if _spans_meet(cnp.PyArray_DATA(a), cnp.PyArray_NBYTES(a), cnp.PyArray_DATA(b),
                           cnp.PyArray_NBYTES(b)):
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

#: the largest step count accepted (fastloss.optim.functional.MAX_STEP)
MAX_STEP = 2**63 - 1

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
    int first_step


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
    return _spans_meet(a, nbytes, b, nbytes)


cdef bint _set_arrays(StepEntry *e, object p, object g):
    """Fill ``e`` from param ``p`` and grad ``g`` with no state array, if the kernel may run
    on them as they are: else False (the checked path then raises, or copies ``g``)."""
    if not _is_float_array(p) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>p):
        return False
    cdef cnp.ndarray pa = <cnp.ndarray>p
    if not _is_float_array(g) or not _matches(<cnp.ndarray>g, pa):
        return False
    e.dtype = dtype_code(pa)
    e.n = cnp.PyArray_SIZE(pa)
    e.param = cnp.PyArray_DATA(pa)
    e.grad = cnp.PyArray_DATA(<cnp.ndarray>g)
    e.state[0] = e.state[1] = e.state[2] = NULL
    return not _overlap(e.grad, e.param, cnp.PyArray_NBYTES(pa))


cdef bint _set_state(StepEntry *e, int k, object a, cnp.ndarray p):
    """Put state array ``a`` in slot ``k`` of ``e`` (param ``p``, filled by _set_arrays)
    if it is writeable, like ``p`` and disjoint from every array already in ``e``."""
    if (not _is_float_array(a) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)
            or not _matches(<cnp.ndarray>a, p)):
        return False
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(p)
    cdef void *data = cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef int i
    if _overlap(data, e.param, nbytes) or _overlap(data, e.grad, nbytes):
        return False
    for i in range(MAX_STATE):
        if i != k and e.state[i] != NULL and _overlap(data, e.state[i], nbytes):
            return False
    e.state[k] = data
    return True


cdef void _run_entry(int kind, StepEntry *e) noexcept nogil:
    if kind == _SGD:
        fl_sgd_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.hyper[0], e.hyper[1],
                      e.hyper[2], e.hyper[3], e.flags[0], e.flags[1], e.first_step,
                      e.n_threads)
    elif kind == _ADAGRAD:
        fl_adagrad_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.step, e.hyper[0],
                          e.hyper[1], e.hyper[2], e.hyper[3], e.flags[0], e.n_threads)
    elif kind == _RMSPROP:
        fl_rmsprop_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.state[1], e.state[2],
                          e.hyper[0], e.hyper[1], e.hyper[2], e.hyper[3], e.hyper[4],
                          e.flags[0], e.n_threads)
    else:
        fl_adam_update(e.dtype, e.n, e.param, e.grad, e.state[0], e.state[1], e.state[2],
                       e.step, e.hyper[0], e.hyper[1], e.hyper[2], e.hyper[3], e.hyper[4],
                       e.flags[0], e.flags[1], e.n_threads)


cdef class StepLock:
    """Serializes one optimizer's steps and checkpoints across threads (a ``with`` block, or
    taken by ``StepPlan.run`` without any Python call).

    A counter kept under the GIL decides, and only contended takers wait, on a semaphore,
    with the GIL released: uncontended, taking and giving it are a few integer operations
    (a ``threading.Lock`` added ~150 ns to a 500 ns step, a mutex ~80 ns). Not re-entrant:
    taking it again from the thread that holds it (a signal handler or callback that steps
    or saves the optimizer in the middle of a step) raises ``RuntimeError`` instead of
    deadlocking or interleaving.
    """
    cdef PyThread_type_lock wakeup  # held while nobody is woken: contended takers block on it
    cdef Py_ssize_t takers          # threads holding or waiting (changed with the GIL held)
    cdef unsigned long owner        # the holding thread's ident, 0 when free

    def __cinit__(self):
        self.wakeup = PyThread_allocate_lock()
        if self.wakeup == NULL:
            raise MemoryError()
        PyThread_acquire_lock(self.wakeup, WAIT_LOCK)
        self.takers = 0
        self.owner = 0

    def __dealloc__(self):
        if self.wakeup != NULL:
            PyThread_release_lock(self.wakeup)
            PyThread_free_lock(self.wakeup)

    cdef int take(self) except -1:
        cdef unsigned long me = PyThread_get_thread_ident()
        if self.owner == me:
            raise RuntimeError("this optimizer is already being stepped or saved by this "
                               "thread (re-entered from a signal handler or a callback?)")
        self.takers += 1
        if self.takers > 1:  # held by another thread: wait until give() hands it over
            with nogil:
                PyThread_acquire_lock(self.wakeup, WAIT_LOCK)
        self.owner = me
        return 0

    cdef void give(self) noexcept:
        self.owner = 0
        self.takers -= 1
        if self.takers > 0:  # a waiter: wake exactly one, it holds the lock now
            PyThread_release_lock(self.wakeup)

    def __enter__(self):
        self.take()
        return self

    def __exit__(self, *exc_info):
        self.give()
        return False


cdef class StepPlan:
    """The fast path of ``Optimizer.step`` for one optimizer kind (``KIND_*``).

    ``run(lock, groups, specs, grads, state, threshold, get_threads, fresh)`` holds the
    optimizer's ``StepLock`` and returns ``RAN``
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

    def run(self, StepLock lock not None, list groups, list specs, object grads, dict state,
            Py_ssize_t threshold, object get_threads, bint fresh=False):
        lock.take()  # the entries, and the state, are this run's alone
        try:
            return self._run(groups, specs, grads, state, threshold, get_threads, fresh)
        finally:
            lock.give()

    cdef int _run(self, list groups, list specs, object grads, dict state,
                  Py_ssize_t threshold, object get_threads, bint fresh) except -1:
        cdef Py_ssize_t n_groups = len(groups), total = 0, gi, i, j, k, m = 0, index = 0
        cdef Py_ssize_t n_hyper, n_flags
        cdef object group, params, spec, g, p, st, a, name, step_obj
        cdef tuple keys, values, hyper, flags, names
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
            # get_threads() below is Python code: another thread may change these lists
            # meanwhile, so every index is checked against the lists as they are now
            if gi >= len(groups) or type(groups[gi]) is not dict:
                return RUN_CHECKED
            found = PyDict_GetItem(<dict>groups[gi], "params")
            if found == NULL or type(<object>found) is not list:
                return RUN_CHECKED
            params = <object>found
            for j in range(len(<list>params)):
                if (j >= len(<list>params) or index >= len(grads) or m >= self.capacity):
                    return RUN_CHECKED
                g = grads[index]
                if g is None:
                    index += 1
                    continue
                p = (<list>params)[j]
                found = PyDict_GetItem(state, index)
                if found == NULL or type(<object>found) is not dict:
                    return RUN_CHECKED
                st = <object>found
                e = &self.entries[m]
                if not _set_arrays(e, p, g):
                    return RUN_CHECKED
                for k in range(len(names)):
                    name = names[k]
                    if name is None:
                        continue
                    found = PyDict_GetItem(<dict>st, name)
                    if found == NULL:
                        return RUN_CHECKED
                    a = <object>found
                    if not _set_state(e, k, a, <cnp.ndarray>p):
                        return RUN_CHECKED
                    keep.append(a)
                if uses_step:
                    found = PyDict_GetItem(<dict>st, "step")
                    if found == NULL or type(<object>found) is not int:
                        return RUN_CHECKED
                    step_obj = <object>found + 1
                    if not 1 <= step_obj <= MAX_STEP:  # the checked path says what is wrong
                        return RUN_CHECKED
                    e.step = <double>step_obj
                    bumps.append(st)
                    bumps.append(step_obj)
                else:
                    e.step = 0.0
                e.first_step = 0
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
                _run_entry(kind, &self.entries[i])
        for i in range(0, len(bumps), 2):
            (<dict>bumps[i])["step"] = bumps[i + 1]
        return RAN


# ---- the functional updates' fast path ---------------------------------------------------
# ``*_fast(...)`` runs the update and returns True only for arguments the checked path in
# fastloss.optim.functional accepts unchanged: Python float (or int) hyper-parameters in
# range, bool flags, an int step >= 1, arrays as the kernels want them. Otherwise it returns
# False having changed nothing, and the caller runs the checked path (errors, copies).

cdef extern from "math.h" nogil:
    const double INFINITY


cdef inline bint _real(object v, double upper, double *out):
    """A float (or int) in [0, upper)."""
    cdef double x
    if type(v) is float:
        x = PyFloat_AS_DOUBLE(v)
    elif type(v) is int:
        try:
            x = v
        except OverflowError:
            return False
    else:
        return False
    out[0] = x
    return 0.0 <= x < upper


cdef inline bint _flag(object v, int *out):
    if type(v) is not bool:
        return False
    out[0] = v is True
    return True


cdef inline bint _step(object v, double *out):
    if type(v) is not int or not 1 <= v <= MAX_STEP:
        return False
    try:
        out[0] = v
    except OverflowError:
        return False
    return True


cdef inline int _threads(fl_index n, Py_ssize_t threshold, object get_threads) except -1:
    return 1 if n < threshold else get_threads()


def sgd_fast(param, grad, momentum_buffer, first_step, lr, momentum, dampening,
             weight_decay, nesterov, maximize, Py_ssize_t threshold, get_threads):
    cdef StepEntry e
    if not (_real(lr, INFINITY, &e.hyper[0]) and _real(momentum, INFINITY, &e.hyper[1])
            and _real(dampening, INFINITY, &e.hyper[2])
            and _real(weight_decay, INFINITY, &e.hyper[3]) and _flag(nesterov, &e.flags[0])
            and _flag(maximize, &e.flags[1]) and _flag(first_step, &e.first_step)
            and _set_arrays(&e, param, grad)):
        return False
    if e.flags[0] and (e.hyper[1] <= 0 or e.hyper[2] != 0):
        return False
    if e.hyper[1] != 0 and (momentum_buffer is None
                            or not _set_state(&e, 0, momentum_buffer, <cnp.ndarray>param)):
        return False
    e.step = 0.0
    e.n_threads = _threads(e.n, threshold, get_threads)
    with nogil:
        _run_entry(_SGD, &e)
    return True


def adagrad_fast(param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize,
                 Py_ssize_t threshold, get_threads):
    cdef StepEntry e
    if not (_step(step, &e.step) and _real(lr, INFINITY, &e.hyper[0])
            and _real(lr_decay, INFINITY, &e.hyper[1])
            and _real(weight_decay, INFINITY, &e.hyper[2]) and _real(eps, INFINITY, &e.hyper[3])
            and _flag(maximize, &e.flags[0]) and _set_arrays(&e, param, grad)
            and _set_state(&e, 0, state_sum, <cnp.ndarray>param)):
        return False
    e.first_step = 0
    e.n_threads = _threads(e.n, threshold, get_threads)
    with nogil:
        _run_entry(_ADAGRAD, &e)
    return True


def rmsprop_fast(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize, Py_ssize_t threshold,
                 get_threads):
    cdef StepEntry e
    cdef int is_centered
    if not (_real(lr, INFINITY, &e.hyper[0]) and _real(alpha, INFINITY, &e.hyper[1])
            and _real(eps, INFINITY, &e.hyper[2]) and _real(weight_decay, INFINITY, &e.hyper[3])
            and _real(momentum, INFINITY, &e.hyper[4]) and _flag(centered, &is_centered)
            and _flag(maximize, &e.flags[0]) and _set_arrays(&e, param, grad)
            and _set_state(&e, 0, square_avg, <cnp.ndarray>param)):
        return False
    if is_centered and (grad_avg is None
                        or not _set_state(&e, 1, grad_avg, <cnp.ndarray>param)):
        return False
    if e.hyper[4] > 0 and (momentum_buffer is None
                           or not _set_state(&e, 2, momentum_buffer, <cnp.ndarray>param)):
        return False
    e.step = 0.0
    e.first_step = 0
    e.n_threads = _threads(e.n, threshold, get_threads)
    with nogil:
        _run_entry(_RMSPROP, &e)
    return True


def adam_fast(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, betas, eps,
              weight_decay, amsgrad, maximize, bint decoupled, Py_ssize_t threshold,
              get_threads):
    cdef StepEntry e
    cdef int is_amsgrad
    if type(betas) is not tuple or len(<tuple>betas) != 2:
        return False
    if not (_step(step, &e.step) and _real(lr, INFINITY, &e.hyper[0])
            and _real((<tuple>betas)[0], 1.0, &e.hyper[1])
            and _real((<tuple>betas)[1], 1.0, &e.hyper[2]) and _real(eps, INFINITY, &e.hyper[3])
            and _real(weight_decay, INFINITY, &e.hyper[4]) and _flag(amsgrad, &is_amsgrad)
            and _flag(maximize, &e.flags[1]) and _set_arrays(&e, param, grad)
            and _set_state(&e, 0, exp_avg, <cnp.ndarray>param)
            and _set_state(&e, 1, exp_avg_sq, <cnp.ndarray>param)):
        return False
    if is_amsgrad and (max_exp_avg_sq is None
                       or not _set_state(&e, 2, max_exp_avg_sq, <cnp.ndarray>param)):
        return False
    e.flags[0] = decoupled
    e.first_step = 0
    e.n_threads = _threads(e.n, threshold, get_threads)
    with nogil:
        _run_entry(_ADAM, &e)
    return True
