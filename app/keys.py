"""The keys file format: bare keys and named keys with a quota; pure, so any layer may check a file.

A line of the keys file (``CLAIMSIFT_API_KEYS_FILE``; blank lines and ``#`` comments ignored) is either

    KEY                                    a bare key, without quota: files from before quotas keep working
    NAME:KEY:RATE:BURST[:CONCURRENCY]      a named key; RATE in sentences per second, BURST in sentences,
                                           CONCURRENCY in requests; each may be empty for no limit

A bare key is named ``key-`` and the first 8 hex digits of its SHA-256 in the metrics and logs, never by
the key itself. Errors name the line and the field, never a key or a field's value (a mistyped line may
hold a key where a number was expected).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MIN_KEY_LENGTH = 16
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LINE_SHAPE = "KEY or NAME:KEY:RATE:BURST[:CONCURRENCY]"


class ApiKeyConfigError(ValueError):
    """The configured keys are unusable; the message never contains a key."""


@dataclass(frozen=True, slots=True)
class Limits:
    """One key's quota; None means no limit of that kind."""

    rate: float | None = None  # sentences per second
    burst: float | None = None  # sentences the bucket holds; None: one second's worth of the rate
    concurrency: int | None = None  # requests in flight

    @property
    def bucket_size(self) -> float:
        assert self.rate is not None
        return self.burst if self.burst is not None else max(1.0, math.ceil(self.rate))

    def describe(self) -> str:
        parts = []
        if self.rate is not None:
            parts.append(f"{self.rate:g} sentences/s (burst {self.bucket_size:g})")
        if self.concurrency is not None:
            parts.append(f"{self.concurrency} requests in flight")
        return " and ".join(parts) or "no limit"


@dataclass(frozen=True, slots=True)
class KeyEntry:
    name: str
    digest: bytes  # SHA-256 of the key: the key itself is not kept
    limits: Limits


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def parse_keys_file(text: str, source: str) -> list[KeyEntry]:
    """Every key of a keys file; ApiKeyConfigError names the line of the first problem."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            entries.append(_parse_line(line, f"{source} line {number}"))
    if not entries:
        raise ApiKeyConfigError(f"{source} contains no key")
    return entries


def _parse_line(line: str, where: str) -> KeyEntry:
    if ":" not in line:
        return bare_key(line, f"{where}: the key")
    fields = [field.strip() for field in line.split(":")]
    if len(fields) not in (4, 5):
        raise ApiKeyConfigError(f"{where}: expected {_LINE_SHAPE}, found {len(fields)} fields")
    name, key, rate, burst, *concurrency = fields
    if not _NAME.fullmatch(name):
        raise ApiKeyConfigError(f"{where}: NAME must be 1-64 letters, digits, '.', '_' or '-'")
    _check_length(key, f"{where}: the key")
    limits = Limits(
        rate=_number(rate, "RATE", where),
        burst=_number(burst, "BURST", where),
        concurrency=_count(concurrency[0] if concurrency else "", where),
    )
    return KeyEntry(name, digest(key), limits)


def bare_key(key: str, where: str) -> KeyEntry:
    _check_length(key, where)
    hashed = digest(key)
    return KeyEntry(f"key-{hashed.hex()[:8]}", hashed, Limits())


def _check_length(key: str, what: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise ApiKeyConfigError(
            f"{what} is shorter than {MIN_KEY_LENGTH} characters; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


def _number(field: str, what: str, where: str) -> float | None:
    """A positive number, or None for an empty field; the value is not echoed (it may be part of a key)."""
    if not field:
        return None
    try:
        value = float(field)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ApiKeyConfigError(f"{where}: {what} must be a positive number or empty")
    return value


def _count(field: str, where: str) -> int | None:
    if not field:
        return None
    if not field.isdigit() or int(field) < 1:
        raise ApiKeyConfigError(f"{where}: CONCURRENCY must be a whole number of at least 1 or empty")
    return int(field)


def parse_env_keys(text: str) -> list[KeyEntry]:
    """The bare keys of ``CLAIMSIFT_API_KEYS`` (comma-separated), named by number in errors."""
    keys = [key.strip() for key in text.split(",") if key.strip()]
    return [bare_key(key, f"API key {n} of {len(keys)}") for n, key in enumerate(keys, start=1)]


def read_keys_file(path: Path) -> list[KeyEntry]:
    source = f"CLAIMSIFT_API_KEYS_FILE {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ApiKeyConfigError(f"{source} cannot be read: {type(exc).__name__}") from None
    return parse_keys_file(text, source)


def unique_keys(entries: list[KeyEntry]) -> list[KeyEntry]:
    """The entries without exact repeats (a bare key listed twice, in the variable and the file, worked
    before quotas and still does); a name or a key that repeats with a difference is refused."""
    entries = list(dict.fromkeys(entries))
    names = Counter(entry.name for entry in entries)
    digests = Counter(entry.digest for entry in entries)
    if repeated := sorted(name for name, seen in names.items() if seen > 1):
        raise ApiKeyConfigError(f"key names must be unique; repeated: {', '.join(repeated)}")
    if any(seen > 1 for seen in digests.values()):
        raise ApiKeyConfigError("the same key is configured twice, under different names or quotas")
    return entries
