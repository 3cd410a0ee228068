"""The WebSocket API's Lambda handlers: $connect, $default, $disconnect, and the connection_init deadline.

Each message is judged by the protocol state machine against the connection's stored state; this module does the
I/O around it: authenticate connection_init, check and store subscriptions, answer through @connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import boto3
import strawberry
from botocore.config import Config
from pynamodb.connection import Connection

from domain.errors import StaleVersion, Unauthenticated
from graphql_api.context import PushContext
from graphql_api.schema import build_schema
from graphql_api.wiring import Services, dynamo_services
from persistence.connections import ConnectionRecord, DynamoConnectionStore
from realtime.protocol import (
    INIT_TIMEOUT_SECONDS,
    SUBPROTOCOL,
    Closing,
    ConnectionState,
    Outcome,
    SubscribeRequest,
    acknowledge,
    error_message,
    init_timed_out,
    next_message,
    offers_subprotocol,
    receive,
    refuse,
)
from realtime.subscriptions import Refused, plan, render
from runtime.auth import Principal
from runtime.logs import service_logger
from runtime.settings import Settings, get_settings

logger = service_logger("realtime")
# How many posts to @connections the fan-out makes at once.
POST_CONCURRENCY = 64
# Two messages of one connection racing on its stored state: the loser reads again and decides again.
_ATTEMPTS = 3


class ManagementApi:
    """API Gateway's @connections: what a handler says to a client, and how it ends a connection."""

    def __init__(self, endpoint: str) -> None:
        # As many pooled connections as the fan-out posts in parallel: botocore's default of 10 would queue them.
        config = Config(max_pool_connections=POST_CONCURRENCY)
        self._client = boto3.client("apigatewaymanagementapi", endpoint_url=endpoint, config=config)

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        """False when the client is gone (410): its connection must be forgotten."""
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
        except self._client.exceptions.GoneException:
            return False
        return True

    def delete(self, connection_id: str) -> None:
        with contextlib.suppress(self._client.exceptions.GoneException):
            self._client.delete_connection(ConnectionId=connection_id)


@dataclass(frozen=True, slots=True)
class RealtimeServices:
    settings: Settings
    connections: DynamoConnectionStore
    api: Services
    schema: strawberry.Schema

    def management(self, event: dict[str, Any]) -> ManagementApi:
        context = event["requestContext"]
        endpoint = self.settings.realtime.management_url or f"https://{context['domainName']}/{context['stage']}"
        return management_api(endpoint)


@lru_cache(maxsize=8)
def management_api(endpoint: str) -> ManagementApi:
    return ManagementApi(endpoint)


@lru_cache(maxsize=1)
def realtime_services() -> RealtimeServices:
    settings = get_settings()
    return RealtimeServices(
        settings=settings,
        connections=DynamoConnectionStore(Connection(region=settings.region, host=settings.endpoint_url)),
        api=dynamo_services(settings),
        schema=build_schema(settings),
    )


def connect(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """Accept only clients that speak graphql-transport-ws, answering the subprotocol they offered."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    connection_id = event["requestContext"]["connectionId"]
    if not offers_subprotocol(headers.get("sec-websocket-protocol")):
        logger.info("refused a connection without the %s subprotocol", SUBPROTOCOL)
        return {"statusCode": 400, "body": f"this socket speaks {SUBPROTOCOL} only"}
    services = realtime_services()
    services.connections.open(connection_id)
    queue_url = services.settings.realtime.init_timeout_queue_url
    if queue_url:
        # Lambda keeps no timers: a delayed message comes back when connection_init is due.
        _sqs().send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"connectionId": connection_id, "requestContext": event["requestContext"]}),
            DelaySeconds=INIT_TIMEOUT_SECONDS,
        )
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}


@lru_cache(maxsize=1)
def _sqs() -> Any:
    return boto3.client("sqs")


@dataclass(frozen=True, slots=True)
class Decision:
    """One message's consequences: the state to store, what to send, and what changes with it."""

    state: ConnectionState
    replies: tuple[dict[str, Any], ...] = ()
    closing: Closing | None = None
    principal: Principal | None = None  # connection_init authenticated them
    subscribe: tuple[str, SubscribeRequest] | None = None  # (topic, request) to store
    unsubscribe: str | None = None
    # The order whose state a new orderStatusChanged or invoiceStatusChanged subscription gets first.
    first_push: str | None = None


def default(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    services = realtime_services()
    connection_id = event["requestContext"]["connectionId"]
    api = services.management(event)
    for attempt in range(_ATTEMPTS):
        record = services.connections.get(connection_id)
        if record is None:
            api.delete(connection_id)  # a connection we never opened, or already forgot
            return {"statusCode": 200}
        decision = _decide(services, record, event.get("body") or "")
        try:
            _store(services, record, decision)
            subscriber = decision.principal or record.principal
            break
        except StaleVersion:
            if attempt == _ATTEMPTS - 1:
                raise
    for reply in decision.replies:
        api.post(connection_id, reply)
    if decision.subscribe is not None and decision.first_push is not None:
        _push_current(
            services,
            api,
            connection_id=connection_id,
            subscribe=decision.subscribe,
            order_id=decision.first_push,
            subscriber=subscriber,
        )
    if decision.closing is not None:
        logger.info("closing %s: %d %s", connection_id, decision.closing.code, decision.closing.reason)
        api.post(connection_id, decision.closing.message())
        api.delete(connection_id)
    return {"statusCode": 200}


def _push_current(
    services: RealtimeServices,
    api: ManagementApi,
    *,
    connection_id: str,
    subscribe: tuple[str, SubscribeRequest],
    order_id: str,
    subscriber: Principal | None,
) -> None:
    """The order as it is now, read after the subscription was stored: a change made in between is either in this
    state or pushed by the fan-out, which found the subscription. Whichever claims the newer version sends it."""
    topic, request = subscribe
    # The topic's kind ("order", "invoice") is also the key its resolver reads the pushed state under.
    kind = topic.partition(":")[0]
    order = services.api.orders.get_order(order_id)
    if order is None or (kind == "invoice" and order.invoice is None):
        return  # no invoice yet: the first push is its issue
    if not services.connections.claim_delivery(topic, connection_id, request.id, order.version):
        return
    context = PushContext(
        request_id=f"first-push:{connection_id}",
        services=services.api,
        authorization=None,
        principal=subscriber,
        state={(kind, order.id): order},
    )
    api.post(connection_id, next_message(request.id, asyncio.run(render(services.schema, request, context))))


def _decide(services: RealtimeServices, record: ConnectionRecord, body: str) -> Decision:
    outcome = receive(record.state, body)
    if outcome.closing is not None:
        return Decision(state=outcome.state, closing=outcome.closing)
    if outcome.init_payload is not None:
        return _authenticate(services, outcome)
    if outcome.subscribe is not None:
        request = outcome.subscribe
        try:
            topic, first_push = _authorize(services, record, request)
        except Refused as refusal:
            # A subscription that cannot start is an error message; the connection goes on.
            state = replace(outcome.state, subscriptions=outcome.state.subscriptions - {request.id})
            return Decision(state=state, replies=(error_message(request.id, refusal.errors),))
        return Decision(state=outcome.state, subscribe=(topic, request), first_push=first_push)
    return Decision(state=outcome.state, replies=outcome.replies, unsubscribe=outcome.complete)


def _authenticate(services: RealtimeServices, outcome: Outcome) -> Decision:
    """connection_init's payload carries the token as HTTP requests do: {"Authorization": "Bearer <JWT>"}."""
    header = (outcome.init_payload or {}).get("Authorization")
    try:
        principal = services.api.verifier.verify_authorization(header if isinstance(header, str) else None)
    except Unauthenticated as error:
        refused = refuse(outcome.state, error.message)
        return Decision(state=refused.state, closing=refused.closing)
    if principal is None:
        refused = refuse(outcome.state, 'connection_init needs {"Authorization": "Bearer <token>"}')
        return Decision(state=refused.state, closing=refused.closing)
    acknowledged = acknowledge(outcome.state)
    return Decision(state=acknowledged.state, replies=acknowledged.replies, principal=principal)


def _authorize(
    services: RealtimeServices, record: ConnectionRecord, request: SubscribeRequest
) -> tuple[str, str | None]:
    """Check the document, and that the subscriber may see what it asks: the topic it listens to, and for an
    order's subscriptions the order whose current state is the subscriber's first `next`."""
    subscription = plan(services.schema, request)
    principal = record.principal
    if principal is None or (principal.expires_at is not None and principal.expires_at < time.time()):
        expired = "the token has expired: connect again"
        raise Refused([{"message": expired, "extensions": {"code": "UNAUTHENTICATED"}}])
    if subscription.order_id is not None:
        order = services.api.orders.get_order(subscription.order_id)
        if order is None or (order.client_id != principal.subject and not principal.is_admin):
            # Someone else's order is as absent as a missing one.
            missing = {
                "message": f"order {subscription.order_id!r} does not exist",
                "extensions": {"code": "NOT_FOUND"},
            }
            raise Refused([missing])
        return subscription.topic, order.id
    return subscription.topic, None


def _store(services: RealtimeServices, record: ConnectionRecord, decision: Decision) -> None:
    store = services.connections
    if decision.principal is not None:
        record = replace(record, principal=decision.principal)
    changed = decision.state != record.state or decision.principal is not None
    if changed or decision.subscribe is not None or decision.unsubscribe is not None:
        store.save(record, decision.state, subscribe=decision.subscribe, unsubscribe=decision.unsubscribe)


def disconnect(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    realtime_services().connections.close(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


def init_timeout(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    """SQS (delayed by the init timeout): end each connection that has still not sent connection_init."""
    services = realtime_services()
    for record in event.get("Records", []):
        body = json.loads(record["body"])
        connection = services.connections.get(body["connectionId"])
        if connection is None:
            continue
        outcome = init_timed_out(connection.state)
        if outcome is not None and outcome.closing is not None:
            api = services.management({"requestContext": body["requestContext"]})
            api.post(connection.connection_id, outcome.closing.message())
            api.delete(connection.connection_id)
    return {"batchItemFailures": []}
