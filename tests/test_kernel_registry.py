"""The C list of elementwise losses (FL_ELEMENTWISE_LOSSES in csrc/losses.h) as the binding
exports it: every loss once, dense codes, each code running its own loss, bad codes refused."""
import numpy as np
import pytest
from _support import DTYPES, assert_close

from fastloss import _losses
from fastloss._validation import Interval
from fastloss.reference import losses as ref

from fastloss.losses._registry import LOSSES

PARAM = 0.7  # a loss's real parameter (huber's delta, smooth_l1's beta) where it has one

# each C kernel: the registry row that runs it and the arguments that select it
KERNELS = {kernel: (row, select) for row in LOSSES.values()
           if row.kind in ("elementwise", "elementwise_inputs")
           for kernel, select in row.kernels.items()}
#: the arguments under which a loss's reference computes what its kernel alone does
#: (sigmoid_focal_loss's alpha weighting is a weight the Python layer gives the kernel)
KERNEL_ALONE = {"sigmoid_focal": {"alpha": -1.0}}
ROW_KERNELS = {kernel: (row, select) for row in LOSSES.values()
               if row.kind in ("rows", "target_rows", "label_rows", "input_rows")
               for kernel, select in row.kernels.items()}


def test_elementwise_codes_are_dense_and_distinct():
    codes = _losses.ELEMENTWISE_LOSSES
    assert all(isinstance(stem, str) and stem for stem in codes)
    assert sorted(codes.values()) == list(range(len(codes)))


def test_aux_inputs_are_the_rows_of_two_differentiated_inputs():
    """The kernels whose aux array is a differentiated input (reads_aux 2) are exactly those
    of the registry's rows of kind "elementwise_inputs"."""
    assert _losses.ELEMENTWISE_AUX_INPUTS == {
        k for k, (row, _) in KERNELS.items() if row.kind == "elementwise_inputs"}


def test_every_kernel_is_run_by_a_registry_row():
    # a row added to FL_ELEMENTWISE_LOSSES or FL_ROWWISE_LOSSES shows up here, and needs its
    # registry row; only cross_entropy (its own blocked kernel) runs no listed kernel
    assert set(_losses.ELEMENTWISE_LOSSES) == set(KERNELS)
    assert set(_losses.ROWWISE_LOSSES) == set(ROW_KERNELS)
    assert sorted(_losses.ROWWISE_LOSSES.values()) == list(range(len(_losses.ROWWISE_LOSSES)))
    assert [row.name for row in LOSSES.values() if not row.kernels] == ["cross_entropy"]


# the row-wise codes of one float input (rowwise()) and of several (rowwise_inputs())
ONE_INPUT_ROWS = sorted(s for s, k in _losses.ROWWISE_INPUTS.items() if k == 1)
INPUTS_ROWS = sorted(s for s, k in _losses.ROWWISE_INPUTS.items() if k > 1)


#: classes per row: below one vector (scalar loops), a float row of 8-15 (the 8-lane
#: "narrow" rules of csrc/losses_impl.h; float64: a vector and a scalar tail), many vectors
ROW_CLASSES = [7, 10, 40]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stem", ONE_INPUT_ROWS)
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("c", ROW_CLASSES)
def test_each_row_code_runs_its_own_loss(stem, c, n_threads, dtype):
    """Each row-wise code against its row's reference (the kernel's arguments, its real
    parameter at PARAM), with weights, an ignored row where the loss has ignore_index and
    enough rows for two threads (sums agree to rounding; the values and gradients to the
    rounding of one row)."""
    row, select = ROW_KERNELS[stem]
    rng = np.random.default_rng(1)
    x, labels = row.data(rng, (3000, c), dtype)
    # class weights where the loss takes them (multilabel_margin_loss: none, as PyTorch)
    w = rng.uniform(0.5, 2, c).astype(dtype) if "weight" in row.weights else None
    weight = {} if w is None else {"weight": w}
    reals = [p.name for p in row.params if isinstance(p.constraint, Interval)]
    kwargs = {**{name: PARAM for name in reals if name != "label_smoothing"}, **select}
    if any(p.name == "ignore_index" for p in row.params):
        labels[5] = -100
        kwargs["ignore_index"] = ignore = -100
    else:
        ignore = np.iinfo(np.int64).min
    param = PARAM if reals else 0.0
    grad, elems = np.full_like(x, np.nan), np.full(len(x), np.nan, dtype)
    code = _losses.ROWWISE_LOSSES[stem]
    # a target row (the input's shape) or a label per row
    target = {"target": labels} if row.kind == "target_rows" else {}
    kernel_labels = None if target else labels  # a label per row, or rows of labels
    total, bad = _losses.rowwise(code, x, kernel_labels, w, ignore, param, 1.0, grad, None,
                                 _losses.WANT_SUM | _losses.WANT_GRAD, n_threads, **target)
    _losses.rowwise(code, x, kernel_labels, w, ignore, param, 1.0, None, elems,
                    _losses.WANT_ELEMENTS, n_threads, **target)
    ref_value, ref_grad = getattr(ref, row.name + "_value_and_grad")(
        x, labels, reduction="sum", **weight, **kwargs)
    assert bad == -1
    assert_close(total, ref_value, dtype, scale=float(np.abs(elems).sum()), factor=4)
    assert_close(grad, ref_grad, dtype, floor=1.0 if w is None else float(w.max()), factor=4)
    assert_close(elems, getattr(ref, row.name)(x, labels, reduction="none", **weight, **kwargs),
                 dtype, factor=4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stem", INPUTS_ROWS)
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("c", ROW_CLASSES)
def test_each_inputs_row_code_runs_its_own_loss(stem, c, n_threads, dtype):
    """Each row-wise code of several float inputs against its row's reference (its defaults),
    enough rows for two threads; the one-input entry point refuses it (NaN, nothing
    written), and it refuses another count of inputs."""
    row, _ = ROW_KERNELS[stem]
    assert _losses.ROWWISE_INPUTS[stem] == len(row.inputs)
    arrays = row.data(np.random.default_rng(2), (3000, c), dtype)
    xs, target = arrays[:len(row.inputs)], arrays[len(row.inputs):]
    codes = target[0].astype(np.int64) if target else None
    kw = row.defaults()
    extra = tuple(float(v) for k, v in kw.items() if k != "margin")  # p, eps, swap
    code = _losses.ROWWISE_LOSSES[stem]
    grads = tuple(np.full_like(x, np.nan) for x in xs)
    elems = np.full(len(xs[0]), np.nan, dtype)
    total = _losses.rowwise_inputs(code, xs, codes, None, kw["margin"], extra, 1.0, grads,
                                   None, _losses.WANT_SUM | _losses.WANT_GRAD, n_threads)
    _losses.rowwise_inputs(code, xs, codes, None, kw["margin"], extra, 1.0, None, elems,
                           _losses.WANT_ELEMENTS, n_threads)
    ref_value, ref_grads = getattr(ref, row.name + "_value_and_grad")(*arrays, reduction="sum",
                                                                       **kw)
    assert_close(total, ref_value, dtype, scale=float(np.abs(elems).sum()), factor=4)
    for g, want in zip(grads, ref_grads):
        assert_close(g, want, dtype, floor=1.0, factor=4)
    assert_close(elems, getattr(ref, row.name)(*arrays, reduction="none", **kw), dtype,
                 factor=4)
    keep = np.full_like(xs[0], 3.0)
    total, bad = _losses.rowwise(code, xs[0], codes, None, 0, 0.0, 1.0, keep, None,
                                 _losses.WANT_GRAD, 1)
    assert np.isnan(total) and (keep == 3.0).all()
    other = xs[:2] if len(xs) == 3 else xs + xs[:1]
    assert np.isnan(_losses.rowwise_inputs(code, other, codes, None, 0.0, extra, 1.0, None,
                                           None, _losses.WANT_SUM, 1))


def test_unknown_row_code_raises_before_writing():
    x, grad = np.ones((2, 3)), np.full((2, 3), 3.0)
    for loss in (-1, len(_losses.ROWWISE_LOSSES)):
        with pytest.raises(ValueError, match="ROWWISE_LOSSES"):
            _losses.rowwise(loss, x, np.zeros(2, np.int64), None, -100, 0.0, 1.0, grad, None,
                            _losses.WANT_GRAD, 1)
    assert (grad == 3.0).all()


def _call(stem, dtype, rng):
    """The kernel's inputs (from its row: x, y and the aux array, or None), the row's
    reference arguments (its arrays, keywords) and the kernel's parameter."""
    row, select = KERNELS[stem]
    arrays = row.data(rng, (257,), dtype)
    if row.kind == "elementwise_inputs":  # (x, y, aux) in the kernel's order
        x, y, aux = (arrays[row.arrays.index(n)] for n in (row.inputs[0], "target",
                                                           row.inputs[1]))
    else:
        (x, y), aux = arrays, None
    if select.get("log_target"):
        y = np.log(rng.uniform(0.05, 1.0, y.shape)).astype(dtype)
        arrays = (x, y)
    reals = [p.name for p in row.params if not isinstance(p.constraint, str)]
    alone = KERNEL_ALONE.get(stem, {})
    kwargs = {**{name: PARAM for name in reals}, **select, **alone}
    taken = [name for name in reals if name not in alone]
    param = kwargs[taken[0]] if taken else 0.0  # the one the kernel takes
    if "pos_weight" in row.weights:
        kwargs["pos_weight"] = aux = rng.uniform(0.5, 2, x.shape).astype(dtype)
    return row, (x, y, aux), arrays, kwargs, float(param)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stem", sorted(_losses.ELEMENTWISE_LOSSES))
def test_each_code_runs_its_own_loss(stem, dtype):
    """The code a kernel's name maps to computes that loss (not a neighbour in the enum):
    value, elements and gradient (of a loss of two differentiated inputs, both gradients,
    the aux array's the second) against its row's reference."""
    row, (x, y, aux), arrays, kwargs, param = _call(stem, dtype, np.random.default_rng(0))
    code = _losses.ELEMENTWISE_LOSSES[stem]
    grad, elems = np.empty_like(x), np.empty_like(x)
    two = stem in _losses.ELEMENTWISE_AUX_INPUTS
    aux_grad = np.empty_like(x) if two else None
    total = _losses.elementwise(code, x, y, None, aux, param, 1.0, grad, None, None,
                                _losses.WANT_SUM | _losses.WANT_GRAD, 1, aux_grad=aux_grad)
    _losses.elementwise(code, x, y, None, aux, param, 1.0, None, None, elems,
                        _losses.WANT_ELEMENTS, 1)
    ref_total, ref_grad = getattr(ref, row.name + "_value_and_grad")(*arrays, reduction="sum",
                                                                      **kwargs)
    assert_close(total, ref_total, dtype, scale=float(np.abs(elems).sum()), factor=4)
    for got, want in zip((grad, aux_grad) if two else (grad,), ref_grad if two else (ref_grad,)):
        assert_close(got, want, dtype, factor=4)
    assert_close(elems, getattr(ref, row.name)(*arrays, reduction="none", **kwargs), dtype,
                 factor=4)


@pytest.mark.parametrize("stem", sorted(_losses.ELEMENTWISE_AUX_INPUTS))
def test_aux_input_kernel_refuses_a_call_without_its_arrays(stem):
    """A kernel of two differentiated inputs needs its aux array, and the arrays for the
    aux's gradient and Hessian its want writes: without them the binding raises, writing
    nothing."""
    code = _losses.ELEMENTWISE_LOSSES[stem]
    x, grad, hess = np.ones(5), np.full(5, 3.0), np.full(5, 3.0)
    both = _losses.WANT_GRAD | _losses.WANT_HESS
    for aux, want, aux_grad, aux_hess in [(None, _losses.WANT_SUM, None, None),
                                          (x, _losses.WANT_GRAD, None, None),
                                          (x, both, np.empty(5), None)]:
        with pytest.raises(ValueError, match="ELEMENTWISE_AUX_INPUTS"):
            _losses.elementwise(code, x, x, None, aux, 0.5, 1.0, grad, hess, None, want, 1,
                                aux_grad=aux_grad, aux_hess=aux_hess)
    assert (grad == 3.0).all() and (hess == 3.0).all()


@pytest.mark.parametrize("loss", [-1, len(_losses.ELEMENTWISE_LOSSES), 2**31 - 1])
def test_unknown_loss_code_raises_before_writing(loss):
    x = np.ones(5)
    grad = np.full(5, 3.0)
    with pytest.raises(ValueError, match="ELEMENTWISE_LOSSES"):
        _losses.elementwise(loss, x, x, None, None, 0.0, 1.0, grad, None, None,
                            _losses.WANT_GRAD, 1)
    assert (grad == 3.0).all()


@pytest.mark.parametrize("want", [0, _losses.WANT_SUM | _losses.WANT_ELEMENTS, 7, 8,
                                  _losses.WANT_HESS | _losses.WANT_SUM, 15, 16, -1])
def test_unsupported_want_raises_before_writing(want):
    x = np.ones(5)
    grad, hess, elems = np.full(5, 3.0), np.full(5, 3.0), np.full(5, 3.0)
    with pytest.raises(ValueError, match="want"):
        _losses.elementwise(_losses.ELEMENTWISE_LOSSES["mse"], x, x, None, None, 0.0, 1.0,
                            grad, hess, elems, want, 1)
    assert (grad == 3.0).all() and (hess == 3.0).all() and (elems == 3.0).all()
