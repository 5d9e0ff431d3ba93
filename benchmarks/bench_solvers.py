"""A whole L-BFGS minimization (``fastloss bench``'s ``solvers`` family):
fastloss.optim.minimize_lbfgs (C and NumPy backends) vs scipy L-BFGS-B on Rosenbrock n=100
and an L2-logistic objective. The cases are :data:`fastloss.bench.FAMILIES` ``["solvers"]``;
see _bench_cases.py.

    OPENBLAS_NUM_THREADS=1 python -m pytest benchmarks/bench_solvers.py --benchmark-max-time=1
"""

from _bench_cases import cases_of, time_case


@cases_of("solvers")
def bench_minimize(benchmark, case, n, dtype, impl):
    time_case(benchmark, "solvers", case, n, dtype, impl)
