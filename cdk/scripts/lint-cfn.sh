#!/usr/bin/env bash
# cfn-lint on the synthesized templates; fails on any error (warnings are printed, not fatal).
# Synthesizes (without bundling) first when cdk.out is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/tools.sh

shopt -s nullglob
templates=(cdk.out/*.template.json)
if (( ${#templates[@]} == 0 )); then
  bash scripts/synth.sh --no-bundling
  templates=(cdk.out/*.template.json)
fi

read -r -a cfn_lint <<<"$(ensure_cfn_lint)"
echo "$("${cfn_lint[@]}" --version) on ${templates[*]}"
# W3005: CDK adds an explicit DependsOn on each function's role next to the Fn::GetAtt; harmless.
"${cfn_lint[@]}" --non-zero-exit-code error --ignore-checks W3005 -- "${templates[@]}"
echo "cfn-lint: no errors"
