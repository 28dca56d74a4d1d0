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

       python thumbnails.py formats <thumbbench-binary> <python> <simd-python> <node-dir> <iterations>
                            <warmup> <rounds> <markdown-out> <source-1024.png> <source-2048.png> <source-1024.jpg>
The rows of issue 24, side by side in one run on one CPU: (a) the PNGs -> 3 JPEG, (b) -> 3 lossy
WebP, (c) -> 3 AVIF, (d) the 1024 px JPEG -> 3 JPEG, for imagegen, Pillow-SIMD (built from its
sdist with AVX2), Pillow and sharp. Each row has ms, peak RSS, bytes and the mean SSIMULACRA2 of
its three thumbnails against a Lanczos3 reference at the same size (Pillow's LANCZOS from the
full-size decode, kept lossless), so speed is compared at the quality each reaches. Writes a
Markdown table to <markdown-out> and prints the JSON rows.
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


# Every implementation's environment: one thread each (libuv, libvips, OpenMP, rayon), and a
# plain PATH.
SINGLE_THREAD = {
    "PATH": "/usr/bin:/bin:/usr/local/bin",
    "UV_THREADPOOL_SIZE": "1",
    "VIPS_CONCURRENCY": "1",
    "OMP_NUM_THREADS": "1",
    "RAYON_NUM_THREADS": "1",
}


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
    single_thread = dict(SINGLE_THREAD)
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


SIZES = (128, 256, 512)
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "avif": "avif"}


def references(source, directory):
    """Lanczos3 references of `source` at each size, as lossless PNGs (with this Python's Pillow)."""
    from PIL import Image

    image = Image.open(source)
    image.load()
    image = image.convert("RGB")
    paths = {}
    for size in SIZES:
        longest = max(image.size)
        dims = image.size if longest <= size else tuple(
            max(1, (side * size * 2 + longest) // (2 * longest)) for side in image.size)
        path = Path(directory) / f"reference-{size}.png"
        (image if dims == image.size else image.resize(dims, Image.Resampling.LANCZOS)).save(path)
        paths[size] = path
    return paths


def score(reference_paths, directory, format_name):
    """Mean SSIMULACRA2 of the three thumbnails in `directory` (100 = identical)."""
    from ssimulacra2 import compute_ssimulacra2

    scores = [compute_ssimulacra2(str(reference_paths[size]),
                                  str(Path(directory) / f"{size}.{EXTENSIONS[format_name]}"))
              for size in SIZES]
    return round(statistics.fmean(scores), 2)


def formats_main(args):
    (binary, python, simd_python, node_dir, iterations, warmup, rounds, markdown,
     png_1024, png_2048, jpeg_1024) = args
    rounds = max(1, int(rounds))
    per_round = str(max(1, math.ceil(int(iterations) / rounds)))
    cpu = bench_cpu()
    env = dict(SINGLE_THREAD)
    cases = [("a", png_1024, "jpeg"), ("a", png_2048, "jpeg"),
             ("b", png_1024, "webp"), ("b", png_2048, "webp"),
             ("c", png_1024, "avif"), ("c", png_2048, "avif"),
             ("d", jpeg_1024, "jpeg")]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        refs = {}
        for source in {png_1024, png_2048, jpeg_1024}:
            directory = Path(scratch) / Path(source).name
            directory.mkdir()
            refs[source] = references(source, directory)
        for row_name, source, format_name in cases:
            node = str(Path(node_dir) / "thumbbench.mjs")
            script = str(HERE / "python" / "thumbbench.py")
            jobs = [
                ("imagegen", [binary, source, per_round, warmup, format_name]),
                ("Pillow-SIMD", [simd_python, script, source, per_round, warmup, format_name]),
                ("Pillow", [python, script, source, per_round, warmup, format_name]),
                ("sharp", ["node", node, source, "decode-once", per_round, warmup, format_name]),
                ("sharp", ["node", node, source, "pipelines", per_round, warmup, format_name]),
            ]
            results = [[] for _ in jobs]
            failures = [None for _ in jobs]
            outputs = []
            for index in range(len(jobs)):
                directory = Path(scratch) / f"{row_name}-{Path(source).name}-{format_name}-{index}"
                directory.mkdir()
                outputs.append(directory)
            for _ in range(rounds):
                for index, (_, command) in enumerate(jobs):
                    if failures[index]:
                        continue
                    try:
                        run_env = dict(env, THUMBBENCH_OUT=str(outputs[index]))
                        results[index].append(run_measured(command, env=run_env, cpu=cpu))
                    except (RuntimeError, OSError, ValueError, IndexError) as error:
                        failures[index] = str(error)
            for (family, _), runs, failure, directory in zip(jobs, results, failures, outputs):
                base = {"kind": "thumbnail-format", "row": row_name, "format": format_name,
                        "source_file": Path(source).name, "family": family}
                if failure:
                    # The last line of a traceback says what failed; the table wants one line.
                    detail = (failure.strip().splitlines() or ["no output"])[-1][-300:]
                    row = dict(base, status="failed", implementation=family, detail=detail)
                else:
                    row = combine(runs, cpu)
                    row.update(base, status="ok")
                    try:
                        row["ssimulacra2"] = score(refs[source], directory, format_name)
                    except Exception as error:  # a peer's file the scorer cannot read: say so
                        row["ssimulacra2"] = None
                        row["score_error"] = str(error)[-200:]
                rows.append(row)
                print(json.dumps(row), flush=True)
    Path(markdown).write_text(formats_markdown(rows, cpu))


def formats_markdown(rows, cpu):
    lines = [
        "## Thumbnails in JPEG, WebP and AVIF, and from a JPEG source (issue 24)",
        "",
        "Written by `bench/thumbnails.py formats` (`bash bench/run.sh`). Every implementation runs "
        f"as its own single-threaded process pinned to CPU {cpu}, in alternating rounds; ms is the "
        "median per source image (3 thumbnails: 128, 256, 512 px), RSS the process's peak, bytes "
        "the three files together, SSIMULACRA2 the mean of the three against a Lanczos3 reference "
        "at the same size (higher is better; 90 is visually lossless, 70 high quality, 50 medium). "
        "Qualities: JPEG 80, WebP 80, AVIF 75 (imagegen's defaults) everywhere; each encoder's own "
        "speed setting. x imagegen = that row's ms / imagegen's ms.",
        "",
        "| row | source | format | implementation | ms | x imagegen | CPU ms | peak RSS MiB | bytes | SSIMULACRA2 |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ours = {(r["row"], r["source_file"], r["format"]): r for r in rows
            if r["family"] == "imagegen" and r["status"] == "ok"}
    for r in rows:
        key = (r["row"], r["source_file"], r["format"])
        if r["status"] != "ok":
            lines.append(f"| ({r['row']}) | {r['source_file']} | {r['format']} | {r['family']} | "
                         f"failed: {r['detail'].replace('|', '/')} | | | | | |")
            continue
        ratio = ""
        if key in ours and ours[key]["median_ms"]:
            ratio = f"{r['median_ms'] / ours[key]['median_ms']:.2f}"
        score_text = r.get("ssimulacra2")
        score_text = "n/a" if score_text is None else f"{score_text:.1f}"
        lines.append(
            f"| ({r['row']}) | {r['source_file']} | {r['format']} | {r['implementation']} | "
            f"{r['median_ms']:.1f} | {ratio} | {r['cpu_ms_per_image']:.1f} | {r['peak_rss_mib']} | "
            f"{sum(r['output_bytes']):,} | {score_text} |")
    return "\n".join(lines) + "\n"


def memory_main(args):
    """Peak RSS at the function's limits: the largest source it takes (`MAX_SOURCE_PIXELS`, 64 Mpx,
    as an 8192 px PNG) made into the largest thumbnails it allows (4096 px, with 2048 and 1024), in
    each format alone and in all three. One process per case, pinned like the rest."""
    binary, markdown, source = args
    cpu = bench_cpu()
    sizes = "4096,2048,1024"
    rows = []
    for formats in ("jpeg", "webp", "avif", "avif,webp,jpeg"):
        env = dict(SINGLE_THREAD, THUMBNAIL_SIZES=sizes)
        result = run_measured([binary, source, "1", "0", formats], env=env, cpu=cpu)
        result.update(kind="thumbnail-memory", formats=formats, sizes=sizes)
        rows.append(result)
        print(json.dumps(result), flush=True)
    lines = [
        "## Memory at the function's limits (issue 24)",
        "",
        "Written by `bench/thumbnails.py memory` (`bash bench/run.sh`): the largest source "
        "generate-thumbnails accepts (64 Mpx: an 8192x8192 RGB PNG) made into thumbnails of "
        f"{sizes.replace(',', ', ')} px (4096 is the largest size it allows), one process per row "
        f"pinned to CPU {cpu}. Peak RSS is the whole process's (`/usr/bin/time -v`).",
        "",
        "| formats | ms | peak RSS MiB | bytes |",
        "| --- | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['formats']} | {r['median_ms']:.0f} | {r['peak_rss_mib']} | "
                     f"{sum(r['output_bytes']):,} |")
    Path(markdown).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1:2] == ["formats"]:
        formats_main(sys.argv[2:])
    elif sys.argv[1:2] == ["memory"]:
        memory_main(sys.argv[2:])
    else:
        main()
