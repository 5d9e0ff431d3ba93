"""Learning-rate schedulers with the interface and values of ``torch.optim.lr_scheduler``.

A scheduler drives any optimizer object that has ``param_groups``: a list of dicts, each
with a float ``"lr"`` (fastloss's optimizer classes, torch's, or a
``types.SimpleNamespace(param_groups=[{"lr": 0.1}])``). At construction each group gets
``"initial_lr"`` (``group.setdefault("initial_lr", group["lr"])``); these are
``base_lrs``. Each :meth:`LRScheduler.step` advances ``last_epoch`` by one and writes
``group["lr"]`` for every group. The schedulers, torch's names, arguments and defaults:

* closed forms ``lr = f(base_lr, last_epoch)``: :class:`StepLR`, :class:`MultiStepLR`,
  :class:`ExponentialLR`, :class:`CosineAnnealingLR`, :class:`ConstantLR`,
  :class:`LinearLR`, :class:`PolynomialLR`, :class:`LambdaLR`;
* a factor per epoch on the current rate: :class:`MultiplicativeLR`;
* cycles (optionally cycling the optimizer's ``momentum`` or ``betas[0]`` against the rate):
  :class:`CyclicLR`, :class:`OneCycleLR`, :class:`CosineAnnealingWarmRestarts` (whose
  ``step`` takes a fractional epoch);
* on a metric: :class:`ReduceLROnPlateau` (``step(metrics)``);
* of other schedulers: :class:`SequentialLR` (one after another, at milestones) and
  :class:`ChainedScheduler` (all of them every step).

**Chaining.** torch's ``step`` updates most schedules recursively, from the rate the group
holds (``lr *= gamma``), so several schedulers on one optimizer compose (their factors
multiply) and a manual change of ``lr`` persists. A scheduler here evaluates its closed form
while it is the only writer of the rates -- no rounding accumulates over epochs -- and
switches for good to torch's recursive update (``_chained_lr``) as soon as it is not: when
another live scheduler drives the same optimizer at its construction, when it is part of a
:class:`ChainedScheduler`, or when a group's ``lr`` is not the value it last wrote. Both
forms are torch's, so the sequence is torch's to rounding either way. Schedules torch itself
computes in closed form (LambdaLR, CyclicLR, OneCycleLR, CosineAnnealingWarmRestarts)
overwrite the rate whoever wrote it, as in torch. Typical use::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(optimizer)   # reads group["lr"]
        scheduler.step()

>>> from types import SimpleNamespace
>>> optimizer = SimpleNamespace(param_groups=[{"lr": 0.1}])
>>> scheduler = StepLR(optimizer, step_size=2, gamma=0.5)
>>> lrs = []
>>> for _ in range(5):
...     lrs.append(optimizer.param_groups[0]["lr"])
...     scheduler.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]

Arguments are checked with fastloss's vocabulary (a wrong type is a TypeError, a value out
of range a ValueError naming the argument and its range) before any group changes; torch
raises ValueError for the same out-of-range values, and checks some (``T_0`` of
CosineAnnealingWarmRestarts, ``step_size``) only when they first break a step.
"""

from __future__ import annotations

import math
import types
import weakref
from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from fastloss._validation import (NON_NEGATIVE, POSITIVE, UNIT, UNIT_OPEN, Interval,
                                  check_choice, check_flag, check_int, check_real)

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR"]

#: (0, 1]: a factor that multiplies the rate and must not remove it (torch divides by it)
UNIT_LEFT_OPEN = Interval(0.0, 1.0, lo_closed=False, hi_closed=True)

Floats = Union[float, Sequence[float]]
LrLambda = Callable[[int], float]

#: the live schedulers of each optimizer, by id (optimizers need not be hashable: a
#: SimpleNamespace is not); a scheduler holds its optimizer, so a live entry's id is not reused
_LIVE: Dict[int, "weakref.WeakSet[LRScheduler]"] = {}


def _others_on(optimizer: Any, scheduler: "LRScheduler") -> bool:
    """Register ``scheduler`` as driving ``optimizer``; whether another live one already does."""
    for key in [k for k, s in _LIVE.items() if not s]:
        del _LIVE[key]
    live = _LIVE.setdefault(id(optimizer), weakref.WeakSet())
    others = any(s is not scheduler for s in live)
    live.add(scheduler)
    return others


def _scaled(values: List[float], factor: float) -> List[float]:
    return [v * factor for v in values]


def _checked_groups(optimizer: Any) -> List[Dict[str, Any]]:
    """``optimizer.param_groups``, checked to be a non-empty list of dicts with a real lr."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, list) or not groups:
        raise TypeError("optimizer must have param_groups, a non-empty list of dicts")
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "lr" not in group:
            raise TypeError(f"optimizer.param_groups[{i}] must be a dict with key 'lr'")
        check_real(group["lr"], f"optimizer.param_groups[{i}]['lr']", NON_NEGATIVE)
    return groups


def _per_group(value: Any, name: str, groups: List[Dict[str, Any]],
               interval: Interval = NON_NEGATIVE) -> List[float]:
    """One real per group: ``value`` repeated, or a list/tuple of one per group (torch's
    ``_format_param``)."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {len(groups)}.")
        return [check_real(v, f"{name}[{i}]", interval) for i, v in enumerate(value)]
    return [check_real(value, name, interval)] * len(groups)


def _callables(value: Any, name: str, n_groups: int) -> List[Callable[..., float]]:
    """One callable per group: ``value`` repeated, or a list/tuple of one per group."""
    fns = list(value) if isinstance(value, (list, tuple)) else [value] * n_groups
    if len(fns) != n_groups:
        raise ValueError(f"Expected {n_groups} {name}s, but got {len(fns)}")
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{name} should be a function, but got {type(fn).__name__}")
    return fns


def _callables_state(fns: Sequence[Any]) -> List[Optional[Dict[str, Any]]]:
    """What a state dict keeps of callables (torch's rule): nothing of a plain function,
    the attributes of a callable object."""
    return [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__) for fn in fns]


def _load_callables_state(fns: Sequence[Any], saved: Sequence[Optional[Dict[str, Any]]]) -> None:
    for fn, attributes in zip(fns, saved):
        if attributes is not None:
            fn.__dict__.update(attributes)


def _momentum_key(optimizer: Any, groups: List[Dict[str, Any]]) -> str:
    """Which momentum ``cycle_momentum`` cycles: ``"betas"`` (its first entry) or
    ``"momentum"``, from ``optimizer.defaults`` as torch decides (from the first group for an
    optimizer without ``defaults``)."""
    keys = getattr(optimizer, "defaults", None)
    if not isinstance(keys, dict):
        keys = groups[0]
    if "momentum" not in keys and "betas" not in keys:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` "
                         "option enabled")
    return "betas" if "betas" in keys else "momentum"


def _set_momentum(group: Dict[str, Any], key: str, value: float) -> None:
    if key == "betas":
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


class LRScheduler:
    """Base class: a schedule applied to every param group of an optimizer.

    Subclasses implement :meth:`get_lr`, the closed form at ``self.last_epoch`` (the
    ``_get_closed_form_lr`` of torch), and, where torch's ``step`` is recursive,
    ``_chained_lr(lrs)`` (torch's ``get_lr``: the next rates from the groups' current ones,
    used once the scheduler is chained, see the module's docstring) and ``_initial_lr(lrs)``
    (what torch's initial step writes; the rates unchanged by default).

    Parameters
    ----------
    optimizer : object with ``param_groups``
        A non-empty list of dicts, each with a real ``"lr"``.
    last_epoch : int, default -1
        ``-1`` starts a new schedule. A value ``>= 0`` resumes one: every group must then
        hold ``"initial_lr"`` already (as torch requires).

    Construction does torch's initial step: ``last_epoch`` becomes ``last_epoch + 1``.
    For a new schedule the groups' ``lr`` get what torch's initial step writes (unchanged
    for most schedules; ``lr * factor`` for ConstantLR and LinearLR). When resuming, ``lr``
    is set to the closed form at the new ``last_epoch``, so a resumed schedule continues
    exactly as an uninterrupted one. (torch 2.x leaves ``lr`` unchanged there and its
    recursive updates then run one epoch behind its own closed form.)

    Attributes
    ----------
    optimizer, base_lrs : list of float, last_epoch : int
    """

    #: whether :meth:`get_lr` is a closed form (MultiplicativeLR's is not: its rate is a
    #: product over every epoch's factor, and torch calls its lambda once per step)
    _closed_form = True

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        groups = _checked_groups(optimizer)
        last_epoch = check_int(last_epoch, "last_epoch", -1)
        if last_epoch >= 0:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        # validated in full before the groups are touched
        base_lrs = [check_real(group.get("initial_lr", group["lr"]),
                               f"optimizer.param_groups[{i}]['initial_lr']", NON_NEGATIVE)
                    for i, group in enumerate(groups)]
        for group in groups:
            group.setdefault("initial_lr", group["lr"])
        self.optimizer = optimizer
        self.base_lrs: List[float] = base_lrs
        self.last_epoch = last_epoch
        #: whether steps use torch's recursive update (see the module's docstring)
        self._chained = _others_on(optimizer, self) and last_epoch < 0
        self._initial_step(resume=last_epoch >= 0)

    def _initial_step(self, resume: bool = False) -> None:
        """torch's initial step: epoch ``last_epoch + 1``, the closed form when resuming."""
        self._step_count = 1
        self.last_epoch += 1
        lrs = self._lrs()
        self._write(self.get_lr() if resume and self._closed_form else self._initial_lr(lrs))

    def _lrs(self) -> List[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def _write(self, values: List[float]) -> None:
        """Write the rates (and what else the schedule cycles) into the groups."""
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr: List[float] = self._lrs()

    def get_lr(self) -> List[float]:
        """The learning rate of each group at ``self.last_epoch`` (closed form)."""
        raise NotImplementedError

    def _initial_lr(self, lrs: List[float]) -> List[float]:
        """The rates torch's initial step (epoch 0 of a new schedule) writes."""
        return lrs

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        """torch's recursive update: the rates at ``last_epoch`` from the current ``lrs``."""
        return self.get_lr()

    def _next_lr(self, lrs: List[float]) -> List[float]:
        if not self._chained and lrs != self._last_lr:
            self._chained = True  # someone else wrote a rate: compose with it, as torch does
        if self._chained or not self._closed_form:
            return self._chained_lr(lrs)
        return self.get_lr()

    def step(self) -> None:
        """Advance one epoch and write the new ``lr`` into each param group.

        Call it after the optimizer's step, as in torch. (torch's deprecated ``epoch``
        argument is not supported.) On an error nothing changes.
        """
        self._step_count += 1
        self.last_epoch += 1
        try:
            values = self._next_lr(self._lrs())
        except BaseException:
            self._step_count -= 1
            self.last_epoch -= 1
            raise
        self._write(values)

    def _restart(self) -> None:
        """Epoch 0 again, in the closed form where there is one (torch's ``_update_lr(0)``,
        what SequentialLR does at a milestone)."""
        self.last_epoch = 0
        lrs = self._lrs()
        self._write(self.get_lr() if self._closed_form else self._chained_lr(lrs))

    def get_last_lr(self) -> List[float]:
        """The learning rates the last :meth:`step` (or the construction) left in the groups."""
        return list(self._last_lr)

    #: attributes a state dict leaves out (those after "optimizer" saved their own way)
    _unsaved: Tuple[str, ...] = ("optimizer",)

    def state_dict(self) -> Dict[str, Any]:
        """Everything in the scheduler but the optimizer (torch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key not in self._unsaved}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the groups' ``lr`` are not rewritten (as torch)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        if "optimizer" in state_dict:
            raise ValueError("state_dict must not contain 'optimizer'")
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in self._unsaved})


class _ClosedFormLR(LRScheduler):
    """A schedule torch computes in closed form at every step, the initial one included:
    it overwrites the rate whoever wrote it (it does not chain, in torch either)."""

    def _initial_lr(self, lrs: List[float]) -> List[float]:
        return self.get_lr()


class _LambdaBase(LRScheduler):
    """A schedule of one function of the epoch per group (LambdaLR, MultiplicativeLR)."""

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer: Any, lr_lambda: Union[LrLambda, Sequence[LrLambda]],
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _callables(lr_lambda, "lr_lambda", len(_checked_groups(optimizer)))
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> Dict[str, Any]:
        """As the base's; of each lambda only a callable object's attributes (torch's rule)."""
        state = super().state_dict()
        state["lr_lambdas"] = _callables_state(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        _load_callables_state(self.lr_lambdas, state_dict.get("lr_lambdas", ()))


class LambdaLR(_LambdaBase, _ClosedFormLR):
    """``lr = base_lr * lr_lambda(last_epoch)`` (torch's ``LambdaLR``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    lr_lambda : callable ``int -> float``, or a list of one per group
    last_epoch : int >= -1, default -1
    """

    def get_lr(self) -> List[float]:
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas,
                                                                     self.base_lrs)]


class MultiplicativeLR(_LambdaBase):
    """``lr *= lr_lambda(last_epoch)`` at each step from the rate the group holds (torch's
    ``MultiplicativeLR``; the rate is left as it is at construction).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    lr_lambda : callable ``int -> float``, or a list of one per group
    last_epoch : int >= -1, default -1
    """

    _closed_form = False

    def get_lr(self) -> List[float]:
        return self._chained_lr(self._lrs())

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, lrs)]


class StepLR(LRScheduler):
    """``lr = base_lr * gamma ** (last_epoch // step_size)``: decay by ``gamma`` every
    ``step_size`` epochs (torch's ``StepLR``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    step_size : int >= 1
    gamma : float > 0, default 0.1
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.step_size = check_int(step_size, "step_size", 1)
        self.gamma = check_real(gamma, "gamma", POSITIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return _scaled(self.base_lrs, factor)

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return _scaled(lrs, self.gamma)


class MultiStepLR(LRScheduler):
    """``lr = base_lr * gamma ** (number of milestones <= last_epoch)`` (torch's
    ``MultiStepLR``; a milestone listed twice counts twice).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    milestones : iterable of int >= 0
    gamma : float > 0, default 0.1
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        try:
            items = list(milestones)
        except TypeError:
            raise TypeError(f"milestones must be an iterable of ints, got {milestones!r}") from None
        self.milestones = Counter(check_int(m, f"milestones[{i}]", 0) for i, m in enumerate(items))
        self.gamma = check_real(gamma, "gamma", POSITIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = self.gamma ** bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return _scaled(self.base_lrs, factor)

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        if self.last_epoch not in self.milestones:
            return lrs
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in lrs]


class _WarmupLR(LRScheduler):
    """A warm-up (ConstantLR, LinearLR): torch's initial step multiplies the rates by the
    first factor, and so does its recursive update at epoch 0 (a SequentialLR restart)."""

    def _first_factor(self) -> float:
        raise NotImplementedError

    def _initial_lr(self, lrs: List[float]) -> List[float]:
        return _scaled(lrs, self._first_factor())

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        return self._initial_lr(lrs) if self.last_epoch == 0 else self._later_lr(lrs)

    def _later_lr(self, lrs: List[float]) -> List[float]:
        """torch's recursive update at an epoch > 0."""
        raise NotImplementedError


class ConstantLR(_WarmupLR):
    """``lr = base_lr * factor`` until epoch ``total_iters``, then ``base_lr`` (torch's
    ``ConstantLR``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    factor : float in (0, 1], default 1/3
        (torch accepts 0 and then fails dividing by it at ``total_iters``.)
    total_iters : int >= 1, default 5
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = check_real(factor, "factor", UNIT_LEFT_OPEN)
        self.total_iters = check_int(total_iters, "total_iters", 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return _scaled(self.base_lrs, factor)

    def _first_factor(self) -> float:
        return self.factor

    def _later_lr(self, lrs: List[float]) -> List[float]:
        if self.last_epoch != self.total_iters:
            return lrs
        return _scaled(lrs, 1.0 / self.factor)


class LinearLR(_WarmupLR):
    """``lr = base_lr * (start_factor + (end_factor - start_factor) * min(last_epoch,
    total_iters) / total_iters)``: a linear ramp over ``total_iters`` epochs (torch's
    ``LinearLR``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    start_factor : float in (0, 1], default 1/3
    end_factor : float in [0, 1], default 1.0
    total_iters : int >= 1, default 5
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = check_real(start_factor, "start_factor", UNIT_LEFT_OPEN)
        self.end_factor = check_real(end_factor, "end_factor", UNIT)
        self.total_iters = check_int(total_iters, "total_iters", 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = (self.start_factor + (self.end_factor - self.start_factor)
                  * min(self.total_iters, self.last_epoch) / self.total_iters)
        return _scaled(self.base_lrs, factor)

    def _first_factor(self) -> float:
        return self.start_factor

    def _later_lr(self, lrs: List[float]) -> List[float]:
        if self.last_epoch > self.total_iters:
            return lrs
        change = self.end_factor - self.start_factor
        factor = 1.0 + change / (self.total_iters * self.start_factor
                                 + (self.last_epoch - 1) * change)
        return _scaled(lrs, factor)


class ExponentialLR(LRScheduler):
    """``lr = base_lr * gamma ** last_epoch``: decay by ``gamma`` every epoch (torch's
    ``ExponentialLR``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    gamma : float > 0
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_real(gamma, "gamma", POSITIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = self.gamma ** self.last_epoch
        return _scaled(self.base_lrs, factor)

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        return _scaled(lrs, self.gamma)


class PolynomialLR(LRScheduler):
    """``lr = base_lr * (1 - min(last_epoch, total_iters) / total_iters) ** power``
    (torch's ``PolynomialLR``; 0 from ``total_iters`` on).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    total_iters : int >= 1, default 5
    power : float >= 0, default 1.0
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters = check_int(total_iters, "total_iters", 1)
        self.power = check_real(power, "power", NON_NEGATIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return _scaled(self.base_lrs, factor)

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        if self.last_epoch > self.total_iters:
            return lrs
        factor = ((1.0 - self.last_epoch / self.total_iters)
                  / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return _scaled(lrs, factor)


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2``
    (torch's ``CosineAnnealingLR``, SGDR without restarts).

    The rate falls from ``base_lr`` to ``eta_min`` at ``last_epoch = T_max``; past
    ``T_max`` it rises again along the same cosine (period ``2 T_max``), as in torch.

    Parameters
    ----------
    optimizer : object with ``param_groups``
    T_max : int >= 1
        Half period, in epochs.
    eta_min : float, default 0.0
        Minimum learning rate.
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_max = check_int(T_max, "T_max", 1)
        self.eta_min = check_real(eta_min, "eta_min", NON_NEGATIVE)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        weight = (1.0 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2.0
        return [self.eta_min + (base_lr - self.eta_min) * weight for base_lr in self.base_lrs]

    def _chained_lr(self, lrs: List[float]) -> List[float]:
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - T) % (2 * T) == 0:  # leaving the minimum: the ratio below would be 0/0
            rise = (1 - math.cos(math.pi / T)) / 2
            return [lr + (base_lr - eta_min) * rise for lr, base_lr in zip(lrs, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in lrs]


def _check_members(schedulers: Any, optimizer: Any, owner: str) -> List[LRScheduler]:
    """The schedulers a SequentialLR or ChainedScheduler combines, checked as torch does."""
    try:
        members = list(schedulers)
    except TypeError:
        raise TypeError(f"schedulers must be a list of schedulers, got {schedulers!r}") from None
    if not members:
        raise ValueError(f"{owner} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(members):
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"{owner}: schedulers[{i}] must be an LRScheduler, "
                            f"got {type(scheduler).__name__}")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it "
                             "requires additional kwargs to be specified when calling `step`, "
                             f"but got one at index {i} in the given schedulers sequence.")
        if scheduler.optimizer is not (optimizer if optimizer is not None
                                       else members[0].optimizer):
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but got scheduler {type(scheduler).__name__} at index {i} with "
                             "a different one.")
    return members


class _SchedulerList(LRScheduler):
    """A scheduler made of others (SequentialLR, ChainedScheduler): its state dict holds
    theirs."""

    _unsaved = ("optimizer", "_schedulers")
    _schedulers: List[LRScheduler]

    def state_dict(self) -> Dict[str, Any]:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for scheduler, saved in zip(self._schedulers, state_dict.get("_schedulers", ())):
            scheduler.load_state_dict(saved)


def _undo_epoch(scheduler: LRScheduler) -> None:
    """One epoch back, for every scheduler inside ``scheduler`` (torch's ``recursive_undo``)."""
    if isinstance(scheduler, _SchedulerList):
        for member in scheduler._schedulers:
            _undo_epoch(member)
    else:
        scheduler.last_epoch -= 1


class SequentialLR(_SchedulerList):
    """``schedulers[i]`` drives the rates from epoch ``milestones[i - 1]`` on (torch's
    ``SequentialLR``); each starts again at its epoch 0 at its milestone.

    Construction resets every group's ``lr`` to ``initial_lr``, moves every scheduler one
    epoch back (undoing its own initial step) and does the initial step of the first.

    Parameters
    ----------
    optimizer : object with ``param_groups``
        The optimizer every scheduler drives.
    schedulers : list of LRScheduler (not ReduceLROnPlateau)
    milestones : list of int, one fewer than ``schedulers``
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        groups = _checked_groups(optimizer)
        members = _check_members(schedulers, optimizer, "SequentialLR")
        milestones = [check_int(m, f"milestones[{i}]", 0) for i, m in enumerate(milestones)]
        if len(milestones) != len(members) - 1:
            raise ValueError("Sequential Schedulers expects number of schedulers provided to be "
                             "one more than the number of milestone points, but got number of "
                             f"schedulers {len(members)} and the number of milestones to be "
                             f"equal to {len(milestones)}")
        self.last_epoch = check_int(last_epoch, "last_epoch", -1) + 1
        self._schedulers = members
        self._milestones = milestones
        self.optimizer = optimizer
        for group in groups:
            group["lr"] = group["initial_lr"]
        _undo_epoch(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _chain(schedulers: Sequence[LRScheduler]) -> None:
    """Switch these schedulers, and those inside them, to torch's recursive updates."""
    for scheduler in schedulers:
        if isinstance(scheduler, _SchedulerList):
            _chain(scheduler._schedulers)
        else:
            scheduler._chained = True


class ChainedScheduler(_SchedulerList):
    """Step every scheduler in turn at each step (torch's ``ChainedScheduler``): their
    recursive updates compose, e.g. ConstantLR's factor times ExponentialLR's decay.

    Parameters
    ----------
    schedulers : list of LRScheduler (not ReduceLROnPlateau), all on one optimizer
    optimizer : object with ``param_groups``, default the first scheduler's
    """

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Any = None) -> None:
        members = _check_members(schedulers, optimizer, "ChainedScheduler")
        _chain(members)  # each updates the rate the previous one wrote
        self._schedulers = members
        self.optimizer = optimizer if optimizer is not None else members[0].optimizer
        self._last_lr = self._lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._lrs()


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rates by ``factor`` when a metric stopped improving for ``patience``
    epochs (torch's ``ReduceLROnPlateau``): ``step(metrics)``.

    A metric improves on the best so far when it is below ``best * (1 - threshold)``
    (``mode="min"``, ``threshold_mode="rel"``), below ``best - threshold`` (``"abs"``), or
    above ``best * (1 + threshold)`` / ``best + threshold`` in ``mode="max"``. After more
    than ``patience`` epochs without improvement each group's rate becomes
    ``max(lr * factor, min_lr)`` -- unless that changes it by no more than ``eps`` -- and
    ``cooldown`` epochs follow in which bad epochs are not counted.

    Parameters
    ----------
    optimizer : object with ``param_groups``
    mode : {"min", "max"}, default "min"
    factor : float in [0, 1), default 0.1
    patience : int >= 0, default 10
    threshold : float >= 0, default 1e-4
    threshold_mode : {"rel", "abs"}, default "rel"
    cooldown : int >= 0, default 0
    min_lr : float >= 0 or a list of one per group, default 0
    eps : float >= 0, default 1e-8
    """

    _closed_form = False

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: Floats = 0, eps: float = 1e-8) -> None:
        groups = _checked_groups(optimizer)
        self.factor = check_real(factor, "factor", UNIT_OPEN)
        self.default_min_lr: Optional[float]
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
        else:
            self.default_min_lr = check_real(min_lr, "min_lr", NON_NEGATIVE)
        self.min_lrs = _per_group(min_lr, "min_lr", groups)
        self.patience = check_int(patience, "patience", 0)
        self.cooldown = check_int(cooldown, "cooldown", 0)
        self.eps = check_real(eps, "eps", NON_NEGATIVE)
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.threshold = check_real(threshold, "threshold", NON_NEGATIVE)
        self.threshold_mode = check_choice(threshold_mode, "threshold_mode", ("rel", "abs"))
        self.optimizer = optimizer
        self.last_epoch = 0
        self._step_count = 1
        self._chained = True
        _others_on(optimizer, self)  # a writer of the rates others must chain with
        self._last_lr = self._lrs()
        self.mode_worse = math.inf if self.mode == "min" else -math.inf
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        """Whether the metric ``a`` improves on ``best`` (see the class's docstring)."""
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel"
                        else best - self.threshold)
        return a > (best * (self.threshold + 1.0) if self.threshold_mode == "rel"
                    else best + self.threshold)

    def step(self, metrics: float) -> None:  # type: ignore[override]
        """One epoch whose metric is ``metrics`` (a real number; NaN never improves)."""
        if isinstance(metrics, (str, bytes, bool)):
            raise TypeError(f"metrics must be a real number, got {metrics!r}")
        try:
            current = float(metrics)  # as torch: NaN and inf are bad epochs, never the best
        except (TypeError, ValueError):
            raise TypeError(f"metrics must be a real number, got {metrics!r}") from None
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the `optimizer` "
                                   f"({len(self.optimizer.param_groups)}) differs from when "
                                   f"`ReduceLROnPlateau` was initialized ({len(self.min_lrs)})"
                                   ": modify the `min_lrs` field to match.")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        self.last_epoch += 1
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are not counted
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()


class _MomentumCycle(_ClosedFormLR):
    """A cycle that may also cycle the optimizer's momentum (CyclicLR, OneCycleLR): the
    groups' ``"momentum"``, or ``"betas"[0]`` for an Adam-like optimizer (torch's rule)."""

    cycle_momentum: bool
    use_beta1: bool

    def _setup_momentum(self, optimizer: Any, groups: List[Dict[str, Any]], cycle_momentum: Any,
                        base_momentum: Floats, max_momentum: Floats
                        ) -> Optional[Tuple[List[float], List[float]]]:
        """Check the momentum arguments; the (base, max) momenta per group, or None."""
        self.cycle_momentum = check_flag(cycle_momentum, "cycle_momentum")
        self.use_beta1 = False
        if not self.cycle_momentum:
            return None
        self.use_beta1 = _momentum_key(optimizer, groups) == "betas"
        return (_per_group(base_momentum, "base_momentum", groups, UNIT),
                _per_group(max_momentum, "max_momentum", groups, UNIT))

    def _start_momentum(self, groups: List[Dict[str, Any]],
                        momenta: Optional[Tuple[List[float], List[float]]]) -> None:
        """torch's start of a new cycle: each group's momentum at ``max_momentum``."""
        if momenta is None:
            return
        for base, top, group in zip(*momenta, groups):
            _set_momentum(group, "betas" if self.use_beta1 else "momentum", top)
            group["max_momentum"] = top
            group["base_momentum"] = base

    def _momenta(self) -> Optional[List[float]]:
        """The momentum of each group at ``last_epoch`` (None: not cycled)."""
        raise NotImplementedError

    def _write(self, values: List[float]) -> None:
        momenta = self._momenta() if self.cycle_momentum else None
        super()._write(values)
        if momenta is not None:
            key = "betas" if self.use_beta1 else "momentum"
            for group, momentum in zip(self.optimizer.param_groups, momenta):
                _set_momentum(group, key, momentum)


class CyclicLR(_MomentumCycle):
    """The cyclical learning rate of Smith (2017): the rate goes from ``base_lr`` up to
    ``max_lr`` in ``step_size_up`` steps and back in ``step_size_down``, the amplitude
    scaled per cycle or per step (torch's ``CyclicLR``; step it after every batch).

    With ``x`` the position in the cycle, ``scale = x / ratio`` rising, ``(x - 1) / (ratio - 1)``
    falling: ``lr = base_lr + (max_lr - base_lr) * scale * scale_fn(cycle or iterations)``,
    where ``scale_fn`` is 1 (``"triangular"``), ``1 / 2 ** (cycle - 1)`` (``"triangular2"``),
    ``gamma ** iterations`` (``"exp_range"``), or the given one. With ``cycle_momentum``, the
    momentum moves the other way, from ``max_momentum`` down to ``base_momentum``.

    Parameters
    ----------
    optimizer : object with ``param_groups``
    base_lr, max_lr : float >= 0 or a list of one per group
    step_size_up : int >= 1, default 2000
    step_size_down : int >= 1 or None (``step_size_up``), default None
    mode : {"triangular", "triangular2", "exp_range"}, default "triangular"
    gamma : float > 0, default 1.0
    scale_fn : callable or None, default None
        Overrides ``mode``; evaluated at the cycle number or the iteration (``scale_mode``).
    scale_mode : {"cycle", "iterations"}, default "cycle" (used with ``scale_fn``)
    cycle_momentum : bool, default True
    base_momentum, max_momentum : float in [0, 1] or a list of one per group, 0.8 and 0.9
    last_epoch : int >= -1, default -1
    """

    _unsaved = ("optimizer", "_scale_fn_custom")

    def __init__(self, optimizer: Any, base_lr: Floats, max_lr: Floats,
                 step_size_up: int = 2000, step_size_down: Optional[int] = None,
                 mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Optional[Callable[[float], float]] = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: Floats = 0.8, max_momentum: Floats = 0.9,
                 last_epoch: int = -1) -> None:
        groups = _checked_groups(optimizer)
        last_epoch = check_int(last_epoch, "last_epoch", -1)
        base_lrs = _per_group(base_lr, "base_lr", groups)
        self.max_lrs = _per_group(max_lr, "max_lr", groups)
        up = float(check_int(step_size_up, "step_size_up", 1))
        down = up if step_size_down is None else float(check_int(step_size_down,
                                                                 "step_size_down", 1))
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if scale_fn is None:
            self.mode = check_choice(mode, "mode", ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise TypeError(f"scale_fn must be callable or None, got {scale_fn!r}")
        else:
            self.mode = mode
        self.gamma = check_real(gamma, "gamma", POSITIVE)
        self._scale_fn_custom = scale_fn
        self.scale_mode = check_choice(scale_mode, "scale_mode", ("cycle", "iterations"))
        momenta = self._setup_momentum(optimizer, groups, cycle_momentum, base_momentum,
                                       max_momentum)
        self._init_scale_fn()
        if momenta is not None:
            self.base_momentums, self.max_momentums = momenta
        # checked: now the groups change
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
            self._start_momentum(groups, momenta)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is None and self.mode != "exp_range":
            self.scale_mode = "cycle"
        elif self._scale_fn_custom is None:
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle or iteration ``x`` (see the class's docstring)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def _position(self) -> Tuple[float, float]:
        """(the scale factor within the cycle, the argument of ``scale_fn``)."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale = x / self.step_ratio
        else:
            scale = (x - 1) / (self.step_ratio - 1)
        return scale, self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)

    def get_lr(self) -> List[float]:
        scale, amplitude = self._position()
        return [base_lr + (max_lr - base_lr) * scale * amplitude
                for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]

    def _momenta(self) -> Optional[List[float]]:
        scale, amplitude = self._position()
        return [top - (top - base) * scale * amplitude
                for base, top in zip(self.base_momentums, self.max_momentums)]

    def state_dict(self) -> Dict[str, Any]:
        """As the base's; of ``scale_fn`` only a callable object's attributes (torch's rule)."""
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None else _callables_state([fn])[0]
        return state

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        saved = state_dict.get("_scale_fn_custom")
        if saved is not None and self._scale_fn_custom is not None:
            _load_callables_state([self._scale_fn_custom], [saved])
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(_ClosedFormLR):
    """SGDR (Loshchilov & Hutter): ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi *
    T_cur / T_i)) / 2``, restarting after ``T_i`` epochs, each period ``T_mult`` times the
    previous (torch's ``CosineAnnealingWarmRestarts``).

    ``step()`` advances one epoch; ``step(epoch)`` sets the epoch, which may be fractional
    (``step(epoch + i / iters)`` after each of ``iters`` batches), as in torch.

    Parameters
    ----------
    optimizer : object with ``param_groups``
    T_0 : int >= 1
        The first period, in epochs.
    T_mult : int >= 1, default 1
    eta_min : float >= 0, default 0.0
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0 = check_int(T_0, "T_0", 1)
        self.T_i = self.T_0
        self.T_mult = check_int(T_mult, "T_mult", 1)
        self.eta_min = check_real(eta_min, "eta_min", NON_NEGATIVE)
        self.T_cur: float = check_int(last_epoch, "last_epoch", -1)
        super().__init__(optimizer, last_epoch)

    def _initial_step(self, resume: bool = False) -> None:
        self._step_count = 0
        self.step()

    def get_lr(self) -> List[float]:
        weight = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * weight for base_lr in self.base_lrs]

    def step(self, epoch: Optional[float] = None) -> None:
        """One epoch on, or to ``epoch`` (a real >= 0; fractional within a period)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            epoch = check_real(epoch, "epoch", NON_NEGATIVE)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._write(self.get_lr())


class OneCycleLR(_MomentumCycle):
    """The 1cycle policy (Smith & Topin): the rate anneals from ``max_lr / div_factor`` up to
    ``max_lr`` over ``pct_start`` of ``total_steps``, then down to
    ``max_lr / div_factor / final_div_factor`` (torch's ``OneCycleLR``; step it after every
    batch). ``three_phase`` comes back to the initial rate symmetrically before the final
    descent. With ``cycle_momentum`` the momentum moves the other way, between
    ``max_momentum`` and ``base_momentum``.

    Construction of a new schedule writes ``initial_lr``, ``max_lr`` and ``min_lr`` (and
    ``max_momentum``, ``base_momentum``) into each group, as torch does. Stepping past
    ``total_steps`` is a ValueError, and so is a ``pct_start`` that leaves a phase without
    steps (e.g. 0.1 of 10 steps; torch divides by zero there, at the first step or later).

    Parameters
    ----------
    optimizer : object with ``param_groups``
    max_lr : float >= 0 or a list of one per group
    total_steps : int >= 1 or None; else ``epochs * steps_per_epoch``
    epochs, steps_per_epoch : int >= 1 or None
    pct_start : float in [0, 1], default 0.3
    anneal_strategy : {"cos", "linear"}, default "cos"
    cycle_momentum : bool, default True
    base_momentum, max_momentum : float in [0, 1] or a list of one per group, 0.85 and 0.95
    div_factor : float > 0, default 25.0
    final_div_factor : float > 0, default 1e4
    three_phase : bool, default False
    last_epoch : int >= -1, default -1
    """

    def __init__(self, optimizer: Any, max_lr: Floats, total_steps: Optional[int] = None,
                 epochs: Optional[int] = None, steps_per_epoch: Optional[int] = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum: Floats = 0.85,
                 max_momentum: Floats = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        groups = _checked_groups(optimizer)
        last_epoch = check_int(last_epoch, "last_epoch", -1)
        if total_steps is not None:
            self.total_steps = check_int(total_steps, "total_steps", 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (check_int(epochs, "epochs", 1)
                                * check_int(steps_per_epoch, "steps_per_epoch", 1))
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        pct_start = check_real(pct_start, "pct_start", UNIT)
        self._anneal_func_type = check_choice(anneal_strategy, "anneal_strategy",
                                              ("cos", "linear"))
        div_factor = check_real(div_factor, "div_factor", POSITIVE)
        final_div_factor = check_real(final_div_factor, "final_div_factor", POSITIVE)
        three_phase = check_flag(three_phase, "three_phase")
        max_lrs = _per_group(max_lr, "max_lr", groups)
        momenta = self._setup_momentum(optimizer, groups, cycle_momentum, base_momentum,
                                       max_momentum)
        # (end step, start lr, end lr, start momentum, end momentum), group keys, per phase
        end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                (end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                 "base_momentum", "max_momentum"),
                (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._schedule_phases = [
                (end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        ends = [-0.0] + [phase[0] for phase in self._schedule_phases]
        if ends[1] == 0 or ends[-1] == ends[-2]:  # torch divides by zero there
            raise ValueError(f"OneCycleLR: pct_start={pct_start} with total_steps="
                             f"{self.total_steps} leaves a phase of no steps")
        # checked: now the groups change
        if last_epoch == -1:
            for top, group in zip(max_lrs, groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
            self._start_momentum(groups, momenta)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self, group: Dict[str, Any]) -> Tuple[float, float]:
        """(lr, momentum) of ``group`` at ``last_epoch``, annealed within its phase."""
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total "
                             f"steps is {self.total_steps}")
        start_step = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end_step = phase[0]
            if step <= end_step or i == len(self._schedule_phases) - 1:
                if end_step == start_step:  # torch divides by zero here
                    raise ValueError(f"OneCycleLR: phase {i} is empty (pct_start * total_steps "
                                     "puts two phase ends on one step)")
                pct = (step - start_step) / (end_step - start_step)
                lr = self._anneal(group[phase[1]], group[phase[2]], pct)
                if not self.cycle_momentum:
                    return lr, 0.0
                return lr, self._anneal(group[phase[3]], group[phase[4]], pct)
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    def get_lr(self) -> List[float]:
        return [self._phase(group)[0] for group in self.optimizer.param_groups]

    def _momenta(self) -> Optional[List[float]]:
        return [self._phase(group)[1] for group in self.optimizer.param_groups]
