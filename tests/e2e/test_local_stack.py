"""A new user's first session with the local stack, driven over HTTP as the SPA would drive it."""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LocalStack, running_local_stack

pytestmark = pytest.mark.e2e

LIST = """
query($status: VehicleStatus!, $first: Int, $after: String) {
  vehicles(status: $status, first: $first, after: $after) {
    edges { node { id brand model year price status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def first_error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


def all_pages(stack: LocalStack, status: str, first: int) -> list[dict[str, Any]]:
    vehicles: list[dict[str, Any]] = []
    after = None
    while True:
        page = data(stack.graphql(LIST, {"status": status, "first": first, "after": after}))["vehicles"]
        vehicles += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return vehicles
        after = page["pageInfo"]["endCursor"]


def test_health_reports_the_backing_services(local_stack: LocalStack) -> None:
    health = httpx.get(f"{local_stack.api_url}/health").json()
    assert health["status"] == "ok"
    assert {name for name, entry in health["services"].items() if entry["status"] == "ok"} == {"dynamodb", "cognito"}


def test_a_browser_opening_the_api_is_sent_to_the_explorer_the_web_app_serves(local_stack: LocalStack) -> None:
    page = httpx.get(f"{local_stack.api_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    explorer = f"{local_stack.web_url}/admin/explorador"
    assert f"url={explorer}" in page.text
    # The web app answers its own routes with the app (the SPA fallback), GraphiQL included in its build.
    assert httpx.get(explorer).status_code == 200


def test_a_visitor_browses_the_demo_vehicles_cheapest_first(local_stack: LocalStack) -> None:
    for_sale = all_pages(local_stack, "AVAILABLE", first=5)
    sold = all_pages(local_stack, "SOLD", first=5)

    assert len(for_sale) >= 9
    assert len(sold) >= 2
    assert len({vehicle["brand"] for vehicle in for_sale}) >= 5
    assert all(vehicle["status"] == "AVAILABLE" for vehicle in for_sale)
    for listing in (for_sale, sold):
        prices = [float(vehicle["price"]) for vehicle in listing]
        assert prices == sorted(prices)


def test_an_admin_creates_and_edits_a_vehicle_and_a_customer_cannot(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    create = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { id price status } }"
    vehicle_input = {"brand": "Renault", "model": "Duster", "year": 2024, "color": "Cinza", "price": "119990.00"}

    created = data(local_stack.graphql(create, {"i": vehicle_input}, token("admin@example.com")))["createVehicle"]
    edited = data(
        local_stack.graphql(
            'mutation($id: ID!) { updateVehicle(id: $id, input: {price: "114990.00"}) { price } }',
            {"id": created["id"]},
            token("admin@example.com"),
        )
    )["updateVehicle"]
    refused = first_error(local_stack.graphql(create, {"i": vehicle_input}, token("customer@example.com")))

    assert created["status"] == "AVAILABLE"
    assert edited == {"price": "114990.00"}
    assert refused["extensions"]["code"] == "FORBIDDEN"
    listed = data(local_stack.graphql("query($id: ID!) { vehicle(id: $id) { price } }", {"id": created["id"]}))
    assert listed == {"vehicle": {"price": "114990.00"}}


def test_bad_input_gets_a_precise_error_and_changes_nothing(
    local_stack: LocalStack, token: Callable[[str], str]
) -> None:
    before = all_pages(local_stack, "AVAILABLE", first=50)
    create = "mutation($i: CreateVehicleInput!) { createVehicle(input: $i) { id } }"
    admin = token("admin@example.com")
    bad_year = {"brand": "Fiat", "model": "147", "year": 1700, "color": "Bege", "price": "9999.99"}
    # An amount is read when the variables are (the Decimal scalar), before the domain sees the rest.
    bad_price = {**bad_year, "year": 1980, "price": "9999.999"}

    assert first_error(local_stack.graphql(create, {"i": bad_year}, admin))["extensions"] == {
        "code": "VALIDATION",
        "field": "year",
    }
    assert first_error(local_stack.graphql(create, {"i": bad_price}, admin))["extensions"] == {
        "code": "VALIDATION",
        "field": "price",
    }
    assert all_pages(local_stack, "AVAILABLE", first=50) == before


def test_a_demo_customer_is_already_a_client(local_stack: LocalStack, token: Callable[[str], str]) -> None:
    me = data(local_stack.graphql("{ me { name email cpf } }", token=token("customer@example.com")))["me"]
    assert me == {"name": "Mariana Alves", "email": "customer@example.com", "cpf": "529.982.247-25"}


def test_a_new_user_signs_up_and_registers_as_a_client(local_stack: LocalStack) -> None:
    user_token = local_stack.cli("signup", "New.Buyer@Example.com").stdout.strip()
    register = "mutation($i: RegisterClientInput!) { registerClient(input: $i) { email cpf } }"
    address = {
        "street": "Rua XV de Novembro",
        "number": "10",
        "neighborhood": "Centro",
        "city": "Curitiba",
        "state": "PR",
        "zipCode": "80020-310",
    }
    client = {"name": "Nova Compradora", "phone": "41987654321", "address": address}

    taken = first_error(local_stack.graphql(register, {"i": {**client, "cpf": "529.982.247-25"}}, user_token))
    registered = data(local_stack.graphql(register, {"i": {**client, "cpf": "390.533.447-05"}}, user_token))
    me = data(local_stack.graphql("{ me { name } }", token=user_token))

    assert taken["extensions"] == {"code": "CONFLICT", "field": "cpf"}
    assert registered["registerClient"] == {"email": "new.buyer@example.com", "cpf": "390.533.447-05"}
    assert me == {"me": {"name": "Nova Compradora"}}


def test_token_refuses_an_unknown_user(local_stack: LocalStack) -> None:
    result = local_stack.cli("token", "nobody@example.com", check=False)
    assert result.returncode != 0
    assert "not a user of the local stack" in result.stderr


def test_ctrl_c_stops_everything_cleanly(tmp_path: Path) -> None:
    with running_local_stack(tmp_path / "dev.log") as stack:
        httpx.post(f"{stack.api_url}/graphql", json={"query": "{ __typename }"}, timeout=10)
        stack.process.send_signal(signal.SIGINT)
        stack.process.wait(timeout=30)

        output = stack.output()
        assert stack.process.returncode == 0, output
        assert "POST /graphql 200" in output
        assert "local stack stopped" in output
        for url in (stack.api_url, stack.emulator_url):
            host, port = url.removeprefix("http://").split(":")
            with socket.socket() as probe:
                assert probe.connect_ex((host, int(port))) != 0, f"{url} still answers"
