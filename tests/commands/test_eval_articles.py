"""The real-article file (data/articles), its scoring, and sentences in context measured on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from app.commands.connect import CommandError
from app.commands.eval import read_examples
from app.commands.eval_articles import Article, is_article_file, read_articles, score
from app.schemas import ExtractResponse
from app.text.html import html_to_text
from tests.conftest import REPO

ARTICLES = REPO / "data" / "articles" / "articles.jsonl"


def shown_text(article: Article) -> str:
    return html_to_text(article.text).text if article.format == "html" else article.text


def test_the_file_is_whole_sourced_labelled_articles() -> None:
    rows = [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 10
    assert sum(len(row["sentences"]) for row in rows) >= 300
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{40}", row["source"]["commit"]), row["id"]
        assert row["source"]["repo"] and row["source"]["path"] and row["licence"]
    for article in read_articles(ARTICLES):
        text = shown_text(article)
        for sentence in article.sentences:
            assert text[sentence.start : sentence.end] == sentence.text, article.id
    assert is_article_file(ARTICLES)


def test_bad_article_rows_give_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        '{"id": "x", "text": "A.", "sentences": [{"start": 0, "end": 2, "text": "A.", "label": "x"}]}\n'
    )
    with pytest.raises(CommandError, match="unknown labels"):
        read_articles(path)
    sentences = tmp_path / "s.jsonl"
    sentences.write_text('{"text": "A.", "label": "fact"}\n')
    assert not is_article_file(sentences) and read_examples(sentences)[0][0].label == "fact"


def quoted_continuations(text: str, article: Article) -> list[tuple[int, int]]:
    """The labelled sentences that carry on a quotation opened in an earlier sentence, found by a plain
    walk over double quotation marks (independent of app.text): within a paragraph a mark opens or
    closes; a paragraph left open carries the quotation on only if the next one opens with a mark."""
    owner = [-1] * len(text)  # where the quotation holding each character was opened
    opened = -1
    for paragraph in re.finditer(r"[^\n]+", text):
        first = paragraph.start() + len(paragraph.group()) - len(paragraph.group().lstrip())
        if opened >= 0 and text[first : first + 1] not in ("“", '"'):
            opened = -1  # not carried on: it ended with its paragraph
        for i in range(paragraph.start(), paragraph.end()):
            if text[i] in '“”"':
                if opened >= 0 and i != first:
                    opened = -1
                elif opened < 0:
                    opened = i
                continue
            owner[i] = opened
    spans = []
    for gold in article.sentences:
        words = {owner[i] for i in range(gold.start, gold.end) if text[i].isalnum()}
        if gold.label is not None and len(words) == 1 and -1 < min(words) < gold.start:
            spans.append((gold.start, gold.end))
    return spans


async def _responses(
    client: httpx.AsyncClient, articles: list[Article], context: bool
) -> list[ExtractResponse]:
    responses = []
    for article in articles:
        body = {"text": article.text, "format": article.format, "context": context}
        response = await client.post("/v1/extract", json=body)
        assert response.status_code == 200, response.text
        responses.append(ExtractResponse.model_validate(response.json()))
    return responses


@pytest.mark.slow
async def test_in_context_quoted_sentences_are_facts_and_context_scores_higher(
    client: httpx.AsyncClient,
) -> None:
    articles = read_articles(ARTICLES)
    on = await _responses(client, articles, context=True)
    off = await _responses(client, articles, context=False)
    quoted = 0
    for article, response in zip(articles, on, strict=True):
        # The service still cuts the article into the gold sentences, furniture included.
        found = {(s.start, s.end) for s in [*response.sentences, *response.skipped]}
        assert {(g.start, g.end) for g in article.sentences} <= found, article.id
        gold = {(g.start, g.end): g.label for g in article.sentences}
        for sentence in response.sentences:
            if sentence.quoted == "full":
                quoted += 1
                assert sentence.label == "fact" and sentence.label_source == "quotation", sentence.text
                assert gold[(sentence.start, sentence.end)] == "fact", sentence.text
    assert quoted >= 30
    continuations = 0
    for article, response in zip(articles, on, strict=True):
        found = {(s.start, s.end): s for s in response.sentences}
        for start, end in quoted_continuations(shown_text(article), article):
            continuations += 1
            sentence = found[(start, end)]
            assert (sentence.label, sentence.label_source) == ("fact", "quotation"), sentence.text
    assert continuations >= 40
    with_context = score(articles, on, str(ARTICLES), context=True)
    alone = score(articles, off, str(ARTICLES), context=False)
    assert with_context.macro_f1 > alone.macro_f1
    assert with_context.label_sources["quotation"] == quoted
    assert with_context.unlabelled == 0  # no gold-labelled sentence was skipped as furniture
