"""The lock files: they cover pyproject.toml, agree with each other, and are what this environment runs."""

from __future__ import annotations

import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if m := PIN.match(line):
            pins[_normal(m[1])] = m[2]
        else:
            assert not line or line.startswith(("#", "    --hash=sha256:")), (
                f"{name}: unexpected line {line!r}"
            )
    return pins


def _declared() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"base": project["dependencies"], **project["optional-dependencies"]}
    return {group: [Requirement(r) for r in reqs] for group, reqs in groups.items()}


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    everything, base = _lock("all.txt"), _lock("base.txt")
    for group, requirements in _declared().items():
        for req in requirements:
            name = _normal(req.name)
            for lock_name, lock in (("all.txt", everything), ("base.txt", base if group == "base" else None)):
                if lock is None:
                    continue
                assert name in lock, f"{req} ({group}) is not in requirements/{lock_name}: run `make lock`"
                assert req.specifier.contains(lock[name], prereleases=True), (
                    f"requirements/{lock_name} has {name}=={lock[name]}, outside {req} ({group})"
                )


def test_the_base_lock_is_the_same_versions_as_the_full_one() -> None:
    everything, base = _lock("all.txt"), _lock("base.txt")
    assert "torch" not in base, "the base install must not pull torch"
    differ = {n: (v, everything.get(n)) for n, v in base.items() if everything.get(n) != v}
    assert not differ, f"base.txt and all.txt disagree: {differ}"
    assert set(_lock("pip.txt")) == {"pip"}


@pytest.mark.skipif(
    bool(os.environ.get("MV_TEST_UNLOCKED")), reason="the newest-versions check runs unlocked"
)
def test_this_environment_runs_the_locked_versions() -> None:
    wrong = {}
    for name, version in _lock("all.txt").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            wrong[name] = (installed, version)
    assert not wrong, f"installed vs locked (run `make install-all`): {wrong}"
