"""Where the local stack listens and what it calls things. Each default can be overridden by the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from platform_spec.storage import TABLE_NAME

# Fake credentials: moto accepts anything, and these make sure a real AWS account is never touched by accident.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
DEMO_PASSWORD = "Demo-Passw0rd"  # noqa: S105 - the demo users' password on the laptop emulator only


@dataclass(frozen=True, slots=True)
class LocalConfig:
    host: str
    api_port: int
    ws_port: int
    emulator_port: int
    region: str
    table_name: str
    # The payment expiry sweep runs every minute on AWS; locally more often, so that demos and tests are quick.
    expiry_interval: float
    # API Gateway WebSocket's limits: 10 minutes idle, 2 hours in all.
    ws_idle_timeout: float
    ws_max_duration: float
    # The SPA (web/dist) is served on its own origin, as CloudFront serves it on AWS: CORS is exercised locally.
    web_port: int = 5173
    # The local PSP (local_stack/pix_psp.py), and how often the Pix reconciliation runs (every 5 minutes on AWS).
    psp_port: int = 8002
    reconcile_interval: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> LocalConfig:
        return cls(
            host=environ.get("LOCAL_HOST", "127.0.0.1"),
            api_port=int(environ.get("API_PORT", "8000")),
            ws_port=int(environ.get("WS_PORT", "8001")),
            emulator_port=int(environ.get("AWS_EMULATOR_PORT", "4566")),
            region=environ.get("AWS_REGION", "us-east-1"),
            table_name=environ.get("TABLE_NAME", TABLE_NAME),
            expiry_interval=float(environ.get("EXPIRY_SWEEP_SECONDS", "5")),
            ws_idle_timeout=float(environ.get("WS_IDLE_TIMEOUT_SECONDS", "600")),
            ws_max_duration=float(environ.get("WS_MAX_DURATION_SECONDS", "7200")),
            web_port=int(environ.get("WEB_PORT", "5173")),
            psp_port=int(environ.get("PIX_PSP_PORT", "8002")),
            reconcile_interval=float(environ.get("PIX_RECONCILE_SECONDS", "5")),
        )

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def web_url(self) -> str:
        """The SPA's origin: the one the API's CORS allows (SPA_ORIGIN)."""
        return f"http://{self.host}:{self.web_port}"

    @property
    def psp_url(self) -> str:
        return f"http://{self.host}:{self.psp_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://{self.host}:{self.emulator_port}"

    def environment(self) -> dict[str, str]:
        """The environment every process of the local stack runs with (before the user pool exists)."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.emulator_url,
            "APP_ENV": "local",
            # Metrics are EMF lines on stdout: in the local stack's readable log they would only be noise.
            "POWERTOOLS_METRICS_DISABLED": "true",
            "TABLE_NAME": self.table_name,
            # What the gateway enforces: the keep-alive sweep plans by it.
            "WS_IDLE_TIMEOUT_SECONDS": f"{self.ws_idle_timeout:g}",
            "WS_MAX_DURATION_SECONDS": f"{self.ws_max_duration:g}",
            "SPA_ORIGIN": self.web_url,
            "PIX_API_URL": f"{self.psp_url}/api/v2",
            "PIX_TOKEN_URL": f"{self.psp_url}/oauth/token",
        }
