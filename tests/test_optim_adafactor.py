"""Adafactor (NumPy, not a registry row) against torch.optim.Adafactor over torch's own
option combinations (torch 2.13's optim_inputs_func_adafactor, plus eps and d), with a
state_dict round trip halfway, and its checks."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest

import _optim_cases as cases
from fastloss import optim
from fastloss.optim.adafactor import adafactor_update

#: torch 2.13's optim_inputs_func_adafactor kwargs, then eps given and a clipping d > 1
TORCH_INPUTS: List[Dict[str, Any]] = [
    {}, {"weight_decay": 0.1, "lr": 0.01}, {"weight_decay": 0.1, "maximize": True},
    {"beta2_decay": -1.0}, {"d": 1.5}, {"eps": (1e-20, 1e-2), "d": 2.0}]
#: a matrix (factored), a batch of matrices, a vector and a 0-d parameter
SHAPES = [(6, 5), (2, 3, 4), (7,), ()]
STEPS = 100


def _problem(rng: Any, dtype: Any) -> Any:
    start = [np.array(rng.normal(size=s), dtype) for s in SHAPES]
    grads = [[np.array(0.3 + rng.normal(size=s), dtype) for s in SHAPES] for _ in range(STEPS)]
    return start, grads


@pytest.mark.parametrize("kwargs", TORCH_INPUTS, ids=lambda kw: str(kw) if kw else "default")
def test_matches_torch_with_a_state_dict_round_trip(kwargs: Dict[str, Any], dtype: Any,
                                                    rng: Any) -> None:
    torch = pytest.importorskip("torch")
    start, grads = _problem(rng, dtype)
    ours = [p.copy() for p in start]
    theirs = [torch.from_numpy(p.copy()) for p in start]
    topt = torch.optim.Adafactor(theirs, foreach=False, **kwargs)
    opt = cases.step_both_resuming_halfway(
        torch, lambda params: optim.Adafactor(params, **kwargs), ours, theirs, topt, grads,
        dtype)
    # float32: the reductions (norms, means) round in float32, in another order than torch's
    cases.assert_matches_torch(opt, topt, ours, theirs, dtype, STEPS)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"lr": -1.0}, ValueError, "lr"), ({"beta2_decay": 0.5}, ValueError, "beta2_decay"),
    ({"d": 0.5}, ValueError, "d"), ({"eps": (-1.0, 1e-3)}, ValueError, r"eps\[0\]"),
    ({"eps": 1e-3}, TypeError, "eps must be a pair"),
    ({"weight_decay": float("nan")}, ValueError, "weight_decay"),
    ({"maximize": 1}, TypeError, "maximize"),
])
def test_bad_hyper_parameters_are_rejected(kwargs: Dict[str, Any], error: Any,
                                           match: str) -> None:
    with pytest.raises(error, match=match):
        optim.Adafactor([np.zeros((2, 2))], **kwargs)
    p = np.ones((2, 3))
    row, col = np.zeros((2, 1)), np.zeros((1, 3))
    with pytest.raises(error, match=match):
        adafactor_update(p, np.ones((2, 3)), 1, row_var=row, col_var=col, **kwargs)
    assert (p == 1).all() and (row == 0).all() and (col == 0).all()


def test_functional_state_is_checked_before_any_write() -> None:
    p, g = np.ones((2, 3)), np.ones((2, 3))
    row, col = np.zeros((2, 1)), np.zeros((1, 3))
    with pytest.raises(ValueError, match="col_var is required"):
        adafactor_update(p, g, 1, row_var=row)
    with pytest.raises(ValueError, match="col_var has shape"):
        adafactor_update(p, g, 1, row_var=row, col_var=np.zeros((3, 1)))
    with pytest.raises(ValueError, match="variance is required"):
        adafactor_update(np.ones(3), np.ones(3), 1)
    assert (p == 1).all() and (row == 0).all()
    adafactor_update(p, g, 1, row_var=row, col_var=col)
    assert (p < 1).all() and (row > 0).all() and (col > 0).all()


def test_a_bad_gradient_changes_nothing(rng: Any) -> None:
    params = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    before = [p.copy() for p in params]
    opt = optim.Adafactor(params)
    with pytest.raises(ValueError, match="parameter 1: grad has shape"):
        opt.step([np.ones((3, 4)), np.ones(4)])
    assert all((p == b).all() for p, b in zip(params, before)) and not opt.state


def test_loading_a_factor_of_the_wrong_shape_fails() -> None:
    opt = optim.Adafactor([np.ones((2, 3))])
    opt.step([np.ones((2, 3))])
    saved = opt.state_dict()
    saved["state"][0]["row_var"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"row_var.*shape \(2, 1\)"):
        opt.load_state_dict(saved)
