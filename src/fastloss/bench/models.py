"""The ``models`` family of ``fastloss bench``: what training a linear model costs.

Today one row kind, :class:`ObjectiveRow`: one evaluation of the linear-model objective and
its gradient (:func:`fastloss.linear_value_and_grad`, the fused kernel) on ``n / d``
samples of ``d`` features (``n`` counts elements of X, as in the ``linear`` family), vs

* ``"numpy"``: the same objective composed from ``X @ W``, the NumPy reference losses and
  ``X.T @ dz`` (fastloss's ``"numpy"`` backend);
* ``"sklearn"``: scikit-learn's ``LinearModelLoss.loss_gradient`` (private) on the same
  objective: its half losses are ours (``HalfSquaredError`` = 0.5 r^2, ``HalfBinomialLoss``
  = softplus(z) - y z, ``HalfMultinomialLoss`` = lse(z) - z_y), it divides by the sum of
  the sample weights as we do and its ``l2_reg_strength`` is our ``alpha`` (penalty
  ``alpha/2 ||coef||^2``, intercept spared); coef is laid out its way, ``(C, d + 1)`` with
  the intercept last;
* ``"read_X"``: ``X.sum()``, one read of X: the floor a one-pass kernel works against
  (opted out of the agreement check: it computes something else).

The issue's configurations, in elements: softmax (1e5, 50, C=10) = 5e6, logistic
(1e6, 20) = 2e7, logistic (1e5, 100) = 1e7, squared error (2e4, 8) = 1.6e5, e.g.
``fastloss bench --only models --sizes 1.6e5,5e6,1e7,2e7``. A row with ``threads=2`` runs
fastloss on two threads (the peers as they are).

A :class:`HesspRow`: one Hessian-vector product of that objective
(:func:`fastloss.linear_hessp`, the fused kernel's Hessian pass) for a GLM loss on the log
link, vs the ``"numpy"`` backend (``fastloss.reference.linear_hessp``, float64) and
scikit-learn's ``LinearModelLoss.gradient_hessian_product`` closure (private; made once at
setup with the gradient and the Hessian's diagonal, then timed alone: ``X @ v`` and
``X.T @ (h X v)``, two passes over X where ours is one that also recomputes ``z``).

The last row kind, :class:`FitRow`: an estimator's whole ``fit`` with its defaults, at one
size (``Case.sizes``: the issue's problems), vs the same fit on the ``"numpy"`` backend and
scikit-learn's estimator minimizing the same objective (``SoftmaxRegression(alpha=1/n)`` and
``LogisticRegression(C=1)``; ``LinearRegression()`` and scikit-learn's). The agreement check
compares the training objective at the fitted parameters with the numpy backend's; the
scikit-learn fit opts out (it stops at its own tolerance: tests/test_models_classification.py
holds the two to the same minimum).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

import fastloss
import fastloss.models
from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, Work

#: alpha of every objective case: a penalty makes the peers' L2 conventions matter
OBJECTIVE_ALPHA = 1e-3
#: scikit-learn's base loss of each of our losses (same values: see the module docstring)
SKLEARN_BASE_LOSS = {"squared_error": "HalfSquaredError", "logistic": "HalfBinomialLoss",
                     "softmax": "HalfMultinomialLoss"}


class ObjectiveRow(NamedTuple):
    """One objective+gradient case: ``loss`` on ``features`` features (``classes`` for
    softmax), fastloss on ``threads`` threads (None: the run's default); ``elements``: the
    size of X in the issue's configuration (the README's digest shows that size)."""

    loss: str
    features: int
    classes: int = 1
    threads: Optional[int] = 1
    elements: int = 10**6

    @property
    def kernel(self) -> str:
        name = f"objective_{self.loss}_d{self.features}"
        name += f"_c{self.classes}" if self.loss == "softmax" else ""
        return name + (f"_{self.threads}threads" if self.threads != 1 else "")


class HesspRow(NamedTuple):
    """One Hessian-vector product case: GLM ``loss`` (tweedie with power 1.5) on
    ``features`` features, one thread; ``elements`` as :class:`ObjectiveRow`'s."""

    loss: str
    features: int
    elements: int = 10**6

    @property
    def kernel(self) -> str:
        return f"hessp_{self.loss}_d{self.features}"


class FitRow(NamedTuple):
    """One estimator fit with its defaults (``optimizer``: another of its optimizers) on
    ``samples`` samples of ``features`` features (``classes`` for SoftmaxRegression)."""

    model: str  # "SoftmaxRegression" or "LinearRegression"
    samples: int
    features: int
    classes: int = 1
    optimizer: Optional[str] = None

    @property
    def kernel(self) -> str:
        name = "fit_softmax" if self.model == "SoftmaxRegression" else "fit_regression"
        name += f"_d{self.features}" + (f"_c{self.classes}" if self.classes > 1 else "")
        return name + (f"_{self.optimizer}" if self.optimizer else "")


Row = Union[ObjectiveRow, HesspRow, FitRow]

MODEL_ROWS: Tuple[Row, ...] = (
    ObjectiveRow("softmax", 50, 10, elements=5 * 10**6),
    ObjectiveRow("logistic", 20, elements=2 * 10**7),
    ObjectiveRow("logistic", 100, elements=10**7),
    ObjectiveRow("squared_error", 8, elements=160_000),
    ObjectiveRow("logistic", 20, threads=2, elements=2 * 10**7),
    HesspRow("poisson", 20, elements=2 * 10**7), HesspRow("tweedie", 20, elements=2 * 10**7),
    FitRow("SoftmaxRegression", 100_000, 50, 10),
    FitRow("LinearRegression", 20_000, 8), FitRow("LinearRegression", 20_000, 8,
                                                  optimizer="lbfgs"))


def _objective_case(row: ObjectiveRow) -> Case:
    d, c, loss = row.features, row.classes, row.loss

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        rows = n // d
        X = rng.normal(size=(rows, d)).astype(dtype)
        z = X @ rng.normal(size=(d, c)) / np.sqrt(d)
        if loss == "softmax":
            y: Any = np.argmax(z + rng.gumbel(size=z.shape), axis=1)
            coef = (0.1 * rng.normal(size=(d, c))).astype(dtype)
        else:
            y = ((z[:, 0] + 0.3 * rng.normal(size=rows) > 0) if loss == "logistic"
                 else z[:, 0] + 0.3 * rng.normal(size=rows)).astype(dtype)
            coef = (0.1 * rng.normal(size=d)).astype(dtype)
        intercept = (0.1 * rng.normal(size=c)).astype(dtype)
        kw: Dict[str, Any] = dict(loss=loss, alpha=OBJECTIVE_ALPHA)

        def numpy_objective() -> Any:
            with fastloss.use_backend("numpy"):
                return fastloss.linear_value_and_grad(X, y, coef, intercept, **kw)

        impls: Impls = {
            "fastloss": lambda: fastloss.linear_value_and_grad(X, y, coef, intercept, **kw,
                                                               n_threads=row.threads),
            "numpy": numpy_objective,
            "read_X": Work(X.sum, check=lambda: None),
        }
        LinearModelLoss = peers.sklearn_linear_model_loss()
        if LinearModelLoss is not None:
            base = getattr(peers.sklearn_loss(), SKLEARN_BASE_LOSS[loss])
            sk = LinearModelLoss(base(n_classes=c) if loss == "softmax" else base(),
                                 fit_intercept=True)
            sk_coef = np.ascontiguousarray(np.vstack([coef, intercept]).T if loss == "softmax"
                                           else np.r_[coef, intercept], dtype=dtype)
            sk_y = y.astype(dtype)
            impls["sklearn"] = lambda: sk.loss_gradient(sk_coef, X, sk_y,
                                                        l2_reg_strength=OBJECTIVE_ALPHA,
                                                        n_threads=1)
        return impls

    threads = "the run's threads" if row.threads is None else f"{row.threads} thread(s)"
    shape = f"(n/{d}, {d}) X" + (f", C={c}" if loss == "softmax" else "")
    label = f"objective {loss}, d={d}" + (f", C={c}" if loss == "softmax" else "")
    label += f", {row.threads} threads" if row.threads != 1 else ""
    return Case(row.kernel, setup, min_size=100 * d, label=label,
                what=f"linear_value_and_grad, {loss}, alpha={OBJECTIVE_ALPHA:g}, {shape}, "
                f"fastloss on {threads}")


#: scikit-learn's half loss of each GLM loss a HesspRow takes, and that loss's keywords
SKLEARN_GLM_LOSS = {"poisson": ("HalfPoissonLoss", {}), "gamma": ("HalfGammaLoss", {}),
                    "tweedie": ("HalfTweedieLoss", {"power": 1.5})}


def _hessp_case(row: HesspRow) -> Case:
    d, loss = row.features, row.loss
    name, params = SKLEARN_GLM_LOSS[loss]

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        rows = n // d
        X = (0.3 * rng.normal(size=(rows, d))).astype(dtype)
        mean = np.exp(X @ rng.normal(size=d) / np.sqrt(d))
        y = (rng.poisson(mean) if loss == "poisson" else
             rng.gamma(2.0, mean / 2.0)).astype(dtype)
        coef = (0.1 * rng.normal(size=d)).astype(dtype)
        intercept = (0.1 * rng.normal(size=1)).astype(dtype)
        v, vb = rng.normal(size=d).astype(dtype), rng.normal(size=1).astype(dtype)
        kw: Dict[str, Any] = dict(loss=loss, alpha=OBJECTIVE_ALPHA, **params)

        def numpy_hessp() -> Any:
            with fastloss.use_backend("numpy"):
                return fastloss.linear_hessp(X, y, coef, intercept, v, vb, **kw)

        impls: Impls = {
            "fastloss": lambda: fastloss.linear_hessp(X, y, coef, intercept, v, vb, **kw,
                                                      n_threads=1),
            "numpy": numpy_hessp,
            "read_X": Work(X.sum, check=lambda: None),
        }
        LinearModelLoss = peers.sklearn_linear_model_loss()
        if LinearModelLoss is not None:
            sk = LinearModelLoss(getattr(peers.sklearn_loss(), name)(**params),
                                 fit_intercept=True)
            _, hessp = sk.gradient_hessian_product(
                np.r_[coef, intercept], X, y, l2_reg_strength=OBJECTIVE_ALPHA, n_threads=1)
            s = np.r_[v, vb]
            impls["sklearn"] = Work(lambda: hessp(s), check=lambda: hessp(s)[:d])
        return impls

    label = f"hessp {loss}, d={d}"
    return Case(row.kernel, setup, min_size=100 * d, label=label,
                what=f"linear_hessp, {loss}, alpha={OBJECTIVE_ALPHA:g}, (n/{d}, {d}) X, "
                f"fastloss on 1 thread(s)")


def _fit_case(row: FitRow) -> Case:
    d, c, rows = row.features, row.classes, row.samples
    softmax = row.model == "SoftmaxRegression"

    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        X = rng.normal(size=(rows, d)).astype(dtype)
        z = X @ (0.5 * rng.normal(size=(d, c)))
        y: Any = (np.argmax(z + rng.gumbel(size=z.shape), axis=1) if softmax
                  else z[:, 0] + 0.3 * rng.normal(size=rows) + 1.0)
        alpha = 1.0 / rows if softmax else 0.0  # LogisticRegression(C=1)'s penalty
        settings: Dict[str, Any] = {"alpha": alpha}
        if row.optimizer:
            settings["optimizer"] = row.optimizer
        cls = getattr(fastloss.models, row.model)
        fitted: Dict[str, Any] = {}

        def fit(key: str, make: Callable[[], Any]) -> Any:
            fitted[key] = make().fit(X, y)
            return fitted[key]

        def objective_at(key: str, make: Callable[[], Any]) -> float:
            """The training objective (float64) at ``key``'s fitted parameters."""
            model = fitted.get(key) or fit(key, make)
            coef = np.asarray(model.coef_, np.float64)
            coef = coef.T.copy() if softmax else coef
            b = np.atleast_1d(np.asarray(model.intercept_, np.float64))
            X64 = X.astype(np.float64)
            loss = "softmax" if softmax else "squared_error"
            value = fastloss.linear_value_and_grad(X64, y, coef, b, loss=loss, alpha=alpha)[0]
            return float(value)

        def ours() -> Any:
            return cls(**settings)

        def numpy_fit() -> Any:
            with fastloss.use_backend("numpy"):
                return fit("numpy", ours)

        def numpy_check() -> float:
            with fastloss.use_backend("numpy"):
                return objective_at("numpy", ours)

        impls: Impls = {
            "fastloss": Work(lambda: fit("fastloss", ours),
                             check=lambda: objective_at("fastloss", ours)),
            "numpy": Work(numpy_fit, check=numpy_check),
        }
        sk = peers.sklearn_linear_models()
        if sk is not None:
            peer = ((lambda: sk.LogisticRegression(C=1.0)) if softmax
                    else (lambda: sk.LinearRegression()))
            impls["sklearn"] = Work(lambda: fit("sklearn", peer), check=lambda: None)
        return impls

    how = f"optimizer={row.optimizer!r}" if row.optimizer else "defaults"
    peer = "LogisticRegression(C=1)" if softmax else "LinearRegression()"
    shape = f"({rows}, {d}) X" + (f", C={c}" if softmax else "")
    label = f"fit {row.model}, {how}, {shape}"
    return Case(row.kernel, setup, sizes=(rows * d,), label=label,
                what=f"{row.model}({how}).fit, {shape}, vs scikit-learn's {peer}")


def digest_sizes(rows: Sequence[Row]) -> Dict[str, Tuple[int, ...]]:
    """Each row's kernel and the size the README's digest shows it at: the issue's problem
    (an objective row's ``elements``, a fit's X)."""
    return {row.kernel: (row.samples * row.features if isinstance(row, FitRow)
                         else row.elements,) for row in rows}


def model_cases(rows: Sequence[Row]) -> List[Case]:
    """One case per row (see the module docstring)."""
    return [_fit_case(row) if isinstance(row, FitRow) else
            _hessp_case(row) if isinstance(row, HesspRow) else _objective_case(row)
            for row in rows]
