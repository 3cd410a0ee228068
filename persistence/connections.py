"""WebSocket connections and their subscriptions on DynamoDB.

A subscription is stored under its topic (`order:<id>`, `vehicles`...), so that pushing a change to its subscribers
is one Query on the topic, never a scan. Each connection is listed twice in the indexes: in the one list of open
connections (GSI1, read by the keep-alive sweep) and, once signed in, in its user's (GSI2, read when staff block
them). It keeps the time of its last traffic for the sweep. Everything expires a little after API Gateway's
two-hour limit on a connection, in case a $disconnect never arrived.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from domain.errors import StaleVersion
from persistence import keys, schema
from persistence.models import ListIndex, SecondListIndex, TableItem
from runtime.connection_state import ConnectionState, SubscribeRequest
from runtime.principal import Principal, Role

# API Gateway ends a connection after two hours; a little more, and whatever $disconnect missed is gone.
RETENTION_SECONDS = 2 * 3600 + 15 * 60


class ConnectionItem(TableItem):
    connection_id = UnicodeAttribute()
    init_received = BooleanAttribute()
    acknowledged = BooleanAttribute()
    # operation id -> topic, to find the subscriptions again when the connection ends
    subscriptions = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    roles = UnicodeAttribute(null=True)
    token_expires_at = NumberAttribute(null=True)
    connected_at = NumberAttribute()
    # The last message either way that the sweep knows of (a client's is written down only now and then).
    last_traffic_at = NumberAttribute(null=True)
    version = VersionAttribute()
    expires_at = NumberAttribute(attr_name=schema.TTL_ATTRIBUTE)
    # Every open connection (GSI1), and a signed-in user's (GSI2); both sorted by connection id.
    gsi1pk = UnicodeAttribute(null=True, attr_name=schema.LIST_INDEX_PARTITION_KEY)
    gsi1sk = UnicodeAttribute(null=True, attr_name=schema.LIST_INDEX_SORT_KEY)
    gsi2pk = UnicodeAttribute(null=True, attr_name=schema.SECOND_LIST_INDEX_PARTITION_KEY)
    gsi2sk = UnicodeAttribute(null=True, attr_name=schema.SECOND_LIST_INDEX_SORT_KEY)
    by_list = ListIndex()
    by_second_list = SecondListIndex()

    key = staticmethod(keys.connection)


class SubscriptionItem(TableItem):
    connection_id = UnicodeAttribute()
    operation_id = UnicodeAttribute()
    # Not `query`: that name is PynamoDB's Model.query.
    document = UnicodeAttribute()
    variables = UnicodeAttribute(null=True)
    operation_name = UnicodeAttribute(null=True)
    subject = UnicodeAttribute()
    roles = UnicodeAttribute()
    token_expires_at = NumberAttribute(null=True)
    # The latest version of the order sent to this subscriber: each push claims its version, so a subscriber never
    # gets a version twice, nor an older one after a newer (the first push and the fan-out race otherwise).
    delivered_version = NumberAttribute(null=True)
    expires_at = NumberAttribute(attr_name=schema.TTL_ATTRIBUTE)

    key = staticmethod(keys.subscription)


class RevokedItem(TableItem):
    """A user's access taken away (blocked, or no longer staff) at `revoked_at`: kept as long as a token issued
    before it can live (Cognito's longest ID token lasts a day), then gone."""

    revoked_at = NumberAttribute()
    expires_at = NumberAttribute(attr_name=schema.TTL_ATTRIBUTE)

    key = staticmethod(keys.revoked)


# Cognito ID tokens last one hour by default, a day at most.
REVOCATION_RETENTION_SECONDS = 24 * 3600 + 15 * 60


@dataclass(frozen=True, slots=True)
class ConnectionRecord:
    connection_id: str
    state: ConnectionState
    # operation id -> topic
    topics: dict[str, str]
    principal: Principal | None
    version: int
    connected_at: int
    last_traffic_at: float


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    topic: str
    connection_id: str
    request: SubscribeRequest
    principal: Principal


def _roles(text: str | None) -> frozenset[Role]:
    return frozenset(Role(role) for role in (text or "").split(",") if role)


def _principal(subject: str | None, email: str | None, roles: str | None, expires: float | None) -> Principal | None:
    if subject is None:
        return None
    return Principal(subject=subject, email=email, roles=_roles(roles), expires_at=expires)


def _record(item: ConnectionItem) -> ConnectionRecord:
    topics: dict[str, str] = json.loads(item.subscriptions)
    return ConnectionRecord(
        connection_id=item.connection_id,
        state=ConnectionState(
            init_received=bool(item.init_received),
            acknowledged=bool(item.acknowledged),
            subscriptions=frozenset(topics),
        ),
        topics=topics,
        principal=_principal(item.subject, item.email, item.roles, item.token_expires_at),
        version=int(item.version or 0),
        connected_at=int(item.connected_at),
        # Connections opened before the time was kept: their opening is what is known.
        last_traffic_at=float(item.connected_at if item.last_traffic_at is None else item.last_traffic_at),
    )


class DynamoConnectionStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def open(self, connection_id: str) -> None:
        now = int(time.time())
        ConnectionItem(
            *ConnectionItem.key(connection_id),
            connection_id=connection_id,
            init_received=False,
            acknowledged=False,
            subscriptions="{}",
            connected_at=now,
            last_traffic_at=now,
            expires_at=now + RETENTION_SECONDS,
            gsi1pk=keys.OPEN_CONNECTIONS_LIST,
            gsi1sk=connection_id,
        ).save(condition=ConnectionItem.pk.does_not_exist())

    def get(self, connection_id: str) -> ConnectionRecord | None:
        try:
            item = ConnectionItem.get(*ConnectionItem.key(connection_id), consistent_read=True)
        except ConnectionItem.DoesNotExist:
            return None
        return _record(item)

    def open_connections(self) -> Iterator[ConnectionRecord]:
        """Every open connection, page by page (the index is eventually consistent: one opened a moment ago may be
        missing, and is found by the next sweep)."""
        for item in ConnectionItem.by_list.query(keys.OPEN_CONNECTIONS_LIST):
            yield _record(item)

    def connections_of(self, subject: str) -> list[ConnectionRecord]:
        """A signed-in user's open connections."""
        return [_record(item) for item in ConnectionItem.by_second_list.query(keys.subject_connections(subject))]

    def revoke(self, subject: str, at: float) -> None:
        """Refuse, from now on, every token of the user issued until `at`."""
        RevokedItem(*RevokedItem.key(subject), revoked_at=at, expires_at=int(at) + REVOCATION_RETENTION_SECONDS).save()

    def revoked_at(self, subject: str) -> float | None:
        """When the user's access was last taken away, if it was (within a token's lifetime)."""
        try:
            item = RevokedItem.get(*RevokedItem.key(subject), consistent_read=True)
        except RevokedItem.DoesNotExist:
            return None
        return float(item.revoked_at)

    def record_traffic(self, connection_id: str, at: float) -> None:
        """Write down a message's time, and nothing else: the connection's version is left as it is, so a message
        of the same connection being saved meanwhile is not made stale by it (and, saving, writes its own time)."""
        pk, sk = ConnectionItem.key(connection_id)
        # The model's own table connection (it knows the table's keys): `Model.update` would also bump the version.
        table = ConnectionItem._get_connection()
        with contextlib.suppress(UpdateError):  # gone meanwhile: nothing to keep alive
            table.update_item(
                pk, sk, actions=[ConnectionItem.last_traffic_at.set(at)], condition=ConnectionItem.pk.exists()
            )

    def _item(self, record: ConnectionRecord, state: ConnectionState, topics: dict[str, str]) -> ConnectionItem:
        principal = record.principal
        item = ConnectionItem(
            *ConnectionItem.key(record.connection_id),
            connection_id=record.connection_id,
            init_received=state.init_received,
            acknowledged=state.acknowledged,
            subscriptions=json.dumps(topics),
            subject=None if principal is None else principal.subject,
            email=None if principal is None else principal.email,
            roles=None if principal is None else ",".join(sorted(principal.roles)),
            token_expires_at=None if principal is None else principal.expires_at,
            connected_at=record.connected_at,
            # A save is a client's message: its time is the traffic the sweep goes by.
            last_traffic_at=time.time(),
            expires_at=record.connected_at + RETENTION_SECONDS,
            gsi1pk=keys.OPEN_CONNECTIONS_LIST,
            gsi1sk=record.connection_id,
            gsi2pk=None if principal is None else keys.subject_connections(principal.subject),
            gsi2sk=None if principal is None else record.connection_id,
        )
        if record.version:
            item.version = record.version
        return item

    def save(
        self,
        record: ConnectionRecord,
        state: ConnectionState,
        *,
        subscribe: tuple[str, SubscribeRequest] | None = None,
        unsubscribe: str | None = None,
    ) -> None:
        """The connection's new state, and the subscription it adds or removes, together; StaleVersion if another
        message of the same connection changed it first."""
        topics = dict(record.topics)
        if unsubscribe is not None:
            topic = topics.pop(unsubscribe, None)
            removed = (
                None
                if topic is None
                else SubscriptionItem(*SubscriptionItem.key(topic, record.connection_id, unsubscribe))
            )
        else:
            removed = None
        added = None
        if subscribe is not None and record.principal is not None:
            topic, request = subscribe
            topics[request.id] = topic
            added = SubscriptionItem(
                *SubscriptionItem.key(topic, record.connection_id, request.id),
                connection_id=record.connection_id,
                operation_id=request.id,
                document=request.query,
                variables=None if request.variables is None else json.dumps(request.variables),
                operation_name=request.operation_name,
                subject=record.principal.subject,
                roles=",".join(sorted(record.principal.roles)),
                token_expires_at=record.principal.expires_at,
                expires_at=record.connected_at + RETENTION_SECONDS,
            )
        item = self._item(record, state, topics)
        condition = ConnectionItem.pk.exists()
        try:
            if added is None and removed is None:
                item.save(condition=condition)
                return
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(item, condition=condition)
                if added is not None:
                    transaction.save(added)
                if removed is not None:
                    transaction.delete(removed)
        except (PutError, TransactWriteError) as error:
            raise StaleVersion("connection", record.connection_id) from error

    def subscribers(self, topic: str) -> Iterator[StoredSubscription]:
        for item in SubscriptionItem.query(keys.topic(topic)):
            principal = _principal(item.subject, None, item.roles, item.token_expires_at)
            assert principal is not None
            yield StoredSubscription(
                topic=topic,
                connection_id=item.connection_id,
                request=SubscribeRequest(
                    id=item.operation_id,
                    query=item.document,
                    variables=None if item.variables is None else json.loads(item.variables),
                    operation_name=item.operation_name,
                ),
                principal=principal,
            )

    def claim_delivery(self, topic: str, connection_id: str, operation_id: str, version: int) -> bool:
        """Whether `version` is newer than what this subscriber was sent (and is now theirs to send)."""
        newer = SubscriptionItem.delivered_version.does_not_exist() | (SubscriptionItem.delivered_version < version)
        try:
            SubscriptionItem(*SubscriptionItem.key(topic, connection_id, operation_id)).update(
                actions=[SubscriptionItem.delivered_version.set(version)],
                condition=SubscriptionItem.pk.exists() & newer,
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def drop_subscription(self, subscription: StoredSubscription) -> None:
        SubscriptionItem(
            *SubscriptionItem.key(subscription.topic, subscription.connection_id, subscription.request.id)
        ).delete()

    def close(self, connection_id: str) -> None:
        """Forget the connection and every subscription it had ($disconnect, or a post answered 410 Gone)."""
        record = self.get(connection_id)
        if record is None:
            return
        with SubscriptionItem.batch_write() as batch:
            for operation_id, topic in record.topics.items():
                batch.delete(SubscriptionItem(*SubscriptionItem.key(topic, connection_id, operation_id)))
        ConnectionItem(*ConnectionItem.key(connection_id)).delete(add_version_condition=False)
