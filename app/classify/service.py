"""The claim service: segment → batcher → scores → labels, the uncertain flag and counts."""

from __future__ import annotations

import time
from collections.abc import Sequence

from app.batching import Batcher
from app.classify.backend import Backend, Label, LabelSet, Prediction
from app.errors import InvalidInput, PayloadTooLarge
from app.schemas import (
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
from app.text.segment import split_sentences


class ClaimService:
    def __init__(self, backend: Backend, batcher: Batcher, settings: Settings) -> None:
        self._backend = backend
        self._batcher = batcher
        self._settings = settings
        card = backend.card
        self.model = ModelInfo(name=card.name, backend=card.backend, version=card.version)

    def labels(self) -> LabelsResponse:
        specs = [
            LabelSpec(name=lb.name, description=lb.description) for lb in self._backend.default_labels.labels
        ]
        return LabelsResponse(model=self.model, labels=specs)

    async def extract(self, request: ExtractRequest) -> ExtractResponse:
        started = time.perf_counter()
        if len(request.text) > self._settings.max_chars:
            raise PayloadTooLarge(
                f"text has {len(request.text)} characters; the limit is {self._settings.max_chars}"
            )
        label_set = self._label_set(request)
        spans = split_sentences(request.text)
        self._check_sentence_count(len(spans))
        predictions = await self._predict([span.text for span in spans], label_set, request)
        sentences = [
            SentenceResult(index=i, start=span.start, end=span.end, text=span.text, **scored.model_dump())
            for i, (span, scored) in enumerate(
                zip(spans, self._shape(predictions, label_set, request), strict=True)
            )
        ]
        counts = dict.fromkeys(label_set.names, 0)
        for sentence in sentences:
            counts[sentence.label] += 1
        return ExtractResponse(
            model=self.model,
            labels=label_set.names,
            sentences=sentences,
            counts=counts,
            truncated=any(p.truncated for p in predictions),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    async def classify(self, request: ClassifyRequest) -> ClassifyResponse:
        self._check_sentence_count(len(request.sentences))
        label_set = self._label_set(request)
        predictions = await self._predict(request.sentences, label_set, request)
        results = [
            ClassifyResult(text=text, **scored.model_dump())
            for text, scored in zip(
                request.sentences, self._shape(predictions, label_set, request), strict=True
            )
        ]
        return ClassifyResponse(
            model=self.model,
            labels=label_set.names,
            results=results,
            truncated=any(p.truncated for p in predictions),
        )

    async def _predict(
        self, texts: Sequence[str], label_set: LabelSet, options: ClassifyOptions
    ) -> list[Prediction]:
        return await self._batcher.submit(texts, label_set, options.multi_label)

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
        self, predictions: Sequence[Prediction], label_set: LabelSet, options: ClassifyOptions
    ) -> list[Scored]:
        threshold = self._settings.threshold if options.threshold is None else options.threshold
        names = label_set.names
        shaped: list[Scored] = []
        for prediction in predictions:
            best = max(range(len(names)), key=prediction.scores.__getitem__)
            confidence = round(prediction.scores[best], 4)
            shaped.append(
                Scored(
                    label=names[best],
                    confidence=confidence,
                    scores={name: round(s, 4) for name, s in zip(names, prediction.scores, strict=True)},
                    uncertain=confidence < threshold,
                )
            )
        return shaped
