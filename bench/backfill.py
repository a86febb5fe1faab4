"""Backfill benchmark: `claimsift backfill` with 1 and 2 classifiers against `claimsift classify`.

Every command runs as a real process on the same synthetic archive (bench/archive.py, >= 2,000
articles) with the sentence cache off, so each one classifies every sentence. For each it prints the
wall time, sentences/s over the whole command and over the labelling alone (backfill: its pipeline,
without Ray's start and the one model check), and the peak memory: per classifier process and of the
whole process tree.

    python -m bench.backfill [--articles 2000] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.archive import synthetic_archive, write_jsonl

REPO = Path(__file__).resolve().parents[1]
CLASSIFIER_MARK = "Labeller"  # in the process title of backfill's classifier actors


@dataclass
class Result:
    name: str
    wall_s: float
    sentences: int
    labelling_s: float
    classifier_mb: float  # peak RSS of one classifier process (the largest)
    tree_mb: float  # peak RSS of the command's whole process tree

    def row(self, baseline: float | None) -> str:
        rate, steady = self.sentences / self.wall_s, self.sentences / self.labelling_s
        versus = f"{100 * steady / baseline:.0f}%" if baseline else "baseline"
        return (
            f"| {self.name} | {self.wall_s:.1f} | {self.sentences:,} | {rate:.1f} | {steady:.1f} | {versus} "
            f"| {self.classifier_mb:.0f} | {self.tree_mb:.0f} |"
        )


class MemoryWatch:
    """Samples the RSS of a process tree twice a second until stopped; keeps the peaks."""

    def __init__(self, pid: int) -> None:
        self._root = psutil.Process(pid)
        self._stop = threading.Event()
        self.classifier_mb = 0.0
        self.tree_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total, classifiers = 0.0, []
            for process in processes:
                try:
                    rss = process.memory_info().rss / 1e6
                    total += rss
                    if CLASSIFIER_MARK in " ".join(process.cmdline()):
                        classifiers.append(rss)
                except psutil.Error:
                    continue
            self.tree_mb = max(self.tree_mb, total)
            self.classifier_mb = max(self.classifier_mb, *classifiers, 0.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run(command: list[str], env: dict[str, str]) -> tuple[float, MemoryWatch, str]:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    watch = MemoryWatch(process.pid)
    stdout, _ = process.communicate()
    watch.stop()
    if process.returncode not in (0, 1):  # classify exits 1 when a record failed; none should here
        raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}")
    return time.perf_counter() - started, watch, stdout


def classify(archive: Path, env: dict[str, str]) -> Result:
    command = [sys.executable, "-m", "app", "classify", str(archive), "--no-progress"]
    wall, watch, stdout = run(command, env)
    sentences = sum(len(json.loads(line)["result"]["sentences"]) for line in stdout.splitlines())
    # classify loads the model before its first record: the model's load counts as start-up here too
    return Result("`claimsift classify` (one process)", wall, sentences, wall, watch.tree_mb, watch.tree_mb)


def backfill(archive: Path, workers: int, out: Path, env: dict[str, str]) -> Result:
    command = [sys.executable, "-m", "app", "backfill", str(archive), "--out", str(out)]
    wall, watch, _ = run([*command, "--workers", str(workers), "--no-progress"], env)
    summary = json.loads((out / "_runs.jsonl").read_text().splitlines()[-1])
    name = f"`claimsift backfill --workers {workers}`"
    return Result(name, wall, summary["sentences"], summary["pipeline_s"], watch.classifier_mb, watch.tree_mb)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    env = {**os.environ, "CLAIMSIFT_CACHE_MB": "0", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="claimsift-bench-") as scratch:
        archive = Path(scratch) / "archive.jsonl"
        write_jsonl(synthetic_archive(args.articles), archive)
        print(
            f"archive: {args.articles} articles ({archive.stat().st_size / 1e6:.1f} MB), "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start",
            flush=True,
        )
        results = [classify(archive, env)]
        for workers in args.workers:
            results.append(backfill(archive, workers, Path(scratch) / f"out-{workers}", env))
    print(
        "| command | wall s | sentences | sentences/s (wall) | sentences/s (labelling) | vs classify "
        "| MB per classifier | MB all processes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    baseline = results[0].sentences / results[0].labelling_s
    for result in results:
        print(result.row(None if result is results[0] else baseline))
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
