"""LinearRegression: squared, absolute or Huber loss."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._validation import POSITIVE, check_real, reject_masked
from fastloss.models._base import _LinearModel
from fastloss.models._sklearn import _check_lengths, _column_y_to_1d

REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber")


class LinearRegression(_LinearModel):
    """Linear regression ``y ~ X @ coef_ + intercept_`` trained by a fastloss optimizer.

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber"}, default "squared_error"
        ``0.5 (p - y)^2`` (half of PyTorch's ``mse_loss``, scikit-learn's ``SGDRegressor``
        squared error), ``|p - y|`` (``l1_loss``) or Huber with threshold ``epsilon``
        (``huber_loss(delta=epsilon)``).
    optimizer : {"sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "cg"}, default "adam"
        See the module docstring.
    lr : float, default 0.01
        Learning rate (step size); unused by ``"cg"``.
    max_iter : int, default 200
        Epochs (CG iterations for ``"cg"``) per ``fit``.
    batch_size : int, default 32
        Samples per mini-batch step (not used by ``"sgd"``, which is per-sample, nor ``"cg"``).
    alpha : float, default 0.0
        L2 penalty ``alpha / 2 * ||coef||^2`` (AdamW: decoupled weight decay).
    momentum : float, default 0.9
        Momentum of the ``"momentum"`` optimizer (torch.optim.SGD's ``momentum``).
    epsilon : float, default 1.0
        Huber threshold (``delta``).
    tol, n_iter_no_change : float or None, int, default 1e-4, 5
        Early stopping on the epoch loss (see the module docstring); for ``"cg"``, ``tol`` is
        the gradient-norm tolerance ``gtol`` (1e-5 when ``None``).
    shuffle, random_state : bool, int or None, default True, None
        Shuffle the samples each epoch, from a generator seeded by ``random_state``.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
    intercept_ : float
    n_iter_ : int, epochs (or CG iterations) run in total
    loss_curve_ : list of float, each epoch's mean objective over its samples, each taken
        before the update it led to (for ``"cg"``: the objective at each iterate)
    n_features_in_ : int
    """

    _loss_names = REGRESSION_LOSSES
    epsilon: float

    def __init__(self, *, loss: str = "squared_error", optimizer: str = "adam",
                 lr: float = 0.01, max_iter: int = 200, batch_size: int = 32,
                 alpha: float = 0.0, momentum: float = 0.9, epsilon: float = 1.0,
                 tol: Optional[float] = 1e-4, n_iter_no_change: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None) -> None:
        self._set_params_from(locals())

    def _validate_params(self) -> None:
        super()._validate_params()
        check_real(self.epsilon, "epsilon", POSITIVE)

    def _linear_loss(self) -> str:
        return "absolute" if self.loss == "absolute_error" else str(self.loss)

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        reject_masked(y, "y")
        y = np.asarray(y)
        if np.iscomplexobj(y):
            raise ValueError("y: Complex data not supported")
        y = _column_y_to_1d(y.astype(np.float64))
        _check_lengths(X, y)
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or inf.")
        return y

    def _publish(self) -> None:
        self.coef_ = self._W
        self.intercept_ = float(self._b[0])

    def fit(self, X: ArrayLike, y: ArrayLike) -> "LinearRegression":
        """Train from zero weights for up to ``max_iter`` epochs. Returns ``self``."""
        return self._fit(X, y, reset=True, n_epochs=int(self.max_iter), early_stopping=True)

    def partial_fit(self, X: ArrayLike, y: ArrayLike) -> "LinearRegression":
        """One more epoch over ``(X, y)``, continuing from the current weights and optimizer
        state (the first call starts from zero). Returns ``self``."""
        return self._fit(X, y, reset=False, n_epochs=1, early_stopping=False)

    def predict(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """``X @ coef_ + intercept_``, shape (n_samples,)."""
        return self._decision(X)

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Coefficient of determination R^2 of the predictions."""
        reject_masked(y, "y")
        y_true = np.asarray(y, dtype=np.float64).ravel()
        resid = y_true - self.predict(X)
        denom = float(((y_true - y_true.mean()) ** 2).sum())
        num = float((resid ** 2).sum())  # float64: y_true is
        if denom == 0.0:
            return 1.0 if num == 0.0 else 0.0
        return 1.0 - num / denom

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(estimator_type="regressor", target_tags=TargetTags(required=True),
                    regressor_tags=RegressorTags(), input_tags=InputTags())


