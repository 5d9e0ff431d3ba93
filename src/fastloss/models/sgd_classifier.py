"""SGDClassifier: a linear classifier trained by scikit-learn's plain SGD, binary or
one-vs-rest."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import _sparse
from fastloss._sparse import is_sparse
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


@dataclasses.dataclass
class _BinaryRun:
    """One class's binary problem of a one-vs-rest fit: its training state between calls
    (the base model's ``_opt_state``, ``_opt_key`` and ``"adaptive"`` rate)."""

    state: Any = None
    key: Any = None
    adaptive_lr: Optional[float] = None


def _combined(curves: List[List[float]], mean: bool) -> List[float]:
    """Per epoch, the sum (``mean``: the mean) of the classes' curves, a class that stopped
    earlier counting with its last value."""
    length = max((len(c) for c in curves), default=0)
    padded = np.array([c + c[-1:] * (length - len(c)) for c in curves if c])
    if not length or not len(padded):
        return []
    values = padded.mean(axis=0) if mean else padded.sum(axis=0)
    return [float(v) for v in values]


class SGDClassifier(_Classifier, _PlainSGDModel):
    """A linear classifier trained by plain per-sample SGD, scikit-learn's
    ``SGDClassifier``: the same parameters, defaults and fitted attributes, and for
    ``shuffle=False`` the same trajectory (the epochs run in :func:`fastloss.sgd_epoch`'s C
    loop, scikit-learn's algorithm).

    Two classes: ``sign(X @ coef_.T + intercept_)``; the objective is ``sum_i w_i l(y_i
    z_i) / n + alpha ((1 - r) ||coef||^2 / 2 + r ||coef||_1)`` with ``z_i = x_i . coef +
    b``, ``y_i = +1`` for ``classes_[1]`` and ``-1`` for ``classes_[0]``, ``w_i`` the
    sample weight times the class weight.

    More classes: one-vs-rest (OvR), as scikit-learn: one binary problem per class ``k``
    (``y_i = +1`` for class ``k``, ``-1`` for the others; the positive samples weighted by
    class ``k``'s ``class_weight``, the others by 1, times ``sample_weight``), each trained
    on its own from the same settings (its own epochs, ``tol`` stopping, ``"adaptive"``
    rate, average and held-out score: ``early_stopping`` scores class ``k``'s binary
    accuracy on the held-out part, split once, stratified by class), one
    :func:`fastloss.sgd_epoch` call per class and epoch. ``coef_`` is ``(n_classes,
    n_features)``, ``decision_function`` ``(n_samples, n_classes)``, ``predict`` its
    argmax. ``n_iter_`` is the most epochs a class ran (scikit-learn's), and every class
    resumes a ``partial_fit`` from the same update count, as there; ``loss_curve_`` holds
    the sum of the classes' epoch objectives (the OvR objective), ``validation_scores_``
    the mean of their held-out scores, a class that stopped earlier counting with its
    last. Shuffled fits draw one seed per class from ``random_state``'s stream (not
    scikit-learn's).

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
        Averaged SGD, as :class:`LinearRegression`'s. Successive ``partial_fit`` calls
        continue one run: k calls over X equal one epoch over k copies of X. scikit-learn's
        SGDClassifier does not keep its unaveraged intercept between ``partial_fit`` calls
        once averaging has started, so from the second such call its model differs.
    early_stopping, validation_fraction : bool, float, default False, 0.1
        scikit-learn's: as :class:`LinearRegression`'s, the score the accuracy on a held-out
        part stratified by class. One difference: scikit-learn scores its unscaled weight
        vector, fastloss the model as it stands (the averaged weights with ``average``).

    scipy.sparse X (any format, converted to CSR) trains in O(nnz) per epoch; as
    scikit-learn, the intercept's steps on sparse X are multiplied by 0.01.

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coef_ : ndarray (1, n_features), or (n_classes, n_features) for more than two classes
    intercept_ : ndarray (1,) or (n_classes,)
    n_iter_, loss_curve_, n_features_in_, feature_names_in_ : as in :class:`LinearRegression`
    """

    _loss_names = CLASSIFIER_LOSSES
    _optimizer_names = ("sgd",)
    #: the class whose binary problem a one-vs-rest fit is training (None: none)
    _turn: Optional[int] = None
    _runs: List[_BinaryRun]
    _ovr_weights: Tuple[NDArray[Any], NDArray[Any]]
    _ovr_class_weight: Optional[NDArray[np.float64]] = None
    _pending_warning: Optional[str] = None
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

    def _multiclass(self) -> bool:
        return len(self.classes_) > 2

    def _binary_targets(self, positive: NDArray[np.bool_]) -> NDArray[np.float64]:
        """The loss's targets of a binary problem: 0/1 for the logistic loss, -1/+1 for the
        margin losses."""
        return np.where(positive, 1.0, 0.0 if self.loss == "log_loss" else -1.0)

    def _prepare_targets(self, y: Any, X: Any, *, reset: bool) -> NDArray[Any]:
        """Two classes: the binary targets of ``classes_[1]``; more: the class indices (each
        class's binary targets are made per class)."""
        labels = self._class_indices(y, X, reset=reset)
        return labels if self._multiclass() else self._binary_targets(labels == 1)

    def _labels_of(self, t: NDArray[Any]) -> NDArray[np.int64]:
        if self._multiclass():
            return t.astype(np.int64)
        return (t > 0).astype(np.int64)

    def _weights(self, t: NDArray[Any], sw: Optional[NDArray[Any]], *,
                 partial: bool) -> Optional[NDArray[Any]]:
        """Two classes: ``sample_weight`` times each sample's class weight; more: the
        sample weights alone, the class weights kept for the binary problems (their
        positive samples')."""
        if not self._multiclass():
            return super()._weights(t, sw, partial=partial)
        self._ovr_class_weight = None
        if self.class_weight is not None:
            super()._weights(t, None, partial=partial)  # its checks
            balanced = isinstance(self.class_weight, str)
            counts = np.bincount(t, minlength=len(self.classes_)) if balanced else None
            self._ovr_class_weight = self._class_weights(counts)
        return sw

    def _score_of(self, z: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        if self._turn is not None:  # a one-vs-rest fit's held-out score: class k's accuracy
            return accuracy((z > 0) == (t == self._turn), sw)
        return accuracy((z > 0) == (t > 0), sw)

    # ---- one-vs-rest: each class's binary problem in turn, on the binary machinery
    def _init_state(self, n_features: int, dtype: np.dtype[Any]) -> None:
        super()._init_state(n_features, dtype)
        if self._multiclass():
            k = len(self.classes_)
            self._W = np.zeros((k, n_features), dtype=dtype)  # row k: class k's coef
            self._b = np.zeros(k, dtype=dtype)
            self._runs = [_BinaryRun() for _ in range(k)]

    @contextlib.contextmanager
    def _as_class(self, k: int) -> Iterator[None]:
        """The model as class ``k``'s binary model: its weights (views of row ``k``), its
        state; the state is kept and the whole model restored on the way out."""
        W, b, run = self._W, self._b, self._runs[k]
        self._W, self._b, self._turn = W[k], b[k:k + 1], k
        self._opt_state, self._opt_key, self._adaptive_lr = run.state, run.key, run.adaptive_lr
        try:
            yield
        finally:
            run.state, run.key = self._opt_state, self._opt_key
            run.adaptive_lr = getattr(self, "_adaptive_lr", None)
            self._W, self._b, self._turn = W, b, None
            self._opt_state = self._opt_key = None

    def _run_epochs(self, X: Any, t: NDArray[Any], sw: Optional[NDArray[Any]], n_epochs: int,
                    early_stopping: bool, moments: Any = None, held_out: Any = None) -> None:
        if not self._multiclass():
            super()._run_epochs(X, t, sw, n_epochs, early_stopping, moments, held_out)
            return
        curve, n_iter = self.loss_curve_, self.n_iter_
        curves: List[List[float]] = []
        scores: List[List[float]] = []
        epochs: List[int] = []
        self._pending_warning = None
        cw = self._ovr_class_weight
        X = _sparse.csr_rows(X) if is_sparse(X) else X  # checked once for every class
        try:
            for k in range(len(self.classes_)):
                positive = t == k
                sw_k = sw if cw is None else (
                    np.where(positive, cw[k], 1.0) * (1.0 if sw is None else sw))
                with self._as_class(k):
                    self.loss_curve_, self.n_iter_ = [], 0
                    super()._run_epochs(X, self._binary_targets(positive).astype(self._W.dtype),
                                        None if sw_k is None else sw_k.astype(self._W.dtype),
                                        n_epochs, early_stopping, moments, held_out)
                    curves.append(self.loss_curve_)
                    scores.append(self.validation_scores_ or [])
                    epochs.append(self.n_iter_)
        finally:
            self.loss_curve_ = curve + _combined(curves, mean=False)
            self.n_iter_ = n_iter + max(epochs, default=0)
            if held_out is not None:
                self.validation_scores_ = _combined(scores, mean=True)
            # scikit-learn's classes all resume from one update count (its t_), the most
            # any ran
            states = [run.state for run in self._runs if run.state is not None]
            for state in states:
                state.t = max(s.t for s in states)
        if self._pending_warning is not None:
            super()._warn_not_converged(self._pending_warning)

    def _warn_not_converged(self, message: str) -> None:
        if self._turn is None:
            super()._warn_not_converged(message)
        else:  # once for the classes, after the last
            self._pending_warning = message

    def _publish(self) -> None:
        if self._turn is not None or not self._multiclass():
            coef, intercept = self._published_weights()
            self.coef_ = coef[None, :]
            self.intercept_ = intercept
            return
        rows = []
        for k in range(len(self.classes_)):
            with self._as_class(k):
                coef, intercept = self._published_weights()
                rows.append(np.r_[coef, intercept])
        self._average = None
        weights = np.array(rows, dtype=self._W.dtype)
        self.coef_, self.intercept_ = weights[:, :-1], weights[:, -1]
        self._ovr_weights = (self.coef_.T, self.intercept_)

    def _decision_weights(self) -> Any:
        if self._turn is None and self._multiclass():
            return self._ovr_weights
        return super()._decision_weights()

    def decision_function(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """``X @ coef_.T + intercept_``: shape (n_samples,), the score of ``classes_[1]``, for
        two classes; (n_samples, n_classes), each class's score, for more."""
        if is_dask_collection(X):  # a lazy Dask array, one task per row chunk
            from fastloss.dask._predict import lazy

            return lazy(self, "decision_function", X)
        return self._decision(X)

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """``classes_[1]`` where the decision function is > 0, else ``classes_[0]``; for
        more classes the class of the largest decision value (the first of ties)."""
        if is_dask_collection(X):
            from fastloss.dask._predict import lazy

            return lazy(self, "predict", X)
        z = self._decision(X)  # checks that the model is fitted first
        if z.ndim == 2:
            return self.classes_[np.argmax(z, axis=1)]
        return self.classes_[(z > 0).astype(np.intp)]

    @property
    def predict_proba(self) -> Any:
        """Class probabilities (n_samples, n_classes), for ``loss="log_loss"``
        (``sigmoid(z)``) and ``"modified_huber"`` (``(clip(z, -1, 1) + 1) / 2``),
        scikit-learn's; for more than two classes each class's binary estimate divided by
        their sum (its one-vs-rest normalization; uniform where they are all 0). An
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
        if p.ndim == 1:
            return np.stack([1 - p, p], axis=1)
        total = p.sum(axis=1, keepdims=True)
        zero = total[:, 0] == 0
        p[zero], total[zero] = 1.0, p.shape[1]  # all zero: uniform, as scikit-learn
        return p / total

    @property
    def predict_log_proba(self) -> Any:
        """``log(predict_proba(X))``, for the same losses."""
        proba = self.predict_proba
        return lambda X: np.log(proba(X))

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags(multi_class=True),
                    input_tags=InputTags(sparse=True))
