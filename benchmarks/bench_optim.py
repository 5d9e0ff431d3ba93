"""One optimizer step (``fastloss bench``'s ``optim`` family): the fastloss.optim class vs
the NumPy reference vs torch.optim (Adam/AdamW ``fused=True``), one thread, each on its own
copy of the parameters. The cases are :data:`fastloss.bench.FAMILIES` ``["optim"]``; see
_bench_cases.py.

Every update is memory-bound; ``bench_copy_bandwidth`` (``np.copyto`` at 10^7) is the
yardstick: Adam moves 7 arrays per element (reads p, g, m, v; writes p, m, v), a copy 2.

    OPENBLAS_NUM_THREADS=1 FASTLOSS_BENCH_LARGE=1 python -m pytest benchmarks/bench_optim.py \\
        --benchmark-max-time=0.1 --benchmark-json=optim.json
"""

import numpy as np
import pytest
from _bench_cases import cases_of, time_case


@cases_of("optim")
def bench_step(benchmark, case, n, dtype, impl):
    time_case(benchmark, "optim", case, n, dtype, impl)


@pytest.mark.slow
def bench_copy_bandwidth(benchmark):
    """np.copyto at 10^7 float64: what streaming 2 arrays costs on this machine."""
    src = np.random.default_rng(0).standard_normal(10**7)
    dst = np.empty_like(src)
    benchmark.group = "memory bandwidth n=1e+07 float64"
    benchmark(np.copyto, dst, src)
    np.testing.assert_array_equal(dst, src)
