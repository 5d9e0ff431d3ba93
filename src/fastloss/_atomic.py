"""Updates applied whole or not at all, even when Ctrl-C arrives in the middle.

Python raises ``KeyboardInterrupt`` between two bytecodes of the main thread. Landing
between two parameters of one optimizer step, or between an epoch's kernel and the state
that records it, it would leave arrays and state disagreeing (a resumed run then diverges).
Code that writes several arrays, or arrays and then their state, runs inside
:func:`deferred_interrupt`: a SIGINT that arrives meanwhile is held back and delivered,
to the handler that was installed, as soon as the block ends. The compiled kernels need
nothing more: they run to completion with the GIL released, and the interrupt is raised by
the first bytecode after them.

Only the main thread receives Python signal handlers, so only there is anything deferred.
A block that runs for long (a NumPy-backend epoch) delays Ctrl-C until it ends.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator, List

# the C module under signal: the same calls without signal's enum conversions, which cost
# ~3 us a call (a deferred block made three; an optimizer's checked step runs several)
try:
    import _signal as _handlers  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - not CPython
    _handlers = signal

__all__ = ["deferred_interrupt"]


class _Recorder:
    """A SIGINT handler that only remembers that the signal came."""

    def __init__(self) -> None:
        self.received: List[Any] = []

    def __call__(self, signum: int, frame: Any) -> None:
        self.received.append(frame)


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Run the block with SIGINT held back; deliver it (once) when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _handlers.getsignal(signal.SIGINT)
    if not callable(previous) or isinstance(previous, _Recorder):
        yield  # ignored or default (the process dies anyway), or already deferred outside
        return
    recorder = _Recorder()
    try:
        # installed inside the try: a SIGINT pending from before is raised at the first
        # bytecode after this call, and the handler must be restored then too (a recorder
        # left behind would swallow every later Ctrl-C)
        _handlers.signal(signal.SIGINT, recorder)
        yield
    finally:
        _handlers.signal(signal.SIGINT, previous)
        if recorder.received:
            previous(signal.SIGINT, recorder.received[0])
