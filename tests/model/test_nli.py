"""The nli backend with a tiny NLI model built on the spot (the hub is unreachable here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ModelLoadError
from app.main import create_app
from app.model.nli import NLIBackend
from app.model.types import DEFAULT_LABELS, Label, LabelSet, predict_texts
from app.settings import Settings
from tests.conftest import started_client


@pytest.fixture(scope="module")
def backend(tiny_nli_model: Path) -> NLIBackend:
    return NLIBackend(str(tiny_nli_model), max_length=64, hypothesis_template="This sentence is {}.")


def test_single_label_scores_form_a_distribution(backend: NLIBackend) -> None:
    predictions = predict_texts(
        backend, ["the council voted", "it was bad"], DEFAULT_LABELS, multi_label=False
    )
    assert len(predictions) == 2
    for prediction in predictions:
        assert len(prediction.scores) == 3
        assert sum(prediction.scores) == pytest.approx(1.0, abs=1e-6)
        assert len(set(prediction.scores)) > 1, "random weights must not give identical scores"


def test_multi_label_scores_are_independent(backend: NLIBackend) -> None:
    labels = LabelSet((Label("a", "good"), Label("b", "bad"), Label("c", "a fact")))
    (prediction,) = predict_texts(backend, ["it was good"], labels, multi_label=True)
    assert all(0 < s < 1 for s in prediction.scores)
    assert sum(prediction.scores) != pytest.approx(1.0, abs=1e-3)


def test_long_premise_is_truncated(backend: NLIBackend) -> None:
    short, long = predict_texts(backend, ["it was good", "the council voted " * 40], DEFAULT_LABELS, False)
    assert (short.truncated, long.truncated) == (False, True)


def test_model_without_entailment_label_is_refused(tmp_path: Path) -> None:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a"])}
    config = BertConfig(
        vocab_size=6,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=8,
        id2label={0: "positive", 1: "negative"},
        label2id={"positive": 0, "negative": 1},
    )
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    BertTokenizer(vocab=vocab).save_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="entailment"):
        NLIBackend(str(tmp_path), 64, "This is {}.")


async def test_service_runs_on_the_nli_backend(tiny_nli_model: Path) -> None:
    app = create_app(Settings(backend="nli", model=str(tiny_nli_model), max_length=64))
    async for client in started_client(app):
        response = await client.post("/v1/extract", json={"text": "The council voted. It was bad."})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"]["backend"] == "nli"
        assert [s["text"] for s in body["sentences"]] == ["The council voted.", "It was bad."]
        multi = await client.post(
            "/v1/classify",
            json={
                "sentences": ["it was good"],
                "multi_label": True,
                "labels": [{"name": "x", "description": "good"}],
            },
        )
        assert multi.status_code == 200
        assert isinstance(multi.json()["results"][0]["scores"]["x"], float)
