"""Build an encoder's ONNX models without torch: a committed weight-free template, filled from safetensors.

`claimsift onnx-template` (needs the [torch] extra) exports an architecture once with distinct random
weights, records which model tensor each graph initializer is (some are stored transposed, folded in by
the exporter) and drops the weights; the small graph that remains is committed under ``templates/``.
Here it is filled from the base encoder's safetensors and any overlay on top (the fine-tuned layers):

- the int8 model: the filled fp32 graph (exactly what the torch exporter writes for these weights)
  quantized by ONNX Runtime, as the torch path does;
- the fp32 model, used to re-score near ties: the template's graph reading its weights from safetensors
  files next to it (ONNX external data), fp16-stored weights cast and folded weights transposed by
  nodes that ONNX Runtime folds away at load. Its files are the overlay as shipped (fp16) and the base
  weights in fp16, so the computation stays fp32 while the disk holds half.

Large files are named by content and hard-linked between exports where equal (the base encoder's and
the adapted one's share their embeddings and base weights), so a second export costs little disk.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from app.errors import ModelLoadError
from app.model.weights import Int8Options, pinned_bases

if TYPE_CHECKING:
    from app.model.export import Fusion, ModelWriter

TEMPLATES = Path(__file__).with_name("templates")
MAPPING_KEY = "claimsift.initializers"
ARCHITECTURE_KEY = "claimsift.architecture"
# The config fields that decide the graph and its tensor shapes; a template fits a model when all match.
ARCHITECTURE_FIELDS = (
    "model_type",
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "type_vocab_size",
    "hidden_act",
    "layer_norm_eps",
    "position_embedding_type",
    "relative_attention_num_buckets",
)
EXTERNAL_MIN_BYTES = 1 << 20  # smaller int8 initializers stay inside the graph file
SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16}


def architecture(config: Mapping[str, Any]) -> dict[str, Any]:
    return {name: config.get(name) for name in ARCHITECTURE_FIELDS}


def read_architecture(model_dir: Path) -> dict[str, Any]:
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{model_dir} is not a model directory (config.json: {exc})") from exc
    return architecture(config)


def template_name(arch: Mapping[str, Any]) -> str:
    """e.g. ``bert-L6-H384-A12-I1536-V30522``: readable, and distinct for the shipped architectures."""
    return (
        f"{arch['model_type']}-L{arch['num_hidden_layers']}-H{arch['hidden_size']}"
        f"-A{arch['num_attention_heads']}-I{arch['intermediate_size']}-V{arch['vocab_size']}"
    )


def template_path(arch: Mapping[str, Any]) -> Path:
    return TEMPLATES / f"{template_name(arch)}.onnx"


def find_template(model_dir: Path) -> Path | None:
    """The committed template for ``model_dir``'s architecture, or None (then only torch can export)."""
    arch = read_architecture(model_dir)
    path = template_path(arch)
    if not path.is_file():
        return None
    if _metadata(_load(path)).get(ARCHITECTURE_KEY) != json.dumps(arch, sort_keys=True):
        return None  # same name, different details (e.g. another activation): not this graph
    return path


@dataclass(frozen=True, slots=True)
class StoredTensor:
    """Where one tensor's bytes sit in a safetensors file."""

    file: Path
    dtype: str
    shape: tuple[int, ...]
    offset: int
    length: int


def write_models(
    template: Path,
    weights: Sequence[Path],
    folder: Path,
    cache_root: Path,
    int8: Int8Options | None = None,
) -> None:
    """Both models of an export into ``folder``; ``weights`` in order, later files win (an overlay)."""
    from app.model.export import quantize
    from app.model.onnx import MODEL_FILES

    int8 = int8 or Int8Options()
    model = _load(template)
    mapping: dict[str, dict[str, Any]] = json.loads(_metadata(model)[MAPPING_KEY])
    tensors = _read_tensors(weights)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        inline = Path(scratch) / "inline.onnx"
        _save(_filled(model, mapping, tensors, weights), inline)
        quantized = Path(scratch) / "int8.onnx"
        keep_fp32 = _nodes_reading(model, mapping, int8.keep_fp32)
        quantize(inline, quantized, int8.reduce_range, keep_fp32, _fusion(model, int8))
        _write_with_external_data(_load(quantized), folder / MODEL_FILES["int8"], cache_root)
    stored = _store_weights(weights, folder, cache_root)
    _save(_reading_weight_files(model, mapping, stored), folder / MODEL_FILES["fp32"])


def _fusion(template: Any, int8: Int8Options) -> Fusion | None:
    if int8.fuse is None:
        return None
    from app.model.export import Fusion

    arch = json.loads(_metadata(template)[ARCHITECTURE_KEY])
    return Fusion(int8.fuse, arch["num_attention_heads"], arch["hidden_size"])


def _nodes_reading(template: Any, mapping: dict[str, dict[str, Any]], tensors: Sequence[str]) -> list[str]:
    """The graph nodes that read any of the model tensors ``tensors`` (e.g. to keep their MatMuls fp32)."""
    initializers = {name for name, source in mapping.items() if source["tensor"] in set(tensors)}
    return [node.name for node in template.graph.node if initializers & set(node.input)]


def _filled(
    template: Any,
    mapping: dict[str, dict[str, Any]],
    tensors: Mapping[str, NDArray[Any]],
    weights: Sequence[Path],
) -> Any:
    """A copy of the template with every mapped initializer's fp32 data inside the graph."""
    model = _copy(template)
    for initializer in model.graph.initializer:
        source = mapping.get(initializer.name)
        if source is None:
            continue  # a constant of the graph itself, kept in the template
        array = _source(tensors, source["tensor"], weights).astype(np.float32)
        if source["transpose"]:
            array = array.T
        _check_shape(source["tensor"], array.shape, tuple(initializer.dims))
        initializer.raw_data = np.ascontiguousarray(array).tobytes()
    return model


def _reading_weight_files(
    template: Any, mapping: dict[str, dict[str, Any]], stored: Mapping[str, StoredTensor]
) -> Any:
    """The template with each mapped initializer read from a weight file, cast and transposed by nodes."""
    from onnx import TensorProto, helper

    model = _copy(template)
    kept, nodes = [], []
    for initializer in model.graph.initializer:
        source = mapping.get(initializer.name)
        if source is None:
            kept.append(initializer)
            continue
        tensor = _source(stored, source["tensor"], [])
        expected = tuple(initializer.dims)[::-1] if source["transpose"] else tuple(initializer.dims)
        _check_shape(source["tensor"], tensor.shape, expected)
        name, cast, transpose = initializer.name, tensor.dtype != "F32", bool(source["transpose"])
        stage = f"{name}::stored" if cast or transpose else name
        kept.append(_external(stage, tensor))
        if cast:
            cast_to = f"{name}::fp32" if transpose else name
            nodes.append(helper.make_node("Cast", [stage], [cast_to], to=TensorProto.FLOAT))
            stage = cast_to
        if transpose:
            nodes.append(helper.make_node("Transpose", [stage], [name], perm=[1, 0]))
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    for node in reversed(nodes):  # before every node that uses them
        model.graph.node.insert(0, node)
    return model


def _external(name: str, tensor: StoredTensor) -> Any:
    from onnx import TensorProto

    proto = TensorProto()
    proto.name = name
    proto.data_type = TensorProto.FLOAT if tensor.dtype == "F32" else TensorProto.FLOAT16
    proto.dims.extend(tensor.shape)
    proto.data_location = TensorProto.EXTERNAL
    for key, value in (("location", tensor.file.name), ("offset", tensor.offset), ("length", tensor.length)):
        entry = proto.external_data.add()
        entry.key, entry.value = key, str(value)
    return proto


def _store_weights(weights: Sequence[Path], folder: Path, cache_root: Path) -> dict[str, StoredTensor]:
    """The weight files next to the fp32 model: fp16 ones as they are, fp32 ones converted to fp16."""
    from safetensors.numpy import load_file, save_file

    stored: dict[str, StoredTensor] = {}
    for path in weights:
        header = _safetensors_header(path)
        if all(spec["dtype"] in ("F16", "I64") for spec in header.values()):
            target = _copy_in(path, folder, cache_root)
        else:
            halved = {
                key: value.astype(np.float16) if value.dtype == np.float32 else value
                for key, value in load_file(str(path)).items()
            }
            scratch = folder / f".{path.stem}.fp16"
            save_file(halved, str(scratch))
            target = _by_content(scratch, ".safetensors", folder, cache_root)
        stored.update(_locate(target))
    return stored


def _write_with_external_data(model: Any, target: Path, cache_root: Path) -> None:
    """Save ``model`` with its large initializers in content-named files beside it (shared where equal)."""
    from onnx import TensorProto

    for initializer in model.graph.initializer:
        if len(initializer.raw_data) < EXTERNAL_MIN_BYTES:
            continue
        data = initializer.raw_data
        scratch = target.parent / f".{initializer.name}.bin"
        scratch.write_bytes(data)
        stored = _by_content(scratch, ".bin", target.parent, cache_root)
        initializer.ClearField("raw_data")
        initializer.data_location = TensorProto.EXTERNAL
        for key, value in (("location", stored.name), ("offset", "0"), ("length", str(len(data)))):
            entry = initializer.external_data.add()
            entry.key, entry.value = key, value
    _save(model, target)


def _by_content(scratch: Path, suffix: str, folder: Path, cache_root: Path) -> Path:
    """``scratch`` renamed after its sha256, or replaced by a hard link to an equal file of another export."""
    target = folder / f"{_sha256(scratch)[:24]}{suffix}"
    twin = next((p for p in cache_root.glob(f"*/{target.name}") if p.parent != folder), None)
    if twin is not None and _try_link(twin, target):
        scratch.unlink()
    else:
        os.replace(scratch, target)
    return target


def _copy_in(source: Path, folder: Path, cache_root: Path) -> Path:
    """A copy of a shipped weight file, named by content (never a link: the original may be rewritten)."""
    scratch = folder / f".{source.name}"
    shutil.copyfile(source, scratch)
    return _by_content(scratch, ".safetensors", folder, cache_root)


def _try_link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except FileExistsError:
        return True
    except OSError:  # another file system, or links not supported: keep our own copy
        return False
    return True


def _sha256(path: Path) -> str:
    from app.model.encoder import file_digest

    return file_digest(path)


def _safetensors_header(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            (size,) = struct.unpack("<Q", handle.read(8))
            header: dict[str, Any] = json.loads(handle.read(size))
    except (OSError, ValueError, struct.error) as exc:
        raise ModelLoadError(f"cannot read the weights {path}: {exc}") from exc
    header.pop("__metadata__", None)
    return header


def _locate(path: Path) -> dict[str, StoredTensor]:
    with path.open("rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
    located = {}
    for key, spec in _safetensors_header(path).items():
        start, end = spec["data_offsets"]
        located[key] = StoredTensor(path, spec["dtype"], tuple(spec["shape"]), 8 + size + start, end - start)
    return located


def _source(tensors: Mapping[str, Any], name: str, weights: Sequence[Path]) -> Any:
    if name in tensors:
        return tensors[name]
    # Checkpoints saved from a task model prefix the encoder's tensors with its type, e.g. `bert.`.
    prefixed = [key for key in tensors if key.split(".", 1)[-1] == name]
    if len(prefixed) == 1:
        return tensors[prefixed[0]]
    raise ModelLoadError(f"none of the weight files {[str(w) for w in weights]} holds the tensor {name}")


def _check_shape(name: str, actual: tuple[int, ...], expected: tuple[int, ...]) -> None:
    if tuple(actual) != tuple(expected):
        raise ModelLoadError(f"{name} has shape {tuple(actual)}, the ONNX template expects {expected}")


def _read_tensors(weights: Sequence[Path]) -> dict[str, NDArray[Any]]:
    from safetensors.numpy import load_file

    tensors: dict[str, NDArray[Any]] = {}
    for path in weights:
        try:
            tensors.update(load_file(str(path)))
        except (OSError, ValueError) as exc:  # missing or corrupt file
            raise ModelLoadError(f"cannot read the weights {path}: {exc}") from exc
    return tensors


def _load(path: Path) -> Any:
    import onnx

    try:
        return onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # OSError, protobuf's DecodeError and onnx's own errors share no base
        raise ModelLoadError(f"cannot read the ONNX model {path}: {exc}") from exc


def _save(model: Any, target: Path) -> None:
    import onnx

    onnx.save_model(model, str(target))


def _copy(model: Any) -> Any:
    from onnx import ModelProto

    copy = ModelProto()
    copy.CopyFrom(model)
    return copy


def _metadata(model: Any) -> dict[str, str]:
    return {prop.key: prop.value for prop in model.metadata_props}


def template_writer(model_dir: Path, overlay: Path | None, cache_root: Path) -> ModelWriter | None:
    """A ModelWriter that fills ``model_dir``'s template, or None when its architecture has none."""
    template = find_template(model_dir)
    weights = sorted(model_dir.glob("*.safetensors"))
    if template is None or not weights:
        return None
    sources = [*weights, *([overlay] if overlay is not None else [])]
    base = pinned_bases().get(model_dir.name)  # a pinned base's folder is named after it
    int8 = base.int8 if base is not None else Int8Options()
    return lambda folder: write_models(template, sources, folder, cache_root, int8)
