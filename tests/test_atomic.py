"""fastloss._atomic.deferred_interrupt: SIGINT held back for a block, delivered after it."""

import signal
import threading

import pytest

from fastloss import _atomic

needs_main_thread = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signal handlers are installed from the main thread only")


@needs_main_thread
def test_interrupt_raised_as_the_recorder_is_installed_restores_the_handler(monkeypatch):
    """A SIGINT that was pending when the block started is raised right after the recorder
    is installed (the first bytecode boundary): the handler must be restored then too, or the
    stale recorder swallows every later Ctrl-C (a hang in test_safety's Ctrl-C test)."""
    before = signal.getsignal(signal.SIGINT)
    real_signal = _atomic._handlers.signal

    def install_then_interrupt(signum, handler):
        old = real_signal(signum, handler)
        if isinstance(handler, _atomic._Recorder):
            raise KeyboardInterrupt
        return old

    monkeypatch.setattr(_atomic._handlers, "signal", install_then_interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            with _atomic.deferred_interrupt():
                pytest.fail("the block must not run")  # pragma: no cover
        assert signal.getsignal(signal.SIGINT) is before
    finally:
        real_signal(signal.SIGINT, before)


@needs_main_thread
def test_interrupt_in_the_block_is_delivered_after_it():
    before = signal.getsignal(signal.SIGINT)
    ran = []
    with pytest.raises(KeyboardInterrupt):
        with _atomic.deferred_interrupt():
            signal.raise_signal(signal.SIGINT)
            ran.append("rest of the block")
    assert ran == ["rest of the block"]
    assert signal.getsignal(signal.SIGINT) is before
