"""`claimsift classify` as a real process: in-process model and against a running service."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port, run_cli

pytestmark = pytest.mark.slow

ARTICLE = "The council voted 7-2 on Monday. The decision was a mistake. The city should reopen the bridge."


def classify(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli("classify", *args, stdin=stdin, env=env)


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A folder with every kind of input, good and bad, nested one level."""
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Budget\n\nThe budget grew 3% this year.\n", encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "page.html").write_text(
        "<nav>Home</nav><p>Le café 😀 a fermé.</p><script>track()</script>", encoding="utf-8"
    )
    lines = [
        json.dumps({"id": "first", "text": "Prices rose 4% in May."}),
        "{not json",
        "",
        json.dumps({"id": 7, "text": "   "}),
        json.dumps({"text": "No id here. It should work."}),
        json.dumps(["a list"]),
        json.dumps({"id": "x", "body": "no text field"}),
    ]
    (tmp_path / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("café".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # not an article: skipped
    return tmp_path


def test_folder_in_process_gives_one_record_per_input_and_reports_failures(corpus: Path) -> None:
    done = classify(str(corpus))

    assert done.returncode == 1, done.stderr  # some records failed
    out = records(done.stdout)
    ids = [record["id"] for record in out]
    jsonl = str(corpus / "articles.jsonl")
    assert ids == [
        str(corpus / "a.txt"),
        "first",
        f"{jsonl}:2",
        "7",
        f"{jsonl}:5",
        f"{jsonl}:6",
        "x",
        str(corpus / "latin1.txt"),
        str(corpus / "nested" / "page.html"),
        str(corpus / "notes.md"),
    ]
    by_id = {record["id"]: record for record in out}
    assert [s["text"] for s in by_id[str(corpus / "a.txt")]["result"]["sentences"]] == [
        "The council voted 7-2 on Monday.",
        "The decision was a mistake.",
        "The city should reopen the bridge.",
    ]
    page = by_id[str(corpus / "nested" / "page.html")]["result"]
    assert [s["text"] for s in page["sentences"]] == ["Le café 😀 a fermé."]  # nav and script dropped
    assert by_id["first"]["source"] == f"{jsonl}:1"
    failures = {record["id"]: record["error"]["code"] for record in out if not record["ok"]}
    assert failures == {
        f"{jsonl}:2": "invalid_record",
        "7": "validation_error",
        f"{jsonl}:6": "invalid_record",
        "x": "invalid_record",
        str(corpus / "latin1.txt"): "unreadable_input",
    }
    assert "5 record(s) failed" in done.stderr


def test_stdin_jsonl_against_a_running_service_as_a_table(live_server: str) -> None:
    lines = [json.dumps({"id": f"a{i}", "text": ARTICLE}) for i in range(3)]
    done = classify("-", "--url", live_server, "--format", "table", stdin="\n".join(lines))

    assert done.returncode == 0, done.stderr
    api = httpx.post(f"{live_server}/v1/extract", json={"text": ARTICLE}, timeout=60).json()
    headers = [line for line in done.stdout.splitlines() if line.startswith("== ")]
    counts = "  ".join(f"{name} {count}" for name, count in api["counts"].items())
    assert headers == [f"== a{i}  3 sentences  {counts}" for i in range(3)]
    for sentence in api["sentences"]:
        assert f"{sentence['label']:<12} {sentence['confidence']:5.2f}" in done.stdout


def test_stdin_plain_text_against_a_running_service_as_jsonl(live_server: str) -> None:
    done = classify("-", "--url", live_server, stdin=ARTICLE)

    assert done.returncode == 0, done.stderr
    (only,) = records(done.stdout)
    assert only["id"] == "-"
    assert only["ok"] is True
    assert len(only["result"]["sentences"]) == 3


def test_unusable_input_or_service_fails_fast_with_a_message(tmp_path: Path) -> None:
    missing = classify(str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr
    assert missing.stdout == ""

    (tmp_path / "only.png").write_bytes(b"\x89PNG")
    empty_folder = classify(str(tmp_path))
    assert empty_folder.returncode == 2
    assert "has no .txt, .md, .html or .jsonl files" in empty_folder.stderr

    nothing = classify("-", stdin="")
    assert nothing.returncode == 2
    assert "stdin is empty" in nothing.stderr

    dead = classify("-", "--url", f"http://127.0.0.1:{free_port()}", stdin=ARTICLE)
    assert dead.returncode == 2
    assert "cannot use http://127.0.0.1" in dead.stderr


def test_in_process_run_uses_the_api_key_when_the_service_requires_one() -> None:
    key = "cli-test-key-0123456789"
    refused = classify("-", stdin=ARTICLE, env={"CLAIMSIFT_API_KEYS": key, "CLAIMSIFT_API_KEY": ""})
    assert refused.returncode == 2
    assert "401" in refused.stderr
    assert "CLAIMSIFT_API_KEY" in refused.stderr
    assert key not in refused.stderr  # keys are never echoed

    accepted = classify("-", stdin=ARTICLE, env={"CLAIMSIFT_API_KEYS": key, "CLAIMSIFT_API_KEY": key})
    assert accepted.returncode == 0, accepted.stderr
    assert records(accepted.stdout)[0]["ok"] is True
