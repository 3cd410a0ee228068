"""The layout's load-bearing rules: graphql/ never shadows graphql-core, and schema.graphql matches the code."""

from __future__ import annotations

from pathlib import Path

import graphql

import graphql_api
from graphql_api.export_schema import schema_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_import_graphql_is_graphql_core_not_the_graphql_folder() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()
    assert Path(graphql.__file__).parent.name == "graphql"
    assert "site-packages" in graphql.__file__
    assert graphql.version_info.major == 3


def test_the_api_package_lives_inside_the_graphql_folder() -> None:
    assert Path(graphql_api.__file__).parent == ROOT / "graphql" / "graphql_api"


def test_schema_graphql_is_what_the_code_exports() -> None:
    assert (ROOT / "schema.graphql").read_text() == schema_sdl(), "schema.graphql is stale: run `make schema`"
