"""Limited-memory BFGS: :func:`minimize_lbfgs` (SciPy's L-BFGS-B without bounds) and
:class:`LBFGS` (``torch.optim.LBFGS`` on NumPy arrays).

Pure NumPy, like :func:`~fastloss.optim.minimize_cg`: an iteration is a few calls of
``fun`` plus O(m n) vector work on preallocated history arrays.

The method is Nocedal & Wright, *Numerical Optimization* (2nd ed.), algorithm 7.5: the
direction ``p_k = -H_k g_k`` from the two-loop recursion (algorithm 7.4) over the last
``m`` pairs ``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i``, with the initial matrix
``H_k^0 = gamma_k I``, ``gamma_k = s'y / y'y`` of the newest pair (eq. 7.20), and a step
satisfying the strong Wolfe conditions (the line search minimize_cg uses).
"""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional

import numpy as np
from numpy.typing import ArrayLike

from fastloss._validation import NON_NEGATIVE, check_int, check_real
from fastloss.optim._line_search import line_search
from fastloss.optim._minimize import (FloatArray, Objective, OptimizeResult, check_common,
                                      check_wolfe, validate_x0)

__all__ = ["LBFGSResult", "minimize_lbfgs"]

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
    """Result of :func:`minimize_lbfgs`, with the fields of SciPy's ``OptimizeResult``.

    Attributes and item access both work (``res.x`` and ``res["x"]``).

    x : ndarray, float64, shape of ``x0``
        The final iterate.
    fun : float
        ``fun`` at ``x``.
    jac : ndarray, float64, shape of ``x0``
        The gradient at ``x``.
    nit : int
        Iterations done (accepted line-search steps).
    nfev, njev : int
        Calls of ``fun`` (``njev == nfev``: ``fun`` returns the gradient too).
    success : bool
        ``status == 0``.
    status : int
        0 converged (``gtol`` or ``ftol``: ``message`` says which), 1 ``maxiter`` reached,
        2 the line search failed, 99 ``callback`` raised ``StopIteration``.
    message : str
        The status in words.
    """


class _History:
    """The last ``m`` pairs (s, y) with ``rho = 1 / s'y``, in preallocated arrays.

    ``m + 1`` rows: a new pair is written into the spare row before it is known to be kept
    (s'y > eps y'y), so a rejected pair never overwrites a kept one.
    """

    def __init__(self, m: int, n: int) -> None:
        self.m = m
        self.s = np.empty((m + 1, n))
        self.y = np.empty((m + 1, n))
        self.s_rows = list(self.s)  # row views, made once
        self.y_rows = list(self.y)
        self.rho = [0.0] * (m + 1)
        self.alpha = [0.0] * (m + 1)
        self.order: List[int] = []  # rows of the kept pairs, oldest first
        self.spare = 0
        self.gamma = 1.0
        self.q = np.empty(n)  # the two-loop's work vector

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

    def direction(self, g: FloatArray, out: FloatArray) -> FloatArray:
        """``out = -H g`` by the two-loop recursion (N&W algorithm 7.4)."""
        q, order, rho, alpha = self.q, self.order, self.rho, self.alpha
        s_rows, y_rows = self.s_rows, self.y_rows
        np.copyto(q, g)
        for i in reversed(order):
            a = rho[i] * float(s_rows[i] @ q)
            alpha[i] = a
            q -= a * y_rows[i]
        q *= self.gamma
        for i in order:
            b = rho[i] * float(y_rows[i] @ q)
            q += (alpha[i] - b) * s_rows[i]
        return np.negative(q, out=out)


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
    does; a second failure stops with status 2.

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
    gmax = float(np.max(np.abs(g)))
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
        pt = line_search(obj, x, p, f, slope, alpha1, c1, c2, maxls)
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
        gmax = float(np.max(np.abs(g)))
        if callback is not None:
            try:
                callback(x.reshape(shape).copy())
            except StopIteration:
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
