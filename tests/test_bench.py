"""fastloss.bench in process: the timer, the agreement check, the cases of each family,
the selection, a run's settings, and the figure (the command itself: tests/test_cli.py)."""

import time
from importlib.util import find_spec

import numpy as np
import pytest

import fastloss
from fastloss.bench import cases, peers, plots, report, runner, timing
from fastloss.optim._registry import RULES
from fastloss.optim._rule import BenchCase


# ---- the timer and the registry, in process ------------------------------------------

def test_interleaved_rounds_rotate_order():
    calls = []

    def impl(name):
        def call():
            calls.append(name)
            time.sleep(1e-3)  # longer than a sample needs: one call per sample
        return call

    timings = timing.time_interleaved({n: impl(n) for n in "abc"}, budget=0.0, min_rounds=3)
    assert all(t["rounds"] == 3 and t["loops"] == 1 for t in timings.values())
    # one calibration call each, then rounds starting one implementation later each time
    assert "".join(calls) == "abc" + "abc" + "bca" + "cab"
    assert all(1e-3 <= t["min_s"] <= t["median_s"] for t in timings.values())


def test_check_agreement_names_the_odd_one_out():
    impls = {"fastloss": lambda: (1.0, None), "numpy": lambda: (1.0, None),
             "torch": lambda: (1.5, None), "sklearn": lambda: None}
    problems = timing.check_agreement(impls, np.dtype("float64"))
    assert len(problems) == 1 and problems[0].startswith("torch gives 1.5")


def test_check_agreement_compares_arrays():
    x = np.linspace(-1.0, 1.0, 11)
    same = {"fastloss": lambda: x * 1.0, "numpy": lambda: x}
    assert timing.check_agreement(same, np.dtype("float64")) == []
    off = {"fastloss": lambda: x * (1 + 1e-6), "numpy": lambda: x}
    problems = timing.check_agreement(off, np.dtype("float64"))
    assert len(problems) == 1 and problems[0].startswith("fastloss differs from numpy")
    assert timing.check_agreement(off, np.dtype("float32")) == []  # within 1e-3
    short = {"fastloss": lambda: x[:5], "numpy": lambda: x}
    assert "shape" in timing.check_agreement(short, np.dtype("float64"))[0]
    nan = np.array([np.nan, 1.0])
    assert timing.check_agreement({"fastloss": lambda: nan.copy(), "numpy": lambda: nan},
                                  np.dtype("float64")) == []


def test_check_agreement_uses_work_check_and_calls_numpy_once():
    calls = []

    def numpy_impl():
        calls.append("numpy")
        return 1.0

    work = cases.Work(lambda: 5.0, units=10, check=lambda: 1.0)
    assert timing.check_agreement({"fastloss": work, "numpy": numpy_impl},
                                  np.dtype("float64")) == []
    assert calls == ["numpy"]
    assert work() == 5.0 and work.units == 10


@pytest.mark.parametrize("case", cases.FAMILIES["optim"], ids=lambda c: c.name)
def test_optim_check_sees_a_missing_update(case):
    # float32: the step (lr ~ 1e-3) is within the tolerance of the parameters themselves,
    # so the check must compare what the step changed
    impls = case.setup(1000, np.dtype("float32"), np.random.default_rng(0))
    p = np.ones(1000, np.float32)
    impls["torch"] = cases._update_of(lambda: None, [p])
    problems = timing.check_agreement(impls, np.dtype("float32"))
    assert len(problems) == 1 and problems[0].startswith("torch differs from numpy")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_check_sees_another_learning_rate(dtype, monkeypatch):
    case = next(c for c in cases.FAMILIES["linear"] if c.name == "sgd_epoch_d10")
    # fastloss (and scikit-learn) read LINEAR_LR when they run; the reference took it at
    # import, so they now run another learning rate than the reference
    monkeypatch.setattr(cases, "LINEAR_LR", 2 * cases.LINEAR_LR)
    impls = case.setup(10000, np.dtype(dtype), np.random.default_rng(0))
    problems = timing.check_agreement(impls, np.dtype(dtype))
    assert sorted(p.split()[0] for p in problems) == sorted(set(impls) - {"numpy"})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family, case", [(f, c) for f, cs in cases.FAMILIES.items()
                                          for c in cs], ids=lambda x: getattr(x, "name", x))
def test_every_case_agrees_with_numpy(family, case, dtype):
    n = case.sizes_of([max(case.min_size, 1000)])[0]
    impls = case.setup(n, np.dtype(dtype), np.random.default_rng(0))
    assert {"fastloss", "numpy"} <= set(impls)
    assert set(impls) <= set(cases.IMPLEMENTATIONS)
    assert timing.check_agreement(impls, np.dtype(dtype)) == []


def test_select():
    assert [c.name for _, c in cases.select(["mse"])] == ["mse"]
    # an exact kernel name picks that kernel alone; other strings match as substrings
    assert [c.name for _, c in cases.select(["l1"])] == ["l1"]
    assert [c.name for _, c in cases.select(["_l1"])] == ["smooth_l1"]
    assert [c.name for _, c in cases.select(["losses.l1"])] == ["l1"]
    assert len(cases.select(["losses"])) == len(cases.FAMILIES["losses"])
    # the rows' cases (a row without any: one named after it), the many-array ones last
    bench = [c for row in RULES.values() for c in row.bench or (BenchCase(row.name),)]
    assert [c.name for _, c in cases.select(["optim"])] == (
        [c.name for c in bench if c.arrays == 1] + [c.name for c in bench if c.arrays > 1]
        + ["adafactor", "adafactor_foreach", "muon"])
    assert {"sgd_momentum", "adagrad", "adam", "adam_100_arrays"} <= {c.name for c in bench}
    assert [c.name for _, c in cases.select(["linear"])] == [
        "sgd_epoch_d10", "sgd_epoch_d100", "sgd_epoch_adam_d10", "sgd_epoch_momentum_d10",
        "sgd_epoch_adagrad_d10", "sgd_epoch_rmsprop_d10", "sgd_epoch_adam_b32_d10"] + (
        ["sgd_epoch_csr"] if find_spec("scipy") else [])
    assert [c.name for _, c in cases.select(["sgd_epoch_d10"])] == ["sgd_epoch_d10"]
    assert [c.name for _, c in cases.select(["linear.sgd_epoch_d10"])] == ["sgd_epoch_d10"]
    assert [c.name for _, c in cases.select(["sgd_epoch_d1"])] == [
        "sgd_epoch_d10", "sgd_epoch_d100"]
    assert len(cases.select(None)) == len(cases.all_case_names())
    with pytest.raises(ValueError, match="'zzz' matches no benchmark"):
        cases.select(["mse", "zzz"])


def test_a_case_of_one_size_runs_at_it_whatever_the_sizes():
    todo, skipped = runner.plan(["solvers"], [1000, 10**4, 10**6], ["float64"])
    assert [(c.name, n) for _, c, n, _ in todo] == [
        ("rosenbrock_100", 100), ("logistic_d20", 10**4), ("logistic_d20", 10**6)]
    assert skipped == ["solvers.logistic_d20 n=1e3 (needs n >= 10000)"]


def test_solver_counts_are_recorded_and_reported():
    pytest.importorskip("scipy")
    result = runner.run(sizes=[10**4], dtypes=["float64"], budget=0.001,
                        only=["logistic_d20"], peers=["scipy"])
    counted = {r["impl"]: r["counts"] for r in result["results"]}
    assert set(counted) == {"fastloss", "numpy", "scipy"}
    assert all(set(c) == {"nit", "nfev"} and c["nit"] > 0 for c in counted.values())
    line = report.counts_lines(result)[0]
    assert line.startswith("solvers.logistic_d20 n=1e4 float64: fastloss nit=")
    assert "counts per call:" in report.text_table(result)
    assert "Counts per call:" in report.markdown_table(result)
    # a family whose calls count nothing reports no counts
    plain = runner.run(sizes=[1000], dtypes=["float64"], budget=0.001, only=["mse"], peers=[])
    assert report.counts_lines(plain) == [] and "counts" not in report.text_table(plain)


def test_scipy_is_a_peer_the_run_can_leave_out():
    with peers.allowed([]):
        assert peers.scipy_optimize() is None
        impls = runner.implementations(cases.select(["rosenbrock_100"])[0][1], 100, "float64")
    assert set(impls) == {"fastloss", "numpy"}
    if peers.missing_peers(["scipy"]) == []:
        assert "scipy" in peers.peer_versions()


@pytest.mark.parametrize("n, text", [(1000, "1e3"), (10**6, "1e6"), (2 * 10**5, "2e5"),
                                     (2500, "2500"), (100, "100"), (1, "1")])
def test_format_size(n, text):
    assert report.format_size(n) == text


def test_run_restores_thread_settings():
    fastloss.set_num_threads(2)
    try:
        report = runner.run(sizes=[1000], dtypes=["float64"], threads=1, budget=0.001,
                            only=["mse"], peers=[])
        assert fastloss.get_num_threads() == (2 if fastloss.config()["openmp"] else 1)
    finally:
        fastloss.set_num_threads(None)
    assert peers._allowed_peers == frozenset(peers.PEERS)
    assert {r["impl"] for r in report["results"]} == {"fastloss", "numpy"}
    assert report["settings"]["threads"] == 1



# ---- bench.png -----------------------------------------------------------------------

def test_plot_styles_never_repeat_a_pair():
    labels = [f"family.kernel{i}" for i in range(70)]
    styles = plots.plot_styles(labels)
    assert len(set(styles.values())) == 70
    for a, b in zip(labels, labels[1:]):  # neighbours differ in colour and in marker
        assert styles[a][0] != styles[b][0] and styles[a][1] != styles[b][1]
    # today's kernels: the first ten have ten colours
    names = cases.all_case_names()
    assert len({plots.plot_styles(names)[n][0] for n in names[:10]}) == 10


def _synthetic_report(rng):
    """Every kernel at two sizes and two dtypes; torch times the losses and optimizer
    steps, scikit-learn three kernels, as a run with both peers does."""
    results = []
    names = cases.all_case_names()
    sk_kernels = {names[0], names[2], names[-1]}
    for label in names:
        family, kernel = label.split(".")
        impls = ["fastloss", "numpy"] + (["torch"] if family != "linear" else []) + (
            ["sklearn"] if label in sk_kernels else [])
        for dtype in ("float64", "float32"):
            for n in (100000, 1000):  # not in order: the lines are drawn by size
                for impl in impls:
                    results.append({"family": family, "kernel": kernel, "n": n,
                                    "dtype": dtype, "impl": impl, "unit": "per call",
                                    "median_s": float(rng.uniform(1e-6, 1e-3))})
    return {"settings": {"dtypes": ["float64", "float32"], "threads": 1},
            "versions": {"fastloss": fastloss.__version__, "torch": "2.13.0",
                         "sklearn": "1.5"},
            "results": results}, sk_kernels


def test_bench_figure_shows_numpy_and_the_peers_with_distinct_styles():
    pytest.importorskip("matplotlib")
    report, sk_kernels = _synthetic_report(np.random.default_rng(0))
    names = cases.all_case_names()
    medians = {(f"{r['family']}.{r['kernel']}", r["dtype"], r["n"], r["impl"]): r["median_s"]
               for r in report["results"]}
    fig = plots.figure(report)
    axes = np.array(fig.axes).reshape(3, 2)  # rows: numpy, torch, sklearn; columns: dtypes
    expected_labels = {"numpy": set(names), "sklearn": sk_kernels,
                       "torch": {n for n in names if not n.startswith("linear.")}}
    styles = {}
    for row, other in enumerate(["numpy", "torch", "sklearn"]):
        assert plots.PLOT_NAMES[other] in axes[row][0].get_ylabel()
        for col, dtype in enumerate(["float64", "float32"]):
            ax = axes[row][col]
            lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
            assert {line.get_label() for line in lines} == expected_labels[other]
            for line in lines:
                label = line.get_label()
                # the tables' "vs X": X's median over fastloss's, by increasing size
                assert list(line.get_xdata()) == [1000, 100000]
                np.testing.assert_allclose(line.get_ydata(), [
                    medians[(label, dtype, n, other)] / medians[(label, dtype, n, "fastloss")]
                    for n in (1000, 100000)])
                style = (line.get_color(), line.get_marker(), line.get_linestyle())
                assert styles.setdefault(label, style) == style  # the same in every panel
    assert len({style[:2] for style in styles.values()}) == len(names)  # (colour, marker)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == names
