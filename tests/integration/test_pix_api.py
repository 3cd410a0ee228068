"""The API Pix client against the local PSP, every exchange checked against the Banco Central's OpenAPI.

Each request the client sends and each response the PSP answers under /api/v2 is recorded on the way through and
validated with openapi-core against docs/reference/pix-api/openapi.yaml. Outside the spec, by design: the OAuth2
token endpoint (RFC 6749) and 401 answers (RFC 6750), which the spec leaves to OAuth2.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import urllib3
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.values import Money
from local_stack.pix_psp import API_PREFIX, LocalPsp, PspServer, PspSettings, PspTls, create_app
from pix.api import PixApiClient, PixCredentials, PixRefused, PixUnavailable
from pix.brcode import decode_brcode
from pix.model import CobRequest, CobStatus, Devedor, DevolucaoStatus, Pix
from pix.txid import refund_id, txid_for_order
from pix.webhook import has_valid_secret, parse_webhook_body

pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

SPEC_PATH = Path(__file__).resolve().parents[2] / "docs" / "reference" / "pix-api" / "openapi.yaml"
SETTINGS = PspSettings(refund_settle_seconds=0.05, webhook_secret="webhook-s3cret")
CPF = "12345678909"
_PROBLEM = "application/problem+json"


def official_spec() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


def contract(api_url: str) -> OpenAPI:
    """The official document, served at `api_url`, with the two errata of API Pix 2.9.0 that no PSP could satisfy
    corrected (and nothing else):
    - CPF patterns are written as JavaScript regex literals ("/^\\d{11}$/"): as JSON Schema patterns they match no
      CPF at all, so every charge with a devedor would be invalid;
    - `PixConsultados` (the answer of GET /pix) requires `cobs`, a copy-paste of `CobsConsultadas`: its list is
      `pix`.
    The document also gives `expiracao` the string default "86400" for an integer, which the spec validator refuses:
    the check of the document itself is skipped, the exchanges are still validated."""
    spec = copy.deepcopy(official_spec())
    schemas = spec["components"]["schemas"]
    for schema in (schemas["PessoaFisica"], schemas["ParametrosConsultaPix"]):
        assert schema["properties"]["cpf"]["pattern"] == "/^\\d{11}$/"
        schema["properties"]["cpf"]["pattern"] = "^\\d{11}$"
    assert schemas["PixConsultados"]["required"] == ["parametros", "cobs"]
    schemas["PixConsultados"]["required"] = ["parametros", "pix"]
    spec["servers"] = [{"url": api_url}]
    # RFC 7807's media type is JSON, which openapi-core only knows by the plain name.
    config = Config(spec_validator_cls=None, extra_media_type_deserializers={_PROBLEM: json.loads})
    return OpenAPI.from_dict(spec, config=config)


def webhook_body_schema() -> dict[str, Any]:
    """The schema of the `listaPix` callback's body (`POST {webhookUrl}/pix`), with the components it refers to."""
    spec = official_spec()
    body = spec["components"]["requestBodies"]["WebhookPixBody"]["content"]["application/json"]["schema"]
    return {**body, "components": spec["components"]}


@dataclass
class Exchange:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    request_must_be_invalid: bool = False


class Recorder:
    """ASGI middleware keeping every exchange, to validate them after the test."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []
        self.sending_invalid_requests = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        exchange = Exchange(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            request_must_be_invalid=self.sending_invalid_requests,
        )
        self.exchanges.append(exchange)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                exchange.response_headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                exchange.response_body += message.get("body", b"")
            await send(message)

        await self.app(scope, replay, recording_send)

    def count(self, method: str, path: str) -> int:
        return sum(1 for e in self.exchanges if e.method == method and e.path == path)


def validate(api: OpenAPI, server_url: str, exchange: Exchange) -> None:
    args = {key: values[0] for key, values in parse_qs(exchange.query, keep_blank_values=True).items()}
    request = MockRequest(
        server_url,
        exchange.method.lower(),
        exchange.path,
        args=args,
        headers=exchange.headers,
        data=exchange.body or None,
        content_type=exchange.headers.get("content-type", "application/json"),
    )
    if exchange.request_must_be_invalid:
        with pytest.raises(Exception):  # noqa: B017, PT011 - any of openapi-core's validation errors
            api.validate_request(request)
    else:
        api.validate_request(request)
    response = MockResponse(
        exchange.response_body,
        status_code=exchange.status,
        headers=exchange.response_headers,
        content_type=exchange.response_headers.get("content-type", ""),
    )
    api.validate_response(request, response)


class Clock:
    """The PSP's clock: the real time, which a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.offset += delta


class WebhookReceiver:
    """The platform's side of the webhook: keeps each call's headers and body."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                calls.append(({**self.headers, "path": self.path}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/pix-psp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(
        self, e2eid: str, condition: Callable[[Pix], bool] = lambda _: True, timeout: float = 5.0
    ) -> tuple[dict[str, str], bytes, Pix]:
        """The first call notifying the Pix `e2eid` in a state that meets `condition` (calls of earlier tests, still
        on their way, are passed over)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in list(self.calls):
                for pix in parse_webhook_body(body):
                    if pix.end_to_end_id == e2eid and condition(pix):
                        return headers, body, pix
            time.sleep(0.01)
        raise AssertionError(f"no webhook call notified {e2eid}")


@dataclass
class Psp:
    psp: LocalPsp
    server: PspServer
    recorder: Recorder
    clock: Clock
    webhook: WebhookReceiver

    def client(self, *, secret: str = SETTINGS.client_secret, **options: Any) -> PixApiClient:
        credentials = PixCredentials(SETTINGS.client_id, secret)
        return PixApiClient(self.server.api_url, self.server.token_url, credentials, **options)

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        method = "GET" if body is None else "POST"
        data = None if body is None else json.dumps(body).encode()
        response = urllib3.request(method, f"{self.server.url}/_local{path}", body=data)
        assert response.status < 300, response.data
        return response.json() if response.data else None


@pytest.fixture(scope="module")
def running_psp() -> Iterator[Psp]:
    webhook = WebhookReceiver()
    clock = Clock()
    psp = LocalPsp(
        PspSettings(
            refund_settle_seconds=SETTINGS.refund_settle_seconds,
            webhook_secret=SETTINGS.webhook_secret,
            webhook_url=webhook.url,
        ),
        now=clock,
    )
    recorder = Recorder(create_app(psp))
    with PspServer(psp, port=0, app=recorder) as server:
        yield Psp(psp, server, recorder, clock, webhook)
    webhook.server.shutdown()


@pytest.fixture(scope="module")
def api(running_psp: Psp) -> OpenAPI:
    return contract(running_psp.server.api_url)


@pytest.fixture
def psp(running_psp: Psp, api: OpenAPI) -> Iterator[Psp]:
    """The running PSP; after the test, every API exchange it saw is validated against the official OpenAPI."""
    running_psp.recorder.exchanges.clear()
    running_psp.webhook.calls.clear()
    running_psp.psp.set_faults(unavailable_calls=0, refunds_fail=False, revoke_tokens=False)
    yield running_psp
    checked = [
        exchange
        for exchange in running_psp.recorder.exchanges
        if exchange.path.startswith(API_PREFIX) and exchange.status != 401
    ]
    for exchange in checked:
        validate(api, running_psp.server.url, exchange)


def charge(order: str, amount: str = "189900.00", **changes: Any) -> tuple[str, CobRequest]:
    request = CobRequest(
        expiracao=900,
        valor=Money.parse(amount),
        chave=SETTINGS.chave,
        devedor=Devedor(nome="Maria da Silva", cpf=CPF),
        solicitacao_pagador=f"Pedido {order}",
    )
    return txid_for_order(order), replace(request, **changes)


def test_a_charge_is_created_read_and_removed(psp: Psp) -> None:
    txid, request = charge("create-read-remove")
    client = psp.client()

    created = client.put_cob(txid, request)

    assert created.status is CobStatus.ATIVA
    assert created.txid == txid
    assert created.valor == request.valor
    assert created.devedor == request.devedor
    assert created.pix_copia_e_cola is not None
    code = decode_brcode(created.pix_copia_e_cola)
    assert code.location == created.location
    assert code.amount == request.valor
    assert client.get_cob(txid) == created

    removed = client.patch_cob_removed(txid)

    assert removed.status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR
    assert removed.revisao == 1
    assert client.patch_cob_removed(txid) == removed
    assert client.get_cob(txid).status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR


def test_the_same_put_finds_the_same_charge_and_a_different_one_is_refused(psp: Psp) -> None:
    txid, request = charge("idempotent-put")
    client = psp.client()
    first = client.put_cob(txid, request)

    assert client.put_cob(txid, request) == first
    assert psp.recorder.count("PUT", f"{API_PREFIX}/cob/{txid}") == 2

    _, other = charge("idempotent-put", amount="1.00")
    with pytest.raises(PixRefused) as refused:
        client.put_cob(txid, other)
    assert refused.value.status == 400
    assert [v.propriedade for v in refused.value.violacoes] == ["txid"]


def test_a_charge_to_another_key_is_refused_with_the_psps_problem(psp: Psp) -> None:
    txid, request = charge("other-key", chave="someone-else@example.com")

    with pytest.raises(PixRefused) as refused:
        psp.client().put_cob(txid, request)

    assert refused.value.status == 400
    assert refused.value.title == "Cobrança inválida."
    assert refused.value.type.endswith("/CobOperacaoInvalida")
    assert [v.propriedade for v in refused.value.violacoes] == ["cob.chave"]


def test_a_request_outside_the_schema_gets_a_problem_naming_the_field(psp: Psp) -> None:
    txid, request = charge("outside-schema", solicitacao_pagador="x" * 141)
    psp.recorder.sending_invalid_requests = True
    try:
        with pytest.raises(PixRefused) as refused:
            psp.client().put_cob(txid, request)
    finally:
        psp.recorder.sending_invalid_requests = False

    assert refused.value.status == 400
    assert [v.propriedade for v in refused.value.violacoes] == ["cob.solicitacaoPagador"]


def test_an_unknown_charge_is_a_404_refusal(psp: Psp) -> None:
    with pytest.raises(PixRefused) as refused:
        psp.client().get_cob(txid_for_order("never-created"))

    assert refused.value.status == 404


def test_a_503_is_unavailable_and_the_next_call_succeeds(psp: Psp) -> None:
    txid, request = charge("unavailable")
    client = psp.client()
    psp.admin("/faults", {"unavailableCalls": 1})

    with pytest.raises(PixUnavailable, match="503"):
        client.put_cob(txid, request)
    assert client.put_cob(txid, request).status is CobStatus.ATIVA


def test_a_psp_that_does_not_answer_is_unavailable(psp: Psp) -> None:
    client = PixApiClient(
        "http://127.0.0.1:9/api/v2", "http://127.0.0.1:9/oauth/token", PixCredentials("a", "b"), connect_timeout=0.5
    )

    with pytest.raises(PixUnavailable):
        client.get_cob(txid_for_order("nobody-home"))


def test_the_token_is_cached_until_shortly_before_it_expires(psp: Psp) -> None:
    now = [0.0]
    client = psp.client(monotonic=lambda: now[0])
    txid, request = charge("token-cache")

    client.put_cob(txid, request)
    client.get_cob(txid)
    assert psp.recorder.count("POST", "/oauth/token") == 1

    now[0] = SETTINGS.token_lifetime_seconds - 61.0
    client.get_cob(txid)
    assert psp.recorder.count("POST", "/oauth/token") == 1

    now[0] = SETTINGS.token_lifetime_seconds - 59.0
    client.get_cob(txid)
    assert psp.recorder.count("POST", "/oauth/token") == 2


def test_a_401_renews_the_token_once(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("token-revoked")
    client.put_cob(txid, request)
    psp.admin("/faults", {"revokeTokens": True})

    assert client.get_cob(txid).txid == txid

    assert psp.recorder.count("POST", "/oauth/token") == 2
    assert [e.status for e in psp.recorder.exchanges if e.method == "GET"] == [401, 200]


def test_a_refused_client_is_unavailable_not_refused(psp: Psp) -> None:
    with pytest.raises(PixUnavailable, match="token endpoint answered 401"):
        psp.client(secret="wrong").get_cob(txid_for_order("refused-client"))


def pay(psp: Psp, txid: str, **options: Any) -> dict[str, Any]:
    paid: dict[str, Any] = psp.admin("/pay", {"txid": txid, **options})["pix"]
    return paid


def test_received_pix_are_listed_page_by_page(psp: Psp) -> None:
    client = psp.client()
    inicio = psp.clock()
    paid = []
    for n in range(5):
        txid, request = charge(f"listed-{n}", amount=f"{n + 1}.00")
        client.put_cob(txid, request)
        paid.append(pay(psp, txid, webhook=False)["endToEndId"])
    fim = psp.clock() + timedelta(seconds=1)

    received = client.list_pix(inicio, fim, page_size=2)

    assert [pix.end_to_end_id for pix in received] == paid
    assert [str(pix.valor) for pix in received] == ["1.00", "2.00", "3.00", "4.00", "5.00"]
    assert psp.recorder.count("GET", f"{API_PREFIX}/pix") == 3
    assert client.list_pix(fim, fim + timedelta(hours=1)) == ()


def test_a_payment_by_brcode_is_notified_with_the_secret(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("paid-by-brcode")
    created = client.put_cob(txid, request)

    paid = psp.admin("/pay", {"brCode": created.pix_copia_e_cola})["pix"]

    headers, body, notified = psp.webhook.wait_for(paid["endToEndId"])
    assert headers["path"] == "/webhooks/pix-psp/pix"
    assert has_valid_secret(headers, SETTINGS.webhook_secret or "")
    OAS30Validator(webhook_body_schema()).validate(json.loads(body))
    assert notified.end_to_end_id == paid["endToEndId"]
    assert notified.txid == txid
    assert notified.valor == request.valor
    cob = client.get_cob(txid)
    assert cob.status is CobStatus.CONCLUIDA
    assert [pix.end_to_end_id for pix in cob.pix] == [paid["endToEndId"]]
    assert client.get_pix(paid["endToEndId"]) == notified


def test_a_paid_charge_cannot_be_removed(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("paid-then-removed")
    client.put_cob(txid, request)
    pay(psp, txid, webhook=False)

    with pytest.raises(PixRefused) as refused:
        client.patch_cob_removed(txid)
    assert refused.value.status == 400


def test_a_charge_expires_at_its_expiracao(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("expires")
    client.put_cob(txid, request)

    psp.clock.advance(timedelta(seconds=request.expiracao))

    assert client.get_cob(txid).status is CobStatus.REMOVIDA_PELO_PSP
    response = urllib3.request("POST", f"{psp.server.url}/_local/pay", body=json.dumps({"txid": txid}).encode())
    assert response.status == 400


def wait_for_refund(client: PixApiClient, e2eid: str, refund: str) -> DevolucaoStatus:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = client.get_devolucao(e2eid, refund).status
        if status.is_final:
            return status
        time.sleep(0.02)
    raise AssertionError("the refund did not settle")


def test_a_refund_is_idempotent_by_id_and_settles(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("refunded", amount="100.00")
    client.put_cob(txid, request)
    e2eid = pay(psp, txid, webhook=False)["endToEndId"]
    refund = refund_id(e2eid, 1)

    asked = client.put_devolucao(e2eid, refund, Money.parse("100.00"))
    again = client.put_devolucao(e2eid, refund, Money.parse("100.00"))

    assert asked.status is DevolucaoStatus.EM_PROCESSAMENTO
    assert again.rtr_id == asked.rtr_id
    assert wait_for_refund(client, e2eid, refund) is DevolucaoStatus.DEVOLVIDO
    assert [d.id for d in client.get_pix(e2eid).devolucoes] == [refund]
    _, body, notified = psp.webhook.wait_for(e2eid, lambda pix: bool(pix.devolucoes))
    OAS30Validator(webhook_body_schema()).validate(json.loads(body))
    assert notified.devolucoes[0].status is DevolucaoStatus.DEVOLVIDO
    with pytest.raises(PixRefused) as refused:
        client.put_devolucao(e2eid, refund_id(e2eid, 2), Money.parse("0.01"))
    assert refused.value.status == 400


def test_a_failed_refund_can_be_retried_under_the_next_id(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("refund-fails", amount="50.00")
    client.put_cob(txid, request)
    e2eid = pay(psp, txid, webhook=False)["endToEndId"]
    psp.admin("/faults", {"refundsFail": True})

    client.put_devolucao(e2eid, refund_id(e2eid, 1), Money.parse("50.00"))
    assert wait_for_refund(client, e2eid, refund_id(e2eid, 1)) is DevolucaoStatus.NAO_REALIZADO
    assert client.get_devolucao(e2eid, refund_id(e2eid, 1)).motivo

    psp.admin("/faults", {"refundsFail": False})
    client.put_devolucao(e2eid, refund_id(e2eid, 2), Money.parse("50.00"))
    assert wait_for_refund(client, e2eid, refund_id(e2eid, 2)) is DevolucaoStatus.DEVOLVIDO


def test_an_unknown_pix_cannot_be_refunded(psp: Psp) -> None:
    e2eid = "E" + "0" * 31
    with pytest.raises(PixRefused) as refused:
        psp.client().put_devolucao(e2eid, refund_id(e2eid, 1), Money.parse("1.00"))
    assert refused.value.status == 404


# Mutual TLS.


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    server_cert_pem: str
    server_key_pem: str
    client_cert_pem: str
    client_key_pem: str


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    **kind: Any,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer if issuer is not None else (name, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    if "server" in kind:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if "client" in kind:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def pki() -> Pki:
    ca_key, server_key, client_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    ca = _certificate("Throwaway test CA", ca_key, None)
    issuer = (ca.subject, ca_key)
    return Pki(
        ca_pem=_pem(ca),
        server_cert_pem=_pem(_certificate("127.0.0.1", server_key, issuer, server=True)),
        server_key_pem=_key_pem(server_key),
        client_cert_pem=_pem(_certificate("vehicle-platform", client_key, issuer, client=True)),
        client_key_pem=_key_pem(client_key),
    )


@pytest.fixture
def mtls_psp(pki: Pki, tmp_path: Path) -> Iterator[PspServer]:
    files = {}
    for name, pem in (("ca.pem", pki.ca_pem), ("server.pem", pki.server_cert_pem), ("server.key", pki.server_key_pem)):
        (tmp_path / name).write_text(pem)
        files[name] = str(tmp_path / name)
    tls = PspTls(certfile=files["server.pem"], keyfile=files["server.key"], client_ca_file=files["ca.pem"])
    with PspServer(LocalPsp(SETTINGS), port=0, tls=tls) as server:
        yield server


def test_with_mutual_tls_a_client_with_its_certificate_is_served(mtls_psp: PspServer, pki: Pki) -> None:
    credentials = PixCredentials(
        SETTINGS.client_id,
        SETTINGS.client_secret,
        certificate_pem=pki.client_cert_pem,
        private_key_pem=pki.client_key_pem,
        ca_pem=pki.ca_pem,
    )
    client = PixApiClient(mtls_psp.api_url, mtls_psp.token_url, credentials)
    txid, request = charge("mtls")

    assert client.put_cob(txid, request).status is CobStatus.ATIVA


def test_with_mutual_tls_a_client_without_a_certificate_is_refused(mtls_psp: PspServer, pki: Pki) -> None:
    credentials = PixCredentials(SETTINGS.client_id, SETTINGS.client_secret, ca_pem=pki.ca_pem)
    client = PixApiClient(mtls_psp.api_url, mtls_psp.token_url, credentials)

    with pytest.raises(PixUnavailable):
        client.get_cob(txid_for_order("mtls-without-certificate"))


def test_a_certificate_without_its_key_is_a_configuration_error(pki: Pki) -> None:
    with pytest.raises(ValueError, match="private key"):
        PixApiClient("https://x/api/v2", "https://x/oauth/token", PixCredentials("a", "b", certificate_pem=pki.ca_pem))


def test_a_payment_refused_by_the_payers_bank_leaves_the_charge_open(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("payer-bank-refuses")
    client.put_cob(txid, request)

    outcome = psp.admin("/pay", {"txid": txid, "fail": True})

    assert outcome == {"paid": False, "reason": "the payer's bank refused the payment"}
    assert client.get_cob(txid).status is CobStatus.ATIVA
    assert client.get_cob(txid).pix == ()


def test_a_payment_without_webhook_is_only_found_by_listing(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("no-webhook")
    client.put_cob(txid, request)
    inicio = psp.clock()

    paid = pay(psp, txid, webhook=False)

    time.sleep(0.2)
    assert not [body for _, body in psp.webhook.calls if paid["endToEndId"].encode() in body]
    received = client.list_pix(inicio, psp.clock() + timedelta(seconds=1))
    assert [pix.end_to_end_id for pix in received] == [paid["endToEndId"]]


def test_a_late_payment_reaches_a_removed_charge_when_it_races_the_removal(psp: Psp) -> None:
    client = psp.client()
    txid, request = charge("late-payment")
    client.put_cob(txid, request)
    client.patch_cob_removed(txid)

    paid = pay(psp, txid, evenIfInactive=True)

    cob = client.get_cob(txid)
    assert cob.status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR
    assert [pix.end_to_end_id for pix in cob.pix] == [paid["endToEndId"]]
    _, _, notified = psp.webhook.wait_for(paid["endToEndId"])
    assert notified.txid == txid
