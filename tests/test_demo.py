"""`fastloss demo housing|iris` (fastloss._demo and its CLI command)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fastloss
from _support import assert_one_line_error, housing_csv, run_fastloss
from fastloss import _demo
from fastloss.models import OPTIMIZERS


def run(*args):
    return run_fastloss("demo", *args, timeout=300)


class ScriptedTimer:
    """A fake ``timer``: each fit (two calls) lasts the next of ``durations``; records the
    backend each fit ran on."""

    def __init__(self, durations):
        self.durations = iter(durations)
        self.now = 0.0
        self.backends = []
        self.started = False

    def __call__(self):
        if self.started:
            self.now += next(self.durations)
        else:
            self.backends.append(fastloss.get_backend())
        self.started = not self.started
        return self.now


def test_times_are_medians_of_interleaved_fits_after_a_warm_up():
    pytest.importorskip("sklearn")
    # per optimizer: the warm-up fits (c, numpy), then c, numpy, c, numpy, c, numpy
    warm_up = [1000.0, 1000.0]
    fits = [1.0, 12.0, 4.0, 20.0, 2.0, 11.0]
    timer = ScriptedTimer((warm_up + fits) * 2)
    result = _demo.run("iris", optimizers=("sgd", "cg"), repeats=3, timer=timer)
    assert timer.backends == ["c", "numpy"] * 4 * 2
    assert result.repeats == 3
    for row in result.rows:
        assert row.times == [1.0, 4.0, 2.0] and row.times_numpy == [12.0, 20.0, 11.0]
        assert (row.seconds, row.seconds_numpy) == (2.0, 12.0)
        # the ratio of the medians, not the median of the ratios (12, 5, 5.5)
        assert row.speedup == 6.0
    table = _demo.format_table(result)
    assert table.count("| 2.000 | 12.000 | 6.0x |") == 2
    assert "median of 3 fits per backend, interleaved" in table


def test_run_rejects_bad_repeats():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="repeats must be a positive int"):
            _demo.run("iris", repeats=bad)


def test_iris_every_optimizer_beats_the_baseline_on_both_backends():
    pytest.importorskip("sklearn")
    result = _demo.run("iris", repeats=1)
    assert [r.optimizer for r in result.rows] == list(OPTIMIZERS)
    assert result.n_train + result.n_test == 150
    for row in result.rows:
        assert row.metric >= 0.9, row
        assert row.seconds > 0 and row.seconds_numpy > 0
        assert row.loss_curve and row.loss_curve[-1] == row.final_loss
        assert row.epochs >= 1


def test_housing_reaches_least_squares_r2():
    """Every optimizer of the housing demo, with its settings, within 0.005 of least squares'
    test R^2. The fits the demo's table reports (its quality columns come from the compiled
    backend's fit), without its timed rounds: the NumPy backend's per-sample epochs take
    about a minute for all of them (the iris tests run the whole table)."""
    model_cls, X_tr, X_te, y_tr, y_te, _, baseline = _demo._problem("housing",
                                                                    str(housing_csv()))
    for optimizer in _demo.OPTIMIZERS:
        settings = dict(_demo.SETTINGS["housing"].get(optimizer, {}), optimizer=optimizer,
                        random_state=0)
        score = model_cls(**settings).fit(X_tr, y_tr).score(X_te, y_te)
        assert score >= baseline[1] - 0.005, (optimizer, score, baseline)


def test_cli_iris_table():
    pytest.importorskip("sklearn")
    proc = run("iris", "--optimizers", "adam,cg", "--repeats", "2", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("iris: 105 training / 45 test samples")
    rows = [line for line in lines if line.startswith("| adam") or line.startswith("| cg")]
    assert len(rows) == 2
    accuracy = float(rows[0].split("|")[3])
    assert 0.9 <= accuracy <= 1.0
    assert lines[-1].startswith("Times: median of 2 fits per backend")


def test_cli_plot_without_matplotlib_says_how_to_install(tmp_path):
    # matplotlib made unimportable; the check comes before the data is loaded
    argv = ["demo", "housing", "--data", str(tmp_path / "absent.csv"), "--plot",
            str(tmp_path / "curves.png")]
    code = ("import sys; sys.modules['matplotlib'] = None; from fastloss.cli import main; "
            f"sys.exit(main({argv!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    line = assert_one_line_error(proc)
    assert "--plot" in line and "matplotlib" in line and "pip install matplotlib" in line
    assert not (tmp_path / "curves.png").exists()


def test_cli_housing_with_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curves.png"
    proc = run("housing", "--data", str(housing_csv()), "--optimizers", "cg", "--repeats", "1",
               "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "training with cg" in proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| cg |" in proc.stdout


@pytest.mark.parametrize("args, text", [
    (["iris", "--optimizers", "newton"], "unknown optimizer"),
    (["iris", "--data", "x.csv"], "--data is only used by"),
    (["housing", "--data", "/nonexistent/housing.csv"], "not found"),
    (["housing", "--plot", "/nonexistent/dir/x.png", "--data", "x.csv"], "does not exist"),
])
def test_cli_errors_are_one_line(args, text):
    if "--plot" in args:
        pytest.importorskip("matplotlib")
    assert text in assert_one_line_error(run(*args))


def test_cli_unknown_demo_is_a_usage_error():
    proc = run("mnist")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("repeats", ["0", "two"])
def test_cli_bad_repeats_is_a_usage_error(repeats):
    proc = run("iris", "--repeats", repeats)
    assert proc.returncode == 2 and "--repeats" in assert_one_line_error(proc)


def test_run_rejects_unknown_optimizer_before_loading_data():
    with pytest.raises(ValueError, match="unknown 'newton'"):
        _demo.run("housing", data_path="/nonexistent.csv", optimizers=("adam", "newton"))
