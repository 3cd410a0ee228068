"""The API Pix client against a PSP that misbehaves in ways the local PSP does not: scripted answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest

from pix.api import PixApiClient, PixCredentials, PixRefused, PixUnavailable
from pix.txid import txid_for_order

TXID = txid_for_order("scripted")
TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 3600}


class ScriptedPsp:
    """Answers the token endpoint with TOKEN and each API call with the next scripted (status, body, type)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, bytes, str]] = []
        self.paths: list[str] = []
        psp = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/oauth/token":
                    status, body, kind = 200, json.dumps(TOKEN).encode(), "application/json"
                else:
                    psp.paths.append(self.path)
                    status, body, kind = psp.answers.pop(0)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_PATCH = _answer  # noqa: N815 - http.server's naming

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self) -> PixApiClient:
        return PixApiClient(self.url + "/api/v2", self.url + "/oauth/token", PixCredentials("id", "secret"))

    def answer(self, status: int, body: object, kind: str = "application/json") -> None:
        encoded = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers.append((status, encoded, kind))


@pytest.fixture
def scripted() -> Iterator[ScriptedPsp]:
    psp = ScriptedPsp()
    yield psp
    psp.server.shutdown()


def pix(n: int) -> dict[str, str]:
    return {"endToEndId": f"E{n:031d}", "txid": TXID, "valor": "1.00", "horario": "2026-01-01T12:00:00.000Z"}


def page(items: list[dict[str, str]], current: int, pages: int) -> dict[str, Any]:
    paginacao = {"paginaAtual": current, "itensPorPagina": 2, "quantidadeDePaginas": pages, "quantidadeTotalDeItens": 4}
    return {"parametros": {"inicio": "x", "fim": "y", "paginacao": paginacao}, "pix": items}


def test_a_pix_shifted_into_the_next_page_is_listed_once(scripted: ScriptedPsp) -> None:
    scripted.answer(200, page([pix(1), pix(2)], 0, 2))
    # A Pix recorded meanwhile pushed pix 2 onto the second page.
    scripted.answer(200, page([pix(2), pix(3)], 1, 2))

    listed = scripted.client().list_pix(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))

    assert [p.end_to_end_id[-1] for p in listed] == ["1", "2", "3"]
    assert [path.split("paginacao.paginaAtual=")[1][0] for path in scripted.paths] == ["0", "1"]


def test_a_list_too_long_to_read_is_refused(scripted: ScriptedPsp) -> None:
    scripted.answer(200, page([pix(1)], 0, 1001))

    with pytest.raises(PixUnavailable, match="shorter window"):
        scripted.client().list_pix(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (429, b"", "429"),
        (502, b"<html>bad gateway</html>", "502"),
        (200, b"not json", "not JSON"),
        (200, b"[]", "not a JSON object"),
        (200, json.dumps({"txid": TXID}).encode(), "malformed document"),
        (302, b"", "unexpected 302"),
    ],
)
def test_answers_a_retry_may_get_past_are_unavailable(
    scripted: ScriptedPsp, status: int, body: bytes, message: str
) -> None:
    scripted.answer(status, body)

    with pytest.raises(PixUnavailable, match=message):
        scripted.client().get_cob(TXID)


def test_a_refusal_that_is_not_a_problem_document_keeps_its_status(scripted: ScriptedPsp) -> None:
    scripted.answer(403, b"<html>forbidden</html>", "text/html")

    with pytest.raises(PixRefused) as refused:
        scripted.client().get_cob(TXID)

    assert refused.value.status == 403
    assert refused.value.title == "HTTP 403"
    assert refused.value.violacoes == ()


def test_a_second_401_in_a_row_is_unavailable(scripted: ScriptedPsp) -> None:
    scripted.answer(401, b"")
    scripted.answer(401, b"")

    with pytest.raises(PixUnavailable, match="refused the access token twice"):
        scripted.client().get_cob(TXID)


def test_identifiers_outside_the_spec_never_reach_the_wire(scripted: ScriptedPsp) -> None:
    with pytest.raises(ValueError, match="txid"):
        scripted.client().get_cob("../../oauth/token")
    assert scripted.paths == []
