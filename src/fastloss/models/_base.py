"""The machinery both estimators share: parameter checks, the objective, the training loops
(per-sample and mini-batch epochs in C with fastloss.linear.sgd_epoch, full-batch CG),
fit/predict."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from fastloss import linear, optim
from fastloss._validation import NON_NEGATIVE, check_choice, check_int, check_real
from fastloss.models._sklearn import _check_X, _check_y_present, _Params

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "cg")


class _LinearModel(_Params):
    _loss_names: Tuple[str, ...] = ()

    # set by __init__ of the subclasses
    loss: str
    optimizer: str
    lr: float
    max_iter: int
    batch_size: int
    alpha: float
    momentum: float
    tol: Optional[float]
    n_iter_no_change: int
    shuffle: bool
    random_state: Optional[int]
    _generator: Optional[np.random.Generator] = None

    # ---- hyper-parameter validation
    def _validate_params(self) -> None:
        check_choice(self.loss, "loss", self._loss_names)
        check_choice(self.optimizer, "optimizer", OPTIMIZERS)
        for name in ("lr", "alpha", "momentum"):
            check_real(getattr(self, name), name, NON_NEGATIVE)
        for name in ("max_iter", "batch_size", "n_iter_no_change"):
            check_int(getattr(self, name), name, 1)
        if self.tol is not None:
            check_real(self.tol, "tol", NON_NEGATIVE)

    # ---- the objective, on the fused loss kernels
    def _value_and_grad(self, X: NDArray[Any], t: NDArray[Any], W: NDArray[Any],
                        b: NDArray[Any]) -> Tuple[float, NDArray[Any], NDArray[Any]]:
        """Mean loss of the batch + L2 penalty, and its gradient wrt (W, b)."""
        alpha = 0.0 if self.optimizer == "adamw" else float(self.alpha)  # AdamW: decay instead
        value, gW, gb = linear.objective(X, t, W, b, None, self._linear_loss(), alpha,
                                         float(getattr(self, "epsilon", 1.0)))
        assert gb is not None
        return float(value), gW, gb

    def _linear_loss(self) -> str:
        """The loss's name in fastloss.linear."""
        raise NotImplementedError  # pragma: no cover - each subclass defines its loss

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

    def _run_epochs(self, X: NDArray[Any], t: NDArray[Any], n_epochs: int,
                    early_stopping: bool) -> None:
        if self.optimizer == "cg":
            self._fit_cg(X, t)
            return
        # optimizer state carries over between partial_fit calls only while the optimizer and
        # its state-shaping settings stay the same (set_params may change them in between)
        key = (self.optimizer, float(self.momentum), float(self.alpha))
        if key != self._opt_key:
            self._opt_state, self._opt_key = None, key
        best, no_change = np.inf, 0
        for _ in range(n_epochs):
            epoch_loss = self._epoch(X, t)
            self.loss_curve_.append(epoch_loss)
            self.n_iter_ += 1
            if not np.isfinite(epoch_loss):
                raise FloatingPointError(
                    f"{type(self).__name__}: the training loss became {epoch_loss}; "
                    f"lower lr (now {self.lr}) or standardize X")
            if early_stopping and self.tol is not None:
                if epoch_loss > best - self.tol:
                    no_change += 1
                    if no_change >= self.n_iter_no_change:
                        break
                else:
                    no_change = 0
                best = min(best, epoch_loss)

    def _epoch(self, X: NDArray[Any], t: NDArray[Any]) -> float:
        """One epoch in one C call (fastloss.linear.sgd_epoch): per sample for "sgd", else
        mini-batches of ``batch_size`` with the optimizer's torch.optim rule. Its state (the
        rule's buffers, the update count, the shuffling seed) is ``self._opt_state``."""
        seed = None
        if self._opt_state is None and self.shuffle:
            seed = int(self._rng().integers(2**63))
        batch_size = 1 if self.optimizer == "sgd" else int(self.batch_size)
        value, self._opt_state = linear.sgd_epoch(
            X, t, self._W, self._b, self._opt_state, loss=self._linear_loss(),
            optimizer=self.optimizer, lr=float(self.lr), alpha=float(self.alpha),
            momentum=float(self.momentum), epsilon=float(getattr(self, "epsilon", 1.0)),
            shuffle=self.shuffle, seed=seed, batch_size=batch_size)
        # the epoch's mean loss is of the samples before their updates, without the penalty
        # (AdamW's decay is no penalty: the objective it minimizes has none)
        alpha = 0.0 if self.optimizer == "adamw" else float(self.alpha)
        return float(value) + 0.5 * alpha * float(np.vdot(self._W, self._W))

    def _fit_cg(self, X: NDArray[Any], t: NDArray[Any]) -> None:
        W_shape, nW = self._W.shape, self._W.size
        dtype = self._W.dtype
        Xd = X.astype(np.float64, copy=False)

        # the last point evaluated and its objective: the line search usually ends on the
        # iterate, so the curve need not pay a second pass over the data for it
        last: List[Any] = [None, 0.0]

        def fun(theta: NDArray[np.float64]) -> Tuple[float, NDArray[np.float64]]:
            W = theta[:nW].reshape(W_shape)
            b = theta[nW:]
            value, gW, gb = self._value_and_grad(Xd, t, W, b)
            last[:] = theta.copy(), value
            return value, np.concatenate([gW.ravel(), gb.ravel()])

        theta0 = np.concatenate([self._W.ravel(), self._b.ravel()]).astype(np.float64)
        curve: List[float] = []

        def record(theta: NDArray[np.float64]) -> None:
            curve.append(last[1] if np.array_equal(theta, last[0]) else fun(theta)[0])

        gtol = 1e-5 if self.tol is None else max(float(self.tol), 1e-12)
        res = optim.minimize_cg(fun, theta0, jac=True, gtol=gtol, maxiter=int(self.max_iter),
                                callback=record)
        self._W[...] = res.x[:nW].reshape(W_shape).astype(dtype)
        self._b[...] = res.x[nW:].astype(dtype)
        self.loss_curve_.extend(curve)
        self.n_iter_ += int(res.nit)

    # ---- public API shared by both models
    def _fit(self, X: Any, y: Any, *, reset: bool, n_epochs: int, early_stopping: bool) -> Any:
        self._validate_params()
        _check_y_present(y, self)
        X = _check_X(X)
        t = self._prepare_targets(y, X, reset=reset)
        if reset or not hasattr(self, "_W"):
            self._generator = None
            self._init_state(X.shape[1], X.dtype)
        else:
            self._check_n_features(X)
        X = X.astype(self._W.dtype, copy=False)
        t = t.astype(self._W.dtype, copy=False) if t.dtype.kind == "f" else t
        self._run_epochs(X, t, n_epochs, early_stopping)
        self._publish()
        return self

    def _decision(self, X: Any) -> NDArray[Any]:
        self._check_fitted()
        X = _check_X(X)
        self._check_n_features(X)
        return X.astype(self._W.dtype, copy=False) @ self._W + self._b

    def _check_n_features(self, X: NDArray[Any]) -> None:
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")

    def _prepare_targets(self, y: Any, X: NDArray[Any], *, reset: bool) -> NDArray[Any]:
        raise NotImplementedError  # pragma: no cover

    def _publish(self) -> None:
        raise NotImplementedError  # pragma: no cover


