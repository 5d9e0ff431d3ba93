"""Value + gradient of each loss (``fastloss bench``'s ``losses`` family): fastloss vs the
NumPy reference, torch (forward + backward, one thread) and scikit-learn's private Cython
losses. The cases are :data:`fastloss.bench.FAMILIES` ``["losses"]``; see _bench_cases.py."""

from _bench_cases import cases_of, time_case


@cases_of("losses")
def bench_loss(benchmark, case, n, dtype, impl):
    time_case(benchmark, "losses", case, n, dtype, impl)
