"""GraphQL over HTTP: a JSON POST goes straight to `schema.execute`.

Strawberry's ASGI view does much more (GET queries, multipart uploads, batching, content negotiation) and costs
a tenth of a request's time doing it; the SPA and its API explorer only POST JSON. Locally, a browser opening the
endpoint is sent to that explorer.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import strawberry
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from domain.errors import DomainError, ValidationFailed
from graphql_api.context import RequestContext
from graphql_api.trusted_documents import TrustedDocuments, requested_id, trusted_documents
from graphql_api.wiring import Services
from runtime import untrusted_json
from runtime.settings import Settings

Headers = Sequence[tuple[bytes, bytes]]
JSON_HEADERS = [(b"content-type", b"application/json")]
GRAPHQL_RESPONSE = b"application/graphql-response+json"


def json_error(message: str, code: str = "VALIDATION", field: str | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code}
    if field is not None:
        extensions["field"] = field
    return {"errors": [{"message": message, "extensions": extensions}]}


async def send_json(send: Send, status: int, payload: object, headers: Headers = ()) -> None:
    """`payload` as JSON; `headers` may name another JSON media type than application/json."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    if not any(name == b"content-type" for name, _ in headers):
        headers = [*JSON_HEADERS, *headers]
    await send({"type": "http.response.start", "status": status, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    """An HTTP request's whole body, however many messages ASGI delivers it in."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class _Refused(Exception):
    """A request the endpoint will not run: it answers `status` with a GraphQL-shaped error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str = "VALIDATION",
        field: str | None = None,
        headers: Headers = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field = field
        self.headers = headers


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _authorization(scope: Scope) -> str | None:
    """The one Authorization header. Two of them (or, as API Gateway delivers repeated headers, one joined with a
    comma, which no bearer token contains) leave it unclear who is asking: no credential is picked over another."""
    values = [value for key, value in scope["headers"] if key == b"authorization"]
    if len(values) > 1 or (values and b"," in values[0]):
        raise _Refused(401, "send one Authorization header", code="UNAUTHENTICATED")
    return values[0].decode("latin-1") if values else None


def _asks_for_a_query(scope: Scope) -> bool:
    return any(name == "query" for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1")))


@dataclass(frozen=True, slots=True)
class _Request:
    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    document_id: str | None


class GraphQLOverHTTP:
    def __init__(
        self,
        schema: strawberry.Schema,
        settings: Settings,
        services: Services,
        trusted: TrustedDocuments | None = None,
    ) -> None:
        self._schema = schema
        self._services = services
        self._trusted = trusted if trusted is not None else trusted_documents()
        self._trusted_only = settings.trusted_documents_only
        # Locally a browser opening the endpoint is sent to the API explorer, GraphiQL bundled with the web app:
        # Strawberry's page loaded GraphiQL from a CDN and showed only "Loading..." on a machine without internet.
        self._explorer_page = _explorer_page(f"{settings.spa_origin}/admin/explorador") if settings.local_mode else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A GET that asks for a query is answered like any other method but POST: 405 (so it is on AWS, where the
        # route is POST only).
        if scope["method"] == "GET" and self._explorer_page is not None and not _asks_for_a_query(scope):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": self._explorer_page})
            return
        # GraphQL over HTTP: a client that accepts application/graphql-response+json learns from the status
        # whether the request was refused before execution; one that only knows application/json gets 200.
        media_type = GRAPHQL_RESPONSE if _accepts_graphql_response(scope) else b"application/json"
        headers = [(b"content-type", media_type)]
        try:
            status, payload = await self._execute(
                scope, receive, refused_status=400 if media_type == GRAPHQL_RESPONSE else 200
            )
        except _Refused as refusal:
            error = json_error(refusal.message, code=refusal.code, field=refusal.field)
            await send_json(send, refusal.status, error, [*headers, *refusal.headers])
            return
        await send_json(send, status, payload, headers)

    async def _execute(self, scope: Scope, receive: Receive, *, refused_status: int) -> tuple[int, dict[str, Any]]:
        if scope["method"] != "POST":
            raise _Refused(405, "send GraphQL requests as POST", headers=[(b"allow", b"POST")])
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Refused(415, "the body must be JSON (content-type: application/json)")
        request = await self._read_request(receive)
        context = RequestContext(
            request_id=scope.get("state", {}).get("request_id") or str(uuid.uuid4()),
            services=self._services,
            authorization=_authorization(scope),
        )
        try:
            query, context.trusted_document = self._trusted.resolve(
                request.query, request.document_id, trusted_only=self._trusted_only, is_staff=lambda: _is_staff(context)
            )
        except DomainError as error:
            raise _Refused(400, error.message, code=error.code, field=getattr(error, "field", None)) from error
        try:
            result = await self._schema.execute(
                query,
                variable_values=request.variables,
                context_value=context,
                operation_name=request.operation_name,
                allowed_operation_types={OperationType.QUERY, OperationType.MUTATION},
            )
        except InvalidOperationTypeError as error:
            raise _Refused(400, "subscriptions are served over the WebSocket, not HTTP") from error
        except CannotGetOperationTypeError as error:
            raise _Refused(400, "say which operation to run", field="operationName") from error
        except MissingQueryError as error:
            raise _Refused(400, "the body has no query", field="query") from error
        errors = [error.formatted for error in result.errors or []]
        # Refused before execution (parsing, validation, variables): no error has a path, and there is no data.
        if result.data is None and errors and all("path" not in error for error in errors):
            return refused_status, {"errors": errors}
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = errors
        return 200, payload

    @staticmethod
    async def _read_request(receive: Receive) -> _Request:
        try:
            body = untrusted_json.loads(await read_body(receive))
        except untrusted_json.UnacceptableJson as error:
            raise _Refused(400, str(error), field="body") from error
        if not isinstance(body, dict):
            raise _Refused(400, "the body must be a JSON object with a query", field="body")
        query, variables, operation_name = body.get("query"), body.get("variables"), body.get("operationName")
        try:
            document_id = requested_id(body)
        except ValidationFailed as error:
            raise _Refused(400, error.message, field=error.field) from error
        if query is not None and (not isinstance(query, str) or not query.strip()):
            raise _Refused(400, "the body has no query", field="query")
        if query is None and document_id is None:
            raise _Refused(400, "the body has no query", field="query")
        if variables is not None and not isinstance(variables, dict):
            raise _Refused(400, "variables must be a JSON object", field="variables")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _Refused(400, "operationName must be a string", field="operationName")
        return _Request(query, variables, operation_name, document_id)


def _explorer_page(url: str) -> bytes:
    link = html.escape(url, quote=True)
    return (
        "<!doctype html><meta charset=utf-8><title>Vehicle Platform API</title>"
        f'<meta http-equiv="refresh" content="0; url={link}">'
        "<p>This is the GraphQL endpoint: POST queries to it. The API explorer (GraphiQL, with the schema's docs) "
        f'is part of the web app: <a href="{link}">{link}</a> (staff sign-in).</p>'
    ).encode()


def _accepts_graphql_response(scope: Scope) -> bool:
    accept = _header(scope, b"accept") or ""
    return any(part.split(";")[0].strip() == GRAPHQL_RESPONSE.decode() for part in accept.split(","))


def _is_staff(context: RequestContext) -> bool:
    try:
        viewer = context.viewer()
    except DomainError:
        return False
    return viewer is not None and viewer.is_admin
