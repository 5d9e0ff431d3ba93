"""What an optimizer takes as ``params``, as torch.optim takes it: a list of arrays, a list of
param-group dicts, named parameters (``(name, array)`` pairs, torch 2.x ``named_parameters()``)
and groups of named parameters; ``state_dict`` / ``load_state_dict`` with the names."""

from __future__ import annotations

import pickle
from typing import Any, Callable, Dict, List

import numpy as np
import pytest

import _optim_cases as cases
from _support import assert_close
from fastloss import optim

#: each class with its row's richest options (tests/_optim_cases.py)
OPTIONS: Dict[str, Dict[str, Any]] = {
    name: cases.richest(row) for name, row in cases.CLASS_ROWS.items()}
NAMES = ["layer.weight", "layer.bias", "head.weight", "head.bias"]
SHAPES = [(3, 2), (2,), (4,), (1,)]
#: parameter 1 never gets a gradient: its state stays absent (created lazily) in both
#: libraries, so the state keys show how parameters are numbered across groups
NO_GRAD = 1
STEPS = 20


def _groups(params: List[Any]) -> List[Dict[str, Any]]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02, "weight_decay": 0.1}]


#: each form builds the optimizer's argument from the parameters (arrays or tensors)
FORMS: Dict[str, Callable[[List[Any]], Any]] = {
    "arrays": list,
    "groups": _groups,
    # a generator of pairs, as module.named_parameters() is
    "named": lambda params: ((name, p) for name, p in zip(NAMES, params)),
    "named_groups": lambda params: _groups(list(zip(NAMES, params))),
}


def _start(rng: Any) -> List[np.ndarray]:
    return [rng.normal(size=shape) for shape in SHAPES]


def _grads(rng: Any) -> List[List[Any]]:
    return [[None if i == NO_GRAD else rng.normal(size=shape) for i, shape in enumerate(SHAPES)]
            for _ in range(STEPS)]


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("name", [n for n in OPTIONS if cases.CLASS_ROWS[n].in_torch])
def test_every_form_matches_torch(name: str, form: str, rng: Any) -> None:
    torch = pytest.importorskip("torch")
    start, grads = _start(rng), _grads(rng)
    ours = [p.copy() for p in start]
    theirs = [torch.from_numpy(p.copy()) for p in start]
    opt = getattr(optim, name)(FORMS[form](ours), **OPTIONS[name])
    topt = getattr(torch.optim, name)(FORMS[form](theirs), foreach=False, **OPTIONS[name])
    with cases.torch_scalars_in(torch, np.float64):
        for g in grads:
            opt.step(g)
            for t, gi in zip(theirs, g):
                t.grad = None if gi is None else torch.from_numpy(gi.copy())
            topt.step()
    for p, t in zip(ours, theirs):
        assert_close(p, t.numpy(), np.float64, factor=10)

    saved, tsaved = opt.state_dict(), topt.state_dict()
    assert set(saved) == set(tsaved) == {"state", "param_groups"}
    assert sorted(saved["state"]) == sorted(tsaved["state"])
    # state is created at a parameter's first step, unless the class creates it with the
    # parameter (Adagrad, in both libraries)
    if type(opt)._init_state is optim.Optimizer._init_state:
        assert NO_GRAD not in saved["state"]
    for key, state in saved["state"].items():
        assert set(state) == set(tsaved["state"][key])
        for entry, value in state.items():
            expected = tsaved["state"][key][entry]
            if entry == "step":
                assert value == int(expected)
            else:
                assert_close(value, expected.numpy(), np.float64, factor=10)
    assert len(saved["param_groups"]) == len(tsaved["param_groups"])
    for group, tgroup in zip(saved["param_groups"], tsaved["param_groups"]):
        assert group["params"] == tgroup["params"]
        assert ("param_names" in group) == ("param_names" in tgroup) == form.startswith("named")
        assert group.get("param_names") == tgroup.get("param_names")
        for key in set(group) - {"params", "param_names"}:
            assert group[key] == tgroup[key], key


def test_named_state_dict_round_trip(rng: Any) -> None:
    start, grads = _start(rng), _grads(rng)
    ours, copies = [p.copy() for p in start], [p.copy() for p in start]
    opt = optim.Adam(FORMS["named_groups"](ours), lr=0.01)
    for g in grads[:10]:
        opt.step(g)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    # same structure under other names: loading matches by position and takes the names
    other = optim.Adam(_groups([(f"p{i}", p) for i, p in enumerate(copies)]), lr=0.5)
    for p, q in zip(ours, copies):
        q[...] = p
    other.load_state_dict(saved)
    assert [g["param_names"] for g in other.param_groups] == [NAMES[:2], NAMES[2:]]
    assert [g["lr"] for g in other.param_groups] == [0.01, 0.02]
    assert other.state_dict()["param_groups"] == saved["param_groups"]
    for g in grads[10:]:
        opt.step(g)
        other.step(g)
    for p, q in zip(ours, copies):
        np.testing.assert_array_equal(p, q)


def test_load_keeps_or_takes_names_as_torch(rng: Any) -> None:
    torch = pytest.importorskip("torch")
    start = _start(rng)

    def names_after_load(lib: Any, wrap: Callable[[np.ndarray], Any], saved_named: bool,
                         loading_named: bool) -> List[Any]:
        def build(named: bool, prefix: str) -> Any:
            params = [wrap(p.copy()) for p in start]
            arg = [(prefix + n, p) for n, p in zip(NAMES, params)] if named else params
            return lib.SGD(arg, lr=0.1, momentum=0.9)

        target = build(loading_named, "mine.")
        target.load_state_dict(build(saved_named, "saved.").state_dict())
        return [g.get("param_names") for g in target.param_groups]

    for saved_named in (False, True):
        for loading_named in (False, True):
            ours = names_after_load(optim, lambda a: a, saved_named, loading_named)
            theirs = names_after_load(torch.optim, torch.from_numpy, saved_named, loading_named)
            assert ours == theirs, (saved_named, loading_named)
    # a checkpoint without names keeps the optimizer's; one with names replaces them
    assert names_after_load(optim, lambda a: a, False, True) == [["mine." + n for n in NAMES]]
    assert names_after_load(optim, lambda a: a, True, False) == [["saved." + n for n in NAMES]]


def test_mixing_named_and_unnamed_is_rejected_as_torch(rng: Any) -> None:
    torch = pytest.importorskip("torch")
    cases: List[Callable[[Any, List[Any]], Any]] = [
        lambda lib, p: lib.SGD([("a", p[0]), p[1]], lr=0.1),
        lambda lib, p: lib.SGD([p[0], ("b", p[1])], lr=0.1),
        lambda lib, p: lib.SGD([{"params": [("a", p[0])]}, {"params": [p[1]]}], lr=0.1),
        lambda lib, p: lib.SGD([{"params": [p[0]]}, {"params": [("b", p[1])]}], lr=0.1),
        lambda lib, p: lib.SGD([("a", p[0])], lr=0.1).add_param_group({"params": [p[1]]}),
        lambda lib, p: lib.SGD([p[0]], lr=0.1).add_param_group({"params": [("b", p[1])]}),
    ]
    for case in cases:
        with pytest.raises(ValueError):
            case(torch.optim, [torch.zeros(2), torch.zeros(3)])
        arrays = [rng.normal(size=2), rng.normal(size=3)]
        with pytest.raises(ValueError, match="with/without names"):
            case(optim, arrays)


def test_a_dict_of_arrays_says_what_to_pass(rng: Any) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):  # torch iterates the keys and fails on the first
        torch.optim.SGD({"w": torch.zeros(2)}, lr=0.1)
    w, b = rng.normal(size=2), rng.normal(size=3)
    with pytest.raises(TypeError, match=r"params must be .*got a dict: pass params\.items\(\) "
                                        r"for named parameters or list\(params\.values\(\)\)"):
        optim.Adam({"w": w, "b": b})
    with pytest.raises(TypeError, match=r"param_group\['params'\]\.items\(\)"):
        optim.Adam([{"params": {"w": w}, "lr": 0.1}])
    with pytest.raises(TypeError, match=r"pass \[params\] for one param group"):
        optim.Adam({"params": [w, b], "lr": 0.1})
    # what the messages suggest works
    assert optim.Adam({"w": w, "b": b}.items()).param_groups[0]["param_names"] == ["w", "b"]
    assert optim.Adam(list({"w": w, "b": b}.values())).param_groups[0]["params"] == [w, b]


def test_bad_names_are_clear_errors(rng: Any) -> None:
    w, b = rng.normal(size=2), rng.normal(size=3)
    cases = [
        # stricter than torch, which would take w as the name of b
        (lambda: optim.SGD([(w, b)], lr=0.1), TypeError, r"params\[0\] .* str name"),
        (lambda: optim.SGD([("w", w, 1)], lr=0.1), TypeError, "tuple of 3 items"),
        (lambda: optim.SGD([{"params": ("w", w)}], lr=0.1), TypeError,
         r"one \(name, array\) pair: pass \[\(name, array\)\]"),
        (lambda: optim.SGD([{"params": [w], "param_names": ["w", "b"]}], lr=0.1), ValueError,
         "2 names for 1 parameters"),
        (lambda: optim.SGD([{"params": [w], "param_names": "w"}], lr=0.1), TypeError,
         "list of str"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()
    # names given beside unnamed arrays are kept, as torch keeps them
    opt = optim.SGD([{"params": [w], "param_names": ("w",)}], lr=0.1)
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w"]


def test_load_rejects_bad_names_and_changes_nothing(rng: Any) -> None:
    opt = optim.SGD(list(zip(NAMES, _start(rng))), lr=0.1, momentum=0.9)
    opt.step([rng.normal(size=s) for s in SHAPES])
    before = pickle.dumps(opt.state_dict())
    for names, exc in [(["a"], ValueError), ([1, 2, 3, 4], TypeError)]:
        saved = opt.state_dict()
        saved["param_groups"][0]["param_names"] = names
        with pytest.raises(exc, match=r"param_groups\[0\]\['param_names'\]"):
            opt.load_state_dict(saved)
        assert pickle.dumps(opt.state_dict()) == before
