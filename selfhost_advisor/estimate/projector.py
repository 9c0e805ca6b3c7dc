"""Vision projector memory when images are used (`fit --images`): the vision encoder's weights and one image's graph.

Why: a vision model loads its encoder only when images are sent (Ollama) or when --mmproj is given (llama-server), and
then it costs 0.8-1.8 GiB more than the text model (issue 15). The encoder's shapes come from the model's own config
(data/engines.yaml vision_projectors, each with its source); the byte rules are llama.cpp's mmproj layout and Ollama's
VisionGraphSize (fs/ggml/ggml.go), as that section states.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..catalog.data import load


@dataclass(frozen=True, slots=True)
class ProjectorSize:
    weights_bytes: int  # the encoder as the engine loads it
    graph_bytes: int  # compute graph of one image
    source: str


def vision_config(model) -> dict | None:
    """The vision encoder of `model`, or None for a text-only model (e.g. gemma3:1b, whose stated parameters are
    the text decoder's alone)."""
    cfg = load("engines").get("vision_projectors", {}).get("archs", {}).get(model.arch)
    if cfg is None or not model.text_params or model.params <= model.text_params:
        return None
    return cfg


def has_vision(model) -> bool:
    return vision_config(model) is not None


def projector(model, *, mmproj_file: bool) -> ProjectorSize | None:
    """Weights and graph of the vision encoder: `mmproj_file` (llama.cpp's --mmproj GGUF) includes the projection
    into the text model; Ollama's own engine counts only the encoder tensors (v.*)."""
    c = vision_config(model)
    if c is None:
        return None
    d, ff, n, p = int(c["hidden"]), int(c["intermediate"]), int(c["layers"]), int(c["patch"])
    img, ch, heads = int(c["image_size"]), int(c["channels"]), int(c["heads"])
    patches = (img // p) ** 2 + (1 if c.get("class_embedding") else 0)
    f16, f32 = 2, 4
    layer = f16 * (4 * d * d + 2 * d * ff) + f32 * (4 * d + ff + d + 4 * d)  # matrices; q/k/v/o, fc1, fc2 biases; 2 LNs
    weights = n * layer + f16 * d * ch * p * p + f32 * d + f16 * patches * d + f32 * 2 * d
    if mmproj_file:
        weights += f16 * d * model.hidden_size + f32 * d  # mm.input_projection, mm.soft_emb_norm
    graph = 4 * (img * img * ch + d * p + patches * patches * heads)
    return ProjectorSize(weights, graph, str(c["source"]))
