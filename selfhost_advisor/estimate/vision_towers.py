"""Vision towers counted tensor by tensor, the way llama.cpp's converters write the mmproj GGUF.

Why: a projector's bytes depend on which tensors the converter keeps (LLaVA drops the CLIP tower's last block and its
post-LayerNorm; MiniCPM-V stores a 70x70 sin-cos position table in F32) and on each tensor's type (the converters write
2-D `.weight` matrices and 4-D convolution kernels in F16, everything else in F32). Sources, per kind:
- `clip_llava` (LLaVA 1.5/1.6, BakLLaVA, LLaVA-Llama-3, LLaVA-Phi-3): llama.cpp
  tools/mtmd/legacy-models/convert_image_encoder_to_gguf.py (layers.pop(-1), or layers[:max(feature_layers)] when the
  config names feature layers; post_layernorm skipped; the llava.projector tensors mm.0/mm.2, image_newline).
- `minicpmv` (MiniCPM-V 2.6): llama.cpp tools/mtmd/legacy-models/minicpmv-convert-image-encoder-to-gguf.py
  (SigLIP with a patch bias and post-LayerNorm; resampler query, pos_embed_k 70x70, kv_proj, q/k/v/out, 3 LayerNorms, proj).
- `qwen25vl` (Qwen2.5-VL): llama.cpp convert_hf_to_gguf.py Qwen2VLVisionModel (the Conv3d patch kernel split into two 2-D
  kernels, qkv split into q/k/v with biases, SwiGLU MLP with biases, RMSNorms, merger ln_q + mm.0/mm.2 with biases);
  tensor names as clip.cpp load_tensors reads them (PROJECTOR_TYPE_QWEN25VL).
- `mllama` (Llama 3.2 Vision): Ollama's convert/convert_mllama.go (v.* tensors and mm.0 in the model's own GGUF) with
  convert/reader.go Kind(): biases, 1-D tensors and the four position tables (v.position_embd.weight,
  v.tile_position_embd.weight, v.pre/post_tile_position_embd.weight) F32, other matrices F16; the position gate written
  twice (v.position_embd.gate, v.tile_position_embd.gate: 512 tensors, as a contributor counted in Ollama's blob).
- `moonvit` (Kimi K2.5 / K2.6 / K2.7-Code): the checkpoint's own tensor list (a stored weight listing of
  moonshotai/Kimi-K2.5): 27 blocks with fused wqkv, wo, fc0/fc1 and two LayerNorms, all with biases; the final
  LayerNorm; a 64 x 64 position table (3-D, so F32 by the converter rule); the patch kernel with bias; the patch merger
  (pre-norm, proj.0 4d x 4d, proj.2 4d x n_embd, biases). llama.cpp runs it as PROJECTOR_TYPE_KIMIK25.
- `gemma4v` (Gemma 4 26B / 31B): transformers' Gemma4VisionModel as a stored port mirrors it (q/k/v/o without biases,
  q_norm / k_norm of head_dim, a scale-less v_norm, four RMSNorms, a gated MLP, no biases; the patch input_proj linear,
  a (2, position_embedding_size, d) position table, std_bias / std_scale when `standardize`) and the embedder's
  embedding_projection d x n_embd (its pre-norm has no scale); llama.cpp's mmproj names them v.blk.N.attn_q/k/v/out,
  attn_q_norm [72], ln1, attn_post_norm, ffn_gate/up/down ... (a clip_model_loader dump in llama.cpp PR #21760).
Each tower is a list of (elements, kind): "m" a matrix (F16 in an f16 mmproj, or the --mmproj file's own type),
"f16" a tensor kept F16 whatever the file type (convolution kernels, position tables), "f32" vectors and F32 tables.
"""
from __future__ import annotations

Parts = list[tuple[int, str]]
BYTES = {"f16": 2, "f32": 4}


def vit_block(d: int, ff: int, *, gated: bool = False, norm_bias: bool = True) -> Parts:
    """One ViT block: q, k, v, o (d x d) with biases, the MLP (fc1/fc2, or gate/up/down when `gated`) with biases, two
    norms (LayerNorm weight + bias, or RMSNorm weight only)."""
    n_mlp = 3 if gated else 2
    return ([(d * d, "m")] * 4 + [(d * ff, "m")] * n_mlp + [(d, "f32")] * 4 + [(ff, "f32")] * (n_mlp - 1)
            + [(d, "f32")] + [(d, "f32")] * (4 if norm_bias else 2))


def clip_llava(c: dict, n_embd: int) -> Parts:
    """CLIP tower + LLaVA MLP projector (mm.0: in x n_embd, mm.2: n_embd x n_embd, both with biases)."""
    d, ff, p, img, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "image_size", "channels"))
    positions = (img // p) ** 2 + (1 if c.get("class_embedding") else 0)
    t = vit_block(d, ff) * int(c["layers"])
    t += [(d * ch * p * p, "f16"), (positions * d, "f16")]  # patch kernel (4-D), position_embd.weight (2-D .weight)
    t += [(d, "f32")] * (bool(c.get("class_embedding")) + bool(c.get("patch_bias")) + 2 * bool(c.get("pre_norm")))
    proj_in = d * int(c.get("feature_layers", 1))  # Granite Vision: 4 layers' features; Moondream: 2 views side by side
    mid = int(c.get("projector_hidden", n_embd))  # mm.0's width: n_embd for LLaVA, Moondream's 8192
    t += [(proj_in * mid, "m"), (mid, "f32"), (mid * n_embd, "m"), (n_embd, "f32")]
    if c.get("image_newline"):  # LLaVA-NeXT's model.image_newline
        t.append((n_embd, "f32"))
    return t


def minicpmv(c: dict, n_embd: int) -> Parts:
    """SigLIP tower (patch bias, learned positions, post-LayerNorm) + the resampler into the text model."""
    d, ff, p, img, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "image_size", "channels"))
    t = vit_block(d, ff) * int(c["layers"])
    t += [(d * ch * p * p, "f16"), (d, "f32"), ((img // p) ** 2 * d, "f16"), (d, "f32"), (d, "f32")]
    grid, queries = int(c["resampler_grid"]), int(c["resampler_queries"])
    t += [(queries * n_embd, "f32"), (grid * grid * n_embd, "f32")]  # query and pos_embed_k: not .weight, so F32
    t += [(n_embd * n_embd, "m")] * 5 + [(d * n_embd, "m")]  # proj, attn q/k/v/out, kv_proj
    t += [(n_embd, "f32")] * 10  # q/k/v/out biases, ln_q/ln_kv/ln_post weight and bias
    return t


def qwen25vl(c: dict, n_embd: int) -> Parts:
    """Qwen2.5-VL tower (RMSNorm, SwiGLU with biases, window attention: no extra tensors) + the 2x2 merger MLP."""
    d, ff, p, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "channels"))
    t = vit_block(d, ff, gated=True, norm_bias=False) * int(c["layers"])
    t += [(d * ch * p * p, "f16")] * 2  # the temporal-2 Conv3d kernel as two 2-D kernels (patch_embd.weight, .weight.1)
    merged = 4 * d
    t += [(d, "f32"), (merged * merged, "m"), (merged, "f32"), (merged * n_embd, "m"), (n_embd, "f32")]
    return t


def mllama(c: dict, n_embd: int) -> Parts:
    """Llama 3.2 Vision's tiled tower: `layers` local + `global_layers` gated blocks (LayerNorm with bias, fc1/fc2 with
    biases, q/k/v/o without), the patch kernel (no bias), class token, the gated position table (one tile's patches),
    the tile position table (per aspect-ratio id: tiles x patches x d, F32), pre/post tile tables (per aspect-ratio id:
    tiles x d), pre/post LayerNorms, and mm.0 (vision_output_dim -> n_embd, with bias). Shapes: transformers
    MllamaVisionModel / MllamaPrecomputed*Embedding (max_aspect_ratio_id + 1 = 9 rows for 8 supported ratios)."""
    d, ff, p, img, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "image_size", "channels"))
    tiles, ratios, out = int(c["max_tiles"]), int(c["aspect_ratios"]) + 1, int(c["output_dim"])
    patches = (img // p) ** 2 + 1
    block = [(d * d, "m")] * 4 + [(d * ff, "m")] * 2 + [(ff, "f32"), (d, "f32")] + [(d, "f32")] * 4
    t = block * (int(c["layers"]) + int(c["global_layers"])) + [(1, "f32")] * 2 * int(c["global_layers"])
    t += [(d * ch * p * p, "f16"), (d, "f32"), (patches * d, "f32"), (1, "f32"), (1, "f32")]
    t += [(ratios * tiles * patches * d, "f32"), (ratios * tiles * d, "f32"), (1, "f32"), (ratios * tiles * d, "f32"),
          (1, "f32")]
    t += [(d, "f32")] * 4 + [(out * n_embd, "m"), (n_embd, "f32")]
    return t


def moonvit(c: dict, n_embd: int) -> Parts:
    """Kimi's MoonViT + patch merger, tensor for tensor as moonshotai/Kimi-K2.5 stores them (vision_tower.*,
    mm_projector.*): merged = d x merge_kernel^2 (1152 x 4 = 4608, proj.0's width)."""
    d, ff, p, ch = (int(c[k]) for k in ("hidden", "intermediate", "patch", "channels"))
    grid, merged = int(c["position_grid"]), d * int(c["merge_kernel"]) ** 2
    block = [(3 * d * d, "m"), (3 * d, "f32"), (d * d, "m"), (d, "f32"), (ff * d, "m"), (ff, "f32"), (d * ff, "m"),
             (d, "f32")] + [(d, "f32")] * 4
    t = block * int(c["layers"]) + [(d, "f32")] * 2
    t += [(grid * grid * d, "f32"), (d * ch * p * p, "f16"), (d, "f32")]
    t += [(d, "f32")] * 2 + [(merged * merged, "m"), (merged, "f32"), (merged * n_embd, "m"), (n_embd, "f32")]
    return t


def gemma4v(c: dict, n_embd: int) -> Parts:
    """Gemma 4's vision tower and embedder, as the docstring above lists them."""
    d, ff, p, ch, hd = (int(c[k]) for k in ("hidden", "intermediate", "patch", "channels", "head_dim"))
    block = [(d * d, "m")] * 4 + [(d * ff, "m")] * 3 + [(d, "f32")] * 4 + [(hd, "f32")] * 2
    t = block * int(c["layers"]) + [(ch * p * p * d, "m"), (2 * int(c["position_embedding_size"]) * d, "f32")]
    t += [(d, "f32")] * (2 if c.get("standardize") else 0) + [(d * n_embd, "m")]
    return t


KINDS = {"clip_llava": clip_llava, "minicpmv": minicpmv, "qwen25vl": qwen25vl, "mllama": mllama, "moonvit": moonvit,
         "gemma4v": gemma4v}


def encoder_parts(c: dict, n_embd: int, mmproj_file: bool = True) -> Parts:
    """The towers of session 8 (data/engines.yaml entries without `kind`, by `mlp` and `mm`): SigLIP/CLIP blocks with
    biases (gelu) or Pixtral's SwiGLU blocks without (swiglu); Qwen3-VL's Conv3d patch embedding, F32 position table
    and merger (+ deepstack mergers); Llama 4's class token and pixel-shuffle adapter. `mmproj_file` adds what llama.cpp's
    mmproj holds beyond Ollama's v.* tensors: gemma3's input projection, Mistral 3's patch merger and projections,
    Llama 4's linear_1 (Qwen3-VL's mergers are in both)."""
    d, ff, n, p = int(c["hidden"]), int(c["intermediate"]), int(c["layers"]), int(c["patch"])
    img, ch = int(c["image_size"]), int(c["channels"])
    patches = (img // p) ** 2 + (1 if c.get("class_embedding") else 0)
    if c["mlp"] == "swiglu":  # Pixtral: gate/up/down and q/k/v/o without biases, two RMSNorms; patch conv, ln_pre
        t = ([(d * d, "m")] * 4 + [(d * ff, "m")] * 3 + [(d, "f32")] * 2) * n
        t += [(d * ch * p * p, "f16"), (d, "f32")]
    else:
        t = vit_block(d, ff) * n
    if c["mm"] == "qwen3vl":  # Conv3d kernel + bias and the position table kept F32; merger (+ deepstack mergers)
        t += [(d * ch * int(c["temporal_patch"]) * p * p, "f32"), (d, "f32"), (int(c["num_positions"]) * d, "f32")]
        merger = [(16 * d * d, "m"), (4 * d * n_embd, "m"), (4 * d, "f32"), (n_embd, "f32")]
        t += merger + [(d, "f32")] * 2
        t += (merger + [(4 * d, "f32")] * 2) * int(c["deepstack_layers"])
    elif c["mlp"] != "swiglu":  # patch kernel, its bias or the class token, learned positions, the final norm
        t += [(d * ch * p * p, "f16"), (d, "f32"), (patches * d, "f16"), (d, "f32"), (d, "f32")]
        if c["mm"] == "llama4":  # pre-LayerNorm and the pixel-shuffle adapter (fc1 ff x pin, fc2 pin x pout)
            pin, pout = int(c["projector_input"]), int(c["projector_output"])
            t += [(d, "f32"), (d, "f32"), (ff * pin, "m"), (pin * pout, "m")]
    if mmproj_file:
        if c["mm"] == "mistral3":  # norm, patch merger (2x2 -> 1), linear_1, linear_2 (no biases)
            t += [(d, "f32"), (4 * d * d, "m"), (d * n_embd, "m"), (n_embd * n_embd, "m")]
        elif c["mm"] == "gemma3":  # mm.input_projection, mm.soft_emb_norm
            t += [(d * n_embd, "m"), (d, "f32")]
        elif c["mm"] == "llama4":  # multi_modal_projector.linear_1, no bias
            t += [(int(c["projector_output"]) * n_embd, "m")]
    return t


def parts(c: dict, n_embd: int, mmproj_file: bool = True) -> Parts:
    return KINDS[c["kind"]](c, n_embd) if c.get("kind") in KINDS else encoder_parts(c, n_embd, mmproj_file)


def tower_bytes(c: dict, n_embd: int, matrix_bytes: float, mmproj_file: bool = True) -> float:
    return sum(n * (matrix_bytes if kind == "m" else BYTES[kind]) for n, kind in parts(c, n_embd, mmproj_file))


def tower_params(c: dict, n_embd: int) -> int:
    """Parameters of the tower and its projection into the text model (what vLLM loads with a checkpoint)."""
    return sum(n for n, _ in parts(c, n_embd))
