"""Regions that do not answer: every request signed for such a region gets a 503, as from a
region-wide outage; tests switch it on and off over HTTP."""

import json
import re
import threading
from typing import Any, Callable

_down: set[str] = set()
_lock = threading.Lock()
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


def is_down(region: str) -> bool:
    with _lock:
        return region in _down


def reset() -> None:
    with _lock:
        _down.clear()


def wrap(app: Callable[..., Any], on_reset: Callable[[], None]) -> Callable[..., Any]:
    """WSGI middleware: /ghost-ha/outage/<region> (POST starts, DELETE ends an outage)."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/ghost-ha/outage/"):
            region = path.rsplit("/", 1)[-1]
            with _lock:
                if method == "POST":
                    _down.add(region)
                elif method == "DELETE":
                    _down.discard(region)
                body = json.dumps({"down": sorted(_down)}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/moto-api/reset" and method == "POST":
            on_reset()
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        if match and is_down(match.group(1)):
            body = json.dumps({"message": f"{match.group(1)} is down (simulated outage)"}).encode()
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceUnavailable")],
            )
            return [body]
        return app(environ, start_response)

    return middleware
