"""The benchmark's Pillow side: one source PNG -> 128/256/512 px JPEG at quality 80.

Decodes once, resizes from the full-size image with Lanczos (Lanczos3, no
reducing_gap/draft shortcuts, i.e. the same filter and quality as imagegen)
and encodes each size. Pillow runs this on one thread.

Usage: python thumbbench.py <source.png> [iterations] [warmup]
Prints one JSON line in the format shared with the Rust and Node benchmarks.
"""

import io
import json
import statistics
import sys
import time

from PIL import Image

SIZES = (128, 256, 512)
QUALITY = 80


def fit_longest_side(width, height, size):
    """Same rounding as imagegen: longest side = size, round half up, min 1, no upscaling."""
    longest = max(width, height)
    if longest <= size:
        return width, height

    def scale(side):
        return max(1, (side * size * 2 + longest) // (2 * longest))

    return (size, scale(height)) if width >= height else (scale(width), size)


def make_thumbnails(source):
    image = Image.open(io.BytesIO(source))
    image.load()
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    outputs = []
    for size in SIZES:
        dims = fit_longest_side(image.width, image.height, size)
        resized = image if dims == image.size else image.resize(dims, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=QUALITY)
        outputs.append(buffer.getvalue())
    return image.size, outputs


def main():
    path = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    with open(path, "rb") as file:
        source = file.read()
    for _ in range(warmup):
        make_thumbnails(source)
    times_ms = []
    cpu_before = time.process_time()
    for _ in range(max(1, iterations)):
        started = time.perf_counter()
        (width, height), outputs = make_thumbnails(source)
        times_ms.append((time.perf_counter() - started) * 1e3)
    cpu_ms_per_image = (time.process_time() - cpu_before) * 1e3 / len(times_ms)
    print(json.dumps({
        "implementation": f"Pillow {Image.__version__}",
        "source": f"{width}x{height}",
        "iterations": len(times_ms),
        "median_ms": round(statistics.median(times_ms), 3),
        "min_ms": round(min(times_ms), 3),
        "cpu_ms_per_image": round(cpu_ms_per_image, 3),
        "output_bytes": [len(output) for output in outputs],
    }))


if __name__ == "__main__":
    main()
