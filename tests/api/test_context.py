"""Sentences in context through the real service: furniture skipped, roles, the quotation rule, speakers."""

from __future__ import annotations

from typing import Any

import httpx

from app.text.segment import split_sentences
from tests.conftest import shared_file

# The page furniture of ../shared/data/example_article.txt, in document order (issue 16).
EXAMPLE_FURNITURE = (
    "Global Times / No Comments Share:",
    "Share and Like this post",
    "Related Posts",
    "Previous Article",
    "Cambodia’s democratic development: Going forward or backward?",
    "Next Article",
    "What comes after the Trump–Kim no summit deal in Hanoi?",
)
CHAIR = (
    "The company's chair apologised on Monday. "
    '"What happened at the site should never have happened. We will change how we work."'
)


async def extract(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/extract", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_example_article_furniture_is_skipped_and_every_other_sentence_keeps_its_offsets(
    client: httpx.AsyncClient,
) -> None:
    text = shared_file("example_article.txt").read_text(encoding="utf-8")
    body = await extract(client, text=text)
    sentences, skipped = body["sentences"], body["skipped"]
    assert [s["text"] for s in skipped] == list(EXAMPLE_FURNITURE)
    assert all(s["role"] == "furniture" for s in skipped)
    assert not {s["text"] for s in sentences} & set(EXAMPLE_FURNITURE)
    # Sentences and skipped lines together are exactly the segmenter's spans, offsets unchanged.
    together = sorted([(s["start"], s["end"]) for s in sentences + skipped])
    assert together == [(span.start, span.end) for span in split_sentences(text)]
    for item in sentences + skipped:
        assert text[item["start"] : item["end"]] == item["text"]
    assert [s["index"] for s in sentences] == list(range(len(sentences)))
    assert sum(body["counts"].values()) == len(sentences)
    roles = {s["text"]: s["role"] for s in sentences}
    assert roles["Summit fails but not all progress is lost"] == "headline"
    assert roles["REUTERS/Leah Millis"] == "caption"
    assert roles["Mr Trump and Mr Kim have met twice."] == "body"


async def test_a_fully_quoted_sentence_is_a_fact_by_quotation_and_keeps_the_model_scores(
    client: httpx.AsyncClient,
) -> None:
    on = (await extract(client, text=CHAIR))["sentences"]
    off = (await extract(client, text=CHAIR, context=False))["sentences"]
    assert [s["text"] for s in on] == [s["text"] for s in off]
    assert [s["quoted"] for s in on] == ["none", "full", "full"]
    for with_context, alone in zip(on[1:], off[1:], strict=True):
        assert with_context["label"] == "fact"
        assert with_context["label_source"] == "quotation"
        assert with_context["scores"] == alone["scores"]
        assert with_context["confidence"] == with_context["scores"]["fact"]
        assert with_context["uncertain"] is False
        assert alone["label_source"] == "model"
        assert alone["label"] == max(alone["scores"], key=alone["scores"].get)
    # Alone, the chair's words read as what they say: not both facts.
    assert {s["label"] for s in off[1:]} != {"fact"}


async def test_the_speaker_comes_with_offsets_into_the_text(client: httpx.AsyncClient) -> None:
    text = "😀 “We must act now,” said Mayor Jane Doe. “The plan should pass.”"
    sentences = (await extract(client, text=text))["sentences"]
    assert [s["quoted"] for s in sentences] == ["partial", "full"]
    for sentence in sentences:
        speaker = sentence["speaker"]
        assert speaker["text"] == "Mayor Jane Doe" == text[speaker["start"] : speaker["end"]]
        assert speaker["start_utf16"] == speaker["start"] + 1  # the emoji is two UTF-16 units
    assert sentences[1]["label_source"] == "quotation"


async def test_classify_reads_quotation_marks_within_each_sentence(client: httpx.AsyncClient) -> None:
    sentences = ["“We must close the site now.”", "We must close the site now."]
    on = (await client.post("/v1/classify", json={"sentences": sentences})).json()["results"]
    off = (await client.post("/v1/classify", json={"sentences": sentences, "context": False})).json()[
        "results"
    ]
    assert on[0]["label"] == "fact" and on[0]["label_source"] == "quotation" and on[0]["quoted"] == "full"
    assert on[1]["label_source"] == "model" and on[1]["quoted"] == "none"
    assert off[0]["label_source"] == "model" and off[0]["scores"] == on[0]["scores"]


async def test_custom_labels_are_never_overridden(client: httpx.AsyncClient) -> None:
    labels = [
        {"name": "fact", "description": "a statement"},
        {"name": "other", "description": "anything else"},
    ]
    body = await extract(client, text=CHAIR, labels=labels)
    assert all(s["label_source"] == "model" for s in body["sentences"])
    assert [s["quoted"] for s in body["sentences"]] == ["none", "full", "full"]


async def test_html_structure_gives_the_roles(client: httpx.AsyncClient) -> None:
    page = (
        "<article><h1>Bridge closes</h1><p class='byline'>By Jane Doe</p>"
        "<figure><img src='x.jpg'><figcaption>The bridge on Monday.</figcaption></figure>"
        "<p>The council voted 7-2 to close the bridge.</p>"
        "<blockquote><p>We must act now.</p></blockquote>"
        "<ul><li>Cost: 3 million</li></ul><p>Share this article</p></article>"
    )
    body = await extract(client, text=page, format="html")
    roles = {s["text"]: s["role"] for s in body["sentences"]}
    assert roles == {
        "Bridge closes": "headline",
        "By Jane Doe": "byline",
        "The bridge on Monday.": "caption",
        "The council voted 7-2 to close the bridge.": "body",
        "We must act now.": "quote",
        "Cost: 3 million": "body",
    }
    assert [(s["text"], s["role"]) for s in body["skipped"]] == [("Share this article", "furniture")]
    assert body["skipped"][0]["path"].startswith("html>body>article>p")


async def test_blocks_return_their_own_furniture(client: httpx.AsyncClient) -> None:
    blocks = [
        {"id": "a", "text": "The council voted.\nShare and Like this post"},
        {"id": "b", "text": "Related Posts"},
    ]
    body = await extract(client, blocks=blocks)
    result = {block["id"]: block for block in body["blocks"]}
    assert [s["text"] for s in result["a"]["skipped"]] == ["Share and Like this post"]
    assert [s["text"] for s in result["b"]["skipped"]] == ["Related Posts"]
    assert result["b"]["sentences"] == [] and sum(body["counts"].values()) == 1


async def test_wordpress_highlights_skip_furniture(client: httpx.AsyncClient) -> None:
    from tests.test_wordpress_js import run_helper

    blocks = [
        {"name": "core/paragraph", "clientId": "p", "attributes": {"content": "The council voted 7-2."}},
        {
            "name": "core/paragraph",
            "clientId": "share",
            "attributes": {"content": "Share and Like this post"},
        },
    ]
    body = run_helper({"blocks": blocks})
    result = (await client.post("/v1/extract", json=body)).json()
    assert [s["text"] for s in result["blocks"][1]["skipped"]] == ["Share and Like this post"]
    annotated = run_helper({"blocks": blocks, "result": result})
    assert [a["blockClientId"] for a in annotated["annotations"]] == ["p"]
    assert annotated["sentences"] == 1  # the count the plugin shows leaves furniture out too


async def test_classify_command_output_carries_the_context(client: httpx.AsyncClient) -> None:
    import io
    import json

    from app.commands.classify import Outcome, Record, write_jsonl, write_table
    from app.schemas import ExtractResponse

    text = f"Bridge Closes\n\n{CHAIR}\n\nShare and Like this post"
    result = ExtractResponse.model_validate(await extract(client, text=text))
    outcome = Outcome(Record("a", "a.txt", text), result=result)
    table, lines = io.StringIO(), io.StringIO()
    write_table(outcome, table)
    write_jsonl(outcome, lines)
    rows = table.getvalue().splitlines()
    assert rows[0].endswith("(1 furniture skipped)")
    assert "[headline] Bridge Closes" in rows[1]
    assert [row.split()[2][-1] for row in rows[3:5]] == ['"', '"']  # labelled fact as quoted speech
    sentence = json.loads(lines.getvalue())["result"]["sentences"][2]
    assert (sentence["role"], sentence["quoted"], sentence["label_source"]) == ("body", "full", "quotation")
