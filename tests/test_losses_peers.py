"""The losses against their peer libraries, for the reference and for the public functions
on the compiled backend:

1. parity with ``torch.nn.functional`` (value and autograd gradient);
2. parity with scikit-learn's private ``sklearn._loss`` where it is cheap.
"""

from __future__ import annotations

import inspect
import warnings
import zlib
from typing import Any, Dict

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss.losses._registry import LOSSES
from _support import REDUCTIONS, assert_close


# ---- 1. parity with PyTorch ------------------------------------------------------------------

def _torch():
    """torch, or skip the calling test cleanly when it is not installed."""
    return pytest.importorskip("torch")


SHAPE = (5, 4)


def _case(name: str, variant: str, rng: np.random.Generator):
    """(x, target, fastloss kwargs, torch kwargs), float64."""
    n, c = SHAPE
    w = rng.uniform(0.2, 2.0, SHAPE)
    if name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
        x, y = rng.normal(0, 2, SHAPE), rng.normal(0, 2, SHAPE)
        kw = {"huber_loss": {"delta": 0.8}, "smooth_l1_loss": {"beta": 0.8}}.get(name, {})
        if variant == "beta0":
            kw = {"beta": 0.0}
        if variant == "weight":
            kw = {**kw, "weight": w}
        return x, y, kw, dict(kw)
    if name == "binary_cross_entropy":
        p, y = rng.uniform(0.02, 0.98, SHAPE), rng.uniform(0, 1, SHAPE)
        y[0] = 1.0
        y[1] = 0.0
        kw = {"weight": w} if variant == "weight" else {}
        return p, y, kw, dict(kw)
    if name == "binary_cross_entropy_with_logits":
        x, y = rng.normal(0, 3, SHAPE), rng.uniform(0, 1, SHAPE)
        y[0] = 1.0
        kw: Dict[str, Any] = {}
        if "weight" in variant:
            kw["weight"] = w
        if "pos_weight" in variant:
            kw["pos_weight"] = rng.uniform(0.5, 3.0, c)  # (C,) broadcasts over (N, C)
        return x, y, kw, dict(kw)
    if name == "kl_div":
        x = np.log(rng.dirichlet(np.ones(c), n))
        log_target = variant == "log_target"
        y = np.log(rng.dirichlet(np.ones(c), n)) if log_target else rng.dirichlet(np.ones(c), n)
        if not log_target:
            y[0, 1] = 0.0
        return x, y, {"log_target": log_target}, {"log_target": log_target}
    if name in ("cross_entropy", "nll_loss"):
        x = rng.normal(0, 2, SHAPE)
        if name == "nll_loss":
            x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        if "probs" in variant:
            target = rng.dirichlet(np.ones(c), n)
        else:
            target = rng.integers(0, c, n)
            if "ignore" in variant:
                target[[1, 3]] = -100
            if "custom_ignore" in variant:
                target[[1, 3]] = 2
        kw = {}
        if "weight" in variant:
            kw["weight"] = rng.uniform(0.2, 2.0, c)
        if "smooth" in variant:
            kw["label_smoothing"] = 0.15
        if "custom_ignore" in variant:
            kw["ignore_index"] = 2
        elif "ignore" in variant:
            kw["ignore_index"] = -100
        return x, target, kw, dict(kw)
    raise AssertionError(name)


TORCH_CASES = [
    ("mse_loss", "plain"), ("mse_loss", "weight"),
    ("l1_loss", "plain"), ("l1_loss", "weight"),
    ("huber_loss", "plain"), ("huber_loss", "weight"),
    ("smooth_l1_loss", "plain"), ("smooth_l1_loss", "beta0"),
    ("binary_cross_entropy", "plain"), ("binary_cross_entropy", "weight"),
    ("binary_cross_entropy_with_logits", "plain"),
    ("binary_cross_entropy_with_logits", "weight"),
    ("binary_cross_entropy_with_logits", "pos_weight"),
    ("binary_cross_entropy_with_logits", "weight+pos_weight"),
    ("kl_div", "plain"), ("kl_div", "log_target"),
    ("cross_entropy", "labels"), ("cross_entropy", "labels+weight"),
    ("cross_entropy", "labels+smooth"), ("cross_entropy", "labels+weight+smooth"),
    ("cross_entropy", "labels+ignore"), ("cross_entropy", "labels+weight+smooth+ignore"),
    ("cross_entropy", "labels+custom_ignore+weight"),
    ("cross_entropy", "probs"), ("cross_entropy", "probs+weight"),
    ("cross_entropy", "probs+smooth"), ("cross_entropy", "probs+weight+smooth"),
    ("nll_loss", "labels"), ("nll_loss", "labels+weight"), ("nll_loss", "labels+ignore"),
    ("nll_loss", "labels+weight+ignore"), ("nll_loss", "labels+custom_ignore+weight"),
]


def _torch_loss(name: str, x, target, reduction: str, kw: Dict[str, Any]):
    """torch value (float64 numpy) and gradient of it (of the sum for 'none')."""
    torch = _torch()
    F = torch.nn.functional

    def t(a):
        return torch.from_numpy(np.ascontiguousarray(a))

    xt = t(x).requires_grad_(True)
    tk = {k: (t(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    target_t = t(target)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*reduction.*mean.*", category=UserWarning)
        out = getattr(F, name)(xt, target_t, reduction=reduction, **tk)
    out.sum().backward()
    return out.detach().numpy(), xt.grad.numpy()


def _reference_call(name: str, x, target, reduction: str, kw: Dict[str, Any]):
    """The reference, given its inputs as it expects them (weights broadcast)."""
    kw = dict(kw)
    for key in ("weight", "pos_weight"):
        if key in kw and name not in ("cross_entropy", "nll_loss"):
            kw[key] = np.broadcast_to(kw[key], x.shape)
    if name in ("cross_entropy", "nll_loss"):
        args = [x, target, kw.pop("weight", None), kw.pop("ignore_index", -100), reduction]
        if name == "cross_entropy":
            args.append(kw.pop("label_smoothing", 0.0))
        assert not kw
        return getattr(reference, name + "_value_and_grad")(*args)
    return getattr(reference, name + "_value_and_grad")(x, target, reduction=reduction, **kw)


def _public_call(name: str, x, target, reduction: str, kw: Dict[str, Any]):
    return getattr(fastloss, name + "_value_and_grad")(x, target, reduction=reduction, **kw)


def _cast(kw: Dict[str, Any], dtype) -> Dict[str, Any]:
    return {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}


def _torch_params():
    for name, variant in TORCH_CASES:
        for reduction in REDUCTIONS + (("batchmean",) if name == "kl_div" else ()):
            yield pytest.param(name, variant, reduction, id=f"{name}-{variant}-{reduction}")


@pytest.mark.parametrize("implementation", ["reference", "c"])
@pytest.mark.parametrize("name, variant, reduction", list(_torch_params()))
def test_matches_torch(name, variant, reduction, implementation, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{name}-{variant}".encode()))
    x64, target64, kw64, torch_kw64 = _case(name, variant, rng)
    x = x64.astype(dtype)
    target = target64 if target64.dtype.kind == "i" else target64.astype(dtype)
    kw, torch_kw = _cast(kw64, dtype), _cast(torch_kw64, dtype)
    if name in ("mse_loss", "l1_loss", "huber_loss") and "weight" in torch_kw:
        torch_kw["weight"] = np.broadcast_to(torch_kw["weight"], x.shape)
    want_value, want_grad = _torch_loss(name, x, target, reduction, torch_kw)
    call = _reference_call if implementation == "reference" else _public_call
    value, grad = call(name, x, target, reduction, kw)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    # float32: torch and we round differently; terms are O(1) to O(10)
    assert_close(value, want_value, dtype, floor=1.0, factor=2 if dtype == np.float32 else 1)
    assert_close(grad, want_grad, dtype, floor=float(np.abs(want_grad).max()) or 1.0,
                 factor=2 if dtype == np.float32 else 1)


def _registry_torch_params():
    for row in LOSSES.values():
        if row.kind != "elementwise":
            continue
        for i, variant in enumerate(row.variants):
            for reduction in row.reductions:
                yield pytest.param(row, variant, reduction, id=f"{row.name}-{i}-{reduction}")


def _tweedie_torch(torch, x, y, power=1.5, log_input=True):
    mu = torch.exp(x) if log_input else x
    if power == 1:
        return mu - y * torch.log(mu)
    if power == 2:
        return torch.log(mu) + y / mu
    return mu ** (2 - power) / (2 - power) - y * mu ** (1 - power) / (1 - power)


#: the losses torch.nn.functional lacks (registry rows with in_torch=False), each from its
#: defining formula on torch primitives (optax's log_cosh; scikit-learn's SGD losses,
#: PinballLoss, HalfGammaLoss, HalfTweedieLoss), unreduced: autograd differentiates them
TORCH_FORMULAS = {
    "log_cosh_loss": lambda torch, x, y: torch.log(torch.cosh(x - y)),
    "hinge_loss": lambda torch, x, y: torch.clamp(1 - y * x, min=0),
    "squared_hinge_loss": lambda torch, x, y: torch.clamp(1 - y * x, min=0) ** 2,
    "modified_huber_loss": lambda torch, x, y: torch.where(
        y * x >= 1, 0 * x, torch.where(y * x >= -1, (1 - y * x) ** 2, -4 * y * x)),
    "epsilon_insensitive_loss": lambda torch, x, y, epsilon=0.1: torch.clamp(
        torch.abs(x - y) - epsilon, min=0),
    "pinball_loss": lambda torch, x, y, quantile=0.5: torch.where(
        y - x >= 0, quantile * (y - x), (quantile - 1) * (y - x)),
    "gamma_nll_loss": lambda torch, x, y, log_input=True: _tweedie_torch(
        torch, x, y, 2.0, log_input),
    "tweedie_loss": _tweedie_torch,
    "sigmoid_focal_loss": lambda torch, x, y, alpha=0.25, gamma=2.0: _focal_torch(
        torch, x, y, alpha, gamma),
}


def _focal_torch(torch, inputs, targets, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss (torchvision 0.24), unreduced, on torch's
    primitives (torchvision is not a test dependency)."""
    p = torch.sigmoid(inputs)
    ce_loss = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets,
                                                                   reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


def test_torch_formulas_are_the_rows_torch_lacks():
    assert set(TORCH_FORMULAS) == {row.name for row in LOSSES.values() if not row.in_torch}


def _torch_reduced(row, x, y, reduction: str, torch_kw: Dict[str, Any], sample_weight):
    """The row's loss built from torch's ``reduction="none"`` and ``sample_weight`` (the
    documented semantics: ``sw l`` reduced by ``sum``, or divided by ``sum(weight sw)`` /
    ``sum(sw)``), as a function of the input tensor (for autograd)."""
    torch = _torch()
    F = torch.nn.functional
    kw = {k: (torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v)
          for k, v in torch_kw.items()}
    target = torch.from_numpy(np.ascontiguousarray(y))
    sw = None if sample_weight is None else torch.from_numpy(
        np.ascontiguousarray(np.broadcast_to(sample_weight, x.shape)))

    def loss(xt):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*reduction.*mean.*",
                                    category=UserWarning)
            if not row.in_torch:
                elements = TORCH_FORMULAS[row.name](torch, xt, target, **kw)
            elif sw is None:
                return getattr(F, row.name)(xt, target, reduction=reduction, **kw)
            else:
                elements = getattr(F, row.name)(xt, target, reduction="none", **kw)
        if sw is not None:
            elements = elements * sw
        if reduction == "none":
            return elements
        if reduction == "sum":
            return elements.sum()
        if sw is None:  # a formula's plain mean
            return elements.mean()
        if reduction == "batchmean":
            return elements.sum() / (sw.sum() * x.shape[0] / x.size)
        if row.weighted_mean == "weight_sum" and "weight" in kw:
            return elements.sum() / (kw["weight"] * sw).sum()
        return elements.sum() / sw.sum()

    return loss


@pytest.mark.parametrize("row, variant, reduction", list(_registry_torch_params()))
def test_every_registered_loss_matches_torch(row, variant, reduction, dtype):
    """Each elementwise loss of the registry, on its own data and variants, against the
    torch.nn.functional function of the same name (the weights torch's function takes;
    ``sample_weight`` applied to torch's unreduced loss as documented); its Hessian, where it
    has one, against ``torch.autograd.functional.hessian`` (the diagonal, and zeros off it)."""
    torch = _torch()
    peer = getattr(torch.nn.functional, row.name) if row.in_torch else TORCH_FORMULAS[row.name]
    torch_params = inspect.signature(peer).parameters
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    x, y = row.data(rng, SHAPE, dtype)
    if variant.get("log_target"):
        y = np.log(rng.uniform(0.05, 1.0, SHAPE)).astype(dtype)
    kinds = {"full": SHAPE, "bcast": SHAPE[-1:], "rows": SHAPE[:1] + (1,)}
    kw = {k: (rng.uniform(0.5, 2.0, kinds[v]).astype(dtype) if v in kinds else v)
          for k, v in variant.items()}
    sample_weight = kw.get("sample_weight")
    if any(k not in torch_params for k in kw if k != "sample_weight"):
        pytest.skip(f"torch's {row.name} takes no {set(kw) - set(torch_params)}")
    torch_kw = {k: (np.broadcast_to(v, x.shape) if k == "weight" else v) for k, v in kw.items()
                if k != "sample_weight"}
    loss = _torch_reduced(row, x, y, reduction, torch_kw, sample_weight)
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    out = loss(xt)
    out.sum().backward()
    want_value, want_grad = out.detach().numpy(), xt.grad.numpy()
    value, grad = getattr(fastloss, row.name + "_value_and_grad")(x, y, reduction=reduction,
                                                                  **kw)
    factor = 2 if dtype == np.float32 else 1
    assert_close(value, want_value, dtype, floor=1.0, factor=factor)
    assert_close(grad, want_grad, dtype, floor=float(np.abs(want_grad).max()) or 1.0,
                 factor=factor)
    if not row.hessian:
        return
    hessian = torch.autograd.functional.hessian(
        lambda flat: loss(flat.reshape(SHAPE)).sum(),
        torch.from_numpy(x.astype(np.float64).reshape(-1)).to(torch.from_numpy(x).dtype))
    hessian = hessian.numpy().astype(np.float64)
    diagonal = np.diag(hessian).reshape(SHAPE)
    np.testing.assert_array_equal(hessian - np.diag(np.diag(hessian)), 0.0)  # elementwise
    g, h = getattr(fastloss, row.name + "_grad_hess")(x, y, reduction=reduction, **kw)
    assert_close(g, want_grad, dtype, floor=float(np.abs(want_grad).max()) or 1.0,
                 factor=factor)
    assert_close(h, diagonal, dtype, floor=float(np.abs(diagonal).max()) or 1.0,
                 factor=factor)


def _sklearn_params():
    for row in LOSSES.values():
        if row.kind != "elementwise" or row.sklearn is None:
            continue
        for i, variant in enumerate(row.variants):
            yield pytest.param(row, variant, id=f"{row.name}-{i}")


@pytest.mark.parametrize("row, variant", list(_sklearn_params()))
def test_every_registered_loss_matches_sklearn(row, variant, dtype):
    """Each elementwise row with a scikit-learn peer (the registry's ``sklearn``: a class of
    ``sklearn._loss.loss`` and the factor to ours), on the variants the class can express
    (its ``__init__`` takes the variant's parameters): loss, gradient and Hessian, with
    sample weights."""
    sk = _sklearn_losses()
    name, factor = row.sklearn
    cls = getattr(sk, name)
    accepted = set(inspect.signature(cls).parameters)
    params = {k: v for k, v in variant.items() if k != "sample_weight"}
    if not set(params) <= accepted or {"weight", "pos_weight"} & set(variant):
        pytest.skip(f"{name} takes no {set(params) - accepted}")
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    x, y = row.data(rng, (60,), dtype)
    sw = rng.uniform(0.2, 2.0, 60).astype(dtype) if "sample_weight" in variant else None
    peer = cls(**params)
    kw = {"sample_weight": sw} if sw is not None else {}
    want_loss = factor * peer.loss(y_true=y, raw_prediction=x, **kw)
    if row.name == "tweedie_loss" and params.get("power") == 0.0:
        # HalfTweedieLoss(power=0) is its HalfSquaredError of exp(x), y^2 / 2 kept; ours
        # drops the constant term of y, as at every other power
        want_loss = want_loss - factor * 0.5 * y.astype(np.float64) ** 2 * (
            1.0 if sw is None else sw)
    want_grad = factor * peer.gradient(y_true=y, raw_prediction=x, **kw)
    loss = getattr(fastloss, row.name)(x, y, reduction="none", **params, **kw)
    grad = getattr(fastloss, row.name + "_grad")(x, y, reduction="sum", **params, **kw)
    assert_close(loss, want_loss, dtype, factor=4)
    assert_close(grad, want_grad, dtype, factor=4)
    if row.hessian:
        _, want_hess = peer.gradient_hessian(y_true=y, raw_prediction=x, **kw)
        g, h = getattr(fastloss, row.name + "_grad_hess")(x, y, reduction="sum", **params, **kw)
        assert_close(g, want_grad, dtype, factor=4)
        assert_close(h, factor * want_hess, dtype, factor=4)


@pytest.mark.parametrize("row", [row for row in LOSSES.values() if row.sklearn_sgd],
                         ids=lambda r: r.name)
def test_every_registered_loss_matches_sklearn_sgd(row):
    """Each row with a scikit-learn SGD peer (the registry's ``sklearn_sgd``, built with the
    row's parameters): its ``py_loss`` and ``py_dloss`` element by element, at the defaults
    and at another value of the parameter."""
    try:
        from sklearn.linear_model import _sgd_fast
    except Exception:  # pragma: no cover - private module, may move
        pytest.skip("sklearn.linear_model._sgd_fast is not importable")
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    x, y = row.data(rng, (80,), np.float64)
    x[:3] = [y[0], 1.0 / y[1], -1.0 / y[2]]  # the kinks: residual 0, margins 1 and -1
    for params in ([row.defaults()] + [{p.name: 2 * p.default for p in row.params}]
                   if row.params else [{}]):
        peer = getattr(_sgd_fast, row.sklearn_sgd)(*params.values())
        loss = getattr(fastloss, row.name)(x, y, reduction="none", **params)
        grad = getattr(fastloss, row.name + "_grad")(x, y, reduction="sum", **params)
        np.testing.assert_allclose(loss, [peer.py_loss(p, t) for p, t in zip(x, y)],
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grad, [peer.py_dloss(p, t) for p, t in zip(x, y)],
                                   rtol=1e-12, atol=1e-15)


def test_matches_torch_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [30.0, -30.0, 1e4]], dtype)
    labels = np.array([1, 2, 0])
    for smoothing in (0.0, 0.1):
        want_v, want_g = _torch_loss("cross_entropy", x, labels, "sum",
                                     {"label_smoothing": smoothing})
        for call in (_reference_call, _public_call):
            v, g = call("cross_entropy", x, labels, "sum", {"label_smoothing": smoothing})
            assert_close(v, want_v, dtype, factor=10)
            assert_close(g, want_g, dtype, floor=1.0)
    z = np.array([1e4, -1e4, 1e4, -1e4, 50.0, -50.0], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.7], dtype)
    pw = np.full(6, 2.5, dtype)
    want_v, want_g = _torch_loss("binary_cross_entropy_with_logits", z, y, "none",
                                 {"pos_weight": pw})
    for call in (_reference_call, _public_call):
        v, g = call("binary_cross_entropy_with_logits", z, y, "none", {"pos_weight": pw})
        assert_close(v, want_v, dtype)
        assert_close(g, want_g, dtype, floor=1.0)


def test_matches_torch_bce_at_0_and_1(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0], dtype)
    want_v, want_g = _torch_loss("binary_cross_entropy", p, y, "none", {})
    for call in (_reference_call, _public_call):
        with np.errstate(divide="ignore"):
            v, g = call("binary_cross_entropy", p, y, "none", {})
        assert_close(v, want_v, dtype)
        # torch's clamp is the float32 constant 1e-12 even in float64 (1e-12 * (1 - 4e-9))
        np.testing.assert_allclose(g, want_g, rtol=1e-8 if dtype == np.float64 else 1e-6)


def test_matches_torch_empty_batch(dtype):
    """mean over an empty batch is NaN and the sum is 0, as in PyTorch."""
    x = np.zeros((0, 3), dtype)
    for reduction in ("mean", "sum"):
        want_v, _ = _torch_loss("mse_loss", x, x, reduction, {})
        for call in (_reference_call, _public_call):
            v, g = call("mse_loss", x, x, reduction, {})
            assert_close(v, want_v, dtype)
            assert g.shape == (0, 3)
        want_v, _ = _torch_loss("cross_entropy", x, np.zeros(0, np.int64), reduction, {})
        v, g = _public_call("cross_entropy", x, np.zeros(0, np.int64), reduction, {})
        assert_close(v, want_v, dtype)


# Known divergences, each checked against PyTorch (the numbers to match)

def test_reference_masked_logit_matches_torch():
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 1.0, -np.inf]])
    labels = np.array([0, 1])
    want_v, want_g = _torch_loss("cross_entropy", x, labels, "mean", {})
    assert np.isfinite(want_v)
    v, g = _reference_call("cross_entropy", x, labels, "mean", {})
    assert_close(v, want_v, np.float64)
    assert_close(g, want_g, np.float64)


def test_c_masked_logit_matches_torch():
    x = np.array([[0.0, -np.inf, 1.0], [2.0, 1.0, -np.inf]])
    labels = np.array([0, 1])
    want_v, want_g = _torch_loss("cross_entropy", x, labels, "mean", {})
    v, g = _public_call("cross_entropy", x, labels, "mean", {})
    assert_close(v, want_v, np.float64)
    assert_close(g, want_g, np.float64)


@pytest.mark.parametrize("implementation", [
    "reference", "c"])
@pytest.mark.parametrize("name, kw", [("cross_entropy", {}),
                                      ("cross_entropy", {"label_smoothing": 0.1}),
                                      ("nll_loss", {})])
def test_all_ignored_matches_torch(name, kw, implementation):
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    labels = np.array([-100, -100])
    want_v, want_g = _torch_loss(name, x, labels, "mean", kw)
    call = _reference_call if implementation == "reference" else _public_call
    with np.errstate(all="ignore"):
        v, g = call(name, x, labels, "mean", kw)
    assert np.isnan(v) and np.isnan(want_v)
    np.testing.assert_array_equal(g, want_g)


@pytest.mark.parametrize("implementation", [
    "reference", "c"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_zero_total_weight_matches_torch(name, implementation):
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    labels = np.array([0, 0])
    kw = {"weight": np.array([0.0, 1.0, 1.0])}
    want_v, want_g = _torch_loss(name, x, labels, "mean", kw)
    call = _reference_call if implementation == "reference" else _public_call
    with np.errstate(all="ignore"):
        v, g = call(name, x, labels, "mean", kw)
    assert np.isnan(v) and np.isnan(want_v)
    np.testing.assert_array_equal(g, want_g)  # NaN where torch has NaN, zeros elsewhere


@pytest.mark.parametrize("implementation", [
    "reference", "c"])
def test_kl_div_batchmean_empty_matches_torch(implementation):
    x = np.zeros((0, 3))
    want_v, _ = _torch_loss("kl_div", x, x, "batchmean", {})
    call = _reference_call if implementation == "reference" else _public_call
    with np.errstate(all="ignore"):
        v, g = call("kl_div", x, x, "batchmean", {})
    assert np.isnan(v) and np.isnan(want_v) and g.shape == (0, 3)


# ---- 2. parity with scikit-learn's private losses -----------------------------------------

def _sklearn_losses():
    try:
        from sklearn._loss import loss as sk
    except Exception:  # pragma: no cover - private module, may move
        pytest.skip("sklearn._loss is not importable")
    return sk


def test_matches_sklearn_half_squared_error_and_absolute_error(rng64):
    sk = _sklearn_losses()
    y, raw = rng64.normal(size=50), rng64.normal(size=50)
    half = sk.HalfSquaredError()
    # mse = 2 * half squared error, its gradient 2 * (raw - y)
    np.testing.assert_allclose(fastloss.mse_loss(raw, y, reduction="none"),
                               2 * half.loss(y_true=y, raw_prediction=raw), rtol=1e-12)
    np.testing.assert_allclose(fastloss.mse_loss_grad(raw, y, reduction="sum"),
                               2 * half.gradient(y_true=y, raw_prediction=raw), rtol=1e-12)
    np.testing.assert_allclose(fastloss.l1_loss(raw, y, reduction="none"),
                               sk.AbsoluteError().loss(y_true=y, raw_prediction=raw),
                               rtol=1e-12)


def test_matches_sklearn_binomial_and_multinomial(rng64):
    sk = _sklearn_losses()
    y = (rng64.uniform(size=50) < 0.4).astype(np.float64)
    raw = rng64.normal(0, 3, 50)
    binomial = sk.HalfBinomialLoss()
    np.testing.assert_allclose(
        fastloss.binary_cross_entropy_with_logits(raw, y, reduction="none"),
        binomial.loss(y_true=y, raw_prediction=raw), rtol=1e-10)
    np.testing.assert_allclose(
        fastloss.binary_cross_entropy_with_logits_grad(raw, y, reduction="sum"),
        binomial.gradient(y_true=y, raw_prediction=raw), rtol=1e-10, atol=1e-15)
    labels = rng64.integers(0, 5, 40)
    logits = rng64.normal(0, 2, (40, 5))
    multinomial = sk.HalfMultinomialLoss(n_classes=5)
    np.testing.assert_allclose(
        fastloss.cross_entropy(logits, labels, reduction="none"),
        multinomial.loss(y_true=labels.astype(np.float64), raw_prediction=logits), rtol=1e-10)
    np.testing.assert_allclose(
        fastloss.cross_entropy_grad(logits, labels, reduction="sum"),
        multinomial.gradient(y_true=labels.astype(np.float64), raw_prediction=logits),
        rtol=1e-10, atol=1e-15)


def test_new_losses_match_torch_at_extreme_inputs(dtype):
    """Scores and log-rates far out, against torch (value and gradient) and by hand where
    torch's log(1 + exp(-y x)) overflows (|x| = 1e4: ours is the exact max(-y x, 0))."""
    _torch()
    x = np.array([50.0, -50.0, 0.0, 30.0, 1e4, -1e4], dtype)
    y = np.array([-1.0, 1.0, -1.0, -1.0, 1.0, -1.0], dtype)
    for name, kw, k in (("soft_margin_loss", {}, 4), ("hinge_embedding_loss", {"margin": 2.0}, 6)):
        want_v, want_g = _torch_loss(name, x[:k], y[:k], "none", kw)
        v, g = getattr(fastloss, name + "_value_and_grad")(x, y, reduction="none", **kw)
        assert_close(v[:k], want_v, dtype)
        assert_close(g[:k], want_g, dtype, floor=1.0)
    v, g = fastloss.soft_margin_loss_value_and_grad(x[4:], y[4:], reduction="none")
    np.testing.assert_array_equal(v, [0.0, 0.0])  # y x = 1e4: log1p(exp(-1e4)) = 0
    np.testing.assert_array_equal(g, [-0.0, 0.0])
    v, g = fastloss.soft_margin_loss_value_and_grad(x[4:], -y[4:], reduction="none")
    np.testing.assert_array_equal(v, [1e4, 1e4])
    np.testing.assert_array_equal(g, [1.0, -1.0])
    _, h = fastloss.soft_margin_loss_grad_hess(x, y, reduction="sum")
    s = 1 / (1 + np.exp(-(y * x).astype(np.float64)))
    assert_close(h, s * (1 - s), dtype)  # y^2 = 1
    rate = np.array([-30.0, 30.0, 0.0], dtype)
    counts = np.array([0.0, 5.0, 1e6], dtype)
    want_v, want_g = _torch_loss("poisson_nll_loss", rate, counts, "none", {})
    v, g = fastloss.poisson_nll_loss_value_and_grad(rate, counts, reduction="none")
    assert_close(v, want_v, dtype)
    assert_close(g, want_g, dtype)


def test_log_cosh_far_out_and_near_zero(dtype):
    """log cosh(d) = |d| - log 2 for large |d| (where log(cosh(d)) overflows) and d^2 / 2 for
    tiny d (where it rounds to 0): by hand, with gradient tanh(d) and Hessian 1 - tanh^2."""
    d = np.array([1e4, -1e4, 1e-20, -3e-5, 0.0], dtype)
    v, g = fastloss.log_cosh_loss_value_and_grad(d, np.zeros_like(d), reduction="none")
    _, h = fastloss.log_cosh_loss_grad_hess(d, np.zeros_like(d), reduction="sum")
    d64 = d.astype(np.float64)
    want = np.where(np.abs(d64) > 1, np.abs(d64) - np.log(2), d64**2 / 2 - d64**4 / 12)
    assert_close(v, want, dtype, scale=1e-300)  # relative, even at 5e-41
    assert_close(g, np.tanh(d64), dtype, scale=1e-300)
    assert_close(h, 1 - np.tanh(d64) ** 2, dtype)


def test_glm_losses_match_sklearn_at_extreme_inputs():
    sk = _sklearn_losses()
    raw = np.array([-30.0, -5.0, 0.0, 5.0, 30.0])
    y = np.array([0.0, 1e-3, 1.0, 100.0, 1e6])
    for name, peer, kw in (("gamma_nll_loss", sk.HalfGammaLoss(), {}),
                           ("tweedie_loss", sk.HalfTweedieLoss(power=1.5), {"power": 1.5}),
                           ("tweedie_loss", sk.HalfTweedieLoss(power=3.0), {"power": 3.0}),
                           ("tweedie_loss", sk.HalfTweedieLoss(power=-1.0), {"power": -1.0}),
                           ("poisson_nll_loss", sk.HalfPoissonLoss(), {})):
        g_want, h_want = peer.gradient_hessian(y_true=y, raw_prediction=raw)
        g, h = getattr(fastloss, name + "_grad_hess")(raw, y, reduction="sum", **kw)
        np.testing.assert_allclose(
            getattr(fastloss, name)(raw, y, reduction="none", **kw),
            peer.loss(y_true=y, raw_prediction=raw), rtol=1e-12)
        np.testing.assert_allclose(g, g_want, rtol=1e-12)
        np.testing.assert_allclose(h, h_want, rtol=1e-12)
