"""The SPA on its own origin, as CloudFront serves it on AWS: the built files of `web/dist`, a `/config.json` made
from the local stack's resources (so one build serves every deployment), and index.html for every other path (the
app's routes). A plain `http.server` in a thread: it serves a few static files to one person's browser."""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from local_stack.config import LocalConfig

log = logging.getLogger("vehicle_platform.local.web")

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
CONFIG_PATH = "/config.json"
# The build names its assets by content hash: they never change, index.html always may.
IMMUTABLE_PREFIX = "/assets/"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
MISSING_BUILD = (
    "<!doctype html><meta charset=utf-8><title>Vehicle Platform</title>"
    "<h1>The web app is not built</h1><p>{dist} has no index.html: run <code>make install</code> "
    "(it runs <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>).</p>"
)


def runtime_config(config: LocalConfig, user_pool_id: str, user_pool_client_id: str) -> dict[str, Any]:
    """What the SPA reads at start (web/src/config.ts): the API, the WebSocket, the user pool on the emulator."""
    return {
        "apiUrl": f"{config.api_url}/graphql",
        "wsUrl": config.ws_url,
        "cognito": {
            "region": config.region,
            "userPoolId": user_pool_id,
            "clientId": user_pool_client_id,
            "endpoint": config.emulator_url,
        },
        # The app sends its documents by id, as deployed: the API serves them whether or not TRUSTED_DOCUMENTS_ONLY
        # refuses other text.
        "trustedDocuments": True,
        "environment": "local",
    }


def _content_type(path: Path) -> str:
    if path.suffix in {".js", ".mjs"}:
        return "text/javascript; charset=utf-8"
    if path.suffix == ".map":
        return "application/json"
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


class _Handler(BaseHTTPRequestHandler):
    server: _WebHttpServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == CONFIG_PATH:
            self._send(HTTPStatus.OK, "application/json", self.server.config_body, head=head, cache="no-store")
            return
        dist = self.server.dist
        index = dist / "index.html"
        if not index.is_file():
            body = MISSING_BUILD.format(dist=dist).encode()
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/html; charset=utf-8", body, head=head, cache="no-store")
            return
        target = (dist / path.lstrip("/")).resolve()
        if target.is_relative_to(dist) and target.is_file():
            cache = "public, max-age=31536000, immutable" if path.startswith(IMMUTABLE_PREFIX) else "no-cache"
            self._send(HTTPStatus.OK, _content_type(target), target.read_bytes(), head=head, cache=cache)
        elif path.startswith(IMMUTABLE_PREFIX):
            # A missing asset is a real 404 (an old page asking for a file a new build replaced), not the app.
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found", head=head, cache="no-store")
        else:
            # The SPA's own routes (/pedidos/ORD-1, /admin/veiculos...): index.html, and the app routes.
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", index.read_bytes(), head=head, cache="no-cache")

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, *, head: bool, cache: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class _WebHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], dist: Path, config_body: bytes) -> None:
        super().__init__(address, _Handler)
        self.dist = dist.resolve()
        self.config_body = config_body


class WebServer:
    """Serves the SPA while in its `with` block."""

    def __init__(self, host: str, port: int, runtime: dict[str, Any], dist: Path | None = None) -> None:
        dist = dist or Path(os.environ.get("WEB_DIST", WEB_DIST))
        self._server = _WebHttpServer((host, port), dist, json.dumps(runtime, indent=2).encode())
        self._thread = threading.Thread(target=self._server.serve_forever, name="web-server", daemon=True)

    @property
    def built(self) -> bool:
        return (self._server.dist / "index.html").is_file()

    def __enter__(self) -> WebServer:
        self._thread.start()
        if not self.built:
            log.warning("%s has no index.html: run `make install` to build the web app", self._server.dist)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
