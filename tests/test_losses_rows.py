"""The losses over rows of classes beyond (N, C): PyTorch's K-dimensional (N, C, d1, ..., dk)
and unbatched (C,) inputs, per-row ``sample_weight``, and ``NAME_grad_hess`` (the Hessian's
diagonal), against PyTorch, scikit-learn, the reference and hand-derived identities."""

from __future__ import annotations

import math
import warnings
from typing import Any, Dict, Tuple

import numpy as np
import pytest

import fastloss
from fastloss import _losses
from _support import REDUCTIONS, assert_close, numpy_backend

from fastloss.losses._registry import LOSSES

ROW_LOSSES = ["cross_entropy", "nll_loss"]
#: (C,), (N, C, d1), (N, C, d1, d2), a spatial axis of 1, empty batches, and C above the
#: kernels' gather block (the input is then transposed first: the one copying path)
SHAPES = [(5,), (3, 4, 5), (2, 3, 2, 3), (4, 3, 1), (0, 3, 2), (2, 3, 0),
          (2, _losses.STRIDED_MAX_CLASSES + 5, 2)]


def batch_of(shape: Tuple[int, ...]) -> Tuple[int, ...]:
    return () if len(shape) == 1 else (shape[0],) + shape[2:]


def classes_of(shape: Tuple[int, ...]) -> int:
    return shape[0] if len(shape) == 1 else shape[1]


def case(name: str, kind: str, shape: Tuple[int, ...], dtype: Any, rng: np.random.Generator
         ) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any]]:
    """(input, target, keyword arguments) of ``kind``: "labels", "rich" (class weights,
    smoothing, an ignored row) or "probs" (cross_entropy only)."""
    c, batch = classes_of(shape), batch_of(shape)
    x = rng.normal(0.0, 2.0, shape)
    if name == "nll_loss":  # log-probabilities along the class axis
        axis = 0 if len(shape) == 1 else 1
        x = x - np.log(np.exp(x).sum(axis=axis, keepdims=True))
    kw: Dict[str, Any] = {}
    if kind == "probs":
        p = rng.dirichlet(np.ones(c), batch or None)
        target = np.ascontiguousarray(np.moveaxis(p, -1, 1) if batch else p).astype(dtype)
    else:
        target = np.asarray(rng.integers(0, c, batch))
    if kind in ("rich", "probs"):
        kw["weight"] = rng.uniform(0.2, 2.0, c).astype(dtype)
        if name == "cross_entropy":
            kw["label_smoothing"] = 0.15
    if kind == "rich" and target.size > 1:
        target.flat[1] = -100
    return x.astype(dtype), target, kw


def _torch_value_and_grad(name: str, x: np.ndarray, target: np.ndarray, reduction: str,
                          kw: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    torch = pytest.importorskip("torch")
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        out = getattr(torch.nn.functional, name)(xt, torch.from_numpy(target.copy()),
                                                 reduction=reduction, **tkw)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def check_matches_torch(name: str, x: np.ndarray, target: np.ndarray, kw: Dict[str, Any],
                        backend: str, dtype: Any) -> None:
    """``name``'s value (of torch's shape) and gradient (the input's shape) on ``backend``
    against torch.nn.functional's, for every reduction."""
    for reduction in REDUCTIONS:
        want_value, want_grad = _torch_value_and_grad(name, x, target, reduction, kw)
        with fastloss.use_backend(backend):
            value, grad = getattr(fastloss, name + "_value_and_grad")(
                x, target, reduction=reduction, **kw)
        assert np.shape(value) == want_value.shape and grad.shape == x.shape
        assert np.asarray(value).dtype == dtype and grad.dtype == dtype
        factor = 2 if dtype == np.float32 else 1
        assert_close(value, want_value, dtype, floor=1.0, factor=factor)
        assert_close(grad, want_grad, dtype, floor=float(np.abs(want_grad).max(initial=0.0))
                     or 1.0, factor=factor)


def check_sample_weights_repeat_rows(name: str, x: np.ndarray, target: np.ndarray,
                                     kw: Dict[str, Any], backend: str, dtype: Any,
                                     reductions: Tuple[str, ...] = ("mean",)) -> None:
    """Integer sample weights on the rows of an (N, C) input count each row that many times
    (0: dropped): value and gradient equal those of the batch with rows repeated."""
    counts = np.array([2, 0, 1, 3, 1, 0])
    repeat = np.repeat(np.arange(6), counts)
    for reduction in reductions:
        with fastloss.use_backend(backend):
            value, grad = getattr(fastloss, name + "_value_and_grad")(
                x, target, reduction=reduction, sample_weight=counts.astype(dtype), **kw)
            want_value, want_rows_grad = getattr(fastloss, name + "_value_and_grad")(
                x[repeat], target[repeat], reduction=reduction, **kw)
        want_grad = np.zeros_like(x)
        np.add.at(want_grad, repeat, want_rows_grad)
        assert_close(value, want_value, dtype, floor=1.0)
        assert_close(grad, want_grad, dtype, floor=1.0)


def _params():
    for name in ROW_LOSSES:
        for kind in ("labels", "rich") + (("probs",) if name == "cross_entropy" else ()):
            for shape in SHAPES:
                yield pytest.param(name, kind, shape, id=f"{name}-{kind}-{shape}")


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name, kind, shape", list(_params()))
def test_k_dimensional_and_unbatched_match_torch(name, kind, shape, backend, dtype):
    """Value (of the targets' shape for "none", 0-d unbatched) and gradient (the input's
    shape) as torch.nn.functional, every reduction."""
    rng = np.random.default_rng(len(shape) * 7 + classes_of(shape))
    x, target, kw = case(name, kind, shape, dtype, rng)
    check_matches_torch(name, x, target, kw, backend, dtype)


def _moved(a: np.ndarray) -> np.ndarray:
    """(N, C, d1, ..., dk) as the (N d1 ... dk, C) rows it stands for."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)).reshape(-1, a.shape[1])


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("c", [3, 21, 40])
@pytest.mark.parametrize("name", ROW_LOSSES)
def test_class_stride_is_the_rows_it_stands_for(name, c, n_threads, dtype):
    """The kernels' in-place reading of the class stride (cross_entropy: its (C, S) planes
    along s, FL_PLANE_LANES positions at a time, 40 classes too; nll_loss: the label's
    entries; threads splitting inside a spatial segment) computes the row losses and the
    gradient of the same rows laid out as (rows, C): bit for bit with fewer than 16 classes,
    where both sum the classes in order; with more the rows' kernel sums them in vector
    order, so to the dtype's rounding."""
    rng = np.random.default_rng(c)
    x, target, kw = case(name, "rich", (7, c, 13, 11), dtype, rng)
    sw = rng.uniform(0.0, 2.0, target.shape).astype(dtype)
    kw["sample_weight"] = sw
    if name == "cross_entropy":
        kw["n_threads"] = n_threads
    elif n_threads != 1:
        pytest.skip("nll_loss takes no n_threads (PyTorch's signature): it runs one")
    rows_kw = {**kw, "sample_weight": sw.reshape(-1)}
    value, grad = getattr(fastloss, name + "_value_and_grad")(x, target, reduction="none",
                                                              **kw)
    want_value, want_grad = getattr(fastloss, name + "_value_and_grad")(
        _moved(x), target.reshape(-1), reduction="none", **rows_kw)
    if c < 16 or name != "cross_entropy":
        np.testing.assert_array_equal(value.reshape(-1), want_value)
        np.testing.assert_array_equal(_moved(grad), want_grad)
    else:
        assert_close(value.reshape(-1), want_value, dtype, factor=4)
        assert_close(_moved(grad), want_grad, dtype, factor=4)
    total = getattr(fastloss, name)(x, target, reduction="mean", **kw)
    assert_close(total, getattr(fastloss, name)(_moved(x), target.reshape(-1), reduction="mean",
                                                **rows_kw), dtype, factor=4)


# ---- sample_weight ----------------------------------------------------------------------

@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", ROW_LOSSES)
def test_integer_sample_weights_repeat_rows(name, backend, dtype):
    """A sample weight of k counts its row k times (0: dropped): value and gradient equal those
    of the batch with rows repeated, class weights and "mean" included (the mean divides by
    the repeated rows' class weights: sum_i s_i w_{y_i})."""
    rng = np.random.default_rng(3)
    x, target, kw = case(name, "rich", (6, 4), dtype, rng)
    check_sample_weights_repeat_rows(name, x, target, kw, backend, dtype, ("mean", "sum"))


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_sample_weight_mean_is_sklearns_without_class_weights(backend, dtype):
    """weight=None: "mean" is sum(s l) / sum(s) (np.average of the row losses), for labels
    and for probabilities, on a K-dimensional input."""
    rng = np.random.default_rng(4)
    for kind in ("labels", "probs"):
        x, target, kw = case("cross_entropy", kind, (3, 4, 5), dtype, rng)
        kw.pop("weight", None)
        sw = rng.uniform(0.1, 3.0, (3, 5)).astype(dtype)
        with fastloss.use_backend(backend):
            rows = fastloss.cross_entropy(x, target, reduction="none", **kw)
            mean = fastloss.cross_entropy(x, target, sample_weight=sw, **kw)
            weighted_rows = fastloss.cross_entropy(x, target, reduction="none",
                                                   sample_weight=sw, **kw)
        assert_close(mean, np.average(rows.astype(np.float64), weights=sw), dtype)
        assert_close(weighted_rows, sw * rows, dtype)


@pytest.mark.parametrize("name", ROW_LOSSES)
def test_sample_weight_matches_reference(name, dtype):
    """The compiled kernels against the reference with sample weights (zeros included) on
    every reduction and shape kind."""
    rng = np.random.default_rng(5)
    kinds = ("rich", "probs") if name == "cross_entropy" else ("rich",)
    for kind, shape in [(k, s) for k in kinds for s in SHAPES[:3]]:
        x, target, kw = case(name, kind, shape, dtype, rng)
        sw = rng.uniform(0.0, 2.0, batch_of(shape)).astype(dtype)
        if sw.size > 2:
            sw.flat[2] = 0.0
        for reduction in REDUCTIONS:
            got = getattr(fastloss, name + "_value_and_grad")(
                x, target, reduction=reduction, sample_weight=sw, **kw)
            with numpy_backend():
                want = getattr(fastloss, name + "_value_and_grad")(
                    x, target, reduction=reduction, sample_weight=sw, **kw)
            assert_close(got[0], want[0], dtype, floor=1.0)
            assert_close(got[1], want[1], dtype, floor=1.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", ROW_LOSSES)
def test_bad_sample_weight_raises_before_writing(name, backend):
    x = np.zeros((2, 3, 4))
    target = np.zeros((2, 4), np.int64)
    out = np.full_like(x, 7.0)
    bad = [(np.ones((2, 3)), ValueError), (np.ones(8), ValueError), (np.ones((2, 4), complex),
                                                                      TypeError),
           (np.array([["a"] * 4] * 2), TypeError), (np.full((2, 4), -1.0), ValueError),
           (np.array([[1.0, np.nan, 1.0, 1.0]] * 2), ValueError),
           (np.array([[1.0, 1.0, np.inf, 1.0]] * 2), ValueError)]
    with fastloss.use_backend(backend):
        for sw, error in bad:
            with pytest.raises(error, match="sample_weight"):
                getattr(fastloss, name + "_grad")(x, target, sample_weight=sw, out=out)
            with pytest.raises(error, match="sample_weight"):
                getattr(fastloss, name + "_grad_hess")(x, target, sample_weight=sw)
    assert (out == 7.0).all()


# ---- Hessians ---------------------------------------------------------------------------

def _torch_hessian_diagonal(name: str, x: np.ndarray, target: np.ndarray, reduction: str,
                            kw: Dict[str, Any]) -> np.ndarray:
    torch = pytest.importorskip("torch")
    tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    sw = tkw.pop("sample_weight", None)
    t = torch.from_numpy(target.copy())

    def total(z):
        if sw is None:
            return getattr(torch.nn.functional, name)(z, t, reduction=reduction, **tkw).sum()
        rows = getattr(torch.nn.functional, name)(z, t, reduction="none", **tkw)
        return (sw * rows).sum()  # sum reduction of the sample-weighted rows

    h = torch.autograd.functional.hessian(total, torch.from_numpy(x.copy())).numpy()
    return np.diagonal(h.reshape(x.size, x.size)).reshape(x.shape)


def _hess_params():
    for kind in ("labels", "rich", "probs"):
        for shape in [(4,), (3, 4), (2, 3, 2)]:
            yield pytest.param(kind, shape, id=f"{kind}-{shape}")


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("kind, shape", list(_hess_params()))
def test_cross_entropy_hessian_is_torch_autograd_diagonal(kind, shape, backend):
    rng = np.random.default_rng(6)
    x, target, kw = case("cross_entropy", kind, shape, np.float64, rng)
    for reduction in REDUCTIONS:
        want = _torch_hessian_diagonal("cross_entropy", x, target, reduction, kw)
        with fastloss.use_backend(backend):
            grad, hess = fastloss.cross_entropy_grad_hess(x, target, reduction=reduction, **kw)
            want_grad = fastloss.cross_entropy_grad(x, target, reduction=reduction, **kw)
        assert hess.shape == x.shape and hess.dtype == np.float64
        assert_close(hess, want, np.float64, floor=1.0)
        np.testing.assert_array_equal(grad, want_grad)  # the same gradient, from one pass
    sw = rng.uniform(0.2, 2.0, target.shape if kind != "probs" else batch_of(shape))
    want = _torch_hessian_diagonal("cross_entropy", x, target, "sum", {**kw, "sample_weight": sw})
    with fastloss.use_backend(backend):
        _, hess = fastloss.cross_entropy_grad_hess(x, target, reduction="sum", sample_weight=sw,
                                                   **kw)
    assert_close(hess, want, np.float64, floor=1.0)


def test_cross_entropy_grad_hess_matches_sklearn(rng64):
    """scikit-learn's HalfMultinomialLoss.gradient_hessian (a private API): sums over rows,
    times sample_weight; its hessian is p (1 - p)."""
    sk = pytest.importorskip("sklearn._loss.loss")
    labels = rng64.integers(0, 5, 40)
    logits = rng64.normal(0, 2, (40, 5))
    sw = rng64.uniform(0.1, 2.0, 40)
    loss = sk.HalfMultinomialLoss(n_classes=5)
    want_grad, want_hess = loss.gradient_hessian(y_true=labels.astype(np.float64),
                                                 raw_prediction=logits, sample_weight=sw)
    grad, hess = fastloss.cross_entropy_grad_hess(logits, labels, reduction="sum",
                                                  sample_weight=sw)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(hess, want_hess, rtol=1e-10, atol=1e-15)
    mean_grad, mean_hess = fastloss.cross_entropy_grad_hess(logits, labels, sample_weight=sw)
    np.testing.assert_allclose(mean_hess, want_hess / sw.sum(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(mean_grad, want_grad / sw.sum(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("shape", [(3000, 7), (1, 3000), (40, 9, 30)])
def test_cross_entropy_grad_hess_matches_reference(shape, n_threads, dtype):
    rng = np.random.default_rng(7)
    for kind in ("labels", "rich", "probs"):
        x, target, kw = case("cross_entropy", kind, shape, dtype, rng)
        grad, hess = fastloss.cross_entropy_grad_hess(x, target, n_threads=n_threads, **kw)
        with numpy_backend():
            want_grad, want_hess = fastloss.cross_entropy_grad_hess(x, target, **kw)
        assert_close(grad, want_grad, dtype, factor=4)
        assert_close(hess, want_hess, dtype, factor=4)
        np.testing.assert_array_equal(grad, fastloss.cross_entropy_grad(
            x, target, n_threads=n_threads, **kw))


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_nll_loss_hessian_is_zero(backend, dtype):
    rng = np.random.default_rng(8)
    x, target, kw = case("nll_loss", "rich", (3, 4, 5), dtype, rng)
    sw = rng.uniform(0.2, 2.0, target.shape).astype(dtype)
    with fastloss.use_backend(backend):
        grad, hess = fastloss.nll_loss_grad_hess(x, target, sample_weight=sw, **kw)
        want_grad = fastloss.nll_loss_grad(x, target, sample_weight=sw, **kw)
    np.testing.assert_array_equal(grad, want_grad)
    np.testing.assert_array_equal(hess, np.zeros_like(x))
    assert hess.dtype == dtype


# ---- multi_margin_loss ------------------------------------------------------------------

def _margin_params():
    for p, margin in ((1, 1.0), (2, 0.5), (1, -0.25)):
        for weighted in (False, True):
            for shape in ((6, 5), (5,), (3, 1)):
                yield pytest.param(p, margin, weighted, shape,
                                   id=f"p{p}-m{margin}-w{int(weighted)}-{shape}")


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("p, margin, weighted, shape", list(_margin_params()))
def test_multi_margin_loss_matches_torch(p, margin, weighted, shape, backend, dtype):
    rng = np.random.default_rng(9)
    c = shape[-1]
    x = rng.normal(0.0, 1.0, shape).astype(dtype)
    target = np.asarray(rng.integers(0, c, shape[:-1]))
    kw: Dict[str, Any] = {"p": p, "margin": margin}
    if weighted:
        kw["weight"] = rng.uniform(0.2, 2.0, c).astype(dtype)
    check_matches_torch("multi_margin_loss", x, target, kw, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multi_margin_loss_extreme_logits_match_torch(backend, dtype):
    x = np.array([[1e30, -1e30, 0.0], [-1e4, 1e4, 3.0], [0.5, 0.5, 0.5]], dtype)
    target = np.array([1, 0, 2])
    for p in (1, 2):
        for reduction in REDUCTIONS:
            want_value, want_grad = _torch_value_and_grad("multi_margin_loss", x, target,
                                                          reduction, {"p": p})
            with fastloss.use_backend(backend), np.errstate(over="ignore"):
                value, grad = fastloss.multi_margin_loss_value_and_grad(
                    x, target, p=p, reduction=reduction)
            assert_close(value, want_value, dtype)
            assert_close(grad, want_grad, dtype, floor=1.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_hessian_is_torch_autograd_diagonal(p, backend):
    """torch has no double backward of multi_margin_loss: its formula in torch operations
    (checked against F.multi_margin_loss here) gives the Hessian through autograd."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x, target = rng.normal(0.0, 1.0, (4, 5)), rng.integers(0, 5, 4)
    w, sw, margin = rng.uniform(0.2, 2.0, 5), rng.uniform(0.2, 2.0, 4), 0.7
    wt, swt, tt = torch.from_numpy(w), torch.from_numpy(sw), torch.from_numpy(target)
    others = torch.ones(4, 5, dtype=torch.float64).scatter_(1, tt[:, None], 0.0)

    def rows(z):
        hinge = (margin - z.gather(1, tt[:, None]) + z).clamp(min=0) ** p * others
        return wt[tt] / 5 * hinge.sum(dim=1)

    xt = torch.from_numpy(x)
    np.testing.assert_allclose(rows(xt).numpy(), torch.nn.functional.multi_margin_loss(
        xt, tt, p=p, margin=margin, weight=wt, reduction="none").numpy(), rtol=1e-12)
    reduce = {"mean": lambda r: r.mean(), "sum": lambda r: r.sum(), "none": lambda r: r.sum()}
    for reduction in REDUCTIONS:
        h = torch.autograd.functional.hessian(lambda z: reduce[reduction](rows(z)), xt)
        want = np.diagonal(h.numpy().reshape(20, 20)).reshape(4, 5)
        with fastloss.use_backend(backend):
            grad, hess = fastloss.multi_margin_loss_grad_hess(
                x, target, p=p, margin=margin, weight=w, reduction=reduction)
            want_grad = fastloss.multi_margin_loss_grad(x, target, p=p, margin=margin, weight=w,
                                                        reduction=reduction)
        assert_close(hess, want, np.float64, floor=1.0)
        np.testing.assert_array_equal(grad, want_grad)
    h = torch.autograd.functional.hessian(lambda z: (swt * rows(z)).sum(), xt)
    with fastloss.use_backend(backend):
        _, hess = fastloss.multi_margin_loss_grad_hess(x, target, p=p, margin=margin, weight=w,
                                                       reduction="sum", sample_weight=sw)
    assert_close(hess, np.diagonal(h.numpy().reshape(20, 20)).reshape(4, 5), np.float64,
                 floor=1.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multi_margin_loss_sample_weight_mean(backend, dtype):
    """"mean" divides by N as PyTorch (class weights stay out of it); with sample weights it
    is sum(s l) / sum(s), integer weights repeating rows."""
    rng = np.random.default_rng(11)
    x = rng.normal(0.0, 1.0, (6, 4)).astype(dtype)
    target = rng.integers(0, 4, 6)
    kw = {"p": 2, "weight": rng.uniform(0.2, 2.0, 4).astype(dtype)}
    check_sample_weights_repeat_rows("multi_margin_loss", x, target, kw, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multi_margin_loss_bad_input_raises_before_writing(backend):
    x, out = np.zeros((2, 3)), np.full((2, 3), 7.0)
    bad = [((x, np.array([0, 3])), {}, ValueError, "target"),
           ((x, np.array([-100, 0])), {}, ValueError, "target"),
           ((x, np.array([np.iinfo(np.int64).min, 0])), {}, ValueError, "target"),
           ((x, np.array([0, 1])), {"p": 3}, ValueError, "p"),
           ((x, np.array([0, 1])), {"margin": np.nan}, ValueError, "margin"),
           ((x, np.array([0, 1])), {"ignore_index": 1}, TypeError, "ignore_index"),
           ((np.zeros((2, 3, 4)), np.zeros((2, 4), np.int64)), {}, ValueError, "input")]
    with fastloss.use_backend(backend):
        for args, kw, error, match in bad:
            with pytest.raises(error, match=match):
                fastloss.multi_margin_loss_grad(*args, out=out if args[0] is x else None, **kw)
    assert (out == 7.0).all()


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", ROW_LOSSES + ["multi_margin_loss"])
def test_grad_hess_writes_out_pair(name, backend):
    """``out=(grad, hess)``: both written and returned; a bad pair raises before any write."""
    rng = np.random.default_rng(12)
    if name == "multi_margin_loss":
        x, target, kw = rng.normal(size=(5, 4)), rng.integers(0, 4, 5), {"p": 2}
    else:
        x, target, kw = case(name, "rich", (3, 4, 5), np.float64, rng)
    with fastloss.use_backend(backend):
        want_grad, want_hess = getattr(fastloss, name + "_grad_hess")(x, target, **kw)
        grad, hess = np.empty_like(x), np.empty_like(x)
        got = getattr(fastloss, name + "_grad_hess")(x, target, out=(grad, hess), **kw)
        assert got[0] is grad and got[1] is hess
        np.testing.assert_array_equal(grad, want_grad)
        np.testing.assert_array_equal(hess, want_hess)
        keep = np.full_like(x, 7.0)
        for out, error in [((keep, keep), ValueError), ((keep,), TypeError),
                           ((keep, np.empty(3)), ValueError), (keep, TypeError)]:
            with pytest.raises(error, match="out"):
                getattr(fastloss, name + "_grad_hess")(x, target, out=out, **kw)
    assert (keep == 7.0).all()


# ---- multilabel_soft_margin_loss --------------------------------------------------------

def _multilabel_case(shape, dtype, rng, weighted):
    x = rng.normal(0.0, 4.0, shape)
    x.flat[:2] = (60.0, -60.0)[: x.size]  # saturated logits
    t = rng.uniform(0.0, 1.0, shape)
    t.flat[::3] = np.round(t.flat[::3])
    kw = {"weight": rng.uniform(0.2, 2.0, shape[-1]).astype(dtype)} if weighted else {}
    return x.astype(dtype), t.astype(dtype), kw


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 6), (7, 1)], ids=str)
def test_multilabel_soft_margin_loss_matches_torch(shape, weighted, backend, dtype):
    """Value (row losses of shape input.shape[:-1] for "none") and gradient as torch's, the
    class axis last, including saturated logits."""
    rng = np.random.default_rng(13)
    x, t, kw = _multilabel_case(shape, dtype, rng, weighted)
    check_matches_torch("multilabel_soft_margin_loss", x, t, kw, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_soft_margin_loss_hessian_is_torch_autograd_diagonal(backend):
    rng = np.random.default_rng(14)
    x, t, kw = _multilabel_case((3, 4), np.float64, rng, True)
    sw = rng.uniform(0.2, 2.0, 3)
    for reduction in REDUCTIONS:
        want = _torch_hessian_diagonal("multilabel_soft_margin_loss", x, t, reduction, kw)
        with fastloss.use_backend(backend):
            grad, hess = fastloss.multilabel_soft_margin_loss_grad_hess(
                x, t, reduction=reduction, **kw)
            want_grad = fastloss.multilabel_soft_margin_loss_grad(x, t, reduction=reduction,
                                                                  **kw)
        assert_close(hess, want, np.float64, floor=1.0)
        np.testing.assert_array_equal(grad, want_grad)
    want = _torch_hessian_diagonal("multilabel_soft_margin_loss", x, t, "sum",
                                   {**kw, "sample_weight": sw})
    with fastloss.use_backend(backend):
        _, hess = fastloss.multilabel_soft_margin_loss_grad_hess(
            x, t, reduction="sum", sample_weight=sw, **kw)
    assert_close(hess, want, np.float64, floor=1.0)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("c", [7, 10, 40])
def test_multilabel_soft_margin_loss_matches_reference(c, n_threads, dtype):
    """Many rows (two threads), sample weights, every form; rows shorter than a vector, of
    one float vector of 8 (the kernels' 8-lane rules below 16 classes) and of several."""
    rng = np.random.default_rng(15)
    x, t, kw = _multilabel_case((3000, c), dtype, rng, True)
    kw["sample_weight"] = rng.uniform(0.0, 2.0, 3000).astype(dtype)
    for reduction in REDUCTIONS:
        value, grad = fastloss.multilabel_soft_margin_loss_value_and_grad(
            x, t, reduction=reduction, n_threads=n_threads, **kw)
        g2, hess = fastloss.multilabel_soft_margin_loss_grad_hess(
            x, t, reduction=reduction, n_threads=n_threads, **kw)
        with numpy_backend():
            want_value, want_grad = fastloss.multilabel_soft_margin_loss_value_and_grad(
                x, t, reduction=reduction, **kw)
            _, want_hess = fastloss.multilabel_soft_margin_loss_grad_hess(
                x, t, reduction=reduction, **kw)
        assert_close(value, want_value, dtype, factor=4)
        assert_close(grad, want_grad, dtype, factor=4)
        assert_close(hess, want_hess, dtype, factor=4)
        np.testing.assert_array_equal(g2, grad)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_soft_margin_loss_sample_weight_repeats_rows(backend, dtype):
    rng = np.random.default_rng(16)
    x, t, kw = _multilabel_case((6, 4), dtype, rng, True)
    check_sample_weights_repeat_rows("multilabel_soft_margin_loss", x, t, kw, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_soft_margin_loss_bad_input_raises_before_writing(backend):
    x, out = np.zeros((2, 3)), np.full((2, 3), 7.0)
    bad = [((x, np.zeros((2, 4))), {}, ValueError, "target"),
           ((x, np.zeros((2, 3), complex)), {}, TypeError, "target"),
           ((x, np.zeros((2, 3))), {"weight": np.ones(2)}, ValueError, "weight"),
           ((x, np.zeros((2, 3))), {"sample_weight": np.ones(3)}, ValueError, "sample_weight"),
           ((x, np.zeros((2, 3))), {"reduction": "batchmean"}, ValueError, "reduction"),
           ((np.zeros((2, 0)), np.zeros((2, 0))), {}, ValueError, "input"),
           ((np.zeros(()), np.zeros(())), {}, ValueError, "input")]
    with fastloss.use_backend(backend):
        for args, kw, error, match in bad:
            with pytest.raises(error, match=match):
                fastloss.multilabel_soft_margin_loss_grad(
                    *args, out=out if args[0] is x else None, **kw)
    assert (out == 7.0).all()


# ---- multilabel_margin_loss: rows of class indices, -1 padded --------------------------------

def _multilabel_margin_case(shape, dtype, rng):
    """Logits and rows of class indices: the registry's (0 to 3 targets, then -1, then
    indices that do not count), plus a repeated class, an empty list, a full list (every
    class a target: loss 0) and pairs exactly at the kink (1 - x_t + x_k = 0)."""
    x, y = LOSSES["multilabel_margin_loss"].data(rng, shape if len(shape) == 2
                                                 else (1,) + shape, dtype)
    x, y = x.reshape(shape), y.reshape(shape)
    c = shape[-1]
    if len(shape) == 2 and shape[0] >= 4 and c >= 3:
        y[0, :3] = (1, 1, -1)
        y[1, 0] = -1
        y[2] = rng.permutation(c)
        x[3, :3] = (1.5, 0.5, 0.25)  # class 1 at the kink of target 0
        y[3, :2] = (0, -1)
    return x, y


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (7, 1), (40, 30)], ids=str)
def test_multilabel_margin_loss_matches_torch(shape, backend, dtype):
    rng = np.random.default_rng(17)
    x, y = _multilabel_margin_case(shape, dtype, rng)
    check_matches_torch("multilabel_margin_loss", x, y, {}, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_margin_loss_extreme_logits_match_torch(backend, dtype):
    """Logits of +-1e30 (float32: 1e30 too) and 0 next to each other: the hinges' sums as
    torch's, active and inactive pairs alike."""
    rng = np.random.default_rng(18)
    x, y = _multilabel_margin_case((6, 5), dtype, rng)
    x[:, ::2] = np.array([1e30, -1e30, 0.0])[rng.integers(0, 3, (6, 3))]
    check_matches_torch("multilabel_margin_loss", x, y, {}, backend, dtype)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_margin_loss_hessian_is_zero(backend):
    """Piecewise linear (torch has no second derivative for it): the gradient does not move
    under a step smaller than any hinge's distance to its kink, and the Hessian written into
    ``out`` (NaN before) is 0."""
    rng = np.random.default_rng(19)
    x, y = LOSSES["multilabel_margin_loss"].data(rng, (6, 5), np.float64)  # no kinks
    out = (np.full_like(x, np.nan), np.full_like(x, np.nan))
    with fastloss.use_backend(backend):
        grad, hess = fastloss.multilabel_margin_loss_grad_hess(x, y, reduction="sum", out=out)
        moved = fastloss.multilabel_margin_loss_grad(x + 1e-9 * rng.normal(size=x.shape), y,
                                                     reduction="sum")
        np.testing.assert_array_equal(grad, fastloss.multilabel_margin_loss_grad(
            x, y, reduction="sum"))
    np.testing.assert_array_equal(moved, grad)
    np.testing.assert_array_equal(hess, np.zeros_like(x))


@pytest.mark.parametrize("n_threads", [1, 2])
def test_multilabel_margin_loss_matches_reference(n_threads, dtype):
    """Many rows (two threads), sample weights, every form and reduction."""
    rng = np.random.default_rng(20)
    x, y = _multilabel_margin_case((3000, 9), dtype, rng)
    sw = rng.uniform(0.0, 2.0, 3000).astype(dtype)
    for reduction in REDUCTIONS:
        value, grad = fastloss.multilabel_margin_loss_value_and_grad(
            x, y, reduction=reduction, sample_weight=sw, n_threads=n_threads)
        with numpy_backend():
            want_value, want_grad = fastloss.multilabel_margin_loss_value_and_grad(
                x, y, reduction=reduction, sample_weight=sw)
        assert_close(value, want_value, dtype, factor=4)
        assert_close(grad, want_grad, dtype, factor=4)
        np.testing.assert_array_equal(fastloss.multilabel_margin_loss(
            x, y, reduction=reduction, sample_weight=sw, n_threads=n_threads), value)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_margin_loss_sample_weight_repeats_rows(backend, dtype):
    rng = np.random.default_rng(21)
    x, y = _multilabel_margin_case((6, 4), dtype, rng)
    check_sample_weights_repeat_rows("multilabel_margin_loss", x, y, {}, backend, dtype,
                                     REDUCTIONS[:2])


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_margin_loss_empty_batch(backend):
    """No rows: "mean" NaN, "sum" 0, "none" an empty array (PyTorch 2.13 returns
    uninitialized memory for the first two)."""
    x, y = np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    with fastloss.use_backend(backend):
        assert np.isnan(fastloss.multilabel_margin_loss(x, y))
        assert fastloss.multilabel_margin_loss(x, y, reduction="sum") == 0
        assert fastloss.multilabel_margin_loss(x, y, reduction="none").shape == (0,)
        assert fastloss.multilabel_margin_loss_grad(x, y).shape == (0, 3)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_multilabel_margin_loss_bad_input_raises_before_writing(backend):
    """PyTorch's checks (every index in [-1, C), past the first -1 too), the shapes, and the
    kernel's class bound, before anything is written."""
    x, out = np.zeros((2, 3)), np.full((2, 3), 7.0)
    y = np.array([[0, -1, 2], [1, 2, -1]])
    big = _losses.LABEL_ROW_MAX_CLASSES + 1
    bad = [((x, np.array([[0, -1, 3], [1, 2, -1]])), {}, ValueError, r"target\[0, 2\] = 3"),
           ((x, np.array([[0, -1, 2], [-2, 2, -1]])), {}, ValueError, r"target\[1, 0\] = -2"),
           ((x, y.astype(np.float64)), {}, TypeError, "target"),
           ((x, y[:, :2]), {}, ValueError, "target"),
           ((x, y), {"sample_weight": np.ones(3)}, ValueError, "sample_weight"),
           ((x, y), {"sample_weight": np.array([1.0, -1.0])}, ValueError, "sample_weight"),
           ((x, y), {"reduction": "batchmean"}, ValueError, "reduction"),
           ((x, y), {"weight": np.ones(3)}, TypeError, "weight"),
           ((np.zeros((2, 0)), np.zeros((2, 0), np.int64)), {}, ValueError, "input"),
           ((np.zeros((2, 3, 4)), np.zeros((2, 3, 4), np.int64)), {}, ValueError, "input"),
           ((np.zeros(()), np.zeros((), np.int64)), {}, ValueError, "input"),
           ((np.zeros((1, big)), np.zeros((1, big), np.int64)), {}, ValueError, "classes")]
    with fastloss.use_backend(backend):
        for args, kw, error, match in bad:
            with pytest.raises(error, match=match):
                fastloss.multilabel_margin_loss_grad(
                    *args, out=out if args[0] is x else None, **kw)
    assert (out == 7.0).all()


def test_multilabel_margin_kernel_checks_every_index_it_reads():
    """The kernel loads each index once and checks it before use: an index >= C before the
    row's -1 (another thread changing the target after the Python checks) is reported as
    the row, an index past the -1 is not read; more classes than its stack bound: NaN."""
    code = _losses.ROWWISE_LOSSES["multilabel_margin"]
    x = np.zeros((3, 4))
    y = np.array([[0, -1, 9, 9], [1, 2, 3, -1], [2, 7, -1, 0]])
    total, bad = _losses.rowwise(code, x, y, None, 0, 0.0, 1.0, None, None,
                                 _losses.WANT_SUM, 1)
    assert bad == 2
    big = _losses.LABEL_ROW_MAX_CLASSES + 1
    total, bad = _losses.rowwise(code, np.zeros((1, big)), np.zeros((1, big), np.int64), None,
                                 0, 0.0, 1.0, None, None, _losses.WANT_SUM, 1)
    assert np.isnan(total)


# ---- losses of rows of several float inputs: cosine_embedding_loss, triplet_margin_loss ----

INPUT_ROWS = {"cosine_embedding_loss": [{}, {"margin": 0.3}, {"margin": -0.5}],
              "triplet_margin_loss": [{}, {"p": 1.0, "swap": True}, {"p": 3.0, "margin": 0.5},
                                      {"swap": True, "eps": 0.0}]}


def _input_rows_case(name, shape, dtype, rng, tiny):
    """The registry's inputs of ``name`` (``shape`` (N, D) or (D,)) with the extreme rows:
    zero vectors (cosine: each side, both), an anchor equal to its positive, to its negative,
    all three equal (triplet, with swap a tie); ``tiny`` scales every input so far down that
    torch's eps dominates (the squared norms below 1e-12, the differences near eps)."""
    row = LOSSES[name]
    arrays = list(row.data(rng, shape if len(shape) == 2 else (1,) + shape, np.float64))
    if len(shape) == 2 and shape[0] >= 4:
        if name == "cosine_embedding_loss":
            arrays[0][0], arrays[1][1], arrays[0][2], arrays[1][2] = 0.0, 0.0, 0.0, 0.0
        else:
            arrays[1][0] = arrays[0][0]
            arrays[2][1] = arrays[0][1]
            arrays[1][2] = arrays[2][2] = arrays[0][2]
    k = len(row.inputs)
    if tiny:  # float32 triplets: differences of eps's size (smaller: u_ab - u_an cancels)
        scale = 1e-8 if dtype == np.float64 else 1e-7 if k == 2 else 1e-5
        arrays[:k] = [a * scale for a in arrays[:k]]
    arrays[:k] = [a.astype(dtype).reshape(shape) for a in arrays[:k]]
    arrays[k:] = [t.reshape(shape[:-1]) for t in arrays[k:]]
    return tuple(arrays), k


def _torch_inputs_value_and_grads(name, arrays, k, reduction, kw):
    torch = pytest.importorskip("torch")
    tensors = [torch.from_numpy(a.copy()) for a in arrays]
    for t in tensors[:k]:
        t.requires_grad_(True)
    out = getattr(torch.nn.functional, name)(*tensors, reduction=reduction, **kw)
    out.sum().backward()
    return out.detach().numpy(), [t.grad.numpy() for t in tensors[:k]]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("tiny", [False, True], ids=["unit", "eps-scale"])
@pytest.mark.parametrize("shape", [(6, 5), (5,), (40, 64)], ids=str)
@pytest.mark.parametrize("name, kw", [(n, kw) for n, kws in INPUT_ROWS.items() for kw in kws],
                         ids=str)
def test_input_rows_match_torch(name, kw, shape, tiny, backend, dtype):
    """Value and every input's gradient (a tuple in argument order) as torch's autograd, on
    random rows and the extreme ones of _input_rows_case, for every reduction."""
    rng = np.random.default_rng(22)
    arrays, k = _input_rows_case(name, shape, dtype, rng, tiny)
    for reduction in REDUCTIONS:
        want_value, want_grads = _torch_inputs_value_and_grads(name, arrays, k, reduction, kw)
        with fastloss.use_backend(backend):
            value, grads = getattr(fastloss, name + "_value_and_grad")(
                *arrays, reduction=reduction, **kw)
            only = getattr(fastloss, name + "_grad")(*arrays, reduction=reduction, **kw)
        assert isinstance(grads, tuple) and len(grads) == k
        assert np.shape(value) == want_value.shape and np.asarray(value).dtype == dtype
        assert_close(value, want_value, dtype, floor=1.0, factor=2)
        for g, g_only, want in zip(grads, only, want_grads):
            assert g.shape == shape and g.dtype == dtype
            assert_close(g, want, dtype, floor=float(np.abs(want).max(initial=0.0)) or 1.0,
                         factor=2)
            np.testing.assert_array_equal(g_only, g)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("name", list(INPUT_ROWS))
def test_input_rows_match_reference(name, n_threads, dtype):
    """Many rows (two threads), sample weights, every reduction and parameter variant."""
    rng = np.random.default_rng(23)
    arrays, k = _input_rows_case(name, (3000, 9), dtype, rng, False)
    sw = rng.uniform(0.0, 2.0, 3000).astype(dtype)
    for kw in INPUT_ROWS[name]:
        for reduction in REDUCTIONS:
            value, grads = getattr(fastloss, name + "_value_and_grad")(
                *arrays, reduction=reduction, sample_weight=sw, n_threads=n_threads, **kw)
            with numpy_backend():
                want_value, want_grads = getattr(fastloss, name + "_value_and_grad")(
                    *arrays, reduction=reduction, sample_weight=sw, **kw)
            assert_close(value, want_value, dtype, factor=4)
            for g, want in zip(grads, want_grads):
                assert_close(g, want, dtype, floor=float(np.abs(want).max()), factor=4)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", list(INPUT_ROWS))
def test_input_rows_sample_weights_repeat_rows(name, backend, dtype):
    """Integer sample weights count each row that many times (0: dropped)."""
    rng = np.random.default_rng(24)
    arrays, k = _input_rows_case(name, (6, 4), dtype, rng, False)
    counts = np.array([2, 0, 1, 3, 1, 0])
    repeat = np.repeat(np.arange(6), counts)
    for reduction in REDUCTIONS[:2]:
        with fastloss.use_backend(backend):
            value, grads = getattr(fastloss, name + "_value_and_grad")(
                *arrays, reduction=reduction, sample_weight=counts.astype(dtype))
            want_value, rows_grads = getattr(fastloss, name + "_value_and_grad")(
                *(a[repeat] for a in arrays), reduction=reduction)
        assert_close(value, want_value, dtype, floor=1.0)
        for g, rows_g in zip(grads, rows_grads):
            want = np.zeros_like(g)
            np.add.at(want, repeat, rows_g)
            assert_close(g, want, dtype, floor=1.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", list(INPUT_ROWS))
def test_input_rows_out_and_empty_batch(name, backend):
    """``out``: a tuple of one array per float input, written and returned; no rows: "mean"
    NaN, "sum" 0."""
    rng = np.random.default_rng(25)
    arrays, k = _input_rows_case(name, (5, 3), np.float64, rng, False)
    with fastloss.use_backend(backend):
        want = getattr(fastloss, name + "_grad")(*arrays)
        out = tuple(np.full_like(arrays[0], np.nan) for _ in range(k))
        got = getattr(fastloss, name + "_grad")(*arrays, out=out)
        assert all(g is o for g, o in zip(got, out))
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        empty = tuple(np.zeros((0,) + a.shape[1:], a.dtype) for a in arrays)
        assert np.isnan(getattr(fastloss, name)(*empty))
        assert getattr(fastloss, name)(*empty, reduction="sum") == 0


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_input_rows_bad_input_raises_before_writing(backend):
    x, out = np.zeros((2, 3)), (np.full((2, 3), 7.0), np.full((2, 3), 7.0))
    y = np.array([1, -1])
    cos = [((x, np.zeros((2, 4)), y), {}, ValueError, "input2"),
           ((x, x.copy(), np.ones(3)), {}, ValueError, "target"),
           ((x, x.copy(), y.astype(complex)), {}, TypeError, "target"),
           ((np.zeros((2, 3, 1)), np.zeros((2, 3, 1)), np.ones((2, 3))), {}, ValueError,
            "input1"),
           ((x, x.copy(), y), {"margin": np.nan}, ValueError, "margin"),
           ((x, x.copy(), y), {"reduction": "batchmean"}, ValueError, "reduction"),
           ((x, x.copy(), y), {"sample_weight": np.ones(3)}, ValueError, "sample_weight")]
    bad_out = [(out[0],), out[:1], (out[0], out[0]), (out[0], np.zeros((2, 3), np.float32)),
               (out[0], x)]
    with fastloss.use_backend(backend):
        for args, kw, error, match in cos:
            with pytest.raises(error, match=match):
                fastloss.cosine_embedding_loss_grad(*args, out=out, **kw)
        for o in bad_out:
            with pytest.raises((TypeError, ValueError), match="out"):
                fastloss.cosine_embedding_loss_grad(x, x.copy(), y, out=o)
        out3 = out + (np.full((2, 3), 7.0),)
        for kw, error, match in [({"margin": 0.0}, ValueError, "margin"),
                                 ({"p": 0.5}, ValueError, "p"),
                                 ({"p": np.inf}, ValueError, "p"),
                                 ({"eps": "1"}, TypeError, "eps"),
                                 ({"swap": 1}, TypeError, "swap")]:
            with pytest.raises(error, match=match):
                fastloss.triplet_margin_loss_grad(x, x.copy(), x.copy(), out=out3, **kw)
        with pytest.raises(ValueError, match="negative"):
            fastloss.triplet_margin_loss_grad(x, x.copy(), np.zeros((3, 3)), out=out3)
        assert all((o == 7.0).all() for o in out3)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_input_rows_kinks_match_torch(backend, dtype):
    """Exactly at the hinge (torch's clamp_min passes the gradient there): orthogonal rows
    with margin 0 (cos = 0 = margin) and a triplet with margin + d(a, p) - d(a, n) = 0."""
    a = np.array([[1.0, 0.0], [0.0, 2.0]], dtype)
    b = np.array([[0.0, 3.0], [1.0, 0.0]], dtype)
    y = np.array([-1, -1])
    cases = [("cosine_embedding_loss", (a, b, y), 2, {"margin": 0.0}),
             ("triplet_margin_loss", (np.zeros((1, 2), dtype), np.zeros((1, 2), dtype),
                                      np.array([[1.0, 0.0]], dtype)), 3,
              {"margin": 1.0, "eps": 0.0})]
    for name, arrays, k, kw in cases:
        want_value, want_grads = _torch_inputs_value_and_grads(name, arrays, k, "sum", kw)
        with fastloss.use_backend(backend):
            value, grads = getattr(fastloss, name + "_value_and_grad")(*arrays, reduction="sum",
                                                                       **kw)
        assert value == want_value == 0
        assert any(np.abs(g).max() > 0 for g in want_grads)
        for g, want in zip(grads, want_grads):
            np.testing.assert_allclose(g, want, rtol=1e-6)


@pytest.mark.parametrize("c", [3, 21])
def test_class_stride_keeps_tiny_losses_and_nonfinite_rows(c, dtype):
    """cross_entropy along the (C, S) planes: a confident correct prediction keeps its tiny
    loss's digits (log1p of the other classes' sum, not log(1 + s)), and non-finite logits
    (an all -inf position, +inf, NaN) and ignored labels give what the (rows, C) layout
    gives, NaN where it has NaN."""
    rng = np.random.default_rng(c)
    x = rng.normal(size=(2, c, 70)).astype(dtype)
    y = rng.integers(0, c, size=(2, 70))
    gap = 12.0 if dtype == np.float32 else 30.0
    x[0, :, 5] = 0.0
    x[0, y[0, 5], 5] = gap  # loss (c - 1) exp(-gap): below float32's eps
    x[1, :, 9] = -np.inf
    x[1, 0, 10] = np.inf
    x[0, 1, 20] = np.nan
    y[1, 30:35] = -100
    value, grad = fastloss.cross_entropy_value_and_grad(x, y, reduction="none")
    want_value, want_grad = fastloss.cross_entropy_value_and_grad(
        _moved(x), y.reshape(-1), reduction="none")
    assert_close(value.reshape(-1), want_value, dtype, floor=1.0, factor=4)
    assert_close(_moved(grad), want_grad, dtype, floor=1.0, factor=4)
    exact = math.log1p((c - 1) * math.exp(-gap))
    assert float(value[0, 5]) == pytest.approx(exact, rel=8 * float(np.finfo(dtype).eps))
    assert np.isnan(value[1, 9]) and np.isnan(value[0, 20])
    assert np.all(value[1, 30:35] == 0) and np.all(grad[1, :, 30:35] == 0)
