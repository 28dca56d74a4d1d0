"""Turns the benchmark's JSON lines into tables: printed, and written to
bench/RESULTS.md with the machine description and the date.

Appends bench/ANALYSIS.md (profiles and findings, written by hand) when present.
Also includes, unchanged, any bench/extra/*.md and, as tables, any
bench/extra/*.json (a list of flat objects, or one object) - the hook for local
engine and end-to-end figures gathered elsewhere.

Usage: python report.py <out-dir>   (reads <out-dir>/*.jsonl)
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {
    "sharp_ratio": 2.0,
    "pillow_ratio": 5.0,
    "thumb_rss_mib": 64.0,
    "init_fraction": 0.1,
    "cold_rss_mib": 24.0,
    "zip_mib": 4.0,
}


def load(out_dir):
    rows = []
    for path in sorted(Path(out_dir).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "unavailable"


def machine():
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal:")), 0)
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    simd = ", ".join(f for f in ("sse4_1", "avx2", "avx512f") if f" {f}" in flags) or "none"
    return [
        ("Date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("CPU", f"{model} ({platform.machine()}, SIMD: {simd})"),
        ("nproc", str(os.cpu_count())),
        ("Memory", f"{mem_kib / 1024 / 1024:.1f} GiB"),
        ("Kernel", platform.release()),
        ("rustc", command_output(["rustc", "--version"])),
        ("Python", platform.python_version()),
        ("Node", command_output(["node", "--version"])),
        ("Load before / after", " / ".join(load_average(name) for name in ("load-before", "load-after"))),
    ]


def pinned_cpu(rows):
    return next((row["cpu"] for row in rows if row.get("kind") == "thumbnail" and "cpu" in row), None)


def load_average(name):
    path = OUT_DIR / f"{name}.txt"
    if not path.exists():
        return "?"
    return path.read_text().strip().split("load average:")[-1].strip()


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join("" if cell is None else str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok):
    return "met" if ok else "**missed**"


def thumbnail_section(rows):
    jobs = [r for r in rows if r.get("kind") == "thumbnail"]
    if not jobs:
        return "_No thumbnail results._"
    detail = table(
        ["Source", "Implementation", "Median ms", "Min ms", "CPU ms/image", "Peak RSS MiB",
         "Output bytes 128/256/512"],
        [[r.get("source", "?"), r.get("implementation"), r.get("median_ms"), r.get("min_ms"),
          r.get("cpu_ms_per_image"), r.get("peak_rss_mib"), "/".join(map(str, r.get("output_bytes", [])))]
         if r["status"] == "ok" else ["?", r.get("implementation"), "failed", r.get("detail"), "", "", ""]
         for r in jobs],
    )
    ratio_rows = []
    for source in dict.fromkeys(r["source"] for r in jobs if r["status"] == "ok"):
        at = [r for r in jobs if r.get("source") == source and r["status"] == "ok"]
        ours = next((r for r in at if r["family"] == "imagegen"), None)
        sharp = min((r["median_ms"] for r in at if r["family"] == "sharp"), default=None)
        pillow = min((r["median_ms"] for r in at if r["family"] == "pillow"), default=None)
        if not ours:
            continue
        cpu = {family: min((r.get("cpu_ms_per_image") or 0 for r in at if r["family"] == family), default=0)
               for family in ("imagegen", "sharp", "pillow")}
        cpu_ratios = (f"{cpu['sharp'] / cpu['imagegen']:.2f}x / {cpu['pillow'] / cpu['imagegen']:.2f}x"
                      if cpu["imagegen"] else "n/a")
        sharp_ratio = sharp / ours["median_ms"] if sharp else None
        pillow_ratio = pillow / ours["median_ms"] if pillow else None
        rss_ok = ours["peak_rss_mib"] is not None and ours["peak_rss_mib"] < TARGETS["thumb_rss_mib"]
        ratio_rows.append([
            source, ours["median_ms"],
            f"{sharp_ratio:.2f}x ({verdict(sharp_ratio >= TARGETS['sharp_ratio'])})" if sharp_ratio else "n/a",
            f"{pillow_ratio:.2f}x ({verdict(pillow_ratio >= TARGETS['pillow_ratio'])})" if pillow_ratio else "n/a",
            f"{ours['peak_rss_mib']} ({verdict(rss_ok)})",
            cpu_ratios,
        ])
    ratios = table(
        ["Source", "imagegen median ms", "sharp (faster strategy) / imagegen, target >= 2x",
         "Pillow / imagegen, target >= 5x", "imagegen peak RSS MiB, target < 64",
         "CPU-time ratios sharp / Pillow (info)"],
        ratio_rows,
    )
    return detail + "\n\n" + ratios


def cold_start_section(rows):
    starts = [r for r in rows if r.get("kind") == "cold-start"]
    if not starts:
        return "_No cold-start results._"
    baseline = next((r for r in starts if "baseline" in r["function"] and r["status"] == "ok"), None)
    body = []
    for r in starts:
        if r["status"] != "ok":
            body.append([r["function"], r["status"], "", "", "", "", r.get("detail", "")])
            continue
        is_baseline = r is baseline
        fraction = ""
        if baseline and not is_baseline and r["init_ms"] is not None:
            share = r["init_ms"] / baseline["init_ms"]
            fraction = f"{share:.3f} ({verdict(share < TARGETS['init_fraction'])})"
        rss = r["peak_rss_mib"]
        rss_cell = f"{rss}" if is_baseline or rss is None else f"{rss} ({verdict(rss < TARGETS['cold_rss_mib'])})"
        note = r["outcome"] + (f"; stray: {', '.join(r['stray_requests'])}" if r.get("stray_requests") else "")
        body.append([r["function"], r["init_ms"], r["first_response_ms"], fraction, rss_cell, r["runs"], note])
    return table(
        ["Function", "Init ms (exec -> first /next)", "Exec -> first response ms",
         "Init / Python init, target < 0.1", "Peak RSS MiB, target < 24", "Runs", "Outcome"],
        body,
    )


def package_section(rows):
    packages = [r for r in rows if r.get("kind") == "package-size"]
    if not packages:
        return "_No package-size results._"
    body = []
    for r in packages:
        zip_cell = r.get("zip_mib")
        if zip_cell is not None and r.get("arch") == "arm64":
            zip_cell = f"{zip_cell} ({verdict(zip_cell < TARGETS['zip_mib'])})"
        body.append([r["function"], r["status"], r.get("arch", ""), zip_cell, r.get("binary_mib")])
    return table(["Function", "Status", "Arch", "Zip MiB, target < 4 (arm64)", "Binary MiB"], body)


def extra_section():
    parts = []
    for path in sorted((HERE / "extra").glob("*")):
        if path.suffix == ".md" and path.name != "README.md":
            parts.append(f"### {path.stem}\n\n{path.read_text().strip()}")
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            items = data if isinstance(data, list) else [data]
            header = list(dict.fromkeys(key for item in items for key in item))
            parts.append(f"### {path.stem}\n\n" + table(header, [[item.get(k) for k in header] for item in items]))
    return "\n\n".join(parts) or "_None yet: drop `*.md` or `*.json` files into `bench/extra/`._"


OUT_DIR = HERE / "out"


def main():
    global OUT_DIR
    OUT_DIR = Path(sys.argv[1])
    rows = load(OUT_DIR)
    sections = [
        "# imagegen benchmark results",
        "Generated by `bash bench/run.sh` (see `bench/README.md`); do not edit by hand.",
        "## Machine\n\n" + table(["", ""], machine()),
        "## 1. Thumbnail job\n\nOne PNG -> 128/256/512 px JPEG at quality 80 (decode once, three "
        "Lanczos3 resizes, three encodes), single thread, each implementation in its own process. "
        "The implementations take turns in rounds (each round: every implementation once, its own process, "
        "warm-up then timed iterations), all pinned to the same CPU"
        + (f" (CPU {pinned_cpu(rows)})" if pinned_cpu(rows) is not None else "")
        + "; median = median of the round medians, min = fastest iteration; peak RSS from "
        "`/usr/bin/time -v`.\n\n" + thumbnail_section(rows),
        "## 2. Cold start\n\nExec -> first `GET /invocation/next`, and exec -> first response/error posted, "
        "against the local Runtime API (`bench/coldstart/`); medians over the runs; peak RSS = VmHWM after the "
        "first response.\n\n" + cold_start_section(rows),
        "## 3. Package size\n\n" + package_section(rows),
        "## 4. Extra figures (bench/extra/)\n\n" + extra_section(),
    ]
    analysis = HERE / "ANALYSIS.md"
    if analysis.exists():
        sections.append(analysis.read_text().strip())
    text = "\n\n".join(sections) + "\n"
    (HERE / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
