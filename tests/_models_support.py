"""Shared helpers of the fastloss.models tests (tests/test_models_*.py): optimizer settings
that converge on the small problems, a synthetic regression problem, and the least-squares
closed form."""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

# settings under which each optimizer converges on the small standardized problems below
_MINIBATCH: Dict[str, Any] = dict(max_iter=150, batch_size=16)
SETTINGS = {
    "sgd": dict(lr=0.01, max_iter=60),
    **{name: dict(_MINIBATCH, lr=lr) for name, lr in
       [("momentum", 0.05), ("rmsprop", 0.01), ("adam", 0.05), ("adamw", 0.05),
        ("nadam", 0.05), ("radam", 0.05), ("adamax", 0.1), ("lion", 0.005)]},
    "adagrad": dict(_MINIBATCH, lr=0.5, max_iter=200),
    "cg": dict(max_iter=200, tol=1e-10),
    "lbfgs": dict(max_iter=200, tol=1e-8),
    "cholesky": {},
    "auto": {},
}


def settings_for(optimizer: str, **overrides: Any) -> Dict[str, Any]:
    return {**SETTINGS[optimizer], **overrides}


def regression_problem(rng: np.random.Generator, n: int = 400, d: int = 5,
                       noise: float = 0.0) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, coef)``: standard normal X, y = X coef + 0.7 (+ noise)."""
    X = rng.normal(size=(n, d))
    coef = rng.normal(size=d)
    y = X @ coef + 0.7 + noise * rng.normal(size=n)
    return X, y, coef


def least_squares(X: np.ndarray, y: np.ndarray,
                  alpha: float = 0.0) -> Tuple[np.ndarray, float]:
    """Closed form of mean(0.5 (Xw + b - y)^2) + alpha/2 |w|^2 (intercept unpenalized)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    H = A.T @ A / n
    H[:d, :d] += alpha * np.eye(d)
    sol = np.linalg.solve(H, A.T @ y / n)
    return sol[:d], sol[d]
