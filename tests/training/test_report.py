"""The metrics of `claimsift eval`, and the file errors it reports before any model loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.commands.connect import CommandError
from app.commands.eval import read_examples
from app.training.report import THREE_CLASS, TWO_CLASS, expected_calibration_error, metrics


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_metrics_match_a_hand_computed_confusion() -> None:
    gold = np.array([0, 0, 0, 1, 1, 2])
    probabilities = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.8, 0.1, 0.1],
            [0.2, 0.7, 0.1],  # fact taken for assessment
            [0.1, 0.8, 0.1],
            [0.1, 0.3, 0.6],  # assessment taken for prescription
            [0.1, 0.1, 0.8],
        ]
    )
    report = metrics(gold, probabilities, THREE_CLASS, "f", "m")
    assert report.confusion == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert report.accuracy == pytest.approx(4 / 6, abs=1e-4)
    assert report.per_class["fact"].precision == 1.0
    assert report.per_class["fact"].recall == pytest.approx(2 / 3, abs=1e-4)
    assert report.per_class["assessment"].f1 == 0.5
    assert report.per_class["prescription"].f1 == pytest.approx(2 / 3, abs=1e-4)
    assert report.macro_f1 == pytest.approx((0.8 + 0.5 + 2 / 3) / 3, abs=1e-4)


def test_two_class_files_sum_assessment_and_prescription_into_opinion() -> None:
    # Top three-class label is fact (0.4), but assessment + prescription (0.6) make it an opinion.
    report = metrics(np.array([1]), np.array([[0.4, 0.35, 0.25]]), TWO_CLASS, "f", "m")
    assert report.confusion == [[0, 0], [0, 1]]
    assert report.ece == pytest.approx(0.4, abs=1e-4)


def test_ece_is_zero_when_confidence_equals_accuracy_and_large_when_overconfident() -> None:
    confidence = np.array([0.75] * 4)
    assert expected_calibration_error(confidence, np.array([True, True, True, False])) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([0.95] * 2), np.array([False, False])) == pytest.approx(0.95)


def test_label_space_is_detected(tmp_path: Path) -> None:
    three = write(
        tmp_path / "three.jsonl", [{"text": "a", "label": "fact"}, {"text": "b", "label": "prescription"}]
    )
    two = write(tmp_path / "two.jsonl", [{"text": "a", "label": "fact"}, {"text": "b", "label": "opinion"}])
    assert read_examples(three)[1] == THREE_CLASS
    assert read_examples(two)[1] == TWO_CLASS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no labelled rows"),
        ("\n  \n", "no labelled rows"),
        ('{"text": "a", "label": "rumour"}\n', "unknown or mixed labels ['rumour']"),
        ('{"text": "a", "label": "opinion"}\n{"text": "b", "label": "assessment"}\n', "mixed"),
        ('{"text": "a", "label": "fact"}\n{"text": "a"\n', ":2: not valid JSON"),
        ('{"text": "", "label": "fact"}\n', "missing or empty `text`"),
        ('["a", "fact"]\n', "expected a JSON object"),
    ],
)
def test_bad_files_give_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        read_examples(path)
    assert message in str(error.value)


def test_unreadable_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        read_examples(tmp_path / "missing.jsonl")
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes(b'{"text": "caf\xe9", "label": "fact"}\n')
    with pytest.raises(CommandError, match="cannot read"):
        read_examples(latin)
