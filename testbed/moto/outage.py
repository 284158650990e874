"""Regions that do not answer: every request signed for such a region gets a 503, as from a
region-wide outage, or (hang mode) no answer for HANG_SECONDS first, as from a region whose
endpoints accept connections and then stall; tests switch it on and off over HTTP."""

import json
import re
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs

HANG_SECONDS = 20.0

_down: dict[str, str] = {}
# When each region's last outage ended (epoch seconds): a rebuild after it starts then.
_ended: dict[str, float] = {}
# When each region's current outage started.
_started: dict[str, float] = {}
_lock = threading.Lock()
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


def is_down(region: str) -> bool:
    with _lock:
        return region in _down


def ended_at(region: str) -> float:
    """When the region's last outage ended (0 when it never had one)."""
    with _lock:
        return _ended.get(region, 0.0)


def down_since(region: str) -> float | None:
    """When the region's current outage started; None while it answers."""
    with _lock:
        return _started.get(region) if region in _down else None


def _mode(region: str) -> str | None:
    with _lock:
        return _down.get(region)


def reset() -> None:
    with _lock:
        _down.clear()
        _ended.clear()
        _started.clear()


def wrap(app: Callable[..., Any], on_reset: Callable[[], None]) -> Callable[..., Any]:
    """WSGI middleware: /ghost-ha/outage/<region> (POST starts, ?mode=hang to stall; DELETE ends)."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/ghost-ha/outage/"):
            region = path.rsplit("/", 1)[-1]
            with _lock:
                if method == "POST":
                    mode = parse_qs(environ.get("QUERY_STRING", "")).get("mode", ["refuse"])[0]
                    if region not in _down:
                        _started[region] = time.time()
                    _down[region] = mode
                elif method == "DELETE":
                    if _down.pop(region, None) is not None:
                        _ended[region] = time.time()
                        _started.pop(region, None)
                body = json.dumps({"down": _down}).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        if path == "/moto-api/reset" and method == "POST":
            on_reset()
        match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        mode = _mode(match.group(1)) if match else None
        if mode == "hang":
            time.sleep(HANG_SECONDS)
        if mode is not None and match:
            body = json.dumps({"message": f"{match.group(1)} is down (simulated outage)"}).encode()
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceUnavailable")],
            )
            return [body]
        return app(environ, start_response)

    return middleware
