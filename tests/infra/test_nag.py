"""cdk-nag's AWS Solutions and Serverless packs find nothing left unexplained: every finding is fixed, or
suppressed on the one resource it concerns with a reason."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synthesized

PACKS = ("AwsSolutions", "Serverless")


@pytest.mark.parametrize("pack", PACKS)
def test_no_unsuppressed_errors(synthesized: Synthesized, pack: str) -> None:
    findings = Annotations.from_stack(synthesized.stack).find_error("*", Match.string_like_regexp(f"{pack}-.*"))
    assert [f"{finding.id}: {str(finding.entry.data)[:200]}" for finding in findings] == []


@pytest.mark.parametrize("pack", PACKS)
def test_no_unsuppressed_warnings(synthesized: Synthesized, pack: str) -> None:
    findings = Annotations.from_stack(synthesized.stack).find_warning("*", Match.string_like_regexp(f"{pack}-.*"))
    assert [f"{finding.id}: {str(finding.entry.data)[:200]}" for finding in findings] == []


def test_suppressions_sit_on_resources_not_on_the_stack(synthesized: Synthesized) -> None:
    assert "cdk_nag" not in synthesized.document.get("Metadata", {})
    suppressions = [
        rule
        for resource in synthesized.resources.values()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    assert suppressions
    for rule in suppressions:
        # A reason a reader can act on: longer than a label.
        assert len(rule["reason"]) >= 60, json.dumps(rule)
        assert rule["id"].startswith(PACKS), json.dumps(rule)
