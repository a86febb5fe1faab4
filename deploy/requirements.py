"""Print claimsift's requirements from pyproject.toml for the Docker image, one per line.

pyproject.toml stays the one list of dependencies; the image takes slices of it:
- `runtime`: what serving needs: the core dependencies without `onnx`, which only `claimsift prepare`
  uses (to fill the ONNX graph templates and quantize them) and which the runtime image does not hold,
  and without `tokenizers`, listed by `no-deps`.
- `no-deps`: installed with `pip --no-deps`: `tokenizers`, whose one dependency (huggingface-hub, with
  hf-xet: about 20 MB) only serves `Tokenizer.from_pretrained`; claimsift reads tokenizer.json from disk.
- `build`: what the builder stage adds to `runtime` to run `claimsift prepare`: `onnx`.
- `torch`: the `[torch]` extra without torch itself, which the `runtime-torch` target installs on its own
  from the PyTorch CPU index (PyPI's Linux torch is the multi-GB CUDA build).
- `ray`: the `[ray]` extra (Ray Data, pyarrow) that the `runtime-ray` target adds for `claimsift backfill`.

Usage: python deploy/requirements.py runtime|no-deps|build|torch|ray
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

BUILD_ONLY = {"onnx"}
NO_DEPS = {"tokenizers"}
INSTALLED_ON_ITS_OWN = {"torch"}


def distribution_name(requirement: str) -> str:
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(kind: str) -> list[str]:
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    if kind == "ray":
        ray: list[str] = project["optional-dependencies"]["ray"]
        return ray
    if kind == "torch":
        extra: list[str] = project["optional-dependencies"]["torch"]
        return [req for req in extra if distribution_name(req) not in INSTALLED_ON_ITS_OWN]
    core: list[str] = project["dependencies"]
    if kind == "build":
        return [req for req in core if distribution_name(req) in BUILD_ONLY]
    if kind == "no-deps":
        return [req for req in core if distribution_name(req) in NO_DEPS]
    return [req for req in core if distribution_name(req) not in BUILD_ONLY | NO_DEPS]


if __name__ == "__main__":
    if sys.argv[1:] not in (["runtime"], ["no-deps"], ["build"], ["torch"], ["ray"]):
        sys.exit(__doc__)
    print("\n".join(requirements(sys.argv[1])))
