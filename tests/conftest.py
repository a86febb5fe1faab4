"""Shared fixtures: the real default model, the real lifespan, real `claimsift serve` processes, a tiny
NLI model built on the spot, and the one test backend for faults (``tests.faulty``)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from claimsift_client import AsyncClaimsiftClient
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.model.loader import load_backend
from app.model.types import Backend
from app.settings import Settings
from bench import serving as bench_serving
from tests.faulty import FaultyBackend

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """A file of ../shared/data; where it is absent, a skip that says why, or a failure under CI=true."""
    path = SHARED_DATA / name
    if not path.is_file():
        reason = f"{path} is absent: the shared development data is not beside this checkout"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: tests that need it must run, not skip)")
        pytest.skip(reason)
    return path


async def started_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A raw HTTP client of ``app``, once the app's lifespan has loaded the model (the client's wait)."""
    async with LifespanManager(app, startup_timeout=120, shutdown_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with AsyncClaimsiftClient("http://claimsift.test", transport=transport) as claims:
            await claims.wait_ready(interval_s=0.05)
        async with httpx.AsyncClient(transport=transport, base_url="http://claimsift.test") as client:
            yield client


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with the real default model, through its lifespan, over ASGI."""
    async for started in started_client(create_app(settings)):
        yield started


@pytest.fixture(scope="session")
def tiny_nli_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real (random-weight) BERT NLI model with entailment/neutral/contradiction heads, built locally."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-nli")
    words = [
        "the",
        "a",
        "is",
        "was",
        "this",
        "sentence",
        "fact",
        "claim",
        "said",
        "should",
        "must",
        "will",
        "good",
        "bad",
        "it",
        "council",
        "voted",
    ]
    vocab = {token: i for i, token in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    tokenizer = BertTokenizer(vocab=vocab)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        initializer_range=1.0,  # the default 0.02 makes every score exactly 1/3
        id2label={0: "entailment", 1: "neutral", 2: "contradiction"},
        label2id={"entailment": 0, "neutral": 1, "contradiction": 2},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """`claimsift ARGS` as a real process (from the repo root unless ``cwd``), ``env`` added to this one's."""
    # This checkout's code first on the path, also when the command runs in another folder.
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[tuple[str, Popen[bytes]]]:
    """A real `claimsift serve` process on a free loopback port, with ``env`` added and its output in
    ``log``; yields its base URL and process once ready, and stops it (SIGTERM) on the way out."""
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)]
    output = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "CLAIMSIFT_LOG_LEVEL": "warning", **(env or {})},
        stdout=output,
        stderr=output,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        bench_serving.wait_ready(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)
        if output is not None:
            output.close()


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real `claimsift serve` process with the default settings; yields its base URL."""
    with serving() as (url, _):
        yield url


@pytest.fixture(scope="session")
def real_backend() -> Backend:
    """The default model, loaded once for every test that wraps it (``FaultyBackend``) or drives it."""
    return load_backend(Settings())


@pytest.fixture
def faulty(real_backend: Backend) -> FaultyBackend:
    return FaultyBackend(real_backend)


async def start(faulty: FaultyBackend, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on ``faulty``, with ``settings`` over the defaults; a raw client once it is ready."""
    async for client in started_client(create_app(Settings(**settings), faulty.loader)):
        yield client


def unique_sentences(count: int) -> list[str]:
    """Sentences no cache has seen, so each one really reaches the model."""
    run = uuid.uuid4().hex[:8]
    return [f"Report {run} number {i} says the council voted on Monday." for i in range(count)]


def metric(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus exposition (AssertionError when it is absent)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"{name} {labels} not in /metrics")
