"""Prints the schema's SDL; `make schema` writes it to schema.graphql, and a test keeps the two equal."""

from __future__ import annotations

import sys

from graphql_api.schema import build_schema
from runtime.settings import Settings


def schema_sdl() -> str:
    # The SDL does not depend on the deployment: local settings need no secrets.
    return build_schema(Settings.from_env({"APP_ENV": "local"})).as_str() + "\n"


def main() -> None:
    sys.stdout.write(schema_sdl())


if __name__ == "__main__":
    main()
