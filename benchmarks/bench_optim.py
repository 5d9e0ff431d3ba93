"""One optimizer step: fastloss (functional and class) vs the NumPy reference vs torch.optim.

Each (optimizer, size, dtype) is one benchmark group, so pytest-benchmark's table reads as a
speedup table. torch runs on one thread (``_peers``) on the same memory
(``torch.from_numpy``), in its three CPU implementations: the default single-tensor loop
(``foreach=False``), ``foreach=True`` and ``fused=True`` (no fused RMSprop in torch).
Every update is memory-bound; ``bench_copy_bandwidth`` (``np.copyto`` at 10^7) is the
yardstick: Adam moves 7 arrays per element (reads p, g, m, v; writes p, m, v), a copy 2.

    OPENBLAS_NUM_THREADS=1 FASTLOSS_BENCH_LARGE=1 python -m pytest benchmarks/bench_optim.py \
        --benchmark-max-time=0.1 --benchmark-json=optim.json
    python benchmarks/summarize.py optim.json
"""

from typing import Any, Callable, Dict, Tuple

import numpy as np
import pytest
from _peers import DTYPES, SIZES as _SIZES, TORCH, skip_unless

from fastloss import optim, reference
from fastloss.optim import functional

# 10^3, 10^5, 10^6; 10^7 (marked slow) with FASTLOSS_BENCH_LARGE=1, as in bench_losses
SIZES = [pytest.param(n, marks=pytest.mark.slow) if n >= 10**7 else n for n in _SIZES]

# name -> (torch / fastloss class, hyper-parameters); SGD with momentum, the common case
OPTIMIZERS: Dict[str, Tuple[str, Dict[str, Any]]] = {
    "sgd_momentum": ("SGD", dict(lr=1e-3, momentum=0.9)),
    "adagrad": ("Adagrad", dict(lr=1e-2)),
    "rmsprop": ("RMSprop", dict(lr=1e-2)),
    "adam": ("Adam", dict(lr=1e-3)),
    "adamw": ("AdamW", dict(lr=1e-3)),
}
# fastloss_checked: the class with its compiled fast path off (every step through the
# checked Python path), to show what the fast path saves at small sizes
IMPLS = ["fastloss", "fastloss_class", "fastloss_checked", "numpy", "torch", "torch_foreach",
         "torch_fused"]


def _functional_step(module: Any, name: str, p: np.ndarray, g: np.ndarray) -> Callable[[], None]:
    """One step of `name` through `module` (fastloss.optim.functional or the reference),
    which share signatures; the caller-held state lives in this closure."""
    kwargs = OPTIMIZERS[name][1]
    s1, s2 = np.zeros_like(p), np.zeros_like(p)
    count = [0]
    if name == "sgd_momentum":
        return lambda: module.sgd_update(p, g, momentum_buffer=s1, **kwargs)
    if name == "rmsprop":
        return lambda: module.rmsprop_update(p, g, s1, **kwargs)
    update = {"adagrad": module.adagrad_update, "adam": module.adam_update,
              "adamw": module.adamw_update}[name]

    def run() -> None:
        count[0] += 1
        if name == "adagrad":
            update(p, g, s1, count[0], **kwargs)
        else:
            update(p, g, s1, s2, count[0], **kwargs)

    return run


def _step(impl: str, name: str, p: np.ndarray, g: np.ndarray) -> Callable[[], Any]:
    cls, kwargs = OPTIMIZERS[name]
    if impl == "fastloss":
        return _functional_step(functional, name, p, g)
    if impl == "numpy":
        return _functional_step(reference, name, p, g)
    if impl in ("fastloss_class", "fastloss_checked"):
        opt = getattr(optim, cls)([p], **kwargs)
        if impl == "fastloss_checked":
            opt._plan = None
        grads = [g]
        return lambda: opt.step(grads)
    skip_unless(TORCH, "torch")
    mode = {"torch": dict(foreach=False), "torch_foreach": dict(foreach=True),
            "torch_fused": dict(fused=True)}[impl]
    if impl == "torch_fused" and cls == "RMSprop":
        pytest.skip("torch has no fused RMSprop")
    tp = TORCH.from_numpy(p)
    tp.grad = TORCH.from_numpy(g)
    topt = getattr(TORCH.optim, cls)([tp], **kwargs, **mode)
    return topt.step


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def bench_step(benchmark, name, size, dtype, impl):
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(size, dtype=dtype)
    g = rng.standard_normal(size, dtype=dtype)
    # every implementation computes the same first step (checked on a prefix: cheap at 10^7;
    # tests/test_optim.py holds the real checks)
    head = min(size, 4096)
    p, expected = p0[:head].copy(), p0[:head].copy()
    _step(impl, name, p, g[:head].copy())()
    _functional_step(reference, name, expected, g[:head])()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(p, expected, rtol=rtol, atol=rtol * float(np.abs(p0).max()))
    benchmark.group = f"{name} n={size:.0e} {dtype}"
    benchmark(_step(impl, name, p0, g))


@pytest.mark.parametrize("impl", ["fastloss_class", "fastloss_checked", "numpy", "torch",
                                  "torch_foreach", "torch_fused"])
def bench_adam_many_params(benchmark, impl):
    """Adam over 100 arrays of 1000 float32 (a small network): per-array overhead."""
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(1000, dtype=np.float32) for _ in range(100)]
    grads = [rng.standard_normal(1000, dtype=np.float32) for _ in range(100)]
    benchmark.group = "adam 100 arrays x 1e+03 float32"
    if impl in ("fastloss_class", "fastloss_checked"):
        opt = optim.Adam(params)
        if impl == "fastloss_checked":
            opt._plan = None
        run = lambda: opt.step(grads)  # noqa: E731
    elif impl == "numpy":
        steps = [_functional_step(reference, "adam", p, g) for p, g in zip(params, grads)]

        def run():
            for s in steps:
                s()
    else:
        skip_unless(TORCH, "torch")
        mode = {"torch": dict(foreach=False), "torch_foreach": dict(foreach=True),
                "torch_fused": dict(fused=True)}[impl]
        tparams = [TORCH.from_numpy(p) for p in params]
        for tp, g in zip(tparams, grads):
            tp.grad = TORCH.from_numpy(g)
        run = TORCH.optim.Adam(tparams, **mode).step
    benchmark(run)


@pytest.mark.slow
def bench_copy_bandwidth(benchmark):
    """np.copyto at 10^7 float64: what streaming 2 arrays costs on this machine."""
    src = np.random.default_rng(0).standard_normal(10**7)
    dst = np.empty_like(src)
    benchmark.group = "memory bandwidth n=1e+07 float64"
    benchmark(np.copyto, dst, src)
    np.testing.assert_array_equal(dst, src)
