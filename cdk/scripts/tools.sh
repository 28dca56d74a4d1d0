# Sourced by the other scripts: finds or installs the Python-side tools, non-interactively.
# A tool already on PATH is used as is; otherwise it goes into cdk/.venv-tools (git-ignored).

CFN_LINT_VERSION="1.58.0"
TOOLS_VENV="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-tools"

tools_venv() {
  if [[ ! -x "$TOOLS_VENV/bin/pip" ]]; then
    python3 -m venv "$TOOLS_VENV" >&2
  fi
  echo "$TOOLS_VENV"
}

# Prints the path of a working cfn-lint (>= 1.x), installing it if needed.
ensure_cfn_lint() {
  if command -v cfn-lint >/dev/null 2>&1 && cfn-lint --version 2>/dev/null | grep -q '^cfn-lint 1\.'; then
    command -v cfn-lint
    return
  fi
  local venv
  venv="$(tools_venv)"
  if [[ ! -x "$venv/bin/cfn-lint" ]]; then
    echo "installing cfn-lint==$CFN_LINT_VERSION into $venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" >&2
  fi
  echo "$venv/bin/cfn-lint"
}
