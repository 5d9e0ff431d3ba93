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
from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Dict, Iterable, List, Sequence, Union

from fastloss._validation import (NON_NEGATIVE, POSITIVE, UNIT, Interval, check_int,
                                  check_real)
from fastloss.optim._lr_base import (LRScheduler, _callables_state, _ClosedFormLR,
                                     _checked_groups, _load_callables_state, _scaled)
from fastloss.optim._lr_cycles import (CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR,
                                       ReduceLROnPlateau)

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "SequentialLR", "CosineAnnealingLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "CosineAnnealingWarmRestarts", "OneCycleLR",
           "PolynomialLR"]

#: (0, 1]: a factor that multiplies the rate and must not remove it (torch divides by it)
UNIT_LEFT_OPEN = Interval(0.0, 1.0, lo_closed=False, hi_closed=True)

LrLambda = Callable[[int], float]


def _callables(value: Any, name: str, n_groups: int) -> List[Callable[..., float]]:
    """One callable per group: ``value`` repeated, or a list/tuple of one per group."""
    fns = list(value) if isinstance(value, (list, tuple)) else [value] * n_groups
    if len(fns) != n_groups:
        raise ValueError(f"Expected {n_groups} {name}s, but got {len(fns)}")
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{name} should be a function, but got {type(fn).__name__}")
    return fns


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


