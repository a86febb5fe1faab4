"""CPU seconds a service process spends per article, for A/B comparisons of two checkouts on a busy machine.

    python -m bench.cpu_cost [--articles 40] [--concurrency 8] [--rounds 4] NAME=DIR[:MODULE] ...

Wall-clock throughput on a shared machine says more about the neighbours than about the code; the CPU time
the server process itself used (all its threads, from /proc) per 40-sentence article does not depend much
on them. Each NAME=DIR starts `python -m MODULE serve` (default `app`; `app.cli` for checkouts before
issue 10) in DIR with the sentence cache off, warms it, posts the articles through POST /v1/extract at the
given concurrency and prints the server's CPU milliseconds per article and the wall-clock sentences/s. The
checkouts alternate (ABBA...) so that drift of the machine falls on both. Linux only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.run import bench_env, build_articles, drive, free_port, warm_up
from bench.serving import wait_ready

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
SENTENCES_PER_ARTICLE = 40


@dataclass(frozen=True)
class Checkout:
    name: str
    folder: Path
    module: str


def parse_checkout(spec: str) -> Checkout:
    name, _, target = spec.partition("=")
    folder, _, module = target.partition(":")
    return Checkout(name, Path(folder).resolve(), module or "app")


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime + stime, all threads


def measure(checkout: Checkout, articles: Sequence[str], concurrency: int) -> tuple[float, float]:
    """(server CPU ms per article, wall-clock sentences/s) for one cold server of ``checkout``."""
    port = free_port()
    command = [sys.executable, "-m", checkout.module, "serve", "--port", str(port)]
    env = bench_env(CLAIMSIFT_CACHE_MB="0")
    process = subprocess.Popen(command, cwd=checkout.folder, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, timeout_s=300, interval_s=0.05)
        asyncio.run(warm_up(url, articles))
        cpu = process_cpu_s(process.pid)
        result = asyncio.run(drive(url, checkout.name, articles, concurrency, len(articles), float("inf")))
        used = process_cpu_s(process.pid) - cpu
    finally:
        process.terminate()
        process.wait(timeout=60)
    if result.errors:
        raise SystemExit(f"{checkout.name}: {result.errors} requests were not answered 200")
    return used / result.requests * 1000, result.sentences_per_s


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkouts", nargs="+", type=parse_checkout, metavar="NAME=DIR[:MODULE]")
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    articles = build_articles(SENTENCES_PER_ARTICLE, args.articles)
    for round_ in range(args.rounds):
        order = args.checkouts if round_ % 2 == 0 else args.checkouts[::-1]
        for checkout in order:
            cpu_ms, rate = measure(checkout, articles, args.concurrency)
            load = os.getloadavg()[0]
            what = f"{cpu_ms:.0f} CPU ms/article, {rate:.0f} sentences/s, load {load:.1f}"
            print(f"round {round_} {checkout.name}: {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
