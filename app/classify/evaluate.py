"""`claimsift eval`: score a labelled JSONL file against the service, in-process or over HTTP.

Both paths go through ``/v1/classify``'s contract (a ClassifyRequest in, a ClassifyResponse out), so the
numbers printed for a local model and for a deployed service are computed the same way.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from app.classify.backend import DEFAULT_LABELS
from app.schemas import ClassifyRequest, ClassifyResponse
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


def score(
    examples: Sequence[Example],
    space: Sequence[str],
    responses: Sequence[ClassifyResponse],
    file: str,
) -> Report:
    """Metrics from the gold rows and the service's answers (same order)."""
    results = [result for response in responses for result in response.results]
    service_labels = responses[0].labels
    if set(service_labels) != set(THREE_CLASS):
        raise EvalError(f"the service labels with {service_labels}, not {list(THREE_CLASS)}")
    gold = np.array([space.index(example.label) for example in examples])
    probabilities = np.array([[result.scores[name] for name in THREE_CLASS] for result in results])
    card = responses[0].model
    return metrics(gold, probabilities, space, file, f"{card.name} ({card.backend} {card.version})")


def metrics(
    gold: NDArray[np.int64],
    probabilities: NDArray[np.float64],
    space: Sequence[str],
    file: str,
    model: str,
) -> Report:
    """The report for gold label indices into ``space`` and three-class probabilities (rows)."""
    if tuple(space) == TWO_CLASS:
        # Sum the scores of the labels folded together, so prediction and confidence stay consistent.
        fold = np.array(
            [[float(TO_TWO_CLASS[name] == target) for target in TWO_CLASS] for name in THREE_CLASS]
        )
        probabilities = probabilities @ fold
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    confusion = np.zeros((len(space), len(space)), dtype=np.int64)
    np.add.at(confusion, (gold, predicted), 1)
    per_class = _per_class(confusion, space)
    return Report(
        file=file,
        model=model,
        n=len(gold),
        labels=list(space),
        accuracy=round(float((gold == predicted).mean()), 4),
        macro_f1=round(float(np.mean([m.f1 for m in per_class.values()])), 4),
        per_class=per_class,
        confusion=confusion.tolist(),
        ece=round(expected_calibration_error(confidence, predicted == gold), 4),
    )


def _per_class(confusion: NDArray[np.int64], space: Sequence[str]) -> dict[str, ClassMetrics]:
    metrics = {}
    for i, name in enumerate(space):
        true_positive = float(confusion[i, i])
        predicted, actual = float(confusion[:, i].sum()), float(confusion[i, :].sum())
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


def chunks(examples: Sequence[Example]) -> Iterator[ClassifyRequest]:
    for start in range(0, len(examples), CHUNK):
        yield ClassifyRequest(sentences=[e.text for e in examples[start : start + CHUNK]])


async def classify_all(classifier: Classifier, examples: Sequence[Example]) -> list[ClassifyResponse]:
    from tqdm import tqdm

    responses = []
    # The bar goes to stderr so `--json` output on stdout stays machine-readable.
    with tqdm(total=len(examples), unit="sent", file=sys.stderr, disable=len(examples) <= CHUNK) as bar:
        for request in chunks(examples):
            responses.append(await classifier.classify(request))
            bar.update(len(request.sentences))
    return responses


class HttpClassifier:
    """A running service, spoken to through ``POST /v1/classify`` by the Python client."""

    def __init__(self, url: str, timeout_s: float = 300.0) -> None:
        from claimsift_client import AsyncClaimsiftClient

        self._client = AsyncClaimsiftClient(url, timeout_s=timeout_s)
        self._url = url

    async def classify(self, request: ClassifyRequest) -> ClassifyResponse:
        from claimsift_client import APIError, ClientError

        try:
            return await self._client.classify(
                request.sentences,
                labels=request.labels,
                multi_label=request.multi_label,
                threshold=request.threshold,
            )
        except APIError as exc:
            raise EvalError(f"{self._url}/v1/classify answered {exc.status}: {exc.message}") from exc
        except ClientError as exc:
            raise EvalError(f"cannot reach {self._url}: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


async def evaluate_file(path: Path, url: str | None, settings: Settings) -> Report:
    examples, space = read_examples(path)
    if url is not None:
        client = HttpClassifier(url)
        try:
            responses = await classify_all(client, examples)
        finally:
            await client.aclose()
        return score(examples, space, responses, str(path))
    from app.runtime import Runtime

    runtime = Runtime(settings)
    await runtime.load()
    try:
        if runtime.service is None:
            raise EvalError(f"the model failed to load: {runtime.load_error}")
        responses = await classify_all(runtime.service, examples)
    finally:
        runtime.close()
    return score(examples, space, responses, str(path))


def format_report(report: Report) -> str:
    width = max(len(name) for name in report.labels) + 2
    lines = [
        f"file      {report.file}",
        f"model     {report.model}",
        f"n         {report.n}",
        f"accuracy  {report.accuracy:.4f}",
        f"macro-F1  {report.macro_f1:.4f}",
        f"ECE       {report.ece:.4f}",
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
    return "\n".join(lines)


def run(path: Path, url: str | None, as_json: bool, settings: Settings) -> int:
    try:
        report = asyncio.run(evaluate_file(path, url, settings))
    except EvalError as exc:
        print(f"claimsift eval: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if as_json else format_report(report))
    return 0
