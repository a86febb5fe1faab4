"""The keys file format: bare and named lines, and errors that name the line but never show a key."""

from __future__ import annotations

import pytest

from app.keys import ApiKeyConfigError, Limits, digest, parse_env_keys, parse_keys_file, unique_keys

OLD = "old-key-3f9a1c7e5b2d8046"
NEW = "new-key-8d2b6f0a4c1e9357"
HEAVY = "heavy-key-1b7e3a9d5c2f6048"


def test_bare_keys_keep_working_and_are_named_by_a_hash_prefix() -> None:
    entries = parse_keys_file(f"# rotated 2026-11-30\n\n  {OLD}  \n", "keys")
    assert len(entries) == 1
    assert entries[0].digest == digest(OLD)
    assert entries[0].name == "key-" + digest(OLD).hex()[:8]
    assert entries[0].limits == Limits()


def test_named_lines_carry_rate_burst_and_concurrency() -> None:
    text = f"heavy:{HEAVY}:20:40\nlight : {NEW} : : \nbatch:{OLD}:2.5::3\n"
    heavy, light, batch = parse_keys_file(text, "keys")
    assert (heavy.name, heavy.digest, heavy.limits) == ("heavy", digest(HEAVY), Limits(20, 40, None))
    assert (light.name, light.limits) == ("light", Limits())
    assert (batch.name, batch.limits) == ("batch", Limits(2.5, None, 3))
    assert batch.limits.bucket_size == 3


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (f"a:{HEAVY}:20", "line 2: expected KEY or NAME:KEY:RATE:BURST[:CONCURRENCY], found 3 fields"),
        (f"a:{HEAVY}:1:2:3:4", "found 6 fields"),
        (f"a:{HEAVY}:fast:", "line 2: RATE must be a positive number or empty"),
        (f"a:{HEAVY}:-1:", "RATE must be a positive number"),
        (f"a:{HEAVY}:nan:", "RATE must be a positive number"),
        (f"a:{HEAVY}:5:0", "BURST must be a positive number"),
        (f"a:{HEAVY}:5:10:0", "CONCURRENCY must be a whole number of at least 1"),
        (f"a:{HEAVY}:5:10:2.5", "CONCURRENCY must be a whole number"),
        (f"bad name:{HEAVY}::", "NAME must be 1-64 letters"),
        ("a:short-key::", "line 2: the key is shorter than 16 characters"),
        ("short-key", "line 2: the key is shorter than 16 characters"),
    ],
)
def test_a_bad_line_is_named_without_showing_the_key(line: str, words: str) -> None:
    with pytest.raises(ApiKeyConfigError, match=words.replace("[", r"\[").replace("]", r"\]")) as error:
        parse_keys_file(f"# keys\n{line}\n", "keys")
    for secret in (HEAVY, "short-key", "fast"):
        assert secret not in str(error.value)


def test_env_keys_are_bare_and_named_by_number_in_errors() -> None:
    (entry,) = parse_env_keys(f" {OLD} , ")
    assert entry.digest == digest(OLD) and entry.limits == Limits()
    with pytest.raises(ApiKeyConfigError, match="API key 2 of 2 is shorter than 16 characters"):
        parse_env_keys(f"{OLD},short-one")


def test_exact_repeats_are_dropped_and_other_repeats_refused() -> None:
    (entry,) = unique_keys(parse_env_keys(OLD) + parse_keys_file(f"{OLD}\n", "keys"))  # as before quotas
    assert entry.digest == digest(OLD)
    with pytest.raises(ApiKeyConfigError, match="key names must be unique; repeated: a"):
        unique_keys(parse_keys_file(f"a:{HEAVY}::\na:{NEW}::\n", "keys"))
    with pytest.raises(ApiKeyConfigError, match="the same key is configured twice"):
        unique_keys(parse_keys_file(f"a:{HEAVY}::\n{HEAVY}\n", "keys"))
    assert len(unique_keys(parse_keys_file(f"a:{HEAVY}::\n{NEW}\n", "keys"))) == 2
