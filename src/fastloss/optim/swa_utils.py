"""Parameter averaging (SWA, EMA) over a list of arrays: ``torch.optim.swa_utils``.

* :class:`AveragedModel` -- running averages of a list of parameter arrays, updated by
  ``update_parameters(params)``: the first call copies, each later one averages with the
  rule of ``multi_avg_fn`` (over the whole list), ``avg_fn`` (one array at a time) or, by
  default, the running mean (SWA); ``n_averaged`` counts the calls;
* the rules, as torch builds them: :func:`get_ema_multi_avg_fn` / :func:`get_ema_avg_fn`
  (exponential moving average), :func:`get_swa_multi_avg_fn` / :func:`get_swa_avg_fn`
  (equal weights);
* :class:`SWALR` -- the learning-rate schedule of SWA: each group's rate annealed to its
  ``swa_lr`` over ``anneal_epochs``, then held.

torch's module holds an ``nn.Module`` (``AveragedModel(model)``); here the model is its list
of parameter arrays (``AveragedModel(params)``, ``update_parameters(params)``), the averages
are ``averaged.params`` (C-contiguous copies), and torch's ``use_buffers`` does not apply.
Every rule here is one fused, in-place pass over all the arrays per update, the averaging
rule in C (grad_utils.h) with torch's arithmetic: ``_foreach_lerp_`` (at::lerp) for the
multi rules, ``decay * avg + (1 - decay) * p`` and ``avg + (p - avg) / (n + 1)`` for the
single ones (which torch's AveragedModel uses by default on the CPU). A rule of your own
(any callable with torch's arguments) works too, through NumPy.

>>> import numpy as np
>>> w = np.zeros(2)
>>> swa = AveragedModel([w])
>>> for value in (1.0, 2.0, 6.0):
...     w[:] = value
...     swa.update_parameters([w])
>>> swa.params[0].tolist(), swa.n_averaged
([3.0, 3.0], 3)
"""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT, check_choice, check_int, check_real
from fastloss.optim._lr_base import LRScheduler, _checked_groups, _per_group

__all__ = ["AveragedModel", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn", "SWALR"]

Arrays = Sequence[np.ndarray]
MultiAvgFn = Callable[[Arrays, Arrays, Any], None]
AvgFn = Callable[[np.ndarray, np.ndarray, Any], np.ndarray]
#: how a built-in rule runs in the kernel: (its kind, the kernel's scalar from n_averaged)
_Fused = Tuple[int, Callable[[Any], float]]


def _fused(fn: Callable[..., Any], kind: int, weight: Callable[[Any], float]) -> Any:
    fn._fused = (kind, weight)  # type: ignore[attr-defined]
    return fn


def _average(kind: int, w: float, averages: Tuple[Any, ...], params: Tuple[Any, ...]) -> None:
    """The rule ``kind`` over every pair in one call. Arrays the kernel does not read as
    they are (another layout, a subclass, byte-swapped) go through C-ordered copies, the
    averages' written back."""
    if _optim.runs_average(averages, params, kind, w):
        return
    if len(averages) != len(params):
        raise ValueError(f"{len(averages)} averages for {len(params)} parameters")
    for i, (a, p) in enumerate(zip(averages, params)):
        if not isinstance(a, np.ndarray) or not isinstance(p, np.ndarray):
            raise TypeError(f"averages[{i}] and params[{i}] must be NumPy arrays")
        if a.shape != p.shape or a.dtype != p.dtype or a.dtype not in (np.float32, np.float64):
            raise ValueError(f"averages[{i}] ({a.shape}, {a.dtype}) and params[{i}] "
                             f"({p.shape}, {p.dtype}) must be float arrays of one shape and dtype")
        if not a.flags.writeable:
            raise ValueError(f"averages[{i}] is read-only: it is updated in place")
    work = tuple(np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("=")) for a in averages)
    # the parameters copied: one may be an average itself, or share memory with another
    copies = tuple(np.array(p, dtype=work[i].dtype, order="C") for i, p in enumerate(params))
    if not _optim.runs_average(work, copies, kind, w):
        raise ValueError("two of the averages share memory: each is updated in place")
    for a, copy in zip(averages, work):
        if copy is not a:
            a[...] = copy


def _check_decay(decay: Any) -> float:
    return check_real(decay, "decay", UNIT)


def _swa_weight(num_averaged: Any) -> float:
    """torch's ``1 / (num_averaged + 1)``: for an array (torch's integer tensor) the division
    gives the default float dtype, float32, and so does this; for an int, a float."""
    if isinstance(num_averaged, (np.ndarray, np.generic)):
        return float(np.float32(1.0) / np.float32(int(num_averaged) + 1))
    return 1 / (int(num_averaged) + 1)


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The EMA rule over lists (torch's): ``avg.lerp_(p, 1 - decay)`` for each pair, i.e.
    ``avg = decay * avg + (1 - decay) * p`` rounded as at::lerp. ``decay`` in [0, 1]."""
    decay = _check_decay(decay)

    def ema_update(ema_param_list: Arrays, current_param_list: Arrays, _: Any) -> None:
        _average(_optim.AVERAGE_LERP, 1 - decay, tuple(ema_param_list),
                 tuple(current_param_list))

    return _fused(ema_update, _optim.AVERAGE_LERP, lambda n: 1 - decay)


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The SWA rule over lists (torch's): ``avg.lerp_(p, 1 / (num_averaged + 1))``, the
    running mean; the weight is float32 when ``num_averaged`` is an array (as torch's integer
    tensor makes it), a float for an int."""
    def swa_update(averaged_param_list: Arrays, current_param_list: Arrays,
                   num_averaged: Any) -> None:
        _average(_optim.AVERAGE_LERP, _swa_weight(num_averaged), tuple(averaged_param_list),
                 tuple(current_param_list))

    return _fused(swa_update, _optim.AVERAGE_LERP, _swa_weight)


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The EMA rule for one array (torch's): returns ``decay * avg + (1 - decay) * p``."""
    decay = _check_decay(decay)

    def ema_update(ema_param: np.ndarray, current_param: np.ndarray, _: Any) -> np.ndarray:
        out = np.array(ema_param, order="C")
        _average(_optim.AVERAGE_EMA, decay, (out,), (np.asarray(current_param),))
        return out

    return _fused(ema_update, _optim.AVERAGE_EMA, lambda n: decay)


def get_swa_avg_fn() -> AvgFn:
    """The SWA rule for one array (torch's): returns ``avg + (p - avg) / (num_averaged + 1)``."""
    def swa_update(averaged_param: np.ndarray, current_param: np.ndarray,
                   num_averaged: Any) -> np.ndarray:
        out = np.array(averaged_param, order="C")
        _average(_optim.AVERAGE_MEAN, _mean_count(num_averaged), (out,),
                 (np.asarray(current_param),))
        return out

    return _fused(swa_update, _optim.AVERAGE_MEAN, _mean_count)


def _mean_count(num_averaged: Any) -> float:
    """The divisor of the running mean: ``num_averaged + 1``."""
    return int(num_averaged) + 1


def _checked_params(params: Any, name: str) -> List[np.ndarray]:
    if isinstance(params, np.ndarray):
        raise TypeError(f"{name} must be a list of arrays, got one ndarray; pass [param]")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{name} must be a list of arrays, got {type(params).__name__}") from None
    for i, p in enumerate(items):
        if not isinstance(p, np.ndarray) or p.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name}[{i}] must be a float32 or float64 array, got "
                            f"{getattr(p, 'dtype', type(p).__name__)}")
    return items


class AveragedModel:
    """Running averages of a list of parameter arrays (torch's ``AveragedModel``).

    Parameters
    ----------
    params : list of float32/float64 arrays
        The model's parameters; the averages start as C-contiguous copies of them.
    avg_fn : callable ``(avg, p, n_averaged) -> array`` or None
        A rule for one array at a time (e.g. :func:`get_ema_avg_fn`).
    multi_avg_fn : callable ``(avgs, ps, n_averaged) -> None`` or None
        A rule over the lists, in place (e.g. :func:`get_ema_multi_avg_fn`). At most one of
        the two; with neither, the running mean (torch's default on the CPU,
        :func:`get_swa_avg_fn`'s formula).

    Attributes
    ----------
    params : list of arrays, the averages
    n_averaged : int, the number of ``update_parameters`` calls
    """

    def __init__(self, params: Arrays, avg_fn: Optional[AvgFn] = None,
                 multi_avg_fn: Optional[MultiAvgFn] = None) -> None:
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("Only one of avg_fn and multi_avg_fn should be provided")
        for name, fn in (("avg_fn", avg_fn), ("multi_avg_fn", multi_avg_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable or None, got {fn!r}")
        self.params = [np.array(p, order="C") for p in _checked_params(params, "params")]
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.n_averaged = 0

    def update_parameters(self, params: Arrays) -> None:
        """Average ``params`` (arrays matching :attr:`params` in shape and dtype) in: the
        first call copies them, each later one applies the rule; all checked first."""
        fused = self._fused_rule()
        if fused is not None and self.n_averaged > 0 and type(params) in (list, tuple):
            # the common case in one compiled call, which checks every array itself (or
            # declines, writing nothing, to the checks below)
            kind, weight = fused
            if _optim.runs_average(tuple(self.params), tuple(params), kind,
                                   weight(self._count())):
                self.n_averaged += 1
                return
        current = _checked_params(params, "params")
        if len(current) != len(self.params):
            raise ValueError(f"params has {len(current)} arrays, expected {len(self.params)}")
        for i, (a, p) in enumerate(zip(self.params, current)):
            if p.shape != a.shape or p.dtype != a.dtype:
                raise ValueError(f"params[{i}] has shape {p.shape} and dtype {p.dtype}, "
                                 f"expected {a.shape} and {a.dtype}")
        if self.n_averaged == 0:
            for a, p in zip(self.params, current):
                np.copyto(a, p)
        else:
            self._average(current)
        self.n_averaged += 1

    def _count(self) -> np.ndarray:
        """``n_averaged`` as torch passes it to the rules (its integer tensor): 0-d int64."""
        return np.asarray(self.n_averaged, dtype=np.int64)

    def _fused_rule(self) -> Optional[_Fused]:
        """The kernel's (kind, weight of n_averaged) of a built-in rule, else None."""
        fn = self.multi_avg_fn if self.multi_avg_fn is not None else self.avg_fn
        if fn is None:  # torch's default on the CPU: get_swa_avg_fn's running mean
            return _optim.AVERAGE_MEAN, _mean_count
        fused: Optional[_Fused] = getattr(fn, "_fused", None)
        return fused

    def _average(self, current: List[np.ndarray]) -> None:
        n = self._count()
        fused = self._fused_rule()
        if fused is not None:  # a built-in rule: one pass over every array, in place
            kind, weight = fused
            _average(kind, weight(n), tuple(self.params), tuple(current))
        elif self.multi_avg_fn is not None:
            self.multi_avg_fn(self.params, current, n)
        else:
            assert self.avg_fn is not None
            new = [self.avg_fn(a, p, n) for a, p in zip(self.params, current)]
            for a, value in zip(self.params, new):
                np.copyto(a, value)


class SWALR(LRScheduler):
    """The SWA learning-rate schedule (torch's ``SWALR``): each group's rate moves from its
    value to ``swa_lr`` over ``anneal_epochs`` steps, ``lr = swa_lr * alpha + lr_0 * (1 -
    alpha)`` with ``alpha`` rising from 0 to 1 along a cosine (``(1 - cos(pi t)) / 2``) or
    linearly (``t``), then stays at ``swa_lr``. torch's recursive update, from the rate the
    group holds (so it composes with other writers, as in torch).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    swa_lr : float >= 0 or a list of one per group (written into each group as "swa_lr")
    anneal_epochs : int >= 0, default 10
    anneal_strategy : {"cos", "linear"}, default "cos"
    last_epoch : int >= -1, default -1
    """

    _closed_form = False

    def __init__(self, optimizer: Any, swa_lr: Union[float, Sequence[float]],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        groups = _checked_groups(optimizer)
        swa_lrs = _per_group(swa_lr, "swa_lr", groups, NON_NEGATIVE)
        self._anneal_strategy = check_choice(anneal_strategy, "anneal_strategy",
                                             ("cos", "linear"))
        self.anneal_epochs = check_int(anneal_epochs, "anneal_epochs", 0)
        for value, group in zip(swa_lrs, groups):
            group["swa_lr"] = value
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        """``alpha`` at the fraction ``t`` of the annealing."""
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    def _initial_lr(self, lrs: List[float]) -> List[float]:
        return self._chained_lr(lrs)

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        out = []
        for group, lr in zip(self.optimizer.param_groups, lrs):
            swa_lr = group["swa_lr"]
            start = swa_lr if prev_alpha == 1 else (lr - prev_alpha * swa_lr) / (1 - prev_alpha)
            out.append(swa_lr * alpha + start * (1 - alpha))
        return out

    def get_lr(self) -> List[float]:
        return self._chained_lr(self._lrs())
