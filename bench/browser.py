"""The SPA as a person gets it, measured in the real browser (Debian's Chromium, headless, driven by Playwright)
against the local stack as `make dev` runs it:

- the first page's JavaScript, gzipped, against a 200 KB budget: the scripts the browser fetched to show `/`, each
  compressed with gzip -9, and the build's whole output for comparison (GraphiQL and the Cognito SDK load later);
- navigation -> the vehicle list painted: a fresh browser context (empty cache) per run; a MutationObserver installed
  before the page's own scripts notes the first frame (requestAnimationFrame) after the first vehicle card is in the
  DOM, on the page's clock (performance.now(), zero at navigation start);
- `vehicle-platform pay` -> COMPLETED on the page: a signed-in customer's order page, AWAITING_PAYMENT with its code;
  the clock starts as the webhook is called (what `vehicle-platform pay` does, in this process, so the CLI's own
  Python start-up is left out) and stops at the first frame after the status badge reads COMPLETED, pushed over the
  WebSocket: both are wall clocks of the same machine (time.time() and Date.now()).

Run: `.venv/bin/python -m bench.browser` (needs `make install`: the built web/dist, and Chromium).
"""

from __future__ import annotations

import gzip
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Page, sync_playwright

from bench.support import summary
from local_stack.config import LocalConfig
from local_stack.operations import pay
from tests.browser.conftest import CHROMIUM_ARGS, DEMO_PASSWORD, WEB_DIST, chromium_executable
from tests.conftest import free_port
from tests.e2e.conftest import LocalStack, running_local_stack

BUDGET_KB = 200
PAINT_RUNS = 15
PAY_RUNS = 8

# Installed before the app's scripts: the first frame after the first vehicle card, or after COMPLETED.
OBSERVER = """
window.__paint = {};
new MutationObserver(() => {
  const mark = (name, selector) => {
    if (window.__paint[name] === undefined && document.querySelector(selector)) {
      window.__paint[name] = null;
      requestAnimationFrame(() => { window.__paint[name] = { page: performance.now(), wall: Date.now() }; });
    }
  };
  mark('list', '[data-vehicle-id]');
  mark('completed', '[data-testid=order-status] [data-status=COMPLETED]');
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def gzipped_kb(paths: list[Path]) -> float:
    return sum(len(gzip.compress(path.read_bytes(), compresslevel=9)) for path in paths) / 1024


def first_page_scripts(browser: Browser, url: str) -> list[Path]:
    context = browser.new_context()
    fetched: list[str] = []
    page = context.new_page()
    page.on(
        "requestfinished",
        lambda request: fetched.append(urlsplit(request.url).path) if request.resource_type == "script" else None,
    )
    page.goto(url)
    page.wait_for_selector("[data-vehicle-id]")
    page.wait_for_load_state("networkidle")
    context.close()
    return [WEB_DIST / path.lstrip("/") for path in sorted(set(fetched))]


def list_paint_ms(browser: Browser, url: str) -> list[float]:
    samples = []
    for _ in range(PAINT_RUNS):
        context = browser.new_context()
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.__paint.list")
        samples.append(float(page.evaluate("window.__paint.list.page")))
        context.close()
    return samples


def sign_in(page: Page, email: str) -> None:
    page.goto("/entrar")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Senha").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Entrar", exact=True).click()
    page.wait_for_selector("[data-testid=signed-in-as]")


def create_vehicles(stack: LocalStack, count: int) -> list[str]:
    admin = stack.token("admin@example.com")
    ids = []
    for index in range(count):
        answer = stack.graphql(
            "mutation($input: CreateVehicleInput!) { createVehicle(input: $input) { id } }",
            {
                "input": {
                    "brand": "Bench",
                    "model": f"Run {index} {uuid.uuid4().hex[:4]}",
                    "year": 2025,
                    "color": "Cinza",
                    "price": "1000.00",
                }
            },
            token=admin,
        ).json()
        ids.append(answer["data"]["createVehicle"]["id"])
    return ids


def pay_to_completed_ms(browser: Browser, stack: LocalStack, url: str) -> list[float]:
    config = LocalConfig.from_env(stack.environment)
    context = browser.new_context(base_url=url)
    context.add_init_script(OBSERVER)
    page = context.new_page()
    sign_in(page, "customer@example.com")
    samples = []
    for vehicle_id in create_vehicles(stack, PAY_RUNS):
        page.goto(f"/veiculos/{vehicle_id}")
        page.get_by_role("button", name="Comprar este veículo").click()
        page.wait_for_selector("[data-testid=order-status] [data-status=AWAITING_PAYMENT]", timeout=30_000)
        # The page has its WebSocket subscription up (it rendered the pushed AWAITING_PAYMENT state or the query's).
        page.wait_for_selector("[data-live=connected]")
        code = page.get_by_test_id("payment-code").inner_text()
        started = time.time()
        pay(config, code)
        page.wait_for_function("window.__paint.completed", timeout=30_000)
        samples.append(float(page.evaluate("window.__paint.completed.wall")) - started * 1000)
    context.close()
    return samples


def main() -> None:
    executable = chromium_executable()
    if executable is None:
        raise SystemExit("no Chromium: apt-get install -y chromium, or set CHROMIUM_PATH")
    if not (WEB_DIST / "index.html").is_file():
        raise SystemExit(f"{WEB_DIST} is not built: run `make install`")
    web_port = free_port()
    with (
        tempfile.TemporaryDirectory() as folder,
        running_local_stack(Path(folder) / "dev.log", WEB_PORT=str(web_port)) as stack,
    ):
        url = f"http://127.0.0.1:{web_port}"
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            scripts = first_page_scripts(browser, url + "/")
            first_kb = gzipped_kb(scripts)
            all_kb = gzipped_kb(sorted((WEB_DIST / "assets").glob("*.js")))
            paint = list_paint_ms(browser, url + "/")
            completed = pay_to_completed_ms(browser, stack, url)
            browser.close()
    figures: dict[str, Any] = {
        "first_page_js_gzip_kb": round(first_kb, 1),
        "budget_kb": BUDGET_KB,
        "within_budget": first_kb <= BUDGET_KB,
        "first_page_scripts": [path.name for path in scripts],
        "all_js_gzip_kb": round(all_kb, 1),
        "navigation_to_list_painted": summary(paint),
        "pay_to_completed_on_page": summary(completed),
        "how": (
            "headless Chromium (Debian) via Playwright; first page = scripts fetched to show / (gzip -9 each); "
            f"list painted = first frame after the first vehicle card, {PAINT_RUNS} fresh contexts; pay -> COMPLETED "
            f"= webhook call (as `vehicle-platform pay`) to the first frame showing COMPLETED, {PAY_RUNS} orders"
        ),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
