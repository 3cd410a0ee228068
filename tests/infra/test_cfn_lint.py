"""cfn-lint finds no error in the synthesized template, and no warning beyond the ones listed here with a reason."""

from __future__ import annotations

from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Synthesized

# Regions the platform is meant for (the dealerships are in Brazil) and the one most tooling assumes.
REGIONS = ["sa-east-1", "us-east-1"]
ALLOWED_WARNINGS = {
    # CDK makes each function (and CDK's own notification handler, and the bucket notification) depend explicitly
    # on the role or queue it also references, so that the role's policy exists before the function is created:
    # a redundant DependsOn, harmless.
    "W3005": "explicit DependsOn that a reference already implies",
}


def test_cfn_lint_finds_no_errors(synthesized: Synthesized) -> None:
    matches = lint_file(synthesized.template_path, config=ManualArgs(regions=REGIONS))
    unexpected = [
        f"{match.rule.id} {match.message} ({match.path})"
        for match in matches
        if match.rule.id.startswith("E") or (match.rule.id.startswith("W") and match.rule.id not in ALLOWED_WARNINGS)
    ]
    assert unexpected == []
