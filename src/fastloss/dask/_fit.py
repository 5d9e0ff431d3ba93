"""The models' ``fit`` on Dask arrays: ``LinearRegression`` and ``SoftmaxRegression``.

The data are prepared once (:func:`fastloss.dask._objective.prepare_rows`: persisted parts
and the first pass for ``n``, the weights and the classes; for the GLMs on the log link the
targets' domain, checked as in memory, and the weighted mean target, whose log starts the
intercept as in memory), then trained on the cluster:

* ``"lbfgs"``/``"cg"``: the model's own minimizer on the distributed objective, one round
  trip per evaluation;
* ``"cholesky"``: the normal equations' sums part by part, one round trip, then the
  model's d x d solve on the client;
* the stochastic optimizers: each epoch runs ``fastloss.sgd_epoch`` on one part after the
  other, on the worker that holds it, carrying the coefficients and the optimizer state
  (``EpochState``) from part to part. This is sequential by nature (as dask-ml's
  Incremental): one worker works at a time; the parts are visited in a fresh random order
  each epoch when ``shuffle``.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastloss import linear
from fastloss.dask._objective import PreparedData, as_rows, prepare_rows
from fastloss.dask._parts import Part
from fastloss.models import _glm
from fastloss.models._base import FULL_BATCH, _LinearModel, _takes_float32_stage
from fastloss.models._sklearn import _check_feature_names, _check_y_present


def _part_epoch(part: Part, W: np.ndarray, b: Optional[np.ndarray], state: Any,
                kwargs: Any) -> Tuple[np.ndarray, Optional[np.ndarray], Any, float, float]:
    """One ``sgd_epoch`` over one part (on its worker): the new ``(W, b, state)``, the
    part's mean loss and its total weight."""
    X, y, w = part
    wsum = float(X.shape[0]) if w is None else float(w.sum(dtype=np.float64))
    if X.shape[0] == 0:
        return W, b, state, 0.0, 0.0
    mean, state = linear.sgd_epoch(X, y, W, b, state, sample_weight=w, **kwargs)
    return W, b, state, float(mean), wsum


def _epoch(model: _LinearModel, data: PreparedData) -> float:
    """One epoch of ``model``'s stochastic optimizer, part after part; its objective."""
    kwargs = model._epoch_kwargs()
    order = np.arange(len(data.parts))
    if model.shuffle:
        order = model._rng().permutation(order)
    total = wsum = 0.0
    for i in order:
        W, b, state, mean, w = data.parts.apply(int(i), _part_epoch, model._W,
                                                model._intercept(), model._opt_state, kwargs)
        model._W[...] = W
        if b is not None:
            model._b[...] = b
        model._opt_state = state
        kwargs["seed"] = None  # the state carries it from now on
        if w > 0:
            total += mean * w
            wsum += w
    return model._epoch_objective(total / wsum if wsum > 0 else float("nan"))


def fit(model: Any, X: Any, y: Any, sample_weight: Any, *, reset: bool, n_epochs: int,
        early_stopping: bool) -> Any:
    """``model.fit(X, y, sample_weight)`` with Dask arrays, trained on the cluster."""
    if not reset:
        raise TypeError(f"{type(model).__name__}.partial_fit does not take Dask arrays; use "
                        f"fit (whose stochastic optimizers run epoch by epoch over the "
                        f"chunks) or pass in-memory batches")
    model._validate_params()
    _check_y_present(y, model)
    X = as_rows(X)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"Found array with shape {X.shape} while a minimum of 1 sample and "
                         f"1 feature is required (X).")
    model_dtype = np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)
    solver = model._solver()
    full = solver in FULL_BATCH + ("cholesky",)
    # the in-memory full-batch paths compute in float64 whatever X's dtype: so do these
    part_dtype = np.dtype(np.float64) if full else model_dtype
    classifier = hasattr(model, "class_weight")
    log_link = getattr(model, "_log_link", lambda: False)()
    domain, target_error = None, None
    if log_link:  # the GLMs' targets in their domain, as the in-memory fit checks them
        power = float(model.power)
        domain = linear.target_domain(model.loss, _glm.tweedie_power(model.loss, power))

        def target_error(index: int, value: float) -> Exception:
            return _glm.target_error(model.loss, power, value, index)

    data = prepare_rows(X, y, sample_weight, "classes" if classifier else "real", part_dtype,
                        domain, target_error)
    try:
        if data.weight_sum == 0:
            raise ValueError("Sample weights must contain at least one non-zero number (the "
                             "weighted mean loss is undefined otherwise)")
        if classifier:
            assert data.labels is not None and data.counts is not None
            if data.labels.dtype.kind == "f" and np.any(data.labels != np.round(data.labels)):
                raise ValueError("Unknown label type: continuous; SoftmaxRegression needs "
                                 "class labels (integers or strings)")
            if len(data.labels) < 2:
                raise ValueError("SoftmaxRegression needs samples of at least 2 classes in "
                                 f"the data, but the data contains only one class: "
                                 f"{data.labels[0]!r}")
            model.classes_ = data.labels
            per_class = (None if model.class_weight is None
                         else model._class_weights(data.counts))
            data = data.encode_labels(data.labels, per_class)
        _check_feature_names(model, X, reset=True)
        model._generator = None
        model._init_state(data.n_features, model_dtype)
        if log_link and model.fit_intercept:  # as the in-memory _start_weights
            assert data.target_mean is not None
            model._b[...] = _glm.intercept_of_mean(data.target_mean)
        loss, alpha = model._linear_loss(), float(model.alpha)
        epsilon = model._loss_param()
        if solver in FULL_BATCH:
            mean, second, min_weight = data.moments()
            mu = mean if model.fit_intercept else np.zeros_like(mean)
            first = None
            if _takes_float32_stage(model, data.dtype, float(data.n_samples) * data.n_features,
                                    second, data.weight_sum, min_weight):
                # the in-memory fit's float32 first stage (_fit_full_batch), on the workers
                def first(W: np.ndarray, b: Optional[np.ndarray]) -> Any:
                    return data.value_and_grad(W, b, loss, alpha, epsilon, float32=True)
            model._minimize_full_batch(
                lambda W, b: data.value_and_grad(W, b, loss, alpha, epsilon), n_epochs, mu,
                second, float32_stage=first)
        elif solver == "cholesky":
            model._fit_normal_sums(data.normal_equation_sums())
        else:
            model._run_stochastic(lambda: _epoch(model, data), n_epochs, early_stopping)
    finally:
        data.release()
    model._publish()
    return model
