"""The API against the GraphQL over HTTP specification, audited by the graphql-http package as its authors do."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.e2e.conftest import LocalStack

CLIENT = Path(__file__).parent / "ws_client"


def test_the_api_passes_every_graphql_over_http_audit_with_no_warning(local_stack: LocalStack) -> None:
    """Every MUST and SHOULD: application/graphql-response+json when accepted, 4xx for a request refused before
    execution."""
    node = shutil.which("node")
    assert node, "Node.js runs the audits"
    audited = subprocess.run(  # noqa: S603 - our own script
        [node, "audit_http.mjs", f"{local_stack.api_url}/graphql"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results = [json.loads(line) for line in audited.stdout.splitlines()]

    assert len(results) > 30
    # "error" is a MUST failed, "warn" a SHOULD; "notice" is a MAY the API leaves out on purpose (GET: the HTTP
    # API routes POST only, so no query is ever run by a GET, which a link or a prefetch could trigger).
    assert [result for result in results if result["status"] in {"error", "warn"}] == []
    notices = [result["name"] for result in results if result["status"] == "notice"]
    assert all("GET" in name for name in notices), notices
