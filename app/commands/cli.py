"""The `claimsift` command line: serve | classify | eval | train | prepare, each a thin call below."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.backfill.command import add_commands as add_backfill_commands
from app.errors import ModelLoadError
from app.settings import Settings

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Command = args.command
    try:
        return command(args)
    except ModelLoadError as exc:  # a missing extra, an unfetchable base: one line, not a traceback
        sys.exit(f"claimsift: {exc}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claimsift", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="interface to bind (CLAIMSIFT_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (CLAIMSIFT_PORT, default 8000)")
    serve.add_argument("--backend", choices=["embedding", "nli"], help="CLAIMSIFT_BACKEND")
    serve.add_argument("--model", help="model directory or hub id (CLAIMSIFT_MODEL)")
    serve.set_defaults(command=_serve)
    evaluate = commands.add_parser("eval", help="score a labelled JSONL file (sentences or whole articles)")
    evaluate.add_argument(
        "file",
        type=Path,
        help="JSONL with `text` and `label` (3-class or fact/opinion), or articles with `text` and "
        "`sentences` (data/articles/README.md)",
    )
    evaluate.add_argument(
        "--url", help="a running service to score through /v1/classify (default: in-process)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--no-context",
        action="store_true",
        help="label every sentence alone (request option context: false); default: in its context",
    )
    evaluate.set_defaults(command=_eval)
    _add_classify(commands)
    train = commands.add_parser("train", help="reproduce an adapted model (or cross-validate it)")
    train.add_argument(
        "--model",
        choices=["default", "large"],
        default="default",
        help="default: claimsift-news (MiniLM); large: claimsift-news-large (all-mpnet-base-v2, LoRA)",
    )
    train.add_argument("--cdcp", type=Path, help="CDCP train JSONL (default data/cdcp/cdcp_train.jsonl)")
    train.add_argument("--news", type=Path, help="folder of our news part*.jsonl files (default data/news)")
    train.add_argument(
        "--real", type=Path, help="folder of the real-text part*.jsonl files (default data/real)"
    )
    train.add_argument(
        "--report",
        type=Path,
        action="append",
        help="labelled JSONL to score after training, never trained on; repeatable "
        "(default: ../shared/data/checkthat_dev.jsonl and checkthat_train.jsonl when present)",
    )
    destination = train.add_mutually_exclusive_group()
    destination.add_argument(
        "--out",
        type=Path,
        help="artifact folder to write (default models/trained/claimsift-news, or …-large for --model large)",
    )
    destination.add_argument(
        "--replace",
        action="store_true",
        help="write over the shipped model, models/claimsift-news (or models/claimsift-news-large)",
    )
    train.add_argument("--epochs", type=int, help="passes over the training data (default 2, also for large)")
    train.add_argument("--seed", type=int, help="torch and batch-order seed (default 0)")
    train.add_argument("--max-length", type=int, help="training token window (default 128; large 64)")
    train.add_argument("--news-weight", type=float, help="loss weight of news rows vs CDCP (default 1)")
    train.add_argument("--real-weight", type=float, help="loss weight of real-text rows vs CDCP (default 1)")
    train.add_argument(
        "--no-real-text",
        action="store_true",
        help="the first recipe: no real-text rows, 10%% of CDCP + news documents calibrate "
        "(reproduces the model shipped before issue 12)",
    )
    train.add_argument(
        "--trained-layers",
        type=int,
        help="top transformer layers to fine-tune (large: to adapt), 0 = head only (default 6; large 4)",
    )
    train.add_argument("--lora-rank", type=int, help="LoRA rank on the trained layers, 0 = full (large 16)")
    train.add_argument(
        "--cdcp-percent",
        type=_percent,
        metavar="1..100",
        help="share of CDCP documents trained on, by a hash of their id (default 100; large 25)",
    )
    train.add_argument("--cv", action="store_true", help="5-fold CDCP cross-validation by doc_id instead")
    _add_distillation(train)
    train.set_defaults(command=_train)
    prepare = commands.add_parser(
        "prepare",
        help="fetch the pinned base encoder's files and build the ONNX models the configured model needs, "
        "so that a later start is fast and needs neither torch nor the network",
    )
    prepare.set_defaults(command=_prepare)
    template = commands.add_parser(
        "onnx-template",
        help="write the weight-free ONNX graph template of an encoder architecture (needs [torch])",
    )
    template.add_argument("model_dir", nargs="?", type=Path, help="model folder (default: the pinned base)")
    template.set_defaults(command=_onnx_template)
    add_backfill_commands(commands, load_settings)
    return parser


def _percent(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 100, not {value!r}")
    return int(value)


def _add_distillation(train: Any) -> None:
    train.add_argument(
        "--distil-from",
        metavar="MODEL",
        help="also learn a teacher's scores over the unlabelled pool: an adapted model folder in "
        "models/ (e.g. claimsift-news-large); its scores are cached in models/cache/distil/",
    )
    train.add_argument(
        "--pool", type=Path, help="unlabelled sentences for --distil-from (default data/real/pool.jsonl.gz)"
    )
    train.add_argument(
        "--pool-limit", type=int, help="use only this many pool sentences, an even sample (default all)"
    )
    train.add_argument(
        "--distil-temperature", type=float, help="softens teacher and student on pool rows (default 2)"
    )
    train.add_argument("--distil-weight", type=float, help="loss weight of a pool row vs CDCP (default 1)")


def _add_classify(commands: Any) -> None:
    classify = commands.add_parser(
        "classify",
        help="label articles from files, folders, JSONL or stdin; one JSON line out per article",
        description="Label every article in PATH (a .txt/.md/.html file, a folder searched recursively, "
        'a JSONL file with one {"text", "id"?} object per line) or stdin (-). Every input record '
        "gives one output record, failures included; the exit status is 1 if any failed. "
        "The API key for --url is read from CLAIMSIFT_API_KEY.",
    )
    classify.add_argument("path", help="file, folder, or - for stdin")
    classify.add_argument("--url", help="a running service (default: load the model in-process)")
    classify.add_argument(
        "--format", choices=["jsonl", "table"], default="jsonl", help="output (default jsonl)"
    )
    classify.add_argument(
        "--input-format",
        choices=["auto", "text", "html", "jsonl"],
        default="auto",
        help="how to read input (default: by file suffix; stdin: jsonl if it starts with '{')",
    )
    classify.add_argument("--concurrency", type=int, default=4, help="requests in flight (default 4)")
    classify.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    classify.add_argument(
        "--no-context", action="store_true", help="label every sentence alone (request option context: false)"
    )
    classify.set_defaults(command=_classify)


def _classify(args: argparse.Namespace) -> int:
    from app.commands.classify import Options, run

    if args.concurrency < 1:
        sys.exit("claimsift classify: --concurrency must be at least 1")
    options = Options(
        target=args.path,
        url=args.url,
        output=args.format,
        input_format=args.input_format,
        concurrency=args.concurrency,
        progress=not args.no_progress,
        context=not args.no_context,
    )
    return run(options, load_settings(log_level="warning"))


def load_settings(**overrides: Any) -> Settings:
    """Settings from CLAIMSIFT_* env vars, with command-line flags on top; exits with a clear message."""
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        sys.exit(f"claimsift: invalid settings: {problems}")


def _describe(error: Any) -> str:
    """``field: problem``, or the problem alone when it concerns several fields (API keys, templates)."""
    message = str(error["msg"]).removeprefix("Value error, ")
    field = ".".join(map(str, error["loc"]))
    return f"{field}: {message}" if field else message


def _serve(args: argparse.Namespace) -> int:
    from app.commands.serve import run

    return run(load_settings(host=args.host, port=args.port, backend=args.backend, model=args.model))


def _eval(args: argparse.Namespace) -> int:
    from app.commands.eval import run

    return run(args.file, args.url, args.json, load_settings(log_level="warning"), not args.no_context)


def _train(args: argparse.Namespace) -> int:
    from app.model.extras import require_torch

    require_torch("claimsift train")
    from app.training import cv, data, distil, train

    overrides = {
        "epochs": args.epochs,
        "seed": args.seed,
        "max_length": args.max_length,
        "news_weight": args.news_weight,
        "real_weight": args.real_weight,
        "real_text": False if args.no_real_text else None,
        "trained_layers": args.trained_layers,
        "lora_rank": args.lora_rank,
        "cdcp_percent": args.cdcp_percent,
        "distil_from": args.distil_from,
        "distil_temperature": args.distil_temperature,
        "distil_weight": args.distil_weight,
        "pool_limit": args.pool_limit,
    }
    recipe = train.RECIPES[args.model]
    config = replace(recipe.config, **{key: value for key, value in overrides.items() if value is not None})
    paths = {
        "cdcp": args.cdcp or data.DEFAULT_CDCP,
        "news": args.news or data.DEFAULT_NEWS,
        "real": args.real or data.DEFAULT_REAL,
        "pool": args.pool or distil.DEFAULT_POOL,
    }
    out = recipe.shipped if args.replace else args.out or recipe.out
    missing = data.missing_data(paths["cdcp"], paths["news"], paths["real"])
    if missing is None and config.distil_from:
        missing = distil.missing_pool(paths["pool"], config.pool_limit)
    if missing is not None:
        sys.exit(f"claimsift train: {missing}")
    if args.cv:
        return cv.cv_command(paths, out, config)
    reports = args.report or [path for path in data.DEFAULT_REPORTS if path.is_file()]
    command = " ".join(["claimsift", *sys.argv[1:]])
    return train.train_command(paths, out, config, command, reports, name=recipe.name)


def _prepare(args: argparse.Namespace) -> int:
    from app.commands.prepare import run

    return run(load_settings())


def _onnx_template(args: argparse.Namespace) -> int:
    from app.model.extras import require_torch

    require_torch("claimsift onnx-template")
    from app.model.encoder import default_encoder_path
    from app.training.onnx_template import write_template

    model_dir = args.model_dir or default_encoder_path(load_settings().models_dir / "cache")
    path = write_template(model_dir)
    print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB): commit it; `claimsift prepare` fills it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
