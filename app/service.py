"""The claim service: segment → batcher → scores → labels, the uncertain flag and counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from app.batching import Batcher
from app.cache import CacheScope, SentenceCache
from app.errors import InvalidInput, PayloadTooLarge
from app.model.types import Backend, Label, LabelSet, Prediction
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
)
from app.settings import Settings
from app.text.html import HtmlTooComplex, html_to_text
from app.text.offsets import utf16_offsets
from app.text.segment import Span, split_sentences


@dataclass(frozen=True, slots=True)
class _Document:
    """One text to label, the request's `text` or one block: the text the offsets point into."""

    text: str
    spans: list[Span]
    utf16: list[int]  # start and end of each span in UTF-16 code units, interleaved
    paths: list[str | None]
    extracted: bool  # the text was extracted from HTML

    @property
    def extracted_text(self) -> str | None:
        return self.text if self.extracted else None


def _read_document(source: str, html: bool) -> _Document:
    if not html:
        spans = split_sentences(source)
        paths: list[str | None] = [None] * len(spans)
    else:
        try:
            extracted = html_to_text(source)
        except HtmlTooComplex as exc:
            raise InvalidInput(str(exc)) from None
        source = extracted.text
        spans = split_sentences(source)
        paths = [extracted.path_at(span.start) for span in spans]
    utf16 = utf16_offsets(source, [offset for span in spans for offset in (span.start, span.end)])
    return _Document(source, spans, utf16, paths, html)


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

    async def extract(self, request: ExtractRequest) -> ExtractResponse:
        started = time.perf_counter()
        label_set = self._label_set(request)
        documents = await asyncio.to_thread(self._read_documents, request)
        spans = [span for document in documents for span in document.spans]
        self._check_sentence_count(len(spans))
        predictions, cached = await self._predict([span.text for span in spans], label_set, request)
        scored = iter(self._shape(predictions, cached, label_set, request))
        per_document = [self._sentences(document, scored) for document in documents]
        blocks = None
        if request.blocks is not None:
            blocks = [
                BlockResult(
                    id=block.id,
                    extracted_text=document.extracted_text,
                    sentences=sentences,
                    counts=_counts(label_set, sentences),
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
        )

    def _read_documents(self, request: ExtractRequest) -> list[_Document]:
        """Extract (HTML) and segment every text of the request; runs off the event loop."""
        html = request.format == "html"
        limit = self._settings.max_chars
        if request.blocks is None:
            assert request.text is not None  # the schema wants exactly one of text and blocks
            if not html and len(request.text) > limit:
                raise PayloadTooLarge(f"text has {len(request.text)} characters; the limit is {limit}")
            documents = [_read_document(request.text, html)]
        else:
            if len(request.blocks) > self._settings.max_blocks:
                raise PayloadTooLarge(
                    f"{len(request.blocks)} blocks; the limit is {self._settings.max_blocks}"
                )
            if not html and sum(len(block.text) for block in request.blocks) > limit:
                total = sum(len(block.text) for block in request.blocks)
                raise PayloadTooLarge(f"the blocks have {total} characters in all; the limit is {limit}")
            documents = [_read_document(block.text, html) for block in request.blocks]
        if html:
            extracted = sum(len(document.text) for document in documents)
            if extracted > limit:
                raise PayloadTooLarge(f"the HTML has {extracted} characters of text; the limit is {limit}")
            if not extracted:
                raise InvalidInput("the HTML contains no text after dropping scripts, styles and navigation")
        return documents

    @staticmethod
    def _sentences(document: _Document, scored: Iterator[Scored]) -> list[SentenceResult]:
        return [
            SentenceResult(
                index=i,
                text=span.text,
                start=span.start,
                end=span.end,
                start_utf16=document.utf16[2 * i],
                end_utf16=document.utf16[2 * i + 1],
                path=document.paths[i],
                **next(scored).model_dump(),
            )
            for i, span in enumerate(document.spans)
        ]

    async def classify(self, request: ClassifyRequest) -> ClassifyResponse:
        self._check_sentence_count(len(request.sentences))
        label_set = self._label_set(request)
        predictions, cached = await self._predict(request.sentences, label_set, request)
        results = [
            ClassifyResult(text=text, **scored.model_dump())
            for text, scored in zip(
                request.sentences, self._shape(predictions, cached, label_set, request), strict=True
            )
        ]
        return ClassifyResponse(
            model=self.model,
            labels=label_set.names,
            results=results,
            truncated=any(p.truncated for p in predictions),
            cached_sentences=sum(cached),
        )

    async def _predict(
        self, texts: Sequence[str], label_set: LabelSet, options: ClassifyOptions
    ) -> tuple[list[Prediction], list[bool]]:
        """One prediction per text, and whether it came from the cache; only misses reach the batcher."""
        scope = CacheScope(self.model.version, label_set.key, options.multi_label)
        found = self.cache.get_many(scope, texts)
        misses = list(dict.fromkeys(text for text, hit in zip(texts, found, strict=True) if hit is None))
        fresh = await self._batcher.submit(misses, label_set, options.multi_label)
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
