"""Shared fixtures for the fastloss test suite; helpers live in _support.py.

Hypothesis draws the same examples on every run (``derandomize``): a failure is then
reproducible and CI does not fail at random on an example no earlier run drew. Set
``FASTLOSS_HYPOTHESIS=explore`` to draw fresh random examples instead (to look for new
failures)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from _support import DTYPES

try:
    from hypothesis import settings
except ImportError:  # the test extra not installed: the property tests cannot run anyway
    pass
else:
    settings.register_profile("deterministic", derandomize=True)
    settings.register_profile("explore", derandomize=False)
    settings.load_profile("explore" if os.environ.get("FASTLOSS_HYPOTHESIS") == "explore"
                          else "deterministic")


@pytest.fixture(params=DTYPES, ids=lambda d: np.dtype(d).name)
def dtype(request: Any) -> np.dtype:
    """float32 and float64."""
    return np.dtype(request.param)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture
def rng64():
    return np.random.default_rng(7)
