"""Turn the licence-clean source repositories into documents split into sentences (provenance script).

Reads git snapshots of the public repositories named in SOURCES (fetched once with the team's `fetch`
tool; the paths are where that tool put them) and writes one JSON object per document:

    python data/real/extract.py /tmp/real/docs.jsonl

Each document keeps its source, licence, `repo@commit:path` and sentences in order. Sentences come from
the project's own segmenter (`app.text.segment`), except GUM, whose hand-checked sentence split is kept.
This script is how the committed data was made; it is not needed to use the data, and it only runs
where the snapshots are present.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from app.text.html import html_to_text
from app.text.segment import split_sentences

MIRRORS = Path("/work/.mirror")
SCRATCH = Path("/tmp/real/src")
PD_US = "public-domain-us-federal"  # 17 U.S.C. §105: works of the US federal government
SPEECHES = ("kfogel/presidential-speeches", "a4c8b38")  # last commit holding data/ (the repo later moved)
GUM = ("amir-zeldes/gum", "HEAD")
GLOBAL_VOICES = ("OpenGenderTracking/globalvoices", "HEAD")
SENATE = ("lintool/GrimmerSenatePressReleases", "HEAD")
# Global Voices exports: the two whole files the snapshot holds (blob ids; the others are over 4 MiB).
GV_BLOBS = {
    "data/full/globalvoicesonline.wordpress.2012-may.xml": "18890f06998e1953a38ad9a8249e8ebc9fe9fdb0",
    "data/full/globalvoicesonline.wordpress.2004 - 123.xml": "0766c3fc6fb4676bb52bbb8bfea1324d2a2c57c1",
}
# GUM speeches that are US federal works (floor speeches, presidential addresses); the rest are not.
GUM_PD_SPEECHES = {"floyd", "impeachment", "inauguration", "maiden", "nixon", "telescope"}
# Speech transcripts with other voices (debates, press conferences) or made outside office.
SPEECH_SKIP = re.compile(
    r"debate|press-conference|news-conference|campaign|convention|acceptance|accepting|nomination|candidacy"
)
# Press-release files that are really wire copy or newspaper reprints (not federal works).
WIRE_COPY = re.compile(r"Associated Press|\(AP\)|Reuters|Copyright|All rights reserved|By [A-Z][A-Z]+ [A-Z]+")


def _git_dir(repo: str) -> Path:
    folder = MIRRORS / repo.replace("/", "+") / "repo"
    return folder if (folder / "HEAD").exists() else folder / ".git"


def git(repo: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(_git_dir(repo)), *args], check=True, capture_output=True, text=True
    ).stdout


def commit_of(repo: str, rev: str) -> str:
    return git(repo, "rev-parse", rev).strip()


def checkout(repo: str, commit: str, folder: str) -> Path:
    """One folder of one commit, unpacked once (70,000 files one `git show` at a time is too slow)."""
    target = SCRATCH / repo.replace("/", "+") / commit
    if not (target / folder).exists():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "--git-dir", str(_git_dir(repo)), "archive", commit, folder],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def sentences(text: str) -> list[str]:
    return [span.text for span in split_sentences(text)]


def document(**fields: object) -> dict[str, object]:
    return dict(fields)


def speeches() -> Iterator[dict[str, object]]:
    repo, rev = SPEECHES
    commit = commit_of(repo, rev)
    root = checkout(repo, commit, "data")
    for file in sorted((root / "data").glob("*.txt")):
        path = f"data/{file.name}"
        if SPEECH_SKIP.search(path):
            continue
        raw = read_text(file)
        president, _, body = raw.partition("\n")
        name = Path(path).stem
        yield document(
            doc=f"pres-{name}",
            source="presidential_speeches",
            ref=f"{repo}@{commit}:{path}",
            url="https://millercenter.org/the-presidency/presidential-speeches",
            licence=PD_US,
            genre="state_of_the_union" if "state-union" in name else "speech",
            speaker=president.removeprefix("President:").strip(),
            date=name[:10],
            sentences=[{"text": s} for s in sentences(body)],
        )


def gum() -> Iterator[dict[str, object]]:
    repo, rev = GUM
    commit = commit_of(repo, rev)
    for path in git(repo, "ls-tree", "--name-only", commit, "dep/").split():
        kind, _, name = Path(path).stem.removeprefix("GUM_").partition("_")
        if kind not in ("news", "interview") and not (kind == "speech" and name in GUM_PD_SPEECHES):
            continue
        yield gum_document(repo, commit, path, kind, name)


def gum_document(repo: str, commit: str, path: str, kind: str, name: str) -> dict[str, object]:
    block, url, rows = "", "", []
    for line in git(repo, "show", f"{commit}:{path}").splitlines():
        if line.startswith("# meta::sourceURL = "):
            url = line.split("= ", 1)[1]
        elif line.startswith("# newpar_block = "):
            block = line.split("= ", 1)[1]
        elif line.startswith("# text = "):
            part = "headline" if block.startswith("head") else "caption" if "caption" in block else None
            rows.append({"text": line.split("= ", 1)[1], **({"part": part} if part else {})})
    news = kind in ("news", "interview")
    return document(
        doc=f"gum-{kind}-{name}",
        source="wikinews_via_gum" if news else "us_speech_via_gum",
        ref=f"{repo}@{commit}:{path}",
        url=url,
        licence="CC-BY-2.5" if news else PD_US,
        genre={"news": "news_report", "interview": "interview"}.get(kind, "speech"),
        sentences=rows,
    )


def global_voices() -> Iterator[dict[str, object]]:
    repo, _ = GLOBAL_VOICES
    commit = commit_of(repo, "HEAD")
    for path, blob in GV_BLOBS.items():
        export = git(repo, "cat-file", "-p", blob)
        for item in export.split("<item>")[1:]:
            post = gv_post(item)
            if post:
                yield document(ref=f"{repo}@{commit}:{path}", **post)


def gv_post(item: str) -> dict[str, object] | None:
    if "<wp:post_type>post</wp:post_type>" not in item or "<wp:status>publish</wp:status>" not in item:
        return None
    title = html.unescape(_tag(item, "title"))
    body = _tag(item, "content:encoded").removeprefix("<![CDATA[").removesuffix("]]>")
    captions = re.findall(r"\[caption[^\]]*\](.*?)\[/caption\]", body, flags=re.S)
    body = re.sub(r"\[caption[^\]]*\].*?\[/caption\]", "\n\n", body, flags=re.S)
    body = re.sub(r"\n\s*\n", "</p><p>", body)  # WordPress paragraphs are blank lines
    rows = [{"text": title, "part": "headline"}]
    rows += [{"text": s} for s in sentences(html_to_text(f"<p>{body}</p>").text)]
    for caption in captions:
        text = html_to_text(re.sub(r"<img[^>]*>", "", caption)).text
        rows += [{"text": s, "part": "caption"} for s in sentences(text)]
    categories = re.findall(r'<category domain="category" nicename="([^"]+)"', item)
    return {
        "doc": f"gv-{_tag(item, 'wp:post_id')}",
        "source": "global_voices",
        "url": _tag(item, "link"),
        "licence": "CC-BY-3.0",
        "genre": "news_report",
        "author": _tag(item, "dc:creator"),
        "date": _tag(item, "wp:post_date")[:10],
        "categories": categories,
        "sentences": rows,
    }


def _tag(item: str, name: str) -> str:
    match = re.search(rf"<{name}[^>]*>(.*?)</{name}>", item, flags=re.S)
    return match.group(1).strip() if match else ""


def senate(limit_per_senator: int = 400) -> Iterator[dict[str, object]]:
    repo, _ = SENATE
    commit = commit_of(repo, "HEAD")
    by_senator: dict[str, int] = {}
    root = checkout(repo, commit, "raw")
    for file in sorted((root / "raw").glob("*/*.txt")):
        path, senator = f"raw/{file.parent.name}/{file.name}", file.parent.name
        if by_senator.get(senator, 0) >= limit_per_senator:
            continue
        raw = read_text(file)
        # Many files lost their punctuation when scraped; keep only those that still read as prose.
        if raw.count(". ") < 3 or WIRE_COPY.search(raw) or "\n" not in raw.strip():
            continue
        by_senator[senator] = by_senator.get(senator, 0) + 1
        title, _, body = raw.strip().partition("\n")
        rows = [{"text": title.strip(), "part": "headline"}]
        rows += [{"text": s} for s in sentences(re.sub(r"\n\s+", "\n\n", body))]
        yield document(
            doc=f"sen-{Path(path).stem}",
            source="senate_press_releases",
            ref=f"{repo}@{commit}:{path}",
            url="",
            licence=PD_US,
            genre="press_release",
            speaker=senator,
            sentences=rows,
        )


def main() -> None:
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for producer in (gum, global_voices, speeches, senate):
            for doc in producer():
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
