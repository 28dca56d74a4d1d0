"""A minimal local stand-in for the Lambda Runtime API, for cold-start timing.

Serves exactly one invocation on 127.0.0.1:
  GET  /2018-06-01/runtime/invocation/next              -> the event (first call),
                                                           later calls block until shutdown
  POST /2018-06-01/runtime/invocation/<id>/response     -> records the response
  POST /2018-06-01/runtime/invocation/<id>/error        -> records the error
  POST /2018-06-01/runtime/init/error                   -> records an init failure
Anything else (for example an AWS SDK call that AWS_ENDPOINT_URL points here)
gets a fast 400 so that no request ever leaves the machine.

Timestamps are time.perf_counter_ns() values, comparable with the caller's.
"""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class QuietServer(ThreadingHTTPServer):
    """Connections reset by the killed runtime process are expected, not errors."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class RuntimeApi:
    """One-shot Runtime API server; use as a context manager."""

    def __init__(self, event, function_name):
        self.event = json.dumps(event).encode()
        self.function_name = function_name
        self.request_id = str(uuid.uuid4())
        self.first_next_ns = None
        self.outcome_ns = None
        self.outcome = None  # "response", "error" or "init-error"
        self.outcome_body = b""
        self.stray_requests = []
        self.done = threading.Event()
        self._served = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self):
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, outcome, body):
        with self._lock:
            if self.outcome is None:
                self.outcome_ns = time.perf_counter_ns()
                self.outcome = outcome
                self.outcome_body = body[:500]
        self.done.set()

    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self):
                if self.path != f"{PREFIX}/invocation/next":
                    api.stray_requests.append(f"GET {self.path}")
                    return self._reply(400, b'{"message":"not the Runtime API"}')
                with api._lock:
                    if api.first_next_ns is None:
                        api.first_next_ns = time.perf_counter_ns()
                    first = not api._served
                    api._served = True
                if not first:
                    # A warm runtime polls again: park it until the run ends.
                    api._stop.wait(60)
                    return self._reply(410, b"{}")
                deadline_ms = int(time.time() * 1000) + 30_000
                self._reply(200, api.event, {
                    "Lambda-Runtime-Aws-Request-Id": api.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn":
                        f"arn:aws:lambda:us-east-1:123456789012:function:{api.function_name}",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self):
                body = self._body()
                if self.path == f"{PREFIX}/invocation/{api.request_id}/response":
                    api._record("response", body)
                elif self.path == f"{PREFIX}/invocation/{api.request_id}/error":
                    api._record("error", body)
                elif self.path == f"{PREFIX}/init/error":
                    api._record("init-error", body)
                else:
                    api.stray_requests.append(f"POST {self.path}")
                    return self._reply(400, b'{"message":"not the Runtime API"}')
                self._reply(202, b'{"status":"OK"}')

        return Handler
