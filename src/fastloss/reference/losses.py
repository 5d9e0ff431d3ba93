"""The NumPy reference for the losses: each written the obvious way. This is the specification.

Each function here has the same name and meaning as its counterpart in
:mod:`fastloss.losses` (PyTorch's semantics), is written the way a user would write it in
NumPy, and is what the compiled kernels are tested against. It is also the ``"numpy"``
backend: under ``fastloss.use_backend("numpy")`` the public functions validate their
arguments and then call these.

The functions trust their inputs (validation lives in :mod:`fastloss.losses`): arrays of one
float dtype and matching shapes, integer labels in range, weights already broadcast to the
shape they weight. ``*_value_and_grad`` returns ``(value, grad)``; ``*_grad`` returns the
gradient with respect to the first argument (for ``reduction="none"``, the elementwise
derivative, i.e. the gradient of the sum of the unreduced losses).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastloss.losses import _registry

Array = np.ndarray
Value = Any  # a NumPy scalar of the input's dtype, or an array for reduction="none"

#: three functions per loss of the registry: L, L_grad, L_value_and_grad
__all__ = list(_registry.PUBLIC_NAMES)


def _reduce(loss: Array, reduction: str, denominator: Optional[Any] = None) -> Value:
    """'none' -> loss; 'sum' -> sum; 'mean' -> sum / denominator (default: the mean)."""
    if reduction == "none":
        return np.asarray(loss)  # a 0-d array, not a NumPy scalar, for 0-d input
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore", divide="ignore"):  # empty input: NaN, like PyTorch
        if denominator is None:
            return loss.sum() / loss.dtype.type(loss.size)
        return loss.sum() / denominator


def _scale(reduction: str, count: Any) -> Any:
    """Factor d(reduced)/d(loss_i): 1/count for 'mean', 1 otherwise."""
    if reduction != "mean":
        return 1
    with np.errstate(divide="ignore"):
        return np.divide(1.0, count)


# ---- regression losses: weighted mean = sum(w * l) / sum(w) --------------------------

def _reduce_by_weight_sum(loss: Array, weight: Optional[Array], reduction: str) -> Value:
    """The reduced loss when the weighted mean is sum(w l) / sum(w)."""
    if weight is None:
        return _reduce(loss, reduction)
    return _reduce(weight * loss, reduction, weight.sum())


def _by_weight_sum(loss: Array, grad: Array, weight: Optional[Array], reduction: str
                   ) -> Tuple[Value, Array]:
    """The reduced loss and its gradient when the weighted mean is sum(w l) / sum(w)."""
    if weight is None:
        return _reduce(loss, reduction), grad * loss.dtype.type(_scale(reduction, loss.size))
    scale = loss.dtype.type(_scale(reduction, weight.sum()))
    return _reduce_by_weight_sum(loss, weight, reduction), weight * grad * scale


def mse_loss(input: Array, target: Array, *, reduction: str = "mean",
             weight: Optional[Array] = None) -> Value:
    return _reduce_by_weight_sum((input - target) ** 2, weight, reduction)


def mse_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                            weight: Optional[Array] = None) -> Tuple[Value, Array]:
    diff = input - target
    return _by_weight_sum(diff**2, 2 * diff, weight, reduction)


def l1_loss(input: Array, target: Array, *, reduction: str = "mean",
            weight: Optional[Array] = None) -> Value:
    return _reduce_by_weight_sum(np.abs(input - target), weight, reduction)


def l1_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                           weight: Optional[Array] = None) -> Tuple[Value, Array]:
    diff = input - target
    return _by_weight_sum(np.abs(diff), np.sign(diff), weight, reduction)


def _huber(diff: Array, delta: float) -> Tuple[Array, Array]:
    delta = diff.dtype.type(delta)
    absdiff = np.abs(diff)
    loss = np.where(absdiff < delta, 0.5 * diff**2, delta * (absdiff - 0.5 * delta))
    grad = np.clip(diff, -delta, delta)
    return loss, grad


def huber_loss(input: Array, target: Array, reduction: str = "mean", delta: float = 1.0,
               weight: Optional[Array] = None) -> Value:
    loss, _ = _huber(input - target, delta)
    # PyTorch's weighted Huber mean is mean(w * l), not sum(w * l) / sum(w)
    return _reduce(loss if weight is None else weight * loss, reduction)


def huber_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean",
                              delta: float = 1.0, weight: Optional[Array] = None
                              ) -> Tuple[Value, Array]:
    loss, grad = _huber(input - target, delta)
    if weight is not None:
        loss, grad = weight * loss, weight * grad
    return _reduce(loss, reduction), grad * input.dtype.type(_scale(reduction, loss.size))


def _smooth_l1(diff: Array, beta: float) -> Tuple[Array, Array]:
    if beta == 0:  # PyTorch: beta == 0 is exactly l1_loss
        return np.abs(diff), np.sign(diff)
    beta = diff.dtype.type(beta)
    absdiff = np.abs(diff)
    loss = np.where(absdiff < beta, 0.5 * diff**2 / beta, absdiff - 0.5 * beta)
    grad = np.clip(diff / beta, -1, 1)
    return loss, grad


def smooth_l1_loss(input: Array, target: Array, *, reduction: str = "mean", beta: float = 1.0,
                   weight: Optional[Array] = None) -> Value:
    return _reduce_by_weight_sum(_smooth_l1(input - target, beta)[0], weight, reduction)


def smooth_l1_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                                  beta: float = 1.0, weight: Optional[Array] = None
                                  ) -> Tuple[Value, Array]:
    return _by_weight_sum(*_smooth_l1(input - target, beta), weight, reduction)


# ---- binary cross-entropy: mean = mean(w * l), as in PyTorch ---------------------------

def binary_cross_entropy(input: Array, target: Array, weight: Optional[Array] = None,
                         reduction: str = "mean") -> Value:
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(input), -100)  # PyTorch clamps the logs at -100
        log_1mp = np.maximum(np.log1p(-input), -100)
    loss = (target - 1) * log_1mp - target * log_p
    return _reduce(loss if weight is None else weight * loss, reduction)


def binary_cross_entropy_value_and_grad(input: Array, target: Array,
                                        weight: Optional[Array] = None, reduction: str = "mean"
                                        ) -> Tuple[Value, Array]:
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(input), -100)
        log_1mp = np.maximum(np.log1p(-input), -100)
    loss = (target - 1) * log_1mp - target * log_p
    grad = (input - target) / np.maximum((1 - input) * input, input.dtype.type(1e-12))
    if weight is not None:
        loss, grad = weight * loss, weight * grad
    return _reduce(loss, reduction), grad * input.dtype.type(_scale(reduction, loss.size))


def binary_cross_entropy_with_logits(input: Array, target: Array,
                                     weight: Optional[Array] = None, reduction: str = "mean",
                                     pos_weight: Optional[Array] = None) -> Value:
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    loss = (1 - target) * input + log_weight * np.logaddexp(0, -input)  # softplus(-x)
    return _reduce(loss if weight is None else weight * loss, reduction)


def binary_cross_entropy_with_logits_value_and_grad(
        input: Array, target: Array, weight: Optional[Array] = None, reduction: str = "mean",
        pos_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    softplus_neg = np.logaddexp(0, -input)
    sigmoid = np.exp(-softplus_neg)
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
        grad = sigmoid - target
    else:
        log_weight = 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + log_weight * softplus_neg
        grad = log_weight * sigmoid - pos_weight * target
    if weight is not None:
        loss, grad = weight * loss, weight * grad
    return _reduce(loss, reduction), grad * input.dtype.type(_scale(reduction, loss.size))


# ---- softmax cross-entropy and NLL over rows of classes --------------------------------
#
# An input (N, C, d1, ..., dk) is N d1 ... dk rows of C classes (PyTorch's layout, the class
# axis second); (C,) is one row. The reference moves the class axis last, computes on the
# (rows, C) matrix and moves it back.

def _log_softmax(x: Array) -> Array:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _class_weight(weight: Optional[Array], x: Array) -> Array:
    return np.ones(x.shape[1], dtype=x.dtype) if weight is None else weight


def _as_rows(a: Array, input: Array) -> Array:
    """An array of the input's shape as (rows, C), the class axis last."""
    if input.ndim == 1:
        return a.reshape(1, -1)
    return np.moveaxis(a, 1, -1).reshape(-1, input.shape[1])


def _from_rows(rows: Array, input: Array) -> Array:
    """The inverse of :func:`_as_rows`."""
    if input.ndim == 1:
        return rows.reshape(input.shape)
    batch = (input.shape[0],) + input.shape[2:]
    return np.ascontiguousarray(np.moveaxis(rows.reshape(batch + (input.shape[1],)), -1, 1))


def _cross_entropy_rows(x: Array, target: Array, w: Array, sw: Optional[Array],
                        ignore_index: int, reduction: str, q: Any
                        ) -> Tuple[Value, Array, Array, Array]:
    """(reduced value, gradient, Hessian diagonal, row losses) of rows x (M, C), targets
    (M,) labels or (M, C) probabilities, sample weights (M,) or None."""
    n, c = x.shape
    log_p = _log_softmax(x)
    p = np.exp(log_p)
    if target.ndim == 2:  # class probabilities; the mean divides by N (or sum(sw))
        t = target * (1 - q) + q / c
        loss = -(w * t * log_p).sum(axis=1)
        total = (w * t).sum(axis=1, keepdims=True)
        grad = total * p - w * t
        hess = total * p * (1 - p)
        if sw is None:
            s = x.dtype.type(_scale(reduction, n))
            return _reduce(loss, reduction), grad * s, hess * s, loss
        s = x.dtype.type(_scale(reduction, sw.sum()))
        loss = sw * loss
        return (_reduce(loss, reduction, sw.sum()), grad * sw[:, None] * s,
                hess * sw[:, None] * s, loss)
    keep = target != ignore_index
    y = np.where(keep, target, 0)
    rows = np.arange(n)
    w_y = w[y] * keep
    loss = -(1 - q) * w_y * log_p[rows, y]
    if q != 0:  # skipped at q = 0, where a -inf (masked) logit would give 0 * -inf = NaN
        loss = loss - q / c * (w * log_p).sum(axis=1) * keep
    total = ((1 - q) * w_y + q / c * w.sum() * keep)[:, None]
    grad = total * p - q / c * w * keep[:, None]
    grad[rows, y] -= (1 - q) * w_y
    hess = total * p * (1 - p)
    if sw is not None:
        loss, grad, hess = sw * loss, grad * sw[:, None], hess * sw[:, None]
    total_weight = (w_y if sw is None else sw * w_y).sum()  # the mean: kept rows' weights
    scale = x.dtype.type(_scale(reduction, total_weight))
    with np.errstate(invalid="ignore"):  # kept rows of total weight 0: 0/0 = NaN, as PyTorch
        grad = np.where(keep[:, None], grad * scale, 0)  # ignored rows: exactly 0
        hess = np.where(keep[:, None], hess * scale, 0)
    return (_reduce(loss, reduction, total_weight), grad.astype(x.dtype, copy=False),
            hess.astype(x.dtype, copy=False), loss)


def _cross_entropy(input: Array, target: Array, weight: Optional[Array], ignore_index: int,
                   reduction: str, label_smoothing: float, sample_weight: Optional[Array]
                   ) -> Tuple[Value, Array, Array]:
    x = _as_rows(input, input)
    probs = target.dtype.kind == "f"
    t = _as_rows(target, input) if probs else target.reshape(-1)
    sw = None if sample_weight is None else sample_weight.reshape(-1)
    value, grad, hess, loss = _cross_entropy_rows(
        x, t, _class_weight(weight, x), sw, ignore_index, reduction,
        input.dtype.type(label_smoothing))
    if reduction == "none":
        value = np.asarray(loss.reshape(input.shape[:1] + input.shape[2:]
                                        if input.ndim > 1 else ()))
    return value, _from_rows(grad, input), _from_rows(hess, input)


def cross_entropy(input: Array, target: Array, weight: Optional[Array] = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, sample_weight: Optional[Array] = None
                  ) -> Value:
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                          sample_weight)[0]


def cross_entropy_value_and_grad(input: Array, target: Array, weight: Optional[Array] = None,
                                 ignore_index: int = -100, reduction: str = "mean",
                                 label_smoothing: float = 0.0, *,
                                 sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                          sample_weight)[:2]


def _nll(input: Array, target: Array, weight: Optional[Array], ignore_index: int,
         reduction: str, sample_weight: Optional[Array]) -> Tuple[Value, Array]:
    x = _as_rows(input, input)
    n = x.shape[0]
    labels = target.reshape(-1)
    keep = labels != ignore_index
    y = np.where(keep, labels, 0)
    w_y = _class_weight(weight, x)[y] * keep
    loss = -w_y * x[np.arange(n), y]
    if sample_weight is not None:
        sw = sample_weight.reshape(-1)
        loss, w_y = sw * loss, sw * w_y
    grad = np.zeros_like(x)
    with np.errstate(invalid="ignore"):  # kept rows of total weight 0: 0/0 = NaN, as PyTorch
        grad[np.arange(n), y] = np.where(keep, -w_y * x.dtype.type(_scale(reduction,
                                                                      w_y.sum())), 0)
    if reduction == "none":
        return np.asarray(loss.reshape(target.shape)), _from_rows(grad, input)
    return _reduce(loss, reduction, w_y.sum()), _from_rows(grad, input)


def nll_loss(input: Array, target: Array, weight: Optional[Array] = None,
             ignore_index: int = -100, reduction: str = "mean", *,
             sample_weight: Optional[Array] = None) -> Value:
    return _nll(input, target, weight, ignore_index, reduction, sample_weight)[0]


def nll_loss_value_and_grad(input: Array, target: Array, weight: Optional[Array] = None,
                            ignore_index: int = -100, reduction: str = "mean", *,
                            sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    return _nll(input, target, weight, ignore_index, reduction, sample_weight)


# ---- KL divergence ---------------------------------------------------------------------

def _kl_div_reduce(loss: Array, reduction: str) -> Value:
    if reduction == "batchmean":  # PyTorch: sum / batch size (the true KL per sample)
        if loss.ndim == 0:
            return loss.sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # empty batch: NaN, as PyTorch
            return loss.sum() / loss.dtype.type(loss.shape[0])
    return _reduce(loss, reduction)


def _kl_div_scale(input: Array, reduction: str) -> Any:
    if reduction == "batchmean":
        return input.dtype.type(1 / input.shape[0] if input.ndim and input.shape[0] else 1)
    return input.dtype.type(_scale(reduction, input.size))


def kl_div(input: Array, target: Array, *, reduction: str = "mean",
           log_target: bool = False) -> Value:
    return kl_div_value_and_grad(input, target, reduction=reduction, log_target=log_target)[0]


def kl_div_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                          log_target: bool = False) -> Tuple[Value, Array]:
    if log_target:
        p = np.exp(target)
        loss = p * (target - input)
        grad = -p
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            target_log_target = np.where(target == 0, 0, target * np.log(target))  # 0 log 0 = 0
        loss = target_log_target - target * input
        grad = -target
    return _kl_div_reduce(loss, reduction), grad * _kl_div_scale(input, reduction)


# ---- gradients alone: the same formulas ------------------------------------------------

def mse_loss_grad(input: Array, target: Array, **kw: Any) -> Array:
    return mse_loss_value_and_grad(input, target, **kw)[1]


def l1_loss_grad(input: Array, target: Array, **kw: Any) -> Array:
    return l1_loss_value_and_grad(input, target, **kw)[1]


def huber_loss_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return huber_loss_value_and_grad(input, target, *args, **kw)[1]


def smooth_l1_loss_grad(input: Array, target: Array, **kw: Any) -> Array:
    return smooth_l1_loss_value_and_grad(input, target, **kw)[1]


def binary_cross_entropy_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return binary_cross_entropy_value_and_grad(input, target, *args, **kw)[1]


def binary_cross_entropy_with_logits_grad(input: Array, target: Array, *args: Any,
                                          **kw: Any) -> Array:
    return binary_cross_entropy_with_logits_value_and_grad(input, target, *args, **kw)[1]


def cross_entropy_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return cross_entropy_value_and_grad(input, target, *args, **kw)[1]


def nll_loss_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return nll_loss_value_and_grad(input, target, *args, **kw)[1]


def kl_div_grad(input: Array, target: Array, **kw: Any) -> Array:
    return kl_div_value_and_grad(input, target, **kw)[1]


# ---- Hessians (the diagonal, with respect to the input) ---------------------------------

def cross_entropy_grad_hess(input: Array, target: Array, weight: Optional[Array] = None,
                            ignore_index: int = -100, reduction: str = "mean",
                            label_smoothing: float = 0.0, *,
                            sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    """A row's loss sum_k a_k (lse - x_k) has gradient A p - a and Hessian diagonal
    A p (1 - p), A = sum_k a_k, p = softmax(x)."""
    return _cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                          sample_weight)[1:]


def nll_loss_grad_hess(input: Array, target: Array, weight: Optional[Array] = None,
                       ignore_index: int = -100, reduction: str = "mean", *,
                       sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    """Linear in the input: the Hessian is 0."""
    grad = _nll(input, target, weight, ignore_index, reduction, sample_weight)[1]
    return grad, np.zeros_like(grad)


# ---- margin losses over (N, C) rows and labels -------------------------------------------

def multi_margin_loss(input: Array, target: Array, p: int = 1, margin: float = 1.0,
                      weight: Optional[Array] = None, reduction: str = "mean", *,
                      sample_weight: Optional[Array] = None) -> Value:
    return multi_margin_loss_value_and_grad(input, target, p, margin, weight, reduction,
                                            sample_weight=sample_weight)[0]


def _multi_margin(input: Array, target: Array, p: int, margin: float, weight: Optional[Array],
                  reduction: str, sample_weight: Optional[Array]
                  ) -> Tuple[Value, Array, Array]:
    """PyTorch's: l_i = (w_{y_i} / C) sum_{k != y_i} max(0, margin - x_{i,y_i} + x_ik)^p;
    "mean" divides by N (by sum(sample_weight) with sample weights)."""
    x = input.reshape(1, -1) if input.ndim == 1 else input
    y = target.reshape(-1)
    n, c = x.shape
    rows = np.arange(n)
    w_y = _class_weight(weight, x)[y]
    z = margin - x[rows, y][:, None] + x
    active = z > 0
    active[rows, y] = False
    zp = np.where(active, z, 0)
    loss = w_y / c * (zp ** p).sum(axis=1)
    g = np.where(active, (w_y / c)[:, None] * (1.0 if p == 1 else 2.0 * zp), 0)
    h = np.where(active, (w_y / c)[:, None] * (0.0 if p == 1 else 2.0), 0)
    g[rows, y] = -g.sum(axis=1)
    h[rows, y] = h.sum(axis=1)
    denominator = n
    if sample_weight is not None:
        sw = sample_weight.reshape(-1)
        loss, g, h, denominator = sw * loss, g * sw[:, None], h * sw[:, None], sw.sum()
    scale = x.dtype.type(_scale(reduction, denominator))
    value = _reduce(loss.reshape(target.shape), reduction, denominator)
    grad = (g * scale).astype(x.dtype, copy=False).reshape(input.shape)
    return value, grad, (h * scale).astype(x.dtype, copy=False).reshape(input.shape)


def multi_margin_loss_value_and_grad(input: Array, target: Array, p: int = 1,
                                     margin: float = 1.0, weight: Optional[Array] = None,
                                     reduction: str = "mean", *,
                                     sample_weight: Optional[Array] = None
                                     ) -> Tuple[Value, Array]:
    return _multi_margin(input, target, p, margin, weight, reduction, sample_weight)[:2]


def multi_margin_loss_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return multi_margin_loss_value_and_grad(input, target, *args, **kw)[1]


def multi_margin_loss_grad_hess(input: Array, target: Array, p: int = 1, margin: float = 1.0,
                                weight: Optional[Array] = None, reduction: str = "mean", *,
                                sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    """Piecewise linear (p = 1: Hessian 0) or quadratic (p = 2: 2 w_y / C per active term)."""
    return _multi_margin(input, target, p, margin, weight, reduction, sample_weight)[1:]


# ---- losses of rows and target rows (the class axis last) -------------------------------

def _multilabel_soft_margin(input: Array, target: Array, weight: Optional[Array],
                            reduction: str, sample_weight: Optional[Array]
                            ) -> Tuple[Value, Array, Array]:
    """PyTorch's: l_i = mean_k w_k (-(t log sigmoid(x) + (1 - t) log sigmoid(-x))); "mean"
    divides by the number of rows (by sum(sample_weight) with sample weights)."""
    c = input.shape[-1]
    w = np.ones(c, input.dtype) if weight is None else weight
    log_sig, log_sig_neg = -np.logaddexp(0, -input), -np.logaddexp(0, input)
    loss = (w * -(target * log_sig + (1 - target) * log_sig_neg)).sum(axis=-1) / c
    sig = np.exp(log_sig)
    grad = w * (sig - target) / c
    hess = w * np.exp(log_sig + log_sig_neg) / c
    denominator = loss.size
    if sample_weight is not None:
        loss = sample_weight * loss
        grad, hess = grad * sample_weight[..., None], hess * sample_weight[..., None]
        denominator = sample_weight.sum()
    scale = input.dtype.type(_scale(reduction, denominator))
    return (_reduce(loss, reduction, denominator), (grad * scale).astype(input.dtype),
            (hess * scale).astype(input.dtype))


def multilabel_soft_margin_loss(input: Array, target: Array, weight: Optional[Array] = None,
                                reduction: str = "mean", *,
                                sample_weight: Optional[Array] = None) -> Value:
    return _multilabel_soft_margin(input, target, weight, reduction, sample_weight)[0]


def multilabel_soft_margin_loss_value_and_grad(input: Array, target: Array,
                                               weight: Optional[Array] = None,
                                               reduction: str = "mean", *,
                                               sample_weight: Optional[Array] = None
                                               ) -> Tuple[Value, Array]:
    return _multilabel_soft_margin(input, target, weight, reduction, sample_weight)[:2]


def multilabel_soft_margin_loss_grad(input: Array, target: Array, *args: Any,
                                     **kw: Any) -> Array:
    return multilabel_soft_margin_loss_value_and_grad(input, target, *args, **kw)[1]


def multilabel_soft_margin_loss_grad_hess(input: Array, target: Array,
                                          weight: Optional[Array] = None,
                                          reduction: str = "mean", *,
                                          sample_weight: Optional[Array] = None
                                          ) -> Tuple[Array, Array]:
    """hess = w sigmoid(x) sigmoid(-x) / C."""
    return _multilabel_soft_margin(input, target, weight, reduction, sample_weight)[1:]


# ---- losses of rows and rows of class indices ---------------------------------------------

def _multilabel_margin(input: Array, target: Array, reduction: str,
                       sample_weight: Optional[Array]) -> Tuple[Value, Array]:
    """PyTorch's: with the row's targets y_1 .. y_J (its indices before the first -1, repeats
    counted) and T their set, l_i = (1 / C) sum_j sum_{k not in T} max(0, 1 - x_{y_j} + x_k);
    gradient 1 / C per active pair (z > 0), + at k and - at y_j. "mean" divides by N (by
    sum(sample_weight) with sample weights)."""
    x = input.reshape(1, -1) if input.ndim == 1 else input
    y = target.reshape(x.shape)
    n, c = x.shape
    in_list = np.cumprod(y >= 0, axis=1).astype(bool)  # the list ends at the first -1
    rows = np.arange(n)
    is_target = np.zeros((n, c), bool)
    is_target[np.broadcast_to(rows[:, None], y.shape)[in_list], y[in_list]] = True
    loss = np.zeros(n)
    g = np.zeros((n, c))
    for j in range(int(in_list.sum(axis=1).max(initial=0))):  # position j of every list
        kept = in_list[:, j]
        t = np.where(kept, y[:, j], 0)
        z = 1.0 - x[rows, t][:, None] + x
        on = (z > 0) & ~is_target & kept[:, None]
        loss += np.where(on, z, 0).sum(axis=1)
        g += on
        g[rows, t] -= on.sum(axis=1)
    loss, g = loss / c, g / c
    denominator = n
    if sample_weight is not None:
        sw = sample_weight.reshape(-1)
        loss, g, denominator = sw * loss, g * sw[:, None], sw.sum()
    scale = x.dtype.type(_scale(reduction, denominator))
    value = _reduce(loss.astype(x.dtype).reshape(target.shape[:-1]), reduction, denominator)
    return value, (g * scale).astype(x.dtype, copy=False).reshape(input.shape)


def multilabel_margin_loss(input: Array, target: Array, reduction: str = "mean", *,
                           sample_weight: Optional[Array] = None) -> Value:
    return _multilabel_margin(input, target, reduction, sample_weight)[0]


def multilabel_margin_loss_value_and_grad(input: Array, target: Array,
                                          reduction: str = "mean", *,
                                          sample_weight: Optional[Array] = None
                                          ) -> Tuple[Value, Array]:
    return _multilabel_margin(input, target, reduction, sample_weight)


def multilabel_margin_loss_grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
    return multilabel_margin_loss_value_and_grad(input, target, *args, **kw)[1]


def multilabel_margin_loss_grad_hess(input: Array, target: Array, reduction: str = "mean", *,
                                     sample_weight: Optional[Array] = None
                                     ) -> Tuple[Array, Array]:
    """Piecewise linear: the Hessian is 0."""
    grad = _multilabel_margin(input, target, reduction, sample_weight)[1]
    return grad, np.zeros_like(grad)



# ---- losses of rows of several float inputs (the gradient: one per input) -----------------

def _row_reduce(loss: Array, grads: Tuple[Array, ...], x: Array, reduction: str,
                sample_weight: Optional[Array]) -> Tuple[Value, Tuple[Array, ...]]:
    """Row losses (N,) and their per-row gradients reduced: "mean" divides by N (by
    sum(sample_weight) with sample weights)."""
    denominator: Any = loss.size
    if sample_weight is not None:
        sw = sample_weight.reshape(-1)
        loss, grads = sw * loss, tuple(g * sw[:, None] for g in grads)
        denominator = sw.sum()
    scale = x.dtype.type(_scale(reduction, denominator))
    value = _reduce(loss.astype(x.dtype).reshape(x.shape[:-1]), reduction, denominator)
    return value, tuple((g * scale).astype(x.dtype, copy=False).reshape(x.shape) for g in grads)


def _cosine_embedding(input1: Array, input2: Array, target: Array, margin: float,
                      reduction: str, sample_weight: Optional[Array]
                      ) -> Tuple[Value, Tuple[Array, ...]]:
    """PyTorch's: cos = a.b / sqrt((|a|^2 + e)(|b|^2 + e)), e = float32 1e-12; 1 - cos for
    y = 1, max(0, cos - margin) for y = -1, else 0."""
    a, b = input1.reshape(-1, input1.shape[-1]), input2.reshape(-1, input1.shape[-1])
    y = target.reshape(-1)
    e = float(np.float32(1e-12))
    ma, mb = (a * a).sum(axis=1) + e, (b * b).sum(axis=1) + e
    denom = np.sqrt(ma * mb)
    cos = (a * b).sum(axis=1) / denom
    hinge = cos - margin
    loss = np.where(y == 1, 1 - cos, np.where((y == -1) & (hinge > 0), hinge, 0.0))
    d = np.where(y == 1, -1.0, np.where((y == -1) & (hinge >= 0), 1.0, 0.0))[:, None]
    ga = d * (b / denom[:, None] - (cos / ma)[:, None] * a)
    gb = d * (a / denom[:, None] - (cos / mb)[:, None] * b)
    return _row_reduce(loss, (ga, gb), input1, reduction, sample_weight)


def cosine_embedding_loss(input1: Array, input2: Array, target: Array, margin: float = 0.0,
                          reduction: str = "mean", *,
                          sample_weight: Optional[Array] = None) -> Value:
    return _cosine_embedding(input1, input2, target, margin, reduction, sample_weight)[0]


def cosine_embedding_loss_value_and_grad(input1: Array, input2: Array, target: Array,
                                         margin: float = 0.0, reduction: str = "mean", *,
                                         sample_weight: Optional[Array] = None
                                         ) -> Tuple[Value, Tuple[Array, ...]]:
    return _cosine_embedding(input1, input2, target, margin, reduction, sample_weight)


def cosine_embedding_loss_grad(input1: Array, input2: Array, target: Array, *args: Any,
                               **kw: Any) -> Tuple[Array, ...]:
    return cosine_embedding_loss_value_and_grad(input1, input2, target, *args, **kw)[1]


def _distance(u: Array, v: Array, p: float, eps: float) -> Tuple[Array, Array]:
    """torch's pairwise_distance ||u - v + eps||_p per row and its gradient with respect to
    u (0 where the distance is 0)."""
    w = u - v + eps
    if p == 2:
        d = np.sqrt((w * w).sum(axis=1))
        g = w / np.where(d == 0, 1.0, d)[:, None]
    else:
        d = (np.abs(w) ** p).sum(axis=1) ** (1.0 / p)
        dp = np.where(d == 0, 1.0, d) ** (p - 1)
        g = np.sign(w) * np.abs(w) ** (p - 1) / dp[:, None]
    return d, np.where((d == 0)[:, None], 0.0, g)


def _triplet(anchor: Array, positive: Array, negative: Array, margin: float, p: float,
             eps: float, swap: bool, reduction: str, sample_weight: Optional[Array]
             ) -> Tuple[Value, Tuple[Array, ...]]:
    """PyTorch's: max(0, margin + d(a, b) - d_neg), d_neg = d(a, n) or, with swap,
    min(d(a, n), d(b, n)) (a tie splits the gradient in halves)."""
    c = anchor.shape[-1]
    a, b, n = (z.reshape(-1, c) for z in (anchor, positive, negative))
    dab, uab = _distance(a, b, p, eps)
    dan, uan = _distance(a, n, p, eps)
    wan, wbn = np.ones(len(a)), np.zeros(len(a))
    dneg, ubn = dan, np.zeros_like(a)
    if swap:
        dbn, ubn = _distance(b, n, p, eps)
        wan = np.where(dbn < dan, 0.0, np.where(dbn == dan, 0.5, 1.0))
        wbn = 1.0 - wan
        dneg = np.minimum(dan, dbn)
    z = margin + dab - dneg
    on = (z >= 0)[:, None]
    ga = np.where(on, uab - wan[:, None] * uan, 0.0)
    gb = np.where(on, -uab - wbn[:, None] * ubn, 0.0)
    gn = np.where(on, wan[:, None] * uan + wbn[:, None] * ubn, 0.0)
    return _row_reduce(np.maximum(z, 0.0), (ga, gb, gn), anchor, reduction, sample_weight)


def triplet_margin_loss(anchor: Array, positive: Array, negative: Array, margin: float = 1.0,
                        p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                        reduction: str = "mean", *,
                        sample_weight: Optional[Array] = None) -> Value:
    return _triplet(anchor, positive, negative, margin, p, eps, swap, reduction,
                    sample_weight)[0]


def triplet_margin_loss_value_and_grad(anchor: Array, positive: Array, negative: Array,
                                       margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                                       swap: bool = False, reduction: str = "mean", *,
                                       sample_weight: Optional[Array] = None
                                       ) -> Tuple[Value, Tuple[Array, ...]]:
    return _triplet(anchor, positive, negative, margin, p, eps, swap, reduction, sample_weight)


def triplet_margin_loss_grad(anchor: Array, positive: Array, negative: Array, *args: Any,
                             **kw: Any) -> Tuple[Array, ...]:
    return triplet_margin_loss_value_and_grad(anchor, positive, negative, *args, **kw)[1]
