"""`claimsift eval` on whole articles: every sentence read in its context, scored against the gold one.

An article file has one JSON object per line: ``{"id", "text", "format"?: "text"|"html", "sentences":
[{"start", "end", "text", "label", "role"?}]}``, offsets into ``text`` (into the extracted text for HTML)
and ``label`` null for a line that is no claim (page furniture): it is left out of the scores. Each
article goes through ``/v1/extract`` once; a gold sentence is matched to the service's by its offsets, or
else by its text, in order. A gold-labelled sentence the service skipped (or segmented differently) is
a miss: it counts against accuracy and recall, and the report says how many there were.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from claimsift_client import AsyncClaimsiftClient

from app.commands.connect import CommandError
from app.commands.eval import check_labels, model_name
from app.schemas import ExtractResponse, SentenceResult
from app.training.report import FROM_SCORES, NO_LABEL, THREE_CLASS, Report, metrics


@dataclass(frozen=True, slots=True)
class GoldSentence:
    start: int
    end: int
    text: str
    label: str | None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    text: str
    format: str
    sentences: list[GoldSentence]


def is_article_file(path: Path) -> bool:
    """Whether the first row of a JSONL file is an article (it has `sentences`)."""
    try:
        with path.open(encoding="utf-8") as lines:
            first = next((line for line in lines if line.strip()), "")
        row = json.loads(first) if first else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False  # read_examples reports the problem
    return isinstance(row, dict) and "sentences" in row


def read_articles(path: Path) -> list[Article]:
    articles = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold = [
                GoldSentence(int(s["start"]), int(s["end"]), str(s["text"]), s["label"], s.get("role"))
                for s in row["sentences"]
            ]
            articles.append(Article(str(row["id"]), str(row["text"]), row.get("format", "text"), gold))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"{path}:{number}: not an article row ({exc})") from exc
        unknown = {s.label for s in gold} - {*THREE_CLASS, None}
        if unknown:
            raise CommandError(f"{path}:{number}: unknown labels {sorted(map(str, unknown))}")
    if not articles:
        raise CommandError(f"{path} has no articles")
    return articles


async def evaluate(
    client: AsyncClaimsiftClient, articles: Sequence[Article], file: str, context: bool
) -> Report:
    responses = []
    for article in articles:
        if article.format == "html":
            responses.append(await client.extract(article.text, format="html", context=context))
        else:
            responses.append(await client.extract(article.text, context=context))
    return score(articles, responses, file, context)


def align(article: Article, response: ExtractResponse) -> list[tuple[GoldSentence, SentenceResult | None]]:
    """Each labelled gold sentence with the service's sentence for it (None: skipped or not found)."""
    by_offsets = {(s.start, s.end): s for s in response.sentences}
    by_text: dict[str, list[SentenceResult]] = defaultdict(list)
    for sentence in response.sentences:
        by_text[sentence.text].append(sentence)
    pairs = []
    for gold in article.sentences:
        if gold.label is None:
            continue
        found = by_offsets.get((gold.start, gold.end))
        if found is None and by_text.get(gold.text):
            found = by_text[gold.text].pop(0)
        pairs.append((gold, found))
    return pairs


def score(
    articles: Sequence[Article], responses: Sequence[ExtractResponse], file: str, context: bool
) -> Report:
    check_labels(responses[0].labels)
    pairs = [
        pair
        for article, response in zip(articles, responses, strict=True)
        for pair in align(article, response)
    ]
    gold = np.array([THREE_CLASS.index(str(g.label)) for g, _ in pairs])
    probabilities = np.array(
        [[s.scores[name] for name in THREE_CLASS] if s else [0.0] * len(THREE_CLASS) for _, s in pairs]
    )
    decided = np.array([_decided(s) for _, s in pairs])
    report = metrics(gold, probabilities, THREE_CLASS, file, model_name(responses[0].model), decided)
    sources = Counter(s.label_source for _, s in pairs if s)
    return replace(
        report, context=context, label_sources=dict(sorted(sources.items())), breakdown=_breakdown(pairs)
    )


def _decided(found: SentenceResult | None) -> int:
    if found is None:
        return NO_LABEL
    return FROM_SCORES if found.label_source == "model" else THREE_CLASS.index(found.label)


def _breakdown(pairs: Sequence[tuple[GoldSentence, SentenceResult | None]]) -> dict[str, dict[str, float]]:
    """Accuracy per gold role and per the service's quotation level and label source."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for gold, found in pairs:
        correct = found is not None and found.label == gold.label
        groups[f"gold role {gold.role or 'body'}"].append(correct)
        if found is not None:
            groups[f"quoted {found.quoted}"].append(correct)
            groups[f"label_source {found.label_source}"].append(correct)
    return {
        name: {"n": float(len(values)), "accuracy": round(sum(values) / len(values), 4)}
        for name, values in sorted(groups.items())
    }
