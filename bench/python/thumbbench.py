"""The benchmark's Pillow (and Pillow-SIMD) side: one source PNG or JPEG -> 128/256/512 px
thumbnails in one format (jpeg at quality 80, lossy webp at 80, avif at 75: imagegen's
defaults; each encoder's own speed defaults otherwise).

Decodes once, resizes from the full-size image with Lanczos (Lanczos3, no reducing_gap, i.e.
the same filter as imagegen) and encodes each size. A JPEG source is decoded with `draft()`,
libjpeg's DCT-domain scaling, kept at least twice the largest thumbnail: the rule imagegen
uses. Pillow runs this on one thread.

Usage: python thumbbench.py <source> [iterations] [warmup] [format]
Prints one JSON line in the format shared with the Rust and Node benchmarks; with
THUMBBENCH_OUT=DIR it also writes the last thumbnails as DIR/{size}.{ext}.
"""

import importlib.metadata
import io
import json
import os
import statistics
import sys
import time

from PIL import Image

SIZES = (128, 256, 512)
# Pillow's format name, save options and file extension per benchmark format.
FORMATS = {
    "jpeg": ("JPEG", {"quality": 80}, "jpg"),
    "webp": ("WEBP", {"quality": 80}, "webp"),
    "avif": ("AVIF", {"quality": 75}, "avif"),
}


def fit_longest_side(width, height, size):
    """Same rounding as imagegen: longest side = size, round half up, min 1, no upscaling."""
    longest = max(width, height)
    if longest <= size:
        return width, height

    def scale(side):
        return max(1, (side * size * 2 + longest) // (2 * longest))

    return (size, scale(height)) if width >= height else (scale(width), size)


def make_thumbnails(source, format_name):
    pil_format, options, _ = FORMATS[format_name]
    image = Image.open(io.BytesIO(source))
    full_size = image.size
    if image.format == "JPEG":
        image.draft("RGB", (2 * max(SIZES), 2 * max(SIZES)))
    image.load()
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    outputs = []
    for size in SIZES:
        dims = fit_longest_side(*full_size, size)
        resized = image if dims == image.size else image.resize(dims, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, pil_format, **options)
        outputs.append(buffer.getvalue())
    return full_size, outputs


def main():
    path = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    format_name = sys.argv[4] if len(sys.argv) > 4 else "jpeg"
    with open(path, "rb") as file:
        source = file.read()
    for _ in range(warmup):
        make_thumbnails(source, format_name)
    times_ms = []
    cpu_before = time.process_time()
    for _ in range(max(1, iterations)):
        started = time.perf_counter()
        (width, height), outputs = make_thumbnails(source, format_name)
        times_ms.append((time.perf_counter() - started) * 1e3)
    cpu_ms_per_image = (time.process_time() - cpu_before) * 1e3 / len(times_ms)
    out = os.environ.get("THUMBBENCH_OUT")
    if out:
        for size, output in zip(SIZES, outputs):
            with open(os.path.join(out, f"{size}.{FORMATS[format_name][2]}"), "wb") as file:
                file.write(output)
    name = "Pillow"
    try:
        importlib.metadata.version("pillow-simd")
        name = "Pillow-SIMD"
    except importlib.metadata.PackageNotFoundError:
        pass
    print(json.dumps({
        "implementation": f"{name} {Image.__version__}",
        "source": f"{width}x{height}",
        "iterations": len(times_ms),
        "median_ms": round(statistics.median(times_ms), 3),
        "min_ms": round(min(times_ms), 3),
        "cpu_ms_per_image": round(cpu_ms_per_image, 3),
        "output_bytes": [len(output) for output in outputs],
    }))


if __name__ == "__main__":
    main()
