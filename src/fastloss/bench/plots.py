"""``bench.png``: fastloss's speedup over NumPy and over each peer, against size (needs
matplotlib, imported only when a figure is drawn)."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence, Tuple

from fastloss.bench.cases import impl_order
from fastloss.bench.peers import PEERS

#: how the plot names each implementation fastloss is compared with
PLOT_NAMES = {"numpy": "NumPy", "torch": "torch", "sklearn": "scikit-learn", "scipy": "SciPy"}
#: 11 markers against the 10 colours of "tab10": coprime, so kernel i's pair (colour i % 10,
#: marker i % 11) repeats only from the 111th kernel, and neighbours differ in both
PLOT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h", "*")
PLOT_COLOURS = 10
#: one line style per family, to group the kernels at a glance
PLOT_LINESTYLES = ("-", "--", ":", "-.")


def plot_styles(labels: Sequence[str]) -> Dict[str, Tuple[int, str]]:
    """``{"family.kernel": (colour index into tab10, marker)}``, no pair repeated."""
    return {label: (i % PLOT_COLOURS, PLOT_MARKERS[i % len(PLOT_MARKERS)])
            for i, label in enumerate(labels)}


def plot_series(report: Dict[str, Any]
                ) -> Dict[str, Dict[str, Dict[str, List[Tuple[int, float]]]]]:
    """What ``plot`` draws: ``{other: {dtype: {"family.kernel": [(n, ratio), ...]}}}``.

    ``ratio`` is the other implementation's median over fastloss's (the tables' ``vs X``),
    for NumPy and for each peer measured in the same run, where both were timed.
    """
    medians: Dict[Tuple[str, str, int], Dict[str, float]] = {}
    for r in report["results"]:
        key = (f"{r['family']}.{r['kernel']}", r["dtype"], r["n"])
        medians.setdefault(key, {})[r["impl"]] = r["median_s"]
    others = sorted({r["impl"] for r in report["results"]} - {"fastloss"}, key=impl_order)
    series: Dict[str, Dict[str, Dict[str, List[Tuple[int, float]]]]] = {o: {} for o in others}
    for (label, dtype, n), times in medians.items():
        for other in others:
            if other in times and "fastloss" in times:
                series[other].setdefault(dtype, {}).setdefault(label, []).append(
                    (n, times[other] / times["fastloss"]))
    for per_dtype in series.values():
        for lines in per_dtype.values():
            for points in lines.values():
                points.sort()
    return series


def plot(report: Dict[str, Any], path: str) -> None:
    """Save :func:`figure` to ``path`` (a PNG for ``bench.png``). Raises ImportError without
    matplotlib."""
    figure(report).savefig(path, dpi=110, bbox_inches="tight")  # tight: no label cut off


def figure(report: Dict[str, Any]) -> Any:
    """A matplotlib Figure of fastloss's speedup over NumPy and over each peer measured in
    the same run, against size: one row of panels per implementation compared, one column
    per dtype, one line per kernel (the same colour, marker and label in every panel).

    Raises ImportError without matplotlib.
    """
    import matplotlib
    import matplotlib.ticker
    # a Figure without pyplot: no backend switch or open figure left in the caller's process
    from matplotlib.figure import Figure

    series = plot_series(report)
    labels = list(dict.fromkeys(f"{r['family']}.{r['kernel']}" for r in report["results"]
                                if r["impl"] == "fastloss"))
    styles = plot_styles(labels)
    families = list(dict.fromkeys(label.split(".")[0] for label in labels))
    tab10 = matplotlib.colormaps["tab10"]  # not the rcParams cycle: a user style may repeat
    palette = [tab10(i) for i in range(PLOT_COLOURS)]
    dtypes = [d for d in report["settings"]["dtypes"]
              if any(d in per_dtype for per_dtype in series.values())]
    others = [o for o in series if series[o]]
    legend_columns = 2 * len(dtypes)  # two labels fit beside each other under a panel
    legend_rows = math.ceil(len(labels) / legend_columns)
    legend_in = 0.19 * legend_rows + 0.2  # inches: the legend below the panels
    height = 3.2 * len(others) + 0.9 + legend_in
    fig = Figure(figsize=(6 * len(dtypes), height))
    axes = fig.subplots(len(others), len(dtypes), squeeze=False, sharex=True, sharey="row")
    handles: Dict[str, Any] = {}
    for row, other in enumerate(others):
        for col, dtype in enumerate(dtypes):
            ax = axes[row][col]
            lines = series[other].get(dtype, {})
            for label in labels:
                if label not in lines:
                    continue
                colour, marker = styles[label]
                linestyle = PLOT_LINESTYLES[families.index(label.split(".")[0])
                                            % len(PLOT_LINESTYLES)]
                points = lines[label]
                (handles[label],) = ax.plot(
                    [p[0] for p in points], [p[1] for p in points], marker=marker,
                    markersize=6, linestyle=linestyle, color=palette[colour], label=label)
            if not lines:
                ax.text(0.5, 0.5, f"no {PLOT_NAMES.get(other, other)} counterpart",
                        transform=ax.transAxes, ha="center", va="center", color="grey")
            ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.grid(True, which="both", alpha=0.3)
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
            ax.yaxis.set_minor_locator(matplotlib.ticker.LogLocator(subs=(2.0, 5.0)))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%gx"))
            if row == 0:
                ax.set_title(dtype)
            if row == len(others) - 1:
                ax.set_xlabel("elements (n)")
            if col == 0:
                name = PLOT_NAMES.get(other, other)
                ax.set_ylabel(f"speedup over {name}\n({name} median / fastloss median)")
    ordered = [label for label in labels if label in handles]
    fig.legend([handles[label] for label in ordered], ordered, loc="lower center",
               ncol=legend_columns, fontsize="small", frameon=False)
    threads = report["settings"]["threads"]
    versions = report.get("versions", {})
    peers = ", ".join(f"{PLOT_NAMES[o]} {versions[o]}" if o in versions else PLOT_NAMES[o]
                      for o in others if o in PEERS)
    per_sample = any(r.get("unit") == "per sample" for r in report["results"])
    fig.suptitle(f"fastloss {versions.get('fastloss', '')} vs the NumPy reference"
                 f"{' and ' + peers if peers else ''}: one run, {threads} "
                 f"thread{'s' * (threads > 1)}"
                 + ("\ntimes per call (linear: per sample)" if per_sample else ""))
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    return fig
