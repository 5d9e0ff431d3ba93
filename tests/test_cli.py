"""The fastloss command: info, bench (tiny sizes and budgets), and its one-line errors."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastloss
from _support import assert_one_line_error, run_fastloss as run
from fastloss import bench, cli

# a tiny bench: one kernel, one size, 10 ms per case
TINY = ["--only", "mse", "--sizes", "1e3", "--budget", "0.01"]
# bench warns (rightly) when NumPy's BLAS may be multi-threaded unless this is set, or
# threadpoolctl is installed; tests that compare stderr exactly set it
QUIET_BLAS = {"OPENBLAS_NUM_THREADS": "1"}


# ---- info, version -------------------------------------------------------------------

def test_info_prints_show_config():
    proc = run("info")
    assert proc.returncode == 0, proc.stderr
    keys = [line.split(":", 1)[0].strip() for line in proc.stdout.splitlines()]
    assert keys == list(fastloss.config())
    assert f"fastloss            : {fastloss.__version__}" in proc.stdout


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"fastloss {fastloss.__version__}"


def test_import_loads_no_optional_dependency():
    # `import fastloss` and the command's parser stay light: peers load only when used
    code = ("import sys, fastloss, fastloss.cli; fastloss.cli.build_parser(); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'sklearn', 'scipy', 'matplotlib', 'threadpoolctl'}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_importing_main_runs_nothing():
    # python -m fastloss runs the command; importing fastloss.__main__ (pydoc, sphinx,
    # a test collector) must neither exit nor print
    code = "import fastloss.__main__; print('still here')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "still here\n", "")


def test_console_script():
    script = shutil.which("fastloss", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the fastloss console script is not installed next to this Python")
    proc = subprocess.run([script, "info"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "fastloss" in proc.stdout


def test_bench_list():
    proc = run("bench", "--list")
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == bench.all_case_names()
    assert "losses.cross_entropy_c1000" in names
    assert {"optim.sgd_momentum", "optim.adam", "optim.adamw", "linear.sgd_epoch_d10",
            "linear.sgd_epoch_d100", "linear.sgd_epoch_adam_d10"} <= set(names)
    assert "per sample" in proc.stdout  # the linear lines say what their times are per


# ---- bench ---------------------------------------------------------------------------

RESULT_KEYS = {"family", "kernel", "n", "dtype", "impl", "median_s", "min_s", "rounds",
               "speedup_vs_numpy"}


def test_bench_writes_json_md_and_plot(tmp_path):
    out = tmp_path / "new" / "dir"  # created on demand
    proc = run("bench", *TINY, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    # progress goes to stderr, one line per case when stderr is not a terminal
    assert "[1/2] losses.mse n=1e3 float64" in proc.stderr
    assert "[2/2] losses.mse n=1e3 float32" in proc.stderr

    report = json.loads((out / "bench.json").read_text())
    assert report["schema"] == 1
    assert {"platform", "cpu", "cores"} <= set(report["machine"])
    assert report["versions"]["fastloss"] == fastloss.__version__
    assert report["versions"]["numpy"] == np.__version__
    assert set(report["build"]) == set(fastloss.config())
    assert report["build"]["fastloss"] == fastloss.__version__
    settings = report["settings"]
    assert settings["sizes"] == [1000] and settings["dtypes"] == ["float64", "float32"]
    assert settings["threads"] == 1 and settings["budget_s"] == 0.01
    assert settings["only"] == ["mse"]
    assert report["warnings"] == []  # every implementation computed the same value

    results = report["results"]
    assert all(set(r) >= RESULT_KEYS for r in results)
    assert {(r["kernel"], r["n"]) for r in results} == {("mse", 1000)}
    for dtype in ("float64", "float32"):
        impls = {r["impl"]: r for r in results if r["dtype"] == dtype}
        assert {"fastloss", "numpy"} <= set(impls)
        assert impls["numpy"]["speedup_vs_numpy"] == 1.0
        fast = impls["fastloss"]
        assert fast["speedup_vs_numpy"] == pytest.approx(
            impls["numpy"]["median_s"] / fast["median_s"])
        for r in impls.values():
            assert 0 < r["min_s"] <= r["median_s"]
            assert r["rounds"] >= bench.timing.MIN_ROUNDS

    md = (out / "bench.md").read_text()
    assert md.startswith("| kernel | n | dtype | fastloss | numpy |")
    assert "| mse | 1e3 | float64 |" in md and "| mse | 1e3 | float32 |" in md
    assert "vs numpy" in md and "one thread" in md

    # the table on stdout
    assert "vs numpy" in proc.stdout and "mse" in proc.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib, which is not installed" in proc.stderr
        assert not (out / "bench.png").exists()
    else:
        assert (out / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_quiet_no_plot_one_dtype(tmp_path):
    proc = run("bench", "--only", "mse,kl", "--sizes", "1e3,2000", "--budget", "0.01",
               "--dtype", "float32", "--quiet", "--no-plot", "--peers", "none",
               "--out", str(tmp_path), env=QUIET_BLAS)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "note: bench.png not written (--no-plot)\n"  # no progress bar
    assert "bench.png" not in proc.stdout
    assert not (tmp_path / "bench.png").exists()
    report = json.loads((tmp_path / "bench.json").read_text())
    assert {(r["kernel"], r["n"], r["dtype"], r["impl"]) for r in report["results"]} == {
        (k, n, "float32", impl) for k in ("mse", "kl_div") for n in (1000, 2000)
        for impl in ("fastloss", "numpy")}
    assert report["settings"]["peers"] == []
    assert set(report["versions"]) == {"python", "numpy", "fastloss"}


def test_bench_without_matplotlib(tmp_path):
    args = ["bench", *TINY, "--dtype", "float64", "--quiet", "--peers", "none",
            "--out", str(tmp_path)]
    code = ("import sys; sys.modules['matplotlib'] = None; from fastloss.cli import main; "
            f"sys.exit(main({args!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **QUIET_BLAS})
    assert proc.returncode == 0, proc.stderr
    # a note on stderr saying how to get the plot; the results are still written
    assert proc.stderr == ("note: bench.png skipped: it needs matplotlib, which is not "
                           "installed (pip install matplotlib)\n")
    assert "pip install" not in proc.stdout and "note:" not in proc.stdout
    assert (tmp_path / "bench.json").exists() and not (tmp_path / "bench.png").exists()


def test_bench_warnings_go_to_stderr(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bench.timing, "check_agreement", lambda impls, dtype: ["numpy differs"])
    assert cli.main(["bench", *TINY, "--dtype", "float64", "--quiet", "--no-plot",
                     "--peers", "none", "--out", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "warning: losses.mse n=1e3 float64: numpy differs\n" in err
    assert "warning:" not in out and "note:" not in out
    assert out.splitlines()[0].split()[:3] == ["kernel", "n", "dtype"]


@pytest.mark.parametrize("family, args", [
    # torch's import alone takes seconds: the optimizer setups with torch are checked in
    # process by test_every_case_agrees_with_numpy
    ("optim", ["--sizes", "1e3", "--dtype", "float32", "--peers", "none"]),
    ("linear", ["--sizes", "1e4,3e4", "--dtype", "float64"]),
])
def test_bench_new_families_write_json(family, args, tmp_path):
    proc = run("bench", "--only", family, "--budget", "0.01", "--quiet", "--no-plot",
               "--out", str(tmp_path), *args)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["warnings"] == []
    results = report["results"]
    assert all(set(r) >= RESULT_KEYS | {"unit", "units_per_call"} for r in results)
    kernels = {c.name for c in bench.FAMILIES[family]}
    assert {r["kernel"] for r in results} == kernels
    assert {r["family"] for r in results} == {family}
    md = (tmp_path / "bench.md").read_text()
    if family == "optim":
        assert {r["unit"] for r in results} == {"per call"}
        assert all(r["units_per_call"] == 1 for r in results)
        assert md.startswith("| kernel | n | dtype | fastloss | numpy |")
        assert "optimizer step" in md
        return
    # linear: every time per sample; the reference loop runs on at most 2000 samples
    assert {r["unit"] for r in results} == {"per sample"}
    for r in results:
        d = (100 if r["kernel"].endswith("d100") else bench.cases.CSR_ROW_NNZ
             if r["kernel"] == "sgd_epoch_csr" else 10)  # per row: features, or entries
        samples = r["n"] // d
        expected = min(samples, bench.cases.LINEAR_REFERENCE_SAMPLES) if r["impl"] == "numpy" \
            else samples
        assert r["units_per_call"] == expected, r
    by_impl = {(r["kernel"], r["n"], r["impl"]): r for r in results}
    fast = by_impl[("sgd_epoch_d10", 30000, "fastloss")]
    ref = by_impl[("sgd_epoch_d10", 30000, "numpy")]
    assert ref["units_per_call"] == 2000 and fast["units_per_call"] == 3000
    assert fast["speedup_vs_numpy"] == pytest.approx(ref["median_s"] / fast["median_s"])
    assert ("sgd_epoch_d100", 10000, "fastloss") in by_impl  # 100 samples of 100
    assert md.startswith("| kernel | n | dtype | per | fastloss | numpy |")
    assert "| sgd_epoch_d10 | 3e4 | float64 | sample |" in md
    assert proc.stdout.splitlines()[0].split()[:5] == ["kernel", "n", "dtype", "per",
                                                       "fastloss"]


# ---- errors: one line on stderr, non-zero exit, no traceback --------------------------

@pytest.mark.parametrize("args, message", [
    ([], "a command is required"),
    (["bogus"], "invalid choice"),
    (["bench", "--sizes", "1e3,abc"], "bad size 'abc'"),
    (["bench", "--sizes", "0"], "bad size '0'"),
    (["bench", "--sizes", "1.5"], "bad size '1.5'"),
    (["bench", "--sizes", "1e9"], "bad size '1e9'"),
    (["bench", "--sizes", ""], "bad size"),
    (["bench", "--dtype", "float16"], "invalid choice"),
    (["bench", "--threads", "0"], "--threads"),
    (["bench", "--budget", "-1"], "--budget"),
    (["bench", "--budget", "nan"], "--budget"),
    (["bench", "--only", "nosuchkernel"], "'nosuchkernel' matches no benchmark"),
    (["bench", "--only", ","], "--only"),
    (["bench", "--peers", "jax"], "unknown peer 'jax'"),
    (["bench", "--nosuchoption"], "unrecognized arguments"),
    (["bench", "--only", "cross_entropy_c1000", "--sizes", "1e3"], "nothing to run"),
])
def test_usage_errors(args, message, capsys):
    # in process (fast); test_errors_in_a_subprocess checks the real command's exit
    try:
        code = cli.main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    line = assert_one_line_error(subprocess.CompletedProcess(args, code, out, err))
    assert message in line


@pytest.mark.parametrize("args", [
    [],
    ["bench", "--sizes", "1e3,abc"],
    ["bench", "--only", "nosuchkernel"],
    ["bench", "--only", "cross_entropy_c1000", "--sizes", "1e3"],
])
def test_errors_in_a_subprocess(args, tmp_path):
    out = tmp_path / "out"
    proc = run(*args, "--out", str(out)) if args else run()
    assert_one_line_error(proc)
    assert proc.returncode == (1 if "--only" in args else 2)
    assert not out.exists()  # nothing created


@pytest.mark.parametrize("peer, package", [("torch", "torch==2.13.0"),
                                           ("sklearn", "scikit-learn")])
def test_missing_peer_is_one_line(peer, package, tmp_path):
    # hide the peer whether or not it is installed here
    module = "torch" if peer == "torch" else "sklearn"
    code = (f"import sys; sys.modules[{module!r}] = None; from fastloss.cli import main; "
            f"sys.exit(main({['bench', *TINY, '--peers', peer, '--out', str(tmp_path)]!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    line = assert_one_line_error(proc)
    assert f"{peer} is not installed (pip install {package})" in line
    assert list(tmp_path.iterdir()) == []


def test_out_is_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    line = assert_one_line_error(run("bench", *TINY, "--out", str(target)))
    assert "--out" in line and "not a directory" in line
    assert target.read_text() == "x"


def test_out_below_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    line = assert_one_line_error(run("bench", *TINY, "--out", str(target / "sub")))
    assert "--out" in line and "cannot write" in line


def test_missing_optional_dependency_is_one_line(monkeypatch, capsys):
    def needs_sklearn(args):
        raise ImportError("this needs scikit-learn, which is not installed:\n"
                          "pip install scikit-learn")

    monkeypatch.setattr(cli, "_info_command", needs_sklearn)
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert err == ("fastloss info: error: this needs scikit-learn, which is not installed: "
                   "pip install scikit-learn\n")


def test_unexpected_error_is_one_line(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "_info_command", broken)
    monkeypatch.delenv("FASTLOSS_DEBUG", raising=False)
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: boom" in err and "FASTLOSS_DEBUG" in err
    monkeypatch.setenv("FASTLOSS_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["info"])
