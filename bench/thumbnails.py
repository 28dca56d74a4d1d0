"""Thumbnail-job benchmark driver: runs each implementation as its own process
under `/usr/bin/time -v` (peak RSS = "Maximum resident set size") on each
source PNG. Every implementation times its own loop (median over the
iterations after warm-up) and prints one JSON line.

The implementations take turns: the iterations are split over `rounds`
rounds, and every round runs each implementation once, in the same order. A
slow spell on the shared machine then hits all of them alike instead of
whichever happened to be running. Per implementation the reported median is
the median of the round medians, min the smallest, CPU ms the mean and peak
RSS the largest.

Every process is pinned to the same CPU (`BENCH_CPU`, default the last one
this process may use): on a small VM the CPUs need not be equally fast (here
one ran every implementation ~30% slower than the other), and a job that
lands on either by chance would make the ratios a coin toss.

Usage: python thumbnails.py <thumbbench-binary> <python> <node-dir> <iterations> <warmup> <rounds> <source.png>...
Prints one JSON object per line.
"""

import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def bench_cpu():
    allowed = sorted(os.sched_getaffinity(0))
    cpu = int(os.environ.get("BENCH_CPU", allowed[-1]))
    if cpu not in allowed:
        raise SystemExit(f"BENCH_CPU={cpu} is not one of the CPUs this process may use: {allowed}")
    return cpu


def run_measured(command, env=None, cpu=None):
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        completed = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, *command],
            capture_output=True, text=True, env=env, check=False, preexec_fn=pin,
        )
        time_report = Path(report.name).read_text()
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {completed.returncode}: {completed.stderr.strip()[-400:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_report)
    result["peak_rss_mib"] = round(int(rss.group(1)) / 1024, 1) if rss else None
    return result


def main():
    binary, python, node_dir, iterations, warmup, rounds, *sources = sys.argv[1:]
    rounds = max(1, int(rounds))
    per_round = str(max(1, math.ceil(int(iterations) / rounds)))
    cpu = bench_cpu()
    single_thread = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "UV_THREADPOOL_SIZE": "1",
        "VIPS_CONCURRENCY": "1",
        "OMP_NUM_THREADS": "1",
        "RAYON_NUM_THREADS": "1",
    }
    for source in sources:
        jobs = [
            ("imagegen", [binary, source, per_round, warmup]),
            ("pillow", [python, str(HERE / "python" / "thumbbench.py"), source, per_round, warmup]),
            ("sharp", ["node", str(Path(node_dir) / "thumbbench.mjs"), source, "decode-once", per_round, warmup]),
            ("sharp", ["node", str(Path(node_dir) / "thumbbench.mjs"), source, "pipelines", per_round, warmup]),
        ]
        results = [[] for _ in jobs]
        failures = [None for _ in jobs]
        for _ in range(rounds):
            for index, (family, command) in enumerate(jobs):
                if failures[index]:
                    continue
                try:
                    results[index].append(run_measured(command, env=single_thread, cpu=cpu))
                except (RuntimeError, OSError, ValueError, IndexError) as error:
                    failures[index] = str(error)
        for (family, _), runs, failure in zip(jobs, results, failures):
            if failure:
                row = {"kind": "thumbnail", "family": family, "status": "failed",
                       "implementation": family, "detail": failure, "source_file": source}
            else:
                row = combine(runs, cpu)
                row.update(kind="thumbnail", family=family, status="ok")
            print(json.dumps(row), flush=True)


def combine(runs, cpu):
    """One row from the rounds of one implementation (see the module docstring)."""
    row = dict(runs[-1])
    row["rounds"] = len(runs)
    row["cpu"] = cpu
    row["iterations"] = sum(run["iterations"] for run in runs)
    row["median_ms"] = round(statistics.median(run["median_ms"] for run in runs), 3)
    row["min_ms"] = round(min(run["min_ms"] for run in runs), 3)
    row["cpu_ms_per_image"] = round(statistics.fmean(run["cpu_ms_per_image"] for run in runs), 3)
    rss = [run["peak_rss_mib"] for run in runs if run.get("peak_rss_mib") is not None]
    row["peak_rss_mib"] = max(rss) if rss else None
    return row


if __name__ == "__main__":
    main()
