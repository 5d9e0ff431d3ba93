"""The reports of a run (the ``bench.json`` dict): the text table ``fastloss bench``
prints, the Markdown table of ``bench.md`` (and of docs/benchmarks.md), and the warnings."""

from __future__ import annotations

import math
import os
import sys
from typing import Any, Dict, Iterable, List, Tuple

from fastloss.bench.cases import FAMILY_NOTES, impl_order
from fastloss.bench.peers import PEERS


def format_seconds(s: float) -> str:
    if s < 1e-6:
        return f"{s * 1e9:.0f} ns"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def format_size(n: int) -> str:
    """1000 -> '1e3', 2500 -> '2500'."""
    exponent = int(math.log10(n)) if n > 0 else 0
    mantissa, rest = divmod(n, 10**exponent)
    return f"{mantissa}e{exponent}" if rest == 0 and exponent >= 3 else str(n)

def _per_column(report: Dict[str, Any]) -> bool:
    """Whether the tables need a "per" column: some times are not per call."""
    return any(r.get("unit", "per call") != "per call" for r in report["results"])


def _rows(report: Dict[str, Any]) -> Tuple[List[str], List[str], List[List[str]]]:
    """(implementations present, peers compared, one row of cells per case)."""
    cases: Dict[Tuple[str, str, int, str], Dict[str, float]] = {}
    unit: Dict[Tuple[str, str, int, str], str] = {}
    for r in report["results"]:
        key = (r["family"], r["kernel"], r["n"], r["dtype"])
        cases.setdefault(key, {})[r["impl"]] = r["median_s"]
        unit[key] = r.get("unit", "per call").replace("per ", "")
    present = sorted({r["impl"] for r in report["results"]}, key=impl_order)
    others = [i for i in present if i != "fastloss"]
    per = _per_column(report)
    rows = []
    for key, times in cases.items():
        family, kernel, n, dtype = key
        cells = [kernel, format_size(n), dtype] + ([unit[key]] if per else [])
        cells += [format_seconds(times[i]) if i in times else "-" for i in present]
        cells += [f"{times[i] / times['fastloss']:.2f}x" if i in times and "fastloss" in times
                  else "-" for i in others]
        rows.append(cells)
    return present, others, rows


def _table(report: Dict[str, Any]) -> Tuple[List[str], List[List[str]]]:
    """(header, rows) of the speedup table."""
    present, others, rows = _rows(report)
    per = ["per"] if _per_column(report) else []
    return ["kernel", "n", "dtype", *per, *present, *(f"vs {i}" for i in others)], rows


def _footnote(report: Dict[str, Any]) -> str:
    s, m, v = report["settings"], report["machine"], report["versions"]
    threads = "one thread" if s["threads"] == 1 else f"{s['threads']} threads"
    peers = ", ".join(f"{k} {v[k]}" for k in PEERS if k in v)
    families = list(dict.fromkeys(r["family"] for r in report["results"]))
    notes = "; ".join(FAMILY_NOTES.get(f, f) for f in families)
    return (f"Median seconds per unit ({notes}), {threads}, {m['cpu']}; "
            f"Python {v['python']}, NumPy {v['numpy']}, fastloss {v['fastloss']}"
            f"{', ' + peers if peers else ''}. `vs X` = X's median / fastloss's median, "
            f"measured in interleaved rounds in one run (`fastloss bench`).")


def counts_lines(report: Dict[str, Any]) -> List[str]:
    """One line per case whose implementations counted their work (a solver's iterations
    and evaluations): ``solvers.rosenbrock_100 n=100 float64: fastloss nit=517 nfev=602;
    scipy nit=520 nfev=625``."""
    cases: Dict[Tuple[str, str, int, str], List[str]] = {}
    for r in sorted(report["results"], key=lambda r: impl_order(r["impl"])):
        if r.get("counts"):
            key = (r["family"], r["kernel"], r["n"], r["dtype"])
            counted = " ".join(f"{k}={v}" for k, v in r["counts"].items())
            cases.setdefault(key, []).append(f"{r['impl']} {counted}")
    return [f"{family}.{kernel} n={format_size(n)} {dtype}: {'; '.join(parts)}"
            for (family, kernel, n, dtype), parts in cases.items()]


def text_table(report: Dict[str, Any]) -> str:
    header, rows = _table(report)
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    # kernel, n, dtype (and per) left-aligned; times and ratios right-aligned
    left = 4 if _per_column(report) else 3

    def fmt(cells: List[str]) -> str:
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))

    lines = [fmt(header), "  ".join("-" * w for w in widths), *map(fmt, rows)]
    counted = counts_lines(report)
    if counted:
        lines += ["", "counts per call:", *counted]
    return "\n".join(lines)


def markdown_table(report: Dict[str, Any]) -> str:
    header, rows = _table(report)
    left = 4 if _per_column(report) else 3
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * left + ["---:"] * (len(header) - left)) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    counted = "".join(f"- {line}\n" for line in counts_lines(report))
    return ("\n".join(lines) + "\n\n" + (f"Counts per call:\n\n{counted}\n" if counted else "")
            + _footnote(report) + "\n")


def iter_warnings(report: Dict[str, Any]) -> Iterable[str]:
    yield from report.get("warnings", [])
    if sys.platform != "win32" and "OPENBLAS_NUM_THREADS" not in os.environ and not report[
            "settings"]["blas_threads_limited"]:
        yield ("OPENBLAS_NUM_THREADS is not set and threadpoolctl is not installed: NumPy's "
               "BLAS may use several threads (set OPENBLAS_NUM_THREADS=1 before running)")
