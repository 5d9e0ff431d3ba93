"""fastloss.optim.swa_utils against torch.optim.swa_utils: AveragedModel on a tiny nn.Module
whose parameters equal our arrays, the rules called directly, and SWALR."""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

from _support import DTYPES
from fastloss.optim import SGD, swa_utils

torch = pytest.importorskip("torch")
T = torch.optim.swa_utils

#: name -> (keyword arguments of torch's AveragedModel, of ours)
RULES: Dict[str, Callable[[], Tuple[Dict[str, Any], Dict[str, Any]]]] = {
    "default (SWA mean)": lambda: ({}, {}),
    "ema multi 0.9": lambda: ({"multi_avg_fn": T.get_ema_multi_avg_fn(0.9)},
                              {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9)}),
    "ema multi 0.3": lambda: ({"multi_avg_fn": T.get_ema_multi_avg_fn(0.3)},
                              {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.3)}),
    "swa multi": lambda: ({"multi_avg_fn": T.get_swa_multi_avg_fn()},
                          {"multi_avg_fn": swa_utils.get_swa_multi_avg_fn()}),
    "ema single": lambda: ({"avg_fn": T.get_ema_avg_fn(0.7)},
                           {"avg_fn": swa_utils.get_ema_avg_fn(0.7)}),
    "swa single": lambda: ({"avg_fn": T.get_swa_avg_fn()}, {"avg_fn": swa_utils.get_swa_avg_fn()}),
    "ema default decay": lambda: ({"multi_avg_fn": T.get_ema_multi_avg_fn()},
                                  {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn()}),
    # a rule of the user's own, written once for both libraries
    "custom avg_fn": lambda: ({"avg_fn": lambda a, p, n: 0.25 * a + 0.75 * p},
                              {"avg_fn": lambda a, p, n: 0.25 * a + 0.75 * p}),
    "custom multi_avg_fn": lambda: ({"multi_avg_fn": _torch_halfway}, {"multi_avg_fn": _halfway}),
}


def _torch_halfway(avgs: Any, params: Any, n: Any) -> None:
    for a, p in zip(avgs, params):
        a.copy_((a + p) / 2)


def _halfway(avgs: List[np.ndarray], params: List[np.ndarray], n: Any) -> None:
    for a, p in zip(avgs, params):
        a[...] = (a + p) / 2


def _model(dtype: Any) -> Any:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2))
    return model.to(torch.float64 if dtype == np.float64 else torch.float32)


def _set(model: Any, rng: np.random.Generator, dtype: Any) -> List[np.ndarray]:
    """New random parameter values in the module; the same values as our arrays."""
    values = []
    with torch.no_grad():
        for p in model.parameters():
            v = rng.standard_normal(tuple(p.shape)).astype(dtype)
            p.copy_(torch.from_numpy(v))
            values.append(v)
    return values


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rule", list(RULES))
def test_averaged_model_matches_torch(dtype: Any, rule: str) -> None:
    theirs_kwargs, ours_kwargs = RULES[rule]()
    model = _model(dtype)
    reference = T.AveragedModel(model, **theirs_kwargs)
    ours = swa_utils.AveragedModel([p.detach().numpy().copy() for p in model.parameters()],
                                   **ours_kwargs)
    rng = np.random.default_rng(1)
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for step in range(15):
        values = _set(model, rng, dtype)
        reference.update_parameters(model)
        ours.update_parameters(values)
        assert ours.n_averaged == int(reference.n_averaged) == step + 1
        for a, p in zip(ours.params, reference.module.parameters()):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, p.detach().numpy(), rtol=rtol, atol=rtol)


def test_swa_is_the_running_mean() -> None:
    rng = np.random.default_rng(2)
    draws = [rng.standard_normal((3, 2)) for _ in range(9)]
    model = swa_utils.AveragedModel([np.zeros((3, 2))])
    for d in draws:
        model.update_parameters([d])
    np.testing.assert_allclose(model.params[0], np.mean(draws, axis=0), rtol=1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rules_called_directly_match_torch(dtype: Any) -> None:
    rng = np.random.default_rng(3)
    avgs = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (5,), (2, 2, 2)]]
    cur = [rng.standard_normal(a.shape).astype(dtype) for a in avgs]
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    for ours, theirs, n in [(swa_utils.get_ema_multi_avg_fn(0.8), T.get_ema_multi_avg_fn(0.8), 3),
                            (swa_utils.get_swa_multi_avg_fn(), T.get_swa_multi_avg_fn(), 4),
                            (swa_utils.get_swa_multi_avg_fn(), T.get_swa_multi_avg_fn(),
                             torch.tensor(4)), ]:
        mine = [a.copy() for a in avgs]
        ref = [torch.from_numpy(a.copy()) for a in avgs]
        ours(mine, cur, np.asarray(int(n)) if torch.is_tensor(n) else n)
        theirs(ref, [torch.from_numpy(c) for c in cur], n)
        for m, r in zip(mine, ref):
            np.testing.assert_allclose(m, r.numpy(), rtol=rtol)
    for ours_single, theirs_single in [(swa_utils.get_ema_avg_fn(0.6), T.get_ema_avg_fn(0.6)),
                                       (swa_utils.get_swa_avg_fn(), T.get_swa_avg_fn())]:
        a = np.asfortranarray(avgs[0])  # any layout
        out = ours_single(a, cur[0], 2)
        assert out is not a and a.tobytes() == np.asfortranarray(avgs[0]).tobytes()
        ref = theirs_single(torch.from_numpy(avgs[0]), torch.from_numpy(cur[0]), 2)
        np.testing.assert_allclose(out, ref.numpy(), rtol=rtol)


def test_multi_rule_on_views_and_fortran_arrays() -> None:
    """A multi rule called on arrays the kernel does not read in place (an F-ordered
    average, a strided parameter) writes the averages all the same."""
    rng = np.random.default_rng(4)
    a = np.asfortranarray(rng.standard_normal((4, 3)))
    p = rng.standard_normal((4, 6))[:, ::2]
    expected = 0.5 * a + 0.5 * p
    swa_utils.get_ema_multi_avg_fn(0.5)([a], [p], 0)
    np.testing.assert_allclose(a, expected, rtol=1e-15)


def test_averages_are_copies() -> None:
    w = np.ones(3)
    model = swa_utils.AveragedModel([w])
    assert model.params[0] is not w and not np.shares_memory(model.params[0], w)
    w[:] = 5.0
    model.update_parameters([w])
    w[:] = 0.0
    assert model.params[0].tolist() == [5.0] * 3


@pytest.mark.parametrize("params, exc, match", [
    ([np.ones(3)], ValueError, "params has 1 arrays, expected 2"),
    ([np.ones(3), np.ones(3)], ValueError, r"params\[1\] has shape \(3,\)"),
    ([np.ones(3), np.ones((2, 2), np.float32)], ValueError, r"params\[1\] .*dtype float32"),
    ([np.ones(3), [1.0]], TypeError, r"params\[1\] must be a float32 or float64 array"),
    (np.ones(3), TypeError, "pass \\[param\\]"),
])
def test_update_rejects_bad_params(params: Any, exc: type, match: str) -> None:
    model = swa_utils.AveragedModel([np.zeros(3), np.zeros((2, 2))])
    model.update_parameters([np.ones(3), np.ones((2, 2))])
    before = [a.copy() for a in model.params]
    with pytest.raises(exc, match=match):
        model.update_parameters(params)
    assert model.n_averaged == 1
    for a, b in zip(model.params, before):
        np.testing.assert_array_equal(a, b)


def test_bad_arguments_rejected_like_torch() -> None:
    for decay in (-0.1, 1.5):
        with pytest.raises(ValueError):
            T.get_ema_multi_avg_fn(decay)
        with pytest.raises(ValueError, match="decay must be finite and in"):
            swa_utils.get_ema_multi_avg_fn(decay)
        with pytest.raises(ValueError, match="decay"):
            swa_utils.get_ema_avg_fn(decay)
    with pytest.raises(ValueError, match="Only one of avg_fn and multi_avg_fn"):
        swa_utils.AveragedModel([np.ones(2)], avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())
    with pytest.raises(TypeError, match="avg_fn must be callable"):
        swa_utils.AveragedModel([np.ones(2)], avg_fn=0.5)  # type: ignore[arg-type]


# ---- SWALR --------------------------------------------------------------------------------

SWALR_CASES = {
    "cos": {"swa_lr": 0.05, "anneal_epochs": 5},
    "linear": {"swa_lr": 0.05, "anneal_epochs": 3, "anneal_strategy": "linear"},
    "per group": {"swa_lr": [0.01, 0.2], "anneal_epochs": 4},
    "no annealing": {"swa_lr": 0.02, "anneal_epochs": 0},
    "one epoch": {"swa_lr": 0.3, "anneal_epochs": 1, "anneal_strategy": "linear"},
    "default epochs": {"swa_lr": 0.1},
}
LRS = (0.5, 0.1)


def _sgd_torch() -> Any:
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": LRS[0]},
                            {"params": [torch.nn.Parameter(torch.zeros(2))], "lr": LRS[1]}])


def _sgd_ours() -> Any:
    return SGD([{"params": [np.zeros(1)], "lr": LRS[0]}, {"params": [np.zeros(2)], "lr": LRS[1]}])


@pytest.mark.parametrize("name", list(SWALR_CASES))
def test_swalr_matches_torch(name: str) -> None:
    kwargs = SWALR_CASES[name]
    theirs, ours = _sgd_torch(), _sgd_ours()
    ref = T.SWALR(theirs, **kwargs)
    sched = swa_utils.SWALR(ours, **kwargs)
    for _ in range(15):
        assert [g["lr"] for g in ours.param_groups] == pytest.approx(
            [g["lr"] for g in theirs.param_groups], rel=1e-12)
        assert sched.get_last_lr() == pytest.approx(ref.get_last_lr(), rel=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs.step()
            ref.step()
        sched.step()
    assert [g["swa_lr"] for g in ours.param_groups] == [g["swa_lr"] for g in theirs.param_groups]


def test_swalr_state_dict_round_trip() -> None:
    ours = _sgd_ours()
    sched = swa_utils.SWALR(ours, swa_lr=0.05, anneal_epochs=6, anneal_strategy="linear")
    for _ in range(3):
        sched.step()
    state = pickle.loads(pickle.dumps(sched.state_dict()))
    other = copy.deepcopy(ours)
    restored = swa_utils.SWALR(other, swa_lr=0.9)
    for group, saved in zip(other.param_groups, ours.param_groups):
        group.update({k: v for k, v in saved.items() if k != "params"})
    restored.load_state_dict(state)
    for _ in range(6):
        sched.step()
        restored.step()
        assert [g["lr"] for g in other.param_groups] == [g["lr"] for g in ours.param_groups]


@pytest.mark.parametrize("kwargs, match", [
    ({"swa_lr": 0.1, "anneal_epochs": -1}, "anneal_epochs"),
    ({"swa_lr": 0.1, "anneal_strategy": "exp"}, "anneal_strategy"),
    ({"swa_lr": [0.1]}, "swa_lr"),
])
def test_swalr_bad_arguments_like_torch(kwargs: Dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError):
        T.SWALR(_sgd_torch(), **kwargs)
    ours = _sgd_ours()
    with pytest.raises(ValueError, match=match):
        swa_utils.SWALR(ours, **kwargs)
    assert all("swa_lr" not in g and "initial_lr" not in g for g in ours.param_groups)


def test_swalr_rejects_non_real_swa_lr() -> None:
    with pytest.raises(TypeError, match="swa_lr must be a real number"):
        swa_utils.SWALR(_sgd_ours(), swa_lr="0.1")
    assert math.isfinite(swa_utils.SWALR(_sgd_ours(), swa_lr=0.1).get_last_lr()[0])


def test_update_from_the_averages_themselves() -> None:
    """The averages passed as the parameters (aliasing every pair): a fixed point."""
    model = swa_utils.AveragedModel([np.zeros(3)],
                                    multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5))
    model.update_parameters([np.array([1.0, 2.0, 4.0])])
    model.update_parameters(model.params)
    assert model.params[0].tolist() == [1.0, 2.0, 4.0] and model.n_averaged == 2


def test_overlapping_averages_are_rejected() -> None:
    base = np.zeros(10)
    with pytest.raises(ValueError, match="share memory"):
        swa_utils.get_ema_multi_avg_fn(0.5)([base[:6], base[4:]], [np.ones(6), np.ones(6)], 0)
    assert not base.any()
