#!/usr/bin/env bash
# Everything the CDK side checks, from a clean clone, non-interactively; exits non-zero on any failure.
#
#   npm ci -> tsc (strict type-check) -> jest (template, IAM, cdk-nag, asl-validator tests)
#   -> asl-validator CLI -> cdk synth (offline, no credentials) -> cfn-lint -> actionlint
#
# The synth skips the Rust build unless IMAGEGEN_BUNDLE=1 (then it runs `cargo lambda build
# --release --arm64` for the nine crates: minutes on 2 cores) or IMAGEGEN_BUNDLE=prebuilt (the zips
# scripts/build-lambdas.sh left in target/lambda/ become the assets; the root test command does
# this, so the arm64 build runs once). Set IMAGEGEN_SKIP_NPM_CI=1 to reuse an existing node_modules.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CDK_DISABLE_VERSION_CHECK=1
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true

start=$SECONDS
step() { printf '\n==> cdk: %s (%ss)\n' "$*" "$((SECONDS - start))"; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "cdk: node and npm are required (Node.js >= 20)" >&2
  exit 1
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "cdk: Node.js >= 20 required, found $(node --version)" >&2; exit 1; }

if [[ "${IMAGEGEN_SKIP_NPM_CI:-0}" == 1 && -d node_modules ]]; then
  step "npm ci skipped (IMAGEGEN_SKIP_NPM_CI=1)"
else
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

step "tsc --noEmit"
npx tsc --noEmit -p .

step "jest"
npx jest --ci

step "asl-validator"
# The deployed definition, and its JSONata twin (not deployed; `imagegen run --definition` runs it).
npx asl-validator --json-path ../statemachine/image-pipeline.asl.json \
  --json-path ../statemachine/image-pipeline.jsonata.asl.json

# With a githubRepo the app also has the deploy-access stack, so cdk-nag and cfn-lint see it too.
access=(-c githubRepo=example-org/imagegen)
if [[ "${IMAGEGEN_BUNDLE:-0}" == prebuilt ]]; then
  step "cdk synth (the arm64 zips from scripts/build-lambdas.sh as the functions' assets)"
  bash scripts/synth.sh --prebuilt "${access[@]}"
elif [[ "${IMAGEGEN_BUNDLE:-0}" == 1 ]]; then
  step "cdk synth (bundling the Rust functions)"
  bash scripts/synth.sh "${access[@]}"
else
  step "cdk synth (no bundling; IMAGEGEN_BUNDLE=1 builds the Rust functions)"
  bash scripts/synth.sh --no-bundling "${access[@]}"
fi

step "cfn-lint"
bash scripts/lint-cfn.sh

step "actionlint"
bash scripts/lint-actions.sh

step "all CDK checks passed"
