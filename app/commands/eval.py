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
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from app.schemas import ClassifyRequest, ClassifyResponse, ExtractRequest, ExtractResponse, ModelInfo
from app.settings import Settings
from app.training.report import FROM_SCORES, THREE_CLASS, TWO_CLASS, Report, format_report, metrics

AnswerT = TypeVar("AnswerT")
OPTIONS = {"labels", "multi_label", "threshold", "context"}  # request fields the client takes as keywords
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
    # A label the quotation rule set counts as given; a model label is the top (folded) score, as always.
    decided = np.array(
        [FROM_SCORES if r.label_source == "model" else THREE_CLASS.index(r.label) for r in results]
    )
    report = metrics(gold, probabilities, space, file, model_name(responses[0].model), decided)
    sources = Counter(result.label_source for result in results)
    return replace(report, context=context, label_sources=dict(sorted(sources.items())))


def check_labels(service_labels: Sequence[str]) -> None:
    if set(service_labels) != set(THREE_CLASS):
        raise EvalError(f"the service labels with {list(service_labels)}, not {list(THREE_CLASS)}")


def model_name(card: ModelInfo) -> str:
    return f"{card.name} ({card.backend} {card.version})"


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
    """A running service, spoken to by the Python client (``/v1/classify`` and ``/v1/extract``)."""

    def __init__(self, url: str, timeout_s: float = 300.0) -> None:
        from claimsift_client import AsyncClaimsiftClient

        self._client = AsyncClaimsiftClient(url, timeout_s=timeout_s)
        self._url = url

    async def classify(self, request: ClassifyRequest) -> ClassifyResponse:
        options = request.model_dump(include=OPTIONS)
        return await self._answer("/v1/classify", self._client.classify(request.sentences, **options))

    async def extract(self, request: ExtractRequest) -> ExtractResponse:
        options = request.model_dump(
            include={"blocks", "format", "labels", "multi_label", "threshold", "context"}
        )
        return await self._answer("/v1/extract", self._client.extract(request.text, **options))

    async def _answer(self, path: str, call: Awaitable[AnswerT]) -> AnswerT:
        """The call's answer, or the client's error as an EvalError that says where it came from."""
        from claimsift_client import APIError, ClientError

        try:
            return await call
        except APIError as exc:
            raise EvalError(f"{self._url}{path} answered {exc.status}: {exc.message}") from exc
        except ClientError as exc:
            raise EvalError(f"cannot reach {self._url}: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


async def evaluate_file(path: Path, url: str | None, settings: Settings, context: bool = True) -> Report:
    """Sentence rows go through /v1/classify; an article file (data/articles) through /v1/extract."""
    from app.commands import eval_articles

    articles = eval_articles.read_articles(path) if eval_articles.is_article_file(path) else None
    examples, space = ([], THREE_CLASS) if articles is not None else read_examples(path)
    async with _service(url, settings) as service:
        if articles is not None:
            return await eval_articles.evaluate(service, articles, str(path), context)
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
    from app.main import Engine

    engine = Engine(settings)
    await engine.load()
    try:
        if engine.service is None:
            raise EvalError(f"the model failed to load: {engine.load_error}")
        yield engine.service
    finally:
        engine.close()


def run(path: Path, url: str | None, as_json: bool, settings: Settings, context: bool = True) -> int:
    try:
        report = asyncio.run(evaluate_file(path, url, settings, context))
    except EvalError as exc:
        print(f"claimsift eval: {exc}", file=sys.stderr)
        return 2
    print(report.to_json() if as_json else format_report(report))
    return 0
