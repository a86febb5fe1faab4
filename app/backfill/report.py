"""`claimsift report DIR`: one self-contained HTML page about a backfill's output, for editors.

Label shares over time and per section and author, the most assessment- and prescription-heavy
articles with links, the uncertain rate, errors by reason, the model and the runs. Everything is
aggregated with Arrow compute from the documents table (one row per article), so the report of a
ten-million-article archive needs no more than its per-article columns in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from app.backfill import charts
from app.backfill.store import OutputDir

MIN_SENTENCES = 3  # shorter articles are left out of the top lists: one opinion line is not "heavy"
GROUPS = 12  # sections and authors shown, the largest by article count
NONE = "(none)"

CSS = """
body{font-family:system-ui,sans-serif;color:#1a1a1a;max-width:1000px;margin:2rem auto;padding:0 1rem}
body{line-height:1.45}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}
.muted{color:#4a4a4a}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #c8c8c8;border-radius:6px;padding:.6rem .9rem;min-width:8.5rem}
.card b{display:block;font-size:1.5rem;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e2e2e2}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:.6rem 0;overflow-x:auto}
figcaption{font-size:.9rem;color:#4a4a4a}
"""


def run(folder: Path, output: Path | None, top: int) -> int:
    out = OutputDir(folder)
    if not out.table_dir("_commits").is_dir():
        print(
            f"claimsift report: {folder} holds no backfill output (run claimsift backfill first)",
            file=sys.stderr,
        )
        return 2
    documents = out.read("documents")
    if documents is None:
        print(f"claimsift report: {folder} has no labelled documents yet", file=sys.stderr)
        return 2
    target = output or folder / "report.html"
    target.write_text(render(documents, out.read("errors"), out.runs(), folder, top), encoding="utf-8")
    print(f"claimsift report: {target} ({documents.num_rows} documents)")
    return 0


def render(
    documents: pa.Table, errors: pa.Table | None, runs: list[dict[str, Any]], folder: Path, top: int
) -> str:
    labels = [name.removeprefix("n_") for name in documents.column_names if name.startswith("n_")]
    totals = [int(pc.sum(documents[f"n_{label}"]).as_py() or 0) for label in labels]
    sentences = sum(totals)
    uncertain = int(pc.sum(documents["uncertain"]).as_py() or 0)
    model = f"{documents['model_name'][0].as_py()} {documents['model_version'][0].as_py()}"
    periods, undated = _periods(documents, labels)
    body = [
        f"<h1>Archive report</h1><p class='muted'>{escape(str(folder))} · model {escape(model)} · "
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by <code>claimsift report</code></p>",
        _cards(documents.num_rows, sentences, labels, totals, uncertain, errors),
        charts.definitions(),
        "<h2>Label shares over time</h2>",
        _figure(
            charts.columns(periods, labels, "Share of sentences per label, by publication date"),
            labels,
            f"Share of sentences per label; {undated} article(s) without a date are left out."
            if undated
            else "Share of sentences per label.",
        ),
        "<h2>By section</h2>",
        _figure(
            charts.rows(_groups(documents, "section", labels), labels, "Label shares by section"), labels, ""
        ),
        "<h2>By author</h2>",
        _figure(
            charts.rows(_groups(documents, "author", labels), labels, "Label shares by author"), labels, ""
        ),
    ]
    for label in labels[1:]:  # the opinion labels: the first one is the factual baseline
        body.append(f"<h2>Most {escape(label)}-heavy articles</h2>")
        body.append(_top_table(documents, label, top))
    body.append("<h2>Errors</h2>")
    body.append(_errors_table(errors))
    body.append("<h2>Runs</h2>")
    body.append(_runs_table(runs))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>claimsift archive report</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )


# --- aggregates -------------------------------------------------------------------------------------


def _periods(documents: pa.Table, labels: Sequence[str]) -> tuple[list[charts.Bar], int]:
    """Sentences per label by year (or by month when the archive spans under three years)."""
    dates = pc.fill_null(documents["date"], "")
    dated = pc.match_substring_regex(dates, r"^\d{4}")
    table = documents.filter(dated)
    years = pc.utf8_slice_codeunits(table["date"], 0, 4)
    span = len(pc.unique(years)) if table.num_rows else 0
    width = 4 if span >= 3 else 7
    table = table.append_column("period", pc.utf8_slice_codeunits(table["date"], 0, width))
    bars = _aggregate(table, "period", labels)
    bars.sort(key=lambda bar: bar.name)
    return bars, documents.num_rows - table.num_rows


def _groups(documents: pa.Table, column: str, labels: Sequence[str]) -> list[charts.Bar]:
    filled = pc.fill_null(documents[column], NONE)
    table = documents.set_column(documents.column_names.index(column), column, filled)
    bars = _aggregate(table, column, labels)
    bars.sort(key=lambda bar: -int(bar.note.split()[0]))
    return bars[:GROUPS]


def _aggregate(table: pa.Table, key: str, labels: Sequence[str]) -> list[charts.Bar]:
    columns = [f"n_{label}" for label in labels]
    grouped = table.group_by(key).aggregate([(name, "sum") for name in columns] + [("doc_id", "count")])
    rows = grouped.to_pylist()
    return [
        charts.Bar(
            str(row[key]),
            [int(row[f"{name}_sum"]) for name in columns],
            f"{row['doc_id_count']} article{'s' if row['doc_id_count'] != 1 else ''}",
        )
        for row in rows
    ]


# --- page parts -------------------------------------------------------------------------------------


def _cards(
    articles: int, sentences: int, labels: Sequence[str], totals: Sequence[int], uncertain: int, errors: Any
) -> str:
    cards = [("articles", f"{articles:,}"), ("sentences", f"{sentences:,}")]
    cards += [(label, _percent(count, sentences)) for label, count in zip(labels, totals, strict=True)]
    cards.append(("uncertain", _percent(uncertain, sentences)))
    cards.append(("errors", f"{errors.num_rows if errors is not None else 0:,}"))
    items = "".join(f"<div class='card'><b>{escape(value)}</b>{escape(name)}</div>" for name, value in cards)
    return f"<div class='cards'>{items}</div>"


def _figure(chart: str, labels: Sequence[str], caption: str) -> str:
    note = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f"<figure>{charts.legend(labels)}<br>{chart}{note}</figure>"


def _top_table(documents: pa.Table, label: str, top: int) -> str:
    candidates = documents.filter(pc.greater_equal(documents["sentences"], MIN_SENTENCES))
    order = pc.sort_indices(
        candidates,
        sort_keys=[(f"share_{label}", "descending"), (f"n_{label}", "descending"), ("doc_id", "ascending")],
    )
    rows = candidates.take(order[:top]).to_pylist()
    if not rows:
        return f"<p class='muted'>No article with {MIN_SENTENCES} or more sentences.</p>"
    lines = "".join(
        f"<tr><td>{_link(row)}</td><td>{escape(row['section'] or '')}</td>"
        f"<td>{escape(row['date'] or '')}</td>"
        f"<td>{escape(row['author'] or '')}</td><td class='num'>{row[f'n_{label}']} / {row['sentences']}</td>"
        f"<td class='num'>{100 * row[f'share_{label}']:.0f}%</td></tr>"
        for row in rows
    )
    return (
        "<table><thead><tr><th>article</th><th>section</th><th>date</th><th>author</th>"
        f"<th class='num'>{escape(label)} sentences</th><th class='num'>share</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def _link(row: dict[str, Any]) -> str:
    name = escape(row["title"] or row["doc_id"])
    url = row["url"] or ""
    if url.startswith(("http://", "https://")):
        return f"<a href='{escape(url, quote=True)}' rel='noopener noreferrer'>{name}</a>"
    return name


def _errors_table(errors: pa.Table | None) -> str:
    if errors is None or errors.num_rows == 0:
        return "<p>No record failed.</p>"
    grouped = errors.group_by("code").aggregate([("doc_id", "count"), ("message", "min")]).to_pylist()
    lines = "".join(
        f"<tr><td><code>{escape(row['code'])}</code></td><td class='num'>{row['doc_id_count']}</td>"
        f"<td>{escape(row['message_min'] or '')}</td></tr>"
        for row in sorted(grouped, key=lambda row: -row["doc_id_count"])
    )
    return (
        "<p class='muted'>Each failed record is in <code>errors/</code> with its id and reason.</p>"
        "<table><thead><tr><th>reason</th><th class='num'>records</th><th>for example</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def _runs_table(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return "<p class='muted'>No finished run recorded.</p>"
    lines = "".join(
        f"<tr><td>{escape(run['finished'])}</td><td>{escape(str(run['cluster']))}</td>"
        f"<td class='num'>{run['workers']}</td><td class='num'>{run['documents']:,}</td>"
        f"<td class='num'>{run['skipped']:,}</td><td class='num'>{run['errors']:,}</td>"
        f"<td class='num'>{run['wall_s']:.1f} s</td><td class='num'>{run['sentences_per_s']:.1f}</td></tr>"
        for run in runs[-10:]
    )
    return (
        "<table><thead><tr><th>finished (UTC)</th><th>Ray</th><th class='num'>classifiers</th>"
        "<th class='num'>labelled</th><th class='num'>already done</th><th class='num'>errors</th>"
        "<th class='num'>wall time</th><th class='num'>sentences/s</th></tr></thead>"
        f"<tbody>{lines}</tbody></table>"
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
