"""CTC's benchmark cases (in the ``losses`` family): ``ctc_loss_value_and_grad`` on a batch
of ``(T, N, C)`` log-probabilities with padded targets of up to S labels, vs its NumPy
reference (:mod:`fastloss.reference.ctc`: the recursions frame by frame, vectorized over
the states) vs ``torch.nn.functional.ctc_loss`` forward and backward. Each case runs at its
one shape (``Case.sizes``: n = T N C): a speech-recognition-like small batch (T=50, N=16,
C=20, S=30) and a larger one (T=200, N=32, C=40, S=60).

Input lengths are drawn in [0.8 T, T], target lengths in [S / 2, S], labels without
repeats next to each other, so every target has an alignment (finite losses).
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np

import fastloss
from fastloss import reference
from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls

#: (T, N, C, S) of each case
SHAPES = ((50, 16, 20, 30), (200, 32, 40, 60))


def ctc_inputs(rng: np.random.Generator, t: int, n: int, c: int, s: int, dtype: np.dtype
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(log_probs, targets, input_lengths, target_lengths) of one feasible batch (blank 0)."""
    logits = rng.normal(size=(t, n, c))
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    steps = rng.integers(1, c - 1, size=(n, s))  # label k + 1 differs from label k
    targets = (np.cumsum(steps, axis=1) % (c - 1)) + 1
    input_lengths = rng.integers(int(0.8 * t), t + 1, size=n)
    target_lengths = rng.integers(s // 2, s + 1, size=n)
    return log_probs.astype(dtype), targets, input_lengths, target_lengths


def _case(t: int, n: int, c: int, s: int) -> Case:
    def setup(size: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        arrays = ctc_inputs(rng, t, n, c, s, dtype)
        impls: Impls = {"fastloss": lambda: fastloss.ctc_loss_value_and_grad(*arrays),
                        "numpy": lambda: reference.ctc_loss_value_and_grad(*arrays)}
        if peers.torch() is not None:
            import torch.nn.functional as F

            impls["torch"] = peers.torch_value_and_grads(F.ctc_loss, arrays, [0])
        return impls

    return Case(f"ctc_loss_t{t}_n{n}_c{c}_s{s}", setup, sizes=(t * n * c,),
                label=f"ctc_loss, T={t} N={n} C={c} S={s}",
                what=f"ctc_loss_value_and_grad, ({t}, {n}, {c}) log-probabilities, padded "
                     f"targets of {s // 2}..{s} labels, mean")


def ctc_cases() -> List[Case]:
    return [_case(*shape) for shape in SHAPES]
