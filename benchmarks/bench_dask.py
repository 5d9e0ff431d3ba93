"""fastloss on a 2-worker Dask LocalCluster (``fastloss bench``'s optional ``dask`` family):
one distributed objective evaluation, a logistic fit and a least-squares fit vs one process
in memory, scikit-learn and dask-ml. The cases are :data:`fastloss.bench.FAMILIES`
``["dask"]`` (absent without dask and distributed); see _bench_cases.py.

    OPENBLAS_NUM_THREADS=1 python -m pytest benchmarks/bench_dask.py --benchmark-max-time=1
"""

import pytest

from _bench_cases import cases_of, time_case
from fastloss.bench import FAMILIES

if "dask" not in FAMILIES:
    pytest.skip("dask and distributed are not installed (pip install 'fastloss[dask]')",
                allow_module_level=True)


@cases_of("dask")
def bench_dask(benchmark, case, n, dtype, impl):
    time_case(benchmark, "dask", case, n, dtype, impl)
