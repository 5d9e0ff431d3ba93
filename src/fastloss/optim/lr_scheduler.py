"""Learning-rate schedulers with the interface and values of ``torch.optim.lr_scheduler``.

A scheduler drives any optimizer object that has ``param_groups``: a list of dicts, each
with a float ``"lr"`` (fastloss's optimizer classes, torch's, or a
``types.SimpleNamespace(param_groups=[{"lr": 0.1}])``). At construction each group gets
``"initial_lr"`` (``group.setdefault("initial_lr", group["lr"])``); these are
``base_lrs``. Each :meth:`LRScheduler.step` advances ``last_epoch`` by one and writes
``group["lr"]`` for every group.

Learning rates come from torch's closed forms (its ``_get_closed_form_lr``) evaluated at
``last_epoch``, not from torch's recursive ``get_lr`` updates. The two agree (to rounding)
while nothing else writes ``group["lr"]``; a closed form does not compose with another
scheduler or a manual change of ``lr`` (torch's recursive forms chain), so chaining
schedulers on one optimizer is not supported. Typical use::

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
"""

from __future__ import annotations

import math
from typing import Any, Dict, List

from fastloss._validation import NON_NEGATIVE, POSITIVE, check_int, check_real

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: a schedule ``lr = f(base_lr, last_epoch)`` applied to every param group.

    Subclasses implement :meth:`get_lr` (the closed form at ``self.last_epoch``).

    Parameters
    ----------
    optimizer : object with ``param_groups``
        A non-empty list of dicts, each with a real ``"lr"``.
    last_epoch : int, default -1
        ``-1`` starts a new schedule. A value ``>= 0`` resumes one: every group must then
        hold ``"initial_lr"`` already (as torch requires).

    Construction does torch's initial step: ``last_epoch`` becomes ``last_epoch + 1``.
    For a new schedule the groups' ``lr`` are left as they are, as in torch (they are the
    base rates, which every closed form gives at epoch 0). When resuming, ``lr`` is set to
    the closed form at the new ``last_epoch``, so a resumed schedule continues exactly as
    an uninterrupted one. (torch 2.x leaves ``lr`` unchanged there too and its recursive
    updates then run one epoch behind its own closed form.)

    Attributes
    ----------
    optimizer, base_lrs : list of float, last_epoch : int
    """

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not groups:
            raise TypeError("optimizer must have param_groups, a non-empty list of dicts")
        for i, group in enumerate(groups):
            if not isinstance(group, dict) or "lr" not in group:
                raise TypeError(f"optimizer.param_groups[{i}] must be a dict with key 'lr'")
            check_real(group["lr"], f"optimizer.param_groups[{i}]['lr']", NON_NEGATIVE)
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
        self.last_epoch = last_epoch + 1
        self._step_count = 1
        if last_epoch >= 0:
            for group, lr in zip(groups, self.get_lr()):
                group["lr"] = lr
        self._last_lr: List[float] = [group["lr"] for group in groups]

    def get_lr(self) -> List[float]:
        """The learning rate of each group at ``self.last_epoch`` (closed form)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new ``lr`` into each param group.

        Call it after the optimizer's step, as in torch. (torch's deprecated ``epoch``
        argument is not supported.)
        """
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> List[float]:
        """The learning rates the last :meth:`step` (or the construction) left in the groups."""
        return list(self._last_lr)

    def state_dict(self) -> Dict[str, Any]:
        """Everything in the scheduler but the optimizer (torch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; the groups' ``lr`` are not rewritten (as torch)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        if "optimizer" in state_dict:
            raise ValueError("state_dict must not contain 'optimizer'")
        self.__dict__.update(state_dict)


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
        return [base_lr * factor for base_lr in self.base_lrs]


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
        return [base_lr * factor for base_lr in self.base_lrs]


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
