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


# ---- weights and reductions of the elementwise losses ----------------------------------
#
# Every elementwise loss takes torch's weights (where torch has them) and ``sample_weight``
# (scikit-learn's); both multiply the element's loss. "mean" divides the weighted sum by
# sum(weight * sample_weight) for the losses whose torch mean is sum(w l) / sum(w) (by_sum),
# and by sum(sample_weight) (N without it) for the others.

def _weights(weight: Optional[Array], sample_weight: Optional[Array]) -> Optional[Array]:
    """The product of the weights given, or None."""
    if weight is None:
        return sample_weight
    return weight if sample_weight is None else weight * sample_weight


def _denominator(x: Array, weight: Optional[Array], sample_weight: Optional[Array],
                 by_sum: bool) -> Any:
    """What "mean" divides the weighted sum by."""
    if by_sum and weight is not None:
        return (weight if sample_weight is None else weight * sample_weight).sum()
    if sample_weight is not None:
        return sample_weight.sum()
    return x.dtype.type(x.size)


def _reduced(loss: Array, reduction: str, weight: Optional[Array],
             sample_weight: Optional[Array], by_sum: bool = False) -> Value:
    """The reduced weighted loss."""
    w = _weights(weight, sample_weight)
    weighted = loss if w is None else w * loss
    return _reduce(weighted, reduction, _denominator(loss, weight, sample_weight, by_sum))


def _scaled(derivative: Array, reduction: str, weight: Optional[Array],
            sample_weight: Optional[Array], by_sum: bool = False) -> Array:
    """A derivative of each element's loss (gradient or Hessian) as one of the reduced
    weighted loss: times the weights, divided by the mean's denominator."""
    w = _weights(weight, sample_weight)
    scale = derivative.dtype.type(_scale(reduction, _denominator(derivative, weight,
                                                                 sample_weight, by_sum)))
    return (derivative if w is None else w * derivative) * scale


def _value_and_grad(loss: Array, grad: Array, reduction: str, weight: Optional[Array],
                    sample_weight: Optional[Array], by_sum: bool = False
                    ) -> Tuple[Value, Array]:
    return (_reduced(loss, reduction, weight, sample_weight, by_sum),
            _scaled(grad, reduction, weight, sample_weight, by_sum))


def _grad_hess(grad: Array, hess: Array, reduction: str, weight: Optional[Array],
               sample_weight: Optional[Array], by_sum: bool = False) -> Tuple[Array, Array]:
    return (_scaled(grad, reduction, weight, sample_weight, by_sum),
            _scaled(hess, reduction, weight, sample_weight, by_sum))


# ---- regression losses -----------------------------------------------------------------

def mse_loss(input: Array, target: Array, *, reduction: str = "mean",
             weight: Optional[Array] = None, sample_weight: Optional[Array] = None) -> Value:
    return _reduced((input - target) ** 2, reduction, weight, sample_weight, by_sum=True)


def mse_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                            weight: Optional[Array] = None,
                            sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    diff = input - target
    return _value_and_grad(diff**2, 2 * diff, reduction, weight, sample_weight, by_sum=True)


def mse_loss_grad_hess(input: Array, target: Array, *, reduction: str = "mean",
                       weight: Optional[Array] = None, sample_weight: Optional[Array] = None
                       ) -> Tuple[Array, Array]:
    diff = input - target
    return _grad_hess(2 * diff, np.full_like(diff, 2), reduction, weight, sample_weight,
                      by_sum=True)


def l1_loss(input: Array, target: Array, *, reduction: str = "mean",
            weight: Optional[Array] = None, sample_weight: Optional[Array] = None) -> Value:
    return _reduced(np.abs(input - target), reduction, weight, sample_weight, by_sum=True)


def l1_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                           weight: Optional[Array] = None,
                           sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    diff = input - target
    return _value_and_grad(np.abs(diff), np.sign(diff), reduction, weight, sample_weight,
                           by_sum=True)


def _huber(diff: Array, delta: float) -> Tuple[Array, Array, Array]:
    """Loss, gradient and Hessian (1 on the closed [-delta, delta], as scikit-learn)."""
    delta = diff.dtype.type(delta)
    absdiff = np.abs(diff)
    loss = np.where(absdiff < delta, 0.5 * diff**2, delta * (absdiff - 0.5 * delta))
    grad = np.clip(diff, -delta, delta)
    hess = np.where(absdiff <= delta, 1, 0).astype(diff.dtype) + (diff - diff)  # NaN stays
    return loss, grad, hess


# PyTorch's weighted Huber mean is mean(w * l), not sum(w * l) / sum(w)
def huber_loss(input: Array, target: Array, reduction: str = "mean", delta: float = 1.0,
               weight: Optional[Array] = None, *, sample_weight: Optional[Array] = None
               ) -> Value:
    return _reduced(_huber(input - target, delta)[0], reduction, weight, sample_weight)


def huber_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean",
                              delta: float = 1.0, weight: Optional[Array] = None, *,
                              sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    loss, grad, _ = _huber(input - target, delta)
    return _value_and_grad(loss, grad, reduction, weight, sample_weight)


def huber_loss_grad_hess(input: Array, target: Array, reduction: str = "mean",
                         delta: float = 1.0, weight: Optional[Array] = None, *,
                         sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    _, grad, hess = _huber(input - target, delta)
    return _grad_hess(grad, hess, reduction, weight, sample_weight)


def _smooth_l1(diff: Array, beta: float) -> Tuple[Array, Array, Array]:
    if beta == 0:  # PyTorch: beta == 0 is exactly l1_loss
        return np.abs(diff), np.sign(diff), np.zeros_like(diff) + (diff - diff)
    beta = diff.dtype.type(beta)
    absdiff = np.abs(diff)
    loss = np.where(absdiff < beta, 0.5 * diff**2 / beta, absdiff - 0.5 * beta)
    grad = np.clip(diff / beta, -1, 1)
    hess = np.where(absdiff <= beta, 1 / beta, 0).astype(diff.dtype) + (diff - diff)
    return loss, grad, hess


def smooth_l1_loss(input: Array, target: Array, *, reduction: str = "mean", beta: float = 1.0,
                   weight: Optional[Array] = None, sample_weight: Optional[Array] = None
                   ) -> Value:
    return _reduced(_smooth_l1(input - target, beta)[0], reduction, weight, sample_weight,
                    by_sum=True)


def smooth_l1_loss_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                                  beta: float = 1.0, weight: Optional[Array] = None,
                                  sample_weight: Optional[Array] = None
                                  ) -> Tuple[Value, Array]:
    loss, grad, _ = _smooth_l1(input - target, beta)
    return _value_and_grad(loss, grad, reduction, weight, sample_weight, by_sum=True)


def smooth_l1_loss_grad_hess(input: Array, target: Array, *, reduction: str = "mean",
                             beta: float = 1.0, weight: Optional[Array] = None,
                             sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    _, grad, hess = _smooth_l1(input - target, beta)
    return _grad_hess(grad, hess, reduction, weight, sample_weight, by_sum=True)


# ---- binary cross-entropy: mean = mean(w * l), as in PyTorch ---------------------------

def _bce(p: Array, y: Array) -> Tuple[Array, Array, Array]:
    """Loss, gradient, Hessian; the logs clamped at -100 and p (1 - p) at 1e-12 (PyTorch)."""
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(p), -100)
        log_1mp = np.maximum(np.log1p(-p), -100)
    loss = (y - 1) * log_1mp - y * log_p
    den = np.maximum((1 - p) * p, p.dtype.type(1e-12))
    # y / p^2 + (1 - y) / (1 - p)^2 over one denominator, clamped as the gradient's
    return loss, (p - y) / den, (p**2 - 2 * p * y + y) / den**2


def binary_cross_entropy(input: Array, target: Array, weight: Optional[Array] = None,
                         reduction: str = "mean", *, sample_weight: Optional[Array] = None
                         ) -> Value:
    return _reduced(_bce(input, target)[0], reduction, weight, sample_weight)


def binary_cross_entropy_value_and_grad(input: Array, target: Array,
                                        weight: Optional[Array] = None, reduction: str = "mean",
                                        *, sample_weight: Optional[Array] = None
                                        ) -> Tuple[Value, Array]:
    loss, grad, _ = _bce(input, target)
    return _value_and_grad(loss, grad, reduction, weight, sample_weight)


def binary_cross_entropy_grad_hess(input: Array, target: Array, weight: Optional[Array] = None,
                                   reduction: str = "mean", *,
                                   sample_weight: Optional[Array] = None
                                   ) -> Tuple[Array, Array]:
    _, grad, hess = _bce(input, target)
    return _grad_hess(grad, hess, reduction, weight, sample_weight)


def _bce_logits(x: Array, y: Array, pos_weight: Optional[Array]
                ) -> Tuple[Array, Array, Array]:
    """Loss, gradient, Hessian of the logit form; lw = 1 + (pos_weight - 1) y."""
    softplus_neg = np.logaddexp(0, -x)  # softplus(-x)
    sigmoid = np.exp(-softplus_neg)
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
    loss = (1 - y) * x + log_weight * softplus_neg
    grad = log_weight * sigmoid - (y if pos_weight is None else pos_weight * y)
    hess = log_weight * sigmoid * np.exp(-np.logaddexp(0, x))  # sigmoid(x) sigmoid(-x)
    return loss, grad, hess


def binary_cross_entropy_with_logits(input: Array, target: Array,
                                     weight: Optional[Array] = None, reduction: str = "mean",
                                     pos_weight: Optional[Array] = None, *,
                                     sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_bce_logits(input, target, pos_weight)[0], reduction, weight, sample_weight)


def binary_cross_entropy_with_logits_value_and_grad(
        input: Array, target: Array, weight: Optional[Array] = None, reduction: str = "mean",
        pos_weight: Optional[Array] = None, *, sample_weight: Optional[Array] = None
) -> Tuple[Value, Array]:
    loss, grad, _ = _bce_logits(input, target, pos_weight)
    return _value_and_grad(loss, grad, reduction, weight, sample_weight)


def binary_cross_entropy_with_logits_grad_hess(
        input: Array, target: Array, weight: Optional[Array] = None, reduction: str = "mean",
        pos_weight: Optional[Array] = None, *, sample_weight: Optional[Array] = None
) -> Tuple[Array, Array]:
    _, grad, hess = _bce_logits(input, target, pos_weight)
    return _grad_hess(grad, hess, reduction, weight, sample_weight)


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

def _kl_div_denominator(input: Array, reduction: str, sample_weight: Optional[Array]) -> Any:
    """"batchmean": the batch size (PyTorch); with sample weights, their sum over the size of
    one sample (the weighted mean of the samples' divergences). Else as any count-mean."""
    if reduction != "batchmean":
        return _denominator(input, None, sample_weight, False)
    batch = input.shape[0] if input.ndim else 1
    if sample_weight is None:
        return input.dtype.type(batch)
    return sample_weight.sum() * batch / input.size if input.size else input.dtype.type(0)


def _kl_div(input: Array, target: Array, log_target: bool) -> Tuple[Array, Array]:
    if log_target:
        p = np.exp(target)
        return p * (target - input), -p
    with np.errstate(divide="ignore", invalid="ignore"):
        target_log_target = np.where(target == 0, 0, target * np.log(target))  # 0 log 0 = 0
    return target_log_target - target * input, -target


def _kl_div_reduced(derivatives: Tuple[Array, ...], input: Array, reduction: str,
                    sample_weight: Optional[Array]) -> Tuple[Any, ...]:
    """The loss (first) reduced and the derivatives scaled, "batchmean" included."""
    denominator = _kl_div_denominator(input, reduction, sample_weight)
    sw = 1 if sample_weight is None else sample_weight
    mean = "mean" if reduction == "batchmean" else reduction
    loss, *rest = derivatives
    with np.errstate(invalid="ignore", divide="ignore"):  # empty batch: NaN, as PyTorch
        value = _reduce(sw * loss, mean, denominator)
        scale = input.dtype.type(_scale(mean, denominator))
    return (value, *(sw * d * scale for d in rest))


def kl_div(input: Array, target: Array, *, reduction: str = "mean",
           log_target: bool = False, sample_weight: Optional[Array] = None) -> Value:
    return kl_div_value_and_grad(input, target, reduction=reduction, log_target=log_target,
                                 sample_weight=sample_weight)[0]


def kl_div_value_and_grad(input: Array, target: Array, *, reduction: str = "mean",
                          log_target: bool = False, sample_weight: Optional[Array] = None
                          ) -> Tuple[Value, Array]:
    value, grad = _kl_div_reduced(_kl_div(input, target, log_target), input, reduction,
                                  sample_weight)
    return value, grad


def kl_div_grad_hess(input: Array, target: Array, *, reduction: str = "mean",
                     log_target: bool = False, sample_weight: Optional[Array] = None
                     ) -> Tuple[Array, Array]:
    loss, grad = _kl_div(input, target, log_target)
    _, g, h = _kl_div_reduced((loss, grad, np.zeros_like(input)), input, reduction,
                              sample_weight)  # linear in the input
    return g, h


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


# ---- the losses of torch.nn.functional, scikit-learn and optax added with issue 12 -----
#
# Each as _<loss>(x, y, ...) -> (loss, gradient, Hessian) of every element; the public
# forms weight and reduce them (mean = mean(sw l) / mean(sw): "count" losses).

def _softplus(v: Array) -> Array:
    return np.logaddexp(0, v)


def _sigmoid(v: Array) -> Array:
    return np.exp(-_softplus(-v))


def _soft_margin(x: Array, y: Array) -> Tuple[Array, Array, Array]:
    m = -y * x
    return _softplus(m), -y * _sigmoid(m), y * y * _sigmoid(m) * _sigmoid(-m)


def soft_margin_loss(input: Array, target: Array, reduction: str = "mean", *,
                     sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_soft_margin(input, target)[0], reduction, None, sample_weight)


def soft_margin_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean", *,
                                    sample_weight: Optional[Array] = None
                                    ) -> Tuple[Value, Array]:
    loss, grad, _ = _soft_margin(input, target)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def soft_margin_loss_grad_hess(input: Array, target: Array, reduction: str = "mean", *,
                               sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    _, grad, hess = _soft_margin(input, target)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def _stirling(y: Array) -> Array:
    """PyTorch's full=True term: y log y - y + log(2 pi y) / 2 where y > 1, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        term = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
    return np.where(y > 1, term, 0 * y)


def _poisson_nll(x: Array, y: Array, log_input: bool, full: bool, eps: float
                 ) -> Tuple[Array, Array, Array]:
    if log_input:
        loss, grad, hess = np.exp(x) - y * x, np.exp(x) - y, np.exp(x)
    else:
        u = x + x.dtype.type(eps)
        loss, grad, hess = x - y * np.log(u), 1 - y / u, y / u**2
    return (loss + _stirling(y) if full else loss), grad, hess


def poisson_nll_loss(input: Array, target: Array, log_input: bool = True, full: bool = False,
                     eps: float = 1e-8, reduction: str = "mean", *,
                     sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_poisson_nll(input, target, log_input, full, eps)[0], reduction, None,
                    sample_weight)


def poisson_nll_loss_value_and_grad(input: Array, target: Array, log_input: bool = True,
                                    full: bool = False, eps: float = 1e-8,
                                    reduction: str = "mean", *,
                                    sample_weight: Optional[Array] = None
                                    ) -> Tuple[Value, Array]:
    loss, grad, _ = _poisson_nll(input, target, log_input, full, eps)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def poisson_nll_loss_grad_hess(input: Array, target: Array, log_input: bool = True,
                               full: bool = False, eps: float = 1e-8, reduction: str = "mean",
                               *, sample_weight: Optional[Array] = None
                               ) -> Tuple[Array, Array]:
    _, grad, hess = _poisson_nll(input, target, log_input, full, eps)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def _hinge_embedding(x: Array, y: Array, margin: float) -> Tuple[Array, Array]:
    """PyTorch's: (y != 1) max(0, margin - x) + (y != -1) x; NaN targets give NaN."""
    r = margin - x
    nan = y - y
    loss = np.where(y != 1, np.maximum(r, 0), 0) + np.where(y != -1, x, 0) + nan
    grad = (np.where(y != -1, 1, 0) - np.where((y != 1) & (r >= 0), 1, 0)) + (r - r) + nan
    return loss.astype(x.dtype), grad.astype(x.dtype)


def hinge_embedding_loss(input: Array, target: Array, margin: float = 1.0,
                         reduction: str = "mean", *, sample_weight: Optional[Array] = None
                         ) -> Value:
    return _reduced(_hinge_embedding(input, target, margin)[0], reduction, None, sample_weight)


def hinge_embedding_loss_value_and_grad(input: Array, target: Array, margin: float = 1.0,
                                        reduction: str = "mean", *,
                                        sample_weight: Optional[Array] = None
                                        ) -> Tuple[Value, Array]:
    return _value_and_grad(*_hinge_embedding(input, target, margin), reduction, None,
                           sample_weight)


def _log_cosh(x: Array, y: Array) -> Tuple[Array, Array, Array]:
    d = x - y
    loss = np.logaddexp(d, -d) - np.log(x.dtype.type(2))  # log((e^d + e^-d) / 2)
    t = np.tanh(d)
    return loss, t, 1 / np.cosh(d) ** 2


def log_cosh_loss(input: Array, target: Array, reduction: str = "mean", *,
                  sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_log_cosh(input, target)[0], reduction, None, sample_weight)


def log_cosh_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean", *,
                                 sample_weight: Optional[Array] = None
                                 ) -> Tuple[Value, Array]:
    loss, grad, _ = _log_cosh(input, target)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def log_cosh_loss_grad_hess(input: Array, target: Array, reduction: str = "mean", *,
                            sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    _, grad, hess = _log_cosh(input, target)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def _hinge(x: Array, y: Array) -> Tuple[Array, Array]:
    """scikit-learn's SGD Hinge(1): max(0, 1 - y x), gradient -y where y x <= 1."""
    z = y * x
    return np.where(z <= 1, 1 - z, 0) + (z - z), np.where(z <= 1, -y, 0) + (z - z)


def hinge_loss(input: Array, target: Array, reduction: str = "mean", *,
               sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_hinge(input, target)[0], reduction, None, sample_weight)


def hinge_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean", *,
                              sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    return _value_and_grad(*_hinge(input, target), reduction, None, sample_weight)


def _squared_hinge(x: Array, y: Array) -> Tuple[Array, Array, Array]:
    """scikit-learn's SGD SquaredHinge(1): r = 1 - y x; r^2, -2 y r, 2 y^2 where r > 0."""
    r = 1 - y * x
    on = r > 0
    nan = r - r
    return (np.where(on, r * r, 0) + nan, np.where(on, -2 * y * r, 0) + nan,
            np.where(on, 2 * y * y, 0) + nan)


def squared_hinge_loss(input: Array, target: Array, reduction: str = "mean", *,
                       sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_squared_hinge(input, target)[0], reduction, None, sample_weight)


def squared_hinge_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean", *,
                                      sample_weight: Optional[Array] = None
                                      ) -> Tuple[Value, Array]:
    loss, grad, _ = _squared_hinge(input, target)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def squared_hinge_loss_grad_hess(input: Array, target: Array, reduction: str = "mean", *,
                                 sample_weight: Optional[Array] = None
                                 ) -> Tuple[Array, Array]:
    _, grad, hess = _squared_hinge(input, target)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def _modified_huber(x: Array, y: Array) -> Tuple[Array, Array, Array]:
    """scikit-learn's SGD ModifiedHuber, z = y x: 0 (z >= 1), (1 - z)^2 (z >= -1), -4 z."""
    z = y * x
    nan = z - z
    loss = np.where(z >= 1, 0, np.where(z >= -1, (1 - z) ** 2, -4 * z)) + nan
    grad = np.where(z >= 1, 0, np.where(z >= -1, -2 * y * (1 - z), -4 * y)) + nan
    hess = np.where((z < 1) & (z >= -1), 2 * y * y, 0) + nan
    return loss, grad, hess


def modified_huber_loss(input: Array, target: Array, reduction: str = "mean", *,
                        sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_modified_huber(input, target)[0], reduction, None, sample_weight)


def modified_huber_loss_value_and_grad(input: Array, target: Array, reduction: str = "mean",
                                       *, sample_weight: Optional[Array] = None
                                       ) -> Tuple[Value, Array]:
    loss, grad, _ = _modified_huber(input, target)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def modified_huber_loss_grad_hess(input: Array, target: Array, reduction: str = "mean", *,
                                  sample_weight: Optional[Array] = None
                                  ) -> Tuple[Array, Array]:
    _, grad, hess = _modified_huber(input, target)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def _epsilon_insensitive(x: Array, y: Array, epsilon: float) -> Tuple[Array, Array]:
    """scikit-learn's SGD EpsilonInsensitive: max(0, |x - y| - eps), gradient sign(x - y)
    outside the tube."""
    d = x - y
    grad = np.where(d > epsilon, 1, np.where(d < -epsilon, -1, 0)) + (d - d)
    return np.maximum(np.abs(d) - x.dtype.type(epsilon), 0), grad.astype(x.dtype)


def epsilon_insensitive_loss(input: Array, target: Array, epsilon: float = 0.1,
                             reduction: str = "mean", *,
                             sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_epsilon_insensitive(input, target, epsilon)[0], reduction, None,
                    sample_weight)


def epsilon_insensitive_loss_value_and_grad(input: Array, target: Array, epsilon: float = 0.1,
                                            reduction: str = "mean", *,
                                            sample_weight: Optional[Array] = None
                                            ) -> Tuple[Value, Array]:
    return _value_and_grad(*_epsilon_insensitive(input, target, epsilon), reduction, None,
                           sample_weight)


def _pinball(x: Array, y: Array, quantile: float) -> Tuple[Array, Array]:
    """scikit-learn's PinballLoss: d = y - x; q d (d >= 0), (q - 1) d (d < 0)."""
    q = x.dtype.type(quantile)
    d = y - x
    return (np.where(d >= 0, q * d, (q - 1) * d) + (d - d),
            np.where(d >= 0, -q, 1 - q).astype(x.dtype) + (d - d))


def pinball_loss(input: Array, target: Array, quantile: float = 0.5, reduction: str = "mean",
                 *, sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_pinball(input, target, quantile)[0], reduction, None, sample_weight)


def pinball_loss_value_and_grad(input: Array, target: Array, quantile: float = 0.5,
                                reduction: str = "mean", *,
                                sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    return _value_and_grad(*_pinball(input, target, quantile), reduction, None, sample_weight)


def _tweedie(x: Array, y: Array, power: float, log_input: bool
             ) -> Tuple[Array, Array, Array]:
    """scikit-learn's HalfTweedieLoss (constant terms dropped) of the log-mean x, or of the
    mean x (log_input=False: the same loss of mu = x, differentiated in mu)."""
    p = x.dtype.type(power)
    mu = np.exp(x) if log_input else x
    log_mu = x if log_input else np.log(x)
    if power == 1:
        loss = mu - y * log_mu
    elif power == 2:
        loss = log_mu + y / mu
    else:
        loss = mu ** (2 - p) / (2 - p) - y * mu ** (1 - p) / (1 - p)
    if log_input:  # derivatives in x = log mu
        grad = mu ** (2 - p) - y * mu ** (1 - p)
        hess = (2 - p) * mu ** (2 - p) - (1 - p) * y * mu ** (1 - p)
    else:
        grad = mu ** (1 - p) - y * mu ** (-p)
        hess = (1 - p) * mu ** (-p) + p * y * mu ** (-p - 1)
    return loss, grad, hess


def tweedie_loss(input: Array, target: Array, power: float = 1.5, log_input: bool = True,
                 reduction: str = "mean", *, sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_tweedie(input, target, power, log_input)[0], reduction, None,
                    sample_weight)


def tweedie_loss_value_and_grad(input: Array, target: Array, power: float = 1.5,
                                log_input: bool = True, reduction: str = "mean", *,
                                sample_weight: Optional[Array] = None) -> Tuple[Value, Array]:
    loss, grad, _ = _tweedie(input, target, power, log_input)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def tweedie_loss_grad_hess(input: Array, target: Array, power: float = 1.5,
                           log_input: bool = True, reduction: str = "mean", *,
                           sample_weight: Optional[Array] = None) -> Tuple[Array, Array]:
    _, grad, hess = _tweedie(input, target, power, log_input)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


def gamma_nll_loss(input: Array, target: Array, log_input: bool = True,
                   reduction: str = "mean", *, sample_weight: Optional[Array] = None) -> Value:
    """scikit-learn's HalfGammaLoss: the Tweedie loss of power 2."""
    return tweedie_loss(input, target, 2.0, log_input, reduction, sample_weight=sample_weight)


def gamma_nll_loss_value_and_grad(input: Array, target: Array, log_input: bool = True,
                                  reduction: str = "mean", *,
                                  sample_weight: Optional[Array] = None
                                  ) -> Tuple[Value, Array]:
    return tweedie_loss_value_and_grad(input, target, 2.0, log_input, reduction,
                                       sample_weight=sample_weight)


def gamma_nll_loss_grad_hess(input: Array, target: Array, log_input: bool = True,
                             reduction: str = "mean", *, sample_weight: Optional[Array] = None
                             ) -> Tuple[Array, Array]:
    return tweedie_loss_grad_hess(input, target, 2.0, log_input, reduction,
                                  sample_weight=sample_weight)


def _grad_of(value_and_grad: Any) -> Any:
    """``L_grad`` from ``L_value_and_grad``: the same formulas."""
    def grad(input: Array, target: Array, *args: Any, **kw: Any) -> Array:
        return value_and_grad(input, target, *args, **kw)[1]
    grad.__name__ = value_and_grad.__name__.replace("_value_and_grad", "_grad")
    return grad


soft_margin_loss_grad = _grad_of(soft_margin_loss_value_and_grad)
poisson_nll_loss_grad = _grad_of(poisson_nll_loss_value_and_grad)
hinge_embedding_loss_grad = _grad_of(hinge_embedding_loss_value_and_grad)
log_cosh_loss_grad = _grad_of(log_cosh_loss_value_and_grad)
hinge_loss_grad = _grad_of(hinge_loss_value_and_grad)
squared_hinge_loss_grad = _grad_of(squared_hinge_loss_value_and_grad)
modified_huber_loss_grad = _grad_of(modified_huber_loss_value_and_grad)
epsilon_insensitive_loss_grad = _grad_of(epsilon_insensitive_loss_value_and_grad)
pinball_loss_grad = _grad_of(pinball_loss_value_and_grad)
gamma_nll_loss_grad = _grad_of(gamma_nll_loss_value_and_grad)
tweedie_loss_grad = _grad_of(tweedie_loss_value_and_grad)


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


# ---- elementwise losses of two differentiated inputs: the gradient is a tuple -------------

def _two_inputs_reduce(loss: Array, derivatives: Tuple[Array, ...], shapes: Tuple[Any, ...],
                       x: Array, reduction: str, sample_weight: Optional[Array]) -> Any:
    """Element losses and one derivative per input (of the input's shape) reduced: "mean"
    divides by N (by sum(sample_weight)); each derivative is summed down to its input's shape
    (gaussian_nll_loss's var broadcasts along an axis)."""
    value = _reduced(loss, reduction, None, sample_weight)
    return value, tuple(_sum_to(_scaled(d, reduction, None, sample_weight), shape)
                        for d, shape in zip(derivatives, shapes))


def _sum_to(a: Array, shape: Tuple[int, ...]) -> Array:
    """``a`` summed over the axes along which an array of ``shape`` broadcasts to it (as
    gaussian_nll_loss broadcasts var: a shape of ``a`` less its last axis first gets a last
    axis of 1), of that shape."""
    if a.shape == tuple(shape):
        return a
    keep = tuple(shape) + (1,) if a.ndim and tuple(shape) == a.shape[:-1] else tuple(shape)
    lead = (1,) * (a.ndim - len(keep)) + keep
    axes = tuple(i for i, (m, n) in enumerate(zip(lead, a.shape)) if m != n)
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def _margin_ranking(x1: Array, x2: Array, y: Array, margin: float
                    ) -> Tuple[Array, Array, Array]:
    """PyTorch's: max(0, -y (x1 - x2) + margin); d/dx1 = -y, d/dx2 = y where the hinge is
    active (>= 0: clamp_min passes the gradient at 0); NaN where z is NaN."""
    z = -y * (x1 - x2) + margin
    nan = np.where(np.isnan(z), z, 0)
    return np.maximum(z, 0), np.where(z >= 0, -y, 0) + nan, np.where(z >= 0, y, 0) + nan


def margin_ranking_loss(input1: Array, input2: Array, target: Array, margin: float = 0.0,
                        reduction: str = "mean", *,
                        sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_margin_ranking(input1, input2, target, margin)[0], reduction, None,
                    sample_weight)


def margin_ranking_loss_value_and_grad(input1: Array, input2: Array, target: Array,
                                       margin: float = 0.0, reduction: str = "mean", *,
                                       sample_weight: Optional[Array] = None
                                       ) -> Tuple[Value, Tuple[Array, ...]]:
    loss, g1, g2 = _margin_ranking(input1, input2, target, margin)
    return _two_inputs_reduce(loss, (g1, g2), (input1.shape, input2.shape), input1,
                              reduction, sample_weight)


def margin_ranking_loss_grad(input1: Array, input2: Array, target: Array, *args: Any,
                             **kw: Any) -> Tuple[Array, ...]:
    return margin_ranking_loss_value_and_grad(input1, input2, target, *args, **kw)[1]


def _gaussian_nll(input: Array, target: Array, var: Array, full: bool, eps: float
                  ) -> Tuple[Array, ...]:
    """PyTorch's: with v = max(var, eps) (var of the input's shape, of its shape less the
    last axis (unsqueezed), with one axis of size 1, or 0-d, broadcast) and d = input -
    target, (log v + d^2 / v) / 2 (+ log(2 pi) / 2 with ``full``); its derivatives in the
    input (d / v, 1 / v) and in var, those in v (torch's autograd passes them through the
    clamp, done in place under no_grad): (1 / v - d^2 / v^2) / 2 and d^2 / v^3 - 1 / (2 v^2)."""
    if var.ndim and var.shape != input.shape and var.shape == input.shape[:-1]:
        var = var[..., None]
    v = np.broadcast_to(np.maximum(var, input.dtype.type(eps)), input.shape)
    d = input - target
    loss = 0.5 * (np.log(v) + d**2 / v)
    if full:
        loss = loss + input.dtype.type(0.5 * np.log(2 * np.pi))
    return (loss, d / v, 0.5 * (1 / v - d**2 / v**2), 1 / v, d**2 / v**3 - 0.5 / v**2)


def gaussian_nll_loss(input: Array, target: Array, var: Array, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean", *,
                      sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_gaussian_nll(input, target, var, full, eps)[0], reduction, None,
                    sample_weight)


def gaussian_nll_loss_value_and_grad(input: Array, target: Array, var: Array,
                                     full: bool = False, eps: float = 1e-6,
                                     reduction: str = "mean", *,
                                     sample_weight: Optional[Array] = None
                                     ) -> Tuple[Value, Tuple[Array, ...]]:
    loss, gx, gv, _, _ = _gaussian_nll(input, target, var, full, eps)
    return _two_inputs_reduce(loss, (gx, gv), (input.shape, var.shape), input, reduction,
                              sample_weight)


def gaussian_nll_loss_grad(input: Array, target: Array, var: Array, *args: Any, **kw: Any
                           ) -> Tuple[Array, ...]:
    return gaussian_nll_loss_value_and_grad(input, target, var, *args, **kw)[1]


def gaussian_nll_loss_grad_hess(input: Array, target: Array, var: Array, full: bool = False,
                                eps: float = 1e-6, reduction: str = "mean", *,
                                sample_weight: Optional[Array] = None
                                ) -> Tuple[Tuple[Array, ...], Tuple[Array, ...]]:
    """((d/dinput, d/dvar), (the diagonals of the Hessian's input and var blocks)); var's
    entries summed over the axis it broadcasts along (its block is diagonal: each var entry
    enters only its own elements' losses)."""
    loss, gx, gv, hx, hv = _gaussian_nll(input, target, var, full, eps)
    shapes = (input.shape, var.shape)
    _, grads = _two_inputs_reduce(loss, (gx, gv), shapes, input, reduction, sample_weight)
    _, hessians = _two_inputs_reduce(loss, (hx, hv), shapes, input, reduction, sample_weight)
    return grads, hessians


# ---- torchvision's sigmoid_focal_loss ----------------------------------------------------

def _sigmoid_focal(x: Array, y: Array, alpha: float, gamma: float
                   ) -> Tuple[Array, Array, Array]:
    """torchvision's: ce (1 - p_t)^gamma, ce = binary_cross_entropy_with_logits(x, y),
    p = sigmoid(x), p_t = p y + (1 - p)(1 - y), times alpha_t = alpha y + (1 - alpha)(1 - y)
    unless alpha < 0. 1 - p_t is formed as y sigmoid(-x) + (1 - y) sigmoid(x), and ce as
    y softplus(-x) + (1 - y) softplus(x) (the same numbers, each a sum of two non-negative
    terms: without the cancellation of 1 - p_t where p_t is near 1, and of (1 - y) x +
    softplus(-x) where the loss is small)."""
    p, p_neg = _sigmoid(x), _sigmoid(-x)
    ce = y * _softplus(-x) + (1 - y) * _softplus(x)
    dce, hce = (1 - y) * p - y * p_neg, p * p_neg
    q = y * p_neg + (1 - y) * p
    dq = (1 - 2 * y) * p * p_neg
    ddq = dq * (p_neg - p)
    focal = q**gamma
    dfocal = gamma * q ** (gamma - 1) * dq
    ddfocal = gamma * (gamma - 1) * q ** (gamma - 2) * dq**2 + gamma * q ** (gamma - 1) * ddq
    loss, grad, hess = ce * focal, dce * focal + ce * dfocal, (
        hce * focal + 2 * dce * dfocal + ce * ddfocal)
    if alpha >= 0:
        alpha_t = alpha * y + (1 - alpha) * (1 - y)
        loss, grad, hess = alpha_t * loss, alpha_t * grad, alpha_t * hess
    return loss, grad, hess


def sigmoid_focal_loss(input: Array, target: Array, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none", *,
                       sample_weight: Optional[Array] = None) -> Value:
    return _reduced(_sigmoid_focal(input, target, alpha, gamma)[0], reduction, None,
                    sample_weight)


def sigmoid_focal_loss_value_and_grad(input: Array, target: Array, alpha: float = 0.25,
                                      gamma: float = 2.0, reduction: str = "none", *,
                                      sample_weight: Optional[Array] = None
                                      ) -> Tuple[Value, Array]:
    loss, grad, _ = _sigmoid_focal(input, target, alpha, gamma)
    return _value_and_grad(loss, grad, reduction, None, sample_weight)


def sigmoid_focal_loss_grad_hess(input: Array, target: Array, alpha: float = 0.25,
                                 gamma: float = 2.0, reduction: str = "none", *,
                                 sample_weight: Optional[Array] = None
                                 ) -> Tuple[Array, Array]:
    _, grad, hess = _sigmoid_focal(input, target, alpha, gamma)
    return _grad_hess(grad, hess, reduction, None, sample_weight)


sigmoid_focal_loss_grad = _grad_of(sigmoid_focal_loss_value_and_grad)
