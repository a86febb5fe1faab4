"""Distillation: a teacher model's scores over the unlabelled real-text pool, as soft training targets.

`claimsift train --distil-from NAME` scores ``data/real/pool.jsonl.gz`` (unlabelled sentences from the
real-text set's sources, never labelled, never tested on) with the adapted model ``NAME`` through the
service's fast path (ONNX int8, no fp32 refinement), sentences sorted by length and batched, and trains the
MiniLM student on those scores (softened by a temperature) together with the gold rows (hard labels).

The teacher's scores are cached in ``models/cache/distil/`` in a file named by the teacher's version
(which follows its weights and head), the pool file's sha256 and the token window, so a rerun, or a run
with a larger ``--pool-limit``, scores only what is not there yet.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from app.model.encoder import file_digest
from app.model.types import DEFAULT_LABELS, Backend

DEFAULT_POOL = Path("data/real/pool.jsonl.gz")
# The custom-label benchmark draws 160 test sentences and 20 examples from the pool: never trained on.
CUSTOM_BENCHMARK = Path("data/custom")
CACHE_DIR = Path("models/cache/distil")
TEACHER_BATCH = 64  # sentences per teacher call; they are length-sorted, so padding stays small
SAVE_EVERY = 4096  # pool sentences scored between two writes of the cache


@dataclass(frozen=True)
class SoftTargets:
    """Pool sentences and the teacher's probabilities for them (rows in ``DEFAULT_LABELS`` order)."""

    texts: list[str]
    probabilities: NDArray[np.float32]
    teacher: str
    teacher_version: str
    cache_file: Path
    scored_now: int  # how many the teacher scored in this run (the rest came from the cache)
    seconds: float


def missing_pool(pool: Path, limit: int | None) -> str | None:
    """Why distillation cannot start, in one line, or None."""
    if limit is not None and limit < 1:
        return f"--pool-limit must be at least 1 (got {limit})"
    if not pool.is_file():
        return f"no unlabelled pool at {pool} (data/real/pool.jsonl.gz of the repository; or --pool FILE)"
    return None


def benchmark_texts(folder: Path = CUSTOM_BENCHMARK) -> set[str]:
    """The custom-label benchmark's sentences and examples (none when the folder is absent)."""
    texts: set[str] = set()
    if (folder / "sentences.jsonl").is_file():
        lines = (folder / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
        texts |= {json.loads(line)["text"] for line in lines if line.strip()}
    if (folder / "sets.json").is_file():
        sets = json.loads((folder / "sets.json").read_text(encoding="utf-8"))
        texts |= {example for labels in sets.values() for label in labels for example in label["examples"]}
    return texts


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def read_pool(path: Path, limit: int | None, exclude: set[str]) -> list[str]:
    """The pool's distinct sentences not in ``exclude`` (the gold rows), in a fixed order.

    The order is by a hash of the text, so a ``limit`` takes an even sample of every source and
    document rather than the file's first documents.
    """
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        texts = {json.loads(line)["text"] for line in handle if line.strip()}
    ordered = sorted(texts - exclude, key=text_key)
    return ordered[:limit] if limit is not None else ordered


def teacher_backend(name: str, max_length: int, threads: int) -> Backend:
    """The adapted model ``name`` as the service loads it with CLAIMSIFT_ADAPTED_MODEL=name, int8 only.

    Its folder is looked up in CLAIMSIFT_MODELS_DIR (default ``models``), as the service does.
    """
    from app.model.loader import load_backend
    from app.settings import Settings

    settings = Settings(
        model=None,
        backend="embedding",
        adapted_model=name,
        runtime="onnx",
        onnx_refine_margin=0.0,
        onnx_threads=threads,
        max_length=max_length,
    )
    return load_backend(settings)


def score(backend: Backend, texts: Sequence[str], batch_size: int = TEACHER_BATCH) -> NDArray[np.float32]:
    """The backend's default-label probabilities for ``texts``, computed in length-sorted batches."""
    tokens = backend.tokenize(texts)
    order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
    out = np.zeros((len(texts), len(DEFAULT_LABELS.labels)), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        predictions = backend.predict([tokens[i] for i in batch], DEFAULT_LABELS, multi_label=False)
        out[batch] = [prediction.scores for prediction in predictions]
    return out


def cache_file(cache_dir: Path, teacher: str, version: str, pool: Path, max_length: int) -> Path:
    name = f"{teacher.replace('/', '_')}-{version}-pool{file_digest(pool)[:12]}-len{max_length}.json.gz"
    return cache_dir / name


def read_cache(path: Path) -> dict[str, list[float]]:
    if not path.is_file():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        scores: dict[str, list[float]] = json.load(handle)["scores"]
    return scores


def write_cache(path: Path, teacher: str, version: str, scores: dict[str, list[float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    # mtime=0: the same scores give the same bytes.
    with partial.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        payload = {"teacher": teacher, "version": version, "scores": dict(sorted(scores.items()))}
        handle.write(json.dumps(payload).encode())
    partial.replace(path)  # a killed run never leaves a half-written cache


def soft_targets(
    teacher: str,
    pool: Path,
    limit: int | None,
    exclude: set[str],
    max_length: int,
    threads: int,
    cache_dir: Path = CACHE_DIR,
) -> SoftTargets:
    """The teacher's scores for the pool (up to ``limit`` sentences), from the cache where it has them."""
    started = time.perf_counter()
    texts = read_pool(pool, limit, exclude)
    backend = teacher_backend(teacher, max_length, threads)
    version = backend.card.version
    path = cache_file(cache_dir, teacher, version, pool, max_length)
    cached = read_cache(path)
    missing = [text for text in texts if text_key(text) not in cached]
    if missing:
        print(f"teacher {teacher} {version}: scoring {len(missing)} pool sentences", file=sys.stderr)
    # In chunks, each saved when done: a run stopped part-way keeps what it scored.
    for start in range(0, len(missing), SAVE_EVERY):
        chunk = missing[start : start + SAVE_EVERY]
        for text, row in zip(chunk, score(backend, chunk), strict=True):
            cached[text_key(text)] = [round(float(p), 6) for p in row]
        write_cache(path, teacher, version, cached)
        rate = (start + len(chunk)) / (time.perf_counter() - started)
        print(f"teacher: {start + len(chunk)}/{len(missing)} scored ({rate:.0f}/s)", file=sys.stderr)
    probabilities = np.array([cached[text_key(text)] for text in texts], dtype=np.float32)
    seconds = time.perf_counter() - started
    return SoftTargets(texts, probabilities, teacher, version, path, len(missing), seconds)


def softened(probabilities: NDArray[np.float32], temperature: float) -> NDArray[np.float32]:
    """``softmax(log p / T)``: the teacher's distribution at distillation temperature ``T``.

    The teacher's calibrated probabilities are its logits up to a constant, so this is the usual
    softened target without needing the teacher's raw logits.
    """
    logits = np.log(np.clip(probabilities.astype(np.float64), 1e-12, 1.0)) / temperature
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    targets: NDArray[np.float32] = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return targets
