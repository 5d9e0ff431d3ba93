"""The update-rule registry (fastloss.optim._registry) against everything derived from it or
kept beside it by hand: the C rule table, the kernel structs, the public functions and
classes, the NumPy reference, torch.optim's names and defaults, and the fast path's checks."""

from __future__ import annotations

import importlib
import inspect
import itertools
from typing import Any, Dict, List

import numpy as np
import pytest

import fastloss
from fastloss import _optim, optim
from fastloss.optim import _update, functional as F
from fastloss.optim._registry import RULES, Param, UpdateRule
import _optim_cases as cases

ROWS = list(RULES.values())


def _ids(row: UpdateRule) -> str:
    return row.name


def test_registry_is_the_c_table_and_the_public_and_reference_names() -> None:
    # every C rule has a row (AdamW shares Adam's kernel), and no row names a missing one
    assert sorted({row.kernel for row in ROWS}) == sorted(_optim.UPDATE_RULES)
    assert [row.code for row in ROWS] == [_optim.UPDATE_RULES.index(r.kernel) for r in ROWS]
    updates = [row.update for row in ROWS]
    assert F.__all__ == updates
    assert fastloss.reference.optim.__all__ == updates
    assert [n for n in optim.__all__ if n.endswith("_update")] == updates
    classes = [row.torch_class for row in ROWS]
    assert [n for n in optim.__all__ if n in classes or n[:1].isupper() and n not in (
        "Optimizer", "CGResult", "LBFGSResult", "LBFGS", "Adafactor", "Muon")] == classes
    for row in ROWS:
        assert getattr(optim, row.update) is getattr(F, row.update)
        assert callable(getattr(fastloss.reference, row.update))
        assert issubclass(getattr(optim, row.torch_class), optim.Optimizer)


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_each_rules_update_and_class_live_in_its_kernels_module(row: UpdateRule) -> None:
    """torch.optim's layout: fastloss.optim.<kernel> holds the row's functional update and
    class (adamw beside adam, one kernel), re-exported by functional and optimizers."""
    module = importlib.import_module(f"fastloss.optim.{row.kernel}")
    update, cls = getattr(module, row.update), getattr(module, row.torch_class)
    assert update.__module__ == cls.__module__ == module.__name__
    assert getattr(F, row.update) is update
    assert getattr(optim.optimizers, row.torch_class) is cls
    assert row.update in module.__all__ and row.torch_class in module.__all__


def test_each_rule_module_exports_exactly_its_rows() -> None:
    """A rule module's ``__all__`` is what the faces re-export (the registry star-imports
    it): exactly its rows' updates and classes, nothing more, nothing left out."""
    by_module: Dict[str, List[str]] = {}
    for row in ROWS:
        names = by_module.setdefault(getattr(optim, row.update).__module__, [])
        names += [row.update, row.torch_class]
    for module_name, names in by_module.items():
        module = importlib.import_module(module_name)
        assert sorted(module.__all__) == sorted(set(names))
        assert set(names) <= set(vars(optim)) and set(names) <= set(vars(F)) | set(
            vars(optim.optimizers))


def test_register_refuses_a_second_row_of_a_name_and_an_unknown_kernel() -> None:
    from fastloss.optim._rule import register
    with pytest.raises(ValueError, match="registered twice"):
        register(RULES["sgd"])
    with pytest.raises(ValueError, match="not in the C table"):
        register(RULES["sgd"]._replace(name="sgd_x", kernel="no_such_kernel"))
    assert list(RULES) == [r.name for r in ROWS]


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_rows_state_and_fields_are_the_kernel_structs(row: UpdateRule) -> None:
    assert len(row.state) == _optim.UPDATE_RULE_STATES[row.code]
    fields = set(row.fixed).union(*(p.kernel_fields for p in row.params))
    # the struct the kernel reads, as Cython converts it back: the same fields by name
    assert sorted(_optim.Hyper(row.code, dict.fromkeys(fields, 0)).fields()) == sorted(fields)
    for missing in fields:  # and each is needed
        with pytest.raises(ValueError, match=f"no value for field '{missing}'"):
            _optim.Hyper(row.code, dict.fromkeys(fields - {missing}, 0))
    # the checked hyper-parameters fill exactly these fields (and class-only values by name)
    defaults = {p.name: p.default for p in row.params}
    checked = _update._check(row, defaults, for_class=True)
    assert fields <= set(checked) and set(checked) - fields <= {p.name for p in row.params}


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_c_field_table_is_the_rows_fields_in_order(row: UpdateRule) -> None:
    """update_rules.h's FL_<NAME>_FIELDS (the struct and the table the bindings fill it by)
    lists the row's kernel fields in the row's order, then the fixed ones; flags are C ints."""
    expected: List[Any] = []
    for p in row.params:
        expected += [(f, p.constraint is None) for f in p.kernel_fields]
    expected += [(f, True) for f in row.fixed if f not in {name for name, _ in expected}]
    assert list(_optim.UPDATE_RULE_FIELDS[row.code]) == expected


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_c_state_table_and_cross_check_are_the_rows(row: UpdateRule) -> None:
    """update_rules.h's FL_<NAME>_STATE (names, and when the kernel reads each array) and
    FL_<NAME>_HYPER_OK, which the fast path decides by, against the row's state arrays
    (name, ``when``) and ``check``, over every flag and a zero / positive value of each real."""
    assert _optim.UPDATE_RULE_STATE_NAMES[row.code] == tuple(s.name for s in row.state)
    assert _optim.UPDATE_RULE_SCALAR_STATES[row.code] == sum(
        1 << k for k, s in enumerate(row.state) if s.scalar)
    fields = _optim.UPDATE_RULE_FIELDS[row.code]
    for combo in itertools.product(*[(False, True) if flag else (0.0, 0.25) for _, flag in fields]):
        h = dict(zip((name for name, _ in fields), combo), **row.fixed)
        hyper = _optim.Hyper(row.code, h)
        assert hyper.state_used() == tuple(s.when is None or bool(s.when(h)) for s in row.state), h
        if row.check is None:
            assert hyper.cross_check_ok()
            continue
        try:
            row.check(h)
            ok = True
        except ValueError:
            ok = False
        assert hyper.cross_check_ok() == ok, h


def _defaults(fn: Any) -> Dict[str, Any]:
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_defaults_are_the_rows_and_torchs(row: UpdateRule) -> None:
    cls = getattr(optim, row.torch_class)
    assert _defaults(cls.__init__) == {p.name: p.default for p in row.params}
    fn = _defaults(getattr(F, row.update))
    assert {k: v for k, v in fn.items() if k not in {s.argument for s in row.state}
            and k not in row.arguments and k != "n_threads"} == {
        p.name: p.default for p in row.functional_params}
    if not row.in_torch:
        return  # Lion: the paper's defaults (optax.lion's weight_decay default is 1e-3)
    torch = pytest.importorskip("torch")
    theirs = _defaults(getattr(torch.optim, row.torch_class).__init__)
    for p in row.params:
        assert theirs[p.name] == p.default, p.name


def _bad_and_good(p: Param) -> List[Any]:
    """Values just outside the constraint, then one inside."""
    c = p.constraint
    assert c is not None
    bad: List[Any] = [c.lo - 1e-3 if c.lo_closed else c.lo, float("nan"), float("inf")]
    if c.hi != float("inf"):
        bad.append(c.hi if not c.hi_closed else c.hi + 1e-3)
    return bad


def _functional_call(row: UpdateRule, rng: np.random.Generator, **hyper: Any) -> Any:
    p = rng.normal(size=6)
    args: Dict[str, Any] = {"param": p, "grad": rng.normal(size=6)}
    for s in row.state:
        args[s.argument] = np.abs(rng.normal(size=6))
    if "step" in row.arguments:
        args["step"] = 2
    args.update(hyper)
    return lambda: getattr(F, row.update)(**args), [a for a in args.values()
                                                   if isinstance(a, np.ndarray)]


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_every_constraint_is_enforced_on_both_paths(row: UpdateRule, rng: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A value outside a row's constraint: the fast path declines it and the checked path
    names it, arrays untouched; flags must be bools. The same for the optimizer class."""
    fast = _optim.update_fast
    declined: List[bool] = []
    monkeypatch.setattr(_optim, "update_fast", lambda *a: declined.append(not fast(*a)) or False)
    for p in row.functional_params:
        bads: List[Any] = [1, "yes"] if p.constraint is None else _bad_and_good(p)
        for bad in bads:
            value = (bad, 0.5) if p.pair else bad
            call, arrays = _functional_call(row, rng, **{p.name: value})
            before = [a.tobytes() for a in arrays]
            exc = TypeError if p.constraint is None else ValueError
            name = f"{p.name}\\[0\\]" if p.pair else p.name
            with pytest.raises(exc, match=f"^{name} must be"):
                call()
            assert [a.tobytes() for a in arrays] == before
            assert declined[-1], (p.name, bad)
    for p in row.params:
        if p.constraint is None:
            continue
        bad = _bad_and_good(p)[0]
        with pytest.raises(ValueError, match=f"{p.name}(\\[0\\])? must be finite and in"):
            getattr(optim, row.torch_class)([np.zeros(3)], **{p.name: (bad, 0.5) if p.pair
                                                               else bad})


def test_every_row_has_a_benchmark_case() -> None:
    """fastloss bench's optimizer cases come from the rows: one per ``BenchCase`` of a row,
    and one with the defaults for a row that names none."""
    from fastloss.bench.cases import OPTIM_ROWS
    for row in ROWS:
        cases = [c for c in OPTIM_ROWS if c.reference == row.update]
        names = [c.name for c in row.bench] or [row.name]
        assert [c.kernel for c in cases] == names
        assert all(c.optimizer == row.torch_class for c in cases)


# ---- the rows' test grids (UpdateRule.variants) -------------------------------------------

@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_each_row_gives_the_tests_what_they_need(row: UpdateRule) -> None:
    """The optimizer tests derive their cases from ``row.variants`` (tests/_optim_cases.py):
    a grid with every flag both ways, a valid combination with every state array in use,
    at::lerp parameters on both sides of 0.5, every value in some valid combination."""
    assert cases.variant_problems(row) == []


def test_variant_problems_names_what_a_row_lacks() -> None:
    sgd, adam = RULES["sgd"], RULES["adam"]
    doctored = [
        (sgd._replace(variants={}), ["no 'lr'", "'nesterov' both off and on",
                                     "'maximize' both off and on",
                                     "leaves out the state array 'momentum_buffer'"]),
        (sgd._replace(variants=dict(sgd.variants, momentum=(-0.5,))),
         ["no combination the row's checks accept"]),
        (sgd._replace(variants=dict(sgd.variants, momentum=(0.0, 0.9, -1.0))),
         ["momentum=-1.0 is in no combination"]),
        (adam._replace(variants=dict(adam.variants, betas=((0.9, 0.999),))),
         ["'betas' on both sides of 0.5"]),
        (adam._replace(variants=dict(adam.variants, amsgrad=(False,))),
         ["'amsgrad' both off and on", "leaves out the state array 'max_exp_avg_sq'"]),
        (adam._replace(variants=dict(adam.variants, momentum=(0.9,))),
         ["'momentum', not a parameter"]),
    ]
    for row, expected in doctored:
        problems = cases.variant_problems(row)
        assert len(problems) == len(expected), problems
        for problem, text in zip(problems, expected):
            assert text in problem, problems


def test_derived_cases_follow_the_grid() -> None:
    """The grid's combinations (the row's check applied), the richest, the named cases."""
    sgd = RULES["sgd"]
    grid = cases.option_grid(sgd)
    combos = list(itertools.product(*sgd.variants.values()))
    assert len(grid) == len(combos) - sum(  # nesterov needs momentum and no dampening
        1 for c in combos if dict(zip(sgd.variants, c))["nesterov"] and not (
            dict(zip(sgd.variants, c))["momentum"] > 0 and
            dict(zip(sgd.variants, c))["dampening"] == 0))
    assert cases.richest(sgd) == dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.05,
                                      nesterov=False, maximize=True)
    named = dict(cases.named_cases(sgd))
    assert named["plain"] == {"lr": 0.05}
    assert named["dampening=0.0"]["nesterov"] is True  # the richest nesterov case
    for row in ROWS:  # every grid value meets torch.optim in some case
        options = [o for _, o in cases.named_cases(row)]
        for name, values in row.variants.items():
            assert {repr(v) for v in values} <= {repr(o.get(name)) for o in options}
        assert all(b > 0.5 for name in row.lerp_params for b in np.atleast_1d(
            cases.textbook_richest(row)[name])[:1])


@pytest.mark.parametrize("row", ROWS, ids=_ids)
def test_in_torch_says_whether_torch_optim_has_the_class(row: UpdateRule) -> None:
    torch = pytest.importorskip("torch")
    assert row.in_torch == hasattr(torch.optim, row.torch_class)
