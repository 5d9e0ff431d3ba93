"""Package metadata, the build report and the thread defaults."""

from __future__ import annotations

import importlib.metadata
import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import fastloss

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
LICENSE = PYPROJECT.parent / "LICENSE"
CONFIG_KEYS = {"fastloss", "compiler", "c_flags", "openmp", "simd_paths", "default_threads"}


@pytest.fixture
def restore_threads():
    yield
    fastloss.set_num_threads(None)


def _pyproject_version() -> str:
    """The version pyproject.toml declares: static, or scikit-build-core's regex provider."""
    text = PYPROJECT.read_text()
    if sys.version_info < (3, 11):  # pragma: no cover
        pytest.skip("tomllib needs Python 3.11")
    import tomllib
    meta = tomllib.loads(text)
    project = meta["project"]
    if "version" in project:
        return project["version"]
    assert "version" in project.get("dynamic", [])
    version_meta = meta["tool"]["scikit-build"]["metadata"]["version"]
    assert version_meta["provider"] == "scikit_build_core.metadata.regex"
    source = (PYPROJECT.parent / version_meta["input"]).read_text()
    regex = version_meta.get(
        "regex", r"""(?i)^(__version__|VERSION)(?: ?\: ?str)? *= *([\'"])v?(?P<value>.+?)\2""")
    match = re.search(regex, source, re.MULTILINE)
    assert match, source
    return match.group("value")


def test_version_matches_pyproject():
    assert isinstance(fastloss.__version__, str)
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", fastloss.__version__)
    assert fastloss.__version__ == _pyproject_version()


def test_installed_distribution_ships_the_license():
    """The metadata names the license (PEP 639: expression and file) and the .dist-info holds
    the repository's LICENSE, in the wheel and in an editable install alike."""
    dist = importlib.metadata.distribution("fastloss")
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"
    assert dist.metadata.get_all("License-File") == ["LICENSE"]
    shipped = [f for f in dist.files or () if f.parts[-2:] == ("licenses", "LICENSE")]
    assert len(shipped) == 1, dist.files
    assert shipped[0].read_text(encoding="utf-8") == LICENSE.read_text(encoding="utf-8")
    assert "Copyright (c) 2026, the fastloss developers" in LICENSE.read_text(encoding="utf-8")


def test_show_config_prints_every_fact(capsys):
    fastloss.show_config()
    printed = capsys.readouterr().out
    facts = {}
    for line in printed.splitlines():
        key, sep, value = line.partition(" : ")
        assert sep, line
        facts[key.strip()] = value
    assert CONFIG_KEYS <= set(facts)
    assert facts["fastloss"] == fastloss.__version__
    assert facts["default_threads"] == str(fastloss.get_num_threads())
    assert facts["openmp"] in ("True", "False")
    assert facts["compiler"] and facts["simd_paths"]


def test_show_config_to_a_file():
    buf = io.StringIO()
    fastloss.show_config(file=buf)
    assert buf.getvalue().count("\n") == len(fastloss.config())


def test_config_dict():
    cfg = fastloss.config()
    assert isinstance(cfg, dict)
    assert CONFIG_KEYS <= set(cfg)
    assert cfg["fastloss"] == fastloss.__version__
    assert cfg["numpy"] == np.__version__
    assert isinstance(cfg["openmp"], bool)
    assert isinstance(cfg["compiler"], str) and cfg["compiler"]
    assert isinstance(cfg["c_flags"], str)
    assert isinstance(cfg["simd_paths"], str) and cfg["simd_paths"]
    assert cfg["default_threads"] == fastloss.get_num_threads()
    assert cfg["threading_threshold"] == fastloss.THREADING_THRESHOLD == 1 << 19


def test_set_num_threads_round_trip(restore_threads):
    openmp = fastloss.config()["openmp"]
    default = fastloss.get_num_threads()
    assert isinstance(default, int) and default >= 1
    fastloss.set_num_threads(3)
    assert fastloss.get_num_threads() == (3 if openmp else 1)
    assert fastloss.config()["default_threads"] == fastloss.get_num_threads()
    fastloss.set_num_threads(np.int64(2))  # any integer type
    assert fastloss.get_num_threads() == (2 if openmp else 1)
    fastloss.set_num_threads(None)
    assert fastloss.get_num_threads() == default


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), ("2", TypeError),
                                        (2.0, TypeError), (True, TypeError)])
def test_set_num_threads_validates(bad, error, restore_threads):
    fastloss.set_num_threads(2)
    before = fastloss.get_num_threads()
    with pytest.raises(error, match="n_threads"):
        fastloss.set_num_threads(bad)
    assert fastloss.get_num_threads() == before  # unchanged by the failed call


def test_omp_num_threads_is_the_default(monkeypatch, restore_threads):
    if not fastloss.config()["openmp"]:
        pytest.skip("built without OpenMP: always one thread")
    fastloss.set_num_threads(None)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert fastloss.get_num_threads() == 3
    fastloss.set_num_threads(5)  # an explicit setting wins over the environment
    assert fastloss.get_num_threads() == 5


def test_set_num_threads_is_used_above_the_threshold(restore_threads):
    """A call without n_threads= uses the configured count: same bits as passing it."""
    rng = np.random.default_rng(5)
    n = fastloss.THREADING_THRESHOLD + 12_345
    x, y = rng.normal(size=n), rng.normal(size=n)
    fastloss.set_num_threads(1)
    assert fastloss.mse_loss(x, y).tobytes() == fastloss.mse_loss(x, y, n_threads=1).tobytes()
    fastloss.set_num_threads(2)
    assert fastloss.mse_loss(x, y).tobytes() == fastloss.mse_loss(x, y, n_threads=2).tobytes()
