"""`claimsift eval`: score a labelled JSONL file against the service, in-process or over HTTP.

Both paths go through ``/v1/classify``'s contract (a ClassifyRequest in, a ClassifyResponse out), so the
numbers printed for a local model and for a deployed service are computed the same way.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from app.schemas import ClassifyRequest, ClassifyResponse
from app.settings import Settings
from app.training.report import THREE_CLASS, TWO_CLASS, Report, format_report, metrics

CHUNK = 64  # sentences per /v1/classify call: small enough for a smooth progress bar


class EvalError(Exception):
    """A file or a service that cannot be evaluated; the CLI prints it and exits non-zero."""


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


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
    from app.main import Engine

    engine = Engine(settings)
    await engine.load()
    try:
        if engine.service is None:
            raise EvalError(f"the model failed to load: {engine.load_error}")
        responses = await classify_all(engine.service, examples)
    finally:
        engine.close()
    return score(examples, space, responses, str(path))


def run(path: Path, url: str | None, as_json: bool, settings: Settings) -> int:
    try:
        report = asyncio.run(evaluate_file(path, url, settings))
    except EvalError as exc:
        print(f"claimsift eval: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if as_json else format_report(report))
    return 0
