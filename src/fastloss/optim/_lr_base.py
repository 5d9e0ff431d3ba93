"""The base of fastloss.optim.lr_scheduler: :class:`LRScheduler` (closed forms while a
scheduler is the only writer of the rates, torch's recursive updates once chained; see
:mod:`fastloss.optim.lr_scheduler`), and the checks and helpers the schedulers share."""

from __future__ import annotations

import types
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from fastloss._validation import NON_NEGATIVE, Interval, check_int, check_real

Floats = Union[float, Sequence[float]]

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


def _callables_state(fns: Sequence[Any]) -> List[Optional[Dict[str, Any]]]:
    """What a state dict keeps of callables (torch's rule): nothing of a plain function,
    the attributes of a callable object."""
    return [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__) for fn in fns]


def _load_callables_state(fns: Sequence[Any], saved: Sequence[Optional[Dict[str, Any]]]) -> None:
    for fn, attributes in zip(fns, saved):
        if attributes is not None:
            fn.__dict__.update(attributes)


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


