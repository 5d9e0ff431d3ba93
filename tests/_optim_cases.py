"""The optimizer tests' cases, derived from the update rules' rows (``UpdateRule.variants``).

A row declares the hyper-parameter values the tests try, a grid per parameter; everything
the tests parametrize over follows from it, so a new rule is tested everywhere once its
row is registered:

* :func:`option_grid`: every combination of the grid the row's checks accept (its
  constraints and its cross check, ``row.check``), keys in the row's parameter order;
* :func:`richest`: the last of them, every option as far on as the checks allow;
* :func:`named_cases`: the plain case (the grid's ``lr``, torch.optim's defaults for the
  rest), the richest, and for each value the richest leaves out, the last combination with
  it (so every value of every grid meets torch.optim with the others as rich as possible);
* :func:`textbook_richest`: the richest combination whose at::lerp weights stay on lerp's
  textbook formula (``row.lerp_params``), for the bit-for-bit comparisons with the reference;
* :func:`functional_call`: a functional update's state arrays (``row.state``) and step
  argument (``row.arguments``); :func:`functional_hyper` keeps the functional's parameters;
* :func:`random_options`: a hypothesis strategy drawing each gridded parameter at random;
* :func:`variant_problems`: what a row's grid lacks for these to test it fully.
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np

from fastloss.optim._registry import RULES, UpdateRule
from fastloss.optim._rule import FLAG
from fastloss.optim._update import _check

ROWS = list(RULES.values())
#: the row each optimizer class runs, by torch.optim's class name
CLASS_ROWS: Dict[str, UpdateRule] = {row.torch_class: row for row in ROWS}

Options = Dict[str, Any]


def checked(row: UpdateRule, options: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """``options`` over torch.optim's defaults, as the optimizer class checks them (the
    kernel's fields), or None where the row refuses them."""
    values = {p.name: p.default for p in row.params}
    values.update(options)
    try:
        return _check(row, values, for_class=True)
    except (TypeError, ValueError):
        return None


def option_grid(row: UpdateRule) -> List[Options]:
    """Every combination of ``row.variants`` that the row's checks accept."""
    names = [p.name for p in row.params if p.name in row.variants]
    combos = (dict(zip(names, values))
              for values in itertools.product(*(row.variants[n] for n in names)))
    return [o for o in combos if checked(row, o) is not None]


def richest(row: UpdateRule) -> Options:
    """The grid's last valid combination: every option as far on as the checks allow."""
    grid = option_grid(row)
    return grid[-1] if grid else {}


def plain(row: UpdateRule) -> Options:
    """The grid's learning rate, torch.optim's defaults for everything else."""
    return {"lr": row.variants["lr"][0]} if "lr" in row.variants else {}


def named_cases(row: UpdateRule) -> List[Tuple[str, Options]]:
    """(label, options): plain, richest, then for each grid value the richest combination
    lacks, the last valid combination with it (labelled ``name=value``), without repeats."""
    grid = option_grid(row)
    out: List[Tuple[str, Options]] = [("plain", plain(row))]
    if not grid or grid[-1] == out[0][1]:  # no grid (variant_problems says so)
        return out
    out.append(("richest", grid[-1]))
    for name in grid[-1]:
        for value in row.variants[name]:
            with_it = [o for o in grid if o[name] == value]
            if with_it and all(with_it[-1] != o for _, o in out):
                out.append((f"{name}={value}", with_it[-1]))
    return out


def _textbook(row: UpdateRule, options: Mapping[str, Any]) -> bool:
    for name in row.lerp_params:
        value = options.get(name, next(p.default for p in row.params if p.name == name))
        if (value[0] if isinstance(value, tuple) else value) <= 0.5:
            return False
    return True


def textbook_richest(row: UpdateRule) -> Options:
    """The last valid combination whose at::lerp weights (``1 - beta``) are below 0.5."""
    grid = [o for o in option_grid(row) if _textbook(row, o)]
    return grid[-1] if grid else plain(row)


def functional_hyper(row: UpdateRule, options: Mapping[str, Any]) -> Options:
    """``options`` without those only the optimizer class takes."""
    names = {p.name for p in row.functional_params}
    return {k: v for k, v in options.items() if k in names}


def state_arrays(row: UpdateRule, rng: np.random.Generator, shape: Any,
                 dtype: Any) -> Dict[str, np.ndarray]:
    """The functional update's state arguments, with values valid for every rule: the first
    ``1 + |N|`` (a second moment > 0), the later ones small and non-negative (RMSprop's
    ``square_avg >= grad_avg**2``, Adam's ``exp_avg_sq``, a running maximum); a scalar one
    (``StateArray.scalar``: NAdam's mu_product, ASGD's eta and mu) a 0-d array in (0, 1)."""
    out = {}
    for k, spec in enumerate(row.state):
        if spec.scalar:
            out[spec.argument] = np.array(rng.uniform(0.2, 0.9), dtype)
            continue
        x = np.abs(rng.normal(size=shape))
        out[spec.argument] = (1 + x if k == 0 else 0.1 * x).astype(dtype)
    return out


def step_arguments(row: UpdateRule, step: int) -> Options:
    """The step count arguments a functional update takes (``row.arguments``), at the
    1-based ``step``."""
    out: Options = {}
    if "step" in row.arguments:
        out["step"] = step
    if "first_step" in row.arguments:
        out["first_step"] = step == 1
    return out


def functional_call(row: UpdateRule, rng: np.random.Generator, shape: Any, dtype: Any,
                    step: int, options: Mapping[str, Any]) -> Options:
    """A functional update's keyword arguments besides param and grad: fresh state arrays,
    the step, ``options`` (the functional's)."""
    return dict(state_arrays(row, rng, shape, dtype), **step_arguments(row, step),
                **functional_hyper(row, options))


def random_options(row: UpdateRule) -> Any:
    """A hypothesis strategy: each parameter in ``row.variants`` drawn at random (a flag
    either way; a real from its grid or uniform in its constraint, capped at 1; an at::lerp
    parameter in (0.5, 1), the textbook side), then, where the row's checks refuse the
    draw, its flags off (their defaults); draws still refused are dropped."""
    from hypothesis import strategies as st

    params = {p.name: p for p in row.params}
    draws: Dict[str, Any] = {}
    for name, values in row.variants.items():
        p = params[name]
        if p.constraint is FLAG:
            draws[name] = st.booleans()
            continue
        interval = p.constraint
        lo, hi = max(interval.lo, 0.0), min(interval.hi, 1.0)
        real = st.floats(lo, hi, exclude_min=lo == interval.lo and not interval.lo_closed,
                         exclude_max=hi < interval.hi or not interval.hi_closed)
        first = st.floats(0.501, 0.9999) if name in row.lerp_params else real
        if p.pair:
            grid_items = [v[1] for v in values]
            draws[name] = st.tuples(first, st.one_of(st.sampled_from(grid_items), real))
        elif name in row.lerp_params:
            draws[name] = first
        else:
            draws[name] = st.one_of(st.sampled_from(values), real)

    def flags_off_if_refused(options: Options) -> Options:
        if checked(row, options) is None:
            options = dict(options, **{p.name: p.default for p in row.params
                                       if p.constraint is FLAG and p.name in options})
        return options

    return (st.fixed_dictionaries(draws).map(flags_off_if_refused)
            .filter(lambda o: checked(row, o) is not None))


def variant_problems(row: UpdateRule) -> List[str]:
    """What ``row.variants`` lacks for the derived cases to test the rule fully."""
    params = {p.name: p for p in row.params}
    problems = [f"variants names {name!r}, not a parameter of the row"
                for name in row.variants if name not in params]
    problems += [f"lerp_params names {name!r}, not a parameter of the row"
                 for name in row.lerp_params if name not in params]
    if problems:
        return problems
    if "lr" not in row.variants:
        problems.append("variants has no 'lr' (the rate the tests use)")
    for p in row.params:
        # a flag overriding a field the row fixes (Adam's decoupled_weight_decay) is the
        # row that sets the field the other way (AdamW), tested as that row
        overrides = set(p.kernel_fields) <= set(row.fixed)
        if p.constraint is FLAG and not overrides and \
                set(row.variants.get(p.name, ())) != {False, True}:
            problems.append(f"variants must try the flag {p.name!r} both off and on")
    grid = option_grid(row)
    if not grid:
        return problems + ["variants has no combination the row's checks accept"]
    for name, values in row.variants.items():
        for value in values:
            if all(o[name] != value for o in grid):
                problems.append(f"{name}={value!r} is in no combination the checks accept")
    h = checked(row, grid[-1])
    assert h is not None
    for spec in row.state:
        if spec.when is not None and not spec.when(h):
            problems.append(f"the richest combination {grid[-1]} leaves out the state array "
                            f"{spec.name!r} (kept when {spec.option})")
    for name in row.lerp_params:
        sides = {_textbook(row, {name: v}) for v in row.variants.get(name, ())}
        if sides != {False, True}:
            problems.append(f"variants must try the at::lerp parameter {name!r} on both "
                            "sides of 0.5")
    return problems


@contextlib.contextmanager
def torch_scalars_in(torch: Any, dtype: Any) -> Iterator[None]:
    """torch's default dtype set to ``dtype`` (the parameters') for the block: torch keeps
    per-parameter scalar state (NAdam's mu_product, ASGD's eta and mu) in 0-d tensors of its
    default dtype, fastloss in the parameters' dtype (``StateArray.scalar``)."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(getattr(torch, np.dtype(dtype).name))
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


def step_both_resuming_halfway(torch: Any, make: Callable[[List[np.ndarray]], Any],
                               ours: List[np.ndarray], theirs: List[Any], topt: Any,
                               grads: List[List[np.ndarray]], dtype: Any) -> Any:
    """Step fastloss's optimizer over ``ours`` (``make(ours)`` builds it) and torch's
    ``topt`` over ``theirs`` through ``grads``, fastloss's resumed halfway from its
    ``state_dict`` in a fresh optimizer (torch's scalars in ``dtype``); returns fastloss's."""
    opt = make(ours)
    with torch_scalars_in(torch, dtype):
        for step, g in enumerate(grads):
            if step == len(grads) // 2:
                saved = opt.state_dict()
                opt = make(ours)
                opt.load_state_dict(saved)
            opt.step(g)
            for t, gi in zip(theirs, g):
                t.grad = torch.from_numpy(gi.copy())
            topt.step()
    return opt


#: issue 13's bound on a trajectory's distance from torch's, relative to its largest value
TRAJECTORY_RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}


def assert_trajectory_close(actual: Any, expected: Any, dtype: Any,
                            rtol: Optional[float] = None) -> None:
    """``max |actual - expected| <= rtol * max |expected|`` (default: TRAJECTORY_RTOL), NaN
    and inf at the same places: a trajectory's distance from torch's, relative to its scale
    (elementwise ratios mean nothing where a state entry cancels to near zero)."""
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    bound = TRAJECTORY_RTOL[np.dtype(dtype)] if rtol is None else rtol
    np.testing.assert_array_equal(np.isfinite(a), np.isfinite(e))
    np.testing.assert_array_equal(a[~np.isfinite(a)], e[~np.isfinite(e)])
    finite = np.isfinite(e)
    if finite.any():
        scale = float(np.abs(e[finite]).max())
        worst = float(np.abs(a[finite] - e[finite]).max())
        assert worst <= bound * scale, f"max |diff| {worst:.3g} > {bound:g} * {scale:.3g}"


def assert_matches_torch(opt: Any, topt: Any, ours: List[np.ndarray], theirs: List[Any],
                         dtype: Any, steps: int, rtol: Optional[float] = None) -> None:
    """Parameters and every state entry equal torch's after ``steps`` steps, to
    :func:`assert_trajectory_close`."""
    for p, t in zip(ours, theirs):
        assert_trajectory_close(p, t.numpy(), dtype, rtol)
    tstate = list(topt.state.values())
    for index, state in opt.state.items():
        assert set(state) == set(tstate[index])
        for key, value in state.items():
            if key == "step":
                assert value == int(tstate[index][key]) == steps
            else:
                assert np.shape(value) == tuple(tstate[index][key].shape)
                assert_trajectory_close(value, tstate[index][key].numpy(), dtype, rtol)
