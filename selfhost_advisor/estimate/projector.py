"""Vision projector memory when images are used (`fit --images`): the vision encoder's weights and one image's graph.

Why: a vision model loads its encoder only when images are sent (Ollama) or when --mmproj is given (llama-server), and
then it costs 0.8-1.8 GiB more than the text model (issue 15). The encoder's shapes come from the model's own config
(data/engines.yaml vision_projectors.encoders, each with its source); the byte rules are llama.cpp's mmproj layout and
Ollama's VisionGraphSize (fs/ggml/ggml.go), as that section states.
"""
from __future__ import annotations

from ..catalog.data import load
from ..record import record

F16 = 2


@record
class ProjectorSize:
    weights_bytes: int  # the encoder as the engine loads it
    graph_bytes: int  # compute graph of one image
    source: str
    separate_file: bool = False  # Ollama ships it as its own projector blob (llama engine), not v.* tensors in the model


def vision_config(model) -> dict | None:
    """The vision encoder `model` loads with images (by catalog id), or None for a text-only model."""
    for cfg in load("engines").get("vision_projectors", {}).get("encoders", {}).values():
        if model.id in cfg.get("models", ()):
            return cfg
    return None


def has_vision(model) -> bool:
    return vision_config(model) is not None


def ollama_arch(model) -> str:
    """The architecture name of Ollama's own GGUF for `model` (its GraphSize branches on it)."""
    cfg = vision_config(model)
    return str(cfg.get("ollama_arch", model.arch)) if cfg else model.arch


def projector(model, *, mmproj_file: bool, matrix_bytes: float = F16, image_tokens: int | None = None,
              flash_attention: bool = False) -> ProjectorSize | None:
    """Weights and graph of the vision encoder: `mmproj_file` (llama.cpp's --mmproj GGUF) includes the projection
    into the text model; Ollama's own engine counts only the encoder tensors (v.*). matrix_bytes: bytes per weight of
    the matrices (F16 2; a Q8_0 mmproj 34/32); patch and position embeddings keep their own type. image_tokens: the
    tokens of one image, which sizes a dynamic-resolution tower's graph in llama.cpp (--image-max-tokens);
    flash_attention: llama.cpp's clip runs attention fused (no patches^2 scores), as it does by default since PR #16837."""
    c = vision_config(model)
    if c is None:
        return None
    from .vision_towers import KINDS, tower_bytes  # here: a text-only model's fit never needs the towers

    # counted tensor by tensor (estimate/vision_towers.py); for the LLaVA-family blobs Ollama ships the same file
    weights = tower_bytes(c, model.hidden_size, matrix_bytes, mmproj_file or "kind" in c)
    if c.get("kind") in KINDS:
        separate = c.get("ollama_projector") == "file"
        graph = _clip_graph(c, image_tokens, flash_attention) if mmproj_file else _ollama_graph(c, separate)
        return ProjectorSize(int(round(weights)), graph, str(c["source"]), separate)
    graph = _clip_graph(c, image_tokens, flash_attention) if mmproj_file else _clip_graph(c, llamacpp=False)
    return ProjectorSize(int(round(weights)), graph, str(c["source"]))


def _clip_graph(c: dict, image_tokens: int | None = None, flash_attention: bool = False, *, llamacpp: bool = True
                ) -> int:
    """One image's compute graph, in bytes (f32 activations).

    The image: the config's (`graph_image_size` where the engine works on another size), or in llama.cpp for a
    dynamic-resolution tower (`merge` patches per side into one token) one of `image_tokens` tokens, else of the
    tower's cap (`image_tokens` in data; clip.cpp reserves a smaller warm-up image at load and grows the buffer when
    a larger one comes): patches = tokens x merge^2.
    Without flash attention: 4 x (pixels x channels + d x patch + patches^2 x heads), the image, a d x patch row and
    every head's attention scores (Ollama's VisionGraphSize for gemma3/mistral3, fs/ggml); llama.cpp's clip adds the
    flash-attention figure below to it, the block's other tensors being alive beside the scores. With it (llama.cpp
    clip since PR #16837, where the backend supports it): 4 x patches x (MLP width + 3 d), the MLP activation (gate
    and up for a gated MLP) beside three d-wide tensors of a block; the scores are never materialised."""
    p, ch, d = int(c["patch"]), int(c["channels"]), int(c["hidden"])
    tokens = (image_tokens or c.get("image_tokens")) if llamacpp else None
    if tokens and c.get("merge"):
        patches = int(tokens) * int(c["merge"]) ** 2
        pixels = patches * p * p
    else:
        img = int(c.get("graph_image_size", c["image_size"]))
        patches = (img // p) ** 2 + (1 if c.get("class_embedding") else 0)
        pixels = img * img
    gated = c.get("mlp") == "swiglu" or c.get("kind") in ("qwen25vl", "gemma4v")
    blocks = 4 * patches * ((2 if gated else 1) * int(c["intermediate"]) + 3 * d)
    if flash_attention:
        return blocks
    scores = 4 * (pixels * ch + d * p + patches * patches * int(c["heads"]))
    # llama.cpp without flash attention holds the scores beside the block's other tensors (Gemma 3 12B: 1132 MiB
    # logged, scores alone 1033; Qwen3.6's tower at 2116 tokens: 4657.81 logged, scores alone 4397.7)
    return scores + blocks if llamacpp else scores


def image_tokens(model, request_tokens: int | None = None) -> int | None:
    """Tokens one image takes in the context: the request's, else the tower's own (data/engines.yaml `image_tokens`,
    per model where sizes differ); None for a text-only model or a tower whose count we have not sourced."""
    c = vision_config(model)
    if c is None:
        return None
    if request_tokens:
        return request_tokens
    own = c.get("image_tokens_by_model", {}).get(model.id, c.get("image_tokens"))
    return int(own) if own else None


def is_dynamic(model) -> bool:
    """A dynamic-resolution tower: its image tokens follow the image size (llama-server --image-max-tokens caps them)."""
    c = vision_config(model)
    return bool(c and c.get("merge"))


def _ollama_graph(c: dict, separate: bool) -> int:
    """Ollama's estimate (llm/memory.go, fs/ggml VisionGraphSize at v0.11.10): a separate projector file counts its
    weights only (projectorMemoryRequirements); qwen25vl's graph from vision.max_pixels (default 28*28*1280)."""
    if separate:
        return 0
    if c.get("ollama_arch") == "mllama":  # every tile's patches padded to a multiple of 8, attention across all tiles
        img, p, ch, tiles = int(c["image_size"]), int(c["patch"]), int(c["channels"]), int(c["max_tiles"])
        d, heads = int(c["hidden"]), int(c["heads"])
        n = (img // p) ** 2 + 1  # the class token (v.class_embd)
        padded = n + 8 - (n % 8) % 8  # Go's precedence: n + 8 - ((n % 8) % 8), as written
        return 4 * (8 + img * img * ch * tiles + d * n * tiles + 9 * d * padded * tiles + (padded * tiles) ** 2 * heads)
    if c.get("ollama_arch") == "qwen25vl":
        max_pixels, p, ch = int(c.get("max_pixels", 28 * 28 * 1280)), int(c["patch"]), int(c["channels"])
        n = max_pixels // (p * p)
        return 4 * (2 * max_pixels * ch + n * ch * p * p + n * n * int(c["heads"]) + int(c["hidden"]) * n)
    return _clip_graph(c, llamacpp=False)
