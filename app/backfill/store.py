"""The output folder and its commit protocol: what makes a backfill exactly-once and resumable.

A part (the articles of one write task) is written under ``_tmp/``, each file renamed into
``sentences/``, ``skipped/``, ``documents/`` and ``errors/``, and only then committed by renaming its
record into ``_commits/``. Renames are atomic on one filesystem, so a process killed at any moment
leaves either a committed part or files that the next run deletes before it starts (``recover``). A
part's name comes from its articles, so a retried write task commits the same part again instead of a
copy.

Articles are keyed by id. When an id is committed twice (its text changed, the model changed, a crash
in the middle of a compaction), the newest part wins and ``compact`` rewrites the older one without it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TABLES = ("sentences", "skipped", "documents", "errors")
COMMITS = "_commits"
TMP = "_tmp"
RUNS = "_runs.jsonl"
LOCK = ".lock"
REWRITTEN = "~"  # appended to a compacted part's name: sorts after the part it replaces


class OutputLocked(Exception):
    """Another backfill is writing to the same folder."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One committed article (or failed record) as the ledger sees it."""

    doc_id: str
    text_sha256: str
    model_version: str | None
    part: str
    retry: bool  # a failure to try again on the next run


@dataclass(frozen=True, slots=True)
class OutputDir:
    """DIR of `claimsift backfill SOURCE --out DIR`; a plain path, so Ray tasks get it by value."""

    root: Path

    def table_dir(self, name: str) -> Path:
        return self.root / name

    # --- the driver's side --------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One backfill per folder at a time (the lock goes with the process, even on kill -9)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputLocked(f"another backfill is writing to {self.root}") from None
            yield

    def recover(self) -> int:
        """Delete what an interrupted run left uncommitted; returns how many files went."""
        shutil.rmtree(self.root / TMP, ignore_errors=True)
        for name in (*TABLES, COMMITS, TMP):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        committed = set(self.parts())
        removed = 0
        for name in TABLES:
            for path in (self.root / name).glob("*.parquet"):
                if path.stem not in committed:
                    path.unlink()
                    removed += 1
        return removed

    def parts(self) -> list[str]:
        """Committed parts, oldest first."""
        return sorted(path.stem for path in (self.root / COMMITS).glob("*.json"))

    def ledger(self) -> list[Entry]:
        """Every committed article and failure: the keys of what is done."""
        entries: list[Entry] = []
        for part in self.parts():
            record = self.commit_record(part)
            retry = set(record.get("retry", []))
            for name in ("documents", "errors"):
                path = self.file(name, part)
                if not path.is_file():
                    continue
                columns = pq.read_table(path, columns=["doc_id", "text_sha256", "model_version"]).to_pydict()
                for doc_id, digest, version in zip(
                    columns["doc_id"], columns["text_sha256"], columns["model_version"], strict=True
                ):
                    entries.append(Entry(doc_id, digest, version, part, name == "errors" and doc_id in retry))
        return entries

    def read(self, name: str, columns: list[str] | None = None) -> pa.Table | None:
        """One output table over every committed part (None when it has no file yet)."""
        files = [self.file(name, part) for part in self.parts()]
        tables = [pq.read_table(path, columns=columns) for path in files if path.is_file()]
        return pa.concat_tables(tables, promote_options="permissive") if tables else None

    def compact(self) -> int:
        """Keep each id's newest row only; returns how many older rows were removed."""
        by_id: dict[str, list[str]] = defaultdict(list)
        for entry in self.ledger():
            by_id[entry.doc_id].append(entry.part)
        stale: dict[str, set[str]] = defaultdict(set)
        for doc_id, parts in by_id.items():
            newest = max(parts)
            for part in parts:
                if part != newest:
                    stale[part].add(doc_id)
        for part, doc_ids in stale.items():
            self._drop(part, doc_ids)
        return sum(len(doc_ids) for doc_ids in stale.values())

    def add_run(self, summary: dict[str, Any]) -> None:
        with (self.root / RUNS).open("a", encoding="utf-8") as runs:
            runs.write(json.dumps(summary) + "\n")

    def runs(self) -> list[dict[str, Any]]:
        path = self.root / RUNS
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    # --- the write tasks' side ----------------------------------------------------------------------

    def commit(
        self, part: str, tables: dict[str, pa.Table], retry: set[str], nodes: dict[str, int] | None = None
    ) -> None:
        """Write a part's tables, then its commit record: the part exists once that rename is done."""
        tmp = self.root / TMP
        tmp.mkdir(parents=True, exist_ok=True)
        written = []
        for name, table in tables.items():
            if table.num_rows == 0:
                continue
            staged = tmp / f"{part}.{name}.{uuid.uuid4().hex[:8]}.parquet"
            pq.write_table(table, staged)
            _fsync(staged)
            os.replace(staged, self.file(name, part))
            written.append(name)
        record = {
            "part": part,
            "files": written,
            "rows": {name: table.num_rows for name, table in tables.items()},
            "retry": sorted(retry),
            "nodes": nodes or {},  # where the articles were labelled: host -> articles
        }
        staged = tmp / f"{part}.commit.{uuid.uuid4().hex[:8]}.json"
        staged.write_text(json.dumps(record), encoding="utf-8")
        _fsync(staged)
        os.replace(staged, self.root / COMMITS / f"{part}.json")

    def commit_record(self, part: str) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(
            (self.root / COMMITS / f"{part}.json").read_text(encoding="utf-8")
        )
        return record

    def file(self, name: str, part: str) -> Path:
        return self.root / name / f"{part}.parquet"

    # --- compaction ---------------------------------------------------------------------------------

    def _drop(self, part: str, doc_ids: set[str]) -> None:
        """Rewrite ``part`` without ``doc_ids`` as a newer part, then delete it (record first)."""
        record = self.commit_record(part)
        tables: dict[str, pa.Table] = {}
        for name in record["files"]:
            table = pq.read_table(self.file(name, part))
            keep = pc.invert(pc.is_in(table["doc_id"], value_set=pa.array(sorted(doc_ids), pa.string())))
            table = table.filter(keep)
            if "part" in table.column_names:
                index = table.column_names.index("part")
                table = table.set_column(
                    index, "part", pa.array([part + REWRITTEN] * table.num_rows, pa.string())
                )
            tables[name] = table
        if any(table.num_rows for table in tables.values()):
            self.commit(part + REWRITTEN, tables, set(record.get("retry", [])) - doc_ids)
        (self.root / COMMITS / f"{part}.json").unlink()
        for name in TABLES:
            self.file(name, part).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
