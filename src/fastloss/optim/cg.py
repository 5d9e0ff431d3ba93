"""Nonlinear conjugate gradient (Polak-Ribiere+) with a strong-Wolfe line search.

Pure NumPy: the cost of one iteration is a few calls of ``fun`` (for instance one of
fastloss's ``*_value_and_grad`` kernels) plus O(n) vector work, so nothing here needs C.

The method follows Nocedal & Wright, *Numerical Optimization* (2nd ed.): the PR+ update
(eq. 5.45), the bracketing + zoom line search (algorithms 3.5 and 3.6) with cubic /
quadratic interpolation (eq. 3.57-3.59), and the initial trial step of eq. 3.60. The
result and its status codes mirror :class:`scipy.optimize.OptimizeResult`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from fastloss._validation import POSITIVE, check_int, check_real, to_float
from fastloss.optim._line_search import line_search
from fastloss.optim._minimize import (FloatArray, Objective, OptimizeResult, check_common,
                                      check_wolfe, stopped_by, validate_x0)

__all__ = ["CGResult", "minimize_cg"]

_MESSAGES = {
    0: "Optimization terminated successfully.",
    1: "Maximum number of iterations has been exceeded.",
    2: "Desired error not necessarily achieved due to precision loss.",
    99: "`callback` raised `StopIteration`.",
}

# Powell's restart test (N&W eq. 5.52): restart when |g_k.g_{k-1}| >= nu ||g_k||^2.
_POWELL_NU = 0.1


class CGResult(OptimizeResult):
    """Result of :func:`minimize_cg`: the fields of :class:`OptimizeResult` (SciPy's).

    ``status``: 0 converged (the gradient norm reached ``gtol``), 1 ``maxiter`` reached,
    2 the line search failed (precision loss), 99 ``callback`` raised ``StopIteration``.
    ``njev`` counts the calls of ``jac`` when it is a callable.
    """


def minimize_cg(fun: Callable[..., Any], x0: ArrayLike, args: Any = (), *,
                jac: Union[bool, Callable[..., Any]] = True, gtol: float = 1e-5,
                maxiter: Optional[int] = None, norm: float = np.inf, c1: float = 1e-4,
                c2: float = 0.4, callback: Optional[Callable[[FloatArray], Any]] = None
                ) -> CGResult:
    """Minimize ``fun`` by nonlinear conjugate gradient (Polak-Ribiere+), like SciPy's CG.

    Directions: ``p_0 = -g_0``, ``p_{k+1} = -g_{k+1} + beta_k p_k`` with
    ``beta_k = max(0, g_{k+1}.(g_{k+1} - g_k) / g_k.g_k)`` (PR+). The direction restarts
    as steepest descent (``beta = 0``) when it is not a descent direction (``g.p >= 0``),
    or when successive gradients are far from orthogonal, ``|g_{k+1}.g_k| >= 0.1
    ||g_{k+1}||^2`` (Powell's test, N&W eq. 5.52), which is how conjugacy loss shows. There
    is no fixed restart every ``n`` iterations: on ill-conditioned problems that need more
    than ``n`` iterations it threw away the conjugate direction when it was most useful
    (California housing least squares, n=13, c2=0.1, gtol 1e-4 to 1e-7: 64 to 597
    iterations with a restart every n, 15 to 17 with Powell's test only; SciPy 55 to 282).
    The step ``x_{k+1} = x_k + alpha_k p_k`` satisfies the strong Wolfe
    conditions::

        f(x_k + alpha p_k) <= f(x_k) + c1 alpha g_k.p_k
        |g(x_k + alpha p_k).p_k| <= c2 |g_k.p_k|

    found by bracketing and zoom with cubic / quadratic interpolation (Nocedal & Wright
    algorithms 3.5 and 3.6). The decrease test allows ``1e-12 |f(x_k)|`` of rounding: near
    a minimizer f changes by less than its own rounding error while the slope is still
    accurate, and the slope then decides (this is what lets small ``gtol`` be reached).
    The first trial step is ``1/||g_0||_2`` (a step of unit length), later ones
    ``alpha_{k-1} g_{k-1}.p_{k-1} / g_k.p_k`` (N&W eq. 3.60), and the bracketing phase
    gives up only after the step grew 1e20-fold beyond its first trial: all of it scales
    with ``1/f``, so the method is invariant to the scale of ``fun`` (multiplying it and
    ``gtol`` by a power of two gives the same iterates exactly; by 1e-50 to 1e50, the same
    minimizer). SciPy starts from ``min(1, 1.01/||g_0||_2)``, a step too short when the
    gradient is tiny. If a line search fails on a
    conjugate direction the method retries once with steepest descent before giving up
    (status 2). Trial points where ``fun`` is NaN or inf count as "too large" and the search
    backtracks.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)`` with ``x`` a float64 array of the shape of ``x0``, a fresh copy
        on every call (``fun`` may modify it). With
        ``jac=True`` it returns ``(value, gradient)``; otherwise it returns the value.
    x0 : array_like of real numbers, any shape, at least one element, finite
        Starting point. The computation runs in float64 whatever its dtype (a float32
        ``x0`` is upcast; the result is float64).
    args : tuple
        Extra positional arguments of ``fun`` and ``jac`` (a non-tuple is wrapped as a
        1-tuple, as SciPy does).
    jac : True or callable
        ``True``: ``fun`` returns the gradient too (one call per trial point, the natural
        fit for fastloss's ``*_value_and_grad``). A callable: ``jac(x, *args)`` returns the
        gradient, called only where the line search needs a slope (with a fresh copy
        of the point, like ``fun``).
    gtol : float > 0, default 1e-5
        Stop when ``||g||_norm <= gtol``.
    maxiter : int >= 0, default ``200 * x0.size`` (as SciPy)
        Maximum number of iterations.
    norm : float, default inf
        Order of the gradient norm (``numpy.linalg.norm``'s ``ord`` for vectors: a number
        > 0, or +-inf).
    c1, c2 : float, ``0 < c1 < c2 < 1``, defaults 1e-4 and 0.4 (SciPy's CG defaults)
        Sufficient-decrease and curvature constants of the strong Wolfe conditions.
    callback : callable, optional
        ``callback(xk)`` after each iteration with a copy of the iterate (shape of ``x0``).
        Raising ``StopIteration`` ends the minimization with status 99.

    Returns
    -------
    CGResult
        ``x, fun, jac, nit, nfev, njev, success, status, message`` as in SciPy. The
        convergence test is done before the iteration-count test, so a starting point that
        already satisfies ``gtol`` reports success even with ``maxiter=0``.

    Raises
    ------
    TypeError
        ``fun``/``jac``/``callback`` not callable, ``x0`` not real, parameters of the wrong
        type, or ``fun`` returning something other than a scalar (and a gradient).
    ValueError
        ``x0`` empty or not finite, ``gtol <= 0``, ``maxiter < 0``, not ``0 < c1 < c2 < 1``,
        bad ``norm``, a gradient of the wrong size, or ``fun``/gradient not finite at ``x0``.

    Examples
    --------
    Least squares through a fastloss kernel (``mse_loss`` is ``mean(r**2)``):

    >>> import numpy as np, fastloss
    >>> from fastloss.optim import minimize_cg
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]); y = np.array([1.0, 3.0, 5.0])
    >>> def fun(w):
    ...     value, dpred = fastloss.mse_loss_value_and_grad(X @ w, y)
    ...     return float(value), X.T @ dpred
    >>> res = minimize_cg(fun, np.zeros(2), gtol=1e-10)
    >>> res.success, np.round(res.x, 8).tolist()
    (True, [1.0, 2.0])
    """
    args = check_common(fun, callback, args)
    if not (jac is True or callable(jac)):
        raise TypeError("jac must be True (fun returns (value, gradient)) or a callable "
                        f"returning the gradient, got {jac!r}")
    x = validate_x0(x0)
    shape = x.shape
    x = x.reshape(-1)
    n = x.size
    gtol = check_real(gtol, "gtol", POSITIVE)
    maxiter = 200 * n if maxiter is None else check_int(maxiter, "maxiter", 0)
    if isinstance(norm, bool) or not isinstance(norm, numbers.Real):  # inf is a norm order
        raise TypeError(f"norm must be a real number, got {norm!r}")
    norm = to_float(norm)
    if not (norm > 0.0 or norm == -math.inf):
        raise ValueError(f"norm must be > 0 or +-inf (a vector norm order), got {norm}")
    c1, c2 = check_wolfe(c1, c2)

    obj = Objective(fun, jac, args, shape)
    f, g = obj.evaluate(x)
    if g is None:
        g = obj.gradient(x)
    if not math.isfinite(f):
        raise ValueError(f"fun is not finite at x0 (value {f})")
    if not np.all(np.isfinite(g)):
        raise ValueError("the gradient is not finite at x0")

    def gnorm_of(v: FloatArray) -> float:
        return float(np.linalg.norm(v, ord=norm))

    gnorm = gnorm_of(g)
    p = -g
    steepest = True
    prev_alpha = prev_slope = math.nan
    nit = 0
    status = 0
    while True:
        if gnorm <= gtol:
            status = 0
            break
        if nit >= maxiter:
            status = 1
            break
        slope = float(g @ p)
        if not slope < 0.0:
            # g.p underflowed to 0 (tiny gradients) or went non-finite: no usable slope
            if steepest:
                status = 2
                break
            p, steepest = -g, True
            continue
        if math.isnan(prev_alpha):
            # a first step of unit length, ||alpha p_0|| = 1 (SciPy's intent: "dx ~ 1").
            # Not min(1, 1/||g||) as SciPy has: scaling f by s scales the step that reaches
            # the minimizer by 1/s, and with the cap a tiny gradient (f scaled by 1e-24)
            # leaves the search a first step 1e24 times too short to extrapolate from.
            alpha1 = 1.0 / float(np.linalg.norm(g))
        else:
            alpha1 = prev_alpha * prev_slope / slope
        if not (math.isfinite(alpha1) and alpha1 > 0.0):
            alpha1 = 1.0
        pt = line_search(obj, x, p, f, slope, alpha1, c1, c2)
        if pt is None:
            if steepest:
                status = 2
                break
            # a conjugate direction can be poor; steepest descent always has a Wolfe step
            p, steepest = -g, True
            continue
        assert pt.g is not None
        g_new = pt.g
        x, f = pt.x, pt.f
        prev_alpha, prev_slope = pt.a, slope
        nit += 1
        if abs(float(g_new @ g)) >= _POWELL_NU * float(g_new @ g_new):
            beta = 0.0  # successive gradients far from orthogonal: conjugacy is lost
        else:
            beta = max(0.0, float(g_new @ (g_new - g)) / float(g @ g))
        p = -g_new + beta * p if beta > 0.0 else -g_new
        steepest = beta == 0.0
        if not steepest and float(g_new @ p) >= 0.0:
            p, steepest = -g_new, True
        g = g_new
        gnorm = gnorm_of(g)
        if stopped_by(callback, x, shape):
            status = 99
            break

    return CGResult(x=x.reshape(shape).copy(), fun=f, jac=g.reshape(shape).copy(), nit=nit,
                    nfev=obj.nfev, njev=obj.njev, success=status == 0, status=status,
                    message=_MESSAGES[status])
