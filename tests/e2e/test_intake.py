"""Staff drop a batch order file on the local stack with `vehicle-platform intake`, read its report, find the good
orders among every order over GraphQL and the rejected ones in `vehicle-platform mail`, as they would by email."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from domain.values import Cpf
from tests.e2e.conftest import LocalStack
from tests.unit.test_batch_orders import seed_002_order

pytestmark = pytest.mark.e2e

ORDERS = "{ orders(first: 50) { edges { node { id status total items { productId quantity } } } } }"


def new_customer() -> tuple[str, str]:
    """A CPF and an email nobody on the stack has yet."""
    digits = "".join(random.choice("0123456789") for _ in range(8))
    return Cpf.complete(f"9{digits}").value, f"lote-{uuid.uuid4().hex[:8]}@example.com"


def order_id() -> str:
    return f"ORD-E2E-{uuid.uuid4().hex[:10].upper()}"


def listed_order(stack: LocalStack, token: str, wanted: str, timeout: float = 30) -> dict[str, Any]:
    """The order as `orders` lists it for `token`'s user, once it is past PLACED."""
    deadline = time.monotonic() + timeout
    while True:
        body = stack.graphql(ORDERS, token=token).json()
        assert "errors" not in body, body
        found = [edge["node"] for edge in body["data"]["orders"]["edges"] if edge["node"]["id"] == wanted]
        if (found and found[0]["status"] != "PLACED") or time.monotonic() > deadline:
            assert found, f"order {wanted} is not listed"
            order: dict[str, Any] = found[0]
            return order
        time.sleep(0.2)


def test_staff_drop_a_file_read_its_report_and_find_the_orders_it_placed(
    local_stack: LocalStack, token: Callable[[str], str], tmp_path: Path
) -> None:
    # Given a file with seed 002's example order for a new customer, and the same order as the seed writes it
    cpf, email = new_customer()
    good = seed_002_order(order_id(), cpf=cpf, email=email)
    bad = seed_002_order(order_id(), cpf="123.456.789-00")
    path = tmp_path / "pedidos.json"
    path.write_text(json.dumps([good, bad], ensure_ascii=False))

    # When the staff drop it
    dropped = local_stack.cli("intake", str(path))
    report = json.loads(dropped.stdout)

    # Then the report names the accepted order and every fault of the rejected one
    assert dropped.returncode == 0
    assert report["file"].startswith("incoming/")
    assert report["file"].endswith("-pedidos.json")
    assert report["accepted"] == [good["order_id"]]
    assert report["rejected"] == [
        {
            "index": 1,
            "orderId": bad["order_id"],
            "errors": [{"field": "customer.cpf", "code": "VALIDATION", "message": "CPF is not valid"}],
        }
    ]
    assert report["fileError"] is None
    assert "1 accepted, 1 rejected" in dropped.stderr
    # ...the accepted order is among every order the admin sees, its stock reserved
    order = listed_order(local_stack, token("admin@example.com"), good["order_id"])
    assert order["status"] in {"RESERVED", "AWAITING_PAYMENT"}
    assert order["total"] == "2800.00"
    assert order["items"] == [{"productId": "PRD-1001", "quantity": 1}, {"productId": "PRD-2002", "quantity": 2}]
    # ...and the rejected one reached the staff, as the order-errors topic's email would
    mail = local_stack.cli("mail").stdout
    assert f"To: staff (order-errors)\nSubject: Pedido rejeitado: {bad['order_id']}" in mail
    assert "customer.cpf" in mail


def test_a_file_that_is_not_json_gets_a_report_and_a_missing_file_an_error(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    path = tmp_path / "pedidos.csv"
    path.write_text("order_id;cpf\nORD-1;529.982.247-25\n")

    dropped = local_stack.cli("intake", str(path))
    missing = local_stack.cli("intake", str(tmp_path / "nenhum.json"), check=False)

    assert dropped.returncode == 0
    report = json.loads(dropped.stdout)
    assert report["file"].endswith("-pedidos.csv.json")
    assert report["fileError"].startswith("file is not valid JSON")
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
