"""``fastloss demo housing|iris``: the tutorial's two applications, with every optimizer.

Each optimizer trains the same model on the compiled kernels and on the NumPy reference
backend (identical arithmetic, textbook NumPy), and the table shows the quality reached and
the wall time of both: after one untimed warm-up fit on each backend, ``repeats`` fits on
each, interleaved (compiled, numpy, compiled, numpy, ...) so that a change in the machine's
load reaches both alike; the table reports each backend's median and the ratio of the
medians. Used by :mod:`fastloss.cli`; importable for notebooks.
"""

from __future__ import annotations

import statistics
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

import fastloss
from fastloss import datasets
from fastloss.models import OPTIMIZERS, ConvergenceWarning, LinearRegression, SoftmaxRegression

DEMOS = ("housing", "iris")
#: timed fits per backend and optimizer: a median of 5 shrugs off two disturbed fits
DEFAULT_REPEATS = 5

#: what each fit overrides of the models' defaults: nothing. The defaults are meant to reach
#: the optimum on standardized data, and the demo shows that they do.
SETTINGS: Dict[str, Dict[str, Dict[str, Any]]] = {"housing": {}, "iris": {}}


@dataclass
class DemoRow:
    """One optimizer: the quality its fit reached, and the timed fits on both backends."""

    optimizer: str
    final_loss: float
    metric: float
    epochs: int
    #: the median of ``times`` / ``times_numpy``
    seconds: float
    seconds_numpy: float
    loss_curve: List[float] = field(repr=False, default_factory=list)
    #: seconds of each timed fit, in the order run (warm-up excluded)
    times: List[float] = field(repr=False, default_factory=list)
    times_numpy: List[float] = field(repr=False, default_factory=list)
    #: the fit stopped at max_iter before its tolerance (a ConvergenceWarning, shown as "*")
    stopped_at_max_iter: bool = False

    @property
    def speedup(self) -> float:
        """The numpy backend's median time over the compiled one's (a ratio of medians)."""
        return self.seconds_numpy / self.seconds


@dataclass
class DemoResult:
    name: str
    metric_name: str
    baseline: Tuple[str, float]
    n_train: int
    n_test: int
    rows: List[DemoRow]
    #: timed fits per backend in each row
    repeats: int = DEFAULT_REPEATS


def _split(X: np.ndarray, y: np.ndarray, test_fraction: float,
           seed: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def _standardize(X_train: np.ndarray, X_test: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Each column to mean 0 and variance 1 on the training rows, except 0/1 indicator
    columns (housing's one-hot ocean_proximity), which already have unit scale: a rare
    category would become a value of ~60 on its few rows (ISLAND: 5 of 20,640), a step size no
    per-sample SGD survives."""
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    indicator = np.all((X_train == 0) | (X_train == 1), axis=0)
    mean[indicator], std[indicator] = 0.0, 1.0
    std[std == 0] = 1.0
    return (X_train - mean) / std, (X_test - mean) / std


def _problem(name: str, data_path: Optional[str]) -> Tuple[Any, ...]:
    if name == "housing":
        X, y = datasets.load_housing(data_path)
        X_tr, X_te, y_tr, y_te = _split(X, y / 1e5, 0.2, seed=0)
        X_tr, X_te = _standardize(X_tr, X_te)
        A = np.hstack([X_tr, np.ones((len(X_tr), 1))])
        sol = np.linalg.lstsq(A, y_tr, rcond=None)[0]
        pred = X_te @ sol[:-1] + sol[-1]
        r2 = 1 - np.sum((y_te - pred) ** 2) / np.sum((y_te - y_te.mean()) ** 2)
        return LinearRegression, X_tr, X_te, y_tr, y_te, "test R^2", ("least squares", r2)
    X, y = datasets.load_iris()
    X_tr, X_te, y_tr, y_te = _split(X, y, 0.3, seed=0)
    X_tr, X_te = _standardize(X_tr, X_te)
    majority = float(np.mean(y_te == np.bincount(y_tr).argmax()))
    return SoftmaxRegression, X_tr, X_te, y_tr, y_te, "test accuracy", ("majority class",
                                                                          majority)


def run(name: str, *, data_path: Optional[str] = None, optimizers: Tuple[str, ...] = OPTIMIZERS,
        repeats: int = DEFAULT_REPEATS, progress: Optional[Callable[[str], None]] = None,
        timer: Callable[[], float] = time.perf_counter) -> DemoResult:
    """Train the demo model with each optimizer on both backends; return the table rows.

    Per optimizer: one untimed warm-up fit on each backend (imports, caches, first-touch
    allocations), then ``repeats`` rounds of one fit on the compiled backend and one on the
    NumPy backend, each timed with ``timer``. The quality columns come from the warm-up's
    compiled fit (every fit is the same: ``random_state`` is fixed).
    """
    if name not in DEMOS:
        raise ValueError(f"demo must be one of {DEMOS}, got {name!r}")
    unknown = [o for o in optimizers if o not in OPTIMIZERS]
    if unknown:
        raise ValueError(f"optimizers: unknown {unknown[0]!r} (choose from {OPTIMIZERS})")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    model_cls, X_tr, X_te, y_tr, y_te, metric_name, baseline = _problem(name, data_path)
    rows = []
    for optimizer in optimizers:
        if progress is not None:
            progress(optimizer)
        settings = dict(SETTINGS[name].get(optimizer, {}), optimizer=optimizer, random_state=0)

        def fit(backend: str) -> Tuple[Any, float, bool]:
            """A fit, its time, and whether it stopped at max_iter (the table marks it)."""
            with fastloss.use_backend(backend), warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                model = model_cls(**settings)
                start = timer()
                model.fit(X_tr, y_tr)
                elapsed = timer() - start
            return model, elapsed, any(issubclass(w.category, ConvergenceWarning)
                                       for w in caught)

        # fit() reads this iteration's settings: it is only called within the iteration
        fitted, _, stopped = fit("c")
        fit("numpy")
        times: Dict[str, List[float]] = {"c": [], "numpy": []}
        for _ in range(repeats):
            for backend in ("c", "numpy"):
                times[backend].append(fit(backend)[1])
        rows.append(DemoRow(optimizer, float(fitted.loss_curve_[-1]),
                            float(fitted.score(X_te, y_te)), int(fitted.n_iter_),
                            statistics.median(times["c"]), statistics.median(times["numpy"]),
                            list(fitted.loss_curve_), times["c"], times["numpy"], stopped))
    return DemoResult(name, metric_name, baseline, len(y_tr), len(y_te), rows, repeats)


def format_table(result: DemoResult) -> str:
    """A Markdown table of a demo's rows, with a line saying how the times were taken."""
    lines = [f"{result.name}: {result.n_train} training / {result.n_test} test samples; "
             f"{result.baseline[0]} baseline {result.metric_name} = {result.baseline[1]:.4f}",
             "",
             f"| optimizer | final loss | {result.metric_name} | epochs (cg: iterations) | "
             "fastloss (s) | numpy backend (s) | speedup |",
             "|---|---|---|---|---|---|---|"]
    for r in result.rows:
        epochs = f"{r.epochs}*" if r.stopped_at_max_iter else str(r.epochs)
        lines.append(f"| {r.optimizer} | {r.final_loss:.5g} | {r.metric:.4f} | {epochs} | "
                     f"{r.seconds:.3f} | {r.seconds_numpy:.3f} | {r.speedup:.1f}x |")
    fits = "1 fit" if result.repeats == 1 else f"median of {result.repeats} fits"
    if any(r.stopped_at_max_iter for r in result.rows):
        lines += ["", "*: stopped at max_iter before its tolerance (a ConvergenceWarning)."]
    lines += ["", f"Times: {fits} per backend, interleaved (fastloss, numpy, fastloss, ...) "
              "after one untimed warm-up fit on each; speedup = numpy median / fastloss "
              "median."]
    return "\n".join(lines)


def plot(result: DemoResult, path: str) -> None:
    """Save the loss curves (one line per optimizer) to ``path``; needs matplotlib."""
    # a Figure without pyplot: no backend switch or open figure left in the caller's process
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for r in result.rows:
        ax.plot(np.arange(1, len(r.loss_curve) + 1), r.loss_curve, label=r.optimizer)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (CG: iteration)")
    ax.set_ylabel("training objective")
    ax.set_title(f"fastloss demo {result.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
