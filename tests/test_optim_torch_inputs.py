"""The new rules against torch.optim over torch's own option combinations: the CPU
``OptimizerInput`` kwargs of ``optim_inputs_func_<name>`` in torch 2.13's
torch/testing/_internal/common_optimizers.py (its CUDA-only and ``capturable`` / tensor-lr
entries left out), 100 steps from the same start and gradients, with a ``state_dict``
round trip into a fresh optimizer halfway. The row-derived parity cases
(test_optim.py::test_matches_torch_optim) try every value of each row's grid; these try
torch's own list as it is."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

import _optim_cases as cases
from fastloss import optim

#: torch 2.13's optim_inputs_func_<name>(device="cpu"), each OptimizerInput's kwargs
TORCH_INPUTS: Dict[str, List[Dict[str, Any]]] = {
    "Adamax": [{}, {"lr": 0.1}, {"weight_decay": 0.1}, {"maximize": True},
               {"weight_decay": 0.1, "maximize": True}],
    "NAdam": [{}, {"lr": 0.001}, {"momentum_decay": 0.006}, {"weight_decay": 0.1},
              {"weight_decay": 0.1, "momentum_decay": 0.006},
              {"weight_decay": 0.1, "momentum_decay": 0.006, "decoupled_weight_decay": True},
              {"weight_decay": 0.1, "maximize": True}],
    "RAdam": [{}, {"lr": 0.002}, {"eps": 1e-06}, {"weight_decay": 0.1},
              {"weight_decay": 0.1, "decoupled_weight_decay": True},
              {"weight_decay": 0.1, "maximize": True}],
    "Adadelta": [{}, {"lr": 0.01}, {"weight_decay": 0.1}, {"maximize": True},
                 {"weight_decay": 0.1, "maximize": True}, {"rho": 0.95, "weight_decay": 0.9}],
    "Rprop": [{}, {"lr": 0.0002}, {"etas": (0.5, 1.5)}, {"step_sizes": (2e-06, 100)},
              {"maximize": True}],
    "ASGD": [{}, {"lambd": 0.1}, {"lr": 0.02}, {"t0": 100}, {"maximize": True},
             {"weight_decay": 0.1}, {"weight_decay": 0.1, "maximize": True}],
}
CASES = [(name, kwargs) for name, inputs in TORCH_INPUTS.items() for kwargs in inputs]
STEPS = 100


@pytest.mark.parametrize("name, kwargs", CASES,
                         ids=[f"{n}-{','.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in CASES])
def test_torchs_own_inputs_with_a_state_dict_round_trip(name: str, kwargs: Dict[str, Any],
                                                         dtype: Any, rng: Any) -> None:
    torch = pytest.importorskip("torch")
    shapes = [(10, 5), (7,)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[(0.3 + rng.normal(size=s)).astype(dtype) for s in shapes] for _ in range(STEPS)]
    ours = [p.copy() for p in start]
    theirs = [torch.from_numpy(p.copy()) for p in start]
    topt = getattr(torch.optim, name)(theirs, foreach=False, **kwargs)
    opt = cases.step_both_resuming_halfway(
        torch, lambda params: getattr(optim, name)(params, **kwargs), ours, theirs, topt,
        grads, dtype)
    cases.assert_matches_torch(opt, topt, ours, theirs, dtype, STEPS)
