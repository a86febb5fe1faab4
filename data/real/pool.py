"""Build the unlabelled pool for distillation from the same licence-clean sources (provenance script).

    python data/real/pool.py /tmp/real/docs.jsonl data/real/pool.jsonl.gz

Documents that were selected for labelling, and documents that share a sentence with the labelled set
(GUM's speeches also sit in the speech collection), are left out, so the pool never holds a labelled
sentence or a sentence from a labelled document. Sentences of 4 to 80 words with mostly Latin letters
are kept, each text once; sources are capped so no single one dominates.
Rows: text, doc, source, ref, licence.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
# Most sentences taken from each source (taken in a fixed hash order of documents).
CAPS = {
    "global_voices": 12_000,
    "presidential_speeches": 26_000,
    "senate_press_releases": 22_000,
}
WORDS = re.compile(r"[A-Za-z]+")


def labelled_docs() -> set[str]:
    """Documents labelled (part files, label batches) or listed as selected for labelling."""
    docs = set()
    selected = FOLDER / "selected_docs.txt"
    if selected.exists():
        docs.update(selected.read_text(encoding="utf-8").split())
    for path in FOLDER.glob("part*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            docs.add(json.loads(line)["doc"])
    for path in (FOLDER / "labels").glob("batch*.tsv"):
        docs.update(line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines() if line)
    return docs


def labelled_texts() -> set[str]:
    texts = set()
    for path in FOLDER.glob("part*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            texts.add(" ".join(json.loads(line)["text"].split()))
    return texts


def overlapping_docs(docs: list[dict[str, object]], texts: set[str]) -> set[str]:
    """Documents that share a sentence with the labelled set (the same speech held by two repositories)."""
    found = set()
    for doc in docs:
        sentences = doc["sentences"]
        assert isinstance(sentences, list)
        if any(" ".join(row["text"].split()) in texts for row in sentences):
            found.add(str(doc["doc"]))
    return found


def usable(text: str) -> bool:
    words = WORDS.findall(text)
    letters = sum(len(w) for w in words)
    return 4 <= len(words) <= 80 and letters >= 0.6 * len(text.replace(" ", ""))


def main() -> None:
    docs = [json.loads(line) for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()]
    skip = labelled_docs() | overlapping_docs(docs, labelled_texts())
    docs.sort(key=lambda d: hashlib.sha256(d["doc"].encode()).hexdigest())
    seen: set[str] = set()
    taken = dict.fromkeys(CAPS, 0)
    rows = []
    for doc in docs:
        source = doc["source"]
        if doc["doc"] in skip or source not in CAPS:
            continue
        for sentence in doc["sentences"]:
            text = " ".join(sentence["text"].split())
            if taken[source] >= CAPS[source] or text in seen or not usable(text):
                continue
            seen.add(text)
            taken[source] += 1
            rows.append(
                {
                    "text": text,
                    "doc": doc["doc"],
                    "source": source,
                    "ref": doc["ref"],
                    "licence": doc["licence"],
                }
            )
    with gzip.open(sys.argv[2], "wt", encoding="utf-8", compresslevel=9) as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pool sentences: {taken}")


if __name__ == "__main__":
    main()
