"""Shared helpers for the fastloss test suite (tolerances, type checks, the data file, the
command line, the loss and linear-model cases several test files draw).

Imported as `_support` (not from conftest: tests/ and benchmarks/ each have a conftest.py,
and pytest may bind the name `conftest` to either)."""

from __future__ import annotations

import contextlib
import csv
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import numpy as np
import pytest

import fastloss
from fastloss.datasets import HOUSING_ENV
from fastloss.losses._registry import LOSSES

DTYPES = (np.float32, np.float64)

#: the California housing CSV in the repository's sibling ../shared (never in the repo)
SIBLING_HOUSING_CSV = (Path(__file__).resolve().parents[2] / "shared" / "data"
                       / "california_housing.csv")
#: where pytest started: a relative $FASTLOSS_HOUSING_CSV is taken from here (tests may chdir)
_START_DIR = Path.cwd()


def find_housing_csv() -> Optional[Path]:
    """The California housing CSV the tests and benchmarks read, or None if there is none.

    The file named by ``$FASTLOSS_HOUSING_CSV`` (the variable ``fastloss.datasets.load_housing``
    reads; a relative path is taken from the directory pytest started in) when it is set,
    else ``../shared/data/california_housing.csv`` beside the repository. A variable that
    names no file raises FileNotFoundError: a run that sets it (CI) must not skip silently.
    """
    named = os.environ.get(HOUSING_ENV)
    if not named:
        return SIBLING_HOUSING_CSV if SIBLING_HOUSING_CSV.is_file() else None
    path = _START_DIR / named
    if not path.is_file():
        raise FileNotFoundError(f"${HOUSING_ENV}={named}: no such file ({path})")
    return path


def housing_csv() -> Path:
    """:func:`find_housing_csv`, skipping the calling test if there is no file."""
    path = find_housing_csv()
    if path is None:
        pytest.skip(f"California housing CSV not found (set ${HOUSING_ENV} or "
                    f"provide {SIBLING_HOUSING_CSV})")
    return path


def housing_least_squares(path: Path) -> Tuple[np.ndarray, np.ndarray]:
    """The housing CSV as a least-squares problem ``(X, y)``: rows with a missing value
    dropped (20433 of 20640 left); ``X`` = the 8 numeric features standardized, then
    ``ocean_proximity`` one-hot (13 columns); ``y`` = the median house value in $100k."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    numeric = np.array([[float(v) if v else np.nan for v in r[:9]] for r in rows])
    category = np.array([r[9] for r in rows])
    keep = ~np.isnan(numeric).any(axis=1)
    numeric, category = numeric[keep], category[keep]
    features = numeric[:, :8]
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    onehot = (category[:, None] == np.unique(category)[None, :]).astype(np.float64)
    return np.hstack([features, onehot]), numeric[:, 8] / 1e5

#: (rtol, atol relative to the magnitude of the expected values) per dtype
TOLERANCES = {
    np.dtype(np.float32): (1e-5, 1e-6),
    np.dtype(np.float64): (1e-10, 1e-12),
}


def tolerances(dtype: Any) -> tuple:
    return TOLERANCES[np.dtype(dtype)]


def _magnitude(expected: np.ndarray) -> float:
    finite = np.abs(expected[np.isfinite(expected)])
    return float(finite.max()) if finite.size else 0.0


def assert_close(actual: Any, expected: Any, dtype: Any, *, scale: Optional[float] = None,
                 floor: float = 0.0, factor: float = 1.0) -> None:
    """``actual`` equals ``expected`` to the rounding of ``dtype``.

    NaN and inf must sit at the same places. ``atol`` is the dtype's atol times ``scale``
    (default: the largest finite ``|expected|``, at least ``floor``), so sums of many terms,
    or results that cancel, get an absolute tolerance proportional to the terms that went
    into them; ``factor`` widens both tolerances.
    """
    rtol, atol = tolerances(dtype)
    expected_arr = np.asarray(expected, dtype=np.float64)
    actual_arr = np.asarray(actual, dtype=np.float64)
    if scale is None:
        scale = max(_magnitude(expected_arr), floor)
    # results in the subnormal range carry no relative precision
    atol = max(atol * factor * scale, 4 * float(np.finfo(dtype).tiny))
    np.testing.assert_allclose(actual_arr, expected_arr, rtol=rtol * factor, atol=atol,
                               equal_nan=True)


def assert_value_type(value: Any, dtype: Any, reduction: str, shape: tuple) -> None:
    """Reduced values are NumPy scalars of the input dtype; 'none' gives an array."""
    if reduction == "none":
        assert isinstance(value, np.ndarray), type(value)
        assert value.shape == shape
    else:
        assert isinstance(value, np.generic) and not isinstance(value, np.ndarray), type(value)
    assert value.dtype == np.dtype(dtype)


def assert_grad_type(grad: Any, dtype: Any, shape: tuple) -> None:
    assert type(grad) is np.ndarray
    assert grad.shape == shape
    assert grad.dtype == np.dtype(dtype)
    assert grad.flags.c_contiguous


@contextlib.contextmanager
def single_thread_blas() -> Iterator[None]:
    """NumPy's BLAS on one thread within the block when threadpoolctl is installed (else a
    no-op): small matrix-vector products only pay for BLAS threads (5x on a busy 2-core
    machine), and benchmarks compare one thread with one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@contextlib.contextmanager
def numpy_backend() -> Iterator[None]:
    with fastloss.use_backend("numpy"):
        yield


def run_fastloss(*args: str, env: Optional[dict] = None,
                 timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """``python -m fastloss ARGS`` in a subprocess, output captured as text."""
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "fastloss", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env)


def assert_one_line_error(proc: Any) -> str:
    """A failed command: non-zero exit, one line on stderr, no traceback; returns the line."""
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error" in lines[0]
    assert proc.stdout == ""
    return lines[0]


# ---- loss cases (tests/test_losses*.py) -------------------------------------------------

BACKENDS = ["c", "numpy"]
#: the three forms of every loss: value, gradient, both (suffixes of the public names)
FORMS = ["", "_grad", "_value_and_grad"]
REDUCTIONS = ("mean", "sum", "none")
ALL_ELEMENTWISE = [row.name for row in LOSSES.values() if row.kind == "elementwise"]
#: whether each loss takes a ``weight`` array
WEIGHTED = {row.name: "weight" in row.weights for row in LOSSES.values()}


def elementwise_data(name: str, shape: tuple, dtype: Any, rng: np.random.Generator,
                     log_target: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """The registry's typical inputs of loss ``name`` (log-probability targets for
    ``log_target``)."""
    x, y = LOSSES[name].data(rng, shape, dtype)
    if log_target:
        y = np.log(rng.uniform(0.05, 1.0, shape)).astype(dtype)
    return x, y


def reduced_scale(elements: Any, denominator: float) -> float:
    """Magnitude of a reduced value's terms: sum |w l| / D (for an absolute tolerance)."""
    e = np.abs(np.asarray(elements, dtype=np.float64))
    e = e[np.isfinite(e)]
    return float(e.sum()) / abs(denominator) if denominator else 0.0


def labels_for(n: int, c: int, ignore: str, rng: np.random.Generator) -> Tuple[np.ndarray, int]:
    """Labels in [0, c) and the ignore_index to use: -100 rows ('default') or a class."""
    labels = rng.integers(0, c, n)
    # row 0 is never ignored: all-ignored batches have their own tests
    if ignore == "default":
        labels[1::3] = -100
        return labels, -100
    if ignore == "custom":  # ignore_index 1 is a valid class index (unless c == 1)
        ignore_index = 1
        labels[labels == ignore_index] = 0
        labels[1::4] = ignore_index
        return labels, ignore_index
    return labels, -100


def ce_case(shape: Tuple[int, int], target_kind: str, weighted: bool, ignore: str, dtype: Any,
            rng: np.random.Generator, scale: float = 3.0) -> Tuple[np.ndarray, np.ndarray,
                                                                  Optional[np.ndarray], int]:
    """A cross_entropy / nll_loss case ``(input, target, class weights or None,
    ignore_index)``: normal logits of std ``scale``, and labels (:func:`labels_for`) or, for
    ``target_kind="probs"``, rows of probabilities."""
    n, c = shape
    x = np.asarray(rng.normal(0.0, scale, shape), dtype)
    w = np.asarray(rng.uniform(0.2, 2.0, c), dtype) if weighted else None
    if target_kind == "probs":
        t = rng.uniform(0.0, 1.0, shape) ** 3
        t = np.asarray(t / np.maximum(t.sum(axis=1, keepdims=True), 1e-30), dtype)
        return x, t, w, -100
    labels, ignore_index = labels_for(n, c, ignore, rng)
    return x, labels, w, ignore_index


# ---- linear-model problems (tests/test_linear*.py) ---------------------------------------

N_CLASSES = 3


def make_problem(rng: np.random.Generator, loss: str, n: int, d: int, dtype: Any,
                 order: str = "C") -> Tuple[np.ndarray, np.ndarray, Tuple[int, ...]]:
    """X, y and the coef shape for ``loss``; y has a known linear structure plus noise."""
    X = np.asarray(rng.normal(size=(n, d)), dtype=dtype, order=order)
    w = rng.normal(size=d)
    z = X.astype(np.float64) @ w + 0.3 * rng.normal(size=n)
    if loss == "softmax":
        y: np.ndarray = rng.integers(0, N_CLASSES, size=n)
        return X, y, (d, N_CLASSES)
    if loss == "logistic":
        return X, (z > 0).astype(dtype), (d,)
    if loss in ("poisson", "gamma", "tweedie"):
        # targets of mean exp(linear) in the losses' domains; X smaller, so that the steps
        # of the exp link stay stable at the tests' learning rates (up to 0.2 per sample)
        X = np.asarray(0.3 * X, dtype=dtype, order=order)
        mean = np.exp(0.3 * z)
        if loss == "poisson":
            return X, rng.poisson(mean).astype(dtype), (d,)
        return X, rng.gamma(2.0, mean / 2.0).astype(dtype), (d,)
    return X, z.astype(dtype), (d,)


def fresh_params(rng: np.random.Generator, coef_shape: Tuple[int, ...], dtype: Any,
                 intercept: bool = True) -> Tuple[np.ndarray, Any]:
    """Small random starting coef (and intercept, or None) for a problem of
    :func:`make_problem`."""
    coef = (0.1 * rng.normal(size=coef_shape)).astype(dtype)
    c = coef_shape[1] if len(coef_shape) == 2 else 1
    return coef, ((0.1 * rng.normal(size=c)).astype(dtype) if intercept else None)


class Counting:
    """Wraps a minimizer's ``fun``, recording every point it is called at (copies)."""

    def __init__(self, fun: Any) -> None:
        self.fun = fun
        self.points: list = []

    def __call__(self, x: np.ndarray, *args: Any) -> Any:
        self.points.append(x.copy())
        return self.fun(x, *args)


def run_both(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: Any,
             **kwargs: Any) -> Dict[str, Any]:
    """sgd_epoch on the C backend and on the reference, from copies of the same start."""
    out: Dict[str, Any] = {}
    for backend in ("c", "numpy"):
        W = coef.copy()
        b = None if intercept is None else intercept.copy()
        with fastloss.use_backend(backend):
            mean, state = fastloss.sgd_epoch(X, y, W, b, **kwargs)
        out[backend] = (mean, W, b, state)
    return out


def assert_same_run(out: Dict[str, Any], dtype: Any, msg: str = "",
                    factor64: float = 1e3) -> None:
    """The two runs of :func:`run_both` agree: weights, mean loss, state. A trajectory of
    updates compounds rounding: the tolerances are the dtype's (:data:`TOLERANCES`) widened
    30x for float32 and ``factor64`` for float64."""
    (mc, Wc, bc, sc), (mr, Wr, br, sr) = out["c"], out["numpy"]
    factor = 30.0 if np.dtype(dtype) == np.float32 else factor64
    try:
        assert_close(Wc, Wr, dtype, factor=factor, floor=1.0)
        if bc is not None:
            assert_close(bc, br, dtype, factor=factor, floor=1.0)
        assert_close(mc, mr, np.float64 if np.isnan(mr) else dtype, factor=factor, floor=1.0)
        assert sc.t == sr.t and sc.epochs == sr.epochs
        for a, r in zip(sc.coef_state + sc.intercept_state, sr.coef_state + sr.intercept_state):
            assert_close(a, r, dtype, factor=factor, floor=1.0)
        # the epochs' mean losses: terms of size ~1 can cancel to ~1e-4 (poisson), so the
        # absolute part of the tolerance is of the terms' size, as floor=1.0 above
        assert sc.losses == pytest.approx(sr.losses, rel=1e-4, nan_ok=True,
                                          abs=factor * float(np.finfo(dtype).eps))
    except AssertionError as e:
        raise AssertionError(f"{msg}: {e}") from None


def ctc_case(rng: np.random.Generator, t: int, n: int, c: int, s: int, dtype: Any = np.float64,
             *, blank: int = 0, concatenated: bool = False, repeats: bool = False,
             min_frames: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A random ctc_loss call ``(log_probs, targets, input_lengths, target_lengths)``: T x N
    frames of a log_softmax over C classes, N targets of up to S labels other than blank
    (padded with -1, which no target reads, or concatenated); ``repeats`` makes each
    target's second label its first (a repeat needs a blank between); input lengths in
    ``[min_frames, T]`` (some too short for their target: infinite losses)."""
    logits = rng.normal(scale=2.0, size=(t, n, c))
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = (shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))).astype(dtype)
    labels = rng.integers(0, c - 1, size=(n, s)) if c > 1 else np.zeros((n, s), np.int64)
    labels += labels >= blank  # every class but blank
    if repeats and s > 1:
        labels[:, 1] = labels[:, 0]
    target_lengths = rng.integers(0, s + 1, size=n) if c > 1 else np.zeros(n, np.int64)
    input_lengths = rng.integers(min(min_frames, t), t + 1, size=n)
    if concatenated:
        targets = np.concatenate([labels[b, :target_lengths[b]] for b in range(n)])
    else:
        targets = np.where(np.arange(s) < target_lengths[:, None], labels, -1)
    return log_probs, targets, input_lengths, target_lengths


def ctc_grad_scale(log_probs: np.ndarray, targets: np.ndarray, input_lengths: Any,
                   target_lengths: Any, blank: int = 0) -> float:
    """The scale of ctc_loss's gradient's rounding error: ``exp(log alpha beta + nll - lp)``
    adds numbers of the size of the loss before exp, so the error is the dtype's epsilon
    times the largest finite per-sample loss (at least 1)."""
    with np.errstate(all="ignore"):
        nll = np.asarray(fastloss.reference.ctc_loss(
            np.asarray(log_probs, np.float64), targets, input_lengths, target_lengths, blank,
            "none"))
    finite = np.abs(nll[np.isfinite(nll)])
    return max(1.0, float(finite.max()) if finite.size else 1.0)


def traced_peak(call: Callable[[], Any], repeat: int = 3) -> int:
    """Peak bytes NumPy and Python allocate during ``call()`` (NumPy reports its array
    buffers to tracemalloc), the least over ``repeat`` calls: tracemalloc counts every
    thread, and a background thread left by an earlier test (a Dask cluster's) allocating
    meanwhile once counted 270 KB; it does not do so in every call, a temporary of the
    call's own does. Exceptions propagate after tracing stops."""
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(repeat):
            tracemalloc.reset_peak()
            call()
            peaks.append(tracemalloc.get_traced_memory()[1])
        return min(peaks)
    finally:
        tracemalloc.stop()
