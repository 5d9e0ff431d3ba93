"""The distributed linear-model objective: :func:`prepare` and :func:`linear_value_and_grad`."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from fastloss import linear
from fastloss._validation import (NON_NEGATIVE, check_choice, check_real,
                                  is_dask_collection, reject_masked)
from fastloss.dask._parts import Part, Parts
from fastloss.models.regression import NormalSums, normal_equation_sums

FloatArray = NDArray[np.floating[Any]]

#: what the targets must be: real numbers (the GLM losses': in their domain as well,
#: linear.target_domain); 0/1; integer labels >= 0 (softmax); any labels (the classifier's,
#: encoded later)
_TARGETS = {"squared_error": "real", "absolute": "real", "huber": "real",
            "logistic": "binary", "softmax": "labels",
            **{loss: "real" for loss in linear.GLM_LOSSES}}

#: the error of a target outside its domain, from its position in y and its value
TargetError = Callable[[int, float], Exception]


# ---- the arrays: Dask arrays chunked by rows --------------------------------------------

def as_rows(X: Any) -> Any:
    """``X`` as a 2-D Dask array of numbers with one chunk across the columns."""
    import dask.array as da

    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask.array.Array (chunked by rows), got "
                        f"{type(X).__name__}; for a Dask DataFrame use "
                        f"X.to_dask_array(lengths=True)")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.dtype.kind == "c":
        raise ValueError("X: Complex data not supported")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has chunks of unknown size: call X.compute_chunk_sizes() first")
    return X.rechunk({1: -1}) if len(X.chunks[1]) > 1 else X


def aligned(a: Any, X: Any, name: str) -> Any:
    """The 1-D ``a`` (Dask or in-memory, ``n`` entries) as a Dask array chunked like X's
    rows; None stays None."""
    import dask.array as da

    if a is None:
        return None
    if not isinstance(a, da.Array):
        if is_dask_collection(a):
            raise TypeError(f"{name} must be a dask.array.Array or an in-memory array, got "
                            f"{type(a).__name__}")
        reject_masked(a, name)
        a = np.asarray(a)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or a.shape[0] != X.shape[0]:
        raise ValueError(f"{name} must be 1-D with {X.shape[0]} entries (one per row of X), "
                         f"got shape {a.shape}")
    if not isinstance(a, da.Array):
        return da.from_array(a, chunks=(X.chunks[0],))
    return a if a.chunks[0] == X.chunks[0] else a.rechunk((X.chunks[0],))


# ---- on the workers ---------------------------------------------------------------------

def _make_part(Xb: np.ndarray, yb: np.ndarray, wb: Optional[np.ndarray], dtype: Any,
               targets: str) -> Part:
    """One part from the chunks: X C-contiguous in ``dtype``, the weights in ``dtype``, real
    targets in ``dtype``, integer labels in int64 (other labels as they are); each aligned
    (a chunk that came over the network may sit at an unaligned address in its message's
    buffer, where NumPy's matrix products skip BLAS and run ~8x slower)."""
    need: Any = ("C", "A")  # C-contiguous, aligned
    X = np.require(Xb, dtype=dtype, requirements=need)
    y = np.asarray(yb)
    if targets in ("real", "binary"):
        y = np.require(y, dtype=dtype, requirements=need)
    elif y.dtype.kind in "iu" and targets == "labels":
        y = np.require(y, dtype=np.int64, requirements=need)
    w = None if wb is None else np.require(wb, dtype=dtype, requirements=need)
    return X, y, w


def _summarize(part: Part, targets: str, domain: Optional[str] = None) -> Dict[str, Any]:
    """The first pass over one part: its size, total weight, what the checks need (the
    first target outside ``domain``, ``">= 0"`` or ``"> 0"``, as ``(index, value)``), the
    weighted sum of real targets, and (for labels) the distinct labels with their counts."""
    X, y, w = part
    out: Dict[str, Any] = dict(n=X.shape[0], x_finite=bool(np.isfinite(X).all()))
    if w is not None:
        out["w_ok"] = bool(np.isfinite(w).all() and (w.size == 0 or w.min() >= 0))
        out["w_sum"] = float(w.sum(dtype=np.float64))
    else:
        out["w_ok"], out["w_sum"] = True, float(X.shape[0])
    if targets in ("real", "binary"):
        out["y_finite"] = bool(np.isfinite(y).all())
        out["y_binary"] = out["y_finite"] and bool(np.all((y == 0) | (y == 1)))
        y64 = y.astype(np.float64, copy=False)
        out["wy_sum"] = float(y64.sum() if w is None else w.astype(np.float64) @ y64)
        if domain is not None:
            outside = np.flatnonzero(y < 0 if domain == ">= 0" else y <= 0)
            out["y_outside"] = (int(outside[0]), y[outside[0]].item()) if outside.size else None
    else:
        labels, counts = np.unique(y, return_counts=True)
        out["labels"], out["counts"] = labels, counts
    return out


def _encode(part: Part, classes: np.ndarray, per_class: Optional[np.ndarray]) -> Part:
    """Labels as class indices (int64) and the class weights folded into the weights."""
    X, y, w = part
    t = np.searchsorted(classes, y).astype(np.int64)
    if per_class is not None:
        cw = per_class[t].astype(X.dtype)
        w = cw if w is None else w * cw
    return X, t, w


def _partial_objective(part: Part, W: np.ndarray, b: Optional[np.ndarray], loss: str,
                       epsilon: float, float32: bool = False
                       ) -> Optional[Tuple[float, np.ndarray, Optional[np.ndarray], float]]:
    """``(sum w l, sum w dl/dz x, sum w dl/dz, sum w)`` of one part in float64, from the
    in-memory objective's weighted means (None for a part of no weight); ``float32``: of
    the part's float64 X rounded to float32, in float32 (linear.objective's)."""
    X, y, w = part
    wsum = float(X.shape[0]) if w is None else float(w.sum(dtype=np.float64))
    if wsum == 0:
        return None
    dtype = np.dtype(np.float32) if float32 else X.dtype
    Wp = W.astype(dtype, copy=False)
    bp = None if b is None else b.astype(dtype, copy=False)
    threads = _worker_threads()
    if loss == "softmax" and Wp.shape[1] == 2:
        value, gW, gb = _two_class_objective(X, y, Wp, bp, w, epsilon, threads, float32)
    else:
        value, gW, gb = linear.objective(X, y, Wp, bp, w, loss, 0.0, epsilon, threads,
                                         float32=float32)
    return (float(value) * wsum, gW.astype(np.float64) * wsum,
            None if gb is None else gb.astype(np.float64) * wsum, wsum)


def _worker_threads() -> Optional[int]:
    """The threads of the Dask worker running this task (its share of the machine: the
    task is the worker's only one), or None (the kernel's default) outside a worker."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError):
        return None


def _two_class_objective(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: Optional[np.ndarray],
                         w: Optional[np.ndarray], epsilon: float,
                         n_threads: Optional[int], float32: bool = False) -> Any:
    """The two-class softmax objective as the logistic one of the logit difference (the
    same function: ``softmax(z)_1 = sigmoid(z_1 - z_0)``): one product with a vector
    instead of an (n, 2) matrix each way, half the work. The gradient wrt the two columns
    is ``(-g, g)``. W and b are in the computation's dtype (float32 with ``float32``)."""
    v = np.ascontiguousarray(W[:, 1] - W[:, 0])
    c = None if b is None else np.array([b[1] - b[0]], dtype=W.dtype)
    value, g, gc = linear.objective(X, y.astype(W.dtype), v, c, w, "logistic", 0.0, epsilon,
                                    n_threads, float32=float32)
    gW = np.stack([-g, g], axis=1)
    return value, gW, None if gc is None else np.concatenate([-gc, gc])


def _partial_moments(part: Part) -> Tuple[np.ndarray, np.ndarray, float]:
    """``(sum_i w_i x_i, sum_i w_i x_i^2)`` of one part, per column, in float64, and its
    smallest weight (1 without weights, inf for no rows)."""
    X, _, w = part
    Xd = X.astype(np.float64, copy=False)
    if w is None:
        return (Xd.sum(axis=0), np.einsum("ij,ij->j", Xd, Xd),
                1.0 if X.shape[0] else float("inf"))
    wd = w.astype(np.float64, copy=False)
    return (wd @ Xd, np.einsum("i,ij,ij->j", wd, Xd, Xd),
            float(wd.min()) if wd.size else float("inf"))


def _partial_normal_sums(part: Part) -> NormalSums:
    X, y, w = part
    return normal_equation_sums(X, y, w)


# ---- on the client ----------------------------------------------------------------------

@dataclasses.dataclass
class PreparedData:
    """``X``, ``y`` and the weights persisted part by part, with the first pass's facts.

    Attributes:
        parts: the resident row chunks (see ``fastloss.dask._parts``).
        n_samples, n_features: X's shape.
        weight_sum: ``sum_i w_i`` (``n_samples`` without weights).
        weighted: whether weights were given.
        dtype: the parts' float dtype.
        labels, counts: the distinct labels in sorted order and how often each occurs
            (label targets only; None otherwise).
        target_mean: the weighted mean of real targets (None for labels; NaN without weight).
    """

    parts: Parts
    n_samples: int
    n_features: int
    weight_sum: float
    weighted: bool
    dtype: np.dtype[Any]
    labels: Optional[np.ndarray] = None
    counts: Optional[np.ndarray] = None
    target_mean: Optional[float] = None

    def value_and_grad(self, W: np.ndarray, b: Optional[np.ndarray], loss: str,
                       alpha: float = 0.0, epsilon: float = 1.0, float32: bool = False
                       ) -> Tuple[float, NDArray[np.float64], Optional[NDArray[np.float64]]]:
        """``sum_i w_i l_i / sum_i w_i + alpha/2 ||W||^2`` and its gradient wrt ``(W, b)``
        on unchecked parameters (float64 results): one round trip to the cluster;
        ``float32``: the parts' (float64) X rounded to float32, in float32 on the workers
        (the models' first L-BFGS stage)."""
        W64 = np.asarray(W, dtype=np.float64)
        gW = np.zeros(W64.shape)
        gb = None if b is None else np.zeros(np.shape(b))
        total = 0.0
        for r in self.parts.map(_partial_objective, W, b, loss, epsilon, float32):
            if r is None:
                continue
            total += r[0]
            gW += r[1]
            if gb is not None and r[2] is not None:
                gb += r[2]
        if self.weight_sum != 0:
            value = total / self.weight_sum
            gW /= self.weight_sum
            if gb is not None:
                gb /= self.weight_sum
        else:
            value = float("nan")
        if alpha != 0:
            gW += alpha * W64
            w = W64.ravel()
            value += 0.5 * alpha * float(np.dot(w, w))
        return value, gW, gb

    def moments(self) -> Tuple[NDArray[np.float64], NDArray[np.float64], float]:
        """The columns' weighted means and second moments ``sum_i w_i x_ij^k / sum_i w_i``
        (k = 1, 2), and the smallest weight: one round trip, one pass over the parts."""
        sums = self.parts.map(_partial_moments)
        first = np.sum([s[0] for s in sums], axis=0) / self.weight_sum
        second = np.sum([s[1] for s in sums], axis=0) / self.weight_sum
        return first, second, min(s[2] for s in sums)

    def normal_equation_sums(self) -> NormalSums:
        """The squared error's :class:`~fastloss.models.regression.NormalSums` over all
        parts (one round trip; summed in part order)."""
        sums = self.parts.map(_partial_normal_sums)
        total = sums[0]
        for s in sums[1:]:
            total = NormalSums(*(a + b for a, b in zip(total, s)))
        return total

    def encode_labels(self, classes: np.ndarray,
                      per_class: Optional[np.ndarray]) -> "PreparedData":
        """The same data with labels as indices into ``classes`` and the class weights
        ``per_class`` (or None) multiplied into the sample weights."""
        parts = self.parts.transform(_encode, classes, per_class)
        weight_sum = self.weight_sum
        if per_class is not None:
            weight_sum = float(sum(s["w_sum"] for s in parts.map(_summarize, "real")))
        return dataclasses.replace(self, parts=parts, weight_sum=weight_sum,
                                   weighted=self.weighted or per_class is not None)

    def release(self) -> None:
        """Frees the parts on the cluster."""
        self.parts.release()


def prepare_rows(X: Any, y: Any, sample_weight: Any, targets: str, dtype: Any,
                 domain: Optional[str] = None,
                 target_error: Optional[TargetError] = None) -> PreparedData:
    """Persists the parts of ``X, y, sample_weight`` (Dask or in-memory ``y``/weights) in
    ``dtype`` and runs the first pass; ValueError/TypeError for data that fail the checks
    (before any model state is touched). Real targets outside ``domain`` (``">= 0"``,
    ``"> 0"``; None: any) raise ``target_error(index, value)`` of the first one."""
    import dask

    X = as_rows(X)
    y = aligned(y, X, "y")
    sw = aligned(sample_weight, X, "sample_weight")
    if sw is not None and sw.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must be a real numeric array, got dtype {sw.dtype}")
    if targets in ("real", "binary") and y.dtype.kind not in "biuf":
        raise TypeError(f"y must be a real numeric array, got dtype {y.dtype}")
    if targets == "labels" and y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer class labels for loss='softmax', got dtype "
                        f"{y.dtype}")
    xs = X.to_delayed()[:, 0]
    ys = y.to_delayed()
    ws = [None] * len(xs) if sw is None else list(sw.to_delayed())
    make = dask.delayed(_make_part, pure=False)  # fresh keys: each prepare owns its parts
    parts = Parts.compute([make(xb, yb, wb, np.dtype(dtype), targets)
                           for xb, yb, wb in zip(xs, ys, ws)])
    try:
        facts = parts.map(_summarize, targets, domain)
        if not all(f["x_finite"] for f in facts):
            raise ValueError("Input X contains NaN or inf.")
        if not all(f["w_ok"] for f in facts):
            raise ValueError("sample_weight must be finite and >= 0")
        labels = counts = None
        if targets in ("real", "binary"):
            if not all(f["y_finite"] for f in facts):
                raise ValueError("Input y contains NaN or inf (or is not numeric).")
            if targets == "binary" and not all(f["y_binary"] for f in facts):
                raise ValueError("y must hold 0 or 1 for loss='logistic'")
            if domain is not None:
                _check_domain(facts, target_error)
        else:
            merged: Dict[Any, int] = {}
            for f in facts:
                for label, c in zip(f["labels"].tolist(), f["counts"].tolist()):
                    merged[label] = merged.get(label, 0) + int(c)
            labels = np.array(sorted(merged))
            counts = np.array([merged[k] for k in sorted(merged)], dtype=np.int64)
            if targets == "labels":
                if labels.size and labels[0] < 0:
                    raise ValueError(f"y holds class label {labels[0]} < 0")
    except BaseException:
        parts.release()
        raise
    weight_sum = float(sum(f["w_sum"] for f in facts))
    target_mean = None
    if targets in ("real", "binary"):
        wy = float(sum(f["wy_sum"] for f in facts))
        target_mean = wy / weight_sum if weight_sum != 0 else float("nan")
    return PreparedData(parts, int(X.shape[0]), int(X.shape[1]), weight_sum, sw is not None,
                        np.dtype(dtype), labels, counts, target_mean)


def _check_domain(facts: Any, target_error: Optional[TargetError]) -> None:
    """Raises for the first target outside the domain, numbered across the parts."""
    offset = 0
    for f in facts:
        if f["y_outside"] is not None:
            index, value = f["y_outside"]
            if target_error is None:
                raise ValueError(f"y[{offset + index}] = {value!r} is outside the loss's "
                                 "domain")
            raise target_error(offset + index, value)
        offset += f["n"]


def prepare(X: Any, y: Any, sample_weight: Any = None, *,
            loss: str = "squared_error", power: float = 1.5) -> PreparedData:
    """Persists ``X`` (a Dask array chunked by rows), ``y`` and ``sample_weight`` on the
    cluster for repeated evaluations of :meth:`PreparedData.value_and_grad` with ``loss``
    (one of fastloss.linear's; ``power``: tweedie's, for its targets' domain), after
    checking them (finite X, targets fit for the loss, in the GLM losses' domains as
    :func:`fastloss.linear_value_and_grad` checks them, finite weights >= 0). X keeps its
    dtype if float32 or float64 (else float64)."""
    loss = check_choice(loss, "loss", linear.LOSSES)
    power_ = check_real(power, "power", linear.POWER)
    Xr = as_rows(X)
    dtype = Xr.dtype if Xr.dtype in (np.float32, np.float64) else np.dtype(np.float64)

    def target_error(index: int, value: float) -> Exception:
        return linear.target_error(loss, power_, value, index)

    return prepare_rows(Xr, y, sample_weight, _TARGETS[loss], dtype,
                        linear.target_domain(loss, power_), target_error)


def linear_value_and_grad(X: Any, y: Any, coef: FloatArray, intercept: Optional[FloatArray],
                          *, loss: str = "squared_error", alpha: float = 0.0,
                          epsilon: float = 1.0, power: float = 1.5, quantile: float = 0.5,
                          sample_weight: Any = None
                          ) -> Tuple[np.floating[Any], FloatArray, Optional[FloatArray]]:
    r""":func:`fastloss.linear_value_and_grad` on a Dask array ``X`` (chunked by rows),
    computed on the cluster; NumPy results.

    ``value = sum_i w_i l_i / sum_i w_i + alpha / 2 ||coef||^2``, ``grad_coef = sum_i w_i
    dl/dz_i x_i / sum_i w_i + alpha coef``, ``grad_intercept = sum_i w_i dl/dz_i / sum_i
    w_i``; shapes, dtypes, losses and their parameters (``epsilon``, ``power``,
    ``quantile``) as there (``coef`` and ``intercept`` in-memory arrays of X's dtype). Each
    chunk runs the in-memory objective; the chunks' partial sums are reduced in float64 on
    the client.

    ``X`` may also be a :class:`PreparedData` from :func:`prepare` (``y`` and
    ``sample_weight`` None): a solver that evaluates many times prepares once, so each
    call is one round trip with no pass over the data to persist or check (the GLM
    targets' domain is checked there: prepare with the same ``loss`` and ``power``).
    """
    loss = check_choice(loss, "loss", linear.LOSSES)
    alpha_ = check_real(alpha, "alpha", NON_NEGATIVE)
    param_ = linear.loss_param(loss, epsilon, power, quantile)
    own = not isinstance(X, PreparedData)
    data = prepare(X, y, sample_weight, loss=loss, power=power) if own else X
    try:
        c = 1
        if loss == "softmax":
            if type(coef) is not np.ndarray or coef.ndim != 2:
                raise ValueError("coef must be 2-D (n_features, n_classes) for loss='softmax'")
            c = coef.shape[1]
            if data.labels is not None and data.labels.size and data.labels[-1] >= c:
                raise ValueError(f"y holds class label {data.labels[-1]} outside [0, {c}) "
                                 f"(coef has {c} class columns)")
        d = data.n_features
        W = linear._param_array(coef, "coef", data.dtype, (d, c) if loss == "softmax" else (d,),
                                False)
        b = None if intercept is None else linear._param_array(intercept, "intercept",
                                                               data.dtype, (c,), False)
        value, gW, gb = data.value_and_grad(W, b, loss, alpha_, param_)
    finally:
        if own:
            data.release()
    dtype = data.dtype
    return (dtype.type(value), np.ascontiguousarray(gW, dtype=dtype),
            None if gb is None else gb.astype(dtype))
