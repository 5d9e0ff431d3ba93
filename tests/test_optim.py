"""fastloss.optim: C kernels vs the NumPy reference, PyTorch parity, state, and bad input."""

from __future__ import annotations

import inspect
import pickle
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastloss
from fastloss import optim
from fastloss.optim import functional as F
from fastloss.optim._registry import RULES
import _optim_cases as cases
from _support import DTYPES, assert_close

#: the optimizer classes by name, one per registry row
OPTIMIZERS = {row.torch_class: getattr(optim, row.torch_class) for row in RULES.values()}


#: every option combination each row's grid holds (tests/_optim_cases.py), the richest last;
#: a grid's at::lerp parameters also take lerp's other formula (betas/alpha <= 0.5)
OPTIONS: Dict[str, List[Dict[str, Any]]] = {
    name: cases.option_grid(row) for name, row in cases.CLASS_ROWS.items()}

CASES = [(name, o) for name, opts in OPTIONS.items() for o in opts]


def _case_id(case: Any) -> str:
    name, o = case
    return name + "-" + ",".join(f"{k}={v}" for k, v in o.items() if k != "lr")


def _trajectory(name: str, options: Dict[str, Any], params: List[np.ndarray],
                grads: List[List[np.ndarray]], backend: str) -> optim.Optimizer:
    with fastloss.use_backend(backend):
        opt = OPTIMIZERS[name](params, **options)
        for g in grads:
            opt.step(g)
    return opt


def _problem(rng: np.random.Generator, dtype: Any, steps: int = 120,
             shapes: Any = ((37,), (4, 5))) -> Any:
    params = [rng.normal(size=s).astype(dtype) for s in shapes]
    # a quadratic-ish drift plus noise, so moments do not average to zero
    grads = [[(0.5 + rng.normal(size=s)).astype(dtype) for s in shapes] for _ in range(steps)]
    return params, grads


# ---- C kernels vs the NumPy reference -----------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_trajectory_matches_reference(case: Any, dtype: np.dtype, rng: Any) -> None:
    name, options = case
    params, grads = _problem(rng, dtype)
    c_params = [p.copy() for p in params]
    ref_params = [p.copy() for p in params]
    c_opt = _trajectory(name, options, c_params, grads, "c")
    ref_opt = _trajectory(name, options, ref_params, grads, "numpy")
    for pc, pr, p0 in zip(c_params, ref_params, params):
        assert pc.dtype == dtype and np.isfinite(pc).all()
        assert_close(pc, pr, dtype, factor=10)
        assert not np.allclose(pc, p0)  # the trajectory went somewhere
    for index, state in c_opt.state.items():
        assert set(state) == set(ref_opt.state[index])
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == dtype
                assert_close(value, ref_opt.state[index][key], dtype, factor=10)
            else:
                assert value == ref_opt.state[index][key]


@pytest.mark.parametrize("name", list(RULES))
def test_functional_matches_reference_bitwise_where_lerp_is_textbook(name: str, dtype: Any,
                                                                      rng: Any) -> None:
    """With PyTorch's operation order and no FMA contraction, the kernels round like NumPy
    (every option of the row on, its at::lerp weights below 0.5)."""
    row = RULES[name]
    p = rng.normal(size=1001).astype(dtype)
    states = cases.state_arrays(row, rng, 1001, dtype)
    ref_p, ref_states = p.copy(), {k: s.copy() for k, s in states.items()}
    hyper = cases.functional_hyper(row, cases.textbook_richest(row))
    fn = getattr(F, row.update)
    ref = getattr(fastloss.reference, row.update)
    for step in range(1, 51):
        g = rng.normal(size=1001).astype(dtype)
        for q, arr, f in ((p, states, fn), (ref_p, ref_states, ref)):
            f(q, g, **arr, **cases.step_arguments(row, step), **hyper)
    assert np.isfinite(p).all()
    np.testing.assert_array_equal(p, ref_p)
    for key, s in states.items():
        np.testing.assert_array_equal(s, ref_states[key])


@pytest.mark.parametrize("shape", [(), (0,), (1,), (2, 0, 3), (3, 1)])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_tiny_and_empty_params(name: str, shape: Any, dtype: Any, rng: Any) -> None:
    p = rng.normal(size=shape).astype(dtype)
    ref = p.copy()
    g = rng.normal(size=shape).astype(dtype)
    opt = OPTIMIZERS[name]([p], lr=0.1)
    opt.step([g])
    with fastloss.use_backend("numpy"):
        ref_opt = OPTIMIZERS[name]([ref], lr=0.1)
        ref_opt.step([g])
    assert p.shape == shape and p.dtype == dtype
    assert_close(p, ref, dtype)
    if p.size:
        assert not np.array_equal(p, g)  # it moved


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_nan_and_inf_grads_propagate_elementwise(name: str, dtype: Any, rng: Any) -> None:
    p = rng.normal(size=64).astype(dtype)
    ref = p.copy()
    options = dict(OPTIONS[name][-1])  # the richest combination
    opt_c = OPTIMIZERS[name]([p], **options)
    with fastloss.use_backend("numpy"):
        opt_r = OPTIMIZERS[name]([ref], **options)
    with np.errstate(invalid="ignore"):
        for step in range(3):
            g = rng.normal(size=64).astype(dtype)
            g[5] = np.nan
            if step == 1:
                g[9] = np.inf
            opt_c.step([g])
            with fastloss.use_backend("numpy"):
                opt_r.step([g])
    assert np.isnan(p[5])
    assert_close(p, ref, dtype, factor=10)  # NaN/inf at the same places, the rest equal
    assert np.isfinite(np.delete(p, [5, 9])).all()
    for key, value in opt_c.state[0].items():  # the state too (a max that drops NaN shows)
        if isinstance(value, np.ndarray):
            assert_close(value, opt_r.state[0][key], dtype, factor=10)
        else:
            assert value == opt_r.state[0][key]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_non_contiguous_and_aliased_grads(name: str, dtype: Any, rng: Any) -> None:
    base = rng.normal(size=(40, 2)).astype(dtype)
    p1, p2 = [rng.normal(size=40).astype(dtype) for _ in range(2)]
    p2[:] = p1
    opts = dict(OPTIONS[name][-1])
    opt1, opt2 = OPTIMIZERS[name]([p1], **opts), OPTIMIZERS[name]([p2], **opts)
    for _ in range(3):
        opt1.step([base[:, 0]])  # strided view
        opt2.step([base[:, 0].copy()])
    np.testing.assert_array_equal(p1, p2)
    # read-only grads are fine (only read)
    ro = base[:, 1].copy()
    ro.flags.writeable = False
    opt1.step([ro])
    opt2.step([ro.copy()])
    np.testing.assert_array_equal(p1, p2)
    # grad is param itself: read before written, like an explicit copy
    q1 = rng.normal(size=40).astype(dtype)
    q2 = q1.copy()
    F.sgd_update(q1, q1, lr=0.1, weight_decay=0.1)
    F.sgd_update(q2, q2.copy(), lr=0.1, weight_decay=0.1)
    np.testing.assert_array_equal(q1, q2)


def test_partial_overlaps_are_caught_or_copied(rng: Any) -> None:
    base = rng.normal(size=12)
    p, m, v = base[:6], base[3:9], np.zeros(6)
    _assert_rejected(ValueError, "exp_avg shares memory with param",
                     lambda: F.adam_update(p, np.ones(6), m, v, 1), [base, v])
    # a grad overlapping what is written is read from a copy
    q = rng.normal(size=12)
    q2 = q.copy()
    F.sgd_update(q[:6], q[3:9], lr=0.5)
    F.sgd_update(q2[:6], q2[3:9].copy(), lr=0.5)
    np.testing.assert_array_equal(q, q2)


def test_adam_decoupled_is_adamw(rng: Any) -> None:
    params, grads = _problem(rng, np.float64, steps=20)
    a, b = [p.copy() for p in params], [p.copy() for p in params]
    _trajectory("Adam", dict(weight_decay=0.1, decoupled_weight_decay=True), a, grads, "c")
    _trajectory("AdamW", dict(weight_decay=0.1), b, grads, "c")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", list(RULES))
def test_threads_give_identical_results(name: str, rng: Any) -> None:
    row = RULES[name]
    n = 100_003
    p1 = rng.normal(size=n)
    p2 = p1.copy()
    hyper = cases.functional_hyper(row, cases.richest(row))
    states = {k: cases.state_arrays(row, np.random.default_rng(1), n, np.float64)
              for k in (1, 2)}
    for step in range(1, 4):
        g = rng.normal(size=n)
        for q, k in ((p1, 1), (p2, 2)):
            getattr(F, row.update)(q, g, **states[k], **cases.step_arguments(row, step),
                                   **hyper, n_threads=k)
    np.testing.assert_array_equal(p1, p2)
    for key, s in states[1].items():
        np.testing.assert_array_equal(s, states[2][key])


# ---- the classes: param_groups, lr, state, checkpoints --------------------------------------

def test_param_groups_shape_and_lr_property(rng: Any) -> None:
    a, b = rng.normal(size=3), rng.normal(size=4)
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.5, "amsgrad": True}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["params"][0] is a
    assert opt.param_groups[1]["amsgrad"] is True and opt.param_groups[0]["amsgrad"] is False
    assert opt.defaults["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="different learning rates"):
        opt.lr
    opt.lr = 0.01
    assert opt.lr == 0.01 and all(g["lr"] == 0.01 for g in opt.param_groups)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = -1.0
    assert "Parameter Group 1" in repr(opt)


def test_scheduler_contract_lr_written_into_groups_is_used(rng: Any) -> None:
    """A scheduler writes group["lr"] (and stores initial_lr); the next step uses it."""
    p, q = rng.normal(size=5), None
    q = p.copy()
    opt = optim.SGD([p], lr=1.0)
    for group in opt.param_groups:
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = 0.25
    g = rng.normal(size=5)
    opt.step([g])
    np.testing.assert_array_equal(p, q - 0.25 * g)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["initial_lr"] == 1.0
    opt2 = optim.SGD([q], lr=1.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.25 and opt2.param_groups[0]["initial_lr"] == 1.0


def test_none_grad_skips_parameter(rng: Any) -> None:
    a, b = rng.normal(size=3), rng.normal(size=3)
    a0, b0 = a.copy(), b.copy()
    opt = optim.Adam([a, b])
    opt.step([None, np.ones(3)])
    np.testing.assert_array_equal(a, a0)
    assert not np.array_equal(b, b0)
    assert 0 not in opt.state and opt.state[1]["step"] == 1


@pytest.mark.parametrize("case", [c for c in CASES if c[1].get("maximize")], ids=_case_id)
def test_state_dict_round_trip_mid_trajectory_is_bitwise(case: Any, dtype: Any,
                                                          rng: Any) -> None:
    name, options = case
    params, grads = _problem(rng, dtype, steps=40)
    opt = OPTIMIZERS[name](params, **options)
    for g in grads[:20]:
        opt.step(g)
    saved = pickle.loads(pickle.dumps(opt.state_dict()))
    restored_params = [p.copy() for p in params]
    for g in grads[20:]:
        opt.step(g)  # later steps must not change the saved copy
    other = OPTIMIZERS[name]([p.copy() for p in restored_params], lr=123.0)
    other.param_groups[0]["params"] = restored_params
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == options["lr"]
    for g in grads[20:]:
        other.step(g)
    for p, q in zip(params, restored_params):
        np.testing.assert_array_equal(p, q)
    for index, state in opt.state.items():
        for key, value in state.items():
            np.testing.assert_array_equal(value, other.state[index][key])


def test_state_dict_is_a_deep_copy(rng: Any) -> None:
    p = rng.normal(size=4)
    opt = optim.Adam([p])
    opt.step([np.ones(4)])
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["state"][0]["step"] == 1
    assert sd["state"][0]["exp_avg"] is not opt.state[0]["exp_avg"]
    sd["state"][0]["exp_avg"][:] = 99
    assert not (opt.state[0]["exp_avg"] == 99).any()
    opt.load_state_dict(sd)
    sd["state"][0]["exp_avg"][:] = 7
    assert (opt.state[0]["exp_avg"] == 99).all()


# ---- PyTorch parity -------------------------------------------------------------------------

#: each row's plain and richest cases and the richest with each other grid value
TORCH_CASES = [(row.torch_class, options) for row in cases.ROWS if row.in_torch
               for _, options in cases.named_cases(row)]


def _both(torch: Any, name: str, params: List[np.ndarray], options: Dict[str, Any],
          **torch_options: Any) -> Tuple[Any, Any, Any, Any]:
    """Copies of ``params`` under fastloss's and torch's optimizer ``name``."""
    ours = [p.copy() for p in params]
    tparams = [torch.from_numpy(p.copy()) for p in params]
    return (ours, OPTIMIZERS[name](ours, **options), tparams,
            getattr(torch.optim, name)(tparams, **options, **torch_options))


def _step_both(torch: Any, opt: Any, topt: Any, tparams: List[Any],
               grads: List[List[np.ndarray]]) -> None:
    for g in grads:
        opt.step(g)
        for tp, gi in zip(tparams, g):
            tp.grad = torch.from_numpy(gi.copy())
        topt.step()


@pytest.mark.parametrize("case", TORCH_CASES, ids=_case_id)
def test_matches_torch_optim(case: Any, dtype: Any, rng: Any) -> None:
    torch = pytest.importorskip("torch")
    name, options = case
    params, grads = _problem(rng, dtype, steps=150)
    ours, opt, tparams, topt = _both(torch, name, params, options, foreach=False)
    with cases.torch_scalars_in(torch, dtype):
        _step_both(torch, opt, topt, tparams, grads)
    for p, tp in zip(ours, tparams):
        cases.assert_trajectory_close(p, tp.numpy(), dtype)
    tstate = list(topt.state.values())
    for index, state in opt.state.items():
        for key, value in state.items():
            expected = tstate[index][key]
            if key == "step":
                assert value == int(expected)
            else:
                cases.assert_trajectory_close(value, expected.numpy(), dtype)


@pytest.mark.parametrize("case", [c for c in TORCH_CASES if c[0] == "SGD"], ids=_case_id)
def test_float32_sgd_is_torch_bit_for_bit(case: Any, rng: Any) -> None:
    """torch's float32 add(alpha=) is one fused multiply-add (Vectorized fmadd) and SGD is
    nothing else, so update_rules.h's muladd gives its trajectory exactly (measured over
    100 steps before muladd: half the elements off by up to 3.9e-7 relative)."""
    torch = pytest.importorskip("torch")
    name, options = case
    params, grads = _problem(rng, np.float32, steps=100, shapes=((37,), (4, 5), (1000,)))
    ours, opt, tparams, topt = _both(torch, name, params, options, foreach=False)
    _step_both(torch, opt, topt, tparams, grads)
    for p, tp in zip(ours, tparams):
        np.testing.assert_array_equal(p, tp.numpy())
    for index, state in opt.state.items():
        for key, value in state.items():
            if key != "step":
                np.testing.assert_array_equal(value, list(topt.state.values())[index][key])


def test_matches_torch_with_groups_and_a_changing_lr(rng: Any) -> None:
    """Two groups with their own options, lr rewritten every 10 steps like a scheduler."""
    torch = pytest.importorskip("torch")
    params, grads = _problem(rng, np.float64, steps=60)
    ours = [p.copy() for p in params]
    opt = optim.Adam([{"params": [ours[0]]}, {"params": [ours[1]], "amsgrad": True,
                                                "weight_decay": 0.1}], lr=0.01)
    tparams = [torch.from_numpy(p.copy()) for p in params]
    topt = torch.optim.Adam([{"params": [tparams[0]]}, {"params": [tparams[1]], "amsgrad": True,
                                                         "weight_decay": 0.1}], lr=0.01,
                            foreach=False)
    for step, g in enumerate(grads):
        if step % 10 == 0:
            for o in (opt, topt):
                for k, group in enumerate(o.param_groups):
                    group["lr"] = 0.01 * 0.5 ** (step // 10) * (k + 1)
        _step_both(torch, opt, topt, tparams, [g])
    for p, tp in zip(ours, tparams):
        assert_close(p, tp.numpy(), np.float64, factor=10)


@pytest.mark.parametrize("name", [row.torch_class for row in cases.ROWS if row.in_torch])
def test_close_to_torch_fused(name: str, rng: Any) -> None:
    torch = pytest.importorskip("torch")
    if "fused" not in inspect.signature(getattr(torch.optim, name)).parameters:
        pytest.skip(f"torch.optim.{name} has no fused implementation")
    options = cases.richest(cases.CLASS_ROWS[name])
    params, grads = _problem(rng, np.float64, steps=100)
    ours, opt, tparams, topt = _both(torch, name, params, options, fused=True)
    _step_both(torch, opt, topt, tparams, grads)
    for p, tp in zip(ours, tparams):
        assert_close(p, tp.numpy(), np.float64, factor=100)


# ---- bad input: a clear error, and nothing changed --------------------------------------------

def _snapshot(arrays: List[Any]) -> List[bytes]:
    return [a.tobytes() if isinstance(a, np.ndarray) else None for a in arrays]


def _assert_rejected(exc: Any, match: str, call: Callable[[], Any], arrays: List[Any]) -> None:
    before = _snapshot(arrays)
    with pytest.raises(exc, match=match):
        call()
    assert _snapshot(arrays) == before


def _adam_arrays(rng: Any, dtype: Any = np.float64, n: int = 6) -> List[np.ndarray]:
    return [rng.normal(size=n).astype(dtype) for _ in range(5)]  # p, g, m, v, vmax


BAD_ADAM = [
    # (description, changes to the call, exception, match)
    ("param int", dict(param=np.arange(6)), TypeError, "param must be a float32 or float64"),
    ("param list", dict(param=[1.0] * 6), TypeError, "param must be a numpy.ndarray"),
    ("param big-endian", dict(param=np.zeros(6, ">f8")), TypeError, "native byte order"),
    ("param strided", dict(param=np.zeros(12)[::2]), ValueError, "param must be C-contiguous"),
    ("param read-only", dict(param="readonly"), ValueError, "param is read-only"),
    ("grad shape", dict(grad=np.zeros(5)), ValueError, "grad has shape"),
    ("grad dtype", dict(grad=np.zeros(6, np.float32)), TypeError, "grad has dtype"),
    ("grad list", dict(grad=[0.0] * 6), TypeError, "grad must be a numpy.ndarray"),
    ("state shape", dict(exp_avg=np.zeros(7)), ValueError, "exp_avg has shape"),
    ("state dtype", dict(exp_avg_sq=np.zeros(6, np.float32)), TypeError, "exp_avg_sq has dtype"),
    ("state aliases param", dict(exp_avg="param"), ValueError, "exp_avg shares memory"),
    ("state strided", dict(exp_avg=np.zeros(12)[::2]), ValueError, "exp_avg must be C-cont"),
    ("amsgrad without max", dict(amsgrad=True, max_exp_avg_sq=None), ValueError,
     "max_exp_avg_sq is required"),
    ("max read-only", dict(amsgrad=True, max_exp_avg_sq="readonly"), ValueError,
     "max_exp_avg_sq is read-only"),
    ("lr negative", dict(lr=-0.1), ValueError, r"lr must be finite and in \[0, inf\), got -0.1"),
    ("lr nan", dict(lr=float("nan")), ValueError, "lr must be"),
    ("lr inf", dict(lr=float("inf")), ValueError, "lr must be"),
    ("lr string", dict(lr="0.1"), TypeError, "lr must be a real number"),
    ("eps negative", dict(eps=-1e-8), ValueError, "eps must be"),
    ("weight_decay negative", dict(weight_decay=-0.1), ValueError, "weight_decay must be"),
    ("beta1 = 1", dict(betas=(1.0, 0.999)), ValueError,
     r"betas\[0\] must be finite and in \[0, 1\), got 1.0"),
    ("beta2 negative", dict(betas=(0.9, -0.1)), ValueError,
     r"betas\[1\] must be finite and in \[0, 1\)"),
    ("betas triple", dict(betas=(0.9, 0.99, 0.999)), TypeError, "betas must be a pair"),
    ("step 0", dict(step=0), ValueError, r"step must be an int in \[1, "),
    ("step fractional", dict(step=1.5), TypeError, "step must be an int"),
    ("maximize not bool", dict(maximize=1), TypeError, "maximize must be a bool"),
]


@pytest.mark.parametrize("fn", [F.adam_update, F.adamw_update])
@pytest.mark.parametrize("bad", BAD_ADAM, ids=[b[0] for b in BAD_ADAM])
def test_adam_rejects_bad_input_untouched(fn: Any, bad: Any, rng: Any) -> None:
    _, changes, exc, match = bad
    p, g, m, v, vmax = _adam_arrays(rng)
    kwargs: Dict[str, Any] = dict(param=p, grad=g, exp_avg=m, exp_avg_sq=v, step=3,
                                  max_exp_avg_sq=vmax)
    for key, value in changes.items():
        if isinstance(value, str) and value == "readonly":
            value = kwargs[key].copy()
            value.flags.writeable = False
        elif isinstance(value, str) and value == "param":
            value = p
        kwargs[key] = value
    arrays = [kwargs[k] for k in ("param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")]
    for backend in fastloss._backend.BACKENDS:
        with fastloss.use_backend(backend):
            _assert_rejected(exc, match, lambda: fn(**kwargs), arrays)


def test_other_functions_reject_bad_input_untouched(rng: Any) -> None:
    p, g, s1, s2, s3 = _adam_arrays(rng)
    arrays = [p, g, s1, s2, s3]
    cases = [
        (lambda: F.sgd_update(p, g, momentum=0.9), ValueError, "momentum_buffer is required"),
        (lambda: F.sgd_update(p, g, momentum=-0.9), ValueError, "momentum must be"),
        (lambda: F.sgd_update(p, g, momentum_buffer=s1, momentum=0.9, dampening=-1),
         ValueError, "dampening must be"),
        (lambda: F.sgd_update(p, g, nesterov=True), ValueError, "nesterov momentum requires"),
        (lambda: F.sgd_update(p, g, momentum_buffer=s1, momentum=0.9, dampening=0.1,
                              nesterov=True), ValueError, "nesterov momentum requires"),
        (lambda: F.sgd_update(p, g, momentum_buffer=p, momentum=0.9), ValueError,
         "momentum_buffer shares memory"),
        (lambda: F.sgd_update(p, g, lr=0.1, n_threads=0), ValueError, "n_threads"),
        (lambda: F.adagrad_update(p, g, s1, 0), ValueError, r"step must be an int in \[1, "),
        (lambda: F.adagrad_update(p, g, s1, 1, lr_decay=-1), ValueError, "lr_decay must be"),
        (lambda: F.adagrad_update(p, g, s1[:5], 1), ValueError, "state_sum has shape"),
        (lambda: F.rmsprop_update(p, g, s1, centered=True), ValueError,
         "grad_avg is required"),
        (lambda: F.rmsprop_update(p, g, s1, momentum=0.5), ValueError,
         "momentum_buffer is required"),
        (lambda: F.rmsprop_update(p, g, s1, alpha=-0.5), ValueError, "alpha must be"),
        (lambda: F.rmsprop_update(p, g, s1, grad_avg=s1, centered=True), ValueError,
         "grad_avg shares memory"),
        (lambda: F.rmsprop_update(p, g, s1, centered=1), TypeError, "centered must be a bool"),
    ]
    for call, exc, match in cases:
        _assert_rejected(exc, match, call, arrays)


def test_constructors_reject_bad_hyper_parameters(rng: Any) -> None:
    p = rng.normal(size=3)
    cases = [
        (lambda: optim.SGD([p], lr=-1), ValueError, "lr must be"),
        (lambda: optim.SGD([p], nesterov=True), ValueError, "nesterov momentum requires"),
        (lambda: optim.SGD([p], momentum=0.9, dampening=0.5, nesterov=True), ValueError,
         "nesterov"),
        (lambda: optim.Adam([p], betas=(0.9, 1.0)), ValueError, r"betas\[1\]"),
        (lambda: optim.AdamW([p], eps=float("nan")), ValueError, "eps must be"),
        (lambda: optim.Adagrad([p], initial_accumulator_value=-1), ValueError,
         "initial_accumulator_value must be"),
        (lambda: optim.RMSprop([p], momentum=-1), ValueError, "momentum must be"),
        (lambda: optim.Adam([]), ValueError, "empty parameter list"),
        (lambda: optim.Adam(p), TypeError, "pass \\[param\\]"),
        (lambda: optim.Adam(5), TypeError, "params must be a list of arrays"),
        (lambda: optim.Adam([p, p]), ValueError, "more than once"),
        (lambda: optim.Adam([p, {"params": [p]}]), TypeError, "not a mix"),
        (lambda: optim.Adam([np.arange(3)]), TypeError, r"params\[0\] must be a float32"),
        (lambda: optim.Adam([np.zeros((3, 3)).T]), ValueError, "C-contiguous"),
    ]
    for call, exc, match in cases:
        with pytest.raises(exc, match=match):
            call()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_step_rejects_bad_grads_and_changes_nothing(name: str, rng: Any) -> None:
    a, b, c = rng.normal(size=3), rng.normal(size=4), rng.normal(size=5)
    options = dict(OPTIONS[name][-1])
    opt = OPTIMIZERS[name]([a, b, c], **options)
    good = [rng.normal(size=3), rng.normal(size=4), rng.normal(size=5)]
    opt.step(good)
    sd = opt.state_dict()

    def unchanged() -> None:
        for p, q in zip((a, b, c), saved_params):
            np.testing.assert_array_equal(p, q)
        now = opt.state_dict()
        assert now["param_groups"] == sd["param_groups"]
        assert set(now["state"]) == set(sd["state"])
        for index, state in sd["state"].items():
            for key, value in state.items():
                np.testing.assert_array_equal(now["state"][index][key], value)

    saved_params = [a.copy(), b.copy(), c.copy()]
    with pytest.raises(ValueError, match="grads has 2 entries, expected 3"):
        opt.step(good[:2])
    unchanged()
    with pytest.raises(ValueError, match="parameter 2: grad has shape"):
        opt.step([good[0], good[1], np.zeros(6)])  # the first two are fine: still untouched
    unchanged()
    with pytest.raises(TypeError, match="parameter 1: grad has dtype"):
        opt.step([good[0], good[1].astype(np.float32), good[2]])
    unchanged()
    with pytest.raises(TypeError, match="grads must be a list"):
        opt.step(np.zeros(3))
    unchanged()
    with pytest.raises(TypeError, match="grads must be a list"):
        opt.step(None)  # type: ignore[arg-type]
    unchanged()
    opt.param_groups[0]["lr"] = -1.0  # e.g. a broken scheduler
    with pytest.raises(ValueError, match=r"param_groups\[0\]: lr must be"):
        opt.step(good)
    opt.param_groups[0]["lr"] = options["lr"]
    unchanged()
    b.flags.writeable = False
    with pytest.raises(ValueError, match="parameter 1: param is read-only"):
        opt.step(good)
    b.flags.writeable = True
    unchanged()


def test_load_state_dict_rejects_mismatch_and_changes_nothing(rng: Any) -> None:
    a, b = rng.normal(size=3), rng.normal(size=4)
    opt = optim.Adam([a, b], amsgrad=True)
    opt.step([np.ones(3), np.ones(4)])
    good = opt.state_dict()
    other = optim.Adam([rng.normal(size=3), rng.normal(size=5)], amsgrad=True)
    with pytest.raises(ValueError, match=r"state_dict\['state'\]\[1\]\['exp_avg'\] has shape"):
        other.load_state_dict(good)
    assert other.state == {}
    two_groups = optim.Adam([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="1 parameter groups, expected 2"):
        two_groups.load_state_dict(good)
    bad = opt.state_dict()
    bad["param_groups"][0]["betas"] = (0.9, 2.0)
    with pytest.raises(ValueError, match=r"param_groups\[0\]: betas\[1\]"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)
    bad = opt.state_dict()
    bad["state"][0]["bogus"] = 1
    with pytest.raises(ValueError, match="unknown entry 'bogus'"):
        opt.load_state_dict(bad)
    with pytest.raises(ValueError, match="keys 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})
    with pytest.raises(TypeError, match=r"state_dict\['param_groups'\] must be a list"):
        opt.load_state_dict({"state": {}, "param_groups": None})
    bad = opt.state_dict()
    bad["param_groups"][0]["params"] = 5
    with pytest.raises(TypeError, match=r"param_groups\[0\]\['params'\] must be a list"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)


def test_docstring_example() -> None:
    import doctest

    assert doctest.testmod(optim, raise_on_error=True).attempted > 0


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(list(OPTIMIZERS)), dtype=st.sampled_from(DTYPES),
       size=st.integers(0, 300), seed=st.integers(0, 99), data=st.data())
def test_random_hyper_parameters_round_like_the_reference(
        name: str, dtype: Any, size: int, seed: int, data: Any) -> None:
    """Random options and sizes: C and reference agree bit for bit (same operation order, no
    FMA contraction), except that at::lerp's second branch (weight >= 0.5) is kept out."""
    options = data.draw(cases.random_options(cases.CLASS_ROWS[name]), label="options")
    rng = np.random.default_rng(seed)
    params, grads = _problem(rng, dtype, steps=8, shapes=((size,),))
    c_params, ref_params = [params[0].copy()], [params[0].copy()]
    with np.errstate(all="ignore"):
        _trajectory(name, options, c_params, grads, "c")
        _trajectory(name, options, ref_params, grads, "numpy")
    np.testing.assert_array_equal(c_params[0], ref_params[0])
