"""What the closure-driven minimizers (:func:`~fastloss.optim.minimize_cg`,
:func:`~fastloss.optim.minimize_lbfgs`) share: the result record, the check of ``x0`` and
of the other arguments, and the wrapper that calls the user's ``fun`` and counts the calls.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, Iterator, Optional, Tuple

import numpy as np
from numpy.typing import NDArray

from fastloss._validation import UNIT_OPEN, check_real, reject_masked

FloatArray = NDArray[np.float64]

_F64_EPS = float(np.finfo(np.float64).eps)


@dataclass
class OptimizeResult:
    """A minimizer's result, with the fields of SciPy's ``OptimizeResult``.

    Attributes and item access both work (``res.x`` and ``res["x"]``). Each minimizer's
    subclass says what its status codes mean.

    x : ndarray, float64, shape of ``x0``
        The final iterate.
    fun : float
        ``fun`` at ``x``.
    jac : ndarray, float64, shape of ``x0``
        The gradient at ``x``.
    nit : int
        Iterations done (accepted line-search steps).
    nfev, njev : int
        Calls of ``fun`` and of the gradient (``njev == nfev`` when ``fun`` returns both).
    success : bool
        ``status == 0``.
    status : int
        Why the run stopped (the subclass lists the codes).
    message : str
        The status in words.
    """

    x: FloatArray
    fun: float
    jac: FloatArray
    nit: int
    nfev: int
    njev: int
    success: bool
    status: int
    message: str

    def __getitem__(self, key: str) -> Any:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def keys(self) -> Tuple[str, ...]:
        return tuple(f.name for f in fields(self))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


def check_common(fun: Any, callback: Any, args: Any) -> Tuple[Any, ...]:
    """TypeError unless ``fun`` (and ``callback``, when not None) is callable; ``args`` as a
    tuple (a non-tuple is wrapped as a 1-tuple, as SciPy does)."""
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    return args if isinstance(args, tuple) else (args,)


def stopped_by(callback: Optional[Callable[[FloatArray], Any]], x: FloatArray,
               shape: Tuple[int, ...]) -> bool:
    """Call ``callback`` (if any) with a copy of the iterate in ``x0``'s shape; True when it
    raised ``StopIteration`` (the minimizer then stops with status 99)."""
    if callback is None:
        return False
    try:
        callback(x.reshape(shape).copy())
    except StopIteration:
        return True
    return False


def check_wolfe(c1: Any, c2: Any) -> Tuple[float, float]:
    """The strong-Wolfe constants, ``0 < c1 < c2 < 1``."""
    c1 = check_real(c1, "c1", UNIT_OPEN)
    c2 = check_real(c2, "c2", UNIT_OPEN)
    if not 0.0 < c1 < c2 < 1.0:
        raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
    return c1, c2


def validate_x0(x0: Any) -> FloatArray:
    reject_masked(x0, "x0")
    arr = np.asarray(x0)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(f"x0 must be an array of real numbers (integer or float), "
                        f"got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError("x0 must have at least one element")
    out = np.array(arr, dtype=np.float64)  # a private copy in float64, whatever came in
    if not np.all(np.isfinite(out)):
        raise ValueError("x0 must be finite (found NaN or inf)")
    return out


class Objective:
    """Evaluates the user's function on flat float64 vectors and counts the calls."""

    def __init__(self, fun: Callable[..., Any], jac: Any, args: Tuple[Any, ...],
                 shape: Tuple[int, ...]) -> None:
        self.fun = fun
        self.jac = jac
        self.args = args
        self.shape = shape
        self.size = int(np.prod(shape, dtype=np.int64))
        self.nfev = 0
        self.njev = 0
        #: machine epsilon of the least precise float gradient ``fun`` returned (float64's
        #: when every one was float64 or not an ndarray): what its values are good to
        self.gradient_eps = _F64_EPS

    def _value(self, v: Any) -> float:
        if type(v) is float:  # the common case, kept cheap
            return v
        if isinstance(v, (tuple, list)) or np.ndim(v) != 0:
            hint = " (a pair? with jac callable, fun returns the value only)" \
                if isinstance(v, (tuple, list)) else ""
            raise TypeError(f"fun must return a scalar value, got a {type(v).__name__}"
                            f"{hint}")
        try:
            return float(v)
        except (TypeError, ValueError):
            raise TypeError(f"fun must return a real scalar value, got {type(v).__name__}"
                            ) from None

    def _gradient(self, g: Any, who: str) -> FloatArray:
        # a copy: a user function may hand back a buffer it overwrites on the next call
        try:
            arr = np.array(g, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{who} must return a real gradient array, got "
                            f"{type(g).__name__}") from None
        if arr.size != self.size:
            raise ValueError(f"{who} returned a gradient with {arr.size} elements; "
                             f"x0 has {self.size} (shape {self.shape})")
        dtype = getattr(g, "dtype", None)
        if dtype is not None and dtype != np.float64 and dtype.kind == "f":
            self.gradient_eps = max(self.gradient_eps, float(np.finfo(dtype).eps))
        return arr.reshape(-1)

    def evaluate(self, x: FloatArray) -> Tuple[float, Optional[FloatArray]]:
        """``fun`` at ``x``, with the gradient when it comes in the same call."""
        # a private copy: ``x`` becomes the next iterate, and a ``fun`` that works on its
        # argument in place must not change it (SciPy copies too)
        xs = x.reshape(self.shape).copy()
        if self.jac is True:
            out = self.fun(xs, *self.args)
            self.nfev += 1
            self.njev += 1
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError("with jac=True, fun must return a pair (value, gradient)")
            return self._value(out[0]), self._gradient(out[1], "fun")
        value = self._value(self.fun(xs, *self.args))
        self.nfev += 1
        return value, None

    def gradient(self, x: FloatArray) -> FloatArray:
        g = self.jac(x.reshape(self.shape).copy(), *self.args)  # a copy, as in evaluate
        self.njev += 1
        return self._gradient(g, "jac")
