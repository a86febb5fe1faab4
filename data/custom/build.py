"""Build the custom-label benchmark (``sets.json``, ``sentences.jsonl``) from data/real and our own text.

Provenance script, deterministic: candidates are drawn from ``data/real/pool.jsonl.gz`` and the labelled
``data/real/part*.jsonl`` by a hash of the text (one sentence per document), then every candidate was
read by hand; the ones listed in ``EXCLUDED`` are dropped as ambiguous or broken (why, next to each list).
The topic set is our own writing (``topic_*.tsv``). Run from the repository root:

    python data/custom/build.py
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).parent
REAL = HERE.parent / "real"
QUOTES = re.compile(r'["“”]')
QUOTED_SPAN = re.compile(r'["“][^"”]{15,}["”]')
SAID = re.compile(r"\b(said|says|told|argued|stated|announced|according to)\b")
ASKING = re.compile(r"\b(question|ask|asked|whether|wonder|why|how)\b", re.I)
# Candidate indices read by hand and dropped (the lists printed by `--candidates`).
EXCLUDED = {
    # not English, fragments, or garbled transcripts
    "question": {3, 47, 58, 62, 63, 68},
    # fragments, bullet items, an imperative, a stage direction
    "statement": {1, 3, 22, 49, 61, 63},
    # quotation marks around a title, a name, a motto, a hashtag or scare quotes: not someone's words
    "quote": {3, 8, 9, 13, 17, 18, 21, 25, 30, 33, 35, 38, 39, 49, 52, 62, 64, 65, 69},
    # direct speech without quotation marks, a colon that opens a quote, fragments, a salutation, a list
    "no_quote": {0, 8, 20, 22, 27, 29, 30, 32, 43, 48, 53, 54, 66},
}
TEST_PER_LABEL = 40
EXAMPLES_PER_LABEL = 5


def digest(salt: str, text: str) -> str:
    return hashlib.sha256(f"{salt}{text}".encode()).hexdigest()


def mostly_ascii(text: str) -> bool:
    # Drops the non-English lines of the pool (Global Voices prints originals beside translations).
    return sum(ch.isascii() for ch in text) / len(text) > 0.97


def pick(salt: str, rows: Iterable[dict[str, str]], count: int, per_doc: int = 1) -> list[dict[str, str]]:
    """``count`` rows in hash order, at most ``per_doc`` per document, so no document dominates."""
    ordered = sorted((r for r in rows if mostly_ascii(r["text"])), key=lambda r: digest(salt, r["text"]))
    seen: dict[str, int] = {}
    chosen = []
    for row in ordered:
        if seen.get(row["doc"], 0) < per_doc:
            seen[row["doc"]] = seen.get(row["doc"], 0) + 1
            chosen.append(row)
        if len(chosen) == count:
            break
    return chosen


def kept(name: str, candidates: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row for i, row in enumerate(candidates) if i not in EXCLUDED[name]]


def mid_length(row: dict[str, str]) -> bool:
    return 40 < len(row["text"]) < 240


def form_candidates(pool: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """The hand-checked candidates of the two form-based sets, before exclusions."""
    plain = [r for r in pool if not QUOTES.search(r["text"])]
    statements = [r for r in plain if r["text"].rstrip().endswith(".") and mid_length(r)]
    return {
        "question": pick(
            "q", [r for r in plain if r["text"].rstrip().endswith("?") and 25 < len(r["text"]) < 200], 70
        ),
        # a third of the statements talk about questions or asking: the hard negatives
        "statement": pick("s", [r for r in statements if ASKING.search(r["text"])], 25)
        + pick("s2", statements, 50),
        "quote": pick("qu", [r for r in pool if QUOTED_SPAN.search(r["text"]) and mid_length(r)], 70),
        # a third report speech without quoting it (said, told, announced): the hard negatives
        "no_quote": pick(
            "nq",
            [
                r
                for r in pool
                if not re.search(r"[\"“”']", r["text"]) and mid_length(r) and SAID.search(r["text"])
            ],
            30,
        )
        + pick("nq2", [r for r in plain if mid_length(r)], 45),
    }


def labelled_real(split: str, test: Callable[[str], bool]) -> list[dict[str, str]]:
    rows = [json.loads(line) for path in sorted(REAL.glob("part*.jsonl")) for line in path.open()]
    return [r for r in rows if r["split"] == split and test(r["label"]) and mid_length(r)]


SETS = {
    "question": {
        "question": "a sentence that asks a question",
        "statement": "a sentence that states something",
    },
    "quote": {
        "quote": "contains a direct quotation: someone's own words in quotation marks",
        "no_quote": "no direct quotation: the writer's own words, or speech reported without quotation marks",
    },
    "topic": {
        "sport": "sport: games, teams, athletes, matches and competitions",
        "economy": "the economy: prices, jobs, companies, trade and money",
        "health": "health and medicine: illness, hospitals, doctors and treatment",
        "environment": "the environment: nature, climate, pollution and wildlife",
        "crime": "crime and justice: police, offences, courts and punishment",
    },
    "fact_opinion": {
        "fact": "a statement of fact that can be checked",
        "opinion": "an opinion, a judgement or a recommendation",
    },
    # One label: "does this apply?", scored on its own; its gold is the label or "none".
    "call_to_action": {"call_to_action": "says what should or must be done; urges someone to act"},
}


def row(set_name: str, label: str, source: dict[str, str]) -> dict[str, str]:
    return {
        "set": set_name,
        "text": source["text"],
        "label": label,
        "source": source.get("source", "claimsift_team"),
        "ref": source.get("ref", "data/custom/topic_sentences.tsv"),
        "licence": source.get("licence", "Apache-2.0"),
    }


def read_tsv(path: Path) -> list[tuple[str, str]]:
    pairs = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(label, text) for label, text in pairs]


def build() -> tuple[dict[str, list[dict[str, object]]], list[dict[str, str]]]:
    with gzip.open(REAL / "pool.jsonl.gz", "rt", encoding="utf-8") as handle:
        pool = [json.loads(line) for line in handle]
    examples: dict[str, dict[str, list[str]]] = {name: {} for name in SETS}
    sentences: list[dict[str, str]] = []
    for label, candidates in form_candidates(pool).items():
        chosen = kept(label, candidates)
        set_name = "question" if label in ("question", "statement") else "quote"
        sentences += [row(set_name, label, r) for r in chosen[:TEST_PER_LABEL]]
        examples[set_name][label] = [r["text"] for r in chosen[TEST_PER_LABEL:][:EXAMPLES_PER_LABEL]]
    for label, text in read_tsv(HERE / "topic_sentences.tsv"):
        sentences.append(row("topic", label, {"text": text}))
    for label, text in read_tsv(HERE / "topic_examples.tsv"):
        examples["topic"].setdefault(label, []).append(text)
    # Real-text gold labels (data/real test split; examples from its train split): opinion =
    # assessment or prescription.
    is_fact, is_opinion = (lambda lb: lb == "fact"), (lambda lb: lb != "fact")
    is_call, is_not_call = (lambda lb: lb == "prescription"), (lambda lb: lb != "prescription")
    for set_name, label, test, count in [
        ("fact_opinion", "fact", is_fact, TEST_PER_LABEL),
        ("fact_opinion", "opinion", is_opinion, TEST_PER_LABEL),
        ("call_to_action", "call_to_action", is_call, 30),
        ("call_to_action", "none", is_not_call, 30),
    ]:
        salt = f"{set_name}:{label}"
        picked = pick(salt, labelled_real("test", test), count, per_doc=3)  # the test split has 47 documents
        sentences += [row(set_name, label, r) for r in picked]
        if label in SETS[set_name]:
            train_rows = pick(salt, labelled_real("train", test), EXAMPLES_PER_LABEL)
            examples[set_name][label] = [r["text"] for r in train_rows]
    label_sets = {
        name: [
            {"name": label, "description": description, "examples": examples[name][label]}
            for label, description in labels.items()
        ]
        for name, labels in SETS.items()
    }
    return label_sets, sentences


def main() -> None:
    label_sets, sentences = build()
    (HERE / "sets.json").write_text(json.dumps(label_sets, indent=2, ensure_ascii=False) + "\n")
    with (HERE / "sentences.jsonl").open("w", encoding="utf-8") as handle:
        for item in sentences:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for item in sentences:
        counts[item["set"]] = counts.get(item["set"], 0) + 1
    print(f"{len(sentences)} sentences: {counts}")


if __name__ == "__main__":
    main()
