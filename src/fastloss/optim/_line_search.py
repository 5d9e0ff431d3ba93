"""Strong-Wolfe line searches.

* :func:`line_search`, the one the closure-driven minimizers share (minimize_cg,
  minimize_lbfgs): bracketing + zoom with cubic / quadratic interpolation, Nocedal & Wright,
  *Numerical Optimization* (2nd ed.), algorithms 3.5 and 3.6, eq. 3.57-3.59;
* :func:`torch_strong_wolfe`, torch.optim.LBFGS's, for :class:`fastloss.optim.LBFGS`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, List, Optional, Tuple

import numpy as np

from fastloss.optim._minimize import FloatArray, Objective

# Line-search budgets: generous, because with jac=True every trial point costs one `fun`
# call and a failed search ends the whole minimization.
_MAX_BRACKET = 50
_MAX_ZOOM = 50
# The bracketing phase gives up (f unbounded below along p, or no usable slope) once the
# step has grown this many times beyond its first trial. Relative, not a cap on alpha
# itself: alpha's scale is 1/scale(f) (an objective multiplied by 1e-24 needs steps 1e24
# times longer), so any absolute bound breaks for objectives of small scale.
_MAX_GROWTH = 1e20
# Relative allowance for rounding in f during the line search. Objectives like
# 0.5 x'Ax - b'x lose digits to cancellation, so their noise is well above one ulp of f
# (1e-14 relative was measured on a cond-1e3 quadratic); 1e-12 leaves a margin.
F_ROUNDING = 1e-12


class Point:
    """One trial step of the line search: phi(a) = f(x + a p) and phi'(a) = g.p."""

    __slots__ = ("a", "f", "d", "g", "x")

    def __init__(self, a: float, f: float, x: FloatArray, g: Optional[FloatArray],
                 p: FloatArray) -> None:
        self.a = a
        self.f = f if math.isfinite(f) else math.inf  # NaN counts as "too large"
        self.x = x
        self.g = g
        self.d: Optional[float] = None
        if g is not None:
            self.d = float(g @ p)

    def slope(self, obj: Objective, p: FloatArray) -> float:
        if self.d is None:
            self.g = obj.gradient(self.x)
            self.d = float(self.g @ p)
        return self.d


def _cubic_min(a0: float, f0: float, d0: float, a1: float, f1: float, d1: float
               ) -> float:
    """Minimizer of the cubic matching phi and phi' at a0 and a1 (N&W eq. 3.59); NaN if none."""
    if a0 == a1:
        return math.nan
    e1 = d0 + d1 - 3.0 * (f0 - f1) / (a0 - a1)
    disc = e1 * e1 - d0 * d1
    if not disc >= 0.0:
        return math.nan
    e2 = math.copysign(math.sqrt(disc), a1 - a0)
    denom = d1 - d0 + 2.0 * e2
    if denom == 0.0:
        return math.nan
    return a1 - (a1 - a0) * (d1 + e2 - e1) / denom


def _quadratic_min(a0: float, f0: float, d0: float, a1: float, f1: float) -> float:
    """Minimizer of the quadratic matching phi(a0), phi'(a0), phi(a1); NaN if none."""
    h = a1 - a0
    if h == 0.0:
        return math.nan
    curvature = (f1 - f0 - d0 * h) / (h * h)
    if not curvature > 0.0:
        return math.nan
    return a0 - d0 / (2.0 * curvature)


def _zoom_trial(lo: Point, hi: Point) -> float:
    """Next trial step strictly inside (lo.a, hi.a), away from both ends."""
    assert lo.d is not None
    width = hi.a - lo.a
    if not math.isfinite(hi.f):
        # the far end overflowed: backtrack hard instead of interpolating through inf
        return lo.a + 0.25 * width
    if hi.d is not None and math.isfinite(hi.d):
        a = _cubic_min(lo.a, lo.f, lo.d, hi.a, hi.f, hi.d)
    else:
        a = _quadratic_min(lo.a, lo.f, lo.d, hi.a, hi.f)
    left, right = sorted((lo.a + 0.1 * width, hi.a - 0.1 * width))
    if not left <= a <= right:
        # outside the safeguarded interval (or NaN): bisect, which always shrinks it
        lo_a, hi_a = sorted((lo.a, hi.a))
        if not lo_a <= a <= hi_a:
            return lo.a + 0.5 * width
        return min(max(a, left), right)
    return a


class _OutOfEvaluations(Exception):
    """The line search used its budget of ``fun`` calls (``max_evals``)."""


def line_search(obj: Objective, x: FloatArray, p: FloatArray, f0: float, dphi0: float,
                alpha1: float, c1: float, c2: float, max_evals: Optional[int] = None,
                rounding: float = F_ROUNDING) -> Optional[Point]:
    """A step satisfying the strong Wolfe conditions, or None (N&W algorithms 3.5, 3.6).

    phi(a) <= phi(0) + c1 a phi'(0)  and  |phi'(a)| <= c2 |phi'(0)|, with phi'(0) < 0,
    searched from the trial step ``alpha1``. Non-finite values (and non-finite slopes)
    count as failing sufficient decrease, so the search backtracks out of regions where
    ``fun`` overflows. ``max_evals``: at most this many trial points (calls of
    ``obj.evaluate``), None for the fixed budgets of bracketing and zoom alone; either
    exhausted gives None. ``rounding``: the relative rounding of f the decrease tests
    allow (:data:`F_ROUNDING` for a float64 objective).
    """
    curvature = -c2 * dphi0
    # Near a minimizer phi changes by less than its rounding error while phi' is still
    # accurate; without this slack the decrease test fails on noise (precision loss).
    noise = rounding * abs(f0)
    evals = 0

    def trial(a: float) -> Point:
        nonlocal evals
        if max_evals is not None and evals >= max_evals:
            raise _OutOfEvaluations
        evals += 1
        xa = x + p if a == 1.0 else x + a * p  # the same bits: 1.0 * p is p
        f, g = obj.evaluate(xa)
        return Point(a, f, xa, g, p)

    def decreases(pt: Point) -> bool:
        return pt.f <= f0 + c1 * pt.a * dphi0 + noise

    def zoom(lo: Point, hi: Point) -> Optional[Point]:
        for _ in range(_MAX_ZOOM):
            if abs(hi.a - lo.a) <= 1e-14 * max(abs(lo.a), abs(hi.a)):
                return None  # interval below rounding of the step: precision loss
            pt = trial(_zoom_trial(lo, hi))
            if not decreases(pt) or pt.f > lo.f + noise:
                hi = pt
                continue
            d = pt.slope(obj, p)
            if not math.isfinite(d):
                hi = pt
                continue
            if abs(d) <= curvature:
                return pt
            if d * (hi.a - lo.a) >= 0.0:
                hi = lo
            lo = pt
        return None

    def bracket() -> Optional[Point]:
        prev = Point(0.0, f0, x, None, p)
        prev.d = dphi0
        a = alpha1
        amax = alpha1 * _MAX_GROWTH
        for i in range(_MAX_BRACKET):
            pt = trial(a)
            if not decreases(pt) or (i > 0 and pt.f > prev.f + noise):
                return zoom(prev, pt)
            d = pt.slope(obj, p)
            if not math.isfinite(d):
                return zoom(prev, pt)
            if abs(d) <= curvature:
                return pt
            if d >= 0.0:
                return zoom(pt, prev)
            if a >= amax:
                return None
            # still descending: extrapolate with the cubic through both points, between
            # 2x and 10x the last increment so the bracket grows geometrically
            step = a - prev.a
            assert prev.d is not None
            guess = _cubic_min(prev.a, prev.f, prev.d, a, pt.f, d)
            lower, upper = a + step, a + 10.0 * step
            nxt = min(max(guess, lower), upper) if math.isfinite(guess) and guess > a else upper
            prev, a = pt, min(nxt, amax)
        return None

    try:
        return bracket()
    except _OutOfEvaluations:
        return None


# ---- torch.optim.LBFGS's strong-Wolfe search ---------------------------------------------
# A different algorithm from the one above (torch's, ported from the Lua torch/optim
# lswolfe.lua: its own extrapolation bounds, its bracket bookkeeping, a budget of evaluations
# shared with the optimizer step, a stop on a bracket shorter than tolerance_change), kept
# step for step so fastloss.optim.LBFGS follows torch.optim.LBFGS's iterates.

#: ``phi(t)`` of a trial step: ``(f(x + t d), its flat gradient)``
DirectionalEvaluate = Callable[[float], Tuple[float, FloatArray]]


def _torch_cubic(x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any,
                 bounds: Optional[Tuple[Any, Any]] = None) -> Any:
    """The minimizer of the cubic through (x1, f1, g1), (x2, f2, g2), clipped to
    ``bounds`` (default: between x1 and x2); their midpoint when the cubic has none.
    torch.optim.lbfgs._cubic_interpolate's arithmetic, in its order."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(at, lo), hi)
    return (lo + hi) / 2.0


def torch_strong_wolfe(phi: DirectionalEvaluate, t: Any, d: FloatArray, f: float,
                       g: FloatArray, gtd: Any, c1: float = 1e-4, c2: float = 0.9,
                       tolerance_change: float = 1e-9, max_ls: int = 25
                       ) -> Tuple[float, FloatArray, Any, int]:
    """torch.optim.LBFGS's strong-Wolfe search along ``d`` from the trial step ``t``:
    ``(f_new, g_new, t, evaluations)``.

    ``f, g, gtd``: f, its gradient and ``g.d`` at the start. The best point found is
    returned when ``max_ls`` evaluations (the first trial excluded from the count of
    bracketing steps, as torch) run out, or the bracket shrinks below
    ``tolerance_change`` (measured as ``|t_hi - t_lo| max|d|``).
    """
    d_norm = float(np.max(np.abs(d))) if d.size else 0.0
    f_new, g_new = phi(t)
    evals = 1
    # slopes stay NumPy scalars of the parameters' dtype, as torch's 0-d tensors
    gtd_new: Any = g_new @ d
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket: List[float] = []
    bracket_f: List[float] = []
    bracket_g: List[FloatArray] = []
    bracket_gtd: List[Any] = []
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate: the cubic's minimizer, from 1.01x to 10x the current step
        t_next = _torch_cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                              bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket around a point satisfying both conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _torch_cubic(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                         bracket_gtd[1])
        # a trial too close to an end of the bracket moves to 10% of its length inside it,
        # at once if it is at an end or the previous trial was already too close
        top, bottom = max(bracket), min(bracket)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = g_new @ d
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            # no sufficient decrease, or not below the low end: the new high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                # the old low end becomes the high end
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals
