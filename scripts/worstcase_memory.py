"""Worst-case memory: the largest requests the limits allow, 8 at once, against one real worker.

    python scripts/worstcase_memory.py                   # every case, 45 s each, 8 clients
    python scripts/worstcase_memory.py --cases classify --seconds 20

Each case starts a fresh `claimsift serve` (default settings, plus any CLAIMSIFT_* in the environment)
and keeps 8 clients (--clients) sending the same kind of maximal request back to back for the case's
time, so the worker always holds 8 of them: parsed bodies, segmented documents, queued sentences,
batches, responses. A 429 (queue full) is retried after its Retry-After, as a client would. The peak
is the kernel's high-water mark of the worker's resident memory (VmHWM in /proc/PID/status, Linux), so
no short spike is missed between samples. Prints a table and a last line ``RESULT {json}``; exits 1
when a case's peak reaches --limit-mb (default 1024, the container's memory limit), or a request got a
5xx other than the deadline's 504 or no answer at all. (A 504 is the designed answer to a request that
needs more inference than the deadline allows; the table shows how many there were, and the slowest
200.)

The cases (defaults: 2 MB body, 100,000 characters, 2,048 sentences, 512 blocks, 256-token window):
  classify    /v1/classify with 2,048 distinct sentences of over 256 tokens each (1.3 MB of JSON)
  blocks      /v1/extract with 512 blocks, 100,000 characters, 2,048 sentences in all
  html-deep   /v1/extract, HTML nested 9,500 elements deep holding 100,000 characters of text
  html-wide   /v1/extract, 1.9 MB of HTML (near the body limit), 30,000 elements, 100,000 characters
              of text
  mixed       the four above, two clients each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: reach the bench and scripts packages beside it

from bench.serving import wait_ready  # noqa: E402
from scripts.loadtest import free_port, start_server  # noqa: E402

MAX_SENTENCES = 2048
MAX_CHARS = 100_000
MAX_BLOCKS = 512
_WORDS = ["council", "voted", "report", "budget", "minister", "police", "bank", "rates", "school", "court"]


def _sentence(rng: random.Random, serial: str, chars: int) -> str:
    """A plain sentence of ``chars`` characters that no other call returns."""
    words = f"Item {serial}".split()
    while len(" ".join(words)) < chars:
        words.append(rng.choice(_WORDS))
    while len(" ".join(words)) > chars - 1:
        words.pop()
    short = chars - 1 - len(" ".join(words))
    # Lengthen the last word to fit: ending on a one-letter word would read as an initial ("J. Smith").
    words[-1] += "s" * short
    return " ".join(words) + "."


def classify_body(rng: random.Random, client: int) -> dict[str, Any]:
    # Single letters are one token each: 300 of them pass the 256-token window in ~600 characters.
    def long_sentence(i: int) -> str:
        letters = " ".join(rng.choice(string.ascii_lowercase) for _ in range(300))
        return f"Case {client}-{i} {letters}."

    return {"sentences": [long_sentence(i) for i in range(MAX_SENTENCES)]}


def blocks_body(rng: random.Random, client: int) -> dict[str, Any]:
    per_block = MAX_SENTENCES // MAX_BLOCKS
    chars = MAX_CHARS // MAX_SENTENCES - 1  # 48, and a space between sentences
    blocks = [
        {
            "id": f"b{b}",
            "text": " ".join(_sentence(rng, f"{client}-{b}-{s}", chars) for s in range(per_block)),
        }
        for b in range(MAX_BLOCKS)
    ]
    return {"blocks": blocks}


def html_deep_body(rng: random.Random, client: int) -> dict[str, Any]:
    chars = MAX_CHARS // MAX_SENTENCES - 2  # 46, and a blank line between paragraphs
    depth = 9_500  # the parser guard's budget (10^8 scope steps) allows about 10,000 levels
    texts = [_sentence(rng, f"{client}-{i}", chars) for i in range(MAX_SENTENCES)]
    # One sentence opens each of the first 2,048 levels; the rest nest empty below them.
    opening = "".join(f"<div>{texts[i]}" if i < len(texts) else "<div>" for i in range(depth))
    return {"format": "html", "text": f"<html><body>{opening}{'</div>' * depth}</body></html>"}


def html_wide_body(rng: random.Random, client: int) -> dict[str, Any]:
    chars = MAX_CHARS // MAX_SENTENCES - 2
    padding = "x" * 650  # attribute bytes that bring the markup to the 2 MB body limit
    paragraphs = []
    for i in range(MAX_SENTENCES):
        words = _sentence(rng, f"{client}-{i}", chars).split(" ")
        spans = " ".join(f'<span class="w"><b>{word}</b></span>' for word in words[:18])
        paragraphs.append(f'<p data-pad="{padding}">{spans}</p>')
    return {"format": "html", "text": f"<html><body><article>{''.join(paragraphs)}</article></body></html>"}


BodyMaker = Callable[[random.Random, int], dict[str, Any]]
CASES: dict[str, tuple[str, BodyMaker]] = {
    "classify": ("/v1/classify", classify_body),
    "blocks": ("/v1/extract", blocks_body),
    "html-deep": ("/v1/extract", html_deep_body),
    "html-wide": ("/v1/extract", html_wide_body),
}


def vm_kb(pid: int, field: str) -> int:
    """A memory line of /proc/PID/status (VmRSS: now, VmHWM: the peak so far), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


@dataclass
class Outcomes:
    statuses: Counter[str] = field(default_factory=Counter)
    slowest_ok_s: float = 0.0


async def client_loop(
    http: httpx.AsyncClient, route: str, body: bytes, stop_at: float, outcomes: Outcomes
) -> None:
    headers = {"Content-Type": "application/json"}
    while time.monotonic() < stop_at:
        started = time.monotonic()
        try:
            response = await http.post(route, content=body, headers=headers)
        except httpx.HTTPError as exc:
            outcomes.statuses[type(exc).__name__] += 1
            continue
        outcomes.statuses[str(response.status_code)] += 1
        if response.status_code == 200:
            outcomes.slowest_ok_s = max(outcomes.slowest_ok_s, time.monotonic() - started)
        if response.status_code == 429:
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def drive(base: str, plan: list[tuple[str, bytes]], seconds: float) -> Outcomes:
    outcomes = Outcomes()
    limits = httpx.Limits(max_connections=len(plan), keepalive_expiry=2)
    async with httpx.AsyncClient(base_url=base, timeout=900, limits=limits) as http:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(client_loop(http, route, body, stop_at, outcomes) for route, body in plan))
    return outcomes


def build_plan(case: str, clients: int, seed: int) -> list[tuple[str, bytes]]:
    """(route, JSON body) for each client; distinct bodies, so the cache answers nothing."""
    rng = random.Random(seed)
    kinds = [list(CASES)[n % len(CASES)] for n in range(clients)] if case == "mixed" else [case] * clients
    plan = []
    for client, kind in enumerate(kinds):
        route, make = CASES[kind]
        plan.append((route, json.dumps(make(rng, client)).encode()))
    return plan


def run_case(case: str, clients: int, seconds: float) -> dict[str, Any]:
    plan = build_plan(case, clients, seed=len(case))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port)
    try:
        wait_ready(base, server)
        ready_kb = vm_kb(server.pid, "VmRSS")
        outcomes = asyncio.run(drive(base, plan, seconds))
        peak_kb = vm_kb(server.pid, "VmHWM")
        after_kb = vm_kb(server.pid, "VmRSS")
    finally:
        server.terminate()
        server.wait(timeout=60)
    return {
        "case": case,
        "body_mb": round(max(len(body) for _, body in plan) / 1e6, 2),
        "ready_mb": round(ready_kb / 1024, 1),
        "peak_mb": round(peak_kb / 1024, 1),
        "after_mb": round(after_kb / 1024, 1),
        "statuses": dict(sorted(outcomes.statuses.items())),
        "slowest_200_s": round(outcomes.slowest_ok_s, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=[*CASES, "mixed"], default=[*CASES, "mixed"])
    parser.add_argument("--clients", type=int, default=8, help="requests at once (default 8)")
    parser.add_argument("--seconds", type=float, default=45, help="per case (default 45)")
    parser.add_argument("--limit-mb", type=float, default=1024, help="peak RSS bound (default 1024)")
    args = parser.parse_args()
    overrides = {k: v for k, v in sorted(os.environ.items()) if k.startswith("CLAIMSIFT_")}
    print(f"{args.clients} clients per case, {args.seconds:g} s each; settings: defaults + {overrides}")
    columns = ("body MB", "ready MB", "peak MB", "after MB", "slowest 200")
    print(f"{'case':10} " + " ".join(f"{column:>9}" for column in columns) + "  statuses")
    results, failures = [], []
    for case in args.cases:
        result = run_case(case, args.clients, args.seconds)
        results.append(result)
        print(
            f"{case:10} {result['body_mb']:9.2f} {result['ready_mb']:9.1f} {result['peak_mb']:9.1f} "
            f"{result['after_mb']:9.1f} {result['slowest_200_s']:9.1f}s  {result['statuses']}",
            flush=True,
        )
        if result["peak_mb"] >= args.limit_mb:
            failures.append(f"{case}: peak {result['peak_mb']} MB reaches {args.limit_mb:g} MB")
        unexpected = {s: n for s, n in result["statuses"].items() if s not in {"200", "429", "504"}}
        if unexpected:
            failures.append(f"{case}: unexpected answers {unexpected}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print("RESULT " + json.dumps(results))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
