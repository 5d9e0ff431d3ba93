# cython: language_level=3, boundscheck=False, wraparound=False, embedsignature=True
"""Typed bindings of the loss kernels in csrc/losses.c.

No validation here: callers (fastloss.losses) pass C-contiguous arrays of one
float dtype (float32 or float64), labels as int64, and matching sizes. Every call
releases the GIL while the kernel runs.
"""
cimport numpy as cnp
from libc.stdint cimport int32_t, int64_t

from fastloss._kernels cimport *

cnp.import_array()

WANT_SUM = FL_WANT_SUM
WANT_GRAD = FL_WANT_GRAD
WANT_ELEMENTS = FL_WANT_ELEMENTS
WANT_HESS = FL_WANT_HESS

# The elementwise losses, stem -> code, read from the C list (FL_ELEMENTWISE_LOSSES): the
# codes callers pass to elementwise().
ELEMENTWISE_LOSSES = {fl_elementwise_loss_names[code].decode("ascii"): code
                      for code in range(FL_ELEMENTWISE_LOSS_COUNT)}
# The elementwise losses whose aux array is a second differentiated input (reads_aux 2:
# elementwise() needs aux, and aux_grad / aux_hess with grad / hess), by stem.
ELEMENTWISE_AUX_INPUTS = frozenset(stem for stem, code in ELEMENTWISE_LOSSES.items()
                                   if fl_elementwise_loss_aux[code] == 2)
# The row-wise losses of (N, C) inputs and labels (FL_ROWWISE_LOSSES), for rowwise().
ROWWISE_LOSSES = {fl_rowwise_loss_names[code].decode("ascii"): code
                  for code in range(FL_ROWWISE_LOSS_COUNT)}


cdef inline void *data_or_null(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline int dtype_code(cnp.ndarray a):
    return FL_FLOAT64 if cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE else FL_FLOAT32


def elementwise(int loss, cnp.ndarray x, cnp.ndarray y, object w, object aux, double param,
                double grad_scale, object grad, object hess, object elems, int want,
                int n_threads, object aux_grad=None, object aux_hess=None):
    """Sum of w*l over x.size elements (when want has WANT_SUM); fills grad/hess/elems (and,
    for a loss of ELEMENTWISE_AUX_INPUTS, aux_grad/aux_hess: the derivatives in aux).

    ``loss`` is a value of ELEMENTWISE_LOSSES, ``want`` WANT_SUM, WANT_GRAD, WANT_ELEMENTS,
    one of those with WANT_GRAD, or WANT_GRAD | WANT_HESS; anything else, or a loss of
    ELEMENTWISE_AUX_INPUTS without aux or the aux_grad / aux_hess its want writes (a caller's
    bug: the kernel would compute nothing), raises ValueError."""
    if not 0 <= loss < FL_ELEMENTWISE_LOSS_COUNT:
        raise ValueError(f"loss must be a code of ELEMENTWISE_LOSSES, got {loss}")
    if not FL_ELEMENTWISE_WANT_OK(want):
        raise ValueError(f"want must be WANT_SUM, WANT_GRAD, WANT_ELEMENTS, one of them "
                         f"with WANT_GRAD, or WANT_GRAD | WANT_HESS, got {want}")
    if fl_elementwise_loss_aux[loss] == 2 and (
            aux is None or (want & FL_WANT_GRAD and aux_grad is None)
            or (want & FL_WANT_HESS and aux_hess is None)):
        raise ValueError("a loss of ELEMENTWISE_AUX_INPUTS needs aux, and aux_grad / aux_hess "
                         "with WANT_GRAD / WANT_HESS")
    cdef int dt = dtype_code(x)
    cdef fl_index n = cnp.PyArray_SIZE(x)
    cdef const void *px = cnp.PyArray_DATA(x)
    cdef const void *py = cnp.PyArray_DATA(y)
    cdef const void *pw = data_or_null(w)
    cdef const void *pa = data_or_null(aux)
    cdef void *pg = data_or_null(grad)
    cdef void *ph = data_or_null(hess)
    cdef void *pe = data_or_null(elems)
    cdef void *pga = data_or_null(aux_grad)
    cdef void *pha = data_or_null(aux_hess)
    cdef double s
    with nogil:
        s = fl_elementwise_loss(loss, dt, n, px, py, pw, pa, param, grad_scale, pg, ph, pga,
                                pha, pe, want, n_threads)
    return s


# The largest C of an (N, C, d1, ..., dk) input the kernels read in place (k >= 1): a longer
# row does not fit their gather blocks, and the caller moves the class axis last first.
STRIDED_MAX_CLASSES = FL_STRIDED_MAX_CLASSES
# the most classes of a loss whose target is a row of class indices (multilabel_margin_loss)
LABEL_ROW_MAX_CLASSES = FL_LABEL_ROW_MAX_CLASSES


ctypedef struct Rows:
    int dtype
    fl_index n, c, inner
    const void *x
    const void *class_weight
    const void *sample_weight
    void *grad
    void *hess
    void *elems


cdef inline Rows _rows(cnp.ndarray x, object class_weight, object sample_weight, object grad,
                       object hess, object elems):
    """The kernel arguments of an (N, C, d1, ..., dk) input (k >= 0): N, C and
    inner = d1 ... dk (1 for (N, C))."""
    cdef Rows r
    cdef int axis
    r.dtype = dtype_code(x)
    r.n = cnp.PyArray_DIM(x, 0)
    r.c = cnp.PyArray_DIM(x, 1)
    r.inner = 1
    for axis in range(2, cnp.PyArray_NDIM(x)):
        r.inner *= cnp.PyArray_DIM(x, axis)
    r.x = cnp.PyArray_DATA(x)
    r.class_weight = data_or_null(class_weight)
    r.sample_weight = data_or_null(sample_weight)
    r.grad = data_or_null(grad)
    r.hess = data_or_null(hess)
    r.elems = data_or_null(elems)
    return r


def cross_entropy_index(cnp.ndarray logits, cnp.ndarray labels, object class_weight,
                        int64_t ignore_index, double label_smoothing, double grad_scale,
                        object grad, object elems, int want, int n_threads,
                        object sample_weight=None, object hess=None):
    """(sum of row losses, -1), or (..., index of a row whose label the kernel found out of
    range: the caller checked it, so another thread changed it meanwhile). ``logits``
    (N, C, d1, ..., dk), ``labels`` and ``sample_weight`` one per row (N d1 ... dk, in C
    order), ``hess`` (only with WANT_GRAD) the Hessian diagonal, of the logits' shape."""
    cdef Rows r = _rows(logits, class_weight, sample_weight, grad, hess, elems)
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(labels)
    cdef fl_index bad = -1
    cdef double s
    with nogil:
        s = fl_cross_entropy_index(r.dtype, r.n, r.c, r.inner, r.x, py, r.class_weight,
                                   r.sample_weight, ignore_index, label_smoothing, grad_scale,
                                   r.grad, r.hess, r.elems, want, n_threads, &bad)
    return s, bad


def cross_entropy_prob(cnp.ndarray logits, cnp.ndarray target, object class_weight,
                       double label_smoothing, double grad_scale, object grad, object elems,
                       int want, int n_threads, object sample_weight=None, object hess=None):
    """The sum of row losses, for ``target`` probabilities of the logits' shape."""
    cdef Rows r = _rows(logits, class_weight, sample_weight, grad, hess, elems)
    cdef const void *pt = cnp.PyArray_DATA(target)
    cdef double s
    with nogil:
        s = fl_cross_entropy_prob(r.dtype, r.n, r.c, r.inner, r.x, pt, r.class_weight,
                                  r.sample_weight, label_smoothing, grad_scale, r.grad, r.hess,
                                  r.elems, want, n_threads)
    return s


def rowwise(int loss, cnp.ndarray x, object labels, object class_weight,
            int64_t ignore_index, double param, double grad_scale, object grad, object elems,
            int want, int n_threads, object sample_weight=None, object hess=None,
            object target=None):
    """(sum of row losses, index of a row with an out-of-range label or -1), as
    cross_entropy_index; ``loss`` is a value of ROWWISE_LOSSES (else ValueError). A loss
    whose target is a row takes ``target`` (x's shape) and ``labels`` None."""
    if not 0 <= loss < FL_ROWWISE_LOSS_COUNT:
        raise ValueError(f"loss must be a code of ROWWISE_LOSSES, got {loss}")
    cdef Rows r = _rows(x, class_weight, sample_weight, grad, hess, elems)
    cdef const int64_t *py = <const int64_t *>data_or_null(labels)
    cdef const void *pt = data_or_null(target)
    cdef fl_index bad = -1
    cdef double s
    with nogil:
        s = fl_rowwise_loss(loss, r.dtype, r.n, r.c, r.inner, r.x, py, pt, r.class_weight,
                            r.sample_weight, ignore_index, param, grad_scale, r.grad, r.hess,
                            r.elems, want, n_threads, &bad)
    return s, bad


# The number of float inputs of each row-wise loss (cosine_embedding: 2), by its stem.
ROWWISE_INPUTS = {name: fl_rowwise_loss_inputs[code] for name, code in ROWWISE_LOSSES.items()}


def rowwise_inputs(int loss, tuple inputs, object codes, object sample_weight, double param,
                   tuple params, double grad_scale, object grads, object elems, int want,
                   int n_threads):
    """The sum of the row losses of a row-wise loss of several float inputs (``inputs``:
    arrays of one shape (n, c) and dtype; ``codes`` int64 (n,) or None; ``params`` up to 3
    floats; ``grads`` a tuple of arrays like ``inputs``, or None). NaN for a loss that does
    not take that many inputs."""
    cdef const void *px[3]
    cdef void *pg[3]
    cdef double q[3]
    cdef int j, k = len(inputs)
    if not 2 <= k <= 3 or len(params) > 3 or (grads is not None and len(grads) != k):
        raise ValueError("rowwise_inputs takes 2 or 3 inputs (and grads), at most 3 params")
    for j in range(3):
        q[j] = params[j] if j < len(params) else 0.0
        px[j] = cnp.PyArray_DATA(inputs[j]) if j < k else NULL
        pg[j] = cnp.PyArray_DATA(grads[j]) if grads is not None and j < k else NULL
    cdef cnp.ndarray x = inputs[0]
    cdef int dt = dtype_code(x)
    cdef fl_index n = cnp.PyArray_DIM(x, 0), c = cnp.PyArray_DIM(x, 1)
    cdef const int64_t *py = <const int64_t *>data_or_null(codes)
    cdef const void *ps = data_or_null(sample_weight)
    cdef void *pe = data_or_null(elems)
    cdef void *const *pgs = pg if grads is not None else NULL
    cdef double s
    with nogil:
        s = fl_rowwise_inputs_loss(loss, dt, n, c, k, px, py, ps, param, q, grad_scale, pgs,
                                   pe, want, n_threads)
    return s


def label_weight_total(cnp.ndarray labels, Py_ssize_t n_classes, object class_weight,
                       int64_t ignore_index, int dtype_is_f64, object sample_weight=None):
    """(total, bad): sum of sample weight times class weight of non-ignored labels, or (-1,
    index of a bad label)."""
    cdef fl_index n = cnp.PyArray_SIZE(labels), bad = -1
    cdef const int64_t *py = <const int64_t *>cnp.PyArray_DATA(labels)
    cdef const void *pw = data_or_null(class_weight)
    cdef const void *ps = data_or_null(sample_weight)
    cdef double total
    with nogil:
        total = fl_label_weight_total(FL_FLOAT64 if dtype_is_f64 else FL_FLOAT32, n, n_classes,
                                      py, pw, ps, ignore_index, &bad)
    return total, bad


ctypedef fl_index (*count_fn)(int, fl_index, const void *, double, double, fl_index *) nogil


cdef inline tuple _count(count_fn fn, cnp.ndarray x, double a, double b):
    """(count, first) of one of the counting kernels over x (flat, C order)."""
    cdef int dt = dtype_code(x)
    cdef fl_index n = cnp.PyArray_SIZE(x), count, first = -1
    cdef const void *px = cnp.PyArray_DATA(x)
    with nogil:
        count = fn(dt, n, px, a, b, &first)
    return count, first


def count_outside(cnp.ndarray x, double lo, double hi):
    """(count, first): how many elements of x (flat, C order) lie outside [lo, hi], NaN not
    counted, and the flat index of the first of them (-1 if none)."""
    return _count(fl_count_outside, x, lo, hi)


def count_not_either(cnp.ndarray x, double a, double b):
    """(count, first): how many elements of x (flat, C order) are neither a nor b, NaN not
    counted, and the flat index of the first of them (-1 if none)."""
    return _count(fl_count_not_either, x, a, b)


def ctc(cnp.ndarray log_probs, cnp.ndarray targets, cnp.ndarray target_offsets,
        cnp.ndarray input_lengths, cnp.ndarray target_lengths, fl_index s_max, int64_t blank,
        bint zero_infinity, object grad_scale, cnp.ndarray nll, object grad, int n_threads):
    """fl_ctc_loss over log_probs (t, n, c): fills nll (n,) and, when grad is given, grad
    (log_probs' shape, scaled per sample by grad_scale, n float64); index arrays int64
    (target_offsets, input_lengths, target_lengths: n each). Returns the sample whose labels
    the kernel found out of range, or -1. The scratch is allocated here, once per call."""
    cdef fl_index t = cnp.PyArray_DIM(log_probs, 0), n = cnp.PyArray_DIM(log_probs, 1)
    cdef fl_index c = cnp.PyArray_DIM(log_probs, 2), bad = -1
    cdef int nt = max(1, min(n_threads, n, 64))
    cdef cnp.npy_intp size[1]
    size[0] = nt * fl_ctc_work_items(t, s_max)
    cdef cnp.ndarray work = cnp.PyArray_EMPTY(1, size, cnp.PyArray_TYPE(log_probs), 0)
    size[0] = nt * fl_ctc_index_items(s_max)
    cdef cnp.ndarray iwork = cnp.PyArray_EMPTY(1, size, cnp.NPY_INT32, 0)
    cdef int dt = dtype_code(log_probs)
    cdef const void *plp = cnp.PyArray_DATA(log_probs)
    cdef const int64_t *ptg = <const int64_t *>cnp.PyArray_DATA(targets)
    cdef const int64_t *pof = <const int64_t *>cnp.PyArray_DATA(target_offsets)
    cdef const int64_t *pil = <const int64_t *>cnp.PyArray_DATA(input_lengths)
    cdef const int64_t *ptl = <const int64_t *>cnp.PyArray_DATA(target_lengths)
    cdef const double *pgs = <const double *>data_or_null(grad_scale)
    cdef void *pn = cnp.PyArray_DATA(nll)
    cdef void *pg = data_or_null(grad)
    cdef void *pw = cnp.PyArray_DATA(work)
    cdef int32_t *piw = <int32_t *>cnp.PyArray_DATA(iwork)
    with nogil:
        fl_ctc_loss(dt, t, n, c, plp, ptg, pof, pil, ptl, s_max, blank, zero_infinity, pgs,
                    pn, pg, pw, piw, nt, &bad)
    return bad


def build_facts():
    """Facts the compiled kernels know about themselves."""
    return {
        "simd_paths": fl_simd_paths().decode(),
        "active_isa": fl_active_isa().decode(),
        "openmp": bool(fl_openmp_enabled()),
        "openmp_max_threads": fl_openmp_max_threads(),
    }
