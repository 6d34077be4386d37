"""The PP-OCRv4 recognizer as a torch module, for fine-tuning, and back into its own ONNX graph.

``onnx2torch`` converts the shipped ONNX file once two things are fixed: its weights are ``Constant`` nodes
(moved to initializers) and ONNX shape inference stops at a dynamic reshape (so every tensor's shape is taken
from one run of the graph in ONNX Runtime). Export writes the trained weights back into the *original*
graph's initializers by name, so the served model keeps its dynamic batch and width, its output (softmax
over 6,625 classes) and its character list, exactly as the pretrained file had them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper


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


def load(path: Path) -> ConvertedRecognizer:
    """The pretrained recognizer, or one exported by ``export`` (to fine-tune it further)."""
    import onnx2torch

    graph = onnx.load(str(path))
    characters = next(p.value for p in graph.metadata_props if p.key == "character").splitlines()
    _constants_to_initializers(graph)
    _float32_weights(graph)  # a model this module exported with half=True (the served meter recognizer)
    _record_shapes(graph)
    model = onnx2torch.convert(graph)
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
