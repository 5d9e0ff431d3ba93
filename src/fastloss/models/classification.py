"""SoftmaxRegression: multinomial logistic regression."""

from __future__ import annotations

from typing import Any, Dict, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._validation import is_dask_collection
from fastloss.models._classifier import _Classifier, accuracy


class SoftmaxRegression(_Classifier):
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
    early_stopping, validation_fraction : bool, float, default False, 0.1
        As in :class:`LinearRegression`, the score the accuracy, the held-out part
        stratified by class (each class gives it its share of the samples).

    With ``alpha = 1 / (C n)``, the default (``"lbfgs"``) minimizes what scikit-learn's
    ``LogisticRegression(C=C)`` does for more than two classes. On dense float64 X of a
    million values or more it runs in float32 first, then confirms (or finishes) in float64
    (see :mod:`fastloss.models`).

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
                 n_threads: Optional[int] = None, early_stopping: bool = False,
                 validation_fraction: float = 0.1) -> None:
        self._set_params_from(locals())

    loss = "cross_entropy"

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _linear_loss(self) -> str:
        return "softmax"

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        return self._class_indices(y, X, reset=reset)

    def _score_of(self, z: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        return accuracy(np.argmax(z, axis=1) == t, sw)

    def _publish(self) -> None:
        self.coef_ = self._W.T
        self.intercept_ = self._b

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

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(),
                    input_tags=InputTags(sparse=self._trains_on_sparse(str(self.optimizer))))
