"""Value + gradient of each loss: fastloss vs the NumPy reference (and torch / scikit-learn).

Each (loss, size, dtype) is one benchmark group, so pytest-benchmark's table reads as a
speedup table. Peers: torch CPU forward + backward (1 thread), and scikit-learn's private
Cython losses (``sklearn._loss``: per-element loss and gradient, then the mean).
"""

import numpy as np
import pytest
from _peers import DTYPES, SIZES, SKLEARN_LOSS, TORCH, skip_unless

import fastloss
from fastloss import reference
# the inputs of `fastloss bench`, so both report on the same data
from fastloss.bench.cases import _log_probs, _logits, _probabilities, _regression

IMPLS = ["fastloss", "numpy", "torch", "sklearn"]


ELEMENTWISE = {
    "mse_loss": _regression,
    "l1_loss": _regression,
    "huber_loss": _regression,
    "smooth_l1_loss": _regression,
    "binary_cross_entropy": _probabilities,
    "binary_cross_entropy_with_logits": _logits,
    "kl_div": _log_probs,
}

# scikit-learn's equivalent: loss class, and how its half-losses scale to ours
SKLEARN = {
    "mse_loss": ("HalfSquaredError", 2.0),
    "l1_loss": ("AbsoluteError", 1.0),
    "binary_cross_entropy_with_logits": ("HalfBinomialLoss", 1.0),
}


def _torch_value_and_grad(fn, x, y, **kwargs):
    xt = TORCH.from_numpy(x).requires_grad_(True)
    loss = fn(xt, TORCH.from_numpy(y), **kwargs)
    loss.backward()
    return loss.item(), xt.grad


def _implementation(impl, name, x, y, **kwargs):
    """A zero-argument callable computing (value, grad) of loss `name` with `impl`."""
    if impl == "fastloss":
        f = getattr(fastloss, name + "_value_and_grad")
        return lambda: f(x, y, **kwargs)
    if impl == "numpy":
        f = getattr(reference, name + "_value_and_grad")
        return lambda: f(x, y, **kwargs)
    if impl == "torch":
        skip_unless(TORCH, "torch")
        import torch.nn.functional as F

        fn = getattr(F, name)
        if name == "kl_div":
            kwargs = {"reduction": "batchmean"}
        return lambda: _torch_value_and_grad(fn, x, y, **kwargs)
    skip_unless(SKLEARN_LOSS, "scikit-learn")
    return None


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def bench_elementwise(benchmark, name, size, dtype, impl):
    x, y = ELEMENTWISE[name](np.random.default_rng(0), size, dtype)
    kwargs = {"reduction": "batchmean"} if name == "kl_div" else {}
    benchmark.group = f"{name} n={size:.0e} {dtype}"
    if impl == "sklearn":
        skip_unless(SKLEARN_LOSS, "scikit-learn")
        if name not in SKLEARN:
            pytest.skip(f"scikit-learn has no {name}")
        cls, factor = SKLEARN[name]
        sk = getattr(SKLEARN_LOSS, cls)()
        loss_out, grad_out = np.empty_like(x), np.empty_like(x)

        def run():
            loss, grad = sk.loss_gradient(y, x, loss_out=loss_out, gradient_out=grad_out)
            return factor * loss.mean(), grad * (factor / size)

        value, grad = benchmark(run)
    else:
        value, grad = benchmark(_implementation(impl, name, x, y, **kwargs))
    # every implementation computes the same thing
    expected, expected_grad = getattr(reference, name + "_value_and_grad")(x, y, **kwargs)
    rtol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(float(value), float(expected), rtol=rtol)
    np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=rtol,
                               atol=rtol * float(np.abs(expected_grad).max()))


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("classes", [10, 1000])
def bench_cross_entropy(benchmark, classes, size, dtype, impl):
    if size < 10 * classes:
        pytest.skip("fewer than 10 rows")
    rng = np.random.default_rng(0)
    logits = (3 * rng.normal(size=(size // classes, classes))).astype(dtype)
    labels = rng.integers(0, classes, size // classes)
    benchmark.group = f"cross_entropy C={classes} n={size:.0e} {dtype}"
    if impl == "sklearn":
        skip_unless(SKLEARN_LOSS, "scikit-learn")
        sk = SKLEARN_LOSS.HalfMultinomialLoss(n_classes=classes)
        y = labels.astype(dtype)
        loss_out, grad_out = np.empty(len(y), dtype), np.empty_like(logits)

        def run():
            loss, grad = sk.loss_gradient(y, logits, loss_out=loss_out, gradient_out=grad_out)
            return loss.mean(), grad / len(y)

        value, grad = benchmark(run)
    elif impl == "torch":
        skip_unless(TORCH, "torch")
        import torch.nn.functional as F

        value, grad = benchmark(lambda: _torch_value_and_grad(
            F.cross_entropy, logits, labels))
    else:
        module = fastloss if impl == "fastloss" else reference
        f = module.cross_entropy_value_and_grad
        value, grad = benchmark(lambda: f(logits, labels))
    expected, expected_grad = reference.cross_entropy_value_and_grad(logits, labels)
    rtol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(float(value), float(expected), rtol=rtol)
    np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=rtol,
                               atol=rtol * float(np.abs(expected_grad).max()))


@pytest.mark.parametrize("impl", ["fastloss", "numpy"])
def bench_small_call_overhead(benchmark, impl):
    """The whole call at 10^3 float64 elements, validation included (target: < 5 us)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=1000), rng.normal(size=1000)
    out = np.empty_like(x)
    benchmark.group = "mse_loss_value_and_grad n=1e+03 float64, out= given"
    if impl == "fastloss":
        value, grad = benchmark(lambda: fastloss.mse_loss_value_and_grad(x, y, out=out))
    else:
        value, grad = benchmark(lambda: reference.mse_loss_value_and_grad(x, y))
    np.testing.assert_allclose(value, np.mean((x - y) ** 2), rtol=1e-12)
