"""The CDK app's constructs, one per concern; `stack.VehiclePlatformStack` composes them.

The resources are built from the declarations the local stack creates too (platform_spec/, persistence/schema.py),
never retyped here; nothing here imports the local stack.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def suppress(
    construct: IConstruct,
    rules: Sequence[str],
    reason: str,
    *,
    applies_to: Sequence[str] | None = None,
) -> None:
    """Suppress cdk-nag's `rules` (AwsSolutions-…, Serverless-…) on one resource, for one stated reason.

    `construct` is the resource, or the L2 construct wrapping it (its default child gets the suppression, not its
    other children). `applies_to` narrows a suppression to the finding's listed items (an action or resource of a
    policy).
    """
    NagSuppressions.add_resource_suppressions(
        construct,
        [
            NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to) if applies_to else None)
            for rule in rules
        ],
    )


def pascal(name: str) -> str:
    """A resource spec's name as a construct id: `validate-client` -> `ValidateClient`."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", "-").split("-"))
