"""What CLAIMSIFT_ONNX_REFINE_MARGIN buys and costs, for the configured model (default: the shipped one).

    python scripts/refine_margin.py [--margins 0,0.05,0.08,0.1,0.15] [FILE ...]

For each JSONL file (default: CheckThat dev and train in ../shared/data), scores every sentence with the
PyTorch path, the int8 model alone and the fp32 model, in batches of 32 in file order as the parity test
does, and prints per margin the label agreement with PyTorch of "int8, with near ties re-scored in fp32"
and the share of sentences that margin sends to the fp32 model (the refinement's cost). Needs the [torch]
extra and a prepared model (`claimsift prepare`). Also prints how fast each ONNX model scored the
files on one thread (a rough ratio of their costs, not a benchmark).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.model.loader import _embedding_backend, load_backend
from app.model.types import Backend, predict_texts
from app.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_FILES = [SHARED / "checkthat_dev.jsonl", SHARED / "checkthat_train.jsonl"]


def scores(backend: Backend, texts: Sequence[str]) -> NDArray[np.float64]:
    labels = backend.default_labels
    rows = [
        p.scores
        for i in range(0, len(texts), 32)
        for p in predict_texts(backend, texts[i : i + 32], labels, False)
    ]
    return np.array(rows, dtype=np.float64)


def timed(backend: Backend, texts: Sequence[str]) -> tuple[NDArray[np.float64], float]:
    started = time.perf_counter()
    result = scores(backend, texts)
    return result, len(texts) / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--margins", default="0,0.05,0.06,0.07,0.08,0.1,0.15")
    args = parser.parse_args(argv)
    margins = [float(m) for m in args.margins.split(",")]
    reference = load_backend(Settings(runtime="torch"))
    int8 = load_backend(Settings(runtime="onnx", onnx_refine_margin=0.0, onnx_threads=1))
    fp32 = _embedding_backend(Settings(runtime="onnx", onnx_threads=1), "fp32")
    print(f"model {reference.card.name} {reference.card.version}")
    speeds: list[str] = []
    print("| file | margin | agreement with PyTorch | sentences re-scored in fp32 |\n|---|---|---|---|")
    for path in args.files:
        texts = [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
        expected = scores(reference, texts).argmax(1)
        quantized, int8_rate = timed(int8, texts)
        exact_scores, fp32_rate = timed(fp32, texts)
        exact = exact_scores.argmax(1)
        speeds.append(f"{path.name}: int8 {int8_rate:.0f}, fp32 {fp32_rate:.0f} sentences/s")
        top_two = np.sort(quantized, axis=1)[:, -2:]
        gap = top_two[:, 1] - top_two[:, 0]
        for margin in margins:
            labels = np.where(gap < margin, exact, quantized.argmax(1))
            agreement = np.mean(labels == expected)
            print(
                f"| {path.name} ({len(texts)}) | {margin:g} | {agreement:.4f} | {np.mean(gap < margin):.1%} |"
            )
    print("one thread, batches of 32 in file order: " + "; ".join(speeds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
