"""The HTTP API's CORS rules, in one place: the CDK app configures API Gateway with them, and the local stack's API
applies them itself, so that a CORS mistake fails on the laptop as it would on AWS."""

from __future__ import annotations

ALLOW_METHODS = ("POST", "GET", "OPTIONS")
ALLOW_HEADERS = ("authorization", "content-type")
# The SPA reads the request id to quote it in support requests.
EXPOSE_HEADERS = ("x-request-id",)
MAX_AGE_SECONDS = 3600
