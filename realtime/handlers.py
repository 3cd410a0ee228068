"""The WebSocket API's Lambda handlers: $connect, $default, $disconnect, and the connection_init deadline.

Each message is judged by the protocol state machine against the connection's stored state; this module does the
I/O around it: authenticate connection_init, check and store subscriptions, answer through @connections.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from typing import Any

import boto3
import strawberry
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError

from composition import ProcessDefault
from domain.errors import DomainError, StaleVersion, Unauthenticated
from graphql_api.context import PushContext
from graphql_api.limits import document_policy
from graphql_api.trusted_documents import trusted_documents
from graphql_api.wiring import Services
from persistence.connections import ConnectionRecord, DynamoConnectionStore
from realtime.keepalive import Limits, should_record_traffic
from realtime.management_client import ManagementClient
from realtime.protocol import (
    INIT_TIMEOUT_SECONDS,
    SUBPROTOCOL,
    Closing,
    Outcome,
    acknowledge,
    error_message,
    init_timed_out,
    next_message,
    offers_subprotocol,
    receive,
    refuse,
)
from realtime.subscriptions import Refused, plan, render
from runtime.connection_state import ConnectionState, SubscribeRequest
from runtime.logs import service_logger
from runtime.principal import Principal
from runtime.settings import Settings, get_settings
from runtime.telemetry import lambda_entry

logger = service_logger("realtime")
# How many posts to @connections the fan-out makes at once.
POST_CONCURRENCY = 64
# Two messages of one connection racing on its stored state: the loser reads again and decides again.
_ATTEMPTS = 3


# A call to @connections waits this long at most for a connection, then for the answer: API Gateway answers a post
# in milliseconds whatever its client does, so a call that takes longer is stuck, and must not hold back the posts to
# everyone else (boto's default is 60 s each, and its retries).
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
# Throttled (429), a post waits this long, with jitter, and is tried once more; throttled again, it is given up.
THROTTLE_BACKOFF_SECONDS = 0.1
_THROTTLED = frozenset({"LimitExceededException", "TooManyRequestsException", "ThrottlingException", "Throttling"})


class Delivery(Enum):
    """What became of one message posted to @connections."""

    DELIVERED = "delivered"
    GONE = "gone"  # 410: the client left; its connection must be forgotten
    DROPPED = "dropped"  # throttled twice, timed out or refused: the message is lost (and logged), the client kept


class ManagementApi:
    """API Gateway's @connections: what a handler says to a client, and how it ends a connection.

    The calls go through `ManagementClient` (a signed request on a pooled connection: a quarter of botocore's CPU
    per post). No call waits long or is tried blindly again: nothing retries underneath, since a post that timed out
    may still have been delivered (a retry would send it twice) and a stuck one would only be waited on again. A call
    gets one more try, at most, when the answer says it was not done: throttled (429), after a short backoff; or its
    pooled HTTP connection closed under it (the server had let it go idle), at once. A message that still cannot be
    delivered is logged and dropped: one client's trouble never fails a whole push.
    """

    def __init__(
        self, endpoint: str, *, client: Any = None, throttle_backoff: float = THROTTLE_BACKOFF_SECONDS
    ) -> None:
        if client is None:
            session = boto3.session.Session()
            credentials = session.get_credentials()
            if credentials is None:
                raise RuntimeError("no AWS credentials to sign the posts to @connections with")
            client = ManagementClient(
                endpoint,
                credentials,
                session.region_name or "us-east-1",
                # As many pooled connections as the fan-out posts in parallel, each kept alive between posts.
                pool_size=POST_CONCURRENCY,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
            )
        self._client = client
        self._throttle_backoff = throttle_backoff

    def deliver(self, connection_id: str, message: dict[str, Any]) -> Delivery:
        data = json.dumps(message).encode()
        return self._call(
            "post", connection_id, lambda: self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        )

    def post(self, connection_id: str, message: dict[str, Any]) -> bool:
        """False when the client is gone (410): its connection must be forgotten. A message that could not be
        delivered otherwise (throttled twice, timed out) is logged and dropped, and the client kept."""
        return self.deliver(connection_id, message) is not Delivery.GONE

    def delete(self, connection_id: str) -> None:
        """End the connection; one already gone is fine, and one that cannot be ended now is logged."""
        self._call("delete", connection_id, lambda: self._client.delete_connection(ConnectionId=connection_id))

    def _call(self, what: str, connection_id: str, call: Callable[[], object]) -> Delivery:
        retried = False
        while True:
            try:
                call()
                return Delivery.DELIVERED
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                if code == "GoneException" or status == 410:
                    return Delivery.GONE
                if code in _THROTTLED or status == 429:
                    if not retried:
                        retried = True
                        # Jitter: the posts of one push throttled together do not all come back together.
                        time.sleep(self._throttle_backoff * (0.5 + random.random()))  # noqa: S311 - not for security
                        continue
                    logger.warning("%s %s: throttled (%s); given up", what, connection_id, code or status)
                else:
                    logger.error("%s %s: refused with %s %s; given up", what, connection_id, status, code)
            except ConnectionClosedError as error:  # a pooled connection the server had closed: nothing was done
                if not retried:
                    retried = True
                    continue
                logger.warning("%s %s: %s; given up", what, connection_id, error)
            except BotoCoreError as error:  # timed out, refused: no answer to go by, and none to wait for
                logger.warning("%s %s: %s; given up", what, connection_id, error)
            return Delivery.DROPPED


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


def _build() -> RealtimeServices:
    from composition.aws import realtime_services as build

    return build(get_settings())


# This process's graph: built by the composition root on first use, once per cold start.
realtime_services: ProcessDefault[RealtimeServices] = ProcessDefault(_build)


@lambda_entry(logger)
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
        sqs_client().send_message(
            QueueUrl=queue_url,
            MessageBody=json.dumps({"connectionId": connection_id, "requestContext": event["requestContext"]}),
            DelaySeconds=INIT_TIMEOUT_SECONDS,
        )
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}


@lru_cache(maxsize=1)
def sqs_client() -> Any:
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


@lambda_entry(logger)
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
            if not _store(services, record, decision):
                _note_traffic(services, record)
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
    payload = asyncio.run(render(services.schema, request, context))
    api.post(connection_id, next_message(request.id, payload, version=order.version))


def _decide(services: RealtimeServices, record: ConnectionRecord, body: str) -> Decision:
    outcome = receive(record.state, body)
    if outcome.closing is not None:
        return Decision(state=outcome.state, closing=outcome.closing)
    if outcome.init_payload is not None:
        return _authenticate(services, outcome)
    if outcome.subscribe is not None:
        request = outcome.subscribe
        try:
            request = _with_trusted_text(services, record, request)
            topic, first_push = _authorize(services, record, request)
        except Refused as refusal:
            # A subscription that cannot start is an error message; the connection goes on.
            state = replace(outcome.state, subscriptions=outcome.state.subscriptions - {request.id})
            return Decision(state=state, replies=(error_message(request.id, refusal.errors),))
        return Decision(state=outcome.state, subscribe=(topic, request), first_push=first_push)
    return Decision(state=outcome.state, replies=outcome.replies, unsubscribe=outcome.complete)


def _with_trusted_text(
    services: RealtimeServices, record: ConnectionRecord, request: SubscribeRequest
) -> SubscribeRequest:
    """The subscription with the text it runs: a trusted document's, named by id, or its own where the HTTP API
    would accept it too (TRUSTED_DOCUMENTS_ONLY: the app's documents, or staff)."""
    principal = record.principal
    try:
        text, _ = trusted_documents().resolve(
            request.query or None,
            request.document_id,
            trusted_only=services.settings.trusted_documents_only,
            is_staff=lambda: principal is not None and principal.is_admin,
        )
    except DomainError as error:
        extensions = {"code": error.code} | ({"field": field} if (field := getattr(error, "field", None)) else {})
        raise Refused([{"message": error.message, "extensions": extensions}]) from error
    return replace(request, query=text, document_id=None)


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
    if _revoked(services, principal):
        refused = refuse(outcome.state, "the token was revoked: sign in again")
        return Decision(state=refused.state, closing=refused.closing)
    acknowledged = acknowledge(outcome.state)
    return Decision(state=acknowledged.state, replies=acknowledged.replies, principal=principal)


def _revoked(services: RealtimeServices, principal: Principal) -> bool:
    """Whether staff took the user's access away after this token was issued (domain/access.py)."""
    revoked_at = services.connections.revoked_at(principal.subject)
    return revoked_at is not None and (principal.issued_at is None or principal.issued_at <= revoked_at)


def _authorize(
    services: RealtimeServices, record: ConnectionRecord, request: SubscribeRequest
) -> tuple[str, str | None]:
    """Check the document, and that the subscriber may see what it asks: the topic it listens to, and for an
    order's subscriptions the order whose current state is the subscriber's first `next`."""
    subscription = plan(services.schema, request, document_policy(services.settings))
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


def _store(services: RealtimeServices, record: ConnectionRecord, decision: Decision) -> bool:
    """Whether the connection was saved (with the time of this message)."""
    store = services.connections
    if decision.principal is not None:
        record = replace(record, principal=decision.principal)
    changed = decision.state != record.state or decision.principal is not None
    if changed or decision.subscribe is not None or decision.unsubscribe is not None:
        store.save(record, decision.state, subscribe=decision.subscribe, unsubscribe=decision.unsubscribe)
        return True
    return False


def _note_traffic(services: RealtimeServices, record: ConnectionRecord) -> None:
    """A message that changed nothing (a ping, a pong) is still traffic: written down now and then, for the
    keep-alive sweep (realtime/sweep.py), never at every message."""
    now = time.time()
    if should_record_traffic(record.last_traffic_at, now, Limits.of(services.settings.realtime)):
        services.connections.record_traffic(record.connection_id, now)


@lambda_entry(logger)
def disconnect(event: dict[str, Any], _context: Any) -> dict[str, Any]:
    realtime_services().connections.close(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


_init_timeouts = BatchProcessor(event_type=EventType.SQS)


def end_if_never_initialised(record: SQSRecord) -> None:
    """One connection's init deadline: end it if it has still not sent connection_init (a failure is retried)."""
    services = realtime_services()
    body = json.loads(record.body)
    connection = services.connections.get(body["connectionId"])
    if connection is None:
        return
    outcome = init_timed_out(connection.state)
    if outcome is not None and outcome.closing is not None:
        api = services.management({"requestContext": body["requestContext"]})
        api.post(connection.connection_id, outcome.closing.message())
        api.delete(connection.connection_id)


@lambda_entry(logger)
def init_timeout(event: dict[str, Any], context: Any) -> Any:
    """SQS (delayed by the init timeout): end each connection that has still not sent connection_init."""
    return process_partial_response(
        event=event, record_handler=end_if_never_initialised, processor=_init_timeouts, context=context
    )
