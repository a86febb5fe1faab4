"""`claimsift eval`: score a labelled JSONL file against the service, in-process or over HTTP.

Both paths go through ``/v1/classify``'s contract (a ClassifyRequest in, a ClassifyResponse out), so the
numbers printed for a local model and for a deployed service are computed the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from app.classify.backend import DEFAULT_LABELS
from app.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    ExtractRequest,
    ExtractResponse,
    ModelInfo,
)
from app.settings import Settings

THREE_CLASS = tuple(DEFAULT_LABELS.names)
TWO_CLASS = ("fact", "opinion")
# A two-class (subjectivity) file folds the author's evaluations and prescriptions into "opinion".
TO_TWO_CLASS = {"fact": "fact", "assessment": "opinion", "prescription": "opinion"}
CHUNK = 64  # sentences per /v1/classify call: small enough for a smooth progress bar
ECE_BINS = 10


class EvalError(Exception):
    """A file or a service that cannot be evaluated; the CLI prints it and exits non-zero."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    file: str
    model: str
    n: int
    labels: list[str]
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: list[list[int]]  # rows: gold label, columns: predicted label, in ``labels`` order
    ece: float
    context: bool = True  # the request option `context` the service was asked with
    unlabelled: int = 0  # gold rows the service gave no label (skipped as furniture, or not found)
    label_sources: dict[str, int] = field(default_factory=dict)  # `model` / `quotation` row counts
    breakdown: dict[str, dict[str, float]] = field(default_factory=dict)  # accuracy by role, by source

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def read_examples(path: Path) -> tuple[list[Example], tuple[str, ...]]:
    """The rows of a JSONL file and the label space they use (three-class or fact/opinion)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    examples = [_parse_line(path, number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not examples:
        raise EvalError(f"{path} has no labelled rows")
    found = {example.label for example in examples}
    for space in (THREE_CLASS, TWO_CLASS):
        if found <= set(space):
            return examples, space
    unknown = sorted(found - set(THREE_CLASS) - set(TWO_CLASS)) or sorted(found)
    raise EvalError(
        f"{path}: unknown or mixed labels {unknown}; use {'/'.join(THREE_CLASS)} or {'/'.join(TWO_CLASS)}"
    )


def _parse_line(path: Path, number: int, line: str) -> Example:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(row, dict):
        raise EvalError(f"{path}:{number}: expected a JSON object")
    text, label = row.get("text"), row.get("label")
    if not isinstance(text, str) or not text.strip():
        raise EvalError(f"{path}:{number}: missing or empty `text`")
    if not isinstance(label, str):
        raise EvalError(f"{path}:{number}: missing `label`")
    return Example(text, label)


class Classifier(Protocol):
    async def classify(self, request: ClassifyRequest) -> ClassifyResponse: ...

    async def extract(self, request: ExtractRequest) -> ExtractResponse: ...


def score(
    examples: Sequence[Example],
    space: Sequence[str],
    responses: Sequence[ClassifyResponse],
    file: str,
    context: bool = True,
) -> Report:
    """Metrics from the gold rows and the service's answers (same order)."""
    results = [result for response in responses for result in response.results]
    check_labels(responses[0].labels)
    gold = np.array([space.index(example.label) for example in examples])
    probabilities = np.array([[result.scores[name] for name in THREE_CLASS] for result in results])
    decided = np.array([_decided(result.label, result.label_source) for result in results])
    report = metrics(gold, probabilities, space, file, model_name(responses[0].model), decided)
    sources = Counter(result.label_source for result in results)
    return replace(report, context=context, label_sources=dict(sorted(sources.items())))


def _decided(label: str, source: str) -> int:
    return THREE_CLASS.index(label) if source != "model" else FROM_SCORES


def check_labels(service_labels: Sequence[str]) -> None:
    if set(service_labels) != set(THREE_CLASS):
        raise EvalError(f"the service labels with {list(service_labels)}, not {list(THREE_CLASS)}")


def model_name(card: ModelInfo) -> str:
    return f"{card.name} ({card.backend} {card.version})"


NO_LABEL = -1  # the service gave the row no label (skipped as furniture, or not found)
FROM_SCORES = -2  # the row's label is its top score (folded for a fact/opinion file)


def metrics(
    gold: NDArray[np.int64],
    probabilities: NDArray[np.float64],
    space: Sequence[str],
    file: str,
    model: str,
    decided: NDArray[np.int64] | None = None,
) -> Report:
    """The report for gold label indices into ``space`` and three-class probabilities (rows).

    ``decided``, per row: the three-class label index a rule gave it instead of the top score (a quoted
    sentence is a fact), ``NO_LABEL`` (a miss for accuracy and recall, outside the confusion matrix and
    the calibration), or ``FROM_SCORES`` (the default: the top score).
    """
    if decided is None:
        decided = np.full(len(gold), FROM_SCORES)
    to_space = np.arange(len(THREE_CLASS))
    if tuple(space) == TWO_CLASS:
        # Sum the scores of the labels folded together, so prediction and confidence stay consistent.
        fold = np.array(
            [[float(TO_TWO_CLASS[name] == target) for target in TWO_CLASS] for name in THREE_CLASS]
        )
        probabilities = probabilities @ fold
        to_space = np.array([TWO_CLASS.index(TO_TWO_CLASS[name]) for name in THREE_CLASS])
    by_rule = to_space[np.maximum(decided, 0)]
    predicted = np.where(
        decided >= 0, by_rule, np.where(decided == NO_LABEL, NO_LABEL, probabilities.argmax(axis=1))
    )
    labelled = predicted >= 0
    confidence = probabilities[np.arange(len(gold))[labelled], predicted[labelled]]
    confusion = np.zeros((len(space), len(space)), dtype=np.int64)
    np.add.at(confusion, (gold[labelled], predicted[labelled]), 1)
    per_class = _per_class(confusion, space, np.bincount(gold, minlength=len(space)))
    return Report(
        file=file,
        model=model,
        n=len(gold),
        labels=list(space),
        accuracy=round(float((gold == predicted).mean()), 4),
        macro_f1=round(float(np.mean([m.f1 for m in per_class.values()])), 4),
        per_class=per_class,
        confusion=confusion.tolist(),
        ece=round(expected_calibration_error(confidence, predicted[labelled] == gold[labelled]), 4),
        unlabelled=int((~labelled).sum()),
    )


def _per_class(
    confusion: NDArray[np.int64], space: Sequence[str], support: NDArray[np.int64]
) -> dict[str, ClassMetrics]:
    metrics = {}
    for i, name in enumerate(space):
        true_positive = float(confusion[i, i])
        predicted, actual = float(confusion[:, i].sum()), float(support[i])
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        metrics[name] = ClassMetrics(round(precision, 4), round(recall, 4), round(f1, 4), int(actual))
    return metrics


def expected_calibration_error(
    confidence: NDArray[np.float64], correct: NDArray[np.bool_], bins: int = ECE_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            gap = abs(float(correct[in_bin].mean()) - float(confidence[in_bin].mean()))
            total += gap * in_bin.sum() / len(confidence)
    return total


def chunks(examples: Sequence[Example], context: bool = True) -> Iterator[ClassifyRequest]:
    for start in range(0, len(examples), CHUNK):
        yield ClassifyRequest(sentences=[e.text for e in examples[start : start + CHUNK]], context=context)


async def classify_all(
    classifier: Classifier, examples: Sequence[Example], context: bool = True
) -> list[ClassifyResponse]:
    from tqdm import tqdm

    responses = []
    # The bar goes to stderr so `--json` output on stdout stays machine-readable.
    with tqdm(total=len(examples), unit="sent", file=sys.stderr, disable=len(examples) <= CHUNK) as bar:
        for request in chunks(examples, context):
            responses.append(await classifier.classify(request))
            bar.update(len(request.sentences))
    return responses


class HttpClassifier:
    """A running service, spoken to through ``POST /v1/classify``."""

    def __init__(self, url: str, timeout_s: float = 300.0) -> None:
        import httpx

        self._client = httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout_s)
        self._url = url

    async def classify(self, request: ClassifyRequest) -> ClassifyResponse:
        import httpx

        try:
            response = await self._client.post("/v1/classify", json=request.model_dump(exclude_none=True))
        except httpx.HTTPError as exc:
            raise EvalError(f"cannot reach {self._url}: {exc}") from exc
        if response.status_code != 200:
            raise EvalError(f"{self._url}/v1/classify answered {response.status_code}: {response.text[:300]}")
        return ClassifyResponse.model_validate(response.json())

    async def extract(self, request: ExtractRequest) -> ExtractResponse:
        import httpx

        try:
            response = await self._client.post("/v1/extract", json=request.model_dump(exclude_none=True))
        except httpx.HTTPError as exc:
            raise EvalError(f"cannot reach {self._url}: {exc}") from exc
        if response.status_code != 200:
            raise EvalError(f"{self._url}/v1/extract answered {response.status_code}: {response.text[:300]}")
        return ExtractResponse.model_validate(response.json())

    async def aclose(self) -> None:
        await self._client.aclose()


async def evaluate_file(path: Path, url: str | None, settings: Settings, context: bool = True) -> Report:
    from app.classify import article_eval

    articles = article_eval.read_articles(path) if article_eval.is_article_file(path) else None
    examples, space = ([], THREE_CLASS) if articles is not None else read_examples(path)
    async with _service(url, settings) as service:
        if articles is not None:
            return await article_eval.evaluate(service, articles, str(path), context)
        responses = await classify_all(service, examples, context)
    return score(examples, space, responses, str(path), context)


@contextlib.asynccontextmanager
async def _service(url: str | None, settings: Settings) -> AsyncIterator[Classifier]:
    """The service to score against: a running one over HTTP, or the model loaded in this process."""
    if url is not None:
        client = HttpClassifier(url)
        try:
            yield client
        finally:
            await client.aclose()
        return
    from app.runtime import Runtime

    runtime = Runtime(settings)
    await runtime.load()
    try:
        if runtime.service is None:
            raise EvalError(f"the model failed to load: {runtime.load_error}")
        yield runtime.service
    finally:
        runtime.close()


def format_report(report: Report) -> str:
    width = max(len(name) for name in report.labels) + 2
    lines = [
        f"file      {report.file}",
        f"model     {report.model}",
        f"n         {report.n}",
        f"accuracy  {report.accuracy:.4f}",
        f"macro-F1  {report.macro_f1:.4f}",
        f"ECE       {report.ece:.4f}",
        f"context   {'on' if report.context else 'off'}"
        + "".join(f"  {source}: {count}" for source, count in report.label_sources.items()),
        *(
            [f"unlabelled {report.unlabelled} (gold sentences the service skipped or did not find)"]
            if report.unlabelled
            else []
        ),
        "",
        f"{'label':<{width}} precision  recall      F1  support",
    ]
    for name, m in report.per_class.items():
        lines.append(f"{name:<{width}} {m.precision:9.4f} {m.recall:7.4f} {m.f1:7.4f} {m.support:8d}")
    lines += [
        "",
        "confusion (rows gold, columns predicted)",
        " " * width + "".join(f"{n:>14}" for n in report.labels),
    ]
    for name, row in zip(report.labels, report.confusion, strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{count:>14}" for count in row))
    if report.breakdown:
        lines += ["", "accuracy by group                n  accuracy"]
        for group, values in report.breakdown.items():
            lines.append(f"  {group:<28} {int(values['n']):>4}  {values['accuracy']:.4f}")
    return "\n".join(lines)


def run(path: Path, url: str | None, as_json: bool, settings: Settings, context: bool = True) -> int:
    try:
        report = asyncio.run(evaluate_file(path, url, settings, context))
    except EvalError as exc:
        print(f"claimsift eval: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if as_json else format_report(report))
    return 0
