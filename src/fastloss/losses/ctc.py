r"""The connectionist temporal classification loss, ``torch.nn.functional.ctc_loss``.

For sample ``b`` with ``T_b`` frames of log-probabilities ``lp[t, b, c]`` over ``C`` classes
and a target of ``S_b`` labels, the loss is ``-log p(target)``, the probability summed over
every alignment (a path of one class per frame that reads the target once blanks and
repeats are removed), by the forward recursion over the ``2 S_b + 1`` states of the target
with blanks around and between its labels (:mod:`fastloss.reference.ctc` has the
formulas). Not a row of the losses' registry: a dynamic program per sample over
``(T, 2 S + 1)``, with its own kernel (csrc/ctc.c).

Gradients are torch's: ``exp(lp) - exp(log sum_{s: l'[s] = c} alpha beta + nll - lp)`` for
the frames ``t < T_b`` (0 after), which is what ``torch.autograd`` returns for ``log_probs``.
The second term is the occupancy of class c at frame t (the derivative for ``log_probs``
taken as free variables, negated); torch adds ``exp(lp)``, which the backward of a
log_softmax producing ``log_probs`` cancels: through it, both give the logits' gradient.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from fastloss import _backend, _config, _losses, reference
from fastloss._validation import check_flag, check_int, first_where, reject_masked
from fastloss.losses import (
    FloatArray,
    LossValue,
    _as_float,
    _check_reduction,
    _prepare_out,
    _scalar,
    _where,
)

__all__ = ["ctc_loss", "ctc_loss_grad", "ctc_loss_value_and_grad"]

_I64 = np.dtype(np.int64)
#: csrc/ctc.h: the extended target's classes are int32 (gathers of 32-bit indices vectorize)
_MAX_CLASSES = 2**31 - 1


class _Call(NamedTuple):
    """A validated call: log_probs as (T, N, C), int64 targets, lengths and offsets."""

    x: FloatArray  # the caller's shape, (T, N, C) or (T, C)
    x3: FloatArray  # (T, N, C)
    targets: np.ndarray  # int64, the caller's shape (a copy the caller cannot change)
    offsets: np.ndarray  # where sample b's labels start in targets' flat order
    input_lengths: np.ndarray  # int64 (N,)
    target_lengths: np.ndarray  # int64 (N,)
    s_max: int  # the longest target (padded: S)
    blank: int
    zero_infinity: bool


def _lengths(value: Any, name: str, n: int, lo: int, hi: int, what: str) -> np.ndarray:
    """``value`` as an int64 copy of ``n`` lengths in ``[lo, hi]``: a sequence or integer
    array of n values (0-d, or a sequence of one, for a batch of one)."""
    reject_masked(value, name)
    a = np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers (an int sequence or integer array), got "
                        f"dtype {a.dtype}")
    if a.ndim > 1 or a.size != n:
        raise ValueError(f"{name} must hold one length per sample, {n} values, got shape "
                         f"{a.shape}")
    flat = a.reshape(-1)
    if flat.size and (flat.min() < lo or flat.max() > hi):
        bad = first_where(flat, lambda block: (block < lo) | (block > hi))
        raise ValueError(f"{name} must be in [{lo}, {hi}] ({what}), got {name}"
                         f"[{bad}] = {flat[bad]}")
    return np.array(flat, dtype=_I64)


def _targets(targets: Any, n: int, unbatched: bool) -> np.ndarray:
    reject_masked(targets, "targets")
    t = np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"targets must be integer class indices, got dtype {t.dtype}")
    if t.ndim == 2 and t.shape[0] != n:
        raise ValueError(f"padded targets must have shape (N, S) with N = {n} (log_probs' "
                         f"batch), got shape {t.shape}")
    if t.ndim not in (1, 2):
        raise ValueError(f"targets must be padded (N, S) or concatenated 1-d"
                         f"{' ((S,) unbatched)' if unbatched else ''}, got shape {t.shape}")
    return t


def _check_labels(t: np.ndarray, used: np.ndarray, c: int, blank: int) -> None:
    """ValueError unless every label a target uses is a class in [0, C) other than blank."""
    flat = t.reshape(-1)[used]
    if not flat.size:
        return
    if flat.min() >= 0 and flat.max() < c and not (flat == blank).any():
        return
    k = first_where(flat, lambda block: (block < 0) | (block >= c) | (block == blank))
    where = _where(int(np.flatnonzero(used)[k]), t.shape)
    if 0 <= flat[k] < c:
        raise ValueError(f"targets[{where}] = {flat[k]} is the blank ({blank}): a target "
                         f"holds labels only")
    raise ValueError(f"targets[{where}] = {flat[k]} is not a class index in [0, {c})")


def _prepare(log_probs: Any, targets: Any, input_lengths: Any, target_lengths: Any,
             blank: Any, reduction: str, zero_infinity: Any) -> _Call:
    x = _as_float(log_probs, "log_probs")
    if x.ndim not in (2, 3):
        raise ValueError(f"log_probs must have shape (T, N, C), or (T, C) unbatched, got "
                         f"shape {x.shape}")
    if x.size == 0:
        raise ValueError(f"log_probs must not be empty (as in torch), got shape {x.shape}")
    unbatched = x.ndim == 2
    x3 = x[:, None, :] if unbatched else x
    frames, n, c = x3.shape
    if c > _MAX_CLASSES:
        raise ValueError(f"log_probs has C = {c} classes, more than the kernel's "
                         f"{_MAX_CLASSES} (32-bit class indices)")
    blank = check_int(blank, "blank", 0, c - 1)
    _check_reduction(reduction)
    zero_infinity = check_flag(zero_infinity, "zero_infinity")
    t = _targets(targets, n, unbatched)
    il = _lengths(input_lengths, "input_lengths", n, 0, frames, f"T = {frames} frames")
    if t.ndim == 2:  # padded: sample b's labels are t[b, :S_b]
        s = t.shape[1]
        tl = _lengths(target_lengths, "target_lengths", n, 0, s, f"S = {s}, targets' width")
        used = (np.arange(s) < tl[:, None]).reshape(-1)
        offsets = np.arange(n, dtype=_I64) * s
        s_max = s
    else:  # concatenated: sample b's labels follow sample b - 1's
        tl = _lengths(target_lengths, "target_lengths", n, 0, t.size,
                      f"at most the {t.size} concatenated labels")
        if int(tl.sum()) != t.size:
            raise ValueError(f"concatenated targets must hold sum(target_lengths) = "
                             f"{int(tl.sum())} labels, got {t.size}")
        used = np.ones(t.size, dtype=bool)
        offsets = np.concatenate(([0], np.cumsum(tl)[:-1])).astype(_I64)
        s_max = int(tl.max())
    _check_labels(t, used, c, blank)
    labels = np.array(t, dtype=_I64, order="C")  # the call's own copy: nobody changes it
    return _Call(x, x3, labels, offsets, il, tl, s_max, blank, zero_infinity)


def _value(k: _Call, nll: FloatArray, reduction: str) -> LossValue:
    loss = np.where(nll == np.inf, nll.dtype.type(0), nll) if k.zero_infinity else nll
    if reduction == "sum":
        return _scalar(nll.dtype, float(loss.sum(dtype=np.float64)))
    if reduction == "mean":  # each sample's loss per label, then the batch's mean
        per_label = loss / np.maximum(k.target_lengths, 1)
        return _scalar(nll.dtype, float(per_label.mean(dtype=np.float64)))
    return loss.reshape(()) if k.x.ndim == 2 else loss


def _ctc(want_grad: bool, log_probs: Any, targets: Any, input_lengths: Any,
         target_lengths: Any, blank: Any, reduction: str, zero_infinity: Any, out: Any,
         n_threads: Optional[int]) -> Tuple[LossValue, Optional[FloatArray]]:
    k = _prepare(log_probs, targets, input_lengths, target_lengths, blank, reduction,
                 zero_infinity)
    grad = _prepare_out(out, k.x.shape, k.x.dtype, k.x) if want_grad else None
    frames, n, c = k.x3.shape
    nt = _config.resolve_threads(n_threads, n * frames * (2 * k.s_max + 1 + c))
    if _backend.get_backend() == "numpy":
        with np.errstate(all="ignore"):
            value, g = reference.ctc_loss_value_and_grad(
                k.x, k.targets, k.input_lengths, k.target_lengths, k.blank, reduction,
                k.zero_infinity)
        if grad is not None:
            np.copyto(grad, g)
        return value, grad
    nll = np.empty(n, dtype=k.x.dtype)
    scale = None
    if grad is not None:
        scale = (1.0 / (n * np.maximum(k.target_lengths, 1)) if reduction == "mean"
                 else np.ones(n))
    bad = _losses.ctc(k.x3, k.targets, k.offsets, k.input_lengths, k.target_lengths,
                      k.s_max, k.blank, k.zero_infinity, scale, nll,
                      None if grad is None else grad.reshape(k.x3.shape), nt)
    assert bad < 0, "the kernel read labels from the call's own copy, checked"
    return _value(k, nll, reduction), grad


def ctc_loss(log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
             target_lengths: ArrayLike, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False, *, n_threads: Optional[int] = None) -> LossValue:
    r"""Connectionist temporal classification loss, ``l_b = -log p(target_b | log_probs_b)``.

    Args:
        log_probs: ``(T, N, C)`` log-probabilities (e.g. a log_softmax over classes) of T
            frames, N samples, C classes, float32 or float64; ``(T, C)`` for one sample.
        targets: int labels in ``[0, C)`` other than ``blank``: padded ``(N, S)`` (sample
            b's target is ``targets[b, :target_lengths[b]]``; the rest is not read) or
            concatenated 1-d of ``sum(target_lengths)`` labels. Unbatched: ``(S,)`` with
            ``S = target_length`` (torch reads it as concatenated) or ``(1, S)``.
        input_lengths: the frames of each sample, N ints in ``[0, T]``.
        target_lengths: the labels of each sample, N ints ``>= 0`` (at most S, padded).
        blank: the blank class, in ``[0, C)``.
        reduction: ``"mean"`` (each ``l_b / max(S_b, 1)``, averaged over the batch, as
            torch), ``"sum"`` or ``"none"`` (the N losses; a 0-d array unbatched).
        zero_infinity: replace infinite losses (a target no alignment reaches:
            ``T_b < S_b`` plus its repeats) and their gradients by 0.
        n_threads: threads for this call (samples split among them); see
            :mod:`fastloss.losses`.

    A sample of 0 frames has loss 0 for an empty target and inf otherwise, as in torch.
    """
    return _ctc(False, log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity, None, n_threads)[0]


def ctc_loss_grad(log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
                  target_lengths: ArrayLike, blank: int = 0, reduction: str = "mean",
                  zero_infinity: bool = False, *, out: Optional[FloatArray] = None,
                  n_threads: Optional[int] = None) -> FloatArray:
    """torch's gradient of :func:`ctc_loss` for ``log_probs`` (module docstring), of
    log_probs' shape; 0 in the frames past a sample's input length."""
    grad = _ctc(True, log_probs, targets, input_lengths, target_lengths, blank, reduction,
                zero_infinity, out, n_threads)[1]
    assert grad is not None
    return grad


def ctc_loss_value_and_grad(log_probs: ArrayLike, targets: ArrayLike, input_lengths: ArrayLike,
                            target_lengths: ArrayLike, blank: int = 0,
                            reduction: str = "mean", zero_infinity: bool = False, *,
                            out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                            ) -> Tuple[LossValue, FloatArray]:
    """``(ctc_loss(...), ctc_loss_grad(...))`` from one pass (alpha kept for the gradient)."""
    value, grad = _ctc(True, log_probs, targets, input_lengths, target_lengths, blank,
                       reduction, zero_infinity, out, n_threads)
    assert grad is not None
    return value, grad
