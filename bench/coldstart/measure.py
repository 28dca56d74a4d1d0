"""Cold-start benchmark: exec a Lambda runtime process against the local
Runtime API (runtime_api.py) and time exec -> first /next request (init) and
exec -> first response (or error) posted. Peak RSS is the process's VmHWM,
read from /proc just after its first response, before it is stopped.

Every imagegen function binary at <target>/release/<name> is measured; a
missing one gets a "not built" row. The baseline is python_handler/ run by
the venv's Python. Each target is started COLD_RUNS times; medians are kept.

The event sent is events/<name>.json when present, else a probe event the
functions reject, so the measured path is: start, init, fetch the event,
deserialise it, post an error. AWS_ENDPOINT_URL points every SDK client at the
local server, so no request can leave the machine.

Extra binaries (e.g. a bare lambda_runtime probe, or a function built
elsewhere) can be added as COLD_START_EXTRA="label=/path/to/binary,...".

Usage: python measure.py <target-dir> <python-for-baseline> <runs>
Prints one JSON object per line.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from runtime_api import RuntimeApi

HERE = Path(__file__).resolve().parent
FUNCTIONS = ["start-execution", "validate-prompt", "generate-image", "generate-thumbnails", "notify-user"]
PROBE_EVENT = {"benchmark": "cold-start probe"}
TIMEOUT_S = 20


def lambda_env(function_name, api_address):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIDBENCHMARK",
        "AWS_SECRET_ACCESS_KEY": "benchmark-secret",
        "AWS_SESSION_TOKEN": "benchmark-token",
        "AWS_ENDPOINT_URL": f"http://{api_address}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_RUNTIME_API": api_address,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[1]bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:imagegen",
        "OUTPUT_BUCKET": "imagegen-bench-output",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:imagegen",
    }
    return env


def peak_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def cold_start_once(name, command, event):
    with RuntimeApi(event, name) as api:
        started = time.perf_counter_ns()
        process = subprocess.Popen(
            command, env=lambda_env(name, api.address),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        finished = api.done.wait(TIMEOUT_S)
        rss = peak_rss_kib(process.pid) if finished else None
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate()
    if not finished:
        tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"no response within {TIMEOUT_S}s (exit {process.returncode}): {' | '.join(tail)}")
    return {
        "init_ms": (api.first_next_ns - started) / 1e6 if api.first_next_ns else None,
        "first_response_ms": (api.outcome_ns - started) / 1e6,
        "outcome": api.outcome,
        "peak_rss_kib": rss,
        "stray_requests": api.stray_requests,
    }


def measure(name, label, command, event, runs):
    samples = [cold_start_once(name, command, event) for _ in range(runs)]
    inits = [s["init_ms"] for s in samples if s["init_ms"] is not None]
    rss = [s["peak_rss_kib"] for s in samples if s["peak_rss_kib"] is not None]
    return {
        "kind": "cold-start",
        "function": label,
        "status": "ok",
        "runs": runs,
        "init_ms": round(statistics.median(inits), 2) if inits else None,
        "first_response_ms": round(statistics.median(s["first_response_ms"] for s in samples), 2),
        "outcome": samples[-1]["outcome"],
        "peak_rss_mib": round(max(rss) / 1024, 1) if rss else None,
        "stray_requests": sorted({r for s in samples for r in s["stray_requests"]}),
    }


def event_for(name):
    path = HERE / "events" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else PROBE_EVENT


def main():
    target_dir, baseline_python, runs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    targets = [(name, name, [str(target_dir / "release" / name)]) for name in FUNCTIONS]
    for entry in filter(None, os.environ.get("COLD_START_EXTRA", "").split(",")):
        label, _, binary = entry.partition("=")
        targets.append((label, f"{label} (extra)", [binary]))
    targets.append(("python-bedrock-handler", "Python 3 + boto3 handler (baseline)",
                    [baseline_python, str(HERE / "python_handler" / "bootstrap.py")]))
    for name, label, command in targets:
        if not Path(command[-1]).exists():
            print(json.dumps({"kind": "cold-start", "function": label, "status": "not built",
                              "detail": f"{command[-1]} does not exist"}), flush=True)
            continue
        try:
            result = measure(name, label, command, event_for(name), runs)
        except (RuntimeError, OSError) as error:
            result = {"kind": "cold-start", "function": label, "status": "failed", "detail": str(error)}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
