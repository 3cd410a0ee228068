"""The Lambda asset, built for real once: dependencies for arm64 Lambda, the project's packages at its root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from vehicle_platform_infra.bundling import (
    LAMBDA_PYTHON,
    PROJECT_PACKAGES,
    REPO_ROOT,
    LocalPythonBundler,
    find_interpreter,
)
from vehicle_platform_infra.functions import FUNCTIONS

EM_AARCH64 = 183
PYTHON_TAG = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"


@pytest.fixture(scope="module")
def runtime_python() -> str | None:
    """A CPython of the Lambda runtime's version on this machine, if there is one."""
    return find_interpreter(LAMBDA_PYTHON, REPO_ROOT / ".tools" / "bin" / "uv")


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("asset")
    LocalPythonBundler().bundle(out)
    return out


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def test_the_handlers_packages_sit_at_the_asset_root(asset: Path) -> None:
    assert (asset / "graphql_api" / "handler.py").is_file()
    for _, name in PROJECT_PACKAGES:
        assert (asset / name / "__init__.py").is_file(), name
    # `import graphql` is graphql-core, never the project's folder.
    assert (asset / "graphql" / "graphql.py").is_file()
    assert not (asset / "graphql" / "graphql_api").exists()


def test_nothing_of_the_laptop_ships(asset: Path) -> None:
    for absent in ("local_stack", "tests", "bench", "bin", "infra"):
        assert not (asset / absent).exists(), absent
    assert not list(asset.rglob("*.cpython-311.pyc")), "bytecode of the build machine's interpreter"
    for _, name in PROJECT_PACKAGES:
        assert not list((asset / name).rglob("tests")), name


def test_compiled_dependencies_are_linux_arm64_builds_for_the_runtime(asset: Path) -> None:
    (cffi,) = asset.glob("_cffi_backend.*.so")
    assert cffi.name == f"_cffi_backend.{PYTHON_TAG}-aarch64-linux-gnu.so"
    assert elf_machine(cffi) == EM_AARCH64
    rust = next((asset / "cryptography" / "hazmat" / "bindings").glob("_rust*.so"))
    assert elf_machine(rust) == EM_AARCH64


def test_every_locked_runtime_dependency_is_installed(asset: Path) -> None:
    exported = subprocess.run(  # noqa: S603 - the repository's own pinned uv
        [
            str(REPO_ROOT / ".tools" / "bin" / "uv"),
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wanted = {
        line.split("==")[0].strip().lower().replace("-", "_")
        for line in exported.splitlines()
        if line and not line.startswith(("#", " "))
    }
    installed = {path.name.split("-")[0].lower() for path in asset.glob("*.dist-info")}
    assert wanted <= installed
    # Only the runtime's: not the local stack's emulator, not the CDK app.
    assert not {"moto", "uvicorn", "aws_cdk_lib", "cdk_nag", "pytest"} & installed


def test_bytecode_is_compiled_for_the_runtime_when_its_interpreter_is_here(
    asset: Path, runtime_python: str | None
) -> None:
    if runtime_python is None:
        pytest.skip(f"no CPython {LAMBDA_PYTHON} on this machine: the asset ships sources only")
    assert (asset / "graphql_api" / "__pycache__" / f"handler.{PYTHON_TAG}.pyc").is_file()
    assert (asset / "strawberry" / "__pycache__" / f"__init__.{PYTHON_TAG}.pyc").is_file()


def test_every_handler_imports_from_the_asset_alone_on_the_runtimes_python(
    asset: Path, runtime_python: str | None
) -> None:
    """What Lambda does on a cold start, as near as this machine can: the runtime's CPython, an isolated path
    holding the asset only, an AWS-mode environment. (The arm64 extensions cannot load on this machine; no handler
    needs them before its first token.)"""
    if runtime_python is None:
        pytest.skip(f"no CPython {LAMBDA_PYTHON} on this machine")
    handlers = [spec.handler.rpartition(".") for spec in FUNCTIONS.values()]
    script = "\n".join(
        [
            "import importlib, sys",
            f"sys.path.insert(0, {str(asset)!r})",
            *(f"assert callable(getattr(importlib.import_module({m!r}), {a!r}))" for m, _, a in handlers),
            "import graphql; assert graphql.__file__.startswith(sys.path[0]), graphql.__file__",
        ]
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "AWS_REGION": "sa-east-1",
        "TABLE_NAME": "table",
        "COGNITO_USER_POOL_ID": "sa-east-1_pool",
        "COGNITO_CLIENT_ID": "client",
        "CURSOR_SECRET": "secret",
    }
    # -I: no user site, no PYTHONPATH, no current directory; -B: leave the asset as it was built.
    result = subprocess.run(  # noqa: S603 - the interpreter find_interpreter checked
        [runtime_python, "-I", "-B", "-c", script], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 0, result.stderr
