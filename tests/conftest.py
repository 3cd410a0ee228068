"""Test-wide environment: fake AWS credentials and a free emulator port, set before any model is imported.

PynamoDB binds the table name when the model classes are defined, so the environment must be right first.
"""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


EMULATOR_PORT = free_port()
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{EMULATOR_PORT}",
        "AWS_EMULATOR_PORT": str(EMULATOR_PORT),
        "TABLE_NAME": "vehicle-platform-test",
        "APP_ENV": "local",
        "CURSOR_SECRET": "test-cursor-secret",
    }
)
