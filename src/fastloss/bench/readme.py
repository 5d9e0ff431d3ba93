"""The speed tables of README.md and docs/benchmarks.md, written from ``bench.json`` files.

::

    python -m fastloss.bench.readme RUN.json [LATER.json ...] [--readme README.md]
                                    [--docs docs/benchmarks.md] [--check]

rewrites what stands between ``<!-- bench:digest -->`` and ``<!-- /bench -->`` in the README
(:func:`digest_table`) and between ``<!-- bench:full -->`` and ``<!-- /bench -->`` in
docs/benchmarks.md (:func:`full_table`, the ``bench.md`` of ``RUN.json``). ``RUN.json`` is
one complete run; each ``LATER.json`` (e.g. ``fastloss bench --sizes 1e6 --only
cross_entropy``, after a kernel changed) replaces the digest's rows of the cases it timed,
which the digest marks ``*``; the full table stays one run. ``--check`` writes nothing and
exits 1 when a file is not what the JSON files give. The prose around the markers is
written by hand.

The committed tables come from ``docs/bench/*.json`` (see docs/benchmarks.md);
``tests/test_bench_readme.py`` checks that this module reproduces them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

from fastloss.bench import models, solvers
from fastloss.bench.cases import FAMILIES
from fastloss.bench.peers import PEERS
from fastloss.bench.report import format_seconds, format_size, markdown_table

#: the sizes the README's digest shows, per family (the full table has every size); a family
#: of problems with sizes of their own gives each kernel's
DIGEST_SIZES: Dict[str, Union[Tuple[int, ...], Dict[str, Tuple[int, ...]]]] = {
    "losses": (10**6,), "optim": (10**3, 10**6), "linear": (10**6,),
    "models": models.digest_sizes(models.MODEL_ROWS),
    "solvers": {"rosenbrock_100": (solvers.ROSENBROCK_DIMENSION,), "logistic_d20": (10**5,)},
}
DTYPE_NAMES = {"float64": "f64", "float32": "f32"}
END = "<!-- /bench -->"
#: the keys :func:`load` needs, in the report and in each result
REPORT_KEYS = ("machine", "versions", "settings", "results")
RESULT_KEYS = ("family", "kernel", "n", "dtype", "impl", "median_s")

Key = Tuple[str, str, int, str]


def load(path: str) -> Dict[str, Any]:
    """The report in ``path`` (a ``bench.json``). Raises ValueError naming the file when it
    is not JSON or lacks a key the tables need."""
    try:
        report = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable bench.json ({exc})") from None
    missing = [k for k in REPORT_KEYS if not isinstance(report, dict) or k not in report]
    if not missing:
        missing = sorted({k for r in report["results"] for k in RESULT_KEYS if k not in r})
    if missing:
        raise ValueError(f"{path}: not a bench.json: no {', '.join(map(repr, missing))}")
    return dict(report)


def _power_of_ten(n: int) -> str:
    text = format_size(n)
    return text.replace("1e", "10^") if text.startswith("1e") else text


def _labels() -> Dict[Tuple[str, str], Tuple[str, str]]:
    """``{(family, kernel): (README label, unit)}`` of today's cases."""
    return {(family, case.name): (case.label, case.unit)
            for family, cases in FAMILIES.items() for case in cases}


def _medians(reports: Sequence[Dict[str, Any]]) -> Tuple[Dict[Key, Dict[str, float]], Set[Key]]:
    """The median of each implementation by (family, kernel, n, dtype): a later report's
    replace an earlier one's for the keys it timed; and the keys a later report gave."""
    medians: Dict[Key, Dict[str, float]] = {}
    later: Set[Key] = set()
    for index, report in enumerate(reports):
        timed: Dict[Key, Dict[str, float]] = {}
        for r in report["results"]:
            timed.setdefault((r["family"], r["kernel"], r["n"], r["dtype"]), {})[r["impl"]] = \
                float(r["median_s"])
        medians.update(timed)
        if index:
            later |= set(timed)
    return medians, later


def digest_table(reports: Sequence[Dict[str, Any]]) -> str:
    """The README's table: one row per case at each of its family's :data:`DIGEST_SIZES`,
    fastloss's median and its speedup over NumPy and over each peer (their median /
    fastloss's), one group of columns per dtype of the first report."""
    medians, later = _medians(reports)
    dtypes = [d for d in reports[0]["settings"]["dtypes"] if d in DTYPE_NAMES]
    labels = _labels()
    header = ["kernel (n)"]
    for dtype in dtypes:
        header += [f"fastloss {DTYPE_NAMES[dtype]}", "vs numpy", "vs peers"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for family, sizes in DIGEST_SIZES.items():
        kernels = list(dict.fromkeys(k for f, k, _, _ in medians if f == family))
        # by size, then case; a family of problems of their own size: by case
        rows = ([(n, k) for k in kernels for n in sizes.get(k, ())] if isinstance(sizes, dict)
                else [(n, k) for n in sizes for k in kernels])
        for n, kernel in rows:
            if not any((family, kernel, n, d) in medians for d in dtypes):
                continue
            label, unit = labels.get((family, kernel), (kernel, "call"))
            size = _power_of_ten(n) if unit == "call" else \
                f"n = {_power_of_ten(n)}, per {unit}"
            star = " *" if any((family, kernel, n, d) in later for d in dtypes) else ""
            cells = [f"{label} ({size}){star}"]
            for dtype in dtypes:
                cells += _digest_cells(medians.get((family, kernel, n, dtype), {}))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _digest_cells(times: Dict[str, float]) -> List[str]:
    if "fastloss" not in times:
        return ["-", "-", "-"]
    fast = times["fastloss"]
    numpy = f"{times['numpy'] / fast:.1f}x" if "numpy" in times else "-"
    peers = ", ".join(f"{p} {times[p] / fast:.1f}x" for p in PEERS if p in times)
    return [format_seconds(fast), numpy, peers or "-"]


def full_table(report: Dict[str, Any]) -> str:
    """docs/benchmarks.md's table: the ``bench.md`` of one run."""
    return markdown_table(report)


def rewrite(text: str, name: str, table: str) -> str:
    """``text`` with what stands between ``<!-- bench:NAME -->`` and the next
    ``<!-- /bench -->`` replaced by ``table``. Raises ValueError when the markers are
    missing."""
    start = f"<!-- bench:{name} -->"
    begin = text.find(start)
    end = text.find(END, begin + len(start)) if begin >= 0 else -1
    if end < 0:
        raise ValueError(f"no {start} ... {END} section")
    return text[:begin + len(start)] + "\n" + table + text[end:]


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastloss.bench.readme",
        description="Rewrite the speed tables of the README (<!-- bench:digest -->) and of "
        "docs/benchmarks.md (<!-- bench:full -->) from bench.json files.")
    parser.add_argument("run", metavar="RUN.json", help="a complete run (the full table)")
    parser.add_argument("later", metavar="LATER.json", nargs="*",
                        help="later runs whose cases replace RUN's in the digest (marked *)")
    parser.add_argument("--readme", default="README.md", metavar="FILE")
    parser.add_argument("--docs", default="docs/benchmarks.md", metavar="FILE")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a file differs from what it would be")
    args = parser.parse_args(argv)
    try:
        reports = [load(p) for p in [args.run, *args.later]]
        targets = {args.readme: ("digest", digest_table(reports)),
                   args.docs: ("full", full_table(reports[0]))}
        stale = []
        for path, (name, table) in targets.items():
            text = Path(path).read_text(encoding="utf-8")
            try:
                new = rewrite(text, name, table)
            except ValueError as exc:
                raise ValueError(f"{path}: {exc}") from None
            if new != text:
                stale.append(path)
                if not args.check:
                    Path(path).write_text(new, encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    for path in stale:
        print(f"{path}: {'differs from the JSON files' if args.check else 'rewritten'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
