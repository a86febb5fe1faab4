"""Second, independent labelling pass: draw the sample, then measure agreement with the first pass.

    python data/real/second_pass.py sample   # writes second_pass_sample.jsonl: 400 rows, no labels
    python data/real/second_pass.py kappa    # reads second_pass.jsonl, prints Cohen's kappa and disagreements
    python data/real/second_pass.py kappa second_pass_b.jsonl   # the same for another labelled file

A file named for kappa is looked up as given, then in this folder; every row needs "text" and "label".

The sample is the 400 labelled rows with the smallest sha256("second-pass:<text>"), shown in that
(shuffled) order with the sentence and its genre only, so the second annotator labels from the text
alone, without the document around it and without the first labels.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
SAMPLE = FOLDER / "second_pass_sample.jsonl"
SECOND = FOLDER / "second_pass.jsonl"
LABELS = ("fact", "assessment", "prescription")
SIZE = 400


def first_pass() -> dict[str, dict[str, str]]:
    rows = {}
    for path in sorted(FOLDER.glob("part*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows[row["text"]] = row
    return rows


def key(text: str) -> str:
    return hashlib.sha256(f"second-pass:{text}".encode()).hexdigest()


def sample() -> None:
    rows = sorted(first_pass().values(), key=lambda row: key(row["text"]))[:SIZE]
    with SAMPLE.open("w", encoding="utf-8") as out:
        for number, row in enumerate(rows, 1):
            out.write(
                json.dumps({"id": number, "text": row["text"], "genre": row["genre"]}, ensure_ascii=False)
                + "\n"
            )
    print(f"wrote {len(rows)} unlabelled rows to {SAMPLE.name}")


def cohen_kappa(pairs: list[tuple[str, str]]) -> float:
    observed = sum(a == b for a, b in pairs) / len(pairs)
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[label] * second[label] for label in LABELS) / len(pairs) ** 2
    return (observed - expected) / (1 - expected)


def labelled_file(name: str | None) -> Path:
    if name is None:
        return SECOND
    path = Path(name)
    if not path.exists() and not path.is_absolute() and (FOLDER / path).exists():
        path = FOLDER / path
    if not path.exists():
        sys.exit(f"no such file: {name}")
    return path


def kappa(name: str | None = None) -> None:
    first = first_pass()
    pairs, disagreements = [], []
    path = labelled_file(name)
    print(f"second pass: {path.name}")
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        original = first[row["text"]]["label"]
        pairs.append((original, row["label"]))
        if original != row["label"]:
            disagreements.append((row["id"], original, row["label"], row["text"]))
    agreement = sum(a == b for a, b in pairs) / len(pairs)
    print(f"rows {len(pairs)}; raw agreement {agreement:.3f}; Cohen's kappa {cohen_kappa(pairs):.3f}")
    print("confusion (first pass -> second pass):")
    for (a, b), count in sorted(Counter(pairs).items()):
        print(f"  {a:<13} -> {b:<13} {count:4d}")
    print(f"disagreements: {len(disagreements)}")
    for number, a, b, text in disagreements:
        print(f"  #{number} first={a} second={b}: {text[:160]}")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("sample", "kappa") or len(argv) > (2 if argv[0] == "kappa" else 1):
        sys.exit("usage: second_pass.py sample | kappa [FILE]")
    if argv[0] == "sample":
        sample()
    else:
        kappa(argv[1] if len(argv) > 1 else None)


if __name__ == "__main__":
    main(sys.argv[1:])
