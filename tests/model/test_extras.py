"""Without the [torch] extra, what needs it says so in one line and how to get it; serving does not care."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

# The CLI as a real process in which torch and transformers cannot be imported (an install without the
# extra); everything else is this environment.
WITHOUT_TORCH = (
    "import sys\nsys.modules.update(torch=None, transformers=None)\n"
    "from app.commands.cli import main\nmain()\n"
)


def claimsift_without_torch(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, *args],
        cwd=REPO,
        env={**os.environ, "CLAIMSIFT_LOG_LEVEL": "warning", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "feature"),
    [
        (["train"], {}, "claimsift train"),
        (["serve", "--backend", "nli", "--model", "some/nli-model"], {}, "the NLI backend"),
        (["serve"], {"CLAIMSIFT_RUNTIME": "torch"}, "CLAIMSIFT_RUNTIME=torch"),
        (["prepare"], {"CLAIMSIFT_RUNTIME": "torch"}, "CLAIMSIFT_RUNTIME=torch"),
        (["onnx-template"], {}, "claimsift onnx-template"),
    ],
)
def test_a_feature_that_needs_torch_fails_in_one_clear_line(
    args: list[str], env: dict[str, str], feature: str
) -> None:
    done = claimsift_without_torch(*args, **env)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # no traceback
    assert feature in lines[0] and "pip install 'claimsift[torch]'" in lines[0]
    assert "download.pytorch.org/whl/cpu" in lines[0]  # the way to the CPU build, never CUDA


def test_a_model_without_a_graph_template_needs_torch_to_export(tmp_path: Path) -> None:
    folder = REPO / "models" / "cache" / "base" / "all-MiniLM-L6-v2"
    if not (folder / "config.json").is_file():
        pytest.skip("the base encoder is not prepared: run `claimsift prepare`")
    model = tmp_path / "other-architecture"
    shutil.copytree(folder, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "layer_norm_eps": 1e-5}))
    done = claimsift_without_torch("prepare", CLAIMSIFT_MODEL=str(model), CLAIMSIFT_MODELS_DIR=str(tmp_path))
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "no graph template for its architecture" in done.stderr and "claimsift[torch]" in done.stderr
