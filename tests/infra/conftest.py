"""The CDK app, synthesized once for the whole infra suite, as `make synth` does but with bundling skipped.

Skipping bundling (`aws:cdk:bundling-stacks` empty) keeps the synthesis offline and a few seconds long: the asset is
then neither built nor read; tests/infra/test_bundling.py builds it for real, once. Everything else is the app's
own configuration (cdk.json's feature flags, the cdk-nag packs), with one change: nag's errors stay annotations
instead of failing the synthesis, so that test_nag.py can list them rather than the fixture erroring out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from vehicle_platform_infra.stack import STACK_NAME, VehiclePlatformStack, add_nag_checks, cdk_json_context

# With this flag on (cdk.json sets it, as CDK recommends), annotations of level error fail the synthesis.
ANNOTATIONS_IN_VALIDATION_REPORT = "@aws-cdk/core:annotationsInValidationReport"


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: VehiclePlatformStack
    template: Template
    # The template as a dict, and the file it was written to (cfn-lint reads that).
    document: dict[str, Any]
    template_path: Path

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.document["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: resource for name, resource in self.resources.items() if resource["Type"] == resource_type}


# The dealership's PSP, which a deployment must name (`-c pixApiUrl=...`): a homologation PSP's shape.
PSP_CONTEXT = {
    "pixApiUrl": "https://pix-h.psp.example/api/v2",
    "pixTokenUrl": "https://pix-h.psp.example/oauth/token",
    "pixKey": "pix@concessionaria.example",
}


def synthesize(outdir: Path, **context: Any) -> Synthesized:
    app = cdk.App(
        context={
            **cdk_json_context(),
            **PSP_CONTEXT,
            "aws:cdk:bundling-stacks": [],
            ANNOTATIONS_IN_VALIDATION_REPORT: False,
            **context,
        },
        outdir=str(outdir),
    )
    stack = VehiclePlatformStack(app, STACK_NAME)
    add_nag_checks(app)
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template_path = Path(assembly.directory) / artifact.template_file
    document: dict[str, Any] = json.loads(template_path.read_text())
    return Synthesized(app, stack, Template.from_json(document), document, template_path)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
