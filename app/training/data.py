"""The labelled data `claimsift train` reads, and how it is split by document.

- CDCP train split (ODbL): trained on; ``--cv`` folds it by ``doc_id``.
- Our invented news (``data/news/part*.jsonl``): 20% of its documents (a hash of the doc id) are the
  "own news" held-out set, the rest are trained on.
- The real-text set (``data/real/part*.jsonl``): every row carries its ``split`` (train / calibration /
  test, by document, fixed in the data): train is trained on, calibration fits the temperature, test
  is held out.
- Report files (e.g. the CheckThat! files): scored after training, never trained or calibrated on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.model.types import DEFAULT_LABELS
from app.training.report import THREE_CLASS, TWO_CLASS

LABELS = DEFAULT_LABELS.names
DEFAULT_CDCP = Path("data/cdcp/cdcp_train.jsonl")
DEFAULT_NEWS = Path("data/news")
DEFAULT_REAL = Path("data/real")
# Scored after training when present; a clone without ../shared/data simply skips them.
DEFAULT_REPORTS = (Path("../shared/data/checkthat_dev.jsonl"), Path("../shared/data/checkthat_train.jsonl"))
HELDOUT_FILE = Path("models/cache/news_heldout.jsonl")
REAL_TEST_FILE = Path("models/cache/real_test.jsonl")
HELDOUT_PERCENT = 20  # of news documents: the "own news" test split
CALIBRATION_PERCENT = (
    10  # without real text (the first recipe): of the training documents, for the temperature
)
CV_FOLDS = 5
REAL_SPLITS = ("train", "calibration", "test")


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    label: str
    group: str  # the document: splits and folds never cut one in two
    source: str


@dataclass(frozen=True)
class TrainingData:
    cdcp: list[Row]
    news_train: list[Row]
    news_heldout: list[Row]
    real: dict[str, list[Row]]  # by split: train, calibration, test

    def training_split(self, cdcp: Sequence[Row], real_text: bool) -> tuple[list[Row], list[Row]]:
        """The rows to train on and the rows that fit the temperature, for ``cdcp`` (all, or 4 CV folds).

        With real text: CDCP + news + the real-text train split, calibrated on its calibration split.
        Without (``--no-real-text``, the first recipe, which made the model shipped before issue 12): CDCP
        + news, 10% of those documents by hash calibrate and are not trained on.
        """
        if real_text:
            return [*cdcp, *self.news_train, *self.real["train"]], self.real["calibration"]
        rows = [*cdcp, *self.news_train]
        return [row for row in rows if not is_calibration(row)], [row for row in rows if is_calibration(row)]


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A labelled file scored after training: three-class, or fact vs opinion."""

    path: Path
    rows: list[Row]
    space: tuple[str, ...]


def bucket(group: str, salt: str) -> int:
    """A stable 0..99 bucket for a document id, independent of row order and Python's hash seed."""
    return int(hashlib.sha256(f"{salt}:{group}".encode()).hexdigest()[:8], 16) % 100


def json_lines(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_rows(path: Path, group_field: str, source: str) -> list[Row]:
    rows = []
    for item in json_lines(path):
        if item["label"] not in LABELS:
            raise ValueError(f"{path}: unknown label {item['label']!r}")
        rows.append(Row(item["text"], item["label"], f"{source}:{item[group_field]}", source))
    return rows


def part_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("part*.jsonl"))


def read_news(folder: Path) -> list[Row]:
    rows = [row for path in part_files(folder) for row in read_rows(path, "doc", "news")]
    unique = {row.text: row for row in rows}  # a repeated sentence counts once
    return list(unique.values())


def read_real(folder: Path) -> dict[str, list[Row]]:
    """The real-text set by its own ``split`` field (set by document when the data was built)."""
    splits: dict[str, list[Row]] = {name: [] for name in REAL_SPLITS}
    for path in part_files(folder):
        for item in json_lines(path):
            if item["label"] not in LABELS or item["split"] not in splits:
                raise ValueError(f"{path}: bad label or split in {item['text'][:60]!r}")
            splits[item["split"]].append(Row(item["text"], item["label"], f"real:{item['doc']}", "real"))
    return splits


def read_report(path: Path) -> ReportFile:
    """A labelled evaluation file (``text``, ``label``); its label space is three-class or fact/opinion."""
    items = json_lines(path)
    found = {item["label"] for item in items}
    space = next((space for space in (THREE_CLASS, TWO_CLASS) if found <= set(space)), None)
    if space is None:
        raise ValueError(f"{path}: labels {sorted(found)} are neither {THREE_CLASS} nor {TWO_CLASS}")
    return ReportFile(path, [Row(item["text"], item["label"], str(path), "report") for item in items], space)


def missing_data(cdcp: Path, news: Path, real: Path) -> str | None:
    """Why training cannot start, in one line, or None when every data set is there."""
    where = "run from the repository's root, or pass"
    if not cdcp.is_file():
        return f"no CDCP training data at {cdcp} (data/cdcp/ of the repository: {where} --cdcp FILE)"
    if not part_files(news):
        return f"no news training data at {news} (no part*.jsonl; data/news/: {where} --news DIR)"
    if not part_files(real):
        return f"no real-text training data at {real} (no part*.jsonl; data/real/: {where} --real DIR)"
    return None


def is_heldout(row: Row) -> bool:
    return bucket(row.group, "news-heldout") < HELDOUT_PERCENT


def is_calibration(row: Row) -> bool:
    return bucket(row.group, "calibration") < CALIBRATION_PERCENT


def cdcp_fold(row: Row) -> int:
    return bucket(row.group, "cdcp-fold") % CV_FOLDS


def load_data(cdcp: Path, news: Path, real: Path) -> TrainingData:
    news_rows = read_news(news)
    return TrainingData(
        cdcp=read_rows(cdcp, "doc_id", "cdcp"),
        news_train=[row for row in news_rows if not is_heldout(row)],
        news_heldout=[row for row in news_rows if is_heldout(row)],
        real=read_real(real),
    )


def write_jsonl(rows: Sequence[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({"text": row.text, "label": row.label, "doc": row.group}) + "\n")
