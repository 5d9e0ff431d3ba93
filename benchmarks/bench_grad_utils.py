"""Gradient clipping and parameter averaging over 100 arrays (``fastloss bench``'s
``grad_utils`` family): fastloss vs the NumPy loop over the arrays and torch. The cases are
:data:`fastloss.bench.FAMILIES` ``["grad_utils"]``; see _bench_cases.py."""

from _bench_cases import cases_of, time_case


@cases_of("grad_utils")
def bench_grad_utils(benchmark, case, n, dtype, impl):
    time_case(benchmark, "grad_utils", case, n, dtype, impl)
