"""The benchmark behind ``fastloss bench``: a registry of cases, an interleaved timer, reports.

Registry
--------
:data:`FAMILIES` maps a family name to a list of :class:`Case`. A case is a kernel name and
``setup(n, dtype, rng) -> {implementation: callable}``: it builds inputs of ``n`` elements
of ``dtype`` (untimed) and returns zero-argument callables that each do one unit of work.
``"fastloss"`` (the public API) and ``"numpy"`` (the same computation from
:mod:`fastloss.reference`) are required; peers are added only when importable and when they
compute the same thing. The families:

* ``"losses"``: ``*_value_and_grad`` on n elements; peers torch (one thread, forward plus
  backward) and the private ``sklearn._loss`` Cython losses.
* ``"optim"``: one step of ``fastloss.optim.SGD`` (momentum 0.9), ``Adagrad``, ``RMSprop``,
  ``Adam``, ``AdamW`` (the classes, so fastloss pays its per-step checks) on n parameters,
  vs the ``fastloss.reference`` update with its state in a closure, vs ``torch.optim``
  (Adam/AdamW ``fused=True``, the others default). Each implementation owns its
  parameters and state, which every timed step updates in place.
* ``"linear"``: one epoch of ``fastloss.sgd_epoch`` (squared error, constant lr) over
  n / d samples of d features (so n still counts elements), vs the reference Python loop,
  vs ``sklearn.linear_model.SGDRegressor.partial_fit`` with the same updates. The loop
  costs ~10 us a sample, so it runs on the first :data:`LINEAR_REFERENCE_SAMPLES` samples
  only, and every time of this family is reported **per sample** (``"unit": "per
  sample"`` in the JSON, a ``per`` column in the tables).

Agreement: before timing, each implementation is called once and compared with
``"numpy"``: the first element of a returned tuple, or the returned value (a number; an
array elementwise, relative to its largest entry); return ``None`` to opt out. A
:class:`Work` wraps a callable that needs more: ``units`` (the samples one call
processes: times are divided by it, so a speedup compares like with like) and ``check``
(what the comparison calls instead: for the optimizers, the change one step makes to the
parameters; for the epochs, the weights after one epoch over the same first samples from
zero, since the timed calls run on different slices).

Adding a family is one list of cases::

    def _my_setup(n, dtype, rng):
        x = rng.normal(size=n).astype(dtype)
        impls = {"fastloss": lambda: fastloss.my_kernel(x),
                 "numpy": lambda: reference.my_kernel(x)}
        torch = _torch()  # None when not installed or not wanted (--peers)
        if torch is not None:
            impls["torch"] = ...
        return impls

    FAMILIES["mine"] = [Case("my_kernel", _my_setup, what="my_kernel on n elements")]

plus a line in :data:`FAMILY_NOTES` (what one timed unit is). Get peers through
:func:`_torch`, :func:`_sklearn_loss`, :func:`_sklearn_sgd_regressor` (or a helper like
them), so ``--peers`` can leave them out without importing them. ``fastloss bench --only
mine`` then runs the family, and the table, JSON, Markdown and plot pick it up.

Timing
------
Implementations are timed in interleaved rounds: every round times each implementation
once, in an order that rotates from round to round, so a burst of load from another process
hits all of them alike. One sample is ``loops`` back-to-back calls (``loops`` calibrated so
a sample lasts long enough for the clock); rounds repeat until the case's time budget is
spent (at least :data:`MIN_ROUNDS`). Reported: the median and the minimum seconds per call
(per sample for the epochs), and ``speedup_vs_numpy = median(numpy) / median(impl)``.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TextIO, Tuple

import numpy as np

import fastloss
from fastloss import _config, reference

Impls = Dict[str, Callable[[], Any]]
Setup = Callable[[int, np.dtype, np.random.Generator], Impls]

#: Implementations, in table order. "fastloss" and "numpy" are always present.
IMPLEMENTATIONS = ("fastloss", "numpy", "torch", "sklearn")
PEERS = ("torch", "sklearn")
DEFAULT_SIZES = (10**3, 10**4, 10**5, 10**6)
QUICK_SIZES = (10**3, 10**5, 10**6)
DEFAULT_BUDGET = 1.0
QUICK_BUDGET = 0.25
MIN_ROUNDS = 3
MAX_ROUNDS = 2000
#: the shortest sample worth timing: below it the clock and loop overhead show
MIN_SAMPLE_S = 2e-4
SEED = 0


@dataclass(frozen=True)
class Case:
    """One benchmark kernel: ``setup(n, dtype, rng)`` returns the callables to time."""

    name: str
    setup: Setup
    #: smaller n are skipped (e.g. cross-entropy needs at least 10 rows of C classes)
    min_size: int = 1
    #: what one call computes, for the reports
    what: str = ""
    #: what the reported times are per: "call", or "sample" when implementations do
    #: different amounts of work per call (see :class:`Work`)
    unit: str = "call"


class Work:
    """An implementation that is more than one plain call; ``Work(call)()`` calls ``call``.

    ``units``: the units of work one call does (the samples of one epoch), so that times
    are reported per unit and implementations timed on different amounts of work compare
    like with like. ``check``: what :func:`check_agreement` calls instead of ``call``,
    when one call is no fair comparison -- ``call`` steps a state that later calls go on
    updating, or runs on a slice of the data that differs between implementations.
    """

    __slots__ = ("call", "units", "check")

    def __init__(self, call: Callable[[], Any], units: int = 1,
                 check: Optional[Callable[[], Any]] = None) -> None:
        self.call, self.units, self.check = call, units, check

    def __call__(self) -> Any:
        return self.call()


# ---- optional peers ------------------------------------------------------------------

#: the peers a run may use (``run(peers=...)``); setups ask through _torch()/_sklearn_loss()
_allowed_peers = frozenset(PEERS)
#: what to install for each peer
PEER_PACKAGES = {"torch": "torch==2.13.0", "sklearn": "scikit-learn"}


def _torch() -> Any:
    """The torch module, or None when it is not installed or not wanted in this run."""
    if "torch" not in _allowed_peers:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def _sklearn_loss() -> Any:
    """``sklearn._loss.loss``, or None when not installed or not wanted in this run."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn._loss import loss
    except ImportError:
        return None
    return loss


def missing_peers(peers: Iterable[str]) -> List[str]:
    """The peers among ``peers`` that cannot be imported."""
    global _allowed_peers
    saved, _allowed_peers = _allowed_peers, frozenset(PEERS)
    try:
        found = {"torch": _torch, "sklearn": _sklearn_loss}
        return [p for p in peers if found[p]() is None]
    finally:
        _allowed_peers = saved


def peer_versions() -> Dict[str, str]:
    """Versions of the peers this run may use that are installed."""
    versions = {}
    torch = _torch()
    if torch is not None:
        versions["torch"] = str(torch.__version__)
    if _sklearn_loss() is not None:
        import sklearn

        versions["sklearn"] = str(sklearn.__version__)
    return versions


def _torch_value_and_grad(fn: Callable[..., Any], x: np.ndarray, y: np.ndarray,
                          **kwargs: Any) -> Callable[[], Any]:
    torch = _torch()
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = torch.from_numpy(y)

    def run() -> Tuple[float, Any]:
        xt.grad = None  # what optimizer.zero_grad() does: a fresh gradient per step
        loss = fn(xt, yt, **kwargs)
        loss.backward()
        return loss.item(), xt.grad

    return run


def _sklearn_value_and_grad(cls_name: str, factor: float, x: np.ndarray, y: np.ndarray,
                            rows: int, **kwargs: Any) -> Callable[[], Any]:
    """scikit-learn's half-losses, scaled to ours, with their mean and its gradient."""
    sk = getattr(_sklearn_loss(), cls_name)(**kwargs)
    loss_out = np.empty(rows, x.dtype)
    grad_out = np.empty_like(x)
    scale = factor / rows

    def run() -> Tuple[float, Any]:
        loss, grad = sk.loss_gradient(y, x, loss_out=loss_out, gradient_out=grad_out,
                                      n_threads=1)
        return factor * loss.mean(), grad * scale

    return run


# ---- the loss family -----------------------------------------------------------------

def _regression(rng: np.random.Generator, n: int, dtype: np.dtype) -> Tuple[Any, Any]:
    return rng.normal(size=n).astype(dtype), rng.normal(size=n).astype(dtype)


def _probabilities(rng: np.random.Generator, n: int, dtype: np.dtype) -> Tuple[Any, Any]:
    return (rng.uniform(0.01, 0.99, size=n).astype(dtype),
            (rng.uniform(size=n) < 0.5).astype(dtype))


def _logits(rng: np.random.Generator, n: int, dtype: np.dtype) -> Tuple[Any, Any]:
    return (3 * rng.normal(size=n)).astype(dtype), (rng.uniform(size=n) < 0.5).astype(dtype)


def _log_probs(rng: np.random.Generator, n: int, dtype: np.dtype) -> Tuple[Any, Any]:
    return (np.log(rng.uniform(0.01, 1, size=n)).astype(dtype),
            rng.uniform(size=n).astype(dtype))


def _elementwise_case(name: str, api: str, data: Callable[..., Tuple[Any, Any]],
                      sklearn: Optional[Tuple[str, float]] = None,
                      **kwargs: Any) -> Case:
    """value_and_grad of the loss ``api`` on n elements (1-d input and target)."""

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        x, y = data(rng, n, dtype)
        fast = getattr(fastloss, api + "_value_and_grad")
        ref = getattr(reference, api + "_value_and_grad")
        impls: Impls = {"fastloss": lambda: fast(x, y, **kwargs),
                        "numpy": lambda: ref(x, y, **kwargs)}
        torch = _torch()
        if torch is not None:
            import torch.nn.functional as F

            impls["torch"] = _torch_value_and_grad(getattr(F, api), x, y, **kwargs)
        if sklearn is not None and _sklearn_loss() is not None:
            impls["sklearn"] = _sklearn_value_and_grad(sklearn[0], sklearn[1], x, y, n)
        return impls

    return Case(name, setup, what=f"{api}_value_and_grad, {'; '.join(_kw(kwargs))}")


def _kw(kwargs: Dict[str, Any]) -> List[str]:
    return [f"{k}={v!r}" for k, v in kwargs.items()] or ["defaults"]


def _cross_entropy_case(classes: int) -> Case:
    """value_and_grad of cross_entropy on (n / C, C) logits and integer labels."""

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        rows = n // classes
        logits = (3 * rng.normal(size=(rows, classes))).astype(dtype)
        labels = rng.integers(0, classes, rows)
        impls: Impls = {
            "fastloss": lambda: fastloss.cross_entropy_value_and_grad(logits, labels),
            "numpy": lambda: reference.cross_entropy_value_and_grad(logits, labels),
        }
        torch = _torch()
        if torch is not None:
            import torch.nn.functional as F

            impls["torch"] = _torch_value_and_grad(F.cross_entropy, logits, labels)
        if _sklearn_loss() is not None:
            impls["sklearn"] = _sklearn_value_and_grad(
                "HalfMultinomialLoss", 1.0, logits, labels.astype(dtype), rows,
                n_classes=classes)
        return impls

    return Case(f"cross_entropy_c{classes}", setup, min_size=10 * classes,
                what=f"cross_entropy_value_and_grad, (n/{classes}, {classes}) logits, labels")


LOSS_CASES = [
    _elementwise_case("mse", "mse_loss", _regression, ("HalfSquaredError", 2.0)),
    _elementwise_case("l1", "l1_loss", _regression, ("AbsoluteError", 1.0)),
    _elementwise_case("huber", "huber_loss", _regression),
    _elementwise_case("smooth_l1", "smooth_l1_loss", _regression),
    _elementwise_case("bce", "binary_cross_entropy", _probabilities),
    _elementwise_case("bce_with_logits", "binary_cross_entropy_with_logits", _logits,
                      ("HalfBinomialLoss", 1.0)),
    _cross_entropy_case(10),
    _cross_entropy_case(1000),
    _elementwise_case("kl_div", "kl_div", _log_probs, reduction="batchmean"),
]


# ---- the optimizer family: one step on n parameters ----------------------------------

def _update_of(step: Callable[[], Any], p: np.ndarray) -> Work:
    """``step``, checked by the change its first call makes to ``p``.

    Not ``p`` itself: a step of lr = 1e-3 is below float32's tolerance relative to ``p``.
    """
    def check() -> np.ndarray:
        before = p.astype(np.float64)
        step()
        return p.astype(np.float64) - before

    return Work(step, check=check)


def _reference_step(name: str, p: np.ndarray, g: np.ndarray, **kwargs: Any
                    ) -> Callable[[], None]:
    """One step of the reference update ``name`` on ``p``; the state lives in the closure,
    as an optimizer class keeps it."""
    s1, s2 = np.zeros_like(p), np.zeros_like(p)
    count = [0]
    if name == "SGD":
        return lambda: reference.sgd_update(p, g, momentum_buffer=s1, **kwargs)
    if name == "RMSprop":
        return lambda: reference.rmsprop_update(p, g, s1, **kwargs)
    if name == "Adagrad":
        def adagrad() -> None:
            count[0] += 1
            reference.adagrad_update(p, g, s1, count[0], **kwargs)

        return adagrad
    update = reference.adam_update if name == "Adam" else reference.adamw_update

    def adam() -> None:
        count[0] += 1
        update(p, g, s1, s2, count[0], **kwargs)

    return adam


def _optim_case(case: str, name: str, torch_options: Dict[str, Any], **kwargs: Any) -> Case:
    """One step of the optimizer class ``name`` (fastloss.optim and torch.optim) on n
    parameters from a fixed gradient; every implementation owns its parameters and state."""

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        p0, g = _regression(rng, n, dtype)
        p_fast, p_ref = p0.copy(), p0.copy()
        opt = getattr(fastloss.optim, name)([p_fast], **kwargs)
        grads = [g]
        impls: Impls = {"fastloss": _update_of(lambda: opt.step(grads), p_fast),
                        "numpy": _update_of(_reference_step(name, p_ref, g, **kwargs), p_ref)}
        torch = _torch()
        if torch is not None:
            p_torch = p0.copy()
            tp = torch.from_numpy(p_torch)  # shares p_torch's memory
            tp.grad = torch.from_numpy(g)
            topt = getattr(torch.optim, name)([tp], **kwargs, **torch_options)
            impls["torch"] = _update_of(topt.step, p_torch)
        return impls

    options = "; ".join(_kw(kwargs))
    torch_text = ", ".join(_kw(torch_options)) if torch_options else "defaults"
    return Case(case, setup, what=f"optim.{name}(...).step, {options} "
                f"(torch: {torch_text})")


OPTIM_CASES = [
    _optim_case("sgd_momentum", "SGD", {}, lr=1e-3, momentum=0.9),
    _optim_case("adagrad", "Adagrad", {}, lr=1e-2),
    _optim_case("rmsprop", "RMSprop", {}, lr=1e-2),
    # torch's fastest CPU Adam: the fused kernel
    _optim_case("adam", "Adam", {"fused": True}, lr=1e-3),
    _optim_case("adamw", "AdamW", {"fused": True}, lr=1e-3),
]


# ---- the linear family: one per-sample SGD epoch, timed per sample ---------------------

#: the reference loop costs ~10 us a sample: it runs on at most this many samples a call
LINEAR_REFERENCE_SAMPLES = 2000
#: small enough for X of N(0, 1) features (lr * |x|^2 = 0.1 at d = 100): SGD stays finite
LINEAR_LR = 1e-3
Weights = Tuple[np.ndarray, np.ndarray]


def _sklearn_sgd_regressor() -> Any:
    """``sklearn.linear_model.SGDRegressor``, or None when not installed or not wanted."""
    if "sklearn" not in _allowed_peers:
        return None
    try:
        from sklearn.linear_model import SGDRegressor
    except ImportError:
        return None
    return SGDRegressor


def _linear_case(d: int, optimizer: str = "sgd") -> Case:
    """One epoch of per-sample SGD (squared error, constant lr) over n / d samples of d
    features, from zero weights; times are per sample.

    fastloss and scikit-learn run the whole epoch; the reference loop runs the first
    ``LINEAR_REFERENCE_SAMPLES`` samples. Each implementation's timed calls continue from
    its own weights. The check compares the weights after one epoch over that first
    slice, from zero weights, for every implementation.
    """
    hyper: Dict[str, Any] = dict(loss="squared_error", optimizer=optimizer,
                                 learning_rate="constant", lr=LINEAR_LR, power_t=0.25,
                                 alpha=0.0, epsilon=1.0, momentum=0.9, nesterov=False,
                                 beta1=0.9, beta2=0.999, eps=fastloss.linear.DEFAULT_EPS[
                                     optimizer], rho=0.99)

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        rows = n // d
        X = rng.normal(size=(rows, d)).astype(dtype)
        y = (X @ rng.normal(size=d) / math.sqrt(d) + 0.1 * rng.normal(size=rows)).astype(dtype)
        m = min(rows, LINEAR_REFERENCE_SAMPLES)
        Xm, ym = X[:m], y[:m]

        def fast_epoch(Xs: np.ndarray, ys: np.ndarray) -> Tuple[Callable[[], Any], Weights]:
            """Epochs over (Xs, ys) from zero weights, and the weights they update."""
            coef, b = np.zeros(d, dtype), np.zeros(1, dtype)
            state: List[Any] = [None]  # the Adam buffers and step count carry over between epochs

            def epoch() -> None:
                state[0] = fastloss.linear.sgd_epoch(
                    Xs, ys, coef, b, state[0], loss="squared_error", optimizer=optimizer,
                    lr=LINEAR_LR)[1]

            return epoch, (coef, b)

        def ref_epoch(Xs: np.ndarray, ys: np.ndarray) -> Tuple[Callable[[], Any], Weights]:
            coef, b = np.zeros(d, dtype), np.zeros(1, dtype)
            # (s1_coef, s1_intercept, s2_coef, s2_intercept)
            buffers = [np.zeros_like(coef), np.zeros_like(b), np.zeros_like(coef),
                       np.zeros_like(b)]
            t = [0]

            def epoch() -> None:
                t[0] = reference.sgd_epoch(Xs, ys, coef, b, buffers, None, None, t[0],
                                           **hyper)[1]

            return epoch, (coef, b)

        def check(make: Callable[..., Tuple[Callable[[], Any], Weights]]
                  ) -> Callable[[], np.ndarray]:
            """(coef, intercept) after one epoch over the first m samples from zero."""
            def run() -> np.ndarray:
                epoch, (coef, b) = make(Xm, ym)
                epoch()
                return np.concatenate([coef, b])

            return run

        impls: Impls = {
            "fastloss": Work(fast_epoch(X, y)[0], units=rows, check=check(fast_epoch)),
            "numpy": Work(ref_epoch(Xm, ym)[0], units=m, check=check(ref_epoch)),
        }
        SGDRegressor = _sklearn_sgd_regressor() if optimizer == "sgd" else None
        if SGDRegressor is not None:
            def model() -> Any:
                # the same updates as ours: squared loss 0.5 r^2, constant eta0, no penalty,
                # rows in order, one epoch per partial_fit
                return SGDRegressor(loss="squared_error", learning_rate="constant",
                                    eta0=LINEAR_LR, penalty=None, alpha=0.0, shuffle=False,
                                    fit_intercept=True)

            sk = model()

            def sk_check() -> np.ndarray:
                fresh = model().partial_fit(Xm, ym)
                return np.concatenate([fresh.coef_, fresh.intercept_])

            impls["sklearn"] = Work(lambda: sk.partial_fit(X, y), units=rows,
                                    check=sk_check)
        return impls

    name = f"sgd_epoch_d{d}" if optimizer == "sgd" else f"sgd_epoch_{optimizer}_d{d}"
    return Case(name, setup, min_size=100 * d, unit="sample",
                what=f"linear.sgd_epoch, squared_error, {optimizer}, lr={LINEAR_LR:g}, "
                f"(n/{d}, {d}) X; per sample (numpy on <= {LINEAR_REFERENCE_SAMPLES})")


LINEAR_CASES = [_linear_case(10), _linear_case(100), _linear_case(10, "adam")]

#: family -> cases; append new families here (see the module docstring)
FAMILIES: Dict[str, List[Case]] = {
    "losses": LOSS_CASES,
    "optim": OPTIM_CASES,
    "linear": LINEAR_CASES,
}


def all_case_names() -> List[str]:
    return [f"{family}.{case.name}" for family, cases in FAMILIES.items() for case in cases]


def select(only: Optional[Sequence[str]]) -> List[Tuple[str, Case]]:
    """The (family, case) pairs that one of the ``only`` strings names: a string equal to a
    kernel's name or ``family.kernel`` picks that kernel alone (``sgd_epoch_d10`` is not
    ``sgd_epoch_d100``); any other string picks every ``family.kernel`` containing it.

    Raises ValueError naming any string that matches nothing.
    """
    pairs = [(family, case) for family, cases in FAMILIES.items() for case in cases]
    if not only:
        return pairs

    def picks(s: str) -> List[Tuple[str, Case]]:
        exact = [(f, c) for f, c in pairs if s in (c.name, f"{f}.{c.name}")]
        return exact or [(f, c) for f, c in pairs if s in f"{f}.{c.name}"]

    chosen = {id(c) for s in only for _, c in picks(s)}
    unknown = [s for s in only if not picks(s)]
    if unknown:
        raise ValueError(f"--only: {', '.join(map(repr, unknown))} matches no benchmark "
                         f"(available: {', '.join(all_case_names())})")
    return [(f, c) for f, c in pairs if id(c) in chosen]


# ---- timing --------------------------------------------------------------------------

def _calibrate(fn: Callable[[], Any], min_sample: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample`` seconds."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample or loops >= 1 << 20:
            return loops
        # aim a little past the target from the measured rate, at most 10x per step
        loops = min(loops * 10, max(loops + 1, math.ceil(loops * 1.2 * min_sample / max(
            elapsed, 1e-9))))


def time_interleaved(impls: Impls, budget: float, min_rounds: int = MIN_ROUNDS
                     ) -> Dict[str, Dict[str, float]]:
    """Median and minimum seconds per call of each callable, from interleaved rounds."""
    names = list(impls)
    min_sample = max(MIN_SAMPLE_S, budget / (20 * len(names)))
    loops = {name: _calibrate(impls[name], min_sample) for name in names}
    samples: Dict[str, List[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside one sample would be charged to one implementation
    try:
        start = time.perf_counter()
        rounds = 0
        while rounds < min_rounds or (time.perf_counter() - start < budget
                                      and rounds < MAX_ROUNDS):
            shift = rounds % len(names)
            for name in names[shift:] + names[:shift]:
                fn, k = impls[name], loops[name]
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                samples[name].append((time.perf_counter() - t0) / k)
            rounds += 1
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: {"median_s": float(np.median(samples[name])),
                   "min_s": float(np.min(samples[name])),
                   "rounds": rounds, "loops": loops[name]} for name in names}


def _leading_value(result: Any) -> Any:
    """The value a check compares: a float, a float64 copy of an array, or None."""
    if result is None:
        return None
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, np.ndarray):
        return result.astype(np.float64)  # a copy: later calls may update it in place
    try:
        return float(result)
    except (TypeError, ValueError):
        return None


def _disagreement(value: Any, expected: Any, rtol: float) -> Optional[str]:
    """Why ``value`` is not ``expected`` to ``rtol``, or None when it is."""
    if isinstance(value, float) and isinstance(expected, float):
        if math.isclose(value, expected, rel_tol=rtol, abs_tol=rtol * 1e-3):
            return None
        return f"gives {value!r}, numpy {expected!r}"
    value, expected = np.asarray(value), np.asarray(expected)
    if value.shape != expected.shape:
        return f"gives shape {value.shape}, numpy {expected.shape}"
    # relative to the largest entry: an update of 1e-3 next to one of 1e-9 is still right
    # when the small one is off by a relative 1e-3
    scale = float(np.nanmax(np.abs(expected), initial=0.0))
    if np.allclose(value, expected, rtol=rtol, atol=rtol * scale, equal_nan=True):
        return None
    with np.errstate(invalid="ignore"):
        worst = float(np.nanmax(np.abs(value - expected), initial=np.nan))
    return f"differs from numpy by up to {worst:.3g} (largest |numpy| entry {scale:.3g})"


def check_agreement(impls: Impls, dtype: np.dtype) -> List[str]:
    """Call each implementation once (its ``check`` if it is a :class:`Work` with one);
    name those whose value differs from numpy's.

    Compared: the first element of a returned tuple, or the returned value (a number, or
    an array compared elementwise relative to its largest entry); None opts out.
    """
    def first(fn: Callable[[], Any]) -> Any:
        check = fn.check if isinstance(fn, Work) and fn.check is not None else fn
        return _leading_value(check())

    expected = first(impls["numpy"])
    rtol = 1e-3 if dtype == np.float32 else 1e-7
    bad = []
    for name, fn in impls.items():
        if name == "numpy":
            continue
        value = first(fn)
        if value is None or expected is None:
            continue
        problem = _disagreement(value, expected, rtol)
        if problem is not None:
            bad.append(f"{name} {problem}")
    return bad


# ---- a run ---------------------------------------------------------------------------

class Progress:
    """A one-line text progress bar on a terminal; one line per step otherwise."""

    def __init__(self, total: int, stream: Optional[TextIO]) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.tty = bool(stream is not None and stream.isatty())
        self.width = 0

    def step(self, label: str) -> None:
        if self.stream is None:
            return
        self.done += 1
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            line = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {label}"
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def format_size(n: int) -> str:
    """1000 -> '1e3', 2500 -> '2500'."""
    exponent = int(math.log10(n)) if n > 0 else 0
    mantissa, rest = divmod(n, 10**exponent)
    return f"{mantissa}e{exponent}" if rest == 0 and exponent >= 3 else str(n)


def machine_info() -> Dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(),
            "python_implementation": platform.python_implementation(), "cpu": cpu,
            "cores": os.cpu_count(), "available_cores": _config._available_cores()}


def plan(only: Optional[Sequence[str]], sizes: Sequence[int], dtypes: Sequence[str]
         ) -> Tuple[List[Tuple[str, Case, int, str]], List[str]]:
    """The (family, case, n, dtype) to run, and the skipped (case, n) as text.

    Raises ValueError for an unknown ``only`` substring, or when nothing is left to run.
    """
    selected = select(only)
    todo = [(family, case, n, dtype) for family, case in selected for n in sizes
            for dtype in dtypes if n >= case.min_size]
    skipped = [f"{family}.{case.name} n={format_size(n)} (needs n >= {case.min_size})"
               for family, case in selected for n in sizes if n < case.min_size]
    if not todo:
        raise ValueError("nothing to run: " + "; ".join(skipped))
    return todo, skipped


def run(*, sizes: Sequence[int], dtypes: Sequence[str], threads: int = 1,
        budget: float = DEFAULT_BUDGET, only: Optional[Sequence[str]] = None,
        peers: Optional[Sequence[str]] = None, progress: Optional[TextIO] = None
        ) -> Dict[str, Any]:
    """Run the selected cases; returns the report (the schema of ``bench.json``).

    ``peers``: the peers to compare with when installed (default: all of :data:`PEERS`).

    ``threads`` is set for fastloss (:func:`fastloss.set_num_threads`, which applies from
    ``fastloss.THREADING_THRESHOLD`` elements up), torch, and the BLAS/OpenMP pools NumPy
    uses when threadpoolctl is installed, and restored afterwards.
    """
    todo, skipped = plan(only, sizes, dtypes)

    global _allowed_peers
    saved_peers, saved_threads = _allowed_peers, _config._num_threads
    build = fastloss.config()
    results: List[Dict[str, Any]] = []
    warnings: List[str] = []
    bar = Progress(len(todo), progress)
    started = time.perf_counter()
    torch: Any = None
    torch_threads = 1
    limiter: Any = None
    try:
        _allowed_peers = frozenset(PEERS if peers is None else peers)
        try:
            from threadpoolctl import threadpool_limits

            limiter = threadpool_limits(limits=threads)
        except ImportError:
            pass
        fastloss.set_num_threads(threads)
        torch = _torch()
        if torch is not None:
            torch_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
        for family, case, n, dtype in todo:
            label = f"{family}.{case.name} n={format_size(n)} {dtype}"
            bar.step(label)
            impls = case.setup(n, np.dtype(dtype), np.random.default_rng(SEED))
            impls = {k: f for k, f in impls.items() if k not in PEERS or k in _allowed_peers}
            for problem in check_agreement(impls, np.dtype(dtype)):
                warnings.append(f"{label}: {problem}")
            units = {k: f.units if isinstance(f, Work) else 1 for k, f in impls.items()}
            timings = time_interleaved(
                {k: f.call if isinstance(f, Work) else f for k, f in impls.items()}, budget)
            # per unit of work (per sample for an epoch), so a speedup compares like with like
            numpy_median = timings["numpy"]["median_s"] / units["numpy"]
            for impl in sorted(timings, key=_impl_order):
                t, per = timings[impl], units[impl]
                results.append({
                    "family": family, "kernel": case.name, "n": n, "dtype": dtype,
                    "impl": impl, "unit": f"per {case.unit}", "units_per_call": per,
                    "median_s": t["median_s"] / per, "min_s": t["min_s"] / per,
                    "rounds": t["rounds"], "loops": t["loops"],
                    "speedup_vs_numpy": numpy_median / (t["median_s"] / per),
                })
            del impls
    finally:
        bar.close()
        versions = {"python": platform.python_version(), "numpy": np.__version__,
                    "fastloss": fastloss.__version__, **peer_versions()}
        _allowed_peers = saved_peers
        fastloss.set_num_threads(saved_threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)
        if limiter is not None:
            limiter.restore_original_limits()

    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                       "MKL_NUM_THREADS") if k in os.environ}
    return {
        "schema": 1,
        "machine": machine_info(),
        "versions": versions,
        "build": build,
        "settings": {
            "sizes": list(sizes), "dtypes": list(dtypes), "threads": threads,
            "budget_s": budget, "only": list(only) if only else None,
            "peers": sorted({r["impl"] for r in results} & set(PEERS)), "seed": SEED,
            "min_rounds": MIN_ROUNDS, "timing": "interleaved rounds, rotating order; "
            "median and min seconds per call",
            "blas_threads_limited": limiter is not None, "thread_env": env,
            "skipped": skipped, "wall_s": round(time.perf_counter() - started, 3),
        },
        "warnings": warnings,
        "results": results,
    }


def _impl_order(impl: str) -> Tuple[int, str]:
    order = IMPLEMENTATIONS.index(impl) if impl in IMPLEMENTATIONS else len(IMPLEMENTATIONS)
    return order, impl


# ---- reports -------------------------------------------------------------------------

def format_seconds(s: float) -> str:
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _per_column(report: Dict[str, Any]) -> bool:
    """Whether the tables need a "per" column: some times are not per call."""
    return any(r.get("unit", "per call") != "per call" for r in report["results"])


def _rows(report: Dict[str, Any]) -> Tuple[List[str], List[str], List[List[str]]]:
    """(implementations present, peers compared, one row of cells per case)."""
    cases: Dict[Tuple[str, str, int, str], Dict[str, float]] = {}
    unit: Dict[Tuple[str, str, int, str], str] = {}
    for r in report["results"]:
        key = (r["family"], r["kernel"], r["n"], r["dtype"])
        cases.setdefault(key, {})[r["impl"]] = r["median_s"]
        unit[key] = r.get("unit", "per call").replace("per ", "")
    present = sorted({r["impl"] for r in report["results"]}, key=_impl_order)
    others = [i for i in present if i != "fastloss"]
    per = _per_column(report)
    rows = []
    for key, times in cases.items():
        family, kernel, n, dtype = key
        cells = [kernel, format_size(n), dtype] + ([unit[key]] if per else [])
        cells += [format_seconds(times[i]) if i in times else "-" for i in present]
        cells += [f"{times[i] / times['fastloss']:.2f}x" if i in times and "fastloss" in times
                  else "-" for i in others]
        rows.append(cells)
    return present, others, rows


def _table(report: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """(header, rows) of the speedup table."""
    present, others, rows = _rows(report)
    per = ["per"] if _per_column(report) else []
    return ["kernel", "n", "dtype", *per, *present, *(f"vs {i}" for i in others)], rows


#: what one timed unit is, per family, for the footnote
FAMILY_NOTES = {
    "losses": "losses: one call, value and gradient",
    "optim": "optim: one optimizer step on n parameters",
    "linear": "linear: one sample of an SGD epoch over n/d samples of d features (the NumPy "
              f"loop is timed on the first {LINEAR_REFERENCE_SAMPLES} samples)",
}


def _footnote(report: Dict[str, Any]) -> str:
    s, m, v = report["settings"], report["machine"], report["versions"]
    threads = "one thread" if s["threads"] == 1 else f"{s['threads']} threads"
    peers = ", ".join(f"{k} {v[k]}" for k in PEERS if k in v)
    families = list(dict.fromkeys(r["family"] for r in report["results"]))
    notes = "; ".join(FAMILY_NOTES.get(f, f) for f in families)
    return (f"Median seconds per unit ({notes}), {threads}, {m['cpu']}; "
            f"Python {v['python']}, NumPy {v['numpy']}, fastloss {v['fastloss']}"
            f"{', ' + peers if peers else ''}. `vs X` = X's median / fastloss's median, "
            f"measured in interleaved rounds in one run (`fastloss bench`).")


def text_table(report: Dict[str, Any]) -> str:
    header, rows = _table(report)
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    # kernel, n, dtype (and per) left-aligned; times and ratios right-aligned
    left = 4 if _per_column(report) else 3

    def fmt(cells: List[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)]
    return "\n".join(lines)


def markdown_table(report: Dict[str, Any]) -> str:
    header, rows = _table(report)
    left = 4 if _per_column(report) else 3
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines) + "\n\n" + _footnote(report) + "\n"


#: how the plot names each implementation fastloss is compared with
PLOT_NAMES = {"numpy": "NumPy", "torch": "torch", "sklearn": "scikit-learn"}
#: 7 markers against the 10 colours of "tab10": coprime, so kernel i's pair (colour i % 10,
#: marker i % 7) repeats only from the 71st kernel, and neighbours differ in both
PLOT_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
PLOT_COLOURS = 10
#: one line style per family, to group the kernels at a glance
PLOT_LINESTYLES = ("-", "--", ":", "-.")


def plot_styles(labels: Sequence[str]) -> Dict[str, Tuple[int, str]]:
    """``{"family.kernel": (colour index into tab10, marker)}``, no pair repeated."""
    return {label: (i % PLOT_COLOURS, PLOT_MARKERS[i % len(PLOT_MARKERS)])
            for i, label in enumerate(labels)}


def plot_series(report: Dict[str, Any]
                ) -> Dict[str, Dict[str, Dict[str, List[Tuple[int, float]]]]]:
    """What ``plot`` draws: ``{other: {dtype: {"family.kernel": [(n, ratio), ...]}}}``.

    ``ratio`` is the other implementation's median over fastloss's (the tables' ``vs X``),
    for NumPy and for each peer measured in the same run, where both were timed.
    """
    medians: Dict[Tuple[str, str, int], Dict[str, float]] = {}
    for r in report["results"]:
        key = (f"{r['family']}.{r['kernel']}", r["dtype"], r["n"])
        medians.setdefault(key, {})[r["impl"]] = r["median_s"]
    others = sorted({r["impl"] for r in report["results"]} - {"fastloss"}, key=_impl_order)
    series: Dict[str, Dict[str, Dict[str, List[Tuple[int, float]]]]] = {o: {} for o in others}
    for (label, dtype, n), times in medians.items():
        for other in others:
            if other in times and "fastloss" in times:
                series[other].setdefault(dtype, {}).setdefault(label, []).append(
                    (n, times[other] / times["fastloss"]))
    for per_dtype in series.values():
        for lines in per_dtype.values():
            for points in lines.values():
                points.sort()
    return series


def plot(report: Dict[str, Any], path: str) -> None:
    """Save :func:`figure` to ``path`` (a PNG for ``bench.png``). Raises ImportError without
    matplotlib."""
    figure(report).savefig(path, dpi=110, bbox_inches="tight")  # tight: no label cut off


def figure(report: Dict[str, Any]) -> Any:
    """A matplotlib Figure of fastloss's speedup over NumPy and over each peer measured in
    the same run, against size: one row of panels per implementation compared, one column
    per dtype, one line per kernel (the same colour, marker and label in every panel).

    Raises ImportError without matplotlib.
    """
    import matplotlib
    import matplotlib.ticker
    # a Figure without pyplot: no backend switch or open figure left in the caller's process
    from matplotlib.figure import Figure

    series = plot_series(report)
    labels = list(dict.fromkeys(f"{r['family']}.{r['kernel']}" for r in report["results"]
                                if r["impl"] == "fastloss"))
    styles = plot_styles(labels)
    families = list(dict.fromkeys(label.split(".")[0] for label in labels))
    tab10 = matplotlib.colormaps["tab10"]  # not the rcParams cycle: a user style may repeat
    palette = [tab10(i) for i in range(PLOT_COLOURS)]
    dtypes = [d for d in report["settings"]["dtypes"]
              if any(d in per_dtype for per_dtype in series.values())]
    others = [o for o in series if series[o]]
    legend_columns = 2 * len(dtypes)  # two labels fit beside each other under a panel
    legend_rows = math.ceil(len(labels) / legend_columns)
    legend_in = 0.19 * legend_rows + 0.2  # inches: the legend below the panels
    height = 3.2 * len(others) + 0.9 + legend_in
    fig = Figure(figsize=(6 * len(dtypes), height))
    axes = fig.subplots(len(others), len(dtypes), squeeze=False, sharex=True, sharey="row")
    handles: Dict[str, Any] = {}
    for row, other in enumerate(others):
        for col, dtype in enumerate(dtypes):
            ax = axes[row][col]
            lines = series[other].get(dtype, {})
            for label in labels:
                if label not in lines:
                    continue
                colour, marker = styles[label]
                linestyle = PLOT_LINESTYLES[families.index(label.split(".")[0])
                                            % len(PLOT_LINESTYLES)]
                points = lines[label]
                (handles[label],) = ax.plot(
                    [p[0] for p in points], [p[1] for p in points], marker=marker,
                    markersize=6, linestyle=linestyle, color=palette[colour], label=label)
            if not lines:
                ax.text(0.5, 0.5, f"no {PLOT_NAMES.get(other, other)} counterpart",
                        transform=ax.transAxes, ha="center", va="center", color="grey")
            ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
            ax.yaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2.0, 5.0)))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
            if row == 0:
                ax.set_title(dtype)
            if row == len(others) - 1:
                ax.set_xlabel("elements (n)")
            if col == 0:
                name = PLOT_NAMES.get(other, other)
                ax.set_ylabel(f"speedup over {name}\n({name} median / fastloss median)")
    ordered = [label for label in labels if label in handles]
    fig.legend([handles[label] for label in ordered], ordered, loc="lower center",
               ncol=legend_columns, fontsize="small", frameon=False)
    threads = report["settings"]["threads"]
    versions = report.get("versions", {})
    peers = ", ".join(f"{PLOT_NAMES[o]} {versions[o]}" if o in versions else PLOT_NAMES[o]
                      for o in others if o in PEERS)
    per_sample = any(r.get("unit") == "per sample" for r in report["results"])
    fig.suptitle(f"fastloss {versions.get('fastloss', '')} vs the NumPy reference"
                 f"{' and ' + peers if peers else ''}: one run, {threads} "
                 f"thread{'s' * (threads > 1)}"
                 + ("\ntimes per call (linear: per sample)" if per_sample else ""))
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    return fig


def iter_warnings(report: Dict[str, Any]) -> Iterable[str]:
    yield from report.get("warnings", [])
    if sys.platform != "win32" and "OPENBLAS_NUM_THREADS" not in os.environ and not report[
            "settings"]["blas_threads_limited"]:
        yield ("OPENBLAS_NUM_THREADS is not set and threadpoolctl is not installed: NumPy's "
               "BLAS may use several threads (set OPENBLAS_NUM_THREADS=1 before running)")
