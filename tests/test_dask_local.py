"""fastloss.dask without a distributed Client: Dask's local scheduler computes the chunks
into this process (the fit's code path is the cluster's, the parts held in memory)."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import fastloss  # noqa: E402
import fastloss.dask as fdask  # noqa: E402
from fastloss.dask._parts import current_client  # noqa: E402
from fastloss.models import LinearRegression, SoftmaxRegression  # noqa: E402


@pytest.fixture(autouse=True)
def no_client():
    if current_client() is not None:
        pytest.skip("a distributed Client is current")


def test_objective_and_fits_on_the_local_scheduler():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X @ rng.normal(size=4) + 0.1 * rng.normal(size=300)
    t = (y > 0).astype(int) + (y > 1)
    Xd, yd, td = (da.from_array(a, chunks=(64,) + a.shape[1:]) for a in (X, y, t))
    coef, b = rng.normal(size=4), np.array([0.2])
    got = fdask.linear_value_and_grad(Xd, yd, coef, b, loss="huber", alpha=0.1)
    want = fastloss.linear_value_and_grad(X, y, coef, b, loss="huber", alpha=0.1)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    for model, target, target_d in [(LinearRegression(optimizer="cholesky"), y, yd),
                                    (SoftmaxRegression(), t, td)]:
        ref = type(model)(**model.get_params()).fit(X, target)
        model.fit(Xd, target_d)
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-4, atol=1e-8)
        np.testing.assert_allclose(model.predict(Xd).compute(), ref.predict(X), rtol=1e-4)


def test_parts_are_aligned_whatever_the_chunks_address():
    # a chunk received over the network can sit at an odd address in its message's buffer:
    # the part is an aligned copy then (NumPy's products skip BLAS on unaligned arrays)
    from fastloss.dask._objective import _make_part

    raw = bytearray(8 * 60 + 1)
    X = np.frombuffer(raw, dtype=np.float64, offset=1, count=60).reshape(20, 3)
    y = np.frombuffer(raw, dtype=np.float64, offset=1, count=20)
    assert not X.flags.aligned
    part = _make_part(X, y, y, np.dtype(np.float64), "real")
    assert all(a.flags.aligned and a.flags.c_contiguous for a in part)
    np.testing.assert_array_equal(part[0], X)
    Xa = np.zeros((20, 3))
    assert _make_part(Xa, y, None, np.dtype(np.float64), "real")[0] is Xa  # no copy needed
