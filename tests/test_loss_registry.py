"""The loss registry (fastloss.losses._registry.LOSSES) against what it describes: the C
kernels' list, the public functions, the reference and the parameter checks."""

import inspect

import numpy as np
import pytest

import fastloss
from fastloss import _losses, losses, reference
from fastloss.losses import _KERNEL_CODES
from fastloss.losses._registry import LOSSES, PUBLIC_NAMES
from fastloss.reference import losses as reference_losses

ROWS = list(LOSSES.values())


def test_public_names_are_the_registry_in_order():
    assert losses.__all__ == PUBLIC_NAMES
    assert reference_losses.__all__ == PUBLIC_NAMES
    assert set(PUBLIC_NAMES) <= set(fastloss.__all__)
    assert len(set(PUBLIC_NAMES)) == 3 * len(ROWS)


@pytest.mark.parametrize("module", [losses, reference_losses, fastloss, reference],
                         ids=lambda m: m.__name__)
def test_every_registered_function_exists(module):
    for name in PUBLIC_NAMES:
        assert callable(getattr(module, name)), (module.__name__, name)


def test_registry_kernels_are_the_c_list():
    """Every C elementwise kernel is run by exactly one row; rows name only real kernels."""
    used = [k for row in ROWS for k in row.kernels.values()]
    assert sorted(set(used)) == sorted(_KERNEL_CODES)
    # a kernel may serve two rows' variants (smooth_l1's beta=0 is l1) but every one is run
    assert sorted(_KERNEL_CODES.values()) == list(range(len(_KERNEL_CODES)))
    for row in ROWS:
        assert (row.kind == "elementwise") == bool(row.kernels), row.name
        assert "" in row.kernels or row.kind == "rows", row.name


def _parameters(fn):
    return inspect.signature(fn).parameters


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_signatures_follow_the_row(row):
    """The row's scalar parameters and weights, with its defaults, in every public form and in
    the reference; the gradient forms add ``out``."""
    for form, fn in zip(("value", "grad", "both"), (getattr(losses, f) for f in row.functions)):
        params = _parameters(fn)
        for p in row.params:
            assert params[p.name].default == p.default, (fn.__name__, p.name)
        for w in row.weights:
            assert params[w].default is None, (fn.__name__, w)
        assert params["reduction"].default == "mean"
        assert ("out" in params) == (form != "value"), fn.__name__
        names = set(params) - {"input", "target", "reduction", "out", "n_threads"}
        assert names == {p.name for p in row.params} | set(row.weights), fn.__name__
    ref = _parameters(getattr(reference_losses, row.name))
    assert {p.name: ref[p.name].default for p in row.params} == row.defaults()


def _call(row, **kwargs):
    x, y = row.data(np.random.default_rng(0), (4, 3), np.float64)
    return getattr(fastloss, row.name)(x, y, **kwargs)


PARAM_CASES = [(row, p) for row in ROWS for p in row.params]


@pytest.mark.parametrize("row, param", PARAM_CASES, ids=lambda v: getattr(v, "name", ""))
def test_parameter_constraints_are_enforced(row, param):
    """Each parameter is checked by its row's constraint, with its name in the message."""
    if param.constraint == "flag":
        bad = [(1, TypeError), ("yes", TypeError)]
    elif param.constraint == "int64":
        bad = [(1.5, TypeError), (2**63, ValueError)]
    else:
        c = param.constraint
        below = c.lo if not c.lo_closed else np.nextafter(c.lo, -np.inf)
        above = c.hi if not c.hi_closed else np.nextafter(c.hi, np.inf)
        bad = [(below, ValueError), (np.nan, ValueError), ("1", TypeError), (None, TypeError)]
        if np.isfinite(c.hi):
            bad.append((above, ValueError))
    for value, error in bad:
        with pytest.raises(error, match=param.name):
            _call(row, **{param.name: value})
    _call(row, **{param.name: param.default})  # the default is valid


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_reductions_are_the_rows(row):
    for reduction in row.reductions:
        _call(row, reduction=reduction)
    with pytest.raises(ValueError, match="reduction"):
        _call(row, reduction="batchmean" if "batchmean" not in row.reductions else "avg")


def test_kernel_codes_run_the_named_kernel():
    """The code each kernel name maps to computes that loss (not a neighbour in the enum)."""
    x = np.array([0.3, -1.7, 2.5])
    y = np.array([0.1, 0.4, 0.9])
    for row in ROWS:
        for variant, kernel in row.kernels.items():
            kwargs = {"log_target": True} if variant == "log_target" else (
                {"beta": 0.0} if variant == "beta=0" else {})
            xv = np.clip(x, 0, 1) if row.input_range is not None else x
            want = getattr(reference, row.name)(xv, y, reduction="sum", **kwargs)
            got = _losses.elementwise(_KERNEL_CODES[kernel], xv, y, None, None,
                                      kwargs.get("beta", 1.0), 1.0, None, None,
                                      _losses.WANT_SUM, 1)
            assert got == pytest.approx(float(want), rel=1e-12), (row.name, kernel)
