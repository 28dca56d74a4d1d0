#!/usr/bin/env bash
# imagegen benchmark suite (issue 6). Not a test: CI never runs it.
#
#   bash bench/run.sh
#
# Installs its own prerequisites (Pillow + boto3 in bench/.venv, sharp in
# bench/node/node_modules, Debian's `time` if /usr/bin/time is missing), builds
# the Rust side in release mode, then runs:
#   1. the thumbnail job (imagegen vs sharp vs Pillow) on generated 1024/2048 px PNGs, then the rows
#      of issue 24 (PNG -> JPEG, WebP, AVIF; a JPEG source -> JPEG) with Pillow-SIMD too, scored
#      with SSIMULACRA2 (bench/extra/formats.md),
#   2. cold starts of every built function binary vs a Python boto3 handler,
#   3. package sizes,
# and writes bench/RESULTS.md (also printed). Raw JSON lines go to bench/out/.
#
# Environment knobs: ITERATIONS (default 30), WARMUP (3), ROUNDS (5: the thumbnail
# implementations take turns, ITERATIONS/ROUNDS iterations each per round), COLD_RUNS (5),
# TARGET_DIR (default <repo>/target: where the function binaries are),
# BENCH_TARGET_DIR (default /tmp/target-bench: where the bench binary is built),
# SKIP_THUMBNAILS=1, SKIP_COLD_START=1, SKIP_PACKAGES=1, SKIP_EXTRA=1 (section 4: engine,
# end-to-end, serve and rehearse benchmarks), REHEARSE_EXECUTIONS (default 20),
# COLD_START_EXTRA="label=/path/to/binary,..." (more cold-start rows),
# COLD_START_PROBE=1 (also build and measure bench/coldstart/probe, a bare
# lambda_runtime function: the floor for the Rust cold starts).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$BENCH")"
ITERATIONS="${ITERATIONS:-30}"
WARMUP="${WARMUP:-3}"
ROUNDS="${ROUNDS:-5}"
COLD_RUNS="${COLD_RUNS:-5}"
TARGET_DIR="${TARGET_DIR:-$REPO/target}"
BENCH_TARGET_DIR="${BENCH_TARGET_DIR:-/tmp/target-bench}"
OUT="$BENCH/out"
VENV="$BENCH/.venv"
SIMD_VENV="$BENCH/.venv-simd"
# Pillow-SIMD, the fastest Python peer, is built from its sdist with AVX2 (its wheels, where there
# are any, are plain SSE4 builds).
PILLOW_SIMD="pillow-simd==12.1.1.post0"

step() { printf '\n==> %s\n' "$*" >&2; }
fail() { printf '\nbench: FAILED: %s\n' "$*" >&2; exit 1; }

require() {
  command -v "$1" >/dev/null 2>&1 || fail "'$1' is not installed ($2)"
}

install_prerequisites() {
  step "Checking prerequisites"
  require cargo "install the Rust toolchain"
  require python3 "install Python 3.10+"
  require node "install Node.js 20.9+ (sharp 0.35 needs it)"
  require npm "install npm"
  if [[ ! -x /usr/bin/time ]]; then
    step "Installing Debian's time package (for peak RSS)"
    { apt-get update -qq && apt-get install -y -qq time; } >&2 \
      || fail "/usr/bin/time is missing and 'apt-get install time' failed"
  fi
  # mozjpeg's and rav1e's x86_64 SIMD is assembled by nasm; without it the JPEG encoder would be
  # measured ~8x slower than it ships, and rav1e would not build with the `nasm` feature below (the
  # arm64 Lambda build needs no nasm).
  if [[ "$(uname -m)" == x86_64 ]] && ! command -v nasm >/dev/null 2>&1; then
    step "Installing Debian's nasm (mozjpeg's and rav1e's x86_64 SIMD)"
    { apt-get update -qq && apt-get install -y -qq nasm; } >&2 \
      || fail "nasm is missing and 'apt-get install nasm' failed"
  fi

  step "Python venv with Pillow and boto3 ($VENV)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || fail "python3 -m venv failed (install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$BENCH/python/requirements.txt" \
    || fail "pip could not install bench/python/requirements.txt from PyPI"
  "$VENV/bin/python" -c "import PIL, boto3" || fail "Pillow/boto3 do not import in $VENV"

  step "Pillow-SIMD from its sdist with AVX2 ($SIMD_VENV)"
  if ! "$SIMD_VENV/bin/python" -c "import PIL" >/dev/null 2>&1; then
    # Its build needs the codecs' headers (Debian's names); AVIF needs libavif >= 1.0, which
    # Debian 12 lacks, so Pillow-SIMD's AVIF row may say "failed" there.
    { apt-get update -qq && apt-get install -y -qq libjpeg62-turbo-dev zlib1g-dev libwebp-dev libpng-dev; } >&2 \
      || fail "could not install the headers Pillow-SIMD builds against"
    [[ -x "$SIMD_VENV/bin/python" ]] || python3 -m venv "$SIMD_VENV" || fail "python3 -m venv failed"
    CC="cc -mavx2" "$SIMD_VENV/bin/pip" install --quiet --disable-pip-version-check \
      --no-binary pillow-simd "$PILLOW_SIMD" >&2 || fail "pip could not build $PILLOW_SIMD from its sdist"
  fi

  step "sharp (npm) in bench/node"
  (cd "$BENCH/node" && npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || fail "npm ci in bench/node failed: sharp or its prebuilt libvips (@img/sharp-linux-*) could not be installed"
  (cd "$BENCH/node" && node -e "import('sharp').then(s => s.default.versions)") >/dev/null 2>&1 \
    || fail "sharp is installed but does not load (its prebuilt libvips binary is missing for $(uname -m))"
}

build_rust() {
  step "Building the imagegen thumbnail benchmark (release)"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo build --release --quiet \
      -p generate-thumbnails --features nasm --example thumbbench --example bench_source) \
    || fail "cargo build of the generate-thumbnails examples failed"
}

run_thumbnails() {
  local sources="$OUT/sources"
  mkdir -p "$sources"
  for size in 1024 2048; do
    [[ -s "$sources/source-$size.png" ]] \
      || "$BENCH_TARGET_DIR/release/examples/bench_source" "$size" "$size" "$sources/source-$size.png"
  done
  step "Thumbnail job: $ITERATIONS iterations in $ROUNDS alternating rounds (each after $WARMUP warm-up), one process per implementation and round"
  "$VENV/bin/python" "$BENCH/thumbnails.py" "$BENCH_TARGET_DIR/release/examples/thumbbench" \
    "$VENV/bin/python" "$BENCH/node" "$ITERATIONS" "$WARMUP" "$ROUNDS" \
    "$sources/source-1024.png" "$sources/source-2048.png" | tee "$OUT/thumbnails.jsonl" >&2

  # Row (d)'s source: the 1024 px picture as a quality-92 JPEG (what a Stability model returns
  # for outputFormat jpeg is of that order).
  [[ -s "$sources/source-1024.jpg" ]] || "$VENV/bin/python" -c \
    "import sys; from PIL import Image; Image.open(sys.argv[1]).convert('RGB').save(sys.argv[2], quality=92)" \
    "$sources/source-1024.png" "$sources/source-1024.jpg"
  step "Thumbnail formats (issue 24): JPEG, WebP, AVIF and a JPEG source, with Pillow-SIMD, scored with SSIMULACRA2"
  "$VENV/bin/python" "$BENCH/thumbnails.py" formats "$BENCH_TARGET_DIR/release/examples/thumbbench" \
    "$VENV/bin/python" "$SIMD_VENV/bin/python" "$BENCH/node" "$ITERATIONS" "$WARMUP" "$ROUNDS" \
    "$BENCH/extra/formats.md" "$sources/source-1024.png" "$sources/source-2048.png" \
    "$sources/source-1024.jpg" | tee "$OUT/formats.jsonl" >&2

  # The function's memory setting rests on this: the largest source at the largest thumbnails.
  [[ -s "$sources/source-8192.png" ]] \
    || "$BENCH_TARGET_DIR/release/examples/bench_source" 8192 8192 "$sources/source-8192.png"
  step "Peak memory at the limits: a 64 Mpx source -> 4096/2048/1024 px in each format"
  "$VENV/bin/python" "$BENCH/thumbnails.py" memory "$BENCH_TARGET_DIR/release/examples/thumbbench" \
    "$BENCH/extra/memory.md" "$sources/source-8192.png" | tee "$OUT/memory.jsonl" >&2
}

run_cold_start() {
  if [[ "${COLD_START_PROBE:-0}" == 1 ]]; then
    step "Building the bare lambda_runtime probe (bench/coldstart/probe)"
    (cd "$BENCH/coldstart/probe" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR/probe" cargo build --release --quiet) \
      || fail "cargo build of bench/coldstart/probe failed"
    COLD_START_EXTRA="${COLD_START_EXTRA:+$COLD_START_EXTRA,}lambda_runtime probe=$BENCH_TARGET_DIR/probe/release/coldstart-probe"
    export COLD_START_EXTRA
  fi
  step "Cold start: function binaries in $TARGET_DIR/release vs the Python handler ($COLD_RUNS runs each)"
  (cd "$BENCH/coldstart" && "$VENV/bin/python" measure.py "$TARGET_DIR" "$VENV/bin/python" "$COLD_RUNS") \
    | tee "$OUT/coldstart.jsonl" >&2
}

run_engine_and_e2e() {
  # Section 4's figures, measured in this run: the local ASL engine (criterion) and the whole local
  # pipeline through the CLI, the `imagegen serve` endpoint, the local S3's store beside s3s-fs and
  # `imagegen rehearse` (cargo bench; they write bench/extra/e2e.md, serve.md, s3-store.md and
  # rehearse.md themselves).
  step "Local ASL engine: cargo bench -p imagegen-statemachine --bench transitions"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-statemachine \
      --bench transitions) >&2 || fail "the engine benchmark failed"
  "$VENV/bin/python" "$BENCH/engine.py" "$BENCH_TARGET_DIR/criterion" "$BENCH/extra/engine.json" >&2 \
    || fail "could not read the engine benchmark's criterion results"
  step "Local end-to-end pipeline: cargo bench -p imagegen-cli --bench e2e"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-cli --bench e2e) >&2 \
    || fail "the end-to-end benchmark failed"
  step "Local endpoint (imagegen serve): cargo bench -p imagegen-cli --bench serve"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-cli --bench serve) >&2 \
    || fail "the serve benchmark failed"
  step "The local S3's store beside s3s-fs: cargo bench -p imagegen-cli --bench s3_store"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-cli --bench s3_store) >&2 \
    || fail "the S3 store benchmark failed"
  step "The capacity plan's run (10,000 executions, three pools): cargo bench -p imagegen-cli --bench capacity"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-cli --bench capacity) >&2 \
    || fail "the capacity benchmark failed"
  # `rehearse --native` runs the functions' host builds from the directory of the `imagegen` the
  # benchmark runs (the release one); the qemu row needs a synthesized assembly (IMAGEGEN_ASSEMBLY
  # or cdk/cdk.out with the functions' zips) and says so in its row without one.
  step "Building the workspace's binaries (release) for imagegen rehearse --native"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo build --release --quiet --workspace --bins) >&2 \
    || fail "cargo build --release --workspace --bins failed"
  step "An execution through imagegen rehearse beside serve: cargo bench -p imagegen-cli --bench rehearse"
  (cd "$REPO" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo bench --quiet -p imagegen-cli --bench rehearse) >&2 \
    || fail "the rehearse benchmark failed"
}

run_packages() {
  step "Package sizes ($TARGET_DIR/lambda/<name>/bootstrap.zip)"
  "$VENV/bin/python" "$BENCH/package_size.py" "$TARGET_DIR" | tee "$OUT/packages.jsonl" >&2
}

main() {
  mkdir -p "$OUT"
  rm -f "$OUT"/*.jsonl
  install_prerequisites
  uptime > "$OUT/load-before.txt"
  if [[ "${SKIP_THUMBNAILS:-0}" != 1 ]]; then build_rust; run_thumbnails; fi
  if [[ "${SKIP_COLD_START:-0}" != 1 ]]; then run_cold_start; fi
  if [[ "${SKIP_PACKAGES:-0}" != 1 ]]; then run_packages; fi
  if [[ "${SKIP_EXTRA:-0}" != 1 ]]; then run_engine_and_e2e; fi
  uptime > "$OUT/load-after.txt"
  step "Report"
  "$VENV/bin/python" "$BENCH/report.py" "$OUT"
}

main "$@"
