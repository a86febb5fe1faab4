"""`claimsift eval` as a real process: in-process model, a live service over HTTP, and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli, serving

# Sentences from the label guide, varied so the file is longer than one progress-bar chunk.
GUIDE = [
    ("The council voted 7-2 on Monday to close the bridge.", "fact"),
    ("Officials told reporters that talks would resume in May.", "fact"),
    ("The new budget is a missed opportunity.", "assessment"),
    ("Prices will keep rising if nothing changes.", "assessment"),
    ("The government should publish the full report.", "prescription"),
    ("No one must be allowed to block the inquiry.", "prescription"),
]
PLACES = ["Leeds", "Lyon", "Porto", "Graz", "Turku", "Split", "Ghent", "Cork", "Bonn", "Pisa", "Brno"]


def eval_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("eval", *args)


@pytest.fixture(scope="module")
def guide_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eval") / "guide.jsonl"
    rows = [{"text": f"In {place}: {text}", "label": label} for place in PLACES for text, label in GUIDE]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.slow
def test_eval_in_process_and_through_a_live_service_agree(guide_file: Path, live_server: str) -> None:
    local = eval_cli(str(guide_file), "--json")
    assert local.returncode == 0, local.stderr
    assert "sent/s" in local.stderr  # the progress bar, on stderr so stdout stays JSON
    report = json.loads(local.stdout)
    assert report["n"] == len(PLACES) * len(GUIDE)
    assert report["labels"] == ["fact", "assessment", "prescription"]
    assert sum(map(sum, report["confusion"])) == report["n"]
    assert report["macro_f1"] >= 0.8  # the guide's own examples

    remote = eval_cli(str(guide_file), "--json", "--url", live_server)
    assert remote.returncode == 0, remote.stderr
    remote_report = json.loads(remote.stdout)
    for key in ("n", "accuracy", "macro_f1", "confusion", "ece", "model"):
        assert remote_report[key] == report[key]

    text = eval_cli(str(guide_file), "--url", live_server)
    assert "macro-F1" in text.stdout
    assert "confusion (rows gold, columns predicted)" in text.stdout


def test_two_class_file_is_scored_as_fact_vs_opinion(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    rows = [{"text": t, "label": "fact" if label == "fact" else "opinion"} for t, label in GUIDE]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    result = eval_cli(str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["labels"] == ["fact", "opinion"]
    assert set(report["per_class"]) == {"fact", "opinion"}


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("", "no labelled rows"), ('{"text": "a", "label": "rumour"}\n', "unknown")],
)
def test_bad_files_exit_non_zero_with_a_message(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "input.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = eval_cli(str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_service_exits_non_zero_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text('{"text": "The council met.", "label": "fact"}\n', encoding="utf-8")
    result = eval_cli(str(path), "--url", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert "cannot use http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_eval_url_sends_the_api_key_of_the_environment(tmp_path: Path) -> None:
    """The bug of the first `eval --url`: it sent no key, so a service with keys on refused every call."""
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in GUIDE[:2]))
    key = "eval-test-key-0123456789"
    with serving({"CLAIMSIFT_API_KEYS": key}) as (url, _):
        refused = run_cli("eval", str(path), "--url", url, env={"CLAIMSIFT_API_KEY": ""})
        accepted = run_cli("eval", str(path), "--url", url, "--json", env={"CLAIMSIFT_API_KEY": key})
    assert refused.returncode == 2
    assert "401" in refused.stderr and "CLAIMSIFT_API_KEY" in refused.stderr
    assert key not in refused.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["n"] == 2
