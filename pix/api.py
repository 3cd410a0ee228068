"""A client of a PSP's API Pix (immediate charges, received Pix, refunds) over urllib3.

Authentication is the standard's: an OAuth2 client-credentials token from the PSP's token endpoint (cached until
shortly before it expires) on a mutual-TLS connection with the receiver's client certificate. Failures come out as
two errors a caller can act on: `PixRefused`, the PSP's considered answer (4xx, an RFC 7807 problem); and
`PixUnavailable`, anything a later try may get past (5xx, 429, a timeout, a lost connection, a refused token). There
is no retry loop here: the saga's queue redelivers the step, and every write is idempotent by the id it names.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import urllib3

from domain.errors import ValidationFailed
from domain.values import Money
from pix.model import Cob, CobRequest, Devolucao, Pix, render_horario, render_valor
from pix.txid import END_TO_END_ID, REFUND_ID, TXID
from runtime.untrusted_json import UnacceptableJson, loads

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 10.0
# A token is renewed this long before the PSP says it expires, so that one sent at the last moment does not expire
# on the way; a token living less than twice that is renewed at half its life.
TOKEN_RENEWAL_MARGIN_SECONDS = 60.0
PAGE_SIZE = 100
# Far above any window the reconciliation reads (100,000 Pix at the default page size): more is a window to split.
MAX_PAGES = 1000

_Document = TypeVar("_Document")


@dataclass(frozen=True, slots=True)
class PixCredentials:
    """What the receiver's PSP issued: an OAuth2 client and, for mutual TLS, a client certificate and its key (PEM).
    `ca_pem` pins the PSP's CA instead of the system's trust store (a homologation PSP, the local one)."""

    client_id: str
    client_secret: str = field(repr=False)
    certificate_pem: str | None = None
    private_key_pem: str | None = field(default=None, repr=False)
    ca_pem: str | None = None


@dataclass(frozen=True, slots=True)
class Violacao:
    razao: str
    propriedade: str | None = None
    valor: str | None = None


class PixError(Exception):
    """A call to the API Pix did not succeed."""


class PixRefused(PixError):
    """The PSP refused the request (4xx): retrying the same request gets the same answer."""

    def __init__(
        self, status: int, title: str, detail: str | None = None, violacoes: tuple[Violacao, ...] = (), type_: str = ""
    ) -> None:
        super().__init__(f"{status} {title}" + (f": {detail}" if detail else ""))
        self.status = status
        self.title = title
        self.detail = detail
        self.violacoes = violacoes
        self.type = type_


class PixUnavailable(PixError):
    """The PSP could not answer now (5xx, 429, timeout, connection, a token refused): a later try may succeed."""


def _ssl_context(credentials: PixCredentials) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=credentials.ca_pem or None)
    if credentials.certificate_pem is None:
        return context
    if credentials.private_key_pem is None:
        raise ValueError("a client certificate needs its private key")
    # `load_cert_chain` reads files only: the PEMs (from Secrets Manager) live in a private directory for the load.
    with tempfile.TemporaryDirectory() as directory:
        certificate, key = os.path.join(directory, "client.pem"), os.path.join(directory, "client.key")
        for path, pem in ((certificate, credentials.certificate_pem), (key, credentials.private_key_pem)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(pem)
        context.load_cert_chain(certificate, key)
    return context


def _problem(status: int, body: bytes) -> PixRefused:
    """The RFC 7807 problem in `body`, as far as it is one; a PSP that answers otherwise still gets its status."""
    try:
        document = loads(body)
    except UnacceptableJson:
        document = None
    if not isinstance(document, dict):
        return PixRefused(status, f"HTTP {status}")
    raw_violations = document.get("violacoes")
    violacoes = tuple(
        Violacao(
            razao=str(item.get("razao", "")),
            propriedade=None if item.get("propriedade") is None else str(item["propriedade"]),
            valor=None if item.get("valor") is None else str(item["valor"]),
        )
        for item in (raw_violations if isinstance(raw_violations, list) else [])
        if isinstance(item, dict)
    )
    detail = document.get("detail")
    return PixRefused(
        status,
        str(document.get("title") or f"HTTP {status}"),
        None if detail is None else str(detail),
        violacoes,
        str(document.get("type", "")),
    )


def _read(reader: Callable[[object], _Document], document: object) -> _Document:
    """`document` read as the spec's type; a PSP answering 2xx with a malformed one is a fault on its side."""
    try:
        return reader(document)
    except ValidationFailed as error:
        raise PixUnavailable(f"the PSP answered a malformed document: {error.field}: {error.message}") from error


def _checked(value: str, pattern: Any, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {value!r} does not match {pattern.pattern}")
    return quote(value, safe="")


class PixApiClient:
    """One PSP's API Pix. `base_url` ends where the spec's paths begin (e.g. https://psp.example/api/v2); thread
    safe, and meant to live as long as the process (the token and the TLS connections are reused)."""

    def __init__(
        self,
        base_url: str,
        token_url: str,
        credentials: PixCredentials,
        *,
        scope: str | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._token_url = token_url
        self._credentials = credentials
        self._scope = scope
        self._monotonic = monotonic
        self._http = urllib3.PoolManager(
            ssl_context=_ssl_context(credentials),
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=False,
        )
        self._token_lock = threading.Lock()
        self._token: str | None = None
        self._token_renew_at = 0.0

    # Charges.

    def put_cob(self, txid: str, request: CobRequest) -> Cob:
        """Creates the charge `txid`; the PSP answers a repeated identical request with the same charge."""
        return _read(Cob.from_json, self._call("PUT", f"/cob/{_checked(txid, TXID, 'txid')}", request.to_json()))

    def get_cob(self, txid: str) -> Cob:
        return _read(Cob.from_json, self._call("GET", f"/cob/{_checked(txid, TXID, 'txid')}"))

    def patch_cob_removed(self, txid: str) -> Cob:
        """Removes the charge so that it can no longer be paid (a paid one is refused: 400)."""
        path = f"/cob/{_checked(txid, TXID, 'txid')}"
        return _read(Cob.from_json, self._call("PATCH", path, {"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"}))

    # Received Pix.

    def get_pix(self, end_to_end_id: str) -> Pix:
        path = f"/pix/{_checked(end_to_end_id, END_TO_END_ID, 'endToEndId')}"
        return _read(Pix.from_json, self._call("GET", path))

    def list_pix(self, inicio: datetime, fim: datetime, *, page_size: int = PAGE_SIZE) -> tuple[Pix, ...]:
        """Every Pix received from `inicio` to `fim`, all pages read, each once: pages are offsets, so a Pix the PSP
        records inside the window while the pages are read can shift one into the next page and be listed twice."""
        received: dict[str, Pix] = {}
        page = 0
        while True:
            query = {
                "inicio": render_horario(inicio),
                "fim": render_horario(fim),
                "paginacao.paginaAtual": str(page),
                "paginacao.itensPorPagina": str(page_size),
            }
            document = self._call("GET", "/pix?" + urlencode(query))
            items = document.get("pix", [])
            parametros = document.get("parametros")
            paginacao = parametros.get("paginacao") if isinstance(parametros, dict) else None
            pages = paginacao.get("quantidadeDePaginas") if isinstance(paginacao, dict) else None
            if not isinstance(items, list) or isinstance(pages, bool) or not isinstance(pages, int):
                raise PixUnavailable("the PSP's list of Pix has no pix array or no page count")
            if pages > MAX_PAGES:
                raise PixUnavailable(f"the PSP lists {pages} pages of Pix, over {MAX_PAGES}: read a shorter window")
            for pix in (_read(Pix.from_json, item) for item in items):
                received.setdefault(pix.end_to_end_id, pix)
            page += 1
            if page >= pages:
                return tuple(received.values())

    # Refunds.

    def put_devolucao(self, end_to_end_id: str, refund_id: str, valor: Money) -> Devolucao:
        """Asks for the refund `refund_id` of the Pix; the PSP answers a repeated request with the same refund."""
        path = self._refund_path(end_to_end_id, refund_id)
        return _read(Devolucao.from_json, self._call("PUT", path, {"valor": render_valor(valor)}))

    def get_devolucao(self, end_to_end_id: str, refund_id: str) -> Devolucao:
        return _read(Devolucao.from_json, self._call("GET", self._refund_path(end_to_end_id, refund_id)))

    @staticmethod
    def _refund_path(end_to_end_id: str, refund_id: str) -> str:
        e2eid = _checked(end_to_end_id, END_TO_END_ID, "endToEndId")
        return f"/pix/{e2eid}/devolucao/{_checked(refund_id, REFUND_ID, 'refund id')}"

    # The wire.

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON document the PSP answers with. A 401 renews the token once: the PSP may have revoked it early."""
        for attempt in (1, 2):
            response = self._send(method, self._base_url + path, body, self._bearer_token())
            if response.status == 401 and attempt == 1:
                self._forget_token()
                continue
            return self._document(response)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _send(self, method: str, url: str, body: Mapping[str, Any] | None, token: str) -> urllib3.BaseHTTPResponse:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        encoded = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            encoded = json.dumps(body).encode("utf-8")
        return self._request(method, url, headers=headers, body=encoded)

    def _request(
        self, method: str, url: str, *, headers: dict[str, str], body: bytes | None
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._http.request(method, url, headers=headers, body=body, redirect=False)
        except urllib3.exceptions.HTTPError as error:
            # Timeouts, refused or reset connections, TLS failures: nothing the PSP decided.
            raise PixUnavailable(f"{method} {url} failed: {error}") from error

    def _document(self, response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
        status = response.status
        if status == 401:
            raise PixUnavailable("the PSP refused the access token twice")
        if status == 429 or status >= 500:
            raise PixUnavailable(f"the PSP answered {status}: {_problem(status, response.data)}")
        if status >= 400:
            raise _problem(status, response.data)
        if not 200 <= status < 300:
            raise PixUnavailable(f"the PSP answered an unexpected {status}")
        try:
            document = loads(response.data)
        except UnacceptableJson as error:
            raise PixUnavailable(f"the PSP answered {status} with a body that is not JSON") from error
        if not isinstance(document, dict):
            raise PixUnavailable(f"the PSP answered {status} with a body that is not a JSON object")
        return document

    def _bearer_token(self) -> str:
        with self._token_lock:
            if self._token is not None and self._monotonic() < self._token_renew_at:
                return self._token
            requested_at = self._monotonic()
            token, lifetime = self._fetch_token()
            self._token = token
            self._token_renew_at = requested_at + lifetime - min(TOKEN_RENEWAL_MARGIN_SECONDS, lifetime / 2)
            return token

    def _forget_token(self) -> None:
        with self._token_lock:
            self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        pair = f"{self._credentials.client_id}:{self._credentials.client_secret}".encode()
        form = {"grant_type": "client_credentials"} | ({"scope": self._scope} if self._scope else {})
        response = self._request(
            "POST",
            self._token_url,
            headers={
                "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode(form).encode("ascii"),
        )
        if response.status != 200:
            # A refused client (401, 400 invalid_client) is also "try later": credentials are rotated out of band.
            raise PixUnavailable(f"the PSP's token endpoint answered {response.status}")
        try:
            document = loads(response.data)
        except UnacceptableJson as error:
            raise PixUnavailable("the PSP's token endpoint answered a body that is not JSON") from error
        token = document.get("access_token") if isinstance(document, dict) else None
        lifetime = document.get("expires_in", 0) if isinstance(document, dict) else 0
        if not isinstance(token, str) or not token or isinstance(lifetime, bool) or not isinstance(lifetime, int):
            raise PixUnavailable("the PSP's token endpoint answered no access_token or expires_in")
        return token, float(lifetime)
