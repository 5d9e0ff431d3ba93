"""The backend switch: compiled kernels ("c", the default) or the NumPy reference ("numpy").

``set_backend`` changes the process-wide default; ``use_backend`` overrides it in the
current context only (a :class:`contextvars.ContextVar`), so threads and async tasks
that use different backends do not interfere.
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Optional

BACKENDS = ("c", "numpy")

_default = "c"
_override: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar(
    "fastloss_backend", default=None)


def _check(name: str) -> str:
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    return name


def get_backend() -> str:
    """The backend in force here: ``"c"`` or ``"numpy"``."""
    name = _override.get()
    return _default if name is None else name


def set_backend(name: str) -> None:
    """Set the process-wide backend: ``"c"`` (compiled kernels) or ``"numpy"`` (reference)."""
    global _default
    _default = _check(name)


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run a block on one backend::

        with fastloss.use_backend("numpy"):
            value, grad = fastloss.mse_loss_value_and_grad(pred, target)
    """
    token = _override.set(_check(name))
    try:
        yield
    finally:
        _override.reset(token)
