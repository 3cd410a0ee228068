"""The Lambda package size per function: the code asset built once, as `make synth` builds it, with the CDK app's own
bundler (infra/cdk/vehicle_platform_infra/bundling.py: the runtime dependencies for Linux arm64 from uv.lock, the
project's packages, bytecode), into a temporary directory; then zipped (deflate, zlib's default level), as the
asset is uploaded.

Every function ships the same asset (bundling.py: one asset, uploaded and hashed once), so each function's size is
the asset's; what differs is the handler it runs, which is checked to be in the asset. Printed: the unzipped and
zipped size, the largest dependencies (by distribution, their bytecode included), and the headroom under Lambda's
limits: 250 MB unzipped (function code and layers together) and 50 MB zipped for a direct upload (the CDK uploads
through S3, where only the unzipped limit applies; the 50 MB is the limit of a console or CLI upload of the zip).

Run: `make bench` (or `.venv/bin/python -m bench.package_size`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zipfile
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The CDK app's package (vehicle_platform_infra) lives in infra/cdk, which pytest and mypy put on the path through
# pyproject.toml; `python -m bench.package_size` puts only the working directory there, so it is added here.
if str(REPO_ROOT / "infra" / "cdk") not in sys.path:
    sys.path.append(str(REPO_ROOT / "infra" / "cdk"))
# jsii names the Node.js major it is told is known to be end-of-life (the Makefile exports the same).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

MB = 1024 * 1024
UNZIPPED_LIMIT = 250 * MB
ZIPPED_LIMIT = 50 * MB
TOP = 10
# zlib's default: what a zip tool uses unless told otherwise (level 9 saves 0.3% here, at twice the time).
ZIP_LEVEL = 6


def owners(asset: Path, project: set[str]) -> dict[str, str]:
    """Each file of the asset (its path relative to the asset) -> who ships it: a distribution, or the project's."""
    by_path: dict[str, str] = {}
    by_top: dict[str, str] = {}
    for info in asset.glob("*.dist-info"):
        distribution = info.name.removesuffix(".dist-info")
        record = info / "RECORD"
        lines = record.read_text().splitlines() if record.exists() else []
        for line in lines:
            recorded = line.split(",")[0]
            if not recorded or recorded.startswith(".."):
                continue
            by_path[recorded] = distribution
            top = recorded.split("/")[0]
            if not top.endswith(".dist-info"):
                by_top.setdefault(top.removesuffix(".py"), distribution)
        for metadata in info.rglob("*"):
            by_path[metadata.relative_to(asset).as_posix()] = distribution
    owned: dict[str, str] = {}
    for path in asset.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(asset).as_posix()
        top = relative.split("/")[0]
        if top in project:
            owned[relative] = f"project: {top}"
        elif relative in by_path:
            owned[relative] = by_path[relative]
        elif path.parent.name == "__pycache__":
            # Bytecode compiled into the asset after pip: its module's source names the owner.
            source = (path.parent.parent / f"{path.name.split('.')[0]}.py").relative_to(asset).as_posix()
            owned[relative] = by_path.get(source) or by_top.get(source.split("/")[0].removesuffix(".py"), "other")
        else:
            owned[relative] = by_top.get(top.split(".")[0], "other")
    return owned


def zipped_sizes(asset: Path, archive: Path) -> dict[str, int]:
    """Zip the asset into `archive`; each file's compressed size (headers aside)."""
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=ZIP_LEVEL) as zipped:
        for path in sorted(asset.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(asset).as_posix())
    with zipfile.ZipFile(archive) as zipped:
        return {info.filename: info.compress_size for info in zipped.infolist()}


def _ships(asset: Path, handler: str) -> bool:
    """Whether the asset holds the handler's module (graphql_api.handler.handler -> graphql_api/handler.py)."""
    module = handler.rpartition(".")[0]
    return (asset / f"{module.replace('.', '/')}.py").is_file()


def megabytes(size: int) -> str:
    return f"{size / MB:6.1f} MB"


def main() -> None:
    started = time.monotonic()
    from vehicle_platform_infra.bundling import PROJECT_PACKAGES, LocalPythonBundler
    from vehicle_platform_infra.functions import FUNCTIONS

    with tempfile.TemporaryDirectory(prefix="lambda-asset-") as scratch:
        asset = Path(scratch) / "asset"
        asset.mkdir()
        built = time.monotonic()
        LocalPythonBundler().bundle(asset)
        build_seconds = time.monotonic() - built
        archive = Path(scratch) / "asset.zip"
        compressed = zipped_sizes(asset, archive)
        zipped_total = archive.stat().st_size
        project = {name for _, name in PROJECT_PACKAGES}
        owned = owners(asset, project)
        unzipped: dict[str, int] = defaultdict(int)
        zipped: dict[str, int] = defaultdict(int)
        for relative, owner in owned.items():
            unzipped[owner] += (asset / relative).stat().st_size
            zipped[owner] += compressed.get(relative, 0)
        unzipped_total = sum(unzipped.values())
        files = len(owned)
        bytecode = sum(1 for relative in owned if relative.endswith(".pyc"))
        shipped = {name: _ships(asset, spec.handler) for name, spec in FUNCTIONS.items()}

    print("Lambda package size per function (the CDK app's bundler, arm64, built once into a temporary directory)")
    print(
        f"  one shared asset for all {len(FUNCTIONS)} functions: {megabytes(unzipped_total)} unzipped, "
        f"{megabytes(zipped_total)} zipped (deflate level {ZIP_LEVEL}); {files} files, {bytecode} of them bytecode"
    )
    print(f"  {'function':<20} {'handler':<40} {'unzipped':>9} {'zipped':>9}  handler in the asset")
    for name, spec in FUNCTIONS.items():
        print(
            f"  {name:<20} {spec.handler:<40} {megabytes(unzipped_total)} {megabytes(zipped_total)}  "
            f"{'yes' if shipped[name] else 'NO'}"
        )
    print(f"  largest dependencies (top {TOP} by unzipped size, bytecode included):")
    dependencies = {owner: size for owner, size in unzipped.items() if not owner.startswith("project: ")}
    for owner, size in sorted(dependencies.items(), key=lambda item: -item[1])[:TOP]:
        share = 100 * size / unzipped_total
        print(f"    {owner:<36} {megabytes(size)} unzipped ({share:4.1f}%)  {megabytes(zipped[owner])} zipped")
    project_unzipped = sum(size for owner, size in unzipped.items() if owner.startswith("project: "))
    project_zipped = sum(size for owner, size in zipped.items() if owner.startswith("project: "))
    print(
        f"    {'the project (' + ', '.join(sorted(project)) + ')':<36} {megabytes(project_unzipped)} unzipped, "
        f"{megabytes(project_zipped)} zipped; {len(dependencies)} distributions in all"
    )
    print("  Lambda's limits:")
    print(
        f"    250 MB unzipped (code and layers): {megabytes(unzipped_total)} used, "
        f"{megabytes(UNZIPPED_LIMIT - unzipped_total)} headroom ({100 * unzipped_total / UNZIPPED_LIMIT:.0f}% used)"
    )
    print(
        f"    50 MB zipped, direct upload:       {megabytes(zipped_total)} used, "
        f"{megabytes(ZIPPED_LIMIT - zipped_total)} headroom ({100 * zipped_total / ZIPPED_LIMIT:.0f}% used; "
        "the CDK uploads through S3, where this limit does not apply)"
    )
    print(
        f"  built in {build_seconds:.0f} s (uv export, pip for manylinux aarch64 / CPython 3.13, compileall); "
        f"{time.monotonic() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
