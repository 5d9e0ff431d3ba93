"""LinearRegression: squared, absolute, Huber or epsilon-insensitive loss, the GLM losses on
the log link (Poisson, gamma, Tweedie) and the quantile (pinball) loss."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import linear
from fastloss._validation import (POSITIVE, check_real,
                                  is_dask_collection, reject_masked)
from fastloss.models import _glm
from fastloss.models._base import OPTIMIZERS
from fastloss.models._sgd_options import _PlainSGDModel
from fastloss.models._sklearn import _check_lengths, _check_sample_weight, _column_y_to_1d

REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber", "epsilon_insensitive",
                     "squared_epsilon_insensitive", "poisson", "gamma", "tweedie", "pinball")
#: the losses only plain per-sample SGD trains (scikit-learn's SGDRegressor's)
SGD_ONLY_LOSSES = ("epsilon_insensitive", "squared_epsilon_insensitive")
#: LinearRegression's optimizers: every model's, and the normal equations
REGRESSION_OPTIMIZERS = OPTIMIZERS + ("cholesky",)


#: below this reciprocal condition number (estimated from the Cholesky factor) the normal
#: equations are treated as singular: the minimum-norm least-squares solution, which rounding
#: cannot flip between two solutions of a (nearly) singular system
_RCOND = 1e-10


def _solve_normal_equations(gram: NDArray[np.float64], rhs: NDArray[np.float64]
                            ) -> NDArray[np.float64]:
    """``gram^{-1} rhs`` by Cholesky, or the minimum-norm solution when ``gram`` is singular
    or nearly so."""
    try:
        lower = np.linalg.cholesky(gram)
    except np.linalg.LinAlgError:
        lower = None
    if lower is not None:
        diag = np.abs(np.diag(lower))
        if diag.size and diag.min() ** 2 > _RCOND * diag.max() ** 2:
            return np.asarray(np.linalg.solve(lower.T, np.linalg.solve(lower, rhs)))
    return np.asarray(np.linalg.lstsq(gram, rhs, rcond=_RCOND)[0])


class NormalSums(NamedTuple):
    """The weighted sums the normal equations are built from, in float64; additive over
    row blocks (so a cluster sums them chunk by chunk)."""

    total: float              # sum_i w_i
    gram: NDArray[np.float64]  # X^T W X, (d, d)
    xy: NDArray[np.float64]    # X^T W y, (d,)
    x_sum: NDArray[np.float64]  # sum_i w_i x_i, (d,)
    y_sum: float              # sum_i w_i y_i


def normal_equation_sums(X: NDArray[Any], y: NDArray[Any],
                         sw: Optional[NDArray[Any]]) -> NormalSums:
    """The :class:`NormalSums` of rows ``X`` (n, d), targets ``y`` (n,), weights ``sw`` (n,)
    or None (all 1), in one pass over X (float64)."""
    Xd = X.astype(np.float64, copy=False)
    y = y.astype(np.float64, copy=False)
    w = np.ones(Xd.shape[0]) if sw is None else sw
    Xw = Xd if sw is None else Xd * w[:, None]
    return NormalSums(float(w.sum()), Xd.T @ Xw, Xw.T @ y, Xw.sum(axis=0), float(w @ y))


def r2_score(y_true: NDArray[np.float64], prediction: NDArray[Any],
             sw: Optional[NDArray[Any]]) -> float:
    """The coefficient of determination of ``prediction`` (weighted by ``sw``, as
    scikit-learn's ``r2_score``; 1 for an exact fit of constant targets, else 0 then)."""
    w = np.ones(len(y_true)) if sw is None else sw
    denom = float(w @ (y_true - np.average(y_true, weights=w)) ** 2)
    num = float(w @ (y_true - prediction) ** 2)  # float64: y_true is
    if denom == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / denom


class LinearRegression(_PlainSGDModel):
    """Linear regression ``y ~ X @ coef_ + intercept_`` trained by a fastloss optimizer.

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber", "epsilon_insensitive", \
"squared_epsilon_insensitive", "poisson", "gamma", "tweedie", "pinball"}, default \
"squared_error"
        ``0.5 (p - y)^2`` (half of PyTorch's ``mse_loss``, scikit-learn's ``SGDRegressor``
        squared error), ``|p - y|`` (``l1_loss``) or Huber with threshold ``epsilon``
        (``huber_loss(delta=epsilon)``); ``SGDRegressor``'s ``max(0, |p - y| - epsilon)``
        and its square, for ``optimizer="sgd"`` only (``"auto"`` picks it for them).

        The GLMs on the log link, scikit-learn's ``PoissonRegressor`` (``"poisson"``,
        ``y >= 0``), ``GammaRegressor`` (``"gamma"``, ``y > 0``) and
        ``TweedieRegressor(power=power, link="log")`` (``"tweedie"``; any ``y`` for power
        <= 0, ``y >= 0`` from 1, ``> 0`` from 2 on): ``predict`` is ``exp(X @ coef_ +
        intercept_)``, the objective the mean half deviance ``sum_i w_i l(z_i, y_i) /
        sum_i w_i + alpha/2 ||coef||^2`` of the linear predictor ``z``
        (:mod:`fastloss.linear`'s losses: the deviance's constant terms dropped),
        scikit-learn's own objective, so the same ``alpha`` gives the same
        coefficients; ``fit`` starts the intercept at the log of the weighted mean target, as
        there; ``score`` is D^2, the share of the deviance explained (their ``score``).
        ``"pinball"``: scikit-learn's ``QuantileRegressor``'s loss, ``quantile (y - p)`` for
        ``y >= p``, else ``(1 - quantile) (p - y)``, with this model's L2 ``alpha`` (its
        L1 ``alpha`` differs; ``alpha=0`` is the same problem, which it solves exactly by
        linear programming and the first-order solvers here approximately: the objective is
        piecewise linear); ``score`` is R^2 (its ``score``).
    optimizer : {"auto", "lbfgs", "cholesky", "sgd", "momentum", "adagrad", "rmsprop", "adam", \
"adamw", "nadam", "radam", "adamax", "lion", "cg"}, default "auto"
        See the module docstring; ``"cholesky"`` solves the normal equations of the squared
        error (with the L2 term and the weights) in one pass over X; ``"auto"`` is
        ``"cholesky"`` for ``loss="squared_error"`` (exact, and faster than iterating) and
        ``"lbfgs"`` for the other losses and for scipy.sparse X.

        scipy.sparse X (any format; converted to CSR, a copy unless it is CSR of float32 or
        float64) trains with ``"sgd"`` (:func:`fastloss.sgd_epoch`'s O(nnz) epoch) or
        ``"lbfgs"`` / ``"cg"`` (the objective over the stored entries); the other optimizers
        raise ``ValueError``. X is never centred or densified: the intercept is a parameter
        of its own, and the full-batch solvers' standardized coordinates come from the
        columns' moments summed over the stored entries (a change of the solver's variables,
        not of X). As ``SGDRegressor``, ``"sgd"`` on sparse X multiplies the intercept's
        steps by 0.01 (scikit-learn's ``SPARSE_INTERCEPT_DECAY``), so the same data dense
        and sparse follow different (each scikit-learn's) trajectories.
    lr : float or None, default None
        Learning rate (step size, the initial one under ``"invscaling"``); unused by the
        full-batch optimizers. None: 0.1 for ``"adagrad"``, 0.02 for ``"adamax"``, 0.003 for
        ``"lion"``, 0.01 for the others (``fastloss.models._base.DEFAULT_LR``).
    max_iter : int, default 200
        Epochs (iterations for ``"lbfgs"`` and ``"cg"``) per ``fit``.
    batch_size : int, default 32
        Samples per mini-batch step (not used by ``"sgd"``, which is per-sample, nor the
        full-batch optimizers).
    alpha : float, default 0.0
        L2 penalty ``alpha / 2 * ||coef||^2`` (AdamW, Lion: decoupled weight decay).
    momentum : float, default 0.9
        Momentum of the ``"momentum"`` optimizer (torch.optim.SGD's ``momentum``).
    epsilon : float, default 1.0
        Huber threshold (``delta``), the width of the epsilon-insensitive losses
        (``SGDRegressor``'s default is 0.1).
    power : float <= 0 or >= 1, default 1.5
        The Tweedie power of ``loss="tweedie"`` (0: the squared error of ``exp(z)``,
        below 0: extreme stable, 1: Poisson, 2: gamma, 3: inverse Gaussian;
        ``TweedieRegressor``'s ``power``, on the log link).
    quantile : float in (0, 1), default 0.5
        The quantile of ``loss="pinball"`` (``QuantileRegressor``'s).
    tol, n_iter_no_change : float or None, int, default 1e-4, 5
        Early stopping on the epoch loss (see the module docstring); for ``"cg"``, ``tol`` is
        the gradient-norm tolerance ``gtol`` (1e-5 when ``None``).
    shuffle, random_state : bool, int or None, default True, None
        Shuffle the samples each epoch, from a generator seeded by ``random_state``.
    fit_intercept : bool, default True
        Fit ``intercept_``; False keeps it at 0.
    lr_schedule : {"constant", "invscaling", "optimal", "adaptive"} or None, default None
        ``lr`` throughout, or ``lr / t**power_t`` at update ``t`` (scikit-learn's
        ``invscaling``; ``t`` counts samples for ``"sgd"``, mini-batch steps for the others);
        None: ``"invscaling"`` (``SGDRegressor``'s default, so that the defaults reach the
        optimum rather than a noise floor), except ``"constant"`` for ``"adagrad"``.
        ``"optimal"``: scikit-learn's ``1 / (alpha (t0 + t))`` (``optimizer="sgd"``,
        ``alpha > 0``; see :func:`fastloss.sgd_epoch`). ``"adaptive"``: scikit-learn's, ``lr``
        until the epoch objective has not improved by ``tol`` for ``n_iter_no_change``
        epochs, then a fifth of it (and so on), stopping once it would fall below 1e-6
        (``fit`` only; ``partial_fit`` keeps the current rate).
    power_t : float, default 0.25
        The exponent of ``"invscaling"``.
    n_threads : int or None, default None
        Threads of the full-batch objective (fastloss's default: :func:`fastloss.get_num_threads`
        for large data).
    penalty : {"l2", "l1", "elasticnet"}, default "l2"
        ``alpha`` times ``(1 - r) ||coef||^2 / 2 + r ||coef||_1`` (``r`` = 0, 1 or
        ``l1_ratio``), as ``SGDRegressor``: L1 by the cumulative truncated gradient, so it
        needs ``optimizer="sgd"`` (the per-sample epochs of :func:`fastloss.sgd_epoch`).
    l1_ratio : float in [0, 1], default 0.15
        The L1 share of ``"elasticnet"``.
    average : bool or int, default False
        Averaged SGD (``optimizer="sgd"``): ``coef_`` and ``intercept_`` are the mean of the
        iterates from update 1 (``True``) or ``average`` on, as ``SGDRegressor(average=)``
        (the iterates until then).

    early_stopping : bool, default False
        scikit-learn's ``early_stopping`` (the stochastic optimizers, ``fit`` only): hold
        out ``validation_fraction`` of the samples (drawn from ``random_state``'s stream,
        not scikit-learn's), train on the rest, and after each epoch score the model
        (``coef_``, the averaged weights with ``average``) on the held-out part (R^2,
        weighted by ``sample_weight``); stop when the score has not exceeded the best one by
        ``tol`` for ``n_iter_no_change`` epochs (``"adaptive"``: divide the rate by 5
        first). The scores are in ``validation_scores_``.
    validation_fraction : float in (0, 1), default 0.1
        The held-out share (``ceil(validation_fraction n)`` samples).

    Attributes
    ----------
    coef_ : ndarray (n_features,)
    intercept_ : float
    n_iter_ : int, epochs (or solver iterations) run in total
    loss_curve_ : list of float, each epoch's mean objective over its samples, each taken
        before the update it led to (for ``"lbfgs"`` and ``"cg"``: the objective at each
        iterate; empty for ``"cholesky"``)
    n_features_in_ : int
    validation_scores_ : list of float or None, the held-out score after each epoch with
        ``early_stopping`` (None without)
    feature_names_in_ : ndarray of str, the column names of a DataFrame X passed to ``fit``
        (only then); ``predict`` then requires the same columns in the same order.

    A ``ConvergenceWarning`` (scikit-learn's class when scikit-learn is loaded) is warned when
    ``max_iter`` is reached before ``tol``.
    """

    _loss_names = REGRESSION_LOSSES
    _optimizer_names = ("auto",) + REGRESSION_OPTIMIZERS
    _sgd_schedule = "invscaling"  # SGDRegressor's: the defaults reach the optimum
    epsilon: float
    power: float
    quantile: float
    penalty: str
    l1_ratio: float
    average: Any

    def __init__(self, *, loss: str = "squared_error", optimizer: str = "auto",
                 lr: Optional[float] = None, max_iter: int = 200, batch_size: int = 32,
                 alpha: float = 0.0, momentum: float = 0.9, epsilon: float = 1.0,
                 tol: Optional[float] = 1e-4, n_iter_no_change: int = 5, shuffle: bool = True,
                 random_state: Optional[int] = None, fit_intercept: bool = True,
                 lr_schedule: Optional[str] = None, power_t: float = 0.25,
                 n_threads: Optional[int] = None, penalty: str = "l2", l1_ratio: float = 0.15,
                 average: Any = False, early_stopping: bool = False,
                 validation_fraction: float = 0.1, power: float = 1.5,
                 quantile: float = 0.5) -> None:
        self._set_params_from(locals())

    def _solver(self) -> str:
        if self.optimizer == "auto":
            if self.loss in SGD_ONLY_LOSSES:
                return "sgd"
            # the normal equations would densify a sparse X's Gram matrix
            dense_sq = self.loss == "squared_error" and not self._sparse_input
            return "cholesky" if dense_sq else "lbfgs"
        return str(self.optimizer)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_real(self.epsilon, "epsilon", POSITIVE)
        check_real(self.power, "power", linear.POWER)
        check_real(self.quantile, "quantile", linear.QUANTILE)
        self._validate_sgd_options()
        if self.loss in SGD_ONLY_LOSSES and self._solver() != "sgd":
            raise ValueError(f"loss={self.loss!r} needs optimizer='sgd' (or 'auto'): "
                             f"scikit-learn's per-sample SGD trains it, got optimizer="
                             f"{self.optimizer!r}")
        if self.optimizer == "cholesky" and self.loss != "squared_error":
            raise ValueError(f"optimizer='cholesky' solves the squared error's normal "
                             f"equations: it needs loss='squared_error', got loss={self.loss!r}")

    def _fit_cholesky(self, X: NDArray[Any], t: NDArray[Any],
                      sw: Optional[NDArray[Any]]) -> None:
        """The minimum of ``sum_i w_i (x_i . coef + b - y_i)^2 / (2 sum w) + alpha/2
        ||coef||^2``: the weighted Gram matrix in one pass over X (float64), centered by the
        weighted means (the intercept is not penalized), a Cholesky solve; the minimum-norm
        least-squares solution when the system is singular."""
        self._fit_normal_sums(normal_equation_sums(X, t, sw))

    def _fit_normal_sums(self, sums: NormalSums) -> None:
        """Sets the weights to the minimum of :meth:`_fit_cholesky`'s objective given the
        data's :class:`NormalSums`."""
        total = sums.total
        d = sums.gram.shape[0]
        gram = sums.gram / total
        xy = sums.xy / total
        if self.fit_intercept:
            x_mean = sums.x_sum / total
            y_mean = sums.y_sum / total
            gram -= np.outer(x_mean, x_mean)
            xy -= x_mean * y_mean
        gram[np.diag_indices(d)] += float(self.alpha)
        coef = _solve_normal_equations(gram, xy)
        self._W[...] = coef
        if self.fit_intercept:
            self._b[...] = y_mean - float(x_mean @ coef)
        self.n_iter_ += 1

    def _linear_loss(self) -> str:
        return "absolute" if self.loss == "absolute_error" else str(self.loss)

    def _loss_kwargs(self) -> Dict[str, float]:
        return dict(epsilon=float(self.epsilon), power=float(self.power),
                    quantile=float(self.quantile))

    def _log_link(self) -> bool:
        return self.loss in _glm.LOG_LINK_LOSSES

    def _start_weights(self, t: NDArray[Any], sw: Optional[NDArray[Any]]) -> None:
        """The GLMs' intercept starts at the log of the weighted mean target (as scikit-learn's:
        the intercept-only optimum; the first steps then are of a sensible size)."""
        if self._log_link() and self.fit_intercept:
            self._b[...] = _glm.start_intercept(t, sw)

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        reject_masked(y, "y")
        y = np.asarray(y)
        if np.iscomplexobj(y):
            raise ValueError("y: Complex data not supported")
        y = _column_y_to_1d(y.astype(np.float64))
        _check_lengths(X, y)
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or inf.")
        if self._log_link():
            _glm.check_targets(y, self.loss, float(self.power))
        return y

    def _publish(self) -> None:
        coef, intercept = self._published_weights()
        self.coef_ = coef
        self.intercept_ = float(intercept[0])

    def fit(self, X: ArrayLike, y: ArrayLike,
            sample_weight: Optional[ArrayLike] = None) -> "LinearRegression":
        """Train from zero weights for up to ``max_iter`` epochs (iterations). ``sample_weight``
        (n_samples,) weighs each sample's loss (the objective is the weighted mean; an integer
        weight counts as repeated rows for the full-batch optimizers). Dask arrays (X chunked
        by rows) train on the cluster of the current ``distributed.Client`` without being
        gathered (see :mod:`fastloss.dask`). Returns ``self``."""
        return self._fit(X, y, sample_weight, reset=True, n_epochs=int(self.max_iter),
                         early_stopping=True)

    def partial_fit(self, X: ArrayLike, y: ArrayLike,
                    sample_weight: Optional[ArrayLike] = None) -> "LinearRegression":
        """One more epoch (iteration) over ``(X, y)``, continuing from the current weights and
        optimizer state (the first call starts from zero). Returns ``self``."""
        return self._fit(X, y, sample_weight, reset=False, n_epochs=1, early_stopping=False)

    def predict(self, X: ArrayLike) -> NDArray[np.floating[Any]]:
        """``X @ coef_ + intercept_`` (its ``exp`` for the log-link losses: the predicted
        mean), shape (n_samples,); a lazy Dask array (one task per row chunk) when ``X`` is
        one."""
        if is_dask_collection(X):
            from fastloss.dask._predict import lazy

            return lazy(self, "predict", X)
        z = self._decision(X)
        return np.exp(z) if self._log_link() else z

    def score(self, X: ArrayLike, y: ArrayLike,
              sample_weight: Optional[ArrayLike] = None) -> float:
        """Coefficient of determination R^2 of the predictions (weighted by
        ``sample_weight``, as scikit-learn's ``r2_score``), or for the log-link losses D^2,
        the share of the Tweedie deviance explained (``1 - D(y, predict(X)) / D(y, ybar)``,
        the null model the weighted mean; scikit-learn's GLMs' ``score``); computed on the
        cluster when any argument is a Dask array."""
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            from fastloss.dask._predict import score

            return score(self, X, y, sample_weight)
        reject_masked(y, "y")
        y_true = np.asarray(y, dtype=np.float64).ravel()
        sw = _check_sample_weight(sample_weight, len(y_true))
        if self._log_link():
            _glm.check_targets(y_true, self.loss, float(self.power))
            return self._score_of(self._decision(X), y_true, sw)
        return r2_score(y_true, self.predict(X), sw)

    def _score_of(self, z: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        if self._log_link():
            return _glm.d2_score(t.astype(np.float64), z, sw,
                                 _glm.tweedie_power(self.loss, float(self.power)))
        return r2_score(t.astype(np.float64), z, sw)

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        # "auto" resolves to a solver that trains on sparse X
        sparse = self.optimizer == "auto" or self._trains_on_sparse(str(self.optimizer))

        return Tags(estimator_type="regressor",
                    target_tags=TargetTags(required=True, positive_only=self._log_link()),
                    regressor_tags=RegressorTags(), input_tags=InputTags(sparse=sparse))


