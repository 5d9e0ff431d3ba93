"""Muon's benchmark case (in the ``optim`` family): one step of ``fastloss.optim.Muon`` on
the squarest matrix of about n elements (five Newton-Schulz iterations, three matrix
products each, on NumPy's matmul), vs its NumPy reference (:mod:`fastloss.reference.muon`,
the state in a closure; what fastloss runs, so the ratio is the class's checking overhead)
vs ``torch.optim.Muon``, which iterates in bfloat16: its step is timed as torch ships it
but not checked against numpy's (it agrees to bfloat16's ~1e-3 only; tests/test_optim_muon.py
checks torch's trajectory with the cast removed).
"""

from __future__ import annotations

from typing import List

import numpy as np

import fastloss.optim
from fastloss import reference
from fastloss.bench import peers
from fastloss.bench.adafactor import matrix_shape
from fastloss.bench.cases import Case, Impls, Work, _update_of
from fastloss.reference.optim import textbook_rounding


def _setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    shape = matrix_shape(n)
    p0 = rng.normal(size=shape).astype(dtype)
    g = rng.normal(size=shape).astype(dtype)
    p_fast, p_ref = p0.copy(), p0.copy()
    opt = fastloss.optim.Muon([p_fast])
    buf = np.zeros(shape, dtype)

    def numpy_step() -> None:
        with textbook_rounding():  # a user's NumPy step, not the oracle's fma emulation
            reference.muon_update(p_ref, g, buf)

    impls: Impls = {"fastloss": _update_of(lambda: opt.step([g]), [p_fast.reshape(-1)]),
                    "numpy": _update_of(numpy_step, [p_ref.reshape(-1)])}
    torch = peers.torch()
    if torch is not None:
        tp = torch.from_numpy(p0.copy())
        tp.grad = torch.from_numpy(g)
        topt = torch.optim.Muon([tp])
        impls["torch"] = Work(topt.step, check=lambda: None)  # bfloat16: not compared
    return impls


def muon_cases() -> List[Case]:
    return [Case("muon", _setup, label="muon step",
                 what="optim.Muon(...).step on the squarest matrix of n elements, defaults "
                      "(torch: Newton-Schulz in bfloat16, not checked for agreement)")]
