"""The benchmark code on a tiny load so that it cannot rot; its numbers are not checked here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run import END_MARK, START_MARK, main, write_results


@pytest.mark.slow
def test_bench_smoke_runs_both_servers_and_prints_one_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--smoke"]) == 0
    table = capsys.readouterr().out
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| service |")]
    rows += [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| baseline |")]
    levels = [(cells[0].strip(), cells[1].strip(), cells[3].strip()) for cells in rows if len(cells) > 5]
    assert levels == [
        ("service", "1", "0"),
        ("service", "2", "0"),
        ("baseline", "1", "0"),
        ("baseline", "2", "0"),
    ]  # every level ran on both servers, with no failed request
    assert "x |" in table  # the service/baseline ratio
    assert "| service, cache on |" in table and "sentences from the cache" in table


def test_results_replace_only_the_generated_block(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nHand-written.\n\n{START_MARK}\nold\n{END_MARK}\n\n## After\n")
    write_results(doc, "make bench", "2 CPU cores", "| new | table |")
    text = doc.read_text()
    assert "old" not in text and "| new | table |" in text and "`make bench`" in text
    assert text.startswith("# Performance\n\nHand-written.") and text.endswith("## After\n")
