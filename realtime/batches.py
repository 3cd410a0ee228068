"""Delivery batches: one change's pushes to a slice of its topic's subscribers, as one invocation posts them.

A topic with few subscribers (an order's owner and the staff) is served by the stream handler itself. A topic with
more than one batch's worth (thousands watching `vehicles`) is cut into batches, each carrying the renderings its
subscribers asked for and sent to the delivery queue, where many invocations post them side by side. Plain Python:
what a batch holds, how subscribers are packed into batches, and how a batch travels as a queue message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# SQS takes messages up to 256 KiB; a batch stays well under it, whatever its subscribers' operation ids.
MAX_BATCH_BYTES = 200 * 1024
# What a recipient adds to a batch's encoding besides its own strings: brackets, quotes and commas.
_RECIPIENT_OVERHEAD_BYTES = 10


@dataclass(frozen=True, slots=True)
class Recipient:
    """One subscription to post to, and which of the batch's renderings it gets."""

    connection_id: str
    operation_id: str
    rendering: str

    @property
    def encoded_bytes(self) -> int:
        return (
            len(self.connection_id.encode())
            + len(self.operation_id.encode())
            + len(self.rendering.encode())
            + _RECIPIENT_OVERHEAD_BYTES
        )


@dataclass(frozen=True, slots=True)
class DeliveryBatch:
    """Posts of one change of one entity: `version` goes in each `next`'s extensions; with `claim`, each subscriber
    claims it first (an order's subscribers), so none is sent a version twice or an older one after a newer."""

    topic: str
    version: int
    claim: bool
    renderings: Mapping[str, Mapping[str, Any]]
    recipients: tuple[Recipient, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "topic": self.topic,
                "version": self.version,
                "claim": self.claim,
                "renderings": self.renderings,
                "recipients": [[r.connection_id, r.operation_id, r.rendering] for r in self.recipients],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> DeliveryBatch:
        body = json.loads(text)
        return cls(
            topic=body["topic"],
            version=int(body["version"]),
            claim=bool(body["claim"]),
            renderings=body["renderings"],
            recipients=tuple(Recipient(*each) for each in body["recipients"]),
        )


def pack(
    recipients: Iterable[Recipient],
    rendering_bytes: Mapping[str, int],
    *,
    most: int,
    max_bytes: int = MAX_BATCH_BYTES,
) -> Iterator[list[Recipient]]:
    """The recipients in order, in slices of at most `most` whose batch stays under `max_bytes`: each recipient's
    strings, plus each rendering a slice uses, counted once (`rendering_bytes`, read when the recipient is reached,
    so renderings can be made as their first subscriber comes). Lazy: a slice is cut as soon as it is full."""
    if most < 1:
        raise ValueError(f"a batch holds at least one recipient, not {most}")
    current: list[Recipient] = []
    used: set[str] = set()
    size = 0
    for recipient in recipients:
        added = recipient.encoded_bytes
        if recipient.rendering not in used:
            added += rendering_bytes[recipient.rendering]
        if current and (len(current) == most or size + added > max_bytes):
            yield current
            current, used, size = [], set(), 0
            added = recipient.encoded_bytes + rendering_bytes[recipient.rendering]
        current.append(recipient)
        used.add(recipient.rendering)
        size += added
    if current:
        yield current


def batch_of(
    topic: str, version: int, claim: bool, renderings: Mapping[str, Mapping[str, Any]], recipients: list[Recipient]
) -> DeliveryBatch:
    """A batch for these recipients, carrying only the renderings they use."""
    used = {recipient.rendering for recipient in recipients}
    return DeliveryBatch(
        topic=topic,
        version=version,
        claim=claim,
        renderings={key: renderings[key] for key in used},
        recipients=tuple(recipients),
    )
