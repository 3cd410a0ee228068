"""The dealership's staff in the back office, and what a customer sees of their work; sessions that end."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Web, order_id_from, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_an_admin_adds_a_vehicle_and_a_product_and_new_stock_releases_a_waiting_order(
    web: Web, new_page: Callable[..., Page]
) -> None:
    admin = new_page()
    sign_in(admin, "admin@example.com", next_path="/admin/veiculos")
    admin.goto("/admin/veiculos")
    model = f"Dolphin {uuid.uuid4().hex[:4]}"
    new_vehicle = admin.locator("form", has=admin.get_by_role("heading", name="Cadastrar veículo"))
    new_vehicle.get_by_label("Marca").fill("BYD")
    new_vehicle.get_by_label("Modelo").fill(model)
    new_vehicle.get_by_label("Ano").fill("2025")
    new_vehicle.get_by_label("Cor").fill("Azul")
    new_vehicle.get_by_label("Preço").fill("149.800,00")
    new_vehicle.get_by_role("button", name="Cadastrar veículo").click()
    expect(admin.get_by_role("status").filter(has_text=f"BYD {model} 2025")).to_be_visible()
    expect(admin.get_by_test_id("admin-vehicle-list")).to_contain_text(f"BYD {model} 2025")
    expect(admin.get_by_test_id("admin-vehicle-list")).to_contain_text("R$ 149.800,00")
    screenshot(admin, "admin-vehicles")

    sku = f"PRD-{uuid.uuid4().hex[:6].upper()}"
    admin.goto("/admin/produtos")
    new_product = admin.locator("form", has=admin.get_by_role("heading", name="Cadastrar produto"))
    new_product.get_by_label("SKU").fill(sku)
    new_product.get_by_label("Descrição").fill("Carregador veicular")
    new_product.get_by_label("Preço unitário").fill("99,90")
    new_product.get_by_label("Estoque inicial").fill("0")
    new_product.get_by_role("button", name="Cadastrar produto").click()
    product_row = admin.locator(f"tr[data-product-id='{sku}']")
    expect(product_row).to_be_visible()
    expect(product_row.get_by_test_id("stock-on-hand")).to_have_text("0")

    customer = new_page()
    sign_in(customer, "customer@example.com", next_path="/produtos")
    customer.goto("/produtos")
    customer.get_by_label("Quantidade de Carregador veicular").fill("2")
    customer.get_by_role("button", name="Fazer pedido").click()
    order_id = order_id_from(customer)
    status = customer.get_by_test_id("order-status")
    expect(status.locator("[data-status=PENDING_STOCK]")).to_be_visible()
    expect(customer.locator(f"tr[data-product-id='{sku}'] [data-status=PENDING]")).to_be_visible()

    admin.goto("/admin/aguardando-estoque")
    waiting = admin.locator(".order-row", has=admin.get_by_role("link", name=order_id))
    expect(waiting).to_be_visible()
    screenshot(admin, "admin-pending-stock")

    admin.goto("/admin/produtos")
    admin.get_by_label(f"Ajuste de estoque de {sku}").fill("5")
    admin.locator(f"tr[data-product-id='{sku}']").get_by_role("button", name="Ajustar estoque").click()
    expect(product_row.get_by_test_id("stock-on-hand")).to_have_text("5")

    # The waiting order is reserved and goes on to payment by itself: the customer's page follows, live.
    expect(status.locator("[data-status=AWAITING_PAYMENT]")).to_be_visible()
    expect(customer.locator(f"tr[data-product-id='{sku}'] [data-status=RESERVED]")).to_be_visible()
    expect(customer.get_by_test_id("payment-amount")).to_have_text("R$ 199,80")
    admin.goto("/admin/aguardando-estoque")
    expect(admin.get_by_test_id("order-list")).not_to_contain_text(order_id)


def test_the_api_explorer_is_graphiql_bundled_with_the_app_and_loaded_only_when_opened(
    web: Web, new_page: Callable[..., Page]
) -> None:
    admin = new_page()
    scripts: list[str] = []
    admin.on("request", lambda request: scripts.append(request.url) if request.resource_type == "script" else None)
    sign_in(admin, "admin@example.com", next_path="/admin/veiculos")
    assert not [url for url in scripts if "Explorer" in url]
    # GraphiQL ignores the run button until its schema has loaded: wait for the introspection to be answered.
    with admin.expect_response(lambda response: "__schema" in (response.request.post_data or "")):
        admin.get_by_role("link", name="Explorador da API").click()
    expect(admin.locator(".graphiql-container")).to_be_visible()
    assert [url for url in scripts if "Explorer" in url]
    assert all(url.startswith(web.url) for url in scripts), "every script comes from the app's own origin"
    # It runs queries against the API with the admin's token. GraphiQL's editors load after its container shows
    # and a click before they are ready is dropped (CI saw it even after the introspection was answered): like a
    # person would, press run again until the answer shows.
    expect(admin.locator(".graphiql-query-editor")).to_contain_text("VehiclesForSale")
    response = admin.locator(".graphiql-response")
    for _ in range(10):
        admin.locator(".graphiql-execute-button").click()
        try:
            expect(response).to_contain_text('"vehicles"', timeout=3_000)
            break
        except AssertionError:
            continue
    expect(response).to_contain_text('"vehicles"')


def test_a_refused_token_is_refreshed_and_a_refused_refresh_asks_to_sign_in_again(
    web: Web, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    sign_in(page, "customer@example.com", next_path="/pedidos")
    page.goto("/pedidos")
    expect(page.get_by_role("heading", name="Meus pedidos")).to_be_visible()

    # The API refuses a token whose signature does not verify (as it would a revoked or forged one): the app gets
    # a new one with the refresh token and carries on.
    stored = page.evaluate("JSON.parse(localStorage.getItem('vp.session'))")
    header, payload, _ = stored["idToken"].split(".")
    forged = f"{header}.{payload}.{'A' * 342}"
    page.evaluate(
        "token => { const s = JSON.parse(localStorage.getItem('vp.session')); s.idToken = token;"
        " localStorage.setItem('vp.session', JSON.stringify(s)); }",
        forged,
    )
    page.reload()
    expect(page.get_by_test_id("order-list")).to_be_visible()
    expect(page.get_by_test_id("order-list").locator(".order-row").first).to_be_visible()
    refreshed = page.evaluate("JSON.parse(localStorage.getItem('vp.session')).idToken")
    assert refreshed != forged
    expect(page.get_by_test_id("session-expired")).to_have_count(0)

    # Now Cognito refuses the refresh token too: the person is asked to sign in again, and comes back after.
    page.evaluate(
        "token => { const s = JSON.parse(localStorage.getItem('vp.session')); s.idToken = token;"
        " s.refreshToken = 'revoked'; localStorage.setItem('vp.session', JSON.stringify(s)); }",
        forged,
    )
    page.reload()
    expect(page.get_by_test_id("session-expired")).to_have_text("Sua sessão expirou ou foi recusada. Entre novamente.")
    expect(page).to_have_url(re.compile(r"/entrar\?next=%2Fpedidos"))
    screenshot(page, "session-expired")
    page.get_by_label("E-mail").fill("customer@example.com")
    page.get_by_label("Senha").fill("Demo-Passw0rd")
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_role("heading", name="Meus pedidos")).to_be_visible()
