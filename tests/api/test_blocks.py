"""Block input for editors: results per block, offsets per block in code points and UTF-16, the cache."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import httpx
import pytest

from app.settings import Settings
from tests.api.test_errors import assert_error

LABELS = ["fact", "assessment", "prescription"]

BLOCKS = [
    {"id": "intro", "text": "The council voted 7-2 on Monday. Critics 😠 say the city should reopen it."},
    {"id": "empty", "text": ""},
    {
        "id": "accents",
        "text": "Le cafe\u0301 a fermé. 東京の市長は辞任した。 Résumé 👩\u200d👩\u200d👧 done.",
    },
    {"id": "blank", "text": "  \n "},
    {"id": "ascii", "text": "Prices rose 3% in May."},
]


def js_slice(text: str, start: int, end: int) -> str:
    """What JavaScript's text.slice(start, end) returns: the offsets are UTF-16 code units."""
    return text.encode("utf-16-le", "surrogatepass")[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")


async def test_results_come_back_per_block_in_request_order(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/extract", json={"blocks": BLOCKS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [block["id"] for block in body["blocks"]] == [block["id"] for block in BLOCKS]
    assert body["sentences"] == []
    assert body["extracted_text"] is None
    per_block = {block["id"]: block for block in body["blocks"]}
    assert per_block["empty"]["sentences"] == [] and per_block["blank"]["sentences"] == []
    assert len(per_block["intro"]["sentences"]) == 2
    totals = dict.fromkeys(LABELS, 0)
    for block in body["blocks"]:
        assert block["extracted_text"] is None
        assert block["counts"] == {
            label: sum(s["label"] == label for s in block["sentences"]) for label in LABELS
        }
        for label, count in block["counts"].items():
            totals[label] += count
    assert body["counts"] == totals


async def test_offsets_are_relative_to_each_block_in_both_units(client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/extract", json={"blocks": BLOCKS})).json()
    texts = {block["id"]: block["text"] for block in BLOCKS}
    for block in body["blocks"]:
        source = texts[block["id"]]
        for index, sentence in enumerate(block["sentences"]):
            assert sentence["index"] == index
            assert sentence["path"] is None
            assert source[sentence["start"] : sentence["end"]] == sentence["text"]
            assert js_slice(source, sentence["start_utf16"], sentence["end_utf16"]) == sentence["text"]
    intro = body["blocks"][0]["sentences"][1]
    assert (intro["start"], intro["end"]) == (33, 73)
    assert (intro["start_utf16"], intro["end_utf16"]) == (33, 74)  # 😠 is two UTF-16 units
    accents = body["blocks"][2]["sentences"]
    family = next(s for s in accents if "👩" in s["text"])
    assert family["end_utf16"] - family["start_utf16"] == len(family["text"]) + 3  # three astral emoji


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_utf16_offsets_slice_correctly_in_real_javascript(client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/extract", json={"blocks": BLOCKS})).json()
    script = (
        "const {blocks, response} = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const texts = Object.fromEntries(blocks.map(b => [b.id, b.text]));"
        "const bad = response.blocks.flatMap(b => b.sentences.filter("
        "  s => texts[b.id].slice(s.start_utf16, s.end_utf16) !== s.text));"
        "console.log(JSON.stringify(bad));"
    )
    node = subprocess.run(
        ["node", "-e", script],
        input=json.dumps({"blocks": BLOCKS, "response": body}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(node.stdout) == []


async def test_all_blocks_are_classified_like_the_same_text(client: httpx.AsyncClient) -> None:
    text = "The council voted 7-2 on Monday."
    alone = (await client.post("/v1/extract", json={"text": text})).json()["sentences"][0]
    blocks = [{"id": "1", "text": text}, {"id": "2", "text": text}]
    body = (await client.post("/v1/extract", json={"blocks": blocks})).json()
    for block in body["blocks"]:
        assert block["sentences"][0]["scores"] == alone["scores"]


async def test_an_edited_draft_reuses_cached_sentences(client: httpx.AsyncClient) -> None:
    marker = uuid.uuid4().hex[:8]  # sentences no other test has sent, so the first call is uncached
    draft = [
        {"id": "a", "text": f"The bridge {marker} closed on Monday. Officials should explain why."},
        {"id": "b", "text": f"Traffic {marker} doubled on the ring road."},
    ]
    first = (await client.post("/v1/extract", json={"blocks": draft})).json()
    assert [s["cached"] for b in first["blocks"] for s in b["sentences"]] == [False, False, False]
    draft[1]["text"] = f"Traffic {marker} tripled on the ring road."
    second = (await client.post("/v1/extract", json={"blocks": draft})).json()
    assert [s["cached"] for b in second["blocks"] for s in b["sentences"]] == [True, True, False]
    assert second["blocks"][0]["sentences"] == [
        {**s, "cached": True} for s in first["blocks"][0]["sentences"]
    ]


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"text": "Hi.", "blocks": [{"id": "a", "text": "Hi."}]}, "exactly one of text or blocks"),
        ({"labels": None}, "give text or blocks"),
        ({"blocks": []}, "at least 1"),
        ({"blocks": [{"id": "a", "text": "One."}, {"id": "a", "text": "Two."}]}, "duplicate block ids: a"),
        ({"blocks": [{"id": "", "text": "One."}]}, "blocks.0.id"),
        ({"blocks": [{"id": " ", "text": "One."}]}, "block id is empty"),
        ({"blocks": [{"id": "a", "text": ""}, {"id": "b", "text": " \n"}]}, "every block is empty"),
        ({"blocks": [{"id": "a"}]}, "blocks.0.text"),
        ({"blocks": [{"id": 1, "text": "One."}]}, "blocks.0.id"),
        ({"blocks": [{"id": "a", "text": "One.", "extra": 1}]}, "extra"),
        ({"blocks": "One."}, "blocks"),
        ({"text": "Hi.", "format": "markdown"}, "format: Input should be 'text' or 'html'"),
    ],
)
async def test_bad_block_requests_get_a_clear_422(
    client: httpx.AsyncClient, payload: dict[str, object], words: str
) -> None:
    assert_error(await client.post("/v1/extract", json=payload), 422, "validation_error", words)


async def test_too_many_blocks(client: httpx.AsyncClient, settings: Settings) -> None:
    limit = settings.max_blocks
    blocks = [{"id": str(i), "text": "Hi."} for i in range(limit + 1)]
    response = await client.post("/v1/extract", json={"blocks": blocks})
    assert_error(response, 413, "payload_too_large", f"{limit + 1} blocks; the limit is {limit}")


async def test_the_character_limit_applies_to_all_blocks_together(client: httpx.AsyncClient) -> None:
    blocks = [{"id": str(i), "text": "a" * 25_001} for i in range(4)]
    response = await client.post("/v1/extract", json={"blocks": blocks})
    assert_error(response, 413, "payload_too_large", "100004 characters in all")
