"""fastloss.losses.ctc: the compiled kernel against its NumPy reference (random calls,
hypothesis, edge cases, float32, threads, non-contiguous input, ``out``), parity with
torch, the "numpy" backend, and the checks of every argument before any work."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastloss
from _support import (
    REDUCTIONS,
    assert_close,
    assert_grad_type,
    assert_value_type,
    ctc_case,
    ctc_grad_scale,
)
from fastloss import reference

FORMS = ("value", "grad", "both")


def _both(lp, tg, il, tl, *args, **kwargs):
    """(kernel's (value, grad), reference's (value, grad)) of one call."""
    kernel = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, *args, **kwargs)
    expected = reference.ctc_loss_value_and_grad(np.asarray(lp), tg, il, tl, *args)
    return kernel, expected


def _assert_matches_reference(lp, tg, il, tl, blank=0, *args, factor=2.0, **kwargs):
    (value, grad), (ref_value, ref_grad) = _both(lp, tg, il, tl, blank, *args, **kwargs)
    dtype = np.asarray(lp).dtype
    assert_close(value, ref_value, dtype, factor=factor)
    assert_close(grad, ref_grad, dtype, factor=factor,
                 scale=ctc_grad_scale(lp, tg, il, tl, blank))
    return value, grad


# ---- against the reference ------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True], ids=["padded", "concatenated"])
@pytest.mark.parametrize("blank", [0, 4])
def test_matches_reference(reduction, zero_infinity, concatenated, blank, dtype):
    rng = np.random.default_rng(blank + 10 * concatenated)
    lp, tg, il, tl = ctc_case(rng, 30, 8, 5, 7, dtype, blank=blank, concatenated=concatenated,
                              repeats=True)
    value, grad = _assert_matches_reference(lp, tg, il, tl, blank, reduction, zero_infinity)
    assert_value_type(value, dtype, reduction, (8,))
    assert_grad_type(grad, dtype, lp.shape)
    assert np.all(grad[il[0]:, 0] == 0)  # frames past a sample's length: no gradient


@settings(max_examples=40, deadline=None)
@given(t=st.integers(1, 12), n=st.integers(1, 5), c=st.integers(1, 6), s=st.integers(0, 6),
       seed=st.integers(0, 2**32 - 1), blank=st.integers(0, 5),
       reduction=st.sampled_from(REDUCTIONS), zero_infinity=st.booleans(),
       concatenated=st.booleans(), f32=st.booleans())
def test_hypothesis(t, n, c, s, seed, blank, reduction, zero_infinity, concatenated, f32):
    dtype = np.float32 if f32 else np.float64
    lp, tg, il, tl = ctc_case(np.random.default_rng(seed), t, n, c, s, dtype,
                              blank=blank % c, concatenated=concatenated, repeats=seed % 2 == 1)
    _assert_matches_reference(lp, tg, il, tl, blank % c, reduction, zero_infinity)


def test_forms_agree(dtype):
    rng = np.random.default_rng(5)
    lp, tg, il, tl = ctc_case(rng, 15, 4, 6, 5, dtype, min_frames=12)
    value, grad = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl)
    assert fastloss.ctc_loss(lp, tg, il, tl) == value
    np.testing.assert_array_equal(fastloss.ctc_loss_grad(lp, tg, il, tl), grad)


def test_unbatched(dtype):
    rng = np.random.default_rng(6)
    lp = ctc_case(rng, 9, 1, 4, 0, dtype)[0][:, 0]
    for target in (np.array([1, 3, 3]), np.array([[1, 3, 3, -1]])):  # (S,) or (1, S)
        for reduction in REDUCTIONS:
            value, grad = _assert_matches_reference(lp, target, 9, 3, 0, reduction)
            assert np.shape(value) == () and grad.shape == lp.shape
    batched = fastloss.ctc_loss(lp[:, None], np.array([[1, 3, 3]]), [9], [3], reduction="none")
    assert fastloss.ctc_loss(lp, np.array([1, 3, 3]), 9, 3, reduction="none") == batched[0]


# ---- edge cases -------------------------------------------------------------------------

def test_one_frame_one_class():
    """C = 1: only the blank, only empty targets; the loss is -sum lp[:, blank]."""
    lp = np.log(np.ones((3, 2, 1)))
    value, grad = fastloss.ctc_loss_value_and_grad(lp, np.zeros((2, 0), np.int64), [3, 1],
                                                   [0, 0], reduction="none")
    np.testing.assert_array_equal(value, [0.0, 0.0])
    np.testing.assert_array_equal(grad, np.zeros_like(lp))  # exp(0) - exp(0 + 0 - 0)
    lp = np.array([[[-0.5]]])
    assert fastloss.ctc_loss(lp, np.zeros((1, 0), np.int64), [1], [0], reduction="sum") == 0.5


def test_zero_frames_and_empty_targets(dtype):
    lp, tg, il, tl = ctc_case(np.random.default_rng(7), 6, 4, 4, 3, dtype)
    il[:] = [0, 0, 6, 3]
    tl[:] = [0, 2, 0, 0]
    value, grad = _assert_matches_reference(lp, tg, il, tl, 0, "none")
    assert value[0] == 0 and np.signbit(value[0])  # torch: -log 1 = -0.0
    assert value[1] == np.inf
    assert not grad[:, :2].any()  # no frame, no gradient (even for the infinite loss)


def test_infeasible_targets(dtype):
    """A target longer than its input (with its repeats) has no alignment: an infinite loss
    whose gradient is NaN (torch's inf - inf), both 0 with zero_infinity."""
    lp, tg, il, tl = ctc_case(np.random.default_rng(8), 5, 3, 4, 3, dtype, min_frames=5)
    tg[0] = [1, 1, 1]
    tl[0] = 3  # 1 _ 1 _ 1 needs 5 frames: feasible
    il[0] = 4  # not any more
    for zero_infinity in (False, True):
        value, grad = _assert_matches_reference(lp, tg, il, tl, 0, "none", zero_infinity)
        assert value[0] == (0 if zero_infinity else np.inf) and np.isfinite(value[1:]).all()
        if zero_infinity:
            assert not grad[:, 0].any()
        else:
            assert np.isnan(grad[:4, 0]).all() and not grad[4:, 0].any()
    assert fastloss.ctc_loss(lp, tg, il, tl, reduction="sum") == np.inf


def test_nan_inf_and_extreme_log_probs(dtype):
    lp, tg, il, tl = ctc_case(np.random.default_rng(9), 10, 4, 5, 3, dtype, min_frames=10)
    lp[3, 0, 0] = np.nan  # the blank: on every path
    lp[:, 1, 4] = -np.inf  # a class never emitted
    lp[:, 2] = np.log(np.finfo(dtype).tiny)  # every path equally, tinily, probable
    lp[:, 3] *= 1e3
    value, grad = _assert_matches_reference(lp, tg, il, tl, 0, "none")
    assert np.isnan(value[0]) and np.isnan(grad[:, 0]).all()
    assert np.isfinite(value[2])


def test_non_contiguous_and_read_only_input(dtype):
    lp, tg, il, tl = ctc_case(np.random.default_rng(10), 8, 3, 4, 3, dtype)
    strided = np.repeat(lp, 2, axis=2)[:, :, ::2]
    strided.flags.writeable = False
    assert not strided.flags.c_contiguous
    tg_f = np.asfortranarray(tg)
    value, grad = fastloss.ctc_loss_value_and_grad(strided, tg_f, il, tl)
    expected = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl)
    assert value == expected[0]
    np.testing.assert_array_equal(grad, expected[1])


def test_lengths_and_targets_of_any_integer_dtype():
    lp, tg, il, tl = ctc_case(np.random.default_rng(11), 8, 3, 4, 3)
    expected = fastloss.ctc_loss(lp, tg, il, tl)
    tg = np.where(tg < 0, 0, tg)  # unsigned padding: a value no target reads
    assert fastloss.ctc_loss(lp, tg.astype(np.uint8), il.astype(np.int32),
                             tuple(int(v) for v in tl)) == expected


def test_out_is_written_and_returned(dtype):
    lp, tg, il, tl = ctc_case(np.random.default_rng(12), 8, 3, 4, 3, dtype)
    out = np.full(lp.shape, 7.0, dtype)
    grad = fastloss.ctc_loss_grad(lp, tg, il, tl, out=out)
    assert grad is out
    np.testing.assert_array_equal(out, fastloss.ctc_loss_grad(lp, tg, il, tl))
    value, grad = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, out=out)
    assert grad is out


def test_threads_give_the_same_bits(dtype):
    """Samples are independent: every thread count gives the single-thread result."""
    lp, tg, il, tl = ctc_case(np.random.default_rng(13), 20, 9, 6, 5, dtype)
    value, grad = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, reduction="none",
                                                   n_threads=1)
    for nt in (2, 3, 16):
        v, g = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, reduction="none",
                                                n_threads=nt)
        np.testing.assert_array_equal(v, value)
        np.testing.assert_array_equal(g, grad)


def test_numpy_backend_runs_the_reference(dtype):
    lp, tg, il, tl = ctc_case(np.random.default_rng(14), 8, 3, 4, 3, dtype)
    with fastloss.use_backend("numpy"):
        value, grad = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, reduction="sum")
        with pytest.raises(ValueError, match="blank"):
            fastloss.ctc_loss(lp, tg, il, tl, blank=4)
    ref_value, ref_grad = reference.ctc_loss_value_and_grad(lp, tg, il, tl, 0, "sum")
    assert value == ref_value
    np.testing.assert_array_equal(grad, ref_grad)


# ---- torch ------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("concatenated", [False, True], ids=["padded", "concatenated"])
def test_matches_torch(reduction, concatenated, dtype):
    torch = pytest.importorskip("torch")
    lp, tg, il, tl = ctc_case(np.random.default_rng(15), 40, 6, 8, 12, dtype, blank=2,
                              concatenated=concatenated, repeats=True, min_frames=20)
    for zero_infinity in (False, True):
        x = torch.tensor(lp, requires_grad=True)
        expected = torch.nn.functional.ctc_loss(x, torch.tensor(tg), torch.tensor(il),
                                                torch.tensor(tl), 2, reduction, zero_infinity)
        expected.sum().backward()
        value, grad = fastloss.ctc_loss_value_and_grad(lp, tg, il, tl, 2, reduction,
                                                       zero_infinity)
        assert_close(value, expected.detach().numpy(), dtype, factor=2)
        assert_close(grad, x.grad.numpy(), dtype, factor=2,
                     scale=ctc_grad_scale(lp, tg, il, tl, 2))


# ---- bad input: a clear exception before any work --------------------------------------

def _good():
    lp, tg, il, tl = ctc_case(np.random.default_rng(16), 6, 2, 4, 3, min_frames=6)
    tl[:] = 2
    return {"log_probs": lp, "targets": np.where(tg < 0, 1, tg), "input_lengths": il,
            "target_lengths": tl}


BAD = [
    ({"log_probs": np.zeros((2, 3, 4, 5))}, ValueError, "log_probs must have shape"),
    ({"log_probs": np.zeros((0, 2, 4))}, ValueError, "log_probs must not be empty"),
    ({"log_probs": np.zeros((6, 2, 4), np.complex128)}, TypeError, "log_probs"),
    ({"targets": np.ones((2, 3))}, TypeError, "targets must be integer"),
    ({"targets": np.ones((3, 3), np.int64)}, ValueError, "N = 2"),
    ({"targets": np.ones((2, 3, 1), np.int64)}, ValueError, "targets must be padded"),
    ({"targets": np.array([[1, 4, 0], [1, 2, 3]])}, ValueError,
     r"targets\[0, 1\] = 4 is not a class index in \[0, 4\)"),
    ({"targets": np.array([[1, 2, 3], [0, 2, 3]])}, ValueError,
     r"targets\[1, 0\] = 0 is the blank"),
    ({"targets": np.array([[1, -2, 1], [1, 2, 3]])}, ValueError, r"targets\[0, 1\] = -2"),
    ({"targets": np.array([1, 2, 3])}, ValueError, "sum\\(target_lengths\\) = 4"),
    ({"input_lengths": [6, 7]}, ValueError, r"input_lengths must be in \[0, 6\].*\[1\] = 7"),
    ({"input_lengths": [-1, 6]}, ValueError, "input_lengths"),
    ({"input_lengths": [6.0, 6.0]}, TypeError, "input_lengths must be integers"),
    ({"input_lengths": [6, 6, 6]}, ValueError, "input_lengths must hold one length per"),
    ({"input_lengths": [[6, 6]]}, ValueError, "input_lengths"),
    ({"target_lengths": [4, 2]}, ValueError, r"target_lengths must be in \[0, 3\]"),
    ({"target_lengths": [True, True]}, TypeError, "target_lengths"),
    ({"target_lengths": np.ma.array([2, 2])}, TypeError, "target_lengths"),
    ({"blank": 4}, ValueError, "blank"),
    ({"blank": 1.0}, TypeError, "blank"),
    ({"reduction": "batchmean"}, ValueError, "reduction"),
    ({"zero_infinity": 1}, TypeError, "zero_infinity"),
    ({"n_threads": 0}, ValueError, "n_threads"),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("change, error, match", BAD, ids=lambda v: str(v)[:40])
def test_bad_input_raises_naming_the_argument(form, change, error, match):
    kwargs = {**_good(), **change}
    out = np.full((6, 2, 4), 3.0)
    fn = {"value": fastloss.ctc_loss, "grad": fastloss.ctc_loss_grad,
          "both": fastloss.ctc_loss_value_and_grad}[form]
    extra = {} if form == "value" else {"out": out}
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend), pytest.raises(error, match=match):
            fn(**kwargs, **extra)
    assert (out == 3.0).all()  # nothing written


@pytest.mark.parametrize("out, error, match", [
    (np.zeros((6, 2, 4), np.float32), TypeError, "dtype"),
    (np.zeros((6, 2, 3)), ValueError, "shape"),
    (np.zeros((6, 2, 8))[:, :, ::2], ValueError, "C-contiguous"),
    ([0.0], TypeError, "numpy.ndarray"),
])
def test_bad_out(out, error, match):
    with pytest.raises(error, match=match):
        fastloss.ctc_loss_grad(**_good(), out=out)


def test_out_overlapping_the_input_is_refused():
    kwargs = _good()
    with pytest.raises(ValueError, match="overlap"):
        fastloss.ctc_loss_grad(**kwargs, out=kwargs["log_probs"])


def test_padding_past_the_target_lengths_is_not_read():
    kwargs = _good()
    kwargs["targets"][:, 2] = 99  # past target_lengths = 2: not a label, never read
    assert np.isfinite(fastloss.ctc_loss(**kwargs))
