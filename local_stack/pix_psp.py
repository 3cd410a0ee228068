"""The local PSP: the subset of the Banco Central's API Pix the platform uses, served on its own port.

It answers as a receiving PSP does (docs/reference/pix-api/openapi.yaml): an OAuth2 client-credentials token
endpoint; under /api/v2 the immediate charges (`PUT`/`GET`/`PATCH /cob/{txid}`), the Pix received (`GET /pix`,
`GET /pix/{e2eid}`) and their refunds (`PUT`/`GET /pix/{e2eid}/devolucao/{id}`), errors as RFC 7807 problems. Charges
carry valid dynamic BR Codes and expire at `calendario.expiracao`; refunds settle shortly after they are asked for.

What a payer's bank would do is under /_local/ (for the CLI and the tests): pay a charge by its BR Code or txid, list
what the PSP holds, and switch faults on (the API answering 503 or slowly, refunds ending NAO_REALIZADO, tokens
revoked).
After a payment or a settled refund the PSP posts `{"pix": [...]}` to `{webhook_url}/pix` with the deployment's
secret header, best effort, as real PSPs do: a lost call is what the reconciliation is for.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import math
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import urllib3
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from domain.errors import ValidationFailed
from domain.values import Money
from pix.brcode import decode_brcode, dynamic_brcode
from pix.model import (
    Cob,
    CobRequest,
    CobStatus,
    Devolucao,
    DevolucaoStatus,
    Pix,
    parse_horario,
    parse_valor,
    render_horario,
)
from pix.txid import END_TO_END_ID, REFUND_ID, TXID
from pix.webhook import WEBHOOK_SECRET_HEADER
from runtime.untrusted_json import UnacceptableJson, loads

log = logging.getLogger(__name__)

API_PREFIX = "/api/v2"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
ADMIN_PREFIX = "/_local"
_PROBLEM_BASE = "https://pix.bcb.gov.br/api/v2/error/"
_PROBLEM_TYPE = "application/problem+json"
# The ISPB the local PSP's end-to-end and return ids carry (any 8 digits; this one is no institution's).
_ISPB = "99999999"
_ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class PspSettings:
    """The receiver the local PSP serves (one OAuth2 client, one Pix key) and where it sends notifications."""

    client_id: str = "vehicle-platform"
    client_secret: str = field(default="local-secret", repr=False)
    chave: str = "pix@vehicle-platform.example"
    merchant_name: str = "Vehicle Platform"
    merchant_city: str = "Sao Paulo"
    # Where the charges' payloads would be served (the BR Code's location): nobody fetches it locally.
    location_prefix: str = "pix-psp.localhost/qr/v2"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    token_lifetime_seconds: int = 3600
    refund_settle_seconds: float = 0.2


class PspProblem(Exception):
    """An RFC 7807 answer of the API."""

    def __init__(self, status: int, name: str, title: str, detail: str, violacoes: list[dict[str, str]] | None = None):
        super().__init__(detail)
        self.status = status
        self.document: dict[str, Any] = {
            "type": _PROBLEM_BASE + name,
            "title": title,
            "status": status,
            "detail": detail,
        }
        if violacoes:
            self.document["violacoes"] = violacoes


def _invalid(name: str, title: str, error: ValidationFailed) -> PspProblem:
    return PspProblem(400, name, title, error.message, [{"razao": error.message, "propriedade": error.field}])


def _not_found(what: str) -> PspProblem:
    return PspProblem(404, "NaoEncontrado", "Não Encontrado", f"{what} não encontrado(a).")


def _random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


@dataclass(slots=True)
class _Charge:
    cob: Cob
    request: CobRequest
    location_id: str


@dataclass(slots=True)
class _Faults:
    unavailable_calls: int = 0
    refunds_fail: bool = False
    # The next `slow_calls` API calls answer only after `slow_seconds` (a PSP under load).
    slow_calls: int = 0
    slow_seconds: float = 0.0


class LocalPsp:
    """The PSP's state and rules, thread safe; the HTTP layer (`app`) only translates."""

    def __init__(self, settings: PspSettings, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self._now = now
        self._lock = threading.RLock()
        self._charges: dict[str, _Charge] = {}
        self._pix: dict[str, Pix] = {}
        self._tokens: dict[str, datetime] = {}
        self._faults = _Faults()
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2.0, read=5.0), retries=False)

    # OAuth2.

    def issue_token(self, authorization: str | None) -> dict[str, Any]:
        expected = f"{self.settings.client_id}:{self.settings.client_secret}"
        presented = ""
        if authorization and authorization.lower().startswith("basic "):
            try:
                presented = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
            except ValueError:
                presented = ""
        if not hmac.compare_digest(presented.encode(), expected.encode()):
            raise PspProblem(401, "AcessoNegado", "Acesso Negado", "invalid_client")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._now() + timedelta(seconds=self.settings.token_lifetime_seconds)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.settings.token_lifetime_seconds,
            "scope": "cob.write cob.read pix.write pix.read",
        }

    def check_token(self, authorization: str | None) -> None:
        token = authorization[7:] if authorization and authorization.lower().startswith("bearer ") else ""
        with self._lock:
            expires_at = self._tokens.get(token)
            if expires_at is None or expires_at <= self._now():
                raise PspProblem(401, "AcessoNegado", "Acesso Negado", "The access token is missing or expired.")
            if self._faults.unavailable_calls > 0:
                self._faults.unavailable_calls -= 1
                raise PspProblem(503, "ServicoIndisponivel", "Serviço Indisponível", "Serviço indisponível (fault).")

    # Faults.

    def set_faults(
        self,
        *,
        unavailable_calls: int | None,
        refunds_fail: bool | None,
        revoke_tokens: bool,
        slow_calls: int | None = None,
        slow_seconds: float | None = None,
    ) -> None:
        with self._lock:
            if unavailable_calls is not None:
                self._faults.unavailable_calls = unavailable_calls
            if slow_calls is not None:
                self._faults.slow_calls = slow_calls
            if slow_seconds is not None:
                self._faults.slow_seconds = slow_seconds
            if refunds_fail is not None:
                self._faults.refunds_fail = refunds_fail
            if revoke_tokens:
                self._tokens.clear()

    def delay_for_call(self) -> float:
        """How long this API call waits before it is answered (0 but under the slow fault)."""
        with self._lock:
            if self._faults.slow_calls <= 0:
                return 0.0
            self._faults.slow_calls -= 1
            return self._faults.slow_seconds

    # Charges.

    def _current(self, txid: str) -> _Charge:
        """The charge, expired by the PSP if its time has passed."""
        charge = self._charges.get(txid)
        if charge is None:
            raise _not_found("Cobrança")
        if charge.cob.status is CobStatus.ATIVA and self._now() >= charge.cob.expires_at:
            charge.cob = replace(charge.cob, status=CobStatus.REMOVIDA_PELO_PSP)
        return charge

    def put_cob(self, txid: str, body: object) -> tuple[Cob, bool]:
        """The charge and whether it was created now (False: the same request again)."""
        if not TXID.fullmatch(txid):
            raise PspProblem(
                400, "CobOperacaoInvalida", "Cobrança inválida.", "O txid não respeita o schema.",
                [{"razao": "txid must be 26 to 35 letters and digits", "propriedade": "txid"}],
            )  # fmt: skip
        try:
            request = CobRequest.from_json(body)
        except ValidationFailed as error:
            raise _invalid("CobOperacaoInvalida", "Cobrança inválida.", error) from error
        if request.chave != self.settings.chave:
            raise PspProblem(
                400, "CobOperacaoInvalida", "Cobrança inválida.", "A chave não pertence ao usuário recebedor.",
                [{"razao": "the key is not the receiver's", "propriedade": "cob.chave"}],
            )  # fmt: skip
        with self._lock:
            existing = self._charges.get(txid)
            if existing is not None:
                if existing.request != request:
                    raise PspProblem(
                        400, "CobOperacaoInvalida", "Cobrança inválida.",
                        "Já existe uma cobrança com este txid e outro conteúdo.",
                        [{"razao": "the txid is taken by another charge", "propriedade": "txid"}],
                    )  # fmt: skip
                return self._current(txid).cob, False
            location_id = _random_alphanumeric(32)
            location = f"{self.settings.location_prefix}/{location_id}"
            cob = Cob(
                txid=txid,
                revisao=0,
                status=CobStatus.ATIVA,
                criacao=self._now(),
                expiracao=request.expiracao,
                valor=request.valor,
                chave=request.chave,
                devedor=request.devedor,
                location=location,
                pix_copia_e_cola=dynamic_brcode(
                    location,
                    merchant_name=self.settings.merchant_name,
                    merchant_city=self.settings.merchant_city,
                    amount=request.valor,
                ),
                solicitacao_pagador=request.solicitacao_pagador,
            )
            self._charges[txid] = _Charge(cob, request, location_id)
            return cob, True

    def get_cob(self, txid: str) -> Cob:
        with self._lock:
            return self._current(txid).cob

    def patch_cob(self, txid: str, body: object) -> Cob:
        if not isinstance(body, dict) or body != {"status": CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR.value}:
            raise PspProblem(
                400, "CobOperacaoInvalida", "Operação inválida.",
                "Esta PSP local só revisa uma cobrança para removê-la (status REMOVIDA_PELO_USUARIO_RECEBEDOR).",
                [{"razao": "only the removal is supported", "propriedade": "cob.status"}],
            )  # fmt: skip
        with self._lock:
            charge = self._current(txid)
            status = charge.cob.status
            if status is CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR:
                return charge.cob
            if status is not CobStatus.ATIVA:
                raise PspProblem(
                    400, "CobOperacaoInvalida", "Operação inválida.", f"A cobrança está {status.value}.",
                    [{"razao": f"the charge is {status.value}", "propriedade": "cob.status"}],
                )  # fmt: skip
            charge.cob = replace(
                charge.cob, status=CobStatus.REMOVIDA_PELO_USUARIO_RECEBEDOR, revisao=charge.cob.revisao + 1
            )
            return charge.cob

    def charges(self) -> list[Cob]:
        with self._lock:
            return [self._current(txid).cob for txid in self._charges]

    # Payments.

    def pay(
        self,
        *,
        txid: str | None = None,
        brcode: str | None = None,
        amount: Money | None = None,
        even_if_inactive: bool = False,
        notify: bool = True,
    ) -> Pix:
        """A payer's bank paying a charge. `even_if_inactive` lets a payment race a removal or the expiry, as one
        sent a moment before can."""
        with self._lock:
            charge = self._charge_to_pay(txid, brcode)
            if charge.cob.status is not CobStatus.ATIVA and not even_if_inactive:
                raise PspProblem(
                    400, "CobOperacaoInvalida", "Cobrança não pagável.", f"A cobrança está {charge.cob.status.value}."
                )
            now = self._now()
            pix = Pix(
                end_to_end_id=f"E{_ISPB}{now:%Y%m%d%H%M}{_random_alphanumeric(11)}",
                valor=amount if amount is not None else charge.cob.valor,
                horario=now,
                txid=charge.cob.txid,
                chave=charge.cob.chave,
            )
            self._pix[pix.end_to_end_id] = pix
            status = CobStatus.CONCLUIDA if charge.cob.status is CobStatus.ATIVA else charge.cob.status
            charge.cob = replace(charge.cob, status=status, pix=(*charge.cob.pix, pix))
        if notify:
            self._notify(pix)
        return pix

    def _charge_to_pay(self, txid: str | None, brcode: str | None) -> _Charge:
        if brcode is not None:
            try:
                code = decode_brcode(brcode)
            except ValidationFailed as error:
                raise _invalid("CobOperacaoInvalida", "BR Code inválido.", error) from error
            for candidate in self._charges.values():
                if candidate.cob.location == code.location:
                    return self._current(candidate.cob.txid)
            raise _not_found("Cobrança do BR Code")
        if txid is None:
            raise PspProblem(400, "CobOperacaoInvalida", "Pagamento inválido.", "Informe o BR Code ou o txid.")
        return self._current(txid)

    def get_pix(self, end_to_end_id: str) -> Pix:
        with self._lock:
            pix = self._pix.get(end_to_end_id)
            if pix is None:
                raise _not_found("Pix")
            return pix

    def received(self, inicio: datetime | None = None, fim: datetime | None = None) -> list[Pix]:
        with self._lock:
            return [
                pix
                for pix in self._pix.values()
                if (inicio is None or pix.horario >= inicio) and (fim is None or pix.horario <= fim)
            ]

    # Refunds.

    def put_devolucao(self, end_to_end_id: str, refund_id: str, body: object) -> Devolucao:
        if not REFUND_ID.fullmatch(refund_id):
            raise PspProblem(
                400, "PixDevolucaoInvalida", "Devolução inválida.", "O id da devolução não respeita o schema.",
                [{"razao": "the refund id must be 1 to 35 letters and digits", "propriedade": "id"}],
            )  # fmt: skip
        try:
            valor = parse_valor(body.get("valor") if isinstance(body, dict) else None, "devolucao.valor")
        except ValidationFailed as error:
            raise _invalid("PixDevolucaoInvalida", "Devolução inválida.", error) from error
        with self._lock:
            pix = self.get_pix(end_to_end_id)
            existing = next((refund for refund in pix.devolucoes if refund.id == refund_id), None)
            if existing is not None:
                if existing.valor != valor:
                    raise PspProblem(
                        400, "PixDevolucaoInvalida", "Devolução inválida.",
                        "Já existe uma devolução com este id e outro valor.",
                        [{"razao": "the refund id is taken by another amount", "propriedade": "id"}],
                    )  # fmt: skip
                return existing
            refunded = sum(
                (r.valor for r in pix.devolucoes if r.status is not DevolucaoStatus.NAO_REALIZADO), Money.zero()
            )
            if pix.valor < refunded + valor:
                raise PspProblem(
                    400, "PixDevolucaoInvalida", "Devolução inválida.",
                    f"O valor excede o disponível para devolução ({pix.valor.amount - refunded.amount:.2f}).",
                    [{"razao": "the amount exceeds what is left to refund", "propriedade": "devolucao.valor"}],
                )  # fmt: skip
            now = self._now()
            refund = Devolucao(
                id=refund_id,
                rtr_id=f"D{_ISPB}{now:%Y%m%d%H%M}{_random_alphanumeric(11)}",
                valor=valor,
                status=DevolucaoStatus.EM_PROCESSAMENTO,
                solicitacao=now,
            )
            self._pix[end_to_end_id] = replace(pix, devolucoes=(*pix.devolucoes, refund))
            fails = self._faults.refunds_fail
        timer = threading.Timer(self.settings.refund_settle_seconds, self._settle, (end_to_end_id, refund_id, fails))
        timer.daemon = True
        timer.start()
        return refund

    def _settle(self, end_to_end_id: str, refund_id: str, fails: bool) -> None:
        with self._lock:
            pix = self._pix[end_to_end_id]
            settled = tuple(
                replace(
                    refund,
                    status=DevolucaoStatus.NAO_REALIZADO if fails else DevolucaoStatus.DEVOLVIDO,
                    liquidacao=None if fails else self._now(),
                    motivo="Devolução recusada pela PSP local (falha simulada)." if fails else None,
                )
                if refund.id == refund_id
                else refund
                for refund in pix.devolucoes
            )
            pix = replace(pix, devolucoes=settled)
            self._pix[end_to_end_id] = pix
        self._notify(pix)

    def get_devolucao(self, end_to_end_id: str, refund_id: str) -> Devolucao:
        with self._lock:
            pix = self.get_pix(end_to_end_id)
            refund = next((refund for refund in pix.devolucoes if refund.id == refund_id), None)
            if refund is None:
                raise _not_found("Devolução")
            return refund

    # The webhook.

    def _notify(self, pix: Pix) -> None:
        """Posts the Pix to the webhook from a thread of its own: the API call that caused it does not wait, and
        calls may arrive out of order, as a real PSP's do."""
        if self.settings.webhook_url is None:
            return
        url = self.settings.webhook_url.rstrip("/") + "/pix"
        thread = threading.Thread(target=self._post_webhook, args=(url, pix), name="pix-psp-webhook", daemon=True)
        thread.start()

    def _post_webhook(self, url: str, pix: Pix) -> None:
        headers = {"Content-Type": "application/json"}
        if self.settings.webhook_secret:
            headers[WEBHOOK_SECRET_HEADER] = self.settings.webhook_secret
        try:
            response = self._http.request(
                "POST", url, body=json.dumps({"pix": [pix.to_json()]}).encode(), headers=headers
            )
        except urllib3.exceptions.HTTPError as error:
            log.warning(
                "the Pix webhook %s failed: %s (the reconciliation will find %s)", url, error, pix.end_to_end_id
            )
            return
        if response.status >= 300:
            log.warning("the Pix webhook %s answered %d for %s", url, response.status, pix.end_to_end_id)


# The HTTP layer.


def _problem_response(problem: PspProblem) -> JSONResponse:
    return JSONResponse(problem.document, status_code=problem.status, media_type=_PROBLEM_TYPE)


async def _json_body(request: Request) -> object:
    try:
        return loads(await request.body())
    except UnacceptableJson as error:
        raise PspProblem(400, "RequisicaoInvalida", "Requisição inválida.", str(error)) from error


def _page_parameters(request: Request) -> tuple[datetime, datetime, int, int]:
    query = request.query_params
    try:
        inicio = parse_horario(query.get("inicio"), "inicio")
        fim = parse_horario(query.get("fim"), "fim")
    except ValidationFailed as error:
        raise _invalid("RequisicaoInvalida", "Requisição inválida.", error) from error
    try:
        page = int(query.get("paginacao.paginaAtual", "0"))
        size = int(query.get("paginacao.itensPorPagina", "100"))
    except ValueError as error:
        raise PspProblem(400, "RequisicaoInvalida", "Requisição inválida.", "A paginação deve ser numérica.") from error
    if page < 0 or not 1 <= size <= _MAX_PAGE_SIZE:
        raise PspProblem(400, "RequisicaoInvalida", "Requisição inválida.", "Paginação fora dos limites.")
    return inicio, fim, page, size


_Handler = Callable[[Request], Awaitable[Response]]


def _answering(handler: _Handler, check: Callable[[Request], None] | None = None) -> _Handler:
    """`handler` with its problems (and `check`'s) answered as RFC 7807 documents."""

    async def endpoint(request: Request) -> Response:
        try:
            if check is not None:
                check(request)
            return await handler(request)
        except PspProblem as problem:
            return _problem_response(problem)

    return endpoint


def create_app(psp: LocalPsp) -> Starlette:
    """The local PSP's ASGI app."""
    return Starlette(routes=[*_api_routes(psp), *_admin_routes(psp)])


def _api_routes(psp: LocalPsp) -> list[Route]:
    def api(handler: _Handler) -> _Handler:
        async def slowed(request: Request) -> Response:
            delay = psp.delay_for_call()
            if delay:
                await asyncio.sleep(delay)
            return await handler(request)

        return _answering(slowed, lambda request: psp.check_token(request.headers.get("authorization")))

    async def token(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        try:
            return JSONResponse(psp.issue_token(request.headers.get("authorization")))
        except PspProblem:
            return JSONResponse({"error": "invalid_client"}, status_code=401)

    async def put_cob(request: Request) -> Response:
        cob, _ = psp.put_cob(request.path_params["txid"], await _json_body(request))
        return JSONResponse(cob.to_json(), status_code=201)

    async def get_cob(request: Request) -> Response:
        return JSONResponse(psp.get_cob(request.path_params["txid"]).to_json())

    async def patch_cob(request: Request) -> Response:
        return JSONResponse(psp.patch_cob(request.path_params["txid"], await _json_body(request)).to_json())

    async def list_pix(request: Request) -> Response:
        inicio, fim, page, size = _page_parameters(request)
        received = sorted(psp.received(inicio, fim), key=lambda pix: pix.horario)
        pages = max(1, math.ceil(len(received) / size))
        return JSONResponse(
            {
                "parametros": {
                    "inicio": render_horario(inicio),
                    "fim": render_horario(fim),
                    "paginacao": {
                        "paginaAtual": page,
                        "itensPorPagina": size,
                        "quantidadeDePaginas": pages,
                        "quantidadeTotalDeItens": len(received),
                    },
                },
                "pix": [pix.to_json() for pix in received[page * size : (page + 1) * size]],
            }
        )

    async def get_pix(request: Request) -> Response:
        e2eid = request.path_params["e2eid"]
        if not END_TO_END_ID.fullmatch(e2eid):
            raise _not_found("Pix")
        return JSONResponse(psp.get_pix(e2eid).to_json())

    async def put_devolucao(request: Request) -> Response:
        path = request.path_params
        refund = psp.put_devolucao(path["e2eid"], path["id"], await _json_body(request))
        return JSONResponse(refund.to_json(), status_code=201)

    async def get_devolucao(request: Request) -> Response:
        path = request.path_params
        return JSONResponse(psp.get_devolucao(path["e2eid"], path["id"]).to_json())

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(API_PREFIX + "/cob/{txid}", api(put_cob), methods=["PUT"]),
        Route(API_PREFIX + "/cob/{txid}", api(get_cob), methods=["GET"]),
        Route(API_PREFIX + "/cob/{txid}", api(patch_cob), methods=["PATCH"]),
        Route(API_PREFIX + "/pix", api(list_pix), methods=["GET"]),
        Route(API_PREFIX + "/pix/{e2eid}", api(get_pix), methods=["GET"]),
        Route(API_PREFIX + "/pix/{e2eid}/devolucao/{id}", api(put_devolucao), methods=["PUT"]),
        Route(API_PREFIX + "/pix/{e2eid}/devolucao/{id}", api(get_devolucao), methods=["GET"]),
    ]


def _admin_routes(psp: LocalPsp) -> list[Route]:
    admin = _answering

    async def admin_pay(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise PspProblem(400, "RequisicaoInvalida", "Requisição inválida.", "The body must be an object.")
        if body.get("fail"):
            # The payer's bank refused it: nothing reaches the receiving PSP.
            return JSONResponse({"paid": False, "reason": "the payer's bank refused the payment"})
        amount = body.get("amount")
        try:
            valor = None if amount is None else parse_valor(amount, "amount")
        except ValidationFailed as error:
            raise _invalid("RequisicaoInvalida", "Requisição inválida.", error) from error
        pix = psp.pay(
            txid=body.get("txid"),
            brcode=body.get("brCode"),
            amount=valor,
            even_if_inactive=bool(body.get("evenIfInactive")),
            notify=body.get("webhook", True) is not False,
        )
        return JSONResponse({"paid": True, "pix": pix.to_json()})

    async def admin_charges(_request: Request) -> Response:
        return JSONResponse({"cobs": [cob.to_json() for cob in psp.charges()]})

    async def admin_pix(_request: Request) -> Response:
        return JSONResponse({"pix": [pix.to_json() for pix in psp.received()]})

    async def admin_refunds(_request: Request) -> Response:
        refunds = [
            {"endToEndId": pix.end_to_end_id, **refund.to_json()} for pix in psp.received() for refund in pix.devolucoes
        ]
        return JSONResponse({"devolucoes": refunds})

    async def admin_faults(request: Request) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise PspProblem(400, "RequisicaoInvalida", "Requisição inválida.", "The body must be an object.")
        unavailable = body.get("unavailableCalls")
        refunds_fail = body.get("refundsFail")
        slow_calls = body.get("slowCalls")
        slow_seconds = body.get("slowSeconds")
        psp.set_faults(
            unavailable_calls=unavailable if isinstance(unavailable, int) else None,
            refunds_fail=refunds_fail if isinstance(refunds_fail, bool) else None,
            revoke_tokens=body.get("revokeTokens") is True,
            slow_calls=slow_calls if isinstance(slow_calls, int) else None,
            slow_seconds=float(slow_seconds) if isinstance(slow_seconds, int | float) else None,
        )
        return Response(status_code=204)

    return [
        Route(ADMIN_PREFIX + "/pay", admin(admin_pay), methods=["POST"]),
        Route(ADMIN_PREFIX + "/charges", admin(admin_charges), methods=["GET"]),
        Route(ADMIN_PREFIX + "/pix", admin(admin_pix), methods=["GET"]),
        Route(ADMIN_PREFIX + "/refunds", admin(admin_refunds), methods=["GET"]),
        Route(ADMIN_PREFIX + "/faults", admin(admin_faults), methods=["POST"]),
    ]


@dataclass(frozen=True, slots=True)
class PspTls:
    """Files for TLS: the server's certificate and key and, to require client certificates, the CA that signs them."""

    certfile: str
    keyfile: str
    client_ca_file: str | None = None


class PspServer:
    """The local PSP served by uvicorn from a daemon thread (a context manager, or `start`/`stop`). Port 0 picks a
    free port, known from `port` at once (the socket is bound here). `app` replaces `create_app(psp)`, e.g. wrapped
    in a middleware that records the exchanges."""

    def __init__(
        self,
        psp: LocalPsp,
        host: str = "127.0.0.1",
        port: int = 8010,
        *,
        tls: PspTls | None = None,
        app: ASGIApp | None = None,
    ) -> None:
        self.psp = psp
        self.host = host
        self.tls = tls
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        options: dict[str, Any] = {"lifespan": "off", "access_log": False, "log_config": None}
        if tls is not None:
            options |= {"ssl_certfile": tls.certfile, "ssl_keyfile": tls.keyfile}
            if tls.client_ca_file is not None:
                options |= {"ssl_ca_certs": tls.client_ca_file, "ssl_cert_reqs": ssl.CERT_REQUIRED}
        self._server = uvicorn.Server(uvicorn.Config(app or create_app(psp), **options))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + API_PREFIX

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    def start(self, timeout: float = 10.0) -> None:
        """Serve from a daemon thread; returns once the server listens."""
        if self._thread is not None:
            raise RuntimeError("the local PSP is already running")
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name=f"pix-psp:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local PSP did not start on {self.host}:{self.port}; see the log")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> PspServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
