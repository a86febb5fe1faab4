"""Join the annotator's labels with the selected sentences into the committed part files (provenance script).

    python data/real/build.py /tmp/real/selected.jsonl

`labels/batchNN.tsv` holds one line per document: `doc <TAB> beat[:genre] <TAB> labels`, one letter per
sentence of the selected document in order (f fact, a assessment, p prescription, x furniture or not a
claim, left out). The split is by document: sha256("real-split:<doc>") % 100 below 70 is train, below
80 calibration, the rest test.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
LETTERS = {"f": "fact", "a": "assessment", "p": "prescription"}
ROWS_PER_PART = 500


def split_of(doc: str) -> str:
    bucket = int(hashlib.sha256(f"real-split:{doc}".encode()).hexdigest(), 16) % 100
    return "train" if bucket < 70 else "calibration" if bucket < 80 else "test"


def label_lines() -> list[tuple[str, str, str]]:
    lines = []
    for path in sorted((FOLDER / "labels").glob("batch*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                doc, beat, letters = line.split("\t")
                lines.append((doc, beat, letters))
    return lines


def rows_of(doc: dict[str, object], beat_genre: str, letters: str) -> list[dict[str, str]]:
    sentences = doc["sentences"]
    assert isinstance(sentences, list)
    if len(sentences) != len(letters):
        raise SystemExit(f"{doc['doc']}: {len(sentences)} sentences but {len(letters)} labels")
    beat, _, genre = beat_genre.partition(":")
    rows = []
    for sentence, letter in zip(sentences, letters, strict=True):
        if letter == "x":
            continue
        part = sentence.get("part")
        rows.append(
            {
                "text": sentence["text"],
                "label": LETTERS[letter],
                "doc": str(doc["doc"]),
                "source": str(doc["source"]),
                "ref": str(doc["ref"]),
                "url": str(doc.get("url") or ""),
                "licence": str(doc["licence"]),
                "genre": part or genre or str(doc["genre"]),
                "beat": beat,
                "split": split_of(str(doc["doc"])),
            }
        )
    return rows


def main() -> None:
    selected = {}
    for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        selected[doc["doc"]] = doc
    parts: list[list[dict[str, str]]] = [[]]
    seen: set[str] = set()
    for doc_id, beat_genre, letters in label_lines():
        if len(parts[-1]) >= ROWS_PER_PART:
            parts.append([])
        # A repeated text ("He added:", a dateline in two articles) is kept once, where it first appears.
        for row in rows_of(selected[doc_id], beat_genre, letters):
            if row["text"] not in seen:
                seen.add(row["text"])
                parts[-1].append(row)
    for old in FOLDER.glob("part*.jsonl"):
        old.unlink()
    for number, rows in enumerate(parts, 1):
        with (FOLDER / f"part{number:02d}.jsonl").open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{sum(len(p) for p in parts)} rows in {len(parts)} part files")


if __name__ == "__main__":
    main()
