"""Threading defaults and the build report (``show_config``)."""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, Optional, TextIO

from fastloss import _build_info, _losses

# Below this many elements a call runs on one thread: splitting costs more than it saves,
# and two threads collapse when the other core is busy.
THREADING_THRESHOLD = 1 << 19

_num_threads: Optional[int] = None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """Threads a large call uses by default (1 when fastloss was built without OpenMP)."""
    if not _build_info.openmp:
        return 1
    if _num_threads is not None:
        return _num_threads
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return _available_cores()


def set_num_threads(n: Optional[int]) -> None:
    """Set the default thread count for calls on at least ``THREADING_THRESHOLD`` elements.

    ``None`` restores the default (``OMP_NUM_THREADS``, else the available cores). A call's
    own ``n_threads=`` argument always wins.
    """
    global _num_threads
    if n is not None:
        n = _check_threads(n)
    _num_threads = n


def _check_threads(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int,)) and not hasattr(n, "__index__"):
        raise TypeError(f"n_threads must be a positive int or None, got {n!r}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n_threads must be >= 1, got {n}")
    return n


def resolve_threads(n_threads: Optional[int], work: int) -> int:
    """The thread count for one call on ``work`` elements."""
    if n_threads is None:
        return 1 if work < THREADING_THRESHOLD else get_num_threads()
    return _check_threads(n_threads)


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
