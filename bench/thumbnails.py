"""Thumbnail-job benchmark driver: runs each implementation as its own process
under `/usr/bin/time -v` (peak RSS = "Maximum resident set size") on each
source PNG. Every implementation times its own loop (median over the
iterations after warm-up) and prints one JSON line.

Usage: python thumbnails.py <thumbbench-binary> <python> <node-dir> <iterations> <warmup> <source.png>...
Prints one JSON object per line.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_measured(command, env=None):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        completed = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, *command],
            capture_output=True, text=True, env=env, check=False,
        )
        time_report = Path(report.name).read_text()
    if completed.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {completed.returncode}: {completed.stderr.strip()[-400:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", time_report)
    result["peak_rss_mib"] = round(int(rss.group(1)) / 1024, 1) if rss else None
    return result


def main():
    binary, python, node_dir, iterations, warmup, *sources = sys.argv[1:]
    single_thread = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "UV_THREADPOOL_SIZE": "1",
        "VIPS_CONCURRENCY": "1",
        "OMP_NUM_THREADS": "1",
        "RAYON_NUM_THREADS": "1",
    }
    for source in sources:
        jobs = [
            ("imagegen", [binary, source, iterations, warmup]),
            ("pillow", [python, str(HERE / "python" / "thumbbench.py"), source, iterations, warmup]),
            ("sharp", ["node", str(Path(node_dir) / "thumbbench.mjs"), source, "decode-once", iterations, warmup]),
            ("sharp", ["node", str(Path(node_dir) / "thumbbench.mjs"), source, "pipelines", iterations, warmup]),
        ]
        for family, command in jobs:
            try:
                row = run_measured(command, env=single_thread)
                row.update(kind="thumbnail", family=family, status="ok")
            except (RuntimeError, OSError, ValueError, IndexError) as error:
                row = {"kind": "thumbnail", "family": family, "status": "failed",
                       "implementation": family, "detail": str(error), "source_file": source}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
