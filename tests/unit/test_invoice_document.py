"""The invoice page: what a buyer and the tax office read on it, in Brazilian formats, escaped, and byte-stable."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from domain.clients import Client, register_client
from domain.invoice_document import Seller, invoice_content, invoice_document_key
from domain.orders import ItemKind, Order, OrderItem, place_vehicle_order
from domain.values import Cnpj, Money
from runtime.invoice_html import HtmlInvoiceRenderer, brl
from tests.unit.factories import CPF_ANA, NOW, address_input, make_vehicle

NUMBER = "000000123"


def _seller() -> Seller:
    return Seller(
        name="Auto Rio Veículos Ltda",
        cnpj=Cnpj.parse("11222333000181"),
        address="Avenida Brasil, 1000 - Penha, Rio de Janeiro - RJ, 21020-000",
    )


def _buyer() -> Client:
    return register_client(
        client_id="client-ana",
        name="Ana Souza",
        cpf=CPF_ANA,
        email="ana@example.com",
        phone="(21) 91234-5678",
        address=address_input(),
        now=NOW,
    )


def _floor_mats(*, description: str = "Tapete de borracha", quantity: int = 3) -> OrderItem:
    return OrderItem(
        kind=ItemKind.PRODUCT,
        ref_id="PRD-1001",
        description=description,
        quantity=quantity,
        unit_price=Money.parse("149.90"),
    )


def _order(*extra: OrderItem) -> Order:
    order, _ = place_vehicle_order(
        order_id="order-1",
        client_id="client-ana",
        vehicle=make_vehicle(vehicle_id="vehicle-1", price="189900.00"),
        idempotency_key="key-0001-aaaa",
        correlation_id="corr-1",
        now=NOW,
    )
    return replace(order, items=(*order.items, *extra))


def _render(order: Order | None = None, *, issued_at: datetime = NOW) -> str:
    content = invoice_content(
        number=NUMBER,
        issued_at=issued_at,
        seller=_seller(),
        buyer=_buyer(),
        order=order if order is not None else _order(_floor_mats()),
    )
    return HtmlInvoiceRenderer().render(content)


class _Cells(HTMLParser):
    """The text of each table row's cells, as a browser would show them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _table(document: str) -> list[list[str]]:
    parser = _Cells()
    parser.feed(document)
    parser.close()
    return parser.rows


# --- money ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "R$ 0,00"),
        ("0.5", "R$ 0,50"),
        ("1234.5", "R$ 1.234,50"),
        ("189900", "R$ 189.900,00"),
        ("1234567.89", "R$ 1.234.567,89"),
    ],
)
def test_brl_writes_amounts_the_brazilian_way(amount: str, expected: str) -> None:
    assert brl(Money.parse(amount, allow_zero=True)) == expected


def test_brl_groups_totals_beyond_what_one_price_may_be() -> None:
    assert brl(Money(Decimal("12345678901.00"))) == "R$ 12.345.678.901,00"


# --- what the page says -----------------------------------------------------------------------------------------


def test_the_page_is_a_complete_html5_document_in_brazilian_portuguese() -> None:
    document = _render()

    assert document.startswith("<!DOCTYPE html>")
    assert '<html lang="pt-BR">' in document
    assert '<meta charset="utf-8">' in document
    assert document.rstrip().endswith("</html>")


def test_the_page_needs_nothing_from_elsewhere_to_show_or_print() -> None:
    document = _render()

    assert "<link" not in document
    assert "src=" not in document
    assert "<script" not in document
    assert "@media print" in document


def test_the_page_names_itself_a_simplified_nota_fiscal_with_its_number() -> None:
    document = _render()

    assert "<h1>Nota Fiscal</h1>" in document
    assert "Nº 000000123" in document
    assert "sem valor fiscal" in document


def test_times_are_shown_in_brasilia_time() -> None:
    # Brasília is three hours behind UTC: 02:30 UTC on the 16th is still the 15th there.
    document = _render(issued_at=datetime.fromisoformat("2025-06-16T02:30:00+00:00"))

    assert "Emissão: 15/06/2025 23:30" in document
    assert "Data do pedido: 15/06/2025 09:00" in document


def test_the_seller_is_shown_with_a_formatted_cnpj() -> None:
    document = _render()

    assert "Auto Rio Veículos Ltda" in document
    assert "CNPJ: 11.222.333/0001-81" in document
    assert "Avenida Brasil, 1000 - Penha, Rio de Janeiro - RJ, 21020-000" in document


def test_the_buyer_is_shown_with_a_formatted_cpf_email_and_address() -> None:
    document = _render()

    assert "Ana Souza" in document
    assert "CPF: 529.982.247-25" in document
    assert "E-mail: ana@example.com" in document
    assert "Avenida das Americas, 500, Bloco 2 - Barra da Tijuca, Rio de Janeiro - RJ, 22640-102" in document


def test_the_order_is_identified() -> None:
    assert "Pedido: order-1" in _render()


def test_every_item_has_a_row_and_the_total_is_their_sum() -> None:
    document = _render(_order(_floor_mats(quantity=3)))

    assert _table(document) == [
        ["Código", "Descrição", "Quantidade", "Valor unitário", "Valor total"],
        ["vehicle-1", "Toyota Corolla 2025 Prata", "1", "R$ 189.900,00", "R$ 189.900,00"],
        ["PRD-1001", "Tapete de borracha", "3", "R$ 149,90", "R$ 449,70"],
        ["Valor total da nota", "R$ 190.349,70"],
    ]


# --- safety and stability -------------------------------------------------------------------------------------


def test_text_from_people_is_escaped_not_run() -> None:
    hostile = "<script>alert(1)</script>"
    buyer = replace(_buyer(), name='Ana "<b>" & Cia')

    content = invoice_content(
        number=NUMBER, issued_at=NOW, seller=_seller(), buyer=buyer, order=_order(_floor_mats(description=hostile))
    )
    document = HtmlInvoiceRenderer().render(content)

    assert "<script>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "Ana &quot;&lt;b&gt;&quot; &amp; Cia" in document
    assert ["PRD-1001", hostile, "3", "R$ 149,90", "R$ 449,70"] in _table(document)


def test_the_same_sale_always_gives_the_same_page() -> None:
    assert _render() == _render()


def test_a_time_without_a_zone_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _render(issued_at=NOW.replace(tzinfo=None))


def test_the_page_is_stored_under_its_order_and_number() -> None:
    assert invoice_document_key("order-1", NUMBER) == "invoices/order-1/NF-000000123.html"
