"""A run of ``fastloss bench``: the plan (which case at which size and dtype), the
settings (threads, peers), and the report (the schema of ``bench.json``)."""

from __future__ import annotations

import os
import platform
import time
from typing import Any, Dict, List, Optional, Sequence, TextIO, Tuple

import numpy as np

import fastloss
from fastloss import _config
from fastloss.bench import peers as optional_peers, timing
from fastloss.bench.cases import Case, Impls, impl_order, select
from fastloss.bench.peers import PEERS
from fastloss.bench.report import format_size

DEFAULT_SIZES = (10**3, 10**4, 10**5, 10**6)
QUICK_SIZES = (10**3, 10**5, 10**6)
DEFAULT_BUDGET = 1.0
QUICK_BUDGET = 0.25
SEED = 0


class Progress:
    """A one-line text progress bar on a terminal; one line per step otherwise."""

    def __init__(self, total: int, stream: Optional[TextIO]) -> None:
        self.total, self.stream, self.done = total, stream, 0
        self.tty = bool(stream is not None and stream.isatty())
        self.width = 0

    def step(self, label: str) -> None:
        if self.stream is None:
            return
        self.done += 1
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            line = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} {label}"
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(f"[{self.done}/{self.total}] {label}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def machine_info() -> Dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"platform": platform.platform(), "machine": platform.machine(),
            "python_implementation": platform.python_implementation(), "cpu": cpu,
            "cores": os.cpu_count(), "available_cores": _config._available_cores()}


def plan(only: Optional[Sequence[str]], sizes: Sequence[int], dtypes: Sequence[str]
         ) -> Tuple[List[Tuple[str, Case, int, str]], List[str]]:
    """The (family, case, n, dtype) to run, and the skipped (case, n) as text.

    Raises ValueError for an unknown ``only`` substring, or when nothing is left to run.
    """
    selected = select(only)
    todo = [(family, case, n, dtype) for family, case in selected
            for n in case.sizes_of(sizes) for dtype in dtypes]
    skipped = [f"{family}.{case.name} n={format_size(n)} (needs n >= {case.min_size})"
               for family, case in selected if not case.sizes for n in sizes
               if n < case.min_size]
    if not todo:
        raise ValueError("nothing to run: " + "; ".join(skipped))
    return todo, skipped


def implementations(case: Case, n: int, dtype: str) -> Impls:
    """``case.setup`` on the run's seeded generator, without the peers the run leaves
    out."""
    impls = case.setup(n, np.dtype(dtype), np.random.default_rng(SEED))
    return {k: f for k, f in impls.items() if k not in PEERS or optional_peers.is_allowed(k)}


def run(*, sizes: Sequence[int], dtypes: Sequence[str], threads: int = 1,
        budget: float = DEFAULT_BUDGET, only: Optional[Sequence[str]] = None,
        peers: Optional[Sequence[str]] = None, progress: Optional[TextIO] = None
        ) -> Dict[str, Any]:
    """Run the selected cases; returns the report (the schema of ``bench.json``).

    ``peers``: the peers to compare with when installed (default: all of :data:`PEERS`).

    ``threads`` is set for fastloss (:func:`fastloss.set_num_threads`, which applies from
    ``fastloss.THREADING_THRESHOLD`` elements up), torch, and the BLAS/OpenMP pools NumPy
    uses when threadpoolctl is installed, and restored afterwards.
    """
    todo, skipped = plan(only, sizes, dtypes)
    with optional_peers.allowed(PEERS if peers is None else peers):
        return _run(todo, skipped, sizes=sizes, dtypes=dtypes, threads=threads,
                    budget=budget, only=only, progress=progress)


def _run(todo: List[Tuple[str, Case, int, str]], skipped: List[str], *,
         sizes: Sequence[int], dtypes: Sequence[str], threads: int, budget: float,
         only: Optional[Sequence[str]], progress: Optional[TextIO]) -> Dict[str, Any]:
    saved_threads = _config._num_threads
    build = fastloss.config()
    results: List[Dict[str, Any]] = []
    warnings: List[str] = []
    bar = Progress(len(todo), progress)
    started = time.perf_counter()
    torch: Any = None
    torch_threads = 1
    limiter: Any = None
    try:
        try:
            from threadpoolctl import threadpool_limits

            limiter = threadpool_limits(limits=threads)
        except ImportError:
            pass
        fastloss.set_num_threads(threads)
        torch = optional_peers.torch()
        if torch is not None:
            torch_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
        for family, case, n, dtype in todo:
            label = f"{family}.{case.name} n={format_size(n)} {dtype}"
            bar.step(label)
            impls = implementations(case, n, dtype)
            for problem in timing.check_agreement(impls, np.dtype(dtype)):
                warnings.append(f"{label}: {problem}")
            counts = timing.counts_of(impls)
            work = timing.units_and_calls(impls)
            timings = timing.time_interleaved({k: call for k, (_, call) in work.items()},
                                              budget)
            # per unit of work (per sample for an epoch), so a speedup compares like with like
            numpy_median = timings["numpy"]["median_s"] / work["numpy"][0]
            for impl in sorted(timings, key=impl_order):
                t, per = timings[impl], work[impl][0]
                results.append({
                    "family": family, "kernel": case.name, "n": n, "dtype": dtype,
                    "impl": impl, "unit": f"per {case.unit}", "units_per_call": per,
                    "median_s": t["median_s"] / per, "min_s": t["min_s"] / per,
                    "rounds": t["rounds"], "loops": t["loops"],
                    "speedup_vs_numpy": numpy_median / (t["median_s"] / per),
                    **({"counts": counts[impl]} if impl in counts else {}),
                })
            del impls, work
    finally:
        bar.close()
        versions = {"python": platform.python_version(), "numpy": np.__version__,
                    "fastloss": fastloss.__version__, **optional_peers.peer_versions()}
        fastloss.set_num_threads(saved_threads)
        if torch is not None:
            torch.set_num_threads(torch_threads)
        if limiter is not None:
            limiter.restore_original_limits()

    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                       "MKL_NUM_THREADS") if k in os.environ}
    return {
        "schema": 1,
        "machine": machine_info(),
        "versions": versions,
        "build": build,
        "settings": {
            "sizes": list(sizes), "dtypes": list(dtypes), "threads": threads,
            "budget_s": budget, "only": list(only) if only else None,
            "peers": sorted({r["impl"] for r in results} & set(PEERS)), "seed": SEED,
            "min_rounds": timing.MIN_ROUNDS, "timing": "interleaved rounds, rotating order; "
            "median and min seconds per call",
            "blas_threads_limited": limiter is not None, "thread_env": env,
            "skipped": skipped, "wall_s": round(time.perf_counter() - started, 3),
        },
        "warnings": warnings,
        "results": results,
    }
