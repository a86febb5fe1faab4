"""The shared-data rule of the suite: a missing ../shared/data file skips locally, fails under CI=true."""

from __future__ import annotations

import pytest

from tests.conftest import shared_file


def test_missing_shared_data_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="is absent"):
        shared_file("no-such-file.jsonl")


def test_missing_shared_data_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        shared_file("no-such-file.jsonl")
