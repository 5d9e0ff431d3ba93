"""scikit-learn compatibility without scikit-learn: its exception, its input checks and their
messages (so that its estimator checks recognise them), and get_params/set_params/repr."""

from __future__ import annotations

import inspect
import sys
import warnings
from typing import Any, Dict, List, Optional

import numpy as np
from numpy.typing import NDArray

from fastloss._sparse import is_sparse
from fastloss._validation import reject_masked


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


class ConvergenceWarning(UserWarning):
    """Warned when training stops at ``max_iter`` before its tolerance is met; a
    UserWarning, and scikit-learn's ``ConvergenceWarning`` too when scikit-learn has been
    imported (so its filters and checks see it)."""


_CONVERGENCE_CLASSES: Dict[int, type] = {}


def _convergence_warning_class() -> type:
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return ConvergenceWarning
    cls = _CONVERGENCE_CLASSES.get(id(sklearn_exceptions))
    if cls is None:
        cls = type("ConvergenceWarning",
                   (ConvergenceWarning, sklearn_exceptions.ConvergenceWarning), {})
        _CONVERGENCE_CLASSES[id(sklearn_exceptions)] = cls
    return cls


def warn_not_converged(message: str) -> None:
    """Warn ``message`` as a ConvergenceWarning pointing at the caller's ``fit`` call: the
    first frame outside fastloss.models and fastloss.dask (a fit on Dask arrays)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(
            ("fastloss.models", "fastloss.dask")):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, _convergence_warning_class(), stacklevel=level)


# ---- input checks (scikit-learn's messages, so its estimator checks recognise them) -----

def _check_X(X: Any, *, name: str = "X", finite: bool = True,
             sparse_ok: bool = False) -> Any:
    """``X`` as a 2-D float32 or float64 array, scikit-learn's checks and messages; with
    ``finite=False`` the caller checks for NaN and inf itself (from a pass it makes anyway).
    With ``sparse_ok`` a scipy.sparse ``X`` comes back as a checked CSR matrix
    (:func:`_check_sparse_X`)."""
    if is_sparse(X) and sparse_ok:
        return _check_sparse_X(X, name)
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(f"{name}: sparse input is not supported here; pass a dense array "
                        "(e.g. X.toarray())")
    reject_masked(X, name)
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError(f"{name}: Complex data not supported")
    if X.dtype != np.float32:
        # no copy of float64 data; object or string arrays raise TypeError/ValueError here
        X = X.astype(np.float64, copy=False)
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
    if finite:
        _check_finite(X, name)
    return X


def _check_sparse_X(X: Any, name: str = "X") -> Any:
    """A scipy.sparse ``X`` as a CSR matrix of float32 or float64 values (scikit-learn's
    ``accept_sparse="csr"``: another format is converted, a copy; integer values become
    float64), 2-D, with a sample and a feature, finite stored values; the structure is
    checked whole by :func:`fastloss._sparse.csr_rows` where the kernels read it."""
    if X.format != "csr":
        X = X.tocsr()
    if X.dtype.kind != "f" or X.dtype.itemsize not in (4, 8):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
        X = X.astype(np.float64)
    if len(X.shape) != 2:
        raise ValueError(f"Expected 2D array for {name}, got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} "
                         f"feature(s) (shape={X.shape}) while a minimum of 1 is required "
                         f"({name}).")
    _check_finite(np.asarray(X.data), name)
    return X


def _check_finite(X: NDArray[Any], name: str = "X") -> None:
    if not np.isfinite(X).all():
        raise ValueError(f"Input {name} contains NaN or inf.")


def _feature_names(X: Any) -> Optional[NDArray[Any]]:
    """The column names of a DataFrame-like ``X`` (``X.columns``) when all are strings, as
    scikit-learn takes them; None for arrays and for non-string names."""
    columns = getattr(X, "columns", None)
    if columns is None or hasattr(X, "tocsr"):
        return None
    names = np.asarray(list(columns), dtype=object)
    kinds = {type(name).__name__ for name in names}
    strings = [isinstance(name, str) for name in names]
    if any(strings) and not all(strings):
        raise TypeError("Feature names are only supported if all input features have string "
                        f"names, but your input has {sorted(kinds)} as feature name / column "
                        "name types. Convert all feature names to strings.")
    return names if len(names) and all(strings) else None


def _check_feature_names(estimator: Any, X: Any, *, reset: bool) -> None:
    """Record (``reset``) or check ``feature_names_in_`` as scikit-learn does: fitted with
    names, ``X`` must have the same names in the same order (ValueError); names on one side
    only is a warning."""
    names = _feature_names(X)
    if reset:
        if names is None:
            estimator.__dict__.pop("feature_names_in_", None)
        else:
            estimator.feature_names_in_ = names
        return
    fitted = getattr(estimator, "feature_names_in_", None)
    cls = type(estimator).__name__
    if fitted is None and names is None:
        return
    if names is None:
        warnings.warn(f"X does not have valid feature names, but {cls} was fitted with "
                      "feature names", UserWarning, stacklevel=4)
        return
    if fitted is None:
        warnings.warn(f"X has feature names, but {cls} was fitted without feature names",
                      UserWarning, stacklevel=4)
        return
    if len(fitted) != len(names) or np.any(fitted != names):
        unexpected = [n for n in names if n not in set(fitted)]
        missing = [n for n in fitted if n not in set(names)]
        detail = ""
        if unexpected:
            detail += f"Feature names unseen at fit time: {unexpected[:5]}\n"
        if missing:
            detail += f"Feature names seen at fit time, yet now missing: {missing[:5]}\n"
        if not detail:
            detail = "Feature names must be in the same order as they were in fit.\n"
        raise ValueError("The feature names should match those that were passed during "
                         "fit.\n" + detail)


def _check_sample_weight(sample_weight: Any, n: int) -> Optional[NDArray[np.float64]]:
    """``sample_weight`` as a float64 ``(n,)`` array of finite weights >= 0 (a scalar is
    every sample's weight), or None."""
    if sample_weight is None:
        return None
    reject_masked(sample_weight, "sample_weight")
    sw = np.asarray(sample_weight)
    if sw.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be a real numeric array, got dtype {sw.dtype}")
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({n},)!")
    sw = sw.astype(np.float64)
    if not np.isfinite(sw).all() or (n and sw.min() < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    if n and not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number (the "
                         "weighted mean loss is undefined otherwise)")
    return sw


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

    def _set_params_from(self, args: Dict[str, Any]) -> None:
        """``__init__``'s body: store each constructor argument as is, under its own name
        (scikit-learn's convention; validation happens in ``fit``)."""
        for name in self._param_names():
            setattr(self, name, args[name])

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


