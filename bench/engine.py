"""Summarise the local ASL engine's criterion benchmark for bench/RESULTS.md.

Reads `<criterion-dir>/<group>/transitions/new/{estimates,benchmark}.json`
(written by `cargo bench -p imagegen-statemachine --bench transitions`) and
writes `bench/extra/engine.json`: one row per benchmark group with its median
time per iteration and the state transitions per second that implies.

Usage: python engine.py <criterion-dir> <out.json>
"""

import json
import sys
from pathlib import Path

GROUPS = {
    "pass_choice_loop": "Pass/Choice loop (engine only)",
    "image_pipeline_noop_tasks": "image-pipeline.asl.json, no-op tasks",
}


def main():
    criterion, out = Path(sys.argv[1]), Path(sys.argv[2])
    rows = []
    for group, label in GROUPS.items():
        run = criterion / group / "transitions" / "new"
        estimates = json.loads((run / "estimates.json").read_text())
        benchmark = json.loads((run / "benchmark.json").read_text())
        transitions = benchmark["throughput"]["Elements"]
        median_ns = estimates["median"]["point_estimate"]
        rows.append({
            "benchmark": label,
            "transitions per iteration": transitions,
            "median µs per iteration": round(median_ns / 1e3, 1),
            "transitions/s": f"{transitions / (median_ns / 1e9):,.0f}",
        })
    out.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(rows, ensure_ascii=False))


if __name__ == "__main__":
    main()
