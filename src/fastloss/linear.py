"""Linear models trained by stochastic gradient descent.

:func:`sgd_epoch` runs whole epochs of per-sample SGD in one C call: for every sample it
computes the prediction ``z = x_i . coef + intercept``, the loss of that prediction, and
updates ``coef`` and ``intercept`` in place before the next sample; no Python runs per
sample. With ``batch_size=B`` it runs mini-batch epochs the same way (one update per B
samples, with their mean gradient). :func:`linear_value_and_grad` and
:func:`minibatch_step` compute one objective and gradient, and take one optimizer step,
on the fastloss loss kernels and NumPy's BLAS.

Losses (``r = z - y``; the per-sample loss ``l`` and its derivative ``dl/dz``):

* ``"squared_error"``: ``0.5 r^2``, ``r`` (half the squared error, as scikit-learn's
  ``SGDRegressor``, so the same ``lr`` gives the same trajectory).
* ``"absolute"``: ``|r|``, ``sign(r)`` (the subgradient 0 at ``r = 0``).
* ``"huber"``: ``0.5 r^2`` if ``|r| <= epsilon`` else ``epsilon (|r| - epsilon / 2)``;
  ``clip(r, -epsilon, epsilon)``.
* ``"logistic"``: ``log(1 + exp(z)) - y z`` for ``y in {0, 1}`` (computed stably);
  ``sigmoid(z) - y``.
* scikit-learn's SGD losses, for :func:`sgd_epoch` with plain ``"sgd"`` (its
  ``sklearn/linear_model/_sgd_fast.pyx`` definitions; ``m = y z`` with ``y in {-1, 1}``):
  ``"hinge"`` ``max(0, 1 - m)``, ``-y`` for ``m <= 1``; ``"squared_hinge"``
  ``max(0, 1 - m)^2``; ``"modified_huber"`` ``(1 - m)^2`` for ``-1 <= m < 1`` (0 above),
  ``-4 m`` below; ``"epsilon_insensitive"`` ``max(0, |r| - epsilon)``, ``sign(r)`` beyond
  ``epsilon``; ``"squared_epsilon_insensitive"`` ``max(0, |r| - epsilon)^2``.
* ``"softmax"``: ``logsumexp(z) - z_y`` with ``z = x_i @ coef + intercept`` over ``C``
  classes, integer labels ``y in [0, C)``; ``softmax(z) - onehot(y)``.
* scikit-learn's GLM losses on the log link (``z`` is the log of the predicted mean
  ``mu = exp(z)``; its ``HalfPoissonLoss``, ``HalfGammaLoss``, ``HalfTweedieLoss``: half the
  deviance, constant terms of ``y`` dropped, as :func:`fastloss.poisson_nll_loss`,
  :func:`fastloss.gamma_nll_loss`, :func:`fastloss.tweedie_loss` of the log-mean):
  ``"poisson"`` ``exp(z) - y z``, ``exp(z) - y`` (``y >= 0``); ``"gamma"`` ``z + y exp(-z)``,
  ``1 - y exp(-z)`` (``y > 0``); ``"tweedie"`` with ``power=p <= 0`` or ``>= 1``,
  ``exp((2-p) z) / (2-p) - y exp((1-p) z) / (1-p)``, ``exp((2-p) z) - y exp((1-p) z)``
  (``p = 1``, ``2``: poisson's and gamma's; any ``y`` for ``p <= 0``, ``y >= 0`` for
  ``1 <= p < 2``, ``y > 0`` from 2 on); and ``"pinball"`` with
  ``quantile=q in (0, 1)``, scikit-learn's ``PinballLoss`` of ``z`` itself, ``q (y - z)``
  for ``y >= z``, else ``(1 - q) (z - y)``; ``-q`` or ``1 - q``.

Shapes: ``X (n, d)``; single-output losses take ``y (n,)`` floats, ``coef (d,)`` and
``intercept`` of shape ``(1,)``; softmax takes integer labels ``y (n,)``, ``coef (d, C)``
and ``intercept (C,)``. The intercept is always a 1-D array (never 0-d) so it can be
updated in place; ``intercept=None`` fits no intercept. ``coef``, ``intercept`` and every
other float array share ``X``'s dtype, float32 or float64.

>>> import numpy as np, fastloss
>>> X = np.random.default_rng(0).normal(size=(1000, 3))
>>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.25
>>> coef, intercept = np.zeros(3), np.zeros(1)
>>> mean_loss, state = fastloss.sgd_epoch(X, y, coef, intercept, lr=0.05, n_epochs=5,
...                                       shuffle=True, seed=0)
>>> np.round(coef, 3).tolist(), np.round(intercept, 3).tolist(), state.t
([1.0, -2.0, 0.5], [0.25], 5000)
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import _atomic, _backend, _config, _linear, _sparse, losses, reference
from fastloss._validation import (INT64_MAX, NON_NEGATIVE, POSITIVE, UNIT, UNIT_OPEN,
                                  Interval, Intervals, check_choice, check_disjoint, check_flag,
                                  check_int, check_pair, check_real, first_where,
                                  reject_masked)

__all__ = ["EpochState", "sgd_epoch", "linear_value_and_grad", "linear_hessp",
           "minibatch_step"]

FloatArray = NDArray[np.floating[Any]]

#: scikit-learn's GLM losses on the log link and the quantile loss (module docstring)
GLM_LOSSES = reference.linear.GLM_LOSSES
LOSSES = ("squared_error", "absolute", "huber", "logistic", "softmax") + GLM_LOSSES
#: scikit-learn's SGD losses, for plain per-sample SGD (sgd_epoch with optimizer="sgd");
#: the margin ones take targets in {-1, 1}
PLAIN_SGD_LOSSES = reference.linear.MARGIN_LOSSES + ("epsilon_insensitive",
                                                     "squared_epsilon_insensitive")
SGD_LOSSES = LOSSES + PLAIN_SGD_LOSSES
#: the losses with a useful second derivative (absolute, huber and pinball have l'' = 0
#: almost everywhere)
HESSP_LOSSES = ("squared_error", "logistic", "softmax", "poisson", "gamma", "tweedie")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw", "nadam", "radam",
              "adamax", "lion")
SCHEDULES = ("constant", "invscaling", "optimal")
PENALTIES = ("l2", "l1", "elasticnet")
#: PyTorch's default ``eps`` of each adaptive rule (``eps=None``)
DEFAULT_EPS = {"sgd": 0.0, "momentum": 0.0, "adagrad": 1e-10, "rmsprop": 1e-8, "adam": 1e-8,
               "adamw": 1e-8, "nadam": 1e-8, "radam": 1e-8, "adamax": 1e-8, "lion": 0.0}
#: the default ``betas`` of each rule (``betas=None``): torch's, optax's for Lion
DEFAULT_BETAS = {"lion": (0.9, 0.99)}
_ADAM_BETAS = (0.9, 0.999)
#: state arrays per coefficient, in the order the kernel takes them
_N_BUFFERS = {"sgd": 0, "momentum": 1, "adagrad": 1, "rmsprop": 1, "adam": 2, "adamw": 2,
              "nadam": 2, "radam": 2, "adamax": 2, "lion": 1}
#: the rules with torch's ``decoupled_weight_decay`` flag (AdamW is ``"adamw"``)
DECOUPLED_RULES = ("nadam", "radam")

#: ``power`` of ``"tweedie"``: fastloss.tweedie_loss's, the Tweedie distributions'
#: (scikit-learn's TweedieRegressor's): <= 0 (0: the squared error of the mean exp(z); any
#: real targets) or >= 1 (compound Poisson-gamma between 1 and 2)
POWER = Intervals((Interval(-math.inf, 0.0, False, True), Interval(1.0, math.inf)))
#: ``quantile`` of ``"pinball"``
QUANTILE = Interval(0.0, 1.0, lo_closed=False)

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
#: the kernel counts updates in int64
_T_MAX = INT64_MAX


@dataclasses.dataclass
class EpochState:
    """What :func:`sgd_epoch` needs to resume where it stopped; picklable.

    Attributes:
        optimizer: the update rule the buffers belong to.
        t: updates done so far, one per sample or, with ``batch_size``, one per batch
            (torch.optim's step count: the counter of ``"invscaling"`` and of Adam's bias
            correction; the first update has ``t = 1``).
        epochs: epochs completed (epoch ``e`` of a shuffled run visits
            ``np.random.default_rng([seed, e]).permutation(n)``).
        seed: the shuffling seed (drawn once from fresh entropy if none was given).
        coef_state: the rule's buffers shaped like ``coef``: ``()`` for sgd,
            ``(momentum_buffer,)``, ``(sum_of_squares,)`` for adagrad, ``(square_avg,)`` for
            rmsprop, ``(exp_avg, exp_avg_sq)`` for adam, adamw, nadam and radam,
            ``(exp_avg, exp_inf)`` for adamax, ``(exp_avg,)`` for lion.
        intercept_state: the same, shaped like the intercept (empty without intercept).
        losses: the mean loss of every epoch run with this state.
        average_coef, average_intercept: with ``average``, the averaged ``coef`` and
            intercept (averaged SGD: the mean of the iterates from update ``average`` on);
            ``None`` otherwise (and ``average_intercept`` without intercept).
        l1_q, l1_u: the L1 penalty's record (``penalty="l1"`` / ``"elasticnet"``): the
            penalty each weight received so far (float64, shaped like ``coef``), and what
            any weight could have received (``None`` and 0 without an L1 part).
        mu_product: NAdam's product of its momentum cache ``mu`` over the updates so far
            (1.0 before the first), a value of X's dtype (torch's ``state["mu_product"]``;
            torch keeps one per tensor, equal for coef and intercept, so one is kept here).
    """

    optimizer: str
    t: int = 0
    epochs: int = 0
    seed: Optional[int] = None
    coef_state: Tuple[FloatArray, ...] = ()
    intercept_state: Tuple[FloatArray, ...] = ()
    losses: List[float] = dataclasses.field(default_factory=list)
    average_coef: Optional[FloatArray] = None
    average_intercept: Optional[FloatArray] = None
    l1_q: Optional[FloatArray] = None
    l1_u: float = 0.0
    mu_product: float = 1.0


class _EpochUndo:
    """A copy of what an epoch writes (``coef``, ``intercept``, the state's arrays and
    fields), to put back with :meth:`restore`: sgd_epoch's undo of a first epoch on CSR X
    whose kernel met an index out of range (the kernel checks each as it reads it)."""

    def __init__(self, W: FloatArray, b: Optional[FloatArray], state: EpochState,
                 before: Optional[Dict[str, Any]]) -> None:
        self.state = state
        # the fields before _check_state added arrays to the state (None: a new state)
        fields = before if before is not None else self.fields_of(state)
        assert fields is not None  # state is an EpochState
        self.fields = fields
        self.n_losses = len(state.losses)
        kept = [W, b, *state.coef_state, *state.intercept_state, state.average_coef,
                state.average_intercept, state.l1_q]
        self.arrays = [a for a in kept if a is not None]
        self.nbytes = sum(a.nbytes for a in self.arrays)  # what take() copies
        self.copies: List[np.ndarray] = []

    def take(self) -> "_EpochUndo":
        """Copies the arrays (once it is decided that the copy is worth it)."""
        self.copies = [a.copy() for a in self.arrays]
        return self

    @staticmethod
    def fields_of(state: Any) -> Optional[Dict[str, Any]]:
        """The fields of an EpochState (the arrays not copied), or None for anything else."""
        if not isinstance(state, EpochState):
            return None
        return {f.name: getattr(state, f.name) for f in dataclasses.fields(state)}

    def restore(self) -> None:
        for a, c in zip(self.arrays, self.copies):
            np.copyto(a, c)
        for name, value in self.fields.items():
            setattr(self.state, name, value)
        del self.state.losses[self.n_losses:]


# ---- validation -------------------------------------------------------------------------

def _float_matrix(X: Any) -> FloatArray:
    """``X`` as a 2-D float32/float64 array with element-aligned strides (no copy if so)."""
    if _sparse.is_sparse(X):
        raise TypeError("X must be a dense array here (scipy.sparse X is taken by sgd_epoch "
                        "with optimizer='sgd' and by linear_value_and_grad); convert it with "
                        "X.toarray()")
    reject_masked(X, "X")
    a = np.asarray(X)
    if a.dtype.kind in "biu" and not isinstance(X, np.ndarray):
        a = a.astype(np.float64)  # nested lists of ints
    if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
        raise TypeError(f"X must be a float32 or float64 array, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {a.shape}")
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if any(s % a.itemsize for s in a.strides):
        a = np.ascontiguousarray(a)
    return a


def _param_array(a: Any, name: str, dtype: np.dtype[Any], shape: Tuple[int, ...],
                 writeable: bool) -> FloatArray:
    """A parameter array updated in place: exactly ``dtype``, ``shape``, C-contiguous."""
    if type(a) is not np.ndarray:
        reject_masked(a, name)
        why = " (updated in place)" if writeable else ""
        raise TypeError(f"{name} must be a numpy.ndarray{why}, got {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (X's dtype), got {a.dtype}")
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if writeable:
        if not a.flags.c_contiguous or not a.dtype.isnative:
            raise ValueError(f"{name} must be C-contiguous (it is updated in place)")
        if not a.flags.writeable:
            raise ValueError(f"{name} is read-only (it is updated in place)")
    return a


Rows = Any  # a dense FloatArray or a _sparse.CsrRows


def _model(X: Any, y: Any, coef: Any, intercept: Any, loss: str, sample_weight: Any,
           writeable: bool, sparse_ok: bool = False, check_indices: bool = True
           ) -> Tuple[Rows, Any, FloatArray, Optional[FloatArray], Optional[FloatArray]]:
    """Checks and converts ``X, y, coef, intercept, sample_weight`` (shared by every entry);
    with ``sparse_ok`` a scipy.sparse CSR ``X`` comes back as a :class:`_sparse.CsrRows`
    (its indices left to the kernel without ``check_indices``: :func:`_sparse.csr_rows`)."""
    Xa = (_sparse.csr_rows(X, check_indices=check_indices)
          if sparse_ok and _sparse.is_sparse(X) else _float_matrix(X))
    n, d = Xa.shape
    c = 1
    if loss == "softmax":
        reject_masked(coef, "coef")
        if type(coef) is not np.ndarray or coef.ndim != 2:
            got = f"shape {coef.shape}" if type(coef) is np.ndarray else type(coef).__name__
            raise ValueError(f"coef must be 2-D (n_features, n_classes) for loss='softmax', "
                             f"got {got}")
        c = coef.shape[1]
    coef_shape = (d, c) if loss == "softmax" else (d,)
    W = _param_array(coef, "coef", Xa.dtype, coef_shape, writeable)
    b = None if intercept is None else _param_array(intercept, "intercept", Xa.dtype, (c,),
                                                    writeable)
    if loss == "softmax" and c < 1:
        raise ValueError("coef must have at least one class column for loss='softmax'")

    reject_masked(y, "y")
    ya = np.asarray(y)
    if ya.ndim != 1 or ya.shape[0] != n:
        raise ValueError(f"y must be 1-D with {n} entries (one per row of X), got shape "
                         f"{ya.shape}")
    if loss == "softmax":
        if ya.dtype.kind not in "iu":
            raise TypeError(f"y must hold integer class labels for loss='softmax', got dtype "
                            f"{ya.dtype}")
        lo, hi = (int(ya.min()), int(ya.max())) if n else (0, 0)
        if lo >= 0 and hi < c and writeable:
            # sgd_epoch's kernel indexes with the labels as it runs: checked again on a
            # private copy, so another thread changing y meanwhile changes nothing (the
            # loss kernels of linear_value_and_grad check each label as they read it)
            ya = np.array(ya, dtype=np.int64)
            lo, hi = (int(ya.min()), int(ya.max())) if n else (0, 0)
        if lo < 0 or hi >= c:
            raise ValueError(f"y holds class label {lo if lo < 0 else hi} outside [0, {c}) "
                             f"(coef has {c} class columns)")
        ya = np.ascontiguousarray(ya, dtype=np.int64)
    else:
        if ya.dtype.kind not in "biuf":
            raise TypeError(f"y must be a real numeric array, got dtype {ya.dtype}")
        ya = np.ascontiguousarray(ya, dtype=Xa.dtype)
        if loss == "logistic":
            bad = first_where(ya, lambda part: (part != 0) & (part != 1))
            if bad >= 0:
                raise ValueError(f"y must hold 0 or 1 for loss='logistic', found {ya[bad]!r} "
                                 f"at y[{bad}]")
        if loss in reference.linear.MARGIN_LOSSES:
            bad = first_where(ya, lambda part: (part != -1) & (part != 1))
            if bad >= 0:
                raise ValueError(f"y must hold -1 or 1 for loss={loss!r}, found "
                                 f"{ya[bad].item()!r} at y[{bad}]")

    sw = None
    if sample_weight is not None:
        reject_masked(sample_weight, "sample_weight")
        swa = np.asarray(sample_weight)
        if swa.dtype.kind not in "biuf":
            raise TypeError(f"sample_weight must be a real numeric array, got dtype {swa.dtype}")
        if swa.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {swa.shape}")
        sw = np.ascontiguousarray(swa, dtype=Xa.dtype)
        if not np.all(np.isfinite(sw)) or (n and sw.min() < 0):
            raise ValueError("sample_weight must be finite and >= 0")

    if writeable:
        written = [("coef", W)] + ([("intercept", b)] if b is not None else [])
        xs = Xa.arrays() if isinstance(Xa, _sparse.CsrRows) else (Xa,)
        read = [("X", a) for a in xs] + [("y", ya)] + (
            [("sample_weight", sw)] if sw is not None else [])
        for wname, wa in written:
            for rname, ra in read + ([("coef", W)] if wname == "intercept" else []):
                if np.may_share_memory(wa, ra):
                    raise ValueError(f"{wname} must not share memory with {rname}")
    return Xa, ya, W, b, sw


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def loss_param(loss: str, epsilon: Any, power: Any, quantile: Any) -> float:
    """The loss's one scalar parameter (what the kernels' ``epsilon`` slot carries):
    ``power`` for ``"tweedie"``, ``quantile`` for ``"pinball"``, else ``epsilon``; each of
    the three checked whatever the loss (a bad value is an error even where unused)."""
    eps_ = check_real(epsilon, "epsilon", POSITIVE)
    power_ = check_real(power, "power", POWER)
    quantile_ = check_real(quantile, "quantile", QUANTILE)
    return power_ if loss == "tweedie" else quantile_ if loss == "pinball" else eps_


def target_domain(loss: str, param: float) -> Optional[str]:
    """The targets' domain of a GLM loss (``">= 0"``, ``"> 0"``), or None: any real
    (tweedie with power <= 0 too, as scikit-learn's HalfTweedieLoss)."""
    if loss == "tweedie" and param <= 0:
        return None
    if loss == "poisson" or (loss == "tweedie" and param < 2):
        return ">= 0"
    if loss == "gamma" or loss == "tweedie":
        return "> 0"
    return None


def _check_targets(ya: np.ndarray, loss: str, param: float) -> None:
    """GLM targets in their domain (NaN passes: it propagates, as everywhere)."""
    domain = target_domain(loss, param)
    if domain is None:
        return
    bad = first_where(ya, (lambda part: part < 0) if domain == ">= 0" else
                      (lambda part: part <= 0))
    if bad >= 0:
        raise target_error(loss, param, ya[bad].item(), bad)


def target_error(loss: str, param: float, value: float, index: int) -> ValueError:
    """The error of a GLM target ``y[index] = value`` outside :func:`target_domain`."""
    what = f"loss={loss!r}" + (f" with power={param:g}" if loss == "tweedie" else "")
    return ValueError(f"y must be {target_domain(loss, param)} for {what} (the targets of "
                      f"its deviance), found {value!r} at y[{index}]")


def _kernel_loss(loss: str, param: float) -> Tuple[str, float]:
    """The compiled kernels' loss: tweedie with power 1 or 2 is poisson's or gamma's (the
    tweedie rule takes the other powers: loss_rules.h)."""
    if loss == "tweedie" and param in (1.0, 2.0):
        return ("poisson" if param == 1.0 else "gamma"), 0.0
    return loss, param


def _check_state(state: Any, optimizer: str, W: FloatArray, b: Optional[FloatArray],
                 read: Sequence[np.ndarray], updates: int, average_start: int = 0,
                 l1: bool = False) -> EpochState:
    """The state to resume from (new if None), checked whole before anything is written:
    every field sgd_epoch reads or writes, for a call that makes ``updates`` updates (with
    averaging from update ``average_start`` on if it is > 0, with an L1 part if ``l1``)."""
    nbuf = _N_BUFFERS[optimizer]
    if updates > _T_MAX:
        raise ValueError(f"{updates} updates (updates per epoch x n_epochs) do not fit the "
                         "kernel's int64 update counter")
    if state is None:
        state = EpochState(optimizer=optimizer,
                           coef_state=tuple(np.zeros_like(W) for _ in range(nbuf)),
                           intercept_state=tuple(np.zeros_like(b) for _ in range(nbuf))
                           if b is not None else ())
        _add_scaled_state(state, W, b, average_start, l1)
        return state
    if not isinstance(state, EpochState):
        raise TypeError(f"state must be an EpochState (from a previous sgd_epoch call) or "
                        f"None, got {type(state).__name__}")
    if state.optimizer != optimizer:
        raise ValueError(f"state holds {state.optimizer!r} buffers, but optimizer="
                         f"{optimizer!r}")
    for name in ("t", "epochs"):
        value = getattr(state, name)
        if not _is_int(value):
            raise TypeError(f"state.{name} must be an int, got {value!r}")
        if not 0 <= value <= _T_MAX:
            raise ValueError(f"state.{name} must be in [0, 2**63 - 1], got {value!r}")
    if state.t > _T_MAX - updates:
        raise ValueError(f"state.t = {state.t} plus this call's {updates} updates does not "
                         "fit the kernel's int64 update counter")
    if state.seed is not None and (not _is_int(state.seed) or state.seed < 0):
        raise ValueError(f"state.seed must be None or an int >= 0, got {state.seed!r}")
    if type(state.losses) is not list:
        raise TypeError(f"state.losses must be a list (the mean loss of each epoch), got "
                        f"{type(state.losses).__name__}")
    groups: List[Tuple[str, Any, Optional[FloatArray]]] = [
        ("coef_state", state.coef_state, W), ("intercept_state", state.intercept_state, b)]
    written: List[np.ndarray] = [W] + ([b] if b is not None else [])
    names = ["coef"] + (["intercept"] if b is not None else [])
    for name, bufs, like in groups:
        want = nbuf if like is not None else 0
        if not isinstance(bufs, tuple) or len(bufs) != want:
            raise ValueError(f"state.{name} must be a tuple of {want} arrays for "
                             f"optimizer={optimizer!r}")
        for k, a in enumerate(bufs):
            assert like is not None  # want == 0 otherwise
            _param_array(a, f"state.{name}[{k}]", like.dtype, like.shape, True)
            for other in read:
                if np.may_share_memory(a, other):
                    raise ValueError(f"state.{name}[{k}] must not share memory with the "
                                     "data arrays")
            written.append(a)
            names.append(f"state.{name}[{k}]")
    extra: List[Tuple[str, Optional[FloatArray], np.dtype[Any]]] = [
        ("average_coef", W if average_start else None, W.dtype),
        ("average_intercept", b if average_start else None, W.dtype),
        ("l1_q", W if l1 else None, _F64)]
    for name, like, dtype in extra:
        a = getattr(state, name)
        if a is None or like is None:
            continue
        if name == "l1_q" and isinstance(a, np.ndarray) and a.dtype != _F64:
            raise TypeError(f"state.l1_q must have dtype float64, got {a.dtype}")
        _param_array(a, f"state.{name}", dtype, like.shape, True)
        if any(np.may_share_memory(a, other) for other in read):
            raise ValueError(f"state.{name} must not share memory with the data arrays")
        written.append(a)
        names.append(f"state.{name}")
    if average_start and state.t >= average_start and (
            state.average_coef is None or (b is not None and state.average_intercept is None)):
        raise ValueError(f"state has no average (average_coef / average_intercept) although "
                         f"its {state.t} updates passed average={average_start}: resume with "
                         "the average this state was started with")
    if optimizer == "nadam":  # NAdam's product of its momentum cache
        check_real(state.mu_product, "state.mu_product", UNIT)
    if l1:
        u = state.l1_u
        if not isinstance(u, (float, int, np.floating, np.integer)) or isinstance(u, bool) \
                or not (math.isfinite(float(u)) and float(u) >= 0):
            raise ValueError(f"state.l1_u must be a finite float >= 0, got {u!r}")
    check_disjoint(tuple(written), names)  # all C-contiguous, checked above
    # everything is valid: the arrays this call needs and the state lacks start at zero
    _add_scaled_state(state, W, b, average_start, l1)
    return state


def _add_scaled_state(state: EpochState, W: FloatArray, b: Optional[FloatArray],
                      average_start: int, l1: bool) -> None:
    """Zero arrays for the averages and the L1 record where the call needs them and the
    state has none."""
    if average_start and state.average_coef is None:
        state.average_coef = np.zeros_like(W)
    if average_start and b is not None and state.average_intercept is None:
        state.average_intercept = np.zeros_like(b)
    if l1 and state.l1_q is None:
        state.l1_q = np.zeros(W.shape)  # float64 for every dtype (linear_scaled_impl.h)


# ---- the per-sample epoch ---------------------------------------------------------------

def _average_start(average: Any) -> int:
    """scikit-learn's ``average``: False/0 none, True from the first update (1), an int
    ``k`` from update ``k`` on."""
    if isinstance(average, (bool, np.bool_)):
        return int(bool(average))
    if not _is_int(average):
        raise TypeError(f"average must be a bool or an int >= 0, got {average!r}")
    return check_int(average, "average", 0, _T_MAX)


def _optimal_init(loss: str, alpha: float, epsilon: float) -> float:
    """``t0`` of ``learning_rate="optimal"`` (``eta = 1 / (alpha (t0 + t - 1))``), by
    scikit-learn's heuristic (Bottou's SvmSgd): a typical weight ``sqrt(1 / sqrt(alpha))``,
    the first step ``eta0 = typw / max(1, dl/dz(-typw, y=1))``, ``t0 = 1 / (eta0 alpha)``."""
    if alpha == 0:
        return 0.0
    typw = math.sqrt(1.0 / math.sqrt(alpha))
    eta0 = typw / max(1.0, reference.linear.loss1(loss, -typw, 1.0, epsilon)[1])
    return 1.0 / (eta0 * alpha)


def sgd_epoch(X: ArrayLike, y: ArrayLike, coef: FloatArray, intercept: Optional[FloatArray],
              state: Optional[EpochState] = None, *, loss: str = "squared_error",
              optimizer: str = "sgd", lr: float = 0.01, learning_rate: str = "constant",
              power_t: float = 0.25, alpha: float = 0.0, epsilon: float = 1.0,
              power: float = 1.5, quantile: float = 0.5,
              momentum: float = 0.9, nesterov: bool = False,
              betas: Optional[Tuple[float, float]] = None, eps: Optional[float] = None,
              rho: float = 0.99, momentum_decay: float = 4e-3,
              decoupled_weight_decay: bool = False, sample_weight: Optional[ArrayLike] = None,
              shuffle: bool = False, seed: Optional[int] = None, n_epochs: int = 1,
              batch_size: int = 1, penalty: str = "l2", l1_ratio: float = 0.15,
              average: Any = False, intercept_decay: float = 1.0
              ) -> Tuple[float, EpochState]:
    r"""SGD over ``X`` for ``n_epochs`` epochs, per sample or mini-batch; ``coef``/``intercept``
    in place.

    For each sample ``i`` in turn (rows in order, or a fresh permutation per epoch when
    ``shuffle``): ``z = x_i . coef + intercept``; the loss ``l_i`` and ``dl/dz`` at the
    current parameters (see the module docstring); ``t += 1``; then one update of
    ``coef`` with gradient ``w_i dl/dz x_i + alpha coef`` and of the intercept with
    ``w_i dl/dz`` (the L2 penalty ``alpha`` spares the intercept, as in scikit-learn).

    Mini-batch (``batch_size=B > 1``): the epoch's visits (in order or shuffled, as above)
    are cut into batches of ``B`` consecutive ones, the last one shorter (``n mod B``
    samples, averaged over its own weights; ``B >= n``: one batch, a full-batch gradient
    step). Every sample of a batch is evaluated at the parameters the batch starts from;
    then ``t += 1`` and one update with the batch's weighted mean gradient, the mean that
    :func:`linear_value_and_grad` computes: ``sum_i w_i dl/dz x_i / sum_i w_i + alpha coef``
    for ``coef`` and ``sum_i w_i dl/dz / sum_i w_i`` for the intercept (sums over the batch;
    a batch whose weights sum to 0 contributes a zero data gradient). The L2 term (or plain
    sgd's clamped shrink, AdamW's decay) is applied once per update, as per sample. So ``t``
    counts updates, one per batch, like torch.optim's step count: ``"invscaling"`` decays
    and Adam's bias corrections advance per update. ``batch_size=1`` is the per-sample
    epoch above, where the weight scales the step (scikit-learn's SGD convention; the
    weighted mean over a batch of one would drop it), bit for bit the same as a call
    without ``batch_size``. One C call runs the whole epoch either way.

    Learning rate: ``eta = lr`` (``"constant"``) or ``lr / t**power_t`` (``"invscaling"``,
    ``t`` the global update counter kept in ``state``, so resumed runs continue the decay),
    or scikit-learn's ``"optimal"``, ``eta = 1 / (alpha (t0 + t - 1))`` (``lr`` unused;
    ``alpha > 0``), with scikit-learn's heuristic ``t0 = 1 / (eta0 alpha)``, ``eta0 =
    typw / max(1, dl/dz(z=-typw, y=1))``, ``typw = sqrt(1 / sqrt(alpha))``.
    Update rules, as ``torch.optim`` with ``weight_decay=alpha``:

    * ``"sgd"``: ``p -= eta g``. With ``alpha`` this is ``coef = max(0, 1 - eta alpha) coef
      - eta w_i dl/dz x_i``: the shrink factor is clamped at 0 as in scikit-learn's SGD, so
      ``eta alpha > 1`` zeroes the weights instead of flipping their sign and diverging
      (torch's ``weight_decay`` has no clamp). On dense X the decay is applied in the same
      pass as the update (every weight is touched anyway; the scaled-weight trick would
      save nothing and add a rescale); on CSR X through the scaled weights (below).
    * ``"momentum"``: ``torch.optim.SGD(momentum=momentum, nesterov=nesterov,
      dampening=0)``: ``b = momentum b + g``; ``p -= eta b`` (``nesterov``:
      ``p -= eta (g + momentum b)``).
    * ``"adagrad"``: ``torch.optim.Adagrad(lr_decay=0)``: ``s += g^2``;
      ``p -= eta g / (sqrt(s) + eps)`` (``eps`` default 1e-10).
    * ``"rmsprop"``: ``torch.optim.RMSprop(alpha=rho, momentum=0, centered=False)``:
      ``s = rho s + (1 - rho) g^2``; ``p -= eta g / (sqrt(s) + eps)`` (default 0.99,
      ``eps`` 1e-8).
    * ``"adam"``: ``torch.optim.Adam(betas=(b1, b2), amsgrad=False)``: ``m = b1 m + (1 - b1)
      g``, ``v = b2 v + (1 - b2) g^2``; ``p -= eta / (1 - b1^t) * m / (sqrt(v) / sqrt(1 -
      b2^t) + eps)`` (bias correction with the update counter ``t``, ``eps`` 1e-8).
    * ``"adamw"``: ``torch.optim.AdamW(betas=(b1, b2), amsgrad=False,
      weight_decay=alpha)``: Adam with decoupled decay, ``coef *= 1 - eta alpha`` before
      the Adam update instead of ``alpha coef`` in the gradient (the intercept is not
      decayed; ``alpha=0`` makes it Adam).
    * ``"nadam"``: ``torch.optim.NAdam(betas, momentum_decay=momentum_decay,
      decoupled_weight_decay=decoupled_weight_decay)`` (defaults 4e-3 and False): Adam's
      moments with Dozat's momentum cache ``mu_t = b1 (1 - 0.5 * 0.96^(t momentum_decay))``,
      ``p -= eta (1 - mu_t) / (1 - prod mu) g / d + eta mu_{t+1} / (1 - prod mu mu_{t+1})
      m / d`` with ``d = sqrt(v / (1 - b2^t)) + eps`` (``prod mu``: ``state.mu_product``).
    * ``"radam"``: ``torch.optim.RAdam(betas, decoupled_weight_decay=...)``: the rectified
      Adam step where the variance's ``rho_t > 5``, else ``p -= eta m / (1 - b1^t)``.
    * ``"adamax"``: ``torch.optim.Adamax(betas)``: ``u = max(b2 u, |g| + eps)``,
      ``p -= eta / (1 - b1^t) * m / u``.
    * ``"lion"``: ``optax.lion`` (the paper's, and ``fastloss.optim.Lion``): ``p -= eta
      (sign((1 - b1) g + b1 m) + alpha p)``, then ``m = (1 - b2) g + b2 m``; ``betas``
      default ``(0.9, 0.99)``, ``eps`` unused, ``alpha`` is Lion's (decoupled) weight decay
      of coef. Lion's steps have size ``eta`` per weight whatever the gradient's scale:
      its ``lr`` is typically 3-10x smaller than Adam's.

    The rules from ``"nadam"`` on take their bias corrections as the fused optimizers do
    (``beta ** t`` per update), and ``decoupled_weight_decay=True`` (nadam, radam only;
    other rules raise ``ValueError``) makes ``alpha`` a decoupled decay ``coef *= 1 - eta
    alpha`` as AdamW's.

    scikit-learn's SGD features, for plain ``"sgd"`` per sample on one output (``batch_size
    =1``, not softmax; other rules raise ``ValueError``), as ``SGDRegressor`` /
    ``SGDClassifier`` compute them (``sklearn/linear_model/_sgd_fast.pyx``), the same
    trajectory to rounding:

    * ``penalty="l1"`` or ``"elasticnet"`` (default ``"l2"``), ``l1_ratio`` (default 0.15,
      scikit-learn's): the penalty ``alpha ((1 - r) ||coef||^2 / 2 + r ||coef||_1)`` with
      ``r = 1`` for ``"l1"``, ``r = l1_ratio`` for ``"elasticnet"``. The L2 part is the
      clamped shrink by ``max(0, 1 - (1 - r) eta alpha)``; the L1 part is Tsuruoka et al.'s
      cumulative truncated gradient (2009): ``u += r eta alpha``, then each weight of the
      sample's row moves towards 0 by ``u + q_j`` (``q_j <= 0``: what it has received)
      without crossing 0, ``q_j`` records the move (``state.l1_u``, ``state.l1_q``). On
      CSR X "the sample's row" is its stored entries, so a weight gets its share when a row
      next visits it (after that row's gradient step); dense rows visit every weight every
      sample. Both are scikit-learn's behaviour on the same input form.
    * ``average``: averaged SGD. ``True`` (or ``1``) averages from the first update, an int
      ``k`` from update ``k`` on (scikit-learn's ``average=k``); ``state.average_coef`` and
      ``state.average_intercept`` hold the running mean of the iterates (after each update,
      its L1 step included), what scikit-learn's ``coef_`` / ``intercept_`` are with
      ``average``; ``coef`` and ``intercept`` stay the SGD iterate. One difference: with an
      L1 part scikit-learn's lazy average takes each truncation whole into the average
      (its iterate ``_standard_coef`` is the same as ours); ours is the mean of the
      iterates.
    * ``intercept_decay`` (default 1): the intercept's step is multiplied by it.
      scikit-learn uses 0.01 on sparse X (``SPARSE_INTERCEPT_DECAY``) and 1 on dense X;
      fastloss uses what it is given on both: pass ``intercept_decay=0.01`` with CSR X to
      follow ``SGDRegressor``/``SGDClassifier`` on sparse input.
    * scipy.sparse CSR ``X`` (``csr_matrix`` or ``csr_array``, float32/float64, int32 or
      int64 indices, sorted or not; duplicate entries add up): these epochs keep ``coef =
      scale * v`` (scikit-learn's ``WeightVector``), so the L2 shrink is one multiplication
      and a sample costs O(its stored entries); ``v`` is rescaled when the scale falls below
      1e-9 (1e-6 for float32) and ``coef`` holds plain coefficients when the call returns.
      The average is kept lazily the same way (Bottou's trick), O(entries) a sample too. A
      CSR epoch costs O(nnz), not O(n d). The other rules (momentum, Adam, ...) update all
      ``d`` weights every sample whatever X is, so they raise ``ValueError`` on sparse X:
      pass a dense X for them. ``indptr`` is checked before anything is written (from 0
      to nnz, non-decreasing); each index is checked to be in ``[0, d)`` by the kernel as
      it reads it, and the first epoch of a call runs on a copy of what it writes (coef,
      the intercept, the state: O(d), against a scan of the nnz indices that would cost
      ~15% of an epoch): an epoch that meets a bad index is undone before the
      ``ValueError`` is raised, so a bad X changes nothing. (Where the copy would be
      larger than the indices, and on the NumPy backend, the indices are scanned first
      instead.) Other sparse formats raise ``TypeError``.

    Any of these runs scikit-learn's algorithm (csrc/linear_scaled_impl.h) also on dense X
    (every feature a stored entry); plain ``"sgd"`` without them runs the dense epoch
    above (the same trajectory to rounding).

    These are torch.optim's rules (Lion: optax's), operation for operation (the same
    per-element code as :mod:`fastloss.optim`), stepped once per update on that update's
    gradient, with ``weight_decay=alpha`` on ``coef`` (added to the gradient unclamped) and
    0 on the intercept. One difference: Adam's ``b1^t``, ``b2^t`` are running products (one
    multiplication per update, not two ``pow`` calls), where torch computes ``beta ** t``;
    the bias corrections can differ in the last bits. The loss and its derivative are
    computed in X's dtype (float32 data: float32 arithmetic, as the loss functions), the
    epoch's loss total is accumulated in float64.

    Args:
        X: ``(n, d)`` float32 or float64, any memory order: C- and F-ordered or sliced
            arrays are read in place through their strides (F-order: each row is gathered
            into a scratch vector, one strided read per value; no copy of X); or a
            scipy.sparse CSR matrix for plain ``"sgd"`` (above).
        y: ``(n,)`` targets (cast to X's dtype), 0/1 for ``"logistic"``, integer labels in
            ``[0, C)`` for ``"softmax"``, in the GLM losses' domains (module docstring).
        epsilon, power, quantile: the losses' parameters: the Huber and insensitive
            threshold (``> 0``), ``"tweedie"``'s power (``>= 1``, default 1.5, scikit-learn's
            ``TweedieRegressor``'s ``power``), ``"pinball"``'s quantile (in ``(0, 1)``,
            default 0.5, ``QuantileRegressor``'s ``quantile``); each checked whatever the loss.
        coef: ``(d,)``, or ``(d, C)`` for softmax: X's dtype, C-contiguous, writeable.
        intercept: ``(1,)`` (``(C,)`` for softmax) like coef, or ``None`` for no intercept.
        state: an :class:`EpochState` from a previous call to resume (buffers, ``t``,
            epoch count), or ``None`` to start from zero buffers. Updated in place and
            returned; ``k`` calls of one epoch equal one call of ``k`` epochs.
        sample_weight: ``(n,)`` finite weights ``>= 0``; each sample's gradient and loss
            are multiplied by its weight (the L2 term is not); with batches the gradient
            is then divided by the batch's total weight (above).
        shuffle, seed: visit epoch ``e`` (counted in ``state.epochs``) in the order
            ``np.random.default_rng([seed, e]).permutation(n)``: reproducible, and the
            same for both backends. ``seed=None`` draws one and keeps it in the state.
        n_epochs: epochs to run (``>= 1``).
        batch_size: samples per update (an int ``>= 1``; larger than ``n`` is one batch).
        betas: ``(b1, b2)`` of adam, adamw, nadam, radam, adamax and lion, each in
            ``[0, 1)``; ``None``: torch's ``(0.9, 0.999)``, optax's ``(0.9, 0.99)`` for lion.
        momentum_decay, decoupled_weight_decay: NAdam's (and RAdam's flag), torch's names
            and defaults.
        penalty, l1_ratio, average, intercept_decay: scikit-learn's SGD features (above).

    Returns:
        ``(mean_loss, state)``: ``mean_loss`` is the weighted mean ``sum w_i l_i / sum w_i``
        of the last epoch's per-sample losses, each taken *before* the update its gradient
        goes into (penalty not included; NaN for an empty X or zero total weight).
        ``state.losses`` lists the mean of every epoch.

    NaN in X or y propagates: the first NaN sample makes ``coef`` (and the loss) NaN;
    no exception is raised (on either backend, whatever ``np.errstate`` says). Bad
    arguments, the ``state`` included, raise ``TypeError``/``ValueError`` before any array
    is modified (a CSR index out of range: after the first epoch is undone, above; the
    undo is shielded from Ctrl-C too). Each epoch is applied and recorded in ``state``
    whole: a Ctrl-C (``KeyboardInterrupt``) during a call takes effect between epochs, so
    ``state`` always describes the arrays and resuming from it continues exactly. ``y``
    (labels) is copied once per call, so changing it from another thread meanwhile cannot
    affect the epochs.
    """
    loss = check_choice(loss, "loss", SGD_LOSSES)
    optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
    learning_rate = check_choice(learning_rate, "learning_rate", SCHEDULES)
    lr_ = check_real(lr, "lr", NON_NEGATIVE)
    power_t_ = check_real(power_t, "power_t", NON_NEGATIVE)
    alpha_ = check_real(alpha, "alpha", NON_NEGATIVE)
    param_ = loss_param(loss, epsilon, power, quantile)
    momentum_ = check_real(momentum, "momentum", NON_NEGATIVE)
    nesterov = check_flag(nesterov, "nesterov")
    if nesterov and (optimizer != "momentum" or momentum_ == 0):
        raise ValueError("nesterov=True needs optimizer='momentum' and momentum > 0")
    beta1_, beta2_ = check_pair(DEFAULT_BETAS.get(optimizer, _ADAM_BETAS) if betas is None
                                else betas, "betas", UNIT_OPEN)
    eps_ = DEFAULT_EPS[optimizer] if eps is None else check_real(eps, "eps", NON_NEGATIVE)
    rho_ = check_real(rho, "rho", UNIT)
    momentum_decay_ = check_real(momentum_decay, "momentum_decay", NON_NEGATIVE)
    decoupled = check_flag(decoupled_weight_decay, "decoupled_weight_decay")
    if decoupled and optimizer not in DECOUPLED_RULES:
        raise ValueError(f"decoupled_weight_decay=True needs optimizer 'nadam' or 'radam' "
                         f"(AdamW is optimizer='adamw'), got optimizer={optimizer!r}")
    shuffle = check_flag(shuffle, "shuffle")
    if seed is not None:
        check_int(seed, "seed", 0)
    epochs_ = check_int(n_epochs, "n_epochs", 1, _T_MAX)
    batch_ = check_int(batch_size, "batch_size", 1, _T_MAX)
    penalty = check_choice(penalty, "penalty", PENALTIES)
    l1_ratio_ = check_real(l1_ratio, "l1_ratio", UNIT)
    average_start = _average_start(average)
    decay_ = check_real(intercept_decay, "intercept_decay", POSITIVE)
    sparse = _sparse.is_sparse(X)
    # plain SGD with these features (or on sparse X) runs scikit-learn's algorithm on a
    # scaled weight vector (csrc/linear_scaled_impl.h)
    scaled_needs = [what for what, used in [
        ("scipy.sparse X", sparse), (f"penalty={penalty!r}", penalty != "l2"),
        ("average", average_start > 0), ("intercept_decay != 1", decay_ != 1.0),
        ("learning_rate='optimal'", learning_rate == "optimal"),
        (f"loss={loss!r}", loss in PLAIN_SGD_LOSSES)] if used]
    scaled = bool(scaled_needs)
    if scaled and (optimizer != "sgd" or batch_ != 1 or loss == "softmax"):
        got = (f"optimizer={optimizer!r}" if optimizer != "sgd" else
               f"batch_size={batch_}" if batch_ != 1 else "loss='softmax'")
        why = (" (on sparse X every other rule updates all d weights per sample: pass a "
               "dense X for it)" if sparse and optimizer != "sgd" else "")
        raise ValueError(f"{scaled_needs[0]} needs per-sample plain SGD on one output "
                         f"(optimizer='sgd', batch_size=1, not loss='softmax'), got {got}{why}")
    if learning_rate == "optimal" and alpha_ == 0:
        raise ValueError("learning_rate='optimal' needs alpha > 0 (eta = 1 / (alpha (t0 + t)))")
    l1 = penalty != "l2" and alpha_ != 0

    use_c = _backend.get_backend() == "c"
    # on the C backend the kernel checks CSR indices as the first epoch reads them (below)
    Xa, ya, W, b, sw = _model(X, y, coef, intercept, loss, sample_weight, writeable=True,
                              sparse_ok=True, check_indices=not use_c)
    _check_targets(ya, loss, param_)
    csr = Xa if isinstance(Xa, _sparse.CsrRows) else None
    read = list(Xa.arrays() if csr is not None else [Xa]) + [ya] + (
        [sw] if sw is not None else [])
    updates_per_epoch = -(-Xa.shape[0] // batch_)  # ceil(n / batch_size)
    before = _EpochUndo.fields_of(state)
    st = _check_state(state, optimizer, W, b, read, updates_per_epoch * epochs_,
                      average_start, l1)
    undo = None
    if csr is not None and not csr.indices_checked:
        # A scan of the indices before the epoch reads them from memory once more (~15% of
        # an epoch); a copy of what the epoch writes is O(d). Take the cheaper: with the
        # copy, an epoch whose kernel meets a bad index is undone before the error.
        undo = _EpochUndo(W, b, st, before)
        if undo.nbytes > csr.indices.nbytes:
            undo, csr = None, _sparse.check_indices(csr, "X")
        else:
            undo.take()
    # everything is valid (or, with undo, will be undone if not): from here on arrays change
    if shuffle and seed is not None:
        st.seed = int(seed)
    elif shuffle and st.seed is None:
        st.seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
    run_seed = st.seed if st.seed is not None else 0
    n, d = Xa.shape
    c = W.shape[1] if W.ndim == 2 else 1
    wsum = float(n) if sw is None else float(sw.sum(dtype=np.float64))
    s1c = st.coef_state[0] if len(st.coef_state) > 0 else None
    s2c = st.coef_state[1] if len(st.coef_state) > 1 else None
    s1b = st.intercept_state[0] if len(st.intercept_state) > 0 else None
    s2b = st.intercept_state[1] if len(st.intercept_state) > 1 else None
    hyper: Dict[str, Any] = dict(
        loss=loss, optimizer=optimizer, learning_rate=learning_rate, lr=lr_, power_t=power_t_,
        alpha=alpha_, epsilon=param_, momentum=momentum_, nesterov=bool(nesterov),
        beta1=beta1_, beta2=beta2_, eps=eps_, rho=rho_, momentum_decay=momentum_decay_,
        decoupled=bool(decoupled))
    if scaled:
        hyper.update(penalty=penalty, l1_ratio=l1_ratio_, intercept_decay=decay_,
                     optimal_init=_optimal_init(loss, alpha_, param_),
                     average_start=average_start)
    # the kernel's scratch: a row, the logits and their gradient; with batches also the
    # batch's gradient sums (coef's, then the intercept's): allocated once per call
    work: Any = (np.empty(2 * d + 2 * c + ((d + 1) * c if batch_ > 1 else 0), Xa.dtype)
                 if use_c else None)
    if scaled and use_c:  # the scaled epoch's arrays besides
        hyper.update(scaled=True, avg_coef=st.average_coef if average_start else None,
                     avg_intercept=st.average_intercept if average_start else None,
                     l1_q=st.l1_q if l1 else None)
        if csr is not None:
            hyper.update(csr=(csr.data, csr.indices, csr.indptr, n, d, csr.max_row),
                         row_index=np.empty(max(csr.max_row, 1), np.int64))
    # the kernel takes float targets as y, integer class labels as labels
    y_c, labels_c = (None, ya) if loss == "softmax" else (ya, None)
    c_loss, c_param = _kernel_loss(loss, param_)
    c_hyper = dict(hyper, loss=c_loss, epsilon=c_param)
    mean = float("nan")
    for _ in range(epochs_):
        order = None
        if shuffle:  # int64 already on 64-bit platforms: no copy there
            order = np.random.default_rng([run_seed, st.epochs]).permutation(n)
            order = order.astype(np.int64, copy=False)
        # an epoch is applied and recorded, or neither: the compiled call records it itself;
        # on the NumPy backend Ctrl-C waits for the record
        if use_c:
            with _atomic.deferred_interrupt() if undo is not None else contextlib.nullcontext():
                mean, bad = _linear.sgd_epoch(None if csr is not None else Xa, y_c, labels_c,
                                              W, b, s1c, s1b, s2c, s2b, order, sw, work,
                                              int(st.t), **c_hyper, state=st,
                                              weight_sum=wsum, batch_size=batch_)
                if bad >= 0 and undo is not None:
                    undo.restore()
            if bad >= 0 and undo is not None:
                _sparse.csr_rows(X)  # raises the ValueError that names the bad entry
            if bad >= 0 and csr is not None:
                how = "was undone" if undo is not None else f"stopped at visit {bad}"
                raise RuntimeError(f"sgd_epoch: X's CSR structure changed during the call "
                                   f"(another thread wrote to it): the epoch {how}")
            undo = None  # an epoch read every row: the indices are valid
            if bad >= 0:  # labels and order are private, checked copies
                raise RuntimeError(f"sgd_epoch: the kernel met an out-of-range sample index "
                                   f"or label at visit {bad} (a fastloss bug)")
            continue
        with _atomic.deferred_interrupt(), np.errstate(all="ignore"):  # as the kernels
            if scaled:
                total, t = reference.plain_sgd_epoch(
                    Xa, ya, W, b, st, order, sw, int(st.t), **hyper)
            else:
                mu_product = np.array(st.mu_product, Xa.dtype)  # a 0-d array, as torch's
                total, t = reference.sgd_epoch(Xa, ya, W, b, (s1c, s1b, s2c, s2b), order, sw,
                                               int(st.t), **hyper, batch_size=batch_,
                                               mu_product=mu_product)
                st.mu_product = float(mu_product)
            mean = total / wsum if wsum != 0 else float("nan")
            st.t = int(t)
            st.epochs += 1
            st.losses.append(mean)
    return mean, st


# ---- mini-batch gradient ----------------------------------------------------------------

def linear_value_and_grad(X: ArrayLike, y: ArrayLike, coef: FloatArray,
                          intercept: Optional[FloatArray], *, loss: str = "squared_error",
                          alpha: float = 0.0, epsilon: float = 1.0, power: float = 1.5,
                          quantile: float = 0.5, sample_weight: Optional[ArrayLike] = None,
                          n_threads: Optional[int] = None
                          ) -> Tuple[np.floating[Any], FloatArray, Optional[FloatArray]]:
    r"""Mini-batch objective of a linear model and its gradient, in one pass over X.

    ``value = sum_i w_i l_i / sum_i w_i + alpha / 2 ||coef||^2`` with the per-sample losses
    of :func:`sgd_epoch` (module docstring) at ``z = X @ coef + intercept``; ``w_i = 1``
    without ``sample_weight``. Gradient: ``grad_coef = X.T @ dz + alpha coef``,
    ``grad_intercept = dz.sum(0)`` with ``dz = w * dl/dz / sum(w)``.

    One fused C pass (csrc/objective_impl.h): per block of rows that stays in cache, ``z``,
    the losses and ``dl/dz`` (the per-element rules the loss kernels and :func:`sgd_epoch`
    share; softmax as ``cross_entropy``, ``(max - z_y) + log(sum exp(z - max))``), then the
    block's share of ``X.T @ dz``. X is read once, in place when C- or F-ordered (any other
    2-D strides: copied to C order first). Losses and products in X's dtype, the value and
    the gradient's per-block partial sums accumulated in float64.

    Shapes, dtypes, targets and the losses' parameters (``epsilon``, ``power``,
    ``quantile``) as :func:`sgd_epoch` (coef need not be writeable here). Returns
    ``(value, grad_coef, grad_intercept)``: a NumPy scalar of X's dtype, an array shaped
    like ``coef``, and one shaped like ``intercept`` (``None`` when it is ``None``). An
    empty batch gives a NaN value and the penalty's gradient.

    ``n_threads``: threads for this call; ``None`` follows fastloss's rule (one thread below
    ``THREADING_THRESHOLD`` elements of X, else :func:`fastloss.get_num_threads`). The rows
    are split by (n, threads) alone and the per-thread sums added in a fixed order, so a
    given thread count gives bitwise the same result on every call.

    X may be a scipy.sparse CSR matrix (checked as in :func:`sgd_epoch`): then ``X @ coef``
    and ``X.T @ dz`` run over the stored entries, O(nnz) each (float64 sums, NumPy; not the
    fused kernel, ``n_threads`` unused), with the same loss kernels in between.
    """
    loss = check_choice(loss, "loss", LOSSES)
    Xa, ya, W, b, sw, alpha_, param_ = _objective_args(
        X, y, coef, intercept, loss, alpha, epsilon, power, quantile, sample_weight, n_threads)
    return objective(Xa, ya, W, b, sw, loss, alpha_, param_, n_threads)


def _objective_args(X: ArrayLike, y: ArrayLike, coef: Any, intercept: Any, loss: str,
                    alpha: Any, epsilon: Any, power: Any, quantile: Any, sample_weight: Any,
                    n_threads: Any
                    ) -> Tuple[Rows, Any, FloatArray, Optional[FloatArray],
                               Optional[FloatArray], float, float]:
    """The checks :func:`linear_value_and_grad` and :func:`linear_hessp` share (``loss``
    already checked): ``(X, y, coef, intercept, sample_weight, alpha, the loss's
    parameter)`` as the objective takes them, CSR X as a :class:`_sparse.CsrRows`."""
    alpha_ = check_real(alpha, "alpha", NON_NEGATIVE)
    param_ = loss_param(loss, epsilon, power, quantile)
    if n_threads is not None:
        _config._check_threads(n_threads)
    Xa, ya, W, b, sw = _model(X, y, coef, intercept, loss, sample_weight, writeable=False,
                              sparse_ok=True)
    _check_targets(ya, loss, param_)
    return Xa, ya, W, b, sw, alpha_, param_


def linear_hessp(X: ArrayLike, y: ArrayLike, coef: FloatArray, intercept: Optional[FloatArray],
                 vec_coef: FloatArray, vec_intercept: Optional[FloatArray], *, loss: str,
                 alpha: float = 0.0, epsilon: float = 1.0, power: float = 1.5,
                 quantile: float = 0.5, sample_weight: Optional[ArrayLike] = None,
                 n_threads: Optional[int] = None) -> Tuple[FloatArray, Optional[FloatArray]]:
    r"""The Hessian of :func:`linear_value_and_grad`'s objective at ``(coef, intercept)``
    times the vector ``(vec_coef, vec_intercept)``, in one pass over X.

    With ``u = X @ vec_coef + vec_intercept`` and ``D`` the per-sample second derivative
    times ``w_i / sum(w)``: ``Hv_coef = X.T @ (D u) + alpha vec_coef``,
    ``Hv_intercept = (D u).sum(0)``, where ``D u`` is ``l''(z) u`` for one output, with
    ``l''`` = 1 (``"squared_error"``), ``sigmoid(z) sigmoid(-z)`` (``"logistic"``),
    ``exp(z)`` (``"poisson"``), ``y exp(-z)`` (``"gamma"``), ``(2-p) exp((2-p) z) - (1-p) y
    exp((1-p) z)`` (``"tweedie"`` with ``power=p``; scikit-learn's ``gradient_hessian`` of
    its half losses on the log link), or, per row, ``p * (u - p . u)`` with ``p =
    softmax(z)`` (``"softmax"``). ``"absolute"``, ``"huber"`` and ``"pinball"`` raise
    ``ValueError``: their second derivative is 0 almost everywhere (a Newton step on it is
    meaningless). ``epsilon`` and ``quantile`` are accepted (and checked) for symmetry with
    :func:`linear_value_and_grad`; the GLM targets are checked as there.

    ``vec_coef`` is shaped like ``coef``, ``vec_intercept`` like ``intercept`` (``None``
    exactly when ``intercept`` is ``None``), both of X's dtype. Returns ``(Hv_coef,
    Hv_intercept)`` of those shapes (``Hv_intercept`` ``None`` without intercept); an empty
    batch gives ``(alpha vec_coef, 0)``. ``n_threads`` as in
    :func:`linear_value_and_grad`, with the same reproducibility.

    X may be a scipy.sparse CSR matrix (checked as in :func:`sgd_epoch`): then ``X @ coef``,
    ``X @ vec_coef`` and ``X.T @ (D u)`` run over the stored entries, O(nnz) each (float64
    sums, NumPy; not the fused kernel, ``n_threads`` unused), with the loss kernels' second
    derivatives (softmax's ``p * (u - p . u)`` in NumPy) in between.
    """
    loss = check_choice(loss, "loss", LOSSES)
    if loss not in HESSP_LOSSES:
        raise ValueError(f"linear_hessp needs a loss with a second derivative, one of "
                         f"{HESSP_LOSSES}; loss={loss!r} has l'' = 0 almost everywhere")
    Xa, ya, W, b, sw, alpha_, param_ = _objective_args(
        X, y, coef, intercept, loss, alpha, epsilon, power, quantile, sample_weight, n_threads)
    V = _param_array(vec_coef, "vec_coef", Xa.dtype, W.shape, False)
    vb: Optional[FloatArray] = None
    if b is None:
        if vec_intercept is not None:
            raise ValueError("vec_intercept must be None when intercept is None")
    else:
        vb = _param_array(vec_intercept, "vec_intercept", Xa.dtype, b.shape, False)
    if isinstance(Xa, _sparse.CsrRows):
        return _sparse_hessp(Xa, ya, W, b, V, vb, sw, loss, alpha_, param_)
    if _backend.get_backend() != "c":
        hc, hb = reference.linear_hessp(Xa, ya, W, b, V, vb, loss=loss, alpha=alpha_,
                                        power=param_, sample_weight=sw)
        return (hc.astype(Xa.dtype),
                None if b is None else np.asarray(hb, Xa.dtype).reshape(b.shape))
    return _fused(Xa, ya, W, b, sw, loss, alpha_, param_, n_threads, (V, vb))[1:]


def _hess_times(loss: str, z: FloatArray, y: np.ndarray, u: FloatArray,
                param: float) -> FloatArray:
    """``D u`` per sample at predictions z: the loss kernels' d2l/dz2 times u for one output
    (``param`` the loss's parameter, :func:`loss_param`), softmax's ``p * (u - p . u)``."""
    if loss == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return p * (u - (p * u).sum(axis=1, keepdims=True))
    if loss == "squared_error":  # 0.5 r^2: half of mse_loss's 2
        return u
    y = y.astype(z.dtype, copy=False)
    if loss == "poisson":
        h = losses.poisson_nll_loss_grad_hess(z, y, log_input=True, reduction="none")[1]
    elif loss == "gamma":
        h = losses.gamma_nll_loss_grad_hess(z, y, log_input=True, reduction="none")[1]
    elif loss == "tweedie":
        h = losses.tweedie_loss_grad_hess(z, y, power=param, reduction="none")[1]
    else:
        h = losses.binary_cross_entropy_with_logits_grad_hess(z, y, reduction="none")[1]
    return h * u


def _sparse_hessp(Xa: _sparse.CsrRows, ya: np.ndarray, W: FloatArray, b: Optional[FloatArray],
                  V: FloatArray, vb: Optional[FloatArray], sw: Optional[FloatArray], loss: str,
                  alpha: float, param: float) -> Tuple[FloatArray, Optional[FloatArray]]:
    """:func:`linear_hessp` on CSR X: ``X @ W``, ``X @ V`` and ``X.T @ (D u)`` over the
    stored entries, ``D u`` from :func:`_hess_times`."""
    dtype = Xa.dtype
    z, u = Xa.matmul(W), Xa.matmul(V)
    if b is not None and vb is not None:
        z += b if loss == "softmax" else b[0]
        u += vb if loss == "softmax" else vb[0]
    n = Xa.shape[0]
    wsum = float(n) if sw is None else float(sw.sum(dtype=np.float64))
    scale = np.zeros(n, dtype) if wsum == 0 else (
        np.full(n, 1.0 / wsum, dtype) if sw is None else sw / dtype.type(wsum))
    du = _hess_times(loss, z, ya, u, param) * (scale[:, None] if loss == "softmax" else scale)
    hv = Xa.rmatmul(du) + dtype.type(alpha) * V
    hb = None if b is None else np.atleast_1d(du.sum(axis=0, dtype=np.float64)).astype(dtype)
    return np.ascontiguousarray(hv, dtype=dtype), hb


def _kernel_matrix(Xa: FloatArray) -> FloatArray:
    """X as the fused kernel reads it in place (unit column stride: C-ordered rows; or unit
    row stride: F-ordered columns; with one column, any row stride); else a C-ordered copy."""
    rs, cs = (s // Xa.itemsize for s in Xa.strides)
    if cs == 1 or rs == 1 or Xa.shape[1] <= 1:
        return Xa
    return np.ascontiguousarray(Xa)


def _fused(Xa: FloatArray, ya: np.ndarray, W: FloatArray, b: Optional[FloatArray],
           sw: Optional[FloatArray], loss: str, alpha: float, param: float,
           n_threads: Optional[int],
           vec: Optional[Tuple[FloatArray, Optional[FloatArray]]] = None,
           dtype: Any = None) -> Tuple[float, FloatArray, Optional[FloatArray]]:
    """One call of the fused kernel: ``(value, grad_coef, grad_intercept)``, or with ``vec``
    (the Hessian-vector product) ``(unused, Hv_coef, Hv_intercept)``; computed in X's dtype,
    or in ``dtype`` float32 on float64 X (the kernel rounds X block by block)."""
    n, d = Xa.shape
    dtype = Xa.dtype if dtype is None else np.dtype(dtype)

    def typed(a: Optional[np.ndarray], as_type: Any = dtype) -> Any:
        """What the kernel reads: C-contiguous, of its type (no copy when already so; the
        models call objective() with targets and weights of other dtypes)."""
        return None if a is None else np.ascontiguousarray(a, dtype=as_type)

    W, b, sw = typed(W), typed(b), typed(sw)
    ya = typed(ya, np.int64 if loss == "softmax" else dtype)
    V, vb = (None, None) if vec is None else (typed(vec[0]), typed(vec[1]))
    wsum = float(n) if sw is None else float(sw.sum(dtype=np.float64))
    out_coef = np.empty_like(W)
    out_int = None if b is None else np.empty_like(b)
    nt = _config.resolve_threads(n_threads, Xa.size)
    y_c, labels_c = (None, ya) if loss == "softmax" else (ya, None)
    c_loss, c_param = _kernel_loss(loss, param)
    total, bad = _linear.objective(_kernel_matrix(Xa), y_c, labels_c, W, b, V, vb, sw, c_loss,
                                   vec is not None, 1.0 / wsum if wsum != 0 else 0.0, alpha,
                                   c_param, out_coef, out_int, nt)
    if bad >= 0:
        raise ValueError(f"y[{bad}] changed to a label outside [0, {W.shape[1]}) during the "
                         "call (another thread wrote to y)")
    value = total / wsum if wsum != 0 else float("nan")
    if alpha != 0 and vec is None:
        w64 = W.ravel().astype(np.float64)
        value += 0.5 * alpha * float(np.dot(w64, w64))
    return value, out_coef, out_int


def _per_sample(loss: str, z: FloatArray, y: np.ndarray, param: float,
                reduction: str) -> Tuple[Any, FloatArray]:
    """The loss kernels' (value, dl/dz) of the per-sample losses at predictions z (``param``:
    the loss's parameter, :func:`loss_param`)."""
    if loss == "squared_error":  # 0.5 r^2: half of mse_loss
        l, g = losses.mse_loss_value_and_grad(z, y, reduction=reduction)
        g *= g.dtype.type(0.5)
        return 0.5 * l, g
    if loss == "absolute":
        return losses.l1_loss_value_and_grad(z, y, reduction=reduction)
    if loss == "huber":
        return losses.huber_loss_value_and_grad(z, y, reduction=reduction, delta=param)
    if loss == "poisson":
        return losses.poisson_nll_loss_value_and_grad(z, y, log_input=True, reduction=reduction)
    if loss == "gamma":
        return losses.gamma_nll_loss_value_and_grad(z, y, log_input=True, reduction=reduction)
    if loss == "tweedie":
        return losses.tweedie_loss_value_and_grad(z, y, power=param, reduction=reduction)
    if loss == "pinball":
        return losses.pinball_loss_value_and_grad(z, y, quantile=param, reduction=reduction)
    if loss == "logistic":
        return losses.binary_cross_entropy_with_logits_value_and_grad(z, y, reduction=reduction)
    return losses.cross_entropy_value_and_grad(z, y, reduction=reduction)


def objective(Xa: Rows, ya: np.ndarray, W: FloatArray, b: Optional[FloatArray],
              sw: Optional[FloatArray], loss: str, alpha: float, param: float,
              n_threads: Optional[int] = None, *, float32: bool = False
              ) -> Tuple[np.floating[Any], FloatArray, Optional[FloatArray]]:
    """:func:`linear_value_and_grad` on checked arguments (the one implementation of the
    linear-model objective: the models' mini-batch and CG paths call it too); ``param`` is
    the loss's parameter (:func:`loss_param`: epsilon, power or quantile). The "c"
    backend runs the fused kernel; the "numpy" backend, and CSR X (a
    :class:`_sparse.CsrRows`) on either, compose ``X @ W``, the loss functions and
    ``X.T @ dz``.

    ``float32``: the objective of X rounded to float32, in float32, for dense float64 X
    (the models' first L-BFGS stage): the kernel rounds each block as it reads it (no copy
    of X); the "numpy" backend rounds a copy."""
    sparse = isinstance(Xa, _sparse.CsrRows)
    if float32 and (sparse or Xa.dtype != np.float64):
        raise ValueError("float32=True is for dense float64 X")
    dtype = np.dtype(np.float32) if float32 else Xa.dtype
    if _backend.get_backend() == "c" and not sparse:
        value_, grad_coef_, grad_int_ = _fused(Xa, ya, W, b, sw, loss, alpha, param,
                                               n_threads, dtype=dtype)
        return dtype.type(value_), grad_coef_, grad_int_
    if float32:
        with np.errstate(over="ignore"):  # beyond float32's range: inf, as in the kernel
            Xa = Xa.astype(np.float32)
    # CSR X: X @ W and X.T @ dz over the stored entries, O(nnz) each
    z = Xa.matmul(W.astype(dtype, copy=False)) if sparse else Xa @ W
    if b is not None:
        z += b if loss == "softmax" else b[0]
    if sw is None:  # the loss kernels' own mean: one pass, no weight arrays
        l, dz = _per_sample(loss, z, ya, param, "mean")
        value = float(l)
    else:
        l, g = _per_sample(loss, z, ya, param, "none")
        wsum = float(sw.sum(dtype=np.float64))
        total = float(np.dot(sw.astype(np.float64), np.asarray(l, np.float64)))
        value = total / wsum if wsum != 0 else float("nan")
        scale = (sw / dtype.type(wsum)) if wsum != 0 else np.zeros(len(sw), dtype)
        dz = g * (scale[:, None] if loss == "softmax" else scale)
    grad_coef = Xa.rmatmul(dz) if sparse else Xa.T @ dz
    if alpha != 0:
        grad_coef += dtype.type(alpha) * W
        w64 = W.ravel().astype(np.float64)
        value += 0.5 * alpha * float(np.dot(w64, w64))
    grad_int = None
    if b is not None:
        grad_int = np.atleast_1d(dz.sum(axis=0)).astype(dtype, copy=False)
    return dtype.type(value), np.ascontiguousarray(grad_coef, dtype=dtype), grad_int


def minibatch_step(optimizer: Any, X: ArrayLike, y: ArrayLike, coef: FloatArray,
                   intercept: Optional[FloatArray], **kwargs: Any) -> np.floating[Any]:
    """One optimizer step on a mini-batch; returns the objective before the step.

    Computes ``linear_value_and_grad(X, y, coef, intercept, **kwargs)`` and calls
    ``optimizer.step([grad_coef, grad_intercept])`` (``[grad_coef]`` without intercept):
    any object whose ``step(grads)`` takes gradients in the order of its parameter list,
    such as the fastloss.optim classes built on ``[coef, intercept]``.
    """
    step = getattr(optimizer, "step", None)
    if not callable(step):
        raise TypeError(f"optimizer must have a step(grads) method, got "
                        f"{type(optimizer).__name__}")
    value, grad_coef, grad_int = linear_value_and_grad(X, y, coef, intercept, **kwargs)
    step([grad_coef] if grad_int is None else [grad_coef, grad_int])
    return value
