"""The output folder's commit protocol: recover, ledger, newest-wins compaction, one writer at a time."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.backfill.store import COMMITS, OutputDir, OutputLocked


def doc_tables(ids: list[str], digest: str = "d1", version: str = "v1") -> dict[str, pa.Table]:
    return {
        "sentences": pa.table({"doc_id": [i for i in ids for _ in range(2)], "index": [0, 1] * len(ids)}),
        "documents": pa.table(
            {
                "doc_id": ids,
                "text_sha256": [digest] * len(ids),
                "model_version": [version] * len(ids),
                "part": ["?"] * len(ids),
            }
        ),
        "errors": pa.table(
            {"doc_id": [], "text_sha256": [], "model_version": [], "part": []},
            schema=pa.schema(
                [(name, pa.string()) for name in ("doc_id", "text_sha256", "model_version", "part")]
            ),
        ),
    }


@pytest.fixture
def out(tmp_path: Path) -> OutputDir:
    store = OutputDir(tmp_path / "out")
    store.recover()
    return store


def test_a_committed_part_is_in_the_ledger_and_its_empty_tables_are_not_written(out: OutputDir) -> None:
    out.commit("r1-a", doc_tables(["x", "y"]), retry=set())

    assert out.parts() == ["r1-a"]
    assert [(e.doc_id, e.text_sha256, e.model_version) for e in out.ledger()] == [
        ("x", "d1", "v1"),
        ("y", "d1", "v1"),
    ]
    assert out.file("sentences", "r1-a").is_file() and not out.file("errors", "r1-a").exists()
    table = out.read("sentences")
    assert table is not None and table.num_rows == 4


def test_recover_deletes_what_no_commit_record_covers(out: OutputDir) -> None:
    out.commit("r1-a", doc_tables(["x"]), retry=set())
    # A run killed between its renames: a sentences file and a documents file, but no commit record.
    for name, table in doc_tables(["y"]).items():
        if table.num_rows:
            pq.write_table(table, out.file(name, "r1-b"))
    (out.root / "_tmp" / "r1-c.sentences.1234.parquet").write_bytes(b"partial")

    removed = out.recover()

    assert removed == 2
    assert sorted(p.name for p in (out.root / "sentences").iterdir()) == ["r1-a.parquet"]
    assert list((out.root / "_tmp").iterdir()) == []
    assert [e.doc_id for e in out.ledger()] == ["x"]


def test_a_retried_commit_of_the_same_part_writes_no_copy(out: OutputDir) -> None:
    out.commit("r1-a", doc_tables(["x"]), retry=set())
    out.commit("r1-a", doc_tables(["x"]), retry=set())

    assert out.parts() == ["r1-a"]
    table = out.read("documents")
    assert table is not None and table.column("doc_id").to_pylist() == ["x"]


def test_compaction_keeps_the_newest_row_of_each_id(out: OutputDir) -> None:
    out.commit("r1-a", doc_tables(["x", "y"]), retry=set())
    out.commit("r2-a", doc_tables(["y"], digest="d2"), retry=set())  # y's text changed

    assert out.compact() == 1

    documents = out.read("documents")
    assert documents is not None
    rows = sorted((r["doc_id"], r["text_sha256"], r["part"]) for r in documents.to_pylist())
    assert rows == [("x", "d1", "r1-a~"), ("y", "d2", "?")]
    sentences = out.read("sentences")
    assert sentences is not None and sorted(sentences.column("doc_id").to_pylist()) == ["x", "x", "y", "y"]
    assert out.parts() == ["r1-a~", "r2-a"]
    assert out.compact() == 0


def test_compaction_finishes_one_that_was_killed_halfway(out: OutputDir) -> None:
    out.commit("r1-a", doc_tables(["x", "y"]), retry=set())
    out.commit("r2-a", doc_tables(["y"], digest="d2"), retry=set())
    out.commit("r1-a~", doc_tables(["x"]), retry=set())  # the rewrite committed, the old part not yet gone

    out.compact()

    assert out.parts() == ["r1-a~", "r2-a"]
    documents = out.read("documents")
    assert documents is not None and sorted(documents.column("doc_id").to_pylist()) == ["x", "y"]


def test_a_failure_to_retry_is_marked_in_the_ledger(out: OutputDir) -> None:
    tables = doc_tables([])
    tables["errors"] = pa.table(
        {"doc_id": ["x", "y"], "text_sha256": ["d", "d"], "model_version": ["v1", "v1"], "part": ["?", "?"]}
    )
    out.commit("r1-a", tables, retry={"y"})

    assert {(e.doc_id, e.retry) for e in out.ledger()} == {("x", False), ("y", True)}


def test_one_backfill_at_a_time_per_folder(out: OutputDir) -> None:
    with out.locked(), pytest.raises(OutputLocked, match="another backfill"), OutputDir(out.root).locked():
        pass
    with out.locked():  # released with the first holder
        assert (out.root / COMMITS).is_dir()
