"""The Arrow schemas: the rows that flow between the pipeline's stages and the three output tables.

One row per article flows from reading to writing (its sentences as a nested list), so a written part
always holds whole articles: that is what makes a part the unit of commit.

Output (one Parquet file per committed part in each folder):
- ``sentences/``: doc_id, index, text, start, end, start_utf16, end_utf16, role, quoted, speaker,
  speaker_start, speaker_end, speaker_start_utf16, speaker_end_utf16, label, label_source, confidence,
  score_<label> per label, uncertain, model_name, model_version (the fields of /v1/extract's
  ``sentences``);
- ``skipped/``: doc_id, text, start, end, start_utf16, end_utf16, role: the page furniture of
  /v1/extract's ``skipped``, not labelled and not counted;
- ``documents/``: doc_id, source, format, the metadata columns (date, section, author, url, title) and
  every other input field as JSON in ``metadata``, text_sha256, chars, sentences, skipped, n_<label>,
  share_<label>, uncertain, model_name, model_version, part;
- ``errors/``: doc_id, source, code, message, text_sha256, model_version, part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from app.backfill.source import METADATA_COLUMNS

# Row status between stages: to label, already done in an earlier run, or failed (with code, message).
TODO, SKIP, FAILED = "todo", "skip", "failed"
# Failures that say nothing about the article: its error row is written and the next run tries again.
RETRYABLE = frozenset({"inference_failed", "overloaded"})

_DOC_FIELDS = [
    pa.field("doc_id", pa.string()),
    pa.field("source", pa.string()),
    pa.field("format", pa.string()),
    pa.field("status", pa.string()),
    pa.field("code", pa.string()),
    pa.field("message", pa.string()),
    pa.field("text_sha256", pa.string()),
    *[pa.field(name, pa.string()) for name in METADATA_COLUMNS],
    pa.field("metadata", pa.string()),
    pa.field("chars", pa.int64()),
]

READ = pa.schema([*_DOC_FIELDS, pa.field("text", pa.string())])

_SPAN = [
    pa.field("text", pa.string()),
    pa.field("start", pa.int64()),
    pa.field("end", pa.int64()),
    pa.field("start_utf16", pa.int64()),
    pa.field("end_utf16", pa.int64()),
]
# Each sentence in its context (app.text.context): role, how much is quoted, who speaks (null: nobody named).
_CONTEXT = [
    pa.field("role", pa.string()),
    pa.field("quoted", pa.string()),
    pa.field("speaker", pa.string()),
    pa.field("speaker_start", pa.int64()),
    pa.field("speaker_end", pa.int64()),
    pa.field("speaker_start_utf16", pa.int64()),
    pa.field("speaker_end_utf16", pa.int64()),
]
SEGMENTED = pa.schema([*_DOC_FIELDS, pa.field("spans", pa.list_(pa.struct(_SPAN + _CONTEXT)))])

# Null on a furniture span, which is never labelled.
_SCORED = [
    pa.field("label", pa.string()),
    pa.field("label_source", pa.string()),
    pa.field("confidence", pa.float64()),
    pa.field("scores", pa.list_(pa.float64())),
    pa.field("uncertain", pa.bool_()),
]
LABELLED = pa.schema(
    [
        *_DOC_FIELDS,
        pa.field("spans", pa.list_(pa.struct(_SPAN + _CONTEXT + _SCORED))),
        pa.field("model_name", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("node", pa.string()),  # the host whose classifier labelled it (not written out)
    ]
)

# What the write stage returns to the driver: one row per part (for the progress bar and summary).
PART_SUMMARY = pa.schema(
    [
        pa.field("part", pa.string()),
        pa.field("documents", pa.int64()),
        pa.field("sentences", pa.int64()),
        pa.field("errors", pa.int64()),
        pa.field("skipped", pa.int64()),
        pa.field("nodes", pa.string()),  # JSON {host: articles labelled there}
    ]
)

SKIPPED = pa.schema([pa.field("doc_id", pa.string()), *_SPAN, pa.field("role", pa.string())])

ERRORS = pa.schema(
    [
        pa.field("doc_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("code", pa.string()),
        pa.field("message", pa.string()),
        pa.field("text_sha256", pa.string()),
        pa.field("model_version", pa.string()),
        pa.field("part", pa.string()),
    ]
)


def sentences_schema(labels: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [
            pa.field("doc_id", pa.string()),
            pa.field("index", pa.int32()),
            *_SPAN,
            *_CONTEXT,
            pa.field("label", pa.string()),
            pa.field("label_source", pa.string()),
            pa.field("confidence", pa.float64()),
            *[pa.field(f"score_{label}", pa.float64()) for label in labels],
            pa.field("uncertain", pa.bool_()),
            pa.field("model_name", pa.string()),
            pa.field("model_version", pa.string()),
        ]
    )


def documents_schema(labels: Sequence[str]) -> pa.Schema:
    return pa.schema(
        [
            pa.field("doc_id", pa.string()),
            pa.field("source", pa.string()),
            pa.field("format", pa.string()),
            *[pa.field(name, pa.string()) for name in METADATA_COLUMNS],
            pa.field("metadata", pa.string()),
            pa.field("text_sha256", pa.string()),
            pa.field("chars", pa.int64()),
            pa.field("sentences", pa.int32()),
            pa.field("skipped", pa.int32()),  # furniture lines, not labelled and not in `sentences`
            *[pa.field(f"n_{label}", pa.int32()) for label in labels],
            *[pa.field(f"share_{label}", pa.float64()) for label in labels],
            pa.field("uncertain", pa.int32()),
            pa.field("model_name", pa.string()),
            pa.field("model_version", pa.string()),
            pa.field("part", pa.string()),
        ]
    )


def table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as a table of exactly ``schema``: every block of a stage has the same types, even all-null."""
    return pa.Table.from_pylist(rows, schema=schema)
