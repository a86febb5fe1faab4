"""SOURCE as backfill reads it: the records of `claimsift classify`, in shards that Ray tasks read.

A shard is one JSONL file, one Parquet file, or a run of up to ``FILES_PER_SHARD`` text/HTML files,
so reading spreads over the cluster while every record keeps the id `claimsift classify` gives it.
Parquet rows go through the same row check as JSONL lines (`row_line`, `record_from_line`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.backfill.upstream import (
    Record,
    count_records,
    file_records,
    folder_files,
    record_from_line,
    row_line,
)

FILES_PER_SHARD = 256
PARQUET_SUFFIX = ".parquet"
# Metadata fields the documents table has columns for; any other field is kept in its `metadata` JSON.
METADATA_COLUMNS = ("date", "section", "author", "url", "title")


class SourceError(Exception):
    """SOURCE cannot be read at all (missing, empty): the command stops before starting Ray."""


@dataclass(frozen=True, slots=True)
class Shard:
    kind: str  # "files": read with the classify readers; "parquet": one Parquet file
    paths: tuple[str, ...]

    def to_row(self) -> dict[str, Any]:
        return {"kind": self.kind, "paths": list(self.paths)}


def plan_shards(source: Path) -> list[Shard]:
    """The shards of SOURCE (a file or a folder searched recursively), in name order."""
    if not source.exists():
        raise SourceError(f"{source}: no such file or folder")
    if source.is_file():
        return [Shard("parquet" if _is_parquet(source) else "files", (str(source),))]
    parquet = sorted(p for p in source.rglob(f"*{PARQUET_SUFFIX}") if p.is_file())
    texts = folder_files(source, "auto")
    if not parquet and not texts:
        raise SourceError(f"{source} has no .jsonl, .parquet, .txt, .md or .html files")
    shards = [Shard("parquet", (str(path),)) for path in parquet]
    run: list[str] = []
    for path in texts:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            shards.append(Shard("files", (str(path),)))  # a JSONL file is a shard of its own
            continue
        run.append(str(path))
        if len(run) == FILES_PER_SHARD:
            shards.append(Shard("files", tuple(run)))
            run = []
    if run:
        shards.append(Shard("files", tuple(run)))
    return shards


def count_shard_records(shards: list[Shard]) -> int:
    """How many records the shards hold, for the progress bar."""
    total = 0
    for shard in shards:
        for path in shard.paths:
            total += _parquet_rows(path) if shard.kind == "parquet" else count_records(path, "auto") or 0
    return total


def read_shard(shard: Shard) -> Iterator[Record]:
    for path in shard.paths:
        yield from (
            _parquet_records(Path(path)) if shard.kind == "parquet" else file_records(Path(path), "auto")
        )


def text_digest(record: Record) -> str:
    """What "the same text" means for skipping: the text and its format (or, without text, the problem)."""
    if record.text is None:
        code, message = record.problem or ("invalid_record", "no text")
        content = f"problem\x00{code}\x00{message}"
    else:
        content = f"{record.format}\x00{record.text}"
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def metadata_fields(record: Record) -> dict[str, str | None]:
    """The metadata columns of the documents table, and every other field as one JSON text."""
    known = {name: _as_text(record.metadata.get(name)) for name in METADATA_COLUMNS}
    rest = {key: value for key, value in record.metadata.items() if key not in METADATA_COLUMNS}
    return {**known, "metadata": json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)}


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == PARQUET_SUFFIX


def _parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except (OSError, ValueError):
        return 1  # reported as one failed record


def _parquet_records(path: Path, batch_rows: int = 1024) -> Iterator[Record]:
    """One record per row, numbered from 1 like JSONL lines; an unreadable file is one failed record."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = str(path)
    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
            for row in batch.to_pylist():
                number += 1
                yield record_from_line(row_line(row, f"{source}:{number}"))
    except (OSError, ValueError, pa.ArrowException) as exc:
        where = f"{source}:{number + 1}" if number else source
        yield Record(where, where, None, problem=("unreadable_input", f"not a readable Parquet file ({exc})"))
