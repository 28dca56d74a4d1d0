#!/usr/bin/env bash
# Offline `cdk synth` with no AWS credentials. Output: cdk/cdk.out/Imagegen.template.json
#
#   scripts/synth.sh                 real synth: builds the nine Rust crates with `cargo lambda build
#                                    --release --arm64` (slow on 2 cores: minutes, cached in target/)
#   scripts/synth.sh --no-bundling   template only, no Rust build (seconds); what tests and lint use
#   scripts/synth.sh --prebuilt      the zips scripts/build-lambdas.sh left in target/lambda/ become
#                                    the functions' assets (no second Rust build)
#
# Extra arguments go to `cdk synth` (e.g. -c email=you@example.com).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bundle=1
if [[ "${1:-}" == "--no-bundling" ]]; then bundle=0; shift; fi
if [[ "${1:-}" == "--prebuilt" ]]; then
  shift
  IMAGEGEN_LAMBDA_ZIPS="$(cd .. && pwd)/target/lambda"
  export IMAGEGEN_LAMBDA_ZIPS
fi

export CDK_DISABLE_VERSION_CHECK=1
export AWS_REGION="${AWS_REGION:-us-east-1}"
# No credentials: do not wait on the EC2 metadata service while the CLI looks for an account.
export AWS_EC2_METADATA_DISABLED=true

if [[ "$bundle" == 1 ]]; then
  missing=()
  # Every crate under functions/ is one of the stack's functions (test/crates.test.ts pins the two).
  for dir in ../functions/*/; do
    crate="$(basename "$dir")"
    if [[ ! -f "$dir/Cargo.toml" ]]; then
      missing+=("functions/$crate")
    elif [[ ! -f "$dir/src/main.rs" && ! -d "$dir/src/bin" ]] && ! grep -q '^\[\[bin\]\]' "$dir/Cargo.toml"; then
      missing+=("functions/$crate (no binary: src/main.rs)")
    fi
  done
  if (( ${#missing[@]} )); then
    echo "synth: not buildable yet: ${missing[*]} (use --no-bundling for a template-only synth)" >&2
    exit 1
  fi
  [[ -n "${IMAGEGEN_LAMBDA_ZIPS:-}" ]] || bash ../scripts/install-tools.sh lambda
  unset IMAGEGEN_SKIP_BUNDLING
else
  export IMAGEGEN_SKIP_BUNDLING=1
fi

rm -rf cdk.out
npx cdk synth --quiet "$@"
if [[ $bundle == 0 ]]; then how=skipped; elif [[ -n "${IMAGEGEN_LAMBDA_ZIPS:-}" ]]; then how="prebuilt zips from $IMAGEGEN_LAMBDA_ZIPS"; else how=cargo-lambda; fi
echo "synth: wrote $(echo cdk.out/*.template.json) (bundling: $how)"
