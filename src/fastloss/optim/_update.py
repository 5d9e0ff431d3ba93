"""What every functional update shares: the checks of arrays, hyper-parameters and step
counts against a rule's row, and the prepared update that runs the kernel (or the NumPy
reference). The conventions are :mod:`fastloss.optim.functional`'s docstring; each rule's
module (:mod:`fastloss.optim.sgd`, ...) builds its update and class on these."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from fastloss import _atomic, _backend, _config, _optim
from fastloss._validation import (INT64_MAX, Interval, check_disjoint, check_flag, check_int,
                                  check_pair, check_real, reject_masked)
from fastloss.optim._rule import RULES, Param, UpdateRule
from fastloss.reference import optim as _ref

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)

#: the largest step count (state["step"] is an int64 in torch's checkpoints)
MAX_STEP = INT64_MAX

#: a prepared update: everything checked, calling it runs the kernel
Update = Callable[[], None]
#: checked hyper-parameters: the kernel struct's fields by name (see _check)
Hyper = Dict[str, Any]


# ---- validation -------------------------------------------------------------------------

def _check_array(a: Any, name: str) -> np.ndarray:
    """``a`` as an array the kernels may update in place, or a clear error."""
    if not isinstance(a, np.ndarray) or isinstance(a, np.ma.MaskedArray):
        reject_masked(a, name)
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    dt = a.dtype
    if dt is not _F64 and dt is not _F32 and dt != _F64 and dt != _F32:
        if dt.kind == "f" and dt.itemsize in (4, 8):
            raise TypeError(f"{name} must be float32 or float64 in native byte order, "
                            f"got dtype {dt.str}")
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {dt}")
    flags = a.flags
    if not flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: it is updated in place")
    if not flags.writeable:
        raise ValueError(f"{name} is read-only: it is updated in place")
    return a


def _check_like(a: np.ndarray, name: str, param: np.ndarray) -> None:
    if a.shape != param.shape:
        raise ValueError(f"{name} has shape {a.shape}, expected param's shape {param.shape}")
    if a.dtype != param.dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, expected param's dtype {param.dtype}")


def _check_state(a: Any, name: str, param: np.ndarray, scalar: bool = False) -> None:
    """A state array like ``param`` (a 0-d array of its dtype where ``scalar``)."""
    a = _check_array(a, name)
    if not scalar:
        _check_like(a, name, param)
    elif a.shape != ():
        raise ValueError(f"{name} has shape {a.shape}, expected a 0-d array (one value "
                         "per parameter array)")
    elif a.dtype != param.dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, expected param's dtype {param.dtype}")


#: the arrays a kernel writes (C-contiguous, checked) must not share memory
_check_disjoint = check_disjoint


def _check_grad(grad: Any, param: np.ndarray, written: Tuple[np.ndarray, ...]) -> np.ndarray:
    """``grad`` as a C-contiguous array the kernel may read while it writes ``written``."""
    if not isinstance(grad, np.ndarray) or isinstance(grad, np.ma.MaskedArray):
        reject_masked(grad, "grad")
        raise TypeError(f"grad must be a numpy.ndarray, got {type(grad).__name__}")
    _check_like(grad, "grad", param)
    if not grad.flags.c_contiguous:
        return np.ascontiguousarray(grad)
    if _optim.first_overlap((grad,) + written) is not None:  # `written` are disjoint
        return grad.copy()  # the kernels read grad while writing the others
    return grad


#: a row's hyper-parameters as _check walks them: (name, the field it fills, the
#: constraint (None: a flag), the pair's fields or None, the constraint as the doubles
#: [lo, hi) (NaNs for a flag): a float in it needs no further check)
_CheckPlan = Tuple[Tuple[str, str, Optional[Interval], Optional[Tuple[str, ...]],
                         Tuple[float, float]], ...]
_NO_BOUNDS = (float("nan"), float("nan"))  # nothing compares inside


def _check_plan(params: Tuple[Param, ...]) -> _CheckPlan:
    def bounds(c: Optional[Interval]) -> Tuple[float, float]:
        # any interval as a closed-open [lo, hi) of doubles: an open lo is the next double
        # up, a closed hi the next one up (POSITIVE: [5e-324, inf), UNIT: [0, 1 + 2**-52))
        if c is None:
            return _NO_BOUNDS
        return (c.lo if c.lo_closed else math.nextafter(c.lo, math.inf),
                math.nextafter(c.hi, math.inf) if c.hi_closed else c.hi)

    return tuple((p.name, p.kernel_fields[0] if p.kernel_fields else p.name, p.constraint,
                  p.kernel_fields if p.pair else None, bounds(p.constraint)) for p in params)


class _RowPlan(NamedTuple):
    """What the checks walk for one row, built on its first use."""

    functional: _CheckPlan  # the functional update's keywords
    for_class: _CheckPlan  # an optimizer's param group
    #: the state arrays as _prepare walks them: (argument, when, option, scalar)
    state: Tuple[Tuple[str, Optional[Callable[[Mapping[str, Any]], bool]], str, bool], ...]


_ROW_PLANS: Dict[str, _RowPlan] = {}


def _plan(rule: UpdateRule) -> _RowPlan:
    plan = _ROW_PLANS.get(rule.name)
    if plan is None:  # a race builds the same plan twice, harmlessly
        plan = _ROW_PLANS[rule.name] = _RowPlan(
            _check_plan(rule.functional_params), _check_plan(rule.params),
            tuple((s.argument, s.when, s.option, s.scalar) for s in rule.state))
    return plan


def _fast_update(rule: UpdateRule) -> _optim.FastUpdate:
    """``rule``'s functional update as the compiled fast path takes it (``_optim.update_fast``):
    its hyper-parameters in the row's order, each with the struct fields it fills and its
    constraint's bounds (a float in them needs no further check), the fixed fields, the
    threading threshold. Built once per row, at import."""
    values = tuple((pair or (field,), interval is None, lo, hi)
                   for _, field, interval, pair, (lo, hi) in _plan(rule).functional)
    return _optim.FastUpdate(rule.code, len(rule.state), "".join(rule.arguments), values,
                             rule.fixed, _config.THREADING_THRESHOLD, _config.large_call_threads)


def _check(rule: UpdateRule, values: Mapping[str, Any], for_class: bool = False) -> Hyper:
    """``values`` (hyper-parameters by torch.optim's names: a functional update's keywords,
    or an optimizer's param group when ``for_class``) checked against ``rule``'s row.

    Returns the kernel struct's fields (``fl_<kernel>_hyper``: betas split into beta1 and
    beta2, the rule's fixed fields such as AdamW's ``decoupled``), plus the class-only values
    that fill no field (Adagrad's ``initial_accumulator_value``) by their names.
    """
    h: Hyper = dict(rule.fixed)
    for name, field, interval, pair, (lo, hi) in (_plan(rule).for_class if for_class
                                                     else _plan(rule).functional):
        value = values[name]
        if type(value) is float and lo <= value < hi:  # what check_real returns, sooner
            h[field] = value
        elif interval is None:
            h[field] = check_flag(value, name)
        elif pair is None:
            h[field] = check_real(value, name, interval)
        else:
            h[pair[0]], h[pair[1]] = check_pair(value, name, interval)
    if rule.check is not None:
        rule.check(h)
    return h


def _check_step(step: Any) -> int:
    """The 1-based step count after increment, as an int (an integral float is taken:
    PyTorch keeps the step count in a float tensor)."""
    if type(step) is int and 1 <= step <= MAX_STEP:  # the common case, kept cheap
        return step
    if (type(step) is float or isinstance(step, np.floating)) and float(step).is_integer():
        step = int(step)
    return check_int(step, "step", 1, MAX_STEP)


def _required(value: Any, name: str, why: str) -> Any:
    if value is None:
        raise ValueError(f"{name} is required when {why}")
    return value


def _use_c() -> bool:
    return _backend.get_backend() == "c"


def _whole(update: Update) -> Update:
    """A NumPy-backend update (several NumPy operations) run as the kernel runs: whole
    under Ctrl-C, and never raising from floating-point state (``np.errstate``)."""
    def run() -> None:
        with _atomic.deferred_interrupt(), np.errstate(all="ignore"):
            update()
    return run


# ---- prepared updates: arrays checked, kernel not yet run --------------------------------------
# Optimizer.step prepares every array first and runs them all only if nothing failed.

def _reference_row(rule: UpdateRule, h: Hyper) -> UpdateRule:
    """The row whose fixed fields ``h`` has (Adam's kernel with decoupled=True: adamw)."""
    return next(row for row in RULES.values() if row.kernel == rule.kernel
                and all(h[k] == v for k, v in row.fixed.items()))


def _prepare(rule: UpdateRule, param: Any, grad: Any, state: Tuple[Any, ...], h: Hyper,
             n_threads: Optional[int], step: int = 0, first_step: bool = False) -> Update:
    """One update by ``rule`` checked and ready to run: ``state`` holds the rule's state
    arrays in the row's order (None, or anything, where their option is off); ``h`` is
    ``_check``'s result; ``step`` and ``first_step`` as the rule's ``arguments`` say."""
    p = _check_array(param, "param")
    written: List[np.ndarray] = [p]
    names = ["param"]
    used: List[Optional[np.ndarray]] = []
    for (argument, when, option, scalar), a in zip(_plan(rule).state, state):
        if when is not None:
            if not when(h):
                used.append(None)
                continue
            _required(a, argument, option)
        _check_state(a, argument, p, scalar)
        written.append(a)
        names.append(argument)
        used.append(a)
    arrays = tuple(written)
    _check_disjoint(arrays, names)
    g = _check_grad(grad, p, arrays)
    nt = _config.resolve_threads(n_threads, p.size)
    kernel_state = tuple(used)
    if _use_c():
        hyper = _optim.Hyper(rule.code, h)
        return lambda: _optim.update(hyper, p, g, kernel_state, step, first_step, nt)
    ref_row = _reference_row(rule, h)
    kwargs: Dict[str, Any] = {"param": p, "grad": g}
    kwargs.update((spec.argument, a) for spec, a in zip(rule.state, kernel_state))
    kwargs.update((name, step if name == "step" else first_step) for name in rule.arguments)
    for name, field, _, pair, _ in _plan(ref_row).functional:
        kwargs[name] = h[field] if pair is None else tuple(h[f] for f in pair)
    ref = getattr(_ref, ref_row.update)
    return _whole(lambda: ref(**kwargs))
