"""vLLM weights: each tensor in a serving format (BF16, FP8, AWQ/GPTQ int4, gpt-oss's MXFP4) as vLLM loads it, summed per layer.

Formats and their byte rules are in data/engines.yaml vllm_formats (sources there)."""
from __future__ import annotations

import math
from functools import lru_cache

from ..catalog.data import load
from ..domain import Model, Quant
from ..errors import UnknownQuantError
from ..record import record
from .projector import vision_config
from .tensors import build_tensors, Tensor

_SIXTEEN_BIT = 2  # bytes of a bf16/fp16 value


@lru_cache(maxsize=1)
def _formats() -> dict[str, dict]:
    return {f["name"]: f for f in load("engines")["vllm_formats"]["formats"]}


@lru_cache(maxsize=1)
def _all_quants() -> tuple[Quant, ...]:
    return tuple(Quant(name=n, default_type="BF16" if n == "BF16" else n, rank=i) for i, n in enumerate(_formats()))


@lru_cache(maxsize=1)
def vllm_quants() -> tuple[Quant, ...]:
    """The weight formats vLLM serves any model in, best quality first (ranks continue the GGUF scale's idea: 0 =
    best). Released-only formats (`native`: gpt-oss's MXFP4) are added per model by vllm_quants_for."""
    return tuple(q for q in _all_quants() if not _formats()[q.name].get("native"))


def native_format(model: Model) -> str | None:
    """The vLLM format a catalog model's checkpoint is released in (data/models.yaml native_quant: gpt-oss's mxfp4),
    when our registry has it; None otherwise."""
    for m in load("models").get("models") or ():
        if m.get("id") == model.id and m.get("native_quant"):
            key = str(m["native_quant"]).upper()
            return key if key in _formats() else None
    return None


def vllm_quants_for(model: Model) -> tuple[Quant, ...]:
    """The formats vLLM serves `model` in when none is named: a model released in a format of its own (gpt-oss:
    MXFP4 experts) in that one, the checkpoint `vllm serve openai/gpt-oss-20b` loads (its other formats would need a
    re-quantized checkpoint; --quant still names one); any other model in every general format."""
    native = native_format(model)
    if native:
        return tuple(q for q in _all_quants() if q.name == native)
    return vllm_quants()


def check_format(model: Model, quant: Quant) -> None:
    """A released-only format needs a checkpoint in it: BadOptionError for any other model."""
    need = _formats().get(quant.name, {}).get("native")
    if need and native_format(model) != quant.name:
        from ..errors import BadOptionError

        general = ", ".join(q.name for q in vllm_quants())
        raise BadOptionError(f"{quant.name} is the format gpt-oss's experts are released in; {model.id} has no "
                             f"{quant.name} checkpoint", f"with --engine vllm use one of: {general}")


def _platform(vendor: str) -> dict:
    return (load("engines").get("vllm_platform_formats") or {}).get(vendor) or {}


def platform_refusal(quant_name: str, vendor: str) -> str | None:
    """Why vLLM does not run `quant_name` on a GPU of `vendor` (data/engines.yaml vllm_platform_formats: GPTQ on Intel's
    XPU platform, vllm issue #52203), or None where it runs (every format on CUDA / ROCm)."""
    why = (_platform(vendor).get("refused") or {}).get(quant_name)
    return " ".join(str(why).split()) if why else None


def engine_version() -> str:
    """The vLLM release the rules describe (data/engines.yaml version, e.g. '0.33.0'); here, below estimate/vllm.py
    (which re-exports it), so the modules vllm.py imports can read it too (serving/moe_step.moe_kernel)."""
    return str(load("engines")["engines"]["vllm"]["version"]).split(" ")[0]


@lru_cache(maxsize=32)
def _min_capability(quant_name: str, release: str = "") -> float | None:
    """The lowest CUDA compute capability vLLM `release` ('' = the registry's) runs `quant_name` at
    (data/engines.yaml vllm_min_capability), or None where the table sets no floor."""
    entry = (load("engines")["vllm_min_capability"]["formats"] or {}).get(quant_name)
    if not entry:
        return None
    since = entry.get("since")
    if since:
        from .vllm_graphs import version_tuple

        if version_tuple(release or engine_version()) < version_tuple(str(since)):
            return float(entry["min_before"])
    return float(entry["min"])


def capability_refusal(quant_name: str, capability: float | None, release: str = "") -> str | None:
    """Why vLLM does not run `quant_name` on a CUDA GPU of compute `capability` (its quantization config's
    get_min_capability, data/engines.yaml vllm_min_capability), or None where it runs or the capability is unknown."""
    floor = _min_capability(quant_name, release)
    if capability is None or floor is None or capability >= floor:
        return None
    return (f"vLLM's {quant_name} needs compute capability {floor:.1f} or newer (this GPU: {capability:.1f}; "
            f"its quantization config's get_min_capability)")


def bf16_fallback(quant_name: str, capability: float | None) -> str:
    """The note for a BF16 checkpoint on a CUDA GPU below compute capability 8.0, where vLLM's --dtype auto loads it
    as float16 (same two bytes a weight; data/engines.yaml vllm_min_capability bf16_fallback_below), else ''."""
    below = float(load("engines")["vllm_min_capability"]["bf16_fallback_below"])
    if quant_name != "BF16" or capability is None or capability >= below:
        return ""
    return f"BF16 weights run as FP16 (compute capability {capability:.1f} < {below:.1f}: vLLM's dtype auto falls back)"


def platform_runs(vendor: str) -> tuple[str, ...]:
    """The vLLM formats that run on a GPU of `vendor` (every one where vllm_platform_formats lists no platform)."""
    runs = _platform(vendor).get("runs")
    return tuple(runs) if runs else tuple(_formats())


def check_platform(quants, machine) -> None:
    """A --quant the user named that vLLM does not run on the machine's GPUs (platform_refusal): BadOptionError, one
    line naming the reason and the formats that run there (exit 2). The formats picked when none is named are kept
    off such GPUs by estimate/vllm.plan (an unsupported placement) instead."""
    from ..errors import BadOptionError

    vendors = {d.vendor for d in machine.devices}
    for q in quants:
        for vendor in sorted(vendors):
            why = platform_refusal(q.name, vendor)
            if why:
                runs = [n for n in platform_runs(vendor) if not _formats().get(n, {}).get("native")]  # not MXFP4
                raise BadOptionError(f"{q.name}: {why}", f"with --engine vllm on this GPU use one of: {', '.join(runs)}")


def get_vllm_quant(name: str) -> Quant:
    key = name.strip().upper().replace("_", "-")
    key = {"FP16": "BF16", "AWQ": "AWQ-INT4", "GPTQ": "GPTQ-INT4", "INT4": "AWQ-INT4"}.get(key, key)
    for q in _all_quants():
        if q.name == key:
            return q
    raise UnknownQuantError(
        f"{name!r} is not a vLLM weight format", f"with --engine vllm use one of: {', '.join(_formats())}"
    )


def _linear_bytes(shape: tuple[int, ...], fmt: dict) -> int:
    """Bytes of one linear weight (GGUF shape: shape[0] = input features, shape[1] = output, shape[2] = experts)."""
    n_in, n_out = shape[0], shape[1]
    experts = shape[2] if len(shape) > 2 else 1
    per = n_in * n_out * fmt["bits"] / 8
    if fmt["group_size"]:
        per += math.ceil(n_in / fmt["group_size"]) * n_out * fmt["group_bytes"]
    per += n_out * fmt["row_scale_bytes"] + n_in * fmt["input_row_bytes"]
    return int(per * experts)


def tensor_bytes(t: Tensor, fmt: dict) -> int:
    """Bytes of one tensor in a vLLM format: repeating-layer matrices (not MoE routers) take the format's bits,
    everything else (embeddings, LM head, norms, biases) stays 16-bit."""
    quantizable = t.layer >= 0 and t.n_dims >= 2 and "ffn_gate_inp" not in t.name and fmt["bits"] < 16
    if fmt.get("experts_only"):  # MXFP4: only the MoE expert matrices (not their biases) ship quantized
        quantizable = quantizable and "_exps" in t.name and t.n_dims == 3
    return _linear_bytes(t.shape, fmt) if quantizable else t.n_elements * _SIXTEEN_BIT


@lru_cache(maxsize=1)
def _replicated_suffixes() -> tuple[str, ...]:
    return tuple(load("serving")["vllm"].get("tp_replicated_tensors", ()))


def tp_replicated(name: str) -> bool:
    """Whether vLLM keeps the tensor whole on every tensor-parallel rank (data/serving.yaml tp_replicated_tensors, by
    GGUF name suffix): MLA's q_a / kv_a projections (vllm models/deepseek_v2.py: fused_qkv_a_proj is a
    MergedColumnParallelLinear with disable_tp=True, q_a_proj / kv_a_proj_with_mqa ReplicatedLinear before it), the
    DSA indexer's projections ("no tensor parallel, just replicated": wq_b, wk, weights_proj ReplicatedLinear) and the
    MoE router (a ReplicatedLinear gate in deepseek_v2.py, qwen3_moe.py, qwen3_next.py, nemotron_h.py, minimax_m2.py;
    a plain nn.Linear, not TP-aware, in glm4_moe.py)."""
    suffixes = _replicated_suffixes()
    return bool(suffixes) and name.endswith(suffixes)


def tp_whole(t: Tensor) -> bool:
    """A matrix every tensor-parallel rank holds, reads and multiplies whole (tp_replicated); every other tensor is
    counted split over the ranks. The one rule of both the memory side (VllmWeights.whole, per_gpu_bytes) and the
    step time (serving/step.py step_parts), so the two cannot disagree (session 29, vtp29). Norms are replicated too
    (RMSNorm holds hidden_size values on every rank) but are left split: DeepSeek-R1's come to 2 MB a GPU."""
    return t.n_dims >= 2 and tp_replicated(t.name)


def per_gpu_bytes(total: int, whole: int, tp: int) -> int:
    """Weight bytes on one tensor-parallel rank: the `whole` bytes of replicated matrices (tp_whole) on every rank,
    the rest split over the tp ranks (rounded up)."""
    return -(-(total - whole) // tp) + whole


@record
class VllmWeights:
    total: int
    per_layer: tuple[int, ...]
    embedding: int
    output: int
    params: int
    vision: int = 0  # a multimodal checkpoint's vision encoder and projector, 16-bit, counted in `embedding`
    whole: tuple[int, ...] = ()  # per layer: the bytes of `per_layer` vLLM keeps whole on every TP rank (tp_whole)

    def per_gpu(self, tp: int) -> int:
        """The whole model's weight bytes on one of tp tensor-parallel ranks (one pipeline stage)."""
        return per_gpu_bytes(self.total, sum(self.whole), tp)


def vision_bytes(model: Model) -> int:
    """The vision tower vLLM loads with a multimodal checkpoint (Gemma3ForConditionalGeneration's SigLIP encoder and
    projector, Mistral3's Pixtral encoder...): the catalog's params beyond the text model (`text_params`), in 16 bits,
    as the quantized checkpoints leave it (llm-compressor recipes ignore vision_tower / multi_modal_projector). vLLM
    builds it on the first pipeline rank whether or not images are sent; a text-only catalog entry has none."""
    if model.text_params and model.params > model.text_params:
        return (model.params - model.text_params) * _SIXTEEN_BIT

    c = vision_config(model)  # a tower sized from its config (data/engines.yaml vision_projectors), projection included
    if c is not None:
        from .vision_towers import tower_params

        return tower_params(c, model.hidden_size) * _SIXTEEN_BIT
    return 0


_MX_BLOCK = 32  # MXFP4: one E8M0 scale byte per 32 values


def _round_up(x: int, to: int) -> int:
    return -(-x // to) * to


@lru_cache(maxsize=1)
def mxfp4_layouts() -> dict[str, dict]:
    return {k: v for k, v in load("engines")["vllm_mxfp4_layouts"].items() if isinstance(v, dict)}


def mxfp4_expert_bytes(t: Tensor, kernel: str) -> int | None:
    """Bytes of one MXFP4 expert tensor (GGUF names: ffn_gate_exps / ffn_up_exps (H, I, E), ffn_down_exps (I, H, E),
    their biases (I, E) / (H, E)) under `kernel`'s layout, or None where the layout is not modelled (the caller keeps
    the checkpoint's bytes). Gate and up are the two halves of vLLM's fused w13 (E, 2 I_pad, H_pad / 2); down is w2
    (E, H_pad, I_pad / 2); scales one byte per 32 inputs, held `scale_copies` times; biases in `bias_bytes`."""
    lay = mxfp4_layouts().get(kernel)
    if lay is None or "_exps" not in t.name:
        return None
    is_down = "ffn_down_exps" in t.name
    if t.name.endswith(".bias"):
        width, experts = t.shape[0], t.shape[1]  # I for gate / up, H for down
        pad = int(lay["hidden_align"]) if is_down else int(lay["intermediate_align"])
        return experts * _round_up(width, pad) * int(lay["bias_bytes"])
    if t.n_dims != 3:
        return None
    n_in, n_out, experts = t.shape
    h_pad_to, i_pad_to = int(lay["hidden_align"]), int(lay["intermediate_align"])
    k = _round_up(n_in, i_pad_to if is_down else h_pad_to)  # the GEMM's input width (the quantization axis)
    n = _round_up(n_out, h_pad_to if is_down else i_pad_to)
    values = experts * n * k // 2
    scales = experts * n * (k // _MX_BLOCK) * int(lay["scale_copies"])
    return values + scales


@lru_cache(maxsize=256)
def vllm_weights(model: Model, quant: Quant, kernel: str = "") -> VllmWeights:
    """The model's weights in a vLLM format; `kernel` (vllm_mxfp4.mxfp4_kernel, '' = the checkpoint's own bytes) lays
    MXFP4 experts out as that MoE kernel holds them after loading (padding, scale copies, bias dtype)."""
    fmt = _formats()[quant.name]
    per_layer = [0] * model.n_layers
    whole = [0] * model.n_layers
    embedding = output = params = 0
    for t in build_tensors(model):
        if t.name == "output.weight" and model.gguf_has_output:  # the config ties it: vLLM loads one matrix
            continue
        b = tensor_bytes(t, fmt)
        if kernel and fmt.get("experts_only"):
            laid = mxfp4_expert_bytes(t, kernel)
            b = b if laid is None else laid
        params += t.n_elements
        if t.layer >= 0:
            per_layer[t.layer] += b
            whole[t.layer] += b if tp_whole(t) else 0
        elif t.name == "token_embd.weight":
            embedding += b
        else:
            output += b
    # tied embeddings: vLLM shares the matrix with the LM head, so there is no second copy to add
    vision = vision_bytes(model)
    embedding += vision
    return VllmWeights(embedding + output + sum(per_layer), tuple(per_layer), embedding, output, params, vision,
                       tuple(whole))

