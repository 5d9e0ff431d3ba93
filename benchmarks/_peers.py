"""Sizes, dtypes and the optional peers (torch, scikit-learn) the benchmarks compare with.

Sizes default to 10^3, 10^5 and 10^6 elements; set FASTLOSS_BENCH_LARGE=1 to add 10^7.
"""

import os

import pytest

SIZES = [10**3, 10**5, 10**6] + ([10**7] if os.environ.get("FASTLOSS_BENCH_LARGE") else [])
DTYPES = ["float64", "float32"]


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # single-thread comparisons
    return torch


def _sklearn_loss():
    try:
        from sklearn._loss import loss
    except ImportError:
        return None
    return loss


TORCH = _torch()
SKLEARN_LOSS = _sklearn_loss()


def skip_unless(available, name):
    if not available:
        pytest.skip(f"{name} is not installed")
