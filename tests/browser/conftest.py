"""The SPA in a real browser (Debian's Chromium driven by Playwright) against the local stack as `make dev` runs it:
the same built files, served on their own origin, talking to the API, the WebSocket gateway and the emulator's
Cognito across origins, as a person's browser does."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import free_port
from tests.e2e.conftest import LocalStack, running_local_stack

ARTIFACTS = Path(__file__).parent / "artifacts"
WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"
DEMO_PASSWORD = "Demo-Passw0rd"
# Debian's Chromium as root in a container: no sandbox, no GPU, and nothing reaching out to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Extra switches for a person debugging locally (e.g. --auto-open-devtools-for-tabs); CI sets none.
CHROMIUM_ARGS += os.environ.get("CHROMIUM_EXTRA_ARGS", "").split()
# Longest a page waits for something the platform does by itself (the saga's steps, a push).
LIVE_TIMEOUT_MS = 30_000

expect.set_options(timeout=LIVE_TIMEOUT_MS)


def chromium_executable() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@dataclass
class Web:
    """The running stack and the SPA's address on it."""

    stack: LocalStack
    url: str

    def token(self, email: str) -> str:
        return self.stack.token(email)


@pytest.fixture(scope="package")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    if not (WEB_DIST / "index.html").is_file():
        pytest.fail(f"{WEB_DIST} is not built: run `make install` (npm ci && npm run build in web/)")
    web_port = free_port()
    log_path = tmp_path_factory.mktemp("browser-stack") / "dev.log"
    with running_local_stack(log_path, WEB_PORT=str(web_port)) as stack:
        yield Web(stack=stack, url=f"http://127.0.0.1:{web_port}")


@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    executable = chromium_executable()
    if executable is None:
        message = "no Chromium: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH"
        # In CI a browser test that cannot run is a failure, never a skip.
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    browser = playwright_driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Browser, web: Web, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Pages in their own browser contexts (separate people); each page's errors are reported if the test fails."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def open_page(**context_options: object) -> Page:
        context = browser.new_context(base_url=web.url, locale="pt-BR", **context_options)  # type: ignore[arg-type]
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        return page

    yield open_page
    failed = getattr(request.node, "failed", False)
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, context in enumerate(contexts):
            for number, page in enumerate(context.pages):
                page.screenshot(path=ARTIFACTS / f"FAILED-{request.node.name}-{index}-{number}.png", full_page=True)
        print("browser console errors:\n" + "\n".join(problems))
    for context in contexts:
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.failed = True  # type: ignore[attr-defined]
    return report


def screenshot(page: Page, name: str) -> None:
    """A picture of a main page, kept as a test artifact (tests/browser/artifacts/, not committed)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD, *, next_path: str = "/") -> None:
    """Through the sign-in form: Cognito's SRP flow against the emulator, as a person signs in."""
    page.goto(f"/entrar?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_test_id("signed-in-as")).to_contain_text(email)


def wait_live(page: Page) -> None:
    """The WebSocket is connected (graphql-ws acknowledged the connection)."""
    expect(page.locator("[data-live=connected]")).to_be_visible()


def order_id_from(page: Page) -> str:
    page.wait_for_url(re.compile(r"/pedidos/[^/]+$"))
    return page.url.rsplit("/", 1)[-1]


def valid_cpf(seed: int) -> str:
    """A CPF with correct check digits, made from a 9-digit seed."""
    digits = [int(d) for d in f"{seed % 10**9:09d}"]
    if len(set(digits)) == 1:
        digits[0] = (digits[0] + 1) % 10
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    text = "".join(map(str, digits))
    return f"{text[:3]}.{text[3:6]}.{text[6:9]}-{text[9:]}"
