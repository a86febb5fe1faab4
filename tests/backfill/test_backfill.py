"""`claimsift backfill` end to end: real processes, an embedded Ray, the real default model.

One uninterrupted run over a mixed archive (JSONL with bad records, Parquet, a folder of text files) is
the reference; every other run (a rerun, a driver killed with SIGKILL, a classifier process killed, an
edited article) must end with exactly the reference's rows. The labels must be /v1/extract's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.backfill.store import OutputDir
from app.main import create_app
from app.settings import Settings
from bench.archive import synthetic_archive, write_jsonl
from tests.conftest import REPO, started_client

ARTICLES_FILE = REPO / "data" / "articles" / "articles.jsonl"

pytestmark = pytest.mark.slow

ARTICLES = 250  # JSONL articles; with the Parquet and text files about 2,500 sentences
PART_DOCS = "20"
RUN_TIMEOUT_S = 900
BAD_LINES = [
    "{not json",
    json.dumps({"id": "blank", "text": "   "}),
    json.dumps({"id": "too-long", "text": "word " * 21_000}),
    json.dumps({"id": "no-text", "body": "the text is under another name"}),
    json.dumps({"id": "html-without-text", "text": "<nav>Home</nav><script>x()</script>", "format": "html"}),
    json.dumps({"id": "pdf", "text": "A PDF?", "format": "pdf"}),
]
BAD_IDS = {"blank", "too-long", "no-text", "html-without-text", "pdf"}  # and the broken line, by location
# Real articles of data/articles with quotations over several sentences (continued, colon-led, HTML), and
# one with page furniture: their sentences in context must come out as /v1/extract gives them.
IN_CONTEXT = (
    "wh-president-biden-announces-john-kirby-as-nsc-coordinator-for-strategic-",
    "wh-president-biden-announces-former-atlanta-mayor-keisha-lance-bottoms-as",
    "wh-biden-administration-approves-first-operation-fly-formula-mission",
)
FURNITURE = {
    "id": "furniture",
    "text": "Bridge Closes\n\nGlobal Times / No Comments Share:\nThe council voted 7-2 to close the bridge. "
    "The chair said: “We must act now. The plan should pass.”\n\nShare and Like this post\n\nRelated Posts"
    "\n\nPrevious Article\n\nNext Article",
}
CONTEXT_ARTICLES = len(IN_CONTEXT) + 1
FURNITURE_LINES = (
    "Global Times / No Comments Share:",
    "Share and Like this post",
    "Related Posts",
    "Previous Article",
    "Next Article",
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JSONL (with bad records), Parquet, and text files; ids are explicit except the text files'."""
    folder = tmp_path_factory.mktemp("archive")
    articles = synthetic_archive(ARTICLES + 20, seed=3, shared=None)
    write_jsonl(articles[:ARTICLES], folder / "news.jsonl")
    with (folder / "news.jsonl").open("a", encoding="utf-8") as jsonl:
        jsonl.write("\n".join(BAD_LINES) + "\n")
    pq.write_table(pa.Table.from_pylist(articles[ARTICLES:]), folder / "more.parquet")
    (folder / "letters").mkdir()
    (folder / "letters" / "one.txt").write_text("The bridge is a disgrace. Fix it now.", encoding="utf-8")
    (folder / "letters" / "two.md").write_text(
        "# Budget\n\nThe budget grew 3% this year.\n", encoding="utf-8"
    )
    (folder / "letters" / "latin1.txt").write_bytes("Le café a fermé.".encode("latin-1"))
    write_jsonl([*context_articles(), FURNITURE], folder / "context.jsonl")
    return folder


def context_articles() -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in ARTICLES_FILE.read_text(encoding="utf-8").splitlines()]
    by_id = {row["id"]: row for row in rows}
    return [{key: by_id[id_][key] for key in ("id", "text", "format", "title")} for id_ in IN_CONTEXT]


def backfill(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "backfill", *args, "--part-docs", PART_DOCS, "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def start_backfill(source: Path, out: Path) -> subprocess.Popen[str]:
    """A run in a process group of its own, so a kill -9 can take the driver and what it started."""
    command = [sys.executable, "-m", "app", "backfill", str(source), "--out", str(out), "--no-progress"]
    return subprocess.Popen(
        [*command, "--part-docs", PART_DOCS, "--workers", "2"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def committed(out: Path) -> int:
    return len(list((out / "_commits").glob("*.json"))) if (out / "_commits").is_dir() else 0


def wait_for_parts(process: subprocess.Popen[str], out: Path, parts: int) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while committed(out) < parts:
        assert process.poll() is None, f"the run ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "no part committed in time"
        time.sleep(0.2)


def rows(out: Path) -> dict[str, list[dict[str, Any]]]:
    """Every output table, sorted, without the `part` column (part names differ between runs)."""
    store = OutputDir(out)
    found = {}
    for name, key in (
        ("sentences", ("doc_id", "index")),
        ("skipped", ("doc_id", "start")),
        ("documents", ("doc_id",)),
        ("errors", ("doc_id",)),
    ):
        table = store.read(name)
        assert table is not None, f"no {name} table in {out}"
        listed = [{k: v for k, v in row.items() if k != "part"} for row in table.to_pylist()]
        found[name] = sorted(listed, key=lambda row: tuple(row[k] for k in key))
    return found


@pytest.fixture(scope="module")
def reference(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "out"
    done = backfill(str(archive), "--out", str(out))
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    return out


def test_an_uninterrupted_run_labels_every_article_and_files_every_bad_record(
    archive: Path, reference: Path
) -> None:
    found = rows(reference)

    documents = {row["doc_id"]: row for row in found["documents"]}
    assert len(documents) == ARTICLES + 20 + 2 + CONTEXT_ARTICLES  # JSONL, Parquet, letters, in context
    errors = {row["doc_id"]: row["code"] for row in found["errors"]}
    assert errors == {
        f"{archive / 'news.jsonl'}:{ARTICLES + 1}": "invalid_record",
        "blank": "validation_error",
        "too-long": "payload_too_large",
        "no-text": "invalid_record",
        "html-without-text": "invalid_input",
        "pdf": "invalid_record",
        str(archive / "letters" / "latin1.txt"): "unreadable_input",
    }
    first = documents["a000001"]
    assert (first["section"], first["author"], first["url"]) == (
        "politics",
        first["author"],
        "https://archive.example.org/a000001",
    )
    assert json.loads(first["metadata"])["origin"].startswith("part1-")
    per_doc: dict[str, int] = {}
    for sentence in found["sentences"]:
        per_doc[sentence["doc_id"]] = per_doc.get(sentence["doc_id"], 0) + 1
    assert per_doc == {doc_id: row["sentences"] for doc_id, row in documents.items()}
    for row in documents.values():
        assert row["n_fact"] + row["n_assessment"] + row["n_prescription"] == row["sentences"]
    assert {s["label"] for s in found["sentences"]} == {"fact", "assessment", "prescription"}
    # Furniture is apart: never labelled, never counted, and every sentence keeps its context.
    skipped = [(s["doc_id"], s["text"], s["role"]) for s in found["skipped"]]
    assert skipped == [("furniture", text, "furniture") for text in FURNITURE_LINES]
    assert documents["furniture"]["skipped"] == len(FURNITURE_LINES)
    assert documents["furniture"]["sentences"] == 4  # the headline, the vote, the quotation's two
    assert not {s["text"] for s in found["sentences"]} & set(FURNITURE_LINES)
    assert all(
        s["role"] != "furniture" and s["label_source"] in ("model", "quotation") for s in found["sentences"]
    )
    assert not list((reference / "_tmp").iterdir())


def test_a_rerun_skips_everything_and_changes_nothing(reference: Path, archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference, out)

    done = backfill(str(archive), "--out", str(out), "--no-progress")

    assert done.returncode == 0, done.stderr
    assert "0 documents, 0 sentences labelled, 0 errors" in done.stdout
    assert f"{ARTICLES + 20 + 2 + CONTEXT_ARTICLES + len(BAD_LINES) + 1} already done" in done.stdout
    assert rows(out) == rows(reference)


def kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL the driver's group (driver, Ray's head processes and agents), then whatever outlives it."""
    descendants = psutil.Process(process.pid).children(recursive=True)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    for child in descendants:
        if child.is_running():
            child.kill()
    psutil.wait_procs(descendants, timeout=30)


def test_a_driver_killed_mid_run_resumes_to_the_same_rows(
    reference: Path, archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = start_backfill(archive, out)
    try:
        wait_for_parts(process, out, 2)
        assert process.poll() is None
    finally:
        kill_group(process)
    parts_before = committed(out)
    assert parts_before < len(OutputDir(reference).parts()), "the run finished before it was killed"

    done = backfill(str(archive), "--out", str(out), "--no-progress")

    assert done.returncode == 0, done.stderr
    already = int(done.stdout.split(" already done")[0].rsplit(" ", 1)[1])
    assert already >= parts_before * int(PART_DOCS) - 20  # committed parts were not labelled again
    assert rows(out) == rows(reference)


def test_a_classifier_process_killed_mid_run_is_replaced_and_nothing_is_lost(
    reference: Path, archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = start_backfill(archive, out)
    try:
        wait_for_parts(process, out, 1)
        labellers = [
            child
            for child in psutil.Process(process.pid).children(recursive=True)
            if "Labeller" in " ".join(child.cmdline())
        ]
        assert labellers, "no classifier actor process found"
        labellers[0].kill()
        killed_at = committed(out)
        _, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            kill_group(process)
    assert process.returncode == 0, stderr
    assert killed_at < len(OutputDir(reference).parts()), "the run finished before the kill"
    assert rows(out) == rows(reference)


def test_an_edited_article_is_labelled_again_and_replaces_its_old_rows(
    reference: Path, archive: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(reference, out)
    lines = (archive / "news.jsonl").read_text(encoding="utf-8").splitlines()
    edited = json.loads(lines[0])
    edited["text"] = "The council voted 7-2 on Monday. The decision was a mistake. The city should reopen it."
    source = tmp_path / "news.jsonl"
    source.write_text("\n".join([json.dumps(edited), *lines[1:ARTICLES]]) + "\n", encoding="utf-8")

    done = backfill(str(source), "--out", str(out), "--no-progress")

    assert done.returncode == 0, done.stderr
    assert "1 documents, 3 sentences labelled" in done.stdout and "1 older rows replaced" in done.stdout
    found, before = rows(out), rows(reference)
    assert [s["label"] for s in found["sentences"] if s["doc_id"] == edited["id"]] == [
        "fact",
        "assessment",
        "prescription",
    ]
    unchanged = [s for s in found["sentences"] if s["doc_id"] != edited["id"]]
    assert unchanged == [s for s in before["sentences"] if s["doc_id"] != edited["id"]]
    assert [d["doc_id"] for d in found["documents"]] == [d["doc_id"] for d in before["documents"]]


@pytest.fixture(scope="module")
async def uncached_client() -> AsyncIterator[httpx.AsyncClient]:
    """The service as /v1/extract serves it, with the sentence cache off like backfill's classifiers."""
    async for started in started_client(create_app(Settings(cache_mb=0))):
        yield started


async def test_backfill_gives_the_services_sentences_offsets_labels_and_context(
    reference: Path, archive: Path, uncached_client: httpx.AsyncClient
) -> None:
    lines = (archive / "news.jsonl").read_text(encoding="utf-8").splitlines()[:ARTICLES]
    lines += (archive / "context.jsonl").read_text(encoding="utf-8").splitlines()
    articles = [json.loads(line) for line in lines]
    found = rows(reference)
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for sentence in found["sentences"]:
        by_doc.setdefault(sentence["doc_id"], []).append(sentence)
    skipped_by_doc: dict[str, list[dict[str, Any]]] = {}
    for line in found["skipped"]:
        skipped_by_doc.setdefault(line["doc_id"], []).append(line)
    compared: list[dict[str, Any]] = []
    for article in articles:
        response = await uncached_client.post(
            "/v1/extract", json={"text": article["text"], "format": article.get("format", "text")}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        expected = [_as_backfill_row(s) for s in body["sentences"]]
        assert [_comparable(s) for s in by_doc.get(article["id"], [])] == expected, article["id"]
        assert [_comparable(s) for s in skipped_by_doc.get(article["id"], [])] == [
            {k: s[k] for k in ("text", "start", "end", "start_utf16", "end_utf16", "role")}
            for s in body["skipped"]
        ], article["id"]
        compared += expected
    assert len(articles) == ARTICLES + CONTEXT_ARTICLES
    assert sum(a.get("format") == "html" for a in articles) >= ARTICLES // 10
    # The comparison holds each part of the context: quoted speech labelled fact by quotation (and
    # continuations without a mark of their own), named speakers, roles other than body.
    by_quotation = [s for s in compared if s["label_source"] == "quotation"]
    assert len(by_quotation) >= 15 and {s["label"] for s in by_quotation} == {"fact"}
    assert any(not set(s["text"]) & set('“”"') for s in by_quotation)
    assert sum(s["speaker"] is not None for s in compared) >= 15
    assert {"headline", "body"} <= {s["role"] for s in compared}


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("doc_id", "model_name", "model_version")}


def _as_backfill_row(sentence: dict[str, Any]) -> dict[str, Any]:
    """A /v1/extract sentence as the backfill writes it: the same fields, scores and speaker flat."""
    keys = ("index", "text", "start", "end", "start_utf16", "end_utf16", "role", "quoted")
    row = {k: sentence[k] for k in keys}
    speaker = sentence["speaker"] or {}
    row["speaker"] = speaker.get("text")
    row.update({f"speaker_{k}": speaker.get(k) for k in ("start", "end", "start_utf16", "end_utf16")})
    row.update({k: sentence[k] for k in ("label", "label_source", "confidence")})
    row.update({f"score_{label}": score for label, score in sentence["scores"].items()})
    row["uncertain"] = sentence["uncertain"]
    return row


def test_a_ray_client_address_is_refused_with_the_way_that_works(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("One sentence.", encoding="utf-8")

    done = backfill(str(tmp_path / "a.txt"), "--out", str(tmp_path / "out"), "--address", "ray://head:10001")

    assert done.returncode == 2
    assert "Ray Client addresses (ray://) cannot run Ray Data" in done.stderr
    assert "--address auto" in done.stderr


def test_a_missing_source_stops_before_ray_starts(tmp_path: Path) -> None:
    done = backfill(str(tmp_path / "absent"), "--out", str(tmp_path / "out"))

    assert done.returncode == 2
    assert "no such file or folder" in done.stderr
