"""Load test: many concurrent clients against one real `claimsift serve` worker over loopback.

    python scripts/loadtest.py                      # 64 clients, 5 s warm-up, then 30 s measured
    python scripts/loadtest.py --clients 16 --duration 10

Each client posts a short article to /v1/extract in a loop: six sentences from a fixed pool (what a
CMS re-checking drafts sends) and two never seen before (so a cache cannot answer everything). It
prints the figures and a last line ``RESULT {json}``, and exits 1 when a check fails:
no errors other than the designed 429s, every request answered, and RSS growth below the bound
between the first and the last window of the measured run (memory is sampled after the warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: reach the bench package beside it

from bench.serving import wait_ready  # noqa: E402

_SUBJECTS = ["The council", "The minister", "Local police", "The central bank", "Researchers", "The club"]
_FACTS = ["voted 7-2 on Monday", "said the report was delayed", "raised rates by 0.25 points"]
_VIEWS = ["made a serious mistake", "is likely to regret this", "should publish the data now"]


@dataclass
class Tally:
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    sentences: int = 0
    sent: int = 0
    answered: int = 0

    def count(self, outcome: str) -> None:
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1


@dataclass
class Tallies:
    warmup: Tally = field(default_factory=Tally)
    measured: Tally = field(default_factory=Tally)


def sentence_pool(size: int = 120) -> list[str]:
    rng = random.Random(7)
    return [f"{rng.choice(_SUBJECTS)} {rng.choice(_FACTS + _VIEWS)} in case {i}." for i in range(size)]


def article(pool: list[str], rng: random.Random, serial: str) -> str:
    fresh = [f"Update {serial} on item {n}: the hearing was adjourned." for n in range(2)]
    return " ".join(rng.sample(pool, 6) + fresh)


async def client_loop(
    http: httpx.AsyncClient, pool: list[str], measure_from: float, stop_at: float, tallies: Tallies, seed: int
) -> None:
    """Post articles back to back; what starts before ``measure_from`` is warm-up."""
    rng = random.Random(seed)
    serial = 0
    while time.monotonic() < stop_at:
        serial += 1
        tally = tallies.warmup if time.monotonic() < measure_from else tallies.measured
        tally.sent += 1
        started = time.perf_counter()
        try:
            response = await http.post("/v1/extract", json={"text": article(pool, rng, f"{seed}-{serial}")})
        except httpx.HTTPError as exc:  # no answer at all: a dropped or timed-out request
            tally.count(type(exc).__name__)
            continue
        tally.answered += 1
        tally.count(str(response.status_code))
        if response.status_code == 200:
            tally.latencies.append(time.perf_counter() - started)
            tally.sentences += len(response.json()["sentences"])
        elif response.status_code == 429:
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def sample_rss(process: psutil.Process, samples: list[tuple[float, int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), process.memory_info().rss))
        await asyncio.sleep(0.25)


async def drive(base: str, pid: int, clients: int, warmup_s: float, duration_s: float) -> dict[str, Any]:
    pool = sentence_pool()
    # Idle connections expire on the client before the server's 5 s keep-alive closes them, as any
    # pooled client should: otherwise a request can race the server's close and meet a reset.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2)
    tallies = Tallies()
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        measure_from = time.monotonic() + warmup_s
        stop_at = measure_from + duration_s
        sampler = asyncio.create_task(sample_rss(psutil.Process(pid), samples, stop))
        # One continuous run: no pause between warm-up and measurement that would idle the connections.
        await asyncio.gather(
            *(client_loop(http, pool, measure_from, stop_at, tallies, c) for c in range(clients))
        )
        elapsed = time.monotonic() - measure_from
        stop.set()
        await sampler
    measured_samples = [(t, rss) for t, rss in samples if t >= measure_from]
    return summarize(tallies, measured_samples, measure_from, elapsed, clients)


def summarize(
    tallies: Tallies, samples: list[tuple[float, int]], started: float, elapsed: float, clients: int
) -> dict[str, Any]:
    tally = tallies.measured
    window = min(10.0, elapsed / 3)
    first = [rss for t, rss in samples if t - started < window]
    last = [rss for t, rss in samples if t - started > elapsed - window]
    first_mb, last_mb = statistics.mean(first) / 2**20, statistics.mean(last) / 2**20
    latencies = sorted(tally.latencies) or [0.0]
    errors: dict[str, int] = {}
    for counted in (tallies.warmup, tallies.measured):
        for outcome, count in counted.statuses.items():
            if outcome not in {"200", "429"}:
                errors[outcome] = errors.get(outcome, 0) + count
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "warmup_requests": tallies.warmup.sent,
        "requests": tally.sent,
        "answered": tally.answered,
        "unanswered": tallies.warmup.sent - tallies.warmup.answered + tally.sent - tally.answered,
        "ok": tally.statuses.get("200", 0),
        "overloaded_429": tally.statuses.get("429", 0),
        "errors": errors,
        "requests_per_s": round(tally.statuses.get("200", 0) / elapsed, 1),
        "sentences_per_s": round(tally.sentences / elapsed, 1),
        "latency_ms": {
            "p50": round(1000 * latencies[len(latencies) // 2], 1),
            "p95": round(1000 * latencies[int(len(latencies) * 0.95)], 1),
            "p99": round(1000 * latencies[int(len(latencies) * 0.99)], 1),
            "max": round(1000 * latencies[-1], 1),
        },
        "rss_window_s": round(window, 1),
        "rss_first_mb": round(first_mb, 1),
        "rss_last_mb": round(last_mb, 1),
        "rss_peak_mb": round(max(rss for _, rss in samples) / 2**20, 1),
        "rss_growth_pct": round(100 * (last_mb - first_mb) / first_mb, 2),
    }


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CLAIMSIFT_LOG_LEVEL": os.environ.get("CLAIMSIFT_LOG_LEVEL", "warning")}
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=REPO, env=env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def report(result: dict[str, Any], max_growth_pct: float) -> list[str]:
    latency = result["latency_ms"]
    print(f"clients            {result['clients']}, measured {result['seconds']} s")
    print(
        f"requests           {result['requests']} sent, {result['answered']} answered "
        f"(after {result['warmup_requests']} in the warm-up)"
    )
    print(
        f"status             200: {result['ok']}, 429: {result['overloaded_429']}, "
        f"errors (whole run): {result['errors']}"
    )
    print(
        f"throughput         {result['requests_per_s']} articles/s, {result['sentences_per_s']} sentences/s"
    )
    print(f"latency (200s)     p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms")
    print(
        f"server RSS         first {result['rss_window_s']} s {result['rss_first_mb']} MB, "
        f"last {result['rss_window_s']} s {result['rss_last_mb']} MB "
        f"({result['rss_growth_pct']:+.2f}%), peak {result['rss_peak_mb']} MB"
    )
    failures = []
    if result["errors"]:
        failures.append(f"errors other than 429: {result['errors']}")
    if result["unanswered"]:
        failures.append(f"{result['unanswered']} requests got no answer")
    if result["rss_growth_pct"] >= max_growth_pct:
        failures.append(f"RSS grew {result['rss_growth_pct']}% (bound {max_growth_pct}%)")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds (default 30)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds first (default 5)")
    parser.add_argument("--max-rss-growth", type=float, default=10.0, help="percent (default 10)")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        wait_ready(base, server)
        result = asyncio.run(drive(base, server.pid, args.clients, args.warmup, args.duration))
    finally:
        server.terminate()
        server.wait(timeout=60)
    failures = report(result, args.max_rss_growth)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("RESULT " + json.dumps(result))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
