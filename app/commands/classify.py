"""`claimsift classify PATH|-`: label whole articles from files, folders, JSONL or stdin.

Every input record yields exactly one output record, in input order: the service's ExtractResponse, or
the error that record met (unreadable file, bad JSON line, a 4xx from the service...). The exit status is
1 when any record failed, so a pipeline notices, yet no line is lost.

In-process runs build the app with ``create_app`` and enter its own lifespan, then speak to it through
the same ``AsyncClaimsiftClient`` as a ``--url`` run over an in-memory ASGI transport: both paths go
through the same validation, limits and code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from claimsift_client import APIError, AsyncClaimsiftClient, AuthenticationError, ClientError, Format

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
API_KEY_ENV = "CLAIMSIFT_API_KEY"
TABLE_TEXT_WIDTH = 72


class InputError(Exception):
    """The command cannot start (no such path, nothing to read); printed, exit status 2."""


@dataclass(frozen=True, slots=True)
class Record:
    """One article to label, or the reason it could not be read (then ``text`` is None)."""

    id: str
    source: str
    text: str | None
    format: Format = "text"
    problem: tuple[str, str] | None = None  # (code, message) of an input that could not be read


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
        files = _folder_files(path, input_format)
        if not files:
            raise InputError(f"{path} has no .txt, .md, .html or .jsonl files")
        for file in files:
            yield from _file_records(file, input_format)
    elif path.exists():
        yield from _file_records(path, input_format)
    else:
        raise InputError(f"{path}: no such file or folder")


def count_records(target: str, input_format: InputFormat) -> int | None:
    """How many records ``read_records`` will yield, for the progress bar (None: stdin, unknown)."""
    if target == "-":
        return None
    path = Path(target)
    files = _folder_files(path, input_format) if path.is_dir() else [path]
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


def _folder_files(folder: Path, input_format: InputFormat) -> list[Path]:
    if input_format != "auto":
        return sorted(p for p in folder.rglob("*") if p.is_file())
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIX_FORMATS)


def _format_of(path: Path, input_format: InputFormat) -> InputFormat:
    if input_format != "auto":
        return input_format
    return SUFFIX_FORMATS.get(path.suffix.lower(), "text")


def _file_records(path: Path, input_format: InputFormat) -> Iterator[Record]:
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
        raise InputError(f"stdin is not UTF-8 text (byte {exc.start})") from None
    if not content.strip():
        raise InputError("stdin is empty")
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
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(where, where, None, problem=("invalid_record", f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(row, dict):
            yield Record(where, where, None, problem=("invalid_record", "expected a JSON object"))
            continue
        record_id = str(row["id"]) if row.get("id") is not None else where
        text, kind = row.get("text"), row.get("format", "text")
        if not isinstance(text, str):
            yield Record(record_id, where, None, problem=("invalid_record", "missing or non-string `text`"))
        elif kind not in ("text", "html"):
            yield Record(record_id, where, None, problem=("invalid_record", "`format` must be text or html"))
        else:
            yield Record(record_id, where, text, kind)


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


@contextlib.asynccontextmanager
async def in_process_client(settings: Settings, api_key: str | None) -> AsyncIterator[AsyncClaimsiftClient]:
    """The service built by ``create_app`` and run through its own lifespan, without a socket."""
    import httpx

    from app.main import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        while engine.service is None and engine.load_error is None:
            await asyncio.sleep(0.05)
        if engine.load_error is not None:
            raise InputError(f"the model failed to load: {engine.load_error}")
        # A server-side failure must come back as its 500 answer, as over HTTP, not crash the run.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with AsyncClaimsiftClient(
            "http://claimsift.in-process", api_key=api_key, timeout_s=None, transport=transport
        ) as client:
            yield client


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
    first = next(records, None)  # raises InputError for a missing path before any model loads
    if first is None:
        raise InputError(f"{options.target}: no records (the input is empty)")
    write = write_jsonl if options.output == "jsonl" else write_table
    failed = 0
    api_key = os.environ.get(API_KEY_ENV) or None
    total = count_records(options.target, options.input_format)
    async with _client(options.url, settings, api_key) as client:
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


@contextlib.asynccontextmanager
async def _client(
    url: str | None, settings: Settings, api_key: str | None
) -> AsyncIterator[AsyncClaimsiftClient]:
    opened: contextlib.AbstractAsyncContextManager[AsyncClaimsiftClient] = (
        in_process_client(settings, api_key) if url is None else AsyncClaimsiftClient(url, api_key=api_key)
    )
    async with opened as client:
        try:
            await client.labels()  # one clear failure up front instead of the same one per record
        except ClientError as exc:
            hint = f" (the key is read from {API_KEY_ENV})" if isinstance(exc, AuthenticationError) else ""
            raise InputError(f"cannot use {url or 'the in-process service'}: {exc}{hint}") from exc
        yield client


def run(options: Options, settings: Settings) -> int:
    try:
        return asyncio.run(run_async(options, settings, sys.stdin, sys.stdout))
    except InputError as exc:
        print(f"claimsift classify: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
