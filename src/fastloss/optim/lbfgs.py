"""Limited-memory BFGS: :func:`minimize_lbfgs` (SciPy's L-BFGS-B without bounds) and
:class:`LBFGS` (``torch.optim.LBFGS`` on NumPy arrays).

An iteration is a few calls of ``fun`` plus O(m n) vector work on preallocated history
arrays: the two-loop recursion in C (csrc/lbfgs.c), the rest in NumPy.

The method is Nocedal & Wright, *Numerical Optimization* (2nd ed.), algorithm 7.5: the
direction ``p_k = -H_k g_k`` from the two-loop recursion (algorithm 7.4) over the last
``m`` pairs ``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``, with the initial matrix
``H_k^0 = gamma_k I``, ``gamma_k = s'y / y'y`` of the newest pair (eq. 7.20), and a step
satisfying the strong Wolfe conditions (the line search minimize_cg uses).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
from numpy.typing import ArrayLike

from fastloss import _optim
from fastloss._backend import get_backend
from fastloss._validation import NON_NEGATIVE, check_choice, check_int, check_real, reject_masked
from fastloss.optim._line_search import F_ROUNDING, line_search, torch_strong_wolfe
from fastloss.optim._minimize import (FloatArray, Objective, OptimizeResult, check_common,
                                      check_wolfe, stopped_by, validate_x0)
from fastloss.optim.optimizer import Optimizer, Params
from fastloss.reference import lbfgs as reference_lbfgs

__all__ = ["LBFGSResult", "minimize_lbfgs", "LBFGS"]

_EPS = float(np.finfo(np.float64).eps)

_MESSAGES = {
    0: "Optimization terminated successfully.",
    1: "Maximum number of iterations has been exceeded.",
    2: "The line search found no step satisfying the strong Wolfe conditions, also along "
       "steepest descent (precision loss, or a gradient that is not the function's).",
    99: "`callback` raised `StopIteration`.",
}
#: why a run with status 0 stopped (SciPy's two convergence messages, in words)
_CONVERGED_GRADIENT = "Converged: the gradient's largest |entry| is <= gtol."
_CONVERGED_REDUCTION = "Converged: the relative reduction of f is <= ftol."


class LBFGSResult(OptimizeResult):
    """Result of :func:`minimize_lbfgs`: the fields of :class:`OptimizeResult` (SciPy's).

    ``status``: 0 converged (``gtol`` or ``ftol``: ``message`` says which), 1 ``maxiter``
    reached, 2 the line search failed, 99 ``callback`` raised ``StopIteration``.
    ``njev == nfev``: ``fun`` returns the gradient too.
    """


class _History:
    """The last ``m`` pairs (s, y) with ``rho = 1 / s'y``, in preallocated arrays.

    ``m + 1`` rows: a new pair is written into the spare row before it is known to be kept
    (s'y > eps y'y), so a rejected pair never overwrites a kept one. ``rows[:k]`` are the
    kept pairs' rows, oldest first; :meth:`direction` runs the two-loop recursion over them
    in C (csrc/lbfgs.c; :func:`fastloss.reference.lbfgs_direction` on the "numpy" backend).
    """

    def __init__(self, m: int, n: int) -> None:
        self.m = m
        self.s = np.zeros((m + 1, n))
        self.y = np.zeros((m + 1, n))
        self.s_rows = list(self.s)  # row views, made once
        self.y_rows = list(self.y)
        self.rho = np.zeros(m + 1)
        self.order: List[int] = []  # rows of the kept pairs, oldest first
        self.rows = np.zeros(m + 1, dtype=np.int64)  # the same, for the kernel
        self.alpha = np.zeros(m + 1)  # the kernel's scratch
        self.spare = 0
        self.gamma = 1.0

    def clear(self) -> None:
        self.order.clear()
        self.spare = 0
        self.gamma = 1.0

    def push(self, x_new: FloatArray, x: FloatArray, g_new: FloatArray, g: FloatArray
             ) -> None:
        """Record the pair of the step x -> x_new, unless s'y <= eps y'y (not curvature
        enough to keep H positive definite)."""
        row = self.spare
        s, y = self.s_rows[row], self.y_rows[row]
        np.subtract(x_new, x, out=s)
        np.subtract(g_new, g, out=y)
        sy = float(s @ y)
        yy = float(y @ y)
        if not sy > _EPS * yy:
            return
        self.rho[row] = 1.0 / sy
        self.gamma = sy / yy
        order = self.order
        order.append(row)
        if len(order) > self.m:
            self.spare = order.pop(0)
        else:
            self.spare = len(order)  # rows 0 .. len - 1 are in use until the first eviction
        self.rows[:len(order)] = order

    def direction(self, g: FloatArray, out: FloatArray) -> FloatArray:
        """``out = -H g`` by the two-loop recursion (N&W algorithm 7.4), newest pair first:

            q = g;  alpha_i = rho_i s_i.q,  q -= alpha_i y_i        (i newest to oldest)
            r = gamma q;  beta_i = rho_i y_i.r,  r += (alpha_i - beta_i) s_i  (oldest first)

        and ``out = -r``: 2k dot products and 2k vector updates over the k kept pairs, one
        C call (an iteration's Python cost stays a few calls whatever m is).
        """
        if get_backend() == "numpy":
            out[...] = reference_lbfgs.lbfgs_direction(g, self.s, self.y, self.rho,
                                                       self.order, self.gamma)
        else:
            _optim.lbfgs_direction(g, self.s, self.y, self.rho, self.rows, len(self.order),
                                   self.gamma, out, self.alpha)
        return out


def minimize_lbfgs(fun: Callable[..., Any], x0: ArrayLike, *, args: Any = (), m: int = 10,
                   gtol: float = 1e-5, ftol: float = 64 * _EPS, maxiter: int = 15000,
                   maxls: int = 50, c1: float = 1e-4, c2: float = 0.9,
                   callback: Optional[Callable[[FloatArray], Any]] = None) -> LBFGSResult:
    """Minimize ``fun`` by L-BFGS, like ``scipy.optimize.minimize(method="L-BFGS-B")``
    without bounds.

    Each iteration takes the direction ``p_k = -H_k g_k`` of the two-loop recursion over
    the last ``m`` pairs ``(s_i, y_i)`` (``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``),
    starting from ``H_k^0 = (s'y / y'y) I`` of the newest pair, and moves to
    ``x_{k+1} = x_k + alpha_k p_k`` with ``alpha_k`` satisfying the strong Wolfe conditions
    (``c1``, ``c2``), found by :func:`minimize_cg`'s bracketing + zoom search from the trial
    step 1 (the first iteration, along ``-g_0``: ``1 / ||g_0||_2``, a step of unit length, as
    SciPy). A pair with ``s'y <= eps y'y`` (eps = float64's) is not stored, so ``H_k``
    stays positive definite. A failed line search (no Wolfe step within ``maxls``
    evaluations) empties the history and retries along steepest descent once, as L-BFGS-B
    does; a second failure stops with status 2. The decrease test allows ``1e-12 |f|`` of
    rounding (minimize_cg's rule), or the machine epsilon of ``fun``'s gradient dtype times
    ``|f|`` once ``fun`` returned a float32 gradient: a float32 objective then ends by the
    ``ftol`` test where its rounding stops progress, as in SciPy, rather than by failed
    line searches.

    Stops, as SciPy documents for L-BFGS-B without bounds (tests in this order, after each
    iteration; the first test also at ``x0``):

    * ``max_i |g_i| <= gtol`` (the projected gradient's inf-norm is the gradient's);
    * ``(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol``;
    * ``maxiter`` iterations done.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)`` returns ``(value, gradient)``, ``x`` a float64 array of the shape
        of ``x0`` (a fresh copy on every call: ``fun`` may modify it), the gradient anything
        NumPy turns into as many real numbers (e.g. :func:`fastloss.linear_value_and_grad`'s
        gradient, reshaped).
    x0 : array_like of real numbers, any shape, at least one element, finite
        Starting point, never modified; as :func:`minimize_cg`, the computation runs in
        float64 whatever its dtype (a float32 ``x0`` is upcast; the result is float64).
    args : tuple
        Extra positional arguments of ``fun`` (a non-tuple is wrapped as a 1-tuple).
    m : int >= 1, default 10
        Pairs kept (SciPy's ``maxcor``).
    gtol : float >= 0, default 1e-5
        Gradient tolerance (SciPy's ``gtol``).
    ftol : float >= 0, default ``64 * eps`` (~1.4e-14)
        Relative reduction tolerance (SciPy's ``ftol``; the default is the one
        scikit-learn passes, SciPy's own is 2.2e-9).
    maxiter : int >= 0, default 15000
        Maximum number of iterations.
    maxls : int >= 1, default 50
        Maximum evaluations of ``fun`` in one line search (SciPy's default is 20,
        scikit-learn passes 50).
    c1, c2 : float, ``0 < c1 < c2 < 1``, defaults 1e-4 and 0.9
        Strong Wolfe constants (those of torch.optim.LBFGS and N&W; SciPy's More-Thuente
        search uses 1e-3 and 0.9).
    callback : callable, optional
        ``callback(xk)`` after each iteration with a copy of the iterate (shape of ``x0``);
        raising ``StopIteration`` ends the run with status 99.

    Returns
    -------
    LBFGSResult
        ``x, fun, jac, nit, nfev, njev, success, status, message`` as in SciPy.

    Raises
    ------
    TypeError
        ``fun``/``callback`` not callable, ``x0`` not real, parameters of the wrong type,
        or ``fun`` returning something other than ``(scalar, gradient)``.
    ValueError
        ``x0`` empty or not finite, a parameter out of range, not ``0 < c1 < c2 < 1``, a
        gradient of the wrong size, or ``fun``/gradient not finite at ``x0``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastloss.optim import minimize_lbfgs
    >>> def rosenbrock(x):
    ...     t = x[1] - x[0] ** 2
    ...     return 100 * t ** 2 + (1 - x[0]) ** 2, np.array([-400 * x[0] * t - 2 * (1 - x[0]),
    ...                                                      200 * t])
    >>> res = minimize_lbfgs(rosenbrock, [-1.2, 1.0], gtol=1e-8)
    >>> res.success, np.round(res.x, 6).tolist()
    (True, [1.0, 1.0])
    """
    args = check_common(fun, callback, args)
    x = validate_x0(x0)
    shape = x.shape
    x = x.reshape(-1)
    m = check_int(m, "m", 1)
    gtol = check_real(gtol, "gtol", NON_NEGATIVE)
    ftol = check_real(ftol, "ftol", NON_NEGATIVE)
    maxiter = check_int(maxiter, "maxiter", 0)
    maxls = check_int(maxls, "maxls", 1)
    c1, c2 = check_wolfe(c1, c2)

    obj = Objective(fun, True, args, shape)
    f, g_or_none = obj.evaluate(x)
    assert g_or_none is not None
    g = g_or_none
    if not math.isfinite(f):
        raise ValueError(f"fun is not finite at x0 (value {f})")
    if not np.all(np.isfinite(g)):
        raise ValueError("the gradient is not finite at x0")

    history = _History(m, x.size)
    p = np.empty_like(x)
    nit = 0
    status = 0
    message = _CONVERGED_GRADIENT
    gmax = float(np.abs(g).max())
    while True:
        if gmax <= gtol:
            status, message = 0, _CONVERGED_GRADIENT
            break
        if nit >= maxiter:
            status = 1
            break
        steepest = not history.order
        if steepest:
            np.negative(g, out=p)
        else:
            history.direction(g, p)
        slope = float(g @ p)
        if not slope < 0.0:
            # g.p underflowed to 0, went non-finite, or (rounding in H g) is not descent
            if steepest:
                status = 2
                break
            history.clear()
            continue
        # a step of unit length along -g (SciPy's first step); the quasi-Newton step else
        alpha1 = 1.0 / math.sqrt(float(g @ g)) if steepest else 1.0
        if not (math.isfinite(alpha1) and alpha1 > 0.0):
            alpha1 = 1.0
        # a float32 objective rounds f at ~1e-7: allowing only float64's rounding, its last
        # line searches fail on noise (2 maxls wasted calls) instead of ending by ftol
        pt = line_search(obj, x, p, f, slope, alpha1, c1, c2, maxls,
                         max(F_ROUNDING, obj.gradient_eps))
        if pt is None:
            if steepest:
                status = 2
                break
            history.clear()  # a stale history can give a poor direction: start afresh
            continue
        assert pt.g is not None
        f_old = f
        history.push(pt.x, x, pt.g, g)
        x, f, g = pt.x, pt.f, pt.g
        nit += 1
        gmax = float(np.abs(g).max())
        if stopped_by(callback, x, shape):
            status = 99
            break
        if gmax <= gtol:
            continue  # reported by the test at the top of the loop
        if f_old - f <= ftol * max(abs(f_old), abs(f), 1.0):
            status, message = 0, _CONVERGED_REDUCTION
            break

    if status != 0:
        message = _MESSAGES[status]
    return LBFGSResult(x=x.reshape(shape).copy(), fun=f, jac=g.reshape(shape).copy(),
                       nit=nit, nfev=obj.nfev, njev=obj.njev, success=status == 0,
                       status=status, message=message)


# ---- torch.optim.LBFGS ------------------------------------------------------------------

#: a closure for LBFGS.step: evaluates the model at the parameters' current values and
#: returns (loss, grads), grads one array (or None for zeros) per parameter
Closure = Callable[[], Any]
#: the entries of LBFGS's state (all under parameter 0, as torch keeps them under the first
#: parameter), and what each holds
_STATE_NUMBERS = ("func_evals", "n_iter")
_STATE_SCALARS = ("t", "H_diag", "prev_loss")
_STATE_FLAT = ("d", "prev_flat_grad")
_STATE_LISTS = ("old_dirs", "old_stps")
_LINE_SEARCHES = (None, "strong_wolfe")


class LBFGS(Optimizer):
    """torch.optim.LBFGS on NumPy arrays: ``step(closure)`` runs up to ``max_iter`` L-BFGS
    iterations, the closure returning ``(loss, grads)``.

    The arithmetic, the state kept across ``step`` calls and the stopping rules are
    torch's (``torch/optim/lbfgs.py``): the parameters are one flat vector (the arrays in
    order); the first iteration ever moves along ``-g`` by ``min(1, 1/sum|g|) lr``, later
    ones along the two-loop direction over the last ``history_size`` pairs (a pair is kept
    when ``y's > 1e-10``; ``H_diag = y's / y'y``) by ``lr``, or by the step torch's
    strong-Wolfe search finds from ``lr`` (``line_search_fn="strong_wolfe"``, c1=1e-4,
    c2=0.9, at most ``max_eval`` closure calls in the whole step; the search's own bracket
    tolerance is 1e-9, as in torch, whatever ``tolerance_change`` is). A step stops after
    ``max_iter`` iterations or ``max_eval`` evaluations, when ``max|g| <= tolerance_grad``,
    when the directional derivative is above ``-tolerance_change``, when the step moves
    every entry by at most ``tolerance_change``, or when the loss changes by less than
    it. This is a full-batch method: the closure must compute the same function every
    call. For :func:`minimize_lbfgs`'s SciPy-style interface on a ``fun(x)``, use that.

    Parameters
    ----------
    params : list of arrays, or one param group
        C-contiguous, writeable float32 or float64 arrays of one dtype, updated in place;
        the flat vector and the history are in that dtype (as torch's tensors).
    lr : float >= 0, default 1
    max_iter : int >= 1, default 20
        Iterations per ``step``.
    max_eval : int >= 1, default ``max_iter * 5 // 4``
        Closure calls per ``step``.
    tolerance_grad, tolerance_change : float >= 0, defaults 1e-7 and 1e-9
    history_size : int >= 1, default 100
    line_search_fn : None or "strong_wolfe"

    Differences from torch.optim.LBFGS: the closure returns ``(loss, grads)`` instead of
    calling ``backward()``; ``step`` returns the loss the first closure call returned.
    One parameter group only (as torch: ValueError for more). Each closure call is checked
    (a pair, one gradient per parameter of its shape, ``None`` read as zeros as torch reads
    a missing ``.grad``); a bad one raises TypeError/ValueError, and the parameters are then
    left where the step had moved them (at the start of that evaluation), as torch would
    leave them. A step is not atomic (the closure runs in the middle of it), and Ctrl-C
    interrupts it at once. No complex or sparse parameters. ``state_dict`` and
    ``load_state_dict`` work (the state is under parameter 0, as torch keeps it under the
    first parameter).

    >>> import numpy as np
    >>> from fastloss.optim import LBFGS
    >>> w = np.zeros(2)
    >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
    >>> closure = lambda: (float(np.sum((w - [1.0, -2.0]) ** 2)), [2.0 * (w - [1.0, -2.0])])
    >>> loss = opt.step(closure)
    >>> np.round(w, 6).tolist()
    [1.0, -2.0]
    """

    def __init__(self, params: Params, lr: float = 1, max_iter: int = 20,
                 max_eval: Optional[int] = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: Optional[str] = None) -> None:
        max_iter = check_int(max_iter, "max_iter", 1)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                    "tolerance_grad": tolerance_grad, "tolerance_change": tolerance_change,
                    "history_size": history_size, "line_search_fn": line_search_fn}
        super().__init__(params, defaults)
        params_ = self.param_groups[0]["params"]
        dtypes = {p.dtype for p in params_}
        if len(dtypes) != 1:
            raise TypeError("LBFGS's parameters must share one dtype, got "
                            f"{sorted(map(str, dtypes))}")

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _hyper(self, group: Dict[str, Any]) -> Dict[str, Any]:
        max_iter = check_int(group["max_iter"], "max_iter", 1)
        max_eval = group["max_eval"]
        return {
            "lr": check_real(group["lr"], "lr", NON_NEGATIVE),
            "max_iter": max_iter,
            "max_eval": max_iter * 5 // 4 if max_eval is None else check_int(
                max_eval, "max_eval", 1),
            "tolerance_grad": check_real(group["tolerance_grad"], "tolerance_grad",
                                         NON_NEGATIVE),
            "tolerance_change": check_real(group["tolerance_change"], "tolerance_change",
                                           NON_NEGATIVE),
            "history_size": check_int(group["history_size"], "history_size", 1),
            "line_search_fn": check_choice(group["line_search_fn"], "line_search_fn",
                                           _LINE_SEARCHES),
        }

    def _load_entry(self, index: int, param: np.ndarray, entry: Any) -> Dict[str, Any]:
        """A saved state entry, checked: LBFGS's entries (module's _STATE_* names) under
        parameter 0, flat arrays of the parameters' total size and dtype, copied."""
        where = f"state_dict['state'][{index}]"
        if index != 0:
            raise ValueError(f"{where}: LBFGS keeps its whole state under parameter 0")
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict")
        params = self._flat_params()
        size, dtype = sum(p.size for p in params), params[0].dtype

        def flat(value: Any, name: str) -> np.ndarray:
            reject_masked(value, name)
            if not isinstance(value, np.ndarray) or value.shape != (size,) or (
                    value.dtype != dtype):
                raise ValueError(f"{name} must be a {dtype} array of shape ({size},) (the "
                                 f"parameters, flat), got {value!r:.80}")
            return value.copy()

        def real_list(value: Any, name: str, none_ok: bool = False) -> List[Any]:
            if not isinstance(value, list):
                raise TypeError(f"{name} must be a list, got {type(value).__name__}")
            return [None if v is None and none_ok else check_real(v, f"{name}[{i}]")
                    for i, v in enumerate(value)]

        out: Dict[str, Any] = {}
        for name, value in entry.items():
            label = f"{where}[{name!r}]"
            if name in _STATE_NUMBERS:
                out[name] = check_int(value, label, 0)
            elif name in _STATE_SCALARS:
                out[name] = None if value is None else check_real(value, label)
            elif name in _STATE_FLAT:
                out[name] = None if value is None else flat(value, label)
            elif name in _STATE_LISTS:
                if not isinstance(value, list):
                    raise TypeError(f"{label} must be a list of arrays")
                out[name] = [flat(v, f"{label}[{i}]") for i, v in enumerate(value)]
            elif name == "ro":
                out[name] = real_list(value, label)
            elif name == "al":
                out[name] = real_list(value, label, none_ok=True)
            else:
                raise ValueError(f"{where} has an unknown entry {name!r}")
        lengths = {len(out.get(k) or []) for k in ("old_dirs", "old_stps", "ro")}
        if len(lengths) > 1:
            raise ValueError(f"{where}: old_dirs, old_stps and ro must have one entry per "
                             "kept pair (the same length)")
        return out

    # ---- the flat view over the parameters ------------------------------------------------

    def _flat_params(self) -> List[np.ndarray]:
        params: List[np.ndarray] = self.param_groups[0]["params"]
        return params

    def _evaluate(self, closure: Closure) -> Tuple[Any, float, np.ndarray]:
        """(the closure's loss as returned, as a float, the flat gradient: a new array)."""
        out = closure()
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError("closure must return a pair (loss, grads), grads a list with one "
                            f"gradient per parameter; got {type(out).__name__}")
        loss, grads = out
        try:
            value = float(loss)
        except (TypeError, ValueError):
            raise TypeError(f"closure's loss must be a real number, got {loss!r}") from None
        params = self._flat_params()
        if isinstance(grads, np.ndarray) or not isinstance(grads, (list, tuple)):
            raise TypeError("closure's grads must be a list with one array per parameter, "
                            f"got {type(grads).__name__}")
        if len(grads) != len(params):
            raise ValueError(f"closure returned {len(grads)} gradients for {len(params)} "
                             "parameters")
        flat = np.empty(sum(p.size for p in params), params[0].dtype)
        offset = 0
        for i, (p, g) in enumerate(zip(params, grads)):
            view = flat[offset:offset + p.size]
            offset += p.size
            if g is None:
                view.fill(0)
                continue
            reject_masked(g, f"grads[{i}]")
            a = np.asarray(g)
            if a.dtype == np.bool_ or a.dtype.kind not in "iuf":
                raise TypeError(f"grads[{i}] must be an array of real numbers, got dtype "
                                f"{a.dtype}")
            if a.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {a.shape}, expected the parameter's "
                                 f"shape {p.shape}")
            view[...] = a.reshape(-1)
        return loss, value, flat

    def _add_to_params(self, step_size: Any, update: np.ndarray) -> None:
        """params += step_size * update (torch's ``_add_grad``)."""
        offset = 0
        for p in self._flat_params():
            p += step_size * update[offset:offset + p.size].reshape(p.shape)
            offset += p.size

    def _directional_evaluate(self, closure: Closure, x: List[np.ndarray], t: Any,
                              d: np.ndarray) -> Tuple[float, np.ndarray]:
        """f and the flat gradient at x + t d, the parameters back at x afterwards."""
        self._add_to_params(t, d)
        try:
            _, value, flat = self._evaluate(closure)
        finally:
            for p, saved in zip(self._flat_params(), x):
                np.copyto(p, saved)
        return value, flat

    # ---- the step ---------------------------------------------------------------------------

    def step(self, closure: Closure) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` iterations (torch.optim.LBFGS.step); returns the loss of the
        closure's first call, as the closure returned it."""
        if not callable(closure):
            raise TypeError("LBFGS.step needs a closure returning (loss, grads), got "
                            f"{type(closure).__name__}")
        with self._lock:
            return self._step(closure)

    def _step(self, closure: Closure) -> Any:
        group = self.param_groups[0]
        try:
            hyper = self._hyper(group)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"param_groups[0]: {exc}") from None
        lr, max_iter, max_eval = hyper["lr"], hyper["max_iter"], hyper["max_eval"]
        tolerance_grad, tolerance_change = hyper["tolerance_grad"], hyper["tolerance_change"]
        history_size, line_search_fn = hyper["history_size"], hyper["line_search_fn"]
        state = self.state.setdefault(0, {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss, flat_grad = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        opt_cond = flat_grad.size == 0 or np.max(np.abs(flat_grad)) <= tolerance_grad
        if opt_cond:
            return orig_loss

        # what the previous step left; NumPy scalars of the parameters' dtype stay so
        d: Any = state.get("d")
        t: Any = state.get("t")
        old_dirs: Any = state.get("old_dirs")
        old_stps: Any = state.get("old_stps")
        ro: Any = state.get("ro")
        H_diag: Any = state.get("H_diag")
        prev_flat_grad: Any = state.get("prev_flat_grad")
        prev_loss: Any = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction: -g at the very first iteration, else the two-loop recursion
            if state["n_iter"] == 1 or d is None:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y @ s
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / (y @ y)
                al = state.setdefault("al", [None] * history_size)
                if len(al) < len(old_dirs):  # history_size raised between steps
                    al.extend([None] * (len(old_dirs) - len(al)))
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = (old_stps[i] @ q) * ro[i]
                    q += -al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = (old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                np.copyto(prev_flat_grad, flat_grad)
            prev_loss = loss

            # the step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.sum(np.abs(flat_grad))) * lr
            else:
                t = lr
            gtd = flat_grad @ d
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p.copy() for p in self._flat_params()]

                def phi(step: float, x_init: List[np.ndarray] = x_init,
                        d: np.ndarray = d) -> Tuple[float, np.ndarray]:
                    return self._directional_evaluate(closure, x_init, step, d)

                loss, flat_grad, t, ls_func_evals = torch_strong_wolfe(
                    phi, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_to_params(t, d)
                opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_to_params(t, d)
                if n_iter != max_iter:
                    # not after the last iteration: torch spares that evaluation
                    _, loss, flat_grad = self._evaluate(closure)
                    opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if np.max(np.abs(d * t)) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
