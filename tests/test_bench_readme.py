"""fastloss.bench.readme: the README's and docs/benchmarks.md's speed tables are what the
generator writes from the committed bench.json files, and the digest's format."""

import json
from pathlib import Path

import pytest

from fastloss.bench import readme

ROOT = Path(__file__).resolve().parents[1]
RUNS = [ROOT / "docs" / "bench" / name for name in ("full-run.json", "models-run.json",
                                                    "solvers-run.json")]


def _result(family, kernel, n, dtype, impl, median_s, unit="per call"):
    return {"family": family, "kernel": kernel, "n": n, "dtype": dtype, "impl": impl,
            "unit": unit, "median_s": median_s}


def _report(results, dtypes=("float64", "float32")):
    return {"machine": {"cpu": "test CPU"}, "settings": {"dtypes": list(dtypes), "threads": 1},
            "versions": {"python": "3.11", "numpy": "2.0", "fastloss": "0.1.0"},
            "results": results}


def test_committed_tables_are_the_generators():
    reports = [readme.load(str(p)) for p in RUNS]
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.rewrite(text, "digest", readme.digest_table(reports)) == text
    docs = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert readme.rewrite(docs, "full", readme.full_table(reports[0])) == docs


def test_digest_rows_ratios_and_later_runs():
    first = _report([
        _result("losses", "mse", 10**6, "float64", "fastloss", 1e-3),
        _result("losses", "mse", 10**6, "float64", "numpy", 4e-3),
        _result("losses", "mse", 10**6, "float64", "torch", 2.5e-3),
        _result("losses", "mse", 10**3, "float64", "fastloss", 1e-6),  # not a digest size
        _result("losses", "mse", 10**3, "float64", "numpy", 3e-6),
        _result("losses", "kl_div", 10**6, "float64", "fastloss", 2e-3),
        _result("losses", "kl_div", 10**6, "float64", "numpy", 3e-3),
        _result("optim", "adam", 10**3, "float32", "fastloss", 5e-7),
        _result("optim", "adam", 10**3, "float32", "numpy", 5e-6),
        _result("linear", "sgd_epoch_d10", 10**6, "float64", "fastloss", 1.2e-8, "per sample"),
        _result("linear", "sgd_epoch_d10", 10**6, "float64", "numpy", 6e-6, "per sample"),
        _result("linear", "sgd_epoch_d10", 10**6, "float64", "sklearn", 3.6e-8, "per sample"),
    ])
    later = _report([_result("losses", "kl_div", 10**6, "float64", "fastloss", 1e-3),
                     _result("losses", "kl_div", 10**6, "float64", "numpy", 5e-3)],
                    dtypes=("float64",))
    assert readme.digest_table([first, later]).splitlines() == [
        "| kernel (n) | fastloss f64 | vs numpy | vs peers | fastloss f32 | vs numpy | vs peers |",
        "|---|---|---|---|---|---|---|",
        "| mse_loss (10^6) | 1.00 ms | 4.0x | torch 2.5x | - | - | - |",
        "| kl_div (10^6) * | 1.00 ms | 5.0x | - | - | - | - |",
        "| adam step (10^3) | - | - | - | 500 ns | 10.0x | - |",
        "| sgd_epoch, d=10 (n = 10^6, per sample) | 12 ns | 500.0x | sklearn 3.0x "
        "| - | - | - |",
    ]


def test_digest_shows_each_model_case_at_its_own_problem_size():
    """models/solvers cases are the issue's problems: each row at its size, not every size
    the run had."""
    results = []
    for n in (160_000, 5 * 10**6):
        for kernel in ("objective_softmax_d50_c10", "objective_squared_error_d8"):
            results += [_result("models", kernel, n, "float64", "fastloss", 1e-3),
                        _result("models", kernel, n, "float64", "sklearn", 4e-3)]
    results += [_result("solvers", "rosenbrock_100", 100, "float64", "fastloss", 2e-2),
                _result("solvers", "rosenbrock_100", 100, "float64", "scipy", 3e-2)]
    rows = readme.digest_table([_report(results, dtypes=("float64",))]).splitlines()[2:]
    assert rows == [
        "| objective softmax, d=50, C=10 (5e6) | 1.00 ms | - | sklearn 4.0x |",
        "| objective squared_error, d=8 (160000) | 1.00 ms | - | sklearn 4.0x |",
        "| L-BFGS, Rosenbrock n=100 (100) | 20.00 ms | - | scipy 1.5x |",
    ]


def test_rewrite_replaces_only_the_section():
    text = "intro\n<!-- bench:digest -->\nold\n<!-- /bench -->\nafter\n<!-- /bench -->\n"
    assert readme.rewrite(text, "digest", "new\n") == (
        "intro\n<!-- bench:digest -->\nnew\n<!-- /bench -->\nafter\n<!-- /bench -->\n")
    with pytest.raises(ValueError, match="no <!-- bench:full -->"):
        readme.rewrite(text, "full", "new\n")


def test_load_names_the_file_and_the_missing_key(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(_report([{"family": "losses", "kernel": "mse"}])))
    with pytest.raises(ValueError, match=r"bench.json: not a bench.json: no 'dtype', "):
        readme.load(str(path))
    path.write_text("{")
    with pytest.raises(ValueError, match="not a readable bench.json"):
        readme.load(str(path))


def test_main_checks_then_rewrites(tmp_path, capsys):
    run = tmp_path / "run.json"
    run.write_text(json.dumps(_report([_result("losses", "mse", 10**6, "float64", "fastloss", 1e-3),
                                       _result("losses", "mse", 10**6, "float64", "numpy", 2e-3)])))
    doc = tmp_path / "README.md"
    full = tmp_path / "benchmarks.md"
    doc.write_text("a\n<!-- bench:digest -->\nstale\n<!-- /bench -->\nb\n")
    full.write_text("<!-- bench:full -->\n<!-- /bench -->\n")
    args = [str(run), "--readme", str(doc), "--docs", str(full)]
    assert readme.main([*args, "--check"]) == 1
    assert "stale" in doc.read_text()  # --check writes nothing
    assert readme.main(args) == 0
    assert "| mse_loss (10^6) | 1.00 ms | 2.0x | - |" in doc.read_text()
    assert doc.read_text().endswith("<!-- /bench -->\nb\n")
    assert "| mse | 1e6 | float64 | 1.00 ms | 2.00 ms | 2.00x |" in full.read_text()
    assert readme.main([*args, "--check"]) == 0
    capsys.readouterr()
    assert readme.main([str(tmp_path / "none.json"), "--readme", str(doc)]) == 1
    assert "none.json: not a readable bench.json" in capsys.readouterr().err
