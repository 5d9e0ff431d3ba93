"""SGDClassifier: a binary linear classifier trained by scikit-learn's plain SGD."""

from __future__ import annotations

from typing import Any, Dict, Optional, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._validation import NON_NEGATIVE, POSITIVE, check_choice, check_real
from fastloss._validation import is_dask_collection
from fastloss.models._base import LR_SCHEDULES
from fastloss.models._classifier import _Classifier, accuracy
from fastloss.models._sgd_options import _PlainSGDModel

#: SGDClassifier's losses, scikit-learn's names; fastloss.linear's are the same except
#: "log_loss", which is "logistic" there
CLASSIFIER_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge")
#: the losses with probability estimates (scikit-learn's)
PROBA_LOSSES = ("log_loss", "modified_huber")


class SGDClassifier(_Classifier, _PlainSGDModel):
    """A binary linear classifier ``sign(X @ coef_.T + intercept_)`` trained by plain
    per-sample SGD, scikit-learn's ``SGDClassifier`` for two classes: the same parameters,
    defaults and fitted attributes, and for ``shuffle=False`` the same trajectory (the
    epochs run in :func:`fastloss.sgd_epoch`'s C loop, scikit-learn's algorithm).

    The objective is ``sum_i w_i l(y_i z_i) / n + alpha ((1 - r) ||coef||^2 / 2 + r
    ||coef||_1)`` with ``z_i = x_i . coef + b``, ``y_i = +1`` for ``classes_[1]`` and
    ``-1`` for ``classes_[0]``, ``w_i`` the sample weight times the class weight.
    Only two classes: ``fit`` raises ``ValueError`` for more (scikit-learn's one-vs-rest
    is not implemented; :class:`SoftmaxRegression` fits any number of classes).

    Parameters
    ----------
    loss : {"hinge", "log_loss", "modified_huber", "squared_hinge"}, default "hinge"
        With ``m = y z``: ``max(0, 1 - m)`` (linear SVM), ``log(1 + exp(-m))`` (logistic
        regression), ``max(0, 1 - m)^2`` for ``m >= -1`` and ``-4 m`` below, ``max(0, 1 -
        m)^2`` (see :mod:`fastloss.linear`).
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
    alpha : float, default 1e-4
    l1_ratio : float in [0, 1], default 0.15
        The penalty, as :class:`LinearRegression`'s (``SGDClassifier``'s).
    fit_intercept : bool, default True
    max_iter : int, default 1000
        Epochs per ``fit``.
    tol : float or None, default 1e-3
        Stop when the epoch objective has not improved by ``tol`` for ``n_iter_no_change``
        epochs (None: run ``max_iter`` epochs). The objective is the epoch's mean loss plus
        the penalty at the epoch's end (scikit-learn adds each sample's penalty at the
        weights it meets, so ``n_iter_`` can differ from its with a penalty).
    shuffle, random_state : bool, int or None, default True, None
        Shuffle the samples each epoch, from a generator seeded by ``random_state`` (not
        scikit-learn's stream: shuffled fits are not the same as its).
    learning_rate : {"optimal", "constant", "invscaling", "adaptive"}, default "optimal"
        scikit-learn's schedules (see :func:`fastloss.sgd_epoch`): ``1 / (alpha (t0 + t))``,
        ``eta0``, ``eta0 / t**power_t``, or ``eta0`` divided by 5 each time the loss stalls.
    eta0 : float, default 0.0
        The initial rate; must be > 0 unless ``learning_rate="optimal"``.
    power_t : float, default 0.5
    n_iter_no_change : int, default 5
    class_weight : None, "balanced" or dict, default None
        Weights of the two classes, multiplying ``sample_weight`` (as
        :class:`SoftmaxRegression`'s; ``"balanced"``: ``n / (2 count(class))``).
    average : bool or int, default False
        Averaged SGD, as :class:`LinearRegression`'s.
    early_stopping, validation_fraction : bool, float, default False, 0.1
        scikit-learn's: as :class:`LinearRegression`'s, the score the accuracy on a held-out
        part stratified by class. One difference: scikit-learn scores its unscaled weight
        vector, fastloss the model as it stands (the averaged weights with ``average``).

    scipy.sparse X (any format, converted to CSR) trains in O(nnz) per epoch; as
    scikit-learn, the intercept's steps on sparse X are multiplied by 0.01.

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_ : ndarray (1, n_features)
    intercept_ : ndarray (1,)
    n_iter_, loss_curve_, n_features_in_, feature_names_in_ : as in :class:`LinearRegression`
    """

    _loss_names = CLASSIFIER_LOSSES
    _optimizer_names = ("sgd",)
    _max_classes = 2
    # the base model's names of scikit-learn's settings
    optimizer = "sgd"
    momentum = 0.0
    batch_size = 1
    n_threads = None

    learning_rate: str
    eta0: float

    def __init__(self, *, loss: str = "hinge", penalty: str = "l2", alpha: float = 1e-4,
                 l1_ratio: float = 0.15, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: Optional[float] = 1e-3, shuffle: bool = True,
                 random_state: Optional[int] = None, learning_rate: str = "optimal",
                 eta0: float = 0.0, power_t: float = 0.5, n_iter_no_change: int = 5,
                 class_weight: Union[None, str, Dict[Any, float]] = None,
                 average: Any = False, early_stopping: bool = False,
                 validation_fraction: float = 0.1) -> None:
        self._set_params_from(locals())

    # the base model's lr and lr_schedule are scikit-learn's eta0 and learning_rate here
    # (read-only views of them, so set_params of eta0 / learning_rate is all there is)
    @property
    def lr(self) -> float:  # type: ignore[override]
        return float(self.eta0)

    @property
    def lr_schedule(self) -> str:  # type: ignore[override]
        return str(self.learning_rate)

    def _validate_params(self) -> None:
        # scikit-learn's names first, so that their errors say learning_rate and eta0
        check_choice(self.learning_rate, "learning_rate", LR_SCHEDULES)
        check_real(self.alpha, "alpha", NON_NEGATIVE)
        if self.learning_rate == "optimal":
            check_real(self.eta0, "eta0", NON_NEGATIVE)
            if self.alpha == 0:
                raise ValueError("learning_rate='optimal' (eta = 1 / (alpha (t0 + t))) needs "
                                 "alpha > 0, got alpha=0")
        else:
            check_real(self.eta0, "eta0", POSITIVE)
        super()._validate_params()
        self._validate_sgd_options()

    def _linear_loss(self) -> str:
        return "logistic" if self.loss == "log_loss" else str(self.loss)

    def _prepare_targets(self, y: Any, X: Any, *, reset: bool) -> NDArray[Any]:
        """Class indices 0/1 as the loss's targets: 0/1 for the logistic loss, -1/+1 for
        the margin losses."""
        labels = self._class_indices(y, X, reset=reset).astype(np.float64)
        return labels if self.loss == "log_loss" else 2.0 * labels - 1.0

    def _labels_of(self, t: NDArray[Any]) -> NDArray[np.int64]:
        return (t > 0).astype(np.int64)

    def _score_of(self, z: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        return accuracy((z > 0) == (t > 0), sw)

    def _publish(self) -> None:
        coef, intercept = self._published_weights()
        self.coef_ = coef[None, :]
        self.intercept_ = intercept

    def decision_function(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """``X @ coef_.T + intercept_``, shape (n_samples,): the score of ``classes_[1]``."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "decision_function", X)
        return self._decision(X)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """``classes_[1]`` where the decision function is > 0, else ``classes_[0]``."""
        if is_dask_collection(X):
            from fastloss.dask._predict import lazy

            return lazy(self, "predict", X)
        positive = self._decision(X) > 0  # checks that the model is fitted first
        return self.classes_[positive.astype(np.intp)]

    @property
    def predict_proba(self) -> Any:
        """Class probabilities (n_samples, 2), for ``loss="log_loss"`` (``sigmoid(z)``) and
        ``"modified_huber"`` (``(clip(z, -1, 1) + 1) / 2``, scikit-learn's); an
        AttributeError for the other losses, as there (so ``hasattr`` tells)."""
        if self.loss not in PROBA_LOSSES:
            raise AttributeError(f"probability estimates are not available for "
                                 f"loss={self.loss!r} (only for {PROBA_LOSSES})")
        return self._predict_proba

    def _predict_proba(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        z = self._decision(X)
        if self.loss == "log_loss":
            # sigmoid without overflow: exp of a non-positive number only
            e = np.exp(-np.abs(z))
            p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        else:
            p = (np.clip(z, -1, 1) + 1) / 2
        return np.stack([1 - p, p], axis=1)

    @property
    def predict_log_proba(self) -> Any:
        """``log(predict_proba(X))``, for the same losses."""
        proba = self.predict_proba
        return lambda X: np.log(proba(X))

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=False),
                    input_tags=InputTags(sparse=True))
