"""A replica lost under load: clients keep getting answers while one replica is killed and restarted.

    python scripts/lost_replica.py --url http://127.0.0.1:8080 --project claimsift-smoke

Run against the compose "scale" profile (nginx in front of 2+ replicas; scripts/docker-smoke.sh --scale
does). For --seconds (60) it keeps --clients (16) clients sending articles through nginx with the
project's Python client (claimsift_client, which retries 503 and connection failures). At --kill-at (10 s)
it `docker kill`s one replica, `docker start`s it 5 s later and times when its /readyz answers 200. The
load goes on until the replica has been ready for 10 s, if that is later than --seconds, but never past
--max-seconds (150): a slow machine may take longer to load the model. It exits 1 unless:

  - every article got exactly one 200, carrying its own sentences, and no client call failed;
  - nginx logged exactly one 200 for each request id (no request lost, none answered twice);
  - the replica was ready again with load left, and nginx sent it requests once it was ready.

Every attempt carries the article's X-Request-ID, so nginx's access log (and the replicas') can be
matched to the client's requests. Loopback and the compose network only; everything stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "clients" / "python" / "src"))  # this checkout's client package

from claimsift_client import AsyncClaimsiftClient, ClientError  # noqa: E402

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("lost_replica_request_id")
# nginx's log line (deploy/nginx/nginx.conf): ... 200 ... upstream=A[, B] ustatus=S[, S] id=ID t=EPOCH
_LB_LINE = re.compile(
    r'"POST /v1/extract [^"]*" (?P<status>\d{3}) .*upstream=(?P<upstream>.*?) ustatus=(?P<ustatus>.*?) '
    r"id=(?P<id>\S+) t=(?P<t>[\d.]+)"
)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Sends every attempt with the calling article's X-Request-ID and records what came back."""

    def __init__(self, attempts: Counter[str]) -> None:
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(keepalive_expiry=2))
        self.attempts = attempts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Request-ID"] = _request_id.get()
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError as exc:
            self.attempts[type(exc).__name__] += 1
            raise
        self.attempts[str(response.status_code)] += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Run:
    ok: Counter[str] = field(default_factory=Counter)  # request id -> 200s the client got
    failures: list[str] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)  # every HTTP attempt, by status or error
    events: dict[str, float] = field(default_factory=dict)  # killed, started, ready: epoch seconds
    stop_at: float = 0.0  # monotonic; the replica's restart may move it later


async def client_loop(url: str, number: int, run: Run) -> None:
    transport = RecordingTransport(run.attempts)
    async with AsyncClaimsiftClient(url, transport=transport, timeout_s=120) as claims:
        serial = 0
        while time.monotonic() < run.stop_at:
            serial += 1
            sentences = [f"Client {number} filed report {serial}.{i} on the bridge." for i in range(8)]
            request_id = f"lost-{number}-{serial}-{uuid.uuid4().hex[:8]}"
            _request_id.set(request_id)
            try:
                result = await claims.extract(" ".join(sentences))
            except ClientError as exc:
                run.failures.append(f"{request_id}: {type(exc).__name__}: {exc}")
                continue
            if [sentence.text for sentence in result.sentences] != sentences:
                run.failures.append(f"{request_id}: the answer holds other sentences")
            run.ok[request_id] += 1


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def replica_ready(container: str) -> bool:
    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
    return (
        subprocess.run(
            ["docker", "exec", container, "python", "-c", probe], capture_output=True, timeout=30, check=False
        ).returncode
        == 0
    )


async def lose_one(container: str, kill_at: float, down_s: float, give_up_at: float, run: Run) -> None:
    """Kill the replica, start it again, note when each happened and when it was ready; the load lasts
    until the replica has served for 10 s."""
    await asyncio.sleep(max(0.0, kill_at - time.monotonic()))
    await asyncio.to_thread(docker, "kill", container)
    run.events["killed"] = time.time()
    await asyncio.sleep(down_s)
    state = await asyncio.to_thread(docker, "inspect", "-f", "{{.State.Status}}", container)
    if state == "running":  # the engine's restart policy brought it back already
        run.events["restarted by the engine"] = time.time()
    else:
        await asyncio.to_thread(docker, "start", container)
    run.events["started"] = time.time()
    planned_stop, run.stop_at = run.stop_at, give_up_at
    while time.monotonic() < give_up_at:
        if await asyncio.to_thread(replica_ready, container):
            run.events["ready"] = time.time()
            run.stop_at = max(planned_stop, time.monotonic() + 10)
            return
        await asyncio.sleep(0.5)


async def drive(args: argparse.Namespace, container: str) -> Run:
    run = Run()
    run.events["began"] = time.time()
    started = time.monotonic()
    run.stop_at = started + args.seconds
    clients = [client_loop(args.url, n, run) for n in range(args.clients)]
    give_up_at = started + args.max_seconds
    await asyncio.gather(lose_one(container, started + args.kill_at, 5.0, give_up_at, run), *clients)
    run.events["load ended"] = time.time()
    return run


def lb_lines(project: str) -> list[dict[str, str]]:
    logs = subprocess.run(
        ["docker", "compose", "-p", project, "logs", "--no-color", "--no-log-prefix", "lb"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    return [match.groupdict() for line in logs.splitlines() if (match := _LB_LINE.search(line))]


def answered_by(lines: list[dict[str, str]], ip: str, after: float) -> int:
    """Requests whose last try went to the replica at ``ip`` after epoch second ``after``."""
    return sum(1 for line in lines if float(line["t"]) > after and line["upstream"].endswith(f"{ip}:8000"))


def check(run: Run, lines: list[dict[str, str]], rejoined: int, seconds_left: float) -> list[str]:
    problems = list(run.failures[:10])
    if len(run.failures) > 10:
        problems.append(f"... and {len(run.failures) - 10} more failed calls")
    if twice := [request_id for request_id, count in run.ok.items() if count != 1]:
        problems.append(f"{len(twice)} articles got more than one 200: {twice[:3]}")
    lb_ok = Counter(
        line["id"] for line in lines if line["status"] == "200" and line["id"].startswith("lost-")
    )
    if set(lb_ok) != set(run.ok):
        problems.append(f"nginx logged 200s for {len(lb_ok)} request ids, the clients got {len(run.ok)}")
    if repeated := [request_id for request_id, count in lb_ok.items() if count > 1]:
        problems.append(f"nginx answered {len(repeated)} request ids with 200 more than once: {repeated[:3]}")
    if "ready" not in run.events:
        problems.append("the restarted replica never answered /readyz 200")
    elif seconds_left < 5:
        problems.append(f"the replica was ready with only {seconds_left:.0f} s of load left")
    elif not rejoined:
        problems.append("nginx sent the restarted replica nothing once it was ready")
    return problems


def report(args: argparse.Namespace, run: Run, lines: list[dict[str, str]], rejoined: int) -> None:
    retried = Counter(line["ustatus"] for line in lines if "," in line["ustatus"])
    seconds = run.events["load ended"] - run.events["began"]
    print(f"{args.clients} clients for {seconds:.0f} s through {args.url}")
    for event, at in sorted(run.events.items(), key=lambda item: item[1]):
        print(f"  {event:24} at {at - run.events['began']:5.1f} s")
    print(f"articles answered 200: {sum(run.ok.values())} ({len(run.ok)} ids), failed: {len(run.failures)}")
    print(f"client attempts by answer: {dict(run.attempts)}")
    print(f"nginx retried on another replica: {sum(retried.values())} requests, by statuses {dict(retried)}")
    print(f"nginx sent the restarted replica {rejoined} requests once it was ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--url", required=True, help="nginx, e.g. http://127.0.0.1:8080")
    parser.add_argument("--project", required=True, help="the compose project name")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-seconds", type=float, default=150, help="the longest run (default 150)")
    parser.add_argument("--kill-at", type=float, default=10, help="seconds into the run (default 10)")
    args = parser.parse_args()
    replicas = docker("compose", "-p", args.project, "ps", "-q", "replica").split()
    if len(replicas) < 2:
        print(f"FAILED: need at least 2 running replicas, found {len(replicas)}")
        return 1
    container = replicas[0]
    address = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    ip_before = docker("inspect", "-f", address, container)
    print(f"losing replica {docker('inspect', '-f', '{{.Name}}', container).lstrip('/')} ({ip_before})")
    run = asyncio.run(drive(args, container))
    ended = time.time()
    ip_after = docker("inspect", "-f", address, container)
    lines = lb_lines(args.project)
    ready = run.events.get("ready", ended)
    rejoined = answered_by(lines, ip_after, ready)
    report(args, run, lines, rejoined)
    problems = check(run, lines, rejoined, ended - ready)
    if ip_after != ip_before:
        problems.append(f"the replica came back on {ip_after}, not {ip_before}: nginx resolves names once")
    for problem in problems:
        print(f"FAILED: {problem}")
    summary: dict[str, Any] = {
        "ok": sum(run.ok.values()),
        "failures": len(run.failures),
        "attempts": dict(run.attempts),
        "events": {event: round(at - run.events["began"], 1) for event, at in run.events.items()},
        "rejoined_requests": rejoined,
    }
    print("RESULT " + json.dumps(summary))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
