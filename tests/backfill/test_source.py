"""SOURCE as backfill reads it: shards, and the records of `claimsift classify`'s readers plus Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.backfill.source import (
    FILES_PER_SHARD,
    Shard,
    SourceError,
    count_shard_records,
    metadata_fields,
    plan_shards,
    read_shard,
    text_digest,
)


def write_jsonl(path: Path, rows: list[object]) -> None:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")


def test_a_folder_becomes_parquet_jsonl_and_text_shards_in_name_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [{"id": "1", "text": "One."}])
    pq.write_table(pa.table({"id": ["p1"], "text": ["Two."]}), tmp_path / "a.parquet")
    (tmp_path / "notes").mkdir()
    for number in range(FILES_PER_SHARD + 1):
        (tmp_path / "notes" / f"{number:04d}.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")

    shards = plan_shards(tmp_path)

    assert [shard.kind for shard in shards] == ["parquet", "files", "files", "files"]
    assert shards[1].paths == (str(tmp_path / "b.jsonl"),)
    assert [len(shard.paths) for shard in shards[2:]] == [FILES_PER_SHARD, 1]
    assert count_shard_records(shards) == 1 + 1 + FILES_PER_SHARD + 1


def test_a_missing_or_empty_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        plan_shards(tmp_path / "absent")
    with pytest.raises(SourceError, match=r"has no \.jsonl, \.parquet"):
        plan_shards(tmp_path)


def test_parquet_rows_are_checked_like_jsonl_lines_and_keep_their_metadata(tmp_path: Path) -> None:
    path = tmp_path / "archive.parquet"
    table = pa.table(
        {
            "id": ["a", None, "c"],
            "text": ["Prices rose.", "No id here.", None],
            "section": ["economy", None, "sport"],
            "words": [2, 3, 0],
        }
    )
    pq.write_table(table, path)

    records = list(read_shard(Shard("parquet", (str(path),))))

    assert [record.id for record in records] == ["a", f"{path}:2", "c"]
    assert records[0].text == "Prices rose." and records[0].metadata == {"section": "economy", "words": 2}
    assert records[2].text is None and records[2].problem == (
        "invalid_record",
        "missing or non-string `text`",
    )
    assert metadata_fields(records[0]) == {
        "date": None,
        "section": "economy",
        "author": None,
        "url": None,
        "title": None,
        "metadata": '{"words": 2}',
    }


def test_a_file_that_is_not_parquet_is_one_failed_record(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")

    (record,) = read_shard(Shard("parquet", (str(path),)))

    assert record.text is None and record.problem is not None
    assert record.problem[0] == "unreadable_input"


def test_the_digest_changes_with_the_text_and_the_format(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "a.jsonl",
        [
            {"id": "1", "text": "Same."},
            {"id": "2", "text": "Same."},
            {"id": "3", "text": "Same.", "format": "html"},
            {"id": "4", "text": "Other."},
        ],
    )
    digests = [text_digest(record) for record in read_shard(Shard("files", (str(tmp_path / "a.jsonl"),)))]

    assert digests[0] == digests[1]
    assert len(set(digests)) == 3
