"""Per-sample SGD epochs (``fastloss bench``'s ``linear`` family): fastloss.sgd_epoch vs the
reference Python loop (on the first 2000 samples) and scikit-learn's
``SGDRegressor.partial_fit``. Times are per call: divide by ``extra_info["units_per_call"]``
for the time per sample. The cases are :data:`fastloss.bench.FAMILIES` ``["linear"]``; see
_bench_cases.py."""

from _bench_cases import cases_of, time_case


@cases_of("linear")
def bench_sgd_epoch(benchmark, case, n, dtype, impl):
    time_case(benchmark, "linear", case, n, dtype, impl)
