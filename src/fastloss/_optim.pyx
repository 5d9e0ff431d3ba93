# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the optimizer update kernels in csrc/optim.c.

Sections: the rule table and the plain binding (``update``), the arrays checks the fast
paths share, ``StepLock``, ``StepPlan`` (``Optimizer.step``'s fast path) and the functional
updates' fast path (``*_fast``).

No validation in the plain binding: callers (fastloss.optim.functional) pass C-contiguous,
non-overlapping arrays of one float dtype (float32 or float64) and param's size, writeable
where the kernel writes, state arrays as None exactly when their option is off, and the
rule's hyper-parameters checked. The fast paths (StepPlan, *_fast) check their arguments and
decline anything else to the caller's checked path. Every call releases the GIL while the
kernels run.

Hyper-parameters travel as the C structs of optim.h (``fl_<rule>_hyper``, mirrored in
_kernels.pxd), filled by field name: from a dict of the struct's fields (Cython's
dict-to-struct conversion, ``Hyper``) or field by field in the ``*_fast`` functions.
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
from libc.string cimport memset

from fastloss._kernels cimport (FL_FLOAT32, FL_FLOAT64, FL_RULE_ADAGRAD, FL_RULE_ADAM,
                                FL_RULE_RMSPROP, FL_RULE_SGD, FL_UPDATE_MAX_STATE,
                                FL_UPDATE_RULE_COUNT, fl_index, fl_update, fl_update_call,
                                fl_update_hyper, fl_update_rule, fl_update_rule_field_counts,
                                fl_update_rule_fields, fl_update_rule_names,
                                fl_update_rule_states)

cnp.import_array()

# ---- the rule table and the plain binding -------------------------------------------------

#: the update rules' names, indexed by their C code (fl_update_rule_names)
UPDATE_RULES = tuple(fl_update_rule_names[i].decode() for i in range(FL_UPDATE_RULE_COUNT))
#: how many state arrays each rule keeps, indexed by code (fl_update_rule_states)
UPDATE_RULE_STATES = tuple(fl_update_rule_states[i] for i in range(FL_UPDATE_RULE_COUNT))
#: each rule's hyper-parameter struct as (field name, is a flag (C int, else double)) in
#: the struct's order, indexed by code (fl_update_rule_fields)
UPDATE_RULE_FIELDS = tuple(
    tuple((fl_update_rule_fields[i][k].name.decode(), bool(fl_update_rule_fields[i][k].is_int))
          for k in range(fl_update_rule_field_counts[i]))
    for i in range(FL_UPDATE_RULE_COUNT))

#: the largest step count accepted (fastloss.optim.functional.MAX_STEP)
MAX_STEP = 2**63 - 1


cdef int _pack(int rule, object fields, fl_update_hyper *out) except -1:
    """``out``'s member for ``rule`` from the mapping ``fields`` (every field of the
    struct by name; other keys are ignored)."""
    if rule == FL_RULE_SGD:
        out.sgd = fields
    elif rule == FL_RULE_ADAGRAD:
        out.adagrad = fields
    elif rule == FL_RULE_RMSPROP:
        out.rmsprop = fields
    elif rule == FL_RULE_ADAM:
        out.adam = fields
    else:
        raise ValueError(f"no update rule has code {rule}")
    return 0


cdef object _unpack(int rule, const fl_update_hyper *h):
    if rule == FL_RULE_SGD:
        return h.sgd
    elif rule == FL_RULE_ADAGRAD:
        return h.adagrad
    elif rule == FL_RULE_RMSPROP:
        return h.rmsprop
    elif rule == FL_RULE_ADAM:
        return h.adam
    raise ValueError(f"no update rule has code {rule}")


cdef class Hyper:
    """One rule's hyper-parameters as the kernel takes them (the ``fl_<rule>_hyper``
    struct), filled by field name from a dict: ``Hyper(rule, {"lr": 0.1, ...})``.
    ``fields()`` gives them back as a dict."""
    cdef readonly int rule
    cdef fl_update_hyper h

    def __cinit__(self, int rule, object fields):
        memset(&self.h, 0, sizeof(self.h))
        _pack(rule, fields, &self.h)
        self.rule = rule

    def fields(self):
        return _unpack(self.rule, &self.h)


cdef inline void *data_or_null(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline int dtype_code(cnp.ndarray a):
    return FL_FLOAT64 if cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE else FL_FLOAT32


def update(Hyper hyper not None, cnp.ndarray param, cnp.ndarray grad, tuple state,
           double step, bint first_step, int n_threads):
    """One update of ``param`` by rule ``hyper.rule``; ``state`` holds the rule's state
    arrays in the struct's order (``None`` where unused), ``step`` the 1-based count after
    increment (rules that count), ``first_step`` SGD's "the buffer holds nothing yet"."""
    cdef fl_update_call c
    cdef Py_ssize_t k
    c.dtype = dtype_code(param)
    c.n = cnp.PyArray_SIZE(param)
    c.param = cnp.PyArray_DATA(param)
    c.grad = cnp.PyArray_DATA(grad)
    for k in range(FL_UPDATE_MAX_STATE):
        c.state[k] = data_or_null(state[k]) if k < len(state) else NULL
    c.step = step
    c.first_step = first_step
    c.n_threads = n_threads
    with nogil:
        fl_update(<fl_update_rule>hyper.rule, &hyper.h, &c)


cdef inline bint _spans_meet(const void *a, Py_ssize_t na, const void *b,
                             Py_ssize_t nb) noexcept nogil:
    """Whether the byte ranges [a, a + na) and [b, b + nb) intersect (an empty one never does)."""
    cdef const char *ca = <const char *>a
    cdef const char *cb = <const char *>b
    return na != 0 and nb != 0 and ca < cb + nb and cb < ca + na


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


# ---- the fast paths' array checks -------------------------------------------------------
# One call checks every array (exact ndarray, native float dtype, C order, writeable where
# written, matching shapes, no overlaps) without touching anything. Anything unusual makes
# the fast path decline: the caller then takes the fully checked Python path, which raises
# the proper error or handles the case (first step, non-contiguous or aliased gradient,
# subclass arrays).

RAN = 0
RUN_CHECKED = 1
REFRESH_HYPER = 2

ctypedef struct StepEntry:
    fl_update_call call
    fl_update_hyper hyper


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


cdef bint _set_arrays(fl_update_call *c, object p, object g):
    """Fill ``c`` from param ``p`` and grad ``g`` with no state array, if the kernel may run
    on them as they are: else False (the checked path then raises, or copies ``g``)."""
    if not _is_float_array(p) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>p):
        return False
    cdef cnp.ndarray pa = <cnp.ndarray>p
    if not _is_float_array(g) or not _matches(<cnp.ndarray>g, pa):
        return False
    c.dtype = dtype_code(pa)
    c.n = cnp.PyArray_SIZE(pa)
    c.param = cnp.PyArray_DATA(pa)
    c.grad = cnp.PyArray_DATA(<cnp.ndarray>g)
    cdef int k
    for k in range(FL_UPDATE_MAX_STATE):
        c.state[k] = NULL
    c.step = 0.0
    c.first_step = 0
    return not _overlap(c.grad, c.param, cnp.PyArray_NBYTES(pa))


cdef bint _set_state(fl_update_call *c, int k, object a, cnp.ndarray p):
    """Put state array ``a`` in slot ``k`` of ``c`` (param ``p``, filled by _set_arrays)
    if it is writeable, like ``p`` and disjoint from every array already in ``c``."""
    if (not _is_float_array(a) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)
            or not _matches(<cnp.ndarray>a, p)):
        return False
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(p)
    cdef void *data = cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef int i
    if _overlap(data, c.param, nbytes) or _overlap(data, c.grad, nbytes):
        return False
    for i in range(FL_UPDATE_MAX_STATE):
        if i != k and c.state[i] != NULL and _overlap(data, c.state[i], nbytes):
            return False
    c.state[k] = data
    return True


# ---- StepLock ---------------------------------------------------------------------------

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
    """The fast path of ``Optimizer.step`` for one update rule (its code in ``UPDATE_RULES``;
    ``counts_steps``: the parameters' state holds a ``"step"`` count).

    ``run(lock, groups, specs, grads, state, threshold, get_threads, fresh)`` holds the
    optimizer's ``StepLock`` and returns ``RAN``
    (every update done, ``state[i]["step"]`` incremented in place), ``REFRESH_HYPER`` (a
    group's hyper-parameters are not the ones ``specs`` was checked for) or ``RUN_CHECKED``
    (some input needs the checked path); nothing has changed unless it returns ``RAN``.

    ``specs[i]`` is ``(group, keys, values, hyper, names)`` for ``groups[i]``:
    the group dict and the objects ``values`` its ``keys`` held when they were checked
    (``values`` None: valid only for a ``fresh`` call), the kernel's hyper-parameters (a
    ``Hyper`` of this rule) and the state entry names of the kernel's state arrays in the
    struct's order (None: not used).
    """
    cdef int rule
    cdef bint counts_steps
    cdef StepEntry *entries
    cdef Py_ssize_t capacity

    def __cinit__(self, int rule, bint counts_steps):
        if not 0 <= rule < FL_UPDATE_RULE_COUNT:
            raise ValueError(f"no update rule has code {rule}")
        self.rule = rule
        self.counts_steps = counts_steps
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
        cdef object group, params, spec, g, p, st, a, name, step_obj, hyper
        cdef tuple keys, values, names
        cdef PyObject *found
        cdef StepEntry *e
        cdef bint uses_step = self.counts_steps
        cdef int n_threads = -1, rule = self.rule
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
            names = (<tuple>spec)[4]
            if (type(hyper) is not Hyper or (<Hyper>hyper).rule != rule
                    or len(names) > FL_UPDATE_MAX_STATE):
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
                if not _set_arrays(&e.call, p, g):
                    return RUN_CHECKED
                for k in range(len(names)):
                    name = names[k]
                    if name is None:
                        continue
                    found = PyDict_GetItem(<dict>st, name)
                    if found == NULL:
                        return RUN_CHECKED
                    a = <object>found
                    if not _set_state(&e.call, k, a, <cnp.ndarray>p):
                        return RUN_CHECKED
                    keep.append(a)
                if uses_step:
                    found = PyDict_GetItem(<dict>st, "step")
                    if found == NULL or type(<object>found) is not int:
                        return RUN_CHECKED
                    step_obj = <object>found + 1
                    if not 1 <= step_obj <= MAX_STEP:  # the checked path says what is wrong
                        return RUN_CHECKED
                    e.call.step = <double>step_obj
                    bumps.append(st)
                    bumps.append(step_obj)
                e.hyper = (<Hyper>hyper).h
                if e.call.n < threshold:
                    e.call.n_threads = 1
                else:
                    if n_threads < 0:
                        n_threads = get_threads()
                    e.call.n_threads = n_threads
                keep.append(p)
                keep.append(g)
                m += 1
                index += 1
        with nogil:
            for i in range(m):
                fl_update(<fl_update_rule>rule, &self.entries[i].hyper,
                          &self.entries[i].call)
        for i in range(0, len(bumps), 2):
            (<dict>bumps[i])["step"] = bumps[i + 1]
        return RAN


# ---- the functional updates' fast path ---------------------------------------------------
# ``*_fast(...)`` runs the update and returns True only for arguments the checked path in
# fastloss.optim.functional accepts unchanged: Python float (or int) hyper-parameters in
# their registry constraint (NON_NEGATIVE: [0, inf); UNIT_OPEN: [0, 1)), bool flags, an int
# step >= 1, arrays as the kernels want them. Otherwise it returns False having changed
# nothing, and the caller runs the checked path (errors, copies). Each fills its rule's
# struct field by field (tests/test_optim_registry.py checks the constraints against the
# registry's).

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


cdef inline bint _run(fl_update_rule rule, StepEntry *e, Py_ssize_t threshold,
                      object get_threads) except -1:
    """Run the checked entry ``e`` (threads: 1 below ``threshold``); returns True."""
    e.call.n_threads = 1 if e.call.n < threshold else get_threads()
    with nogil:
        fl_update(rule, &e.hyper, &e.call)
    return True


def sgd_fast(param, grad, momentum_buffer, first_step, lr, momentum, dampening,
             weight_decay, nesterov, maximize, Py_ssize_t threshold, get_threads):
    cdef StepEntry e
    cdef int first
    if not (_real(lr, INFINITY, &e.hyper.sgd.lr)
            and _real(momentum, INFINITY, &e.hyper.sgd.momentum)
            and _real(dampening, INFINITY, &e.hyper.sgd.dampening)
            and _real(weight_decay, INFINITY, &e.hyper.sgd.weight_decay)
            and _flag(nesterov, &e.hyper.sgd.nesterov) and _flag(maximize, &e.hyper.sgd.maximize)
            and _flag(first_step, &first) and _set_arrays(&e.call, param, grad)):
        return False
    if e.hyper.sgd.nesterov and (e.hyper.sgd.momentum <= 0 or e.hyper.sgd.dampening != 0):
        return False
    if e.hyper.sgd.momentum != 0 and (
            momentum_buffer is None
            or not _set_state(&e.call, 0, momentum_buffer, <cnp.ndarray>param)):
        return False
    e.call.first_step = first
    return _run(FL_RULE_SGD, &e, threshold, get_threads)


def adagrad_fast(param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize,
                 Py_ssize_t threshold, get_threads):
    cdef StepEntry e
    cdef double count
    if not (_step(step, &count) and _real(lr, INFINITY, &e.hyper.adagrad.lr)
            and _real(lr_decay, INFINITY, &e.hyper.adagrad.lr_decay)
            and _real(weight_decay, INFINITY, &e.hyper.adagrad.weight_decay)
            and _real(eps, INFINITY, &e.hyper.adagrad.eps)
            and _flag(maximize, &e.hyper.adagrad.maximize) and _set_arrays(&e.call, param, grad)
            and _set_state(&e.call, 0, state_sum, <cnp.ndarray>param)):
        return False
    e.call.step = count
    return _run(FL_RULE_ADAGRAD, &e, threshold, get_threads)


def rmsprop_fast(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
                 weight_decay, momentum, centered, maximize, Py_ssize_t threshold,
                 get_threads):
    cdef StepEntry e
    if not (_real(lr, INFINITY, &e.hyper.rmsprop.lr)
            and _real(alpha, INFINITY, &e.hyper.rmsprop.alpha)
            and _real(eps, INFINITY, &e.hyper.rmsprop.eps)
            and _real(weight_decay, INFINITY, &e.hyper.rmsprop.weight_decay)
            and _real(momentum, INFINITY, &e.hyper.rmsprop.momentum)
            and _flag(centered, &e.hyper.rmsprop.centered)
            and _flag(maximize, &e.hyper.rmsprop.maximize) and _set_arrays(&e.call, param, grad)
            and _set_state(&e.call, 0, square_avg, <cnp.ndarray>param)):
        return False
    if e.hyper.rmsprop.centered and (
            grad_avg is None or not _set_state(&e.call, 1, grad_avg, <cnp.ndarray>param)):
        return False
    if e.hyper.rmsprop.momentum > 0 and (
            momentum_buffer is None
            or not _set_state(&e.call, 2, momentum_buffer, <cnp.ndarray>param)):
        return False
    return _run(FL_RULE_RMSPROP, &e, threshold, get_threads)


def adam_fast(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, betas, eps,
              weight_decay, amsgrad, maximize, bint decoupled, Py_ssize_t threshold,
              get_threads):
    cdef StepEntry e
    cdef double count
    if type(betas) is not tuple or len(<tuple>betas) != 2:
        return False
    if not (_step(step, &count) and _real(lr, INFINITY, &e.hyper.adam.lr)
            and _real((<tuple>betas)[0], 1.0, &e.hyper.adam.beta1)
            and _real((<tuple>betas)[1], 1.0, &e.hyper.adam.beta2)
            and _real(eps, INFINITY, &e.hyper.adam.eps)
            and _real(weight_decay, INFINITY, &e.hyper.adam.weight_decay)
            and _flag(amsgrad, &e.hyper.adam.amsgrad) and _flag(maximize, &e.hyper.adam.maximize)
            and _set_arrays(&e.call, param, grad)
            and _set_state(&e.call, 0, exp_avg, <cnp.ndarray>param)
            and _set_state(&e.call, 1, exp_avg_sq, <cnp.ndarray>param)):
        return False
    if e.hyper.adam.amsgrad and (
            max_exp_avg_sq is None
            or not _set_state(&e.call, 2, max_exp_avg_sq, <cnp.ndarray>param)):
        return False
    e.hyper.adam.decoupled = decoupled
    e.call.step = count
    return _run(FL_RULE_ADAM, &e, threshold, get_threads)
