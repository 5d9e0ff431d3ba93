#!/usr/bin/env bash
# Compile the C kernels (csrc/*.c) with -Wall -Wextra -Wswitch-enum -Werror in the configurations
# that the build on this machine does not produce:
#   bash tools/check_c_warnings.sh
# The wheel's own configuration (target_clones + OpenMP) is checked by building it with
# -C cmake.define.FASTLOSS_WERROR=ON (as .ci/run does); this adds the portable build (neither:
# e.g. clang, or FASTLOSS_USE_OPENMP=OFF off x86-64 Linux), OpenMP without target_clones, and
# FASTLOSS_USE_LIBMVEC=ON. The flags are those CMakeLists.txt gives the fastloss_kernels target
# in a Release build (-O3 also enables the warnings that need data-flow analysis). Objects go
# to a temporary directory; exits non-zero if any file warns.
set -euo pipefail
cd "$(dirname "$0")/../csrc"
CC=${CC:-gcc}
FLAGS=(-O3 -std=gnu11 -fPIC -fno-math-errno -fno-trapping-math -fopenmp-simd
       -Wswitch-enum -Wall -Wextra -Werror)
CONFIGS=("portable:" "openmp:-fopenmp"
         "target_clones+openmp+libmvec:-DFL_USE_TARGET_CLONES -fopenmp -DFL_USE_LIBMVEC")
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

compile() {  # NAME SOURCE EXTRA_FLAGS...: one object; its diagnostics printed only on failure
    local name=$1 src=$2 log="$OUT/$1-${2%.c}.log"
    shift 2
    if "$CC" "${FLAGS[@]}" "$@" -c "$src" -o "$OUT/$name-${src%.c}.o" 2> "$log"; then
        echo "ok    $name: $src"
    else
        echo "FAIL  $name: $src"; cat "$log"; return 1
    fi
}

fail=0 running=0
for config in "${CONFIGS[@]}"; do
    name=${config%%:*}
    read -r -a extra <<< "${config#*:}"
    for src in *.c; do
        flags=("${extra[@]}")
        # as CMakeLists.txt: optimizer updates without FMA contraction
        case $src in optim.c | grad_utils.c | adafactor.c) flags+=(-ffp-contract=off) ;; esac
        compile "$name" "$src" "${flags[@]}" &
        running=$((running + 1))
        if [ $running -ge 2 ]; then  # two at a time: the machine has two cores
            wait -n || fail=1
            running=$((running - 1))
        fi
    done
done
while [ $running -gt 0 ]; do
    wait -n || fail=1
    running=$((running - 1))
done
if [ $fail -ne 0 ]; then
    echo "C kernels: warnings with -Wall -Wextra -Wswitch-enum -Werror (above)"
    exit 1
fi
echo "C kernels: no warnings with -Wall -Wextra -Wswitch-enum -Werror in ${#CONFIGS[@]} configurations"
