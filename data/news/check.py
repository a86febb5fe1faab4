"""Checks of our news training set: schema, duplicates, label balance, beats, genres, hard cases.

Run from the repository root:  python data/news/check.py   (exit status 1 when a check fails)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
FIELDS = ("text", "label", "beat", "genre", "hard_case", "doc")
LABELS = ("fact", "assessment", "prescription")


def normalised(text: str) -> str:
    """Lower case, letters only: catches copies that differ only in punctuation, digits or spacing."""
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def load() -> tuple[list[dict[str, str]], list[str]]:
    rows, problems = [], []
    for path in sorted(FOLDER.glob("part*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: invalid JSON ({exc.msg})")
                continue
            missing = [name for name in FIELDS if not isinstance(row.get(name), str) or not row[name].strip()]
            if missing:
                problems.append(f"{path.name}:{number}: missing {missing}")
            elif row["label"] not in LABELS:
                problems.append(f"{path.name}:{number}: unknown label {row['label']!r}")
            else:
                rows.append({**row, "file": path.name})
    return rows, problems


def table(title: str, counts: Counter[str], total: int) -> None:
    print(f"\n{title}")
    for key, count in counts.most_common():
        print(f"  {key:<26} {count:6d}  {100 * count / total:5.1f}%")


def by_label(rows: list[dict[str, str]], field: str) -> None:
    print(f"\nlabel share per {field}")
    for value, count in Counter(row[field] for row in rows).most_common():
        labels = Counter(row["label"] for row in rows if row[field] == value)
        shares = "  ".join(f"{name[:5]} {100 * labels[name] / count:4.0f}%" for name in LABELS)
        print(f"  {value:<26} {count:6d}  {shares}")


def main() -> int:
    rows, problems = load()
    texts = Counter(row["text"].strip() for row in rows)
    near = Counter(normalised(row["text"]) for row in rows)
    exact_copies = sum(count - 1 for count in texts.values() if count > 1)
    near_copies = sum(count - 1 for count in near.values() if count > 1)
    files, docs = len({row["file"] for row in rows}), len({row["doc"] for row in rows})
    print(f"rows {len(rows)} in {files} files; docs {docs}")
    print(f"distinct texts {len(texts)}; exact duplicates {exact_copies}; near duplicates {near_copies}")
    for text, count in near.most_common(5):
        if count > 1:
            print(f"  x{count}: {text[:90]}")
    table("labels", Counter(row["label"] for row in rows), len(rows))
    by_label(rows, "beat")
    by_label(rows, "genre")
    table("hard cases", Counter(row["hard_case"] for row in rows), len(rows))
    table("rows per file", Counter(row["file"] for row in rows), len(rows))
    for problem in problems[:20]:
        print(f"PROBLEM {problem}")
    failed = bool(problems) or exact_copies > 0
    print(f"\n{'FAIL' if failed else 'OK'}: {len(problems)} schema problems, {exact_copies} exact duplicates")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
