"""The API Pix's documents for immediate charges, typed: `Cob` (a charge), `Pix` (a payment received) and
`Devolucao` (a refund of one), read from and written to the spec's JSON (docs/reference/pix-api/openapi.yaml).

`from_json` is the way in for what a PSP sends: every field is checked and a fault raises `ValidationFailed` naming
its path (`pix[0].valor`). Amounts are the spec's strings ("123.45") as the platform's `Money`; times are aware
datetimes, written in RFC 3339 UTC with milliseconds as the spec's examples are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from domain.errors import ValidationFailed
from domain.values import Money
from pix.txid import END_TO_END_ID, RECEIVED_TXID, REFUND_ID, TXID

# The spec's `valor` pattern, anchored: up to 10 digits, a point, exactly 2 decimals.
_VALOR = re.compile(r"[0-9]{1,10}\.[0-9]{2}")
_CPF = re.compile(r"[0-9]{11}")
_CNPJ = re.compile(r"[0-9A-Z]{14}")
_RTR_ID = re.compile(r"[a-zA-Z0-9]{32}")
# The spec's limits on free text.
_MAX_CHAVE = 77
_MAX_NOME = 200
_MAX_SOLICITACAO = 140
_MAX_LOCATION = 77
_MAX_COPIA_E_COLA = 512


class CobStatus(StrEnum):
    ATIVA = "ATIVA"
    CONCLUIDA = "CONCLUIDA"
    REMOVIDA_PELO_USUARIO_RECEBEDOR = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    REMOVIDA_PELO_PSP = "REMOVIDA_PELO_PSP"


class DevolucaoStatus(StrEnum):
    EM_PROCESSAMENTO = "EM_PROCESSAMENTO"
    DEVOLVIDO = "DEVOLVIDO"
    NAO_REALIZADO = "NAO_REALIZADO"

    @property
    def is_final(self) -> bool:
        return self is not DevolucaoStatus.EM_PROCESSAMENTO


# Readers of one JSON value, each naming the path of what it refuses.


def _object(raw: object, path: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ValidationFailed(path, f"{path} must be an object")
    return raw


def _text(raw: object, path: str, *, max_length: int | None = None, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed(path, f"{path} must be a string")
    if max_length is not None and len(raw) > max_length:
        raise ValidationFailed(path, f"{path} must be at most {max_length} characters")
    if pattern is not None and not pattern.fullmatch(raw):
        raise ValidationFailed(path, f"{path} does not match {pattern.pattern}")
    return raw


def _optional_text(document: Mapping[str, Any], name: str, path: str, *, max_length: int) -> str | None:
    raw = document.get(name)
    return None if raw is None else _text(raw, f"{path}.{name}", max_length=max_length)


def _required(document: Mapping[str, Any], name: str, path: str) -> object:
    if name not in document or document[name] is None:
        raise ValidationFailed(f"{path}.{name}", f"{path}.{name} is required")
    return document[name]


def parse_valor(raw: object, path: str, *, allow_zero: bool = False) -> Money:
    """The spec's amount string ("123.45") as Money; a number, a comma or a third decimal is refused."""
    text = _text(raw, path, pattern=_VALOR)
    return Money.parse(Decimal(text), field=path, allow_zero=allow_zero)


def render_valor(amount: Money) -> str:
    return str(amount)


def parse_horario(raw: object, path: str) -> datetime:
    text = _text(raw, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationFailed(path, f"{path} must be an RFC 3339 date-time") from error
    if moment.tzinfo is None:
        raise ValidationFailed(path, f"{path} must state its time zone (e.g. Z)")
    return moment.astimezone(UTC)


def render_horario(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("an API Pix time must be aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _list(document: Mapping[str, Any], name: str, path: str) -> list[Any]:
    raw = document.get(name, [])
    if not isinstance(raw, list):
        raise ValidationFailed(f"{path}.{name}", f"{path}.{name} must be an array")
    return raw


@dataclass(frozen=True, slots=True)
class Devedor:
    """Who owes the charge: a person (CPF) or a company (CNPJ), with a name."""

    nome: str
    cpf: str | None = None
    cnpj: str | None = None

    def __post_init__(self) -> None:
        if (self.cpf is None) == (self.cnpj is None):
            raise ValueError("a devedor has either a CPF or a CNPJ")

    @classmethod
    def from_json(cls, raw: object, path: str = "devedor") -> Self:
        document = _object(raw, path)
        nome = _text(_required(document, "nome", path), f"{path}.nome", max_length=_MAX_NOME)
        has_cpf, has_cnpj = "cpf" in document, "cnpj" in document
        if has_cpf == has_cnpj:
            raise ValidationFailed(path, f"{path} must have either a cpf or a cnpj")
        if has_cpf:
            return cls(nome=nome, cpf=_text(document["cpf"], f"{path}.cpf", pattern=_CPF))
        return cls(nome=nome, cnpj=_text(document["cnpj"], f"{path}.cnpj", pattern=_CNPJ))

    def to_json(self) -> dict[str, str]:
        document = {"cpf": self.cpf} if self.cpf is not None else {"cnpj": str(self.cnpj)}
        return {**document, "nome": self.nome}


@dataclass(frozen=True, slots=True)
class CobRequest:
    """What `PUT /cob/{txid}` asks for (the spec's CobSolicitada, the subset the platform uses)."""

    expiracao: int
    valor: Money
    chave: str
    devedor: Devedor | None = None
    solicitacao_pagador: str | None = None

    @classmethod
    def from_json(cls, raw: object, path: str = "cob") -> Self:
        document = _object(raw, path)
        calendario = _object(_required(document, "calendario", path), f"{path}.calendario")
        expiracao = calendario.get("expiracao", 86400)
        if isinstance(expiracao, bool) or not isinstance(expiracao, int) or expiracao < 1:
            raise ValidationFailed(f"{path}.calendario.expiracao", f"{path}.calendario.expiracao must be seconds > 0")
        valor = _object(_required(document, "valor", path), f"{path}.valor")
        devedor = document.get("devedor")
        return cls(
            expiracao=expiracao,
            valor=parse_valor(_required(valor, "original", f"{path}.valor"), f"{path}.valor.original"),
            chave=_text(_required(document, "chave", path), f"{path}.chave", max_length=_MAX_CHAVE),
            devedor=None if devedor is None else Devedor.from_json(devedor, f"{path}.devedor"),
            solicitacao_pagador=_optional_text(document, "solicitacaoPagador", path, max_length=_MAX_SOLICITACAO),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "calendario": {"expiracao": self.expiracao},
            "valor": {"original": render_valor(self.valor)},
            "chave": self.chave,
        }
        if self.devedor is not None:
            document["devedor"] = self.devedor.to_json()
        if self.solicitacao_pagador is not None:
            document["solicitacaoPagador"] = self.solicitacao_pagador
        return document


@dataclass(frozen=True, slots=True)
class Devolucao:
    """A refund of a received Pix. `liquidacao` is when it settled (DEVOLVIDO); `motivo` says why it did not."""

    id: str
    rtr_id: str
    valor: Money
    status: DevolucaoStatus
    solicitacao: datetime
    liquidacao: datetime | None = None
    motivo: str | None = None

    @classmethod
    def from_json(cls, raw: object, path: str = "devolucao") -> Self:
        document = _object(raw, path)
        status_text = _text(_required(document, "status", path), f"{path}.status")
        try:
            status = DevolucaoStatus(status_text)
        except ValueError as error:
            raise ValidationFailed(f"{path}.status", f"{path}.status {status_text!r} is not a refund status") from error
        horario = _object(_required(document, "horario", path), f"{path}.horario")
        solicitacao = _required(horario, "solicitacao", f"{path}.horario")
        liquidacao = horario.get("liquidacao")
        return cls(
            id=_text(_required(document, "id", path), f"{path}.id", pattern=REFUND_ID),
            rtr_id=_text(_required(document, "rtrId", path), f"{path}.rtrId", pattern=_RTR_ID),
            valor=parse_valor(_required(document, "valor", path), f"{path}.valor"),
            status=status,
            solicitacao=parse_horario(solicitacao, f"{path}.horario.solicitacao"),
            liquidacao=None if liquidacao is None else parse_horario(liquidacao, f"{path}.horario.liquidacao"),
            motivo=_optional_text(document, "motivo", path, max_length=_MAX_SOLICITACAO),
        )

    def to_json(self) -> dict[str, Any]:
        horario = {"solicitacao": render_horario(self.solicitacao)}
        if self.liquidacao is not None:
            horario["liquidacao"] = render_horario(self.liquidacao)
        document: dict[str, Any] = {
            "id": self.id,
            "rtrId": self.rtr_id,
            "valor": render_valor(self.valor),
            "horario": horario,
            "status": self.status.value,
        }
        if self.motivo is not None:
            document["motivo"] = self.motivo
        return document


@dataclass(frozen=True, slots=True)
class Pix:
    """A Pix received. `txid` names the charge it paid (None for a Pix sent to the key without a charge)."""

    end_to_end_id: str
    valor: Money
    horario: datetime
    txid: str | None = None
    chave: str | None = None
    info_pagador: str | None = None
    devolucoes: tuple[Devolucao, ...] = ()

    @classmethod
    def from_json(cls, raw: object, path: str = "pix") -> Self:
        document = _object(raw, path)
        txid = document.get("txid")
        return cls(
            end_to_end_id=_text(_required(document, "endToEndId", path), f"{path}.endToEndId", pattern=END_TO_END_ID),
            valor=parse_valor(_required(document, "valor", path), f"{path}.valor"),
            horario=parse_horario(_required(document, "horario", path), f"{path}.horario"),
            txid=None if txid is None else _text(txid, f"{path}.txid", pattern=RECEIVED_TXID),
            chave=_optional_text(document, "chave", path, max_length=_MAX_CHAVE),
            info_pagador=_optional_text(document, "infoPagador", path, max_length=_MAX_SOLICITACAO),
            devolucoes=tuple(
                Devolucao.from_json(item, f"{path}.devolucoes[{index}]")
                for index, item in enumerate(_list(document, "devolucoes", path))
            ),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "endToEndId": self.end_to_end_id,
            "valor": render_valor(self.valor),
            "horario": render_horario(self.horario),
        }
        if self.txid is not None:
            document["txid"] = self.txid
        if self.chave is not None:
            document["chave"] = self.chave
        if self.info_pagador is not None:
            document["infoPagador"] = self.info_pagador
        if self.devolucoes:
            document["devolucoes"] = [devolucao.to_json() for devolucao in self.devolucoes]
        return document


@dataclass(frozen=True, slots=True)
class Cob:
    """An immediate charge as the PSP holds it (the spec's CobCompleta). `expiracao` counts seconds from `criacao`;
    `location` and `pix_copia_e_cola` are what the payer is shown; `pix` lists the payments it received."""

    txid: str
    revisao: int
    status: CobStatus
    criacao: datetime
    expiracao: int
    valor: Money
    chave: str
    devedor: Devedor | None = None
    location: str | None = None
    pix_copia_e_cola: str | None = None
    solicitacao_pagador: str | None = None
    pix: tuple[Pix, ...] = field(default=())

    @property
    def expires_at(self) -> datetime:
        return self.criacao + timedelta(seconds=self.expiracao)

    @classmethod
    def from_json(cls, raw: object, path: str = "cob") -> Self:
        document = _object(raw, path)
        status_text = _text(_required(document, "status", path), f"{path}.status")
        try:
            status = CobStatus(status_text)
        except ValueError as error:
            raise ValidationFailed(f"{path}.status", f"{path}.status {status_text!r} is not a charge status") from error
        calendario = _object(_required(document, "calendario", path), f"{path}.calendario")
        expiracao = _required(calendario, "expiracao", f"{path}.calendario")
        if isinstance(expiracao, bool) or not isinstance(expiracao, int) or expiracao < 1:
            raise ValidationFailed(f"{path}.calendario.expiracao", f"{path}.calendario.expiracao must be seconds > 0")
        revisao = _required(document, "revisao", path)
        if isinstance(revisao, bool) or not isinstance(revisao, int) or revisao < 0:
            raise ValidationFailed(f"{path}.revisao", f"{path}.revisao must be a whole number")
        valor = _object(_required(document, "valor", path), f"{path}.valor")
        devedor = document.get("devedor")
        return cls(
            txid=_text(_required(document, "txid", path), f"{path}.txid", pattern=TXID),
            revisao=revisao,
            status=status,
            criacao=parse_horario(_required(calendario, "criacao", f"{path}.calendario"), f"{path}.calendario.criacao"),
            expiracao=expiracao,
            valor=parse_valor(_required(valor, "original", f"{path}.valor"), f"{path}.valor.original"),
            chave=_text(_required(document, "chave", path), f"{path}.chave", max_length=_MAX_CHAVE),
            devedor=None if devedor is None else Devedor.from_json(devedor, f"{path}.devedor"),
            location=_optional_text(document, "location", path, max_length=_MAX_LOCATION),
            pix_copia_e_cola=_optional_text(document, "pixCopiaECola", path, max_length=_MAX_COPIA_E_COLA),
            solicitacao_pagador=_optional_text(document, "solicitacaoPagador", path, max_length=_MAX_SOLICITACAO),
            pix=tuple(
                Pix.from_json(item, f"{path}.pix[{index}]") for index, item in enumerate(_list(document, "pix", path))
            ),
        )

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "calendario": {"criacao": render_horario(self.criacao), "expiracao": self.expiracao},
            "txid": self.txid,
            "revisao": self.revisao,
            "status": self.status.value,
            "valor": {"original": render_valor(self.valor)},
            "chave": self.chave,
        }
        if self.devedor is not None:
            document["devedor"] = self.devedor.to_json()
        if self.location is not None:
            document["location"] = self.location
        if self.pix_copia_e_cola is not None:
            document["pixCopiaECola"] = self.pix_copia_e_cola
        if self.solicitacao_pagador is not None:
            document["solicitacaoPagador"] = self.solicitacao_pagador
        if self.pix:
            document["pix"] = [pix.to_json() for pix in self.pix]
        return document
