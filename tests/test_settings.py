"""The one Settings refuses what cannot work, with a message naming it and never echoing a key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app.keys import Limits, digest
from app.settings import Settings


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"api_keys": SecretStr("short-secret")}, "API key 1 of 1 is shorter than 16 characters"),
        ({"api_keys": "a-long-enough-key-0001,short-secret"}, "API key 2 of 2 is shorter than 16"),
        ({"api_keys_file": Path("/nonexistent/claimsift_keys")}, "cannot be read: FileNotFoundError"),
    ],
)
def test_unusable_keys_are_refused_without_echoing_them(values: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words) as error:
        Settings(**values)
    assert "short-secret" not in str(error.value)


def test_a_key_file_without_keys_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "keys"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="contains no key"):
        Settings(api_keys_file=empty)


def test_keys_come_from_the_variable_and_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# rotated monthly\nfile-key-0123456789\ncms:cms-key-0123456789:20:200:4\n", "utf-8")
    settings = Settings(api_keys=" env-key-0123456789 , ", api_keys_file=key_file)
    entries = settings.api_key_entries()
    assert [entry.digest for entry in entries] == [
        digest(key) for key in ("env-key-0123456789", "file-key-0123456789", "cms-key-0123456789")
    ]
    assert entries[2].name == "cms" and entries[2].limits == Limits(20, 200, 4)
    assert Settings().api_key_entries() == []


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ("a:first-key-0123456789::\na:second-key-0123456789::\n", "key names must be unique; repeated: a"),
        ("same-key-0123456789\nb:same-key-0123456789::\n", "the same key is configured twice"),
        ("c:third-key-0123456789:fast:\n", "line 1: RATE must be a positive number or empty"),
    ],
)
def test_a_keys_file_with_a_bad_line_is_refused(tmp_path: Path, lines: str, words: str) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(lines, encoding="utf-8")
    with pytest.raises(ValidationError, match=words) as error:
        Settings(api_keys_file=key_file)
    assert "0123456789" not in str(error.value)


def test_the_nli_backend_needs_a_model_and_the_template_a_slot() -> None:
    with pytest.raises(ValidationError, match="CLAIMSIFT_BACKEND=nli needs CLAIMSIFT_MODEL"):
        Settings(backend="nli")
    with pytest.raises(ValidationError, match="must contain"):
        Settings(nli_hypothesis_template="no slot")


def test_environment_variables_set_the_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMSIFT_MAX_CHARS", "1234")
    monkeypatch.setenv("CLAIMSIFT_RUNTIME", "torch")
    settings = Settings()
    assert (settings.max_chars, settings.runtime) == (1234, "torch")
    monkeypatch.setenv("CLAIMSIFT_RUNTIME", "gpu")
    with pytest.raises(ValidationError, match="runtime"):
        Settings()
