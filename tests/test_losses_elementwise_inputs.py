"""The elementwise losses of two differentiated inputs (registry kind "elementwise_inputs":
margin_ranking_loss, gaussian_nll_loss), whose gradient is a tuple, one array per
differentiated input in argument order: every row and variant of the registry against
torch's autograd (value, gradients, Hessian blocks' diagonals) and against the reference
(shapes, dtypes, sample weights, threads, non-contiguous inputs, NaN/inf), ``out``, and bad
input raising before anything is written."""

from __future__ import annotations

import zlib
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

import fastloss
from fastloss.losses._registry import LOSSES
from _support import REDUCTIONS, assert_close, numpy_backend

ROWS = [row for row in LOSSES.values() if row.kind == "elementwise_inputs"]
CASES = [pytest.param(row, variant, id=f"{row.name}-{i}")
         for row in ROWS for i, variant in enumerate(row.variants)]


def test_rows_of_the_kind():
    """The registry's rows of this kind (a row added to it is tested here)."""
    assert [row.name for row in ROWS] == ["margin_ranking_loss", "gaussian_nll_loss"]
    for row in ROWS:
        assert len(row.inputs) == 2 and set(row.inputs) <= set(row.arrays)


def _var_shaped(var: np.ndarray, kind: str) -> Any:
    """gaussian_nll_loss's var in the shape a variant names (see the registry)."""
    if kind == "last":  # (an empty last axis: variances of 0.7)
        return (np.ascontiguousarray(var[..., 0]) if var.shape[-1]
                else np.full(var.shape[:-1], 0.7, var.dtype))
    if kind == "keep":
        return np.ascontiguousarray(var[..., :1])
    if kind == "scalar":
        return float(var.flat[0]) if var.size else 0.7
    assert kind == "full", kind
    return var


def _weights(kind: str, shape: Tuple[int, ...], dtype: Any, rng: np.random.Generator):
    if kind == "rows":  # one weight per index of the first axis
        return rng.uniform(0.1, 2.0, shape[:1] + (1,) * (len(shape) - 1)).astype(dtype)
    assert kind == "full", kind
    return rng.uniform(0.1, 2.0, shape).astype(dtype)


def case(row, variant: Dict[str, Any], shape: Tuple[int, ...], dtype: Any,
         rng: np.random.Generator, extreme: bool = False) -> Tuple[List[Any], Dict[str, Any]]:
    """The row's arrays (argument order) and keyword arguments for ``variant``; ``extreme``
    puts the edge values in: margin_ranking's ties (its kink with margin 0) and scores of
    1e8; gaussian_nll's variances below eps and 0 and far residuals."""
    arrays = list(row.data(rng, shape, dtype))
    kwargs = {k: v for k, v in variant.items() if k not in ("var", "sample_weight")}
    if extreme and arrays[0].size >= 4:
        flat = [a.reshape(-1) for a in arrays]
        if row.name == "margin_ranking_loss":
            flat[1][:2] = flat[0][:2]  # tied: z = margin
            flat[0][2], flat[1][3] = 1e8, -1e8
        else:
            flat[2][:3] = [0.0, 1e-9, 1e-7]
            flat[1][3] = flat[0][3] + 1e3
    if row.name == "gaussian_nll_loss":
        arrays[2] = _var_shaped(arrays[2], variant.get("var", "full"))
    if "sample_weight" in variant:
        kwargs["sample_weight"] = _weights(variant["sample_weight"], shape, dtype, rng)
    return arrays, kwargs


def _grad_positions(row) -> List[int]:
    return [row.arrays.index(name) for name in row.inputs]


# ---- against torch's autograd -------------------------------------------------------------

def _torch_loss(row, arrays, kwargs, reduction):
    """The loss as a function of the two differentiated tensors (torch.nn.functional's, the
    sample weights applied to its unreduced loss as documented), and those tensors."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    tensors = [torch.from_numpy(np.array(a)) if isinstance(a, np.ndarray) else a
               for a in arrays]
    params = {k: v for k, v in kwargs.items() if k != "sample_weight"}
    sw = kwargs.get("sample_weight")
    shape = np.shape(arrays[0])
    sw_t = None if sw is None else torch.from_numpy(np.array(np.broadcast_to(sw, shape)))
    pos = _grad_positions(row)
    if not isinstance(tensors[pos[1]], torch.Tensor):  # a Python float var: every element's
        tensors[pos[1]] = torch.full(shape, tensors[pos[1]], dtype=tensors[0].dtype)

    def loss(a, b):
        args = list(tensors)
        args[pos[0]], args[pos[1]] = a, b
        if sw_t is None:
            return getattr(F, row.name)(*args, reduction=reduction, **params)
        elements = getattr(F, row.name)(*args, reduction="none", **params) * sw_t
        if reduction == "none":
            return elements
        return elements.sum() if reduction == "sum" else elements.sum() / sw_t.sum()

    return loss, [tensors[p] for p in pos]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("extreme", [False, True], ids=["random", "extreme"])
@pytest.mark.parametrize("row, variant", CASES)
def test_matches_torch(row, variant, extreme, backend, dtype):
    """Value and both gradients as torch's autograd, for every reduction; the Hessian (where
    the row has one) against torch.autograd.functional.hessian: the diagonals of its two
    diagonal blocks (the input's block is diagonal; var's too, each variance entering only its
    own elements)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(zlib.crc32(f"{row.name}{variant}".encode()))
    shape = (5, 4)
    arrays, kwargs = case(row, variant, shape, dtype, rng, extreme)
    shapes = [np.shape(arrays[p]) for p in _grad_positions(row)]
    for reduction in row.reductions:
        loss, leaves = _torch_loss(row, arrays, kwargs, reduction)
        leaves = [t.detach().clone().requires_grad_(True) for t in leaves]
        out = loss(*leaves)
        out.sum().backward()
        want_value = out.detach().numpy()
        want_grads = [t.grad.numpy().sum(axis=tuple(range(t.ndim))[:t.ndim - len(s)] or None)
                      .reshape(s) if t.grad.shape != s else t.grad.numpy()
                      for t, s in zip(leaves, shapes)]
        with fastloss.use_backend(backend):
            value, grads = getattr(fastloss, row.name + "_value_and_grad")(
                *arrays, reduction=reduction, **kwargs)
            only = getattr(fastloss, row.name + "_grad")(*arrays, reduction=reduction, **kwargs)
        assert isinstance(grads, tuple) and len(grads) == 2
        assert np.shape(value) == want_value.shape and np.asarray(value).dtype == dtype
        factor = 2 if dtype == np.float32 else 1
        assert_close(value, want_value, dtype, floor=1.0, factor=factor)
        for g, g_only, want, s in zip(grads, only, want_grads, shapes):
            assert g.shape == s and g.dtype == dtype
            assert_close(g, want, dtype, floor=float(np.abs(want).max(initial=0.0)) or 1.0,
                         factor=factor)
            assert_close(g_only, g, dtype)  # another loop: contraction may round apart
        if not row.hessian or extreme:  # var = 0: torch's Hessian has 1 / eps^3 terms
            continue
        flat = [t.detach().reshape(-1).to(torch.float64) for t in leaves]
        sizes = [t.shape for t in leaves]

        def total(a, b, sizes=sizes, loss=loss, dt=leaves[0].dtype):
            return loss(a.reshape(sizes[0]).to(dt), b.reshape(sizes[1]).to(dt)).sum()

        blocks = torch.autograd.functional.hessian(total, tuple(flat))
        with fastloss.use_backend(backend):
            g_pair, h_pair = getattr(fastloss, row.name + "_grad_hess")(
                *arrays, reduction=reduction, **kwargs)
        for j in range(2):
            block = blocks[j][j].numpy()
            diagonal = np.diag(block)
            np.testing.assert_array_equal(block - np.diag(diagonal), 0.0)
            want_h = diagonal.reshape(sizes[j])
            if want_h.shape != shapes[j]:  # a Python float var: its one entry's sum
                want_h = np.asarray(want_h.sum())
            assert_close(h_pair[j], want_h, dtype,
                         floor=float(np.abs(want_h).max(initial=0.0)) or 1.0, factor=factor)
            assert_close(g_pair[j], grads[j], dtype)


# ---- against the reference ----------------------------------------------------------------

SHAPES = [(), (0,), (1,), (7,), (3, 5), (4, 17), (2, 3, 4)]


def _all_forms(row, arrays, kwargs) -> Dict[str, Any]:
    value, grads = getattr(fastloss, row.name + "_value_and_grad")(*arrays, **kwargs)
    got = {"value": getattr(fastloss, row.name)(*arrays, **kwargs), "both_value": value,
           "grad": getattr(fastloss, row.name + "_grad")(*arrays, **kwargs),
           "both_grad": grads}
    if row.hessian:
        got["gh_grad"], got["hess"] = getattr(fastloss, row.name + "_grad_hess")(*arrays,
                                                                                 **kwargs)
    return got


def _fits(row, variant, shape) -> bool:
    """Whether ``variant``'s shapes exist for an input of ``shape`` (var without the last
    axis needs one)."""
    return not (variant.get("var") in ("last", "keep") and len(shape) == 0)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("row, variant", CASES)
def test_matches_reference(row, variant, shape, dtype):
    """The compiled backend against the reference: every form (the gradients, and the
    Hessian diagonals, each of its input's shape), reduction, dtype and shape."""
    if not _fits(row, variant, shape):
        pytest.skip("var without the last axis of a 0-d input")
    rng = np.random.default_rng(zlib.crc32(f"{row.name}{variant}{shape}".encode()))
    arrays, kwargs = case(row, variant, shape, dtype, rng)
    for reduction in row.reductions:
        kw = {**kwargs, "reduction": reduction}
        got = _all_forms(row, arrays, kw)
        with numpy_backend():
            want = _all_forms(row, arrays, kw)
        for key in ("value", "both_value"):
            v = got[key]
            assert np.asarray(v).dtype == dtype
            assert isinstance(v, np.ndarray) == (reduction == "none")
            elements = getattr(fastloss, row.name)(*arrays, **{**kwargs, "reduction": "none"})
            scale = float(np.abs(elements).sum()) if reduction != "none" else None
            assert_close(v, want["value"], dtype, scale=scale, factor=4)
        for key in ("grad", "both_grad", "gh_grad", "hess"):
            if key not in got:
                continue
            for g, w, p in zip(got[key], want[key], _grad_positions(row)):
                assert type(g) is np.ndarray and g.dtype == dtype
                assert g.shape == np.shape(arrays[p])
                assert_close(g, w, dtype, factor=4)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_large_threaded_and_non_contiguous(row, n_threads, dtype):
    """600k elements on two threads (the gradients' bits those of one thread), and
    non-contiguous inputs, as the reference."""
    rng = np.random.default_rng(7)
    shape = (600, 1000)
    arrays, _ = case(row, {}, shape, dtype, rng)
    sw = rng.uniform(0.0, 2.0, shape).astype(dtype)
    for reduction in REDUCTIONS:
        kw = {"reduction": reduction, "sample_weight": sw}
        value, grads = getattr(fastloss, row.name + "_value_and_grad")(*arrays, **kw,
                                                                        n_threads=n_threads)
        _, serial = getattr(fastloss, row.name + "_value_and_grad")(*arrays, **kw, n_threads=1)
        for g, s in zip(grads, serial):
            np.testing.assert_array_equal(g, s)
        with numpy_backend():
            want_value, want_grads = getattr(fastloss, row.name + "_value_and_grad")(*arrays,
                                                                                     **kw)
        assert_close(value, want_value, dtype, factor=4)
        for g, w in zip(grads, want_grads):
            assert_close(g, w, dtype, factor=4)
    strided = [a[:, ::3] for a in arrays]
    value, grads = getattr(fastloss, row.name + "_value_and_grad")(*strided)
    want_value, want_grads = getattr(fastloss, row.name + "_value_and_grad")(
        *(np.ascontiguousarray(a) for a in strided))
    assert value == want_value
    for g, w in zip(grads, want_grads):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_nan_and_inf_where_the_reference_has_them(row, dtype):
    """NaN and inf in every array, at their own positions: NaN in, NaN out, in the places the
    reference puts them (value, gradients, Hessians)."""
    rng = np.random.default_rng(8)
    arrays, _ = case(row, {}, (6, 5), dtype, rng)
    specials = [np.nan, np.inf, -np.inf]
    for j, a in enumerate(arrays):
        for k, v in enumerate(specials):
            if row.name == "gaussian_nll_loss" and j == 2 and v == -np.inf:
                continue  # a negative variance raises (its own test)
            a[j, k] = v
    for reduction in REDUCTIONS:
        got = _all_forms(row, arrays, {"reduction": reduction})
        with numpy_backend():
            want = _all_forms(row, arrays, {"reduction": reduction})
        assert_close(got["value"], want["value"], dtype, factor=4)
        for key in ("grad", "gh_grad", "hess"):
            for g, w in zip(got.get(key, ()), want.get(key, ())):
                assert_close(g, w, dtype, factor=4)
        if reduction == "none":
            assert np.isnan(got["value"][0, 0])
            assert all(np.isnan(g[0, 0]) for g in got["grad"])


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_sample_weights_repeat_elements(row, backend, dtype):
    """Integer sample weights count each element that many times (0: dropped)."""
    rng = np.random.default_rng(9)
    arrays, _ = case(row, {}, (9,), dtype, rng)
    counts = np.array([2, 0, 1, 3, 1, 0, 1, 2, 1])
    repeat = np.repeat(np.arange(9), counts)
    with fastloss.use_backend(backend):
        for reduction in ("mean", "sum"):
            value, grads = getattr(fastloss, row.name + "_value_and_grad")(
                *arrays, reduction=reduction, sample_weight=counts.astype(dtype))
            want_value, rep_grads = getattr(fastloss, row.name + "_value_and_grad")(
                *(a[repeat] for a in arrays), reduction=reduction)
            assert_close(value, want_value, dtype, floor=1.0)
            for g, rep in zip(grads, rep_grads):
                want = np.zeros_like(g)
                np.add.at(want, repeat, rep)
                assert_close(g, want, dtype, floor=1.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_out_is_filled_and_returned(row, backend):
    rng = np.random.default_rng(10)
    arrays, _ = case(row, {}, (4, 3), np.float64, rng)
    shapes = [np.shape(arrays[p]) for p in _grad_positions(row)]
    with fastloss.use_backend(backend):
        want = getattr(fastloss, row.name + "_grad")(*arrays)
        out = tuple(np.full(s, np.nan) for s in shapes)
        got = getattr(fastloss, row.name + "_value_and_grad")(*arrays, out=out)[1]
        assert all(g is o for g, o in zip(got, out))
        for g, w in zip(got, want):
            assert_close(g, w, np.float64)
        if row.hessian:
            pairs = (tuple(np.empty(s) for s in shapes), tuple(np.empty(s) for s in shapes))
            g_pair, h_pair = getattr(fastloss, row.name + "_grad_hess")(*arrays, out=pairs)
            assert g_pair[0] is pairs[0][0] and h_pair[1] is pairs[1][1]
        empty = [np.zeros((0,) + np.shape(a)[1:]) for a in arrays]
        assert np.isnan(getattr(fastloss, row.name)(*empty))
        assert getattr(fastloss, row.name)(*empty, reduction="sum") == 0


def test_gaussian_var_shapes_follow_torch():
    """var of the input's shape, without its last axis, with one axis of size 1 (any axis),
    or a number give torch's values; other shapes raise ValueError naming var, as torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(3, 4, 2)), rng.normal(size=(3, 4, 2))
    for var in (rng.uniform(0.5, 2, (3, 4, 2)), rng.uniform(0.5, 2, (3, 4)),
                rng.uniform(0.5, 2, (3, 4, 1)), rng.uniform(0.5, 2, (3, 1, 2)),
                rng.uniform(0.5, 2, (1, 4, 2)), 0.7):
        tv = torch.from_numpy(var) if isinstance(var, np.ndarray) else var
        want = torch.nn.functional.gaussian_nll_loss(torch.from_numpy(x), torch.from_numpy(y),
                                                     tv, reduction="sum")
        for backend in ("c", "numpy"):
            with fastloss.use_backend(backend):
                got = fastloss.gaussian_nll_loss(x, y, var, reduction="sum")
            np.testing.assert_allclose(got, want.item(), rtol=1e-12)
    for bad in (np.ones((3, 1, 1)), np.ones((4, 2)), np.ones((3, 4, 3)), np.ones(3),
                np.ones((1, 3, 4, 2))):
        with pytest.raises(ValueError):
            torch.nn.functional.gaussian_nll_loss(torch.from_numpy(x), torch.from_numpy(y),
                                                  torch.from_numpy(bad))
        with pytest.raises(ValueError, match="var"):
            fastloss.gaussian_nll_loss(x, y, bad)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_bad_input_raises_before_writing(backend):
    x = np.zeros((2, 3))
    out = (np.full((2, 3), 7.0), np.full((2, 3), 7.0))
    ones = np.ones((2, 3))
    margin = [((x, np.zeros((2, 4)), ones), {}, ValueError, "input2"),
              ((x, ones, np.ones(3)), {}, ValueError, "target"),
              ((x, ones, ones.astype(complex)), {}, TypeError, "target"),
              ((x, ones, ones), {"margin": np.nan}, ValueError, "margin"),
              ((x, ones, ones), {"reduction": "batchmean"}, ValueError, "reduction"),
              ((x, ones, ones), {"sample_weight": np.ones(3)}, ValueError, "sample_weight"),
              ((x, ones, ones), {"sample_weight": -ones}, ValueError, "sample_weight")]
    gaussian = [((x, ones, -ones), {}, ValueError, "var"),
                ((x, ones, np.array([[1.0, -0.0, -1e-30], [1, 1, 1]])), {}, ValueError,
                 r"var\[0, 2\]"),
                ((x, ones, np.ones((2, 2))), {}, ValueError, "var"),
                ((x, ones, -1.0), {}, ValueError, "var"),
                ((x, ones, "1"), {}, TypeError, "var"),
                ((x, ones, ones), {"eps": 0.0}, ValueError, "eps"),
                ((x, ones, ones), {"full": 1}, TypeError, "full"),
                ((x, np.ones(3), ones), {}, ValueError, "target")]
    bad_out = [(out[0],), out[:1], (out[0], out[0]), (out[0], np.zeros((2, 3), np.float32)),
               (out[0], x), (out[0], np.zeros((3, 2))), out[0]]
    with fastloss.use_backend(backend):
        for args, kw, error, match in margin:
            with pytest.raises(error, match=match):
                fastloss.margin_ranking_loss_grad(*args, out=out, **kw)
        for args, kw, error, match in gaussian:
            with pytest.raises(error, match=match):
                fastloss.gaussian_nll_loss_grad(*args, out=out, **kw)
            with pytest.raises(error, match=match):
                fastloss.gaussian_nll_loss_grad_hess(*args, out=(out, out), **kw)
        for o in bad_out:
            with pytest.raises((TypeError, ValueError), match="out"):
                fastloss.margin_ranking_loss_grad(x, ones, ones, out=o)
            with pytest.raises((TypeError, ValueError), match="out"):
                fastloss.gaussian_nll_loss_grad(x, ones, ones, out=o)
        with pytest.raises((TypeError, ValueError), match="out"):
            fastloss.gaussian_nll_loss_grad_hess(x, ones, ones, out=out)
        with pytest.raises(ValueError, match="out"):
            fastloss.gaussian_nll_loss_grad_hess(x, ones, ones, out=(out, (out[0], out[1])))
    assert all((o == 7.0).all() for o in out)
