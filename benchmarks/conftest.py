"""Benchmarks run single-threaded; see README for the speedup-table command."""

import pytest

import fastloss


@pytest.fixture(autouse=True)
def _single_thread():
    fastloss.set_num_threads(1)
    yield
    fastloss.set_num_threads(None)  # back to the default
