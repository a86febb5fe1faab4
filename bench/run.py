"""`make bench`: the service and the naive baseline as real processes, the same load over loopback, one table.

Each server is started cold (its time to a 200 from /readyz is reported), warmed with a few requests, then
driven at each concurrency level with whole articles through POST /v1/extract, bounded by a request count
and a time limit. The service runs with its sentence cache off, so it classifies every sentence like the
baseline does. A second service process (cache on) measures an article re-submitted with one sentence
edited, and a third one how much memory each of several uvicorn workers takes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.serving import wait_ready

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
START_MARK = "<!-- bench:start -->"
END_MARK = "<!-- bench:end -->"

# Used only when ../shared/data is absent (CI elsewhere): short articles written for this benchmark.
FALLBACK_SENTENCES = [
    "The city council voted 7-2 on Monday to extend the bus lane on Harbour Road.",
    "Officials said the work would start in March and cost about 4 million euros.",
    "The decision is a mistake that will hurt the shops along the road.",
    "Residents should attend Thursday's hearing and make their views known.",
    "Traffic on the road has fallen by 12 percent since 2019, according to the transport office.",
    "It seems unlikely that the new lane will change how people travel.",
    "The mayor must publish the full traffic study before any work begins.",
    "Two shop owners told reporters they had not been consulted.",
]


@dataclass
class LevelResult:
    server: str
    concurrency: int
    requests: int = 0
    errors: int = 0
    sentences: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.seconds if self.seconds else 0.0

    @property
    def articles_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class ServerStats:
    cold_start_s: float = 0.0
    peak_rss_mb: float = 0.0


def build_articles(sentences_per_article: int, count: int) -> list[str]:
    """Real news sentences (CheckThat! train + dev, read from ../shared/data) grouped into articles."""
    files = [SHARED_DATA / name for name in ("checkthat_dev.jsonl", "checkthat_train.jsonl")]
    if all(path.is_file() for path in files):
        pool = [json.loads(line)["text"] for path in files for line in path.read_text().splitlines()]
    else:
        pool = FALLBACK_SENTENCES
    articles = []
    for i in range(count):
        start = (i * sentences_per_article) % len(pool)
        picked = [pool[(start + j) % len(pool)] for j in range(sentences_per_article)]
        articles.append(" ".join(sentence.strip() for sentence in picked))
    return articles


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMSIFT_API_KEYS")}
    env.update({"CLAIMSIFT_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1"}, **overrides)
    return env


@contextmanager
def running(command: Sequence[str], env: dict[str, str], url: str, stats: ServerStats) -> Iterator[int]:
    """Start a server process, wait for /readyz, yield its pid; record cold start and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_ready(url, process, timeout_s=300, interval_s=0.05)
        stats.cold_start_s = time.perf_counter() - started
        yield process.pid
        stats.peak_rss_mb = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def proc_status_mb(pid: int, field_name: str) -> float:
    """VmHWM (peak resident memory) or VmRSS of a Linux process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field_name}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else float("nan")


def peak_rss_mb(pid: int) -> float:
    return proc_status_mb(pid, "VmHWM")


async def drive(
    url: str, server: str, articles: Sequence[str], concurrency: int, max_requests: int, max_seconds: float
) -> LevelResult:
    """``concurrency`` clients, each posting the next article as soon as its last one is answered."""
    result = LevelResult(server, concurrency)
    issued = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + max_seconds

        async def client_loop() -> None:
            nonlocal issued
            while issued < max_requests and time.perf_counter() < deadline:
                article = articles[issued % len(articles)]
                issued += 1
                sent = time.perf_counter()
                response = await client.post("/v1/extract", json={"text": article})
                if response.status_code != 200:
                    result.errors += 1
                    continue
                result.latencies.append(time.perf_counter() - sent)
                result.requests += 1
                result.sentences += len(response.json()["sentences"])

        await asyncio.gather(*(client_loop() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def warm_up(url: str, articles: Sequence[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for article in articles[:3]:
            (await client.post("/v1/extract", json={"text": article})).raise_for_status()


async def edited_resubmit(url: str, articles: Sequence[str], rounds: int) -> tuple[float, float, int]:
    """Median latency of a first submission and of the same article with one sentence edited."""
    first, edited, cached = [], [], 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for i in range(rounds):
            marker = f"{time.time_ns()}-{i}"  # text no cache has seen
            article = f"The desk logged draft {marker} this morning. {articles[i % len(articles)]}"
            sent = time.perf_counter()
            (await client.post("/v1/extract", json={"text": article})).raise_for_status()
            first.append(time.perf_counter() - sent)
            draft = article.replace("this morning.", "this afternoon.", 1)
            sent = time.perf_counter()
            response = await client.post("/v1/extract", json={"text": draft})
            edited.append(time.perf_counter() - sent)
            cached = response.json()["cached_sentences"]
    return 1000 * statistics.median(first), 1000 * statistics.median(edited), cached


def worker_rss_mb(url: str, workers: int, articles: Sequence[str], env: dict[str, str]) -> list[float]:
    """Resident memory of each worker of `uvicorn --workers N` after it has served some articles."""
    port = url.rsplit(":", 1)[1]
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
        "--host", "127.0.0.1", "--port", port, "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    with running(command, env, url, ServerStats()) as pid:
        asyncio.run(
            drive(url, "workers", articles, concurrency=4 * workers, max_requests=8 * workers, max_seconds=60)
        )
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        # Workers are spawned processes; the other child is multiprocessing's resource tracker.
        workers_pids = [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        return [proc_status_mb(int(child), "VmRSS") for child in workers_pids]


@dataclass
class Plan:
    levels: list[int]
    max_requests: int
    max_seconds: float
    sentences_per_article: int
    resubmit_rounds: int
    workers: int
    other_models: list[str] = field(default_factory=list)


def run(plan: Plan) -> str:
    articles = build_articles(plan.sentences_per_article, 32)
    service_cmd = [sys.executable, "-m", "app", "serve"]
    baseline_cmd = [sys.executable, "-m", "bench.baseline"]
    results: list[LevelResult] = []
    servers = {"service": (service_cmd, bench_env(CLAIMSIFT_CACHE_MB="0"))}
    for model in plan.other_models:  # the same service, one setting away: another shipped model
        servers[f"service ({model})"] = (
            service_cmd,
            bench_env(CLAIMSIFT_CACHE_MB="0", CLAIMSIFT_ADAPTED_MODEL=model),
        )
    servers["baseline"] = (baseline_cmd, bench_env())
    stats = {server: ServerStats() for server in servers}
    for server, (server_cmd, env) in servers.items():
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [*server_cmd, "--port", str(port)]
        with running(command, env, url, stats[server]):
            asyncio.run(warm_up(url, articles))
            for level in plan.levels:
                requests = max(plan.max_requests, 2 * level)
                results.append(asyncio.run(drive(url, server, articles, level, requests, plan.max_seconds)))
                print(_row(results[-1]), file=sys.stderr)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cache_stats = ServerStats()
    with running([*service_cmd, "--port", str(port)], bench_env(), url, cache_stats):
        asyncio.run(warm_up(url, articles[-3:]))  # articles the re-submissions below do not use
        first_ms, edited_ms, cached = asyncio.run(edited_resubmit(url, articles, plan.resubmit_rounds))
    rss = (
        worker_rss_mb(f"http://127.0.0.1:{free_port()}", plan.workers, articles, bench_env())
        if plan.workers
        else []
    )
    return render(plan, results, stats, cache_stats, (first_ms, edited_ms, cached), rss)


def _row(result: LevelResult) -> str:
    return (
        f"| {result.server} | {result.concurrency} | {result.requests} | {result.errors} | "
        f"{result.sentences_per_s:.0f} | {result.articles_per_s:.2f} | {result.percentile_ms(0.5):.0f} | "
        f"{result.percentile_ms(0.95):.0f} | {result.percentile_ms(0.99):.0f} |"
    )


def render(
    plan: Plan,
    results: list[LevelResult],
    stats: dict[str, ServerStats],
    cache_stats: ServerStats,
    resubmit: tuple[float, float, int],
    worker_rss: list[float],
) -> str:
    by_key = {(r.server, r.concurrency): r for r in results}
    lines = [
        "| server | concurrency | articles | errors | sentences/s | articles/s | p50 ms | p95 ms | p99 ms "
        "| service/baseline |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        ratio = ""
        baseline = by_key.get(("baseline", result.concurrency))
        if result.server.startswith("service") and baseline and baseline.sentences_per_s:
            ratio = f" {result.sentences_per_s / baseline.sentences_per_s:.1f}x |"
        lines.append(_row(result) + (ratio or " |"))
    lines.append("")
    lines.append("| server | cold start to ready | peak RSS |")
    lines.append("|---|---|---|")
    for server, server_stats in stats.items():
        lines.append(f"| {server} | {server_stats.cold_start_s:.1f} s | {server_stats.peak_rss_mb:.0f} MB |")
    lines.append(
        f"| service, cache on | {cache_stats.cold_start_s:.1f} s | {cache_stats.peak_rss_mb:.0f} MB |"
    )
    first_ms, edited_ms, cached = resubmit
    lines.append("")
    lines.append(
        f"Re-submitted article with one sentence edited (cache on, median of {plan.resubmit_rounds}): "
        f"first {first_ms:.0f} ms, edited {edited_ms:.0f} ms ({100 * edited_ms / first_ms:.0f}% of the "
        f"first; {cached} sentences from the cache)."
    )
    if worker_rss:
        per_worker = ", ".join(f"{mb:.0f}" for mb in worker_rss)
        lines.append(f"`uvicorn --workers {len(worker_rss)}`: resident memory per worker {per_worker} MB.")
    return "\n".join(lines)


def describe_machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown CPU"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    # Other jobs on the same cores skew every number; the load average says how busy the machine was.
    return (
        f"{os.cpu_count()} CPU cores ({model}), Python {platform.python_version()}, load average {load:.1f}"
    )


def _cpuinfo() -> list[str]:
    path = Path("/proc/cpuinfo")
    return path.read_text().splitlines() if path.is_file() else []


def write_results(doc: Path, command: str, machine: str, table: str) -> None:
    block = (
        f"{START_MARK}\n"
        f"Printed by `{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {machine}.\n\n"
        f"{table}\n{END_MARK}"
    )
    text = doc.read_text() if doc.is_file() else f"# Performance\n\n{START_MARK}\n{END_MARK}\n"
    if START_MARK not in text:
        text = f"{text.rstrip()}\n\n{START_MARK}\n{END_MARK}\n"
    head, rest = text.split(START_MARK, 1)
    tail = rest.split(END_MARK, 1)[1]
    doc.write_text(head + block + tail)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--levels", default="1,8,16,32", help="concurrency levels (default 1,8,16,32)")
    parser.add_argument("--requests", type=int, default=200, help="most articles per level (default 200)")
    parser.add_argument("--seconds", type=float, default=30, help="most seconds per level (default 30)")
    parser.add_argument("--sentences", type=int, default=40, help="sentences per article (default 40)")
    parser.add_argument("--resubmit-rounds", type=int, default=10, help="edited re-submissions (default 10)")
    parser.add_argument(
        "--workers", type=int, default=2, help="uvicorn workers to weigh; 0 skips (default 2)"
    )
    parser.add_argument(
        "--other-model",
        action="append",
        default=[],
        metavar="NAME",
        help="also drive the service with CLAIMSIFT_ADAPTED_MODEL=NAME (repeatable; run `claimsift prepare` "
        "with that setting first)",
    )
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("--smoke", action="store_true", help="tiny counts, to check the code runs (CI)")
    args = parser.parse_args(argv)
    plan = Plan(
        levels=[int(level) for level in args.levels.split(",")],
        max_requests=args.requests,
        max_seconds=args.seconds,
        sentences_per_article=args.sentences,
        resubmit_rounds=args.resubmit_rounds,
        workers=args.workers,
        other_models=args.other_model,
    )
    if args.smoke:
        plan = Plan(
            levels=[1, 2],
            max_requests=2,
            max_seconds=10,
            sentences_per_article=5,
            resubmit_rounds=1,
            workers=0,
        )
    table = run(plan)
    print(table)
    if args.write:
        command = (
            "make bench"
            if argv is None and os.environ.get("MAKELEVEL")
            else " ".join(["python -m bench.run", *sys.argv[1:]])
        )
        write_results(args.write, command, describe_machine(), table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
