"""Regions that do not answer: every request signed for such a region gets a 503, as from a
region-wide outage, or (hang mode) no answer for HANG_SECONDS first, as from a region whose
endpoints accept connections and then stall; tests switch it on and off over HTTP.

Partial failures too: operations that stall (POST /ghost-ha/stall?operation=REGEX, DELETE ends
them) get no answer for HANG_SECONDS, then a 503, and are not carried out, while every other call
is answered (reads work, writes hang). REGEX is matched in full against "service:Operation": the
SigV4 scope's service and the operation's name (X-Amz-Target's or the query protocol's Action),
or the HTTP method for REST services (s3:DELETE, backup:PUT)."""

import io
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
_stalled: list[re.Pattern[str]] = []
_lock = threading.Lock()
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")
_SERVICE = re.compile(r"Credential=[^/]+/\d{8}/[a-z0-9-]+/([a-z0-9-]+)/")


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


def operation_of(environ: dict[str, Any]) -> str:
    """"service:Operation" of a signed request; reads (and puts back) a query protocol's form body."""
    service_match = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = service_match.group(1) if service_match else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if action:
            return f"{service}:{action}"
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
    return f"{service}:{action or environ.get('REQUEST_METHOD', 'GET')}"


def stall_if_asked(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes] | None:
    """A stalled operation's answer (after HANG_SECONDS), or None to answer the request as usual."""
    with _lock:
        patterns = list(_stalled)
    if not patterns or "HTTP_AUTHORIZATION" not in environ:
        return None
    operation = operation_of(environ)
    if not any(pattern.fullmatch(operation) for pattern in patterns):
        return None
    time.sleep(HANG_SECONDS)
    start_response(
        "503 Service Unavailable",
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", "ServiceUnavailable")],
    )
    return [json.dumps({"message": f"{operation} stalled (simulated)"}).encode()]


def reset() -> None:
    with _lock:
        _stalled.clear()
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
        if path == "/ghost-ha/stall":
            with _lock:
                if method == "POST":
                    pattern = parse_qs(environ.get("QUERY_STRING", "")).get("operation", [""])[0]
                    try:
                        _stalled.append(re.compile(pattern))
                    except re.error as error:
                        start_response("400 Bad Request", [("Content-Type", "application/json")])
                        return [json.dumps({"message": f"operation: {error}"}).encode()]
                elif method == "DELETE":
                    _stalled.clear()
                body = json.dumps({"stalled": [p.pattern for p in _stalled]}).encode()
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
