"""Linear-model objective + gradient (``fastloss bench``'s ``models`` family): the fused
fastloss.linear_value_and_grad vs the composed NumPy objective, scikit-learn's
``LinearModelLoss.loss_gradient`` and one read of X. The cases are
:data:`fastloss.bench.FAMILIES` ``["models"]``; see _bench_cases.py."""

from _bench_cases import cases_of, time_case


@cases_of("models")
def bench_objective(benchmark, case, n, dtype, impl):
    time_case(benchmark, "models", case, n, dtype, impl)
