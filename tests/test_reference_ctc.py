"""fastloss.reference.ctc, the specification of ctc_loss: against values derived by hand
(the alignments counted), finite differences, and torch.nn.functional.ctc_loss (value and
autograd gradient, every reduction and target layout)."""

from __future__ import annotations

import numpy as np
import pytest

from _support import REDUCTIONS, assert_close, ctc_case, ctc_grad_scale
from fastloss.reference import ctc as ref


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


# ---- values derived by hand ---------------------------------------------------------------

def test_two_frames_one_label_sums_its_three_alignments():
    """T = 2, target [1]: the alignments 11, 01 and 10 (blank 0)."""
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    expected = -np.log(p[0, 1] * p[1, 1] + p[0, 0] * p[1, 1] + p[0, 1] * p[1, 0])
    lp = np.log(p)[:, None, :]
    value = ref.ctc_loss(lp, np.array([[1]]), [2], [1], reduction="sum")
    assert value == pytest.approx(expected, rel=1e-14)


def test_a_repeated_label_needs_a_blank_between():
    """Target [1, 1] in T = 3 frames: the one alignment 1 0 1; in 2 frames none (inf)."""
    p = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.1, 0.7, 0.2]])
    lp = np.log(p)[:, None, :]
    value = ref.ctc_loss(lp, np.array([[1, 1]]), [3], [2], reduction="none")
    assert value[0] == pytest.approx(-np.log(p[0, 1] * p[1, 0] * p[2, 1]), rel=1e-14)
    assert ref.ctc_loss(lp, np.array([[1, 1]]), [2], [2], reduction="none")[0] == np.inf
    # distinct labels may follow each other directly: 1 2 in two frames is one alignment
    assert ref.ctc_loss(lp, np.array([[1, 2]]), [2], [2], reduction="sum") == \
        pytest.approx(-np.log(p[0, 1] * p[1, 2]), rel=1e-14)


def test_empty_target_is_all_blanks_and_no_frame_is_probability_one():
    p = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    lp = np.log(p)[:, None, :]
    assert ref.ctc_loss(lp, np.zeros((1, 0), np.int64), [3], [0], reduction="sum") == \
        pytest.approx(-np.log(p[:, 0]).sum(), rel=1e-14)
    none = ref.ctc_loss(lp[:, [0, 0], :], np.array([[1], [1]]), [0, 0], [0, 1],
                        reduction="none")
    assert none[0] == 0 and none[1] == np.inf


def test_mean_divides_by_target_lengths_clamped_to_one():
    rng = np.random.default_rng(1)
    lp, tg, il, tl = ctc_case(rng, 9, 4, 5, 3, min_frames=7)
    tl[0] = 0
    losses = ref.ctc_loss(lp, tg, il, tl, reduction="none")
    assert ref.ctc_loss(lp, tg, il, tl) == pytest.approx(np.mean(losses / np.maximum(tl, 1)))
    assert ref.ctc_loss(lp, tg, il, tl, reduction="sum") == pytest.approx(losses.sum())


@pytest.mark.parametrize("blank", [0, 2])
def test_gradient_is_the_logits_gradient_through_log_softmax(blank):
    """torch's gradient of ctc_loss for normalized log_probs is the derivative of
    ``nll(log_softmax(z))`` with respect to z: checked by central differences."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=(6, 2, 4))
    tg, il, tl = np.array([[1, 1, 3], [3, 1, -1]]), np.array([6, 5]), np.array([3, 2])
    if blank:
        tg = np.where(tg == blank, 0, tg)

    def loss(z: np.ndarray) -> float:
        return float(ref.ctc_loss(_log_softmax(z), tg, il, tl, blank, "sum"))

    grad = ref.ctc_loss_grad(_log_softmax(z), tg, il, tl, blank, "sum")
    numeric = np.zeros_like(z)
    h = 1e-6
    for i in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i] = h
        numeric[i] = (loss(z + e) - loss(z - e)) / (2 * h)
    np.testing.assert_allclose(grad, numeric, atol=1e-7)
    assert not grad[5, 1].any()  # sample 1 has 5 frames: frame 5 gets no gradient


# ---- torch -------------------------------------------------------------------------------

def _torch(lp, tg, il, tl, blank=0, reduction="mean", zero_infinity=False):
    """torch's value and autograd gradient for log_probs (of the summed output for "none")."""
    torch = pytest.importorskip("torch")
    x = torch.tensor(lp, requires_grad=True)
    value = torch.nn.functional.ctc_loss(x, torch.tensor(tg), torch.tensor(il),
                                         torch.tensor(tl), blank, reduction, zero_infinity)
    value.sum().backward()
    return value.detach().numpy(), x.grad.numpy()


CASES = [  # (T, N, C, S, blank, repeats, min_frames)
    (12, 5, 6, 4, 0, False, 0),
    (20, 3, 4, 6, 3, True, 10),
    (7, 4, 3, 5, 1, True, 0),  # short inputs: many infeasible targets
    (1, 2, 2, 1, 0, False, 0),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "x".join(map(str, c[:4])))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True], ids=["padded", "concatenated"])
def test_matches_torch(case, reduction, zero_infinity, concatenated, dtype):
    t, n, c, s, blank, repeats, min_frames = case
    rng = np.random.default_rng(t * 100 + s)
    lp, tg, il, tl = ctc_case(rng, t, n, c, s, dtype, blank=blank, concatenated=concatenated,
                              repeats=repeats, min_frames=min_frames)
    expected, expected_grad = _torch(lp, tg, il, tl, blank, reduction, zero_infinity)
    value, grad = ref.ctc_loss_value_and_grad(lp, tg, il, tl, blank, reduction, zero_infinity)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype
    assert_close(value, expected, dtype, factor=2)
    assert_close(grad, expected_grad, dtype, factor=2,
                 scale=ctc_grad_scale(lp, tg, il, tl, blank))


def test_matches_torch_unbatched(dtype):
    rng = np.random.default_rng(3)
    lp = ctc_case(rng, 10, 1, 5, 3, dtype)[0][:, 0]
    target = np.array([2, 2, 4])  # (S,): torch reads it as concatenated, S = target_length
    for reduction in REDUCTIONS:
        expected, expected_grad = _torch(lp, target, 8, 3, 0, reduction)
        value, grad = ref.ctc_loss_value_and_grad(lp, target, 8, 3, 0, reduction)
        assert np.shape(value) == () and grad.shape == lp.shape
        assert_close(value, expected, dtype)
        assert_close(grad, expected_grad, dtype, scale=ctc_grad_scale(lp, target, 8, 3))


def test_nan_and_minus_inf_log_probs_as_torch():
    """NaN spreads through the sample's recursions; a -inf log-probability (a class never
    emitted) is a valid input whose gradient torch makes NaN (-inf - -inf in exp(.))."""
    rng = np.random.default_rng(4)
    lp, tg, il, tl = ctc_case(rng, 8, 3, 4, 2, min_frames=8)
    lp[2, 0, 1] = np.nan
    lp[:, 1, 3] = -np.inf
    for reduction in REDUCTIONS:
        expected, expected_grad = _torch(lp, tg, il, tl, 0, reduction)
        value, grad = ref.ctc_loss_value_and_grad(lp, tg, il, tl, 0, reduction)
        assert_close(value, expected, np.float64)
        assert_close(grad, expected_grad, np.float64, floor=1.0)
