"""What must hold under threads, fork, Ctrl-C and many calls (issue 8's promises).

* a thread changing labels while a kernel reads them never makes it write out of bounds;
* a fork Pool started after multi-threaded calls finishes;
* kernels called from 8 threads at once give bit-identical results to serial calls;
* memory does not grow over 10^5 calls;
* a KeyboardInterrupt (SIGINT sent to the process) leaves arrays and state consistent;
* an optimizer stepped from two threads loses no step.

Every test bounds its time; none asserts a duration.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List

import numpy as np
import pytest

import fastloss
from fastloss.linear import EpochState
from fastloss.optim import SGD, Adam

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
needs_openmp = pytest.mark.skipif(not fastloss.config()["openmp"],
                                  reason="built without OpenMP")


def run_python(code: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    """``code`` in a fresh interpreter: a crash there is a failed test, not a dead session."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)


# ---- labels changed by another thread -------------------------------------------------------

RACE = """
import threading, time
import numpy as np
import fastloss

n, c = 200_000, 10
rng = np.random.default_rng(0)
for dtype in (np.float32, np.float64):
    for bad in (10, 10**12, -7):
        L = rng.normal(size=(n, c)).astype(dtype)
        labels = rng.integers(0, c, n)
        buf = np.zeros(n * c + 64, dtype)
        out = buf[: n * c].reshape(n, c)   # a guard region right after out
        stop = threading.Event()

        def flip():
            while not stop.is_set():
                labels[-1] = bad
                labels[-1] = 1

        t = threading.Thread(target=flip)
        t.start()
        deadline = time.monotonic() + 0.5
        try:
            while time.monotonic() < deadline:
                for f in (fastloss.cross_entropy_grad, fastloss.cross_entropy_value_and_grad,
                          fastloss.nll_loss_grad):
                    try:
                        f(L, labels, out=out)
                    except ValueError as exc:  # the check before, or the kernel, saw it
                        assert "class index" in str(exc), exc
                    assert not buf[n * c:].any(), ("guard overwritten", dtype, bad)
                try:  # value only: nothing to overwrite, but no read out of bounds either
                    fastloss.cross_entropy(L, labels)
                except ValueError:
                    pass
        finally:
            stop.set()
            t.join()
print("done")
"""


def test_labels_changed_by_another_thread_never_write_out_of_bounds() -> None:
    # in a subprocess: on failure the kernel crashes or scribbles, which must not take the
    # test session with it
    proc = run_python(RACE)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "done" in proc.stdout


SGD_RACE = """
import threading, time
import numpy as np
import fastloss

n, d, c = 20_000, 8, 5
rng = np.random.default_rng(1)
X = rng.normal(size=(n, d))
labels = rng.integers(0, c, n)
stop = threading.Event()

def flip():
    while not stop.is_set():
        labels[-1] = 10**12
        labels[-1] = 1

coef, b = np.zeros((d, c)), np.zeros(c)
t = threading.Thread(target=flip)
t.start()
deadline = time.monotonic() + 1.0
try:
    while time.monotonic() < deadline:
        labels[-1] = 1
        try:
            fastloss.sgd_epoch(X, labels, coef, b, loss="softmax", lr=1e-3)
        except ValueError as exc:  # the check saw the bad label
            assert "outside" in str(exc)
        assert np.isfinite(coef).all()
finally:
    stop.set()
    t.join()
print("done")
"""


def test_sgd_epoch_labels_changed_by_another_thread() -> None:
    proc = run_python(SGD_RACE)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "done" in proc.stdout


def test_kernel_checks_labels_it_reads() -> None:
    # the bindings trust their caller; the kernels still check every label as they read it
    from fastloss import _linear, _losses

    x = np.zeros((4, 3))
    grad = np.zeros(4 * 3 + 8)
    for bad in (3, -1, 2**62):
        labels = np.array([0, 1, bad, 2], np.int64)
        total, where = _losses.cross_entropy_index(x, labels, None, -100, 0.0, 1.0,
                                                   grad[:12].reshape(4, 3), None, 3, 1)
        assert where == 2 and not grad[12:].any()
        total, where = _losses.rowwise(_losses.ROWWISE_LOSSES["nll"], x, labels, None, -100,
                                       0.0, 1.0, grad[:12].reshape(4, 3), None, 3, 1)
        assert where == 2 and not grad[12:].any()
        # sgd_epoch stops before the visit that reads a bad label or a bad order entry
        coef, work = np.zeros((2, 3)), np.zeros(16)
        X = np.ones((4, 2))
        hyper = dict(loss="softmax", optimizer="sgd", learning_rate="constant", lr=0.1,
                     power_t=0.25, alpha=0.0, epsilon=1.0, momentum=0.0, nesterov=False,
                     beta1=0.9, beta2=0.999, eps=0.0, rho=0.99)
        state = EpochState("sgd")
        _, where = _linear.sgd_epoch(X, None, labels, coef, None, None, None, None, None,
                                     None, None, work, 0, **hyper, state=state,
                                     weight_sum=4.0)
        assert (where, state.t, state.epochs) == (2, 2, 0)
        order = np.array([0, 1, 3, 4 if bad == 3 else bad], np.int64)  # n = 4 rows
        for loss in ("softmax", "squared_error"):
            single = loss != "softmax"
            W = np.zeros(2) if single else np.zeros((2, 3))
            state = EpochState("sgd")
            _, where = _linear.sgd_epoch(
                X, np.ones(4) if single else None, None if single else np.zeros(4, np.int64),
                W, None, None, None, None, None, order, None, work, 0,
                **{**hyper, "loss": loss}, state=state, weight_sum=4.0)
            assert (where, state.t, state.epochs) == (3, 3, 0)


# ---- fork ----------------------------------------------------------------------------------

def _loss_in_child(n_threads: Any) -> float:
    x = np.ones(1 << 20)
    return float(fastloss.mse_loss(x, np.zeros_like(x), n_threads=n_threads))


@needs_fork
@needs_openmp
def test_fork_pool_after_threaded_calls_finishes() -> None:
    import multiprocessing

    x = np.ones(1 << 20)
    assert fastloss.mse_loss(x, np.zeros_like(x), n_threads=2) == 1.0  # threads started
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_loss_in_child, [None, 2, None, 2])
        assert result.get(timeout=60) == [1.0] * 4
        assert pool.apply_async(fastloss.get_num_threads).get(timeout=60) == 1


@needs_fork
@needs_openmp
def test_fork_before_any_threaded_call_keeps_threads() -> None:
    proc = run_python("""
        import os, fastloss
        fastloss.set_num_threads(2)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if fastloss.get_num_threads() == 2 else 1)
        print(os.waitpid(pid, 0)[1])
    """, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0"


# ---- threads: same bits as serial ------------------------------------------------------------

def _workloads() -> List[Callable[[], List[np.ndarray]]]:
    rng = np.random.default_rng(5)
    x, t = rng.normal(size=30_000), rng.normal(size=30_000)
    L, lab = rng.normal(size=(3000, 10)), rng.integers(0, 10, 3000)
    X, y = rng.normal(size=(2000, 6)), rng.normal(size=2000)
    g = rng.normal(size=5000)

    def losses() -> List[np.ndarray]:
        v1, g1 = fastloss.mse_loss_value_and_grad(x, t)
        v2, g2 = fastloss.binary_cross_entropy_with_logits_value_and_grad(x, (t > 0) * 1.0)
        v3, g3 = fastloss.cross_entropy_value_and_grad(L, lab, label_smoothing=0.1)
        return [np.asarray(v1), g1, np.asarray(v2), g2, np.asarray(v3), g3]

    def steps() -> List[np.ndarray]:
        p = np.zeros(5000)
        opt = Adam([p], lr=0.01)
        for _ in range(20):
            opt.step([g])
        return [p, opt.state[0]["exp_avg"]]

    def epoch() -> List[np.ndarray]:
        coef, b = np.zeros(6), np.zeros(1)
        mean, _ = fastloss.sgd_epoch(X, y, coef, b, optimizer="adam", shuffle=True, seed=3,
                                     n_epochs=2)
        return [np.asarray(mean), coef, b]

    return [losses, steps, epoch]


def test_eight_threads_give_the_bits_of_serial_runs() -> None:
    work = _workloads()
    serial = [f() for f in work]
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(work[i % len(work)]) for i in range(48)]
        results = [f.result(timeout=120) for f in futures]
    for i, got in enumerate(results):
        want = serial[i % len(work)]
        assert all(a.tobytes() == b.tobytes() for a, b in zip(got, want)), i


# ---- memory ------------------------------------------------------------------------------------

def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_rss_does_not_grow_over_many_calls() -> None:
    rng = np.random.default_rng(6)
    x, t = rng.normal(size=100), rng.normal(size=100)
    L, lab = rng.normal(size=(10, 10)), rng.integers(0, 10, 10)
    out, out_ce = np.empty(100), np.empty((10, 10))
    p = np.zeros(100)
    opt = Adam([p])
    X, y = rng.normal(size=(10, 3)), rng.normal(size=10)
    coef, b = np.zeros(3), np.zeros(1)
    bad = np.full(100, 2.0)

    def one_round() -> None:
        fastloss.mse_loss_value_and_grad(x, t, out=out)
        fastloss.cross_entropy_value_and_grad(L, lab, out=out_ce)
        opt.step([t])
        fastloss.sgd_epoch(X, y, coef, b, lr=1e-4)
        try:
            fastloss.binary_cross_entropy(bad, t)
        except ValueError:
            pass

    for _ in range(2000):  # warm up: caches, interned objects, allocator pools
        one_round()
    before = _rss_bytes()
    for _ in range(20_000):  # x 5 calls = 10^5
        one_round()
    grown = _rss_bytes() - before
    assert grown < 4 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 10^5 calls"


# ---- Ctrl-C -------------------------------------------------------------------------------------

def _interrupt_after(seconds: float) -> "subprocess.Popen[bytes]":
    """SIGINT to this process from another one, ``seconds`` from now: it lands wherever the
    process is (a thread of this process would have to wait for the GIL first, and would
    send it only where the main thread lets the GIL go)."""
    return subprocess.Popen(["sh", "-c", f"sleep {seconds}; kill -INT {os.getpid()}"])


needs_main_thread = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread() or os.name != "posix",
    reason="signals reach the main thread only; sent with sh and kill")


@needs_main_thread
@pytest.mark.parametrize("batch_size", [1, 7])
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_ctrl_c_during_epochs_leaves_state_describing_the_arrays(backend: str,
                                                                 batch_size: int) -> None:
    rng = np.random.default_rng(8)
    n = 20_000 if backend == "c" else 300
    X, y = rng.normal(size=(n, 5)), rng.normal(size=n)
    for delay in (0.01, 0.05, 0.13, 0.3):
        coef, b = np.zeros(5), np.zeros(1)
        with fastloss.use_backend(backend):
            _, state = fastloss.sgd_epoch(X, y, coef, b, optimizer="adam", lr=1e-3,
                                          shuffle=True, seed=1, batch_size=batch_size)
            timer = _interrupt_after(delay)
            try:
                fastloss.sgd_epoch(X, y, coef, b, state, optimizer="adam", lr=1e-3,
                                   shuffle=True, n_epochs=10**9, batch_size=batch_size)
                pytest.fail("not interrupted")
            except KeyboardInterrupt:
                pass
            finally:
                timer.wait(timeout=60)
        updates_per_epoch = -(-n // batch_size)
        assert len(state.losses) == state.epochs and state.t == state.epochs * updates_per_epoch
        # resuming from the state is exactly one uninterrupted run of as many epochs
        again, again_b = np.zeros(5), np.zeros(1)
        with fastloss.use_backend(backend):
            _, replay = fastloss.sgd_epoch(X, y, again, again_b, optimizer="adam", lr=1e-3,
                                           shuffle=True, seed=1, n_epochs=state.epochs,
                                           batch_size=batch_size)
        assert again.tobytes() == coef.tobytes() and again_b.tobytes() == b.tobytes()
        assert [a.tobytes() for a in replay.coef_state] == [a.tobytes()
                                                            for a in state.coef_state]


@needs_main_thread
@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_ctrl_c_during_steps_never_applies_part_of_one(backend: str) -> None:
    rng = np.random.default_rng(9)
    grads = [rng.normal(size=20_000) for _ in range(40)]
    for delay in (0.01, 0.04, 0.1):
        params = [np.zeros(20_000) for _ in grads]
        # the first step makes the state (the checked path); non-contiguous gradients keep
        # later steps on it too
        steps = [g[::-1] for g in grads] if backend == "c" else grads
        opt = Adam(params, lr=0.01)
        with fastloss.use_backend(backend):
            timer = _interrupt_after(delay)
            try:
                while True:
                    opt.step(steps)
            except KeyboardInterrupt:
                pass
            finally:
                timer.wait(timeout=60)
        counts = {opt.state[i]["step"] for i in range(len(params))} if opt.state else {0}
        assert len(counts) == 1, counts  # every parameter took the same number of steps
        done = counts.pop()
        replay = [np.zeros(20_000) for _ in grads]
        ref = Adam(replay, lr=0.01)
        with fastloss.use_backend(backend):
            for _ in range(done):
                ref.step(steps)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(params, replay))


# ---- floating-point state ---------------------------------------------------------------------

def test_numpy_backend_ignores_errstate_raise() -> None:
    big = np.array([1e200, -1e200, 0.0, np.inf])
    x, t = np.array([1e300, 2.0, -1e300]), np.array([-1e300, 1.0, 1e300])
    results: Dict[str, List[Any]] = {}
    for backend in ("c", "numpy"):
        p = np.ones(4)
        opt = SGD([p], lr=1e300, momentum=0.9)
        with fastloss.use_backend(backend), np.errstate(all="raise"):
            v, g = fastloss.mse_loss_value_and_grad(x, t)
            opt.step([big])
            opt.step([big])
            coef = np.array([1e300])
            fastloss.sgd_epoch(np.array([[1e300], [1.0]]), np.array([1.0, 2.0]), coef, None)
            ce = fastloss.cross_entropy(np.array([[1e308, -1e308]]), np.array([1]))
        results[backend] = [np.asarray(v), g, p, coef, np.asarray(ce)]
    for got, want in zip(results["numpy"], results["c"]):
        np.testing.assert_array_equal(got, want)


# ---- one optimizer, several threads -----------------------------------------------------------

def test_two_threads_stepping_one_optimizer_lose_no_step() -> None:
    p = np.zeros(1000)
    g = np.linspace(-1.0, 1.0, 1000)
    opt = Adam([p], lr=1e-3)
    n_steps = 3000

    def steps() -> None:
        for _ in range(n_steps):
            opt.step([g])

    threads = [threading.Thread(target=steps) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert opt.state[0]["step"] == 2 * n_steps
    serial = np.zeros(1000)
    ref = Adam([serial], lr=1e-3)
    for _ in range(2 * n_steps):
        ref.step([g])
    assert p.tobytes() == serial.tobytes()  # constant gradient: the order does not matter


def test_optimizer_pickles_without_its_lock() -> None:
    import pickle

    p = np.zeros(3)
    opt = Adam([p])
    opt.step([np.ones(3)])
    clone = pickle.loads(pickle.dumps(opt))
    clone.step([np.ones(3)])
    assert clone.state[0]["step"] == 2 and opt.state[0]["step"] == 1


def test_hand_built_epoch_state_is_checked_whole_first() -> None:
    X, y = np.ones((4, 2)), np.ones(4)
    for state, match in [(EpochState("sgd", losses=()), "state.losses"),  # type: ignore[arg-type]
                         (EpochState("sgd", seed=-1), "state.seed"),
                         (EpochState("sgd", seed="x"), "state.seed"),  # type: ignore[arg-type]
                         (EpochState("sgd", t=2**63), "state.t"),
                         (EpochState("sgd", t=2**63 - 3), "int64 update counter"),
                         (EpochState("sgd", epochs=True), "state.epochs")]:  # type: ignore
        coef = np.zeros(2)
        seed_before = state.seed
        with pytest.raises((TypeError, ValueError), match=match):
            fastloss.sgd_epoch(X, y, coef, None, state, shuffle=True, seed=11)
        assert not coef.any() and state.seed == seed_before and state.epochs in (0, True)


# ---- integers that pass the type checks but do not fit the C types ---------------------------

def _oversized_calls() -> List[Any]:
    from fastloss.optim import functional as F
    from fastloss.optim import lr_scheduler, minimize_cg

    x = np.ones(4)

    def tampered_step() -> None:
        p, q = np.zeros(4), np.zeros(4)
        opt = Adam([p, q])
        opt.step([x, x])
        opt.state[1]["step"] = 10**400
        try:
            opt.step([x, x])
        finally:  # nothing changed, the first parameter included
            assert opt.state[0]["step"] == 1 and p.tobytes() == q.tobytes()

    return [
        ("set_num_threads", lambda: fastloss.set_num_threads(2**31), ValueError, "n_threads"),
        ("n_threads", lambda: fastloss.mse_loss(x, x, n_threads=2**31), ValueError, "n_threads"),
        ("n_threads huge", lambda: fastloss.mse_loss(x, x, n_threads=10**400), ValueError,
         "n_threads"),
        ("delta", lambda: fastloss.huber_loss(x, x, delta=10**400), ValueError, "delta"),
        ("lr", lambda: F.sgd_update(np.zeros(4), x, lr=10**400), ValueError, "lr"),
        ("Adam lr", lambda: Adam([np.zeros(4)], lr=10**400), ValueError, "lr"),
        ("step", lambda: F.adam_update(np.zeros(4), x, np.zeros(4), np.zeros(4), 10**400),
         ValueError, "step"),
        ("step 2**63", lambda: F.adagrad_update(np.zeros(4), x, np.zeros(4), 2**63),
         ValueError, "step"),
        ("state step", tampered_step, ValueError, "step"),
        ("gamma", lambda: lr_scheduler.ExponentialLR(SGD([np.zeros(4)], lr=0.1), 10**400),
         ValueError, "gamma"),
        ("gtol", lambda: minimize_cg(lambda v: (float(v @ v), 2 * v), x, gtol=10**400),
         ValueError, "gtol"),
    ]


@pytest.mark.parametrize("label,call,exc,match", _oversized_calls(),
                         ids=[c[0] for c in _oversized_calls()])
def test_oversized_integers_are_rejected_by_name(label: str, call: Callable[[], Any],
                                                 exc: type, match: str) -> None:
    try:
        with pytest.raises(exc, match=match):
            call()
    finally:
        fastloss.set_num_threads(None)


def test_step_lock_serializes_and_refuses_reentry() -> None:
    from fastloss import _optim

    lock = _optim.StepLock()
    with lock:
        with pytest.raises(RuntimeError, match="already being stepped"):
            with lock:
                pass
    order: List[str] = []

    def worker(name: str) -> None:
        for _ in range(200):
            with lock:
                order.append(name + "+")
                order.append(name + "-")

    threads = [threading.Thread(target=worker, args=(str(i),)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # every hold is a "+" immediately followed by its own "-": no two threads inside at once
    assert len(order) == 1600
    assert all(a[:-1] == b[:-1] and a[-1] == "+" and b[-1] == "-"
               for a, b in zip(order[::2], order[1::2]))
