"""Print pins (name==version) for claimsift[torch,dev,ray] and all it pulls in, from the current environment.

Run after a deliberate upgrade and commit the result as constraints.txt. torch is left out: install.sh
installs the CPU build by exact version first (and `pip install .` for serving needs no torch at all).
"""

from __future__ import annotations

import importlib.metadata as metadata
import re

from packaging.requirements import Requirement

SKIP = {"claimsift", "torch"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wanted(requirement: Requirement, extras: tuple[str, ...]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or ("",))


def closure(name: str, extras: tuple[str, ...], pins: dict[str, str]) -> None:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return
    if canonical(name) in pins and not extras:
        return
    pins[canonical(name)] = dist.version
    for line in dist.requires or []:
        requirement = Requirement(line)
        if wanted(requirement, extras):
            closure(requirement.name, tuple(requirement.extras), pins)


def main() -> None:
    pins: dict[str, str] = {}
    closure("claimsift", ("torch", "dev", "ray"), pins)
    for name, version in sorted(pins.items()):
        if name not in SKIP:
            print(f"{name}=={version}")


if __name__ == "__main__":
    main()
