"""fastloss._backend: get_backend / set_backend / use_backend (default, nesting, restoring
on error, invalid names, per thread) and that the switch really changes the implementation
(the "numpy" backend calls fastloss.reference)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import fastloss
from fastloss import reference


@pytest.fixture
def restore_backend():
    before = fastloss.get_backend()
    yield
    fastloss.set_backend(before)


def test_default_backend_is_c():
    assert fastloss.get_backend() == "c"


def test_set_backend(restore_backend):
    fastloss.set_backend("numpy")
    assert fastloss.get_backend() == "numpy"
    fastloss.set_backend("c")
    assert fastloss.get_backend() == "c"
    with pytest.raises(ValueError, match="backend"):
        fastloss.set_backend("fortran")
    assert fastloss.get_backend() == "c"


def test_use_backend_restores(restore_backend):
    assert fastloss.get_backend() == "c"
    with fastloss.use_backend("numpy"):
        assert fastloss.get_backend() == "numpy"
        with fastloss.use_backend("c"):
            assert fastloss.get_backend() == "c"
        assert fastloss.get_backend() == "numpy"
    assert fastloss.get_backend() == "c"
    with pytest.raises(KeyError):
        with fastloss.use_backend("numpy"):
            assert fastloss.get_backend() == "numpy"
            raise KeyError("boom")
    assert fastloss.get_backend() == "c"
    fastloss.set_backend("numpy")
    with fastloss.use_backend("c"):
        assert fastloss.get_backend() == "c"
    assert fastloss.get_backend() == "numpy"


def test_use_backend_invalid_name():
    with pytest.raises(ValueError, match="backend"):
        with fastloss.use_backend("cuda"):
            pass  # pragma: no cover
    assert fastloss.get_backend() == "c"


def test_use_backend_does_not_leak_across_threads():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with fastloss.use_backend("numpy"):
            seen["worker"] = fastloss.get_backend()
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(10)
        seen["main"] = fastloss.get_backend()
    finally:
        release.set()
        t.join(10)
    assert seen == {"worker": "numpy", "main": "c"}

    # and the other way round: a thread started inside use_backend sees the default
    with fastloss.use_backend("numpy"):
        t = threading.Thread(target=lambda: seen.__setitem__("child", fastloss.get_backend()))
        t.start()
        t.join(10)
    assert seen["child"] == "c"


def test_backend_really_switches_implementation(monkeypatch, restore_backend):
    """use_backend("numpy") calls fastloss.reference; "c" does not."""
    calls = []
    real = reference.mse_loss_value_and_grad

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reference, "mse_loss_value_and_grad", spy)
    x = np.array([1.0, 2.0])
    fastloss.mse_loss_value_and_grad(x, x)
    assert calls == []
    with fastloss.use_backend("numpy"):
        fastloss.mse_loss_value_and_grad(x, x)
    assert calls == [1]
    fastloss.set_backend("numpy")
    fastloss.mse_loss_value_and_grad(x, x)
    assert calls == [1, 1]
