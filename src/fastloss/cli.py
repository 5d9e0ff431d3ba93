"""The ``fastloss`` command (also ``python -m fastloss``).

    fastloss bench [--quick] [--sizes 1e3,1e5] [--dtype float32|float64|both] [--threads N]
                   [--only SUBSTR[,SUBSTR]] [--budget SECONDS] [--peers torch,sklearn|none]
                   [--out DIR] [--no-plot] [--quiet] [--list]
    fastloss demo housing|iris [--data CSV] [--optimizers NAME[,NAME]] [--repeats N]
                               [--plot FILE] [--quiet]
    fastloss info

``bench`` times fastloss against its NumPy reference (and torch / scikit-learn when
installed) -- the losses, one optimizer step, one per-sample SGD epoch (timed per sample) --
prints a speedup table and writes ``bench.json``, ``bench.md`` and ``bench.png`` (see
:mod:`fastloss.bench`). ``demo`` trains the tutorial's two models with every optimizer on
both backends (see :mod:`fastloss._demo`). ``info`` prints :func:`fastloss.show_config`.

Results go to stdout; progress, warnings and notes to stderr. Every failure is one line on
stderr and a non-zero exit status (2 for usage errors), never a traceback; set
``FASTLOSS_DEBUG=1`` to get the traceback of an unexpected error.

Adding a command: write ``_add_NAME(subparsers)`` that registers its arguments and sets
``func``, a ``_NAME_command(args) -> int``, and add ``_add_NAME`` to :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, List, NoReturn, Optional, Sequence

PROG = "fastloss"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (exit status 2), not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class CommandError(Exception):
    """A failure the user can fix; reported as one line on stderr, exit status 1."""


# ---- argument types ------------------------------------------------------------------

def _sizes(text: str) -> List[int]:
    sizes: List[int] = []
    for item in text.split(","):
        item = item.strip()
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"bad size {item!r} in {text!r}: expected numbers like 1e3,1e5 or 1000")
        # 1e8 float64 elements are 800 MB per array, and a case holds several
        if not (1 <= value <= 1e8) or value != int(value):
            raise argparse.ArgumentTypeError(
                f"bad size {item!r}: expected a whole number of elements from 1 to 1e8")
        if int(value) not in sizes:
            sizes.append(int(value))
    return sizes


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _substrings(text: str) -> List[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected kernel or family names, got {text!r}")
    return parts


def _peers(text: str) -> List[str]:
    from fastloss.bench import PEERS

    if text.strip() == "none":
        return []
    parts = _substrings(text)
    unknown = [p for p in parts if p not in PEERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown peer {unknown[0]!r}: expected a comma list of {', '.join(PEERS)}, "
            "or none")
    return parts


# ---- bench ---------------------------------------------------------------------------

def _add_bench(subparsers: Any) -> None:
    from fastloss import bench

    p = subparsers.add_parser(
        "bench", help="time fastloss against NumPy (and torch / scikit-learn if installed)",
        description="Time fastloss's kernels against their NumPy reference and the "
        "installed peers, in interleaved rounds, one thread by default; print a speedup "
        "table and write bench.json, bench.md and bench.png. For steady figures run on an "
        "idle machine with OPENBLAS_NUM_THREADS=1.",
        epilog="families (--only FAMILY; --list shows the kernels): "
        + "; ".join(bench.FAMILY_NOTES[f] for f in bench.FAMILIES)
        + ". --sizes counts elements in every family (samples x features for linear).")
    p.add_argument("--quick", action="store_true",
                   help="sizes %s and a %.2g s budget per case (all families in under a "
                   "minute)"
                   % (",".join(map(bench.format_size, bench.QUICK_SIZES)),
                      bench.QUICK_BUDGET))
    p.add_argument("--sizes", type=_sizes, metavar="N[,N...]",
                   help="element counts, e.g. 1e3,1e5 (default %s)"
                   % ",".join(map(bench.format_size, bench.DEFAULT_SIZES)))
    p.add_argument("--dtype", choices=("float32", "float64", "both"), default="both",
                   help="dtype(s) to time (default both)")
    p.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                   help="threads for torch, BLAS, and fastloss calls on at least "
                   "fastloss.THREADING_THRESHOLD elements (default 1)")
    p.add_argument("--only", type=_substrings, metavar="SUBSTR[,SUBSTR]",
                   help="run only the kernels named (a kernel's exact name picks it alone) "
                   "or whose 'family.kernel' contains one of these (e.g. mse, cross_entropy, "
                   "losses, optim, adam, linear)")
    p.add_argument("--budget", type=_positive_float, metavar="SECONDS",
                   help="timing budget per case (kernel, size, dtype); default %g, %g with "
                   "--quick" % (bench.DEFAULT_BUDGET, bench.QUICK_BUDGET))
    p.add_argument("--peers", type=_peers, metavar="LIST",
                   help="peers to compare with: a comma list of %s, or 'none'; naming one "
                   "that is not installed is an error (default: all installed)"
                   % ", ".join(bench.PEERS))
    p.add_argument("--out", default=".", metavar="DIR",
                   help="directory for bench.json, bench.md, bench.png (default .)")
    p.add_argument("--no-plot", action="store_true", help="do not write bench.png")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--list", action="store_true", help="list the kernels and exit")
    p.set_defaults(func=_bench_command)


def _writable_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except FileExistsError:
        raise CommandError(f"--out {path}: exists and is not a directory") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CommandError(f"--out {path}: cannot write there ({reason})") from None
    return out


def _bench_command(args: argparse.Namespace) -> int:
    from fastloss import bench

    if args.list:
        names = bench.all_case_names()
        width = max(map(len, names)) + 1
        whats = [case.what for cases in bench.FAMILIES.values() for case in cases]
        for name, what in zip(names, whats):
            print(f"{name:<{width}}{what}")
        return 0
    sizes = args.sizes or list(bench.QUICK_SIZES if args.quick else bench.DEFAULT_SIZES)
    budget = args.budget or (bench.QUICK_BUDGET if args.quick else bench.DEFAULT_BUDGET)
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    try:
        bench.plan(args.only, sizes, dtypes)  # fail before any work or any file
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if args.peers:
        missing = bench.missing_peers(args.peers)
        if missing:
            raise CommandError(
                f"--peers {missing[0]}: {missing[0]} is not installed "
                f"(pip install {bench.PEER_PACKAGES[missing[0]]})")
    out = _writable_dir(args.out)

    try:
        report = bench.run(sizes=sizes, dtypes=dtypes, threads=args.threads, budget=budget,
                            only=args.only, peers=args.peers,
                            progress=None if args.quiet else sys.stderr)
    except ValueError as exc:
        raise CommandError(str(exc)) from None

    # the files before any output: `fastloss bench | head` ends in a BrokenPipeError
    written = [out / "bench.json", out / "bench.md"]
    written[0].write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    written[1].write_text(bench.markdown_table(report), encoding="utf-8")
    note = "bench.png not written (--no-plot)" if args.no_plot else None
    if note is None:
        # an optional dependency: bench.json and bench.md are the results, the plot a view
        problem = _matplotlib_problem()
        if problem is None:
            bench.plot(report, str(out / "bench.png"))
            written.append(out / "bench.png")
        else:
            note = f"bench.png skipped: it needs {problem}"
    print(bench.text_table(report))
    print()
    print("wrote " + ", ".join(map(str, written)))
    # warnings and notes on stderr: stdout is the table, for `> bench.txt` or a pipe
    for warning in bench.iter_warnings(report):
        print(f"warning: {warning}", file=sys.stderr)
    if note is not None:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _matplotlib_problem() -> Optional[str]:
    """None when matplotlib imports, else what is missing and how to install it."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError as exc:
        if (exc.name or "").split(".")[0] == "matplotlib":
            return "matplotlib, which is not installed (pip install matplotlib)"
        return f"matplotlib, which does not import: {exc} (pip install matplotlib)"
    return None


# ---- info ----------------------------------------------------------------------------

def _add_info(subparsers: Any) -> None:
    p = subparsers.add_parser("info", help="print the version, build and threading setup",
                              description="Print what fastloss.show_config() prints.")
    p.set_defaults(func=_info_command)


def _info_command(args: argparse.Namespace) -> int:
    import fastloss

    fastloss.show_config()
    return 0


# ---- demo ----------------------------------------------------------------------------

def _add_demo(subparsers: Any) -> None:
    from fastloss import _demo
    from fastloss.models import OPTIMIZERS

    p = subparsers.add_parser(
        "demo", help="train the tutorial's models (housing regression, iris softmax) with "
        "every optimizer",
        description="Train LinearRegression on California housing (squared loss) or "
        "SoftmaxRegression on iris (cross-entropy) with each optimizer, on the compiled "
        "kernels and on the NumPy reference backend, and print the final loss, the test "
        "R^2 / accuracy, the epochs and both wall times (the median of --repeats fits on "
        "each backend, interleaved, after a warm-up fit).")
    p.add_argument("name", choices=_demo.DEMOS, help="which application")
    p.add_argument("--data", metavar="CSV", default=None,
                   help="housing: path of california_housing.csv (default: "
                   "$FASTLOSS_HOUSING_CSV, else scikit-learn's downloader)")
    p.add_argument("--optimizers", type=_substrings, default=None,
                   metavar="NAME[,NAME]", help=f"subset of {','.join(OPTIMIZERS)}")
    p.add_argument("--repeats", type=_positive_int, default=_demo.DEFAULT_REPEATS,
                   metavar="N", help="timed fits per backend and optimizer; the table shows "
                   "their median (default %(default)s)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the loss curves to FILE (needs matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_demo_command)


def _demo_command(args: argparse.Namespace) -> int:
    from fastloss import _demo
    from fastloss.models import OPTIMIZERS

    optimizers = tuple(args.optimizers or OPTIMIZERS)
    unknown = [o for o in optimizers if o not in OPTIMIZERS]
    if unknown:
        raise CommandError(f"--optimizers {unknown[0]}: unknown optimizer "
                           f"(choose from {','.join(OPTIMIZERS)})")
    if args.data is not None and args.name != "housing":
        raise CommandError("--data is only used by 'fastloss demo housing'")
    if args.plot is not None:
        problem = _matplotlib_problem()  # before training
        if problem is not None:
            raise CommandError(f"--plot {args.plot}: needs {problem}")
        plot_dir = Path(args.plot).resolve().parent
        if not plot_dir.is_dir():
            raise CommandError(f"--plot {args.plot}: directory {plot_dir} does not exist")

    def progress(optimizer: str) -> None:
        if not args.quiet:
            print(f"demo {args.name}: training with {optimizer} ...", file=sys.stderr)

    try:
        result = _demo.run(args.name, data_path=args.data, optimizers=optimizers,
                           repeats=args.repeats, progress=progress)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    print(_demo.format_table(result))
    if args.plot is not None:
        _demo.plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


#: subcommand registrars, in help order
COMMANDS: List[Callable[[Any], None]] = [_add_bench, _add_demo, _add_info]


def build_parser() -> argparse.ArgumentParser:
    from fastloss import __version__

    parser = _Parser(prog=PROG, description="fastloss: fast loss functions and gradients "
                     "for NumPy arrays. Run '%(prog)s COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in COMMANDS:
        add(subparsers)
    parser.set_defaults(commands=list(subparsers.choices))
    return parser


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error(f"a command is required: {', '.join(args.commands)}")
    where = f"{PROG} {args.command}"
    try:
        return int(args.func(args))
    except (CommandError, ImportError) as exc:  # ImportError: an optional dependency
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{where}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `fastloss info | head -1`
        return 0
    except Exception as exc:
        if os.environ.get("FASTLOSS_DEBUG"):
            raise
        print(f"{where}: error: {type(exc).__name__}: {_one_line(exc)} "
              "(set FASTLOSS_DEBUG=1 for the traceback)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
