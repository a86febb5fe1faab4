"""Print the README's settings table from the one Settings class (`--write` updates README.md)."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from app.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def table() -> str:
    rows = ["| env var | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(required)" if default is PydanticUndefined else ("" if default is None else str(default))
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `CLAIMSIFT_{name.upper()}` | `{shown}` | {description} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    if "--write" in sys.argv:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(table())
