"""The C list of elementwise losses (FL_ELEMENTWISE_LOSSES in csrc/losses.h) as the binding
exports it: every loss once, dense codes, each code running its own loss, bad codes refused."""
import numpy as np
import pytest
from _support import DTYPES, assert_close

from fastloss import _losses
from fastloss.reference import losses as ref

PARAM = 0.7  # delta of huber, beta of smooth_l1; ignored by the others


def _inputs(stem, dtype, rng, n=257):
    """(x, y, aux) in each loss's domain: probabilities for bce, log-probabilities for kl."""
    x = rng.normal(size=n) * 2
    y = rng.normal(size=n)
    if stem == "bce":
        x, y = rng.uniform(0.01, 0.99, n), rng.uniform(0, 1, n)
    elif stem == "bce_logits":
        y = rng.uniform(0, 1, n)
    elif stem == "kl_div":
        y = rng.uniform(0, 1, n)
        y[::5] = 0  # 0 log 0 = 0
    aux = rng.uniform(0.5, 2, n) if stem == "bce_logits" else None
    as_dtype = lambda a: None if a is None else a.astype(dtype)  # noqa: E731
    return as_dtype(x), as_dtype(y), as_dtype(aux)


# stem -> the reference's (sum of the losses, gradient of that sum); and the losses themselves
REFERENCE = {
    "mse": lambda x, y, a: ref.mse_loss_value_and_grad(x, y, reduction="sum"),
    "l1": lambda x, y, a: ref.l1_loss_value_and_grad(x, y, reduction="sum"),
    "huber": lambda x, y, a: ref.huber_loss_value_and_grad(x, y, reduction="sum", delta=PARAM),
    "smooth_l1": lambda x, y, a: ref.smooth_l1_loss_value_and_grad(x, y, reduction="sum",
                                                                   beta=PARAM),
    "bce": lambda x, y, a: ref.binary_cross_entropy_value_and_grad(x, y, reduction="sum"),
    "bce_logits": lambda x, y, a: ref.binary_cross_entropy_with_logits_value_and_grad(
        x, y, reduction="sum", pos_weight=a),
    "kl_div": lambda x, y, a: ref.kl_div_value_and_grad(x, y, reduction="sum"),
    "kl_div_log": lambda x, y, a: ref.kl_div_value_and_grad(x, y, reduction="sum",
                                                            log_target=True),
}
REFERENCE_ELEMENTS = {
    "mse": lambda x, y, a: ref.mse_loss(x, y, reduction="none"),
    "l1": lambda x, y, a: ref.l1_loss(x, y, reduction="none"),
    "huber": lambda x, y, a: ref.huber_loss(x, y, reduction="none", delta=PARAM),
    "smooth_l1": lambda x, y, a: ref.smooth_l1_loss(x, y, reduction="none", beta=PARAM),
    "bce": lambda x, y, a: ref.binary_cross_entropy(x, y, reduction="none"),
    "bce_logits": lambda x, y, a: ref.binary_cross_entropy_with_logits(
        x, y, reduction="none", pos_weight=a),
    "kl_div": lambda x, y, a: ref.kl_div(x, y, reduction="none"),
    "kl_div_log": lambda x, y, a: ref.kl_div(x, y, reduction="none", log_target=True),
}


def test_elementwise_codes_are_dense_and_distinct():
    codes = _losses.ELEMENTWISE_LOSSES
    assert all(isinstance(stem, str) and stem for stem in codes)
    assert sorted(codes.values()) == list(range(len(codes)))


def test_every_elementwise_loss_has_a_reference():
    # a row added to FL_ELEMENTWISE_LOSSES shows up here, and needs its reference
    assert set(_losses.ELEMENTWISE_LOSSES) == set(REFERENCE) == set(REFERENCE_ELEMENTS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stem", sorted(_losses.ELEMENTWISE_LOSSES))
def test_each_code_runs_its_own_loss(stem, dtype):
    x, y, aux = _inputs(stem, dtype, np.random.default_rng(0))
    code = _losses.ELEMENTWISE_LOSSES[stem]
    grad = np.empty_like(x)
    elems = np.empty_like(x)
    total = _losses.elementwise(code, x, y, None, aux, PARAM, 1.0, grad, None,
                                _losses.WANT_SUM | _losses.WANT_GRAD, 1)
    _losses.elementwise(code, x, y, None, aux, PARAM, 1.0, None, elems,
                        _losses.WANT_ELEMENTS, 1)
    ref_total, ref_grad = REFERENCE[stem](x, y, aux)
    assert_close(total, ref_total, dtype, scale=float(np.abs(elems).sum()), factor=4)
    assert_close(grad, ref_grad, dtype, factor=4)
    assert_close(elems, REFERENCE_ELEMENTS[stem](x, y, aux), dtype, factor=4)


@pytest.mark.parametrize("loss", [-1, len(_losses.ELEMENTWISE_LOSSES), 2**31 - 1])
def test_unknown_loss_code_raises_before_writing(loss):
    x = np.ones(5)
    grad = np.full(5, 3.0)
    with pytest.raises(ValueError, match="ELEMENTWISE_LOSSES"):
        _losses.elementwise(loss, x, x, None, None, 0.0, 1.0, grad, None,
                            _losses.WANT_GRAD, 1)
    assert (grad == 3.0).all()


@pytest.mark.parametrize("want", [0, _losses.WANT_SUM | _losses.WANT_ELEMENTS, 7, 8, -1])
def test_unsupported_want_raises_before_writing(want):
    x = np.ones(5)
    grad, elems = np.full(5, 3.0), np.full(5, 3.0)
    with pytest.raises(ValueError, match="want"):
        _losses.elementwise(_losses.ELEMENTWISE_LOSSES["mse"], x, x, None, None, 0.0, 1.0,
                            grad, elems, want, 1)
    assert (grad == 3.0).all() and (elems == 3.0).all()
