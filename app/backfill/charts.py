"""Inline SVG charts for the report: 100% stacked bars of label shares, drawn as plain markup.

No script and no web font: the file opens offline, in any browser, and prints. Each label has a colour
(the web page's tones) and a pattern, so the charts read in greyscale too; every segment has a
<title> with its numbers for a tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# (fill colour, pattern id or None) per label position; the same tones as the web page.
TONES = [
    ("#1e40af", None),
    ("#b45309", "hatch"),
    ("#166534", "dots"),
    ("#6b21a8", "cross"),
    ("#9f1239", None),
]
FONT = "font-family:system-ui,sans-serif;font-size:12px"
PATTERNS = """<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#b45309"/>
<line x1="0" y1="0" x2="0" y2="6" stroke="#fde68a" stroke-width="2"/>
</pattern>
<pattern id="dots" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#166534"/><circle cx="3" cy="3" r="1.3" fill="#bbf7d0"/></pattern>
<pattern id="cross" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#6b21a8"/><path d="M0 3H6M3 0V6" stroke="#e9d5ff"/></pattern>
</defs>"""


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its name, sentences per label (in the chart's label order) and a note for the tooltip."""

    name: str
    counts: Sequence[int]
    note: str = ""


def definitions() -> str:
    """The patterns, once per page (ids must be unique in a document); every chart refers to them."""
    return f'<svg width="0" height="0" style="position:absolute" aria-hidden="true">{PATTERNS}</svg>'


def fill(position: int) -> str:
    colour, pattern = TONES[position % len(TONES)]
    return f"url(#{pattern})" if pattern else colour


def legend(labels: Sequence[str]) -> str:
    items = "".join(
        f'<g transform="translate({i * 130},0)"><rect width="14" height="14" fill="{fill(i)}" stroke="#333"/>'
        f'<text x="20" y="12">{escape(label)}</text></g>'
        for i, label in enumerate(labels)
    )
    width = 130 * len(labels)
    return (
        f'<svg class="legend" role="img" aria-label="legend" width="{width}" height="18" '
        f'style="{FONT}" xmlns="http://www.w3.org/2000/svg">{items}</svg>'
    )


def columns(bars: Sequence[Bar], labels: Sequence[str], title: str) -> str:
    """Vertical 100% stacked columns (label shares per period), with a 0-100% axis."""
    plot_h, step, left, top = 220, max(18, min(60, 720 // max(1, len(bars)))), 44, 10
    width = left + step * len(bars) + 10
    parts = [_axis_y(left, top, plot_h, width)]
    for i, bar in enumerate(bars):
        x = left + i * step + 2
        parts.extend(_stack(bar, labels, x, top, step - 4, plot_h, vertical=True))
        parts.append(
            f'<text x="{x + (step - 4) / 2:.1f}" y="{top + plot_h + 14}" text-anchor="end" '
            f'transform="rotate(-45 {x + (step - 4) / 2:.1f} {top + plot_h + 14})">{escape(bar.name)}</text>'
        )
    return _svg(title, width, top + plot_h + 60, parts)


def rows(bars: Sequence[Bar], labels: Sequence[str], title: str) -> str:
    """Horizontal 100% stacked bars (label shares per section or author), names on the left."""
    left, bar_h, plot_w, top = 170, 22, 520, 6
    parts = []
    for i, bar in enumerate(bars):
        y = top + i * (bar_h + 6)
        name = bar.name if len(bar.name) <= 24 else bar.name[:23] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(name)}</text>')
        parts.extend(_stack(bar, labels, left, y, bar_h, plot_w, vertical=False))
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 15}">{escape(bar.note)}</text>')
    return _svg(title, left + plot_w + 120, top + len(bars) * (bar_h + 6) + 6, parts)


def _stack(
    bar: Bar, labels: Sequence[str], x: float, y: float, thick: float, length: float, vertical: bool
) -> list[str]:
    total = sum(bar.counts)
    parts: list[str] = []
    offset = 0.0
    for position, (label, count) in enumerate(zip(labels, bar.counts, strict=True)):
        if not total or not count:
            continue
        size = length * count / total
        share = 100 * count / total
        tip = f"{bar.name}: {label} {share:.1f}% ({count} of {total} sentences)"
        tip += f", {bar.note}" if bar.note else ""
        if vertical:  # stacked from the bottom: the first label sits on the axis
            box = f'x="{x:.1f}" y="{y + length - offset - size:.2f}" width="{thick:.1f}" height="{size:.2f}"'
        else:
            box = f'x="{x + offset:.2f}" y="{y:.1f}" width="{size:.2f}" height="{thick:.1f}"'
        parts.append(
            f'<rect class="seg" data-label="{escape(label)}" {box} fill="{fill(position)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        offset += size
    return parts


def _axis_y(left: int, top: int, height: int, width: int) -> str:
    ticks = []
    for percent in (0, 25, 50, 75, 100):
        y = top + height - height * percent / 100
        ticks.append(
            f'<line x1="{left - 4}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{percent}%</text>'
        )
    return "".join(ticks)


def _svg(title: str, width: float, height: float, parts: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" style="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )
