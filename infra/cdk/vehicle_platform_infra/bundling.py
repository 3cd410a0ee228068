"""The Lambda code asset, built on this machine: no Docker engine is needed (none runs here or in CI).

One asset serves every function. All of them import the same packages (the saga, realtime and GraphQL code share
`domain`, `persistence` and `runtime`, and the realtime handlers render GraphQL), so per-function assets would hold
nearly the same files, and one asset is uploaded and hashed once.

The asset's layout is what the handlers' import paths need: the runtime dependencies, installed for Lambda's
platform (arm64, CPython `LAMBDA_PYTHON`) from the versions `uv.lock` pins, and beside them the project's packages,
with `graphql/graphql_api` copied as `graphql_api` at the root, so that `graphql_api.handler.handler` imports and
`import graphql` stays graphql-core (DESIGN.md). boto3 is bundled although the runtime has one: the runtime's copy
changes when AWS updates it, while this one is the version the tests ran against.

Bytecode is compiled into the asset when an interpreter of the Lambda runtime's version is found here: the task
root is read-only on Lambda, so a function without it compiles every module it imports on every cold start.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

# The runtime every function runs on, and the CPython version the dependencies are installed for: one constant, so
# that the wheels and the bytecode always match the runtime. Not 3.14 (see functions.py, the AwsSolutions-L1
# suppression).
RUNTIME = lambda_.Runtime.PYTHON_3_13
LAMBDA_PYTHON = "3.13"
ARCHITECTURE = lambda_.Architecture.ARM_64
# Wheels for Lambda's arm64 Linux: its Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34), so wheels built
# for that glibc or any older one fit; a project that stopped publishing manylinux2014 wheels still installs.
WHEEL_PLATFORMS = ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64")

REPO_ROOT = Path(__file__).resolve().parents[3]
# (source, name at the asset root): the project's packages the handlers import. local_stack, tests and bench stay
# out: they are the laptop's, not Lambda's.
PROJECT_PACKAGES: tuple[tuple[str, str], ...] = (
    ("domain", "domain"),
    ("persistence", "persistence"),
    ("runtime", "runtime"),
    ("pix", "pix"),
    ("sagas", "sagas"),
    ("platform_spec", "platform_spec"),
    ("composition", "composition"),
    ("realtime", "realtime"),
    ("graphql/graphql_api", "graphql_api"),
)
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", ".pytest_cache", ".mypy_cache")
# Where the functions find their code: compiled modules name their source there, so tracebacks read well.
_TASK_ROOT = "/var/task"
# The interpreter that compiles the bytecode, when it is not found on its own (see `find_interpreter`).
INTERPRETER_VARIABLE = "LAMBDA_PYTHON_INTERPRETER"


class BundlingError(RuntimeError):
    """The asset could not be built: the message says which step failed and what it printed."""


def _plain_environment() -> dict[str, str]:
    """This process's environment without colours: the CDK CLI sets FORCE_COLOR, with which uv would write escape
    codes into the requirements it exports."""
    environment = {name: value for name, value in os.environ.items() if name not in {"FORCE_COLOR", "CLICOLOR_FORCE"}}
    environment["NO_COLOR"] = "1"
    return environment


def _run(command: Sequence[str], *, cwd: Path, what: str) -> str:
    result = subprocess.run(  # noqa: S603 - the pinned uv, the tools' pip, a checked interpreter
        command, cwd=cwd, capture_output=True, text=True, check=False, env=_plain_environment()
    )
    if result.returncode != 0:
        raise BundlingError(f"{what} failed ({' '.join(command)}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _version_of(interpreter: str) -> str | None:
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter we were pointed at or found, asked its version
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_interpreter(version: str, uv: Path) -> str | None:
    """A CPython `version` on this machine, to compile bytecode with; None when there is none.

    Looked for in order: the `LAMBDA_PYTHON_INTERPRETER` variable, `python<version>` on the PATH, uv's interpreters
    (never downloaded), pyenv's versions. Each candidate is asked its version: a pyenv shim can exist and fail.
    """
    candidates: list[str] = []
    if explicit := os.environ.get(INTERPRETER_VARIABLE):
        candidates.append(explicit)
    if on_path := shutil.which(f"python{version}"):
        candidates.append(on_path)
    if uv.exists():
        found = subprocess.run(  # noqa: S603 - the pinned uv, asked where an installed CPython is
            [str(uv), "python", "find", "--no-python-downloads", version],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
        if found.returncode == 0 and found.stdout.strip():
            candidates.append(found.stdout.strip())
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates.extend(sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True))
    return next((candidate for candidate in candidates if _version_of(candidate) == version), None)


@jsii.implements(cdk.ILocalBundling)
class LocalPythonBundler:
    """Builds the asset into CDK's output directory with uv, pip and (when found) a matching CPython."""

    def __init__(self, root: Path = REPO_ROOT, python_version: str = LAMBDA_PYTHON) -> None:
        self.root = root
        self.python_version = python_version
        self.uv = root / ".tools" / "bin" / "uv"
        # The tools environment `make` creates holds pip; the project's .venv (made by uv) has none.
        self.pip: list[str] = [str(root / ".tools" / "bin" / "python"), "-m", "pip"]

    def try_bundle(self, output_dir: str, *, image: cdk.DockerImage, **_options: Any) -> bool:  # noqa: ARG002
        """Build the asset into `output_dir`. Raises on failure rather than answering False: False would have CDK
        fall back to Docker, which is not there, and hide the reason."""
        self.bundle(Path(output_dir))
        return True

    def bundle(self, out: Path) -> None:
        with tempfile.TemporaryDirectory(prefix="lambda-requirements-") as scratch:
            requirements = Path(scratch) / "requirements.txt"
            # The lock's main dependencies only: neither the local stack's nor the CDK app's extras, nor dev tools.
            _run(
                [
                    str(self.uv),
                    "export",
                    "--frozen",
                    "--no-dev",
                    "--no-hashes",
                    "--no-emit-project",
                    "--no-header",
                    "--color",
                    "never",
                    "--output-file",
                    str(requirements),
                ],
                cwd=self.root,
                what="exporting the runtime dependencies from uv.lock",
            )
            _run(
                [
                    *self.pip,
                    "install",
                    "--quiet",
                    "--no-color",
                    "--disable-pip-version-check",
                    *(option for platform in WHEEL_PLATFORMS for option in ("--platform", platform)),
                    "--implementation",
                    "cp",
                    "--python-version",
                    self.python_version,
                    # Wheels only: an sdist would compile for this machine, not for Lambda's.
                    "--only-binary=:all:",
                    # The lock already resolved every transitive dependency; pip must not pick others.
                    "--no-deps",
                    # pip would compile for its own interpreter (3.11), which the runtime ignores.
                    "--no-compile",
                    "--target",
                    str(out),
                    "--requirement",
                    str(requirements),
                ],
                cwd=self.root,
                what=f"installing the dependencies for Linux arm64, CPython {self.python_version}",
            )
        # Console scripts, with this machine's interpreter in their shebang: nothing on Lambda runs them.
        shutil.rmtree(out / "bin", ignore_errors=True)
        for source, name in PROJECT_PACKAGES:
            shutil.copytree(self.root / source, out / name, ignore=_IGNORED)
        self._compile(out)

    def _compile(self, out: Path) -> None:
        interpreter = find_interpreter(self.python_version, self.uv)
        if interpreter is None:
            print(
                f"warning: no CPython {self.python_version} found (set {INTERPRETER_VARIABLE}); the Lambda asset "
                "ships without bytecode, so each cold start compiles what it imports.",
                file=sys.stderr,
            )
            return
        _run(
            [
                interpreter,
                "-m",
                "compileall",
                "-q",
                "-j",
                "0",
                # Paths as Lambda sees them, not this build directory's: the bytecode (and so the asset's hash)
                # is the same on every machine and in every build.
                "-s",
                str(out),
                "-p",
                _TASK_ROOT,
                # Checked against nothing at run time: the task root never changes under a deployed function.
                "--invalidation-mode",
                "unchecked-hash",
                str(out),
            ],
            cwd=out,
            what=f"compiling bytecode with {interpreter}",
        )


def lambda_code() -> lambda_.Code:
    """The one code asset every function shares (CDK uploads an asset bound to several functions once).

    Hashed by its output: the same lock and sources give the same files, so an unchanged build does not redeploy
    the functions. When bundling is skipped (`aws:cdk:bundling-stacks` empty, as the unit tests synthesize), CDK
    neither runs the bundler nor reads the repository.
    """
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(image=RUNTIME.bundling_image, local=LocalPythonBundler()),
    )
