"""Early stopping on a held-out validation fraction (scikit-learn's SGD ``early_stopping``):
the split of the training data, stratified for classifiers."""

from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np
from numpy.typing import NDArray


def validation_split(n: int, fraction: float, rng: np.random.Generator,
                     labels: Optional[NDArray[np.int64]] = None,
                     ) -> Tuple[NDArray[np.intp], NDArray[np.intp]]:
    """``(train, held_out)``: sorted sample indices, ``ceil(fraction n)`` held out (as
    scikit-learn's ``ShuffleSplit``), drawn from ``rng``. With class ``labels`` (n,) the
    split is stratified: each class gives the held-out part its share of the samples,
    ``floor(n_held_out count / n)`` and the remainders to the classes with the largest
    fractional parts (as ``StratifiedShuffleSplit`` allocates; its random draws are not
    reproduced). Sorted, so that without shuffling the training samples keep their order.
    Raises scikit-learn's ValueError when either part would be empty."""
    n_held = math.ceil(fraction * n)
    if n_held == 0 or n_held >= n:
        raise ValueError(f"Splitting {n} samples into a train set and a validation set with "
                         f"validation_fraction={fraction!r} led to an empty set "
                         f"({n - n_held} and {n_held} samples). Please either change "
                         f"validation_fraction, increase number of samples, or disable "
                         f"early_stopping.")
    if labels is None:
        held = rng.permutation(n)[:n_held]
    else:
        counts = np.bincount(labels)
        share = n_held * counts / n
        per_class = np.floor(share).astype(np.int64)
        left = n_held - int(per_class.sum())
        per_class[np.argsort(-(share - per_class), kind="stable")[:left]] += 1
        held = np.concatenate([rng.permutation(np.flatnonzero(labels == k))[:m]
                               for k, m in enumerate(per_class)])
    mask = np.zeros(n, dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)
