"""A local stack service in a process of its own (the AWS emulator, the WebSocket gateway): started in a session of
its own, waited for until it serves, and stopped gracefully, then for good."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def start_child(
    module: str, arguments: Sequence[str], *, serving: Callable[[], bool], what: str, startup_timeout: float
) -> subprocess.Popen[bytes]:
    """`python -m module arguments --parent <this process>`, once `serving()` says it serves."""
    process = subprocess.Popen(  # noqa: S603 - our own module, with arguments we built
        [sys.executable, "-m", module, *arguments, "--parent", str(os.getpid())],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # Out of the terminal's process group: Ctrl-C reaches the dev process, which stops the pollers first and
        # the children last, instead of every process at once (the pollers then failed on a dead AWS).
        start_new_session=True,
    )
    deadline = time.monotonic() + startup_timeout
    while not serving():
        if process.poll() is not None:
            raise RuntimeError(f"the {what} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            stop_child(process, grace_seconds=10)
            raise RuntimeError(f"the {what} did not serve in time")
        time.sleep(0.1)
    return process


def stop_child(process: subprocess.Popen[bytes] | None, *, grace_seconds: float) -> None:
    """SIGTERM, and SIGKILL after `grace_seconds`."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
