"""Soak: one real `claimsift serve` worker under a realistic mix for a long time (default 10 minutes).

    python scripts/soak.py                     # 10 minutes, 8 clients
    python scripts/soak.py --minutes 2 --clients 4

Not a test: a command whose figures go in docs/reliability.md. Each client sends, back to back:

  new article       25%  /v1/extract, 20-40 sentences from the team's news set (data/news), each made
                         unique with a reference number, so the cache cannot answer them
  re-submitted      30%  an article this client sent before, with one or two sentences edited
  HTML page         15%  a new article inside page markup (navigation, script, header, footer, aside)
  custom labels     10%  an article scored against one of three custom label sets
  sentences          5%  /v1/classify with 5-30 sentences
  bad request       10%  invalid JSON, unknown field, empty text, 17 labels, wrong media type, bad
                         threshold, blocks and text together: each must get its 4xx
  disconnect         5%  a new article whose client hangs up 5-150 ms after sending it

Every minute it prints the worker's RSS (at the minute's end, and the peak), p50/p95/p99 latency of the
200s, answers by status and error code, and the sentence cache's entries and bytes (from /metrics). It
exits 1 when a request got a 5xx or no answer (other than the deliberate hang-ups), a bad request got
anything but a 4xx, a good one anything but a 200 or 429, RSS grew 5% or more between the end of the
first minute and the end of the run, or p99 was unsteady (a minute after the first over twice the
median of those minutes' p99). The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: reach the bench and scripts packages beside it

from bench.serving import wait_ready  # noqa: E402
from scripts.loadtest import free_port, start_server  # noqa: E402

MAX_RSS_GROWTH_PCT = 5.0
MAX_P99_SPREAD = 2.0
LABEL_SETS = [
    [
        {"name": "claim", "description": "a statement that can be checked against evidence"},
        {"name": "opinion", "description": "a personal view or judgement"},
    ],
    [
        {"name": "question", "description": "a question asked to the reader"},
        {"name": "quote", "description": "words attributed to a named person"},
        {"name": "number", "description": "a statement built on a statistic or a figure"},
    ],
    [
        {"name": "economy", "description": "money, prices, jobs or budgets"},
        {"name": "politics", "description": "elections, parties, councils or governments"},
        {"name": "health", "description": "illness, hospitals or medicine"},
        {"name": "other", "description": "anything else"},
    ],
]
JSON = {"Content-Type": "application/json"}


def news_documents() -> list[list[str]]:
    """The team's news set (data/news/part*.jsonl), one list of sentences per source document."""
    documents: dict[str, list[str]] = defaultdict(list)
    for path in sorted((REPO / "data" / "news").glob("part*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            documents[row["doc"]].append(row["text"])
    return list(documents.values())


@dataclass
class Writer:
    """One client's source of articles: new ones, and its own recent ones to re-submit as drafts."""

    documents: list[list[str]]
    rng: random.Random
    serial: str
    count: int = 0
    recent: list[list[str]] = field(default_factory=list)

    def new_article(self) -> list[str]:
        self.count += 1
        sentences: list[str] = []
        while len(sentences) < self.rng.randint(20, 40):
            sentences += self.rng.choice(self.documents)
        ref = f"{self.serial}-{self.count}"
        article = [_numbered(sentence, f"{ref}.{i}") for i, sentence in enumerate(sentences)]
        self.recent = [*self.recent[-4:], article]
        return article

    def draft(self) -> list[str]:
        if not self.recent:
            return self.new_article()
        article = list(self.rng.choice(self.recent))
        for _ in range(self.rng.randint(1, 2)):
            i = self.rng.randrange(len(article))
            article[i] = _numbered(article[i], f"edit {self.rng.randrange(10**6)}")
        return article


def _numbered(sentence: str, ref: str) -> str:
    body, end = (sentence[:-1], sentence[-1]) if sentence[-1:] in ".!?" else (sentence, ".")
    return f"{body} (ref. {ref}){end}"


def html_page(article: list[str]) -> str:
    paragraphs = "".join(f"<p>{sentence}</p>" for sentence in article)
    return (
        "<!doctype html><html><head><title>Local news</title><script>var ads = [];</script>"
        "<style>p { margin: 0 }</style></head><body>"
        '<nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>'
        "<header><h1>The Harwick Courier</h1></header>"
        f"<main><article><h2>{article[0]}</h2>{paragraphs}</article></main>"
        '<aside class="related">Read more: the budget in numbers.</aside>'
        "<footer>Copyright the Courier. All rights reserved.</footer></body></html>"
    )


BAD_REQUESTS: list[tuple[str, bytes, dict[str, str]]] = [
    ("/v1/extract", b'{"text": "The council met.', JSON),
    ("/v1/extract", json.dumps({"text": "The council met.", "colour": "red"}).encode(), JSON),
    ("/v1/extract", json.dumps({"text": ""}).encode(), JSON),
    (
        "/v1/extract",
        json.dumps(
            {"text": "It rained.", "labels": [{"name": f"l{i}", "description": "a label"} for i in range(17)]}
        ).encode(),
        JSON,
    ),
    ("/v1/extract", b"The council met.", {"Content-Type": "text/plain"}),
    ("/v1/classify", json.dumps({"sentences": ["It rained."], "threshold": 2}).encode(), JSON),
    ("/v1/extract", json.dumps({"text": "A.", "blocks": [{"id": "1", "text": "B."}]}).encode(), JSON),
]


@dataclass
class Minute:
    latencies: list[float] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)  # "200", "429 overloaded", "disconnected", ...
    failures: Counter[str] = field(default_factory=Counter)
    rss_mb: list[float] = field(default_factory=list)
    cache_entries: int = 0
    cache_mb: float = 0.0


class Soak:
    def __init__(self, base: str, pid: int, minutes: float, clients: int) -> None:
        self.base = base
        self.process = psutil.Process(pid)
        self.seconds = minutes * 60
        self.clients = clients
        self.documents = news_documents()
        self.minutes: list[Minute] = [Minute() for _ in range(max(1, round(minutes + 0.4999)))]
        self.started = 0.0

    def minute(self) -> Minute:
        index = int((time.monotonic() - self.started) // 60)
        return self.minutes[min(index, len(self.minutes) - 1)]

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.clients + 2, keepalive_expiry=2)
        async with httpx.AsyncClient(base_url=self.base, timeout=120, limits=limits) as http:
            self.started = time.monotonic()
            stop_at = self.started + self.seconds
            watcher = asyncio.create_task(self.watch(http, stop_at))
            await asyncio.gather(*(self.client(http, c, stop_at) for c in range(self.clients)))
            await watcher

    async def client(self, http: httpx.AsyncClient, number: int, stop_at: float) -> None:
        rng = random.Random(number)
        writer = Writer(self.documents, rng, serial=str(number))
        kinds: list[Callable[[httpx.AsyncClient, Writer, random.Random], Any]] = [
            self.new_article,
            self.draft,
            self.html,
            self.custom_labels,
            self.sentences,
            self.bad_request,
            self.disconnect,
        ]
        weights = [25, 30, 15, 10, 5, 10, 5]
        while time.monotonic() < stop_at:
            await rng.choices(kinds, weights)[0](http, writer, rng)

    async def new_article(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        await self.send(http, "/v1/extract", {"text": " ".join(writer.new_article())})

    async def draft(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        await self.send(http, "/v1/extract", {"text": " ".join(writer.draft())})

    async def html(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        await self.send(http, "/v1/extract", {"text": html_page(writer.new_article()), "format": "html"})

    async def custom_labels(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        article = writer.draft() if rng.random() < 0.5 else writer.new_article()
        await self.send(http, "/v1/extract", {"text": " ".join(article), "labels": rng.choice(LABEL_SETS)})

    async def sentences(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        await self.send(http, "/v1/classify", {"sentences": writer.draft()[: rng.randint(5, 30)]})

    async def bad_request(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        route, body, headers = rng.choice(BAD_REQUESTS)
        minute = self.minute()
        try:
            response = await http.post(route, content=body, headers=headers)
        except httpx.HTTPError as exc:
            minute.failures[f"bad request: {type(exc).__name__}"] += 1
            return
        answer = _answer(response)
        minute.answers[answer] += 1
        if not 400 <= response.status_code < 500:
            minute.failures[f"bad request answered {answer}"] += 1

    async def disconnect(self, http: httpx.AsyncClient, writer: Writer, rng: random.Random) -> None:
        payload = {"text": " ".join(writer.new_article())}
        try:
            await asyncio.wait_for(http.post("/v1/extract", json=payload), timeout=rng.uniform(0.005, 0.15))
        except TimeoutError:
            self.minute().answers["disconnected"] += 1  # the client left; httpx closed the connection
            return
        except httpx.HTTPError as exc:
            self.minute().failures[f"disconnect: {type(exc).__name__}"] += 1
            return
        self.minute().answers["answered before the hang-up"] += 1

    async def send(self, http: httpx.AsyncClient, route: str, payload: dict[str, Any]) -> None:
        started = time.monotonic()
        try:
            response = await http.post(route, json=payload)
        except httpx.HTTPError as exc:
            self.minute().failures[type(exc).__name__] += 1
            return
        minute = self.minute()
        answer = _answer(response)
        minute.answers[answer] += 1
        if response.status_code == 200:
            minute.latencies.append(time.monotonic() - started)
        elif response.status_code == 429:
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
        else:
            minute.failures[f"good request answered {answer}"] += 1

    async def watch(self, http: httpx.AsyncClient, stop_at: float) -> None:
        """RSS every second; the cache's size from /metrics every 10 s (the last one in a minute counts)."""
        tick = 0
        shown = self.minutes[0]
        while time.monotonic() < stop_at:
            minute = self.minute()
            if minute is not shown:  # a minute is over: a line on stderr, so a long run shows progress
                row = _minute_row(self.minutes.index(shown) + 1, shown)
                print(f"minute {row['minute']}: {row}", file=sys.stderr, flush=True)
                shown = minute
            minute.rss_mb.append(self.process.memory_info().rss / 2**20)
            if tick % 10 == 0 or time.monotonic() + 1 >= stop_at:
                metrics = (await http.get("/metrics")).text
                minute.cache_entries = int(_metric(metrics, "claimsift_cache_entries"))
                minute.cache_mb = _metric(metrics, "claimsift_cache_bytes") / 2**20
            tick += 1
            await asyncio.sleep(1)

    def summary(self) -> dict[str, Any]:
        rows = [_minute_row(n, minute) for n, minute in enumerate(self.minutes, start=1) if minute.rss_mb]
        failures: Counter[str] = Counter()
        answers: Counter[str] = Counter()
        for minute in self.minutes:
            failures.update(minute.failures)
            answers.update(minute.answers)
        first_rss, last_rss = rows[0]["rss_mb"], rows[-1]["rss_mb"]
        later_p99 = [row["p99_ms"] for row in rows[1:] if row["ok"]]
        median_p99 = statistics.median(later_p99) if later_p99 else 0.0
        return {
            "minutes": rows,
            "answers": dict(answers.most_common()),
            "failures": dict(failures),
            "rss_growth_pct": round(100 * (last_rss - first_rss) / first_rss, 2),
            "p99_spread": round(max(later_p99) / median_p99, 2) if median_p99 else 0.0,
        }


def _answer(response: httpx.Response) -> str:
    if response.status_code == 200:
        return "200"
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "no error body"
    return f"{response.status_code} {code}"


def _metric(exposition: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", exposition, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _minute_row(number: int, minute: Minute) -> dict[str, Any]:
    latencies = sorted(minute.latencies) or [0.0]

    def quantile(q: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * q))], 1)

    return {
        "minute": number,
        "requests": sum(minute.answers.values()) + sum(minute.failures.values()),
        "ok": len(minute.latencies),
        "p50_ms": quantile(0.5),
        "p95_ms": quantile(0.95),
        "p99_ms": quantile(0.99),
        "rss_mb": round(minute.rss_mb[-1], 1),
        "rss_peak_mb": round(max(minute.rss_mb), 1),
        "cache_entries": minute.cache_entries,
        "cache_mb": round(minute.cache_mb, 1),
        "not_200": dict(sorted((k, v) for k, v in minute.answers.items() if k != "200")),
    }


def report(result: dict[str, Any]) -> list[str]:
    print(
        f"{'min':>3} {'requests':>8} {'200s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'RSS MB':>7} {'peak MB':>7} {'cache':>6} {'cache MB':>8}  other answers"
    )
    for row in result["minutes"]:
        print(
            f"{row['minute']:3} {row['requests']:8} {row['ok']:6} {row['p50_ms']:7.1f} {row['p95_ms']:7.1f} "
            f"{row['p99_ms']:7.1f} {row['rss_mb']:7.1f} {row['rss_peak_mb']:7.1f} {row['cache_entries']:6} "
            f"{row['cache_mb']:8.1f}  {row['not_200']}"
        )
    print(f"answers (whole run): {result['answers']}")
    print(f"RSS growth from the end of minute 1 to the end: {result['rss_growth_pct']:+.2f}%")
    print(f"p99 spread (worst minute after the first / their median): {result['p99_spread']}")
    failures = [f"{what}: {count}" for what, count in result["failures"].items()]
    if result["rss_growth_pct"] >= MAX_RSS_GROWTH_PCT:
        failures.append(f"RSS grew {result['rss_growth_pct']}% (bound {MAX_RSS_GROWTH_PCT}%)")
    if result["p99_spread"] > MAX_P99_SPREAD:
        failures.append(f"p99 unsteady: spread {result['p99_spread']} (bound {MAX_P99_SPREAD})")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="how long (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        wait_ready(base, server)
        soak = Soak(base, server.pid, args.minutes, args.clients)
        asyncio.run(soak.run())
    finally:
        server.terminate()
        server.wait(timeout=60)
    result = soak.summary()
    failures = report(result)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("RESULT " + json.dumps(result))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
