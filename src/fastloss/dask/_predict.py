"""The models' predictions on Dask arrays: lazy, one task per row chunk."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastloss.dask._objective import aligned, as_rows


def _apply(block: np.ndarray, model: Any, method: str) -> Any:
    """The model's in-memory ``method`` on one row chunk."""
    return getattr(model, method)(block)


def lazy(model: Any, method: str, X: Any) -> Any:
    """``model.<method>(X)`` as a lazy Dask array chunked like X's rows: each chunk runs the
    in-memory method (the fitted model travels in the graph; it is small)."""
    model._check_fitted()
    X = as_rows(X)
    model._check_n_features(X)
    # the output's trailing shape and dtype, from the method itself on one row
    probe = getattr(model, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))
    if probe.ndim == 1:
        return X.map_blocks(_apply, model, method, dtype=probe.dtype, drop_axis=1,
                            meta=probe[:0])
    return X.map_blocks(_apply, model, method, dtype=probe.dtype,
                        chunks=(X.chunks[0], probe.shape[1:]), meta=probe[:0])


def score(model: Any, X: Any, y: Any, sample_weight: Any) -> float:
    """``model.score`` (R^2 for a regressor, accuracy for a classifier, weighted by
    ``sample_weight``) on Dask arrays: computed on the cluster, one float back."""
    import dask

    X = as_rows(X)
    y = aligned(y, X, "y")
    w = aligned(sample_weight, X, "sample_weight")
    if hasattr(model, "classes_") and hasattr(model, "class_weight"):
        hits = lazy(model, "predict", X) == y
        if w is None:
            return float(hits.mean().compute())
        num, den = dask.compute((w * hits).sum(), w.sum())
        return float(num / den)
    y = y.astype(np.float64)
    if model._log_link():
        return _d2_score(model, X, y, w)
    resid2 = (y - lazy(model, "predict", X)) ** 2
    if w is None:
        w = y * 0 + 1.0
    total, wy = dask.compute(w.sum(), (w * y).sum())
    mean = wy / total
    num, denom = dask.compute((w * resid2).sum(), (w * (y - mean) ** 2).sum())
    if denom == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - float(num) / float(denom)


def _checked_targets(y: np.ndarray, loss: str, power: float, block_info: Any = None
                     ) -> np.ndarray:
    """One row chunk of targets, checked as the in-memory score checks them (the index in
    the error counts from the start of the whole array)."""
    from fastloss.models import _glm

    start = block_info[0]["array-location"][0][0] if block_info else 0
    _glm.check_targets(y, loss, power, offset=start)
    return y


def _deviance_of(y: np.ndarray, z: np.ndarray, power: float) -> np.ndarray:
    """The unit deviances of a chunk at the model's means exp(z)."""
    from fastloss.models import _glm

    return _glm.unit_deviance(y, np.exp(np.asarray(z, np.float64)), power)


def _null_deviance_of(y: np.ndarray, mean: float, power: float) -> np.ndarray:
    """The unit deviances of a chunk at the null model's mean."""
    from fastloss.models import _glm

    return _glm.unit_deviance(y, np.full_like(y, mean), power)


def _d2_score(model: Any, X: Any, y: Any, w: Any) -> float:
    """D^2 of a log-link regressor on the cluster (``fastloss.models._glm.d2_score``):
    1 - the weighted mean deviance over that of the weighted mean target."""
    import dask
    import dask.array as da

    from fastloss.models import _glm

    power = _glm.tweedie_power(model.loss, float(model.power))
    y = y.map_blocks(_checked_targets, model.loss, float(model.power), dtype=np.float64)
    z = lazy(model, "_decision", X)
    if w is None:
        w = y * 0 + 1.0
    dev = da.map_blocks(_deviance_of, y, z, power, dtype=np.float64)
    total, wy, num = dask.compute(w.sum(), (w * y).sum(), (w * dev).sum())
    null = y.map_blocks(_null_deviance_of, float(wy / total), power, dtype=np.float64)
    den = float((w * null).sum().compute())
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - float(num) / den
