#!/usr/bin/env bash
# Build the nine Lambda functions for arm64 (provided.al2023) as zips with cargo-lambda, and print
# each zip's and binary's size. Output: target/lambda/<function>/bootstrap.zip
set -euo pipefail
cd "$(dirname "$0")/.."
# Every crate under functions/ is a Lambda function: the directory is the list.
FUNCTIONS=()
for dir in functions/*/; do FUNCTIONS+=("$(basename "$dir")"); done

bash scripts/install-tools.sh lambda
args=()
for f in "${FUNCTIONS[@]}"; do args+=(--package "$f"); done
cargo lambda build --release --arm64 --output-format zip --locked "${args[@]}"

printf '\n%-22s %12s %12s\n' function "zip (bytes)" "binary (bytes)"
for f in "${FUNCTIONS[@]}"; do
  zip="target/lambda/$f/bootstrap.zip"
  bin="target/aarch64-unknown-linux-gnu/release/$f"
  [ -f "$zip" ] && [ -f "$bin" ] || { echo "missing $zip or $bin" >&2; exit 1; }
  printf '%-22s %12s %12s\n' "$f" "$(stat -c %s "$zip")" "$(stat -c %s "$bin")"
done
