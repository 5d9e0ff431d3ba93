"""SoftmaxRegression: multinomial logistic regression."""

from __future__ import annotations

from typing import Any, Dict, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._validation import NON_NEGATIVE, check_real, is_dask_collection, reject_masked
from fastloss.models._base import _LinearModel
from fastloss.models._sklearn import _check_lengths, _check_sample_weight, _column_y_to_1d


class SoftmaxRegression(_LinearModel):
    """Multinomial logistic regression (softmax + cross-entropy) trained by a fastloss optimizer.

    ``predict_proba(X) = softmax(X @ coef_.T + intercept_)``. Binary classification is the
    two-class case (two columns of weights, as in PyTorch's two-logit formulation; scikit-learn's
    ``LogisticRegression`` keeps one). Class labels may be any sortable values; ``classes_``
    holds them in sorted order.

    Parameters are those of :class:`LinearRegression` except ``loss`` (always
    ``"cross_entropy"``), ``epsilon`` and the ``"cholesky"`` optimizer, plus:

    lr_schedule : {"constant", "invscaling", "optimal", "adaptive"} or None, default None
        As in :class:`LinearRegression`, except that None is ``"constant"`` for every
        optimizer (torch.optim's fixed rate; scikit-learn's SGDClassifier does not use
        ``invscaling`` either).
    class_weight : None, "balanced" or dict, default None
        Weights of the classes in the objective, multiplying ``sample_weight``: a dict maps
        class labels to weights (others 1); ``"balanced"`` is scikit-learn's
        ``n_samples / (n_classes * count(class))`` over the ``y`` passed to ``fit``.

    With ``alpha = 1 / (C n)``, the default (``"lbfgs"``) minimizes what scikit-learn's
    ``LogisticRegression(C=C)`` does for more than two classes.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coef_ : ndarray (n_classes, n_features)  (a view of the trained (n_features, n_classes) weights)
    intercept_ : ndarray (n_classes,)
    n_iter_, loss_curve_, n_features_in_, feature_names_in_ : as in :class:`LinearRegression`
    """

    _loss_names = ("cross_entropy",)

    def __init__(self, *, optimizer: str = "lbfgs", lr: Optional[float] = None, max_iter: int = 200,
                 batch_size: int = 32, alpha: float = 0.0, momentum: float = 0.9,
                 tol: Optional[float] = 1e-4, n_iter_no_change: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None, fit_intercept: bool = True,
                 lr_schedule: Optional[str] = None, power_t: float = 0.25,
                 class_weight: Union[None, str, Dict[Any, float]] = None,
                 n_threads: Optional[int] = None) -> None:
        self._set_params_from(locals())

    class_weight: Union[None, str, Dict[Any, float]]
    _classes_arg: Any = None  # partial_fit's classes, until its targets are checked

    def _validate_params(self) -> None:
        super()._validate_params()
        cw = self.class_weight
        if not (cw is None or (isinstance(cw, str) and cw == "balanced")
                or isinstance(cw, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict of class label "
                             f"-> weight, got {cw!r}")
        if isinstance(cw, dict):
            for label, weight in cw.items():
                check_real(weight, f"class_weight[{label!r}]", NON_NEGATIVE)

    def _weights(self, t: NDArray[Any], sw: Optional[NDArray[Any]], *,
                 partial: bool) -> Optional[NDArray[Any]]:
        """``sample_weight`` times the weight of each sample's class (``class_weight``)."""
        cw = self.class_weight
        if cw is None:
            return sw
        if isinstance(cw, str) and partial:
            raise ValueError("class_weight='balanced' is not supported by partial_fit: "
                             "the class counts of one batch are not those of the data; "
                             "pass a dict of the weights instead")
        counts = np.bincount(t, minlength=len(self.classes_)) if isinstance(cw, str) else None
        weights = self._class_weights(counts)[t]
        return weights if sw is None else weights * sw

    def _class_weights(self, counts: Optional[NDArray[Any]]) -> NDArray[np.float64]:
        """The weight of each class (n_classes,) under ``class_weight`` (not None);
        ``counts``, the samples of each class, is needed for ``"balanced"`` only."""
        cw = self.class_weight
        k = len(self.classes_)
        if isinstance(cw, str):
            assert counts is not None
            c = np.asarray(counts, dtype=np.float64)
            per_class = np.where(c > 0, c.sum() / (k * np.maximum(c, 1)), 0.0)
        else:
            assert cw is not None
            unknown = [label for label in cw if not np.any(self.classes_ == label)]
            if unknown:
                raise ValueError(f"class_weight names labels that are not classes: "
                                 f"{unknown[:5]!r} (classes_: {self.classes_[:10]!r})")
            per_class = np.ones(k)
            for i, label in enumerate(self.classes_):
                if label in cw:
                    per_class[i] = float(cw[label])
        return per_class

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
        if self._classes_arg is not None and not hasattr(self, "classes_"):
            self.classes_ = self._classes_arg
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

    def fit(self, X: ArrayLike, y: ArrayLike,
            sample_weight: Optional[ArrayLike] = None) -> "SoftmaxRegression":
        """Train from zero weights for up to ``max_iter`` epochs (iterations);
        ``sample_weight`` and Dask arrays as in :meth:`LinearRegression.fit`. Returns
        ``self``."""
        return self._fit(X, y, sample_weight, reset=True, n_epochs=int(self.max_iter),
                         early_stopping=True)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: Optional[ArrayLike] = None,
                    sample_weight: Optional[ArrayLike] = None) -> "SoftmaxRegression":
        """One more epoch over ``(X, y)``. The first call needs ``classes`` (every label that
        will ever be seen) unless ``y`` already holds them all. Returns ``self``."""
        if classes is not None and not hasattr(self, "classes_"):
            reject_masked(classes, "classes")
            self._classes_arg = np.unique(np.asarray(classes))
        try:
            return self._fit(X, y, sample_weight, reset=False, n_epochs=1,
                             early_stopping=False)
        finally:
            self._classes_arg = None

    def decision_function(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """The logits ``X @ coef_.T + intercept_``, shape (n_samples, n_classes); with two
        classes, scikit-learn's convention: the score of the second class, ``z_1 - z_0``,
        shape (n_samples,)."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "decision_function", X)
        z = self._decision(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Class probabilities, shape (n_samples, n_classes), rows summing to 1."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "predict_proba", X)
        z = self._decision(X)
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        return p

    def predict_log_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """Log class probabilities ``log_softmax(logits)``, computed stably (no ``log`` of an
        underflowed probability), shape (n_samples, n_classes)."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "predict_log_proba", X)
        z = self._decision(X)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each sample, shape (n_samples,)."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "predict", X)
        scores = self._decision(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Mean accuracy (weighted by ``sample_weight``); computed on the cluster when any
        argument is a Dask array."""
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            from fastloss.dask._predict import score

            return score(self, X, y, sample_weight)
        reject_masked(y, "y")
        hits = self.predict(X) == np.asarray(y).ravel()
        sw = _check_sample_weight(sample_weight, len(hits))
        return float(np.mean(hits) if sw is None else np.average(hits, weights=sw))

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(), input_tags=InputTags())
