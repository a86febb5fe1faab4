"""The README's settings table is the one generated from Settings (one source of truth)."""

from __future__ import annotations

from scripts.settings_table import README, readme_with_table


def test_readme_settings_table_is_current() -> None:
    readme = README.read_text(encoding="utf-8")
    assert readme == readme_with_table(readme), "run: python scripts/settings_table.py --write"
