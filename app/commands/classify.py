"""`claimsift classify PATH|-`: label whole articles from files, folders, JSONL or stdin.

Every input record yields exactly one output record, in input order: the service's ExtractResponse, or
the error that record met (unreadable file, bad JSON line, a 4xx from the service...). The exit status is
1 when any record failed, so a pipeline notices, yet no line is lost.

In-process and ``--url`` runs go through the one client path of ``connect`` (the Python client over
in-memory ASGI or HTTP), and JSONL input through the one reader of ``inputs``, both shared with `eval`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from claimsift_client import APIError, AsyncClaimsiftClient, ClientError, Format

from app.commands.connect import CommandError, open_client, run_command
from app.commands.inputs import Line, jsonl_lines
from app.schemas import ExtractResponse
from app.settings import Settings

InputFormat = Literal["auto", "text", "html", "jsonl"]
SUFFIX_FORMATS: dict[str, InputFormat] = {
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
TABLE_TEXT_WIDTH = 72


@dataclass(frozen=True, slots=True)
class Record:
    """One article to label, or the reason it could not be read (then ``text`` is None)."""

    id: str
    source: str
    text: str | None
    format: Format = "text"
    problem: tuple[str, str] | None = None  # (code, message) of an input that could not be read
    metadata: dict[str, Any] = field(default_factory=dict)  # a JSONL row's other fields (date, author...)


@dataclass(frozen=True, slots=True)
class Outcome:
    record: Record
    result: ExtractResponse | None = None
    error: tuple[str, str] | None = None  # (code, message)

    def to_json(self) -> dict[str, Any]:
        head: dict[str, Any] = {"id": self.record.id, "source": self.record.source, "ok": self.error is None}
        if self.error is not None:
            code, message = self.error
            return {**head, "error": {"code": code, "message": message}}
        assert self.result is not None
        return {**head, "result": self.result.model_dump(mode="json")}


# --- reading input -----------------------------------------------------------------------------------


def read_records(target: str, input_format: InputFormat, stdin: TextIO) -> Iterator[Record]:
    """The records of a file, a folder (recursively, in name order) or ``-`` (stdin), in order."""
    if target == "-":
        yield from _stdin_records(stdin, input_format)
        return
    path = Path(target)
    if path.is_dir():
        files = folder_files(path, input_format)
        if not files:
            raise CommandError(f"{path} has no .txt, .md, .html or .jsonl files")
        for file in files:
            yield from file_records(file, input_format)
    elif path.exists():
        yield from file_records(path, input_format)
    else:
        raise CommandError(f"{path}: no such file or folder")


def count_records(target: str, input_format: InputFormat) -> int | None:
    """How many records ``read_records`` will yield, for the progress bar (None: stdin, unknown)."""
    if target == "-":
        return None
    path = Path(target)
    files = folder_files(path, input_format) if path.is_dir() else [path]
    total = 0
    for file in files:
        if _format_of(file, input_format) != "jsonl":
            total += 1
            continue
        try:
            with file.open("rb") as lines:
                total += sum(1 for line in lines if line.strip())
        except OSError:
            total += 1  # reported as one failed record
    return total


def folder_files(folder: Path, input_format: InputFormat) -> list[Path]:
    if input_format != "auto":
        return sorted(p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIX_FORMATS)


def _format_of(path: Path, input_format: InputFormat) -> InputFormat:
    if input_format != "auto":
        return input_format
    return SUFFIX_FORMATS.get(path.suffix.lower(), "text")


def file_records(path: Path, input_format: InputFormat) -> Iterator[Record]:
    source = str(path)
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        yield Record(source, source, None, problem=("unreadable_input", f"not UTF-8 text (byte {exc.start})"))
        return
    except OSError as exc:
        yield Record(source, source, None, problem=("unreadable_input", exc.strerror or str(exc)))
        return
    kind = _format_of(path, input_format)
    if kind == "jsonl":
        yield from _jsonl_records(content.splitlines(), source)
    else:
        yield Record(source, source, content, "html" if kind == "html" else "text")


def _stdin_records(stdin: TextIO, input_format: InputFormat) -> Iterator[Record]:
    try:
        content = stdin.read()
    except UnicodeDecodeError as exc:
        raise CommandError(f"stdin is not UTF-8 text (byte {exc.start})") from None
    if not content.strip():
        raise CommandError("stdin is empty")
    kind = input_format
    if kind == "auto":
        # One JSON object per line starts with "{"; an article does not.
        kind = "jsonl" if content.lstrip().startswith("{") else "text"
    if kind == "jsonl":
        yield from _jsonl_records(content.splitlines(), "-")
    else:
        yield Record("-", "-", content, "html" if kind == "html" else "text")


def _jsonl_records(lines: Iterable[str], source: str) -> Iterator[Record]:
    """One record per non-blank line; a line that is not an article becomes a failed record."""
    for line in jsonl_lines(lines, source):
        yield record_from_line(line)


def record_from_line(line: Line) -> Record:
    """The article of one JSONL line or table row: `text`, optional `id` and `format`, other fields kept."""
    record_id = str(line.fields["id"]) if line.fields.get("id") is not None else line.where
    kind = line.fields.get("format", "text")
    if line.problem is not None:
        return Record(record_id, line.where, None, problem=("invalid_record", line.problem))
    if kind not in ("text", "html"):
        problem = ("invalid_record", "`format` must be text or html")
        return Record(record_id, line.where, None, problem=problem)
    metadata = {key: value for key, value in line.fields.items() if key not in ("id", "text", "format")}
    return Record(record_id, line.where, line.text, kind, metadata=metadata)


# --- classifying -------------------------------------------------------------------------------------


async def classify_one(client: AsyncClaimsiftClient, record: Record, context: bool = True) -> Outcome:
    if record.text is None:
        return Outcome(record, error=record.problem or ("invalid_record", "no text"))
    try:
        return Outcome(
            record, result=await client.extract(record.text, format=record.format, context=context)
        )
    except APIError as exc:
        return Outcome(record, error=(exc.code, exc.message))
    except ClientError as exc:
        return Outcome(record, error=(exc.code, str(exc)))


async def classify_all(
    client: AsyncClaimsiftClient, records: Iterable[Record], concurrency: int, context: bool = True
) -> AsyncIterator[Outcome]:
    """Outcomes in input order, with up to ``concurrency`` requests in flight."""
    pending: deque[asyncio.Task[Outcome]] = deque()
    try:
        for record in records:
            pending.append(asyncio.create_task(classify_one(client, record, context)))
            if len(pending) >= concurrency:
                yield await pending.popleft()
        while pending:
            yield await pending.popleft()
    finally:
        for task in pending:
            task.cancel()


# --- writing output ----------------------------------------------------------------------------------


def write_jsonl(outcome: Outcome, out: TextIO) -> None:
    out.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
    out.flush()


def write_table(outcome: Outcome, out: TextIO) -> None:
    """A block per record: a header with the counts, then one row per sentence."""
    record = outcome.record
    if outcome.error is not None:
        code, message = outcome.error
        out.write(f"== {record.id}  FAILED {code}: {message}\n\n")
        return
    assert outcome.result is not None
    counts = "  ".join(f"{name} {count}" for name, count in outcome.result.counts.items())
    skipped = f"  ({len(outcome.result.skipped)} furniture skipped)" if outcome.result.skipped else ""
    out.write(f"== {record.id}  {len(outcome.result.sentences)} sentences  {counts}{skipped}\n")
    width = max(len(name) for name in outcome.result.labels)
    for sentence in outcome.result.sentences:
        # ? uncertain, " labelled fact as quoted speech; a role other than body is shown before the text
        flag = "?" if sentence.uncertain else '"' if sentence.label_source == "quotation" else " "
        role = "" if sentence.role == "body" else f"[{sentence.role}] "
        text = role + " ".join(sentence.text.split())
        if len(text) > TABLE_TEXT_WIDTH:
            text = text[: TABLE_TEXT_WIDTH - 1] + "…"
        out.write(f"{sentence.index:>4}  {sentence.label:<{width}} {sentence.confidence:5.2f}{flag} {text}\n")
    out.write("\n")


# --- the command -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    target: str
    url: str | None
    output: Literal["jsonl", "table"]
    input_format: InputFormat
    concurrency: int
    progress: bool
    context: bool = True


async def run_async(options: Options, settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    from tqdm import tqdm

    records = read_records(options.target, options.input_format, stdin)
    first = next(records, None)  # raises CommandError for a missing path before any model loads
    if first is None:
        raise CommandError(f"{options.target}: no records (the input is empty)")
    write = write_jsonl if options.output == "jsonl" else write_table
    failed = 0
    total = count_records(options.target, options.input_format)
    async with open_client(options.url, settings) as client:
        # The bar goes to stderr so stdout stays one JSON object per line; shown only on a terminal.
        disable = None if options.progress and (total is None or total > 1) else True
        with tqdm(total=total, unit="article", file=sys.stderr, disable=disable) as bar:
            outcomes = classify_all(client, _chain(first, records), options.concurrency, options.context)
            async for outcome in outcomes:
                write(outcome, stdout)
                failed += outcome.error is not None
                bar.update(1)
    if failed:
        print(f"claimsift classify: {failed} record(s) failed; see their `error`", file=sys.stderr)
    return 1 if failed else 0


def _chain(first: Record, rest: Iterator[Record]) -> Iterator[Record]:
    yield first
    yield from rest


def run(options: Options, settings: Settings) -> int:
    try:
        return run_command("classify", run_async(options, settings, sys.stdin, sys.stdout))
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
