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

Model-fit rows (an estimator's whole ``fit``) go in :data:`MODEL_ROWS` as further row kinds
with their own ``*_case`` function, appended to :func:`model_cases`.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import numpy as np

import fastloss
from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, Work

#: alpha of every objective case: a penalty makes the peers' L2 conventions matter
OBJECTIVE_ALPHA = 1e-3
#: scikit-learn's base loss of each of our losses (same values: see the module docstring)
SKLEARN_BASE_LOSS = {"squared_error": "HalfSquaredError", "logistic": "HalfBinomialLoss",
                     "softmax": "HalfMultinomialLoss"}


class ObjectiveRow(NamedTuple):
    """One objective+gradient case: ``loss`` on ``features`` features (``classes`` for
    softmax), fastloss on ``threads`` threads (None: the run's default)."""

    loss: str
    features: int
    classes: int = 1
    threads: Optional[int] = 1

    @property
    def kernel(self) -> str:
        name = f"objective_{self.loss}_d{self.features}"
        name += f"_c{self.classes}" if self.loss == "softmax" else ""
        return name + (f"_{self.threads}threads" if self.threads != 1 else "")


MODEL_ROWS = (ObjectiveRow("softmax", 50, 10), ObjectiveRow("logistic", 20),
              ObjectiveRow("logistic", 100), ObjectiveRow("squared_error", 8),
              ObjectiveRow("logistic", 20, threads=2))


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


def model_cases(rows: Sequence[ObjectiveRow]) -> List[Case]:
    """One case per row (see the module docstring)."""
    return [_objective_case(row) for row in rows]
