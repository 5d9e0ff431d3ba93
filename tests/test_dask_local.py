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
