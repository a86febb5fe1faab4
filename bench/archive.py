"""A synthetic news archive (JSONL with id, text, date, section, author, url, title) for backfill.

Articles are rebuilt from real labelled text: the team's hand-written news articles (data/news), the
CDCP public comments and the example editorial of ../shared/data when present. Each synthetic article is
one source article plus a short closing paragraph from another, so no two texts are equal; every tenth
is HTML with page furniture around it. Dates spread over ten years, so the report has a time axis.

    python -m bench.archive --articles 2000 --out /tmp/archive.jsonl
"""

from __future__ import annotations

import argparse
import html
import json
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
NEWS = REPO / "data" / "news"
AUTHORS = [
    "Ada Brennan",
    "Tomas Ilves",
    "Priya Natarajan",
    "Sam Okoro",
    "Lena Fischer",
    "Marco Rossi",
    "Hana Sato",
    "Owen Price",
    "Nadia Haddad",
    "Jon Berg",
]
FIRST_DAY = date(2015, 1, 1)
DAYS = 3650


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    section: str
    sentences: list[str]


def sources(shared: Path | None = SHARED_DATA) -> list[Source]:
    """The news articles of data/news, then (when ``shared`` has them) CDCP comments and the editorial."""
    found = _grouped(sorted(NEWS.glob("part*.jsonl")), "doc", lambda row: str(row.get("beat", "news")))
    if shared is not None and (shared / "cdcp_train.jsonl").is_file():
        found += _grouped([shared / "cdcp_train.jsonl"], "doc_id", lambda row: "comments")
    if shared is not None and (shared / "example_article.txt").is_file():
        lines = (shared / "example_article.txt").read_text(encoding="utf-8").splitlines()
        found.append(Source("example-editorial", "opinion", [line for line in lines if line.strip()]))
    return found


def _grouped(files: list[Path], key: str, section: Any) -> list[Source]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                groups[f"{path.stem}-{row[key]}"].append(row)
    return [Source(name, section(rows[0]), [row["text"] for row in rows]) for name, rows in groups.items()]


def synthetic_archive(count: int, seed: int = 0, shared: Path | None = SHARED_DATA) -> list[dict[str, Any]]:
    """``count`` articles with ids ``a000001``...; the same arguments give the same archive."""
    pool = sources(shared)
    rng = random.Random(seed)
    articles = []
    for number in range(1, count + 1):
        main = pool[(number - 1) % len(pool)]
        kicker = rng.choice(pool).sentences[: rng.randint(1, 3)]
        paragraphs = [main.sentences[0], " ".join(main.sentences[1:]), " ".join(kicker)]
        article_id = f"a{number:06d}"
        row: dict[str, Any] = {
            "id": article_id,
            "text": "\n\n".join(p for p in paragraphs if p),
            "date": (FIRST_DAY + timedelta(days=rng.randrange(DAYS))).isoformat(),
            "section": main.section,
            "author": rng.choice(AUTHORS),
            "url": f"https://archive.example.org/{article_id}",
            "title": main.sentences[0][:120],
            "origin": main.key,
        }
        if number % 10 == 0:
            row["text"], row["format"] = _as_html(paragraphs), "html"
        articles.append(row)
    return articles


def _as_html(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:] if p)
    return (
        f"<html><head><title>x</title><script>track()</script></head><body><nav>Home | News</nav>"
        f"<article><h1>{html.escape(paragraphs[0])}</h1>{body}</article>"
        "<footer>© Archive</footer></body></html>"
    )


def write_jsonl(articles: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for article in articles:
            out.write(json.dumps(article, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    articles = synthetic_archive(args.articles, args.seed)
    write_jsonl(articles, args.out)
    print(f"{len(articles)} articles from {len(sources())} source articles -> {args.out}")


if __name__ == "__main__":
    main()
