"""The K/V that ggml-vulkan's flash attention loads in a prompt (data/speed.yaml `vulkan_fa_prefill`;
docs/methodology.md 5b-vkfa1).

Why: a prompt's flash-attention workgroup on Vulkan holds Br query rows of ONE head (ggml_vk_flash_attn packs a KV
head's query heads together only for N <= 8 rows) and walks every K/V cell of that head, so a prompt token reads the
attention's FLOPs / Br bytes. With Br = 16 on RDNA 3+ (coopmat1) a long prompt on Strix Halo (256 GB/s) waits on those
loads, not on the math: pp2048 @ d65536 of Llama 2 7B measured 79.7 t/s where the matrix-rate attention gave 485.
Where the layer's K/V fits the last-level cache the re-reads hit it and nothing is charged
(kernel_path.kv_tile_seconds).
"""
from __future__ import annotations

from functools import lru_cache

from ..domain import Device, Model
from . import kernel_path, vulkan_path


@lru_cache(maxsize=1)
def _rules() -> dict:
    from ..catalog.data import load

    return load("speed").get("vulkan_fa_prefill") or {}


def fa_path(device: Device) -> str | None:
    """ggml-vulkan's flash-attention path for a prompt on `device` at the build being predicted (get_fa_tuning_params):
    'coopmat2' (NV_coopmat2), 'coopmat1' (KHR coopmat, 16x16x16 shapes: AMD RDNA 3+, NVIDIA Turing until llama/19290),
    'scalar'; None where the build runs no flash attention by llama-bench's default (an fa 0 row multiplies KQ as
    matrices) or the Vulkan path model is off."""
    rules = _rules()
    path_rules = vulkan_path.path_rules()
    if not rules or not path_rules or not vulkan_path._fa_on_by_default():
        return None
    date = vulkan_path.build()[0] or "9999"
    matrix = vulkan_path.features(device, path_rules)[0]
    if matrix == "coopmat2":
        return "coopmat2"
    if matrix == "coopmat" and device.vendor != "intel" and date >= str(rules["coopmat1_since"]):
        turing = device.vendor == "nvidia" and date >= str(rules["nvidia_turing_scalar_since"])
        return "scalar" if turing else "coopmat1"
    return "scalar"


def _scalar_rule(date: str) -> dict | None:
    """The scalar shader's row rule of the build (vulkan_fa_prefill.scalar_history: the latest entry from before it)."""
    return kernel_path.latest_from(_rules().get("scalar_history"), date)


def rows_per_workgroup(device: Device, head_k: int, head_v: int, n_kv: int) -> int | None:
    """Br, the query rows one prompt workgroup holds (get_fa_tuning_params at n_rows = a large micro-batch) for K and V
    heads of `head_k` / `head_v` over `n_kv` cells; None where fa_path is None."""
    path = fa_path(device)
    rules = _rules()
    if path == "coopmat2":
        wide = rules["coopmat2_rows"]
        return int(wide["wide_rows"] if max(head_k, head_v) >= int(wide["wide_head"]) else wide["rows"])
    if path == "coopmat1":
        return int(rules["coopmat1_rows"])
    rule = _scalar_rule(vulkan_path.build()[0] or "9999") if path else None
    if not rule:
        return None
    if rule.get("wide_value_head") and head_v >= int(rule["wide_value_head"]):
        return int(rule["wide_rows"])
    causes = {"odd_head": bool((head_k | head_v) & 8), "short_cache": n_kv < int(rules["short_cache_cells"]),
              "intel": device.vendor == "intel"}
    reduced = any(causes[c] for c in rule.get("reduce") or ())
    split = rule.get("split")
    if split:
        amd_discrete = (device.vendor == "amd" and not device.unified
                        and not vulkan_path.architecture(device).startswith("GCN"))
        if head_k > int(split["above_head_amd_discrete" if amd_discrete else "above_head"]):
            return int(split["reduced_rows" if reduced else "rows"])
    return int(rule["reduced_rows" if reduced else "rows"])


def kv_seconds(device: Device, model: Model, layer: int, attention_flops: float, bandwidth_bytes_per_s: float) -> float:
    """Seconds one prompt token's flash attention in `layer` spends loading K/V on `device`: attention_flops / Br bytes
    at the given bandwidth where the layer's F16 K/V (kernel_path.layer_kv) outgrows the last-level cache
    (kernel_path.kv_tile_seconds); 0 elsewhere."""
    if not attention_flops or not bandwidth_bytes_per_s:
        return 0.0
    layer_bytes, head_k = kernel_path.layer_kv(model, layer, attention_flops)
    head_v = model.mla.kv_lora_rank if model.mla else model.layer_v_head_dim(layer)
    # the cells the estimate counts (speed_work._attention_flops: 4 x n_heads x the K head (MLA: latent) width a cell)
    n_kv = int(attention_flops // (4 * model.n_heads * head_k)) if head_k else 0
    rows = rows_per_workgroup(device, head_k, head_v, n_kv)
    if not rows:
        return 0.0
    return kernel_path.kv_tile_seconds(attention_flops, rows, bandwidth_bytes_per_s, layer_bytes,
                                       kernel_path.last_level_cache_bytes(device))
