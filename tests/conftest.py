"""Shared fixtures for the fastloss test suite; helpers live in _support.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _support import DTYPES


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
