"""platform_spec/ is what both stacks are built from: it stays free of AWS libraries (the functions import it), and
the CDK app reads it rather than the local stack, which provisions with boto3."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the spec may import besides the standard library: itself, and the domain's event types (plain Python).
SPEC_MAY_IMPORT = {"platform_spec", "domain"}


def _imported_top_levels(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_spec_imports_only_the_standard_library_and_the_domain() -> None:
    for module in sorted((ROOT / "platform_spec").glob("*.py")):
        foreign = _imported_top_levels(module) - SPEC_MAY_IMPORT - sys.stdlib_module_names
        assert not foreign, f"{module.name} imports {sorted(foreign)}"


def test_the_cdk_app_never_imports_the_local_stack() -> None:
    sources = [*(ROOT / "infra/cdk/vehicle_platform_infra").glob("*.py"), ROOT / "infra/cdk/app.py"]
    for module in sources:
        assert "local_stack" not in _imported_top_levels(module), module.name
