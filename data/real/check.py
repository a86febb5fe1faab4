"""Checks of the real-text set: schema, licence allowlist, duplicates, split by document, counts.

Run from the repository root:  python data/real/check.py   (exit status 1 when a check fails)
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
FIELDS = ("text", "label", "doc", "source", "ref", "licence", "genre", "beat", "split")
LABELS = ("fact", "assessment", "prescription")
SPLITS = ("train", "calibration", "test")
# Licences that let us train on the text and ship the model (see README.md, "Sources and licences").
LICENCES = ("public-domain-us-federal", "CC-BY-2.5", "CC-BY-3.0")
REF = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}:.+$")
POOL_FIELDS = ("text", "doc", "source", "ref", "licence")


def normalised(text: str) -> str:
    """Lower case, letters only: catches copies that differ only in punctuation, digits or spacing."""
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def row_problems(row: dict[str, object]) -> list[str]:
    missing = [name for name in FIELDS if not isinstance(row.get(name), str) or not str(row[name]).strip()]
    if missing:
        return [f"missing {missing}"]
    problems = []
    if row["label"] not in LABELS:
        problems.append(f"unknown label {row['label']!r}")
    if row["split"] not in SPLITS:
        problems.append(f"unknown split {row['split']!r}")
    if row["licence"] not in LICENCES:
        problems.append(f"licence {row['licence']!r} not on the allowlist")
    if not REF.match(str(row["ref"])):
        problems.append(f"ref {row['ref']!r} is not repo@commit:path")
    return problems


def load() -> tuple[list[dict[str, str]], list[str]]:
    rows, problems = [], []
    for path in sorted(FOLDER.glob("part*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{number}: invalid JSON ({exc.msg})")
                continue
            found = row_problems(row)
            problems += [f"{path.name}:{number}: {problem}" for problem in found]
            if not found:
                rows.append({**row, "file": path.name})
    return rows, problems


def split_problems(rows: list[dict[str, str]]) -> list[str]:
    """Every document sits in exactly one split, so no document leaks between train and test."""
    splits: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        splits[row["doc"]].add(row["split"])
    return [f"document {doc} is in splits {sorted(found)}" for doc, found in splits.items() if len(found) > 1]


def pool_problems(texts: set[str], docs: set[str]) -> tuple[int, list[str]]:
    path = FOLDER / "pool.jsonl.gz"
    if not path.exists():
        return 0, ["pool.jsonl.gz is missing"]
    problems, count = [], 0
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            row = json.loads(line)
            count += 1
            if any(not isinstance(row.get(name), str) for name in POOL_FIELDS):
                problems.append(f"pool:{number}: missing a field")
            elif row["licence"] not in LICENCES:
                problems.append(f"pool:{number}: licence {row['licence']!r} not on the allowlist")
            elif row["text"] in texts or row["doc"] in docs:
                problems.append(f"pool:{number}: sentence or document is also labelled")
    return count, problems


def table(title: str, counts: Counter[str], total: int) -> None:
    print(f"\n{title}")
    for key, count in counts.most_common():
        print(f"  {key:<26} {count:6d}  {100 * count / total:5.1f}%")


def by_label(rows: list[dict[str, str]], field: str) -> None:
    print(f"\nlabel share per {field}")
    for value, count in Counter(row[field] for row in rows).most_common():
        labels = Counter(row["label"] for row in rows if row[field] == value)
        shares = "  ".join(f"{name[:5]} {100 * labels[name] / count:4.0f}%" for name in LABELS)
        docs = len({row["doc"] for row in rows if row[field] == value})
        print(f"  {value:<26} {count:6d} rows {docs:4d} docs  {shares}")


def main() -> int:
    rows, problems = load()
    texts = Counter(row["text"].strip() for row in rows)
    near = Counter(normalised(row["text"]) for row in rows)
    exact_copies = sum(count - 1 for count in texts.values() if count > 1)
    near_copies = sum(count - 1 for count in near.values() if count > 1)
    problems += split_problems(rows)
    pool_count, pool_found = pool_problems(set(texts), {row["doc"] for row in rows})
    problems += pool_found
    files, docs = len({row["file"] for row in rows}), len({row["doc"] for row in rows})
    print(f"rows {len(rows)} in {files} files; docs {docs}")
    print(f"distinct texts {len(texts)}; exact duplicates {exact_copies}; near duplicates {near_copies}")
    for text, count in near.most_common(5):
        if count > 1:
            print(f"  x{count}: {text[:90]}")
    table("labels", Counter(row["label"] for row in rows), len(rows))
    by_label(rows, "split")
    by_label(rows, "source")
    by_label(rows, "licence")
    by_label(rows, "genre")
    by_label(rows, "beat")
    print(f"\npool sentences {pool_count}")
    for problem in problems[:20]:
        print(f"PROBLEM {problem}")
    failed = bool(problems) or exact_copies > 0
    print(f"\n{'FAIL' if failed else 'OK'}: {len(problems)} problems, {exact_copies} exact duplicates")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
