"""Turn a pytest-benchmark JSON file into a Markdown speedup table.

    pytest benchmarks --benchmark-json=bench.json
    python benchmarks/summarize.py bench.json

One row per group (kernel, size, dtype): the median time of each implementation and
fastloss's speedup over the others (their median / fastloss's median, same run).
"""

import json
import sys
from collections import defaultdict


def table(path):
    with open(path) as f:
        data = json.load(f)
    groups = defaultdict(dict)
    for b in data["benchmarks"]:
        impl = (b.get("params") or {}).get("impl")  # unparametrized baselines: none
        if impl is not None:
            groups[b["group"]][impl] = b["stats"]["median"]
    impls = ["fastloss", "fastloss_class", "numpy", "torch", "torch_foreach", "torch_fused",
             "sklearn"]
    present = [i for i in impls if any(i in g for g in groups.values())]
    peers = [i for i in present if i != "fastloss"]
    lines = ["| kernel, size, dtype | " + " | ".join(f"{i} (us)" for i in present)
             + " | " + " | ".join(f"vs {p}" for p in peers) + " |",
             "|---" * (1 + len(present) + len(peers)) + "|"]
    for group in sorted(groups):
        times = groups[group]
        cells = [f"{times[i] * 1e6:.1f}" if i in times else "" for i in present]
        ratios = [f"{times[p] / times['fastloss']:.2f}x" if p in times and "fastloss" in times
                  else "" for p in peers]
        lines.append(f"| {group} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {}).get("brand_raw", "unknown CPU")
    lines.append("")
    lines.append(f"Median times, one thread, {cpu}, Python {machine.get('python_version', '?')}.")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "bench.json"))
