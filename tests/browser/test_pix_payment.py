"""Paying by Pix from the order's page: the BR Code as a QR code and as a code to copy, paid at the local PSP as a
bank app would (`vehicle-platform pay BRCODE`), the order completing live; a Pix of the wrong amount refunded where
the customer and the staff see it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from pix.brcode import PIX_GUI, decode_brcode
from tests.browser.conftest import Web, order_id_from, screenshot, sign_in
from tests.browser.test_storefront import create_vehicle

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# The page copies the code with navigator.clipboard; the test reads it back from there.
CLIPBOARD = ["clipboard-read", "clipboard-write"]
COUNTDOWN = re.compile(r"^Expira em \d{1,2}:\d{2}(:\d{2})?$")


def buy(page: Page, vehicle_id: str) -> str:
    """The customer buys the vehicle from its page and waits on the order's page for the charge; the order's id."""
    page.goto(f"/veiculos/{vehicle_id}")
    page.get_by_role("button", name="Comprar este veículo").click()
    order_id = order_id_from(page)
    expect(page.get_by_test_id("order-status").locator("[data-status=AWAITING_PAYMENT]")).to_be_visible()
    return order_id


def pay(web: Web, br_code: str, *extra: str) -> None:
    """Pay the charge at the local PSP as the customer's bank app would, with the BR Code the page gave."""
    paid = web.stack.cli("pay", br_code, *extra, check=False)
    assert paid.returncode == 0, f"vehicle-platform pay failed: {paid.stderr or paid.stdout}"


def order_row(page: Page, order_id: str) -> Locator:
    return page.locator(".order-row", has=page.get_by_role("link", name=order_id))


def test_a_vehicle_is_paid_with_the_br_code_copied_from_the_page_and_completes_live(
    web: Web, new_page: Callable[..., Page]
) -> None:
    vehicle_id = create_vehicle(web, f"Kwid {uuid.uuid4().hex[:4]}", "1000.00")
    buyer = new_page(permissions=CLIPBOARD)
    sign_in(buyer, "customer@example.com")
    order_id = buy(buyer, vehicle_id)

    # The charge to pay: its QR code, named for the order, the amount and the time left, counting down.
    qr_code = buyer.get_by_role("img", name=f"QR code Pix do pedido {order_id}")
    expect(qr_code).to_be_visible()
    expect(qr_code).to_have_attribute("data-testid", "pix-qr")
    expect(buyer.get_by_test_id("payment-amount")).to_have_text("R$ 1.000,00")
    expires_in = buyer.get_by_test_id("pix-expires-in")
    expect(expires_in).to_have_text(COUNTDOWN)
    expect(expires_in).not_to_have_text(expires_in.inner_text())

    # The copy-and-paste code is a valid BR Code (its CRC checks) for a Pix charge.
    code_field = buyer.get_by_label("Pix copia e cola")
    expect(code_field).not_to_be_editable()
    br_code = code_field.input_value()
    assert br_code == buyer.get_by_test_id("pix-code").input_value()
    decoded = decode_brcode(br_code)
    assert PIX_GUI in br_code
    assert decoded.location
    screenshot(buyer, "pix-charge")

    buyer.get_by_role("button", name="Copiar código Pix").click()
    expect(buyer.get_by_test_id("pix-copy-status")).to_have_text("Código Pix copiado. Cole-o no app do seu banco.")
    copied = buyer.evaluate("navigator.clipboard.readText()")
    assert copied == br_code

    # Paid with the copied code, the order completes on the same page, without a reload.
    buyer.evaluate("window.__sameDocument = true")
    pay(web, copied)
    status = buyer.get_by_test_id("order-status")
    expect(status.locator("[data-status=COMPLETED]")).to_be_visible()
    expect(status).to_have_text("Situação do pedido: Concluído")
    expect(buyer.get_by_test_id("payment-status")).to_have_text("Pago")
    expect(buyer.get_by_test_id("payment-received")).to_have_text("R$ 1.000,00")
    # Nothing is left to pay, and nothing was owed back.
    expect(buyer.get_by_test_id("pix-qr")).to_have_count(0)
    expect(buyer.get_by_test_id("pix-code")).to_have_count(0)
    expect(buyer.get_by_test_id("refunds")).to_have_count(0)
    expect(buyer.get_by_test_id("invoice-link")).to_be_visible()
    assert buyer.evaluate("window.__sameDocument") is True
    screenshot(buyer, "pix-paid")


def test_a_pix_of_the_wrong_amount_cancels_the_order_and_is_refunded_for_the_customer_and_the_staff_to_see(
    web: Web, new_page: Callable[..., Page]
) -> None:
    vehicle_id = create_vehicle(web, f"Sandero {uuid.uuid4().hex[:4]}", "1200.00")
    buyer = new_page()
    sign_in(buyer, "customer2@example.com")
    order_id = buy(buyer, vehicle_id)
    br_code = buyer.get_by_test_id("pix-code").input_value()

    pay(web, br_code, "--amount", "1000.00")
    status = buyer.get_by_test_id("order-status")
    expect(status.locator("[data-status=CANCELLED]")).to_be_visible()
    expect(status).to_contain_text("Pagamento recusado")
    expect(buyer.get_by_test_id("pix-qr")).to_have_count(0)

    # The list of the customer's orders is read again every few seconds: the refund reaches DEVOLVIDO there.
    buyer.goto("/pedidos")
    refunds = order_row(buyer, order_id).get_by_test_id("refunds")
    expect(refunds.locator("[data-status=REFUNDED]")).to_have_text("Devolvida")
    expect(refunds.get_by_test_id("refund-amount")).to_have_text("R$ 1.000,00")
    expect(refunds).to_contain_text("Concluída em")

    # On the order's page, the whole story: what was paid, the refund and when it was asked for and completed.
    buyer.goto(f"/pedidos/{order_id}")
    refund = buyer.get_by_test_id("refunds").locator("li")
    expect(refund).to_have_count(1)
    expect(refund.locator("[data-status=REFUNDED]")).to_have_text("Devolvida")
    expect(refund).to_contain_text("Pedida em")
    expect(refund).to_contain_text("Concluída em")
    expect(buyer.get_by_test_id("payment-received")).to_have_text("R$ 1.000,00")
    screenshot(buyer, "pix-refunded")

    staff = new_page()
    sign_in(staff, "admin@example.com", next_path="/admin/pedidos")
    staff.goto("/admin/pedidos")
    staff_refunds = order_row(staff, order_id).get_by_test_id("refunds")
    expect(staff_refunds.locator("[data-status=REFUNDED]")).to_have_text("Devolvida")
    expect(staff_refunds.get_by_test_id("refund-amount")).to_have_text("R$ 1.000,00")
