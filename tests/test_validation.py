"""The constraint vocabulary every module checks its scalar arguments with."""

import fractions
import math

import numpy as np
import pytest

from fastloss._validation import (NON_NEGATIVE, POSITIVE, REAL, UNIT, UNIT_OPEN, check_choice,
                                  check_flag, check_int, check_pair, check_real)


@pytest.mark.parametrize("interval, inside, outside", [
    (REAL, [-1e300, 0.0, 5], [math.inf, -math.inf, math.nan]),
    (NON_NEGATIVE, [0, 0.0, 1e300], [-1e-300, -1, math.inf, math.nan]),
    (POSITIVE, [5e-324, 1], [0.0, -0.0, -1, math.inf]),
    (UNIT, [0.0, 1.0, 0.5], [-1e-300, np.nextafter(1.0, 2.0), math.nan]),
    (UNIT_OPEN, [0.0, np.nextafter(1.0, 0.0)], [1.0, -1e-300]),
])
def test_check_real_intervals(interval, inside, outside):
    for v in inside:
        got = check_real(v, "lr", interval)
        assert type(got) is float and got == float(v)
    for v in outside:
        with pytest.raises(ValueError, match=rf"^lr must be finite and in {interval}".replace(
                "[", r"\[").replace("(", r"\(").replace(")", r"\)")):
            check_real(v, "lr", interval)


def test_check_real_types():
    for v in [np.float32(0.5), np.int64(3), fractions.Fraction(1, 4), 10**400 // 10**399]:
        assert check_real(v, "x", NON_NEGATIVE) == float(v)
    for v in ["1", b"1", None, True, np.bool_(True), np.array(1.0), [1.0], 1j]:
        with pytest.raises(TypeError, match=r"^x must be a real number, got "):
            check_real(v, "x")
    with pytest.raises(ValueError, match="x must be finite"):  # beyond float range
        check_real(10**400, "x")
    assert str(UNIT) == "[0, 1]" and str(UNIT_OPEN) == "[0, 1)" and str(POSITIVE) == "(0, inf)"


def test_check_int():
    assert check_int(np.int64(3), "n", 1) == 3 and check_int(0, "n", 0, 0) == 0
    for v, error in [(0, ValueError), (11, ValueError), (2.0, TypeError), (True, TypeError),
                     ("3", TypeError), (None, TypeError)]:
        with pytest.raises(error, match="^n must be an int"):
            check_int(v, "n", 1, 10)
    with pytest.raises(ValueError, match=r"in \[1, inf\), got -5"):
        check_int(-5, "n", 1)


def test_check_flag_choice_pair():
    assert check_flag(np.bool_(True), "f") is True and check_flag(False, "f") is False
    for v in [1, 0, "yes", None]:
        with pytest.raises(TypeError, match="^f must be a bool, got"):
            check_flag(v, "f")
    assert check_choice("sgd", "optimizer", ("sgd", "adam")) == "sgd"
    for v in ["lbfgs", ["sgd"], None]:
        with pytest.raises(ValueError, match=r"^optimizer must be one of \('sgd', 'adam'\)"):
            check_choice(v, "optimizer", ("sgd", "adam"))
    assert check_pair([0.9, np.float32(0.5)], "betas", UNIT_OPEN) == (0.9, 0.5)
    with pytest.raises(ValueError, match=r"betas\[1\] must be finite and in \[0, 1\)"):
        check_pair((0.9, 1.0), "betas", UNIT_OPEN)
    for v in [0.9, (0.9,), (0.1, 0.2, 0.3), None]:
        with pytest.raises(TypeError, match="betas must be a pair of real numbers"):
            check_pair(v, "betas", UNIT_OPEN)
