"""The pipeline's stages as plain functions and one callable class; Ray runs them, they do not import it.

read (tasks) → segment (tasks) → label (an actor pool: each actor holds the model and the service's
batcher) → write (tasks: one committed part per batch of articles). Every article leaves each stage as
exactly one row, failed or not, so nothing is lost between them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from app.backfill import schema
from app.backfill.source import METADATA_COLUMNS, Shard, metadata_fields, read_shard, text_digest
from app.backfill.store import OutputDir
from app.backfill.upstream import (
    Batcher,
    ClaimService,
    Record,
    SentenceContext,
    attributed,
    load_backend,
    read_article,
    speaker_span,
)
from app.errors import ClaimsiftError
from app.schemas import ClassifyRequest, ExtractRequest, Scored
from app.settings import Settings

FURNITURE = "furniture"  # the role of a line that is not labelled (the API's `skipped`)
_SPAN_KEYS = ("text", "start", "end", "start_utf16", "end_utf16")
_CONTEXT_KEYS = (
    "role",
    "quoted",
    "speaker",
    "speaker_start",
    "speaker_end",
    "speaker_start_utf16",
    "speaker_end_utf16",
)

# Articles per block, the unit the pool hands to one classifier: small enough to spread even a small
# archive over every classifier, big enough (a few seconds of model time) to dwarf Ray's overhead.
BLOCK_DOCS = 32

DoneKeys = frozenset[str]


def done_key(doc_id: str, text_sha256: str) -> str:
    return f"{doc_id}\x00{text_sha256}"


# --- read -------------------------------------------------------------------------------------------


def read_shards(shards: pa.Table, done: DoneKeys) -> Iterator[pa.Table]:
    """The records of each shard (a generator, so a big file streams), already-done ones marked skip."""
    rows: list[dict[str, Any]] = []
    for shard_row in shards.to_pylist():
        for record in read_shard(Shard(shard_row["kind"], tuple(shard_row["paths"]))):
            rows.append(_read_row(record, done))
            if len(rows) == BLOCK_DOCS:
                yield schema.table(rows, schema.READ)
                rows = []
    if rows:
        yield schema.table(rows, schema.READ)


def _read_row(record: Record, done: DoneKeys) -> dict[str, Any]:
    digest = text_digest(record)
    status, (code, message) = schema.TODO, record.problem or (None, None)
    if done_key(record.id, digest) in done:
        status = schema.SKIP
    elif record.text is None:
        status = schema.FAILED
    else:
        try:  # the API's own checks on `text` (not blank, no lone surrogate, a known format)
            ExtractRequest(text=record.text, format=record.format)
        except ValidationError as exc:
            status, code, message = schema.FAILED, "validation_error", _describe(exc)
    metadata = {key: _printable(value) for key, value in metadata_fields(record).items()}
    return {
        "doc_id": _printable(record.id),
        "source": _printable(record.source),
        "format": record.format,
        "status": status,
        "code": code,
        "message": message,
        "text_sha256": digest,
        **metadata,
        "chars": len(record.text or ""),
        "text": record.text if status == schema.TODO else None,
    }


def _printable(value: str | None) -> str | None:
    """Arrow (UTF-8) cannot hold a lone surrogate, which JSON and file names can: write it escaped."""
    if value is None:
        return None
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


# --- segment ----------------------------------------------------------------------------------------


def segment(docs: pa.Table, settings: Settings) -> pa.Table:
    """Sentences and offsets of each article, read exactly as /v1/extract reads a `text`."""
    rows = docs.to_pylist()
    for row in rows:
        text = row.pop("text")
        row["spans"] = []
        if row["status"] != schema.TODO:
            continue
        try:
            row["spans"] = _spans(text, row["format"], settings)
        except ClaimsiftError as exc:
            row.update(status=schema.FAILED, code=exc.code, message=exc.message)
    return schema.table(rows, schema.SEGMENTED)


def _spans(text: str, kind: str, settings: Settings) -> list[dict[str, Any]]:
    size = len(text.encode("utf-8"))
    if size > settings.max_body_bytes:
        raise _too_large(f"the article is {size} bytes; the limit is {settings.max_body_bytes}")
    document = read_article(text, kind == "html", settings.max_chars)
    if len(document.labelled) > settings.max_sentences:  # furniture is not counted, as in /v1/extract
        raise _too_large(f"{len(document.labelled)} sentences; the limit is {settings.max_sentences}")
    return [
        {
            "text": span.text,
            "start": span.start,
            "end": span.end,
            "start_utf16": document.utf16[2 * i],
            "end_utf16": document.utf16[2 * i + 1],
            **_context(document.contexts[i], document.speakers_utf16[i]),
        }
        for i, span in enumerate(document.spans)
    ]


def _context(context: SentenceContext, speaker_utf16: tuple[int, int]) -> dict[str, Any]:
    """The sentence's role, quotation level and speaker, flat (Parquet columns, not a nested object)."""
    speaker = speaker_span(context.speaker, speaker_utf16)
    return {
        "role": context.role,
        "quoted": context.quoted,
        "speaker": speaker.text if speaker else None,
        "speaker_start": speaker.start if speaker else None,
        "speaker_end": speaker.end if speaker else None,
        "speaker_start_utf16": speaker.start_utf16 if speaker else None,
        "speaker_end_utf16": speaker.end_utf16 if speaker else None,
    }


def _too_large(message: str) -> ClaimsiftError:
    from app.errors import PayloadTooLarge

    return PayloadTooLarge(message)


def _describe(exc: ValidationError) -> str:
    return "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors()[:5])


# --- label ------------------------------------------------------------------------------------------


class Labeller:
    """An actor's model: loaded once, then every article goes through the service's own classify path.

    That path is the one /v1/extract takes (token-budget batches on one inference thread, the same
    rounding and `uncertain` rule). Each article is submitted on its own and the sentence cache is off,
    so its batches hold only its own sentences, exactly as in one /v1/extract request to an idle
    service: the scores do not depend on which articles happened to share a batch, and a rerun or a
    resumed run writes bit-identical rows. Furniture is not submitted; the quotation rule is applied
    with each sentence's quotation level from the whole article (segment stage), as /v1/extract does.
    """

    def __init__(self, settings: Settings) -> None:
        backend = load_backend(settings)
        self._batcher = Batcher(
            backend,
            max_batch=settings.batch_size,
            max_wait_s=settings.batch_wait_ms / 1000,
            max_queued=settings.max_queued_sentences,
            token_budget=settings.batch_tokens,
        )
        self._batcher.start()
        self._service = ClaimService(backend, self._batcher, settings.model_copy(update={"cache_mb": 0}))
        self._loop = asyncio.new_event_loop()
        self.model = self._service.model
        self._node = socket.gethostname()

    def close(self) -> None:
        """Stop the inference thread and the loop (an actor needs none of this: Ray ends its process)."""
        self._batcher.stop()
        self._loop.close()

    def __call__(self, docs: pa.Table) -> pa.Table:
        rows = docs.to_pylist()
        for row in rows:
            row["model_name"], row["model_version"] = self.model.name, self.model.version
            row["node"] = self._node
            spans = [span for span in row["spans"] if span["role"] != FURNITURE]
            if row["status"] != schema.TODO or not spans:
                continue
            try:
                scored = self._loop.run_until_complete(self._classify(spans))
            except ClaimsiftError as exc:  # the model failed on this article: it is tried again next run
                row.update(status=schema.FAILED, code=exc.code, message=exc.message)
                continue
            for span, result in zip(spans, scored, strict=True):
                span.update(result)
        return schema.table(rows, schema.LABELLED)

    async def _classify(self, spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The model's answer for each sentence alone, then the quotation rule with the article's context:
        # /v1/classify's own context sees only the marks inside one sentence.
        request = ClassifyRequest(sentences=[span["text"] for span in spans], context=False)
        response = await self._service.classify(request)
        labelled = []
        for span, result in zip(spans, response.results, strict=True):
            shaped, source = attributed(
                Scored.model_validate(result.model_dump(include=set(Scored.model_fields))),
                span["quoted"],
                use_context=True,
                default_labels=True,
            )
            labelled.append(
                {
                    "label": shaped.label,
                    "label_source": source,
                    "confidence": shaped.confidence,
                    "scores": list(shaped.scores.values()),
                    "uncertain": shaped.uncertain,
                }
            )
        return labelled


def model_card(settings: Settings) -> tuple[str, str, list[str]]:
    """(name, version, labels) of the model the actors will load: run once, as a check, before them."""
    backend = load_backend(settings)
    card = backend.card
    return card.name, card.version, backend.default_labels.names


# --- write ------------------------------------------------------------------------------------------


def write_part(docs: pa.Table, out: OutputDir, run_id: str, labels: list[str]) -> pa.Table:
    """Commit one part (the batch's articles: sentences, documents, errors) and say what it held."""
    rows = docs.to_pylist()
    skipped = sum(row["status"] == schema.SKIP for row in rows)
    rows = _last_of_each_id([row for row in rows if row["status"] != schema.SKIP])
    nodes = Counter(row["node"] for row in rows if row["status"] == schema.TODO)
    part = ""
    sentences: list[dict[str, Any]] = []
    furniture: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    if rows:
        part = _part_name(run_id, rows)
        for row in rows:
            if row["status"] == schema.FAILED:
                errors.append(_error_row(row, part))
            else:
                documents.append(_document_row(row, labels, part))
                sentences.extend(_sentence_rows(row, labels))
                furniture.extend(_skipped_rows(row))
        out.commit(
            part,
            {
                "sentences": schema.table(sentences, schema.sentences_schema(labels)),
                "skipped": schema.table(furniture, schema.SKIPPED),
                "documents": schema.table(documents, schema.documents_schema(labels)),
                "errors": schema.table(errors, schema.ERRORS),
            },
            retry={row["doc_id"] for row in errors if row["code"] in schema.RETRYABLE},
            nodes=dict(nodes),
        )
    summary = {
        "part": part,
        "documents": len(documents),
        "sentences": len(sentences),
        "errors": len(errors),
        "skipped": skipped,
        "nodes": json.dumps(dict(nodes)),
    }
    return schema.table([summary], schema.PART_SUMMARY)


def _last_of_each_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An id given twice in SOURCE is labelled once: the copy that reaches the writer last wins."""
    return list({row["doc_id"]: row for row in rows}.values())


def _part_name(run_id: str, rows: list[dict[str, Any]]) -> str:
    """The run, then a digest of the part's articles: a retried write task commits the same name."""
    digest = hashlib.sha256()
    for key in sorted(done_key(row["doc_id"], row["text_sha256"]) for row in rows):
        digest.update(key.encode("utf-8", "surrogatepass") + b"\x01")
    return f"{run_id}-{digest.hexdigest()[:16]}"


def _error_row(row: dict[str, Any], part: str) -> dict[str, Any]:
    return {
        "doc_id": row["doc_id"],
        "source": row["source"],
        "code": row["code"],
        "message": row["message"],
        "text_sha256": row["text_sha256"],
        "model_version": row["model_version"],
        "part": part,
    }


def _labelled(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The article's sentences that have a label: all but the furniture."""
    return [span for span in row["spans"] if span["role"] != FURNITURE]


def _document_row(row: dict[str, Any], labels: list[str], part: str) -> dict[str, Any]:
    spans = _labelled(row)
    counts = {label: sum(span["label"] == label for span in spans) for label in labels}
    total = len(spans)
    document = {key: row[key] for key in ("doc_id", "source", "format", "text_sha256", "chars", "metadata")}
    document.update({name: row[name] for name in METADATA_COLUMNS})
    document.update({f"n_{label}": count for label, count in counts.items()})
    document.update(
        {f"share_{label}": round(count / total, 4) if total else 0.0 for label, count in counts.items()}
    )
    document.update(
        sentences=total,
        skipped=len(row["spans"]) - total,
        uncertain=sum(span["uncertain"] for span in spans),
        model_name=row["model_name"],
        model_version=row["model_version"],
        part=part,
    )
    return document


def _sentence_rows(row: dict[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    """One row per labelled sentence; ``index`` counts them as /v1/extract does (furniture left out)."""
    return [
        {
            "doc_id": row["doc_id"],
            "index": index,
            **{key: span[key] for key in _SPAN_KEYS + _CONTEXT_KEYS},
            "label": span["label"],
            "label_source": span["label_source"],
            "confidence": span["confidence"],
            **{f"score_{label}": score for label, score in zip(labels, span["scores"], strict=True)},
            "uncertain": span["uncertain"],
            "model_name": row["model_name"],
            "model_version": row["model_version"],
        }
        for index, span in enumerate(_labelled(row))
    ]


def _skipped_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The article's furniture, as /v1/extract's `skipped`: where it is and its role, no label."""
    return [
        {"doc_id": row["doc_id"], **{key: span[key] for key in (*_SPAN_KEYS, "role")}}
        for span in row["spans"]
        if span["role"] == FURNITURE
    ]
