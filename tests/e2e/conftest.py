"""The local stack started exactly as `make dev` starts it (`vehicle-platform dev`), on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

STARTUP_SECONDS = 90
CLI = str(Path(sys.executable).with_name("vehicle-platform"))


@dataclass
class LocalStack:
    api_url: str
    emulator_url: str
    web_url: str
    environment: dict[str, str]
    process: subprocess.Popen[str]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text()

    def cli(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `vehicle-platform` as a person would, against this stack."""
        return subprocess.run(  # noqa: S603 - our own console script
            [CLI, *arguments], env=self.environment, capture_output=True, text=True, check=check, timeout=30
        )

    def token(self, email: str) -> str:
        return self.cli("token", email).stdout.strip()

    def graphql(
        self, query: str, variables: dict[str, object] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        return httpx.post(
            f"{self.api_url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )


def _wait_until_healthy(stack: LocalStack) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"vehicle-platform dev exited early:\n{stack.output()}")
        try:
            if httpx.get(f"{stack.api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the local stack did not become healthy in time:\n{stack.output()}")


@contextmanager
def running_local_stack(log_path: Path, **overrides: str) -> Iterator[LocalStack]:
    """`vehicle-platform dev` on free ports, its output in `log_path` (a pipe nobody reads would fill and block)."""
    api_port, ws_port, emulator_port, web_port, psp_port = (free_port() for _ in range(5))
    environment = {
        **os.environ,
        "API_PORT": str(api_port),
        "WS_PORT": str(ws_port),
        "AWS_EMULATOR_PORT": str(emulator_port),
        "WEB_PORT": str(web_port),
        "PIX_PSP_PORT": str(psp_port),
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{emulator_port}",
        "TABLE_NAME": "vehicle-platform",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }
    environment.pop("CURSOR_SECRET", None)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [CLI, "dev"], env=environment, stdout=log, stderr=subprocess.STDOUT, text=True
        )
    stack = LocalStack(
        api_url=f"http://127.0.0.1:{api_port}",
        emulator_url=f"http://127.0.0.1:{emulator_port}",
        web_url=f"http://127.0.0.1:{web_port}",
        environment=environment,
        process=process,
        log_path=log_path,
    )
    try:
        _wait_until_healthy(stack)
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # Payments expire in seconds and the sweep runs every second, so that expiry can be watched in a test (10 s: a
    # test that pays has that long, even on a loaded machine); the Pix reconciliation runs every second too, so that
    # a payment whose webhook is lost is found well before its charge expires.
    log_path = tmp_path_factory.mktemp("local-stack") / "dev.log"
    with running_local_stack(
        log_path, PAYMENT_TTL_SECONDS="10", EXPIRY_SWEEP_SECONDS="1", PIX_RECONCILE_SECONDS="1"
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def token(local_stack: LocalStack) -> Callable[[str], str]:
    cache: dict[str, str] = {}

    def issue(email: str) -> str:
        if email not in cache:
            cache[email] = local_stack.token(email)
        return cache[email]

    return issue
