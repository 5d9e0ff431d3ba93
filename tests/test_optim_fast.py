"""Optimizer.step's compiled fast path (``_optim.StepPlan``) against the checked path.

Each optimizer is run twice on copies of the same problem: as built (the fast path where it
applies) and with the fast path switched off (``_plan = None``: every step through the
checked Python path, the behaviour before the fast path existed). Whatever happens between
steps -- a hyper-parameter replaced or mutated in place, a parameter made read-only,
reshaped or replaced, a state array swapped, an odd gradient -- both must end in the same
place: bitwise-equal arrays and states, or the same error with nothing changed.
"""

from __future__ import annotations

import copy
import inspect
import pickle
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest

import fastloss
from fastloss import _config, _optim, optim
from fastloss.optim._registry import RULES, UpdateRule
import _optim_cases as cases
from _support import DTYPES

#: "<class>-<case>": (class name, options, the class's option names), each row's cases
#: (tests/_optim_cases.py), then Adafactor's (not a row: its own kernel and plan,
#: _optim.AdafactorPlan; factored for the 2-D parameter, a variance for the others)
OPTIMIZERS = {f"{row.torch_class}-{label}": (row.torch_class, options,
                                             {p.name for p in row.params})
              for row in cases.ROWS for label, options in cases.named_cases(row)}
_ADAFACTOR_OPTIONS = {"lr", "beta2_decay", "eps", "d", "weight_decay", "maximize"}
OPTIMIZERS.update({
    "Adafactor-plain": ("Adafactor", {"lr": 0.01}, _ADAFACTOR_OPTIONS),
    "Adafactor-richest": ("Adafactor", {"lr": 0.01, "beta2_decay": -0.5, "eps": (1e-20, 1e-2),
                                        "d": 1.5, "weight_decay": 0.1, "maximize": True},
                          _ADAFACTOR_OPTIONS)})
#: the rows' plans run their large kernels threaded; Adafactor's kernel is one thread
RICHEST_ROWS = [f"{row.torch_class}-richest" for row in cases.ROWS]
PLAIN = [f"{row.torch_class}-plain" for row in cases.ROWS] + ["Adafactor-plain"]
RICHEST = RICHEST_ROWS + ["Adafactor-richest"]
SHAPES = ((7,), (3, 4), (1,), (0,))
#: and a batch of matrices (factored); an empty parameter steps as nothing
ADAFACTOR_SHAPES = ((7,), (3, 4), (1,), (2, 1, 3), (0,), (0, 3))


def _make(name: str, params: List[np.ndarray], fast: bool) -> optim.Optimizer:
    cls_name, options, _ = OPTIMIZERS[name]
    cls = getattr(optim, cls_name)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": options["lr"] / 2}]
    opt = cls(groups, **options)
    if not fast:
        opt._plan = None
    return opt


def _spy(opt: optim.Optimizer) -> List[int]:
    """Counts the steps that went through the checked path."""
    calls: List[int] = []
    checked = opt._checked_step

    def spy(grads: Any) -> None:
        calls.append(1)
        checked(grads)

    opt._checked_step = spy  # type: ignore[method-assign]
    return calls


def _grads(rng: np.random.Generator, opt: optim.Optimizer) -> List[Optional[np.ndarray]]:
    return [(0.5 + rng.normal(size=p.shape)).astype(p.dtype) for p in opt._params()]


def _assert_same(a: optim.Optimizer, b: optim.Optimizer) -> None:
    for p, q in zip(a._params(), b._params()):
        assert p.dtype == q.dtype and p.shape == q.shape
        np.testing.assert_array_equal(p, q)
    assert set(a.state) == set(b.state)
    for index, state in a.state.items():
        other = b.state[index]
        assert set(state) == set(other)
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(value, other[key])
            else:
                assert type(value) is type(other[key]) and value == other[key]


def _twins(name: str, dtype: Any, rng: np.random.Generator) -> Any:
    shapes = ADAFACTOR_SHAPES if name.startswith("Adafactor") else SHAPES
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    fast = _make(name, params, True)
    slow = _make(name, [p.copy() for p in params], False)
    return fast, slow


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_fast_path_is_bitwise_the_checked_path(name: str, dtype: Any, rng: Any) -> None:
    fast, slow = _twins(name, dtype, rng)
    calls = _spy(fast)
    for step in range(6):
        grads = _grads(rng, fast)
        if step == 3:
            grads[1] = None  # a skipped parameter keeps its state
        fast.step(grads)
        slow.step([None if g is None else g.copy() for g in grads])
        _assert_same(fast, slow)
    # only a first step that creates state (SGD's momentum buffer, Adam's moments) is checked
    assert len(calls) <= 1


# Changes between steps, applied to both twins: (name, change(opt) -> None)
def _set(key: str, value: Any, group: int = 0) -> Callable[[optim.Optimizer], None]:
    def change(opt: optim.Optimizer) -> None:
        opt.param_groups[group][key] = copy.copy(value)
    return change


def _readonly(opt: optim.Optimizer) -> None:
    opt.param_groups[1]["params"][0].flags.writeable = False


def _reshape(opt: optim.Optimizer) -> None:
    opt.param_groups[0]["params"][1].shape = (4, 3)


def _replace_param(opt: optim.Optimizer) -> None:
    params = opt.param_groups[0]["params"]
    params[0] = params[0] * 2


def _swap_state(shape: Any, dtype: Any = None, writeable: bool = True,
                alias: bool = False) -> Callable[[optim.Optimizer], None]:
    def change(opt: optim.Optimizer) -> None:
        state = opt.state[1]
        arrays = [k for k, v in state.items() if isinstance(v, np.ndarray)]
        if not arrays:
            return
        old = state[arrays[-1]]
        if alias:
            new = opt.param_groups[0]["params"][1]
        else:
            new = np.full(shape or old.shape, 0.25, dtype or old.dtype)
            new.flags.writeable = writeable
        state[arrays[-1]] = new
    return change


def _float_step(opt: optim.Optimizer) -> None:
    if "step" in opt.state[0]:
        opt.state[0]["step"] = float(opt.state[0]["step"])


def _drop_state(opt: optim.Optimizer) -> None:
    del opt.state[2]


def _new_group(opt: optim.Optimizer) -> None:
    last = opt.param_groups[1]["params"].pop()  # the last parameter moves to a new group
    opt.add_param_group({"params": [np.ones_like(last)], "lr": 0.5})


#: the flags of every row but maximize (nesterov, centered, amsgrad, ...), each turned on
FLAGS = list(dict.fromkeys(p.name for row in cases.ROWS for p in row.params
                           if p.constraint is None and p.name != "maximize"))

#: name: (the hyper-parameter it changes, or None for any row; the change)
CHANGES: Dict[str, Tuple[Optional[str], Callable[[optim.Optimizer], None]]] = {
    "lr-replaced": ("lr", _set("lr", 0.125)),
    "lr-second-group": ("lr", _set("lr", 0.02, group=1)),
    "lr-int": ("lr", _set("lr", 1)),
    "lr-numpy-scalar": ("lr", _set("lr", np.float32(0.03))),
    "lr-negative": ("lr", _set("lr", -1.0)),
    "lr-nan": ("lr", _set("lr", float("nan"))),
    "lr-string": ("lr", _set("lr", "0.1")),
    "maximize-int": ("maximize", _set("maximize", 1)),
    "maximize-flipped": ("maximize", _set("maximize", True)),
    "weight-decay": ("weight_decay", _set("weight_decay", 0.5)),
    "momentum-on": ("momentum", _set("momentum", 0.5)),
    **{f"{flag}-on": (flag, _set(flag, True)) for flag in FLAGS},
    "param-read-only": (None, _readonly),
    "param-reshaped": (None, _reshape),
    "param-replaced": (None, _replace_param),
    "state-wrong-shape": (None, _swap_state((5,))),
    "state-wrong-dtype": (None, _swap_state(None, np.float16)),
    "state-read-only": (None, _swap_state(None, writeable=False)),
    "state-aliases-param": (None, _swap_state(None, alias=True)),
    "state-replaced": (None, _swap_state(None)),
    "step-float": (None, _float_step),
    "state-dropped": (None, _drop_state),
    "group-added": (None, _new_group),
}


def _outcome(opt: optim.Optimizer, grads: Any) -> Any:
    try:
        opt.step(grads)
    except (TypeError, ValueError, KeyError) as exc:
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("name", PLAIN + RICHEST)
def test_changes_between_steps_are_seen(name: str, change: str, dtype: Any, rng: Any) -> None:
    param, apply = CHANGES[change]
    if param is not None and param not in OPTIMIZERS[name][2]:
        pytest.skip(f"{param} is not an option of this optimizer")
    fast, slow = _twins(name, dtype, rng)
    for _ in range(2):
        grads = _grads(rng, fast)
        fast.step(grads)
        slow.step(grads)
    apply(fast)
    apply(slow)
    for _ in range(2):
        grads = [(0.5 + rng.normal(size=p.shape)).astype(p.dtype) for p in fast._params()]
        before = copy.deepcopy(fast.state), [p.copy() for p in fast._params()]
        outcome = _outcome(fast, grads)
        assert outcome == _outcome(slow, grads)
        if outcome is not None:  # nothing changed
            for p, q in zip(fast._params(), before[1]):
                np.testing.assert_array_equal(p, q)
            for index, state in before[0].items():
                for key, value in state.items():
                    np.testing.assert_array_equal(fast.state[index][key], value)
        _assert_same(fast, slow)


def _odd_grads(kind: str, grads: List[Any], params: List[np.ndarray]) -> List[Any]:
    g = grads[1]
    if kind == "non-contiguous":
        grads[1] = np.asfortranarray(g)  # shape (3, 4): Fortran order is not C order
    elif kind == "strided":
        grads[0] = np.repeat(grads[0], 2)[::2]
    elif kind == "aliases-param":
        grads[1] = params[1]
    elif kind == "byteswapped":
        grads[1] = g.astype(g.dtype.newbyteorder())
    elif kind == "other-dtype":
        grads[1] = g.astype(np.float32 if g.dtype == np.float64 else np.float64)
    elif kind == "subclass":
        grads[1] = np.ma.masked_array(g)
    elif kind == "list":
        grads[1] = g.tolist()
    elif kind == "tuple-of-grads":
        return tuple(grads)  # type: ignore[return-value]
    elif kind == "too-few":
        return grads[:-1]
    elif kind == "generator":
        return (x for x in grads)  # type: ignore[return-value]
    return grads


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["non-contiguous", "strided", "aliases-param", "byteswapped",
                                  "other-dtype", "subclass", "list", "tuple-of-grads",
                                  "too-few", "generator"])
@pytest.mark.parametrize("name", RICHEST)
def test_odd_grads_behave_as_in_the_checked_path(name: str, kind: str, dtype: Any,
                                                 rng: Any) -> None:
    fast, slow = _twins(name, dtype, rng)
    grads = _grads(rng, fast)
    fast.step(grads)
    slow.step(grads)
    grads = _grads(rng, fast)
    assert _outcome(fast, _odd_grads(kind, list(grads), fast._params())) == \
        _outcome(slow, _odd_grads(kind, list(grads), slow._params()))
    _assert_same(fast, slow)


@pytest.mark.parametrize("name", RICHEST_ROWS)
def test_threaded_kernels_on_the_fast_path(name: str, rng: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_config, "THREADING_THRESHOLD", 4)  # the 7- and 12-element arrays
    threads: List[int] = []
    real = _config.get_num_threads
    monkeypatch.setattr(_config, "get_num_threads", lambda: threads.append(1) or real())
    fast, slow = _twins(name, np.float64, rng)
    with_threads = _config.get_num_threads()
    for _ in range(3):
        grads = _grads(rng, fast)
        fast.step(grads)
        slow.step(grads)
    _assert_same(fast, slow)
    assert with_threads >= 1 and threads  # the fast path asked for the thread count


def test_numpy_backend_takes_the_reference_path(rng: Any) -> None:
    fast, slow = _twins("Adam-plain", np.float64, rng)
    calls = _spy(fast)
    grads = _grads(rng, fast)
    fast.step(grads)
    fast.step(grads)
    assert len(calls) == 1
    with fastloss.use_backend("numpy"):
        fast.step(grads)
    assert len(calls) == 2


@pytest.mark.parametrize("name", ["Adam-plain", "Adafactor-plain"])
def test_copies_and_pickles_keep_stepping(name: str, rng: Any) -> None:
    fast, slow = _twins(name, np.float64, rng)
    grads = _grads(rng, fast)
    fast.step(grads)
    slow.step(grads)
    for twin in (copy.deepcopy(fast), pickle.loads(pickle.dumps(fast))):
        assert twin._plan is not None
        other = copy.deepcopy(slow)
        calls = _spy(twin)
        for _ in range(2):
            grads = _grads(rng, fast)
            twin.step(grads)
            other.step(grads)
        assert not calls
        _assert_same(twin, other)


def test_subclasses_that_change_the_step_get_no_fast_path(rng: Any) -> None:
    class Halved(optim.Adam):
        def _prepare(self, param: Any, grad: Any, state: Any, h: Any) -> Any:
            return super()._prepare(param, grad / 2, state, h)

    class Renamed(optim.AdamW):  # changes nothing: keeps the fast path
        pass

    class Doubled(optim.Adafactor):
        def _fast_spec(self, hyper: Any) -> Any:
            return super()._fast_spec(hyper)

    class Named(optim.Adafactor):
        pass

    p = rng.normal(size=4)
    assert Halved([p])._plan is None
    assert Renamed([p])._plan is not None
    assert optim.Adam([p])._plan is not None
    assert Doubled([p])._plan is None
    assert type(Named([p])._plan) is type(optim.Adafactor([p])._plan) is _optim.AdafactorPlan
    assert optim.Muon([rng.normal(size=(3, 4))])._plan is None  # no kernel of its own


def test_in_place_change_of_a_mutable_hyper_parameter_is_seen(rng: Any) -> None:
    p = rng.normal(size=5)
    opt = optim.Adam([p], lr=0.01, betas=[0.9, 0.999])
    opt.step([np.ones(5)])
    opt.step([np.ones(5)])
    saved = p.copy()
    opt.param_groups[0]["betas"][0] = 1.5
    expected = r"param_groups\[0\]: betas\[0\] must be finite and in \[0, 1\), got 1.5"
    with pytest.raises(ValueError, match=expected):
        opt.step([np.ones(5)])
    np.testing.assert_array_equal(p, saved)
    assert opt.state[0]["step"] == 2


# ---- the functional updates' fast path -----------------------------------------------------

#: a tweak of a functional update's arguments, given its row
Tweak = Callable[[Dict[str, Any], UpdateRule], None]


def _call(row: UpdateRule, dtype: Any, tweak: Tweak, options: Dict[str, Any]) -> Any:
    """``row``'s functional update with ``options`` on fresh arrays (seeded) after
    ``tweak(arguments, row)``: (outcome, arrays)."""
    rng = np.random.default_rng(7)
    p = rng.normal(size=(3, 4)).astype(dtype)
    args: Dict[str, Any] = dict(param=p, grad=(0.5 + rng.normal(size=(3, 4))).astype(dtype))
    args.update(cases.functional_call(row, rng, (3, 4), dtype, 4, options))
    tweak(args, row)
    fn = getattr(optim, row.update)
    known = inspect.signature(fn).parameters
    args = {k: v for k, v in args.items() if k in known}  # a tweak for another function
    arrays = [a for a in args.values() if isinstance(a, np.ndarray)]
    try:
        fn(**args)
        outcome = None
    except (TypeError, ValueError, OverflowError) as exc:
        outcome = type(exc), str(exc)
    return outcome, [a.copy() for a in arrays]


def _put(key: str, value: Any) -> Tweak:
    def tweak(args: Dict[str, Any], row: UpdateRule) -> None:
        args[key] = value
    return tweak


def _options_off(args: Dict[str, Any], row: UpdateRule) -> None:
    """Every hyper-parameter but lr back to torch.optim's default (options off)."""
    args.update({p.name: p.default for p in row.functional_params if p.name != "lr"})


def _array_tweak(kind: str) -> Tweak:
    def tweak(args: Dict[str, Any], row: UpdateRule) -> None:
        state = row.state[0].argument
        p, g = args["param"], args["grad"]
        if kind == "param-read-only":
            p.flags.writeable = False
        elif kind == "param-fortran":
            args["param"] = np.asfortranarray(p)
        elif kind == "state-read-only":
            args[state].flags.writeable = False
        elif kind == "state-wrong-shape":
            args[state] = args[state].ravel()
        elif kind == "state-wrong-dtype":
            args[state] = args[state].astype(np.float16)
        elif kind == "state-aliases-param":
            args[state] = p
        elif kind == "state-missing":
            args[state] = None
        elif kind == "grad-aliases-state":
            args["grad"] = args[state]
        elif kind == "grad-aliases-param":
            args["grad"] = p
        elif kind == "grad-fortran":
            args["grad"] = np.asfortranarray(g)
        elif kind == "grad-other-dtype":
            args["grad"] = g.astype(np.float32 if g.dtype == np.float64 else np.float64)
        elif kind == "grad-byteswapped":
            args["grad"] = g.astype(g.dtype.newbyteorder())
        elif kind == "grad-subclass":
            args["grad"] = np.ma.masked_array(g)
        elif kind == "param-subclass":
            args["param"] = p.view(np.matrix)
            args["grad"] = g.view(np.matrix)
    return tweak


TWEAKS: Dict[str, Tweak] = {
    "as-is": lambda args, row: None,
    "lr-int": _put("lr", 1),
    "lr-bool": _put("lr", True),
    "lr-numpy": _put("lr", np.float64(0.01)),
    "lr-nan": _put("lr", float("nan")),
    "lr-inf": _put("lr", float("inf")),
    "lr-negative": _put("lr", -0.5),
    "lr-string": _put("lr", "0.1"),
    "lr-huge-int": _put("lr", 10**400),
    "maximize-true": _put("maximize", True),
    "maximize-int": _put("maximize", 1),
    "maximize-numpy": _put("maximize", np.bool_(True)),
    "step-zero": _put("step", 0),
    "step-bool": _put("step", True),
    "step-float": _put("step", 3.0),
    "step-numpy": _put("step", np.int64(3)),
    "step-huge": _put("step", 10**400),
    "betas-list": _put("betas", [0.8, 0.9]),
    "betas-one": _put("betas", (0.8, 1.0)),
    "betas-three": _put("betas", (0.8, 0.9, 0.99)),
    "option-off": _options_off,
    "nesterov": _put("nesterov", True),
    "nesterov-dampened": lambda args, row: args.update(nesterov=True, dampening=0.1),
    "first-step": _put("first_step", True),
    "first-step-int": _put("first_step", 1),
    "n-threads": _put("n_threads", 1),
    **{kind: _array_tweak(kind) for kind in (
        "param-read-only", "param-fortran", "state-read-only", "state-wrong-shape",
        "state-wrong-dtype", "state-aliases-param", "state-missing", "grad-aliases-state",
        "grad-aliases-param", "grad-fortran", "grad-other-dtype", "grad-byteswapped",
        "grad-subclass", "param-subclass")},
}


def _fast_and_checked(row: UpdateRule, dtype: Any, tweak: Tweak, options: Dict[str, Any],
                      monkeypatch: pytest.MonkeyPatch) -> List[bool]:
    """``_call`` through the fast path and with it switched off: the same outcome and
    arrays. Returns what the fast path answered (True: it ran the update)."""
    ran: List[bool] = []
    fast = fastloss._optim.update_fast
    monkeypatch.setattr(fastloss._optim, "update_fast", lambda *a: ran.append(fast(*a)) or ran[-1])
    got = _call(row, dtype, tweak, options)
    monkeypatch.setattr(fastloss._optim, "update_fast", lambda *a: False)
    expected = _call(row, dtype, tweak, options)
    assert got[0] == expected[0]
    for a, b in zip(got[1], expected[1]):
        np.testing.assert_array_equal(a, b)
    return ran


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tweak", TWEAKS)
@pytest.mark.parametrize("name", list(RULES))
def test_functional_fast_path_is_the_checked_path(name: str, tweak: str, dtype: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The richest call (every state array in use), tweaked."""
    row = RULES[name]
    ran = _fast_and_checked(row, dtype, TWEAKS[tweak], cases.richest(row), monkeypatch)
    if tweak in ("as-is", "maximize-true", "lr-int", "option-off"):
        assert ran == [True]  # the common call does take the fast path


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(row.name, label, options) for row in cases.ROWS
                                  for label, options in cases.named_cases(row)],
                         ids=lambda case: f"{case[0]}-{case[1]}")
def test_functional_fast_path_runs_every_case(case: Any, dtype: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of the rows' cases (SGD's nesterov, ...) as it is: the fast path, as checked."""
    name, _, options = case
    ran = _fast_and_checked(RULES[name], dtype, TWEAKS["as-is"], options, monkeypatch)
    assert ran == [True]


def test_optimizers_stepping_in_threads_match_sequential_steps(rng: Any) -> None:
    # the fast path releases the GIL once per step, for all of an optimizer's kernels
    params = [rng.normal(size=(10, 100)) for _ in range(4)]
    grads = [[rng.normal(size=(10, 100)) for _ in range(4)] for _ in range(30)]
    threaded = [optim.Adam([p.copy()], lr=0.01) for p in params]
    sequential = [optim.Adam([p.copy()], lr=0.01) for p in params]

    def run(i: int) -> None:
        for g in grads:
            threaded[i].step([g[i]])

    workers = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for i, opt in enumerate(sequential):
        for g in grads:
            opt.step([g[i]])
        _assert_same(threaded[i], opt)


def test_one_optimizer_stepped_from_two_threads_does_not_crash(rng: Any) -> None:
    # not a supported use (the step counts race, as in PyTorch), but it must stay memory-safe:
    # a step finding the compiled plan busy takes the checked path
    params = [rng.normal(size=2000) for _ in range(8)]
    opt = optim.Adam(params, lr=1e-3)
    grads = [rng.normal(size=2000) for _ in range(8)]
    errors: List[BaseException] = []

    def run() -> None:
        try:
            for _ in range(200):
                opt.step(grads)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    assert all(np.isfinite(p).all() for p in params)
    assert type(opt.state[0]["step"]) is int
