"""Print the README's settings and error tables from Settings and STATUS_TABLE (`--write` updates README)."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic_core import PydanticUndefined

from app.errors import STATUS_TABLE
from app.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def errors_table() -> str:
    rows = ["| status | `error.code` | when |", "|---|---|---|"]
    for code, (status, meaning) in sorted(STATUS_TABLE.items(), key=lambda item: (item[1][0], item[0])):
        rows.append(f"| {status} | `{code}` | {meaning} |")
    return "\n".join(rows)


def settings_table() -> str:
    rows = ["| env var | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(required)" if default is PydanticUndefined else ("" if default is None else str(default))
        description = (field.description or "").replace("|", "\\|")
        rows.append(f"| `CLAIMSIFT_{name.upper()}` | `{shown}` | {description} |")
    return "\n".join(rows)


def readme_with_table(readme: str) -> str:
    for marker, build in (("settings", settings_table), ("errors", errors_table)):
        begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
        head, _, rest = readme.partition(begin)
        _, _, tail = rest.partition(end)
        readme = f"{head}{begin}\n{build()}\n{end}{tail}"
    return readme


if __name__ == "__main__":
    if "--write" in sys.argv:
        README.write_text(readme_with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(settings_table(), errors_table(), sep="\n\n")
