"""The purchase saga's Lambda handlers: the outbox relay, one consumer per step's queue, the payment webhook and
the payment expiry sweep. Each is thin: parse the event, call domain.purchase, report what failed."""
