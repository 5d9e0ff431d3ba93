"""What the classifiers share (SoftmaxRegression, SGDClassifier): class labels and
``classes_``, ``class_weight``, ``fit`` / ``partial_fit(classes=)``, the accuracy score."""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss._validation import NON_NEGATIVE, check_real, is_dask_collection, reject_masked
from fastloss.models._base import _LinearModel
from fastloss.models._sklearn import _check_lengths, _check_sample_weight, _column_y_to_1d


def accuracy(hits: NDArray[np.bool_], sw: Optional[NDArray[Any]]) -> float:
    """The (``sw``-weighted) share of the ``hits``."""
    return float(np.mean(hits) if sw is None else np.average(hits, weights=sw))


class _Classifier(_LinearModel):
    """A linear classifier: labels of any sortable type, ``classes_`` in sorted order,
    ``class_weight`` multiplying ``sample_weight``."""

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

    def _labels_of(self, t: NDArray[Any]) -> NDArray[np.int64]:
        """The class index of each training target (the targets are class indices)."""
        return t

    def _split_labels(self, t: NDArray[Any]) -> Optional[NDArray[np.int64]]:
        return self._labels_of(t)

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
        labels = self._labels_of(t)
        counts = (np.bincount(labels, minlength=len(self.classes_)) if isinstance(cw, str)
                  else None)
        weights = self._class_weights(counts)[labels]
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

    def _class_indices(self, y: Any, X: Any, *, reset: bool) -> NDArray[np.int64]:
        """``y``'s labels checked and turned into indices into ``classes_`` (set from ``y``
        on ``reset``, from partial_fit's ``classes`` on its first call)."""
        name = type(self).__name__
        reject_masked(y, "y")
        y = _column_y_to_1d(np.asarray(y))
        _check_lengths(X, y)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or inf.")
        if y.dtype.kind == "f" and np.any(y != np.round(y)):
            raise ValueError(f"Unknown label type: continuous; {name} needs class "
                             "labels (integers or strings)")
        if y.dtype.kind in "cV":
            raise ValueError(f"Unknown label type: {y.dtype}")
        if self._classes_arg is not None and not hasattr(self, "classes_"):
            self._set_classes(self._classes_arg)
        small = _small_integer_labels(y)
        if reset or not hasattr(self, "classes_"):
            classes = np.unique(y) if small is None else (
                np.flatnonzero(np.bincount(small[0])) + small[1]).astype(y.dtype)
            if len(classes) < 2:
                raise ValueError(f"{name} needs samples of at least 2 classes in "
                                 f"the data, but the data contains only one class: {classes[0]!r}")
            self._set_classes(classes)
        if small is not None and self.classes_.dtype.kind in "iu" and \
                self.classes_.dtype != np.uint64:
            labels = _label_table(self.classes_, small)
        else:
            labels = np.searchsorted(self.classes_, y)
            labels = np.minimum(labels, len(self.classes_) - 1)
            labels[self.classes_[labels] != y] = -1
        if np.any(labels < 0):
            unknown = np.setdiff1d(np.unique(y), self.classes_)
            raise ValueError(f"y contains labels not seen in the first fit: {unknown[:5]!r}")
        return labels.astype(np.int64, copy=False)

    def _set_classes(self, classes: NDArray[Any]) -> None:
        self.classes_ = classes

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: Optional[ArrayLike] = None) -> Any:
        """Train from zero weights for up to ``max_iter`` epochs (iterations);
        ``sample_weight`` and Dask arrays as in :meth:`LinearRegression.fit`. Returns
        ``self``."""
        return self._fit(X, y, sample_weight, reset=True, n_epochs=int(self.max_iter),
                         early_stopping=True)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, classes: Optional[ArrayLike] = None,
                    sample_weight: Optional[ArrayLike] = None) -> Any:
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

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        raise NotImplementedError  # pragma: no cover - each classifier defines it

    def score(self, X: ArrayLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Mean accuracy (weighted by ``sample_weight``); computed on the cluster when any
        argument is a Dask array."""
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            from fastloss.dask._predict import score

            return score(self, X, y, sample_weight)
        reject_masked(y, "y")
        hits = self.predict(X) == np.asarray(y).ravel()
        return accuracy(hits, _check_sample_weight(sample_weight, len(hits)))


#: the widest label range (max - min + 1) that _small_integer_labels tabulates
_LABEL_TABLE_MAX = 1 << 20


def _small_integer_labels(y: NDArray[Any]) -> Optional[Tuple[NDArray[np.intp], int]]:
    """Integer labels spanning a small range as ``(y - min, min)``, for the O(n) path
    (a count per value, a lookup table) in place of np.unique's and searchsorted's
    O(n log n); None for other labels (floats, strings, uint64, wide ranges, none). Every
    other integer type fits int64, where the offsets are exact."""
    if y.dtype.kind not in "iu" or y.dtype == np.uint64 or y.size == 0:
        return None
    lo, hi = int(y.min()), int(y.max())
    if hi - lo >= _LABEL_TABLE_MAX:
        return None
    return (y.astype(np.int64) - lo).astype(np.intp, copy=False), lo


def _label_table(classes: NDArray[Any], small: Tuple[NDArray[np.intp], int]) -> NDArray[Any]:
    """The index into the sorted integer ``classes`` of every label of ``small`` (as
    :func:`_small_integer_labels` gives them), -1 for a label that is not a class."""
    offsets, lo = small
    span = int(offsets.max()) + 1
    table = np.full(span, -1, dtype=np.int64)
    c = classes.astype(np.int64) - lo  # classes outside y's range index no label
    inside = (c >= 0) & (c < span)
    table[c[inside]] = np.flatnonzero(inside)
    return table[offsets]

