"""LinearRegression's GLM losses on the log link (scikit-learn's PoissonRegressor,
GammaRegressor, TweedieRegressor(link="log")): their targets' domains, the starting
intercept, and the D^2 score (the share of the deviance explained)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
from numpy.typing import NDArray

from fastloss.linear import target_domain

#: the losses whose prediction is ``exp(X @ coef_ + intercept_)``
LOG_LINK_LOSSES = ("poisson", "gamma", "tweedie")


def tweedie_power(loss: str, power: float) -> float:
    """The Tweedie power of a log-link loss: 1 for poisson, 2 for gamma, ``power``."""
    return 1.0 if loss == "poisson" else 2.0 if loss == "gamma" else float(power)


def check_targets(y: NDArray[np.float64], loss: str, power: float, offset: int = 0) -> None:
    """scikit-learn's check (``"Some value(s) of y are out of the valid range of the
    loss"``), naming the loss, the domain and the first value outside it (its index plus
    ``offset``: y may be a chunk of a larger array)."""
    domain = target_domain(loss, tweedie_power(loss, power))
    if domain is None:
        return
    outside = y < 0 if domain == ">= 0" else y <= 0
    if outside.any():
        i = int(np.argmax(outside))
        raise target_error(loss, power, y[i].item(), offset + i)


def target_error(loss: str, power: float, value: float, index: int) -> ValueError:
    """:func:`check_targets`'s error for ``y[index] = value``, outside the loss's domain."""
    domain = target_domain(loss, tweedie_power(loss, power))
    what = f"loss={loss!r}" + (f" (power={power:g})" if loss == "tweedie" else "")
    return ValueError(f"Some value(s) of y are out of the valid range of {what}: y must be "
                      f"{domain}, found {value!r} at y[{index}]")


def start_intercept(y: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
    """scikit-learn's starting intercept, the log of the (weighted) mean target (the
    optimum of the intercept-only model); 0 when that mean is not positive."""
    return intercept_of_mean(float(np.average(y, weights=sw)) if len(y) else 0.0)


def intercept_of_mean(mean: float) -> float:
    """:func:`start_intercept` of a (weighted) mean target ``mean``."""
    return float(np.log(mean)) if mean > 0 else 0.0


def unit_deviance(y: NDArray[np.float64], mu: NDArray[np.float64],
                  power: float) -> NDArray[np.float64]:
    """The Tweedie unit deviance of targets ``y`` at means ``mu`` (power <= 0 or >= 1; 0:
    squared error, 1: Poisson, 2: gamma), as scikit-learn's ``mean_tweedie_deviance``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if power == 0.0:
            return (y - mu) ** 2
        if power == 1.0:
            ratio = np.where(y > 0, y / mu, 1.0)
            return 2.0 * (np.where(y > 0, y * np.log(ratio), 0.0) - y + mu)
        if power == 2.0:
            return 2.0 * (np.log(mu / y) + y / mu - 1.0)
        p = power
        return 2.0 * (np.maximum(y, 0.0) ** (2 - p) / ((1 - p) * (2 - p))
                      - y * mu ** (1 - p) / (1 - p) + mu ** (2 - p) / (2 - p))


def d2_score(y: NDArray[np.float64], z: NDArray[Any], sw: Optional[NDArray[Any]],
             power: float) -> float:
    """D^2 of the linear predictor ``z`` (``mu = exp(z)``): ``1 - D(y, mu) / D(y, ybar)``
    with the (``sw``-weighted) mean deviances, the null model predicting the weighted mean
    (scikit-learn's ``PoissonRegressor.score``, ``d2_tweedie_score``); as :func:`r2_score`,
    1 for an exact fit of constant targets, else 0 then."""
    mu = np.exp(np.asarray(z, np.float64))
    num = float(np.average(unit_deviance(y, mu, power), weights=sw))
    ybar = np.full_like(y, np.average(y, weights=sw))
    den = float(np.average(unit_deviance(y, ybar, power), weights=sw))
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den
