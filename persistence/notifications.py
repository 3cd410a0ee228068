"""The notification ledger on DynamoDB: a lease claimed before an email is sent, marked once it is."""

from __future__ import annotations

import time

from pynamodb.exceptions import PutError

from domain.notifications import Claim
from persistence import keys
from persistence.models import MarkerItem
from persistence.purchases import MARKER_RETENTION_SECONDS

_SENDING = "SENDING"
_SENT = "SENT"


class DynamoNotificationLedger:
    def claim(self, key: str, lease_seconds: int) -> Claim:
        now = int(time.time())
        marker = MarkerItem(
            *keys.notified(key),
            state=_SENDING,
            lease_until=now + lease_seconds,
            expires_at=now + MARKER_RETENTION_SECONDS,
        )
        # New, or a lease whose holder died before marking it sent.
        free = MarkerItem.pk.does_not_exist() | ((MarkerItem.state == _SENDING) & (MarkerItem.lease_until < now))
        try:
            marker.save(condition=free)
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            stored = MarkerItem.get(*keys.notified(key), consistent_read=True)
            return Claim.SENT if stored.state == _SENT else Claim.BUSY
        return Claim.CLAIMED

    def mark_sent(self, key: str) -> None:
        MarkerItem(*keys.notified(key)).update(actions=[MarkerItem.state.set(_SENT), MarkerItem.lease_until.remove()])

    def release(self, key: str) -> None:
        MarkerItem(*keys.notified(key)).delete(condition=MarkerItem.state == _SENDING)
