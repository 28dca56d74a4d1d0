# Sourced by the other scripts: finds or installs the Python-side tools, non-interactively.
# A cfn-lint 1.x already on PATH is used as is; otherwise it is installed into cdk/.venv-tools
# (git-ignored), or with `pip install --user` where venv is unavailable.

CFN_LINT_VERSION="1.58.0"
TOOLS_VENV="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv-tools"

# Prints a command line that runs cfn-lint 1.x, installing it if needed.
ensure_cfn_lint() {
  if command -v cfn-lint >/dev/null 2>&1 && cfn-lint --version 2>/dev/null | grep -q '^cfn-lint 1\.'; then
    command -v cfn-lint
    return
  fi
  if [[ -x "$TOOLS_VENV/bin/cfn-lint" ]]; then
    echo "$TOOLS_VENV/bin/cfn-lint"
    return
  fi
  echo "installing cfn-lint==$CFN_LINT_VERSION" >&2
  if python3 -m venv "$TOOLS_VENV" >&2 2>/dev/null; then
    "$TOOLS_VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" >&2
    echo "$TOOLS_VENV/bin/cfn-lint"
  else
    rm -rf "$TOOLS_VENV"
    python3 -m pip install --quiet --user --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" >&2
    echo "python3 -m cfnlint"
  fi
}
