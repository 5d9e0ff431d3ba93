"""The schedules of fastloss.optim.lr_scheduler that follow a metric or a cycle:
ReduceLROnPlateau, CyclicLR, CosineAnnealingWarmRestarts, OneCycleLR (imported from
:mod:`fastloss.optim.lr_scheduler`, their public home, as in torch)."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from fastloss._validation import (NON_NEGATIVE, POSITIVE, UNIT, UNIT_OPEN, check_choice,
                                  check_flag, check_int, check_real)
from fastloss.optim._lr_base import (Floats, LRScheduler, _callables_state, _ClosedFormLR,
                                     _checked_groups, _load_callables_state, _others_on,
                                     _per_group)


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

