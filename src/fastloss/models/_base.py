"""The machinery both estimators share: parameter checks, the objective, the training loops
(full-batch L-BFGS and CG; per-sample and mini-batch epochs in C with
fastloss.linear.sgd_epoch), sample and class weights, fit/predict."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from fastloss import _sparse, linear, optim
from fastloss._sparse import is_sparse
from fastloss._validation import (NON_NEGATIVE, UNIT_OPEN, check_choice, check_flag,
                                  check_int, check_real, is_dask_collection)
from fastloss.optim._minimize import OptimizeResult
from fastloss.models._early_stopping import validation_split
from fastloss.models._sklearn import (_check_feature_names, _check_finite, _check_sample_weight,
                                      _check_X, _check_y_present, _Params, warn_not_converged)

#: the optimizers every model takes (LinearRegression adds "cholesky")
OPTIMIZERS = ("lbfgs", "sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "nadam",
              "radam", "adamax", "lion", "cg")
#: the learning-rate schedules of the stochastic optimizers ("optimal": "sgd" only;
#: "adaptive": constant, divided by 5 whenever fit's early stopping would stop)
LR_SCHEDULES = ("constant", "invscaling", "optimal", "adaptive")
#: "adaptive" stops dividing the learning rate below this (scikit-learn's)
ADAPTIVE_MIN_LR = 1e-6
#: the learning rate of each stochastic optimizer when ``lr=None``: scikit-learn's
#: ``eta0=0.01`` for SGD, and what reaches the optimum on standardized data with the
#: default schedule (Adagrad's accumulator decays its steps by itself, so it starts higher;
#: Adamax twice Adam's, as torch's defaults 2e-3 vs 1e-3; Lion's sign steps move every
#: weight by lr whatever the gradient, so it starts lower: 0.003 reaches the housing optimum
#: in ~15 epochs and iris in the demo's 200, 0.001 is too slow for iris)
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01,
              "adamw": 0.01, "nadam": 0.01, "radam": 0.01, "adamax": 0.02, "lion": 0.003}
#: the rules whose ``alpha`` is a decoupled weight decay, not a penalty in the objective
DECOUPLED_DECAY = ("adamw", "lion")
FULL_BATCH = ("lbfgs", "cg")
#: dense float64 X of at least this many values gets L-BFGS's float32 first stage (softmax:
#: see _fit_full_batch); below it an evaluation is too cheap for the stage to pay its way
FLOAT32_STAGE_MIN_VALUES = 1_000_000
#: the factor of the intercept's SGD steps on scipy.sparse X (scikit-learn's)
SPARSE_INTERCEPT_DECAY = 0.01

#: ``value_and_grad(W, b) -> (value, grad_W, grad_b)`` of the whole objective (b None without
#: an intercept): what the full-batch minimizers need, in memory or on a Dask cluster
Objective = Callable[[NDArray[np.float64], Optional[NDArray[np.float64]]],
                     Tuple[float, NDArray[Any], Optional[NDArray[Any]]]]
#: X's columns' (weighted) means and second moments, float64 (d,) each
Moments = Tuple[NDArray[np.float64], NDArray[np.float64]]


def _column_moments(X: Any, sw: Optional[NDArray[Any]], centred: bool) -> Moments:
    """The columns' (weighted) means (zeros unless ``centred``) and second moments
    ``sum_i w_i x_ij^2 / sum_i w_i`` in float64, weights normalized so that an integer
    weight and a repeated row give the same values. Raises scikit-learn's ValueError when X
    holds NaN or inf: they make a second moment non-finite, so the sums are the check (X is
    read again only then, to tell them from squares that overflow). A scipy.sparse CSR X
    (checked by the caller) is summed over its stored entries, never densified."""
    if is_sparse(X):
        return _sparse_column_moments(_sparse.csr_rows(X), sw, centred)
    Xd = X.astype(np.float64, copy=False)
    n = max(len(Xd), 1)
    w = None if sw is None else np.asarray(sw, np.float64) / float(np.sum(sw))
    second = (np.einsum("ij,ij->j", Xd, Xd) / n if w is None
              else np.einsum("i,ij,ij->j", w, Xd, Xd))
    if not np.isfinite(second).all():
        _check_finite(X)
    mu = (np.zeros(Xd.shape[1]) if not centred else np.einsum("ij->j", Xd) / n
          if w is None else w @ Xd)
    return mu, second


def _weight_range(sw: Optional[NDArray[Any]], n: int) -> Tuple[float, float]:
    """``(sum(w), min(w))`` of the sample weights (``(n, 1)`` without; min inf for none)."""
    if sw is None:
        return float(n), (1.0 if n else math.inf)
    return float(np.sum(sw)), (float(np.min(sw)) if len(sw) else math.inf)


def _fits_float32(second: NDArray[np.float64], weight_sum: float, min_weight: float) -> bool:
    """Whether every value of X is within float32's range (half its largest value), from
    the columns' second moments alone: ``x_ij^2 <= second_j sum(w) / min(w)``. False with
    a zero weight (its row is not in the moments, and would make 0 * inf = NaN) or no
    rows (``min_weight`` inf)."""
    wsum, wmin = float(weight_sum), float(min_weight)
    if not 0.0 < wmin < math.inf:
        return False
    limit = 0.5 * float(np.finfo(np.float32).max)
    return bool(float(np.max(second, initial=0.0)) * (wsum / wmin) <= limit * limit)


def _takes_float32_stage(model: Any, dtype: Any, n_values: float,
                         second: NDArray[np.float64], weight_sum: float,
                         min_weight: float) -> bool:
    """Whether ``model``'s full-batch fit runs L-BFGS's float32 first stage on dense X of
    ``dtype`` and ``n_values`` values (:meth:`_LinearModel._fit_full_batch`; in memory and
    on a Dask cluster alike): the softmax objective, float64 X of at least
    :data:`FLOAT32_STAGE_MIN_VALUES` values, all within float32's range."""
    return (model._solver() == "lbfgs" and model._linear_loss() == "softmax"
            and np.dtype(dtype) == np.float64 and n_values >= FLOAT32_STAGE_MIN_VALUES
            and _fits_float32(second, weight_sum, min_weight))


def _sparse_column_moments(X: _sparse.CsrRows, sw: Optional[NDArray[Any]],
                           centred: bool) -> Moments:
    """:func:`_column_moments` of a CSR matrix in O(nnz): the entries' (weighted) values
    and squares summed per column (the implicit zeros add nothing)."""
    n, d = X.shape
    rows = np.repeat(np.arange(n), np.diff(X.indptr))
    w = (np.full(n, 1.0 / max(n, 1)) if sw is None
         else np.asarray(sw, np.float64) / float(np.sum(sw)))[rows]
    values = X.data.astype(np.float64)
    second = np.bincount(X.indices, weights=w * values * values, minlength=d)
    mu = (np.bincount(X.indices, weights=w * values, minlength=d) if centred
          else np.zeros(d))
    return mu.astype(np.float64), second.astype(np.float64)


class _LinearModel(_Params):
    _loss_names: Tuple[str, ...] = ()
    _optimizer_names: Tuple[str, ...] = OPTIMIZERS
    #: the default schedule of the stochastic optimizers (``lr_schedule=None``)
    _sgd_schedule = "constant"

    # set by __init__ of the subclasses
    loss: str
    optimizer: str
    lr: Optional[float]
    max_iter: int
    batch_size: int
    alpha: float
    momentum: float
    tol: Optional[float]
    n_iter_no_change: int
    shuffle: bool
    random_state: Optional[int]
    fit_intercept: bool
    lr_schedule: Optional[str]
    power_t: float
    n_threads: Optional[int]
    early_stopping: bool
    validation_fraction: float
    validation_scores_: Optional[List[float]]
    _generator: Optional[np.random.Generator] = None
    #: whether the X of the current fit is scipy.sparse
    _sparse_input = False

    # ---- hyper-parameter validation
    def _validate_params(self) -> None:
        check_flag(self.early_stopping, "early_stopping")
        check_real(self.validation_fraction, "validation_fraction", UNIT_OPEN)
        check_choice(self.loss, "loss", self._loss_names)
        check_choice(self.optimizer, "optimizer", self._optimizer_names)
        for name in ("alpha", "momentum", "power_t"):
            check_real(getattr(self, name), name, NON_NEGATIVE)
        if self.lr is not None:
            check_real(self.lr, "lr", NON_NEGATIVE)
        for name in ("max_iter", "batch_size", "n_iter_no_change"):
            check_int(getattr(self, name), name, 1)
        if self.tol is not None:
            check_real(self.tol, "tol", NON_NEGATIVE)
        check_flag(self.fit_intercept, "fit_intercept")
        if self.lr_schedule is not None:
            check_choice(self.lr_schedule, "lr_schedule", LR_SCHEDULES)
        if self.lr_schedule == "optimal" and (self._solver() != "sgd" or self.alpha == 0):
            raise ValueError(f"lr_schedule='optimal' (eta = 1 / (alpha (t0 + t))) needs "
                             f"optimizer='sgd' and alpha > 0, got optimizer="
                             f"{self.optimizer!r} and alpha={self.alpha!r}")
        if self.n_threads is not None:
            check_int(self.n_threads, "n_threads", 1)

    def _solver(self) -> str:
        """The optimizer that trains: ``optimizer`` (LinearRegression resolves "auto")."""
        return str(self.optimizer)

    def _schedule(self) -> str:
        """The learning-rate schedule: ``lr_schedule``, or by default the model's
        (``_sgd_schedule``) for the stochastic optimizers, except Adagrad, whose
        accumulator decays its steps already (``"constant"``)."""
        if self.lr_schedule is not None:
            return str(self.lr_schedule)
        return "constant" if self._solver() == "adagrad" else self._sgd_schedule

    def _lr(self) -> float:
        """The (initial) learning rate: ``lr``, or the optimizer's ``DEFAULT_LR``."""
        return DEFAULT_LR.get(self._solver(), 0.0) if self.lr is None else float(self.lr)

    def _current_lr(self) -> float:
        """The learning rate of the next epoch: ``_lr()``, divided by 5 by ``"adaptive"``
        each time the loss stalled."""
        eta = getattr(self, "_adaptive_lr", None)
        return self._lr() if eta is None or self._schedule() != "adaptive" else float(eta)

    # ---- the objective, on the fused linear-model kernel
    def _value_and_grad(self, X: linear.Rows, t: NDArray[Any], W: NDArray[Any],
                        b: Optional[NDArray[Any]], sw: Optional[NDArray[Any]],
                        float32: bool = False
                        ) -> Tuple[float, NDArray[Any], Optional[NDArray[Any]]]:
        """(Weighted) mean loss of the data + L2 penalty, and its gradient wrt (W, b); b is
        None without an intercept. One pass over X (dense, or a :class:`_sparse.CsrRows`),
        on ``n_threads`` threads; ``float32``: of float64 X rounded to float32, in float32
        (:func:`fastloss.linear.objective`)."""
        value, gW, gb = linear.objective(X, t, W, b, sw, self._linear_loss(), float(self.alpha),
                                         self._loss_param(), n_threads=self.n_threads,
                                         float32=float32)
        return float(value), gW, gb

    def _linear_loss(self) -> str:
        """The loss's name in fastloss.linear."""
        raise NotImplementedError  # pragma: no cover - each subclass defines its loss

    def _loss_kwargs(self) -> Dict[str, float]:
        """The losses' parameters as fastloss.linear's keywords (``epsilon``;
        LinearRegression's ``power`` and ``quantile`` too)."""
        return dict(epsilon=float(getattr(self, "epsilon", 1.0)))

    def _loss_param(self) -> float:
        """The loss's one parameter, as :func:`fastloss.linear.objective` takes it."""
        return linear.loss_param(self._linear_loss(), **{
            "power": 1.5, "quantile": 0.5, **self._loss_kwargs()})

    def _start_weights(self, t: NDArray[Any], sw: Optional[NDArray[Any]]) -> None:
        """Fresh weights from the targets (zero weights stay zero; LinearRegression's GLMs
        start the intercept at the log-mean)."""

    # ---- training
    def _init_state(self, n_features: int, dtype: np.dtype[Any]) -> None:
        n_out = self._n_outputs()
        self._W = np.zeros((n_features, n_out) if n_out else n_features, dtype=dtype)
        self._b = np.zeros(n_out if n_out else 1, dtype=dtype)
        self._opt_state: Any = None
        self._opt_key: Any = None
        self.n_features_in_ = n_features
        self.n_iter_ = 0
        self.loss_curve_: List[float] = []

    def _n_outputs(self) -> int:
        return 0

    def _rng(self) -> np.random.Generator:
        # one stream per fit; partial_fit keeps drawing from it, so a sequence of calls is
        # reproducible from the seed too
        if self._generator is None:
            self._generator = np.random.default_rng(self.random_state)
        return self._generator

    def _intercept(self) -> Optional[NDArray[Any]]:
        return self._b if self.fit_intercept else None

    def _run_epochs(self, X: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]],
                    n_epochs: int, early_stopping: bool,
                    moments: Optional[Moments] = None,
                    held_out: Optional[Callable[[], float]] = None) -> None:
        if self._solver() in FULL_BATCH:
            self._fit_full_batch(X, t, sw, n_epochs, moments)
            return
        if self._solver() == "cholesky":
            self._fit_cholesky(X, t, sw)
            return
        rows = _sparse.csr_rows(X) if is_sparse(X) else X  # checked once for every epoch
        self._run_stochastic(lambda: self._epoch(rows, t, sw), n_epochs, early_stopping,
                             held_out)

    def _run_stochastic(self, epoch: Callable[[], float], n_epochs: int,
                        early_stopping: bool,
                        held_out: Optional[Callable[[], float]] = None) -> None:
        """Up to ``n_epochs`` calls of ``epoch()`` (one epoch, returning its mean loss),
        stopping early (``early_stopping``: this is a fit) on ``tol``/``n_iter_no_change``:
        on the epoch objective, or with ``held_out`` (the ``early_stopping`` parameter) on
        the held-out score ``held_out()`` after each epoch, scikit-learn's rule: no
        improvement while ``score < best + tol``."""
        # optimizer state carries over between partial_fit calls only while the optimizer and
        # its state-shaping settings stay the same (set_params may change them in between)
        key = (self._solver(), float(self.momentum), float(self.alpha), bool(self.fit_intercept),
               tuple(sorted(self._sgd_features().items())))
        if key != self._opt_key:
            self._opt_state, self._opt_key = None, key
        best, no_change, stopped = np.inf, 0, False
        if early_stopping:  # a fit: "adaptive" starts again from the initial rate
            self._adaptive_lr: Optional[float] = self._lr()
        if held_out is not None:
            self.validation_scores_ = []
        for _ in range(n_epochs):
            epoch_loss = epoch()
            self.loss_curve_.append(epoch_loss)
            self.n_iter_ += 1
            if not np.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"{type(self).__name__}: the training loss became {epoch_loss}; "
                    f"lower lr (now {self._lr()}) or standardize X")
            criterion = epoch_loss
            if held_out is not None:  # scikit-learn's score < best + tol, as a loss
                score = held_out()
                assert self.validation_scores_ is not None
                self.validation_scores_.append(score)
                criterion = -score
            if early_stopping and self.tol is not None:
                if criterion > best - self.tol:
                    no_change += 1
                    if no_change >= self.n_iter_no_change:
                        eta = self._current_lr()
                        if self._schedule() == "adaptive" and eta > ADAPTIVE_MIN_LR:
                            # scikit-learn's "adaptive": a fifth of the rate, and go on
                            self._adaptive_lr, no_change = eta / 5, 0
                        else:
                            stopped = True
                            break
                else:
                    no_change = 0
                best = min(best, criterion)
        if early_stopping and self.tol is not None and not stopped:
            self._warn_not_converged(
                f"{type(self).__name__}: maximum number of iterations (max_iter={self.max_iter})"
                f" reached before convergence (the epoch loss still improved by more than "
                f"tol={self.tol}); consider increasing max_iter")

    def _warn_not_converged(self, message: str) -> None:
        """The stochastic fits' ConvergenceWarning (SGDClassifier's one-vs-rest fits warn
        once for all their classes)."""
        warn_not_converged(message)

    def _epoch(self, X: Any, t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        """One epoch in one C call (fastloss.linear.sgd_epoch): per sample for "sgd", else
        mini-batches of ``batch_size`` with the optimizer's torch.optim rule. Its state (the
        rule's buffers, the update count that the schedule and Adam's bias corrections run
        on, the shuffling seed) is ``self._opt_state``."""
        value, self._opt_state = linear.sgd_epoch(
            X, t, self._W, self._intercept(), self._opt_state, sample_weight=sw,
            **self._epoch_kwargs())
        return self._epoch_objective(float(value))

    def _epoch_kwargs(self) -> Dict[str, Any]:
        """The keyword arguments of this model's ``sgd_epoch`` calls (a shuffling seed drawn
        from the model's stream when the state is new)."""
        seed = None
        if self._opt_state is None and self.shuffle:
            seed = int(self._rng().integers(2**63))
        batch_size = 1 if self._solver() == "sgd" else int(self.batch_size)
        schedule = self._schedule()
        return dict(loss=self._linear_loss(), optimizer=self._solver(), lr=self._current_lr(),
                    learning_rate="constant" if schedule == "adaptive" else schedule,
                    power_t=float(self.power_t),
                    alpha=float(self.alpha), momentum=float(self.momentum),
                    **self._loss_kwargs(), shuffle=self.shuffle,
                    seed=seed, batch_size=batch_size, **self._sgd_features(),
                    # scikit-learn's SPARSE_INTERCEPT_DECAY: the intercept's steps on sparse X
                    # are a hundredth (it is updated every sample, each weight rarely)
                    intercept_decay=SPARSE_INTERCEPT_DECAY if self._sparse_input else 1.0)

    def _sgd_features(self) -> Dict[str, Any]:
        """scikit-learn's SGD options of this model for sgd_epoch (none by default;
        LinearRegression's penalty, l1_ratio, average)."""
        return {}

    def _epoch_objective(self, mean_loss: float) -> float:
        """The epoch's objective from its mean loss: the mean loss is of the samples
        before their updates, without the penalty (AdamW's decay is no penalty: the
        objective it minimizes has none; nor is Lion's); with an L1 part, ``alpha ((1 - r)
        ||W||^2 / 2 + r ||W||_1)``."""
        alpha = 0.0 if self._solver() in DECOUPLED_DECAY else float(self.alpha)
        features = self._sgd_features()
        r = {"l2": 0.0, "l1": 1.0}.get(features.get("penalty", "l2"),
                                       float(features.get("l1_ratio", 0.0)))
        return mean_loss + alpha * ((1 - r) * 0.5 * float(np.vdot(self._W, self._W))
                                    + r * float(np.abs(self._W).sum()))

    def _fit_full_batch(self, X: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]],
                        maxiter: int, moments: Optional[Moments] = None) -> None:
        """L-BFGS or CG on the whole objective (``max_iter`` iterations at most, ``tol`` the
        gradient tolerance as in scikit-learn's LogisticRegression), on X in memory:
        :meth:`_minimize_full_batch` with X's (weighted) column moments
        (:func:`_column_moments`, or ``moments`` when the caller has them). The solver works
        in float64 and the objective in X's dtype (float32 X is not copied: scikit-learn's
        LogisticRegression computes in float32 too).

        The softmax objective on dense float64 X of :data:`FLOAT32_STAGE_MIN_VALUES` values
        or more runs L-BFGS in two stages: first on X rounded to float32, in float32 (the
        fused kernel rounds each block as it reads it: no copy of X, and each evaluation
        takes about two thirds of a float64 one), to ``tol`` of its float32 gradient; then
        from there on X itself, in float64, to ``tol`` of the float64 gradient, which
        usually holds at once (one evaluation). The minimizer is the float64 objective's,
        to the same tolerance, as in LAPACK's mixed-precision solvers (``dsgesv``). Skipped
        when X has values outside float32's range (or a zero sample weight hides one)."""
        mu, second = moments if moments is not None else _column_moments(
            X, sw, bool(self.fit_intercept))
        # CSR X: the objective's O(nnz) path (X @ W and X.T @ dz over the stored entries), in
        # float64; dense X as it is
        rows = _sparse.csr_rows(X.astype(np.float64)) if is_sparse(X) else X
        dtype = np.float64 if is_sparse(X) else X.dtype

        def objective_in(dtype: Any, sw: Optional[NDArray[Any]], float32: bool = False
                         ) -> Objective:
            def value_and_grad(W: NDArray[Any], b: Optional[NDArray[Any]]
                               ) -> Tuple[float, NDArray[Any], Optional[NDArray[Any]]]:
                return self._value_and_grad(rows, t, W.astype(dtype, copy=False),
                                            None if b is None else b.astype(dtype, copy=False),
                                            sw, float32=float32)
            return value_and_grad

        first = None
        if not is_sparse(X) and _takes_float32_stage(self, X.dtype, X.size, second,
                                                     *_weight_range(sw, len(X))):
            first = objective_in(np.float32, None if sw is None else sw.astype(np.float32),
                                 float32=True)
        self._minimize_full_batch(objective_in(dtype, sw), maxiter, mu, second,
                                  float32_stage=first)

    def _minimize_full_batch(self, value_and_grad: Objective, maxiter: int,
                             mu: NDArray[np.float64], second: NDArray[np.float64],
                             float32_stage: Optional[Objective] = None) -> None:
        """L-BFGS or CG on ``value_and_grad(W, b)`` (float64) from the current weights, given
        the columns' weighted means ``mu`` (zeros without an intercept) and second moments
        ``second`` (``sum_i w_i x_ij^2 / sum_i w_i``), in memory or from a cluster.
        ``float32_stage``: the same objective in float32, minimized first by L-BFGS
        (:meth:`_fit_full_batch`); its iterations count in ``max_iter`` and ``n_iter_``, and
        its objective values (of X rounded to float32) start ``loss_curve_``.

        The solver runs in standardized coordinates: ``coef = v / s`` and ``intercept = c -
        mu . coef`` with ``mu``, ``s`` the columns' (weighted) means (0 without an intercept)
        and standard deviations. The objective and its minimizer are the same; only the
        solver's path changes, and it no longer depends on the features' units and offsets
        (raw, unscaled data converge as standardized data do). ``tol`` applies to the gradient
        in ``(v, c)``.
        """
        W_shape, nW = self._W.shape, self._W.size
        dtype = self._W.dtype
        fit_b = bool(self.fit_intercept)
        scale = np.sqrt(np.maximum(second - mu * mu, 0.0))
        scale[~(scale > 1e-12 * np.maximum(np.abs(mu), 1.0))] = 1.0  # constant columns
        col = scale[:, None] if len(W_shape) == 2 else scale

        def model_of(theta: NDArray[np.float64]) -> Tuple[NDArray[Any], Optional[NDArray[Any]]]:
            W = theta[:nW].reshape(W_shape) / col
            return W, (theta[nW:] - mu @ W) if fit_b else None

        # the last point evaluated and its objective: the line search usually ends on the
        # iterate, so the curve need not pay a second pass over the data for it
        last: List[Any] = [None, 0.0]

        def minimized(value_and_grad: Objective, grad_dtype: Any = np.float64
                      ) -> Callable[[NDArray[np.float64]], Tuple[float, NDArray[Any]]]:
            """The solver's function of theta; the gradient in ``grad_dtype`` (float32 for
            the float32 stage: L-BFGS then allows float32's rounding in f)."""
            def fun(theta: NDArray[np.float64]) -> Tuple[float, NDArray[Any]]:
                W, b = model_of(theta)
                value, gW, gb = value_and_grad(W, b)
                last[:] = theta.copy(), value
                if gb is None:
                    g = (gW / col).ravel()
                else:
                    g_v = (gW - np.multiply.outer(mu, gb).reshape(gW.shape)) / col
                    g = np.concatenate([g_v.ravel(), np.atleast_1d(gb)])
                return value, g.astype(grad_dtype, copy=False)
            return fun

        fun = minimized(value_and_grad)

        v0 = self._W * col
        parts = [v0.ravel()] + ([self._b.ravel() + mu @ self._W] if fit_b else [])
        theta0 = np.concatenate(parts).astype(np.float64)
        curve: List[float] = []

        def record(theta: NDArray[np.float64]) -> None:
            curve.append(last[1] if np.array_equal(theta, last[0]) else fun(theta)[0])

        gtol = 1e-5 if self.tol is None else max(float(self.tol), 1e-12)
        first_nit = 0
        if float32_stage is not None and maxiter > 0:
            first = optim.minimize_lbfgs(minimized(float32_stage, np.float32), theta0,
                                         gtol=gtol, maxiter=maxiter, callback=record)
            theta0, first_nit = first.x, int(first.nit)
        res: OptimizeResult
        if self._solver() == "lbfgs":
            res = optim.minimize_lbfgs(fun, theta0, gtol=gtol, maxiter=maxiter - first_nit,
                                       callback=record)
        else:
            res = optim.minimize_cg(fun, theta0, jac=True, gtol=gtol, maxiter=maxiter,
                                    callback=record)
        W, b = model_of(res.x)
        self._W[...] = W.astype(dtype)
        if b is not None:
            self._b[...] = np.asarray(b).astype(dtype)
        self.loss_curve_.extend(curve)
        self.n_iter_ += first_nit + int(res.nit)
        if not res.success and first_nit + int(res.nit) >= maxiter:
            warn_not_converged(
                f"{type(self).__name__}: {self._solver()} reached max_iter={maxiter} before "
                f"the gradient tolerance (tol={gtol:g}); consider increasing max_iter "
                f"({res.message})")

    def _fit_cholesky(self, X: NDArray[Any], t: NDArray[Any],
                      sw: Optional[NDArray[Any]]) -> None:
        raise NotImplementedError  # pragma: no cover - LinearRegression defines it

    # ---- public API shared by both models
    def _fit(self, X: Any, y: Any, sample_weight: Any, *, reset: bool, n_epochs: int,
             early_stopping: bool) -> Any:
        if is_dask_collection(X) or is_dask_collection(y) or is_dask_collection(sample_weight):
            from fastloss.dask._fit import fit  # imported only for Dask input

            if self.early_stopping:
                raise ValueError("early_stopping (a held-out validation fraction) is not "
                                 "supported on Dask arrays")
            return fit(self, X, y, sample_weight, reset=reset, n_epochs=n_epochs,
                       early_stopping=early_stopping)
        self._sparse_input = is_sparse(X)
        self._validate_params()
        if self.early_stopping and self._solver() in FULL_BATCH + ("cholesky",):
            raise ValueError(f"early_stopping (on a held-out validation_fraction) needs a "
                             f"stochastic optimizer, got optimizer={self._solver()!r}")
        if self.early_stopping and not reset:
            raise ValueError("early_stopping should be False with partial_fit")
        if self._sparse_input:
            self._check_sparse_solver()
        _check_y_present(y, self)
        _check_feature_names(self, X, reset=reset or not hasattr(self, "_W"))
        full_batch = self._solver() in FULL_BATCH
        # a full-batch fit checks X for NaN and inf from its column moments (one pass fewer)
        X = _check_X(X, finite=not full_batch, sparse_ok=True)
        t = self._prepare_targets(y, X, reset=reset)
        sw = _check_sample_weight(sample_weight, X.shape[0])
        raw_sw = sw  # the held-out score weighs by sample_weight alone, as scikit-learn's
        sw = self._weights(t, sw, partial=not reset)
        moments = (_column_moments(X, sw, bool(self.fit_intercept)) if full_batch else None)
        if reset or not hasattr(self, "_W"):
            self._generator = None
            self._init_state(X.shape[1], X.dtype)
            self._start_weights(t, sw)
        else:
            self._check_n_features(X)
        X = X.astype(self._W.dtype, copy=False)
        t = t.astype(self._W.dtype, copy=False) if t.dtype.kind == "f" else t
        if sw is not None and self._solver() not in FULL_BATCH + ("cholesky",):
            sw = sw.astype(self._W.dtype)
        held_out = None
        self.validation_scores_ = None
        if self.early_stopping:
            X, t, sw, held_out = self._hold_out(X, t, sw, raw_sw)
        self._run_epochs(X, t, sw, n_epochs, early_stopping, moments, held_out)
        self._publish()
        return self

    def _weights(self, t: NDArray[Any], sw: Optional[NDArray[Any]], *,
                 partial: bool) -> Optional[NDArray[Any]]:
        """The samples' weights in the objective (the classifiers fold in class_weight)."""
        return sw

    def _trains_on_sparse(self, solver: str) -> bool:
        """Whether ``solver`` trains on scipy.sparse X: plain per-sample ``"sgd"`` on one
        output (the O(nnz) scaled epoch of :func:`fastloss.sgd_epoch`) or a full-batch
        solver (the objective's CSR path); the other optimizers update all ``d`` weights
        every step."""
        return solver in FULL_BATCH or (solver == "sgd" and self._linear_loss() != "softmax")

    def _hold_out(self, X: Any, t: NDArray[Any], sw: Optional[NDArray[Any]],
                  raw_sw: Optional[NDArray[Any]]) -> Tuple[Any, NDArray[Any],
                                                          Optional[NDArray[Any]],
                                                          Callable[[], float]]:
        """``early_stopping``: the training part of ``(X, t, sw)`` and the score of the
        current model on the held-out part (``validation_fraction`` of the samples, from the
        model's random stream, stratified by class for classifiers; weighted by
        ``sample_weight`` only, as scikit-learn's)."""
        labels = self._split_labels(t)
        train, held = validation_split(X.shape[0], float(self.validation_fraction),
                                       self._rng(), labels)
        held_sw = None if raw_sw is None else raw_sw[held]
        if held_sw is not None and not held_sw.any():
            raise ValueError("The sample weights for validation set are all zero, consider "
                             "using a different random state.")
        X_held, t_held = X[held], t[held]

        def score() -> float:
            self._publish()
            W, b = self._decision_weights()
            return self._score_of(X_held @ W + b, t_held, held_sw)

        return X[train], t[train], None if sw is None else sw[train], score

    def _split_labels(self, t: NDArray[Any]) -> Optional[NDArray[np.int64]]:
        """The class of each target for a stratified split (None: regression)."""
        return None

    def _score_of(self, z: NDArray[Any], t: NDArray[Any], sw: Optional[NDArray[Any]]) -> float:
        """The model's ``score`` of decision values ``z`` against training targets ``t``."""
        raise NotImplementedError  # pragma: no cover - each model defines it

    def _check_sparse_solver(self) -> None:
        if self._trains_on_sparse(self._solver()):
            return
        allowed = ("'lbfgs', 'cg' or 'sgd'" if self._linear_loss() != "softmax"
                   else "'lbfgs' or 'cg'")
        raise ValueError(f"{type(self).__name__}: scipy.sparse X trains with optimizer="
                         f"{allowed}, got optimizer={self.optimizer!r} (pass a dense X, e.g. "
                         f"X.toarray(), for it)")

    def _decision(self, X: Any) -> NDArray[Any]:
        self._check_fitted()
        _check_feature_names(self, X, reset=False)
        X = _check_X(X, sparse_ok=True)
        self._check_n_features(X)
        W, b = self._decision_weights()
        return X.astype(self._W.dtype, copy=False) @ W + b

    def _decision_weights(self) -> Tuple[NDArray[Any], NDArray[Any]]:
        """The weights predictions use: the trained ones (LinearRegression: the average
        with ``average``)."""
        return self._W, self._b

    def _check_n_features(self, X: NDArray[Any]) -> None:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        raise NotImplementedError  # pragma: no cover

    def _publish(self) -> None:
        raise NotImplementedError  # pragma: no cover


