#!/usr/bin/env bash
# The one test command: installs what the tests need, then checks everything, Rust and CDK.
#
#   format, links and lints -> docs -> every Rust test (unit, handler, end-to-end, ASL conformance, benchmarks once)
#   -> the serve console in headless Chromium -> the Ceph S3 suite against serve -> the nine Lambda zips for arm64 (sizes printed)
#   -> the CDK app (jest, cdk-nag, asl-validator, cdk synth, cfn-lint, actionlint)
#   -> `imagegen rehearse` of that synthesized assembly (the arm64 bootstraps under qemu-user)
#
# Set IMAGEGEN_SKIP_LAMBDA_BUILD=1 to skip the (slow) release arm64 build while iterating.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A one-off full check gains nothing from incremental caches, and they cost gigabytes of disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

start=$SECONDS
step() { printf '\n==> %s (%ss)\n' "$*" "$((SECONDS - start))"; }

step "tools"
bash scripts/install-tools.sh lambda
bash scripts/install-tools.sh avif
bash scripts/install-tools.sh aws-cli
bash scripts/install-tools.sh chromium
bash scripts/install-tools.sh curl
bash scripts/install-tools.sh s3cmd
bash scripts/install-tools.sh rclone
bash scripts/install-tools.sh qemu
bash scripts/install-tools.sh s3-tests

step "cargo fmt --check; links in the Markdown"
cargo fmt --all --check
python3 scripts/check-doc-links.py

step "the main job builds without nasm (the README's first command, on a fresh machine)"
# rav1e's build fails without the nasm binary when its x86_64 assembly is on; only
# generate-thumbnails' opt-in `nasm` feature may turn it on.
if cargo tree --locked --workspace -e features -i rav1e --target x86_64-unknown-linux-gnu \
    | grep -F 'rav1e feature "asm"'; then
  echo 'rav1e is built with its x86_64 assembly by default: `cargo run -p imagegen-cli` would need nasm' >&2
  exit 1
fi

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc (broken or private intra-doc links are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo test (unit, handler, end-to-end, ASL conformance; each benchmark once, briefly)"
# No target flags, so cargo honours each target's `test` and `doctest` settings (docs/testing.md):
# unit tests, one integration-test binary per crate, doc tests where a library has them, examples
# built, and the benchmarks (`test = true`): run without `--bench`, each runs once on a tiny
# workload, so one that no longer runs fails here. `--all-targets` would also build a test harness
# of every main.rs and example (rust-lang/cargo#8338), and `--doc` a doc-test run of every library.
cargo test --workspace --locked

step "console in headless Chromium (playwright-core, Debian's chromium)"
# The binary the browser test serves: `cargo test` built target/debug/imagegen for the CLI's
# integration tests. (`cargo build` would build it again: without the dev-dependencies' features,
# half the dependency graph differs.) This is a no-op that only makes sure.
cargo test --workspace --locked --no-run --quiet
(cd cli/tests/console && npm ci --no-audit --no-fund && npm test)

step "the Ceph S3 compatibility suite against serve (scripts/s3-compat.sh)"
bash scripts/s3-compat.sh

if [[ "${IMAGEGEN_SKIP_LAMBDA_BUILD:-0}" != 1 ]]; then
  step "cargo lambda build --release --arm64 --output-format zip"
  bash scripts/build-lambdas.sh
  # The synth takes these zips as the functions' assets: the arm64 build runs once.
  export IMAGEGEN_BUNDLE=prebuilt
fi

step "CDK app"
bash cdk/scripts/test.sh

if [[ "${IMAGEGEN_SKIP_LAMBDA_BUILD:-0}" != 1 ]]; then
  step "rehearse the synthesized assembly: its arm64 bootstraps under qemu-user, driven by the AWS CLI"
  # `--workspace` keeps the features `cargo test` built with (nothing is rebuilt); the other
  # crates' test binaries have no test of this name.
  IMAGEGEN_ASSEMBLY="$PWD/cdk/cdk.out" cargo test --workspace --locked --test it -- \
    --ignored the_synthesized_assembly_runs_its_deployed_bootstraps
fi

step "all checks passed (target/ holds $(du -sh target | cut -f1))"
