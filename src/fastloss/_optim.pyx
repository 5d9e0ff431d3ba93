# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the optimizer update kernels in csrc/optim.c.

Sections: the rule table and the plain binding (``update``), the arrays checks the fast
paths share, ``StepLock``, ``_Plan`` and ``StepPlan`` (``Optimizer.step``'s fast path), the
functional updates' fast path (``FastUpdate``, ``update_fast``), L-BFGS, Adafactor (its
binding and ``AdafactorPlan``, its ``Optimizer.step`` fast path on ``_Plan``), and the
gradient clipping and averaging passes (``runs_*``).

No validation in the plain binding: callers (fastloss.optim.functional) pass C-contiguous,
non-overlapping arrays of one float dtype (float32 or float64) and param's size, writeable
where the kernel writes, state arrays as None exactly when their option is off, and the
rule's hyper-parameters checked. The fast paths (StepPlan, update_fast) check their arguments and
decline anything else to the caller's checked path. Every call releases the GIL while the
kernels run.

Hyper-parameters travel as the C structs of optim.h (``fl_<rule>_hyper``, opaque here),
filled by field name through the C field table (``fl_update_rule_fields``: name, offset,
int or double): from a dict of the struct's fields (``Hyper``) or, on the functional
updates' fast path, value by value as a registry row's ``FastUpdate`` table says. Nothing
here is written per rule.
"""
cimport cython
from libc.stdint cimport int64_t
cimport numpy as cnp
from cpython.dict cimport PyDict_GetItem
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.object cimport PyObject
from cpython.pythread cimport (NOWAIT_LOCK, WAIT_LOCK, PyThread_acquire_lock,
                               PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_get_thread_ident, PyThread_release_lock,
                               PyThread_type_lock)
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdlib cimport free, qsort, realloc
from libc.float cimport DBL_EPSILON, FLT_EPSILON
from libc.string cimport memset

from fastloss._kernels cimport (FL_AVERAGE_EMA, FL_AVERAGE_LERP, FL_AVERAGE_MEAN, FL_FLOAT32,
                                FL_FLOAT64, FL_NORM_MAX, FL_NORM_ONE, FL_NORM_POW,
                                FL_NORM_TWO, FL_UPDATE_MAX_STATE, fl_run, fl_runs_average,
                                fl_runs_clamp, fl_runs_norm, fl_runs_scale,
                                FL_UPDATE_RULE_COUNT, fl_hyper_field, fl_index, fl_update,
                                fl_update_call, fl_update_hyper, fl_update_hyper_ok,
                                fl_update_rule, fl_update_rule_field_counts,
                                fl_update_rule_fields, fl_update_rule_names,
                                fl_update_rule_state_names, fl_update_rule_state_shapes,
                                fl_update_rule_states, fl_update_state_mask, FL_SCALAR,
                                fl_lbfgs_direction, fl_adafactor_hyper, fl_adafactor_update)

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

#: each rule's state arrays' names in fl_update_call.state order, indexed by code
#: (fl_update_rule_state_names)
UPDATE_RULE_STATE_NAMES = tuple(
    tuple(fl_update_rule_state_names[i][k].decode() for k in range(fl_update_rule_states[i]))
    for i in range(FL_UPDATE_RULE_COUNT))
#: bit k set: the rule's state array k is one element (FL_SCALAR), not of the parameter's
#: shape, indexed by code (fl_update_rule_state_shapes)
UPDATE_RULE_SCALAR_STATES = tuple(
    sum(1 << k for k in range(fl_update_rule_states[i])
        if fl_update_rule_state_shapes[i][k] == FL_SCALAR)
    for i in range(FL_UPDATE_RULE_COUNT))
#: the largest step count accepted (fastloss.optim.functional.MAX_STEP)
MAX_STEP = 2**63 - 1


cdef inline int _check_rule(int rule) except -1:
    if not 0 <= rule < FL_UPDATE_RULE_COUNT:
        raise ValueError(f"no update rule has code {rule}")
    return 0


cdef const fl_hyper_field *_field(int rule, str name) except NULL:
    """The entry of ``rule``'s struct field ``name`` in the C field table."""
    cdef int k
    cdef bytes key = name.encode()
    for k in range(fl_update_rule_field_counts[rule]):
        if fl_update_rule_fields[rule][k].name == key:
            return &fl_update_rule_fields[rule][k]
    raise ValueError(f"the {UPDATE_RULES[rule]} rule's hyper-parameters have no field {name!r}")


cdef inline void _put(fl_update_hyper *h, const fl_hyper_field *f, object value) except *:
    """Write ``value`` into field ``f`` of ``h`` (an int field takes a flag: 0 or 1)."""
    cdef char *at = <char *>h + f.offset
    if f.is_int:
        (<int *>at)[0] = 1 if value else 0
    else:
        (<double *>at)[0] = value


#: each rule's field names as Python strings (UPDATE_RULE_FIELDS' names), for _pack
cdef tuple _FIELD_NAMES = tuple(tuple(name for name, _ in fields)
                               for fields in UPDATE_RULE_FIELDS)


cdef int _pack(int rule, object fields, fl_update_hyper *out) except -1:
    """``out``'s member for ``rule`` from the mapping ``fields`` (every field of the
    struct by name; other keys are ignored)."""
    cdef tuple names = <tuple>_FIELD_NAMES[rule]
    cdef Py_ssize_t k
    cdef PyObject *found
    for k in range(len(names)):
        name = names[k]
        if type(fields) is dict:
            found = PyDict_GetItem(<dict>fields, name)
            if found == NULL:
                _missing_field(rule, name)
            value = <object>found
        else:
            try:
                value = fields[name]
            except KeyError:
                _missing_field(rule, name)
        _put(out, &fl_update_rule_fields[rule][k], value)
    return 0


cdef int _missing_field(int rule, str name) except -1:
    raise ValueError(f"no value for field {name!r} of the {UPDATE_RULES[rule]} rule's "
                     f"hyper-parameters")


cdef dict _unpack(int rule, const fl_update_hyper *h):
    cdef int k
    cdef const fl_hyper_field *f
    cdef const char *at
    cdef dict out = {}
    for k in range(fl_update_rule_field_counts[rule]):
        f = &fl_update_rule_fields[rule][k]
        at = <const char *>h + f.offset
        out[f.name.decode()] = (<const int *>at)[0] if f.is_int else (<const double *>at)[0]
    return out


cdef class Hyper:
    """One rule's hyper-parameters as the kernel takes them (the ``fl_<rule>_hyper``
    struct), filled by field name from a dict: ``Hyper(rule, {"lr": 0.1, ...})``.
    ``fields()`` gives them back as a dict; ``state_used()`` and ``cross_check_ok()`` are
    the C tables the fast path decides by (tests/test_optim_registry.py holds them to the
    registry)."""
    cdef readonly int rule
    cdef fl_update_hyper h

    def __cinit__(self, int rule, object fields):
        _check_rule(rule)
        memset(&self.h, 0, sizeof(self.h))
        _pack(rule, fields, &self.h)
        self.rule = rule

    def fields(self):
        return _unpack(self.rule, &self.h)

    def state_used(self):
        """Whether the kernel reads each of the rule's state arrays with these values
        (fl_update_state_mask), in the struct's order."""
        cdef unsigned mask = fl_update_state_mask(<fl_update_rule>self.rule, &self.h)
        return tuple(bool(mask >> k & 1) for k in range(fl_update_rule_states[self.rule]))

    def cross_check_ok(self):
        """Whether the values meet the rule's constraint across fields (fl_update_hyper_ok)."""
        return bool(fl_update_hyper_ok(<fl_update_rule>self.rule, &self.h))


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


cdef inline bint _matches(cnp.ndarray a, cnp.ndarray p, int one_on=-1):
    """Same dtype and shape as p (but for a length of 1 on axis ``one_on``, if >= 0)."""
    cdef int nd = cnp.PyArray_NDIM(p), i
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(p) or cnp.PyArray_NDIM(a) != nd:
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *dp = cnp.PyArray_DIMS(p)
    for i in range(nd):
        if da[i] != (1 if i == one_on else dp[i]):
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


cdef bint _set_state(fl_update_call *c, int k, object a, cnp.ndarray p, unsigned scalars):
    """Put state array ``a`` in slot ``k`` of ``c`` (param ``p``, filled by _set_arrays)
    if it is writeable, like ``p`` (a 0-d array of its dtype where bit k of ``scalars``,
    the rule's UPDATE_RULE_SCALAR_STATES, is set) and disjoint from every array already in
    ``c``."""
    if not _is_float_array(a) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a):
        return False
    if scalars >> k & 1:
        if (cnp.PyArray_NDIM(<cnp.ndarray>a) != 0
                or cnp.PyArray_TYPE(<cnp.ndarray>a) != cnp.PyArray_TYPE(p)):
            return False
    elif not _matches(<cnp.ndarray>a, p):
        return False
    cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(p), item = cnp.PyArray_ITEMSIZE(p)
    cdef Py_ssize_t own = item if scalars >> k & 1 else nbytes
    cdef void *data = cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef int i
    if _spans_meet(data, own, c.param, nbytes) or _spans_meet(data, own, c.grad, nbytes):
        return False
    for i in range(FL_UPDATE_MAX_STATE):
        if i != k and c.state[i] != NULL and _spans_meet(
                data, own, c.state[i], item if scalars >> i & 1 else nbytes):
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


cdef class _Plan:
    """What every ``Optimizer.step`` fast path shares: ``run(lock, groups, specs, grads,
    state, threshold, get_threads, fresh)`` holds the optimizer's ``StepLock``, walks the
    groups and their parameters, and returns ``RAN`` (every update done,
    ``state[i]["step"]`` incremented in place where the state counts steps),
    ``REFRESH_HYPER`` (a group's hyper-parameters are not the ones ``specs`` was checked
    for) or ``RUN_CHECKED`` (some input needs the checked path); nothing has changed unless
    it returns ``RAN``.

    ``specs[i]`` is ``(group, keys, values, hyper, names)`` for ``groups[i]``:
    the group dict and the objects ``values`` its ``keys`` held when they were checked
    (``values`` None: valid only for a ``fresh`` call), the kernel's hyper-parameters and
    the state entry names of the kernel's state arrays (None: not used). A subclass says
    which hyper-parameters it takes (``_accepts``), fills one entry per parameter from its
    arrays (``_entry``, declining anything the kernel cannot take as it is) and runs the
    entries without the GIL (``_launch``).
    """
    cdef bint counts_steps
    cdef void *entries  # the subclass's entries (entry_size bytes each), capacity of them
    cdef Py_ssize_t capacity
    cdef size_t entry_size

    def __dealloc__(self):
        free(self.entries)

    cdef int _reserve(self, Py_ssize_t n) except -1:
        """Room for ``n`` entries."""
        cdef void *grown
        if n > self.capacity:
            grown = realloc(self.entries, n * self.entry_size)
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

    cdef bint _accepts(self, object hyper, tuple names):
        """Whether a spec's ``hyper`` and ``names`` are this plan's kind."""
        return False

    cdef bint _entry(self, Py_ssize_t m, object p, object g, dict st, tuple names,
                     object hyper, double step, list keep, Py_ssize_t threshold,
                     object get_threads, int *n_threads) except -1:
        """Fill entry ``m`` for parameter ``p``, gradient ``g`` and state ``st`` (``step``:
        the count after increment), the state arrays appended to ``keep``; False: the
        checked path must run. ``n_threads``: the large calls' thread count, -1 until
        ``get_threads()`` was asked once in this run."""
        return False

    cdef void _launch(self, Py_ssize_t m) noexcept nogil:
        """Run entries 0 .. m-1."""
        pass

    cdef int _run(self, list groups, list specs, object grads, dict state,
                  Py_ssize_t threshold, object get_threads, bint fresh) except -1:
        cdef Py_ssize_t n_groups = len(groups), total = 0, gi, i, j, k, m = 0, index = 0
        cdef object group, params, spec, g, p, st, step_obj, hyper
        cdef tuple keys, values, names
        cdef PyObject *found
        cdef bint uses_step = self.counts_steps
        cdef int n_threads = -1
        cdef double step
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
            if type(names) is not tuple or not self._accepts(hyper, names):
                return RUN_CHECKED
            # get_threads() in _entry is Python code: another thread may change these lists
            # meanwhile, so every index is checked against the lists as they are now
            if gi >= len(groups) or type(groups[gi]) is not dict:
                return RUN_CHECKED
            found = PyDict_GetItem(<dict>groups[gi], "params")
            if found == NULL or type(<object>found) is not list:
                return RUN_CHECKED
            params = <object>found
            for j in range(len(<list>params)):
                if (j >= len(<list>params) or index >= len(grads) or m >= total):
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
                step = 0.0
                if uses_step:
                    found = PyDict_GetItem(<dict>st, "step")
                    if found == NULL or type(<object>found) is not int:
                        return RUN_CHECKED
                    step_obj = <object>found + 1
                    if not 1 <= step_obj <= MAX_STEP:  # the checked path says what is wrong
                        return RUN_CHECKED
                    step = <double>step_obj
                    bumps.append(st)
                    bumps.append(step_obj)
                if not self._entry(m, p, g, <dict>st, names, hyper, step, keep, threshold,
                                   get_threads, &n_threads):
                    return RUN_CHECKED
                keep.append(p)
                keep.append(g)
                m += 1
                index += 1
        with nogil:
            self._launch(m)
        for i in range(0, len(bumps), 2):
            (<dict>bumps[i])["step"] = bumps[i + 1]
        return RAN


@cython.final
cdef class StepPlan(_Plan):
    """The fast path of ``Optimizer.step`` for one update rule (its code in ``UPDATE_RULES``;
    ``counts_steps``: the parameters' state holds a ``"step"`` count): ``_Plan.run``, each
    spec's hyper-parameters a ``Hyper`` of this rule and its names the rule's state arrays
    in the struct's order."""
    cdef int rule
    cdef unsigned scalars  # the rule's one-element state slots (UPDATE_RULE_SCALAR_STATES)

    def __cinit__(self, int rule, bint counts_steps):
        _check_rule(rule)
        self.rule = rule
        self.scalars = UPDATE_RULE_SCALAR_STATES[rule]
        self.counts_steps = counts_steps
        self.entry_size = sizeof(StepEntry)

    cdef bint _accepts(self, object hyper, tuple names):
        return (type(hyper) is Hyper and (<Hyper>hyper).rule == self.rule
                and len(names) <= FL_UPDATE_MAX_STATE)

    cdef bint _entry(self, Py_ssize_t m, object p, object g, dict st, tuple names,
                     object hyper, double step, list keep, Py_ssize_t threshold,
                     object get_threads, int *n_threads) except -1:
        cdef StepEntry *e = &(<StepEntry *>self.entries)[m]
        cdef Py_ssize_t k
        cdef PyObject *found
        if not _set_arrays(&e.call, p, g):
            return False
        for k in range(len(names)):
            name = names[k]
            if name is None:
                continue
            found = PyDict_GetItem(st, name)
            if found == NULL:
                return False
            a = <object>found
            if not _set_state(&e.call, k, a, <cnp.ndarray>p, self.scalars):
                return False
            keep.append(a)
        e.call.step = step
        e.hyper = (<Hyper>hyper).h
        if e.call.n < threshold:
            e.call.n_threads = 1
        else:
            if n_threads[0] < 0:
                n_threads[0] = get_threads()
            e.call.n_threads = n_threads[0]
        return True

    cdef void _launch(self, Py_ssize_t m) noexcept nogil:
        cdef StepEntry *entries = <StepEntry *>self.entries
        cdef Py_ssize_t i
        for i in range(m):
            fl_update(<fl_update_rule>self.rule, &entries[i].hyper, &entries[i].call)


# ---- the functional updates' fast path ---------------------------------------------------
# ``update_fast(plan, ...)`` runs the update and returns True only for arguments the checked
# path in fastloss.optim.functional accepts unchanged: Python float (or int)
# hyper-parameters in their registry constraint (a closed-open [lo, hi): NON_NEGATIVE,
# UNIT_OPEN), bool flags, an int step >= 1, arrays as the kernels want them, the state
# arrays the kernel reads with these values (fl_update_state_mask), and the rule's
# constraint across fields (fl_update_hyper_ok). Otherwise it returns False having changed
# nothing, and the caller runs the checked path (errors, copies). ``plan`` (a
# ``FastUpdate``, one per registry row, built once at import from the row) says where each
# value goes and what it must be.

cdef inline bint _real(object v, double lo, double hi, double *out) noexcept:
    """A float (or int) in [lo, hi)."""
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
    return lo <= x < hi


cdef inline bint _real_pair(object v, double lo, double hi, double *first,
                            double *second) noexcept:
    """A tuple of two floats (or ints) in [lo, hi)."""
    return (type(v) is tuple and len(<tuple>v) == 2 and _real((<tuple>v)[0], lo, hi, first)
            and _real((<tuple>v)[1], lo, hi, second))


cdef inline bint _flag(object v, int *out) noexcept:
    if type(v) is not bool:
        return False
    out[0] = v is True
    return True


cdef inline bint _step(object v, double *out) noexcept:
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


cdef enum:
    _REAL = 0  # one double field, [lo, hi)
    _FLAG = 1  # one int field, from a bool
    _PAIR = 2  # a tuple of two reals, two double fields (betas)
    _MAX_VALUES = 12
    _SLOTS = 12  # update_fast's a0 ... a11
    _NO_ARGUMENT = 0
    _STEP = 1
    _FIRST_STEP = 2

ctypedef struct FastValue:
    int kind
    Py_ssize_t offset, offset2  # byte offsets in the struct (offset2: a pair's second)
    double lo, hi


@cython.final  # run and _values called directly, not through a vtable
cdef class FastUpdate:
    """One registry row's functional update, as ``update_fast`` runs it.

    ``FastUpdate(rule, n_state, argument, values, fixed, threshold, get_threads)``: the
    rule's code; how many state arrays the update takes (the rule's, in the struct's
    order); its extra argument (``""``, ``"step"`` or ``"first_step"``); for each
    hyper-parameter value, in the order the update passes them,
    ``(fields, is_flag, lo, hi)``: the struct fields it fills (two for a pair) and, for a
    real, the bounds [lo, hi) a float must be in (NaN: none is, the checked path decides);
    ``fixed``: fields the row sets itself (AdamW's decoupled); one thread below
    ``threshold`` elements, else ``get_threads()`` (fastloss._config's, kept here so that
    the small call looks neither up).
    """
    cdef int rule, n_state, argument, n_values
    cdef unsigned scalars  # the rule's one-element state slots (UPDATE_RULE_SCALAR_STATES)
    cdef FastValue values[_MAX_VALUES]
    cdef fl_update_hyper fixed
    cdef Py_ssize_t threshold
    cdef object get_threads

    def __cinit__(self, int rule, int n_state, str argument, tuple values, object fixed,
                  Py_ssize_t threshold, object get_threads):
        _check_rule(rule)
        if n_state != fl_update_rule_states[rule]:
            raise ValueError(f"the {UPDATE_RULES[rule]} rule keeps "
                             f"{fl_update_rule_states[rule]} state arrays, not {n_state}")
        if len(values) > _MAX_VALUES or n_state + (argument != "") + len(values) > _SLOTS:
            raise ValueError(f"more values than update_fast's {_SLOTS} slots")
        self.rule, self.n_state, self.n_values = rule, n_state, len(values)
        self.scalars = UPDATE_RULE_SCALAR_STATES[rule]
        self.argument = {"": _NO_ARGUMENT, "step": _STEP, "first_step": _FIRST_STEP}[argument]
        self.threshold, self.get_threads = threshold, get_threads
        memset(&self.fixed, 0, sizeof(self.fixed))
        for name, value in fixed.items():
            _put(&self.fixed, _field(rule, name), value)
        cdef FastValue *v
        cdef const fl_hyper_field *f
        cdef const fl_hyper_field *f2
        for i, (fields, is_flag, lo, hi) in enumerate(values):
            v = &self.values[i]
            f = _field(rule, fields[0])
            if len(fields) == 2:
                f2 = _field(rule, fields[1])
                v.kind, v.offset2 = _PAIR, f2.offset
            elif len(fields) == 1:
                v.kind = _FLAG if is_flag else _REAL
            else:
                raise ValueError(f"one or two fields per value, got {fields!r}")
            if f.is_int != (v.kind == _FLAG) or (v.kind == _PAIR and f2.is_int):
                raise ValueError(f"{fields!r}: a flag fills an int field, a real a double")
            v.offset, v.lo, v.hi = f.offset, lo, hi

    cdef inline bint _values(self, PyObject **args, fl_update_hyper *h) noexcept:
        """Fill ``h`` from ``args[0:n_values]`` (borrowed) if each value is as its entry
        wants."""
        cdef char *at = <char *>h
        cdef const FastValue *v
        cdef Py_ssize_t j
        for j in range(self.n_values):
            v = &self.values[j]
            if v.kind == _REAL:
                if not _real(<object>args[j], v.lo, v.hi, <double *>(at + v.offset)):
                    return False
            elif v.kind == _FLAG:
                if not _flag(<object>args[j], <int *>(at + v.offset)):
                    return False
            elif not _real_pair(<object>args[j], v.lo, v.hi, <double *>(at + v.offset),
                                <double *>(at + v.offset2)):
                return False
        return True

    cdef bint run(self, object param, object grad, PyObject **args,
                  Py_ssize_t n_args) except -1:
        cdef StepEntry e
        cdef Py_ssize_t k, first = self.n_state + (self.argument != _NO_ARGUMENT)
        cdef unsigned used
        cdef fl_update_rule rule = <fl_update_rule>self.rule
        cdef object a
        if n_args != first + self.n_values:
            raise TypeError(f"update_fast: {first + self.n_values} values after grad, "
                            f"got {n_args}")
        e.hyper = self.fixed
        if not (self._values(args + first, &e.hyper) and fl_update_hyper_ok(rule, &e.hyper)
                and _set_arrays(&e.call, param, grad)):
            return False
        used = fl_update_state_mask(rule, &e.hyper)
        for k in range(self.n_state):
            if used >> k & 1:
                a = <object>args[k]
                if a is None or not _set_state(&e.call, k, a, <cnp.ndarray>param,
                                               self.scalars):
                    return False
        if self.argument == _STEP:
            if not _step(<object>args[self.n_state], &e.call.step):
                return False
        elif self.argument == _FIRST_STEP:
            if not _flag(<object>args[self.n_state], &e.call.first_step):
                return False
        return _run(rule, &e, self.threshold, self.get_threads)


cdef object _UNSET = object()  # update_fast's slots past the last value passed


def update_fast(FastUpdate plan not None, param, grad, a0=_UNSET, a1=_UNSET, a2=_UNSET,
                a3=_UNSET, a4=_UNSET, a5=_UNSET, a6=_UNSET, a7=_UNSET, a8=_UNSET, a9=_UNSET,
                a10=_UNSET, a11=_UNSET):
    """One functional update by ``plan``'s row, if the arguments need no checked path:
    after ``grad``, the state arrays (None where not given), the extra argument if the row
    has one, then the hyper-parameter values, in ``plan``'s order. True if it ran.

    Twelve named slots (_SLOTS) rather than ``*args``, whose tuple would be an allocation
    on every small call."""
    cdef PyObject *args[_SLOTS]
    args[:] = [<PyObject *>a0, <PyObject *>a1, <PyObject *>a2, <PyObject *>a3, <PyObject *>a4,
               <PyObject *>a5, <PyObject *>a6, <PyObject *>a7, <PyObject *>a8, <PyObject *>a9,
               <PyObject *>a10, <PyObject *>a11]
    cdef Py_ssize_t n = _SLOTS
    while n > 0 and args[n - 1] == <PyObject *>_UNSET:
        n -= 1
    return plan.run(param, grad, args, n)


# ---- L-BFGS ------------------------------------------------------------------------------

def lbfgs_direction(const double[::1] g, const double[:, ::1] S, const double[:, ::1] Y,
                    const double[::1] rho, const int64_t[::1] rows, Py_ssize_t k,
                    double gamma, double[::1] out, double[::1] alpha):
    """``out = -H g`` from the k pairs ``rows[:k]`` (oldest first) of the history ``S``,
    ``Y`` (lbfgs.h's fl_lbfgs_direction). The caller (optim/lbfgs.py's _History) keeps
    every row index in range and the sizes consistent."""
    with nogil:
        fl_lbfgs_direction(g.shape[0], k, &rows[0], &S[0, 0], &Y[0, 0], &rho[0], gamma,
                           &g[0], &out[0], &alpha[0])


# ---- Adafactor (adafactor.h) -------------------------------------------------------------
# Not a rule of optim.h: its own kernel, step and state shapes (the factors), so its own
# entry, filled by the checked binding ``adafactor`` and by ``AdafactorPlan``, the fast path
# of ``Optimizer.step`` for ``fastloss.optim.Adafactor`` (the same walk as StepPlan's).

ctypedef struct AdafactorEntry:
    fl_adafactor_hyper hyper
    int dtype, factored
    fl_index batch, rows, cols  # batch matrices of rows x cols (a vector: batch = size)
    void *param
    const void *grad
    void *row_var
    void *col_var
    void *variance
    double step


cdef class AdafactorHyper:
    """Adafactor's hyper-parameters as its kernel takes them (``fl_adafactor_hyper``):
    ``AdafactorHyper(lr, beta2_decay, eps1, eps2, d, weight_decay, maximize)``, checked by
    the caller (fastloss.optim.adafactor); ``eps1`` None: the parameter's machine epsilon,
    as torch."""
    cdef fl_adafactor_hyper h
    cdef bint eps1_of_dtype

    def __cinit__(self, double lr, double beta2_decay, object eps1, double eps2, double d,
                  double weight_decay, bint maximize):
        self.eps1_of_dtype = eps1 is None
        self.h.lr, self.h.beta2_decay, self.h.eps2 = lr, beta2_decay, eps2
        self.h.eps1 = 0.0 if eps1 is None else <double>eps1
        self.h.d, self.h.weight_decay, self.h.maximize = d, weight_decay, maximize

    cdef inline void fill(self, AdafactorEntry *e) noexcept:
        """``e.hyper`` for ``e.dtype``."""
        e.hyper = self.h
        if self.eps1_of_dtype:  # np.finfo(dtype).eps
            e.hyper.eps1 = DBL_EPSILON if e.dtype == FL_FLOAT64 else FLT_EPSILON


cdef inline void _adafactor_layout(AdafactorEntry *e, cnp.ndarray p) noexcept:
    """``e``'s dtype and its view of ``p`` (at least one element) as batch matrices."""
    cdef int nd = cnp.PyArray_NDIM(p)
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(p)
    e.dtype = dtype_code(p)
    e.factored = nd > 1
    e.rows = e.cols = 1
    e.batch = cnp.PyArray_SIZE(p)
    if e.factored:
        e.rows, e.cols = dims[nd - 2], dims[nd - 1]
        e.batch = e.batch // (e.rows * e.cols)


cdef inline void _adafactor_run(const AdafactorEntry *e, double *scratch) noexcept nogil:
    if e.batch == 0:
        return
    fl_adafactor_update(e.dtype, &e.hyper, e.step, e.factored, e.batch, e.rows, e.cols,
                        e.param, e.grad, e.row_var, e.col_var, e.variance, scratch)


def adafactor(AdafactorHyper hyper not None, cnp.ndarray param, cnp.ndarray grad,
              object row_var, object col_var, object variance, double step):
    """One Adafactor step (adafactor.h's fl_adafactor_update). The caller
    (fastloss.optim.adafactor) has checked everything: C-contiguous native arrays of one
    dtype, at least one element, the factors (ndim >= 2) or ``variance`` (else) of
    torch's shapes, nothing overlapping."""
    cdef AdafactorEntry e
    _adafactor_layout(&e, param)
    hyper.fill(&e)
    e.param = cnp.PyArray_DATA(param)
    e.grad = cnp.PyArray_DATA(grad)
    e.row_var = data_or_null(row_var) if e.factored else NULL
    e.col_var = data_or_null(col_var) if e.factored else NULL
    e.variance = NULL if e.factored else data_or_null(variance)
    e.step = step
    cdef double *scratch = <double *>PyMem_Malloc(<size_t>e.cols * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        with nogil:
            _adafactor_run(&e, scratch)
    finally:
        PyMem_Free(scratch)


cdef inline bint _writeable_like(object a, cnp.ndarray p, int one_on):
    """A writeable C-order array of ``p``'s dtype and shape (but for a 1 on axis
    ``one_on``, if >= 0)."""
    return (_is_float_array(a) and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>a)
            and _matches(<cnp.ndarray>a, p, one_on))


cdef inline bint _meets(object a, const void *b, Py_ssize_t nb):
    return _spans_meet(cnp.PyArray_DATA(<cnp.ndarray>a), cnp.PyArray_NBYTES(<cnp.ndarray>a),
                       b, nb)


@cython.final
cdef class AdafactorPlan(_Plan):
    """The fast path of ``fastloss.optim.Adafactor.step``: ``_Plan.run``, each spec's
    hyper-parameters an ``AdafactorHyper`` and its names the state entries
    ``("row_var", "col_var", "variance")``; a parameter's step runs here when its state
    exists (not at its first step), every array is as the kernel takes it (the factors
    of the parameter's shape, as the checked path wants them), nothing overlaps and the
    parameter has an element (the checked path steps an empty one by the reference)."""
    cdef double *scratch  # the factored kernel's column sums: the widest matrix's
    cdef Py_ssize_t scratch_size

    def __cinit__(self):
        self.counts_steps = True
        self.entry_size = sizeof(AdafactorEntry)
        self.scratch = NULL
        self.scratch_size = 0

    def __dealloc__(self):
        free(self.scratch)

    cdef bint _accepts(self, object hyper, tuple names):
        return type(hyper) is AdafactorHyper and len(names) == 3

    cdef bint _entry(self, Py_ssize_t m, object p, object g, dict st, tuple names,
                     object hyper, double step, list keep, Py_ssize_t threshold,
                     object get_threads, int *n_threads) except -1:
        cdef fl_update_call c  # _set_arrays' checks of p and g (disjoint, alike)
        cdef AdafactorEntry *e = &(<AdafactorEntry *>self.entries)[m]
        cdef PyObject *found
        cdef double *grown
        if not _set_arrays(&c, p, g):
            return False
        if c.n == 0:  # an empty parameter steps as nothing (fastloss.optim.adafactor._step)
            e.batch = 0
            return True
        cdef cnp.ndarray pa = <cnp.ndarray>p
        cdef Py_ssize_t nbytes = cnp.PyArray_NBYTES(pa)
        cdef int nd = cnp.PyArray_NDIM(pa)
        _adafactor_layout(e, pa)
        e.param, e.grad, e.step = c.param, c.grad, step
        e.row_var = e.col_var = e.variance = NULL
        if e.factored:
            found = PyDict_GetItem(st, names[0])
            if found == NULL or not _writeable_like(<object>found, pa, nd - 1):
                return False
            rv = <object>found
            found = PyDict_GetItem(st, names[1])
            if found == NULL or not _writeable_like(<object>found, pa, nd - 2):
                return False
            cv = <object>found
            if (_meets(rv, c.param, nbytes) or _meets(rv, c.grad, nbytes)
                    or _meets(cv, c.param, nbytes) or _meets(cv, c.grad, nbytes)
                    or _meets(rv, cnp.PyArray_DATA(<cnp.ndarray>cv),
                              cnp.PyArray_NBYTES(<cnp.ndarray>cv))):
                return False
            e.row_var = cnp.PyArray_DATA(<cnp.ndarray>rv)
            e.col_var = cnp.PyArray_DATA(<cnp.ndarray>cv)
            keep.append(rv)
            keep.append(cv)
            if e.cols > self.scratch_size:
                grown = <double *>realloc(self.scratch, e.cols * sizeof(double))
                if grown == NULL:
                    raise MemoryError()
                self.scratch, self.scratch_size = grown, e.cols
        else:
            found = PyDict_GetItem(st, names[2])
            if found == NULL:
                return False
            v = <object>found
            if (not _writeable_like(v, pa, -1) or _meets(v, c.param, nbytes)
                    or _meets(v, c.grad, nbytes)):
                return False
            e.variance = cnp.PyArray_DATA(<cnp.ndarray>v)
            keep.append(v)
        (<AdafactorHyper>hyper).fill(e)
        return True

    cdef void _launch(self, Py_ssize_t m) noexcept nogil:
        cdef AdafactorEntry *entries = <AdafactorEntry *>self.entries
        cdef Py_ssize_t i
        for i in range(m):
            _adafactor_run(&entries[i], self.scratch)


# ---- gradient clipping and parameter averaging (grad_utils.h) ------------------------------
# Each function checks its arrays itself and runs the fused pass over all of them in one
# call, or declines (returns None / False) without touching anything: the caller's checked
# path (fastloss.optim.clip_grad, .swa_utils) then raises the proper error or prepares the
# unusual arrays (subclasses, byte-swapped, layouts that are not one strided run).

NORM_ONE = FL_NORM_ONE
NORM_TWO = FL_NORM_TWO
NORM_POW = FL_NORM_POW
NORM_MAX = FL_NORM_MAX
AVERAGE_LERP = FL_AVERAGE_LERP
AVERAGE_EMA = FL_AVERAGE_EMA
AVERAGE_MEAN = FL_AVERAGE_MEAN

ctypedef struct _Span:
    const char *lo
    const char *hi


cdef int _compare_spans(const void *a, const void *b) noexcept nogil:
    cdef const char *x = (<const _Span *>a).lo
    cdef const char *y = (<const _Span *>b).lo
    return -1 if x < y else (1 if x > y else 0)


cdef bint _as_run(object a, bint write, fl_run *run) noexcept:
    """Fill ``run`` from ``a`` if it is an exact, aligned, native float32/float64 ndarray
    (writeable if ``write``) laid out as one strided run: contiguous (C or Fortran order),
    or 1-D with a step of whole elements. False otherwise."""
    if type(a) is not cnp.ndarray:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int t = cnp.PyArray_TYPE(arr)
    if not ((t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT) and cnp.PyArray_ISNOTSWAPPED(arr)
            and cnp.PyArray_ISALIGNED(arr)):
        return False
    if write and not cnp.PyArray_ISWRITEABLE(arr):
        return False
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(arr)
    run.data = cnp.PyArray_DATA(arr)
    run.n = cnp.PyArray_SIZE(arr)
    run.dtype = FL_FLOAT64 if t == cnp.NPY_DOUBLE else FL_FLOAT32
    if cnp.PyArray_IS_C_CONTIGUOUS(arr) or cnp.PyArray_IS_F_CONTIGUOUS(arr):
        run.stride = 1
    elif cnp.PyArray_NDIM(arr) == 1 and cnp.PyArray_STRIDES(arr)[0] % item == 0:
        run.stride = cnp.PyArray_STRIDES(arr)[0] // item
    else:
        return False
    return True


cdef bint _runs_disjoint(const fl_run *runs, Py_ssize_t n, _Span *spans) noexcept nogil:
    """Whether no two runs' byte spans meet (sorting them by start: O(n log n))."""
    cdef Py_ssize_t i, m = 0, item, last
    for i in range(n):
        if runs[i].n == 0:
            continue
        item = 8 if runs[i].dtype == FL_FLOAT64 else 4
        last = (runs[i].n - 1) * runs[i].stride * item
        spans[m].lo = <const char *>runs[i].data + (last if last < 0 else 0)
        spans[m].hi = <const char *>runs[i].data + (0 if last < 0 else last) + item
        m += 1
    qsort(spans, m, sizeof(_Span), _compare_spans)
    for i in range(1, m):
        if spans[i].lo < spans[i - 1].hi:
            return False
    return True


cdef class _Runs:
    """The runs of a tuple of arrays (None entries skipped), or ``ok`` False: an array
    that is not one run, or (``disjoint``) two that share memory."""
    cdef fl_run *runs
    cdef Py_ssize_t n
    cdef bint ok

    def __cinit__(self, tuple arrays, bint write, disjoint=None):
        """``disjoint`` (default: ``write``): whether the arrays must not share memory."""
        cdef Py_ssize_t size = len(arrays), i
        cdef _Span *spans
        self.runs = <fl_run *>PyMem_Malloc((size if size else 1) * sizeof(fl_run))
        if self.runs == NULL:
            raise MemoryError()
        self.n = 0
        self.ok = True
        for i in range(size):
            a = arrays[i]
            if a is None:
                continue
            if not _as_run(a, write, self.runs + self.n):
                self.ok = False
                return
            self.n += 1
        if (write if disjoint is None else disjoint) and self.n > 1:
            spans = <_Span *>PyMem_Malloc(self.n * sizeof(_Span))
            if spans == NULL:
                raise MemoryError()
            self.ok = _runs_disjoint(self.runs, self.n, spans)
            PyMem_Free(spans)

    def __dealloc__(self):
        PyMem_Free(self.runs)


def runs_ok(tuple arrays, bint write):
    """Whether the functions below take these arrays (``write``: for writing)."""
    return _Runs(arrays, write).ok


def runs_norm(tuple arrays, int kind, double p):
    """The sum over every element of ``|x|`` / ``x**2`` / ``|x|**p``, or the max ``|x|``
    (``kind``), in float64; None (declined) unless every array is one run."""
    cdef _Runs r = _Runs(arrays, False)
    if not r.ok:
        return None
    cdef double s
    with nogil:
        s = fl_runs_norm(r.n, r.runs, kind, p)
    return s


def runs_scale(tuple arrays, double coef):
    """``x *= coef`` for every array; False (declined, nothing written) unless every array
    is a writeable run and no two overlap."""
    cdef _Runs r = _Runs(arrays, True)
    if not r.ok:
        return False
    with nogil:
        fl_runs_scale(r.n, r.runs, coef)
    return True


def runs_clamp(tuple arrays, double lo, double hi):
    """``x = min(max(x, lo), hi)`` for every array; declines as :func:`runs_scale`."""
    cdef _Runs r = _Runs(arrays, True)
    if not r.ok:
        return False
    with nogil:
        fl_runs_clamp(r.n, r.runs, lo, hi)
    return True


def runs_average(tuple averages, tuple params, int kind, double w):
    """Each ``averages[i]`` updated in place from ``params[i]`` by the rule ``kind``; False
    (declined) unless the pairs match in dtype and shape, the averages are writeable
    C-contiguous runs, each param is C-contiguous or 1-D, and no two arrays (averages and
    params alike) share memory."""
    if len(averages) != len(params):
        return False
    cdef _Runs a = _Runs(averages, True)
    cdef _Runs p = _Runs(params, False)
    if not (a.ok and p.ok) or a.n != len(averages) or p.n != a.n:
        return False
    cdef Py_ssize_t i
    cdef cnp.ndarray x, y
    for i in range(a.n):
        x = <cnp.ndarray>averages[i]
        y = <cnp.ndarray>params[i]
        if (a.runs[i].dtype != p.runs[i].dtype or not cnp.PyArray_SAMESHAPE(x, y)
                or not cnp.PyArray_IS_C_CONTIGUOUS(x)
                or not (cnp.PyArray_IS_C_CONTIGUOUS(y) or cnp.PyArray_NDIM(y) == 1)):
            return False
    # an average that meets a parameter (the same array passed as both) would break the
    # kernel's no-alias promise: declined (also for parameters sharing memory with each
    # other, which the checked path copies)
    if not _Runs(averages + params, False, True).ok:
        return False
    with nogil:
        fl_runs_average(a.n, a.runs, p.runs, kind, w)
    return True
