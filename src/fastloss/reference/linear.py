"""Per-sample SGD for linear models, as the plain Python loop (the specification).

:func:`sgd_epoch` visits the samples one at a time, computes the loss of the current
prediction, then updates the weights and the intercept before the next sample: exactly
what the C kernel (csrc/linear.c) does, written so that it can be checked by eye.
:func:`linear_loss` is the mini-batch objective whose gradient
:func:`fastloss.linear_value_and_grad` computes, :func:`linear_hessp` its Hessian times a
vector (:func:`fastloss.linear_hessp`).

Losses of the prediction ``z`` and the target ``y`` (``r = z - y``):

=================  ===========================================  ==========================
``squared_error``  ``0.5 r^2`` (scikit-learn's convention)      ``r``
``absolute``       ``|r|``                                      ``sign(r)``, 0 at ``r = 0``
``huber``          ``0.5 r^2`` if ``|r| <= eps``,               ``clip(r, -eps, eps)``
                   else ``eps (|r| - eps / 2)``
``logistic``       ``log(1 + exp(z)) - y z``, ``y in {0, 1}``   ``sigmoid(z) - y``
``softmax``        ``logsumexp(z) - z_y``, ``z = x W + b``      ``softmax(z) - onehot(y)``
=================  ===========================================  ==========================

scikit-learn's GLM losses on the log link (``z`` the log-mean; half the deviance, constant
terms of ``y`` dropped) and its quantile loss, with the loss's parameter ``p``:

=================  ===========================================  ==========================
``poisson``        ``exp(z) - y z``                             ``exp(z) - y``
``gamma``          ``z + y exp(-z)``                            ``1 - y exp(-z)``
``tweedie``        ``exp((2-p) z) / (2-p) - y exp((1-p) z) /    ``exp((2-p) z) - y exp((1-p)
                   (1-p)``; poisson's (p = 1), gamma's (p = 2)  z)``
``pinball``        ``p (y - z)`` if ``y >= z``, else            ``-p``, or ``1 - p``
                   ``(1 - p) (z - y)`` (``p`` the quantile)
=================  ===========================================  ==========================

scikit-learn's SGD losses (plain SGD only: :func:`plain_sgd_epoch`), with ``m = y z`` and
``y in {-1, 1}``: ``hinge`` ``max(0, 1 - m)``; ``squared_hinge`` ``max(0, 1 - m)^2``;
``modified_huber`` ``(1 - m)^2`` for ``-1 <= m < 1``, 0 above, ``-4 m`` below; and of
``r``: ``epsilon_insensitive`` ``max(0, |r| - eps)``, ``squared_epsilon_insensitive``
``max(0, |r| - eps)^2``.

These functions trust their inputs; validation lives in :mod:`fastloss.linear`.
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from fastloss.reference import optim

__all__ = ["sgd_epoch", "plain_sgd_epoch", "linear_loss", "linear_hessp"]


#: scikit-learn's classification losses of the margin y z, targets in {-1, 1}
MARGIN_LOSSES = ("hinge", "squared_hinge", "modified_huber")
#: scikit-learn's GLM losses on the log link, and its quantile loss
GLM_LOSSES = ("poisson", "gamma", "tweedie", "pinball")


def _glm_loss1(loss: str, z: float, y: float, p: float) -> Tuple[float, float]:
    """(loss, dloss/dz) of the GLM and quantile losses (module docstring); exp overflows to
    inf, NaN propagates."""
    if loss == "tweedie" and p in (1.0, 2.0):
        loss = "poisson" if p == 1.0 else "gamma"
    if loss == "poisson":
        mu = float(np.exp(z))
        return mu - y * z, mu - y
    if loss == "gamma":
        t = y * float(np.exp(-z))
        return z + t, 1.0 - t
    if loss == "tweedie":
        e1, e2 = float(np.exp((1.0 - p) * z)), float(np.exp((2.0 - p) * z))
        return e2 / (2.0 - p) - y * e1 / (1.0 - p), e2 - y * e1
    d = y - z  # pinball, p the quantile
    if math.isnan(d):
        return math.nan, math.nan
    return (p * d, -p) if d >= 0 else ((p - 1.0) * d, 1.0 - p)


def loss1(loss: str, z: float, y: float, epsilon: float) -> Tuple[float, float]:
    """(loss, dloss/dz) of one single-output sample, in Python floats; ``epsilon`` is the
    loss's parameter (the GLM losses' power or quantile)."""
    if loss in GLM_LOSSES:
        return _glm_loss1(loss, z, y, epsilon)
    r = z - y
    if loss == "squared_error":
        return 0.5 * r * r, r
    if loss == "absolute":
        return abs(r), (1.0 if r > 0 else -1.0 if r < 0 else r)
    if loss == "huber":
        value = 0.5 * r * r if abs(r) <= epsilon else epsilon * (abs(r) - 0.5 * epsilon)
        return value, (-epsilon if r < -epsilon else epsilon if r > epsilon else r)
    if loss in MARGIN_LOSSES or loss in ("epsilon_insensitive", "squared_epsilon_insensitive"):
        # the elementwise losses' convention (reference.losses): NaN or inf in, NaN out
        nan = r - r
        value, grad = _sgd_loss1(loss, z, y, epsilon)
        return value + nan, grad + nan
    # logistic: log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), which never overflows
    if math.isnan(z):
        return math.nan, math.nan
    e = math.exp(-abs(z))
    sigmoid = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    return (max(z, 0.0) - y * z) + math.log1p(e), sigmoid - y


def _sgd_loss1(loss: str, z: float, y: float, epsilon: float) -> Tuple[float, float]:
    """(loss, dloss/dz) of scikit-learn's SGD losses at finite z, y."""
    r = z - y
    if loss in MARGIN_LOSSES:  # y in {-1, 1}, the margin m = y z (scikit-learn's SGD)
        m = y * z
        if loss == "hinge":
            return (1.0 - m, -y) if m <= 1.0 else (0.0, 0.0)
        if loss == "squared_hinge":
            return ((1.0 - m) ** 2, -2.0 * y * (1.0 - m)) if m < 1.0 else (0.0, 0.0)
        if m >= 1.0:  # modified_huber
            return 0.0, 0.0
        return ((1.0 - m) ** 2, -2.0 * y * (1.0 - m)) if m >= -1.0 else (-4.0 * m, -4.0 * y)
    if loss == "epsilon_insensitive":
        return max(0.0, abs(r) - epsilon), (1.0 if r > epsilon else -1.0 if r < -epsilon else 0.0)
    # squared_epsilon_insensitive
    return (max(0.0, abs(r) - epsilon) ** 2,
            2.0 * (r - epsilon) if r > epsilon else 2.0 * (r + epsilon) if r < -epsilon
            else 0.0)


def _softmax_loss(z: np.ndarray, label: int) -> Tuple[float, np.ndarray]:
    """(logsumexp(z) - z[label], softmax(z) - onehot(label)), computed in float64."""
    z = z.astype(np.float64)
    e = np.exp(z - z.max())
    dz = e / e.sum()
    dz[label] -= 1.0
    return float((z.max() - z[label]) + np.log(e.sum())), dz


def _update(optimizer: str, p: np.ndarray, g: np.ndarray, s1: Any, s2: Any, eta: float, t: int,
            weight_decay: float, momentum: float, nesterov: bool, beta1: float, beta2: float,
            eps: float, rho: float, momentum_decay: float = 0.0, decoupled: bool = False,
            mu_product: Any = None) -> None:
    """One step of ``optimizer`` on ``p`` in place: plain ``"sgd"`` is ``p -= eta g``; the
    others are torch.optim's rules (:mod:`fastloss.reference.optim`; Lion optax's), as in
    the module docstring. ``mu_product``: NAdam's 0-d state, updated in place."""
    if optimizer == "sgd":
        p -= eta * g
    elif optimizer == "momentum":
        optim.sgd_update(p, g, momentum_buffer=s1, lr=eta, momentum=momentum,
                         weight_decay=weight_decay, nesterov=nesterov)
    elif optimizer == "adagrad":
        optim.adagrad_update(p, g, s1, t, lr=eta, weight_decay=weight_decay, eps=eps)
    elif optimizer == "rmsprop":
        optim.rmsprop_update(p, g, s1, lr=eta, alpha=rho, eps=eps, weight_decay=weight_decay)
    elif optimizer == "nadam":
        optim.nadam_update(p, g, s1, s2, mu_product, t, lr=eta, betas=(beta1, beta2), eps=eps,
                           weight_decay=weight_decay, momentum_decay=momentum_decay,
                           decoupled_weight_decay=decoupled)
    elif optimizer == "radam":
        optim.radam_update(p, g, s1, s2, t, lr=eta, betas=(beta1, beta2), eps=eps,
                           weight_decay=weight_decay, decoupled_weight_decay=decoupled)
    elif optimizer == "adamax":
        optim.adamax_update(p, g, s1, s2, t, lr=eta, betas=(beta1, beta2), eps=eps,
                            weight_decay=weight_decay)
    elif optimizer == "lion":
        optim.lion_update(p, g, s1, lr=eta, betas=(beta1, beta2), weight_decay=weight_decay)
    else:
        update = optim.adam_update if optimizer == "adam" else optim.adamw_update
        update(p, g, s1, s2, t, lr=eta, betas=(beta1, beta2), eps=eps,
               weight_decay=weight_decay)


def _sample(loss: str, x: np.ndarray, y: Any, coef: np.ndarray, intercept: Optional[np.ndarray],
            epsilon: float) -> Tuple[float, np.ndarray]:
    """``(l, dl/dz)`` of one sample at the current parameters; ``dl/dz`` has one entry per
    output (float64)."""
    z = x @ coef
    if loss == "softmax":
        return _softmax_loss(z if intercept is None else z + intercept, int(y))
    if intercept is not None:
        z = z + intercept[0]
    l, dz = loss1(loss, float(z), float(y), epsilon)
    return l, np.array([dz])


def _apply(coef: np.ndarray, intercept: Optional[np.ndarray], grad_coef: np.ndarray,
           grad_intercept: np.ndarray, state: Sequence[Optional[np.ndarray]], t: int, *,
           optimizer: str, learning_rate: str, lr: float, power_t: float, alpha: float,
           hyper: Dict[str, Any]) -> int:
    """Update number ``t + 1`` of coef and intercept with these gradients; returns ``t + 1``.
    NAdam's ``hyper["mu_product"]`` (one 0-d array) advances once: the intercept's update
    gets its own copy of the value before (torch's per-tensor state, equal for both)."""
    s1c, s1b, s2c, s2b = state
    t += 1
    eta = lr if learning_rate == "constant" else lr / t ** power_t
    if alpha != 0 and optimizer == "sgd":
        # scikit-learn's L2 step: shrink by 1 - eta alpha, never below 0
        coef *= max(0.0, 1.0 - eta * alpha)
    mu_before = hyper["mu_product"].copy() if optimizer == "nadam" else None
    _update(optimizer, coef, grad_coef, s1c, s2c, eta, t,
            alpha if optimizer != "sgd" else 0.0, **hyper)
    if intercept is not None:  # the L2 penalty is on coef only
        _update(optimizer, intercept, grad_intercept, s1b, s2b, eta, t, 0.0,
                **{**hyper, "mu_product": mu_before})
    return t


def _rule(optimizer: str, learning_rate: str, lr: float, power_t: float, alpha: float,
          momentum: float, nesterov: bool, beta1: float, beta2: float, eps: float, rho: float,
          momentum_decay: float, decoupled: bool, mu_product: Optional[np.ndarray]
          ) -> Dict[str, Any]:
    """:func:`_apply`'s keyword arguments for an epoch of ``optimizer``."""
    if optimizer == "nadam" and mu_product is None:
        raise ValueError("optimizer='nadam' needs its mu_product (a 0-d array)")
    return dict(optimizer=optimizer, learning_rate=learning_rate, lr=lr, power_t=power_t,
                alpha=alpha, hyper=dict(momentum=momentum, nesterov=nesterov, beta1=beta1,
                                        beta2=beta2, eps=eps, rho=rho,
                                        momentum_decay=momentum_decay, decoupled=decoupled,
                                        mu_product=mu_product))


def sgd_epoch(X: np.ndarray, y: np.ndarray, coef: np.ndarray, intercept: Optional[np.ndarray],
              state: Sequence[Optional[np.ndarray]], order: Optional[np.ndarray],
              sample_weight: Optional[np.ndarray], t: int, *, loss: str, optimizer: str,
              learning_rate: str, lr: float, power_t: float, alpha: float, epsilon: float,
              momentum: float, nesterov: bool, beta1: float, beta2: float, eps: float,
              rho: float, momentum_decay: float = 4e-3, decoupled: bool = False,
              mu_product: Optional[np.ndarray] = None, batch_size: int = 1
              ) -> Tuple[float, int]:
    """One epoch of updates of ``coef`` and ``intercept``, in place.

    Visits ``order`` (default ``0..n-1``). For each sample: loss ``l`` and ``dl/dz`` at the
    current parameters; ``t += 1``; ``eta = lr`` or ``lr / t**power_t``; gradient
    ``w_i dl/dz x_i`` for ``coef`` and ``w_i dl/dz`` for the intercept; one update by
    ``optimizer``, the torch.optim rule of :mod:`fastloss.reference.optim` with learning
    rate ``eta`` on that gradient: ``"momentum"`` is ``sgd_update(momentum=momentum,
    nesterov=nesterov)``, ``"adagrad"`` ``adagrad_update`` (``lr_decay=0``), ``"rmsprop"``
    ``rmsprop_update(alpha=rho)`` (no momentum, not centered), ``"adam"``
    ``adam_update(betas=(beta1, beta2), step=t)``, ``"adamw"`` ``adamw_update`` (the same),
    ``"nadam"`` ``nadam_update(momentum_decay, decoupled_weight_decay=decoupled)`` on the 0-d
    ``mu_product`` (updated in place; required for it), ``"radam"`` ``radam_update``,
    ``"adamax"`` ``adamax_update``, ``"lion"`` ``lion_update`` (all with ``betas=(beta1,
    beta2)``, ``step=t``),
    each with ``weight_decay=alpha`` for ``coef`` and 0 for the intercept (the L2 penalty is
    on ``coef`` only). Plain ``"sgd"`` applies the penalty as scikit-learn does instead:
    ``coef *= max(0, 1 - eta alpha)``, then ``coef -= eta w_i dl/dz x_i``.
    ``state = (s1_coef, s1_intercept, s2_coef, s2_intercept)``.

    With ``batch_size > 1``: :func:`minibatch_epoch` instead. Returns
    ``(sum_i w_i l_i, t)``.
    """
    if batch_size > 1:
        return minibatch_epoch(X, y, coef, intercept, state, order, sample_weight, t,
                               batch_size=batch_size, loss=loss, optimizer=optimizer,
                               learning_rate=learning_rate, lr=lr, power_t=power_t,
                               alpha=alpha, epsilon=epsilon, momentum=momentum,
                               nesterov=nesterov, beta1=beta1, beta2=beta2, eps=eps, rho=rho,
                               momentum_decay=momentum_decay, decoupled=decoupled,
                               mu_product=mu_product)
    rule = _rule(optimizer, learning_rate, lr, power_t, alpha, momentum, nesterov, beta1,
                 beta2, eps, rho, momentum_decay, decoupled, mu_product)
    total = 0.0
    for k in range(X.shape[0]):
        i = k if order is None else int(order[k])
        w = 1.0 if sample_weight is None else float(sample_weight[i])
        l, dz = _sample(loss, X[i], y[i], coef, intercept, epsilon)
        total += w * l
        g = (w * dz).astype(coef.dtype)
        t = _apply(coef, intercept, np.outer(X[i], g).reshape(coef.shape), g, state, t, **rule)
    return total, t


def minibatch_epoch(X: np.ndarray, y: np.ndarray, coef: np.ndarray,
                    intercept: Optional[np.ndarray], state: Sequence[Optional[np.ndarray]],
                    order: Optional[np.ndarray], sample_weight: Optional[np.ndarray], t: int,
                    *, batch_size: int, loss: str, optimizer: str, learning_rate: str,
                    lr: float, power_t: float, alpha: float, epsilon: float, momentum: float,
                    nesterov: bool, beta1: float, beta2: float, eps: float,
                    rho: float, momentum_decay: float = 4e-3, decoupled: bool = False,
                    mu_product: Optional[np.ndarray] = None) -> Tuple[float, int]:
    """One epoch of mini-batch updates: :func:`sgd_epoch` with one update per batch.

    The visits (``order``, default ``0..n-1``) in batches of ``batch_size`` consecutive ones,
    the last one shorter. For each batch: every sample's ``l_i`` and ``g_i = w_i dl/dz``
    at the parameters the batch starts from; then one update (``t += 1``, ``eta`` and the
    rule as in :func:`sgd_epoch`) with the weighted mean gradient
    ``sum_i g_i x_i / sum_i w_i`` for ``coef`` and ``sum_i g_i / sum_i w_i`` for the
    intercept (0 when the batch's weights sum to 0), the L2 term once. Returns
    ``(sum_i w_i l_i, t)``.
    """
    rule = _rule(optimizer, learning_rate, lr, power_t, alpha, momentum, nesterov, beta1,
                 beta2, eps, rho, momentum_decay, decoupled, mu_product)
    n = X.shape[0]
    visits = range(n) if order is None else [int(i) for i in order]
    total = 0.0
    for first in range(0, n, batch_size):
        grad_coef = np.zeros_like(coef)
        grad_intercept = np.zeros(coef.shape[1] if loss == "softmax" else 1, coef.dtype)
        wsum = 0.0
        for i in visits[first:first + batch_size]:
            w = 1.0 if sample_weight is None else float(sample_weight[i])
            l, dz = _sample(loss, X[i], y[i], coef, intercept, epsilon)
            total += w * l
            wsum += w
            g = (w * dz).astype(coef.dtype)
            grad_coef += np.outer(X[i], g).reshape(coef.shape)
            grad_intercept += g
        scale = coef.dtype.type(1.0 / wsum if wsum != 0 else 0.0)
        t = _apply(coef, intercept, grad_coef * scale, grad_intercept * scale, state, t,
                   **rule)
    return total, t


def plain_sgd_epoch(X: Any, y: np.ndarray, coef: np.ndarray, intercept: Optional[np.ndarray],
                    state: Any, order: Optional[np.ndarray],
                    sample_weight: Optional[np.ndarray], t: int, *, loss: str,
                    learning_rate: str, lr: float, power_t: float, alpha: float,
                    epsilon: float, penalty: str, l1_ratio: float, intercept_decay: float,
                    optimal_init: float, average_start: int, **unused: Any
                    ) -> Tuple[float, int]:
    """One epoch of scikit-learn's plain SGD (``_plain_sgd``) on one output, in place.

    ``X`` is dense ``(n, d)``, or has ``row(i) -> (indices, values)`` (CSR rows: only the
    stored entries). For each visit (``order``, default ``0..n-1``): ``z = x . coef + b``;
    ``t += 1``; ``eta = lr``, ``lr / t**power_t`` or ``1 / (alpha (optimal_init + t - 1))``;
    ``u = -eta w_i dl/dz``; then

    1. ``coef *= max(0, 1 - (1 - r) eta alpha)`` with ``r`` = 0 (``"l2"``), 1 (``"l1"``) or
       ``l1_ratio``; ``coef[j] += u x_j`` over the row's entries; ``b += u intercept_decay``;
    2. L1 part (``r > 0``): ``state.l1_u += r eta alpha``, and on the row's entries each
       weight moves towards 0 by ``l1_u + l1_q[j]`` (``l1_q[j] <= 0`` holds what it
       received) without crossing it, ``l1_q[j] +=`` the move (Tsuruoka et al. 2009);
    3. from update ``average_start`` on (if > 0), the means of the iterates:
       ``avg += (coef - avg) / (t - average_start + 1)`` for ``state.average_coef`` and
       ``state.average_intercept``.

    Dense rows have every feature as an entry. Updates ``state.l1_u`` (its arrays in
    place). Returns ``(sum_i w_i l_i, t)``.
    """
    r = 0.0 if penalty == "l2" else 1.0 if penalty == "l1" else l1_ratio
    dense = isinstance(X, np.ndarray)
    all_features = np.arange(coef.shape[0])
    q, u = state.l1_q, float(state.l1_u)
    total = 0.0
    for k in range(y.shape[0]):
        i = k if order is None else int(order[k])
        idx, x = (all_features, X[i]) if dense else X.row(i)
        z = float(x @ coef[idx]) + (float(intercept[0]) if intercept is not None else 0.0)
        t += 1
        eta = (lr if learning_rate == "constant" else lr / t ** power_t
               if learning_rate == "invscaling" else 1.0 / (alpha * (optimal_init + t - 1)))
        w = 1.0 if sample_weight is None else float(sample_weight[i])
        l, dz = loss1(loss, z, float(y[i]), epsilon)
        total += w * l
        update = -eta * dz * w
        if alpha != 0 and r < 1:
            coef *= max(0.0, 1.0 - (1.0 - r) * eta * alpha)
        np.add.at(coef, idx, update * x)  # repeated indices add up
        if intercept is not None:
            intercept += update * intercept_decay
        if alpha != 0 and r > 0:
            u += r * eta * alpha
            before = coef[idx]
            after = np.where(before > 0, np.maximum(0.0, before - (u + q[idx])),
                             np.where(before < 0, np.minimum(0.0, before + (u - q[idx])),
                                      before))
            coef[idx] = after
            q[idx] += after - before  # a repeated index moves once: the second step is 0
        if average_start and t >= average_start:
            mu = 1.0 / (t - average_start + 1)
            state.average_coef += (coef - state.average_coef) * mu
            if intercept is not None:
                state.average_intercept += (intercept - state.average_intercept) * mu
    state.l1_u = u
    return total, t


def linear_loss(X: np.ndarray, y: np.ndarray, coef: np.ndarray,
                intercept: Optional[np.ndarray], *, loss: str, alpha: float = 0.0,
                epsilon: float = 1.0, power: float = 1.5, quantile: float = 0.5,
                sample_weight: Optional[np.ndarray] = None) -> Any:
    """Mini-batch objective ``sum_i w_i l_i / sum_i w_i + alpha / 2 ||coef||^2``.

    ``l_i`` is the per-sample loss of :func:`sgd_epoch` (the table in the module
    docstring; ``power`` is tweedie's ``p``, ``quantile`` pinball's, ``epsilon`` the
    others'). Computed in float64 with a loop over samples, as a check on the vectorized
    :func:`fastloss.linear_value_and_grad`. The mean of an empty batch is NaN.
    """
    param = power if loss == "tweedie" else quantile if loss == "pinball" else epsilon
    n = X.shape[0]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    X64 = X.astype(np.float64)
    W64 = coef.astype(np.float64)
    bias: Any = None  # the intercept in float64: (C,) for softmax, else a float
    if intercept is not None:
        bias = intercept.astype(np.float64) if loss == "softmax" else float(intercept[0])
    total = 0.0
    for i in range(n):
        z = X64[i] @ W64
        if bias is not None:
            z = z + bias
        if loss == "softmax":
            l, _ = _softmax_loss(np.asarray(z), int(y[i]))
        else:
            l, _ = loss1(loss, float(z), float(y[i]), param)
        total += w[i] * l
    wsum = w.sum()
    mean = total / wsum if wsum != 0 else math.nan
    return mean + 0.5 * alpha * float((W64 * W64).sum())


def hess1(loss: str, z: np.ndarray, y: np.ndarray, p: float) -> np.ndarray:
    """d2l/dz2 of the single-output losses with a useful second derivative, elementwise in
    float64: squared_error 1, logistic ``sigmoid(z) (1 - sigmoid(z))``, and scikit-learn's
    ``HalfPoissonLoss`` / ``HalfGammaLoss`` / ``HalfTweedieLoss(p)`` ``gradient_hessian``
    on the log link: ``exp(z)``, ``y exp(-z)``, ``(2-p) exp((2-p) z) - (1-p) y exp((1-p)
    z)`` (p = 1, 2: poisson's, gamma's)."""
    if loss == "tweedie" and p in (1.0, 2.0):
        loss = "poisson" if p == 1.0 else "gamma"
    if loss == "squared_error":
        return np.ones_like(z)
    if loss == "logistic":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if loss == "poisson":
        return np.exp(z)
    if loss == "gamma":
        return y * np.exp(-z)
    assert loss == "tweedie"
    return (2.0 - p) * np.exp((2.0 - p) * z) - (1.0 - p) * y * np.exp((1.0 - p) * z)


def linear_hessp(X: np.ndarray, y: np.ndarray, coef: np.ndarray,
                 intercept: Optional[np.ndarray], vec_coef: np.ndarray,
                 vec_intercept: Optional[np.ndarray], *, loss: str, alpha: float = 0.0,
                 power: float = 1.5, sample_weight: Optional[np.ndarray] = None
                 ) -> Tuple[np.ndarray, Any]:
    """The Hessian of :func:`linear_loss` wrt ``(coef, intercept)`` times ``(vec_coef,
    vec_intercept)``, in float64: with ``u = X v + v_b`` and ``w = sample_weight / sum``,
    ``Hv_coef = X.T (w D u) + alpha v``, ``Hv_intercept = sum_i w_i (D u)_i``, where
    ``D u = l''(z) u`` with :func:`hess1`'s ``l''`` for one output (``power`` is tweedie's
    ``p``), or per row ``p * (u - p . u)`` with ``p = softmax(z)`` (softmax)."""
    n = X.shape[0]
    X64 = X.astype(np.float64)
    z = X64 @ coef.astype(np.float64)
    u = X64 @ vec_coef.astype(np.float64)
    if intercept is not None:
        z = z + intercept.astype(np.float64) if loss == "softmax" else z + float(intercept[0])
        u = (u + vec_intercept.astype(np.float64) if loss == "softmax"  # type: ignore[union-attr]
             else u + float(vec_intercept[0]))  # type: ignore[index]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    w = w / w.sum() if w.sum() != 0 else np.zeros(n)
    if loss == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        du = p * (u - (p * u).sum(axis=1, keepdims=True))
    else:
        du = hess1(loss, z, np.asarray(y, np.float64), power) * u
    wdu = (w[:, None] if du.ndim == 2 else w) * du
    hv_coef = X64.T @ wdu + alpha * vec_coef.astype(np.float64)
    return hv_coef, (None if intercept is None else np.atleast_1d(wdu.sum(axis=0)))
