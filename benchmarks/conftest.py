"""Benchmarks run single-threaded (fastloss, torch, and NumPy's BLAS when threadpoolctl is
installed), as ``fastloss bench`` does by default; see README for the speed tables."""

import pytest
from _support import single_thread_blas

import fastloss


@pytest.fixture(autouse=True, scope="session")
def _single_thread_blas():
    with single_thread_blas():
        yield


@pytest.fixture(autouse=True)
def _single_thread():
    fastloss.set_num_threads(1)
    yield
    fastloss.set_num_threads(None)  # back to the default
