"""Everything the backfill reuses from the rest of claimsift, imported in this one place.

The readers of `claimsift classify`, the service's article reader and its classify path, the quotation
rule and the text layer's sentence context, and the model loader: when those modules move, only these
lines change.
"""

from __future__ import annotations

from app.attribution import attributed, speaker_span
from app.batching import Batcher
from app.commands.classify import Record, count_records, file_records, folder_files, record_from_line
from app.commands.inputs import row_line
from app.model.loader import load_backend
from app.service import ClaimService, read_article
from app.text.context import SentenceContext

__all__ = [
    "Batcher",
    "ClaimService",
    "Record",
    "SentenceContext",
    "attributed",
    "count_records",
    "file_records",
    "folder_files",
    "load_backend",
    "read_article",
    "record_from_line",
    "row_line",
    "speaker_span",
]
