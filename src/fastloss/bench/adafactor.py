"""Adafactor's benchmark cases (in the ``optim`` family): one step of
``fastloss.optim.Adafactor`` on a matrix of about n elements (the factored case, whose step
needs the row and column means of ``g**2`` and two RMS reductions), vs its NumPy reference
(:mod:`fastloss.reference.adafactor`, state in a closure) vs ``torch.optim.Adafactor``, once
per torch implementation (``foreach=False``: its single-tensor loop; ``foreach=True``).

The matrix is ``rows x (n / rows)``, ``rows`` the largest divisor of n up to sqrt(n): 25 x 40
at 10^3, 1000 x 1000 at 10^6.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Tuple

import numpy as np

import fastloss.optim
from fastloss import reference
from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, _update_of
from fastloss.reference.optim import textbook_rounding


def matrix_shape(n: int) -> Tuple[int, int]:
    """The squarest matrix of exactly n elements."""
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    return rows, n // rows


def _case(name: str, torch_options: Dict[str, Any]) -> Case:
    def setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        shape = matrix_shape(n)
        p0 = rng.normal(size=shape).astype(dtype)
        g = rng.normal(size=shape).astype(dtype)
        p_fast, p_ref = p0.copy(), p0.copy()
        opt = fastloss.optim.Adafactor([p_fast])
        state: Dict[str, Any] = {"row_var": np.zeros((shape[0], 1), dtype),
                 "col_var": np.zeros((1, shape[1]), dtype)}
        count = [0]

        def numpy_step() -> None:
            count[0] += 1
            with textbook_rounding():  # a user's NumPy step, not the oracle's fma emulation
                reference.adafactor_update(p_ref, g, count[0], **state)

        impls: Impls = {"fastloss": _update_of(lambda: opt.step([g]), [p_fast.reshape(-1)]),
                        "numpy": _update_of(numpy_step, [p_ref.reshape(-1)])}
        torch = peers.torch()
        if torch is not None:
            p_torch = p0.copy()
            tp = torch.from_numpy(p_torch)  # sharing the array's memory
            tp.grad = torch.from_numpy(g)
            topt = torch.optim.Adafactor([tp], **torch_options)
            impls["torch"] = _update_of(topt.step, [p_torch.reshape(-1)])
        return impls

    options = ", ".join(f"{k}={v}" for k, v in torch_options.items())
    return Case(name, setup, label=f"{name} step",
                what=f"optim.Adafactor(...).step on the squarest matrix of n elements, "
                     f"defaults (torch: {options})")


def adafactor_cases() -> List[Case]:
    return [_case("adafactor", {"foreach": False}),
            _case("adafactor_foreach", {"foreach": True})]
