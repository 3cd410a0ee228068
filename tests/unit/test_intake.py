"""Order files (seed 002's format): each order judged on its own, every fault named by its path in the file."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.intake import (
    MAX_LINES_PER_ORDER,
    MAX_ORDERS_PER_FILE,
    BatchReport,
    FieldError,
    IntakeLine,
    IntakeOrder,
    review_batch,
    validate_order,
)
from domain.products import Product, create_product
from domain.values import Money
from tests.unit.factories import CPF_ANA, NOW

# Seed 002's example, verbatim: its CPF and CNPJ are placeholders whose check digits are wrong.
SEED_002_EXAMPLE = """
{
  "order_id": "ORD-20231001-0001",
  "company": {
    "name": "Tech Solutions Ltda",
    "cnpj": "12.345.678/0001-99"
  },
  "customer": {
    "first_name": "Mariana",
    "last_name": "Alves",
    "cpf": "123.456.789-00",
    "email": "mariana.alves@example.com",
    "phone": "+55 21 91234-5678",
    "address": {
      "street": "Avenida das Américas",
      "number": "5000",
      "complement": "Bloco 2, Apt 301",
      "neighborhood": "Barra da Tijuca",
      "city": "Rio de Janeiro",
      "state": "RJ",
      "zip_code": "22640-102"
    }
  },
  "order_date": "2023-10-01T10:30:00Z",
  "items": [
    {
      "product_id": "PRD-1001",
      "description": "Smartphone XYZ",
      "quantity": 1,
      "unit_price": 2500.00
    },
    {
      "product_id": "PRD-2002",
      "description": "Fone de Ouvido Bluetooth",
      "quantity": 2,
      "unit_price": 150.00
    }
  ],
  "payment": {
    "method": "Cartão de Crédito",
    "transaction_id": "TXN-9876543210",
    "amount": 2800.00
  },
  "shipping": {
    "method": "Express",
    "cost": 50.00,
    "address": {
      "street": "Avenida das Américas",
      "number": "5000",
      "complement": "Bloco 2, Apt 301",
      "neighborhood": "Barra da Tijuca",
      "city": "Rio de Janeiro",
      "state": "RJ",
      "zip_code": "22640-102"
    },
    "expected_delivery_date": "2023-10-03"
  },
  "order_status": "Pendente",
  "notes": "Entregar no período da tarde."
}
"""
# A CNPJ with correct check digits.
VALID_CNPJ = "11.222.333/0001-81"
VALID_SEED_TEXT = SEED_002_EXAMPLE.replace("123.456.789-00", CPF_ANA).replace("12.345.678/0001-99", VALID_CNPJ)

DROP = object()


def seed_order(changes: Mapping[str, object] | None = None) -> dict[str, Any]:
    """Seed 002's example with valid documents; `changes` maps a path ("items[1].quantity") to a value or DROP."""
    order: dict[str, Any] = json.loads(VALID_SEED_TEXT)
    for path, value in (changes or {}).items():
        *parents, leaf = [int(key) if key.isdigit() else key for key in re.findall(r"\w+", path)]
        target: Any = order
        for key in parents:
            target = target[key]
        if value is DROP:
            del target[leaf]
        else:
            target[leaf] = copy.deepcopy(value)
    return order


class FakeCatalog:
    def __init__(self, *products: Product) -> None:
        self._products = {product.sku: product for product in products}
        self.calls: list[list[str]] = []

    def get_many(self, skus: Iterable[str]) -> Mapping[str, Product]:
        wanted = list(skus)
        self.calls.append(wanted)
        return {sku: self._products[sku] for sku in wanted if sku in self._products}


class FakeOrders:
    def __init__(self, *existing: str) -> None:
        self._existing = set(existing)
        self.calls: list[list[str]] = []

    def existing(self, order_ids: Iterable[str]) -> set[str]:
        wanted = list(order_ids)
        self.calls.append(wanted)
        return self._existing & set(wanted)


def seed_catalog() -> FakeCatalog:
    return FakeCatalog(
        create_product(sku="PRD-1001", description="Smartphone XYZ", unit_price="2500.00", initial_stock=5, now=NOW),
        create_product(
            sku="PRD-2002", description="Fone de Ouvido Bluetooth", unit_price="150.00", initial_stock=5, now=NOW
        ),
    )


def review(text: str | bytes, *, catalog: FakeCatalog | None = None, orders: FakeOrders | None = None) -> BatchReport:
    return review_batch(
        "intake/orders.json",
        text,
        products=catalog if catalog is not None else seed_catalog(),
        orders=orders if orders is not None else FakeOrders(),
    )


def fields_of(report: BatchReport) -> list[tuple[int, list[tuple[str, str]]]]:
    return [(rejected.index, [(e.field, e.code) for e in rejected.errors]) for rejected in report.rejected]


def accepted_order(changes: Mapping[str, object] | None = None) -> IntakeOrder:
    result = validate_order(seed_order(changes))
    assert isinstance(result, IntakeOrder), result
    return result


def errors_of(changes: Mapping[str, object]) -> list[FieldError]:
    result = validate_order(seed_order(changes))
    assert isinstance(result, list), result
    return result


# --- the seed's example -------------------------------------------------------------------------------------


def test_the_seed_example_with_valid_documents_is_accepted_with_exact_lines_and_amounts() -> None:
    # Given seed 002's example, its CPF and CNPJ replaced by valid ones, its amounts written as 2500.00
    # When the file is reviewed against a catalog holding both products
    report = review(VALID_SEED_TEXT)
    # Then the order is accepted, every value read exactly
    assert report.rejected == ()
    assert report.file_error is None
    (order,) = report.accepted
    assert order.order_id == "ORD-20231001-0001"
    assert order.company_name == "Tech Solutions Ltda"
    assert order.company_cnpj.value == "11222333000181"
    assert order.customer.name == "Mariana Alves"
    assert order.customer.cpf.value == "52998224725"
    assert order.customer.email.value == "mariana.alves@example.com"
    assert order.customer.phone.value == "+5521912345678"
    assert order.customer.address.street == "Avenida das Américas"
    assert order.customer.address.complement == "Bloco 2, Apt 301"
    assert order.customer.address.zip_code.value == "22640102"
    assert order.order_date == datetime(2023, 10, 1, 10, 30, tzinfo=UTC)
    assert order.lines == (
        IntakeLine("PRD-1001", "Smartphone XYZ", 1, Money(Decimal("2500.00"))),
        IntakeLine("PRD-2002", "Fone de Ouvido Bluetooth", 2, Money(Decimal("150.00"))),
    )
    assert str(order.lines[0].unit_price.amount) == "2500.00"
    assert order.payment_method == "Cartão de Crédito"
    assert order.payment_amount == Money(Decimal("2800.00"))
    assert order.transaction_id == "TXN-9876543210"
    assert order.shipping_method == "Express"
    assert order.shipping_cost == Money(Decimal("50.00"))
    assert order.shipping_address == order.customer.address
    assert order.expected_delivery_date == date(2023, 10, 3)
    assert order.status_label == "Pendente"
    assert order.notes == "Entregar no período da tarde."


def test_the_seed_example_as_written_is_rejected_for_its_cpf_and_its_cnpj() -> None:
    # Given seed 002's example verbatim, whose CPF and CNPJ check digits are wrong
    # When the file is reviewed
    report = review(SEED_002_EXAMPLE)
    # Then it is rejected naming both documents, and only them
    assert report.accepted == ()
    (rejected,) = report.rejected
    assert rejected.index == 0
    assert rejected.order_id == "ORD-20231001-0001"
    assert rejected.errors == (
        FieldError("company.cnpj", "VALIDATION", "CNPJ is not valid"),
        FieldError("customer.cpf", "VALIDATION", "CPF is not valid"),
    )


# --- a file of many orders ----------------------------------------------------------------------------------

# index -> (changes, the field and code the rejection must name)
FAULTS: dict[int, tuple[dict[str, object], tuple[str, str]]] = {
    3: ({"customer.cpf": "123.456.789-00"}, ("customer.cpf", "VALIDATION")),
    11: ({"customer.email": "mariana.example.com"}, ("customer.email", "VALIDATION")),
    25: ({"items[1].quantity": 0}, ("items[1].quantity", "VALIDATION")),
    30: ({"items[0].product_id": "PRD-9999"}, ("items[0].product_id", "NOT_FOUND")),
    42: ({"items[0].unit_price": 2400.00, "payment.amount": 2700.00}, ("items[0].unit_price", "VALIDATION")),
    57: ({"payment.amount": 2850.00}, ("payment.amount", "VALIDATION")),
    64: ({"shipping.address.zip_code": "2264-0102"}, ("shipping.address.zip_code", "VALIDATION")),
    71: ({"order_date": DROP}, ("order_date", "VALIDATION")),
    88: ({"order_date": "2023-10-01T10:30:00"}, ("order_date", "VALIDATION")),
    95: ({"order_id": "ORD-EXISTING"}, ("order_id", "CONFLICT")),
}


def test_a_file_of_100_orders_with_10_bad_ones_accepts_the_90_good_ones_in_file_order() -> None:
    # Given 100 orders, 10 of them wrong in 10 different ways, one reusing an id that already exists
    orders = []
    for index in range(100):
        changes, _ = FAULTS.get(index, ({}, ("", "")))
        orders.append(seed_order({"order_id": f"ORD-{index:04d}", **changes}))
    catalog = seed_catalog()
    known = FakeOrders("ORD-EXISTING")
    # When the file is reviewed
    report = review(json.dumps(orders), catalog=catalog, orders=known)
    # Then the 90 good ones are accepted in file order, and each bad one is rejected naming its own fault only
    assert [order.order_id for order in report.accepted] == [f"ORD-{i:04d}" for i in range(100) if i not in FAULTS]
    assert fields_of(report) == [(index, [expected]) for index, (_, expected) in sorted(FAULTS.items())]
    assert report.rejected[-1].errors[0].message == "order ORD-EXISTING already exists"
    # And the catalog and the stored orders were each asked once, for the whole file
    assert catalog.calls == [["PRD-1001", "PRD-2002", "PRD-9999"]]
    assert len(known.calls) == 1
    assert len(known.calls[0]) == 100


def test_every_fault_of_one_order_is_reported_together_catalog_faults_included() -> None:
    # Given one order wrong in many places, one of its products unknown
    order = seed_order(
        {
            "company.cnpj": "12.345.678/0001-99",
            "customer.cpf": "123.456.789-00",
            "customer.address.state": "XX",
            "items[0].quantity": -1,
            "items[1].product_id": "PRD-404",
            "shipping.cost": -5,
            "order_status": DROP,
            "notes": 42,
        }
    )
    # When the file is reviewed
    report = review(json.dumps(order))
    # Then a single rejection lists every fault: the structural ones first, then what the catalog says
    assert fields_of(report) == [
        (
            0,
            [
                ("company.cnpj", "VALIDATION"),
                ("customer.cpf", "VALIDATION"),
                ("customer.address.state", "VALIDATION"),
                ("items[0].quantity", "VALIDATION"),
                ("shipping.cost", "VALIDATION"),
                ("order_status", "VALIDATION"),
                ("notes", "VALIDATION"),
                ("items[1].product_id", "NOT_FOUND"),
            ],
        )
    ]
    messages = {error.field: error.message for error in report.rejected[0].errors}
    assert messages["items[0].quantity"] == "quantity must be at least 1"
    assert messages["shipping.cost"] == "cost must not be negative"
    assert messages["order_status"] == "order_status is required"
    assert messages["notes"] == "notes must be text"
    assert messages["items[1].product_id"] == "product PRD-404 does not exist"


# --- the file as a whole ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        '{"order_id": "ORD-1",',
        b"\xff\xfe{}",
        "42",
        '"ORD-1"',
        "null",
        "[1, 2]",
        "[[{}]]",
        "[]",
        json.dumps([{}] * (MAX_ORDERS_PER_FILE + 1)),
    ],
    ids=[
        "empty",
        "text",
        "truncated",
        "not-utf8",
        "number",
        "string",
        "null",
        "array-of-numbers",
        "nested-array",
        "empty-array",
        "too-many-orders",
    ],
)
def test_a_file_that_cannot_be_taken_as_orders_is_reported_whole(text: str | bytes) -> None:
    # Given a file that is not JSON, not an order or array of orders, empty, or too long
    catalog = seed_catalog()
    known = FakeOrders()
    # When it is reviewed
    report = review(text, catalog=catalog, orders=known)
    # Then the file is reported as a whole, nothing accepted, nothing looked up
    assert report.file_error
    assert report.accepted == ()
    assert report.rejected == ()
    assert catalog.calls == []
    assert known.calls == []


def test_the_file_error_says_why() -> None:
    assert review("[]").file_error == "file holds an empty array: no orders"
    assert review("not json").file_error == "file is not valid JSON: Expecting value: line 1 column 1 (char 0)"
    assert review("42").file_error == "file must hold an order object or an array of order objects"


def test_a_file_of_exactly_the_maximum_orders_is_read() -> None:
    report = review(json.dumps([{}] * MAX_ORDERS_PER_FILE))
    assert report.file_error is None
    assert len(report.rejected) == MAX_ORDERS_PER_FILE


def test_a_single_object_and_an_array_of_orders_are_both_accepted() -> None:
    single = review(VALID_SEED_TEXT)
    array = review(json.dumps([seed_order(), seed_order({"order_id": "ORD-20231001-0002"})]))
    assert [order.order_id for order in single.accepted] == ["ORD-20231001-0001"]
    assert [order.order_id for order in array.accepted] == ["ORD-20231001-0001", "ORD-20231001-0002"]


@pytest.mark.parametrize(
    "text",
    [b"\xef\xbb\xbf" + VALID_SEED_TEXT.encode(), VALID_SEED_TEXT.encode(), "\ufeff" + VALID_SEED_TEXT],
    ids=["bytes-with-bom", "bytes", "text-with-bom"],
)
def test_utf8_bytes_and_a_byte_order_mark_are_read(text: str | bytes) -> None:
    report = review(text)
    assert [order.customer.address.street for order in report.accepted] == ["Avenida das Américas"]


def test_an_array_element_that_is_not_an_object_is_rejected_alone() -> None:
    report = review(json.dumps([seed_order(), 42, seed_order({"order_id": "ORD-2"})]))
    assert [order.order_id for order in report.accepted] == ["ORD-20231001-0001", "ORD-2"]
    assert fields_of(report) == [(1, [("order", "VALIDATION")])]
    assert report.rejected[0].order_id is None


def test_nan_in_an_amount_rejects_that_order_only() -> None:
    text = VALID_SEED_TEXT.replace('"unit_price": 2500.00', '"unit_price": NaN')
    report = review(text)
    assert fields_of(report) == [(0, [("items[0].unit_price", "VALIDATION")])]
    assert report.rejected[0].errors[0].message == "unit_price must be a finite number"


# --- the catalog and the stored orders ----------------------------------------------------------------------


def test_an_unknown_product_is_not_found() -> None:
    report = review(json.dumps(seed_order({"items[1].product_id": "prd-3003"})))
    assert report.rejected[0].errors == (
        FieldError("items[1].product_id", "NOT_FOUND", "product PRD-3003 does not exist"),
    )


def test_an_order_id_that_already_exists_is_a_conflict() -> None:
    report = review(VALID_SEED_TEXT, orders=FakeOrders("ORD-20231001-0001"))
    assert report.accepted == ()
    assert report.rejected[0].errors == (FieldError("order_id", "CONFLICT", "order ORD-20231001-0001 already exists"),)


def test_an_order_id_repeated_in_the_file_goes_to_its_first_order() -> None:
    # Given two orders with the same id, the second one otherwise fine
    first = seed_order()
    second = seed_order({"notes": "outra entrega"})
    # When the file is reviewed
    report = review(json.dumps([first, second]))
    # Then the first is accepted and the second is a conflict pointing at it
    assert [order.notes for order in report.accepted] == ["Entregar no período da tarde."]
    assert report.rejected[0].index == 1
    assert report.rejected[0].errors == (
        FieldError("order_id", "CONFLICT", "order ORD-20231001-0001 already appears at index 0"),
    )


def test_a_unit_price_other_than_the_catalogs_is_refused() -> None:
    report = review(json.dumps(seed_order({"items[0].unit_price": "2400.00", "payment.amount": "2700.00"})))
    assert report.rejected[0].errors == (
        FieldError("items[0].unit_price", "VALIDATION", "unit_price is 2400.00 but the catalog price is 2500.00"),
    )


def test_a_payment_amount_other_than_the_sum_of_the_lines_is_refused() -> None:
    # The shipping cost is not part of the amount: seed 002 pays 2800.00 for 2500.00 + 2 x 150.00, plus 50.00 freight
    errors = errors_of({"payment.amount": 2850.00})
    assert errors == [FieldError("payment.amount", "VALIDATION", "amount is 2850.00 but the items add up to 2800.00")]


def test_the_same_product_twice_in_one_order_is_refused_on_the_second_line() -> None:
    second_line = {"product_id": "prd-1001", "description": "Smartphone XYZ", "quantity": 1, "unit_price": 2500}
    errors = errors_of({"items[1]": second_line, "payment.amount": 5000})
    assert errors == [FieldError("items[1].product_id", "VALIDATION", "product PRD-1001 is already in items[0]")]


# --- one field at a time ------------------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -1, 1.5, 2.0, "2", True, None, 10_001])
def test_a_quantity_other_than_a_whole_number_from_1_to_10000_is_refused(quantity: object) -> None:
    errors = errors_of({"items[0].quantity": quantity})
    assert [error.field for error in errors] == ["items[0].quantity"]


@pytest.mark.parametrize("quantity", ["1.5", "2.0", "1e1", "true", '"2"'])
def test_a_quantity_written_as_anything_but_an_integer_in_the_file_is_refused(quantity: str) -> None:
    text = VALID_SEED_TEXT.replace('"quantity": 1,', f'"quantity": {quantity},')
    assert fields_of(review(text)) == [(0, [("items[0].quantity", "VALIDATION")])]


def test_the_largest_quantity_is_accepted() -> None:
    order = accepted_order({"items[0].quantity": 10_000, "payment.amount": "25000300.00"})
    assert order.lines[0].quantity == 10_000


REQUIRED_PATHS = [
    "order_id",
    "company",
    "company.name",
    "company.cnpj",
    "customer",
    "customer.first_name",
    "customer.last_name",
    "customer.cpf",
    "customer.email",
    "customer.phone",
    "customer.address",
    "customer.address.street",
    "customer.address.number",
    "customer.address.neighborhood",
    "customer.address.city",
    "customer.address.state",
    "customer.address.zip_code",
    "order_date",
    "items",
    "items[0].product_id",
    "items[0].description",
    "items[0].quantity",
    "items[0].unit_price",
    "payment",
    "payment.method",
    "payment.amount",
    "shipping",
    "shipping.method",
    "shipping.cost",
    "shipping.address",
    "shipping.address.zip_code",
    "order_status",
]


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_a_missing_required_field_is_named_by_its_path(path: str) -> None:
    name = path.rsplit(".", 1)[-1]
    assert errors_of({path: DROP}) == [FieldError(path, "VALIDATION", f"{name} is required")]


@pytest.mark.parametrize("path", ["order_id", "customer.cpf", "customer.address.city", "items[1].product_id"])
@pytest.mark.parametrize("blank", [None, "", "   "])
def test_a_null_or_blank_required_field_is_missing(path: str, blank: object) -> None:
    name = path.rsplit(".", 1)[-1]
    assert errors_of({path: blank}) == [FieldError(path, "VALIDATION", f"{name} is required")]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("company", "Tech Solutions", "company must be an object"),
        ("customer.address", ["Avenida"], "address must be an object"),
        ("items", {"product_id": "PRD-1001"}, "items must be an array"),
        ("items", [], "items must have at least one line"),
        ("items[0]", "PRD-1001", "items[0] must be an object"),
        ("customer.first_name", 5, "first_name must be text"),
        ("customer.address.number", 5000, "number must be text"),
        ("customer.cpf", 52998224725, "cpf must be text"),
        ("items[0].product_id", 1001, "product_id must be text"),
        ("items[0].unit_price", [2500], "unit_price must be a number"),
        ("items[0].unit_price", True, "unit_price must be a number"),
        ("items[0].unit_price", 2500.001, "unit_price has more than two decimal places"),
        ("order_id", "ORD 2023 0001", "order_id must be 1-64 letters, digits, dashes, underscores or dots"),
        ("order_id", "O" * 65, "order_id must be 1-64 letters, digits, dashes, underscores or dots"),
        ("items[0].product_id", "PRD_1001", "product_id must be 2-40 letters, digits or dashes, like PRD-1001"),
        ("customer.address.zip_code", "2264-0102", "CEP must have 8 digits, e.g. 22640-102"),
        ("customer.phone", "91234-5678", "phone must have area code and number, e.g. (21) 91234-5678"),
        ("order_date", "01/10/2023", "order_date must be an ISO 8601 date and time, e.g. 2023-10-01T10:30:00Z"),
        ("order_date", "2023-10-01T10:30:00", "order_date must include a timezone, e.g. 2023-10-01T10:30:00Z"),
        (
            "shipping.expected_delivery_date",
            "03/10/2023",
            "expected_delivery_date must be an ISO 8601 date, e.g. 2023-10-03",
        ),
        ("shipping.expected_delivery_date", "2023-09-30", "expected_delivery_date must not be before order_date"),
        ("notes", "linha 1\nlinha 2", "notes contains control characters"),
    ],
)
def test_a_wrong_value_is_named_by_its_path(path: str, value: object, message: str) -> None:
    assert errors_of({path: value}) == [FieldError(path, "VALIDATION", message)]


def test_an_order_that_is_not_an_object_is_refused() -> None:
    assert validate_order(["ORD-1"]) == [FieldError("order", "VALIDATION", "order must be a JSON object")]


def test_more_lines_than_allowed_are_refused() -> None:
    line = {"product_id": "PRD-1001", "description": "Smartphone XYZ", "quantity": 1, "unit_price": 2500}
    errors = errors_of({"items": [line] * (MAX_LINES_PER_ORDER + 1)})
    assert errors == [FieldError("items", "VALIDATION", f"items must have at most {MAX_LINES_PER_ORDER} lines")]


def test_optional_fields_may_be_left_out() -> None:
    order = accepted_order(
        {
            "customer.address.complement": DROP,
            "payment.transaction_id": None,
            "shipping.expected_delivery_date": DROP,
            "notes": "  ",
        }
    )
    assert order.customer.address.complement is None
    assert order.transaction_id is None
    assert order.expected_delivery_date is None
    assert order.notes is None


def test_free_shipping_is_accepted_and_amounts_may_be_numeric_strings() -> None:
    order = accepted_order({"shipping.cost": 0, "items[1].unit_price": "150.0", "payment.amount": "2800"})
    assert order.shipping_cost == Money.zero()
    assert order.lines[1].unit_price == Money(Decimal("150.00"))
    assert order.payment_amount == Money(Decimal("2800.00"))


def test_an_order_date_keeps_its_offset_and_values_are_normalized() -> None:
    order = accepted_order(
        {
            "order_id": "  ORD-1  ",
            "order_date": "2023-10-01T07:30:00-03:00",
            "items[0].product_id": " prd-1001 ",
            "customer.email": "Mariana.Alves@Example.com",
            "customer.address.state": "rj",
        }
    )
    assert order.order_id == "ORD-1"
    assert order.order_date == datetime(2023, 10, 1, 10, 30, tzinfo=UTC)
    assert order.order_date.utcoffset() == timedelta(hours=-3)
    assert order.lines[0].product_id == "PRD-1001"
    assert order.customer.email.value == "mariana.alves@example.com"
    assert order.customer.address.state == "RJ"


# --- the queue message and the report -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {
            "customer.address.complement": DROP,
            "payment.transaction_id": DROP,
            "shipping.expected_delivery_date": DROP,
            "notes": DROP,
            "order_date": "2023-10-01T07:30:00-03:00",
        },
    ],
    ids=["complete", "optional-fields-left-out"],
)
def test_an_order_survives_the_round_trip_through_its_queue_message(changes: dict[str, object]) -> None:
    order = accepted_order(changes)
    message = order.to_json()
    assert IntakeOrder.from_json(message) == order
    assert IntakeOrder.from_json(message).order_date.tzinfo == order.order_date.tzinfo


def test_the_queue_message_is_seed_shaped_with_exact_amounts() -> None:
    message = json.loads(accepted_order().to_json())
    assert message["order_id"] == "ORD-20231001-0001"
    assert message["customer"]["cpf"] == CPF_ANA
    assert message["company"]["cnpj"] == VALID_CNPJ
    assert message["items"][0] == {
        "product_id": "PRD-1001",
        "description": "Smartphone XYZ",
        "quantity": 1,
        "unit_price": "2500.00",
    }
    assert message["payment"]["amount"] == "2800.00"
    assert message["shipping"]["address"]["zip_code"] == "22640-102"


def test_a_queue_message_that_is_not_a_valid_order_is_refused() -> None:
    message = json.loads(accepted_order().to_json())
    message["customer"]["cpf"] = "123.456.789-00"
    with pytest.raises(ValueError, match=r"customer\.cpf: CPF is not valid"):
        IntakeOrder.from_json(json.dumps(message))


def test_the_report_is_json_ready() -> None:
    # Given a file with one good order and one whose id already exists
    text = json.dumps([seed_order({"order_id": "ORD-NEW"}), seed_order({"order_id": "ORD-OLD"})])
    # When it is reviewed and reported
    report = review(text, orders=FakeOrders("ORD-OLD")).to_dict()
    # Then the report names the accepted ids and every fault of the rejected ones, in JSON-ready form
    assert report == {
        "file": "intake/orders.json",
        "accepted": ["ORD-NEW"],
        "rejected": [
            {
                "index": 1,
                "orderId": "ORD-OLD",
                "errors": [{"field": "order_id", "code": "CONFLICT", "message": "order ORD-OLD already exists"}],
            }
        ],
        "fileError": None,
    }
    assert json.loads(json.dumps(report)) == report


def test_the_report_of_an_unreadable_file_carries_the_file_error() -> None:
    assert review("[]").to_dict() == {
        "file": "intake/orders.json",
        "accepted": [],
        "rejected": [],
        "fileError": "file holds an empty array: no orders",
    }


def test_a_rejected_order_keeps_the_id_it_was_given_even_when_that_id_is_wrong() -> None:
    report = review(json.dumps(seed_order({"order_id": " ORD 1 "})))
    assert report.rejected[0].order_id == "ORD 1"
    assert fields_of(report) == [(0, [("order_id", "VALIDATION")])]


def test_an_offset_other_than_utc_is_kept_in_the_message() -> None:
    order = accepted_order({"order_date": "2023-10-01T07:30:00-03:00"})
    assert json.loads(order.to_json())["order_date"] == "2023-10-01T07:30:00-03:00"
    assert order.order_date.tzinfo == timezone(timedelta(hours=-3))


@pytest.mark.parametrize("amount", ["1_000", "١٢٣", " 150.00 ", "1E+3", "150.000"])
def test_an_amount_written_loosely_in_a_file_is_refused_naming_it(amount: str) -> None:
    errors = errors_of({"items[1].unit_price": amount})
    assert [(error.field, error.code) for error in errors] == [("items[1].unit_price", "VALIDATION")]
