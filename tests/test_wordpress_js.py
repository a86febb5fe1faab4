"""The JavaScript and PHP of the integrations and the web page: syntax checks, and the WordPress editor
script's block → request → annotation logic run under Node against the real service's answer."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO

PLUGIN = REPO / "integrations" / "wordpress" / "claimsift"
EDITOR_JS = PLUGIN / "assets" / "editor.js"
SCRIPTS = sorted([*(REPO / "integrations").rglob("*.js"), *(REPO / "app" / "web").rglob("*.js")])
PHP_FILES = sorted((REPO / "integrations").rglob("*.php"))
# Runs one helper of editor.js on JSON from stdin and prints its JSON result.
RUN_HELPER = """
const helpers = require(process.argv[1]);
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { blocks, result } = JSON.parse(input);
  const found = helpers.textBlocks(blocks, (html) => html);
  const annotate = () => ({
    sentences: helpers.sentenceCount(result),
    annotations: helpers.annotationsFor(result, found).map((a) => ({ ...a,
      selected: found.find((b) => b.clientId === a.blockClientId).text.slice(a.range.start, a.range.end) })),
  });
  const out = result === undefined ? helpers.requestBody(found) : annotate();
  process.stdout.write(JSON.stringify(out));
});
"""


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"`{name}` is not installed: run scripts/install-browser.sh to lint these files")
    return found


def test_there_is_javascript_and_php_to_check() -> None:
    assert EDITOR_JS in SCRIPTS
    assert REPO / "app" / "web" / "app.js" in SCRIPTS
    assert PLUGIN / "claimsift.php" in PHP_FILES


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: str(path.relative_to(REPO)))
def test_javascript_parses(script: Path) -> None:
    checked = subprocess.run([tool("node"), "--check", str(script)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("source", PHP_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_php_parses(source: Path) -> None:
    checked = subprocess.run([tool("php"), "-l", str(source)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def run_helper(payload: dict[str, Any]) -> Any:
    done = subprocess.run(
        [tool("node"), "-e", RUN_HELPER, str(EDITOR_JS)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_editor_script_annotates_each_sentence_of_each_block(client: httpx.AsyncClient) -> None:
    # What the block editor's getBlocks() returns, nested the way lists nest their items.
    blocks = [
        {"name": "core/heading", "clientId": "h", "attributes": {"content": "Bridge closes 🌉"}},
        {
            "name": "core/paragraph",
            "clientId": "p",
            "attributes": {"content": "Le café 😀 a fermé lundi. 😀😀 The council should act now."},
        },
        {"name": "core/image", "clientId": "img", "attributes": {"url": "x.png"}},
        {"name": "core/paragraph", "clientId": "empty", "attributes": {"content": ""}},
        {
            "name": "core/list",
            "clientId": "list",
            "attributes": {},
            "innerBlocks": [
                {"name": "core/list-item", "clientId": "li", "attributes": {"content": "Prices rose 4%."}}
            ],
        },
    ]

    body = run_helper({"blocks": blocks})
    assert [block["id"] for block in body["blocks"]] == ["h", "p", "li"]
    response = await client.post("/v1/extract", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    annotated = run_helper({"blocks": blocks, "result": result})
    annotations = annotated["annotations"]

    expected = [(b["id"], s) for b in result["blocks"] for s in b["sentences"]]
    assert len(annotations) == len(expected) >= 4
    assert annotated["sentences"] == len(expected)  # the sidebar's count: per block, not the empty top level
    for annotation, (block_id, sentence) in zip(annotations, expected, strict=True):
        assert annotation["blockClientId"] == block_id
        assert annotation["selected"] == sentence["text"]  # UTF-16 range selects the sentence in JS
        assert annotation["richTextIdentifier"] == "content"
        suffix = "-uncertain" if sentence["uncertain"] else ""
        assert annotation["source"] == f"claimsift-{sentence['label']}{suffix}"
