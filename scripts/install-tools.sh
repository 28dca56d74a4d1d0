#!/usr/bin/env bash
# Install what the build and tests need, if missing. Idempotent; safe on a fresh machine.
#   install-tools.sh lambda   cargo-lambda (PyPI), the aarch64 Rust target, and on x86_64 nasm (apt)
#   install-tools.sh aws-cli  the AWS CLI v1 (PyPI), which the `imagegen serve` tests drive
#   install-tools.sh chromium Debian's chromium (apt), the headless browser the console test drives
#   install-tools.sh curl     curl (apt) with --aws-sigv4, which the HTTP API tests sign with
#   install-tools.sh s3cmd    Debian's s3cmd (apt), one of the S3 clients the `imagegen serve` tests drive
#   install-tools.sh rclone   Debian's rclone (apt), another of them
#   install-tools.sh qemu     on x86_64, Debian's qemu-user and the aarch64 C library (apt), which run
#                             the assembly's arm64 bootstraps in `imagegen rehearse`
#   install-tools.sh s3-tests the Python packages (PyPI) the vendored Ceph S3 compatibility suite imports
#   install-tools.sh avif     libavif's avifdec (apt `libavif-bin`), which the thumbnail tests read AVIF
#                             back with, independent of the encoder
set -euo pipefail

# Install Debian packages (as root, or through sudo).
apt_install() {
  echo "installing $* (apt)" >&2
  if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

case "${1:-}" in
  lambda)
    if ! cargo lambda --version >/dev/null 2>&1; then
      echo "installing cargo-lambda (PyPI)" >&2
      python3 -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r "$(dirname "${BASH_SOURCE[0]}")/requirements/cargo-lambda.txt"
      # pyenv shims need a rehash to expose the new console script.
      command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    fi
    if ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
      echo "adding the aarch64-unknown-linux-gnu Rust target" >&2
      rustup target add aarch64-unknown-linux-gnu
    fi
    # mozjpeg-sys assembles its x86_64 SIMD with nasm (without it, the JPEG thumbnails in the
    # tests take ~8x longer); so does rav1e, but only with generate-thumbnails' `nasm` feature,
    # which the benchmarks turn on. (aarch64 builds use NEON C/GNU assembly and need nothing extra.)
    if [ "$(uname -m)" = x86_64 ] && ! command -v nasm >/dev/null 2>&1; then
      apt_install nasm
    fi
    ;;
  aws-cli)
    if ! aws --version >/dev/null 2>&1; then
      echo "installing the AWS CLI (PyPI)" >&2
      python3 -m pip install --quiet --disable-pip-version-check 'awscli==1.45.11'
      command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    fi
    ;;
  chromium)
    # The console's browser test drives this binary through playwright-core (which downloads no
    # browser of its own).
    # A GitHub Ubuntu runner has Google Chrome already, and its `chromium` package is a snap: use
    # what is there (the test looks for the same names).
    if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
      && ! command -v google-chrome-stable >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
      apt_install chromium
    fi
    ;;
  curl)
    if ! curl --help all 2>/dev/null | grep -q -- --aws-sigv4; then
      apt_install curl
    fi
    ;;
  avif)
    if ! command -v avifdec >/dev/null 2>&1; then
      apt_install libavif-bin
    fi
    ;;
  s3cmd)
    if ! command -v s3cmd >/dev/null 2>&1; then
      apt_install s3cmd
    fi
    ;;
  rclone)
    if ! command -v rclone >/dev/null 2>&1; then
      apt_install rclone
    fi
    ;;
  qemu)
    # cargo-lambda links the bootstraps against glibc: qemu-aarch64 needs the aarch64 C library
    # (libc6-arm64-cross puts it in /usr/aarch64-linux-gnu, which `imagegen rehearse` passes as -L).
    if [ "$(uname -m)" = x86_64 ] && { ! command -v qemu-aarch64 >/dev/null 2>&1 \
      || [ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; }; then
      apt_install qemu-user libc6-arm64-cross
    fi
    ;;
  s3-tests)
    # What local/conformance/s3-tests (ceph/s3-tests' functional tests, vendored) imports, and
    # pytest to run it. boto3 shares botocore with the AWS CLI above, so its version follows the
    # CLI's botocore (awscli 1.45.11 pins botocore 1.43.11), and python-dateutil stays below 3 as
    # botocore requires.
    pins=(boto3==1.43.11 pytest==9.2.0 munch==4.0.0 isodate==0.7.2 pytz==2026.6
      python-dateutil==2.9.0.post0 requests==2.34.2)
    if ! python3 -c '
import sys
from importlib.metadata import PackageNotFoundError, version
def pinned(spec):
    name, wanted = spec.split("==")
    try:
        return version(name) == wanted
    except PackageNotFoundError:
        return False
sys.exit(0 if all(pinned(spec) for spec in sys.argv[1:]) else 1)
' "${pins[@]}"; then
      echo "installing the Ceph S3 suite's Python packages (PyPI)" >&2
      python3 -m pip install --quiet --disable-pip-version-check "${pins[@]}"
      command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    fi
    ;;
  *)
    echo "usage: install-tools.sh lambda|aws-cli|chromium|curl|s3cmd|rclone|s3-tests" >&2
    exit 2
    ;;
esac
