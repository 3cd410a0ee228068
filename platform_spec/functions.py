"""The platform's Lambda functions, by name, and the memory each is given. The CDK app configures its functions from
here and `bench/saga.py` prices their duration from here, so that the cost the bench reports is the deployment's."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from platform_spec.messaging import (
    INTAKE_FILES_QUEUE,
    INTAKE_ORDERS_QUEUE,
    SAGA_QUEUES,
    WS_DELIVERY_QUEUE,
    WS_INIT_TIMEOUT_QUEUE,
)

GRAPHQL_API = "graphql-api"
PIX_WEBHOOK = "pix-webhook"
OUTBOX_RELAY = "outbox-relay"
PAYMENT_EXPIRY = "payment-expiry"
PIX_RECONCILIATION = "pix-reconciliation"
WS_CONNECT = "ws-connect"
WS_DEFAULT = "ws-default"
WS_DISCONNECT = "ws-disconnect"
WS_INIT_TIMEOUT = WS_INIT_TIMEOUT_QUEUE.name
REALTIME_FANOUT = "realtime-fanout"
REALTIME_DELIVERY = WS_DELIVERY_QUEUE.name
CONNECTION_KEEPALIVE = "connection-keepalive"
INTAKE_FILES = INTAKE_FILES_QUEUE.name
INTAKE_ORDERS = INTAKE_ORDERS_QUEUE.name
SAGA_STEPS = tuple(spec.name for spec in SAGA_QUEUES)

# 1769 MB is one full vCPU: the functions whose cold start imports Strawberry (the API, the WebSocket messages, the
# fan-out that renders pushes), whose work is CPU (the delivery batches' posts) or that validate whole files get it;
# the rest 1024, the expiry sweep 512.
FULL_VCPU_MB = 1769
MEMORY_MB: Mapping[str, int] = MappingProxyType(
    {
        GRAPHQL_API: FULL_VCPU_MB,
        PIX_WEBHOOK: 1024,
        **dict.fromkeys(SAGA_STEPS, 1024),
        OUTBOX_RELAY: 1024,
        PAYMENT_EXPIRY: 512,
        PIX_RECONCILIATION: 1024,
        WS_CONNECT: 1024,
        WS_DEFAULT: FULL_VCPU_MB,
        WS_DISCONNECT: 1024,
        WS_INIT_TIMEOUT: 1024,
        REALTIME_FANOUT: FULL_VCPU_MB,
        REALTIME_DELIVERY: FULL_VCPU_MB,
        CONNECTION_KEEPALIVE: 1024,
        INTAKE_FILES: FULL_VCPU_MB,
        INTAKE_ORDERS: 1024,
    }
)
