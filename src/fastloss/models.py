"""Linear models trained with fastloss's kernels: the tutorial's two applications.

:class:`LinearRegression` (squared, absolute or Huber loss) and :class:`SoftmaxRegression`
(multinomial cross-entropy; binary logistic regression is its two-class case) follow the
scikit-learn estimator API (``fit``, ``partial_fit``, ``predict``, ``score``,
``get_params``/``set_params``, fitted attributes ending in ``_``) without depending on
scikit-learn. With scikit-learn >= 1.6 installed (its tags API) they pass its estimator checks
and work inside a ``Pipeline``.

Training minimizes the mean loss over the samples plus an L2 penalty on the weights (never
the intercept)::

    objective(coef, intercept) = mean_i loss(x_i . coef + intercept, y_i) + alpha / 2 * ||coef||^2

with the optimizer chosen by name:

``"sgd"``
    plain SGD, one update per sample, a whole epoch in one C call
    (:func:`fastloss.linear.sgd_epoch`); ``batch_size`` is ignored.
``"momentum"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``, ``"adamw"``
    mini-batches of ``batch_size`` samples, each step's loss and gradient from the fused loss
    kernels and the update from :mod:`fastloss.optim` (torch.optim semantics). For
    ``"adamw"``, ``alpha`` is AdamW's decoupled weight decay (applied to every parameter, as
    ``torch.optim.AdamW`` does) instead of a penalty in the objective.
``"cg"``
    full-batch nonlinear conjugate gradient (:func:`fastloss.optim.minimize_cg`);
    ``max_iter`` counts CG iterations, ``tol`` is the gradient tolerance.

An epoch visits every sample once; with ``shuffle=True`` the order is drawn from a generator
seeded by ``random_state``, so a fit is deterministic for a given seed. Training stops after
``max_iter`` epochs, or earlier when the epoch's mean loss has not improved by ``tol`` for
``n_iter_no_change`` epochs in a row (``tol=None`` disables early stopping).

The losses are those of :mod:`fastloss.linear` (one implementation of the objective,
:func:`fastloss.linear.linear_value_and_grad`): ``loss="squared_error"`` is *half* the
squared error, ``0.5 (p - y)^2``, as in scikit-learn's ``SGDRegressor`` and in
:func:`fastloss.sgd_epoch`, so ``alpha`` and ``lr`` mean what they mean there (it is half of
PyTorch's ``mse_loss``).
"""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import linear, optim
from fastloss._validation import (NON_NEGATIVE, POSITIVE, check_choice, check_int, check_real,
                                  reject_masked)

__all__ = ["LinearRegression", "SoftmaxRegression", "NotFittedError"]

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "cg")
REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber")


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before ``fit``; a ValueError and an AttributeError, like
    scikit-learn's exception of the same name (and an instance of it too when scikit-learn
    has been imported)."""


def _not_fitted_error(message: str) -> NotFittedError:
    # Only when scikit-learn is already loaded (its checks, a Pipeline): never import it here.
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return NotFittedError(message)
    cls = _NOT_FITTED_CLASSES.get(id(sklearn_exceptions))
    if cls is None:
        cls = type("NotFittedError", (NotFittedError, sklearn_exceptions.NotFittedError), {})
        _NOT_FITTED_CLASSES[id(sklearn_exceptions)] = cls
    return cls(message)


_NOT_FITTED_CLASSES: Dict[int, type] = {}


# ---- input checks (scikit-learn's messages, so its estimator checks recognise them) -----

def _check_X(X: Any, *, name: str = "X") -> NDArray[np.floating[Any]]:
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(f"{name}: sparse input is not supported; pass a dense array "
                        "(e.g. X.toarray())")
    reject_masked(X, name)
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError(f"{name}: Complex data not supported")
    if X.dtype != np.float32:
        X = X.astype(np.float64)  # object or string arrays raise TypeError/ValueError here
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array for {name}, got {X.ndim}D array instead: "
                         "Reshape your data either using array.reshape(-1, 1) if your data "
                         "has a single feature or array.reshape(1, -1) if it contains a "
                         "single sample.")
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) while a minimum "
                         f"of 1 is required ({name}).")
    if X.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) while a minimum "
                         f"of 1 is required ({name}).")
    if not np.isfinite(X).all():
        raise ValueError(f"Input {name} contains NaN or inf.")
    return X


def _column_y_to_1d(y: NDArray[Any]) -> NDArray[Any]:
    if y.ndim == 2 and y.shape[1] == 1:
        # scikit-learn's warning class when it is loaded (its checks look for it), never an import
        sklearn_exceptions = sys.modules.get("sklearn.exceptions")
        Warn = getattr(sklearn_exceptions, "DataConversionWarning", UserWarning)
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples,), for example using ravel().",
                      Warn, stacklevel=3)
        return y.ravel()
    return y


def _check_y_present(y: Any, estimator: Any) -> None:
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the "
                         "target y is None")


def _check_lengths(X: NDArray[Any], y: NDArray[Any]) -> None:
    if y.ndim != 1:
        raise ValueError(f"y must be 1-dimensional (n_samples,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"X has {X.shape[0]}, y has {y.shape[0]}")


# ---- the shared estimator machinery -----------------------------------------------------

class _Params:
    """get_params / set_params / repr / clone support from the __init__ signature, as in
    scikit-learn's BaseEstimator (without importing it)."""

    @classmethod
    def _param_names(cls) -> List[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values()
                      if p.name != "self" and p.kind == p.KEYWORD_ONLY)

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor's parameters as a dict (``deep`` is accepted for compatibility)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Any:
        """Set constructor parameters by name; returns ``self``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator "
                                 f"{type(self).__name__}; valid parameters: {valid}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not (v is defaults.get(k) or _equal(v, defaults.get(k)))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "coef_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise _not_fitted_error(f"This {type(self).__name__} instance is not fitted yet. "
                                    "Call 'fit' with appropriate arguments before using this "
                                    "estimator.")


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd objects are simply "changed"
        return False


class _LinearModel(_Params):
    _loss_names: Tuple[str, ...] = ()

    # set by __init__ of the subclasses
    loss: str
    optimizer: str
    lr: float
    max_iter: int
    batch_size: int
    alpha: float
    momentum: float
    tol: Optional[float]
    n_iter_no_change: int
    shuffle: bool
    random_state: Optional[int]
    _generator: Optional[np.random.Generator] = None

    # ---- hyper-parameter validation
    def _validate_params(self) -> None:
        check_choice(self.loss, "loss", self._loss_names)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        for name in ("lr", "alpha", "momentum"):
            check_real(getattr(self, name), name, NON_NEGATIVE)
        for name in ("max_iter", "batch_size", "n_iter_no_change"):
            check_int(getattr(self, name), name, 1)
        if self.tol is not None:
            check_real(self.tol, "tol", NON_NEGATIVE)

    # ---- the objective, on the fused loss kernels
    def _value_and_grad(self, X: NDArray[Any], t: NDArray[Any], W: NDArray[Any],
                        b: NDArray[Any]) -> Tuple[float, NDArray[Any], NDArray[Any]]:
        """Mean loss of the batch + L2 penalty, and its gradient wrt (W, b)."""
        alpha = 0.0 if self.optimizer == "adamw" else float(self.alpha)  # AdamW: decay instead
        value, gW, gb = linear.objective(X, t, W, b, None, self._linear_loss(), alpha,
                                         float(getattr(self, "epsilon", 1.0)))
        assert gb is not None
        return float(value), gW, gb

    def _linear_loss(self) -> str:
        """The loss's name in fastloss.linear."""
        raise NotImplementedError  # pragma: no cover - each subclass defines its loss

    # ---- training
    def _make_optimizer(self, params: List[NDArray[Any]]) -> Any:
        name, lr = self.optimizer, float(self.lr)
        if name == "momentum":
            return optim.SGD(params, lr=lr, momentum=float(self.momentum))
        if name == "adagrad":
            return optim.Adagrad(params, lr=lr)
        if name == "rmsprop":
            return optim.RMSprop(params, lr=lr)
        if name == "adam":
            return optim.Adam(params, lr=lr)
        return optim.AdamW(params, lr=lr, weight_decay=float(self.alpha))

    def _init_state(self, n_features: int, dtype: np.dtype[Any]) -> None:
        n_out = self._n_outputs()
        self._W = np.zeros((n_features, n_out) if n_out else n_features, dtype=dtype)
        self._b = np.zeros(n_out if n_out else 1, dtype=dtype)
        self._opt_state: Any = None
        self._opt_key: Any = None
        self.n_features_in_ = n_features
        self.n_iter_ = 0
        self.loss_curve_: List[float] = []

    def _n_outputs(self) -> int:
        return 0

    def _rng(self) -> np.random.Generator:
        # one stream per fit; partial_fit keeps drawing from it, so a sequence of calls is
        # reproducible from the seed too
        if self._generator is None:
            self._generator = np.random.default_rng(self.random_state)
        return self._generator

    def _run_epochs(self, X: NDArray[Any], t: NDArray[Any], n_epochs: int,
                    early_stopping: bool) -> None:
        if self.optimizer == "cg":
            self._fit_cg(X, t)
            return
        # optimizer state carries over between partial_fit calls only while the optimizer and
        # its state-shaping settings stay the same (set_params may change them in between)
        key = (self.optimizer, float(self.momentum), float(self.alpha))
        if key != self._opt_key:
            self._opt_state, self._opt_key = None, key
        if self.optimizer != "sgd":
            if self._opt_state is None:
                self._opt_state = self._make_optimizer([self._W, self._b])
            self._opt_state.lr = float(self.lr)  # lr may have changed between calls
        best, no_change = np.inf, 0
        for _ in range(n_epochs):
            if self.optimizer == "sgd":
                epoch_loss = self._sgd_epoch(X, t)
            else:
                epoch_loss = self._minibatch_epoch(X, t)
            self.loss_curve_.append(epoch_loss)
            self.n_iter_ += 1
            if not np.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"{type(self).__name__}: the training loss became {epoch_loss}; "
                    f"lower lr (now {self.lr}) or standardize X")
            if early_stopping and self.tol is not None:
                if epoch_loss > best - self.tol:
                    no_change += 1
                    if no_change >= self.n_iter_no_change:
                        break
                else:
                    no_change = 0
                best = min(best, epoch_loss)

    def _order(self, n: int) -> Optional[NDArray[np.int64]]:
        return self._rng().permutation(n).astype(np.int64) if self.shuffle else None

    def _minibatch_epoch(self, X: NDArray[Any], t: NDArray[Any]) -> float:
        n = X.shape[0]
        order = self._order(n)
        total = 0.0
        for start in range(0, n, self.batch_size):
            rows = slice(start, start + self.batch_size) if order is None \
                else order[start:start + self.batch_size]
            Xb, tb = X[rows], t[rows]
            value, gW, gb = self._value_and_grad(Xb, tb, self._W, self._b)
            self._opt_state.step([gW, gb])
            total += value * Xb.shape[0]
        return total / n

    def _sgd_epoch(self, X: NDArray[Any], t: NDArray[Any]) -> float:
        seed = None
        if self._opt_state is None and self.shuffle:
            seed = int(self._rng().integers(2**63))
        value, self._opt_state = linear.sgd_epoch(
            X, t, self._W, self._b, self._opt_state, loss=self._linear_loss(), optimizer="sgd",
            lr=float(self.lr), alpha=float(self.alpha),
            epsilon=float(getattr(self, "epsilon", 1.0)), shuffle=self.shuffle, seed=seed)
        # the epoch's mean loss is of the samples before their updates, without the penalty
        return float(value) + 0.5 * float(self.alpha) * float(np.vdot(self._W, self._W))

    def _fit_cg(self, X: NDArray[Any], t: NDArray[Any]) -> None:
        W_shape, nW = self._W.shape, self._W.size
        dtype = self._W.dtype
        Xd = X.astype(np.float64, copy=False)

        # the last point evaluated and its objective: the line search usually ends on the
        # iterate, so the curve need not pay a second pass over the data for it
        last: List[Any] = [None, 0.0]

        def fun(theta: NDArray[np.float64]) -> Tuple[float, NDArray[np.float64]]:
            W = theta[:nW].reshape(W_shape)
            b = theta[nW:]
            value, gW, gb = self._value_and_grad(Xd, t, W, b)
            last[:] = theta.copy(), value
            return value, np.concatenate([gW.ravel(), gb.ravel()])

        theta0 = np.concatenate([self._W.ravel(), self._b.ravel()]).astype(np.float64)
        curve: List[float] = []

        def record(theta: NDArray[np.float64]) -> None:
            curve.append(last[1] if np.array_equal(theta, last[0]) else fun(theta)[0])

        gtol = 1e-5 if self.tol is None else max(float(self.tol), 1e-12)
        res = optim.minimize_cg(fun, theta0, jac=True, gtol=gtol, maxiter=int(self.max_iter),
                                callback=record)
        self._W[...] = res.x[:nW].reshape(W_shape).astype(dtype)
        self._b[...] = res.x[nW:].astype(dtype)
        self.loss_curve_.extend(curve)
        self.n_iter_ += int(res.nit)

    # ---- public API shared by both models
    def _fit(self, X: Any, y: Any, *, reset: bool, n_epochs: int, early_stopping: bool) -> Any:
        self._validate_params()
        _check_y_present(y, self)
        X = _check_X(X)
        t = self._prepare_targets(y, X, reset=reset)
        if reset or not hasattr(self, "_W"):
            self._generator = None
            self._init_state(X.shape[1], X.dtype)
        else:
            self._check_n_features(X)
        X = X.astype(self._W.dtype, copy=False)
        t = t.astype(self._W.dtype, copy=False) if t.dtype.kind == "f" else t
        self._run_epochs(X, t, n_epochs, early_stopping)
        self._publish()
        return self

    def _decision(self, X: Any) -> NDArray[Any]:
        self._check_fitted()
        X = _check_X(X)
        self._check_n_features(X)
        return X.astype(self._W.dtype, copy=False) @ self._W + self._b

    def _check_n_features(self, X: NDArray[Any]) -> None:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        raise NotImplementedError  # pragma: no cover

    def _publish(self) -> None:
        raise NotImplementedError  # pragma: no cover


# ---- regression -------------------------------------------------------------------------

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

    def __init__(self, *, loss: str = "squared_error", optimizer: str = "adam",
                 lr: float = 0.01, max_iter: int = 200, batch_size: int = 32,
                 alpha: float = 0.0, momentum: float = 0.9, epsilon: float = 1.0,
                 tol: Optional[float] = 1e-4, n_iter_no_change: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None) -> None:
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.momentum = momentum
        self.epsilon = epsilon
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state

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


# ---- classification ---------------------------------------------------------------------

class SoftmaxRegression(_LinearModel):
    """Multinomial logistic regression (softmax + cross-entropy) trained by a fastloss optimizer.

    ``predict_proba(X) = softmax(X @ coef_.T + intercept_)``. Binary classification is the
    two-class case (two columns of weights, as in PyTorch's two-logit formulation; scikit-learn's
    ``LogisticRegression`` keeps one). Class labels may be any sortable values; ``classes_``
    holds them in sorted order.

    Parameters are those of :class:`LinearRegression` except ``loss`` (always
    ``"cross_entropy"``) and ``epsilon``.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coef_ : ndarray (n_classes, n_features)  (a view of the trained (n_features, n_classes) weights)
    intercept_ : ndarray (n_classes,)
    n_iter_, loss_curve_, n_features_in_ : as in :class:`LinearRegression`
    """

    _loss_names = ("cross_entropy",)

    def __init__(self, *, optimizer: str = "adam", lr: float = 0.01, max_iter: int = 200,
                 batch_size: int = 32, alpha: float = 0.0, momentum: float = 0.9,
                 tol: Optional[float] = 1e-4, n_iter_no_change: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None) -> None:
        self.optimizer = optimizer
        self.lr = lr
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.alpha = alpha
        self.momentum = momentum
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state

    loss = "cross_entropy"

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _linear_loss(self) -> str:
        return "softmax"

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        reject_masked(y, "y")
        y = _column_y_to_1d(np.asarray(y))
        _check_lengths(X, y)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or inf.")
        if y.dtype.kind == "f" and np.any(y != np.round(y)):
            raise ValueError("Unknown label type: continuous; SoftmaxRegression needs class "
                             "labels (integers or strings)")
        if y.dtype.kind in "cV":
            raise ValueError(f"Unknown label type: {y.dtype}")
        if reset or not hasattr(self, "classes_"):
            classes = np.unique(y)
            if len(classes) < 2:
                raise ValueError("SoftmaxRegression needs samples of at least 2 classes in "
                                 f"the data, but the data contains only one class: {classes[0]!r}")
            self.classes_ = classes
        labels = np.searchsorted(self.classes_, y)
        labels = np.minimum(labels, len(self.classes_) - 1)
        if np.any(self.classes_[labels] != y):
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            raise ValueError(f"y contains labels not seen in the first fit: {unknown[:5]!r}")
        return labels.astype(np.int64)

    def _publish(self) -> None:
        self.coef_ = self._W.T
        self.intercept_ = self._b

    def fit(self, X: ArrayLike, y: ArrayLike) -> "SoftmaxRegression":
        """Train from zero weights for up to ``max_iter`` epochs. Returns ``self``."""
        return self._fit(X, y, reset=True, n_epochs=int(self.max_iter), early_stopping=True)

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    classes: Optional[ArrayLike] = None) -> "SoftmaxRegression":
        """One more epoch over ``(X, y)``. The first call needs ``classes`` (every label that
        will ever be seen) unless ``y`` already holds them all. Returns ``self``."""
        if classes is not None and not hasattr(self, "classes_"):
            reject_masked(classes, "classes")
            self.classes_ = np.unique(np.asarray(classes))
        return self._fit(X, y, reset=False, n_epochs=1, early_stopping=False)

    def decision_function(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """The logits ``X @ coef_.T + intercept_``, shape (n_samples, n_classes); with two
        classes, scikit-learn's convention: the score of the second class, ``z_1 - z_0``,
        shape (n_samples,)."""
        z = self._decision(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Class probabilities, shape (n_samples, n_classes), rows summing to 1."""
        z = self._decision(X)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each sample, shape (n_samples,)."""
        scores = self._decision(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean accuracy."""
        reject_masked(y, "y")
        return float(np.mean(self.predict(X) == np.asarray(y).ravel()))

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags())
