"""The connectionist temporal classification loss in NumPy, as ``torch.nn.functional.ctc_loss``
computes it on the CPU: the specification of csrc/ctc.c, and what :mod:`fastloss.losses.ctc`
runs on the "numpy" backend. (Not in :mod:`.losses`: CTC is a dynamic program per sample,
not a row of the losses' registry.)

For a sample of ``T`` frames of log-probabilities ``lp[t, c]`` and a target ``l`` of
``S`` labels, the extended target ``l'`` puts a blank before, between and after the labels
(``2 S + 1`` states); a path moves from state ``s`` to ``s``, ``s + 1``, or ``s + 2`` when
``l'[s + 2]`` is neither a blank nor ``l'[s]``. In log space::

    alpha[0, 0] = lp[0, blank],  alpha[0, 1] = lp[0, l'[1]]
    alpha[t, s] = logsumexp(alpha[t-1, s], alpha[t-1, s-1], alpha[t-1, s-2] if skip[s])
                  + lp[t, l'[s]]
    nll = -logsumexp(alpha[T-1, 2S], alpha[T-1, 2S-1])

and ``beta`` the same recursion run backwards from the last frame. The gradient is torch's,
``exp(lp[t, c]) - exp(log sum_{s: l'[s] = c} alpha[t, s] beta[t, s] + nll - lp[t, c])``
times the reduction's factor for ``t < T`` and 0 after: the gradient with respect to the
logits under a log_softmax, which is what torch's autograd returns for ``log_probs``.

Inputs are trusted (validation lives in :mod:`fastloss.losses.ctc`): ``log_probs`` a float
array ``(T, N, C)`` (or ``(T, C)`` unbatched), ``targets`` integer ``(N, S)`` (padded) or 1-d
(concatenated), lengths integer arrays of ``N`` values (0-d unbatched) within range.
"""

from __future__ import annotations

from typing import Any, List, Tuple

import numpy as np

__all__ = ["ctc_loss", "ctc_loss_grad", "ctc_loss_value_and_grad"]

Array = np.ndarray


def _extended(target: Array, blank: int) -> Array:
    """``l'``: blank, l[0], blank, l[1], ..., blank."""
    ext = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    ext[1::2] = target
    return ext


def _skips(ext: Array) -> Array:
    """skip[s]: a path may come to state s from s - 2 (l'[s] is a label unlike l'[s - 2])."""
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = ext[2:] != ext[:-2]
    return skip


def _shift(row: Array, k: int, skip: Any = True) -> Array:
    """row moved k states along (``out[s] = row[s - k]`` for k > 0, ``row[s + |k|]`` for
    k < 0), -inf where nothing moves in or where ``skip`` is False."""
    out = np.full_like(row, -np.inf)
    if k > 0:
        out[k:] = row[:-k]
    else:
        out[:k] = row[-k:]
    return np.where(skip, out, -np.inf)


def _alpha(lp: Array, ext: Array) -> Array:
    """The forward variables alpha[t, s] of one sample, lp its (T, C) frames, T > 0."""
    skip = _skips(ext)
    alpha = np.full((lp.shape[0], len(ext)), -np.inf, dtype=lp.dtype)
    alpha[0, :2] = lp[0, ext[:2]]
    for t in range(1, lp.shape[0]):
        prev = alpha[t - 1]
        paths = np.logaddexp(np.logaddexp(prev, _shift(prev, 1)), _shift(prev, 2, skip))
        alpha[t] = paths + lp[t, ext]
    return alpha


def _beta(lp: Array, ext: Array) -> Array:
    """The backward variables beta[t, s] of one sample (beta includes lp[t, l'[s]])."""
    skip_ahead = np.zeros(len(ext), dtype=bool)  # a path may go from state s to s + 2
    skip_ahead[:-2] = _skips(ext)[2:]
    beta = np.full((lp.shape[0], len(ext)), -np.inf, dtype=lp.dtype)
    beta[-1, -2:] = lp[-1, ext[-2:]]
    for t in range(lp.shape[0] - 2, -1, -1):
        nxt = beta[t + 1]
        paths = np.logaddexp(np.logaddexp(nxt, _shift(nxt, -1)), _shift(nxt, -2, skip_ahead))
        beta[t] = paths + lp[t, ext]
    return beta


def _nll(alpha: Array) -> Any:
    """-log p(target): the paths that end in the last blank or the last label."""
    return -np.logaddexp.reduce(alpha[-1, -2:])


def _samples(log_probs: Array, targets: Array, input_lengths: Array,
             target_lengths: Array) -> List[Tuple[Array, Array]]:
    """Each sample's frames lp (T_b, C) and target labels."""
    out, start = [], 0
    for b in range(log_probs.shape[1]):
        tl = int(target_lengths[b])
        if targets.ndim == 1:  # concatenated
            target, start = targets[start:start + tl], start + tl
        else:  # padded
            target = targets[b, :tl]
        out.append((log_probs[:int(input_lengths[b]), b], np.asarray(target, np.int64)))
    return out


def _losses(log_probs: Array, targets: Array, input_lengths: Array, target_lengths: Array,
            blank: int) -> Tuple[Array, List[Any]]:
    """Each sample's nll (and its alpha, None for an empty input)."""
    nll = np.empty(log_probs.shape[1], dtype=log_probs.dtype)
    alphas: List[Any] = []
    for b, (lp, target) in enumerate(_samples(log_probs, targets, input_lengths,
                                              target_lengths)):
        if lp.shape[0] == 0:  # no frame: only the empty target has a path
            nll[b] = -0.0 if len(target) == 0 else np.inf  # torch: -log 1 = -0
            alphas.append(None)
            continue
        alpha = _alpha(lp, _extended(target, blank))
        nll[b] = _nll(alpha)
        alphas.append(alpha)
    return nll, alphas


def _factors(reduction: str, target_lengths: Array, n: int, dtype: Any) -> Array:
    """d(reduced value) / d(nll_b): 1 / (N max(S_b, 1)) for "mean", 1 otherwise."""
    if reduction != "mean":
        return np.ones(n, dtype=dtype)
    return (1 / (np.maximum(target_lengths, 1) * n)).astype(dtype)


def _batched(log_probs: Array, targets: Array, input_lengths: Any,
             target_lengths: Any) -> Tuple[Array, Array, Array, Array]:
    """An unbatched (T, C) call as a batch of one (its targets a padded row)."""
    il = np.asarray(input_lengths, np.int64).reshape(-1)
    tl = np.asarray(target_lengths, np.int64).reshape(-1)
    if log_probs.ndim == 2:
        return log_probs[:, None, :], np.asarray(targets).reshape(1, -1), il, tl
    return log_probs, np.asarray(targets), il, tl


def _value(nll: Array, target_lengths: Array, reduction: str, zero_infinity: bool,
           unbatched: bool) -> Any:
    loss = np.where(nll == np.inf, nll.dtype.type(0), nll) if zero_infinity else nll
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return (loss / np.maximum(target_lengths, 1).astype(loss.dtype)).mean()
    return loss.reshape(()) if unbatched else loss


def ctc_loss(log_probs: Array, targets: Array, input_lengths: Any, target_lengths: Any,
             blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Any:
    return ctc_loss_value_and_grad(log_probs, targets, input_lengths, target_lengths, blank,
                                   reduction, zero_infinity, _grad=False)[0]


def ctc_loss_grad(log_probs: Array, targets: Array, input_lengths: Any, target_lengths: Any,
                  blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> Array:
    return ctc_loss_value_and_grad(log_probs, targets, input_lengths, target_lengths, blank,
                                   reduction, zero_infinity)[1]


def ctc_loss_value_and_grad(log_probs: Array, targets: Array, input_lengths: Any,
                            target_lengths: Any, blank: int = 0, reduction: str = "mean",
                            zero_infinity: bool = False, _grad: bool = True) -> Tuple[Any, Any]:
    lp3, tg, il, tl = _batched(log_probs, targets, input_lengths, target_lengths)
    with np.errstate(all="ignore"):  # -inf - -inf and the like: NaN as torch's
        nll, alphas = _losses(lp3, tg, il, tl, blank)
        value = _value(nll, tl, reduction, zero_infinity, log_probs.ndim == 2)
        if not _grad:
            return value, None
        grad = np.zeros_like(lp3)
        factors = _factors(reduction, tl, lp3.shape[1], lp3.dtype)
        for b, (lp, target) in enumerate(_samples(lp3, tg, il, tl)):
            if alphas[b] is None or (zero_infinity and nll[b] == np.inf):
                continue
            ext = _extended(target, blank)
            alpha_beta = alphas[b] + _beta(lp, ext)
            collected = np.full(lp.shape, -np.inf, dtype=lp.dtype)  # log sum over l'[s] = c
            for s, c in enumerate(ext):
                collected[:, c] = np.logaddexp(collected[:, c], alpha_beta[:, s])
            grad[:lp.shape[0], b] = (np.exp(lp) - np.exp(collected + nll[b] - lp)) * factors[b]
    return value, grad.reshape(log_probs.shape)
