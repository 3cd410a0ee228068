"""Order files dropped by staff (seed 002's format): each order checked on its own, every fault reported at once.

A file is a batch typed or exported by people, so it is judged order by order: one bad order never holds back the
good ones, and a rejected order lists all its faults so that the file can be fixed in one pass. Field paths use the
file's own snake_case names ("customer.address.zip_code", "items[1].quantity"), the names the staff see.

Amounts are read exactly: `review_batch` parses JSON numbers as Decimal, so 2500.00 never passes through a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from domain.errors import Conflict, NotFound, ValidationFailed
from domain.products import Product, parse_sku
from domain.values import (
    BRAZILIAN_STATES,
    Address,
    AddressFields,
    Cep,
    Cnpj,
    Cpf,
    Email,
    Money,
    Phone,
    Quantity,
    required_text,
)

MAX_ORDERS_PER_FILE = 1000
MAX_LINES_PER_ORDER = 100

VALIDATION = ValidationFailed.code
NOT_FOUND = NotFound.code
CONFLICT = Conflict.code

_T = TypeVar("_T")

# The order id becomes the platform's order id: it must be safe in keys, logs and FIFO message group ids.
_ORDER_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
# So that "first last" fits the 120 characters a registered client's name may have.
_NAME_PART_MAX = 59
# Enough to recognise an order in a report without echoing a runaway value back.
_LABEL_MAX = 100


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class IntakeLine:
    product_id: str
    description: str
    quantity: int
    unit_price: Money

    @property
    def total(self) -> Money:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class IntakeCustomer:
    first_name: str
    last_name: str
    cpf: Cpf
    email: Email
    phone: Phone
    address: Address

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class IntakeOrder:
    order_id: str
    company_name: str
    company_cnpj: Cnpj
    customer: IntakeCustomer
    order_date: datetime
    lines: tuple[IntakeLine, ...]
    payment_method: str
    payment_amount: Money
    transaction_id: str | None
    shipping_method: str
    shipping_cost: Money
    shipping_address: Address
    expected_delivery_date: date | None
    status_label: str
    notes: str | None

    def to_json(self) -> str:
        """The order in seed 002's own format, canonical values and amounts as exact strings."""
        customer = self.customer
        document = {
            "order_id": self.order_id,
            "company": {"name": self.company_name, "cnpj": str(self.company_cnpj)},
            "customer": {
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "cpf": str(customer.cpf),
                "email": str(customer.email),
                "phone": str(customer.phone),
                "address": AddressFields.of(customer.address).as_dict(),
            },
            "order_date": self.order_date.isoformat(),
            "items": [
                {
                    "product_id": line.product_id,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                }
                for line in self.lines
            ],
            "payment": {
                "method": self.payment_method,
                "transaction_id": self.transaction_id,
                "amount": str(self.payment_amount),
            },
            "shipping": {
                "method": self.shipping_method,
                "cost": str(self.shipping_cost),
                "address": AddressFields.of(self.shipping_address).as_dict(),
                "expected_delivery_date": (
                    self.expected_delivery_date.isoformat() if self.expected_delivery_date is not None else None
                ),
            },
            "order_status": self.status_label,
            "notes": self.notes,
        }
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> IntakeOrder:
        """Read back what `to_json` wrote, through the same validation, so a tampered message cannot slip by."""
        result = validate_order(json.loads(text, parse_float=Decimal))
        if isinstance(result, list):
            faults = "; ".join(f"{error.field}: {error.message}" for error in result)
            raise ValueError(f"not an intake order: {faults}")
        return result


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    order_id: str | None
    errors: tuple[FieldError, ...]


@dataclass(frozen=True, slots=True)
class BatchReport:
    file: str
    accepted: tuple[IntakeOrder, ...]
    rejected: tuple[Rejected, ...]
    file_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "accepted": [order.order_id for order in self.accepted],
            "rejected": [
                {
                    "index": rejected.index,
                    "orderId": rejected.order_id,
                    "errors": [
                        {"field": error.field, "code": error.code, "message": error.message}
                        for error in rejected.errors
                    ],
                }
                for rejected in self.rejected
            ],
            "fileError": self.file_error,
        }


class ProductCatalog(Protocol):
    def get_many(self, skus: Iterable[str]) -> Mapping[str, Product]: ...


class KnownOrders(Protocol):
    def existing(self, order_ids: Iterable[str]) -> set[str]:
        """The ids among `order_ids` that already exist as orders."""
        ...


def validate_order(raw: object) -> IntakeOrder | list[FieldError]:
    """One order's structure and values, without the catalog or the stored orders."""
    checked = _check_order(raw)
    return checked.order if checked.order is not None else list(checked.errors)


def review_batch(file: str, text: str | bytes, *, products: ProductCatalog, orders: KnownOrders) -> BatchReport:
    """Every order of one file, accepted or rejected with all its faults; the lookups are batched across the file."""
    try:
        raws = _load_orders(text)
    except _UnreadableFile as error:
        return BatchReport(file=file, accepted=(), rejected=(), file_error=str(error))

    checked = [_check_order(raw) for raw in raws]
    # The lookups cover partly-read orders too, so that a rejected order also learns about its unknown products.
    skus = sorted({line.sku for order in checked for line in order.catalog_lines})
    catalog = products.get_many(skus) if skus else {}
    order_ids = sorted({order.order_id for order in checked if order.order_id is not None})
    existing = orders.existing(order_ids) if order_ids else set()

    accepted: list[IntakeOrder] = []
    rejected: list[Rejected] = []
    first_seen: dict[str, int] = {}
    for index, order in enumerate(checked):
        errors = list(order.errors)
        if order.order_id is not None:
            first = first_seen.setdefault(order.order_id, index)
            if order.order_id in existing:
                errors.append(FieldError("order_id", CONFLICT, f"order {order.order_id} already exists"))
            elif first != index:
                errors.append(
                    FieldError("order_id", CONFLICT, f"order {order.order_id} already appears at index {first}")
                )
        errors.extend(_catalog_errors(order.catalog_lines, catalog))
        if order.order is not None and not errors:
            accepted.append(order.order)
        else:
            rejected.append(Rejected(index=index, order_id=order.label, errors=tuple(errors)))
    return BatchReport(file=file, accepted=tuple(accepted), rejected=tuple(rejected))


# --- reading a file ---------------------------------------------------------------------------------------


class _UnreadableFile(Exception):
    """The file as a whole cannot be taken as orders; the message says why, for the staff."""


def _load_orders(text: str | bytes) -> list[object]:
    if isinstance(text, bytes):
        try:
            # utf-8-sig: spreadsheet exports and Windows editors often start the file with a byte order mark.
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _UnreadableFile(f"file is not UTF-8 text: {error}") from None
    try:
        # NaN and Infinity become Decimals so that they fail as one order's amount, not as the whole file.
        data = json.loads(text.removeprefix("\ufeff"), parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, RecursionError) as error:
        raise _UnreadableFile(f"file is not valid JSON: {error}") from None
    if isinstance(data, dict):
        return [data]
    if not isinstance(data, list) or (data and not any(isinstance(item, dict) for item in data)):
        raise _UnreadableFile("file must hold an order object or an array of order objects")
    if not data:
        raise _UnreadableFile("file holds an empty array: no orders")
    if len(data) > MAX_ORDERS_PER_FILE:
        raise _UnreadableFile(f"file holds {len(data)} orders; at most {MAX_ORDERS_PER_FILE} are allowed per file")
    return data


# --- checking one order -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CatalogLine:
    index: int
    sku: str
    unit_price: Money | None


@dataclass(frozen=True, slots=True)
class _CheckedOrder:
    """An order as far as it could be read: the catalog and existence checks use what parsed, whatever failed."""

    errors: tuple[FieldError, ...]
    order: IntakeOrder | None
    order_id: str | None
    label: str | None
    catalog_lines: tuple[_CatalogLine, ...]


def _catalog_errors(lines: Iterable[_CatalogLine], catalog: Mapping[str, Product]) -> list[FieldError]:
    errors: list[FieldError] = []
    for line in lines:
        product = catalog.get(line.sku)
        if product is None:
            errors.append(
                FieldError(f"items[{line.index}].product_id", NOT_FOUND, f"product {line.sku} does not exist")
            )
        elif line.unit_price is not None and line.unit_price != product.unit_price:
            errors.append(
                FieldError(
                    f"items[{line.index}].unit_price",
                    VALIDATION,
                    f"unit_price is {line.unit_price} but the catalog price is {product.unit_price}",
                )
            )
    return errors


def _check_order(raw: object) -> _CheckedOrder:
    if not isinstance(raw, dict):
        error = FieldError("order", VALIDATION, "order must be a JSON object")
        return _CheckedOrder(errors=(error,), order=None, order_id=None, label=None, catalog_lines=())
    reader = _OrderReader()
    order = reader.order(raw)
    raw_id = raw.get("order_id")
    label = (raw_id.strip()[:_LABEL_MAX] or None) if isinstance(raw_id, str) else None
    return _CheckedOrder(
        errors=tuple(reader.errors),
        order=order,
        order_id=reader.order_id,
        label=label,
        catalog_lines=tuple(reader.catalog_lines),
    )


class _OrderReader:
    """Reads one order field by field, noting each fault and carrying on, so that all of them are reported.

    A field that fails reads as None; the order is only assembled when no fault was noted.
    """

    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.order_id: str | None = None
        self.catalog_lines: list[_CatalogLine] = []

    def order(self, fields: Mapping[str, object]) -> IntakeOrder | None:
        self.order_id = self.parsed(fields, "order_id", _order_id)
        company = self.section(fields, "company")
        company_name = self.text(company, "company.name") if company is not None else None
        company_cnpj = (
            self.parsed(company, "company.cnpj", lambda raw: Cnpj.parse(_str(raw, "cnpj"), field="cnpj"))
            if company is not None
            else None
        )
        customer = self.customer(fields)
        order_date = self.parsed(fields, "order_date", _order_date)
        lines = self.lines(fields)
        payment = self.section(fields, "payment")
        payment_method, payment_amount, transaction_id = (
            self.payment(payment, lines) if payment is not None else (None, None, None)
        )
        shipping = self.section(fields, "shipping")
        shipping_method, shipping_cost, shipping_address, expected_delivery_date = (
            self.shipping(shipping, order_date) if shipping is not None else (None, None, None, None)
        )
        status_label = self.text(fields, "order_status", max_length=100)
        notes = self.optional(fields, "notes", _text_parser("notes", 1000))
        if (
            self.errors
            or self.order_id is None
            or company_name is None
            or company_cnpj is None
            or customer is None
            or order_date is None
            or lines is None
            or payment_method is None
            or payment_amount is None
            or shipping_method is None
            or shipping_cost is None
            or shipping_address is None
            or status_label is None
        ):
            return None
        return IntakeOrder(
            order_id=self.order_id,
            company_name=company_name,
            company_cnpj=company_cnpj,
            customer=customer,
            order_date=order_date,
            lines=lines,
            payment_method=payment_method,
            payment_amount=payment_amount,
            transaction_id=transaction_id,
            shipping_method=shipping_method,
            shipping_cost=shipping_cost,
            shipping_address=shipping_address,
            expected_delivery_date=expected_delivery_date,
            status_label=status_label,
            notes=notes,
        )

    def customer(self, order: Mapping[str, object]) -> IntakeCustomer | None:
        fields = self.section(order, "customer")
        if fields is None:
            return None
        first_name = self.text(fields, "customer.first_name", max_length=_NAME_PART_MAX)
        last_name = self.text(fields, "customer.last_name", max_length=_NAME_PART_MAX)
        cpf = self.parsed(fields, "customer.cpf", lambda raw: Cpf.parse(_str(raw, "cpf"), field="cpf"))
        email = self.parsed(fields, "customer.email", lambda raw: Email.parse(_str(raw, "email"), field="email"))
        phone = self.parsed(fields, "customer.phone", lambda raw: Phone.parse(_str(raw, "phone"), field="phone"))
        address = self.address(fields, "customer.address")
        if first_name is None or last_name is None or cpf is None or email is None or phone is None or address is None:
            return None
        return IntakeCustomer(first_name, last_name, cpf, email, phone, address)

    def lines(self, order: Mapping[str, object]) -> tuple[IntakeLine, ...] | None:
        items = self.required(order, "items")
        if items is None:
            return None
        if not isinstance(items, list):
            self.fail("items", "items must be an array")
            return None
        if not items:
            self.fail("items", "items must have at least one line")
            return None
        if len(items) > MAX_LINES_PER_ORDER:
            self.fail("items", f"items must have at most {MAX_LINES_PER_ORDER} lines")
            return None
        lines: list[IntakeLine] = []
        first_line_of: dict[str, int] = {}
        for index, item in enumerate(items):
            path = f"items[{index}]"
            if not isinstance(item, dict):
                self.fail(path, f"{path} must be an object")
                continue
            sku = self.parsed(item, f"{path}.product_id", _sku)
            description = self.text(item, f"{path}.description")
            quantity = self.parsed(item, f"{path}.quantity", _quantity)
            unit_price = self.parsed(item, f"{path}.unit_price", _money_parser("unit_price"))
            if sku is not None:
                first = first_line_of.setdefault(sku, index)
                if first != index:
                    # One line per product: a repeated line is more likely a copy-paste slip than a wish for more.
                    self.fail(f"{path}.product_id", f"product {sku} is already in items[{first}]")
                else:
                    self.catalog_lines.append(_CatalogLine(index, sku, unit_price))
            if sku is not None and description is not None and quantity is not None and unit_price is not None:
                lines.append(IntakeLine(sku, description, quantity, unit_price))
        return tuple(lines) if len(lines) == len(items) else None

    def payment(
        self, payment: Mapping[str, object], lines: tuple[IntakeLine, ...] | None
    ) -> tuple[str | None, Money | None, str | None]:
        method = self.text(payment, "payment.method", max_length=100)
        transaction_id = self.optional(payment, "payment.transaction_id", _text_parser("transaction_id", 100))
        amount = self.parsed(payment, "payment.amount", _money_parser("amount"))
        if amount is not None and lines is not None:
            total = sum((line.total for line in lines), Money.zero())
            if amount != total:
                self.fail("payment.amount", f"amount is {amount} but the items add up to {total}")
        return method, amount, transaction_id

    def shipping(
        self, shipping: Mapping[str, object], order_date: datetime | None
    ) -> tuple[str | None, Money | None, Address | None, date | None]:
        method = self.text(shipping, "shipping.method", max_length=100)
        cost = self.parsed(shipping, "shipping.cost", _money_parser("cost", allow_zero=True))
        address = self.address(shipping, "shipping.address")
        expected = self.optional(shipping, "shipping.expected_delivery_date", _delivery_date)
        if expected is not None and order_date is not None and expected < order_date.date():
            self.fail("shipping.expected_delivery_date", "expected_delivery_date must not be before order_date")
        return method, cost, address, expected

    def address(self, parent: Mapping[str, object], path: str) -> Address | None:
        # Address.parse stops at the first bad field; a file is fixed in one pass, so each field is checked here
        # with the same rules and the canonical values go to the constructor.
        fields = self.section(parent, path)
        if fields is None:
            return None
        street = self.text(fields, f"{path}.street")
        number = self.text(fields, f"{path}.number", max_length=20)
        complement = self.optional(fields, f"{path}.complement", _text_parser("complement", 100))
        neighborhood = self.text(fields, f"{path}.neighborhood", max_length=100)
        city = self.text(fields, f"{path}.city", max_length=100)
        state = self.parsed(fields, f"{path}.state", _state)
        zip_code = self.parsed(
            fields, f"{path}.zip_code", lambda raw: Cep.parse(_str(raw, "zip_code"), field="zip_code")
        )
        if (
            street is None
            or number is None
            or neighborhood is None
            or city is None
            or state is None
            or zip_code is None
        ):
            return None
        return Address(street, number, complement, neighborhood, city, state, zip_code)

    # --- one field ---------------------------------------------------------------------------------------

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, VALIDATION, message))

    def required(self, parent: Mapping[str, object], path: str) -> object | None:
        """The raw value at `path` (its last segment is the key in `parent`); None once reported missing."""
        name = _leaf(path)
        raw = parent.get(name)
        if _is_blank(raw):
            self.fail(path, f"{name} is required")
            return None
        return raw

    def parsed(self, parent: Mapping[str, object], path: str, parse: Callable[[object], _T]) -> _T | None:
        raw = self.required(parent, path)
        return None if raw is None else self._parse(raw, path, parse)

    def optional(self, parent: Mapping[str, object], path: str, parse: Callable[[object], _T]) -> _T | None:
        raw = parent.get(_leaf(path))
        return None if _is_blank(raw) else self._parse(raw, path, parse)

    def text(self, parent: Mapping[str, object], path: str, *, max_length: int = 200) -> str | None:
        return self.parsed(parent, path, _text_parser(_leaf(path), max_length))

    def section(self, parent: Mapping[str, object], path: str) -> Mapping[str, object] | None:
        raw = self.required(parent, path)
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail(path, f"{_leaf(path)} must be an object")
            return None
        return raw

    def _parse(self, raw: object, path: str, parse: Callable[[object], _T]) -> _T | None:
        try:
            return parse(raw)
        except ValidationFailed as error:
            # The value objects name the field as they know it; the report names it by its path in the file.
            self.fail(path, error.message)
            return None


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --- field parsers: raise ValidationFailed with a message naming the field ---------------------------------


def _str(raw: object, name: str) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed(name, f"{name} must be text")
    return raw


def _text_parser(name: str, max_length: int) -> Callable[[object], str]:
    return lambda raw: required_text(_str(raw, name), field=name, max_length=max_length)


def _money_parser(name: str, *, allow_zero: bool = False) -> Callable[[object], Money]:
    def parse(raw: object) -> Money:
        if isinstance(raw, float):
            # A caller that loaded the JSON itself hands over floats; their shortest repr is the number written.
            raw = Decimal(str(raw))
        if not isinstance(raw, Decimal | int | str):
            raise ValidationFailed(name, f"{name} must be a number")
        return Money.parse(raw, field=name, allow_zero=allow_zero)

    return parse


def _order_id(raw: object) -> str:
    order_id = _str(raw, "order_id").strip()
    if not _ORDER_ID.fullmatch(order_id):
        raise ValidationFailed("order_id", "order_id must be 1-64 letters, digits, dashes, underscores or dots")
    return order_id


def _sku(raw: object) -> str:
    text = _str(raw, "product_id")
    try:
        return parse_sku(text, field="product_id")
    except ValidationFailed:
        # parse_sku speaks of a "sku"; the file calls it product_id.
        message = "product_id must be 2-40 letters, digits or dashes, like PRD-1001"
        raise ValidationFailed("product_id", message) from None


def _quantity(raw: object) -> int:
    # JSON has one number type: 1.5, 2.0 and "2" all arrive as something other than an int and are refused.
    if not isinstance(raw, int):
        raise ValidationFailed("quantity", "quantity must be a whole number")
    return Quantity.parse(raw, field="quantity").value


def _order_date(raw: object) -> datetime:
    try:
        moment = datetime.fromisoformat(_str(raw, "order_date").strip())
    except ValueError:
        raise ValidationFailed(
            "order_date", "order_date must be an ISO 8601 date and time, e.g. 2023-10-01T10:30:00Z"
        ) from None
    if moment.utcoffset() is None:
        # A naive time could be any of Brazil's four offsets; guessing would shift the order's date.
        raise ValidationFailed("order_date", "order_date must include a timezone, e.g. 2023-10-01T10:30:00Z")
    return moment


def _delivery_date(raw: object) -> date:
    try:
        return date.fromisoformat(_str(raw, "expected_delivery_date").strip())
    except ValueError:
        raise ValidationFailed(
            "expected_delivery_date", "expected_delivery_date must be an ISO 8601 date, e.g. 2023-10-03"
        ) from None


def _state(raw: object) -> str:
    state = _str(raw, "state").strip().upper()
    if state not in BRAZILIAN_STATES:
        raise ValidationFailed("state", "state must be a Brazilian state code, e.g. SP")
    return state
