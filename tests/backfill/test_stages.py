"""The stages as plain functions, without Ray: read with skips, segment with the API's limits, write parts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from app.backfill import schema, stages
from app.backfill.source import Shard
from app.backfill.store import OutputDir
from app.settings import Settings

LABELS = ["fact", "assessment", "prescription"]


def read(tmp_path: Path, rows: list[Any], done: frozenset[str] = frozenset()) -> pa.Table:
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    shards = pa.Table.from_pylist([Shard("files", (str(path),)).to_row()])
    return pa.concat_tables(stages.read_shards(shards, done))


def labelled(segmented: pa.Table) -> pa.Table:
    """What the labeller adds, with fixed scores (furniture unlabelled): the write stage on its own."""
    rows = segmented.to_pylist()
    for row in rows:
        row.update(model_name="m", model_version="v1")
        for span in row["spans"]:
            if span["role"] != "furniture":
                span.update(label="fact", label_source="model", confidence=0.9, scores=[0.9, 0.06, 0.04])
                span.update(uncertain=False)
    return schema.table(rows, schema.LABELLED)


@pytest.fixture
def settings() -> Settings:
    return Settings(max_chars=2000, max_sentences=256)


def test_bad_records_fail_with_the_apis_codes_and_good_ones_get_offsets(
    tmp_path: Path, settings: Settings
) -> None:
    rows = [
        {"id": "ok", "text": "Prices rose 4% 😀 in May. The rise is worrying."},
        {"id": "blank", "text": "  "},
        {"id": "long", "text": "x" * 2001},
        {"id": "empty-html", "text": "<nav>Home</nav><script>x()</script>", "format": "html"},
        {"id": "many", "text": "Yes. " * 300},
        # A repeated line is page furniture, which the limit does not count (as in /v1/extract).
        {"id": "furniture", "text": "Yes. " * 80 + "\n".join(["Line"] * 200)},
        '{"id": "surrogate", "text": "bad \\ud800 text"}',
        "{broken",
    ]
    segmented = stages.segment(read(tmp_path, rows), settings).to_pylist()
    by_id = {row["doc_id"]: row for row in segmented}

    assert [
        (s["text"], s["start"], s["end"], s["start_utf16"], s["end_utf16"]) for s in by_id["ok"]["spans"]
    ] == [
        ("Prices rose 4% 😀 in May.", 0, 24, 0, 25),
        ("The rise is worrying.", 25, 46, 26, 47),
    ]
    codes = {row["doc_id"]: (row["status"], row["code"]) for row in segmented if row["doc_id"] != "ok"}
    assert codes == {
        "furniture": ("todo", None),
        "blank": ("failed", "validation_error"),
        "long": ("failed", "payload_too_large"),
        "empty-html": ("failed", "invalid_input"),
        "many": ("failed", "payload_too_large"),
        "surrogate": ("failed", "validation_error"),
        f"{tmp_path / 'in.jsonl'}:8": ("failed", "invalid_record"),
    }
    assert by_id["many"]["message"].endswith("sentences; the limit is 256")


def test_articles_already_done_pass_through_as_skips(tmp_path: Path, settings: Settings) -> None:
    first = read(tmp_path, [{"id": "a", "text": "One."}, {"id": "b", "text": "Two."}])
    done = frozenset({stages.done_key("a", first.column("text_sha256")[0].as_py())})

    again = read(tmp_path, [{"id": "a", "text": "One."}, {"id": "b", "text": "Two."}], done)

    assert again.column("status").to_pylist() == ["skip", "todo"]
    assert again.column("text").to_pylist() == [None, "Two."]  # a skipped article carries no text on


def test_a_part_is_named_by_its_articles_so_a_retried_write_commits_it_again(
    tmp_path: Path, settings: Settings
) -> None:
    docs = labelled(stages.segment(read(tmp_path, [{"id": "a", "text": "One. Two."}, "{broken"]), settings))
    out = OutputDir(tmp_path / "out")
    out.recover()

    first = stages.write_part(docs, out, "r1", LABELS).to_pylist()
    second = stages.write_part(docs, out, "r1", LABELS).to_pylist()

    assert first == second
    assert first[0]["documents"] == 1 and first[0]["sentences"] == 2 and first[0]["errors"] == 1
    assert out.parts() == [first[0]["part"]]
    documents = out.read("documents")
    assert documents is not None
    (row,) = documents.to_pylist()
    assert (row["sentences"], row["n_fact"], row["share_fact"], row["share_assessment"]) == (2, 2, 1.0, 0.0)


def test_an_id_given_twice_is_written_once(tmp_path: Path, settings: Settings) -> None:
    rows = [{"id": "a", "text": "Old text."}, {"id": "a", "text": "New text."}]
    docs = labelled(stages.segment(read(tmp_path, rows), settings))
    out = OutputDir(tmp_path / "out")
    out.recover()

    stages.write_part(docs, out, "r1", LABELS)

    sentences = out.read("sentences")
    assert sentences is not None and sentences.column("text").to_pylist() == ["New text."]


# A headline, a quotation over two sentences whose speaker is named before it (an emoji before it, so
# UTF-16 offsets differ), and two lines of page furniture.
IN_CONTEXT = (
    "Bridge Closes\n\n😀 The chair, Ana Ruiz, apologised on Monday. Ana Ruiz said: “What happened should "
    "never have happened. We will change how we work.”\n\nShare and Like this post\n\nRelated Posts"
)


def test_each_sentence_carries_its_context_and_furniture_is_written_apart(
    tmp_path: Path, settings: Settings
) -> None:
    segmented = stages.segment(read(tmp_path, [{"id": "a", "text": IN_CONTEXT}]), settings)
    spans = segmented.to_pylist()[0]["spans"]
    assert [(s["role"], s["quoted"]) for s in spans] == [
        ("headline", "none"),
        ("body", "none"),
        ("body", "partial"),
        ("body", "full"),
        ("furniture", "none"),
        ("furniture", "none"),
    ]
    speaker = spans[3]
    assert speaker["speaker"] == "Ana Ruiz" == IN_CONTEXT[speaker["speaker_start"] : speaker["speaker_end"]]
    assert speaker["speaker_start_utf16"] == speaker["speaker_start"] + 1  # the emoji is two UTF-16 units
    out = OutputDir(tmp_path / "out")
    out.recover()

    summary = stages.write_part(labelled(segmented), out, "r1", LABELS).to_pylist()[0]

    sentences, skipped, documents = out.read("sentences"), out.read("skipped"), out.read("documents")
    assert sentences is not None and skipped is not None and documents is not None
    assert sentences.column("index").to_pylist() == [0, 1, 2, 3]
    assert sentences.column("role").to_pylist() == ["headline", "body", "body", "body"]
    assert sentences.column("label_source").to_pylist() == ["model"] * 4
    assert [(row["text"], row["role"]) for row in skipped.to_pylist()] == [
        ("Share and Like this post", "furniture"),
        ("Related Posts", "furniture"),
    ]
    for row in skipped.to_pylist():
        assert IN_CONTEXT[row["start"] : row["end"]] == row["text"]
    (document,) = documents.to_pylist()
    assert (document["sentences"], document["skipped"], document["n_fact"]) == (4, 2, 4)
    assert summary["sentences"] == 4


def test_the_labeller_applies_the_quotation_rule_with_the_whole_article(
    tmp_path: Path, settings: Settings
) -> None:
    """The real model: the quoted continuation has no mark of its own, only the article shows it quoted."""
    segmented = stages.segment(read(tmp_path, [{"id": "a", "text": IN_CONTEXT}]), settings)
    labeller = stages.Labeller(Settings(cache_mb=0))
    try:
        spans = labeller(segmented).to_pylist()[0]["spans"]
        alone = labeller(stages.segment(read(tmp_path, [{"id": "b", "text": spans[3]["text"]}]), settings))
    finally:
        labeller.close()
    assert spans[3]["text"] == "We will change how we work.”"
    assert (spans[3]["label"], spans[3]["label_source"]) == ("fact", "quotation")
    # The model's own scores are kept (its label would not be fact) and the confidence is fact's score.
    assert max(spans[3]["scores"]) > spans[3]["scores"][0] == spans[3]["confidence"]
    assert alone.to_pylist()[0]["spans"][0]["label_source"] == "model"  # alone its mark closes nothing
    assert [s["label_source"] for s in spans[:3]] == ["model", "model", "model"]
    assert [s["label"] for s in spans[4:]] == [None, None]  # furniture is never labelled
