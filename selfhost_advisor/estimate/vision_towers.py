"""Vision towers counted tensor by tensor, the way llama.cpp's converters write the mmproj GGUF.

Why: a projector's bytes depend on which tensors the converter keeps (LLaVA drops the CLIP tower's last block and its
post-LayerNorm; MiniCPM-V stores a 70x70 sin-cos position table in F32) and on each tensor's type (the converters write
2-D `.weight` matrices and 4-D convolution kernels in F16, everything else in F32). Sources, per kind:
- `clip_llava` (LLaVA 1.5/1.6, BakLLaVA, LLaVA-Llama-3, LLaVA-Phi-3, Granite Vision): llama.cpp
  tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py (layers.pop(-1), or layers[:max(feature_layers)] when the
  config names feature layers; post_layernorm skipped; the llava.projector tensors mm.0/mm.2, image_newline).
- `minicpmv` (MiniCPM-V 2.6): llama.cpp tools/mtmd/legacy-models/minicpmv-convert-image-encoder-to-gguf.py
  (SigLIP with a patch bias and post-LayerNorm; resampler query, pos_embed_k 70x70, kv_proj, q/k/v/out, 3 LayerNorms, proj).
- `qwen25vl` (Qwen2.5-VL): llama.cpp convert_hf_to_gguf.py Qwen2VLVisionModel (the Conv3d patch kernel split into two 2-D
  kernels, qkv split into q/k/v with biases, SwiGLU MLP with biases, RMSNorms, merger ln_q + mm.0/mm.2 with biases);
  tensor names as clip.cpp load_tensors reads them (PROJECTOR_TYPE_QWEN25VL).
"""
from __future__ import annotations

F16, F32 = 2, 4


def _matrices(shapes: list[tuple[int, ...]], m: float) -> float:
    return sum(m * a * b for a, b in shapes)


def _vector_bytes(lengths: list[int]) -> int:
    return F32 * sum(lengths)


def vit_block(d: int, ff: int, m: float, *, gated: bool = False, norm_bias: bool = True, mlp_bias: bool = True) -> float:
    """One ViT block: q, k, v, o (d x d) with biases, the MLP (fc1/fc2, or gate/up/down when `gated`), two norms."""
    n_mlp = 3 if gated else 2
    vectors = [d] * 4 + ([ff] * (n_mlp - 1) + [d] if mlp_bias else []) + [d] * (4 if norm_bias else 2)
    return _matrices([(d, d)] * 4 + [(d, ff)] * n_mlp, m) + _vector_bytes(vectors)


def clip_llava(c: dict, n_embd: int, m: float) -> float:
    """CLIP/SigLIP tower + LLaVA MLP projector (mm.0: in x n_embd, mm.2: n_embd x n_embd, both with biases)."""
    d, ff, p, img, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "image_size", "channels"))
    positions = (img // p) ** 2 + (1 if c.get("class_embedding") else 0)
    w = int(c["layers"]) * vit_block(d, ff, m)
    w += F16 * d * ch * p * p  # patch embedding: 4-D, always F16
    w += F16 * positions * d  # position_embd.weight: 2-D .weight -> F16
    if c.get("class_embedding"):
        w += F32 * d
    if c.get("patch_bias"):  # SigLIP's Conv2d has a bias; CLIP's has none
        w += F32 * d
    if c.get("pre_norm"):  # CLIP pre_layrnorm (weight, bias)
        w += F32 * 2 * d
    proj_in = d * int(c.get("feature_layers", 1))  # Granite Vision concatenates 4 layers' features
    w += _matrices([(proj_in, n_embd), (n_embd, n_embd)], m) + _vector_bytes([n_embd, n_embd])
    if c.get("image_newline"):  # LLaVA 1.6 / Granite: model.image_newline (n_embd, F32)
        w += F32 * n_embd
    return w


def minicpmv(c: dict, n_embd: int, m: float) -> float:
    """SigLIP tower (patch bias, learned positions, post-LayerNorm) + the resampler into the text model."""
    d, ff, p, img, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "image_size", "channels"))
    w = int(c["layers"]) * vit_block(d, ff, m)
    w += F16 * d * ch * p * p + F32 * d + F16 * (img // p) ** 2 * d + F32 * 2 * d
    grid, queries = int(c["resampler_grid"]), int(c["resampler_queries"])
    w += F32 * queries * n_embd  # resampler.query (not a .weight: F32)
    w += F32 * grid * grid * n_embd  # resampler.pos_embed_k, the 2-D sin-cos table, F32
    w += _matrices([(n_embd, n_embd)] * 5 + [(d, n_embd)], m)  # proj, attn q/k/v/out, kv_proj
    w += _vector_bytes([n_embd] * 4 + [n_embd] * 6)  # q/k/v/out biases, ln_q/ln_kv/ln_post weight and bias
    return w


def qwen25vl(c: dict, n_embd: int, m: float) -> float:
    """Qwen2.5-VL tower (RMSNorm, SwiGLU with biases, window attention: no extra tensors) + the 2x2 merger MLP."""
    d, ff, p, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "channels"))
    w = int(c["layers"]) * vit_block(d, ff, m, gated=True, norm_bias=False)
    w += 2 * F16 * d * ch * p * p  # the temporal-2 Conv3d kernel as two 2-D kernels (patch_embd.weight, .weight.1)
    w += F32 * d  # merger ln_q (post_ln), RMSNorm
    merged = 4 * d
    w += _matrices([(merged, merged), (merged, n_embd)], m) + _vector_bytes([merged, n_embd])
    return w


KINDS = {"clip_llava": clip_llava, "minicpmv": minicpmv, "qwen25vl": qwen25vl}
