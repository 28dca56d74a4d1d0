"""A tiny Lambda runtime-interface loop for handler.py (what awslambdaric does,
minus its native HTTP client): import the handler (init), then poll
/invocation/next and post each result to .../response or .../error."""

import http.client
import json
import os
import sys
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
BASE = "/2018-06-01/runtime"


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn", "")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")


def post(connection, path, payload):
    body = json.dumps(payload).encode()
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    connection.getresponse().read()


def main():
    connection = http.client.HTTPConnection(API)
    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import handler  # noqa: PLC0415 - the import is the init phase being measured
    except Exception as error:  # noqa: BLE001 - report any init failure to the API
        post(connection, f"{BASE}/init/error", {"errorMessage": str(error), "errorType": type(error).__name__})
        raise
    while True:
        connection.request("GET", f"{BASE}/invocation/next")
        response = connection.getresponse()
        event = json.loads(response.read() or b"null")
        if response.status != 200:
            return
        context = Context(response.headers)
        try:
            result = handler.handler(event, context)
            post(connection, f"{BASE}/invocation/{context.aws_request_id}/response", result)
        except Exception as error:  # noqa: BLE001 - every handler error goes to the API
            post(connection, f"{BASE}/invocation/{context.aws_request_id}/error", {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exc().splitlines(),
            })


if __name__ == "__main__":
    main()
