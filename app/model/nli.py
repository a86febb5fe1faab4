"""Zero-shot by natural-language inference: premise = sentence, hypothesis = template(description).

The same mechanism as the transformers zero-shot-classification pipeline, with any NLI model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.encoder import weights_digest
from app.model.types import DEFAULT_LABELS, LabelSet, ModelCard, Prediction, Tokens


class NLIBackend:
    def __init__(self, model: str, max_length: int, hypothesis_template: str) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise ModelLoadError("the nli backend needs `torch` and `transformers` installed") from exc
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(model)
            self._model: Any = AutoModelForSequenceClassification.from_pretrained(model).eval()
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load NLI model {model!r}: {exc}") from exc
        self._torch: Any = torch
        self._entailment, self._contradiction = _entailment_ids(self._model.config.label2id)
        self._template = hypothesis_template
        self._max_length = max_length
        local = Path(model)
        version = weights_digest(local) if local.is_dir() else getattr(self._model.config, "_commit_hash", "")
        self.card = ModelCard(
            name=local.name if local.is_dir() else model, backend="nli", version=version or ""
        )
        self.default_labels = DEFAULT_LABELS

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        """The premise alone, uncut: a pair's window depends on the labels, so ``predict`` cuts it."""
        ids = self._tokenizer(list(texts), add_special_tokens=True)["input_ids"]
        return [Tokens(text, row, truncated=False) for text, row in zip(texts, ids, strict=True)]

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        texts = [row.text for row in tokens]
        hypotheses = [self._template.format(label.description) for label in labels.labels]
        premises = [text for text in texts for _ in hypotheses]
        pairs = self._tokenizer(
            premises,
            hypotheses * len(texts),
            truncation="only_first",
            max_length=self._max_length,
            padding=True,
            return_tensors="pt",
            return_overflowing_tokens=False,
        )
        with self._torch.inference_mode():
            logits = self._model(**pairs).logits.float().numpy()
        logits = logits.reshape(len(texts), len(hypotheses), -1)
        scores = self._scores(logits, multi_label)
        budget = self._premise_budget(hypotheses)
        return [
            Prediction(tuple(float(s) for s in row), len(premise) > budget)
            for row, premise in zip(scores, tokens, strict=True)
        ]

    def _scores(self, logits: NDArray[np.float32], multi_label: bool) -> NDArray[np.float64]:
        if multi_label:
            pair = logits[..., [self._contradiction, self._entailment]].astype(np.float64)
            return _softmax(pair, axis=-1)[..., 1]
        return _softmax(logits[..., self._entailment].astype(np.float64), axis=-1)

    def _premise_budget(self, hypotheses: list[str]) -> int:
        # The pair shares one window: [CLS] premise [SEP] hypothesis [SEP].
        longest = max(len(self._tokenizer(hypothesis)["input_ids"]) for hypothesis in hypotheses)
        return self._max_length - longest + 1


def _entailment_ids(label2id: dict[str, int]) -> tuple[int, int]:
    lowered = {name.lower(): index for name, index in label2id.items()}
    entailment = next((i for name, i in lowered.items() if name.startswith("entail")), None)
    contradiction = next((i for name, i in lowered.items() if name.startswith("contradict")), None)
    if entailment is None or contradiction is None:
        raise ModelLoadError(
            f"not an NLI model: its labels {sorted(label2id)} lack 'entailment' and 'contradiction'"
        )
    return entailment, contradiction


def _softmax(values: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    shifted = values - values.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    normalised: NDArray[np.float64] = exp / exp.sum(axis=axis, keepdims=True)
    return normalised
