"""Pick the documents to label, deterministically, and print them for the annotator (provenance script).

    python data/real/choose_docs.py /tmp/real/docs.jsonl /tmp/real/selected.jsonl

Documents are ordered by sha256 of their id within each source and taken until each source's quota is
met; a long document keeps one contiguous stretch of sentences (its start also chosen by hash), so
context for quotes and attributions stays intact. Furniture lines (contacts, separators, bare URLs) are
dropped here; the annotator drops any other furniture with the label `x`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

# source: (documents, most sentences kept per document, fewest sentences a document must have)
QUOTAS = {
    "wikinews_via_gum": (43, 36, 5),
    "us_speech_via_gum": (6, 30, 5),
    "global_voices": (66, 24, 8),
    "presidential_speeches": (30, 25, 25),
    "senate_press_releases": (72, 12, 6),
}
FURNITURE = re.compile(
    r"^(contact|for immediate release|###|-30-|source:|photo:|image:|click here|http|www\.)", re.IGNORECASE
)


def digest(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def is_furniture(text: str) -> bool:
    return bool(FURNITURE.match(text.strip())) or len(re.findall(r"[A-Za-z]+", text)) < 2


def window(rows: list[dict[str, str]], size: int, doc: str) -> list[dict[str, str]]:
    """Headline and captions stay; the body keeps one contiguous stretch of `size` sentences."""
    heads = [r for r in rows if r.get("part") == "headline"][:1]
    captions = [r for r in rows if r.get("part") == "caption"][:2]
    body = [r for r in rows if not r.get("part")]
    keep = max(size - len(heads) - len(captions), 1)
    start = 0 if len(body) <= keep else digest("start:" + doc) % (len(body) - keep + 1)
    return heads + body[start : start + keep] + captions


def main() -> None:
    docs = [json.loads(line) for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines()]
    chosen = []
    for source, (count, size, least) in QUOTAS.items():
        pool = sorted((d for d in docs if d["source"] == source), key=lambda d: digest(d["doc"]))
        taken = 0
        for doc in pool:
            rows = [r for r in doc["sentences"] if not is_furniture(r["text"])]
            if len(rows) < least or taken == count:
                continue
            doc["sentences"] = window(rows, size, doc["doc"])
            chosen.append(doc)
            taken += 1
    with Path(sys.argv[2]).open("w", encoding="utf-8") as out:
        for doc in chosen:
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
    print(f"{len(chosen)} documents, {sum(len(d['sentences']) for d in chosen)} sentences")


if __name__ == "__main__":
    main()
