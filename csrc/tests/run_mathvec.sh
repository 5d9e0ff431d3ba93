#!/bin/sh
# Accuracy, vectorization and speed checks for csrc/mathvec.h (see README.md).
#   sh run_mathvec.sh [--quick]     --quick: 1/16 of the sweeps, every 61st float
# Builds into a temporary directory; exits non-zero if any check fails.
set -u
cd "$(dirname "$0")"
QUICK=${1:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
FLAGS="-O3 -std=gnu11 -fno-math-errno -fno-trapping-math -fopenmp-simd -I.."
fail=0

echo "## accuracy (test_mathvec.c), one build per x86-64 level"
for arch in x86-64 x86-64-v3 x86-64-v4; do
    gcc $FLAGS -Wall -Wextra -march=$arch test_mathvec.c -o "$OUT/test_$arch" -lm || exit 1
    "$OUT/test_$arch" $QUICK > "$OUT/acc_$arch.txt"
    rc=$?
    cat "$OUT/acc_$arch.txt"
    [ $rc -eq 0 ] || fail=1
done
# v3 and v4 both use FMA: their outputs must be bit-identical.
awk '/hash/ {print $1, $NF == "ok" ? $(NF-1) : $NF}' "$OUT/acc_x86-64-v3.txt" > "$OUT/h3"
awk '/hash/ {print $1, $NF == "ok" ? $(NF-1) : $NF}' "$OUT/acc_x86-64-v4.txt" > "$OUT/h4"
if cmp -s "$OUT/h3" "$OUT/h4"; then
    echo "AVX2 and AVX-512 builds: bit-identical outputs in every range"
else
    echo "AVX2 and AVX-512 builds: outputs differ (hash mismatch)  FAIL"
    fail=1
fi
if command -v clang >/dev/null 2>&1 || command -v clang-14 >/dev/null 2>&1; then
    CLANG=$(command -v clang || command -v clang-14)
    $CLANG -O3 -fno-math-errno -fno-trapping-math -fopenmp-simd -I.. -march=x86-64-v3 \
        test_mathvec.c -o "$OUT/test_clang" -lm &&
        "$OUT/test_clang" --quick | tail -1 | sed 's/^/clang x86-64-v3 (quick): /' ||
        fail=1
fi

echo
echo "## vectorization: every mathvec loop, every ISA, no calls"
gcc $FLAGS bench_mathvec.c -o "$OUT/bench" -lm -fopt-info-vec-optimized -fopt-info-vec-missed \
    2> "$OUT/vecinfo.txt" || exit 1
for fn in $(nm "$OUT/bench" | awk '$2 ~ /^[tT]$/ && $3 ~ /_mv_/ && $3 !~ /resolver/ {print $3}' | sort); do
    dis=$(objdump -d --no-show-raw-insn "$OUT/bench" --disassemble="$fn")
    calls=$(echo "$dis" | grep -c 'call')
    case $fn in
    *_v4 | *arch_x86_64_v4) reg=zmm ;;
    *_v3 | *arch_x86_64_v3) reg=ymm ;;
    *) reg=xmm ;;
    esac
    packed=$(echo "$dis" | grep -cE "p[sd][[:space:]].*%$reg")
    status=ok
    if [ "$calls" -ne 0 ] || [ "$packed" -lt 10 ]; then status=FAIL; fail=1; fi
    printf '%-30s %3d packed %s ops, %d calls  %s\n' "$fn" "$packed" "$reg" "$calls" "$status"
done
echo "gcc -fopt-info-vec for the mathvec loops (lines 71-74: v4, v3, SSE2, target_clones);"
echo "the 'missed' lines are scalar remainder loops and the reduction tails:"
grep -E "bench_mathvec.c:(7[1-4]):" "$OUT/vecinfo.txt" | sed -E 's/^bench_mathvec.c:([0-9]+):[0-9]+: /line \1: /' |
    sort | uniq -c

echo
echo "## speed (bench_mathvec.c)"
"$OUT/bench"
"$OUT/bench" 20000

[ $fail -eq 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit $fail
