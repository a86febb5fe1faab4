"""The claim service: documents (HTML extraction, segmentation) → cache → batcher → labels, the uncertain
flag and counts. Below the API, above batching, cache, text and model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from app.attribution import attributed, speaker_span
from app.batching import Batcher, StageTimes
from app.cache import CacheScope, SentenceCache
from app.errors import InvalidInput, PayloadTooLarge
from app.model.types import Backend, Label, LabelSet, Prediction
from app.quota import charge_current
from app.schemas import (
    BlockResult,
    ClassifyOptions,
    ClassifyRequest,
    ClassifyResponse,
    ClassifyResult,
    ExtractRequest,
    ExtractResponse,
    LabelSpec,
    LabelsResponse,
    ModelInfo,
    Scored,
    SentenceResult,
    SkippedSentence,
)
from app.settings import Settings
from app.text.context import QuoteLevel, SentenceContext, annotate
from app.text.html import html_to_text
from app.text.offsets import utf16_offsets
from app.text.parse_cost import HtmlTooComplex
from app.text.roles import ElementHint, html_hints
from app.text.segment import Span, segment


@dataclass(frozen=True, slots=True)
class _Document:
    """One text to label, the request's `text` or one block: the text the offsets point into."""

    text: str
    spans: list[Span]
    utf16: list[int]  # start and end of each span in UTF-16 code units, interleaved
    paths: list[str | None]
    extracted: bool  # the text was extracted from HTML
    contexts: list[SentenceContext]  # role, quotation and speaker of each span
    speakers_utf16: list[tuple[int, int]]  # each context's speaker in UTF-16 units ((0, 0) when none)

    @property
    def labelled(self) -> list[int]:
        """The spans that get a label: all but page furniture."""
        return [i for i, context in enumerate(self.contexts) if context.role != "furniture"]

    @property
    def extracted_text(self) -> str | None:
        return self.text if self.extracted else None


def _read_document(source: str, html: bool) -> _Document:
    hints: list[ElementHint | None] | None = None
    if not html:
        segmentation = segment(source)
        paths: list[str | None] = [None] * len(segmentation.spans)
    else:
        try:
            extracted = html_to_text(source)
        except HtmlTooComplex as exc:
            raise InvalidInput(str(exc)) from None
        by_path = html_hints(source, extracted)
        source = extracted.text
        segmentation = segment(source)
        paths = [extracted.path_at(span.start) for span in segmentation.spans]
        hints = [by_path.get(path or "") for path in paths]
    spans = segmentation.spans
    contexts = annotate(source, segmentation, hints)
    speakers = [(c.speaker.start, c.speaker.end) if c.speaker else (0, 0) for c in contexts]
    positions = [offset for span in spans for offset in (span.start, span.end)]
    converted = utf16_offsets(source, positions + [offset for pair in speakers for offset in pair])
    utf16, speaker_units = converted[: len(positions)], converted[len(positions) :]
    speakers_utf16 = [(speaker_units[2 * i], speaker_units[2 * i + 1]) for i in range(len(spans))]
    return _Document(source, spans, utf16, paths, html, contexts, speakers_utf16)


def read_article(text: str, html: bool, max_chars: int) -> _Document:
    """One article as /v1/extract reads ``text``: size limit, HTML extraction, sentences and offsets.

    Raises the request's 413/422 errors; the archive backfill reads its articles through here too.
    """
    if not html and len(text) > max_chars:
        raise PayloadTooLarge(f"text has {len(text)} characters; the limit is {max_chars}")
    document = _read_document(text, html)
    _check_extracted([document], html, max_chars)
    return document


def _check_extracted(documents: list[_Document], html: bool, max_chars: int) -> None:
    if not html:
        return
    extracted = sum(len(document.text) for document in documents)
    if extracted > max_chars:
        raise PayloadTooLarge(f"the HTML has {extracted} characters of text; the limit is {max_chars}")
    if not extracted:
        raise InvalidInput("the HTML contains no text after dropping scripts, styles and navigation")


class ClaimService:
    def __init__(
        self, backend: Backend, batcher: Batcher, settings: Settings, cache: SentenceCache | None = None
    ) -> None:
        self._backend = backend
        self._batcher = batcher
        self._settings = settings
        self.cache = cache if cache is not None else SentenceCache(settings.cache_mb * 1024 * 1024)
        card = backend.card
        self.model = ModelInfo(name=card.name, backend=card.backend, version=card.version)

    def labels(self) -> LabelsResponse:
        specs = [
            LabelSpec(name=lb.name, description=lb.description) for lb in self._backend.default_labels.labels
        ]
        return LabelsResponse(model=self.model, labels=specs)

    async def extract(self, request: ExtractRequest, times: StageTimes | None = None) -> ExtractResponse:
        """``times`` (when given) gains where the inference side spent this request's time."""
        started = time.perf_counter()
        label_set = self._label_set(request)
        documents = await asyncio.to_thread(self._read_documents, request)
        texts = [document.spans[i].text for document in documents for i in document.labelled]
        self._check_sentence_count(len(texts))
        predictions, cached = await self._predict(texts, label_set, request, times)
        scored = iter(self._shape(predictions, cached, label_set, request))
        default_labels = request.labels is None
        per_document = [
            self._sentences(document, scored, request.context, default_labels) for document in documents
        ]
        blocks = None
        if request.blocks is not None:
            blocks = [
                BlockResult(
                    id=block.id,
                    extracted_text=document.extracted_text,
                    sentences=sentences,
                    counts=_counts(label_set, sentences),
                    skipped=_skipped(document),
                )
                for block, document, sentences in zip(request.blocks, documents, per_document, strict=True)
            ]
        return ExtractResponse(
            model=self.model,
            labels=label_set.names,
            sentences=per_document[0] if blocks is None else [],
            counts=_counts(label_set, [s for sentences in per_document for s in sentences]),
            truncated=any(p.truncated for p in predictions),
            cached_sentences=sum(cached),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
            extracted_text=documents[0].extracted_text if blocks is None else None,
            blocks=blocks,
            skipped=_skipped(documents[0]) if blocks is None else [],
        )

    def _read_documents(self, request: ExtractRequest) -> list[_Document]:
        """Extract (HTML) and segment every text of the request; runs off the event loop."""
        html = request.format == "html"
        limit = self._settings.max_chars
        if request.blocks is None:
            assert request.text is not None  # the schema wants exactly one of text and blocks
            documents = [read_article(request.text, html, limit)]
        else:
            if len(request.blocks) > self._settings.max_blocks:
                raise PayloadTooLarge(
                    f"{len(request.blocks)} blocks; the limit is {self._settings.max_blocks}"
                )
            if not html and sum(len(block.text) for block in request.blocks) > limit:
                total = sum(len(block.text) for block in request.blocks)
                raise PayloadTooLarge(f"the blocks have {total} characters in all; the limit is {limit}")
            documents = [_read_document(block.text, html) for block in request.blocks]
            _check_extracted(documents, html, limit)
        return documents

    @staticmethod
    def _sentences(
        document: _Document, scored: Iterator[Scored], use_context: bool, default_labels: bool
    ) -> list[SentenceResult]:
        sentences = []
        for index, i in enumerate(document.labelled):
            context = document.contexts[i]
            shaped, source = attributed(next(scored), context.quoted, use_context, default_labels)
            sentences.append(
                SentenceResult(
                    index=index,
                    **_placed(document, i),
                    quoted=context.quoted,
                    speaker=speaker_span(context.speaker, document.speakers_utf16[i]),
                    label_source=source,
                    **shaped.model_dump(),
                )
            )
        return sentences

    async def classify(self, request: ClassifyRequest, times: StageTimes | None = None) -> ClassifyResponse:
        self._check_sentence_count(len(request.sentences))
        label_set = self._label_set(request)
        predictions, cached = await self._predict(request.sentences, label_set, request, times)
        shaped = self._shape(predictions, cached, label_set, request)
        results = [
            _classify_result(text, scored, request.context, request.labels is None)
            for text, scored in zip(request.sentences, shaped, strict=True)
        ]
        return ClassifyResponse(
            model=self.model,
            labels=label_set.names,
            results=results,
            truncated=any(p.truncated for p in predictions),
            cached_sentences=sum(cached),
        )

    async def _predict(
        self, texts: Sequence[str], label_set: LabelSet, options: ClassifyOptions, times: StageTimes | None
    ) -> tuple[list[Prediction], list[bool]]:
        """One prediction per text, and whether it came from the cache; only misses reach the batcher."""
        charge_current(len(texts))  # the API key's quota, once the request is known to be valid
        scope = CacheScope(self.model.version, label_set.key, options.multi_label)
        found = self.cache.get_many(scope, texts)
        misses = list(dict.fromkeys(text for text, hit in zip(texts, found, strict=True) if hit is None))
        fresh = await self._batcher.submit(misses, label_set, options.multi_label, times)
        self.cache.put_many(scope, misses, fresh)
        by_text = dict(zip(misses, fresh, strict=True))
        predictions = [
            hit if hit is not None else by_text[text] for text, hit in zip(texts, found, strict=True)
        ]
        return predictions, [hit is not None for hit in found]

    def _label_set(self, options: ClassifyOptions) -> LabelSet:
        if options.labels is None:
            return self._backend.default_labels
        if len(options.labels) > self._settings.max_labels:
            raise InvalidInput(
                f"{len(options.labels)} labels given; the limit is {self._settings.max_labels}"
            )
        return LabelSet(tuple(Label(spec.name, spec.description) for spec in options.labels))

    def _check_sentence_count(self, count: int) -> None:
        if count > self._settings.max_sentences:
            raise PayloadTooLarge(f"{count} sentences; the limit is {self._settings.max_sentences}")

    def _shape(
        self,
        predictions: Sequence[Prediction],
        cached: Sequence[bool],
        label_set: LabelSet,
        options: ClassifyOptions,
    ) -> list[Scored]:
        threshold = self._settings.threshold if options.threshold is None else options.threshold
        names = label_set.names
        shaped: list[Scored] = []
        for prediction, from_cache in zip(predictions, cached, strict=True):
            best = max(range(len(names)), key=prediction.scores.__getitem__)
            confidence = round(prediction.scores[best], 4)
            shaped.append(
                Scored(
                    label=names[best],
                    confidence=confidence,
                    scores={name: round(s, 4) for name, s in zip(names, prediction.scores, strict=True)},
                    uncertain=confidence < threshold,
                    cached=from_cache,
                )
            )
        return shaped


def _counts(label_set: LabelSet, sentences: Sequence[SentenceResult]) -> dict[str, int]:
    counts = dict.fromkeys(label_set.names, 0)
    for sentence in sentences:
        counts[sentence.label] += 1
    return counts


def _skipped(document: _Document) -> list[SkippedSentence]:
    labelled = set(document.labelled)
    return [SkippedSentence(**_placed(document, i)) for i in range(len(document.spans)) if i not in labelled]


def _placed(document: _Document, i: int) -> dict[str, Any]:
    """Where sentence ``i`` of ``document`` is: text, code-point and UTF-16 offsets, element path, role."""
    span = document.spans[i]
    return {
        "text": span.text,
        "start": span.start,
        "end": span.end,
        "start_utf16": document.utf16[2 * i],
        "end_utf16": document.utf16[2 * i + 1],
        "path": document.paths[i],
        "role": document.contexts[i].role,
    }


def _classify_result(text: str, scored: Scored, use_context: bool, default_labels: bool) -> ClassifyResult:
    """A lone sentence in context: quotation marks within it still make it attributed speech."""
    context = annotate(text, segment(text))
    whole = _whole_sentence_context(text, context)
    shaped, source = attributed(scored, whole.quoted, use_context, default_labels)
    speaker = whole.speaker
    units = utf16_offsets(text, [speaker.start, speaker.end]) if speaker else [0, 0]
    return ClassifyResult(
        text=text,
        quoted=whole.quoted,
        speaker=speaker_span(speaker, (units[0], units[1])),
        label_source=source,
        **shaped.model_dump(),
    )


def _whole_sentence_context(text: str, contexts: Sequence[SentenceContext]) -> SentenceContext:
    """One context for a text the caller calls one sentence, even if the segmenter would split it."""
    if not contexts:
        return SentenceContext("body", "none", None)
    levels = {context.quoted for context in contexts}
    quoted: QuoteLevel = "full" if levels == {"full"} else "none" if levels == {"none"} else "partial"
    speaker = next((context.speaker for context in contexts if context.speaker is not None), None)
    return SentenceContext("body", quoted, speaker)
