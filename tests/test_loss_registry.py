"""The loss registry (fastloss.losses._registry.LOSSES) against what it describes: the C
kernels' list, the public functions, the reference and the parameter checks."""

import inspect

import numpy as np
import pytest

import fastloss
from fastloss import losses, reference
from fastloss._validation import Intervals
from fastloss.losses import ctc
from fastloss.losses._registry import LOSSES, PUBLIC_NAMES, Choice
from fastloss.reference import losses as reference_losses

ROWS = list(LOSSES.values())


def test_public_names_are_the_registry_in_order():
    assert losses.__all__ == PUBLIC_NAMES + ctc.__all__  # ctc: not a row (losses/ctc.py)
    assert reference_losses.__all__ == PUBLIC_NAMES
    assert set(PUBLIC_NAMES) <= set(fastloss.__all__)
    assert len(set(PUBLIC_NAMES)) == sum(3 + row.hessian for row in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_grad_hess_exists_exactly_for_the_rows_with_a_hessian(row):
    """``<name>_grad_hess`` is public where the row says ``hessian`` and nowhere else."""
    name = row.name + "_grad_hess"
    for module in (losses, reference_losses):
        assert hasattr(module, name) == row.hessian, (module.__name__, name)


@pytest.mark.parametrize("module", [losses, reference_losses, fastloss, reference],
                         ids=lambda m: m.__name__)
def test_every_registered_function_exists(module):
    for name in PUBLIC_NAMES:
        assert callable(getattr(module, name)), (module.__name__, name)


def _parameters(fn):
    return inspect.signature(fn).parameters


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_signatures_follow_the_row(row):
    """The row's scalar parameters and weights, with its defaults, in every public form and in
    the reference; the gradient forms add ``out``."""
    forms = ("value", "grad", "both", "grad_hess")
    for form, fn in zip(forms, (getattr(losses, f) for f in row.functions)):
        params = _parameters(fn)
        for p in row.params:
            assert params[p.name].default == p.default, (fn.__name__, p.name)
        for w in row.weights:
            assert params[w].default is None, (fn.__name__, w)
        assert params["reduction"].default == row.reductions[0]
        assert ("out" in params) == (form != "value"), fn.__name__
        names = set(params) - {"input", "target", "reduction", "out", "n_threads", *row.inputs}
        assert names == {p.name for p in row.params} | set(row.weights), fn.__name__
    ref = _parameters(getattr(reference_losses, row.name))
    assert {p.name: ref[p.name].default for p in row.params} == row.defaults()


def _call(row, **kwargs):
    arrays = row.data(np.random.default_rng(0), (4, 3), np.float64)  # (x, y), or its inputs
    return getattr(fastloss, row.name)(*arrays, **kwargs)


PARAM_CASES = [(row, p) for row in ROWS for p in row.params]


@pytest.mark.parametrize("row, param", PARAM_CASES, ids=lambda v: getattr(v, "name", ""))
def test_parameter_constraints_are_enforced(row, param):
    """Each parameter is checked by its row's constraint, with its name in the message."""
    if isinstance(param.constraint, Choice):
        bad = [(v, ValueError) for v in (0, 3, "1", None) if v not in param.constraint.values]
    elif param.constraint == "flag":
        bad = [(1, TypeError), ("yes", TypeError)]
    elif param.constraint == "int64":
        bad = [(1.5, TypeError), (2**63, ValueError)]
    elif isinstance(param.constraint, Intervals):  # a value in each gap, and past the ends
        parts = param.constraint.parts
        bad = [(np.nan, ValueError), ("1", TypeError), (None, TypeError)]
        bad += [(0.5 * (a.hi + b.lo), ValueError) for a, b in zip(parts, parts[1:])]
        if np.isfinite(parts[0].lo):
            bad.append((np.nextafter(parts[0].lo, -np.inf), ValueError))
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
