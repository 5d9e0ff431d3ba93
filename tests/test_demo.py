"""`fastloss demo housing|iris` (fastloss._demo and its CLI command)."""

from __future__ import annotations

import pytest

from _support import HOUSING_CSV, assert_one_line_error, needs_housing, run_fastloss
from fastloss import _demo
from fastloss.models import OPTIMIZERS

def run(*args):
    return run_fastloss("demo", *args, timeout=300)


def test_iris_every_optimizer_beats_the_baseline_on_both_backends():
    pytest.importorskip("sklearn")
    result = _demo.run("iris")
    assert [r.optimizer for r in result.rows] == list(OPTIMIZERS)
    assert result.n_train + result.n_test == 150
    for row in result.rows:
        assert row.metric >= 0.9, row
        assert row.seconds > 0 and row.seconds_numpy > 0
        assert row.loss_curve and row.loss_curve[-1] == row.final_loss
        assert row.epochs >= 1


@needs_housing
def test_housing_reaches_least_squares_r2():
    result = _demo.run("housing", data_path=str(HOUSING_CSV))
    best = result.baseline[1]
    for row in result.rows:
        assert row.metric >= best - 0.005, row


def test_cli_iris_table():
    pytest.importorskip("sklearn")
    proc = run("iris", "--optimizers", "adam,cg", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("iris: 105 training / 45 test samples")
    rows = [line for line in lines if line.startswith("| adam") or line.startswith("| cg")]
    assert len(rows) == 2
    accuracy = float(rows[0].split("|")[3])
    assert 0.9 <= accuracy <= 1.0


@needs_housing
def test_cli_housing_with_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "curves.png"
    proc = run("housing", "--data", str(HOUSING_CSV), "--optimizers", "cg", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert "training with cg" in proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| cg |" in proc.stdout


@pytest.mark.parametrize("args, text", [
    (["iris", "--optimizers", "lbfgs"], "unknown optimizer"),
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


def test_run_rejects_unknown_optimizer_before_loading_data():
    with pytest.raises(ValueError, match="unknown 'lbfgs'"):
        _demo.run("housing", data_path="/nonexistent.csv", optimizers=("adam", "lbfgs"))
