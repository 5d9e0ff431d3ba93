"""The L-BFGS two-loop recursion in NumPy, the obvious way: the specification of
csrc/lbfgs.c, and what :func:`fastloss.optim.minimize_lbfgs` runs on the "numpy" backend."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["lbfgs_direction"]


def lbfgs_direction(g: NDArray[np.float64], S: NDArray[np.float64], Y: NDArray[np.float64],
                    rho: NDArray[np.float64], rows: Sequence[int],
                    gamma: float) -> NDArray[np.float64]:
    """``-H g`` (Nocedal & Wright, algorithm 7.4) from the pairs ``S[r], Y[r]`` for ``r`` in
    ``rows`` (oldest first), ``rho[r] = 1 / (S[r] . Y[r])``, initial matrix ``gamma I``."""
    q = np.array(g, dtype=np.float64)
    alphas = []
    for r in reversed(rows):
        a = rho[r] * (S[r] @ q)
        q -= a * Y[r]
        alphas.append(a)
    q *= gamma
    for r, a in zip(rows, reversed(alphas)):
        b = rho[r] * (Y[r] @ q)
        q += (a - b) * S[r]
    return -q
