"""The ``grad_utils`` benchmark family: gradient clipping and parameter averaging over a
list of arrays (a model's many layers), one call of fastloss.optim's fused passes vs the
textbook NumPy loop over the arrays vs torch (``torch.nn.utils.clip_grad_norm_`` /
``clip_grad_value_`` with their CPU foreach path, ``AveragedModel.update_parameters`` on a
module whose parameters share the arrays' memory).

``n`` elements as :data:`ARRAYS` arrays of ``n / ARRAYS`` each. Every implementation owns
its arrays and keeps updating them call after call:

* ``clip_grad_norm``: each call clips to a ``max_norm`` 0.05% below the norm the previous
  call left, so every call of every implementation scales (fastloss skips the scaling
  pass when the factor is 1; torch never does); when the norms have halved, the arrays
  are doubled once (the same NumPy pass for all, a few per 10^4 calls).
* ``clip_grad_value``: each call clamps to ``[-1, 1]`` (after the first, a pass that
  changes nothing, for every implementation alike).
* ``ema_update``: ``update_parameters`` with the EMA rule (``get_ema_multi_avg_fn(0.99)``).

The agreement check compares, from fresh copies of the same inputs, the total norm
(clipping), the clamped arrays, or the averages after two updates.
"""

from __future__ import annotations

from typing import Any, Callable, List, Sequence, Tuple

import numpy as np

from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, Work
from fastloss.optim import clip_grad_norm_, clip_grad_value_, swa_utils

#: the arrays n elements are split into (torch's CPU cost is per array: ~100 layers)
ARRAYS = 100
#: each clipping call's max_norm relative to the previous call's result
SHRINK = 0.9995
EMA_DECAY = 0.99


def _arrays(rng: np.random.Generator, n: int, dtype: np.dtype) -> List[np.ndarray]:
    size = n // ARRAYS
    return [rng.standard_normal(size).astype(dtype) for _ in range(ARRAYS)]


def numpy_clip_grad_norm_(grads: Sequence[np.ndarray], max_norm: float) -> float:
    """The textbook step: each array's 2-norm, the norm of the norms, each array scaled."""
    total = float(np.linalg.norm([np.linalg.norm(g) for g in grads]))
    coef = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= g.dtype.type(coef)
    return total


def numpy_clip_grad_value_(grads: Sequence[np.ndarray], clip_value: float) -> None:
    for g in grads:
        np.clip(g, -clip_value, clip_value, out=g)


def numpy_ema_update(averages: Sequence[np.ndarray], params: Sequence[np.ndarray]) -> None:
    for a, p in zip(averages, params):
        a *= a.dtype.type(EMA_DECAY)
        a += a.dtype.type(1 - EMA_DECAY) * p


class _Shrinking:
    """Clipping calls that always clip: ``clip(arrays, max_norm)`` with max_norm just below
    the norm the last call left; arrays doubled once the norm has halved."""

    def __init__(self, arrays: List[np.ndarray], clip: Callable[[float], Any],
                 norm0: float) -> None:
        self.arrays, self.clip = arrays, clip
        self.start = self.max_norm = SHRINK * norm0

    def __call__(self) -> Any:
        if self.max_norm < 0.5 * self.start:
            for a in self.arrays:
                a *= 2
            self.max_norm *= 2
        total = self.clip(self.max_norm)
        self.max_norm *= SHRINK
        return total


def _torch_params(torch: Any, arrays: List[np.ndarray]) -> List[Any]:
    """torch parameters whose .grad shares each array's memory."""
    params = []
    for a in arrays:
        p = torch.nn.Parameter(torch.zeros(a.shape, dtype=torch.from_numpy(a[:0]).dtype))
        p.grad = torch.from_numpy(a)
        params.append(p)
    return params


Arrays = List[np.ndarray]


def _clip_norm_setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    base = _arrays(rng, n, dtype)
    norm0 = float(np.linalg.norm([np.linalg.norm(g) for g in base]))

    def work(make: Callable[[Arrays], Callable[[float], float]]) -> Work:
        """``make(arrays)`` is the implementation's ``clip(max_norm) -> total norm``."""
        mine = [g.copy() for g in base]
        return Work(_Shrinking(mine, make(mine), norm0),
                    check=lambda: make([g.copy() for g in base])(0.5 * norm0))

    impls: Impls = {"fastloss": work(lambda g: lambda m: clip_grad_norm_(g, m)),
                    "numpy": work(lambda g: lambda m: numpy_clip_grad_norm_(g, m))}
    torch = peers.torch()
    if torch is not None:
        def torch_clip(arrays: Arrays) -> Callable[[float], float]:
            params = _torch_params(torch, arrays)
            return lambda m: float(torch.nn.utils.clip_grad_norm_(params, m))

        impls["torch"] = work(torch_clip)
    return impls


def _clip_value_setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    base = _arrays(rng, n, dtype)

    def work(make: Callable[[Arrays], Callable[[], Any]]) -> Work:
        """``make(arrays)`` is the implementation's clamping of ``arrays`` to [-1, 1]."""
        def check() -> np.ndarray:
            fresh = [g.copy() for g in base]
            make(fresh)()
            return np.concatenate(fresh)

        return Work(make([g.copy() for g in base]), check=check)

    impls: Impls = {"fastloss": work(lambda g: lambda: clip_grad_value_(g, 1.0)),
                    "numpy": work(lambda g: lambda: numpy_clip_grad_value_(g, 1.0))}
    torch = peers.torch()
    if torch is not None:
        def torch_clamp(arrays: Arrays) -> Callable[[], Any]:
            params = _torch_params(torch, arrays)
            return lambda: torch.nn.utils.clip_grad_value_(params, 1.0)

        impls["torch"] = work(torch_clamp)
    return impls


def _ema_setup(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    start, current = _arrays(rng, n, dtype), _arrays(rng, n, dtype)

    def work(make: Callable[[], Tuple[Callable[[], Any], Callable[[], Arrays]]]) -> Work:
        """``make()`` is (an update of fresh averages from ``current``, their values)."""
        def check() -> np.ndarray:
            update, averages = make()
            update()
            update()
            return np.concatenate(averages())

        return Work(make()[0], check=check)

    def fast() -> Tuple[Callable[[], Any], Callable[[], Arrays]]:
        model = swa_utils.AveragedModel(
            start, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(EMA_DECAY))
        model.update_parameters(start)
        return lambda: model.update_parameters(current), lambda: model.params

    def textbook() -> Tuple[Callable[[], Any], Callable[[], Arrays]]:
        averages = [a.copy() for a in start]
        return lambda: numpy_ema_update(averages, current), lambda: averages

    impls: Impls = {"fastloss": work(fast), "numpy": work(textbook)}
    torch = peers.torch()
    if torch is not None:
        utils = torch.optim.swa_utils

        def torch_ema() -> Tuple[Callable[[], Any], Callable[[], Arrays]]:
            module = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in start])
            model = utils.AveragedModel(module,
                                        multi_avg_fn=utils.get_ema_multi_avg_fn(EMA_DECAY))
            model.update_parameters(module)
            with torch.no_grad():
                for p, c in zip(module, current):
                    p.copy_(torch.from_numpy(c))
            return (lambda: model.update_parameters(module),
                    lambda: [p.detach().numpy() for p in model.module])

        impls["torch"] = work(torch_ema)
    return impls


def grad_cases() -> List[Case]:
    """The family's cases (see the module's docstring)."""
    over = f"over {ARRAYS} arrays of n/{ARRAYS}"
    return [
        Case("clip_grad_norm", _clip_norm_setup, min_size=ARRAYS * 10,
             label=f"clip_grad_norm_, {ARRAYS} arrays",
             what=f"optim.clip_grad_norm_ {over}, clipping at every call"),
        Case("clip_grad_value", _clip_value_setup, min_size=ARRAYS * 10,
             label=f"clip_grad_value_, {ARRAYS} arrays",
             what=f"optim.clip_grad_value_ {over}, clip_value=1"),
        Case("ema_update", _ema_setup, min_size=ARRAYS * 10,
             label=f"AveragedModel EMA update, {ARRAYS} arrays",
             what=f"swa_utils.AveragedModel.update_parameters {over}, "
                  f"get_ema_multi_avg_fn({EMA_DECAY})"),
    ]
