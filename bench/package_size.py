"""Package-size report: each function's arm64 Lambda zip
(<target>/lambda/<name>/bootstrap.zip, from
`cargo lambda build --release --arm64 --output-format zip`) and its binary.

When the arm64 zip is missing, the row says so; if an x86_64 release binary
exists at <target>/release/<name>, its size and the size of a deflate-9 zip of
it are given as an indicative stand-in (clearly labelled, not the target).

Usage: python package_size.py <target-dir>
Prints one JSON object per line.
"""

import json
import sys
import tempfile
import zipfile
from pathlib import Path

FUNCTIONS = ["start-execution", "validate-prompt", "generate-image", "generate-thumbnails", "notify-user"]
MIB = 1024 * 1024


def zipped_size(binary):
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "bootstrap.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zip_file:
            zip_file.write(binary, "bootstrap")
        return archive.stat().st_size


def main():
    target = Path(sys.argv[1])
    for name in FUNCTIONS:
        arm_zip = target / "lambda" / name / "bootstrap.zip"
        arm_binary = target / "lambda" / name / "bootstrap"
        host_binary = target / "release" / name
        row = {"kind": "package-size", "function": name}
        if arm_zip.exists():
            row.update(status="ok", arch="arm64", zip_mib=round(arm_zip.stat().st_size / MIB, 2))
            if arm_binary.exists():
                row["binary_mib"] = round(arm_binary.stat().st_size / MIB, 2)
        elif host_binary.exists():
            row.update(status="arm64 zip not built", arch="x86_64 stand-in",
                       zip_mib=round(zipped_size(host_binary) / MIB, 2),
                       binary_mib=round(host_binary.stat().st_size / MIB, 2))
        else:
            row.update(status="not built")
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
