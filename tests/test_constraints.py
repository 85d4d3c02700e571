"""constraints.txt pins what every install gets (make venv, both images): each dependency the two packages declare
must be pinned there, and this environment must hold the pinned versions, so that CI tests what the images run."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Each install picks its own torch build (CPU here, CUDA in the worker image): pinned by version in the Makefile
# and the worker's Dockerfile instead.
OWN_BUILD = {"torch"}


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = pinned.strip()
    return pins


def _declared() -> list[Requirement]:
    requirements = []
    for project in ("ml", "backend"):
        meta = tomllib.loads((ROOT / project / "pyproject.toml").read_text())["project"]
        declared = meta["dependencies"] + [r for extra in meta.get("optional-dependencies", {}).values() for r in extra]
        requirements += [Requirement(r) for r in declared]
    return requirements


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        if name in OWN_BUILD:
            continue
        assert name in pins, f"{requirement.name} is declared but not pinned: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}: the pin {pins[name]} is outside {requirement.specifier}: run make lock")


def test_this_environment_holds_the_pinned_versions() -> None:
    # make venv installs with the constraints, so a difference means the file changed without a reinstall.
    for name, pinned in _pins().items():
        assert version(name) == pinned, f"{name}: {version(name)} installed, {pinned} pinned: run make venv"


def test_both_images_install_with_the_constraints() -> None:
    for image in ("api", "worker"):
        dockerfile = (ROOT / "docker" / f"{image}.Dockerfile").read_text()
        assert "COPY constraints.txt" in dockerfile, image
        installs = [line for line in dockerfile.splitlines() if re.search(r"pip install .*/app/(backend|ml)", line)]
        assert installs and all("-c /app/constraints.txt" in line for line in installs), image
