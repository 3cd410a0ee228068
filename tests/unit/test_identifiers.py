"""Ids from outside must look like the ids the platform issues before they are used as keys anywhere."""

from __future__ import annotations

import uuid

import pytest

from domain.batch_orders import batch_client_id
from domain.errors import ValidationFailed
from domain.identifiers import MAX_ID_LENGTH, parse_id
from domain.values import Cpf


@pytest.mark.parametrize(
    "raw",
    [
        str(uuid.uuid4()),  # vehicles, orders, Cognito subjects
        "PRD-1001",  # product SKUs
        "prd-1001",
        "ORD-20231001-0001",  # batch orders keep their file's id
        "order_1.2",
        "x" * MAX_ID_LENGTH,
    ],
)
def test_ids_the_platform_issues_pass(raw: str) -> None:
    assert parse_id(raw, field="id") == raw


def test_a_batch_client_id_passes() -> None:
    client_id = batch_client_id(Cpf.complete("529982247"))
    assert parse_id(client_id) == client_id


def test_an_integer_id_is_read_as_its_digits() -> None:
    assert parse_id(42) == "42"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("x" * (MAX_ID_LENGTH + 1), f"orderId must be at most {MAX_ID_LENGTH} characters"),
        ("x" * 60_000, f"orderId must be at most {MAX_ID_LENGTH} characters"),
        ("", "orderId is required"),
        ("a b", "orderId may contain only letters, digits, '_', '.' and '-'"),
        ("ORDER#1", "orderId may contain only letters, digits, '_', '.' and '-'"),
        ("ção", "orderId may contain only letters, digits, '_', '.' and '-'"),
        ("١٢٣", "orderId may contain only letters, digits, '_', '.' and '-'"),
        ("id\n", "orderId may contain only letters, digits, '_', '.' and '-'"),
        (None, "orderId must be text"),
        (True, "orderId must be text"),
        (["x"], "orderId must be text"),
    ],
)
def test_anything_else_is_refused_naming_the_field(raw: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_id(raw, field="orderId")
    assert caught.value.field == "orderId"
    assert caught.value.message == message
