"""The `backfill` and `report` subcommands; Ray and pyarrow are imported only when one of them runs."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.settings import Settings

SettingsLoader = Callable[..., Settings]
EXTRA_HINT = 'install the extra: pip install "claimsift[ray]"'


def add_commands(commands: Any, load_settings: SettingsLoader) -> None:
    """Add `backfill` and `report` to the `claimsift` parser."""
    backfill = commands.add_parser(
        "backfill",
        help="label a whole archive on Ray into Parquet (resumable; needs claimsift[ray])",
        description="Label every article of SOURCE (what `claimsift classify` reads: JSONL or Parquet "
        "with `id`, `text` and metadata fields, or a folder of .txt/.md/.html) into Parquet tables "
        "DIR/sentences (each in its context, as /v1/extract), DIR/skipped (page furniture, not labelled), "
        "DIR/documents and DIR/errors. Runs on an embedded Ray on this machine, or on "
        "the cluster at --address (or RAY_ADDRESS). Run it again after any interruption: articles "
        "already done with the same text and model are skipped, nothing is written twice.",
    )
    backfill.add_argument("source", type=Path, help="a JSONL/Parquet/text file or a folder")
    backfill.add_argument("--out", type=Path, required=True, help="output folder DIR")
    backfill.add_argument("--address", help="Ray cluster to join, e.g. auto on a cluster node (RAY_ADDRESS)")
    backfill.add_argument(
        "--workers",
        type=int,
        help="classifier actors, each holding the model once (default: CPU cores here, 2 on a cluster)",
    )
    backfill.add_argument(
        "--part-docs",
        type=int,
        default=500,
        help="articles per committed part, the unit a rerun redoes (default 500)",
    )
    backfill.add_argument(
        "--wait-s", type=float, default=120.0, help="how long to wait for cluster CPUs to join (default 120)"
    )
    backfill.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    backfill.set_defaults(command=lambda args: _backfill(args, load_settings))

    report = commands.add_parser(
        "report",
        help="write a self-contained HTML report of a backfill's output (needs claimsift[ray])",
        description="Label shares over time and per section and author, the most assessment- and "
        "prescription-heavy articles, the uncertain rate and the model, from DIR of `claimsift "
        "backfill`, as one HTML file with inline SVG charts (no network needed to open it).",
    )
    report.add_argument("dir", type=Path, help="the --out folder of claimsift backfill")
    report.add_argument("--output", type=Path, help="HTML file to write (default DIR/report.html)")
    report.add_argument("--top", type=int, default=15, help="articles in each top list (default 15)")
    report.set_defaults(command=_report)


def _missing_extra(*modules: str) -> bool:
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        print(f"claimsift: {', '.join(missing)} not installed; {EXTRA_HINT}", file=sys.stderr)
    return bool(missing)


def _backfill(args: argparse.Namespace, load_settings: SettingsLoader) -> int:
    if _missing_extra("ray", "pyarrow"):
        return 2
    from app.backfill.pipeline import Options, run

    if args.workers is not None and args.workers < 1:
        sys.exit("claimsift backfill: --workers must be at least 1")
    if args.part_docs < 1:
        sys.exit("claimsift backfill: --part-docs must be at least 1")
    options = Options(
        source=args.source,
        out=args.out,
        address=args.address,
        workers=args.workers,
        part_docs=args.part_docs,
        progress=not args.no_progress,
        wait_s=args.wait_s,
    )
    return run(options, load_settings(log_level="warning"))


def _report(args: argparse.Namespace) -> int:
    if _missing_extra("pyarrow"):
        return 2
    from app.backfill.report import run

    return run(args.dir, args.output, args.top)
