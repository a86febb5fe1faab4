"""`claimsift eval`: score a labelled JSONL file against the service, in-process or over HTTP.

Both paths are the one client path of ``connect`` (the Python client, with the API key of
CLAIMSIFT_API_KEY), so the numbers printed for a local model and for a deployed service are computed the
same way; the JSONL reader is the one ``classify`` uses. Sentence rows go through ``/v1/classify``; a file
of whole articles (``eval_articles``) goes through ``/v1/extract``, each sentence read in its context.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from claimsift_client import AsyncClaimsiftClient, ClientError

from app.commands.connect import CommandError, open_client, run_command
from app.commands.inputs import Line, jsonl_lines
from app.schemas import ClassifyResponse, ModelInfo
from app.settings import Settings
from app.training.report import FROM_SCORES, THREE_CLASS, TWO_CLASS, Report, format_report, metrics

CHUNK = 64  # sentences per /v1/classify call: small enough for a smooth progress bar


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


def read_examples(path: Path) -> tuple[list[Example], tuple[str, ...]]:
    """The rows of a JSONL file and the label space they use (three-class or fact/opinion)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    examples = [_example(line) for line in jsonl_lines(lines, str(path))]
    if not examples:
        raise CommandError(f"{path} has no labelled rows")
    found = {example.label for example in examples}
    for space in (THREE_CLASS, TWO_CLASS):
        if found <= set(space):
            return examples, space
    unknown = sorted(found - set(THREE_CLASS) - set(TWO_CLASS)) or sorted(found)
    raise CommandError(
        f"{path}: unknown or mixed labels {unknown}; use {'/'.join(THREE_CLASS)} or {'/'.join(TWO_CLASS)}"
    )


def _example(line: Line) -> Example:
    if line.problem is not None:
        raise CommandError(f"{line.where}: {line.problem}")
    if not line.text.strip():
        raise CommandError(f"{line.where}: missing or empty `text`")
    label = line.fields.get("label")
    if not isinstance(label, str):
        raise CommandError(f"{line.where}: missing `label`")
    return Example(line.text, label)


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
        raise CommandError(f"the service labels with {list(service_labels)}, not {list(THREE_CLASS)}")


def model_name(card: ModelInfo) -> str:
    return f"{card.name} ({card.backend} {card.version})"


async def classify_all(
    client: AsyncClaimsiftClient, examples: Sequence[Example], context: bool = True
) -> list[ClassifyResponse]:
    from tqdm import tqdm

    responses = []
    # The bar goes to stderr so `--json` output on stdout stays machine-readable.
    with tqdm(total=len(examples), unit="sent", file=sys.stderr, disable=len(examples) <= CHUNK) as bar:
        for start in range(0, len(examples), CHUNK):
            sentences = [example.text for example in examples[start : start + CHUNK]]
            responses.append(await client.classify(sentences, context=context))
            bar.update(len(sentences))
    return responses


async def evaluate_file(path: Path, url: str | None, settings: Settings, context: bool = True) -> Report:
    from app.commands import eval_articles

    # A bad file fails before any model loads.
    articles = eval_articles.read_articles(path) if eval_articles.is_article_file(path) else None
    examples, space = ([], THREE_CLASS) if articles is not None else read_examples(path)
    async with open_client(url, settings) as client:
        try:
            if articles is not None:
                return await eval_articles.evaluate(client, articles, str(path), context)
            responses = await classify_all(client, examples, context)
        except ClientError as exc:
            raise CommandError(f"{url or 'the in-process service'}: {exc}") from exc
    return score(examples, space, responses, str(path), context)


async def _evaluate(path: Path, url: str | None, as_json: bool, settings: Settings, context: bool) -> int:
    report = await evaluate_file(path, url, settings, context)
    print(report.to_json() if as_json else format_report(report))
    return 0


def run(path: Path, url: str | None, as_json: bool, settings: Settings, context: bool = True) -> int:
    return run_command("eval", _evaluate(path, url, as_json, settings, context))
