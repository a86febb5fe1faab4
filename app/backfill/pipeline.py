"""`claimsift backfill SOURCE --out DIR`: the Ray Data driver.

It plans the shards, recovers DIR from an interrupted run, starts Ray (embedded on this machine, or
joins the cluster at ``--address``), checks the model once on a worker, then streams
read → segment → label → write and counts the committed parts as they come back. The stage code is in
``stages``; the commit protocol in ``store``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from app.backfill import stages
from app.backfill.source import SourceError, count_shard_records, plan_shards
from app.backfill.store import OutputDir, OutputLocked
from app.settings import Settings

ADDRESS_ENV = "RAY_ADDRESS"
RAY_LOG = "_ray.log"
# What one classifier actor holds (the int8 and fp32 ONNX exports, tokenizers, the sentence cache):
# about 430 MB measured for a service worker; reserved so Ray never packs more onto a node than fit.
ACTOR_MEMORY_BYTES = 600 * 1024 * 1024
ACTOR_START_TIMEOUT_S = 900


class BackfillError(Exception):
    """The run cannot start or go on (bad option, no cluster, the model does not load); exit status 2."""


@dataclass(frozen=True, slots=True)
class Options:
    source: Path
    out: Path
    address: str | None
    workers: int | None
    part_docs: int
    progress: bool
    wait_s: float


@dataclass(slots=True)
class Totals:
    documents: int = 0
    sentences: int = 0
    errors: int = 0
    skipped: int = 0
    parts: int = 0
    nodes: Counter[str] = field(default_factory=Counter)
    model_check_s: float = 0.0  # one model load on a worker, before the pool starts
    pipeline_s: float = 0.0  # from building the dataset to the last committed part

    def add(self, part: dict[str, Any]) -> None:
        self.documents += part["documents"]
        self.sentences += part["sentences"]
        self.errors += part["errors"]
        self.skipped += part["skipped"]
        self.parts += bool(part["part"])
        self.nodes.update(json.loads(part["nodes"]))


def run(options: Options, settings: Settings) -> int:
    try:
        return _run(options, settings)
    except (SourceError, OutputLocked, BackfillError) as exc:
        print(f"claimsift backfill: {exc}", file=sys.stderr)
        return 2


def _run(options: Options, settings: Settings) -> int:
    begun = time.perf_counter()
    address = options.address or os.environ.get(ADDRESS_ENV) or None
    if address and address.startswith("ray://"):
        raise BackfillError(
            "Ray Client addresses (ray://) cannot run Ray Data pipelines; run this command on a node of "
            "the cluster with --address auto, or submit it with `ray job submit -- claimsift backfill ...`"
        )
    shards = plan_shards(options.source)
    total = count_shard_records(shards)
    out = OutputDir(options.out.resolve())
    with out.locked():
        removed = out.recover()
        replaced = out.compact()  # a run killed while compacting leaves an id in two parts
        if removed or replaced:
            print(
                f"claimsift backfill: recovered {out.root}: {removed} uncommitted file(s) removed",
                file=sys.stderr,
            )
        with _ray_log(out.root / RAY_LOG) as terminal, _ray(address, options, settings) as started:
            ray_settings, workers, threads = started
            totals, model = _execute(out, shards, total, options, ray_settings, workers, threads, terminal)
        replaced = out.compact()
        summary = _summary(totals, replaced, model, workers, address, time.perf_counter() - begun)
        out.add_run(summary)
    _print_summary(summary, out.root)
    return 0


# --- Ray --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _ray_log(path: Path) -> Iterator[TextIO]:
    """Send what Ray prints (its C++ logs, warnings, workers' errors) to DIR/_ray.log, not the terminal.

    Ray writes to file descriptor 2 from C++ and from processes it starts, so sys.stderr alone cannot
    catch it. Yields the terminal's stderr for the progress bar.
    """
    sys.stderr.flush()
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    saved = os.dup(2)
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            terminal.close()


@contextlib.contextmanager
def _ray(address: str | None, options: Options, settings: Settings) -> Iterator[tuple[Settings, int, int]]:
    """Ray started or joined, and the settings, actor count and threads per actor to use on it."""
    cores = os.cpu_count() or 1
    workers = options.workers or (max(1, cores) if address is None else 2)
    threads = settings.onnx_threads or (max(1, cores // workers) if address is None else 1)
    if address is None:
        # Embedded: everything listens on 127.0.0.1 only, and the workers import this very checkout.
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        package_root = str(Path(__file__).resolve().parents[2])
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
        if settings.models_dir.is_dir():  # relative to here; Ray's workers start elsewhere
            settings = settings.model_copy(update={"models_dir": settings.models_dir.resolve()})
    import ray

    # Logical CPUs: one per ONNX thread of every actor, plus room for the read/segment/write tasks.
    # Fewer and the pool would hold every CPU and the read task could never run (a silent hang).
    cpus_needed = workers * threads + 1
    if address is None:
        _start_embedded(ray, cpus_needed + 1)
    else:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    try:
        _wait_for_cpus(ray, cpus_needed, options.wait_s)
        yield settings.model_copy(update={"onnx_threads": threads}), workers, threads
    finally:
        ray.shutdown()


def _start_embedded(ray: Any, cpus: int, attempts: int = 3) -> None:
    """ray.init on this machine, tried again when its node misses Ray's fixed 30 s start-up window.

    On a machine busy with other work the raylet can take longer than that to register; a second
    start then usually succeeds, and a run that gave up there would have lost nothing but time.
    """
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False
            )
            return
        except Exception as exc:  # Ray raises a bare Exception for this
            ray.shutdown()
            if "timed out during startup" not in str(exc) or attempt == attempts:
                raise BackfillError(f"Ray did not start on this machine: {exc}") from exc
            logging.getLogger(__name__).warning("Ray start-up timed out (attempt %d); trying again", attempt)


def _wait_for_cpus(ray: Any, needed: int, wait_s: float) -> None:
    """Worker nodes join a few seconds after the head: wait for them rather than run on one."""
    deadline = time.monotonic() + wait_s
    while (have := ray.cluster_resources().get("CPU", 0)) < needed:
        if time.monotonic() > deadline:
            raise BackfillError(
                f"the Ray cluster has {have:g} CPUs; {needed} are needed (one per ONNX thread of each "
                f"classifier plus one for the read/write tasks): lower --workers or add nodes"
            )
        time.sleep(0.5)


# --- the pipeline -----------------------------------------------------------------------------------


def _execute(
    out: OutputDir,
    shards: list[Any],
    total: int,
    options: Options,
    settings: Settings,
    workers: int,
    threads: int,
    terminal: TextIO,
) -> tuple[Totals, tuple[str, str]]:
    import ray
    from tqdm import tqdm

    checked = time.perf_counter()
    name, version, labels = _check_model(ray, settings, threads)
    totals = Totals(model_check_s=time.perf_counter() - checked)
    done = frozenset(
        stages.done_key(entry.doc_id, entry.text_sha256)
        for entry in out.ledger()
        if entry.model_version == version and not entry.retry
    )
    started = time.perf_counter()
    dataset = _dataset(ray, shards, ray.put(done), out, settings, workers, threads, labels, options.part_docs)
    with tqdm(total=total, unit="doc", file=terminal, disable=not options.progress, smoothing=0.1) as bar:
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
                for part in batch.to_pylist():
                    totals.add(part)
                    bar.update(part["documents"] + part["errors"] + part["skipped"])
                    bar.set_postfix(sentences=totals.sentences, errors=totals.errors, refresh=False)
        except ray.exceptions.GetTimeoutError as exc:
            raise BackfillError(
                f"{workers} classifier(s) did not start within {ACTOR_START_TIMEOUT_S} s: the cluster lacks "
                f"the CPUs or memory ({ACTOR_MEMORY_BYTES // 2**20} MB each) to place them ({exc})"
            ) from None
    totals.pipeline_s = time.perf_counter() - started
    return totals, (name, version)


def _check_model(ray: Any, settings: Settings, threads: int) -> tuple[str, str, list[str]]:
    """The model card, from one load on a worker: a model that cannot load fails here, clearly, once."""
    check = ray.remote(num_cpus=threads, max_retries=0)(stages.model_card)
    try:
        name, version, labels = ray.get(check.remote(settings))
    except ray.exceptions.RayTaskError as exc:
        raise BackfillError(f"the model does not load on the Ray workers: {exc.cause}") from None
    return name, version, labels


def _dataset(
    ray: Any,
    shards: list[Any],
    done_ref: Any,
    out: OutputDir,
    settings: Settings,
    workers: int,
    threads: int,
    labels: list[str],
    part_docs: int,
) -> Any:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours counts committed articles, not blocks
    context.print_on_execution_start = False
    # Every classifier loaded before the first block goes out: otherwise the first one ready takes
    # a small archive's blocks, and a pool Ray cannot place fails after this long instead of hanging.
    context.wait_for_min_actors_s = ACTOR_START_TIMEOUT_S
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return (
        ray.data.from_items([shard.to_row() for shard in shards], override_num_blocks=len(shards))
        .map_batches(_read, batch_size=1, batch_format="pyarrow", fn_kwargs={"done_ref": [done_ref]})
        .map_batches(stages.segment, batch_format="pyarrow", fn_kwargs={"settings": settings})
        # Ray coalesces a task's output into big blocks, and a block goes to one classifier: cut them.
        .repartition(target_num_rows_per_block=stages.BLOCK_DOCS)
        .map_batches(
            stages.Labeller,
            fn_constructor_kwargs={"settings": settings},
            # two blocks queued per classifier: no idle gap between batches, no hoarding either
            compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=2),
            num_cpus=threads,
            memory=ACTOR_MEMORY_BYTES,  # also keeps Ray from fusing the CPU stages into the actors
            scheduling_strategy="SPREAD",  # one classifier per node before two on one
            batch_size=stages.BLOCK_DOCS,
            batch_format="pyarrow",
        )
        .map_batches(
            stages.write_part,
            batch_size=part_docs,
            batch_format="pyarrow",
            fn_kwargs={"out": out, "run_id": run_id, "labels": labels},
        )
    )


_DONE_CACHE: dict[str, stages.DoneKeys] = {}


def _read(shards: Any, done_ref: list[Any]) -> Iterator[Any]:
    """The read task: the done keys are fetched once per worker process, not once per shard."""
    import ray

    key = done_ref[0].hex()
    if key not in _DONE_CACHE:
        _DONE_CACHE.clear()
        _DONE_CACHE[key] = ray.get(done_ref[0])
    yield from stages.read_shards(shards, _DONE_CACHE[key])


# --- the summary ------------------------------------------------------------------------------------


def _summary(
    totals: Totals, replaced: int, model: tuple[str, str], workers: int, address: str | None, wall_s: float
) -> dict[str, Any]:
    return {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "model_name": model[0],
        "model_version": model[1],
        "cluster": address or "embedded",
        "workers": workers,
        "documents": totals.documents,
        "sentences": totals.sentences,
        "errors": totals.errors,
        "skipped": totals.skipped,
        "replaced": replaced,
        "parts": totals.parts,
        "nodes": dict(totals.nodes),
        "wall_s": round(wall_s, 2),
        "model_check_s": round(totals.model_check_s, 2),
        "pipeline_s": round(totals.pipeline_s, 2),
        "documents_per_s": round(totals.documents / wall_s, 2),
        "sentences_per_s": round(totals.sentences / wall_s, 2),
    }


def _print_summary(summary: dict[str, Any], root: Path) -> None:
    nodes = ", ".join(f"{host} {count}" for host, count in sorted(summary["nodes"].items())) or "-"
    print(
        f"claimsift backfill: {summary['documents']} documents, {summary['sentences']} sentences labelled, "
        f"{summary['errors']} errors (see {root / 'errors'}), {summary['skipped']} already done, "
        f"{summary['replaced']} older rows replaced\n"
        f"  wall time {summary['wall_s']:.1f} s (model check {summary['model_check_s']:.1f} s, pipeline "
        f"{summary['pipeline_s']:.1f} s), {summary['documents_per_s']:.1f} documents/s, "
        f"{summary['sentences_per_s']:.1f} sentences/s, {summary['workers']} classifier(s) on "
        f"{summary['cluster']}, model {summary['model_name']} {summary['model_version']}\n"
        f"  articles labelled per host: {nodes}\n"
        f"  output: {root / 'sentences'}, {root / 'skipped'}, {root / 'documents'}"
    )
