"""Threading defaults and the build report (``show_config``)."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Optional, TextIO

from fastloss import _build_info, _losses
from fastloss._validation import check_int

# Below this many elements a call runs on one thread: splitting costs more than it saves,
# and two threads collapse when the other core is busy.
THREADING_THRESHOLD = 1 << 19

#: the kernels take the thread count as a C int
MAX_THREADS = 2**31 - 1

_num_threads: Optional[int] = None

# libgomp's worker threads do not survive fork(): a child that enters a parallel region
# waits for them forever. So a child forked from a process that had handed a kernel more
# than one thread runs single-threaded, as other OpenMP-based libraries do.
_threads_started = False
_forked_after_threads = False


def _after_fork_in_child() -> None:
    global _forked_after_threads
    _forked_after_threads = _forked_after_threads or _threads_started


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Threads a large call uses by default.

    1 when fastloss was built without OpenMP, and in a process forked (``os.fork``,
    ``multiprocessing``'s "fork" start method) from one whose kernels had run on several
    threads: OpenMP's threads do not survive fork, so such a child runs single-threaded
    (per-call ``n_threads`` included). Use the "spawn" or "forkserver" start method for
    children that should use threads.
    """
    if not _build_info.openmp or _forked_after_threads:
        return 1
    if _num_threads is not None:
        return _num_threads
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and 0 < int(env) <= MAX_THREADS:
        return int(env)
    return _available_cores()


def set_num_threads(n: Optional[int]) -> None:
    """Set the default thread count for calls on at least ``THREADING_THRESHOLD`` elements.

    ``None`` restores the default (``OMP_NUM_THREADS``, else the available cores). A call's
    own ``n_threads=`` argument wins, except in a process forked from one that ran threaded
    calls, where every call runs on one thread (see :func:`get_num_threads`).
    """
    global _num_threads
    if n is not None:
        n = _check_threads(n)
    _num_threads = n


def _check_threads(n: Any) -> int:
    return check_int(n, "n_threads", 1, MAX_THREADS)


def _for_kernel(n: int) -> int:
    """``n`` threads handed to a kernel (1 in a forked child, see get_num_threads)."""
    global _threads_started
    if n > 1:
        if _forked_after_threads:
            return 1
        _threads_started = True
    return n


def large_call_threads() -> int:
    """The thread count for a call on at least THREADING_THRESHOLD elements."""
    return _for_kernel(get_num_threads())


def resolve_threads(n_threads: Optional[int], work: int) -> int:
    """The thread count for one call on ``work`` elements."""
    if n_threads is None:
        return 1 if work < THREADING_THRESHOLD else large_call_threads()
    return _for_kernel(_check_threads(n_threads))


def config() -> Dict[str, Any]:
    """The build and runtime configuration as a dict (what ``show_config`` prints)."""
    import numpy as np

    from fastloss import __version__

    facts = _losses.build_facts()
    return {
        "fastloss": __version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "system": _build_info.system,
        "compiler": _build_info.compiler,
        "build_type": _build_info.build_type,
        "c_flags": _build_info.c_flags,
        "openmp": _build_info.openmp,
        "simd_paths": facts["simd_paths"],
        "active_isa": facts["active_isa"],
        "default_threads": get_num_threads(),
        "threading_threshold": THREADING_THRESHOLD,
    }


def show_config(file: Optional[TextIO] = None) -> None:
    """Print the version, compiler, build flags, OpenMP, SIMD paths and thread defaults."""
    out = sys.stdout if file is None else file
    cfg = config()
    width = max(map(len, cfg))
    for key, value in cfg.items():
        print(f"{key:<{width}} : {value}", file=out)
